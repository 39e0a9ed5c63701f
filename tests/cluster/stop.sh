#!/bin/bash
# Stop the test cluster recorded in STATEDIR; safe to run any number of times.
#   stop.sh [--purge] [STATEDIR]
# Signals only the pids in STATEDIR/{controller-manager,apiserver,etcd}.pid, and only while
# their command line still shows they are this cluster's processes.
# --purge also removes STATEDIR (only if start.sh created it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"

purge=0 DIR=
for a in "$@"; do
	case $a in
	--purge) purge=1 ;;
	-h | --help) sed -n '2,6p' "$0"; exit 0 ;;
	-*) kc_die "unknown option: $a" ;;
	*) DIR=$a ;;
	esac
done
DIR=${DIR:-${KCUSTODY_CLUSTER_DIR:-/tmp/kcustody-cluster}}
if [ ! -d "$DIR" ]; then
	kc_say "nothing to stop in $DIR"
	exit 0
fi
DIR=$(cd "$DIR" && pwd)

# Serialise with start.sh on the same folder (start.sh calls us with the
# lock already held).
if [ -z "${KC_LOCK_HELD:-}" ]; then
	exec 9>"$DIR.lock"
	flock 9
fi

# stop_one NAME NEEDLE: TERM, up to 10 s grace, then KILL.
stop_one() {
	local name=$1 needle=$2 pidfile=$DIR/$1.pid pid i
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if kc_proc_ours "$pid" "$name" "$needle"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kc_proc_ours "$pid" "$name" "$needle" || break
			sleep 0.1
		done
		if kc_proc_ours "$pid" "$name" "$needle"; then
			kc_say "$name (pid $pid) ignored SIGTERM for 10 s, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				kc_proc_ours "$pid" "$name" "$needle" || break
				sleep 0.1
			done
		fi
		kc_say "stopped $name (pid $pid)"
	fi
	rm -f "$pidfile"
}

# The controller manager first, then the API server, so neither logs
# connection errors from the one stopped under it.
stop_one controller-manager "$(kc_kcm_needle "$DIR")"
stop_one apiserver "$(kc_apiserver_needle "$DIR")"
stop_one etcd "$(kc_etcd_needle "$DIR")"

if [ "$purge" = 1 ]; then
	if [ -f "$DIR/$KC_MARK" ]; then
		rm -rf "$DIR"
		rm -f "$DIR.lock"
		kc_say "purged $DIR"
	else
		kc_die "not purging $DIR: it was not created by start.sh (no $KC_MARK)"
	fi
fi
