// aerodb-repl apply-wal -D REPLICA_DIR --from DIR: apply segments in CommitId order.
// --follow: again at each change of the inbox (specs/REPLICATION_FOLLOW.md).
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "cli/aerodb-repl/encryption.h"
#include "cli/common/log.h"
#include "cli/common/print_result.h"
#include "cli/common/progress.h"
#include "common/escape.h"
#include "common/fs.h"
#include "repl/apply.h"
#include "repl/follow.h"
#include "repl/register.h"

namespace aero::cli {
namespace {
namespace apply_wal_cmd {  // one name per file: the unity build joins them

struct Options {
  repl::ApplyOptions apply;
  bool json = false;
  repl::RegisterOptions report;  // RET-3: --report-to DIR, --replica-name NAME
  bool follow = false;
  repl::FollowOptions watch;
  EncryptionOptions enc;  // ENC-11: --encryption-keys DIR
};

// OPS-3: what the run did, in one info line.
void LogApplied(const Options& o, const repl::ApplyReport& rep) {
  uint64_t applied = 0, first = 0, last = 0;
  for (const auto& seg : rep.segments) {
    if (seg.outcome != "applied") continue;
    if (applied++ == 0) first = seg.applied_from;
    last = seg.applied_to;
  }
  nlohmann::json fields = {{"data_dir", o.apply.data_dir},
                           {"inbox", o.apply.inbox},
                           {"segments", applied},
                           {"from_commit", rep.from_commit},
                           {"applied_commit", rep.applied_commit},
                           {"bootstrapped", rep.bootstrapped},
                           {"previously_checked", rep.previously_checked}};
  if (applied == 0) {
    LogInfo("nothing to apply from '" + o.apply.inbox + "': applied through commit " +
                std::to_string(rep.applied_commit),
            fields);
    return;
  }
  fields["commits"] = {first, last};
  LogInfo(std::string(rep.bootstrapped ? "bootstrapped: " : "") + "applied " +
              std::to_string(applied) + " segment" + (applied == 1 ? "" : "s") + " (commits " +
              std::to_string(first) + ".." + std::to_string(last) + ") from '" + o.apply.inbox +
              "'",
          fields);
}

// One run's output, after RET-3's registration; the run's outcome with the
// registration's (FOLLOW-3). `quiet_if_idle`: a follower's run that did
// nothing, after its first, prints, registers and records nothing.
Status Print(const Options& o, Status s, const repl::ApplyReport& rep, bool quiet_if_idle = false) {
  if (quiet_if_idle && s.ok() && rep.applied_commit == rep.from_commit && !rep.bootstrapped) {
    return s;  // OPS-9: the loop's idle hook keeps the record fresh
  }
  // RET-3: the position is registered after every run that leaves a replica.
  std::optional<archive::Registration> registered;
  if (!o.report.archive.empty()) {
    repl::RegisterOptions ro = o.report;
    ro.data_dir = o.apply.data_dir;
    archive::Registration reg;
    Status r = repl::RegisterReplica(PosixFs(), ro, &reg);
    if (r.ok()) {
      registered = reg;
      if (!o.json) {
        PrintResult("registered '%s' in '%s': applied %llu\n", reg.name.c_str(), ro.archive.c_str(),
                    static_cast<unsigned long long>(reg.applied_commit));
      }
    } else if (s.ok()) {
      s = r;
    } else if (r.reason() != repl::kNoReplica) {  // a failed run with no replica: nothing to say
      std::fprintf(stderr, "%s\n", r.ToString().c_str());
    }
  }
  const auto& emit = o.follow ? PrintJsonLine : PrintJson;
  nlohmann::json segs = nlohmann::json::array();
  // Only for --json: a document per segment is about 1 KiB (a bootstrap of
  // 100,000 segments held 200 MiB of them to print text).
  for (const auto& seg : rep.segments) {
    if (!o.json) break;
    segs.push_back({{"name", seg.name()},
                    {"first_commit", seg.first_commit},
                    {"last_commit", seg.last_commit},
                    {"outcome", seg.outcome},
                    {"applied_from", seg.applied_from},
                    {"applied_to", seg.applied_to}});
  }
  nlohmann::json fields = {{"data_dir", o.apply.data_dir},
                           {"bootstrapped", rep.bootstrapped},
                           {"from_commit", rep.from_commit},
                           {"applied_commit", rep.applied_commit},
                           {"halted", rep.halted},
                           {"previously_checked", rep.previously_checked},
                           {"segments", segs},
                           {"ignored", SkippedJson(rep.skipped)}};
  if (registered) {
    fields["registered"] = {{"name", registered->name},
                            {"applied_commit", registered->applied_commit},
                            {"epoch", registered->epoch}};
  }
  PrintSkipped(o.apply.inbox, rep.skipped);
  if (!o.json) {
    for (const auto& seg : rep.segments) {
      if (seg.outcome == "applied") {
        PrintResult("applied %s: commits %llu..%llu\n", seg.name().c_str(),
                    static_cast<unsigned long long>(seg.applied_from),
                    static_cast<unsigned long long>(seg.applied_to));
      } else if (seg.outcome == "in-transit") {  // LOG-6: said, never silent
        PrintResult("passed over %s: still being copied, and its commits %llu..%llu are applied\n",
                    Escaped(seg.name()).c_str(), static_cast<unsigned long long>(seg.first_commit),
                    static_cast<unsigned long long>(seg.last_commit));
      }
    }
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());  // OPS-2
    LogFailure(s);
    if (o.json) {
      fields["ok"] = false;
      fields["code"] = std::string(CodeName(s.code()));
      fields["exit"] = ExitCodeOf(s.code());
      fields["message"] = s.message();
      fields["hint"] = s.hint();
      if (!s.reason().empty()) fields["reason"] = s.reason();  // MODEL-9
      emit(fields);
    } else if (rep.applied_commit > rep.from_commit) {
      PrintResult("applied through commit %llu before stopping\n",
                  static_cast<unsigned long long>(rep.applied_commit));
    }
    return s;
  }
  LogApplied(o, rep);
  // A bootstrap that applied nothing (--until 0) created nothing: no
  // replica to record a success in, nor to call up to date.
  const bool exists = PosixFs().Stat(o.apply.data_dir).ok();
  if (exists) RecordLastSuccess(o.apply.data_dir, "apply-wal", rep.applied_commit, o.apply.inbox);
  if (o.json) {
    emit(OkJson(fields));
  } else if (o.follow) {
    PrintResult("applied through commit %llu\n", static_cast<unsigned long long>(rep.applied_commit));
  } else if (!exists) {
    PrintResult("nothing bootstrapped '%s': no write set applied, the directory was not created\n",
                o.apply.data_dir.c_str());
  } else {
    PrintResult("%s '%s': applied through commit %llu\n",
                rep.bootstrapped ? "bootstrapped replica" : "up to date",
                o.apply.data_dir.c_str(), static_cast<unsigned long long>(rep.applied_commit));
  }
  return s;
}

// --report-to: checked before anything is applied.
Status CheckReportTo(const Options& o) {
  repl::RegisterOptions ro = o.report;
  ro.data_dir = o.apply.data_dir;
  return repl::CheckReportTo(ro);
}

int Run(Options o) {
  if (Status r = CheckReportTo(o); !r.ok()) return Fail(r, o.json);
  if (Status k = LoadEncryptionKeys(&o.enc); !k.ok()) return Fail(k, o.json);
  auto fs = ReadingFs(o.enc);  // ENC-11: encrypted segments are read through their keys
  repl::ApplyReport rep;
  ProgressLine progress("apply-wal");  // OPS-6
  repl::ApplyOptions apply = o.apply;
  apply.progress = progress.Callback();
  Status s = repl::ApplyWal(*fs, apply, &rep);
  progress.Finish();
  return ExitCodeOf(Print(o, s, rep).code());
}

// FOLLOW-2..4: the one-shot run at the start and at each change of the
// inbox, until a run ends it (its code) or SIGTERM/SIGINT stops it between
// segments (0).
int RunFollow(Options o) {
  if (Status r = CheckReportTo(o); !r.ok()) return Fail(r, o.json);
  if (Status k = LoadEncryptionKeys(&o.enc); !k.ok()) return Fail(k, o.json);
  auto fs = ReadingFs(o.enc);  // ENC-11
  static repl::StopToken token;  // outlives the handlers
  if (Status s = repl::StopOnSignals(&token); !s.ok()) return Fail(s, o.json);
  o.watch.force_poll = ForcePollFromEnv();
  Status last_run;
  bool first = true;
  uint64_t applied = 0;
  Status s = repl::FollowApply(
      *fs, o.apply, o.watch, token,
      [&](const Status& run, const repl::ApplyReport& rep) {
        // RET-3: the first run registers even when it applies nothing, and a
        // registration refused is the run's outcome (FOLLOW-3).
        last_run = Print(o, run, rep, /*quiet_if_idle=*/!first);
        first = false;
        applied = rep.applied_commit;
        std::fflush(stdout);  // each run's lines as it ends, whatever its outcome
        return last_run;
      },
      [&] {  // OPS-9: an idle follower is up to date as of this look
        if (PosixFs().Stat(o.apply.data_dir).ok()) {
          RecordLastSuccess(o.apply.data_dir, "apply-wal", applied, o.apply.inbox);
        }
      });
  return FinishFollow(s, last_run, o.json);
}

}  // namespace apply_wal_cmd
}  // namespace

void SetupApplyWal(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<apply_wal_cmd::Options>();
  CLI::App* sub = app.add_subcommand(
      "apply-wal", "apply segments from an inbox in CommitId order (replica only)");
  AddDataDir(sub, &o->apply.data_dir);
  sub->add_option("--from", o->apply.inbox, "the inbox directory segments arrive in")->required()->check(NonEmptyPath());
  CLI::Option* until =
      sub->add_option("--until", o->apply.until, "apply no write set above this CommitId")
          ->check(Unsigned());
  CLI::Option* report_to = sub->add_option(
      "--report-to", o->report.archive,
      "register the applied position in this archive directory, for prune")->check(NonEmptyPath());
  sub->add_option("--replica-name", o->report.name,
                  "the name this replica registers under (default: the host name)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {  // ARC-5, checked where it is given
            return archive::IsRegistrationName(v)
                       ? std::string()
                       : "'" + v + "' is not " + std::string(archive::kRegistrationNameRule);
          },
          "", "replica name"))
      ->needs(report_to);
  sub->add_option("--trusted-keys", o->apply.trusted_keys,
                  "require signatures by these public keys (*.pem; added to the node's "
                  "replication/trusted-keys/)")
      ->type_name("DIR")->check(NonEmptyPath());
  CLI::Option* follow =
      sub->add_flag("--follow", o->follow,
                    "keep running: apply again whenever a segment arrives in the inbox; "
                    "SIGTERM/SIGINT stop between segments")
          ->excludes(until);
  sub->add_option("--poll-interval-ms", o->watch.poll_interval_ms,
                  "with --follow: look again at least this often (default 1000)")
      ->check(Unsigned(1, 3600000))
      ->needs(follow);
  AddEncryptionKeys(sub, &o->enc);
  sub->add_flag("--require-encryption", o->apply.require_encryption,
                "refuse a segment that is not encrypted (5, not halted)");  // ENC-31
  AddJson(sub, &o->json);
  sub->callback([o, &runner] {
    runner.run = [o] { return o->follow ? RunFollow(*o) : apply_wal_cmd::Run(*o); };
  });
}

}  // namespace aero::cli
