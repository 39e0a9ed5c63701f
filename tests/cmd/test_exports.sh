#!/bin/bash
# YAML exports (issue 13 item 6): every collected bundle holds
# exports/<resource>.yaml for the RBAC objects, service accounts and pods,
# each the v1 List `kubectl get <resource> -A -o yaml` prints, made from the
# stored (redacted) pages and marked derived.  Parsed back with PyYAML, each
# equals kubectl's answer from the same server object by object, apart from
# the documented redactions (tests/cmd/exports_check.py); negative twins: the
# comparison fails when an object is dropped or a value edited, and an
# export edited inside a sealed bundle fails verify.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
CHECK="python3 $KC_REPO/tests/cmd/exports_check.py"
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

id=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
NS=kcr-exp-$id
P=kcr-exp-$id # prefix of cluster-scoped objects
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-exp.XXXX")
canary=CANARY-export-$id
cleanup() {
	rm -rf "$W"
	kc_purge_ns "$NS"
	kc_admin delete clusterrole "$P-reader" "$P-agg" "$P-nopods" >/dev/null 2>&1
	kc_admin delete clusterrolebinding "$P-reader" "$P-nopods" >/dev/null 2>&1
}
trap cleanup EXIT

kc_admin create -f - >/dev/null <<YAML || { echo "cannot create fixture"; echo "0 passed, 1 failed"; exit 1; }
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: $NS}}
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: exp-agent, namespace: $NS, labels: {app: exp}, annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::123456789012:role/x"}}
  automountServiceAccountToken: false
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: "007", namespace: $NS}}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: Role
  metadata: {name: exp-role, namespace: $NS}
  rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list], resourceNames: ["yes", "1.5", ""]}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: exp-rb, namespace: $NS}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exp-role}
  subjects: [{kind: ServiceAccount, name: exp-agent, namespace: $NS}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: $P-reader, labels: {kcr-exp: "true"}}
  rules: [{apiGroups: ["*"], resources: [pods, pods/log], verbs: [get]}, {nonResourceURLs: [/healthz], verbs: [get]}]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRole
  metadata: {name: $P-agg}
  aggregationRule: {clusterRoleSelectors: [{matchLabels: {kcr-exp: "true"}}]}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: $P-reader}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $P-reader}
  subjects: [{kind: ServiceAccount, name: "007", namespace: $NS}, {kind: Group, name: "system:authenticated", apiGroup: rbac.authorization.k8s.io}]
- apiVersion: v1
  kind: Pod
  metadata: {name: exp-plain, namespace: $NS}
  spec:
    serviceAccountName: exp-agent
    automountServiceAccountToken: false
    containers:
    - name: agent
      image: agent:1
      args: ["--port", "8080", "--verbose=true"]
      ports: [{containerPort: 8080}]
YAML
# one pod with literal env values (and kubectl apply's annotation, which
# carries them too): both redacted in the bundle, so in the export
kc_admin apply -f - >/dev/null <<YAML || { echo "cannot create the pod"; echo "0 passed, 1 failed"; exit 1; }
apiVersion: v1
kind: Pod
metadata: {name: exp-env, namespace: $NS, annotations: {note: "multi
    line: value"}}
spec:
  serviceAccountName: exp-agent
  automountServiceAccountToken: false
  containers:
  - name: agent
    image: agent:1
    env:
    - {name: API_KEY, value: $canary}
    - {name: EMPTY, value: ""}
    - name: FROM_SECRET
      valueFrom: {secretKeyRef: {name: s, key: k}}
YAML

RES="clusterroles clusterrolebindings roles rolebindings serviceaccounts pods"
kget() { # DIR: kubectl's answer for every exported resource
	mkdir -p "$1"
	for r in $RES; do kc_admin get "$r" -A -o yaml --show-managed-fields >"$1/$r.yaml" || return 1; done
}
collect() { "$KC" collect --case T-exp --phase pre --operator tester --kubeconfig "$KC_KUBECONFIG" \
	--agents "$NS/agent" --no-reviews "$@"; }
# kubectl before and after the collection: when both agree nothing changed
# in between, and the comparison below is against the same objects
EV=$W/ev
for try in 1 2 3; do
	rm -rf "$EV" "$W/k1" "$W/k2"
	kget "$W/k1" && collect --out-dir "$EV" >"$W/collect.out" 2>"$W/collect.err"
	rc=$?
	kget "$W/k2"
	diff -rq "$W/k1" "$W/k2" >/dev/null && break
done

t_begin "exports: each export equals kubectl get -A -o yaml from the same server, object by object"
[ "$rc" = 0 ] || t_fail "collect exited $rc: $(tail -n 3 "$W/collect.err")"
diff -rq "$W/k1" "$W/k2" >/dev/null || t_fail "the cluster kept changing during the collection"
for r in $RES; do
	[ -f "$EV/exports/$r.yaml" ] || { t_fail "no exports/$r.yaml"; continue; }
	$CHECK "$EV/exports/$r.yaml" "$W/k1/$r.yaml" >"$W/check.$r" 2>&1 || t_fail "$r: $(head -n 3 "$W/check.$r" | tr '\n' ' ')"
	# not vacuous: the export has kubectl's objects, the fixture's among them
	[ "$(python3 -c 'import sys,yaml; print(len(yaml.safe_load(open(sys.argv[1]))["items"]))' "$EV/exports/$r.yaml")" = \
		"$(python3 -c 'import sys,yaml; print(len(yaml.safe_load(open(sys.argv[1]))["items"]))' "$W/k1/$r.yaml")" ] ||
		t_fail "$r: not as many objects as kubectl"
done
for n in "$NS/exp-agent" "$NS/007"; do
	grep -q "name: ${n#*/}\$\|name: \"${n#*/}\"\$" "$EV/exports/serviceaccounts.yaml" || t_fail "$n not exported"
done
grep -q "^  kind: Pod$" "$EV/exports/pods.yaml" || t_fail "pod items have no kind"
grep -q "^- apiVersion: rbac.authorization.k8s.io/v1$" "$EV/exports/clusterroles.yaml" || t_fail "items have no apiVersion"
t_pass

t_begin "exports: the comparison fails when an object is dropped or a value edited (negative twin)"
for r in $RES; do
	$CHECK "$EV/exports/$r.yaml" "$W/k1/$r.yaml" --drop-one >"$W/neg.$r" 2>&1 && t_fail "$r: a dropped object passed"
	grep -q "in kubectl's list, not in the export" "$W/neg.$r" || t_fail "$r: $(head -n 2 "$W/neg.$r")"
done
sed 's/^    name: exp-agent$/    name: exp-agent-x/' "$EV/exports/serviceaccounts.yaml" >"$W/edited.yaml"
cmp -s "$W/edited.yaml" "$EV/exports/serviceaccounts.yaml" && t_fail "the edit did not apply"
$CHECK "$W/edited.yaml" "$W/k1/serviceaccounts.yaml" >"$W/neg.edit" 2>&1 && t_fail "an edited name passed"
sed 's/resourceVersion: ""/resourceVersion: "1"/' "$EV/exports/roles.yaml" >"$W/edited2.yaml"
$CHECK "$W/edited2.yaml" "$W/k1/roles.yaml" >"$W/neg.edit2" 2>&1 && t_fail "a List with a resourceVersion passed"
# the redaction is what the checker expects, not an accident: kubectl's
# unredacted pod differs from the export
python3 - "$EV/exports/pods.yaml" "$W/k1/pods.yaml" <<'PY' || t_fail "the pod export equals kubectl's unredacted pod"
import sys, yaml
e = {o["metadata"]["name"]: o for o in yaml.safe_load(open(sys.argv[1]))["items"]}
k = {o["metadata"]["name"]: o for o in yaml.safe_load(open(sys.argv[2]))["items"]}
sys.exit(0 if e["exp-env"] != k["exp-env"] else 1)
PY
t_pass

t_begin "exports: what the bundle's JSON shows, literal env values hashed, references kept"
if grep -rq "$canary" "$EV"; then t_fail "the env value reached the evidence: $(grep -rl "$canary" "$EV" | head -3)"; fi
h=$(printf '%s' "$canary" | sha256sum | cut -d' ' -f1)
python3 - "$EV/exports/pods.yaml" "$EV" "$h" <<'PY' || t_fail "pods export differs from the pods pages"
import glob, json, sys, yaml
exp = yaml.safe_load(open(sys.argv[1]))["items"]
pages = [o for p in sorted(glob.glob(sys.argv[2] + "/raw/pods/page-*.json")) for o in json.load(open(p))["items"]]
for o in exp:
    assert o.pop("apiVersion") == "v1" and o.pop("kind") == "Pod"
assert exp == pages, "not the pages' objects"
env = [o for o in exp if o["metadata"]["name"] == "exp-env"][0]["spec"]["containers"][0]["env"]
assert env[0]["value"] == "sha256:" + sys.argv[3], env[0]
assert env[2]["valueFrom"] == {"secretKeyRef": {"name": "s", "key": "k"}}, env[2]
PY
t_pass

t_begin "exports: marked derived in the manifest, sources are the pages, covered by SHA256SUMS and verify"
m=$EV/MANIFEST.json
for r in $RES; do
	jq -e --arg p "exports/$r.yaml" --arg r "$r" '.files[] | select(.path == $p) | .derived == true
		and .media_type == "application/yaml" and .transform == "kubectl-list-yaml"
		and (.sources | length > 0 and all(startswith("raw/" + $r + "/page-")))' "$m" >/dev/null ||
		t_fail "$r: $(jq -c --arg p "exports/$r.yaml" '.files[] | select(.path == $p)' "$m")"
	[ "$(jq -r --arg p "exports/$r.yaml" '.files[] | select(.path == $p) | .sources | join(" ")' "$m")" = \
		"$(cd "$EV" && ls raw/"$r"/page-*.json | tr '\n' ' ' | sed 's/ $//')" ] || t_fail "$r: sources are not its pages"
done
"$KC" keygen -o "$W/k.pem" --pub "$W/k.pub" >/dev/null 2>&1
mkdir "$W/out"
expect_exit 0 collect --key "$W/k.pem" -o "$W/out/"
b=$(ls "$W"/out/*.tar.gz)
expect_exit 0 "$KC" verify "$b" --pubkey "$W/k.pub"
top=$(tar tzf "$b" | head -n 1)
for r in $RES; do
	tar xzOf "$b" "${top}exports/$r.yaml" >"$T_DIR/x.yaml" || t_fail "exports/$r.yaml not in the bundle"
	tar xzOf "$b" "${top}SHA256SUMS" | grep -q "^SHA256 (exports/$r.yaml) = $(sha256sum "$T_DIR/x.yaml" | cut -d' ' -f1)$" ||
		t_fail "exports/$r.yaml not in SHA256SUMS with its digest"
done
t_pass

t_begin "exports: an export edited in a sealed bundle fails verify (negative twin)"
sed 's/exp-agent/exp-agenT/' <(tar xzOf "$b" "${top}exports/serviceaccounts.yaml") >"$T_DIR/sa.yaml"
python3 "$KC_REPO/tests/cmd/bundle_tool.py" repack "$b" "$T_DIR/edited.tar.gz" replace "exports/serviceaccounts.yaml" "$T_DIR/sa.yaml" ||
	t_fail "cannot repack"
expect_exit 3 "$KC" verify "$T_DIR/edited.tar.gz" --pubkey "$W/k.pub"
expect_grep "exports/serviceaccounts.yaml" "$T_OUT"
# the repack alone (no edit) still verifies: the failure is the edit's
python3 "$KC_REPO/tests/cmd/bundle_tool.py" repack "$b" "$T_DIR/same.tar.gz" replace "exports/serviceaccounts.yaml" \
	<(tar xzOf "$b" "${top}exports/serviceaccounts.yaml") || t_fail "cannot repack unchanged"
expect_exit 0 "$KC" verify "$T_DIR/same.tar.gz" --pubkey "$W/k.pub"
t_pass

t_begin "exports: a list not collected whole has no export; the others are still written"
# an identity of this test only: a client certificate of the cluster's CA,
# allowed to list everything exported but pods
openssl ecparam -name prime256v1 -genkey -noout -out "$W/nopods.key" 2>/dev/null &&
	openssl req -new -key "$W/nopods.key" -subj "/CN=$P-nopods" -out "$W/nopods.csr" 2>/dev/null &&
	openssl x509 -req -in "$W/nopods.csr" -CA "$KC_PKI_DIR/ca.crt" -CAkey "$KC_PKI_DIR/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 1 -extfile "$KC_PKI_DIR/openssl.cnf" -extensions client \
		-out "$W/nopods.crt" 2>/dev/null || t_fail "cannot make a client certificate"
cat >"$W/nopods.yaml" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$KC_SERVER", certificate-authority: "$KC_PKI_DIR/ca.crt"}}]
users: [{name: u, user: {client-certificate: "$W/nopods.crt", client-key: "$W/nopods.key"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
KC
kc_admin create clusterrole "$P-nopods" --verb=get,list \
	--resource=namespaces,serviceaccounts,roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,clusterroles.rbac.authorization.k8s.io,clusterrolebindings.rbac.authorization.k8s.io \
	>/dev/null && kc_admin create clusterrolebinding "$P-nopods" --clusterrole="$P-nopods" --user="$P-nopods" >/dev/null ||
	t_fail "cannot bind"
expect_exit 1 "$KC" collect --case T-exp --phase pre --kubeconfig "$W/nopods.yaml" --no-reviews --out-dir "$W/nopods"
jq -e '.items[] | select(.name == "list/pods") | .status == "forbidden"' "$W/nopods/MANIFEST.json" >/dev/null ||
	t_fail "pods not forbidden"
[ ! -e "$W/nopods/exports/pods.yaml" ] || t_fail "an export of a forbidden list"
jq -e 'any(.files[]; .path == "exports/pods.yaml") | not' "$W/nopods/MANIFEST.json" >/dev/null || t_fail "pods export in the manifest"
for r in clusterroles clusterrolebindings roles rolebindings serviceaccounts; do
	[ -f "$W/nopods/exports/$r.yaml" ] || t_fail "no exports/$r.yaml"
done
kc_admin delete clusterrolebinding,clusterrole "$P-nopods" >/dev/null 2>&1
t_pass

t_summary
