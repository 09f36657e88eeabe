#include "common/escape.h"

namespace aero {

namespace {

// The length of the UTF-8 sequence at `text[i]` (shortest form, not a
// surrogate, at most U+10FFFF; a control character is one), 0 when the
// byte starts none.
size_t Utf8At(std::string_view text, size_t i, uint32_t* code_point) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  }
  size_t n = 0;
  uint32_t cp = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2, cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3, cp = b0 & 0x0f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  const bool shortest = (n == 2 && cp >= 0x80) || (n == 3 && cp >= 0x800) || (n == 4 && cp >= 0x10000);
  if (!shortest || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
  *code_point = cp;
  return n;
}

// The length of the character at `text[i]` when it may be written as it
// is: printable ASCII, or a whole UTF-8 sequence (shortest form, not a
// surrogate, at most U+10FFFF) that is not a C1 control (U+0080..U+009F);
// 0 when the byte must be escaped: a C0 control, DEL, or a byte of no
// valid sequence (a file name need not be UTF-8, and a terminal may take
// a stray 0x9b for a control sequence).
size_t PrintableAt(std::string_view text, size_t i) {
  uint32_t cp = 0;
  const size_t n = Utf8At(text, i, &cp);
  if (n == 0) return 0;
  return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ? 0 : n;
}

}  // namespace

bool HasControlChar(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = PrintableAt(text, i);
    if (n == 0) return true;
    i += n;
  }
  return false;
}

void AppendEscaped(std::string* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < text.size();) {
    if (const size_t n = PrintableAt(text, i); n > 0) {
      out->append(text.substr(i, n));
      i += n;
      continue;
    }
    const auto u = static_cast<unsigned char>(text[i++]);
    if (u == '\n') {
      *out += "\\n";
    } else {
      *out += "\\x";
      *out += kHex[u >> 4];
      *out += kHex[u & 15];
    }
  }
}

std::string Utf8Escaped(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    if (const size_t n = Utf8At(text, i, &cp); n > 0) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    const auto u = static_cast<unsigned char>(text[i++]);
    out += "\\x";
    out += kHex[u >> 4];
    out += kHex[u & 15];
  }
  return out;
}

std::string Escaped(std::string_view text) {
  std::string out;
  AppendEscaped(&out, text);
  return out;
}

}  // namespace aero
