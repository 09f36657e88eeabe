// CRC-32 throughput over a 256 MiB buffer (issue: >= 1 GB/s on this machine).
// Prints MB/s; run by tests/bench/run.sh, never by ctest.
#include <chrono>
#include <cstdio>
#include <string>

#include "common/crc32.h"

int main() {
  const size_t n = 256u << 20;
  std::string buf(n, '\0');
  for (size_t i = 0; i < n; ++i) buf[i] = static_cast<char>(i * 131 + (i >> 9));
  double best = 0;
  uint32_t sink = 0;
  for (int round = 0; round < 5; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    sink ^= aero::Crc32(buf);
    auto t1 = std::chrono::steady_clock::now();
    double s = std::chrono::duration<double>(t1 - t0).count();
    best = std::max(best, n / 1048576.0 / s);
  }
  std::printf("crc32 %.1f MB/s (best of 5 over 256 MiB; %08x)\n", best, sink);
  return 0;
}
