# The counting part of the black-box harness (git t/ style), for scripts
# that need no binary (spec_citations.sh) and, through lib.sh, for the rest:
# a temp directory T removed on exit, test_case, pass, fail and finish.
set -uo pipefail
T=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
PASSED=0
FAILED=0
CURRENT=""

test_case() { CURRENT="$1"; }
fail() {
  FAILED=$((FAILED + 1))
  printf 'FAIL [%s] %s\n' "$CURRENT" "$*" >&2
}
pass() { PASSED=$((PASSED + 1)); }
finish() {
  echo "$PASSED passed, $FAILED failed"
  ((FAILED == 0))
}
