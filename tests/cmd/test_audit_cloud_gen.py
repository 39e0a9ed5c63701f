#!/usr/bin/env python3
"""One set of synthetic audit events, in the API server's form and in each
managed provider's export form, plus negative twins.

   test_audit_cloud_gen.py --bytes 2M [--seed N] [--start RFC3339] --out DIR
   test_audit_cloud_gen.py --from LOG --out DIR      (events of an existing log)

Events come from test_audit_gen.py (same seed, same events).  Forms, in DIR:

  native/audit.log                    the API server's JSON lines
  eks-cwl/filter-log-events.json      `aws logs filter-log-events --output json`
                                      ({"events":[...],"searchedLogStreams":[...]}, indented)
  eks-s3/<task>/kube-apiserver-audit-<id>/00000N.gz
                                      CloudWatch export to S3: "<ISO time> <event>" lines,
                                      gzip, two pieces
  gke-array/read.json                 `gcloud logging read --format json` (array, indented)
  gke-sink/cloudaudit.googleapis.com/{activity,data_access}/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json
                                      Logging sink to Cloud Storage (JSON lines)
  aks-lines/resourceId=.../y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json
                                      diagnostic settings to a storage account (JSON lines)
  aks-doc/PT1H.json                   the same as {"records":[...]} (Event Hub / older blobs)

GKE records one entry per request (ResponseComplete only, as Cloud Audit
Logs do), reads in data_access, the rest in activity; impersonation is not
carried (principalEmail is the user); a 201 becomes gRPC 0 (read back as
200).  Negative twins in DIR/bad and DIR/blind:

  bad/eks-notaudit/filter-log-events.json   one authenticator message among the events
  bad/gke-badmethod/entries.json            one unmappable methodName, one non-k8s entry
  bad/mixed/                                an EKS file, a GKE file, an AKS record in the GKE file
  bad/eks-s3-trunc/kube-apiserver-audit-<id>/000000.gz   cut in the middle
  blind/aks-admin/PT1H.json                 kube-audit-admin only (no get/list/watch)
  blind/gke-activity/activity.json          Admin Activity only
"""
import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_audit_gen as base  # noqa: E402

CLUSTER = "agents-prod"
PROJECT = "kc-test-project"
LOCATION = "europe-west1"
SUB = "00000000-1111-2222-3333-444444444444"
RID = ("/SUBSCRIPTIONS/%s/RESOURCEGROUPS/RG-AGENTS/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/%s"
       % (SUB, CLUSTER.upper()))
STREAM = "kube-apiserver-audit-5f1e2d3c4b5a69788796a5b4c3d2e1f0"
GRPC = {200: 0, 201: 0, 401: 16, 403: 7, 404: 5, 409: 6}
READS = ("get", "list", "watch")
LEGACY = {"": "core", "apps": "apps", "batch": "batch", "autoscaling": "autoscaling", "policy": "policy"}


def events(a):
    if a.src:
        with open(a.src) as f:
            return [ln.rstrip("\n") for ln in f if ln.strip()]
    total = base.parse_size(a.bytes)
    start = dt.datetime.strptime(a.start, "%Y-%m-%dT%H:%M:%SZ")
    g = base.Gen(a.seed, int((start - dt.datetime(1970, 1, 1)).total_seconds()) * 1000000)
    out, n = [], 0
    while n < total:
        g.request()
        for ln in g.ready():
            out.append(ln)
            n += len(ln) + 1
    out.extend(g.drain())
    # The API server sets objectRef.namespace of a namespace to its name
    # (RequestInfo of /api/v1/namespaces/NAME); test_audit_gen.py leaves it
    # out, and GKE's resourceName (core/v1/namespaces/NAME) cannot tell.
    fix = re.compile(r'"objectRef":\{"resource":"namespaces","name":"([^"]*)"')
    return [fix.sub(r'"objectRef":{"resource":"namespaces","namespace":"\1","name":"\1"', x) for x in out]


def ms(ts):
    t = dt.datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    frac = ts[20:-1] if len(ts) > 20 else "0"
    return int(t.timestamp()) * 1000 + int((frac + "000")[:3])


def iso_ms(m):
    t = dt.datetime.fromtimestamp(m / 1000, dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (m % 1000)


def method_group(group):
    if group in LEGACY:
        return "io.k8s." + LEGACY[group]
    if group.endswith(".k8s.io"):
        return "io.k8s." + ".".join(reversed(group[:-7].split(".")))
    return ".".join(reversed(group.split(".")))


def gke_entry(ev, i, log=None):
    ref = ev.get("objectRef", {})
    group, ver, res = ref.get("apiGroup", ""), ref.get("apiVersion", "v1"), ref["resource"]
    sub = ref.get("subresource")
    method = "%s.%s.%s%s.%s" % (method_group(group), ver, res, "." + sub if sub else "", ev["verb"])
    rn = "%s/%s" % (group or "core", ver)
    if ref.get("namespace") and res != "namespaces":
        rn += "/namespaces/%s" % ref["namespace"]
    rn += "/" + res
    if ref.get("name"):
        rn += "/" + ref["name"]
    if sub:
        rn += "/" + sub
    code = ev.get("responseStatus", {}).get("code", 200)
    user = ev.get("user", {}).get("username", "system:anonymous")
    pp = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "authenticationInfo": {"principalEmail": user},
        "authorizationInfo": [{"permission": method, "resource": rn}],
        "methodName": method,
        "requestMetadata": {"callerIp": (ev.get("sourceIPs") or ["0.0.0.0"])[0],
                            "callerSuppliedUserAgent": ev.get("userAgent", "")},
        "resourceName": rn,
        "serviceName": "k8s.io",
    }
    dec = ev.get("annotations", {}).get("authorization.k8s.io/decision")
    if dec == "allow":
        pp["authorizationInfo"][0]["granted"] = True
    if GRPC.get(code, 2):
        pp["status"] = {"code": GRPC.get(code, 2), "message": ev["responseStatus"].get("reason", "Failure")}
    else:
        pp["status"] = {}
    if "requestObject" in ev:
        pp["request"] = ev["requestObject"]
    log = log or ("data_access" if ev["verb"] in READS else "activity")
    e = {
        "insertId": "%08x-%04x" % (int(hashlib.sha256(ev["auditID"].encode()).hexdigest()[:8], 16), i & 0xffff),
        "labels": {k: v for k, v in ev.get("annotations", {}).items()},
        "logName": "projects/%s/logs/cloudaudit.googleapis.com%%2F%s" % (PROJECT, log),
        "operation": {"first": True, "id": ev["auditID"], "last": True, "producer": "k8s.io"},
        "protoPayload": pp,
        "receiveTimestamp": ev["stageTimestamp"][:-4] + "987654Z",
        "resource": {"labels": {"cluster_name": CLUSTER, "location": LOCATION, "project_id": PROJECT},
                     "type": "k8s_cluster"},
        "severity": "NOTICE" if log == "activity" else "INFO",
        "timestamp": ev["requestReceivedTimestamp"],
    }
    return e


def aks_record(line, ev, category="kube-audit"):
    return {"operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
            "category": category, "ResourceId": RID, "resourceId": RID,
            "properties": {"log": line, "stream": "stdout", "pod": "kube-apiserver-6f9b8c7d5-x2x7k",
                           "containerID": "0f1e2d3c"},
            "time": ev["stageTimestamp"]}


def cwl_event(line, ev, i):
    m = ms(ev["stageTimestamp"])
    return {"logStreamName": STREAM, "timestamp": m, "message": line, "ingestionTime": m + 1234,
            "eventId": "%056d" % (37000000000000000000000000000000000000000000000000000000 + i)}


def write(path, text, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", default="2M")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--start", default="2026-03-02T08:00:00Z")
    ap.add_argument("--from", dest="src")
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="", help="comma-separated forms to write (default all)")
    a = ap.parse_args()
    only = set(x for x in a.only.split(",") if x)
    want = lambda f: not only or f in only  # noqa: E731
    lines = events(a)
    evs = [json.loads(x) for x in lines]
    o = a.out
    if want("native"):
        write(os.path.join(o, "native/audit.log"), "".join(x + "\n" for x in lines))
    if want("eks-cwl"):
        doc = {"events": [cwl_event(x, e, i) for i, (x, e) in enumerate(zip(lines, evs))],
               "searchedLogStreams": [{"logStreamName": STREAM, "searchedCompletely": True}]}
        write(os.path.join(o, "eks-cwl/filter-log-events.json"), json.dumps(doc, indent=4) + "\n")
    if want("eks-s3"):
        half = len(lines) // 2
        for k, part in enumerate((range(0, half), range(half, len(lines)))):
            p = os.path.join(o, "eks-s3/0f3a-export-task/%s/%06d.gz" % (STREAM, k))
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with gzip.open(p, "wt") as f:
                for i in part:
                    f.write("%s %s\n" % (iso_ms(ms(evs[i]["stageTimestamp"])), lines[i]))
    # Cloud Audit Logs: one entry per request, resource requests only
    gke = [gke_entry(e, i) for i, e in enumerate(evs)
           if e.get("stage") == "ResponseComplete" and "resource" in e.get("objectRef", {})]
    if want("gke-array"):
        write(os.path.join(o, "gke-array/read.json"), json.dumps(gke, indent=2) + "\n")
    if want("gke-sink"):
        for log in ("activity", "data_access"):
            hours = {}
            for e in gke:
                if e["logName"].endswith(log):
                    hours.setdefault(e["timestamp"][:13], []).append(e)
            for h, es in sorted(hours.items()):
                p = os.path.join(o, "gke-sink/cloudaudit.googleapis.com/%s/%s/%s/%s/%s:00:00_%s:59:59_S0.json" % (
                    log, h[:4], h[5:7], h[8:10], h[11:13], h[11:13]))
                write(p, "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in es))
    recs = [aks_record(x, e) for x, e in zip(lines, evs)]
    if want("aks-lines"):
        hours = {}
        for r in recs:
            hours.setdefault(r["time"][:13], []).append(r)
        for h, rs in sorted(hours.items()):
            p = os.path.join(o, "aks-lines/resourceId=%s/y=%s/m=%s/d=%s/h=%s/m=00/PT1H.json" % (
                RID, h[:4], h[5:7], h[8:10], h[11:13]))
            write(p, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rs))
    if want("aks-doc"):
        write(os.path.join(o, "aks-doc/PT1H.json"), json.dumps({"records": recs}) + "\n")
    if only and not (only & {"bad", "blind"}):
        return
    # ---- negative twins (small: the first events only) ----
    n = min(len(lines), 60)
    doc = {"events": [cwl_event(x, e, i) for i, (x, e) in enumerate(zip(lines[:n], evs[:n]))]}
    doc["events"].insert(5, {"logStreamName": "authenticator-5f1e2d3c4b5a", "timestamp": doc["events"][4]["timestamp"],
                             "message": 'time="2026-03-02T08:00:01Z" level=info msg="access granted" arn="arn:aws:iam::1:role/x"',
                             "ingestionTime": doc["events"][4]["timestamp"] + 9, "eventId": "9" * 56})
    write(os.path.join(o, "bad/eks-notaudit/filter-log-events.json"), json.dumps(doc, indent=4) + "\n")
    g = [gke_entry(e, i) for i, e in enumerate(evs[:n])
         if e.get("stage") == "ResponseComplete" and "resource" in e.get("objectRef", {})]
    bm = json.loads(json.dumps(g[2]))
    bm["protoPayload"]["methodName"] = "io.k8s.core.v1.pods.frobnicate"
    bm["insertId"] = "bad-method-1"
    nk = json.loads(json.dumps(g[3]))
    nk["resource"]["type"] = "gke_cluster"
    nk["protoPayload"]["methodName"] = "google.container.v1.ClusterManager.GetCluster"
    nk["insertId"] = "not-k8s-1"
    write(os.path.join(o, "bad/gke-badmethod/entries.json"),
          "".join(json.dumps(e) + "\n" for e in g[:2] + [bm] + g[2:3] + [nk] + g[3:]))
    write(os.path.join(o, "bad/mixed/a-eks/filter-log-events.json"), json.dumps(
        {"events": [cwl_event(x, e, i) for i, (x, e) in enumerate(zip(lines[:n], evs[:n]))]}, indent=4) + "\n")
    mixed = g[:3] + [aks_record(lines[0], evs[0])] + g[3:]
    write(os.path.join(o, "bad/mixed/b-gke/entries.json"), "".join(json.dumps(e) + "\n" for e in mixed))
    p = os.path.join(o, "bad/eks-s3-trunc/%s/000000.gz" % STREAM)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    z = gzip.compress("".join("%s %s\n" % (iso_ms(ms(e["stageTimestamp"])), x) for x, e in zip(lines, evs)).encode())
    with open(p, "wb") as f:
        f.write(z[: len(z) // 2])
    # sources that cannot show reads
    adm = [aks_record(x, e, "kube-audit-admin") for x, e in zip(lines, evs) if e["verb"] not in READS]
    write(os.path.join(o, "blind/aks-admin/PT1H.json"), "".join(json.dumps(r) + "\n" for r in adm))
    act = [e for e in gke if e["logName"].endswith("activity")]
    write(os.path.join(o, "blind/gke-activity/activity.json"), json.dumps(act, indent=2) + "\n")


if __name__ == "__main__":
    main()
