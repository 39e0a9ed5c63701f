#!/usr/bin/env python3
"""Random RBAC estates and SubjectAccessReview samples for
tests/cmd/test_rbac_accuracy.sh (test data only; the same arguments always
give the same bytes).

    test_rbac_accuracy_gen.py estate SEED PREFIX      > estate.json (a v1 List)
    test_rbac_accuracy_gen.py sars SEED PREFIX COUNT  > sars.json   (a v1 List)
    test_rbac_accuracy_gen.py cani SEED PREFIX COUNT  > lines "ns sa verb resource[/name] [--subresource=s]"

An estate has 6 namespaces PREFIX-n0..n5, 8 service accounts in each (one
name repeated across namespaces), ~35 ClusterRoles and 4 Roles per
namespace drawn from a vocabulary with wildcards, subresources, */scale,
resourceNames (also ""), and non-resource URLs (exact, prefix*, *), a few
aggregated ClusterRoles whose stored rules differ from their selectors'
union (the test cluster's aggregation controller then rewrites them; the
test waits for it before collecting), and about 300
bindings whose subjects mix ServiceAccounts with and without namespace
(without only in RoleBindings: the server refuses it in a ClusterRoleBinding),
User names of service accounts, and the groups system:serviceaccounts,
system:serviceaccounts:NS, system:authenticated and unrelated groups; some
bindings name roles that do not exist.  Cluster-scoped objects carry the
label kcustody.test/accuracy=PREFIX for clean-up.
"""
import json
import random
import sys

VERBS = ["get", "list", "watch", "create", "update", "patch", "delete",
         "deletecollection", "escalate", "bind", "impersonate", "approve", "*"]
GROUPS = ["", "", "", "apps", "batch", "rbac.authorization.k8s.io",
          "example.com", "*"]
RESOURCES = ["pods", "pods/log", "pods/exec", "deployments", "deployments/scale",
             "*/scale", "secrets", "configmaps", "*", "nodes", "nodes/proxy",
             "widgets", "widgets/status", "jobs", "roles", "clusterroles",
             "serviceaccounts", "serviceaccounts/token", "users", "groups"]
NAMES = ["a", "b", "cm1", "", "x-1"]
URLS = ["/healthz", "/metrics", "/logs/*", "*", "/api/*", "/api*", "/version",
        "/apis/*"]
REQ_PATHS = ["/healthz", "/metrics", "/logs/kube", "/logs", "/api", "/api/v1",
             "/apis", "/apis/apps", "/version", "/other", "/api2"]
REQ_RES = [("", "pods", ""), ("", "pods", "log"), ("", "pods", "exec"),
           ("apps", "deployments", ""), ("apps", "deployments", "scale"),
           ("apps", "statefulsets", "scale"), ("", "secrets", ""),
           ("", "configmaps", ""), ("", "nodes", ""), ("", "nodes", "proxy"),
           ("example.com", "widgets", ""), ("example.com", "widgets", "status"),
           ("batch", "jobs", ""), ("rbac.authorization.k8s.io", "roles", ""),
           ("rbac.authorization.k8s.io", "clusterroles", ""),
           ("", "serviceaccounts", "token"), ("", "users", ""),
           ("other.io", "things", "")]
API = "rbac.authorization.k8s.io/v1"


def pick(rnd, seq, lo, hi):
    return rnd.sample(seq, rnd.randint(lo, min(hi, len(seq))))


def rule(rnd, cluster):
    if cluster and rnd.random() < 0.12:
        return {"nonResourceURLs": pick(rnd, URLS, 1, 3),
                "verbs": pick(rnd, ["get", "post", "put", "*", "delete"], 1, 2)}
    r = {"apiGroups": pick(rnd, GROUPS, 1, 2),
         "resources": pick(rnd, RESOURCES, 1, 3),
         "verbs": pick(rnd, VERBS, 1, 3)}
    if rnd.random() < 0.2:
        r["resourceNames"] = pick(rnd, NAMES, 1, 2)
    return r


def estate(seed, pre):
    rnd = random.Random(seed)
    nss = ["%s-n%d" % (pre, i) for i in range(6)]
    items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
             for n in nss]
    sas = []
    for ns in nss:
        for i in range(8):
            name = "shared-agent" if i == 0 else "sa-%d" % rnd.randint(0, 99)
            if (ns, name) in sas:
                continue
            sas.append((ns, name))
            items.append({"apiVersion": "v1", "kind": "ServiceAccount",
                          "metadata": {"name": name, "namespace": ns}})
    lbl = {"kcustody.test/accuracy": pre}
    crs = []
    for i in range(35):
        name = "%s-cr%d" % (pre, i)
        labels = dict(lbl)
        if rnd.random() < 0.3:
            labels["acc/agg-%d" % rnd.randint(0, 2)] = "true"
        crs.append(name)
        items.append({"apiVersion": API, "kind": "ClusterRole",
                      "metadata": {"name": name, "labels": labels},
                      "rules": [rule(rnd, True) for _ in range(rnd.randint(0, 4))]})
    for k in range(3):
        name = "%s-agg%d" % (pre, k)
        crs.append(name)
        # this seed's roles only: every seed's roles stay until the test
        # ends, and the aggregation controller runs on the test cluster
        sel = {"matchLabels": {"acc/agg-%d" % k: "true", "kcustody.test/accuracy": pre}}
        if k == 2:
            sel = {"matchExpressions": [{"key": "acc/agg-2", "operator": "Exists"},
                                        {"key": "kcustody.test/accuracy", "operator": "In",
                                         "values": [pre]}]}
        items.append({"apiVersion": API, "kind": "ClusterRole",
                      "metadata": {"name": name, "labels": dict(lbl)},
                      "aggregationRule": {"clusterRoleSelectors": [sel]},
                      # stale on purpose: what a controller would replace
                      "rules": [rule(rnd, True) for _ in range(rnd.randint(0, 2))]})
    roles = {}
    for ns in nss:
        roles[ns] = []
        for i in range(4):
            name = "role-%d" % i
            roles[ns].append(name)
            items.append({"apiVersion": API, "kind": "Role",
                          "metadata": {"name": name, "namespace": ns},
                          "rules": [rule(rnd, False) for _ in range(rnd.randint(0, 3))]})

    def subject(bns):
        p = rnd.random()
        ns, name = rnd.choice(sas)
        if p < 0.45:
            return {"kind": "ServiceAccount", "name": name, "namespace": ns}
        if p < 0.55:   # no namespace: the binding's namespace
            if bns is None:  # the API server refuses it in a ClusterRoleBinding
                return {"kind": "ServiceAccount", "name": name, "namespace": ns}
            return {"kind": "ServiceAccount", "name": name}
        if p < 0.62:
            return {"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                    "name": "system:serviceaccount:%s:%s" % (ns, name)}
        g = rnd.choice(["system:serviceaccounts", "system:serviceaccounts:" + ns,
                        "system:serviceaccounts:" + ns, "system:authenticated",
                        "ops-team", "system:serviceaccounts:" + (bns or ns)])
        return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": g}

    for i in range(60):
        p = rnd.random()
        ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
               "name": rnd.choice(crs) if p < 0.93 else "%s-missing-%d" % (pre, i)}
        items.append({"apiVersion": API, "kind": "ClusterRoleBinding",
                      "metadata": {"name": "%s-crb%d" % (pre, i), "labels": dict(lbl)},
                      "roleRef": ref,
                      "subjects": [subject(None) for _ in range(rnd.randint(1, 4))]})
    for i in range(250):
        ns = rnd.choice(nss)
        p = rnd.random()
        if p < 0.5:
            ref = {"kind": "ClusterRole", "name": rnd.choice(crs)}
        elif p < 0.93:
            ref = {"kind": "Role", "name": rnd.choice(roles[ns])}
        else:
            ref = {"kind": rnd.choice(["Role", "ClusterRole"]), "name": "gone-%d" % i}
        ref["apiGroup"] = "rbac.authorization.k8s.io"
        items.append({"apiVersion": API, "kind": "RoleBinding",
                      "metadata": {"name": "rb%d" % i, "namespace": ns},
                      "roleRef": ref,
                      "subjects": [subject(ns) for _ in range(rnd.randint(1, 4))]})
    return {"apiVersion": "v1", "kind": "List", "items": items}, sas, nss


def sars(seed, pre, count):
    _, sas, nss = estate(seed, pre)
    rnd = random.Random(seed * 7919 + 1)
    items = []
    for _ in range(count):
        ns, name = rnd.choice(sas)
        spec = {"user": "system:serviceaccount:%s:%s" % (ns, name),
                "groups": ["system:serviceaccounts", "system:serviceaccounts:" + ns,
                           "system:authenticated"]}
        if rnd.random() < 0.15:
            spec["nonResourceAttributes"] = {
                "verb": rnd.choice(["get", "post", "put", "delete"]),
                "path": rnd.choice(REQ_PATHS)}
        else:
            g, r, s = rnd.choice(REQ_RES)
            ra = {"verb": rnd.choice(VERBS[:-1]), "group": g, "resource": r,
                  "version": "v1"}
            if s:
                ra["subresource"] = s
            if rnd.random() < 0.5:
                ra["name"] = rnd.choice(NAMES[:3] + ["zz"])
            if rnd.random() < 0.9:
                ra["namespace"] = rnd.choice(nss + [ns])
            spec["resourceAttributes"] = ra
        items.append({"apiVersion": "authorization.k8s.io/v1",
                      "kind": "SubjectAccessReview", "spec": spec})
    return {"apiVersion": "v1", "kind": "List", "items": items}


def cani(seed, pre, count):
    _, sas, nss = estate(seed, pre)
    rnd = random.Random(seed * 104729 + 3)
    kinds = [("pods", ""), ("pods", "log"), ("pods", "exec"), ("secrets", ""),
             ("configmaps", ""), ("deployments.apps", ""), ("deployments.apps", "scale"),
             ("nodes", ""), ("jobs.batch", ""), ("roles.rbac.authorization.k8s.io", "")]
    out = []
    for _ in range(count):
        ns, name = rnd.choice(sas)
        res, sub = rnd.choice(kinds)
        if rnd.random() < 0.3:
            res += "/" + rnd.choice(["a", "b", "cm1"])
        out.append("%s %s %s %s %s %s" % (ns, name, rnd.choice(nss),
                                          rnd.choice(["get", "list", "create", "delete", "patch"]),
                                          res, ("--subresource=" + sub) if sub else ""))
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 3 or argv[0] not in ("estate", "sars", "cani"):
        sys.exit(__doc__)
    seed, pre = int(argv[1]), argv[2]
    if argv[0] == "estate":
        json.dump(estate(seed, pre)[0], sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    elif argv[0] == "sars":
        json.dump(sars(seed, pre, int(argv[3])), sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        sys.stdout.write(cani(seed, pre, int(argv[3])))


if __name__ == "__main__":
    main(sys.argv[1:])
