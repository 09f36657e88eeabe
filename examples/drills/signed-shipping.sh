#!/usr/bin/env bash
# DR drill 4, signed shipping (specs/REPLICATION_SIGNING.md): the primary
# signs what it ships (--signing-key); the replica trusts its public key
# (--trusted-keys) and so applies only what that key signed. An attacker
# who can write into the replica's inbox and holds a copy of every file,
# but no private key, forges a continuation that chains correctly and an
# epoch claim: both are refused, and the replica is not halted. Then the
# signing key is rotated mid-stream (a new key added, the primary switches,
# the old key retired from epoch 2 on) and the replica continues.
#   signed-shipping.sh BIN_DIR [cp]
# Prints a report; exits 1 when any expectation fails.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v openssl >/dev/null || { echo "missing tool 'openssl': the drill needs it" >&2; echo "hint: apt-get install -y openssl" >&2; exit 10; }
P=$WORK/primary R=$WORK/replica A=$WORK/claim-archive IN=$WORK/in-r EVIL=$WORK/attacker
TRUST=$WORK/trusted-keys
mkdir "$A" "$IN" "$TRUST" "$WORK/keys"
key() {  # key NAME: keys/NAME.key (mode 600) and keys/NAME.pem
  openssl genpkey -algorithm ed25519 -out "$WORK/keys/$1.key" 2>/dev/null
  chmod 600 "$WORK/keys/$1.key"
  openssl pkey -in "$WORK/keys/$1.key" -pubout -out "$WORK/keys/$1.pem"
}
key_id() { openssl pkey -pubin -in "$WORK/keys/$1.pem" -outform DER | sha256sum | cut -c1-16; }
copy_new() {  # copy_new FROM TO: what TO lacks (a transport's next delivery)
  for f in "$1"/*; do
    [ -f "$f" ] && [ ! -e "$2/$(basename "$f")" ] && cp "$f" "$2/"
  done
  return 0
}
not_halted() { [ ! -e "$R/replication/halt.json" ]; }

step "keys: the primary's key A, the attacker's own key; the replica trusts A"
key a; key evil
cp "$WORK/keys/a.pem" "$TRUST/a.pem"

step "the primary ships signed; the replica applies with --trusted-keys"
"$AERODB" init -D "$P" >/dev/null
"$AERODB" load -D "$P" --write-sets 100 --seed 1 >/dev/null
expect 0 "$AERODB_REPL" ship-wal -D "$P" --to "$A" --claim-archive --max-segment-bytes 32768 --signing-key "$WORK/keys/a.key"
copy_new "$A" "$IN"
expect 0 "$AERODB_REPL" apply-wal -D "$R" --from "$IN" --trusted-keys "$TRUST"
check "every segment has its sidecar" test "$(ls "$A"/*.seg | wc -l)" = "$(ls "$A"/*.seg.sig | wc -l)"
check "replica caught up" same "$P" "$R"
# The replica keeps its trust directory: no run can skip the checks by forgetting the flag.
mkdir -p "$R/replication/trusted-keys" && cp "$TRUST/a.pem" "$R/replication/trusted-keys/"
before=$(state "$R")

step "a forged continuation: the attacker copies the primary, writes, ships into the inbox"
cp -a "$P" "$EVIL" && rm -rf "$EVIL/replication/shipped"
"$AERODB" load -D "$EVIL" --write-sets 5 --seed 666 >/dev/null
mkdir "$WORK/forged" "$WORK/forged-signed"
"$AERODB_REPL" ship-wal -D "$EVIL" --to "$WORK/forged" --max-segment-bytes 32768 >/dev/null
"$AERODB_REPL" ship-wal -D "$EVIL" --to "$WORK/forged-signed" --max-segment-bytes 32768 --signing-key "$WORK/keys/evil.key" >/dev/null
next=$(cd "$WORK/forged" && for f in *.seg; do [ -e "$IN/$f" ] || { echo "$f"; break; }; done)
cp "$WORK/forged/$next" "$IN/"
expect 8 "$AERODB_REPL" apply-wal -D "$R" --from "$IN"
check "unsigned forgery: in transit (8), not applied, not halted" test "$(state "$R")" = "$before"
cp "$WORK/forged-signed/$next.sig" "$IN/"
expect 5 "$AERODB_REPL" apply-wal -D "$R" --from "$IN"
check "forgery signed by an unknown key: refused (5), not applied" test "$(state "$R")" = "$before"
check "the replica is not halted" not_halted
expect 5 "$AERODB_REPL" verify "$IN" --trusted-keys "$TRUST"
rm "$IN/$next" "$IN/$next.sig"

step "a forged epoch claim: the attacker promotes a copy of the replica and publishes its history file"
cp -a "$R" "$WORK/evil-replica"
"$AERODB_REPL" promote -D "$WORK/evil-replica" >/dev/null 2>&1 || true
cp "$WORK/evil-replica/replication/history/00000002.history" "$IN/"
expect 8 "$AERODB_REPL" apply-wal -D "$R" --from "$IN"
mkdir "$WORK/evil-out"
"$AERODB_REPL" ship-wal -D "$WORK/evil-replica" --to "$WORK/evil-out" --signing-key "$WORK/keys/evil.key" >/dev/null
cp "$WORK/evil-out/00000002.history.sig" "$IN/"
expect 5 "$AERODB_REPL" apply-wal -D "$R" --from "$IN"
check "forged claim refused: still epoch 1, nothing applied, not halted" test "$(state "$R")" = "$before"
check "the replica is not halted after the forged claim" not_halted
rm "$IN/00000002.history" "$IN/00000002.history.sig"

step "rotation: key B added to the replica's trust, the primary switches to B mid-stream"
key b
cp "$WORK/keys/b.pem" "$R/replication/trusted-keys/b.pem"
"$AERODB" load -D "$P" --write-sets 20 --seed 2 >/dev/null
expect 0 "$AERODB_REPL" ship-wal -D "$P" --to "$A" --signing-key "$WORK/keys/b.key"
copy_new "$A" "$IN"
expect 0 "$AERODB_REPL" apply-wal -D "$R" --from "$IN"
check "the replica continues across the key switch" same "$P" "$R"
step "key A retired from epoch 2 on: the epoch-1 segments it signed stay valid"
echo 2 >"$R/replication/trusted-keys/$(key_id a).retired"
"$AERODB" load -D "$P" --write-sets 10 --seed 3 >/dev/null
expect 0 "$AERODB_REPL" ship-wal -D "$P" --to "$A" --signing-key "$WORK/keys/b.key"
copy_new "$A" "$IN"
expect 0 "$AERODB_REPL" apply-wal -D "$R" --from "$IN"
check "the replica continues after A is retired" same "$P" "$R"
cp "$WORK/keys/b.pem" "$TRUST/b.pem"
expect 0 "$AERODB_REPL" verify "$A" --trusted-keys "$TRUST"
finish_drill "signed shipping, forgeries refused, key rotated" "$P" "$R"
