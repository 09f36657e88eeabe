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
settle; t0=$(now)
/usr/bin/time -f %M -o "$W/apply.rss" "$B/cli/aerodb-repl" apply-wal -D "$W/r" --from s3://bench/ours >/dev/null 2>&1 || { echo "apply-wal failed"; exit 1; }
t1=$(now); apply=$(mbps "$bytes" "$t0" "$t1")
settle; t0=$(now)
s3cmd -c "$W/s3cfg" --no-progress -q put --recursive "$W/seg/" s3://bench/peer/ >/dev/null || { echo "s3cmd put failed"; exit 1; }
t1=$(now); put=$(mbps "$bytes" "$t0" "$t1")
settle; t0=$(now)
s3cmd -c "$W/s3cfg" --no-progress -q get --recursive s3://bench/peer/ "$W/back/" >/dev/null || { echo "s3cmd get failed"; exit 1; }
t1=$(now); get=$(mbps "$bytes" "$t0" "$t1")
printf '  ship-wal  --to s3://   %8s MB/s, peak RSS %s KiB\n' "$ship" "$(rss "$W/ship.rss")"
printf '  apply-wal --from s3:// %8s MB/s, peak RSS %s KiB\n' "$apply" "$(rss "$W/apply.rss")"
printf '  s3cmd put --recursive  %8s MB/s\n' "$put"
printf '  s3cmd get --recursive  %8s MB/s\n' "$get"
printf '  ratios: ship-wal / s3cmd put = %sx, apply-wal / s3cmd get = %sx\n' "$(ratio "$ship" "$put")" "$(ratio "$apply" "$get")"
