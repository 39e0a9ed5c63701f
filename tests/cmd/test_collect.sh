#!/bin/bash
# Command tests for `kcustody collect --out-dir` against the real API server.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

CANARY="kcustody-canary-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
ns=collect-test
kc_admin create namespace $ns >/dev/null 2>&1 || true
kc_admin -n $ns create serviceaccount agent-sa >/dev/null 2>&1 || true
# Created with `kubectl apply` so that the last-applied-configuration
# annotation carries the value too: it must not reach the evidence either.
kc_admin apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: canary-secret, namespace: $ns}
stringData: {password: "$CANARY"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: canary-config, namespace: $ns}
data: {note: "$CANARY"}
YAML

# uid and resourceVersion of every object in the snapshot pages of RES
snap_ids() { cat "$1"/raw/"$2"/page-*.json 2>/dev/null | jq -r '(.items // [])[] | .metadata.uid + " " + .metadata.resourceVersion' | sort; }
kube_ids() { kc_admin get "$1" ${2:-} -o json | jq -r '.items[] | .metadata.uid + " " + .metadata.resourceVersion' | sort; }
collect() { "$KC" collect --case T-1 --phase pre --operator tester "$@"; }

t_begin "collect: complete snapshot with certificate files (relative paths)"
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --out-dir "$T_DIR/ev"
m=$T_DIR/ev/MANIFEST.json
[ -f "$m" ] || t_fail "no MANIFEST.json"
[ "$(jq -r .status "$m")" = complete ] || t_fail "status is not complete"
for res in clusterroles clusterrolebindings namespaces; do
	diff <(snap_ids "$T_DIR/ev" $res) <(kube_ids $res) >/dev/null || t_fail "$res differ from kubectl"
done
for res in roles rolebindings serviceaccounts pods networkpolicies secrets configmaps persistentvolumeclaims; do
	# objects can be created by the server between the two reads; compare
	# the uids that existed at collection time only when nothing changed
	diff <(snap_ids "$T_DIR/ev" $res) <(kube_ids $res -A) >/dev/null || t_fail "$res differ from kubectl"
done
[ "$(jq -r '.cluster.kube_system_uid' "$m")" = "$(kc_admin get ns kube-system -o jsonpath='{.metadata.uid}')" ] || t_fail "kube-system uid"
[ "$(jq -r '.cluster.ca_sha256' "$m")" = "$(sha256sum "$KC_PKI_DIR/ca.crt" | cut -d' ' -f1)" ] || t_fail "CA sha256"
jq -e '.cluster.clock.offset_seconds | fabs < 5' "$m" >/dev/null || t_fail "clock offset missing or large"
jq -e '[.items[] | select(.name|startswith("list/")) | .resource_version | length > 0] | all' "$m" >/dev/null || t_fail "a list has no resourceVersion"
jq -e '.requests | length > 10 and all(.audit_id | startswith("kc-"))' "$m" >/dev/null || t_fail "request log"
jq -e '.collector.executable_sha256 | test("^[0-9a-f]{64}$")' "$m" >/dev/null || t_fail "executable sha256"
[ -f "$T_DIR/ev/cluster/collector-rules-review.json" ] || t_fail "no collector rules review"
# raw pages are byte for byte what the server sent: recompute one with curl
first=$(jq -r '.items[] | select(.name=="list/clusterroles") | .path' "$m")
t_pass

t_begin "collect: secret values never enter the evidence; names do"
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --out-dir "$T_DIR/ev"
if grep -r -q "$CANARY" "$T_DIR/ev"; then t_fail "canary value found in evidence"; fi
expect_grep canary-secret "$T_DIR/ev/raw/secrets/page-0001.json"
jq -e '[.files[] | select(.transform=="redact-last-applied")] | length >= 1' "$T_DIR/ev/MANIFEST.json" >/dev/null || t_fail "last-applied redaction not recorded"
t_pass

t_begin "collect: small pages give the same set (pagination)"
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --out-dir "$T_DIR/a"
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --out-dir "$T_DIR/b" --page-size 3
for res in clusterroles clusterrolebindings serviceaccounts; do
	diff <(snap_ids "$T_DIR/a" $res | cut -d' ' -f1) <(snap_ids "$T_DIR/b" $res | cut -d' ' -f1) >/dev/null || t_fail "$res differ with --page-size 3"
done
[ "$(ls "$T_DIR"/b/raw/clusterroles/page-*.json | wc -l)" -gt 5 ] || t_fail "page size not applied"
t_pass

for v in inline.yaml token.yaml tokenfile.yaml exec.yaml exec-v1.yaml json.json; do
	t_begin "collect: kubeconfig variant $v authenticates"
	expect_exit 0 collect --kubeconfig "$(kc_kubeconfig $v)" --out-dir "$T_DIR/ev"
	jq -e '.status=="complete"' "$T_DIR/ev/MANIFEST.json" >/dev/null 2>&1 || t_fail "not complete"
	t_pass
done

t_begin "collect: exec plugin runs once per run (credential cached until expiry)"
before=$(wc -l <"$KC_EXEC_LOG" 2>/dev/null || echo 0)
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig exec.yaml)" --out-dir "$T_DIR/ev"
after=$(wc -l <"$KC_EXEC_LOG")
[ $((after - before)) = 1 ] || t_fail "exec plugin ran $((after - before)) times"
jq -e '.collector_identity.auth_method=="exec"' "$T_DIR/ev/MANIFEST.json" >/dev/null || t_fail "auth method"
t_pass

t_begin "collect: a credential refused (401) is fetched again from the plugin; the resend has its own Audit-ID"
# the plugin's first credential is one the server refuses, the next the admin's
cat >"$T_DIR/plugin.sh" <<SH
#!/bin/bash
if [ ! -e "$T_DIR/plugin.first" ]; then
	: >"$T_DIR/plugin.first"
	export KCUSTODY_EXEC_TOKEN=not-a-token-the-server-knows
fi
exec "$KC_REPO/tests/cluster/exec-credential.sh"
SH
chmod +x "$T_DIR/plugin.sh"
sed "s#command: .*#command: $T_DIR/plugin.sh#" "$(kc_kubeconfig exec.yaml)" >"$KC_KUBECONFIG_DIR/exec-401.yaml"
expect_exit 0 collect --kubeconfig "$KC_KUBECONFIG_DIR/exec-401.yaml" --agents '' --no-reviews --out-dir "$T_DIR/e401"
m=$T_DIR/e401/MANIFEST.json
run=$(jq -r .collector.run_id "$m")
jq -e --arg r "$run" '.requests[0] | .path == "/version" and .status == 200 and .attempts == 2 and
	.audit_id == ($r + "-000001.2")' "$m" >/dev/null || t_fail "the resend is not logged as attempt 2 with its own Audit-ID: $(jq -c '.requests[0]' "$m")"
sleep 1
# the server saw both: the refused request and the resend, each its own ID
codes=$(cat "$KC_AUDIT_DIR"/audit*.log | jq -r --arg r "$run" 'select((.auditID == ($r + "-000001") or
	.auditID == ($r + "-000001.2")) and .stage != "RequestReceived") | .auditID + " " + (.responseStatus.code | tostring)' | sort -u)
echo "  audit events of the first request: $(echo $codes)"
[ "$codes" = "$run-000001 401
$run-000001.2 200" ] || t_fail "the server's audit log does not show 401 then 200 under two IDs"
t_pass

t_begin "collect: KUBECONFIG with two files merges like kubectl"
KUBECONFIG="$(kc_kubeconfig multi-a.yaml):$(kc_kubeconfig multi-b.yaml)" expect_exit 0 collect --context ctx-b --out-dir "$T_DIR/ev"
KUBECONFIG="$(kc_kubeconfig multi-b.yaml):$(kc_kubeconfig multi-a.yaml)" expect_exit 4 collect --context ctx-b --out-dir "$T_DIR/ev2"
t_pass

t_begin "collect: wrong CA is a clear TLS error, nothing written"
expect_exit 4 collect --kubeconfig "$(kc_kubeconfig wrong-ca.yaml)" --out-dir "$T_DIR/ev"
expect_grep 'kcustody: cannot reach .*(certificate|SSL)' "$T_ERR"
[ ! -e "$T_DIR/ev" ] || t_fail "output written"
ls -a "$T_DIR" | grep -q kcustody-staging && t_fail "staging folder left behind"
t_pass

t_begin "collect: wrong token is a clear credential error"
expect_exit 4 collect --kubeconfig "$(kc_kubeconfig bad-token.yaml)" --out-dir "$T_DIR/ev"
expect_grep '401 Unauthorized' "$T_ERR"
[ ! -e "$T_DIR/ev" ] || t_fail "output written"
t_pass

t_begin "collect: missing client key file is a configuration error"
expect_exit 2 collect --kubeconfig "$(kc_kubeconfig missing-key.yaml)" --out-dir "$T_DIR/ev"
expect_grep "client-key" "$T_ERR"
t_pass

t_begin "collect: malformed kubeconfig is a configuration error naming the file"
expect_exit 2 collect --kubeconfig "$(kc_kubeconfig malformed.yaml)" --out-dir "$T_DIR/ev"
expect_grep "malformed.yaml" "$T_ERR"
expect_exit 2 collect --kubeconfig "$T_DIR/nonexistent" --out-dir "$T_DIR/ev"
expect_grep "nonexistent.*No such file" "$T_ERR"
t_pass

t_begin "collect: unreachable server is fatal and writes nothing"
expect_exit 4 collect --kubeconfig "$(kc_kubeconfig unreachable.yaml)" --max-retries 1 --out-dir "$T_DIR/ev"
expect_grep 'cannot reach' "$T_ERR"
[ ! -e "$T_DIR/ev" ] || t_fail "output written"
t_pass

t_begin "collect: insecure-skip-tls-verify refused without --insecure, recorded with it"
expect_exit 2 collect --kubeconfig "$(kc_kubeconfig insecure.yaml)" --out-dir "$T_DIR/ev"
expect_grep 'insecure-skip-tls-verify' "$T_ERR"
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig insecure.yaml)" --insecure --out-dir "$T_DIR/ev"
jq -e '.cluster.tls_verified==false and (.warnings|length>0)' "$T_DIR/ev/MANIFEST.json" >/dev/null || t_fail "insecure not recorded"
t_pass

t_begin "collect: restricted user gives a partial snapshot naming what was forbidden"
expect_exit 1 collect --kubeconfig "$(kc_kubeconfig restricted.yaml)" --out-dir "$T_DIR/ev"
m=$T_DIR/ev/MANIFEST.json
[ "$(jq -r .status "$m")" = partial ] || t_fail "status is not partial"
for res in secrets configmaps persistentvolumeclaims networkpolicies; do
	jq -e --arg n "list/$res" '.items[] | select(.name==$n) | .status=="forbidden"' "$m" >/dev/null || t_fail "$res not recorded as forbidden"
	[ ! -e "$T_DIR/ev/raw/$res" ] || t_fail "$res pages written"
done
jq -e '.items[] | select(.name=="list/pods") | .status=="complete"' "$m" >/dev/null || t_fail "pods not complete"
# the terminal names each failed item and the fix, not only "see MANIFEST.json"
expect_grep "forbidden +list/secrets" "$T_ERR"
expect_grep "fix: .*deploy/collector-rbac.yaml" "$T_ERR"
expect_no_grep "forbidden +list/pods" "$T_ERR"
t_pass

t_begin "collect: deploy/ ClusterRole is enough for a complete snapshot; without it, partial"
kc_admin apply -f "$KC_REPO/deploy/collector-rbac.yaml" >/dev/null
tok=$(kc_admin -n kcustody create token kcustody-collector)
cat >"$T_DIR/sa.yaml" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "$KC_SERVER", certificate-authority: "$KC_PKI_DIR/ca.crt"}
users:
- name: u
  user: {token: "$tok"}
contexts:
- name: sa
  context: {cluster: c, user: u}
current-context: sa
YAML
expect_exit 0 collect --kubeconfig "$T_DIR/sa.yaml" --out-dir "$T_DIR/ev" --sa collect-test/agent-sa
grep -q "$tok" "$T_ERR" "$T_OUT" && t_fail "token printed"
grep -rq "$tok" "$T_DIR/ev" && t_fail "token in evidence"
# without the optional reviews role the server reviews are skipped, with the reason
jq -e '[.items[] | select(.name|startswith("review/")) | .status=="skipped" and (.detail|test("impersonate"))] | (length>0 and all)' "$T_DIR/ev/MANIFEST.json" >/dev/null || t_fail "reviews not recorded as skipped with the reason"
jq -e '.warnings | any(test("offline evaluation stands alone"))' "$T_DIR/ev/MANIFEST.json" >/dev/null || t_fail "no warning about skipped reviews"
kc_admin apply -f "$KC_REPO/deploy/collector-reviews-rbac.yaml" >/dev/null
expect_exit 0 collect --kubeconfig "$T_DIR/sa.yaml" --out-dir "$T_DIR/ev3" --sa collect-test/agent-sa
jq -e '[.items[] | select(.name|startswith("review/")) | .status=="complete"] | (length>0 and all)' "$T_DIR/ev3/MANIFEST.json" >/dev/null || t_fail "reviews not complete with the reviews role"
kc_admin delete -f "$KC_REPO/deploy/collector-reviews-rbac.yaml" >/dev/null
kc_admin delete clusterrolebinding kcustody-collector >/dev/null
expect_exit 1 collect --kubeconfig "$T_DIR/sa.yaml" --out-dir "$T_DIR/ev2"
jq -e '[.items[] | select(.status=="forbidden")] | length >= 11' "$T_DIR/ev2/MANIFEST.json" >/dev/null || t_fail "forbidden items not named"
kc_admin apply -f "$KC_REPO/deploy/collector-rbac.yaml" >/dev/null
t_pass

t_begin "collect: every request carries the run's Audit-ID and User-Agent"
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --out-dir "$T_DIR/ev"
run=$(jq -r .collector.run_id "$T_DIR/ev/MANIFEST.json")
sleep 1
n=$(cat "$KC_AUDIT_DIR"/audit*.log 2>/dev/null | grep -c "\"auditID\":\"$run-")
[ "$n" -gt 10 ] || t_fail "only $n audit events carry the run's Audit-ID"
cat "$KC_AUDIT_DIR"/audit*.log | grep "\"auditID\":\"$run-" | jq -r .userAgent | sort -u | grep -q "kcustody/.*run/$run" || t_fail "User-Agent not seen in audit log"
t_pass

# The list requests of run RUN that the server had in flight at once: one
# "A B" line per pair of different lists whose [received, completed]
# intervals overlap (ResponseComplete events of the audit log).
list_overlaps() {
	cat "$KC_AUDIT_DIR"/audit*.log 2>/dev/null | jq -c --arg r "$1-" 'select(.stage == "ResponseComplete" and
		(.auditID | startswith($r)) and (.requestURI | test("[?]limit="))) |
		[(.requestURI | sub("[?].*"; "")), .requestReceivedTimestamp, .stageTimestamp]' |
		jq -rs '. as $e | [range(0; length) as $i | range($i + 1; length) as $j |
			select($e[$i][0] != $e[$j][0] and $e[$i][1] < $e[$j][2] and $e[$j][1] < $e[$i][2]) |
			$e[$i][0] + " " + $e[$j][0]] | .[]'
}

t_begin "collect: the lists run on two connections at once, in list order in the manifest; --list-streams 1 one at a time"
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --page-size 5 --agents '' --no-reviews --out-dir "$T_DIR/two"
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --page-size 5 --agents '' --no-reviews --list-streams 1 \
	--out-dir "$T_DIR/one"
sleep 1	# the audit log is written behind the answers
two=$(list_overlaps "$(jq -r .collector.run_id "$T_DIR/two/MANIFEST.json")" | wc -l)
one=$(list_overlaps "$(jq -r .collector.run_id "$T_DIR/one/MANIFEST.json")" | wc -l)
echo "  list requests in flight together: $two pairs with two streams, $one with one"
[ "$two" -gt 0 ] || t_fail "two streams: no two lists were ever in flight together"
[ "$one" = 0 ] || t_fail "--list-streams 1: $one pairs of lists in flight together"
for d in two one; do
	m=$T_DIR/$d/MANIFEST.json
	jq -e '[.requests[].audit_id] | length == (unique | length)' "$m" >/dev/null || t_fail "$d: an Audit-ID was used twice"
	# the items, pages and requests of the lists in the order of the list
	# table (collector/snapshot.c), as one after the other
	jq -r '.items[] | select(.name | startswith("list/")) | .name' "$m" >"$T_DIR/$d.items"
	jq -r '.files[].path | select(startswith("raw/")) | sub("/page-[0-9]+[.]json$"; "")' "$m" | uniq >"$T_DIR/$d.files"
	jq -r '.requests[].path | select(test("[?]limit=")) | sub("[?].*"; "")' "$m" | uniq >"$T_DIR/$d.reqs"
done
diff "$T_DIR/two.items" "$T_DIR/one.items" >/dev/null || t_fail "the lists' items are in another order"
diff "$T_DIR/two.files" "$T_DIR/one.files" >/dev/null || t_fail "the pages are noted in another order"
diff "$T_DIR/two.reqs" "$T_DIR/one.reqs" >/dev/null || t_fail "the requests are logged in another order"
[ "$(sort "$T_DIR/two.reqs" | uniq -d | wc -l)" = 0 ] || t_fail "a list's requests are not together in the log"
[ "$(sort "$T_DIR/two.files" | uniq -d | wc -l)" = 0 ] || t_fail "a list's pages are not together in the manifest"
[ "$(wc -l <"$T_DIR/two.items")" -ge 17 ] || t_fail "fewer than 17 lists"
for n in 0 9 x; do	# out of range: a usage error, nothing collected
	expect_exit 2 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --list-streams "$n" --out-dir "$T_DIR/bad-$n"
	[ ! -e "$T_DIR/bad-$n" ] || t_fail "--list-streams $n left a folder"
done
t_pass

t_begin "collect: no leaks and no memory errors under valgrind (exec plugin, reviews)"
if [ "${KCUSTODY_SANITIZE:-0}" = 1 ]; then
	# an ASan build checks leaks itself (valgrind cannot run it)
	expect_exit 0 "$KC" collect --case T-1 --phase pre --kubeconfig "$(kc_kubeconfig exec.yaml)" \
		--sa collect-test/agent-sa --out-dir "$T_DIR/ev"
elif command -v valgrind >/dev/null; then
	expect_exit 0 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=9 "$KC" collect --case T-1 --phase pre --kubeconfig "$(kc_kubeconfig exec.yaml)" \
		--sa collect-test/agent-sa --out-dir "$T_DIR/ev"
else
	t_fail "valgrind not installed"
fi
t_pass

t_begin "collect -o: a sealed, signed bundle named CASE_PHASE_CLUSTER_TIME.tar.gz that verifies"
"$KC" keygen -o "$T_DIR/k.pem" --pub "$T_DIR/k.pub" >/dev/null 2>&1
"$KC" keygen -o "$T_DIR/other.pem" --pub "$T_DIR/other.pub" >/dev/null 2>&1
mkdir "$T_DIR/out"
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --key "$T_DIR/k.pem" -o "$T_DIR/out/"
b=$(cat "$T_OUT")
case "$(basename "$b")" in T-1_pre_kcustody_[0-9]*T[0-9]*Z.tar.gz) ;; *) t_fail "bundle name '$b'";; esac
[ "$(stat -c %a "$b")" = 600 ] || t_fail "bundle mode $(stat -c %a "$b")"
ls -a "$T_DIR/out" | grep -q staging && t_fail "staging left behind"
expect_exit 0 "$KC" verify "$b" --pubkey "$T_DIR/k.pub"
expect_exit 3 "$KC" verify "$b" --pubkey "$T_DIR/other.pub"
# not `tar | grep -q`: under pipefail grep's early exit SIGPIPEs tar and a
# found canary made the pipeline fail, so the check could never fire
if grep -q "$CANARY" <(tar xzOf "$b"); then t_fail "canary in bundle"; fi
t_pass

t_begin "collect -o: partial collection still seals, exit 1; failures leave no bundle"
mkdir "$T_DIR/out"
expect_exit 1 collect --kubeconfig "$(kc_kubeconfig restricted.yaml)" -o "$T_DIR/out/" --no-sign
[ "$(ls "$T_DIR/out" | wc -l)" = 1 ] || t_fail "no bundle for a partial collection"
expect_exit 4 collect --kubeconfig "$(kc_kubeconfig unreachable.yaml)" --max-retries 0 --no-sign -o "$T_DIR/out2.tar.gz"
[ ! -e "$T_DIR/out2.tar.gz" ] || t_fail "bundle written by a failed run"
expect_exit 2 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" -o "$T_DIR/out3.tar.gz"
expect_grep 'key KEY.pem' "$T_ERR"
t_pass

t_begin "collect: proxy-url tunnels through the proxy; tls-server-name is what TLS verifies"
python3 "$KC_REPO/tests/fake/connect_proxy.py" "$T_DIR/pport" "$T_DIR/proxy.log" &
ppid=$!
for _ in $(seq 50); do [ -s "$T_DIR/pport" ] && break; sleep 0.1; done
# server addressed by IP; the serving certificate names 127.0.0.1 and localhost
mk() { # FILE EXTRA-CLUSTER-FIELDS
	cat >"$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "$KC_SERVER", certificate-authority: "$KC_PKI_DIR/ca.crt"$2}
users:
- name: u
  user: {client-certificate: "$KC_PKI_DIR/admin.crt", client-key: "$KC_PKI_DIR/admin.key"}
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
YAML
}
mk "$T_DIR/proxy.yaml" ", proxy-url: \"http://127.0.0.1:$(cat "$T_DIR/pport")\""
expect_exit 0 collect --kubeconfig "$T_DIR/proxy.yaml" --agents '' --no-reviews --out-dir "$T_DIR/ev"
grep -q "^CONNECT 127.0.0.1:$KC_APISERVER_PORT " "$T_DIR/proxy.log" || t_fail "the proxy saw no CONNECT"
kill "$ppid" 2>/dev/null
mk "$T_DIR/sni-ok.yaml" ", tls-server-name: localhost"
expect_exit 0 collect --kubeconfig "$T_DIR/sni-ok.yaml" --agents '' --no-reviews --out-dir "$T_DIR/ev2"
mk "$T_DIR/sni-bad.yaml" ", tls-server-name: kubernetes.invalid"
expect_exit 4 collect --kubeconfig "$T_DIR/sni-bad.yaml" --agents '' --no-reviews --out-dir "$T_DIR/ev3"
expect_grep 'cannot reach' "$T_ERR"
t_pass

t_begin "collect: usage errors"
expect_exit 2 "$KC" collect --phase pre --out-dir "$T_DIR/x"
expect_exit 2 "$KC" collect --case X --phase during --out-dir "$T_DIR/x"
# numbers are parsed whole: trailing junk and overflow are refused, not truncated
expect_exit 2 "$KC" collect --case X --phase pre --page-size 10x --out-dir "$T_DIR/x"
expect_exit 2 "$KC" collect --case X --phase pre --max-retries 99999999999999999999 --out-dir "$T_DIR/x"
expect_exit 2 "$KC" collect --case X --phase pre --review-parallel 8k --out-dir "$T_DIR/x"
mkdir "$T_DIR/exists"
expect_exit 2 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --out-dir "$T_DIR/exists"
t_pass

t_begin "collect: progress per list (items, pages, rate) on a terminal; quiet when not a TTY or with -q"
kcfg=$(kc_kubeconfig certs.yaml)
script -qec "$KC collect --case T-1 --phase pre --operator tester --kubeconfig $kcfg --out-dir $T_DIR/tty --no-reviews" \
	/dev/null >"$T_DIR/tty.txt" 2>&1 || t_fail "collect on a pty failed: $(tail -n 3 "$T_DIR/tty.txt")"
grep -qE "list/pods +[0-9]+ items, [0-9]+ pages? in [0-9.]+ s \([0-9]+ items/s\)" "$T_DIR/tty.txt" ||
	t_fail "no progress line on a terminal: $(head -c 300 "$T_DIR/tty.txt")"
# the twins: no TTY, and -q on a TTY
expect_exit 0 collect --kubeconfig "$kcfg" --out-dir "$T_DIR/notty" --no-reviews
expect_no_grep "items/s" "$T_ERR"
script -qec "$KC collect -q --case T-1 --phase pre --operator tester --kubeconfig $kcfg --out-dir $T_DIR/tty2 --no-reviews" \
	/dev/null >"$T_DIR/tty2.txt" 2>&1
grep -q "items/s" "$T_DIR/tty2.txt" && t_fail "-q still shows progress"
t_pass

t_begin "collect -o: checked before any work; -o evidence/ (as in the README) makes the folder"
"$KC" keygen -o "$T_DIR/k.pem" --pub "$T_DIR/k.pub" >/dev/null 2>&1
touch "$T_DIR/old.tar.gz" "$T_DIR/led.tar.gz.custody.jsonl"
for o in "$T_DIR/notes.txt" "$T_DIR/old.tar.gz" "$T_DIR/led.tar.gz" "$T_DIR/missing/b.tar.gz" "$T_DIR/.tar.gz"; do
	start=$(date +%s%N)
	expect_exit 2 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --key "$T_DIR/k.pem" -o "$o"
	# refused before any request: no staging folder, nothing collected
	ls -a "$T_DIR" | grep -q staging && t_fail "staging folder made for a refused -o $o"
	[ "$(( ($(date +%s%N) - start) / 1000000 ))" -lt 2000 ] || t_fail "-o $o refused only after work"
done
expect_grep "neither a folder nor a NAME.tar.gz" "$T_ERR"
expect_exit 2 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --key "$T_DIR/nokey.pem" -o "$T_DIR/"
expect_grep "cannot read" "$T_ERR"
# the twin: a folder to create, as README's "-o evidence/"
kcfg=$(kc_kubeconfig certs.yaml)
(cd "$T_DIR" && collect --kubeconfig "$kcfg" --key "$T_DIR/k.pem" -o evidence/) >"$T_DIR/ev.out" 2>&1 ||
	t_fail "collect -o evidence/ failed: $(tail -n 2 "$T_DIR/ev.out")"
[ -d "$T_DIR/evidence" ] || t_fail "evidence/ not created"
ls "$T_DIR"/evidence/T-1_pre_*.tar.gz >/dev/null 2>&1 || t_fail "no bundle in evidence/"
t_pass

t_begin "collect --timings: each step's figures on stderr, requests as the manifest logs them"
"$KC" keygen -o "$T_DIR/k.pem" >/dev/null 2>&1
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --all-sas --key "$T_DIR/k.pem" \
	-o "$T_DIR/b.tar.gz" --timings -q
expect_grep '^STEP +WALL +CPU +REQUESTS +REQUEST TIME +RECEIVED +PEAK RSS$' "$T_ERR"
for step in lists select exports reviews logs analysis seal total; do
	grep -Eq "^$step +[0-9.]+ s +[0-9.]+ s +[0-9]+ " "$T_ERR" || t_fail "no $step row"
done
grep -q '^audit ' "$T_ERR" && t_fail "an audit row for a run without --audit-log"
# the requests the table counts are the ones the manifest's request log holds
tar -xzf "$T_DIR/b.tar.gz" -C "$T_DIR" --wildcards '*/MANIFEST.json'
logged=$(jq '.requests | length' "$T_DIR"/*/MANIFEST.json)
counted=$(awk '$1 == "total" { print $6 }' "$T_ERR")
reviews=$(awk '$1 == "reviews" { print $6 }' "$T_ERR")
[ "$counted" = "$logged" ] || t_fail "total requests $counted, the manifest logs $logged"
[ "$reviews" = "$(jq '[.requests[] | select((.path | endswith("/selfsubjectrulesreviews")) and .impersonate_user != null)] | length' "$T_DIR"/*/MANIFEST.json)" ] ||
	t_fail "reviews row counts $reviews requests, not the manifest's rules reviews"
[ "$reviews" -gt 0 ] || t_fail "no reviews counted"
# the twin: without --timings, nothing of it
expect_exit 0 collect --kubeconfig "$(kc_kubeconfig certs.yaml)" --no-sign -o "$T_DIR/c.tar.gz" -q
grep -q 'timings\|^STEP' "$T_ERR" && t_fail "timings printed without --timings"
t_pass

t_summary
