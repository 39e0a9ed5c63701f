#!/bin/bash
# Command tests for the S3 retention store against a real Ceph RADOS
# Gateway with Object Lock on loopback (tests/s3/start.sh).  Object Lock is
# enforced by the server with its own clock, which no test can inject:
# KCUSTODY_NOW moves only kcustody's clock, and one test waits 4 s for a
# 3 s retention to run out on the server.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
S3DIR=${KCUSTODY_S3_DIR:-/tmp/kcustody-s3}

if ! bash "$KC_REPO/tests/s3/install.sh" >/dev/null 2>&1; then
	echo "cannot install Ceph RGW (tests/s3/install.sh)"; echo "0 passed, 1 failed"; exit 1
fi
started=0
[ -f "$S3DIR/run/client.rgw.a.pid" ] && kill -0 "$(cat "$S3DIR/run/client.rgw.a.pid")" 2>/dev/null || started=1
if ! bash "$KC_REPO/tests/s3/start.sh" "$S3DIR" >/dev/null 2>"$S3DIR.start.log"; then
	echo "cannot start Ceph RGW: $(tail -n 3 "$S3DIR.start.log")"; echo "0 passed, 1 failed"; exit 1
fi
. "$S3DIR/env.sh"
keys=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-keys.XXXX")
cleanup() {
	rm -rf "$keys"
	[ "$started" = 1 ] && bash "$KC_REPO/tests/s3/stop.sh" "$S3DIR" >/dev/null 2>&1
}
trap cleanup EXIT
SECRET=$(cat "$KC_S3_SECRET_FILE")
# curl reads the credentials from a 0600 config file, not from its command line
(umask 077; printf 'user = "%s:%s"\n' "$KC_S3_ACCESS_KEY" "$SECRET" >"$keys/curl.conf")
E0=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
s3curl() { # METHOD PATH?QUERY [curl args]: prints the body, then the status (S3SHA: body hash)
	local m=$1 p=$2
	shift 2
	curl -s -K "$keys/curl.conf" --aws-sigv4 "aws:amz:$KC_S3_REGION:s3" -X "$m" \
		-H "x-amz-content-sha256: ${S3SHA:-$E0}" -w '\n%{http_code}\n' "$@" "$KC_S3_ENDPOINT/$p"
}
BUCKET=kc-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
[ "$(s3curl PUT "$BUCKET" -H 'x-amz-bucket-object-lock-enabled: true' | tail -n1)" = 200 ] ||
	{ echo "cannot create bucket"; echo "0 passed, 1 failed"; exit 1; }
[ "$(s3curl PUT "$BUCKET-nolock" | tail -n1)" = 200 ] || true

for u in alice bob carol; do
	openssl genpkey -algorithm ed25519 -out "$keys/$u.key" 2>/dev/null
	openssl pkey -in "$keys/$u.key" -pubout -out "$keys/$u.pub"
done
cat >"$keys/trust.json" <<'EOF'
{"trusted_keys":[
 {"name":"Alice","organisation":"ACME CSIRT","public_key":"alice.pub"},
 {"name":"Bob","organisation":"ACME Legal","public_key":"bob.pub","roles":["custodian","archive"]},
 {"name":"Carol","organisation":"Audit Co","public_key":"carol.pub"}]}
EOF
T="--trust-keys $keys/trust.json"
CONN="--endpoint $KC_S3_ENDPOINT --region $KC_S3_REGION --access-key $KC_S3_ACCESS_KEY --secret-key-file $KC_S3_SECRET_FILE"

ar() { "$KC" archive "$@" --store "$STORE" $CONN $T; }
until_in() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }

t_begin "s3: put, list, get, verify; retention reads back as requested"
STORE=s3://$BUCKET/t1
kc_sealed_bundle "$T_DIR/a.tar.gz" "$keys/alice.key" 8192 $T
id=$(sha256sum <"$T_DIR/a.tar.gz" | cut -d' ' -f1)
want=$(until_in 86400)
expect_exit 0 ar put "$T_DIR/a.tar.gz" --retain-until "$want" --key "$keys/bob.key"
expect_grep "^archived $id a.tar.gz until $want$" "$T_OUT"
expect_exit 0 ar list --json
[ "$(jq -r '.[0] | [.id, .name, .size, .retain_until, .legal_hold, .lock_mode, .status] | map(tostring) | join(" ")' "$T_OUT")" = \
	"$id a.tar.gz $(stat -c %s "$T_DIR/a.tar.gz") $want false COMPLIANCE stored" ] || t_fail "list: $(head -c 400 "$T_OUT")"
# read back by kcustody ...
expect_exit 0 ar verify --all --json
[ "$(jq -r '.items[0] | [.ok, .lock_mode, .retain_until, .legal_hold] | map(tostring) | join(" ")' "$T_OUT")" = \
	"true COMPLIANCE $want OFF" ] || t_fail "verify: $(head -c 600 "$T_OUT")"
# ... and independently, straight from the server
s3curl GET "$BUCKET/t1/$id/bundle?retention=" >"$T_DIR/ret"
expect_grep "<Mode>COMPLIANCE</Mode><RetainUntilDate>${want%Z}(\.0+)?Z</RetainUntilDate>" "$T_DIR/ret"
s3curl GET "$BUCKET/t1/$id/custody.jsonl?retention=" >"$T_DIR/ret"
expect_grep "<Mode>COMPLIANCE</Mode>" "$T_DIR/ret"
expect_exit 0 ar get "${id:0:10}" -o "$T_DIR/out.tar.gz" --key "$keys/carol.key"
cmp -s "$T_DIR/out.tar.gz" "$T_DIR/a.tar.gz" || t_fail "get returned other bytes"
expect_exit 0 "$KC" custody show "$T_DIR/out.tar.gz" $T
expect_grep '^ *3 .* accessed +Carol \(Audit Co\)' "$T_OUT"
# the accessed entry is its own locked object
s3curl GET "$BUCKET?list-type=2&prefix=t1%2F$id%2Fcustody%2F" >"$T_DIR/list"
expect_grep "<Key>t1/$id/custody/0000000003-[0-9a-f]{16}\.jsonl</Key>" "$T_DIR/list"
k=$(grep -oE "t1/$id/custody/0000000003-[0-9a-f]{16}\.jsonl" "$T_DIR/list" | head -n1)
s3curl GET "$BUCKET/$k?retention=" >"$T_DIR/ret"
expect_grep "<RetainUntilDate>${want%Z}" "$T_DIR/ret"
expect_exit 0 ar verify "${id:0:10}"
expect_grep "^ok +$id" "$T_OUT"
t_pass

t_begin "s3: multipart upload with legal hold; the server refuses to delete the locked version"
STORE=s3://$BUCKET/t2
kc_sealed_bundle "$T_DIR/big.tar.gz" "$keys/alice.key" 11534336 $T
id=$(sha256sum <"$T_DIR/big.tar.gz" | cut -d' ' -f1)
expect_exit 0 ar put "$T_DIR/big.tar.gz" --retain 2d --legal-hold --lock-mode GOVERNANCE \
	--multipart-threshold 5M --part-size 5M --key "$keys/bob.key"
expect_exit 0 ar verify --all --json
[ "$(jq -r '.items[0] | [.ok, .lock_mode, .legal_hold] | map(tostring) | join(" ")' "$T_OUT")" = \
	"true GOVERNANCE ON" ] || t_fail "verify: $(head -c 600 "$T_OUT")"
s3curl GET "$BUCKET/t2/$id/bundle?legal-hold=" >"$T_DIR/hold"
expect_grep "<Status>ON</Status>" "$T_DIR/hold"
ver=$(jq -r .bundle_version < <(s3curl GET "$BUCKET/t2/$id/meta.json" | sed '$d'))
[ -n "$ver" ] && [ "$ver" != null ] || t_fail "no bundle version recorded"
# DELETE of the locked version: refused by the server (legal hold, GOVERNANCE)
[ "$(s3curl DELETE "$BUCKET/t2/$id/bundle?versionId=$ver" | tail -n1)" = 403 ] || t_fail "DELETE of the locked version was not refused"
# even with the governance bypass, the legal hold holds
[ "$(s3curl DELETE "$BUCKET/t2/$id/bundle?versionId=$ver" -H 'x-amz-bypass-governance-retention: true' | tail -n1)" = 403 ] ||
	t_fail "bypass deleted a version under legal hold"
STORE=s3://$BUCKET/t1
id1=$(jq -r '.[0].id' < <(ar list --json 2>/dev/null))
ver1=$(jq -r .bundle_version < <(s3curl GET "$BUCKET/t1/$id1/meta.json" | sed '$d'))
[ "$(s3curl DELETE "$BUCKET/t1/$id1/bundle?versionId=$ver1" | tail -n1)" = 403 ] || t_fail "COMPLIANCE version deleted"
[ "$(s3curl DELETE "$BUCKET/t1/$id1/bundle?versionId=$ver1" -H 'x-amz-bypass-governance-retention: true' | tail -n1)" = 403 ] ||
	t_fail "COMPLIANCE version deleted with the governance bypass"
expect_exit 0 ar verify --all
STORE=s3://$BUCKET/t2
expect_exit 0 ar get "$id" -o "$T_DIR/out.tar.gz" --key "$keys/carol.key"
cmp -s "$T_DIR/out.tar.gz" "$T_DIR/big.tar.gz" || t_fail "multipart bundle came back different"
t_pass

t_begin "s3: a wrong secret key gives a clear error, and no credential reaches any output"
STORE=s3://$BUCKET/t1
printf 'not-the-secret-%s\n' "$RANDOM" >"$keys/wrong"
chmod 600 "$keys/wrong"
KCUSTODY_DEBUG=1 expect_exit 4 "$KC" archive list --store "$STORE" --endpoint "$KC_S3_ENDPOINT" \
	--access-key "$KC_S3_ACCESS_KEY" --secret-key-file "$keys/wrong"
expect_grep "refused the request signature \(SignatureDoesNotMatch\): the secret key is wrong" "$T_ERR"
expect_no_grep "$(cat "$keys/wrong")" "$T_ERR"
KCUSTODY_DEBUG=1 AWS_ACCESS_KEY_ID=$KC_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_ENDPOINT_URL=$KC_S3_ENDPOINT \
	expect_exit 0 "$KC" archive verify --all --store "$STORE" $T
cat "$T_OUT" "$T_ERR" >"$T_DIR/all"
expect_no_grep "$SECRET" "$T_DIR/all"
expect_no_grep "$KC_S3_ACCESS_KEY" "$T_DIR/all"
expect_grep "debug: s3: GET" "$T_DIR/all"
# a profile file works too
printf '[evidence]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$KC_S3_ACCESS_KEY" "$SECRET" >"$keys/creds"
chmod 600 "$keys/creds"
expect_exit 0 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$KC" archive list --store "$STORE" \
	--endpoint "$KC_S3_ENDPOINT" --credentials-file "$keys/creds" --profile evidence
expect_exit 4 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$KC" archive list --store "$STORE" \
	--endpoint "$KC_S3_ENDPOINT" --access-key NOSUCHKEY0000 --secret-key-file "$keys/wrong"
expect_grep "does not know the access key \(InvalidAccessKeyId\)" "$T_ERR"
expect_exit 2 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME=/nonexistent "$KC" archive list \
	--store "$STORE" --endpoint "$KC_S3_ENDPOINT"
expect_grep "no S3 credentials" "$T_ERR"
expect_exit 2 "$KC" archive list --store "s3://$BUCKET-nolock/x" $CONN
expect_grep "has no Object Lock" "$T_ERR"
t_pass

t_begin "s3: an upload killed mid-multipart leaves nothing listed as stored"
STORE=s3://$BUCKET/t3
kc_sealed_bundle "$T_DIR/big.tar.gz" "$keys/alice.key" 12582912 $T
id=$(sha256sum <"$T_DIR/big.tar.gz" | cut -d' ' -f1)
KCUSTODY_TEST_S3_SEND_BPS=3000000 "$KC" archive put "$T_DIR/big.tar.gz" --store "$STORE" $CONN $T --retain 1d \
	--multipart-threshold 5M --part-size 5M --key "$keys/bob.key" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 50); do	# until the upload has begun
	s3curl GET "$BUCKET?prefix=t3%2F&uploads=" | grep -q "<UploadId>" && break
	sleep 0.1
done
sleep 1
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
s3curl GET "$BUCKET?prefix=t3%2F&uploads=" >"$T_DIR/uploads"
expect_grep "<Key>t3/$id/bundle</Key>" "$T_DIR/uploads"	# it was killed mid-multipart
expect_exit 0 ar list --json
[ "$(jq length "$T_OUT")" = 0 ] || t_fail "listed: $(cat "$T_OUT")"
expect_exit 0 ar verify --all
expect_grep "^0 checked" "$T_OUT"
[ "$(tail -n1 "$T_DIR/big.tar.gz.custody.jsonl" | jq -r .action)" = sealed ] || t_fail "an archived entry was written"
# a second put completes it
expect_exit 0 ar put "$T_DIR/big.tar.gz" --retain 1d --multipart-threshold 5M --part-size 5M --key "$keys/bob.key"
expect_exit 0 ar list --json
[ "$(jq -r '.[0].id' "$T_OUT")" = "$id" ] || t_fail "not stored after the retry"
t_pass

t_begin "s3: a damaged ledger entry object and a forked entry are found by verify"
STORE=s3://$BUCKET/t4
kc_sealed_bundle "$T_DIR/a.tar.gz" "$keys/alice.key" 8192 $T
id=$(sha256sum <"$T_DIR/a.tar.gz" | cut -d' ' -f1)
ar put "$T_DIR/a.tar.gz" --retain 1d --key "$keys/bob.key" >/dev/null 2>&1
ar get "$id" -o "$T_DIR/o1.tar.gz" --key "$keys/carol.key" >/dev/null 2>&1
# a forger adds an unsigned-looking entry object of their own
line=$(tail -n1 "$T_DIR/o1.tar.gz.custody.jsonl" | sed 's/"accessed"/"released"/')
printf '%s\n' "$line" >"$T_DIR/forged"
h=$(sha256sum <"$T_DIR/forged" | cut -c1-16)
S3SHA=$(sha256sum <"$T_DIR/forged" | cut -d' ' -f1) s3curl PUT "$BUCKET/t4/$id/custody/0000000004-$h.jsonl" \
	--data-binary @"$T_DIR/forged" >/dev/null
expect_exit 3 ar verify --all
expect_grep "ledger: custody ledger line 4: " "$T_OUT"
t_pass

t_begin "s3: prune lets the server decide; a version past its lock is disposed of"
STORE=s3://$BUCKET/t5
kc_sealed_bundle "$T_DIR/long.tar.gz" "$keys/alice.key" 8192 $T
kc_sealed_bundle "$T_DIR/short.tar.gz" "$keys/alice.key" 8192 $T
idl=$(sha256sum <"$T_DIR/long.tar.gz" | cut -d' ' -f1)
ids=$(sha256sum <"$T_DIR/short.tar.gz" | cut -d' ' -f1)
ar put "$T_DIR/long.tar.gz" --retain 1d --key "$keys/bob.key" >/dev/null 2>&1
ar put "$T_DIR/short.tar.gz" --retain 3s --key "$keys/bob.key" >/dev/null 2>&1
# kcustody's clock says a week later; the server's does not: it keeps both
KCUSTODY_NOW=$(until_in 604800) expect_exit 0 ar prune --key "$keys/bob.key"
expect_grep "long.tar.gz +kept by the store: the store still locks it until" "$T_OUT"
sleep 4	# the server's real clock must pass the 3 s retention
# Carol neither holds it nor has the archive role: refused, nothing written
KCUSTODY_NOW=$(until_in 604800) expect_exit 2 ar prune --key "$keys/carol.key"
expect_grep "disposal signed by 'Carol' .* no 'archive' role" "$T_ERR"
[ "$(s3curl GET "$BUCKET/t5/$ids/bundle" -o /dev/null | tail -n1)" = 200 ] || t_fail "a refused disposal removed the bundle"
KCUSTODY_NOW=$(until_in 604800) expect_exit 0 ar prune --key "$keys/bob.key"
expect_grep "short.tar.gz +disposed" "$T_OUT"
expect_grep "long.tar.gz +kept by the store" "$T_OUT"
[ "$(s3curl GET "$BUCKET/t5/$ids/bundle" -o /dev/null | tail -n1)" = 404 ] || t_fail "disposed bundle still readable"
expect_exit 0 ar list --json
[ "$(jq -r "map(select(.id == \"$ids\"))[0].status" "$T_OUT")" = disposed ] || t_fail "not marked disposed"
expect_exit 0 ar verify --all --json
[ "$(jq -r "[.items[] | select(.id == \"$ids\")][0] | .ok" "$T_OUT")" = true ] || t_fail "verify after disposal"
t_pass

t_begin "s3: a put that fails after the bundle is uploaded leaves no 'archived' entry in the bundle's ledger"
# A proxy in front of the server refuses the ledger object (custody.jsonl):
# the bundle is uploaded and the 'archived' entry written, then the ledger
# upload fails (503).
python3 "$KC_REPO/tests/s3/failproxy.py" "$KC_S3_ENDPOINT" /custody.jsonl "$T_DIR/proxy.port" &
proxy=$!
for _ in $(seq 50); do [ -s "$T_DIR/proxy.port" ] && break; sleep 0.1; done
PCONN="--endpoint http://127.0.0.1:$(cat "$T_DIR/proxy.port") --region $KC_S3_REGION --access-key $KC_S3_ACCESS_KEY --secret-key-file $KC_S3_SECRET_FILE"
STORE=s3://$BUCKET/t6
kc_sealed_bundle "$T_DIR/f.tar.gz" "$keys/alice.key" 8192 $T
cp "$T_DIR/f.tar.gz.custody.jsonl" "$T_DIR/before.jsonl"
rc=0
"$KC" archive put "$T_DIR/f.tar.gz" --retain 1d --key "$keys/bob.key" --store "$STORE" $PCONN $T \
	>"$T_OUT" 2>"$T_ERR" || rc=$?
kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null
[ "$rc" != 0 ] || t_fail "the put succeeded although the ledger upload was refused"
expect_grep "SlowDown" "$T_ERR"
cmp -s "$T_DIR/before.jsonl" "$T_DIR/f.tar.gz.custody.jsonl" ||
	t_fail "the failed put changed the bundle's ledger: $(tail -n1 "$T_DIR/f.tar.gz.custody.jsonl" | head -c 200)"
expect_exit 0 "$KC" custody show "$T_DIR/f.tar.gz" $T
grep -q archived "$T_OUT" && t_fail "custody show lists an 'archived' entry for a failed put"
expect_exit 0 ar list --json
[ "$(jq length "$T_OUT")" = 0 ] || t_fail "the failed put is listed: $(head -c 300 "$T_OUT")"
# positive twin: without the proxy the same bundle goes in, one 'archived' entry
expect_exit 0 ar put "$T_DIR/f.tar.gz" --retain 1d --key "$keys/bob.key"
[ "$(grep -c '"action":"archived"' "$T_DIR/f.tar.gz.custody.jsonl")" = 1 ] || t_fail "not one 'archived' entry after the put"
t_pass

t_begin "s3: the item record's upload answered with an error: taken back when the record is absent, kept when it was stored"
# meta.json is written last; an error answer may come after S3 stored it
# (a timeout, a reset, a proxy's 5xx).  Refused before the server: the
# item is not in the store, the 'archived' entry is taken back.  Stored,
# then answered 500: the item IS archived, and the entry stays (taking it
# back would fork the bundle's ledger from the store's copy).
for mode in refused stored; do
	case $mode in refused) suffix=/meta.json ;; stored) suffix=after:/meta.json ;; esac
	rm -f "$T_DIR/proxy.port"
	python3 "$KC_REPO/tests/s3/failproxy.py" "$KC_S3_ENDPOINT" "$suffix" "$T_DIR/proxy.port" &
	proxy=$!
	for _ in $(seq 50); do [ -s "$T_DIR/proxy.port" ] && break; sleep 0.1; done
	PCONN="--endpoint http://127.0.0.1:$(cat "$T_DIR/proxy.port") --region $KC_S3_REGION --access-key $KC_S3_ACCESS_KEY --secret-key-file $KC_S3_SECRET_FILE"
	STORE=s3://$BUCKET/t7-$mode
	kc_sealed_bundle "$T_DIR/$mode.tar.gz" "$keys/alice.key" 8192 $T
	rc=0
	"$KC" archive put "$T_DIR/$mode.tar.gz" --retain 1d --key "$keys/bob.key" --store "$STORE" $PCONN $T \
		>"$T_OUT" 2>"$T_ERR" || rc=$?
	kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null
	n=$(grep -c '"action":"archived"' "$T_DIR/$mode.tar.gz.custody.jsonl")
	ar list --json >"$T_DIR/list.json" 2>"$T_DIR/list.err" ||
		t_fail "$mode: archive list failed: $(head -c 300 "$T_DIR/list.err")"
	listed=$(jq length "$T_DIR/list.json")
	if [ $mode = refused ]; then
		[ "$rc" != 0 ] || t_fail "refused: the put succeeded"
		grep -q SlowDown "$T_ERR" || t_fail "refused: the store's answer is not named: $(head -c 300 "$T_ERR")"
		[ "$n" = 0 ] || t_fail "refused: $n 'archived' entries left for an item not in the store"
		[ "$listed" = 0 ] || t_fail "refused: the item is listed"
	else
		[ "$rc" = 0 ] || t_fail "stored: exit $rc for an item that is in the store: $(head -c 300 "$T_ERR")"
		grep -q "record is there" "$T_ERR" || t_fail "stored: no warning about the error answer: $(head -c 300 "$T_ERR")"
		[ "$n" = 1 ] || t_fail "stored: $n 'archived' entries (want 1: the store holds the item)"
		[ "$listed" = 1 ] || t_fail "stored: the item is not listed"
		expect_exit 0 ar verify --all --json
	fi
done
t_pass

t_summary
