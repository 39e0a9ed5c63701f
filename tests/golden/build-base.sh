#!/bin/bash
# Build the kcustody of commit COMMIT (the BASE of tests/golden/equiv.sh)
# into REPO/build/equiv-base-<full commit>/ and print the binary's path.
# The tree comes from `git archive COMMIT` (no work tree, no index touched),
# the build is the release build whatever the calling make was given
# (SANITIZE=1, BIN=..., DEVELOPER=1 stay out, as in packaging/deb.sh), and
# a folder whose build finished is reused as it is.
#
#   build-base.sh COMMIT [JOBS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
rev=${1:?usage: build-base.sh COMMIT [JOBS]}
jobs=${2:-2}
say() { echo "equiv-base: $*" >&2; }

git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 ||
	{ say "$repo is not a git checkout: the base is built from git history (EQUIV_BASE)"; exit 2; }
if ! commit=$(git -C "$repo" rev-parse --verify -q "$rev^{commit}"); then
	say "commit $rev is not in this clone"
	if [ "$(git -C "$repo" rev-parse --is-shallow-repository)" = true ]; then
		say "this is a shallow clone: 'git fetch --unshallow' (or fetch that commit), then run again"
	fi
	exit 2
fi
dir=$repo/build/equiv-base-$commit
if [ -x "$dir/kcustody" ] && [ -e "$dir/.built" ]; then
	printf '%s\n' "$dir/kcustody"
	exit 0
fi
if [ ! -e "$dir/.extracted" ]; then
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$dir.tmp"
	git -C "$repo" archive "$commit" | tar -x -C "$dir.tmp"
	touch "$dir.tmp/.extracted"
	mv "$dir.tmp" "$dir"
fi
say "building $commit in ${dir#"$repo"/}"
# GIT_COMMIT and BUILD_DATE as a checkout of that commit would have them
# (the copy has no .git of its own; git would find this repository's HEAD)
( cd "$dir" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u BIN -u BUILD -u DEVELOPER \
	make -j"$jobs" GIT_COMMIT="$(git -C "$repo" rev-parse --short=12 "$commit")" \
	BUILD_DATE="$(git -C "$repo" log -1 --format=%cd --date=format:%Y-%m-%d "$commit")" ) >"$dir.log" 2>&1 ||
	{ say "build failed, see ${dir#"$repo"/}.log"; tail -n 20 "$dir.log" >&2; exit 2; }
touch "$dir/.built"
printf '%s\n' "$dir/kcustody"
