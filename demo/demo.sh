#!/bin/bash
# The end-to-end demo (README's first command, via `make deps demo`):
# a cluster with over-privileged AI-agent service accounts, evidence
# collected before remediation, a least-privilege remediation (Role +
# RoleBinding instead of a ClusterRoleBinding, the briefing's step 3),
# evidence collected after, both bundles verified, the permission delta
# shown, the POST bundle recertified against approved scopes with a
# reviewer's signed decision in its custody ledger, and an HTML report
# written.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
KC=${KCUSTODY_BIN:-$repo/kcustody}
out=${KCUSTODY_DEMO_OUT:-$repo/out/demo}
cluster=${KCUSTODY_DEMO_CLUSTER_DIR:-/tmp/kcustody-demo-cluster}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "starting a fresh local cluster (etcd + kube-apiserver on loopback) in $cluster"
bash "$repo/tests/cluster/stop.sh" --purge "$cluster" >/dev/null 2>&1 || true
bash "$repo/tests/cluster/start.sh" "$cluster" >/dev/null
. "$cluster/env.sh"
k() { kubectl --kubeconfig "$KC_KUBECONFIG" "$@"; }
rm -rf "$out"
mkdir -p "$out"

say "creating the scenario: namespace 'agents' with kagent-like service accounts"
k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: agents}
---
apiVersion: v1
kind: Namespace
metadata: {name: payments}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kagent-bot, namespace: agents}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: rag-agent, namespace: agents}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: maintainer, namespace: agents}
---
apiVersion: v1
kind: Secret
metadata: {name: payments-db, namespace: payments}
stringData: {password: demo-not-a-real-password}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: agent-prompts, namespace: agents}
data: {system: "You are a helpful agent."}
---
# Over-privileged: a cluster-wide secret reader bound cluster-wide.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: agent-secret-reader}
rules:
- apiGroups: [""]
  resources: ["secrets", "configmaps"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kagent-bot-secrets}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: agent-secret-reader}
subjects:
- {kind: ServiceAccount, name: kagent-bot, namespace: agents}
---
# Over-privileged: wildcard verbs on everything in its namespace.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: indexer-all, namespace: agents}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rag-agent-all, namespace: agents}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: indexer-all}
subjects:
- {kind: ServiceAccount, name: rag-agent, namespace: agents}
---
apiVersion: v1
kind: Pod
metadata: {name: kagent-bot-0, namespace: agents, labels: {app: kagent}}
spec:
  serviceAccountName: kagent-bot
  containers: [{name: agent, image: registry.invalid/kagent:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: rag-agent-0, namespace: agents, labels: {app: rag}}
spec:
  serviceAccountName: rag-agent
  containers: [{name: indexer, image: registry.invalid/rag:1}]
YAML

say "an agent defined by a custom resource: kagent's Agent 'support-assistant' runs as 'helpdesk-runner'"
# kagent's CRDs (shaped like kagent's own, tests/data/kagent/crds.yaml) and
# one Agent naming its service account; the account's name matches no
# agent name pattern: it is an agent because the runtime says so
k apply -f "$repo/tests/data/kagent/crds.yaml" >/dev/null
k wait --for condition=established --timeout=60s -f "$repo/tests/data/kagent/crds.yaml" >/dev/null
for _ in $(seq 50); do k get --raw /apis/kagent.dev/v1alpha2 >/dev/null 2>&1 && break; sleep 0.2; done
k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: ServiceAccount
metadata: {name: helpdesk-runner, namespace: agents}
---
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {name: support-assistant, namespace: agents}
spec:
  type: Declarative
  description: answers support tickets
  declarative:
    modelConfig: default-model-config
    systemMessage: You are a support assistant.
    deployment: {serviceAccountName: helpdesk-runner}
---
# Over-privileged: reads the payments secrets.
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: helpdesk-secrets, namespace: payments}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: agent-secret-reader}
subjects:
- {kind: ServiceAccount, name: helpdesk-runner, namespace: agents}
YAML

say "agent traffic: kagent-bot reads secrets across the cluster"
k --as=system:serviceaccount:agents:kagent-bot get secrets -A >/dev/null
k --as=system:serviceaccount:agents:kagent-bot -n payments get secret payments-db -o name >/dev/null
k --as=system:serviceaccount:agents:rag-agent -n agents get configmaps >/dev/null

say "signing key for the evidence (Ed25519)"
"$KC" keygen -o "$out/responder.key" --pub "$out/responder.pub"

say "collect --phase pre"
"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case IR-2026-0032 --phase pre \
	--purpose "baseline before least-privilege remediation of AI agents" \
	--operator "demo responder" --key "$out/responder.key" \
	--audit-log "$KC_AUDIT_DIR" -o "$out/" | tee "$out/pre.path"
pre=$(cat "$out/pre.path")

say "the Agent custom resource and the identity it runs as (can-i notes it beside the kubectl table)"
"$KC" can-i "$pre" --sa agents/helpdesk-runner -n payments 2>&1 | head -n 3
sleep 1
remediated=$(date -u +%Y-%m-%dT%H:%M:%SZ)

say "remediation: Role + RoleBinding instead of the ClusterRoleBinding (briefing step 3)"
k delete clusterrolebinding kagent-bot-secrets >/dev/null
k -n agents create role kagent-bot-role --verb=get --resource=configmaps --resource-name=agent-prompts >/dev/null
k -n agents create rolebinding kagent-bot-role --role=kagent-bot-role \
	--serviceaccount=agents:kagent-bot >/dev/null
k -n agents delete rolebinding rag-agent-all >/dev/null
k -n payments delete rolebinding helpdesk-secrets >/dev/null
k -n agents create role rag-agent-role --verb=get,watch --resource=configmaps --resource-name=agent-prompts >/dev/null
k -n agents create rolebinding rag-agent-role --role=rag-agent-role \
	--serviceaccount=agents:rag-agent >/dev/null

say "agent traffic after remediation: the old secret read is now denied"
k --as=system:serviceaccount:agents:kagent-bot -n payments get secret payments-db >/dev/null 2>&1 || true
k --as=system:serviceaccount:agents:kagent-bot -n agents get configmap agent-prompts >/dev/null
sleep 1

say "collect --phase post"
"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case IR-2026-0032 --phase post \
	--purpose "proof of least-privilege remediation" --operator "demo responder" \
	--key "$out/responder.key" --audit-log "$KC_AUDIT_DIR" --since "$remediated" \
	-o "$out/" | tee "$out/post.path"
post=$(cat "$out/post.path")

say "verify both bundles against the responder's public key"
"$KC" verify "$pre" --pubkey "$out/responder.pub"
"$KC" verify "$post" --pubkey "$out/responder.pub"

say "diff pre -> post"
"$KC" diff "$pre" "$post" --pubkey "$out/responder.pub" --remediated-at "$remediated" | tee "$out/diff.txt"

"$KC" diff "$pre" "$post" --pubkey "$out/responder.pub" --remediated-at "$remediated" \
	--format json -o "$out/diff.json"
"$KC" diff "$pre" "$post" --pubkey "$out/responder.pub" --remediated-at "$remediated" \
	--seal "$out/" --key "$out/responder.key" -o /dev/null

say "recertification: the POST bundle against the approved scopes (briefing step 5)"
cat >"$out/scopes.yaml" <<'YAML'
# The approved scope of each agent, kept in version control (docs/RECERTIFY.md).
apiVersion: kcustody.dev/v1alpha1
kind: AgentScopes
agents:
- name: kagent
  owner: platform-team
  approval: CHG-2026-0032-1
  serviceAccount: agents/kagent-bot
  namespaces: [agents]
  configMaps: {names: [agent-prompts], verbs: [get]}
- name: rag
  owner: search-team
  approval: CHG-2026-0032-2
  serviceAccount: agents/rag-agent
  namespaces: [agents]
  configMaps: {names: [agent-prompts], verbs: [get]}
  maxVerbs: [get, list]
- name: support-assistant
  owner: support-team
  approval: CHG-2026-0032-3
  serviceAccount: agents/helpdesk-runner
  namespaces: [agents]
YAML
"$KC" recertify "$post" --scope "$out/scopes.yaml" --pubkey "$out/responder.pub" | tee "$out/recertify.txt" || [ "${PIPESTATUS[0]}" -eq 1 ]

say "the reviewer's signed decision, appended to the POST bundle's custody ledger"
"$KC" keygen -o "$out/auditor.key" --pub "$out/auditor.pub" >/dev/null
cat >"$out/trust.json" <<'JSON'
{"trusted_keys": [
 {"name": "demo responder", "public_key": "responder.pub", "roles": ["custodian"]},
 {"name": "demo auditor", "organisation": "ACME Internal Audit", "public_key": "auditor.pub", "roles": ["reviewer"]}]}
JSON
"$KC" recertify "$post" --scope "$out/scopes.yaml" --pubkey "$out/responder.pub" \
	--decision remediate --key "$out/auditor.key" --trust-keys "$out/trust.json" \
	--note "rag-agent still watches configmaps beyond its approval: remove watch" >/dev/null || [ $? -eq 1 ]
"$KC" custody show "$post" --trust-keys "$out/trust.json"

say "report (the diff, and the custody ledger with the decision)"
"$KC" report "$post" --diff "$pre" --pubkey "$out/responder.pub" --trust-keys "$out/trust.json" \
	-o "$out/report.html"

say "done: what the evidence shows"
jq -r '"  triage before: \(.pre.triage), after: \(.post.triage)",
	"  verdict: \(.summary.verdict): \(.summary.verdictReason)",
	"  permissions removed \(.summary.permissionsRemoved), added \(.summary.permissionsAdded), kept \(.summary.permissionsKept)",
	"  findings resolved \(.summary.findingsResolved), persisting \(.summary.findingsPersisting), new \(.summary.findingsNew)",
	(.agents[] | "  \(.namespace)/\(.name)\(if .agentResources then " (" + (.agentResources | map(.text) | join(", ")) + ")" else "" end): can read secrets \(if .secretsBefore then "yes" else "no" end) -> \(if .secretsAfter then "YES" else "no" end), cluster-wide reach \(if .clusterWideBefore then "yes" else "no" end) -> \(if .clusterWideAfter then "YES" else "no" end)"),
	"  agent pods older than the remediation (restart them): \(.summary.stalePods)",
	"  denied requests by agents after remediation (check for over-restriction): \(.summary.deniedRequests)",
	"  policy-bypass reads after remediation: \(.summary.policyBypassReads)"' "$out/diff.json"
echo
cat <<EOT
  pre bundle:   $pre
  post bundle:  $post
  diff:         $out/diff.txt, $out/diff.json, and sealed as $(ls "$out"/*_diff_*.tar.gz)
  report:       $out/report.html   (open it in a browser)
  recertified:  $out/recertify.txt against $out/scopes.yaml; the decision is in
                $post.custody.jsonl
  public key:   $out/responder.pub
  The cluster keeps running in $cluster; stop it with:
    bash tests/cluster/stop.sh --purge $cluster
EOT
