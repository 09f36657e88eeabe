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
                HaltHint(h), "halted");
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

std::string HaltHint(const HaltReason& h, bool cleared) {
  const std::string then = cleared ? "before the next apply-wal" : "then clear the halt with 'aerodb-repl unhalt'";
  const std::string rebuild =
      "rebuild this replica from the primary it should follow ('aerodb-repl snapshot install "
      "--discard-existing' from its archive)";
  // The subject is a file only when it names one; a halt on the inbox as a
  // whole (its history files disagree) never sends anyone to remove it.
  const bool segment = h.subject.ends_with(".seg"), history = h.subject.ends_with(".history");
  if (h.code == "diverged" && history) {
    // LOG-20, RECOV-3: the history file is the new primary's claim; this
    // replica holds write sets it supersedes. unhalt cannot help.
    return rebuild + "; keep '" + h.subject + "': it is the new primary's epoch claim";
  }
  if (h.code == "diverged" && segment) {
    return "if '" + h.subject + "' is another history's file, remove it, " + then +
           "; if this replica is on another history ('aerodb-repl check-history' against the "
           "primary's archive says 4), " + rebuild;
  }
  if (h.code == "foreign" && (segment || history)) {
    return "remove '" + h.subject + "' (another database's file), " + then;
  }
  if (h.code == "corrupt" && h.subject.ends_with("wal/wal.log")) {
    return "this node's own log is damaged: restore it from a healthy copy (a replica: 'aerodb-repl snapshot "
           "install --discard-existing' from its primary's archive)";
  }
  if (h.code == "corrupt" && (segment || history)) {
    return "replace '" + h.subject + "' with a good copy from the archive, " + then;
  }
  if (cleared) {
    return "what halted the node is still in '" + h.subject + "': 'aerodb-repl verify' on it names the file at "
           "fault; fix that before the next command that reads it, or the node halts again";
  }
  return "'aerodb-repl verify' on '" + h.subject + "' names the file at fault; fix it, then clear the halt "
         "with 'aerodb-repl unhalt'";
}

}  // namespace aero::node
