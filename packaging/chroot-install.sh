#!/bin/bash
# chroot-install.sh DEB DEST: a fresh copy of the cached minimal bookworm
# root (packaging/rootfs.sh) in DEST (which must not exist), with DEB
# installed by `apt-get install ./DEB` inside it, so apt resolves the
# package's Depends from the machine's own apt sources.  Downloaded .debs
# are kept in $KCUSTODY_CACHE/apt-archives-<root> and offered to the next
# copy, so a warm run needs no network.  No mount is made: neither dpkg nor
# apt need /proc for this.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${KCUSTODY_CACHE:-/var/cache/kcustody}
deb=$1 dest=$2
say() { printf 'kcustody-chroot: %s\n' "$*" >&2; }
[ -f "$deb" ] || { say "no such package: $deb"; exit 2; }
[ ! -e "$dest" ] || { say "$dest exists"; exit 2; }

root=$(bash "$here/rootfs.sh")
archives=$CACHE/apt-archives-$(basename "$root")
mkdir -p "$archives"
cp -a "$root" "$dest"
rm -f "$dest/.kcustody-rootfs-done"
cp "$archives"/*.deb "$dest/var/cache/apt/archives/" 2>/dev/null || true
cp "$deb" "$dest/tmp/"
name=$(basename "$deb")
log=$dest/tmp/apt-install.log
inst() {
	chroot "$dest" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "./tmp/$name" >>"$log" 2>&1
}
if ! inst; then
	# package lists older than the mirror: refresh them, try again
	say "apt-get install failed; refreshing the package lists and retrying"
	chroot "$dest" apt-get update -qq >>"$log" 2>&1 || true
	inst || { say "apt-get install ./$name failed in $dest:"; tail -n 20 "$log" >&2; exit 1; }
fi
cp -n "$dest"/var/cache/apt/archives/*.deb "$archives"/ 2>/dev/null || true
chroot "$dest" apt-get clean
rm -f "$dest/tmp/$name"
