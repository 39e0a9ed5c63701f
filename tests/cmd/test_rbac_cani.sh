#!/bin/bash
# The can-i table is what `kubectl auth can-i --list` prints, byte for byte.
#
# How the comparison is made: the server returns the rules of a rules review
# in an order that changes between calls (its informer caches iterate Go
# maps), and kubectl's table depends on that order wherever one (group,
# resource, name) row merges verbs from several rules: the verbs are listed
# in the order met.  kubectl's own sort (a stable sort of the merged rules by
# their Go string) makes everything else deterministic.  So two separate
# calls cannot be compared byte for byte in general.  Instead we capture the
# very response kubectl rendered: `kubectl -v=10` logs the response body,
# which kubectl 1.32 receives as protobuf and logs as a hex dump; the awk
# decoder below turns the SelfSubjectRulesReview in it back into JSON
# (field numbers from k8s.io/api/authorization/v1/generated.proto), and
# `kcustody can-i --review-json` must print exactly kubectl's stdout for it.
# For the stored JSON reviews that collect fetches, the table is compared
# with a fresh kubectl run byte for byte where no row merges verbs from
# several rules, and as sets of rows otherwise.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

id=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
NS=kcr-cani-$id
P=kcr-cani-$id # prefix of cluster-scoped objects
EV=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-cani-ev.XXXX")/ev # shared by the tests below
# Namespaces removed by the controller manager's namespace controller
# (kc_purge_ns waits for it; by hand on a cluster without one).
cleanup() {
	rm -rf "$(dirname "$EV")"
	kc_purge_ns "$NS"
	kc_admin delete clusterrole "$P-names" >/dev/null 2>&1
	kc_admin delete clusterrolebinding "$P-crb" "$P-missing" >/dev/null 2>&1
}
trap cleanup EXIT

kc_admin create -f - >/dev/null <<YAML || { echo "cannot create fixture"; echo "0 passed, 1 failed"; exit 1; }
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: plain-agent, namespace: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: merged-agent, namespace: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: names-agent, namespace: $NS}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: single-agent, namespace: $NS}}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: Role
  metadata: {name: r1, namespace: $NS}
  rules:
  - {apiGroups: [""], resources: [pods], verbs: [get]}
  - {apiGroups: [""], resources: [pods, configmaps], verbs: [list, get]}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: Role
  metadata: {name: r2, namespace: $NS}
  rules:
  - {apiGroups: [""], resources: [pods], verbs: [watch, get, get]}
  - {apiGroups: ["", apps], resources: [pods/log, deployments/scale, "*/scale"], verbs: [get, patch]}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: Role
  metadata: {name: single, namespace: $NS}
  rules:
  - {apiGroups: [batch], resources: [jobs, cronjobs/status], verbs: [create, delete]}
  - {apiGroups: [""], resources: [secrets], resourceNames: [a, b], verbs: [get]}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: $P-names}
  rules:
  - {apiGroups: [""], resources: [secrets], resourceNames: [s1, s2, ""], verbs: [get, update]}
  - {apiGroups: ["*"], resources: ["*"], verbs: [list]}
  - {apiGroups: [""], resources: ["*"], verbs: ["*"]}
  - {apiGroups: ["ünïcode.example.com"], resources: [wîdgets, "wîdgets/stätus"], verbs: [get]}
  - {apiGroups: [x.example.com], resources: [averyveryveryveryveryverylongresourcenamethatiswide/sub], verbs: [deletecollection]}
  - {nonResourceURLs: ["/metrics", "/logs/*"], verbs: [get, post]}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: rb1, namespace: $NS}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r1}
  subjects: [{kind: ServiceAccount, name: merged-agent, namespace: $NS}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: rb2, namespace: $NS}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r2}
  subjects: [{kind: Group, name: "system:serviceaccounts:$NS", apiGroup: rbac.authorization.k8s.io}, {kind: ServiceAccount, name: merged-agent}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: rb3, namespace: $NS}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $P-names}
  subjects: [{kind: ServiceAccount, name: names-agent, namespace: $NS}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: rb-missing, namespace: $NS}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: does-not-exist}
  subjects: [{kind: ServiceAccount, name: names-agent, namespace: $NS}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: rb-single, namespace: $NS}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: single}
  subjects: [{kind: ServiceAccount, name: single-agent}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: $P-crb}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $P-names}
  subjects: [{kind: ServiceAccount, name: merged-agent, namespace: $NS}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: $P-missing}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $P-nope}
  subjects: [{kind: ServiceAccount, name: names-agent, namespace: $NS}]
YAML
SAS="plain-agent merged-agent names-agent single-agent"

# decode the SelfSubjectRulesReview of kubectl -v=10's last "Response Body"
# hex dump (protobuf in the k8s envelope) into JSON
pbdecode() {
	LC_ALL=C awk '
function hexval(h,   d) { d = "0123456789abcdef"; return (index(d, substr(h, 1, 1)) - 1) * 16 + index(d, substr(h, 2, 1)) - 1 }
function varint(   v, m, c) { v = 0; m = 1; while (1) { c = b[p++]; v += (c % 128) * m; m *= 128; if (c < 128) break }; return v }
function jstr(s, e,   out, k, c) {
	out = "\""
	for (k = s; k < e; k++) { c = b[k]
		if (c == 34) out = out "\\\""; else if (c == 92) out = out "\\\\"
		else if (c < 32) out = out sprintf("\\u%04x", c); else out = out sprintf("%c", c) }
	return out "\""
}
function fields(s, e, pre,   key, wt, len, k, f) {
	p = s; k = 0
	while (p < e) {
		key = varint(); wt = key % 8; f = int(key / 8); k++
		if (wt == 2) { len = varint(); F[pre, k, "n"] = f; F[pre, k, "s"] = p; F[pre, k, "e"] = p + len; p += len }
		else if (wt == 0) { F[pre, k, "n"] = f; F[pre, k, "v"] = varint() }
		else { print "unsupported wire type " wt > "/dev/stderr"; exit 2 }
	}
	F[pre, "n"] = k
}
function strlist(pre, want,   k, out, first) {
	out = "["; first = 1
	for (k = 1; k <= F[pre, "n"]; k++) if (F[pre, k, "n"] == want) { out = out (first ? "" : ",") jstr(F[pre, k, "s"], F[pre, k, "e"]); first = 0 }
	return out "]"
}
/"Response Body" body=</ { n = 0; inblk = 1; next }
inblk {
	line = $0; sub(/^[ \t]+/, "", line)
	if (line !~ /^[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]  /) { inblk = 0; next }
	for (i = 0; i < 16; i++) { hx = substr(line, 11 + 3 * i + (i >= 8 ? 1 : 0), 2); if (hx !~ /^[0-9a-f][0-9a-f]$/) break; b[++n] = hexval(hx) }
}
END {
	if (n < 4 || b[1] != 107 || b[2] != 56 || b[3] != 115 || b[4] != 0) { print "no protobuf body" > "/dev/stderr"; exit 2 }
	fields(5, n + 1, "u"); for (k = 1; k <= F["u", "n"]; k++) if (F["u", k, "n"] == 2) { rs = F["u", k, "s"]; re = F["u", k, "e"] }
	fields(rs, re, "r"); for (k = 1; k <= F["r", "n"]; k++) if (F["r", k, "n"] == 3) { ss = F["r", k, "s"]; se = F["r", k, "e"] }
	fields(ss, se, "s"); rr = ""; nr = ""; inc = "false"; ee = ""
	for (k = 1; k <= F["s", "n"]; k++) { f = F["s", k, "n"]
		if (f == 1 || f == 2) { pre = "x" k; fields(F["s", k, "s"], F["s", k, "e"], pre)
			if (f == 1) rr = rr (rr == "" ? "" : ",") "{\"verbs\":" strlist(pre, 1) ",\"apiGroups\":" strlist(pre, 2) ",\"resources\":" strlist(pre, 3) ",\"resourceNames\":" strlist(pre, 4) "}"
			else nr = nr (nr == "" ? "" : ",") "{\"verbs\":" strlist(pre, 1) ",\"nonResourceURLs\":" strlist(pre, 2) "}" }
		else if (f == 3) inc = F["s", k, "v"] ? "true" : "false"
		else if (f == 4) ee = jstr(F["s", k, "s"], F["s", k, "e"]) }
	printf "{\"kind\":\"SelfSubjectRulesReview\",\"apiVersion\":\"authorization.k8s.io/v1\",\"status\":{\"resourceRules\":[%s],\"nonResourceRules\":[%s],\"incomplete\":%s%s}}\n", rr, nr, inc, (ee == "" ? "" : ",\"evaluationError\":" ee)
}' "$1"
}

# rows as a set: verbs inside the last [...] sorted, lines sorted
rowset() { awk '{ if (match($0, /\[[^]]*\]$/)) { v = substr($0, RSTART + 1, RLENGTH - 2); n = split(v, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") a[i]; print substr($0, 1, RSTART - 1) "[" s "]" } else print }' "$1" | LC_ALL=C sort; }

t_begin "can-i: kubectl's own response renders to kubectl's own bytes (4 accounts, 3 runs each)"
for sa in $SAS; do
	for run in 1 2 3; do
		kc_admin auth can-i --list --as="system:serviceaccount:$NS:$sa" -n "$NS" -v=10 \
			>"$T_DIR/$sa.kubectl" 2>"$T_DIR/$sa.log" || t_fail "kubectl failed for $sa"
		pbdecode "$T_DIR/$sa.log" >"$T_DIR/$sa.json" || { t_fail "cannot decode kubectl's response for $sa"; continue; }
		"$KC" can-i --review-json "$T_DIR/$sa.json" >"$T_DIR/$sa.mine" 2>"$T_DIR/$sa.err" || t_fail "can-i --review-json failed for $sa"
		cmp -s "$T_DIR/$sa.kubectl" "$T_DIR/$sa.mine" || { t_fail "$sa (run $run): table differs from kubectl"; diff "$T_DIR/$sa.kubectl" "$T_DIR/$sa.mine" | head -5; }
		[ -s "$T_DIR/$sa.err" ] && t_fail "$sa: unexpected stderr"
	done
done
# the decoded response names the missing roles like the server does
expect_grep 'role.rbac.authorization.k8s.io \\"does-not-exist\\" not found' "$T_DIR/names-agent.json"
t_pass

t_begin "can-i: collect stores the reviews and kubectl-identical tables; evaluator agrees"
expect_exit 0 "$KC" collect --case T-cani --phase pre --operator tester --kubeconfig "$KC_KUBECONFIG" \
	--agents '' $(for sa in $SAS; do printf -- '--sa %s/%s ' "$NS" "$sa"; done) --out-dir "$EV"
for sa in $SAS; do
	rev=$EV/reviews/${NS}__$sa/$NS.json
	tab=$EV/analysis/can-i/${NS}__$sa/$NS.txt
	[ -f "$rev" ] && [ -f "$tab" ] || { t_fail "$sa: no stored review or table"; continue; }
	"$KC" can-i --review-json "$rev" | cmp -s - "$tab" || t_fail "$sa: stored table is not the rendering of the stored review"
	"$KC" can-i "$EV" --sa "$NS/$sa" | cmp -s - "$tab" || t_fail "$sa: can-i SOURCE --sa differs from the stored table"
	kc_admin auth can-i --list --as="system:serviceaccount:$NS:$sa" -n "$NS" >"$T_DIR/$sa.now"
	case $sa in
	merged-agent) # verbs merged from several bindings: order follows the server's
		diff <(rowset "$T_DIR/$sa.now") <(rowset "$tab") >/dev/null || t_fail "$sa: rows differ from kubectl" ;;
	*)	cmp -s "$T_DIR/$sa.now" "$tab" || t_fail "$sa: table differs from a fresh kubectl run" ;;
	esac
	expect_exit 0 "$KC" can-i "$EV" --sa "$NS/$sa" --compare "$rev"
done
jq -e '.disagreements == 0' "$EV/analysis/review-diff.json" >/dev/null || t_fail "review-diff reports disagreements"
t_pass

t_begin "can-i: a bundle reads like the folder; a changed review is caught (negative)"
expect_exit 0 "$KC" collect --case T-cani --phase pre --operator tester --kubeconfig "$KC_KUBECONFIG" \
	--agents '' --sa "$NS/names-agent" --no-sign -o "$T_DIR/b.tar.gz"
"$KC" can-i "$T_DIR/b.tar.gz" --sa "$NS/names-agent" >"$T_DIR/from-bundle" 2>/dev/null || t_fail "can-i on a bundle failed"
cmp -s "$T_DIR/from-bundle" "$EV/analysis/can-i/${NS}__names-agent/$NS.txt" || t_fail "bundle table differs"
jq '.status.resourceRules |= .[1:]' "$EV/reviews/${NS}__names-agent/$NS.json" >"$T_DIR/forged.json"
expect_exit 1 "$KC" can-i "$EV" --sa "$NS/names-agent" --compare "$T_DIR/forged.json"
jq -e '.onlyEvaluator | length > 0' "$T_OUT" >/dev/null || t_fail "the dropped rule is not reported"
# the offline table of the same account, marked as such on stderr
expect_exit 0 "$KC" can-i "$EV" --sa "$NS/single-agent" --offline
cmp -s "$T_OUT" "$EV/analysis/can-i/${NS}__single-agent/$NS.txt" || t_fail "offline table of a single-binding account differs from the server's"
expect_grep 'rendered from the offline evaluator' "$T_ERR"
expect_exit 2 "$KC" can-i "$T_DIR/nowhere" --sa "$NS/x"
expect_exit 2 "$KC" can-i "$EV" --sa no-slash
t_pass

t_summary
