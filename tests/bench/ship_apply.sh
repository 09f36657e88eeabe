#!/usr/bin/env bash
# ship-wal / apply-wal / verify throughput as ratios against the peers,
# measured on this machine in the same run (../shared/bench/peers.sh), on two
# shapes of WAL:
#   bulk  large write sets: 16 records of 16 KiB each (bytes-heavy)
#   oltp  small write sets: 2 records of 200 bytes each (commit-heavy: ~10x
#         more write sets, records and CRCs per MiB)
# then the cost of runs with a long history and nothing new (they must grow
# with new work, not with history; tests count their reads, this times them):
# a no-op apply-wal over an inbox of 10,000 applied segments, status over the
# same inbox, and a ship-wal resume after one more commit on that long WAL.
#   bash tests/bench/ship_apply.sh [MIB] [BUILD_DIR]   (default 256 MiB, build-rel)
# Each shape also prints the HIST-2 chain alone (chain_bench): the one
# sequential step, hence the ceiling of ship's and apply's ratios.
# Then the large-record case (REC-12): LARGE_MIB (default 32; 0 skips) MiB
# records, one per write set, six write sets: the peak RSS of ship-wal,
# apply-wal, verify (segments, replica, archive), snapshot export and
# install, each also as a multiple of one record (memory grows with the
# largest record, REC-2: up to 64 MiB, never with the WAL).
#   SHAPES="bulk oltp" (default both); RUNS=N (default 5): our figures, and
#   cat+sync of the same bytes, are the median of N rounds, each timed step
#   after the same settle() (see below)
# Needs root for peers.sh (it installs PostgreSQL and pgBackRest when missing).
# Prints one line per figure and a ratio per target; never part of ctest.
set -euo pipefail
cd "$(dirname "$0")/../.."
MIB=${1:-256}
B=${2:-build-rel}
SHAPES=${SHAPES:-bulk oltp}
if [ ! -x "$B/cli/aerodb-repl" ] || [ ! -x "$B/tests/chain_bench" ]; then
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAERODB_TESTS=ON >/dev/null
  cmake --build "$B" -j2 --target aerodb aerodb-repl chain_bench >/dev/null
fi
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
AERODB=$B/cli/aerodb REPL=$B/cli/aerodb-repl
W=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
source tests/bench/common.sh

PEERS=$W/peers.txt
run_peers "$MIB" "$PEERS"
BEST_PUSH=$(awk '$1 ~ /^pgbackrest_push_/ {if ($2 > m) {m = $2; k = $1}} END {print k}' "$PEERS")

shape() {
  local S=$1 RECORDS BODY SETS
  if [ "$S" = bulk ]; then RECORDS=16 BODY=16384; else RECORDS=2 BODY=200; fi
  # A WAL of >= MIB MiB (each record carries ~50 bytes of framing and ids).
  SETS=$(( MIB * 1048576 / (RECORDS * (BODY + 60)) + 1 ))
  rm -rf "$W/p"
  "$AERODB" init -D "$W/p" >/dev/null
  "$AERODB" load -D "$W/p" --write-sets "$SETS" --records-per-set "$RECORDS" --body-bytes "$BODY" --seed 1 >/dev/null
  local BYTES
  BYTES=$(stat -c %s "$W/p/wal/wal.log")
  mkdir -p "$W/out"
  sync
  # RUNS rounds of ship -> apply -> verify from scratch, each step preceded
  # by settle(); the figure is each step's median. In every round the disk's
  # limit on the same bytes is measured as well (cat WAL > file + sync, after
  # the same settle), because peers.sh's write_fsync is one figure taken at
  # another moment, and this disk's speed swings by 2-5x from one minute to
  # the next; and openssl dgst -sha256 over the segments verify reads.
  local RUNS=${RUNS:-5} S_ALL=() A_ALL=() V_ALL=() F_ALL=() H_ALL=() run t0 t1 SEGBYTES
  for run in $(seq "$RUNS"); do
    rm -rf "$W/out" "$W/r" "$W/p/replication/shipped"; mkdir -p "$W/out"
    settle
    t0=$(now); cat "$W/p/wal/wal.log" > "$W/one.bin"; sync "$W/one.bin"; t1=$(now)
    F_ALL+=("$(mbps "$BYTES" "$t0" "$t1")")
    rm -f "$W/one.bin"
    settle
    t0=$(now); /usr/bin/time -f %M -o "$W/ship.rss.$run" "$REPL" ship-wal -D "$W/p" --to "$W/out" >/dev/null; t1=$(now)
    S_ALL+=("$(mbps "$BYTES" "$t0" "$t1")")
    settle
    t0=$(now); /usr/bin/time -f %M -o "$W/apply.rss.$run" "$REPL" apply-wal -D "$W/r" --from "$W/out" >/dev/null; t1=$(now)
    A_ALL+=("$(mbps "$BYTES" "$t0" "$t1")")
    SEGBYTES=$(du -cb "$W"/out/*.seg | tail -1 | cut -f1)
    settle
    t0=$(now); /usr/bin/time -f %M -o "$W/verify.rss.$run" "$REPL" verify "$W/out" >/dev/null; t1=$(now)
    V_ALL+=("$(mbps "$SEGBYTES" "$t0" "$t1")")
    settle
    t0=$(now); openssl dgst -sha256 "$W"/out/*.seg >/dev/null; t1=$(now)
    H_ALL+=("$(mbps "$SEGBYTES" "$t0" "$t1")")
  done
  local SHIP APPLY VERIFY WFS_WAL SHA_SEG f kib
  SHIP=$(echo "${S_ALL[*]}" | median); APPLY=$(echo "${A_ALL[*]}" | median); VERIFY=$(echo "${V_ALL[*]}" | median)
  WFS_WAL=$(echo "${F_ALL[*]}" | median); SHA_SEG=$(echo "${H_ALL[*]}" | median)
  for f in ship apply verify; do maxrss "$W"/$f.rss.* > "$W/$f.rss"; done
  echo
  echo "shape '$S': $((BYTES / 1048576)) MiB of WAL ($SETS write sets of $RECORDS x $BODY bytes), median of $RUNS runs:"
  echo "  runs: cat+sync ${F_ALL[*]} | ship-wal ${S_ALL[*]} | apply-wal ${A_ALL[*]} | verify ${V_ALL[*]} | openssl ${H_ALL[*]} (MB/s)"
  echo "  ship-wal   $SHIP MB/s, peak RSS $(( $(rss "$W/ship.rss") / 1024 )) MiB"
  echo "  apply-wal  $APPLY MB/s, peak RSS $(( $(rss "$W/apply.rss") / 1024 )) MiB"
  echo "  verify     $VERIFY MB/s over the segment directory, peak RSS $(( $(rss "$W/verify.rss") / 1024 )) MiB"
  echo "  cat wal.log > file + sync (same bytes, same rounds)  $WFS_WAL MB/s; openssl dgst -sha256 *.seg  $SHA_SEG MB/s"
  # The floor under ship and apply: the HIST-2 chain alone, one SHA-256
  # finish per write set, sequential by definition (tests/bench/chain_bench.cc).
  local CHAIN
  CHAIN=$("$B/tests/chain_bench" "$W/p/wal/wal.log" | awk '{print $2}')
  echo "  HIST-2 chain alone on one core, in memory  $CHAIN MB/s: ship or apply can pass the WAL no faster;"
  echo "    as a share of cat+sync it is $(ratio "$CHAIN" "$WFS_WAL")x, the ceiling of the write+fsync ratios below"
  local PS=$W/peers.$S.txt
  cp "$PEERS" "$PS"
  { echo "write_fsync_wal $WFS_WAL"; echo "sha256_segments $SHA_SEG"; } >> "$PS"
  echo "  ratios (issue 10 targets):"
  check ship-wal "$SHIP" "$BEST_PUSH" 2 "$PS"
  check ship-wal "$SHIP" write_fsync 0.8 "$PS"
  check ship-wal "$SHIP" write_fsync_wal 0.8 "$PS"
  check apply-wal "$APPLY" pgbackrest_get_zst 2 "$PS"
  check apply-wal "$APPLY" write_fsync 0.8 "$PS"
  check apply-wal "$APPLY" write_fsync_wal 0.8 "$PS"
  check verify "$VERIFY" sha256 0.9 "$PS"
  check verify "$VERIFY" sha256_segments 0.9 "$PS"
  for f in ship apply verify; do
    kib=$(rss "$W/$f.rss"); echo "    peak RSS $f: $((kib / 1024)) MiB (target <= 32: $([ "$kib" -le 32768 ] && echo met || echo MISSED))"
  done
}

for S in $SHAPES; do shape "$S"; done

# History: 10,000 segments of one write set each, all applied; then runs with
# nothing (or one commit) new. Each should cost a listing plus its new work.
rm -rf "$W/h"; mkdir -p "$W/h/out"
"$AERODB" init -D "$W/h/p" >/dev/null
"$AERODB" load -D "$W/h/p" --write-sets 10000 --records-per-set 1 --body-bytes 50 --seed 3 >/dev/null
"$REPL" ship-wal -D "$W/h/p" --to "$W/h/out" --max-segment-bytes 1 >/dev/null
"$REPL" apply-wal -D "$W/h/r" --from "$W/h/out" >/dev/null
NSEG=$(ls "$W"/h/out/*.seg | wc -l)
# Each figure is the median of 11 runs, after one untimed run.
timed() {
  local all=() i t0 t1
  "$@" >/dev/null || true
  for i in $(seq 11); do t0=$(now); "$@" >/dev/null || true; t1=$(now); all+=("$(ms "$t0" "$t1")"); done
  echo "${all[*]}" | median
}
NOOP_APPLY=$(timed "$REPL" apply-wal -D "$W/h/r" --from "$W/h/out")
STATUS=$(timed "$REPL" status -D "$W/h/r" --from "$W/h/out")
IDLE_SHIP=$(timed "$REPL" ship-wal -D "$W/h/p" --to "$W/h/out")
resume_ship() { "$AERODB" put -D "$W/h/p" "bench/x" '{"n":1}' >/dev/null && "$REPL" ship-wal -D "$W/h/p" --to "$W/h/out"; }
RESUME_SHIP=$(timed resume_ship)
echo
echo "history: $NSEG segments applied, $(( $(stat -c %s "$W/h/p/wal/wal.log") / 1024 )) KiB of WAL (median of 11 runs, ms):"
echo "  apply-wal with nothing new over the $NSEG segments   $NOOP_APPLY ms"
echo "  status --from the same inbox                         $STATUS ms"
echo "  ship-wal with nothing new                            $IDLE_SHIP ms"
echo "  aerodb put + ship-wal resume on the long WAL         $RESUME_SHIP ms (the put included)"

# Large records (REC-12): what each command holds for a record it must judge whole.
LARGE_MIB=${LARGE_MIB:-32}
if [ "$LARGE_MIB" -gt 0 ]; then
  L=$W/large
  rm -rf "$L"; mkdir -p "$L/out"
  "$AERODB" init -D "$L/p" >/dev/null
  "$AERODB" load -D "$L/p" --write-sets 6 --records-per-set 1 --body-bytes $(( LARGE_MIB * 1048576 - 512 )) --seed 5 >/dev/null
  large() {  # NAME ARGS...: one run, its peak RSS in MiB and as records
    local name=$1 kib; shift
    /usr/bin/time -f %M -o "$L/rss" "$REPL" "$@" >/dev/null 2>"$L/err" || { cat "$L/err" >&2; return 1; }
    kib=$(rss "$L/rss")
    printf '  %-32s peak RSS %4d MiB = %s records\n' "$name" $((kib / 1024)) "$(ratio "$kib" $((LARGE_MIB * 1024)))"
  }
  echo
  echo "large records: 6 write sets of one ${LARGE_MIB} MiB record (REC-12: two records plus the fixed buffers, four for ship-wal):"
  large "ship-wal" ship-wal -D "$L/p" --to "$L/out"
  large "apply-wal" apply-wal -D "$L/r" --from "$L/out"
  large "verify of the segments" verify "$L/out"
  large "verify of the replica" verify "$L/r"
  large "snapshot export (zstd)" snapshot export -D "$L/r" -o "$L/s.tar.zst"
  large "snapshot install" snapshot install "$L/s.tar.zst" -D "$L/i"
  large "verify of the archive" verify "$L/s.tar.zst"
fi
