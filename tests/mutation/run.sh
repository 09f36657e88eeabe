#!/usr/bin/env bash
# Mutation check (issue 10 part 3, issue 12 §4): every rule in
# tests/mutation/mutants.tsv is removed, one at a time, from a scratch copy
# of the checkout, and the unit tests named for it must then fail. Prints one
# line per mutant, the score per spec (the document defining the mutant's
# first rule id) and "N mutants, K killed"; exits 1 if any survived. Not part
# of CI (a build per mutant): run it before resolving an issue that adds rules.
#   bash tests/mutation/run.sh [FILTER]   (FILTER: substrings of mutant ids, '|'-separated)
#   bash tests/mutation/run.sh --audit    (no build: which enforced rules have no mutant)
# Environment: MUTATION_DIR (scratch copy, default /tmp/aerodb-mutation),
# MUTATION_KEEP=1 (reuse its build), JOBS, MUTANT_SECONDS (per test run).
# --audit reads the rule tables of specs/*.md and formats/*.md (rows
# `| ID | rule | enforced in | shown by |`): a rule is enforced in code when
# its "enforced in" cell names a lib/ or cli/ path and does not say planned
# or not enforced. It prints the enforced rules, those with a mutant (an id
# leading a mutant's name) and those without one; a rule without a mutant
# may be explained by a line `# no mutant: ID reason` in mutants.tsv. It
# also checks that every path an "enforced in" cell names exists and that
# no table row says planned without a reason (planned at the end of a cell
# or before a ';'), and lists, for information, the rules defined by format
# headings (no "enforced in" cell) that lib/ cites. Exits 1 on a missing
# path, a reasonless planned or an enforced rule neither mutated nor
# explained.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${MUTATION_DIR:-/tmp/aerodb-mutation}
JOBS=${JOBS:-2}
TSV="$SRC/tests/mutation/mutants.tsv"
# Rule ids: the prefixes tests/cli/spec_citations.sh knows, PREFIX-N.
PREFIXES=$(sed -n 's/^PREFIXES="\(.*\)"$/\1/p' "$SRC/tests/cli/spec_citations.sh")
IDRE="(${PREFIXES// /|})-[0-9]+"

# "ID<TAB>document" for every rule a table row or a heading defines.
rule_documents() {
  (cd "$SRC" && awk -v idre="^$IDRE\$" '
    /^\|/ { split($0, c, "|"); id = c[2]; gsub(/^[ \t]+|[ \t]+$/, "", id)
            if (id ~ idre) print id "\t" FILENAME; next }
    /^#+ / { h = $0; sub(/^#+ +/, "", h); sub(/[ :].*$/, "", h); if (h ~ idre) print h "\t" FILENAME }
  ' specs/*.md formats/*.md)
}
# The rule ids leading a mutant's name ("LOG-21 RECOV-5 a later ..." -> LOG-21 RECOV-5).
leading_ids() { grep -oE "^($IDRE )+" <<<"$1 " | tr ' ' '\n' | grep .; }
declare -A DOC
while IFS=$'\t' read -r id doc; do DOC[$id]=$doc; done < <(rule_documents)

if [ "${1:-}" = "--audit" ]; then
  declare -A MUTATED EXPLAINED
  while IFS= read -r line; do
    if [[ "$line" =~ ^#\ no\ mutant:\ ([A-Z]+-[0-9]+) ]]; then EXPLAINED[${BASH_REMATCH[1]}]=1; continue; fi
    [[ -z "$line" || "$line" == \#* ]] && continue
    for id in $(leading_ids "$(cut -f1 <<<"$line")"); do MUTATED[$id]=1; done
  done <"$TSV"
  # "ID<TAB>document<TAB>line<TAB>enforced-in cell" for each row of a table
  # with an "enforced in" column; "PLANNED<TAB>document<TAB>line" for a row
  # (any table) saying planned with no reason after it.
  rows=$(cd "$SRC" && awk -v idre="^$IDRE\$" '
    function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    !/^\|/ { col = 0; next }
    { n = split($0, c, "|") }
    trim(c[2]) == "id" { col = 0; for (i = 2; i < n; i++) if (trim(c[i]) == "enforced in") col = i; next }
    { id = trim(c[2]); if (id !~ idre) next
      if ($0 ~ /planned[ \t]*(\||;)/) print "PLANNED\t" FILENAME "\t" FNR "\t" id
      if (col) print id "\t" FILENAME "\t" FNR "\t" trim(c[col]) }
  ' specs/*.md formats/*.md)
  enforced=0 with=0 bad=0 without=() explained=() notcode=()
  while IFS=$'\t' read -r id doc lno cell; do
    if [ "$id" = PLANNED ]; then
      echo "planned without a reason: $doc line $lno ($cell): say why, or cite the test"; bad=1; continue
    fi
    if grep -qiE 'planned|not enforced' <<<"$cell" || ! grep -qE '(^|[^A-Za-z0-9_./-])(lib|cli)/' <<<"$cell"; then
      notcode+=("$id"); continue
    fi
    for p in $(grep -oE '(^|[^A-Za-z0-9_./-])(lib|cli)/[A-Za-z0-9_./-]*' <<<"$cell" | sed 's/^[^lc]*//'); do
      [ -e "$SRC/$p" ] || { echo "$doc line $lno: $id is enforced in '$p', which does not exist"; bad=1; }
    done
    enforced=$((enforced + 1))
    if [ -n "${MUTATED[$id]:-}" ]; then with=$((with + 1))
    elif [ -n "${EXPLAINED[$id]:-}" ]; then explained+=("$id")
    else without+=("$id"); fi
  done <<<"$rows"
  echo "$enforced rules enforced in code (specs' and formats' rule tables), $with with a mutant, $((${#explained[@]} + ${#without[@]})) without"
  ((${#explained[@]})) && echo "  without, explained in mutants.tsv: ${explained[*]}"
  ((${#without[@]})) && { echo "  without a mutant: ${without[*]}"; bad=1; }
  ((${#notcode[@]})) && echo "  not enforced in code (by their rows): ${notcode[*]}"
  # Rules a format heading defines have no "enforced in" cell: those lib/ cites.
  cited=() hwith=() hwithout=()
  for id in $(rule_documents | cut -f1 | sort -t- -k1,1 -k2,2n -u); do
    grep -qE "^\| *$id *\|" "$SRC/${DOC[$id]}" && continue  # a table row
    grep -rqwF -- "$id" "$SRC/lib" || continue
    cited+=("$id")
    if [ -n "${MUTATED[$id]:-}" ]; then hwith+=("$id"); else hwithout+=("$id"); fi
  done
  echo "rules defined by a format heading and cited in lib/: ${#cited[@]}, with a mutant ${#hwith[@]}"
  ((${#hwith[@]})) && echo "  with: ${hwith[*]}"
  ((${#hwithout[@]})) && echo "  without: ${hwithout[*]}"
  exit "$bad"
fi

# A copy of the working tree (committed or not), without build directories.
# MUTATION_KEEP=1 keeps an earlier run's copy and build: only files whose
# content changed are copied (with a new mtime, so ninja rebuilds them).
if [ "${MUTATION_KEEP:-0}" = 1 ] && [ -d "$WORK/build" ]; then
  (cd "$SRC" && git ls-files -co --exclude-standard -z) |
    rsync -r --checksum --from0 --files-from=- "$SRC/" "$WORK/" || exit 10
else
  rm -rf "$WORK"
  mkdir -p "$WORK"
  (cd "$SRC" && git ls-files -co --exclude-standard -z) | (cd "$SRC" && xargs -0 cp --parents -t "$WORK")
fi
cmake -S "$WORK" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DAERODB_SHARED_DIR="$(cd "$SRC/.." && pwd)/shared" >/dev/null || exit 10
# A filter "upstream:NAME" runs upstream_tests (AeroDB's own bytes in
# ../shared, beside the source) instead of unit_tests.
cmake --build "$WORK/build" -j"$JOBS" --target unit_tests upstream_tests >/dev/null || { echo "the unmutated tree does not build" >&2; exit 10; }
total=0 killed=0
declare -A SPEC_TOTAL SPEC_KILLED
while IFS= read -r line; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  # cut, not read: read would merge two tabs around an empty replacement.
  id=$(cut -f1 <<<"$line") file=$(cut -f2 <<<"$line") old=$(cut -f3 <<<"$line")
  new=$(cut -f4 <<<"$line") filter=$(cut -f5 <<<"$line")
  if [ -n "${1:-}" ]; then  # FILTER: substrings separated by '|'; any one selects
    hit=0
    IFS='|' read -ra wants <<<"$1"
    for w in "${wants[@]}"; do [[ "$id" == *"$w"* ]] && hit=1; done
    [ "$hit" = 1 ] || continue
  fi
  total=$((total + 1))
  first=$(leading_ids "$id" | head -1)
  spec=${DOC[${first:-none}]:-"(no rule id)"}
  SPEC_TOTAL[$spec]=$((${SPEC_TOTAL[$spec]:-0} + 1))
  f="$WORK/$file"
  n=$(grep -cxF -- "$old" "$f")
  if [ "$n" != 1 ]; then
    echo "STALE    $id: the line occurs $n times in $file"
    continue
  fi
  bin=unit_tests
  if [[ "$filter" == upstream:* ]]; then bin=upstream_tests filter=${filter#upstream:}; fi
  # A filter that selects no test case passes: the mutant would "survive"
  # for a typo, or "be killed" by nothing at all. Say so instead.
  if ! "$WORK/build/tests/$bin" -tc="$filter" --count --no-version 2>/dev/null |
      grep -q 'current filters: [1-9]'; then
    echo "NOTESTS  $id: no test case matches '$filter'"
    continue
  fi
  cp "$f" "$f.orig"
  OLD="$old" NEW="$new" perl -0pi -e 's/^\Q$ENV{OLD}\E$/$ENV{NEW}/m' "$f"
  if ! cmake --build "$WORK/build" -j"$JOBS" --target "$bin" >/dev/null 2>&1; then
    echo "NOBUILD  $id: the mutant does not compile (fix its line in mutants.tsv)"
  elif timeout "${MUTANT_SECONDS:-300}" "$WORK/build/tests/$bin" -tc="$filter" >/dev/null 2>&1; then
    echo "SURVIVED $id ($file; tests: $filter)"
  else
    echo "KILLED   $id"
    killed=$((killed + 1))
    SPEC_KILLED[$spec]=$((${SPEC_KILLED[$spec]:-0} + 1))
  fi
  mv "$f.orig" "$f"
  touch "$f"
done <"$TSV"
echo "mutation score per spec (killed/mutants):"
while IFS= read -r spec; do  # a line each: "(no rule id)" holds spaces
  [ -n "$spec" ] || continue
  printf '  %-42s %3d/%-3d\n' "$spec" "${SPEC_KILLED[$spec]:-0}" "${SPEC_TOTAL[$spec]}"
done < <(printf '%s\n' "${!SPEC_TOTAL[@]}" | sort)
echo "$total mutants, $killed killed"
[ "$total" = "$killed" ]
