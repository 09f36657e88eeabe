# Black-box tests of aerodb-repl verify.
source "$(dirname "$0")/lib.sh"
D=$T/db
"$AERODB" init -D "$D" >/dev/null
"$AERODB" load -D "$D" --write-sets 50 --records-per-set 2 >/dev/null

test_case "a healthy data directory: exit 0, summary, JSON schema"
run "$AERODB_REPL" verify "$D" --json
expect_rc 0
expect_json .ok true
expect_json .kind data-dir
expect_json .wal.write_sets 50
expect_json .wal.records 150
expect_json .wal.first_commit 1
expect_json .wal.last_commit 50
expect_json '.wal.history_digest' "$(jq -r .applied.digest "$D/replication/state.json")"
expect_json '.findings | length' 0

test_case "a flipped byte: exit 1, the offset named, on stderr"
cp -r "$D" "$T/bad"
flip_byte "$T/bad/wal/wal.log" 100
run "$AERODB_REPL" verify "$T/bad"
expect_rc 1
expect_err_contains "damage: corrupt record '$T/bad/wal/wal.log': crc mismatch: stored"
expect_err_contains "at offset 0 (record 0)"
expect_err_contains "hint: nothing after this record can be trusted"

test_case "a torn tail is a notice: exit 0"
cp "$D/wal/wal.log" "$T/torn.log"
truncate -s -7 "$T/torn.log"
run "$AERODB_REPL" verify "$T/torn.log" --json
expect_rc 0
expect_json '.findings[0].kind' torn-tail
expect_json '.findings[0].severity' notice
expect_json .wal.write_sets 49

test_case "missing path (9), plain directory (2), bad option (2)"
run "$AERODB_REPL" verify "$T/absent"
expect_rc 9
expect_err "cannot stat '$T/absent': No such file or directory
hint: give a WAL file, a segment, a directory of segments, a data directory or an archive that exists"
mkdir "$T/plain"
run "$AERODB_REPL" verify "$T/plain"
expect_rc 2
expect_err "nothing to verify '$T/plain': neither a data directory (no wal/wal.log) nor a segment directory
hint: give a WAL file, a segment, a directory of segments or a data directory"
run "$AERODB_REPL" verify
expect_rc 2
run "$AERODB_REPL" verify "$D/wal/wal.log" --system-id nothex
expect_rc 2
expect_err "invalid system id 'nothex': expected 32 lowercase hexadecimal digits
hint: copy it from 'aerodb-repl status -D DIR' (system id) or the node's replication/identity.json"

test_case "a halted node: exit 6 unless damage is found (then 1)"
cp -r "$D" "$T/halted"
echo '{"format":1,"code":"diverged","subject":"in/x.seg","detail":"digest mismatch at commit 9","commit":9}' > "$T/halted/replication/halt.json"
run "$AERODB_REPL" verify "$T/halted"
expect_rc 6
expect_err "halted: node is halted '$T/halted': diverged: digest mismatch at commit 9
hint: if 'in/x.seg' is another history's file, remove it, then clear the halt with 'aerodb-repl unhalt'; if this replica is on another history ('aerodb-repl check-history' against the primary's archive says 4), rebuild this replica from the primary it should follow ('aerodb-repl snapshot install --discard-existing' from its archive)"
flip_byte "$T/halted/wal/wal.log" 100
run "$AERODB_REPL" verify "$T/halted"
expect_rc 1

test_case "mid-install: exit 9"
rm "$T/halted/replication/state.json"
run "$AERODB_REPL" verify "$T/halted"
expect_rc 9
expect_err_contains "no replication/state.json (unfinished install)"

test_case "AeroDB's own files (../shared), when present"
F=${SHARED:-}/fixtures/aerodb-upstream
if [ -d "$F" ]; then
  run "$AERODB_REPL" verify "$F/mvcc" --json
  expect_rc 0
  expect_json .wal.write_sets 500
  expect_json .wal.history_digest e1c81d17c8d4731c3912d4673857f788ec006d06f52efc488f5799e52f37df7a
  run "$AERODB_REPL" verify "$F/torn/wal_bitflip_seq1000.log"
  expect_rc 1
  expect_err_contains "crc mismatch: stored 13b71efc, computed f83e218c at offset 355287 (record 999)"
  run "$AERODB_REPL" verify "$F/torn/wal_trunc_mid_body.log" --json
  expect_rc 0
  expect_json '.findings[0].offset' 631337
else
  echo "SKIPPED [$CURRENT]: $F not found (a clone without ../shared)"
fi

test_case "verify refuses a FIFO or a device at once (2), as install does"
mkfifo "$T/fifo"
run timeout 10 "$AERODB_REPL" verify "$T/fifo"
expect_rc 2
expect_err "not a file to verify '$T/fifo': not a regular file or a directory (a FIFO, a device or a socket)
hint: give a WAL file, a segment, an archive or a directory"
run timeout 10 "$AERODB_REPL" verify /dev/zero
expect_rc 2

test_case "FM-132 a FIFO in place of a node file: status, verify and apply-wal end at once, 10 with a hint"
# No process ever opens the FIFO's other end: a command that waited on it
# would hang until timeout(1) kills it (124).
"$AERODB_REPL" ship-wal -D "$D" --to "$T/fifo-out" >/dev/null 2>&1 || { mkdir -p "$T/fifo-out"; "$AERODB_REPL" ship-wal -D "$D" --to "$T/fifo-out" >/dev/null; }
for f in replication/state.json replication/identity.json wal/wal.log; do
  rm -rf "$T/ff"; cp -r "$D" "$T/ff"; rm "$T/ff/$f"; mkfifo "$T/ff/$f"
  for cmd in "status -D $T/ff" "verify $T/ff" "apply-wal -D $T/ff --from $T/fifo-out"; do
    # shellcheck disable=SC2086
    run timeout 10 "$AERODB_REPL" $cmd
    expect_rc 10
    expect_err_contains "not a regular file '$T/ff/$f': a FIFO: reading or writing it could block or never end"
    expect_err_contains "hint: remove what stands in the file's place (or restore the file), then re-run"
  done
done
rm -rf "$T/ff"; cp -r "$D" "$T/ff"; mkfifo "$T/ff/replication/halt.json"
run timeout 10 "$AERODB_REPL" status -D "$T/ff"
expect_rc 10
expect_err_contains "not a regular file '$T/ff/replication/halt.json'"

test_case "NODE-4 RECOV-2 NODE-7 verify says what the open of every other command refuses (1)"
# state.json edited so that only the open's checks see it: the commit at
# applied.wal_offset, an epoch without its history file, next_sequence.
for edit in '.applied.commit -= 1' '.epoch = 2' '.applied.next_sequence += 3'; do
  rm -rf "$T/ed"; cp -r "$D" "$T/ed"
  jq -c "$edit" "$D/replication/state.json" > "$T/ed/replication/state.json"
  run "$AERODB_REPL" status -D "$T/ed"
  expect_rc 1
  status_err=$ERR
  run "$AERODB_REPL" verify "$T/ed" --json
  expect_rc 1
  expect_json '.findings[0].kind' open
  msg=$(jq -r '.findings[0].message' <<<"$OUT")
  detail=${msg#open \'$T/ed\': }
  if [ -n "$detail" ] && [ "$detail" != "$msg" ] && [[ "$status_err" == *"$detail"* ]]; then pass; else fail "verify said '$msg', status said '$status_err'"; fi
done

finish
