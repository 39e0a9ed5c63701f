#!/bin/bash
# kcustody recertify --decision (the reviewer's signed decision in the
# custody ledger, also through the retention store) and --format oscal
# (OSCAL assessment results and plan, validated with ajv against NIST's
# published schemas in tests/data/oscal/), each with negative twins: an
# untrusted key, a key without the reviewer role, an edited scope or
# bundle hash in the entry, a tampered bundle, a schema-invalid document.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
OSCAL=$KC_REPO/tests/data/oscal
VALIDATE="node $KC_REPO/tests/oscal/validate.js"
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-decide.XXXX")
trap 'rm -rf "$W"' EXIT
for k in cust rev cust2 other; do "$KC" keygen -o "$W/$k.pem" --pub "$W/$k.pub" >/dev/null 2>&1; done

ns=decide-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
kc_admin apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kagent-bot, namespace: $ns}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: rag-agent, namespace: $ns}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kagent-bot, namespace: $ns}
rules:
- {apiGroups: [""], resources: ["secrets"], resourceNames: ["db-password"], verbs: ["get"]}
- {apiGroups: [""], resources: ["pods"], verbs: ["get", "list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kagent-bot, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kagent-bot}
subjects: [{kind: ServiceAccount, name: kagent-bot, namespace: $ns}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: rag-agent, namespace: $ns}
rules:
- {apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rag-agent, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: rag-agent}
subjects: [{kind: ServiceAccount, name: rag-agent, namespace: $ns}]
YAML
mkdir -p "$W/b"
b=$("$KC" collect --kubeconfig "$KC_KUBECONFIG" --case DECIDE-1 --phase baseline --agents '' \
	--sa "$ns/kagent-bot" --sa "$ns/rag-agent" --key "$W/cust.pem" -o "$W/b/" -q)
[ -s "$b" ] && [ -s "$b.custody.jsonl" ] || { echo "collect failed"; echo "0 passed, 1 failed"; exit 1; }
sealer=$(head -n1 "$b.custody.jsonl" | jq -r .actor.name)
cat >"$W/trust.json" <<EOF2
{"trusted_keys":[
 {"name":"$sealer","public_key":"cust.pub","roles":["custodian"]},
 {"name":"Dana Reviewer","organisation":"Audit","public_key":"rev.pub","roles":["reviewer"]},
 {"name":"Carl Custodian","public_key":"cust2.pub","roles":["custodian"]}
]}
EOF2
T=(--trust-keys "$W/trust.json")

# the scope: kagent-bot may read pods but no secret (one excess), rag-agent within
cat >"$W/scope.yaml" <<YAML
apiVersion: kcustody.dev/v1alpha1
kind: AgentScopes
agents:
- name: kagent
  owner: platform-team
  approval: CHG-2001
  serviceAccount: $ns/kagent-bot
  namespaces: [$ns]
  resources:
  - {apiGroup: "", resource: pods, verbs: [get, list]}
- name: rag
  owner: search-team
  approval: CHG-2002
  serviceAccount: $ns/rag-agent
  namespaces: [$ns]
  resources:
  - {apiGroup: apps, resource: deployments, verbs: [get]}
YAML
scope_sha=$(sha256sum "$W/scope.yaml" | cut -d' ' -f1)
bundle_sha=$(sha256sum "$b" | cut -d' ' -f1)
R=(recertify "$b" --scope "$W/scope.yaml" --pubkey "$W/cust.pub")
lines() { wc -l <"$1"; }

t_begin "decide: a reviewer's decision is a signed 'recertified' entry with the scope and bundle hashes and the summary"
"$KC" "${R[@]}" --json >"$W/result.json"
n0=$(lines "$b.custody.jsonl")
expect_exit 1 "$KC" "${R[@]}" --decision remediate --key "$W/rev.pem" "${T[@]}" --note "revoke the secret read, CHG-2003"
expect_grep "decision 'remediate' recorded by Dana Reviewer" "$T_ERR"
[ "$(lines "$b.custody.jsonl")" = $((n0 + 1)) ] || t_fail "no entry appended"
tail -n1 "$b.custody.jsonl" >"$W/entry.json"
jq -e --arg s "$scope_sha" --arg b "$bundle_sha" --argjson r "$(jq -c .summary "$W/result.json")" '
	.action=="recertified" and .bundle_sha256==$b and .recertification.scope_sha256==$s and
	.recertification.decision=="remediate" and (.recertification.scope_file|endswith("scope.yaml")) and
	.note=="revoke the secret read, CHG-2003" and .actor.name=="Dana Reviewer"' "$W/entry.json" >/dev/null ||
	t_fail "entry wrong: $(cut -c1-400 "$W/entry.json")"
jq -e --slurpfile r "$W/result.json" '.recertification.summary == {agents:$r[0].summary.agents,
	within_scope:$r[0].summary.withinScope, beyond_scope:$r[0].summary.beyondScope,
	missing_from_scope:$r[0].summary.agentsMissingFromScope,
	scope_entries_without_agent:$r[0].summary.scopeEntriesWithoutAgent} and
	.recertification.summary.agents==2 and .recertification.summary.beyond_scope==1' "$W/entry.json" >/dev/null ||
	t_fail "summary differs from the result: $(jq -c .recertification.summary "$W/entry.json")"
# the signature checks with standard tools, as docs/CUSTODY.md shows
jq -cj 'del(.sig)' "$W/entry.json" >"$W/canon.bin"
jq -r .sig "$W/entry.json" | base64 -d >"$W/sig.bin"
jq -r .actor.public_key "$W/entry.json" | base64 -d >"$W/key.der"
openssl pkey -pubin -inform DER -in "$W/key.der" -out "$W/key.pem" 2>/dev/null
openssl pkeyutl -verify -pubin -inkey "$W/key.pem" -rawin -in "$W/canon.bin" -sigfile "$W/sig.bin" >/dev/null 2>&1 ||
	t_fail "openssl does not verify the entry"
t_pass

t_begin "decide: custody show and verify list the decision; the custodian is unchanged"
expect_exit 0 "$KC" custody show "$b" "${T[@]}" --json
jq -e --arg c "$sealer" '.verified and .custodian.name==$c and .history[-1].action=="recertified" and
	.history[-1].signature=="trusted" and .history[-1].recertification.decision=="remediate" and
	.history[-1].actor.roles==["reviewer"]' "$T_OUT" >/dev/null || t_fail "custody show: $(jq -c '{verified,custodian,problems}' "$T_OUT")"
expect_exit 0 "$KC" verify "$b" --pubkey "$W/cust.pub" "${T[@]}"
expect_grep "recertified +Dana Reviewer \(Audit\)" "$T_OUT"
expect_grep "^    decision: remediate$" "$T_OUT"
expect_grep "^    scope: .*/scope.yaml$" "$T_OUT"
expect_grep "^    scope sha256: $scope_sha$" "$T_OUT"
expect_grep "^    result: 2 agents, 1 within scope, 1 beyond, 0 not in scope, 0 entries unused$" "$T_OUT"
t_pass

t_begin "decide: the report shows the decision (and a bundle without one shows none)"
expect_exit 0 "$KC" report "$b" "${T[@]}" --pubkey "$W/cust.pub" -o "$W/r.html"
expect_grep "decision: <strong>remediate</strong>; scope .*scope.yaml \(SHA-256 <code>$scope_sha</code>\)" "$W/r.html"
head -n "$n0" "$b.custody.jsonl" >"$W/short.jsonl"
expect_exit 0 "$KC" report "$b" "${T[@]}" --pubkey "$W/cust.pub" --ledger "$W/short.jsonl" -o "$W/r0.html"
expect_no_grep "decision: <strong>" "$W/r0.html"
t_pass

t_begin "decide: an untrusted key is refused (2) and nothing is written"
n1=$(lines "$b.custody.jsonl")
expect_exit 2 "$KC" "${R[@]}" --decision approve --key "$W/other.pem" "${T[@]}"
expect_grep "decision not recorded: .*signed by untrusted key" "$T_ERR"
[ "$(lines "$b.custody.jsonl")" = "$n1" ] || t_fail "an entry was written"
t_pass

t_begin "decide: a trusted key without the reviewer role (a custodian) is refused (2)"
expect_exit 2 "$KC" "${R[@]}" --decision approve --key "$W/cust2.pem" "${T[@]}"
expect_grep "has no 'reviewer' role in the trust file" "$T_ERR"
expect_exit 2 "$KC" "${R[@]}" --decision approve --key "$W/cust.pem" "${T[@]}"
expect_grep "'$sealer' .* has no 'reviewer' role" "$T_ERR"
[ "$(lines "$b.custody.jsonl")" = "$n1" ] || t_fail "an entry was written"
t_pass

t_begin "decide: without --trust-keys only the custodian may decide (as for a release)"
cp "$b" "$W/nt.tar.gz"; head -n "$n0" "$b.custody.jsonl" >"$W/nt.tar.gz.custody.jsonl"
expect_exit 2 "$KC" recertify "$W/nt.tar.gz" --scope "$W/scope.yaml" --pubkey "$W/cust.pub" --decision approve --key "$W/rev.pem"
expect_grep "recertification decision signed by SHA256:[0-9a-f]+, who is not the custodian" "$T_ERR"
expect_exit 1 "$KC" recertify "$W/nt.tar.gz" --scope "$W/scope.yaml" --pubkey "$W/cust.pub" --decision approve --key "$W/cust.pem"
[ "$(lines "$W/nt.tar.gz.custody.jsonl")" = $((n0 + 1)) ] || t_fail "the custodian's decision was not written"
t_pass

# forge WHAT JQ-EDIT PATTERN: the last entry edited, verify and custody show fail with PATTERN
forge() {
	t_begin "decide: $1 fails verify"
	cp "$b" "$W/f.tar.gz"
	{ head -n -1 "$b.custody.jsonl"; tail -n1 "$b.custody.jsonl" | jq -c "$2"; } >"$W/f.tar.gz.custody.jsonl"
	cmp -s "$b.custody.jsonl" "$W/f.tar.gz.custody.jsonl" && t_fail "the ledger was not edited"
	expect_exit 3 "$KC" custody show "$W/f.tar.gz" "${T[@]}"
	expect_grep "$3" "$T_OUT"
	expect_exit 3 "$KC" verify "$W/f.tar.gz" --pubkey "$W/cust.pub" "${T[@]}"
	expect_exit 0 "$KC" verify "$b" --pubkey "$W/cust.pub" "${T[@]}"
	t_pass
}
forge "an edited scope hash in the entry" '.recertification.scope_sha256 |= (.[0:63] + (if .[63:] == "0" then "1" else "0" end))' \
	"signature does not verify with Dana Reviewer's key .* \(the entry was altered\)"
forge "an edited bundle hash in the entry" '.bundle_sha256 |= (.[0:63] + (if .[63:] == "0" then "1" else "0" end))' \
	"is not this bundle's SHA-256"
forge "an edited decision" '.recertification.decision = "approve"' "the entry was altered"
forge "a decision that is none of the three" '.recertification.decision = "maybe"' "decision is not one of approve, revoke or remediate"

t_begin "decide: a decision over a tampered bundle is refused (3), nothing written"
cp "$b" "$W/t.tar.gz"; cp "$b.custody.jsonl" "$W/t.tar.gz.custody.jsonl"
size=$(stat -c %s "$W/t.tar.gz")
printf 'X' | dd of="$W/t.tar.gz" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
cmp -s "$b" "$W/t.tar.gz" && printf 'Y' | dd of="$W/t.tar.gz" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_exit 3 "$KC" recertify "$W/t.tar.gz" --scope "$W/scope.yaml" --pubkey "$W/cust.pub" --decision approve --key "$W/rev.pem" "${T[@]}"
expect_grep "not a valid bundle" "$T_ERR"
cmp -s "$b.custody.jsonl" "$W/t.tar.gz.custody.jsonl" || t_fail "the tampered bundle's ledger changed"
t_pass

t_begin "decide: usage errors -> 2"
expect_exit 2 "$KC" "${R[@]}" --decision maybe --key "$W/rev.pem"
expect_grep "decision must be approve, revoke or remediate" "$T_ERR"
expect_exit 2 "$KC" "${R[@]}" --decision approve
expect_exit 2 "$KC" "${R[@]}" --key "$W/rev.pem"
expect_exit 2 "$KC" custody append "$b" --action recertified --key "$W/rev.pem" "${T[@]}"
t_pass

t_begin "decide: an archived bundle's decision goes into the store's ledger"
S=$W/store
expect_exit 0 "$KC" archive put "$b" --store "$S" --retain 1y --key "$W/cust.pem" "${T[@]}"
own=$(lines "$b.custody.jsonl")
sl=$S/ledgers/$bundle_sha.custody.jsonl
n2=$(lines "$sl")
expect_exit 1 "$KC" "${R[@]}" --decision approve --key "$W/rev.pem" "${T[@]}" --store "$S"
expect_grep "in the store's ledger of the archived bundle" "$T_ERR"
[ "$(lines "$sl")" = $((n2 + 1)) ] || t_fail "the store's ledger did not grow"
[ "$(lines "$b.custody.jsonl")" = "$own" ] || t_fail "the bundle's own ledger changed"
tail -n1 "$sl" | jq -e --arg s "$scope_sha" '.action=="recertified" and .recertification.decision=="approve" and
	.recertification.scope_sha256==$s' >/dev/null || t_fail "store entry wrong"
expect_exit 0 "$KC" archive verify "$bundle_sha" --store "$S" "${T[@]}"
# twin: an untrusted key through the store is refused, the store's ledger unchanged
expect_exit 2 "$KC" "${R[@]}" --decision approve --key "$W/other.pem" "${T[@]}" --store "$S"
[ "$(lines "$sl")" = $((n2 + 1)) ] || t_fail "the refused decision was written"
# twin: a bundle that is not in the store
cp "$W/nt.tar.gz" "$W/nt2.tar.gz"; printf 'Z' >>"$W/nt2.tar.gz"
expect_exit 3 "$KC" recertify "$W/nt2.tar.gz" --scope "$W/scope.yaml" --pubkey "$W/cust.pub" --decision approve --key "$W/rev.pem" "${T[@]}" --store "$S"
t_pass

t_begin "decide: through an S3 Object Lock store (Ceph RGW) the decision is a locked entry object"
S3DIR=${KCUSTODY_S3_DIR:-/tmp/kcustody-s3}
s3_started=0
[ -f "$S3DIR/run/client.rgw.a.pid" ] && kill -0 "$(cat "$S3DIR/run/client.rgw.a.pid")" 2>/dev/null || s3_started=1
if bash "$KC_REPO/tests/s3/install.sh" >/dev/null 2>&1 && bash "$KC_REPO/tests/s3/start.sh" "$S3DIR" >/dev/null 2>"$W/s3.log"; then
	. "$S3DIR/env.sh"
	(umask 077; printf 'user = "%s:%s"\n' "$KC_S3_ACCESS_KEY" "$(cat "$KC_S3_SECRET_FILE")" >"$W/curl.conf")
	bucket=kcd-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	curl -s -o /dev/null -w '%{http_code}' -K "$W/curl.conf" --aws-sigv4 "aws:amz:$KC_S3_REGION:s3" -X PUT \
		-H 'x-amz-bucket-object-lock-enabled: true' \
		-H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
		"$KC_S3_ENDPOINT/$bucket" >"$W/code"
	[ "$(cat "$W/code")" = 200 ] || t_fail "cannot create bucket: $(cat "$W/code")"
	CONN=(--endpoint "$KC_S3_ENDPOINT" --region "$KC_S3_REGION" --access-key "$KC_S3_ACCESS_KEY" --secret-key-file "$KC_S3_SECRET_FILE")
	# the decision takes the store's settings from the environment, as documented
	s3env=(env AWS_ENDPOINT_URL="$KC_S3_ENDPOINT" AWS_REGION="$KC_S3_REGION" AWS_ACCESS_KEY_ID="$KC_S3_ACCESS_KEY"
		AWS_SECRET_ACCESS_KEY="$(cat "$KC_S3_SECRET_FILE")")
	cp "$W/nt.tar.gz" "$W/s3b.tar.gz"; head -n "$n0" "$b.custody.jsonl" >"$W/s3b.tar.gz.custody.jsonl"
	expect_exit 0 "$KC" archive put "$W/s3b.tar.gz" --store "s3://$bucket/d" "${CONN[@]}" --retain 1d --key "$W/cust.pem" "${T[@]}"
	expect_exit 1 "${s3env[@]}" "$KC" recertify "$W/s3b.tar.gz" --scope "$W/scope.yaml" --pubkey "$W/cust.pub" \
		--decision revoke --key "$W/rev.pem" "${T[@]}" --store "s3://$bucket/d"
	expect_exit 2 "${s3env[@]}" "$KC" recertify "$W/s3b.tar.gz" --scope "$W/scope.yaml" --pubkey "$W/cust.pub" \
		--decision revoke --key "$W/other.pem" "${T[@]}" --store "s3://$bucket/d"
	expect_exit 0 "$KC" archive verify "$bundle_sha" --store "s3://$bucket/d" "${CONN[@]}" "${T[@]}"
	expect_exit 0 "$KC" archive get "$bundle_sha" -o "$W/s3get.tar.gz" --store "s3://$bucket/d" "${CONN[@]}" --key "$W/rev.pem" "${T[@]}"
	jq -sc '[.[].action]' "$W/s3get.tar.gz.custody.jsonl" >"$T_OUT"
	expect_grep '^\["sealed","archived","recertified","accessed"\]$' "$T_OUT"
	jq -se '.[2].recertification.decision=="revoke" and .[2].actor.name=="Dana Reviewer"' "$W/s3get.tar.gz.custody.jsonl" >/dev/null ||
		t_fail "the store's decision entry is wrong"
	[ "$s3_started" = 1 ] && bash "$KC_REPO/tests/s3/stop.sh" "$S3DIR" >/dev/null 2>&1
else
	t_fail "cannot start Ceph RGW: $(tail -n 3 "$W/s3.log")"
fi
t_pass

t_begin "oscal: assessment results and plan validate against NIST's OSCAL 1.0.6 schemas"
mkdir -p "$W/o1" "$W/o2"
expect_exit 1 "$KC" "${R[@]}" --format oscal -o "$W/o1/ar.json"
[ -s "$W/o1/ar.json" ] && [ -s "$W/o1/ar-plan.json" ] || t_fail "no results or plan"
$VALIDATE "$OSCAL/oscal_assessment-results_schema.json" "$W/o1/ar.json" >"$W/v.out" 2>&1 || t_fail "results invalid: $(head -5 "$W/v.out")"
$VALIDATE "$OSCAL/oscal_assessment-plan_schema.json" "$W/o1/ar-plan.json" >"$W/v.out" 2>&1 || t_fail "plan invalid: $(head -5 "$W/v.out")"
t_pass

t_begin "oscal: observations per agent and control, a finding for the excess, the bundle by SHA-256"
A=$W/o1/ar.json
jq -e --arg ns "$ns" --arg b "$bundle_sha" '."assessment-results" as $r | $r.results[0] as $x |
	($x.observations|length)==6 and
	([$x.observations[].props[]|select(.name=="control-id").value]|sort)==["ac-2","ac-2","ac-6","ac-6","au-6","au-6"] and
	($x.findings|length)==1 and $x.findings[0].target["target-id"]=="ac-6_obj" and
	$x.findings[0].target.status.state=="not-satisfied" and ($x.findings[0].description|test("get secrets in namespace")) and
	([$x.observations[]|select(.uuid==$x.findings[0]["related-observations"][0]["observation-uuid"])]|length)==1 and
	$r["import-ap"].href=="ar-plan.json" and
	($r["back-matter"].resources[0].rlinks[0].hashes[0]=={algorithm:"SHA-256",value:$b}) and
	([$x.observations[].uuid]|unique|length)==6 and
	all($x.observations[]["relevant-evidence"][0].href; .=="#"+$r["back-matter"].resources[0].uuid)' "$A" >/dev/null ||
	t_fail "results content: $(jq -c '."assessment-results".results[0].findings' "$A" | cut -c1-300)"
# UUIDs are version 5 in kcustody's namespace: the results' uuid recomputed with Python
want=$(python3 -c 'import sys,uuid; ns=uuid.uuid5(uuid.NAMESPACE_URL,"https://kcustody.dev/ns/oscal"); print(uuid.uuid5(ns, sys.argv[1]+"|observation|"+sys.argv[2]+"|ac-6"))' "$bundle_sha" "$ns/kagent-bot")
jq -e --arg u "$want" '[."assessment-results".results[0].observations[].uuid]|index($u)' "$A" >/dev/null || t_fail "ac-6 observation uuid is not $want"
t_pass

t_begin "oscal: au-6 counts the agent's own events in the audit segment (and a bundle without one says so)"
jq -e --arg u "system:serviceaccount:$ns:kagent-bot" '[."assessment-results".results[0].observations[] |
	select(.title|startswith("AU-6")) | .description | test("holds no audit-log segment")] | length==2' "$A" >/dev/null ||
	t_fail "au-6 without a segment: $(jq -c '[."assessment-results".results[0].observations[]|select(.title|startswith("AU-6"))|.description]' "$A")"
tok=$(kc_admin -n "$ns" create token kagent-bot)
for i in 1 2 3; do
	kubectl --server "$KC_SERVER" --certificate-authority "$KC_PKI_DIR/ca.crt" --token "$tok" -n "$ns" get pods >/dev/null 2>&1 ||
		t_fail "kagent-bot cannot list pods"
done
mkdir -p "$W/b2"
b2=$("$KC" collect --kubeconfig "$KC_KUBECONFIG" --case DECIDE-2 --phase baseline --agents '' \
	--sa "$ns/kagent-bot" --sa "$ns/rag-agent" --key "$W/cust.pem" --audit-log "$KC_AUDIT_DIR/audit.log" -o "$W/b2/" -q)
"$KC" inspect "$b2" audit/segment.jsonl >"$W/seg.jsonl" || t_fail "no audit segment in the bundle"
want=$(jq -r --arg u "system:serviceaccount:$ns:kagent-bot" 'select(.user.username==$u) | .auditID' "$W/seg.jsonl" | wc -l)
[ "$want" -ge 3 ] || t_fail "the segment holds $want events of kagent-bot, expected at least 3"
expect_exit 1 "$KC" recertify "$b2" --scope "$W/scope.yaml" --pubkey "$W/cust.pub" --format oscal -o "$W/o2/au.json"
jq -e --arg k "holds $want events of system:serviceaccount:$ns:kagent-bot." --arg r "holds 0 events of system:serviceaccount:$ns:rag-agent." '
	[."assessment-results".results[0].observations[] | select(.title|startswith("AU-6")) | .description] as $d |
	($d|map(endswith($k))|any) and ($d|map(endswith($r))|any)' "$W/o2/au.json" >/dev/null ||
	t_fail "au-6: $(jq -c '[."assessment-results".results[0].observations[]|select(.title|startswith("AU-6"))|.description]' "$W/o2/au.json")"
$VALIDATE "$OSCAL/oscal_assessment-results_schema.json" "$W/o2/au.json" >"$W/v.out" 2>&1 || t_fail "au results invalid: $(head -5 "$W/v.out")"
t_pass

t_begin "oscal: the same inputs give the same bytes; another scope file another document"
expect_exit 1 "$KC" "${R[@]}" --format oscal -o "$W/o2/ar.json"
cmp "$W/o1/ar.json" "$W/o2/ar.json" || t_fail "results differ between two runs"
cmp "$W/o1/ar-plan.json" "$W/o2/ar-plan.json" || t_fail "plans differ between two runs"
sed 's/approval: CHG-2002/approval: CHG-2009/' "$W/scope.yaml" >"$W/scope2.yaml"
expect_exit 1 "$KC" recertify "$b" --scope "$W/scope2.yaml" --pubkey "$W/cust.pub" --format oscal -o "$W/o2/ar2.json" --oscal-plan "$W/o2/plan2.json"
[ "$(jq -r '."assessment-results".uuid' "$W/o2/ar2.json")" != "$(jq -r '."assessment-results".uuid' "$A")" ] || t_fail "same uuid for another scope"
[ "$(jq -r '."assessment-results"."import-ap".href' "$W/o2/ar2.json")" = plan2.json ] || t_fail "import-ap not the --oscal-plan"
t_pass

t_begin "oscal: the validator rejects a document without a required field (import-ap; the plan's reviewed-controls)"
jq 'del(."assessment-results"."import-ap")' "$A" >"$W/bad-ar.json"
expect_exit 1 $VALIDATE "$OSCAL/oscal_assessment-results_schema.json" "$W/bad-ar.json"
expect_grep "must have required property 'import-ap'" "$T_OUT"
jq 'del(."assessment-plan"."reviewed-controls")' "$W/o1/ar-plan.json" >"$W/bad-ap.json"
expect_exit 1 $VALIDATE "$OSCAL/oscal_assessment-plan_schema.json" "$W/bad-ap.json"
expect_grep "must have required property 'reviewed-controls'" "$T_OUT"
jq '."assessment-results".results[0].observations[0].uuid = "not-a-uuid"' "$A" >"$W/bad-uuid.json"
expect_exit 1 $VALIDATE "$OSCAL/oscal_assessment-results_schema.json" "$W/bad-uuid.json"
t_pass

t_begin "oscal: usage: -o is required, existing files are not replaced without --force"
expect_exit 2 "$KC" "${R[@]}" --format oscal
expect_exit 2 "$KC" "${R[@]}" --format oscal -o "$W/o1/ar.json"
expect_exit 1 "$KC" "${R[@]}" --format oscal -o "$W/o1/ar.json" --force
expect_exit 2 "$KC" "${R[@]}" -o "$W/x.json"
# an existing plan beside a new results file: refused before any work
mkdir -p "$W/o3" && echo '{}' >"$W/o3/ar-plan.json"
n3=$(lines "$b.custody.jsonl")
expect_exit 2 "$KC" "${R[@]}" --format oscal -o "$W/o3/ar.json" --decision approve --key "$W/rev.pem" "${T[@]}"
expect_grep "ar-plan.json" "$T_ERR"
[ ! -e "$W/o3/ar.json" ] || t_fail "results written although the plan exists"
[ "$(lines "$b.custody.jsonl")" = "$n3" ] || t_fail "a decision was written although the command was refused"
t_pass

t_begin "oscal: the schema copies are the ones the README names"
(cd "$OSCAL" && grep -Eo '^[0-9a-f]{64}  oscal_[a-z-]+_schema\.json$' README.md | sha256sum -c --quiet) || t_fail "schema copies differ from README"
t_pass

kc_purge_ns "$ns"
t_summary
