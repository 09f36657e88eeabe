# Encryption at rest (formats/encrypted-file.md, ENC-*): ship-wal and
# snapshot export with --encryption-key, apply-wal, snapshot install and
# verify with --encryption-keys; the cross-check by python3-cryptography.
source "$(dirname "$0")/lib.sh"
P=$T/p R=$T/r OUT_E=$T/enc OUT_P=$T/plain K=$T/keys
mkdir -p "$OUT_E" "$OUT_P" "$K"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 300 >/dev/null
head -c 32 /dev/urandom >"$K/a.key"
chmod 600 "$K/a.key"

test_case "ship-wal --encryption-key writes envelopes, apply-wal --encryption-keys applies them"
run "$AERODB_REPL" ship-wal -D "$P" --to "$OUT_E" --max-segment-bytes 40000 --encryption-key "$K/a.key" --json
expect_rc 0
expect_json .shipped_commit 300
first=$(jq -r '.segments[0].name' <<<"$OUT")
[ "$(head -c 8 "$OUT_E/$first")" = "AEROENC" ] && pass || fail "not an envelope: $first"
run "$AERODB_REPL" apply-wal -D "$R" --from "$OUT_E" --encryption-keys "$K" --json
expect_rc 0
expect_json .applied_commit 300

test_case "python3-cryptography decrypts an encrypted segment"
if /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
  # The same write sets shipped plain give the plaintext byte for byte (SEG-6).
  run "$AERODB_REPL" ship-wal -D "$P" --to "$OUT_P" --max-segment-bytes 40000
  expect_rc 0
  n=0
  for f in "$OUT_E"/*.seg; do
    name=$(basename "$f")
    /usr/bin/python3 "$SRC/tests/cli/decrypt_envelope.py" "$K/a.key" "$f" >"$T/dec" 2>"$T/dec.err" ||
      fail "python could not decrypt $name: $(cat "$T/dec.err")"
    cmp -s "$T/dec" "$OUT_P/$name" && pass || fail "python's plaintext of $name is not the plain segment"
    n=$((n + 1))
  done
  ((n > 1)) && pass || fail "expected several segments, got $n"
  # A flipped byte: the independent reader refuses it too.
  cp "$OUT_E/$first" "$T/bad.seg"
  flip_byte "$T/bad.seg" 500
  /usr/bin/python3 "$SRC/tests/cli/decrypt_envelope.py" "$K/a.key" "$T/bad.seg" >/dev/null 2>&1 &&
    fail "python decrypted a damaged file" || pass
else
  echo "SKIP [python3-cryptography decrypts an encrypted segment]: /usr/bin/python3 has no cryptography (apt-get install python3-cryptography)"
fi

test_case "an identical re-ship of an encrypted segment is recognised"
rm -rf "$P/replication/shipped"
run "$AERODB_REPL" ship-wal -D "$P" --to "$OUT_E" --max-segment-bytes 40000 --encryption-key "$K/a.key" --json
expect_rc 0
expect_json '[.segments[] | select(.already_there | not)] | length' 0
expect_json '.segments | length' "$(ls "$OUT_E" | grep -c '\.seg$')"

test_case "verify without the key checks framing and says what it did not check"
run "$AERODB_REPL" verify "$OUT_E/$first"
expect_rc 0
expect_out_contains "notice: encrypted file not checked '$OUT_E/$first': key id"
expect_out_contains "framing valid; not checked: the chunks' tags and the plaintext's own format"
run "$AERODB_REPL" verify "$OUT_E/$first" --encryption-keys "$K"
expect_rc 0
expect_out_contains ": every chunk verified"
# verify(1): a directory's segments[].bytes is each file's size, with the
# key and without it (it was the plaintext's, and 0 without the key).
size=$(stat -c %s "$OUT_E/$first")
for keys in "" "--encryption-keys $K"; do
  run "$AERODB_REPL" verify "$OUT_E" --json $keys
  expect_json ".segments[0].bytes" "$size"
done
expect_json ".segments[0].state" valid
run "$AERODB_REPL" verify "$OUT_E" --json
expect_json ".segments[0].state" not-checked
head -c 1000 "$OUT_E/$first" >"$T/short.seg"
run "$AERODB_REPL" verify "$T/short.seg"
expect_rc 8
cp "$OUT_E/$first" "$T/long.seg" && printf 'x' >>"$T/long.seg"
run "$AERODB_REPL" verify "$T/long.seg"
expect_rc 1
expect_err_contains "bytes after the final chunk"

test_case "rotation: apply-wal reads segments of the old and the new key"
head -c 32 /dev/urandom >"$K/b.key"
chmod 600 "$K/b.key"
"$AERODB" load -D "$P" --write-sets 50 --seed 3 >/dev/null
run "$AERODB_REPL" ship-wal -D "$P" --to "$OUT_E" --max-segment-bytes 40000 --encryption-key "$K/b.key" --encryption-cipher chacha20-poly1305
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$T/r2" --from "$OUT_E" --encryption-keys "$K" --json
expect_rc 0
expect_json .applied_commit 350
mkdir -p "$T/only-b" && cp -p "$K/b.key" "$T/only-b/"
run "$AERODB_REPL" apply-wal -D "$T/r3" --from "$OUT_E" --encryption-keys "$T/only-b"
expect_rc 5
expect_err_contains "no key for encrypted file"
expect_err_contains "hint: put the key file with that key id into the directory"

test_case "a key file readable by others is refused with a hint"
chmod 644 "$K/a.key"
run "$AERODB_REPL" ship-wal -D "$P" --to "$OUT_E" --encryption-key "$K/a.key"
expect_rc 5
expect_err_contains "hint: chmod 600"
run "$AERODB_REPL" apply-wal -D "$R" --from "$OUT_E" --encryption-keys "$K"
expect_rc 5
chmod 600 "$K/a.key"

test_case "ENC-10 a cipher without a key is a usage error, nothing written"
mkdir -p "$T/cipher-only"
run "$AERODB_REPL" ship-wal -D "$P" --to "$T/cipher-only" --encryption-cipher chacha20-poly1305
expect_rc 2
expect_err_contains "--encryption-cipher requires --encryption-key"
[ -z "$(ls -A "$T/cipher-only")" ] && pass || fail "ship-wal wrote: $(ls "$T/cipher-only")"
run "$AERODB_REPL" snapshot export -D "$P" -o "$T/cipher-only.tar" --encryption-cipher aes-256-gcm
expect_rc 2
[ ! -e "$T/cipher-only.tar" ] && pass || fail "export wrote an archive"

test_case "snapshot export --encryption-key, install --encryption-keys"
run "$AERODB_REPL" snapshot export -D "$P" -o "$T/snap.tar.zst" --encryption-key "$K/a.key"
expect_rc 0
[ "$(head -c 8 "$T/snap.tar.zst")" = "AEROENC" ] && pass || fail "the archive is not an envelope"
run "$AERODB_REPL" verify "$T/snap.tar.zst" --encryption-keys "$K"
expect_rc 0
run "$AERODB_REPL" snapshot install -D "$T/r4" "$T/snap.tar.zst"
expect_rc 5
run "$AERODB_REPL" snapshot install -D "$T/r4" "$T/snap.tar.zst" --encryption-keys "$K"
expect_rc 0
head -c 5000 "$T/snap.tar.zst" >"$T/snap-short.tar.zst"
run "$AERODB_REPL" snapshot install -D "$T/r5" "$T/snap-short.tar.zst" --encryption-keys "$K"
expect_rc 8
run "$AERODB_REPL" verify "$T/snap-short.tar.zst" --encryption-keys "$K"
expect_rc 8

test_case "SIG-1 ENC-8 signed and encrypted: the statement states the plaintext, a replica with keys and trust applies it"
# The signature covers the segment (its size and seal), not the envelope that
# carries it: a size taken from the encrypted file would fail SIG-7 here.
OUT_SE=$T/signed-enc TRUST=$T/trust
mkdir -p "$OUT_SE" "$TRUST"
openssl genpkey -algorithm ed25519 -out "$T/sk.pem" 2>/dev/null
chmod 600 "$T/sk.pem"
openssl pkey -in "$T/sk.pem" -pubout -out "$TRUST/k.pem" 2>/dev/null
run "$AERODB_REPL" ship-wal -D "$P" --to "$OUT_SE" --max-segment-bytes 40000 --signing-key "$T/sk.pem" --encryption-key "$K/a.key" --json
expect_rc 0
[ "$(ls "$OUT_SE" | grep -c '\.seg\.sig$')" -gt 1 ] && pass || fail "expected a sidecar per segment"
run "$AERODB_REPL" verify "$OUT_SE" --trusted-keys "$TRUST" --encryption-keys "$K"
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$T/r-se" --from "$OUT_SE" --trusted-keys "$TRUST" --encryption-keys "$K" --json
expect_rc 0
[ "$("$AERODB" scan -D "$T/r-se")" = "$("$AERODB" scan -D "$P")" ] && pass || fail "the replica differs from the primary"

test_case "ENC-30 after a key rotation a re-ship over an old-key segment is recognised with --encryption-keys"
# An outbox of the old key a; the primary now ships with c, and its position is lost.
mkdir -p "$T/rot" "$T/kc" && head -c 32 /dev/urandom >"$T/kc/c.key" && chmod 600 "$T/kc/c.key"
rm -rf "$P/replication/shipped"
run "$AERODB_REPL" ship-wal -D "$P" --to "$T/rot" --max-segment-bytes 40000 --encryption-key "$K/a.key"
expect_rc 0
rm -rf "$P/replication/shipped"
run "$AERODB_REPL" ship-wal -D "$P" --to "$T/rot" --max-segment-bytes 40000 --encryption-key "$T/kc/c.key"
expect_rc 5
expect_err_contains "no key for encrypted file"
expect_err_contains "--encryption-keys"
run "$AERODB_REPL" ship-wal -D "$P" --to "$T/rot" --max-segment-bytes 40000 --encryption-key "$T/kc/c.key" --encryption-keys "$K" --json
expect_rc 0
expect_json '[.segments[] | select(.already_there | not)] | length' 0
expect_json '.segments | length' "$(ls "$T/rot" | grep -c '\.seg$')"
expect_json .shipped_commit 350

test_case "ENC-31 apply-wal --require-encryption refuses a plaintext segment with 5"
mkdir -p "$T/plain2"
run "$AERODB_REPL" ship-wal -D "$P" --to "$T/plain2" --max-segment-bytes 40000
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$T/r6" --from "$T/plain2" --encryption-keys "$K" --require-encryption
expect_rc 5
expect_err_contains "plaintext segment '$T/plain2/"
expect_err_contains "encryption is required here"
[ ! -e "$T/r6" ] && pass || fail "a refused bootstrap created the replica"
run "$AERODB_REPL" apply-wal -D "$T/r6" --from "$OUT_E" --encryption-keys "$K" --require-encryption --json
expect_rc 0
expect_json .applied_commit 350
"$AERODB" load -D "$P" --write-sets 5 --seed 4 >/dev/null
rm -rf "$P/replication/shipped"
run "$AERODB_REPL" ship-wal -D "$P" --to "$T/plain2" --max-segment-bytes 40000
expect_rc 0
run "$AERODB_REPL" apply-wal -D "$T/r6" --from "$T/plain2" --encryption-keys "$K" --require-encryption
expect_rc 5
[ ! -e "$T/r6/replication/halt.json" ] && pass || fail "a plaintext segment halted the replica"
run "$AERODB_REPL" status -D "$T/r6" --json
expect_json .applied_commit 350

test_case "ENC-14 status, prune, check-history and rejoin read encrypted segments with the keys and say what they could not read without"
P2=$T/enc14-p R2=$T/enc14-r E2=$T/enc14-arch
mkdir -p "$E2"
"$AERODB" init -D "$P2" >/dev/null
"$AERODB" load -D "$P2" --write-sets 40 >/dev/null
"$AERODB_REPL" ship-wal -D "$P2" --to "$E2" --max-segment-bytes 3000 --encryption-key "$K/a.key" --claim-archive >/dev/null
"$AERODB_REPL" apply-wal -D "$R2" --from "$E2" --encryption-keys "$K" >/dev/null
run "$AERODB_REPL" status -D "$R2" --from "$E2" --json
expect_rc 0
[ "$(jq '.inbox.encrypted_no_key' <<<"$OUT")" -ge 1 ] && pass || fail "expected encrypted segments counted: $OUT"
expect_err_contains "no key for encrypted file"
expect_err_contains "--encryption-keys"
run "$AERODB_REPL" status -D "$R2" --from "$E2" --encryption-keys "$K" --json
expect_rc 0
expect_json .inbox.encrypted_no_key 0
expect_json .inbox.lag 0
run "$AERODB_REPL" check-history --archive "$E2" -D "$P2"
expect_rc 5
expect_err_contains "no key for encrypted file"
if grep -q corrupt <<<"$ERR"; then fail "called corrupt: $ERR"; else pass; fi
run "$AERODB_REPL" check-history --archive "$E2" -D "$P2" --encryption-keys "$K"
expect_rc 0
expect_out_contains "identical"
"$AERODB_REPL" snapshot export -D "$P2" -o "$E2/snap-40.tar" >/dev/null 2>&1
run "$AERODB_REPL" prune --archive "$E2" --keep-snapshots 1 --dry-run --json
expect_rc 0
expect_json '.plan | length' 0
expect_json '[.kept_segments[] | select(.reason | startswith("encrypted, no key: "))] | length > 0' true
if grep -q corrupt <<<"$OUT"; then fail "called corrupt: $OUT"; else pass; fi
run "$AERODB_REPL" prune --archive "$E2" --keep-snapshots 1 --dry-run --encryption-keys "$K" --json
expect_rc 0
[ "$(jq '.plan | length' <<<"$OUT")" -ge 1 ] && pass || fail "with the keys the segments below 40 may go: $OUT"
"$AERODB_REPL" promote -D "$R2" --archive "$E2" >/dev/null 2>&1
run "$AERODB_REPL" rejoin -D "$P2" --archive "$E2" --encryption-keys "$K" --json
expect_rc 0
expect_json .role replica
finish
