// check-history (RECOV-8, RECOV-9): one relation per pair of histories,
// each with its own exit code, from digests at commits both sides know.
#include <doctest/doctest.h>

#include <filesystem>

#include "repl/check_history.h"
#include "engine/reference_node.h"
#include "repl/export.h"
#include "repl/promote.h"
#include "support/read_counting_fs.h"
#include "repl/ship.h"
#include "segment/segment.h"
#include "support/repl_fixture.h"
#include "support/sign_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;
using Kind = repl::HistorySide::Kind;

namespace {

repl::CheckHistoryReport Check(Kind ka, const std::string& a, Kind kb, const std::string& b, Fs& fs = PosixFs()) {
  auto r = repl::CheckHistory(fs, {ka, a}, {kb, b});
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("RECOV-8 relations: identical, behind, ahead, diverged, unrelated, unprovable, each its own code") {
  TempDir t;
  MakePrimary(t / "p", 40);
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  REQUIRE(Ship(t / "p", t / "arch", 3000).ok());
  REQUIRE(Apply(t / "r", t / "arch").ok());
  auto r = Check(Kind::kNode, t / "p", Kind::kNode, t / "r");
  CHECK(r.relation == repl::Relation::kIdentical);
  CHECK(repl::RelationCode(r.relation) == Code::kOk);
  CHECK(repl::RelationHint(r, {Kind::kNode, t / "p"}, {Kind::kNode, t / "r"}).empty());
  Write(t / "p", 5, 3);
  r = Check(Kind::kNode, t / "r", Kind::kNode, t / "p");
  CHECK(r.relation == repl::Relation::kBehind);
  CHECK(r.commits == 5);
  CHECK(ExitCodeOf(repl::RelationCode(r.relation)) == 3);
  // Each relation but identical says what it allows next, in the sides' names.
  const std::string behind = repl::RelationHint(r, {Kind::kNode, t / "r"}, {Kind::kNode, t / "p"});
  CHECK(behind.find("apply-wal -D " + (t / "r") + " --from INBOX") != std::string::npos);
  CHECK(behind.find("rejoin -D " + (t / "r")) != std::string::npos);
  CHECK(repl::RelationHint(r, {Kind::kArchive, t / "arch"}, {Kind::kNode, t / "p"})
            .find("is a prefix of '" + (t / "p") + "'") != std::string::npos);
  r = Check(Kind::kNode, t / "p", Kind::kArchive, t / "arch");
  CHECK(r.relation == repl::Relation::kAhead);
  CHECK(r.commits == 5);
  CHECK(ExitCodeOf(repl::RelationCode(r.relation)) == 11);
  CHECK(repl::RelationHint(r, {Kind::kNode, t / "p"}, {Kind::kArchive, t / "arch"})
            .find("snapshot install --discard-existing") != std::string::npos);
  // A copy of p that wrote other write sets after commit 42.
  fsys::copy(t / "p", t / "q", fsys::copy_options::recursive);
  Write(t / "p", 3, 5);
  Write(t / "q", 4, 6);
  r = Check(Kind::kNode, t / "p", Kind::kNode, t / "q");
  CHECK(r.relation == repl::Relation::kDiverged);
  CHECK(r.last_common == 45u);
  CHECK(r.first_differing == 46u);
  CHECK(ExitCodeOf(repl::RelationCode(r.relation)) == 4);
  CHECK(repl::RelationHint(r, {Kind::kNode, t / "p"}, {Kind::kNode, t / "q"})
            .find("are two histories after commit 45: neither can follow the other") != std::string::npos);
  // Against the archive (boundaries only): the divergence lies after 40.
  REQUIRE(PosixFs().MakeDir(t / "qarch").ok());
  REQUIRE(Ship(t / "q", t / "qarch", 3000).ok());
  r = Check(Kind::kArchive, t / "qarch", Kind::kNode, t / "p");
  CHECK(r.relation == repl::Relation::kDiverged);
  CHECK(*r.last_common >= 40);
  CHECK(*r.first_differing <= 49);
  // Another database.
  MakePrimary(t / "other", 3);
  r = Check(Kind::kNode, t / "other", Kind::kNode, t / "p");
  CHECK(r.relation == repl::Relation::kUnrelated);
  CHECK(ExitCodeOf(repl::RelationCode(r.relation)) == 5);
  CHECK(repl::RelationHint(r, {Kind::kNode, t / "other"}, {Kind::kNode, t / "p"}).find("two different databases") !=
        std::string::npos);
  // Unprovable: an archive whose segments do not end where the node does.
  fsys::remove_all(t / "arch2");
  REQUIRE(PosixFs().MakeDir(t / "arch2").ok());
  fsys::remove_all(t / "p/replication/shipped");
  REQUIRE(Ship(t / "p", t / "arch2", 1u << 30).ok());  // one segment, 1..48
  Write(t / "r", 0, 1);
  r = Check(Kind::kNode, t / "r", Kind::kArchive, t / "arch2");  // r at 40, arch2 knows 0 and 48
  CHECK(r.relation == repl::Relation::kUnprovable);
  CHECK(ExitCodeOf(repl::RelationCode(r.relation)) == 9);
  CHECK(r.missing.find("no digest at commit 40 in '" + (t / "arch2") + "'") != std::string::npos);
  CHECK(repl::RelationHint(r, {Kind::kNode, t / "r"}, {Kind::kArchive, t / "arch2"})
            .find("a side that holds that digest") != std::string::npos);
}

TEST_CASE("RECOV-8 check-history --snapshot of a directory is 2 and of a missing file 9, as snapshot install says") {
  TempDir t;
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "dir").ok());
  auto dir = repl::CheckHistory(PosixFs(), {Kind::kNode, t / "p"}, {Kind::kSnapshot, t / "dir"});
  CHECK(dir.status().code() == Code::kUsage);
  CHECK(dir.status().message() == "not an archive '" + (t / "dir") + "': a directory");
  CHECK_FALSE(dir.status().hint().empty());
  auto missing = repl::CheckHistory(PosixFs(), {Kind::kNode, t / "p"}, {Kind::kSnapshot, t / "none.tar"});
  CHECK(missing.status().code() == Code::kNotFound);
}

TEST_CASE("RECOV-8 across a failover: the old primary diverged at the branch point, epochs named") {
  TempDir t;
  MakePrimary(t / "p", 20);
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  REQUIRE(Ship(t / "p", t / "arch", 3000).ok());
  REQUIRE(Apply(t / "r", t / "arch").ok());
  repl::PromoteOptions o;
  o.data_dir = t / "r";
  REQUIRE(repl::Promote(PosixFs(), o, nullptr).ok());
  Write(t / "r", 4, 2);
  Write(t / "p", 2, 9);
  auto r = Check(Kind::kNode, t / "p", Kind::kNode, t / "r");
  CHECK(r.relation == repl::Relation::kDiverged);
  CHECK(r.last_common == 20u);
  CHECK(r.first_differing == 21u);
  CHECK(r.a_epoch == 1);
  CHECK(r.b_epoch == 2);
  // Against the archive, whose epoch-2 segment ends beyond p's last commit
  // (no digest at 22 there): the lineage says p's 21..22 are superseded.
  REQUIRE(Ship(t / "r", t / "arch", 1u << 30).ok());
  r = Check(Kind::kNode, t / "p", Kind::kArchive, t / "arch");
  CHECK(r.relation == repl::Relation::kDiverged);
  CHECK(r.last_common == 20u);
  CHECK(r.first_differing == 21u);
  CHECK(r.a_epoch == 1);
  // A snapshot of the new primary as one side.
  repl::ExportOptions eo;
  eo.data_dir = t / "r";
  eo.output = t / "s.tar";
  eo.zstd = false;
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
  r = Check(Kind::kSnapshot, t / "s.tar", Kind::kNode, t / "r");
  CHECK(r.relation == repl::Relation::kIdentical);
}

TEST_CASE("RECOV-9 check-history of two long histories reads O(log n) digests, and none when they agree at the end") {
  TempDir t;
  MakePrimary(t / "p", 3000);
  fsys::copy(t / "p", t / "q", fsys::copy_options::recursive);
  // Identical: the applied digests decide; no byte of either log is read.
  ReadCountingFs fs;
  auto r = Check(Kind::kNode, t / "p", Kind::kNode, t / "q", fs);
  CHECK(r.relation == repl::Relation::kIdentical);
  CHECK(fs.BytesRead(t / "p/wal/wal.log") <= 25);  // NODE-4's commit record at applied
  CHECK(r.probes == 2);
  // Diverged after 3000: each batch of up to 63 probes is one scan.
  Write(t / "p", 1, 77);
  Write(t / "q", 1, 78);
  r = Check(Kind::kNode, t / "p", Kind::kNode, t / "q");
  CHECK(r.relation == repl::Relation::kDiverged);
  CHECK(r.last_common == 3000u);
  CHECK(r.first_differing == 3001u);
  // 3001 commits: 63-way narrowing needs 2 batches (63 * 63 > 3001), plus
  // the first comparison: probes grow with log n, not n.
  CHECK(r.probes <= 2 + 2 * 63 * 3);
  MESSAGE("check-history probes: " << r.probes << " for 3001 commits");
}

TEST_CASE("RECOV-9 check-history is correct across a checkpoint that truncated one side's log") {
  TempDir t;
  MakePrimary(t / "p", 60);
  fsys::copy(t / "p", t / "q", fsys::copy_options::recursive);
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "q", node::Access::kWrite);
    REQUIRE(n.ok());
    REQUIRE((*n)->Checkpoint().ok());  // q's log now starts after 60
  }
  auto r = Check(Kind::kNode, t / "p", Kind::kNode, t / "q");
  CHECK(r.relation == repl::Relation::kIdentical);
  Write(t / "q", 5, 4);
  r = Check(Kind::kNode, t / "p", Kind::kNode, t / "q");
  CHECK(r.relation == repl::Relation::kBehind);
  CHECK(r.commits == 5);
}

TEST_CASE("SIG-14 check-history with trusted keys refuses an unsigned, a forged and an unknown-key claim with apply-wal's codes") {
  if (!HaveOpenssl()) {
    MESSAGE("SKIP: no openssl command");
    return;
  }
  TempDir t;
  const KeyFiles a = MakeKey(t.path(), "a"), evil = MakeKey(t.path(), "evil");
  REQUIRE(PosixFs().MakeDir(t / "trust").ok());
  REQUIRE(PosixFs().MakeDir(t / "trust-evil").ok());
  std::filesystem::copy(a.pub, t / "trust/a.pem");
  std::filesystem::copy(evil.pub, t / "trust-evil/evil.pem");
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  repl::ShipOptions so;
  so.data_dir = t / "p";
  so.target = t / "arch";
  so.max_segment_bytes = 3000;
  so.signing_key = a.priv;
  so.claim_archive = true;
  REQUIRE(repl::ShipWal(PosixFs(), so, nullptr).ok());
  REQUIRE(Apply(t / "r", t / "arch").ok());
  repl::PromoteOptions po;
  po.data_dir = t / "r";
  po.archive = t / "arch";
  po.signing_key = a.priv;  // SIG-10: the claim is signed
  REQUIRE(repl::Promote(PosixFs(), po, nullptr).ok());
  REQUIRE(FileExists(t / "arch/00000002.history.sig"));

  auto check = [&](const std::string& arch, const std::string& trust) {
    return repl::CheckHistory(PosixFs(), {Kind::kArchive, arch}, {Kind::kNode, t / "r"}, trust);
  };
  auto good = check(t / "arch", t / "trust");
  REQUIRE(good.ok());
  CHECK(good->relation == repl::Relation::kIdentical);
  CHECK(good->signatures_checked);
  REQUIRE(good->signatures.size() == 1);
  CHECK(good->signatures[0].outcome == "signed");
  CHECK(good->signatures[0].path == t / "arch/00000002.history");
  auto plain = check(t / "arch", "");
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->signatures_checked);  // no trust set: nothing judged

  SUBCASE("unsigned claim: in transit, 8") {
    REQUIRE(PosixFs().Remove(t / "arch/00000002.history.sig").ok());
    auto r = check(t / "arch", t / "trust");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInTransit);
    CHECK(r.status().message().find("00000002.history") != std::string::npos);
  }
  SUBCASE("forged claim (the file changed, the sidecar kept): bad signature, 1") {
    std::string bytes = ReadFile(t / "arch/00000002.history");
    bytes[bytes.size() / 2] ^= 1;
    WriteFile(t / "arch/00000002.history", bytes);
    auto r = check(t / "arch", t / "trust");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kDamage);
    CHECK(r.status().message().find("bad signature") != std::string::npos);
  }
  SUBCASE("a key the reader does not trust: 5") {
    auto r = check(t / "arch", t / "trust-evil");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kRefused);
  }
}

// RECOV-9: an archive side knows H(b_E) from each history file, so its last
// known commit is at least b_E. An operator trial's pruned archive held the
// history file of epoch 2 and only the old epoch's superseded segments, and
// check-history called the new primary ahead of commit 0.
TEST_CASE("RECOV-9 an archive side knows the branch digest of its history files") {
  TempDir t;
  const std::string root = t.path();
  MakeSupersededTail(root, {.ship_after = false});  // epoch 1's 31..35 superseded; r at 40 of epoch 2, unshipped
  // Only the history files, the marker and the superseded segments.
  REQUIRE(PosixFs().MakeDir(root + "/only").ok());
  for (const auto& e : std::filesystem::directory_iterator(root + "/arch")) {
    const std::string n = e.path().filename().string();
    const auto info = segment::ParseSegmentName(n);
    if (info && (info->epoch != 1 || info->first_commit <= 30)) continue;
    std::filesystem::copy(e.path(), root + "/only/" + n);
  }
  REQUIRE_FALSE(Segments(root + "/only").empty());
  auto r = Check(Kind::kNode, root + "/r", Kind::kArchive, root + "/only");
  CHECK(r.relation == repl::Relation::kAhead);
  CHECK(r.b.last_commit == 30u);
  CHECK(r.commits == 10u);
}
