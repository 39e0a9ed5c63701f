#!/bin/bash
# make bench: every benchmark in bench/, each comparing kcustody with the
# tool a responder would otherwise use, on the same input in the same run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for b in "$here"/bench_*.sh; do
	case "$b" in *"${1:-}"*) ;; *) continue ;; esac
	echo "== $(basename "$b")"
	bash "$b" || rc=1
done
exit $rc
