#!/bin/bash
# Install what kcustody needs to build and test, and build kube-apiserver
# and kube-controller-manager from Debian's source package once; the binaries
# are cached outside the repository (KCUSTODY_CACHE, default
# /var/cache/kcustody) keyed by version and reused on later runs.
set -euo pipefail

CACHE=${KCUSTODY_CACHE:-/var/cache/kcustody}
K8S_VERSION=1.20.2
# "-r2": built with reflect2 1.0.2 (below); older cached builds are not reused
APISERVER="$CACHE/kube-apiserver-$K8S_VERSION-r2"
KCM="$CACHE/kube-controller-manager-$K8S_VERSION-r2"

say() { printf 'kcustody-install: %s\n' "$*" >&2; }

need_pkgs=(build-essential pkg-config libcurl4-openssl-dev libcjson-dev
	libarchive-dev libssl-dev libyaml-dev zlib1g-dev libevent-dev openssl jq etcd-server curl
	python3 valgrind time bc chromium python3-html5lib libxml2-utils libarchive-tools man-db
	dpkg-dev debhelper lintian debootstrap podman runc python3-yaml clang libclang-rt-dev)
# (the last line: make deb / image / krew and their tests, docs/PACKAGING.md;
# runc because crun cannot start containers on a cgroup v1/v2 hybrid host)
build_pkgs=(golang-go rsync dpkg-dev golang-github-modern-go-reflect2-dev)

missing=()
for p in "${need_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ! -x "$APISERVER" ] || [ ! -x "$KCM" ]; then
	for p in "${build_pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
fi
if [ ${#missing[@]} -gt 0 ]; then
	say "installing packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v kubectl >/dev/null 2>&1; then
	say "kubectl not found: the tests use it as the reference client"
	exit 1
fi

# The S3 Object Lock tests run a real Ceph RADOS Gateway (tests/s3/).
bash "$(dirname "$0")/../s3/install.sh"

if [ -x "$APISERVER" ] && [ -x "$KCM" ]; then
	say "kube-apiserver and kube-controller-manager $K8S_VERSION cached in $CACHE"
	exit 0
fi

say "building kube-apiserver and kube-controller-manager $K8S_VERSION from Debian's source (about 10 minutes each on 2 cores, once)"
mkdir -p "$CACHE/src"
# deb-src entries derived from the machine's own apt sources (no mirror
# address lives in this repository): every enabled "deb" entry, as deb-src.
if ! apt-get source --print-uris kubernetes >/dev/null 2>&1; then
	src=/etc/apt/sources.list.d/kcustody-src.sources
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] && [ "$f" != "$src" ] || continue
			# deb822 stanzas whose Types include deb, re-typed deb-src
			awk 'BEGIN { RS = "" }
			{
				n = split($0, L, "\n"); deb = 0; on = 1; out = ""
				for (i = 1; i <= n; i++) {
					if (L[i] ~ /^#/) continue
					if (L[i] ~ /^Types:/) {
						m = split(L[i], w, /[ \t]+/)
						for (j = 2; j <= m; j++) if (w[j] == "deb") deb = 1
						L[i] = "Types: deb-src"
					}
					if (L[i] ~ /^Enabled:[ \t]*[Nn]o/) on = 0
					out = out L[i] "\n"
				}
				if (deb && on) printf "%s\n", out
			}' "$f"
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			# one-line entries: deb [opts] URI SUITE COMPONENTS...
			awk '$1 == "deb" { $1 = "deb-src"; print }' "$f"
		done
	} > "$src.tmp"
	# one-line entries cannot live in a .sources file: split them out
	grep -v '^deb-src ' "$src.tmp" > "$src" || true
	grep '^deb-src ' "$src.tmp" > "${src%.sources}.list" || rm -f "${src%.sources}.list"
	rm -f "$src.tmp"
	[ -s "$src" ] || rm -f "$src"
	apt-get update -qq
fi
cd "$CACHE/src"
ls kubernetes_*.orig.tar.gz >/dev/null 2>&1 || apt-get source --download-only kubernetes >/dev/null
if [ ! -d kubernetes-$K8S_VERSION ]; then
	tar xzf kubernetes_*.orig.tar.gz
fi
cd kubernetes-$K8S_VERSION
export GOPATH=$PWD/.go CGO_ENABLED=0 GOFLAGS=-mod=vendor
mkdir -p .go/src/k8s.io
ln -sfn ../../.. .go/src/k8s.io/kubernetes
# Kubernetes 1.20 vendors modern-go/reflect2 v1.0.1, which crashes the
# server under load when built with Go 1.18 or newer (SIGSEGV in
# runtime.mapiternext from sortKeysMapEncoder.IsEmpty); Debian packages the
# fixed v1.0.2 source, which replaces the vendored copy before the build.
R2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -d "$R2" ] || { say "missing $R2 (golang-github-modern-go-reflect2-dev)"; exit 1; }
rm -f vendor/github.com/modern-go/reflect2/*.go vendor/github.com/modern-go/reflect2/*.s
cp "$R2"/*.go "$R2"/*.s vendor/github.com/modern-go/reflect2/ 2>/dev/null || cp "$R2"/*.go vendor/github.com/modern-go/reflect2/
rm -f vendor/github.com/modern-go/reflect2/*_test.go
# build NAME DEST: one command of the tree, installed under its cache name
build() {
	[ -x "$2" ] && return 0
	make WHAT="cmd/$1" >"$CACHE/build-$1.log" 2>&1 || {
		say "build of $1 failed, see $CACHE/build-$1.log"
		tail -20 "$CACHE/build-$1.log" >&2
		exit 1
	}
	install -m 0755 "_output/bin/$1" "$2.tmp"
	mv "$2.tmp" "$2"
	say "$1 built: $2"
}
build kube-apiserver "$APISERVER"
build kube-controller-manager "$KCM"
