#!/usr/bin/env python3
"""Print a fixed-seed random Kubernetes estate as one v1 List (JSON).

    gen-estate.py [SEED [NS_COUNT [SA_COUNT [RB_COUNT [POD_COUNT]]]]]
    defaults:       1      40        1000       1000       2000

Load it with `gen-estate.py | kubectl create -f -`. The same arguments always
give the same bytes. Objects come in dependency order (namespaces, service
accounts, roles, rolebindings, configmaps, secrets, pods), so every pod's
serviceAccountName and every binding's role exist before they are used.

Contents, for tests to rely on:
- namespaces est-000..; each is labelled kcustody.test/estate=true.
- service accounts <kind>-NNNN; kinds kagent-bot, llm-gateway and rag-indexer
  are "agents" (label kcustody.test/agent=true), the others are not. The
  first NS_COUNT accounts go one per namespace, so no namespace lacks one.
- per namespace the Roles pod-reader and config-reader; every 5th namespace
  (est-000, est-005, ...) also secret-reader (get/list/watch secrets), every
  7th pod-exec (create pods/exec), every 13th wildcard (* on *).
- rolebindings rb-NNNN to ClusterRole view or edit, or to a Role of their
  namespace; subjects are 1-3 existing service accounts, mostly local.
- one configmap estate-config per 4th namespace and one Opaque secret
  estate-secret per 4th namespace (offset 2); its only value is the fixed
  canary below, so a test can prove no secret value reached a bundle by
  grepping for CANARY or CANARY_B64.
- pods pod-NNNNN with one container image registry.invalid/agent:1; they
  stay Pending (no scheduler or kubelet on the test cluster).
"""
import base64
import json
import random
import sys

CANARY = "kcustody-estate-canary-not-a-real-secret"
CANARY_B64 = base64.b64encode(CANARY.encode()).decode()
AGENT_KINDS = ["kagent-bot", "llm-gateway", "rag-indexer"]
OTHER_KINDS = ["ci-runner", "web", "batch", "metrics", "backup"]


def meta(name, ns=None, labels=None):
    m = {"name": name}
    if ns is not None:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    return m


def roles_for(i):
    """Role name -> rules for namespace number i."""
    r = {
        "pod-reader": [{"apiGroups": [""], "resources": ["pods", "pods/log"],
                        "verbs": ["get", "list", "watch"]}],
        "config-reader": [{"apiGroups": [""], "resources": ["configmaps"],
                           "verbs": ["get", "list"]}],
    }
    if i % 5 == 0:
        r["secret-reader"] = [{"apiGroups": [""], "resources": ["secrets"],
                               "verbs": ["get", "list", "watch"]}]
    if i % 7 == 0:
        r["pod-exec"] = [{"apiGroups": [""], "resources": ["pods/exec"],
                          "verbs": ["create"]}]
    if i % 13 == 0:
        r["wildcard"] = [{"apiGroups": ["*"], "resources": ["*"],
                          "verbs": ["*"]}]
    return r


def main(argv):
    defaults = [1, 40, 1000, 1000, 2000]
    if len(argv) > 5 or any(not a.isdigit() for a in argv):
        sys.exit("usage: gen-estate.py [SEED [NS_COUNT [SA_COUNT "
                 "[RB_COUNT [POD_COUNT]]]]]")
    seed, n_ns, n_sa, n_rb, n_pod = [int(a) for a in argv] + defaults[len(argv):]
    if n_ns < 1:
        sys.exit("gen-estate.py: NS_COUNT must be at least 1")
    if n_sa < 1 and (n_rb or n_pod):
        sys.exit("gen-estate.py: rolebindings and pods need SA_COUNT >= 1")
    rnd = random.Random(seed)
    kinds = AGENT_KINDS + OTHER_KINDS
    nss = ["est-%03d" % i for i in range(n_ns)]
    items = [{"apiVersion": "v1", "kind": "Namespace",
              "metadata": meta(ns, labels={"kcustody.test/estate": "true"})}
             for ns in nss]

    sas_in = {ns: [] for ns in nss}  # namespace -> SA names
    all_sas = []                     # (namespace, name)
    for i in range(n_sa):
        ns = nss[i] if i < n_ns else rnd.choice(nss)
        kind = rnd.choice(kinds)
        name = "%s-%04d" % (kind, i)
        labels = {"app.kubernetes.io/name": kind}
        if kind in AGENT_KINDS:
            labels["kcustody.test/agent"] = "true"
        items.append({"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": meta(name, ns, labels)})
        sas_in[ns].append(name)
        all_sas.append((ns, name))

    role_names = {}
    for i, ns in enumerate(nss):
        roles = roles_for(i)
        role_names[ns] = sorted(roles)
        for name in role_names[ns]:
            items.append({"apiVersion": "rbac.authorization.k8s.io/v1",
                          "kind": "Role", "metadata": meta(name, ns),
                          "rules": roles[name]})

    for i in range(n_rb):
        ns = rnd.choice(nss)
        p = rnd.random()
        if p < 0.3:
            ref = {"kind": "ClusterRole", "name": "view"}
        elif p < 0.45:
            ref = {"kind": "ClusterRole", "name": "edit"}
        else:
            ref = {"kind": "Role", "name": rnd.choice(role_names[ns])}
        ref["apiGroup"] = "rbac.authorization.k8s.io"
        subjects = []
        for _ in range(rnd.randint(1, 3)):
            if sas_in[ns] and rnd.random() < 0.85:
                sns, sname = ns, rnd.choice(sas_in[ns])
            else:
                sns, sname = rnd.choice(all_sas)
            s = {"kind": "ServiceAccount", "name": sname, "namespace": sns}
            if s not in subjects:
                subjects.append(s)
        items.append({"apiVersion": "rbac.authorization.k8s.io/v1",
                      "kind": "RoleBinding", "metadata": meta("rb-%04d" % i, ns),
                      "roleRef": ref, "subjects": subjects})

    for i, ns in enumerate(nss):
        if i % 4 == 0:
            items.append({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": meta("estate-config", ns),
                          "data": {"mode": "test"}})
        if i % 4 == 2:
            items.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                          "metadata": meta("estate-secret", ns),
                          "data": {"value": CANARY_B64}})

    with_sa = [ns for ns in nss if sas_in[ns]]
    for i in range(n_pod):
        ns = rnd.choice(with_sa)
        items.append({"apiVersion": "v1", "kind": "Pod",
                      "metadata": meta("pod-%05d" % i, ns),
                      "spec": {"serviceAccountName": rnd.choice(sas_in[ns]),
                               "containers": [{"name": "agent",
                                               "image": "registry.invalid/agent:1"}]}})

    json.dump({"apiVersion": "v1", "kind": "List", "items": items},
              sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
