#!/usr/bin/env bash
# Replica side, daily from cron: trim INBOX, keeping the N newest snapshot
# archives and every segment a registered replica still needs
# (aerodb-repl-prune(1), specs/REPLICATION_RETENTION.md). Replicas register
# through apply.sh with $REPLICA_NAME set.
#   prune.sh INBOX N
# Binary: $AERODB_REPL, else aerodb-repl on PATH.
#   0    pruned, or nothing to prune            -> one line on stdout
#   7    another prune runs                     -> "skipped", exit 0
#   any other (1 4 5 8 9 10 ...)                -> stderr, exit with that code;
#        nothing was removed (10: what was removed stays; re-run)
# It also removes what an rsync killed mid-file left in INBOX: its temp file
# '.NAME.XXXXXX' (NAME a segment, signature, history file or archive name),
# not written for STALE_TEMP_MINUTES (default 60); a live transfer writes
# its temp file all the time, and apply-wal never reads a hidden name.
set -euo pipefail
REPL=${AERODB_REPL:-aerodb-repl}
if [ $# -ne 2 ]; then
  echo "usage error 'prune.sh': expected INBOX N, got $# argument(s)" >&2
  echo "hint: prune.sh /srv/aerodb/inbox 2" >&2
  exit 2
fi
INBOX=${1%/}
stale=$(find "$INBOX" -maxdepth 1 -type f \( -name '.*.seg.??????' -o -name '.*.sig.??????' \
  -o -name '.*.history.??????' -o -name '.*.tar.??????' -o -name '.*.tar.zst.??????' \) \
  -mmin +"${STALE_TEMP_MINUTES:-60}" -print -delete 2>/dev/null | wc -l || true)
[ "$stale" -gt 0 ] && echo "removed $stale stale rsync temp file(s) from '$INBOX'"
err_file=$(mktemp "${TMPDIR:-/tmp}/aerodb-prune.XXXXXX")
trap 'rm -f "$err_file"' EXIT
rc=0
out=$("$REPL" prune --archive "$INBOX" --keep-snapshots "$2" 2>"$err_file") || rc=$?
err=$(cat "$err_file")
case $rc in
  0) tail -n 1 <<<"$out" ;;
  7) echo "skipped '$INBOX': another prune runs (exit 7)" ;;
  *)
    echo "prune failed '$INBOX': exit $rc: $(grep -v '^hint: ' <<<"$err" | head -n 1)" >&2
    echo "hint: $(sed -n 's/^hint: //p' <<<"$err" | head -n 1)" >&2
    exit "$rc"
    ;;
esac
