// aerodb-repl status -D DIR [--from DIR]: role, position, health, lag in commits.
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "common/fs.h"
#include "repl/status.h"

namespace aero::cli {
namespace {

struct Options {
  std::string dir;
  std::string from;
  bool json = false;
};

int Run(const Options& o) {
  std::optional<std::string> inbox;
  if (!o.from.empty()) inbox = o.from;
  auto st = repl::GetStatus(PosixFs(), o.dir, inbox);
  if (!st.ok()) return Fail(st.status(), o.json);
  if (st->inbox) PrintSkipped(o.from, st->skipped);
  for (const Status& p : st->problems) std::fprintf(stderr, "%s\n", p.ToString().c_str());
  const node::NodeState& s = st->state;
  const Code outcome = st->outcome();
  if (o.json) {
    nlohmann::json j = {{"ok", outcome == Code::kOk},
                        {"code", std::string(CodeName(outcome))},
                        {"exit", ExitCodeOf(outcome)},
                        {"data_dir", o.dir},
                        {"role", node::RoleName(s.role)},
                        {"system_id", st->identity.system_id.ToHex()},
                        {"epoch", s.epoch},
                        {"applied_commit", s.applied_commit},
                        {"history_digest", history::DigestToHex(s.applied_digest)},
                        {"base_commit", s.base_commit},
                        {"halted", st->halt ? nlohmann::json({{"code", st->halt->code},
                                                              {"subject", st->halt->subject},
                                                              {"detail", st->halt->detail},
                                                              {"commit", st->halt->commit}})
                                            : nlohmann::json(nullptr)},
                        {"fenced", s.fenced_json ? nlohmann::json::parse(*s.fenced_json)
                                                 : nlohmann::json(nullptr)}};
    nlohmann::json shipped = nlohmann::json::array();
    for (const auto& t : st->shipped) {
      shipped.push_back({{"target", t.target}, {"shipped_commit", t.commit}, {"lag", t.lag}});
    }
    j["shipped"] = shipped;
    j["ignored"] = SkippedJson(st->skipped);
    nlohmann::json problems = nlohmann::json::array();
    for (const Status& p : st->problems) problems.push_back({{"message", p.message()}, {"hint", p.hint()}});
    j["problems"] = problems;
    if (st->inbox) {
      j["inbox"] = {{"path", o.from},
                    {"newest_commit", st->inbox->newest_commit
                                          ? nlohmann::json(*st->inbox->newest_commit)
                                          : nlohmann::json(nullptr)},
                    {"newest_segment", st->inbox->newest_segment},
                    {"lag", st->inbox->lag},
                    {"incomplete_segments", st->inbox->incomplete_segments}};
    } else {
      j["inbox"] = nullptr;
    }
    PrintJson(j);
    return ExitCodeOf(outcome);
  }
  std::printf("node '%s'\n", o.dir.c_str());
  std::printf("  role            %s\n", node::RoleName(s.role));
  std::printf("  system id       %s\n", st->identity.system_id.ToHex().c_str());
  std::printf("  epoch           %u\n", s.epoch);
  std::printf("  applied commit  %llu\n", static_cast<unsigned long long>(s.applied_commit));
  std::printf("  history digest  %s\n", history::DigestToHex(s.applied_digest).c_str());
  std::printf("  base commit     %llu\n", static_cast<unsigned long long>(s.base_commit));
  std::printf("  halted          %s\n",
              st->halt ? (st->halt->code + ": " + st->halt->detail).c_str() : "no");
  for (const auto& t : st->shipped) {
    std::printf("  shipped         '%s' through commit %llu (%llu behind)\n", t.target.c_str(),
                static_cast<unsigned long long>(t.commit), static_cast<unsigned long long>(t.lag));
  }
  if (st->inbox) {
    if (st->inbox->newest_commit) {
      std::printf("  lag             %llu commits (newest complete segment ends at %llu)\n",
                  static_cast<unsigned long long>(st->inbox->lag),
                  static_cast<unsigned long long>(*st->inbox->newest_commit));
    } else {
      std::printf("  lag             unknown: no complete segment in '%s'\n", o.from.c_str());
    }
  }
  if (s.fenced_json) {
    std::printf("  fenced          %s\n", s.fenced_json->c_str());
    std::fprintf(stderr, "node is fenced '%s': a newer epoch superseded this primary (%s)\nhint: "
                         "stop writing to this node and rebuild it as a replica of the new primary "
                         "in a new directory\n",
                 o.dir.c_str(), s.fenced_json->c_str());
  }
  if (s.promoting_json) {
    std::printf("  promoting       %s\n", s.promoting_json->c_str());
    std::fprintf(stderr, "promote in progress '%s': the claim of the next epoch is not "
                         "finished\nhint: this version has no promote to finish it: restore the node from a healthy copy\n",
                 o.dir.c_str());
  }
  if (st->halt) {
    std::fprintf(stderr, "node is halted '%s': %s: %s\nhint: inspect the cause, then clear it "
                         "with 'aerodb-repl unhalt'\n",
                 o.dir.c_str(), st->halt->code.c_str(), st->halt->detail.c_str());
  }
  return ExitCodeOf(outcome);
}

}  // namespace

void SetupStatus(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "status", "role, epoch, applied CommitId, halt reason, and lag in commits");
  AddDataDir(sub, &o->dir);
  sub->add_option("--from", o->from, "an inbox: report the lag behind its newest complete segment");
  AddJson(sub, &o->json);
  sub->callback([o, &runner] { runner.run = [o] { return Run(*o); }; });
}

}  // namespace aero::cli
