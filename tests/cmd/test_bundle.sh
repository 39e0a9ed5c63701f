#!/usr/bin/env bash
# Command tests of the sealed bundle (issue 3): keygen, seal, verify,
# inspect, VERIFY.txt run as written, tampering, hostile archives, CMS and
# RFC 3161 against OpenSSL's own TSA on loopback.  No cluster needed.
# shellcheck disable=SC2317
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
K=${KCUSTODY_BIN:-$KC_REPO/kcustody}
TOOL="python3 $here/bundle_tool.py"
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-bundle.XXXX")
TSA_DIR=$W/tsa
trap 'bash "$KC_REPO/tests/tsa/stop.sh" "$TSA_DIR" >/dev/null 2>&1; chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT
NAME=IR-7_pre_kind_20261125T120000Z
MTIME=2026-11-25T12:00:00Z

# A staging folder laid out as collect lays it out.
mkstaging() {
	mkdir -p "$1/raw/clusterroles" "$1/raw/rolebindings" "$1/audit"
	printf '{"kind":"ClusterRoleList","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"resourceVersion":"42"},"items":[{"metadata":{"name":"admin"},"rules":[{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}]}]}\n' >"$1/raw/clusterroles/page-0001.json"
	printf '{"kind":"RoleBindingList","items":[]}\n' >"$1/raw/rolebindings/page-0001.json"
	printf '{"status":"complete","pages":1}\n' >"$1/raw/clusterroles/status.json"
	printf '{"auditID":"a1","verb":"get"}\n' >"$1/audit/segment.jsonl"
	cat >"$W/draft.json" <<'JSON'
{"bundle":{"id":"8d7f0c0e-1111-4a4a-9b9b-000000000007"},"case":{"id":"IR-7","phase":"pre"},
 "files":[{"path":"raw/clusterroles/status.json","media_type":"application/json","derived":true,
  "sources":["raw/clusterroles/page-0001.json"]}]}
JSON
}

# Run the commands of a bundle's VERIFY.txt as written, in a fresh folder
# holding the bundle and the trust files named there.  $1 bundle, then
# pairs "name=path" of files to put beside it.
run_verify_txt() {
	local b=$1 d
	shift
	d=$(mktemp -d "$W/vt.XXXX")
	cp "$b" "$d/"
	for kv in "$@"; do cp "${kv#*=}" "$d/${kv%%=*}"; done
	"$K" inspect "$b" VERIFY.txt | sed -n 's/^    //p' >"$d/verify.sh"
	[ -s "$d/verify.sh" ] || { echo "no commands in VERIFY.txt"; return 9; }
	(cd "$d" && bash -e verify.sh)
}

cd "$W" || exit 1
mkstaging "$W/st"

t_begin "keygen writes a 0600 Ed25519 key, refuses to overwrite, prints the SPKI fingerprint"
expect_exit 0 "$K" keygen -o "$W/k.pem"
fpr=$(cat "$T_OUT")
[ "$(stat -c %a "$W/k.pem")" = 600 ] || t_fail "key mode $(stat -c %a "$W/k.pem")"
[ -s "$W/k.pub.pem" ] || t_fail "no public key"
want="SHA256:$(openssl pkey -pubin -in "$W/k.pub.pem" -outform DER | sha256sum | cut -d' ' -f1)"
[ "$fpr" = "$want" ] || t_fail "fingerprint $fpr, openssl says $want"
expect_exit 2 "$K" keygen -o "$W/k.pem"
expect_grep "already exists" "$T_ERR"
expect_exit 0 "$K" keygen --fingerprint "$W/k.pem"
expect_grep "^$fpr\$" "$T_OUT"
"$K" keygen -o "$W/other.pem" >/dev/null 2>&1
t_pass

t_begin "seal twice gives the same bytes; the file is 0600 and named after the top folder"
mkdir -p a b
cp -r "$W/st" "$W/st2"
expect_exit 0 "$K" seal "$W/st" -o "a/$NAME.tar.gz" --key "$W/k.pem" --manifest "$W/draft.json" --mtime $MTIME
expect_exit 0 "$K" seal "$W/st2" -o "b/$NAME.tar.gz" --key "$W/k.pem" --manifest "$W/draft.json" --mtime $MTIME
cmp -s "a/$NAME.tar.gz" "b/$NAME.tar.gz" || t_fail "two seals differ"
[ "$(stat -c %a "a/$NAME.tar.gz")" = 600 ] || t_fail "bundle mode $(stat -c %a "a/$NAME.tar.gz")"
expect_exit 2 "$K" seal "$W/st" -o "a/$NAME.tar.gz" --key "$W/k.pem" --mtime $MTIME
expect_grep "already exists" "$T_ERR"
ls -a a | grep -q kcustody-seal && t_fail "temporary file left behind"
tar -tzf "a/$NAME.tar.gz" >list.txt
[ "$(head -n1 list.txt)" = "$NAME/" ] || t_fail "first member $(head -n1 list.txt)"
LC_ALL=C sort -c list.txt || t_fail "members not sorted"
tar -tvzf "a/$NAME.tar.gz" | awk '{print $1, $2}' | sort -u >modes.txt
grep -vqE '^(-r--r--r--|dr-xr-xr-x) root/root$' modes.txt && t_fail "modes/owners: $(tr '\n' ' ' <modes.txt)"
t_pass
B=$W/a/$NAME.tar.gz

t_begin "verify: valid bundle, human and --json"
expect_exit 0 "$K" verify "$B" --pubkey "$W/k.pub.pem"
expect_grep "^VALID$" "$T_OUT"
for c in structure hashes manifest signature timestamp; do expect_grep "^  $c " "$T_OUT"; done
expect_exit 0 "$K" verify "$B" --pubkey "$W/k.pub.pem" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["valid"] and d["signatureKind"]=="ed25519", d' "$T_OUT" || t_fail "--json"
t_pass

t_begin "verify: no trusted key is not valid; wrong key names the signature check"
expect_exit 3 "$K" verify "$B"
expect_grep "signature +FAILED .*no trusted key" "$T_OUT"
expect_exit 0 "$K" verify "$B" --allow-unsigned
expect_exit 3 "$K" verify "$B" --pubkey "$W/other.pub.pem"
expect_grep "INVALID \(signature check failed\)" "$T_OUT"
expect_exit 2 "$K" verify "$B" --pubkey "$W/nonexistent.pem"
expect_exit 2 "$K" verify "$W/nonexistent.tar.gz" --pubkey "$W/k.pub.pem"
expect_exit 2 "$K" verify
t_pass

t_begin "inspect: summary, member list, one member byte for byte"
expect_exit 0 "$K" inspect "$B"
expect_grep "schema +kcustody.bundle/v1" "$T_OUT"
expect_grep "case.id +IR-7" "$T_OUT"
expect_grep " raw/clusterroles/page-0001.json$" "$T_OUT"
"$K" inspect "$B" raw/clusterroles/page-0001.json | cmp -s - "$W/st/raw/clusterroles/page-0001.json" || t_fail "member bytes differ"
expect_exit 0 "$K" inspect "$B" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); f={x["path"]:x for x in d["files"]}; s=f["raw/clusterroles/status.json"]; assert s["derived"] and s["sources"]==["raw/clusterroles/page-0001.json"], s; assert "MANIFEST.json" not in f and "VERIFY.txt" in f' "$T_OUT" || t_fail "manifest files"
expect_exit 2 "$K" inspect "$B" raw/nope.json
t_pass

t_begin "inspect: MANIFEST keys from the bundle reach the terminal escaped (ANSI, newline)"
mkstaging "$W/st-esc"
mkdir -p "$W/esc"
jq -c '. + {"evil\u001b[2J\u001b]0;owned\u0007": "v", "case": {"id": "IR-7", "ph\nase": "pre"}}' "$W/draft.json" >"$W/draft-esc.json"
expect_exit 0 "$K" seal "$W/st-esc" -o "$W/esc/$NAME.tar.gz" --key "$W/k.pem" --manifest "$W/draft-esc.json" --mtime $MTIME
expect_exit 0 "$K" inspect "$W/esc/$NAME.tar.gz"
expect_grep '^  evil\\x1b\[2J\\x1b\]0;owned\\x07 +v$' "$T_OUT"
expect_grep '^  case.ph\\x0aase +pre$' "$T_OUT"
expect_no_grep $'\x1b' "$T_OUT"
expect_no_grep $'\x07' "$T_OUT"
# the twin: ordinary keys are printed as they are
expect_grep '^  case.id +IR-7$' "$T_OUT"
t_pass

t_begin "VERIFY.txt commands pass as written on the bundle (Ed25519)"
run_verify_txt "$B" signer.pub.pem="$W/k.pub.pem" >"$T_OUT" 2>&1 || t_fail "VERIFY.txt failed: $(tail -n 3 "$T_OUT")"
expect_grep "Signature Verified Successfully" "$T_OUT"
t_pass

t_begin "VERIFY.txt commands fail on tampered copies"
$TOOL repack "$B" mod.tar.gz modify raw/clusterroles/page-0001.json
run_verify_txt mod.tar.gz signer.pub.pem="$W/k.pub.pem" >"$T_OUT" 2>&1 && t_fail "VERIFY.txt passed a modified member"
$TOOL repack "$B" add.tar.gz add raw/extra.json
run_verify_txt add.tar.gz signer.pub.pem="$W/k.pub.pem" >"$T_OUT" 2>&1 && t_fail "VERIFY.txt passed an added member"
run_verify_txt "$B" signer.pub.pem="$W/other.pub.pem" >"$T_OUT" 2>&1 && t_fail "VERIFY.txt passed with another key"
t_pass

t_begin "tamper: modify, add, remove, rename a member; forged signature"
check3() {	# file check-name
	expect_exit 3 "$K" verify "$1" --pubkey "$W/k.pub.pem"
	expect_grep "INVALID \($2 check failed\)" "$T_OUT"
}
check3 mod.tar.gz hashes
check3 add.tar.gz structure
expect_grep "raw/extra.json' is not listed in SHA256SUMS" "$T_OUT"
$TOOL repack "$B" rm.tar.gz remove raw/clusterroles/status.json
check3 rm.tar.gz structure
expect_grep "no such member" "$T_OUT"
$TOOL repack "$B" mv.tar.gz rename raw/rolebindings/page-0001.json raw/rolebindings/page-0002.json
check3 mv.tar.gz structure
"$K" inspect "$B" SHA256SUMS >sums
openssl pkeyutl -sign -inkey "$W/other.pem" -rawin -in sums -out forged.sig
$TOOL repack "$B" forged.tar.gz replace SHA256SUMS.sig forged.sig
check3 forged.tar.gz signature
t_pass

t_begin "tamper: one flipped byte at >= 200 positions of the compressed file"
# A fixed key and mtime, so that the same bytes are flipped on every run: a
# change that inflates to the very same tar stream (rare: padding bits of
# the last deflate byte, an equivalent Huffman table) changes no evidence
# and is out of verify's reach (docs/FORMAT.md, "What verify proves").
printf '%s\n' '-----BEGIN PRIVATE KEY-----' \
	'MC4CAQAwBQYDK2VwBCIEIBN2esvi+68PY6UIhvYnkbGJv8dfJB8lW78qENuffI0o' \
	'-----END PRIVATE KEY-----' >fixed.pem
openssl pkey -in fixed.pem -pubout -out fixed.pub.pem
mkdir -p fixed
"$K" seal "$W/st" -o "fixed/$NAME.tar.gz" --key fixed.pem --manifest "$W/draft.json" --mtime $MTIME >/dev/null
FB=$W/fixed/$NAME.tar.gz
size=$(stat -c %s "$FB")
python3 - "$FB" "$W/flip" <<'PY'
import os, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
os.makedirs(out, exist_ok=True)
n = len(data)
pos = sorted(set(list(range(0, 12)) + list(range(n - 12, n)) + [i * n // 200 for i in range(200)]))
for p in pos:
    d = bytearray(data)
    d[p] ^= 0xFF
    open(os.path.join(out, "%06d.tar.gz" % p), "wb").write(d)
PY
total=0 bad=0
for f in "$W"/flip/*.tar.gz; do
	total=$((total + 1))
	rc=0
	"$K" verify "$f" --pubkey fixed.pub.pem >"$W/flip.out" 2>&1 || rc=$?
	if [ "$rc" != 3 ] || ! grep -qE '^INVALID \((structure|hashes|manifest|signature|timestamp) check failed\)$' "$W/flip.out"; then
		bad=$((bad + 1))
		[ $bad -le 3 ] && t_fail "flip in $(basename "$f") of $size bytes: exit $rc: $(tail -n1 "$W/flip.out")"
	fi
done
[ "$total" -ge 200 ] || t_fail "only $total positions"
[ "$bad" = 0 ] || t_fail "$bad of $total flips not detected"
echo "  $total flips, $bad undetected"
t_pass

t_begin "hostile archives rejected quickly, bounded memory, nothing written"
mkdir -p hostile && cd hostile || exit 1
for kind in traversal absolute symlink hardlink fifo duplicate bigsize bomb; do
	$TOOL hostile "h-$kind.tar.gz" "$kind"
	before=$(find . /tmp/kcustody-pwned 2>/dev/null | grep -v "h-$kind.tar.gz" | sort | md5sum)
	/usr/bin/time -f "%e %M" -o time.txt "$K" verify "h-$kind.tar.gz" --allow-unsigned >out.txt 2>&1
	rc=$?
	[ "$rc" = 3 ] || t_fail "$kind: exit $rc"
	grep -qE "structure +FAILED" out.txt || t_fail "$kind: $(grep structure out.txt)"
	read -r secs kb < <(tail -n1 time.txt)
	awk -v s="$secs" 'BEGIN { exit !(s < 5) }' || t_fail "$kind: took $secs s"
	[ "$kb" -lt 65536 ] || t_fail "$kind: peak RSS $kb KiB"
	printf '  %-10s %s s, %s KiB: %s\n' "$kind" "$secs" "$kb" "$(sed -n 's/^  structure  FAILED   //p' out.txt)"
	rm -f time.txt out.txt
	after=$(find . /tmp/kcustody-pwned 2>/dev/null | grep -v "h-$kind.tar.gz" | sort | md5sum)
	[ "$before" = "$after" ] || t_fail "$kind: files appeared"
	[ -e /tmp/kcustody-pwned ] && t_fail "$kind: wrote outside"
done
cd "$W" || exit 1
t_pass

t_begin "usage errors: one line naming the command and its --help; help COMMAND, did you mean, --version"
expect_exit 2 "$K" verify "$B" --bogus
[ "$(wc -l <"$T_ERR")" = 1 ] || t_fail "usage error is $(wc -l <"$T_ERR") lines"
expect_grep "^kcustody verify: unknown option or missing value: '--bogus'; see 'kcustody verify --help'$" "$T_ERR"
expect_exit 2 "$K" seal
expect_grep "^kcustody seal: wrong arguments; see 'kcustody seal --help'$" "$T_ERR"
expect_no_grep "^usage:" "$T_ERR"
expect_exit 0 "$K" help verify
expect_grep "^usage: kcustody verify BUNDLE" "$T_OUT"
expect_exit 2 "$K" help verfy
expect_exit 2 "$K" verfy "$B"
expect_grep "did you mean 'verify'" "$T_ERR"
expect_exit 2 "$K" zzzzzz
expect_no_grep "did you mean" "$T_ERR"
expect_exit 0 "$K" version
expect_grep "^kcustody [0-9.]+ \(commit [0-9a-f]{12}|unknown, built " "$T_OUT"
v=$(cat "$T_OUT")
expect_exit 0 "$K" verify --version
[ "$(cat "$T_OUT")" = "$v" ] || t_fail "verify --version differs from version"
t_pass

t_begin "unsigned only with --no-sign; verify reports it"
expect_exit 2 "$K" seal "$W/st" -o "$W/u1_pre_x_20261125T120000Z.tar.gz"
expect_grep "no signing key" "$T_ERR"
expect_exit 0 "$K" seal "$W/st" -o "$W/u_pre_x_20261125T120000Z.tar.gz" --no-sign
expect_exit 3 "$K" verify "$W/u_pre_x_20261125T120000Z.tar.gz"
expect_grep "signature +FAILED +unsigned" "$T_OUT"
expect_exit 0 "$K" verify "$W/u_pre_x_20261125T120000Z.tar.gz" --allow-unsigned
expect_grep "signature +skipped +unsigned" "$T_OUT"
"$K" inspect "$W/u_pre_x_20261125T120000Z.tar.gz" VERIFY.txt | grep -q UNSIGNED || t_fail "VERIFY.txt does not say unsigned"
t_pass

t_begin "encrypted key: --passphrase-file; a wrong passphrase is a usage error"
openssl genpkey -algorithm ed25519 -aes-256-cbc -pass pass:s3cret -out enc.pem 2>/dev/null
openssl pkey -in enc.pem -passin pass:s3cret -pubout -out enc.pub.pem
printf 's3cret\n' >pass.txt
printf 'wrong\n' >wrong.txt
expect_exit 0 "$K" seal "$W/st" -o "$W/e_pre_x_20261125T120000Z.tar.gz" --key enc.pem --passphrase-file pass.txt
expect_exit 0 "$K" verify "$W/e_pre_x_20261125T120000Z.tar.gz" --pubkey enc.pub.pem
expect_exit 2 "$K" seal "$W/st" -o "$W/e2_pre_x_20261125T120000Z.tar.gz" --key enc.pem --passphrase-file wrong.txt </dev/null
[ -e "$W/e2_pre_x_20261125T120000Z.tar.gz" ] && t_fail "bundle written with a wrong passphrase"
t_pass

if ! TSA_URL=$(bash "$KC_REPO/tests/tsa/start.sh" "$TSA_DIR"); then
	t_begin "loopback TSA"
	t_fail "cannot start the loopback TSA"
	t_summary
	exit 1
fi

t_begin "RFC 3161: seal --tsa, verify --tsa-ca, VERIFY.txt openssl ts -verify"
expect_exit 0 "$K" seal "$W/st" -o "$W/t_pre_x_20261125T120000Z.tar.gz" --key "$W/k.pem" --tsa "$TSA_URL" --tsa-ca "$TSA_DIR/ca.pem"
TB=$W/t_pre_x_20261125T120000Z.tar.gz
expect_exit 0 "$K" verify "$TB" --pubkey "$W/k.pub.pem" --tsa-ca "$TSA_DIR/ca.pem"
expect_grep "timestamp +ok +RFC 3161" "$T_OUT"
expect_exit 0 "$K" verify "$TB" --pubkey "$W/k.pub.pem"
expect_grep "timestamp +skipped .*give --tsa-ca" "$T_OUT"
expect_exit 3 "$K" verify "$TB" --pubkey "$W/k.pub.pem" --tsa-ca "$TSA_DIR/signer-ec.pem"
expect_grep "INVALID \(timestamp check failed\)" "$T_OUT"
expect_exit 3 "$K" verify "$B" --pubkey "$W/k.pub.pem" --tsa-ca "$TSA_DIR/ca.pem"
expect_grep "timestamp +FAILED +no time-stamp token" "$T_OUT"
run_verify_txt "$TB" signer.pub.pem="$W/k.pub.pem" tsa-ca.pem="$TSA_DIR/ca.pem" >"$T_OUT" 2>&1 || t_fail "VERIFY.txt failed: $(tail -n 3 "$T_OUT")"
expect_grep "Verification: OK" "$T_OUT"
# a token over another signature
"$K" inspect "$B" SHA256SUMS.sig >other.sig
$TOOL repack "$TB" tsr.tar.gz replace SHA256SUMS.sig other.sig
expect_exit 3 "$K" verify tsr.tar.gz --pubkey "$W/k.pub.pem" --tsa-ca "$TSA_DIR/ca.pem"
expect_grep "INVALID \((signature|timestamp) check failed\)" "$T_OUT"
expect_exit 4 "$K" seal "$W/st" -o "$W/t2_pre_x_20261125T120000Z.tar.gz" --key "$W/k.pem" --tsa "http://127.0.0.1:9/"
[ -e "$W/t2_pre_x_20261125T120000Z.tar.gz" ] && t_fail "bundle written although the TSA failed"
t_pass

t_begin "CMS: RSA and ECDSA certificates, verify --ca, VERIFY.txt openssl cms -verify"
for alg in rsa ec; do
	out="$W/c${alg}_pre_x_20261125T120000Z.tar.gz"
	expect_exit 0 "$K" seal "$W/st" -o "$out" --key "$TSA_DIR/signer-$alg.key" --cert "$TSA_DIR/signer-$alg.pem" --tsa "$TSA_URL"
	expect_exit 0 "$K" verify "$out" --ca "$TSA_DIR/ca.pem" --tsa-ca "$TSA_DIR/ca.pem"
	expect_grep "signature +ok +CMS signature by .*signer-$alg" "$T_OUT"
	expect_exit 0 "$K" verify "$out" --pubkey "$TSA_DIR/signer-$alg.pem"
	expect_exit 3 "$K" verify "$out" --pubkey "$W/k.pub.pem"
	# a file that holds no certificate is a usage error; a certificate that
	# did not issue the signer's is an invalid signature
	expect_exit 2 "$K" verify "$out" --ca "$W/st/raw/clusterroles/page-0001.json"
	expect_grep "holds no PEM certificate" "$T_ERR"
	expect_exit 3 "$K" verify "$out" --ca "$TSA_DIR/signer-$([ $alg = rsa ] && echo ec || echo rsa).pem"
	run_verify_txt "$out" ca.pem="$TSA_DIR/ca.pem" tsa-ca.pem="$TSA_DIR/ca.pem" >"$T_OUT" 2>&1 || t_fail "$alg VERIFY.txt: $(tail -n 3 "$T_OUT")"
	expect_grep "CMS Verification successful" "$T_OUT"
done
expect_exit 2 "$K" seal "$W/st" -o "$W/x_pre_x_20261125T120000Z.tar.gz" --key "$TSA_DIR/signer-rsa.key" --cert "$TSA_DIR/signer-ec.pem"
expect_grep "does not match" "$T_ERR"
expect_exit 2 "$K" seal "$W/st" -o "$W/x_pre_x_20261125T120000Z.tar.gz" --key "$TSA_DIR/signer-rsa.key"
expect_grep "not Ed25519" "$T_ERR"
t_pass

t_summary
