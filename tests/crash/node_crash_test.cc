// Crash safety of the reference node (NODE-1, NODE-4, NODE-5): a simulated
// crash at every durable step of init, commits and a checkpoint, then power
// loss and restart. Nothing acknowledged is lost; nothing half-written is
// trusted; a re-run converges.
#include <doctest/doctest.h>

#include <map>

#include "engine/reference_node.h"
#include "node/store.h"
#include "support/faulty_fs.h"
#include "support/test_util.h"

using namespace aero;
using namespace aero::node;
using namespace aero::engine;
using namespace aero::testing;

namespace {

struct Outcome {
  uint64_t acked = 0;          // highest CommitId acknowledged to the caller
  bool checkpoint_acked = false;
};

std::vector<Op> OpsFor(int i) {
  std::vector<Op> ops;
  ops.push_back({Op::Kind::kPut, "c", "k" + std::to_string(i % 4), "{\"i\":" + std::to_string(i) + "}"});
  ops.push_back({Op::Kind::kPut, "d", "x" + std::to_string(i), "{}"});
  return ops;
}

// 4 commits, Close, checkpoint, 3 commits, Close.
Outcome Workload(Fs& fs, const std::string& dir) {
  Outcome out;
  auto n = ReferenceNode::Open(fs, dir, Access::kWrite);
  if (!n.ok()) return out;
  for (int i = 0; i < 7; ++i) {
    if (i == 4) {
      if (!(*n)->Close().ok()) return out;
      if (!(*n)->Checkpoint().ok()) return out;
      out.checkpoint_acked = true;
    }
    auto c = (*n)->Commit(OpsFor(i));
    if (!c.ok()) return out;
    out.acked = *c;
  }
  (void)(*n)->Close();
  return out;
}

std::map<uint64_t, Documents> Reference(const std::string& dir) {
  REQUIRE(Node::Init(PosixFs(), dir).ok());
  std::map<uint64_t, Documents> ref;
  auto n = ReferenceNode::Open(PosixFs(), dir, Access::kWrite);
  REQUIRE(n.ok());
  for (int i = 0; i < 7; ++i) {
    uint64_t c = *(*n)->Commit(OpsFor(i));
    ref[c] = *(*n)->ReadAt(c);
  }
  return ref;
}

bool Same(const Documents& a, const Documents& b) {
  if (a.size() != b.size()) return false;
  for (auto& [k, d] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second.body != d.body) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("crash: every step of commits and a checkpoint, then power loss") {
  TempDir t;
  auto ref = Reference(t / "ref");

  // Count the steps of an uncrashed run.
  uint64_t total = 0;
  {
    const std::string dir = t / "count";
    REQUIRE(Node::Init(PosixFs(), dir).ok());
    FaultyFs fs;
    Outcome o = Workload(fs, dir);
    REQUIRE(o.acked == 7);
    total = fs.steps();
  }
  REQUIRE(total > 20);
  MESSAGE("node crash points exercised: " << total);

  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    const std::string dir = t / ("run" + std::to_string(k));
    REQUIRE(Node::Init(PosixFs(), dir).ok());
    FaultyFs fs;
    fs.CrashAt(k);
    Outcome o = Workload(fs, dir);
    fs.PowerLoss();

    auto n = ReferenceNode::Open(PosixFs(), dir, Access::kWrite);
    REQUIRE(n.ok());
    const NodeState s = (*n)->state();  // a copy: Commit below moves it
    CHECK(s.applied_commit >= o.acked);  // nothing acknowledged is lost
    CHECK(s.applied_commit <= 7);
    if (o.checkpoint_acked) CHECK(s.base_commit == 4);
    for (uint64_t c = std::max<uint64_t>(s.base_commit, 1); c <= s.applied_commit; ++c) {
      auto docs = (*n)->ReadAt(c);
      REQUIRE(docs.ok());
      CHECK(Same(*docs, ref[c]));
    }
    // Converges: the node keeps working after the restart.
    auto next = (*n)->Commit(OpsFor(99));
    REQUIRE(next.ok());
    CHECK(*next == s.applied_commit + 1);
  }
}

TEST_CASE("crash MODEL-10: every step of init leaves nothing or a complete node") {
  TempDir t;
  uint64_t total = 0;
  {
    FaultyFs fs;
    REQUIRE(Node::Init(fs, t / "count").ok());
    total = fs.steps();
  }
  MESSAGE("init crash points exercised: " << total);
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    const std::string dir = t / ("init" + std::to_string(k));
    FaultyFs fs;
    fs.CrashAt(k);
    const bool acked = Node::Init(fs, dir).ok();  // only the lock-file cleanup may fail quietly
    fs.PowerLoss();
    auto n = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
    if (acked) REQUIRE(n.ok());
    if (n.ok()) {
      CHECK((*n)->state().applied_commit == 0);
    } else {
      CHECK(n.status().code() == Code::kNotFound);  // not a node: init again
      CHECK(Node::Init(PosixFs(), dir).ok());
    }
  }
}

TEST_CASE("crash MODEL-10: a process crash at every step of init leaves nothing or a complete node") {
  // Without a power loss every file written stays: only building beside
  // the name and renaming keeps a half-built node from taking the name.
  TempDir t;
  uint64_t total = 0;
  {
    FaultyFs fs;
    REQUIRE(Node::Init(fs, t / "count").ok());
    total = fs.steps();
  }
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    const std::string dir = t / ("init" + std::to_string(k));
    FaultyFs fs;
    fs.CrashAt(k);
    const bool acked = Node::Init(fs, dir).ok();
    fs.ProcessRestart();
    auto n = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
    if (acked) REQUIRE(n.ok());
    if (n.ok()) {
      CHECK((*n)->state().applied_commit == 0);
    } else {
      CHECK_FALSE(FileExists(dir));  // nothing under the name: init again
      CHECK(Node::Init(PosixFs(), dir).ok());
    }
  }
}

TEST_CASE("crash: a process crash, a restart that rolls forward, then power loss") {
  // NODE-4 must not acknowledge in state.json write sets that were never
  // fsynced: the restart fsyncs the log before saving the rolled-forward state.
  TempDir t;
  uint64_t total = 0;
  {
    const std::string dir = t / "count";
    REQUIRE(Node::Init(PosixFs(), dir).ok());
    FaultyFs fs;
    REQUIRE(Workload(fs, dir).acked == 7);
    total = fs.steps();
  }
  for (uint64_t k = 1; k <= total; ++k) {
    CAPTURE(k);
    const std::string dir = t / ("restart" + std::to_string(k));
    REQUIRE(Node::Init(PosixFs(), dir).ok());
    FaultyFs fs;
    fs.CrashAt(k);
    Workload(fs, dir);
    fs.ProcessRestart();
    uint64_t after_restart = 0;
    {
      auto n = ReferenceNode::Open(fs, dir, Access::kWrite);  // rolls forward, saves state
      const std::string why = n.status().ToString();
      CAPTURE(why);
      REQUIRE(n.ok());
      after_restart = (*n)->state().applied_commit;
    }
    fs.PowerLoss();
    auto n = ReferenceNode::Open(PosixFs(), dir, Access::kRead);
    const std::string after = n.status().ToString();
    CAPTURE(after);
    REQUIRE(n.ok());
    CHECK((*n)->state().applied_commit >= after_restart);
  }
}
