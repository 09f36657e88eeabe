#!/usr/bin/env bash
# ship-wal and apply-wal with and without encryption at rest
# (formats/encrypted-file.md; issue 15 target: >= 0.7x of unencrypted), on the
# two shapes of tests/bench/ship_apply.sh:
#   bulk  large write sets: 16 records of 16 KiB each (bytes-heavy)
#   oltp  small write sets: 2 records of 200 bytes each (commit-heavy)
#   bash tests/bench/encryption.sh [MIB] [BUILD_DIR]   (default 128 MiB, build-rel)
# Wall time is the figure the target names; the CPU time (user + sys) of
# the same runs is printed beside it, since on a shared machine the wall
# time of a run swings with the load and the CPU time does not.
#   SHAPES="bulk oltp" (default both); RUNS=N (default 5): medians of N rounds,
#   each round plain then AES-256-GCM then ChaCha20-Poly1305, every timed
#   step after the same settle() (tests/bench/common.sh)
# Prints one line per figure and the ratios; never part of ctest.
set -euo pipefail
cd "$(dirname "$0")/../.."
MIB=${1:-128}
B=${2:-build-rel}
SHAPES=${SHAPES:-bulk oltp}
if [ ! -x "$B/cli/aerodb-repl" ]; then
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAERODB_TESTS=OFF >/dev/null
  cmake --build "$B" -j2 >/dev/null
fi
AERODB=$B/cli/aerodb REPL=$B/cli/aerodb-repl
W=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-bench-enc.XXXXXX")
trap 'rm -rf "$W"' EXIT
source tests/bench/common.sh
mkdir -p "$W/keys"
head -c 32 /dev/urandom > "$W/keys/k.key"
chmod 600 "$W/keys/k.key"

shape() {
  local S=$1 RECORDS BODY SETS BYTES
  if [ "$S" = bulk ]; then RECORDS=16 BODY=16384; else RECORDS=2 BODY=200; fi
  SETS=$(( MIB * 1048576 / (RECORDS * (BODY + 60)) + 1 ))
  rm -rf "$W/p"
  "$AERODB" init -D "$W/p" >/dev/null
  "$AERODB" load -D "$W/p" --write-sets "$SETS" --records-per-set "$RECORDS" --body-bytes "$BODY" --seed 1 >/dev/null
  BYTES=$(stat -c %s "$W/p/wal/wal.log")
  local RUNS=${RUNS:-5} run mode t0 t1
  declare -A SHIP APPLY SHIP_CPU APPLY_CPU
  for run in $(seq "$RUNS"); do
    for mode in plain aes chacha; do
      local KEY=() KEYS=()
      case $mode in
        aes) KEY=(--encryption-key "$W/keys/k.key"); KEYS=(--encryption-keys "$W/keys") ;;
        chacha) KEY=(--encryption-key "$W/keys/k.key" --encryption-cipher chacha20-poly1305)
                KEYS=(--encryption-keys "$W/keys") ;;
      esac
      rm -rf "$W/out" "$W/r" "$W/p/replication/shipped"; mkdir -p "$W/out"
      settle
      t0=$(now); /usr/bin/time -f '%U %S' -o "$W/cpu" "$REPL" ship-wal -D "$W/p" --to "$W/out" "${KEY[@]}" --log-level warn >/dev/null; t1=$(now)
      SHIP[$mode]+="$(mbps "$BYTES" "$t0" "$t1") "
      SHIP_CPU[$mode]+="$(awk '{printf "%.2f", $1 + $2}' "$W/cpu") "
      settle
      t0=$(now); /usr/bin/time -f '%U %S' -o "$W/cpu" "$REPL" apply-wal -D "$W/r" --from "$W/out" "${KEYS[@]}" --log-level warn >/dev/null; t1=$(now)
      APPLY[$mode]+="$(mbps "$BYTES" "$t0" "$t1") "
      APPLY_CPU[$mode]+="$(awk '{printf "%.2f", $1 + $2}' "$W/cpu") "
    done
  done
  echo
  echo "shape '$S': $((BYTES / 1048576)) MiB of WAL ($SETS write sets of $RECORDS x $BODY bytes), median of $RUNS runs (MB/s of WAL):"
  local m p
  for m in plain aes chacha; do
    echo "  $m: ship-wal ${SHIP[$m]}MB/s (cpu ${SHIP_CPU[$m]}s) | apply-wal ${APPLY[$m]}MB/s (cpu ${APPLY_CPU[$m]}s)"
  done
  local step v r pc vc
  for step in ship-wal apply-wal; do
    for m in aes chacha; do
      # unquoted: the lists end in a space, which median would count
      if [ $step = ship-wal ]; then
        p=$(echo ${SHIP[plain]} | median); v=$(echo ${SHIP[$m]} | median)
        pc=$(echo ${SHIP_CPU[plain]} | median); vc=$(echo ${SHIP_CPU[$m]} | median)
      else
        p=$(echo ${APPLY[plain]} | median); v=$(echo ${APPLY[$m]} | median)
        pc=$(echo ${APPLY_CPU[plain]} | median); vc=$(echo ${APPLY_CPU[$m]} | median)
      fi
      r=$(ratio "$v" "$p")
      printf '  %-9s %-6s %8s MB/s / plain %8s MB/s = %5sx  (target >= 0.7: %s); cpu %ss vs %ss = %sx the time\n' "$step" "$m" "$v" "$p" "$r" \
        "$(awk -v r="$r" 'BEGIN { print (r >= 0.7) ? "met" : "MISSED" }')" "$vc" "$pc" "$(ratio "$vc" "$pc")"
    done
  done
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) on $(nproc) cores"
for S in $SHAPES; do shape "$S"; done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
