# lib.bash - shared by the rules of tests/lint/ (sourced, not a rule: the
# Makefile runs only tests/lint/[a-z]*.sh).
#
# lint_sources ROOT: the C files the house rules cover, relative to ROOT.
# lint_report RULE VIOLATIONS-FILE: reports the violations a rule found.

LINT_DIRS="util manifest collector rbac formats pipeline cli"

lint_sources() {
	(cd "$1" && for d in $LINT_DIRS; do
		for f in "$d"/*.[ch]; do [ -e "$f" ] && printf '%s\n' "$f"; done
	done)
}

# lint_report RULE VIOLATIONS-FILE: prints each "path:line: message" line
# of the file prefixed with "RULE: " on stderr; returns 1 if there is any.
# (Every rule applies to every file: there are no per-file allowances.)
lint_report() {
	[ -s "$2" ] || return 0
	sed "s/^/$1: /" "$2" >&2
	return 1
}
