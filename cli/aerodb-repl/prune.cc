// aerodb-repl prune --archive DIR --keep-snapshots N: remove what no longer
// serves a recovery (specs/REPLICATION_RETENTION.md).
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "cli/aerodb-repl/encryption.h"
#include "cli/common/print_result.h"
#include "common/fs.h"
#include "repl/prune.h"

namespace aero::cli {
namespace {
namespace prune_cmd {  // one name per file: the unity build joins them

struct Options {
  repl::PruneOptions prune;
  EncryptionOptions enc;  // ENC-14: --encryption-keys DIR
  bool json = false;
};

// OBJ-14: each multipart upload, with what prune did to it.
nlohmann::json UploadsJson(const repl::PruneReport& rep) {
  nlohmann::json ups = nlohmann::json::array();
  for (const auto& u : rep.uploads) {
    ups.push_back({{"key", u.key}, {"upload_id", u.upload_id}, {"initiated", u.initiated},
                   {"age_seconds", u.age_seconds}, {"action", u.action}, {"aborted", u.aborted}});
  }
  return ups;
}

// RET-13, OBJ-14: the sidecar and upload lines of the text report.
void PrintPruneExtras(const repl::PruneOptions& o, const repl::PruneReport& rep) {
  const char* verb = o.dry_run ? "would remove" : "removed";
  const auto& sigs = o.dry_run ? rep.sidecars : rep.removed_sidecars;
  for (const auto& s : sigs) PrintResult("%s '%s'\n", verb, s.c_str());
  const auto& orphans = o.dry_run ? rep.orphan_sidecars : rep.removed_orphans;
  for (const auto& s : orphans) PrintResult("%s orphan sidecar '%s'\n", verb, s.c_str());
  for (const auto& u : rep.uploads) {
    const std::string age = u.age_seconds < 0 ? std::string("age unknown")
                                              : std::to_string(u.age_seconds / 3600) + " h";
    if (u.action == "abort" && (o.dry_run || u.aborted)) {
      PrintResult("%s upload '%s': started %s, %s before the store's %s\n", o.dry_run ? "would abort" : "aborted",
                  u.key.c_str(), u.initiated.c_str(), age.c_str(), rep.store_date.c_str());
    } else if (u.action == "keep") {
      PrintResult("kept upload '%s': started %s, %s old, younger than %llu h\n", u.key.c_str(), u.initiated.c_str(),
                  age.c_str(), static_cast<unsigned long long>(o.stale_upload_hours));
    }
  }
}

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
    j["ignored"] = r.ignored.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.ignored);  // prune(1): null or why
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
          {"removed", rep.removed},
          {"sidecars", rep.sidecars},
          {"orphan_sidecars", rep.orphan_sidecars},
          {"removed_sidecars", rep.removed_sidecars},
          {"removed_orphans", rep.removed_orphans},
          {"uploads", UploadsJson(rep)},
          {"store_date", rep.store_date}};
}

int Run(Options& o) {
  if (Status k = LoadEncryptionKeys(&o.enc); !k.ok()) return Fail(k, o.json);
  auto fs = ReadingFs(o.enc);  // ENC-14: an envelope without its key is reported, never called corrupt
  repl::PruneReport rep;
  Status s = repl::Prune(*fs, o.prune, &rep);
  nlohmann::json fields = ReportJson(o.prune, rep);
  if (!o.json) {
    for (const auto& r : rep.registrations) {
      PrintResult("replica '%s' (%s:%s): epoch %u, applied %llu, %s\n", r.name.c_str(),
                  r.host.c_str(), r.data_dir.c_str(), r.epoch,
                  static_cast<unsigned long long>(r.applied_commit),
                  r.pin ? ("pins commit " + std::to_string(*r.pin)).c_str()
                        : ("ignored: " + r.ignored).c_str());
    }
    for (const auto& sn : rep.snapshots) {
      if (sn.action == "ignore") {
        // A valid archive has no reason until the plan: the run stopped first.
        PrintResult("snapshot '%s': ignored, %s\n", sn.name.c_str(),
                    sn.reason.empty() ? "not planned: prune stopped before it chose what to keep"
                                      : sn.reason.c_str());
      } else if (sn.action == "keep") {
        PrintResult("snapshot '%s': kept (epoch %u, boundary %llu)\n", sn.name.c_str(), sn.epoch,
                    static_cast<unsigned long long>(sn.boundary_commit));
      }
    }
    // RET-12: one line per planned removal, the same list either way.
    const char* verb = o.prune.dry_run ? "would remove" : "removed";
    for (size_t i = 0; i < rep.plan.size(); ++i) {
      if (!o.prune.dry_run && i >= rep.removed.size()) break;
      PrintResult("%s '%s'\n", verb, rep.plan[i].c_str());
    }
    PrintPruneExtras(o.prune, rep);
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
    PrintResult("nothing to prune '%s': %s\n", o.prune.archive.c_str(), rep.nothing_because.c_str());
  } else {
    PrintResult("%s '%s': %zu snapshot archive(s) and %zu segment(s) through commit %llu\n",
                o.prune.dry_run ? "would prune" : "pruned", o.prune.archive.c_str(),
                static_cast<size_t>(rep.plan_snapshots),
                rep.plan.size() - static_cast<size_t>(rep.plan_snapshots),
                static_cast<unsigned long long>(rep.cut.value_or(0)));
  }
  return 0;
}

}  // namespace prune_cmd
}  // namespace

void SetupPrune(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<prune_cmd::Options>();
  CLI::App* sub = app.add_subcommand(
      "prune", "remove segments and snapshot archives that no longer serve a recovery");
  sub->add_option("--archive", o->prune.archive, "the archive directory, or s3://BUCKET/PREFIX")->required()->check(NonEmptyPath());
  sub->add_option("--keep-snapshots", o->prune.keep_snapshots,
                  "keep the N newest valid snapshot archives (N >= 1)")
      ->required()
      ->check(Unsigned(1));
  sub->add_flag("--dry-run", o->prune.dry_run, "print what would be removed, remove nothing");
  AddJson(sub, &o->json);
  sub->add_option("--stale-upload-hours", o->prune.stale_upload_hours,
                  "on s3://: abort multipart uploads begun at least H hours ago by the store's clock (default 24)")
      ->check(Unsigned());
  AddEncryptionKeys(sub, &o->enc);
  sub->callback([o, &runner] { runner.run = [o] { return prune_cmd::Run(*o); }; });
}

}  // namespace aero::cli
