# specs/REPLICATION_OPERATIONS.md: stdout is the result, stderr the log
# (OPS-1..OPS-4), the progress line (OPS-6), last success and status
# --metrics (OPS-9, OPS-10, OPS-12). No timed assertion: the progress line
# is drawn at the first report, whatever the run's length.
source "$(dirname "$0")/lib.sh"
P=$T/p OB=$T/outbox
mkdir -p "$OB"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 300 >/dev/null

# in_tty FILE CMD...: runs CMD with stdin, stdout and stderr on a pseudo-terminal
# (script(1) from bsdutils); what the terminal showed goes to FILE.
in_tty() {
  local out=$1; shift
  local cmd
  printf -v cmd '%q ' "$@"
  script -qec "$cmd" /dev/null </dev/null >"$out" 2>&1
}
have_script=1
command -v script >/dev/null || have_script=0

test_case "OPS-1 stdout is the same at every log level, format and progress setting"
R=$T/r1
"$AERODB_REPL" ship-wal -D "$P" --to "$OB" --max-segment-bytes 20000 >/dev/null 2>&1
base=""
for args in "--log-level off" "--log-level trace" "--log-level debug --log-format json" "--log-level info --progress" "--no-progress --log-level error"; do
  rm -rf "$R"
  # shellcheck disable=SC2086
  run "$AERODB_REPL" apply-wal -D "$R" --from "$OB" --json $args
  expect_rc 0
  got=$(jq -S 'del(.data_dir)' <<<"$OUT")
  if [ -z "$base" ]; then base=$got; elif [ "$got" = "$base" ]; then pass; else fail "apply-wal --json differs with $args"; fi
  run "$AERODB_REPL" status -D "$R" --from "$OB" --json $args
  if [ "$args" = "--log-level off" ]; then status_base=$OUT; elif [ "$OUT" = "$status_base" ]; then pass; else fail "status --json differs with $args"; fi
  # stdout holds no log line and no progress: one JSON document.
  jq -e . >/dev/null <<<"$OUT" && pass || fail "stdout is not one JSON document with $args"
done

test_case "OPS-2 a result written to a full device is 10, never 0"
if [ -w /dev/full ]; then
  RCF=0; "$AERODB_REPL" status -D "$P" --json >/dev/full 2>"$T/full.err" || RCF=$?
  [ "$RCF" = 10 ] && pass || fail "status --json >/dev/full exited $RCF"
  grep -qF "cannot write 'stdout': No space left on device" "$T/full.err" && pass || fail "$(cat "$T/full.err")"
  grep -q "^hint: " "$T/full.err" && pass || fail "no hint: $(cat "$T/full.err")"
  mkdir -p "$T/fullout"
  RCF=0; "$AERODB_REPL" ship-wal -D "$P" --to "$T/fullout" >/dev/full 2>/dev/null || RCF=$?
  [ "$RCF" = 10 ] && pass || fail "ship-wal >/dev/full exited $RCF"
  [ -n "$(ls "$T/fullout"/*.seg 2>/dev/null)" ] && pass || fail "the work was not done"
  # --help and --version are results too, for both programs.
  for args in "--version" "status --help" "--help"; do
    # shellcheck disable=SC2086
    RCF=0; "$AERODB_REPL" $args >/dev/full 2>/dev/null || RCF=$?
    [ "$RCF" = 10 ] && pass || fail "aerodb-repl $args >/dev/full exited $RCF"
  done
  RCF=0; "$AERODB" --version >/dev/full 2>/dev/null || RCF=$?
  [ "$RCF" = 10 ] && pass || fail "aerodb --version >/dev/full exited $RCF"
else
  echo "SKIP [OPS-2 a result written to a full device]: no writable /dev/full"
fi

test_case "OPS-2 the problem report is printed at --log-level off and in json format"
for args in "--log-level off" "--log-format json" "--log-format json --log-level off"; do
  # shellcheck disable=SC2086
  run "$AERODB_REPL" apply-wal -D "$T/r1" --from "$T/nope" $args
  expect_rc 9
  expect_err_contains "inbox not found '$T/nope': no such directory"
  expect_err_contains "hint: give the directory the transport delivers segments into"
  # shellcheck disable=SC2086
  run "$AERODB_REPL" status -D "$T/nonode" --json $args
  expect_rc 9
  expect_json .ok false
  expect_json .exit 9
done
# json format: the same failure is an error record too; text format adds no line.
run "$AERODB_REPL" apply-wal -D "$T/r1" --from "$T/nope" --log-format json
rec=$(grep '^{' <<<"$ERR" | jq -c 'select(.level == "error")')
[ "$(jq -r .code <<<"$rec")" = "not-found" ] && [ "$(jq -r .exit <<<"$rec")" = "9" ] && pass || fail "no error record: $ERR"
jq -e '.message | startswith("inbox not found")' >/dev/null <<<"$rec" && pass || fail "error record message: $rec"
run "$AERODB_REPL" apply-wal -D "$T/r1" --from "$T/nope"
[ "$(wc -l <<<"$ERR")" = 2 ] && pass || fail "text format added lines to the problem report: $ERR"

test_case "OPS-3 info is a summary; debug adds per-segment lines; warn hides the summary"
P3=$T/p3 O3=$T/o3
mkdir -p "$O3"
"$AERODB" init -D "$P3" >/dev/null
"$AERODB" load -D "$P3" --write-sets 100 >/dev/null
run "$AERODB_REPL" ship-wal -D "$P3" --to "$O3" --max-segment-bytes 20000 --log-level debug
expect_rc 0
nseg=$(ls "$O3"/*.seg | wc -l)
[ "$nseg" -gt 2 ] && pass || fail "expected several segments, got $nseg"
[ "$(grep -c ' debug ship-wal: published ' <<<"$ERR")" = "$nseg" ] && pass || fail "debug: not one line per segment:"$'\n'"$ERR"
grep -q ' info ship-wal: published '"$nseg"' segments (commits 1\.\.100, .*) to '"'$O3'" <<<"$ERR" && pass || fail "no info summary: $ERR"
rm -rf "$T/r3"
run "$AERODB_REPL" apply-wal -D "$T/r3" --from "$O3"
expect_rc 0
[ "$(wc -l <<<"$ERR")" = 1 ] && pass || fail "info is not one line: $ERR"
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z info apply-wal: bootstrapped: applied '"$nseg"' segments \(commits 1\.\.100\) from' <<<"$ERR" && pass || fail "info line: $ERR"
! grep -q ' debug ' <<<"$ERR" && pass || fail "debug lines at info: $ERR"
run "$AERODB_REPL" apply-wal -D "$T/r3" --from "$O3" --log-level warn
expect_rc 0
[ -z "$ERR" ] && pass || fail "warn level printed: $ERR"
run "$AERODB_REPL" apply-wal -D "$T/r3" --from "$O3" --log-level debug
grep -q ' debug apply-wal: exit 0' <<<"$ERR" && pass || fail "no debug exit line: $ERR"
run "$AERODB_REPL" apply-wal -D "$T/r3" --from "$O3" --log-level loud
expect_rc 2

test_case "OPS-4 json log lines parse and carry time, level, command, message and fields"
rm -rf "$T/r4"
run "$AERODB_REPL" --log-format json --log-level debug apply-wal -D "$T/r4" --from "$O3"
expect_rc 0
n=0
while IFS= read -r line; do
  n=$((n + 1))
  jq -e 'type == "object" and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")) and (.level | IN("trace","debug","info","warn","error")) and .command == "apply-wal" and (.message | type == "string")' >/dev/null <<<"$line" && pass || fail "not a log object: $line"
done <<<"$ERR"
[ "$n" -gt "$nseg" ] && pass || fail "expected more than $nseg lines, got $n"
info=$(jq -c 'select(.level == "info")' <<<"$ERR")
[ "$(jq -r .segments <<<"$info")" = "$nseg" ] && pass || fail "fields: $info"
[ "$(jq -r .applied_commit <<<"$info")" = 100 ] && pass || fail "fields: $info"
[ "$(jq -c .commits <<<"$info")" = "[1,100]" ] && pass || fail "fields: $info"
[ "$(jq -r .bootstrapped <<<"$info")" = true ] && pass || fail "fields: $info"
# A two-word command is named whole; snapshot export's fields.
run "$AERODB_REPL" snapshot export -D "$P3" -o "$T/s4.tar.zst" --log-format json
expect_rc 0
[ "$(jq -r .command <<<"$ERR")" = "snapshot export" ] && pass || fail "command: $ERR"
[ "$(jq -r .boundary_commit <<<"$ERR")" = 100 ] && pass || fail "fields: $ERR"

if ((have_script)); then
  test_case "OPS-6 under a terminal ship-wal, apply-wal, export, install and verify draw a progress line"
  P6=$T/p6 O6=$T/o6
  mkdir -p "$O6"
  "$AERODB" init -D "$P6" >/dev/null
  "$AERODB" load -D "$P6" --write-sets 400 >/dev/null
  in_tty "$T/t1" "$AERODB_REPL" ship-wal -D "$P6" --to "$O6" --max-segment-bytes 20000
  in_tty "$T/t2" "$AERODB_REPL" apply-wal -D "$T/r6" --from "$O6"
  in_tty "$T/t3" "$AERODB_REPL" snapshot export -D "$P6" -o "$T/s6.tar.zst"
  in_tty "$T/t4" "$AERODB_REPL" snapshot install -D "$T/i6" "$T/s6.tar.zst"
  in_tty "$T/t5" "$AERODB_REPL" verify "$T/s6.tar.zst"
  in_tty "$T/t6" "$AERODB_REPL" verify "$O6"
  i=0
  for label in ship-wal apply-wal "snapshot export" "snapshot install" verify verify; do
    i=$((i + 1))
    f=$T/t$i
    # "\rLABEL: done/total (pct%), rate/s, ETA m:ss", the last one complete.
    grep -qaE $'\r'"$label: [0-9.]+ (B|KiB|MiB|GiB)/[0-9.]+ (B|KiB|MiB|GiB) \\([0-9]+%\\), ([0-9.]+ (B|KiB|MiB|GiB)|-- B)/s, ETA" "$f" && pass || fail "no progress line of $label: $(cat -v "$f")"
    grep -qaE "$label: ([0-9.]+ (B|KiB|MiB|GiB))/\\1 \\(100%\\), [0-9.]+ (B|KiB|MiB|GiB)/s, ETA 0:00 *"$'\r'"?\$" "$f" && pass || fail "$label: not finished at 100% with a rate and a newline: $(cat -v "$f")"
  done
  [ -d "$T/i6/replication" ] && [ -d "$T/r6/replication" ] && pass || fail "the runs under the terminal did not complete"

  test_case "OPS-6 stderr to a file: no progress line; --progress forces it; --no-progress under a terminal: none"
  rm -rf "$T/r6"
  "$AERODB_REPL" apply-wal -D "$T/r6" --from "$O6" 2>"$T/e1" >/dev/null
  ! grep -qa $'\r' "$T/e1" && ! grep -qa 'ETA' "$T/e1" && pass || fail "progress in a file: $(cat -v "$T/e1")"
  "$AERODB_REPL" verify "$T/s6.tar.zst" --progress 2>"$T/e2" >/dev/null
  grep -qaE $'\r''verify: .*\(100%\), .*/s, ETA 0:00' "$T/e2" && pass || fail "--progress printed nothing: $(cat -v "$T/e2")"
  in_tty "$T/t7" "$AERODB_REPL" verify "$T/s6.tar.zst" --no-progress
  ! grep -qa 'ETA' "$T/t7" && pass || fail "--no-progress under a terminal: $(cat -v "$T/t7")"
  grep -qa "info verify: verified" "$T/t7" && pass || fail "the log line is still there: $(cat -v "$T/t7")"
  run "$AERODB_REPL" verify "$T/s6.tar.zst" --progress --no-progress
  expect_rc 2
else
  echo "skipped: OPS-6 progress tests (no script(1) from bsdutils)"
fi

test_case "OPS-9 OPS-10 status --metrics gives a known node's values, and promtool or the parser accepts the file"
P9=$T/p9 O9=$T/o9 R9=$T/r9 M=$T/metrics
mkdir -p "$O9" "$M"
"$AERODB" init -D "$P9" >/dev/null
"$AERODB" load -D "$P9" --write-sets 120 >/dev/null
before=$(date +%s)
run "$AERODB_REPL" ship-wal -D "$P9" --to "$O9" --max-segment-bytes 20000
run "$AERODB_REPL" apply-wal -D "$R9" --from "$O9"
after=$(date +%s)
ls_ok=$(jq -r '.unix_seconds' "$R9/replication/last-success/apply-wal.json")
[ "$ls_ok" -ge "$before" ] && [ "$ls_ok" -le "$after" ] && pass || fail "apply-wal last success: $ls_ok"
[ "$(jq -r .commit "$P9/replication/last-success/ship-wal.json")" = 120 ] && pass || fail "ship-wal last success"
"$AERODB" load -D "$P9" --write-sets 30 --seed 3 >/dev/null
"$AERODB_REPL" ship-wal -D "$P9" --to "$O9" --max-segment-bytes 20000 >/dev/null 2>&1
run "$AERODB_REPL" status -D "$R9" --from "$O9" --json
plain_out=$OUT plain_rc=$RC
run "$AERODB_REPL" status -D "$R9" --from "$O9" --json --metrics "$M/r9.prom"
expect_rc "$plain_rc"
[ "$OUT" = "$plain_out" ] && pass || fail "--metrics changed stdout"
F=$M/r9.prom
[ -f "$F" ] && [ -z "$(ls "$M" | grep '^r9\.prom\.')" ] && pass || fail "no metrics file, or its temp left"
d="data_dir=\"$R9\""
grep -qx "aerodb_repl_applied_commit{$d} 120" "$F" && pass || fail "applied: $(cat "$F")"
grep -qx "aerodb_repl_lag_commits{$d,inbox=\"$O9\"} 30" "$F" && pass || fail "lag: $(cat "$F")"
grep -qx "aerodb_repl_epoch{$d} 1" "$F" && pass || fail "epoch"
grep -qx "aerodb_repl_halted{$d} 0" "$F" && pass || fail "halted"
grep -qx "aerodb_repl_fenced{$d} 0" "$F" && pass || fail "fenced"
grep -qE "^aerodb_repl_node_info\{$d,role=\"replica\",system_id=\"[0-9a-f]{32}\"\} 1\$" "$F" && pass || fail "info"
grep -qx "aerodb_repl_last_success_timestamp_seconds{$d,command=\"apply-wal\"} $ls_ok" "$F" && pass || fail "last success"
jq -e --argjson lag 30 '.inbox.lag == $lag and .applied_commit == 120' <<<"$OUT" >/dev/null && pass || fail "status --json disagrees"
# A strict check of the exposition format's grammar (0.0.4), line by line.
bad=$(awk '
  /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/ { h[$3]++; next }
  /^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (gauge|counter|untyped)$/ { if (!($3 in h)) print "TYPE before HELP: " $0; t[$3]++; cur = $3; next }
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*")*\})? -?[0-9]+(\.[0-9]+)?$/ {
    n = $0; sub(/[{ ].*/, "", n); if (n != cur) print "sample outside its metric: " $0; if (n !~ /^aerodb_repl_/) print "prefix: " $0; next }
  { print "bad line: " $0 }
  END { for (k in h) if (h[k] != 1 || t[k] != 1) print "HELP/TYPE not once: " k }' "$F")
[ -z "$bad" ] && pass || fail "grammar: $bad"
[ "$(tail -c1 "$F" | od -An -c | tr -d ' ')" = '\n' ] && pass || fail "no final newline"
if command -v promtool >/dev/null; then
  promtool check metrics <"$F" && pass || fail "promtool check metrics rejected the file"
else
  echo "skipped: promtool check metrics (promtool not installed)"
fi
if /usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null; then
  got=$(/usr/bin/python3 - "$F" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    assert fam.type == "gauge", fam
    for s in fam.samples:
        v[(s.name, s.labels.get("inbox", ""))] = s.value
print(int(v[("aerodb_repl_applied_commit", "")]), int(v[("aerodb_repl_lag_commits", sys.argv[1].rsplit("/metrics/", 1)[0] + "/o9")]))
PY
)
  [ "$got" = "120 30" ] && pass || fail "prometheus_client parser: '$got'"
else
  echo "skipped: prometheus_client parser (python3-prometheus-client not installed)"
fi
# Halted: 1, and status's exit (6) is unchanged by --metrics.
printf '{"format":1,"code":"corrupt","commit":1,"detail":"d","subject":"s"}\n' >"$R9/replication/halt.json"
run "$AERODB_REPL" status -D "$R9" --metrics "$F"
expect_rc 6
grep -qx "aerodb_repl_halted{$d} 1" "$F" && pass || fail "halted 1: $(cat "$F")"
# A metrics file that cannot be written: reported, 10, the old one intact.
rm -f "$R9/replication/halt.json"
cp "$F" "$T/prev.prom"
# A file-size limit of 1 KiB for the run (SIGXFSZ ignored: EFBIG), its
# stderr through a pipe outside the limit: the metrics file's write fails.
small_files() { bash -c 'trap "" XFSZ; ulimit -f 1; exec "$@"' x "$@" 2> >(cat >&2); }
[ "$(wc -c <"$F")" -gt 1024 ] && pass || fail "the metrics file is too small for the test: $(wc -c <"$F")"
run small_files "$AERODB_REPL" status -D "$R9" --metrics "$F"
expect_rc 10
expect_err_contains "metrics not written '$F': "
expect_err_contains "hint: the previous metrics file, if any, is unchanged"
cmp -s "$F" "$T/prev.prom" && pass || fail "the previous metrics file changed"
# --json says the failure that decides the exit: ok, code, exit, message,
# hint are the metrics write's, the status fields as without it (OPS-11).
run small_files "$AERODB_REPL" status -D "$R9" --metrics "$F" --json --log-level info
expect_rc 10
expect_json .ok false
expect_json .exit 10
expect_json .code io
expect_json .applied_commit 120
jq -e '.message | startswith("metrics not written")' <<<"$OUT" >/dev/null && pass || fail "no message: $OUT"
jq -e '.hint | length > 0' <<<"$OUT" >/dev/null && pass || fail "no hint: $OUT"
# The info line does not say the metrics went where they did not.
grep -q "metrics to" <<<"$ERR" && fail "logged 'metrics to' a file not written: $ERR" || pass
# 9 only when FILE's directory does not exist; one that refuses a new file
# (procfs answers ENOENT) is 10.
run "$AERODB_REPL" status -D "$R9" --metrics "$T/no-such-dir/x.prom" --json
expect_rc 9
expect_json .exit 9
run "$AERODB_REPL" status -D "$R9" --metrics /proc/aerodb-x.prom
expect_rc 10

test_case "OPS-4 a text log line stays one line when a path holds a newline"
NLB="$T/new"$'\n'"line"
cp -r "$OB" "$NLB"
run "$AERODB_REPL" apply-wal -D "$T/r-nl" --from "$NLB" --log-level info --no-progress
expect_rc 0
# Every stderr line is a log line (TIME LEVEL COMMAND: ...), the path escaped.
bad=$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [a-z]+ apply-wal: ' <<<"$ERR")
[ "$bad" = 0 ] && pass || fail "a stderr line is not a log line:"$'\n'"$ERR"
expect_err_contains "$T/new\nline"

test_case "OPS-4 a result line on stdout stays one line when a path holds a newline"
NLR="$T/rep"$'\n'"x"
run "$AERODB_REPL" apply-wal -D "$NLR" --from "$OB" --log-level off --no-progress
expect_rc 0
expect_out_contains "'$T/rep\nx': applied through commit"
# Every stdout line is a result line of its own: none starts with the path's tail.
[ "$(grep -c "^x'" <<<"$OUT")" = 0 ] && pass || fail "a result line was split:"$'\n'"$OUT"
run "$AERODB_REPL" status -D "$NLR" --log-level off
expect_rc 0
[ "$(head -1 <<<"$OUT")" = "node '$T/rep\nx'" ] && pass || fail "status's first line:"$'\n'"$OUT"
run "$AERODB_REPL" verify "$NLR" --log-level off
expect_rc 0
[ "$(head -1 <<<"$OUT")" = "verify '$T/rep\nx': data-dir" ] && pass || fail "verify's first line:"$'\n'"$OUT"

test_case "OPS-4 an inbox entry's name is escaped in apply-wal's and status's ignored lines"
ODD="$T/odd-inbox"
cp -r "$OB" "$ODD"
touch "$ODD/x"$'\n'"hint: forged" "$ODD/y"$'\033'"[2Kgone"
run "$AERODB_REPL" apply-wal -D "$T/r-odd" --from "$ODD" --log-level off --no-progress
expect_rc 0
expect_err_contains "ignored '$ODD/x\nhint: forged': not a segment name"
expect_err_contains "ignored '$ODD/y\x1b[2Kgone': not a segment name"
[ "$(grep -c '^hint: forged' <<<"$ERR")" = 0 ] && pass || fail "a forged line reached stderr:"$'\n'"$ERR"
run "$AERODB_REPL" status -D "$T/r-odd" --from "$ODD" --log-level off
expect_rc 0
expect_err_contains "ignored '$ODD/x\nhint: forged': not a segment name"
[ "$(grep -c $'\033' <<<"$ERR")" = 0 ] && pass || fail "an escape sequence reached stderr"

test_case "OPS-4 a suffix after a segment name is escaped in the reason too, in apply-wal, status and verify"
SUF="$T/suffix-inbox"
mkdir "$SUF"
first=$(ls "$OB" | grep -m1 '\.seg$')
cp "$OB/$first" "$SUF/"
touch "$SUF/$first"$'\033]0;PWNED\007\nhint: FAKE' "$SUF/$first"$'\xff\x9b'
run "$AERODB_REPL" apply-wal -D "$T/r-suf" --from "$SUF" --log-level off --no-progress
expect_rc 0
expect_err_contains "' after a segment name"
[ "$(grep -c -e $'\033' -e '^hint: FAKE' -e $'\xff' <<<"$ERR")" = 0 ] && pass || fail "apply-wal: a raw name reached stderr:"$'\n'"$ERR"
run "$AERODB_REPL" status -D "$T/r-suf" --from "$SUF" --log-level off
[ "$(grep -c -e $'\033' -e '^hint: FAKE' -e $'\xff' <<<"$ERR")" = 0 ] && pass || fail "status: a raw name reached stderr"
run "$AERODB_REPL" verify "$SUF" --log-level off
expect_out_contains "not a segment name: '\x1b]0;PWNED\x07\nhint: FAKE' after a segment name"
expect_out_contains "not a segment name: '\xff\x9b' after a segment name"
[ "$(grep -c -e $'\033' -e '^hint: FAKE' -e $'\xff' <<<"$OUT")" = 0 ] && pass || fail "verify: a raw name reached stdout:"$'\n'"$OUT"

test_case "OPS-4 a path that is not UTF-8 ships, applies, halts and fences like any other: never 70"
L1=$T/$'lat\xff'
L1E="$T/lat\xff"
P8=$T/p8
mkdir -p "$L1/out"
"$AERODB" init -D "$P8" >/dev/null
"$AERODB" load -D "$P8" --write-sets 20 >/dev/null
run "$AERODB_REPL" ship-wal -D "$P8" --to "$L1/out" --claim-archive
expect_rc 0
run "$AERODB_REPL" ship-wal -D "$P8" --to "$L1/out"
expect_rc 0
jq -e . "$P8"/replication/shipped/*.json >/dev/null && pass || fail "a shipped position is not JSON"
grep -qF "lat\\\\xff" "$P8"/replication/shipped/*.json && pass || fail "the target is not stored escaped"
run "$AERODB_REPL" apply-wal -D "$L1/r" --from "$L1/out" --report-to "$L1/out" --replica-name r8
expect_rc 0
expect_out_contains "registered 'r8' in '$L1E/out'"
run "$AERODB_REPL" apply-wal -D "$L1/r" --from "$L1/out" --report-to "$L1/out" --replica-name r8
expect_rc 0
# A corrupt segment in such an inbox halts the replica: 1, then 6.
"$AERODB" load -D "$P8" --write-sets 5 --seed 2 >/dev/null
mkdir -p "$L1/in2"
"$AERODB_REPL" ship-wal -D "$P8" --to "$L1/in2" >/dev/null 2>&1
seg=$(ls "$L1/in2"/*.seg | tail -1)
flip_byte "$seg" 300
run "$AERODB_REPL" apply-wal -D "$L1/r" --from "$L1/in2"
expect_rc 1
run "$AERODB_REPL" status -D "$L1/r"
expect_rc 6
# The old primary, after a promote, ships into the claim archive: fenced (5), recorded.
cp -r "$L1/r" "$L1/r2"
rm -f "$L1/r2/replication/halt.json"
run "$AERODB_REPL" promote -D "$L1/r2" --archive "$L1/out"
expect_rc 0
run "$AERODB_REPL" ship-wal -D "$P8" --to "$L1/out"
expect_rc 5
run "$AERODB" put -D "$P8" c/after '{}'
expect_rc 5
jq -e .fenced "$P8/replication/state.json" >/dev/null && pass || fail "the fence was not recorded"

test_case "OPS-13 with every standard descriptor closed, nothing is written into a node's files"
P13=$T/p13
"$AERODB" init -D "$P13" >/dev/null
"$AERODB" load -D "$P13" --write-sets 200 >/dev/null
mkdir -p "$T/o13"
"$AERODB_REPL" ship-wal -D "$P13" --to "$T/o13" --max-segment-bytes 20000 >/dev/null 2>&1
"$AERODB_REPL" apply-wal -D "$T/r13" --from "$T/o13" --until 50 >/dev/null 2>&1
before=$(sha256sum "$P13/wal/wal.log")
RC13=0; "$AERODB_REPL" --log-level debug --progress apply-wal -D "$T/r13" --from "$T/o13" <&- >&- 2>&- || RC13=$?
[ "$RC13" = 0 ] && pass || fail "apply-wal with closed descriptors exited $RC13"
RC13=0; "$AERODB_REPL" --log-level debug --progress snapshot export -D "$P13" -o "$T/s13.tar.zst" <&- >&- 2>&- || RC13=$?
[ "$RC13" = 0 ] && pass || fail "export with closed descriptors exited $RC13"
[ "$(sha256sum "$P13/wal/wal.log")" = "$before" ] && pass || fail "the primary's WAL changed"
run "$AERODB_REPL" verify "$T/r13"
expect_rc 0
run "$AERODB_REPL" verify "$P13"
expect_rc 0
run "$AERODB_REPL" status -D "$T/r13" --json
expect_json .applied_commit 200

test_case "OPS-11 two status --metrics FILE at once: both 0, the file always whole, no temp left"
bad=0
for i in $(seq 40); do
  "$AERODB_REPL" status -D "$P" --metrics "$T/m11.prom" >/dev/null 2>&1 & pa=$!
  "$AERODB_REPL" status -D "$P" --metrics "$T/m11.prom" >/dev/null 2>&1 & pb=$!
  ra=0; wait $pa || ra=$?; rb=0; wait $pb || rb=$?
  [ "$ra" = 0 ] && [ "$rb" = 0 ] || bad=$((bad + 1))
  grep -q '^aerodb_repl_epoch' "$T/m11.prom" || bad=$((bad + 1))
done
[ "$bad" = 0 ] && pass || fail "$bad failed checks in 40 rounds (last exits $ra $rb)"
[ -z "$(ls "$T" | grep '^m11\.prom\.')" ] && pass || fail "a temp was left: $(ls "$T")"

finish
