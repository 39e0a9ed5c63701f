#!/bin/bash
# Command tests for issue 13 items 2 (env values), 3 (workload owners) and
# 4 (cloud reach) against the real API server (estate:
# tests/cluster/workload-estate.sh).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

ns=wl-test
CANARY="sk-live-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
# no workload controllers run here: owned objects are deleted by hand
purge() { kc_admin -n $ns delete deployments,replicasets,jobs,cronjobs.v1beta1.batch,pods --all --wait=false >/dev/null 2>&1; kc_purge_ns $ns >/dev/null 2>&1; }
purge
bash "$KC_REPO/tests/cluster/workload-estate.sh" $ns "$CANARY" || { echo "estate failed"; echo "0 passed, 1 failed"; exit 1; }
HASH=$(printf '%s' "$CANARY" | sha256sum | cut -d' ' -f1)
sas=(); for s in aws gcp azure plain other; do sas+=(--sa $ns/agent-$s); done
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
collect() { "$KC" collect --case T-13 --phase pre --operator tester --agents '' "${sas[@]}" "$@"; }
inv() { awk -F, -v n="$1" 'NR > 1 && $1 == "'$ns'" && $2 == n' "$W/ev/analysis/inventory.csv"; }
col() { python3 -c 'import csv,sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print("\n".join(r[sys.argv[3]] for r in rows if r["namespace"] == "'$ns'" and r["name"] == sys.argv[2]))' "$W/ev/analysis/inventory.csv" "$1" "$2"; }

t_begin "collect: workload lists equal kubectl's (cronjobs through batch/v1beta1 on this 1.20 server)"
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --out-dir "$W/ev"
m=$W/ev/MANIFEST.json
for res in deployments statefulsets daemonsets replicasets jobs cronjobs; do
	a=$(cat "$W"/ev/raw/$res/page-*.json | jq -r '.items[].metadata.uid' | sort)
	b=$(kc_admin get $res -A -o json | jq -r '.items[].metadata.uid' | sort)
	[ "$a" = "$b" ] || t_fail "$res differ from kubectl"
done
jq -e '.items[] | select(.name=="list/cronjobs") | .status=="complete" and .path=="/apis/batch/v1beta1/cronjobs" and .not_served=="/apis/batch/v1/cronjobs"' "$m" >/dev/null || t_fail "cronjobs fallback not recorded"
jq -e '.items[] | select(.name=="list/deployments") | .path=="/apis/apps/v1/deployments" and (has("not_served")|not)' "$m" >/dev/null || t_fail "deployments path"
t_pass

t_begin "collect: owner chains in inventory.csv (deployment, cronjob, broken, none)"
[ "$(col agent-aws owner_chains)" = "Pod/p-rs <- ReplicaSet/rs-agent <- Deployment/d-agent" ] || t_fail "deployment chain: $(col agent-aws owner_chains)"
[ "$(col agent-gcp owner_chains)" = "Pod/p-job <- Job/j-agent <- CronJob/cj-agent" ] || t_fail "cronjob chain: $(col agent-gcp owner_chains)"
# negative twins: an owner that does not exist is shown broken, not dropped;
# a pod without owners is the pod alone
[ "$(col agent-plain owner_chains)" = "Pod/p-broken <- ReplicaSet/rs-gone (not found)" ] || t_fail "broken chain: $(col agent-plain owner_chains)"
[ "$(col agent-other owner_chains)" = "Pod/p-other" ] || t_fail "no-owner chain: $(col agent-other owner_chains)"
head -1 "$W/ev/analysis/inventory.csv" | tr -d '\r' | grep -qx 'namespace,name,pods,bindings,roles,cluster_wide_reach,secrets_reachable,highest_severity,cloud_reach,owner_chains,agent_resources' || t_fail "header"
t_pass

t_begin "collect: cloud reach from workload identity annotations and token audiences"
[ "$(col agent-aws cloud_reach)" = "aws role arn:aws:iam::111122223333:role/agent-s3-reader;token audience sts.amazonaws.com (pod p-rs)" ] || t_fail "aws: $(col agent-aws cloud_reach)"
[ "$(col agent-gcp cloud_reach)" = "gcp service account agent@proj.iam.gserviceaccount.com;token audience sts.amazonaws.com (pod p-job)" ] || t_fail "gcp: $(col agent-gcp cloud_reach)"
[ "$(col agent-azure cloud_reach)" = "azure client-id 00000000-1111-2222-3333-444444444444" ] || t_fail "azure: $(col agent-azure cloud_reach)"
# negative twins: no annotation -> none from annotations; an unrelated
# annotation (example.com/role-arn) is not taken
[ "$(col agent-plain cloud_reach)" = "token audience sts.amazonaws.com (pod p-broken)" ] || t_fail "plain: $(col agent-plain cloud_reach)"
[ -z "$(col agent-other cloud_reach)" ] || t_fail "unrelated annotation taken: $(col agent-other cloud_reach)"
"$KC" can-i "$W/ev" --sa $ns/agent-aws --json >"$T_DIR/aws.json" || t_fail "can-i --json"
jq -e '.cloudReach | length == 2 and .[0].provider=="aws" and .[0].value=="arn:aws:iam::111122223333:role/agent-s3-reader" and .[0].evaluated==false and .[1].value=="sts.amazonaws.com"' "$T_DIR/aws.json" >/dev/null || t_fail "can-i cloudReach"
"$KC" can-i "$W/ev" --sa $ns/agent-other --json | jq -e '.cloudReach == []' >/dev/null || t_fail "can-i cloudReach for agent-other not empty"
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" -o "$W/b.tar.gz" --no-sign
"$KC" report "$W/b.tar.gz" --allow-unsigned --no-ledger -o "$T_DIR/r.html" >/dev/null 2>&1 || t_fail "report"
expect_grep 'cloud reach: aws role arn:aws:iam::111122223333:role/agent-s3-reader, not evaluated by kcustody' "$T_DIR/r.html"
grep -qF 'Pod/p-broken &lt;- ReplicaSet/rs-gone (not found)' "$T_DIR/r.html" || t_fail 'broken chain not in the report'
t_pass

t_begin "collect: a pasted API key in env never enters the bundle; its hash does"
[ -f "$W/b.tar.gz" ] || expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" -o "$W/b.tar.gz" --no-sign
mkdir -p "$T_DIR/x" && tar -xzf "$W/b.tar.gz" -C "$T_DIR/x" || t_fail "extract"
if grep -r -a -q "$CANARY" "$T_DIR/x"; then t_fail "the API key's bytes are in the bundle"; fi
grep -r -q "sha256:$HASH" "$T_DIR/x" || t_fail "the key's hash is not in the bundle"
# the server does hold it (the test would pass vacuously otherwise)
kc_admin -n $ns get pod p-rs -o json | grep -q "$CANARY" || t_fail "canary not on the server"
mf=$(find "$T_DIR/x" -name MANIFEST.json | head -1)
for res in pods deployments replicasets cronjobs; do
	jq -e --arg r "$res" '[.files[] | select(.path|startswith("raw/"+$r+"/")) | select(.transform=="redact-values" and (.original_sha256|test("^[0-9a-f]{64}$")))] | length >= 1' "$mf" >/dev/null || t_fail "$res: redaction not recorded"
done
# valueFrom kept as it is
cat "$(dirname "$mf")"/raw/pods/page-*.json | jq -e '[.items[] | select(.metadata.name=="p-rs") | .spec.containers[0].env[] | select(.name=="FROM_SECRET") | .valueFrom.secretKeyRef.name] == ["agent-secret"]' >/dev/null || t_fail "valueFrom not kept"
t_pass

t_begin "collect: a collector without list on deployments records it forbidden (exit 1)"
kc_admin apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kcustody-wl-test}
rules:
- {apiGroups: [""], resources: [secrets, configmaps, persistentvolumeclaims], verbs: [list]}
- {apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [list]}
- {apiGroups: [apps], resources: [statefulsets, daemonsets, replicasets], verbs: [get, list]}
- {apiGroups: [batch], resources: [jobs, cronjobs], verbs: [get, list]}
- {apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kcustody-wl-test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kcustody-wl-test}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: restricted-user}]
EOF
expect_exit 1 collect --kubeconfig "$(kc_kubeconfig restricted.yaml)" --out-dir "$T_DIR/r"
jq -e '.status=="partial" and ([.items[] | select(.status=="forbidden") | .name] == ["list/deployments"])' "$T_DIR/r/MANIFEST.json" >/dev/null || t_fail "not exactly list/deployments forbidden: $(jq -c '[.items[] | select(.status!="complete") | [.name,.status]]' "$T_DIR/r/MANIFEST.json")"
[ ! -d "$T_DIR/r/raw/deployments" ] || t_fail "pages of a forbidden list kept"
# the chain through the missing list is shown as not collected
grep -q 'Pod/p-rs <- ReplicaSet/rs-agent <- Deployment/d-agent (not collected)' "$T_DIR/r/analysis/inventory.csv" || t_fail "chain without deployments"
kc_admin delete clusterrolebinding,clusterrole kcustody-wl-test >/dev/null
t_pass

purge
t_summary
