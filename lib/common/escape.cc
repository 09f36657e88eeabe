#include "common/escape.h"

#include <algorithm>

namespace aero {

namespace {

bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

}  // namespace

bool HasControlChar(std::string_view text) { return std::any_of(text.begin(), text.end(), IsControl); }

void AppendEscaped(std::string* out, std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      *out += "\\n";
    } else if (IsControl(c)) {
      static constexpr char kHex[] = "0123456789abcdef";
      *out += "\\x";
      *out += kHex[u >> 4];
      *out += kHex[u & 15];
    } else {
      *out += c;
    }
  }
}

}  // namespace aero
