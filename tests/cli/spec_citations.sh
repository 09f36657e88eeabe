# The contract documents cannot drift from the tests and the code:
#   1. every test a spec or format cites exists: the file is there, holds a
#      doctest TEST_CASE (or SUBCASE) or a shell test_case of that exact
#      name, and is built (.cc: listed in tests/CMakeLists.txt) or registered
#      (tests/cli/NAME.sh: NAME in tests/CMakeLists.txt);
#   2. nothing cited as planned exists already: a planned citation of a test
#      that exists, a planned file that holds a test named after the row's
#      rule id, a row whose only "shown by" is planned while some test is
#      named after its id;
#   3. every rule id used in lib/, cli/ and tests/ (comments, strings,
#      test names) and in the documents themselves is defined, exactly once:
#      a table row `| ID | ...` or a heading `### ID Title` in specs/*.md
#      or formats/*.md;
#   4. every rule a table row defines is shown by a test: a tests/ file
#      mentions the id, or the row cites a named test, or its "shown by"
#      cell says "planned" ("none yet" is not enough: say planned, or cite
#      the test). Every rule a format heading defines: a tests/ file
#      mentions the id, or its section says "planned".
#
# Accepted citation syntax (in specs/*.md and formats/*.md, any line; a
# citation does not continue over a line break):
#   citation := PATH [ NAME { [REMARK] "," NAME } ]
#   PATH     := tests/<chars A-Za-z0-9_./-> ending in .cc, .h or .sh,
#               optionally in backticks
#   NAME     := '"' exact test name '"'   (no '"' inside; matched verbatim)
#   REMARK   := "(" balanced text ")"     (a note after a name, skipped)
# so `tests/a.cc "x" (a note), "y"; tests/b.sh "z"` cites x and y in
# tests/a.cc and z in tests/b.sh. A PATH with no NAME cites the file only.
# A citation is planned when the word "planned" appears between the start
# of its segment and its PATH. Segments are split at a ';' outside quotes
# and parentheses, and at the edges of a table cell, so in
# `planned (issue): tests/a.cc, tests/b.cc; tests/c.cc "n"` a.cc and b.cc
# are planned and c.cc is not. A planned citation needs no file or test; a
# non-planned one needs both.
# Rule ids are PREFIX-N with PREFIX one of $PREFIXES below; a table row
# defines its id when its first cell is exactly the id, a heading when its
# text starts with the id. The "shown by" cell is the column headed
# "shown by", else the last one.
# Test names are read from one line each: TEST_CASE("..."), SUBCASE("..."),
# TEST_CASE_FIXTURE(F, "...") (adjacent literals on that line concatenated,
# C escapes undone) and test_case "..." or test_case '...' (a double-quoted
# name with $ or ` in it is computed at run time and cannot be cited).
#
# Needs no binary: SRC defaults to the checkout holding this script. The
# parser is checked first on a small fixture, and the real documents must
# yield named citations, so a parser that finds none cannot pass.
set -uo pipefail
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
PREFIXES="FM LOG MODEL SNAP SEG REC HIST NODE ARC READ RECOV HFILE COMPAT OPS RET FOLLOW SIG ENC OBJ"
source "$(dirname "$0")/harness.sh"

cat >"$T/check.awk" <<'AWK'
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function report(msg) { out[++nout] = msg }
function where(f, l) { return (f ~ /^formats\// ? "format" : "spec") " '" f "' line " l }
# find_ids(s): FOUND[1..k] = the rule ids in s (not part of a longer word)
function find_ids(s,    k, id, b, a) {
  k = 0
  while (match(s, IDRE)) {
    id = substr(s, RSTART, RLENGTH)
    b = RSTART > 1 ? substr(s, RSTART - 1, 1) : ""
    a = substr(s, RSTART + RLENGTH, 1)
    if (b !~ /[A-Za-z0-9_-]/ && a !~ /[A-Za-z0-9_]/) FOUND[++k] = id
    s = substr(s, RSTART + RLENGTH)
  }
  return k
}
function add_name(f, name,    k, i) {
  has_name[f, name] = 1
  k = find_ids(name)
  for (i = 1; i <= k; i++) {
    if (!((f, FOUND[i]) in name_with_id)) name_with_id[f, FOUND[i]] = name
    if (!(FOUND[i] in any_name_with_id)) any_name_with_id[FOUND[i]] = f " \"" name "\""
  }
}
# C string literals from position p of s (p at the opening quote), adjacent
# ones concatenated; sets LIT; returns 0 when unterminated.
function c_literals(s, p,    n, c, v) {
  LIT = ""; n = length(s)
  while (substr(s, p, 1) == "\"") {
    p++
    while (p <= n && (c = substr(s, p, 1)) != "\"") {
      if (c == "\\") {
        p++; c = substr(s, p, 1)
        if (c == "n") c = "\n"; else if (c == "t") c = "\t"
      }
      LIT = LIT c; p++
    }
    if (p > n) return 0
    p++
    while (substr(s, p, 1) ~ /[ \t]/) p++
  }
  return 1
}
function cc_names(f, s,    b, e) {
  while (match(s, /(TEST_CASE|SUBCASE)[ \t]*\([ \t]*"|TEST_CASE_FIXTURE[ \t]*\([^,"]*,[ \t]*"/)) {
    b = RSTART > 1 ? substr(s, RSTART - 1, 1) : ""
    e = RSTART + RLENGTH
    if (b !~ /[A-Za-z0-9_]/ && c_literals(s, e - 1)) add_name(f, LIT)
    s = substr(s, e)
  }
}
function sh_names(f, s,    q, p, n, c, v, dyn) {
  if (!match(s, /^(.*[;&|{ \t])?test_case[ \t]+["']/)) return
  q = substr(s, RSTART + RLENGTH - 1, 1); p = RSTART + RLENGTH; n = length(s); v = ""; dyn = 0
  while (p <= n && (c = substr(s, p, 1)) != q) {
    if (q == "\"" && c == "\\") { p++; c = substr(s, p, 1) }
    else if (q == "\"" && (c == "$" || c == "`")) dyn = 1
    v = v c; p++
  }
  if (p <= n && !dyn) add_name(f, v)
}
function skip_sp(s, p) { while (substr(s, p, 1) ~ /[ \t]/) p++; return p }
# p at "(": the position after its matching ")"
function skip_parens(s, p,    d, n, c, inq) {
  d = 0; n = length(s); inq = 0
  for (; p <= n; p++) {
    c = substr(s, p, 1)
    if (inq) { if (c == "\"") inq = 0; continue }
    if (c == "\"") inq = 1
    else if (c == "(") d++
    else if (c == ")" && --d == 0) return p + 1
  }
  return p
}
function add_cite(f, l, rowid, path, name, planned) {
  nc++
  c_file[nc] = f; c_line[nc] = l; c_row[nc] = rowid; c_path[nc] = path
  c_name[nc] = name; c_planned[nc] = planned
  if (name != "" && !planned && rowid != "") row_named[rowid] = 1
}
# the citations in s (a table cell or a prose line)
function parse_text(s, f, l, rowid,    n, i, c, d, inq, seg, rest, path, planned, j, k, e, names) {
  n = length(s); d = 0; inq = 0; seg = 1; i = 1
  while (i <= n) {
    c = substr(s, i, 1)
    if (inq) { if (c == "\"") inq = 0; i++; continue }
    if (c == "\"") inq = 1
    else if (c == "(") d++
    else if (c == ")" && d > 0) d--
    else if (c == ";" && d == 0) seg = i + 1
    else if (c == "t" && substr(s, i, 6) == "tests/" && (i == 1 || substr(s, i - 1, 1) !~ /[A-Za-z0-9_.\/-]/)) {
      rest = substr(s, i)
      if (match(rest, /^tests\/[A-Za-z0-9_.\/-]*[A-Za-z0-9_]\.(cc|h|sh)/) && substr(rest, RLENGTH + 1, 1) !~ /[A-Za-z0-9_]/) {
        path = substr(rest, 1, RLENGTH)
        planned = (tolower(substr(s, seg, i - seg)) ~ /planned/)
        j = i + RLENGTH
        if (substr(s, j, 1) == "`") j++
        names = 0
        while (1) {
          k = skip_sp(s, j)
          if (substr(s, k, 1) != "\"") break
          e = index(substr(s, k + 1), "\"")
          if (e == 0) break
          add_cite(f, l, rowid, path, substr(s, k + 1, e - 1), planned); names++
          j = k + e + 1
          k = skip_sp(s, j)
          if (substr(s, k, 1) == "(") { j = skip_parens(s, k); k = skip_sp(s, j) }
          if (substr(s, k, 1) != ",") break
          k = skip_sp(s, k + 1)
          if (substr(s, k, 1) != "\"") break
          j = k
        }
        if (!names) add_cite(f, l, rowid, path, "", planned)
        i = j
        continue
      }
    }
    i++
  }
}
# cells of a table row ("|" outside backticks, "\|" kept)
function split_cells(s, C,    n, i, c, code, cur) {
  n = 0; code = 0; cur = ""
  s = trim(s); sub(/^\|/, "", s); sub(/\|$/, "", s)
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == "\\" && substr(s, i + 1, 1) == "|") { cur = cur "\\|"; i++; continue }
    if (c == "`") code = !code
    if (c == "|" && !code) { C[++n] = cur; cur = ""; continue }
    cur = cur c
  }
  C[++n] = cur
  return n
}
function define(id, f, l, kind) {
  if (id in def_file) report(where(f, l) ": defines " id ", already defined at " def_file[id] " line " def_line[id])
  else { def_file[id] = f; def_line[id] = l; def_kind[id] = kind }
}
function check_prefix(id, f, l,    p) {
  p = id; sub(/-[0-9]+$/, "", p)
  if (!(p in KNOWN)) report(where(f, l) ": defines " id ", a rule prefix this check does not know (add " p " to PREFIXES in tests/cli/spec_citations.sh)")
}
function refs(f, l, s,    k, i) {
  k = find_ids(s)
  for (i = 1; i <= k; i++) if (!((f, l, FOUND[i]) in seen_ref)) {
    seen_ref[f, l, FOUND[i]] = 1; nr++; r_file[nr] = f; r_line[nr] = l; r_id[nr] = FOUND[i]
  }
}
function built(path,    rel) {
  if (path ~ /\.cc$/) { rel = path; sub(/^tests\//, "", rel); return (rel in CM) }
  if (path ~ /^tests\/cli\/[^\/]*\.sh$/) { rel = path; sub(/^tests\/cli\//, "", rel); sub(/\.sh$/, "", rel); return (rel in CM) && rel != "lib" }
  return 1
}

BEGIN {
  np = split(PREFIXES, P, " ")
  IDRE = ""
  for (i = 1; i <= np; i++) { KNOWN[P[i]] = 1; IDRE = IDRE (i > 1 ? "|" : "") P[i] }
  IDRE = "(" IDRE ")-[0-9]+"
}
FNR == 1 {
  f = FILENAME; sub(/^\.\//, "", f)
  doc = (f ~ /^(specs|formats)\//)
  in_table = 0; prev_row = ""; hid = ""; hlevel = 0
  if (f ~ /^tests\//) exists[f] = 1
}
f == "tests/CMakeLists.txt" {
  # Words split at ":" too: a script registered in parts (drills_s3_rgw:split1) is registered.
  s = $0; sub(/#.*/, "", s); gsub(/[()"]/, " ", s)
  k = split(s, W, /[ \t:]+/); for (i = 1; i <= k; i++) CM[W[i]] = 1
  next
}
f ~ /^tests\// {
  if (f ~ /\.(cc|h)$/) cc_names(f, $0)
  else if (f ~ /\.sh$/) sh_names(f, $0)
  if (f == "tests/cli/spec_citations.sh") next  # its fixture's ids are not rules
  k = find_ids($0); for (i = 1; i <= k; i++) mentioned[FOUND[i]] = 1
  refs(f, FNR, $0)
  next
}
!doc { refs(f, FNR, $0); next }
{
  line = $0
  refs(f, FNR, line)
  if (match(line, /^#+[ \t]/)) {
    lev = RLENGTH - 1
    if (hid != "" && lev <= hlevel) hid = ""
    t = trim(substr(line, RLENGTH + 1))
    if (match(t, /^[A-Z]+-[0-9]+/) && substr(t, RLENGTH + 1, 1) !~ /[A-Za-z0-9_-]/) {
      id = substr(t, 1, RLENGTH); check_prefix(id, f, FNR)
      define(id, f, FNR, "heading"); hid = id; hlevel = lev
    }
    in_table = 0; prev_row = ""
    next
  }
  if (hid != "" && tolower(line) ~ /planned/) h_planned[hid] = 1
  if (line !~ /^[ \t]*\|/) {
    in_table = 0; prev_row = ""
    parse_text(line, f, FNR, "")
    next
  }
  if (!in_table && prev_row != "" && line ~ /^[ \t]*\|[ \t:|-]*$/ && line ~ /-/) {
    in_table = 1; shown_col = 0
    k = split_cells(prev_row, H)
    for (i = 1; i <= k; i++) if (tolower(trim(H[i])) == "shown by") shown_col = i
    next
  }
  n = split_cells(line, C)
  rowid = ""
  if (in_table) {
    first = trim(C[1])
    if (first ~ /^[A-Z]+-[0-9]+$/) {
      rowid = first; check_prefix(rowid, f, FNR); define(rowid, f, FNR, "row")
      shown = (shown_col > 0 && shown_col <= n) ? C[shown_col] : C[n]
      if (tolower(shown) ~ /planned/) row_planned[rowid] = 1
    }
  } else prev_row = line
  for (i = 1; i <= n; i++) parse_text(C[i], f, FNR, rowid)
}
END {
  # 1, 2: each citation
  for (i = 1; i <= nc; i++) {
    p = c_path[i]; nm = c_name[i]; at = where(c_file[i], c_line[i])
    if (nm != "" && !c_planned[i]) {
      if (!(p in exists)) report(at ": cites " p " \"" nm "\", but " p " does not exist")
      else if (!((p, nm) in has_name)) report(at ": cites " p " \"" nm "\", which has no such test")
      else if (!built(p) && !((c_file[i], c_line[i], p) in said_built)) {
        said_built[c_file[i], c_line[i], p] = 1
        report(at ": cites " p ", which tests/CMakeLists.txt does not " (p ~ /\.sh$/ ? "register" : "build"))
      }
    } else if (nm != "" && (p, nm) in has_name) {
      report(at ": marks " p " \"" nm "\" as planned, but that test exists")
      flagged[c_row[i]] = 1
    } else if (nm == "" && !c_planned[i] && !(p in exists)) {
      report(at ": cites " p ", which does not exist")
    }
    if (c_planned[i] && nm == "" && p in exists) {
      id = c_row[i]
      if (id != "" && (p, id) in name_with_id) {
        flagged[id] = 1
        report(at ": marks " p " as planned (for " id "), but it holds \"" name_with_id[p, id] "\"")
      }
    }
  }
  # 4: every defined rule is shown by a test or planned (in document order)
  nd = 0
  for (id in def_file) D[++nd] = def_file[id] "\t" sprintf("%06d", def_line[id]) "\t" id
  for (i = 2; i <= nd; i++) { v = D[i]; for (j = i - 1; j >= 1 && D[j] > v; j--) D[j + 1] = D[j]; D[j + 1] = v }
  for (i = 1; i <= nd; i++) {
    split(D[i], X, "\t"); id = X[3]; at = where(def_file[id], def_line[id])
    if (def_kind[id] == "row") {
      if (!(id in mentioned) && !(id in row_named) && !(id in row_planned))
        report(at ": " id " is shown by no test: its row cites no tests/FILE \"NAME\", no file in tests/ mentions " id ", and its \"shown by\" does not say planned")
      else if (id in row_planned && !(id in row_named) && !(id in flagged) && id in any_name_with_id)
        report(at ": " id "'s \"shown by\" says planned and cites no test, but " any_name_with_id[id] " is named after it")
    } else if (!(id in mentioned) && !(id in h_planned))
      report(at ": " id " is shown by no test: no file in tests/ mentions " id ", and its section does not say planned")
  }
  # 3: every rule id used is defined
  for (i = 1; i <= nr; i++) if (!(r_id[i] in def_file)) {
    if (r_file[i] ~ /^(specs|formats)\//) at = where(r_file[i], r_line[i])
    else at = "'" r_file[i] "' line " r_line[i]
    report(at ": cites " r_id[i] ", which no spec or format defines")
  }
  for (i = 1; i <= nout; i++) print out[i]
  printf "%d citations of tests (%d named), %d rules defined, %d rule ids used\n", nc, nnamed(), nd, nr > "/dev/stderr"
}
function nnamed(    i, k) { k = 0; for (i = 1; i <= nc; i++) if (c_name[i] != "") k++; return k }
AWK

# check ROOT: the failures for the tree at ROOT, one a line (stats on stderr).
check() {
  (cd "$1" && find tests lib cli specs formats -type f \
      \( -name '*.cc' -o -name '*.h' -o -name '*.sh' -o -name '*.def' -o -name '*.md' -o -name 'CMakeLists.txt' \) \
      ! -path 'tests/fuzz/corpus/*' -print | LC_ALL=C sort |
    { mapfile -t files; LC_ALL=C awk -v PREFIXES="$PREFIXES" -f "$T/check.awk" "${files[@]}"; })
}

test_case "the parser on a fixture: every kind of drift is reported, in these words"
fx=$T/fixture
mkdir -p "$fx/tests/repl" "$fx/tests/cli" "$fx/lib" "$fx/cli" "$fx/specs" "$fx/formats"
cat >"$fx/tests/CMakeLists.txt" <<'EOF'
add_executable(unit_tests repl/a_test.cc)  # repl/b_test.cc is not built
foreach(t cli_x docs)
EOF
cat >"$fx/tests/repl/a_test.cc" <<'EOF'
TEST_CASE("LOG-1 one, \"q\"") {
  SUBCASE("sub " "case") {}
}
TEST_CASE("LOG-3 exists already") {}
TEST_CASE("LOG-8 later") {}
EOF
printf '%s\n' 'TEST_CASE("here") {}' 'TEST_CASE("LOG-6 done") {}' >"$fx/tests/repl/b_test.cc"
printf '%s\n' 'source lib.sh' 'test_case "sh one"' 'test_case "$x dynamic"' >"$fx/tests/cli/cli_x.sh"
printf '%s\n' '// LOG-1 and LOG-99; SHA-256 is no rule' 'x = "SEG-1";' >"$fx/lib/x.cc"
printf '%s\n' '// see LOG-2..LOG-4' >"$fx/cli/main.cc"
cat >"$fx/specs/S.md" <<'EOF'
# S

Prose cites `tests/repl/a_test.cc` and tests/repl/missing_test.cc, and planned: tests/repl/p_test.cc "p".

| id | rule | enforced in | shown by |
| --- | --- | --- | --- |
| LOG-1 | r (LOG-7) | lib | tests/repl/a_test.cc "sub case" (a note; with "x"), "gone"; tests/cli/cli_x.sh "sh one", "$x dynamic" |
| LOG-2 | r | lib | none |
| LOG-3 | r | lib | planned: tests/repl/a_test.cc |
| LOG-4 | r | lib | tests/repl/b_test.cc "here"; planned (later): tests/repl/a_test.cc "LOG-3 exists already", tests/none.cc "n" |
| LOG-2 | again | lib | none |
| LOG-5 | r | lib | tests/repl/a_test.cc "LOG-1 one"; tests/gone_test.cc "g" |
| LOG-6 | r | lib | planned: tests/z_test.cc |
| LOG-8 | r | lib | `tests/repl/a_test.cc` "LOG-8 later" |
| LOG-9 | r | lib | lag: planned: tests/repl/a_test.cc (LOG-8; no test yet) |
| XY-1 | r | lib | planned |
| LOG-10 | r | lib | none yet: no test (to add: tests/repl/a_test.cc) |
EOF
cat >"$fx/formats/f.md" <<'EOF'
### SEG-1 Header
Shown by tests, some day.
### SEG-2 Name
planned.
## Not a rule (SEG-3)
EOF
want=$(cat <<'EOF'
spec 'specs/S.md' line 11: defines LOG-2, already defined at specs/S.md line 8
spec 'specs/S.md' line 16: defines XY-1, a rule prefix this check does not know (add XY to PREFIXES in tests/cli/spec_citations.sh)
spec 'specs/S.md' line 3: cites tests/repl/missing_test.cc, which does not exist
spec 'specs/S.md' line 7: cites tests/repl/a_test.cc "gone", which has no such test
spec 'specs/S.md' line 7: cites tests/cli/cli_x.sh "$x dynamic", which has no such test
spec 'specs/S.md' line 9: marks tests/repl/a_test.cc as planned (for LOG-3), but it holds "LOG-3 exists already"
spec 'specs/S.md' line 10: cites tests/repl/b_test.cc, which tests/CMakeLists.txt does not build
spec 'specs/S.md' line 10: marks tests/repl/a_test.cc "LOG-3 exists already" as planned, but that test exists
spec 'specs/S.md' line 12: cites tests/repl/a_test.cc "LOG-1 one", which has no such test
spec 'specs/S.md' line 12: cites tests/gone_test.cc "g", but tests/gone_test.cc does not exist
format 'formats/f.md' line 1: SEG-1 is shown by no test: no file in tests/ mentions SEG-1, and its section does not say planned
spec 'specs/S.md' line 8: LOG-2 is shown by no test: its row cites no tests/FILE "NAME", no file in tests/ mentions LOG-2, and its "shown by" does not say planned
spec 'specs/S.md' line 13: LOG-6's "shown by" says planned and cites no test, but tests/repl/b_test.cc "LOG-6 done" is named after it
spec 'specs/S.md' line 17: LOG-10 is shown by no test: its row cites no tests/FILE "NAME", no file in tests/ mentions LOG-10, and its "shown by" does not say planned
format 'formats/f.md' line 5: cites SEG-3, which no spec or format defines
'lib/x.cc' line 1: cites LOG-99, which no spec or format defines
spec 'specs/S.md' line 7: cites LOG-7, which no spec or format defines
EOF
)
got=$(check "$fx" 2>/dev/null)
if [ "$got" = "$want" ]; then pass; else fail "fixture:"$'\n'"$(diff <(echo "$want") <(echo "$got"))"; fi

test_case "the specs and formats agree with tests/, lib/ and cli/"
got=$(check "$SRC" 2>"$T/stats")
echo "spec_citations: $(cat "$T/stats")"
if grep -qE '\([1-9][0-9]* named\)' "$T/stats"; then pass; else fail "no named citation found in specs/ or formats/"; fi
if [ -z "$got" ]; then pass; else
  while IFS= read -r line; do fail "$line"; done <<<"$got"
fi

finish
