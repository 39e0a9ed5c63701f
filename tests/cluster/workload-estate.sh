#!/bin/bash
# workload-estate.sh NS CANARY - agent workloads for the owner-chain,
# cloud-reach and env-redaction tests (tests/cmd/test_collect_workloads.sh).
# The test cluster runs no workload controllers, so the objects one would
# create (replicasets, jobs, pods) are created here with their
# ownerReferences pointing at the real uids:
#   Deployment d-agent -> ReplicaSet rs-agent -> Pod p-rs      (SA agent-aws)
#   CronJob cj-agent (batch/v1beta1) -> Job j-agent -> Pod p-job (SA agent-gcp)
#   Pod p-broken, owner ReplicaSet rs-gone that does not exist (SA agent-plain);
#     the garbage collector deletes such a pod, so it carries a finalizer and
#     stays, terminating, as a pod stuck on a finalizer does on a real cluster
#     (tests/lib.sh kc_purge_ns clears it)
#   Pod p-other (SA agent-other, an unrelated annotation only)
# Service accounts: agent-aws (IRSA), agent-gcp (GKE), agent-azure (Azure
# client-id), agent-plain (none), agent-other (example.com/role-arn: not a
# workload identity annotation).  CANARY is pasted as a literal env value in
# the deployment (applied: it is in last-applied-configuration too), the
# cronjob and the pods; valueFrom references sit beside it.
set -euo pipefail
ns=$1 canary=$2
k() { kubectl --kubeconfig "$KC_KUBECONFIG" "$@"; }
k create namespace "$ns" >/dev/null 2>&1 || true
uid() { k -n "$ns" get "$1" "$2" -o jsonpath='{.metadata.uid}'; }
env_block='
        env:
        - {name: API_KEY, value: "'"$canary"'"}
        - name: FROM_SECRET
          valueFrom: {secretKeyRef: {name: agent-secret, key: token}}'
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent-aws, namespace: $ns, annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::111122223333:role/agent-s3-reader"}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent-gcp, namespace: $ns, annotations: {iam.gke.io/gcp-service-account: "agent@proj.iam.gserviceaccount.com"}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent-azure, namespace: $ns, annotations: {azure.workload.identity/client-id: "00000000-1111-2222-3333-444444444444"}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent-plain, namespace: $ns}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent-other, namespace: $ns, annotations: {example.com/role-arn: "arn:aws:iam::999999999999:role/not-workload-identity"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d-agent, namespace: $ns}
spec:
  selector: {matchLabels: {app: d-agent}}
  template:
    metadata: {labels: {app: d-agent}}
    spec:
      serviceAccountName: agent-aws
      containers:
      - name: agent
        image: agent:1$env_block
---
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: cj-agent, namespace: $ns}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          serviceAccountName: agent-gcp
          restartPolicy: Never
          containers:
          - name: agent
            image: agent:1
            env:
            - {name: API_KEY, value: "$canary"}
EOF
d=$(uid deployment d-agent)
k apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: rs-agent
  namespace: $ns
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: d-agent, uid: "$d", controller: true}]
spec:
  selector: {matchLabels: {app: d-agent}}
  template:
    metadata: {labels: {app: d-agent}}
    spec:
      serviceAccountName: agent-aws
      containers:
      - name: agent
        image: agent:1$env_block
EOF
c=$(uid cronjob.v1beta1.batch cj-agent)
k create -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: j-agent
  namespace: $ns
  ownerReferences: [{apiVersion: batch/v1beta1, kind: CronJob, name: cj-agent, uid: "$c", controller: true}]
spec:
  template:
    spec:
      serviceAccountName: agent-gcp
      restartPolicy: Never
      containers:
      - name: agent
        image: agent:1
EOF
rs=$(uid replicaset rs-agent) j=$(uid job j-agent)
pod() { # NAME SA OWNER-KIND OWNER-NAME OWNER-UID OWNER-APIVERSION [FINALIZER]
	k create -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: $ns
  finalizers: [${7:-}]
  ownerReferences: [{apiVersion: $6, kind: $3, name: $4, uid: "$5", controller: true}]
spec:
  serviceAccountName: $2
  automountServiceAccountToken: false
  initContainers:
  - name: init
    image: agent:1
    env: [{name: INIT_KEY, value: "$canary"}]
  containers:
  - name: agent
    image: agent:1$(printf '%s' "$env_block" | sed 's/^    //')
  volumes:
  - name: cloud-token
    projected:
      sources:
      - serviceAccountToken: {audience: sts.amazonaws.com, path: token}
EOF
}
pod p-rs agent-aws ReplicaSet rs-agent "$rs" apps/v1
pod p-job agent-gcp Job j-agent "$j" batch/v1
pod p-broken agent-plain ReplicaSet rs-gone 00000000-dead-beef-0000-000000000000 apps/v1 kcustody.test/keep
k create -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: p-other, namespace: $ns}
spec:
  serviceAccountName: agent-other
  automountServiceAccountToken: false
  containers: [{name: agent, image: "agent:1"}]
EOF
