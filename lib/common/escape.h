// One line per message: a control character in a path (a newline in a -D)
// is written escaped, as \n or \xNN, in a problem's subject (Problem(),
// common/status.h) and in a text log line (OPS-4).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aero {

// Whether `text` holds a byte AppendEscaped escapes: a control character
// (C0, DEL, or C1 as UTF-8) or a byte of no valid UTF-8 sequence.
bool HasControlChar(std::string_view text);
// Appends `text` to `out` with each such byte escaped (\n, else \xNN);
// printable ASCII and valid UTF-8 are kept as they are.
void AppendEscaped(std::string* out, std::string_view text);
std::string Escaped(std::string_view text);
// Only the bytes of no valid UTF-8 sequence escaped (\xNN): a path's raw
// bytes kept in a JSON file of the library (OPS-4), where a control
// character is JSON's to escape and must come back as it was.
std::string Utf8Escaped(std::string_view text);

}  // namespace aero
