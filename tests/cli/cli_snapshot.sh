# Black-box tests of snapshot export / install and verify of archives.
source "$(dirname "$0")/lib.sh"
P=$T/p
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 200 >/dev/null
"$AERODB" checkpoint -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 30 --seed 2 >/dev/null

test_case "export: an archive at the last commit, --json"
run "$AERODB_REPL" snapshot export -D "$P" -o "$T/a.tar.zst" --json
expect_rc 0
expect_json .boundary_commit 230
expect_json .base_commit 200
expect_json '.history_digest | length' 64
run "$AERODB_REPL" snapshot export -D "$P" -o "$T/a.tar.zst"
expect_rc 5
expect_err "refusing to overwrite '$T/a.tar.zst': the file exists
hint: give a new name, or remove the old archive first"

test_case "verify an archive: ok; truncated 8; damaged 1"
run "$AERODB_REPL" verify "$T/a.tar.zst" --json
expect_rc 0
expect_json .kind archive
expect_json .last_commit 230
head -c 3000 "$T/a.tar.zst" > "$T/cut.tar.zst"
run "$AERODB_REPL" verify "$T/cut.tar.zst"
expect_rc 8
cp "$T/a.tar.zst" "$T/bad.tar.zst"
flip_zstd_byte "$T/bad.tar.zst"
run "$AERODB_REPL" verify "$T/bad.tar.zst"
expect_rc 1

test_case "verify lists every damaged member of an archive, in order (exit 1)"
run "$AERODB_REPL" snapshot export -D "$P" -o "$T/plain.tar" --compression none
expect_rc 0
cp "$T/plain.tar" "$T/two-bad.tar"
# One byte of each storage file's data (its header is one 512-byte block).
for m in data/documents.dat snapshots/00000000000000000200/storage.dat; do
  blk=$(tar -tRf "$T/two-bad.tar" | awk -v m="$m" '$3 == m {sub(":", "", $2); print $2}')
  [ -n "$blk" ] || fail "no member $m in the archive"
  flip_byte "$T/two-bad.tar" $(((blk + 1) * 512 + 100))
done
run "$AERODB_REPL" verify "$T/two-bad.tar" --json
expect_rc 1
expect_json '.findings | length' 2
expect_json '[.findings[].kind] | unique | .[]' invalid-archive
expect_json '.findings[0].message | contains("data/documents.dat")' true
expect_json '.findings[1].message | contains("snapshots/00000000000000000200/storage.dat")' true
run "$AERODB_REPL" snapshot install -D "$T/r2" "$T/two-bad.tar"
expect_rc 1
[ ! -e "$T/r2" ] && pass || fail "a target was created from a damaged archive"

test_case "install: nothing is created from a bad archive; a good one makes a replica"
run "$AERODB_REPL" snapshot install -D "$T/r" "$T/cut.tar.zst"
expect_rc 8
[ ! -e "$T/r" ] && pass || fail "a target was created from a truncated archive"
run "$AERODB_REPL" snapshot install -D "$T/r" "$T/bad.tar.zst"
expect_rc 1
[ ! -e "$T/r" ] && pass || fail "a target was created from a damaged archive"
run "$AERODB_REPL" snapshot install -D "$T/r" "$T/a.tar.zst" --json
expect_rc 0
expect_json .applied_commit 230
expect_json .role replica
run "$AERODB_REPL" snapshot install -D "$T/r" "$T/a.tar.zst"
expect_rc 5
expect_err_contains "refusing to install '$T/r': the directory is not empty"

test_case "SIG-20 SIG-21 SIG-22 signed export: install with trusted keys, verify agrees, unsigned is 8, the replica keeps the keys"
if command -v openssl >/dev/null; then
  openssl genpkey -algorithm ed25519 -out "$T/sk.pem" 2>/dev/null && chmod 600 "$T/sk.pem"
  mkdir -p "$T/trust" && openssl pkey -in "$T/sk.pem" -pubout -out "$T/trust/k.pem" 2>/dev/null
  run "$AERODB_REPL" snapshot export -D "$P" -o "$T/signed.tar.zst" --signing-key "$T/sk.pem"
  expect_rc 0
  [ -s "$T/signed.tar.zst.sig" ] && pass || fail "no sidecar beside the archive"
  run "$AERODB_REPL" verify "$T/signed.tar.zst" --trusted-keys "$T/trust"
  expect_rc 0
  run "$AERODB_REPL" verify "$T/a.tar.zst" --trusted-keys "$T/trust"
  expect_rc 8
  run "$AERODB_REPL" snapshot install -D "$T/rs-unsigned" "$T/a.tar.zst" --trusted-keys "$T/trust"
  expect_rc 8
  expect_err_contains "signature in transit '$T/a.tar.zst.sig'"
  [ ! -e "$T/rs-unsigned" ] && pass || fail "a target was created from an unsigned archive"
  run "$AERODB_REPL" snapshot install -D "$T/rs" "$T/signed.tar.zst" --trusted-keys "$T/trust" --json
  expect_rc 0
  ls "$T/rs/replication/trusted-keys/"*.pem >/dev/null 2>&1 && pass || fail "the trusted keys were not copied"
else
  echo "SKIP SIG-20 case of cli_snapshot: openssl is not installed"
fi

test_case "the installed replica catches up with apply-wal"
"$AERODB" load -D "$P" --write-sets 20 --seed 3 >/dev/null
mkdir "$T/out"
"$AERODB_REPL" ship-wal -D "$P" --to "$T/out" >/dev/null
run "$AERODB_REPL" apply-wal -D "$T/r" --from "$T/out"
expect_rc 0
p=$("$AERODB" scan -D "$P" --json | jq -c '{commit, documents}')
r=$("$AERODB" scan -D "$T/r" --json | jq -c '{commit, documents}')
[ "$p" = "$r" ] && pass || fail "replica differs from primary"

test_case "export: an empty --output is a usage error (2); an output inside the node's data directory is 2 (NODE-13)"
run "$AERODB_REPL" snapshot export -D "$P" -o ''
expect_rc 2
expect_err "invalid value '--output': an empty path
hint: give the archive's file name, for example snapshot.tar.zst"
for out in "$P/replication/x.tar.zst" "$P/metadata/schemas/x.tar.zst"; do
  run "$AERODB_REPL" snapshot export -D "$P" -o "$out"
  expect_rc 2
  expect_err_contains "refusing to write '$out': it is inside $P, the node's data directory"
  [ ! -e "$out" ] && pass || fail "an archive was written inside the data directory: $out"
done

test_case "install -D FILE: 5, the message has its detail and hint"
run "$AERODB_REPL" snapshot export -D "$P" -o "$T/f.tar" --compression none
expect_rc 0
: > "$T/afile"
run "$AERODB_REPL" snapshot install -D "$T/afile" "$T/f.tar"
expect_rc 5
expect_err "not a directory '$T/afile': a file stands where the replica goes
hint: give -D a directory that is absent or empty; nothing was installed"

test_case "SNAP-8 a member whose pax path is not UTF-8 is damage (1) for verify and install, plain and zstd, never in transit"
# A small node: the whole archive is read before the bad header is met.
"$AERODB" init -D "$T/pax-p" >/dev/null
"$AERODB" put -D "$T/pax-p" docs/a '{"a":1}' >/dev/null
run "$AERODB_REPL" snapshot export -D "$T/pax-p" -o "$T/pax-src.tar" --compression none
expect_rc 0
# A member named data/bad<0xff> in a pax path record, without the
# hdrcharset=BINARY record that would declare raw bytes: libarchive reads
# the header whole and warns that the path is not UTF-8.
python3 - "$T/pax-src.tar" "$T/pax.tar" <<'PY'
import io, sys, tarfile
src = tarfile.open(sys.argv[1])
out = tarfile.open(sys.argv[2] + ".tmp", "w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape")
for m in src.getmembers():
    data = src.extractfile(m).read()
    if m.name == "data/documents.dat":
        bad = tarfile.TarInfo(name=b"data/bad\xff".decode("utf-8", "surrogateescape"))
        bad.size = 1
        out.addfile(bad, io.BytesIO(b"x"))
    out.addfile(m, io.BytesIO(data))
out.close()
raw = open(sys.argv[2] + ".tmp", "rb").read()
old, new = b"21 hdrcharset=BINARY\n", b"21 comment=xxxxxxxxx\n"
assert old in raw
open(sys.argv[2], "wb").write(raw.replace(old, new, 1))
PY
zstd -q -1 -f "$T/pax.tar" -o "$T/pax.tar.zst"
for a in "$T/pax.tar" "$T/pax.tar.zst"; do
  run "$AERODB_REPL" verify "$a"
  expect_rc 1
  run "$AERODB_REPL" snapshot install -D "$T/pax-r" "$a"
  expect_rc 1
  [ ! -e "$T/pax-r" ] && pass || fail "install of $a created the replica"
done

test_case "export: two runs to one -o at once: the one that reports success reports the archive that is there"
"$AERODB" init -D "$T/q" >/dev/null
"$AERODB" load -D "$T/q" --write-sets 40 >/dev/null
mkdir -p "$T/race"
bad=0
for i in $(seq 20); do
  rm -f "$T/race/s.tar.zst"
  "$AERODB_REPL" snapshot export -D "$P" -o "$T/race/s.tar.zst" --json >"$T/race/a.json" 2>/dev/null & pa=$!
  "$AERODB_REPL" snapshot export -D "$T/q" -o "$T/race/s.tar.zst" --json >"$T/race/b.json" 2>/dev/null & pb=$!
  ra=0; wait $pa || ra=$?; rb=0; wait $pb || rb=$?
  there=$("$AERODB_REPL" verify "$T/race/s.tar.zst" --json 2>/dev/null | jq -r .last_commit)
  for r in "$ra:a" "$rb:b"; do
    [ "${r%%:*}" = 0 ] || continue
    said=$(jq -r .boundary_commit "$T/race/${r##*:}.json")
    [ "$said" = "$there" ] || bad=$((bad + 1))
  done
  { [ "$ra" = 0 ] || [ "$ra" = 5 ]; } && { [ "$rb" = 0 ] || [ "$rb" = 5 ]; } || bad=$((bad + 1))
  [ "$ra" = 0 ] || [ "$rb" = 0 ] || bad=$((bad + 1))
  [ -z "$(ls -A "$T/race" | grep '^\.s\.tar\.zst\.')" ] || bad=$((bad + 1))
done
[ "$bad" = 0 ] && pass || fail "$bad wrong outcomes in 20 rounds (exits $ra $rb; last archive at $there)"

test_case "export: two signed runs to one -o at once: the archive there always verifies against the signature there"
if [ -s "$T/sk.pem" ]; then
  bad=0
  for i in $(seq 15); do
    rm -f "$T/race/s.tar.zst" "$T/race/s.tar.zst.sig"
    "$AERODB_REPL" snapshot export -D "$P" -o "$T/race/s.tar.zst" --signing-key "$T/sk.pem" >/dev/null 2>&1 & pa=$!
    "$AERODB_REPL" snapshot export -D "$T/q" -o "$T/race/s.tar.zst" --signing-key "$T/sk.pem" >/dev/null 2>&1 & pb=$!
    ra=0; wait $pa || ra=$?; rb=0; wait $pb || rb=$?
    { [ "$ra" = 0 ] && [ "$rb" != 0 ]; } || { [ "$rb" = 0 ] && [ "$ra" != 0 ]; } || bad=$((bad + 1))
    "$AERODB_REPL" verify "$T/race/s.tar.zst" --trusted-keys "$T/trust" >/dev/null 2>&1 || bad=$((bad + 1))
    [ -z "$(ls -A "$T/race" | grep '^\.s\.tar\.zst')" ] || bad=$((bad + 1))
  done
  [ "$bad" = 0 ] && pass || fail "$bad wrong outcomes in 15 rounds (last exits $ra $rb)"
else
  echo "SKIP [export: two signed runs]: no signing key (openssl missing)"
fi

finish
