# examples/drills: the three disaster-recovery drills run green from this
# build, with a shared mount (cp) and, for the failovers, with rsync between
# separate directory trees through examples/cron-rsync/ (drill 4).
source "$(dirname "$0")/lib.sh"
BIN=$(dirname "$AERODB")
D=$SRC/examples/drills

test_case "drill 1: planned failover (MODEL-8, RECOV-5, RECOV-10, LOG-20)"
run bash "$D/planned-failover.sh" "$BIN" cp
expect_rc 0
expect_out_contains "drill ok: planned failover"
expect_out_contains "ok    prune removed old segments from the claim archive"
expect_out_contains "ok    replica2 keeps applying after the prune"

test_case "drill 2: unplanned failover with divergence (RECOV-8, RECOV-10, SNAP-16)"
run bash "$D/unplanned-failover.sh" "$BIN" cp
expect_rc 0
expect_out_contains "ok    diverged at commit 201 exactly"
expect_out_contains "drill ok: unplanned failover with divergence"

test_case "drill 3: split-brain attempt, 200 rounds (MODEL-6)"
run bash "$D/split-brain.sh" "$BIN" cp 200
expect_rc 0
expect_out_contains "drill ok: split-brain attempt, 200 rounds"

if ! command -v rsync >/dev/null; then
  echo "skipped 'drill 4': rsync is not installed (setup.sh installs it)"
else
  test_case "drill 4: the failovers through the cron-rsync pipeline between separate directory trees"
  run bash "$D/planned-failover.sh" "$BIN" rsync
  expect_rc 0
  expect_out_contains "drill ok: planned failover"
  run bash "$D/unplanned-failover.sh" "$BIN" rsync
  expect_rc 0
  expect_out_contains "drill ok: unplanned failover with divergence"
fi

finish
