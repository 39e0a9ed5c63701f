#!/bin/bash
# Command tests for `kcustody custody show|verify|append`: a full custody
# story verifies, with kcustody and with standard tools (jq, openssl); each
# forgery fails with its line and reason; concurrent appenders both land.
# Needs no cluster.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}

keys=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-keys.XXXX")
trap 'rm -rf "$keys"' EXIT
for u in alice bob carol mallory; do
	openssl genpkey -algorithm ed25519 -out "$keys/$u.key" 2>/dev/null
	openssl pkey -in "$keys/$u.key" -pubout -out "$keys/$u.pub"
done
cat >"$keys/trust.json" <<'EOF'
{"trusted_keys":[
 {"name":"Alice","organisation":"ACME CSIRT","public_key":"alice.pub"},
 {"name":"Bob","organisation":"ACME Legal","public_key":"bob.pub"},
 {"name":"Carol","organisation":"Audit Co","public_key":"carol.pub"}]}
EOF
T="--trust-keys $keys/trust.json"

app() { # WHO ACTION [options...]
	local who=$1 act=$2
	shift 2
	"$KC" custody append "$B" --action "$act" --key "$keys/$who.key" $T "$@"
}

story() {
	KCUSTODY_NOW=2026-03-01T10:00:00Z app alice sealed --org "ACME CSIRT" --purpose "incident 2026-042" --location "Berlin SOC" --method "kcustody collect" &&
	KCUSTODY_NOW=2026-03-01T11:00:00Z app alice transferred --org "ACME CSIRT" --from Alice --to Bob --method "sftp" &&
	KCUSTODY_NOW=2026-03-01T12:00:00Z app bob received --org "ACME Legal" --from Alice --method "sftp" &&
	KCUSTODY_NOW=2026-03-02T09:00:00Z app carol verified --org "Audit Co" --note "SHA256SUMS checked" &&
	KCUSTODY_NOW=2026-03-02T10:00:00Z app bob archived --org "ACME Legal" --location "vault" &&
	KCUSTODY_NOW=2026-03-03T10:00:00Z app carol accessed --org "Audit Co" --purpose "audit"
}

t_begin "custody: a full story verifies with trusted keys"
B=$T_DIR/case.tar.gz
kc_bundle "$B" "$keys/alice.key"
story 2>"$T_ERR" || t_fail "story: $(cat "$T_ERR")"
expect_exit 0 "$KC" custody show "$B" $T
expect_grep '^ *6 +2026-03-03T10:00:00Z +accessed +Carol \(Audit Co\)' "$T_OUT"
awk 'length($0) > 100 { bad = 1 } END { exit bad }' "$T_OUT" || t_fail "custody show wider than 100 columns"
expect_grep 'custody ledger: VERIFIED \(6 entries, signers trusted\)' "$T_OUT"
expect_grep '^custodian: Bob \(ACME Legal\)' "$T_OUT"
expect_exit 0 "$KC" custody show "$B" $T --json
[ "$(jq -r '.verified, .entries, (.history|map(.action)|join(","))' "$T_OUT" | tr '\n' ' ')" = \
	"true 6 sealed,transferred,received,verified,archived,accessed " ] || t_fail "json report: $(head -c 300 "$T_OUT")"
[ "$(jq -r '[.history[].signature]|unique|join(",")' "$T_OUT")" = trusted ] || t_fail "not all trusted"
t_pass

t_begin "custody: every entry verifies with jq, sha256sum and openssl alone"
B=$T_DIR/case.tar.gz
kc_bundle "$B" "$keys/alice.key"
story 2>/dev/null || t_fail "story"
prev=0000000000000000000000000000000000000000000000000000000000000000
bsha=$(sha256sum <"$B" | cut -d' ' -f1)
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%s' "$line" | jq -cj 'del(.sig)' >"$T_DIR/canon"
	printf '%s' "$line" | sed 's/,"sig":"[^"]*"}$/}/' | tr -d '\n' | cmp -s - "$T_DIR/canon" ||
		t_fail "line $n: jq and sed disagree on the canonical bytes"
	printf '%s' "$line" | jq -r .sig | base64 -d >"$T_DIR/sig"
	printf '%s' "$line" | jq -r .actor.public_key | base64 -d >"$T_DIR/key.der"
	openssl pkey -pubin -inform DER -in "$T_DIR/key.der" -out "$T_DIR/key.pem" 2>/dev/null
	openssl pkeyutl -verify -pubin -inkey "$T_DIR/key.pem" -rawin -in "$T_DIR/canon" \
		-sigfile "$T_DIR/sig" >/dev/null 2>&1 || t_fail "line $n: openssl rejects the signature"
	[ "$(printf '%s' "$line" | jq -r .prev)" = "$prev" ] || t_fail "line $n: prev"
	[ "$(printf '%s' "$line" | jq -r .bundle_sha256)" = "$bsha" ] || t_fail "line $n: bundle_sha256"
	[ "$(printf '%s' "$line" | jq -r .actor.key_fingerprint)" = "SHA256:$(sha256sum <"$T_DIR/key.der" | cut -d' ' -f1)" ] ||
		t_fail "line $n: fingerprint is not SHA-256 of the DER key"
	prev=$(printf '%s\n' "$line" | sha256sum | cut -d' ' -f1)
done <"$B.custody.jsonl"
[ "$n" = 6 ] || t_fail "read $n lines"
# the fingerprint agrees with openssl's view of the trusted public key
fa="SHA256:$(openssl pkey -pubin -in "$keys/alice.pub" -outform DER | sha256sum | cut -d' ' -f1)"
[ "$(head -n1 "$B.custody.jsonl" | jq -r .actor.key_fingerprint)" = "$fa" ] || t_fail "alice fingerprint"
t_pass

# Each forgery of the six-line story must fail `custody verify` with exit 3
# and name the line and the reason.
forge() { # NAME EXPECTED_REGEX SED_OR_SCRIPT
	t_begin "custody: forgery fails: $1"
	B=$T_DIR/case.tar.gz
	kc_bundle "$B" "$keys/alice.key"
	story 2>/dev/null || t_fail "story"
	L=$B.custody.jsonl
	eval "$3"
	expect_exit 3 "$KC" custody verify "$B" $T
	expect_grep "$2" "$T_OUT"
	expect_grep "kcustody: custody ledger line [0-9]+: " "$T_ERR"
	t_pass
}
forge "a deleted line" 'line 3: seq 4 follows seq 2 \(an entry is missing\)' "sed -i 3d \$L"
forge "reordered lines" 'line 4: seq 5 follows seq 3' "sed -i '4{h;d};5G' \$L"
forge "a duplicated line" 'line 5: seq 4 does not follow seq 4' "sed -i '4p' \$L"
forge "an edited purpose" 'line 6: signature does not verify' "sed -i '6s/\"audit\"/\"audlt\"/' \$L"
forge "an edited time" 'line 2: signature does not verify' "sed -i '2s/T11:00:00Z/T11:00:01Z/' \$L"
forge "the first line edited" 'line 2: prev does not match the SHA-256 of line 1' "sed -i '1s/Berlin SOC/Berlin S0C/' \$L"
forge "a ledger paired with another bundle" 'line 1: bundle_sha256 .* \(the ledger belongs to another bundle\)' "head -c 10 /dev/urandom >>\$B"
# (an action anyone may sign: a release by someone who does not hold the
# evidence is no longer written at all, see the role tests below)
forge "an entry signed by an untrusted key" 'line 7: signed by untrusted key SHA256:' \
	"KCUSTODY_NOW=2026-03-04T10:00:00Z \"\$KC\" custody append \"\$B\" --action accessed --key \"\$keys/mallory.key\" --name Carol --org 'Audit Co' 2>/dev/null"
forge "a name that is not the trusted key's" "line 7: actor 'Carol' \\(Audit Co\\) signed with the key trusted as 'Bob'" \
	"KCUSTODY_NOW=2026-03-04T10:00:00Z \"\$KC\" custody append \"\$B\" --action released --key \"\$keys/bob.key\" --name Carol --org 'Audit Co' 2>/dev/null"
forge "an unfinished (torn) last line" 'line 6: incomplete entry' "truncate -s -20 \$L"

t_begin "custody: an actor without an organisation is shown without empty brackets"
B=$T_DIR/noorg.tar.gz
kc_bundle "$B" "$keys/alice.key"
# no --trust-keys: the names and organisations are the entries' own
KCUSTODY_NOW=2026-03-01T10:00:00Z "$KC" custody append "$B" --action sealed --key "$keys/alice.key" \
	--name Alice 2>"$T_ERR" || t_fail "append: $(cat "$T_ERR")"
expect_exit 0 "$KC" custody show "$B"
expect_grep '^custodian: Alice SHA256:' "$T_OUT"
expect_no_grep '\(\)' "$T_OUT"
# the twin: with an organisation it is shown in brackets
B=$T_DIR/org.tar.gz
kc_bundle "$B" "$keys/alice.key"
KCUSTODY_NOW=2026-03-01T10:00:00Z "$KC" custody append "$B" --action sealed --key "$keys/alice.key" \
	--name Alice --org "ACME CSIRT" 2>"$T_ERR" || t_fail "append: $(cat "$T_ERR")"
expect_exit 0 "$KC" custody show "$B"
expect_grep '^custodian: Alice \(ACME CSIRT\) SHA256:' "$T_OUT"

t_begin "custody: a receipt signed by the wrong party fails"
B=$T_DIR/case.tar.gz
kc_bundle "$B" "$keys/alice.key"
KCUSTODY_NOW=2026-03-01T10:00:00Z expect_exit 0 app alice sealed --org "ACME CSIRT"
KCUSTODY_NOW=2026-03-01T11:00:00Z expect_exit 0 app alice transferred --org "ACME CSIRT" --to Bob
expect_exit 0 "$KC" custody show "$B" $T
expect_grep "in transit: transfer at line 2 to 'Bob' not yet received" "$T_OUT"
# with the trust list, the wrong receipt is never written ...
KCUSTODY_NOW=2026-03-01T12:00:00Z expect_exit 2 app carol received --org "Audit Co" --from Alice
expect_grep "refusing to write an entry that would not verify: custody ledger line 3: receipt signed by Carol" "$T_ERR"
# ... without it, Carol's key claiming to be Bob gets in, and verify finds it
KCUSTODY_NOW=2026-03-01T12:00:00Z "$KC" custody append "$B" --action received --key "$keys/carol.key" \
	--name Bob --org "ACME Legal" --from Alice 2>/dev/null || t_fail "append without trust"
expect_exit 3 "$KC" custody verify "$B" $T
expect_grep "line 3: receipt signed by Carol \(SHA256:[0-9a-f]+\), but the transfer at line 2 was to 'Bob'" "$T_OUT"
# and no one may append to it now
expect_exit 3 app bob verified --org "ACME Legal"
expect_grep "refusing to append to '.*', which does not verify: custody ledger line 3" "$T_ERR"
t_pass

t_begin "custody: a receipt by the named key fingerprint completes a transfer"
B=$T_DIR/case.tar.gz
kc_bundle "$B" "$keys/alice.key"
fb="SHA256:$(openssl pkey -pubin -in "$keys/bob.pub" -outform DER | sha256sum | cut -d' ' -f1)"
# every step must land: a refused receipt leaves a ledger that still
# verifies (in transit), so verify alone cannot tell
expect_exit 0 app alice sealed --org "ACME CSIRT"
expect_exit 0 app alice transferred --org "ACME CSIRT" --to "$fb"
expect_exit 0 app bob received --org "ACME Legal"
[ "$(wc -l <"$B.custody.jsonl")" = 3 ] || t_fail "ledger has $(wc -l <"$B.custody.jsonl") entries, want 3"
expect_exit 0 "$KC" custody verify "$B" $T
expect_exit 0 "$KC" custody show "$B" $T
expect_grep '^custodian: Bob \(ACME Legal\)' "$T_OUT"
expect_no_grep 'in transit' "$T_OUT"
t_pass

t_begin "custody: append refuses a ledger that does not verify, and bad input"
B=$T_DIR/case.tar.gz
kc_bundle "$B" "$keys/alice.key"
expect_exit 2 app alice verified
expect_grep "no custody ledger" "$T_ERR"
expect_exit 0 app alice sealed --org "ACME CSIRT"
expect_exit 2 app alice sealed
expect_exit 2 app alice shredded
expect_grep "unknown custody action 'shredded'" "$T_ERR"
expect_exit 2 app alice verified --note "$(printf 'bell\a')"
expect_grep "note contains a control character" "$T_ERR"
expect_exit 2 "$KC" custody append "$B" --action verified
expect_exit 2 "$KC" custody append "$B" --action verified --key "$keys/alice.pub"
KCUSTODY_NOW=2020-01-01T00:00:00Z app alice verified 2>"$T_ERR"; rc=$?
[ "$rc" = 3 ] || t_fail "time going backwards: exit $rc"
expect_grep "before the ledger's last entry" "$T_ERR"
sed -i 's/"seq":1,/"seq":1 ,/' "$B.custody.jsonl"
expect_exit 3 app alice verified
expect_grep "not in canonical form" "$T_ERR"
t_pass

t_begin "custody: two appenders started at once both land, 25 times"
B=$T_DIR/case.tar.gz
kc_bundle "$B" "$keys/alice.key"
expect_exit 0 app alice sealed --org "ACME CSIRT"
for i in $(seq 1 25); do
	app carol verified --org "Audit Co" --note "a$i" 2>>"$T_DIR/errs" &
	p1=$!
	app bob accessed --org "ACME Legal" --note "b$i" 2>>"$T_DIR/errs" &
	p2=$!
	wait $p1 || t_fail "appender a$i failed: $(tail -n1 "$T_DIR/errs")"
	wait $p2 || t_fail "appender b$i failed: $(tail -n1 "$T_DIR/errs")"
done
expect_exit 0 "$KC" custody verify "$B" $T
expect_grep 'VERIFIED \(51 entries' "$T_OUT"
[ "$(jq -r .note "$B.custody.jsonl" | grep -c '^[ab][0-9]*$')" = 50 ] || t_fail "not all 50 notes landed"
t_pass

t_begin "custody: without --trust-keys integrity is checked and trust is not claimed"
B=$T_DIR/case.tar.gz
kc_bundle "$B" "$keys/alice.key"
story 2>/dev/null || t_fail "story"
expect_exit 0 "$KC" custody show "$B"
expect_grep 'NOT checked against trusted keys' "$T_OUT"
sed -i '2s/"sftp"/"usb"/' "$B.custody.jsonl"
expect_exit 3 "$KC" custody show "$B"
expect_grep 'line 2: signature does not verify' "$T_OUT"
t_pass

# Who may release and dispose (issue 10 item 5): roles in the trust file;
# without one, the holder only.
cat >"$keys/roles.json" <<'EOF'
{"trusted_keys":[
 {"name":"Alice","organisation":"ACME CSIRT","public_key":"alice.pub","roles":["custodian"]},
 {"name":"Bob","organisation":"ACME Legal","public_key":"bob.pub","roles":["custodian"]},
 {"name":"Carol","organisation":"Audit Co","public_key":"carol.pub","roles":["archive"]},
 {"name":"Mallory","organisation":"Review Board","public_key":"mallory.pub","roles":["reviewer"]}]}
EOF
R="--trust-keys $keys/roles.json"

t_begin "custody: roles: the archive disposes, a custodian who handed it on may not"
B=$T_DIR/case.tar.gz
kc_bundle "$B" "$keys/alice.key"
T=$R story 2>"$T_ERR" || t_fail "story with roles: $(cat "$T_ERR")"
KCUSTODY_NOW=2033-03-04T10:00:00Z T=$R expect_exit 2 app alice disposed --org "ACME CSIRT"
expect_grep "refusing to write an entry that would not verify: custody ledger line 7: disposal signed by 'Alice' .*Bob holds the evidence.* no 'archive' role" "$T_ERR"
KCUSTODY_NOW=2033-03-04T10:00:00Z T=$R expect_exit 2 app carol released --org "Audit Co"
expect_grep "release signed by 'Carol' .* no 'reviewer' role" "$T_ERR"
KCUSTODY_NOW=2033-03-04T10:00:00Z T=$R expect_exit 0 app carol disposed --org "Audit Co" --note "retention ended"
expect_exit 0 "$KC" custody verify "$B" $R --json
[ "$(jq -r '.history[6].actor.roles|join(",")' "$T_OUT")" = archive ] || t_fail "roles not in the report: $(head -c 300 "$T_OUT")"
# the same ledger against a trust file without roles (all custodians):
# Carol neither held it nor is the archive there
expect_exit 3 "$KC" custody verify "$B" $T
expect_grep "line 7: disposal signed by 'Carol' \(SHA256:[0-9a-f]+\), who is not the custodian \(Bob holds the evidence\) and has no 'archive' role" "$T_OUT"
t_pass

t_begin "custody: roles: a reviewer releases; the holder releases; others may not"
B=$T_DIR/case.tar.gz
kc_bundle "$B" "$keys/alice.key"
T=$R story 2>/dev/null || t_fail "story"
KCUSTODY_NOW=2026-04-01T10:00:00Z T=$R expect_exit 2 app mallory disposed --org "Review Board"
KCUSTODY_NOW=2026-04-01T10:00:00Z T=$R expect_exit 0 app mallory released --org "Review Board" --purpose "recertification: access revoked"
KCUSTODY_NOW=2026-04-01T11:00:00Z T=$R expect_exit 0 app bob released --org "ACME Legal"
expect_exit 0 "$KC" custody verify "$B" $R
t_pass

t_begin "custody: without --trust-keys only the holder may release or dispose"
B=$T_DIR/case.tar.gz
kc_bundle "$B" "$keys/alice.key"
story 2>/dev/null || t_fail "story"
KCUSTODY_NOW=2026-04-01T10:00:00Z expect_exit 2 "$KC" custody append "$B" --action disposed --key "$keys/carol.key" --name Carol
expect_grep "disposal signed by SHA256:[0-9a-f]+, who is not the custodian \(Bob holds the evidence; without --trust-keys only the custodian" "$T_ERR"
KCUSTODY_NOW=2026-04-01T10:00:00Z expect_exit 2 "$KC" custody append "$B" --action released --key "$keys/alice.key" --name Alice
[ "$(wc -l <"$B.custody.jsonl")" = 6 ] || t_fail "a refused entry was written"
KCUSTODY_NOW=2026-04-01T10:00:00Z expect_exit 0 "$KC" custody append "$B" --action disposed --key "$keys/bob.key" --name Bob --org "ACME Legal"
expect_exit 0 "$KC" custody verify "$B"
t_pass

t_begin "custody: a trust file with an unknown role is refused"
B=$T_DIR/case.tar.gz
kc_bundle "$B" "$keys/alice.key"
story 2>/dev/null || t_fail "story"
sed 's/"reviewer"/"janitor"/' "$keys/roles.json" >"$keys/bad-roles.json"
expect_exit 2 "$KC" custody verify "$B" --trust-keys "$keys/bad-roles.json"
expect_grep "key 4: unknown role 'janitor'" "$T_ERR"
expect_exit 0 "$KC" custody verify "$B" $R
t_pass

t_summary
