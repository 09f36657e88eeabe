# Black-box test helpers (git t/ style). Sourced by tests/cli/*.sh.
# Environment (set by ctest): AERODB, AERODB_REPL, SRC, SHARED.
: "${AERODB:?}" "${AERODB_REPL:?}" "${SRC:?}"
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# run CMD...: sets OUT, ERR, RC. A signal or a sanitizer report always fails.
run() {
  OUT=$("$@" 2>"$T/.err")
  RC=$?
  ERR=$(cat "$T/.err")
  if ((RC >= 128)) || grep -qE 'Sanitizer|runtime error:' <<<"$ERR"; then
    fail "signal or sanitizer report (exit $RC) from: $*"$'\n'"$ERR"
  fi
}
expect_rc() {
  if [ "$RC" = "$1" ]; then pass; else fail "expected exit $1, got $RC; stderr: $ERR"; fi
}
expect_err() {
  if [ "$ERR" = "$1" ]; then pass; else fail "stderr:"$'\n'"$ERR"$'\n'"expected:"$'\n'"$1"; fi
}
expect_err_contains() {
  if grep -qF -- "$1" <<<"$ERR"; then pass; else fail "stderr lacks '$1':"$'\n'"$ERR"; fi
}
expect_out() {
  if [ "$OUT" = "$1" ]; then pass; else fail "stdout:"$'\n'"$OUT"$'\n'"expected:"$'\n'"$1"; fi
}
expect_out_contains() {
  if grep -qF -- "$1" <<<"$OUT"; then pass; else fail "stdout lacks '$1':"$'\n'"$OUT"; fi
}
# expect_json FILTER VALUE: jq -r FILTER on stdout equals VALUE.
expect_json() {
  local got
  got=$(jq -r "$1" <<<"$OUT" 2>&1)
  if [ "$got" = "$2" ]; then pass; else fail "jq '$1' gave '$got', expected '$2'"; fi
}

# flip_byte FILE OFFSET: inverts every bit of the byte at OFFSET, so the file
# always changes (writing a fixed byte leaves it as it was when the byte
# already had that value: 1 run in 256 on random bytes).
flip_byte() {
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  [ -n "$b" ] || { fail "flip_byte: $1 has no byte at $2"; return; }
  printf "\\$(printf '%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# flip_zstd_byte FILE: inverts one byte of the zstd file FILE, the first from
# its middle on that damages what it holds (zstd(1) refuses it, or it decodes
# to as many bytes as before but not the same ones). A fixed offset is not
# enough: the bytes there differ from run to run, and a flip there may leave
# the decoded bytes as they were (slack bits of an entropy table) or make the
# frame look cut short (a block header), which no reader can tell from a copy
# in progress (SNAP-7). The C++ tests' ZstdDamagingFlip does the same.
flip_zstd_byte() {
  local f=$1 size off want len
  want=$(zstd -dcq "$f" | sha256sum) || { fail "flip_zstd_byte: $f is not a whole zstd frame"; return; }
  len=$(zstd -dcq "$f" | wc -c)
  size=$(stat -c %s "$f")
  for ((off = size / 2; off < size; off++)); do
    cp "$f" "$f.flip"
    flip_byte "$f.flip" "$off"
    if ! zstd -dcq "$f.flip" > "$f.flip.out" 2> "$f.flip.err"; then
      grep -q -i "premature\|truncated" "$f.flip.err" && continue
    elif [ "$(wc -c < "$f.flip.out")" != "$len" ] || [ "$(sha256sum < "$f.flip.out")" = "$want" ]; then
      continue
    fi
    mv "$f.flip" "$f"
    rm -f "$f.flip.out" "$f.flip.err"
    return
  done
  rm -f "$f.flip" "$f.flip.out" "$f.flip.err"
  fail "flip_zstd_byte: no byte of $f from its middle on damages it"
}

# start_rgw NAME: a real Ceph RGW in $T/rgw (tests/support/rgw.sh), stopped
# on exit, its settings sourced into the environment; RGW is set to its
# directory. Tried twice (the OSD has once exited at its first start on a
# loaded machine); where it cannot start, NAME is skipped, by name (77).
start_rgw() {
  RGW=$T/rgw
  local start
  if ! start=$(bash "$SRC/tests/support/rgw.sh" start "$RGW"); then
    rm -rf "$RGW"
    if ! start=$(bash "$SRC/tests/support/rgw.sh" start "$RGW"); then
      echo "SKIP $1: ${start:-RGW did not start}"
      exit 77
    fi
  fi
  trap 'bash "$SRC/tests/support/rgw.sh" stop "$RGW"; rm -rf "$T"' EXIT
  source "$RGW/env"
}
