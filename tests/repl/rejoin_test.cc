// rejoin (RECOV-10; FM-59, FM-60): an old primary becomes a replica of the
// lineage only when its history is a prefix of it.
#include <doctest/doctest.h>

#include <filesystem>

#include "repl/promote.h"
#include "repl/rejoin.h"
#include "segment/segment.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

Status RejoinDir(const std::string& dir, const std::string& archive, repl::RejoinReport* rep = nullptr) {
  return repl::Rejoin(PosixFs(), {dir, archive}, rep);
}

}  // namespace

TEST_CASE("RECOV-10 FM-59 an old primary that is a prefix of the lineage rejoins and follows the new primary") {
  TempDir t;
  MakeFailover(t.path());
  // Fenced at its restart check (RECOV-5), before it wrote anything.
  CHECK(ShipInto(t / "p", t / "arch").code() == Code::kRefused);
  REQUIRE(StateOf(t / "p").fenced.has_value());
  repl::RejoinReport rep;
  REQUIRE(RejoinDir(t / "p", t / "arch", &rep).ok());
  CHECK(rep.branch_commit == 30);
  CHECK(rep.lineage_epoch == 2);
  const node::NodeState st = StateOf(t / "p");
  CHECK(st.role == node::Role::kReplica);
  CHECK(st.epoch == 1);
  CHECK_FALSE(st.fenced.has_value());
  CHECK(ReadFile(t / "p/replication/history/00000002.history") == ReadFile(t / "arch/00000002.history"));
  // It now follows epoch 2 with apply-wal, to the new primary's history.
  REQUIRE(Apply(t / "p", t / "arch").ok());
  CHECK(StateOf(t / "p").epoch == 2);
  CheckSameHistory(t / "r", t / "p");
  // A replica is refused, the new primary too (nothing supersedes it).
  CHECK(RejoinDir(t / "p", t / "arch").reason() == "notprimary");
  Status newest = RejoinDir(t / "r", t / "arch");
  CHECK(newest.code() == Code::kRefused);
  CHECK(newest.reason() == "notsuperseded");
}

TEST_CASE("RECOV-10 FM-60 an old primary that wrote past the branch point is refused (4), unchanged") {
  TempDir t;
  MakeFailover(t.path());
  Write(t / "p", 5, 8);  // 31..35 of epoch 1, after the promotion
  const std::string before = ReadFile(t / "p/replication/state.json");
  repl::RejoinReport rep;
  Status s = RejoinDir(t / "p", t / "arch", &rep);
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message() == "diverged '" + (t / "p") +
                           "': commits 31..35 were written after epoch 2 began after commit 30; no replica applies them");
  CHECK(s.hint().find("snapshot install --discard-existing") != std::string::npos);
  CHECK(rep.superseded_from == 31);
  CHECK(rep.superseded_to == 35);
  CHECK(ReadFile(t / "p/replication/state.json") == before);
  CHECK_FALSE(fsys::exists(t / "p/replication/history"));
  // Without the claim archive's marker: not a claim archive (9).
  fsys::remove(t / "arch/claim-archive.json");
  CHECK(RejoinDir(t / "p", t / "arch").code() == Code::kNotFound);
}

TEST_CASE("RECOV-10 a node at the branch commit with another digest is diverged (4)") {
  TempDir t;
  MakePrimary(t / "p", 25);
  fsys::copy(t / "p", t / "q", fsys::copy_options::recursive);  // a copy that went its own way
  Write(t / "p", 5, 3);
  Write(t / "q", 5, 4);  // also at 30, another history
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  REQUIRE(ShipInto(t / "p", t / "arch", 3000, true).ok());
  REQUIRE(Apply(t / "r", t / "arch").ok());
  repl::PromoteOptions o;
  o.data_dir = t / "r";
  o.archive = t / "arch";
  REQUIRE(repl::Promote(PosixFs(), o, nullptr).ok());
  Status s = RejoinDir(t / "q", t / "arch");
  CHECK(s.code() == Code::kDiverged);
  CHECK(s.message().find("diverged at commit 30 '" + (t / "q") + "': the lineage has digest ") == 0);
  CHECK(StateOf(t / "q").role == node::Role::kPrimary);
  // p itself, at the branch commit with the lineage's digest, rejoins.
  CHECK(RejoinDir(t / "p", t / "arch").ok());
}

TEST_CASE("RECOV-10 an old primary behind the branch point rejoins when a segment boundary proves its digest") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  REQUIRE(ShipInto(t / "p", t / "arch", 3000, true).ok());  // segments end at commit 20
  fsys::copy(t / "p", t / "old", fsys::copy_options::recursive);  // backups of p at 20
  fsys::copy(t / "p", t / "old2", fsys::copy_options::recursive);
  Write(t / "p", 10, 9);
  REQUIRE(ShipInto(t / "p", t / "arch").ok());  // 21..30
  REQUIRE(Apply(t / "r", t / "arch").ok());
  repl::PromoteOptions o;
  o.data_dir = t / "r";
  o.archive = t / "arch";
  REQUIRE(repl::Promote(PosixFs(), o, nullptr).ok());  // epoch 2 from commit 30
  Write(t / "r", 5, 5);
  REQUIRE(ShipInto(t / "r", t / "arch").ok());  // 31..35 of epoch 2
  // Commit 20 is no branch point: only the segments around it know H(20),
  // the one ending there (digest_after) and the next (digest_before).
  std::string ends_20, starts_21;
  for (const std::string& n : Segments(t / "arch")) {
    auto info = segment::ParseSegmentName(n);
    REQUIRE(info.has_value());
    if (info->last_commit == 20) ends_20 = n;
    if (info->first_commit == 21) starts_21 = n;
  }
  REQUIRE_FALSE(ends_20.empty());
  REQUIRE_FALSE(starts_21.empty());
  REQUIRE(PosixFs().MakeDir(t / "aside").ok());
  auto aside = [&](const std::string& n) { fsys::rename(t / "arch" / n, t / "aside" / n); };
  auto back = [&](const std::string& n) { fsys::rename(t / "aside" / n, t / "arch" / n); };
  aside(ends_20);
  aside(starts_21);
  Status unprovable = RejoinDir(t / "old", t / "arch");
  CHECK(unprovable.code() == Code::kNotFound);
  CHECK(unprovable.message().find("unprovable '") == 0);
  CHECK(unprovable.message().find("no digest of the lineage at commit 20") != std::string::npos);
  CHECK(StateOf(t / "old").role == node::Role::kPrimary);
  back(ends_20);  // its digest_after proves H(20)
  repl::RejoinReport rep;
  REQUIRE(RejoinDir(t / "old", t / "arch", &rep).ok());
  CHECK(rep.branch_commit == 30);
  CHECK(StateOf(t / "old").role == node::Role::kReplica);
  back(starts_21);
  aside(ends_20);  // the next segment's digest_before proves it as well
  REQUIRE(RejoinDir(t / "old2", t / "arch").ok());
  CHECK(StateOf(t / "old2").role == node::Role::kReplica);
  back(ends_20);
  REQUIRE(Apply(t / "old", t / "arch").ok());  // 21..30 of epoch 1, then 31..35 of epoch 2
  CHECK(StateOf(t / "old").epoch == 2);
  CheckSameHistory(t / "r", t / "old");
}

// An operator trial: the old primary p rejoined, caught up, and was
// promoted again (epoch 3). Its epoch-1 position (commit 30) was resumed:
// it published an epoch-3 segment holding epoch 2's commits 31..40, and
// every replica halted as diverged. Rejoin now removes the positions, and
// a primary never resumes a position below its epoch's branch point.
TEST_CASE("RECOV-10 MODEL-8 a rejoined node promoted again ships only what it created, and holds no old position") {
  for (const bool restored : {false, true}) {
    CAPTURE(restored);
    TempDir t;
    MakeFailover(t.path(), {.second_replica = true});  // p: epoch 1 to 30; r: epoch 2, 31..40 shipped
    CHECK(ShipInto(t / "p", t / "arch").code() == Code::kRefused);  // fenced
    REQUIRE(fsys::exists(t / "p/replication/shipped"));
    fsys::copy(t / "p/replication/shipped", t / "old-shipped", fsys::copy_options::recursive);
    REQUIRE(RejoinDir(t / "p", t / "arch").ok());
    CHECK_FALSE(fsys::exists(t / "p/replication/shipped"));  // a replica ships nothing
    REQUIRE(Apply(t / "p", t / "arch").ok());
    REQUIRE(StateOf(t / "p").applied_commit == 40);
    repl::PromoteOptions po;
    po.data_dir = t / "p";
    po.archive = t / "arch";
    REQUIRE(repl::Promote(PosixFs(), po, nullptr).ok());  // epoch 3 from 40
    // The floor on its own: the epoch-1 position (commit 30) put back, as
    // a directory restored from an older copy would hold it.
    if (restored) fsys::copy(t / "old-shipped", t / "p/replication/shipped", fsys::copy_options::recursive);
    Write(t / "p", 5, 12);
    REQUIRE(ShipInto(t / "p", t / "arch").ok());
    for (const std::string& n : Segments(t / "arch")) {
      const auto info = segment::ParseSegmentName(n);
      REQUIRE(info);
      if (info->epoch == 3) CHECK(info->first_commit == 41);
    }
    // A replica that followed epoch 2 follows epoch 3, not halted.
    REQUIRE(Apply(t / "r2", t / "arch").ok());
    CHECK(StateOf(t / "r2").applied_commit == 45);
    CHECK(StateOf(t / "r2").epoch == 3);
    CheckSameHistory(t / "p", t / "r2");
  }
}
