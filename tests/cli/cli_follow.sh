# ship-wal --follow and apply-wal --follow (specs/REPLICATION_FOLLOW.md):
# usage, ending codes, cuts by delay, and stops by signal at random points
# under a steady writer. Kept short (well under a minute); no timed assertion:
# waits are bounded loops that fail only when nothing happens at all.
source "$(dirname "$0")/lib.sh"
P=$T/p R=$T/r OB=$T/outbox
mkdir -p "$OB"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 50 >/dev/null

applied() { "$AERODB_REPL" status -D "$1" --json 2>/dev/null | jq -r '.applied_commit // 0'; }
# until_true CMD...: runs CMD every 50 ms until it succeeds; at most ~50 s.
until_true() {
  local i
  for i in $(seq 1000); do "$@" && return 0; sleep 0.05; done
  return 1
}
# caught PID: the process has installed its SIGTERM and SIGINT handlers
# (SigCgt bits 15 and 2), so a signal now tests the handler, not the loader.
caught() {
  local m
  m=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$m" ] && (( (16#$m & 0x4002) == 0x4002 ))
}
same_as_primary() { [ "$(applied "$R")" = "$(applied "$P")" ]; }

test_case "FOLLOW-3 --max-delay-ms and --poll-interval-ms need --follow, --follow excludes --until"
run "$AERODB_REPL" ship-wal -D "$P" --to "$OB" --max-delay-ms 5
expect_rc 2
run "$AERODB_REPL" apply-wal -D "$R" --from "$OB" --poll-interval-ms 5
expect_rc 2
run "$AERODB_REPL" apply-wal -D "$R" --from "$OB" --follow --until 3
expect_rc 2

test_case "FOLLOW-3 a run that ends the follower gives its code: no target is 9, no inbox is 9"
run timeout 60 "$AERODB_REPL" ship-wal -D "$P" --to "$T/nowhere" --follow
expect_rc 9
expect_err_contains "target not found '$T/nowhere'"
run timeout 60 "$AERODB_REPL" apply-wal -D "$R" --from "$T/nowhere" --follow
expect_rc 9
expect_err_contains "inbox not found '$T/nowhere'"

test_case "FOLLOW-2 a run that stops at a gap writes its lines when it ends, not when the follower exits"
GA=$T/gap-arch GI=$T/gap-inbox GR=$T/gap-r
mkdir -p "$GA" "$GI"
"$AERODB_REPL" ship-wal -D "$P" --to "$GA" --max-segment-bytes 4000 >/dev/null 2>&1
mapfile -t segs < <(ls "$GA" | grep '\.seg$')
cp "$GA/${segs[0]}" "$GI/"
"$AERODB_REPL" apply-wal -D "$GR" --from "$GI" --follow --poll-interval-ms 50 >"$T/gap.out" 2>"$T/gap.err" &
follower=$!
until_true grep -q "bootstrapped replica\|applied through commit" "$T/gap.out" && pass || fail "the first run printed nothing"
# The fourth, then the second (the third never comes): whenever the
# follower runs, the run that applies the second stops at the gap (3).
cp "$GA/${segs[3]}" "$GI/"
cp "$GA/${segs[1]}" "$GI/"
until_true grep -q "before stopping" "$T/gap.out" && pass ||
  fail "the run that stopped at the gap printed nothing while the follower ran:"$'\n'"$(cat "$T/gap.out")"
kill -TERM "$follower"; wait "$follower"

test_case "FOLLOW-5 segments cut by delay are accepted by apply-wal and verify"
"$AERODB_REPL" ship-wal -D "$P" --to "$OB" --follow --max-delay-ms 50 --json >"$T/ship.jsonl" 2>"$T/ship.err" &
ship=$!
"$AERODB_REPL" apply-wal -D "$R" --from "$OB" --follow --json >"$T/apply.jsonl" 2>"$T/apply.err" &
apply=$!
until_true same_as_primary || fail "the replica did not reach commit 50"
for i in $(seq 10); do
  "$AERODB" put -D "$P" "docs/d$i" "{\"i\":$i}" >/dev/null
  sleep 0.12  # longer than the delay: each put is shipped on its own
done
until_true same_as_primary && pass || fail "the replica did not follow: $(applied "$R") of $(applied "$P")"
kill -TERM "$ship" "$apply"
wait "$ship"; rc_ship=$?
wait "$apply"; rc_apply=$?
[ "$rc_ship" = 0 ] && [ "$rc_apply" = 0 ] && pass || fail "exits after SIGTERM: ship $rc_ship, apply $rc_apply; $(cat "$T/ship.err" "$T/apply.err")"
# One JSON object a line, one line per run that shipped: the 10 puts came as
# several runs (cuts by delay), not one at the end.
runs=$(jq -s 'length' "$T/ship.jsonl")
[ "$runs" -ge 3 ] && pass || fail "ship-wal --follow shipped in $runs runs"
jq -e -s 'all(.ok) and ([.[].segments[]] | length) >= 3' "$T/ship.jsonl" >/dev/null && pass || fail "$(cat "$T/ship.jsonl")"
[ "$(jq -s '.[-1].applied_commit' "$T/apply.jsonl")" = 60 ] && pass || fail "apply-wal's last run: $(tail -1 "$T/apply.jsonl")"
run "$AERODB_REPL" verify "$OB"
expect_rc 0
[ "$("$AERODB" scan -D "$R" 2>/dev/null)" = "$("$AERODB" scan -D "$P" 2>/dev/null)" ] && pass || fail "replica and primary differ"

test_case "FOLLOW-4 SIGTERM or SIGINT at random points under a steady writer: every follower exits 0 and the re-run converges"
( n=0; while [ ! -e "$T/stop-writer" ]; do
    n=$((n + 1)); "$AERODB" put -D "$P" "w/$n" "{\"n\":$n,\"pad\":\"$(printf '%0200d' "$n")\"}" >/dev/null || exit 1
  done ) &
writer=$!
for it in $(seq 12); do
  # Small segments: a run crosses segment boundaries, where a stop lands.
  poll=0; ((it % 2)) && poll=1
  AERODB_REPL_FOLLOW_POLL=$poll "$AERODB_REPL" ship-wal -D "$P" --to "$OB" --follow \
    --max-segment-bytes 1500 --max-delay-ms $((RANDOM % 3 * 20)) --poll-interval-ms 20 >/dev/null 2>"$T/s.err" &
  ship=$!
  AERODB_REPL_FOLLOW_POLL=$poll "$AERODB_REPL" apply-wal -D "$R" --from "$OB" --follow \
    --poll-interval-ms 20 >/dev/null 2>"$T/a.err" &
  apply=$!
  until_true caught "$ship" && until_true caught "$apply" || fail "iteration $it: handlers never installed"
  sleep "$(printf '0.%03d' $((RANDOM % 400)))"
  sig=TERM; ((RANDOM % 2)) && sig=INT
  kill -"$sig" "$ship"
  sleep "$(printf '0.%03d' $((RANDOM % 100)))"
  kill -"$sig" "$apply"
  wait "$ship"; rc_ship=$?
  wait "$apply"; rc_apply=$?
  if [ "$rc_ship" = 0 ] && [ "$rc_apply" = 0 ]; then pass; else
    fail "iteration $it (SIG$sig, poll=$poll): ship $rc_ship, apply $rc_apply: $(cat "$T/s.err" "$T/a.err")"
  fi
  # Nothing half-written left in the outbox by a stopped ship-wal.
  left=$(find "$OB" -name '.*.tmp')
  [ -z "$left" ] && pass || fail "iteration $it: temp files left: $left"
done
touch "$T/stop-writer"
wait "$writer" || fail "the writer failed"
# The re-run converges: one-shot runs finish what the stopped followers left.
run "$AERODB_REPL" ship-wal -D "$P" --to "$OB" --max-segment-bytes 1500
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$R" --from "$OB"
expect_rc 0
same_as_primary && pass || fail "replica at $(applied "$R"), primary at $(applied "$P")"
[ "$("$AERODB" scan -D "$R" 2>/dev/null)" = "$("$AERODB" scan -D "$P" 2>/dev/null)" ] && pass || fail "replica and primary differ"
# No segment published twice differently (LOG-4 would have ended a follower
# with 4), every one whole.
run "$AERODB_REPL" verify "$OB"
expect_rc 0
test_case "RET-3 OPS-9 apply-wal --follow registers and records its success at its first run, even one that applies nothing"
RA=$T/reg-archive
mkdir -p "$RA"
"$AERODB_REPL" apply-wal -D "$R" --from "$OB" >/dev/null 2>&1  # caught up: the follower's first run applies nothing
rm -f "$R/replication/last-success/apply-wal.json"
"$AERODB_REPL" apply-wal -D "$R" --from "$OB" --follow --report-to "$RA" --replica-name r1 \
  >"$T/reg.out" 2>"$T/reg.err" &
follower=$!
until_true test -f "$RA/replica-r1.json" && pass || fail "no registration: $(cat "$T/reg.err")"
until_true test -f "$R/replication/last-success/apply-wal.json" && pass || fail "no last-success record"
kill -TERM "$follower"; wait "$follower"

test_case "FOLLOW-3 RET-3 a registration refused ends apply-wal --follow with 5, as the one-shot run"
"$AERODB_REPL" apply-wal -D "$T/r2" --from "$OB" >/dev/null 2>&1
run timeout 20 "$AERODB_REPL" apply-wal -D "$T/r2" --from "$OB" --follow --report-to "$RA" --replica-name r1
expect_rc 5
expect_err_contains "registration of another replica"

finish
