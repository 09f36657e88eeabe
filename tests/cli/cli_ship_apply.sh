# Black-box tests of ship-wal, apply-wal, status and unhalt: exact exit codes
# and stderr, --json fields.
source "$(dirname "$0")/lib.sh"
P=$T/p R=$T/r OB=$T/outbox IB=$T/inbox
mkdir -p "$OB" "$IB"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 200 >/dev/null

test_case "ship-wal publishes segments and reports them in --json"
run "$AERODB_REPL" ship-wal -D "$P" --to "$OB" --max-segment-bytes 20000 --json
expect_rc 0
expect_json .shipped_commit 200
expect_json .from_commit 0
expect_json '.segments[0].first_commit' 1
expect_json '.segments[0].sha256 | length' 64
name0=$(jq -r '.segments[0].name' <<<"$OUT")
sha0=$(jq -r '.segments[0].sha256' <<<"$OUT")
# SEG-7: the seal is the SHA-256 of the 192 header bytes, and the file ends with it.
[ "$(head -c 192 "$OB/$name0" | sha256sum | cut -d' ' -f1)" = "$sha0" ] && pass || fail "sha256 is not the seal of the header"
[ "$(tail -c 32 "$OB/$name0" | od -An -tx1 | tr -d ' \n')" = "$sha0" ] && pass || fail "sha256 is not the trailer's hash"
expect_json '[.segments[] | select(.already_there)] | length' 0
n=$(jq '.segments | length' <<<"$OUT")
run "$AERODB_REPL" ship-wal -D "$P" --to "$OB"
expect_rc 0
expect_out "nothing to ship '$(cd "$OB" && pwd -P)': shipped through commit 200"

test_case "apply-wal bootstraps a replica; a re-run is up to date"
cp "$OB"/*.seg "$IB"/
run "$AERODB_REPL" apply-wal -D "$R" --from "$IB" --json
expect_rc 0
expect_json .bootstrapped true
expect_json .applied_commit 200
expect_json '.segments | length' "$n"
run "$AERODB_REPL" apply-wal -D "$R" --from "$IB"
expect_rc 0
expect_out "up to date '$R': applied through commit 200"

test_case "replica reads at its applied CommitId; writes refused"
run "$AERODB" scan -D "$R" --json
expect_json .commit 200
run "$AERODB" put -D "$R" users/x '{}'
expect_rc 5

test_case "a gap stops with 3 and names the missing CommitIds"
"$AERODB" load -D "$P" --write-sets 100 --seed 2 >/dev/null
run "$AERODB_REPL" ship-wal -D "$P" --to "$OB" --max-segment-bytes 20000 --json
segs=$(jq -r '.segments[].name' <<<"$OUT")
first=$(sed -n 1p <<<"$segs") second=$(sed -n 2p <<<"$segs")
[ -n "$second" ] && pass || fail "expected at least two new segments"
cp "$OB/$second" "$IB/"
run "$AERODB_REPL" apply-wal -D "$R" --from "$IB"
expect_rc 3
expect_err_contains "gap before commit 201 in '$IB': next segment starts at"
expect_err_contains "hint: the missing segment has not arrived; re-run apply-wal after the transfer"

test_case "in transit: a half-copied segment is 8 and nothing after it is applied"
head -c 100 "$OB/$first" > "$IB/$first"
run "$AERODB_REPL" apply-wal -D "$R" --from "$IB"
expect_rc 8
expect_err "segment in transit '$IB/$first': 100 of at least 192 bytes present
hint: re-run apply-wal once the transfer has finished"
run "$AERODB_REPL" status -D "$R" --json
expect_json .applied_commit 200

test_case "corruption halts (1), then 6 until unhalt; status says why"
cp "$OB/$first" "$IB/$first"
flip_byte "$IB/$first" 300
run "$AERODB_REPL" apply-wal -D "$R" --from "$IB"
expect_rc 1
expect_err_contains "corrupt segment '$IB/$first': record damage at body offset 0: crc mismatch"
run "$AERODB_REPL" apply-wal -D "$R" --from "$IB"
expect_rc 6
expect_err_contains "node is halted '$R': corrupt: record damage at body offset 0: crc mismatch"
run "$AERODB" get -D "$R" users/anything
expect_rc 6
run "$AERODB_REPL" status -D "$R" --json
expect_rc 6
expect_json .halted.code corrupt
expect_err_contains "node is halted '$R': corrupt: record damage at body offset 0: crc mismatch"  # with --json too
run "$AERODB_REPL" unhalt -D "$R"
expect_rc 2
cp "$OB/$first" "$IB/$first"
run "$AERODB_REPL" unhalt -D "$R" --reason "re-copied $first"
expect_rc 0
expect_out_contains "cleared halt '$R': corrupt: record damage at body offset 0: crc mismatch"
expect_out_contains "hint: replace '$IB/$first' with a good copy from the archive, before the next apply-wal"
run "$AERODB_REPL" apply-wal -D "$R" --from "$IB"
expect_rc 0
run "$AERODB_REPL" unhalt -D "$R" --reason again
expect_out "nothing to clear '$R': the node is not halted"

test_case "NODE-9 LOG-19 unhalt clears a halt.json nested 100,000 deep (it once crashed), with no hint to remove what it removed"
python3 -c "import sys; open(sys.argv[1], 'w').write('[' * 100000 + ']' * 100000)" "$R/replication/halt.json"
run "$AERODB_REPL" unhalt -D "$R" --reason "a hand-edited halt.json"
expect_rc 0
expect_out "cleared halt '$R': unknown: halt.json cannot be read: invalid node file '$R/replication/halt.json': nested deeper than 32 levels"
run "$AERODB_REPL" status -D "$R"
expect_rc 0

test_case "primary and replica agree once every segment has arrived"
cp -n "$OB"/*.seg "$IB"/
run "$AERODB_REPL" apply-wal -D "$R" --from "$IB"
expect_rc 0
p=$("$AERODB" scan -D "$P" --json | jq -c '{commit, documents}')
r=$("$AERODB" scan -D "$R" --json | jq -c '{commit, documents}')
[ "$p" = "$r" ] && pass || fail "replica differs from primary"

test_case "role refusals: ship from a replica, apply on a primary (5)"
run "$AERODB_REPL" ship-wal -D "$R" --to "$OB"
expect_rc 5
expect_err "refusing to ship '$R': this node is a replica
hint: run ship-wal on the primary"
run "$AERODB_REPL" apply-wal -D "$P" --from "$IB"
expect_rc 5
expect_err "refusing to apply '$P': this node is a primary; segments are applied only by replicas
hint: bootstrap a replica in a new directory"

test_case "missing target (9), usage errors (2)"
run "$AERODB_REPL" ship-wal -D "$P" --to "$T/nowhere"
expect_rc 9
run "$AERODB_REPL" ship-wal -D "$P"
expect_rc 2
run "$AERODB_REPL" apply-wal -D "$R" --from "$IB" --until notanumber
expect_rc 2

test_case "an unknown command names itself (2), a missing subcommand too; apply-wal -D FILE and ship-wal --to FILE say it is a file"
run "$AERODB_REPL" bogus
expect_rc 2
expect_err "usage error 'aerodb-repl': unknown command 'bogus'
hint: the commands are ship-wal, apply-wal, status, verify, snapshot, unhalt, promote, check-history, rejoin, init, prune; run 'aerodb-repl --help'"
run "$AERODB_REPL" snapshot exprot -D "$P" -o "$T/x.tar"
expect_rc 2
expect_err_contains "usage error 'aerodb-repl snapshot': unknown command 'exprot'"
# A command without its subcommand names itself and lists them.
run "$AERODB_REPL" snapshot
expect_rc 2
expect_err "usage error 'aerodb-repl snapshot': a subcommand is required
hint: the commands are export, install; run 'aerodb-repl snapshot --help'"
run "$AERODB_REPL"
expect_rc 2
expect_err_contains "usage error 'aerodb-repl': a subcommand is required"
run "$AERODB_REPL" --log-level info
expect_rc 2
expect_err_contains "usage error 'aerodb-repl': a subcommand is required"
echo x >"$T/afile"
run "$AERODB_REPL" ship-wal -D "$P" --to "$T/afile"
expect_rc 9
expect_err_contains "target not found '$T/afile': a file, not a directory"
run "$AERODB_REPL" apply-wal -D "$T/afile" --from "$IB"
expect_rc 5
expect_err "refusing to apply '$T/afile': a file, not a directory
hint: give the replica's directory, or a new one to bootstrap a replica"

test_case "ARC-3 apply-wal and status report every inbox entry that is not a segment"
mkdir -p "$T/junk"
cp "$IB"/*.seg "$T/junk/"
first=$(ls "$T/junk" | head -1)
mv "$T/junk/$first" "$T/junk/$first.partial"
ln -s "$T/junk/$first.partial" "$T/junk/$first"
echo half >"$T/junk/.tmp.x"
run "$AERODB_REPL" apply-wal -D "$R" --from "$T/junk" --json
expect_rc 0
expect_err_contains "ignored '$T/junk/$first': a symlink (not followed: a transport delivers files)"
expect_err_contains "ignored '$T/junk/$first.partial': not a segment name: '.partial' after a segment name"
expect_err_contains "ignored '$T/junk/.tmp.x': a hidden file (a transfer's or a writer's unfinished copy)"
expect_json '.ignored | length' 3
expect_json '[.ignored[] | select(.temp)] | length' 1
run "$AERODB_REPL" status -D "$R" --from "$T/junk" --json
expect_json '.ignored | length' 3
run "$AERODB_REPL" verify "$T/junk" --json
expect_json '[.findings[] | select(.kind == "ignored")] | length' 3

test_case "MODEL-9 a refusal names its key in --json (reason), from the one policy"
run "$AERODB" put -D "$R" c/x '{}' --json
expect_rc 5
expect_json .reason replica
run "$AERODB_REPL" ship-wal -D "$R" --to "$OB" --json
expect_rc 5
expect_json .reason notprimary
run "$AERODB_REPL" apply-wal -D "$P" --from "$IB" --json
expect_rc 5
expect_json .reason notreplica

test_case "LOG-25 aerodb put in a loop while ship-wal runs in a loop: no put refused, the target converges"
CP=$T/concurrent COB=$T/concurrent-out CR=$T/concurrent-r
"$AERODB" init -D "$CP" >/dev/null
mkdir -p "$COB"
( for i in $(seq 1 150); do
    "$AERODB" put -D "$CP" "loop/$i" "{\"i\":$i}" >/dev/null 2>>"$T/put.err" || echo "$i" >>"$T/put.refused"
  done; touch "$T/put.done" ) &
ships=0 ship_failures=0
while [ ! -e "$T/put.done" ]; do
  "$AERODB_REPL" ship-wal -D "$CP" --to "$COB" --max-segment-bytes 2000 >/dev/null 2>>"$T/ship.err" || ship_failures=$((ship_failures + 1))
  ships=$((ships + 1))
done
wait
[ ! -e "$T/put.refused" ] && pass || fail "$(wc -l <"$T/put.refused") of 150 puts refused: $(head -3 "$T/put.err")"
[ "$ship_failures" -eq 0 ] && pass || fail "$ship_failures of $ships ship-wal runs failed: $(head -3 "$T/ship.err")"
[ "$ships" -gt 1 ] && pass || fail "ship-wal ran $ships time(s) beside the writer"
run "$AERODB_REPL" ship-wal -D "$CP" --to "$COB"
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$CR" --from "$COB"
expect_rc 0
expect_out_contains "applied through commit 150"

test_case "ship-wal into a missing target is 9"
run "$AERODB_REPL" ship-wal -D "$P" --to "$T/gone"
expect_rc 9
expect_err_contains "target not found '$T/gone': no such directory"
expect_err_contains "hint: create the outbox or archive directory first"
[ ! -e "$T/gone" ] && pass || fail "ship-wal created the missing target"

test_case "LOG-31 a directory another ship-wal holds is 7, whatever the path or database; leftovers go under the lock"
Q=$T/q LOB=$T/locked-out
"$AERODB" init -D "$Q" >/dev/null
"$AERODB" load -D "$Q" --write-sets 20 >/dev/null
mkdir -p "$LOB"
ln -s "$LOB" "$T/locked-link"
# util-linux flock holds the directory, as a run of another database would.
run flock -n "$LOB" "$AERODB_REPL" ship-wal -D "$Q" --to "$T/locked-link"
expect_rc 7
expect_err_contains "ship in progress '$(cd "$LOB" && pwd -P)': another ship-wal, or another process, holds a lock on this directory"
expect_err_contains "hint: "
[ -z "$(ls -A "$LOB")" ] && pass || fail "a refused run wrote into the target: $(ls -A "$LOB")"
echo crashed >"$LOB/.00000001-0000000000000001-0000000000000014.seg.0123456789abcdef.tmp"
echo other >"$LOB/.rsync.tmp"
run "$AERODB_REPL" ship-wal -D "$Q" --to "$LOB" --json
expect_rc 0
expect_json .left_temps_removed 1
expect_json .directory_locked true
[ -e "$LOB/.rsync.tmp" ] && [ "$(ls -A "$LOB" | grep -c '^\.')" = 1 ] && pass || fail "temps left: $(ls -A "$LOB")"

test_case "apply-wal --until 0 into an absent directory creates nothing and says so"
run "$AERODB_REPL" apply-wal -D "$T/u0" --from "$OB" --until 0
expect_rc 0
expect_out "nothing bootstrapped '$T/u0': no write set applied, the directory was not created"
[ ! -e "$T/u0" ] && pass || fail "the directory was created"
if grep -q "last success not recorded" <<<"$ERR"; then fail "a last success was attempted: $ERR"; else pass; fi

test_case "MODEL-10 -D DIR/. and -D . bootstrap and install into the directory itself"
mkdir -p "$T/dot1" "$T/dot2"
run "$AERODB_REPL" apply-wal -D "$T/dot1/." --from "$OB"
expect_rc 0
expect_out_contains "bootstrapped replica '$T/dot1'"
[ -f "$T/dot1/replication/state.json" ] && pass || fail "no replica in $T/dot1"
( cd "$T/dot2" && "$AERODB_REPL" apply-wal -D . --from "$OB" >/dev/null 2>&1 ); rc=$?
[ "$rc" = 0 ] && [ -f "$T/dot2/replication/state.json" ] && pass || fail "apply-wal -D . gave $rc"
[ -z "$(ls -A "$T" | grep -e '\.tmp$' -e '\.lock$')" ] && pass || fail "left beside: $(ls -A "$T")"

test_case "unsigned options: a sign, a value past 2^64 - 1 or out of range is 2, naming the range"
for v in -1 18446744073709551616 1e3 ''; do
  run "$AERODB_REPL" apply-wal -D "$T/uv" --from "$OB" --until "$v"
  expect_rc 2
  expect_err_contains "--until: '$v' is not a whole number from 0 to 18446744073709551615"
done
run "$AERODB_REPL" prune --archive "$OB" --keep-snapshots 0 --dry-run
expect_rc 2
expect_err_contains "--keep-snapshots: '0' is not a whole number from 1 to 18446744073709551615"
run "$AERODB_REPL" ship-wal -D "$P" --to "$OB" --max-segment-bytes 17179869185
expect_rc 2
expect_err_contains "--max-segment-bytes: '17179869185' is not a whole number from 1 to 17179869184"
[ ! -e "$T/uv" ] && pass || fail "a replica was made"

test_case "--replica-name is checked where it is given (ARC-5), and needs --report-to"
run "$AERODB_REPL" apply-wal -D "$T/rn" --from "$OB" --report-to "$OB" --replica-name ''
expect_rc 2
expect_err_contains "--replica-name: '' is not 1..64 characters of A-Z a-z 0-9 _ . -, not starting with '.'"
run "$AERODB_REPL" apply-wal -D "$T/rn" --from "$OB" --replica-name east
expect_rc 2
expect_err_contains "--replica-name requires --report-to"
[ ! -e "$T/rn" ] && pass || fail "a replica was made"

test_case "a control character in a path is escaped in the one-line message"
nl_dir="$T/new
line"
run "$AERODB_REPL" status -D "$nl_dir"
expect_rc 9
first=$(head -1 <<<"$ERR")
[[ "$first" == *"new\\nline"* ]] && [[ "$(sed -n 2p <<<"$ERR")" == hint:* ]] && pass || fail "stderr: $ERR"


test_case "LOG-6 an applied segment being copied again is passed over and said, never a stall"
mkdir -p "$T/l6in"
"$AERODB" init -D "$T/l6p" >/dev/null
"$AERODB" load -D "$T/l6p" --write-sets 30 >/dev/null
"$AERODB_REPL" ship-wal -D "$T/l6p" --to "$T/l6in" --max-segment-bytes 4000 >/dev/null 2>&1
"$AERODB_REPL" apply-wal -D "$T/l6r" --from "$T/l6in" >/dev/null 2>&1
old=$(ls "$T/l6in" | grep '\.seg$' | head -1)
head -c 100 "$T/l6in/$old" > "$T/l6in/$old.cut" && mv "$T/l6in/$old.cut" "$T/l6in/$old"
"$AERODB" load -D "$T/l6p" --write-sets 5 --seed 9 >/dev/null
"$AERODB_REPL" ship-wal -D "$T/l6p" --to "$T/l6in" >/dev/null 2>&1
run "$AERODB_REPL" apply-wal -D "$T/l6r" --from "$T/l6in"
expect_rc 0
expect_out_contains "passed over $old: still being copied, and its commits"
expect_out_contains "up to date '$T/l6r': applied through commit 35"

test_case "an empty --to, --from or -o is a usage error (2), as an empty -D"
"$AERODB" init -D "$T/pe" >/dev/null
run "$AERODB_REPL" ship-wal -D "$T/pe" --to ''
expect_rc 2
expect_err_contains "--to: invalid value '': an empty path"
run "$AERODB_REPL" apply-wal -D "$T/re" --from ''
expect_rc 2
run "$AERODB_REPL" snapshot export -D "$T/pe" -o ''
expect_rc 2
run "$AERODB_REPL" status -D "$T/pe" --from ''
expect_rc 2

finish
