// How deep arrays and objects nest in JSON text, counted on the bytes before
// any parse. nlohmann::json parses without recursion, but copying, comparing
// and dumping a parsed value recurse once per level: a file of 100,000 '['
// (200 KB) overflows the stack there. Readers of our JSON files refuse text
// nested deeper than kMaxJsonDepth before they parse it; none of the formats
// nests more than 3 levels.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace aero {

constexpr size_t kMaxJsonDepth = 32;

// The deepest nesting of '[' and '{' outside strings. For text that is not
// JSON the count means nothing, and the parser refuses that text anyway.
inline size_t JsonDepth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace aero
