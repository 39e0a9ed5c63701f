#!/usr/bin/env python3
"""Write the PRE and POST estates that tests/fake/apiserver.py (scenario
"files") serves to `kcustody collect` for tests/golden/equiv.sh.

    estate.py OUT

OUT/pre and OUT/post each get version.json, kube-system.json, reviews.json
and one <resource>.json List per resource collect asks for.  The same
call always writes the same bytes.  The estate is the remediation story of
the README: agents in ai-agents and llm-gateway (the service accounts the
audit-log generator tests/cmd/test_audit_gen.py uses), each with a
different kind of risky access, plus a small random estate from
tests/cluster/gen-estate.py (fixed seed) for bulk.  Between PRE and POST:

- kagent loses its cluster-wide secret reader (ClusterRoleBinding
  removed) and gets a Role for two named configmaps instead;
- rag-indexer keeps its namespace wildcard (a persisting finding);
- mcp-tools keeps nearly every dangerous ability (exec, impersonate,
  escalate, bind, nodes/proxy, CSR approval, token minting, webhooks ...);
- gateway gains nodes/proxy in POST (a new finding) and its review is
  refused (403) by the server in POST;
- the agents' pods are not restarted (stale in POST), a NetworkPolicy is
  added, a RoleBinding points at a ClusterRole that does not exist.

Metadata-only lists (secrets, configmaps, PVCs) are PartialObjectMetadata
with a last-applied-configuration annotation, so collect's redaction runs.
This is input for a base-vs-new comparison, not a model of a real cluster:
nothing here has to be right, only the same for both binaries.
"""
import copy
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RBAC = "rbac.authorization.k8s.io/v1"
CREATED = "2026-03-01T09:00:00Z"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def uid(*parts):
    h = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:32])


def meta(kind, name, ns=None, labels=None, created=CREATED, **extra):
    m = {"name": name}
    if ns:
        m["namespace"] = ns
    m["uid"] = uid(kind, ns or "", name)
    m["resourceVersion"] = str(1000 + int(hashlib.sha256(name.encode()).hexdigest()[:4], 16))
    m["creationTimestamp"] = created
    if labels:
        m["labels"] = labels
    m.update(extra)
    return m


def rule(groups, resources, verbs, names=None):
    r = {"verbs": verbs, "apiGroups": groups, "resources": resources}
    if names:
        r["resourceNames"] = names
    return r


def nonres(urls, verbs):
    return {"verbs": verbs, "nonResourceURLs": urls}


def cluster_role(name, rules, **kw):
    return {"metadata": meta("ClusterRole", name, **kw), "rules": rules}


def role(ns, name, rules):
    return {"metadata": meta("Role", name, ns), "rules": rules}


def sa(ns, name):
    return {"kind": "ServiceAccount", "name": name, "namespace": ns}


def binding(kind, name, ref_kind, ref_name, subjects, ns=None):
    return {"metadata": meta(kind, name, ns),
            "subjects": subjects,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": ref_name}}


def pod(ns, name, account, labels, created):
    return {"metadata": meta("Pod", name, ns, labels, created),
            "spec": {"serviceAccountName": account,
                     "containers": [{"name": "main", "image": "registry.invalid/%s:1" % account}]},
            "status": {"phase": "Running"}}


def base_roles():
    view = [rule([""], ["pods", "pods/log", "services", "endpoints", "configmaps",
                        "persistentvolumeclaims", "serviceaccounts"], ["get", "list", "watch"]),
            rule(["apps"], ["deployments", "replicasets", "statefulsets"], ["get", "list", "watch"])]
    edit = view + [rule([""], ["pods", "services", "configmaps", "secrets"],
                        ["create", "delete", "patch", "update"]),
                   rule(["apps"], ["deployments"], ["create", "delete", "patch", "update"])]
    agg = {"clusterRoleSelectors": [{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}}]}
    return [
        cluster_role("cluster-admin", [rule(["*"], ["*"], ["*"]), nonres(["*"], ["*"])]),
        dict(cluster_role("admin", edit + [rule([RBAC.split("/")[0]], ["roles", "rolebindings"],
                                                 ["create", "delete", "patch", "update"])]),
             aggregationRule=agg),
        cluster_role("edit", edit),
        cluster_role("view", view),
        cluster_role("system:basic-user", [rule(["authorization.k8s.io"],
                                                ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                                                ["create"])]),
        cluster_role("system:discovery", [nonres(["/api", "/api/*", "/apis", "/apis/*", "/version"], ["get"])]),
        cluster_role("secret-reader", [rule([""], ["secrets"], ["get", "list", "watch"])]),
        cluster_role("agent-ops", [
            rule([""], ["pods/exec", "pods/portforward"], ["create"]),
            rule([""], ["serviceaccounts"], ["impersonate"]),
            rule([""], ["serviceaccounts/token"], ["create"]),
            rule(["rbac.authorization.k8s.io"], ["roles", "clusterroles"], ["escalate", "bind", "update"]),
            rule([""], ["nodes/proxy"], ["get"]),
            rule(["certificates.k8s.io"], ["certificatesigningrequests/approval"], ["update"]),
            rule(["admissionregistration.k8s.io"], ["validatingwebhookconfigurations"], ["create", "patch"]),
            rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], ["create"]),
            rule([""], ["nodes"], ["patch"]),
            rule([""], ["persistentvolumes"], ["create"]),
            rule([""], ["endpoints"], ["update"]),
            rule([""], ["namespaces"], ["delete"]),
            rule([""], ["events"], ["delete"]),
            nonres(["*"], ["get", "post"]),
        ], labels={"kcustody.test/agent-role": "true"}),
        cluster_role("node-proxy", [rule([""], ["nodes/proxy", "nodes"], ["get", "list"])]),
    ]


def estate(phase, bulk):
    post = phase == "post"
    nss = ["default", "kube-system", "ai-agents", "llm-gateway", "payments", "monitoring", "rag-data"]
    namespaces = [{"metadata": meta("Namespace", n, labels={"kubernetes.io/metadata.name": n})} for n in nss]
    accounts = [("ai-agents", "kagent"), ("ai-agents", "rag-indexer"), ("ai-agents", "mcp-tools"),
                ("ai-agents", "default"), ("llm-gateway", "gateway"), ("llm-gateway", "default"),
                ("payments", "api"), ("monitoring", "prometheus"), ("kube-system", "replicaset-controller")]
    # workload identity on two accounts (the cloud reach of inventory.csv),
    # beside an annotation nothing reads: collect's model keeps only the former
    cloud = {"kagent": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/kagent",
                        LAST_APPLIED: '{"kind":"ServiceAccount"}'},
             "rag-indexer": {"iam.gke.io/gcp-service-account": "rag@proj.iam.gserviceaccount.com",
                             "azure.workload.identity/client-id": "00000000-0000-0000-0000-0000000000aa"}}
    serviceaccounts = [{"metadata": meta("ServiceAccount", n, ns, {"app": n},
                                         **({"annotations": cloud[n]} if n in cloud else {}))}
                       for ns, n in accounts]
    clusterroles = base_roles()
    crbs = [
        binding("ClusterRoleBinding", "cluster-admin", "ClusterRole", "cluster-admin",
                [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}]),
        binding("ClusterRoleBinding", "system:basic-user", "ClusterRole", "system:basic-user",
                [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}]),
        binding("ClusterRoleBinding", "system:discovery", "ClusterRole", "system:discovery",
                [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}]),
        binding("ClusterRoleBinding", "mcp-ops", "ClusterRole", "agent-ops", [sa("ai-agents", "mcp-tools")]),
        binding("ClusterRoleBinding", "ai-agents-view", "ClusterRole", "view",
                [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccounts:ai-agents"}]),
    ]
    roles = [
        role("ai-agents", "all", [rule(["*"], ["*"], ["*"])]),
        role("payments", "payments-secrets", [rule([""], ["secrets"], ["get", "list"])]),
        role("kube-system", "cm-writer", [rule([""], ["configmaps"], ["update", "patch"])]),
    ]
    rbs = [
        binding("RoleBinding", "rag-all", "Role", "all", [sa("ai-agents", "rag-indexer")], "ai-agents"),
        binding("RoleBinding", "gateway-payments", "Role", "payments-secrets", [sa("llm-gateway", "gateway")], "payments"),
        binding("RoleBinding", "rag-ghost", "ClusterRole", "ghost-role", [sa("ai-agents", "rag-indexer")], "rag-data"),
        binding("RoleBinding", "people-view", "ClusterRole", "view",
                [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice@example.com"},
                 {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "oidc:sre"}], "monitoring"),
        binding("RoleBinding", "prom-cm", "Role", "cm-writer", [sa("monitoring", "prometheus")], "kube-system"),
        binding("RoleBinding", "kagent-edit", "ClusterRole", "edit", [sa("ai-agents", "kagent")], "rag-data"),
    ]
    if post:
        roles.append(role("ai-agents", "kagent-config",
                          [rule([""], ["configmaps"], ["get", "list"], ["agent-config", "prompts"])]))
        rbs.append(binding("RoleBinding", "kagent-config", "Role", "kagent-config",
                           [sa("ai-agents", "kagent")], "ai-agents"))
        crbs.append(binding("ClusterRoleBinding", "gateway-nodes", "ClusterRole", "node-proxy",
                            [sa("llm-gateway", "gateway")]))
    else:
        crbs.append(binding("ClusterRoleBinding", "kagent-secrets", "ClusterRole", "secret-reader",
                            [sa("ai-agents", "kagent")]))
    pods = [pod("ai-agents", "kagent-0", "kagent", {"app": "kagent", "ai.example/agent": "true"}, "2026-03-01T10:00:00Z"),
            pod("ai-agents", "rag-indexer-0", "rag-indexer", {"app": "rag-indexer", "ai.example/agent": "true"},
                "2026-03-01T10:00:00Z"),
            pod("ai-agents", "mcp-tools-0", "mcp-tools", {"app": "mcp-tools"}, "2026-03-01T10:05:00Z"),
            pod("llm-gateway", "gateway-0", "gateway", {"app": "gateway", "ai.example/agent": "true"},
                "2026-03-01T11:00:00Z"),
            pod("payments", "api-0", "api", {"app": "api"}, "2026-03-01T11:00:00Z")]
    if post:
        pods.append(pod("ai-agents", "rag-indexer-1", "rag-indexer", {"app": "rag-indexer"}, "2026-03-02T12:00:00Z"))
    netpols = [{"metadata": meta("NetworkPolicy", "allow-egress-llm", "llm-gateway"),
                "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}}]
    if post:
        netpols.append({"metadata": meta("NetworkPolicy", "default-deny", "ai-agents"),
                        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
    la = {LAST_APPLIED: '{"apiVersion":"v1","kind":"Secret","data":{"password":"bm90LXN0b3JlZA=="}}'}
    secrets = [{"metadata": meta("Secret", "db-password", "payments", annotations=la)},
               {"metadata": meta("Secret", "kagent-token", "ai-agents")},
               {"metadata": meta("Secret", "openai-key", "llm-gateway")}]
    configmaps = [{"metadata": meta("ConfigMap", "agent-config", "ai-agents",
                                    annotations={LAST_APPLIED: '{"data":{"mode":"prod"}}'})},
                  {"metadata": meta("ConfigMap", "prompts", "ai-agents")},
                  {"metadata": meta("ConfigMap", "kube-root-ca.crt", "kube-system")}]
    pvcs = [{"metadata": meta("PersistentVolumeClaim", "vectors", "rag-data")}]

    # the bulk estate (gen-estate.py: objects without server metadata)
    by_kind = {}
    for it in bulk["items"]:
        m = it["metadata"]
        # secrets and configmaps are listed metadata only
        obj = {} if it["kind"] in ("Secret", "ConfigMap") else \
            {k: copy.deepcopy(v) for k, v in it.items() if k not in ("kind", "apiVersion", "metadata")}
        obj = dict({"metadata": meta(it["kind"], m["name"], m.get("namespace"), m.get("labels"))}, **obj)
        by_kind.setdefault(it["kind"], []).append(obj)
    namespaces += by_kind.get("Namespace", [])
    serviceaccounts += by_kind.get("ServiceAccount", [])
    roles += by_kind.get("Role", [])
    rbs += by_kind.get("RoleBinding", [])
    pods += by_kind.get("Pod", [])
    secrets += by_kind.get("Secret", [])
    configmaps += by_kind.get("ConfigMap", [])

    rv = "5000" if post else "4000"

    # StatefulSet ai-agents/kagent owns kagent-0; a literal env value in
    # both (stored as its SHA-256 by collect)
    kagent_pod = next(p for p in pods if p["metadata"]["name"] == "kagent-0")
    env = [{"name": "MODEL_API_KEY", "value": "equiv-not-a-real-key-0001"},
           {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "kagent-token", "key": "token"}}}]
    kagent_pod["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "kagent",
                                                  "uid": uid("StatefulSet", "ai-agents", "kagent"),
                                                  "controller": True}]
    kagent_pod["spec"]["containers"][0]["env"] = env
    statefulsets = [{"metadata": meta("StatefulSet", "kagent", "ai-agents", {"app": "kagent"}),
                     "spec": {"template": {"spec": {"serviceAccountName": "kagent",
                                                    "containers": [{"name": "main", "image": "registry.invalid/kagent:1",
                                                                    "env": env}]}}}}]

    def lst(kind, api, items, partial=False):
        if partial:
            return {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                    "metadata": {"resourceVersion": rv}, "items": [dict(i, kind="PartialObjectMetadata",
                                                                       apiVersion="meta.k8s.io/v1") for i in items]}
        return {"kind": kind, "apiVersion": api, "metadata": {"resourceVersion": rv}, "items": items}

    files = {
        "version": {"major": "1", "minor": "20", "gitVersion": "v1.20.2-equiv", "platform": "linux/amd64"},
        "kube-system": {"kind": "Namespace", "apiVersion": "v1",
                        "metadata": meta("Namespace", "kube-system", created="2026-01-01T00:00:00Z")},
        "clusterroles": lst("ClusterRoleList", RBAC, clusterroles),
        "clusterrolebindings": lst("ClusterRoleBindingList", RBAC, crbs),
        "roles": lst("RoleList", RBAC, roles),
        "rolebindings": lst("RoleBindingList", RBAC, rbs),
        "namespaces": lst("NamespaceList", "v1", namespaces),
        "serviceaccounts": lst("ServiceAccountList", "v1", serviceaccounts),
        "pods": lst("PodList", "v1", pods),
        "networkpolicies": lst("NetworkPolicyList", "networking.k8s.io/v1", netpols),
        "secrets": lst("", "", secrets, True),
        "configmaps": lst("", "", configmaps, True),
        "persistentvolumeclaims": lst("", "", pvcs, True),
        # workload owners (issue 13): kagent-0 belongs to StatefulSet kagent
        "deployments": lst("DeploymentList", "apps/v1", []),
        "statefulsets": lst("StatefulSetList", "apps/v1", statefulsets),
        "daemonsets": lst("DaemonSetList", "apps/v1", []),
        "replicasets": lst("ReplicaSetList", "apps/v1", []),
        "jobs": lst("JobList", "batch/v1", []),
        "cronjobs": lst("CronJobList", "batch/v1", []),
    }
    # Server reviews: the collector's own, kagent's (close to its RBAC, so
    # that some agree with the evaluator and some do not), gateway refused
    # in POST; everyone else gets empty rules.
    kagent = [{"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["secrets"]},
              {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
               "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}]
    if post:
        kagent = kagent[1:] + [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps"],
                                "resourceNames": ["agent-config", "prompts"]}]
    reviews = {
        "": {"*": {"resourceRules": [{"verbs": ["get", "list", "watch"], "apiGroups": ["*"], "resources": ["*"]}],
                   "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/version"]}], "incomplete": False}},
        "system:serviceaccount:ai-agents:kagent": {"*": {"resourceRules": kagent, "nonResourceRules": [
            {"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/version"]}],
            "incomplete": False}},
        "system:serviceaccount:ai-agents:mcp-tools": {"*": {"resourceRules": [], "nonResourceRules": [],
                                                            "incomplete": True,
                                                            "evaluationError": "webhook authorizer unavailable"}},
    }
    if post:
        reviews["system:serviceaccount:llm-gateway:gateway"] = {"*": {
            "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403,
            "message": 'users "system:serviceaccount:llm-gateway:gateway" is forbidden: User '
                       '"equiv-collector" cannot impersonate resource "users" in API group ""'}}
    files["reviews"] = reviews
    return files


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: estate.py OUT")
    out = sys.argv[1]
    raw = subprocess.run([sys.executable, os.path.join(HERE, "..", "cluster", "gen-estate.py"),
                          "7", "6", "40", "40", "60"], check=True, capture_output=True).stdout
    bulk = json.loads(raw)
    for phase in ("pre", "post"):
        d = os.path.join(out, phase)
        os.makedirs(d, exist_ok=True)
        for name, doc in estate(phase, bulk).items():
            with open(os.path.join(d, name + ".json"), "w") as f:
                json.dump(doc, f, indent=1, sort_keys=False)
                f.write("\n")


if __name__ == "__main__":
    main()
