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
set -euo pipefail
REPL=${AERODB_REPL:-aerodb-repl}
if [ $# -ne 2 ]; then
  echo "usage error 'prune.sh': expected INBOX N, got $# argument(s)" >&2
  echo "hint: prune.sh /srv/aerodb/inbox 2" >&2
  exit 2
fi
INBOX=${1%/}
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
