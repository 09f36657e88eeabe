// The CLIs' log (specs/REPLICATION_OPERATIONS.md OPS-1..OPS-5): stderr only,
// at --log-level, as text or one JSON object a line (--log-format json).
// stdout is the result and is never written here.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/common.h>

#include "common/status.h"

namespace aero::cli {

struct LogOptions {
  std::string level = "info";  // trace | debug | info | warn | error | off
  std::string format = "text";  // text | json
};

// Sets the program's logger and the library's (OPS-5) for `command` (the
// subcommand path, e.g. "snapshot export").
void ConfigureLogging(const LogOptions& options, const std::string& command);

// One record: `message`, and in json format also `fields` (an object).
void Log(spdlog::level::level_enum level, const std::string& message,
         const nlohmann::json& fields = nlohmann::json::object());
inline void LogInfo(const std::string& message, const nlohmann::json& fields = nlohmann::json::object()) {
  Log(spdlog::level::info, message, fields);
}
inline void LogDebug(const std::string& message, const nlohmann::json& fields = nlohmann::json::object()) {
  Log(spdlog::level::debug, message, fields);
}
inline void LogWarn(const std::string& message, const nlohmann::json& fields = nlohmann::json::object()) {
  Log(spdlog::level::warn, message, fields);
}

// OPS-3: a failed run's error record, in json format only (in text format
// the problem report on stderr is the record).
void LogFailure(const Status& status);

// Bytes for people: "812 B", "12.3 KiB", "12.3 MiB", "1.2 GiB".
std::string HumanBytes(uint64_t bytes);

}  // namespace aero::cli
