#!/usr/bin/env bash
# The authority commands' costs (issue 11): promote on a replica with a
# large WAL (it reads the last commit record only, RECOV/MODEL-8), and
# check-history of two nodes 10^6 commits long (RECOV-9: the applied
# digests decide when the nodes agree at the end; one scan per batch
# otherwise). Wall times, median of RUNS; never part of ctest.
#   bash tests/bench/authority.sh [GIB] [BUILD_DIR]   (default 1 GiB, build-rel)
#   COMMITS=N (default 1000000) for check-history
set -euo pipefail
cd "$(dirname "$0")/../.."
GIB=${1:-1}
B=${2:-build-rel}
COMMITS=${COMMITS:-1000000}
RUNS=${RUNS:-5}
if [ ! -x "$B/cli/aerodb-repl" ]; then
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAERODB_TESTS=OFF >/dev/null
  cmake --build "$B" -j2 >/dev/null
fi
AERODB=$B/cli/aerodb REPL=$B/cli/aerodb-repl
W=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-bench-auth.XXXXXX")
trap 'rm -rf "$W"' EXIT
source tests/bench/common.sh

echo "promote on a replica with a ${GIB} GiB WAL:"
"$AERODB" init -D "$W/p" >/dev/null
"$AERODB" load -D "$W/p" --write-sets $((GIB * 4096)) --records-per-set 16 --body-bytes 16384 --seed 1 >/dev/null
mkdir "$W/arch"
"$REPL" ship-wal -D "$W/p" --to "$W/arch" --claim-archive >/dev/null
"$REPL" apply-wal -D "$W/r0" --from "$W/arch" >/dev/null 2>&1
echo "  replica WAL: $(stat -c %s "$W/r0/wal/wal.log") bytes"
T=()
for i in $(seq "$RUNS"); do
  rm -rf "$W/r" "$W/arch2"; cp -a "$W/r0" "$W/r"; cp -a "$W/arch" "$W/arch2"
  settle
  t0=$(now); "$REPL" promote -D "$W/r" --archive "$W/arch2" >/dev/null; t1=$(now)
  T+=("$(ms "$t0" "$t1")")
done
echo "  promote: $(echo "${T[@]}" | median) ms (median of $RUNS; target < 1000 ms)"

echo "check-history of two nodes $COMMITS commits long:"
rm -rf "$W/p" "$W/r0" "$W/r" "$W/arch" "$W/arch2"
"$AERODB" init -D "$W/a" >/dev/null
"$AERODB" load -D "$W/a" --write-sets "$COMMITS" --records-per-set 1 --body-bytes 16 --seed 2 >/dev/null
cp -a "$W/a" "$W/b"
echo "  each WAL: $(stat -c %s "$W/a/wal/wal.log") bytes"
T=()
for i in $(seq "$RUNS"); do
  settle
  t0=$(now); "$REPL" check-history -D "$W/a" -D "$W/b" >/dev/null; t1=$(now)
  T+=("$(ms "$t0" "$t1")")
done
echo "  identical: $(echo "${T[@]}" | median) ms (median of $RUNS; target < 50 ms)"
"$AERODB" put -D "$W/b" bench/extra '{}' >/dev/null 2>&1
T=()
for i in $(seq "$RUNS"); do
  settle
  t0=$(now); "$REPL" check-history -D "$W/a" -D "$W/b" >/dev/null || true; t1=$(now)
  T+=("$(ms "$t0" "$t1")")
done
echo "  behind by one (the longer side's digest at the shorter's end: one scan of its log): $(echo "${T[@]}" | median) ms"
