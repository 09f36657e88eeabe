// aerodb-repl status -D DIR [--from DIR]: role, position, health, lag in commits.
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "cli/aerodb-repl/encryption.h"
#include "cli/common/log.h"
#include "cli/common/print_result.h"
#include "common/fs.h"
#include "repl/metrics.h"
#include "repl/status.h"

namespace aero::cli {
namespace {
namespace status_cmd {  // one name per file: the unity build joins them

struct Options {
  std::string dir;
  std::string from;
  std::string metrics;
  bool json = false;
  EncryptionOptions enc;  // ENC-14: --encryption-keys DIR
};

// OPS-10, OPS-11: the metrics file, after status's own reads; its failure
// is reported (OPS-2) and decides the exit (10; 9: no such directory) only
// when status itself would exit 0.
Status WriteMetricsFile(const Options& o, const repl::NodeStatus& st) {
  repl::MetricsInput in;
  in.data_dir = o.dir;
  if (!o.from.empty()) in.inbox = o.from;
  in.status = &st;
  in.last_success = repl::CollectLastSuccess(PosixFs(), o.dir);
  Status w = repl::WriteMetrics(PosixFs(), o.metrics, repl::RenderMetrics(in));
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.ToString().c_str());
    LogFailure(w);
    return w;
  }
  LogDebug("wrote metrics to '" + o.metrics + "'", {{"metrics", o.metrics}});
  return w;
}

void LogStatus(const Options& o, const repl::NodeStatus& st) {
  const node::NodeState& s = st.state;
  std::string msg = std::string(node::RoleName(s.role)) + " '" + o.dir + "': epoch " +
                    std::to_string(s.epoch) + ", applied commit " + std::to_string(s.applied_commit);
  nlohmann::json fields = {{"data_dir", o.dir},
                           {"role", node::RoleName(s.role)},
                           {"epoch", s.epoch},
                           {"applied_commit", s.applied_commit}};
  if (st.inbox && st.inbox->newest_commit) {
    msg += ", lag " + std::to_string(st.inbox->lag) + " commits";
    fields["lag"] = st.inbox->lag;
  }
  if (!o.metrics.empty()) {
    msg += "; metrics to '" + o.metrics + "'";
    fields["metrics"] = o.metrics;
  }
  LogInfo(msg, fields);
}

// SIG-15: whether the node requires signatures (SIG-5).
void PrintSignatureMode(const repl::NodeStatus& st) {
  if (st.signatures_required) {
    PrintResult("  signatures      required (%zu trusted keys)\n", st.trusted_key_ids.size());
  } else {
    PrintResult("  signatures      not required\n");
  }
}

// The --json document of a status (OPS-4).
// `metrics`: the failed metrics write when it decides the exit (OPS-11):
// the document's ok, code, exit, message and hint are then its.
nlohmann::json StatusJson(const Options& o, const repl::NodeStatus& status, Code outcome,
                          const Status& metrics) {
  const repl::NodeStatus* st = &status;
  const node::NodeState& s = st->state;
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
                      {"halted", st->authority.halt ? nlohmann::json({{"code", st->authority.halt->code},
                                                            {"subject", st->authority.halt->subject},
                                                            {"detail", st->authority.halt->detail},
                                                            {"commit", st->authority.halt->commit}})
                                          : nlohmann::json(nullptr)},
                      {"fenced", st->authority.fenced
                                     ? nlohmann::json({{"epoch", st->authority.fenced->epoch},
                                                       {"branch_commit",
                                                        st->authority.fenced->branch_commit},
                                                       {"seen_in", st->authority.fenced->seen_in}})
                                     : nlohmann::json(nullptr)},
                      {"promoting", st->authority.promoting}};
  if (!st->health.ok()) {  // MODEL-9: Permit's refusal, as every command gives it
    j["message"] = st->health.message();
    j["hint"] = st->health.hint();
    j["reason"] = st->health.reason();
  }
  if (!metrics.ok()) {  // OPS-11: ok only for exit 0, as in every document (OUTPUT)
    j["ok"] = false;
    j["code"] = std::string(CodeName(metrics.code()));
    j["exit"] = ExitCodeOf(metrics.code());
    j["message"] = metrics.message();
    j["hint"] = metrics.hint();
  }
  nlohmann::json shipped = nlohmann::json::array();
  for (const auto& t : st->shipped) {
    shipped.push_back({{"target", t.target}, {"shipped_commit", t.commit}, {"lag", t.lag}});
  }
  j["shipped"] = shipped;
  j["ignored"] = SkippedJson(st->skipped);
  nlohmann::json problems = nlohmann::json::array();
  for (const Status& p : st->problems) problems.push_back({{"message", p.message()}, {"hint", p.hint()}});
  j["problems"] = problems;
  nlohmann::json in_transit = nlohmann::json::array();  // LOG-18: not complete yet, not damage
  for (const Status& p : st->in_transit) in_transit.push_back({{"message", p.message()}, {"hint", p.hint()}});
  j["in_transit"] = in_transit;
  j["signatures"] = {{"required", st->signatures_required}, {"trusted_keys", st->trusted_key_ids}};  // SIG-15
  if (st->inbox) {
    j["inbox"] = {{"path", o.from},
                  {"newest_commit", st->inbox->newest_commit
                                        ? nlohmann::json(*st->inbox->newest_commit)
                                        : nlohmann::json(nullptr)},
                  {"newest_segment", st->inbox->newest_segment},
                  {"lag", st->inbox->lag},
                  {"incomplete_segments", st->inbox->incomplete_segments},
                  {"encrypted_no_key", st->inbox->encrypted_no_key}};
  } else {
    j["inbox"] = nullptr;
  }
  return j;
}

// The text report of a status.
void PrintStatusText(const Options& o, const repl::NodeStatus& status) {
  const repl::NodeStatus* st = &status;
  const node::NodeState& s = st->state;
  PrintResult("node '%s'\n", o.dir.c_str());
  PrintResult("  role            %s\n", node::RoleName(s.role));
  PrintResult("  system id       %s\n", st->identity.system_id.ToHex().c_str());
  PrintResult("  epoch           %u\n", s.epoch);
  PrintResult("  applied commit  %llu\n", static_cast<unsigned long long>(s.applied_commit));
  PrintResult("  history digest  %s\n", history::DigestToHex(s.applied_digest).c_str());
  PrintResult("  base commit     %llu\n", static_cast<unsigned long long>(s.base_commit));
  PrintResult("  halted          %s\n",
              st->authority.halt ? (st->authority.halt->code + ": " + st->authority.halt->detail).c_str() : "no");
  for (const auto& t : st->shipped) {
    PrintResult("  shipped         '%s' through commit %llu (%llu behind)\n", t.target.c_str(),
                static_cast<unsigned long long>(t.commit), static_cast<unsigned long long>(t.lag));
  }
  if (st->inbox) {
    if (st->inbox->newest_commit) {
      PrintResult("  lag             %llu commits (newest complete segment ends at %llu)\n",
                  static_cast<unsigned long long>(st->inbox->lag),
                  static_cast<unsigned long long>(*st->inbox->newest_commit));
    } else {
      PrintResult("  lag             unknown: no complete segment in '%s'\n", o.from.c_str());
    }
  }
  if (st->authority.fenced) {
    PrintResult("  fenced          epoch %u from commit %llu\n", st->authority.fenced->epoch,
                static_cast<unsigned long long>(st->authority.fenced->branch_commit));
  }
  if (st->authority.promoting) PrintResult("  promoting       yes\n");
  PrintSignatureMode(*st);
}

int Run(Options& o) {
  if (!o.metrics.empty()) {  // NODE-13: before anything is read
    if (Status in = repl::CheckMetricsPath(o.dir, o.metrics); !in.ok()) return Fail(in, o.json);
  }
  std::optional<std::string> inbox;
  if (!o.from.empty()) inbox = o.from;
  if (Status k = LoadEncryptionKeys(&o.enc); !k.ok()) return Fail(k, o.json);
  auto fs = ReadingFs(o.enc);  // ENC-14: inbox segments read through their keys
  auto st = repl::GetStatus(*fs, o.dir, inbox);
  if (!st.ok()) return Fail(st.status(), o.json);
  if (st->inbox) PrintSkipped(o.from, st->skipped);
  for (const Status& p : st->problems) std::fprintf(stderr, "%s\n", p.ToString().c_str());
  for (const Status& p : st->in_transit) std::fprintf(stderr, "%s\n", p.ToString().c_str());  // LOG-18
  if (st->inbox && st->inbox->encrypted_no_key > 0) {  // ENC-14: said, with the hint, in text and --json
    std::fprintf(stderr, "%llu encrypted segment(s) of '%s' not read: %s\n",
                 static_cast<unsigned long long>(st->inbox->encrypted_no_key), o.from.c_str(),
                 st->inbox->encrypted_no_key_detail.c_str());
  }
  const Code outcome = st->outcome();
  // OPS-10: the file is written first; stdout and the exit are as without
  // it, unless its failure decides the exit (OPS-11).
  const Status metrics = o.metrics.empty() ? Status::Ok() : WriteMetricsFile(o, *st);
  const Status decides = outcome == Code::kOk ? metrics : Status::Ok();
  const int rc = decides.ok() ? ExitCodeOf(outcome) : ExitCodeOf(decides.code());
  if (outcome == Code::kOk && metrics.ok()) LogStatus(o, *st);
  // MODEL-9: the refusal as Permit words it, never re-typed here; on
  // stderr with --json too (a failure always prints its message and hint).
  if (!st->health.ok()) std::fprintf(stderr, "%s\n", st->health.ToString().c_str());
  if (o.json) {
    PrintJson(StatusJson(o, *st, outcome, decides));
    return rc;
  }
  PrintStatusText(o, *st);
  return rc;
}

}  // namespace status_cmd
}  // namespace

void SetupStatus(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<status_cmd::Options>();
  CLI::App* sub = app.add_subcommand(
      "status", "role, epoch, applied CommitId, halt reason, and lag in commits");
  AddDataDir(sub, &o->dir);
  sub->add_option("--from", o->from, "an inbox: report the lag behind its newest complete segment")->check(NonEmptyPath());
  sub->add_option("--metrics", o->metrics,
                  "also write the node's metrics to this file, for node_exporter's textfile "
                  "collector (atomically)")->check(NonEmptyPath());
  AddJson(sub, &o->json);
  AddEncryptionKeys(sub, &o->enc);
  sub->callback([o, &runner] { runner.run = [o] { return status_cmd::Run(*o); }; });
}

}  // namespace aero::cli
