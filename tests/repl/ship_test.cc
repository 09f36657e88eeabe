// ship-wal (specs/REPLICATION_LOG_FLOW.md LOG-1..LOG-4, LOG-17, LOG-22..LOG-26).
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "history/history_file.h"
#include "node/layout.h"
#include "engine/reference_node.h"
#include "node/shipped_position.h"
#include "repl/export.h"
#include "repl/register.h"
#include "node/state.h"
#include "segment/segment.h"
#include "segment/segment_reader.h"
#include "common/coding.h"
#include "support/faulty_fs.h"
#include "support/forwarding_fs.h"
#include "support/read_counting_fs.h"
#include "support/string_file.h"
#include "wal/record_format.h"
#include "wal/record_reader.h"
#include "support/repl_fixture.h"
#include "support/sign_fixture.h"

using namespace aero;
using namespace aero::testing;

TEST_CASE("LOG-1 segments hold whole write sets, contiguous, never the uncommitted tail") {
  TempDir t;
  MakePrimary(t / "p", 200);
  // An uncommitted tail: data records after the last commit record.
  WalBuilder tail(100000);
  tail.Insert("users", "half-written", "{}");
  const std::string wal = t / "p/wal/wal.log";
  const std::string with_tail = ReadFile(wal) + tail.bytes();
  WriteFile(wal, with_tail);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  repl::ShipReport rep;
  REQUIRE(Ship(t / "p", t / "out", 8000, false, &rep).ok());
  // LOG-25: a read-only ship leaves the tail to the next writer's open.
  CHECK(ReadFile(wal) == with_tail);
  REQUIRE(rep.segments.size() > 3);
  uint64_t next = 1;
  for (const auto& s : rep.segments) {
    CHECK(s.first_commit == next);
    next = s.last_commit + 1;
    auto f = PosixFs().OpenRead(t / "out" / s.name());
    auto name = segment::ParseSegmentName(s.name());
    segment::SegmentCheck c = segment::VerifySegment(**f, &*name);
    CHECK(c.state == segment::SegmentState::kValid);
    CHECK(c.header.body_size <= 8000 + 2000);  // closed before passing the limit (one set over at most)
  }
  CHECK(next == 201);
  CHECK(rep.shipped_commit == 200);
}

TEST_CASE("LOG-2 LOG-3 a re-run ships nothing, new commits ship from the saved position") {
  TempDir t;
  MakePrimary(t / "p", 50);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  repl::ShipReport again;
  REQUIRE(Ship(t / "p", t / "out", 16u << 20, false, &again).ok());
  CHECK(again.segments.empty());
  CHECK(again.shipped_commit == 50);
  Write(t / "p", 10, 9);
  repl::ShipReport more;
  REQUIRE(Ship(t / "p", t / "out", 16u << 20, false, &more).ok());
  REQUIRE(more.segments.size() == 1);
  CHECK(more.segments[0].first_commit == 51);
  CHECK(more.segments[0].last_commit == 60);
  CHECK(Segments(t / "out").size() == 2);
  // No temp file is left behind.
  for (auto& e : std::filesystem::directory_iterator(t / "out")) {
    CHECK(e.path().filename().string()[0] != '.');
  }
}

TEST_CASE("LOG-2 each target has its own position: an outbox drained by rsync and an archive") {
  TempDir t;
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "outbox").ok());
  REQUIRE(PosixFs().MakeDir(t / "archive").ok());
  REQUIRE(Ship(t / "p", t / "outbox").ok());
  for (auto& n : Segments(t / "outbox")) std::filesystem::remove(t / "outbox" / n);  // drained
  Write(t / "p", 5, 2);
  repl::ShipReport a, b;
  REQUIRE(Ship(t / "p", t / "outbox", 16u << 20, false, &a).ok());
  REQUIRE(Ship(t / "p", t / "archive", 16u << 20, false, &b).ok());
  CHECK(a.segments.at(0).first_commit == 31);  // the outbox continues
  CHECK(b.segments.at(0).first_commit == 1);   // the archive gets everything
}

TEST_CASE("LOG-4 an identical file under the name is success (a re-ship after a crash)") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  std::filesystem::remove_all(t / "p/replication/shipped");  // lose the position
  repl::ShipReport rep;
  REQUIRE(Ship(t / "p", t / "out", 16u << 20, false, &rep).ok());
  REQUIRE(rep.segments.size() == 1);
  CHECK(rep.segments[0].already_there);
}

// LOG-4, ARC-2: what stands under the name is not a file every reader
// would take: a symlink (to a valid copy, or to nothing) or a directory.
// ship-wal refuses (10), publishes nothing and keeps its position, so the
// range is shipped once the entry is removed; the claim-archive marker too.
TEST_CASE("LOG-4 ARC-2 a symlink or a directory under a segment's name is 10, never a re-ship") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "staging").ok());
  REQUIRE(Ship(t / "p", t / "staging").ok());
  const std::string name = Segments(t / "staging").at(0);
  const std::vector<std::function<void(const std::string&)>> plant = {
      [&](const std::string& at) { std::filesystem::create_symlink(t / "staging" / name, at); },
      [&](const std::string& at) { std::filesystem::create_symlink(t / "nowhere", at); },
      [&](const std::string& at) { std::filesystem::create_directory(at); },
  };
  for (size_t i = 0; i < plant.size(); ++i) {
    CAPTURE(i);
    std::filesystem::remove_all(t / "out");
    std::filesystem::remove_all(t / "p/replication/shipped");
    REQUIRE(PosixFs().MakeDir(t / "out").ok());
    plant[i](t / "out" / name);
    repl::ShipReport rep;
    Status s = Ship(t / "p", t / "out", 16u << 20, false, &rep);
    CHECK(s.code() == Code::kIo);
    CHECK(s.message().find("not a regular file '" + (t / "out" / name) + "'") == 0);
    CHECK_FALSE(s.hint().empty());
    CHECK(rep.segments.empty());
    CHECK(rep.shipped_commit == 0);
    std::filesystem::remove(t / "out" / name);
    REQUIRE(Ship(t / "p", t / "out").ok());  // the range is shipped as a file now
    CHECK(std::filesystem::is_regular_file(std::filesystem::symlink_status(t / "out" / name)));
  }
  // The marker: a link to another archive's marker is no marker.
  REQUIRE(PosixFs().MakeDir(t / "ca").ok());
  REQUIRE(ShipInto(t / "p", t / "staging", 3000, /*claim_archive=*/true).ok());
  std::filesystem::create_symlink(t / "staging" / "claim-archive.json", t / "ca" / "claim-archive.json");
  Status marked = ShipInto(t / "p", t / "ca", 3000, /*claim_archive=*/true);
  CHECK(marked.code() == Code::kIo);
  CHECK(marked.message().find("not a regular file") == 0);
}

TEST_CASE("LOG-4 the same history stored differently (zstd vs plain) is success, not exit 4") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out", 16u << 20, /*zstd=*/true).ok());
  const std::string name = Segments(t / "out").at(0);
  const std::string before = ReadFile(t / "out" / name);
  std::filesystem::remove_all(t / "p/replication/shipped");
  repl::ShipReport rep;
  REQUIRE(Ship(t / "p", t / "out", 16u << 20, false, &rep).ok());
  REQUIRE(rep.segments.size() == 1);
  CHECK(rep.segments[0].already_there);
  CHECK(ToHex(rep.segments[0].sha256) == ToHex(Sha256::Of(before.substr(0, 192) + before.substr(192, before.size() - 192 - 40))));
  CHECK(ReadFile(t / "out" / name) == before);
}

TEST_CASE("LOG-4 a damaged file under the name is exit 1 and is left as it is") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  const std::string name = Segments(t / "out").at(0);
  std::string bytes = ReadFile(t / "out" / name);
  bytes[300] ^= 0x10;  // in the body: its header and seal still agree
  WriteFile(t / "out" / name, bytes);
  std::filesystem::remove_all(t / "p/replication/shipped");
  Status s = Ship(t / "p", t / "out");
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("corrupt segment '" + (t / "out") + "/" + name + "': record damage") == 0);
  CHECK(ReadFile(t / "out" / name) == bytes);
  CHECK(Segments(t / "out").size() == 1);
}

TEST_CASE("LOG-4 a different file under the same name is exit 4 and is never overwritten") {
  TempDir t;
  MakePrimary(t / "p", 20, 1);
  // q: a copy of p (same system id, same commits 1..20) that then writes its
  // own commit 21: two histories, as after a copied data directory.
  std::filesystem::copy(t / "p", t / "q", std::filesystem::copy_options::recursive);
  Write(t / "q", 1, 77);
  Write(t / "p", 1, 78);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "q", t / "out").ok());
  REQUIRE(Segments(t / "out").size() == 1);
  const std::string name = Segments(t / "out").at(0);
  const std::string before = ReadFile(t / "out" / name);
  Status s = Ship(t / "p", t / "out");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message().find("diverged '" + (t / "out") + "/" + name +
                         "': a different file with this name exists (its sha256 ") == 0);
  CHECK(ReadFile(t / "out" / name) == before);
  CHECK(Segments(t / "out").size() == 1);
}

TEST_CASE("MODEL-2 ship-wal refuses on a replica (5) and on a halted node (6)") {
  TempDir t;
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(node::SaveHalt(PosixFs(), t / "p", {"corrupt", "x", "y", 1}).ok());
  CHECK(Ship(t / "p", t / "out").code() == Code::kHalted);
  std::filesystem::remove(t / "p/replication/halt.json");
  auto s = node::LoadState(PosixFs(), t / "p", *node::LoadIdentity(PosixFs(), t / "p"));
  s->role = node::Role::kReplica;
  REQUIRE(node::SaveState(PosixFs(), t / "p", *s).ok());
  Status r = Ship(t / "p", t / "out");
  CHECK(r.code() == Code::kRefused);
  CHECK(r.message() == "refusing to ship '" + (t / "p") + "': this node is a replica");
}

TEST_CASE("ship-wal refuses a target holding another database's segments (5)") {
  TempDir t;
  MakePrimary(t / "p", 5, 1);
  MakePrimary(t / "q", 5, 1);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "q", t / "out").ok());
  Write(t / "p", 3, 4);
  Status s = Ship(t / "p", t / "out");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("foreign file '") == 0);
  CHECK(s.hint() == "this target belongs to another database; ship to the right directory");
}

namespace {

// A real epoch-2 segment of p's database in `out`, as a promoted replica
// writes it: here made by a copy of p promoted with a local claim (its
// segments start after p's last commit, the branch point).
void NewerEpochIn(const TempDir& t) {
  MakePromotedCopy(t / "p", t / "p2");
  Write(t / "p2", 3, 9);
  REQUIRE(PosixFs().MakeDir(t / "out2").ok());
  REQUIRE(Ship(t / "p2", t / "out2").ok());
  for (auto& n : Segments(t / "out2")) std::filesystem::copy(t / "out2" / n, t / "out" / n);
}

}  // namespace

TEST_CASE("LOG-17 a segment of a newer epoch in the target fences the primary") {
  TempDir t;
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  // A stray file with such a name fences nobody: only a valid segment counts.
  WriteFile(t / "out" / segment::SegmentName(2, 4, 9), "whatever");
  REQUIRE(Ship(t / "p", t / "out").ok());
  std::filesystem::remove(t / "out" / segment::SegmentName(2, 4, 9));
  NewerEpochIn(t);
  Write(t / "p", 1, 10);
  Status s = Ship(t / "p", t / "out");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("node is fenced '") == 0);
  CHECK(s.message().find("epoch 2 began after commit 5") != std::string::npos);
  // Fenced for good (MODEL-7): writes refuse too, even with the files gone.
  for (auto& n : Segments(t / "out")) std::filesystem::remove(t / "out" / n);
  auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
  CHECK((*n)->Commit({{engine::Op::Kind::kPut, "c", "x", "{}"}}).status().code() ==
        Code::kRefused);
}

namespace {

// A primary that shipped commits 1..10, then committed 11..15 and
// checkpointed them before shipping them.
void CheckpointedBeforeShipped(const TempDir& t) {
  MakePrimary(t / "p", 10);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  Write(t / "p", 5, 3);
  auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
  REQUIRE((*n)->Checkpoint().ok());
}

// Rewrites every position file under `node`/replication/shipped without
// `last_set`, as ship-wal wrote them before LOG-24.
void StripLastSet(const std::string& node) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(node + "/replication/shipped")) {
    if (e.path().extension() != ".json") continue;  // not the target's lock (LOG-25)
    auto j = nlohmann::json::parse(ReadFile(e.path().string()));
    REQUIRE(j.contains("last_set"));
    j.erase("last_set");
    WriteFile(e.path().string(), j.dump(2) + "\n");
    ++n;
  }
  REQUIRE(n == 1);
}

// p and q: copies of one primary whose commits 11..15 differ. p shipped to
// t/out (position: commit 15); q has more to ship and p's shipped/ in
// place of its own (a directory restored from the wrong copy).
void PositionFromAnotherCopy(const TempDir& t, bool strip_last_set) {
  MakePrimary(t / "p", 10);
  std::filesystem::copy(t / "p", t / "q", std::filesystem::copy_options::recursive);
  Write(t / "p", 5, 2);
  Write(t / "q", 5, 3);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  if (strip_last_set) StripLastSet(t / "p");
  Write(t / "q", 3, 4);
  std::filesystem::remove_all(t / "q/replication/shipped");
  std::filesystem::copy(t / "p/replication/shipped", t / "q/replication/shipped",
                        std::filesystem::copy_options::recursive);
}

}  // namespace

TEST_CASE("LOG-23 commits checkpointed before being shipped: exit 3 unless --restart-at-base") {
  TempDir t;
  CheckpointedBeforeShipped(t);
  Status s = Ship(t / "p", t / "out");
  CHECK(s.code() == Code::kGap);
  CHECK(s.message().find("commits 11..15 were checkpointed before being shipped") !=
        std::string::npos);
  CHECK(s.hint().find("need 'snapshot install'") != std::string::npos);  // SNAP-1
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  o.restart_at_base = true;
  Write(t / "p", 2, 4);
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(PosixFs(), o, &rep).ok());
  CHECK(rep.segments.at(0).first_commit == 16);
}

TEST_CASE("LOG-23 a moved target that holds segments ending below the base is a gap too (3)") {
  TempDir t;
  CheckpointedBeforeShipped(t);  // out: 1..10; p's base is 15
  Write(t / "p", 3, 4);
  // The target moved: its path is new, so no position is saved for it.
  std::filesystem::rename(t / "out", t / "moved");
  Status s = Ship(t / "p", t / "moved");
  CHECK(s.code() == Code::kGap);
  CHECK(s.message().find("commits 11..15 were checkpointed before being shipped") != std::string::npos);
  CHECK(Segments(t / "moved").size() == 1);  // nothing published beside 1..10
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "moved";
  o.restart_at_base = true;
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(PosixFs(), o, &rep).ok());
  CHECK(rep.segments.at(0).first_commit == 16);
  // A new, empty target starts at the base as before: nothing to cross.
  REQUIRE(PosixFs().MakeDir(t / "fresh").ok());
  repl::ShipReport fresh;
  REQUIRE(Ship(t / "p", t / "fresh", 16u << 20, false, &fresh).ok());
  CHECK(fresh.segments.at(0).first_commit == 16);
}

TEST_CASE("ship after a checkpoint continues from the saved position in the new WAL") {
  TempDir t;
  MakePrimary(t / "p", 10);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  Write(t / "p", 4, 5);
  repl::ShipReport rep;
  REQUIRE(Ship(t / "p", t / "out", 16u << 20, false, &rep).ok());
  CHECK(rep.segments.at(0).first_commit == 11);
  CHECK(rep.segments.at(0).last_commit == 14);
}

TEST_CASE("LOG-22 damage in the acknowledged WAL halts the primary (1)") {
  TempDir t;
  MakePrimary(t / "p", 10);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  FlipBitInFile(t / "p/wal/wal.log", 300, 2);
  Status s = Ship(t / "p", t / "out");
  CHECK(s.code() == Code::kDamage);
  CHECK(FileExists(t / "p/replication/halt.json"));
  CHECK(Ship(t / "p", t / "out").code() == Code::kHalted);
}

TEST_CASE("ship-wal: a missing target is exit 9") {
  TempDir t;
  MakePrimary(t / "p", 1);
  CHECK(Ship(t / "p", t / "nope").code() == Code::kNotFound);
}

TEST_CASE("LOG-23 --restart-at-base is remembered even when nothing new is to ship") {
  TempDir t;
  CheckpointedBeforeShipped(t);
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  o.restart_at_base = true;
  REQUIRE(repl::ShipWal(PosixFs(), o, nullptr).ok());
  CHECK(Ship(t / "p", t / "out").ok());  // no longer a gap
}

TEST_CASE("ship-wal: a shipped position ahead of the node is exit 4 (a restored copy)") {
  TempDir t;
  MakePrimary(t / "p", 10);
  std::filesystem::copy(t / "p", t / "old", std::filesystem::copy_options::recursive);
  Write(t / "p", 5, 2);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());  // position 15
  // The node is restored from the older copy, but keeps the newer position.
  std::filesystem::copy(t / "p/replication/shipped", t / "old/replication/shipped",
                        std::filesystem::copy_options::recursive);
  Status s = Ship(t / "old", t / "out");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message().find("shipped position ahead of this node") == 0);
}

// The one shipped-position file of `primary` (replication/shipped/*.json).
static std::string PositionFile(const std::string& primary) {
  std::string name;
  for (const auto& e : std::filesystem::directory_iterator(primary + "/replication/shipped")) {
    if (e.path().extension() == ".json") name = e.path().string();
  }
  REQUIRE(!name.empty());
  return name;
}

TEST_CASE("LOG-24 a shipped position whose commit is not the write set at its offset is 1, the primary not halted") {
  TempDir t;
  MakePrimary(t / "p", 10);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());  // position 10, with last_set
  Write(t / "p", 5, 2);
  const std::string name = PositionFile(t / "p");
  // One digit of bookkeeping changed: offset, digest and last_set still
  // those of commit 10, so the last write set's bytes check out.
  nlohmann::json j = nlohmann::json::parse(ReadFile(name));
  REQUIRE(j.contains("last_set"));
  j["commit"] = 7;
  WriteFile(name, j.dump(2) + "\n");
  const auto before = Segments(t / "out");
  Status s = Ship(t / "p", t / "out");
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message() == "invalid shipped position '" + name +
                           "': the write set ending at byte " +
                           std::to_string(j["wal_offset"].get<uint64_t>()) +
                           " of wal/wal.log is not commit 7");
  CHECK(s.hint().find("remove it to ship from the node's base again") == 0);
  CHECK(Segments(t / "out") == before);  // nothing shipped
  CHECK(!std::filesystem::exists(t / "p/replication/halt.json"));  // the log is sound: not halted
  std::filesystem::remove(name);
  CHECK(Ship(t / "p", t / "out").ok());  // re-shipped from the base: identical files recognised
}

TEST_CASE("FM-12 ship-wal: a shipped position whose digest is not the log's is exit 4") {
  TempDir t;
  MakePrimary(t / "p", 10);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());  // position 10
  Write(t / "p", 5, 2);
  // The position names commit 10 with another history's digest, and no
  // offset to resume from: the scan from base passes commit 10 and compares.
  const std::string name = PositionFile(t / "p");
  nlohmann::json j = nlohmann::json::parse(ReadFile(name));
  std::string digest = j["digest"].get<std::string>();
  digest[0] = digest[0] == '0' ? '1' : '0';
  j["digest"] = digest;
  j["wal_offset"] = 0;
  j.erase("last_set");  // as a position written before LOG-24
  WriteFile(name, j.dump(2) + "\n");
  const auto before = Segments(t / "out");
  Status s = Ship(t / "p", t / "out");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message().find("shipped position disagrees with the log") == 0);
  CHECK(Segments(t / "out") == before);  // nothing shipped
}

TEST_CASE("LOG-24 FM-12 a position written before last_set existed is checked by a scan from the base, once") {
  TempDir t;
  // The chimera of the LOG-24 test, with an old position file: caught by
  // the digest at commit 15, compared as the scan from the base passes it.
  PositionFromAnotherCopy(t, /*strip_last_set=*/true);
  const auto before = Segments(t / "out");
  Status s = Ship(t / "q", t / "out");
  CHECK(s.code() == Code::kDiverged);
  CHECK(Segments(t / "out") == before);
  // p's own old position: the next run reads the whole log from the base
  // (not just from the position), ships on, and saves `last_set`; the run
  // after that resumes at the offset.
  Write(t / "p", 2, 5);
  const uint64_t wal_bytes = std::filesystem::file_size(t / "p/wal/wal.log");
  // Ships p to out; the bytes of wal/wal.log that run read.
  repl::ShipReport rep;
  auto wal_bytes_read = [&] {
    repl::ShipOptions o;
    o.data_dir = t / "p";
    o.target = t / "out";
    ReadCountingFs fs;
    rep = repl::ShipReport{};
    REQUIRE(repl::ShipWal(fs, o, &rep).ok());
    return fs.BytesRead("wal/wal.log");
  };
  CHECK(wal_bytes_read() >= wal_bytes);
  // LOG-30: past the shipped write sets the scan streams the bodies.
  REQUIRE_FALSE(rep.segments.empty());
  for (const repl::ShippedSegment& seg : rep.segments) CHECK(seg.streamed);
  CHECK(Segments(t / "out").size() > before.size());
  Write(t / "p", 2, 6);
  const uint64_t grown = std::filesystem::file_size(t / "p/wal/wal.log");
  CHECK(wal_bytes_read() < grown - wal_bytes + wal_bytes / 2);
}

TEST_CASE("LOG-24 FM-12 a position copied from another copy of the database is caught on resume (4)") {
  TempDir t;
  PositionFromAnotherCopy(t, /*strip_last_set=*/false);
  const auto before = Segments(t / "out");
  Status s = Ship(t / "q", t / "out");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message().find("shipped position disagrees with the log") == 0);
  CHECK(s.message().find("is not the one shipped") != std::string::npos);
  CHECK(Segments(t / "out") == before);  // nothing of q's chained onto p's digest
  // p itself resumes from the same position file and ships on.
  Write(t / "p", 2, 5);
  REQUIRE(Ship(t / "p", t / "out").ok());
  CHECK(Segments(t / "out").size() > before.size());
}

namespace {

// The primary's wal.log with one record changed and its CRC fixed: the
// record that commits `commit` gets `new_commit`, or (new_sequence) the
// first record after commit `commit` gets another sequence number.
void Rewrite(const std::string& dir, uint64_t commit, std::optional<uint64_t> new_commit,
             std::optional<uint64_t> new_sequence) {
  std::string wal = ReadFile(dir + "/wal/wal.log");
  StringFile f(wal);
  wal::RecordReader reader(&f);
  wal::Record rec;
  bool after = false;
  while (reader.Next(&rec)) {
    if (after && new_sequence) {
      EncodeFixed64(wal.data() + rec.offset + wal::kSequenceOffset, *new_sequence);
      FixRecordCrc(&wal, rec.offset);
      break;
    }
    if (rec.type == static_cast<uint8_t>(wal::RecordType::kMvccCommit) &&
        DecodeFixed64(rec.bytes.data() + wal::kPayloadOffset) == commit) {
      if (new_commit) {
        EncodeFixed64(wal.data() + rec.offset + wal::kPayloadOffset, *new_commit);
        FixRecordCrc(&wal, rec.offset);
        break;
      }
      after = true;
    }
  }
  WriteFile(dir + "/wal/wal.log", wal);
}

// Every segment published is valid, and together they hold commits
// 1..last with no gap: nothing apply-wal would refuse.
void CheckPublishedValid(const std::string& dir, uint64_t last) {
  uint64_t next = 1;
  for (const std::string& n : Segments(dir)) {
    auto f = PosixFs().OpenRead(dir + "/" + n);
    REQUIRE(f.ok());
    auto name = segment::ParseSegmentName(n);
    CHECK(segment::VerifySegment(**f, &*name).state == segment::SegmentState::kValid);
    CHECK(name->first_commit == next);
    next = name->last_commit + 1;
  }
  CHECK(next == last + 1);
}

}  // namespace

TEST_CASE("LOG-22 ship-wal publishes no segment apply would refuse: a duplicated CommitId or a sequence jump with good CRCs halts it (1), without a hang") {
  for (int kind : {0, 1}) {
    CAPTURE(kind);
    TempDir t;
    MakePrimary(t / "p", 30);
    if (kind == 0) {
      Rewrite(t / "p", 20, 19, std::nullopt);  // commit 20 says 19 again
    } else {
      Rewrite(t / "p", 20, std::nullopt, 1000);  // the write set after 20 jumps to sequence 1000
    }
    REQUIRE(PosixFs().MakeDir(t / "out").ok());
    repl::ShipReport rep;
    const Status s = Ship(t / "p", t / "out", 2500, false, &rep);
    CAPTURE(s.ToString());
    CHECK(s.code() == Code::kDamage);
    CHECK(s.message().find(kind == 0 ? "commit-order" : "sequence") != std::string::npos);
    // Published: whole segments of the write sets before the damage only.
    const uint64_t good = kind == 0 ? 19 : 20;
    const auto names = Segments(t / "out");
    REQUIRE_FALSE(names.empty());
    const uint64_t last = segment::ParseSegmentName(names.back())->last_commit;
    CHECK(last < good + 1);
    CheckPublishedValid(t / "out", last);
    std::filesystem::remove_all(t / "r");
    CHECK(Apply(t / "r", t / "out").ok());
    // LOG-22: the primary is halted, at the first commit that broke the chain.
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kRead);
    REQUIRE(n.ok());
    REQUIRE((*n)->halt());
    CHECK((*n)->halt()->commit == good + 1);
  }
}

TEST_CASE("LOG-25 a writer loop and a ship loop together: no write refused, the target converges") {
  TempDir t;
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(PosixFs().MakeDir(t / "archive").ok());
  constexpr int kWrites = 200;
  std::atomic<bool> writing{true};
  std::atomic<int> refused_writes{0}, failed_ships{0}, ships_with_segments{0}, ships{0};
  std::string first_failure;
  std::mutex mu;
  auto note = [&](const Status& s) {
    std::lock_guard<std::mutex> l(mu);
    if (first_failure.empty()) first_failure = s.ToString();
  };
  // As `aerodb put` does: open for writing, one write set, close; a run
  // that meets the lock (7) is a refused write.
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
      if (!n.ok()) {
        ++refused_writes;
        note(n.status());
        continue;
      }
      engine::WorkloadOptions w;
      w.write_sets = 1;
      w.seed = 100 + static_cast<uint64_t>(i);
      Status s = engine::RunWorkload(**n, w).status();
      if (s.ok()) s = (*n)->Close();
      if (!s.ok()) {
        ++refused_writes;
        note(s);
      }
    }
    writing = false;
  });
  // Two ship loops to two targets, each as cron would run it.
  auto ship_loop = [&](const std::string& target) {
    while (writing) {
      repl::ShipReport rep;
      Status s = Ship(t / "p", target, 4096, false, &rep);
      ++ships;
      if (!s.ok()) {
        ++failed_ships;
        note(s);
      } else if (!rep.segments.empty()) {
        ++ships_with_segments;
      }
    }
  };
  std::thread shipper_a(ship_loop, t / "out");
  std::thread shipper_b(ship_loop, t / "archive");
  writer.join();
  shipper_a.join();
  shipper_b.join();
  INFO("first failure: " << first_failure);
  MESSAGE("writes " << kWrites << ", refused " << refused_writes.load() << "; ship runs "
                    << ships.load() << ", with segments " << ships_with_segments.load()
                    << ", failed " << failed_ships.load());
  CHECK(refused_writes == 0);
  CHECK(failed_ships == 0);
  CHECK(ships_with_segments > 1);  // ships ran while the writer wrote
  // Converges: one more run ships the rest, and a replica built from each
  // target equals the primary.
  REQUIRE(Ship(t / "p", t / "out", 4096).ok());
  REQUIRE(Ship(t / "p", t / "archive", 4096).ok());
  REQUIRE(Apply(t / "r1", t / "out").ok());
  REQUIRE(Apply(t / "r2", t / "archive").ok());
  CHECK(StateOf(t / "r1").applied_commit == 5 + kWrites);
  CheckSameHistory(t / "p", t / "r1");
  CheckSameHistory(t / "p", t / "r2");
}

TEST_CASE("LOG-25 a second ship-wal to the same target is 7, to another target runs") {
  TempDir t;
  MakePrimary(t / "p", 10);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(PosixFs().MakeDir(t / "other").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  Write(t / "p", 3, 2);
  // Another run to `out` holds its lock.
  auto real = RealPath(t / "out");
  REQUIRE(real.ok());
  const std::string lock = node::ShippedLockPath(t / "p", *real);
  REQUIRE(FileExists(lock));
  auto held = PosixFs().Lock(lock);
  REQUIRE(held.ok());
  const auto before = Segments(t / "out");
  Status s = Ship(t / "p", t / "out");
  CHECK(s.code() == Code::kLocked);
  CHECK(s.message().find("ship in progress") == 0);
  CHECK_FALSE(s.hint().empty());
  CHECK(Segments(t / "out") == before);
  // Neither the writer nor a ship to another target waits for it.
  Write(t / "p", 2, 3);
  CHECK(Ship(t / "p", t / "other").ok());
  held->reset();
  REQUIRE(Ship(t / "p", t / "out").ok());
  CHECK(Segments(t / "out").size() == before.size() + 1);
}

namespace {

// Runs `at_open(n)` before the nth open of wal/wal.log (n from 1); ship-wal
// opens it from two threads, so the hook runs under a lock.
// Checkpoints `dir` once: the reference node renames a new wal.log over the
// one a running ship-wal opened.
void CheckpointOnce(const std::string& dir, bool* done) {
  if (*done) return;
  auto w = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kWrite);
  if (w.ok() && (*w)->Checkpoint().ok()) *done = true;
}

repl::ShipOptions SmallSegments(const std::string& primary, const std::string& target) {
  repl::ShipOptions o;
  o.data_dir = primary;
  o.target = target;
  o.max_segment_bytes = 2000;
  return o;
}

class WalOpenHook final : public ForwardingFs {
 public:
  explicit WalOpenHook(std::function<void(int)> at_open) : at_open_(std::move(at_open)) {}
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& p) override {
    if (p.size() >= 11 && p.substr(p.size() - 11) == "wal/wal.log") {
      std::lock_guard<std::mutex> l(mu_);
      at_open_(++opens_);
    }
    return real_.OpenRead(p);
  }

 private:
  std::mutex mu_;
  std::function<void(int)> at_open_;
  int opens_ = 0;
};

}  // namespace

namespace {

// Calls `before` ahead of each exclusive publish (a segment's rename).
class PublishHook final : public ForwardingFs {
 public:
  explicit PublishHook(std::function<void()> before) : before_(std::move(before)) {}
  Status RenameNoReplace(const std::string& a, const std::string& b) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      before_();
    }
    return real_.RenameNoReplace(a, b);
  }

 private:
  std::mutex mu_;
  std::function<void()> before_;
};

}  // namespace

TEST_CASE("LOG-3 with position_every_bytes = 1 the saved position follows each published segment") {
  TempDir t;
  MakePrimary(t / "p", 60);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  const std::string pos = node::ShippedPositionPath(t / "p", *RealPath(t / "out"));
  // What the position file says just before each segment is published.
  std::vector<uint64_t> saved;
  PublishHook fs([&] {
    auto p = node::LoadShippedPosition(PosixFs(), pos);  // on a publishing thread: no REQUIRE
    saved.push_back(!p.ok() ? UINT64_MAX : *p ? (*p)->commit : 0);
  });
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  o.max_segment_bytes = 2000;
  o.position_every_bytes = 1;
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(fs, o, &rep).ok());
  REQUIRE(rep.segments.size() > 2);
  REQUIRE(saved.size() == rep.segments.size());
  CHECK(saved[0] == 0);  // a new target: no position yet
  for (size_t i = 1; i < saved.size(); ++i) {
    CAPTURE(i);
    CHECK(saved[i] == rep.segments[i - 1].last_commit);
  }
}

TEST_CASE("LOG-1 a write set committed while ship-wal runs is left to the next run") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  // Open 1 is the node's own, 2 the scan: a writer commits in between, so
  // the scan meets a whole write set past the applied commit of its open.
  bool wrote = false;
  WalOpenHook fs([&](int n) {
    if (n != 2) return;
    Write(t / "p", 1, 7);
    wrote = true;
  });
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(fs, o, &rep).ok());
  REQUIRE(wrote);
  CHECK(rep.shipped_commit == 20);
  REQUIRE_FALSE(rep.segments.empty());
  CHECK(rep.segments.back().last_commit == 20);
  CHECK_FALSE(FileExists(t / "p/replication/halt.json"));
  repl::ShipReport next;
  REQUIRE(Ship(t / "p", t / "out", 16u << 20, false, &next).ok());
  REQUIRE(next.segments.size() == 1);
  CHECK(next.segments[0].first_commit == 21);
  CHECK(next.segments[0].last_commit == 21);
}

TEST_CASE("LOG-25 a checkpoint that replaces wal.log while shipping is 7, published segments kept") {
  TempDir t;
  MakePrimary(t / "p", 60);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  // Open 1 is the node's own, 2 the scan, 3 the hashes, 4 and on the
  // segment copies (zstd bodies are compressed from the log; a plain body
  // is the scan's bytes, LOG-30, and reads nothing after the open): the
  // checkpoint comes before the third segment's copy.
  bool checkpointed = false;
  WalOpenHook fs([&](int n) {
    if (n == 6) CheckpointOnce(t / "p", &checkpointed);
  });
  repl::ShipOptions o = SmallSegments(t / "p", t / "out");
  o.zstd = true;
  repl::ShipReport rep;
  Status s = repl::ShipWal(fs, o, &rep);
  REQUIRE(checkpointed);
  CHECK(s.code() == Code::kLocked);
  CHECK(s.message().find("log replaced while shipping") == 0);
  REQUIRE_FALSE(rep.segments.empty());
  CHECK(Segments(t / "out").size() == rep.segments.size());
  // The position names the last published segment.
  CHECK(rep.position_saved);
  CHECK(StateOf(t / "p").base_commit == 60);
  Status again = Ship(t / "p", t / "out");
  CHECK(again.code() == Code::kGap);  // LOG-23: the rest was checkpointed before it was shipped
  CHECK(again.message().find("commits " + std::to_string(rep.shipped_commit + 1) + "..60") !=
        std::string::npos);
}

TEST_CASE("LOG-25 a halt or fence that finds the node lock held is reported not recorded") {
  TempDir t;
  MakePrimary(t / "p", 10);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  FlipBitInFile(t / "p/wal/wal.log", 300, 2);
  {
    // A writer holds the node: the damage is still refused (1), unrecorded.
    auto writer = PosixFs().Lock(t / "p/replication/lock");
    REQUIRE(writer.ok());
    Status s = Ship(t / "p", t / "out");
    CHECK(s.code() == Code::kDamage);
    CHECK(s.message().find("; not recorded: a writer holds") != std::string::npos);
    CHECK_FALSE(FileExists(t / "p/replication/halt.json"));
  }
  // Without the writer, the next run records it.
  CHECK(Ship(t / "p", t / "out").code() == Code::kDamage);
  CHECK(FileExists(t / "p/replication/halt.json"));
}

TEST_CASE("LOG-25 MODEL-7 a fence that finds the node lock held is refused (5), not recorded, then recorded") {
  TempDir t;
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  NewerEpochIn(t);
  {
    auto writer = PosixFs().Lock(t / "p/replication/lock");
    REQUIRE(writer.ok());
    Status s = Ship(t / "p", t / "out");
    CHECK(s.code() == Code::kRefused);
    CHECK(s.message().find("node is fenced") == 0);
    CHECK(s.message().find("; not recorded: a writer holds") != std::string::npos);
    CHECK_FALSE(StateOf(t / "p").fenced.has_value());
  }
  CHECK(Ship(t / "p", t / "out").code() == Code::kRefused);
  CHECK(StateOf(t / "p").fenced.has_value());
}

TEST_CASE("LOG-25 ship-wal fsyncs the log before cutting: a write set it shipped survives the primary's power loss") {
  TempDir t;
  MakePrimary(t / "p", 10);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  const node::NodeState st = StateOf(t / "p");
  // A writer appended write set 11 and died before its fsync (the process,
  // not the machine): the bytes are in the page cache only.
  FaultyFs fs;
  {
    WalBuilder w(st.next_sequence);
    w.Insert("users", "late", "{}").Commit(11);
    auto f = fs.OpenWrite(t / "p/wal/wal.log", OpenMode::kAppend);
    REQUIRE(f.ok());
    REQUIRE((*f)->Append(w.bytes()).ok());
  }
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(fs, o, &rep).ok());
  REQUIRE(rep.shipped_commit == 11);  // the open saw it complete and shipped it
  fs.PowerLoss();
  // What a replica received, the primary still holds after the power cut.
  auto n = engine::ReferenceNode::Open(PosixFs(), t / "p", node::Access::kWrite);
  REQUIRE(n.ok());
  CHECK((*n)->state().applied_commit == 11);
}

TEST_CASE("LOG-26 evacuating a primary whose disk is full: ship-wal and snapshot export to another disk work") {
  TempDir t;
  MakePrimary(t / "p", 60);
  REQUIRE(PosixFs().MakeDir(t / "other").ok());
  REQUIRE(PosixFs().MakeDir(t / "other/out").ok());
  FaultyFs fs;
  fs.DiskFullUnder(t / "p");  // not a byte more fits under the primary
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "other/out";
  o.max_segment_bytes = 4000;
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(fs, o, &rep).ok());
  CHECK(rep.shipped_commit == 60);
  CHECK_FALSE(rep.position_saved);
  CHECK(rep.position_warning.message().find("shipped position not saved") == 0);
  CHECK(rep.position_warning.hint().find("re-ships from commit 0") != std::string::npos);
  const auto published = Segments(t / "other/out");
  CHECK(published.size() == rep.segments.size());
  // Nothing half-written under the primary: no position, no temp file.
  for (const auto& e : std::filesystem::directory_iterator(t / "p/replication/shipped")) {
    CHECK(e.path().extension() == ".lock");
  }
  // The re-run converges: the same ranges, found identical (LOG-4).
  repl::ShipReport again;
  REQUIRE(repl::ShipWal(fs, o, &again).ok());
  REQUIRE(again.segments.size() == rep.segments.size());
  for (const auto& s : again.segments) CHECK(s.already_there);
  CHECK(Segments(t / "other/out") == published);
  // snapshot export -o to the other disk works too.
  repl::ExportOptions e;
  e.data_dir = t / "p";
  e.output = t / "other/p.tar.zst";
  repl::ExportReport erep;
  REQUIRE(repl::ExportSnapshot(fs, e, &erep).ok());
  CHECK(erep.boundary_commit == 60);
  // A replica from either is the primary.
  REQUIRE(Apply(t / "r", t / "other/out").ok());
  CheckSameHistory(t / "p", t / "r");
  // Space again: the position is kept, and the next run reads nothing old.
  fs.DiskFullUnder("");
  repl::ShipReport saved;
  REQUIRE(repl::ShipWal(fs, o, &saved).ok());
  CHECK(saved.position_saved);
  repl::ShipReport none;
  REQUIRE(Ship(t / "p", t / "other/out", 4000, false, &none).ok());
  CHECK(none.segments.empty());
}

TEST_CASE("LOG-24 a ship-wal resume on a long WAL reads what is new, not the history") {
  TempDir t;
  MakePrimary(t / "p", 3000);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  const uint64_t history = std::filesystem::file_size(t / "p/wal/wal.log");
  Write(t / "p", 1, 9);  // one new write set
  const uint64_t grown = std::filesystem::file_size(t / "p/wal/wal.log");
  const uint64_t fresh = grown - history;
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  ReadCountingFs fs;
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(fs, o, &rep).ok());
  REQUIRE(rep.segments.size() == 1);
  // Open-time validation (the last commit record), the last shipped write
  // set (LOG-24), then the new bytes: scanned, copied, and the new last
  // write set hashed for the position. A write set here is under 2 KiB.
  const uint64_t read = fs.BytesRead("wal/wal.log");
  MESSAGE("resume on a " << history << "-byte WAL with " << fresh << " new bytes read " << read
                         << " bytes of it");
  CHECK(read <= 3 * fresh + 4096);
  CHECK(history > 100 * (3 * fresh + 4096));  // the history would show
}

TEST_CASE("LOG-21 LOG-31 a ship-wal with nothing new lists its target once, one that publishes twice") {
  TempDir t;
  MakePrimary(t / "p", 300);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out", 2000).ok());
  // A leftover temp (LOG-31 c) is swept from the same listing.
  const std::string left = segment::SegmentName(1, 9000, 9001);
  WriteFile(t / "out" / ("." + left + ".0123456789abcdef.tmp"), "x");
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  ReadCountingFs idle;
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(idle, o, &rep).ok());
  CHECK(rep.segments.empty());
  CHECK(rep.left_temps_removed == 1);
  CHECK(idle.Listings("/out") == 1);
  CHECK(idle.BytesRead("wal/wal.log") <= wal::kCommitRecordBytes);  // the open's check of the last commit record
  // New write sets: step 7 re-reads the history files after the publish.
  Write(t / "p", 3, 2);
  ReadCountingFs busy;
  REQUIRE(repl::ShipWal(busy, o, &rep).ok());
  CHECK(rep.segments.size() == 1);
  CHECK(busy.Listings("/out") == 2);
}

TEST_CASE("LOG-25 a ship-wal holds its target's lock for the whole run") {
  TempDir t;
  MakePrimary(t / "p", 40);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out", 2000).ok());  // the lock file exists
  Write(t / "p", 20, 2);
  auto real = RealPath(t / "out");
  REQUIRE(real.ok());
  const std::string lock = node::ShippedLockPath(t / "p", *real);
  // While the run reads the log (every open of wal.log after the node's
  // own: zstd bodies open it once per segment), another run to the same
  // target cannot take the lock.
  int tried = 0, refused = 0;
  WalOpenHook fs([&](int n) {
    if (n < 2) return;
    ++tried;
    auto other = PosixFs().Lock(lock);
    if (!other.ok() && other.status().code() == Code::kLocked) ++refused;
  });
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  o.max_segment_bytes = 2000;
  o.zstd = true;
  REQUIRE(repl::ShipWal(fs, o, nullptr).ok());
  REQUIRE(tried > 2);
  CHECK(refused == tried);
  CHECK(PosixFs().Lock(lock).ok());  // released at the end
}

namespace {

// Every entry of `dir`, name to bytes (hidden temp files included).
std::map<std::string, std::string> Log30Files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    out[e.path().filename().string()] = ReadFile(e.path().string());
  }
  return out;
}

Status Log30Ship(Fs& fs, const std::string& p, const std::string& out, uint64_t max_bytes,
                 uint64_t hold, repl::ShipReport* rep = nullptr) {
  repl::ShipOptions o = SmallSegments(p, out);
  o.max_segment_bytes = max_bytes;
  o.stream_hold_bytes = hold;
  return repl::ShipWal(fs, o, rep);
}

}  // namespace

TEST_CASE("LOG-30 a plain segment's body is the scan's bytes: ship-wal reads each log byte once") {
  TempDir t;
  MakePrimary(t / "p", 3000);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  const uint64_t size = std::filesystem::file_size(t / "p/wal/wal.log");
  ReadCountingFs fs;
  repl::ShipReport rep;
  REQUIRE(Log30Ship(fs, t / "p", t / "out", 64u << 10, repl::ShipOptions{}.stream_hold_bytes, &rep).ok());
  REQUIRE(rep.segments.size() > 5);
  // The scan, the open's check of the last commit record and LOG-24's hash
  // of the last write set (under 2 KiB): not a second pass for the copies.
  const uint64_t read = fs.BytesRead("wal/wal.log");
  MESSAGE("ship-wal of a " << size << "-byte log in " << rep.segments.size() << " segments read "
                           << read << " bytes of it");
  CHECK(read >= size);
  CHECK(read <= size + 4096);
  // The segments are what apply takes.
  REQUIRE(Apply(t / "r", t / "out").ok());
  CheckSameHistory(t / "p", t / "r");
  for (const auto& [name, bytes] : Log30Files(t / "out")) CHECK(name[0] != '.');
}

TEST_CASE("LOG-30 streamed and copied bodies are the same bytes, whatever the write-set sizes and the segment limit") {
  TempDir t;
  // Write sets of ~200 KiB, ~0.4 KiB and ~80 KiB, interleaved: held ones,
  // ones that pass the hold limit while they may still join the open
  // segment (copied), and ones known early to start the next: the first of
  // the run (no open segment) and one past the limit.
  MakePrimary(t / "p", 0);
  Write(t / "p", 2, 4, 200, 1000);
  Write(t / "p", 30, 1, 3, 120);
  Write(t / "p", 3, 2, 40, 2000);
  Write(t / "p", 25, 3);
  Write(t / "p", 25, 5);
  struct Shape {
    uint64_t max_bytes, hold;
  };
  for (const Shape& sh : {Shape{1, 1u << 20}, Shape{4096, 1u << 20}, Shape{30000, 5000},
                          Shape{100000, 5000}, Shape{250000, 3000}, Shape{16u << 20, 3000},
                          Shape{16u << 20, 1u << 20}}) {
    CAPTURE(sh.max_bytes);
    CAPTURE(sh.hold);
    std::filesystem::remove_all(t / "copied");
    std::filesystem::remove_all(t / "streamed");
    std::filesystem::remove_all(t / "p/replication/shipped");
    REQUIRE(PosixFs().MakeDir(t / "copied").ok());
    REQUIRE(PosixFs().MakeDir(t / "streamed").ok());
    REQUIRE(Log30Ship(PosixFs(), t / "p", t / "copied", sh.max_bytes, 0).ok());
    std::filesystem::remove_all(t / "p/replication/shipped");
    repl::ShipReport rep;
    REQUIRE(Log30Ship(PosixFs(), t / "p", t / "streamed", sh.max_bytes, sh.hold, &rep).ok());
    CHECK(rep.shipped_commit == 85);
    uint64_t streamed_count = 0;
    for (const repl::ShippedSegment& seg : rep.segments) streamed_count += seg.streamed ? 1 : 0;
    MESSAGE(streamed_count << " of " << rep.segments.size() << " segments streamed");
    if (sh.hold >= (1u << 20)) {
      CHECK(streamed_count == rep.segments.size());  // every write set is under 1 MiB: held
    } else if (sh.max_bytes <= 250000) {
      // The 200 KiB write set that opens the run is known at once to start
      // a segment: streamed although it passes the hold limit.
      REQUIRE_FALSE(rep.segments.empty());
      CHECK(rep.segments[0].first_commit == 1);
      CHECK(rep.segments[0].streamed);
      CHECK(streamed_count < rep.segments.size());  // some were copied
    } else {
      // One segment of everything: a write set over the hold limit that
      // joins it makes it a copy.
      CHECK(streamed_count == 0);
    }
    const auto copied = Log30Files(t / "copied");
    const auto streamed = Log30Files(t / "streamed");
    CHECK(copied.size() == rep.segments.size());
    CHECK(streamed.size() == copied.size());  // no temp file left either
    for (const auto& [name, bytes] : copied) {
      CAPTURE(name);
      auto it = streamed.find(name);
      REQUIRE(it != streamed.end());
      CHECK(it->second == bytes);
    }
  }
}

TEST_CASE("LOG-25 LOG-30 a checkpoint that replaces wal.log during a streamed run: the run ships what the file it opened holds (0)") {
  TempDir t;
  MakePrimary(t / "p", 60);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  // The checkpoint renames a new wal.log over the one the run opened,
  // before the first segment's rename: every later segment's copy would
  // open the new file (7, the test above); a streamed body reads nothing
  // after the open.
  bool checkpointed = false;
  PublishHook fs([&] { CheckpointOnce(t / "p", &checkpointed); });
  repl::ShipOptions o = SmallSegments(t / "p", t / "out");
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(fs, o, &rep).ok());
  REQUIRE(checkpointed);
  CHECK(StateOf(t / "p").base_commit == 60);
  CHECK(rep.shipped_commit == 60);
  REQUIRE(rep.segments.size() > 3);
  for (const repl::ShippedSegment& seg : rep.segments) CHECK(seg.streamed);
  // The next run follows the checkpoint by CommitId: nothing is missing.
  repl::ShipReport again;
  REQUIRE(Ship(t / "p", t / "out", 16u << 20, false, &again).ok());
  CHECK(again.segments.empty());
  REQUIRE(Apply(t / "r", t / "out").ok());
  CHECK(StateOf(t / "r").applied_commit == 60);
  CHECK(StateOf(t / "r").applied_digest == StateOf(t / "p").applied_digest);
}

namespace {

// Calls `after(path)` once a hidden file in the target is opened for
// writing (a temp file), before the run writes to it; `before(path)` ahead
// of the open.
class TempOpenHook final : public ForwardingFs {
 public:
  // How LockDirectory answers: the real flock, a file system that cannot
  // lock a directory (NFS: a null lock), or a failure (EACCES: 10).
  enum class DirLock { kReal, kNone, kFails };
  TempOpenHook(std::function<void(const std::string&)> before, std::function<void(const std::string&)> after,
               DirLock dir_lock = DirLock::kReal)
      : before_(std::move(before)), after_(std::move(after)), dir_lock_(dir_lock) {}
  Result<std::unique_ptr<WritableFile>> OpenWrite(const std::string& p, OpenMode m) override {
    const bool temp = std::filesystem::path(p).filename().string()[0] == '.';
    if (temp && before_) {
      std::lock_guard<std::mutex> l(mu_);
      before_(p);
    }
    Result<std::unique_ptr<WritableFile>> f = real_.OpenWrite(p, m);
    if (temp && after_) {
      std::lock_guard<std::mutex> l(mu_);
      after_(p);
    }
    return f;
  }
  Result<std::unique_ptr<FileLock>> LockDirectory(const std::string& p) override {
    if (dir_lock_ == DirLock::kReal) return real_.LockDirectory(p);
    if (dir_lock_ == DirLock::kNone) return std::unique_ptr<FileLock>();
    return Status(Code::kIo, Problem("cannot open directory", p, "Permission denied"), "check its mode");
  }

 private:
  std::mutex mu_;
  std::function<void(const std::string&)> before_, after_;
  DirLock dir_lock_;
};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TEST_CASE("LOG-3 a symlink planted at a temp file's path is never followed: nothing written through it, no symlink published") {
  TempDir t;
  MakePrimary(t / "p", 20);
  WriteFile(t / "victim", "precious");
  const std::string victim = t / "victim";
  // The temp names carry the run's id (LOG-31): the symlink is planted
  // the moment the run names its temp file, as a racing process would.
  auto plant_at = [&](std::string_view suffix) {
    return [victim, suffix = std::string(suffix)](const std::string& path) {
      if (EndsWith(path, suffix) && !std::filesystem::is_symlink(path)) {
        std::filesystem::remove(path);
        std::filesystem::create_symlink(victim, path);
      }
    };
  };
  // A streamed body's temp path: that segment is copied instead (0).
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  {
    TempOpenHook fs(plant_at(".seg.body.tmp"), nullptr);
    repl::ShipOptions o = SmallSegments(t / "p", t / "out");
    o.max_segment_bytes = 16u << 20;
    repl::ShipReport rep;
    REQUIRE(repl::ShipWal(fs, o, &rep).ok());
    REQUIRE(rep.segments.size() == 1);
    CHECK_FALSE(rep.segments[0].streamed);
    CHECK(std::filesystem::is_regular_file(std::filesystem::symlink_status(t / "out" / rep.segments[0].name())));
    CHECK(ReadFile(t / "victim") == "precious");
  }
  // A copied body's temp path (--zstd): 10 with a hint, nothing published.
  REQUIRE(PosixFs().MakeDir(t / "out2").ok());
  {
    TempOpenHook fs(plant_at(".tmp"), nullptr);
    repl::ShipOptions o = SmallSegments(t / "p", t / "out2");
    o.max_segment_bytes = 16u << 20;
    o.zstd = true;
    Status s = repl::ShipWal(fs, o, nullptr);
    CHECK(s.code() == Code::kIo);
    CHECK(s.message().find("/out2/." + segment::SegmentName(1, 1, 20) + ".") != std::string::npos);
    CHECK_FALSE(s.hint().empty());
    CHECK(Segments(t / "out2").empty());
    CHECK(ReadFile(t / "victim") == "precious");
  }
}

TEST_CASE("LOG-3 a temp file removed by another process before its rename is 10 with a hint, not 9") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  PublishHook fs([&] {
    for (auto& e : std::filesystem::directory_iterator(t / "out")) {
      if (e.path().filename().string()[0] == '.') std::filesystem::remove(e.path());
    }
  });
  Status s = repl::ShipWal(fs, SmallSegments(t / "p", t / "out"), nullptr);
  CHECK(s.code() == Code::kIo);
  CHECK_FALSE(s.hint().empty());
  CHECK(Segments(t / "out").empty());
  REQUIRE(Ship(t / "p", t / "out").ok());  // the re-run publishes
  CHECK_FALSE(Segments(t / "out").empty());
}

TEST_CASE("LOG-31 a run into a directory another run has locked is 7, whatever the path or node") {
  TempDir t;
  MakePrimary(t / "p", 40);
  CopyTree(t / "p", t / "copy");  // another copy of the database: its own node lock
  MakePrimary(t / "q", 40, 7);    // another database
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  std::filesystem::create_directory_symlink(t / "out", t / "out-link");
  {
    // A run that holds the directory (by another path: a bind mount).
    auto held = PosixFs().LockDirectory(t / "out");
    REQUIRE(held.ok());
    Status s = Ship(t / "p", t / "out-link");
    CHECK(s.code() == Code::kLocked);
    CHECK(s.message().find("another ship-wal, or another process, holds a lock on this directory") != std::string::npos);
    CHECK_FALSE(s.hint().empty());
    CHECK(std::filesystem::is_empty(t / "out"));
  }
  {
    // Any other failure to lock the directory is 10, nothing written.
    TempOpenHook fails(nullptr, nullptr, TempOpenHook::DirLock::kFails);
    Status s = repl::ShipWal(fails, SmallSegments(t / "p", t / "out"), nullptr);
    CHECK(s.code() == Code::kIo);
    CHECK(std::filesystem::is_empty(t / "out"));
  }
  // While p's run publishes: the copy's run and q's run are both refused.
  std::vector<Status> others;
  PublishHook fs([&] {
    if (!others.empty()) return;
    others.push_back(Ship(t / "copy", t / "out"));
    others.push_back(Ship(t / "q", t / "out"));
  });
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(fs, SmallSegments(t / "p", t / "out"), &rep).ok());
  REQUIRE(others.size() == 2);
  CHECK(others[0].code() == Code::kLocked);
  CHECK(others[1].code() == Code::kLocked);
  CHECK(rep.directory_lock_warning.ok());
  // The lock ends with the run.
  CHECK(Ship(t / "copy", t / "out").ok());
  REQUIRE(Apply(t / "r", t / "out").ok());
  CheckSameHistory(t / "p", t / "r");
}

TEST_CASE("LOG-31 two runs into one directory without a directory lock never write one file: both exit 0, every segment valid") {
  // Plain: streamed bodies. Copied: --zstd bodies, the claim marker and,
  // where openssl can make a key, the signature sidecars: every temp name
  // the run writes into the target.
  for (const bool copied : {false, true}) {
    CAPTURE(copied);
    TempDir t;
    MakePrimary(t / "p", 60);
    CopyTree(t / "p", t / "copy");
    REQUIRE(PosixFs().MakeDir(t / "out").ok());
    std::optional<KeyFiles> key;
    if (copied && HaveOpenssl()) key = MakeKey(t.path(), "k");
    auto options = [&](const std::string& dir) {
      repl::ShipOptions o = SmallSegments(dir, t / "out");
      o.zstd = o.claim_archive = copied;
      if (key) o.signing_key = key->priv;
      return o;
    };
    // NFS: neither run can lock the directory. The copy's run ships the same
    // history whole while p's run has its first temp file open.
    std::set<std::string> temps, second_temps;
    TempOpenHook plain(nullptr, [&](const std::string& path) {
      second_temps.insert(std::filesystem::path(path).filename().string());
    }, TempOpenHook::DirLock::kNone);
    std::optional<Status> second;
    repl::ShipReport second_rep;
    TempOpenHook fs(nullptr, [&](const std::string& path) {
      temps.insert(std::filesystem::path(path).filename().string());
      if (second) return;
      second = repl::ShipWal(plain, options(t / "copy"), &second_rep);
    }, TempOpenHook::DirLock::kNone);
    repl::ShipReport rep;
    Status first = repl::ShipWal(fs, options(t / "p"), &rep);
    CHECK(first.ok());
    REQUIRE(second.has_value());
    CHECK(second->ok());
    CHECK_FALSE(rep.directory_lock_warning.ok());
    CHECK(rep.directory_lock_warning.message().find("not serialised") != std::string::npos);
    CHECK_FALSE(second_rep.directory_lock_warning.ok());
    REQUIRE(rep.segments.size() > 3);
    CHECK(second_rep.segments.size() == rep.segments.size());
    for (const repl::ShippedSegment& seg : rep.segments) CHECK(seg.already_there);  // the copy's, identical
    // Each run named its own temp files: none is the other's.
    REQUIRE_FALSE(temps.empty());
    REQUIRE_FALSE(second_temps.empty());
    for (const std::string& name : temps) {
      CAPTURE(name);
      CHECK(second_temps.count(name) == 0);
    }
    if (key) {
      bool sidecar_temp = false;
      for (const std::string& name : temps) sidecar_temp |= name.find(".sig.") != std::string::npos;
      CHECK(sidecar_temp);
    }
    for (const std::string& name : Segments(t / "out")) {
      CAPTURE(name);
      auto f = PosixFs().OpenRead(t / "out" / name);
      REQUIRE(f.ok());
      auto parsed = segment::ParseSegmentName(name);
      CHECK(segment::VerifySegment(**f, &*parsed).state == segment::SegmentState::kValid);
    }
    REQUIRE(Apply(t / "r", t / "out").ok());
    CheckSameHistory(t / "p", t / "r");
  }
}

TEST_CASE("LOG-31 temp files earlier runs left are removed under the directory lock and kept without it") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  const std::string seg = segment::SegmentName(1, 1, 20);
  const std::vector<std::string> left = {
      "." + seg + ".tmp",                                            // before run ids
      "." + seg + ".0123456789abcdef.tmp",                           // a crashed run's copy
      ".00000001-0000000000000001.seg.body.tmp",                     // before run ids
      ".00000001-0000000000000015.fedcba9876543210.seg.body.tmp",    // a crashed run's body
      "." + history::HistoryFileName(2) + ".0123456789abcdef.tmp",   // a history file's
      ".claim-archive.json.0123456789abcdef.tmp",                    // the marker's
      "." + seg + ".sig.0123456789abcdef.tmp",                       // a sidecar's
      "." + history::HistoryFileName(2) + ".sig.tmp",                // a sidecar's, before run ids
  };
  const std::vector<std::string> kept = {
      ".keep.tmp", ".seg.tmp", "." + seg + ".0123456789ABCDEF.tmp", "." + seg + ".partial",
      ".00000001-000000000000001.seg.body.tmp", "." + seg + ".0123456789abcdef.tmp.x",
  };
  for (const auto& n : left) WriteFile(t / "out" / n, "left");
  for (const auto& n : kept) WriteFile(t / "out" / n, "someone else's");
  // Not regular files, although named like temp files: kept.
  const std::string dir_temp = "." + seg + ".1111111111111111.tmp", link_temp = "." + seg + ".2222222222222222.tmp";
  REQUIRE(PosixFs().MakeDir(t / "out" / dir_temp).ok());
  WriteFile(t / "victim", "precious");
  std::filesystem::create_symlink(t / "victim", t / "out" / link_temp);
  // A foreign target (5) is left as it is: nothing written, nothing removed.
  MakePrimary(t / "q", 20, 7);
  REQUIRE(PosixFs().MakeDir(t / "foreign").ok());
  REQUIRE(Ship(t / "q", t / "foreign").ok());
  for (const auto& n : left) WriteFile(t / "foreign" / n, "left");
  repl::ShipReport refused;
  CHECK(Ship(t / "p", t / "foreign", 16u << 20, false, &refused).code() == Code::kRefused);
  CHECK(refused.left_temps_removed == 0);
  for (const auto& n : left) CHECK(FileExists(t / "foreign" / n));
  // Without the directory's lock another run may be writing them: kept.
  TempOpenHook nfs(nullptr, nullptr, TempOpenHook::DirLock::kNone);
  repl::ShipReport rep;
  REQUIRE(repl::ShipWal(nfs, SmallSegments(t / "p", t / "out"), &rep).ok());
  CHECK(rep.left_temps_removed == 0);
  for (const auto& n : left) CHECK(FileExists(t / "out" / n));
  // With it: each leftover of ship-wal's shapes goes, nothing else.
  repl::ShipReport again;
  REQUIRE(Ship(t / "p", t / "out", 16u << 20, false, &again).ok());
  CHECK(again.left_temps_removed == left.size());
  for (const auto& n : left) {
    CAPTURE(n);
    CHECK_FALSE(FileExists(t / "out" / n));
  }
  for (const auto& n : kept) {
    CAPTURE(n);
    CHECK(ReadFile(t / "out" / n) == "someone else's");
  }
  CHECK(std::filesystem::is_directory(t / "out" / dir_temp));
  CHECK(std::filesystem::is_symlink(t / "out" / link_temp));
  CHECK(ReadFile(t / "victim") == "precious");
}

TEST_CASE("NODE-13 ship-wal --to, snapshot export --output and --report-to inside the node's data directory are 2, nothing written") {
  TempDir t;
  MakePrimary(t / "p", 5);
  // replication/history exists on a promoted node; any folder under
  // replication/ is refused alike.
  const std::string inside = t / "p/replication/history";
  REQUIRE(PosixFs().MakeDir(inside).ok());
  Status s = Ship(t / "p", inside);
  CHECK(s.code() == Code::kUsage);
  CHECK(s.message() == "refusing to write '" + inside + "': it is inside " + (t / "p") +
                           ", the node's data directory (its snapshots and archives would carry the file, "
                           "and open reads every file of replication/)");
  CHECK(s.hint() == "give --to a place outside the data directory");
  CHECK(std::filesystem::is_empty(inside));
  // Through another path to the same place (a symlink): the same refusal.
  std::filesystem::create_directory_symlink(inside, t / "alias");
  CHECK(Ship(t / "p", t / "alias").code() == Code::kUsage);
  // Content folders too: a file in metadata/schemas/ would be carried by
  // every checkpoint and archive as a schema file; the root itself too.
  for (const std::string& dir : {t / "p/metadata/schemas", t / "p/metadata", t / "p"}) {
    CAPTURE(dir);
    REQUIRE(std::filesystem::is_directory(dir));
    CHECK(Ship(t / "p", dir).code() == Code::kUsage);
    repl::ExportOptions e;
    e.data_dir = t / "p";
    e.output = dir + "/x.tar.zst";
    repl::ExportReport er;
    Status ex = repl::ExportSnapshot(PosixFs(), e, &er);
    CHECK(ex.code() == Code::kUsage);
    CHECK(ex.message().find("refusing to write '" + e.output + "'") == 0);  // the file, not its folder
    CHECK(ex.hint() == "give --output a place outside the data directory");
    CHECK(!std::filesystem::exists(e.output));
    repl::RegisterOptions ro;
    ro.data_dir = t / "p";
    ro.archive = dir;
    CHECK(repl::CheckReportTo(ro).code() == Code::kUsage);
  }
  CHECK(std::filesystem::is_empty(t / "p/metadata/schemas"));
  // Beside the data directory nothing is refused.
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  repl::RegisterOptions ro;
  ro.data_dir = t / "p";
  ro.archive = t / "out";
  CHECK(repl::CheckReportTo(ro).ok());
  CHECK(Ship(t / "p", t / "out").ok());
  CHECK(node::Node::Open(PosixFs(), t / "p", node::Access::kRead).ok());
  // Another node's data directory is as closed as the command's own.
  MakePrimary(t / "q", 1);
  for (const std::string& dir : {t / "q/metadata/schemas", t / "q/replication", t / "q"}) {
    CAPTURE(dir);
    Status other = Ship(t / "p", dir);
    CHECK(other.code() == Code::kUsage);
    CHECK(other.message() == "refusing to write '" + dir + "': it is inside " + (t / "q") +
                                 ", a node's data directory (its snapshots and archives would carry the file, "
                                 "and open reads every file of replication/)");
    repl::ExportOptions e;
    e.data_dir = t / "p";
    e.output = dir + "/x.tar.zst";
    repl::ExportReport er;
    CHECK(repl::ExportSnapshot(PosixFs(), e, &er).code() == Code::kUsage);
    repl::RegisterOptions q;
    q.data_dir = t / "p";
    q.archive = dir;
    CHECK(repl::CheckReportTo(q).code() == Code::kUsage);
  }
  CHECK(std::filesystem::is_empty(t / "q/metadata/schemas"));
}

namespace {

// A transport (mv, rsync --remove-source-files) that takes `watched`, and
// its sidecar when `with_sidecar`, between the publish that finds it there
// and the open that would verify it.
struct OutboxMover final : ForwardingFs {
  std::string watched, moved_to;
  bool with_sidecar = false;
  int moves = 0;
  Status RenameNoReplace(const std::string& a, const std::string& b) override {
    Status s = real_.RenameNoReplace(a, b);
    if (b == watched && moves == 0 && s.code() == Code::kRefused) {  // found there ...
      ++moves;
      std::filesystem::rename(b, moved_to);  // ... and gone before it is opened
      if (with_sidecar) std::filesystem::rename(b + ".sig", moved_to + ".sig");
    }
    return s;
  }
};

}  // namespace

TEST_CASE("LOG-4 a segment a transport moves out of the outbox while it is re-checked is published again, never 9") {
  TempDir t;
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  const std::vector<std::string> names = Segments(t / "out");
  REQUIRE(names.size() == 1);
  // A crash before the position was saved: the next run re-ships the range.
  std::filesystem::remove_all(t / "p/replication/shipped");
  // The transport (mv, rsync --remove-source-files) takes the file between
  // the publish that finds it and the open that would verify it.
  OutboxMover fs;
  fs.watched = t / "out" / names[0];
  fs.moved_to = t / "moved.seg";
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  repl::ShipReport rep;
  Status s = repl::ShipWal(fs, o, &rep);
  CHECK(s.ok());  // before: 9, "cannot open ... No such file or directory"
  CHECK(fs.moves == 1);
  REQUIRE(rep.segments.size() == 1);
  CHECK_FALSE(rep.segments[0].already_there);
  CHECK(ReadFile(t / "out" / names[0]) == ReadFile(t / "moved.seg"));
}

TEST_CASE("LOG-4 SIG-9 a signed segment published again after a transport moved it gets its sidecar first") {
  SignSetup k;
  if (!k.Ready()) return;
  const TempDir& t = k.t;
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  repl::ShipOptions o;
  o.data_dir = t / "p";
  o.target = t / "out";
  o.signing_key = k.a.priv;
  REQUIRE(repl::ShipWal(PosixFs(), o, nullptr).ok());
  const std::vector<std::string> names = Segments(t / "out");
  REQUIRE(names.size() == 1);
  std::filesystem::remove_all(t / "p/replication/shipped");
  // The transport takes the segment and its sidecar between the publish
  // that finds the segment and the open that would verify it.
  OutboxMover fs;
  fs.with_sidecar = true;
  fs.watched = t / "out" / names[0];
  fs.moved_to = t / "moved.seg";
  REQUIRE(repl::ShipWal(fs, o, nullptr).ok());
  CHECK(fs.moves == 1);
  CHECK(std::filesystem::exists(t / "out" / names[0]));
  CHECK(std::filesystem::exists(t / "out" / (names[0] + ".sig")));  // before: published without it
  CHECK(ReadFile(t / "out" / (names[0] + ".sig")) == ReadFile(t / "moved.seg.sig"));
}
