#!/bin/bash
# Audit logs from managed clusters: one synthetic event set written in the
# API server's form and in each provider's export form (EKS CloudWatch Logs
# JSON and its S3 export, GKE Cloud Logging array and sink, AKS storage
# lines and {"records":[...]}) by test_audit_cloud_gen.py; every form must
# give the same selection as jq over the native form.  Negative twins: a
# message that is not an audit event, a GKE method that does not map, mixed
# providers, a truncated gzip, and sources that cannot show reads.  Last,
# against the loopback cluster: collect from provider exports of the real
# audit log, and diff/report show the agent's denied request and sensitive
# read as they do for the native log.
#
#   KCUSTODY_BIN=./kcustody bash tests/cmd/test_audit_cloud.sh
# shellcheck disable=SC2016
set -u
. "$(dirname "$0")/../lib.sh"

K=${KCUSTODY_BIN:-$KC_REPO/kcustody}
GEN=$KC_REPO/tests/cmd/test_audit_cloud_gen.py
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-audit-cloud.XXXX")
trap 'rm -rf "$W"' EXIT
F=$W/f
FORMS="native eks-cwl eks-s3 gke-array gke-sink aks-lines aks-doc"
# what is compared: request time, user, verb, resource, namespace, name, code
# (one line per request: the final stage, as GKE logs only that one)
TUPLE='select(.stage=="ResponseComplete") | [.requestReceivedTimestamp, .user.username, .verb, .objectRef.resource, .objectRef.namespace, .objectRef.name, .responseStatus.code] | @json'
SENS='(.verb=="get" or .verb=="list" or .verb=="watch") and (.objectRef.resource=="secrets" or .objectRef.resource=="configmaps" or .objectRef.resource=="persistentvolumeclaims")'
DENIED='(.annotations["authorization.k8s.io/decision"]=="forbid" or .responseStatus.code==401 or .responseStatus.code==403)'

t_begin "audit/cloud: generate one event set in every provider's form"
python3 "$GEN" --bytes 3M --seed 5 --out "$F" || t_fail "generator failed"
for f in $FORMS; do [ -n "$(find "$F/$f" -type f)" ] || t_fail "no $f form"; done
t_pass

for preset in sensitive-reads denied; do
	case $preset in sensitive-reads) sel=$SENS ;; denied) sel=$DENIED ;; esac
	jq -r "select($sel) | $TUPLE" "$F/native/audit.log" | sort >"$W/jq-$preset"
	for f in $FORMS; do
		t_begin "audit/cloud: --preset $preset from $f equals jq over the native log"
		expect_exit 0 "$K" audit --audit-log "$F/$f" --preset "$preset" --no-redact
		# a sink writes each log (activity, data_access) to its own files,
		# so requests are compared as a set
		jq -r "$TUPLE" "$T_OUT" | sort >"$T_DIR/got"
		if ! cmp -s "$T_DIR/got" "$W/jq-$preset"; then
			t_fail "$f: $(wc -l <"$T_DIR/got") requests, jq $(wc -l <"$W/jq-$preset")"
			diff "$T_DIR/got" "$W/jq-$preset" | head -4
		fi
		[ -s "$W/jq-$preset" ] || t_fail "nothing selected: the comparison tests nothing"
		t_pass
	done
done

t_begin "audit/cloud: each file's provider and form are found; continuity per stream"
# the whole folder, negative twins included (exit 1 for those)
expect_exit 1 "$K" audit --audit-log "$F" --no-rotated --summary
for pair in native:native eks-cwl:eks-cloudwatch eks-s3:eks-s3-export gke-array:gke-logging gke-sink:gke-logging \
	aks-lines:aks-diagnostics aks-doc:aks-diagnostics; do
	jq -e --arg d "/f/${pair%%:*}/" --arg form "${pair#*:}" \
		'[.sources[] | select(.path | contains($d)) | .form] | length > 0 and all(. == $form)' "$T_OUT" >/dev/null ||
		t_fail "${pair%%:*} not read as ${pair#*:}"
done
jq -e '.mixed_providers == true and (.providers | sort) == ["aks","eks","gke","native"]' "$T_OUT" >/dev/null ||
	t_fail "providers: $(jq -c .providers "$T_OUT")"
expect_exit 0 "$K" audit --audit-log "$F/gke-sink" --summary
jq -e '[.streams[] | .stream] | sort == ["cloudaudit.googleapis.com/activity","cloudaudit.googleapis.com/data_access"]' "$T_OUT" >/dev/null ||
	t_fail "gke streams: $(jq -c '[.streams[].stream]' "$T_OUT")"
jq -e 'all(.streams[]; .cluster == "kc-test-project/europe-west1/agents-prod" and (.first_record_id | length) > 0)' "$T_OUT" >/dev/null ||
	t_fail "gke stream cluster or record ids missing"
expect_exit 0 "$K" audit --audit-log "$F/eks-s3" --summary
jq -e '(.streams | length) == 1 and .streams[0].first_source == "000000.gz" and .streams[0].last_source == "000001.gz" and
	(.sources | map(.compression) | unique) == ["gzip"]' "$T_OUT" >/dev/null || t_fail "eks-s3 pieces: $(jq -c .streams "$T_OUT")"
expect_exit 0 "$K" audit --audit-log "$F/eks-cwl" --summary
jq -e '.sources[0].record_ids.first == "37000000000000000000000000000000000000000000000000000000" and .sources[0].split == "documents"' \
	"$T_OUT" >/dev/null || t_fail "eks-cwl record ids: $(jq -c '.sources[0].record_ids' "$T_OUT")"
t_pass

t_begin "audit/cloud: a silence between two export files of one stream is a gap"
mkdir -p "$T_DIR/two"
python3 "$GEN" --bytes 200K --seed 6 --start 2026-03-02T08:00:00Z --out "$T_DIR/a" --only eks-cwl
python3 "$GEN" --bytes 200K --seed 7 --start 2026-03-02T11:00:00Z --out "$T_DIR/b" --only eks-cwl
cp "$T_DIR/a/eks-cwl/filter-log-events.json" "$T_DIR/two/1.json"
cp "$T_DIR/b/eks-cwl/filter-log-events.json" "$T_DIR/two/2.json"
expect_exit 0 "$K" audit --audit-log "$T_DIR/two" --summary
jq -e 'any(.gaps[]; .kind == "between-pieces" and .provider == "eks" and (.stream | startswith("kube-apiserver-audit-"))
	and .last_event_source == "1.json" and .next_event_source == "2.json" and .seconds > 9000)' "$T_OUT" >/dev/null ||
	t_fail "no gap between the files: $(jq -c .gaps "$T_OUT")"
t_pass

t_begin "audit/cloud: records.jsonl keeps each provider record byte for byte (hash only when redacted)"
expect_exit 0 "$K" audit --audit-log "$F/gke-array" --stage "$T_DIR/st"
python3 - "$F/gke-array/read.json" "$T_DIR/st/audit/records.jsonl" "$T_DIR/st/audit/segment.jsonl" <<'EOF' || t_fail "records do not trace to the file"
import hashlib, json, sys
raw = open(sys.argv[1], "rb").read()
seg = open(sys.argv[3]).read().splitlines()
recs = [json.loads(l) for l in open(sys.argv[2])]
assert len(recs) == len(seg), (len(recs), len(seg))
red = 0
for r in recs:
    b = raw[r["offset"]:r["offset"] + r["length"]]
    assert hashlib.sha256(b).hexdigest() == r["sha256"], r
    ev = json.loads(seg[r["event"] - 1])
    assert ev["auditID"] == r["record_id"] == json.loads(b)["insertId"], r
    if r.get("redacted"):
        red += 1
        assert "record" not in r and "CANARY" not in json.dumps(ev)
        assert json.dumps(ev).count(r["sha256"]) >= 1    # the marker hashes the provider record
    else:
        assert r["record"].encode() == b
assert red > 0, "no redacted record: the check tests nothing"
EOF
expect_no_grep 'KCUSTODY-CANARY|S0NVU1RPRFktQ0FOQVJZ' "$T_DIR/st/audit/records.jsonl"
expect_no_grep 'KCUSTODY-CANARY|S0NVU1RPRFktQ0FOQVJZ' "$T_DIR/st/audit/segment.jsonl"
expect_exit 0 "$K" audit --audit-log "$F/native" --stage "$T_DIR/st2"
[ ! -e "$T_DIR/st2/audit/records.jsonl" ] || t_fail "records.jsonl for a native log"
t_pass

t_begin "audit/cloud: --audit-format forces the reader; records of another form are set aside, not dropped"
n=$(jq length "$F/gke-array/read.json")
expect_exit 1 "$K" audit --audit-log "$F/gke-array" --audit-format eks --count
[ "$(cat "$T_OUT")" = 0 ] || t_fail "matched $(cat "$T_OUT")"
expect_grep 'record of another provider: record from gke in a file read as eks' "$T_ERR"
expect_exit 1 "$K" audit --audit-log "$F/gke-array" --audit-format eks --summary
[ "$(jq .totals.malformed "$T_OUT")" = "$n" ] || t_fail "malformed $(jq .totals.malformed "$T_OUT"), records $n"
expect_exit 2 "$K" audit --audit-log "$F/gke-array" --audit-format splunk
t_pass

t_begin "audit/cloud: a CloudWatch message that is not an audit event is set aside with source and offset"
d=$F/bad/eks-notaudit
expect_exit 1 "$K" audit --audit-log "$d" --summary
jq -e '.totals.malformed == 1 and .totals.events == 60 and (.malformed[0] | .reason == "message is not an audit event" and
	.source == "filter-log-events.json" and (.detail | contains("authenticator-")))' "$T_OUT" >/dev/null ||
	t_fail "$(jq -c '[.totals, .malformed]' "$T_OUT")"
off=$(jq '.malformed[0].offset' "$T_OUT") len=$(jq '.malformed[0].length' "$T_OUT")
tail -c +"$((off + 1))" "$d/filter-log-events.json" | head -c "$len" | jq -e '.logStreamName | startswith("authenticator-")' >/dev/null ||
	t_fail "offset $off does not point at the record"
t_pass

t_begin "audit/cloud: GKE entries whose method does not map, or that are not Kubernetes API entries, are reported"
expect_exit 1 "$K" audit --audit-log "$F/bad/gke-badmethod" --summary
jq -e '[.malformed[] | .reason] == ["GKE method name does not map", "not a Kubernetes API audit entry"] and
	(.malformed[0].detail | contains("io.k8s.core.v1.pods.frobnicate")) and (.malformed[1].detail | contains("gke_cluster"))' \
	"$T_OUT" >/dev/null || t_fail "$(jq -c .malformed "$T_OUT")"
t_pass

t_begin "audit/cloud: mixed providers in one folder: each file by its own form, a stray record reported"
expect_exit 1 "$K" audit --audit-log "$F/bad/mixed" --summary
jq -e '.mixed_providers and .providers == ["eks","gke"] and .totals.malformed == 1 and
	.malformed[0].reason == "record of another provider" and .malformed[0].source == "entries.json" and
	(.malformed[0].detail | contains("aks"))' "$T_OUT" >/dev/null || t_fail "$(jq -c '[.providers, .malformed]' "$T_OUT")"
t_pass

t_begin "audit/cloud: a truncated gzip export is a stream error of that source, never fatal"
expect_exit 1 "$K" audit --audit-log "$F/bad/eks-s3-trunc" --summary
jq -e '.totals.source_errors == 1 and any(.malformed[]; .reason == "stream error" and .source == "000000.gz")' "$T_OUT" >/dev/null ||
	t_fail "$(jq -c '[.totals, .malformed]' "$T_OUT")"
t_pass

t_begin "audit/cloud: sources that cannot show reads: 'not determinable from these sources', never 0"
for b in aks-admin gke-activity; do
	expect_exit 1 "$K" audit --audit-log "$F/blind/$b" --preset sensitive-reads --count
	[ "$(cat "$T_OUT")" = "not determinable from these sources" ] || t_fail "$b --count: $(cat "$T_OUT")"
	expect_exit 1 "$K" audit --audit-log "$F/blind/$b" --preset sensitive-reads --summary
	jq -e '.answer.determinable == false and .answer.matched == "not determinable from these sources" and
		.reads.visible == "none" and (.reads.blind | length) == 1 and all(.sources[]; .reads_visible == false)' "$T_OUT" >/dev/null ||
		t_fail "$b summary: $(jq -c '[.answer, .reads]' "$T_OUT")"
	# a question about writes is answered
	expect_exit 0 "$K" audit --audit-log "$F/blind/$b" --verb create --count
	[ "$(cat "$T_OUT")" -gt 0 ] 2>/dev/null || t_fail "$b writes: $(cat "$T_OUT")"
	# denied covers reads and writes: what is seen is a lower bound
	expect_exit 1 "$K" audit --audit-log "$F/blind/$b" --preset denied --count
	expect_grep '^at least [0-9]+$' "$T_OUT"
done
# with the cluster's full stream beside it, reads are determinable again
expect_exit 0 "$K" audit --audit-log "$F/blind/gke-activity" --audit-log "$F/gke-sink" --preset sensitive-reads --count
[ "$(cat "$T_OUT")" = "$(wc -l <"$W/jq-sensitive-reads")" ] || t_fail "activity + data_access: $(cat "$T_OUT")"
t_pass

# ---- collect from provider exports of the real cluster's audit log ----
if ! kc_cluster_up; then
	t_begin "audit/cloud: collect from provider exports"
	t_fail "cannot start the test cluster"
	t_summary
	exit $?
fi
"$K" keygen -o "$W/k.pem" --pub "$W/k.pub" >/dev/null 2>&1
ns=cloud-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
kc_admin apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kagent, namespace: $ns}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: $ns}
rules: [{apiGroups: [""], resources: ["secrets", "configmaps"], verbs: ["get", "list"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kagent-reader, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: kagent, namespace: $ns}]
---
apiVersion: v1
kind: Secret
metadata: {name: db-creds, namespace: $ns}
stringData: {password: KCUSTODY-CANARY-CLOUD-1}
YAML
collect() { # PHASE AUDIT-DIR [extra...]
	local phase=$1 dir=$2 out
	shift 2
	out=$(mktemp -d "$W/b.XXXX")
	"$K" collect --kubeconfig "$KC_KUBECONFIG" --case CLOUD-1 --phase "$phase" --agents '' --sa "$ns/kagent" \
		--key "$W/k.pem" --audit-log "$dir" -o "$out/" -q "$@"
}
pre=$(collect pre "$KC_AUDIT_DIR")
sleep 1.1
rem=$(date -u +%Y-%m-%dT%H:%M:%SZ)
tok=$(kc_admin -n "$ns" create token kagent)
# the agent with its own token: a secret read it is allowed, one it is not
curl -s --cacert "$KC_PKI_DIR/ca.crt" -A "kagent/0.3.1 (linux/amd64)" -H "Authorization: Bearer $tok" \
	"$KC_SERVER/api/v1/namespaces/$ns/secrets/db-creds" "$KC_SERVER/api/v1/namespaces/kube-system/secrets" >/dev/null
sleep 1.1
# the real log, in order, as each provider would export it
mkdir -p "$W/log"
for f in $(cd "$KC_AUDIT_DIR" && ls | grep -E '^audit-[0-9]{4}-.*\.log(\.gz)?$' | sort); do zcat -f "$KC_AUDIT_DIR/$f"; done >"$W/log/all"
python3 - "$KC_AUDIT_DIR/audit.log" >>"$W/log/all" <<'EOF'
import sys
b = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(b[: b.rfind(b"\n") + 1])
EOF
python3 "$GEN" --from "$W/log/all" --out "$W/exp" --only eks-cwl,eks-s3,gke-array,aks-lines,native
# a blind twin: AKS kube-audit-admin only
python3 - "$W/log/all" "$W/exp/aks-admin/PT1H.json" <<'EOF'
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["KC_REPO"], "tests/cmd"))
import test_audit_cloud_gen as g
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
with open(sys.argv[2], "w") as f:
    for line in open(sys.argv[1]):
        ev = json.loads(line)
        if ev.get("verb") not in ("get", "list", "watch"):
            f.write(json.dumps(g.aks_record(line.rstrip("\n"), ev, "kube-audit-admin")) + "\n")
EOF

DENIED_Q='[.audit.denied[] | select(.user | endswith(":kagent")) | {user, verb, resource, namespace, code, count}]'
READS_Q='[.audit.sensitiveReadsAfterRemediation[] | select(.user | endswith(":kagent")) | {user, verb, resource, namespace, name, code, escalate}]'
t_begin "audit/cloud: collect from the native log: the agent's denied request and secret read (reference)"
post=$(collect post "$W/exp/native" --since "$rem")
expect_exit 0 "$K" diff "$pre" "$post" --pubkey "$W/k.pub" --remediated-at "$rem" --format json
jq -c "$DENIED_Q" "$T_OUT" >"$W/ref-denied"
jq -c "$READS_Q" "$T_OUT" >"$W/ref-reads"
jq -e --arg ns "$ns" 'length == 1 and .[0].namespace == "kube-system" and .[0].code == 403' "$W/ref-denied" >/dev/null ||
	t_fail "native denied: $(cat "$W/ref-denied")"
jq -e --arg ns "$ns" 'length == 1 and .[0].namespace == $ns and .[0].name == "db-creds" and .[0].escalate' "$W/ref-reads" >/dev/null ||
	t_fail "native reads: $(cat "$W/ref-reads")"
t_pass

for form in eks-cwl eks-s3 gke-array aks-lines; do
	t_begin "audit/cloud: collect --audit-log with $form exports: diff and report show the same"
	post=$(collect post "$W/exp/$form" --since "$rem") || t_fail "collect failed"
	[ -n "$post" ] && tar -tzf "$post" | grep -q 'audit/records.jsonl$' || t_fail "no audit/records.jsonl in the bundle"
	expect_exit 0 "$K" verify "$post" --pubkey "$W/k.pub"
	# the segment is derived, from sources.json, records.jsonl and the provider files read
	# (not piped: this file runs without pipefail, and inspect's status counts)
	"$K" inspect "$post" MANIFEST.json >"$T_DIR/manifest.json" 2>/dev/null || t_fail "inspect MANIFEST.json: exit $?"
	jq -e --arg d "$W/exp/$form/" '.files[] | select(.path == "audit/segment.jsonl") |
		.derived and (.sources | index("audit/sources.json") != null and index("audit/records.jsonl") != null) and
		any(.sources[]; startswith($d))' "$T_DIR/manifest.json" >/dev/null || t_fail "segment's manifest entry does not name the provider files"
	expect_exit 0 "$K" diff "$pre" "$post" --pubkey "$W/k.pub" --remediated-at "$rem" --format json
	cmp -s <(jq -c "$DENIED_Q" "$T_OUT") "$W/ref-denied" || t_fail "denied: $(jq -c "$DENIED_Q" "$T_OUT")"
	cmp -s <(jq -c "$READS_Q" "$T_OUT") "$W/ref-reads" || t_fail "reads: $(jq -c "$READS_Q" "$T_OUT")"
	jq -e '.summary.verdict == "escalate"' "$T_OUT" >/dev/null || t_fail "verdict $(jq -r .summary.verdict "$T_OUT")"
	if [ "$form" = gke-array ]; then
		expect_exit 0 "$K" report "$post" --diff "$pre" --pubkey "$W/k.pub" --remediated-at "$rem" -o "$T_DIR/r.html"
		expect_grep 'class="audit-streams"' "$T_DIR/r.html"
		expect_grep 'gke-logging' "$T_DIR/r.html"
		expect_grep 'db-creds' "$T_DIR/r.html"
		grep -A30 'Denied requests by agents' "$T_DIR/r.html" | grep -q "kube-system" || t_fail "report: no denied row"
		expect_no_grep 'KCUSTODY-CANARY-CLOUD-1' "$T_DIR/r.html"
	fi
	t_pass
done

t_begin "audit/cloud: POST from AKS kube-audit-admin only: reads after remediation not determinable, verdict not clean"
post=$(collect post "$W/exp/aks-admin" --since "$rem")
[ $? = 1 ] || t_fail "collect should say PARTIAL (reads not determinable)"
expect_exit 0 "$K" diff "$pre" "$post" --pubkey "$W/k.pub" --remediated-at "$rem" --format json
jq -e '.summary.sensitiveReadsAfterRemediation == "not determinable from these sources" and
	.summary.policyBypassReads == "not determinable from these sources" and .audit.readsDeterminable == false and
	.summary.verdict != "remediated"' "$T_OUT" >/dev/null || t_fail "$(jq -c '[.summary, .audit.readsVisible]' "$T_OUT")"
expect_exit 0 "$K" diff "$pre" "$post" --pubkey "$W/k.pub" --remediated-at "$rem"
expect_grep 'Sensitive reads by agents after the remediation time: not determinable from these sources' "$T_OUT"
expect_exit 0 "$K" report "$post" --diff "$pre" --pubkey "$W/k.pub" --remediated-at "$rem" -o "$T_DIR/r.html"
expect_grep 'id="audit-reads-blind"' "$T_DIR/r.html"
expect_grep 'id="reads-not-determinable"' "$T_DIR/r.html"
expect_grep 'sensitiveReadsAfterRemediation">not determinable from these sources' "$T_DIR/r.html"
t_pass

kc_admin delete namespace "$ns" --wait=false >/dev/null 2>&1
t_summary
