// aerodb-repl prune --archive DIR --keep-snapshots N: remove what no longer
// serves a recovery (specs/REPLICATION_RETENTION.md).
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "common/fs.h"
#include "repl/prune.h"

namespace aero::cli {
namespace {

struct Options {
  repl::PruneOptions prune;
  bool json = false;
};

nlohmann::json ReportJson(const repl::PruneOptions& o, const repl::PruneReport& rep) {
  nlohmann::json snaps = nlohmann::json::array();
  for (const auto& s : rep.snapshots) {
    nlohmann::json j = {{"name", s.name}, {"action", s.action}};
    if (s.manifest_read) {
      j["epoch"] = s.epoch;
      j["boundary_commit"] = s.boundary_commit;
    }
    if (!s.reason.empty()) j["reason"] = s.reason;
    snaps.push_back(j);
  }
  nlohmann::json regs = nlohmann::json::array();
  for (const auto& r : rep.registrations) {
    nlohmann::json j = {{"name", r.name},         {"host", r.host},
                        {"data_dir", r.data_dir}, {"epoch", r.epoch},
                        {"applied_commit", r.applied_commit}, {"modified_unix", r.modified_unix}};
    j["pin"] = r.pin ? nlohmann::json(*r.pin) : nlohmann::json(nullptr);
    if (!r.ignored.empty()) j["ignored"] = r.ignored;
    regs.push_back(j);
  }
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& k : rep.kept_segments) kept.push_back({{"name", k.name}, {"reason", k.reason}});
  auto opt = [](const std::optional<uint64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"archive", o.archive},
          {"dry_run", o.dry_run},
          {"keep_snapshots", o.keep_snapshots},
          {"system_id", rep.system_id ? nlohmann::json(*rep.system_id) : nlohmann::json(nullptr)},
          {"recovery_points", rep.recovery_points},
          {"oldest_kept_boundary", opt(rep.oldest_kept_boundary)},
          {"cut_commit", opt(rep.cut)},
          {"nothing_because", rep.nothing_because},
          {"snapshots", snaps},
          {"registrations", regs},
          {"kept_segments", kept},
          {"plan", rep.plan},
          {"removed", rep.removed}};
}

int Run(const Options& o) {
  repl::PruneReport rep;
  Status s = repl::Prune(PosixFs(), o.prune, &rep);
  nlohmann::json fields = ReportJson(o.prune, rep);
  if (!o.json) {
    for (const auto& r : rep.registrations) {
      std::printf("replica '%s' (%s:%s): epoch %u, applied %llu, %s\n", r.name.c_str(),
                  r.host.c_str(), r.data_dir.c_str(), r.epoch,
                  static_cast<unsigned long long>(r.applied_commit),
                  r.pin ? ("pins commit " + std::to_string(*r.pin)).c_str()
                        : ("ignored: " + r.ignored).c_str());
    }
    for (const auto& sn : rep.snapshots) {
      if (sn.action == "ignore") {
        std::printf("snapshot '%s': ignored, %s\n", sn.name.c_str(), sn.reason.c_str());
      } else if (sn.action == "keep") {
        std::printf("snapshot '%s': kept (epoch %u, boundary %llu)\n", sn.name.c_str(), sn.epoch,
                    static_cast<unsigned long long>(sn.boundary_commit));
      }
    }
    // RET-12: one line per planned removal, the same list either way.
    const char* verb = o.prune.dry_run ? "would remove" : "removed";
    for (size_t i = 0; i < rep.plan.size(); ++i) {
      if (!o.prune.dry_run && i >= rep.removed.size()) break;
      std::printf("%s '%s'\n", verb, rep.plan[i].c_str());
    }
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    if (o.json) {
      fields["ok"] = false;
      fields["code"] = std::string(CodeName(s.code()));
      fields["exit"] = ExitCodeOf(s.code());
      fields["message"] = s.message();
      fields["hint"] = s.hint();
      PrintJson(fields);
    }
    return ExitCodeOf(s.code());
  }
  if (o.json) {
    PrintJson(OkJson(fields));
  } else if (!rep.nothing_because.empty()) {
    std::printf("nothing to prune '%s': %s\n", o.prune.archive.c_str(), rep.nothing_because.c_str());
  } else {
    std::printf("%s '%s': %zu snapshot archive(s) and %zu segment(s) through commit %llu\n",
                o.prune.dry_run ? "would prune" : "pruned", o.prune.archive.c_str(),
                static_cast<size_t>(rep.plan_snapshots),
                rep.plan.size() - static_cast<size_t>(rep.plan_snapshots),
                static_cast<unsigned long long>(rep.cut.value_or(0)));
  }
  return 0;
}

}  // namespace

void SetupPrune(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "prune", "remove segments and snapshot archives that no longer serve a recovery");
  sub->add_option("--archive", o->prune.archive, "the archive directory")->required();
  sub->add_option("--keep-snapshots", o->prune.keep_snapshots,
                  "keep the N newest valid snapshot archives (N >= 1)")
      ->required()
      ->check(CLI::PositiveNumber);
  sub->add_flag("--dry-run", o->prune.dry_run, "print what would be removed, remove nothing");
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return Run(*o); }; });
}

}  // namespace aero::cli
