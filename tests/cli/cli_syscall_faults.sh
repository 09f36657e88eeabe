# Faults at the system call, below the Fs seam the C++ fault sweeps use
# (tests/crash/transient_fault_test.cc): strace --inject fails one call on one
# path of the real binaries. An I/O error from a listing, stat, open or read is
# 10 with a hint, never a shorter listing, absence, damage, a bad argument or
# a refusal (FM-139); a directory fsync that fails after the publishing rename
# undoes it, so the re-run converges (FM-53). Needs strace(1) and ptrace;
# skipped, by name, without them.
source "$(dirname "$0")/lib.sh"
if ! command -v strace >/dev/null || ! strace -f -qq -o /dev/null true 2>/dev/null; then
  echo "SKIP cli.cli_syscall_faults: needs strace(1) and ptrace"
  exit 77
fi
cd "$T" || exit 1
# LeakSanitizer cannot run under ptrace (it aborts at exit, 134): off for
# the runs strace traces; ASan and UBSan stay on.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
# fault SYSCALL ERRNO N PATH CMD...: run CMD with the Nth SYSCALL on PATH failing.
fault() {
  local sc=$1 err=$2 n=$3 path=$4
  shift 4
  run strace -f -qq -o /dev/null -P "$path" -e trace="$sc" -e inject="$sc:error=$err:when=$n" "$@"
  ERR=$(grep -v '^strace: Requested path' <<<"$ERR")
}
expect_fault() {  # 10 with a hint
  expect_rc 10
  expect_err_contains "hint: "
}

"$AERODB" init -D p >/dev/null
"$AERODB" load -D p --write-sets 40 --seed 1 >/dev/null
openssl genpkey -algorithm ed25519 -out k.pem 2>/dev/null && chmod 600 k.pem
mkdir tk out u
openssl pkey -in k.pem -pubout -out tk/k.pem 2>/dev/null
"$AERODB_REPL" ship-wal -D p --to out --signing-key k.pem >/dev/null 2>&1
"$AERODB_REPL" apply-wal -D r --from out --trusted-keys tk >/dev/null 2>&1
"$AERODB" load -D p --write-sets 5 --seed 2 >/dev/null
"$AERODB_REPL" ship-wal -D p --to u >/dev/null 2>&1

test_case "FM-139 a replica's trusted-key listing failing is 10: no unsigned segment applied"
fault getdents64 EIO 1 r/replication/trusted-keys "$AERODB_REPL" apply-wal -D r --from u
expect_fault
run "$AERODB_REPL" status -D r --json
expect_json .applied_commit 40

test_case "FM-139 an inbox listing failing is 10 for status, verify, check-history and apply-wal"
for cmd in "status -D r --from out" "verify out" "check-history -D r --archive out" "apply-wal -D r --from out"; do
  # shellcheck disable=SC2086
  fault getdents64 EIO 1 out "$AERODB_REPL" $cmd
  expect_fault
done

test_case "FM-139 prune with its archive listing failing is 10 and removes nothing"
mkdir A
"$AERODB_REPL" ship-wal -D p --to A --max-segment-bytes 1 >/dev/null 2>&1
"$AERODB_REPL" snapshot export -D p -o A/snap.tar.zst >/dev/null 2>&1
before=$(ls A | wc -l)
for n in 1 2; do
  fault getdents64 EIO "$n" A "$AERODB_REPL" prune --archive A --keep-snapshots 1
  expect_fault
done
[ "$(ls A | wc -l)" = "$before" ] && pass || fail "prune removed files on a failed listing"

test_case "FM-139 a signed ship-wal whose look at the segment's name fails is 10; the re-run publishes it signed"
mkdir sig
seg=$(printf '%08x-%016x-%016x.seg' 1 1 45)  # every commit in one segment
fault newfstatat EIO 1 "sig/$seg" "$AERODB_REPL" ship-wal -D p --to sig --signing-key k.pem
expect_fault
run "$AERODB_REPL" ship-wal -D p --to sig --signing-key k.pem
expect_rc 0
[ -f "sig/$seg" ] && [ -f "sig/$seg.sig" ] && pass || fail "published without its signature: $(ls sig)"

test_case "FM-139 verify of a node whose snapshot listing or WAL read fails is 10, never clean or damage"
"$AERODB" checkpoint -D p >/dev/null
fault getdents64 EIO 1 p/snapshots "$AERODB_REPL" verify p
expect_fault
fault read EIO 1 r/wal/wal.log "$AERODB_REPL" verify r
expect_fault
grep -q '^damage' <<<"$OUT" && fail "a damage finding from a failed read: $OUT" || pass

test_case "FM-139 verify of an archive whose open or read fails is 10, never read as a WAL file"
"$AERODB_REPL" snapshot export -D p -o s.tar.zst >/dev/null 2>&1
for sc in openat pread64; do
  for n in 1 2; do
    fault "$sc" EIO "$n" s.tar.zst "$AERODB_REPL" verify s.tar.zst
    expect_fault
  done
done

test_case "FM-139 ship-wal's target and install's own files: a failed stat is 10, not absent"
fault newfstatat EIO 1 out "$AERODB_REPL" ship-wal -D p --to out
expect_fault
fault newfstatat EIO 1 ./.r2.install.tmp/wal/wal.log "$AERODB_REPL" snapshot install -D r2 s.tar.zst
expect_fault
[ ! -e r2 ] && pass || fail "r2 was created"

test_case "FM-139 key files: a failed fstat, read or open is 10 with a hint, never a bad key"
head -c 32 /dev/urandom > ek.key && chmod 600 ek.key
mkdir keys && cp ek.key keys/ && chmod 600 keys/ek.key
fault newfstatat EIO 1 ek.key "$AERODB_REPL" ship-wal -D p --to u --encryption-key ek.key
expect_fault
fault read EIO 1 k.pem "$AERODB_REPL" snapshot export -D p -o s1.tar.zst --signing-key k.pem
expect_fault
fault openat EMFILE 1 k.pem "$AERODB_REPL" snapshot export -D p -o s2.tar.zst --signing-key k.pem
expect_fault
mkdir enc
"$AERODB_REPL" ship-wal -D p --to enc --encryption-key ek.key >/dev/null 2>&1
fault getdents64 EIO 1 keys "$AERODB_REPL" apply-wal -D r3 --from enc --encryption-keys keys
expect_fault

test_case "FM-53 a directory fsync failing after export's, install's or init's rename undoes it: the re-run converges"
mkdir o sub
fault fsync EIO 1 o "$AERODB_REPL" snapshot export -D p -o o/s.tar.zst
expect_fault
[ ! -e o/s.tar.zst ] && pass || fail "the archive was left after a failure"
run "$AERODB_REPL" snapshot export -D p -o o/s.tar.zst
expect_rc 0
fault fsync EIO 1 sub "$AERODB_REPL" snapshot install -D sub/r2 s.tar.zst
expect_fault
[ ! -e sub/r2 ] && pass || fail "sub/r2 was left after a failure"
run "$AERODB_REPL" snapshot install -D sub/r2 s.tar.zst
expect_rc 0
if [ -n "${SHARED:-}" ] && [ -d "$SHARED/fixtures/aerodb-upstream/mvcc" ]; then
  cp -a "$SHARED/fixtures/aerodb-upstream/mvcc" d && rm -f d/wal-full.log d/expected*.jsonl
  fault fsync EIO 1 "$PWD/d" "$AERODB_REPL" init -D d
  expect_fault
  run "$AERODB_REPL" init -D d
  expect_rc 0
else
  echo "SKIP FM-53 init part: needs ../shared (AeroDB's own directories)"
fi

test_case "FM-139 ship-wal into another database's target whose newest segment cannot be read is 10, nothing published"
"$AERODB" init -D q >/dev/null
"$AERODB" load -D q --write-sets 10 --seed 3 >/dev/null
mkdir Q
"$AERODB_REPL" ship-wal -D q --to Q >/dev/null 2>&1
theirs=$(ls Q)
fault openat EIO 1 "Q/$theirs" "$AERODB_REPL" ship-wal -D p --to Q
expect_fault
[ "$(ls Q)" = "$theirs" ] && pass || fail "published into another database's target: $(ls Q)"
run "$AERODB_REPL" ship-wal -D p --to Q
expect_rc 5

test_case "FM-139 verify of a node whose wal/wal.log cannot be looked at is 10, never 'no log'"
fault newfstatat EIO 1 p/wal/wal.log "$AERODB_REPL" verify p
expect_fault

test_case "FM-53 a signed export whose sidecar or archive is not made durable leaves neither; the re-run signs and exports"
mkdir so
for n in 1 2; do
  fault fsync EIO "$n" so "$AERODB_REPL" snapshot export -D p -o so/s.tar.zst --signing-key k.pem
  expect_fault
  [ -z "$(ls so)" ] && pass || fail "left after fsync $n failed: $(ls so)"
  "$AERODB" load -D p --write-sets 2 --seed "$n" >/dev/null
  run "$AERODB_REPL" snapshot export -D p -o so/s.tar.zst --signing-key k.pem
  expect_rc 0
  rm -f so/*
done

test_case "FM-53 install into an empty directory the operator made: the undo leaves it there, empty"
mkdir -p sub3/r
fault fsync EIO 1 sub3 "$AERODB_REPL" snapshot install -D sub3/r s.tar.zst
expect_fault
[ -d sub3/r ] && [ -z "$(ls -A sub3/r)" ] && pass || fail "sub3/r: $(ls -A sub3 sub3/r 2>&1)"
run "$AERODB_REPL" snapshot install -D sub3/r s.tar.zst
expect_rc 0

test_case "FM-139 promote, rejoin and an epoch-2 node's open: a failed listing is 10, never damage or the wrong role"
"$AERODB" init -D pp >/dev/null
"$AERODB" load -D pp --write-sets 20 --seed 5 >/dev/null
mkdir CA
"$AERODB_REPL" ship-wal -D pp --to CA --claim-archive >/dev/null 2>&1
"$AERODB_REPL" apply-wal -D rr --from CA >/dev/null 2>&1
fault getdents64 EIO 1 "$PWD/rr/replication/history" "$AERODB_REPL" promote -D rr --archive CA
expect_fault
# The re-run finishes the promotion, or finds it finished (promote(1): 5,
# "already the primary of epoch 2"): either way the node is epoch 2's primary.
"$AERODB_REPL" promote -D rr --archive CA >/dev/null 2>&1
run "$AERODB_REPL" status -D rr --json
expect_json '.role + " " + (.epoch | tostring)' "primary 2"
for cmd in "$AERODB put -D rr c/y {}" "$AERODB_REPL ship-wal -D rr --to CA"; do
  # shellcheck disable=SC2086
  fault getdents64 EIO 1 "$PWD/rr/replication/history" $cmd
  expect_fault
done
"$AERODB" load -D rr --write-sets 3 --seed 6 >/dev/null
"$AERODB_REPL" ship-wal -D rr --to CA >/dev/null 2>&1
fault getdents64 EIO 1 CA "$AERODB_REPL" rejoin -D pp --archive CA
expect_fault

test_case "FM-139 status --metrics leaves no temp file when a check of it fails"
mkdir m
strace -qq -y -o tr -e trace=newfstatat "$AERODB_REPL" status -D p --metrics m/node.prom >/dev/null 2>&1
N=$(grep -n 'm/node.prom\..*\.tmp' tr | head -1 | cut -d: -f1)
if [ -n "$N" ]; then
  run strace -qq -o /dev/null -e trace=newfstatat -e inject="newfstatat:error=EIO:when=$N" \
    "$AERODB_REPL" status -D p --metrics m/node.prom
  expect_rc 10
  [ "$(ls -a m | grep -c '\.tmp$')" = 0 ] && pass || fail "left: $(ls -a m)"
else
  fail "no fstat of the metrics temp file to fail"
fi

finish
