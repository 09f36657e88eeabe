# The binaries run as an unprivileged user (nobody) against files this user
# may not read or remove (FM-137, FM-138): 10 with a hint naming the path,
# never absence, damage or a bad argument; housekeeping it may not do after
# its work is done is a warning. Needs root, to become nobody; skipped, by
# name, elsewhere. tests/repl/permission_test.cc models the same at the Fs
# seam for every build.
source "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
  echo "SKIP cli.cli_permissions: needs root and setpriv(1) to run as another user"
  exit 77
fi
AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
chmod 755 "$T"
if ! "${AS[@]}" test -x "$AERODB_REPL"; then
  echo "SKIP cli.cli_permissions: user nobody cannot run $AERODB_REPL (a private build directory)"
  exit 77
fi
# Not under $T: TMPDIR may be private (setup.sh makes it mode 700), and
# resolving a path (realpath) needs every ancestor searchable by nobody.
W=$(mktemp -d /tmp/aerodb-perm.XXXXXX)
trap 'rm -rf "$T" "$W"' EXIT
chmod 755 "$W" && chown 65534:65534 "$W"
if ! "${AS[@]}" realpath "$W" >/dev/null 2>&1; then
  echo "SKIP cli.cli_permissions: user nobody cannot reach $W"
  exit 77
fi
cd "$W" || exit 1
"${AS[@]}" "$AERODB" init -D p >/dev/null
"${AS[@]}" "$AERODB" load -D p --write-sets 5 >/dev/null
"${AS[@]}" mkdir out s

test_case "FM-137 as another user: export of a node whose replication/ it may not enter is 10, no archive"
chmod 000 p/replication
run "${AS[@]}" "$AERODB_REPL" snapshot export -D p -o s/a.tar
expect_rc 10
expect_err_contains "Permission denied"
expect_err_contains "hint: "
[ ! -e s/a.tar ] && pass || fail "an archive was written"
chmod 755 p/replication

test_case "FM-137 as another user: a signing key it may not read is 10, not a bad key"
openssl genpkey -algorithm ed25519 -out key.pem 2>/dev/null
chmod 600 key.pem
run "${AS[@]}" "$AERODB_REPL" ship-wal -D p --to out --signing-key key.pem
expect_rc 10
expect_err_contains "cannot read signing key 'key.pem': Permission denied"
expect_err_contains "hint: check the permissions"

test_case "FM-137 as another user: a base snapshot it may not enter is 10 for status and verify, never damage"
"${AS[@]}" cp -a p p3
"${AS[@]}" "$AERODB" checkpoint -D p3 >/dev/null
chmod 000 p3/snapshots/00000000000000000005
run "${AS[@]}" "$AERODB_REPL" status -D p3
expect_rc 10
run "${AS[@]}" "$AERODB_REPL" verify p3
expect_rc 10
grep -q "^damage" <<<"$ERR" && fail "verify reported damage: $ERR" || pass
chmod 755 p3/snapshots/00000000000000000005

test_case "FM-138 as another user: ship-wal publishes past a leftover temp it may not remove"
mkdir -m 1777 shared
touch shared/.00000001-0000000000000001-0000000000000005.seg.0123456789abcdef.tmp
run "${AS[@]}" "$AERODB_REPL" ship-wal -D p --to shared
expect_rc 0
[ "$(ls shared/*.seg | wc -l)" = 1 ] && pass || fail "nothing published: $(ls -a shared)"

test_case "FM-138 as another user: install's old tree holding a root-owned file is 0 with a warning"
"${AS[@]}" "$AERODB_REPL" ship-wal -D p --to out >/dev/null 2>&1
"${AS[@]}" "$AERODB_REPL" apply-wal -D r --from out >/dev/null 2>&1
"${AS[@]}" "$AERODB_REPL" snapshot export -D p -o s/ok.tar >/dev/null 2>&1
mkdir r/metadata/byroot && touch r/metadata/byroot/f
run "${AS[@]}" "$AERODB_REPL" snapshot install -D r --discard-existing s/ok.tar
expect_rc 0
expect_err_contains "warning: old replica not removed './.r.install.tmp"
expect_err_contains "the new replica is installed in 'r'"
run "${AS[@]}" "$AERODB_REPL" status -D r
expect_rc 0

test_case "OPS-14 a thread that cannot be started is 10 with a hint, and a re-run converges"
# RLIMIT_NPROC of 1 for nobody: its run may not start a worker thread. No
# leak check at exit (LeakSanitizer starts a thread of its own).
NOLEAK=ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
"${AS[@]}" mkdir np
one_proc() { bash -c 'ulimit -u 1 && exec "$@"' x env "$NOLEAK" "${AS[@]}" "$@"; }
for args in "ship-wal -D p --to np" "snapshot export -D p -o s/np.tar.zst"; do
  # shellcheck disable=SC2086
  run one_proc "$AERODB_REPL" $args
  expect_rc 10
  expect_err_contains "hint: "
  if grep -q "internal error" <<<"$ERR"; then fail "an internal error: $ERR"; else pass; fi
done
"${AS[@]}" "$AERODB_REPL" ship-wal -D p --to np >/dev/null 2>&1
run one_proc "$AERODB_REPL" apply-wal -D rnp --from np
expect_rc 10
expect_err_contains "cannot start a thread 'aerodb-repl': Resource temporarily unavailable"
expect_err_contains "hint: raise the limit on processes and threads (ulimit -u)"
run one_proc "$AERODB_REPL" verify np
expect_rc 10
run one_proc "$AERODB_REPL" verify np --json
expect_rc 10
expect_json .exit 10
expect_json .code io
run "${AS[@]}" "$AERODB_REPL" apply-wal -D rnp --from np
expect_rc 0
run "${AS[@]}" "$AERODB_REPL" verify rnp
expect_rc 0

test_case "FM-138 a lock file a run under umask 277 left behind (mode 0400) does not stop the next run"
"${AS[@]}" mkdir um
"${AS[@]}" "$AERODB_REPL" ship-wal -D p --to um >/dev/null 2>&1
run bash -c 'umask 277 && exec "$@"' x "${AS[@]}" "$AERODB_REPL" apply-wal -D rum --from um
expect_rc 10
[ "$(stat -c %a .rum.bootstrap.lock 2>/dev/null)" = 400 ] && pass || fail "no lock file of mode 400: $(ls -la)"
run "${AS[@]}" "$AERODB_REPL" apply-wal -D rum --from um
expect_rc 0
# A lock that cannot be created in a directory this user may not write is
# 10 "Permission denied", not the read-only fallback's "No such file" (9).
mkdir -p "$W/rootowned" && chmod 755 "$W/rootowned"
"${AS[@]}" "$AERODB_REPL" snapshot export -D p -o s/ro.tar >/dev/null 2>&1
run "${AS[@]}" "$AERODB_REPL" snapshot install -D "$W/rootowned/x" s/ro.tar
expect_rc 10
expect_err_contains "Permission denied"
# A directory of its own made under that umask stays usable by its owner.
"${AS[@]}" "$AERODB" init -D pum >/dev/null
"${AS[@]}" "$AERODB" load -D pum --write-sets 5 >/dev/null
"${AS[@]}" mkdir um2
run bash -c 'umask 277 && exec "$@"' x "${AS[@]}" "$AERODB_REPL" ship-wal -D pum --to um2
[ "$(stat -c %a pum/replication/shipped)" = 700 ] && pass || fail "replication/shipped/ is $(stat -c %a pum/replication/shipped)"
run "${AS[@]}" "$AERODB_REPL" ship-wal -D pum --to um2
expect_rc 0

finish
