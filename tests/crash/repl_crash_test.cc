// Crash safety of ship-wal and apply-wal (LOG-3, LOG-13, NODE-4): a simulated
// crash at every durable step, then power loss (unsynced bytes and directory
// entries dropped) and a re-run. Nothing acknowledged is lost, no gap or
// duplicate is applied, and the re-run converges to the uncrashed result.
#include <doctest/doctest.h>

#include <filesystem>

#include "segment/segment.h"
#include "support/faulty_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

// The segments in `dir` form one valid chain 1..last.
void CheckChain(const std::string& dir, uint64_t last) {
  uint64_t next = 1;
  for (const std::string& n : Segments(dir)) {
    auto info = segment::ParseSegmentName(n);
    CHECK(info->first_commit <= next);
    next = std::max(next, info->last_commit + 1);
  }
  CHECK(next == last + 1);
}

// What a crash left in `dir` is a gap-free prefix of the chain: segments
// are published in CommitId order, even with two in flight (LOG-3).
void CheckPrefix(const std::string& dir) {
  uint64_t next = 1;
  for (const std::string& n : Segments(dir)) {
    auto info = segment::ParseSegmentName(n);
    CHECK(info->first_commit <= next);
    next = std::max(next, info->last_commit + 1);
  }
}

}  // namespace

// LOG-3: with the position saved after every segment (1 byte), and with the
// default (64 MiB: once, at the end of these small runs).
TEST_CASE("crash: ship-wal at every step, then a re-run converges") {
  TempDir t;
  MakePrimary(t / "p0", 40);
  REQUIRE(PosixFs().MakeDir(t / "out0").ok());
  for (uint64_t every : {uint64_t{1}, repl::ShipOptions{}.position_every_bytes}) {
  CAPTURE(every);
  uint64_t total = 0;
  {
    CopyTree(t / "p0", t / "p");
    CopyTree(t / "out0", t / "out");
    FaultyFs fs;
    repl::ShipOptions o{t / "p", t / "out", 3000, false, false, every};
    REQUIRE(repl::ShipWal(fs, o, nullptr).ok());
    total = fs.steps();
  }
  MESSAGE("ship-wal crash points exercised (position every " << every << " bytes): " << total);
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    CopyTree(t / "p0", t / "p");
    CopyTree(t / "out0", t / "out");
    FaultyFs fs;
    fs.CrashAt(k);
    repl::ShipOptions o{t / "p", t / "out", 3000, false, false, every};
    repl::ShipReport crashed;
    (void)repl::ShipWal(fs, o, &crashed);
    fs.PowerLoss();
    CheckPrefix(t / "out");
    REQUIRE(repl::ShipWal(PosixFs(), o, nullptr).ok());  // the re-run
    CheckChain(t / "out", 40);
    fsys::remove_all(t / "r");
    REQUIRE(Apply(t / "r", t / "out").ok());
    CheckSameHistory(t / "p", t / "r");
  }
  }
}

TEST_CASE("crash: apply-wal at every step (bootstrap and catch-up), then a re-run converges") {
  TempDir t;
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(Ship(t / "p", t / "in", 2500).ok());
  // r0: a replica that has the first segments; the rest are new for it.
  REQUIRE(PosixFs().MakeDir(t / "first").ok());
  auto names = Segments(t / "in");
  REQUIRE(names.size() >= 4);
  fsys::copy(t / "in" / names[0], t / "first" / names[0]);
  REQUIRE(Apply(t / "r0", t / "first").ok());

  // LOG-13: acknowledged after every segment (1 byte), and together (the
  // default, 64 MiB: once, at the end of these small runs).
  for (uint64_t every : {uint64_t{1}, repl::ApplyOptions{}.ack_every_bytes})
  for (bool bootstrap : {true, false}) {
    CAPTURE(every);
    CAPTURE(bootstrap);
    uint64_t total = 0;
    {
      fsys::remove_all(t / "r");
      if (!bootstrap) CopyTree(t / "r0", t / "r");
      FaultyFs fs;
      repl::ApplyOptions o{t / "r", t / "in", std::nullopt, every};
      REQUIRE(repl::ApplyWal(fs, o, nullptr).ok());
      total = fs.steps();
    }
    MESSAGE("apply-wal crash points exercised (bootstrap=" << bootstrap << ", ack every "
                                                           << every << " bytes): " << total);
    for (uint64_t k = 1; k <= total; ++k) {
      CAPTURE(k);
      fsys::remove_all(t / "r");
      if (!bootstrap) CopyTree(t / "r0", t / "r");
      FaultyFs fs;
      fs.CrashAt(k);
      repl::ApplyOptions o{t / "r", t / "in", std::nullopt, every};
      repl::ApplyReport crashed;
      (void)repl::ApplyWal(fs, o, &crashed);
      fs.PowerLoss();
      uint64_t acked = bootstrap ? 0 : StateOf(t / "r0").applied_commit;
      for (auto& s : crashed.segments) {
        if (s.outcome == "applied" && !crashed.bootstrapped && !bootstrap) acked = s.applied_to;
      }
      if (FileExists(t / "r/replication/identity.json") && FileExists(t / "r/replication/state.json")) {
        CHECK(StateOf(t / "r").applied_commit >= acked);  // nothing acknowledged lost
      }
      repl::ApplyReport rerun;
      REQUIRE(repl::ApplyWal(PosixFs(), o, &rerun).ok());
      CheckSameHistory(t / "p", t / "r");
    }
  }
}

TEST_CASE("crash: ship-wal dies, a re-run succeeds, then the power fails") {
  TempDir t;
  MakePrimary(t / "p0", 30);
  REQUIRE(PosixFs().MakeDir(t / "out0").ok());
  uint64_t total = 0;
  {
    CopyTree(t / "p0", t / "p");
    CopyTree(t / "out0", t / "out");
    FaultyFs fs;
    repl::ShipOptions o{t / "p", t / "out", 3000, false, false};
    REQUIRE(repl::ShipWal(fs, o, nullptr).ok());
    total = fs.steps();
  }
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    CopyTree(t / "p0", t / "p");
    CopyTree(t / "out0", t / "out");
    FaultyFs fs;
    fs.CrashAt(k);
    repl::ShipOptions o{t / "p", t / "out", 3000, false, false};
    (void)repl::ShipWal(fs, o, nullptr);
    fs.ProcessRestart();
    REQUIRE(repl::ShipWal(fs, o, nullptr).ok());  // acknowledged: shipped through 30
    fs.PowerLoss();
    CheckChain(t / "out", 30);  // nothing the re-run acknowledged is lost
    REQUIRE(repl::ShipWal(PosixFs(), o, nullptr).ok());
    fsys::remove_all(t / "r");
    REQUIRE(Apply(t / "r", t / "out").ok());
    CheckSameHistory(t / "p", t / "r");
  }
}

TEST_CASE("crash: apply-wal dies, a re-run succeeds, then the power fails") {
  TempDir t;
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(Ship(t / "p", t / "in", 2500).ok());
  uint64_t total = 0;
  {
    FaultyFs fs;
    repl::ApplyOptions o{t / "r", t / "in", std::nullopt};
    REQUIRE(repl::ApplyWal(fs, o, nullptr).ok());
    total = fs.steps();
  }
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    fsys::remove_all(t / "r");
    FaultyFs fs;
    fs.CrashAt(k);
    repl::ApplyOptions o{t / "r", t / "in", std::nullopt};
    (void)repl::ApplyWal(fs, o, nullptr);
    fs.ProcessRestart();
    repl::ApplyReport rerun;
    REQUIRE(repl::ApplyWal(fs, o, &rerun).ok());
    REQUIRE(rerun.applied_commit == 30);  // acknowledged
    fs.PowerLoss();
    REQUIRE(FileExists(t / "r/replication/state.json"));
    CHECK(StateOf(t / "r").applied_commit == 30);
    CheckSameHistory(t / "p", t / "r");
  }
}
