# The man pages as `man` shows them: every man/*.md is rendered to roff at
# build time (man/CMakeLists.txt, pandoc), groff -ww reports no warning for
# any of them, and man(1) formats each with its NAME and SYNOPSIS.
# groff runs with tbl (-t, as man does) for the terminal (-Tutf8, what man
# uses) and for PostScript as one long page (-rcR=1: on paged output tbl
# warns about a table that starts near a page's end, wherever it falls).
source "$(dirname "$0")/lib.sh"
: "${MAN_DIR:?}"
if ! compgen -G "$MAN_DIR/*.[0-9]" >/dev/null; then
  echo "SKIP cli.man_render: no rendered pages in $MAN_DIR (pandoc not installed when cmake ran)"
  exit 77
fi
for tool in groff man; do
  command -v "$tool" >/dev/null || { test_case "tools"; fail "missing tool '$tool' (setup.sh installs it)"; }
done

for src in "$SRC"/man/*.[0-9].md; do
  name=$(basename "$src" .md)
  page=$MAN_DIR/$name
  test_case "$name: rendered"
  if [ -s "$page" ]; then pass; else fail "no $page"; continue; fi
  if grep -qE '^\.TH "'"${name%.*}"'" "'"${name##*.}"'"' "$page"; then pass; else
    fail "its .TH is not '${name%.*}' section ${name##*.}: $(grep -m1 '^\.TH' "$page")"; fi

  for dev in "-Tutf8" "-Tps -rcR=1"; do
    test_case "$name: groff -ww $dev -t -man gives no warnings"
    # shellcheck disable=SC2086
    warnings=$(groff $dev -ww -t -man -z "$page" 2>&1)
    if [ -z "$warnings" ]; then pass; else fail "$warnings"; fi
  done

  test_case "$name: man -l shows it"
  shown=$(MANWIDTH=80 MANPAGER=cat man --warnings -l "$page" 2>"$T/man.err")
  if [ -s "$T/man.err" ]; then fail "man: $(cat "$T/man.err")"; else pass; fi
  for heading in NAME DESCRIPTION; do
    if grep -qx "$heading" <<<"$shown"; then pass; else fail "no $heading heading"; fi
  done
  if grep -qE '^ *(```|## |\| --- )' <<<"$shown"; then fail "Markdown left in the page"; else pass; fi
  if [ "${name##*.}" = 1 ]; then
    if grep -qx SYNOPSIS <<<"$shown"; then pass; else fail "no SYNOPSIS heading"; fi
  fi
done

finish
