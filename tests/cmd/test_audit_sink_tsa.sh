#!/bin/bash
# kcustody audit-sink --tsa and audit verify-chain --tsa-ca (issue 17 item
# 3: digests time-stamped as they are made), and the sink's refusal of an
# unauthenticated client before its body is read.  No cluster: batches are
# POSTed with curl/python as the apiserver's webhook would; the TSA is the
# loopback `openssl ts -reply` server of tests/tsa/.
#  - a stamped chain verifies with --tsa-ca, and openssl ts -verify alone
#    checks a token (docs/AUDIT_SINK.md); negative twins: an edited token,
#    a token from another TSA, the last record re-signed with the sink's key
#    after the fact (passes without --tsa-ca: the key holder can do that;
#    caught with it), a removed token (reported, not tampering);
#  - the TSA down: batches still answered 200 at once, the missing tokens
#    counted, logged and listed by verify-chain; the TSA back: the retries
#    stamp every record;
#  - group commit: concurrent batches share fdatasyncs (fewer syncs than
#    batches, nothing acknowledged missing); one client at a time gets one
#    sync per batch (twin);
#  - a client without a certificate POSTing a body far over the pre-auth
#    allowance is cut without the sink buffering it (its peak RSS stays
#    far below the body), counted; a small request still gets 401 (twin);
#  - --tsa without --tsa-ca is refused at start (exit 2);
#  - --max-connections: connections past the cap are closed on arrival,
#    counted and logged, the sink serving a batch after; under a higher
#    cap the same connections are all served (twin); a cap the open-file
#    hard limit cannot hold is a usage error.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}

W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-sinktsa.XXXX")
SINK_PID=
cleanup() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	bash "$KC_REPO/tests/tsa/stop.sh" "$W/tsa" >/dev/null 2>&1
	bash "$KC_REPO/tests/tsa/stop.sh" "$W/tsa-late" >/dev/null 2>&1
	[ -n "${KCUSTODY_KEEP_SINK_TEST:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT

for tool in jq curl openssl python3; do
	command -v "$tool" >/dev/null || { echo "skip: $tool is needed"; echo "0 passed, 0 failed"; exit 0; }
done

P=$W/pki
mkdir -p "$P"
ossl() { openssl "$@" 2>>"$P/openssl.log"; }
cert() { # NAME CN CA EXT
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$2"
	ossl x509 -req -in "$P/$1.csr" -CA "$P/$3.crt" -CAkey "$P/$3.key" -set_serial "0x$(openssl rand -hex 8)" \
		-days 2 -extfile <(printf '%s\n' "$4") -out "$P/$1.crt"
}
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" \
	-subj /CN=sink-test-ca -days 2 -addext basicConstraints=critical,CA:TRUE
cert server 127.0.0.1 ca "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
cert apiserver kube-apiserver-audit ca "extendedKeyUsage=clientAuth"
"$KC" keygen -o "$W/sign.pem" --pub "$W/sign.pub" >/dev/null 2>&1
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_sink DIR LOG [OPTION...]: a sink on a free port ($PORT)
start_sink() {
	local dir=$1 log=$2 i
	shift 2
	PORT=$(free_port)
	"$KC" audit-sink --listen "127.0.0.1:$PORT" --tls-cert "$P/server.crt" --tls-key "$P/server.key" \
		--client-ca "$P/ca.crt" --dir "$dir" --key "$W/sign.pem" --min-free 0 --status "$W/status.json" "$@" \
		2>"$log" &
	SINK_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q 'listening on' "$log" 2>/dev/null && return 0
		kill -0 "$SINK_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
stop_sink() { kill -TERM "$SINK_PID"; wait "$SINK_PID"; local rc=$?; SINK_PID=; return $rc; }
post() { # BODYFILE [CURL-OPTION...]: prints the HTTP status
	local body=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 -A kcustody-test --cacert "$P/ca.crt" \
		-H 'Content-Type: application/json' --data-binary "@$body" "$@" "https://127.0.0.1:$PORT/audit"
}
batch() { # N: an EventList of one event, auditID tsa-N
	printf '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"tsa-%s","stage":"ResponseComplete","stageTimestamp":"%s"}]}' \
		"$1" "$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)" >"$W/batch.json"
}
AUTH=(--cert "$P/apiserver.crt" --key "$P/apiserver.key")
# wait_status JQ-EXPR SECONDS: until the status file (SIGUSR1 rewrites it) satisfies it
wait_status() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		kill -USR1 "$SINK_PID" 2>/dev/null
		sleep 0.2
		jq -e "$1" "$W/status.json" >/dev/null 2>&1 && return 0
	done
	return 1
}

TSA_URL=$(bash "$KC_REPO/tests/tsa/start.sh" "$W/tsa") || { echo "  FAIL setup: the loopback TSA did not start"; echo "0 passed, 1 failed"; exit 1; }
TSA_CA=$W/tsa/ca.pem
bash "$KC_REPO/tests/tsa/setup.sh" "$W/tsa-other" >/dev/null 2>&1 # another TSA (its own CA), never started

# ------------------------------------------------------------------ stamped chain
D=$W/sink
t_begin "audit-sink --tsa: every digest record is time-stamped as it is made; verify-chain --tsa-ca: exit 0"
start_sink "$D" "$W/sink1.log" --digest-interval 1s --tsa "$TSA_URL" --tsa-ca "$TSA_CA" ||
	t_fail "the sink did not start: $(cat "$W/sink1.log")"
for i in 1 2 3; do
	batch "$i"
	code=$(post "$W/batch.json" "${AUTH[@]}")
	[ "$code" = 200 ] || t_fail "batch $i: HTTP $code"
	sleep 1.2
done
stop_sink || t_fail "the sink exited non-zero"
expect_grep 'time-stamps: [0-9]+ made, 0 failed attempts, 0 records waiting, 0 left without a token' "$W/sink1.log"
ndig=$(ls "$D"/digest-*.json | wc -l)
ntsr=$(ls "$D"/digest-*.json.tsr 2>/dev/null | wc -l)
[ "$ndig" -ge 3 ] && [ "$ntsr" = "$ndig" ] || t_fail "$ndig records, $ntsr tokens"
expect_exit 0 "$KC" audit verify-chain "$D" --pubkey "$W/sign.pub" --tsa-ca "$TSA_CA"
expect_grep '^audit chain .*: intact$' "$T_OUT"
expect_grep "^time-stamps: every record time-stamped \\($ndig of $ndig records; TSA times " "$T_OUT"
expect_exit 0 "$KC" audit verify-chain "$D" --pubkey "$W/sign.pub" --tsa-ca "$TSA_CA" --json
jq -e --argjson n "$ndig" '.timestamps.stamped == $n and .timestamps.missing == [] and .tampering == []' "$T_OUT" >/dev/null ||
	t_fail "report: $(jq -c .timestamps "$T_OUT")"
# without --tsa-ca the report is what it always was (no "timestamps")
expect_exit 0 "$KC" audit verify-chain "$D" --pubkey "$W/sign.pub" --json
jq -e 'has("timestamps") | not' "$T_OUT" >/dev/null || t_fail "timestamps reported without --tsa-ca"
t_pass

t_begin "audit-sink --tsa: openssl ts -verify alone checks a record's token (docs/AUDIT_SINK.md); another record's data fails (twin)"
rec=$D/digest-00000002.json
openssl ts -verify -in "$rec.tsr" -data "$rec" -CAfile "$TSA_CA" >"$T_OUT" 2>&1 || t_fail "openssl ts -verify: $(tail -n 2 "$T_OUT")"
openssl ts -verify -in "$rec.tsr" -data "$D/digest-00000001.json" -CAfile "$TSA_CA" >"$T_OUT" 2>&1 &&
	t_fail "openssl ts -verify accepted record 2's token for record 1"
t_pass

# tamper NAME WANT-EXIT WANT-PATTERN SCRIPT [VERIFY-OPTION...]
tamper() {
	local name=$1 want=$2 pat=$3 script=$4
	shift 4
	t_begin "audit-sink --tsa: verify-chain --tsa-ca on $name"
	rm -rf "$W/copy"
	cp -a "$D" "$W/copy"
	(cd "$W/copy" && eval "$script") || t_fail "could not tamper: $script"
	expect_exit "$want" "$KC" audit verify-chain "$W/copy" --pubkey "$W/sign.pub" "$@"
	expect_grep "$pat" "$T_OUT"
	t_pass
}
last=$(ls "$D"/digest-*.json | tail -n 1 | xargs basename)
tamper "an untouched copy (twin)" 0 '^time-stamps: every record time-stamped' 'true' --tsa-ca "$TSA_CA"
tamper "an edited token (its last byte: the TSA's signature)" 3 'TAMPERED: digest-00000002\.json\.tsr: time-stamp token' \
	"python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,\"rb\").read()); b[-1]^=1; open(p,\"wb\").write(bytes(b))' digest-00000002.json.tsr" \
	--tsa-ca "$TSA_CA"
tamper "a token from another TSA" 3 'TAMPERED: digest-00000002\.json\.tsr: time-stamp token .*not signed by the TSA CA' \
	"openssl ts -query -data digest-00000002.json -sha256 -cert -no_nonce >q.tsq 2>/dev/null && openssl ts -reply -config '$W/tsa-other/ts.cnf' -queryfile q.tsq -chain '$W/tsa-other/ca.pem' >digest-00000002.json.tsr 2>/dev/null && rm q.tsq" \
	--tsa-ca "$TSA_CA"
# the key holder's rewrite: the last record changed and re-signed with the
# sink's own key; the chain alone cannot tell, the stale token can
resign="sed -i 's/\"reason\":\"shutdown\"/\"reason\":\"interval\"/' $last && openssl pkeyutl -sign -inkey '$W/sign.pem' -rawin -in $last -out $last.sig"
tamper "the last record re-signed after the fact, without --tsa-ca (the key holder's rewrite passes)" 0 ': intact$' "$resign"
tamper "the last record re-signed after the fact with its stale token" 3 "TAMPERED: $last\\.tsr: time-stamp token does not match" "$resign" --tsa-ca "$TSA_CA"
# a rewrite that also gets a fresh token: the token is genuine but made
# now, hours after the record says it was created (backdated 2 h here)
restamp="python3 -c 'import json,sys,datetime; p=sys.argv[1]; d=json.load(open(p)); d[\"created\"]=(datetime.datetime.now(datetime.timezone.utc)-datetime.timedelta(hours=2)).strftime(\"%Y-%m-%dT%H:%M:%S.000000Z\"); open(p,\"w\").write(json.dumps(d,separators=(\",\",\":\"))+\"\\n\")' $last && openssl pkeyutl -sign -inkey '$W/sign.pem' -rawin -in $last -out $last.sig && openssl ts -query -data $last -sha256 -cert >q.tsq 2>/dev/null && openssl ts -reply -config '$W/tsa/ts.cnf' -queryfile q.tsq -chain '$TSA_CA' >$last.tsr 2>/dev/null && rm q.tsq"
tamper "the last record rewritten, backdated and stamped afresh" 3 "TAMPERED: $last\\.tsr: time-stamp .* s after the record's creation" "$restamp" --tsa-ca "$TSA_CA"
tamper "a removed token (reported, exit 1, not tampering)" 1 '^no time-stamp: digest-00000002\.json\.tsr$' 'rm digest-00000002.json.tsr' --tsa-ca "$TSA_CA"
tamper "the wrong TSA CA (every token refused)" 3 'TAMPERED: digest-00000001\.json\.tsr: time-stamp token' 'true' --tsa-ca "$W/tsa-other/ca.pem"

# ------------------------------------------------------------------ TSA down
D2=$W/sink-down
LATE_PORT=$(free_port)
t_begin "audit-sink --tsa with the TSA down: batches answered 200 at once, missing tokens counted, logged and listed"
start_sink "$D2" "$W/sink2.log" --digest-interval 1s --tsa "http://127.0.0.1:$LATE_PORT/" --tsa-ca "$TSA_CA" --tsa-retry 1s ||
	t_fail "the sink did not start: $(cat "$W/sink2.log")"
sleep 1.5
for i in 1 2; do
	batch "down-$i"
	t0=$(date +%s%N)
	code=$(post "$W/batch.json" "${AUTH[@]}")
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$code" = 200 ] || t_fail "batch $i with the TSA down: HTTP $code"
	[ "$ms" -lt 3000 ] || t_fail "batch $i took $ms ms with the TSA down"
	sleep 1.2
done
wait_status '.tsaFailures >= 2 and .tsaPending >= 2 and .tsaStamped == 0' 5 || t_fail "counters: $(cat "$W/status.json")"
expect_grep 'cannot time-stamp digest record 1 \(attempt 1, retry in 1 s\): cannot reach TSA' "$W/sink2.log"
expect_exit 1 "$KC" audit verify-chain "$D2" --pubkey "$W/sign.pub" --tsa-ca "$TSA_CA"
expect_grep '^time-stamps: [0-9]+ of [0-9]+ records without a time-stamp token' "$T_OUT"
expect_grep '^no time-stamp: digest-00000001\.json\.tsr$' "$T_OUT"
expect_no_grep 'TAMPERED' "$T_OUT"
t_pass

t_begin "audit-sink --tsa: the TSA back, the retries stamp every record; verify-chain --tsa-ca exit 0"
# the same TSA key and CA as the first, now on the port the sink was given
mkdir -p "$W/tsa-late"
(cd "$W/tsa" && cp -p ./*.pem ./*.key ts.cnf "$W/tsa-late/")
KC_TSA_PORT=$LATE_PORT bash "$KC_REPO/tests/tsa/start.sh" "$W/tsa-late" >/dev/null || t_fail "the second TSA did not start"
wait_status '.tsaPending == 0 and .tsaStamped >= 3' 10 || t_fail "counters after the TSA came back: $(cat "$W/status.json")"
stop_sink || t_fail "the sink exited non-zero"
expect_exit 0 "$KC" audit verify-chain "$D2" --pubkey "$W/sign.pub" --tsa-ca "$TSA_CA"
expect_grep '^time-stamps: every record time-stamped' "$T_OUT"
t_pass

t_begin "audit-sink --tsa: usage errors"
expect_exit 2 "$KC" audit-sink --listen 127.0.0.1:0 --tls-cert "$P/server.crt" --tls-key "$P/server.key" \
	--client-ca "$P/ca.crt" --dir "$W/x" --key "$W/sign.pem" --tsa-ca "$TSA_CA"
expect_grep 'tsa-ca needs --tsa URL' "$T_ERR"
expect_exit 2 "$KC" audit-sink --listen 127.0.0.1:0 --tls-cert "$P/server.crt" --tls-key "$P/server.key" \
	--client-ca "$P/ca.crt" --dir "$W/x" --key "$W/sign.pem" --tsa ftp://x/
expect_grep "not an http:// or https:// URL" "$T_ERR"
expect_exit 2 "$KC" audit verify-chain "$D" --pubkey "$W/sign.pub" --tsa-ca "$W/missing.pem"
t_pass

t_begin "audit-sink --tsa without --tsa-ca: refused at start (exit 2, naming --tsa-ca), nothing written; with it the sink runs (twin, above)"
expect_exit 2 "$KC" audit-sink --listen 127.0.0.1:0 --tls-cert "$P/server.crt" --tls-key "$P/server.key" \
	--client-ca "$P/ca.crt" --dir "$W/no-tsa-ca" --key "$W/sign.pem" --tsa "$TSA_URL"
expect_grep '--tsa needs --tsa-ca FILE' "$T_ERR"
[ -e "$W/no-tsa-ca" ] && t_fail "the folder was made"
t_pass

# ------------------------------------------------------------------ group commit
# clients N BATCHES: N concurrent keep-alive clients with the apiserver's
# certificate, each POSTing BATCHES one-event batches; prints the auditIDs
# answered 200, one a line
clients() {
	python3 - "$PORT" "$P" "$1" "$2" <<'EOF2'
import http.client, ssl, sys, threading
port, pki, n, b = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ok, lock = [], threading.Lock()
def run(c):
    ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
    ctx.load_cert_chain(pki + "/apiserver.crt", pki + "/apiserver.key")
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=20)
    for i in range(b):
        aid = "gc-%d-%d" % (c, i)
        conn.request("POST", "/audit", '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"%s"}]}' % aid)
        r = conn.getresponse(); r.read()
        if r.status == 200:
            with lock: ok.append(aid)
ts = [threading.Thread(target=run, args=(c,)) for c in range(n)]
[t.start() for t in ts]; [t.join() for t in ts]
print("\n".join(ok))
EOF2
}
D4=$W/sink-gc
t_begin "audit-sink: group commit: 6 concurrent clients, fewer fdatasyncs than batches, every acknowledged event in a segment"
start_sink "$D4" "$W/sink4.log" || t_fail "the sink did not start: $(cat "$W/sink4.log")"
clients 6 40 | sort >"$W/gc.acked"
kill -USR1 "$SINK_PID"
sleep 0.3
n=$(wc -l <"$W/gc.acked")
[ "$n" = 240 ] || t_fail "$n of 240 batches answered 200"
jq -e '.batches == 240 and .groupCommits < .batches and .groupCommits > 0' "$W/status.json" >/dev/null ||
	t_fail "counters: $(jq -c '{batches, groupCommits}' "$W/status.json")"
cat "$D4"/segment-*.jsonl | jq -r .auditID | sort >"$W/gc.written"
[ -z "$(comm -23 "$W/gc.acked" "$W/gc.written")" ] || t_fail "acknowledged events missing from the segments"
echo "group commit: $(jq -c '{batches, groupCommits}' "$W/status.json")" >"$W/gc.txt"
t_pass

t_begin "audit-sink: group commit: one client at a time gets one fdatasync per batch (twin)"
g0=$(jq .groupCommits "$W/status.json")
clients 1 20 >/dev/null
kill -USR1 "$SINK_PID"
sleep 0.3
[ "$(jq .groupCommits "$W/status.json")" = $((g0 + 20)) ] || t_fail "20 sequential batches: groupCommits $g0 -> $(jq .groupCommits "$W/status.json")"
stop_sink || t_fail "the sink exited non-zero"
expect_exit 0 "$KC" audit verify-chain "$D4" --pubkey "$W/sign.pub"
t_pass

# ------------------------------------------------------------------ pre-auth
# bigpost CERT|none MIB: a TLS client sending a POST with a MIB MiB body
# (Content-Length announced, streamed in 1 MiB writes, no Expect), then
# reading the answer; prints "sent BYTES status CODE|cut"
bigpost() {
	python3 - "$PORT" "$P" "$1" "$2" <<'EOF2'
import socket, ssl, sys
port, pki, who, mib = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
if who != "none":
    ctx.load_cert_chain(pki + "/" + who + ".crt", pki + "/" + who + ".key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="127.0.0.1")
total = mib << 20
s.sendall(b"POST /audit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % total)
chunk, sent, status = b"x" * (1 << 20), 0, "cut"
try:
    while sent < total:
        s.sendall(chunk); sent += len(chunk)
    line = s.recv(4096).split(b"\r\n", 1)[0].split()
    status = line[1].decode() if len(line) > 1 else "cut"
except (OSError, ssl.SSLError):
    pass
print("sent", sent, "status", status)
EOF2
}
hwm() { awk '/VmHWM/ {print $2}' "/proc/$SINK_PID/status"; }
D3=$W/sink-preauth
t_begin "audit-sink: a client without a certificate sending a 60 MiB body is cut before the body is read (peak RSS, counter)"
start_sink "$D3" "$W/sink3.log" --max-batch-bytes 67108864 || t_fail "the sink did not start: $(cat "$W/sink3.log")"
before=$(hwm)
bigpost none 60 >"$T_OUT" 2>&1
after=$(hwm)
grep -q 'status 200' "$T_OUT" && t_fail "accepted: $(cat "$T_OUT")"
[ $((after - before)) -lt 16384 ] || t_fail "the sink's peak RSS grew by $((after - before)) KiB ($before -> $after): it read the body"
kill -USR1 "$SINK_PID"
sleep 0.3
jq -e '.refusedPreauthCut == 1 and .refusedAuth == 1 and .eventsReceived == 0' "$W/status.json" >/dev/null ||
	t_fail "counters: $(cat "$W/status.json")"
expect_grep 'refused 127\.0\.0\.1:[0-9]+: no verified client certificate and more than 131072 bytes sent: connection cut' "$W/sink3.log"
echo "no certificate: $(cat "$T_OUT"); peak RSS $before -> $after KiB" >"$W/preauth-none.txt"
t_pass

t_begin "audit-sink: the same 60 MiB body from the apiserver's certificate is read whole (twin: the measure sees a read body)"
before=$(hwm)
bigpost apiserver 60 >"$T_OUT" 2>&1
after=$(hwm)
grep -q 'sent 62914560 status 400' "$T_OUT" || t_fail "want the whole body read and refused 400 (not JSON): $(cat "$T_OUT")"
[ $((after - before)) -ge 61440 ] || t_fail "the peak RSS grew by only $((after - before)) KiB ($before -> $after) for a 60 MiB body read"
t_pass

t_begin "audit-sink: a small request without a certificate still gets 401 (within the pre-auth allowance), an authenticated batch over it 200"
batch small
code=$(post "$W/batch.json")
[ "$code" = 401 ] || t_fail "no certificate, small body: HTTP $code, want 401"
python3 -c 'import json; print(json.dumps({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"big-%d" % i,"pad":"y"*1000} for i in range(1000)]}))' >"$W/mid.json"
code=$(post "$W/mid.json" "${AUTH[@]}")
[ "$code" = 200 ] || t_fail "authenticated 1 MB batch: HTTP $code, want 200"
kill -USR1 "$SINK_PID"
sleep 0.3
jq -e '.refusedPreauthCut == 1 and .refusedAuth == 2 and .eventsWritten == 1000' "$W/status.json" >/dev/null ||
	t_fail "counters: $(cat "$W/status.json")"
stop_sink || t_fail "the sink exited non-zero"
t_pass

# ------------------------------------------------------------------ connection cap
# holdconns N: N TCP connections opened and held, then a TLS handshake
# (the apiserver's certificate) on each in turn; prints "tls OK FAILED",
# then, still holding them, waits (SIGUSR1, bounded) for the status file to
# count every connection (open + refused on arrival = N) and prints it
holdconns() {
	python3 - "$PORT" "$P" "$1" "$SINK_PID" "$W/status.json" <<'EOF2'
import json, os, signal, socket, ssl, sys, time
port, pki, n, pid, status = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/apiserver.crt", pki + "/apiserver.key")
raw = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(n)]
held, ok, failed = [], 0, 0
for s in raw:
    try:
        t = ctx.wrap_socket(s, server_hostname="127.0.0.1")
        held.append(t); ok += 1
    except (OSError, ssl.SSLError):
        failed += 1
print("tls", ok, failed)
st = {}
for _ in range(100):  # a bound, not a measure: the counters settle
    os.kill(pid, signal.SIGUSR1); time.sleep(0.1)
    try:
        st = json.load(open(status))
    except (OSError, ValueError):
        continue
    if st.get("openConnections", 0) + st.get("refusedConnLimit", 0) >= n:
        break
print(json.dumps(st))
for t in held: t.close()
EOF2
}
D5=$W/sink-cap
t_begin "audit-sink --max-connections 4: of 10 connections held open 4 are served, 6 closed on arrival, counted, logged; afterwards a batch still gets 200"
start_sink "$D5" "$W/sink5.log" --max-connections 4 || t_fail "the sink did not start: $(cat "$W/sink5.log")"
holdconns 10 >"$T_OUT" 2>&1
grep -qx 'tls 4 6' "$T_OUT" || t_fail "want 4 TLS handshakes done and 6 refused: $(cat "$T_OUT")"
tail -n 1 "$T_OUT" | jq -e '.openConnections == 4 and .refusedConnLimit == 6 and .maxConnections == 4 and .refused == 0' >/dev/null ||
	t_fail "counters while held: $(tail -n 1 "$T_OUT")"
# logged at the 1st, 2nd and 4th refusal, not at each
[ "$(grep -c 'refused connection from 127\.0\.0\.1:[0-9]*: 4 connections open, the --max-connections limit: closed unread' "$W/sink5.log")" = 3 ] ||
	t_fail "log: $(grep 'refused connection' "$W/sink5.log")"
wait_status '.openConnections == 0' 10 || t_fail "the held connections, closed, are still counted: $(cat "$W/status.json")"
batch cap
code=$(post "$W/batch.json" "${AUTH[@]}")
[ "$code" = 200 ] || t_fail "after the flood: HTTP $code, want 200"
stop_sink || t_fail "the sink exited non-zero"
expect_grep 'audit-sink: 6 connections closed on arrival over --max-connections' "$W/sink5.log"
expect_exit 0 "$KC" audit verify-chain "$D5" --pubkey "$W/sign.pub"
t_pass

t_begin "audit-sink --max-connections 4: 4 connections without a client certificate cannot keep the apiserver out (the oldest is closed to make room; its batch gets 200)"
start_sink "$W/sink-cap3" "$W/sink7.log" --max-connections 4 || t_fail "the sink did not start: $(cat "$W/sink7.log")"
batch cap3
python3 - "$PORT" "$P" "$SINK_PID" "$W/status.json" "$W/batch.json" >"$T_OUT" 2>&1 <<'EOF2'
import json, os, signal, socket, ssl, sys, time
port, pki, pid, status, batch = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
anon = ssl.create_default_context(cafile=pki + "/ca.crt")
held = [anon.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="127.0.0.1")
        for _ in range(4)]
time.sleep(0.5)
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/apiserver.crt", pki + "/apiserver.key")
body = open(batch, "rb").read()
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="127.0.0.1")
t.sendall(b"POST /audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
print("status", t.recv(64).split(b"\r\n")[0].decode())
os.kill(pid, signal.SIGUSR1); time.sleep(0.5)
print(json.dumps(json.load(open(status))))
EOF2
grep -q '^status HTTP/1.1 200' "$T_OUT" || t_fail "the apiserver's batch: $(cat "$T_OUT")"
tail -n 1 "$T_OUT" | jq -e '.evictedUnauthenticated >= 1 and .refusedConnLimit == 0' >/dev/null ||
	t_fail "counters: $(tail -n 1 "$T_OUT")"
expect_grep 'closed the one from 127\.0\.0\.1:[0-9]* \(no verified client certificate\) to make room' "$W/sink7.log"
stop_sink || t_fail "the sink exited non-zero"
t_pass

t_begin "audit-sink --max-connections 16: the same 10 connections are all served, none refused (twin)"
start_sink "$W/sink-cap2" "$W/sink6.log" --max-connections 16 || t_fail "the sink did not start: $(cat "$W/sink6.log")"
holdconns 10 >"$T_OUT" 2>&1
grep -qx 'tls 10 0' "$T_OUT" || t_fail "want 10 TLS handshakes done: $(cat "$T_OUT")"
tail -n 1 "$T_OUT" | jq -e '.openConnections == 10 and .refusedConnLimit == 0' >/dev/null ||
	t_fail "counters while held: $(tail -n 1 "$T_OUT")"
expect_no_grep 'refused connection' "$W/sink6.log"
stop_sink || t_fail "the sink exited non-zero"
t_pass

t_begin "audit-sink --max-connections: 0 or more than the open-file hard limit allows is a usage error (exit 2); within it the sink starts (twin)"
expect_exit 2 "$KC" audit-sink --listen 127.0.0.1:0 --tls-cert "$P/server.crt" --tls-key "$P/server.key" \
	--client-ca "$P/ca.crt" --dir "$W/cap-x" --key "$W/sign.pem" --max-connections 0
expect_grep '--max-connections: give 1 to 65536' "$T_ERR"
rc=0
(ulimit -Sn 200 && ulimit -Hn 200 && exec "$KC" audit-sink --listen 127.0.0.1:0 --tls-cert "$P/server.crt" \
	--tls-key "$P/server.key" --client-ca "$P/ca.crt" --dir "$W/cap-x" --key "$W/sign.pem" --max-connections 256) \
	>"$T_OUT" 2>"$T_ERR" || rc=$?
[ "$rc" = 2 ] || t_fail "256 connections under a hard limit of 200 files: exit $rc, want 2: $(cat "$T_ERR")"
expect_grep '--max-connections 256 needs 320 open files, the hard limit is 200' "$T_ERR"
(ulimit -Sn 100 && ulimit -Hn 200 && exec "$KC" audit-sink --listen 127.0.0.1:0 --tls-cert "$P/server.crt" \
	--tls-key "$P/server.key" --client-ca "$P/ca.crt" --dir "$W/cap-y" --key "$W/sign.pem" --max-connections 100 \
	--min-free 0) 2>"$W/cap-y.log" &
pid=$!
for ((i = 0; i < 100; i++)); do grep -q 'listening on' "$W/cap-y.log" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
grep -q 'listening on' "$W/cap-y.log" || t_fail "100 connections under a hard limit of 200 (soft 100, raised): did not start: $(cat "$W/cap-y.log")"
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
t_pass

t_summary
