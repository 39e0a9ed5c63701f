#!/bin/bash
# dist.sh BIN ARCHIVE: the krew archive, a reproducible .tar.gz of
#   kubectl-custody   BIN, stripped (it runs `kubectl custody` by its name)
#   LICENSE           the repository's LICENSE; while there is none, the
#                     licence statement of debian/copyright (docs/PACKAGING.md)
# Entries sorted, owned by 0:0, dated by the last commit, gzip without a name
# or time: the same binary gives the same archive and so the same sha256.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$1 archive=$2
say() { printf 'kcustody-dist: %s\n' "$*" >&2; }
case "$(uname -s)/$(uname -m)" in
Linux/x86_64) ;;
*) say "the archive is named linux_amd64 but this is $(uname -s)/$(uname -m)"; exit 2 ;;
esac
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/d"
cp "$bin" "$stage/d/kubectl-custody"
strip --strip-unneeded "$stage/d/kubectl-custody"
if [ -f "$repo/LICENSE" ]; then
	cp "$repo/LICENSE" "$stage/d/LICENSE"
else
	cp "$repo/debian/copyright" "$stage/d/LICENSE"
fi
chmod 0755 "$stage/d/kubectl-custody"
chmod 0644 "$stage/d/LICENSE"
mtime=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)
mkdir -p "$(dirname "$archive")"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" --format=ustar \
	-C "$stage/d" -cf - kubectl-custody LICENSE | gzip -n -9 >"$archive.tmp"
mv "$archive.tmp" "$archive"
say "$archive ($(sha256sum "$archive" | cut -c1-64))"
