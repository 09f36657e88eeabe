// The system id: 128 random bits created when a primary is initialised.
// Every node, segment, snapshot and history file carries it (formats/history-digest.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace aero::history {

struct SystemId {
  std::array<uint8_t, 16> bytes{};
  bool operator==(const SystemId&) const = default;
  std::string ToHex() const;  // 32 lowercase hex digits
  bool IsZero() const;
};

// 16 bytes from OpenSSL's CSPRNG.
Result<SystemId> NewSystemId();
// Exactly 32 hex digits.
Result<SystemId> ParseSystemId(std::string_view hex);

}  // namespace aero::history
