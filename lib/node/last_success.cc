#include "node/last_success.h"

#include <nlohmann/json.hpp>

#include "common/file_util.h"
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
  return WriteFileAtomically(fs, LastSuccessPath(data_dir, s.command),
                             j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

std::optional<LastSuccess> LoadLastSuccess(Fs& fs, const std::string& data_dir,
                                           const std::string& command) {
  Result<std::string> text = ReadSmallFile(fs, LastSuccessPath(data_dir, command), kMaxLastSuccessBytes);
  if (!text.ok()) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto unsigned_at = [&](const char* key) -> std::optional<uint64_t> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
    return it->get<uint64_t>();
  };
  auto string_at = [&](const char* key) -> std::optional<std::string> {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const std::optional<uint64_t> format = unsigned_at("format");
  const std::optional<uint64_t> when = unsigned_at("unix_seconds");
  const std::optional<uint64_t> commit = unsigned_at("commit");
  const std::optional<std::string> cmd = string_at("command");
  const std::optional<std::string> dir = string_at("dir");
  if (!format || *format != kLastSuccessFormat || !when || !commit || !cmd || *cmd != command ||
      !dir) {
    return std::nullopt;
  }
  return LastSuccess{*cmd, *when, *commit, *dir};
}

}  // namespace aero::node
