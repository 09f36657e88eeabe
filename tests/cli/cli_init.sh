# Black-box tests of init: exact exit codes, stderr and --json fields
# (COMPAT-1, COMPAT-2, COMPAT-4, COMPAT-6). The AeroDB directory is a
# reference node's files without replication/ (the upstream tests use
# AeroDB's own bytes).
source "$(dirname "$0")/lib.sh"
P=$T/aero R=$T/r O=$T/outbox
mkdir -p "$O"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 30 >/dev/null
rm -rf "$P/replication"

test_case "init enrols, --json names the base and the applied commit"
run "$AERODB_REPL" init -D "$P" --json
expect_rc 0
expect_json .role primary
expect_json .epoch 1
expect_json .base_commit 0
expect_json .base_snapshot null
expect_json .applied_commit 30
expect_json '.system_id | length' 32
[ -f "$P/replication/enrolment.json" ] && pass || fail "no enrolment.json"

test_case "COMPAT-1 a second init is 5, already enrolled"
run "$AERODB_REPL" init -D "$P"
expect_rc 5
expect_err_contains "already enrolled '$P': replication/ exists (system id "
expect_err_contains "hint: ship from it with 'aerodb-repl ship-wal -D $P --to DIR'; to start a new history instead, add --re-enrol"

test_case "COMPAT-1 a directory without wal/wal.log is 9"
mkdir -p "$T/empty"
run "$AERODB_REPL" init -D "$T/empty"
expect_rc 9
expect_err "not an AeroDB data directory '$T/empty': no wal/wal.log
hint: give AeroDB's data directory, the one that holds wal/wal.log"

test_case "COMPAT-6 the reference node's writes are 5 on an enrolled directory"
run "$AERODB" put -D "$P" users/x '{"a":1}'
expect_rc 5
expect_err_contains "AeroDB writes this directory '$P'"

test_case "COMPAT-12 ship, apply: the replica equals the enrolled primary"
run "$AERODB_REPL" ship-wal -D "$P" --to "$O"
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$R" --from "$O" --json
expect_rc 0
expect_json .applied_commit 30
if [ "$("$AERODB" scan -D "$R")" = "$("$AERODB" scan -D "$P")" ]; then pass; else fail "scans differ"; fi

test_case "COMPAT-2 damage in the WAL is 1, nothing written"
"$AERODB" init -D "$T/bad" >/dev/null
"$AERODB" load -D "$T/bad" --write-sets 10 >/dev/null
rm -rf "$T/bad/replication"
flip_byte "$T/bad/wal/wal.log" 100
run "$AERODB_REPL" init -D "$T/bad"
expect_rc 1
expect_err_contains "'aerodb-repl verify $T/bad' lists every finding"
[ ! -e "$T/bad/replication" ] && pass || fail "replication/ written"

finish
