// aerodb-repl ship-wal -D PRIMARY_DIR --to DIR: publish committed write sets as segments.
// --follow: again at each change of the primary's WAL (specs/REPLICATION_FOLLOW.md).
#include <cstdio>

#include "cli/aerodb-repl/commands.h"
#include "cli/aerodb-repl/encryption.h"
#include "cli/common/log.h"
#include "cli/common/print_result.h"
#include "cli/common/progress.h"
#include "common/fs.h"
#include "repl/follow.h"
#include "repl/ship.h"

namespace aero::cli {
namespace {
namespace ship_wal_cmd {  // one name per file: the unity build joins them

struct Options {
  repl::ShipOptions ship;
  bool json = false;
  bool follow = false;
  repl::FollowOptions watch;
  EncryptionOptions enc;  // ENC-12: --encryption-key FILE; ENC-30: --encryption-keys DIR
};

// ENC-30: the keys of --encryption-keys also read the target's segments.
Status LoadReadKeys(Options* o) {
  AERO_RETURN_IF_ERROR(LoadEncryptionKeys(&o->enc));
  o->ship.read_keys = o->enc.keys_dir.empty() ? nullptr : &o->enc.keys;
  return Status::Ok();
}

// OPS-3: what the run did, in one info line.
void LogShipped(const Options& o, const repl::ShipReport& rep) {
  uint64_t bytes = 0, identical = 0;
  for (const auto& seg : rep.segments) {
    bytes += seg.bytes;
    if (seg.already_there) ++identical;
  }
  nlohmann::json fields = {{"target", rep.target},
                           {"segments", rep.segments.size()},
                           {"identical", identical},
                           {"bytes", bytes},
                           {"from_commit", rep.from_commit},
                           {"shipped_commit", rep.shipped_commit}};
  if (rep.segments.empty()) {
    LogInfo("nothing to ship to '" + o.ship.target + "': shipped through commit " +
                std::to_string(rep.shipped_commit),
            fields);
    return;
  }
  const uint64_t first = rep.segments.front().first_commit, last = rep.segments.back().last_commit;
  fields["commits"] = {first, last};
  LogInfo("published " + std::to_string(rep.segments.size()) + " segment" +
              (rep.segments.size() == 1 ? "" : "s") + " (commits " + std::to_string(first) + ".." +
              std::to_string(last) + ", " + HumanBytes(bytes) +
              (identical > 0 ? ", " + std::to_string(identical) + " identical" : "") + ") to '" +
              o.ship.target + "'",
          fields);
}

// The history files and segments a run published, a line each.
void PrintPublished(const repl::ShipReport& rep) {
  for (const auto& h : rep.history_files) PrintResult("published %s\n", h.c_str());
  for (const auto& seg : rep.segments) {
    PrintResult("%s %s: commits %llu..%llu, %llu bytes\n",
                seg.already_there ? "identical" : "published", seg.name().c_str(),
                static_cast<unsigned long long>(seg.first_commit),
                static_cast<unsigned long long>(seg.last_commit),
                static_cast<unsigned long long>(seg.bytes));
  }
}

// A warning on stderr, with its hint; nothing for ok.
// One run's output; `follow`: a run that did nothing prints nothing.
int Print(const Options& o, const Status& s, const repl::ShipReport& rep) {
  nlohmann::json segs = nlohmann::json::array();
  // Only for --json: a document per segment is about 1 KiB (100,000
  // segments held 100 MiB and more of them to print text).
  for (const auto& seg : rep.segments) {
    if (!o.json) break;
    segs.push_back({{"name", seg.name()},
                    {"first_commit", seg.first_commit},
                    {"last_commit", seg.last_commit},
                    {"bytes", seg.bytes},
                    {"sha256", ToHex(seg.sha256)},
                    {"already_there", seg.already_there}});
  }
  // Warnings, whatever the outcome: LOG-26 (the position), LOG-31 (the directory's lock).
  if (!rep.position_saved) PrintWarning(rep.position_warning);
  PrintWarning(rep.directory_lock_warning);
  PrintWarning(rep.left_temps_warning);  // FM-138
  if (!s.ok()) {
    // What was published before the failure stays published; say so.
    for (const auto& seg : rep.segments) {
      std::fprintf(stderr, "published %s before the failure\n", seg.name().c_str());
    }
    return Fail(s, o.json, o.follow);
  }
  if (o.follow && rep.segments.empty() && rep.history_files.empty() && !rep.marked_claim_archive) {
    return 0;  // OPS-9: the first run records below (RunFollow), then the idle hook
  }
  LogShipped(o, rep);
  RecordLastSuccess(o.ship.data_dir, "ship-wal", rep.shipped_commit, o.ship.target);
  if (o.json) {
    (o.follow ? PrintJsonLine : PrintJson)(OkJson({{"target", rep.target},
                      {"from_commit", rep.from_commit},
                      {"shipped_commit", rep.shipped_commit},
                      {"segments", segs},
                      {"position_saved", rep.position_saved},
                      {"left_temps_removed", rep.left_temps_removed},
                      {"directory_locked", rep.directory_lock_warning.ok()},
                      {"claim_archive", rep.claim_archive},
                      {"marked_claim_archive", rep.marked_claim_archive},
                      {"history_files", rep.history_files}}));
    return 0;
  }
  if (o.follow) {
    PrintPublished(rep);
    std::fflush(stdout);
    return 0;
  }
  if (rep.marked_claim_archive) {
    PrintResult("marked '%s' as the claim archive (claim-archive.json)\n", rep.target.c_str());
  }
  PrintPublished(rep);
  if (rep.segments.empty()) {
    PrintResult("nothing to ship '%s': shipped through commit %llu\n", rep.target.c_str(),
                static_cast<unsigned long long>(rep.shipped_commit));
  } else {
    PrintResult("shipped '%s': through commit %llu\n", rep.target.c_str(),
                static_cast<unsigned long long>(rep.shipped_commit));
  }
  return 0;
}

int Run(Options o) {
  if (Status k = LoadEncryptionKey(&o.enc, &o.ship.encryption); !k.ok()) return Fail(k, o.json);
  if (Status k = LoadReadKeys(&o); !k.ok()) return Fail(k, o.json);
  repl::ShipReport rep;
  ProgressLine progress("ship-wal");  // OPS-6
  repl::ShipOptions ship = o.ship;
  ship.progress = progress.Callback();
  Status s = repl::ShipWal(PosixFs(), ship, &rep);
  progress.Finish();
  return Print(o, s, rep);
}

// FOLLOW-2..5: the one-shot run at the start and at each change, until a
// run ends it (its code) or SIGTERM/SIGINT stops it at a segment boundary (0).
int RunFollow(Options o) {
  if (Status k = LoadEncryptionKey(&o.enc, &o.ship.encryption); !k.ok()) return Fail(k, o.json);
  if (Status k = LoadReadKeys(&o); !k.ok()) return Fail(k, o.json);
  static repl::StopToken token;  // outlives the handlers
  if (Status s = repl::StopOnSignals(&token); !s.ok()) return Fail(s, o.json);
  o.watch.force_poll = ForcePollFromEnv();
  o.watch.full_bytes = o.ship.max_segment_bytes;
  Status last_run;
  uint64_t shipped = 0;
  bool first = true;
  Status s = repl::FollowShip(
      PosixFs(), o.ship, o.watch, token,
      [&](const Status& run, const repl::ShipReport& rep) {
        last_run = run;
        shipped = rep.shipped_commit;
        Print(o, run, rep);
        if (first && run.ok()) RecordLastSuccess(o.ship.data_dir, "ship-wal", shipped, o.ship.target);  // OPS-9
        first = false;
      },
      [&] { RecordLastSuccess(o.ship.data_dir, "ship-wal", shipped, o.ship.target); });  // OPS-9: idle
  return FinishFollow(s, last_run, o.json);
}

}  // namespace ship_wal_cmd
}  // namespace

void SetupShipWal(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<ship_wal_cmd::Options>();
  CLI::App* sub = app.add_subcommand(
      "ship-wal", "publish the committed WAL since the last shipped CommitId as segment files");
  AddDataDir(sub, &o->ship.data_dir);
  sub->add_option("--to", o->ship.target, "the outbox or archive directory")->required()->check(NonEmptyPath());
  sub->add_option("--max-segment-bytes", o->ship.max_segment_bytes,
                  "close a segment before its body passes this size (default 16777216)")
      ->check(Unsigned(1, uint64_t{1} << 34));
  sub->add_flag("--zstd", o->ship.zstd, "compress segment bodies with zstd");
  sub->add_flag("--restart-at-base", o->ship.restart_at_base,
                "continue a target whose position was checkpointed away, from the node's base");
  sub->add_flag("--claim-archive", o->ship.claim_archive,
                "mark the target as the claim archive, where promote claims epochs (once)");
  sub->add_option("--signing-key", o->ship.signing_key,
                  "sign each segment and history file with this Ed25519 private key (PEM, mode 600): "
                  "NAME.sig beside NAME")
      ->type_name("FILE");
  AddEncryptionKey(sub, &o->enc);
  AddEncryptionKeys(sub, &o->enc);  // ENC-30
  CLI::Option* follow =
      sub->add_flag("--follow", o->follow,
                    "keep running: ship again whenever the WAL grows or is checkpointed; "
                    "SIGTERM/SIGINT stop at a segment boundary");
  sub->add_option("--max-delay-ms", o->watch.max_delay_ms,
                  "with --follow: ship write sets at the latest this long after they were seen "
                  "(default 200; 0: at once)")
      ->check(Unsigned(0, 3600000))
      ->needs(follow);
  sub->add_option("--poll-interval-ms", o->watch.poll_interval_ms,
                  "with --follow: look again at least this often (default 1000)")
      ->check(Unsigned(1, 3600000))
      ->needs(follow);
  AddJson(sub, &o->json);
  o->watch.max_delay_ms = 200;  // FOLLOW-5
  sub->callback([o, &runner] {
    runner.run = [o] { return o->follow ? RunFollow(*o) : ship_wal_cmd::Run(*o); };
  });
}

}  // namespace aero::cli
