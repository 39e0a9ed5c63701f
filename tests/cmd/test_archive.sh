#!/bin/bash
# Command tests for the local retention store: `kcustody archive
# put|list|get|verify|prune` on a real folder.  Time is injected with
# KCUSTODY_NOW, never waited for.  Needs no cluster.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}

keys=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-keys.XXXX")
trap 'rm -rf "$keys"' EXIT
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
NOW=2026-03-01T10:00:00Z
export KCUSTODY_NOW=$NOW

ar() { "$KC" archive "$@" --store "$S" $T; }

t_begin "archive: put, list, get, verify on a folder"
S=$T_DIR/store
kc_sealed_bundle "$T_DIR/a.tar.gz" "$keys/alice.key" 8192 $T
id=$(sha256sum <"$T_DIR/a.tar.gz" | cut -d' ' -f1)
expect_exit 0 ar put "$T_DIR/a.tar.gz" --retain 7y --key "$keys/bob.key"
expect_grep "^archived $id a.tar.gz until 2033-03-01T10:00:00Z$" "$T_OUT"
[ "$(stat -c %a "$S/objects/$id")" = 444 ] || t_fail "object not read-only"
cmp -s "$S/objects/$id" "$T_DIR/a.tar.gz" || t_fail "object differs"
# the archived entry is in the bundle's own ledger and in the store's copy
[ "$(tail -n1 "$T_DIR/a.tar.gz.custody.jsonl" | jq -r '.action + " " + .actor.name + " " + .to')" = "archived Bob file://$S" ] ||
	t_fail "archived entry: $(tail -n1 "$T_DIR/a.tar.gz.custody.jsonl" | head -c 300)"
cmp -s "$S/ledgers/$id.custody.jsonl" "$T_DIR/a.tar.gz.custody.jsonl" || t_fail "ledger copy differs"
expect_exit 0 ar list --json
[ "$(jq -r '.[0] | [.id, .name, .size, .stored, .retain_until, .legal_hold, .status] | map(tostring) | join(" ")' "$T_OUT")" = \
	"$id a.tar.gz $(stat -c %s "$T_DIR/a.tar.gz") $NOW 2033-03-01T10:00:00Z false stored" ] || t_fail "list: $(cat "$T_OUT")"
expect_exit 0 ar list
expect_grep "^${id:0:16} +$(stat -c %s "$T_DIR/a.tar.gz")  $NOW  2033-03-01T10:00:00Z  no +stored$" "$T_OUT"
expect_grep "^    a.tar.gz$" "$T_OUT"	# the name on the item's next line
awk 'length($0) > 100 { bad = 1 } END { exit bad }' "$T_OUT" || t_fail "archive list wider than 100 columns"
KCUSTODY_NOW=2026-03-02T10:00:00Z expect_exit 0 ar get "${id:0:12}" -o "$T_DIR/out.tar.gz" --key "$keys/carol.key"
cmp -s "$T_DIR/out.tar.gz" "$T_DIR/a.tar.gz" || t_fail "get returned other bytes"
expect_exit 0 "$KC" custody show "$T_DIR/out.tar.gz" $T
expect_grep '^ *3 +2026-03-02T10:00:00Z +accessed +Carol \(Audit Co\)' "$T_OUT"
expect_exit 2 ar get "${id:0:12}" -o "$T_DIR/out.tar.gz" --key "$keys/carol.key"
expect_grep "already exists; not replacing it" "$T_ERR"
expect_exit 2 ar get 0000000000 -o "$T_DIR/x.tar.gz" --key "$keys/carol.key"
expect_grep "no item '0000000000'" "$T_ERR"
expect_exit 0 ar verify --all
expect_grep "^ok +$id a.tar.gz \(stored\)" "$T_OUT"
expect_grep "^1 checked, 0 damaged or missing" "$T_OUT"
expect_exit 2 ar put "$T_DIR/a.tar.gz" --retain 7y --key "$keys/bob.key"
expect_grep "already in this store" "$T_ERR"
t_pass

t_begin "archive: a store that does not exist is an error for list, verify, get and prune; put creates it"
S=$T_DIR/typo-store
expect_exit 2 ar list
expect_grep "no archive store at '$S'" "$T_ERR"
expect_exit 2 ar verify --all
expect_no_grep "0 checked" "$T_OUT"
expect_exit 2 ar get 0000000000 -o "$T_DIR/x.tar.gz" --key "$keys/carol.key"
expect_exit 2 ar prune --dry-run
[ -e "$S" ] && t_fail "a read-only command created the store"
[ -e "$T_DIR/x.tar.gz" ] && t_fail "get wrote a file"
# the twin: put creates it, then list works
kc_sealed_bundle "$T_DIR/n.tar.gz" "$keys/alice.key" 8192 $T
expect_exit 0 ar put "$T_DIR/n.tar.gz" --retain 1y --key "$keys/bob.key"
expect_exit 0 ar list
t_pass

t_begin "archive: a bit flip in a stored bundle is found by verify --all"
S=$T_DIR/store
kc_sealed_bundle "$T_DIR/a.tar.gz" "$keys/alice.key" 8192 $T
kc_sealed_bundle "$T_DIR/b.tar.gz" "$keys/alice.key" 8192 $T
ar put "$T_DIR/a.tar.gz" --retain 1y --key "$keys/bob.key" >/dev/null 2>&1
ar put "$T_DIR/b.tar.gz" --retain 1y --key "$keys/bob.key" >/dev/null 2>&1
ida=$(sha256sum <"$T_DIR/a.tar.gz" | cut -d' ' -f1)
chmod u+w "$S/objects/$ida"
# flip one bit of byte 1000
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[1000]^=0x04; open(p,"wb").write(bytes(b))' "$S/objects/$ida"
chmod 0444 "$S/objects/$ida"
expect_exit 3 ar verify --all
expect_grep "^DAMAGED +$ida a.tar.gz" "$T_OUT"
expect_grep "bundle damaged: its SHA-256 is now" "$T_OUT"
expect_grep "^ok " "$T_OUT"
expect_grep "^2 checked, 1 damaged or missing" "$T_OUT"
# and get refuses to hand it out, recording nothing
expect_exit 3 ar get "$ida" -o "$T_DIR/out.tar.gz" --key "$keys/carol.key"
expect_grep "is damaged" "$T_ERR"
[ ! -e "$T_DIR/out.tar.gz" ] || t_fail "a damaged bundle was handed out"
t_pass

t_begin "archive: missing object, rewritten or shortened store ledger are found"
S=$T_DIR/store
kc_sealed_bundle "$T_DIR/a.tar.gz" "$keys/alice.key" 8192 $T
kc_sealed_bundle "$T_DIR/b.tar.gz" "$keys/alice.key" 8192 $T
kc_sealed_bundle "$T_DIR/c.tar.gz" "$keys/alice.key" 8192 $T
for b in a b c; do ar put "$T_DIR/$b.tar.gz" --retain 1y --key "$keys/bob.key" >/dev/null 2>&1; done
ida=$(sha256sum <"$T_DIR/a.tar.gz" | cut -d' ' -f1)
idb=$(sha256sum <"$T_DIR/b.tar.gz" | cut -d' ' -f1)
idc=$(sha256sum <"$T_DIR/c.tar.gz" | cut -d' ' -f1)
rm -f "$S/objects/$ida"
sed -i '$d' "$S/ledgers/$idb.custody.jsonl"	# cut the archived entry off
sed -i 's/"Audit Co"/"Audit Co."/' "$S/ledgers/$idc.custody.jsonl" 2>/dev/null
sed -i '2s/"kcustody archive put"/"kcustody archive  put"/' "$S/ledgers/$idc.custody.jsonl"
expect_exit 3 ar verify --all
expect_grep "bundle missing" "$T_OUT"
expect_grep "fewer than the 2 the archive recorded \(entries were cut off\)" "$T_OUT"
expect_grep "ledger: custody ledger line 2: signature does not verify" "$T_OUT"
expect_grep "^3 checked, 3 damaged or missing" "$T_OUT"
t_pass

t_begin "archive: prune removes only what is past retain-until and not on legal hold"
S=$T_DIR/store
kc_sealed_bundle "$T_DIR/old.tar.gz" "$keys/alice.key" 8192 $T
kc_sealed_bundle "$T_DIR/held.tar.gz" "$keys/alice.key" 8192 $T
kc_sealed_bundle "$T_DIR/young.tar.gz" "$keys/alice.key" 8192 $T
ar put "$T_DIR/old.tar.gz" --retain-until 2026-06-30 --key "$keys/bob.key" >/dev/null 2>&1
ar put "$T_DIR/held.tar.gz" --retain-until 2026-06-30 --legal-hold --key "$keys/bob.key" >/dev/null 2>&1
ar put "$T_DIR/young.tar.gz" --retain 7y --key "$keys/bob.key" >/dev/null 2>&1
ido=$(sha256sum <"$T_DIR/old.tar.gz" | cut -d' ' -f1)
# before the date: nothing goes
KCUSTODY_NOW=2026-06-30T23:59:58Z expect_exit 0 ar prune --key "$keys/bob.key"
expect_no_grep "disposed" "$T_OUT"
[ "$(ls "$S/objects" | wc -l)" = 3 ] || t_fail "something was removed early"
KCUSTODY_NOW=2026-07-01T00:00:00Z expect_exit 0 ar prune --dry-run
expect_grep "old.tar.gz +would dispose" "$T_OUT"
[ "$(ls "$S/objects" | wc -l)" = 3 ] || t_fail "dry run removed something"
# only the archive (Bob has the role) or the holder (Alice) may dispose
KCUSTODY_NOW=2026-07-01T00:00:00Z expect_exit 2 ar prune --key "$keys/carol.key"
expect_grep "disposal signed by 'Carol' .* no 'archive' role" "$T_ERR"
[ "$(ls "$S/objects" | wc -l)" = 3 ] || t_fail "a refused disposal removed something"
KCUSTODY_NOW=2026-07-01T00:00:00Z expect_exit 2 "$KC" archive prune --store "$S" --key "$keys/bob.key"
expect_grep "without --trust-keys only the custodian may transfer, release or dispose" "$T_ERR"
[ "$(ls "$S/objects" | wc -l)" = 3 ] || t_fail "a refused disposal removed something"
KCUSTODY_NOW=2026-07-01T00:00:00Z expect_exit 0 ar prune --key "$keys/bob.key"
expect_grep "old.tar.gz +disposed" "$T_OUT"
expect_grep "held.tar.gz +kept: legal hold" "$T_OUT"
expect_grep "young.tar.gz +kept: retained" "$T_OUT"
[ ! -e "$S/objects/$ido" ] || t_fail "old bundle still there"
[ "$(ls "$S/objects" | wc -l)" = 2 ] || t_fail "wrong objects left"
# the disposal is recorded (before the removal) and the record stays
[ "$(tail -n1 "$S/ledgers/$ido.custody.jsonl" | jq -r '.action + " " + .time + " " + .note')" = \
	"disposed 2026-07-01T00:00:00Z retention ended 2026-06-30T23:59:59Z" ] || t_fail "disposed entry"
expect_exit 0 ar list --json
[ "$(jq -r '[.[] | .name + "=" + .status] | join(",")' "$T_OUT")" = \
	"old.tar.gz=disposed,held.tar.gz=stored,young.tar.gz=stored" ] || t_fail "list after prune: $(cat "$T_OUT")"
KCUSTODY_NOW=2026-07-01T00:00:00Z expect_exit 0 ar verify --all
KCUSTODY_NOW=2026-07-02T00:00:00Z expect_exit 2 ar get "$ido" -o "$T_DIR/o.tar.gz" --key "$keys/carol.key"
expect_grep "disposed of" "$T_ERR"
# far in the future: the legal hold still holds
KCUSTODY_NOW=2099-01-01T00:00:00Z expect_exit 0 ar prune --key "$keys/bob.key"
expect_grep "held.tar.gz +kept: legal hold" "$T_OUT"
expect_grep "young.tar.gz +disposed" "$T_OUT"
t_pass

t_begin "archive: put refuses a bundle whose ledger does not verify, and bad options"
S=$T_DIR/store
kc_sealed_bundle "$T_DIR/a.tar.gz" "$keys/alice.key" 8192 $T
head -c 1 /dev/urandom >>"$T_DIR/a.tar.gz"
expect_exit 3 ar put "$T_DIR/a.tar.gz" --retain 7y --key "$keys/bob.key"
expect_grep "refusing to archive: .* another bundle" "$T_ERR"
head -c 100 /dev/urandom >"$T_DIR/n.tar.gz"
expect_exit 2 ar put "$T_DIR/n.tar.gz" --retain 7y --key "$keys/bob.key"
expect_grep "no custody ledger" "$T_ERR"
expect_exit 2 ar put "$T_DIR/n.tar.gz" --key "$keys/bob.key"
expect_exit 2 ar put "$T_DIR/n.tar.gz" --retain 7q --key "$keys/bob.key"
expect_exit 2 ar put "$T_DIR/n.tar.gz" --retain-until 2020-01-01 --key "$keys/bob.key"
expect_grep "must be in the future" "$T_ERR"
expect_exit 2 ar put "$T_DIR/n.tar.gz" --retain 7y
expect_exit 2 "$KC" archive list
[ ! -e "$S/index.json" ] || [ "$(jq '.items|length' "$S/index.json")" = 0 ] || t_fail "something was stored"
t_pass

t_begin "archive: concurrent puts into one store keep a valid index"
S=$T_DIR/store
for i in 1 2 3 4 5 6; do kc_sealed_bundle "$T_DIR/c$i.tar.gz" "$keys/alice.key" 2048 $T; done
for i in 1 2 3 4 5 6; do ar put "$T_DIR/c$i.tar.gz" --retain 1y --key "$keys/bob.key" >/dev/null 2>&1 & done
wait
expect_exit 0 ar list --json
[ "$(jq length "$T_OUT")" = 6 ] || t_fail "index holds $(jq length "$T_OUT") items, not 6"
expect_exit 0 ar verify --all
t_pass

t_begin "archive: a hand-edited index (no status, a path as id) is reported, never followed"
S=$T_DIR/store
kc_sealed_bundle "$T_DIR/a.tar.gz" "$keys/alice.key" 8192 $T
kc_sealed_bundle "$T_DIR/b.tar.gz" "$keys/alice.key" 8192 $T
kc_sealed_bundle "$T_DIR/c.tar.gz" "$keys/alice.key" 8192 $T
for b in a b c; do ar put "$T_DIR/$b.tar.gz" --retain-until 2026-06-30 --key "$keys/bob.key" >/dev/null 2>&1; done
ida=$(sha256sum <"$T_DIR/a.tar.gz" | cut -d' ' -f1)
idb=$(sha256sum <"$T_DIR/b.tar.gz" | cut -d' ' -f1)
idc=$(sha256sum <"$T_DIR/c.tar.gz" | cut -d' ' -f1)
echo "keep me" >"$T_DIR/victim"
# a loses its status; b's id becomes a path out of the store; c is intact
jq --arg a "$ida" --arg b "$idb" '.items |= map(if .id == $a then del(.status)
	elif .id == $b then .id = "../../victim" | .name = "b\u001b[31m.tar.gz" else . end)' \
	"$S/index.json" >"$S/index.json.new" && mv "$S/index.json.new" "$S/index.json"
KCUSTODY_NOW=2026-03-02T10:00:00Z expect_exit 3 ar get "$ida" -o "$T_DIR/out.tar.gz" --key "$keys/carol.key"
expect_grep "index entry for $ida is damaged \(it has no status\); nothing was handed out" "$T_ERR"
[ ! -e "$T_DIR/out.tar.gz" ] || t_fail "a bundle with a damaged index entry was handed out"
expect_exit 3 ar verify --all
expect_grep "^DAMAGED +$ida a.tar.gz \(\)" "$T_OUT"
expect_grep "index entry damaged: it has no status" "$T_OUT"
expect_grep '^DAMAGED +\.\./\.\./victim b\\x1b\[31m\.tar\.gz' "$T_OUT"
expect_grep "index entry damaged: its id is not a SHA-256 hex digest" "$T_OUT"
expect_no_grep $'\x1b' "$T_OUT"
expect_grep "^3 checked, 2 damaged or missing" "$T_OUT"
KCUSTODY_NOW=2026-07-01T00:00:00Z expect_exit 0 ar prune --key "$keys/bob.key"
expect_grep "^${ida:0:16} a.tar.gz +kept: index entry damaged: it has no status" "$T_OUT"
expect_grep "^\.\./\.\./victim +b\\\\x1b\[31m\.tar\.gz +kept: index entry damaged: its id is not" "$T_OUT"
# the twin: the intact item in the same store is disposed of as usual
expect_grep "^${idc:0:16} c.tar.gz +disposed" "$T_OUT"
[ "$(cat "$T_DIR/victim")" = "keep me" ] || t_fail "prune followed an id out of the store"
[ -e "$S/objects/$ida" ] && [ -e "$S/objects/$idb" ] || t_fail "a damaged entry's bundle was removed"
[ ! -e "$S/objects/$idc" ] || t_fail "the intact item was not disposed of"
t_pass

# The S3 plain-HTTP decision (issue 10 item 6.4) is made before any request,
# so it is tested here without an S3 server; .example names never resolve.
t_begin "archive s3: plain HTTP to a host that only starts like loopback warns; a session token is refused"
echo secret >"$T_DIR/sk"
s3() { "$KC" archive list --store s3://bucket/p --access-key AK --secret-key-file "$T_DIR/sk" "$@"; }
expect_exit 4 s3 --endpoint http://127.evil.example
expect_grep "warning: S3 endpoint http://127.evil.example is plain HTTP" "$T_ERR"
expect_exit 4 s3 --endpoint http://127.0.0.1@evil.example:7480
expect_grep "warning: S3 endpoint .* is plain HTTP" "$T_ERR"
AWS_SESSION_TOKEN=tok AWS_ACCESS_KEY_ID=AK AWS_SECRET_ACCESS_KEY=sk \
	expect_exit 2 "$KC" archive list --store s3://bucket/p --endpoint http://localhost.evil.example
expect_grep "refusing to send an AWS session token over plain HTTP to http://localhost.evil.example" "$T_ERR"
expect_no_grep "Could not resolve" "$T_ERR"
# the twins: loopback by IP literal or by the name localhost, and https
# anywhere, get no warning and keep the token (the requests then fail:
# nothing listens on port 9, and .example does not resolve)
for ep in http://127.0.0.1:9 http://localhost:9 'http://[::1]:9' https://s3.evil.example; do
	AWS_SESSION_TOKEN=tok AWS_ACCESS_KEY_ID=AK AWS_SECRET_ACCESS_KEY=sk \
		expect_exit 4 "$KC" archive list --store s3://bucket/p --endpoint "$ep"
	expect_no_grep "plain HTTP|session token" "$T_ERR"
done
t_pass

t_summary
