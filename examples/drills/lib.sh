# Helpers shared by the disaster-recovery drills (sourced).
#   BIN_DIR holds aerodb and aerodb-repl; TRANSPORT is cp or rsync.
set -euo pipefail
BIN=$(cd "${1:?usage: DRILL BIN_DIR [cp|rsync]}" && pwd)
TRANSPORT=${2:-cp}
export AERODB=$BIN/aerodb AERODB_REPL=$BIN/aerodb-repl
case "$TRANSPORT" in
  cp) ;;
  rsync) command -v rsync >/dev/null || { echo "missing tool 'rsync': the drill needs it" >&2; echo "hint: apt-get install -y rsync" >&2; exit 10; } ;;
  *) echo "usage error 'TRANSPORT': cp or rsync, got '$TRANSPORT'" >&2; exit 2 ;;
esac
command -v jq >/dev/null || { echo "missing tool 'jq': the drill needs it" >&2; echo "hint: apt-get install -y jq" >&2; exit 10; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-drill.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0
REPORT=()

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
# Separate directory trees: the replicas read their own inbox, filled from
# the claim archive by the transport (a shared mount for cp, rsync otherwise).
transport() {  # transport FROM TO
  mkdir -p "$2"
  if [ "$TRANSPORT" = rsync ]; then
    rsync -a --exclude='.*' "$1/" "$2/"
  else
    for f in "$1"/*; do [ -f "$f" ] && [ ! -e "$2/$(basename "$f")" ] && cp "$f" "$2/"; done
    return 0
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
