#!/usr/bin/env bash
# A real Ceph RADOS Gateway on loopback for the S3 tests (issue 16,
# /work/shared/notes/ceph-rgw-single-node.md): one monitor, one in-memory
# OSD (memstore), auth off, RGW with the beast frontend, one user with a
# fixed key. Starts in about 3 s once the packages are installed.
#   rgw.sh start DIR   prints "endpoint=http://127.0.0.1:PORT" and the keys;
#                      exits 77 when the packages are absent or it cannot start
#   rgw.sh stop DIR    stops the daemons this DIR started, by their PIDs
# Environment for the tests: source DIR/env (AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AERODB_S3_ENDPOINT, AERODB_S3_PATH_STYLE=1).
set -uo pipefail
cmd=${1:-}; D=${2:-}
[ -n "$D" ] || { echo "usage: rgw.sh start|stop DIR" >&2; exit 2; }
# Keys of this instance alone: should two instances started side by side
# (ctest runs three) ever pick one port, the one that lost the bind answers
# nothing and the other answers 403, never a test's requests as its own.
ACCESS=AERODB$(od -An -N7 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
SECRET=aerodb-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

stop() {
  local pids=()
  for f in "$D"/*.pid; do [ -f "$f" ] && pids+=("$(cat "$f")"); done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do
      # A zombie counts as exited (init reaps it).
      st=$(ps -o stat= -p "$p" 2>/dev/null | tr -d ' ')
      [ -z "$st" ] || [[ "$st" == Z* ]] && break
      sleep 0.1
    done
    kill -9 "$p" 2>/dev/null
  done
  rm -f "$D"/*.pid
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: rgw.sh start|stop DIR" >&2; exit 2; }
for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph; do
  command -v "$b" >/dev/null || { echo "SKIP: $b is not installed (apt-get install radosgw ceph-mon ceph-osd)"; exit 77; }
done
mkdir -p "$D"/mon "$D"/osd "$D"/run "$D"/log
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MONPORT=$(free_port); RGWPORT=$(free_port)
FSID=$(cat /proc/sys/kernel/random/uuid)
CONF="$D/ceph.conf"
cat >"$CONF" <<CONF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MONPORT
auth cluster required = none
auth service required = none
auth client required = none
ms bind msgr2 = false
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
paxos propose interval = 0.1
osd class update on start = false
# The OSD must not send its own crush-location command at start: on a loaded
# machine it can go out before the OSD has the monitor map (fsid 0000...),
# is refused "wrong fsid", and the OSD exits. The script adds it instead.
osd crush update on start = false
run dir = $D/run
log file = $D/log/\$name.log
admin socket = $D/run/\$name.asok
rgw gc obj min wait = 60
rgw gc processor period = 60
[mon.a]
mon data = $D/mon
[osd.0]
osd data = $D/osd
osd objectstore = memstore
memstore device bytes = 1073741824
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$RGWPORT
rgw data = $D/rgw
rgw dns name = 127.0.0.1
CONF
C=(-c "$CONF")
fail() {
  echo "SKIP: RGW did not start: $1"
  for f in "$D"/log/*; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 5 "$f" >&2; }; done
  stop; exit 77
}
monmaptool --create --fsid "$FSID" --addv a "[v1:127.0.0.1:$MONPORT]" "$D/monmap" >/dev/null 2>&1 || fail monmaptool
ceph-mon "${C[@]}" -i a --mkfs --monmap "$D/monmap" >/dev/null 2>&1 || fail "ceph-mon --mkfs"
ceph-mon "${C[@]}" -i a --pid-file "$D/mon.pid" || fail ceph-mon
# The first commands may be refused ("fsid 0000... != ...") until the
# monitor has formed its quorum: retry.
OSDID=
for _ in $(seq 100); do
  OSDID=$(timeout 10 ceph "${C[@]}" osd create 2>/dev/null) && break
  OSDID=; sleep 0.1
done
[ -n "$OSDID" ] || fail "ceph osd create"
ceph-osd "${C[@]}" -i "$OSDID" --mkfs >/dev/null 2>&1 || fail "ceph-osd --mkfs"
# The OSD's place in the CRUSH map (the OSD does not add it itself: see the conf).
placed=0
for _ in $(seq 5); do
  timeout 30 ceph "${C[@]}" osd crush add "osd.$OSDID" 1.0 host=localhost root=default >/dev/null 2>&1 && { placed=1; break; }
  sleep 0.5
done
[ "$placed" = 1 ] || fail "ceph osd crush add"
start_osd() {
  ceph-osd "${C[@]}" -i "$OSDID" --pid-file "$D/osd.pid" 2>>"$D/log/osd-stderr.log"
}
start_osd || fail ceph-osd
up=0 restarts=0
for _ in $(seq 300); do
  if timeout 10 ceph "${C[@]}" osd dump 2>/dev/null | grep -q "^osd.$OSDID up *in"; then up=1; break; fi
  # An OSD that exited at start (see the conf) is started again, twice at most.
  if [ -f "$D/osd.pid" ] && ! kill -0 "$(cat "$D/osd.pid")" 2>/dev/null && ((restarts < 2)); then
    restarts=$((restarts + 1)); echo "rgw.sh: the OSD exited at start; starting it again" >&2; start_osd || true
  fi
  sleep 0.1
done
[ "$up" = 1 ] || fail "the OSD did not come up"
radosgw "${C[@]}" -n client.rgw --pid-file "$D/rgw.pid" || fail radosgw
ok=0
# Ready when the port answers and the listener is this radosgw (ss(8) where
# iproute2 is installed): a port another instance took is not ours.
ours() {
  command -v ss >/dev/null || return 0
  [ -f "$D/rgw.pid" ] && ss -Hltnp "sport = :$RGWPORT" 2>/dev/null | grep -q "pid=$(cat "$D/rgw.pid"),"
}
for _ in $(seq 600); do
  if curl -s -o /dev/null "http://127.0.0.1:$RGWPORT/" && ours; then ok=1; break; fi
  sleep 0.1
done
[ "$ok" = 1 ] || fail "radosgw does not answer"
timeout 60 radosgw-admin "${C[@]}" user create --uid=aerodb --display-name=aerodb \
  --access-key="$ACCESS" --secret-key="$SECRET" >/dev/null 2>&1 || fail "radosgw-admin user create"
cat >"$D/env" <<ENV
export AWS_ACCESS_KEY_ID=$ACCESS
export AWS_SECRET_ACCESS_KEY=$SECRET
export AERODB_S3_ENDPOINT=http://127.0.0.1:$RGWPORT
export AERODB_S3_PATH_STYLE=1
ENV
echo "endpoint=http://127.0.0.1:$RGWPORT"
