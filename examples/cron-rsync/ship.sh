#!/usr/bin/env bash
# Primary side, every minute from cron: publish the committed WAL since the
# last shipped CommitId into OUTBOX as segment files.
#   ship.sh PRIMARY_DIR OUTBOX
# Binary: $AERODB_REPL, else aerodb-repl on PATH.
#
# One line on stdout for the routine outcomes (ship through a logger or into a
# log file); a problem line and a hint line on stderr for everything an
# operator must act on (cron mails stderr to MAILTO).
#   0  shipped, or nothing new           -> exit 0
#   7  another ship to OUTBOX is running -> skip this minute, exit 0
#   8  target input not complete yet     -> retry next minute (stdout), exit 8
#   anything else (1 3 4 5 6 9 10 ...)   -> stderr, exit with the tool's code
# No flock(1) here: ship-wal takes its own non-blocking lock per target,
# PRIMARY_DIR/replication/shipped/<key>.lock (LOG-25), and never the
# primary's own lock, so writers are never refused because a ship runs.
set -euo pipefail
REPL=${AERODB_REPL:-aerodb-repl}

if [ $# -ne 2 ]; then
  echo "usage error 'ship.sh': expected PRIMARY_DIR OUTBOX, got $# argument(s)" >&2
  echo "hint: ship.sh /srv/aerodb/primary /srv/aerodb/outbox" >&2
  exit 2
fi
PRIMARY=$1
OUTBOX=$2

code_name() {
  case $1 in
    0) echo ok ;; 1) echo damage ;; 2) echo "usage error" ;; 3) echo gap ;;
    4) echo diverged ;; 5) echo refused ;; 6) echo halted ;; 7) echo locked ;;
    8) echo "in transit" ;; 9) echo "not found" ;; 10) echo "I/O error" ;;
    70) echo "internal error" ;; 127) echo "command not found" ;; *) echo "exit $1" ;;
  esac
}
# The tool's own problem line (the line before "hint:", else the last line)
# and its hint line, from its stderr.
tool_message() { awk '/^hint: /{print prev; found=1; exit} {prev=$0} END{if(!found) print prev}' <<<"$1"; }
tool_hint() { sed -n 's/^hint: //p' <<<"$1" | head -n 1; }

err_file=$(mktemp "${TMPDIR:-/tmp}/aerodb-ship.XXXXXX")
trap 'rm -f "$err_file"' EXIT
rc=0
out=$("$REPL" ship-wal -D "$PRIMARY" --to "$OUTBOX" 2>"$err_file") || rc=$?
err=$(cat "$err_file")
msg=$(tool_message "$err")
hint=$(tool_hint "$err")

case $rc in
  0)
    # The tool's last line: "shipped 'OUTBOX': through commit N" or
    # "nothing to ship 'OUTBOX': shipped through commit N".
    segments=$(grep -c '^\(published\|identical\) ' <<<"$out" || true)
    last=$(tail -n 1 <<<"$out")
    if [ "$segments" -gt 0 ]; then
      echo "$last ($segments segment(s))"
    else
      echo "$last"
    fi
    ;;
  7)
    echo "skipped '$PRIMARY': another ship-wal to '$OUTBOX' is running, or a lock is held on it (exit 7); cron ships next minute"
    ;;
  8)
    echo "waiting '$OUTBOX': ship-wal found input still in transit (exit 8); cron retries next minute: $msg"
    exit 8
    ;;
  *)
    what=$(code_name "$rc")
    case $rc in
      3) next="a shipped position below the primary's base does not heal by itself" ;;
      1 | 4 | 5 | 6) next="page an operator" ;;
      *) next="shipping is stopped until this is fixed" ;;
    esac
    # Segments published before the failure stay published; say so.
    grep '^published ' <<<"$err" >&2 || true
    echo "ship-wal failed '$PRIMARY': exit $rc ($what), $next: ${msg:-no message from $REPL}" >&2
    echo "hint: ${hint:-run '$REPL ship-wal -D $PRIMARY --to $OUTBOX' by hand and read its output}" >&2
    exit "$rc"
    ;;
esac
