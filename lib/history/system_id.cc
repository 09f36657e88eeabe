#include "history/system_id.h"

#include <openssl/rand.h>

#include <algorithm>

#include "common/sha256.h"

namespace aero::history {

std::string SystemId::ToHex() const { return aero::ToHex(bytes); }

bool SystemId::IsZero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

Result<SystemId> NewSystemId() {
  SystemId id;
  if (RAND_bytes(id.bytes.data(), static_cast<int>(id.bytes.size())) != 1) {
    return Status(Code::kIo, Problem("cannot create system id", "openssl",
                                     "RAND_bytes failed"));
  }
  return id;
}

Result<SystemId> ParseSystemId(std::string_view hex) {
  SystemId id;
  if (!FromHex(hex, id.bytes.data(), id.bytes.size())) {
    return Status(Code::kUsage, Problem("invalid system id", hex,
                                        "expected 32 hexadecimal digits"));
  }
  return id;
}

}  // namespace aero::history
