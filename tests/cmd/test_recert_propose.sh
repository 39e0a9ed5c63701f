#!/bin/bash
# kcustody recertify --propose on the real loopback API server: an agent
# with over-broad RBAC (a RoleBinding of its own, a ClusterRoleBinding of
# its own, a RoleBinding shared with a user) makes real requests with its
# own token; a bundle is collected with the audit log; the proposal is
# applied exactly as emitted (kubectl apply -f apply.yaml, kubectl delete
# -f delete.yaml), then the server itself answers: every request the agent
# made (read from the audit log with jq, not from the proposal) is still
# allowed, every unused permission is gone, the user of the shared binding
# answers exactly as before (also through a shared ClusterRoleBinding,
# edited).  Twins: a filtered window and a gapped window
# are refused, a short window warns and a long enough minimum does not, a
# proposal with one rule dropped fails the same check.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-propose.XXXX")
trap 'rm -rf "$W"' EXIT
"$KC" keygen -o "$W/k.pem" --pub "$W/k.pub" >/dev/null 2>&1

ns=prop-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
nsb=$ns-b
SA=system:serviceaccount:$ns:kagent
alice=alice-$ns
# the window starts here: everything the agent does is after it
since=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
sleep 1
kc_admin apply -f - >/dev/null <<YAML || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: v1
kind: Namespace
metadata: {name: $nsb}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kagent, namespace: $ns}
---
apiVersion: v1
kind: Secret
metadata: {name: db-password, namespace: $ns}
stringData: {password: not-a-real-one}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: $ns}
data: {mode: prod}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: broad, namespace: $ns}
rules:
- {apiGroups: [""], resources: ["pods", "configmaps", "secrets", "services"], verbs: ["get", "list", "watch", "create", "delete"]}
- {apiGroups: ["apps"], resources: ["deployments"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kagent-broad, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: broad}
subjects: [{kind: ServiceAccount, name: kagent, namespace: $ns}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: $ns-reader}
rules:
- {apiGroups: [""], resources: ["services", "configmaps", "pods"], verbs: ["get", "list", "watch"]}
- {apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: $ns-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $ns-reader}
subjects: [{kind: ServiceAccount, name: kagent, namespace: $ns}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: $ns-ns-reader}
rules:
- {apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: $ns-shared-crb}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $ns-ns-reader}
subjects:
- {kind: ServiceAccount, name: kagent, namespace: $ns}
- {kind: User, name: $alice, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: $ns-shared}
rules:
- {apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "create"]}
- {apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: shared, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $ns-shared}
subjects:
- {kind: User, name: $alice, apiGroup: rbac.authorization.k8s.io}
- {kind: ServiceAccount, name: kagent, namespace: $ns}
YAML
cleanup() {
	kc_admin delete clusterrolebinding "$ns-reader" "$ns-shared-crb" "kcustody-proposed:$ns:kagent" >/dev/null 2>&1
	kc_admin delete clusterrole "$ns-reader" "$ns-shared" "$ns-ns-reader" "kcustody-proposed:$ns:kagent" >/dev/null 2>&1
	kc_purge_ns "$ns" "$nsb"
}

# the agent, with its own token (kubectl's discovery requests are the
# agent's too)
tok=$(kc_admin -n "$ns" create token kagent)
agent() { kubectl --kubeconfig=/dev/null --server "$KC_SERVER" --certificate-authority "$KC_PKI_DIR/ca.crt" \
	--token "$tok" "$@"; }
alice_can() { kc_admin auth can-i --as="$alice" "$@"; }
agent get pods -n "$ns" >/dev/null 2>&1
agent get configmap settings -n "$ns" >/dev/null
agent get secret db-password -n "$ns" -o name >/dev/null
agent get services -n "$nsb" >/dev/null 2>&1
agent create configmap made-by-agent -n "$ns" --from-literal=k=v >/dev/null
agent get nodes >/dev/null 2>&1
agent get secrets -n kube-system >/dev/null 2>&1	# denied: not proposed
# alice's answers before (the shared binding's other subject)
alice_can --list -n "$ns" >"$W/alice.before" 2>&1
alice_can --list -n "$nsb" >"$W/alice.before.b" 2>&1
alice_can --list >"$W/alice.before.cluster" 2>&1
sleep 1
until=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
sleep 2

collect() { # OUT-DIR [COLLECT-OPTION...]
	local out=$1
	shift
	mkdir -p "$out"
	"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case PROPOSE-1 --phase baseline --agents '' \
		--sa "$ns/kagent" --audit-log "$KC_AUDIT_DIR" --until "$until" --key "$W/k.pem" -o "$out/" -q "$@"
}
b=$(collect "$W/good" --since "$since")
[ -s "$b" ] || { echo "collect failed"; cleanup; echo "0 passed, 1 failed"; exit 1; }

cat >"$W/scope.yaml" <<YAML
apiVersion: kcustody.dev/v1alpha1
kind: AgentScopes
agents:
- name: kagent
  owner: platform-team
  approval: CHG-2001
  serviceAccount: $ns/kagent
  namespaces: [$ns, $nsb]
  resources:
  - {apiGroup: "", resource: pods, verbs: [get, list, watch]}
  - {apiGroup: "", resource: services, verbs: [get, list]}
  - {apiGroup: "", resource: nodes, verbs: [get, list]}
  secrets: {names: [db-password], verbs: [get]}
  configMaps: {names: [settings], verbs: [get]}
YAML

# The agent's allowed requests in the window, from the audit log with jq
# (independent of the proposal): one line per distinct request,
# "verb resource[.group] [name] namespace subresource".
kc_audit_pieces "$KC_AUDIT_DIR" | jq -r --arg sa "$SA" --arg s "$since" --arg u "$until" 'select(.user.username == $sa and
	.stage == "ResponseComplete" and .requestReceivedTimestamp >= $s and .requestReceivedTimestamp < $u and
	.annotations["authorization.k8s.io/decision"] == "allow") |
	if .objectRef == null then [.verb, (.requestURI | sub("[?].*"; "")), "-", "-", "-"] else
	[.verb, (.objectRef.resource + (if (.objectRef.apiGroup // "") != "" then "." + .objectRef.apiGroup else "" end)),
	 (if .verb == "create" then "-" else (.objectRef.name // "-") end), (.objectRef.namespace // "-"),
	 (.objectRef.subresource // "-")] end | join(" ")' | sort -u >"$W/used.txt"

# can_i_used FILE: one SubjectAccessReview (kubectl auth can-i) per line of
# FILE; prints the lines denied.
can_i_used() {
	local verb res name nsp sub args
	while read -r verb res name nsp sub; do
		args=("$verb" "$res")
		[ "$name" != - ] && args=("$verb" "$res/$name")
		# namespaces, nodes: cluster-scoped, asked without a namespace
		case $res in namespaces | nodes) nsp=- ;; esac
		[ "$nsp" != - ] && args+=(-n "$nsp")
		[ "$sub" != - ] && args+=(--subresource "$sub")
		kc_admin auth can-i --as="$SA" "${args[@]}" >/dev/null 2>&1 || echo "$verb $res $name $nsp $sub"
	done <"$1"
}

# unused_lines FILE: the proposal's unused permissions that name one verb
# and one resource, as "verb resource[.group] namespace" lines (a "*"
# namespace asked in both test namespaces, "-" cluster scope).
unused_lines() {
	jq -r --arg a "$ns" --arg b "$nsb" '.agents[0].unused[] | select(.nonResourceURL == null and .verb != "*" and
		.resource != "*" and .resourceNames == null) |
		(.resource + (if .apiGroup != "" then "." + .apiGroup else "" end)) as $r |
		if .namespace == "*" then (.verb + " " + $r + " " + $a), (.verb + " " + $r + " " + $b)
		elif .namespace == "" then .verb + " " + $r + " -" else .verb + " " + $r + " " + .namespace end' "$1" | sort -u
}
can_i_lines() { # FILE: prints "verb res ns yes|no" per line
	local verb res nsp
	while read -r verb res nsp; do
		if [ "$nsp" = - ]; then a=(); else a=(-n "$nsp"); fi
		if kc_admin auth can-i --as="$SA" "$verb" "$res" "${a[@]}" >/dev/null 2>&1; then
			echo "$verb $res $nsp yes"
		else
			echo "$verb $res $nsp no"
		fi
	done <"$1"
}

t_begin "propose: the agent's requests were recorded by the audit log"
[ "$(wc -l <"$W/used.txt")" -ge 6 ] || t_fail "only $(wc -l <"$W/used.txt") distinct requests of the agent in the log"
expect_grep "^list pods - $ns -$" "$W/used.txt"
expect_grep "^get secrets db-password $ns -$" "$W/used.txt"
expect_grep "^list services - $nsb -$" "$W/used.txt"
expect_grep "^create configmaps - $ns -$" "$W/used.txt"
# before anything changes, every request is allowed
can_i_used "$W/used.txt" >"$W/denied.before"
[ -s "$W/denied.before" ] && t_fail "denied before the proposal: $(head -n 3 "$W/denied.before")"
t_pass

t_begin "propose: written from the real window, the short window said prominently -> 1"
expect_exit 1 "$KC" recertify "$b" --scope "$W/scope.yaml" --pubkey "$W/k.pub" --propose "$W/p"
head -n 1 "$T_OUT" | grep -q "^WARNING: the audit window is 0.00 days, shorter than the minimum of 30.00 days" ||
	t_fail "the first line is not the warning: $(head -n 1 "$T_OUT")"
expect_grep "^kubectl apply -f $W/p/apply.yaml|^  kubectl apply -f $W/p/apply.yaml" "$T_OUT"
expect_grep "^  kubectl delete -f $W/p/delete.yaml" "$T_OUT"
for f in apply.yaml delete.yaml proposal.json; do [ -s "$W/p/$f" ] || t_fail "no $f"; done
expect_grep "^# WARNING: the audit window is" "$W/p/apply.yaml"
P=$W/p/proposal.json
jq -e --arg s "$since" --arg u "$until" '.window.from == $s and .window.to == $u and .window.belowMinimum and
	.window.minimumSeconds == 2592000 and (.window.seconds >= 1) and (.window.warning | test("monthly"))' "$P" >/dev/null ||
	t_fail "window wrong: $(jq -c .window "$P")"
jq -e --arg ns "$ns" '(.bindingChanges | sort_by(.name)) == ([
	{kind: "ClusterRoleBinding", name: ($ns + "-reader"), change: "delete"},
	{kind: "ClusterRoleBinding", name: ($ns + "-shared-crb"), change: "edit", subjectsLeft: 1},
	{kind: "RoleBinding", namespace: $ns, name: "kagent-broad", change: "delete"},
	{kind: "RoleBinding", namespace: $ns, name: "shared", change: "edit", subjectsLeft: 1}] | sort_by(.name))' "$P" >/dev/null ||
	t_fail "binding changes wrong: $(jq -c .bindingChanges "$P")"
jq -e --arg ns "$ns" '[.agents[0].usedBeyondScope[] | .verb + " " + .resource] == ["create configmaps"] and
	[.agents[0].denied[] | .verb + " " + .resource + " " + .namespace] == ["list secrets kube-system"]' "$P" >/dev/null ||
	t_fail "beyond scope or denied wrong: $(jq -c '.agents[0] | [.usedBeyondScope, .denied]' "$P")"
# the ClusterRoleBinding's namespaced use became Roles: the ClusterRole
# keeps only the cluster-scoped request
jq -e --arg ns "$ns" --arg nsb "$nsb" '[.objects.apply[] | select(.kind == "ClusterRole") | .rules[].resources[]] == ["nodes"] and
	([.objects.apply[] | select(.kind == "Role") | .metadata.namespace] | sort) == ([$ns, $nsb] | sort) and
	[.objects.apply[] | select(.kind == "Role" and .metadata.namespace == $nsb) | .rules[]] ==
	[{verbs: ["list"], apiGroups: [""], resources: ["services"]}]' "$P" >/dev/null ||
	t_fail "cluster-wide grant not narrowed: $(jq -c '[.objects.apply[] | select(.kind | endswith("Role")) | {kind, ns: .metadata.namespace, rules}]' "$P")"
# the edited binding is the stored one without the agent
python3 - "$W/p/apply.yaml" "$ns" "$alice" <<'PY' || t_fail "the shared binding is not edited as it should be"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
sh = [d for d in docs if d["kind"] == "RoleBinding" and d["metadata"]["name"] == "shared"]
assert len(sh) == 1, sh
assert sh[0]["metadata"]["namespace"] == sys.argv[2]
assert sh[0]["subjects"] == [{"kind": "User", "name": sys.argv[3], "apiGroup": "rbac.authorization.k8s.io"}], sh[0]["subjects"]
assert sh[0]["roleRef"]["name"] == sys.argv[2] + "-shared"
crb = [d for d in docs if d["kind"] == "ClusterRoleBinding" and d["metadata"]["name"] == sys.argv[2] + "-shared-crb"]
assert len(crb) == 1 and crb[0]["subjects"] == [{"kind": "User", "name": sys.argv[3], "apiGroup": "rbac.authorization.k8s.io"}], crb
assert "namespace" not in crb[0]["metadata"]
# new grants before the edits that take the old ones away
assert sorted([docs.index(sh[0]), docs.index(crb[0])]) == [len(docs) - 2, len(docs) - 1]
PY
t_pass

t_begin "propose: --min-window below the window: no warning (still 1: a request beyond scope)"
expect_exit 1 "$KC" recertify "$b" --scope "$W/scope.yaml" --pubkey "$W/k.pub" --propose "$W/p-nowarn" --min-window 1s
expect_no_grep "WARNING" "$T_OUT"
expect_no_grep "WARNING" "$W/p-nowarn/apply.yaml"
jq -e '(.window.belowMinimum | not) and .window.warning == null and .window.minimumSeconds == 1' "$W/p-nowarn/proposal.json" >/dev/null ||
	t_fail "warning given: $(jq -c .window "$W/p-nowarn/proposal.json")"
cmp -s <(grep -v '^#' "$W/p/apply.yaml") <(grep -v '^#' "$W/p-nowarn/apply.yaml") || t_fail "the objects differ with another minimum"
expect_exit 1 "$KC" recertify "$b" --scope "$W/scope.yaml" --pubkey "$W/k.pub" --propose "$W/p-json" --min-window 1s --format json
cmp -s <(jq -S . "$T_OUT") <(jq -S . "$W/p-json/proposal.json") || t_fail "--format json is not proposal.json"
jq -e '.schema == "kcustody.proposal/v1alpha1"' "$T_OUT" >/dev/null || t_fail "no schema in --format json"
t_pass

t_begin "propose: the unused permissions are held before the proposal is applied"
unused_lines "$P" >"$W/unused.txt"
[ "$(wc -l <"$W/unused.txt")" -ge 10 ] || t_fail "only $(wc -l <"$W/unused.txt") unused permissions"
for want in "delete pods $ns" "watch pods $nsb" "list configmaps $ns" "get deployments.apps $ns" "get nodes -" "list namespaces -"; do
	grep -qx "$want" "$W/unused.txt" || t_fail "'$want' not among the unused"
done
can_i_lines "$W/unused.txt" >"$W/unused.before"
grep ' no$' "$W/unused.before" && t_fail "an unused permission is not held before"
alice_can --list -n "$ns" >"$W/alice.mid" 2>&1
cmp -s "$W/alice.before" "$W/alice.mid" || t_fail "alice's answers changed before anything was applied"
t_pass

t_begin "propose: applied exactly as emitted, every used request still allowed"
expect_exit 0 kc_admin apply -f "$W/p/apply.yaml"
expect_exit 0 kc_admin delete -f "$W/p/delete.yaml"
can_i_used "$W/used.txt" >"$W/denied.after"
# the one request beyond scope is the one denied now
[ "$(cat "$W/denied.after")" = "create configmaps - $ns -" ] || t_fail "denied after: $(cat "$W/denied.after")"
t_pass

t_begin "propose: every unused permission is gone"
can_i_lines "$W/unused.txt" >"$W/unused.after"
grep ' yes$' "$W/unused.after" && t_fail "unused permissions still allowed"
# and the bindings the agent held alone are gone, the shared one kept
kc_admin get rolebinding kagent-broad -n "$ns" >/dev/null 2>&1 && t_fail "kagent-broad still there"
kc_admin get clusterrolebinding "$ns-reader" >/dev/null 2>&1 && t_fail "$ns-reader still there"
kc_admin get rolebinding shared -n "$ns" >/dev/null 2>&1 || t_fail "the shared binding was deleted"
kc_admin get clusterrolebinding "$ns-shared-crb" >/dev/null 2>&1 || t_fail "the shared ClusterRoleBinding was deleted"
t_pass

t_begin "propose: the other subject of the shared binding answers exactly as before"
alice_can --list -n "$ns" >"$W/alice.after" 2>&1
alice_can --list -n "$nsb" >"$W/alice.after.b" 2>&1
alice_can --list >"$W/alice.after.cluster" 2>&1
grep -q "configmaps" "$W/alice.before" || t_fail "alice held nothing through the shared binding"
grep -q "namespaces" "$W/alice.before.cluster" || t_fail "alice held nothing through the shared ClusterRoleBinding"
cmp -s "$W/alice.before" "$W/alice.after" || t_fail "alice's answers in $ns changed: $(diff "$W/alice.before" "$W/alice.after" | head -n 4)"
cmp -s "$W/alice.before.b" "$W/alice.after.b" || t_fail "alice's answers in $nsb changed"
cmp -s "$W/alice.before.cluster" "$W/alice.after.cluster" || t_fail "alice's cluster-wide answers changed"
t_pass

t_begin "propose (negative twin): one rule dropped from the proposal -> a used request denied, caught"
# the proposal is applied: drop one rule from its new Role and apply that
python3 - "$W/p/apply.yaml" "$W/dropped.yaml" <<'PY' || t_fail "cannot drop the rule"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
out, n = [], 0
for d in docs:
    if d["kind"] == "Role" and d["metadata"]["name"].startswith("kcustody-proposed:"):
        keep = [r for r in d["rules"] if r.get("resources") != ["pods"]]
        n += len(d["rules"]) - len(keep)
        d["rules"] = keep
        out.append(d)
assert n == 1, n
yaml.safe_dump_all(out, open(sys.argv[2], "w"))
PY
expect_exit 0 kc_admin apply -f "$W/dropped.yaml"
can_i_used "$W/used.txt" >"$W/denied.dropped"
grep -qx "list pods - $ns -" "$W/denied.dropped" || t_fail "the check did not catch the dropped rule: $(cat "$W/denied.dropped")"
t_pass

t_begin "propose (negative twin): an edit of a binding changed since collection is refused, its new subject kept"
# the edits carry the collected resourceVersion: the server refuses them
# once the binding has changed (here: a subject added after collection)
kc_admin -n "$ns" patch rolebinding shared --type=json \
	-p '[{"op": "add", "path": "/subjects/-", "value": {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"}}]' >/dev/null ||
	t_fail "cannot add bob"
expect_exit 1 kc_admin apply -f "$W/p/apply.yaml"
expect_grep 'Conflict|the object has been modified' "$T_ERR"
kc_admin -n "$ns" get rolebinding shared -o json | jq -e '[.subjects[].name] | index("bob") != null' >/dev/null ||
	t_fail "bob, added after collection, was dropped"
t_pass

t_begin "propose (negative twin): a filtered audit window is refused -> 2"
bf=$(collect "$W/filtered" --since "$since" --audit-filter verb=get)
expect_exit 2 "$KC" recertify "$bf" --scope "$W/scope.yaml" --pubkey "$W/k.pub" --propose "$W/p-filtered"
expect_grep "no proposal from .*: its audit segment was filtered \(--audit-filter verb\)" "$T_ERR"
[ -e "$W/p-filtered/apply.yaml" ] && t_fail "a proposal was written"
# collect's own exclusion is accepted (the good bundle has it); another is a filter
bx=$(collect "$W/filtered-run" --since "$since" --audit-filter exclude-run=SOMEONE)
expect_exit 2 "$KC" recertify "$bx" --scope "$W/scope.yaml" --pubkey "$W/k.pub" --propose "$W/p-filtered-run"
expect_grep "its audit segment was filtered \\(--audit-filter exclude-run\\)" "$T_ERR"
t_pass

t_begin "propose (negative twin): a window with a gap is refused -> 2"
bg=$(collect "$W/gapped" --since 30d)
expect_exit 2 "$KC" recertify "$bg" --scope "$W/scope.yaml" --pubkey "$W/k.pub" --propose "$W/p-gapped"
expect_grep "no proposal from .*: its audit window has [0-9]+ gap\(s\)" "$T_ERR"
[ -e "$W/p-gapped/apply.yaml" ] && t_fail "a proposal was written"
t_pass

t_begin "propose (negative twin): a bundle without audit segment is refused -> 2"
bn=$("$KC" collect --kubeconfig "$KC_KUBECONFIG" --case PROPOSE-1 --phase baseline --agents '' --sa "$ns/kagent" 	--key "$W/k.pem" -o "$W/" -q)
expect_exit 2 "$KC" recertify "$bn" --scope "$W/scope.yaml" --pubkey "$W/k.pub" --propose "$W/p-none"
expect_grep "it has no audit segment" "$T_ERR"
t_pass

t_begin "propose: the wrong key -> 3; usage errors -> 2"
"$KC" keygen -o "$W/o.pem" --pub "$W/o.pub" >/dev/null 2>&1
expect_exit 3 "$KC" recertify "$b" --scope "$W/scope.yaml" --pubkey "$W/o.pub" --propose "$W/p-key"
expect_exit 2 "$KC" recertify "$b" --scope "$W/scope.yaml" --pubkey "$W/k.pub" --propose "$W/p"
expect_grep "is not empty" "$T_ERR"
expect_exit 2 "$KC" recertify "$b" --scope "$W/scope.yaml" --pubkey "$W/k.pub" --propose "$W/p-x" --min-window soon
expect_grep "min-window wants a duration" "$T_ERR"
expect_exit 2 "$KC" recertify "$b" --scope "$W/scope.yaml" --pubkey "$W/k.pub" --min-window 1d
t_pass

cleanup
t_summary
