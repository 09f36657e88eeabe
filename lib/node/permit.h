// The one refusal policy (specs/REPLICATION_MODEL.md MODEL-9): whether a node
// may do an operation is decided here, from its typed authority state, in a
// fixed precedence, and every refusal carries its key of the model's refusal
// table as Status::reason(). Commands ask Permit; none re-types a refusal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "node/state.h"

namespace aero::node {

enum class Operation {
  kWrite,       // create CommitIds (primary only)
  kRead,        // serve get/scan
  kCheckpoint,  // compact the node's own state (either role)
  kShip,        // publish its write sets (primary only)
  kApply,       // append segments (replica only)
  kExport,      // archive its state (either role)
  kReport,      // the health `status` reports (exit 6 or 5 when not healthy)
  kPromote,     // claim the next epoch (replica only; finishes a promote in progress)
  kRejoin,      // a superseded primary becomes a replica of the lineage (fenced allowed)
};
const char* OperationName(Operation op);

// MODEL-7: the epoch that superseded this primary, as ship-wal recorded it.
struct FencedBy {
  uint32_t epoch = 0;
  uint64_t branch_commit = 0;
  std::string seen_in;  // where the newer epoch was seen
  bool parsed = false;  // false: state.json's `fenced` could not be read (still fenced)
};

// What decides every refusal, typed.
struct Authority {
  Role role = Role::kPrimary;
  uint32_t epoch = 1;
  std::optional<HaltReason> halt;
  std::optional<FencedBy> fenced;
  bool promoting = false;
};
// From state.json (its `fenced` and `promoting` flags, read with typed reads:
// a flag that does not parse still counts) and halt.json.
Authority AuthorityOf(const NodeState& state, const std::optional<HaltReason>& halt);

// Ok, or the refusal of `op` on the node in `dir`: halted 6, then fenced,
// promoting and the role 5 (MODEL-9). reason(): "halted", "fenced",
// "promoting", "replica" (a write on a replica), "notprimary" (ship),
// "notreplica" (apply), "isprimary" (promote).
Status Permit(const Authority& a, Operation op, const std::string& dir);

}  // namespace aero::node
