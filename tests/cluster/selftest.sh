#!/bin/bash
# Checks the test cluster itself with kubectl, the reference client: every
# kubeconfig variant, the restricted identities, KUBECONFIG merging, the
# exec plugin, the audit log. Uses (and leaves running) the shared cluster.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

kc_cluster_up
K=$KC_KUBECONFIG_DIR

for v in certs.yaml inline.yaml token.yaml tokenfile.yaml exec.yaml \
	exec-v1.yaml restricted.yaml restricted-token.yaml json.json insecure.yaml; do
	t_begin "kubeconfig $v lists namespaces"
	expect_exit 0 kubectl --kubeconfig "$K/$v" get ns kube-system -o name
	expect_grep '^namespace/kube-system$' "$T_OUT"
	t_pass
done

for v in wrong-ca bad-token missing-key malformed unreachable; do
	t_begin "kubeconfig $v.yaml is refused"
	expect_exit 1 timeout 30 kubectl --kubeconfig "$K/$v.yaml" get ns
	t_pass
done

t_begin "restricted identities are Forbidden on secrets"
for v in restricted.yaml restricted-token.yaml; do
	expect_exit 1 kubectl --kubeconfig "$K/$v" get secrets -A
	expect_grep 'Forbidden' "$T_ERR"
done
expect_exit 1 kubectl --kubeconfig "$K/certs.yaml" --context restricted get configmaps -n default
expect_grep 'restricted-user.*forbidden|forbidden.*restricted-user' "$T_ERR"
t_pass

t_begin "KUBECONFIG merge: first file wins"
expect_exit 0 env KUBECONFIG="$K/multi-a.yaml:$K/multi-b.yaml" kubectl config current-context
expect_grep '^ctx-a$' "$T_OUT"
expect_exit 0 env KUBECONFIG="$K/multi-a.yaml:$K/multi-b.yaml" kubectl --context ctx-b get ns default
expect_exit 1 env KUBECONFIG="$K/multi-b.yaml:$K/multi-a.yaml" timeout 30 kubectl --context ctx-b get ns default
t_pass

t_begin "exec plugin is run once per kubectl invocation"
before=$(wc -l <"$KC_EXEC_LOG" 2>/dev/null || echo 0)
expect_exit 0 kubectl --kubeconfig "$K/exec-v1.yaml" get ns default
after=$(wc -l <"$KC_EXEC_LOG")
[ "$after" = $((before + 1)) ] || t_fail "exec-calls.log grew by $((after - before)), not 1"
expect_grep 'api=client.authentication.k8s.io/v1 ' "$KC_EXEC_LOG"
expect_no_grep "$(cat "$KC_TOKEN_DIR/admin.token")" "$KC_EXEC_LOG"
t_pass

t_begin "can-i --list answers from the RBAC authorizer"
expect_exit 0 kc_admin auth can-i --list --as=system:serviceaccount:default:default -n default
expect_grep '^selfsubjectrulesreviews\.authorization\.k8s\.io' "$T_OUT"
t_pass

t_begin "audit log records requests, RBAC at Request level"
n="kcustody-selftest-$$" # not found is fine: the request is still audited
expect_exit 1 kc_admin get clusterrolebinding "$n"
expect_exit 1 kc_admin get namespace "$n"
sleep 1 # the log backend writes synchronously; this is slack
cat "$KC_AUDIT_DIR"/audit*.log >"$T_DIR/audit"
expect_grep "\"level\":\"Request\".*\"resource\":\"clusterrolebindings\",\"name\":\"$n\"" "$T_DIR/audit"
# (for a namespace, objectRef.namespace is the namespace's own name)
expect_grep "\"level\":\"Metadata\".*\"resource\":\"namespaces\".*\"name\":\"$n\"" "$T_DIR/audit"
t_pass

t_begin "the controller manager acts: aggregation, default accounts, token secrets, namespace deletion"
[ -f "$KCUSTODY_CLUSTER_DIR/controller-manager.pid" ] || t_fail "no controller manager recorded"
# admin/edit/view are filled by aggregation (their own objects have an aggregationRule only)
kc_admin get clusterrole view -o json >"$T_DIR/view.json"
jq -e '.aggregationRule != null and (.rules | length) > 5' "$T_DIR/view.json" >/dev/null || t_fail "view has no aggregated rules"
n="kcustody-selftest-cm-$$"
expect_exit 0 kc_admin create namespace "$n"
for ((i = 0; i < 100; i++)); do
	kc_admin -n "$n" get secrets -o json 2>/dev/null |
		jq -e '[.items[] | select(.type == "kubernetes.io/service-account-token" and
			.metadata.annotations["kubernetes.io/service-account.name"] == "default")] | length == 1' >/dev/null && break
	sleep 0.2
done
kc_admin -n "$n" get serviceaccount default >/dev/null 2>&1 || t_fail "no default service account in a new namespace"
((i < 100)) || t_fail "no token Secret for $n/default"
kc_admin -n "$n" get configmap kube-root-ca.crt >/dev/null 2>&1 || t_fail "no kube-root-ca.crt ConfigMap"
expect_exit 0 kc_admin delete namespace "$n" --timeout=60s
# the twin: it is really gone, not left Terminating
expect_exit 1 kc_admin get namespace "$n"
t_pass

t_begin "start.sh is a no-op on a healthy cluster"
pid=$(cat "$KCUSTODY_CLUSTER_DIR/apiserver.pid") cm=$(cat "$KCUSTODY_CLUSTER_DIR/controller-manager.pid")
expect_exit 0 "$KC_REPO/tests/cluster/start.sh" "$KCUSTODY_CLUSTER_DIR"
expect_grep "^export KC_SERVER=$KC_SERVER\$" "$T_OUT"
[ "$(cat "$KCUSTODY_CLUSTER_DIR/apiserver.pid")" = "$pid" ] || t_fail "apiserver was restarted"
[ "$(cat "$KCUSTODY_CLUSTER_DIR/controller-manager.pid")" = "$cm" ] || t_fail "controller manager was restarted"
t_pass


# --- resuming a stopped cluster (start.sh; tests/cluster/README.md). A
# PRIVATE cluster without a controller manager (quicker), purged at the end.
R=${KCUSTODY_CLUSTER_DIR:-/tmp/kcustody-cluster}-resume
r_start() { KCUSTODY_RESUME=1 KCUSTODY_CONTROLLERS=none "$KC_REPO/tests/cluster/start.sh" "$R" "$@"; }
r_kill() { # kill -9 etcd and the server, as a reboot leaves them
	local p
	for p in apiserver etcd; do kill -9 "$(cat "$R/$p.pid")" 2>/dev/null || true; done
	sleep 0.2
}
r_kc() { kubectl --kubeconfig "$R/kubeconfigs/certs.yaml" "$@"; }
holder=
r_cleanup() {
	[ -z "$holder" ] || kill "$holder" 2>/dev/null || true
	"$KC_REPO/tests/cluster/stop.sh" --purge "$R" >/dev/null 2>&1 || true
}
trap r_cleanup EXIT
"$KC_REPO/tests/cluster/stop.sh" --purge "$R" >/dev/null 2>&1 || true

t_begin "start.sh resumes a killed cluster on its kept data, completing an older folder's PKI"
mark=$(openssl rand -hex 8)
expect_exit 0 r_start
r_kc -n default create configmap resume-mark --from-literal=v="$mark" >/dev/null || t_fail "cannot create the mark"
ca=$(sha256sum <"$R/pki/ca.crt") port=$(cat "$R/apiserver.port")
r_kill
# an older folder: no kubelet PKI, no kubelet=1, no ports file
rm -f "$R"/pki/kubelet-* "$R/ports"
sed -i 's/ kubelet=1$//' "$R/config"
expect_exit 0 r_start
expect_grep 'resuming the stopped one' "$T_ERR"
expect_grep 'missing PKI pieces: kubelet$' "$T_ERR"
expect_no_grep 'afresh' "$T_ERR"
[ "$(r_kc -n default get configmap resume-mark -o jsonpath='{.data.v}' 2>&1)" = "$mark" ] ||
	t_fail "the object made before the kill is gone"
[ "$(sha256sum <"$R/pki/ca.crt")" = "$ca" ] || t_fail "the CA changed"
[ "$(cat "$R/apiserver.port")" = "$port" ] || t_fail "apiserver port $port not reused: $(cat "$R/apiserver.port")"
openssl verify -CAfile "$R/pki/kubelet-ca.crt" "$R/pki/kubelet-serving.crt" >/dev/null 2>&1 ||
	t_fail "no valid kubelet serving certificate made"
grep -q ' kubelet=1$' "$R/config" || t_fail "config not brought up to date: $(cat "$R/config")"
t_pass

t_begin "start.sh resumes on a new port when the recorded one is taken, and rewrites the kubeconfigs"
r_kill
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(600)' "$port" &
holder=$!
sleep 0.5
expect_exit 0 r_start
expect_grep "recorded apiserver port $port is taken" "$T_ERR"
expect_no_grep 'afresh' "$T_ERR"
new=$(cat "$R/apiserver.port")
[ "$new" != "$port" ] || t_fail "the taken port was kept"
grep -qx "export KC_SERVER=https://127.0.0.1:$new" "$R/env.sh" || t_fail "env.sh not rewritten"
grep -q "server: https://127.0.0.1:$new\$" "$R/kubeconfigs/token.yaml" || t_fail "token.yaml not rewritten"
[ "$(r_kc -n default get configmap resume-mark -o jsonpath='{.data.v}' 2>&1)" = "$mark" ] ||
	t_fail "the object made before the kill is gone"
kill "$holder" 2>/dev/null || true
holder=
t_pass

t_begin "start.sh would start afresh, not resume, when settings changed incompatibly or data is missing"
# --plan runs the same decision without starting anything (a real fresh
# start is what every other test does). Its twin: compatible changes resume.
r_kill
r_plan() { KCUSTODY_RESUME=1 KCUSTODY_CONTROLLERS=none "$KC_REPO/tests/cluster/start.sh" --plan "$R"; }
[ "$(r_plan)" = resume ] || t_fail "plan of the killed cluster: $(r_plan)"
expect_exit 0 env KCUSTODY_RESUME=1 KCUSTODY_AUDIT_MAXBACKUP=3 KCUSTODY_CONTROLLERS=none "$KC_REPO/tests/cluster/start.sh" --plan "$R"
expect_grep '^afresh: settings changed \(was: .* maxbackup=10 ' "$T_OUT"
expect_exit 0 env KCUSTODY_RESUME=1 KCUSTODY_ETCD_QUOTA=4294967296 KCUSTODY_CONTROLLERS=none "$KC_REPO/tests/cluster/start.sh" --plan "$R"
expect_grep '^afresh: settings changed' "$T_OUT"
# not asked to resume (every test's start): afresh, as before
expect_exit 0 env -u KCUSTODY_RESUME KCUSTODY_CONTROLLERS=none "$KC_REPO/tests/cluster/start.sh" --plan "$R"
expect_grep '^afresh: KCUSTODY_RESUME=1 not set$' "$T_OUT"
# controllers: more than before resumes, fewer starts afresh
expect_exit 0 env KCUSTODY_RESUME=1 KCUSTODY_CONTROLLERS=serviceaccount "$KC_REPO/tests/cluster/start.sh" --plan "$R"
expect_grep '^resume$' "$T_OUT"
sed -i 's/ controllers=none / controllers=namespace,serviceaccount /' "$R/config"
expect_exit 0 env KCUSTODY_RESUME=1 KCUSTODY_CONTROLLERS=serviceaccount,namespace,garbagecollector "$KC_REPO/tests/cluster/start.sh" --plan "$R"
expect_grep '^resume$' "$T_OUT"
expect_exit 0 env KCUSTODY_RESUME=1 KCUSTODY_CONTROLLERS=serviceaccount "$KC_REPO/tests/cluster/start.sh" --plan "$R"
expect_grep '^afresh: controllers removed \(was: namespace,serviceaccount\)$' "$T_OUT"
sed -i 's/ controllers=namespace,serviceaccount / controllers=none /' "$R/config"
for f in etcd/member pki/ca.key tokens/tokens.csv env.sh; do
	mv "$R/$f" "$R/$f.away"
	[ "$(r_plan)" = "afresh: no ${f%/member} data" ] || [ "$(r_plan)" = "afresh: no $f" ] ||
		t_fail "without $f: $(r_plan)"
	mv "$R/$f.away" "$R/$f"
done
[ "$(r_plan)" = resume ] || t_fail "plan after the round trip: $(r_plan)"
t_pass

t_summary
