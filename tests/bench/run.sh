#!/usr/bin/env bash
# Benchmarks: figures as ratios against references measured in the same run.
#   bash tests/bench/run.sh [BUILD_DIR]     (default: build, a Release build)
# Never part of ctest: timings belong in a report, not in assertions.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
if [ ! -x "$B/tests/crc32_bench" ]; then
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$B" -j2 --target crc32_bench >/dev/null
fi
crc=$("$B/tests/crc32_bench" | awk '{print $2}')
# Reference in the same run: one core of openssl's SHA-256 over 256 MiB in memory.
sha=$(openssl speed -bytes 16384 -seconds 2 sha256 2>/dev/null | awk '/^sha256/ {v=$NF; sub(/k$/,"",v); printf "%.1f", v*1000/1048576}')
echo "crc32            ${crc} MB/s   (target >= 1000 MB/s: $(awk -v c="$crc" 'BEGIN{print (c>=1000)?"met":"MISSED"}'))"
echo "sha256 (openssl) ${sha} MB/s   crc32/sha256 = $(awk -v c="$crc" -v s="$sha" 'BEGIN{printf "%.2f", c/s}')"
