// Status and Result<T>: how every library function reports an outcome.
// No exception crosses the library's API (STYLE.md, LevelDB Status).
//
// A Status carries a Code from codes.def, a message in the house form
//   problem 'subject': detail
// and an optional hint (the operator's next step), printed as "hint: ...".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace aero {

enum class Code : int {
#define AERO_CODE(name, exit, json, meaning) name = exit,
#include "common/codes.def"
#undef AERO_CODE
};

// The process exit code for `code` (the table's second column).
int ExitCodeOf(Code code);
// Stable machine name used in --json output ("damage", "gap", ...).
std::string_view CodeName(Code code);
// The table's one-line meaning.
std::string_view CodeMeaning(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Code code, std::string message, std::string hint = {})
      : code_(code), message_(std::move(message)), hint_(std::move(hint)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }

  // "message" or "message\nhint: hint".
  std::string ToString() const;

  // Returns a copy with the hint replaced (when the caller knows the next step better).
  Status WithHint(std::string hint) const {
    Status s = *this;
    s.hint_ = std::move(hint);
    return s;
  }

  // A refusal's key in the model's refusal table (MODEL-9: "halted",
  // "fenced", "promoting", ...), for scripts (`reason` in --json); empty
  // for any other outcome.
  const std::string& reason() const { return reason_; }
  Status WithReason(std::string reason) const {
    Status s = *this;
    s.reason_ = std::move(reason);
    return s;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string hint_;
  std::string reason_;
};

// Builds the house message form: problem 'subject': detail
std::string Problem(std::string_view problem, std::string_view subject,
                    std::string_view detail = {});

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace aero

#define AERO_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::aero::Status aero_status_ = (expr);   \
    if (!aero_status_.ok()) return aero_status_; \
  } while (0)

#define AERO_CONCAT_INNER(a, b) a##b
#define AERO_CONCAT(a, b) AERO_CONCAT_INNER(a, b)
#define AERO_ASSIGN_OR_RETURN(lhs, expr)                              \
  auto AERO_CONCAT(aero_result_, __LINE__) = (expr);                  \
  if (!AERO_CONCAT(aero_result_, __LINE__).ok())                      \
    return AERO_CONCAT(aero_result_, __LINE__).status();              \
  lhs = std::move(AERO_CONCAT(aero_result_, __LINE__)).value()
