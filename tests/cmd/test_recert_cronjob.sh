#!/bin/bash
# The quarterly recertification CronJob (deploy/recertification-cronjob.yaml,
# issue 15 item 6). The test server runs no pods, so:
#  - the manifest is applied with --dry-run=server (the server validates and
#    admits it; a broken twin is refused);
#  - the container's exact command (its `sh -c` script, read from the
#    manifest) runs on the host with the manifest's env, the mount paths
#    pointed at this test's folders, and in-cluster configuration made of a
#    token of the kcustody-collector service account (the Secret its token
#    controller made), mounted at the in-cluster path in a private mount
#    namespace; it archives into the test S3 server (Ceph RGW, Object Lock).
# Checked: the Job's exit status is recertify's (1 for an excess), the bundle
# is collected as kcustody-collector, judged, and archived whatever the
# verdict; a bad scope file still archives the evidence (exit 2). Uses a
# private cluster ($KCUSTODY_CLUSTER_DIR-cron, purged at the end).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
S3DIR=${KCUSTODY_S3_DIR:-/tmp/kcustody-s3}
MANIFEST=$KC_REPO/deploy/recertification-cronjob.yaml

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	echo "needs root and mount namespaces (unshare -m) for the in-cluster token path"
	echo "0 passed, 1 failed"; exit 1
fi
# A private cluster: the Job judges every agent of the cluster, and the
# shared one holds other tests' agents.
export KCUSTODY_CLUSTER_DIR=${KCUSTODY_CLUSTER_DIR:-/tmp/kcustody-cluster}-cron
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }
if ! bash "$KC_REPO/tests/s3/install.sh" >/dev/null 2>&1; then
	echo "cannot install Ceph RGW (tests/s3/install.sh)"; echo "0 passed, 1 failed"; exit 1
fi
s3_started=0
[ -f "$S3DIR/run/client.rgw.a.pid" ] && kill -0 "$(cat "$S3DIR/run/client.rgw.a.pid")" 2>/dev/null || s3_started=1
if ! bash "$KC_REPO/tests/s3/start.sh" "$S3DIR" >/dev/null 2>"$S3DIR.start.log"; then
	echo "cannot start Ceph RGW: $(tail -n 3 "$S3DIR.start.log")"; echo "0 passed, 1 failed"; exit 1
fi
. "$S3DIR/env.sh"

ns=recert-cron
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-cron.XXXX")
cleanup() {
	bash "$KC_REPO/tests/cluster/stop.sh" --purge "$KCUSTODY_CLUSTER_DIR" >/dev/null 2>&1
	rm -rf "$W"
	[ "$s3_started" = 1 ] && bash "$KC_REPO/tests/s3/stop.sh" "$S3DIR" >/dev/null 2>&1
}
trap cleanup EXIT

# the S3 bucket, with Object Lock, as the store the Job writes to
E0=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
(umask 077; printf 'user = "%s:%s"\n' "$KC_S3_ACCESS_KEY" "$(cat "$KC_S3_SECRET_FILE")" >"$W/curl.conf")
BUCKET=kc-cron-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
code=$(curl -s -o /dev/null -w '%{http_code}' -K "$W/curl.conf" --aws-sigv4 "aws:amz:$KC_S3_REGION:s3" \
	-X PUT -H "x-amz-content-sha256: $E0" -H 'x-amz-bucket-object-lock-enabled: true' "$KC_S3_ENDPOINT/$BUCKET")
[ "$code" = 200 ] || { echo "cannot create bucket ($code)"; echo "0 passed, 1 failed"; exit 1; }

# py EXPR: evaluate against the manifest's documents (PyYAML), print the result
py() {
	python3 - "$MANIFEST" "$1" <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cron = next(d for d in docs if d["kind"] == "CronJob")
c = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
print(eval(sys.argv[2]))
EOF
}

t_begin "cronjob: the manifest is admitted by the server (--dry-run=server), a broken twin is not"
expect_exit 0 kc_admin apply -f "$KC_REPO/deploy/collector-rbac.yaml" -f "$KC_REPO/deploy/collector-reviews-rbac.yaml"
# kube-apiserver 1.20 serves CronJob at batch/v1beta1 only (batch/v1 is GA
# in 1.21); the object's fields are the same at both versions
sed 's|^apiVersion: batch/v1$|apiVersion: batch/v1beta1|' "$MANIFEST" >"$W/cron.yaml"
grep -q '^apiVersion: batch/v1beta1$' "$W/cron.yaml" || t_fail "no CronJob at batch/v1 in the manifest"
expect_exit 0 kc_admin apply --dry-run=server -f "$W/cron.yaml"
expect_grep 'cronjob.batch/kcustody-recertification created \(server dry run\)' "$T_OUT"
expect_grep 'configmap/kcustody-scope created \(server dry run\)' "$T_OUT"
kc_admin -n kcustody get cronjob kcustody-recertification >/dev/null 2>&1 && t_fail "a dry run created the CronJob"
# the twin: a value the server refuses
sed 's|concurrencyPolicy: Forbid|concurrencyPolicy: Sometimes|' "$W/cron.yaml" >"$W/bad.yaml"
expect_exit 1 kc_admin apply --dry-run=server -f "$W/bad.yaml"
expect_grep 'concurrencyPolicy' "$T_ERR"
# the scope in the ConfigMap is a scope file recertify accepts (a bundle is
# needed to judge: any; the point is exit 0 or 1, never 2)
python3 -c 'import sys, yaml; print(next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "ConfigMap")["data"]["scope.yaml"], end="")' \
	"$MANIFEST" >"$W/example-scope.yaml"
"$KC" keygen -o "$W/t.pem" >/dev/null 2>&1
"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case T --phase baseline --agents '' --no-reviews \
	--key "$W/t.pem" -o "$W/t.tar.gz" -q >/dev/null 2>&1
rc=0; "$KC" recertify "$W/t.tar.gz" --scope "$W/example-scope.yaml" --pubkey "$W/t.pub.pem" >/dev/null 2>"$T_DIR/scope.err" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || t_fail "the manifest's example scope is refused (exit $rc): $(head -n 2 "$T_DIR/scope.err")"
t_pass

# The estate: two agents, one within its scope, one that reads secrets.
kc_admin apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent-ok, namespace: $ns}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent-wide, namespace: $ns}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: $ns}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: $ns}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ok-pods, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{kind: ServiceAccount, name: agent-ok, namespace: $ns}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: wide-pods, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{kind: ServiceAccount, name: agent-wide, namespace: $ns}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: wide-secrets, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects: [{kind: ServiceAccount, name: agent-wide, namespace: $ns}]
EOF
# both approved for pod reads only: agent-wide's secret reads are the excess
scope() { # FILE [EXTRA-RESOURCE-LINE]
	cat >"$1" <<EOF
apiVersion: kcustody.dev/v1alpha1
kind: AgentScopes
agents:
- name: ok
  owner: platform-team
  approval: CHG-1
  serviceAccount: $ns/agent-ok
  namespaces: [$ns]
  resources:
  - {apiGroup: "", resource: pods, verbs: [get, list]}
- name: wide
  owner: platform-team
  approval: CHG-2
  serviceAccount: $ns/agent-wide
  namespaces: [$ns]
  resources:
  - {apiGroup: "", resource: pods, verbs: [get, list]}${2:-}
EOF
}

# In-cluster configuration: the token Secret the token controller made for
# kcustody-collector, its CA and namespace, at the in-cluster path.
mkdir -p "$W/sa" "$W/bin" "$W/keys" "$W/scope" "$W/evidence"
for ((i = 0; i < 100; i++)); do
	sec=$(kc_admin -n kcustody get sa kcustody-collector -o jsonpath='{.secrets[0].name}' 2>/dev/null)
	[ -n "$sec" ] && break
	sleep 0.2
done
kc_admin -n kcustody get secret "$sec" -o jsonpath='{.data.token}' | base64 -d >"$W/sa/token"
kc_admin -n kcustody get secret "$sec" -o jsonpath='{.data.ca\.crt}' | base64 -d >"$W/sa/ca.crt"
printf kcustody >"$W/sa/namespace"
ln -s "$KC" "$W/bin/kcustody"
"$KC" keygen -o "$W/keys/signing.pem" >/dev/null 2>&1
SCRIPT=$(py 'c["args"][0]')
[ "$(py 'c["command"]')" = "['/bin/sh', '-c']" ] || t_fail "the container's command is not /bin/sh -c"

# run_job SCOPE-FILE: the container's exact script, in a private mount
# namespace whose /run holds the service account token; its env is the
# manifest's, paths pointed here, S3 settings the test server's. Output in
# $W/job.out / job.err, exit status returned.
run_job() {
	cp "$1" "$W/scope/scope.yaml"
	local envs=()
	while IFS= read -r kv; do envs+=("$kv"); done < <(py '"\n".join(e["name"] + "=" + e["value"] for e in c["env"] if "value" in e)')
	envs+=(KCUSTODY_KEY="$W/keys/signing.pem" KCUSTODY_PUBKEY="$W/keys/signing.pub.pem"
		KCUSTODY_SCOPE="$W/scope/scope.yaml" KCUSTODY_EVIDENCE="$W/evidence"
		KCUSTODY_STORE="s3://$BUCKET/recertification" KCUSTODY_RETAIN=1d
		AWS_ENDPOINT_URL="$KC_S3_ENDPOINT" AWS_REGION="$KC_S3_REGION"
		AWS_ACCESS_KEY_ID="$KC_S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$(cat "$KC_S3_SECRET_FILE")"
		KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$KC_APISERVER_PORT"
		PATH="$W/bin:/usr/bin:/bin" HOME="$W")
	unshare -m --propagation private /bin/sh -c '
		mount -t tmpfs tmpfs /run &&
		mkdir -p /run/secrets/kubernetes.io/serviceaccount &&
		cp "$1"/token "$1"/ca.crt "$1"/namespace /run/secrets/kubernetes.io/serviceaccount/ &&
		shift && exec env -i "$@"' sh "$W/sa" "${envs[@]}" /bin/sh -c "$SCRIPT" \
		>"$W/job.out" 2>"$W/job.err"
}
SET="--store s3://$BUCKET/recertification --endpoint $KC_S3_ENDPOINT --region $KC_S3_REGION --access-key $KC_S3_ACCESS_KEY --secret-key-file $KC_S3_SECRET_FILE"

t_begin "cronjob: its command collects in-cluster, judges, archives; exit 1 for an excess"
scope "$W/s1.yaml"
rc=0; run_job "$W/s1.yaml" || rc=$?
[ "$rc" = 1 ] || t_fail "the Job exited $rc, want 1 (an excess): $(tail -n 3 "$W/job.err")"
b=$(ls "$W"/evidence/recertification_baseline_*.tar.gz 2>/dev/null | head -n 1)
[ -n "$b" ] || t_fail "no bundle in the evidence folder"
if [ -n "$b" ]; then
	expect_exit 0 "$KC" verify "$b" --pubkey "$W/keys/signing.pub.pem"
	# collected as the Job's identity, with in-cluster configuration
	tar -xzf "$b" -C "$T_DIR" --wildcards '*/MANIFEST.json'
	m=$(ls "$T_DIR"/*/MANIFEST.json)
	# the server saw the run as kcustody-collector (its audit log, by the
	# run's audit ids), and the bundle records in-cluster configuration
	run=$(jq -r '.collector.run_id' "$m")
	users=$(cat "$KC_AUDIT_DIR"/audit*.log | jq -r --arg r "$run-" 'select(.auditID | startswith($r)) | .user.username' | sort -u)
	[ "$users" = "system:serviceaccount:kcustody:kcustody-collector" ] || t_fail "the run's requests were made as: $users"
	jq -e '.cluster.context == "in-cluster" and .collector_identity.kubeconfig == "in-cluster" and .cluster.tls_verified' "$m" >/dev/null ||
		t_fail "not in-cluster configuration: $(jq -c '.collector_identity' "$m")"
	# judged: the result beside the bundle names the excess and its grant
	jq -e --arg ns "$ns" '[.agents[] | select(.namespace == $ns and .name == "agent-wide")][0].status == "beyond-scope"' "$b.recertify.json" >/dev/null ||
		t_fail "agent-wide not beyond scope: $(jq -c '[.agents[] | {namespace, name, status}]' "$b.recertify.json")"
	jq -e --arg ns "$ns" '[.agents[] | select(.namespace == $ns and .name == "agent-ok")][0].status == "within-scope"' "$b.recertify.json" >/dev/null ||
		t_fail "agent-ok not within scope"
	grep -q 'wide-secrets' "$b.recertify.json" || t_fail "the excess's binding is not named"
	expect_grep 'archived; recertify exit 1, collect exit 0' "$W/job.out"
	# archived in the Object Lock store: listed, and it verifies there
	sha=$(sha256sum "$b" | cut -d' ' -f1)
	expect_exit 0 "$KC" archive list $SET --json
	jq -e --arg s "$sha" '[.[] | select(.id == $s)] | length == 1' "$T_OUT" >/dev/null ||
		t_fail "bundle $sha not in the store: $(head -c 300 "$T_OUT")"
	expect_exit 0 "$KC" archive verify "${sha:0:16}" $SET
fi
# no key or token in the Job's output
expect_no_grep "$(cat "$W/sa/token")" "$W/job.out"
expect_no_grep "$(cat "$W/sa/token")" "$W/job.err"
expect_no_grep "$(cat "$KC_S3_SECRET_FILE")" "$W/job.err"
t_pass

t_begin "cronjob: within scope, the Job exits 0 (the twin)"
# remediation: agent-wide's secret reads removed; the same scope, run again
kc_admin -n "$ns" delete rolebinding wide-secrets >/dev/null
rm -f "$W"/evidence/*
rc=0; run_job "$W/s1.yaml" || rc=$?
[ "$rc" = 0 ] || t_fail "the Job exited $rc within scope: $(tail -n 3 "$W/job.err")"
b2=$(ls "$W"/evidence/recertification_baseline_*.tar.gz 2>/dev/null | head -n 1)
[ -n "$b2" ] && jq -e '[.agents[] | .status] | all(. == "within-scope")' "$b2.recertify.json" >/dev/null ||
	t_fail "not every agent within scope"
expect_grep 'archived; recertify exit 0, collect exit 0' "$W/job.out"
t_pass

t_begin "cronjob: a bad scope file still archives the evidence (exit 2)"
printf 'apiVersion: kcustody.dev/v1alpha1\nkind: AgentScopes\nagents:\n- name: x\n  colour: blue\n' >"$W/bad-scope.yaml"
rm -f "$W"/evidence/*
rc=0; run_job "$W/bad-scope.yaml" || rc=$?
[ "$rc" = 2 ] || t_fail "the Job exited $rc for a bad scope file, want 2"
expect_grep 'colour' "$W/job.err"
b3=$(ls "$W"/evidence/recertification_baseline_*.tar.gz 2>/dev/null | head -n 1)
[ -n "$b3" ] || t_fail "no bundle collected"
expect_exit 0 "$KC" archive list $SET --json
[ -n "$b3" ] && { jq -e --arg s "$(sha256sum "$b3" | cut -d' ' -f1)" '[.[] | select(.id == $s)] | length == 1' "$T_OUT" >/dev/null ||
	t_fail "the evidence was not archived after a bad scope file"; }
t_pass

t_summary
