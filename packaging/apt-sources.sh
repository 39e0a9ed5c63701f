#!/bin/bash
# Print the machine's own enabled Debian "deb" sources for one suite family
# (default bookworm: bookworm, bookworm-updates, bookworm-security, ...) as
# deb822 stanzas, from /etc/apt/sources.list.d/*.sources and the one-line
# /etc/apt/sources.list(.d/*.list).  No mirror address lives in this
# repository: debootstrap and the roots it makes use what the machine uses.
#   apt-sources.sh [SUITE]            the stanzas
#   apt-sources.sh --mirror [SUITE]   only the first URI serving SUITE itself
set -euo pipefail
mode=stanzas
[ "${1:-}" = --mirror ] && { mode=mirror; shift; }
suite=${1:-bookworm}
etc=${KCUSTODY_APT_ETC:-/etc/apt}

{
	for f in "$etc"/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$suite" 'BEGIN { RS = "" }
		{
			n = split($0, L, "\n"); deb = 0; on = 1; ours = 0; main = 0
			uris = ""; suites = ""; comps = ""; signed = ""
			for (i = 1; i <= n; i++) {
				if (L[i] ~ /^[ \t]*#/) continue
				split(L[i], kv, /:[ \t]*/); key = kv[1]; val = substr(L[i], length(key) + 2)
				sub(/^[ \t]+/, "", val)
				if (key == "Types") { m = split(val, w, /[ \t]+/); for (j = 1; j <= m; j++) if (w[j] == "deb") deb = 1 }
				else if (key == "Enabled" && val ~ /^[Nn]o/) on = 0
				else if (key == "URIs") uris = val
				else if (key == "Components") comps = val
				else if (key == "Signed-By") signed = val
				else if (key == "Suites") {
					m = split(val, w, /[ \t]+/)
					for (j = 1; j <= m; j++) {
						if (w[j] == suite) main = 1
						if (w[j] == suite || index(w[j], suite "-") == 1) { ours = 1; suites = suites (suites ? " " : "") w[j] }
					}
				}
			}
			if (deb && on && ours && uris != "")
				printf "S\t%s\t%s\t%s\t%s\t%d\n", uris, suites, comps, signed, main
		}' "$f"
	done
	for f in "$etc"/sources.list "$etc"/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		# deb [opts] URI SUITE COMPONENTS...
		awk -v suite="$suite" '$1 == "deb" {
			i = 2; signed = ""
			if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { if ($i ~ /signed-by=/) { signed = $i; sub(/.*signed-by=/, "", signed) } i++ } ; if ($i ~ /signed-by=/) { signed = $i; sub(/.*signed-by=/, "", signed); sub(/\]$/, "", signed) } i++ }
			uri = $i; s = $(i + 1); comps = ""
			for (j = i + 2; j <= NF; j++) comps = comps (comps ? " " : "") $j
			if (s == suite || index(s, suite "-") == 1)
				printf "S\t%s\t%s\t%s\t%s\t%d\n", uri, s, comps, signed, (s == suite)
		}' "$f"
	done
} | if [ "$mode" = mirror ]; then
	awk -F '\t' '$6 == 1 { split($2, u, /[ \t]+/); print u[1]; found = 1; exit } END { exit !found }'
else
	awk -F '\t' '{
		printf "Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\n", $2, $3, $4
		if ($5 != "") printf "Signed-By: %s\n", $5
		printf "\n"; found = 1
	} END { exit !found }'
fi
