// The authority model test (issue 11, "Also"): random sequences of write,
// ship, transport (loss, duplicate, reorder, truncation), apply, crash,
// promote and rejoin over 3 nodes and 2 archives (the claim archive, and an
// outbox the old primary may ship into), run on the real code, with the
// invariants checked after every step:
//   I1 at most one writable node (primary, not fenced, not halted) per epoch,
//      and never two writers of one (epoch, CommitId);
//   I2 every replica that is not halted is a prefix of its epoch's history
//      (its digest at its applied commit is the one the primary of its epoch
//      wrote there), so no write set a later epoch superseded is applied by
//      a replica that follows that later epoch;
//   I3 the claim archive holds at most one history file per epoch and they
//      form one lineage.
// Fixed seeds; on a failure the shortest failing prefix of the sequence is
// printed. MODEL_SEQUENCES (environment) sets the count: 200 by default (the
// sanitized suites), 10,000 in setup.sh's Release run of model_tests.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "archive/history_files.h"
#include "history/history_file.h"
#include "node/permit.h"
#include "node/store.h"
#include "engine/workload.h"
#include "repl/apply.h"
#include "repl/promote.h"
#include "repl/rejoin.h"
#include "repl/ship.h"
#include "support/faulty_fs.h"
#include "support/repl_fixture.h"

using namespace aero;
using namespace aero::testing;
namespace fsys = std::filesystem;

namespace {

constexpr int kNodes = 3;
constexpr int kSteps = 20;

struct Model {
  std::string root;
  std::string node[kNodes];
  std::string inbox[kNodes];
  std::string claim, outbox;
  // (epoch, commit) -> the digest its writer recorded (I1, I2).
  std::map<std::pair<uint32_t, uint64_t>, history::Digest> written;
  std::vector<std::string> log;  // the steps so far
  std::string violation;
  int promoted = 0, rejoined = 0;  // steps that succeeded
};

void Record(Model& m, uint32_t epoch, uint64_t commit, const history::Digest& d) {
  auto [it, fresh] = m.written.emplace(std::make_pair(epoch, commit), d);
  if (!fresh && it->second != d && m.violation.empty()) {
    m.violation = "I1: two writers of epoch " + std::to_string(epoch) + " commit " + std::to_string(commit);
  }
}

void DoWrite(Model& m, int i, std::mt19937& rng) {
  auto n = engine::ReferenceNode::Open(PosixFs(), m.node[i], node::Access::kWrite);
  if (!n.ok()) return;
  engine::WorkloadOptions w;
  w.write_sets = 1 + rng() % 3;
  w.records_per_set = 1;
  w.body_bytes = 40;
  w.seed = rng();
  for (uint64_t k = 0; k < w.write_sets; ++k) {
    engine::WorkloadOptions one = w;
    one.write_sets = 1;
    one.seed = w.seed + k;
    if (!engine::RunWorkload(**n, one).ok()) return;
    Record(m, (*n)->state().epoch, (*n)->state().applied_commit, (*n)->state().applied_digest);
  }
}

void DoShip(Model& m, int i, bool to_claim) {
  repl::ShipOptions o;
  o.data_dir = m.node[i];
  o.target = to_claim ? m.claim : m.outbox;
  o.max_segment_bytes = 300;
  (void)repl::ShipWal(PosixFs(), o, nullptr);
}

// The transport: every file of `from` not yet in `to`, with faults: one
// lost, one cut short (in transit; the next transport completes it), the
// rest in a shuffled order, some twice.
void DoTransport(Model& m, const std::string& from, const std::string& to, std::mt19937& rng) {
  std::vector<fsys::path> files;
  for (const auto& e : fsys::directory_iterator(from)) {
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
  }
  std::shuffle(files.begin(), files.end(), rng);
  for (const fsys::path& f : files) {
    const fsys::path dst = fsys::path(to) / f.filename();
    const std::string bytes = ReadFile(f);
    const std::string have = fsys::exists(dst) ? ReadFile(dst) : std::string();
    if (have == bytes) {
      if (rng() % 4 == 0) WriteFile(dst, bytes);  // a duplicate delivery
      continue;
    }
    const unsigned fault = rng() % 8;
    if (fault == 0) continue;  // lost this time
    if (fault == 1 && bytes.size() > 2) {
      WriteFile(dst, bytes.substr(0, bytes.size() / 2));  // cut short
      continue;
    }
    WriteFile(dst, bytes);
  }
  (void)m;
}

void DoApply(Model& m, int i, std::mt19937& rng, bool crash) {
  repl::ApplyOptions o;
  o.data_dir = m.node[i];
  o.inbox = m.inbox[i];
  if (!crash) {
    (void)repl::ApplyWal(PosixFs(), o, nullptr);
    return;
  }
  FaultyFs fs;
  fs.CrashAt(1 + rng() % 12);
  (void)repl::ApplyWal(fs, o, nullptr);
  fs.PowerLoss();
}

void DoPromote(Model& m, int i, bool discard) {
  repl::PromoteOptions o;
  o.data_dir = m.node[i];
  o.archive = m.claim;
  o.discard_after_applied = discard;  // the operator abandons what the replica lacks
  repl::PromoteReport rep;
  if (repl::Promote(PosixFs(), o, &rep).ok()) {
    Record(m, rep.epoch, rep.branch_commit, rep.branch_digest);
    ++m.promoted;
  }
}

void DoRejoin(Model& m, int i) {
  if (repl::Rejoin(PosixFs(), {m.node[i], m.claim}, nullptr).ok()) ++m.rejoined;
}

void CheckInvariants(Model& m) {
  if (!m.violation.empty()) return;
  std::map<uint32_t, int> writable;
  for (int i = 0; i < kNodes; ++i) {
    auto n = engine::ReferenceNode::Open(PosixFs(), m.node[i], node::Access::kRead);
    if (!n.ok()) continue;  // not bootstrapped yet, or refused to open (checked by its own tests)
    const node::NodeState& st = (*n)->state();
    const node::Authority a = (*n)->authority();
    if (a.role == node::Role::kPrimary && !a.fenced && !a.halt) ++writable[st.epoch];
    if (a.role == node::Role::kReplica && !a.halt && st.applied_commit > 0) {
      auto it = m.written.find({st.epoch, st.applied_commit});
      // I2: the replica's last write set is its epoch primary's, by digest
      // (so is everything before it: the chain binds the prefix).
      const bool ok = it != m.written.end() && it->second == st.applied_digest;
      if (!ok) {
        m.violation = "I2: replica node" + std::to_string(i) + " at commit " + std::to_string(st.applied_commit) +
                      " of epoch " + std::to_string(st.epoch) + " holds a history its epoch's primary never wrote";
        return;
      }
    }
  }
  for (const auto& [epoch, count] : writable) {
    if (count > 1) {
      m.violation = "I1: " + std::to_string(count) + " writable nodes in epoch " + std::to_string(epoch);
      return;
    }
  }
  // I3: one lineage in the claim archive.
  auto id = node::LoadIdentity(PosixFs(), m.node[0]);
  if (!id.ok()) return;
  archive::PosixArchive a(PosixFs(), m.claim);
  Result<std::vector<history::HistoryFile>> files = archive::ReadHistoryFiles(a, id->system_id);
  if (!files.ok()) {
    m.violation = "I3: " + files.status().message();
    return;
  }
  for (size_t k = 1; k < files->size(); ++k) {
    if (!history::CheckLineagePrefix((*files)[k - 1], (*files)[k], "claim").ok()) {
      m.violation = "I3: the claim archive's history files are not one lineage";
      return;
    }
  }
}

// One sequence: node0 a primary with 3 write sets shipped into the marked
// claim archive, node1 and node2 not bootstrapped yet, then kSteps random
// steps. Returns the violation (empty when none) and fills `m.log`.
std::string RunSequence(const std::string& root, uint32_t seed, int max_steps, Model* out) {
  fsys::remove_all(root);
  fsys::create_directories(root);
  Model m;
  m.root = root;
  for (int i = 0; i < kNodes; ++i) {
    m.node[i] = root + "/node" + std::to_string(i);
    m.inbox[i] = root + "/inbox" + std::to_string(i);
    fsys::create_directories(m.inbox[i]);
  }
  m.claim = root + "/claim";
  m.outbox = root + "/outbox";
  fsys::create_directories(m.claim);
  fsys::create_directories(m.outbox);
  REQUIRE(node::Node::Init(PosixFs(), m.node[0]).ok());
  std::mt19937 setup_rng(seed);
  for (int k = 0; k < 3; ++k) DoWrite(m, 0, setup_rng);
  repl::ShipOptions o;
  o.data_dir = m.node[0];
  o.target = m.claim;
  o.claim_archive = true;
  o.max_segment_bytes = 300;
  REQUIRE(repl::ShipWal(PosixFs(), o, nullptr).ok());
  // node1 starts as a replica of the claim archive; node2 bootstraps later.
  for (const auto& e : fsys::directory_iterator(m.claim)) {
    if (e.is_regular_file()) {
      fsys::copy(e.path(), fsys::path(m.inbox[1]) / e.path().filename(), fsys::copy_options::overwrite_existing);
    }
  }
  repl::ApplyOptions boot;
  boot.data_dir = m.node[1];
  boot.inbox = m.inbox[1];
  REQUIRE(repl::ApplyWal(PosixFs(), boot, nullptr).ok());
  std::mt19937 rng(seed);
  // The node a step acts on: mostly one whose role lets the step act
  // (a primary for write and ship, anything but a primary for apply and
  // promote), sometimes any, so that refusals are exercised too.
  auto pick = [&](bool primary) {
    std::vector<int> fit;
    for (int k = 0; k < kNodes; ++k) {
      auto n = engine::ReferenceNode::Open(PosixFs(), m.node[k], node::Access::kRead);
      const bool is_primary = n.ok() && (*n)->state().role == node::Role::kPrimary;
      if (is_primary == primary) fit.push_back(k);
    }
    if (fit.empty() || rng() % 5 == 0) return static_cast<int>(rng() % kNodes);
    return fit[rng() % fit.size()];
  };
  for (int step = 0; step < max_steps && m.violation.empty(); ++step) {
    const unsigned op = rng() % 20;  // weights: the steps that move authority come often
    const bool wants_primary = op < 7 || op >= 18;  // write, ship, rejoin
    const int i = pick(wants_primary);
    std::ostringstream what;
    if (op < 3) {
      what << "write node" << i;
      DoWrite(m, i, rng);
    } else if (op < 6) {
      what << "ship node" << i << " -> claim";
      DoShip(m, i, true);
    } else if (op < 7) {
      what << "ship node" << i << " -> outbox";
      DoShip(m, i, false);
    } else if (op < 10) {
      what << "transport claim -> inbox" << i;
      DoTransport(m, m.claim, m.inbox[i], rng);
    } else if (op < 11) {
      what << "transport outbox -> inbox" << i;
      DoTransport(m, m.outbox, m.inbox[i], rng);
    } else if (op < 14) {
      what << "apply node" << i;
      DoApply(m, i, rng, false);
    } else if (op < 15) {
      what << "apply node" << i << " with a crash";
      DoApply(m, i, rng, true);
    } else if (op < 18) {
      const bool discard = rng() % 2;
      what << "promote node" << i << (discard ? " --discard-after-applied" : "");
      DoPromote(m, i, discard);
    } else {
      what << "rejoin node" << i;
      DoRejoin(m, i);
    }
    m.log.push_back(what.str());
    CheckInvariants(m);
  }
  if (out) *out = m;
  return m.violation;
}

}  // namespace

TEST_CASE("model: random sequences of write, ship, transport, apply, crash, promote and rejoin keep I1-I3") {
  const char* env = std::getenv("MODEL_SEQUENCES");
  // 200 under the sanitizers (unit_tests); setup.sh runs model_tests, a
  // Release build, with 10,000.
  const int sequences = env ? std::atoi(env) : 200;
  TempDir t;
  // tmpfs when the machine has one: these runs fsync thousands of times.
  const std::string base = fsys::is_directory("/dev/shm") ? "/dev/shm" : t.path();
  const std::string root = base + "/aerodb-model-" + std::to_string(::getpid());
  int promotions = 0, steps = 0, promoted = 0, rejoined = 0, epoch2_replicas = 0, halted = 0;
  for (int s = 0; s < sequences; ++s) {
    const uint32_t seed = 1000 + static_cast<uint32_t>(s);
    Model m;
    const std::string v = RunSequence(root, seed, kSteps, &m);
    steps += static_cast<int>(m.log.size());
    for (const std::string& l : m.log) promotions += l.rfind("promote", 0) == 0;
    promoted += m.promoted;
    rejoined += m.rejoined;
    for (int i = 0; i < kNodes; ++i) {
      auto n = engine::ReferenceNode::Open(PosixFs(), m.node[i], node::Access::kRead);
      if (!n.ok()) continue;
      epoch2_replicas += (*n)->state().role == node::Role::kReplica && (*n)->state().epoch >= 2;
      halted += (*n)->halt().has_value();
    }
    if (!v.empty()) {
      // The shortest failing prefix of this sequence.
      int shortest = static_cast<int>(m.log.size());
      for (int k = 1; k < shortest; ++k) {
        if (!RunSequence(root, seed, k, nullptr).empty()) {
          shortest = k;
          break;
        }
      }
      Model again;
      RunSequence(root, seed, shortest, &again);
      std::string steps_text;
      for (const std::string& l : again.log) steps_text += "\n  " + l;
      FAIL_CHECK("seed " << seed << ": " << again.violation << " after " << shortest << " steps:" << steps_text);
      break;
    }
  }
  fsys::remove_all(root);
  MESSAGE("model: " << sequences << " sequences, " << steps << " steps; " << promotions << " promote attempts, "
                     << promoted << " promoted, " << rejoined << " rejoined; at the end " << epoch2_replicas
                     << " replicas following epoch >= 2, " << halted << " nodes halted");
  CHECK(promoted > 0);
  CHECK(epoch2_replicas > 0);
}
