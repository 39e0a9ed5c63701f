#!/bin/bash
# Agents defined by a custom resource (issue 13 item 2): a kagent Agent is
# linked to the service account it runs as (spec.*.deployment.
# serviceAccountName, else the account named after the Agent; a Deployment
# the Agent owns decides over both), that account is an agent whatever its
# name, and can-i, findings, the inventory, the report and diff show the
# Agent beside it.  Negative twins: an Agent naming an account that does not
# exist is reported as such and links nothing; an account no Agent runs as
# is not labelled.  The kagent-shaped CRDs of tests/data/kagent/ (as in
# test_discovery.sh).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

id=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
NS=kcr-alink-$id
P=kcr-alink-$id
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-alink.XXXX")
cleanup() {
	rm -rf "$W"
	kc_purge_ns "$NS"
	kc_admin delete -f "$KC_REPO/tests/data/kagent/crds.yaml" >/dev/null 2>&1
	kc_admin delete clusterrole "$P-secrets" >/dev/null 2>&1
}
trap cleanup EXIT

kc_admin apply -f "$KC_REPO/tests/data/kagent/crds.yaml" >/dev/null &&
	kc_admin wait --for condition=established --timeout=60s -f "$KC_REPO/tests/data/kagent/crds.yaml" >/dev/null ||
	{ echo "cannot create the CRDs"; echo "0 passed, 1 failed"; exit 1; }
for _ in $(seq 50); do kc_admin get --raw /apis/kagent.dev/v1alpha2 >/dev/null 2>&1 && break; sleep 0.2; done

# Names chosen so that no account matches the agent name regex given below.
kc_admin create -f - >/dev/null <<YAML || { echo "cannot create fixture"; echo "0 passed, 1 failed"; exit 1; }
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: svc-runner, namespace: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: doc-bot, namespace: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: declared-sa, namespace: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: runtime-sa, namespace: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: plain-sa, namespace: $NS}}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: $P-secrets}
  rules: [{apiGroups: [""], resources: [secrets], verbs: [get, list]}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: secrets, namespace: $NS}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $P-secrets}
  subjects:
  - {kind: ServiceAccount, name: svc-runner, namespace: $NS}
  - {kind: ServiceAccount, name: plain-sa, namespace: $NS}
- apiVersion: kagent.dev/v1alpha2
  kind: Agent
  metadata: {name: helper, namespace: $NS}
  spec: {type: Declarative, declarative: {modelConfig: m, systemMessage: hi, deployment: {serviceAccountName: svc-runner}}}
- apiVersion: kagent.dev/v1alpha2
  kind: Agent
  metadata: {name: doc-bot, namespace: $NS}
  spec: {type: BYO, byo: {deployment: {image: "bot:1"}}}
- apiVersion: kagent.dev/v1alpha2
  kind: Agent
  metadata: {name: ghost, namespace: $NS}
  spec: {type: Declarative, declarative: {modelConfig: m, deployment: {serviceAccountName: missing-sa}}}
- apiVersion: kagent.dev/v1alpha2
  kind: Agent
  metadata: {name: deployed, namespace: $NS}
  spec: {type: Declarative, declarative: {modelConfig: m, deployment: {serviceAccountName: declared-sa}}}
YAML
uid=$(kc_admin get agents.kagent.dev deployed -n "$NS" -o jsonpath='{.metadata.uid}')
# what the controller made of "deployed": a Deployment it owns, running as
# another account than the Agent declares (the cluster's truth decides)
kc_admin create -f - >/dev/null <<YAML || { echo "cannot create the deployment"; echo "0 passed, 1 failed"; exit 1; }
apiVersion: apps/v1
kind: Deployment
metadata:
  name: deployed
  namespace: $NS
  ownerReferences: [{apiVersion: kagent.dev/v1alpha2, kind: Agent, name: deployed, uid: "$uid", controller: true}]
spec:
  replicas: 0
  selector: {matchLabels: {app: deployed}}
  template:
    metadata: {labels: {app: deployed}}
    spec: {serviceAccountName: runtime-sa, containers: [{name: a, image: "a:1"}]}
YAML

collect() { "$KC" collect --case T-alink --operator tester --kubeconfig "$KC_KUBECONFIG" \
	--agents "nomatch-$id" --no-reviews "$@"; }
EV=$W/pre
collect --phase pre --out-dir "$EV" >/dev/null 2>"$W/collect.err"
rc=$?
sel=$EV/analysis/selection.json
seal() { # NAME: the evidence folder $W/NAME sealed unsigned as $W/NAME.tar.gz
	cp -a "$W/$1" "$W/$1.s" && mv "$W/$1.s/MANIFEST.json" "$W/$1.m.json" &&
		"$KC" seal "$W/$1.s" --manifest "$W/$1.m.json" --no-sign -o "$W/$1.tar.gz" >/dev/null 2>&1
}
seal pre || { echo "cannot seal"; echo "0 passed, 1 failed"; exit 1; }

t_begin "link: the accounts the Agents run as are selected, whatever their names"
[ "$rc" = 0 ] || t_fail "collect exited $rc: $(tail -n 3 "$W/collect.err")"
for x in "svc-runner helper spec.declarative.deployment.serviceAccountName" \
	"doc-bot doc-bot no serviceAccountName" "runtime-sa deployed Deployment $NS/deployed owned by the Agent"; do
	set -- $x
	sa=$1 ag=$2; shift 2; via="$*"
	jq -e --arg ns "$NS" --arg sa "$sa" --arg ag "$ag" --arg via "$via" '.selected[] | select(.namespace == $ns and .name == $sa)
		| (.reasons | any(startswith("runs agent kagent.dev/Agent " + $ns + "/" + $ag + " (")))
		and (.agentResources | length == 1) and .agentResources[0].name == $ag and (.agentResources[0].via | startswith($via))
		and .agentResources[0].text == "agent kagent.dev/Agent " + $ns + "/" + $ag' "$sel" >/dev/null ||
		t_fail "$sa: $(jq -c --arg ns "$NS" --arg sa "$sa" '.selected[] | select(.namespace == $ns and .name == $sa)' "$sel")"
done
# the Deployment's account, not the one the Agent declares
jq -e --arg ns "$NS" '.selected[] | select(.namespace == $ns and .name == "runtime-sa") | .agentResources[0].via
	| test("the Agent.s spec.declarative.deployment.serviceAccountName names another")' "$sel" >/dev/null ||
	t_fail "the Deployment's account did not decide"
t_pass

t_begin "link: an Agent naming a missing account is reported, links nothing; an unlinked account is not labelled (negative twins)"
jq -e --arg ns "$NS" '.agentResources[] | select(.namespace == $ns and .name == "ghost")
	| .serviceAccountExists == false and .serviceAccount == {"namespace": $ns, "name": "missing-sa"}
	and (.text | test("names service account .*/missing-sa, which does not exist"))' "$sel" >/dev/null ||
	t_fail "ghost: $(jq -c --arg ns "$NS" '.agentResources[] | select(.name == "ghost")' "$sel")"
for sa in missing-sa plain-sa declared-sa; do
	jq -e --arg ns "$NS" --arg sa "$sa" 'any(.selected[]; .namespace == $ns and .name == $sa) | not' "$sel" >/dev/null ||
		t_fail "$sa selected"
done
expect_exit 0 "$KC" can-i "$EV" --sa "$NS/plain-sa"
expect_no_grep "identity of" "$T_ERR"
expect_exit 0 "$KC" can-i "$EV" --sa "$NS/plain-sa" --json
expect_no_grep agentResources "$T_OUT"
expect_exit 0 "$KC" can-i "$EV" --sa "$NS/declared-sa" --json
expect_no_grep agentResources "$T_OUT"
# without the Agent list (a bundle from before): nothing linked, nothing selected
cp -a "$EV" "$W/nocr" && rm -rf "$W/nocr/custom/kagent.dev/agents"
expect_exit 0 "$KC" can-i "$W/nocr" --sa "$NS/svc-runner" --json
expect_no_grep agentResources "$T_OUT"
t_pass

t_begin "can-i: text notes the Agent on stderr (the table stays kubectl's), --json has agentResources"
expect_exit 0 "$KC" can-i "$EV" --sa "$NS/svc-runner"
expect_grep "note: $NS/svc-runner is the identity of agent kagent.dev/Agent $NS/helper \(spec.declarative.deployment.serviceAccountName\)" "$T_ERR"
expect_no_grep "kagent.dev/Agent" "$T_OUT"
expect_exit 0 "$KC" can-i "$EV" --sa "$NS/svc-runner" --json
jq -e --arg ns "$NS" '.agentResources == [{"group": "kagent.dev", "kind": "Agent", "namespace": $ns, "name": "helper",
	"via": "spec.declarative.deployment.serviceAccountName", "text": ("agent kagent.dev/Agent " + $ns + "/helper")}]' "$T_OUT" >/dev/null ||
	t_fail "json: $(jq -c .agentResources "$T_OUT")"
t_pass

t_begin "findings, inventory and report show the Agent beside the account; not beside plain-sa"
jq -e --arg ns "$NS" '[.findings[] | select(.subject.namespace == $ns and .subject.name == "svc-runner")]
	| length > 0 and all(.subject.agentResources[0].text == "agent kagent.dev/Agent " + $ns + "/helper")' \
	"$EV/analysis/findings.json" >/dev/null || t_fail "findings.json: no agentResources on svc-runner's findings"
jq -e '[.findings[] | select(.subject.name == "plain-sa")] | length == 0' "$EV/analysis/findings.json" >/dev/null ||
	t_fail "plain-sa has findings (not selected)"
grep -A1 "subject:  ServiceAccount $NS/svc-runner" "$EV/analysis/findings.txt" |
	grep -q "^  identity: agent kagent.dev/Agent $NS/helper (spec.declarative.deployment.serviceAccountName)$" ||
	t_fail "findings.txt: no identity line"
head -n 1 "$EV/analysis/inventory.csv" | grep -q ',agent_resources' || t_fail "inventory has no agent_resources column"
python3 - "$EV/analysis/inventory.csv" "$NS" <<'PY' || t_fail "inventory rows"
import csv, sys
rows = {(r["namespace"], r["name"]): r for r in csv.DictReader(open(sys.argv[1], newline=""))}
ns = sys.argv[2]
assert rows[(ns, "svc-runner")]["agent_resources"] == "agent kagent.dev/Agent %s/helper" % ns, rows[(ns, "svc-runner")]
assert rows[(ns, "runtime-sa")]["agent_resources"] == "agent kagent.dev/Agent %s/deployed" % ns
assert (ns, "plain-sa") not in rows
PY
expect_exit 0 "$KC" report "$W/pre.tar.gz" -o "$W/r.html" --no-verify
grep -q "agent kagent.dev/Agent $NS/helper" "$W/r.html" || t_fail "report does not show the Agent"
t_pass

t_begin "diff: the agent's line names the Agent"
kc_admin delete rolebinding secrets -n "$NS" >/dev/null || t_fail "cannot remediate"
collect --phase post --out-dir "$W/post" >/dev/null 2>&1 || t_fail "post collect"
seal post || t_fail "seal post"
expect_exit 0 "$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --no-verify --allow-unsigned
expect_grep "^Agent $NS/svc-runner \(agent kagent.dev/Agent $NS/helper\): 2 removed" "$T_OUT"
expect_no_grep "^Agent $NS/plain-sa" "$T_OUT"
expect_exit 0 "$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --no-verify --allow-unsigned --format json
jq -e --arg ns "$NS" '.agents[] | select(.name == "svc-runner") | .agentResources[0].name == "helper"' "$T_OUT" >/dev/null ||
	t_fail "diff json"
expect_exit 0 "$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --no-verify --allow-unsigned --format md
expect_grep "^\| $NS/svc-runner \(agent kagent.dev/Agent $NS/helper\) \|" "$T_OUT"
t_pass

t_summary
