#!/bin/bash
# Benchmark: `kcustody recertify` on a large estate with every service
# account an agent (thousands), against the floor a reviewer would
# otherwise use: `kubectl auth can-i --list --as=<agent>` per agent.  That
# floor is far too slow to run for thousands of agents, so it is timed for
# a sample of BENCH_SAMPLE agents (default 20) and extrapolated linearly to
# all of them: the line says "extrapolated".  It is also a lower bound: it
# only lists permissions, with no provenance (binding, role) and no
# comparison against a scope, which recertify does.
# Also timed: --format json, --format oscal and --propose, each the median
# of BENCH_RUNS runs, with peak RSS; and what a reviewer sees for one agent
# with an excess (its lines of the text output).
#
# The estate is tests/cluster/gen-estate.py's (seed 7), as bench_diff.sh:
#   BENCH_ESTATE="NS SAS RBS PODS"   default "40 1000 1000 2000";
#                                    make bench-scale: "100 3000 3000 6000"
#   BENCH_SELECT                     default --all-sas (every account an agent)
# The scope file covers every agent by serviceAccount: the even ones
# (in the selection's order) get a wide scope (every namespace, every
# resource and verb, every URL, so only unnamed secrets and configmaps
# exceed it), the odd ones a narrow one (get pods in their own namespace),
# so both sides of the comparison are exercised at scale.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
KC=${KCUSTODY_BIN:-$repo/kcustody}
RUNS=${BENCH_RUNS:-3}
SAMPLE=${BENCH_SAMPLE:-20}
read -r E_NS E_SAS E_RBS E_PODS <<<"${BENCH_ESTATE:-40 1000 1000 2000}"
SELECT=${BENCH_SELECT---all-sas}
last_ns=$(printf 'est-%03d' $((E_NS - 1)))
dir=${KCUSTODY_BENCH_CLUSTER_DIR:-/tmp/kcustody-bench-cluster-$E_NS-$E_SAS-$E_PODS}
work=$(mktemp -d /tmp/kcustody-bench.XXXX)
trap 'rm -rf "$work"' EXIT

bash "$repo/tests/cluster/start.sh" "$dir" >/dev/null
. "$dir/env.sh"
k() { kubectl --kubeconfig "$KC_KUBECONFIG" "$@"; }
if ! k get ns "$last_ns" >/dev/null 2>&1; then
	echo "loading the estate ($E_NS ns, $E_SAS SAs, $E_RBS rolebindings, $E_PODS pods)..." >&2
	python3 "$repo/tests/cluster/gen-estate.py" 7 "$E_NS" "$E_SAS" "$E_RBS" "$E_PODS" | k create -f - >/dev/null
fi

"$KC" keygen -o "$work/key.pem" >/dev/null 2>&1
# shellcheck disable=SC2086 # SELECT is a list of flags
"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case bench-recertify --phase pre $SELECT \
	--key "$work/key.pem" -o "$work/b.tar.gz" -q >/dev/null || [ $? -eq 1 ]	# exit 1: findings
tar -xzOf "$work/b.tar.gz" --wildcards '*/analysis/selection.json' >"$work/selection.json"
python3 - "$work/selection.json" >"$work/scope.yaml" <<'PY'
import json, sys
sel = json.load(open(sys.argv[1]))["selected"]
print("apiVersion: kcustody.dev/v1alpha1\nkind: AgentScopes\nagents:")
for i, a in enumerate(sel):
    ns, name = a["namespace"], a["name"]
    print("- name: a%05d\n  owner: bench\n  approval: BENCH-%d\n  serviceAccount: %s/%s" % (i, i, ns, name))
    if i % 2 == 0:
        print('  namespaces: ["*"]\n  resources:\n  - {apiGroup: "*", resource: "*", verbs: ["*"]}\n'
              '  nonResourceURLs:\n  - {urls: ["*"], verbs: ["*"]}')
    else:
        print('  namespaces: [%s]\n  resources:\n  - {apiGroup: "", resource: pods, verbs: [get]}' % json.dumps(ns))
PY
nagents=$(jq '.selected | length' "$work/selection.json")
[ "$nagents" -gt 0 ] || { echo "bench_recertify: no agent selected" >&2; exit 1; }

kc_json() {
	"$KC" recertify "$work/b.tar.gz" --scope "$work/scope.yaml" --pubkey "$work/key.pub.pem" \
		--format json >"$work/recert.json" || [ $? -eq 1 ]
}
kc_text() {
	"$KC" recertify "$work/b.tar.gz" --scope "$work/scope.yaml" --pubkey "$work/key.pub.pem" \
		>"$work/recert.txt" || [ $? -eq 1 ]
}
kc_oscal() {
	"$KC" recertify "$work/b.tar.gz" --scope "$work/scope.yaml" --pubkey "$work/key.pub.pem" \
		--format oscal -o "$work/oscal.json" --force >/dev/null || [ $? -eq 1 ]
}
kc_propose() {
	rm -rf "$work/prop"
	"$KC" recertify "$work/b.tar.gz" --scope "$work/scope.yaml" --pubkey "$work/key.pub.pem" \
		--propose "$work/prop" >/dev/null 2>&1 || [ $? -le 2 ]	# 2: no audit segment
}
# the floor, for a sample: one can-i --list per agent
floor_sample() {
	jq -r '.selected[] | "\(.namespace) \(.name)"' "$work/selection.json" | head -n "$SAMPLE" |
	while read -r ns name; do
		kubectl --kubeconfig "$KC_KUBECONFIG" auth can-i --list \
			--as="system:serviceaccount:$ns:$name" >/dev/null
	done
}

# time_cmd FUNC: median wall seconds over RUNS and max peak RSS (KiB)
time_cmd() {
	local fn=$1 times=() rss=0 t0 t1 r
	for _ in $(seq "$RUNS"); do
		t0=$(date +%s.%N)
		r=$( { /usr/bin/time -f '%M' bash -c "$(declare -f kc_json kc_text kc_oscal kc_propose floor_sample); KC='$KC' work='$work' SAMPLE='$SAMPLE' KC_KUBECONFIG='$KC_KUBECONFIG'; $fn" ; } 2>&1 >/dev/null | tail -n 1)
		t1=$(date +%s.%N)
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')")
		[ "$r" -gt "$rss" ] && rss=$r
	done
	printf '%s %s\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")" "$rss"
}

read -r st srss < <(time_cmd floor_sample)
read -r jt jrss < <(time_cmd kc_json)
read -r tt trss < <(time_cmd kc_text)
read -r ot orss < <(time_cmd kc_oscal)
read -r pt prss < <(time_cmd kc_propose)
ft=$(awk -v s="$st" -v n="$nagents" -v k="$SAMPLE" 'BEGIN{printf "%.3f", s*n/k}')
within=$(jq '.summary.withinScope' "$work/recert.json")
nexcess=$(jq '.summary.excessPermissions' "$work/recert.json")
beyond=$(jq ".summary.beyondScope" "$work/recert.json")
[ "$beyond" -gt 0 ] && [ "$within" -gt 0 ] || {
	echo "bench_recertify: the scope gives $within agents within and $beyond beyond: one side is empty" >&2; exit 1; }
echo "recertify benchmark: $E_NS ns, $E_SAS SAs, $E_RBS rolebindings, $E_PODS pods; $nagents agents" \
	"($within within scope, $beyond beyond, $nexcess excess permissions); $RUNS runs each"
printf '  %-46s %8.2f s   peak RSS %7d KiB\n' "floor: kubectl auth can-i --list, $SAMPLE agents" "$st" "$srss"
printf '  %-46s %8.2f s   (extrapolated from %d agents, not run)\n' \
	"floor: the same for all $nagents agents" "$ft" "$SAMPLE"
for row in "recertify --format json:$jt:$jrss" "recertify (text):$tt:$trss" \
	"recertify --format oscal:$ot:$orss" "recertify --propose:$pt:$prss"; do
	IFS=: read -r what t rss <<<"$row"
	printf '  %-46s %8.2f s   peak RSS %7d KiB   %.3fx the floor\n' "kcustody $what" "$t" "$rss" \
		"$(awk -v a="$t" -v b="$ft" 'BEGIN{print a/b}')"
done
# what a reviewer sees for one agent beyond scope (text output)
one=$(jq -r '[.agents[] | select(.status == "beyond-scope")][0] | "\(.namespace)/\(.name)"' "$work/recert.json")
echo "what a reviewer sees for one agent ($one), from the text output:"
awk -v a="$one" 'index($0, a) { p = 1 } p && /^$/ { exit } p && n++ < 40 { print "    " $0 }' "$work/recert.txt"
