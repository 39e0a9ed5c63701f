#!/bin/bash
# Benchmark: `kcustody diff` and `kcustody report --diff` on a PRE and a POST
# bundle of one estate, against the floor a responder's own tools set: both
# bundles unpacked by tar and their SHA256SUMS checked by sha256sum (diff
# and report verify both bundles and read every member, then compare).
# Prints wall time (median of N runs), the ratio to the floor, and peak RSS.
#
# The estate is bench/estate.sh's, loaded into its own cluster folder and
# kept between runs, as bench_collect.sh does:
#   BENCH_SCALE=10k|50k|150k         tests/cluster/gen-scale.py (make bench-scale)
#   BENCH_ESTATE="NS SAS RBS PODS"   gen-estate.py, default "40 1000 1000 2000"
#   BENCH_SELECT="--all-sas"         select every service account as an agent
#                                    (default: the agent-named ones)
# PRE is collected, then the remediation deletes the secret-reader Roles,
# POST is collected, and the Roles are put back from PRE's own export so the
# estate is the same for the next run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
KC=${KCUSTODY_BIN:-$repo/kcustody}
RUNS=${BENCH_RUNS:-3}
SELECT=${BENCH_SELECT:-}
work=$(mktemp -d /tmp/kcustody-bench.XXXX)
trap 'rm -rf "$work"' EXIT
trap 'echo "$(basename "$0"): failed at line $LINENO" >&2' ERR

# shellcheck source-path=SCRIPTDIR source=estate.sh
. "$repo/bench/estate.sh"
bench_estate "$repo"
# shellcheck disable=SC1091 # written by tests/cluster/start.sh
. "$dir/env.sh"
k() { kubectl --kubeconfig "$KC_KUBECONFIG" "$@"; }

"$KC" keygen -o "$work/key.pem" >/dev/null 2>&1
# shellcheck disable=SC2086 # SELECT is a list of flags
"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case bench-diff --phase pre $SELECT \
	--key "$work/key.pem" -o "$work/pre.tar.gz" -q >/dev/null
k get roles -A -o json | jq '{apiVersion: "v1", kind: "List",
	items: [.items[] | select(.metadata.name == "secret-reader")
	| del(.metadata.uid, .metadata.resourceVersion, .metadata.creationTimestamp, .metadata.managedFields)]}' \
	>"$work/secret-reader.json"
k delete roles -A --field-selector metadata.name=secret-reader >/dev/null
sleep 1	# POST's collection starts after the remediation, by the clock too
# shellcheck disable=SC2086
"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case bench-diff --phase post $SELECT \
	--key "$work/key.pem" -o "$work/post.tar.gz" -q >/dev/null || true	# exit 1: findings
k create -f "$work/secret-reader.json" >/dev/null

floor() {
	rm -rf "$work/x" && mkdir -p "$work/x/pre" "$work/x/post"
	tar -xzf "$work/pre.tar.gz" -C "$work/x/pre"
	tar -xzf "$work/post.tar.gz" -C "$work/x/post"
	(cd "$work"/x/pre/* && sha256sum --quiet -c SHA256SUMS)
	(cd "$work"/x/post/* && sha256sum --quiet -c SHA256SUMS)
}
kc_diff() {
	rm -f "$work/diff.json"
	"$KC" diff "$work/pre.tar.gz" "$work/post.tar.gz" --pubkey "$work/key.pub.pem" \
		--format json -o "$work/diff.json" >/dev/null || [ $? -eq 1 ]
}
kc_report() {
	rm -f "$work/report.html"
	"$KC" report "$work/post.tar.gz" --diff "$work/pre.tar.gz" --pubkey "$work/key.pub.pem" \
		--no-ledger -o "$work/report.html" >/dev/null || [ $? -eq 1 ]
}

# time_cmd FUNC: median wall seconds over RUNS, max peak RSS (KiB), median
# CPU seconds (user + system; wall time on a shared machine waits for others)
time_cmd() {
	local fn=$1 times=() cpus=() rss=0 t0 t1 r u s
	for _ in $(seq "$RUNS"); do
		t0=$(date +%s.%N)
		read -r r u s < <( { /usr/bin/time -f '%M %U %S' bash -c "$(declare -f floor kc_diff kc_report); KC='$KC' work='$work'; $fn" ; } 2>&1 >/dev/null | tail -n 1)
		t1=$(date +%s.%N)
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')")
		cpus+=("$(awk -v a="$u" -v b="$s" 'BEGIN{printf "%.2f", a+b}')")
		[ "$r" -gt "$rss" ] && rss=$r
	done
	printf '%s %s %s\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")" "$rss" \
		"$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")"
}

read -r ft frss fc < <(time_cmd floor)
read -r dt drss dc < <(time_cmd kc_diff)
read -r rt rrss rc < <(time_cmd kc_report)
nagents=$(jq '.agents | length' "$work/diff.json")
nperm=$(jq '[.agents[] | (.removed + .added + .kept) | length] | add // 0' "$work/diff.json")
removed=$(jq '.summary.permissionsRemoved' "$work/diff.json")
[ "$removed" -gt 0 ] || { echo "bench_diff: the remediation removed no permission: the comparison is empty" >&2; exit 1; }
echo "diff benchmark: $estate_desc; $nagents agents, $nperm permissions compared ($removed removed); bundles PRE $(du -k "$work/pre.tar.gz" | cut -f1) KiB, POST $(du -k "$work/post.tar.gz" | cut -f1) KiB; $RUNS runs each"
printf '  %-40s %8.2f s   peak RSS %7d KiB   CPU %6.2f s\n' "floor: tar -xzf + sha256sum -c, both" "$ft" "$frss" "$fc"
printf '  %-40s %8.2f s   peak RSS %7d KiB   CPU %6.2f s   %.1fx the floor\n' "kcustody diff --format json" "$dt" "$drss" "$dc" \
	"$(awk -v a="$dt" -v b="$ft" 'BEGIN{print a/b}')"
printf '  %-40s %8.2f s   peak RSS %7d KiB   CPU %6.2f s   %.1fx the floor\n' "kcustody report --diff" "$rt" "$rrss" "$rc" \
	"$(awk -v a="$rt" -v b="$ft" 'BEGIN{print a/b}')"
