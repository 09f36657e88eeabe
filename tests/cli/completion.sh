# Bash completion (completion/aerodb-repl.bash) for both binaries, driven the
# way bash drives it: COMP_WORDS and COMP_CWORD set, the function called,
# COMPREPLY read. The expected words come from --help where they can, so a
# new flag or subcommand is checked without an edit here.
source "$(dirname "$0")/lib.sh"
COMPLETION=${COMPLETION:-$SRC/completion/aerodb-repl.bash}

# complete_words CMD WORD... : the completions of the last WORD (cwd: $T/cwd).
complete_words() {
  (cd "$T/cwd" && bash -c '
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _aerodb_repl
    printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$COMPLETION" "$@")
}
expect_words() {  # expect_words WANT GOT
  if [ "$2" = "$1" ]; then pass; else fail "got:"$'\n'"$2"$'\n'"expected:"$'\n'"$1"; fi
}
mkdir -p "$T/cwd/node-a" "$T/cwd/node-b" "$T/cwd/inbox"
touch "$T/cwd/notes.txt" "$T/cwd/node.tar.zst"

test_case "the script registers _aerodb_repl for both binaries"
got=$(bash -c 'source "$1"; complete -p aerodb-repl aerodb' _ "$COMPLETION")
expect_words "complete -o filenames -F _aerodb_repl aerodb-repl"$'\n'"complete -o filenames -F _aerodb_repl aerodb" "$got"

for bin in "$AERODB_REPL" "$AERODB"; do
  name=$(basename "$bin")
  test_case "$name: the subcommands, as --help lists them"
  want=$("$bin" --help | awk '/^Subcommands:/{on=1; next} /^[^ ]/{on=0} on && NF {print $1}' | sort)
  [ -n "$want" ] || fail "--help lists no subcommand"
  expect_words "$want" "$(complete_words "$bin" "")"
done

test_case "aerodb-repl sh -> ship-wal"
expect_words "ship-wal" "$(complete_words "$AERODB_REPL" sh)"

test_case "aerodb-repl ship-wal --: every option of 'ship-wal --help' and the global ones (a new one included)"
options_of() { "$@" --help | awk '/^Options:/{on=1; next} /^[^ ]/{on=0} on && /^  -/ {print $1}' |
  tr ',' '\n' | grep -- '^--'; }
want=$( (options_of "$AERODB_REPL" ship-wal; options_of "$AERODB_REPL" | grep -vx -- '--help\|--version') | sort -u)
expect_words "$want" "$(complete_words "$AERODB_REPL" ship-wal -- | sort -u)"
for flag in --to --json --max-segment-bytes --log-level --s3-endpoint; do
  if grep -qx -- "$flag" <<<"$want"; then pass; else fail "the options lack $flag"; fi
done

test_case "global options after a subcommand: names and their choices; --progress takes no value"
expect_words "--log-format"$'\n'"--log-level" "$(complete_words "$AERODB_REPL" snapshot install --log-)"
expect_words "debug" "$(complete_words "$AERODB_REPL" apply-wal --log-level d)"
expect_words "--json" "$(complete_words "$AERODB_REPL" --progress status --j)"

test_case "directories where a directory is expected"
for words in "ship-wal -D" "ship-wal --data-dir" "ship-wal -D node-a --to" "apply-wal --from" \
             "promote --archive" "check-history --archive"; do
  # shellcheck disable=SC2086
  expect_words "inbox"$'\n'"node-a"$'\n'"node-b" "$(complete_words "$AERODB_REPL" $words "")"
done
expect_words "node-a"$'\n'"node-b" "$(complete_words "$AERODB_REPL" apply-wal -D node)"
expect_words "node-a" "$(complete_words "$AERODB" put -D node-a)"

test_case "files where a file is expected, choices where --help lists them"
expect_words "node.tar.zst" "$(complete_words "$AERODB_REPL" snapshot export -D node-a -o node.)"
expect_words "notes.txt" "$(complete_words "$AERODB_REPL" verify not)"
expect_words "zstd" "$(complete_words "$AERODB_REPL" snapshot export --compression z)"
expect_words "none"$'\n'"zstd" "$(complete_words "$AERODB_REPL" snapshot export --compression "")"

test_case "nested subcommands and their options"
expect_words "export"$'\n'"install" "$(complete_words "$AERODB_REPL" snapshot "")"
got=$(complete_words "$AERODB_REPL" snapshot install --d)
expect_words "--data-dir"$'\n'"--discard-existing" "$got"

test_case "an option's value is not taken for a subcommand"
expect_words "" "$(complete_words "$AERODB_REPL" ship-wal --max-segment-bytes "")"
got=$(complete_words "$AERODB_REPL" ship-wal -D status --j)
expect_words "--json" "$got"

finish
