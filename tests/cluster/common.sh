# Helpers shared by start.sh and stop.sh (sourced, not run).
# shellcheck shell=bash

kc_say() { printf 'kcustody-cluster: %s\n' "$*" >&2; }
kc_die() { kc_say "$*"; exit 1; }

# Marker file: only folders carrying it are ever wiped or purged.
# shellcheck disable=SC2034 # used by the scripts that source this
KC_MARK=.kcustody-cluster

# kc_proc_cmdline PID: print the command line of PID, a live (not zombie)
# process; false when there is none.
kc_proc_cmdline() {
	local pid=$1 state
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	# Field 3 of /proc/PID/stat, after the "(comm)" that may hold spaces.
	state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$state" ] && [ "$state" != Z ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null
}

# kc_proc_ours PID NAME NEEDLE: true if PID is a live (not zombie) process
# whose command line names NAME and contains NEEDLE (an argument unique to
# this cluster, e.g. its data dir), so a recycled pid is never signalled.
kc_proc_ours() {
	local name=$2 needle=$3 cmd
	cmd=$(kc_proc_cmdline "$1") || return 1
	[[ $cmd == *"$name"* && $cmd == *"$needle"* ]]
}

# kc_proc_starting PID NAME NEEDLE: for a child just started with `cmd &`:
# true if kc_proc_ours, or if PID is live and its command line has no
# NEEDLE yet (the forked shell before its exec: still the script's,
# and on a busy machine the exec can come after the first health check;
# that window made a resume of the 150k estate die with "kube-apiserver
# exited" while the server was starting).  False once it has exited.
kc_proc_starting() {
	local name=$2 needle=$3 cmd
	cmd=$(kc_proc_cmdline "$1") || return 1
	[[ $cmd == *"$name"* && $cmd == *"$needle"* ]] || [[ $cmd != *"$needle"* ]]
}

# Needles that identify this cluster's processes (see start.sh).
kc_etcd_needle() { printf '%s' "--data-dir=$1/etcd"; }
kc_apiserver_needle() { printf '%s' "--audit-log-path=$1/audit/audit.log"; }
kc_kcm_needle() { printf '%s' "--kubeconfig=$1/kubeconfigs/controller-manager.yaml"; }
