#include "common/status.h"

#include "common/escape.h"

namespace aero {

int ExitCodeOf(Code code) { return static_cast<int>(code); }

std::string_view CodeName(Code code) {
  switch (code) {
#define AERO_CODE(name, exit, json, meaning) \
  case Code::name:                           \
    return json;
#include "common/codes.def"
#undef AERO_CODE
  }
  return "internal";
}

std::string_view CodeMeaning(Code code) {
  switch (code) {
#define AERO_CODE(name, exit, json, meaning) \
  case Code::name:                           \
    return meaning;
#include "common/codes.def"
#undef AERO_CODE
  }
  return "internal error (a bug)";
}

std::string Status::ToString() const {
  if (hint_.empty()) return message_;
  // OPS-4: a hint may quote a path (`chmod 600 KEY`): one line, escaped.
  std::string out = message_ + "\nhint: ";
  AppendEscaped(&out, hint_);
  return out;
}

std::string Problem(std::string_view problem, std::string_view subject,
                    std::string_view detail) {
  std::string out(problem);
  out += " '";
  // The message is one line (then `hint:`): a control character in the
  // subject or the detail is written escaped, as \n or \xNN, never raw.
  AppendEscaped(&out, subject);
  out += "'";
  if (!detail.empty()) {
    out += ": ";
    // OPS-4: the detail too (it may quote a file: a halt's reason, a name
    // in a manifest), so that no file can forge a line or end the message.
    AppendEscaped(&out, detail);
  }
  return out;
}

}  // namespace aero
