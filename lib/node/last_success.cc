#include "node/last_success.h"

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/json_fields.h"
#include "node/layout.h"

namespace aero::node {

namespace {
constexpr int kLastSuccessFormat = 1;
constexpr size_t kMaxLastSuccessBytes = 64 << 10;
}  // namespace

std::string LastSuccessPath(const std::string& data_dir, const std::string& command) {
  return JoinPath(JoinPath(data_dir, kLastSuccessDir), command + ".json");
}

Status SaveLastSuccess(Fs& fs, const std::string& data_dir, const LastSuccess& s) {
  AERO_RETURN_IF_ERROR(fs.MakeDir(JoinPath(data_dir, kLastSuccessDir)));
  const nlohmann::json j = {{"format", kLastSuccessFormat},
                            {"command", s.command},
                            {"unix_seconds", s.unix_seconds},
                            {"commit", s.commit},
                            {"dir", s.dir}};
  // OPS-11: runs that hold no lock write it: a temp of the run's own.
  return WriteFileAtomically(fs, LastSuccessPath(data_dir, s.command),
                             json_fields::Dump(j, 2) + "\n", /*own_temp=*/true);
}

std::optional<LastSuccess> LoadLastSuccess(Fs& fs, const std::string& data_dir,
                                           const std::string& command) {
  Result<std::string> text = ReadSmallFile(fs, LastSuccessPath(data_dir, command), kMaxLastSuccessBytes);
  if (!text.ok()) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  const std::optional<uint64_t> format = json_fields::Unsigned(j, "format");
  const std::optional<uint64_t> when = json_fields::Unsigned(j, "unix_seconds");
  const std::optional<uint64_t> commit = json_fields::Unsigned(j, "commit");
  const std::string* cmd = json_fields::String(j, "command");
  const std::string* dir = json_fields::String(j, "dir");
  if (!format || *format != kLastSuccessFormat || !when || !commit || !cmd || *cmd != command ||
      !dir) {
    return std::nullopt;
  }
  return LastSuccess{*cmd, *when, *commit, *dir};
}

}  // namespace aero::node
