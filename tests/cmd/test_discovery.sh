#!/bin/bash
# API discovery (issue 13 item 1) and custom resources (item 2) against the
# real API server: collect stores /api, /apis and every group-version's
# resource list as the server sends them; can-i, who-can, findings and diff
# use them (wildcard reach, the cluster-scoped table, "the server doesn't
# have a resource type"); a bundle without discovery behaves as before.
# The kagent-shaped CRDs and objects of tests/data/kagent/ are applied
# here only (the default estate does not have them).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

id=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
NS=kcr-disc-$id
P=kcr-disc-$id # prefix of cluster-scoped objects
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-disc.XXXX")
cleanup() {
	rm -rf "$W"
	kc_admin delete contextboundaries.policy.kcr-test.io "$NS-boundary" >/dev/null 2>&1
	kc_admin delete -f "$KC_REPO/tests/data/kagent/crds.yaml" >/dev/null 2>&1
	kc_purge_ns "$NS"
	kc_admin delete clusterrole "$P-all" "$P-cb" "$P-crdlist" >/dev/null 2>&1
	kc_admin delete clusterrolebinding "$P-all" "$P-crdlist" >/dev/null 2>&1
}
trap cleanup EXIT

kc_admin create -f - >/dev/null <<YAML || { echo "cannot create fixture"; echo "0 passed, 1 failed"; exit 1; }
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: agent-all, namespace: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: agent-nsall, namespace: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: agent-cb, namespace: $NS}}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: $P-all}
  rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: $P-cb}
  rules: [{apiGroups: [policy.kcr-test.io], resources: [contextboundaries], verbs: [get]}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: $P-all}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $P-all}
  subjects: [{kind: ServiceAccount, name: agent-all, namespace: $NS}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: nsall, namespace: $NS}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $P-all}
  subjects: [{kind: ServiceAccount, name: agent-nsall, namespace: $NS}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: cb, namespace: $NS}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $P-cb}
  subjects: [{kind: ServiceAccount, name: agent-cb, namespace: $NS}]
YAML
collect() { "$KC" collect --case T-disc --phase pre --operator tester --kubeconfig "$KC_KUBECONFIG" \
	--agents "$NS/agent" --no-reviews "$@"; }
# before the CRDs exist: nothing of a runtime to collect, and no error
collect --out-dir "$W/nocrd" >/dev/null 2>"$W/nocrd.err"
nocrd_rc=$?
kc_admin apply -f "$KC_REPO/tests/data/kagent/crds.yaml" >/dev/null &&
	kc_admin wait --for condition=established --timeout=60s -f "$KC_REPO/tests/data/kagent/crds.yaml" >/dev/null ||
	{ echo "cannot create the CRDs"; echo "0 passed, 1 failed"; exit 1; }
# discovery of new CRDs can lag the Established condition by a moment
for _ in $(seq 50); do kc_admin get --raw /apis/policy.kcr-test.io/v1 >/dev/null 2>&1 && break; sleep 0.2; done

sed "s/NAMESPACE/$NS/g" "$KC_REPO/tests/data/kagent/objects.yaml" | kc_admin apply -f - >/dev/null ||
	{ echo "cannot create the custom objects"; echo "0 passed, 1 failed"; exit 1; }
# every test below reads this one collection (and copies of it)
EV=$W/ev
collect --out-dir "$EV" --resource policy.kcr-test.io/contextboundaries >"$W/collect.out" 2>"$W/collect.err"
rc=$?
# the same evidence as a bundle sealed before discovery existed
cp -a "$EV" "$W/old" && rm -rf "$W/old/discovery"

same_json() { # FILE PATH: the stored document equals the server's answer
	cmp -s <(jq -S . "$1") <(kc_admin get --raw "$2" | jq -S .)
}

t_begin "discovery: /api, /apis and every group-version stored as the server sends them"
[ "$rc" = 0 ] || t_fail "collect exited $rc: $(tail -n 3 "$W/collect.err")"
same_json "$EV/discovery/api.json" /api || t_fail "discovery/api.json differs from GET /api"
same_json "$EV/discovery/apis.json" /apis || t_fail "discovery/apis.json differs from GET /apis"
n=0
for gv in $(kc_admin get --raw /api | jq -r '.versions[]'); do
	same_json "$EV/discovery/api/$gv.json" "/api/$gv" || t_fail "discovery/api/$gv.json differs"
	n=$((n + 1))
done
for gv in $(kc_admin get --raw /apis | jq -r '.groups[].versions[].groupVersion'); do
	same_json "$EV/discovery/apis/$gv.json" "/apis/$gv" || t_fail "discovery/apis/$gv.json differs"
	n=$((n + 1))
done
[ "$n" -ge 20 ] || t_fail "only $n group-versions"
[ -f "$EV/discovery/apis/kagent.dev/v1alpha1.json" ] && [ -f "$EV/discovery/apis/kagent.dev/v1alpha2.json" ] ||
	t_fail "kagent.dev's two versions not stored"
# each stored document is a manifest file and a complete item
for f in $(cd "$EV" && find discovery -type f | sort); do
	jq -e --arg p "$f" 'any(.files[]; .path == $p and .derived == false)' "$EV/MANIFEST.json" >/dev/null ||
		t_fail "$f not in the manifest"
done
[ "$(jq '[.items[] | select(.name | startswith("discovery/apis/") or startswith("discovery/api/"))
	| select(.status == "complete")] | length' "$EV/MANIFEST.json")" = "$n" ] || t_fail "not $n complete discovery items"
jq -e '.status == "complete"' "$EV/MANIFEST.json" >/dev/null || t_fail "collection not complete"
t_pass

t_begin "discovery: a sealed bundle lists every discovery document in SHA256SUMS"
"$KC" keygen -o "$T_DIR/k.pem" --pub "$T_DIR/k.pub" >/dev/null 2>&1
mkdir "$T_DIR/out"
expect_exit 0 collect --key "$T_DIR/k.pem" -o "$T_DIR/out/"
b=$(ls "$T_DIR"/out/*.tar.gz)
expect_exit 0 "$KC" verify "$b" --pubkey "$T_DIR/k.pub"
tar xzf "$b" -C "$T_DIR/out"
top=$(ls -d "$T_DIR"/out/*/)
for f in discovery/api.json discovery/apis.json discovery/api/v1.json discovery/apis/kagent.dev/v1alpha2.json; do
	grep -q "^SHA256 ($f) = $(sha256sum "$top/$f" | cut -d' ' -f1)$" "$top/SHA256SUMS" ||
		t_fail "$f not in SHA256SUMS with its digest"
done
t_pass

# kubectl's own view of what the cluster serves: the reference for reach
kc_admin api-resources -o name | sort >"$W/all.txt"
kc_admin api-resources --namespaced=true -o name | sort >"$W/ns.txt"
groups_of() { awk -F. '{ sub(/^[^.]*\.?/, ""); print }' "$1" | sort -u | wc -l; }

t_begin "findings: a wildcard rule's reach is the cluster's own resources, custom resources named"
f=$EV/analysis/findings.json
for sa in agent-all agent-nsall; do
	want=$W/all.txt scope=cluster
	[ "$sa" = agent-nsall ] && want=$W/ns.txt scope=namespace
	# the finding of the fixture's own role (other estates may bind broad groups)
	r=$(jq -c --arg sa "$sa" --arg sc "$scope" --arg role "$P-all" '[.findings[] | select(.id == "AGR-002"
		and .subject.name == $sa and .scope == $sc and .role.name == $role)][0].reach' "$f")
	[ "$r" != null ] || { t_fail "$sa: AGR-002 has no reach"; continue; }
	# the same set of resource types as kubectl api-resources
	cmp -s <(jq -r '.resources[]' <<<"$r" | sort) "$want" ||
		t_fail "$sa: reach differs from kubectl api-resources: $(diff <(jq -r '.resources[]' <<<"$r" | sort) "$want" | head -5 | tr '\n' ' ')"
	[ "$(jq .resourceTypes <<<"$r")" = "$(wc -l <"$want")" ] || t_fail "$sa: resourceTypes"
	[ "$(jq .groups <<<"$r")" = "$(groups_of "$want")" ] || t_fail "$sa: groups $(jq .groups <<<"$r") != $(groups_of "$want")"
	for cr in agents.kagent.dev modelconfigs.kagent.dev toolservers.kagent.dev; do
		jq -e --arg c "$cr" 'any(.customResources[]; . == $c)' <<<"$r" >/dev/null || t_fail "$sa: $cr not a custom resource"
	done
	jq -e '.text | test("^reaches [0-9]+ resource types in [0-9]+ groups, including [0-9]+ custom resources \\(")' \
		<<<"$r" >/dev/null || t_fail "$sa: text: $(jq .text <<<"$r")"
	jq -e 'all(.customResources[]; test("kagent\\.dev$|kcr-test\\.io$"))' <<<"$r" >/dev/null ||
		t_fail "$sa: a built-in resource counted as custom: $(jq -c .customResources <<<"$r")"
done
# the cluster-scoped custom resource: cluster-wide only
jq -e --arg role "$P-all" '[.findings[] | select(.id == "AGR-002" and .subject.name == "agent-all" and .role.name == $role)][0].reach.customResources
	| any(. == "contextboundaries.policy.kcr-test.io")' "$f" >/dev/null || t_fail "cluster grant misses contextboundaries"
jq -e --arg role "$P-all" '[.findings[] | select(.id == "AGR-002" and .subject.name == "agent-nsall" and .scope == "namespace" and .role.name == $role)][0]
	.reach.customResources | any(. == "contextboundaries.policy.kcr-test.io") | not' "$f" >/dev/null ||
	t_fail "a RoleBinding reaches the cluster-scoped contextboundaries"
# the text renderings say it too
grep -Eq "^  reach:    reaches [0-9]+ resource types in [0-9]+ groups, including 4 custom resources \(agents\.kagent\.dev, modelconfigs\.kagent\.dev, toolservers\.kagent\.dev, contextboundaries\.policy\.kcr-test\.io\)$" \
	"$EV/analysis/findings.txt" || t_fail "findings.txt has no reach line: $(grep -m2 'reach:' "$EV/analysis/findings.txt")"
# a rule without wildcard has no reach
jq -e --arg role "$P-cb" '[.findings[] | select(.subject.name == "agent-cb" and .role.name == $role and .reach != null)] | length == 0' "$f" >/dev/null ||
	t_fail "reach on a rule without wildcard"
t_pass

t_begin "can-i --json: wildcardReach from discovery; none without it"
expect_exit 0 "$KC" can-i "$EV" --sa "$NS/agent-all" --json
wr='[.. | objects | select(has("wildcardReach") and .role.name == $role)][0].wildcardReach.resourceTypes'
jq -e --arg role "$P-all" "$wr" "$T_OUT" >/dev/null || t_fail "no wildcardReach"
[ "$(jq --arg role "$P-all" "$wr" "$T_OUT")" = "$(wc -l <"$W/all.txt")" ] ||
	t_fail "wildcardReach count differs from kubectl api-resources"
expect_exit 0 "$KC" can-i "$W/old" --sa "$NS/agent-all" --json
expect_no_grep wildcardReach "$T_OUT"
t_pass

t_begin "who-can: warns on a resource the cluster does not serve, from its own discovery"
expect_exit 0 "$KC" who-can "$EV" get secretz
expect_grep "doesn't have a resource type 'secretz' \(not in this bundle's discovery documents\)" "$T_ERR"
kc_admin get secretz >/dev/null 2>"$T_DIR/kubectl.err" && t_fail "kubectl found secretz"
grep -q "the server doesn't have a resource type \"secretz\"" "$T_DIR/kubectl.err" || t_fail "kubectl's message changed"
expect_exit 0 "$KC" who-can "$EV" get pods/logz
expect_grep "doesn't have a resource type 'pods/logz'" "$T_ERR"
# served custom resources and subresources: no warning
for r in agents.kagent.dev modelconfigs.kagent.dev agents.kagent.dev/status pods/log; do
	expect_exit 0 "$KC" who-can "$EV" get "$r" --json
	jq -e '.served == true and (has("warning") | not)' "$T_OUT" >/dev/null || t_fail "$r: $(jq -c '{served, warning}' "$T_OUT")"
done
# a bundle without discovery: the built-in list, as before (a custom
# resource no rule names is not known)
expect_exit 0 "$KC" who-can "$W/old" get toolservers.kagent.dev --json
jq -e '.served == false and (.warning | test("until discovery is collected"))' "$T_OUT" >/dev/null ||
	t_fail "old bundle: $(jq -c '{served, warning}' "$T_OUT")"
t_pass

t_begin "scope: a cluster-scoped custom resource is never granted through a RoleBinding (discovery); old bundles as before"
# the real server: no real request for it carries a namespace
[ "$(kc_admin auth can-i get contextboundaries.policy.kcr-test.io --as "system:serviceaccount:$NS:agent-cb" 2>/dev/null)" = no ] ||
	t_fail "the server grants contextboundaries cluster-wide"
expect_exit 0 "$KC" who-can "$EV" get contextboundaries.policy.kcr-test.io --json
jq -e '.clusterScoped == true' "$T_OUT" >/dev/null || t_fail "not cluster-scoped with discovery"
expect_no_grep "agent-cb" "$T_OUT"
expect_exit 0 "$KC" who-can "$W/old" get contextboundaries.policy.kcr-test.io --json
jq -e '.clusterScoped == false' "$T_OUT" >/dev/null || t_fail "old bundle: not the built-in answer"
expect_grep "agent-cb" "$T_OUT"
t_pass

t_begin "diff: each bundle is judged by its own discovery"
# three collections in order: $W/old (the first, discovery removed), a
# second with discovery, a third with discovery removed; diff reads bundles
collect --out-dir "$T_DIR/c2" >/dev/null 2>&1 || t_fail "second collect"
collect --out-dir "$T_DIR/c3" >/dev/null 2>&1 || t_fail "third collect"
cp -a "$W/old" "$T_DIR/c1"
rm -rf "$T_DIR/c3/discovery"
for x in c1 c2 c3; do
	mv "$T_DIR/$x/MANIFEST.json" "$T_DIR/$x.draft.json"
	jq --arg x "$x" 'if $x != "c2" then del(.files[] | select(.path | startswith("discovery/"))) else . end' \
		"$T_DIR/$x.draft.json" >"$T_DIR/$x.m.json"
	expect_exit 0 "$KC" seal "$T_DIR/$x" --manifest "$T_DIR/$x.m.json" --no-sign -o "$T_DIR/$x.tar.gz"
done
kept_cb='[.agents[] | select(.name == "agent-cb") | .kept[] | select(.resource == "contextboundaries")]'
# PRE without discovery, POST with: the kept permission is POST's, with
# POST's verdict (a RoleBinding never grants a cluster-scoped resource)
expect_exit 0 "$KC" diff "$T_DIR/c1.tar.gz" "$T_DIR/c2.tar.gz" --no-verify --format json
jq -e "$kept_cb | length == 1 and (.[0].effective == false)" "$T_OUT" >/dev/null ||
	t_fail "POST's discovery not applied to POST: $(jq -c "$kept_cb" "$T_OUT")"
# PRE with discovery, POST without: PRE's table must not leak into POST
expect_exit 0 "$KC" diff "$T_DIR/c2.tar.gz" "$T_DIR/c3.tar.gz" --no-verify --format json
jq -e "$kept_cb | length == 1 and (.[0] | has(\"effective\") | not)" "$T_OUT" >/dev/null ||
	t_fail "PRE's discovery applied to POST: $(jq -c "$kept_cb" "$T_OUT")"
t_pass

t_begin "custom: the CRD list is stored as received, kagent's objects of every CRD it declares are collected"
m=$EV/MANIFEST.json
jq -e '.items[] | select(.name == "list/customresourcedefinitions") | .status == "complete"' "$m" >/dev/null ||
	t_fail "CRD list not complete"
[ "$(jq -s '[.[].items[]] | length' "$EV"/raw/customresourcedefinitions/page-*.json)" = "$(kc_admin get crd -o name | wc -l)" ] ||
	t_fail "CRD count differs from kubectl"
cmp -s <(jq -S '.items | map(.metadata.name) | sort' "$EV/raw/customresourcedefinitions/page-0001.json") \
	<(kc_admin get --raw "/apis/apiextensions.k8s.io/v1/customresourcedefinitions" | jq -S '.items | map(.metadata.name) | sort') ||
	t_fail "CRD list differs"
for r in agents modelconfigs toolservers; do
	jq -e --arg r "$r" '.items[] | select(.name == "custom/kagent.dev/" + $r) | .status == "complete" and .count == 1' "$m" >/dev/null ||
		t_fail "custom/kagent.dev/$r not collected"
	[ "$(jq -r '.items[0].metadata.namespace' "$EV/custom/kagent.dev/$r/page-0001.json")" = "$NS" ] || t_fail "$r object missing"
done
# listed at the served (preferred) version: agents v1alpha2 objects
jq -e '.items[0].apiVersion == "kagent.dev/v1alpha2"' "$EV/custom/kagent.dev/agents/page-0001.json" >/dev/null ||
	t_fail "agents not at the preferred version"
jq -e '.items[] | select(.name == "custom/policy.kcr-test.io/contextboundaries") | .status == "complete" and .count == 1' "$m" >/dev/null ||
	t_fail "--resource not collected"
# nothing else of another group unasked
[ "$(ls "$EV/custom")" = "$(printf 'kagent.dev\npolicy.kcr-test.io')" ] || t_fail "unexpected custom groups: $(ls "$EV/custom")"
t_pass

t_begin "custom: credentials never stored (sha256:<hex>), references kept, the page's original SHA-256 recorded"
if grep -rq CANARY "$EV"; then t_fail "a credential reached the evidence: $(grep -rl CANARY "$EV" | head -3)"; fi
h() { printf 'sha256:%s' "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"; }
mc=$EV/custom/kagent.dev/modelconfigs/page-0001.json
jq -e --arg a "$(h CANARY-apikey-inline-value)" --arg b "$(h 'Bearer CANARY-bearer-inline-value')" '.items[0].spec
	| .apiKey == $a and .defaultHeaders.Authorization == $b and .apiKeySecret == "kagent-openai"
	and .apiKeySecretKey == "OPENAI_API_KEY" and .model == "gpt-4.1-mini"' "$mc" >/dev/null ||
	t_fail "modelconfig: $(jq -c '.items[0].spec' "$mc")"
ag=$EV/custom/kagent.dev/agents/page-0001.json
jq -e --arg a "$(h CANARY-env-inline-value)" '.items[0].spec.declarative.deployment
	| .env[0].value == $a and .env[1].valueFrom.secretKeyRef == {"name": "kagent-openai", "key": "OPENAI_API_KEY"}
	and .serviceAccountName == "kagent-k8s-agent"' "$ag" >/dev/null || t_fail "agent: $(jq -c '.items[0].spec' "$ag")"
ts=$EV/custom/kagent.dev/toolservers/page-0001.json
jq -e --arg a "$(h CANARY-token-inline-value)" '.items[0].spec.config
	| .sse.headers["x-api-token"] == $a and .sse.headersFrom[0].valueFrom.name == "tool-auth"
	and (.stdio.args[2] | startswith("sha256:")) and .stdio.args[1] == "--password"' "$ts" >/dev/null ||
	t_fail "toolserver: $(jq -c '.items[0].spec.config' "$ts")"
jq -e '.items[0].spec.clientSecret | startswith("sha256:")' "$EV/custom/policy.kcr-test.io/contextboundaries/page-0001.json" >/dev/null ||
	t_fail "contextboundary clientSecret kept"
# kubectl apply's last-applied annotation carries the whole object: hashed
jq -e '.items[0].metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"] | startswith("sha256:")' "$mc" >/dev/null ||
	t_fail "last-applied not hashed"
# each redacted page: transform, count and the SHA-256 of the server's page
# (the same list at the same revision: the list's resourceVersion is the
# cluster's, which moves with every write anywhere)
rv=$(jq -r '.items[] | select(.name == "custom/kagent.dev/modelconfigs") | .resource_version' "$m")
orig=$(kc_admin get --raw "/apis/kagent.dev/v1alpha2/modelconfigs?limit=500&resourceVersion=$rv&resourceVersionMatch=Exact" |
	sha256sum | cut -d' ' -f1)
jq -e --arg o "$orig" '.files[] | select(.path == "custom/kagent.dev/modelconfigs/page-0001.json")
	| .transform == "redact-credentials" and .original_sha256 == $o and .redacted_values >= 3' "$m" >/dev/null ||
	t_fail "modelconfigs page: $(jq -c '.files[] | select(.path == "custom/kagent.dev/modelconfigs/page-0001.json")' "$m")"
# the CRD list is not a custom resource: stored as received
jq -e '.files[] | select(.path == "raw/customresourcedefinitions/page-0001.json") | has("transform") | not' "$m" >/dev/null ||
	t_fail "CRD page transformed"
t_pass

t_begin "custom: no CRD of a known runtime collects nothing and is no error"
[ "$nocrd_rc" = 0 ] || t_fail "collect without CRDs exited $nocrd_rc: $(tail -n 2 "$W/nocrd.err")"
[ ! -e "$W/nocrd/custom" ] || t_fail "custom/ written without CRDs"
jq -e '.status == "complete" and ([.items[] | select(.name | startswith("custom/"))] | length == 0)' "$W/nocrd/MANIFEST.json" >/dev/null ||
	t_fail "items for custom resources without CRDs"
# --resource of something the cluster does not serve: recorded, partial
expect_exit 1 collect --out-dir "$T_DIR/ev" --resource example.invalid/widgets
jq -e '.items[] | select(.name == "custom/example.invalid/widgets") | .status == "error" and (.detail | test("not served"))' \
	"$T_DIR/ev/MANIFEST.json" >/dev/null || t_fail "unserved --resource not recorded"
expect_exit 2 collect --out-dir "$T_DIR/ev2" --resource 'Widgets'
expect_grep "--resource wants GROUP/RESOURCE" "$T_ERR"
t_pass

t_begin "custom: a refused custom list is recorded forbidden, nothing stored"
kc_admin create clusterrole "$P-crdlist" --verb=list --resource=customresourcedefinitions.apiextensions.k8s.io >/dev/null &&
	kc_admin create clusterrolebinding "$P-crdlist" --clusterrole="$P-crdlist" --user=restricted-user >/dev/null ||
	t_fail "cannot bind the CRD list"
expect_exit 1 "$KC" collect --case T-disc --phase pre --kubeconfig "$(kc_kubeconfig restricted.yaml)" --no-reviews \
	--out-dir "$T_DIR/r"
jq -e '.items[] | select(.name == "list/customresourcedefinitions") | .status == "complete"' "$T_DIR/r/MANIFEST.json" >/dev/null ||
	t_fail "CRD list not collected with the binding"
jq -e '.items[] | select(.name == "custom/kagent.dev/agents") | .status == "forbidden" and .http_status == 403' \
	"$T_DIR/r/MANIFEST.json" >/dev/null || t_fail "refused agents list not recorded forbidden"
[ ! -e "$T_DIR/r/custom" ] || t_fail "pages stored for a refused list"
t_pass

t_summary
