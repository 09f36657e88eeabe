#include "common/status.h"

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
  return message_ + "\nhint: " + hint_;
}

std::string Problem(std::string_view problem, std::string_view subject,
                    std::string_view detail) {
  std::string out(problem);
  out += " '";
  // The message is one line (then `hint:`): a control character in a path
  // is written escaped, as \n or \xNN, never raw.
  for (const char c : subject) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += "'";
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  return out;
}

}  // namespace aero
