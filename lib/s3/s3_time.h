// The times an object store states, parsed (specs/REPLICATION_OBJECT_STORE.md
// OBJ-14): an upload's `Initiated` and an answer's `Date`. Parsing only: no
// clock is read here (MODEL-5); prune compares two of the store's own times.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace aero::s3 {

// "2026-12-05T22:00:00.000Z" (ISO 8601, UTC, fraction optional) as seconds
// since 1970-01-01 UTC; nullopt when it does not parse.
std::optional<int64_t> ParseIso8601(std::string_view s);
// "Sat, 05 Dec 2026 22:03:26 GMT" (RFC 7231 IMF-fixdate) as seconds since
// 1970-01-01 UTC; nullopt when it does not parse.
std::optional<int64_t> ParseHttpDate(std::string_view s);

}  // namespace aero::s3
