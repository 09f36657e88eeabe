# Black-box tests of prune and apply-wal --report-to
# (specs/REPLICATION_RETENTION.md, man/aerodb-repl-prune.1.md).
source "$(dirname "$0")/lib.sh"
P=$T/p
A=$T/arch
mkdir -p "$A"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 50 >/dev/null
"$AERODB_REPL" ship-wal -D "$P" --to "$A" --max-segment-bytes 20000 >/dev/null
"$AERODB_REPL" snapshot export -D "$P" -o "$A/snapshot-1.tar.zst" >/dev/null
"$AERODB" load -D "$P" --write-sets 50 --seed 2 >/dev/null
"$AERODB_REPL" ship-wal -D "$P" --to "$A" --max-segment-bytes 20000 >/dev/null
"$AERODB_REPL" snapshot export -D "$P" -o "$A/snapshot-2.tar.zst" >/dev/null
"$AERODB" load -D "$P" --write-sets 20 --seed 3 >/dev/null
"$AERODB_REPL" ship-wal -D "$P" --to "$A" --max-segment-bytes 20000 >/dev/null

test_case "RET-3 apply-wal --report-to registers the replica, the archive's readers pass it over"
run "$AERODB_REPL" apply-wal -D "$T/r" --from "$A" --report-to "$A" --replica-name r1 --json
expect_rc 0
expect_json .registered.name r1
expect_json .registered.applied_commit 120
expect_json '.ignored | length' 0
[ -f "$A/replica-r1.json" ] && pass || fail "no registration file"
run "$AERODB_REPL" apply-wal -D "$T/r" --from "$A" --report-to "$A" --replica-name r1
expect_rc 0
expect_out "registered 'r1' in '$A': applied 120
up to date '$T/r': applied through commit 120"
run "$AERODB_REPL" apply-wal -D "$T/r" --from "$A" --report-to "$T/nope" --replica-name r1
expect_rc 9
expect_err "archive not found '$T/nope': no such directory
hint: give the archive directory that 'aerodb-repl prune' trims"
# A run that failed (its inbox is missing) still names the missing archive;
# one with no replica at all (a bootstrap that met a gap) says nothing of it.
run "$AERODB_REPL" apply-wal -D "$T/r" --from "$T/no-inbox" --report-to "$T/nope" --replica-name r1
expect_rc 9
expect_err_contains "inbox not found '$T/no-inbox'"
expect_err_contains "archive not found '$T/nope': no such directory"
mkdir -p "$T/late"
cp "$(ls "$A"/*.seg | tail -1)" "$T/late/"
run "$AERODB_REPL" apply-wal -D "$T/never" --from "$T/late" --report-to "$T/nope" --replica-name r1
expect_rc 3
if grep -q "archive not found" <<<"$ERR"; then fail "a run with no replica spoke of the archive: $ERR"; else pass; fi

test_case "RET-3 another replica under a registered name: 5"
cp -r "$T/r" "$T/r2"
run "$AERODB_REPL" apply-wal -D "$T/r2" --from "$A" --report-to "$A" --replica-name r1
expect_rc 5
expect_err_contains "registration of another replica '$A/replica-r1.json'"

test_case "RET-12 dry run and real run list the same files"
cp -r "$A" "$T/copy"
run "$AERODB_REPL" prune --archive "$A" --keep-snapshots 1 --dry-run
expect_rc 0
dry=$(grep '^would remove ' <<<"$OUT" | sed 's/^would remove //')
[ -n "$dry" ] && pass || fail "dry run planned nothing: $OUT"
if diff -r "$A" "$T/copy" >/dev/null; then pass; else fail "dry run changed the archive"; fi
run "$AERODB_REPL" prune --archive "$A" --keep-snapshots 1
expect_rc 0
real=$(grep '^removed ' <<<"$OUT" | sed 's/^removed //')
if [ "$dry" = "$real" ]; then pass; else fail "dry run listed:"$'\n'"$dry"$'\n'"real run removed:"$'\n'"$real"; fi
gone=$(cd "$T/copy" && for f in *; do [ -e "$A/$f" ] || echo "'$f'"; done)
if [ "$(sort <<<"$gone")" = "$(sort <<<"$real")" ]; then pass; else fail "removed files differ from the list: $gone"; fi
expect_out_contains "pruned '$A': 1 snapshot archive(s) and "
[ -f "$A/snapshot-2.tar.zst" ] && [ ! -e "$A/snapshot-1.tar.zst" ] && pass || fail "snapshots: $(ls "$A")"
[ -f "$A/replica-r1.json" ] && pass || fail "the registration was removed"

test_case "RET-10 after prune, verify accepts the archive and the replica keeps applying"
run "$AERODB_REPL" verify "$A"
expect_rc 0
"$AERODB" load -D "$P" --write-sets 10 --seed 4 >/dev/null
"$AERODB_REPL" ship-wal -D "$P" --to "$A" --max-segment-bytes 20000 >/dev/null
run "$AERODB_REPL" apply-wal -D "$T/r" --from "$A" --report-to "$A" --replica-name r1
expect_rc 0
expect_out_contains "applied through commit 130"
run "$AERODB_REPL" snapshot install -D "$T/fresh" "$A/snapshot-2.tar.zst"
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$T/fresh" --from "$A"
expect_rc 0
expect_out_contains "applied through commit 130"

test_case "prune --json: the plan, the registrations, the cut"
run "$AERODB_REPL" prune --archive "$T/copy" --keep-snapshots 2 --json
expect_rc 0
expect_json .ok true
expect_json .recovery_points 2
expect_json .cut_commit 50
expect_json '.registrations[0].name' r1
expect_json '.registrations[0].pin' 120
expect_json '.registrations[0].ignored' null
jq -e '.registrations[0] | has("ignored")' <<<"$OUT" >/dev/null && pass || fail "registrations[0] has no ignored key: $OUT"
expect_json '[.snapshots[].action] | join(",")' keep,keep
expect_json '.plan == .removed' true
run "$AERODB_REPL" prune --archive "$T/copy" --keep-snapshots 3 --json
expect_rc 0
expect_json .nothing_because "only 2 of 3 snapshot(s) to keep"
expect_json '.plan | length' 0

test_case "RET-4 a damaged registration: 1, nothing removed"
cp -r "$T/copy" "$T/copy2"
printf 'x' >>"$T/copy2/replica-r1.json"
run "$AERODB_REPL" prune --archive "$T/copy2" --keep-snapshots 1
expect_rc 1
expect_err_contains "invalid registration '$T/copy2/replica-r1.json'"
expect_err_contains "hint: re-run that replica's 'apply-wal --report-to', or retire the registration by deleting the file"
if grep -q "ignored, $" <<<"$OUT"; then fail "a snapshot ignored without a reason: $OUT"; else pass; fi
if diff -r "$T/copy" "$T/copy2" -x replica-r1.json >/dev/null; then pass; else fail "files were removed"; fi

test_case "usage: --keep-snapshots 0 and a missing archive"
run "$AERODB_REPL" prune --archive "$A" --keep-snapshots 0
expect_rc 2
run "$AERODB_REPL" prune --archive "$T/none" --keep-snapshots 1
expect_rc 9
expect_err "archive not found '$T/none': no such directory
hint: give the archive directory ship-wal publishes into"
test_case "prune --archive on a file says it is a file, not that nothing is there (9)"
: > "$T/afile"
run "$AERODB_REPL" prune --archive "$T/afile" --keep-snapshots 1
expect_rc 9
expect_err_contains "archive not found '$T/afile': a file, not a directory"

finish
