# The object-store options of aerodb-repl itself (specs/REPLICATION_OBJECT_STORE.md
# OBJ-30): --s3-endpoint, --s3-region, --s3-path-style, accepted before or
# after any subcommand, beating the environment; no secret is ever printed.
# Against the in-repo mock (tests/support/s3_mock.py), started here with a
# region of its own; skipped, by name, without /usr/bin/python3.
source "$(dirname "$0")/lib.sh"
if [ ! -x /usr/bin/python3 ]; then
  echo "SKIP cli.cli_s3_flags: no /usr/bin/python3 for the S3 mock"
  exit 77
fi
SECRET='flags-secret/Value+42' REGION=eu-flags-1
/usr/bin/python3 "$SRC/tests/support/s3_mock.py" --port-file "$T/port" --access AKIDFLAGS --secret "$SECRET" \
  --region "$REGION" >"$T/mock.log" 2>&1 &
MOCK=$!
trap 'kill "$MOCK" 2>/dev/null; wait "$MOCK" 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 250); do [ -s "$T/port" ] && break; sleep 0.04; done
EP=http://127.0.0.1:$(cat "$T/port")
export AWS_ACCESS_KEY_ID=AKIDFLAGS AWS_SECRET_ACCESS_KEY=$SECRET
unset AERODB_S3_CONFIG AERODB_S3_REGION AERODB_S3_PATH_STYLE AWS_SESSION_TOKEN
# The environment names a port nothing listens on: only the option reaches the mock.
export AERODB_S3_ENDPOINT=http://127.0.0.1:9
P=$T/p A=s3://bucket/flags
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 20 >/dev/null

no_secret() {
  if grep -q -e "$SECRET" -e "Signature=" <<<"$OUT$ERR"; then fail "a secret was printed: $OUT $ERR"; else pass; fi
}

test_case "OBJ-30 --s3-endpoint and --s3-region reach the store, no secret is printed"
run "$AERODB_REPL" --s3-endpoint "$EP" --s3-region "$REGION" --s3-path-style ship-wal -D "$P" --to "$A" --json
expect_rc 0
expect_json .shipped_commit 20
no_secret
# After the subcommand too, and at debug level nothing secret is logged.
run "$AERODB_REPL" apply-wal -D "$T/r" --from "$A" --s3-endpoint "$EP" --s3-region "$REGION" --log-level debug --json
expect_rc 0
expect_json .applied_commit 20
no_secret
# The region is the option's: the store refuses another one (403, 10).
run "$AERODB_REPL" verify "$A" --s3-endpoint "$EP"
expect_rc 10
expect_err_contains "403"
no_secret
# Without the option the environment's endpoint is used (nothing listens there).
AERODB_S3_REGION=$REGION run "$AERODB_REPL" verify "$A"
expect_rc 10
expect_err_contains "Couldn't connect to server"
expect_err_contains "hint: check the endpoint (--s3-endpoint or AERODB_S3_ENDPOINT)"
no_secret
AERODB_S3_REGION=$REGION run "$AERODB_REPL" verify "$A" --s3-endpoint "$EP" --json
expect_rc 0

test_case "OBJ-30 an endpoint that is not an http(s) URL is 2"
run "$AERODB_REPL" --s3-endpoint ftp://127.0.0.1:9 verify "$A"
expect_rc 2
expect_err_contains "'--s3-endpoint'"

test_case "OBJ-30 libcurl that cannot be loaded is 10 with a hint, and a run into a directory never loads it"
# libcurl is dlopen'ed when the first s3:// archive is opened
# (lib/s3/libcurl_loader.h). /dev/null mounted over the shared object, in a
# mount namespace of this case only, makes it unloadable (needs root).
CURL_SO=$(ldconfig -p | awk '/libcurl\.so\.4 /{print $NF; exit}')
if [ "$(id -u)" != 0 ] || [ -z "$CURL_SO" ] || ! unshare -m true 2>/dev/null; then
  echo "SKIP [$CURRENT]: needs root, unshare(1) and libcurl.so.4 in ldconfig's cache"
else
  without_curl() { unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$CURL_SO" "$@"; }
  run without_curl "$AERODB_REPL" --s3-endpoint "$EP" --s3-region "$REGION" --s3-path-style verify "$A"
  expect_rc 10
  expect_err_contains "cannot load libcurl 'libcurl.so.4'"
  expect_err_contains "hint: install Debian's libcurl4"
  mkdir -p "$T/dir"
  run without_curl "$AERODB_REPL" ship-wal -D "$P" --to "$T/dir" --json
  expect_rc 0
  expect_json .shipped_commit 20
fi

finish
