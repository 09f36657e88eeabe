#!/usr/bin/env bash
# DR drill 2, unplanned failover with divergence: the old primary committed
# write sets that never shipped; a replica is promoted and writes;
# check-history reports the divergence at the exact CommitId; the old
# primary's unshipped write sets are reported by CommitId and kept in an
# archive before they are discarded; it is rebuilt from a snapshot of the
# new primary and catches up.
# With s3 the claim archive is a bucket prefix on an object store, and the
# snapshot of the new primary is exported into it and installed from it.
#   unplanned-failover.sh BIN_DIR [cp|rsync|s3]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
P=$WORK/primary R1=$WORK/replica1 R2=$WORK/replica2 A=$(claim_archive claim-archive)
SNAP=$WORK/new-primary.tar.zst
[ "$TRANSPORT" = s3 ] && SNAP=$A/new-primary.tar.zst

step "a primary with two replicas"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 200 --seed 1 >/dev/null
expect 0 "$AERODB_REPL" ship-wal -D "$P" --to "$A" --claim-archive --max-segment-bytes 65536
expect 0 deliver "$P" r1; expect 0 deliver "$P" r2
expect 0 apply "$R1" r1
expect 0 apply "$R2" r2

step "the primary commits 201..210 and is lost before it ships them"
"$AERODB" load -D "$P" --write-sets 10 --seed 2 >/dev/null

step "unplanned failover: replica1 is promoted and writes"
expect 0 "$AERODB_REPL" promote -D "$R1" --archive "$A"
"$AERODB" load -D "$R1" --write-sets 15 --seed 3 >/dev/null
expect 0 "$AERODB_REPL" ship-wal -D "$R1" --to "$A"

step "the old primary comes back: check-history finds the divergence"
out=$("$AERODB_REPL" check-history -D "$P" --archive "$A" --json) || true
echo "$out" | jq -c '{relation, last_common, first_differing, a_epoch, b_epoch}'
check "diverged at commit 201 exactly" test "$(jq -r '"\(.relation) \(.last_common) \(.first_differing)"' <<<"$out")" = "diverged 200 201"
expect 5 "$AERODB_REPL" ship-wal -D "$P" --to "$A"   # fenced before it publishes a byte
err=$("$AERODB_REPL" rejoin -D "$P" --archive "$A" 2>&1) && rc=0 || rc=$?
echo "$err"
check "rejoin refused as diverged (4)" test "$rc" = 4
check "its unshipped write sets reported by CommitId" grep -qF "commits 201..210 were written after epoch 2 began after commit 200" <<<"$err"
# The superseded write sets are kept aside with the old directory before
# the rebuild discards them (status reads a fenced node: its exit is 5).
cp -a "$P" "$WORK/primary.superseded"
check "the old directory kept aside still holds commits 201..210" \
  test "$("$AERODB_REPL" status -D "$WORK/primary.superseded" --json 2>/dev/null | jq -r .applied_commit)" = 210

step "rebuild: a snapshot of the new primary replaces the old primary"
expect 0 "$AERODB_REPL" snapshot export -D "$R1" -o "$SNAP"
expect 0 "$AERODB_REPL" snapshot install -D "$P" --discard-existing "$SNAP"
"$AERODB" load -D "$R1" --write-sets 5 --seed 4 >/dev/null
expect 0 "$AERODB_REPL" ship-wal -D "$R1" --to "$A"
expect 0 deliver "$R1" p; expect 0 deliver "$R1" r2
expect 0 apply "$P" p
expect 0 apply "$R2" r2
check "rebuilt old primary identical to the new primary" same "$P" "$R1"
check "replica2 identical to the new primary" same "$R2" "$R1"
finish_drill "unplanned failover with divergence" "$R1" "$R2" "$P"
