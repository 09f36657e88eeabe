#!/usr/bin/env bash
# ship-wal and apply-wal against a real Ceph RGW on loopback (issue 16),
# next to s3cmd (Debian) copying the same segment bytes to the same server
# in the same run; prints MB/s and the ratios ours / s3cmd. Not part of CI.
#   bash tests/bench/s3.sh [BUILD_DIR]     (default build/)
# Environment: BENCH_WRITE_SETS (default 40000, about 50 MB of segments).
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-$SRC/build}
source "$SRC/tests/bench/common.sh"
command -v s3cmd >/dev/null || { echo "SKIP: s3cmd is not installed (apt-get install s3cmd)"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-s3bench.XXXXXX")
RGW=$W/rgw
trap 'bash "$SRC/tests/support/rgw.sh" stop "$RGW"; rm -rf "$W"' EXIT
bash "$SRC/tests/support/rgw.sh" start "$RGW" >/dev/null || { echo "SKIP: RGW did not start"; exit 77; }
source "$RGW/env"
"$B/tests/s3_rgw_tool" mkbucket s3://bench || exit 10
host=${AERODB_S3_ENDPOINT#http://}
cat >"$W/s3cfg" <<CFG
[default]
access_key = $AWS_ACCESS_KEY_ID
secret_key = $AWS_SECRET_ACCESS_KEY
host_base = $host
host_bucket = $host
use_https = False
signature_v2 = False
CFG
N=${BENCH_WRITE_SETS:-40000}
"$B/cli/aerodb" init -D "$W/p" >/dev/null
"$B/cli/aerodb" load -D "$W/p" --write-sets "$N" >/dev/null
# The same segments in a directory, for s3cmd and for the byte count.
mkdir -p "$W/seg" "$W/back"
"$B/cli/aerodb-repl" ship-wal -D "$W/p" --to "$W/seg" >/dev/null 2>&1
bytes=$(du -sb "$W/seg" | cut -f1)
nseg=$(ls "$W/seg" | wc -l)
echo "s3 bench: $N write sets, $nseg segments, $bytes bytes, RGW on loopback"

settle; t0=$(now)
/usr/bin/time -f %M -o "$W/ship.rss" "$B/cli/aerodb-repl" ship-wal -D "$W/p" --to s3://bench/ours >/dev/null 2>&1 || { echo "ship-wal failed"; exit 1; }
t1=$(now); ship=$(mbps "$bytes" "$t0" "$t1")
# apply-wal three ways in this run (OBJ-9): one range at a time (read-ahead
# off), the default (1 MiB ranges, the next read ahead on a worker), and
# 512 KiB ranges read ahead. Each with the
# 1-minute load average when it ran: the machine may be shared.
load() { cut -d' ' -f1 /proc/loadavg; }
apply_run() {  # apply_run TAG ENV...: MB/s into apply_TAG, RSS file W/apply_TAG.rss
  rm -rf "$W/r"
  settle; local l t0 t1
  l=$(load); t0=$(now)
  env "${@:2}" /usr/bin/time -f %M -o "$W/apply_$1.rss" "$B/cli/aerodb-repl" apply-wal -D "$W/r" --from s3://bench/ours >/dev/null 2>&1 || { echo "apply-wal ($1) failed"; exit 1; }
  t1=$(now)
  printf -v "apply_$1" '%s' "$(mbps "$bytes" "$t0" "$t1")"
  printf -v "load_$1" '%s' "$l"
}
apply_run plain AERODB_S3_READ_AHEAD=0
apply_run ahead AERODB_S3_READ_AHEAD=1
apply_run ahead4 AERODB_S3_READ_AHEAD=1 AERODB_S3_RANGE_BYTES=524288
apply=$apply_ahead
settle; t0=$(now)
s3cmd -c "$W/s3cfg" --no-progress -q put --recursive "$W/seg/" s3://bench/peer/ >/dev/null || { echo "s3cmd put failed"; exit 1; }
t1=$(now); put=$(mbps "$bytes" "$t0" "$t1")
settle; load_get=$(load); t0=$(now)
s3cmd -c "$W/s3cfg" --no-progress -q get --recursive s3://bench/peer/ "$W/back/" >/dev/null || { echo "s3cmd get failed"; exit 1; }
t1=$(now); get=$(mbps "$bytes" "$t0" "$t1")
printf '  ship-wal  --to s3://   %8s MB/s, peak RSS %s KiB\n' "$ship" "$(rss "$W/ship.rss")"
printf '  apply-wal --from s3:// %8s MB/s, peak RSS %s KiB, load %s  (one 1 MiB range at a time: AERODB_S3_READ_AHEAD=0)\n' "$apply_plain" "$(rss "$W/apply_plain.rss")" "$load_plain"
printf '  apply-wal --from s3:// %8s MB/s, peak RSS %s KiB, load %s  (1 MiB ranges, the next read ahead: the default)\n' "$apply_ahead" "$(rss "$W/apply_ahead.rss")" "$load_ahead"
printf '  apply-wal --from s3:// %8s MB/s, peak RSS %s KiB, load %s  (512 KiB ranges read ahead: AERODB_S3_RANGE_BYTES=524288)\n' "$apply_ahead4" "$(rss "$W/apply_ahead4.rss")" "$load_ahead4"
printf '  s3cmd put --recursive  %8s MB/s\n' "$put"
printf '  s3cmd get --recursive  %8s MB/s, load %s\n' "$get" "$load_get"
printf '  ratios: ship-wal / s3cmd put = %sx, apply-wal / s3cmd get = %sx (read-ahead off %sx, 512 KiB ranges %sx)\n' \
  "$(ratio "$ship" "$put")" "$(ratio "$apply" "$get")" "$(ratio "$apply_plain" "$get")" "$(ratio "$apply_ahead4" "$get")"
