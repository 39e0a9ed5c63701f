#!/bin/bash
# kcustody audit on a generated log of a few hundred MB, cut into rotated
# pieces (every second backup gzip'd), against jq running the same filters
# over the same pieces in the same order.  No cluster needed.
#
#   KCUSTODY_BIN=./kcustody bash tests/cmd/test_audit_big.sh
#   KCUSTODY_AUDIT_BIG=300M   size of the generated log (default 300M)
# shellcheck disable=SC2016
set -u
. "$(dirname "$0")/../lib.sh"

K=${KCUSTODY_BIN:-$KC_REPO/kcustody}
SIZE=${KCUSTODY_AUDIT_BIG:-300M}
SEED=11
CANARY=KCUSTODY-CANARY-$SEED
AG='(.user.username as $u | .impersonatedUser.username as $i | ["system:serviceaccount:ai-agents:kagent","system:serviceaccount:llm-gateway:gateway"] | index([$u]) != null or index([$i]) != null)'

if ! command -v jq >/dev/null; then
	echo "skip: jq is needed"
	exit 0
fi
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-audit-big.XXXX")
trap 'rm -rf "$LOGS"' EXIT

t_begin "audit/big: generate $SIZE in rotated pieces"
python3 "$KC_REPO/tests/cmd/test_audit_gen.py" --bytes "$SIZE" --seed $SEED --split "$LOGS" --pieces 7 --gzip-every 2 ||
	t_fail "generator failed"
kc_audit_pieces "$LOGS" >"$LOGS/.all" || t_fail "cannot read the pieces"
[ "$(cd "$LOGS" && ls | grep -c '\.log\.gz$')" -ge 1 ] || t_fail "no gzip'd pieces"
t_pass

big_vs_jq() { # NAME JQFILTER KCUSTODY-ARGS...  (one test: kc_audit_vs_jq, tests/lib.sh)
	t_begin "audit/big: $1 equals jq"
	kc_audit_vs_jq "$1" 1 "$LOGS" "$LOGS/.all" "$2" "${@:3}"
	t_pass
}

big_vs_jq sensitive-reads '(.verb=="get" or .verb=="list" or .verb=="watch") and (.objectRef.resource=="secrets" or .objectRef.resource=="configmaps" or .objectRef.resource=="persistentvolumeclaims")' \
	--preset sensitive-reads
big_vs_jq agents-denied "$AG"' and (.annotations["authorization.k8s.io/decision"]=="forbid" or .responseStatus.code==401 or .responseStatus.code==403)' \
	--sa ai-agents/kagent --sa llm-gateway/gateway --preset denied
n=$(wc -l <"$LOGS/.all")
since=$(sed -n "$((n / 10))p" "$LOGS/.all" | jq -r .requestReceivedTimestamp)
until=$(sed -n "$((n / 3))p" "$LOGS/.all" | jq -r .requestReceivedTimestamp)
big_vs_jq window-ns-verb ".requestReceivedTimestamp >= \"$since\" and .requestReceivedTimestamp < \"$until\" and .objectRef.namespace==\"payments\" and (.verb==\"create\" or .verb==\"patch\")" \
	--since "$since" --until "$until" --namespace payments --verb create --verb patch

t_begin "audit/big: redaction leaves no canary and keeps the other lines"
"$K" audit --audit-log "$LOGS" --resource secrets --resource configmaps >"$T_DIR/red" 2>"$T_ERR" || t_fail "exit $?"
"$K" audit --audit-log "$LOGS" --resource secrets --resource configmaps --no-redact >"$T_DIR/raw" 2>>"$T_ERR" || t_fail "exit $?"
grep -q "$CANARY" "$T_DIR/raw" || t_fail "the generated log has no canary to redact"
expect_no_grep "$CANARY" "$T_DIR/red"
expect_no_grep "$(printf %s "$CANARY" | base64)" "$T_DIR/red"
[ "$(wc -l <"$T_DIR/red")" = "$(wc -l <"$T_DIR/raw")" ] || t_fail "redaction changed the number of lines"
# lines without a body are untouched; redacted ones carry the original's hash
paste -d '\n' "$T_DIR/raw" "$T_DIR/red" | python3 -c '
import hashlib, json, sys
lines = sys.stdin.read().split("\n")
bad = red = 0
for raw, out in zip(lines[0::2], lines[1::2]):
    if raw == out:
        continue
    red += 1
    ev = json.loads(out)
    h = hashlib.sha256(raw.encode()).hexdigest()
    for k in ("requestObject", "responseObject"):
        if k in ev and ev[k] != {"kcustody.redacted": {"sha256": h}}:
            bad += 1
    r = json.loads(raw)
    for k in ("requestObject", "responseObject"):
        r.pop(k, None); ev.pop(k, None)
    if r != ev:
        bad += 1
print(red, bad)
sys.exit(1 if bad or not red else 0)' >"$T_DIR/check" || t_fail "redaction markers wrong: $(cat "$T_DIR/check")"
t_pass

t_begin "audit/big: summary accounts for every piece and line"
expect_exit 0 "$K" audit --audit-log "$LOGS" --summary --sa ai-agents/kagent
[ "$(jq .totals.lines "$T_OUT")" = "$(wc -l <"$LOGS/.all")" ] || t_fail "line total"
[ "$(jq '.sources | length' "$T_OUT")" = "$(cd "$LOGS" && ls | wc -l)" ] || t_fail "not every piece read"
[ "$(jq '.sources[-1].name' -r "$T_OUT")" = audit.log ] || t_fail "current file not last"
[ "$(jq '.gaps | length' "$T_OUT")" = 0 ] || t_fail "gaps in a continuous log: $(jq -c .gaps "$T_OUT" | cut -c1-200)"
[ "$(jq '.overlaps | length' "$T_OUT")" = 0 ] || t_fail "overlaps in a continuous log: $(jq -c .overlaps "$T_OUT" | cut -c1-200)"
[ "$(jq '.totals.matched' "$T_OUT")" = "$(jq -Rr 'select(fromjson | .user.username=="system:serviceaccount:ai-agents:kagent" or .impersonatedUser.username=="system:serviceaccount:ai-agents:kagent")' "$LOGS/.all" | wc -l)" ] ||
	t_fail "matched count differs from jq"
t_pass
t_summary
