# The object-store settings refused before any request, with no store at all
# (specs/REPLICATION_OBJECT_STORE.md OBJ-1, OBJ-30, OBJ-32): an upper-case
# S3:// location, an endpoint with no host or a bad port, a control
# character in the region or a credential (a header injected on the wire).
# The endpoint that is accepted names a port nothing listens on: a request
# made would be 10 after five attempts, never 2.
source "$(dirname "$0")/lib.sh"
SECRET='settings-secret/Value+42'
export AWS_ACCESS_KEY_ID=AKIDSETTINGS AWS_SECRET_ACCESS_KEY=$SECRET
unset AERODB_S3_CONFIG AERODB_S3_REGION AERODB_S3_PATH_STYLE AWS_SESSION_TOKEN
export AERODB_S3_ENDPOINT=http://127.0.0.1:9
P=$T/p A=s3://bucket/settings
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 5 >/dev/null

test_case "OBJ-1 an upper-case S3:// location is 2 with a hint to write s3://, never a local path"
cd "$T" || exit 1
for loc in S3://bucket/x S3:/bucket/x; do
  run "$AERODB_REPL" ship-wal -D "$P" --to "$loc"
  expect_rc 2
  expect_err_contains "invalid s3 location '$loc'"
  expect_err_contains "hint: write s3://BUCKET/PREFIX"
  mkdir -p "$T/$loc"  # the trial's next step: an outbox made by hand is still not used
  run "$AERODB_REPL" ship-wal -D "$P" --to "$loc"
  expect_rc 2
  if [ -n "$(ls -A "$T/$loc")" ]; then fail "shipped to the local path $T/$loc"; else pass; fi
done
run "$AERODB_REPL" apply-wal -D "$T/r" --from S3://bucket/x
expect_rc 2
expect_err_contains "in lower case"
run "$AERODB_REPL" verify S3://bucket/x
expect_rc 2
expect_err_contains "hint: write s3://BUCKET/PREFIX"
cd - >/dev/null || exit 1

test_case "OBJ-30 an endpoint with no host or a bad port is 2 before any request"
for ep in http://:80 http:///x http://a:x 'http://a b' $'http://a\nb' http://a:0 http://a:65536; do
  run "$AERODB_REPL" --s3-endpoint "$ep" verify "$A"
  expect_rc 2
  expect_err_contains "invalid value '--s3-endpoint'"
  expect_err_contains "hint: give the store's URL"
  AERODB_S3_ENDPOINT=$ep run "$AERODB_REPL" verify "$A"
  expect_rc 2
  expect_err_contains "invalid value 'AERODB_S3_ENDPOINT'"
done
echo '{"endpoint": "http://a:x"}' >"$T/ep.json"
AERODB_S3_CONFIG=$T/ep.json AERODB_S3_ENDPOINT= run "$AERODB_REPL" verify "$A"
expect_rc 2
expect_err_contains "'endpoint' 'http://a:x' is not an http:// or https:// URL with a host: a bad port"

test_case "OBJ-32 a line break in the region or a credential is 2 naming the setting and never the secret"
INJECT=$'eu-1\r\nX-Injected: yes'
run "$AERODB_REPL" --s3-region "$INJECT" ship-wal -D "$P" --to "$A"
expect_rc 2
expect_err_contains "invalid value '--s3-region'"
expect_err_contains "hint: give the store's region"
AERODB_S3_REGION=$INJECT run "$AERODB_REPL" verify "$A"
expect_rc 2
expect_err_contains "invalid value 'AERODB_S3_REGION'"
printf '{"region": "eu-1\\r\\nX-Injected: yes"}' >"$T/region.json"
AERODB_S3_CONFIG=$T/region.json run "$AERODB_REPL" verify "$A"
expect_rc 2
expect_err_contains "'region'"
for var in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; do
  env "$var=$SECRET"$'\r\nX-Injected: yes' "$AERODB_REPL" verify "$A" >"$T/out" 2>"$T/err"
  RC=$? ERR=$(cat "$T/err")
  expect_rc 2
  expect_err_contains "invalid value '$var'"
  expect_err_contains "hint: "
  if grep -q -e "$SECRET" -e "X-Injected" <<<"$ERR"; then fail "$var's value was printed: $ERR"; else pass; fi
done

finish
