# The docs cannot drift from the code: every man page's options equal its
# command's --help, every EXIT STATUS row is a row of lib/common/codes.def, and
# the README's and aerodb-repl(1)'s exit tables equal codes.def exactly.
source "$(dirname "$0")/lib.sh"
MAN=$SRC/man

# "N|meaning" per code, from the one table.
codes=$(sed -nE 's/^AERO_CODE\(k[A-Za-z]+, ([0-9]+), "[^"]*", "(.*)"\)$/\1|\2/p' "$SRC/lib/common/codes.def")
# table_rows FILE SECTION: "N|meaning" for each "| N | meaning |" row in that section.
table_rows() {
  awk -v sec="$2" '/^## /{on = ($0 == "## " sec)} on' "$1" |
    sed -nE 's/^\| *`?([0-9]+)`? *\| *(.*[^ ]) *\|$/\1|\2/p'
}
section() { awk -v sec="$2" '/^## /{on = ($0 == "## " sec); next} on' "$1"; }
long_opts() { grep -oE -- '--[a-z][a-z-]+' | grep -vxE -- '--(help|version)' | sort -u; }

test_case "codes.def parses to thirteen rows"
if [ "$(wc -l <<<"$codes")" = 13 ]; then pass; else fail "codes.def: $codes"; fi

test_case "README exit-code table equals codes.def"
got=$(sed -nE 's/^\| *([0-9]+) *\| *(.*[^ ]) *\|$/\1|\2/p' "$SRC/README.md")
if [ "$got" = "$codes" ]; then pass; else fail "README table:"$'\n'"$got"; fi

test_case "aerodb-repl(1) EXIT STATUS equals codes.def"
got=$(table_rows "$MAN/aerodb-repl.1.md" "EXIT STATUS")
if [ "$got" = "$codes" ]; then pass; else fail "aerodb-repl.1.md table:"$'\n'"$got"; fi

sections=(NAME SYNOPSIS DESCRIPTION OPTIONS OUTPUT "EXIT STATUS" EXAMPLES "SEE ALSO")
check_page() {  # check_page PAGE BINARY SUBCOMMAND
  local page=$1 bin=$2 sub=$3 name
  name=$(basename "$page")
  test_case "$name: fixed sections in order"
  got=$(grep -E '^## ' "$page" | sed 's/^## //')
  want=$(printf '%s\n' "${sections[@]}")
  if [ "$got" = "$want" ]; then pass; else fail "sections:"$'\n'"$got"; fi

  test_case "$name: OPTIONS equal '$sub --help'"
  help=$("$bin" "$sub" --help | long_opts)
  doc=$(section "$page" OPTIONS | long_opts)
  if [ "$help" = "$doc" ]; then pass; else fail "--help: [$help] vs man: [$doc]"; fi
  syn=$(section "$page" SYNOPSIS | long_opts)
  extra=$(comm -13 <(echo "$help") <(echo "$syn"))
  if [ -z "$extra" ]; then pass; else fail "SYNOPSIS names options --help lacks: $extra"; fi
  if section "$page" SYNOPSIS | grep -qE "^$(basename "$bin") $sub( |$)"; then pass; else
    fail "SYNOPSIS does not start with '$(basename "$bin") $sub'"; fi

  test_case "$name: EXIT STATUS rows are rows of codes.def"
  rows=$(table_rows "$page" "EXIT STATUS")
  if [ -n "$rows" ]; then pass; else fail "no EXIT STATUS table"; fi
  while IFS= read -r row; do
    [ -z "$row" ] && continue
    if grep -qxF -- "$row" <<<"$codes"; then pass; else fail "row not in codes.def: $row"; fi
  done <<<"$rows"
}

for sub in $("$AERODB" --help | awk '/^Subcommands:/{on=1; next} on && NF {print $1}'); do
  if [ -f "$MAN/aerodb-$sub.1.md" ]; then pass; else test_case "man page for aerodb $sub"; fail "missing man/aerodb-$sub.1.md"; continue; fi
  check_page "$MAN/aerodb-$sub.1.md" "$AERODB" "$sub"
done
for sub in $("$AERODB_REPL" --help | awk '/^Subcommands:/{on=1; next} on && NF {print $1}'); do
  if [ -f "$MAN/aerodb-repl-$sub.1.md" ]; then pass; else test_case "man page for aerodb-repl $sub"; fail "missing man/aerodb-repl-$sub.1.md"; continue; fi
  check_page "$MAN/aerodb-repl-$sub.1.md" "$AERODB_REPL" "$sub"
done

finish
