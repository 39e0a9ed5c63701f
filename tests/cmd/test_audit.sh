#!/bin/bash
# kcustody audit against the real kube-apiserver's audit log: traffic from an
# agent service account (its own token, and impersonated), forbidden reads,
# the collector's own tagged traffic and enough noise to rotate the log at
# 1 MB; then every extraction is compared with jq running the same filter
# over the same files (backups decompressed with zcat, oldest first, the
# current file last).  Once with plain backups, once with
# --audit-log-compress.  Each mode runs its own cluster folder so the
# shared test cluster is left alone.
#
#   KCUSTODY_BIN=./kcustody bash tests/cmd/test_audit.sh
#   KCUSTODY_KEEP_CLUSTER=1   keep the two clusters running afterwards
# shellcheck disable=SC2016
set -u
. "$(dirname "$0")/../lib.sh"

K=${KCUSTODY_BIN:-$KC_REPO/kcustody}
AGENT=system:serviceaccount:ai-agents:kagent
CANARY=KCUSTODY-CANARY-CLUSTER-5d1e
BASE=${TMPDIR:-/tmp}/kcustody-cluster-audit
started=()

# Copy the live folder; cut the current file after its last newline (the
# server may be writing a line while we copy).
snapshot() { # SRC DST
	mkdir -p "$2"
	cp -p "$1"/* "$2"/
	python3 - "$2/audit.log" <<'EOF'
import sys
p = sys.argv[1]
b = open(p, "rb").read()
open(p, "wb").write(b[: b.rfind(b"\n") + 1])
EOF
}

# Every curl call names a User-Agent: kube-apiserver pretty-prints JSON
# for a curl User-Agent, and the 1.20.2 test build (Go 1.19, old reflect2)
# dies with SIGSEGV pretty-printing any object that has a map.
traffic() {
	local api=$KC_SERVER ca=$KC_PKI_DIR/ca.crt tok i
	local adm=(--cert "$KC_PKI_DIR/admin.crt" --key "$KC_PKI_DIR/admin.key")

	kc_admin get ns ai-agents >/dev/null 2>&1 || {
		kc_admin create namespace ai-agents
		kc_admin -n ai-agents create serviceaccount kagent
		kc_admin -n ai-agents create role reader --verb=get,list,watch --resource=secrets,configmaps,persistentvolumeclaims
		kc_admin -n ai-agents create rolebinding kagent-reader --role=reader --serviceaccount=ai-agents:kagent
		kc_admin -n ai-agents create secret generic db-creds --from-literal=password=$CANARY
		kc_admin -n ai-agents create configmap settings --from-literal=mode=prod
	} >/dev/null
	tok=$(kc_admin -n ai-agents create token kagent) || return 1
	# the agent with its own token: allowed and forbidden reads
	curl -s --cacert "$ca" -A "kagent/0.3.1 (linux/amd64)" -H "Authorization: Bearer $tok" \
		"$api/api/v1/namespaces/ai-agents/secrets?n=[1-120]" \
		"$api/api/v1/namespaces/ai-agents/configmaps/settings?n=[1-120]" \
		"$api/api/v1/namespaces/ai-agents/persistentvolumeclaims?n=[1-40]" \
		"$api/api/v1/namespaces/kube-system/secrets?n=[1-80]" \
		"$api/api/v1/namespaces/ai-agents/pods?n=[1-40]" >/dev/null
	# an operator impersonating the agent (forbidden in default)
	curl -s --cacert "$ca" "${adm[@]}" -A "kubectl/v1.32.4 (operator)" -H "Impersonate-User: $AGENT" \
		"$api/api/v1/namespaces/default/secrets?n=[1-60]" \
		"$api/api/v1/namespaces/ai-agents/secrets/db-creds?n=[1-60]" >/dev/null
	# the collector's own traffic, tagged as collect tags it
	curl -s --cacert "$ca" "${adm[@]}" -A "kcustody/0.1.0 run/TESTRUN1" -H "Audit-ID: TESTRUN1-000001" \
		"$api/api/v1/secrets?limit=500&n=[1-50]" >/dev/null
	# noise until the log has rotated at least twice
	for ((i = 0; i < 20; i++)); do
		[ "$(find "$KC_AUDIT_DIR" -name 'audit-*' | wc -l)" -ge 2 ] && return 0
		curl -s --cacert "$ca" "${adm[@]}" -A "kubectl/v1.32.4 (noise)" "$api/api/v1/namespaces?n=[1-600]" \
			"$api/api/v1/namespaces/ai-agents/configmaps?n=[1-100]" >/dev/null
		sleep 1	# the gzip of a backup happens in the background
	done
	[ "$(find "$KC_AUDIT_DIR" -name 'audit-*' | wc -l)" -ge 2 ]
}

# kcustody audit over the snapshot against jq over its pieces (tests/lib.sh)
snap_vs_jq() { # NAME MIN JQFILTER KCUSTODY-ARGS...
	kc_audit_vs_jq "$1" "$2" "$SNAP" "$SNAP.all" "$3" "${@:4}"
}

run_mode() { # plain|gzip
	local mode=$1 dir=$BASE-$1 since until
	export KCUSTODY_CLUSTER_DIR=$dir
	if [ "$mode" = gzip ]; then export KCUSTODY_AUDIT_COMPRESS=1; else unset KCUSTODY_AUDIT_COMPRESS; fi
	# stop at the end only what this run started (a cluster already running is reused)
	if ! { [ -f "$dir/apiserver.pid" ] && kill -0 "$(cat "$dir/apiserver.pid")" 2>/dev/null; }; then
		started+=("$dir")
	fi
	t_begin "audit/$mode: cluster up, traffic rotates the log"
	if ! kc_cluster_up; then
		t_fail "cannot start the test cluster in $dir"
		return
	fi
	traffic || t_fail "the audit log did not rotate twice"
	SNAP=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-audit-snap.XXXX")
	snapshot "$KC_AUDIT_DIR" "$SNAP"
	kc_audit_pieces "$SNAP" >"$SNAP.all" || t_fail "cannot read the pieces of $SNAP"
	if [ "$mode" = gzip ]; then
		ls "$SNAP" | grep -q '\.log\.gz$' || t_fail "no gzip'd backups with --audit-log-compress"
	else
		ls "$SNAP" | grep -qE '^audit-.*\.log$' || t_fail "no plain backups"
	fi
	t_pass

	t_begin "audit/$mode: pieces found and ordered, hashes match the files"
	expect_exit 0 "$K" audit --audit-log "$SNAP" --summary
	cp "$T_OUT" "$T_DIR/sum.json"
	want=$( (cd "$SNAP" && ls | grep -E '^audit-[0-9]{4}-.*\.log(\.gz)?$' | sort; echo audit.log) | tr '\n' ' ')
	got=$(jq -r '.sources[].name' "$T_DIR/sum.json" | tr '\n' ' ')
	[ "$got" = "$want" ] || t_fail "order: got '$got', want '$want'"
	# (not a pipeline into the loop: t_fail in a subshell would be lost)
	while read -r name raw dec comp; do
		[ "$(sha256sum <"$SNAP/$name" | cut -d' ' -f1)" = "$raw" ] || t_fail "raw sha256 of $name"
		[ "$(zcat -f "$SNAP/$name" | sha256sum | cut -d' ' -f1)" = "$dec" ] || t_fail "decompressed sha256 of $name"
		case $name in *.gz) [ "$comp" = gzip ] || t_fail "$name not seen as gzip" ;; esac
	done < <(jq -r '.sources[] | "\(.name) \(.sha256) \(.decompressed_sha256) \(.compression)"' "$T_DIR/sum.json")
	lines=$(for f in $(cd "$SNAP" && ls | grep -E '^audit-' | sort) audit.log; do zcat -f "$SNAP/$f"; done | wc -l)
	[ "$(jq .totals.lines "$T_DIR/sum.json")" = "$lines" ] || t_fail "line total differs from wc -l ($lines)"
	[ "$(jq .totals.malformed "$T_DIR/sum.json")" = 0 ] || t_fail "malformed lines in a clean log"
	[ "$(jq '.overlaps | length' "$T_DIR/sum.json")" = 0 ] || t_fail "overlaps reported in a clean log"
	# a pointed current file finds the same backups
	"$K" audit --audit-log "$SNAP/audit.log" --count >"$T_DIR/c1" 2>&1 || t_fail "count of the file: exit $?"
	"$K" audit --audit-log "$SNAP" --count >"$T_DIR/c2" 2>&1 || t_fail "count of the folder: exit $?"
	cmp -s "$T_DIR/c1" "$T_DIR/c2" || t_fail "file and folder give different counts"
	[ "$(cat "$T_DIR/c2")" = "$(wc -l <"$SNAP.all")" ] || t_fail "count $(cat "$T_DIR/c2"), wc -l $(wc -l <"$SNAP.all")"
	t_pass

	t_begin "audit/$mode: extractions equal jq's over the same files"
	snap_vs_jq sensitive-reads 1 '(.verb=="get" or .verb=="list" or .verb=="watch") and (.objectRef.resource=="secrets" or .objectRef.resource=="configmaps" or .objectRef.resource=="persistentvolumeclaims")' --preset sensitive-reads
	snap_vs_jq denied 1 '(.annotations["authorization.k8s.io/decision"]=="forbid" or .responseStatus.code==401 or .responseStatus.code==403)' --preset denied
	snap_vs_jq agent 1 "(.user.username==\"$AGENT\" or .impersonatedUser.username==\"$AGENT\")" --sa ai-agents/kagent
	snap_vs_jq impersonated 1 "(.user.username==\"$AGENT\" or .impersonatedUser.username==\"$AGENT\") and .objectRef.namespace==\"default\" and .responseStatus.code==403" --user "$AGENT" --namespace default --code 403
	snap_vs_jq agent-sensitive 1 "(.user.username==\"$AGENT\" or .impersonatedUser.username==\"$AGENT\") and (.verb==\"get\" or .verb==\"list\" or .verb==\"watch\") and (.objectRef.resource==\"secrets\" or .objectRef.resource==\"configmaps\" or .objectRef.resource==\"persistentvolumeclaims\") and .annotations[\"authorization.k8s.io/decision\"]==\"allow\"" --sa ai-agents/kagent --preset sensitive-reads --decision allow
	snap_vs_jq own-run 1 '((.userAgent // "") | test(" run/TESTRUN1( |$)")) or ((.auditID // "") | startswith("TESTRUN1-"))' --run TESTRUN1
	snap_vs_jq not-own-run 1 '(((.userAgent // "") | test(" run/TESTRUN1( |$)")) or ((.auditID // "") | startswith("TESTRUN1-"))) | not' --exclude-run TESTRUN1
	# a window over the middle half of the lines, however many the rotations hold
	nl=$(wc -l <"$SNAP.all")
	since=$(sed -n "$((nl / 4 + 1))p" "$SNAP.all" | jq -r .requestReceivedTimestamp)
	until=$(sed -n "$((nl * 3 / 4 + 1))p" "$SNAP.all" | jq -r .requestReceivedTimestamp)
	snap_vs_jq window 1 ".requestReceivedTimestamp >= \"$since\" and .requestReceivedTimestamp < \"$until\"" --since "$since" --until "$until"
	snap_vs_jq nothing 0 '.verb=="no-such-verb"' --verb no-such-verb
	# redaction on by default changes nothing here (secrets are logged at
	# Metadata level), and the canary secret value is nowhere
	"$K" audit --audit-log "$SNAP" --preset sensitive-reads >"$T_DIR/red.out" 2>/dev/null || t_fail "redacted run: exit $?"
	"$K" audit --audit-log "$SNAP" --preset sensitive-reads --no-redact >"$T_DIR/raw.out" 2>/dev/null || t_fail "raw run: exit $?"
	[ -s "$T_DIR/raw.out" ] || t_fail "no sensitive reads to compare redaction on"
	cmp -s "$T_DIR/red.out" "$T_DIR/raw.out" || t_fail "redaction changed Metadata-level lines"
	expect_no_grep "$CANARY" "$T_DIR/red.out"
	t_pass

	t_begin "audit/$mode: collect's staging layout"
	expect_exit 0 "$K" audit --audit-log "$SNAP" --sa ai-agents/kagent --preset sensitive-reads --stage "$T_DIR/stage"
	for f in segment.jsonl malformed.jsonl sources.json; do
		[ -f "$T_DIR/stage/audit/$f" ] || t_fail "no audit/$f"
	done
	"$K" audit --audit-log "$SNAP" --sa ai-agents/kagent --preset sensitive-reads >"$T_DIR/seg" 2>/dev/null || t_fail "streamed run: exit $?"
	[ -s "$T_DIR/seg" ] || t_fail "nothing streamed: the comparison tests nothing"
	cmp -s "$T_DIR/seg" "$T_DIR/stage/audit/segment.jsonl" || t_fail "segment.jsonl differs from the streamed output"
	jq -e --arg a "$AGENT" '.counts[$a].secrets.list.allow > 0 and .counts[$a].secrets.list.forbid > 0' \
		"$T_DIR/stage/audit/sources.json" >/dev/null || t_fail "counts per agent/resource/verb/decision missing"
	[ -s "$T_DIR/stage/audit/malformed.jsonl" ] && t_fail "malformed.jsonl not empty for a clean log"
	t_pass

	t_begin "audit/$mode: a damaged copy is reported, not fatal"
	mkdir -p "$T_DIR/bad"
	cp "$SNAP"/* "$T_DIR/bad/"
	printf 'garbage line\n' >>"$T_DIR/bad/audit.log"
	printf '{"kind":"Event","auditID":"cut-' >>"$T_DIR/bad/audit.log"
	gz=$(cd "$T_DIR/bad" && ls | grep '\.gz$' | head -n 1)
	if [ -n "$gz" ]; then
		head -c -64 "$SNAP/$gz" >"$T_DIR/bad/$gz"
	fi
	expect_exit 1 "$K" audit --audit-log "$T_DIR/bad" --preset sensitive-reads --malformed "$T_DIR/bad.jsonl"
	expect_grep 'garbage|not a JSON object' "$T_ERR"
	expect_grep '"reason":"truncated last line' "$T_DIR/bad.jsonl"
	expect_no_grep 'garbage line' "$T_DIR/bad.jsonl"
	[ -z "$gz" ] || expect_grep '"reason":"stream error".*gzip' "$T_DIR/bad.jsonl"
	[ "$(wc -l <"$T_OUT")" -gt 0 ] || t_fail "nothing extracted from the damaged copy"
	t_pass
	rm -rf "$SNAP" "$SNAP.all"
}

if ! command -v jq >/dev/null || ! command -v curl >/dev/null; then
	echo "skip: jq and curl are needed"
	exit 0
fi
# No cluster needed: timestamps a signed 64-bit count of nanoseconds cannot
# hold (issue 10 item 6.1) are set aside per line, never wrapped.
t_begin "audit: years 0001 and 9999 are set aside as 'timestamp out of range'; the window holds the rest"
L=$T_DIR/audit.log
{
	echo '{"auditID":"a1","verb":"get","requestReceivedTimestamp":"2026-03-02T08:00:00.000000Z"}'
	echo '{"auditID":"y1","verb":"get","requestReceivedTimestamp":"0001-01-01T00:00:00.000000Z"}'
	echo '{"auditID":"y9","verb":"get","requestReceivedTimestamp":"9999-12-31T23:59:59.999999Z"}'
	echo '{"auditID":"a2","verb":"get","requestReceivedTimestamp":"2026-03-02T08:01:00.000000Z"}'
} >"$L"
expect_exit 1 "$K" audit --audit-log "$L" --summary --no-rotated
jq -e '[.malformed[] | .reason] == ["timestamp out of range", "timestamp out of range"]' "$T_OUT" >/dev/null ||
	t_fail "malformed: $(jq -c .malformed "$T_OUT" | head -c 400)"
jq -e '.malformed[0].detail == "requestReceivedTimestamp year 0001 is outside 1678-2262" and .malformed[1].detail == "requestReceivedTimestamp year 9999 is outside 1678-2262"' "$T_OUT" >/dev/null ||
	t_fail "details: $(jq -c '[.malformed[].detail]' "$T_OUT")"
jq -e '.window.covered.from == "2026-03-02T08:00:00.000000Z" and .window.covered.to == "2026-03-02T08:01:00.000000Z" and (.gaps | length) == 0' "$T_OUT" >/dev/null ||
	t_fail "window: $(jq -c '.window, .gaps' "$T_OUT")"
expect_exit 1 "$K" audit --audit-log "$L" --since 2026-03-02T07:00:00Z --validate --no-rotated
[ "$(jq -r .auditID "$T_OUT" | tr '\n' ' ')" = "a1 a2 " ] || t_fail "events: $(cat "$T_OUT")"
# the twin: the same log without them is clean
grep -v '"y[19]"' "$L" >"$T_DIR/clean.log"
expect_exit 0 "$K" audit --audit-log "$T_DIR/clean.log" --summary --no-rotated
jq -e '(.malformed | length) == 0' "$T_OUT" >/dev/null || t_fail "clean log has malformed lines"
t_pass

run_mode plain
run_mode gzip
if [ "${KCUSTODY_KEEP_CLUSTER:-0}" != 1 ]; then
	for d in "${started[@]}"; do
		"$KC_REPO/tests/cluster/stop.sh" "$d" >/dev/null 2>&1 || true
	done
fi
t_summary
