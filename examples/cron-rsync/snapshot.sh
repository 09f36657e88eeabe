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
#   7    the primary is busy (another run)     -> "skipped", exit 0 (next run)
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
rc=0
err=$("$REPL" snapshot export -D "$PRIMARY" -o "$OUTBOX/snapshot-$(date -u +%Y%m%dT%H%M%SZ).tar.zst" 2>&1 >/dev/null) || rc=$?
case $rc in
  0) echo "exported snapshot of '$PRIMARY' into '$OUTBOX'" ;;
  7) echo "skipped '$PRIMARY': another run holds it (exit 7); the next run exports" ;;
  *)
    echo "snapshot export failed '$PRIMARY': exit $rc: $(head -n 1 <<<"$err")" >&2
    echo "hint: $(sed -n 's/^hint: //p' <<<"$err" | head -n 1)" >&2
    exit "$rc"
    ;;
esac
