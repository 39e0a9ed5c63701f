#!/usr/bin/env bash
# The krew plugin manifest (make krew; docs/PACKAGING.md): it parses as
# YAML, is a krew v1alpha2 Plugin for linux/amd64 at the Makefile's VERSION,
# and its sha256 is the make dist archive's, which holds kubectl-custody
# and LICENSE.  Checked by packaging/krew-check.py (Debian's python3-yaml).
# No cluster needed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
version=$(sed -n 's/^VERSION := *//p' "$KC_REPO/Makefile")
PY=/usr/bin/python3
CHECK=$KC_REPO/packaging/krew-check.py
A=$KC_REPO/build/dist/kubectl-custody_v${version}_linux_amd64.tar.gz
M=$KC_REPO/build/krew/plugins/custody.yaml

t_begin "make krew: the manifest parses, names v$version linux/amd64, and its sha256 is the archive's"
expect_exit 0 make -s -C "$KC_REPO" krew
expect_exit 0 "$PY" "$CHECK" "$M" "$A" "$version"
[ -s "$T_ERR" ] && t_fail "krew-check: $(cat "$T_ERR")"
expect_grep "^    sha256: $(sha256sum "$A" | cut -c1-64)$" "$M"
# the archive's binary is kcustody, answering as the kubectl plugin
mkdir "$T_DIR/x" && tar -C "$T_DIR/x" -xzf "$A"
expect_exit 0 "$T_DIR/x/kubectl-custody" --version
expect_grep "^kcustody ${version//./\\.} " "$T_OUT"
expect_exit 2 "$T_DIR/x/kubectl-custody" no-such-command
expect_grep "kubectl custody" "$T_ERR"
t_pass

t_begin "make dist is reproducible: the same binary gives the same archive"
sum1=$(sha256sum "$A" | cut -c1-64)
expect_exit 0 make -s -C "$KC_REPO" dist
[ "$(sha256sum "$A" | cut -c1-64)" = "$sum1" ] || t_fail "a second make dist changed the archive's sha256"
t_pass

t_begin "krew-check refuses a changed archive, a wrong version, and a manifest that is not YAML"
# negative twins of the first test
cp "$A" "$T_DIR/a.tar.gz"
printf 'x' >>"$T_DIR/a.tar.gz"
expect_exit 1 "$PY" "$CHECK" "$M" "$T_DIR/a.tar.gz" "$version"
expect_grep "sha256 [0-9a-f]{64} but the archive's is" "$T_ERR"
expect_exit 1 "$PY" "$CHECK" "$M" "$A" "9.9.9"
expect_grep "spec.version 'v$version', want v9.9.9" "$T_ERR"
sed 's/^  platforms:$/  platforms: [/' "$M" >"$T_DIR/broken.yaml"
expect_exit 1 "$PY" "$CHECK" "$T_DIR/broken.yaml" "$A" "$version"
expect_grep "not YAML" "$T_ERR"
# an archive without the LICENSE the manifest names
mkdir "$T_DIR/y" && tar -C "$T_DIR/y" -xzf "$A" && rm "$T_DIR/y/LICENSE"
tar -C "$T_DIR/y" -czf "$T_DIR/nolicence.tar.gz" kubectl-custody
cp "$T_DIR/nolicence.tar.gz" "$T_DIR/$(basename "$A")"
sed "s/^    sha256: .*/    sha256: $(sha256sum "$T_DIR/nolicence.tar.gz" | cut -c1-64)/" "$M" >"$T_DIR/m.yaml"
expect_exit 1 "$PY" "$CHECK" "$T_DIR/m.yaml" "$T_DIR/$(basename "$A")" "$version"
expect_grep "files: 'LICENSE' not in the archive" "$T_ERR"
t_pass

t_summary
