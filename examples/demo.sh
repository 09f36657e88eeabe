#!/usr/bin/env bash
# The README's main job: an embedded demo database, end to end.
#   examples/demo.sh BIN_DIR      (BIN_DIR holds aerodb and aerodb-repl)
# Creates a primary with the reference node, loads a few thousand documents,
# reads some back, checkpoints, verifies the WAL and the data directory.
# Exits non-zero at the first step that does not do what it should.
set -euo pipefail
BIN=$(cd "${1:?usage: demo.sh BIN_DIR}" && pwd)
AERODB=$BIN/aerodb
REPL=$BIN/aerodb-repl
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-demo.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
P=$WORK/primary
step() { printf '\n== %s\n' "$*"; }
die() { echo "demo failed 'demo.sh': $*" >&2; exit 1; }

step "create a primary"
"$AERODB" init -D "$P"

step "load 3000 write sets (about 12000 documents operations)"
"$AERODB" load -D "$P" --write-sets 3000 --records-per-set 4 --body-bytes 200 --seed 7

step "write and read back by hand"
"$AERODB" put -D "$P" users/zoe '{"name":"Zoë","city":"Oslo"}'
"$AERODB" put -D "$P" users/zoe '{"name":"Zoë","city":"Bergen"}'
got=$("$AERODB" get -D "$P" users/zoe 2>/dev/null)
[ "$got" = '{"city":"Bergen","name":"Zoë"}' ] || die "get returned $got"
old=$("$AERODB" get -D "$P" users/zoe --at 3001 2>/dev/null)
[ "$old" = '{"city":"Oslo","name":"Zoë"}' ] || die "get --at 3001 returned $old"
echo "users/zoe now: $got; at commit 3001: $old"

step "checkpoint, then more writes"
"$AERODB" checkpoint -D "$P"
"$AERODB" load -D "$P" --write-sets 500 --seed 8
"$AERODB" delete -D "$P" users/zoe
n=$("$AERODB" scan -D "$P" --json | jq -r '"\(.count) documents at commit \(.commit)"')
echo "scan: $n"

step "verify the data directory and its WAL"
"$REPL" verify "$P"
"$REPL" verify "$P/wal/wal.log" --json >/dev/null

step "done"
echo "demo ok: primary at commit $("$AERODB" scan -D "$P" --json | jq .commit)"
