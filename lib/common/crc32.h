// CRC-32/IEEE (the zlib polynomial), as AeroDB's WAL and storage records use.
// libdeflate computes it (cmake/FindLibdeflate.cmake): 13 GB/s here against
// zlib's 3.9 (tests/bench/crc32_bench.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace aero {

// CRC of `n` bytes, continuing from `crc` (0 to start).
uint32_t Crc32(const void* data, size_t n, uint32_t crc = 0);
inline uint32_t Crc32(std::string_view s, uint32_t crc = 0) {
  return Crc32(s.data(), s.size(), crc);
}

}  // namespace aero
