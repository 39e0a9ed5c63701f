#!/usr/bin/env bash
# Start the loopback TSA (setup.sh first if needed); prints its URL.
# usage: tests/tsa/start.sh DIR        stop with tests/tsa/stop.sh DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: start.sh DIR}
bash "$here/setup.sh" "$dir"
dir=$(cd "$dir" && pwd)
if [ -s "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
	echo "http://127.0.0.1:$(cat "$dir/port")/"
	exit 0
fi
rm -f "$dir/port"
python3 "$here/server.py" "$dir" </dev/null >>"$dir/server.log" 2>&1 &
echo $! >"$dir/pid"
for _ in $(seq 1 100); do
	[ -s "$dir/port" ] && break
	sleep 0.05
done
[ -s "$dir/port" ] || { echo "tsa: server did not start (see $dir/server.log)" >&2; exit 1; }
echo "http://127.0.0.1:$(cat "$dir/port")/"
