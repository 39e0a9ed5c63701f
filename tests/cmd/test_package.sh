#!/usr/bin/env bash
# The Debian package (make deb, docs/PACKAGING.md): lintian clean, and
# installed with apt into a clean minimal bookworm root (debootstrap'd once
# from the machine's apt sources, cached in /var/cache/kcustody, copied per
# run) where it runs and verifies a committed 0.1 fixture bundle.
# No cluster needed; needs root (chroot).  Timing: the .deb is reused while
# the sources are unchanged, the root and the downloaded libraries are cached.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/kcustody-pkg.XXXX")
trap 'rm -rf "$W"' EXIT
FIX=$KC_REPO/tests/data/bundles-0.1
PRE=IR-0.1_pre_fixture_20261130T000000Z.tar.gz
version=$(sed -n 's/^VERSION := *//p' "$KC_REPO/Makefile")

t_begin "make deb: a .deb of the Makefile's VERSION whose Depends come from shlibs"
deb=''
if expect_exit 0 make -s -C "$KC_REPO" deb; [ "$T_BAD" = 0 ]; then
	deb=$(tail -n 1 "$T_OUT")
	[ -f "$deb" ] || t_fail "make deb printed '$deb', no such file"
fi
if [ -n "$deb" ]; then
	case "$(basename "$deb")" in "kcustody_${version}_"*.deb) ;; *) t_fail "unexpected name $deb" ;; esac
	dpkg-deb -f "$deb" Version Depends >"$T_OUT"
	expect_grep "^Version: ${version//./\\.}$" "$T_OUT"
	for lib in libcurl4 libcjson1 libarchive13 libssl3 libyaml-0-2 zlib1g libc6 libevent-2.1-7 libevent-openssl-2.1-7; do
		expect_grep "^Depends:.* $lib( |,|$)" "$T_OUT"
	done
	dpkg-deb -c "$deb" >"$T_OUT"
	for f in usr/bin/kcustody usr/bin/kubectl-custody usr/share/man/man1/kcustody.1.gz \
		usr/share/bash-completion/completions/kcustody usr/share/zsh/vendor-completions/_kcustody \
		usr/share/fish/vendor_completions.d/kcustody.fish usr/share/doc/kcustody/copyright; do
		expect_grep " \./$f( |$)" "$T_OUT"
	done
fi
t_pass

t_begin "make deb refuses when debian/changelog and the Makefile's VERSION disagree"
# negative twin: a copy of the version check's inputs, the Makefile bumped
mkdir -p "$T_DIR/r/packaging" "$T_DIR/r/debian"
cp "$KC_REPO/packaging/deb.sh" "$T_DIR/r/packaging/"
cp "$KC_REPO/debian/changelog" "$T_DIR/r/debian/"
sed 's/^VERSION := .*/VERSION := 99.0.0/' "$KC_REPO/Makefile" >"$T_DIR/r/Makefile"
(cd "$T_DIR/r" && expect_exit 2 bash packaging/deb.sh; [ "$T_BAD" = 0 ]) || t_fail "the version check did not refuse"
expect_grep "debian/changelog is at $version but the Makefile's VERSION is 99\.0\.0" "$T_ERR"
t_pass

t_begin "lintian: the package and its .changes are clean (errors, warnings, info, pedantic)"
if [ -n "$deb" ]; then
	expect_exit 0 lintian --fail-on error,warning,info,pedantic -I --pedantic "${deb%_*.deb}_$(dpkg-architecture -qDEB_HOST_ARCH).changes"
	[ -s "$T_OUT" ] && { t_fail "lintian said:"; sed 's/^/    /' "$T_OUT"; }
	# negative twin: the same package without its man page is flagged
	dpkg-deb -R "$deb" "$T_DIR/x"
	rm "$T_DIR/x/usr/share/man/man1/kcustody.1.gz"
	sed -i '/usr\/share\/man\/man1\/kcustody.1.gz/d' "$T_DIR/x/DEBIAN/md5sums"
	dpkg-deb -b "$T_DIR/x" "$T_DIR/bad.deb" >/dev/null
	expect_exit 2 lintian --fail-on error,warning "$T_DIR/bad.deb"
	expect_grep "^W: kcustody: no-manual-page \[usr/bin/kcustody\]" "$T_OUT"
else
	t_fail "no package to check"
fi
t_pass

root=$W/root
t_begin "apt-get install ./kcustody_*.deb into a clean bookworm root pulls the libraries"
if [ "$(id -u)" != 0 ]; then
	t_fail "needs root (debootstrap, chroot)"
elif [ -n "$deb" ]; then
	base=$(bash "$KC_REPO/packaging/rootfs.sh") || t_fail "no cached root"
	# negative twin: the clean root has neither kcustody nor its libraries
	[ -e "$base/usr/bin/kcustody" ] && t_fail "the cached root already has kcustody"
	chroot "$base" dpkg-query -W -f='${Status}' libcurl4 2>/dev/null | grep -q 'ok installed' &&
		t_fail "the cached root already has libcurl4: it would not test the Depends"
	expect_exit 0 bash "$KC_REPO/packaging/chroot-install.sh" "$deb" "$root"
	chroot "$root" dpkg-query -W -f='${Package} ${Version} ${Status}\n' kcustody libcurl4 libcjson1 \
		libarchive13 libyaml-0-2 >"$T_OUT" 2>&1
	expect_grep "^kcustody $version install ok installed" "$T_OUT"
	expect_grep "^libcjson1 .* install ok installed" "$T_OUT"
	expect_grep "^libcurl4 .* install ok installed" "$T_OUT"
fi
t_pass

t_begin "in the root: kcustody version, and verify of a committed fixture bundle (exit 0)"
if [ -x "$root/usr/bin/kcustody" ]; then
	expect_exit 0 chroot "$root" kcustody version
	expect_grep "^kcustody ${version//./\\.} \(commit " "$T_OUT"
	expect_exit 0 chroot "$root" kubectl-custody --version
	expect_grep "^kcustody ${version//./\\.} " "$T_OUT"
	cp "$FIX/$PRE" "$FIX/fixture-signer.pub.pem" "$root/tmp/"
	expect_exit 0 chroot "$root" kcustody verify "/tmp/$PRE" --pubkey /tmp/fixture-signer.pub.pem
	expect_grep "^VALID" "$T_OUT"
	expect_grep "signature +ok" "$T_OUT"
	# the man page and completions are where the tools look
	for f in /usr/share/man/man1/kubectl-custody.1.gz /usr/share/bash-completion/completions/kcustody; do
		[ -e "$root$f" ] || t_fail "missing $f"
	done
else
	t_fail "kcustody is not installed in the root"
fi
t_pass

t_begin "in the root: verify with a key that did not sign the bundle fails (exit 3)"
# negative twin of the above
if [ -x "$root/usr/bin/kcustody" ]; then
	openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout >"$root/tmp/other.pub.pem"
	expect_exit 3 chroot "$root" kcustody verify "/tmp/$PRE" --pubkey /tmp/other.pub.pem
	expect_grep "^INVALID" "$T_OUT"
	expect_grep "signature +FAILED" "$T_OUT"
else
	t_fail "kcustody is not installed in the root"
fi
t_pass

t_summary
