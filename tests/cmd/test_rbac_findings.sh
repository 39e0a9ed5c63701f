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
# Namespaces removed by the controller manager's namespace controller
# (kc_purge_ns waits for it; by hand on a cluster without one).
cleanup() {
	kc_purge_ns "$NS" "$OTHER" "$GNS"
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
# Issue 18: a Role bound in the agent's own namespace with every verb on
# every resource of every group reaches no cluster-scoped resource (a
# request for one has no namespace); wild-agent must get only the findings
# a real request in its namespace confirms.  nosec-agent holds the same
# through a Role that lists resources and leaves out secrets: none of its
# findings is critical through a cluster-scoped resource, so no triage.
cat >>"$Y" <<YAML
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: wild-agent, namespace: $NS}}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: wild, namespace: $NS}, rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: wild, namespace: $NS}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: wild}, subjects: [{kind: ServiceAccount, name: wild-agent}]}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: cscope-agent, namespace: $NS}}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: cscope, namespace: $NS}, rules: [{apiGroups: ["*"], resources: [nodes, nodes/proxy, nodes/status, persistentvolumes, namespaces, clusterroles, clusterrolebindings, certificatesigningrequests/approval, signers, mutatingwebhookconfigurations, validatingwebhookconfigurations, customresourcedefinitions, apiservices, users, groups, uids, userextras/scopes], verbs: ["*"]}]}
- {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: cscope, namespace: $NS}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cscope}, subjects: [{kind: ServiceAccount, name: cscope-agent}]}
YAML

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
	--agents "pos|neg|clean|wild|cscope" --out-dir "$EV" >"$WORK/collect.out" 2>&1
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

# ids of one account's findings, sorted, space-separated
ids_of() { jq -r --arg ns "${1%/*}" --arg n "${1#*/}" \
	'[.findings[] | select(.subject.namespace == $ns and .subject.name == $n) | .id] | unique | join(" ")' "$F"; }

t_begin "scope: a namespaced wildcard Role gets only the findings a request in its namespace confirms"
got=$(ids_of "$NS/wild-agent")
want="AGR-001 AGR-002 AGR-004 AGR-005 AGR-006 AGR-007 AGR-008 AGR-009 AGR-010 AGR-012 AGR-018 AGR-019 AGR-020"
[ "$got" = "$want" ] || t_fail "wild-agent: got [$got], want [$want]"
for x in 003 011 013 014 015 016 017 021 023; do
	! has "$x" "$NS/wild-agent" || t_fail "AGR-$x raised for a namespaced grant"
done
jq -e --arg ns "$NS" '[.findings[] | select(.subject.name == "wild-agent") | select(.request != null) |
	.request.namespace == $ns] | all' "$F" >/dev/null || t_fail "a wild-agent proof request is not in $NS"
t_pass

t_begin "scope: a Role naming every cluster-scoped resource triggers no cluster-scoped rule"
got=$(ids_of "$NS/cscope-agent")
# bind on clusterroles is checked in the RoleBinding's namespace: AGR-006 is real
[ "$got" = "AGR-002 AGR-006" ] || t_fail "cscope-agent: got [$got], want [AGR-002 AGR-006]"
jq -e --arg ns "$NS" '[.findings[] | select(.subject.name == "cscope-agent" and .id == "AGR-006")][0].request |
	.verb == "bind" and .resource == "clusterroles" and .namespace == $ns' "$F" >/dev/null || t_fail "AGR-006 proof"
t_pass

t_begin "scope: the real server forbids what kubectl auth can-i -n lists, allows the proofs"
as="--as=system:serviceaccount:$NS:wild-agent"
expect_exit 1 kubectl --kubeconfig "$KC_KUBECONFIG" get nodes "$as"
expect_grep 'Forbidden|forbidden' "$T_ERR"
expect_exit 0 kubectl --kubeconfig "$KC_KUBECONFIG" auth can-i patch nodes -n "$NS" "$as"
expect_exit 0 kubectl --kubeconfig "$KC_KUBECONFIG" get secrets -n "$NS" "$as"
expect_exit 0 kubectl --kubeconfig "$KC_KUBECONFIG" create rolebinding probe -n "$NS" --clusterrole=view \
	--serviceaccount="$NS:wild-agent" --dry-run=server "$as"
# can-i --json says which listed resources no real request reaches
expect_exit 0 "$KC" can-i "$EV" --sa "$NS/cscope-agent" -n "$NS" --json
cp "$T_OUT" "$T_DIR/cani.json"
jq -e '[.grants[] | select(.binding.name == "cscope") | .clusterScopedNotGranted // [] | .[]] | index("nodes.*") != null' "$T_DIR/cani.json" >/dev/null || t_fail "can-i --json: no clusterScopedNotGranted"
printf '{"kind":"SubjectAccessReview","spec":{"user":"system:serviceaccount:%s:wild-agent","groups":["system:serviceaccounts"],"resourceAttributes":{"verb":"patch","resource":"nodes","namespace":"%s"}}}' "$NS" "$NS" >"$T_DIR/sar.json"
expect_exit 0 "$KC" can-i "$EV" --sar "$T_DIR/sar.json"
jq -e '.status.allowed == true and .status.realRequestAllowed == false' "$T_OUT" >/dev/null || t_fail "can-i --sar: $(cat "$T_OUT")"
t_pass

t_begin "scope: who-can patch nodes lists no RoleBinding grant"
expect_exit 0 "$KC" who-can "$EV" patch nodes --json
jq -e --arg w "$NS/wild-agent" '(.serviceAccounts | index($w) == null) and (.namespaces == {}) and .clusterScoped' "$T_OUT" >/dev/null || t_fail "who-can patch nodes: $(jq -c '{namespaces, serviceAccounts}' "$T_OUT" | cut -c1-300)"
expect_exit 0 "$KC" who-can "$EV" get secrets -n "$NS" --json
jq -e --arg w "$NS/wild-agent" '.serviceAccounts | index($w) != null' "$T_OUT" >/dev/null || t_fail "wild-agent cannot read its own secrets?"
t_pass

t_begin "proof: every finding's request, sent as the API server's SubjectAccessReview, is allowed"
kc_proof_sars "$F" >"$T_DIR/sars.json"
n=$(jq '.items | length' "$T_DIR/sars.json")
kc_admin create -f "$T_DIR/sars.json" -o json >"$T_DIR/server.json" 2>"$T_DIR/server.err" || t_fail "kubectl create: $(head -3 "$T_DIR/server.err")"
a=$(jq -s '[.[] | select(.status.allowed == true)] | length' "$T_DIR/server.json")
[ "$n" -gt 30 ] && [ "$a" = "$n" ] || t_fail "$a of $n proofs allowed; first denied: $(jq -c -s '[.[] | select(.status.allowed != true)][0].spec' "$T_DIR/server.json")"
jq -e '[.findings[] | select(.claim == "ability") | .request != null] | all' "$F" >/dev/null || t_fail "an ability finding without request"
jq -e '[.findings[] | select(.id == "AGR-002" or .id == "AGR-022" or .id == "AGR-024") | .request == null and .claim != "ability"] | all' "$F" >/dev/null || t_fail "a statement finding with a request"
echo "  proof SARs: $a of $n allowed"
t_pass

t_begin "proof: a sample of requests made for real through impersonation is not Forbidden"
made=0
while IFS=$'\t' read -r sns sname verb grp res sub ns name; do
	[ -n "$sub" ] && continue
	r=$res; [ -n "$grp" ] && r=$res.$grp
	nsarg=(); [ -n "$ns" ] && nsarg=(-n "$ns")
	case $verb in
	get) cmd=(get "$r" "${name:-kcustody-probe}" "${nsarg[@]}") ;;
	list|watch) if [ -n "$ns" ]; then cmd=(get "$r" "${nsarg[@]}"); else cmd=(get "$r" -A); fi ;;
	# kubectl patch reads the object first: not the request under test
	delete) cmd=(delete "$r" "${name:-kcustody-probe}" "${nsarg[@]}" --dry-run=server) ;;
	create) case $r in
		rolebindings.rbac.authorization.k8s.io) cmd=(create rolebinding kcustody-probe "${nsarg[@]}" --clusterrole=view --user=nobody --dry-run=server) ;;
		clusterrolebindings.rbac.authorization.k8s.io) cmd=(create clusterrolebinding kcustody-probe --clusterrole=view --user=nobody --dry-run=server) ;;
		pods) cmd=(run kcustody-probe "${nsarg[@]}" --image=busybox --restart=Never --dry-run=server) ;;
		*) continue ;;
		esac ;;
	*) continue ;;
	esac
	kubectl --kubeconfig "$KC_KUBECONFIG" "${cmd[@]}" --as="system:serviceaccount:$sns:$sname" >"$T_DIR/real.out" 2>&1
	if grep -qi 'forbidden' "$T_DIR/real.out"; then
		t_fail "kubectl ${cmd[*]} as $sns/$sname: $(head -c 300 "$T_DIR/real.out")"
	fi
	made=$((made + 1))
done < <(jq -r '.findings[] | select(.request != null and .request.resource != null) |
	[.subject.namespace, .subject.name, .request.verb, .request.apiGroup, .request.resource,
	 (.request.subresource // ""), (.request.namespace // ""), (.request.name // "")] | @tsv' "$F")
[ "$made" -ge 15 ] || t_fail "only $made real requests made"
echo "  real requests through impersonation: $made, none Forbidden"
t_pass

t_begin "who-can: get secrets names the cluster-wide reader and expands groups"
expect_exit 0 "$KC" who-can "$EV" get secrets --json
jq -e --arg w "$NS/pos-003-agent" '.serviceAccounts | index($w) != null' "$T_OUT" >/dev/null || t_fail "pos-003-agent missing"
jq -e --arg w "$NS/neg-002-agent" '.serviceAccounts | index($w) == null' "$T_OUT" >/dev/null || t_fail "neg-002-agent listed"
expect_exit 0 "$KC" who-can "$EV" get configmaps --json
jq -e --arg w "$GNS/pos-022-agent" '.serviceAccounts | index($w) != null' "$T_OUT" >/dev/null || t_fail "group system:serviceaccounts:$GNS not expanded"
expect_exit 0 "$KC" who-can "$EV" list secrets -n "$OTHER"
# the table (NAMESPACE SUBJECT VIA BINDING ROLE) fits 100 columns; a long
# subject wraps onto the row's next line, so the row and the name are
# looked for apart, and the JSON says which namespace grants it
expect_grep "^$OTHER  " "$T_OUT"
expect_grep "neg-004-agent" "$T_OUT"
awk -v f="$T_OUT" 'length($0) > 100 { print "line " NR " of " f " is " length($0) " columns"; bad = 1 } END { exit bad }' "$T_OUT" ||
	t_fail "who-can text wider than 100 columns"
expect_exit 0 "$KC" who-can "$EV" list secrets -n "$OTHER" --json
jq -e --arg n "$OTHER" --arg w "neg-004-agent" '.namespaces[$n] | map(.subject.name) | index($w) != null' "$T_OUT" >/dev/null ||
	t_fail "json: neg-004-agent not granted in $OTHER"
expect_exit 2 "$KC" who-can "$EV" get
t_pass

t_begin "who-can: a resource the cluster does not serve is named as such, not answered in silence"
expect_exit 0 "$KC" who-can "$EV" get secretz
expect_grep "doesn't have a resource type 'secretz'" "$T_ERR"
expect_exit 0 "$KC" who-can "$EV" get secretz --json
jq -e '.served == false and (.warning | test("secretz"))' "$T_OUT" >/dev/null || t_fail "json: $(head -c 300 "$T_OUT")"
# the twins: a built-in resource and one a rule names are served
expect_exit 0 "$KC" who-can "$EV" get secrets
expect_no_grep "resource type" "$T_ERR"
expect_exit 0 "$KC" who-can "$EV" '*' '*'
expect_no_grep "resource type" "$T_ERR"
expect_exit 0 "$KC" who-can "$EV" get leases.coordination.k8s.io --json
jq -e '.served == true' "$T_OUT" >/dev/null || t_fail "leases not served"
t_pass

t_summary
