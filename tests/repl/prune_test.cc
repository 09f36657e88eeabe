// prune and replica registrations (specs/REPLICATION_RETENTION.md RET-1..
// RET-12, formats/archive-directory.md ARC-5).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "archive/registration.h"
#include "history/history_file.h"
#include "repl/export.h"
#include "repl/install.h"
#include "repl/prune.h"
#include "repl/register.h"
#include "repl/verify.h"
#include "crypto/decrypting_fs.h"
#include "crypto/encrypted_file.h"
#include "repl/ship.h"
#include "support/repl_fixture.h"
#include "support/sign_fixture.h"

using namespace aero;
using namespace aero::testing;

namespace {

// `snapshot export -o ARCHIVE/NAME` of `node` (plain: fast to read).
void ExportInto(const std::string& node, const std::string& path) {
  repl::ExportOptions eo;
  eo.data_dir = node;
  eo.output = path;
  eo.zstd = false;
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
}

// A primary p shipping small segments into `arch`, with snapshot archives
// snap-30.tar (boundary 30) and snap-60.tar (boundary 60); commits 1..90
// shipped.
void MakeArchive(const std::string& root) {
  MakePrimary(root + "/p", 30);
  REQUIRE(PosixFs().MakeDir(root + "/arch").ok());
  REQUIRE(ShipInto(root + "/p", root + "/arch").ok());
  ExportInto(root + "/p", root + "/arch/snap-30.tar");
  Write(root + "/p", 30, 2, 3, 120);
  REQUIRE(ShipInto(root + "/p", root + "/arch").ok());
  ExportInto(root + "/p", root + "/arch/snap-60.tar");
  Write(root + "/p", 30, 3, 3, 120);
  REQUIRE(ShipInto(root + "/p", root + "/arch").ok());
}

repl::PruneReport Prune(const std::string& arch, uint64_t keep, bool dry_run = false,
                        Code want = Code::kOk) {
  repl::PruneOptions o;
  o.archive = arch;
  o.keep_snapshots = keep;
  o.dry_run = dry_run;
  repl::PruneReport rep;
  Status s = repl::Prune(PosixFs(), o, &rep);
  CAPTURE(s.ToString());
  REQUIRE(s.code() == want);
  return rep;
}

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename());
  return out;
}

// The segments of `dir` by (first, last) commit, from their names.
std::vector<segment::SegmentNameInfo> Ranges(const std::string& dir) {
  std::vector<segment::SegmentNameInfo> out;
  for (const std::string& n : Segments(dir)) out.push_back(*segment::ParseSegmentName(n));
  return out;
}

void Register(const std::string& replica, const std::string& arch, const std::string& name) {
  repl::RegisterOptions o;
  o.data_dir = replica;
  o.archive = arch;
  o.name = name;
  Status s = repl::RegisterReplica(PosixFs(), o, nullptr);
  CAPTURE(s.ToString());
  REQUIRE(s.ok());
}

Code VerifyDir(const std::string& dir) {
  auto r = repl::Verify(PosixFs(), dir, {});
  REQUIRE(r.ok());
  return r->outcome();
}

// A replica installed from `archive_file`, then applying from `inbox`.
void InstallAndApply(const std::string& archive_file, const std::string& dir, const std::string& inbox,
                     uint64_t want_commit) {
  repl::InstallOptions io;
  io.data_dir = dir;
  io.archive = archive_file;
  REQUIRE(repl::InstallSnapshot(PosixFs(), io, nullptr).ok());
  Status s = Apply(dir, inbox);
  CAPTURE(s.ToString());
  REQUIRE(s.ok());
  CHECK(StateOf(dir).applied_commit == want_commit);
}

}  // namespace

TEST_CASE("ARC-5 a registration round-trips and every damage is refused") {
  archive::Registration r;
  r.name = "replica-a";
  r.system_id = *history::ParseSystemId("00112233445566778899aabbccddeeff");
  r.host = "db2";
  r.data_dir = "/srv/replica";
  r.epoch = 3;
  r.applied_commit = 4711;
  r.applied_digest[0] = 0xab;
  const std::string bytes = archive::EncodeRegistration(r);
  auto back = archive::DecodeRegistration(bytes, "replica-a", "f");
  REQUIRE(back.ok());
  CHECK(back->applied_commit == 4711);
  CHECK(back->applied_digest == r.applied_digest);
  CHECK(back->epoch == 3);
  CHECK(back->host == "db2");
  CHECK(back->data_dir == "/srv/replica");
  CHECK(back->system_id == r.system_id);
  // The name inside must be the file's.
  CHECK(archive::DecodeRegistration(bytes, "other", "f").status().code() == Code::kDamage);
  // Every single-byte change is damage (checksum, canonical form, JSON).
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string b = bytes;
    b[i] = static_cast<char>(b[i] ^ 0x01);
    CAPTURE(i);
    CHECK(archive::DecodeRegistration(b, "replica-a", "f").status().code() == Code::kDamage);
  }
  // Every cut is damage too (written atomically: a cut is a bad copy).
  for (size_t n = 0; n < bytes.size(); ++n) {
    CHECK(archive::DecodeRegistration(bytes.substr(0, n), "replica-a", "f").status().code() ==
          Code::kDamage);
  }
  CHECK(archive::DecodeRegistration(std::string(70000, ' '), "replica-a", "f").status().code() ==
        Code::kDamage);
  // Names.
  CHECK(archive::IsRegistrationName("db-2.example_1"));
  CHECK_FALSE(archive::IsRegistrationName(""));
  CHECK_FALSE(archive::IsRegistrationName(".hidden"));
  CHECK_FALSE(archive::IsRegistrationName("a/b"));
  CHECK_FALSE(archive::IsRegistrationName(std::string(65, 'a')));
  CHECK(archive::ParseRegistrationFileName("replica-db2.json") == std::optional<std::string>("db2"));
  CHECK_FALSE(archive::ParseRegistrationFileName("replica-.json"));
  CHECK_FALSE(archive::ParseRegistrationFileName("replica-a b.json"));
}

TEST_CASE("RET-2 the N newest recovery points are kept, with fewer than N nothing is removed") {
  TempDir t;
  MakeArchive(t.path());
  const std::string arch = t / "arch";
  const auto before = Names(arch);

  SUBCASE("fewer than N: nothing") {
    auto rep = Prune(arch, 3);
    CHECK(rep.recovery_points == 2);
    CHECK(rep.plan.empty());
    CHECK(rep.nothing_because == "only 2 of 3 snapshot(s) to keep");
    CHECK(Names(arch) == before);
  }
  SUBCASE("keep 2: segments through the older snapshot's boundary go, both snapshots stay") {
    auto rep = Prune(arch, 2);
    REQUIRE(rep.oldest_kept_boundary == std::optional<uint64_t>(30));
    CHECK(rep.cut == std::optional<uint64_t>(30));
    CHECK(rep.plan_snapshots == 0);
    CHECK(FileExists(arch + "/snap-30.tar"));
    CHECK(FileExists(arch + "/snap-60.tar"));
    CHECK_FALSE(rep.removed.empty());
    CHECK(rep.removed == rep.plan);
    for (const auto& r : Ranges(arch)) CHECK(r.last_commit > 30);
    CHECK(Ranges(arch).front().first_commit <= 31);  // the segment holding 31 stays
    CHECK(VerifyDir(arch) == Code::kOk);
    InstallAndApply(arch + "/snap-30.tar", t / "r30", arch, 90);
  }
  SUBCASE("keep 1: the older snapshot and everything through 60 go; the newest stays") {
    auto rep = Prune(arch, 1);
    CHECK(rep.cut == std::optional<uint64_t>(60));
    REQUIRE(rep.plan_snapshots == 1);
    CHECK(rep.plan.front() == "snap-30.tar");  // RET-10: snapshots first
    CHECK_FALSE(FileExists(arch + "/snap-30.tar"));
    CHECK(FileExists(arch + "/snap-60.tar"));
    for (const auto& r : Ranges(arch)) CHECK(r.last_commit > 60);
    CHECK(Ranges(arch).front().first_commit <= 61);
    CHECK(VerifyDir(arch) == Code::kOk);
    InstallAndApply(arch + "/snap-60.tar", t / "r60", arch, 90);
    // A re-run has nothing more to do.
    auto again = Prune(arch, 1);
    CHECK(again.plan.empty());
  }
}

TEST_CASE("RET-1 only a valid snapshot archive of the archive's lineage is a recovery point, others are reported and never removed") {
  TempDir t;
  MakeArchive(t.path());
  const std::string arch = t / "arch";
  // A copy still arriving, a damaged one, another database's.
  std::filesystem::copy_file(arch + "/snap-30.tar", arch + "/cut.tar");
  TruncateFile(arch + "/cut.tar", 3000);
  std::filesystem::copy_file(arch + "/snap-30.tar", arch + "/bad.tar");
  FlipBitInFile(arch + "/bad.tar", 700, 3);
  MakePrimary(t / "other", 5, 9);
  ExportInto(t / "other", arch + "/other.tar");
  // Not an archive at all, under an archive name.
  WriteFile(arch + "/junk.tzst", std::string(100, 'x'));

  auto rep = Prune(arch, 1);
  CHECK(rep.recovery_points == 2);
  std::map<std::string, repl::PruneSnapshot> by;
  for (const auto& s : rep.snapshots) by[s.name] = s;
  CHECK(by["cut.tar"].action == "ignore");
  CHECK(by["cut.tar"].reason.rfind("in transit", 0) == 0);
  CHECK(by["bad.tar"].action == "ignore");
  CHECK(by["bad.tar"].reason.rfind("invalid archive", 0) == 0);
  CHECK(by["other.tar"].action == "ignore");
  CHECK(by["other.tar"].reason.rfind("another database", 0) == 0);
  CHECK(by["junk.tzst"].action == "ignore");
  CHECK(by["snap-30.tar"].action == "remove");
  CHECK(by["snap-60.tar"].action == "keep");
  for (const char* n : {"cut.tar", "bad.tar", "other.tar", "junk.tzst"}) CHECK(FileExists(arch + "/" + n));
  // Invalid copies are not counted: with only them left beside the newest,
  // keep 2 removes nothing.
  auto rep2 = Prune(arch, 2);
  CHECK(rep2.recovery_points == 1);
  CHECK(rep2.plan.empty());
}

TEST_CASE("RET-3 apply-wal --report-to registers the applied position, another replica's name is refused (5)") {
  TempDir t;
  MakeArchive(t.path());
  const std::string arch = t / "arch";
  REQUIRE(Apply(t / "r", arch).ok());
  Register(t / "r", arch, "r1");
  const std::string bytes = ReadFile(arch + "/replica-r1.json");
  auto reg = archive::DecodeRegistration(bytes, "r1", "f");
  REQUIRE(reg.ok());
  const node::NodeState st = StateOf(t / "r");
  CHECK(reg->applied_commit == st.applied_commit);
  CHECK(reg->applied_digest == st.applied_digest);
  CHECK(reg->epoch == st.epoch);
  CHECK(reg->data_dir == *RealPath(t / "r"));
  // Re-registering replaces it; no temp file is left.
  Register(t / "r", arch, "r1");
  for (const auto& n : Names(arch)) CHECK(n.rfind(".replica-", 0) != 0);
  // A second replica under the same name is refused and changes nothing.
  REQUIRE(Apply(t / "r2", arch).ok());
  repl::RegisterOptions o;
  o.data_dir = t / "r2";
  o.archive = arch;
  o.name = "r1";
  Status s = repl::RegisterReplica(PosixFs(), o, nullptr);
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("registration of another replica") != std::string::npos);
  CHECK(ReadFile(arch + "/replica-r1.json") == bytes);
  // A bad name is a usage error; a missing archive is 9.
  o.name = "../x";
  CHECK(repl::RegisterReplica(PosixFs(), o, nullptr).code() == Code::kUsage);
  o.name = "r2";
  o.archive = t / "nope";
  CHECK(repl::RegisterReplica(PosixFs(), o, nullptr).code() == Code::kNotFound);
  // The catalog passes registrations and snapshot archives over silently (ARC-2).
  archive::PosixArchive a(PosixFs(), arch);
  auto c = archive::SegmentCatalog(a).List();
  REQUIRE(c.ok());
  CHECK(c->registrations == std::vector<std::string>{"replica-r1.json"});
  CHECK(c->snapshot_archives == std::vector<std::string>{"snap-30.tar", "snap-60.tar"});
  CHECK(c->skipped.empty());
}

TEST_CASE("RET-5 a registered replica behind the oldest kept snapshot pins the segments it needs") {
  TempDir t;
  MakeArchive(t.path());
  const std::string arch = t / "arch";
  // A replica at commit 20 (applied from a copy that stops there).
  repl::ApplyOptions ao;
  ao.data_dir = t / "r";
  ao.inbox = arch;
  ao.until = 20;
  REQUIRE(repl::ApplyWal(PosixFs(), ao, nullptr).ok());
  const uint64_t at = StateOf(t / "r").applied_commit;
  REQUIRE(at >= 20);
  REQUIRE(at < 30);
  Register(t / "r", arch, "slow");

  auto rep = Prune(arch, 1);
  CHECK(rep.cut == std::optional<uint64_t>(at));
  REQUIRE(rep.registrations.size() == 1);
  CHECK(rep.registrations[0].pin == std::optional<uint64_t>(at));
  for (const auto& r : Ranges(arch)) CHECK(r.last_commit > at);
  CHECK(Ranges(arch).front().first_commit <= at + 1);
  CHECK_FALSE(FileExists(arch + "/snap-30.tar"));  // snapshots are not pinned by replicas
  // The registered replica keeps applying through the pruned archive.
  REQUIRE(Apply(t / "r", arch).ok());
  CHECK(StateOf(t / "r").applied_commit == 90);
  Register(t / "r", arch, "slow");
  // Now the snapshot decides.
  auto rep2 = Prune(arch, 1);
  CHECK(rep2.cut == std::optional<uint64_t>(60));
}

TEST_CASE("RET-5 FM-73 a replica that never registered and is behind the cut meets a gap (3)") {
  TempDir t;
  MakeArchive(t.path());
  const std::string arch = t / "arch";
  repl::ApplyOptions ao;
  ao.data_dir = t / "r";
  ao.inbox = arch;
  ao.until = 20;
  REQUIRE(repl::ApplyWal(PosixFs(), ao, nullptr).ok());
  Prune(arch, 1);
  Status s = Apply(t / "r", arch);
  CHECK(s.code() == Code::kGap);
  CHECK(s.hint().find("snapshot install") != std::string::npos);
}

TEST_CASE("RET-4 a damaged registration stops prune (1), a foreign one is ignored, a stale one pins until deleted") {
  TempDir t;
  MakeArchive(t.path());
  const std::string arch = t / "arch";
  repl::ApplyOptions ao;
  ao.data_dir = t / "r";
  ao.inbox = arch;
  ao.until = 10;
  REQUIRE(repl::ApplyWal(PosixFs(), ao, nullptr).ok());
  const uint64_t at = StateOf(t / "r").applied_commit;
  Register(t / "r", arch, "stale");
  // Another database's registration: ignored, pins nothing.
  archive::Registration foreign;
  foreign.name = "foreign";
  foreign.system_id = *history::ParseSystemId("ffeeddccbbaa99887766554433221100");
  foreign.host = "h";
  foreign.data_dir = "/x";
  foreign.applied_commit = 1;
  WriteFile(arch + "/replica-foreign.json", archive::EncodeRegistration(foreign));

  SUBCASE("damaged: 1, nothing removed") {
    const auto before = Names(arch);
    FlipBitInFile(arch + "/replica-stale.json", 20, 1);
    repl::PruneOptions o;
    o.archive = arch;
    o.keep_snapshots = 1;
    Status s = repl::Prune(PosixFs(), o, nullptr);
    CHECK(s.code() == Code::kDamage);
    CHECK(s.message().find("replica-stale.json") != std::string::npos);
    CHECK(Names(arch) == before);
  }
  SUBCASE("stale pins, foreign ignored, deleting retires") {
    auto rep = Prune(arch, 1);
    REQUIRE(rep.registrations.size() == 2);
    CHECK(rep.registrations[0].name == "foreign");
    CHECK_FALSE(rep.registrations[0].pin);
    CHECK(rep.registrations[0].ignored.rfind("another database", 0) == 0);
    CHECK(rep.registrations[1].pin == std::optional<uint64_t>(at));
    CHECK(rep.cut == std::optional<uint64_t>(at));
    CHECK(FileExists(arch + "/replica-stale.json"));  // never removed by prune
    CHECK(FileExists(arch + "/replica-foreign.json"));
    // Still pinned on the next run: no expiry.
    CHECK(Prune(arch, 1).cut == std::optional<uint64_t>(at));
    // The operator retires it.
    std::filesystem::remove(arch + "/replica-stale.json");
    auto rep2 = Prune(arch, 1);
    CHECK(rep2.cut == std::optional<uint64_t>(60));
    for (const auto& r : Ranges(arch)) CHECK(r.last_commit > 60);
  }
}

TEST_CASE("RET-6 segments wholly at or below the cut are removed, never the newest, never a damaged or foreign one") {
  TempDir t;
  MakeArchive(t.path());
  const std::string arch = t / "arch";
  ExportInto(t / "p", arch + "/snap-90.tar");  // boundary 90: every segment is at or below it
  auto segs = Segments(arch);
  REQUIRE(segs.size() >= 4);
  FlipBitInFile(arch + "/" + segs[1], 20, 0);  // a header bit: corrupt
  auto rep = Prune(arch, 1);
  CHECK(rep.cut == std::optional<uint64_t>(90));
  const auto left = Segments(arch);
  REQUIRE(left.size() == 2);
  CHECK(left[0] == segs[1]);
  CHECK(left[1] == segs.back());  // the newest stays
  std::map<std::string, std::string> why;
  for (const auto& k : rep.kept_segments) why[k.name] = k.reason;
  CHECK(why[segs[1]].rfind("corrupt", 0) == 0);
  CHECK(why[segs.back()] == "the newest segment");
}

TEST_CASE("RET-6 superseded segments of an older epoch are removed by CommitId like any other") {
  TempDir t;
  const std::string root = t.path(), arch = t / "arch";
  MakeSupersededTail(root);  // epoch 1's 31..35 superseded; epoch 2 from 30, 31..40 shipped
  ExportInto(root + "/r", arch + "/snap-e2.tar");
  Write(root + "/r", 5, 6);
  REQUIRE(ShipInto(root + "/r", arch).ok());
  bool had_superseded = false;
  for (const auto& r : Ranges(arch)) had_superseded |= r.epoch == 1 && r.last_commit > 30;
  REQUIRE(had_superseded);

  auto rep = Prune(arch, 1);
  CHECK(rep.cut == std::optional<uint64_t>(40));
  for (const auto& r : Ranges(arch)) {
    CHECK(r.epoch == 2);
    CHECK(r.last_commit > 40);
  }
  // RET-8: the history file and the marker stay.
  CHECK(FileExists(arch + "/" + history::HistoryFileName(2)));
  CHECK(FileExists(arch + "/claim-archive.json"));
  CHECK(VerifyDir(arch) == Code::kOk);
  InstallAndApply(arch + "/snap-e2.tar", t / "r2", arch, 45);
}

// An operator trial: the old primary's superseded tail (epoch 1, 31..50)
// ends above everything the new primary shipped (epoch 2, 31..40), and a
// snapshot at 40 made every segment of epoch 2 removable but the newest.
TEST_CASE("RET-6 the newest segment kept is the lineage's, not a superseded one that ends higher") {
  TempDir t;
  const std::string root = t.path(), arch = t / "arch";
  MakeSupersededTail(root, {.superseded = 20, .r_max_bytes = 3000});  // epoch 1's 31..50; epoch 2's 31..40
  ExportInto(root + "/r", arch + "/snap-e2.tar");  // at 40
  uint64_t newest_e2 = 0, newest_e1 = 0;
  for (const auto& r : Ranges(arch)) (r.epoch == 2 ? newest_e2 : newest_e1) = std::max(r.epoch == 2 ? newest_e2 : newest_e1, r.last_commit);
  REQUIRE(newest_e2 == 40);
  REQUIRE(newest_e1 == 50);

  auto rep = Prune(arch, 1);
  CHECK(rep.cut == std::optional<uint64_t>(40));
  bool kept_e2 = false;
  for (const auto& r : Ranges(arch)) kept_e2 |= r.epoch == 2 && r.last_commit == 40;
  CHECK(kept_e2);  // the archive still shows how far the primary shipped
  InstallAndApply(arch + "/snap-e2.tar", t / "r2", arch, 40);
}

TEST_CASE("RET-5 a registration on a superseded epoch pins at the branch point") {
  TempDir t;
  const std::string root = t.path(), arch = t / "arch";
  MakePrimary(root + "/p", 30);
  REQUIRE(PosixFs().MakeDir(arch).ok());
  REQUIRE(ShipInto(root + "/p", arch, 3000, true).ok());
  REQUIRE(Apply(root + "/r", arch).ok());
  Write(root + "/p", 5, 4, 3, 120);
  REQUIRE(ShipInto(root + "/p", arch).ok());
  REQUIRE(Apply(root + "/old", arch).ok());  // a replica at 35 of epoch 1
  Register(root + "/old", arch, "old");
  repl::PromoteOptions po;
  po.data_dir = root + "/r";
  po.archive = arch;
  po.discard_after_applied = true;  // commits 31..35 of epoch 1 are abandoned
  REQUIRE(repl::Promote(PosixFs(), po, nullptr).ok());
  Write(root + "/r", 20, 5);
  REQUIRE(ShipInto(root + "/r", arch).ok());
  ExportInto(root + "/r", arch + "/snap-e2.tar");  // boundary 50
  auto rep = Prune(arch, 1);
  REQUIRE(rep.registrations.size() == 1);
  CHECK(rep.registrations[0].applied_commit == 35);
  CHECK(rep.registrations[0].pin == std::optional<uint64_t>(30));
  CHECK(rep.cut == std::optional<uint64_t>(30));
}

TEST_CASE("RET-9 a damaged history file or a foreign marker stops prune with nothing removed") {
  TempDir t;
  const std::string root = t.path(), arch = t / "arch";
  MakePrimary(root + "/p", 30);
  REQUIRE(PosixFs().MakeDir(arch).ok());
  REQUIRE(ShipInto(root + "/p", arch, 3000, true).ok());
  ExportInto(root + "/p", arch + "/snap.tar");
  Write(root + "/p", 10, 2);
  REQUIRE(ShipInto(root + "/p", arch).ok());
  const auto before = Names(arch);
  repl::PruneOptions o;
  o.archive = arch;
  o.keep_snapshots = 1;
  SUBCASE("foreign marker: 5") {
    WriteFile(arch + "/claim-archive.json",
              history::EncodeClaimArchiveMarker(*history::ParseSystemId("ffeeddccbbaa99887766554433221100")));
    CHECK(repl::Prune(PosixFs(), o, nullptr).code() == Code::kRefused);
  }
  SUBCASE("damaged history file: 1") {
    WriteFile(arch + "/00000002.history", "{\"not\":\"a history file\"}\n");
    CHECK(repl::Prune(PosixFs(), o, nullptr).code() == Code::kDamage);
  }
  SUBCASE("a history file in transit: 8") {
    WriteFile(arch + "/00000002.history", "{\"branch_commit\":3");
    CHECK(repl::Prune(PosixFs(), o, nullptr).code() == Code::kInTransit);
  }
  SUBCASE("no archive: 9; N = 0: 2") {
    o.archive = t / "none";
    CHECK(repl::Prune(PosixFs(), o, nullptr).code() == Code::kNotFound);
    o.archive = arch;
    o.keep_snapshots = 0;
    CHECK(repl::Prune(PosixFs(), o, nullptr).code() == Code::kUsage);
  }
  auto after = Names(arch);
  after.erase("claim-archive.json");
  after.erase("00000002.history");
  auto want = before;
  want.erase("claim-archive.json");
  CHECK(after == want);
}

TEST_CASE("RET-9 RET-1 with a claim-archive marker, another database's archive of a higher boundary is ignored, not a reason to blame the marker") {
  TempDir t;
  const std::string root = t.path(), arch = t / "arch";
  MakePrimary(root + "/p", 30);
  REQUIRE(PosixFs().MakeDir(arch).ok());
  REQUIRE(ShipInto(root + "/p", arch, 3000, true).ok());  // with the marker
  ExportInto(root + "/p", arch + "/snap-30.tar");
  Write(root + "/p", 10, 2);
  REQUIRE(ShipInto(root + "/p", arch).ok());
  ExportInto(root + "/p", arch + "/snap-40.tar");
  MakePrimary(root + "/other", 60, 9);  // another database, further on
  ExportInto(root + "/other", arch + "/stray.tar");
  auto rep = Prune(arch, 1);
  std::map<std::string, repl::PruneSnapshot> by;
  for (const auto& s : rep.snapshots) by[s.name] = s;
  CHECK(by["stray.tar"].action == "ignore");
  CHECK(by["stray.tar"].reason.rfind("another database", 0) == 0);
  CHECK(by["snap-40.tar"].action == "keep");
  CHECK(by["snap-30.tar"].action == "remove");
  CHECK(FileExists(arch + "/stray.tar"));
}

TEST_CASE("RET-12 --dry-run lists exactly what the real run removes") {
  TempDir t;
  MakeArchive(t.path());
  const std::string arch = t / "arch";
  REQUIRE(Apply(t / "r", arch).ok());
  Register(t / "r", arch, "r");
  const auto before = Names(arch);
  auto dry = Prune(arch, 1, true);
  CHECK(Names(arch) == before);  // nothing removed
  CHECK(dry.removed.empty());
  REQUIRE_FALSE(dry.plan.empty());
  auto real = Prune(arch, 1);
  CHECK(real.removed == dry.plan);
  std::set<std::string> gone;
  for (const auto& n : before) {
    if (!FileExists(arch + "/" + n)) gone.insert(n);
  }
  CHECK(gone == std::set<std::string>(dry.plan.begin(), dry.plan.end()));
}

TEST_CASE("RET-13 prune removes NAME.sig after NAME and the orphan sidecars below the cut, and keeps the others") {
  if (!HaveOpenssl()) {
    MESSAGE("SKIP: no openssl command");
    return;
  }
  TempDir t;
  const KeyFiles k = MakeKey(t.path(), "k");
  auto ship_signed = [&] {
    repl::ShipOptions o;
    o.data_dir = t / "p";
    o.target = t / "arch";
    o.max_segment_bytes = 3000;
    o.signing_key = k.priv;
    REQUIRE(repl::ShipWal(PosixFs(), o, nullptr).ok());
  };
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  ship_signed();
  ExportInto(t / "p", t / "arch/snap-30.tar");
  Write(t / "p", 30, 2, 3, 120);
  ship_signed();
  ExportInto(t / "p", t / "arch/snap-60.tar");
  Write(t / "p", 10, 3, 3, 120);
  ship_signed();

  const repl::PruneReport dry = Prune(t / "arch", 1, true);
  REQUIRE(dry.plan.size() > dry.plan_snapshots + 1);
  // One planned segment already gone, its sidecar left: an orphan below the cut.
  const std::string gone = dry.plan.back();
  REQUIRE(PosixFs().Remove(t / "arch" / gone).ok());
  // A sidecar above the cut whose segment has not arrived: a publish in progress.
  const std::string ahead = "00000001-0000000000000091-0000000000000095.seg.sig";
  std::filesystem::copy(t / "arch" / (dry.plan.back() + ".sig"), t / "arch" / ahead);

  const repl::PruneReport plan = Prune(t / "arch", 1, true);
  CHECK(plan.orphan_sidecars == std::vector<std::string>{gone + ".sig"});
  std::set<std::string> want_sigs;
  for (size_t i = plan.plan_snapshots; i < plan.plan.size(); ++i) want_sigs.insert(plan.plan[i] + ".sig");
  CHECK(std::set<std::string>(plan.sidecars.begin(), plan.sidecars.end()) == want_sigs);
  CHECK(FileExists(t / "arch" / (gone + ".sig")));  // RET-12: nothing removed

  const repl::PruneReport run = Prune(t / "arch", 1);
  CHECK(run.removed == plan.plan);
  CHECK(run.removed_sidecars == plan.sidecars);
  CHECK(run.removed_orphans == plan.orphan_sidecars);
  for (const std::string& n : plan.plan) CHECK_FALSE(FileExists(t / "arch" / (n + ".sig")));
  CHECK_FALSE(FileExists(t / "arch" / (gone + ".sig")));
  CHECK(FileExists(t / "arch" / ahead));  // above the cut: kept
  // Every other sidecar still has its file.
  for (const auto& e : std::filesystem::directory_iterator(std::string(t / "arch"))) {
    const std::string n = e.path().filename().string();
    if (n.size() < 4 || n.substr(n.size() - 4) != ".sig" || n == ahead) continue;
    CAPTURE(n);
    CHECK(FileExists(t / "arch" / n.substr(0, n.size() - 4)));
  }
}

TEST_CASE("ENC-14 prune keeps an encrypted segment it has no key for, and removes it with the key") {
  TempDir t;
  crypto::EncryptionKey key;
  for (size_t i = 0; i < key.key.bytes.size(); ++i) key.key.bytes[i] = static_cast<uint8_t>(i * 7 + 1);
  key.key.id = crypto::KeyIdOf(key.key.bytes);
  auto ship_encrypted = [&] {
    repl::ShipOptions o;
    o.data_dir = t / "p";
    o.target = t / "arch";
    o.max_segment_bytes = 3000;
    o.encryption = &key;
    REQUIRE(repl::ShipWal(PosixFs(), o, nullptr).ok());
  };
  MakePrimary(t / "p", 30);
  REQUIRE(PosixFs().MakeDir(t / "arch").ok());
  ship_encrypted();
  ExportInto(t / "p", t / "arch/snap-30.tar");
  Write(t / "p", 10, 2, 3, 120);
  ship_encrypted();

  repl::PruneOptions o;
  o.archive = t / "arch";
  o.keep_snapshots = 1;
  o.dry_run = true;
  crypto::KeyStore none;
  crypto::DecryptingFs blind(PosixFs(), &none);
  repl::PruneReport without;
  Status blind_status = repl::Prune(blind, o, &without);
  CAPTURE(blind_status.ToString());
  REQUIRE(blind_status.ok());
  CHECK(without.plan.empty());  // never removes what it cannot judge
  REQUIRE_FALSE(without.kept_segments.empty());
  for (const auto& k : without.kept_segments) {
    CAPTURE(k.name);
    CHECK(k.reason.rfind("encrypted, no key: ", 0) == 0);
    CHECK(k.reason.find("corrupt") == std::string::npos);
  }
  crypto::KeyStore keys;
  keys.Add(key.key);
  crypto::DecryptingFs seeing(PosixFs(), &keys);
  repl::PruneReport with;
  REQUIRE(repl::Prune(seeing, o, &with).ok());
  CHECK_FALSE(with.plan.empty());  // the segments through commit 30 go
}
