# Shared by tests/bench/ship_apply.sh and tests/bench/snapshot.sh (sourced):
# timing, medians, the peers' figures and the ratio lines.
now() { date +%s.%N; }
mbps() { awk -v b="$1" -v t0="$2" -v t1="$3" 'BEGIN { printf "%.1f", b / 1048576 / (t1 - t0) }'; }
ms() { awk -v t0="$1" -v t1="$2" 'BEGIN { printf "%.1f", (t1 - t0) * 1000 }'; }
rss() { awk '{print $1}' "$1"; }  # KiB, from /usr/bin/time -f %M
maxrss() { sort -n "$@" | tail -1; }
median() { tr ' ' '\n' | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
jnum() { sed -n "s/^ *\"$1\": *\([0-9]*\).*/\1/p" "$2"; }  # a number from --json output
# settle(): on this VM the first write-heavy second after an idle pause runs
# at a fraction of the speed of the next one (measured: cat+sync of 1 GiB
# after a 3 s pause 215-420 MB/s, back to back 1128-1310 MB/s; a 1 s busy
# loop before it, with no I/O at all, restores most of the speed: the
# hypervisor idles the vCPUs). So every timed step, ours and the peer's
# alike, starts after sync and one second of busy loop on every core.
settle() {
  sync
  local i
  for i in $(seq "$(nproc)"); do timeout 1 sh -c 'while :; do :; done' & done
  wait
}
# run_peers MIB FILE: ../shared/bench/peers.sh's figures into FILE, printed.
run_peers() {
  if [ -f ../shared/bench/peers.sh ]; then
    bash ../shared/bench/peers.sh "$1" > "$2"
  else
    echo "peers: ../shared/bench/peers.sh not found; only same-bytes ratios"; : > "$2"
  fi
  echo "peers, same machine, same run:"
  sed 's/^/  /' "$2"
}
peer() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
check() {  # check NAME VALUE PEER_NAME FACTOR PEERS_FILE
  local p r ok
  p=$(peer "$3" "$5")
  if [ -z "$p" ]; then printf '    %-11s no figure for %s; skipped\n' "$1" "$3"; return; fi
  r=$(ratio "$2" "$p")
  ok=$(awk -v r="$r" -v f="$4" 'BEGIN { print (r >= f) ? "met" : "MISSED" }')
  printf '    %-11s %8s MB/s / %-26s %8s MB/s = %5sx  (target >= %s: %s)\n' "$1" "$2" "$3" "$p" "$r" "$4" "$ok"
}
