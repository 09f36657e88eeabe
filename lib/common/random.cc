#include "common/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace aero {

Status RandomBytes(void* out, size_t n, std::string_view what) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    const ssize_t got = ::getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status(Code::kIo, Problem("no random bytes", what, std::string("getrandom: ") + std::strerror(errno)),
                    "check the system's random source (the kernel's getrandom), then re-run");
    }
    p += got;  // reads of up to 256 bytes are whole once the pool is seeded
    n -= static_cast<size_t>(got);
  }
  return Status::Ok();
}

}  // namespace aero
