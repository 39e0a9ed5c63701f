#!/bin/bash
# kcustody recertify on a real bundle from the loopback API server: two
# agents judged against scope files that allow what they hold, and twins
# that each change one thing (a secret name, a missing entry, an entry
# without agent, a tampered bundle, a wrong key, bad scope files).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-recert.XXXX")
trap 'rm -rf "$W"' EXIT
"$KC" keygen -o "$W/k.pem" --pub "$W/k.pub" >/dev/null 2>&1
"$KC" keygen -o "$W/other.pem" --pub "$W/other.pub" >/dev/null 2>&1

ns=recert-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
kc_admin apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kagent-bot, namespace: $ns}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: rag-agent, namespace: $ns}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kagent-bot-secrets, namespace: $ns}
rules:
- {apiGroups: [""], resources: ["secrets"], resourceNames: ["db-password"], verbs: ["get"]}
- {apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kagent-bot-secrets, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kagent-bot-secrets}
subjects: [{kind: ServiceAccount, name: kagent-bot, namespace: $ns}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: $ns-rag-reader}
rules:
- {apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: $ns-rag-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $ns-rag-reader}
subjects: [{kind: ServiceAccount, name: rag-agent, namespace: $ns}]
YAML
b=$("$KC" collect --kubeconfig "$KC_KUBECONFIG" --case RECERT-1 --phase baseline --agents '' \
	--sa "$ns/kagent-bot" --sa "$ns/rag-agent" --key "$W/k.pem" -o "$W/" -q)
[ -s "$b" ] || { echo "collect failed"; echo "0 passed, 1 failed"; exit 1; }

# scope NAMES: the scope file, kagent-bot's allowed secret names NAMES
scope() {
	cat <<YAML
apiVersion: kcustody.dev/v1alpha1
kind: AgentScopes
agents:
- name: kagent
  owner: platform-team
  approval: CHG-1001
  serviceAccount: $ns/kagent-bot
  namespaces: [$ns]
  resources:
  - {apiGroup: "", resource: pods, verbs: [get, list]}
  - {apiGroup: "", resource: pods, subresource: log, verbs: [get, list]}
  secrets: {names: [$1], verbs: [get]}
  maxVerbs: [get, list, watch]
  externalEndpoints: [https://api.example.com]
- name: rag
  owner: search-team
  approval: CHG-1002
  match: {namespaces: [$ns], names: ["rag-*"]}
  namespaces: ["*"]
  resources:
  - {apiGroup: apps, resource: deployments, verbs: [get, list, watch]}
YAML
}
scope db-password >"$W/within.yaml"

t_begin "recertify: both agents within scope -> 0"
expect_exit 0 "$KC" recertify "$b" --scope "$W/within.yaml" --pubkey "$W/k.pub" --format json
jq -e '.withinScope and .summary.agents==2 and .summary.withinScope==2 and .summary.excessPermissions==0 and
	all(.agents[]; .status=="within-scope" and .permissionsJudged>0)' "$T_OUT" >/dev/null || t_fail "not within scope: $(jq -c .summary "$T_OUT")"
jq -e --arg s "$(sha256sum "$W/within.yaml" | cut -d' ' -f1)" '.scope.sha256==$s' "$T_OUT" >/dev/null || t_fail "scope sha256 wrong"
# verified and read in one pass: one whole pass over the file in the
# debug log (test_diff.sh shows the count sees a second one)
KCUSTODY_DEBUG=1 "$KC" recertify "$b" --scope "$W/within.yaml" --pubkey "$W/k.pub" --format json >/dev/null 2>"$T_DIR/dbg" || t_fail "debug run: exit $?"
n=$(grep -c "tar: pass over '$b': $(gzip -dc "$b" | wc -c) bytes inflated from $(stat -c %s "$b") of $(stat -c %s "$b")\$" "$T_DIR/dbg")
[ "$n" = 1 ] || t_fail "$n whole passes over the bundle, not 1"
t_pass

t_begin "recertify: text output says within scope"
expect_exit 0 "$KC" recertify "$b" --scope "$W/within.yaml" --pubkey "$W/k.pub"
expect_grep "^$ns/kagent-bot: WITHIN SCOPE" "$T_OUT"
expect_grep "^Result: WITHIN SCOPE" "$T_OUT"
t_pass

t_begin "recertify: a secret name outside the allowed names -> 1, naming the RoleBinding and Role"
scope other-secret >"$W/excess.yaml"
expect_exit 1 "$KC" recertify "$b" --scope "$W/excess.yaml" --pubkey "$W/k.pub" --format yaml
cp "$T_OUT" "$W/excess.out.yaml"
expect_exit 1 "$KC" recertify "$b" --scope "$W/excess.yaml" --pubkey "$W/k.pub" --json
python3 -c 'import json,sys,yaml; sys.exit(0 if yaml.safe_load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else 1)' \
	"$W/excess.out.yaml" "$T_OUT" || t_fail "--format yaml does not load as --json"
jq -e --arg ns "$ns" '(.withinScope|not) and .summary.excessPermissions==1 and
	(.agents[] | select(.name=="kagent-bot") | .status=="beyond-scope" and (.excess|length)==1 and
	 .excess[0].verb=="get" and .excess[0].resource=="secrets" and .excess[0].resourceNames==["db-password"] and
	 .excess[0].namespace==$ns and .excess[0].binding=={kind:"RoleBinding",namespace:$ns,name:"kagent-bot-secrets"} and
	 .excess[0].role.kind=="Role" and .excess[0].role.name=="kagent-bot-secrets") and
	(.agents[] | select(.name=="rag-agent") | .status=="within-scope")' "$T_OUT" >/dev/null || t_fail "excess wrong: $(jq -c '.agents[].excess' "$T_OUT")"
t_pass

t_begin "recertify: the text output names the excess and what grants it"
expect_exit 1 "$KC" recertify "$b" --scope "$W/excess.yaml" --pubkey "$W/k.pub"
expect_grep "^$ns/kagent-bot: BEYOND SCOPE" "$T_OUT"
expect_grep "^    - get secrets names \\[db-password\\] in namespace $ns\$" "$T_OUT"
expect_grep "^      granted by RoleBinding $ns/kagent-bot-secrets -> Role kagent-bot-secrets \\(rule 0\\)" "$T_OUT"
expect_grep "^      to ServiceAccount $ns/kagent-bot\$" "$T_OUT"
expect_grep "^$ns/rag-agent: WITHIN SCOPE" "$T_OUT"
t_pass

t_begin "recertify: a resources entry without a verb a ClusterRoleBinding grants -> 1, naming it"
scope db-password | sed 's/resource: deployments, verbs: \[get, list, watch\]}$/resource: deployments, verbs: [get, list]}/' >"$W/verbs.yaml"
cmp -s "$W/within.yaml" "$W/verbs.yaml" && t_fail "the scope file was not changed"
expect_exit 1 "$KC" recertify "$b" --scope "$W/verbs.yaml" --pubkey "$W/k.pub" --json
jq -e --arg n "$ns-rag-reader" '.agents[] | select(.name=="rag-agent") | (.excess|length)==1 and
	.excess[0].verb=="watch" and .excess[0].namespace=="*" and .excess[0].binding.kind=="ClusterRoleBinding" and
	.excess[0].binding.name==$n and .excess[0].role.name==$n' "$T_OUT" >/dev/null || t_fail "watch excess wrong: $(jq -c '.agents[].excess' "$T_OUT")"
t_pass

t_begin "recertify: an agent missing from the scope file -> 1"
scope db-password | awk '/^- name: rag/{skip=1} !skip' >"$W/missing.yaml"
expect_exit 1 "$KC" recertify "$b" --scope "$W/missing.yaml" --pubkey "$W/k.pub" --json
jq -e --arg ns "$ns" '.agentsMissingFromScope==[{namespace:$ns,name:"rag-agent"}] and .summary.agentsMissingFromScope==1 and
	.summary.excessPermissions==0' "$T_OUT" >/dev/null || t_fail "missing agent not listed"
t_pass

t_begin "recertify: a scope entry matching no agent -> 1"
{ scope db-password; cat <<YAML
- name: ghost
  owner: nobody
  approval: CHG-0
  serviceAccount: $ns/ghost-agent
YAML
} >"$W/ghost.yaml"
expect_exit 1 "$KC" recertify "$b" --scope "$W/ghost.yaml" --pubkey "$W/k.pub" --json
jq -e --arg sa "$ns/ghost-agent" '.scopeEntriesWithoutAgent[0].name=="ghost" and .scopeEntriesWithoutAgent[0].serviceAccount==$sa and
	.summary.withinScope==2 and .summary.scopeEntriesWithoutAgent==1' "$T_OUT" >/dev/null || t_fail "entry without agent not listed"
t_pass

t_begin "recertify: a tampered bundle -> 3, the untouched one -> 0"
cp "$b" "$W/tampered.tar.gz"
size=$(stat -c %s "$W/tampered.tar.gz")
printf 'X' | dd of="$W/tampered.tar.gz" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
cmp -s "$b" "$W/tampered.tar.gz" && printf 'Y' | dd of="$W/tampered.tar.gz" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_exit 3 "$KC" recertify "$W/tampered.tar.gz" --scope "$W/within.yaml" --pubkey "$W/k.pub"
expect_grep "not a valid bundle" "$T_ERR"
expect_exit 0 "$KC" recertify "$b" --scope "$W/within.yaml" --pubkey "$W/k.pub"
t_pass

t_begin "recertify: the wrong key -> 3, the right key -> 0"
expect_exit 3 "$KC" recertify "$b" --scope "$W/within.yaml" --pubkey "$W/other.pub"
expect_grep "signature check failed" "$T_ERR"
expect_exit 0 "$KC" recertify "$b" --scope "$W/within.yaml" --pubkey "$W/k.pub"
t_pass

t_begin "recertify: an unknown key in the scope file -> 2 with file:line:column"
sed 's/^  owner: platform-team/  ownr: platform-team/' "$W/within.yaml" >"$W/badkey.yaml"
expect_exit 2 "$KC" recertify "$b" --scope "$W/badkey.yaml" --pubkey "$W/k.pub"
expect_grep "badkey.yaml:5:3: unknown key 'ownr' in an agent entry" "$T_ERR"
t_pass

t_begin "recertify: a verb that is not a Kubernetes verb -> 2 with file:line:column"
sed 's/maxVerbs: \[get, list, watch\]/maxVerbs: [get, list, read]/' "$W/within.yaml" >"$W/badverb.yaml"
expect_exit 2 "$KC" recertify "$b" --scope "$W/badverb.yaml" --pubkey "$W/k.pub"
expect_grep "badverb.yaml:13:25: 'read' is not a Kubernetes verb" "$T_ERR"
t_pass

t_begin "recertify: an agent matched by two entries -> 2 naming both"
sed 's/names: \["rag-\*"\]/names: ["*-*"]/' "$W/within.yaml" >"$W/twice.yaml"
expect_exit 2 "$KC" recertify "$b" --scope "$W/twice.yaml" --pubkey "$W/k.pub"
expect_grep "twice.yaml:[0-9]+:[0-9]+: agent $ns/kagent-bot is matched twice: by 'kagent' \(line 4 column 3\) and by 'rag'" "$T_ERR"
t_pass

t_begin "recertify: usage errors -> 2"
expect_exit 2 "$KC" recertify "$b" --pubkey "$W/k.pub"
expect_exit 2 "$KC" recertify "$b" --scope "$W/within.yaml"
expect_exit 2 "$KC" recertify "$b" --scope "$W/within.yaml" --pubkey "$W/k.pub" --format xml
t_pass

kc_admin delete clusterrolebinding "$ns-rag-reader" >/dev/null 2>&1
kc_admin delete clusterrole "$ns-rag-reader" >/dev/null 2>&1
kc_purge_ns "$ns"
t_summary
