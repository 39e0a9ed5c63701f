#!/bin/bash
# Risk rules AGR-001..AGR-024 on the real server: for every rule an agent
# account that must trigger it and one that must not (a near miss), bound
# the way the rule cares about (ClusterRoleBinding, RoleBinding in its own
# namespace or elsewhere), collected with `kcustody collect` and judged from
# analysis/findings.json.  The anchors' traps are among them: verbs '*'
# must trigger the secret rules, `get` on pods/exec must trigger AGR-010,
# and an SA subject listed after a Group subject in one binding is seen.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

id=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
NS=kcr-f-$id          # the accounts' namespace
OTHER=kcr-f-$id-other # a namespace that is neither theirs nor kube-system
GNS=kcr-f-$id-g       # AGR-022: every account of it holds a group binding
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-findings.XXXX")
# Namespaces never finish terminating on the test cluster (no controller
# manager runs there): empty them and drop the finalizer ourselves.
purge_ns() {
	local ns
	for ns in "$@"; do
		kc_admin delete namespace "$ns" --wait=false >/dev/null 2>&1
		kc_admin delete rolebindings,roles,serviceaccounts,pods,configmaps,secrets --all -n "$ns" >/dev/null 2>&1
		kc_admin get namespace "$ns" -o json 2>/dev/null | jq '.spec.finalizers = []' |
			kc_admin replace --raw "/api/v1/namespaces/$ns/finalize" -f - >/dev/null 2>&1
	done
}
cleanup() {
	purge_ns "$NS" "$OTHER" "$GNS"
	kc_admin delete clusterrole,clusterrolebinding -l "kcustody.test/findings=$id" >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

# case ID SIGN SCOPE RULES [SUBJECTS-PREFIX]
#   SIGN pos|neg, SCOPE crb | rb (own namespace) | rb-other | group
#   RULES: the rules list in flow YAML
Y=$WORK/fixture.yaml
cat >"$Y" <<YAML
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: $NS}}
- {apiVersion: v1, kind: Namespace, metadata: {name: $OTHER}}
- {apiVersion: v1, kind: Namespace, metadata: {name: $GNS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: clean-agent, namespace: $NS}}
YAML
L="labels: {kcustody.test/findings: \"$id\"}"
case_() {
	local rid=$1 sign=$2 scope=$3 rules=$4 pre=${5:-} sa="$2-$1-agent" ns=$NS role
	[ "$scope" = group ] && ns=$GNS
	role="kcr-f-$id-$1-$2"
	cat >>"$Y" <<YAML
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: $sa, namespace: $ns}}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: $role, $L}, rules: $rules}
YAML
	case $scope in
	crb) echo "- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: $role, $L}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $role}, subjects: [$pre{kind: ServiceAccount, name: $sa, namespace: $ns}]}" ;;
	rb) echo "- {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: $role, namespace: $NS}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $role}, subjects: [$pre{kind: ServiceAccount, name: $sa}]}" ;;
	rb-other) echo "- {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: $role, namespace: $OTHER}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $role}, subjects: [{kind: ServiceAccount, name: $sa, namespace: $ns}]}" ;;
	group) echo "- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: $role, $L}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $role}, subjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: \"system:serviceaccounts:$GNS\"}]}" ;;
	esac >>"$Y"
	CASES+=("$rid $sign $ns/$sa")
}
CASES=()
R='rbac.authorization.k8s.io'
G='{kind: Group, apiGroup: rbac.authorization.k8s.io, name: some-team}, '
case_ 001 pos crb '[{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]'
case_ 001 neg crb '[{apiGroups: ["*"], resources: ["*"], verbs: [get, list]}]'
case_ 002 pos rb '[{apiGroups: [""], resources: [pods], verbs: ["*"]}]'
case_ 002 neg rb '[{apiGroups: [""], resources: [pods], verbs: [get]}]'
case_ 003 pos crb '[{apiGroups: [""], resources: [secrets], verbs: ["*"]}]'
case_ 003 neg rb '[{apiGroups: [""], resources: [secrets], verbs: ["*"]}]'
case_ 004 pos rb '[{apiGroups: [""], resources: [secrets], verbs: [list]}]'
case_ 004 neg rb-other '[{apiGroups: [""], resources: [secrets], verbs: [list]}]'
case_ 005 pos crb "[{apiGroups: [$R], resources: [clusterroles], verbs: [escalate]}]"
case_ 005 neg crb "[{apiGroups: [$R], resources: [clusterroles], verbs: [get]}]"
case_ 006 pos rb "[{apiGroups: [$R], resources: [roles], verbs: [bind]}]"
case_ 006 neg rb "[{apiGroups: [$R], resources: [roles], verbs: [get]}]"
case_ 007 pos rb "[{apiGroups: [$R], resources: [rolebindings], verbs: [create]}]"
case_ 007 neg rb "[{apiGroups: [$R], resources: [rolebindings], verbs: [get, list]}]"
case_ 008 pos crb '[{apiGroups: [""], resources: [serviceaccounts], verbs: [impersonate]}]'
case_ 008 neg crb '[{apiGroups: [""], resources: [serviceaccounts], verbs: [get]}]'
case_ 009 pos rb '[{apiGroups: [apps], resources: [deployments], verbs: [patch]}]'
case_ 009 neg rb '[{apiGroups: [apps], resources: [deployments], verbs: [get]}]'
case_ 010 pos crb '[{apiGroups: [""], resources: [pods/exec], verbs: [get]}]' "$G"
case_ 010 neg crb '[{apiGroups: [""], resources: [pods/log], verbs: [get]}]' "$G"
case_ 011 pos crb '[{apiGroups: [""], resources: [nodes/proxy], verbs: [get]}]'
case_ 011 neg crb '[{apiGroups: [""], resources: [nodes], verbs: [get]}]'
case_ 012 pos rb '[{apiGroups: [""], resources: [serviceaccounts/token], verbs: [create]}]'
case_ 012 neg rb '[{apiGroups: [""], resources: [serviceaccounts], verbs: [create]}]'
case_ 013 pos crb '[{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}]'
case_ 013 neg crb '[{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests], verbs: [create]}]'
case_ 014 pos crb '[{apiGroups: [admissionregistration.k8s.io], resources: [validatingwebhookconfigurations], verbs: [delete]}]'
case_ 014 neg crb '[{apiGroups: [admissionregistration.k8s.io], resources: [validatingwebhookconfigurations], verbs: [get]}]'
case_ 015 pos crb '[{apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions], verbs: [create]}]'
case_ 015 neg crb '[{apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions], verbs: [list]}]'
case_ 016 pos crb '[{apiGroups: [""], resources: [nodes/status], verbs: [patch]}]'
case_ 016 neg crb '[{apiGroups: [""], resources: [nodes/status], verbs: [get]}]'
case_ 017 pos crb '[{apiGroups: [""], resources: [persistentvolumes], verbs: [create]}]'
case_ 017 neg crb '[{apiGroups: [""], resources: [persistentvolumeclaims], verbs: [create]}]'
case_ 018 pos rb '[{apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [update]}]'
case_ 018 neg rb '[{apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list]}]'
case_ 019 pos crb '[{apiGroups: [""], resources: [namespaces], verbs: [delete]}]'
case_ 019 neg crb '[{apiGroups: [""], resources: [namespaces], verbs: [get]}]'
case_ 020 pos rb '[{apiGroups: [""], resources: [events], verbs: [deletecollection]}]'
case_ 020 neg rb '[{apiGroups: [""], resources: [events], verbs: [create]}]'
case_ 021 pos crb "[{apiGroups: [$R], resources: [clusterroles], verbs: [patch]}]"
case_ 021 neg crb "[{apiGroups: [$R], resources: [clusterroles], verbs: [list]}]"
case_ 022 pos group '[{apiGroups: [""], resources: [configmaps], verbs: [get]}]'
case_ 022 neg crb '[{apiGroups: [""], resources: [configmaps], verbs: [get]}]'
case_ 023 pos crb '[{nonResourceURLs: ["*"], verbs: [post]}]'
case_ 023 neg crb '[{nonResourceURLs: ["*"], verbs: [get]}]'
# AGR-024: a binding to a role that does not exist
cat >>"$Y" <<YAML
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: pos-024-agent, namespace: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: neg-024-agent, namespace: $NS}}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: missing, namespace: $NS}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: not-there}, subjects: [{kind: ServiceAccount, name: pos-024-agent}]}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: present, namespace: $NS}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}, subjects: [{kind: ServiceAccount, name: neg-024-agent}]}
YAML
CASES+=("024 pos $NS/pos-024-agent" "024 neg $NS/neg-024-agent")

kc_admin create -f "$Y" >/dev/null || { echo "cannot create fixture"; echo "0 passed, 1 failed"; exit 1; }
EV=$WORK/ev
"$KC" collect --case T-findings --phase pre --operator tester --kubeconfig "$KC_KUBECONFIG" \
	--agents "pos|neg|clean" --out-dir "$EV" >"$WORK/collect.out" 2>&1
F=$EV/analysis/findings.json

# has ID NS/NAME -> 0 when the account has a finding with that id
has() { jq -e --arg id "AGR-$1" --arg ns "${2%/*}" --arg n "${2#*/}" \
	'[.findings[] | select(.id == $id and .subject.namespace == $ns and .subject.name == $n)] | length > 0' "$F" >/dev/null; }

t_begin "findings: collect ran and wrote findings.json, findings.txt"
[ -f "$F" ] || t_fail "no findings.json (collect said: $(tail -n 3 "$WORK/collect.out"))"
expect_grep '^TRIAGE: URGENT' "$EV/analysis/findings.txt"
t_pass

for c in "${CASES[@]}"; do
	set -- $c
	t_begin "findings: AGR-$1 $([ "$2" = pos ] && echo fires || echo "stays quiet") for $3"
	if [ "$2" = pos ]; then has "$1" "$3" || t_fail "AGR-$1 missing for $3"
	else ! has "$1" "$3" || t_fail "AGR-$1 raised for the near miss $3"; fi
	t_pass
done

t_begin "findings: every hit names subject, binding, role, scope and rule; ATT&CK and CWE from the table"
jq -e '[.findings[] | select(.id != "AGR-024") | (.subject.name and .binding.name and .role.name and .scope and .rule.verbs and .matched)] | all' "$F" >/dev/null || t_fail "a finding lacks provenance"
jq -e '[.findings[] | select(.id == "AGR-003")][0] | .attack == "T1552.007, T1528" and .cwe == "CWE-522" and .severity == "critical"' "$F" >/dev/null || t_fail "AGR-003 table fields"
jq -e '[.findings[] | select(.id == "AGR-010" and .subject.name == "pos-010-agent")][0] | .bindingSubject.kind == "ServiceAccount"' "$F" >/dev/null || t_fail "AGR-010: the SA after the group subject is not the one named"
t_pass

t_begin "findings: the clean agent has none, and the server agrees with the evaluator"
jq -e --arg ns "$NS" '[.findings[] | select(.subject.name == "clean-agent" and .subject.namespace == $ns)] | length == 0' "$F" >/dev/null || t_fail "clean-agent has findings"
jq -e '.disagreements == 0' "$EV/analysis/review-diff.json" >/dev/null || t_fail "server and evaluator disagree: $(jq -c '[.reviews[] | select(.disagreements > 0)][0]' "$EV/analysis/review-diff.json")"
grep -q "^$NS,pos-003-agent," "$EV/analysis/inventory.csv" || t_fail "inventory lacks pos-003-agent"
grep -q "^$NS,pos-003-agent,.*,yes,.*,critical" "$EV/analysis/inventory.csv" || t_fail "inventory: pos-003-agent should have cluster-wide reach and critical"
t_pass

t_begin "findings: --fail-on fails the run on a finding at or above the level, not below"
expect_exit 1 "$KC" collect --case T-findings --phase pre --operator tester --kubeconfig "$KC_KUBECONFIG" \
	--agents '' --sa "$NS/pos-003-agent" --fail-on critical --out-dir "$WORK/ev2"
expect_exit 0 "$KC" collect --case T-findings --phase pre --operator tester --kubeconfig "$KC_KUBECONFIG" \
	--agents '' --sa "$NS/clean-agent" --fail-on info --out-dir "$WORK/ev3"
t_pass

t_begin "who-can: get secrets names the cluster-wide reader and expands groups"
expect_exit 0 "$KC" who-can "$EV" get secrets --json
jq -e --arg w "$NS/pos-003-agent" '.serviceAccounts | index($w) != null' "$T_OUT" >/dev/null || t_fail "pos-003-agent missing"
jq -e --arg w "$NS/neg-002-agent" '.serviceAccounts | index($w) == null' "$T_OUT" >/dev/null || t_fail "neg-002-agent listed"
expect_exit 0 "$KC" who-can "$EV" get configmaps --json
jq -e --arg w "$GNS/pos-022-agent" '.serviceAccounts | index($w) != null' "$T_OUT" >/dev/null || t_fail "group system:serviceaccounts:$GNS not expanded"
expect_exit 0 "$KC" who-can "$EV" list secrets -n "$OTHER"
expect_grep "namespace $OTHER .*neg-004-agent" "$T_OUT"
expect_exit 2 "$KC" who-can "$EV" get
t_pass

t_summary
