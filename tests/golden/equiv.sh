#!/bin/bash
# Behaviour equivalence of two kcustody binaries (issue 12): the same
# generated inputs are given to BASE and to NEW, every command is run with
# each, and the results are compared byte for byte.  Needs no kube-apiserver.
# tests/golden/README.md says what is covered and how to move the base.
#
#   equiv.sh BASE_BIN NEW_BIN        compare; exit 0 only when all are the same
#   equiv.sh --self-test BIN         compare BIN with a wrapper of BIN that
#                                    plants one difference in each compared
#                                    channel; exit 0 only when exactly the
#                                    planted cases are reported DIFF
#   EQUIV_KEEP=1 equiv.sh ...        keep the work folder (kept anyway on DIFF)
#   EQUIV_JOBS=N equiv.sh ...        cases run N at a time (default 2)
#
# Prints one line per comparison, "same  LABEL" or "DIFF  LABEL  (channels)"
# followed by the first lines of each difference, then "equiv: N
# comparisons, N same, N DIFF" and the time taken.  Every run then repeats
# the planted cases (below) with a wrapper of NEW and requires each planted
# difference to be reported: a comparison that cannot fail gives no verdict.
# Exit status: 0 all same, 1 some DIFF, 2 usage, inputs that cannot be made,
# or a comparison that missed a planted difference (not a verdict on NEW).
#
# What one comparison is: a case is one kcustody command line run in a fresh
# empty folder; compared are its exit status, stdout, stderr, and every file
# it leaves in that folder (-o outputs, sealed bundles, ledgers, archive
# stores, the staging folder seal writes into: names, types, modes, bytes).
# Both binaries are copied in turn to the same path (WORK/bin/kcustody, and
# WORK/bin/kubectl-custody -> kcustody) and run in the same case folders
# (WORK/run/NNN/w) with the same environment, so argv[0] and every path in a
# message are the same; nothing is normalised except where marked below.
#
# Inputs (WORK/in, made once per run with BASE, then read-only: checked by
# hashing before and after each side):
#   - two Ed25519 keys made with openssl (never printed), trust files;
#     a CMS signer and a time-stamping authority from tests/tsa/setup.sh;
#   - PRE and POST estates (tests/golden/estate.py) served by
#     tests/fake/apiserver.py (scenario "files"), collected by BASE with
#     --out-dir and sealed by BASE with a fixed --mtime: signed, unsigned,
#     CMS + RFC 3161 token, tampered (tests/cmd/bundle_tool.py), a custody
#     ledger (custody append), a broken ledger, a local archive store;
#   - audit logs from tests/cmd/test_audit_gen.py (a single file and a
#     rotated folder with gzip pieces) and every provider form and negative
#     twin from tests/cmd/test_audit_cloud_gen.py;
#   - the committed 0.1 fixtures (tests/data/bundles-0.1) and the hostile
#     re-encodings of a sealed bundle (tests/cmd/tarcraft.py corpus).
# The estate, the logs, the staging folders' evidence and every case's
# command line are the same on every run; what collect records about its own
# run (ids, times, the loopback port and CA) and the keys are new each run,
# and the same for both binaries within a run.
#
# Time: KCUSTODY_NOW (read by kc_now(), util/timeutil.c) is fixed for every
# command, so report's generation time, diff --seal's name, custody and
# archive entry times and duration filters (--since 20h) are the same for
# both binaries; seal gets --mtime.  TZ=UTC, LC_ALL=C, USER, HOME fixed.
#
# Normalised (only these, applied to both sides before comparing):
#   mask=seconds  can-i --all-sas --stats: the "seconds N" field of its one
#                 stdout line is the measured evaluation time (CLOCK_MONOTONIC,
#                 no knob); the counts on the line are compared.
#   mask=collect  collect --out-dir: in MANIFEST.json and audit/sources.json,
#                 the run id (kc-<16 hex>, random per run, also inside
#                 audit_id and exclude-run) and the values of the keys
#                 bundle_id, evidence_id (random), started, finished,
#                 server_date, local_time, offset_seconds, duration_ms (the
#                 wall clock: kc_now_ns() has no knob) and executable_sha256
#                 (the binary itself, different by definition).  Every other
#                 byte of those files and every other file of the evidence
#                 folder is compared as is.
#
# Not compared: `--version` (names the commit each binary was built from);
# keygen -o (a random key); collect -o (the bundle name and mtime are the
# wall clock); seal --cert and --tsa (CMS signing time, TSA time and nonce:
# docs/FORMAT.md section 1); archive against S3 (needs the RADOS gateway).
# SC2016: the PREP strings of c_prep are single-quoted on purpose (run by
# eval in the case folder); SC2317: cleanup runs from the EXIT trap.
# shellcheck disable=SC2016,SC2317
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

usage() {
	echo "usage: equiv.sh BASE_BIN NEW_BIN | equiv.sh --self-test BIN" >&2
	exit 2
}
SELFTEST=0
if [ "${1:-}" = --self-test ]; then
	[ $# -eq 2 ] || usage
	SELFTEST=1
	BASE_BIN=$2
else
	[ $# -eq 2 ] || usage
	BASE_BIN=$1 NEW_BIN=$2
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-equiv.XXXX")
I=$W/in
SRV_PIDS=()
cleanup() {
	local p
	for p in "${SRV_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	bash "$KC_REPO/tests/tsa/stop.sh" "$W/pki" >/dev/null 2>&1
	if [ "${EQUIV_KEEP:-0}" = 1 ] || [ -e "$W/keep" ]; then
		echo "equiv: work folder kept: $W"
	else
		chmod -R u+w "$W" 2>/dev/null
		rm -rf "$W"
	fi
}
trap cleanup EXIT
die() {
	echo "equiv: $*" >&2
	touch "$W/keep"
	exit 2
}

for b in "$BASE_BIN" ${NEW_BIN:+"$NEW_BIN"}; do
	[ -x "$b" ] && [ -f "$b" ] || die "not an executable file: $b"
done
BASE_BIN=$(realpath "$BASE_BIN")
[ -n "${NEW_BIN:-}" ] && NEW_BIN=$(realpath "$NEW_BIN")

# One environment for everything kcustody runs, both sides alike.
export LC_ALL=C TZ=UTC USER=equiv LOGNAME=equiv HOME=$W/home
export KCUSTODY_NOW=2026-03-03T00:00:00Z
unset KUBECONFIG KCUSTODY_DEBUG KCUSTODY_EXEC_TIMEOUT KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT \
	POD_NAMESPACE AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
	AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION 2>/dev/null
umask 022
mkdir -p "$HOME" "$I"
# Debian's python3 first when there is one: a pyenv shim costs seconds a start
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
	mkdir -p "$W/py" && ln -s /usr/bin/python3 "$W/py/python3" && PATH=$W/py:$PATH
fi

# ---------------------------------------------------------------- inputs
KB=$BASE_BIN	# the inputs are made with BASE
PRE=$I/EQ-1_pre_equiv_20260302T090000Z.tar.gz
POST=$I/EQ-1_post_equiv_20260302T110000Z.tar.gz
UNSIGNED=$I/EQ-1_pre_unsigned_20260302T090000Z.tar.gz
CMS=$I/EQ-1_pre_cms_20260302T090000Z.tar.gz
ODD=$I/EQ-2_pre_odd_20260301T000000Z.tar.gz
BADLEDGER=$I/badledger/EQ-1_post_equiv_20260302T110000Z.tar.gz
FIX=$KC_REPO/tests/data/bundles-0.1
AUDIT_GEN=$KC_REPO/tests/cmd/test_audit_gen.py
CLOUD_GEN=$KC_REPO/tests/cmd/test_audit_cloud_gen.py
TOOL="python3 $KC_REPO/tests/cmd/bundle_tool.py"

# start_server PHASE: the fake API server on PRE's or POST's estate;
# kubeconfig $I/kc-PHASE.yaml
start_server() {
	local ph=$1 port=$W/srv/$1.port
	# not a job of this shell (the cases are waited for with wait)
	(python3 "$KC_REPO/tests/fake/apiserver.py" "$W/srv/srv.crt" "$W/srv/srv.key" "$port" \
		"$W/srv/$ph.requests" files "$I/estate/$ph" 2>"$W/srv/$ph.log" &
		echo $! >"$W/srv/$ph.pid")
	SRV_PIDS+=("$(cat "$W/srv/$ph.pid")")
	for _ in $(seq 100); do [ -s "$port" ] && break; sleep 0.05; done
	[ -s "$port" ] || die "the fake API server did not start (see $W/srv/$ph.log)"
	cat >"$I/kc-$ph.yaml" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: equiv, cluster: {server: "https://127.0.0.1:$(cat "$port")", certificate-authority: "$W/srv/ca.crt"}}]
users: [{name: responder, user: {token: equiv-token-not-a-secret}}]
contexts: [{name: equiv, context: {cluster: equiv, user: responder, namespace: default}}]
current-context: equiv
YAML
}

make_inputs() {
	local u
	cd "$I" || die "no $I"
	# keys: Alice (k1) signs, Bob (k2) is the wrong key and the receiver
	for u in k1 k2; do
		openssl genpkey -algorithm ed25519 -out "$u.pem" 2>/dev/null &&
			openssl pkey -in "$u.pem" -pubout -out "$u.pub" || die "openssl genpkey failed"
	done
	printf '%s\n' '{"trusted_keys":[' \
		' {"name":"Alice","organisation":"ACME CSIRT","public_key":"k1.pub"},' \
		' {"name":"Bob","organisation":"ACME Legal","public_key":"k2.pub","roles":["custodian","archive"]}]}' >trust.json
	printf '%s\n' '{"trusted_keys":[{"name":"Bob","public_key":"k2.pub"}]}' >trust-bob.json
	# CMS signer and TSA (its own PKI); the fake server's TLS PKI
	bash "$KC_REPO/tests/tsa/setup.sh" "$W/pki" >/dev/null 2>&1 || die "tests/tsa/setup.sh failed"
	openssl x509 -in "$W/pki/signer-ec.pem" -pubkey -noout >signer-ec.pub
	mkdir -p "$W/srv"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=equiv-ca \
		-keyout "$W/srv/ca.key" -out "$W/srv/ca.crt" 2>/dev/null &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
			-keyout "$W/srv/srv.key" -out "$W/srv/srv.csr" 2>/dev/null &&
		openssl x509 -req -in "$W/srv/srv.csr" -CA "$W/srv/ca.crt" -CAkey "$W/srv/ca.key" -CAcreateserial \
			-days 2 -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$W/srv/srv.crt" 2>/dev/null ||
		die "cannot make the fake server's certificate"
	cp "$W/srv/ca.crt" other-ca.pem	# a CA that signed no bundle

	# audit logs: PRE a single file, POST a rotated folder with gzip'd pieces
	mkdir -p audit
	python3 "$AUDIT_GEN" --bytes 300K --seed 3 --start 2026-03-02T08:00:00Z -o audit/pre.log &&
		python3 "$AUDIT_GEN" --bytes 300K --seed 4 --start 2026-03-02T10:00:00Z --split audit/post \
			--pieces 3 --gzip-every 2 >/dev/null &&
		python3 "$CLOUD_GEN" --bytes 200K --seed 5 --out cloud >/dev/null || die "audit generators failed"
	printf '%s\n' '{"auditID":"m1","verb":"get","requestReceivedTimestamp":"2026-03-02T08:00:00.000000Z"}' \
		'not json at all' '{"auditID":"y1","verb":"get","requestReceivedTimestamp":"0001-01-01T00:00:00Z"}' \
		'{"auditID":"m2","verb":"list","requestReceivedTimestamp":"2026-03-02T08:01:00.000000Z"}' >audit/malformed.log
	# Events with duplicate keys (issue 12: the audit filter takes the last
	# of two equal keys, jq's rule, and rbac/diff.c the first): a denied
	# request whose verb and user.username appear twice, and a secret read
	# whose objectRef.resource does.  Alone for `audit`, and at the end of
	# POST's current log, so that they reach POST's audit segment and `diff`.
	local ev='{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete","requestURI":"%s","verb":%s,"user":{%s,"groups":["system:serviceaccounts","system:serviceaccounts:ai-agents","system:authenticated"]},"sourceIPs":["10.0.0.9"],"userAgent":"kagent/0.3.1 (linux/amd64)","objectRef":{%s,"namespace":"%s","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":%s},"requestReceivedTimestamp":"%s","stageTimestamp":"%s","annotations":{"authorization.k8s.io/decision":"%s","authorization.k8s.io/reason":""}}\n'
	{
		printf "$ev" dup-0001 /api/v1/namespaces/payments/secrets '"list","verb":"get"' \
			'"username":"alice@example.com","username":"system:serviceaccount:ai-agents:kagent"' \
			'"resource":"secrets"' payments 403 2026-03-02T10:59:00.000000Z 2026-03-02T10:59:00.001000Z forbid
		printf "$ev" dup-0002 /api/v1/namespaces/ai-agents/secrets/kagent-token '"get"' \
			'"username":"system:serviceaccount:ai-agents:kagent"' '"resource":"configmaps","resource":"secrets"' \
			ai-agents 200 2026-03-02T10:59:01.000000Z 2026-03-02T10:59:01.002000Z allow
	} >audit/dupkeys.log
	cat audit/dupkeys.log >>audit/post/audit.log

	# estates, served; PRE and POST collected by BASE
	python3 "$here/estate.py" estate || die "estate.py failed"
	start_server pre
	start_server post
	"$KB" collect --kubeconfig kc-pre.yaml --case EQ-1 --phase pre --operator Alice --org "ACME CSIRT" \
		--sa llm-gateway/gateway --agent-selector ai.example/agent=true --page-size 25 \
		--audit-log audit/pre.log --since 2026-03-02T07:00:00Z --until 2026-03-02T09:00:00Z \
		--out-dir staging-pre -q >"$W/collect-pre.log" 2>&1
	[ -f staging-pre/MANIFEST.json ] || die "BASE could not collect PRE (see $W/collect-pre.log)"
	"$KB" collect --kubeconfig kc-post.yaml --case EQ-1 --phase post --operator Alice --org "ACME CSIRT" \
		--sa llm-gateway/gateway --agent-selector ai.example/agent=true --page-size 25 \
		--audit-log audit/post/audit.log --since 2026-03-02T09:00:00Z \
		--out-dir staging-post -q >"$W/collect-post.log" 2>&1
	[ -f staging-post/MANIFEST.json ] || die "BASE could not collect POST (see $W/collect-post.log)"
	cp staging-pre/MANIFEST.json draft-pre.json
	cp staging-post/MANIFEST.json draft-post.json

	# an odd staging folder: long names (pax), spaces, an empty file, depth
	local long
	long=$(printf 'n%.0s' {1..120})
	mkdir -p "staging-odd/raw/with space" "staging-odd/a/b/c/d/e/f/g/h/i/j/k" "staging-odd/raw/$long"
	printf '{"kind":"PodList","items":[]}\n' >staging-odd/raw/pods.json
	printf 'x y\n' >"staging-odd/raw/with space/a b.txt"
	: >staging-odd/a/b/c/d/e/f/g/h/i/j/k/empty
	printf 'pax\n' >"staging-odd/raw/$long/$(printf 'f%.0s' {1..60}).json"
	printf '%s\n' '{"schema":"kcustody.bundle/v1","schema_version":1,"case":{"id":"EQ-2","note":"caf\u00e9 \u001b[2J \u2603"},' \
		'"evil\u001b]0;x\u0007":"v","nested":{"a":[1,2.5,true,null,"s"]}}' >draft-odd.json

	# bundles (sealing copies: seal writes into the staging folder)
	seal_copy() { # STAGING OUT ARGS...
		local st=$1 out=$2
		shift 2
		rm -rf "$W/sealtmp" && cp -a "$st" "$W/sealtmp" &&
			"$KB" seal "$W/sealtmp" -o "$out" "$@" >/dev/null 2>>"$W/seal.log" || die "BASE seal of $st failed (see $W/seal.log)"
	}
	seal_copy staging-pre "$PRE" --manifest draft-pre.json --key k1.pem --mtime 2026-03-02T09:00:00Z
	seal_copy staging-post "$POST" --manifest draft-post.json --key k1.pem --mtime 2026-03-02T11:00:00Z
	seal_copy staging-pre "$UNSIGNED" --manifest draft-pre.json --no-sign --mtime 2026-03-02T09:00:00Z
	seal_copy staging-odd "$ODD" --manifest draft-odd.json --key k1.pem --mtime 2026-03-01T00:00:00Z
	local tsa
	tsa=$(bash "$KC_REPO/tests/tsa/start.sh" "$W/pki" 2>/dev/null) || die "the test TSA did not start"
	seal_copy staging-pre "$CMS" --manifest draft-pre.json --key "$W/pki/signer-ec.key" \
		--cert "$W/pki/signer-ec.pem" --tsa "$tsa" --tsa-ca "$W/pki/ca.pem" --mtime 2026-03-02T09:00:00Z
	bash "$KC_REPO/tests/tsa/stop.sh" "$W/pki" >/dev/null 2>&1
	$TOOL repack "$PRE" tampered-modify.tar.gz modify raw/pods/page-0001.json &&
		$TOOL repack "$PRE" tampered-add.tar.gz add raw/extra.json || die "bundle_tool.py failed"
	python3 "$KC_REPO/tests/cmd/tarcraft.py" corpus "$ODD" corpus >/dev/null || die "tarcraft.py corpus failed"

	# POST's custody story; a copy whose ledger was edited afterwards
	{ KCUSTODY_NOW=2026-03-02T11:00:00Z "$KB" custody append "$POST" --action sealed --key k1.pem \
		--trust-keys trust.json --purpose "incident EQ-1" --location "SOC" &&
		KCUSTODY_NOW=2026-03-02T12:00:00Z "$KB" custody append "$POST" --action transferred --key k1.pem \
			--trust-keys trust.json --to Bob --method sftp &&
		KCUSTODY_NOW=2026-03-02T13:00:00Z "$KB" custody append "$POST" --action received --key k2.pem \
			--trust-keys trust.json --from Alice --method sftp &&
		KCUSTODY_NOW=2026-03-02T14:00:00Z "$KB" custody append "$POST" --action verified --key k2.pem \
			--trust-keys trust.json --note "checked"; } >/dev/null 2>>"$W/custody.log" ||
		die "BASE custody append failed (see $W/custody.log)"
	mkdir -p badledger
	cp "$POST" "$BADLEDGER"
	sed 's/"method":"sftp"/"method":"post"/' "$POST.custody.jsonl" >"$BADLEDGER.custody.jsonl"
	cmp -s "$POST.custody.jsonl" "$BADLEDGER.custody.jsonl" && die "the ledger edit changed nothing"

	# a local archive store: POST past its retention (prunable), PRE held
	cp "$PRE" "$W/pre-for-store.tar.gz"
	{ KCUSTODY_NOW=2026-03-02T09:00:00Z "$KB" custody append "$W/pre-for-store.tar.gz" --action sealed --key k1.pem &&
		KCUSTODY_NOW=2026-03-02T15:00:00Z "$KB" archive put "$POST" --store store --retain-until 2026-03-02 \
		--key k2.pem --trust-keys trust.json &&
		KCUSTODY_NOW=2026-03-02T15:00:00Z "$KB" archive put "$W/pre-for-store.tar.gz" --store store --retain 7y --legal-hold --key k1.pem; } \
		>/dev/null 2>>"$W/archive.log" || die "BASE archive put failed (see $W/archive.log)"
	POST_ID=$(sha256sum "$POST" | cut -c1-64)

	# SubjectAccessReviews (one, and a List) and a stored rules review
	sar() { # USER NS VERB RESOURCE [SUB] ...
		printf '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"%s","groups":["system:serviceaccounts","system:serviceaccounts:%s","system:authenticated"],"resourceAttributes":{"namespace":"%s","verb":"%s","resource":"%s","subresource":"%s"}}}' \
			"system:serviceaccount:$1" "${1%%:*}" "$2" "$3" "$4" "${5:-}"
	}
	sar ai-agents:kagent payments get secrets >sar-one.json
	{
		printf '{"apiVersion":"v1","kind":"List","items":['
		sar ai-agents:kagent payments list secrets; printf ','
		sar ai-agents:kagent ai-agents get configmaps; printf ','
		sar ai-agents:mcp-tools ai-agents create pods exec; printf ','
		sar ai-agents:rag-indexer ai-agents delete deployments; printf ','
		sar llm-gateway:gateway payments get secrets; printf ','
		sar monitoring:prometheus kube-system update configmaps; printf ','
		printf '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"system:serviceaccount:ai-agents:mcp-tools","nonResourceAttributes":{"path":"/metrics","verb":"post"}}}'
		printf ']}\n'
	} >sar-list.json
	cp staging-pre/reviews/ai-agents__kagent/ai-agents.json review-kagent.json
	cp staging-pre/reviews/ai-agents__mcp-tools/ai-agents.json review-mcp.json
	touch existing.out
	cd - >/dev/null || exit 2
}

# -------------------------------------------------------------- the cases
# c LABEL ARGS...                 kcustody ARGS, stdin /dev/null
# c_in FILE LABEL ARGS...         with FILE on stdin
# c_prep 'SHELL' LABEL ARGS...    SHELL (copies of inputs) runs in the case folder first
# c_mask KIND LABEL ARGS...       normalise KIND (see the header) before comparing
# c_kubectl LABEL ARGS...         as kubectl-custody (the plugin name)
c() { run_case "$1" "" "" /dev/null kcustody "${@:2}"; }
c_in() { run_case "$2" "" "" "$1" kcustody "${@:3}"; }
c_prep() { run_case "$2" "" "$1" /dev/null kcustody "${@:3}"; }
c_mask() { run_case "$2" "$1" "" /dev/null kcustody "${@:3}"; }
c_kubectl() { run_case "$1" "" "" /dev/null kubectl-custody "${@:2}"; }

cases() {
	local cmd f fmt b form s

	# -- usage, help, completion
	c "kcustody --help" --help
	c "kcustody help" help
	c "kcustody (no command)"
	c "kcustody nosuch" nosuch
	c "help verify" help verify
	c "help nosuch" help nosuch
	for cmd in archive audit can-i collect completion custody diff inspect keygen report seal verify who-can; do
		c "$cmd --help" "$cmd" --help
	done
	for cmd in verify inspect can-i who-can diff report audit custody seal; do
		c "$cmd --no-such-option" "$cmd" --no-such-option
	done
	for s in bash zsh fish tcsh; do c "completion $s" completion "$s"; done
	c_kubectl "kubectl-custody --help" --help
	c_kubectl "kubectl-custody verify (no bundle)" verify
	c_kubectl "kubectl-custody verify pre --pubkey" verify "$PRE" --pubkey "$I/k1.pub"

	# -- keygen (read-only forms)
	for f in k1.pub k1.pem signer-ec.pub; do c "keygen --fingerprint $f" keygen --fingerprint "$I/$f"; done
	c "keygen --fingerprint CMS certificate" keygen --fingerprint "$W/pki/signer-ec.pem"
	c "keygen --fingerprint missing" keygen --fingerprint "$I/nope.pem"
	c_prep 'cp "$I/k1.pem" key.pem' "keygen -o existing key (never overwritten)" keygen -o key.pem

	# -- verify
	for fmt in "" --json "--format json" "--format text"; do
		# shellcheck disable=SC2086
		c "verify pre --pubkey${fmt:+ $fmt}" verify "$PRE" --pubkey "$I/k1.pub" $fmt
		# shellcheck disable=SC2086
		c "verify pre wrong key${fmt:+ $fmt}" verify "$PRE" --pubkey "$I/k2.pub" $fmt
		# shellcheck disable=SC2086
		c "verify pre no key${fmt:+ $fmt}" verify "$PRE" $fmt
		# shellcheck disable=SC2086
		c "verify tampered (modified member)${fmt:+ $fmt}" verify "$I/tampered-modify.tar.gz" --pubkey "$I/k1.pub" $fmt
	done
	c "verify pre no key --allow-unsigned" verify "$PRE" --allow-unsigned
	c "verify pre missing key file" verify "$PRE" --pubkey "$I/nope.pub"
	c "verify pre --max-member 100" verify "$PRE" --pubkey "$I/k1.pub" --max-member 100
	c "verify pre --max-total 4096" verify "$PRE" --pubkey "$I/k1.pub" --max-total 4096
	c "verify pre --require-custody (no ledger)" verify "$PRE" --pubkey "$I/k1.pub" --require-custody
	c "verify pre --tsa-ca (no token)" verify "$PRE" --pubkey "$I/k1.pub" --tsa-ca "$W/pki/ca.pem"
	c "verify tampered (added member)" verify "$I/tampered-add.tar.gz" --pubkey "$I/k1.pub"
	c "verify tampered (added member) --json" verify "$I/tampered-add.tar.gz" --pubkey "$I/k1.pub" --json
	c "verify post (ledger beside)" verify "$POST" --pubkey "$I/k1.pub"
	c "verify post --json" verify "$POST" --pubkey "$I/k1.pub" --json
	c "verify post --trust-keys" verify "$POST" --pubkey "$I/k1.pub" --trust-keys "$I/trust.json"
	c "verify post --trust-keys (Bob only)" verify "$POST" --pubkey "$I/k1.pub" --trust-keys "$I/trust-bob.json" --json
	c "verify post --no-ledger" verify "$POST" --pubkey "$I/k1.pub" --no-ledger
	c "verify post --ledger (edited copy)" verify "$POST" --pubkey "$I/k1.pub" --ledger "$BADLEDGER.custody.jsonl"
	c "verify edited ledger" verify "$BADLEDGER" --pubkey "$I/k1.pub"
	c "verify edited ledger --json" verify "$BADLEDGER" --pubkey "$I/k1.pub" --json
	c "verify unsigned" verify "$UNSIGNED"
	c "verify unsigned --allow-unsigned" verify "$UNSIGNED" --allow-unsigned
	c "verify unsigned --allow-unsigned --json" verify "$UNSIGNED" --allow-unsigned --json
	c "verify unsigned --pubkey" verify "$UNSIGNED" --pubkey "$I/k1.pub"
	c "verify cms --ca" verify "$CMS" --ca "$W/pki/ca.pem"
	c "verify cms --ca --tsa-ca" verify "$CMS" --ca "$W/pki/ca.pem" --tsa-ca "$W/pki/ca.pem"
	c "verify cms --ca --tsa-ca --json" verify "$CMS" --ca "$W/pki/ca.pem" --tsa-ca "$W/pki/ca.pem" --json
	c "verify cms --pubkey signer" verify "$CMS" --pubkey "$I/signer-ec.pub"
	c "verify cms wrong --ca" verify "$CMS" --ca "$I/other-ca.pem"
	c "verify cms wrong --pubkey" verify "$CMS" --pubkey "$I/k1.pub"
	c "verify cms --tsa-ca wrong" verify "$CMS" --ca "$W/pki/ca.pem" --tsa-ca "$I/other-ca.pem"
	c "verify odd (pax names)" verify "$ODD" --pubkey "$I/k1.pub"
	for b in "$FIX"/*.tar.gz; do
		c "verify 0.1 fixture ${b##*/}" verify "$b" --pubkey "$FIX/fixture-signer.pub.pem"
		c "verify 0.1 fixture ${b##*/} --json" verify "$b" --pubkey "$FIX/fixture-signer.pub.pem" --json
	done
	c "verify missing bundle" verify "$I/nope.tar.gz" --pubkey "$I/k1.pub"
	c "verify (no bundle)" verify
	c "verify not a bundle" verify "$I/k1.pub" --pubkey "$I/k1.pub"
	while IFS=$'\t' read -r f _; do
		c "verify hostile corpus $f" verify "$I/corpus/$f.tar.gz" --pubkey "$I/k1.pub" --json
	done <"$I/corpus/INDEX"

	# -- inspect
	for fmt in "" --list --json "--format json" "--format text"; do
		# shellcheck disable=SC2086
		c "inspect pre${fmt:+ $fmt}" inspect "$PRE" $fmt
	done
	for f in MANIFEST.json SHA256SUMS SHA256SUMS.sig VERIFY.txt raw/pods/page-0001.json analysis/findings.txt \
		audit/segment.jsonl nope.json; do
		c "inspect pre $f" inspect "$PRE" "$f"
	done
	c "inspect post" inspect "$POST"
	c "inspect cms" inspect "$CMS"
	c "inspect odd" inspect "$ODD"
	c "inspect odd --list" inspect "$ODD" --list
	c "inspect odd long member" inspect "$ODD" "raw/$(printf 'n%.0s' {1..120})/$(printf 'f%.0s' {1..60}).json"
	c "inspect tampered" inspect "$I/tampered-modify.tar.gz"
	c "inspect 0.1 fixture" inspect "$FIX/IR-0.1_pre_fixture_20261130T000000Z.tar.gz"
	c "inspect 0.1 fixture --list" inspect "$FIX/IR-0.1_post_fixture_20261130T010000Z.tar.gz" --list
	c "inspect corpus gz-second-member" inspect "$I/corpus/gz-second-member.tar.gz"
	c "inspect missing" inspect "$I/nope.tar.gz"

	# -- can-i
	for b in pre post; do
		[ $b = pre ] && f=$PRE || f=$POST
		c "can-i $b kagent" can-i "$f" --sa ai-agents/kagent
		c "can-i $b kagent --offline" can-i "$f" --sa ai-agents/kagent --offline
		c "can-i $b kagent --json" can-i "$f" --sa ai-agents/kagent --json
		c "can-i $b kagent --format json" can-i "$f" --sa ai-agents/kagent --format json
		c "can-i $b kagent -n rag-data" can-i "$f" --sa ai-agents/kagent -n rag-data
		c "can-i $b kagent -n rag-data --offline --json" can-i "$f" --sa ai-agents/kagent -n rag-data --offline --json
		c "can-i $b mcp-tools (incomplete review)" can-i "$f" --sa ai-agents/mcp-tools
		c "can-i $b mcp-tools --offline --json" can-i "$f" --sa ai-agents/mcp-tools --offline --json
		c "can-i $b rag-indexer" can-i "$f" --sa ai-agents/rag-indexer
		c "can-i $b gateway -n payments" can-i "$f" --sa llm-gateway/gateway -n payments
		c "can-i $b prometheus -n kube-system" can-i "$f" --sa monitoring/prometheus -n kube-system
		c "can-i $b --sar one" can-i "$f" --sar "$I/sar-one.json"
		c "can-i $b --sar list" can-i "$f" --sar "$I/sar-list.json"
		c "can-i $b --all-sas" can-i "$f" --all-sas
		c_mask seconds "can-i $b --all-sas --stats" can-i "$f" --all-sas --stats
	done
	c "can-i staging folder kagent" can-i "$I/staging-pre" --sa ai-agents/kagent
	c "can-i staging folder who-can-ish --json" can-i "$I/staging-post" --sa est-001/kagent-bot-0013 --json
	c "can-i pre --compare kagent review" can-i "$PRE" --sa ai-agents/kagent --compare "$I/review-kagent.json"
	c "can-i pre --compare mcp review" can-i "$PRE" --sa ai-agents/mcp-tools --compare "$I/review-mcp.json"
	c_in "$I/sar-list.json" "can-i pre --sar - (stdin)" can-i "$PRE" --sar -
	c "can-i --review-json file" can-i --review-json "$I/review-kagent.json"
	c_in "$I/review-mcp.json" "can-i --review-json - (stdin)" can-i --review-json -
	c "can-i unsigned bundle" can-i "$UNSIGNED" --sa ai-agents/kagent
	c "can-i pre unknown sa" can-i "$PRE" --sa ai-agents/nobody
	c "can-i pre bad sa name" can-i "$PRE" --sa 'ai-agents/Bad_Name'
	c "can-i pre (no --sa)" can-i "$PRE"
	c "can-i missing source" can-i "$I/nope.tar.gz" --sa ai-agents/kagent

	# -- who-can
	for b in pre post; do
		[ $b = pre ] && f=$PRE || f=$POST
		c "who-can $b get secrets" who-can "$f" get secrets
		c "who-can $b get secrets --json" who-can "$f" get secrets --json
		c "who-can $b list secrets -n payments" who-can "$f" list secrets -n payments
		c "who-can $b create pods/exec" who-can "$f" create pods/exec
		c "who-can $b impersonate serviceaccounts" who-can "$f" impersonate serviceaccounts
		c "who-can $b get nodes/proxy --format json" who-can "$f" get nodes/proxy --format json
		c "who-can $b * *" who-can "$f" '*' '*'
		c "who-can $b delete deployments.apps -n ai-agents" who-can "$f" delete deployments.apps -n ai-agents
		c "who-can $b update clusterroles.rbac.authorization.k8s.io" who-can "$f" update clusterroles.rbac.authorization.k8s.io
		c "who-can $b get configmaps --json" who-can "$f" get configmaps --json
	done
	c "who-can staging folder get secrets" who-can "$I/staging-post" get secrets
	c "who-can (missing resource)" who-can "$PRE" get
	c "who-can missing source" who-can "$I/nope.tar.gz" get secrets

	# -- diff
	for fmt in text json md html; do
		c "diff pre post --format $fmt" diff "$PRE" "$POST" --pubkey "$I/k1.pub" --format "$fmt"
		c "diff pre post --format $fmt -o" diff "$PRE" "$POST" --pubkey "$I/k1.pub" --format "$fmt" -o "diff.$fmt"
	done
	c "diff pre post (default format)" diff "$PRE" "$POST" --pubkey "$I/k1.pub"
	c "diff pre post --no-verify" diff "$PRE" "$POST" --no-verify --format json
	c "diff pre post --allow-unsigned (no key)" diff "$PRE" "$POST" --allow-unsigned
	c "diff pre post no key" diff "$PRE" "$POST"
	c "diff pre post wrong key" diff "$PRE" "$POST" --pubkey "$I/k2.pub"
	c "diff pre post --remediated-at" diff "$PRE" "$POST" --pubkey "$I/k1.pub" --remediated-at 2026-03-02T08:30:00Z --format md
	c "diff pre post --remediated-at bad" diff "$PRE" "$POST" --pubkey "$I/k1.pub" --remediated-at yesterday
	c "diff pre pre (same bundle twice)" diff "$PRE" "$PRE" --pubkey "$I/k1.pub"
	c "diff post post --format json (same bundle twice)" diff "$POST" "$POST" --pubkey "$I/k1.pub" --format json
	c "diff post pre (reversed)" diff "$POST" "$PRE" --pubkey "$I/k1.pub"
	c "diff unsigned post --allow-unsigned" diff "$UNSIGNED" "$POST" --allow-unsigned --format json
	c "diff tampered post" diff "$I/tampered-modify.tar.gz" "$POST" --pubkey "$I/k1.pub"
	c "diff pre odd (other cluster)" diff "$PRE" "$ODD" --pubkey "$I/k1.pub"
	c "diff --format xml" diff "$PRE" "$POST" --pubkey "$I/k1.pub" --format xml
	c_prep 'cp "$I/existing.out" out.txt' "diff -o existing file" diff "$PRE" "$POST" --pubkey "$I/k1.pub" -o out.txt
	c_prep 'cp "$I/existing.out" out.txt' "diff -o existing file --force" diff "$PRE" "$POST" --pubkey "$I/k1.pub" -o out.txt --force
	c "diff --seal folder --key" diff "$PRE" "$POST" --pubkey "$I/k1.pub" --seal . --key "$I/k1.pem"
	c "diff --seal file --no-sign --format md" diff "$PRE" "$POST" --pubkey "$I/k1.pub" --format md \
		--seal EQ-1_diff_x_20260303T000000Z.tar.gz --no-sign
	c "diff --seal without key" diff "$PRE" "$POST" --pubkey "$I/k1.pub" --seal .

	# -- report
	c "report post --diff pre -o" report "$POST" --diff "$PRE" --pubkey "$I/k1.pub" -o report.html
	c "report pre -o" report "$PRE" --pubkey "$I/k1.pub" -o pre.html
	c "report post -o - (stdout)" report "$POST" --pubkey "$I/k1.pub" -o -
	c "report post --trust-keys" report "$POST" --pubkey "$I/k1.pub" --trust-keys "$I/trust.json" -o r.html
	c "report post --no-ledger --remediated-at" report "$POST" --diff "$PRE" --pubkey "$I/k1.pub" --no-ledger \
		--remediated-at 2026-03-02T08:30:00Z -o r.html
	c "report post --no-verify" report "$POST" --no-verify -o r.html
	c "report post wrong key (invalid page)" report "$POST" --pubkey "$I/k2.pub" -o r.html
	c "report tampered (invalid page)" report "$I/tampered-modify.tar.gz" --pubkey "$I/k1.pub" -o r.html
	c "report edited ledger" report "$BADLEDGER" --pubkey "$I/k1.pub" -o r.html
	c "report unsigned --allow-unsigned" report "$UNSIGNED" --allow-unsigned -o -
	c "report cms --ca --tsa-ca" report "$CMS" --ca "$W/pki/ca.pem" --tsa-ca "$W/pki/ca.pem" -o r.html
	c "report odd" report "$ODD" --pubkey "$I/k1.pub" -o -
	c "report 0.1 fixture" report "$FIX/IR-0.1_pre_fixture_20261130T000000Z.tar.gz" \
		--pubkey "$FIX/fixture-signer.pub.pem" -o -
	c "report (no -o)" report "$POST" --pubkey "$I/k1.pub"
	c_prep 'cp "$I/existing.out" r.html' "report -o existing file" report "$POST" --pubkey "$I/k1.pub" -o r.html
	c_prep 'cp "$I/existing.out" r.html' "report -o existing file --force" report "$POST" --pubkey "$I/k1.pub" -o r.html --force

	# -- audit: the API server's log
	L=$I/audit/pre.log
	c "audit all events" audit --audit-log "$L"
	c "audit --count" audit --audit-log "$L" --count
	c "audit --summary" audit --audit-log "$L" --summary
	c "audit --sa kagent" audit --audit-log "$L" --sa ai-agents/kagent
	c "audit --sa two --count" audit --audit-log "$L" --sa ai-agents/kagent --sa llm-gateway/gateway --count
	c "audit --user alice" audit --audit-log "$L" --user alice@example.com
	c "audit --resource secrets" audit --audit-log "$L" --resource secrets
	c "audit --resource secrets --no-redact" audit --audit-log "$L" --resource secrets --no-redact
	c "audit --resource pods --verb get --verb list" audit --audit-log "$L" --resource pods --verb get --verb list
	c "audit --namespace payments --count" audit --audit-log "$L" --namespace payments --count
	c "audit --decision forbid" audit --audit-log "$L" --decision forbid
	c "audit --code 403 --count" audit --audit-log "$L" --code 403 --count
	c "audit --preset sensitive-reads" audit --audit-log "$L" --preset sensitive-reads
	c "audit --preset denied --summary" audit --audit-log "$L" --preset denied --summary
	c "audit --since --until" audit --audit-log "$L" --since 2026-03-02T08:00:10Z --until 2026-03-02T08:00:20Z
	c "audit --since 20h (KCUSTODY_NOW) --count" audit --audit-log "$L" --since 20h --count
	c "audit --since 15h (KCUSTODY_NOW) --count" audit --audit-log "$L" --since 15h --count
	c "audit --exclude-user-agent --count" audit --audit-log "$L" --exclude-user-agent kube-controller-manager --count
	c "audit --exclude-audit-id-prefix --count" audit --audit-log "$L" --exclude-audit-id-prefix 0 --count
	c "audit --run --count" audit --audit-log "$L" --run kc-0123456789abcdef --count
	c "audit --exclude-run --count" audit --audit-log "$L" --exclude-run kc-0123456789abcdef --count
	c "audit --validate --count" audit --audit-log "$L" --validate --count
	c "audit --gap 1s --summary" audit --audit-log "$L" --gap 1s --summary
	c "audit --line-max 600 --count" audit --audit-log "$L" --line-max 600 --count
	c "audit --stage" audit --audit-log "$L" --sa ai-agents/kagent --preset sensitive-reads --stage st
	c_in "$L" "audit - (stdin) --count" audit --audit-log - --count
	c "audit rotated folder --summary" audit --audit-log "$I/audit/post" --summary
	c "audit rotated current file (backups beside) --count" audit --audit-log "$I/audit/post/audit.log" --count
	c "audit rotated --no-rotated --summary" audit --audit-log "$I/audit/post/audit.log" --no-rotated --summary
	c "audit two logs --preset denied" audit --audit-log "$L" --audit-log "$I/audit/post" --preset denied
	c "audit duplicate keys --sa kagent" audit --audit-log "$I/audit/dupkeys.log" --sa ai-agents/kagent
	c "audit duplicate keys --user alice --count" audit --audit-log "$I/audit/dupkeys.log" --user alice@example.com --count
	c "audit duplicate keys --verb list --count" audit --audit-log "$I/audit/dupkeys.log" --verb list --count
	c "audit duplicate keys --preset sensitive-reads" audit --audit-log "$I/audit/dupkeys.log" --preset sensitive-reads
	c "audit malformed --summary" audit --audit-log "$I/audit/malformed.log" --summary
	c "audit malformed --malformed FILE" audit --audit-log "$I/audit/malformed.log" --malformed bad.jsonl --validate
	c "audit (no --audit-log)" audit --count
	c "audit missing log" audit --audit-log "$I/audit/nope.log" --count
	c "audit --decision maybe" audit --audit-log "$L" --decision maybe
	c "audit --since bad" audit --audit-log "$L" --since soon
	# -- audit: managed clusters' exports and their negative twins
	for form in native eks-cwl eks-s3 gke-array gke-sink aks-lines aks-doc; do
		c "audit cloud $form --preset sensitive-reads" audit --audit-log "$I/cloud/$form" --preset sensitive-reads
		c "audit cloud $form --summary" audit --audit-log "$I/cloud/$form" --summary
	done
	for form in eks-cwl gke-array aks-doc; do
		c "audit cloud $form --records" audit --audit-log "$I/cloud/$form" --preset denied --records records.jsonl
	done
	for b in bad/eks-notaudit bad/gke-badmethod bad/mixed bad/eks-s3-trunc; do
		c "audit cloud $b --summary" audit --audit-log "$I/cloud/$b" --summary
	done
	for b in blind/aks-admin blind/gke-activity; do
		c "audit cloud $b sensitive-reads --count" audit --audit-log "$I/cloud/$b" --preset sensitive-reads --count
		c "audit cloud $b --verb create --count" audit --audit-log "$I/cloud/$b" --verb create --count
		c "audit cloud $b denied --summary" audit --audit-log "$I/cloud/$b" --preset denied --summary
	done
	c "audit cloud all --no-rotated --summary" audit --audit-log "$I/cloud" --no-rotated --summary
	c "audit cloud gke-array --audit-format eks --count" audit --audit-log "$I/cloud/gke-array" --audit-format eks --count
	c "audit cloud aks-lines --audit-format aks --count" audit --audit-log "$I/cloud/aks-lines" --audit-format aks --count
	c "audit --audit-format splunk" audit --audit-log "$I/cloud/gke-array" --audit-format splunk

	# -- custody (show and verify read; append writes a copy's ledger)
	for fmt in "" --json; do
		# shellcheck disable=SC2086
		c "custody show post${fmt:+ $fmt}" custody show "$POST" $fmt
		# shellcheck disable=SC2086
		c "custody verify post${fmt:+ $fmt}" custody verify "$POST" $fmt
		# shellcheck disable=SC2086
		c "custody show post --trust-keys${fmt:+ $fmt}" custody show "$POST" --trust-keys "$I/trust.json" $fmt
		# shellcheck disable=SC2086
		c "custody verify post --trust-keys (Bob only)${fmt:+ $fmt}" custody verify "$POST" --trust-keys "$I/trust-bob.json" $fmt
		# shellcheck disable=SC2086
		c "custody show edited ledger${fmt:+ $fmt}" custody show "$BADLEDGER" $fmt
		# shellcheck disable=SC2086
		c "custody verify edited ledger${fmt:+ $fmt}" custody verify "$BADLEDGER" $fmt
	done
	c "custody show post --ledger (edited copy)" custody show "$POST" --ledger "$BADLEDGER.custody.jsonl"
	c "custody show pre (no ledger)" custody show "$PRE"
	c "custody (no verb)" custody
	c "custody nosuch" custody nosuch "$POST"
	local cp_post='cp "$POST" "$POST.custody.jsonl" .'
	c_prep "$cp_post" "custody append verified" custody append "${POST##*/}" --action verified \
		--key "$I/k2.pem" --trust-keys "$I/trust.json" --note "equiv" --location "lab"
	c_prep "$cp_post" "custody append transferred by the holder" custody append "${POST##*/}" \
		--action transferred --key "$I/k2.pem" --to Alice --method "hand delivery" --purpose review
	c_prep "$cp_post" "custody append released by a non-holder (refused)" custody append "${POST##*/}" \
		--action released --key "$I/k1.pem" --trust-keys "$I/trust.json"
	c_prep "$cp_post" "custody append bad action" custody append "${POST##*/}" --action lost --key "$I/k1.pem"
	c_prep 'cp "$PRE" .' "custody append sealed (new ledger)" custody append "${PRE##*/}" --action sealed \
		--key "$I/k1.pem" --name Alice --org "ACME CSIRT"
	c_prep 'cp "$PRE" .' "custody append received (no ledger: refused)" custody append "${PRE##*/}" \
		--action received --key "$I/k1.pem"
	c_prep 'cp "$BADLEDGER" "$BADLEDGER.custody.jsonl" .' "custody append to edited ledger (refused)" \
		custody append "${BADLEDGER##*/}" --action verified --key "$I/k2.pem"

	# -- seal (each seals its own copy of a staging folder; the bundle, and
	#    what seal wrote into the folder, are compared)
	local cp_pre='cp -a "$I/staging-pre" st'
	c_prep "$cp_pre" "seal pre --key --mtime" seal st -o "${PRE##*/}" --manifest "$I/draft-pre.json" \
		--key "$I/k1.pem" --mtime 2026-03-02T09:00:00Z
	c_prep "$cp_pre" "seal pre --key --mtime (other mtime)" seal st -o EQ-1_pre_equiv_20260302T093000Z.tar.gz \
		--manifest "$I/draft-pre.json" --key "$I/k1.pem" --mtime 2026-03-02T09:30:00+00:00
	c_prep "$cp_pre" "seal pre --no-sign" seal st -o x_pre_y_20260302T090000Z.tar.gz --manifest "$I/draft-pre.json" \
		--no-sign --mtime 2026-03-02T09:00:00Z
	c_prep "$cp_pre" "seal pre --level 1" seal st -o l1.tar.gz --manifest "$I/draft-pre.json" \
		--key "$I/k1.pem" --mtime 2026-03-02T09:00:00Z --level 1
	c_prep "$cp_pre" "seal pre --level 9" seal st -o l9.tar.gz --manifest "$I/draft-pre.json" \
		--key "$I/k1.pem" --mtime 2026-03-02T09:00:00Z --level 9
	c_prep "$cp_pre" "seal pre without --manifest" seal st -o nomanifest.tar.gz --key "$I/k1.pem" \
		--mtime 2026-03-02T09:00:00Z
	c_prep 'cp -a "$I/staging-post" st' "seal post --key --mtime" seal st -o "${POST##*/}" \
		--manifest "$I/draft-post.json" --key "$I/k1.pem" --mtime 2026-03-02T11:00:00Z
	c_prep 'cp -a "$I/staging-odd" st' "seal odd (pax names, escapes in draft)" seal st -o "${ODD##*/}" \
		--manifest "$I/draft-odd.json" --key "$I/k1.pem" --mtime 2026-03-01T00:00:00Z
	c_prep 'cp -a "$I/staging-odd" st' "seal odd --key k2" seal st -o odd2.tar.gz --key "$I/k2.pem" \
		--mtime 1999-12-31T23:59:59Z
	c_prep "$cp_pre" "seal --mtime bad" seal st -o m.tar.gz --key "$I/k1.pem" --mtime yesterday
	c_prep "$cp_pre" "seal -o not .tar.gz" seal st -o m.tgz --key "$I/k1.pem" --mtime 2026-03-02T09:00:00Z
	c_prep "$cp_pre" "seal --cert without --key" seal st -o m.tar.gz --cert "$W/pki/signer-ec.pem"
	c_prep "$cp_pre" "seal --level 0" seal st -o m.tar.gz --no-sign --level 0
	c_prep "$cp_pre" "seal --manifest not an object" seal st -o m.tar.gz --no-sign --manifest "$I/existing.out"
	c_prep "$cp_pre" "seal missing key" seal st -o m.tar.gz --key "$I/nope.pem"
	c "seal missing folder" seal "$I/nope" -o m.tar.gz --no-sign
	c_prep 'cp -a "$I/staging-pre" st && cp "$I/existing.out" existing.tar.gz' "seal -o existing file" \
		seal st -o existing.tar.gz --key "$I/k1.pem" --mtime 2026-03-02T09:00:00Z

	# -- archive, local store (every case on its own copy of the store)
	local cp_store='cp -a "$I/store" store'
	for fmt in "" --json; do
		# shellcheck disable=SC2086
		c_prep "$cp_store" "archive list${fmt:+ $fmt}" archive list --store store $fmt
		# shellcheck disable=SC2086
		c_prep "$cp_store" "archive verify --all${fmt:+ $fmt}" archive verify --all --store store $fmt
		# shellcheck disable=SC2086
		c_prep "$cp_store" "archive prune --dry-run${fmt:+ $fmt}" archive prune --store store --key "$I/k2.pem" --dry-run $fmt
	done
	c_prep "$cp_store" "archive verify ID --trust-keys" archive verify "$POST_ID" --store store --trust-keys "$I/trust.json"
	c_prep "$cp_store" "archive verify ID prefix" archive verify "${POST_ID:0:12}" --store store
	c_prep "$cp_store" "archive get" archive get "${POST_ID:0:12}" -o got.tar.gz --store store --key "$I/k2.pem"
	c_prep "$cp_store" "archive prune (disposes POST)" archive prune --store store --key "$I/k2.pem" \
		--trust-keys "$I/trust.json"
	c_prep "$cp_store"' && f=store/objects/$POST_ID && chmod u+w "$f" && printf x >>"$f"' \
		"archive verify damaged store" archive verify --all --store store
	c_prep 'cp "$POST" "$POST.custody.jsonl" .' "archive put" archive put "${POST##*/}" --store newstore \
		--retain 7y --key "$I/k2.pem" --trust-keys "$I/trust.json" --location vault
	c_prep 'cp "$POST" "$POST.custody.jsonl" .' "archive put --retain-until past" archive put "${POST##*/}" \
		--store newstore --retain-until 2020-01-01 --key "$I/k2.pem"
	c "archive list missing store" archive list --store "$I/nope"

	# -- collect against the fake server (evidence folders; mask=collect)
	c_mask collect "collect pre --out-dir" collect --kubeconfig "$I/kc-pre.yaml" --case EQ-1 --phase pre \
		--operator Alice --sa llm-gateway/gateway --agent-selector ai.example/agent=true --page-size 25 \
		--audit-log "$I/audit/pre.log" --since 2026-03-02T07:00:00Z --until 2026-03-02T09:00:00Z \
		--review-parallel 1 --out-dir ev
	c_mask collect "collect post --out-dir --all-sas --no-reviews --fail-on high" collect \
		--kubeconfig "$I/kc-post.yaml" --case EQ-1 --phase post --operator Alice --all-sas --no-reviews \
		--fail-on high --audit-log "$I/audit/post" --since 2026-03-02T09:00:00Z --audit-all-subjects \
		--audit-filter verb=get --no-redact --out-dir ev
	c_mask collect "collect post --agents mcp --all-namespaces" collect --kubeconfig "$I/kc-post.yaml" \
		--case EQ-1 --phase baseline --operator Alice --agents 'mcp' --all-namespaces --page-size 7 \
		--review-parallel 1 --out-dir ev
	c "collect (no --case)" collect --kubeconfig "$I/kc-pre.yaml" --phase pre --out-dir ev
	c "collect bad kubeconfig" collect --kubeconfig "$I/k1.pub" --case EQ-1 --phase pre --out-dir ev
	c_prep 'mkdir ev' "collect --out-dir existing" collect --kubeconfig "$I/kc-pre.yaml" --case EQ-1 --phase pre --out-dir ev
}

# ------------------------------------------------------------- the runner
# run_case LABEL MASK PREP STDIN PROG ARGS...: case number N+1, in RUN/NNN/w,
# in the background (EQUIV_JOBS at a time; cases share nothing writable);
# in the plan pass (PLAN=1) only its label is written down.  A side given an
# ONLY list runs just the cases named there (the numbers stay the same).
run_case() {
	local label=$1 mask=$2 prep=$3 in=$4 prog=$5 d
	shift 5
	N=$((N + 1))
	if [ "$PLAN" = 1 ]; then
		printf '%s\n' "$label" >>"$W/labels"
		return 0
	fi
	[ -z "$ONLY" ] || [ -n "${ONLY_SET[$label]:-}" ] || return 0
	printf -v d '%s/%03d' "$RUN" "$N"
	printf '%s\n' "$label" >"$d/label"
	printf '%s\n' "$mask" >"$d/mask"
	if [ "$RUNNING" -ge "$JOBS" ]; then
		wait -n
		RUNNING=$((RUNNING - 1))
	fi
	(
		cd "$d/w" || exit 1
		if [ -n "$prep" ]; then
			eval "$prep" || { printf '%s\n' "$label" >>"$W/prep-failed"; exit 1; }
		fi
		t=$EPOCHREALTIME rc=0
		EQUIV_LABEL=$label "$SIDE_BIN/$prog" "$@" <"$in" >"$d/stdout" 2>"$d/stderr" || rc=$?
		echo "$rc" >"$d/rc"
		echo "${d##*/} $t $EPOCHREALTIME" >"$TIMES/${d##*/}"
	) &
	RUNNING=$((RUNNING + 1))
}

# The plan: every label once, in order (duplicates are an error).
plan() {
	local dup
	: >"$W/labels"
	PLAN=1 N=0
	cases
	PLAN=0 NCASES=$N
	dup=$(LC_ALL=C sort "$W/labels" | uniq -d | head -n 3)
	[ -z "$dup" ] || die "labels used twice: $dup"
}

# inputs_digest: type, mode, size, path and SHA-256 of everything in the inputs
inputs_digest() {
	(cd "$I" && find . -printf '%y %m %s %p\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort) |
		sha256sum | cut -c1-64
}

# run_side NAME BIN [LABELS_FILE]: the cases (all, or those listed) with BIN
# copied to WORK/bin, into WORK/out/NAME
run_side() {
	local name=$1 l
	SIDE_BIN=$W/bin ONLY=${3:-}
	ONLY_SET=()
	if [ -n "$ONLY" ]; then
		while IFS= read -r l; do ONLY_SET[$l]=1; done <"$ONLY"
	fi
	rm -rf "${W:?}/bin" "${W:?}/run"
	mkdir -p "$W/bin"
	cp "$2" "$W/bin/kcustody"
	ln -s kcustody "$W/bin/kubectl-custody"
	RUN=$W/run N=0 TIMES=$W/times-$name RUNNING=0
	rm -rf "$TIMES" "$W/prep-failed"
	mkdir -p "$TIMES"
	if [ -n "$ONLY" ]; then
		awk 'NR == FNR { want[$0] = 1; next } ($0 in want) { printf "%s/%03d/w\n", run, FNR }' \
			run="$RUN" "$ONLY" "$W/labels" | xargs -d '\n' mkdir -p
	else
		seq -f "$RUN/%03g/w" 1 "$NCASES" | xargs -d '\n' mkdir -p
	fi
	cases
	wait
	[ ! -e "$W/prep-failed" ] || die "preparing these cases failed: $(head -n 3 "$W/prep-failed")"
	[ "$N" = "$NCASES" ] || die "the $name side counted $N cases, the plan $NCASES"
	[ "$(inputs_digest)" = "$INPUTS" ] || die "the inputs changed while running the $name side (a command wrote into $I)"
	mv "$W/run" "$W/out/$name"
}

# mask_files KIND DIR: the normalisation of the header, in place (idempotent)
mask_files() {
	local kind=$1 d=$2 f
	case $kind in
	seconds)
		sed -i -E 's/( seconds )[0-9]+\.[0-9]+$/\1(masked)/' "$d/stdout" ;;
	collect)
		find "$d/w" -type f \( -name MANIFEST.json -o -path '*/audit/sources.json' \) -print0 |
			while IFS= read -r -d '' f; do
				# the request log's Audit-ID numbers: the lists run on two
				# connections (collector/collect.c), so the numbers the
				# run's one counter gives them follow which request went
				# first; test_collect.sh checks they are unique
				sed -i -E -e 's/kc-[0-9a-f]{16}/kc-(run)/g' \
					-e 's/("audit_id":[[:space:]]*"kc-\(run\)-)[0-9]{6}(\.[0-9]+)?"/\1(seq)"/' \
					-e 's/^([[:space:]]*"(bundle_id|bundleID|evidence_id|started|finished|server_date|local_time|offset_seconds|duration_ms|executable_sha256)":[[:space:]]*).*$/\1(masked)/' "$f"
			done ;;
	esac
}

# show_diff A_FILE B_FILE: the first lines of a difference
show_diff() {
	if grep -qI . "$1" "$2" 2>/dev/null || [ ! -s "$1" ] || [ ! -s "$2" ]; then
		diff -u --label "$SA" --label "$SB" "$1" "$2" | sed -n '3,14p' | cut -c1-200 | sed 's/^/      /'
	else
		printf '      %s\n' "$(cmp "$1" "$2" 2>&1 | sed "s|$W/out/||g")"
	fi
}

# find_differences A B: one recursive comparison of two output trees (the
# bytes of every file; the type and mode of every entry); prints "NNN
# CHANNEL" for each difference, CHANNEL one of exit, stdout, stderr, files
# (anything under the case folder w/), or "harness LINE" for a line it
# cannot place (a reason to stop, never to ignore).
find_differences() {
	local a=$1 b=$2
	{
		diff -rq --no-dereference "$a" "$b" 2>&1 | awk -v a="$a/" -v b="$b/" '
		{
			c = ""
			for (s = 1; s <= 2 && c == ""; s++) {
				p = s == 1 ? a : b
				if ((i = index($0, p)) > 0) {
					rest = substr($0, i + length(p))
					if (match(rest, /^[0-9]+\//))
						c = substr(rest, 1, RLENGTH - 1)
				}
			}
			if (c == "") { print "harness " $0; next }
			ch = "files"
			if ($0 ~ /^Files / && match(rest, /^[0-9]+\/(rc|stdout|stderr) and /))
				ch = substr(rest, length(c) + 2, RLENGTH - length(c) - 6)
			print c, (ch == "rc" ? "exit" : ch)
		}'
		diff <(cd "$a" && find . -mindepth 2 -printf '%y %m %p\n' | LC_ALL=C sort) \
			<(cd "$b" && find . -mindepth 2 -printf '%y %m %p\n' | LC_ALL=C sort) |
			sed -n -E 's#^[<>] [^ ]+ [^ ]+ \./([0-9]+)/.*#\1 files#p'
	} | LC_ALL=C sort -u
}

# report_case NNN CHANNELS...: the DIFF line and the first lines of each
# difference between sides SA and SB
report_case() {
	local c=$1 a=$W/out/$SA/$1 b=$W/out/$SB/$1 label ra rb f
	shift
	IFS= read -r label <"$a/label"
	printf 'DIFF  %s  (%s)\n' "$label" "$*"
	printf 'DIFF\t%s\t%s\n' "$label" "$*" >>"$RESULT"
	[ "$QUIET" = 1 ] && return 0
	for f in "$@"; do
		case $f in
		exit)
			read -r ra <"$a/rc"
			read -r rb <"$b/rc"
			printf '    exit status: %s %s, %s %s\n' "$SA" "$ra" "$SB" "$rb" ;;
		stdout | stderr) printf '    %s:\n' "$f"; show_diff "$a/$f" "$b/$f" ;;
		files)
			printf '    files:\n'
			diff <(cd "$a/w" && find . -printf '%y %m %p\n' | LC_ALL=C sort) \
				<(cd "$b/w" && find . -printf '%y %m %p\n' | LC_ALL=C sort) |
				grep '^[<>]' | head -n 6 | sed "s/^</      $SA:/; s/^>/      $SB:/"
			diff -rq --no-dereference "$a/w" "$b/w" 2>&1 | grep '^Files ' | head -n 3 |
				while read -r _ fa _ fb _; do
					printf '      %s\n' "${fa#"$a/w/"}"
					show_diff "$fa" "$fb" | head -n 8
				done ;;
		esac
	done
}

# compare SA SB: every case the two sides ran; prints same/DIFF lines (only
# the DIFF lines with QUIET=1), the result per label to RESULT; sets
# TOTAL, SAME, DIFFER
compare() {
	local d c m label l2
	SA=$1 SB=$2
	: >"$RESULT"
	[ "$(find "$W/out/$SA" -mindepth 1 -maxdepth 1 | wc -l)" = "$(find "$W/out/$SB" -mindepth 1 -maxdepth 1 | wc -l)" ] ||
		die "$SA and $SB ran different cases"
	for d in "$W/out/$SA"/[0-9]*; do
		IFS= read -r m <"$d/mask"
		[ -z "$m" ] || { mask_files "$m" "$d"; mask_files "$m" "$W/out/$SB/${d##*/}"; }
	done
	find_differences "$W/out/$SA" "$W/out/$SB" >"$W/differences"
	! grep -m 3 '^harness ' "$W/differences" || die "cannot place these differences (above)"
	declare -A ch=()
	while read -r c m; do ch[$c]="${ch[$c]:+${ch[$c]} }$m"; done <"$W/differences"
	TOTAL=0 SAME=0 DIFFER=0
	for d in "$W/out/$SA"/[0-9]*; do
		c=${d##*/}
		TOTAL=$((TOTAL + 1))
		IFS= read -r label <"$d/label"
		IFS= read -r l2 <"$W/out/$SB/$c/label"
		[ "$label" = "$l2" ] || die "case $c: $SA ran '$label', $SB '$l2'"
		if [ -n "${ch[$c]:-}" ]; then
			# shellcheck disable=SC2086
			report_case "$c" ${ch[$c]}
			DIFFER=$((DIFFER + 1))
		else
			[ "$QUIET" = 1 ] || printf 'same  %s\n' "$label"
			printf 'same\t%s\t\n' "$label" >>"$RESULT"
			SAME=$((SAME + 1))
		fi
	done
}

# ------------------------------------------------------ planted differences
# A wrapper of BIN that plants one difference per compared channel, in the
# case named by EQUIV_LABEL (set for every case, on both sides alike).
# Every run ends by running these cases with the wrapper of NEW and
# requiring each difference to be reported in its channel: the comparison
# is shown able to fail each time it passes.  --self-test runs every case
# with the wrapper instead.
PLANTS=("stdout|who-can pre get secrets" "stderr|verify pre wrong key" "exit|audit --count"
	"files|report post --diff pre -o" "files|seal pre --key --mtime")
write_planted() { # REAL OUT
	cat >"$2" <<SH
#!/bin/bash
# equiv.sh: $1 with one planted difference per channel
real='$1'
case \${EQUIV_LABEL:-} in
'${PLANTS[0]#*|}') (exec -a "\$0" "\$real" "\$@"); rc=\$?; printf 'x'; exit \$rc ;;
'${PLANTS[1]#*|}') (exec -a "\$0" "\$real" "\$@"); rc=\$?; echo 'planted' >&2; exit \$rc ;;
'${PLANTS[2]#*|}') (exec -a "\$0" "\$real" "\$@"); exit 9 ;;
'${PLANTS[3]#*|}') (exec -a "\$0" "\$real" "\$@"); rc=\$?; printf 'x' >>report.html; exit \$rc ;;
'${PLANTS[4]#*|}') (exec -a "\$0" "\$real" "\$@"); rc=\$?
	f=\$(ls ./*.tar.gz | head -n 1); chmod u+w "\$f"; printf 'x' >>"\$f"; exit \$rc ;;
*) exec -a "\$0" "\$real" "\$@" ;;
esac
SH
	chmod 755 "$2"
}

# check_plants PREFIX: each planted case is DIFF in exactly its channel and
# nothing else differs (RESULT of the last comparison)
check_plants() {
	local p got bad=0 n=0
	for p in "${PLANTS[@]}"; do
		n=$((n + 1))
		got=$(awk -F'\t' -v l="${p#*|}" '$2 == l { print $1 " " $3 }' "$RESULT")
		if [ "$got" = "DIFF ${p%%|*}" ]; then
			echo "$1: planted ${p%%|*} difference in '${p#*|}' reported"
		else
			echo "$1: FAILED: planted ${p%%|*} difference in '${p#*|}' gave '${got:-no such case}'"
			bad=1
		fi
	done
	[ "$DIFFER" = "$n" ] || { echo "$1: FAILED: $DIFFER cases differ, $n planted"; bad=1; }
	return $bad
}

# --------------------------------------------------------------- main
SECONDS=0
RESULT=$W/result.tsv QUIET=0 PLAN=0 ONLY='' JOBS=${EQUIV_JOBS:-2}
case $JOBS in '' | *[!0-9]* | 0) die "EQUIV_JOBS must be a positive number" ;; esac
declare -A ONLY_SET=()
make_inputs
plan
INPUTS=$(inputs_digest)
t_inputs=$SECONDS
if [ "$SELFTEST" = 1 ]; then
	NEW_BIN=$W/planted-kcustody
	write_planted "$BASE_BIN" "$NEW_BIN"
fi
mkdir -p "$W/out"
run_side base "$BASE_BIN"
t_base=$SECONDS
run_side new "$NEW_BIN"
t_new=$SECONDS
compare base new
echo "equiv: $TOTAL comparisons, $SAME same, $DIFFER DIFF (base $BASE_BIN, new $NEW_BIN)"
echo "equiv: $SECONDS s: inputs $t_inputs s, base $((t_base - t_inputs)) s, new $((t_new - t_base)) s, comparison $((SECONDS - t_new)) s"
echo "equiv: slowest cases: $(cat "$W/times-new"/* | awk '{ printf "%s %.2f\n", $1, $3 - $2 }' | sort -k2 -rn | head -n 5 |
	while read -r c t; do IFS= read -r l <"$W/out/new/$c/label"; printf '%s (%s s); ' "$l" "$t"; done)"

if [ "$SELFTEST" = 1 ]; then
	check_plants self-test && { echo "self-test: ok (every planted difference reported, nothing else differs)"; exit 0; }
	touch "$W/keep"
	exit 1
fi
main_differ=$DIFFER

# the planted cases again, with the wrapper of NEW, against NEW's results
printf '%s\n' "${PLANTS[@]#*|}" >"$W/plant-labels"
write_planted "$NEW_BIN" "$W/planted-kcustody"
run_side planted "$W/planted-kcustody" "$W/plant-labels"
mkdir -p "$W/out/new-planted"
for d in "$W"/out/planted/[0-9]*; do cp -a "$W/out/new/${d##*/}" "$W/out/new-planted/"; done
QUIET=1 RESULT=$W/result-planted.tsv
compare new-planted planted >/dev/null
if ! check_plants "self-check"; then
	echo "equiv: the comparison failed to report a planted difference: its verdict cannot be trusted" >&2
	touch "$W/keep"
	exit 2
fi
[ "$main_differ" = 0 ] && exit 0
touch "$W/keep"
exit 1
