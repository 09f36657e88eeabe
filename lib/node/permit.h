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

// The fenced refusal's hint (the model's refusal table).
inline constexpr const char* kFencedHint =
    "stop writing to this node; 'aerodb-repl check-history' says whether 'aerodb-repl rejoin' can make "
    "it a replica of the new primary, else rebuild it as one in a new directory";

// What decides every refusal, typed.
struct Authority {
  Role role = Role::kPrimary;
  uint32_t epoch = 1;
  std::optional<HaltReason> halt;
  std::optional<Fenced> fenced;
  bool promoting = false;
};
// From state.json (its typed `fenced` and `promoting`, NODE-3) and halt.json.
Authority AuthorityOf(const NodeState& state, const std::optional<HaltReason>& halt);

// Ok, or the refusal of `op` on the node in `dir`: halted 6, then fenced,
// promoting and the role 5 (MODEL-9). reason(): "halted", "fenced",
// "promoting", "replica" (a write on a replica), "notprimary" (ship),
// "notreplica" (apply), "isprimary" (promote).
Status Permit(const Authority& a, Operation op, const std::string& dir);

// The next step out of halt `h`, by its code and subject: one text for
// every command that shows a halt (the refusal, status, verify) and for
// unhalt once it cleared it (`cleared`: what to do before the next run).
std::string HaltHint(const HaltReason& h, bool cleared = false);

}  // namespace aero::node
