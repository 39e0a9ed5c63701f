#!/usr/bin/env bash
# Stop the loopback TSA started by start.sh DIR (by its pid, nothing else).
set -euo pipefail
dir=${1:?usage: stop.sh DIR}
if [ -s "$dir/pid" ]; then
	kill "$(cat "$dir/pid")" 2>/dev/null || true
	rm -f "$dir/pid" "$dir/port"
fi
