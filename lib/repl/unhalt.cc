#include "repl/unhalt.h"

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/json_depth.h"
#include "common/json_fields.h"
#include "common/sha256.h"
#include "node/layout.h"
#include "node/store.h"

namespace aero::repl {

Status Unhalt(Fs& fs, const std::string& data_dir, const std::string& reason,
              UnhaltReport* report) {
  UnhaltReport scratch;
  UnhaltReport& rep = report ? *report : scratch;
  if (reason.empty() || reason.find('\n') != std::string::npos) {
    return Status(Code::kUsage, Problem("invalid reason", "--reason", "one non-empty line is required"),
                  "say what was fixed, e.g. --reason 'replaced the damaged segment'");
  }
  // Lock + NODE-4: a directory that cannot be proven consistent stays halted.
  AERO_ASSIGN_OR_RETURN(auto n, node::Node::Open(fs, data_dir, node::Access::kWrite));
  if (!n->halt()) return Status::Ok();
  const std::string halt_path = JoinPath(data_dir, node::kHaltFile);
  // LOG-19: the file's hash in chunks, whatever its size; its content as
  // the node read it (NODE-9), never the file copied.
  AERO_ASSIGN_OR_RETURN(Sha256Digest halt_digest, FileSha256(fs, halt_path));
  const std::string halt_sha = ToHex(halt_digest);
  const node::HaltReason& halt = *n->halt();
  const std::string history_path = JoinPath(data_dir, node::kHaltHistoryFile);
  Result<std::string> history = ReadSmallFile(fs, history_path, 64u << 20);
  std::string lines = history.ok() ? *history : std::string();
  if (!history.ok() && history.status().code() != Code::kNotFound) return history.status();
  // LOG-19: a re-run after a crash between the log and the removal of
  // halt.json (the same halt, the same reason) does not log it twice; the
  // same halt cleared again with another reason (a halt that came back
  // with the same bytes, or an operator who retried with a better reason)
  // is logged again, so every reason given is kept. Typed reads: a damaged
  // last line is not this halt, never an exception.
  bool logged = false;
  if (!lines.empty()) {
    size_t start = lines.rfind('\n', lines.size() - 2);
    start = start == std::string::npos ? 0 : start + 1;
    const std::string_view line = std::string_view(lines).substr(start);
    const nlohmann::json last = JsonDepth(line) <= kMaxJsonDepth
                                    ? nlohmann::json::parse(line, nullptr, false)
                                    : nlohmann::json();
    auto is = [&](const char* key, const std::string& want) {
      const auto it = last.is_object() ? last.find(key) : last.end();
      return it != last.end() && it->is_string() && it->get_ref<const std::string&>() == want;
    };
    logged = is("halt_sha256", halt_sha) && is("reason", reason);
  }
  if (!logged) {
    nlohmann::json entry = {
        {"format", 1},
        {"halt",
         {{"code", halt.code},
          {"commit", halt.commit},
          {"detail", halt.detail},
          {"format", node::kStateFormat},
          {"subject", halt.subject}}},
        {"halt_sha256", halt_sha},
        {"reason", reason},
        {"role", node::RoleName(n->state().role)},
        {"epoch", n->state().epoch},
        {"applied",
         {{"commit", n->state().applied_commit},
          {"digest", history::DigestToHex(n->state().applied_digest)}}}};
    // A path or reason that is not UTF-8 is written with U+FFFD, never thrown.
    lines += json_fields::Dump(entry) + "\n";
    AERO_RETURN_IF_ERROR(WriteFileAtomically(fs, history_path, lines));
  }
  AERO_RETURN_IF_ERROR(fs.Remove(halt_path));
  AERO_RETURN_IF_ERROR(fs.SyncDir(DirName(halt_path)));
  rep.cleared = n->halt();
  return Status::Ok();
}

}  // namespace aero::repl
