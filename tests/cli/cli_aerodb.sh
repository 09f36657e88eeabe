# Black-box tests of the reference node: exact exit codes and stderr.
source "$(dirname "$0")/lib.sh"
D=$T/db

test_case "usage errors exit 2, never CLI11's own codes"
run "$AERODB"
expect_rc 2
run "$AERODB" put -D "$D"
expect_rc 2
expect_err_contains "usage error 'aerodb': "
expect_err_contains "hint: run 'aerodb --help'"
run "$AERODB" frobnicate
expect_rc 2
run "$AERODB" --help
expect_rc 0
expect_out_contains "Subcommands:"

test_case "init creates a primary; a second init is refused (5) and changes nothing"
run "$AERODB" init -D "$D" --json
expect_rc 0
expect_json .role primary
expect_json .epoch 1
expect_json '.system_id | length' 32
run "$AERODB" init -D "$D"
expect_rc 5
expect_err "refusing to initialise '$D': already a node (role primary, epoch 1)
hint: a node is never re-created in place; move it aside or use a new directory"
mkdir "$T/other" && touch "$T/other/file"
run "$AERODB" init -D "$T/other"
expect_rc 5
expect_err "refusing to initialise '$T/other': the directory is not empty
hint: give an absent or empty directory"

test_case "put/get/delete with CommitIds"
run "$AERODB" put -D "$D" users/u1 '{"name":"Zoë"}'
expect_rc 0
expect_out "insert users/u1: commit 1"
run "$AERODB" put -D "$D" users/u1 '{"name":"Zoe"}' --json
expect_json .operation update
expect_json .commit 2
run "$AERODB" get -D "$D" users/u1
expect_rc 0
expect_out '{"name":"Zoe"}'
expect_err "read at commit 2"
run "$AERODB" get -D "$D" users/u1 --at 1 --json
expect_json .body.name "Zoë"
expect_json .commit 1
run "$AERODB" delete -D "$D" users/u1
expect_out "delete users/u1: commit 3"
run "$AERODB" get -D "$D" users/u1
expect_rc 9
expect_err "no such document 'users/u1': absent at commit 3"
run "$AERODB" delete -D "$D" users/u1
expect_rc 9
expect_err "no such document 'users/u1'
hint: nothing was written"

test_case "put - reads the document from standard input: one larger than a command line holds"
python3 -c 'import json; print(json.dumps({"blob": "x" * 300000}))' >"$T/big.json"
D2=$T/db-stdin
"$AERODB" init -D "$D2" >/dev/null
run bash -c '"$0" put -D "$1" docs/big - --json <"$2"' "$AERODB" "$D2" "$T/big.json"
expect_rc 0
expect_json .operation insert
"$AERODB" get -D "$D2" docs/big 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["blob"] == "x" * 300000 else 1)' &&
  pass || fail "the document read back differs"
run bash -c 'printf "{not json" | "$0" put -D "$1" docs/bad -' "$AERODB" "$D2"
expect_rc 2
expect_err_contains "invalid JSON 'docs/bad'"
# Nested 200,000 deep (dumping it would overflow the stack): 2, not a crash.
python3 -c 'print("[" * 200000 + "]" * 200000)' >"$T/deep.json"
run bash -c '"$0" put -D "$1" docs/deep - <"$2"' "$AERODB" "$D2" "$T/deep.json"
expect_rc 2
expect_err_contains "document too deep 'docs/deep': nested more than 1000 levels"

test_case "bad input: invalid JSON and names are usage errors (2)"
run "$AERODB" put -D "$D" users/u2 '{not json'
expect_rc 2
expect_err_contains "invalid JSON 'users/u2': the document body does not parse"
run "$AERODB" put -D "$D" nocollection '{}'
expect_rc 2
expect_err_contains "invalid document name 'nocollection': expected COLLECTION/ID"

test_case "REC-2 load of a document whose record would pass 64 MiB is 2, and the log is unchanged"
cp "$D/wal/wal.log" "$T/wal.before"
run "$AERODB" load -D "$D" --write-sets 1 --records-per-set 1 --body-bytes 67108864
expect_rc 2
expect_err_contains "document too large '"
expect_err_contains "more than the 67108864 a record may hold (REC-2)"
cmp -s "$D/wal/wal.log" "$T/wal.before" && pass || fail "the log changed"
run "$AERODB_REPL" verify "$D"
expect_rc 0

test_case "scan --json lists every live document and the CommitId read at"
run "$AERODB" put -D "$D" orders/o1 '{"n":1}'
run "$AERODB" put -D "$D" users/u9 '{"n":9}'
run "$AERODB" scan -D "$D" --json
expect_rc 0
expect_json .count 2
expect_json .commit 5
expect_json '.documents[0].collection' orders
expect_json '.documents[1].id' u9
run "$AERODB" scan -D "$D" users
expect_out $'users/u9\t{"n":9}'
expect_err "1 documents at commit 5"

test_case "load is deterministic and checkpoint keeps the documents"
run "$AERODB" load -D "$D" --write-sets 300 --seed 3 --json
expect_rc 0
expect_json .first_commit 6
expect_json .last_commit 305
run "$AERODB" scan -D "$D" --json
before=$(jq -c .documents <<<"$OUT")
run "$AERODB" checkpoint -D "$D" --json
expect_rc 0
expect_json .snapshot_id 00000000000000000305
run "$AERODB" scan -D "$D" --json
if [ "$(jq -c .documents <<<"$OUT")" = "$before" ]; then pass; else fail "documents changed across checkpoint"; fi

test_case "not a node: exit 9 with a hint"
run "$AERODB" get -D "$T/nothing" users/u1
expect_rc 9
expect_err "not an aerodb node '$T/nothing': no replication/identity.json
hint: create a primary with 'aerodb init -D $T/nothing', or bootstrap a replica with 'aerodb-repl apply-wal -D $T/nothing --from INBOX'"

test_case "an AeroDB directory not enrolled: the hint names aerodb-repl init"
mkdir -p "$T/aero/wal"; : > "$T/aero/wal/wal.log"
run "$AERODB" scan -D "$T/aero"
expect_rc 9
expect_err_contains "hint: this is an AeroDB data directory: enrol it with 'aerodb-repl init -D $T/aero'"

test_case "mid-install (identity without state): exit 9"
mkdir -p "$T/half/replication" && cp "$D/replication/identity.json" "$T/half/replication/"
run "$AERODB" scan -D "$T/half"
expect_rc 9
expect_err "not an aerodb node '$T/half': no replication/state.json (unfinished install)
hint: remove the directory and run the install or bootstrap again"

test_case "a replica refuses writes (5) but serves reads at its applied CommitId"
jq '.role = "replica"' "$D/replication/state.json" > "$T/s" && cp "$T/s" "$D/replication/state.json"
run "$AERODB" put -D "$D" users/u3 '{}'
expect_rc 5
expect_err "refusing to write '$D': this node is a replica; only the primary creates CommitIds
hint: write to the primary"
run "$AERODB" get -D "$D" users/u9
expect_rc 0
expect_err "read at commit 305"

test_case "READ-5 a read below --min-commit is 3; READ-7 a read beyond applied is 3"
run "$AERODB" get -D "$D" users/u9 --min-commit 306
expect_rc 3
expect_err "not yet applied '$D': this node has applied through 305, the read needs 306
hint: read from a node that has applied it, or retry once this one has"
run "$AERODB" get -D "$D" users/u9 --min-commit 305
expect_rc 0
run "$AERODB" scan -D "$D" --at 400 --json
expect_rc 3
expect_json .code gap
expect_err_contains "commit not yet applied '$D': this node has applied through 305, the read asks for 400"

test_case "a halted node refuses reads and writes (6)"
echo '{"format":1,"code":"corrupt","subject":"x.seg","detail":"crc mismatch","commit":7}' > "$D/replication/halt.json"
run "$AERODB" get -D "$D" users/u9 --json
expect_rc 6
expect_json .code halted
expect_json .exit 6
expect_err_contains "refusing to read '$D': the node is halted (corrupt: crc mismatch)"

test_case "init of a path that is a file is 5, with its detail and a hint"
echo x > "$T/afile-init"
run "$AERODB" init -D "$T/afile-init"
expect_rc 5
expect_err "not a directory '$T/afile-init': a file stands where the node goes
hint: give an absent or empty directory for the new node"


test_case "OPS-4 a newline or a tab in a key is escaped in text output, one line per document"
"$AERODB" init -D "$T/keys" >/dev/null
run "$AERODB" put -D "$T/keys" $'c/a\nb' '{}'
expect_rc 0
expect_out 'insert c/a\nb: commit 1'
"$AERODB" put -D "$T/keys" $'c/x\ty' '{}' >/dev/null
run "$AERODB" scan -D "$T/keys"
expect_rc 0
expect_out $'c/a\\nb\t{}\nc/x\\x09y\t{}'

finish
