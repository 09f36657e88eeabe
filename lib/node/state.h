// The replication/ files of a data directory: identity, state, halt
// (formats/node-layout.md NODE-2, NODE-3, NODE-9). Reading validates every
// field; writing is atomic (NODE-1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/fs.h"
#include "history/digest.h"
#include "history/history_file.h"
#include "history/system_id.h"

namespace aero::node {

// MODEL-1: the two roles; halted, fenced and promoting are flags beside them.
enum class Role { kPrimary, kReplica };
const char* RoleName(Role role);

struct Identity {
  history::SystemId system_id;
};

// MODEL-8: `"promoting":{"epoch":E+1,"claimant":"<32 hex>","branch_commit":C,
// "branch_digest":"<64 hex>"}`.
struct Promoting {
  uint32_t epoch = 0;  // the epoch being claimed, E+1
  history::Claimant claimant{};
  uint64_t branch_commit = 0;
  history::Digest branch_digest{};
  bool operator==(const Promoting&) const = default;
};

// MODEL-7: `"fenced":{"epoch":F,"branch_commit":C,"seen_in":"<target>"}`,
// the epoch that superseded this primary, as ship-wal recorded it.
struct Fenced {
  uint32_t epoch = 0;         // F > the node's epoch
  uint64_t branch_commit = 0;  // the last commit epoch F inherited
  std::string seen_in;        // where the newer epoch was seen
  bool operator==(const Fenced&) const = default;
};

struct NodeState {
  Role role = Role::kPrimary;
  uint32_t epoch = 1;
  // The position just before the first write set in wal/wal.log.
  uint64_t base_commit = 0;
  history::Digest base_digest{};
  std::optional<std::string> base_snapshot;  // snapshots/<id> holding state at base
  // The last write set known durable in wal/wal.log.
  uint64_t applied_commit = 0;
  history::Digest applied_digest{};
  uint64_t applied_wal_offset = 0;  // just past its commit record
  uint64_t next_sequence = 1;       // NODE-7
  // MODEL-7: set once a newer epoch was seen; only rejoin removes it.
  std::optional<Fenced> fenced;
  // MODEL-8 step 3: the intent of a promote in progress (state S8).
  std::optional<Promoting> promoting;
};

// MODEL-8 step 3: the intent to claim epoch + 1 at the applied commit.
Promoting IntentAt(const NodeState& state, const history::Claimant& claimant);

struct HaltReason {
  std::string code;     // "corrupt" | "diverged" | "foreign" | ...
  std::string subject;  // the file or directory involved
  std::string detail;
  uint64_t commit = 0;  // the CommitId involved, 0 if none
};

Result<Identity> LoadIdentity(Fs& fs, const std::string& dir);
// Whether DIR is a node: replication/identity.json is there. False only
// when replication/ is absent (an AeroDB directory, or no directory); a
// replication/ without identity.json is kNotFound (NODE-2: 9), and any
// other failure to look (a replication/ this user may not enter) is that
// status (FM-137), never "not a node".
Result<bool> HasIdentity(Fs& fs, const std::string& dir);
Status SaveIdentity(Fs& fs, const std::string& dir, const Identity& id);

// Validates every field and the NODE-3 invariants; `identity` gives H(0).
Result<NodeState> LoadState(Fs& fs, const std::string& dir, const Identity& identity);
// 1 `invalid node file 'PATH': DETAIL`, with the hint to run verify: a node
// file that the open refuses.
Status InvalidNodeFile(const std::string& path, const std::string& detail);
Status SaveState(Fs& fs, const std::string& dir, const NodeState& state);

// nullopt when the node is not halted.
Result<std::optional<HaltReason>> LoadHalt(Fs& fs, const std::string& dir);
Status SaveHalt(Fs& fs, const std::string& dir, const HaltReason& reason);

std::string StateToJson(const NodeState& state);

// NODE-12: replication/enrolment.json, present only in a directory that
// `aerodb-repl init` enrolled (AeroDB writes it, COMPAT-1).
struct Enrolment {
  uint64_t base_commit = 0;
  std::optional<std::string> base_snapshot;
  uint64_t applied_commit = 0;
};
// nullopt when the directory is not enrolled.
Result<std::optional<Enrolment>> LoadEnrolment(Fs& fs, const std::string& dir);
std::string EnrolmentToJson(const Enrolment& e);

// COMPAT-11: AeroDB's snapshot id, YYYYMMDDTHHMMSSZ (digits, T, digits, Z).
bool IsAeroSnapshotId(std::string_view id);

}  // namespace aero::node
