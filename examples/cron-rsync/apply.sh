#!/usr/bin/env bash
# Replica side, every minute from cron: apply the segments in INBOX to the
# replica in CommitId order (bootstraps REPLICA_DIR when it is absent or empty
# and INBOX starts at commit 1).
#   apply.sh REPLICA_DIR INBOX
# Binary: $AERODB_REPL, else aerodb-repl on PATH.
# With $REPLICA_NAME set, the replica also registers its applied position in
# INBOX as replica-NAME.json (apply-wal --report-to), so that prune.sh on
# this host never removes a segment the replica still needs (RET-3).
#
# One line on stdout for the routine outcomes; a problem line and a hint line
# on stderr for everything an operator must act on (cron mails stderr).
#   0     applied, or up to date                      -> exit 0
#   8     a segment is still arriving (in transit)    -> "waiting", exit 0
#   3     a gap: the next segment has not arrived     -> "waiting", exit 0
#   3     a gap below every segment of INBOX (it does not start at the
#         replica's next CommitId; for a replica not yet built, commit 1):
#         those commits will never arrive here         -> stderr, exit 3
#   3     the same gap, with later segments here, for $GAP_PAGE_SECONDS
#         (default 3600) or more: a segment late by that much, or commits
#         that exist only in a snapshot (checkpointed before they were
#         shipped, then ship-wal --restart-at-base)    -> stderr, exit 3
#   9     no segment yet for a replica not yet built  -> "waiting", exit 0
#   7     another run holds REPLICA_DIR               -> "skipped", exit 0
#   1 4 5 6 damage, diverged, refused, halted         -> stderr, exit with that code
#   anything else (2 9 10 70 ...)                     -> stderr, exit with that code
# No flock(1) here: apply-wal takes its own non-blocking lock on
# REPLICA_DIR/replication/lock; a `flock` on that file would make apply-wal
# itself see it taken (exit 7).
set -euo pipefail
REPL=${AERODB_REPL:-aerodb-repl}
GAP_PAGE_SECONDS=${GAP_PAGE_SECONDS:-3600}

if [ $# -ne 2 ]; then
  echo "usage error 'apply.sh': expected REPLICA_DIR INBOX, got $# argument(s)" >&2
  echo "hint: apply.sh /srv/aerodb/replica /srv/aerodb/inbox" >&2
  exit 2
fi
REPLICA=$1
INBOX=$2

code_name() {
  case $1 in
    0) echo ok ;; 1) echo damage ;; 2) echo "usage error" ;; 3) echo gap ;;
    4) echo diverged ;; 5) echo refused ;; 6) echo halted ;; 7) echo locked ;;
    8) echo "in transit" ;; 9) echo "not found" ;; 10) echo "I/O error" ;;
    70) echo "internal error" ;; 127) echo "command not found" ;; *) echo "exit $1" ;;
  esac
}
tool_message() { awk '/^hint: /{print prev; found=1; exit} {prev=$0} END{if(!found) print prev}' <<<"$1"; }
tool_hint() { sed -n 's/^hint: //p' <<<"$1" | head -n 1; }
# A replica that does not exist yet (absent or empty directory).
not_built() { [ ! -e "$REPLICA" ] || { [ -d "$REPLICA" ] && [ -z "$(ls -A "$REPLICA")" ]; }; }

# Where the first run that met the current gap is remembered (one line:
# the commit needed, the time), beside the replica.
gap_file="$(dirname "$REPLICA")/.$(basename "$REPLICA").apply-gap"
err_file=$(mktemp "${TMPDIR:-/tmp}/aerodb-apply.XXXXXX")
trap 'rm -f "$err_file"' EXIT
rc=0
report=()
if [ -n "${REPLICA_NAME:-}" ]; then report=(--report-to "$INBOX" --replica-name "$REPLICA_NAME"); fi
out=$("$REPL" apply-wal -D "$REPLICA" --from "$INBOX" "${report[@]}" 2>"$err_file") || rc=$?
err=$(cat "$err_file")
msg=$(tool_message "$err")
hint=$(tool_hint "$err")
# "applied NAME: commits F..L" per segment appended in this run.
applied=$(grep -c '^applied .*: commits ' <<<"$out" || true)

if [ "$rc" = 9 ] && [ -d "$INBOX" ] && not_built; then
  rc=waiting-for-first  # the inbox exists; nothing has arrived yet
fi
# A gap that cannot close: the commits the replica needs next lie below
# every segment the inbox holds. Segment names sort in CommitId order and
# the transport delivers whole files, so nothing older is on its way: page
# instead of waiting for ever.
if [ "$rc" = 3 ]; then
  need=$(sed -n "s/^gap before commit \([0-9]*\) in .*/\1/p" <<<"$msg" | head -n 1)
  oldest=
  for f in "$INBOX"/*.seg; do
    n=$(basename "$f")
    [[ "$n" =~ ^[0-9a-f]{8}-([0-9a-f]{16})-[0-9a-f]{16}\.seg$ ]] || continue
    first=$((16#${BASH_REMATCH[1]}))
    if [ -z "$oldest" ] || [ "$first" -lt "$oldest" ]; then oldest=$first; fi
  done
  if [ -n "$need" ] && [ -n "$oldest" ] && [ "$oldest" -gt "$need" ]; then
    echo "apply-wal failed '$REPLICA': exit 3 (gap), the inbox starts at commit $oldest and the replica needs commit $need: those commits will not arrive in '$INBOX'" >&2
    echo "hint: ship them again from the primary if it still has them (aerodb-repl ship-wal), or rebuild the replica with 'aerodb-repl snapshot install'" >&2
    exit 3
  fi
  # Later segments are here but not this one: a transport may deliver out
  # of order, so wait, but not for ever. The first run that met this gap
  # is remembered beside the replica; GAP_PAGE_SECONDS later, page.
  if [ -n "$need" ]; then
    now=$(date +%s) since=
    if [ -f "$gap_file" ] && read -r was at <"$gap_file" && [ "$was" = "$need" ]; then since=$at; fi
    if [ -z "$since" ]; then
      since=$now
      # Replaced whole (temp, rename): a run that reads it never sees half.
      if ! { echo "$need $now" >"$gap_file.tmp" && mv -f "$gap_file.tmp" "$gap_file"; } 2>/dev/null; then
        echo "apply.sh: cannot remember the gap in '$gap_file': it will be paged only when the inbox starts past it" >&2
      fi
    fi
    if [ $((now - since)) -ge "$GAP_PAGE_SECONDS" ]; then
      echo "apply-wal failed '$REPLICA': exit 3 (gap), commit $need has been missing from '$INBOX' for $(((now - since) / 60)) minute(s) while later segments are there" >&2
      echo "hint: find the segment holding commit $need (the outbox, the transfer's log); if the primary checkpointed those commits before shipping them, rebuild the replica with 'aerodb-repl snapshot install'" >&2
      exit 3
    fi
  fi
elif [ "$rc" = 0 ] || [ "$rc" = waiting-for-first ]; then
  # Applied (or nothing to apply yet): no gap. A run that was refused (7:
  # another run holds the replica) or waits for a copy (8) says nothing
  # about the gap, so it keeps the time the gap was first seen.
  rm -f "$gap_file"
fi
case $rc in
  0)
    # "up to date 'DIR': applied through commit N" or
    # "bootstrapped replica 'DIR': applied through commit N".
    echo "$(tail -n 1 <<<"$out") ($applied segment(s) applied)"
    ;;
  3 | 8)
    # Whatever came before the stop was applied and stays applied.
    echo "waiting '$INBOX': $(code_name "$rc") (exit $rc), $applied segment(s) applied, cron retries next minute: $msg"
    ;;
  waiting-for-first)
    echo "waiting '$INBOX': no segment has arrived for new replica '$REPLICA' yet, cron retries next minute"
    ;;
  7)
    echo "skipped '$REPLICA': another aerodb or aerodb-repl run holds it (exit 7); cron applies next minute"
    ;;
  *)
    what=$(code_name "$rc")
    case $rc in
      1 | 4 | 5 | 6) next="page an operator, nothing more is applied until one acts" ;;
      *) next="applying is stopped until this is fixed" ;;
    esac
    echo "apply-wal failed '$REPLICA': exit $rc ($what), $next: ${msg:-no message from $REPL}" >&2
    echo "hint: ${hint:-run '$REPL apply-wal -D $REPLICA --from $INBOX' by hand and read its output}" >&2
    exit "$rc"
    ;;
esac
