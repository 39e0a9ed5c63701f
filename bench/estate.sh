# shellcheck shell=bash
# Sourced by bench_collect.sh and bench_diff.sh: start (or reuse) the
# benchmark's cluster and make sure its estate is loaded. Sets dir, and
# estate_desc (one line naming the estate).
#   BENCH_SCALE=10k|50k|150k|NS:PODS  tests/cluster/gen-scale.py's estate
#       (deployments, replicasets and pods with owner chains, accounts,
#       roles, bindings to users/groups/accounts, aggregated roles, secrets,
#       configmaps), in /tmp/kcustody-scale-SIZE, loaded once (resumable)
#       and reused while that cluster runs, or resumed on its kept etcd data
#       after a reboot (tests/cluster/start.sh, KCUSTODY_RESUME=1).  The 150k estate runs a reduced
#       controller set (no garbagecollector or namespace controller: on a
#       static estate they only watch, and the garbage collector's graph of
#       300k objects slows the load) and a raised etcd quota.
#   otherwise BENCH_ESTATE="NS SAS RBS PODS" (default "40 1000 1000 2000"),
#       tests/cluster/gen-estate.py seed 7, as before.
# KCUSTODY_BENCH_CLUSTER_DIR overrides the folder.
bench_estate() {
	local repo=$1
	if [ -n "${BENCH_SCALE:-}" ]; then
		dir=${KCUSTODY_BENCH_CLUSTER_DIR:-/tmp/kcustody-scale-$BENCH_SCALE}
		export KCUSTODY_RESUME=${KCUSTODY_RESUME:-1}	# a loaded estate survives a reboot
		if [ "$BENCH_SCALE" = 150k ]; then
			export KCUSTODY_ETCD_QUOTA=${KCUSTODY_ETCD_QUOTA:-8589934592}
			export KCUSTODY_CONTROLLERS=${KCUSTODY_CONTROLLERS:-clusterrole-aggregation,serviceaccount,serviceaccount-token,root-ca-cert-publisher}
		fi
		bash "$repo/tests/cluster/start.sh" "$dir" >/dev/null
		if ! python3 "$repo/tests/cluster/gen-scale.py" "$dir/env.sh" "$BENCH_SCALE" --check; then
			echo "loading the $BENCH_SCALE estate into $dir (gen-scale.py)..." >&2
			python3 "$repo/tests/cluster/gen-scale.py" "$dir/env.sh" "$BENCH_SCALE" >&2
		fi
		estate_desc="gen-scale.py $BENCH_SCALE estate ($(python3 "$repo/tests/cluster/gen-scale.py" - "$BENCH_SCALE" --count) objects loaded, plus the controllers' own)"
		return
	fi
	local E_NS E_SAS E_RBS E_PODS last_ns
	read -r E_NS E_SAS E_RBS E_PODS <<<"${BENCH_ESTATE:-40 1000 1000 2000}"
	last_ns=$(printf 'est-%03d' $((E_NS - 1)))
	dir=${KCUSTODY_BENCH_CLUSTER_DIR:-/tmp/kcustody-bench-cluster-$E_NS-$E_SAS-$E_PODS}
	bash "$repo/tests/cluster/start.sh" "$dir" >/dev/null
	if ! kubectl --kubeconfig "$dir/kubeconfigs/certs.yaml" get ns "$last_ns" >/dev/null 2>&1; then
		echo "loading the estate ($E_NS ns, $E_SAS SAs, $E_RBS rolebindings, $E_PODS pods)..." >&2
		python3 "$repo/tests/cluster/gen-estate.py" 7 "$E_NS" "$E_SAS" "$E_RBS" "$E_PODS" |
			kubectl --kubeconfig "$dir/kubeconfigs/certs.yaml" create -f - >/dev/null
	fi
	estate_desc="gen-estate.py $E_NS ns, $E_SAS SAs, $E_RBS rolebindings, $E_PODS pods"
}
