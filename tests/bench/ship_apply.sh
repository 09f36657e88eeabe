#!/usr/bin/env bash
# ship-wal / apply-wal / verify throughput as ratios against the peers,
# measured on this machine in the same run (../shared/bench/peers.sh).
#   bash tests/bench/ship_apply.sh [MIB] [BUILD_DIR]   (default 256 MiB, build-rel)
#   RUNS=N (default 5): our figures, and cat+sync of the same bytes, are the
#   median of N rounds, each timed step after the same settle() (see below)
# Needs root for peers.sh (it installs PostgreSQL and pgBackRest when missing).
# Prints one line per figure and a ratio per target; never part of ctest.
set -euo pipefail
cd "$(dirname "$0")/../.."
MIB=${1:-256}
B=${2:-build-rel}
if [ ! -x "$B/cli/aerodb-repl" ]; then
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAERODB_TESTS=OFF >/dev/null
  cmake --build "$B" -j2 >/dev/null
fi
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
AERODB=$B/cli/aerodb REPL=$B/cli/aerodb-repl
W=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
now() { date +%s.%N; }
mbps() { awk -v b="$1" -v t0="$2" -v t1="$3" 'BEGIN { printf "%.1f", b / 1048576 / (t1 - t0) }'; }
rss() { awk '{print $1}' "$1"; }  # KiB, from /usr/bin/time -f %M

# A WAL of >= MIB MiB: 16 records of 16 KiB per write set.
SETS=$(( MIB * 1048576 / (16 * 15800) + 1 ))
"$AERODB" init -D "$W/p" >/dev/null
"$AERODB" load -D "$W/p" --write-sets "$SETS" --records-per-set 16 --body-bytes 16384 --seed 1 >/dev/null
BYTES=$(stat -c %s "$W/p/wal/wal.log")
mkdir -p "$W/out"
sync

# RUNS rounds (default 5) of ship -> apply -> verify from scratch, each step
# preceded by settle(); the figure is each step's median. In every round the
# disk's limit on the same bytes is measured as well (cat WAL > file + sync,
# after the same settle), because peers.sh's write_fsync is one figure taken
# at another moment, and this disk's speed swings by 2-5x from one minute to
# the next.
# settle(): on this VM the first write-heavy second after an idle pause runs
# at a fraction of the speed of the next one (measured: cat+sync of 1 GiB
# after a 3 s pause 215-420 MB/s, back to back 1128-1310 MB/s; a 1 s busy
# loop before it, with no I/O at all, restores most of the speed: the
# hypervisor idles the vCPUs). So every timed step, ours and the peer's
# alike, starts after sync and one second of busy loop on every core.
RUNS=${RUNS:-5}
settle() {
  sync
  local i
  for i in $(seq "$(nproc)"); do timeout 1 sh -c 'while :; do :; done' & done
  wait
}
median() { tr ' ' '\n' | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
maxrss() { sort -n "$@" | tail -1; }
S_ALL=() A_ALL=() V_ALL=() F_ALL=()
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
done
SHIP=$(echo "${S_ALL[*]}" | median); APPLY=$(echo "${A_ALL[*]}" | median); VERIFY=$(echo "${V_ALL[*]}" | median)
WFS_WAL=$(echo "${F_ALL[*]}" | median)
for f in ship apply verify; do maxrss "$W"/$f.rss.* > "$W/$f.rss"; done

# A run with nothing to do, as cron calls it every minute.
idle() {
  local n=50 t0 t1
  t0=$(now); for _ in $(seq $n); do "$@" >/dev/null; done; t1=$(now)
  awk -v t0="$t0" -v t1="$t1" -v n=$n 'BEGIN { printf "%.2f", (t1 - t0) * 1000 / n }'
}
IDLE_SHIP=$(idle "$REPL" ship-wal -D "$W/p" --to "$W/out")
# An inbox that keeps every segment (a long-lived archive as --from): each one
# is a duplicate, checked against replication/digests (NODE-11, LOG-8).
NSEG=$(ls "$W"/out/*.seg | wc -l)
IDLE_APPLY_ARCHIVE=$(idle "$REPL" apply-wal -D "$W/r" --from "$W/out")
rm "$W"/out/*.seg  # a drained inbox, as with rsync --remove-source-files on both sides
IDLE_APPLY=$(idle "$REPL" apply-wal -D "$W/r" --from "$W/out")

echo "aerodb-repl on $((BYTES / 1048576)) MiB of WAL ($SETS write sets), median of $RUNS runs:"
echo "  runs: cat+sync ${F_ALL[*]} | ship-wal ${S_ALL[*]} | apply-wal ${A_ALL[*]} | verify ${V_ALL[*]} (MB/s)"
echo "  ship-wal   $SHIP MB/s, peak RSS $(( $(rss "$W/ship.rss") / 1024 )) MiB"
echo "  apply-wal  $APPLY MB/s, peak RSS $(( $(rss "$W/apply.rss") / 1024 )) MiB"
echo "  verify     $VERIFY MB/s over the segment directory, peak RSS $(( $(rss "$W/verify.rss") / 1024 )) MiB"
echo "  idle run   ship-wal ${IDLE_SHIP} ms, apply-wal ${IDLE_APPLY} ms (drained inbox), ${IDLE_APPLY_ARCHIVE} ms (inbox keeping its $NSEG segments)"
echo "  cat wal.log > file + sync (same bytes, same rounds)  $WFS_WAL MB/s"

PEERS=$W/peers.txt
if [ -x ../shared/bench/peers.sh ] || [ -f ../shared/bench/peers.sh ]; then
  bash ../shared/bench/peers.sh "$MIB" > "$PEERS"
else
  echo "peers: ../shared/bench/peers.sh not found; only same-bytes ratios"; : > "$PEERS"
fi
echo "write_fsync_wal $WFS_WAL" >> "$PEERS"
peer() { awk -v k="$1" '$1 == k {print $2}' "$PEERS"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
check() {  # check NAME VALUE PEER_NAME FACTOR
  local p r ok
  p=$(peer "$3")
  if [ -z "$p" ]; then printf '  %-10s no figure for %s; skipped\n' "$1" "$3"; return; fi
  r=$(ratio "$2" "$p")
  ok=$(awk -v r="$r" -v f="$4" 'BEGIN { print (r >= f) ? "met" : "MISSED" }')
  printf '  %-10s %8s MB/s / %-24s %8s MB/s = %5sx  (target >= %s: %s)\n' "$1" "$2" "$3" "$p" "$r" "$4" "$ok"
}
BEST_PUSH=$(awk '$1 ~ /^pgbackrest_push_/ {if ($2 > m) {m = $2; k = $1}} END {print k}' "$PEERS")
echo "peers, same machine, same run:"
sed 's/^/  /' "$PEERS"
echo "ratios:"
check ship-wal "$SHIP" "$BEST_PUSH" 2
check ship-wal "$SHIP" write_fsync 0.6
check ship-wal "$SHIP" write_fsync_wal 0.6
check apply-wal "$APPLY" pgbackrest_get_zst 2
check apply-wal "$APPLY" write_fsync 0.5
check apply-wal "$APPLY" write_fsync_wal 0.5
check verify "$VERIFY" sha256 0.85
for f in ship apply verify; do
  kib=$(rss "$W/$f.rss"); echo "  peak RSS $f: $((kib / 1024)) MiB (target <= 32: $([ "$kib" -le 32768 ] && echo met || echo MISSED))"
done
for f in "$IDLE_SHIP" "$IDLE_APPLY" "$IDLE_APPLY_ARCHIVE"; do
  echo "  idle run: $f ms (target <= 5: $(awk -v v="$f" 'BEGIN { print (v <= 5) ? "met" : "MISSED" }'))"
done
