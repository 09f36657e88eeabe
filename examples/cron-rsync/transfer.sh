#!/usr/bin/env bash
# Primary side, every minute from cron: move finished segment files from
# OUTBOX to the replica's INBOX with rsync, removing each source file once it
# has arrived.
#   transfer.sh OUTBOX INBOX        (INBOX: host:/path or a local directory)
#
#   -a                      keep times and modes (rsync's quick check then
#                           recognises a file already delivered)
#   --remove-source-files   drop each file from OUTBOX after it arrived; safe:
#                           ship-wal keeps its shipped position in
#                           PRIMARY/replication/shipped/, not in OUTBOX
#   --partial-dir=.rsync-partial
#                           an interrupted file waits in INBOX/.rsync-partial/
#                           and resumes; never under a segment name
#   --exclude='.*'          never send a name starting with '.': ship-wal
#                           writes '.NAME.RUN.tmp' in OUTBOX before renaming it,
#                           and rsync would otherwise copy that half-written
#                           file and delete it from under ship-wal
# rsync writes each arriving file as INBOX/.NAME.XXXXXX and renames it when
# complete; apply-wal ignores every name starting with '.' (SEG-2), so it
# only ever sees whole files under segment names.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage error 'transfer.sh': expected OUTBOX INBOX, got $# argument(s)" >&2
  echo "hint: transfer.sh /srv/aerodb/outbox replica.example.com:/srv/aerodb/inbox" >&2
  exit 2
fi
OUTBOX=${1%/}
INBOX=${2%/}

if [ ! -d "$OUTBOX" ]; then
  echo "outbox not found '$OUTBOX': no such directory" >&2
  echo "hint: create it and point ship.sh at the same directory" >&2
  exit 9
fi

# One transfer at a time: an overlapping run would race this one for the
# same files. The lock is a file beside OUTBOX, in its parent directory
# (the same for cron and an operator's shell, and not world-writable), so
# that no lock file is sent. Not OUTBOX itself: ship-wal holds flock(2) on
# its target directory while it runs (LOG-31), and a transfer must never
# keep ship-wal from copying the WAL before a checkpoint removes it.
real=$(realpath "$OUTBOX")
lock="$(dirname "$real")/.$(basename "$real").transfer.lock"
exec 9>>"$lock"
if ! flock -n 9; then
  echo "skipped '$OUTBOX': another transfer.sh run holds it; cron transfers next minute"
  exit 0
fi

err_file=$(mktemp "${TMPDIR:-/tmp}/aerodb-transfer.XXXXXX")
trap 'rm -f "$err_file"' EXIT
rc=0
sent=$(rsync -a --remove-source-files --partial-dir=.rsync-partial --exclude='.*' \
  --out-format='%n' "$OUTBOX/" "$INBOX/" 2>"$err_file" 9>&-) || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "transfer failed '$OUTBOX': rsync exit $rc to '$INBOX/': $(tail -n 1 "$err_file")" >&2
  echo "hint: files not delivered stay in '$OUTBOX' and go with the next run; check the link and the replica's disk if this repeats" >&2
  exit "$rc"
fi
n=$(grep -c -v -e '/$' -e '^$' <<<"$sent" || true)
echo "transferred '$OUTBOX': $n file(s) to '$INBOX/'"
