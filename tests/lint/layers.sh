#!/bin/bash
# layers.sh - every #include "DIR/x.h" points at the same layer or one below
# (docs/ARCHITECTURE.md):
#
#   util < manifest < collector < rbac < formats < pipeline < cli
#
# An include of a higher layer is an upward edge: it is what makes cycles
# (rbac <-> collector, say) possible, so it fails the check.  Tests, fuzz
# harnesses and benchmarks sit above everything and are not checked.
# Usage: layers.sh [REPO]   (exit 1 on any violation, listing each)
set -u
repo=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$repo" || exit 2
layers=(util manifest collector rbac formats pipeline cli)
rank() {
	local i
	for i in "${!layers[@]}"; do
		[ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }
	done
	echo -1
}
bad=0 edges=0
for d in "${layers[@]}"; do
	mine=$(rank "$d")
	for f in "$d"/*.[ch]; do
		[ -e "$f" ] || continue
		while IFS= read -r inc; do
			edges=$((edges + 1))
			case $inc in
			*/*) top=${inc%%/*} ;;
			*) top=$d ;;	# "x.h" in the same folder
			esac
			r=$(rank "$top")
			if [ "$r" -lt 0 ]; then
				echo "layers: $f includes \"$inc\": '$top' is not a layer" >&2
				bad=$((bad + 1))
			elif [ "$r" -gt "$mine" ]; then
				echo "layers: $f includes \"$inc\": $d may not include $top (upward)" >&2
				bad=$((bad + 1))
			fi
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	done
done
if [ "$bad" -gt 0 ]; then
	echo "layers: $bad upward include(s) of $edges; see docs/ARCHITECTURE.md" >&2
	exit 1
fi
echo "layers: $edges includes, none upward"
