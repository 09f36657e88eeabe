#!/usr/bin/env bash
# Mutation check (issue 10 part 3): every rule in tests/mutation/mutants.tsv
# is removed, one at a time, from a scratch copy of the checkout, and the
# unit tests named for it must then fail. Prints one line per mutant and
# "N mutants, K killed"; exits 1 if any survived. Not part of CI (a build
# per mutant): run it before resolving an issue that adds rules.
#   bash tests/mutation/run.sh [FILTER]   (FILTER: substrings of mutant ids, '|'-separated)
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${MUTATION_DIR:-/tmp/aerodb-mutation}
JOBS=${JOBS:-2}
rm -rf "$WORK"
mkdir -p "$WORK"
# A copy of the working tree (committed or not), without build directories.
(cd "$SRC" && git ls-files -co --exclude-standard -z) | (cd "$SRC" && xargs -0 cp --parents -t "$WORK")
cmake -S "$WORK" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null || exit 10
cmake --build "$WORK/build" -j"$JOBS" --target unit_tests >/dev/null || { echo "the unmutated tree does not build" >&2; exit 10; }
total=0 killed=0
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
  f="$WORK/$file"
  n=$(grep -cxF -- "$old" "$f")
  if [ "$n" != 1 ]; then
    echo "STALE    $id: the line occurs $n times in $file"
    continue
  fi
  cp "$f" "$f.orig"
  OLD="$old" NEW="$new" perl -0pi -e 's/^\Q$ENV{OLD}\E$/$ENV{NEW}/m' "$f"
  if ! cmake --build "$WORK/build" -j"$JOBS" --target unit_tests >/dev/null 2>&1; then
    echo "NOBUILD  $id: the mutant does not compile (fix its line in mutants.tsv)"
  elif timeout "${MUTANT_SECONDS:-300}" "$WORK/build/tests/unit_tests" -tc="$filter" >/dev/null 2>&1; then
    echo "SURVIVED $id ($file; tests: $filter)"
  else
    echo "KILLED   $id"
    killed=$((killed + 1))
  fi
  mv "$f.orig" "$f"
  touch "$f"
done <"$SRC/tests/mutation/mutants.tsv"
echo "$total mutants, $killed killed"
[ "$total" = "$killed" ]
