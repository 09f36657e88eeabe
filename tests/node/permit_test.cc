// MODEL-9: one refusal policy. Every (role, halt, fenced, promoting) state
// against every operation, checked against the authority table of
// specs/REPLICATION_MODEL.md, with the precedence and each refusal's key.
#include <doctest/doctest.h>

#include <string>

#include "node/permit.h"

using namespace aero;
using namespace aero::node;

namespace {

constexpr Operation kOps[] = {Operation::kWrite,  Operation::kRead,   Operation::kCheckpoint,
                              Operation::kShip,   Operation::kApply,  Operation::kExport,
                              Operation::kReport, Operation::kPromote, Operation::kRejoin};

// The authority table, written out: the exit and the key expected.
std::pair<Code, std::string> Expected(const Authority& a, Operation op) {
  if (a.halt) return {Code::kHalted, "halted"};
  if (a.fenced && op != Operation::kApply && op != Operation::kRejoin) return {Code::kRefused, "fenced"};
  if (a.promoting && op != Operation::kRead && op != Operation::kPromote) {
    return {Code::kRefused, "promoting"};
  }
  if (op == Operation::kWrite && a.role == Role::kReplica) return {Code::kRefused, "replica"};
  if (op == Operation::kShip && a.role == Role::kReplica) return {Code::kRefused, "notprimary"};
  if (op == Operation::kApply && a.role == Role::kPrimary) return {Code::kRefused, "notreplica"};
  if (op == Operation::kPromote && a.role == Role::kPrimary) return {Code::kRefused, "isprimary"};
  if (op == Operation::kRejoin && a.role == Role::kReplica) return {Code::kRefused, "notprimary"};
  return {Code::kOk, ""};
}

}  // namespace

TEST_CASE("MODEL-9 Permit: every authority state against every operation, halted before fenced, promoting and role") {
  size_t checked = 0;
  for (Role role : {Role::kPrimary, Role::kReplica}) {
    for (bool halted : {false, true}) {
      for (bool fenced : {false, true}) {
        for (bool promoting : {false, true}) {
          Authority a;
          a.role = role;
          if (halted) a.halt = HaltReason{"corrupt", "in/x.seg", "crc mismatch", 7};
          if (fenced) a.fenced = Fenced{3, 41, "/archive"};
          a.promoting = promoting;
          for (Operation op : kOps) {
            CAPTURE(RoleName(role));
            CAPTURE(halted);
            CAPTURE(fenced);
            CAPTURE(promoting);
            CAPTURE(OperationName(op));
            const Status s = Permit(a, op, "/n");
            const auto [code, reason] = Expected(a, op);
            CHECK(s.code() == code);
            CHECK(s.reason() == reason);
            if (!s.ok()) {
              CHECK(s.message().find("'/n'") != std::string::npos);
              CHECK_FALSE(s.hint().empty());
            }
            ++checked;
          }
        }
      }
    }
  }
  CHECK(checked == 2 * 2 * 2 * 2 * 9);
}

TEST_CASE("MODEL-9 Permit: the refusal messages of the model's table") {
  Authority a;
  a.role = Role::kReplica;
  CHECK(Permit(a, Operation::kWrite, "D").ToString() ==
        "refusing to write 'D': this node is a replica; only the primary creates CommitIds\n"
        "hint: write to the primary");
  CHECK(Permit(a, Operation::kShip, "D").ToString() ==
        "refusing to ship 'D': this node is a replica\nhint: run ship-wal on the primary");
  CHECK(Permit(a, Operation::kPromote, "D").ok());
  a.promoting = true;
  CHECK(Permit(a, Operation::kPromote, "D").ok());  // promote finishes its own claim
  CHECK(Permit(a, Operation::kApply, "D").ToString() ==
        "promote in progress 'D': the claim of the next epoch is not finished\n"
        "hint: re-run 'aerodb-repl promote -D D' with the same --archive to finish or abandon the claim");
  a.promoting = false;
  a.halt = HaltReason{"diverged", "s", "at commit 4", 4};
  CHECK(Permit(a, Operation::kPromote, "D").code() == Code::kHalted);
  CHECK(Permit(a, Operation::kRead, "D").message() ==
        "refusing to read 'D': the node is halted (diverged: at commit 4)");
  CHECK(Permit(a, Operation::kApply, "D").message() == "node is halted 'D': diverged: at commit 4");
  a.halt.reset();
  a.role = Role::kPrimary;
  CHECK(Permit(a, Operation::kPromote, "D").ToString() ==
        "refusing to promote 'D': already the primary of epoch 1\nhint: the node is a primary already (a promote re-run after it completed ends here too): ship from it with ship-wal; 'aerodb-repl status' shows its epoch");
  CHECK(Permit(a, Operation::kPromote, "D").reason() == "isprimary");
  a.fenced = Fenced{2, 10, "/arch"};
  CHECK(Permit(a, Operation::kShip, "D").message() ==
        "node is fenced 'D': epoch 2 began after commit 10 in '/arch'; this primary is superseded");
  CHECK(Permit(a, Operation::kShip, "D").hint() == kFencedHint);
  // From state.json's typed flag (a mistyped one never loads: NODE-3).
  NodeState st;
  st.fenced = Fenced{3, 7, "/b"};
  const Authority from_state = AuthorityOf(st, std::nullopt);
  REQUIRE(from_state.fenced);
  CHECK(*from_state.fenced == *st.fenced);
  CHECK(Permit(from_state, Operation::kExport, "D").reason() == "fenced");
}

TEST_CASE("MODEL-9 a halt's hint is its next step, by code and subject: a superseded replica is rebuilt, its claim kept") {
  auto hint = [](const std::string& code, const std::string& subject, bool cleared = false) {
    return HaltHint(HaltReason{code, subject, "detail", 7}, cleared);
  };
  const std::string superseded = hint("diverged", "A/00000002.history");
  CHECK(superseded.find("snapshot install --discard-existing") != std::string::npos);
  CHECK(superseded.find("keep 'A/00000002.history'") != std::string::npos);
  CHECK(superseded.find("unhalt") == std::string::npos);  // unhalt cannot help it
  CHECK(hint("diverged", "A/00000002.history", true) == superseded);
  CHECK(hint("corrupt", "in/x.seg").find("replace 'in/x.seg'") == 0);
  CHECK(hint("corrupt", "in/x.seg").find("'aerodb-repl unhalt'") != std::string::npos);
  CHECK(hint("corrupt", "in/x.seg", true).find("before the next apply-wal") != std::string::npos);
  CHECK(hint("foreign", "in/y.seg").find("remove 'in/y.seg'") == 0);
  CHECK(hint("corrupt", "r/wal/wal.log").find("own log is damaged") != std::string::npos);
  const std::string segment = hint("diverged", "in/z.seg");
  CHECK(segment.find("remove it") != std::string::npos);
  CHECK(segment.find("check-history") != std::string::npos);
  // A halt on the inbox as a whole never sends anyone to remove it.
  for (const char* code : {"diverged", "corrupt", "foreign"}) {
    const std::string dir = hint(code, "/srv/inbox");
    CHECK(dir.find("remove") == std::string::npos);
    CHECK(dir.find("replace") == std::string::npos);
    CHECK(dir.find("aerodb-repl verify") != std::string::npos);
  }
}
