// Typed reads of one field of a parsed JSON object, for the small state files
// the library reads: nullopt (or nullptr) when the field is absent or has
// another type, never an exception (DESIGN's fault model: hostile JSON);
// and Dump, the one way the library writes JSON text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace aero::json_fields {

inline std::optional<uint64_t> Unsigned(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

// Points into `object`; valid while it lives.
inline const std::string* String(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

// The text of `j` (`indent` as nlohmann's dump), never an exception: a
// string that is not UTF-8 (a path's raw bytes) is written with U+FFFD in
// place of each bad byte instead of throwing type_error 316. A path that
// must survive the trip is stored as Utf8Escaped() (common/escape.h), which
// is UTF-8 and says which bytes it had.
inline std::string Dump(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace aero::json_fields
