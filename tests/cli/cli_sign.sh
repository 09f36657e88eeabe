# Black-box tests of signatures (specs/REPLICATION_SIGNING.md):
# ship-wal --signing-key, apply-wal and verify --trusted-keys, and the
# drill examples/drills/signed-shipping.sh (a forged segment and a forged
# claim refused, a key rotated mid-stream).
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP cli.cli_sign: openssl is not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP cli.cli_sign: jq is not installed"; exit 77; }
P=$T/p A=$T/arch K=$T/keys
mkdir -p "$A" "$K/trust"
openssl genpkey -algorithm ed25519 -out "$K/a.key" 2>/dev/null
openssl pkey -in "$K/a.key" -pubout -out "$K/trust/a.pem"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 40 >/dev/null

test_case "SIG-12 FM-95 ship-wal refuses an unprotected signing key (2) and writes nothing"
chmod 644 "$K/a.key"
run "$AERODB_REPL" ship-wal -D "$P" --to "$A" --signing-key "$K/a.key"
expect_rc 2
expect_err "unprotected signing key '$K/a.key': mode 0644: readable or writable by group or others
hint: chmod 600 $K/a.key"
[ -z "$(ls -A "$A")" ] && pass || fail "the target is not empty: $(ls -A "$A")"
chmod 600 "$K/a.key"

test_case "SIG-9 ship-wal --signing-key publishes NAME.sig beside every segment"
run "$AERODB_REPL" ship-wal -D "$P" --to "$A" --signing-key "$K/a.key" --max-segment-bytes 20000
expect_rc 0
n_seg=$(ls "$A"/*.seg | wc -l) n_sig=$(ls "$A"/*.seg.sig | wc -l)
[ "$n_seg" -gt 1 ] && [ "$n_seg" = "$n_sig" ] && pass || fail "$n_seg segments, $n_sig sidecars"
# The statement inside verifies with openssl (formats/signature.md SIG-1, SIG-2).
first=$(ls "$A"/*.seg | head -1)
head -8 "$first.sig" >"$T/stmt"
hex=$(sed -n 's/^signature //p' "$first.sig")
printf "$(sed 's/../\\x&/g' <<<"$hex")" >"$T/sig.bin"
openssl pkeyutl -verify -pubin -inkey "$K/trust/a.pem" -rawin -in "$T/stmt" -sigfile "$T/sig.bin" >/dev/null &&
  pass || fail "openssl does not verify $first.sig"

test_case "SIG-13 verify with trusted keys says what apply-wal will do"
run "$AERODB_REPL" verify "$A" --trusted-keys "$K/trust"
expect_rc 0
cp -r "$A" "$T/in"
rm "$T/in/$(basename "$first").sig"
run "$AERODB_REPL" verify "$T/in" --trusted-keys "$K/trust" --json
expect_rc 8
expect_json '[.findings[] | select(.kind == "unsigned")] | length' 1
run "$AERODB_REPL" apply-wal -D "$T/r" --from "$T/in" --trusted-keys "$K/trust"
expect_rc 8
expect_err_contains "signature in transit '$T/in/$(basename "$first").sig': not here yet"
run "$AERODB_REPL" verify "$T/in"  # no trusted keys: no signature checked
expect_rc 0
cp "$A/$(basename "$first").sig" "$T/in/"
run "$AERODB_REPL" apply-wal -D "$T/r" --from "$T/in" --trusted-keys "$K/trust"
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$T/r" --from "$T/in" --trusted-keys "$T/nope"
expect_rc 2
expect_err_contains "trust directory not found '$T/nope'"
# A bootstrap checks the flag's directory before the inbox: 2, not the gap's 3.
mkdir -p "$T/late"
cp "$(ls "$T"/in/*.seg | tail -1)" "$T/late/00000001-00000000000000ff-00000000000000ff.seg"
run "$AERODB_REPL" apply-wal -D "$T/new" --from "$T/late" --trusted-keys "$T/nope"
expect_rc 2
expect_err_contains "trust directory not found '$T/nope'"

test_case "SIG-7 SIG-10 the drill: a forged segment and a forged claim are refused"
run bash "$SRC/examples/drills/signed-shipping.sh" "$(dirname "$AERODB")" cp
expect_rc 0
expect_out_contains "ok    unsigned forgery: in transit (8), not applied, not halted"
expect_out_contains "ok    forgery signed by an unknown key: refused (5), not applied"
expect_out_contains "ok    forged claim refused: still epoch 1, nothing applied, not halted"
DRILL_OUT=$OUT

test_case "SIG-11 a key rotated mid-stream: the replica continues"
OUT=$DRILL_OUT
expect_out_contains "ok    the replica continues across the key switch"
expect_out_contains "ok    the replica continues after A is retired"
expect_out_contains "drill ok: signed shipping, forgeries refused, key rotated"

finish
