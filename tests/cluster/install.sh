#!/bin/bash
# Install what kcustody needs to build and test, and build kube-apiserver
# from Debian's source package once; the binary is cached outside the
# repository (KCUSTODY_CACHE, default /var/cache/kcustody) keyed by version
# and reused on later runs.
set -euo pipefail

CACHE=${KCUSTODY_CACHE:-/var/cache/kcustody}
K8S_VERSION=1.20.2
APISERVER="$CACHE/kube-apiserver-$K8S_VERSION"

say() { printf 'kcustody-install: %s\n' "$*" >&2; }

need_pkgs=(build-essential pkg-config libcurl4-openssl-dev libcjson-dev
	libarchive-dev libssl-dev libyaml-dev zlib1g-dev openssl jq etcd-server curl
	python3 valgrind time bc chromium python3-html5lib libxml2-utils libarchive-tools)
build_pkgs=(golang-go rsync dpkg-dev)

missing=()
for p in "${need_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ! -x "$APISERVER" ]; then
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

if [ -x "$APISERVER" ]; then
	say "kube-apiserver $K8S_VERSION cached at $APISERVER"
	exit 0
fi

say "building kube-apiserver $K8S_VERSION from Debian's source (about 10 minutes on 2 cores, once)"
mkdir -p "$CACHE/src"
if [ ! -f /etc/apt/sources.list.d/kcustody-src.sources ]; then
	cat > /etc/apt/sources.list.d/kcustody-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
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
make WHAT=cmd/kube-apiserver >"$CACHE/build.log" 2>&1 || { say "build failed, see $CACHE/build.log"; tail -20 "$CACHE/build.log" >&2; exit 1; }
install -m 0755 _output/bin/kube-apiserver "$APISERVER.tmp"
mv "$APISERVER.tmp" "$APISERVER"
say "kube-apiserver built: $APISERVER"
