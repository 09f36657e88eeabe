# Black-box tests of promote and of ship-wal's epoch handling: exact exit
# codes, stderr and --json fields (MODEL-6, MODEL-8, LOG-21, HFILE-5).
source "$(dirname "$0")/lib.sh"
P=$T/p R=$T/r R2=$T/r2 A=$T/archive
mkdir -p "$A"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 50 >/dev/null
AR=$(cd "$A" && pwd -P)

test_case "ship-wal --claim-archive marks the archive, once"
run "$AERODB_REPL" ship-wal -D "$P" --to "$A" --claim-archive --max-segment-bytes 20000
expect_rc 0
expect_out_contains "marked '$AR' as the claim archive (claim-archive.json)"
[ -f "$A/claim-archive.json" ] && pass || fail "no claim-archive.json"
run "$AERODB_REPL" ship-wal -D "$P" --to "$A" --claim-archive --json
expect_rc 0
expect_json .claim_archive true
expect_json .marked_claim_archive false

"$AERODB_REPL" apply-wal -D "$R" --from "$A" >/dev/null
"$AERODB_REPL" apply-wal -D "$R2" --from "$A" >/dev/null

test_case "promote without a marker is 9; on a primary 5 isprimary"
mkdir -p "$T/plain"
run "$AERODB_REPL" promote -D "$R" --archive "$T/plain"
expect_rc 9
expect_err "not a claim archive '$T/plain': no claim-archive.json
hint: mark the archive the primary ships into with 'aerodb-repl ship-wal --claim-archive', or name that archive"
run "$AERODB_REPL" promote -D "$P" --archive "$A" --json
expect_rc 5
expect_json .reason isprimary

test_case "FM-41 promote, then the old primary is fenced at its next ship"
run "$AERODB_REPL" promote -D "$R" --archive "$A" --json
expect_rc 0
expect_json .epoch 2
expect_json .branch_commit 50
expect_json .local false
expect_json '.claimant | length' 32
expect_json .history_file "$A/00000002.history"
[ -f "$A/00000002.history" ] && pass || fail "no history file in the archive"
run "$AERODB" put -D "$R" c/after '{"v":1}'
expect_rc 0
"$AERODB" put -D "$P" c/lost '{"v":1}' >/dev/null
run "$AERODB_REPL" ship-wal -D "$P" --to "$A"
expect_rc 5
expect_err "node is fenced '$P': epoch 2 began after commit 50 in '$AR'; this primary is superseded
hint: stop writing to this node; 'aerodb-repl check-history' says whether 'aerodb-repl rejoin' can make it a replica of the new primary, else rebuild it as one in a new directory"
run "$AERODB" put -D "$P" c/lost2 '{"v":1}'
expect_rc 5

test_case "MODEL-6 the second promote of the same epoch is 5 claimed; it stays a replica"
run "$AERODB_REPL" promote -D "$R2" --archive "$A" --json
expect_rc 5
expect_json .reason claimed
claimant=$(jq -r .claimant "$A/00000002.history")
expect_err "epoch already claimed '$A/00000002.history': another node owns epoch 2 (claimant $claimant, branch commit 50)
hint: this node stays a replica; follow the new primary with apply-wal"
run "$AERODB_REPL" status -D "$R2" --json
expect_json .role replica

test_case "LOG-21 the new primary ships its history file and epoch-2 segments from 51"
mkdir -p "$T/out2"
run "$AERODB_REPL" ship-wal -D "$R" --to "$T/out2" --json
expect_rc 0
expect_json '.history_files[0]' 00000002.history
expect_json '.segments[0].first_commit' 51
expect_json '.segments[0].name' "00000002-0000000000000033-0000000000000033.seg"

test_case "FM-55 promote without --archive warns that the claim is local"
run "$AERODB_REPL" promote -D "$R2"
expect_rc 0
expect_err_contains "warning: claimed locally: nothing prevents another node from claiming epoch 2"

finish
