#!/bin/bash
# Stop the gateway started by start.sh, by its pid files: rgw, then osd,
# then mon; the memstore data goes with the OSD.  stop.sh [DIR]
set -uo pipefail
D=${1:-${KCUSTODY_S3_DIR:-/tmp/kcustody-s3}}
stop_pid() {
	local f=$1 pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	fi
	rm -f "$f"
}
stop_pid "$D/run/client.rgw.a.pid"
for f in "$D"/run/osd.*.pid; do [ -e "$f" ] && stop_pid "$f"; done
stop_pid "$D/run/mon.a.pid"
exit 0
