#!/bin/bash
# verify checks the custody ledger beside the bundle as well (issue 7 item 3).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
KC=${KCUSTODY_BIN:-$KC_REPO/kcustody}
kc_cluster_up || { echo "cannot start cluster"; echo "0 passed, 1 failed"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-vc.XXXX")
trap 'rm -rf "$W"' EXIT
"$KC" keygen -o "$W/k.pem" --pub "$W/k.pub" >/dev/null 2>&1
"$KC" keygen -o "$W/aud.pem" --pub "$W/aud.pub" >/dev/null 2>&1
a=$("$KC" collect --kubeconfig "$KC_KUBECONFIG" --case VC-1 --phase pre --agents '' --key "$W/k.pem" -o "$W/" -q)
sleep 1.1
b=$("$KC" collect --kubeconfig "$KC_KUBECONFIG" --case VC-1 --phase post --agents '' --key "$W/k.pem" -o "$W/" -q)
cat >"$W/trust.json" <<JSON
{"trusted_keys":[{"name":"$(id -un)","public_key":"$W/k.pub"},{"name":"auditor","public_key":"$W/aud.pub"}]}
JSON

t_begin "verify: collect starts a signed ledger; verify reports the custody history"
[ -f "$a.custody.jsonl" ] || t_fail "no ledger beside the bundle"
expect_exit 0 "$KC" verify "$a" --pubkey "$W/k.pub"
expect_grep '^  custody +ok +1 ledger entries' "$T_OUT"
expect_grep 'sealed' "$T_OUT"
t_pass

t_begin "verify: a ledger that belongs to another bundle fails verify (exit 3)"
expect_exit 3 "$KC" verify "$a" --pubkey "$W/k.pub" --ledger "$b.custody.jsonl"
expect_grep 'INVALID \(custody check failed\)' "$T_OUT"
t_pass

t_begin "verify: an edited ledger line fails; --json carries the custody report"
cp "$a" "$W/c.tar.gz"
sed 's/"purpose":"[^"]*"/"purpose":"edited"/' "$a.custody.jsonl" >"$W/c.tar.gz.custody.jsonl"
expect_exit 3 "$KC" verify "$W/c.tar.gz" --pubkey "$W/k.pub" --json
jq -e '.valid == false and (.custody.problems | length > 0)' "$T_OUT" >/dev/null || t_fail "json lacks the custody problems"
t_pass

t_begin "verify --trust-keys: a transfer received by the trusted auditor verifies; an untrusted signer fails"
expect_exit 0 "$KC" custody append "$b" --action transferred --key "$W/k.pem" --to auditor --purpose recertification
expect_exit 0 "$KC" custody append "$b" --action received --key "$W/aud.pem" --name auditor --from "$(id -un)" --purpose recertification
expect_exit 0 "$KC" verify "$b" --pubkey "$W/k.pub" --trust-keys "$W/trust.json"
expect_grep 'signers trusted' "$T_OUT"
echo '{"trusted_keys":[{"name":"auditor","public_key":"'"$W"'/aud.pub"}]}' >"$W/trust2.json"
expect_exit 3 "$KC" verify "$b" --pubkey "$W/k.pub" --trust-keys "$W/trust2.json"
t_pass

t_begin "verify --trust-keys / --require-custody: a deleted ledger fails (exit 3); without them it is skipped"
cp "$a" "$W/gone.tar.gz"
[ ! -e "$W/gone.tar.gz.custody.jsonl" ] || t_fail "the copy has a ledger"
expect_exit 3 "$KC" verify "$W/gone.tar.gz" --pubkey "$W/k.pub" --trust-keys "$W/trust.json"
expect_grep '^  custody +FAILED +no custody ledger beside the bundle: the chain of custody cannot be shown' "$T_OUT"
expect_grep 'INVALID \(custody check failed\)' "$T_OUT"
expect_exit 3 "$KC" verify "$W/gone.tar.gz" --pubkey "$W/k.pub" --require-custody --json
jq -e '.valid == false and .custody.missing == true' "$T_OUT" >/dev/null || t_fail "json: $(head -c 300 "$T_OUT")"
expect_exit 2 "$KC" verify "$W/gone.tar.gz" --pubkey "$W/k.pub" --require-custody --no-ledger
# the negative twins: nothing asked of custody, or the ledger is there
expect_exit 0 "$KC" verify "$W/gone.tar.gz" --pubkey "$W/k.pub"
expect_grep '^  custody +skipped +no custody ledger beside the bundle' "$T_OUT"
expect_exit 0 "$KC" verify "$a" --pubkey "$W/k.pub" --require-custody
expect_exit 0 "$KC" verify "$a" --pubkey "$W/k.pub" --trust-keys "$W/trust.json"
t_pass

t_summary
