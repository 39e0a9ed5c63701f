#!/usr/bin/env python3
"""A loopback HTTPS stand-in for a kubelet's log endpoint (tests only).

The test cluster runs kube-apiserver and etcd, no kubelet.  This serves
what the apiserver's pods/log proxy asks a kubelet for, so that the
apiserver's authorization and proxying of pods/log are real:

  GET /containerLogs/{namespace}/{pod}/{container}
      ?previous=true|false &sinceSeconds=N &sinceTime=RFC3339
      &limitBytes=N &timestamps=true|false &tailLines=N &follow=...

(the query parameters the apiserver sends: pkg/registry/core/pod/strategy.go
LogLocation; the kubelet's own handling: pkg/kubelet/server/server.go
getContainerLogs and pkg/kubelet/kuberuntime/logs: sinceSeconds/sinceTime
keep lines at or after the time, tailLines the last N, limitBytes cuts the
output after N bytes, timestamps prefixes each line with its RFC 3339 nano
time and a space.)

Logs come from DATA/{namespace}/{pod}/{container}.log (current) and
{container}.previous.log (the previous container), one line each
"<RFC3339Nano> <text>" as a CRI log holds it.  A file {container}.hang
makes that container's request hang (no answer) for --hang seconds.  A
missing log answers 404 as the kubelet's "container not found" would (a
missing previous log: 400, as the kubelet's "previous terminated container
not found").

TLS: the serving certificate (--cert/--key, signed by the CA the apiserver
is given as --kubelet-certificate-authority) and the client's certificate
checked against --client-ca, CN must be --client-cn.

Also, with --node NAME --kubeconfig-cert/--kubeconfig-key/--server/--ca:
registers the Node (InternalIP 127.0.0.1, kubeletEndpoint this port) and
renews its Lease in kube-node-lease every 10 s.

Usage: kubelet-standin.py --data DIR --cert C --key K --client-ca CA
       [--port-file F] [--node NAME --server URL --ca CA --admin-cert C
       --admin-key K] [--hang SECONDS]
"""
import argparse
import datetime
import http.client
import http.server
import json
import os
import re
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

PATH_RE = re.compile(r"^/containerLogs/([^/]+)/([^/]+)/([^/]+)$")


def parse_ts(s):
    # RFC 3339 with up to nanoseconds -> (seconds since epoch, nanos)
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$", s)
    if not m:
        raise ValueError("bad time %r" % s)
    base = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    tz = m.group(3)
    off = 0
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        off = sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    secs = int(base.replace(tzinfo=datetime.timezone.utc).timestamp()) - off
    frac = (m.group(2) or "").ljust(9, "0")
    return secs * 10**9 + int(frac)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("standin: " + (fmt % args) + "\n")

    def send_text(self, code, text):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        m = PATH_RE.match(u.path)
        if not m:
            return self.send_text(404, "404 page not found\n")
        ns, pod, ctr = (urllib.parse.unquote(x) for x in m.groups())
        q = urllib.parse.parse_qs(u.query)
        one = lambda k: q.get(k, [None])[-1]
        self.server.requests.append({"path": u.path, "query": u.query})
        with open(self.server.reqlog, "a") as f:
            f.write(json.dumps({"path": u.path, "query": q}) + "\n")
        d = os.path.join(self.server.data, ns, pod)
        if os.path.exists(os.path.join(d, ctr + ".hang")):
            time.sleep(self.server.hang)
            return
        previous = one("previous") == "true"
        fn = os.path.join(d, ctr + (".previous.log" if previous else ".log"))
        if not os.path.isfile(fn):
            if previous:
                return self.send_text(400, 'previous terminated container "%s" in pod "%s" not found\n' % (ctr, pod))
            return self.send_text(404, 'container "%s" in pod "%s" is not available\n' % (ctr, pod))
        since = None
        try:
            if one("sinceSeconds") is not None:
                since = (time.time_ns() - int(one("sinceSeconds")) * 10**9)
            elif one("sinceTime") is not None:
                since = parse_ts(one("sinceTime"))
            limit = int(one("limitBytes")) if one("limitBytes") is not None else None
            tail = int(one("tailLines")) if one("tailLines") is not None else None
        except ValueError as e:
            return self.send_text(400, "bad query: %s\n" % e)
        ts_on = one("timestamps") == "true"
        out = []
        with open(fn, "rb") as f:
            for raw in f:
                ts, _, text = raw.partition(b" ")
                t = parse_ts(ts.decode())
                if since is not None and t < since:
                    continue
                out.append(raw if ts_on else text)
        if tail is not None:
            out = out[-tail:] if tail > 0 else []
        body = b"".join(out)
        if limit is not None and limit >= 0:
            body = body[:limit]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def api(args, method, path, body=None, ctype="application/json"):
    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.load_cert_chain(args.admin_cert, args.admin_key)
    u = urllib.parse.urlsplit(args.server)
    c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": ctype})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def register(args, port):
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": args.node},
            "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                                     {"type": "Hostname", "address": args.node}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "message": "kubelet stand-in", "lastHeartbeatTime": now()[:19] + "Z",
                                       "lastTransitionTime": now()[:19] + "Z"}]}}
    st, data = api(args, "POST", "/api/v1/nodes", node)
    if st not in (201, 409):
        raise SystemExit("cannot create node: %d %s" % (st, data[:300]))
    # status through the status subresource, whether created now or before
    st, data = api(args, "PATCH", "/api/v1/nodes/%s/status" % args.node,
                   {"status": node["status"]}, "application/merge-patch+json")
    if st != 200:
        raise SystemExit("cannot set node status: %d %s" % (st, data[:300]))


def renew_lease(args):
    path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
    while True:
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": args.node, "namespace": "kube-node-lease"},
                 "spec": {"holderIdentity": args.node, "leaseDurationSeconds": 40, "renewTime": now()}}
        try:
            st, _ = api(args, "PATCH", path + "/" + args.node, {"spec": lease["spec"]},
                        "application/merge-patch+json")
            if st == 404:
                api(args, "POST", path, lease)
        except OSError as e:
            sys.stderr.write("standin: lease renewal failed: %s\n" % e)
        time.sleep(10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca", required=True)
    ap.add_argument("--client-cn", default="kube-apiserver-kubelet-client")
    ap.add_argument("--port-file")
    ap.add_argument("--hang", type=float, default=600)
    ap.add_argument("--node")
    ap.add_argument("--server")
    ap.add_argument("--ca")
    ap.add_argument("--admin-cert")
    ap.add_argument("--admin-key")
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.load_verify_locations(args.client_ca)
    ctx.verify_mode = ssl.CERT_REQUIRED

    srv = Server(("127.0.0.1", 0), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.data = args.data
    srv.hang = args.hang
    srv.requests = []
    srv.reqlog = os.path.join(args.data, "requests.jsonl")
    port = srv.server_address[1]

    # the client certificate's CN is checked once the handshake is done
    orig = Handler.handle

    def handle(self):
        cert = self.connection.getpeercert()
        cn = [v for rdn in cert.get("subject", ()) for (k, v) in rdn if k == "commonName"]
        if cn != [args.client_cn]:
            sys.stderr.write("standin: client %r refused\n" % cn)
            return
        orig(self)
    Handler.handle = handle

    if args.node:
        register(args, port)
        threading.Thread(target=renew_lease, args=(args,), daemon=True).start()
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
