# Helpers for kcustody's shell command tests; source it:
#   . "$(dirname "$0")/../lib.sh"     (adjust to where the test lives)
#
#   kc_cluster_up                 start or reuse the loopback cluster, load env.sh
#   kc_admin ARGS...              kubectl as cluster admin (KC_KUBECONFIG)
#   kc_kubeconfig VARIANT         path of kubeconfigs/VARIANT (e.g. token.yaml)
#
#   t_begin NAME                  start a test; its work folder is $T_DIR
#   expect_exit N CMD...          run CMD, stdout/stderr to $T_OUT/$T_ERR
#   expect_grep PATTERN FILE      extended regex must match in FILE
#   expect_no_grep PATTERN FILE   must not match (FILE must exist)
#   t_fail MSG                    mark the current test failed (it goes on)
#   t_pass                        end the current test
#   t_summary                     "N passed, N failed"; non-zero on failures
#
# Fixtures and shared steps (each defined once, here; a file that needs
# one calls it rather than keeping its own copy):
#   kc_bundle PATH KEY [SIZE]     a real bundle at PATH: SIZE (4096) random
#                                 bytes sealed by `kcustody seal --key KEY`.
#                                 The ledger seal writes beside it is moved
#                                 to PATH.seal-ledger (tests write their
#                                 own). If seal fails, the current test
#                                 fails with seal's message and it returns
#                                 1: there is no stand-in (random bytes used
#                                 to replace a failed seal silently).
#   kc_sealed_bundle PATH KEY SIZE [OPTION...]
#                                 kc_bundle, then the ledger's first entry:
#                                 `custody append PATH --action sealed --key
#                                 KEY OPTION...` (e.g. $T, --trust-keys F).
#                                 A refused append fails the current test
#                                 and returns 1 (it was ignored before).
#   kc_purge_ns NS...             delete namespaces and wait until the
#                                 namespace controller has removed them (pod
#                                 finalizers a test set are cleared first);
#                                 without a controller manager, by hand (their
#                                 RBAC, service accounts, pods, configmaps,
#                                 secrets, then the namespace's finalizers);
#                                 best effort, for cleanup: never fails.
#   kc_audit_pieces DIR           the pieces of an audit log folder in
#                                 kcustody's order, decompressed: backups
#                                 audit-<time>.log[.gz] oldest first, then
#                                 audit.log.
#   kc_audit_vs_jq NAME MIN LOG ALL FILTER [AUDIT-OPTION...]
#                                 `kcustody audit --audit-log LOG --no-redact
#                                 AUDIT-OPTION...` must exit 0 and print
#                                 exactly the lines of ALL (kc_audit_pieces
#                                 LOG, saved) that jq's FILTER selects, at
#                                 least MIN of them (0 where an empty
#                                 selection is the point).
#                                 jq must succeed too. Uses $T_OUT, $T_ERR.
#
# A test passes if nothing called t_fail before it ended (t_pass, the next
# t_begin or t_summary end it). Passing tests' folders are deleted, failing
# ones are kept and their path printed. The expect_* helpers always return 0
# so a failure never aborts a `set -e` script; no `|| true` needed. A
# t_fail outside any test (in setup, or after a t_pass) is counted as a
# failure of its own: it used to be dropped by the next t_begin.
# shellcheck shell=bash

KC_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export KC_REPO

T_PASSED=0 T_FAILED=0 T_NAME='' T_DIR='' T_OUT='' T_ERR='' T_BAD=0

kc_cluster_up() {
	local dir=${KCUSTODY_CLUSTER_DIR:-/tmp/kcustody-cluster}
	"$KC_REPO/tests/cluster/start.sh" "$dir" >/dev/null || return 1
	# shellcheck source=/dev/null
	. "$dir/env.sh"
}

kc_admin() { kubectl --kubeconfig "$KC_KUBECONFIG" "$@"; }

kc_kubeconfig() { printf '%s/%s\n' "$KC_KUBECONFIG_DIR" "$1"; }

# End the open test, if any, counting it.
t_end_() {
	[ -n "$T_NAME" ] || return 0
	if [ "$T_BAD" = 0 ]; then
		T_PASSED=$((T_PASSED + 1))
		printf 'ok   %s\n' "$T_NAME"
		rm -rf "$T_DIR"
	else
		T_FAILED=$((T_FAILED + 1))
		printf 'FAIL %s (work folder kept: %s)\n' "$T_NAME" "$T_DIR"
	fi
	T_NAME='' T_DIR='' T_OUT='' T_ERR='' T_BAD=0
}

t_begin() {
	t_end_
	T_NAME=$1 T_BAD=0
	T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-test.XXXX")
	T_OUT=$T_DIR/stdout T_ERR=$T_DIR/stderr
	: >"$T_OUT"
	: >"$T_ERR"
}

t_fail() {
	printf '  FAIL %s: %s\n' "${T_NAME:-(outside any test)}" "$*"
	if [ -n "$T_NAME" ]; then
		T_BAD=1
	else
		T_FAILED=$((T_FAILED + 1))
	fi
}

t_pass() { t_end_; }

expect_exit() {
	local want=$1 rc=0
	shift
	"$@" >"$T_OUT" 2>"$T_ERR" || rc=$?
	if [ "$rc" != "$want" ]; then
		t_fail "expected exit $want, got $rc: $*"
		sed 's/^/    stderr: /' "$T_ERR" | tail -n 5
	fi
	return 0
}

expect_grep() {
	if [ ! -e "$2" ]; then
		t_fail "expect_grep: no such file: $2"
	elif ! grep -Eq -- "$1" "$2"; then
		t_fail "pattern '$1' not found in $2"
	fi
	return 0
}

expect_no_grep() {
	if [ ! -e "$2" ]; then
		t_fail "expect_no_grep: no such file: $2"
	elif grep -Eq -- "$1" "$2"; then
		t_fail "pattern '$1' unexpectedly found in $2: $(grep -Em1 -- "$1" "$2" | cut -c1-200)"
	fi
	return 0
}

kc_bundle() { # PATH KEY [SIZE]
	local out=$1 key=$2 size=${3:-4096} st rc=0
	st=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-stage.XXXX") || { t_fail "kc_bundle: mktemp failed"; return 1; }
	head -c "$size" /dev/urandom >"$st/evidence.bin"
	"${KCUSTODY_BIN:-$KC_REPO/kcustody}" seal "$st" -o "$out" --key "$key" >/dev/null 2>"$st.err" || rc=$?
	if [ "$rc" != 0 ] || [ ! -s "$out" ]; then
		t_fail "kc_bundle: kcustody seal exit $rc, no bundle at $out: $(tail -n 3 "$st.err")"
		rm -rf "$st" "$st.err"
		return 1
	fi
	rm -rf "$st" "$st.err"
	[ ! -e "$out.custody.jsonl" ] || mv "$out.custody.jsonl" "$out.seal-ledger"
}

kc_sealed_bundle() { # PATH KEY SIZE [custody append OPTION...]
	local out=$1 key=$2 size=$3 rc=0
	shift 3
	kc_bundle "$out" "$key" "$size" || return 1
	"${KCUSTODY_BIN:-$KC_REPO/kcustody}" custody append "$out" --action sealed --key "$key" "$@" \
		>/dev/null 2>"$out.append-err" || rc=$?
	if [ "$rc" != 0 ]; then
		t_fail "kc_sealed_bundle: custody append sealed exit $rc: $(tail -n 3 "$out.append-err")"
		rm -f "$out.append-err"
		return 1
	fi
	rm -f "$out.append-err"
}

kc_purge_ns() { # NS...
	local ns i p
	for ns in "$@"; do
		# a pod a test kept with a finalizer would hold its namespace forever
		for p in $(kc_admin -n "$ns" get pods -o json 2>/dev/null |
			jq -r '.items[] | select((.metadata.finalizers // []) | length > 0) | .metadata.name'); do
			kc_admin -n "$ns" patch pod "$p" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
		done
		kc_admin delete namespace "$ns" --wait=false >/dev/null 2>&1
	done
	for ns in "$@"; do
		# the namespace controller empties and removes it; wait (bounded)
		for ((i = 0; i < 150; i++)); do
			kc_admin get namespace "$ns" >/dev/null 2>&1 || break
			sleep 0.2
		done
		kc_admin get namespace "$ns" >/dev/null 2>&1 || continue
		# no controller manager (KCUSTODY_CONTROLLERS=none), or it is stuck: by hand
		kc_admin delete rolebindings,roles,serviceaccounts,pods,configmaps,secrets --all -n "$ns" >/dev/null 2>&1
		kc_admin get namespace "$ns" -o json 2>/dev/null | jq '.spec.finalizers = []' |
			kc_admin replace --raw "/api/v1/namespaces/$ns/finalize" -f - >/dev/null 2>&1
	done
	return 0
}

kc_audit_pieces() { # DIR
	local f
	for f in $(cd "$1" && printf '%s\n' audit-[0-9][0-9][0-9][0-9]-*.log audit-[0-9][0-9][0-9][0-9]-*.log.gz | sort); do
		[ -e "$1/$f" ] || continue	# a pattern that matched nothing
		zcat -f "$1/$f" || return 1
	done
	cat "$1/audit.log"
}

kc_audit_vs_jq() { # NAME MIN LOG ALL FILTER [AUDIT-OPTION...]
	local name=$1 min=$2 log=$3 all=$4 jqf=$5 n rc=0
	shift 5
	expect_exit 0 "${KCUSTODY_BIN:-$KC_REPO/kcustody}" audit --audit-log "$log" --no-redact "$@"
	jq -Rr "select(fromjson | $jqf)" "$all" >"$T_DIR/jq.out" 2>"$T_DIR/jq.err" || rc=$?
	if [ "$rc" != 0 ]; then
		t_fail "$name: jq exit $rc: $(head -n 2 "$T_DIR/jq.err")"
		return 0
	fi
	n=$(wc -l <"$T_DIR/jq.out")
	if ! cmp -s "$T_OUT" "$T_DIR/jq.out"; then
		t_fail "$name: kcustody ($(wc -l <"$T_OUT") lines) differs from jq ($n lines)"
		diff <(sort "$T_OUT") <(sort "$T_DIR/jq.out") | head -n 4 | cut -c1-200
	elif [ "$n" -lt "$min" ]; then
		t_fail "$name: only $n lines matched, want at least $min (the filter tests nothing)"
	fi
	return 0
}

t_summary() {
	t_end_
	printf '%d passed, %d failed\n' "$T_PASSED" "$T_FAILED"
	[ "$T_FAILED" = 0 ]
}

# kc_proof_sars FINDINGS.json  ->  a v1 List of SubjectAccessReviews, one per
# finding that carries a "request" (its proof), in the order of the
# findings, built as the API server builds one for that real request: the
# service account's user and groups, and only the attributes the request
# has (no namespace for a cluster-scoped resource).
kc_proof_sars() {
	jq '{apiVersion: "v1", kind: "List", items: [.findings[] | select(.request != null) |
		("system:serviceaccount:" + .subject.namespace + ":" + .subject.name) as $u |
		{apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview",
		 spec: ({user: $u, groups: ["system:serviceaccounts", ("system:serviceaccounts:" + .subject.namespace), "system:authenticated"]} +
		   (if .request.nonResourceURL then {nonResourceAttributes: {verb: .request.verb, path: .request.nonResourceURL}}
		    else {resourceAttributes: (.request | {verb, group: .apiGroup, resource, subresource, namespace, name} |
		      with_entries(select(.value != null)))} end))}]}' "$1"
}
