// A "chaos transport" between ship-wal and apply-wal: segments arrive out of
// order, twice, truncated (completed later), with a flipped byte (replaced
// later), and one goes missing until the end. After every delivery the
// replica's history is a prefix of the primary's (invariant 2); nothing is
// applied out of order (invariant 3); when everything has arrived intact the
// replica is identical to the primary.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "repl/unhalt.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

// The replica's applied position is on the primary's history (same digest at
// the same CommitId) and never moves backwards.
void CheckPrefix(const std::string& primary, const std::string& replica, uint64_t* last_seen) {
  if (!FileExists(replica)) return;
  node::NodeState r = StateOf(replica);
  CHECK(r.applied_commit >= *last_seen);
  *last_seen = r.applied_commit;
  auto p = node::Node::Open(PosixFs(), primary, node::Access::kRead);
  REQUIRE(p.ok());
  auto d = (*p)->DigestsAt({r.applied_commit});
  REQUIRE(d.ok());
  if (r.applied_commit > 0) {
    REQUIRE(d->count(r.applied_commit) == 1);
    CHECK(d->at(r.applied_commit) == r.applied_digest);
  }
}

void RunChaos(uint32_t seed) {
  CAPTURE(seed);
  TempDir t;
  std::mt19937 rng(seed);
  MakePrimary(t / "p", 50, seed);
  REQUIRE(PosixFs().MakeDir(t / "outbox").ok());
  REQUIRE(PosixFs().MakeDir(t / "inbox").ok());
  // Several rounds of writes and ships: a growing pile of segments.
  for (int round = 0; round < 4; ++round) {
    Write(t / "p", 20 + rng() % 20, seed * 10 + round);
    REQUIRE(Ship(t / "p", t / "outbox", 2500 + rng() % 3000).ok());
  }
  std::vector<std::string> names = Segments(t / "outbox");
  REQUIRE(names.size() >= 8);
  std::shuffle(names.begin(), names.end(), rng);
  const std::string held_back = names[rng() % names.size()];  // missing until the end
  uint64_t last_seen = 0;
  bool damaged_pending = false;
  std::string damaged_name;

  auto apply = [&] {
    repl::ApplyReport rep;
    Status s = Apply(t / "r", t / "inbox", &rep);
    const Code c = s.code();
    CHECK((c == Code::kOk || c == Code::kGap || c == Code::kInTransit || c == Code::kDamage ||
           c == Code::kHalted || c == Code::kNotFound));
    if (c == Code::kDamage) {
      CHECK(damaged_pending);
      CHECK(s.message().find(damaged_name) != std::string::npos);
    }
    CheckPrefix(t / "p", t / "r", &last_seen);
    return c;
  };

  for (const std::string& n : names) {
    if (n == held_back) continue;
    const std::string src = t / "outbox" / n, dst = t / "inbox" / n;
    const std::string bytes = ReadFile(src);
    switch (rng() % 5) {
      case 0:  // truncated first, completed later
        WriteFile(dst, bytes.substr(0, rng() % bytes.size()));
        apply();
        WriteFile(dst, bytes);
        break;
      case 1:  // delivered twice
        WriteFile(dst, bytes);
        apply();
        WriteFile(dst, bytes);
        break;
      case 2:  // one byte flipped in transit (once per run), fixed by a resend
        if (!damaged_pending) {
          std::string bad = bytes;
          FlipBit(&bad, rng() % bad.size(), static_cast<int>(rng() % 8));
          WriteFile(dst, bad);
          damaged_pending = true;
          damaged_name = n;
          apply();
          WriteFile(dst, bytes);  // the operator re-copies the file
          break;
        }
        [[fallthrough]];
      default:
        WriteFile(dst, bytes);
    }
    if (apply() == Code::kHalted || (FileExists(t / "r/replication/halt.json"))) {
      // The operator has replaced the damaged file by now; clear the halt.
      REQUIRE(repl::Unhalt(PosixFs(), t / "r", "re-copied the damaged segment", nullptr).ok());
      apply();
    }
  }
  // Before the last segment arrives the replica must not be complete.
  WriteFile(t / "inbox" / held_back, ReadFile(t / "outbox" / held_back));
  if (FileExists(t / "r/replication/halt.json")) {
    REQUIRE(repl::Unhalt(PosixFs(), t / "r", "re-copied the damaged segment", nullptr).ok());
  }
  REQUIRE(Apply(t / "r", t / "inbox").ok());
  CheckPrefix(t / "p", t / "r", &last_seen);
  CheckSameHistory(t / "p", t / "r");
}

}  // namespace

TEST_CASE("chaos transport: reordered, duplicated, truncated, flipped, late segments converge") {
  for (uint32_t seed = 1; seed <= 6; ++seed) RunChaos(seed);
}

TEST_CASE("chaos transport: a segment that never arrives intact leaves the replica halted or waiting") {
  TempDir t;
  MakePrimary(t / "p", 60);
  REQUIRE(PosixFs().MakeDir(t / "outbox").ok());
  REQUIRE(PosixFs().MakeDir(t / "inbox").ok());
  REQUIRE(Ship(t / "p", t / "outbox", 3000).ok());
  auto names = Segments(t / "outbox");
  REQUIRE(names.size() >= 3);
  for (auto& n : names) fsys::copy(t / "outbox" / n, t / "inbox" / n);
  FlipBitInFile(t / "inbox" / names[1], 250, 5);
  CHECK(Apply(t / "r", t / "inbox").code() == Code::kDamage);
  const uint64_t stuck = StateOf(t / "r").applied_commit;
  CHECK(Apply(t / "r", t / "inbox").code() == Code::kHalted);
  CHECK(StateOf(t / "r").applied_commit == stuck);  // nothing past the damage, ever
}
