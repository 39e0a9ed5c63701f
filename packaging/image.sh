#!/bin/bash
# The container image: Debian bookworm (the cached minimal root of
# packaging/rootfs.sh), the kcustody package installed by apt, and a
# non-root user kcustody (uid/gid 65532, the runAsUser of
# deploy/recertification-cronjob.yaml).
#   image.sh rootfs   build/image/kcustody-rootfs_VERSION_ARCH.tar (make image-rootfs)
#   image.sh image    the above, imported as kcustody:VERSION (make image)
# Both print what they made.  The tarball is reused while the .deb is the same.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
say() { printf 'kcustody-image: %s\n' "$*" >&2; }
what=${1:-rootfs}
UID_GID=65532

version=$(sed -n 's/^VERSION := *//p' "$repo/Makefile")
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$(bash "$here/deb.sh" | tail -n 1)
out=$repo/build/image
tarball=$out/kcustody-rootfs_${version}_${arch}.tar
stamp=$(sha256sum "$deb" | cut -d' ' -f1)

if [ -f "$tarball" ] && [ "$(cat "$out/.deb-sha256" 2>/dev/null)" = "$stamp" ]; then
	say "reusing $tarball (same package)"
else
	rm -rf "$out"
	mkdir -p "$out"
	root=$out/root
	trap 'rm -rf "$root"' EXIT
	bash "$here/chroot-install.sh" "$deb" "$root"
	chroot "$root" groupadd -K GID_MAX=65533 -g "$UID_GID" kcustody
	chroot "$root" useradd -K UID_MAX=65533 -u "$UID_GID" -g "$UID_GID" -d /home/kcustody -m -s /usr/sbin/nologin \
		-c 'kcustody evidence collector' kcustody
	# what an image does not need: package lists, apt caches, the build log,
	# the machine's resolver
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/tmp/* "$root"/var/log/*.log \
		"$root"/var/log/apt/*
	: >"$root/etc/resolv.conf"
	tar --sort=name --numeric-owner -C "$root" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	printf '%s\n' "$stamp" >"$out/.deb-sha256"
	rm -rf "$root"
	trap - EXIT
	say "root tarball $tarball ($(du -h "$tarball" | cut -f1))"
fi
if [ "$what" = rootfs ]; then
	printf '%s\n' "$tarball"
	exit 0
fi

command -v podman >/dev/null || { say "podman is not installed (make deps)"; exit 1; }
tag=kcustody:$version
# reuse the image while it holds the same package (its label says which)
if [ "$(podman image inspect --format '{{index .Config.Labels "org.kcustody.deb-sha256"}}' "$tag" 2>/dev/null)" = "$stamp" ]; then
	say "reusing $tag (same package)"
	printf '%s\n' "$tag"
	exit 0
fi
podman import \
	--change "USER $UID_GID:$UID_GID" \
	--change 'WORKDIR /home/kcustody' \
	--change 'ENTRYPOINT ["/usr/bin/kcustody"]' \
	--change 'CMD ["--help"]' \
	--change "LABEL org.opencontainers.image.title=kcustody org.opencontainers.image.version=$version org.kcustody.deb-sha256=$stamp" \
	--message "kcustody $version from $(basename "$deb")" \
	"$tarball" "$tag" >/dev/null
say "imported $tarball as $tag"
printf '%s\n' "$tag"
