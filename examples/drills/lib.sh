# Helpers shared by the disaster-recovery drills (sourced).
#   BIN_DIR holds aerodb and aerodb-repl; TRANSPORT is cp, rsync or s3.
# s3: the claim archive is an object store (specs/REPLICATION_OBJECT_STORE.md):
# DRILL_S3=s3://BUCKET[/PREFIX] names an existing bucket, the endpoint and
# the credentials come from AERODB_S3_ENDPOINT, AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY (as tests/support/rgw.sh's env file sets them); each
# run claims under a fresh prefix below DRILL_S3. Nodes ship straight to it
# and apply straight from it: there is no inbox.
set -euo pipefail
BIN=$(cd "${1:?usage: DRILL BIN_DIR [cp|rsync|s3]}" && pwd)
TRANSPORT=${2:-cp}
export AERODB=$BIN/aerodb AERODB_REPL=$BIN/aerodb-repl
case "$TRANSPORT" in
  cp) ;;
  rsync) for tool in rsync flock; do command -v "$tool" >/dev/null || { echo "missing tool '$tool': the drill needs it" >&2; echo "hint: apt-get install -y $tool" >&2; exit 10; }; done ;;
  s3) [ -n "${DRILL_S3:-}" ] && [ -n "${AWS_ACCESS_KEY_ID:-}" ] || {
        echo "usage error 'DRILL_S3': the s3 transport needs DRILL_S3=s3://BUCKET[/PREFIX] and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AERODB_S3_ENDPOINT" >&2
        echo "hint: bash tests/support/rgw.sh start DIR starts a Ceph RGW on loopback and writes DIR/env to source" >&2; exit 2; } ;;
  *) echo "usage error 'TRANSPORT': cp, rsync or s3, got '$TRANSPORT'" >&2; exit 2 ;;
esac
command -v jq >/dev/null || { echo "missing tool 'jq': the drill needs it" >&2; echo "hint: apt-get install -y jq" >&2; exit 10; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-drill.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0
REPORT=()
# claim_archive NAME: a new, empty claim archive's location: a directory in
# WORK, or with s3 a fresh prefix below DRILL_S3 (nothing to create there).
claim_archive() {
  if [ "$TRANSPORT" = s3 ]; then
    echo "${DRILL_S3%/}/$1-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  else
    mkdir -p "$WORK/$1" && echo "$WORK/$1"
  fi
}
# segments ARCHIVE: how many segments the archive holds (a directory or s3://).
segments() { "$AERODB_REPL" verify "$1" --json | jq '.segments | length'; }
# has_history ARCHIVE NAME: history file NAME is in the archive. s3: verify
# reads the archive's history files and names a missing one that a segment
# needs ("history file in transit"), so call it while segments of NAME's
# epoch are there.
has_history() {
  if [ "$TRANSPORT" != s3 ]; then test -f "$1/$2"; return; fi
  local out
  out=$("$AERODB_REPL" verify "$1" --json) || return 1
  ! jq -e --arg n "/$2" '.findings[] | select(.subject | endswith($n))' <<<"$out" >/dev/null
}

step() { printf '\n== %s\n' "$*"; }
# expect CODE CMD...: CMD exits CODE; its output is shown.
expect() {
  local want=$1 rc=0
  shift
  "$@" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "EXPECTATION FAILED: '$*' exited $rc, expected $want" >&2
    FAILED=1
  fi
}
check() {  # check DESCRIPTION CONDITION...
  local what=$1
  shift
  if "$@"; then REPORT+=("ok    $what"); else REPORT+=("FAIL  $what"); FAILED=1; fi
}
CRON=$(cd "$(dirname "${BASH_SOURCE[0]}")/../cron-rsync" && pwd)
# deliver PRIMARY NAME: the primary's write sets reach replica NAME's inbox.
# cp: the replicas share a mount with the claim archive, and copy from it.
# rsync: the cron pipeline of examples/cron-rsync/ between separate trees:
# ship.sh into an outbox for NAME, transfer.sh (rsync, draining the outbox)
# into NAME's inbox.
# s3: nothing to deliver, the replicas apply straight from the claim archive.
deliver() {
  local primary=$1 name=$2
  [ "$TRANSPORT" = s3 ] && return 0
  mkdir -p "$WORK/in-$name" "$WORK/out-$name"
  if [ "$TRANSPORT" = rsync ]; then
    bash "$CRON/ship.sh" "$primary" "$WORK/out-$name" || return $?
    bash "$CRON/transfer.sh" "$WORK/out-$name" "$WORK/in-$name"
  else
    for f in "$A"/*; do
      [ -f "$f" ] && [ ! -e "$WORK/in-$name/$(basename "$f")" ] && cp "$f" "$WORK/in-$name/"
    done
    return 0
  fi
}
# apply DIR NAME: apply-wal from NAME's inbox (rsync: through apply.sh).
# With REGISTER set, the replica registers as NAME (apply-wal --report-to):
# in the claim archive with cp and s3, in its inbox with rsync (apply.sh).
apply() {
  if [ "$TRANSPORT" = s3 ]; then
    "$AERODB_REPL" apply-wal -D "$1" --from "$A" ${REGISTER:+--report-to "$A" --replica-name "$2"}
  elif [ "$TRANSPORT" = rsync ]; then
    REPLICA_NAME=${REGISTER:+$2} bash "$CRON/apply.sh" "$1" "$WORK/in-$2"
  else
    "$AERODB_REPL" apply-wal -D "$1" --from "$WORK/in-$2" ${REGISTER:+--report-to "$A" --replica-name "$2"}
  fi
}
state() {  # state DIR: "role epoch applied digest"
  "$AERODB_REPL" status -D "$1" --json 2>/dev/null |
    jq -r '"\(.role) epoch \(.epoch) commit \(.applied_commit) \(.history_digest[0:16])"'
}
same() { [ "$("$AERODB_REPL" check-history -D "$1" -D "$2" --json | jq -r .relation)" = identical ]; }
finish_drill() {  # finish_drill NAME NODE...
  local name=$1
  shift
  printf '\n== report: %s (transport %s)\n' "$name" "$TRANSPORT"
  for n in "$@"; do printf '%-12s %s\n' "$(basename "$n")" "$(state "$n")"; done
  printf '%s\n' "${REPORT[@]}"
  if [ "$FAILED" = 0 ]; then echo "drill ok: $name"; else echo "drill FAILED: $name"; exit 1; fi
}
