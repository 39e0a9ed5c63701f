#!/bin/bash
# kcustody diff on real PRE/POST bundles from the loopback API server, in
# the briefing's shape: an agent bound to a cluster-wide secret reader, one
# with wildcard verbs, pods running as them, agent traffic in the audit log.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-diff.XXXX")
trap 'rm -rf "$W"' EXIT
"$KC" keygen -o "$W/k.pem" --pub "$W/k.pub" >/dev/null 2>&1
"$KC" keygen -o "$W/other.pem" --pub "$W/other.pub" >/dev/null 2>&1

# scenario NS: agents kagent-bot (cluster-wide secret reader) and
# rag-agent (wildcard in its namespace), a pod each, some traffic.
scenario() {
	local ns=$1
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
kind: ClusterRole
metadata: {name: $ns-secret-reader}
rules:
- {apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: $ns-kagent-secrets}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $ns-secret-reader}
subjects: [{kind: ServiceAccount, name: kagent-bot, namespace: $ns}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: all, namespace: $ns}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rag-all, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: all}
subjects: [{kind: ServiceAccount, name: rag-agent, namespace: $ns}]
---
apiVersion: v1
kind: Secret
metadata: {name: db-password, namespace: $ns}
stringData: {password: hunter2}
---
apiVersion: v1
kind: Pod
metadata: {name: kagent-bot-0, namespace: $ns}
spec: {serviceAccountName: kagent-bot, containers: [{name: a, image: registry.invalid/a:1}]}
YAML
	kc_admin --as=system:serviceaccount:$ns:kagent-bot get secrets -A >/dev/null
}
collect() { # NS PHASE [extra...]
	local ns=$1 phase=$2
	shift 2
	"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case DIFF-1 --phase "$phase" --agents '' \
		--sa "$ns/kagent-bot" --sa "$ns/rag-agent" --key "$W/k.pem" --audit-log "$KC_AUDIT_DIR" \
		-o "$W/" -q "$@"
}
remediate_secrets() { # NS: the briefing's step 3 for kagent-bot
	kc_admin delete clusterrolebinding "$1-kagent-secrets" >/dev/null
	kc_admin -n "$1" create role kagent-bot-role --verb=get,list --resource=configmaps >/dev/null
	kc_admin -n "$1" create rolebinding kagent-bot-role --role=kagent-bot-role --serviceaccount="$1:kagent-bot" >/dev/null
}

ns=diff-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
scenario "$ns"
pre=$(collect "$ns" pre)
sleep 1.1
rem=$(date -u +%Y-%m-%dT%H:%M:%SZ)
remediate_secrets "$ns"
kc_admin -n "$ns" delete rolebinding rag-all >/dev/null
kc_admin --as=system:serviceaccount:$ns:kagent-bot -n default get secrets >/dev/null 2>&1
kc_admin --as=system:serviceaccount:$ns:kagent-bot -n kube-system get secrets >/dev/null 2>&1
sleep 1.1
post=$(collect "$ns" post --since "$rem")

t_begin "diff: the cluster-wide secret read is removed, the new Role's reads are added"
expect_exit 0 "$KC" diff "$pre" "$post" --pubkey "$W/k.pub" --remediated-at "$rem" --format json
cp "$T_OUT" "$W/d.json"
d=$W/d.json
# kcustody.diff/v2: every member lowerCamelCase but inside the quoted
# evidence (findings, an RBAC object's changes); the twin: the same check
# finds the snake_case members of the PRE bundle's MANIFEST.json
snake() {	# snake FILE: the snake_case member paths, findings/changes skipped
	python3 - "$1" <<'PY'
import json, sys
bad = []
def walk(o, path):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("findings", "changes"):
                continue
            if "_" in k:
                bad.append(path + "." + k)
            walk(v, path + "." + k)
    elif isinstance(o, list):
        for v in o:
            walk(v, path + "[]")
walk(json.load(open(sys.argv[1])), "")
print(" ".join(sorted(set(bad))))
PY
}
jq -e '.schema == "kcustody.diff/v2"' "$d" >/dev/null || t_fail "schema $(jq -c .schema "$d")"
[ -z "$(snake "$d")" ] || t_fail "snake_case members in the diff: $(snake "$d" | head -c 300)"
"$KC" inspect "$pre" --json >"$W/m.json"
[ -n "$(snake "$W/m.json")" ] || t_fail "the twin: no snake_case member found in MANIFEST.json"
jq -e --arg ns "$ns" '.agents[] | select(.namespace==$ns and .name=="kagent-bot") |
	.secretsBefore and (.secretsAfter|not) and .clusterWideBefore and (.clusterWideAfter|not) and
	any(.removed[]; .verb=="get" and .resource=="secrets" and .namespace=="*" and
	    .grants[0].binding.name==($ns+"-kagent-secrets")) and
	any(.added[]; .verb=="list" and .resource=="configmaps" and .namespace==$ns)' "$d" >/dev/null || t_fail "kagent-bot delta wrong"
jq -e --arg ns "$ns" '.agents[] | select(.namespace==$ns and .name=="rag-agent") |
	any(.removed[]; .verb=="*" and .resource=="*" and .namespace==$ns) and .counts.added==0 and
	(.clusterWideBefore|not)' "$d" >/dev/null || t_fail "rag-agent wildcard not removed"
jq -e --arg ns "$ns" '[.findings.resolved[] | select(.subject.namespace==$ns) | .id] | (index("AGR-003") != null and index("AGR-001") != null)' "$d" >/dev/null || t_fail "findings not resolved"
jq -e --arg ns "$ns" '[.findings.regressions[] | select(.finding.subject.namespace==$ns)] | length == 0' "$d" >/dev/null || t_fail "unexpected AGR-025"
jq -e --arg n "$ns-kagent-secrets" 'any(.rbacObjects.removed[]; .kind=="ClusterRoleBinding" and .name==$n)' "$d" >/dev/null || t_fail "removed binding not listed"
jq -e --arg ns "$ns" 'any(.rbacObjects.added[]; .kind=="RoleBinding" and .namespace==$ns and .name=="kagent-bot-role" and (.changedBy|length>0))' "$d" >/dev/null || t_fail "added binding or its manager not listed"
t_pass

t_begin "diff: agent pods older than the remediation are flagged"
jq -e --arg ns "$ns" 'any(.stalePods[]; .namespace==$ns and .name=="kagent-bot-0")' "$d" >/dev/null || t_fail "stale pod not flagged"
jq -e '.summary.verdict=="incomplete"' "$d" >/dev/null || t_fail "verdict $(jq -r .summary.verdict "$d")"
t_pass

t_begin "diff: denied requests after remediation are counted from the real audit log"
n=$(jq --arg u "system:serviceaccount:$ns:kagent-bot" '[.audit.denied[] | select(.user==$u and .resource=="secrets") | .count] | add // 0' "$d")
# the same count straight from the audit log with jq (final stage only)
want=$(cat "$KC_AUDIT_DIR"/audit*.log | jq -c --arg u "system:serviceaccount:$ns:kagent-bot" --arg since "$rem" \
	'select(.stage=="ResponseComplete" and .impersonatedUser.username==$u and .objectRef.resource=="secrets" and .responseStatus.code==403 and .requestReceivedTimestamp[:19] >= $since[:19])' | wc -l)
[ "$n" = 2 ] && [ "$want" = 2 ] || t_fail "denied secrets reads: diff says $n, audit log has $want, expected 2"
t_pass

t_begin "diff: text, md and sealed output; the sealed diff verifies and names PRE and POST"
expect_exit 0 "$KC" diff "$pre" "$post" --pubkey "$W/k.pub" --remediated-at "$rem"
expect_grep "verdict: incomplete" "$T_OUT"
expect_grep "^  - get secrets cluster-wide" "$T_OUT"
expect_exit 0 "$KC" diff "$pre" "$post" --pubkey "$W/k.pub" --format md -o "$T_DIR/d.md"
expect_grep '^\| PRE \|' "$T_DIR/d.md"
expect_exit 0 "$KC" diff "$pre" "$post" --pubkey "$W/k.pub" --format html -o "$T_DIR/d.html"
xmllint --html --noout "$T_DIR/d.html" 2>"$T_DIR/xmllint.err" || t_fail "diff html does not parse"
expect_grep 'kagent-bot' "$T_DIR/d.html"
# yaml: the JSON document, type for type (PyYAML, a YAML 1.1 loader)
expect_exit 0 "$KC" diff "$pre" "$post" --pubkey "$W/k.pub" --remediated-at "$rem" --format yaml -o "$T_DIR/d.yaml"
expect_exit 0 "$KC" diff "$pre" "$post" --pubkey "$W/k.pub" --remediated-at "$rem" --format json -o "$T_DIR/d.json"
python3 -c 'import json,sys,yaml; sys.exit(0 if yaml.safe_load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else 1)' \
	"$T_DIR/d.yaml" "$T_DIR/d.json" || t_fail "diff --format yaml does not load as --format json"
sed 's/^verified: true$/verified: "true"/' "$T_DIR/d.yaml" >"$T_DIR/d2.yaml"
python3 -c 'import json,sys,yaml; sys.exit(0 if yaml.safe_load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else 1)' \
	"$T_DIR/d2.yaml" "$T_DIR/d.json" && t_fail "the twin: a quoted boolean compared equal"
mkdir "$T_DIR/sealed"
expect_exit 0 "$KC" diff "$pre" "$post" --pubkey "$W/k.pub" --seal "$T_DIR/sealed" --key "$W/k.pem" -o /dev/null
# written to, never renamed over (as root that replaced the device node)
[ -c /dev/null ] || t_fail "/dev/null is no longer a character device"
mkfifo "$T_DIR/fifo" && { cat "$T_DIR/fifo" >"$T_DIR/fifo.out" & }
expect_exit 0 "$KC" diff "$pre" "$post" --pubkey "$W/k.pub" --format json -o "$T_DIR/fifo"
wait
[ -p "$T_DIR/fifo" ] || t_fail "the FIFO was replaced"
jq -e .summary "$T_DIR/fifo.out" >/dev/null || t_fail "nothing came through the FIFO"
s=$(ls "$T_DIR"/sealed/*.tar.gz)
expect_exit 0 "$KC" verify "$s" --pubkey "$W/k.pub"
tar xzOf "$s" --wildcards '*/MANIFEST.json' | jq -e --arg a "$(sha256sum "$pre" | cut -d' ' -f1)" --arg b "$(sha256sum "$post" | cut -d' ' -f1)" \
	'.compares.pre_sha256==$a and .compares.post_sha256==$b' >/dev/null || t_fail "sealed diff does not name PRE and POST by SHA-256"
t_pass

t_begin "diff: incomplete remediation leaves a persisting finding and AGR-025"
ns2=diff-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
scenario "$ns2"
pre2=$(collect "$ns2" pre)
sleep 1.1
# only the wildcard is fixed; the cluster-wide secret reader stays
kc_admin -n "$ns2" delete rolebinding rag-all >/dev/null
post2=$(collect "$ns2" post)
expect_exit 0 "$KC" diff "$pre2" "$post2" --pubkey "$W/k.pub" --format json
jq -e --arg ns "$ns2" 'any(.findings.persisting[]; .id=="AGR-003" and .subject.namespace==$ns and .subject.name=="kagent-bot")' "$T_OUT" >/dev/null || t_fail "AGR-003 not persisting"
jq -e --arg ns "$ns2" 'any(.findings.regressions[]; .id=="AGR-025" and .kept and .finding.subject.namespace==$ns)' "$T_OUT" >/dev/null || t_fail "no AGR-025"
jq -e '.summary.verdict=="incomplete"' "$T_OUT" >/dev/null || t_fail "verdict"
jq -e --arg ns "$ns2" '.agents[] | select(.namespace==$ns and .name=="kagent-bot") | .secretsAfter' "$T_OUT" >/dev/null || t_fail "secretsAfter should stay true"
t_pass

t_begin "diff: the breach assessment stays URGENT and names the secrets read and reachable"
d=$W/d.json
jq -e '.breachAssessment.verdict == "URGENT" and .summary.breachAssessment == "URGENT"' "$d" >/dev/null || t_fail "breach assessment $(jq -c .breachAssessment.verdict "$d")"
jq -e --arg ns "$ns" '.breachAssessment.agents[] | select(.namespace==$ns and .name=="kagent-bot") |
	.couldReadSecrets and (.secretsRead | index("*") != null) and (.secretsReachable | index($ns + "/db-password") != null)' "$d" >/dev/null ||
	t_fail "kagent-bot breach entry: $(jq -c --arg ns "$ns" '.breachAssessment.agents[] | select(.namespace==$ns)' "$d" | head -c 400)"
expect_exit 0 "$KC" diff "$pre" "$post" --pubkey "$W/k.pub" --remediated-at "$rem"
expect_grep "^breach assessment: URGENT" "$T_OUT"
expect_grep "kagent-bot read \(audit\): \*" "$T_OUT"
expect_exit 0 "$KC" report "$post" --diff "$pre" --pubkey "$W/k.pub" --remediated-at "$rem" -o "$T_DIR/r.html"
expect_grep 'id="breach"><span class="big">URGENT' "$T_DIR/r.html"
t_pass

t_begin "diff: namespace-scoped false positives no longer make a PRE bundle urgent (issue 18)"
ns3=diff-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
# every verb, every group, on cluster-scoped resources and configmaps,
# through a Role in the agent's namespace: it leaves out secrets
kc_admin apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $ns3}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: ops-agent, namespace: $ns3}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ops, namespace: $ns3}
# (not clusterroles: bind on them is checked in the namespace, a true AGR-006)
rules: [{apiGroups: ["*"], verbs: ["*"], resources: [nodes, nodes/proxy, nodes/status, persistentvolumes,
  clusterrolebindings, certificatesigningrequests/approval, customresourcedefinitions,
  apiservices, validatingwebhookconfigurations, users, groups, configmaps]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ops, namespace: $ns3}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ops}
subjects: [{kind: ServiceAccount, name: ops-agent, namespace: $ns3}]
YAML
pre3=$("$KC" collect --kubeconfig "$KC_KUBECONFIG" --case DIFF-3 --phase pre --agents '' --sa "$ns3/ops-agent" \
	--key "$W/k.pem" -o "$W/" -q)
mkdir -p "$T_DIR/x" && tar xzf "$pre3" -C "$T_DIR/x"
F3=$(ls "$T_DIR"/x/*/analysis/findings.json)
jq -e '.triage == "ROUTINE" and .counts.critical == 0 and .counts.high == 0' "$F3" >/dev/null || t_fail "PRE findings: $(jq -c '{triage, counts, ids: [.findings[].id]}' "$F3")"
jq -e '[.findings[].id] | map(select(IN("AGR-011","AGR-013","AGR-014","AGR-015","AGR-016","AGR-017","AGR-021","AGR-007","AGR-008"))) | length == 0' "$F3" >/dev/null || t_fail "cluster-scoped rules fired"
expect_exit 0 "$KC" report "$pre3" --pubkey "$W/k.pub" -o "$T_DIR/pre3.html"
expect_no_grep '<span class="big">URGENT</span>' "$T_DIR/pre3.html"
sleep 1.1
kc_admin -n "$ns3" delete rolebinding ops >/dev/null
post3=$("$KC" collect --kubeconfig "$KC_KUBECONFIG" --case DIFF-3 --phase post --agents '' --sa "$ns3/ops-agent" \
	--key "$W/k.pem" -o "$W/" -q)
expect_exit 0 "$KC" diff "$pre3" "$post3" --pubkey "$W/k.pub" --format json
jq -e '.breachAssessment.verdict == "ROUTINE" and .summary.verdict == "remediated"' "$T_OUT" >/dev/null || t_fail "diff: $(jq -c '{b: .breachAssessment.verdict, v: .summary.verdict}' "$T_OUT")"
jq -e '.agents[0] | (.clusterWideBefore | not) and (.secretsBefore | not) and
	any(.removed[]; .resource == "nodes" and .effective == false) and
	any(.removed[]; .resource == "configmaps" and .effective == null)' "$T_OUT" >/dev/null || t_fail "ops-agent delta: $(jq -c '.agents[0] | {clusterWideBefore, secretsBefore}' "$T_OUT")"
expect_exit 0 "$KC" who-can "$pre3" patch nodes --json
jq -e --arg w "$ns3/ops-agent" '.serviceAccounts | index($w) == null' "$T_OUT" >/dev/null || t_fail "who-can patch nodes lists ops-agent"
kc_purge_ns "$ns3"
t_pass

t_begin "diff: PRE newer than POST is refused (exit 2)"
expect_exit 2 "$KC" diff "$post" "$pre" --pubkey "$W/k.pub"
expect_grep "not older than POST" "$T_ERR"
t_pass

t_begin "diff: a tampered bundle is refused (exit 3); --no-verify says so"
cp "$post" "$T_DIR/t.tar.gz"
printf '\x00' | dd of="$T_DIR/t.tar.gz" bs=1 seek=2000 conv=notrunc 2>/dev/null
expect_exit 3 "$KC" diff "$pre" "$T_DIR/t.tar.gz" --pubkey "$W/k.pub"
expect_grep "not a valid bundle" "$T_ERR"
expect_exit 3 "$KC" diff "$pre" "$post" --pubkey "$W/other.pub"
expect_exit 0 "$KC" diff "$pre" "$post" --no-verify
expect_grep "NOT verified" "$T_OUT"
t_pass

t_begin "diff: bundles of two different clusters are refused (exit 2)"
other=${KCUSTODY_CLUSTER_DIR:-/tmp/kcustody-cluster}-diff2
bash "$KC_REPO/tests/cluster/start.sh" "$other" >/dev/null
okc=$other/kubeconfigs/certs.yaml
"$KC" collect --kubeconfig "$okc" --case DIFF-1 --phase post --agents '' --key "$W/k.pem" -o "$T_DIR/" -q >"$T_DIR/p" 2>/dev/null
bash "$KC_REPO/tests/cluster/stop.sh" --purge "$other" >/dev/null
expect_exit 2 "$KC" diff "$pre" "$(cat "$T_DIR/p")" --pubkey "$W/k.pub"
expect_grep "different clusters" "$T_ERR"
t_pass

t_begin "diff and report --diff read each bundle once: verified and compared in the same pass"
# whole passes over FILE in a KCUSTODY_DEBUG log (manifest/tarball.c's
# close line): the whole file read ("from N of N") and inflated to its
# end; the audit-chain check's early stop (the rest hashed raw) is not one
whole() {	# whole LOG FILE
	local n size
	size=$(stat -c %s "$2")
	n=$(gzip -dc "$2" | wc -c)
	grep -c "tar: pass over '$2': $n bytes inflated from $size of $size\$" "$1"
}
KCUSTODY_DEBUG=1 expect_exit 0 "$KC" diff "$pre" "$post" --pubkey "$W/k.pub" --remediated-at "$rem" --format json
for f in "$pre" "$post"; do
	[ "$(whole "$T_ERR" "$f")" = 1 ] || t_fail "diff: $(whole "$T_ERR" "$f") whole passes over $(basename "$f"), not 1"
done
jq 'del(.verified, .pre.verification, .pre.signer, .post.verification, .post.signer)' "$T_OUT" >"$T_DIR/one-pass.json"
KCUSTODY_DEBUG=1 expect_exit 0 "$KC" report "$post" --diff "$pre" --pubkey "$W/k.pub" --remediated-at "$rem" \
	--no-ledger -o "$T_DIR/r.html"
for f in "$pre" "$post"; do
	[ "$(whole "$T_ERR" "$f")" = 1 ] || t_fail "report --diff: $(whole "$T_ERR" "$f") whole passes over $(basename "$f"), not 1"
done
grep -q 'kagent-bot' "$T_DIR/r.html" || t_fail "the report shows no remediation of kagent-bot"
# the twin: with the wrong key nothing verifies, and report takes its steps
# one by one (verify, then the page), so the count sees the second pass
KCUSTODY_DEBUG=1 expect_exit 3 "$KC" report "$post" --diff "$pre" --pubkey "$W/other.pub" --no-ledger -o "$T_DIR/bad.html"
[ "$(whole "$T_ERR" "$pre")" = 2 ] || t_fail "the twin: $(whole "$T_ERR" "$pre") whole passes over PRE with the wrong key, not 2"
# the comparison side by side (PRE on a thread of its own, POST's pod
# filter and managedFields waiting on it) gives what reading one bundle
# after the other gives: --no-verify reads them so
expect_exit 0 "$KC" diff "$pre" "$post" --no-verify --remediated-at "$rem" --format json
jq 'del(.verified, .pre.verification, .pre.signer, .post.verification, .post.signer)' "$T_OUT" >"$T_DIR/serial.json"
cmp -s "$T_DIR/one-pass.json" "$T_DIR/serial.json" || t_fail "side by side and one after the other differ: $(diff "$T_DIR/one-pass.json" "$T_DIR/serial.json" | head -c 400)"
jq -e '.rbacObjects.added | length > 0 and all(.[]; .changedBy | length > 0)' "$T_DIR/serial.json" >/dev/null || t_fail "no added RBAC object with its manager to compare"
t_pass

t_summary
