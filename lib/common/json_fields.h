// Typed reads of one field of a parsed JSON object, for the small state files
// the library reads: nullopt (or nullptr) when the field is absent or has
// another type, never an exception (DESIGN's fault model: hostile JSON).
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

}  // namespace aero::json_fields
