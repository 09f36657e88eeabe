#include "common/crc32.h"

#include <libdeflate.h>

namespace aero {

// libdeflate's crc32 is zlib's crc32 (CRC-32/IEEE, same results, same
// chaining), computed with carry-less multiplication where the CPU has it.
uint32_t Crc32(const void* data, size_t n, uint32_t crc) {
  return libdeflate_crc32(crc, data, n);
}

}  // namespace aero
