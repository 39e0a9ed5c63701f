#!/usr/bin/env python3
"""A scripted HTTPS API server for the failure cases a real kube-apiserver
cannot be made to produce on demand: 503 and 429 with Retry-After before an
answer, an expired continue token (410 Gone) in the middle of a list, a
server that answers a metadata-only request with full Secret objects, a
list that keeps failing with 500, and an oversized answer (scenario
"faults", tests/cmd/test_client_faults.sh); and names no real server would
accept, which a compromised one or a man in the middle could send
(scenario "names-hostile": a service account `a/../../x`, a namespace `..`,
names with a newline, a 300-byte namespace) beside legal ones with ':'
(scenario "names-legal"; both tests/cmd/test_collect_names.sh).
Everything else is tested against the real server.

Scenario "files" serves a fixed estate from the folder DIR (written by
tests/golden/estate.py, for tests/golden/equiv.sh, which must not need the
real server): DIR/version.json for /version, DIR/kube-system.json, and
DIR/<resource>.json, one List per resource (the last segment of the list
path), paged by ?limit= with the offset as continue token; a file holding
a Status is answered with its code.  SelfSubjectRulesReviews are answered
from DIR/reviews.json, {"<Impersonate-User or empty>": {"<namespace>":
STATUS}}, where STATUS is a review's status or a Status with a code; an
entry "*" stands for any namespace, and an account it does not name gets
empty rules.

    apiserver.py CERT KEY PORTFILE LOGFILE [SCENARIO [DIR]]

Every scenario answers API discovery (/api, /apis, /api/v1,
/apis/GROUP/VERSION) from the table DISCOVERY below: a subset of a 1.20
server's resources plus kagent's group kagent.dev (agents, modelconfigs,
toolservers), so that collect stores discovery and the analysis expands
wildcards over it; in scenario "faults", "metrics.k8s.io/v1beta1" answers
503, as an unavailable aggregated API does, and "secured.kcr-test.io/v1"
403 (both recorded, the collection partial; a real server cannot be made
to refuse discovery without editing the cluster's bootstrap bindings).
Scenario "files" answers from DIR/discovery.json instead when it exists.

With KC_FAKE_DROP set (paths, comma-separated), a GET of one of those
paths (its query aside) is answered with nothing: the connection is closed,
as when a server dies mid-run (any scenario).

Writes the port it listens on to PORTFILE and one JSON line per request to
LOGFILE (method, path, the Audit-ID, User-Agent and Impersonate-User
headers, whether an Authorization header was present).
"""
import http.server
import json
import os
import socket
import ssl
import sys
import threading

CERT, KEY, PORTFILE, LOGFILE = sys.argv[1:5]
SCENARIO = sys.argv[5] if len(sys.argv) > 5 else "faults"
DIR = sys.argv[6] if len(sys.argv) > 6 else None
CANARY = "fake-canary-value-never-stored"
state = {"version": 0, "rb": 0}
DROP = [x for x in os.environ.get("KC_FAKE_DROP", "").split(",") if x]

RW = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
RO = ["get", "list", "watch"]


def r(name, kind, namespaced, verbs=RW, short=None):
    d = {"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": verbs}
    if short:
        d["shortNames"] = short
    return d


DISCOVERY_GV = {
    "v1": [r("pods", "Pod", True, short=["po"]), r("pods/log", "Pod", True, ["get"]),
           r("pods/exec", "PodExecOptions", True, ["create", "get"]), r("pods/status", "Pod", True, ["get", "patch", "update"]),
           r("secrets", "Secret", True), r("configmaps", "ConfigMap", True, short=["cm"]),
           r("serviceaccounts", "ServiceAccount", True, short=["sa"]),
           r("serviceaccounts/token", "TokenRequest", True, ["create"]),
           r("persistentvolumeclaims", "PersistentVolumeClaim", True, short=["pvc"]),
           r("services", "Service", True, short=["svc"]), r("events", "Event", True, short=["ev"]),
           r("namespaces", "Namespace", False, ["create", "delete", "get", "list", "patch", "update", "watch"], ["ns"]),
           r("nodes", "Node", False, short=["no"]), r("nodes/proxy", "NodeProxyOptions", False, ["create", "get"]),
           r("persistentvolumes", "PersistentVolume", False, short=["pv"])],
    "apps/v1": [r("deployments", "Deployment", True, short=["deploy"]), r("deployments/scale", "Scale", True, ["get", "patch", "update"]),
                r("statefulsets", "StatefulSet", True, short=["sts"]), r("daemonsets", "DaemonSet", True, short=["ds"]),
                r("replicasets", "ReplicaSet", True, short=["rs"])],
    "batch/v1": [r("jobs", "Job", True)],
    "rbac.authorization.k8s.io/v1": [r("clusterroles", "ClusterRole", False), r("clusterrolebindings", "ClusterRoleBinding", False),
                                     r("roles", "Role", True), r("rolebindings", "RoleBinding", True)],
    "networking.k8s.io/v1": [r("networkpolicies", "NetworkPolicy", True, short=["netpol"])],
    "apiextensions.k8s.io/v1": [r("customresourcedefinitions", "CustomResourceDefinition", False, short=["crd", "crds"])],
    "authorization.k8s.io/v1": [r("selfsubjectrulesreviews", "SelfSubjectRulesReview", False, ["create"])],
    "kagent.dev/v1alpha1": [r("agents", "Agent", True), r("agents/status", "Agent", True, ["get", "patch", "update"]),
                            r("modelconfigs", "ModelConfig", True), r("toolservers", "ToolServer", True)],
}
if SCENARIO == "faults":
    DISCOVERY_GV["metrics.k8s.io/v1beta1"] = None
    DISCOVERY_GV["secured.kcr-test.io/v1"] = "forbidden"


def discovery(path):
    """(code, body) for a discovery path, or None."""
    table = DISCOVERY_GV
    if SCENARIO == "files" and DIR:
        try:
            with open("%s/discovery.json" % DIR) as f:
                table = json.load(f)
        except FileNotFoundError:
            pass
    if path == "/api":
        return 200, {"kind": "APIVersions", "versions": ["v1"],
                     "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}
    if path == "/apis":
        groups = {}
        for gv in table:
            if "/" in gv:
                g, v = gv.split("/")
                groups.setdefault(g, []).append({"groupVersion": gv, "version": v})
        return 200, {"kind": "APIGroupList", "apiVersion": "v1",
                     "groups": [{"name": g, "versions": vs, "preferredVersion": vs[0]} for g, vs in groups.items()]}
    gv = path[len("/api/"):] if path.startswith("/api/") else path[len("/apis/"):] if path.startswith("/apis/") else None
    if gv is None or gv not in table or path.count("/") != (2 if path.startswith("/api/") else 3):
        return None
    if table[gv] == "forbidden":
        return 403, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403, "reason": "Forbidden",
                     "message": "forbidden: User \"u\" cannot get path \"%s\"" % path}
    if table[gv] is None:
        return 503, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 503,
                     "message": "the server is currently unable to handle the request", "reason": "ServiceUnavailable"}
    return 200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": table[gv]}
lock = threading.Lock()


def lst(kind, items, cont="", rv="100"):
    return {"kind": kind, "apiVersion": "v1",
            "metadata": {"resourceVersion": rv, "continue": cont}, "items": items}


def obj(name, ns=None, uid=None):
    md = {"name": name, "uid": uid or ("uid-" + name), "resourceVersion": "7"}
    if ns:
        md["namespace"] = ns
    return {"metadata": md}


LONG_NS = "n" * 300


def names_lists(hostile, nul=False):
    """RBAC objects, namespaces and service accounts of the names scenarios,
    by resource (the last part of the list path).  nul (scenario names-nul):
    a service account whose name holds a NUL character after a valid name
    (JSON "agent-ok\\u0000evil": cut at the NUL it would read "agent-ok")."""
    cr = {"metadata": {"name": "agent:reader", "uid": "uid-cr"},
          "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}
    crb = {"metadata": {"name": "system:agent:reader-binding", "uid": "uid-crb"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "agent:reader"},
           "subjects": [{"kind": "ServiceAccount", "name": "agent-ok", "namespace": "agents"}]}
    sas = [obj("agent-ok", "agents"), obj("agent.v2", "agents")]
    nss = [obj("agents")]
    rbs = []
    if nul:
        sas += [obj("agent-ok\x00evil", "agents", "uid-nul")]
    if hostile:
        sas += [obj("a/../../x", "agents", "uid-x1"), obj("a/../../../../escaped", "agents", "uid-x2"),
                obj("bad\nname", "agents", "uid-x3"), obj("agent-dotdot", "..", "uid-x4"),
                obj("agent-long", LONG_NS, "uid-x5"), obj("agent-nl", "bad\nns", "uid-x6")]
        nss += [obj(".."), obj(LONG_NS), obj("bad\nns")]
        # a RoleBinding in ".." makes ".." a namespace to review agent-ok in
        rbs = [{"metadata": {"name": "rb:dotdot", "namespace": "..", "uid": "uid-rb"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": "agent:reader"},
                "subjects": [{"kind": "ServiceAccount", "name": "agent-ok", "namespace": "agents"}]}]
    return {"clusterroles": ("ClusterRoleList", [cr]), "clusterrolebindings": ("ClusterRoleBindingList", [crb]),
            "rolebindings": ("RoleBindingList", rbs), "namespaces": ("NamespaceList", nss),
            "serviceaccounts": ("ServiceAccountList", sas)}


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, headers=()):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-ID", self.headers.get("Audit-ID", ""))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def record(self):
        with lock, open(LOGFILE, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "audit_id": self.headers.get("Audit-ID"),
                                "user_agent": self.headers.get("User-Agent"),
                                "impersonate_user": self.headers.get("Impersonate-User"),
                                "authorization": "Authorization" in self.headers}) + "\n")

    def do_POST(self):
        self.record()
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if SCENARIO == "files":
            return self.files_post(body)
        if SCENARIO.startswith("names") and self.path.endswith("/selfsubjectrulesreviews"):
            return self.send(201, {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                                   "spec": {}, "status": {"resourceRules": [], "nonResourceRules": [],
                                                          "incomplete": False}})
        self.send(404, {"kind": "Status", "message": "not here"})

    def do_GET(self):
        self.record()
        if self.path.split("?")[0] in DROP:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        d = discovery(self.path)
        if d is not None:
            return self.send(*d)
        if SCENARIO.startswith("names"):
            return self.names()
        if SCENARIO == "files":
            return self.files_get()
        p = self.path
        if p == "/version":
            with lock:
                state["version"] += 1
                v = state["version"]
            if v == 1:
                return self.send(503, {"kind": "Status", "message": "starting"})
            if v == 2:
                return self.send(429, {"kind": "Status", "message": "slow down"}, [("Retry-After", "1")])
            return self.send(200, {"major": "1", "minor": "20", "gitVersion": "v1.20.2-fake"})
        if p == "/api/v1/namespaces/kube-system":
            return self.send(200, {"kind": "Namespace", "metadata": {"name": "kube-system", "uid": "fake-ks-uid"}})
        if p.startswith("/apis/rbac.authorization.k8s.io/v1/rolebindings"):
            # page 1, then 410 for the first continue, then pages 1 and 2 again
            if "continue=c1" in p:
                with lock:
                    state["rb"] += 1
                    first = state["rb"] == 1
                if first:
                    return self.send(410, {"kind": "Status", "code": 410, "reason": "Expired",
                                           "message": "The provided continue parameter is too old"})
                return self.send(200, lst("RoleBindingList", [obj("rb-2", "a")]))
            return self.send(200, lst("RoleBindingList", [obj("rb-1", "a")], cont="c1"))
        if p.startswith("/api/v1/secrets"):
            # a broken proxy or server that ignores the metadata-only Accept
            return self.send(200, lst("SecretList", [{"metadata": {"name": "s", "namespace": "a", "uid": "u"},
                                                     "data": {"password": CANARY}}]))
        if p.startswith("/api/v1/pods"):
            return self.send(500, {"kind": "Status", "message": "etcd timeout"})
        if p.startswith("/api/v1/configmaps"):
            return self.send(200, b'{"kind":"PartialObjectMetadataList","items":[' + b'{"metadata":{"name":"x"}},' * 40000 + b'{}]}')
        if "?" in p:
            base = p.split("?")[0]
            kind = base.rstrip("/").split("/")[-1]
            if kind in ("persistentvolumeclaims",):
                return self.send(200, lst("PartialObjectMetadataList", []))
            return self.send(200, lst(kind.capitalize() + "List", []))
        return self.send(404, {"kind": "Status", "message": "not found"})


    def names(self):
        p = self.path
        # names-nul-ident: the identity answers hide a NUL (the kube-system
        # uid names the bundle's top folder)
        ident_nul = "\x00evil" if SCENARIO == "names-nul-ident" else ""
        if p == "/version":
            return self.send(200, {"major": "1", "minor": "20", "gitVersion": "v1.20.2-fake" + ident_nul})
        if p == "/api/v1/namespaces/kube-system":
            return self.send(200, {"kind": "Namespace", "metadata": {"name": "kube-system", "uid": "fake-ks-uid" + ident_nul}})
        if "?" not in p:
            return self.send(404, {"kind": "Status", "message": "not found"})
        res = p.split("?")[0].rstrip("/").split("/")[-1]
        if res in ("secrets", "configmaps", "persistentvolumeclaims"):
            return self.send(200, lst("PartialObjectMetadataList", []))
        kind, items = names_lists(SCENARIO == "names-hostile", SCENARIO == "names-nul").get(res, (res.capitalize() + "List", []))
        return self.send(200, lst(kind, items))

    def answer(self, doc):
        """A Status is answered with its code, anything else with 200."""
        if doc.get("kind") == "Status":
            return self.send(doc.get("code", 500), doc)
        return self.send(200, doc)

    def files_get(self):
        p, _, query = self.path.partition("?")
        q = dict(kv.split("=", 1) for kv in query.split("&") if "=" in kv)
        if p == "/version":
            name = "version"
        elif p == "/api/v1/namespaces/kube-system":
            name = "kube-system"
        elif "limit" in q:
            name = p.rstrip("/").split("/")[-1]
        else:
            return self.send(404, {"kind": "Status", "message": "not found"})
        try:
            with open("%s/%s.json" % (DIR, name)) as f:
                doc = json.load(f)
        except FileNotFoundError:
            if name == "customresourcedefinitions":  # a cluster without CRDs
                doc = {"kind": "CustomResourceDefinitionList", "apiVersion": "apiextensions.k8s.io/v1",
                       "metadata": {"resourceVersion": "1"}, "items": []}
            else:
                return self.send(404, {"kind": "Status", "code": 404, "message": "not found"})
        if "limit" not in q or doc.get("kind") == "Status":
            return self.answer(doc)
        start, limit = int(q.get("continue", "0")), int(q["limit"])
        items = doc.get("items", [])
        page = dict(doc, items=items[start:start + limit])
        page["metadata"] = dict(doc.get("metadata", {}),
                                **{"continue": str(start + limit) if start + limit < len(items) else ""})
        return self.send(200, page)

    def files_post(self, body):
        if not self.path.endswith("/selfsubjectrulesreviews"):
            return self.send(404, {"kind": "Status", "code": 404, "message": "not found"})
        ns = json.loads(body).get("spec", {}).get("namespace", "")
        with open("%s/reviews.json" % DIR) as f:
            by_user = json.load(f).get(self.headers.get("Impersonate-User", ""), {})
        st = by_user.get(ns, by_user.get("*", {"resourceRules": [], "nonResourceRules": [], "incomplete": False}))
        if st.get("kind") == "Status":
            return self.answer(st)
        return self.send(201, {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                               "metadata": {"creationTimestamp": None}, "spec": {"namespace": ns}, "status": st})


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(PORTFILE, "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
