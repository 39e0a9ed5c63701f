#!/bin/bash
# Start a Ceph RADOS Gateway with Object Lock on loopback for the S3 tests
# (shared S3_TEST_SERVER.md): one monitor (msgr2 only), one OSD on memstore
# (RAM only, gone on stop), radosgw on 127.0.0.1.  Idempotent: when the
# gateway in DIR is already up it only prints the environment again.
#
#   start.sh [DIR]     default $KCUSTODY_S3_DIR or /tmp/kcustody-s3
#
# Writes DIR/env.sh (KC_S3_ENDPOINT, KC_S3_REGION, KC_S3_ACCESS_KEY,
# KC_S3_SECRET_FILE) for the tests to source; the secret is in a 0600 file,
# never on a command line.  Ports: KCUSTODY_S3_PORT (default 17480) for the
# gateway, KCUSTODY_S3_MON_PORT (default 13300) for the monitor.
set -euo pipefail

D=${1:-${KCUSTODY_S3_DIR:-/tmp/kcustody-s3}}
PORT=${KCUSTODY_S3_PORT:-17480}
MON_PORT=${KCUSTODY_S3_MON_PORT:-13300}
say() { printf 'kcustody-s3: %s\n' "$*" >&2; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
http_up() { curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/"; }

if alive "$D/run/client.rgw.a.pid" && http_up && [ -f "$D/env.sh" ]; then
	cat "$D/env.sh"
	exit 0
fi
for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph; do
	command -v "$b" >/dev/null || { say "$b not found: run tests/s3/install.sh"; exit 1; }
done
# Anything half-started before: stop it, start clean.
bash "$(dirname "$0")/stop.sh" "$D" >/dev/null 2>&1 || true
rm -rf "$D"
mkdir -p "$D/run" "$D/log" "$D/mon" "$D/osd" "$D/rgw"
chmod 0700 "$D"
fsid=$(cat /proc/sys/kernel/random/uuid)
C=$D/ceph.conf
cat >"$C" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$MON_PORT]
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms mon client mode = crc
ms bind msgr1 = false
ms bind msgr2 = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
paxos propose interval = 0.05
paxos min wait = 0.01
run dir = $D/run
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
admin socket = $D/run/\$name.asok
mon data = $D/mon/\$cluster-\$id
osd data = $D/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 1073741824
keyring = /dev/null
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw thread pool size = 32
rgw data = $D/rgw
CONF
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$D/monmap" >/dev/null
ceph-mon -c "$C" --mkfs -i a --monmap "$D/monmap" >/dev/null
ceph-mon -c "$C" -i a
osd_uuid=$(cat /proc/sys/kernel/random/uuid)
id=$(ceph -c "$C" --connect-timeout 20 osd new "$osd_uuid")
mkdir -p "$D/osd/ceph-$id"
ceph-osd -c "$C" -i "$id" --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1
ceph-osd -c "$C" -i "$id" 2>>"$D/log/osd-start.log"
for _ in $(seq 1 200); do
	ceph -c "$C" osd stat 2>/dev/null | grep -q '1 up' && break
	sleep 0.1
done
ceph -c "$C" osd stat | grep -q '1 up' || { say "the OSD did not come up (see $D/log)"; exit 1; }
radosgw -c "$C" -n client.rgw.a 2>>"$D/log/rgw-start.log"
for _ in $(seq 1 600); do
	http_up && break
	sleep 0.1
done
http_up || { say "radosgw did not answer on 127.0.0.1:$PORT (see $D/log)"; exit 1; }
access=KCTEST$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
radosgw-admin -c "$C" -n client.rgw.a user create --uid=kcustody --display-name=kcustody \
	--access-key="$access" --secret-key="$secret" >/dev/null 2>&1
(umask 077; printf '%s\n' "$secret" >"$D/secret")
cat >"$D/env.sh" <<ENV
export KC_S3_ENDPOINT=http://127.0.0.1:$PORT
export KC_S3_REGION=us-east-1
export KC_S3_ACCESS_KEY=$access
export KC_S3_SECRET_FILE=$D/secret
export KC_S3_DIR=$D
ENV
cat "$D/env.sh"
