#!/bin/bash
# make deb: build the Debian package from the working tree (tracked and
# untracked, not ignored files) in a copy under build/deb/, and print the
# .deb's path.  A build of the same sources is reused: build/deb/.sources
# holds the hash of every file's path and content, and of the commit.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
say() { printf 'kcustody-deb: %s\n' "$*" >&2; }

version=$(sed -n 's/^VERSION := *//p' Makefile)
chver=$(dpkg-parsechangelog -S Version)
if [ "$version" != "$chver" ]; then
	say "debian/changelog is at $chver but the Makefile's VERSION is $version: add an entry (dch -v $version)"
	exit 2
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
out=$repo/build/deb
deb=$out/kcustody_${version}_${arch}.deb

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
files=$(git ls-files -co --exclude-standard | while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done | LC_ALL=C sort)
key=$( { echo "$commit"; printf '%s\n' "$files" | tr '\n' '\0' | xargs -0 sha256sum; } | sha256sum | cut -c1-64)
if [ -f "$deb" ] && [ "$(cat "$out/.sources" 2>/dev/null)" = "$key" ]; then
	say "reusing $deb (same sources)"
	printf '%s\n' "$deb"
	exit 0
fi

rm -rf "$out"
src=$out/src/kcustody-$version
mkdir -p "$src"
printf '%s\n' "$files" | tr '\n' '\0' | tar --null -T - -cf - | tar -xf - -C "$src"
export KC_GIT_COMMIT KC_BUILD_DATE
KC_GIT_COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
KC_BUILD_DATE=$(git log -1 --format=%cd --date=format:%Y-%m-%d 2>/dev/null || echo unknown)
say "building kcustody $version ($arch) in $src"
# The package is always the release build: nothing of a calling make (say
# `make SANITIZE=1 check`, whose MAKEFLAGS would carry SANITIZE=1 into
# debian/rules and ship an ASan binary) reaches the package build.
( cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u BIN -u BUILD -u DEVELOPER \
	dpkg-buildpackage -b -us -uc ) >"$out/build.log" 2>&1 ||
	{ say "dpkg-buildpackage failed, see $out/build.log"; tail -n 30 "$out/build.log" >&2; exit 1; }
mv "$out"/src/*.deb "$out"/src/*.buildinfo "$out"/src/*.changes "$out"/
mv "$out"/src/*.ddeb "$out"/ 2>/dev/null || true
rm -rf "$out/src"
printf '%s\n' "$key" >"$out/.sources"
printf '%s\n' "$deb"
