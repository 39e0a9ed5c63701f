#!/bin/bash
# Benchmark: the same snapshot collected by the kubectl recipe a responder
# would otherwise run, and by `kcustody collect`, in one run against the same
# populated cluster (40 namespaces, 1,000 service accounts, 1,000
# rolebindings, 2,000 pods from tests/cluster/gen-estate.py, seed 7).
# Prints wall time (median of N runs), the ratio and peak RSS of each:
#   raw-fetch floor   the very list requests collect made (same paths, same
#                     page size, continue tokens followed), one curl loop per
#                     list, all lists in parallel, every page written to disk
#   kubectl recipe    five `kubectl get -o json` commands (the same objects)
#   kcustody --out-dir   collect --agents '' (no reviews), unsealed folder
#   kcustody sealed      the same, sealed and signed into a .tar.gz
#   kubectl recipe, sealed   the recipe, then what a responder would run to
#                     seal its output (sha256sum, openssl pkeyutl -sign with
#                     the same Ed25519 key, tar czf): the sealed bundle's
#                     like for like (its ratio is printed beside the one
#                     against the unsealed recipe)
# then the default run (agents by name, server reviews, analysis) and its
# `--timings` table (where the time and memory go, step by step).
# The estate: bench/estate.sh (BENCH_SCALE=10k|50k|150k for
# tests/cluster/gen-scale.py's, as make bench-scale runs it; else
# BENCH_ESTATE="NS SAS RBS PODS" for gen-estate.py's). At the end the
# apiserver must still be the process it started as (the reflect2 1.0.1
# crash of issue 11 killed it at 13.7k objects).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
KC=${KCUSTODY_BIN:-$repo/kcustody}
RUNS=${BENCH_RUNS:-3}
work=$(mktemp -d /tmp/kcustody-bench.XXXX)
trap 'rm -rf "$work"' EXIT
trap 'echo "$(basename "$0"): failed at line $LINENO" >&2' ERR

# shellcheck source-path=SCRIPTDIR source=estate.sh
. "$repo/bench/estate.sh"
bench_estate "$repo"
# shellcheck disable=SC1091 # written by tests/cluster/start.sh
. "$dir/env.sh"
k() { kubectl --kubeconfig "$KC_KUBECONFIG" "$@"; }
api_pid=$(cat "$dir/apiserver.pid")

kubectl_recipe() {
	k get clusterroles,clusterrolebindings -o json >"$work/k1.json"
	k get roles,rolebindings,serviceaccounts,pods,networkpolicies -A -o json >"$work/k2.json"
	k get namespaces -o json >"$work/k3.json"
	k get secrets,configmaps,persistentvolumeclaims -A -o json >"$work/k4.json"
	k get deployments,statefulsets,daemonsets,replicasets,jobs,cronjobs -A -o json >"$work/k5.json"
}
# What a responder would add to the kubectl recipe to seal its output as
# kcustody seals a bundle: digests, a signature over them (the same
# Ed25519 key), a gzip'd tar.  Timed on its own after the recipe (which
# at 150k takes minutes: not run twice); the sealed recipe's time is the
# sum of the two.
kubectl_seal() {
	rm -f "$work/k.tar.gz" "$work/SHA256SUMS" "$work/SHA256SUMS.sig"
	(cd "$work" && sha256sum k[1-5].json >SHA256SUMS &&
		openssl pkeyutl -sign -inkey key.pem -rawin -in SHA256SUMS -out SHA256SUMS.sig &&
		tar czf k.tar.gz k[1-5].json SHA256SUMS SHA256SUMS.sig)
}
# The same objects as the kubectl recipe: no agent selected, so no server
# reviews (kubectl's recipe has none); the offline analysis still runs.
kcustody_run() {
	rm -rf "$work/kc"
	"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case bench --phase baseline --agents '' \
		--out-dir "$work/kc" -q >/dev/null
}
kcustody_sealed() {
	rm -f "$work/kc.tar.gz" "$work/kc.tar.gz.custody.jsonl"
	"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case bench --phase baseline --agents '' \
		--key "$work/key.pem" -o "$work/kc.tar.gz" -q >/dev/null
}
# The default run on the same estate: every agent-named service account
# selected, one server rules review per account and namespace it is bound
# in, findings, can-i tables, inventory.  Shown for scale, not compared.
# Its --timings table (where the time goes, step by step) is kept from the
# last run.
kcustody_full() {
	rm -rf "$work/kcf"
	"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case bench --phase baseline \
		--out-dir "$work/kcf" -q --timings 2>"$work/timings.txt" >/dev/null || [ $? -eq 1 ]	# exit 1: findings
}
# The floor: fetch_list PATH N pages one list into $work/floor/N/ as
# collect does (limit=500, continue tokens), with curl; floor runs every
# list collect listed at once.
fetch_list() {
	local path=$1 out=$work/floor/$2 page=1 cont="" url
	mkdir -p "$out"
	while :; do
		url="$KC_SERVER$path?limit=500${cont:+&continue=$cont}"
		curl -sf -A kcustody-bench-floor --cacert "$KC_PKI_DIR/ca.crt" \
			--cert "$KC_PKI_DIR/admin.crt" --key "$KC_PKI_DIR/admin.key" \
			-o "$out/page-$page.json" "$url"
		# the continue token sits in the list's metadata, at the start
		cont=$(head -c 4096 "$out/page-$page.json" | grep -o '"continue":"[^"]*"' | head -n 1 | cut -d'"' -f4 || true)
		[ -n "$cont" ] || break
		page=$((page + 1))
	done
}
floor() {
	rm -rf "$work/floor"
	local n=0 pids=()
	while read -r p; do
		n=$((n + 1))
		fetch_list "$p" "$n" &
		pids+=($!)
	done <"$work/lists.txt"
	for p in "${pids[@]}"; do wait "$p"; done
}

# Before each timed run of FUNC, outside its time: its own output of the
# run before removed (the function clears it too, then finding nothing;
# the others' outputs stay for the comparison of objects below), and the
# disk's dirty pages written out, so that no run pays for deleting or
# flushing a run before's 0.6-1.1 GB (at 150k: rm 0.3 s, and the
# writeback competing for the 2 cores).
between_runs() {
	case $1 in
	floor) rm -rf "$work/floor" ;;
	kcustody_run) rm -rf "$work/kc" ;;
	kcustody_sealed) rm -f "$work/kc.tar.gz" "$work/kc.tar.gz.custody.jsonl" ;;
	kcustody_full) rm -rf "$work/kcf" ;;
	kubectl_recipe) rm -f "$work"/k[1-5].json ;;
	kubectl_seal) rm -f "$work/k.tar.gz" "$work/SHA256SUMS" "$work/SHA256SUMS.sig" ;;
	esac
	sync
}

# time_cmd NAME FUNC: median wall seconds over RUNS, max peak RSS (KiB) and
# median CPU seconds (user + system, the command and its children: on a
# shared machine the wall time waits for other work, the CPU time does not)
time_cmd() {
	local name=$1 fn=$2 times=() cpus=() rss=0 t0 t1 r u s
	for _ in $(seq "$RUNS"); do
		between_runs "$fn"
		t0=$(date +%s.%N)
		read -r r u s < <( { /usr/bin/time -f '%M %U %S' bash -c "$(declare -f k kubectl_recipe kubectl_seal kcustody_run kcustody_sealed kcustody_full fetch_list floor); KC='$KC' KC_KUBECONFIG='$KC_KUBECONFIG' KC_SERVER='$KC_SERVER' KC_PKI_DIR='$KC_PKI_DIR' work='$work'; $fn" ; } 2>&1 >/dev/null | tail -n 1)
		t1=$(date +%s.%N)
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')")
		cpus+=("$(awk -v a="$u" -v b="$s" 'BEGIN{printf "%.2f", a+b}')")
		[ "$r" -gt "$rss" ] && rss=$r
	done
	median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
	cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
	printf '%s %s %s %s\n' "$name" "$median" "$rss" "$cpu"
	# as it is measured, for a long run watched or cut short
	printf 'bench_collect: %s: %s s wall, peak RSS %s KiB, %s s CPU\n' "$name" "$median" "$rss" "$cpu" >&2
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1fx", a/b}'; }

"$KC" keygen -o "$work/key.pem" >/dev/null 2>&1
# The lists collect makes, from its own request log (first page of each).
kcustody_run
jq -r '.requests[] | select(.method == "GET") | .path | select(test("[?]limit=") and (test("continue=") | not)) | sub("[?].*"; "")' \
	"$work/kc/MANIFEST.json" >"$work/lists.txt"
[ -s "$work/lists.txt" ] || { echo "bench_collect: no list requests in collect's MANIFEST" >&2; exit 1; }

# kubectl last: at 150k it is the slowest by far
read -r _ lt lrss lc < <(time_cmd floor floor)
read -r _ ct crss cc < <(time_cmd kcustody kcustody_run)
read -r _ st srss sc < <(time_cmd kcustody-sealed kcustody_sealed)
read -r _ ft frss fc < <(time_cmd kcustody-full kcustody_full)
read -r _ kt krss kc < <(time_cmd kubectl kubectl_recipe)
read -r _ xt xrss xc < <(time_cmd kubectl-seal kubectl_seal)
kst=$(awk -v a="$kt" -v b="$xt" 'BEGIN{printf "%.3f", a+b}')
ksc=$(awk -v a="$kc" -v b="$xc" 'BEGIN{printf "%.2f", a+b}')
ksrss=$((krss > xrss ? krss : xrss))

# Same objects? (uids of everything kubectl returned vs the snapshot pages
# vs the floor's pages)
jq -r '.items[].metadata.uid' "$work"/k*.json | sort >"$work/k.uids"
cat "$work"/kc/raw/*/page-*.json | jq -r '(.items // [])[].metadata.uid' | sort >"$work/c.uids"
cat "$work"/floor/*/page-*.json | jq -r '(.items // [])[].metadata.uid' | sort >"$work/f.uids"
same=$(cmp -s "$work/k.uids" "$work/c.uids" && echo yes || echo NO)
samef=$(cmp -s "$work/f.uids" "$work/c.uids" && echo yes || echo NO)
objs=$(wc -l <"$work/k.uids")
rawmb=$(du -sm "$work/floor" | cut -f1)

echo "collect benchmark: $estate_desc; $objs objects listed ($rawmb MB of pages, $(wc -l <"$work/lists.txt") lists), $RUNS runs each (median wall time; peak RSS is the largest process)"
printf '  %-34s %8.2f s   peak RSS %8d KiB   CPU %6.2f s\n' "raw-fetch floor (curl, parallel)" "$lt" "$lrss" "$lc"
printf '  %-34s %8.2f s   peak RSS %8d KiB   CPU %6.2f s   %s the floor\n' "kubectl recipe (5 commands)" "$kt" "$krss" "$kc" "$(ratio "$kt" "$lt")"
printf '  %-34s %8.2f s   peak RSS %8d KiB   CPU %6.2f s   %s the floor, %s faster than kubectl\n' "kcustody collect --out-dir" "$ct" "$crss" "$cc" "$(ratio "$ct" "$lt")" "$(ratio "$kt" "$ct")"
printf '  %-34s %8.2f s   peak RSS %8d KiB   CPU %6.2f s   (the recipe, then sha256sum, openssl pkeyutl -sign, tar czf: %.2f s of them)\n' "kubectl recipe, sealed" "$kst" "$ksrss" "$ksc" "$xt"
printf '  %-34s %8.2f s   peak RSS %8d KiB   CPU %6.2f s   %s the floor, %s faster than kubectl, %s faster than kubectl sealed\n' "kcustody collect, sealed" "$st" "$srss" "$sc" "$(ratio "$st" "$lt")" "$(ratio "$kt" "$st")" "$(ratio "$kst" "$st")"
printf '  same objects: kubectl %s, floor %s\n' "$same" "$samef"
nrev=$(find "$work/kcf/reviews" -name '*.json' 2>/dev/null | wc -l)
nagents=$(jq '.selected | length' "$work/kcf/analysis/selection.json")
printf '  %-34s %8.2f s   peak RSS %8d KiB   CPU %6.2f s   (%s agents, %s server reviews, analysis)\n' "kcustody collect, default run" "$ft" "$frss" "$fc" "$nagents" "$nrev"
echo "  the default run, step by step (kcustody collect --timings):"
sed 's/^/    /' "$work/timings.txt"
if kill -0 "$api_pid" 2>/dev/null && [ "$(cat "$dir/apiserver.pid")" = "$api_pid" ]; then
	echo "  apiserver (pid $api_pid, $(basename "$(readlink -f /proc/$api_pid/exe)")) survived every round"
else
	echo "  apiserver DIED during the benchmark (see $dir/apiserver.log)"; exit 1
fi
