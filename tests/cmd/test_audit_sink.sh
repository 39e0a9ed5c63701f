#!/bin/bash
# kcustody audit-sink and audit verify-chain against the real kube-apiserver
# (issue 17): a PRIVATE cluster ($KCUSTODY_CLUSTER_DIR-sink, purged at the
# end) whose apiserver has the audit webhook backend (batch mode, 1 s
# batches, first retry after 1 s) pointing at the sink beside its log
# backend.
#  - the sink's events equal the log backend's for the same window, by
#    auditID and stage, and each line is the apiserver's bytes;
#  - refusals: no client certificate (401), a certificate from another CA
#    (403), a malformed batch (400), an oversized one (413), a full disk
#    (429 + Retry-After): each logged and counted, the sink still serving;
#  - the sink SIGKILLed mid-stream and restarted within the apiserver's
#    retries: nothing acknowledged is lost, the chain verifies, the stop
#    is a gap; stopped past the retries: what is lost shows in the
#    apiserver's log, the chain still verifies, the gap is reported;
#  - tampering: a segment edited, removed, reordered or inserted, a digest
#    record removed, the wrong key: each caught (exit 3, or 1 for a removed
#    last record), the untouched copy passes.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}

PRIV=${KCUSTODY_CLUSTER_DIR:-/tmp/kcustody-cluster}-sink
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-sink.XXXX")
SINK_PID=
OTHER_PIDS=()
cleanup() {
	local p
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	for p in "${OTHER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	bash "$KC_REPO/tests/cluster/stop.sh" --purge "$PRIV" >/dev/null 2>&1
	bash "$KC_REPO/tests/tsa/stop.sh" "$W/tsa" >/dev/null 2>&1
	[ -n "${KCUSTODY_KEEP_SINK_TEST:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT

for tool in jq kubectl curl openssl python3; do
	command -v "$tool" >/dev/null || { echo "skip: $tool is needed"; echo "0 passed, 0 failed"; exit 0; }
done

# ------------------------------------------------------------------ PKI
P=$W/pki
mkdir -p "$P"
ossl() { openssl "$@" 2>>"$P/openssl.log"; }
cert() { # NAME CN CA EXT   (EC P-256 key, signed by CA)
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$2"
	ossl x509 -req -in "$P/$1.csr" -CA "$P/$3.crt" -CAkey "$P/$3.key" -set_serial "0x$(openssl rand -hex 8)" \
		-days 2 -extfile <(printf '%s\n' "$4") -out "$P/$1.crt"
}
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" \
	-subj /CN=sink-test-ca -days 2 -addext basicConstraints=critical,CA:TRUE
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/rogue-ca.key" -out "$P/rogue-ca.crt" \
	-subj /CN=rogue-ca -days 2 -addext basicConstraints=critical,CA:TRUE
cert server 127.0.0.1 ca "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
cert apiserver kube-apiserver-audit ca "extendedKeyUsage=clientAuth"
cert rogue kube-apiserver-audit rogue-ca "extendedKeyUsage=clientAuth"
"$KC" keygen -o "$W/sign.pem" --pub "$W/sign.pub" >/dev/null 2>&1
"$KC" keygen -o "$W/other.pem" --pub "$W/other.pub" >/dev/null 2>&1
for f in ca.crt server.crt apiserver.crt rogue.crt; do
	[ -s "$P/$f" ] || { echo "  FAIL setup: openssl made no $f"; cat "$P/openssl.log"; echo "0 passed, 1 failed"; exit 1; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
D=$W/sink
cat >"$W/webhook.yaml" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: sink
  cluster:
    server: https://127.0.0.1:$PORT/audit
    certificate-authority: $P/ca.crt
users:
- name: apiserver
  user:
    client-certificate: $P/apiserver.crt
    client-key: $P/apiserver.key
contexts:
- name: sink
  context: {cluster: sink, user: apiserver}
current-context: sink
EOF

# start_sink LOG [OPTION...]: the sink on $PORT into $D, waits until it listens
start_sink() {
	local log=$1 i
	shift
	"$KC" audit-sink --listen "127.0.0.1:$PORT" --tls-cert "$P/server.crt" --tls-key "$P/server.key" \
		--client-ca "$P/ca.crt" --dir "$D" --key "$W/sign.pem" --digest-interval 4s \
		--segment-bytes 262144 --max-batch-bytes 4194304 --min-free 0 --status "$W/status.json" "$@" \
		2>"$log" &
	SINK_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q 'listening on' "$log" 2>/dev/null && return 0
		kill -0 "$SINK_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# post BODYFILE [CURL-OPTION...]: prints the HTTP status
post() {
	local body=$1
	shift
	curl -s -o "$W/post.out" -D "$W/post.hdr" -w '%{http_code}' -A kcustody-test --cacert "$P/ca.crt" \
		-H 'Content-Type: application/json' --data-binary "@$body" "$@" "https://127.0.0.1:$PORT/audit"
}
# keys FILE...: "auditID stage" of each event line, sorted, unique
keys() { cat "$@" | jq -r 'select(.auditID) | "\(.auditID) \(.stage)"' 2>/dev/null | sort -u; }
sink_events() { cat "$D"/segment-*.jsonl 2>/dev/null; }
log_events() { kc_audit_pieces "$KC_AUDIT_DIR"; }
# window_keys FILE CUT: keys of events whose stageTimestamp is before CUT (RFC 3339, UTC)
window_keys() { jq -r --arg cut "$2" 'select(.auditID and .stageTimestamp < $cut) | "\(.auditID) \(.stage)"' "$1" 2>/dev/null | sort -u; }
now() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
# compare_window NAME CUT: the log's and the sink's events before CUT, by key
compare_window() {
	log_events >"$W/log.jsonl"
	sink_events >"$W/sink.jsonl"
	window_keys "$W/log.jsonl" "$2" >"$W/log.keys"
	window_keys "$W/sink.jsonl" "$2" >"$W/sink.keys"
	comm -23 "$W/log.keys" "$W/sink.keys" >"$W/missing.keys"
	comm -13 "$W/log.keys" "$W/sink.keys" >"$W/extra.keys"
}

# ------------------------------------------------------------------ cluster
t_begin "audit-sink: sink up, private cluster up with the webhook backend"
mkdir -p "$D"
start_sink "$W/sink1.log" || t_fail "the sink did not start: $(cat "$W/sink1.log")"
if ! KCUSTODY_AUDIT_WEBHOOK_CONFIG=$W/webhook.yaml bash "$KC_REPO/tests/cluster/start.sh" "$PRIV" >"$W/env.sh" 2>"$T_ERR"; then
	t_fail "cannot start the private cluster in $PRIV"
	tail -n 5 "$T_ERR"
	t_summary
	exit 1
fi
# shellcheck source=/dev/null
. "$W/env.sh"
grep -q -- '--audit-webhook-config-file' "/proc/$(cat "$PRIV/apiserver.pid")/cmdline" ||
	t_fail "the apiserver runs without --audit-webhook-config-file"
t_pass

kc_admin create namespace sink-a >/dev/null 2>&1
kc_admin -n sink-a create serviceaccount agent >/dev/null 2>&1
kc_admin -n sink-a create rolebinding agent-view --clusterrole=view --serviceaccount=sink-a:agent >/dev/null 2>&1
kc_admin get serviceaccounts -A >/dev/null 2>&1
CUT1=$(now)
sleep 4 # batches are sent every second

t_begin "audit-sink: the sink's events equal the log backend's for the same window (auditID, stage)"
compare_window "first" "$CUT1"
n=$(wc -l <"$W/log.keys")
[ "$n" -ge 50 ] || t_fail "only $n events in the log backend's window"
[ -s "$W/missing.keys" ] && t_fail "$(wc -l <"$W/missing.keys") events in the log backend but not the sink, e.g. $(head -n 2 "$W/missing.keys" | tr '\n' ' ')"
[ -s "$W/extra.keys" ] && t_fail "$(wc -l <"$W/extra.keys") events in the sink but not the log backend, e.g. $(head -n 2 "$W/extra.keys" | tr '\n' ' ')"
# the request this test made is there, at the RBAC objects' Request level
n=$(jq -c 'select(.objectRef.resource == "rolebindings" and .verb == "create" and .objectRef.namespace == "sink-a"
	and .stage == "ResponseComplete" and .requestObject.roleRef.name == "view") | .auditID' "$W/sink.jsonl" | wc -l)
[ "$n" = 1 ] || t_fail "the rolebinding create is $n times in the sink with its requestObject (log: $(jq -c 'select(.objectRef.resource == "rolebindings" and .verb == "create") | [.stage, .objectRef.namespace, .requestObject.roleRef.name]' "$W/log.jsonl" | head -n 3 | tr '\n' ' '))"
# every line is one event object, as the EventList carried it (its items
# have no kind/apiVersion of their own: the list has them)
jq -e -s 'length > 50 and all(.[]; .auditID and .stage and .level)' "$W/sink.jsonl" >/dev/null ||
	t_fail "a segment line is not an audit event"
t_pass

t_begin "audit-sink: the window comparison fails when the sink lacks one event (negative twin)"
grep -v -F "$(head -n 1 "$W/log.keys" | cut -d' ' -f1)" "$W/sink.jsonl" >"$W/sink-minus.jsonl"
window_keys "$W/sink-minus.jsonl" "$CUT1" >"$W/sink-minus.keys"
[ -n "$(comm -23 "$W/log.keys" "$W/sink-minus.keys")" ] || t_fail "a missing event was not noticed"
t_pass

t_begin "audit-sink: lines are the apiserver's bytes (parsed and re-serialised, equal to the log backend's event)"
# The sink never re-serialises: compare each sink event with the log
# backend's event of the same key as parsed JSON (the two backends encode
# the same Event), and the sink's line bytes with the line jq -c would make
# only as a check that nothing was pretty-printed or changed.
python3 - "$W/log.jsonl" "$W/sink.jsonl" "$W/log.keys" >"$T_OUT" 2>&1 <<'EOF' || t_fail "$(tail -n 3 "$T_OUT")"
import json, sys
want = set(l.strip() for l in open(sys.argv[3]))
log = {}
for l in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(l); log[f"{e['auditID']} {e['stage']}"] = e
same = 0
for l in open(sys.argv[2], encoding="utf-8"):
    assert l.endswith("\n") and "\n" not in l[:-1]
    e = json.loads(l); k = f"{e['auditID']} {e['stage']}"
    if k in want:
        want_e = dict(log[k]); want_e.pop("kind", None); want_e.pop("apiVersion", None)
        assert want_e == e, f"event {k} differs from the log backend's: {sorted(set(want_e.items()) ^ set(e.items()), key=str)[:4] if all(isinstance(v, str) for v in list(e.values()) + list(want_e.values())) else (sorted(want_e), sorted(e))}"
        same += 1
assert same >= 50, same
print("equal", same)
EOF
t_pass

# ------------------------------------------------------------------ refusals
printf '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"00000000-0000-0000-0000-00000000test","stage":"ResponseComplete","stageTimestamp":"%s"}]}' "$(now)" >"$W/good.json"
printf '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"kind":"Event"' >"$W/malformed.json"
python3 -c 'import json,sys; print(json.dumps({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"kind":"Event","auditID":"big","pad":"x"*5000000}]}))' >"$W/big.json"

t_begin "audit-sink: a client without the apiserver's certificate is refused 401, one from another CA 403, logged"
code=$(post "$W/good.json")
[ "$code" = 401 ] || t_fail "no client certificate: HTTP $code, want 401"
code=$(post "$W/good.json" --cert "$P/rogue.crt" --key "$P/rogue.key")
[ "$code" = 403 ] || t_fail "certificate from another CA: HTTP $code, want 403"
expect_grep 'refused 401 Unauthorized from 127\.0\.0\.1:[0-9]+: no client certificate' "$W/sink1.log"
expect_grep 'refused 403 Forbidden from 127\.0\.0\.1:[0-9]+: client certificate not issued' "$W/sink1.log"
sink_events >"$W/sink.jsonl"
grep -q 00000000test "$W/sink.jsonl" && t_fail "a refused batch was written"
t_pass

t_begin "audit-sink: the apiserver's certificate is accepted (positive twin), the batch written and fsync'd"
code=$(post "$W/good.json" --cert "$P/apiserver.crt" --key "$P/apiserver.key")
[ "$code" = 200 ] || t_fail "HTTP $code, want 200"
sink_events >"$W/sink.jsonl"
grep -qF "$(jq -c .items[0] "$W/good.json")" "$W/sink.jsonl" || t_fail "the accepted event is not in a segment byte for byte"
t_pass

t_begin "audit-sink: a malformed batch is refused 400 and an oversized one 413, logged, the sink keeps serving"
code=$(post "$W/malformed.json" --cert "$P/apiserver.crt" --key "$P/apiserver.key")
[ "$code" = 400 ] || t_fail "malformed: HTTP $code, want 400"
code=$(post "$W/big.json" --cert "$P/apiserver.crt" --key "$P/apiserver.key")
[ "$code" = 413 ] || t_fail "oversized: HTTP $code, want 413"
expect_grep 'refused 400 Bad Request' "$W/sink1.log"
expect_grep 'refused 413 Payload Too Large .*over the 4194304-byte limit' "$W/sink1.log"
kill -0 "$SINK_PID" 2>/dev/null || t_fail "the sink died"
code=$(post "$W/good.json" --cert "$P/apiserver.crt" --key "$P/apiserver.key")
[ "$code" = 200 ] || t_fail "after the refusals: HTTP $code, want 200"
kill -USR1 "$SINK_PID"
sleep 0.5
jq -e '.refusedAuth == 2 and .refusedMalformed == 1 and .refusedTooLarge == 1 and .refused == 4' "$W/status.json" >/dev/null ||
	t_fail "counters: $(cat "$W/status.json")"
expect_grep 'counters: received [0-9]+ events, written [0-9]+ .*refused 4 requests \(auth 2, malformed 1, too large 1' "$W/sink1.log"
t_pass

t_begin "audit-sink: below --min-free a batch gets 429 with Retry-After, nothing written; with room 200 (twin)"
D2=$W/sink-full PORT2=$(free_port)
for mf in 1099511627776 0; do
	"$KC" audit-sink --listen "127.0.0.1:$PORT2" --tls-cert "$P/server.crt" --tls-key "$P/server.key" \
		--client-ca "$P/ca.crt" --dir "$D2" --key "$W/sign.pem" --min-free "$mf" --retry-after 7 2>"$W/full.log" &
	pid=$!
	OTHER_PIDS+=("$pid")
	for ((i = 0; i < 50; i++)); do grep -q 'listening on' "$W/full.log" && break; sleep 0.1; done
	code=$(curl -s -o /dev/null -D "$W/full.hdr" -w '%{http_code}' -A kcustody-test --cacert "$P/ca.crt" \
		--cert "$P/apiserver.crt" --key "$P/apiserver.key" --data-binary "@$W/good.json" "https://127.0.0.1:$PORT2/")
	if [ "$mf" = 0 ]; then
		[ "$code" = 200 ] || t_fail "with room: HTTP $code, want 200"
	else
		[ "$code" = 429 ] || t_fail "disk below --min-free: HTTP $code, want 429"
		grep -qi '^Retry-After: 7' "$W/full.hdr" || t_fail "no Retry-After: 7 in $(tr -d '\r' <"$W/full.hdr" | tr '\n' ' ')"
		grep -q 'refused 429' "$W/full.log" || t_fail "the 429 was not logged"
		[ -z "$(cat "$D2"/segment-*.jsonl 2>/dev/null)" ] || t_fail "a refused batch was written"
	fi
	kill "$pid"
	wait "$pid" 2>/dev/null
done
expect_grep 'stopped: received 1 events, written 1' "$W/full.log"
t_pass

# ------------------------------------------------------------------ SIGKILL
t_begin "audit-sink: SIGKILL mid-stream, restarted within the retries: nothing acknowledged lost, the stop is a gap"
( for i in $(seq 1 40); do kc_admin -n sink-a create configmap "cm-$i" --from-literal=k=v >/dev/null 2>&1; sleep 0.1; done ) &
load=$!
sleep 1.5
kill -KILL "$SINK_PID"
wait "$SINK_PID" 2>/dev/null
# was a segment open (named by no record) when it died?
open_seg=$(ls "$D" | grep '^segment-' | tail -n 1)
grep -qF "\"$open_seg\"" "$D"/digest-*.json && open_seg=
sleep 1
start_sink "$W/sink2.log" || t_fail "the sink did not restart: $(cat "$W/sink2.log")"
wait "$load"
CUT2=$(now)
sleep 12 # batches refused while the sink was down are retried (1 s, 1.5 s, 2.25 s, ...)
compare_window second "$CUT2"
[ -s "$W/missing.keys" ] && t_fail "$(wc -l <"$W/missing.keys") logged events missing from the sink, e.g. $(head -n 2 "$W/missing.keys" | tr '\n' ' ')"
grep -q "Error in audit plugin 'webhook'" "$PRIV/apiserver.log" && t_fail "the apiserver dropped a batch: $(grep -m1 "Error in audit plugin" "$PRIV/apiserver.log" | cut -c1-200)"
n=$(jq -r 'select(.objectRef.resource == "configmaps" and .verb == "create" and .stage == "ResponseComplete" and .objectRef.namespace == "sink-a") | .objectRef.name | select(startswith("cm-"))' "$W/sink.jsonl" | sort -u | wc -l)
[ "$n" = 40 ] || t_fail "$n of 40 configmap creates in the sink"
if [ -n "$open_seg" ]; then
	expect_grep "sealing $open_seg left by a run that stopped uncleanly" "$W/sink2.log"
else
	expect_no_grep 'left by a run that stopped uncleanly' "$W/sink2.log"
fi
rc=0
"$KC" audit verify-chain "$D" --pubkey "$W/sign.pub" --json >"$T_OUT" 2>"$T_ERR" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || t_fail "verify-chain exit $rc, want 0 or 1 (1: the open segment is unsealed)"
jq -e '.tampering == [] and (.gaps | map(select(.why | test("stopped and started"))) | length) == 1 and .runs == 2' "$T_OUT" >/dev/null ||
	t_fail "chain report: $(jq -c '{result, gaps, tampering, runs}' "$T_OUT")"
t_pass

t_begin "audit-sink: stopped past the apiserver's retries: the loss shows in its log, the chain still verifies with a gap"
kill -KILL "$SINK_PID"
wait "$SINK_PID" 2>/dev/null
kc_admin -n sink-a create configmap lost-while-down --from-literal=k=v >"$T_DIR/kubectl.out" 2>&1 ||
	t_fail "kubectl: $(cat "$T_DIR/kubectl.out")"
sleep 14 # 1 + 1.5 + 2.25 + 3.4 s of backoff (+20% jitter) and five attempts: the batch is dropped
start_sink "$W/sink3.log" || t_fail "the sink did not restart: $(cat "$W/sink3.log")"
sleep 3
grep -q "Error in audit plugin 'webhook' affecting [0-9]* audit events" "$PRIV/apiserver.log" ||
	t_fail "the apiserver logged no dropped batch"
# (files, then grep: grep -q on a pipe ends it early, and pipefail would
# count that; not jq -e: the log's last line may be half written)
log_events >"$W/log.jsonl"
sink_events >"$W/sink.jsonl"
grep -q '"name":"lost-while-down"' "$W/log.jsonl" || t_fail "the log backend lacks the create"
grep -q '"name":"lost-while-down"' "$W/sink.jsonl" && t_fail "the dropped event is in the sink"
rc=0
"$KC" audit verify-chain "$D" --pubkey "$W/sign.pub" --json >"$T_OUT" 2>"$T_ERR" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || t_fail "verify-chain exit $rc, want 0 or 1"
jq -e '.tampering == [] and .runs == 3 and (.gaps | length) >= 2' "$T_OUT" >/dev/null ||
	t_fail "chain report: $(jq -c '{result, gaps, tampering, runs}' "$T_OUT")"
t_pass

t_begin "audit-sink: SIGTERM seals the open segment: verify-chain exit 0, text report names the gaps"
kill -TERM "$SINK_PID"
wait "$SINK_PID"
rc=$?
SINK_PID=
[ "$rc" = 0 ] || t_fail "the sink exited $rc on SIGTERM"
expect_grep 'stopped: received [0-9]+ events' "$W/sink3.log"
expect_exit 0 "$KC" audit verify-chain "$D" --pubkey "$W/sign.pub"
expect_grep '^audit chain .*: intact$' "$T_OUT"
expect_grep '^gap: .* \(sink stopped and started again\)$' "$T_OUT"
expect_no_grep 'TAMPERED|unsealed' "$T_OUT"
# the independent check of docs/AUDIT_SINK.md: openssl and sha256sum alone
last=$(ls "$D"/digest-*.json | tail -n 1)
openssl pkeyutl -verify -pubin -inkey "$W/sign.pub" -rawin -in "$last" -sigfile "$last.sig" >/dev/null 2>&1 ||
	t_fail "openssl does not verify $last"
prev=$(jq -r .previous.file "$last")
[ "$(jq -r .previous.sha256 "$last")" = "$(sha256sum "$D/$prev" | cut -d' ' -f1)" ] || t_fail "previous hash differs from sha256sum"
t_pass

t_begin "audit-sink: audit and collect read a sink folder: segments only, continuity proven by the signed chain"
expect_exit 0 "$KC" audit --audit-log "$D" --summary --audit-chain-pubkey "$W/sign.pub"
jq -e '(.chains | length) == 1 and .chains[0].continuity == "proven by signed chain" and .chains[0].signatures_checked
	and all(.sources[]; .name | test("^segment-[0-9]{8}\\.jsonl$")) and .totals.events == .chains[0].events' "$T_OUT" >/dev/null ||
	t_fail "summary: $(jq -c '{chains: [.chains[]? | {continuity, result, events}], sources: [.sources[].name], events: .totals.events}' "$T_OUT" | cut -c1-300)"
expect_exit 0 "$KC" collect --case SINK-1 --phase post --operator tester --kubeconfig "$KC_KUBECONFIG" --no-reviews \
	--audit-log "$D" --audit-chain-pubkey "$W/sign.pub" --audit-all-subjects --out-dir "$W/bundle"
jq -e '.chains[0].continuity == "proven by signed chain"' "$W/bundle/audit/sources.json" >/dev/null ||
	t_fail "collect's sources.json: $(jq -c .chains "$W/bundle/audit/sources.json" 2>&1 | cut -c1-300)"
jq -e '.audit.continuity[0].continuity == "proven by signed chain"' "$W/bundle/MANIFEST.json" >/dev/null ||
	t_fail "MANIFEST.json audit: $(jq -c .audit "$W/bundle/MANIFEST.json" 2>&1 | cut -c1-300)"
grep -q '"name":"lost-while-down"' "$W/bundle/audit/segment.jsonl" && t_fail "collect made up the lost event"
grep -q '"name":"cm-40"' "$W/bundle/audit/segment.jsonl" || t_fail "collect's segment lacks the sink's events"
# without the key: hashes and links only, and said so
expect_exit 0 "$KC" audit --audit-log "$D" --summary
jq -e '.chains[0].signatures_checked == false and (.chains[0].continuity | test("signatures not checked"))' "$T_OUT" >/dev/null ||
	t_fail "keyless summary: $(jq -c .chains "$T_OUT" | cut -c1-300)"
t_pass

t_begin "audit-sink: audit on an edited sink folder: chain broken, exit 3 (twin)"
rm -rf "$W/copy"
cp -a "$D" "$W/copy"
sed -i '1s/"auditID":"./"auditID":"X/' "$W/copy/$(ls "$D" | grep -m1 '^segment-')"
expect_exit 3 "$KC" audit --audit-log "$W/copy" --summary --audit-chain-pubkey "$W/sign.pub"
jq -e '.chains[0].result == "tampered" and (.chains[0].continuity | startswith("broken"))' "$T_OUT" >/dev/null ||
	t_fail "summary: $(jq -c .chains "$T_OUT" | cut -c1-300)"
expect_grep 'chain of .* does not verify' "$T_ERR"
expect_exit 1 "$KC" collect --case SINK-1 --phase post --operator tester --kubeconfig "$KC_KUBECONFIG" --no-reviews \
	--audit-log "$W/copy" --audit-chain-pubkey "$W/sign.pub" --audit-all-subjects --out-dir "$W/bundle-bad"
jq -e '(.audit.continuity[0].continuity | startswith("broken")) and
	any(.items[]?; .name == "audit/segment" and .status == "partial")' "$W/bundle-bad/MANIFEST.json" >/dev/null ||
	t_fail "MANIFEST.json of the tampered folder: $(jq -c '{audit: .audit.continuity, items: [.items[]? | select(.name == "audit/segment")]}' "$W/bundle-bad/MANIFEST.json" 2>&1 | cut -c1-300)"
t_pass

# ------------------------------------------------------------------ chain in the bundle
# collect copies the window's segments and their signed records into
# audit/chain/1/; verify, diff and the report re-check them from the
# bundle's own members (docs/FORMAT.md "audit/chain/").
"$KC" keygen -o "$W/bundle.pem" --pub "$W/bundle.pub" >/dev/null 2>&1
COLLECT=(collect --case SINK-2 --operator tester --kubeconfig "$KC_KUBECONFIG" --no-reviews
	--audit-log "$D" --audit-chain-pubkey "$W/sign.pub" --audit-all-subjects --since "$CUT2")
# PRE from the log backend (continuity inferred), POST and POST2 from the sink
"$KC" collect --case SINK-2 --operator tester --kubeconfig "$KC_KUBECONFIG" --no-reviews --audit-log "$KC_AUDIT_DIR" \
	--audit-all-subjects --since "$CUT2" --phase pre --key "$W/bundle.pem" -o "$W/pre.tar.gz" >/dev/null 2>&1
t_begin "audit-sink: collect copies the window's chain into the bundle; verify proves it from the bundle alone"
expect_exit 0 "$KC" "${COLLECT[@]}" --phase post --key "$W/bundle.pem" -o "$W/post.tar.gz"
mkdir -p "$W/post.x" && tar -xzf "$W/post.tar.gz" -C "$W/post.x" && X=$(echo "$W"/post.x/*)
C=$X/audit/chain/1
[ -f "$C/CHAIN.json" ] || t_fail "no audit/chain/1/CHAIN.json: $(ls "$X/audit")"
# only the window: fewer segments than the folder, an anchor record before them
nb=$(ls "$C" | grep -c '^segment-')
[ "$nb" -ge 1 ] && [ "$nb" -lt "$(ls "$D" | grep -c '^segment-')" ] || t_fail "$nb segments copied of $(ls "$D" | grep -c '^segment-')"
anchor=$(jq -r .anchor "$C/CHAIN.json")
[ -f "$C/$anchor" ] && [ -f "$C/$anchor.sig" ] || t_fail "anchor '$anchor' not copied"
for f in $(ls "$C" | grep -E '^(segment-|digest-)'); do cmp -s "$C/$f" "$D/$f" || t_fail "$f is not the sink's bytes"; done
grep -qF "(audit/chain/1/$(ls "$C" | grep -m1 '^segment-')) = " "$X/SHA256SUMS" || t_fail "chain members not in SHA256SUMS"
# an auditor's own check with openssl and sha256sum (docs/FORMAT.md)
for r in $(ls "$C" | grep -E '^digest-[0-9]+\.json$'); do
	openssl pkeyutl -verify -pubin -inkey "$W/sign.pub" -rawin -in "$C/$r" -sigfile "$C/$r.sig" >/dev/null 2>&1 || t_fail "openssl: $r"
	[ "$r" = "$anchor" ] || [ "$(jq '.segments | length' "$C/$r")" = 0 ] && continue
	(cd "$C" && jq -r '.segments[] | "\(.sha256)  \(.file)"' "$r" | sha256sum -c --quiet) || t_fail "sha256sum: $r"
done
expect_exit 0 "$KC" verify "$W/post.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub"
expect_grep "^  audit +ok +proven by signed chain, $nb segments, [0-9]+ events, gaps: " "$T_OUT"
expect_exit 0 "$KC" verify "$W/post.tar.gz" --pubkey "$W/bundle.pub"
expect_grep "^  audit +ok +proven by signed chain, checked with the sink key carried in the bundle" "$T_OUT"
t_pass

t_begin "audit-sink: diff and the report show each side's audit continuity; diff flags PRE inferred vs POST signed"
"$KC" "${COLLECT[@]}" --phase post --key "$W/bundle.pem" -o "$W/post2.tar.gz" >/dev/null 2>&1 || t_fail "second collect"
expect_exit 0 "$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --pubkey "$W/bundle.pub"
expect_grep '^Audit continuity \(DIFFERS between PRE and POST\):$' "$T_OUT"
expect_grep '^  PRE:  inferred from timestamps' "$T_OUT"
expect_grep '^  POST: proven by signed chain, checked with the sink key carried in the bundle .*, [0-9]+ segments, [0-9]+ events, gaps: ' "$T_OUT"
expect_exit 0 "$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --pubkey "$W/bundle.pub" --format json
jq -e '.audit.continuity.differs == true and .audit.continuity.pre.state == "inferred" and
	.audit.continuity.post.state == "signed chain (bundle'"'"'s key)"' "$T_OUT" >/dev/null || t_fail "diff json: $(jq -c .audit.continuity "$T_OUT")"
expect_exit 0 "$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --pubkey "$W/bundle.pub" --format md
expect_grep '^\*\*PRE and POST differ in audit continuity.\*\*$' "$T_OUT"
expect_grep '^\| POST \| signed chain' "$T_OUT"
# twin: both from the sink: the same continuity, no flag
expect_exit 0 "$KC" diff "$W/post.tar.gz" "$W/post2.tar.gz" --pubkey "$W/bundle.pub"
expect_grep '^Audit continuity:$' "$T_OUT"
expect_no_grep 'DIFFERS' "$T_OUT"
expect_exit 0 "$KC" report "$W/post.tar.gz" --pubkey "$W/bundle.pub" --diff "$W/pre.tar.gz" -o "$W/report.html"
grep -q 'id="audit-continuity"><b>Audit continuity:</b> proven by signed chain' "$W/report.html" || t_fail "report: no signed continuity"
grep -q 'PRE and POST differ in audit continuity' "$W/report.html" || t_fail "report: no continuity difference"
expect_exit 0 "$KC" report "$W/pre.tar.gz" --pubkey "$W/bundle.pub" -o "$W/report-pre.html"
grep -q 'id="audit-continuity"><b>Audit continuity:</b> inferred from timestamps' "$W/report-pre.html" || t_fail "report of PRE: $(grep -o 'id="audit-continuity">[^<]*<b>[^<]*</b>[^<]*' "$W/report-pre.html")"
t_pass

t_begin "audit-sink: diff and report --audit-chain-pubkey: the chain checked with the given key (twin: the bundle's key above)"
expect_exit 0 "$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub"
expect_grep '^  POST: proven by signed chain, [0-9]+ segments, [0-9]+ events, gaps: ' "$T_OUT"
expect_no_grep 'carried in the bundle' "$T_OUT"
expect_exit 0 "$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" --format json
jq -e '.audit.continuity.post.state == "signed chain" and .audit.continuity.pre.state == "inferred"' "$T_OUT" >/dev/null ||
	t_fail "diff json: $(jq -c .audit.continuity "$T_OUT")"
expect_exit 0 "$KC" report "$W/post.tar.gz" --pubkey "$W/bundle.pub" --diff "$W/pre.tar.gz" \
	--audit-chain-pubkey "$W/sign.pub" -o "$W/report-key.html"
grep -q 'id="audit-continuity"><b>Audit continuity:</b> proven by signed chain, [0-9]* segments' "$W/report-key.html" ||
	t_fail "report: $(grep -o 'id="audit-continuity">[^<]*<b>[^<]*</b>[^<]*' "$W/report-key.html")"
grep -q 'carried in the bundle' "$W/report-key.html" && t_fail "report: the given key not used"
grep -q 'carried in the bundle' "$W/report.html" || t_fail "report without the key: not the bundle's key"
# a file that is not a public key: usage error, nothing checked
expect_exit 2 "$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/missing.pub"
expect_grep 'audit-chain-pubkey' "$T_ERR"
expect_exit 2 "$KC" report "$W/post.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/missing.pub" -o "$W/r-missing.html"
expect_grep 'audit-chain-pubkey' "$T_ERR"
[ ! -e "$W/r-missing.html" ] || t_fail "report written on a usage error"
t_pass

t_begin "audit-sink: diff and report --audit-chain-pubkey with the wrong key: the chain fails as in verify, exit 3"
expect_exit 3 "$KC" diff "$W/pre.tar.gz" "$W/post.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/other.pub"
expect_grep "is not a valid bundle: audit check failed: broken: .*Ed25519 signature does not match" "$T_ERR"
expect_exit 3 "$KC" report "$W/post.tar.gz" --pubkey "$W/bundle.pub" --diff "$W/pre.tar.gz" \
	--audit-chain-pubkey "$W/other.pub" -o "$W/report-wrong.html"
grep -q 'id="audit-continuity" class="bad"><b>Audit continuity:</b> broken: .*Ed25519 signature does not match' "$W/report-wrong.html" ||
	t_fail "report: $(grep -o 'id="audit-continuity"[^>]*>[^<]*<b>[^<]*</b>[^<]*' "$W/report-wrong.html")"
# report on its own says what verify says: the page is written, with the
# broken chain in red, an AUDIT CHAIN BROKEN banner and an INVALID
# verification card, and exits 3 (before: a "valid" card and exit 0)
expect_exit 3 "$KC" report "$W/post.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/other.pub" -o "$W/report-wrong1.html"
expect_grep "is INVALID \(audit check failed" "$T_ERR"
grep -q 'id="audit-continuity" class="bad"><b>Audit continuity:</b> broken: ' "$W/report-wrong1.html" ||
	t_fail "report alone: $(grep -o 'id="audit-continuity"[^>]*>[^<]*<b>[^<]*</b>[^<]*' "$W/report-wrong1.html")"
grep -q 'id="audit-chain-banner".*AUDIT CHAIN BROKEN.*Ed25519 signature does not match' "$W/report-wrong1.html" ||
	t_fail "no AUDIT CHAIN BROKEN banner naming the problem"
grep -q '>INVALID<' "$W/report-wrong1.html" || t_fail "the verification card does not say INVALID"
# the twin: the right key, no banner, exit 0
expect_exit 0 "$KC" report "$W/post.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" -o "$W/report-right1.html"
! grep -q 'audit-chain-banner' "$W/report-right1.html" || t_fail "banner with the right key"
! grep -q '>INVALID<' "$W/report-right1.html" || t_fail "INVALID with the right key"
t_pass

# reseal NAME SCRIPT: the evidence folder edited, then sealed again with
# the bundle key (an attacker holding the bundle key, not the sink key)
"$KC" "${COLLECT[@]}" --phase post --out-dir "$W/ev" >/dev/null 2>&1
reseal() {
	rm -rf "$W/ev2" "$W/re.tar.gz"
	cp -a "$W/ev" "$W/ev2"
	(cd "$W/ev2/audit/chain/1" && eval "$1") || t_fail "could not tamper: $1"
	"$KC" seal "$W/ev2" --manifest "$W/ev2/MANIFEST.json" --key "$W/bundle.pem" -o "$W/re.tar.gz" >/dev/null 2>"$T_ERR" ||
		t_fail "seal: $(cat "$T_ERR")"
}
seg1=$(ls "$W/ev/audit/chain/1" | grep -m1 '^segment-')
dig1=$(ls "$W/ev/audit/chain/1" | grep -E '^digest-[0-9]+\.json$' | sed -n 2p)
t_begin "audit-sink: re-sealed untouched evidence folder verifies (twin of the forgeries below)"
reseal true
expect_exit 0 "$KC" verify "$W/re.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub"
expect_grep '^  audit +ok +proven by signed chain' "$T_OUT"
t_pass

t_begin "audit-sink: a chain member over its cap (a 2 MiB token) cannot be checked: verify and report both say INVALID (exit 3)"
reseal "head -c 2097152 /dev/zero > $dig1.tsr"
expect_exit 3 "$KC" verify "$W/re.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub"
expect_grep '^  audit +FAILED +broken: the audit members cannot be checked' "$T_OUT"
expect_exit 3 "$KC" report "$W/re.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" -o "$W/report-bigtsr.html"
grep -q 'id="audit-chain-banner".*AUDIT CHAIN BROKEN' "$W/report-bigtsr.html" || t_fail "report: no AUDIT CHAIN BROKEN banner"
grep -q 'id="audit-continuity" class="bad"><b>Audit continuity:</b> broken: the audit members cannot be checked' "$W/report-bigtsr.html" ||
	t_fail "report: $(grep -o 'id="audit-continuity"[^>]*>[^<]*<b>[^<]*</b>[^<]*' "$W/report-bigtsr.html")"
t_pass

# stamp_records: in a chain excerpt, an RFC 3161 token from the loopback
# TSA for every record, as audit-sink --tsa makes it (imprint: SHA-256 of
# digest-N.json), stored as digest-N.json.tsr
TSA_URL=$(bash "$KC_REPO/tests/tsa/start.sh" "$W/tsa") || TSA_URL=
bash "$KC_REPO/tests/tsa/setup.sh" "$W/tsa-other" >/dev/null 2>&1 # another TSA's CA
stamp_records() {
	local r
	for r in digest-*.json; do
		openssl ts -query -data "$r" -sha256 -cert -out "$r.tsq" 2>/dev/null &&
			curl -sf -H 'Content-Type: application/timestamp-query' --data-binary "@$r.tsq" "$TSA_URL" -o "$r.tsr" &&
			rm "$r.tsq" || return 1
	done
}
# flip_last FILE: its last byte changed (a token's: the TSA's signature)
flip_last() { python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-1] ^= 1; open(p, "wb").write(b)' "$1"; }
t_begin "audit-sink: the chain's time-stamp tokens in a bundle: verify --audit-chain-tsa-ca checks every one (exit 0); without a CA 'present, not checked'"
[ -n "$TSA_URL" ] || t_fail "the loopback TSA did not start"
reseal stamp_records
ntsr=$(ls "$W/ev2/audit/chain/1" | grep -c '\.json\.tsr$')
[ "$ntsr" -ge 2 ] || t_fail "$ntsr tokens made"
cp "$W/re.tar.gz" "$W/stamped.tar.gz"
expect_exit 0 "$KC" verify "$W/stamped.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" \
	--audit-chain-tsa-ca "$W/tsa/ca.pem"
expect_grep "^  audit +ok +proven by signed chain, .*; time-stamps: every record's token verified \($ntsr\)$" "$T_OUT"
expect_exit 0 "$KC" verify "$W/stamped.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" \
	--audit-chain-tsa-ca "$W/tsa/ca.pem" --json
jq -e --argjson n "$ntsr" '.auditContinuity.chains[0].timestamps | .checked and .verified == $n and .records == $n and
	.missing == [] and (.firstStamp | length) > 0' "$T_OUT" >/dev/null ||
	t_fail "json: $(jq -c .auditContinuity.chains[0].timestamps "$T_OUT")"
expect_exit 0 "$KC" verify "$W/stamped.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub"
expect_grep "; time-stamps: $ntsr tokens present, not checked \(--audit-chain-tsa-ca checks them\)$" "$T_OUT"
expect_exit 0 "$KC" diff "$W/post.tar.gz" "$W/stamped.tar.gz" --pubkey "$W/bundle.pub"
expect_grep "POST: .*; time-stamps: $ntsr tokens present, not checked" "$T_OUT"
# diff and report take the same two options as verify
expect_exit 0 "$KC" diff "$W/post.tar.gz" "$W/stamped.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" \
	--audit-chain-tsa-ca "$W/tsa/ca.pem"
expect_grep "^  POST: proven by signed chain, .*; time-stamps: every record's token verified \($ntsr\)$" "$T_OUT"
expect_exit 0 "$KC" report "$W/stamped.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" \
	--audit-chain-tsa-ca "$W/tsa/ca.pem" -o "$W/report-stamped.html"
grep -q "time-stamps: every record&#39;s token verified ($ntsr)\|time-stamps: every record's token verified ($ntsr)" "$W/report-stamped.html" ||
	t_fail "report: $(grep -o 'id="audit-continuity"[^>]*>[^<]*<b>[^<]*</b>[^<]*' "$W/report-stamped.html")"
# the same bundle without tokens says nothing of time-stamps (twin)
expect_exit 0 "$KC" verify "$W/post.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub"
expect_no_grep 'time-stamps' "$T_OUT"
t_pass
tsr1=$(ls "$W/ev/audit/chain/1" | grep -E '^digest-[0-9]+\.json$' | sed -n 2p)
tsr2=$(ls "$W/ev/audit/chain/1" | grep -E '^digest-[0-9]+\.json$' | sed -n 3p)
t_begin "audit-sink: a bundle's chain token edited, or another record's: verify --audit-chain-tsa-ca fails, exit 3"
reseal "stamp_records && flip_last $tsr1.tsr"
expect_exit 3 "$KC" verify "$W/re.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" \
	--audit-chain-tsa-ca "$W/tsa/ca.pem"
expect_grep "^  audit +FAILED +broken" "$T_OUT"
expect_grep "chain audit/chain/1: $tsr1\.tsr: time-stamp token does not match the record or is not signed" "$T_OUT"
reseal "stamp_records && cp $tsr2.tsr $tsr1.tsr"
expect_exit 3 "$KC" verify "$W/re.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" \
	--audit-chain-tsa-ca "$W/tsa/ca.pem"
expect_grep "chain audit/chain/1: $tsr1\.tsr: time-stamp token does not match" "$T_OUT"
# another TSA's CA: every token refused; --tsa-ca alone is the default CA
expect_exit 3 "$KC" verify "$W/stamped.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" \
	--audit-chain-tsa-ca "$W/tsa-other/ca.pem"
expect_grep "^  audit +FAILED +broken" "$T_OUT"
expect_exit 3 "$KC" verify "$W/stamped.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" \
	--tsa-ca "$W/tsa-other/ca.pem"
expect_grep "chain audit/chain/1: digest-[0-9]+\.json\.tsr: time-stamp token does not match" "$T_OUT"
# diff and report --audit-chain-tsa-ca with another TSA's CA: refused as in verify
expect_exit 3 "$KC" diff "$W/post.tar.gz" "$W/stamped.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-tsa-ca "$W/tsa-other/ca.pem"
expect_grep "audit check failed: broken: .*time-stamp token does not match" "$T_ERR"
expect_exit 3 "$KC" report "$W/stamped.tar.gz" --pubkey "$W/bundle.pub" --diff "$W/post.tar.gz" \
	--audit-chain-tsa-ca "$W/tsa-other/ca.pem" -o "$W/report-othertsa.html"
grep -q 'id="audit-continuity" class="bad"><b>Audit continuity:</b> broken: .*time-stamp token does not match' "$W/report-othertsa.html" ||
	t_fail "report: $(grep -o 'id="audit-continuity"[^>]*>[^<]*<b>[^<]*</b>[^<]*' "$W/report-othertsa.html")"
t_pass
t_begin "audit-sink: a bundle's chain token removed: listed as without a token, not tampering (exit 0)"
reseal "stamp_records && rm $tsr1.tsr"
expect_exit 0 "$KC" verify "$W/re.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" \
	--audit-chain-tsa-ca "$W/tsa/ca.pem" --json
jq -e --arg f "$tsr1.tsr" '.auditContinuity.chains[0].timestamps.missing == [$f]' "$T_OUT" >/dev/null ||
	t_fail "json: $(jq -c .auditContinuity.chains[0].timestamps "$T_OUT")"
expect_exit 0 "$KC" verify "$W/re.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub" \
	--audit-chain-tsa-ca "$W/tsa/ca.pem"
expect_grep "; time-stamps: $((ntsr - 1)) of $ntsr records' tokens verified, 1 without a token$" "$T_OUT"
expect_exit 2 "$KC" verify "$W/re.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-tsa-ca "$W/missing.pem"
t_pass
t_begin "audit-sink: a chain member edited inside a sealed bundle: hashes fail, exit 3"
rm -rf "$W/ed" && mkdir -p "$W/ed" && tar -xzf "$W/post.tar.gz" -C "$W/ed"
sed -i '1s/"auditID":"./"auditID":"X/' "$W"/ed/*/audit/chain/1/"$seg1"
tar -czf "$W/ed.tar.gz" -C "$W/ed" .
expect_exit 3 "$KC" verify "$W/ed.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub"
t_pass
t_begin "audit-sink: re-sealed bundle with an edited segment: the chain is broken, exit 3"
reseal "sed -i '1s/\"auditID\":\"./\"auditID\":\"X/' $seg1"
expect_exit 3 "$KC" verify "$W/re.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub"
expect_grep '^  signature +ok ' "$T_OUT"
expect_grep "^  audit +FAILED +broken" "$T_OUT"
expect_grep "chain audit/chain/1: $seg1: segment changed" "$T_OUT"
expect_grep '^INVALID \(audit check failed\)' "$T_OUT"
expect_exit 3 "$KC" diff "$W/pre.tar.gz" "$W/re.tar.gz" --pubkey "$W/bundle.pub"
expect_grep 'audit check failed' "$T_ERR"
t_pass
t_begin "audit-sink: re-sealed bundle with a digest record removed: the chain is broken, exit 3"
reseal "rm $dig1 $dig1.sig"
expect_exit 3 "$KC" verify "$W/re.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub"
expect_grep "^  audit +FAILED +broken" "$T_OUT"
t_pass
t_begin "audit-sink: re-sealed forged chain (segment and record rewritten, signed with another key): refused"
# the forger re-hashes the segment into the record and signs with a key
# of their own, and puts that key in the bundle as sink.pub
reseal "sed -i '1s/\"auditID\":\"./\"auditID\":\"X/' $seg1 && r=\$(grep -l '\"$seg1\"' digest-*.json | head -n1) &&
	h=\$(sha256sum $seg1 | cut -d' ' -f1) && o=\$(jq -r --arg f $seg1 '.segments[] | select(.file == \$f) | .sha256' \$r) &&
	sed -i \"s/\$o/\$h/\" \$r && openssl pkeyutl -sign -inkey '$W/other.pem' -rawin -in \$r -out \$r.sig && cp '$W/other.pub' sink.pub"
expect_exit 3 "$KC" verify "$W/re.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/sign.pub"
expect_grep "^  audit +FAILED +broken" "$T_OUT"
# with only the bundle's own copy of the key the other records fail
expect_exit 3 "$KC" verify "$W/re.tar.gz" --pubkey "$W/bundle.pub"
t_pass
t_begin "audit-sink: verify with the wrong sink key: every record refused, exit 3"
expect_exit 3 "$KC" verify "$W/post.tar.gz" --pubkey "$W/bundle.pub" --audit-chain-pubkey "$W/other.pub"
expect_grep 'Ed25519 signature does not match' "$T_OUT"
t_pass

# ------------------------------------------------------------------ tampering
nseg=$(ls "$D"/segment-*.jsonl | wc -l)
ndig=$(ls "$D"/digest-*.json | wc -l)
# tamper NAME WANT-EXIT WANT-PATTERN SCRIPT: on a copy of the sink folder
tamper() {
	local name=$1 want=$2 pat=$3 script=$4
	t_begin "audit-sink: verify-chain catches $name"
	rm -rf "$W/copy"
	cp -a "$D" "$W/copy"
	(cd "$W/copy" && eval "$script") || t_fail "could not tamper: $script"
	expect_exit "$want" "$KC" audit verify-chain "$W/copy" --pubkey "$W/sign.pub"
	expect_grep "$pat" "$T_OUT"
	t_pass
}
seg2=$(ls "$D"/segment-*.jsonl | sed -n 2p | xargs basename)
seg3=$(ls "$D"/segment-*.jsonl | sed -n 3p | xargs basename)
dig2=$(ls "$D"/digest-*.json | sed -n 2p | xargs basename)
# the last record that names segments, and every record after it (those
# name none: cutting them alone is not detectable, docs/AUDIT_SINK.md)
tailcut=
for f in $(ls "$D"/digest-*.json | sort -r); do
	tailcut="$tailcut $(basename "$f") $(basename "$f").sig"
	[ "$(jq '.segments | length' "$f")" -gt 0 ] && break
done
t_begin "audit-sink: tamper tests have material ($nseg segments, $ndig records)"
[ "$nseg" -ge 3 ] && [ "$ndig" -ge 4 ] || t_fail "too few segments ($nseg) or records ($ndig)"
t_pass
tamper "an untouched copy (twin)" 0 ': intact$' 'true'
tamper "an edited segment" 3 "TAMPERED: $seg2: segment changed" "sed -i '1s/\"auditID\":\"./\"auditID\":\"X/' $seg2"
tamper "a removed segment" 3 "TAMPERED: $seg2: segment named by .* is missing" "rm $seg2"
tamper "two segments swapped" 3 "TAMPERED: $seg2: segment changed" "mv $seg2 x && mv $seg3 $seg2 && mv x $seg3"
tamper "an inserted segment" 3 'TAMPERED: segment-00000000.jsonl: segment file named by no digest record' "cp $seg2 segment-00000000.jsonl"
tamper "a removed digest record" 3 "TAMPERED: .*(record 2 is missing|previous-record hash does not match)" "rm $dig2 $dig2.sig"
tamper "an edited digest record" 3 "TAMPERED: $dig2: Ed25519 signature does not match" "sed -i 's/\"reason\":\"/\"reason\":\"x/' $dig2"
tamper "the chain's tail cut (the last records; their segments no longer proven)" 1 'unsealed: segment-' "rm $tailcut"
t_begin "audit-sink: verify-chain with another key: every record refused"
expect_exit 3 "$KC" audit verify-chain "$D" --pubkey "$W/other.pub"
expect_grep 'TAMPERED: digest-00000001.json: Ed25519 signature does not match' "$T_OUT"
t_pass
t_begin "audit-sink: verify-chain usage errors"
expect_exit 2 "$KC" audit verify-chain "$D"
expect_grep 'needs --pubkey' "$T_ERR"
expect_exit 2 "$KC" audit verify-chain "$D" --pubkey "$W/sign.pem"
expect_exit 2 "$KC" audit-sink --listen 127.0.0.1:0 --dir "$W/x"
expect_grep 'needs --listen, --tls-cert' "$T_ERR"
t_pass

t_summary
