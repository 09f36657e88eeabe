#!/usr/bin/env bash
# Line and branch coverage of lib/ (issue 12 §4): a separate GCC Debug build
# with --coverage, the whole ctest suite (unit, crash, fault, upstream, fuzz
# corpus replays, the CLI tests), captured with lcov and restricted to lib/.
# It builds a copy of the working tree ($COVERAGE_DIR/src, committed or not,
# refreshed by content so rebuilds stay incremental): files edited while it
# runs cannot make the line numbers disagree with what was measured.
# Prints line and branch coverage for lib/ and each lib/ folder, then the
# uncovered line ranges of the TOP files with the most uncovered lines.
# Branches are counted without the exception edges GCC adds to every call
# that may throw (geninfo_no_exception_branch): the library does not throw
# across its API, so those edges would only measure std:: allocation paths.
# Not part of CI (a second full build): tests/coverage/README.md records the
# last figures and what the uncovered lines are.
#   bash tests/coverage/run.sh            build, run ctest, report
#   bash tests/coverage/run.sh --report   report again from the last capture
# Environment: COVERAGE_DIR (default build-cov: src/ the copy, obj/ the
# build), JOBS (build, default 2),
# CTEST_JOBS (default 1), TOP (default 30). The HTML report is written to
# $COVERAGE_DIR/coverage-html/index.html. Exits 1 if a test failed (the
# report is still printed), 10 if the tools or the build are missing.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${COVERAGE_DIR:-$SRC/build-cov}
TREE=$BUILD/src
OBJ=$BUILD/obj
JOBS=${JOBS:-2}
TOP=${TOP:-30}
LCOV_RC=(--rc lcov_branch_coverage=1 --rc geninfo_no_exception_branch=1)

if ! command -v lcov >/dev/null || ! command -v genhtml >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing package 'lcov' (lcov, genhtml)" >&2
    echo "hint: run as root, or: apt-get install lcov" >&2
    exit 10
  fi
  echo "coverage: installing lcov" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends lcov >/dev/null || exit 10
fi

ctest_rc=0
if [ "${1:-}" != "--report" ]; then
  mkdir -p "$TREE" "$OBJ"
  (cd "$SRC" && git ls-files -co --exclude-standard -z) |
    rsync -r --checksum --from0 --files-from=- "$SRC/" "$TREE/" || exit 10
  {
    echo "sources: $(git -C "$SRC" rev-parse --short HEAD)$(git -C "$SRC" diff --quiet HEAD -- lib || echo ' with uncommitted changes in lib/')"
    echo "copied: $(date -u +%Y-%m-%dT%H:%MZ)"
  } >"$BUILD/sources.txt"
  # -fprofile-update=atomic: the library's worker threads update the same
  # counters (without it lcov finds negative counts).
  cmake -S "$TREE" -B "$OBJ" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
    -DCMAKE_C_FLAGS="--coverage -fprofile-update=atomic" \
    -DCMAKE_CXX_FLAGS="--coverage -fprofile-update=atomic" \
    -DCMAKE_EXE_LINKER_FLAGS=--coverage -DCMAKE_SHARED_LINKER_FLAGS=--coverage \
    -DAERODB_SHARED_DIR="$(cd "$SRC/.." && pwd)/shared" \
    -DAERODB_TESTS=ON >/dev/null || { echo "coverage: cmake failed in '$OBJ'" >&2; exit 10; }
  cmake --build "$OBJ" -j"$JOBS" >"$BUILD/build.log" 2>&1 || {
    tail -30 "$BUILD/build.log" >&2; echo "coverage: the build failed in '$OBJ'" >&2; exit 10; }
  lcov --quiet --zerocounters --directory "$OBJ"
  (cd "$OBJ" && ctest -j"${CTEST_JOBS:-1}" --output-on-failure >"$BUILD/ctest.log" 2>&1) || ctest_rc=1
  grep -E '^[0-9]+% tests passed|tests failed|\(Failed\)|\(Timeout\)|\(SEGFAULT\)' "$BUILD/ctest.log"
  lcov --quiet --capture --directory "$OBJ" --base-directory "$TREE" "${LCOV_RC[@]}" \
    --output-file "$BUILD/all.info" 2>"$BUILD/lcov.log" || {
    tail -5 "$BUILD/lcov.log" >&2; echo "coverage: lcov --capture failed" >&2; exit 10; }
  # lib/ only: the system headers (/usr/*), tests/ and cli/ are left out.
  lcov --quiet --extract "$BUILD/all.info" "$TREE/lib/*" "${LCOV_RC[@]}" --output-file "$BUILD/lib.info"
  lcov --quiet --remove "$BUILD/lib.info" '/usr/*' "$TREE/tests/*" "$TREE/cli/*" "${LCOV_RC[@]}" \
    --output-file "$BUILD/lib.info"
  genhtml --quiet --branch-coverage --output-directory "$BUILD/coverage-html" "$BUILD/lib.info" \
    >/dev/null 2>&1 || echo "coverage: genhtml failed (the text report below is unaffected)" >&2
fi
[ -s "$BUILD/lib.info" ] || { echo "coverage: no capture in '$BUILD/lib.info'" >&2; exit 10; }

# One pass over the tracefile: per file, its lines (found, hit), branches
# (found, hit; a '-' branch was never reached) and uncovered ranges. A range
# joins uncovered instrumented lines with no covered instrumented line between.
cat "$BUILD/sources.txt" 2>/dev/null
awk -v src="$TREE/" -v out="$BUILD/files.txt" '
  function flush(   i, l, ranges, a, b, nun, folder) {
    if (file == "") return
    ranges = ""; a = -1; nun = 0
    for (i = 1; i <= nl; i++) {  # lcov writes DA lines in line order
      l = order[i]
      if (hits[l] == 0) { nun++; if (a < 0) a = l; b = l; continue }
      if (a >= 0) { ranges = ranges (ranges == "" ? "" : ",") (a == b ? a : a "-" b); a = -1 }
    }
    if (a >= 0) ranges = ranges (ranges == "" ? "" : ",") (a == b ? a : a "-" b)
    printf "%d\t%s\t%d\t%d\t%d\t%d\t%s\n", nun, file, lf, lh, bf, bh, ranges > out
    folder = file; sub(/\/[^\/]*$/, "", folder)
    FL[folder] += lf; FLH[folder] += lh; FB[folder] += bf; FBH[folder] += bh
    TL += lf; TLH += lh; TB += bf; TBH += bh
    split("", hits); split("", order); nl = 0; file = ""
  }
  function pct(h, f) { return f ? sprintf("%5.1f%%", 100 * h / f) : "    -" }
  function row(name, lh, lf, bh, bf) {
    return sprintf("  %-14s lines %6d/%-6d %s   branches %6d/%-6d %s", name, lh, lf, pct(lh, lf), bh, bf, pct(bh, bf))
  }
  /^SF:/ { file = substr($0, 4); if (index(file, src) == 1) file = substr(file, length(src) + 1)
           lf = lh = bf = bh = 0 }
  /^DA:/ { split(substr($0, 4), d, ","); if (!(d[1] in hits)) { lf++; hits[d[1]] = 0; order[++nl] = d[1] }
           if (d[2] + 0 > 0 && hits[d[1]] == 0) { hits[d[1]] = 1; lh++ } }
  /^BRDA:/ { split(substr($0, 6), d, ","); bf++; if (d[4] != "-" && d[4] + 0 > 0) bh++ }
  /^end_of_record/ { flush() }
  END {
    print "coverage of lib/ (GCC --coverage, Debug; branches without exception edges)"
    print row("lib/", TLH, TL, TBH, TB)
    for (f in FL) print row(f "/", FLH[f], FL[f], FBH[f], FB[f]) | "sort"
  }' "$BUILD/lib.info" || exit 10
echo "uncovered lines: the $TOP files with the most (file: count: ranges)"
sort -t$'\t' -k1,1nr -k2,2 "$BUILD/files.txt" | awk -F'\t' -v top="$TOP" '
  $1 > 0 && n++ < top { gsub(/,/, ", ", $7); printf "  %s: %d: %s\n", $2, $1, $7 }'
echo "html: $BUILD/coverage-html/index.html"
exit "$ctest_rc"
