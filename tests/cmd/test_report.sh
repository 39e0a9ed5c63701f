#!/bin/bash
# kcustody report on real PRE/POST bundles from the loopback API server (the
# demo's scenario): the page renders in headless Chromium without a console
# message and shows the findings table and the access-path SVGs; it is
# well-formed XML and parses without error by the HTML5 algorithm
# (html5lib, strict); hostile case text stays text; a tampered bundle, a
# wrong key or an edited custody ledger give a page that says INVALID and
# exit status 3.
#
# Needs the Debian packages chromium, libxml2-utils and python3-html5lib;
# they are installed here when missing (as root).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}

need_pkgs=()
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
command -v xmllint >/dev/null 2>&1 || need_pkgs+=(libxml2-utils)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import html5lib' 2>/dev/null || need_pkgs+=(python3-html5lib)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	echo "installing ${need_pkgs[*]}"
	{ apt-get install -y --no-install-recommends "${need_pkgs[@]}" ||
		{ apt-get update && apt-get install -y --no-install-recommends "${need_pkgs[@]}"; }; } \
		>/tmp/kcustody-report-apt.log 2>&1 ||
		{ echo "cannot install ${need_pkgs[*]} (see /tmp/kcustody-report-apt.log)"; echo "0 passed, 1 failed"; exit 1; }
fi

kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-report.XXXX")
trap 'rm -rf "$W"' EXIT
"$KC" keygen -o "$W/k.pem" --pub "$W/k.pub" >/dev/null 2>&1
"$KC" keygen -o "$W/other.pem" --pub "$W/other.pub" >/dev/null 2>&1

# Headless Chromium: chrome LOG ARGS... (console messages go to LOG)
chrome() {
	local log=$1 ud rc=0
	shift
	ud=$(mktemp -d "$W/chrome.XXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$ud" \
		--enable-logging=stderr --v=0 "$@" 2>"$log" || rc=$?
	rm -rf "$ud"
	return $rc
}
# Console output of the page: script errors, CSP refusals, console.*
console_errors() { grep -E 'CONSOLE|Uncaught|Refused to|Content Security Policy|SyntaxError' "$1"; }

# Strict HTML5 parse (WHATWG algorithm: any parse error fails).
html5_ok() {
	"$PY" - "$1" <<'PY'
import sys, html5lib
p = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
try:
    p.parse(open(sys.argv[1], 'rb').read())
except Exception as e:
    print("html5 parse error:", e, p.errors[:3])
    sys.exit(1)
PY
}

# Nothing the page would fetch or run: no element that loads or runs
# anything, no event handler, no link out of the page, no url() in CSS.
self_contained() {
	"$PY" - "$1" <<'PY'
import re, sys
from html.parser import HTMLParser
bad = []
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        if tag in ("script", "link", "img", "iframe", "object", "embed", "base", "form", "audio",
                   "video", "source", "image", "use", "foreignobject"):
            bad.append("<%s>" % tag)
        for k, v in attrs:
            if k.startswith("on") or k in ("src", "srcset", "action", "formaction", "xlink:href"):
                bad.append("%s=" % k)
            if k == "href" and not (v or "").startswith("#"):
                bad.append("href=%s" % v)
            if k == "style" and "url(" in (v or ""):
                bad.append("style url()")
    def handle_data(self, data):
        if self.lasttag == "style" and ("url(" in data or "@import" in data):
            bad.append("url() in <style>")
P(convert_charrefs=True).feed(open(sys.argv[1], encoding="utf-8").read())
if bad:
    print("not self-contained:", ", ".join(sorted(set(bad))))
    sys.exit(1)
PY
}

ns=rep-agents
# a previous run's remediation goes first, so that the scenario starts over
kc_admin -n $ns delete role,rolebinding kagent-bot-role --ignore-not-found >/dev/null 2>&1
kc_admin apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: v1
kind: Namespace
metadata: {name: rep-payments}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kagent-bot, namespace: $ns}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: rag-agent, namespace: $ns}
---
apiVersion: v1
kind: Secret
metadata: {name: payments-db, namespace: rep-payments}
stringData: {password: not-a-real-password}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: rep-secret-reader}
rules:
- {apiGroups: [""], resources: ["secrets", "configmaps"], verbs: ["get", "list", "watch"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: rep-kagent-secrets}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rep-secret-reader}
subjects: [{kind: ServiceAccount, name: kagent-bot, namespace: $ns}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: indexer-all, namespace: $ns}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rag-agent-all, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: indexer-all}
subjects: [{kind: ServiceAccount, name: rag-agent, namespace: $ns}]
---
apiVersion: v1
kind: Pod
metadata: {name: kagent-bot-0, namespace: $ns}
spec: {serviceAccountName: kagent-bot, containers: [{name: a, image: registry.invalid/a:1}]}
YAML
kc_admin --as=system:serviceaccount:$ns:kagent-bot get secrets -A >/dev/null 2>&1
kc_admin --as=system:serviceaccount:$ns:kagent-bot -n rep-payments get secret payments-db -o name >/dev/null 2>&1

# Case text comes from the user: it must reach the page as text.
EVIL_CASE='IR-<i>42</i>'
EVIL_PURPOSE='<script>alert("purpose")</script> & "quotes" '"'"'single'"'"
EVIL_OPERATOR='O'"'"'Brien </td></tr></table><img src=x onerror=alert(1)>'
collect() {	# collect PHASE PURPOSE [ARGS...]
	mkdir -p "$W/$1"
	"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case "$EVIL_CASE" --phase "$1" --purpose "$2" \
		--operator "$EVIL_OPERATOR" --agents '' --sa $ns/kagent-bot --sa $ns/rag-agent --key "$W/k.pem" \
		--audit-log "$KC_AUDIT_DIR" "${@:3}" -o "$W/$1/" >"$W/$1.path" 2>"$W/$1.err"
}
collect pre "$EVIL_PURPOSE"
PRE=$(tail -n 1 "$W/pre.path")
sleep 1
remediated=$(date -u +%Y-%m-%dT%H:%M:%SZ)
kc_admin delete clusterrolebinding rep-kagent-secrets >/dev/null
kc_admin -n $ns create role kagent-bot-role --verb=get,list --resource=configmaps >/dev/null
kc_admin -n $ns create rolebinding kagent-bot-role --role=kagent-bot-role --serviceaccount=$ns:kagent-bot >/dev/null
kc_admin -n $ns delete rolebinding rag-agent-all >/dev/null
kc_admin --as=system:serviceaccount:$ns:kagent-bot -n rep-payments get secret payments-db >/dev/null 2>&1
# a read the remediated RBAC allows: sensitive, but no bypass
kc_admin --as=system:serviceaccount:$ns:kagent-bot -n $ns get configmaps >/dev/null 2>&1
sleep 1
collect post "proof of remediation" --since "$remediated"
POST=$(tail -n 1 "$W/post.path")
if [ ! -f "$PRE" ] || [ ! -f "$POST" ]; then
	echo "could not collect the bundles:"; cat "$W/pre.err" "$W/post.err" | tail -n 5
	echo "0 passed, 1 failed"; exit 1
fi

t_begin "report: POST --diff PRE renders in headless Chromium without a console message"
R=$T_DIR/out/report.html
mkdir -p "$T_DIR/out"
expect_exit 0 "$KC" report "$POST" --diff "$PRE" --pubkey "$W/k.pub" --remediated-at "$remediated" -o "$R"
expect_grep "^$R\$" "$T_OUT"
[ "$(ls "$T_DIR/out")" = report.html ] || t_fail "temporary files left beside the report: $(ls "$T_DIR/out")"
[ "$(stat -c %a "$R")" = 600 ] || t_fail "report mode $(stat -c %a "$R"), expected 600"
chrome "$T_DIR/shot.log" --screenshot="$T_DIR/shot.png" --window-size=1400,4000 "file://$R" ||
	t_fail "chromium --screenshot failed"
[ "$(head -c 8 "$T_DIR/shot.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	t_fail "screenshot is not a PNG"
[ "$(stat -c %s "$T_DIR/shot.png" 2>/dev/null || echo 0)" -gt 50000 ] || t_fail "screenshot is (nearly) empty"
if console_errors "$T_DIR/shot.log" >/dev/null; then
	t_fail "console output: $(console_errors "$T_DIR/shot.log" | head -n 3)"
fi
chrome "$T_DIR/dom.log" --dump-dom "file://$R" >"$T_DIR/dom.html" || t_fail "chromium --dump-dom failed"
console_errors "$T_DIR/dom.log" >/dev/null && t_fail "console output while dumping the DOM"
expect_grep '<table class="findings" id="findings">' "$T_DIR/dom.html"
[ "$(grep -o '<svg class="access-path"' "$T_DIR/dom.html" | wc -l)" -eq 2 ] || t_fail "expected 2 access-path SVGs in the DOM"
expect_grep 'id="remediation"' "$T_DIR/dom.html"
expect_no_grep '<script' "$T_DIR/dom.html"
# KCUSTODY_REPORT_ARTIFACTS=DIR keeps the pages and the screenshot to look at
[ -n "${KCUSTODY_REPORT_ARTIFACTS:-}" ] && mkdir -p "$KCUSTODY_REPORT_ARTIFACTS" &&
	cp "$R" "$T_DIR/shot.png" "$KCUSTODY_REPORT_ARTIFACTS/"
t_pass

t_begin "report: well-formed XML, a strict HTML5 parse and nothing external"
R=$T_DIR/report.html
expect_exit 0 "$KC" report "$POST" --diff "$PRE" --pubkey "$W/k.pub" -o "$R"
xmllint --noout "$R" 2>"$T_DIR/xml.err" || t_fail "xmllint: $(head -n 3 "$T_DIR/xml.err")"
html5_ok "$R" >"$T_DIR/h5.out" || t_fail "$(cat "$T_DIR/h5.out")"
self_contained "$R" >"$T_DIR/sc.out" || t_fail "$(cat "$T_DIR/sc.out")"
expect_grep "Content-Security-Policy\" content=\"default-src 'none'" "$R"
t_pass

t_begin "report: the over-privilege and its removal are on the page"
R=$T_DIR/report.html
expect_exit 0 "$KC" report "$POST" --diff "$PRE" --pubkey "$W/k.pub" --remediated-at "$remediated" -o "$R"
expect_grep '<span class="big">VALID</span>' "$R"
# the removed ClusterRoleBinding is drawn struck through in kagent-bot's path
expect_grep 'class="node removed"><title>ClusterRoleBinding rep-kagent-secrets</title>' "$R"
expect_grep 'text-decoration="line-through">rep-kagent-secrets<' "$R"
expect_grep 'removed \xc2\xb7 was critical|removed · was critical' "$R"
expect_grep 'class="edge removed"' "$R"
# the new least-privilege binding is marked new
expect_grep 'class="node added"><title>RoleBinding rep-agents/kagent-bot-role</title>' "$R"
expect_grep 'id="diff-agents"' "$R"
expect_grep 'kagent-bot-0' "$R"
# PRE's own report: the over-privilege in red, URGENT
expect_exit 0 "$KC" report "$PRE" --pubkey "$W/k.pub" -o "$T_DIR/pre.html"
expect_grep '<span class="big">URGENT</span>' "$T_DIR/pre.html"
expect_grep 'class="node danger"><title>RBAC: allowed by ClusterRoleBinding' "$T_DIR/pre.html"
expect_grep '<td><strong>AGR-003</strong>' "$T_DIR/pre.html"
expect_grep 'rep-agents/kagent-bot</strong>' "$T_DIR/pre.html"
expect_grep 'class="agent"' "$T_DIR/pre.html"
expect_grep 'id="audit-sources"' "$T_DIR/pre.html"
expect_grep '<span class="pill ok">chain verified</span>' "$T_DIR/pre.html"
[ -n "${KCUSTODY_REPORT_ARTIFACTS:-}" ] && cp "$T_DIR/pre.html" "$KCUSTODY_REPORT_ARTIFACTS/"
t_pass

t_begin "report: hostile case, purpose and operator text stays text"
R=$T_DIR/report.html
expect_exit 0 "$KC" report "$PRE" --pubkey "$W/k.pub" -o "$R"
expect_grep '&lt;script&gt;alert\(&quot;purpose&quot;\)&lt;/script&gt; &amp; &quot;quotes&quot; &#39;single&#39;' "$R"
expect_grep 'IR-&lt;i&gt;42&lt;/i&gt;' "$R"
expect_grep 'O&#39;Brien &lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;img src=x onerror=alert\(1\)&gt;' "$R"
expect_no_grep '<script|<img|<i>42' "$R"
chrome "$T_DIR/dom.log" --dump-dom "file://$R" >"$T_DIR/dom.html"
console_errors "$T_DIR/dom.log" >/dev/null && t_fail "console output: $(console_errors "$T_DIR/dom.log" | head -n 2)"
expect_no_grep '<script|<img' "$T_DIR/dom.html"
expect_grep '&lt;script&gt;alert' "$T_DIR/dom.html"
xmllint --noout "$R" 2>/dev/null || t_fail "hostile text broke well-formedness"
html5_ok "$R" >/dev/null || t_fail "hostile text broke the HTML5 parse"
t_pass

t_begin "report: the console check catches a script error and a blocked script (negative twin)"
printf '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/><title>t</title></head><body><script>nosuchfn();</script></body></html>\n' >"$T_DIR/bad.html"
chrome "$T_DIR/bad.log" --dump-dom "file://$T_DIR/bad.html" >/dev/null
console_errors "$T_DIR/bad.log" | grep -q Uncaught || t_fail "a script error went unnoticed"
# what an escaping bug would look like: a script in our page is refused by its CSP
"$KC" report "$PRE" --pubkey "$W/k.pub" -o - 2>/dev/null | sed 's|</main>|<script>document.title="x"</script></main>|' >"$T_DIR/inj.html"
chrome "$T_DIR/inj.log" --dump-dom "file://$T_DIR/inj.html" >/dev/null
console_errors "$T_DIR/inj.log" | grep -q 'Content Security Policy.*blocked' ||
	t_fail "an injected script was not blocked by the page's CSP"
self_contained "$T_DIR/inj.html" >/dev/null && t_fail "the self-contained check missed an injected script"
printf '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/><title>t</title></head><body><table><tr><td>x</td></tr><p>y</p></table></body></html>\n' >"$T_DIR/bad2.html"
html5_ok "$T_DIR/bad2.html" >/dev/null && t_fail "the HTML5 check accepted misnested markup"
t_pass

t_begin "report: a tampered bundle gives a page that says INVALID, exit 3"
cp "$POST" "$T_DIR/t.tar.gz"
size=$(stat -c %s "$T_DIR/t.tar.gz")
printf '\xff' | dd of="$T_DIR/t.tar.gz" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_exit 3 "$KC" report "$T_DIR/t.tar.gz" --pubkey "$W/k.pub" --no-ledger -o "$T_DIR/t.html"
expect_grep 'INVALID' "$T_ERR"
expect_grep '<span class="big">INVALID</span>' "$T_DIR/t.html"
expect_grep '<span class="pill bad">INVALID</span>' "$T_DIR/t.html"
expect_no_grep '<span class="big">VALID</span>' "$T_DIR/t.html"
xmllint --noout "$T_DIR/t.html" 2>/dev/null || t_fail "the INVALID page is not well-formed"
html5_ok "$T_DIR/t.html" >/dev/null || t_fail "the INVALID page does not parse"
chrome "$T_DIR/t.log" --dump-dom "file://$T_DIR/t.html" >"$T_DIR/t.dom"
expect_grep 'id="verification-banner"' "$T_DIR/t.dom"
# as PRE of a diff: no remediation section is computed from it
cp "$PRE" "$T_DIR/p.tar.gz"
size=$(stat -c %s "$T_DIR/p.tar.gz")
printf '\x00' | dd of="$T_DIR/p.tar.gz" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
expect_exit 3 "$KC" report "$POST" --diff "$T_DIR/p.tar.gz" --pubkey "$W/k.pub" -o "$T_DIR/d.html"
expect_grep 'NO REMEDIATION SECTION' "$T_DIR/d.html"
expect_grep 'The PRE bundle</span>|The PRE bundle failed verification|>INVALID</span>The PRE bundle' "$T_DIR/d.html"
expect_no_grep 'id="remediation"' "$T_DIR/d.html"
t_pass

t_begin "report: a signature by another key is INVALID, exit 3"
expect_exit 3 "$KC" report "$POST" --pubkey "$W/other.pub" -o "$T_DIR/r.html"
expect_grep '<span class="big">INVALID</span>.*signature check failed' "$T_DIR/r.html"
t_pass

t_begin "report: an edited custody ledger breaks the chain, exit 3"
cp "$PRE" "$T_DIR/c.tar.gz"
sed 's/"location":"[^"]*"/"location":"elsewhere"/' "$PRE.custody.jsonl" >"$T_DIR/c.tar.gz.custody.jsonl"
expect_exit 3 "$KC" report "$T_DIR/c.tar.gz" --pubkey "$W/k.pub" -o "$T_DIR/c.html"
expect_grep 'CUSTODY CHAIN BROKEN' "$T_DIR/c.html"
expect_grep '<span class="pill bad">CHAIN BROKEN</span>' "$T_DIR/c.html"
# the bundle itself is intact: its banner still says VALID
expect_grep '<span class="big">VALID</span>' "$T_DIR/c.html"
expect_exit 0 "$KC" report "$T_DIR/c.tar.gz" --pubkey "$W/k.pub" --no-ledger -o "$T_DIR/c2.html"
expect_grep 'not checked</span> \(--no-ledger\)' "$T_DIR/c2.html"
t_pass

t_begin "report: --no-verify says not verified and never valid"
expect_exit 0 "$KC" report "$POST" --no-verify -o "$T_DIR/n.html"
expect_grep '<span class="big">NOT VERIFIED</span>' "$T_DIR/n.html"
expect_grep '<span class="pill warn">not verified</span>' "$T_DIR/n.html"
expect_no_grep '>VALID<|>valid<' "$T_DIR/n.html"
# an unsigned check without a key: integrity only, said so
expect_exit 0 "$KC" report "$POST" --allow-unsigned -o "$T_DIR/u.html"
expect_grep 'signature not checked' "$T_DIR/u.html"
# without a key or --allow-unsigned a signed bundle is not valid: the page
# says UNVERIFIED (no key given), never INVALID
expect_exit 3 "$KC" report "$POST" -o "$T_DIR/k.html"
expect_grep '<span class="big">UNVERIFIED</span>' "$T_DIR/k.html"
expect_grep 'unverified \(no key given\)' "$T_DIR/k.html"
expect_no_grep '>INVALID<' "$T_DIR/k.html"
expect_grep 'UNVERIFIED: no key given' "$T_ERR"
t_pass

t_begin "report, verify, diff: a trust file that is no key is a usage error (exit 2), not an invalid bundle"
openssl pkey -in "$W/k.pem" -pubout -out "$T_DIR/good.pub" 2>/dev/null
"$KC" keygen -o "$T_DIR/other.pem" >/dev/null 2>&1
for bad in "$KC_REPO/README.md" "$W/k.pem" "$T_DIR/missing.pub"; do
	expect_exit 2 "$KC" verify "$POST" --pubkey "$bad"
	expect_no_grep 'INVALID' "$T_OUT"
	expect_exit 2 "$KC" report "$POST" --pubkey "$bad" -o "$T_DIR/bad.html"
	[ -e "$T_DIR/bad.html" ] && t_fail "a report was written with an unusable key"
	expect_exit 2 "$KC" diff "$PRE" "$POST" --pubkey "$bad"
done
expect_exit 2 "$KC" verify "$POST" --pubkey "$W/k.pem"
expect_grep "is a private key; give its public key" "$T_ERR"
expect_no_grep "PRIVATE" "$T_ERR"
expect_exit 2 "$KC" verify "$POST" --pubkey "$KC_REPO/README.md"
expect_grep "holds no PEM public key" "$T_ERR"
expect_exit 2 "$KC" verify "$POST" --ca "$T_DIR/good.pub"
expect_grep "holds no PEM certificate" "$T_ERR"
# the twins: the right key judges the bundle valid, another key invalid
expect_exit 0 "$KC" verify "$POST" --pubkey "$T_DIR/good.pub" --no-ledger
expect_exit 3 "$KC" verify "$POST" --pubkey "$T_DIR/other.pub.pem" --no-ledger
t_pass

t_begin "diff: the same bundle twice is named as such (exit 2)"
expect_exit 2 "$KC" diff "$POST" "$POST" --pubkey "$W/k.pub"
expect_grep "PRE and POST are the same bundle" "$T_ERR"
expect_no_grep "not older" "$T_ERR"
t_pass

t_begin "report and diff never disagree: every verdict and count on the page is the diff's"
expect_exit 0 "$KC" diff "$PRE" "$POST" --pubkey "$W/k.pub" --format json -o "$T_DIR/d.json"
expect_exit 0 "$KC" report "$POST" --diff "$PRE" --pubkey "$W/k.pub" -o "$T_DIR/r.html"
agree() {	# agree PAGE DIFF.json: 0 when every data-kc value matches
	"$PY" - "$1" "$2" <<'PY'
import json, re, sys
from html.parser import HTMLParser
d = json.load(open(sys.argv[2]))
got = []
class P(HTMLParser):
    def __init__(self, **kw):
        super().__init__(**kw); self.stack = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        # data-kc inside a data-kc-doc element names another document's member
        other = a.get("data-kc-doc") is not None or bool(self.stack and self.stack[-1][2])
        self.stack.append([None if other else a.get("data-kc"), "", other])
    def handle_endtag(self, tag):
        if self.stack:
            k, t, _ = self.stack.pop()
            if k:
                got.append((k, t.strip()))
            if self.stack:
                self.stack[-1][1] += t
    def handle_data(self, data):
        if self.stack:
            self.stack[-1][1] += data
P(convert_charrefs=True).feed(open(sys.argv[1], encoding="utf-8").read())
bad = []
for k, t in got:
    v = d
    for part in k.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    want = str(int(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
    if t.replace(",", "") != want:
        bad.append("%s: page %r, diff %r" % (k, t, want))
keys = {k for k, _ in got}
for need in ("summary.verdict", "summary.policyBypassReads", "summary.sensitiveReadsAfterRemediation"):
    if need not in keys:
        bad.append("page does not show " + need)
html = open(sys.argv[1], encoding="utf-8").read()
bypass = "A policy bypass to escalate" in html
if bypass != (d["summary"]["policyBypassReads"] > 0):
    bad.append("bypass sentence %s but policyBypassReads %d" % (bypass, d["summary"]["policyBypassReads"]))
print("%d values compared" % len(got))
if bad:
    print("\n".join(bad)); sys.exit(1)
PY
}
agree "$T_DIR/r.html" "$T_DIR/d.json" >"$T_DIR/agree.out" 2>&1 || t_fail "report and diff disagree: $(tail -n 3 "$T_DIR/agree.out")"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["audit"]["sensitiveReadsAfterRemediation"]; assert any(not x["escalate"] for x in r), r' "$T_DIR/d.json" ||
	t_fail "the scenario has no permitted (non-bypass) sensitive read"
# negative twin: a page whose number differs from the diff is caught
sed 's|data-kc="summary.policyBypassReads">\([0-9]*\)<|data-kc="summary.policyBypassReads">9\1<|' "$T_DIR/r.html" >"$T_DIR/r2.html"
cmp -s "$T_DIR/r.html" "$T_DIR/r2.html" && t_fail "the negative twin changed nothing"
agree "$T_DIR/r2.html" "$T_DIR/d.json" >/dev/null 2>&1 && t_fail "a page that disagrees with the diff passed"
t_pass

t_begin "report: usage errors write nothing"
expect_exit 2 "$KC" report "$POST" --pubkey "$W/k.pub"
expect_grep 'needs -o' "$T_ERR"
expect_exit 2 "$KC" report "$T_DIR/none.tar.gz" -o "$T_DIR/x.html"
expect_exit 2 "$KC" report "$POST" --pubkey "$W/k.pub" --ca "$W/k.pub" -o "$T_DIR/x.html"
expect_exit 2 "$KC" report "$POST" --remediated-at 2026-01-01T00:00:00Z -o "$T_DIR/x.html"
expect_exit 2 "$KC" report "$POST" --diff "$PRE" --remediated-at yesterday -o "$T_DIR/x.html"
# PRE newer than POST (arguments swapped): the diff refuses, exit 2
expect_exit 2 "$KC" report "$PRE" --diff "$POST" --pubkey "$W/k.pub" -o "$T_DIR/x.html"
expect_exit 2 "$KC" report "$POST" --bogus -o "$T_DIR/x.html"
[ -e "$T_DIR/x.html" ] && t_fail "a report was written on a usage error"
expect_exit 0 "$KC" report --help
expect_grep 'usage: kcustody report' "$T_OUT"
t_pass

t_begin "report: -o - writes the page to standard output"
"$KC" report "$POST" --pubkey "$W/k.pub" -o - >"$T_DIR/s.html" 2>"$T_DIR/s.err" || t_fail "exit $?"
head -c 15 "$T_DIR/s.html" | grep -q '<!DOCTYPE html>' || t_fail "not a page on stdout"
tail -n 1 "$T_DIR/s.html" | grep -q '</html>' || t_fail "page cut short"
t_pass

# ---- report --scope: the recertification section ----
# agree_recert PAGE RECERT.json: every data-kc value inside the element
# data-kc-doc="recertification" is that member of `recertify --format json`
agree_recert() {
	"$PY" - "$1" "$2" <<'PY'
import json, sys
from html.parser import HTMLParser
d = json.load(open(sys.argv[2]))
got = []
class P(HTMLParser):
    def __init__(self, **kw):
        super().__init__(**kw); self.stack = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        inside = a.get("data-kc-doc") == "recertification" or bool(self.stack and self.stack[-1][2])
        self.stack.append([a.get("data-kc") if inside else None, "", inside])
    def handle_endtag(self, tag):
        if self.stack:
            k, t, _ = self.stack.pop()
            if k:
                got.append((k, t.strip()))
            if self.stack:
                self.stack[-1][1] += t
    def handle_data(self, data):
        if self.stack:
            self.stack[-1][1] += data
P(convert_charrefs=True).feed(open(sys.argv[1], encoding="utf-8").read())
bad = []
for k, t in got:
    v = d
    for part in k.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    want = str(int(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
    if t.replace(",", "") != want:
        bad.append("%s: page %r, recertify %r" % (k, t, want))
keys = {k for k, _ in got}
for need in ("scope.sha256", "scope.file", "summary.agents", "summary.withinScope", "summary.beyondScope",
             "summary.excessPermissions", "summary.agentsMissingFromScope", "summary.scopeEntriesWithoutAgent"):
    if need not in keys:
        bad.append("page does not show " + need)
print("%d values compared" % len(got))
if bad:
    print("\n".join(bad)); sys.exit(1)
PY
}
# PRE: kagent-bot reads every secret through rep-kagent-secrets (beyond its
# scope); the entries' names and owners are hostile text.
cat >"$W/scope.yaml" <<YAML
apiVersion: kcustody.dev/v1alpha1
kind: AgentScopes
agents:
- name: "kagent <script>alert('scope')</script>"
  owner: "<img src=x onerror=alert(2)> & team"
  approval: CHG-1</td></tr>
  serviceAccount: $ns/kagent-bot
  namespaces: [$ns]
  resources:
  - {apiGroup: "", resource: pods, verbs: [get, list]}
- name: rag
  owner: search-team
  approval: CHG-2
  serviceAccount: $ns/rag-agent
  namespaces: [$ns]
  resources:
  - {apiGroup: "*", resource: "*", verbs: ["*"]}
- name: nobody-here
  owner: x
  approval: CHG-3
  serviceAccount: $ns/no-such-agent
YAML

t_begin "report --scope: the section lists each excess permission with its binding and role, as recertify does"
R=$W/recert.html
expect_exit 1 "$KC" recertify "$PRE" --scope "$W/scope.yaml" --pubkey "$W/k.pub" --format json
cp "$T_OUT" "$W/recert.json"
expect_exit 0 "$KC" report "$PRE" --pubkey "$W/k.pub" --scope "$W/scope.yaml" -o "$R"
expect_grep '<section id="recertification" data-kc-doc="recertification">' "$R"
expect_grep '<a href="#recertification">Recertification</a>' "$R"
expect_grep 'id="recert-verdict"><span class="big">NOT WITHIN SCOPE</span>' "$R"
# kagent-bot's secret read, with the ClusterRoleBinding and ClusterRole that grant it
"$PY" - "$R" >"$T_DIR/rows.out" <<'PY' || t_fail "excess rows: $(cat "$T_DIR/rows.out")"
import re, sys, html
page = open(sys.argv[1], encoding="utf-8").read()
t = re.search(r'<table id="recert-excess">.*?</table>', page, re.S)
assert t, "no excess table"
rows = re.findall(r'<tr class="row-high">(.*?)</tr>', t.group(0), re.S)
def text(s): return html.unescape(re.sub(r"<[^>]+>", "", s))
hit = [r for r in rows if "rep-agents/kagent-bot" in text(r) and "get secrets" in text(r)
       and "ClusterRoleBinding rep-kagent-secrets" in text(r) and "ClusterRole rep-secret-reader" in text(r)
       and "every namespace" in text(r)]
assert hit, "no row for kagent-bot's secret read by rep-kagent-secrets: %r" % [text(r)[:200] for r in rows[:3]]
print(len(rows), "rows")
PY
n_rows=$(grep -o '<tr class="row-high"><td>rep-agents/kagent-bot</td><td><code>' "$R" | wc -l)
n_json=$(jq '[.agents[] | select(.name == "kagent-bot") | .excess[]] | length' "$W/recert.json")
[ "$n_rows" -eq "$n_json" ] && [ "$n_json" -gt 0 ] || t_fail "kagent-bot: $n_rows excess rows on the page, $n_json in recertify's JSON"
# the entry without agent, by name
expect_grep '<table id="recert-unmatched-entries">.*nobody-here|<td>nobody-here</td>' "$R"
agree_recert "$R" "$W/recert.json" >"$T_DIR/agree.out" 2>&1 || t_fail "report and recertify disagree: $(tail -n 3 "$T_DIR/agree.out")"
# negative twin: a page whose count differs from recertify's is caught
sed 's|data-kc="summary.excessPermissions">\([0-9]*\)<|data-kc="summary.excessPermissions">9\1<|' "$R" >"$T_DIR/recert2.html"
cmp -s "$R" "$T_DIR/recert2.html" && t_fail "the negative twin changed nothing"
agree_recert "$T_DIR/recert2.html" "$W/recert.json" >/dev/null 2>&1 && t_fail "a page that disagrees with recertify passed"
t_pass

t_begin "report --scope: hostile scope entry names stay text; the page stays valid and quiet in Chromium"
R=$W/recert.html
expect_grep 'kagent &lt;script&gt;alert\(&#39;scope&#39;\)&lt;/script&gt;' "$R"
expect_grep '&lt;img src=x onerror=alert\(2\)&gt; &amp; team' "$R"
expect_grep 'CHG-1&lt;/td&gt;&lt;/tr&gt;' "$R"
expect_no_grep '<script|<img' "$R"
xmllint --noout "$R" 2>"$T_DIR/xml.err" || t_fail "xmllint: $(head -n 3 "$T_DIR/xml.err")"
html5_ok "$R" >"$T_DIR/h5.out" || t_fail "$(cat "$T_DIR/h5.out")"
self_contained "$R" >"$T_DIR/sc.out" || t_fail "$(cat "$T_DIR/sc.out")"
chrome "$T_DIR/rdom.log" --dump-dom "file://$R" >"$T_DIR/rdom.html" || t_fail "chromium --dump-dom failed"
console_errors "$T_DIR/rdom.log" >/dev/null && t_fail "console output: $(console_errors "$T_DIR/rdom.log" | head -n 2)"
expect_grep 'id="recert-excess"' "$T_DIR/rdom.html"
expect_no_grep '<script|<img' "$T_DIR/rdom.html"
# with --diff too: both sections, still valid
expect_exit 0 "$KC" report "$POST" --diff "$PRE" --pubkey "$W/k.pub" --scope "$W/scope.yaml" -o "$T_DIR/both.html"
expect_grep 'id="remediation"' "$T_DIR/both.html"
expect_grep 'id="recertification"' "$T_DIR/both.html"
xmllint --noout "$T_DIR/both.html" 2>/dev/null || t_fail "the page with both sections is not well-formed"
html5_ok "$T_DIR/both.html" >/dev/null || t_fail "the page with both sections fails the HTML5 parse"
expect_exit 0 "$KC" diff "$PRE" "$POST" --pubkey "$W/k.pub" --format json -o "$T_DIR/d.json"
agree "$T_DIR/both.html" "$T_DIR/d.json" >/dev/null 2>&1 || t_fail "the remediation section disagrees with diff"
t_pass

# a bundle of rag-agent alone, which holds only what its scope allows
kc_admin -n $ns create role rep-rag-pods --verb=get,list --resource=pods >/dev/null 2>&1
kc_admin -n $ns create rolebinding rep-rag-pods --role=rep-rag-pods --serviceaccount=$ns:rag-agent >/dev/null 2>&1
mkdir -p "$W/rag"
"$KC" collect --kubeconfig "$KC_KUBECONFIG" --case REP-RECERT --phase baseline --agents '' --sa $ns/rag-agent \
	--key "$W/k.pem" -o "$W/rag/" -q >"$W/rag.path" 2>"$W/rag.err"
RAG=$(tail -n 1 "$W/rag.path")
kc_admin -n $ns delete role,rolebinding rep-rag-pods --ignore-not-found >/dev/null 2>&1
cat >"$W/scope-ok.yaml" <<YAML
apiVersion: kcustody.dev/v1alpha1
kind: AgentScopes
agents:
- name: rag
  owner: search-team
  approval: CHG-2
  serviceAccount: $ns/rag-agent
  namespaces: [$ns]
  resources:
  - {apiGroup: "", resource: pods, verbs: [get, list]}
YAML

t_begin "report --scope: a scope that covers everything says all within scope (twin)"
[ -f "$RAG" ] || t_fail "could not collect rag-agent's bundle: $(tail -n 3 "$W/rag.err")"
R=$T_DIR/ok.html
expect_exit 0 "$KC" recertify "$RAG" --scope "$W/scope-ok.yaml" --pubkey "$W/k.pub" --format json
cp "$T_OUT" "$T_DIR/ok.json"
jq -e '.agents[0].permissionsJudged > 0' "$T_DIR/ok.json" >/dev/null || t_fail "rag-agent holds nothing: the twin proves nothing"
expect_exit 0 "$KC" report "$RAG" --pubkey "$W/k.pub" --scope "$W/scope-ok.yaml" -o "$R"
expect_grep 'id="recert-verdict"><span class="big">ALL WITHIN SCOPE</span>' "$R"
expect_grep 'id="recert-no-excess"' "$R"
expect_no_grep 'id="recert-excess"|NOT WITHIN SCOPE|beyond scope</span>' "$R"
expect_grep '<span class="pill ok">within scope</span>' "$R"
agree_recert "$R" "$T_DIR/ok.json" >"$T_DIR/agree.out" 2>&1 || t_fail "report and recertify disagree: $(tail -n 3 "$T_DIR/agree.out")"
expect_grep 'id="recert-no-decisions"' "$R"
xmllint --noout "$R" 2>/dev/null || t_fail "not well-formed"
html5_ok "$R" >/dev/null || t_fail "HTML5 parse error"
t_pass

t_begin "report --scope: the reviewer's decision is shown with its scope file hash; a hostile note stays text"
[ -f "$RAG" ] || t_fail "no bundle"
expect_exit 0 "$KC" recertify "$RAG" --scope "$W/scope-ok.yaml" --pubkey "$W/k.pub" --decision approve \
	--key "$W/k.pem" --note '<b>ok</b> & "fine"'
expect_exit 0 "$KC" report "$RAG" --pubkey "$W/k.pub" --scope "$W/scope-ok.yaml" -o "$T_DIR/dec.html"
sha=$(sha256sum "$W/scope-ok.yaml" | cut -d' ' -f1)
expect_grep '<table id="recert-decisions">' "$T_DIR/dec.html"
expect_grep "<td><strong>approve</strong></td>" "$T_DIR/dec.html"
expect_grep "<code>$sha</code> <span class=\"pill ok\">this scope file</span>" "$T_DIR/dec.html"
expect_grep '&lt;b&gt;ok&lt;/b&gt; &amp; &quot;fine&quot;' "$T_DIR/dec.html"
expect_no_grep '<b>ok' "$T_DIR/dec.html"
# twin: judged against another scope file, the decision is marked as over another file
expect_exit 0 "$KC" report "$RAG" --pubkey "$W/k.pub" --scope "$W/scope.yaml" -o "$T_DIR/dec2.html"
expect_grep '<span class="pill warn">another scope file</span>' "$T_DIR/dec2.html"
expect_no_grep 'this scope file' "$T_DIR/dec2.html"
xmllint --noout "$T_DIR/dec.html" 2>/dev/null || t_fail "not well-formed"
html5_ok "$T_DIR/dec.html" >/dev/null || t_fail "HTML5 parse error"
t_pass

t_begin "report --scope: a bad scope file is exit 2 and writes nothing; an invalid bundle is not judged"
printf 'apiVersion: kcustody.dev/v1alpha1\nkind: AgentScopes\nagents:\n- name: a\n  bogus: 1\n' >"$W/bad-scope.yaml"
expect_exit 2 "$KC" report "$PRE" --pubkey "$W/k.pub" --scope "$W/bad-scope.yaml" -o "$T_DIR/bad.html"
expect_grep 'bad-scope.yaml:5:3' "$T_ERR"
expect_exit 2 "$KC" report "$PRE" --pubkey "$W/k.pub" --scope "$W/none.yaml" -o "$T_DIR/bad.html"
[ -e "$T_DIR/bad.html" ] && t_fail "a report was written for a bad scope file"
expect_exit 3 "$KC" report "$PRE" --pubkey "$W/other.pub" --scope "$W/scope.yaml" -o "$T_DIR/inv.html"
expect_grep 'id="recert-not-judged">Not judged: the agents are not judged from a bundle that failed verification' "$T_DIR/inv.html"
expect_no_grep 'id="recert-agents"' "$T_DIR/inv.html"
xmllint --noout "$T_DIR/inv.html" 2>/dev/null || t_fail "not well-formed"
t_pass

# the namespaces stay (the test cluster may have no namespace controller to
# finish deleting them); the cluster-wide role goes
kc_admin delete clusterrole rep-secret-reader --ignore-not-found >/dev/null 2>&1
t_summary
