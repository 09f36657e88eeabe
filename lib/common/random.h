// Random bytes from the kernel's random source, getrandom(2): the system id
// (HIST-1), a promotion's claimant (MODEL-8), each encrypted file's salt
// (ENC-3), ship-wal's run id (LOG-31) and the object store's tokens. It is
// the source OpenSSL's own generator seeds from; OpenSSL's RAND_bytes is not
// used because its first call loads OpenSSL's configuration and providers,
// ~1.3 ms of every ship-wal run on this machine.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/status.h"

namespace aero {

// Fills `out` with `n` random bytes; kIo (`no random bytes 'WHAT': ...`,
// `what` naming what they were for) if the kernel cannot give them. Blocks
// only until the kernel's pool is first seeded.
Status RandomBytes(void* out, size_t n, std::string_view what);

}  // namespace aero
