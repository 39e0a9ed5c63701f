#!/usr/bin/python3
"""krew-check.py MANIFEST ARCHIVE VERSION: check a krew plugin manifest
against its archive, as `kubectl krew install --manifest --archive` would:
the YAML parses, it is a v1alpha2 Plugin "custody" at vVERSION, its
linux/amd64 platform's sha256 is the archive's, every `files` source is in
the archive and `bin` is an executable file in it.  Exit 0, or 1 with the
reasons on stderr.  (Debian's python3-yaml: run with /usr/bin/python3.)"""
import hashlib
import os
import sys
import tarfile

import yaml


def main(manifest, archive, version):
    errs = []
    try:
        with open(manifest, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except yaml.YAMLError as e:
        print(f"{manifest}: not YAML: {e}".replace("\n", " "), file=sys.stderr)
        return 1
    if not isinstance(doc, dict):
        print(f"{manifest}: not a YAML mapping", file=sys.stderr)
        return 1
    if doc.get("apiVersion") != "krew.googlecontainertools.github.com/v1alpha2":
        errs.append(f"apiVersion {doc.get('apiVersion')!r}")
    if doc.get("kind") != "Plugin":
        errs.append(f"kind {doc.get('kind')!r}")
    if (doc.get("metadata") or {}).get("name") != "custody":
        errs.append("metadata.name is not custody")
    spec = doc.get("spec") or {}
    if spec.get("version") != "v" + version:
        errs.append(f"spec.version {spec.get('version')!r}, want v{version}")
    for k in ("homepage", "shortDescription", "description"):
        if not spec.get(k):
            errs.append(f"spec.{k} missing")
    plats = [p for p in spec.get("platforms") or []
             if ((p.get("selector") or {}).get("matchLabels") or {}) == {"os": "linux", "arch": "amd64"}]
    if len(plats) != 1:
        errs.append(f"{len(plats)} linux/amd64 platforms, want 1")
        plats = []
    with open(archive, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    for p in plats:
        if p.get("sha256") != sha:
            errs.append(f"sha256 {p.get('sha256')} but the archive's is {sha}")
        if not str(p.get("uri", "")).endswith("/" + os.path.basename(archive)):
            errs.append(f"uri {p.get('uri')!r} does not name {os.path.basename(archive)}")
        try:
            with tarfile.open(archive, "r:gz") as t:
                members = {m.name.lstrip("./"): m for m in t.getmembers()}
        except (tarfile.TarError, OSError) as e:
            errs.append(f"archive unreadable: {e}")
            members = {}
        for fl in p.get("files") or []:
            if fl.get("from") not in members:
                errs.append(f"files: {fl.get('from')!r} not in the archive")
        b = members.get(p.get("bin", ""))
        if p.get("bin") != "kubectl-custody":
            errs.append(f"bin {p.get('bin')!r}, want kubectl-custody")
        elif b is None or not b.isfile() or not b.mode & 0o111:
            errs.append("bin kubectl-custody is not an executable file in the archive")
    for e in errs:
        print(f"{manifest}: {e}", file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
