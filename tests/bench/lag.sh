#!/usr/bin/env bash
# Replication lag of the continuous pipeline (specs/REPLICATION_FOLLOW.md),
# against PostgreSQL's archive_timeout-bounded WAL archiving, on one host:
#   ours      aerodb put at a steady rate -> ship-wal --follow --max-delay-ms D
#             -> a directory -> apply-wal --follow (one JSON line per run)
#   postgres  INSERTs at the same rate, archive_mode = on, archive_command =
#             cp into a directory, archive_timeout = 1s (its smallest value)
# For each commit: the ms from its acknowledgement on the primary (the writer
# returned) until it is readable on the replica (apply-wal's run that
# acknowledged it printed its line: `aerodb get` reads it from then on) or,
# for PostgreSQL, until the WAL file holding it is archived (a standby
# replaying from the archive sees it later still: this favours PostgreSQL);
# and the lag in commits (commits acknowledged on the primary and not yet
# readable on the replica, seen at each commit). Median and p99 of each.
#   bash tests/bench/lag.sh [SECONDS] [BUILD_DIR]   (default 15 s, build-rel)
#   DELAYS="0 200 1000" (--max-delay-ms values, default these); PERIOD=0.02
#   (seconds slept between two commits of the writer)
# Needs root for PostgreSQL (installed by ../shared/bench/peers.sh's way,
# apt-get, when missing; run as the postgres user on a Unix socket). Never
# part of ctest.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-15}
B=${2:-build-rel}
DELAYS=${DELAYS:-0 200 1000}
PERIOD=${PERIOD:-0.02}
if [ ! -x "$B/cli/aerodb-repl" ]; then
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAERODB_TESTS=OFF >/dev/null
  cmake --build "$B" -j2 >/dev/null
fi
AERODB=$B/cli/aerodb REPL=$B/cli/aerodb-repl
W=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-lag.XXXXXX")
chmod 755 "$W"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${PGBIN:-}" ]; then su postgres -c "$PGBIN/pg_ctl -D $W/pg/data -m immediate stop" >/dev/null 2>&1 || true; fi
  rm -rf "$W"
}
trap cleanup EXIT
nsec() { date +%s%N; }

# stats FILE: FILE holds "id t_commit_ns t_visible_ns" per commit, in commit
# order. Prints "ms_median ms_p99 commits_median commits_p99 n".
pct() { sort -n | awk -v q="$1" '{a[NR] = $1} END {i = int(NR * q + 0.999); if (i < 1) i = 1; print a[i]}'; }
stats() {
  awk '{ id[NR] = $1; tc[NR] = $2; tv[NR] = $3; n = NR }
    END {
      j = 0
      for (i = 1; i <= n; i++) {
        while (j < n && tv[j + 1] <= tc[i]) j++   # commits readable when i was acknowledged
        printf "%.1f %d\n", (tv[i] - tc[i]) / 1e6, i - j
      }
    }' "$1" > "$1.per"
  echo "$(cut -d' ' -f1 "$1.per" | pct 0.5) $(cut -d' ' -f1 "$1.per" | pct 0.99)" \
       "$(cut -d' ' -f2 "$1.per" | pct 0.5) $(cut -d' ' -f2 "$1.per" | pct 0.99) $(wc -l < "$1.per")"
}

# ---- ours ----
ours() {  # ours DELAY: writes the stats line, and the segment count, to $W/ours.DELAY/result
  local d=$1 D=$W/ours.$1 c=0
  mkdir -p "$D/out"
  "$AERODB" init -D "$D/p" >/dev/null
  "$AERODB" load -D "$D/p" --write-sets 100 >/dev/null
  "$REPL" ship-wal -D "$D/p" --to "$D/out" --follow --max-delay-ms "$d" >/dev/null 2>"$D/ship.err" &
  local ship=$!; PIDS+=("$ship")
  # Each run of apply-wal --follow --json is one line, flushed: stamp it as read.
  mkfifo "$D/fifo"
  "$REPL" apply-wal -D "$D/r" --from "$D/out" --follow --json >"$D/fifo" 2>"$D/apply.err" &
  local apply=$!; PIDS+=("$apply")
  while IFS= read -r line; do
    a=$(sed -n 's/.*"applied_commit":\([0-9]*\).*/\1/p' <<<"$line")
    [ -n "$a" ] && echo "$a $(nsec)"
  done <"$D/fifo" >"$D/visible.txt" &
  local reader=$!
  until [ "$("$REPL" status -D "$D/r" --json 2>/dev/null | jq -r '.applied_commit // 0')" = 100 ]; do sleep 0.1; done
  local end=$(( $(nsec) + SECS * 1000000000 ))
  while [ "$(nsec)" -lt "$end" ]; do
    c=$("$AERODB" put -D "$D/p" "docs/d$RANDOM" '{"v":1}' | awk '{print $NF}')
    echo "$c $(nsec)" >> "$D/commits.txt"
    sleep "$PERIOD"
  done
  until awk -v l="$c" '$1 >= l {f = 1} END {exit !f}' "$D/visible.txt" 2>/dev/null; do sleep 0.1; done
  kill -TERM "$ship" "$apply"
  wait "$ship" || echo "ship-wal --follow exited $?" >&2
  wait "$apply" || echo "apply-wal --follow exited $?" >&2
  wait "$reader" || true
  awk 'NR == FNR { v[NR] = $1; t[NR] = $2; nv = NR; next }
       { while (k < nv && v[k + 1] < $1) k++; print $1, $2, t[k + 1] }' "$D/visible.txt" "$D/commits.txt" > "$D/lag.txt"
  echo "$(stats "$D/lag.txt") $(ls "$D/out" | grep -c '\.seg$')" > "$D/result"
}

# ---- PostgreSQL ----
postgres_lag() {
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$PGBIN" ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  local P=$W/pg
  mkdir -p "$P/arch"; chown -R postgres "$P"
  su postgres -c "set -e
    $PGBIN/initdb -D $P/data -A trust >/dev/null
    cat >> $P/data/postgresql.conf <<C
archive_mode = on
archive_timeout = 1
archive_command = 'cp %p $P/arch/%f && echo %f \\\$(date +%%s%%N) >> $P/arch/times.txt'
listen_addresses = ''
unix_socket_directories = '$P'
C
    $PGBIN/pg_ctl -D $P/data -l $P/log -w start >/dev/null
    $PGBIN/psql -h $P -qAt -c 'create table t (id serial primary key, v int)' -c 'select pg_reload_conf()' postgres >/dev/null"
  # Measured on PostgreSQL 15.18: after a start, the checkpointer slept for
  # checkpoint_timeout and switched no file until the configuration was
  # reloaded; from then on it wakes every archive_timeout.
  sleep 1
  # The same writer: one client process per commit, the same pause between.
  su postgres -c "end=\$(( \$(date +%s%N) + $SECS * 1000000000 )); i=0
    while [ \$(date +%s%N) -lt \$end ]; do
      i=\$((i + 1))
      f=\$($PGBIN/psql -h $P -qAt -c 'insert into t (v) values (1)' -c 'select pg_walfile_name(pg_current_wal_lsn())' postgres)
      echo \"\$i \$f \$(date +%s%N)\"
      sleep $PERIOD
    done" > "$P/commits.txt"
  local lastf
  lastf=$(tail -1 "$P/commits.txt" | awk '{print $2}')
  for _ in $(seq 100); do grep -q "^$lastf " "$P/arch/times.txt" 2>/dev/null && break; sleep 0.1; done
  awk 'NR == FNR { a[$1] = $2; next } ($2 in a) { print $1, $3, a[$2] }' "$P/arch/times.txt" "$P/commits.txt" > "$P/lag.txt"
  echo "$(stats "$P/lag.txt") $(grep -c . "$P/arch/times.txt")" > "$P/result"
}

echo "replication lag on one host, $SECS s of steady writes per run (a commit, then ${PERIOD}s pause), $(nproc) CPUs"
declare -A OURS
for d in $DELAYS; do
  ours "$d"
  OURS[$d]=$(cat "$W/ours.$d/result")
  read -r med p99 cmed cp99 n segs <<<"${OURS[$d]}"
  echo "  aerodb-repl ship-wal --follow --max-delay-ms $d -> dir -> apply-wal --follow: $n commits, $segs segments"
  echo "    commit -> readable on the replica: median $med ms, p99 $p99 ms; lag median $cmed commits, p99 $cp99"
done
if [ "$(id -u)" = 0 ]; then
  postgres_lag
  PG=$(cat "$W/pg/result")
  read -r pmed pp99 pcmed pcp99 pn pfiles <<<"$PG"
  echo "  PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') archive_mode=on, archive_command=cp, archive_timeout=1s: $pn commits, $pfiles WAL files archived (16 MiB each)"
  echo "    commit -> WAL file archived: median $pmed ms, p99 $pp99 ms; lag median $pcmed commits, p99 $pcp99"
  echo "  ratios (ours / PostgreSQL; lower is less lag):"
  for d in $DELAYS; do
    read -r med p99 cmed cp99 _ <<<"${OURS[$d]}"
    printf '    --max-delay-ms %-5s median %7s ms / %7s ms = %5sx   p99 %7s ms / %7s ms = %5sx  (well under a second, p99 < 1000 ms: %s)\n' \
      "$d" "$med" "$pmed" "$(awk -v a="$med" -v b="$pmed" 'BEGIN { printf "%.2f", a / b }')" \
      "$p99" "$pp99" "$(awk -v a="$p99" -v b="$pp99" 'BEGIN { printf "%.2f", a / b }')" \
      "$(awk -v p="$p99" 'BEGIN { print (p < 1000) ? "met" : "MISSED" }')"
  done
else
  echo "  PostgreSQL: not measured (needs root); archive_timeout=1s bounds its lag by 1 s plus the archive_command, with a 16 MiB file per second of writes"
fi
