# lib.bash - shared by the rules of tests/lint/ (sourced, not a rule: the
# Makefile runs only tests/lint/[a-z]*.sh).
#
# lint_sources ROOT: the C files the house rules cover, relative to ROOT.
# lint_pending RULE ROOT VIOLATIONS-FILE: applies the temporary pending list.
#
# tests/lint/pending.txt lists files not yet converted to a rule, one a
# line: "RULE PATH COUNT" (# starts a comment).  A listed file may keep
# exactly COUNT violations of RULE and no more.  The list only shrinks:
#   - more than COUNT violations in a listed file fails (a new one);
#   - fewer fails too, asking for the lower count (a fixed one stays fixed);
#   - none left fails, asking for the line to be removed;
#   - a listed file that does not exist fails.
# Any violation in a file not on the list fails.

LINT_DIRS="util manifest collector rbac formats pipeline cli"

lint_sources() {
	(cd "$1" && for d in $LINT_DIRS; do
		for f in "$d"/*.[ch]; do [ -e "$f" ] && printf '%s\n' "$f"; done
	done)
}

# VIOLATIONS-FILE holds "path:line: message" lines.  Prints those that are
# not covered by the list and every list problem; returns 1 if any.
lint_pending() {
	local rule=$1 root=$2 found=$3 list=$2/tests/lint/pending.txt
	[ -f "$list" ] || list=/dev/null
	awk -v rule="$rule" -v root="$root" '
	FILENAME == ARGV[1] {	# the pending list
		sub(/#.*/, "")
		if (NF == 0) next
		if ($1 != rule) next
		if (NF != 3 || $3 !~ /^[1-9][0-9]*$/) {
			printf "pending.txt: bad line \"%s\" (RULE PATH COUNT)\n", $0
			bad++; next
		}
		want[$2] = $3; order[++nw] = $2
		next
	}
	{
		p = $0; sub(/:.*/, "", p)
		have[p]++; line[p, have[p]] = $0
	}
	END {
		for (p in have)
			if (!(p in want))
				for (i = 1; i <= have[p]; i++) { print line[p, i]; bad++ }
		for (k = 1; k <= nw; k++) {
			p = order[k]
			f = root "/" p
			ok = (getline junk < f) >= 0
			close(f)
			if (!ok) {
				printf "pending.txt: %s %s is listed but does not exist: remove the line\n", rule, p; bad++
			} else if (!(p in have)) {
				printf "pending.txt: %s %s has no violations left: remove the line\n", rule, p; bad++
			} else if (have[p] > want[p]) {
				for (i = 1; i <= have[p]; i++) print line[p, i]
				printf "pending.txt: %s %s has %d violations, %d listed: a new one was added\n", rule, p, have[p], want[p]; bad++
			} else if (have[p] < want[p]) {
				printf "pending.txt: %s %s has %d violations, %d listed: lower the count to %d\n", rule, p, have[p], want[p], have[p]; bad++
			} else pend += have[p]
		}
		printf "#pending %d\n", pend
		exit bad > 0
	}' "$list" "$found"
}
