#!/usr/bin/env bash
# Primary side, daily from cron: export a snapshot archive of the primary
# into OUTBOX, from where transfer.sh carries it to the replica's INBOX like
# a segment. A snapshot is what prune.sh keeps on the replica host: commits
# below the oldest kept snapshot's boundary are then removed from INBOX.
#   snapshot.sh PRIMARY_DIR OUTBOX
# Binary: $AERODB_REPL, else aerodb-repl on PATH.
# export writes '.NAME.tmp' and renames it when complete, so transfer.sh
# (rsync --exclude '.*') never sends a half-written archive. The name holds
# the time only so that names sort; prune reads the boundary from the
# archive's manifest, not from the name.
#   0    exported                              -> one line on stdout
#   7    the primary is busy (a put, a load, another export holds its lock)
#        -> tried again every SNAPSHOT_RETRY_SECONDS (default 2) seconds, up
#        to SNAPSHOT_TRIES (default 60) times: a daily job must not skip its
#        day for a busy minute; still busy -> stderr, exit 7 (page)
#   any other                                  -> stderr, exit with that code
set -euo pipefail
REPL=${AERODB_REPL:-aerodb-repl}
if [ $# -ne 2 ]; then
  echo "usage error 'snapshot.sh': expected PRIMARY_DIR OUTBOX, got $# argument(s)" >&2
  echo "hint: snapshot.sh /srv/aerodb/primary /srv/aerodb/outbox" >&2
  exit 2
fi
PRIMARY=$1
OUTBOX=${2%/}
TRIES=${SNAPSHOT_TRIES:-60}
WAIT=${SNAPSHOT_RETRY_SECONDS:-2}
for ((try = 1; ; try++)); do
  rc=0
  err=$("$REPL" snapshot export -D "$PRIMARY" -o "$OUTBOX/snapshot-$(date -u +%Y%m%dT%H%M%SZ).tar.zst" 2>&1 >/dev/null) || rc=$?
  if [ "$rc" = 7 ] && [ "$try" -lt "$TRIES" ]; then
    sleep "$WAIT"
    continue
  fi
  break
done
case $rc in
  0) echo "exported snapshot of '$PRIMARY' into '$OUTBOX'" ;;
  *)
    echo "snapshot export failed '$PRIMARY': exit $rc: $(head -n 1 <<<"$err")" >&2
    echo "hint: $(sed -n 's/^hint: //p' <<<"$err" | head -n 1)" >&2
    exit "$rc"
    ;;
esac
