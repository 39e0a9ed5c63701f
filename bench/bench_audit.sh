#!/bin/bash
# Audit-log extraction: kcustody against the tools a responder would use,
# in one run, on a generated log of >= 1 GiB (plain) and its gzip'd copy.
#
#   KCUSTODY_BIN=./kcustody bash bench/bench_audit.sh
#   KCUSTODY_BENCH_DIR=/var/tmp/kcustody-bench   where the log is kept (reused)
#   KCUSTODY_BENCH_SIZE=1G                       size of the generated log
#
# The query is the briefing's: agent service accounts reading secrets or
# configmaps.  Its grep (`"user".*agent|"serviceAccount"`) is a heuristic
# that misses agents whose names lack "agent" (llm-gateway:gateway here), so
# it is run as written once (to show what it returns), then adapted so its
# result set is comparable: the grep also passes the agent namespaces and jq
# selects exactly the agents (user or impersonated user) and the resources.
# Pure jq runs the same select over everything.  kcustody runs with
# --no-redact so that its lines can be compared with jq's (jq -c of both).
# Targets: kcustody >= 5x faster than grep|jq on plain input, peak RSS
# < 64 MiB.  Exit status 1 when a target or an equality check fails.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
K=${KCUSTODY_BIN:-$HERE/kcustody}
DIR=${KCUSTODY_BENCH_DIR:-/var/tmp/kcustody-bench}
SIZE=${KCUSTODY_BENCH_SIZE:-1G}
LOG=$DIR/audit-$SIZE.log
GZ=$LOG.gz
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-bench-audit.XXXX")
trap 'rm -rf "$W"' EXIT
TIME=/usr/bin/time

for t in jq grep gzip python3 "$TIME"; do
	command -v "$t" >/dev/null || { echo "bench_audit: $t is needed (apt-get install time jq)" >&2; exit 2; }
done
[ -x "$K" ] || { echo "bench_audit: no kcustody at $K (make, or set KCUSTODY_BIN)" >&2; exit 2; }

mkdir -p "$DIR"
if [ ! -s "$LOG" ]; then
	echo "generating $LOG (seed 7) ..."
	python3 "$HERE/tests/cmd/test_audit_gen.py" --bytes "$SIZE" --seed 7 -o "$LOG.tmp"
	mv "$LOG.tmp" "$LOG"
fi
if [ ! -s "$GZ" ] || [ "$GZ" -ot "$LOG" ]; then
	echo "compressing $GZ ..."
	gzip -c "$LOG" >"$GZ.tmp"
	mv "$GZ.tmp" "$GZ"
fi

AGENTS=(system:serviceaccount:ai-agents:kagent system:serviceaccount:ai-agents:rag-indexer
	system:serviceaccount:ai-agents:mcp-tools system:serviceaccount:llm-gateway:gateway)
list=$(printf '"%s",' "${AGENTS[@]}")
list=${list%,}
SEL="select((.objectRef.resource==\"secrets\" or .objectRef.resource==\"configmaps\") and ((.user.username|IN($list)) or (.impersonatedUser.username|IN($list))))"
BRIEF_GREP='"user".*agent|"serviceAccount"'
BRIEF_JQ='select(.objectRef.resource=="secrets" or .objectRef.resource=="configmaps")'
GREP="$BRIEF_GREP|system:serviceaccount:(ai-agents|llm-gateway):"
KARGS=(--resource secrets --resource configmaps)
for a in "${AGENTS[@]}"; do KARGS+=(--user "$a"); done

bytes=$(stat -c %s "$LOG")
gzbytes=$(stat -c %s "$GZ")
echo "input: $LOG ($bytes bytes, $(wc -l <"$LOG") lines), $GZ ($gzbytes bytes)"
echo "host: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%d MiB", $2/1024}' /proc/meminfo); kcustody: $("$K" --version)"
cat "$LOG" "$GZ" >/dev/null	# page cache warm for everyone

# run NAME OUTFILE CMD: time a shell pipeline, keep its output
declare -A SECS RSS LINES
run() {
	local name=$1 out=$2 cmd=$3
	"$TIME" -f '%e %M' -o "$W/$name.time" bash -c "set -o pipefail; $cmd" >"$out" 2>"$W/$name.err" || {
		local rc=$?
		# kcustody exits 1 when it set lines aside; anything else is a failure
		[ "$rc" = 1 ] && grep -q 'kcustody: warning' "$W/$name.err" || {
			echo "bench_audit: '$name' failed ($rc):" >&2
			tail -n 3 "$W/$name.err" >&2
			exit 1
		}
	}
	read -r SECS[$name] RSS[$name] <"$W/$name.time"
	LINES[$name]=$(wc -l <"$out")
}

q() { printf '%q' "$1"; }
KQ=$(q "$K")
KA=$(printf '%q ' "${KARGS[@]}")

echo "running (each once, plain first, then gzip) ..."
run brief-grep-jq "$W/brief.out" "grep -E $(q "$BRIEF_GREP") $(q "$LOG") | jq -c $(q "$BRIEF_JQ")"
run grep-jq "$W/grepjq.out" "grep -E $(q "$GREP") $(q "$LOG") | jq -c $(q "$SEL")"
run jq "$W/jq.out" "jq -c $(q "$SEL") $(q "$LOG")"
run kcustody "$W/k.out" "$KQ audit --audit-log $(q "$LOG") $KA --no-redact"
run kcustody-redact "$W/kr.out" "$KQ audit --audit-log $(q "$LOG") $KA"
run kcustody-summary "$W/ks.out" "$KQ audit --audit-log $(q "$LOG") $KA --summary"
run gz-grep-jq "$W/gzgrepjq.out" "zcat $(q "$GZ") | grep -E $(q "$GREP") | jq -c $(q "$SEL")"
run gz-jq "$W/gzjq.out" "zcat $(q "$GZ") | jq -c $(q "$SEL")"
run gz-kcustody "$W/gzk.out" "$KQ audit --audit-log $(q "$GZ") $KA --no-redact"
run gz-zcat "$W/zcat.out" "zcat $(q "$GZ") | wc -l"
LINES[gz-zcat]=$(cat "$W/zcat.out")

fail=0
jq -c . "$W/k.out" >"$W/k.norm"
jq -c . "$W/gzk.out" >"$W/gzk.norm"
check() { # A B
	if cmp -s "$1" "$2"; then echo "  same lines: $(basename "$1") = $(basename "$2")"
	else echo "  DIFFERENT: $(basename "$1") != $(basename "$2")"; fail=1; fi
}
echo "equality (jq -c of kcustody's lines against jq's output, in order):"
check "$W/k.norm" "$W/grepjq.out"
check "$W/k.norm" "$W/jq.out"
check "$W/gzk.norm" "$W/gzgrepjq.out"
check "$W/gzk.norm" "$W/gzjq.out"
check "$W/k.out" "$W/gzk.out"
extra=$(comm -23 <(sort "$W/brief.out") <(sort "$W/jq.out") | wc -l)
missed=$(comm -13 <(sort "$W/brief.out") <(sort "$W/jq.out") | wc -l)
echo "  the briefing's query as written: ${LINES[brief-grep-jq]} lines, $extra not by an agent, $missed agent events missed"
red=$(jq -r '.totals.redacted' "$W/ks.out")
echo "  redaction (default): ${LINES[kcustody-redact]} lines, $red redacted"

mb() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%8.0f", (s > 0 ? b / s / 1048576 : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%6.1fx", (b > 0 ? a / b : 0) }'; }
printf '\n%-18s %8s %8s %9s %10s %8s\n' run seconds 'MiB/s' 'vs kc' 'peak RSS' lines
for n in brief-grep-jq grep-jq jq kcustody kcustody-redact kcustody-summary gz-zcat gz-grep-jq gz-jq gz-kcustody; do
	base=${SECS[kcustody]}
	case $n in gz-*) base=${SECS[gz-kcustody]} ;; esac
	rss="-"
	case $n in kcustody* | gz-kcustody) rss="$((RSS[$n] / 1024)) MiB" ;; esac
	printf '%-18s %8.2f %s %9s %10s %8d\n' "$n" "${SECS[$n]}" "$(mb "$bytes" "${SECS[$n]}")" \
		"$(ratio "${SECS[$n]}" "$base")" "$rss" "${LINES[$n]}"
done
echo "(MiB/s of the uncompressed log; 'vs kc' = time / kcustody's time on the same input;"
echo " peak RSS from /usr/bin/time, shown for the single-process runs only; gz-zcat is"
echo " zcat alone, its 'lines' the line count of the log)"

r=$(awk -v a="${SECS[grep-jq]}" -v b="${SECS[kcustody]}" 'BEGIN { print (a / b >= 5) ? "ok" : "MISSED" }')
echo
echo "target >= 5x faster than grep|jq on plain input: $(ratio "${SECS[grep-jq]}" "${SECS[kcustody]}") $r"
[ "$r" = ok ] || fail=1
for n in kcustody kcustody-redact kcustody-summary gz-kcustody; do
	if [ "${RSS[$n]}" -ge $((64 * 1024)) ]; then
		echo "target peak RSS < 64 MiB: $n used $((RSS[$n] / 1024)) MiB MISSED"
		fail=1
	fi
done
[ "$fail" = 0 ] && echo "target peak RSS < 64 MiB: ok (max $(( $(printf '%s\n' "${RSS[kcustody]}" "${RSS[kcustody-redact]}" "${RSS[kcustody-summary]}" "${RSS[gz-kcustody]}" | sort -n | tail -1) / 1024 )) MiB)"

# ---- managed clusters' exports ----------------------------------------
# The same query on each provider's form of one generated log
# (tests/cmd/test_audit_cloud_gen.py), kcustody against jq doing the same
# selection on the same file: jq has to unwrap each form (CloudWatch's
# message strings, the S3 export's time prefix, AKS's properties.log) and,
# for GKE, select on methodName and principalEmail.  GKE carries no
# impersonation, so its result is the agents' own requests only (fewer
# lines).  The generator holds the log in memory: keep this size modest.
CSIZE=${KCUSTODY_BENCH_CLOUD_SIZE:-256M}
CDIR=$DIR/cloud-$CSIZE
if [ ! -s "$CDIR/native/audit.log" ]; then
	echo
	echo "generating the provider forms of a $CSIZE log in $CDIR (seed 7) ..."
	rm -rf "$CDIR.tmp"
	python3 "$HERE/tests/cmd/test_audit_cloud_gen.py" --bytes "$CSIZE" --seed 7 --out "$CDIR.tmp" \
		--only native,eks-cwl,eks-s3,gke-array,gke-sink,aks-lines,aks-doc
	rm -rf "$CDIR"
	mv "$CDIR.tmp" "$CDIR"
fi
GSEL="select((.protoPayload.methodName | split(\".\") | .[-2]) as \$r | (\$r==\"secrets\" or \$r==\"configmaps\") and (.protoPayload.authenticationInfo.principalEmail | IN($list)))"
cat_all() { printf 'find %q -type f | sort | xargs cat' "$1"; }
declare -A JQCMD
JQCMD[native]="jq -c $(q "$SEL") $(q "$CDIR/native/audit.log")"
JQCMD[eks-cwl]="jq -c $(q ".events[] | .message | fromjson | $SEL") $(q "$CDIR/eks-cwl/filter-log-events.json")"
JQCMD[eks-s3]="$(cat_all "$CDIR/eks-s3") | zcat | sed 's/^[^ ]* //' | jq -c $(q "$SEL")"
JQCMD[gke-array]="jq -c $(q ".[] | $GSEL") $(q "$CDIR/gke-array/read.json")"
JQCMD[gke-sink]="$(cat_all "$CDIR/gke-sink") | jq -c $(q "$GSEL")"
JQCMD[aks-lines]="$(cat_all "$CDIR/aks-lines") | jq -c $(q "select(.category==\"kube-audit\") | .properties.log | fromjson | $SEL")"
JQCMD[aks-doc]="jq -c $(q ".records[] | select(.category==\"kube-audit\") | .properties.log | fromjson | $SEL") $(q "$CDIR/aks-doc/PT1H.json")"
echo
echo "provider forms of a $CSIZE log (kcustody --no-redact, then jq, on the same files):"
printf '%-10s %10s %8s %8s %10s %8s %8s %10s %8s %s\n' form bytes 'kc s' 'kc MiB/s' 'kc RSS' 'jq s' 'jq MiB/s' 'jq RSS' lines same
for f in native eks-cwl eks-s3 gke-array gke-sink aks-lines aks-doc; do
	fb=$(find "$CDIR/$f" -type f -print0 | sort -z | xargs -0 zcat -f | wc -c)	# also warms the cache
	run "c-kc-$f" "$W/c-kc-$f.out" "$KQ audit --audit-log $(q "$CDIR/$f") $KA --no-redact"
	run "c-jq-$f" "$W/c-jq-$f.out" "${JQCMD[$f]}"
	jq -c . "$W/c-kc-$f.out" >"$W/c-kc-$f.norm"
	same=no
	case $f in
	gke-*) [ "${LINES[c-kc-$f]}" = "${LINES[c-jq-$f]}" ] && same="yes (count)" ;;
	*) cmp -s "$W/c-kc-$f.norm" "$W/c-jq-$f.out" && same=yes ;;
	esac
	[ "$same" = no ] && fail=1
	printf '%-10s %10d %8.2f %s %7d MiB %8.2f %s %6d MiB %8d %s\n' "$f" "$fb" "${SECS[c-kc-$f]}" \
		"$(mb "$fb" "${SECS[c-kc-$f]}")" "$((RSS[c-kc-$f] / 1024))" "${SECS[c-jq-$f]}" \
		"$(mb "$fb" "${SECS[c-jq-$f]}")" "$((RSS[c-jq-$f] / 1024))" "${LINES[c-kc-$f]}" "$same"
done
echo "(bytes: the form's files, decompressed (eks-s3 is gzip'd); MiB/s of those bytes; RSS: peak of the"
echo " whole pipeline's largest process as /usr/bin/time reports it for 'bash -c'; 'same': kcustody's"
echo " lines, through jq -c, equal jq's in order, or for GKE the same number of lines)"
exit "$fail"
