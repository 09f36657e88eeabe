# The S3 archive against a real Ceph RADOS Gateway, started here
# (tests/support/rgw.sh; specs/REPLICATION_OBJECT_STORE.md). Skipped, by
# name, where RGW cannot start (exit 77); CI installs it (setup.sh).
# Environment: S3_RACE_ROUNDS (default 10), S3_PROMOTE_ROUNDS (default 10).
source "$(dirname "$0")/lib.sh"
: "${S3_RGW_TOOL:?}"
start_rgw cli.cli_s3_rgw
"$S3_RGW_TOOL" mkbucket s3://aerodb-test || { echo "FAIL: cannot create the bucket" >&2; exit 1; }
P=$T/p R=$T/r
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 120 >/dev/null

test_case "OBJ-10 a bucket that does not exist is 9 for every command, export and promote included"
run "$AERODB_REPL" snapshot export -D "$P" -o s3://aerodb-nosuchbucket/x/s.tar.zst
expect_rc 9
expect_err_contains "no such bucket 's3://aerodb-nosuchbucket'"
run "$AERODB_REPL" ship-wal -D "$P" --to s3://aerodb-nosuchbucket/x
expect_rc 9

test_case "OBJ-13 ship-wal, apply-wal, verify and status through RGW give the replica the primary's history"
A=s3://aerodb-test/rt
run "$AERODB_REPL" ship-wal -D "$P" --to "$A" --max-segment-bytes 20000 --json
expect_rc 0
expect_json .shipped_commit 120
nseg=$(jq '.segments | length' <<<"$OUT")
[ "$nseg" -ge 3 ] && pass || fail "expected several segments, got $nseg"
run "$AERODB_REPL" ship-wal -D "$P" --to "$A"
expect_rc 0
expect_out "nothing to ship '$A': shipped through commit 120"
run "$AERODB_REPL" verify "$A" --json
expect_rc 0
expect_json '.segments | length' "$nseg"
run "$AERODB_REPL" apply-wal -D "$R" --from "$A" --json
expect_rc 0
expect_json .applied_commit 120
"$AERODB" load -D "$P" --write-sets 30 >/dev/null
run "$AERODB_REPL" ship-wal -D "$P" --to "$A"
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$R" --from "$A"
expect_rc 0
run "$AERODB_REPL" status -D "$R" --from "$A" --json
expect_rc 0
expect_json .inbox.lag 0
[ "$("$AERODB" scan -D "$P" --json | jq -c .)" = "$("$AERODB" scan -D "$R" --json | jq -c .)" ] && pass ||
  fail "the replica's documents differ from the primary's"

test_case "OBJ-10 a name that does not parse is reported as ignored, as in a directory"
echo junk >"$T/junk.txt"
# Upload a stray object with the library's own client: ship a file named so.
"$S3_RGW_TOOL" put "$A" "$T/junk.txt" junk.txt
run "$AERODB_REPL" verify "$A"
expect_rc 0
expect_out_contains "ignored 's3://aerodb-test/rt/junk.txt': not a segment name"

test_case "OBJ-3 a wrong secret is 10 with a hint, and no secret is printed"
run env AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789 "$AERODB_REPL" verify "$A" --json
expect_rc 10
expect_err_contains "403"
expect_err_contains "hint:"
if grep -q -e "wrong-secret-0123456789" -e "$AWS_SECRET_ACCESS_KEY" -e "Signature=" <<<"$OUT$ERR"; then
  fail "a secret was printed: $OUT $ERR"
else pass; fi

test_case "OBJ-20 snapshot export to RGW and install from RGW: the replica equals the primary"
run "$AERODB_REPL" snapshot export -D "$P" -o s3://aerodb-test/snaps/s.tar.zst
expect_rc 0
run "$AERODB_REPL" snapshot export -D "$P" -o s3://aerodb-test/snaps/s.tar.zst
expect_rc 5
run "$AERODB_REPL" snapshot install -D "$T/rsnap" s3://aerodb-test/snaps/s.tar.zst --json
expect_rc 0
[ "$("$AERODB" scan -D "$P" --json | jq -c .)" = "$("$AERODB" scan -D "$T/rsnap" --json | jq -c .)" ] && pass ||
  fail "the installed replica's documents differ from the primary's"

test_case "OBJ-12 commands that do not take an object store yet refuse it with 2"
run "$AERODB_REPL" check-history --snapshot "$A/x.tar" -D "$P"
expect_rc 2
expect_err_contains "object store not supported here 's3://aerodb-test/rt/x.tar'"

test_case "OBJ-14 prune on RGW removes the segments below a snapshot and aborts a stale upload"
"$AERODB_REPL" snapshot export -D "$P" -o "$T/snap.tar" >/dev/null 2>&1
"$S3_RGW_TOOL" put "$A" "$T/snap.tar" snap-150.tar
"$S3_RGW_TOOL" begin-upload "$A" 00000001-0000000000000151-0000000000000160.seg
run "$AERODB_REPL" prune --archive "$A" --keep-snapshots 1 --stale-upload-hours 0 --json
expect_rc 0
expect_json .cut_commit 150
nrm=$(jq '.removed | length' <<<"$OUT")
[ "$nrm" -ge 1 ] && [ "$nrm" = "$(jq '.plan | length' <<<"$OUT")" ] && pass || fail "expected the segments below 150 removed: $OUT"
expect_json '[.uploads[] | select(.aborted)] | length' 1
[ "$("$S3_RGW_TOOL" uploads "$A")" = "uploads=0" ] && pass || fail "the upload is still there"
run "$AERODB_REPL" verify "$A"
expect_rc 0

test_case "OBJ-12 check-history and rejoin read the claim archive on RGW"
C=s3://aerodb-test/rejoin
"$AERODB" init -D "$T/op" >/dev/null
"$AERODB" load -D "$T/op" --write-sets 10 >/dev/null
"$AERODB_REPL" ship-wal -D "$T/op" --to "$C" --claim-archive >/dev/null 2>&1
"$AERODB_REPL" apply-wal -D "$T/nr" --from "$C" >/dev/null 2>&1
"$AERODB_REPL" promote -D "$T/nr" --archive "$C" >/dev/null 2>&1
run "$AERODB_REPL" check-history --archive "$C" -D "$T/op"
expect_rc 0
expect_out_contains "identical"
run "$AERODB_REPL" rejoin -D "$T/op" --archive "$C" --json
expect_rc 0
expect_json .role replica

test_case "OBJ-5 8 concurrent exclusive PUTs on RGW: exactly one wins"
rounds=${S3_RACE_ROUNDS:-10}; ok=0
for i in $(seq "$rounds"); do
  res=$("$S3_RGW_TOOL" race s3://aerodb-test/race "$(printf '%08x' "$i").history" 8)
  [[ "$res" =~ ^winners=1\ refused=7\ errors=0\ stored=[0-7]$ ]] && ok=$((ok + 1)) || echo "round $i: $res" >&2
done
echo "s3 race: $ok of $rounds rounds of 8 concurrent conditional PUTs had exactly one winner and seven 412"
[ "$ok" = "$rounds" ] && pass || fail "$((rounds - ok)) rounds without exactly one winner"

test_case "SIG-30 a signed ship to RGW is applied with --trusted-keys, an unsigned one is 8"
S=s3://aerodb-test/signed
mkdir -p "$T/trust"
openssl genpkey -algorithm ed25519 -out "$T/sk.pem" 2>/dev/null && chmod 600 "$T/sk.pem"
openssl pkey -in "$T/sk.pem" -pubout -out "$T/trust/k.pem" 2>/dev/null
run "$AERODB_REPL" ship-wal -D "$P" --to "$S" --max-segment-bytes 20000 --signing-key "$T/sk.pem"
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$T/rs" --from "$S" --trusted-keys "$T/trust" --json
expect_rc 0
expect_json .applied_commit 150
"$AERODB" load -D "$P" --write-sets 10 >/dev/null
run "$AERODB_REPL" ship-wal -D "$P" --to "$S" --max-segment-bytes 20000
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$T/rs" --from "$S" --trusted-keys "$T/trust"
expect_rc 8
expect_err_contains "signature in transit '$S/"
[ ! -e "$T/rs/replication/halt.json" ] && pass || fail "an unsigned segment halted the replica"

test_case "OBJ-31 apply-wal --report-to s3 registers the replica on RGW"
run "$AERODB_REPL" apply-wal -D "$R" --from "$A" --report-to "$A" --replica-name east --json
expect_rc 0
expect_json .registered.name east
run "$AERODB_REPL" apply-wal -D "$R" --from "$A" --report-to "$A" --replica-name east
expect_rc 0
# Another replica under the name: read back from RGW and refused (RET-3).
run "$AERODB_REPL" apply-wal -D "$T/rs" --from "$S" --report-to "$A" --replica-name east --trusted-keys "$T/trust"
expect_rc 8
expect_err_contains "registration of another replica '$A/replica-east.json'"

test_case "OBJ-13 split-brain: two replicas promote concurrently against one bucket, exactly one wins"
rounds=${S3_PROMOTE_ROUNDS:-10}; ok=0
for i in $(seq "$rounds"); do
  C=s3://aerodb-test/claim-$i
  rm -rf "$T/p$i" "$T/a$i" "$T/b$i"
  "$AERODB" init -D "$T/p$i" >/dev/null
  "$AERODB" load -D "$T/p$i" --write-sets 5 >/dev/null
  "$AERODB_REPL" ship-wal -D "$T/p$i" --to "$C" --claim-archive >/dev/null 2>&1
  "$AERODB_REPL" apply-wal -D "$T/a$i" --from "$C" >/dev/null 2>&1
  "$AERODB_REPL" apply-wal -D "$T/b$i" --from "$C" >/dev/null 2>&1
  "$AERODB_REPL" promote -D "$T/a$i" --archive "$C" >/dev/null 2>&1 & pa=$!
  "$AERODB_REPL" promote -D "$T/b$i" --archive "$C" >/dev/null 2>&1 & pb=$!
  wait "$pa"; ra=$?; wait "$pb"; rb=$?
  if { [ "$ra" = 0 ] && [ "$rb" = 5 ]; } || { [ "$ra" = 5 ] && [ "$rb" = 0 ]; }; then ok=$((ok + 1)); else echo "round $i: exits $ra and $rb" >&2; fi
done
echo "s3 split-brain: $ok of $rounds rounds had exactly one winner (0) and one loser (5)"
[ "$ok" = "$rounds" ] && pass || fail "$((rounds - ok)) rounds without exactly one winner"
finish
