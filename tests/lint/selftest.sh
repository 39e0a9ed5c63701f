#!/bin/bash
# selftest.sh - every rule of tests/lint/ fails on a planted violation.
# Copies the source folders to a scratch tree, plants one violation per
# rule there (never in the real tree) and expects that rule's script to
# exit 1; then expects it to pass on the unplanted copy.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-lint.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
fails=0
fresh() {
	rm -rf "$tmp/tree"
	mkdir -p "$tmp/tree"
	(cd "$repo" && tar -cf - util manifest collector rbac formats pipeline cli) | tar -xf - -C "$tmp/tree"
}
# expect RULE SCRIPT PLANT-COMMAND: the rule passes on the copy, fails planted
expect() {
	local name=$1 script=$2 plant=$3
	fresh
	if ! bash "$here/$script" "$tmp/tree" >/dev/null 2>&1; then
		echo "lint selftest: $name: fails on the unplanted tree" >&2
		fails=$((fails + 1))
		return
	fi
	(cd "$tmp/tree" && eval "$plant")
	if bash "$here/$script" "$tmp/tree" >/dev/null 2>"$tmp/err"; then
		echo "lint selftest: $name: planted violation NOT caught" >&2
		fails=$((fails + 1))
	else
		echo "lint selftest: $name: caught ($(head -1 "$tmp/err"))"
	fi
}
expect "upward include (rbac -> formats)" layers.sh \
	'printf "#include \"formats/cani.h\"\n" >>rbac/eval.c'
expect "upward include (util -> manifest)" layers.sh \
	'printf "#include \"manifest/digest.h\"\n" >>util/buf.h'
expect "unknown layer" layers.sh \
	'printf "#include \"tests/unit/harness.h\"\n" >>collector/collect.c'
[ "$fails" = 0 ] || { echo "lint selftest: $fails rule(s) not proven" >&2; exit 1; }
