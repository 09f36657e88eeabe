#!/usr/bin/env bash
# A drill of the cron-rsync pipeline in a temp directory, without cron: five
# "minutes" of writes on a primary, each followed by ship.sh, transfer.sh and
# apply.sh, with a local INBOX standing in for replica:INBOX/. Along the way
# it exercises the outcomes cron must tolerate: a locked primary (skip), a
# segment still in transit and a gap (waiting), a checkpoint on the primary.
#   run-demo.sh BIN_DIR      (BIN_DIR holds aerodb and aerodb-repl)
# Ends with "cron-rsync demo ok: replica at commit N", or exits non-zero at
# the first step that does not do what it should.
set -euo pipefail
BIN=$(cd "${1:?usage: run-demo.sh BIN_DIR}" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export AERODB=$BIN/aerodb AERODB_REPL=$BIN/aerodb-repl
for tool in rsync jq flock; do
  if ! command -v "$tool" >/dev/null; then
    echo "missing tool '$tool': the drill needs it" >&2
    echo "hint: apt-get install -y $tool" >&2
    exit 10
  fi
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-cron-rsync.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
P=$WORK/primary       # the primary's data directory
OUTBOX=$WORK/outbox   # ship-wal's target on the primary host
INBOX=$WORK/inbox     # stands in for replica:/srv/aerodb/inbox
R=$WORK/replica       # the replica's data directory (bootstrapped by apply.sh)
mkdir "$OUTBOX" "$INBOX"

step() { printf '\n== %s\n' "$*"; }
die() {
  echo "demo failed 'run-demo.sh': $1" >&2
  echo "hint: ${2:-re-run with 'bash -x' to see the failing step}" >&2
  exit 1
}
ship() { bash "$HERE/ship.sh" "$P" "$OUTBOX"; }
transfer() { bash "$HERE/transfer.sh" "$OUTBOX" "$INBOX"; }
apply() { REPLICA_NAME=demo-replica bash "$HERE/apply.sh" "$R" "$INBOX"; }
commit_of() { "$AERODB" scan -D "$1" --json | jq -r .commit; }
segments_in() { find "$1" -maxdepth 1 -type f -name '*.seg' ! -name '.*' | sort; }
# expect_line WANT CMD...: CMD exits 0 and its stdout contains WANT.
expect_line() {
  local want=$1 got
  shift
  got=$("$@") || die "'$*' exited $?, expected 0"
  echo "$got"
  grep -qF -- "$want" <<<"$got" || die "'$*' printed '$got', expected a line with '$want'"
}
caught_up() {
  local p r
  p=$(commit_of "$P")
  r=$(commit_of "$R")
  [ "$p" = "$r" ] || die "replica at commit $r, primary at $p after round $1"
  [ -z "$(segments_in "$OUTBOX")" ] || die "OUTBOX not empty after transfer: $(segments_in "$OUTBOX")"
  echo "round $1: primary and replica at commit $p"
}

step "create a primary and load it"
"$AERODB" init -D "$P"
"$AERODB" load -D "$P" --write-sets 300 --seed 1

for round in 1 2 3 4 5; do
  step "minute $round: writes on the primary"
  "$AERODB" load -D "$P" --write-sets $((40 * round)) --seed $((100 + round))
  "$AERODB" put -D "$P" "drill/round-$round" "{\"round\":$round}"
  case $round in
    2)
      step "minute 2: ship.sh while another ship to the same outbox runs (exit 7 -> skip)"
      # The per-target lock of LOG-25: first 16 hex of SHA-256(realpath OUTBOX).
      key=$(printf '%s' "$(realpath "$OUTBOX")" | sha256sum | cut -c1-16)
      expect_line "skipped '$P'" flock "$P/replication/shipped/$key.lock" bash "$HERE/ship.sh" "$P" "$OUTBOX"
      [ -z "$(segments_in "$OUTBOX")" ] || die "a locked ship.sh published $(segments_in "$OUTBOX")"
      step "minute 2: a writer holds the primary; ship.sh ships beside it (LOG-25)"
      expect_line "shipped '" flock "$P/replication/lock" bash "$HERE/ship.sh" "$P" "$OUTBOX"
      "$AERODB" put -D "$P" "drill/round-2b" '{"beside":"ship"}'
      ;;
    5)
      step "minute 5: a segment is delayed, the next one arrives first (exit 3 -> waiting)"
      expect_line "shipped '" ship
      mkdir "$WORK/delayed"
      mv "$OUTBOX"/*.seg "$WORK/delayed/"
      "$AERODB" put -D "$P" drill/after-gap '{"late":true}'
      ;;
  esac

  if [ "$round" = 3 ]; then
    step "minute 3: a slow transfer still runs: the next transfer skips, ship.sh ships (LOG-31)"
    lock="$(dirname "$(realpath "$OUTBOX")")/.$(basename "$OUTBOX").transfer.lock"
    expect_line "skipped '$OUTBOX'" flock "$lock" bash "$HERE/transfer.sh" "$OUTBOX" "$INBOX"
    expect_line "shipped '" flock "$lock" bash "$HERE/ship.sh" "$P" "$OUTBOX"
  else
    expect_line "shipped '" ship
  fi
  if [ "$round" = 3 ]; then
    step "minute 3: checkpoint the primary once its WAL has been shipped"
    "$AERODB" checkpoint -D "$P"
  fi
  if [ "$round" = 4 ]; then
    step "minute 4: a segment half-way through its transfer (exit 8 -> waiting)"
    seg=$(segments_in "$OUTBOX" | head -n 1)
    head -c 1000 "$seg" >"$INBOX/$(basename "$seg")"
    before=$(commit_of "$R")
    expect_line "waiting '$INBOX': in transit (exit 8)" apply
    [ "$(commit_of "$R")" = "$before" ] || die "apply.sh applied from a segment in transit"
  fi
  expect_line "transferred '" transfer
  if [ "$round" = 5 ]; then
    expect_line "waiting '$INBOX': gap (exit 3)" apply
    step "minute 6: the delayed segment arrives"
    mv "$WORK/delayed/"*.seg "$OUTBOX/"
    expect_line "transferred '$OUTBOX': 1 file(s)" transfer
  fi
  if [ "$round" = 1 ]; then
    expect_line "bootstrapped replica '$R'" apply
  else
    expect_line "up to date '$R'" apply
  fi
  caught_up "$round"
  expect_line "nothing to ship" ship
done

step "daily on the primary host: a snapshot archive into the outbox, carried like a segment"
expect_line "exported snapshot of '$P'" bash "$HERE/snapshot.sh" "$P" "$OUTBOX"
expect_line "transferred '" transfer
[ -f "$INBOX/replica-demo-replica.json" ] || die "apply.sh did not register the replica in '$INBOX'"
before=$(segments_in "$INBOX" | wc -l)
step "daily on the replica host: prune.sh keeps 1 snapshot and what the registered replica needs"
expect_line "pruned '$INBOX': 0 snapshot archive(s) and " bash "$HERE/prune.sh" "$INBOX" 1
after=$(segments_in "$INBOX" | wc -l)
[ "$after" -lt "$before" ] || die "prune.sh removed no segment ($before before, $after after)"
echo "prune.sh removed $((before - after)) of $before segments from '$INBOX'"
"$AERODB_REPL" verify "$INBOX" >/dev/null || die "verify '$INBOX' after prune exited $?"

step "minute 7: the replica keeps applying from the pruned inbox"
"$AERODB" load -D "$P" --write-sets 50 --seed 107
expect_line "shipped '" ship
expect_line "transferred '" transfer
expect_line "up to date '$R'" apply
caught_up 7
expect_line "nothing to prune '$INBOX'" bash "$HERE/prune.sh" "$INBOX" 2

step "the replica holds the primary's documents at the primary's CommitId"
"$AERODB" scan -D "$P" --json | jq -S '{commit, documents}' >"$WORK/primary.json"
"$AERODB" scan -D "$R" --json | jq -S '{commit, documents}' >"$WORK/replica.json"
cmp -s "$WORK/primary.json" "$WORK/replica.json" ||
  die "scan differs: $(diff "$WORK/primary.json" "$WORK/replica.json" | head -n 5)"
n=$(jq .commit "$WORK/replica.json")
docs=$(jq '.documents | length' "$WORK/replica.json")
if [ "$n" -eq 0 ] || [ "$docs" -eq 0 ]; then
  die "nothing was replicated (commit $n, $docs documents)"
fi
[ -z "$(ls -A "$OUTBOX")" ] || die "OUTBOX not empty after rsync --remove-source-files: $(ls -A "$OUTBOX")"
"$AERODB_REPL" verify "$R" >/dev/null

step "a page-worthy outcome: apply.sh pointed at the primary (exit 5, stderr)"
rc=0
bash "$HERE/apply.sh" "$P" "$INBOX" 2>"$WORK/page.err" || rc=$?
cat "$WORK/page.err"
[ "$rc" = 5 ] || die "apply.sh on the primary exited $rc, expected 5"
if ! grep -q "^apply-wal failed '$P': exit 5 (refused), page an operator" "$WORK/page.err" ||
  ! grep -q '^hint: ' "$WORK/page.err"; then
  die "apply.sh did not report the refusal on stderr"
fi
echo "$docs documents on both; OUTBOX empty; inbox holds $(segments_in "$INBOX" | wc -l) segments"
echo "cron-rsync demo ok: replica at commit $n"
