#!/bin/bash
# Command tests for issue 13 item 5: agent pod logs through the real API
# server's pods/log subresource.  The test cluster has no kubelet: a
# loopback HTTPS stand-in (tests/cluster/kubelet-standin.py) registers a
# Node at 127.0.0.1 and serves /containerLogs/... as a kubelet does; the
# API server authorizes pods/log and proxies to it over verified TLS.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

NODE=kc-logs-node
W=$(mktemp -d)
SPID=
# pods bound to a node wait for its kubelet to confirm their deletion:
# forced, as for a node that is gone
purge() {
	kc_admin delete pods --all -n lg-a --grace-period=0 --force --wait=false >/dev/null 2>&1
	kc_admin delete pods --all -n lg-b --grace-period=0 --force --wait=false >/dev/null 2>&1
	kc_purge_ns lg-a lg-b lg-sys
}
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null
	purge
	kc_admin delete node $NODE >/dev/null 2>&1
	kc_admin delete clusterrole,clusterrolebinding kc-logs-test-nolog >/dev/null 2>&1
	kc_admin delete clusterrolebinding kc-logs-test-deploy >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT
purge
kc_admin delete node $NODE >/dev/null 2>&1
CANARY="sk-live-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

# --- the logs the stand-in serves: "<RFC3339Nano> <text>" per line; an old
# line (two days ago) outside a --since 1h window, the rest recent.
D=$W/data
python3 - "$D" "$CANARY" <<'EOF'
import datetime, os, sys
d, canary = sys.argv[1], sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc)
def ts(ago):
    return (now - datetime.timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
def put(rel, lines):
    p = os.path.join(d, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        for ago, text in lines:
            f.write("%s %s\n" % (ts(ago), text))
put("lg-a/p-main/app.log", [
    (172800, "agent starting (two days ago)"),
    (300, "GET /api/v1/namespaces/lg-a/secrets -> 403"),
    (290, 'error: secrets is forbidden: User "system:serviceaccount:lg-a:agent-a" cannot list resource "secrets" in API group "" in the namespace "lg-a"'),
    (280, "tool call refused upstream: RBAC: access denied"),
    (270, "processed 14035 items in 4030ms"),
    (260, "ok")])
put("lg-a/p-main/app.previous.log", [
    (3600 * 5, "previous run"),
    (600, 'Error from server (Forbidden): pods "x" is Forbidden: cannot get resource "pods/exec"'),
    (590, "shutting down")])
put("lg-a/p-main/init.log", [(900, "init done")])
put("lg-a/p-main/side.log", [(200 - i // 100, "side line %04d %s" % (i, "x" * 60)) for i in range(150)])
put("lg-a/p-main/tool.log", [(100, "loading model"), (99, "calling model with key " + canary + " now"),
                             (98, "model ready")])
put("lg-b/p-b/app.log", [(100, "agent b running"), (99, "processed 14035 items")])
put("lg-a/p-hang/stuck.log", [(100, "never served")])
open(os.path.join(d, "lg-a/p-hang/stuck.hang"), "w").close()
EOF

# --- the stand-in: registers the Node, renews its Lease, serves the logs
P=$KC_PKI_DIR
setsid python3 "$KC_REPO/tests/cluster/kubelet-standin.py" --data "$D" \
	--cert "$P/kubelet-serving.crt" --key "$P/kubelet-serving.key" --client-ca "$P/ca.crt" \
	--port-file "$W/port" --node $NODE --server "$KC_SERVER" --ca "$P/ca.crt" \
	--admin-cert "$P/admin.crt" --admin-key "$P/admin.key" --hang 120 \
	</dev/null >"$W/standin.log" 2>&1 &
SPID=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.1; done
[ -s "$W/port" ] || { echo "stand-in did not start: $(cat "$W/standin.log")"; echo "0 passed, 1 failed"; exit 1; }

kc_admin apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: lg-a}
---
apiVersion: v1
kind: Namespace
metadata: {name: lg-b}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent-a, namespace: lg-a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent-hang, namespace: lg-a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent-b, namespace: lg-b}
---
apiVersion: v1
kind: Pod
metadata: {name: p-main, namespace: lg-a}
spec:
  nodeName: $NODE
  serviceAccountName: agent-a
  initContainers: [{name: init, image: busybox}]
  containers: [{name: app, image: busybox}, {name: side, image: busybox}, {name: tool, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: p-unsched, namespace: lg-a}
spec:
  serviceAccountName: agent-a
  containers: [{name: app, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: p-hang, namespace: lg-a}
spec:
  nodeName: $NODE
  serviceAccountName: agent-hang
  containers: [{name: stuck, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: p-b, namespace: lg-b}
spec:
  nodeName: $NODE
  serviceAccountName: agent-b
  containers: [{name: app, image: busybox}]
EOF
cs() { printf '{"name":"%s","restartCount":%s,"ready":true,"image":"busybox","imageID":"","state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}' "$1" "$2"; }
kc_admin -n lg-a patch pod p-main --subresource=status --type=merge -p \
	"{\"status\":{\"initContainerStatuses\":[$(cs init 0)],\"containerStatuses\":[$(cs app 1),$(cs side 0),$(cs tool 0)]}}" >/dev/null ||
	{ echo "cannot set pod status"; echo "0 passed, 1 failed"; exit 1; }

collect() { "$KC" collect --case T-13-5 --phase pre --operator tester --agents '' "$@"; }
ADMIN=$(kc_kubeconfig certs.yaml)
# kubectl logs --timestamps through the same API server: what the bundle
# must hold (collect asks for the kubelet's timestamps)
klog() { kc_admin -n "$1" logs "$2" -c "$3" --timestamps "${@:4}"; }

t_begin "collect: every container's log (init too) and the previous one equal kubectl logs --timestamps, byte for byte"
expect_exit 0 collect --kubeconfig "$ADMIN" --sa lg-a/agent-a --sa lg-b/agent-b --out-dir "$W/ev"
E=$W/ev
for c in init app side; do
	klog lg-a p-main $c >"$W/k-$c" || t_fail "kubectl logs $c"
	[ -s "$W/k-$c" ] || t_fail "kubectl logs $c is empty (the comparison would be vacuous)"
	cmp -s "$W/k-$c" "$E/logs/lg-a/p-main/$c.log" || t_fail "$c.log differs from kubectl logs"
done
klog lg-a p-main app --previous >"$W/k-prev" || t_fail "kubectl logs --previous"
cmp -s "$W/k-prev" "$E/logs/lg-a/p-main/app.previous.log" || t_fail "app.previous.log differs from kubectl logs --previous"
klog lg-b p-b app >"$W/k-b" && cmp -s "$W/k-b" "$E/logs/lg-b/p-b/app.log" || t_fail "lg-b app.log differs"
# negative twins: no previous log where restartCount is 0; no log of an
# unscheduled pod (recorded as skipped), none of an unselected agent
[ ! -e "$E/logs/lg-a/p-main/side.previous.log" ] || t_fail "previous log of a container that never restarted"
jq -e '.items[] | select(.name=="logs/lg-a/p-unsched") | .status=="skipped"' "$E/MANIFEST.json" >/dev/null || t_fail "unscheduled pod not recorded as skipped"
[ ! -e "$E/logs/lg-a/p-hang" ] || t_fail "an unselected agent's pod was fetched"
# each log member is in the manifest, and in logs/index.json
for f in init app side tool app.previous; do
	jq -e --arg p "logs/lg-a/p-main/$f.log" 'any(.files[]; .path==$p and .media_type=="text/plain")' "$E/MANIFEST.json" >/dev/null || t_fail "$f not in the manifest"
done
jq -e '[.captures[] | select(.status=="complete")] | length == 6' "$E/logs/index.json" >/dev/null || t_fail "index: $(jq -c '[.captures[]|[.pod,.container,.previous,.status]]' "$E/logs/index.json")"
jq -e '.captures[] | select(.container=="init") | .kind=="init"' "$E/logs/index.json" >/dev/null || t_fail "init container not marked init"
t_pass

t_begin "collect: --since 1h is the logs' window (sinceSeconds), as kubectl logs --since=1h"
expect_exit 0 collect --kubeconfig "$ADMIN" --sa lg-a/agent-a --since 1h --no-reviews --out-dir "$W/ev-since"
klog lg-a p-main app --since=1h >"$W/k-since"
cmp -s "$W/k-since" "$W/ev-since/logs/lg-a/p-main/app.log" || t_fail "--since 1h differs from kubectl logs --since=1h"
# negative twin: the old line is outside the window, inside the full log
grep -q "two days ago" "$W/ev-since/logs/lg-a/p-main/app.log" && t_fail "a line older than the window was kept"
grep -q "two days ago" "$E/logs/lg-a/p-main/app.log" || t_fail "the full log lacks the old line"
grep -q 'sinceSeconds.*3600' "$D/requests.jsonl" || t_fail "the kubelet never saw sinceSeconds=3600"
# every line begins with the kubelet's RFC 3339 time
grep -qvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ' "$E/logs/lg-a/p-main/app.log" && t_fail "a line without its timestamp"
expect_exit 2 collect --kubeconfig "$ADMIN" --sa lg-a/agent-a --since yesterday --out-dir "$W/ev-bad"
expect_grep "since" "$T_ERR"
t_pass

t_begin "collect: authorization errors in the logs are summarised per agent"
S=$E/analysis/log-authz-errors.json
pat='(^|[^A-Za-z0-9])403([^A-Za-z0-9]|$)|Forbidden|forbidden:|RBAC: access denied|cannot get resource'
want_a=$(cat "$W"/k-init "$W"/k-app "$W"/k-side "$W"/k-prev <(klog lg-a p-main tool) | cut -d' ' -f2- | grep -cE "$pat")
[ "$want_a" -ge 4 ] || t_fail "the fixture has only $want_a matching lines"
jq -e --argjson n "$want_a" '.agents[] | select(.sa=="lg-a/agent-a") | .matching_lines == $n and (.lines|length) == $n' "$S" >/dev/null ||
	t_fail "agent-a: want $want_a lines: $(jq -c '.agents[]|[.sa,.matching_lines]' "$S")"
jq -e '.agents[] | select(.sa=="lg-a/agent-a") | any(.lines[]; .previous and (.patterns|index("cannot get resource")))' "$S" >/dev/null || t_fail "previous log's line not summarised"
jq -e '.agents[] | select(.sa=="lg-a/agent-a") | any(.lines[]; .text|test("RBAC: access denied"))' "$S" >/dev/null || t_fail "RBAC: access denied line missing"
# negative twin: 14035 and 4030ms are not 403; agent-b's log has no refusal
jq -e '.agents[] | select(.sa=="lg-b/agent-b") | .matching_lines == 0' "$S" >/dev/null || t_fail "agent-b has matches: $(jq -c '.agents' "$S")"
jq -e 'all(.agents[].lines[]; (.text|test("14035")|not))' "$S" >/dev/null || t_fail "14035 taken for 403"
t_pass

t_begin "diff and report: log authorization errors beside the audit denials; without logs they say so"
collect --kubeconfig "$ADMIN" --sa lg-a/agent-a --sa lg-b/agent-b --no-reviews -o "$W/pre.tar.gz" --no-sign >/dev/null 2>&1 || t_fail "pre bundle"
sleep 1
collect --kubeconfig "$ADMIN" --sa lg-a/agent-a --sa lg-b/agent-b --no-reviews -o "$W/post.tar.gz" --no-sign >/dev/null 2>&1 || t_fail "post bundle"
"$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --allow-unsigned --format json >"$T_DIR/d.json" 2>"$T_ERR" || t_fail "diff json: $(cat "$T_ERR")"
jq -e --argjson n "$want_a" '.logAuthzErrors.collectedPost and .logAuthzErrors.postTotal == $n and .summary.logAuthzErrors == $n' "$T_DIR/d.json" >/dev/null ||
	t_fail "diff json: $(jq -c '.logAuthzErrors | del(.agents)' "$T_DIR/d.json")"
"$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --allow-unsigned >"$T_DIR/d.txt" 2>/dev/null
expect_grep "Authorization errors in agent pod logs \(POST\): $want_a line" "$T_DIR/d.txt"
expect_grep "RBAC: access denied" "$T_DIR/d.txt"
"$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --allow-unsigned --format html -o "$T_DIR/d.html" >/dev/null 2>&1
expect_grep 'id="diff-log-authz"' "$T_DIR/d.html"
"$KC" report "$W/post.tar.gz" --allow-unsigned --no-ledger -o "$T_DIR/r.html" >/dev/null 2>&1 || t_fail "report"
grep -q 'id="log-authz"' "$T_DIR/r.html" && grep -qF 'RBAC: access denied' "$T_DIR/r.html" || t_fail "report lacks the log lines"
"$KC" report "$W/post.tar.gz" --diff "$W/pre.tar.gz" --allow-unsigned --no-ledger -o "$T_DIR/rd.html" >/dev/null 2>&1 || t_fail "report --diff"
expect_grep 'id="diff-log-authz"' "$T_DIR/rd.html"
collect --kubeconfig "$ADMIN" --sa lg-a/agent-a --no-reviews --no-logs -o "$W/pre-nolog.tar.gz" --no-sign >/dev/null 2>&1 || t_fail "pre bundle without logs"
sleep 1
collect --kubeconfig "$ADMIN" --sa lg-a/agent-a --no-reviews --no-logs -o "$W/post-nolog.tar.gz" --no-sign >/dev/null 2>&1 || t_fail "post bundle without logs"
"$KC" diff "$W/pre.tar.gz" "$W/post-nolog.tar.gz" --allow-unsigned >"$T_DIR/d2.txt" 2>/dev/null
expect_grep "the POST bundle has no pod logs" "$T_DIR/d2.txt"
"$KC" report "$W/post-nolog.tar.gz" --allow-unsigned --no-ledger -o "$T_DIR/r2.html" >/dev/null 2>&1 || t_fail "report without logs"
expect_no_grep 'id="log-authz"' "$T_DIR/r2.html"
# neither bundle with logs: no such member, the diff reads as before
"$KC" diff "$W/pre-nolog.tar.gz" "$W/post-nolog.tar.gz" --allow-unsigned --format json 2>/dev/null | jq -e 'has("logAuthzErrors") | not' >/dev/null || t_fail "logAuthzErrors without any pod logs"
expect_no_grep "RBAC: access denied" "$T_DIR/d2.txt"
t_pass

t_begin "collect: --log-limit cuts a longer log at the limit and records it"
expect_exit 0 collect --kubeconfig "$ADMIN" --sa lg-a/agent-a --no-reviews --log-limit 4K --out-dir "$W/ev-cap"
head -c 4096 "$W/k-side" | cmp -s - "$W/ev-cap/logs/lg-a/p-main/side.log" || t_fail "side.log is not kubectl's first 4096 bytes"
[ "$(wc -c <"$W/k-side")" -gt 4096 ] || t_fail "side log not longer than the limit (vacuous)"
jq -e '.items[] | select(.name=="logs/lg-a/p-main/side") | .limit_reached and .limit_bytes == 4096' "$W/ev-cap/MANIFEST.json" >/dev/null || t_fail "limit not recorded on the item"
jq -e '.warnings | any(test("cut at it"))' "$W/ev-cap/MANIFEST.json" >/dev/null || t_fail "no warning"
jq -e '.captures[] | select(.container=="side") | .limit_reached' "$W/ev-cap/logs/index.json" >/dev/null || t_fail "index lacks limit_reached"
# negative twin: a shorter log is whole and not marked
cmp -s "$W/k-app" "$W/ev-cap/logs/lg-a/p-main/app.log" || t_fail "app.log cut though shorter than the limit"
jq -e '.items[] | select(.name=="logs/lg-a/p-main/app") | has("limit_reached") | not' "$W/ev-cap/MANIFEST.json" >/dev/null || t_fail "app marked as cut"
expect_exit 2 collect --kubeconfig "$ADMIN" --log-limit 12 --out-dir "$W/ev-bad"
t_pass

t_begin "collect: pods/log forbidden in one namespace -> recorded forbidden, exit 1, the rest captured"
kc_admin apply -f "$KC_REPO/deploy/collector-rbac.yaml" >/dev/null
kc_admin create namespace lg-sys >/dev/null 2>&1
kc_admin -n lg-sys create serviceaccount logcol >/dev/null 2>&1
# the deploy ClusterRole without its pods/log rule, and pods/log in lg-a only
kc_admin get clusterrole kcustody-collector -o json |
	jq '{apiVersion, kind, metadata: {name: "kc-logs-test-nolog"}, rules: [.rules[] | select(.resources != ["pods/log"])]}' |
	kc_admin apply -f - >/dev/null
kc_admin create clusterrolebinding kc-logs-test-nolog --clusterrole kc-logs-test-nolog --serviceaccount lg-sys:logcol >/dev/null
kc_admin -n lg-a create role podlog --verb get --resource pods/log >/dev/null
kc_admin -n lg-a create rolebinding podlog --role podlog --serviceaccount lg-sys:logcol >/dev/null
tok=$(kc_admin -n lg-sys create token logcol)
cat >"$T_DIR/col.yaml" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "$KC_SERVER", certificate-authority: "$KC_PKI_DIR/ca.crt"}
users:
- name: u
  user: {token: "$tok"}
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
YAML
expect_exit 1 collect --kubeconfig "$T_DIR/col.yaml" --sa lg-a/agent-a --sa lg-b/agent-b --no-reviews --out-dir "$W/ev-403"
M=$W/ev-403/MANIFEST.json
jq -e '.items[] | select(.name=="logs/lg-b/p-b/app") | .status=="forbidden" and .http_status==403' "$M" >/dev/null || t_fail "lg-b log not recorded forbidden"
[ ! -e "$W/ev-403/logs/lg-b/p-b/app.log" ] || t_fail "a forbidden log has a member"
cmp -s "$W/k-app" "$W/ev-403/logs/lg-a/p-main/app.log" || t_fail "lg-a not captured"
jq -e '[.items[] | select(.status!="complete" and .status!="skipped") | .name] == ["logs/lg-b/p-b/app"]' "$M" >/dev/null ||
	t_fail "other items not complete: $(jq -c '[.items[]|select(.status!="complete" and .status!="skipped")|.name]' "$M")"
expect_grep "forbidden +logs/lg-b/p-b/app" "$T_ERR"
# negative twin: the same identity with pods/log in lg-b too -> exit 0
kc_admin -n lg-b create role podlog --verb get --resource pods/log >/dev/null
kc_admin -n lg-b create rolebinding podlog --role podlog --serviceaccount lg-sys:logcol >/dev/null
expect_exit 0 collect --kubeconfig "$T_DIR/col.yaml" --sa lg-a/agent-a --sa lg-b/agent-b --no-reviews --out-dir "$W/ev-403b"
cmp -s "$W/k-b" "$W/ev-403b/logs/lg-b/p-b/app.log" || t_fail "lg-b not captured once allowed"
# and deploy/collector-rbac.yaml's ClusterRole alone is enough for the logs
kc_admin -n lg-sys create serviceaccount logcol2 >/dev/null 2>&1
kc_admin create clusterrolebinding kc-logs-test-deploy --clusterrole kcustody-collector --serviceaccount lg-sys:logcol2 >/dev/null
sed "s|token: \"$tok\"|token: \"$(kc_admin -n lg-sys create token logcol2)\"|" "$T_DIR/col.yaml" >"$T_DIR/col2.yaml"
expect_exit 0 collect --kubeconfig "$T_DIR/col2.yaml" --sa lg-a/agent-a --sa lg-b/agent-b --no-reviews --out-dir "$W/ev-deploy"
cmp -s "$W/k-b" "$W/ev-deploy/logs/lg-b/p-b/app.log" && cmp -s "$W/k-app" "$W/ev-deploy/logs/lg-a/p-main/app.log" ||
	t_fail "the deploy ClusterRole does not reach the logs"
kc_admin delete clusterrolebinding kc-logs-test-deploy >/dev/null 2>&1
t_pass

t_begin "collect: a hanging kubelet is bounded by --log-timeout, recorded, and the run goes on"
t0=$(date +%s)
expect_exit 1 collect --kubeconfig "$ADMIN" --sa lg-a/agent-hang --sa lg-a/agent-a --no-reviews --log-timeout 2 --out-dir "$W/ev-hang"
el=$(($(date +%s) - t0))
[ "$el" -lt 60 ] || t_fail "collect took $el s with a 2 s log timeout"
echo "     (the run with a hanging kubelet took $el s)"
jq -e '.items[] | select(.name=="logs/lg-a/p-hang/stuck") | .status=="error" and .timed_out' "$W/ev-hang/MANIFEST.json" >/dev/null ||
	t_fail "hang not recorded: $(jq -c '.items[]|select(.name|startswith("logs/lg-a/p-hang"))' "$W/ev-hang/MANIFEST.json")"
jq -e '.pod_logs.timed_out == 1' "$W/ev-hang/MANIFEST.json" >/dev/null || t_fail "pod_logs.timed_out"
cmp -s "$W/k-app" "$W/ev-hang/logs/lg-a/p-main/app.log" || t_fail "the rest was not captured after the hang"
grep -q '/containerLogs/lg-a/p-hang/stuck' "$D/requests.jsonl" || t_fail "the hanging endpoint was never asked (vacuous)"
t_pass

t_begin "collect: a credential in a log line never enters the bundle; the line's hash does"
collect --kubeconfig "$ADMIN" --sa lg-a/agent-a --no-reviews -o "$W/cred.tar.gz" --no-sign >/dev/null 2>&1 || t_fail "bundle"
mkdir -p "$T_DIR/x" && tar -xzf "$W/cred.tar.gz" -C "$T_DIR/x" || t_fail "extract"
klog lg-a p-main tool >"$W/k-tool"
grep -q "$CANARY" "$W/k-tool" || t_fail "the canary is not in the server's log (vacuous)"
if grep -r -a -q "$CANARY" "$T_DIR/x"; then t_fail "the credential's bytes are in the bundle"; fi
# the stored log is kubectl's with that line replaced by the audit marker
python3 - "$W/k-tool" "$CANARY" >"$W/want-tool" <<'EOF'
import hashlib, json, sys
for line in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
    if sys.argv[2].encode() in line:
        line = json.dumps({"kcustody.redacted": {"sha256": hashlib.sha256(line).hexdigest()}}, separators=(",", ":")).encode()
    sys.stdout.buffer.write(line + b"\n")
EOF
tool=$(find "$T_DIR/x" -path '*logs/lg-a/p-main/tool.log')
cmp -s "$W/want-tool" "$tool" || t_fail "tool.log is not kubectl's with the marker: $(diff "$W/want-tool" "$tool" | head -3)"
mf=$(find "$T_DIR/x" -name MANIFEST.json | head -1)
jq -e --arg h "$(sha256sum <"$W/k-tool" | cut -d' ' -f1)" '.files[] | select(.path=="logs/lg-a/p-main/tool.log") | .transform=="redact-credentials" and .original_sha256==$h and .redacted_lines==1' "$mf" >/dev/null || t_fail "redaction not recorded"
# negative twin: a log without a credential is stored as received, no transform
jq -e '.files[] | select(.path=="logs/lg-a/p-main/app.log") | has("transform") | not' "$mf" >/dev/null || t_fail "app.log transformed"
t_pass

t_begin "collect: no leaks and no memory errors under valgrind (logs, previous, cap, redaction, timeout)"
if [ "${KCUSTODY_SANITIZE:-0}" = 1 ]; then
	expect_exit 1 "$KC" collect --case T-13-5 --phase pre --agents '' --kubeconfig "$ADMIN" --sa lg-a/agent-a \
		--sa lg-a/agent-hang --no-reviews --log-limit 4K --log-timeout 2 --out-dir "$T_DIR/ev"
elif command -v valgrind >/dev/null; then
	expect_exit 1 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=9 "$KC" collect --case T-13-5 --phase pre --agents '' --kubeconfig "$ADMIN" \
		--sa lg-a/agent-a --sa lg-a/agent-hang --no-reviews --log-limit 4K --log-timeout 2 --out-dir "$T_DIR/ev"
else
	t_fail "valgrind not installed"
fi
jq -e '.pod_logs.captured == 5 and .pod_logs.timed_out == 1 and .pod_logs.limit_reached == 1 and .pod_logs.redacted_members == 1' "$T_DIR/ev/MANIFEST.json" >/dev/null ||
	t_fail "the run under valgrind did not take every path: $(jq -c .pod_logs "$T_DIR/ev/MANIFEST.json")"
t_pass

t_begin "verify: a tampered log member fails verification; the untouched bundle verifies"
expect_exit 0 "$KC" verify "$W/cred.tar.gz" --allow-unsigned
python3 "$KC_REPO/tests/cmd/bundle_tool.py" repack "$W/cred.tar.gz" "$W/tampered.tar.gz" modify logs/lg-a/p-main/app.log ||
	t_fail "repack"
expect_exit 3 "$KC" verify "$W/tampered.tar.gz" --allow-unsigned
expect_grep "INVALID \(hashes check failed\)" "$T_OUT"
expect_grep "logs/lg-a/p-main/app.log" "$T_OUT"
t_pass

t_summary
