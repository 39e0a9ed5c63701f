#!/bin/bash
# json_member.sh - one way to read a member of a JSON object: util/json.h.
#
# cJSON's own lookups (cJSON_GetObjectItem, cJSON_GetObjectItemCaseSensitive,
# cJSON_HasObjectItem; and DeleteItemFromObject, DetachItemFromObject,
# ReplaceItemInObject, which change it) act on the FIRST member of a
# repeated key, where jq,
# Go's encoding/json and so the apiserver take the LAST; two commands
# reading the same evidence through different helpers attributed it
# differently (issue 12).  So only util/json.c calls them; everything else
# uses kc_json_get / kc_json_get_mut / kc_json_path / kc_json_str /
# kc_json_str0, and kc_json_set / kc_json_delete to change a member.
# Usage: json_member.sh [ROOT]   (exit 1 on any violation, listing each)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$(cd "$here/../.." && pwd)}
. "$here/lib.bash"
tmp=$(mktemp "${TMPDIR:-/tmp}/kc-lint-json.XXXXXX") || exit 2
trap 'rm -f "$tmp"' EXIT
cd "$root" || exit 2
lint_sources . | grep -v '^util/json\.[ch]$' | perl -e '
	require $ARGV[0];
	while (my $f = <STDIN>) {
		chomp $f;
		my $t = c_text($f);
		while ($t =~ /\b(cJSON_GetObjectItem(?:CaseSensitive)?|cJSON_HasObjectItem|cJSON_(?:Delete|Detach)ItemFromObject(?:CaseSensitive)?|cJSON_ReplaceItemInObject(?:CaseSensitive)?)\s*\(/g) {
			printf "%s:%d: %s takes the first of repeated keys; use kc_json_get/kc_json_str/kc_json_set/kc_json_delete (util/json.h)\n",
			    $f, line_of($t, $-[0]), $1;
		}
	}
' "$here/cscan.pl" >"$tmp" || exit 2
if ! lint_report json_member "$tmp"; then
	echo "json_member: violations found; see docs/ARCHITECTURE.md (House rules)" >&2
	exit 1
fi
echo "json_member: member lookups through util/json.h only"
