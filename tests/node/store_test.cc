#include <doctest/doctest.h>

#include <filesystem>

#include "common/file_util.h"
#include "node/layout.h"
#include "engine/reference_node.h"
#include "node/store.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::node;
using namespace aero::engine;
using namespace aero::testing;

namespace {

std::unique_ptr<ReferenceNode> OpenW(const std::string& dir) {
  auto n = ReferenceNode::Open(PosixFs(), dir, Access::kWrite);
  REQUIRE(n.ok());
  return std::move(n).value();
}

Op Put(const std::string& c, const std::string& id, const std::string& body) {
  return Op{Op::Kind::kPut, c, id, body};
}
Op Del(const std::string& c, const std::string& id) { return Op{Op::Kind::kDelete, c, id, ""}; }

void SetRole(const std::string& dir, Role role) {
  auto s = LoadState(PosixFs(), dir, *LoadIdentity(PosixFs(), dir));
  REQUIRE(s.ok());
  s->role = role;
  REQUIRE(SaveState(PosixFs(), dir, *s).ok());
}

}  // namespace

TEST_CASE("MODEL-4 init: a primary at epoch 1, commit 0, the seed digest") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  auto n = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  REQUIRE(n.ok());
  CHECK((*n)->state().role == Role::kPrimary);
  CHECK((*n)->state().epoch == 1);
  CHECK((*n)->state().applied_commit == 0);
  CHECK((*n)->state().applied_digest == history::SeedDigest((*n)->identity().system_id));
  CHECK(FileExists(dir + "/wal/wal.log"));
  CHECK(FileExists(dir + "/data/documents.dat"));
  CHECK(FileExists(dir + "/metadata/schemas"));
}

TEST_CASE("init refuses a non-empty directory and changes nothing") {
  TempDir t;
  WriteFile(t / "keep", "x");
  Status s = Node::Init(PosixFs(), t.path());
  CHECK(s.code() == Code::kRefused);
  CHECK(s.message() == "refusing to initialise '" + t.path() + "': the directory is not empty");
  CHECK(ReadFile(t / "keep") == "x");
}

TEST_CASE("init into an existing empty directory") {
  TempDir t;
  REQUIRE(PosixFs().MakeDir(t / "db").ok());
  CHECK(Node::Init(PosixFs(), t / "db").ok());
  CHECK(FileExists(t / "db/replication/identity.json"));
}

TEST_CASE("NODE-10 commit: Insert, Update, Delete and reads at every CommitId") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  auto n = OpenW(dir);
  CHECK(*n->Commit({Put("users", "u1", "{\"v\":1}")}) == 1);
  CHECK(*n->Commit({Put("users", "u1", "{\"v\":2}"), Put("orders", "o1", "{}")}) == 2);
  CHECK(*n->Commit({Del("users", "u1")}) == 3);
  REQUIRE(n->Close().ok());
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  REQUIRE(r.ok());
  CHECK((*r)->ReadAt(1)->at({"users", "u1"}).body == "{\"v\":1}");
  CHECK((*r)->ReadAt(2)->at({"users", "u1"}).body == "{\"v\":2}");
  CHECK((*r)->ReadAt(3)->count({"users", "u1"}) == 0);
  CHECK((*r)->ReadAt(3)->size() == 1);
  CHECK((*r)->ReadAt(0)->empty());
  CHECK((*r)->ReadAt(4).status().code() == Code::kGap);
}

TEST_CASE("commit: record types follow the document's existence") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  auto n = OpenW(dir);
  REQUIRE(n->Commit({Put("c", "a", "{}"), Put("c", "a", "{}"), Del("c", "a")}).ok());
  std::string wal = ReadFile(dir + "/wal/wal.log");
  // Insert, Update, Delete, MvccCommit
  CHECK(wal[4] == 0);
  size_t second = static_cast<unsigned char>(wal[0]);
  CHECK(wal[second + 4] == 1);
}

TEST_CASE("delete of an absent document is kNotFound and writes nothing") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  auto n = OpenW(dir);
  auto r = n->Commit({Del("users", "ghost")});
  CHECK(r.status().code() == Code::kNotFound);
  CHECK(ReadFile(dir + "/wal/wal.log").empty());
  CHECK(n->state().applied_commit == 0);
}

TEST_CASE("MODEL-2 a replica refuses writes with kRefused") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  SetRole(dir, Role::kReplica);
  auto n = OpenW(dir);
  auto r = n->Commit({Put("c", "a", "{}")});
  CHECK(r.status().code() == Code::kRefused);
  CHECK(r.status().message().find("this node is a replica") != std::string::npos);
  CHECK(ReadFile(dir + "/wal/wal.log").empty());
}

TEST_CASE("NODE-9 a halted node refuses writes and reads with kHalted") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  REQUIRE(SaveHalt(PosixFs(), dir, {"corrupt", "x.seg", "crc mismatch", 5}).ok());
  auto n = OpenW(dir);
  CHECK(n->Commit({Put("c", "a", "{}")}).status().code() == Code::kHalted);
  CHECK(n->CheckReadable().code() == Code::kHalted);
  CHECK(n->Checkpoint().status().code() == Code::kHalted);
}

TEST_CASE("NODE-6 a second writer gets kLocked, readers don't lock") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  auto n = OpenW(dir);
  CHECK(ReferenceNode::Open(PosixFs(), dir, Access::kWrite).status().code() == Code::kLocked);
  CHECK(ReferenceNode::Open(PosixFs(), dir, Access::kRead).ok());
}

TEST_CASE("NODE-4 write sets beyond state.json are rolled forward at open") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  history::Digest digest;
  {
    auto n = OpenW(dir);
    REQUIRE(n->Commit({Put("c", "a", "{}")}).ok());
    REQUIRE(n->Commit({Put("c", "b", "{}")}).ok());
    digest = n->state().applied_digest;
    // No Close(): state.json still says commit 0.
  }
  CHECK(LoadState(PosixFs(), dir, *LoadIdentity(PosixFs(), dir))->applied_commit == 0);
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  REQUIRE(r.ok());
  CHECK((*r)->state().applied_commit == 2);
  CHECK((*r)->state().applied_digest == digest);
  CHECK((*r)->open_report().rolled_forward == 2);
  auto w = OpenW(dir);
  CHECK(LoadState(PosixFs(), dir, *LoadIdentity(PosixFs(), dir))->applied_commit == 2);  // made durable by a write open
  CHECK(*w->Commit({Put("c", "c", "{}")}) == 3);
}

TEST_CASE("NODE-4 an uncommitted or torn tail is dropped at write open, ignored at read") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  {
    auto n = OpenW(dir);
    REQUIRE(n->Commit({Put("c", "a", "{}")}).ok());
    REQUIRE(n->Close().ok());
  }
  const std::string wal = dir + "/wal/wal.log";
  const size_t good = ReadFile(wal).size();
  WalBuilder tail(100);
  tail.Insert("c", "uncommitted", "{}");
  WriteFile(wal, ReadFile(wal) + tail.bytes() + std::string("\x30\x00", 2));
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  REQUIRE(r.ok());
  CHECK((*r)->open_report().ignored_tail_bytes == tail.bytes().size() + 2);
  CHECK((*r)->ReadAt(1)->count({"c", "uncommitted"}) == 0);
  CHECK(ReadFile(wal).size() > good);
  auto w = OpenW(dir);
  CHECK(w->open_report().truncated_bytes == tail.bytes().size() + 2);
  CHECK(ReadFile(wal).size() == good);
}

TEST_CASE("NODE-4 a corrupt record beyond state.json is refused as damage") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  {
    auto n = OpenW(dir);
    REQUIRE(n->Commit({Put("c", "a", "{}")}).ok());
  }
  FlipBitInFile(dir + "/wal/wal.log", 20, 2);
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  CHECK(r.status().code() == Code::kDamage);
  CHECK(r.status().message().find("crc mismatch") != std::string::npos);
}

TEST_CASE("NODE-4 a WAL shorter than state.json records is refused as damage") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  {
    auto n = OpenW(dir);
    REQUIRE(n->Commit({Put("c", "a", "{}")}).ok());
    REQUIRE(n->Close().ok());
  }
  TruncateFile(dir + "/wal/wal.log", 10);
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  CHECK(r.status().code() == Code::kDamage);
  CHECK(r.status().message().find("state.json records commit 1 ending at byte") !=
        std::string::npos);
}

TEST_CASE("NODE-5 checkpoint: same documents, empty WAL, snapshot at the boundary") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  auto n = OpenW(dir);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(n->Commit({Put("c", "k" + std::to_string(i % 7), "{\"i\":" + std::to_string(i) + "}")}).ok());
  }
  REQUIRE(n->Commit({Del("c", "k3")}).ok());
  Documents before = *n->ReadAt(21);
  auto id = n->Checkpoint();
  REQUIRE(id.ok());
  CHECK(*id == "00000000000000000021");  // NODE-8
  CHECK(ReadFile(dir + "/wal/wal.log").empty());
  CHECK(FileExists(dir + "/snapshots/00000000000000000021/manifest.json"));
  CHECK(ReadFile(dir + "/data/documents.dat") ==
        ReadFile(dir + "/snapshots/00000000000000000021/storage.dat"));
  CHECK(n->ReadAt(21)->size() == before.size());
  CHECK(n->ReadAt(20).status().code() == Code::kNotFound);  // below base now
  REQUIRE(n->Commit({Put("c", "new", "{}")}).ok());
  REQUIRE(n->Close().ok());
  n.reset();  // releases the lock
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  REQUIRE(r.ok());
  Documents after = *(*r)->ReadAt(22);
  after.erase({"c", "new"});
  CHECK(after.size() == before.size());
  for (auto& [k, d] : before) CHECK(after.at(k).body == d.body);
  // A second checkpoint at the same boundary is a no-op.
  auto w = OpenW(dir);
  CHECK(*w->Checkpoint() == "00000000000000000022");
}

TEST_CASE("NODE-5 a checkpoint of many schema files writes a manifest over 1 MiB, and the node opens") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  auto n = OpenW(dir);
  REQUIRE(n->Commit({Put("c", "k", "{}")}).ok());
  // Long names, so that fewer files make the manifest pass 1 MiB (30,000
  // short ones did in a trial).
  const std::string pad(200, 'x');
  for (int i = 0; i < 6000; ++i) WriteFile(dir + "/metadata/schemas/" + pad + std::to_string(10000 + i) + ".json", "");
  auto id = n->Checkpoint();
  REQUIRE(id.ok());
  REQUIRE(n->Close().ok());
  n.reset();
  const std::string manifest = dir + "/snapshots/" + *id + "/manifest.json";
  REQUIRE(std::filesystem::file_size(manifest) > (1u << 20));
  REQUIRE(std::filesystem::file_size(manifest) <= kMaxSnapshotManifestBytes);
  // Every open reads it (formats/node-layout.md): 1 MiB, the node's own
  // small files' bound, made a node no command would open.
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  REQUIRE(r.ok());
  CHECK((*r)->ReadAt(1)->size() == 1);
  CHECK(OpenW(dir) != nullptr);
}

TEST_CASE("NODE-7 sequences never rewind across a checkpoint") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  auto n = OpenW(dir);
  REQUIRE(n->Commit({Put("c", "a", "{}")}).ok());  // seq 1, 2
  REQUIRE(n->Checkpoint().ok());
  REQUIRE(n->Commit({Put("c", "b", "{}")}).ok());  // seq 3, 4
  std::string wal = ReadFile(dir + "/wal/wal.log");
  CHECK(static_cast<unsigned char>(wal[5]) == 3);
}

TEST_CASE("NODE-5 an interrupted checkpoint (state written, WAL not reset) is finished") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  std::string old_wal;
  {
    auto n = OpenW(dir);
    REQUIRE(n->Commit({Put("c", "a", "{\"x\":1}")}).ok());
    REQUIRE(n->Commit({Put("c", "b", "{}")}).ok());
    REQUIRE(n->Close().ok());
    old_wal = ReadFile(dir + "/wal/wal.log");
    REQUIRE(n->Checkpoint().ok());
  }
  WriteFile(dir + "/wal/wal.log", old_wal);  // as if step (5) never happened
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  REQUIRE(r.ok());
  CHECK((*r)->state().applied_commit == 2);
  CHECK((*r)->ReadAt(2)->at({"c", "a"}).body == "{\"x\":1}");
  auto w = OpenW(dir);
  CHECK(w->open_report().finished_checkpoint);
  CHECK(ReadFile(dir + "/wal/wal.log").empty());
  CHECK(*w->Commit({Put("c", "z", "{}")}) == 3);
}

TEST_CASE("MODEL-7 a fenced primary refuses writes and reads (5), naming the epoch") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  auto s = LoadState(PosixFs(), dir, *LoadIdentity(PosixFs(), dir));
  s->fenced = Fenced{2, 0, "arch"};
  REQUIRE(SaveState(PosixFs(), dir, *s).ok());
  auto n = OpenW(dir);
  auto w = n->Commit({Put("c", "a", "{}")});
  CHECK(w.status().code() == Code::kRefused);
  CHECK(w.status().message() == "node is fenced '" + dir +
                                    "': epoch 2 began after commit 0 in 'arch'; this primary is "
                                    "superseded");
  CHECK(n->CheckReadable().code() == Code::kRefused);
  CHECK(n->Checkpoint().status().code() == Code::kRefused);
}

TEST_CASE("MODEL-8 a replica in the middle of promote refuses writes and checkpoints") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  auto s = LoadState(PosixFs(), dir, *LoadIdentity(PosixFs(), dir));
  s->role = Role::kReplica;
  s->promoting = IntentAt(*s, history::Claimant{1});
  REQUIRE(SaveState(PosixFs(), dir, *s).ok());
  auto n = OpenW(dir);
  CHECK(n->Commit({Put("c", "a", "{}")}).status().message().find("promote in progress") == 0);
  CHECK(n->Checkpoint().status().code() == Code::kRefused);
  CHECK(n->CheckReadable().ok());  // reads at applied go on
}

TEST_CASE("a replica may checkpoint its own state") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  {
    auto n = OpenW(dir);
    REQUIRE(n->Commit({Put("c", "a", "{}")}).ok());
    REQUIRE(n->Close().ok());
  }
  SetRole(dir, Role::kReplica);
  auto n = OpenW(dir);
  CHECK(*n->Checkpoint() == "00000000000000000001");
}

// A node with two write sets of one data record each; its state.json.
static Result<NodeState> TwoWriteSets(const std::string& dir) {
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  {
    auto n = OpenW(dir);
    REQUIRE(n->Commit({Put("c", "a", "{}")}).ok());
    REQUIRE(n->Commit({Put("c", "b", "{}")}).ok());
    REQUIRE(n->Close().ok());
  }
  return LoadState(PosixFs(), dir, *LoadIdentity(PosixFs(), dir));
}

TEST_CASE("NODE-4 the commit record before applied.wal_offset must be applied.commit") {
  TempDir t;
  const std::string dir = t / "db";
  auto s = TwoWriteSets(dir);
  s->applied_wal_offset -= 1;  // no longer on a record boundary
  REQUIRE(SaveState(PosixFs(), dir, *s).ok());
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  CHECK(r.status().code() == Code::kDamage);
  CHECK(r.status().message().find("no commit record of commit 2 ends at byte") !=
        std::string::npos);
}

TEST_CASE("NODE-7 NODE-4 applied.next_sequence must follow the sequence of the log's last applied record") {
  TempDir t;
  const std::string dir = t / "db";
  auto s = TwoWriteSets(dir);
  const uint64_t right = s->next_sequence;
  REQUIRE(right == 5);  // two write sets of a data record and a commit record
  for (uint64_t wrong : {uint64_t{1}, uint64_t{4}, uint64_t{6}}) {
    s->next_sequence = wrong;
    REQUIRE(SaveState(PosixFs(), dir, *s).ok());
    for (Access a : {Access::kRead, Access::kWrite}) {
      auto r = ReferenceNode::Open(PosixFs(), dir, a);
      CHECK(r.status().code() == Code::kDamage);
      CHECK(r.status().message() == "invalid node file '" + dir +
                                        "/replication/state.json': applied.next_sequence is " +
                                        std::to_string(wrong) +
                                        ", but the log's last applied record has sequence 4");
    }
  }
  s->next_sequence = right;
  REQUIRE(SaveState(PosixFs(), dir, *s).ok());
  CHECK(ReferenceNode::Open(PosixFs(), dir, Access::kWrite).ok());
}

TEST_CASE("NODE-4 a missing base snapshot or a disagreeing marker is damage") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  {
    auto n = OpenW(dir);
    REQUIRE(n->Commit({Put("c", "a", "{}")}).ok());
    REQUIRE(n->Checkpoint().ok());
  }
  const std::string marker = ReadFile(dir + "/checkpoint.json");
  WriteFile(dir + "/checkpoint.json", "{\"commit_boundary\":0,\"snapshot_id\":\"x\"}");
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  CHECK(r.status().code() == Code::kDamage);
  CHECK(r.status().message().find("checkpoint marker behind the log") == 0);  // COMPAT-3
  CHECK(!r.status().hint().empty());
  WriteFile(dir + "/checkpoint.json", "{\"commit_boundary\":5,\"snapshot_id\":\"x\"}");
  r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  CHECK(r.status().code() == Code::kDamage);
  CHECK(r.status().message().find("checkpoint marker disagrees with state") == 0);
  CHECK(!r.status().hint().empty());
  WriteFile(dir + "/checkpoint.json", marker);
  REQUIRE(ReferenceNode::Open(PosixFs(), dir, Access::kRead).ok());
  std::filesystem::remove_all(dir + "/snapshots/00000000000000000001");
  r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  CHECK(r.status().code() == Code::kDamage);
  CHECK(r.status().message().find("base snapshot missing") == 0);
}

TEST_CASE("MODEL-9 a halted replica refuses a write as halted (6), not as a replica (5)") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  SetRole(dir, Role::kReplica);
  REQUIRE(SaveHalt(PosixFs(), dir, {"diverged", "x.seg", "digest mismatch", 3}).ok());
  auto n = OpenW(dir);
  CHECK(n->Commit({Put("c", "a", "{}")}).status().code() == Code::kHalted);
}

TEST_CASE("MODEL-3 a replica serves reads at its applied CommitId") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  {
    auto n = OpenW(dir);
    REQUIRE(n->Commit({Put("c", "a", "{\"v\":1}")}).ok());
    REQUIRE(n->Close().ok());
  }
  SetRole(dir, Role::kReplica);
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  REQUIRE(r.ok());
  CHECK((*r)->CheckReadable().ok());
  CHECK((*r)->ReadAt((*r)->state().applied_commit)->at({"c", "a"}).body == "{\"v\":1}");
}

TEST_CASE("NODE-8 MODEL-5 two checkpoints of one history write identical snapshot bytes") {
  TempDir t;
  std::string manifest[2], storage[2];
  for (int i = 0; i < 2; ++i) {
    const std::string dir = t / ("db" + std::to_string(i));
    REQUIRE(Node::Init(PosixFs(), dir).ok());
    auto n = OpenW(dir);
    for (int k = 0; k < 5; ++k) REQUIRE(n->Commit({Put("c", "k" + std::to_string(k), "{}")}).ok());
    REQUIRE(n->Checkpoint().ok());
    manifest[i] = ReadFile(dir + "/snapshots/00000000000000000005/manifest.json");
    storage[i] = ReadFile(dir + "/snapshots/00000000000000000005/storage.dat");
  }
  CHECK(manifest[0] == manifest[1]);
  CHECK(storage[0] == storage[1]);
  CHECK(manifest[0].find("\"created_at\": \"1970-01-01T00:00:00Z\"") != std::string::npos);
}

TEST_CASE("NODE-4 replica rule: bytes past applied.wal_offset are dropped, never rolled forward") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  std::string wal;
  {
    auto n = OpenW(dir);
    REQUIRE(n->Commit({Put("c", "a", "{}")}).ok());
    REQUIRE(n->Close().ok());
    wal = ReadFile(dir + "/wal/wal.log");
  }
  SetRole(dir, Role::kReplica);
  // Whole, valid write sets appended by an apply that died before state.json.
  WalBuilder more(3);
  more.Insert("c", "b", "{}").Commit(2);
  WriteFile(dir + "/wal/wal.log", wal + more.bytes());
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  CHECK((*r)->state().applied_commit == 1);
  CHECK((*r)->open_report().ignored_tail_bytes == more.bytes().size());
  auto w = OpenW(dir);
  CHECK(w->state().applied_commit == 1);
  CHECK(ReadFile(dir + "/wal/wal.log") == wal);
}

TEST_CASE("READ-3 READ-7 a read below the base is 9, beyond applied 3") {
  TempDir t;
  const std::string dir = t / "db";
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  {
    auto n = OpenW(dir);
    for (int k = 0; k < 5; ++k) REQUIRE(n->Commit({Put("c", "k" + std::to_string(k), "{}")}).ok());
    REQUIRE(n->Checkpoint().ok());
    REQUIRE(n->Commit({Put("c", "late", "{}")}).ok());
    REQUIRE(n->Close().ok());
  }
  auto r = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  REQUIRE(r.ok());
  CHECK(*(*r)->ReadPoint(std::nullopt, std::nullopt) == 6);  // READ-2
  CHECK(*(*r)->ReadPoint(5, std::nullopt) == 5);
  Result<uint64_t> below = (*r)->ReadPoint(4, std::nullopt);
  CHECK(below.status().code() == Code::kNotFound);
  Result<uint64_t> future = (*r)->ReadPoint(7, std::nullopt);
  CHECK(future.status().code() == Code::kGap);
  CHECK(future.status().message() == "commit not yet applied '" + dir +
                                         "': this node has applied through 6, the read asks for 7");
  // READ-5: a client's minimum, refused below it, served at or above it.
  Result<uint64_t> stale = (*r)->ReadPoint(std::nullopt, 7);
  CHECK(stale.status().code() == Code::kGap);
  CHECK(stale.status().message() == "not yet applied '" + dir +
                                        "': this node has applied through 6, the read needs 7");
  CHECK(*(*r)->ReadPoint(std::nullopt, 6) == 6);
  // READ-4 first: a halted node refuses before any bound is looked at.
  {
    auto w = OpenW(dir);
    REQUIRE(w->Halt({"corrupt", "x", "test", 7}).ok());
  }
  auto h = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
  REQUIRE(h.ok());
  CHECK((*h)->ReadPoint(7, 9).status().code() == Code::kHalted);
}
