#!/usr/bin/env bash
# The container image (make image-rootfs, make image; docs/PACKAGING.md):
# Debian bookworm with the package installed by apt and a non-root user
# kcustody (65532).  The root tarball is tested by chroot everywhere; the
# image imported by podman is run with --network=none.  Needs root.
# Where no container runtime can run, set KCUSTODY_NO_CONTAINERS=1 to test
# the tarball only (the podman test then fails loudly without it).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-img.XXXX")
trap 'rm -rf "$W"' EXIT
version=$(sed -n 's/^VERSION := *//p' "$KC_REPO/Makefile")
FIX=$KC_REPO/tests/data/bundles-0.1
PRE=IR-0.1_pre_fixture_20261130T000000Z.tar.gz

t_begin "make image-rootfs: a root tarball with the package and a non-root user"
tarball=''
if expect_exit 0 make -s -C "$KC_REPO" image-rootfs; [ "$T_BAD" = 0 ]; then
	tarball=$(tail -n 1 "$T_OUT")
	[ -f "$tarball" ] || t_fail "make image-rootfs printed '$tarball', no such file"
fi
root=$W/root
if [ -n "$tarball" ]; then
	mkdir "$root" && tar -C "$root" --numeric-owner -xf "$tarball"
	expect_grep "^kcustody:x:65532:65532:" "$root/etc/passwd"
	chroot "$root" dpkg-query -W -f='${Package} ${Version} ${Status}\n' kcustody >"$T_OUT" 2>&1
	expect_grep "^kcustody $version install ok installed" "$T_OUT"
	# no package lists or downloaded .debs left in the image
	[ -z "$(find "$root/var/lib/apt/lists" -maxdepth 1 -type f ! -name lock -print -quit)" ] ||
		t_fail "package lists left in the image"
	ls "$root"/var/cache/apt/archives/*.deb >/dev/null 2>&1 && t_fail ".debs left in the image"
fi
t_pass

t_begin "the root tarball, by chroot as uid 65532: kcustody version and a verify (exit 0)"
if [ -x "$root/usr/bin/kcustody" ]; then
	expect_exit 0 chroot --userspec=65532:65532 "$root" kcustody version
	expect_grep "^kcustody ${version//./\\.} \(commit " "$T_OUT"
	cp "$FIX/$PRE" "$FIX/fixture-signer.pub.pem" "$root/tmp/"
	chmod 0644 "$root/tmp/$PRE" "$root/tmp/fixture-signer.pub.pem"
	expect_exit 0 chroot --userspec=65532:65532 "$root" kcustody verify "/tmp/$PRE" --pubkey /tmp/fixture-signer.pub.pem
	expect_grep "^VALID" "$T_OUT"
else
	t_fail "no kcustody in the root"
fi
t_pass

t_begin "the root tarball, as uid 65532: a wrong key fails (exit 3), system files are not writable"
# negative twins: the user is not root, and a wrong key is refused
if [ -x "$root/usr/bin/kcustody" ]; then
	openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout >"$root/tmp/other.pub.pem"
	chmod 0644 "$root/tmp/other.pub.pem"
	expect_exit 3 chroot --userspec=65532:65532 "$root" kcustody verify "/tmp/$PRE" --pubkey /tmp/other.pub.pem
	expect_grep "^INVALID" "$T_OUT"
	expect_exit 1 chroot --userspec=65532:65532 "$root" touch /usr/bin/kcustody
	expect_grep "Permission denied" "$T_ERR"
else
	t_fail "no kcustody in the root"
fi
t_pass

# How podman can run a container here: as it is, or (a nested container on a
# cgroup v1/v2 hybrid host, where crun refuses and rlimits cannot be raised)
# with runc and rlimits within the host's; docs/PACKAGING.md.
PODMAN_RUN=()
podman_probe() {
	local tag=$1 v
	for v in "" "--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"; do
		# shellcheck disable=SC2086
		if podman run --rm --network=none $v "$tag" version >"$W/probe.out" 2>"$W/probe.err"; then
			# shellcheck disable=SC2206
			PODMAN_RUN=(podman run --rm --network=none $v)
			return 0
		fi
		printf '  podman run %s: %s\n' "${v:-(default)}" "$(tail -n 1 "$W/probe.err")"
	done
	return 1
}

if [ "${KCUSTODY_NO_CONTAINERS:-0}" != 1 ]; then
	t_begin "make image: kcustody:$version runs kcustody version under podman --network=none, as 65532"
	tag=''
	if expect_exit 0 make -s -C "$KC_REPO" image; [ "$T_BAD" = 0 ]; then
		tag=$(tail -n 1 "$T_OUT")
		[ "$tag" = "kcustody:$version" ] || t_fail "make image printed '$tag', want kcustody:$version"
	fi
	if [ -n "$tag" ] && podman_probe "$tag"; then
		expect_exit 0 "${PODMAN_RUN[@]}" "$tag" version
		expect_grep "^kcustody ${version//./\\.} \(commit " "$T_OUT"
		expect_exit 0 "${PODMAN_RUN[@]}" --entrypoint id "$tag"
		expect_grep "^uid=65532\(kcustody\) gid=65532\(kcustody\)" "$T_OUT"
	else
		t_fail "podman cannot run $tag here (set KCUSTODY_NO_CONTAINERS=1 where no runtime can run)"
	fi
	t_pass

	t_begin "the image: a command that is not kcustody's is a usage error; uid 65532 cannot write /usr"
	# negative twins of the above
	if [ ${#PODMAN_RUN[@]} -gt 0 ]; then
		expect_exit 2 "${PODMAN_RUN[@]}" "$tag" no-such-command
		expect_exit 1 "${PODMAN_RUN[@]}" --entrypoint touch "$tag" /usr/bin/kcustody
		expect_grep "Permission denied" "$T_ERR"
	else
		t_fail "podman cannot run the image"
	fi
	t_pass
fi

t_begin "deploy/recertification-cronjob.yaml runs the image make image names, as uid 65532"
expect_grep "^ +image: ([a-z0-9.-]+/)?kcustody:${version//./\\.}$" "$KC_REPO/deploy/recertification-cronjob.yaml"
expect_grep "^ +runAsUser: 65532$" "$KC_REPO/deploy/recertification-cronjob.yaml"
# negative twin: a version that is not the Makefile's is caught
sed "s/kcustody:$version/kcustody:0.0.9/" "$KC_REPO/deploy/recertification-cronjob.yaml" >"$T_DIR/old.yaml"
if grep -Eq "^ +image: ([a-z0-9.-]+/)?kcustody:${version//./\\.}$" "$T_DIR/old.yaml"; then
	t_fail "the check accepts kcustody:0.0.9"
fi
t_pass

t_summary
