#!/usr/bin/env python3
"""Generate a synthetic but schema-correct audit.k8s.io/v1 event log.

   test_audit_gen.py --bytes 300M [--seed N] [--start RFC3339] [-o FILE]
   test_audit_gen.py --bytes 300M --split DIR [--piece 64M | --pieces N] [--gzip-every N]

Lines are what kube-apiserver writes (Go encoding/json field order, one
event per line, RequestReceived then ResponseStarted/ResponseComplete stages
written in stage-time order).  Agent service accounts live in the ai-agents
and llm-gateway namespaces; some of their requests are forbidden, some are
impersonated by an operator, and a few Request-level secret writes carry the
canary value KCUSTODY-CANARY-<seed> (base64 in .data, plain in .stringData)
so that redaction can be checked.  With --split the output is cut into
lumberjack-style rotated pieces (<base>-<UTC 2006-01-02T15-04-05.000>.log,
every Nth piece gzip'd) plus the current audit.log, in DIR.  Deterministic
for a given seed.
"""
import argparse
import base64
import datetime as dt
import gzip
import heapq
import os
import random
import zlib
import sys

AGENTS = [
    ("ai-agents", "kagent", "kagent/0.3.1 (linux/amd64)"),
    ("ai-agents", "rag-indexer", "rag-indexer/1.4.0 python-requests/2.31"),
    ("ai-agents", "mcp-tools", "mcp-k8s-server/0.9 (linux/amd64)"),
    ("llm-gateway", "gateway", "llm-gateway/2.2.0 (linux/amd64)"),
]
SYSTEM = [
    ("system:kube-controller-manager", ["system:authenticated"],
     "kube-controller-manager/v1.29.2 (linux/amd64) kubernetes/4b8e819/leader-election"),
    ("system:kube-scheduler", ["system:authenticated"],
     "kube-scheduler/v1.29.2 (linux/amd64) kubernetes/4b8e819/leader-election"),
    ("system:apiserver", ["system:masters"], "kube-apiserver/v1.29.2 (linux/amd64) kubernetes/4b8e819"),
    ("system:serviceaccount:kube-system:replicaset-controller",
     ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
     "kube-controller-manager/v1.29.2 (linux/amd64) kubernetes/4b8e819/system:serviceaccount:kube-system:replicaset-controller"),
    ("system:serviceaccount:kube-system:endpointslice-controller",
     ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
     "kube-controller-manager/v1.29.2 (linux/amd64) kubernetes/4b8e819/system:serviceaccount:kube-system:endpointslice-controller"),
    ("system:serviceaccount:monitoring:prometheus",
     ["system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"],
     "Prometheus/2.48.0"),
]
HUMANS = [("alice@example.com", ["oidc:sre", "system:authenticated"], "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"),
          ("bob@example.com", ["oidc:dev", "system:authenticated"], "kubectl/v1.29.2 (darwin/arm64) kubernetes/4b8e819")]
NAMESPACES = ["default", "kube-system", "ai-agents", "llm-gateway", "payments", "monitoring", "rag-data"]
# (resource, apiGroup, apiVersion)
RESOURCES = [("pods", "", "v1"), ("secrets", "", "v1"), ("configmaps", "", "v1"),
             ("persistentvolumeclaims", "", "v1"), ("services", "", "v1"), ("endpoints", "", "v1"),
             ("events", "", "v1"), ("leases", "coordination.k8s.io", "v1"),
             ("deployments", "apps", "v1"), ("replicasets", "apps", "v1"),
             ("endpointslices", "discovery.k8s.io", "v1"), ("rolebindings", "rbac.authorization.k8s.io", "v1"),
             ("nodes", "", "v1"), ("namespaces", "", "v1")]
CLUSTER_SCOPED = {"nodes", "namespaces"}
AGENT_RES = [("secrets", "", "v1"), ("configmaps", "", "v1"), ("persistentvolumeclaims", "", "v1"),
             ("pods", "", "v1"), ("services", "", "v1"), ("deployments", "apps", "v1")]


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if s[-1].upper() in mult:
        return int(float(s[:-1]) * mult[s[-1].upper()])
    return int(s)


def ts(us):
    t = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%06dZ" % (us % 1000000)


def rot_name(us):
    t = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)
    return t.strftime("%Y-%m-%dT%H-%M-%S.") + "%03d" % ((us // 1000) % 1000)


class Gen:
    def __init__(self, seed, start_us):
        self.r = random.Random(seed)
        self.seed = seed
        self.now = start_us
        self.pending = []  # (stage_us, seq, line)
        self.seq = 0
        self.canary = "KCUSTODY-CANARY-%d" % seed

    def audit_id(self):
        return "%08x-%04x-4%03x-%04x-%012x" % (self.r.getrandbits(32), self.r.getrandbits(16),
                                               self.r.getrandbits(12), 0x8000 | self.r.getrandbits(14),
                                               self.r.getrandbits(48))

    def user_json(self, name, groups, extra):
        g = ",".join('"%s"' % x for x in groups)
        s = '{"username":"%s","uid":"%08x-%04x","groups":[%s]' % (name, zlib.crc32(name.encode()), len(name), g)
        if extra:
            s += ',"extra":{"authentication.kubernetes.io/pod-name":["%s"],' \
                 '"authentication.kubernetes.io/pod-uid":["%s"]}' % extra
        return s + "}"

    def pick_request(self):
        r = self.r
        x = r.random()
        imp = None
        if x < 0.12:
            ns_a, sa, ua = r.choice(AGENTS)
            user = "system:serviceaccount:%s:%s" % (ns_a, sa)
            groups = ["system:serviceaccounts", "system:serviceaccounts:" + ns_a, "system:authenticated"]
            extra = ("%s-%x" % (sa, r.getrandbits(20)), "%08x-0000-4000-8000-%012x" % (r.getrandbits(32), r.getrandbits(48)))
            res = r.choice(AGENT_RES)
            verb = r.choice(["get", "get", "list", "list", "watch", "create", "update", "patch", "delete"])
            ns = r.choice(NAMESPACES)
            forbidden = r.random() < 0.25
        elif x < 0.14:
            # an operator impersonating an agent
            user, groups, ua = HUMANS[0]
            extra = None
            ns_a, sa, _ = r.choice(AGENTS)
            imp = "system:serviceaccount:%s:%s" % (ns_a, sa)
            res = r.choice(AGENT_RES)
            verb = r.choice(["get", "list"])
            ns = r.choice(NAMESPACES)
            forbidden = r.random() < 0.3
        elif x < 0.20:
            user, groups, ua = r.choice(HUMANS)
            extra = None
            res = r.choice(RESOURCES)
            verb = r.choice(["get", "list", "create", "update", "patch", "delete", "watch"])
            ns = r.choice(NAMESPACES)
            forbidden = r.random() < 0.1
        else:
            user, groups, ua = r.choice(SYSTEM)
            extra = None
            res = r.choice(RESOURCES)
            verb = r.choice(["get", "list", "watch", "update", "patch", "create"])
            ns = r.choice(NAMESPACES)
            forbidden = r.random() < 0.01
        return user, groups, ua, extra, imp, res, verb, ns, forbidden

    def request(self):
        r = self.r
        user, groups, ua, extra, imp, (res, group, ver), verb, ns, forbidden = self.pick_request()
        if res in CLUSTER_SCOPED:
            ns = None
        name = None
        if verb not in ("list", "watch", "create") or r.random() < 0.1:
            name = "%s-%s" % (res[:-1] if res.endswith("s") else res, "%05d" % r.randrange(20000))
            if verb in ("list", "watch"):
                verb = "get"
        prefix = "/api/%s" % ver if group == "" else "/apis/%s/%s" % (group, ver)
        uri = prefix + ("/namespaces/%s" % ns if ns else "") + "/" + res
        if name and verb != "create":
            uri += "/" + name
        if verb == "list":
            uri += "?limit=500&resourceVersion=0"
        elif verb == "watch":
            uri += "?allowWatchBookmarks=true&resourceVersion=%d&timeout=9m12s&timeoutSeconds=552&watch=true" % r.randrange(10**6)
        level = "Metadata"
        body = None
        if verb in ("create", "update", "patch") and res in ("secrets", "configmaps", "rolebindings") and r.random() < 0.5:
            level = "Request"
            nm = name or "obj-%05d" % r.randrange(20000)
            if res == "secrets":
                if r.random() < 0.5:
                    body = ('{"kind":"Secret","apiVersion":"v1","metadata":{"name":"%s","namespace":"%s","creationTimestamp":null},'
                            '"data":{"token":"%s"},"type":"Opaque"}' % (nm, ns, base64.b64encode(self.canary.encode()).decode()))
                else:
                    body = ('{"kind":"Secret","apiVersion":"v1","metadata":{"name":"%s","namespace":"%s","creationTimestamp":null},'
                            '"stringData":{"password":"%s"},"type":"Opaque"}' % (nm, ns, self.canary))
            elif res == "configmaps":
                body = ('{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"%s","namespace":"%s","creationTimestamp":null},'
                        '"data":{"app.properties":"mode=prod\\nreplicas=%d\\n"}}' % (nm, ns, r.randrange(9)))
            else:
                body = ('{"kind":"RoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"%s","namespace":"%s",'
                        '"creationTimestamp":null},"subjects":[{"kind":"ServiceAccount","name":"kagent","namespace":"ai-agents"}],'
                        '"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"}}' % (nm, ns))
        aid = self.audit_id()
        t0 = self.now
        ip = "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), 1 + r.randrange(254))
        uj = self.user_json(user, groups, extra)
        imp_j = ""
        if imp:
            imp_j = ',"impersonatedUser":{"username":"%s","groups":["system:serviceaccounts","system:serviceaccounts:%s","system:authenticated"]}' % (
                imp, imp.split(":")[2])
        obj = '"objectRef":{"resource":"%s"' % res
        if ns:
            obj += ',"namespace":"%s"' % ns
        if name:
            obj += ',"name":"%s"' % name
        if group:
            obj += ',"apiGroup":"%s"' % group
        obj += ',"apiVersion":"%s"}' % ver
        head = ('{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"%s","auditID":"%s","stage":"%%s",'
                '"requestURI":"%s","verb":"%s","user":%s%s,"sourceIPs":["%s"],"userAgent":"%s",%s' % (
                    level, aid, uri.replace("&", "\\u0026"), verb, uj, imp_j, ip, ua, obj))
        req = ',"requestObject":' + body if body else ""
        rr = ts(t0)
        self.emit(t0, (head % "RequestReceived") + req + ',"requestReceivedTimestamp":"%s","stageTimestamp":"%s"}' % (rr, rr))
        if forbidden:
            code = 403
            status = (',"responseStatus":{"metadata":{},"status":"Failure","message":"%s \\"%s\\" is forbidden: User \\"%s\\" cannot %s resource \\"%s\\" in API group \\"%s\\"%s",'
                      '"reason":"Forbidden","details":{"kind":"%s"},"code":403}' % (
                          res, name or "", imp or user, verb, res, group, ' in the namespace \\"%s\\"' % ns if ns else " at the cluster scope", res))
            ann = ',"annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""}'
            req = ""
        else:
            code = 201 if verb == "create" else 200
            status = ',"responseStatus":{"metadata":{},"code":%d}' % code
            who = imp or user
            if who.startswith("system:serviceaccount:"):
                _, _, sns, sname = who.split(":")
                why = 'ClusterRoleBinding \\"%s-binding\\" of ClusterRole \\"%s-role\\" to ServiceAccount \\"%s/%s\\"' % (sname, sname, sname, sns)
            elif who.startswith("system:"):
                why = 'ClusterRoleBinding \\"%s\\" of ClusterRole \\"%s\\" to User \\"%s\\"' % (who, who, who)
            else:
                why = 'RoleBinding \\"edit\\" of ClusterRole \\"edit\\" to Group \\"%s\\"' % groups[0]
            ann = (',"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":'
                   '"RBAC: allowed by %s"}' % why)
        if verb == "watch" and not forbidden:
            t1 = t0 + r.randrange(1000, 5000)
            self.emit(t1, (head % "ResponseStarted") + status + req +
                      ',"requestReceivedTimestamp":"%s","stageTimestamp":"%s"%s}' % (rr, ts(t1), ann))
            t2 = t0 + r.randrange(60, 552) * 1000000
        else:
            t2 = t0 + r.randrange(300, 40000)
        self.emit(t2, (head % "ResponseComplete") + status + req +
                  ',"requestReceivedTimestamp":"%s","stageTimestamp":"%s"%s}' % (rr, ts(t2), ann))
        self.now += r.randrange(1000, 200000)

    def emit(self, t, line):
        self.seq += 1
        heapq.heappush(self.pending, (t, self.seq, line))

    def ready(self):
        """Lines whose stage time has passed, in write order."""
        out = []
        while self.pending and self.pending[0][0] <= self.now:
            out.append(heapq.heappop(self.pending)[2])
        return out

    def drain(self):
        out = []
        while self.pending:
            out.append(heapq.heappop(self.pending)[2])
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", default="10M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default="2026-03-02T08:00:00Z")
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--split", help="write rotated pieces into this folder")
    ap.add_argument("--piece", default="64M")
    ap.add_argument("--pieces", type=int, default=0, help="cut into about N pieces (overrides --piece)")
    ap.add_argument("--gzip-every", type=int, default=2, help="gzip every Nth backup (0: none)")
    a = ap.parse_args()
    total = parse_size(a.bytes)
    start = dt.datetime.strptime(a.start, "%Y-%m-%dT%H:%M:%SZ")
    start_us = int((start - dt.datetime(1970, 1, 1)).total_seconds()) * 1000000
    g = Gen(a.seed, start_us)
    written = 0
    piece = total // a.pieces if a.pieces > 0 else parse_size(a.piece)
    npiece = 0

    def open_out():
        if a.split:
            os.makedirs(a.split, exist_ok=True)
            return open(os.path.join(a.split, "audit.log.tmp"), "w", buffering=1 << 20)
        if a.output == "-":
            return sys.stdout
        return open(a.output, "w", buffering=1 << 20)

    out = open_out()
    pw = 0
    while written < total:
        g.request()
        for line in g.ready():
            out.write(line)
            out.write("\n")
            n = len(line) + 1
            written += n
            pw += n
            if a.split and pw >= piece:
                out.close()
                npiece += 1
                name = os.path.join(a.split, "audit-%s.log" % rot_name(g.now))
                os.rename(os.path.join(a.split, "audit.log.tmp"), name)
                if a.gzip_every and npiece % a.gzip_every == 0:
                    with open(name, "rb") as f, gzip.open(name + ".gz", "wb", compresslevel=1) as z:
                        while True:
                            b = f.read(1 << 20)
                            if not b:
                                break
                            z.write(b)
                    os.unlink(name)
                out = open_out()
                pw = 0
    for line in g.drain():
        out.write(line)
        out.write("\n")
    if a.split:
        out.close()
        os.rename(os.path.join(a.split, "audit.log.tmp"), os.path.join(a.split, "audit.log"))
    elif out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
