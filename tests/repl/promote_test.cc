// promote (specs/REPLICATION_MODEL.md MODEL-6, MODEL-8; FM-41..FM-43,
// FM-49, FM-55, FM-57) and the history copies it leaves (RECOV-2).
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "history/history_file.h"
#include "node/layout.h"
#include "node/permit.h"
#include "repl/promote.h"
#include "support/faulty_fs.h"
#include "support/read_counting_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

history::SystemId SystemOf(const std::string& dir) {
  auto id = node::LoadIdentity(PosixFs(), dir);
  REQUIRE(id.ok());
  return id->system_id;
}

// A primary p with `n` write sets shipped into the claim archive `arch`
// (marked, HFILE-5), and a replica r that applied them all.
void Setup(const TempDir& t, uint64_t n = 30) {
  MakePrimary(t / "p", n);
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  WriteFile(t / "arch" / std::string(history::kClaimArchiveMarker),
            history::EncodeClaimArchiveMarker(SystemOf(t / "p")));
  REQUIRE(Ship(t / "p", t / "arch", 4000).ok());
  REQUIRE(Apply(t / "r", t / "arch").ok());
}

Status PromoteDir(const std::string& dir, const std::optional<std::string>& archive,
                  repl::PromoteReport* rep = nullptr, bool discard = false) {
  repl::PromoteOptions o;
  o.data_dir = dir;
  o.archive = archive;
  o.discard_after_applied = discard;
  return repl::Promote(PosixFs(), o, rep);
}

history::HistoryFile ReadHistory(const std::string& path, uint32_t epoch, const history::SystemId& sys) {
  auto h = history::DecodeHistoryFile(ReadFile(path), epoch, sys, path);
  REQUIRE(h.ok());
  return *h;
}

}  // namespace

TEST_CASE("MODEL-8 FM-41 promote a healthy replica: epoch 2, its history file claimed, writes from the branch commit") {
  TempDir t;
  Setup(t);
  const node::NodeState before = StateOf(t / "r");
  repl::PromoteReport rep;
  REQUIRE(PromoteDir(t / "r", t / "arch", &rep).ok());
  CHECK(rep.epoch == 2);
  CHECK(rep.branch_commit == 30);
  CHECK(rep.branch_digest == before.applied_digest);
  CHECK_FALSE(rep.local);
  CHECK_FALSE(rep.resumed);
  const history::SystemId sys = SystemOf(t / "r");
  const history::HistoryFile h = ReadHistory(t / "arch/00000002.history", 2, sys);
  CHECK(h.branch_commit == 30);
  CHECK(h.branch_digest == before.applied_digest);
  CHECK(h.lineage == std::vector<history::LineageEntry>{{1, 0}, {2, 30}});
  // MODEL-8 step 5: the node's copy is the archive's file, byte for byte.
  CHECK(ReadFile(t / "r/replication/history/00000002.history") == ReadFile(t / "arch/00000002.history"));
  const node::NodeState after = StateOf(t / "r");
  CHECK(after.role == node::Role::kPrimary);
  CHECK(after.epoch == 2);
  CHECK_FALSE(after.promoting);
  CHECK(after.applied_commit == 30);
  // No temp file is left in the claim archive.
  for (const auto& e : fsys::directory_iterator(t / "arch")) {
    CHECK(e.path().filename().string()[0] != '.');
  }
  // The new primary writes from b_E + 1.
  Write(t / "r", 3, 9);
  CHECK(StateOf(t / "r").applied_commit == 33);
  // promote again: already the primary.
  Status again = PromoteDir(t / "r", t / "arch");
  CHECK(again.code() == Code::kRefused);
  CHECK(again.reason() == "isprimary");
}

TEST_CASE("MODEL-6 FM-42 two replicas promote against one claim archive: exactly one wins") {
  TempDir t;
  Setup(t, 12);
  fsys::copy(t / "r", t / "r0", fsys::copy_options::recursive);
  fsys::copy(t / "arch", t / "arch0", fsys::copy_options::recursive);
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    for (const char* d : {"a", "b"}) CopyTree(t / "r0", t / d);
    CopyTree(t / "arch0", t / "arch");
    Status sa, sb;
    std::atomic<bool> go{false};
    std::thread ta([&] {
      while (!go) {}
      sa = PromoteDir(t / "a", t / "arch");
    });
    std::thread tb([&] {
      while (!go) {}
      sb = PromoteDir(t / "b", t / "arch");
    });
    go = true;
    ta.join();
    tb.join();
    REQUIRE(sa.ok() != sb.ok());
    const Status& lost = sa.ok() ? sb : sa;
    const std::string loser = sa.ok() ? t / "b" : t / "a";
    const std::string winner = sa.ok() ? t / "a" : t / "b";
    CHECK(lost.code() == Code::kRefused);
    CHECK(lost.reason() == "claimed");
    // The loser says who won: the winner's claimant, in its history copy.
    const std::string winner_claim = ReadFile(winner + "/replication/history/00000002.history");
    const std::string claimant = winner_claim.substr(winner_claim.find("\"claimant\":\"") + 12, 32);
    CHECK(lost.message() == "epoch already claimed '" + (t / "arch/00000002.history") +
                                "': another node owns epoch 2 (claimant " + claimant + ", branch commit 12)");
    // The loser stays a replica, its intent cleared (FM-42).
    const node::NodeState l = StateOf(loser);
    CHECK(l.role == node::Role::kReplica);
    CHECK(l.epoch == 1);
    CHECK_FALSE(l.promoting);
    CHECK_FALSE(fsys::exists(loser + "/replication/history/00000002.history"));
    // The archive's file is the winner's claim.
    CHECK(ReadFile(t / "arch/00000002.history") == ReadFile(winner + "/replication/history/00000002.history"));
    CHECK(StateOf(winner).epoch == 2);
  }
}

TEST_CASE("MODEL-8 FM-49 promote refuses while the archive holds commits beyond applied (5 behind)") {
  TempDir t;
  Setup(t);
  Write(t / "p", 10, 3);
  REQUIRE(Ship(t / "p", t / "arch", 4000).ok());
  Status s = PromoteDir(t / "r", t / "arch");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.reason() == "behind");
  CHECK(s.message() == "refusing to promote '" + (t / "r") +
                           "': the archive holds commits through 40, this node applied 30");
  CHECK(s.hint() == "run apply-wal first, or pass --discard-after-applied to abandon commits 31..40");
  CHECK(StateOf(t / "r").role == node::Role::kReplica);
  CHECK_FALSE(StateOf(t / "r").promoting);
  CHECK_FALSE(fsys::exists(t / "arch/00000002.history"));
  repl::PromoteReport rep;
  REQUIRE(PromoteDir(t / "r", t / "arch", &rep, /*discard=*/true).ok());
  CHECK(rep.abandoned_commits == 10);
  CHECK(rep.branch_commit == 30);
}

TEST_CASE("MODEL-8 FM-57 promote needs the claim-archive marker of its system") {
  TempDir t;
  Setup(t);
  fsys::remove(t / "arch" / std::string(history::kClaimArchiveMarker));
  Status s = PromoteDir(t / "r", t / "arch");
  CHECK(s.code() == Code::kNotFound);
  CHECK(s.message() == "not a claim archive '" + (t / "arch") + "': no claim-archive.json");
  WriteFile(t / "arch" / std::string(history::kClaimArchiveMarker),
            history::EncodeClaimArchiveMarker(*history::ParseSystemId("ffffffffffffffffffffffffffffffff")));
  s = PromoteDir(t / "r", t / "arch");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("foreign claim archive") == 0);
  // Nothing changed on the node: no intent.
  CHECK_FALSE(StateOf(t / "r").promoting);
  CHECK(StateOf(t / "r").role == node::Role::kReplica);
}

TEST_CASE("MODEL-8 FM-55 promote without a claim archive is a local claim") {
  TempDir t;
  Setup(t);
  repl::PromoteReport rep;
  REQUIRE(PromoteDir(t / "r", std::nullopt, &rep).ok());
  CHECK(rep.local);
  CHECK(rep.epoch == 2);
  CHECK(rep.history_file == t / "r/replication/history/00000002.history");
  CHECK_FALSE(fsys::exists(t / "arch/00000002.history"));
  CHECK(StateOf(t / "r").role == node::Role::kPrimary);
}

TEST_CASE("MODEL-8 a promote interrupted after its intent is finished by the re-run, or lost to a rival") {
  TempDir t;
  Setup(t, 8);
  fsys::copy(t / "r", t / "r2", fsys::copy_options::recursive);
  // r crashed after step 3: the intent is in state.json.
  auto put_intent = [&](const std::string& dir, uint8_t fill) {
    auto n = node::Node::Open(PosixFs(), dir, node::Access::kWrite);
    REQUIRE(n.ok());
    history::Claimant c;
    c.fill(fill);
    REQUIRE((*n)->RecordIntent(node::IntentAt((*n)->state(), c)).ok());
    REQUIRE((*n)->Close().ok());
  };
  put_intent(t / "r", 0xab);
  // S8 refuses apply and writes, with the hint naming the re-run.
  Status applied = Apply(t / "r", t / "arch");
  CHECK(applied.code() == Code::kRefused);
  CHECK(applied.reason() == "promoting");
  repl::PromoteReport rep;
  REQUIRE(PromoteDir(t / "r", t / "arch", &rep).ok());
  CHECK(rep.resumed);
  const history::HistoryFile h = ReadHistory(t / "arch/00000002.history", 2, SystemOf(t / "r"));
  std::string abab;
  for (int i = 0; i < 16; ++i) abab += "ab";
  CHECK(history::ClaimantToHex(h.claimant) == abab);  // the stored claimant, not a new one
  // r2 also crashed after its intent, with another claimant: its re-run
  // finds epoch 2 claimed by r, drops its intent and stays a replica.
  put_intent(t / "r2", 0x11);
  // ... killed between its temp file and the publish: the temp is its own.
  std::string ones;
  for (int i = 0; i < 16; ++i) ones += "11";
  const std::string temp = t / ("arch/.00000002.history." + ones + ".tmp");
  WriteFile(temp, "partial");
  Status lost = PromoteDir(t / "r2", t / "arch");
  CHECK(lost.reason() == "claimed");
  CHECK_FALSE(fsys::exists(temp));  // MODEL-8: removed with the intent
  CHECK_FALSE(StateOf(t / "r2").promoting);
  CHECK(StateOf(t / "r2").role == node::Role::kReplica);
  CHECK(Apply(t / "r2", t / "arch").ok());  // a replica again
}

TEST_CASE("RECOV-2 an epoch without its history file refuses to open (1)") {
  TempDir t;
  Setup(t, 5);
  REQUIRE(PromoteDir(t / "r", t / "arch").ok());
  const std::string copy = t / "r/replication/history/00000002.history";
  const std::string bytes = ReadFile(copy);
  fsys::remove(copy);
  auto n = node::Node::Open(PosixFs(), t / "r", node::Access::kRead);
  REQUIRE_FALSE(n.ok());
  CHECK(n.status().code() == Code::kDamage);
  CHECK(n.status().message() == "invalid node file '" + (t / "r/replication/state.json") +
                                    "': epoch 2 without its history file replication/history/00000002.history");
  // A damaged copy is damage too; the intact one opens.
  std::string flipped = bytes;
  flipped[40] = static_cast<char>(flipped[40] ^ 4);
  WriteFile(copy, flipped);
  CHECK(node::Node::Open(PosixFs(), t / "r", node::Access::kRead).status().code() == Code::kDamage);
  WriteFile(copy, bytes);
  CHECK(node::Node::Open(PosixFs(), t / "r", node::Access::kRead).ok());
  // A copy of an epoch above the node's, of the same lineage, is allowed;
  // a gap in the copies is not.
  history::HistoryFile e3 = ReadHistory(copy, 2, SystemOf(t / "r"));
  e3.epoch = 3;
  e3.lineage.push_back({3, e3.branch_commit});
  WriteFile(t / "r/replication/history/00000003.history", history::EncodeHistoryFile(e3));
  CHECK(node::Node::Open(PosixFs(), t / "r", node::Access::kRead).ok());
  fsys::remove(copy);
  CHECK(node::Node::Open(PosixFs(), t / "r", node::Access::kRead).status().code() == Code::kDamage);
}

TEST_CASE("RECOV-6 a copy from before its promotion cannot promote again") {
  TempDir t;
  Setup(t, 10);
  fsys::copy(t / "r", t / "r_old", fsys::copy_options::recursive);  // a backup, before promote
  REQUIRE(PromoteDir(t / "r", t / "arch").ok());
  // The backup is restored somewhere and promoted: its old self owns epoch 2.
  Status s = PromoteDir(t / "r_old", t / "arch");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.reason() == "claimed");
  CHECK(StateOf(t / "r_old").role == node::Role::kReplica);
  CHECK_FALSE(StateOf(t / "r_old").promoting);
}

TEST_CASE("MODEL-8 promote reads no more of the log than the last commit record, whatever its length") {
  TempDir t;
  MakePrimary(t / "p", 0);
  Write(t / "p", 3000, 4, 4, 400);  // a log of several MiB
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  WriteFile(t / "arch" / std::string(history::kClaimArchiveMarker),
            history::EncodeClaimArchiveMarker(SystemOf(t / "p")));
  REQUIRE(Ship(t / "p", t / "arch").ok());
  REQUIRE(Apply(t / "r", t / "arch").ok());
  const uint64_t log_bytes = fsys::file_size(t / "r/wal/wal.log");
  REQUIRE(log_bytes > (4u << 20));
  ReadCountingFs fs;
  repl::PromoteOptions o;
  o.data_dir = t / "r";
  o.archive = t / "arch";
  REQUIRE(repl::Promote(fs, o, nullptr).ok());
  const uint64_t read = fs.BytesRead("wal/wal.log");
  MESSAGE("promote on a " << log_bytes << "-byte log read " << read << " bytes of it");
  CHECK(read <= 25);  // NODE-4: the commit record at applied.wal_offset
}

TEST_CASE("MODEL-8 promote refuses a claimed epoch before it writes anything") {
  TempDir t;
  Setup(t, 6);
  fsys::copy(t / "r", t / "r2", fsys::copy_options::recursive);
  REQUIRE(PromoteDir(t / "r", t / "arch").ok());
  // r2 reads the archive's history files first (step 2): the refusal comes
  // before an intent is written, or a temp file made in the archive.
  uint64_t open_steps = 0;  // what opening the node for writing costs (NODE-6's syncs)
  {
    FaultyFs fs;
    auto n = node::Node::Open(fs, t / "r2", node::Access::kWrite);
    REQUIRE(n.ok());
    REQUIRE((*n)->Close().ok());
    open_steps = fs.steps();
  }
  FaultyFs fs;
  repl::PromoteOptions o;
  o.data_dir = t / "r2";
  o.archive = t / "arch";
  Status s = repl::Promote(fs, o, nullptr);
  CHECK(s.reason() == "claimed");
  CHECK(fs.steps() == open_steps);  // no write, fsync, rename or unlink beyond the open's
}
