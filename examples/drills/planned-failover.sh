#!/usr/bin/env bash
# DR drill 1, planned failover: the primary writes and ships; a replica
# catches up and is promoted; the old primary is fenced (its writes and its
# ship-wal refused); it rejoins as a replica and catches up from the new
# primary. At the end every node is identical. Then the claim archive is
# pruned below a snapshot of the new primary, and replica2 keeps applying.
# With s3 the claim archive is a bucket prefix on an object store: every
# node ships to it, applies from it, registers there; the snapshot goes there.
#   planned-failover.sh BIN_DIR [cp|rsync|s3]
# Prints a report; exits 1 when any expectation fails.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
P=$WORK/primary R1=$WORK/replica1 R2=$WORK/replica2 A=$(claim_archive claim-archive)

step "a primary with two replicas, shipping into the claim archive"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 200 --seed 1 >/dev/null
expect 0 "$AERODB_REPL" ship-wal -D "$P" --to "$A" --claim-archive --max-segment-bytes 65536
expect 0 deliver "$P" r1; expect 0 deliver "$P" r2
expect 0 apply "$R1" r1
expect 0 apply "$R2" r2
"$AERODB" load -D "$P" --write-sets 20 --seed 2 >/dev/null
expect 0 "$AERODB_REPL" ship-wal -D "$P" --to "$A"
expect 0 deliver "$P" r1; expect 0 deliver "$P" r2
expect 0 apply "$R1" r1
expect 0 apply "$R2" r2
check "replicas caught up before the failover" same "$P" "$R1"

step "planned failover: writes stop, replica1 is promoted"
expect 0 "$AERODB_REPL" promote -D "$R1" --archive "$A"
check "replica1 is the primary of epoch 2" test "$(state "$R1" | cut -d' ' -f1-3)" = "primary epoch 2"

step "the old primary is fenced: its ship-wal and its writes are refused"
expect 5 "$AERODB_REPL" ship-wal -D "$P" --to "$A"
expect 5 "$AERODB" put -D "$P" drill/late '{"from":"old primary"}'
check "old primary fenced" test "$("$AERODB_REPL" status -D "$P" --json | jq -r .code)" = refused

step "the new primary writes and ships; replica2 follows the epoch switch"
"$AERODB" load -D "$R1" --write-sets 30 --seed 3 >/dev/null
expect 0 "$AERODB_REPL" ship-wal -D "$R1" --to "$A"
expect 0 deliver "$R1" r2
expect 0 apply "$R2" r2
check "replica2 follows epoch 2" same "$R2" "$R1"

step "the old primary rejoins as a replica and catches up"
expect 3 "$AERODB_REPL" check-history -D "$P" --archive "$A"
expect 0 "$AERODB_REPL" rejoin -D "$P" --archive "$A"
expect 0 deliver "$R1" p
expect 0 apply "$P" p
check "old primary identical to the new primary" same "$P" "$R1"
check "replica2 identical to the new primary" same "$R2" "$R1"
step "retention: a snapshot of the new primary in the claim archive; prune keeps it and what the replicas need"
REGISTER=1
expect 0 apply "$R2" r2
expect 0 apply "$P" p
expect 0 "$AERODB_REPL" snapshot export -D "$R1" -o "$A/snapshot-epoch2.tar.zst"
before=$(segments "$A")
expect 0 "$AERODB_REPL" prune --archive "$A" --keep-snapshots 1
after=$(segments "$A")
echo "prune removed $((before - after)) of $before segments from the claim archive"
check "prune removed old segments from the claim archive" test "$after" -lt "$before"
check "verify accepts the pruned claim archive" "$AERODB_REPL" verify "$A"
"$AERODB" load -D "$R1" --write-sets 20 --seed 4 >/dev/null
expect 0 "$AERODB_REPL" ship-wal -D "$R1" --to "$A"
check "the history file stays in the claim archive" has_history "$A" 00000002.history
expect 0 deliver "$R1" r2
expect 0 apply "$R2" r2
check "replica2 keeps applying after the prune" same "$R2" "$R1"
finish_drill "planned failover" "$R1" "$R2" "$P"
