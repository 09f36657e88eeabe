// The HIST-2 chain alone over a WAL's write sets: the floor under ship-wal
// and apply-wal on one core. Each write set's history digest needs one
// SHA-256 finish (H(c) = SHA-256(H(c-1) || W(c))), and the chain is
// sequential, so no implementation of the format can pass these bytes
// through ship or apply faster than one core hashes them this way.
//   chain_bench WAL   (prints MB/s, MiB as the bench counts them, of the write sets' bytes, best of 3)
// Run by tests/bench/ship_apply.sh, never by ctest. Holds the WAL in memory.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/fs.h"
#include "history/digest.h"
#include "wal/wal_scan.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: chain_bench WAL\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  aero::Result<std::unique_ptr<aero::ReadableFile>> f = aero::PosixFs().OpenRead(argv[1]);
  if (!in || !f.ok()) {
    std::fprintf(stderr, "cannot read '%s'\n", argv[1]);
    return 1;
  }
  std::vector<std::pair<uint64_t, uint64_t>> sets;  // [start, end) of each write set
  aero::wal::WalScanner(f->get(), {}).Run({}, [&](const aero::wal::WriteSet& ws) {
    sets.emplace_back(ws.start_offset, ws.end_offset);
    return true;
  });
  if (sets.empty()) {
    std::fprintf(stderr, "no write set in '%s'\n", argv[1]);
    return 1;
  }
  const std::string held = bytes.str();
  const std::string_view all(held);
  double best = 0;
  aero::history::Digest d{};
  for (int round = 0; round < 3; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    aero::history::DigestChain chain;
    for (const auto& [start, end] : sets) {
      chain.Begin(d);
      chain.Update(all.substr(start, end - start));
      d = chain.Finish();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(sets.back().second - sets.front().first) / 1048576.0 / s);
  }
  std::printf("chain %.1f MB/s (%zu write sets, best of 3; %02x)\n", best, sets.size(), d[0]);
  return 0;
}
