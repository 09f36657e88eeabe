#include <doctest/doctest.h>

#include "node/state.h"
#include "node/store.h"
#include "engine/reference_node.h"
#include "engine/workload.h"
#include "repl/ship.h"
#include "repl/verify.h"
#include "segment/segment.h"

#include <algorithm>
#include <filesystem>
#include "support/forwarding_fs.h"
#include "support/repl_fixture.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::testing;

namespace {

std::string MakeNode(const TempDir& t, int commits) {
  const std::string dir = t / "db";
  REQUIRE(node::Node::Init(PosixFs(), dir).ok());
  auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kWrite);
  REQUIRE(n.ok());
  for (int i = 0; i < commits; ++i) {
    REQUIRE((*n)->Commit({{engine::Op::Kind::kPut, "c", "k" + std::to_string(i), "{}"}}).ok());
  }
  REQUIRE((*n)->Close().ok());
  return dir;
}

int Count(const repl::VerifyReport& r, const std::string& kind) {
  int n = 0;
  for (auto& f : r.findings) n += f.kind == kind;
  return n;
}

}  // namespace

TEST_CASE("verify data dir: summary of a healthy node") {
  TempDir t;
  const std::string dir = MakeNode(t, 5);
  auto r = repl::Verify(PosixFs(), dir, {});
  REQUIRE(r.ok());
  CHECK(r->kind == "data-dir");
  CHECK(r->outcome() == Code::kOk);
  CHECK(r->findings.empty());
  REQUIRE(r->wal);
  CHECK(r->wal->records == 10);
  CHECK(r->wal->write_sets == 5);
  CHECK(r->wal->first_commit == 1);
  CHECK(r->wal->last_commit == 5);
  CHECK(r->wal->first_sequence == 1);
  CHECK(r->wal->last_sequence == 10);
  auto state = node::LoadState(PosixFs(), dir, *node::LoadIdentity(PosixFs(), dir));
  CHECK(r->wal->digest == state->applied_digest);
}

TEST_CASE("verify data dir: a flipped byte is damage with its offset") {
  TempDir t;
  const std::string dir = MakeNode(t, 5);
  std::string wal = ReadFile(dir + "/wal/wal.log");
  const size_t third = wal.size() / 5 * 2;  // every write set has the same size here
  FlipBitInFile(dir + "/wal/wal.log", third + 14, 0);
  auto r = repl::Verify(PosixFs(), dir, {});
  REQUIRE(r.ok());
  CHECK(r->outcome() == Code::kDamage);
  REQUIRE(Count(*r, "corrupt") == 1);
  for (auto& f : r->findings) {
    if (f.kind == "corrupt") CHECK(f.offset == third);
  }
  // The log now ends before what state.json acknowledges: reported too.
  CHECK(Count(*r, "state") == 1);
}

TEST_CASE("verify data dir: a digest that disagrees with state.json is damage") {
  TempDir t;
  const std::string dir = MakeNode(t, 2);
  auto s = node::LoadState(PosixFs(), dir, *node::LoadIdentity(PosixFs(), dir));
  s->applied_digest[0] ^= 1;
  REQUIRE(node::SaveState(PosixFs(), dir, *s).ok());
  auto r = repl::Verify(PosixFs(), dir, {});
  CHECK(Count(*r, "digest") == 1);
  CHECK(r->outcome() == Code::kDamage);
}

TEST_CASE("ARC-3 NODE-4 NODE-7 verify data dir: what the open refuses is an open finding, the open's code") {
  TempDir t;
  const std::string dir = MakeNode(t, 3);
  const node::NodeState good = *node::LoadState(PosixFs(), dir, *node::LoadIdentity(PosixFs(), dir));
  // Each edit is seen only by the open's checks: verify's own reading of
  // the log and the storage finds nothing.
  for (int edit = 0; edit < 2; ++edit) {
    node::NodeState s = good;
    if (edit == 0) s.next_sequence += 2;  // NODE-7
    if (edit == 1) s.epoch = 2;           // RECOV-2: no history file for epoch 2
    REQUIRE(node::SaveState(PosixFs(), dir, s).ok());
    const Status open = node::Node::Open(PosixFs(), dir, node::Access::kRead).status();
    REQUIRE(open.code() == Code::kDamage);
    auto r = repl::Verify(PosixFs(), dir, {});
    REQUIRE(r.ok());
    CHECK(Count(*r, "open") == 1);
    REQUIRE(r->findings.size() == 1);
    CHECK(r->findings.front().message == "open '" + dir + "': " + open.message());
    CHECK(r->findings.front().hint == open.hint());
    CHECK(r->outcome() == Code::kDamage);
  }
  REQUIRE(node::SaveState(PosixFs(), dir, good).ok());
  auto healthy = repl::Verify(PosixFs(), dir, {});
  CHECK(Count(*healthy, "open") == 0);
  CHECK(healthy->outcome() == Code::kOk);
}

TEST_CASE("NODE-4 FM-22 verify data dir: a replica's bytes past applied.wal_offset are a notice, never damage, as apply-wal and reads see them") {
  TempDir t;
  MakePrimary(t / "p", 40);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out", 3000).ok());
  repl::ApplyOptions o;
  o.data_dir = t / "r";
  o.inbox = t / "out";
  o.until = 20;
  REQUIRE(repl::ApplyWal(PosixFs(), o, nullptr).ok());
  const uint64_t acked = StateOf(t / "r").applied_wal_offset;
  REQUIRE(acked > 0);
  // An append a crash cut short: the primary's next write sets, then a
  // block its writeback lost (zeros), then more of them.
  const std::string more = ReadFile(t / "p/wal/wal.log").substr(acked, 6000);
  REQUIRE(more.size() == 6000);
  std::string appended = more;
  std::fill(appended.begin() + 2000, appended.begin() + 3000, '\0');
  WriteFile(t / "r/wal/wal.log", ReadFile(t / "r/wal/wal.log") + appended);
  auto r = repl::Verify(PosixFs(), t / "r", {});
  REQUIRE(r.ok());
  CHECK(r->outcome() == Code::kOk);
  CHECK(Count(*r, "corrupt") == 0);
  REQUIRE(Count(*r, "unacknowledged") == 1);
  for (const auto& f : r->findings) {
    if (f.kind != "unacknowledged") continue;
    CHECK(f.severity == repl::Severity::kNotice);
    CHECK(f.offset == acked);
    CHECK(f.message.find("6000 bytes past applied.wal_offset") != std::string::npos);
  }
  REQUIRE(r->wal);
  CHECK(r->wal->last_commit == 20);
  // The same node as apply-wal opens it: it drops the bytes and goes on.
  REQUIRE(Apply(t / "r", t / "out").ok());
  CHECK(StateOf(t / "r").applied_commit == 40);
  auto after = repl::Verify(PosixFs(), t / "r", {});
  CHECK(after->outcome() == Code::kOk);
  CHECK(Count(*after, "unacknowledged") == 0);
  // A primary's log is judged whole: damage there is the primary's own.
  std::string pwal = ReadFile(t / "p/wal/wal.log");
  FlipBit(&pwal, pwal.size() - 10, 0);
  WriteFile(t / "p/wal/wal.log", pwal);
  CHECK(repl::Verify(PosixFs(), t / "p", {})->outcome() == Code::kDamage);
}

TEST_CASE("NODE-4 verify data dir: a node whose wal/wal.log is gone is judged by its open (1), not 'nothing to verify' (2)") {
  TempDir t;
  const std::string dir = MakeNode(t, 3);
  std::filesystem::remove(dir + "/wal/wal.log");
  const Status open = node::Node::Open(PosixFs(), dir, node::Access::kRead).status();
  REQUIRE(open.code() == Code::kDamage);
  auto r = repl::Verify(PosixFs(), dir, {});
  REQUIRE(r.ok());
  CHECK(r->kind == "data-dir");
  CHECK(r->outcome() == Code::kDamage);
  CHECK(Count(*r, "open") == 1);
  // A node that never wrote: no log is nothing wrong.
  const std::string empty = t / "empty";
  REQUIRE(node::Node::Init(PosixFs(), empty).ok());
  std::filesystem::remove(empty + "/wal/wal.log");
  auto e = repl::Verify(PosixFs(), empty, {});
  REQUIRE(e.ok());
  CHECK(e->outcome() == Code::kOk);
  CHECK(Count(*e, "no-wal") == 1);
}

TEST_CASE("verify data dir: a damaged checkpoint snapshot fails its AeroDB checksum") {
  TempDir t;
  const std::string dir = MakeNode(t, 3);
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  FlipBitInFile(dir + "/snapshots/00000000000000000003/storage.dat", 12, 0);
  auto r = repl::Verify(PosixFs(), dir, {});
  CHECK(Count(*r, "checksum") == 1);
  CHECK(r->outcome() == Code::kDamage);
}

// A trial: the finding named the offset in its message only, with no hint.
TEST_CASE("verify data dir: a damaged storage record is 1 with its offset, its index and a hint") {
  TempDir t;
  const std::string dir = MakeNode(t, 40);
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kWrite);
    REQUIRE((*n)->Checkpoint().ok());
  }
  const std::string docs = dir + "/data/documents.dat";
  const uint64_t size = std::filesystem::file_size(docs);
  REQUIRE(size > 1000);
  FlipBitInFile(docs, size / 2, 1);
  auto r = repl::Verify(PosixFs(), dir, {});
  REQUIRE(r.ok());
  CHECK(r->outcome() == Code::kDamage);
  bool found = false;
  for (const repl::Finding& f : r->findings) {
    if (f.kind != "storage") continue;
    found = true;
    REQUIRE(f.offset);
    REQUIRE(f.index);
    CHECK(*f.offset <= size / 2);
    CHECK(*f.index > 0);
    CHECK(f.message.find("at offset " + std::to_string(*f.offset)) != std::string::npos);
    CHECK(!f.hint.empty());
  }
  CHECK(found);
}

TEST_CASE("verify WAL file: torn tail is a notice, exit ok") {
  TempDir t;
  WalBuilder b;
  b.WriteSets(1, 3);
  WriteFile(t / "wal.log", b.bytes().substr(0, b.bytes().size() - 5));
  auto r = repl::Verify(PosixFs(), t / "wal.log", {});
  CHECK(r->outcome() == Code::kOk);
  CHECK(Count(*r, "torn-tail") == 1);
  CHECK(r->wal->write_sets == 2);
}

TEST_CASE("verify WAL file: --system-id seeds the digest (HIST-4)") {
  TempDir t;
  WriteFile(t / "wal.log", WalBuilder().WriteSets(1, 2).bytes());
  repl::VerifyOptions opt;
  auto zero = repl::Verify(PosixFs(), t / "wal.log", opt);
  CHECK(zero->wal->digest_from_zero_system_id);
  opt.system_id_hex = "00112233445566778899aabbccddeeff";
  auto seeded = repl::Verify(PosixFs(), t / "wal.log", opt);
  CHECK_FALSE(seeded->wal->digest_from_zero_system_id);
  CHECK(zero->wal->digest != seeded->wal->digest);
}

TEST_CASE("verify: absent path is kNotFound, a plain directory is a usage error") {
  TempDir t;
  CHECK(repl::Verify(PosixFs(), t / "absent", {}).status().code() == Code::kNotFound);
  CHECK(repl::Verify(PosixFs(), t.path(), {}).status().code() == Code::kUsage);
}

namespace {
std::vector<std::string> SegNames(const std::string& dir) {
  std::vector<std::string> out;
  auto entries = PosixFs().ListDir(dir);
  REQUIRE(entries.ok());
  for (auto& e : *entries) {
    if (segment::ParseSegmentName(e.name)) out.push_back(e.name);
  }
  return out;
}
std::string ShipSmall(const TempDir& t, const std::string& name, int commits, uint64_t seed) {
  const std::string dir = t / name;
  REQUIRE(node::Node::Init(PosixFs(), dir).ok());
  auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kWrite);
  engine::WorkloadOptions w;
  w.write_sets = commits;
  w.seed = seed;
  REQUIRE(engine::RunWorkload(**n, w).ok());
  REQUIRE((*n)->Close().ok());
  n.value().reset();
  const std::string out = t / (name + "-out");
  REQUIRE(PosixFs().MakeDir(out).ok());
  repl::ShipOptions o;
  o.data_dir = dir;
  o.target = out;
  o.max_segment_bytes = 4000;
  REQUIRE(repl::ShipWal(PosixFs(), o, nullptr).ok());
  return out;
}
}  // namespace

TEST_CASE("verify segment dir: a healthy archive is ok, with its commit range") {
  TempDir t;
  const std::string out = ShipSmall(t, "p", 40, 1);
  auto r = repl::Verify(PosixFs(), out, {});
  REQUIRE(r.ok());
  CHECK(r->kind == "segment-dir");
  CHECK(r->outcome() == Code::kOk);
  CHECK(r->first_commit == 1);
  CHECK(r->last_commit == 40);
  CHECK(r->segments.size() == SegNames(out).size());
}

TEST_CASE("verify segment dir: gap (3), in transit (8), corrupt (1), foreign (5) each reported") {
  TempDir t;
  const std::string out = ShipSmall(t, "p", 60, 1);
  auto names = SegNames(out);
  REQUIRE(names.size() >= 5);
  std::filesystem::remove(out + "/" + names[1]);
  auto gap = repl::Verify(PosixFs(), out, {});
  CHECK(gap->outcome() == Code::kGap);
  CHECK(Count(*gap, "gap") == 1);
  TruncateFile(out + "/" + names[3], 100);
  auto transit = repl::Verify(PosixFs(), out, {});
  CHECK(Count(*transit, "in-transit") == 1);
  CHECK(Count(*transit, "gap") >= 1);
  CHECK(transit->outcome() == Code::kGap);  // the first in CommitId order decides
  FlipBitInFile(out + "/" + names[4], 300, 1);
  auto corrupt = repl::Verify(PosixFs(), out, {});
  CHECK(Count(*corrupt, "corrupt") == 1);
  // ARC-3: the exit code is apply-wal's: it stops at the gap, which comes
  // first in CommitId order; the damage after it is still listed.
  CHECK(corrupt->outcome() == Code::kGap);
  // every finding is listed, not just the first
  CHECK(corrupt->findings.size() >= 3);
}

TEST_CASE("ARC-3 LOG-11 verify segment dir: another database's segment is foreign (5) at the next commit and past a gap, as apply-wal says") {
  TempDir t;
  const std::string p = ShipSmall(t, "p", 20, 1);
  const std::string q = ShipSmall(t, "q", 60, 2);
  const std::vector<std::string> qs = SegNames(q);
  const auto next = std::find_if(qs.begin(), qs.end(), [](const std::string& n) {
    return segment::ParseSegmentName(n)->last_commit >= 21;  // holds p's next commit
  });
  REQUIRE(next != qs.end());
  REQUIRE(segment::ParseSegmentName(qs.back())->first_commit > 21);
  struct Case {
    std::string name;
    Code code;
    bool halts;
  };
  for (const Case& c : {Case{*next, Code::kRefused, true}, Case{qs.back(), Code::kRefused, true}}) {
    CAPTURE(c.name);
    const std::string in = t / ("in-" + c.name);
    std::filesystem::copy(p, in);
    std::filesystem::copy(q + "/" + c.name, in + "/" + c.name);
    auto r = repl::Verify(PosixFs(), in, {});
    CHECK(Count(*r, "foreign") == 1);  // reported either way
    CHECK(r->outcome() == c.code);
    const std::string replica = t / ("r-" + c.name);
    CHECK(Apply(replica, in).code() == c.code);
    CHECK(FileExists(replica + "/replication/halt.json") == c.halts);
  }
}

TEST_CASE("verify segment dir: two histories meeting are diverged (4)") {
  TempDir t;
  auto commit = [](const std::string& dir, const std::string& id) {
    auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kWrite);
    REQUIRE(n.ok());
    REQUIRE((*n)->Commit({{engine::Op::Kind::kPut, "c", id, "{}"}}).ok());
    REQUIRE((*n)->Close().ok());
  };
  auto ship = [&](const std::string& dir, const std::string& out) {
    repl::ShipOptions o;
    o.data_dir = dir;
    o.target = out;
    REQUIRE(repl::ShipWal(PosixFs(), o, nullptr).ok());
  };
  REQUIRE(node::Node::Init(PosixFs(), t / "p").ok());
  for (int i = 0; i < 5; ++i) commit(t / "p", "k" + std::to_string(i));
  std::filesystem::copy(t / "p", t / "q", std::filesystem::copy_options::recursive);
  commit(t / "p", "p6");  // p and q now differ at commit 6
  commit(t / "q", "q6");
  REQUIRE(PosixFs().MakeDir(t / "a").ok());
  REQUIRE(PosixFs().MakeDir(t / "b").ok());
  ship(t / "p", t / "a");  // p: 1..6
  ship(t / "q", t / "b");  // q: 1..6
  commit(t / "q", "q7");
  for (auto& n : SegNames(t / "b")) std::filesystem::remove(t / "b" / n);
  ship(t / "q", t / "b");  // q: 7..7, whose digest_before is q's H(6)
  for (auto& n : SegNames(t / "b")) std::filesystem::copy(t / "b" / n, t / "a" / n);
  auto r = repl::Verify(PosixFs(), t / "a", {});
  CHECK(Count(*r, "diverged") == 1);
  CHECK(r->outcome() == Code::kDiverged);
}

TEST_CASE("verify one segment: kind, header fields, and a truncated copy is in transit (8)") {
  TempDir t;
  const std::string out = ShipSmall(t, "p", 10, 1);
  const std::string seg = out + "/" + SegNames(out).at(0);
  auto r = repl::Verify(PosixFs(), seg, {});
  CHECK(r->kind == "segment");
  CHECK(r->outcome() == Code::kOk);
  CHECK(r->segments.at(0).first_commit == 1);
  // Found by its magic even under another name.
  std::filesystem::copy(seg, t / "copy.bin");
  TruncateFile(t / "copy.bin", 500);
  auto c = repl::Verify(PosixFs(), t / "copy.bin", {});
  CHECK(c->kind == "segment");
  CHECK(c->outcome() == Code::kInTransit);
}

TEST_CASE("verify DIR judges two segments at a time and reports them in catalog order, each finding at its segment") {
  // Segments are judged on two threads (each alone, from its own
  // digest_before); the report must read as a sequential pass's: summaries
  // in name order, every finding at the first commit of its own segment.
  TempDir t;
  const std::string db = MakeNode(t, 200);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  repl::ShipOptions so;
  so.data_dir = db;
  so.target = t / "out";
  so.max_segment_bytes = 600;
  REQUIRE(repl::ShipWal(PosixFs(), so, nullptr).ok());
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(t / "out")) {
    if (e.path().extension() == ".seg") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() > 20);
  // Damage two segments far apart, a flipped body byte and a cut.
  const std::string flipped = t / "out" / names[3], cut = t / "out" / names[names.size() - 5];
  std::string bytes = ReadFile(flipped);
  bytes[200] = static_cast<char>(bytes[200] ^ 0x10);
  WriteFile(flipped, bytes);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 7);
  for (int run = 0; run < 3; ++run) {
    Result<repl::VerifyReport> r = repl::Verify(PosixFs(), t / "out", {});
    REQUIRE(r.ok());
    REQUIRE(r->segments.size() == names.size());
    for (size_t i = 0; i < names.size(); ++i) CHECK(r->segments[i].path == t / "out" / names[i]);
    CHECK(r->segments[3].state == "corrupt");
    CHECK(r->segments[names.size() - 5].state == "in-transit");
    CHECK(Count(*r, "corrupt") == 1);
    CHECK(Count(*r, "in-transit") == 1);
    for (const repl::Finding& f : r->findings) {
      if (f.kind == "corrupt") CHECK(f.at_commit == segment::ParseSegmentName(names[3])->first_commit);
      if (f.kind == "in-transit") {
        CHECK(f.at_commit == segment::ParseSegmentName(names[names.size() - 5])->first_commit);
      }
    }
    CHECK(r->outcome() == Code::kDamage);
  }
}

namespace {
// A file that cannot be opened, with a fault that names no hint of its own.
class HintlessDenyFs : public testing::ForwardingFs {
 public:
  explicit HintlessDenyFs(std::string denied) : denied_(std::move(denied)) {}
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& p) override {
    if (p == denied_) return Status(Code::kIo, "cannot open '" + p + "': Permission denied");
    return ForwardingFs::OpenRead(p);
  }

 private:
  std::string denied_;
};
}  // namespace

// Exit 10 always comes with a hint: an operator trial's unreadable segment
// (chmod 000) gave 'io: cannot open ...' and nothing else.
TEST_CASE("verify: an I/O finding always carries a hint (10 with a hint)") {
  TempDir t;
  MakePrimary(t / "p", 40);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out", 3000).ok());
  const std::vector<std::string> segs = Segments(t / "out");
  REQUIRE(segs.size() > 2);
  for (const std::string& target : {t / "out" / segs[1], t / "p/wal/wal.log"}) {
    CAPTURE(target);
    HintlessDenyFs fs(target);
    auto v = repl::Verify(fs, target == t / "p/wal/wal.log" ? t / "p" : t / "out", {});
    REQUIRE(v.ok());
    CHECK(v->outcome() == Code::kIo);
    bool io = false;
    for (const repl::Finding& f : v->findings) {
      if (f.severity != repl::Severity::kIo) continue;
      io = true;
      CHECK(!f.hint.empty());
    }
    CHECK(io);
  }
}

// verify(1): a directory of segments names its database, from the headers
// of its oldest valid segment (a trial saw null in --json).
TEST_CASE("verify segment dir: the report names the system id of its segments") {
  TempDir t;
  MakePrimary(t / "p", 10);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out", 3000).ok());
  auto r = repl::Verify(PosixFs(), t / "out", {});
  REQUIRE(r.ok());
  REQUIRE(r->system_id);
  CHECK(*r->system_id == node::LoadIdentity(PosixFs(), t / "p")->system_id.ToHex());
}

TEST_CASE("NODE-5 verify in a checkpoint's window (state written, log not emptied) is a notice, never damage") {
  TempDir t;
  const std::string dir = MakeNode(t, 5);
  const std::string old_wal = ReadFile(dir + "/wal/wal.log");
  {
    auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kWrite);
    REQUIRE(n.ok());
    REQUIRE((*n)->Checkpoint().ok());
    REQUIRE((*n)->Close().ok());
  }
  WriteFile(dir + "/wal/wal.log", old_wal);  // as if step 5 never ran
  auto r = repl::Verify(PosixFs(), dir, {});
  REQUIRE(r.ok());
  CHECK(r->outcome() == Code::kOk);  // before: commit-order and digest damage, 1
  bool window = false;
  for (const repl::Finding& f : r->findings) {
    CHECK(f.severity == repl::Severity::kNotice);
    window = window || f.kind == "checkpoint-window";
  }
  CHECK(window);
  // A log that does not end at the base is still damage, as the open says.
  TruncateFile(dir + "/wal/wal.log", old_wal.size() - 1);
  r = repl::Verify(PosixFs(), dir, {});
  REQUIRE(r.ok());
  CHECK(r->outcome() == Code::kDamage);
}

TEST_CASE("LOG-32 verify of a directory finds a segment whose first sequence does not follow the one before") {
  TempDir t;
  MakePrimary(t / "p", 20, 1);
  REQUIRE(PosixFs().MakeDir(t / "out").ok());
  REQUIRE(Ship(t / "p", t / "out").ok());
  Write(t / "p", 5, 10);
  REQUIRE(Ship(t / "p", t / "out").ok());
  const std::string next = SegmentStartingAt(t / "out", 21);
  const std::string honest = ReadFile(t / "out" / next);
  REQUIRE(repl::Verify(PosixFs(), t / "out", {})->outcome() == Code::kOk);
  WriteFile(t / "out" / next, WithSequencesFrom(honest, 100));
  auto v = repl::Verify(PosixFs(), t / "out", {});
  REQUIRE(v.ok());
  CHECK(v->outcome() == Code::kDamage);
  bool named = false;
  for (const auto& f : v->findings) named |= f.kind == "sequence" && f.subject == t / "out" / next;
  CHECK(named);
  // As apply-wal says on the replica that the segments before built.
  REQUIRE(Apply(t / "r", t / "out").code() == Code::kDamage);
  WriteFile(t / "out" / next, WithSequencesFrom(honest, 1));  // AeroDB's restart: valid
  CHECK(repl::Verify(PosixFs(), t / "out", {})->outcome() == Code::kOk);
}
