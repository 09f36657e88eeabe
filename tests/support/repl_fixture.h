// Builders for replication tests: a primary with a deterministic workload,
// and a segment made from WAL bytes.
#pragma once

#include <filesystem>
#include <string>

#include "node/store.h"
#include "engine/workload.h"
#include "repl/apply.h"
#include "repl/promote.h"
#include "repl/ship.h"
#include "common/sha256.h"
#include "segment/segment.h"
#include "common/coding.h"
#include "segment/segment_format.h"
#include "segment/segment_reader.h"
#include "support/string_file.h"
#include "support/test_util.h"
#include "wal/wal_scan.h"

namespace aero::testing {

// Commits `write_sets` seeded write sets on an existing primary.
inline void Write(const std::string& dir, uint64_t write_sets, uint64_t seed,
                  uint32_t records_per_set = 2, uint32_t body_bytes = 100) {
  auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kWrite);
  REQUIRE(n.ok());
  engine::WorkloadOptions w;
  w.write_sets = write_sets;
  w.records_per_set = records_per_set;
  w.body_bytes = body_bytes;
  w.seed = seed;
  REQUIRE(engine::RunWorkload(**n, w).ok());
  REQUIRE((*n)->Close().ok());
}

// Creates a primary in `dir` and commits `write_sets` write sets (seeded).
inline void MakePrimary(const std::string& dir, uint64_t write_sets, uint64_t seed = 1) {
  REQUIRE(node::Node::Init(PosixFs(), dir).ok());
  if (write_sets > 0) Write(dir, write_sets, seed, 3, 120);
}

inline Status Ship(const std::string& primary, const std::string& target,
                   uint64_t max_bytes = 16u << 20, bool zstd = false,
                   repl::ShipReport* rep = nullptr) {
  repl::ShipOptions o;
  o.data_dir = primary;
  o.target = target;
  o.max_segment_bytes = max_bytes;
  o.zstd = zstd;
  return repl::ShipWal(PosixFs(), o, rep);
}

inline Status Apply(const std::string& replica, const std::string& inbox,
                    repl::ApplyReport* rep = nullptr) {
  repl::ApplyOptions o;
  o.data_dir = replica;
  o.inbox = inbox;
  return repl::ApplyWal(PosixFs(), o, rep);
}

// ship-wal of `primary` into `target`, small segments, optionally marking
// the target as the claim archive (HFILE-5).
inline Status ShipInto(const std::string& primary, const std::string& target, uint64_t max_bytes = 3000,
                       bool claim_archive = false) {
  repl::ShipOptions o;
  o.data_dir = primary;
  o.target = target;
  o.max_segment_bytes = max_bytes;
  o.claim_archive = claim_archive;
  return repl::ShipWal(PosixFs(), o, nullptr);
}

// A failover in `root`: primary p writes `before` write sets and ships them
// into the claim archive `arch`; replica r (and r2 when asked) applies
// them; r is promoted against `arch` (epoch 2 from before + 1), writes
// `after` write sets and ships them into `arch`.
struct Failover {
  uint64_t before = 30, after = 10;
  bool second_replica = false;
};
inline void MakeFailover(const std::string& root, const Failover& f = {}) {
  MakePrimary(root + "/p", f.before);
  REQUIRE(PosixFs().MakeDir(root + "/arch").ok());
  REQUIRE(ShipInto(root + "/p", root + "/arch", 3000, true).ok());
  REQUIRE(Apply(root + "/r", root + "/arch").ok());
  if (f.second_replica) REQUIRE(Apply(root + "/r2", root + "/arch").ok());
  repl::PromoteOptions o;
  o.data_dir = root + "/r";
  o.archive = root + "/arch";
  REQUIRE(repl::Promote(PosixFs(), o, nullptr).ok());
  if (f.after > 0) {
    Write(root + "/r", f.after, 5);
    REQUIRE(ShipInto(root + "/r", root + "/arch").ok());
  }
}

// A failover that supersedes the old primary's tail, in `root`: p writes
// `before` write sets into the claim archive `arch` and r applies them; p
// writes `superseded` more and ships them into `arch`; r is promoted at
// `before`, abandoning them (--discard-after-applied), writes `after`
// write sets and ships them into `arch` (segments of `r_max_bytes`) when
// `ship_after`.
struct SupersededTail {
  uint64_t before = 30, superseded = 5, after = 10;
  bool ship_after = true;
  uint64_t r_max_bytes = 16u << 20;
};
inline void MakeSupersededTail(const std::string& root, const SupersededTail& f = {}) {
  const std::string arch = root + "/arch";
  MakePrimary(root + "/p", f.before);
  REQUIRE(PosixFs().MakeDir(arch).ok());
  REQUIRE(ShipInto(root + "/p", arch, 3000, true).ok());
  REQUIRE(Apply(root + "/r", arch).ok());
  Write(root + "/p", f.superseded, 4, 3, 120);
  REQUIRE(ShipInto(root + "/p", arch).ok());
  repl::PromoteOptions po;
  po.data_dir = root + "/r";
  po.archive = arch;
  po.discard_after_applied = true;
  REQUIRE(repl::Promote(PosixFs(), po, nullptr).ok());
  Write(root + "/r", f.after, 5);
  if (f.ship_after) REQUIRE(ShipInto(root + "/r", arch, f.r_max_bytes).ok());
}

// `copy`: a copy of `primary` made a replica, then promoted with a local
// claim (MODEL-8): the primary of epoch 2 from `primary`'s last commit, as
// a promoted replica of it would be.
inline void MakePromotedCopy(const std::string& primary, const std::string& copy) {
  std::filesystem::copy(primary, copy, std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(copy + "/replication/shipped");
  auto id = node::LoadIdentity(PosixFs(), copy);
  REQUIRE(id.ok());
  auto st = node::LoadState(PosixFs(), copy, *id);
  REQUIRE(st.ok());
  st->role = node::Role::kReplica;
  REQUIRE(node::SaveState(PosixFs(), copy, *st).ok());
  repl::PromoteOptions o;
  o.data_dir = copy;
  REQUIRE(repl::Promote(PosixFs(), o, nullptr).ok());
}

inline node::NodeState StateOf(const std::string& dir) {
  auto n = engine::ReferenceNode::Open(PosixFs(), dir, node::Access::kRead);
  REQUIRE(n.ok());
  return (*n)->state();
}

// Same documents at the same CommitId, and the same history digest.
inline void CheckSameHistory(const std::string& a, const std::string& b) {
  auto na = engine::ReferenceNode::Open(PosixFs(), a, node::Access::kRead);
  auto nb = engine::ReferenceNode::Open(PosixFs(), b, node::Access::kRead);
  REQUIRE(na.ok());
  REQUIRE(nb.ok());
  REQUIRE((*na)->state().applied_commit == (*nb)->state().applied_commit);
  CHECK((*na)->state().applied_digest == (*nb)->state().applied_digest);
  auto da = (*na)->ReadAt((*na)->state().applied_commit);
  auto db = (*nb)->ReadAt((*nb)->state().applied_commit);
  REQUIRE(da.ok());
  REQUIRE(db.ok());
  REQUIRE(da->size() == db->size());
  for (auto& [k, d] : *da) CHECK(db->at(k).body == d.body);
}

inline std::vector<std::string> Segments(const std::string& dir) {
  std::vector<std::string> out;
  auto entries = PosixFs().ListDir(dir);
  REQUIRE(entries.ok());
  for (auto& e : *entries) {
    if (e.name.size() == 46 && e.name.substr(42) == ".seg") out.push_back(e.name);
  }
  return out;
}

// The name of the segment of `dir` whose first commit is `first`.
inline std::string SegmentStartingAt(const std::string& dir, uint64_t first) {
  for (const std::string& n : Segments(dir)) {
    if (segment::ParseSegmentName(n)->first_commit == first) return n;
  }
  FAIL("no segment of '" << dir << "' starts at commit " << first);
  return "";
}

// The header of the valid, uncompressed segment file `path`.
inline segment::SegmentHeader PlainHeaderOf(const std::string& path) {
  auto f = PosixFs().OpenRead(path);
  REQUIRE(f.ok());
  const segment::SegmentCheck c = segment::CheckSegmentHeader(**f, nullptr);
  REQUIRE(c.state == segment::SegmentState::kValid);
  REQUIRE_FALSE(c.header.compressed());
  return c.header;
}

// The plain segment `bytes` with header `h` instead of its own: the header
// CRC and the seal (SEG-7: SHA-256 of the header) made again, the body and
// the trailer magic kept. A forged file every check before the body passes.
inline std::string WithHeader(const std::string& bytes, const segment::SegmentHeader& h) {
  const std::string header = segment::EncodeHeader(h);
  const Sha256Digest seal = Sha256::Of(header);
  return header + bytes.substr(segment::kSegmentHeaderBytes, bytes.size() - segment::kSegmentHeaderBytes - 40) +
         "AEROEND\n" + std::string(reinterpret_cast<const char*>(seal.data()), seal.size());
}

// The plain segment `bytes` with its body's sequence numbers renumbered from
// `first`: record CRCs, the header's sequences, digest_after and the seal
// made again. A segment valid in itself (LOG-32 tests).
inline std::string WithSequencesFrom(const std::string& bytes, uint64_t first) {
  segment::SegmentHeader h;
  {
    StringFile f(bytes);
    const segment::SegmentCheck c = segment::CheckSegmentHeader(f, nullptr);
    REQUIRE(c.state == segment::SegmentState::kValid);
    h = c.header;
  }
  std::string body = bytes.substr(segment::kSegmentHeaderBytes, h.body_size);
  uint64_t seq = first;
  for (size_t off = 0; off < body.size(); ++seq) {
    const uint32_t len = DecodeFixed32(body.data() + off);
    EncodeFixed64(body.data() + off + 5, seq);
    FixRecordCrc(&body, off);
    off += len;
  }
  StringFile wal(body);
  wal::ScanOptions opt;
  opt.base_commit = h.first_commit - 1;
  opt.base_digest = h.digest_before;
  const wal::ScanResult r = wal::WalScanner(&wal, opt).Run();
  h.first_sequence = first;
  h.last_sequence = seq - 1;
  h.digest_after = *r.position.digest;
  return WithHeader(segment::EncodeHeader(h) + body + std::string(40, '\0'), h);
}

// Replaces `to` with a copy of the tree `from` (crash and fault tests start
// every run from the same directories).
inline void CopyTree(const std::string& from, const std::string& to) {
  std::filesystem::remove_all(to);
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

}  // namespace aero::testing
