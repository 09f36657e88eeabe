# examples/drills on a real Ceph RADOS Gateway (issue 16, OBJ-13): the
# claim archive is s3://BUCKET/PREFIX, nodes ship straight to it and apply
# straight from it. RGW is started once here (tests/support/rgw.sh); each
# drill, and each split-brain round, claims under a fresh prefix. Skipped,
# by name, where RGW cannot start (exit 77); CI installs it (setup.sh).
# Environment: S3_DRILL_ROUNDS (default 200).
#
#   drills_s3_rgw.sh [PART]   PART: all (default); split1 or split2, each
#                             half of the split-brain rounds against its
#                             own RGW; failovers, drills 1 and 2
# ctest runs the three parts side by side (CI time: the 200 rounds took
# 190 s of the suite's 290 under ASan, one RGW, one process at a time).
part=${1:-all}
case $part in all|split1|split2|failovers) ;; *) echo "usage error 'drills_s3_rgw.sh': unknown part '$part'" >&2; exit 2;; esac
source "$(dirname "$0")/lib.sh"
: "${S3_RGW_TOOL:?}"
BIN=$(dirname "$AERODB")
D=$SRC/examples/drills
start_rgw cli.drills_s3_rgw
"$S3_RGW_TOOL" mkbucket s3://aerodb-drill || { echo "FAIL: cannot create the bucket" >&2; exit 1; }
export DRILL_S3=s3://aerodb-drill/drills

rounds=${S3_DRILL_ROUNDS:-200}
half=$(( rounds / 2 ))
case $part in split1) rounds=$(( rounds - half ));; split2) rounds=$half;; esac
if [ "$part" = all ] || [ "$part" = split1 ] || [ "$part" = split2 ]; then
test_case "OBJ-13 drill 3 on S3: a split-brain attempt each round against one bucket, exactly one winner (MODEL-6, OBJ-5)"
t0=$(date +%s)
run bash "$D/split-brain.sh" "$BIN" s3 "$rounds"
t1=$(date +%s)
expect_rc 0
expect_out_contains "drill ok: split-brain attempt, $rounds rounds"
expect_out_contains "ok    exactly one winner in each of $rounds rounds"
# Reported, never asserted (no timed assertions in tests).
echo "s3 split-brain drill ($part): $(grep -o 'exactly one winner.*' <<<"$OUT"), $((t1 - t0)) s wall"
fi
case $part in split1|split2) finish;; esac

# The failovers use prune, check-history, rejoin, snapshot export and install
# and apply-wal --report-to on the claim archive (OBJ-12: all take s3://).
test_case "drill 1 on S3: planned failover, the claim archive in a bucket (MODEL-8, RECOV-5, RECOV-10, LOG-20)"
run bash "$D/planned-failover.sh" "$BIN" s3
expect_rc 0
expect_out_contains "drill ok: planned failover"
expect_out_contains "ok    prune removed old segments from the claim archive"
expect_out_contains "ok    replica2 keeps applying after the prune"
echo "--- drill 1 on S3, its report:"; echo "$OUT"
test_case "drill 2 on S3: unplanned failover with divergence, the claim archive in a bucket (RECOV-8, SNAP-16)"
run bash "$D/unplanned-failover.sh" "$BIN" s3
expect_rc 0
expect_out_contains "ok    diverged at commit 201 exactly"
expect_out_contains "drill ok: unplanned failover with divergence"
echo "--- drill 2 on S3, its report:"; echo "$OUT"
finish
