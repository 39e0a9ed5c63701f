#!/bin/bash
# Benchmark: the same snapshot collected by the kubectl recipe a responder
# would otherwise run, and by `kcustody collect`, in one run against the same
# populated cluster (40 namespaces, 1,000 service accounts, 1,000
# rolebindings, 2,000 pods from tests/cluster/gen-estate.py, seed 7).
# Prints wall time (median of N runs), the ratio and peak RSS of each.
# BENCH_ESTATE="NS SAS RBS PODS" loads another estate (make bench-scale:
# 100 3000 3000 6000, the 13.7k objects of issue 11, in its own cluster
# folder); at the end the apiserver must still be the process it started
# as (the reflect2 1.0.1 crash of issue 11 killed it at this size).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
KC=${KCUSTODY_BIN:-$repo/kcustody}
RUNS=${BENCH_RUNS:-3}
read -r E_NS E_SAS E_RBS E_PODS <<<"${BENCH_ESTATE:-40 1000 1000 2000}"
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
api_pid=$(cat "$dir/apiserver.pid")

kubectl_recipe() {
	k get clusterroles,clusterrolebindings -o json >"$work/k1.json"
	k get roles,rolebindings,serviceaccounts,pods,networkpolicies -A -o json >"$work/k2.json"
	k get namespaces -o json >"$work/k3.json"
	k get secrets,configmaps,persistentvolumeclaims -A -o json >"$work/k4.json"
	k get deployments,statefulsets,daemonsets,replicasets,jobs,cronjobs -A -o json >"$work/k5.json"
}
# The same objects as the kubectl recipe: no agent selected, so no server
# reviews (kubectl's recipe has none); the offline analysis still runs.
kcustody_run() {
	rm -rf "$work/kc"
	"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case bench --phase baseline --agents '' \
		--out-dir "$work/kc" -q >/dev/null
}
# The default run on the same estate: every agent-named service account
# selected, one server rules review per account and namespace it is bound
# in, findings, can-i tables, inventory.  Shown for scale, not compared.
kcustody_full() {
	rm -rf "$work/kcf"
	"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case bench --phase baseline \
		--out-dir "$work/kcf" -q >/dev/null
}

# time_cmd NAME FUNC: median wall seconds over RUNS and max peak RSS (KiB)
time_cmd() {
	local name=$1 fn=$2 times=() rss=0 t0 t1 r
	for _ in $(seq "$RUNS"); do
		t0=$(date +%s.%N)
		r=$( { /usr/bin/time -f '%M' bash -c "$(declare -f k kubectl_recipe kcustody_run kcustody_full); KC='$KC' KC_KUBECONFIG='$KC_KUBECONFIG' work='$work'; $fn" ; } 2>&1 >/dev/null | tail -n 1)
		t1=$(date +%s.%N)
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')")
		[ "$r" -gt "$rss" ] && rss=$r
	done
	median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
	printf '%s %s %s\n' "$name" "$median" "$rss"
}

read -r _ kt krss < <(time_cmd kubectl kubectl_recipe)
read -r _ ct crss < <(time_cmd kcustody kcustody_run)
read -r _ ft frss < <(time_cmd kcustody-full kcustody_full)

# Same objects? (uids of everything kubectl returned vs the snapshot pages)
jq -r '.items[].metadata.uid' "$work"/k*.json | sort >"$work/k.uids"
cat "$work"/kc/raw/*/page-*.json | jq -r '(.items // [])[].metadata.uid' | sort >"$work/c.uids"
same=$(cmp -s "$work/k.uids" "$work/c.uids" && echo yes || echo NO)
objs=$(wc -l <"$work/k.uids")

echo "collect benchmark: $objs objects, $RUNS runs each (median wall time; peak RSS is the largest process)"
printf '  %-28s %8.2f s   peak RSS %7d KiB\n' "kubectl recipe (5 commands)" "$kt" "$krss"
printf '  %-28s %8.2f s   peak RSS %7d KiB\n' "kcustody collect" "$ct" "$crss"
printf '  speed-up: %.1fx   same objects: %s\n' "$(awk -v a="$kt" -v b="$ct" 'BEGIN{print a/b}')" "$same"
nrev=$(ls "$work"/kcf/reviews/*/*.json 2>/dev/null | wc -l)
nagents=$(jq '.selected | length' "$work/kcf/analysis/selection.json")
printf '  %-28s %8.2f s   peak RSS %7d KiB  (%s agents, %s server reviews, analysis)\n' "kcustody collect, default" "$ft" "$frss" "$nagents" "$nrev"
# Where the default run's time goes: one more run with --timings.
rm -rf "$work/kct"
"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case bench --phase baseline \
	--out-dir "$work/kct" -q --timings 2>"$work/timings.txt" >/dev/null || true
echo "  the default run, step by step (kcustody collect --timings):"
sed 's/^/    /' "$work/timings.txt"
if kill -0 "$api_pid" 2>/dev/null && [ "$(cat "$dir/apiserver.pid")" = "$api_pid" ]; then
	echo "  apiserver (pid $api_pid, $(basename "$(readlink -f /proc/$api_pid/exe)")) survived every round"
else
	echo "  apiserver DIED during the benchmark (see $dir/apiserver.log)"; exit 1
fi
