#include "cli/common/log.h"

#include <cstdio>
#include <memory>
#include <mutex>

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include "cli/common/clock.h"
#include "cli/common/progress.h"
#include "common/log.h"
#include "common/escape.h"

namespace aero::cli {

namespace {

struct LogState {
  std::shared_ptr<spdlog::logger> logger;
  bool json = false;
  std::string command;
};

LogState& State() {
  static LogState s;
  return s;
}

// The structured fields of the record being written on this thread (json).
thread_local const nlohmann::json* t_fields = nullptr;

const char* LevelName(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

// OPS-4: one JSON object a line.
class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(std::string command) : command_(std::move(command)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::json j = t_fields != nullptr && t_fields->is_object() ? *t_fields : nlohmann::json::object();
    const int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    j["time"] = FormatUtcMillis(ms);
    j["level"] = LevelName(msg.level);
    j["command"] = command_;
    j["message"] = std::string(msg.payload.data(), msg.payload.size());
    const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(command_);
  }

 private:
  std::string command_;
};

// OPS-4: `TIME LEVEL COMMAND: MESSAGE`, one line: a control character in
// the message (a path with a newline) is escaped as in a problem's subject.
class OneLineFormatter final : public spdlog::formatter {
 public:
  explicit OneLineFormatter(const std::string& command)
      : command_(command),
        pattern_("%Y-%m-%dT%H:%M:%S.%eZ %l " + command + ": %v", spdlog::pattern_time_type::utc, "\n") {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    if (!HasControlChar(text)) return pattern_.format(msg, dest);
    std::string escaped;
    AppendEscaped(&escaped, text);
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
    pattern_.format(copy, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<OneLineFormatter>(command_);
  }

 private:
  std::string command_;
  spdlog::pattern_formatter pattern_;
};

// OPS-1: the one sink, stderr; a progress line drawn there is cleared first.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    ClearProgressForLog();
    std::fwrite(buf.data(), 1, buf.size(), stderr);
    std::fflush(stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

spdlog::level::level_enum ParseLevel(const std::string& s) {
  if (s == "trace") return spdlog::level::trace;
  if (s == "debug") return spdlog::level::debug;
  if (s == "warn") return spdlog::level::warn;
  if (s == "error") return spdlog::level::err;
  if (s == "off") return spdlog::level::off;
  return spdlog::level::info;
}

}  // namespace

void ConfigureLogging(const LogOptions& options, const std::string& command) {
  LogState& st = State();
  st.json = options.format == "json";
  st.command = command;
  auto sink = std::make_shared<StderrSink>();
  if (st.json) {
    sink->set_formatter(std::make_unique<JsonFormatter>(command));
  } else {
    sink->set_formatter(std::make_unique<OneLineFormatter>(command));
  }
  st.logger = std::make_shared<spdlog::logger>("aerodb-repl", sink);
  st.logger->set_level(ParseLevel(options.level));  // OPS-3
  st.logger->flush_on(spdlog::level::trace);
  aero::log::SetLib(st.logger);  // OPS-5: the library logs through the same logger
}

void Log(spdlog::level::level_enum level, const std::string& message, const nlohmann::json& fields) {
  LogState& st = State();
  if (!st.logger || !st.logger->should_log(level)) return;
  t_fields = &fields;
  st.logger->log(level, "{}", message);
  t_fields = nullptr;
}

void LogFailure(const Status& status) {
  if (!State().json) return;  // OPS-3: in text format the problem report is the record
  nlohmann::json fields = {{"code", std::string(CodeName(status.code()))},
                           {"exit", ExitCodeOf(status.code())},
                           {"hint", status.hint()}};
  Log(spdlog::level::err, status.message(), fields);
}

std::string HumanBytes(uint64_t bytes) {
  char buf[32];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  } else if (bytes < (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / 1073741824.0);
  }
  return buf;
}

}  // namespace aero::cli
