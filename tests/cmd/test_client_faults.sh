#!/bin/bash
# Failure cases a real kube-apiserver cannot be made to produce on demand,
# against the scripted server tests/fake/apiserver.py (canned responses,
# said so here on purpose): 503 and 429 + Retry-After before an answer, an
# expired continue token (410) mid-list, full Secret objects answered to a
# metadata-only request, a list failing with 500, an oversized answer.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-fake.XXXX")
pid= pid2=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$pid2" ] && kill "$pid2" 2>/dev/null; rm -rf "$W"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=fake-ca \
	-keyout "$W/ca.key" -out "$W/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
	-keyout "$W/srv.key" -out "$W/srv.csr" 2>/dev/null
openssl x509 -req -in "$W/srv.csr" -CA "$W/ca.crt" -CAkey "$W/ca.key" -CAcreateserial -days 2 \
	-extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$W/srv.crt" 2>/dev/null
python3 "$KC_REPO/tests/fake/apiserver.py" "$W/srv.crt" "$W/srv.key" "$W/port" "$W/requests.log" &
pid=$!
for _ in $(seq 50); do [ -s "$W/port" ] && break; sleep 0.1; done
cat >"$W/kc.yaml" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "https://127.0.0.1:$(cat "$W/port")", certificate-authority: "$W/ca.crt"}}]
users: [{name: u, user: {token: fake-token-value}}]
contexts: [{name: c, context: {cluster: fake, user: u}}]
current-context: c
YAML

t_begin "faults: 503 and 429 are retried with backoff, Retry-After honoured; partial run, exit 1"
start=$(date +%s.%N)
expect_exit 1 "$KC" collect --kubeconfig "$W/kc.yaml" --case F --phase pre --no-reviews --agents '' \
	--max-retries 3 --max-response 512K --out-dir "$W/ev"
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
cp "$T_ERR" "$W/collect.err"	# for the next test: T_ERR is each test's own
m=$W/ev/MANIFEST.json
jq -e '.requests[] | select(.path=="/version") | .attempts==3 and .status==200' "$m" >/dev/null || t_fail "/version not retried to success"
[ "$(grep -c '"path": "/version"' "$W/requests.log")" = 3 ] || t_fail "server did not see 3 /version requests"
awk -v t="$took" 'BEGIN{exit !(t >= 1.0)}' || t_fail "Retry-After: 1 not honoured (run took $took s)"
jq -e '.status=="partial"' "$m" >/dev/null || t_fail "not partial"
t_pass

t_begin "faults: every request carries an Audit-ID and the run's User-Agent; the token is never logged"
run=$(jq -r .collector.run_id "$W/ev/MANIFEST.json" 2>/dev/null)
jq -e -s --arg r "$run" 'all(.[]; (.audit_id|startswith($r+"-")) and (.user_agent|test("kcustody/.* run/"+$r)) and .authorization)' "$W/requests.log" >/dev/null || t_fail "headers missing"
[ "$(jq -r .audit_id "$W/requests.log" | sort | uniq -d | wc -l)" = 0 ] || t_fail "an Audit-ID was reused"
[ -s "$W/collect.err" ] || t_fail "the run printed nothing: no stderr to search"
grep -rq fake-token-value "$W/ev" "$W/collect.err" && t_fail "token leaked"
t_pass

t_begin "faults: a group-version that fails (503, 403) is recorded; the rest of discovery is stored"
m=$W/ev/MANIFEST.json
jq -e '.items[] | select(.name=="discovery/apis/metrics.k8s.io/v1beta1") | .status=="error" and .http_status==503 and (.detail|test("unable to handle"))' "$m" >/dev/null || t_fail "503 group-version not recorded"
jq -e '.items[] | select(.name=="discovery/apis/secured.kcr-test.io/v1") | .status=="forbidden" and .http_status==403' "$m" >/dev/null || t_fail "403 group-version not recorded as forbidden"
[ ! -e "$W/ev/discovery/apis/metrics.k8s.io" ] && [ ! -e "$W/ev/discovery/apis/secured.kcr-test.io" ] || t_fail "a failed document was stored"
for f in api.json apis.json api/v1.json apis/apps/v1.json apis/kagent.dev/v1alpha1.json; do
	[ -f "$W/ev/discovery/$f" ] || t_fail "discovery/$f missing"
done
jq -e '[.items[] | select(.name | startswith("discovery/")) | select(.status != "complete")] | length == 2' "$m" >/dev/null || t_fail "other discovery items failed"
t_pass

t_begin "faults: 410 Gone mid-list restarts the list and is recorded"
jq -e '.items[] | select(.name=="list/rolebindings") | .status=="complete" and .count==2 and .restarts_after_410==1 and .pages==2' "$W/ev/MANIFEST.json" >/dev/null || t_fail "410 not handled"
[ "$(ls "$W"/ev/raw/rolebindings/ | wc -l)" = 2 ] || t_fail "stale pages left"
# the YAML export follows the list as it is written: it starts over with
# the list, so it holds the second run's two objects once each, not the
# first run's page as well; the pods list failed (500): no export of it
jq -e '.files[] | select(.path=="exports/rolebindings.yaml") | .objects==2' "$W/ev/MANIFEST.json" >/dev/null ||
	t_fail "the rolebindings export does not hold the two objects of the list's last run"
[ "$(grep -c '^    name: rb-1$' "$W/ev/exports/rolebindings.yaml")" = 1 ] &&
	[ "$(grep -c '^    name: rb-2$' "$W/ev/exports/rolebindings.yaml")" = 1 ] ||
	t_fail "the rolebindings export: $(grep -c 'name: rb-' "$W/ev/exports/rolebindings.yaml") names, not rb-1 and rb-2 once each"
[ ! -e "$W/ev/exports/pods.yaml" ] || t_fail "an export of the pods list that failed"
t_pass

t_begin "faults: a full SecretList answered to a metadata-only request is discarded, never stored"
jq -e '.items[] | select(.name=="list/secrets") | .status=="error" and (.detail|test("metadata only"))' "$W/ev/MANIFEST.json" >/dev/null || t_fail "not recorded as error"
grep -rq fake-canary-value-never-stored "$W/ev" && t_fail "secret value stored"
[ ! -e "$W/ev/raw/secrets" ] || t_fail "secret pages written"
t_pass

t_begin "faults: a list failing with 500 is retried, then recorded with the server's message"
jq -e '.items[] | select(.name=="list/pods") | .status=="error" and (.detail|test("HTTP 500: etcd timeout"))' "$W/ev/MANIFEST.json" >/dev/null || t_fail "500 not recorded"
[ "$(grep -c '"path": "/api/v1/pods' "$W/requests.log")" = 4 ] || t_fail "500 not retried 3 times"
t_pass

t_begin "faults: an answer larger than --max-response is refused, the run goes on"
jq -e '.items[] | select(.name=="list/configmaps") | .status=="error" and (.detail|test("larger than"))' "$W/ev/MANIFEST.json" >/dev/null || t_fail "oversized answer not refused"
jq -e '.items[] | select(.name=="list/persistentvolumeclaims") | .status=="complete"' "$W/ev/MANIFEST.json" >/dev/null || t_fail "run did not go on"
t_pass

# A second server of the same scenario whose connection dies on the paths
# of KC_FAKE_DROP (tests/fake/apiserver.py).  The discovery documents are
# fetched beside the lists (collector/collect.c DISCOVERY_TASK): when no
# list fails, the discovery's failure is the run's, as when it came after
# the lists; when a list fails too, the list's is.
drop_server() {
	rm -f "$W/port2"
	KC_FAKE_DROP=$1 python3 "$KC_REPO/tests/fake/apiserver.py" "$W/srv.crt" "$W/srv.key" "$W/port2" \
		"$W/requests2.log" &
	pid2=$!
	for _ in $(seq 50); do [ -s "$W/port2" ] && break; sleep 0.1; done
	sed "s/127.0.0.1:$(cat "$W/port")/127.0.0.1:$(cat "$W/port2")/" "$W/kc.yaml" >"$W/kc2.yaml"
}

t_begin "faults: discovery dies beside complete lists: the run fails with the discovery's error, nothing written"
drop_server /apis/apps/v1
expect_exit 4 "$KC" collect --kubeconfig "$W/kc2.yaml" --case F --phase pre --no-reviews --agents '' \
	--max-retries 2 --max-response 512K --no-sign -o "$W/drop1.tar.gz"
kill "$pid2" 2>/dev/null; wait "$pid2" 2>/dev/null
grep -q 'discovery/apis/apps/v1' "$T_ERR" || t_fail "the error does not name the discovery document: $(head -c 300 "$T_ERR")"
grep -q 'list/' "$T_ERR" && t_fail "a list named in the error: $(head -c 300 "$T_ERR")"
grep -q '"path": "/api/v1/pods' "$W/requests2.log" || t_fail "the lists did not run"
[ ! -e "$W/drop1.tar.gz" ] || t_fail "a bundle was written"
t_pass

t_begin "faults: a list dies too (its twin): the list's error is the run's, not the discovery's"
drop_server /apis/apps/v1,/api/v1/serviceaccounts
expect_exit 4 "$KC" collect --kubeconfig "$W/kc2.yaml" --case F --phase pre --no-reviews --agents '' \
	--max-retries 2 --max-response 512K --no-sign -o "$W/drop2.tar.gz"
kill "$pid2" 2>/dev/null; wait "$pid2" 2>/dev/null
grep -q 'list/serviceaccounts' "$T_ERR" || t_fail "the error does not name the list: $(head -c 300 "$T_ERR")"
grep -q 'discovery/apis/apps/v1' "$T_ERR" && t_fail "the discovery's error over the list's: $(head -c 300 "$T_ERR")"
[ ! -e "$W/drop2.tar.gz" ] || t_fail "a bundle was written"
t_pass

t_summary
