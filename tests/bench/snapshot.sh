#!/usr/bin/env bash
# snapshot export / verify / install throughput as ratios against the peers,
# measured on this machine in the same run (../shared/bench/peers.sh, and
# tar | zstd and openssl dgst over the same files), on two shapes of node:
#   storage  a checkpointed node: almost all bytes in snapshots/<id>/storage.dat
#   wal      a node never checkpointed: almost all bytes in wal/wal.log
#   bash tests/bench/snapshot.sh [MIB] [BUILD_DIR]   (default 512 MiB of node state, build-rel)
#   SHAPES="storage wal" (default both)
#   RUNS=N (default 5): verify, install and the same-bytes peers are medians of N
#   rounds, each timed step after the same settle() (see below)
#   EXPORT_RUNS=N (default 3): export zstd and tar | zstd, medians of N rounds
# Needs root for peers.sh (it installs PostgreSQL and pgBackRest when missing).
# Prints one line per figure and a ratio per target; never part of ctest.
set -euo pipefail
cd "$(dirname "$0")/../.."
MIB=${1:-512}
B=${2:-build-rel}
SHAPES=${SHAPES:-storage wal}
if [ ! -x "$B/cli/aerodb-repl" ]; then
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$B" -j2 >/dev/null
fi
AERODB=$B/cli/aerodb REPL=$B/cli/aerodb-repl
if ! "$REPL" --help 2>/dev/null | grep -qE '^ +snapshot +'; then
  echo "$REPL has no 'snapshot export' (a stale build?); rebuild $B and re-run" >&2; exit 1
fi
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
command -v zstd >/dev/null || { apt-get update -qq && apt-get install -y -qq zstd >/dev/null; }
W=$(mktemp -d "${TMPDIR:-/tmp}/aerodb-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
source tests/bench/common.sh

# The peers of both shapes, once (peers.sh installs and runs PostgreSQL).
PEERS=$W/peers.txt
run_peers "$MIB" "$PEERS"

# build_node SHAPE: a node in $W/p with >= MIB MiB of state; 16 records of
# 16 KiB per write set.
build_node() {
  local P=$W/p
  if [ "$1" = storage ]; then
    # Updates and deletes keep the state near 11000 bytes per record loaded;
    # if it falls short, rebuild with proportionally more write sets (one
    # checkpoint only, so snapshots/ holds just the snapshot the export
    # takes, for the tar peer too). Then a small WAL tail.
    SETS=$(( MIB * 1048576 / (16 * 11000) + 1 ))
    while :; do
      rm -rf "$P"
      "$AERODB" init -D "$P" >/dev/null
      "$AERODB" load -D "$P" --write-sets "$SETS" --records-per-set 16 --body-bytes 16384 --seed 1 >/dev/null
      "$AERODB" checkpoint -D "$P" >/dev/null
      STORAGE=$(stat -c %s "$P"/snapshots/*/storage.dat)
      [ "$STORAGE" -ge $(( MIB * 1048576 )) ] && break
      SETS=$(( SETS * MIB * 1048576 / STORAGE + 16 ))
    done
    "$AERODB" load -D "$P" --write-sets 20 --records-per-set 16 --body-bytes 16384 --seed 2 >/dev/null
    DESC="$((STORAGE / 1048576)) MiB of storage.dat ($SETS write sets, checkpointed) + $(( $(stat -c %s "$P/wal/wal.log") / 1024 )) KiB of WAL tail"
  else
    # Never checkpointed: the archive is the WAL (SNAP-15 hashes it once).
    SETS=$(( MIB * 1048576 / (16 * 16450) + 1 ))
    rm -rf "$P"
    "$AERODB" init -D "$P" >/dev/null
    "$AERODB" load -D "$P" --write-sets "$SETS" --records-per-set 16 --body-bytes 16384 --seed 1 >/dev/null
    DESC="$(( $(stat -c %s "$P/wal/wal.log") / 1048576 )) MiB of WAL ($SETS write sets, never checkpointed)"
  fi
}


shape() {
  local S=$1 P=$W/p
  build_node "$S"
  settle
  # export, zstd level 1, against tar | zstd -1 of the same files (both end
  # with a synced file: export syncs its archive, so the peer gets a sync
  # too), in EXPORT_RUNS rounds (default 3), each step after settle().
  local TARIN EZ_ALL=() TZ_ALL=() TZN_ALL=() run t0 t1 t2
  TARIN=$(du -cb "$P/data" "$P/snapshots" "$P/wal" "$P/metadata" | tail -1 | cut -f1)
  for run in $(seq "${EXPORT_RUNS:-3}"); do
    t0=$(now)
    /usr/bin/time -f %M -o "$W/export_zstd.rss.$run" \
      "$REPL" snapshot export -D "$P" -o "$W/snap.zst.archive" --compression zstd --level 1 --json >"$W/export_zstd.json"
    t1=$(now)
    DATA=$(jnum data_bytes "$W/export_zstd.json")
    EZ_ALL+=("$(mbps "$DATA" "$t0" "$t1")")
    settle
    t0=$(now)
    tar -cf - -C "$P" data snapshots wal metadata | zstd -1 -q -o "$W/peer.tar.zst"
    t1=$(now); sync "$W/peer.tar.zst"; t2=$(now)
    TZ_ALL+=("$(mbps "$TARIN" "$t0" "$t2")")
    TZN_ALL+=("$(mbps "$TARIN" "$t0" "$t1")")
    MEMBERS=$(jnum members "$W/export_zstd.json")
    ZARCH=$(jnum archive_bytes "$W/export_zstd.json")
    TARZ=$(stat -c %s "$W/peer.tar.zst")
    if [ "$run" -lt "${EXPORT_RUNS:-3}" ]; then rm -f "$W/snap.zst.archive"; fi
    rm -f "$W/peer.tar.zst"
    settle
  done
  local EXPORT_ZSTD TAR_ZSTD TAR_ZSTD_NOSYNC
  EXPORT_ZSTD=$(echo "${EZ_ALL[*]}" | median)
  TAR_ZSTD=$(echo "${TZ_ALL[*]}" | median)
  TAR_ZSTD_NOSYNC=$(echo "${TZN_ALL[*]}" | median)
  sort -n "$W"/export_zstd.rss.* | tail -1 > "$W/export_zstd.rss"

  # export, uncompressed; then RUNS rounds (default 5) of: verify of the
  # plain archive against openssl dgst -sha256 of it; verify of the zstd
  # archive against openssl dgst of the compressed file and against zstd -dc
  # | openssl dgst (the same bytes after decompression); cat+sync (the disk's
  # limit on the same bytes, in the same rounds: peers.sh's write_fsync is
  # over MIB bytes, at another time); install. Each figure is its median,
  # because this disk's write speed swings by 2-5x from one minute to the next.
  t0=$(now)
  /usr/bin/time -f %M -o "$W/export_none.rss" \
    "$REPL" snapshot export -D "$P" -o "$W/snap.archive" --compression none --json >"$W/export_none.json"
  t1=$(now)
  local DATA_NONE EXPORT_NONE ARCH ZBYTES
  DATA_NONE=$(jnum data_bytes "$W/export_none.json")
  EXPORT_NONE=$(mbps "$DATA_NONE" "$t0" "$t1")
  ARCH=$(stat -c %s "$W/snap.archive")
  ZBYTES=$(stat -c %s "$W/snap.zst.archive")
  sync
  local RUNS=${RUNS:-5} V_ALL=() VZ_ALL=() H_ALL=() HZ_ALL=() DH_ALL=() F_ALL=() I_ALL=()
  for run in $(seq "$RUNS"); do
    settle
    t0=$(now); /usr/bin/time -f %M -o "$W/verify.rss.$run" "$REPL" verify "$W/snap.archive" >/dev/null; t1=$(now)
    V_ALL+=("$(mbps "$ARCH" "$t0" "$t1")")
    settle
    t0=$(now); openssl dgst -sha256 "$W/snap.archive" >/dev/null; t1=$(now)
    H_ALL+=("$(mbps "$ARCH" "$t0" "$t1")")
    settle
    t0=$(now); /usr/bin/time -f %M -o "$W/verifyz.rss.$run" "$REPL" verify "$W/snap.zst.archive" >/dev/null; t1=$(now)
    VZ_ALL+=("$(mbps "$ZBYTES" "$t0" "$t1")")
    settle
    t0=$(now); openssl dgst -sha256 "$W/snap.zst.archive" >/dev/null; t1=$(now)
    HZ_ALL+=("$(mbps "$ZBYTES" "$t0" "$t1")")
    settle
    t0=$(now); zstd -dcq "$W/snap.zst.archive" | openssl dgst -sha256 >/dev/null; t1=$(now)
    DH_ALL+=("$(mbps "$ZBYTES" "$t0" "$t1")")
    settle
    t0=$(now); cat "$W/snap.archive" > "$W/one.bin"; sync "$W/one.bin"; t1=$(now)
    F_ALL+=("$(mbps "$ARCH" "$t0" "$t1")")
    rm -f "$W/one.bin"
    settle
    t0=$(now); /usr/bin/time -f %M -o "$W/install.rss.$run" "$REPL" snapshot install -D "$W/r" "$W/snap.archive" >/dev/null; t1=$(now)
    I_ALL+=("$(mbps "$DATA_NONE" "$t0" "$t1")")
    rm -rf "$W/r"
  done
  local VERIFY VERIFYZ SHA_ARCH SHA_ZARCH DSHA WFS_ARCH INSTALL f kib
  VERIFY=$(echo "${V_ALL[*]}" | median); SHA_ARCH=$(echo "${H_ALL[*]}" | median)
  VERIFYZ=$(echo "${VZ_ALL[*]}" | median); SHA_ZARCH=$(echo "${HZ_ALL[*]}" | median)
  DSHA=$(echo "${DH_ALL[*]}" | median)
  WFS_ARCH=$(echo "${F_ALL[*]}" | median); INSTALL=$(echo "${I_ALL[*]}" | median)
  for f in verify verifyz install; do sort -n "$W"/$f.rss.* | tail -1 > "$W/$f.rss"; done
  rm -rf "$W/r" "$W/snap.archive" "$W/snap.zst.archive"

  echo
  echo "shape '$S': $DESC"
  echo "  archive: $MEMBERS members, $((DATA / 1048576)) MiB of member bytes"
  echo "  runs (MB/s): export-zstd ${EZ_ALL[*]} | tar|zstd ${TZ_ALL[*]} | verify ${V_ALL[*]} | openssl ${H_ALL[*]} | verify-zstd ${VZ_ALL[*]} | openssl-zstd ${HZ_ALL[*]} | zstd-d+openssl ${DH_ALL[*]} | cat+sync ${F_ALL[*]} | install ${I_ALL[*]}; medians below"
  echo "  export --compression zstd --level 1  $EXPORT_ZSTD MB/s over member bytes, $((ZARCH / 1048576)) MiB written, peak RSS $(( $(rss "$W/export_zstd.rss") / 1024 )) MiB"
  echo "  tar | zstd -1 + sync (same files)    $TAR_ZSTD MB/s over $((TARIN / 1048576)) MiB ($TAR_ZSTD_NOSYNC MB/s before the sync), $((TARZ / 1048576)) MiB written"
  echo "  export --compression none            $EXPORT_NONE MB/s, $((ARCH / 1048576)) MiB written, peak RSS $(( $(rss "$W/export_none.rss") / 1024 )) MiB"
  echo "  verify (plain archive)               $VERIFY MB/s over the archive's bytes, peak RSS $(( $(rss "$W/verify.rss") / 1024 )) MiB"
  echo "  openssl dgst -sha256 (same archive)  $SHA_ARCH MB/s"
  echo "  verify (zstd archive)                $VERIFYZ MB/s over the compressed file's $((ZBYTES / 1048576)) MiB, peak RSS $(( $(rss "$W/verifyz.rss") / 1024 )) MiB"
  echo "  openssl dgst -sha256 (zstd archive)  $SHA_ZARCH MB/s; zstd -dc | openssl dgst: $DSHA MB/s (both over the compressed bytes)"
  echo "  install (plain archive)              $INSTALL MB/s over member bytes, peak RSS $(( $(rss "$W/install.rss") / 1024 )) MiB"
  echo "  cat archive > file + sync (same bytes, same rounds)  $WFS_ARCH MB/s"
  local PS=$W/peers.$S.txt
  cp "$PEERS" "$PS"
  { echo "tar_zstd1_sync $TAR_ZSTD"; echo "sha256_archive $SHA_ARCH"; echo "sha256_zstd_archive $SHA_ZARCH";
    echo "zstd_d_sha256_archive $DSHA"; echo "write_fsync_archive $WFS_ARCH"; } >> "$PS"
  echo "  ratios (issue 10 targets):"
  check export-zst "$EXPORT_ZSTD" tar_zstd1_sync 0.9 "$PS"
  check verify "$VERIFY" sha256_archive 0.9 "$PS"
  check verify "$VERIFY" sha256 0.9 "$PS"
  check verify "$VERIFY" pg_verifybackup_sha256 1.0 "$PS"
  check verify-zst "$VERIFYZ" sha256_zstd_archive 0.9 "$PS"
  check verify-zst "$VERIFYZ" zstd_d_sha256_archive 0.9 "$PS"
  check install "$INSTALL" write_fsync 0.6 "$PS"
  check install "$INSTALL" write_fsync_archive 0.6 "$PS"
  for f in export_zstd export_none verify verifyz install; do
    kib=$(rss "$W/$f.rss"); echo "    peak RSS $f: $((kib / 1024)) MiB (target <= 32: $([ "$kib" -le 32768 ] && echo met || echo MISSED))"
  done
}

for S in $SHAPES; do shape "$S"; done
