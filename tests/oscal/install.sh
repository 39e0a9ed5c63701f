#!/bin/bash
# Install the OSCAL validator (ajv, ajv-formats at the versions of
# tests/oscal/package-lock.json) from npm into the cache outside the
# repository: $KCUSTODY_CACHE/node (default /var/cache/kcustody/node).
# Run by `make deps`; a second run with the same lock file does nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${KCUSTODY_CACHE:-/var/cache/kcustody}
D=$CACHE/node
command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
mkdir -p "$D"
if cmp -s "$here/package-lock.json" "$D/package-lock.json" && [ -d "$D/node_modules/ajv-formats" ]; then
	echo "ajv already installed in $D"
	exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$D/"
(cd "$D" && npm ci --no-audit --no-fund --loglevel=error)
echo "ajv and ajv-formats installed in $D"
