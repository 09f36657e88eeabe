// One line per message: a control character in a path (a newline in a -D)
// is written escaped, as \n or \xNN, in a problem's subject (Problem(),
// common/status.h) and in a text log line (OPS-4).
#pragma once

#include <string>
#include <string_view>

namespace aero {

// Whether `text` holds a control character (what AppendEscaped escapes).
bool HasControlChar(std::string_view text);
// Appends `text` to `out` with each control character escaped.
void AppendEscaped(std::string* out, std::string_view text);

}  // namespace aero
