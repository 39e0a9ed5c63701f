#!/usr/bin/env python3
"""Compare a bundle's YAML export with kubectl's (test-only).

  exports_check.py EXPORT.yaml KUBECTL.yaml [--drop-one]

EXPORT.yaml is a bundle's exports/<resource>.yaml, KUBECTL.yaml what
`kubectl get <resource> -A -o yaml --show-managed-fields` printed from the
same server.  Both are parsed with PyYAML.  The export must be a v1 List
({apiVersion: v1, kind: List, metadata: {resourceVersion: ""}, items}),
every item with apiVersion and kind, and equal kubectl's list object by
object (keyed by namespace and name) after kubectl's objects are given the
documented redactions (docs/COLLECT.md): every literal env[].value of a pod
becomes "sha256:<hex of the value>", the last-applied-configuration
annotation of a pod becomes "kcustody.redacted sha256=<hex>".
--drop-one removes the export's first object before comparing (the
negative twin: the comparison must then fail).
Exit 0 equal, 1 different (each difference printed), 2 usage.
"""
import hashlib
import json
import sys

import yaml

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def sha(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def redact_pod(obj):
    ann = obj.get("metadata", {}).get("annotations") or {}
    if isinstance(ann.get(LAST_APPLIED), str):
        ann[LAST_APPLIED] = "kcustody.redacted sha256=" + sha(ann[LAST_APPLIED])
    spec = obj.get("spec") or {}
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            for e in c.get("env") or []:
                if "value" in e:
                    v = e["value"]
                    e["value"] = "sha256:" + sha(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))


def key(obj):
    md = obj.get("metadata", {})
    return (md.get("namespace", ""), md.get("name", ""))


def first_diff(a, b, path="."):
    if type(a) is not type(b):
        return "%s: %r != %r" % (path, a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s: only in %s" % (path, k, "export" if k in a else "kubectl")
            d = first_diff(a[k], b[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d != %d elements" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %r != %r" % (path, a, b)


def main(argv):
    if len(argv) < 3 or len(argv) > 4 or (len(argv) == 4 and argv[3] != "--drop-one"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        exp = yaml.safe_load(f)
    with open(argv[2]) as f:
        kub = yaml.safe_load(f)
    errs = []
    for k, v in (("apiVersion", "v1"), ("kind", "List"), ("metadata", {"resourceVersion": ""})):
        if exp.get(k) != v:
            errs.append("export: %s is %r, not %r" % (k, exp.get(k), v))
    if set(exp) != {"apiVersion", "kind", "metadata", "items"}:
        errs.append("export: top-level keys %s" % sorted(exp))
    items = exp.get("items") or []
    if len(argv) == 4 and items:
        items = items[1:]
    got = {}
    for o in items:
        if not o.get("apiVersion") or not o.get("kind"):
            errs.append("export: %s/%s has no apiVersion or kind" % key(o))
        got[key(o)] = o
    want = {}
    for o in kub.get("items") or []:
        if o.get("kind") == "Pod":
            redact_pod(o)
        want[key(o)] = o
    for k in sorted(set(got) | set(want)):
        if k not in got:
            errs.append("%s/%s: in kubectl's list, not in the export" % k)
        elif k not in want:
            errs.append("%s/%s: in the export, not in kubectl's list" % k)
        else:
            d = first_diff(got[k], want[k])
            if d:
                errs.append("%s/%s: %s" % (k[0], k[1], d))
    for e in errs:
        print(e)
    if not errs:
        print("equal: %d objects" % len(got))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
