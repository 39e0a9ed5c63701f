#!/bin/bash
# selftest.sh - every rule of tests/lint/ fails on a planted violation.
# Copies the source folders to a scratch
# tree, checks that every rule passes on it, then plants one violation at a
# time there (never in the real tree) and expects that rule's script to
# exit 1; a few plantings that must NOT fail (expect_ok) guard against
# false positives.  Each planting is undone before the next.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-lint.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
fails=0
# The scratch tree is made once ($tmp/base, and $tmp/tree to plant in);
# after each planting the files it touched (newer than a marker) are put
# back from base, which is much cheaper than copying the tree again.
copy_tree() {
	mkdir -p "$tmp/base"
	(cd "$repo" && tar -cf - util manifest collector rbac formats pipeline cli) | tar -xf - -C "$tmp/base"
	mkdir -p "$tmp/base/tests/lint"
	cp -a "$tmp/base" "$tmp/tree"
}
restore() {
	local f
	(cd "$tmp/tree" && find . -type f -newer "$tmp/marker") | while IFS= read -r f; do
		if [ -e "$tmp/base/$f" ]; then cp -p "$tmp/base/$f" "$tmp/tree/$f"; else rm -f "$tmp/tree/$f"; fi
	done
}
copy_tree
# Every rule passes on the unplanted copy (else a planted failure proves nothing).
for script in "$here"/[a-z]*.sh; do
	case $script in */selftest.sh) continue ;; esac
	if ! bash "$script" "$tmp/tree" >/dev/null 2>"$tmp/err"; then
		echo "lint selftest: $(basename "$script") fails on the unplanted tree ($(head -1 "$tmp/err"))" >&2
		fails=$((fails + 1))
	fi
done
# plant_in PLANT-COMMAND: run it in the scratch tree, after a marker
plant_in() {
	sleep 0.01; touch "$tmp/marker"; sleep 0.01
	(cd "$tmp/tree" && eval "$1")
}
# expect RULE SCRIPT PLANT-COMMAND: the rule fails once the violation is planted
expect() {
	local name=$1 script=$2
	plant_in "$3"
	if bash "$here/$script" "$tmp/tree" >/dev/null 2>"$tmp/err"; then
		echo "lint selftest: $name: planted violation NOT caught" >&2
		fails=$((fails + 1))
	else
		echo "lint selftest: $name: caught ($(head -1 "$tmp/err"))"
		proven="$proven $script "
	fi
	restore
}
proven=""
# expect_ok RULE SCRIPT PLANT-COMMAND: what is planted is allowed (no false
# positive on a checked call, a comment, a string, a comparison of names)
expect_ok() {
	local name=$1 script=$2
	plant_in "$3"
	if bash "$here/$script" "$tmp/tree" >/dev/null 2>"$tmp/err"; then
		echo "lint selftest: $name: allowed"
	else
		echo "lint selftest: $name: wrongly refused ($(head -1 "$tmp/err"))" >&2
		fails=$((fails + 1))
	fi
	restore
}
# plant FILE TEXT: append a function holding TEXT to FILE (printf format)
plant() {
	printf "\nstatic void kc_lint_planted(char *b, size_t n, const char *x, const char *y)\n{\n$2\n}\n" >>"$1"
}

expect "upward include (rbac -> formats)" layers.sh \
	'printf "#include \"formats/cani.h\"\n" >>rbac/eval.c'
expect "upward include (util -> manifest)" layers.sh \
	'printf "#include \"manifest/digest.h\"\n" >>util/buf.h'
expect "unknown layer" layers.sh \
	'printf "#include \"tests/unit/harness.h\"\n" >>collector/collect.c'

expect "banned call (strcpy)" banned.sh 'plant util/buf.c "\tstrcpy(b, x);"'
expect "banned call (popen, multi-line)" banned.sh 'plant collector/kclient.c "\tFILE *f = popen(\n\t    x, y);"'
expect "banned call (atoi)" banned.sh 'plant rbac/select.c "\tint v = atoi(x);"'
expect_ok "strtok_r, strtol and a comment naming strcpy()" banned.sh \
	'plant util/buf.c "\t/* strcpy(b, x) */ char *s; strtok_r(b, x, &s); strtol(x, NULL, 10);"'

expect "discarded snprintf (unlisted file)" snprintf.sh 'plant rbac/eval.c "\tsnprintf(b, n, \"%s\", x);"'
expect "(void)snprintf over three lines" snprintf.sh \
	'plant util/strset.c "\t(void)snprintf(b,\n\t    n,\n\t    \"%s\", x);"'
expect "snprintf as the body of an if" snprintf.sh 'plant manifest/digest.c "\tif (x)\n\t\tsnprintf(b, n, \"%s\", y);"'
expect "vsnprintf compared with 0 only" snprintf.sh \
	'plant util/log.c "\tva_list ap; if (vsnprintf(b, n, x, ap) < 0) b[0] = 0;"'
# the pending list of issue 12 is gone: such a file excuses nothing
expect "a violation listed in an old-style pending.txt" snprintf.sh \
	'echo "snprintf rbac/eval.c 1" >tests/lint/pending.txt && plant rbac/eval.c "\tsnprintf(b, n, \"%s\", x);"'
expect_ok "snprintf checked against the size, in a comment, in a string" snprintf.sh \
	'plant util/buf.c "\tint k = snprintf(b, n, \"snprintf(\");\n\tif (k < 0 || (size_t)k >= n) return; /* snprintf(b, n, x); */"'

expect "strcmp of a digest (unlisted file)" digest_cmp.sh 'plant rbac/eval.c "\tif (strcmp(x, b->sha256) == 0) return;"'
expect "memcmp of a MAC" digest_cmp.sh 'plant util/buf.c "\tif (memcmp(b, mac, n)) return;"'
expect "strncmp of a hex digest" digest_cmp.sh 'plant collector/names.c "\tif (!strncmp(x, e->v[2].hex, 16)) return;"'
expect "strcmp of a chain hash and of a signature" digest_cmp.sh \
	'plant manifest/ledger.c "\tif (!strcmp(x, last_hash) || !strcmp(y, sig)) return;"'
expect_ok "names, paths and algorithm names compared" digest_cmp.sh \
	'plant util/buf.c "\tif (!strcmp(x, y) || !strcmp(digests->v[0].path, x) || !strcmp(hash_alg, \"sha256\")) return;"'

expect "cJSON_GetObjectItemCaseSensitive on evidence" json_member.sh \
	'plant rbac/eval.c "\tconst cJSON *v = cJSON_GetObjectItemCaseSensitive(o, x);"'
expect "cJSON_GetObjectItem (rbac/diff.c)" json_member.sh 'plant rbac/diff.c "\tcJSON_GetObjectItem(o, x);"'
expect "cJSON_ReplaceItemInObjectCaseSensitive (a status changed)" json_member.sh \
	'plant manifest/archive_local.c "\tcJSON_ReplaceItemInObjectCaseSensitive(it, \"status\", v);"'
expect "cJSON_DeleteItemFromObject" json_member.sh 'plant manifest/manifest.c "\tcJSON_DeleteItemFromObject(m, x);"'
expect_ok "kc_json_get, and cJSON_GetObjectItem in util/json.c" json_member.sh \
	'plant rbac/eval.c "\tkc_json_get(o, x);" && plant util/json.c "\tcJSON_GetObjectItem(o, x);"'

# every rule has at least one planted violation caught (a new rule without
# one, or a lost case, fails here)
for script in "$here"/[a-z]*.sh; do
	b=$(basename "$script")
	case $b in selftest.sh) continue ;; esac
	case $proven in *" $b "*) ;; *)
		echo "lint selftest: $b: no planted violation proves it" >&2
		fails=$((fails + 1)) ;;
	esac
done
[ "$fails" = 0 ] || { echo "lint selftest: $fails rule(s) not proven" >&2; exit 1; }
