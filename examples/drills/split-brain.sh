#!/usr/bin/env bash
# DR drill 3, split-brain attempt: two replicas are promoted at once
# against one claim archive, ROUNDS times (default 200). Each time exactly
# one wins; the loser stays a replica, can neither write nor ship, and no
# segment of it is ever applied anywhere.
# With s3 the claim archive is a bucket (OBJ-5, OBJ-13): the round's
# archive is a fresh prefix the primary ships into, and the two promote
# calls race their conditional PUTs of one history file on the store.
#   split-brain.sh BIN_DIR [cp|rsync|s3] [ROUNDS]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROUNDS=${3:-200}
P=$WORK/primary R=$WORK/replica A0=$(claim_archive archive0)
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 50 --seed 1 >/dev/null
"$AERODB_REPL" ship-wal -D "$P" --to "$A0" --claim-archive >/dev/null
"$AERODB_REPL" apply-wal -D "$R" --from "$A0" >/dev/null 2>&1
wins_a=0 wins_b=0 bad=0
for i in $(seq "$ROUNDS"); do
  rm -rf "$WORK/a" "$WORK/b" "$WORK/arch"
  cp -a "$R" "$WORK/a"; cp -a "$R" "$WORK/b"
  if [ "$TRANSPORT" = s3 ]; then
    arch=$A0-round$i
    "$AERODB_REPL" ship-wal -D "$P" --to "$arch" --claim-archive >/dev/null 2>&1 || { echo "round $i: ship-wal to $arch failed" >&2; bad=$((bad + 1)); continue; }
  else
    arch=$WORK/arch
    cp -a "$A0" "$arch"
  fi
  ra=0 rb=0
  "$AERODB_REPL" promote -D "$WORK/a" --archive "$arch" >/dev/null 2>&1 & pa=$!
  "$AERODB_REPL" promote -D "$WORK/b" --archive "$arch" >/dev/null 2>&1 & pb=$!
  wait "$pa" || ra=$?
  wait "$pb" || rb=$?
  if [ "$ra" = 0 ] && [ "$rb" = 5 ]; then win=a lose=b; wins_a=$((wins_a + 1))
  elif [ "$ra" = 5 ] && [ "$rb" = 0 ]; then win=b lose=a; wins_b=$((wins_b + 1))
  else echo "round $i: promote exits $ra and $rb, expected one 0 and one 5" >&2; bad=$((bad + 1)); continue; fi
  # The loser: a replica; its writes and its ship-wal are refused.
  "$AERODB" put -D "$WORK/$lose" drill/x '{}' >/dev/null 2>&1 && { echo "round $i: the loser accepted a write" >&2; bad=$((bad + 1)); }
  "$AERODB_REPL" ship-wal -D "$WORK/$lose" --to "$arch" >/dev/null 2>&1 && { echo "round $i: the loser shipped" >&2; bad=$((bad + 1)); }
  if [ $((i % 50)) = 0 ] || [ "$i" = 1 ]; then
    # Every segment of epoch 2 in the archive is the winner's: a fresh
    # replica that applies the archive is identical to the winner.
    "$AERODB" put -D "$WORK/$win" drill/y '{"round":'"$i"'}' >/dev/null 2>&1
    "$AERODB_REPL" ship-wal -D "$WORK/$win" --to "$arch" >/dev/null
    rm -rf "$WORK/c"
    "$AERODB_REPL" apply-wal -D "$WORK/c" --from "$arch" >/dev/null 2>&1 || { echo "round $i: apply-wal failed" >&2; bad=$((bad + 1)); }
    same "$WORK/c" "$WORK/$win" || { echo "round $i: the archive's history is not the winner's" >&2; bad=$((bad + 1)); }
  fi
done
check "exactly one winner in each of $ROUNDS rounds (a won $wins_a, b won $wins_b)" test "$bad" = 0
finish_drill "split-brain attempt, $ROUNDS rounds" "$R"
