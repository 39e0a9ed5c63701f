#!/usr/bin/env python3
"""Load a fixed-seed estate shaped like a real cluster, fast, straight
through the API of a tests/cluster cluster (no controllers needed).

    gen-scale.py ENV_SH SIZE [--workers N]      load (resumable), print a summary
    gen-scale.py ENV_SH SIZE --check            exit 0 iff SIZE is fully loaded
    gen-scale.py - SIZE --count                 print the object count SIZE makes

SIZE is a preset (10k, 50k, 150k) or NS:PODS (namespaces, pods). ENV_SH is
the cluster's env.sh (tests/cluster/start.sh); the admin client certificate
is used, TLS is verified against the cluster's CA.

Per namespace scale-NNNNN (PODS/NS pods each, in deployments of 5 replicas):
- service account app; every 5th namespace also an agent-named one
  (kagent-bot, ai-gateway or rag-agent: all match collect's default
  --agents regex; label kcustody.test/agent=true);
- Roles app-reader (pods, configmaps: get/list/watch) and deployer
  (deployments, replicasets: all verbs); every 5th namespace secret-reader;
- RoleBindings: app-reader to the account app and group team-<i%50>,
  deployer to user dev-<i%200>@example.com, view (ClusterRole) to group
  viewers; in an agent namespace agent-binding binds the agent account to
  secret-reader and, every 15th namespace, to the aggregated ClusterRole
  scale-agent-aggregate;
- one Opaque secret app-secret (value: gen-estate.py's canary) and one
  configmap app-config;
- deployments app-K, each with its replicaset app-K-<hash> (ownerReference
  to the deployment's real uid) and 5 pods app-K-<hash>-<suffix>
  (ownerReference to the replicaset's uid); the first deployment of an
  agent namespace runs as the agent account, the others as app.
Cluster-wide: ClusterRole scale-agent-aggregate (aggregationRule on label
kcustody.test/aggregate-to-scale-agent=true) and three labelled ClusterRoles
that feed it; ClusterRoleBindings of cluster-admin to group platform-admins,
view to user auditor@example.com, scale-agent-aggregate to group agents.

Namespaces are loaded in parallel (--workers connections, one namespace per
task, objects in dependency order); an object that already exists is kept
(its uid is read back), so an interrupted load resumes. When everything is
in, ConfigMap kube-system/kcustody-scale-estate records SIZE and the
object count; --check looks for exactly that.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import shlex
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

CANARY = "kcustody-estate-canary-not-a-real-secret"
AGENT_KINDS = ["kagent-bot", "ai-gateway", "rag-agent"]
PRESETS = {"10k": (250, 5000), "50k": (1250, 25000), "150k": (10000, 150000)}
REPLICAS = 5
MARKER = "kcustody-scale-estate"
IMAGE = "registry.invalid/app:1"


def parse_size(s):
    if s in PRESETS:
        return PRESETS[s]
    try:
        ns, pods = (int(x) for x in s.split(":"))
    except ValueError:
        sys.exit("gen-scale.py: SIZE is 10k, 50k, 150k or NS:PODS, not %r" % s)
    if ns < 1 or pods < 0:
        sys.exit("gen-scale.py: NS must be >= 1 and PODS >= 0")
    return ns, pods


def per_ns(n_ns, n_pods, i):
    """Pods in namespace i: PODS spread evenly (the first ones get the rest)."""
    return n_pods // n_ns + (1 if i < n_pods % n_ns else 0)


def cluster_objects():
    lab = {"kcustody.test/aggregate-to-scale-agent": "true"}
    crs = [
        {"metadata": {"name": "scale-agent-aggregate"},
         "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": lab}]},
         "rules": []},
        {"metadata": {"name": "scale-agent-read-pods", "labels": lab},
         "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"],
                    "verbs": ["get", "list", "watch"]}]},
        {"metadata": {"name": "scale-agent-read-secrets", "labels": lab},
         "rules": [{"apiGroups": [""], "resources": ["secrets"],
                    "verbs": ["get", "list"]}]},
        {"metadata": {"name": "scale-agent-exec", "labels": lab},
         "rules": [{"apiGroups": [""], "resources": ["pods/exec"],
                    "verbs": ["create"]}]},
    ]
    crbs = [
        ("scale-platform-admins", "cluster-admin", "Group", "platform-admins"),
        ("scale-auditor", "view", "User", "auditor@example.com"),
        ("scale-agents", "scale-agent-aggregate", "Group", "agents"),
    ]
    out = [("/apis/rbac.authorization.k8s.io/v1/clusterroles",
            dict(apiVersion="rbac.authorization.k8s.io/v1", kind="ClusterRole", **c))
           for c in crs]
    for name, role, kind, subj in crbs:
        out.append(("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": kind,
                          "name": subj}]}))
    return out


def ns_plan(seed, n_ns, n_pods, i):
    """The namespace's objects as (path, body, owner-step) in creation order.
    owner-step: None, or ("dep", k) / ("rs", k) naming whose uid the object's
    ownerReference needs (filled in by the loader)."""
    rnd = random.Random("%d/%d" % (seed, i))
    ns = "scale-%05d" % i
    core = "/api/v1/namespaces/" + ns
    rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/" + ns
    apps = "/apis/apps/v1/namespaces/" + ns
    agent = None
    if i % 5 == 0:
        agent = "%s-%d" % (AGENT_KINDS[(i // 5) % 3], i)
    plan = [("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": ns, "labels": {"kcustody.test/scale": "true"}}}, None)]

    def m(name, labels=None):
        d = {"name": name, "namespace": ns}
        if labels:
            d["labels"] = labels
        return d
    plan.append((core + "/serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                 "metadata": m("app")}, None))
    if agent:
        plan.append((core + "/serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                     "metadata": m(agent, {"kcustody.test/agent": "true"})}, None))
    roles = {
        "app-reader": [{"apiGroups": [""], "resources": ["pods", "configmaps"],
                        "verbs": ["get", "list", "watch"]}],
        "deployer": [{"apiGroups": ["apps"], "resources": ["deployments", "replicasets"],
                      "verbs": ["*"]}],
    }
    if i % 5 == 0:
        roles["secret-reader"] = [{"apiGroups": [""], "resources": ["secrets"],
                                   "verbs": ["get", "list", "watch"]}]
    for name, rules in roles.items():
        plan.append((rbac + "/roles", {"apiVersion": "rbac.authorization.k8s.io/v1",
                     "kind": "Role", "metadata": m(name), "rules": rules}, None))

    def rb(name, kind, role, subjects):
        return (rbac + "/rolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": m(name),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": subjects}, None)
    sa = lambda n: {"kind": "ServiceAccount", "name": n, "namespace": ns}
    grp = lambda n: {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": n}
    usr = lambda n: {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": n}
    plan.append(rb("app-reader", "Role", "app-reader", [sa("app"), grp("team-%d" % (i % 50))]))
    plan.append(rb("deployer", "Role", "deployer", [usr("dev-%d@example.com" % (i % 200))]))
    plan.append(rb("viewers", "ClusterRole", "view", [grp("viewers")]))
    if agent:
        plan.append(rb("agent-binding", "Role", "secret-reader", [sa(agent)]))
        if i % 15 == 0:
            plan.append(rb("agent-aggregate", "ClusterRole", "scale-agent-aggregate", [sa(agent)]))
    plan.append((core + "/secrets", {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                 "metadata": m("app-secret"),
                 "data": {"token": base64.b64encode(CANARY.encode()).decode()}}, None))
    plan.append((core + "/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": m("app-config"),
                 "data": {"LOG_LEVEL": rnd.choice(["info", "debug", "warn"])}}, None))
    pods = per_ns(n_ns, n_pods, i)
    ndep = (pods + REPLICAS - 1) // REPLICAS
    for k in range(ndep):
        dep = "app-%d" % k
        acct = agent if (agent and k == 0) else "app"
        h = hashlib.sha256(("%d/%d/%d" % (seed, i, k)).encode()).hexdigest()[:10]
        rsname = "%s-%s" % (dep, h)
        sel = {"app": dep}
        tmpl = {"metadata": {"labels": dict(sel)},
                "spec": {"serviceAccountName": acct,
                         "containers": [{"name": "app", "image": IMAGE}]}}
        replicas = min(REPLICAS, pods - k * REPLICAS)
        plan.append((apps + "/deployments", {"apiVersion": "apps/v1", "kind": "Deployment",
                     "metadata": m(dep, sel),
                     "spec": {"replicas": replicas, "selector": {"matchLabels": sel},
                              "template": tmpl}}, None))
        rs_labels = dict(sel, **{"pod-template-hash": h})
        plan.append((apps + "/replicasets", {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                     "metadata": m(rsname, rs_labels),
                     "spec": {"replicas": replicas, "selector": {"matchLabels": rs_labels},
                              "template": {"metadata": {"labels": rs_labels},
                                           "spec": tmpl["spec"]}}}, ("dep", dep)))
        for r in range(replicas):
            suffix = hashlib.sha256(("%s/%d" % (rsname, r)).encode()).hexdigest()[:5]
            plan.append((core + "/pods", {"apiVersion": "v1", "kind": "Pod",
                         "metadata": m("%s-%s" % (rsname, suffix), rs_labels),
                         "spec": tmpl["spec"]}, ("rs", rsname)))
    return plan


def count(seed, n_ns, n_pods):
    return len(cluster_objects()) + sum(len(ns_plan(seed, n_ns, n_pods, i)) for i in range(n_ns))


class Client:
    """One keep-alive HTTPS connection per thread, admin client certificate."""

    def __init__(self, env):
        u = env["KC_SERVER"].split("//", 1)[1]
        self.host, self.port = u.split(":")[0], int(u.split(":")[1])
        pki = env["KC_PKI_DIR"]
        self.ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
        self.ctx.load_cert_chain(pki + "/admin.crt", pki + "/admin.key")
        self.local = threading.local()

    def conn(self):
        c = getattr(self.local, "c", None)
        if c is None:
            c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=120)
            self.local.c = c
        return c

    def req(self, method, path, body=None):
        hdr = {"User-Agent": "kcustody-gen-scale", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            hdr["Content-Type"] = "application/json"
        for attempt in range(8):
            try:
                c = self.conn()
                c.request(method, path, body=data, headers=hdr)
                r = c.getresponse()
                out = r.read()
            except (OSError, http.client.HTTPException):
                self.local.c = None
                time.sleep(0.5 * (attempt + 1))
                continue
            if r.status in (429, 500, 503, 504):
                time.sleep(0.5 * (attempt + 1))
                continue
            return r.status, out
        raise RuntimeError("%s %s: no answer after retries" % (method, path))

    def create(self, path, body):
        """Create; an existing object is kept. Returns its uid."""
        st, out = self.req("POST", path, body)
        if st == 201 or st == 200:
            return json.loads(out)["metadata"]["uid"]
        if st == 409:
            name = body["metadata"]["name"]
            gpath = path + "/" + name
            st2, out2 = self.req("GET", gpath)
            if st2 == 200:
                return json.loads(out2)["metadata"]["uid"]
            raise RuntimeError("GET %s: HTTP %d %s" % (gpath, st2, out2[:300]))
        raise RuntimeError("POST %s %s: HTTP %d %s" % (path, body["metadata"]["name"], st, out[:300]))


def load_ns(cl, seed, n_ns, n_pods, i):
    uids = {}
    for path, body, owner in ns_plan(seed, n_ns, n_pods, i):
        if owner:
            kind, name = owner
            body["metadata"]["ownerReferences"] = [{
                "apiVersion": "apps/v1", "kind": "Deployment" if kind == "dep" else "ReplicaSet",
                "name": name, "uid": uids[(kind, name)], "controller": True,
                "blockOwnerDeletion": True}]
        uid = cl.create(path, body)
        if body["kind"] in ("Deployment", "ReplicaSet"):
            uids[("dep" if body["kind"] == "Deployment" else "rs", body["metadata"]["name"])] = uid


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                line = line[7:]
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                env[k] = " ".join(shlex.split(v)) if v else ""
    for k in ("KC_SERVER", "KC_PKI_DIR"):
        if k not in env:
            sys.exit("gen-scale.py: %s has no %s" % (path, k))
    return env


def marker_value(size, n_ns, n_pods, objects):
    return "size=%s ns=%d pods=%d objects=%d seed=7 replicas=%d" % (size, n_ns, n_pods, objects, REPLICAS)


def main():
    ap = argparse.ArgumentParser(description="load a scale estate (see the docstring)")
    ap.add_argument("env_sh")
    ap.add_argument("size")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--count", action="store_true")
    a = ap.parse_args()
    seed = 7
    n_ns, n_pods = parse_size(a.size)
    if a.count:
        print(count(seed, n_ns, n_pods))
        return 0
    objects = count(seed, n_ns, n_pods)
    want = marker_value(a.size, n_ns, n_pods, objects)
    cl = Client(read_env(a.env_sh))
    st, out = cl.req("GET", "/api/v1/namespaces/kube-system/configmaps/" + MARKER)
    have = json.loads(out).get("data", {}).get("estate") if st == 200 else None
    if a.check:
        return 0 if have == want else 1
    if have == want:
        print("gen-scale: estate %s already loaded (%d objects)" % (a.size, objects))
        return 0
    if have is not None:
        sys.exit("gen-scale.py: this cluster holds another estate (%s); use another cluster dir" % have)
    t0 = time.time()
    for path, body in cluster_objects():
        cl.create(path, body)
    done = [0]
    lock = threading.Lock()

    def task(i):
        load_ns(cl, seed, n_ns, n_pods, i)
        with lock:
            done[0] += 1
            d = done[0]
        if d % max(1, n_ns // 20) == 0:
            el = time.time() - t0
            sys.stderr.write("gen-scale: %d/%d namespaces, %.0f s, ~%.0f objects/s\n"
                             % (d, n_ns, el, objects * d / n_ns / el))
    with ThreadPoolExecutor(max_workers=a.workers) as ex:
        for f in [ex.submit(task, i) for i in range(n_ns)]:
            f.result()
    cl.create("/api/v1/namespaces/kube-system/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": MARKER, "namespace": "kube-system"}, "data": {"estate": want}})
    el = time.time() - t0
    print("gen-scale: loaded %s: %d objects (%d namespaces, %d pods) in %.0f s, %.0f objects/s, %.0f pods/s"
          % (a.size, objects, n_ns, n_pods, el, objects / el, n_pods / el))
    return 0


if __name__ == "__main__":
    sys.exit(main())
