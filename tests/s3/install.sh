#!/bin/bash
# Install Ceph's RADOS Gateway with one monitor and one OSD (memstore) for
# the S3 Object Lock tests (shared S3_TEST_SERVER.md).  Idempotent: does
# nothing when the packages are there.  No daemon starts at install time.
set -euo pipefail

pkgs=(radosgw ceph-mon ceph-osd)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
printf 'kcustody-s3-install: installing %s\n' "${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
