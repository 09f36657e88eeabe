# Each man page's SYNOPSIS equals what --help prints (man/README.md, "SYNOPSIS
# and --help"). For every command of both binaries, found from --help at test
# time (every "Subcommands:" section, recursively; none is listed here):
#   1. man/BIN[-SUB...].1.md exists and its SYNOPSIS holds the usage line of
#      `BIN [SUB...] --help`;
#   2. every SYNOPSIS line of any page that starts with a binary's name is the
#      usage line of the command it names;
#   3. every option of the "Options:" section is in the usage line.
# "Holds the usage line" is exact up to the names of option values: tokens
# compared one by one, `[` and `]` included, so a flag added to one side
# only, a flag made required, a value added to a flag, or a positional added
# fails. Names are free where they only name something: a word after an
# option inside its group is its value and compares as V (the page says
# `--to TARGET` where --help says `--to TEXT`), any other word not in lower
# case is a positional and compares as P (`COLLECTION/ID` for `NAME`);
# lower-case words (the command), SUBCOMMAND and `...` compare as they are. A
# SYNOPSIS line may continue on lines that start with a space.
# Global options, the options of the binary itself (its usage line, and so
# aerodb-repl(1)'s SYNOPSIS), may be left out of a subcommand's SYNOPSIS.
source "$(dirname "$0")/lib.sh"
MAN=$SRC/man

usage_of() { "$@" --help | sed -n 's/^Usage: //p'; }
subs_of() { "$@" --help | awk '/^Subcommands:/{on=1; next} /^[^ ]/{on=0} on && NF {print $1}'; }
# option_names BIN WORDS...: the first name of each option of "Options:".
option_lines() { "$@" --help | awk '/^Options:/{on=1; next} /^[^ ]/{on=0} on && /^  -/ {print $1}'; }
# norm LINE [GLOBAL_TOKENS]: the tokens of LINE, one a line, values as V; the
# bracket groups that hold a global option removed.
norm() {
  sed -E 's/\[/ [ /g; s/\]/ ] /g' <<<"$1" | tr -s ' \t' '\n' | awk -v globals="${2:-}" '
    BEGIN {
      gsub(/[][]/, " ", globals)
      n = split(globals, g, " "); for (i = 1; i <= n; i++) if (g[i] ~ /^-/) glob[g[i]] = 1
    }
    NF == 0 { next }
    $0 == "[" { depth++; grp = ""; drop = 0; prev = $0; next }
    $0 == "]" { depth--; if (!drop) print "[" grp "\n]"; prev = $0; next }
    {
      if (prev ~ /^-/ && $0 !~ /^-/) tok = "V"
      else if ($0 ~ /^-/ || $0 ~ /^[a-z][a-z0-9-]*$/ || $0 == "SUBCOMMAND" || $0 == "...") tok = $0
      else tok = "P"
      prev = $0
      if (depth > 0) { if ($0 in glob) drop = 1; grp = grp "\n" tok } else print tok
    }' | sed '/^$/d'
}
# synopsis_lines PAGE: the SYNOPSIS block's lines, continuations joined.
synopsis_lines() {
  awk '/^## /{on = ($0 == "## SYNOPSIS"); next} on && /^```/{next} on' "$1" |
    awk 'NF == 0 {next} /^[ \t]/ {line = line " " $0; next} {if (line != "") print line; line = $0}
         END {if (line != "") print line}'
}

declare -A USAGE PAGE_OF
# walk BIN WORDS...: records the usage of every command under BIN WORDS.
walk() {
  local key="$*" sub
  USAGE[$key]=$(usage_of "$@")
  test_case "'$key --help' has a usage line"
  if [ -n "${USAGE[$key]}" ]; then pass; else fail "no 'Usage: ' line"; fi
  test_case "'$key --help': every option is in the usage line"
  local opt name found
  for opt in $(option_lines "$@"); do
    [ "$opt" = "-h,--help" ] && continue
    found=""
    for name in ${opt//,/ }; do
      grep -qE -- "(^| |\[)$name( |\]|$)" <<<"${USAGE[$key]}" && found=1
    done
    if [ -n "$found" ]; then pass; else fail "option $opt is not in: ${USAGE[$key]}"; fi
  done
  for sub in $(subs_of "$@"); do walk "$@" "$sub"; done
}

for bin in "$AERODB" "$AERODB_REPL"; do
  name=$(basename "$bin")
  walk "$bin"
  globals=${USAGE[$bin]#"$name"}
  for key in "${!USAGE[@]}"; do
    [[ $key == "$bin" || $key == "$bin "* ]] || continue
    words=${key#"$bin"}
    page=$MAN/$name${words// /-}.1.md
    PAGE_OF[$key]=$page
    test_case "$(basename "$page"): SYNOPSIS holds '$name$words --help''s usage line"
    if [ ! -f "$page" ]; then fail "missing page for '$name$words'"; continue; fi
    glob=$globals
    [ "$key" = "$bin" ] && glob=""
    want=$(norm "${USAGE[$key]}" "$glob")
    found=""
    while IFS= read -r line; do
      [ "$(norm "$line" "$glob")" = "$want" ] && found=1
    done < <(synopsis_lines "$page")
    if [ -n "$found" ]; then pass; else
      fail "SYNOPSIS lacks the usage line: ${USAGE[$key]}"$'\n'"SYNOPSIS:"$'\n'"$(synopsis_lines "$page")"
    fi
  done
done

# 2. Every SYNOPSIS line naming a command is that command's usage line.
for page in "$MAN"/*.1.md; do
  while IFS= read -r line; do
    read -ra w <<<"$line"
    case ${w[0]} in aerodb) bin=$AERODB ;; aerodb-repl) bin=$AERODB_REPL ;; *) continue ;; esac
    key=$bin
    for ((i = 1; i < ${#w[@]}; i++)); do
      [ -n "${USAGE[$key ${w[i]}]+x}" ] || break
      key="$key ${w[i]}"
    done
    words=${key#"$bin"}
    test_case "$(basename "$page"): SYNOPSIS line '${w[0]}$words ...' is its --help usage"
    [ -n "${USAGE[$key]+x}" ] || { fail "no usage for '$key'"; continue; }
    glob=${USAGE[$bin]#"${w[0]}"}
    [ "$key" = "$bin" ] && glob=""
    want=$(norm "${USAGE[$key]}" "$glob")
    if [ "$(norm "$line" "$glob")" = "$want" ]; then pass; else
      fail "'$line' differs from --help: ${USAGE[$key]}"
    fi
  done < <(synopsis_lines "$page")
done

finish
