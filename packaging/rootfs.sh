#!/bin/bash
# A minimal Debian bookworm root (debootstrap --variant=minbase) from the
# machine's own apt sources, with its package lists fetched, cached outside
# the repository and reused:
#   rootfs.sh            print the cached root's path, making it first if needed
# KCUSTODY_CACHE (default /var/cache/kcustody) holds rootfs-bookworm-<key>/,
# where <key> hashes the sources and ROOTFS_REV (bump it when the way the
# root is made changes), so a change to either makes a new root.  Never modify the cached root: copy it (cp -a) and use the copy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${KCUSTODY_CACHE:-/var/cache/kcustody}
SUITE=bookworm
ROOTFS_REV=1
say() { printf 'kcustody-rootfs: %s\n' "$*" >&2; }

sources=$(bash "$here/apt-sources.sh" "$SUITE") || { say "no enabled 'deb' source for $SUITE in /etc/apt"; exit 1; }
mirror=$(bash "$here/apt-sources.sh" --mirror "$SUITE")
key=$(printf '%s\nminbase rev %s\n' "$sources" "$ROOTFS_REV" | sha256sum | cut -c1-12)
root=$CACHE/rootfs-$SUITE-$key
if [ -f "$root/.kcustody-rootfs-done" ]; then
	printf '%s\n' "$root"
	exit 0
fi

command -v debootstrap >/dev/null || { say "debootstrap is not installed (make deps)"; exit 1; }
mkdir -p "$CACHE"
tmp=$root.tmp.$$
trap 'rm -rf "$tmp"' EXIT
say "debootstrap $SUITE (minbase) from $mirror into $root (once; a few minutes)"
start=$(date +%s)
debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
	"$SUITE" "$tmp" "$mirror" >"$CACHE/rootfs-$SUITE-$key.log" 2>&1 ||
	{ say "debootstrap failed, see $CACHE/rootfs-$SUITE-$key.log"; tail -n 20 "$CACHE/rootfs-$SUITE-$key.log" >&2; exit 1; }
# apt in the root reads the same sources as the machine (deb822), nothing else
rm -f "$tmp/etc/apt/sources.list"
printf '%s\n' "$sources" >"$tmp/etc/apt/sources.list.d/debian.sources"
cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
# package lists, so that `apt-get install ./kcustody_*.deb` resolves its
# Depends in a copy; they are refreshed by the user of a copy when stale
chroot "$tmp" apt-get update -qq >>"$CACHE/rootfs-$SUITE-$key.log" 2>&1 ||
	{ say "apt-get update in the root failed, see $CACHE/rootfs-$SUITE-$key.log"; exit 1; }
chroot "$tmp" apt-get clean
touch "$tmp/.kcustody-rootfs-done"
# another run may have finished the same root meanwhile: keep that one
mv -T "$tmp" "$root" 2>/dev/null || rm -rf "$tmp"
trap - EXIT
say "root ready in $(( $(date +%s) - start ))s: $root ($(du -sh "$root" | cut -f1))"
printf '%s\n' "$root"
