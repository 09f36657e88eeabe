# Black-box tests of check-history (RECOV-8): one relation, one exit code.
source "$(dirname "$0")/lib.sh"
P=$T/p R=$T/r A=$T/archive
mkdir -p "$A"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 30 >/dev/null
"$AERODB_REPL" ship-wal -D "$P" --to "$A" --claim-archive >/dev/null
"$AERODB_REPL" apply-wal -D "$R" --from "$A" >/dev/null 2>&1

test_case "RECOV-8 identical 0, behind 3, ahead 11"
run "$AERODB_REPL" check-history -D "$P" -D "$R"
expect_rc 0
expect_out "identical '$P' and '$R': through commit 30"
if grep -q '^hint:' <<<"$ERR"; then fail "identical printed a hint: $ERR"; else pass; fi
"$AERODB" put -D "$P" c/x '{}' >/dev/null 2>&1
run "$AERODB_REPL" check-history -D "$R" -D "$P" --json
expect_rc 3
expect_json .relation behind
expect_json .commits 1
expect_json '.hint | contains("can catch up from")' true
expect_err_contains "hint: '$R' holds nothing '$P' lacks: it can catch up from the segments of '$P' (aerodb-repl apply-wal -D $R --from INBOX)"
run "$AERODB_REPL" check-history -D "$P" --archive "$A"
expect_rc 11
expect_out "ahead '$P': it holds 1 commit '$A' lacks (through 31)"

test_case "RECOV-8 the old primary against the new one after a failover: diverged 4, epochs named"
"$AERODB_REPL" promote -D "$R" --archive "$A" >/dev/null
"$AERODB" put -D "$R" c/y '{}' >/dev/null 2>&1
run "$AERODB_REPL" check-history -D "$P" -D "$R"
expect_rc 4
expect_out "diverged '$P' and '$R': last common commit 30; they part at commit 31 (epoch 1 on the first, 2 on the second)"
expect_err_contains "hint: '$P' and '$R' are two histories after commit 30: neither can follow the other"

test_case "RECOV-8 unrelated 5; not two sides 2"
"$AERODB" init -D "$T/other" >/dev/null
run "$AERODB_REPL" check-history -D "$T/other" -D "$P" --json
expect_rc 5
expect_json .relation unrelated
run "$AERODB_REPL" check-history -D "$P"
expect_rc 2
expect_err "two histories are needed 'check-history': 1 given
hint: give two of -D DIR, --archive DIR and --snapshot FILE, in the order to compare"

finish
