// status (LOG-18): role, position, health; lag in commits, never a clock.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "node/state.h"
#include "repl/status.h"
#include "segment/segment.h"
#include "repl/unhalt.h"
#include "support/read_counting_fs.h"
#include "sign/trust.h"
#include "support/repl_fixture.h"
#include "support/sign_fixture.h"

using namespace aero;
using namespace aero::testing;

TEST_CASE("LOG-18 partition: the replica keeps its position while the lag in commits grows") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "archive").ok());
  REQUIRE(Ship(t / "p", t / "archive").ok());
  REQUIRE(Apply(t / "r", t / "archive").ok());
  auto s0 = repl::GetStatus(PosixFs(), t / "r", std::string(t / "archive"));
  REQUIRE(s0.ok());
  CHECK(s0->inbox->lag == 0);
  // The link to the replica is cut: segments keep arriving in the archive
  // the replica watches, but apply-wal does not run (or cannot reach them).
  uint64_t last_lag = 0;
  for (int round = 1; round <= 3; ++round) {
    Write(t / "p", 10, round);
    REQUIRE(Ship(t / "p", t / "archive").ok());
    auto s = repl::GetStatus(PosixFs(), t / "r", std::string(t / "archive"));
    REQUIRE(s.ok());
    CHECK(s->state.applied_commit == 20);  // still serving reads at 20
    CHECK(s->inbox->lag == 10u * round);
    CHECK(s->inbox->lag > last_lag);
    last_lag = s->inbox->lag;
    CHECK(s->outcome() == Code::kOk);
  }
  // The primary reports each target's lag too.
  auto p = repl::GetStatus(PosixFs(), t / "p", std::nullopt);
  REQUIRE(p->shipped.size() == 1);
  CHECK(p->shipped[0].lag == 0);
  Write(t / "p", 4, 9);
  CHECK(repl::GetStatus(PosixFs(), t / "p", std::nullopt)->shipped[0].lag == 4);
}

TEST_CASE("status: incomplete segments are not counted in the lag") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(Ship(t / "p", t / "in").ok());
  REQUIRE(Apply(t / "r", t / "in").ok());
  Write(t / "p", 5, 3);
  REQUIRE(Ship(t / "p", t / "in").ok());
  auto names = Segments(t / "in");
  TruncateFile(t / "in" / names.back(), 100);  // in transit
  auto s = repl::GetStatus(PosixFs(), t / "r", std::string(t / "in"));
  CHECK(s->inbox->lag == 0);
  CHECK(s->inbox->incomplete_segments == 1);
}

TEST_CASE("ARC-3 status --from a missing inbox is 9 with apply-wal's message and hint") {
  TempDir t;
  MakePrimary(t / "p", 3);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(Ship(t / "p", t / "in").ok());
  REQUIRE(Apply(t / "r", t / "in").ok());
  WriteFile(t / "afile", "x");
  for (const std::string& inbox : {std::string(t / "nowhere"), std::string(t / "afile")}) {
    CAPTURE(inbox);
    auto s = repl::GetStatus(PosixFs(), t / "r", inbox);
    REQUIRE_FALSE(s.ok());
    CHECK(ExitCodeOf(s.status().code()) == 9);
    CHECK(s.status().message() == "inbox not found '" + inbox + "': no such directory");
    CHECK(s.status().hint() == "give the directory the transport delivers segments into");
    CHECK(Apply(t / "r", inbox).message() == s.status().message());  // the same words as apply-wal
  }
}

TEST_CASE("status exit: halted 6, fenced 5, otherwise 0") {
  TempDir t;
  MakePrimary(t / "p", 2);
  CHECK(repl::GetStatus(PosixFs(), t / "p", std::nullopt)->outcome() == Code::kOk);
  REQUIRE(node::SaveHalt(PosixFs(), t / "p", {"corrupt", "x", "y", 1}).ok());
  CHECK(repl::GetStatus(PosixFs(), t / "p", std::nullopt)->outcome() == Code::kHalted);
  std::filesystem::remove(t / "p/replication/halt.json");
  auto st = node::LoadState(PosixFs(), t / "p", *node::LoadIdentity(PosixFs(), t / "p"));
  st->fenced = node::Fenced{2, 1, "arch"};
  REQUIRE(node::SaveState(PosixFs(), t / "p", *st).ok());
  CHECK(repl::GetStatus(PosixFs(), t / "p", std::nullopt)->outcome() == Code::kRefused);
}

TEST_CASE("LOG-19 unhalt: a reason is required, not halted is 'nothing to clear', logged once") {
  TempDir t;
  MakePrimary(t / "p", 2);
  CHECK(repl::Unhalt(PosixFs(), t / "p", "", nullptr).code() == Code::kUsage);
  CHECK(repl::Unhalt(PosixFs(), t / "p", "two\nlines", nullptr).code() == Code::kUsage);
  repl::UnhaltReport rep;
  REQUIRE(repl::Unhalt(PosixFs(), t / "p", "nothing", &rep).ok());
  CHECK_FALSE(rep.cleared);
  REQUIRE(node::SaveHalt(PosixFs(), t / "p", {"diverged", "in/x.seg", "digest", 2}).ok());
  REQUIRE(repl::Unhalt(PosixFs(), t / "p", "checked it", &rep).ok());
  REQUIRE(rep.cleared);
  CHECK(rep.cleared->code == "diverged");
  CHECK_FALSE(FileExists(t / "p/replication/halt.json"));
  const std::string log = ReadFile(t / "p/replication/halt-history.jsonl");
  CHECK(std::count(log.begin(), log.end(), '\n') == 1);
  CHECK(log.find("\"reason\":\"checked it\"") != std::string::npos);
}

TEST_CASE("NODE-9 LOG-19 a halt.json that is not JSON still halts (6), and unhalt clears it") {
  // Empty, cut, not an object; 100,000 levels deep (unhalt once crashed
  // copying it into its history line); over the small-file bound (unhalt
  // once could not clear it).
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string big = "{\"detail\":\"" + std::string(1100000, 'x') + "\"}";
  for (const std::string& text :
       {std::string(), std::string("{\"code\":\"div"), std::string("[1]"), deep, big}) {
    CAPTURE(text.substr(0, 20));
    TempDir t;
    MakePrimary(t / "p", 2);
    WriteFile(t / "p/replication/halt.json", text);
    auto st = repl::GetStatus(PosixFs(), t / "p", std::nullopt);
    REQUIRE(st.ok());
    CHECK(st->outcome() == Code::kHalted);
    auto h = node::LoadHalt(PosixFs(), t / "p");
    REQUIRE(h.ok());
    REQUIRE(h->has_value());
    CHECK((*h)->code == "unknown");
    CHECK((*h)->detail.find(text.size() > 1000000 ? "halt.json cannot be read: file too large"
                                                   : "halt.json cannot be read: invalid node file") == 0);
    repl::UnhaltReport rep;
    REQUIRE(repl::Unhalt(PosixFs(), t / "p", "the file was cut by a full disk", &rep).ok());
    REQUIRE(rep.cleared);
    CHECK_FALSE(FileExists(t / "p/replication/halt.json"));
    // The line records the halt as read, small, with the hash of the bytes.
    const std::string line = ReadFile(t / "p/replication/halt-history.jsonl");
    CHECK(line.size() < 1000);
    const auto logged = nlohmann::json::parse(line);
    CHECK(logged["halt"]["code"] == "unknown");
    CHECK(logged["halt"]["subject"] == t / "p/replication/halt.json");
    CHECK(logged["halt_sha256"] == ToHex(Sha256::Of(text)));
    CHECK(repl::GetStatus(PosixFs(), t / "p", std::nullopt)->outcome() == Code::kOk);
  }
}

TEST_CASE("LOG-19 the same halt cleared twice with two reasons keeps both") {
  TempDir t;
  MakePrimary(t / "p", 2);
  const node::HaltReason h{"corrupt", "in/x.seg", "crc", 3};
  REQUIRE(node::SaveHalt(PosixFs(), t / "p", h).ok());
  REQUIRE(repl::Unhalt(PosixFs(), t / "p", "replaced the segment", nullptr).ok());
  // The same halt again (identical bytes), cleared with another reason.
  REQUIRE(node::SaveHalt(PosixFs(), t / "p", h).ok());
  REQUIRE(repl::Unhalt(PosixFs(), t / "p", "replaced it again, from the archive", nullptr).ok());
  // A re-run that finds the halt logged with its own reason (a crash before
  // halt.json was removed) logs nothing more.
  REQUIRE(node::SaveHalt(PosixFs(), t / "p", h).ok());
  REQUIRE(repl::Unhalt(PosixFs(), t / "p", "replaced it again, from the archive", nullptr).ok());
  const std::string log = ReadFile(t / "p/replication/halt-history.jsonl");
  CHECK(std::count(log.begin(), log.end(), '\n') == 2);
  CHECK(log.find("\"reason\":\"replaced the segment\"") != std::string::npos);
  CHECK(log.find("\"reason\":\"replaced it again, from the archive\"") != std::string::npos);
  // A damaged last line is not this halt, and never an exception.
  WriteFile(t / "p/replication/halt-history.jsonl", log + "{\"halt_sha256\":5,\"reason\":[]}\n");
  REQUIRE(node::SaveHalt(PosixFs(), t / "p", h).ok());
  CHECK(repl::Unhalt(PosixFs(), t / "p", "after damage", nullptr).ok());
}

TEST_CASE("LOG-18 status over an inbox of 10000 segments reads the newest segment's header, not the history") {
  TempDir t;
  MakePrimary(t / "p", 3);
  REQUIRE(PosixFs().MakeDir(t / "in").ok());
  REQUIRE(Ship(t / "p", t / "in").ok());  // one real segment, commits 1..3
  const auto real = Segments(t / "in");
  REQUIRE(real.size() == 1);
  REQUIRE(Apply(t / "r", t / "in").ok());
  // 10000 older segment names beside it, empty (their bytes are never
  // needed: the newest complete segment decides the lag).
  for (uint32_t e = 2; e < 10002; ++e) WriteFile(t / "in" / segment::SegmentName(e, 1, 2), "");
  ReadCountingFs fs;
  auto st = repl::GetStatus(fs, t / "r", std::string(t / "in"));
  REQUIRE(st.ok());
  CHECK(*st->inbox->newest_commit == 3);
  // One header and trailer of the newest segment, and the node's own small
  // files: well under what one read per listed file would cost.
  CHECK(fs.BytesRead(".seg") <= 4096);
  CHECK(fs.Listings("/in") == 1);
  MESSAGE("status read " << fs.BytesRead(".seg") << " bytes of segments, "
                         << fs.BytesRead("") << " bytes in all");
}

TEST_CASE("LOG-18 LOG-20 status --from: an old epoch's segment past the branch point does not hide the new epoch's commits") {
  TempDir t;
  Failover f;
  f.second_replica = true;  // r2: a replica of epoch 1 at commit 30
  MakeFailover(t.path(), f);
  // The old primary wrote 31..45 in epoch 1 (superseded: epoch 2 began at
  // 30) and one segment 1..45 of it reached the archive the replica reads.
  Write(t / "p", 15, 9);
  REQUIRE(PosixFs().MakeDir(t / "side").ok());
  REQUIRE(ShipInto(t / "p", t / "side", 16u << 20).ok());
  const std::vector<std::string> old = Segments(t / "side");
  REQUIRE(old.size() == 1);
  std::filesystem::copy_file(t / "side" / old[0], t / "arch" / old[0]);
  auto s = repl::GetStatus(PosixFs(), t / "r2", std::string(t / "arch"));
  REQUIRE(s.ok());
  REQUIRE(s->inbox);
  CHECK(s->inbox->newest_commit == 40);  // epoch 2's 31..40, what apply-wal applies
  CHECK(s->inbox->lag == 10);
  repl::ApplyReport rep;
  REQUIRE(Apply(t / "r2", t / "arch", &rep).ok());
  CHECK(StateOf(t / "r2").applied_commit == 40);
}

TEST_CASE("LOG-18 LOG-20 status --from never names a superseded segment as the newest") {
  TempDir t;
  Failover f;
  f.after = 0;  // epoch 2 has written nothing yet
  f.second_replica = true;  // r2: a replica of epoch 1 at commit 30
  MakeFailover(t.path(), f);
  // The old primary wrote 31..45 in epoch 1 after epoch 2 began at 30: a
  // segment of only superseded write sets reaches the archive.
  REQUIRE(std::filesystem::create_directory(t / "side"));
  REQUIRE(ShipInto(t / "p", t / "side", 16u << 20).ok());  // 1..30
  Write(t / "p", 15, 9);
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(PosixFs(), {.data_dir = t / "p", .target = t / "side"}, &rep).ok());
  REQUIRE(rep.segments.size() == 1);
  REQUIRE(rep.segments[0].first_commit == 31);
  std::filesystem::copy_file(t / "side" / rep.segments[0].name(), t / "arch" / rep.segments[0].name());
  std::string at_30;
  for (const std::string& n : Segments(t / "arch")) {
    if (segment::ParseSegmentName(n)->last_commit == 30) at_30 = n;
  }
  REQUIRE_FALSE(at_30.empty());
  auto s = repl::GetStatus(PosixFs(), t / "r2", std::string(t / "arch"));
  REQUIRE(s.ok());
  REQUIRE(s->inbox);
  CHECK(s->inbox->newest_commit == 30);
  CHECK(s->inbox->newest_segment == at_30);
  CHECK(s->inbox->lag == 0);
}

TEST_CASE("LOG-18 a history file still being copied into the inbox is in transit for status, as for apply-wal, not damage, and the lag stays") {
  TempDir t;
  Failover f;
  f.second_replica = true;  // r2: a replica of epoch 1 at commit 30; the archive holds epoch 2's 31..40
  MakeFailover(t.path(), f);
  const std::string hist = t / "arch" / history::HistoryFileName(2);
  const std::string whole = ReadFile(hist);
  // Without the file at all: the lag the segments' names and headers give.
  std::filesystem::remove(hist);
  auto without = repl::GetStatus(PosixFs(), t / "r2", std::string(t / "arch"));
  REQUIRE(without.ok());
  REQUIRE(without->inbox);
  REQUIRE(without->inbox->newest_commit);
  // Half copied: the same lag, said in transit, and the exit stays 0.
  WriteFile(hist, whole.substr(0, 10));
  auto s = repl::GetStatus(PosixFs(), t / "r2", std::string(t / "arch"));
  REQUIRE(s.ok());
  CHECK(s->outcome() == Code::kOk);
  CHECK(s->problems.empty());
  REQUIRE(s->in_transit.size() == 1);
  CHECK(s->in_transit[0].code() == Code::kInTransit);
  CHECK(s->in_transit[0].message().find(hist) != std::string::npos);
  REQUIRE(s->inbox);
  CHECK(s->inbox->newest_commit == without->inbox->newest_commit);
  CHECK(s->inbox->lag == without->inbox->lag);
  repl::ApplyReport rep;
  CHECK(Apply(t / "r2", t / "arch", &rep).code() == Code::kInTransit);  // what apply-wal says of it
  // A damaged one (not JSON once complete) is still damage.
  WriteFile(hist, std::string(whole.size(), 'x'));
  auto bad = repl::GetStatus(PosixFs(), t / "r2", std::string(t / "arch"));
  REQUIRE(bad.ok());
  CHECK(bad->outcome() == Code::kDamage);
  CHECK(bad->in_transit.empty());
}

TEST_CASE("SIG-15 status says whether the node requires signatures") {
  TempDir t;
  MakePrimary(t / "r", 3);
  auto before = repl::GetStatus(PosixFs(), t / "r", std::nullopt);
  REQUIRE(before.ok());
  CHECK_FALSE(before->signatures_required);
  CHECK(before->trusted_key_ids.empty());
  if (!HaveOpenssl()) {
    MESSAGE("SKIP: no openssl command");
    return;
  }
  const KeyFiles k = MakeKey(t.path(), "k");
  REQUIRE(PosixFs().MakeDir(t / "r/replication/trusted-keys").ok());
  std::filesystem::copy(k.pub, t / "r/replication/trusted-keys/k.pem");
  auto after = repl::GetStatus(PosixFs(), t / "r", std::nullopt);
  REQUIRE(after.ok());
  CHECK(after->signatures_required);
  CHECK(after->trusted_key_ids.size() == 1);
  CHECK(after->problems.empty());
  // A trust directory that does not load is a problem status reports,
  // with the code every command that loads it gives (SIG-4: 2).
  WriteFile(t / "r/replication/trusted-keys/bad.pem", "not a key\n");
  auto bad = repl::GetStatus(PosixFs(), t / "r", std::nullopt);
  REQUIRE(bad.ok());
  CHECK(bad->outcome() == Code::kUsage);
  CHECK(bad->outcome() == sign::LoadTrustSet(PosixFs(), "", t / "r").status().code());
  // A halt outranks it: the operator must act, not fix a command line.
  WriteFile(t / "r/replication/halt.json",
            "{\"format\":1,\"code\":\"corrupt\",\"commit\":1,\"detail\":\"d\",\"subject\":\"s\"}\n");
  auto halted = repl::GetStatus(PosixFs(), t / "r", std::nullopt);
  REQUIRE(halted.ok());
  CHECK(halted->outcome() == Code::kHalted);
}
