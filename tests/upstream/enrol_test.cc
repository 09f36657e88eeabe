// AeroDB's own directories (specs/REPLICATION_COMPATIBILITY.md): enrolment
// of a directory AeroDB wrote, shipping while AeroDB appends, AeroDB's
// checkpoint (WAL truncated, sequences restarted at 1), Phase-1 WALs. The
// bytes are the fixture's, written by AeroDB's serializers; AeroDB as the
// writer is played by appending them in its order, and its checkpoint by
// its own steps: the snapshot, checkpoint.json (AeroDB's marker), the WAL
// truncated to zero, the next records numbered from 1.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "common/coding.h"
#include "common/crc32.h"
#include "engine/reference_node.h"
#include "node/store.h"
#include "repl/enrol.h"
#include "repl/export.h"
#include "repl/install.h"
#include "repl/rejoin.h"
#include "repl/status.h"
#include "repl/verify.h"
#include "support/forwarding_fs.h"
#include "support/repl_fixture.h"
#include "support/shared_fixtures.h"
#include "support/test_util.h"
#include "upstream/upstream_util.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

const std::string kMvcc = UpstreamFixtures() + "/mvcc";
const std::string kSnapshotId = "20261125T194751Z";  // the fixture's, at commit 300

// The fixture's mvcc WAL and where each write set ends (end[c], end[0] = 0).
struct AeroLog {
  std::string bytes;
  std::vector<uint64_t> end{0};
  std::string Range(uint64_t from_commit, uint64_t to_commit) const {  // write sets from..to
    return bytes.substr(end[from_commit - 1], end[to_commit] - end[from_commit - 1]);
  }
};

const AeroLog& Log() {
  static const AeroLog log = [] {
    AeroLog l;
    l.bytes = ReadFile(kMvcc + "/wal/wal.log");
    auto f = PosixFs().OpenRead(kMvcc + "/wal/wal.log");
    wal::WalScanner(f->get(), {}).Run({}, [&](const wal::WriteSet& ws) {
      l.end.push_back(ws.end_offset);
      return true;
    });
    return l;
  }();
  return log;
}

// The records of `bytes` numbered from `first` (AeroDB's counter after its
// checkpoint), each CRC recomputed as AeroDB's serializer would.
std::string Resequenced(std::string bytes, uint64_t first) {
  for (size_t off = 0; off < bytes.size();) {
    const uint32_t len = DecodeFixed32(bytes.data() + off);
    for (int i = 0; i < 8; ++i) bytes[off + 5 + i] = static_cast<char>((first >> (8 * i)) & 0xff);
    ++first;
    FixRecordCrc(&bytes, off);
    off += len;
  }
  return bytes;
}

// The fixture is read-only; its copies must not be, or TempDir cannot remove them.
void MakeWritable(const std::string& root) {
  fsys::permissions(root, fsys::perms::owner_write, fsys::perm_options::add);
  for (auto& e : fsys::recursive_directory_iterator(root)) {
    fsys::permissions(e.path(), fsys::perms::owner_write, fsys::perm_options::add);
  }
}

void Append(const std::string& dir, const std::string& bytes) {
  std::ofstream out(dir + "/wal/wal.log", std::ios::binary | std::ios::app);
  out << bytes;
}

// An AeroDB data directory whose WAL holds `wal` (no replication/).
void MakeAeroDir(const std::string& dir, const std::string& wal) {
  fsys::create_directories(dir + "/wal");
  fsys::create_directories(dir + "/data");
  fsys::create_directories(dir + "/snapshots");
  fsys::copy(kMvcc + "/metadata", dir + "/metadata", fsys::copy_options::recursive);
  MakeWritable(dir + "/metadata");
  WriteFile(dir + "/wal/wal.log", wal);
  WriteFile(dir + "/data/documents.dat", "");
}

// AeroDB's checkpoint at 300, in its order: the snapshot, the marker, the
// WAL truncated to zero (its next records are numbered from 1).
void AeroCheckpointAt300(const std::string& dir) {
  fsys::copy(kMvcc + "/snapshots/" + kSnapshotId, dir + "/snapshots/" + kSnapshotId,
             fsys::copy_options::recursive);
  MakeWritable(dir + "/snapshots");
  WriteFile(dir + "/checkpoint.json",
            "{\n  \"snapshot_id\": \"" + kSnapshotId +
                "\",\n  \"created_at\": \"2026-11-25T19:47:51Z\",\n  \"wal_truncated\": true,\n"
                "  \"format_version\": 1\n}");
  TruncateFile(dir + "/wal/wal.log", 0);
}

Status Init(const std::string& dir, bool re_enrol = false, repl::EnrolReport* rep = nullptr) {
  return repl::Enrol(PosixFs(), repl::EnrolOptions{dir, re_enrol}, rep);
}

std::map<std::string, std::string> StateAt(const std::string& dir, uint64_t commit) {
  auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kRead);
  REQUIRE(n.ok());
  auto docs = (*n)->ReadAt(commit);
  REQUIRE(docs.ok());
  std::map<std::string, std::string> flat;
  for (auto& [k, d] : *docs) flat[k.first + ":" + k.second] = d.body;
  return flat;
}

bool Enrolled(const std::string& dir) { return fsys::exists(dir + "/replication"); }

}  // namespace

TEST_CASE("COMPAT-12 AeroDB's mvcc directory enrolled, shipped while AeroDB writes, applied: the replica's log and state equal expected.jsonl") {
  TempDir t;
  const AeroLog& log = Log();
  REQUIRE(log.end.size() == 501);
  MakeAeroDir(t / "aero", log.Range(1, 100));
  repl::EnrolReport rep;
  REQUIRE(Init(t / "aero", false, &rep).ok());
  CHECK(rep.base_commit == 0);
  CHECK(rep.applied_commit == 100);
  CHECK_FALSE(fsys::exists(t / "aero/.replication.init.tmp"));
  // AeroDB appends the rest in pieces that end anywhere (inside records,
  // between a transaction's data records and its commit); ship-wal runs
  // after each, apply-wal after every fifth.
  REQUIRE(PosixFs().MakeDir(t / "target").ok());
  const std::string rest = log.bytes.substr(log.end[100]);
  int runs = 0;
  for (size_t off = 0; off < rest.size(); off += 7919) {
    Append(t / "aero", rest.substr(off, 7919));
    Status s = Ship(t / "aero", t / "target", 3000);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    if (++runs % 5 == 0) REQUIRE(Apply(t / "replica", t / "target").ok());
    if (runs % 10 == 0) {  // status and verify beside AeroDB, no lock taken
      auto st = repl::GetStatus(PosixFs(), t / "aero", std::nullopt);
      REQUIRE(st.ok());
      CHECK(st->outcome() == Code::kOk);
      auto v = repl::Verify(PosixFs(), t / "aero", {});
      REQUIRE(v.ok());
      CHECK(v->outcome() == Code::kOk);
    }
  }
  CHECK(runs >= 30);
  CHECK(ReadFile(t / "aero/wal/wal.log") == log.bytes);  // nothing of AeroDB's was touched
  REQUIRE(Apply(t / "replica", t / "target").ok());
  CHECK(StateOf(t / "replica").applied_commit == 500);
  CHECK(ReadFile(t / "replica/wal/wal.log") == log.bytes);
  CheckWal(t / "replica/wal/wal.log", kMvcc + "/expected.jsonl", true);
  CHECK(StateAt(t / "replica", 500) == Replay(kMvcc + "/wal/wal.log", 500));
  // The enrolled primary and its replica agree on H(500).
  CHECK(StateOf(t / "aero").applied_digest == StateOf(t / "replica").applied_digest);

  // The fixture's directory itself, copied as it is (its AeroDB snapshot at
  // 300 and wal-full.log included): enrolled at 500 on base 0, shipped whole.
  CopyTree(kMvcc, t / "copy");
  MakeWritable(t / "copy");
  REQUIRE(Init(t / "copy", false, &rep).ok());
  CHECK(rep.base_commit == 0);
  CHECK(rep.applied_commit == 500);
  REQUIRE(PosixFs().MakeDir(t / "target2").ok());
  REQUIRE(Ship(t / "copy", t / "target2").ok());
  REQUIRE(Apply(t / "replica2", t / "target2").ok());
  CHECK(ReadFile(t / "replica2/wal/wal.log") == log.bytes);
  CHECK(StateAt(t / "replica2", 500) == Replay(kMvcc + "/wal/wal.log", 500));
  CHECK(StateAt(t / "replica2", 300) == Replay(kMvcc + "/wal/wal.log", 300));
}

TEST_CASE("COMPAT-1 init refuses an enrolled directory with 5 and a directory that is not AeroDB's with 9") {
  TempDir t;
  MakeAeroDir(t / "aero", Log().Range(1, 20));
  REQUIRE(Init(t / "aero").ok());
  const std::string state = ReadFile(t / "aero/replication/state.json");
  Status again = Init(t / "aero");
  CHECK(again.code() == Code::kRefused);
  CHECK(again.message().find("already enrolled") != std::string::npos);
  CHECK(ReadFile(t / "aero/replication/state.json") == state);
  // FM-64: a refusal leaves nothing of its own, its lock file included.
  CHECK_FALSE(fsys::exists(t / "aero/.replication.init.lock"));
  CHECK(Init(t / "missing").code() == Code::kNotFound);
  fsys::create_directories(t / "empty/data");
  CHECK(Init(t / "empty").code() == Code::kNotFound);
  CHECK_FALSE(Enrolled(t / "empty"));
  // --re-enrol replaces only what init started, never a reference node.
  MakePrimary(t / "node", 3);
  CHECK(Init(t / "node", true).code() == Code::kRefused);
  // Without --re-enrol it is not offered --re-enrol, which would refuse it.
  Status node_init = Init(t / "node");
  CHECK(node_init.code() == Code::kRefused);
  CHECK(node_init.message().find("already a node '" + (t / "node") + "'") == 0);
  CHECK(node_init.hint().find("add --re-enrol") == std::string::npos);
  // What replication/ holds decides the message and its hint, with or
  // without --re-enrol (a trial's hints led in a circle).
  MakeAeroDir(t / "half", Log().Range(1, 20));
  fsys::create_directories(t / "half/replication");
  for (const bool re_enrol : {false, true}) {
    Status half = Init(t / "half", re_enrol);
    CHECK(half.code() == Code::kRefused);
    CHECK(half.message().find("incomplete replication/ '" + (t / "half") + "'") == 0);
    CHECK(half.hint().find("move '" + (t / "half/replication") + "' aside") != std::string::npos);
  }
  MakePrimary(t / "p", 5);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  REQUIRE(Apply(t / "replica", t / "out").ok());
  for (const bool re_enrol : {false, true}) {
    Status replica = Init(t / "replica", re_enrol);
    CHECK(replica.code() == Code::kRefused);
    CHECK(replica.message().find("a replica '" + (t / "replica") + "'") == 0);
    CHECK(replica.hint().find("ship-wal") == std::string::npos);
    CHECK_FALSE(fsys::exists(t / "replica/.replication.init.lock"));
  }
}

TEST_CASE("COMPAT-2 init refuses a damaged WAL or snapshot with 1 and the finding, and writes nothing") {
  TempDir t;
  const AeroLog& log = Log();
  MakeAeroDir(t / "wal", log.Range(1, 300));
  FlipBitInFile(t / "wal/wal/wal.log", log.end[150] + 40, 3);  // inside write set 151
  Status s = Init(t / "wal");
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("wal.log") != std::string::npos);
  CHECK_FALSE(Enrolled(t / "wal"));
  CHECK_FALSE(fsys::exists(t / "wal/.replication.init.tmp"));
  CHECK_FALSE(fsys::exists(t / "wal/.replication.init.lock"));

  MakeAeroDir(t / "snap", log.Range(1, 300));
  AeroCheckpointAt300(t / "snap");
  Append(t / "snap", Resequenced(log.Range(301, 310), 1));
  FlipBitInFile(t / "snap/snapshots" / kSnapshotId / "storage.dat", 1000, 0);
  s = Init(t / "snap");
  CHECK(s.code() == Code::kDamage);
  CHECK(s.message().find("storage.dat") != std::string::npos);
  CHECK_FALSE(Enrolled(t / "snap"));

  // A commit_boundary that is no CommitId (REC-9): damage for verify and
  // init alike, never a Phase-1 snapshot (5) or a gap (3).
  for (const std::string bad : {"\"300\"", "300.0", "-1", "18446744073709551615", "18446744073709551616"}) {
    CAPTURE(bad);
    const std::string dir = t / "boundary";
    fsys::remove_all(dir);
    MakeAeroDir(dir, log.Range(1, 300));
    AeroCheckpointAt300(dir);
    Append(dir, Resequenced(log.Range(301, 310), 1));
    const std::string mpath = dir + "/snapshots/" + kSnapshotId + "/manifest.json";
    std::string m = ReadFile(mpath);
    m.replace(m.find("\"commit_boundary\": 300"), 22, "\"commit_boundary\": " + bad);
    WriteFile(mpath, m);
    auto v = repl::Verify(PosixFs(), dir, {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kDamage);
    s = Init(dir);
    CHECK(s.code() == Code::kDamage);
    CHECK(s.message().find("commit_boundary") != std::string::npos);
    CHECK_FALSE(Enrolled(dir));
  }
}

TEST_CASE("SNAP-5 export of an AeroDB directory whose log AeroDB's checkpoint restarted is a gap (3) naming init, and exports once enrolled") {
  TempDir t;
  const AeroLog& log = Log();
  MakeAeroDir(t / "aero", log.Range(1, 300));
  AeroCheckpointAt300(t / "aero");
  auto export_of = [&](const std::string& out) {
    repl::ExportOptions o;
    o.data_dir = t / "aero";
    o.output = out;
    return repl::ExportSnapshot(PosixFs(), o, nullptr);
  };
  // Right after the checkpoint: no commit in the log.
  Status s = export_of(t / "a.tar.zst");
  CHECK(s.code() == Code::kGap);
  CHECK(s.message().find("the log holds no commit, and a snapshot is at commit 300") != std::string::npos);
  CHECK(s.hint().find("aerodb-repl init") != std::string::npos);
  CHECK_FALSE(FileExists(t / "a.tar.zst"));
  // Then AeroDB writes on: the log starts at 301.
  Append(t / "aero", Resequenced(log.Range(301, 320), 1));
  s = export_of(t / "a.tar.zst");
  CHECK(s.code() == Code::kGap);
  CHECK(s.message().find("the log starts at commit 301") != std::string::npos);
  // verify finds nothing wrong with the directory (it is AeroDB's, whole).
  CHECK(repl::Verify(PosixFs(), t / "aero", {})->outcome() == Code::kOk);
  // Enrolled, it exports.
  REQUIRE(Init(t / "aero").ok());
  CHECK(export_of(t / "b.tar.zst").ok());
}

TEST_CASE("COMPAT-3 a WAL restarted by AeroDB's checkpoint enrols on the snapshot at c1 - 1, and a WAL with no snapshot under it is a gap") {
  TempDir t;
  const AeroLog& log = Log();
  MakeAeroDir(t / "aero", log.Range(1, 300));
  AeroCheckpointAt300(t / "aero");
  Append(t / "aero", Resequenced(log.Range(301, 500), 1));
  repl::EnrolReport rep;
  REQUIRE(Init(t / "aero", false, &rep).ok());
  CHECK(rep.base_commit == 300);
  CHECK(rep.base_snapshot == kSnapshotId);
  CHECK(rep.applied_commit == 500);
  const node::NodeState s = StateOf(t / "aero");
  CHECK(s.base_snapshot == kSnapshotId);
  // COMPAT-11: the archive names the base by 20 digits, and a replica
  // installed from it has the reference node's layout and AeroDB's state.
  repl::ExportOptions eo;
  eo.data_dir = t / "aero";
  eo.output = t / "a.tar.zst";
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
  REQUIRE(repl::InstallSnapshot(PosixFs(), repl::InstallOptions{t / "r", eo.output, false}, nullptr).ok());
  CHECK(fsys::exists(t / "r/snapshots/00000000000000000300/storage.dat"));
  CHECK(StateOf(t / "r").applied_digest == s.applied_digest);
  CHECK(StateAt(t / "r", 500) == Replay(kMvcc + "/wal/wal.log", 500));

  // No snapshot at 300 and no marker: commits 1..300 are in no file.
  MakeAeroDir(t / "gap", Resequenced(log.Range(301, 320), 1));
  Status g = Init(t / "gap");
  CHECK(g.code() == Code::kGap);
  CHECK(g.hint().find("1..300") != std::string::npos);
  CHECK_FALSE(Enrolled(t / "gap"));

  // An empty WAL right after the checkpoint: base and applied at 300.
  MakeAeroDir(t / "empty", log.Range(1, 300));
  AeroCheckpointAt300(t / "empty");
  REQUIRE(Init(t / "empty", false, &rep).ok());
  CHECK(rep.base_commit == 300);
  CHECK(rep.applied_commit == 300);
}

// AeroDB's snapshot of `dir` named `id` at `boundary`, with the fixture's
// schemas and `storage` (its CRC in the manifest, as AeroDB writes it).
void AeroSnapshot(const std::string& dir, const std::string& id, uint64_t boundary, const std::string& storage) {
  const std::string snap = dir + "/snapshots/" + id;
  fsys::copy(kMvcc + "/snapshots/" + kSnapshotId, snap, fsys::copy_options::recursive);
  MakeWritable(snap);
  WriteFile(snap + "/storage.dat", storage);
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", Crc32(storage.data(), storage.size()));
  std::string m = ReadFile(snap + "/manifest.json");
  m.replace(m.find(kSnapshotId), kSnapshotId.size(), id);
  m.replace(m.find("crc32:cb07dea6"), 14, std::string("crc32:") + crc);
  m.replace(m.find("\"commit_boundary\": 300"), 22, "\"commit_boundary\": " + std::to_string(boundary));
  WriteFile(snap + "/manifest.json", m);
}

void AeroMarker(const std::string& dir, const std::string& id) {
  WriteFile(dir + "/checkpoint.json", "{\n  \"snapshot_id\": \"" + id +
                                          "\",\n  \"created_at\": \"2026-11-25T19:47:51Z\",\n  "
                                          "\"wal_truncated\": true,\n  \"format_version\": 1\n}");
}

TEST_CASE("COMPAT-3 init and every open agree on the marker: none beside the base, a checkpoint at 0, one behind the log") {
  TempDir t;
  const AeroLog& log = Log();
  auto opens = [](const std::string& dir) {
    CHECK(engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kRead).ok());
    auto v = repl::Verify(PosixFs(), dir, {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kOk);
    repl::ExportOptions eo;
    eo.data_dir = dir;
    eo.output = dir + ".tar";
    CHECK(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
  };
  // No marker beside the base snapshot at c1 - 1: init takes it, and so does every open.
  MakeAeroDir(t / "nomarker", log.Range(1, 300));
  AeroCheckpointAt300(t / "nomarker");
  fsys::remove(t / "nomarker/checkpoint.json");
  Append(t / "nomarker", Resequenced(log.Range(301, 320), 1));
  repl::EnrolReport rep;
  REQUIRE(Init(t / "nomarker", false, &rep).ok());
  CHECK(rep.base_commit == 300);
  opens(t / "nomarker");

  // AeroDB's checkpoint before its first commit: a snapshot at 0, then commits 1..50.
  MakeAeroDir(t / "zero", log.Range(1, 50));
  AeroSnapshot(t / "zero", "20261124T000000Z", 0, "");
  AeroMarker(t / "zero", "20261124T000000Z");
  REQUIRE(Init(t / "zero", false, &rep).ok());
  CHECK(rep.base_commit == 0);
  CHECK(rep.applied_commit == 50);
  opens(t / "zero");

  // A marker that names a snapshot below the log's base: no checkpoint
  // of AeroDB's leaves it, so init refuses it with 1 and writes nothing.
  MakeAeroDir(t / "behind", log.Range(1, 300));
  AeroCheckpointAt300(t / "behind");
  Append(t / "behind", Resequenced(log.Range(301, 320), 1));
  AeroSnapshot(t / "behind", "20261124T000000Z", 200, ReadFile(kMvcc + "/snapshots/" + kSnapshotId + "/storage.dat"));
  AeroMarker(t / "behind", "20261124T000000Z");
  Status b = Init(t / "behind");
  CHECK(b.code() == Code::kDamage);
  CHECK(b.message().find("checkpoint marker behind the log") == 0);
  CHECK_FALSE(Enrolled(t / "behind"));
  // The same marker written after enrolment: every open says the same.
  AeroMarker(t / "behind", kSnapshotId);
  REQUIRE(Init(t / "behind").ok());
  AeroMarker(t / "behind", "20261124T000000Z");
  auto o = engine::ReferenceNode::Open(PosixFs(), t / "behind", node::Access::kRead);
  CHECK(o.status().code() == Code::kDamage);
  CHECK(o.status().message().find("checkpoint marker behind the log") == 0);
  CHECK_FALSE(o.status().hint().empty());
}

TEST_CASE("COMPAT-4 a Phase-1 WAL is refused with 5, and verify still reads it") {
  TempDir t;
  CopyTree(UpstreamFixtures() + "/phase1", t / "p1");
  MakeWritable(t / "p1");
  Status s = Init(t / "p1");
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message().find("Phase-1") != std::string::npos);
  CHECK_FALSE(Enrolled(t / "p1"));
  auto v = repl::Verify(PosixFs(), t / "p1", {});
  REQUIRE(v.ok());
  REQUIRE(v->wal);
  CHECK(v->wal->records == 2000);
  CHECK(v->outcome() == Code::kOk);
}

TEST_CASE("COMPAT-6 AeroDB writes, aerodb-repl reads: a tail in progress is never cut and the reference node's writes are refused") {
  TempDir t;
  const AeroLog& log = Log();
  // Commits 1..100, then AeroDB's transaction 101 in progress: its data
  // records, and 10 bytes of its commit record.
  const std::string wal = log.Range(1, 100) + log.bytes.substr(log.end[100], log.end[101] - log.end[100] - 15);
  MakeAeroDir(t / "aero", wal);
  repl::EnrolReport rep;
  REQUIRE(Init(t / "aero", false, &rep).ok());
  CHECK(rep.applied_commit == 100);
  CHECK(rep.tail_bytes == log.end[101] - log.end[100] - 15);
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "aero", node::Access::kWrite);
    REQUIRE(n.ok());
    CHECK((*n)->open_report().truncated_bytes == 0);
    auto put = (*n)->Commit({engine::Op{engine::Op::Kind::kPut, "users", "x", "{}"}});
    CHECK(put.status().code() == Code::kRefused);
    CHECK(put.status().message().find("AeroDB writes this directory") != std::string::npos);
    CHECK((*n)->Checkpoint().status().code() == Code::kRefused);
    REQUIRE((*n)->Close().ok());
  }
  CHECK(ReadFile(t / "aero/wal/wal.log") == wal);
  REQUIRE(PosixFs().MakeDir(t / "target").ok());
  REQUIRE(Ship(t / "aero", t / "target", 3000).ok());
  repl::ExportOptions eo;
  eo.data_dir = t / "aero";
  eo.output = t / "a.tar";
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
  CHECK(ReadFile(t / "aero/wal/wal.log") == wal);
  // AeroDB finishes the transaction: the next run ships it.
  Append(t / "aero", log.bytes.substr(log.end[101] - 15, 15));
  repl::ShipReport sr;
  REQUIRE(Ship(t / "aero", t / "target", 3000, false, &sr).ok());
  CHECK(sr.shipped_commit == 101);
  repl::RejoinOptions ro;
  ro.data_dir = t / "aero";
  ro.archive = t / "target";
  CHECK(repl::Rejoin(PosixFs(), ro, nullptr).code() == Code::kRefused);
}

TEST_CASE("COMPAT-7 COMPAT-8 AeroDB's checkpoint after everything was shipped: ship-wal continues by CommitId and the replica equals AeroDB's state") {
  TempDir t;
  const AeroLog& log = Log();
  MakeAeroDir(t / "aero", log.Range(1, 200));
  REQUIRE(Init(t / "aero").ok());
  REQUIRE(PosixFs().MakeDir(t / "target").ok());
  REQUIRE(Ship(t / "aero", t / "target", 3000).ok());
  Append(t / "aero", log.Range(201, 300));
  REQUIRE(Ship(t / "aero", t / "target", 3000).ok());
  REQUIRE(Apply(t / "replica", t / "target").ok());
  AeroCheckpointAt300(t / "aero");
  // verify says what ship-wal will do: the base is AeroDB's snapshot at 300.
  auto v = repl::Verify(PosixFs(), t / "aero", {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kOk);
  REQUIRE(v->wal);
  CHECK(v->wal->base_commit == 300);
  // Right after the checkpoint: nothing new, and the base is AeroDB's snapshot.
  repl::ShipReport sr;
  Status after_checkpoint = Ship(t / "aero", t / "target", 3000, false, &sr);
  REQUIRE_MESSAGE(after_checkpoint.ok(), after_checkpoint.ToString());
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), t / "aero", node::Access::kRead);
    REQUIRE(n.ok());
    // ship-wal recorded the new base before it could move its position
    // past 300, the only other record of H(300).
    CHECK_FALSE((*n)->open_report().followed_aero_checkpoint);
    CHECK(ReadFile(t / "aero/replication/state.json").find(kSnapshotId) != std::string::npos);
    CHECK((*n)->state().base_commit == 300);
    CHECK((*n)->state().base_snapshot == kSnapshotId);
  }
  const std::string after = Resequenced(log.Range(301, 500), 1);
  Append(t / "aero", after.substr(0, after.size() / 2));
  REQUIRE(Ship(t / "aero", t / "target", 3000).ok());
  Append(t / "aero", after.substr(after.size() / 2));
  Status last = Ship(t / "aero", t / "target", 3000, false, &sr);
  REQUIRE_MESSAGE(last.ok(), last.ToString());
  CHECK(sr.shipped_commit == 500);
  REQUIRE(Apply(t / "replica", t / "target").ok());
  CHECK(StateOf(t / "replica").applied_commit == 500);
  CHECK(StateOf(t / "replica").applied_digest == StateOf(t / "aero").applied_digest);
  CHECK(StateAt(t / "replica", 500) == Replay(kMvcc + "/wal/wal.log", 500));
  // COMPAT-10: the replica keeps AeroDB's restarted sequences byte for byte.
  CHECK(ReadFile(t / "replica/wal/wal.log") == log.Range(1, 300) + after);
}

TEST_CASE("COMPAT-8 a target behind AeroDB's checkpoint: 3, the commits only the snapshot holds, the snapshot's path") {
  TempDir t;
  const AeroLog& log = Log();
  MakeAeroDir(t / "aero", log.Range(1, 250));
  REQUIRE(Init(t / "aero").ok());
  REQUIRE(PosixFs().MakeDir(t / "t1").ok());
  REQUIRE(PosixFs().MakeDir(t / "t2").ok());
  REQUIRE(Ship(t / "aero", t / "t1", 3000).ok());
  REQUIRE(Ship(t / "aero", t / "t2", 3000).ok());
  Append(t / "aero", log.Range(251, 300));
  REQUIRE(Ship(t / "aero", t / "t1", 3000).ok());
  AeroCheckpointAt300(t / "aero");
  Append(t / "aero", Resequenced(log.Range(301, 320), 1));
  const size_t files = std::distance(fsys::directory_iterator(t / "t2"), fsys::directory_iterator());
  Status s = Ship(t / "aero", t / "t2", 3000);
  CHECK(s.code() == Code::kGap);
  CHECK(s.message().find("251..300") != std::string::npos);
  CHECK(s.hint().find(t / "aero/snapshots" / kSnapshotId) != std::string::npos);
  CHECK(std::distance(fsys::directory_iterator(t / "t2"), fsys::directory_iterator()) == files);
  repl::ShipReport sr;
  REQUIRE(Ship(t / "aero", t / "t1", 3000, false, &sr).ok());
  CHECK(sr.shipped_commit == 320);
}

TEST_CASE("COMPAT-7 a checkpoint over commits no run read: history cut, 3, naming the commits and the snapshot") {
  TempDir t;
  const AeroLog& log = Log();
  MakeAeroDir(t / "aero", log.Range(1, 250));
  REQUIRE(Init(t / "aero").ok());
  REQUIRE(PosixFs().MakeDir(t / "target").ok());
  REQUIRE(Ship(t / "aero", t / "target", 3000).ok());
  Append(t / "aero", log.Range(251, 300));
  AeroCheckpointAt300(t / "aero");
  Append(t / "aero", Resequenced(log.Range(301, 310), 1));
  Status s = Ship(t / "aero", t / "target", 3000);
  CHECK(s.code() == Code::kGap);
  CHECK(s.message().find("history cut") != std::string::npos);
  CHECK(s.message().find("251..300") != std::string::npos);
  CHECK(s.message().find(t / "aero/snapshots" / kSnapshotId) != std::string::npos);
  CHECK(s.hint().find("--re-enrol") != std::string::npos);
  auto n = engine::ReferenceNode::Open(PosixFs(), t / "aero", node::Access::kRead);
  CHECK(n.status().code() == Code::kGap);
  auto v = repl::Verify(PosixFs(), t / "aero", {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kGap);
  CHECK(repl::GetStatus(PosixFs(), t / "aero", std::nullopt).status().code() == Code::kGap);
}

TEST_CASE("COMPAT-9 init --re-enrol after a history cut: a new system id, and a replica installed from its export follows it") {
  TempDir t;
  const AeroLog& log = Log();
  MakeAeroDir(t / "aero", log.Range(1, 250));
  repl::EnrolReport first;
  REQUIRE(Init(t / "aero", false, &first).ok());
  REQUIRE(PosixFs().MakeDir(t / "old").ok());
  REQUIRE(Ship(t / "aero", t / "old", 3000).ok());
  REQUIRE(Apply(t / "old_replica", t / "old").ok());
  Append(t / "aero", log.Range(251, 300));
  AeroCheckpointAt300(t / "aero");
  Append(t / "aero", Resequenced(log.Range(301, 310), 1));
  REQUIRE(Ship(t / "aero", t / "old", 3000).code() == Code::kGap);
  CHECK(Init(t / "aero").code() == Code::kRefused);
  repl::EnrolReport rep;
  REQUIRE(Init(t / "aero", true, &rep).ok());
  CHECK(rep.previous_system_id == first.system_id);
  CHECK(rep.system_id != first.system_id);
  CHECK(rep.base_commit == 300);
  CHECK(rep.base_snapshot == kSnapshotId);
  CHECK(rep.applied_commit == 310);
  CHECK_FALSE(fsys::exists(t / "aero/.replication.retired.tmp"));
  repl::ExportOptions eo;
  eo.data_dir = t / "aero";
  eo.output = t / "new.tar.zst";
  REQUIRE(repl::ExportSnapshot(PosixFs(), eo, nullptr).ok());
  REQUIRE(repl::InstallSnapshot(PosixFs(), repl::InstallOptions{t / "r2", eo.output, false}, nullptr).ok());
  REQUIRE(PosixFs().MakeDir(t / "new").ok());
  // AeroDB's counter goes on from the records of 301..310.
  Append(t / "aero", Resequenced(log.Range(301, 330), 1).substr(log.end[310] - log.end[300]));
  REQUIRE(Ship(t / "aero", t / "new", 3000).ok());
  REQUIRE(Apply(t / "r2", t / "new").ok());
  CHECK(StateOf(t / "r2").applied_commit == 330);
  CHECK(StateAt(t / "r2", 330) == Replay(kMvcc + "/wal/wal.log", 330));
  // A replica of the old history refuses the new one: another system.
  CHECK(Apply(t / "old_replica", t / "new").code() == Code::kRefused);
}

namespace {

// AeroDB checkpoints in place (same file, truncated) at the second open of
// its WAL: after ship-wal's open proved the log, before it reads it.
class CheckpointingFs : public ForwardingFs {
 public:
  explicit CheckpointingFs(std::string dir) : dir_(std::move(dir)) {}
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& p) override {
    if (p == dir_ + "/wal/wal.log" && ++opens_ == 2) {
      AeroCheckpointAt300(dir_);
      Append(dir_, Resequenced(Log().Range(301, 310), 1));
    }
    return ForwardingFs::OpenRead(p);
  }

 private:
  std::string dir_;
  int opens_ = 0;
};

}  // namespace

TEST_CASE("COMPAT-7 AeroDB's checkpoint during a ship-wal run: 7 and a re-run that follows it, never a halt") {
  TempDir t;
  const AeroLog& log = Log();
  MakeAeroDir(t / "aero", log.Range(1, 250));
  REQUIRE(Init(t / "aero").ok());
  REQUIRE(PosixFs().MakeDir(t / "target").ok());
  REQUIRE(Ship(t / "aero", t / "target", 3000).ok());
  Append(t / "aero", log.Range(251, 300));
  CheckpointingFs fs(t / "aero");
  repl::ShipOptions o;
  o.data_dir = t / "aero";
  o.target = t / "target";
  o.max_segment_bytes = 3000;
  Status raced = repl::ShipWal(fs, o, nullptr);
  CHECK(raced.code() == Code::kLocked);
  CHECK(raced.message().find("log checkpointed while shipping") != std::string::npos);
  CHECK_FALSE(fsys::exists(t / "aero/replication/halt.json"));
  // The re-run judges the checkpoint: this target had only part of 251..300,
  // and no run read the rest, so the history is cut (COMPAT-7), said as 3.
  Status rerun = Ship(t / "aero", t / "target", 3000);
  CHECK(rerun.code() == Code::kGap);
  CHECK_FALSE(fsys::exists(t / "aero/replication/halt.json"));
}
