#!/bin/bash
# Names from the server are checked before they become paths (issue 10,
# item 4), against the scripted server tests/fake/apiserver.py: a real
# kube-apiserver refuses these names, a compromised one or a man in the
# middle under --insecure need not.  Scenario names-hostile sends a
# service account `a/../../x` (and one with four `..`, which would land
# beside the staging folder), a namespace `..`, names with a newline and a
# 300-byte namespace; names-legal sends RBAC names with ':' and a service
# account with '.', which must be collected as they are.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-names.XXXX")
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$W"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=fake-ca \
	-keyout "$W/ca.key" -out "$W/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
	-keyout "$W/srv.key" -out "$W/srv.csr" 2>/dev/null
openssl x509 -req -in "$W/srv.csr" -CA "$W/ca.crt" -CAkey "$W/ca.key" -CAcreateserial -days 2 \
	-extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$W/srv.crt" 2>/dev/null
"$KC" keygen -o "$W/k.pem" >/dev/null 2>&1

# Start the scripted server with scenario $1; kubeconfig at $W/kc.yaml.
serve() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -f "$W/port" "$W/requests.log"
	python3 "$KC_REPO/tests/fake/apiserver.py" "$W/srv.crt" "$W/srv.key" "$W/port" "$W/requests.log" "$1" &
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
}
collect() { "$KC" collect --kubeconfig "$W/kc.yaml" --case N --phase pre --all-sas "$@"; }

# Everything under $1 but the evidence folder $1/a/ev: types, modes,
# sizes, names and file contents, hashed.
box_listing() {
	{
		find "$1" -path "$1/a/ev" -prune -o -printf '%y %m %s %P\n'
		find "$1" -path "$1/a/ev" -prune -o -type f -exec sha256sum {} +
	} | LC_ALL=C sort | sha256sum
}

serve names-hostile
BOX=$W/box
mkdir -p "$BOX/a" "$BOX/x"
echo "operator file" >"$BOX/a/keep.txt"
echo "another" >"$BOX/x/agents.json"

t_begin "names: hostile names write nothing outside staging; recorded as anomalies; exit 1"
before=$(box_listing "$BOX")
expect_exit 1 collect --out-dir "$BOX/a/ev"
after=$(box_listing "$BOX")
[ "$before" = "$after" ] || t_fail "the folders around the evidence changed: $(find "$BOX" -mindepth 1 -newer "$BOX/a/keep.txt" | grep -v "^$BOX/a/ev" | head -5)"
m=$BOX/a/ev/MANIFEST.json
[ -f "$m" ] || t_fail "no MANIFEST.json"
[ -z "$(ls -A "$BOX/a" | grep -v -e '^ev$' -e '^keep.txt$')" ] || t_fail "staging left behind: $(ls -A "$BOX/a")"
jq -e '.status=="partial"' "$m" >/dev/null || t_fail "not partial"
jq -e '.anomalies | any(.kind=="ServiceAccount" and .name=="a/../../x")' "$m" >/dev/null || t_fail "a/../../x not recorded"
jq -e '.anomalies | any(.kind=="ServiceAccount" and .name=="a/../../../../escaped")' "$m" >/dev/null || t_fail "a/../../../../escaped not recorded"
jq -e '.anomalies | any(.kind=="Namespace" and .name=="..")' "$m" >/dev/null || t_fail "namespace .. not recorded"
jq -e '.anomalies | any(.kind=="ServiceAccount" and .name=="bad\\x0aname")' "$m" >/dev/null || t_fail "newline name not recorded escaped"
jq -e '.anomalies | any(.kind=="Namespace" and .name=="bad\\x0ans")' "$m" >/dev/null || t_fail "newline namespace not recorded escaped"
jq -e '.anomalies | any(.kind=="Namespace" and .name_bytes==300 and (.reason|test("63")))' "$m" >/dev/null || t_fail "300-byte namespace not recorded"
jq -e '.anomalies | length == 6 and all(.stored_as|test("^_invalid-[0-9a-f]{16}$")) and all(.name_sha256|test("^[0-9a-f]{64}$"))' "$m" >/dev/null || t_fail "anomalies: wrong count or form"
# every file is a bundle path; the invalid names' files are under their hashed names
jq -e 'all(.files[].path; test("^[\\x20-\\x5b\\x5d-\\x7e]+$") and (split("/") | all(. != "" and . != "." and . != "..")))' "$m" >/dev/null || t_fail "a file path outside the bundle alphabet"
h=$(jq -r '.anomalies[] | select(.name=="a/../../x") | .stored_as' "$m")
[ -f "$BOX/a/ev/analysis/effective/agents__$h/agents.json" ] || t_fail "no effective file under the hashed name agents__$h"
jq -e '.subject.name=="a/../../x"' "$BOX/a/ev/analysis/effective/agents__$h/agents.json" >/dev/null || t_fail "the hashed file does not name the account"
[ -f "$BOX/a/ev/reviews/agents__agent-ok/agents.json" ] || t_fail "the valid account's review is missing"
# no review was sent with a name the server could not hold (Impersonate-User header)
jq -e -s '[.[] | select(.impersonate_user != null)] | length > 0 and all(.impersonate_user | test("^system:serviceaccount:[a-z0-9.-]+:[a-z0-9.-]+$"))' "$W/requests.log" >/dev/null || t_fail "an invalid name was sent to the server"
jq -e '[.items[] | select(.name|startswith("review/agents/a/"))] | length > 0 and all(.status=="error" and (.detail|test("not sent")))' "$m" >/dev/null || t_fail "skipped reviews not recorded"
expect_grep 'not valid' "$T_ERR"
t_pass

t_begin "names: a bundle with anomalies seals and verifies (its paths are all bundle paths)"
expect_exit 1 collect --no-sign -o "$W/hostile.tar.gz"
expect_exit 0 "$KC" verify "$W/hostile.tar.gz" --allow-unsigned
t_pass

t_begin "names: --sa is held to the same rules (usage error, nothing collected)"
expect_exit 2 collect --sa '../x' --out-dir "$W/sa-ev"
expect_grep "not a service account name" "$T_ERR"
expect_exit 2 collect --sa 'agents/Bad_Name' --out-dir "$W/sa-ev"
[ ! -e "$W/sa-ev" ] || t_fail "evidence written"
t_pass

serve names-nul
t_begin "names: a string with a NUL character is refused, not cut (the list is an error; exit 1)"
expect_exit 1 collect --out-dir "$W/nul-ev"
m=$W/nul-ev/MANIFEST.json
jq -e '.status=="partial"' "$m" >/dev/null || t_fail "not partial"
jq -e '[.items[] | select(.status=="error" and (.detail|test("NUL character")))] | length == 1' "$m" >/dev/null ||
	t_fail "the list with the NUL is not one error item: $(jq -c '[.items[]|select(.status!="complete")]' "$m" | head -c 400)"
[ -z "$(ls "$W/nul-ev/raw/serviceaccounts" 2>/dev/null | grep page-)" ] || t_fail "the refused pages were kept"
# the cut name would have been taken for agent-ok: no review of it from that list
[ ! -e "$W/nul-ev/reviews/agents__agent-ok" ] || t_fail "agent-ok reviewed from the refused list"
expect_grep 'NUL character' "$T_ERR"
t_pass

serve names-nul-ident
t_begin "names: a NUL in /version or the kube-system namespace is refused too (error items, nothing cut; exit 1)"
expect_exit 1 collect --out-dir "$W/nulid-ev"
m=$W/nulid-ev/MANIFEST.json
for it in cluster/version cluster/kube-system-namespace; do
	jq -e --arg it "$it" 'any(.items[]; .name==$it and .status=="error" and (.detail|test("NUL character")))' "$m" >/dev/null ||
		t_fail "$it is not an error item naming the NUL: $(jq -c '[.items[]|select(.status!="complete")]' "$m" | head -c 400)"
done
jq -e '(.cluster | has("version") or has("kube_system_uid")) | not' "$m" >/dev/null || t_fail "a cut version or uid was recorded: $(jq -c .cluster "$m")"
for f in cluster/version.json cluster/kube-system-namespace.json; do
	[ ! -e "$W/nulid-ev/$f" ] || t_fail "the refused $f was kept"
done
# the rest of the collection went on
jq -e 'any(.items[]; .status=="complete")' "$m" >/dev/null || t_fail "nothing else was collected"
t_pass

serve names-legal
t_begin "names: legal names with ':' and '.' are collected as they are; complete; verify passes"
expect_exit 0 collect -o "$W/legal.tar.gz" --key "$W/k.pem"
expect_exit 0 "$KC" verify "$W/legal.tar.gz" --pubkey "$W/k.pub.pem"
mkdir -p "$W/legal" && tar -xzf "$W/legal.tar.gz" -C "$W/legal" --strip-components=1
m=$W/legal/MANIFEST.json
jq -e '.status=="complete" and (has("anomalies") | not)' "$m" >/dev/null || t_fail "not complete, or anomalies recorded"
jq -e '.cluster.version=="v1.20.2-fake" and .cluster.kube_system_uid=="fake-ks-uid"' "$m" >/dev/null || t_fail "the identity was not recorded: $(jq -c .cluster "$m")"
e=$W/legal/analysis/effective/agents__agent-ok/agents.json
jq -e '.grants | any(.binding.name=="system:agent:reader-binding" and .role.name=="agent:reader")' "$e" >/dev/null || t_fail "the grant through the ':' names is not in $e"
[ -f "$W/legal/analysis/effective/agents__agent.v2/agents.json" ] || t_fail "agent.v2 not stored under its own name"
jq -e 'any(.files[].path; . == "reviews/agents__agent.v2/agents.json")' "$m" >/dev/null || t_fail "agent.v2's review not listed"
grep -q '"system:agent:reader-binding"' "$W"/legal/raw/clusterrolebindings/page-0001.json || t_fail "binding not in the raw page"
t_pass

t_summary
