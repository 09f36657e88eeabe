# examples/cron-rsync: the cron + rsync pipeline's drill runs green from this build.
source "$(dirname "$0")/lib.sh"
test_case "examples/cron-rsync/run-demo.sh"
if ! command -v rsync >/dev/null; then
  echo "skipped 'examples_cron': rsync is not installed (setup.sh installs it)"
  exit 77
fi
run bash "$SRC/examples/cron-rsync/run-demo.sh" "$(dirname "$AERODB")"
expect_rc 0
expect_out_contains "cron-rsync demo ok: replica at commit "
expect_out_contains "prune.sh removed "
expect_out_contains "round 7: primary and replica at commit "

test_case "apply.sh pages (3) when the inbox does not start at the replica's next CommitId, waits (0) for a hole between segments, then pages after GAP_PAGE_SECONDS"
P=$T/p OB=$T/outbox IB=$T/inbox R=$T/r
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 60 >/dev/null
mkdir -p "$OB" "$IB"
"$AERODB_REPL" ship-wal -D "$P" --to "$OB" --max-segment-bytes 4000 >/dev/null
segs=($(ls "$OB"))
[ "${#segs[@]}" -ge 4 ] && pass || fail "expected 4 segments or more, got ${#segs[@]}"
# A hole between segments: the first arrives, the third, not the second.
cp "$OB/${segs[0]}" "$OB/${segs[2]}" "$IB/"
run env AERODB_REPL="$AERODB_REPL" bash "$SRC/examples/cron-rsync/apply.sh" "$R" "$IB"
expect_rc 0
expect_out_contains "waiting '$IB': gap (exit 3)"
# The inbox lost its oldest segments for a replica not built yet: commit 1 never comes.
rm -rf "$R" "$IB"/*
cp "$OB/${segs[2]}" "$OB/${segs[3]}" "$IB/"
run env AERODB_REPL="$AERODB_REPL" bash "$SRC/examples/cron-rsync/apply.sh" "$R" "$IB"
expect_rc 3
expect_err_contains "and the replica needs commit 1: those commits will not arrive in '$IB'"
# A built replica whose inbox starts beyond its next commit.
rm -rf "$IB"/*
cp "$OB/${segs[0]}" "$IB/"
run env AERODB_REPL="$AERODB_REPL" bash "$SRC/examples/cron-rsync/apply.sh" "$R" "$IB"
expect_rc 0
rm -f "$IB"/*
cp "$OB/${segs[2]}" "$OB/${segs[3]}" "$IB/"
run env AERODB_REPL="$AERODB_REPL" bash "$SRC/examples/cron-rsync/apply.sh" "$R" "$IB"
expect_rc 3
expect_err_contains "those commits will not arrive in '$IB'"
# The same, with the segment the replica already applied still in INBOX
# (apply-wal leaves applied segments; only prune.sh removes them): a late
# segment or commits only a snapshot holds. It waits, then pages once the
# gap is GAP_PAGE_SECONDS old (remembered beside the replica).
cp "$OB/${segs[0]}" "$IB/"
run env AERODB_REPL="$AERODB_REPL" bash "$SRC/examples/cron-rsync/apply.sh" "$R" "$IB"
expect_rc 0
expect_out_contains "waiting '$IB': gap (exit 3)"
[ -f "$T/.r.apply-gap" ] && pass || fail "the gap's first sight was not remembered"
run env AERODB_REPL="$AERODB_REPL" GAP_PAGE_SECONDS=0 bash "$SRC/examples/cron-rsync/apply.sh" "$R" "$IB"
expect_rc 3
expect_err_contains "has been missing from '$IB' for 0 minute(s) while later segments are there"
# The late segment arrives: applied, and the gap forgotten.
cp "$OB/${segs[1]}" "$IB/"
run env AERODB_REPL="$AERODB_REPL" GAP_PAGE_SECONDS=0 bash "$SRC/examples/cron-rsync/apply.sh" "$R" "$IB"
expect_rc 0
[ ! -e "$T/.r.apply-gap" ] && pass || fail "the gap file outlived the gap"

test_case "snapshot.sh tries again while the primary is busy (7), and pages once it stays busy"
mkdir -p "$T/snapout"
flock "$P/replication/lock" sleep 1 &
holder=$!
sleep 0.2
run env AERODB_REPL="$AERODB_REPL" SNAPSHOT_RETRY_SECONDS=0.2 bash "$SRC/examples/cron-rsync/snapshot.sh" "$P" "$T/snapout"
wait "$holder"
expect_rc 0
expect_out_contains "exported snapshot of '$P'"
[ "$(ls "$T/snapout" | wc -l)" = 1 ] && pass || fail "$(ls "$T/snapout")"
flock "$P/replication/lock" sleep 3 &
holder=$!
sleep 0.2
mkdir -p "$T/snapout2"
run env AERODB_REPL="$AERODB_REPL" SNAPSHOT_TRIES=3 SNAPSHOT_RETRY_SECONDS=0.1 bash "$SRC/examples/cron-rsync/snapshot.sh" "$P" "$T/snapout2"
expect_rc 7
expect_err_contains "snapshot export failed '$P': exit 7"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

test_case "prune.sh removes the temp file an rsync killed mid-file left, once it is stale, and nothing else hidden"
mkdir -p "$T/pin"
cp "$OB/${segs[0]}" "$T/pin/"
touch -d '2 hours ago' "$T/pin/.${segs[1]}.Ab3xYz"
touch "$T/pin/.${segs[2]}.Qw9eRt"              # still being written
touch -d '2 hours ago' "$T/pin/.other-tool-file"  # not rsync's shape
run env AERODB_REPL="$AERODB_REPL" bash "$SRC/examples/cron-rsync/prune.sh" "$T/pin" 1
expect_rc 0
expect_out_contains "removed 1 stale rsync temp file(s) from '$T/pin'"
[ ! -e "$T/pin/.${segs[1]}.Ab3xYz" ] && [ -e "$T/pin/.${segs[2]}.Qw9eRt" ] && [ -e "$T/pin/.other-tool-file" ] &&
  [ -e "$T/pin/${segs[0]}" ] && pass || fail "$(ls -a "$T/pin")"

finish
