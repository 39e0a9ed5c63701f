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
# A test passes if nothing called t_fail before it ended (t_pass, the next
# t_begin or t_summary end it). Passing tests' folders are deleted, failing
# ones are kept and their path printed. The expect_* helpers always return 0
# so a failure never aborts a `set -e` script; no `|| true` needed.
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
	T_BAD=1
	printf '  FAIL %s: %s\n' "${T_NAME:-(no test)}" "$*"
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
