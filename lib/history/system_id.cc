#include "history/system_id.h"

#include <algorithm>

#include "common/random.h"
#include "common/sha256.h"

namespace aero::history {

std::string SystemId::ToHex() const { return aero::ToHex(bytes); }

bool SystemId::IsZero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

Result<SystemId> NewSystemId() {
  SystemId id;
  AERO_RETURN_IF_ERROR(RandomBytes(id.bytes.data(), id.bytes.size(), "a new system id"));
  return id;
}

Result<SystemId> ParseSystemId(std::string_view hex) {
  SystemId id;
  if (!FromHex(hex, id.bytes.data(), id.bytes.size())) {
    return Status(Code::kUsage,
                  Problem("invalid system id", hex, "expected 32 lowercase hexadecimal digits"),
                  "copy it from 'aerodb-repl status -D DIR' (system id) or the node's "
                  "replication/identity.json");
  }
  return id;
}

}  // namespace aero::history
