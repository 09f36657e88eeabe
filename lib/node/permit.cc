#include "node/permit.h"

namespace aero::node {

const char* OperationName(Operation op) {
  switch (op) {
    case Operation::kWrite: return "write";
    case Operation::kRead: return "read";
    case Operation::kCheckpoint: return "checkpoint";
    case Operation::kShip: return "ship";
    case Operation::kApply: return "apply";
    case Operation::kExport: return "export";
    case Operation::kReport: return "report";
    case Operation::kPromote: return "promote";
    case Operation::kRejoin: return "rejoin";
  }
  return "unknown";
}

Authority AuthorityOf(const NodeState& state, const std::optional<HaltReason>& halt) {
  Authority a;
  a.role = state.role;
  a.epoch = state.epoch;
  a.halt = halt;
  a.promoting = state.promoting.has_value();
  a.fenced = state.fenced;
  return a;
}

namespace {

Status Refuse(Code code, std::string message, std::string hint, const char* reason) {
  return Status(code, std::move(message), std::move(hint)).WithReason(reason);
}

Status Halted(const Authority& a, Operation op, const std::string& dir) {
  const HaltReason& h = *a.halt;
  return Refuse(Code::kHalted,
                op == Operation::kRead
                    ? Problem("refusing to read", dir,
                              "the node is halted (" + h.code + ": " + h.detail + ")")
                    : Problem("node is halted", dir, h.code + ": " + h.detail),
                "inspect the cause, then clear it with 'aerodb-repl unhalt'", "halted");
}

Status FencedRefusal(const Authority& a, const std::string& dir) {
  const Fenced& f = *a.fenced;
  const std::string detail = "epoch " + std::to_string(f.epoch) + " began after commit " +
                             std::to_string(f.branch_commit) +
                             (f.seen_in.empty() ? std::string() : " in '" + f.seen_in + "'") +
                             "; this primary is superseded";
  return Refuse(Code::kRefused, Problem("node is fenced", dir, detail), kFencedHint, "fenced");
}

Status PromoteInProgress(const std::string& dir) {
  return Refuse(Code::kRefused,
                Problem("promote in progress", dir, "the claim of the next epoch is not finished"),
                "re-run 'aerodb-repl promote -D " + dir +
                    "' with the same --archive to finish or abandon the claim",
                "promoting");
}

}  // namespace

Status Permit(const Authority& a, Operation op, const std::string& dir) {
  if (a.halt) return Halted(a, op, dir);  // NODE-9, LOG-14: 6 before any 5
  // MODEL-3: a fenced primary serves no reads; a promote in progress does
  // not stop them (the replica still serves its applied commit).
  // MODEL-7; rejoin is the way out of fenced (RECOV-10).
  if (a.fenced && op != Operation::kApply && op != Operation::kRejoin) return FencedRefusal(a, dir);
  // MODEL-8: a promote in progress is finished by promote itself.
  if (a.promoting && op != Operation::kRead && op != Operation::kPromote) return PromoteInProgress(dir);
  switch (op) {
    case Operation::kWrite:
      if (a.role != Role::kPrimary) {  // MODEL-2
        return Refuse(Code::kRefused,
                      Problem("refusing to write", dir,
                              "this node is a replica; only the primary creates CommitIds"),
                      "write to the primary", "replica");
      }
      break;
    case Operation::kShip:
      if (a.role != Role::kPrimary) {
        return Refuse(Code::kRefused, Problem("refusing to ship", dir, "this node is a replica"),
                      "run ship-wal on the primary", "notprimary");
      }
      break;
    case Operation::kApply:
      if (a.role != Role::kReplica) {
        return Refuse(Code::kRefused,
                      Problem("refusing to apply", dir,
                              "this node is a primary; segments are applied only by replicas"),
                      "bootstrap a replica in a new directory", "notreplica");
      }
      break;
    case Operation::kPromote:
      if (a.role != Role::kReplica) {
        return Refuse(Code::kRefused,
                      Problem("refusing to promote", dir,
                              "already the primary of epoch " + std::to_string(a.epoch)),
                      "the node is a primary already (a promote re-run after it completed "
                      "ends here too): ship from it with ship-wal; 'aerodb-repl status' shows "
                      "its epoch",
                      "isprimary");
      }
      break;
    case Operation::kRejoin:
      if (a.role != Role::kPrimary) {
        return Refuse(Code::kRefused, Problem("refusing to rejoin", dir, "this node is a replica"),
                      "a replica follows the lineage with apply-wal already", "notprimary");
      }
      break;
    case Operation::kRead:
    case Operation::kCheckpoint:
    case Operation::kExport:
    case Operation::kReport:
      break;
  }
  return Status::Ok();
}

}  // namespace aero::node
