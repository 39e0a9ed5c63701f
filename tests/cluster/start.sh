#!/bin/bash
# Start a throwaway kube-apiserver + etcd on loopback, or reuse the one
# already recorded in STATEDIR if it is healthy, or resume the stopped one
# there on its kept etcd data and PKI (after a reboot, kill -9, stop.sh)
# when its settings are compatible; otherwise start afresh.
#   start.sh [STATEDIR]     (default $KCUSTODY_CLUSTER_DIR or /tmp/kcustody-cluster)
#   start.sh --plan [STATEDIR]  only print what a start would do: healthy,
#                           resume, "afresh: WHY" or "refuse: WHY"
# Prints the cluster's env.sh on stdout (source it, or eval the output).
# Env: KCUSTODY_APISERVER, KCUSTODY_CONTROLLER_MANAGER (binaries),
#      KCUSTODY_CONTROLLERS (the controllers to run; "none" runs no
#      controller-manager), KCUSTODY_AUDIT_MAXBACKUP (default 10),
#      KCUSTODY_AUDIT_COMPRESS=1 (gzip rotated audit logs),
#      KCUSTODY_AUDIT_WEBHOOK_CONFIG=FILE (also the audit webhook backend,
#      batch mode, FILE a kubeconfig naming the sink; batches every 1 s,
#      first retry after KCUSTODY_AUDIT_WEBHOOK_BACKOFF, default 1s).
#      KCUSTODY_ETCD_QUOTA=BYTES (etcd --quota-backend-bytes; unset: default).
#      KCUSTODY_RESUME=1: resume a stopped cluster on its kept data when
#      that is safe (the benchmarks' estates); without it a stopped cluster
#      starts afresh, so a test never meets another run's leftovers.
# Layout of STATEDIR:
#   pki/ tokens/ kubeconfigs/ audit/audit.log etcd/ *.pid *.log env.sh config
#   ports (etcd client, etcd peer, apiserver, closed port: reused on resume)
# See tests/cluster/README.md for the identities and kubeconfig variants.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"

plan=0
if [ "${1:-}" = --plan ]; then
	plan=1
	shift
fi
DIR=${1:-${KCUSTODY_CLUSTER_DIR:-/tmp/kcustody-cluster}}
APISERVER=${KCUSTODY_APISERVER:-${KCUSTODY_CACHE:-/var/cache/kcustody}/kube-apiserver-1.20.2-r2}
KCM=${KCUSTODY_CONTROLLER_MANAGER:-${KCUSTODY_CACHE:-/var/cache/kcustody}/kube-controller-manager-1.20.2-r2}
# The controllers of a real 1.20 control plane whose work is about identity
# and access; the workload controllers (deployment, replicaset, job, ...) are
# left out because nothing schedules or runs their pods here, and the tests
# create workloads with their owners themselves. tests/cluster/README.md.
CONTROLLERS=${KCUSTODY_CONTROLLERS:-clusterrole-aggregation,namespace,serviceaccount,serviceaccount-token,garbagecollector,root-ca-cert-publisher}
MAXBACKUP=${KCUSTODY_AUDIT_MAXBACKUP:-10}
umask 077 # keys, tokens and kubeconfigs are secrets, even throwaway ones

if [ "$plan" = 1 ] && ! [ -d "$DIR" ]; then
	echo "afresh: no folder"
	exit 0
fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd) # kubeconfigs and env.sh need absolute paths
exec 9>"$DIR.lock"      # one start/stop at a time per folder
flock 9

# A running cluster is reused only if it was started with the same settings.
# kubelet=1: the apiserver trusts kubelet-ca for kubelets and presents
# kubelet-client (pods/log reaches tests/cluster/kubelet-standin.py).
CONFIG="apiserver=$APISERVER kcm=$KCM controllers=$CONTROLLERS maxbackup=$MAXBACKUP compress=${KCUSTODY_AUDIT_COMPRESS:-0} kubelet=1"
[ -z "${KCUSTODY_AUDIT_WEBHOOK_CONFIG:-}" ] ||
	CONFIG+=" webhook=$KCUSTODY_AUDIT_WEBHOOK_CONFIG backoff=${KCUSTODY_AUDIT_WEBHOOK_BACKOFF:-1s}"
# KCUSTODY_ETCD_QUOTA=BYTES raises etcd's backend quota (default 2 GiB) for
# the big estates of bench/; unset, the settings are exactly as before.
[ -z "${KCUSTODY_ETCD_QUOTA:-}" ] || CONFIG="$CONFIG etcdquota=$KCUSTODY_ETCD_QUOTA"
ETCD_NEEDLE=$(kc_etcd_needle "$DIR")
API_NEEDLE=$(kc_apiserver_needle "$DIR")
KCM_NEEDLE=$(kc_kcm_needle "$DIR")

healthy() {
	[ -f "$DIR/env.sh" ] && [ -f "$DIR/etcd.pid" ] && [ -f "$DIR/apiserver.pid" ] || return 1
	[ "$(cat "$DIR/config" 2>/dev/null)" = "$CONFIG" ] || return 1
	kc_proc_ours "$(cat "$DIR/etcd.pid")" etcd "$ETCD_NEEDLE" || return 1
	kc_proc_ours "$(cat "$DIR/apiserver.pid")" apiserver "$API_NEEDLE" || return 1
	if [ "$CONTROLLERS" != none ]; then
		[ -f "$DIR/controller-manager.pid" ] &&
			kc_proc_ours "$(cat "$DIR/controller-manager.pid")" controller-manager "$KCM_NEEDLE" || return 1
	fi
	curl -sf --max-time 5 --cacert "$DIR/pki/ca.crt" \
		"https://127.0.0.1:$(cat "$DIR/apiserver.port")/readyz" >/dev/null
}

# --- Not healthy: resume the stopped cluster on its kept data, or start
# afresh. A resume needs a folder start.sh made and completed (env.sh), its
# etcd data, its CA, service-account key and tokens, and settings
# compatible with these: every setting equal except that the controllers
# may be more than before and kubelet=1 may be new (an older folder; its
# kubelet PKI is then made below), and only when asked (KCUSTODY_RESUME=1:
# the benchmarks; tests start afresh as before). Anything else starts afresh. tests/cluster/README.md "Resuming a stopped cluster".
cfg_words() { # cfg_words CONFIG: one KEY=VALUE a line
	local -a w
	read -ra w <<<"$1"
	printf '%s\n' "${w[@]}"
}
cfg_get() { cfg_words "$2" | sed -n "s/^$1=//p" | head -n 1; }
cfg_fixed() { cfg_words "$1" | grep -Ev '^(controllers|kubelet)='; }
ctl_set() { [ "$1" = none ] || tr ',' '\n' <<<"$1" | sort -u; }
resume_why= # why not, when resumable fails
resumable() {
	local f old
	[ "${KCUSTODY_RESUME:-0}" = 1 ] || { resume_why="KCUSTODY_RESUME=1 not set"; return 1; }
	[ -f "$DIR/$KC_MARK" ] || { resume_why="not made by start.sh"; return 1; }
	[ -d "$DIR/etcd/member" ] || { resume_why="no etcd data"; return 1; }
	for f in env.sh config apiserver.port pki/ca.crt pki/ca.key pki/sa.key pki/sa.pub \
		tokens/tokens.csv tokens/admin.token tokens/restricted.token tokens/bad.token; do
		[ -s "$DIR/$f" ] || { resume_why="no $f"; return 1; }
	done
	old=$(cat "$DIR/config")
	[ "$(cfg_fixed "$old")" = "$(cfg_fixed "$CONFIG")" ] ||
		{ resume_why="settings changed (was: $old)"; return 1; }
	case $(cfg_get kubelet "$old") in
	"" | 1) ;;
	*) resume_why="unknown kubelet setting (was: $old)"; return 1 ;;
	esac
	# controllers may only be added: state a removed one made would stay
	[ -z "$(comm -23 <(ctl_set "$(cfg_get controllers "$old")") <(ctl_set "$CONTROLLERS"))" ] ||
		{ resume_why="controllers removed (was: $(cfg_get controllers "$old"))"; return 1; }
}
# start.sh --plan [DIR]: say what a start would do, change nothing.
if [ "$plan" = 1 ]; then
	if healthy; then
		echo healthy
	elif [ -z "$(ls -A "$DIR")" ]; then
		echo "afresh: empty folder"
	elif ! [ -f "$DIR/$KC_MARK" ]; then
		echo "refuse: not made by start.sh"
	elif resumable; then
		echo resume
	else
		echo "afresh: $resume_why"
	fi
	exit 0
fi

if healthy; then
	cat "$DIR/env.sh"
	exit 0
fi

command -v etcd >/dev/null || kc_die "etcd not found (apt-get install etcd-server, or run tests/cluster/install.sh)"
[ -x "$APISERVER" ] || kc_die "no kube-apiserver at $APISERVER (run tests/cluster/install.sh)"
[ "$CONTROLLERS" = none ] || [ -x "$KCM" ] ||
	kc_die "no kube-controller-manager at $KCM (run tests/cluster/install.sh, or KCUSTODY_CONTROLLERS=none)"

resume=0
if [ -n "$(ls -A "$DIR")" ]; then
	[ -f "$DIR/$KC_MARK" ] || kc_die "$DIR is not empty and was not created by start.sh; refusing to wipe it"
	KC_LOCK_HELD=1 "$HERE/stop.sh" "$DIR" || true
	if resumable; then
		resume=1
		kc_say "no healthy cluster in $DIR: resuming the stopped one on its kept data"
	else
		kc_say "no healthy cluster with these settings in $DIR ($resume_why): starting afresh"
		find "$DIR" -mindepth 1 -delete
	fi
fi
t0=$(date +%s%N)
touch "$DIR/$KC_MARK"
mkdir -p "$DIR"/{pki,tokens,kubeconfigs,audit,etcd}
P=$DIR/pki

# --- loopback ports. Afresh: bind to port 0 and read back what the kernel
# gave. Resuming: the recorded ports (DIR/ports; an older folder's from
# env.sh and etcd.log) where still free, else new ones (the kubeconfigs and
# env.sh are written anew below either way). SO_REUSEADDR as the servers
# bind, so a port left in TIME_WAIT by a killed server counts as free.
# CLOSED_PORT is bound and released without listen(): a port nobody serves.
want=(0 0 0 0)
if [ "$resume" = 1 ]; then
	if [ -f "$DIR/ports" ]; then
		read -ra want <"$DIR/ports"
	else
		want=("$(sed -n 's/^export KC_ETCD_PORT=//p' "$DIR/env.sh")"
			"$(sed -n 's/.*listening for peers on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$DIR/etcd.log" 2>/dev/null | tail -n 1)"
			"$(cat "$DIR/apiserver.port")"
			"$(sed -n 's/^export KC_CLOSED_PORT=//p' "$DIR/env.sh")")
	fi
fi
read -r ETCD_PORT PEER_PORT API_PORT CLOSED_PORT < <(python3 -c '
import socket, sys
keep, got = [], []
for w in sys.argv[1:5]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(w)))
    except (OSError, ValueError, OverflowError):
        s.bind(("127.0.0.1", 0))
    keep.append(s)
    got.append(s.getsockname()[1])
print(*got)' "${want[@]}" 0 0 0 0)
if [ "$resume" = 1 ] && [ "$API_PORT" != "${want[2]:-}" ]; then
	kc_say "the recorded apiserver port ${want[2]:-?} is taken: now $API_PORT (kubeconfigs and env.sh rewritten)"
fi
SERVER=https://127.0.0.1:$API_PORT
echo "$CONFIG" >"$DIR/config"
echo "$API_PORT" >"$DIR/apiserver.port"
echo "$ETCD_PORT $PEER_PORT $API_PORT $CLOSED_PORT" >"$DIR/ports"

# --- throwaway PKI. Key formats differ on purpose so clients meet all three:
# admin PKCS#1 "RSA PRIVATE KEY", restricted SEC1 "EC PRIVATE KEY",
# serving and SA keys PKCS#8 "PRIVATE KEY".
cat >"$P/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost, DNS:kubernetes.default.svc, IP:10.96.0.1
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
EOF
ossl() { openssl "$@" 2>>"$P/openssl.log"; }
mkca() { # mkca NAME CN
	ossl req -x509 -config "$P/openssl.cnf" -extensions ca -newkey rsa:2048 -nodes \
		-keyout "$P/$1.key" -out "$P/$1.crt" -days 3650 -subj "/CN=$2"
}
sign() { # sign NAME SUBJECT EXTENSIONS [CA] (key $P/NAME.key must exist; CA default ca)
	ossl req -new -config "$P/openssl.cnf" -key "$P/$1.key" -subj "$2" -out "$P/$1.csr"
	ossl x509 -req -in "$P/$1.csr" -CA "$P/${4:-ca}.crt" -CAkey "$P/${4:-ca}.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 365 \
		-extfile "$P/openssl.cnf" -extensions "$3" -out "$P/$1.crt"
	rm -f "$P/$1.csr"
}
# have FILE...: all exist and are not empty (pieces already made are kept:
# a resumed cluster keeps its PKI and tokens, and gets only what is missing)
have() {
	local f
	for f; do [ -s "$P/$f" ] || return 1; done
}
added=()
have ca.crt ca.key || mkca ca kcustody-test-ca
have wrong-ca.crt wrong-ca.key || { mkca wrong-ca kcustody-unrelated-ca; added+=(wrong-ca); }
have server.key server.crt || {
	ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/server.key"
	sign server /CN=kube-apiserver server
	added+=(server)
}
have admin.key admin.crt || {
	ossl genrsa -traditional -out "$P/admin.key" 2048
	sign admin "/O=system:masters/CN=kcustody-admin" client
	added+=(admin)
}
have restricted.key restricted.crt || {
	ossl ecparam -name prime256v1 -genkey -noout -out "$P/restricted.key"
	sign restricted /CN=restricted-user client
	added+=(restricted)
}
have controller-manager.key controller-manager.crt || {
	ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/controller-manager.key"
	sign controller-manager /CN=system:kube-controller-manager client
	added+=(controller-manager)
}
have sa.key sa.pub || {
	ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/sa.key"
	ossl pkey -in "$P/sa.key" -pubout -out "$P/sa.pub"
}
# Kubelets: their own CA signs the serving certificate of the test's
# kubelet stand-in (127.0.0.1); the apiserver verifies it with that CA and
# presents kubelet-client (issued by ca, which the stand-in checks).
# Made as one set (a folder from before kubelet=1 has none of it).
have kubelet-ca.crt kubelet-ca.key kubelet-serving.key kubelet-serving.crt kubelet-client.key kubelet-client.crt || {
	mkca kubelet-ca kcustody-test-kubelet-ca
	ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/kubelet-serving.key"
	sign kubelet-serving /CN=kcustody-test-kubelet server kubelet-ca
	ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/kubelet-client.key"
	sign kubelet-client /CN=kube-apiserver-kubelet-client client
	added+=(kubelet)
}
[ "$resume" = 0 ] || [ ${#added[@]} = 0 ] || kc_say "resuming: made the missing PKI pieces: ${added[*]}"

# --- static bearer tokens (token,user,uid,"groups"). bad.token is in no file.
T=$DIR/tokens
if ! [ -s "$T/tokens.csv" ]; then
	for n in admin restricted bad; do openssl rand -hex 24 >"$T/$n.token"; done
	{
		printf '%s,token-admin,uid-token-admin,"system:masters"\n' "$(cat "$T/admin.token")"
		printf '%s,restricted-token,uid-restricted-token\n' "$(cat "$T/restricted.token")"
	} >"$T/tokens.csv"
fi

# --- audit policy: Request level for RBAC objects, Metadata for the rest.
cat >"$DIR/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: Request
  resources:
  - group: rbac.authorization.k8s.io
- level: Metadata
EOF

# From here on, anything that fails stops what we started.
ok=0
on_exit() {
	[ "$ok" = 1 ] && return
	kc_say "start failed; last lines of the logs in $DIR:"
	tail -n 10 "$DIR/etcd.log" >&2 2>/dev/null || true
	tail -n 40 "$DIR/apiserver.log" >&2 2>/dev/null || true
	KC_LOCK_HELD=1 "$HERE/stop.sh" "$DIR" >&2 || true
}
trap on_exit EXIT

# --- etcd. setsid: the servers outlive this script and its process group;
# 9>&- keeps them from holding the lock.
setsid etcd --name kcustody --data-dir="$DIR/etcd" \
	--listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
	--advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
	--listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
	--initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
	--initial-cluster "kcustody=http://127.0.0.1:$PEER_PORT" \
	${KCUSTODY_ETCD_QUOTA:+--quota-backend-bytes="$KCUSTODY_ETCD_QUOTA"} \
	</dev/null >>"$DIR/etcd.log" 2>&1 9>&- &
echo $! >"$DIR/etcd.pid"
for ((i = 0; ; i++)); do
	curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"' && break
	kc_proc_starting "$(cat "$DIR/etcd.pid")" etcd "$ETCD_NEEDLE" || kc_die "etcd exited"
	((i < 300 * (1 + 9 * resume))) || kc_die "etcd not healthy after $((30 * (1 + 9 * resume))) s"
	sleep 0.1
done

# --- kube-apiserver
compress=()
[ "${KCUSTODY_AUDIT_COMPRESS:-0}" = 1 ] && compress=(--audit-log-compress)
# the audit webhook backend beside the log (tests/cmd/test_audit_sink.sh)
[ -z "${KCUSTODY_AUDIT_WEBHOOK_CONFIG:-}" ] ||
	compress+=(--audit-webhook-config-file="$KCUSTODY_AUDIT_WEBHOOK_CONFIG" --audit-webhook-mode=batch
		--audit-webhook-batch-max-wait=1s
		--audit-webhook-initial-backoff="${KCUSTODY_AUDIT_WEBHOOK_BACKOFF:-1s}")
setsid "$APISERVER" \
	--etcd-servers="http://127.0.0.1:$ETCD_PORT" \
	--bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
	--endpoint-reconciler-type=none \
	--secure-port="$API_PORT" --cert-dir="$P" \
	--tls-cert-file="$P/server.crt" --tls-private-key-file="$P/server.key" \
	--client-ca-file="$P/ca.crt" \
	--authorization-mode=RBAC \
	--token-auth-file="$T/tokens.csv" \
	--service-account-key-file="$P/sa.pub" \
	--service-account-signing-key-file="$P/sa.key" \
	--service-account-issuer=https://kubernetes.default.svc \
	--api-audiences=https://kubernetes.default.svc \
	--audit-policy-file="$DIR/audit-policy.yaml" \
	"$API_NEEDLE" \
	--audit-log-maxsize=1 --audit-log-maxbackup="$MAXBACKUP" "${compress[@]}" \
	--service-cluster-ip-range=10.96.0.0/16 \
	--enable-admission-plugins=ServiceAccount \
	--feature-gates=BoundServiceAccountTokenVolume=true \
	--kubelet-certificate-authority="$P/kubelet-ca.crt" \
	--kubelet-client-certificate="$P/kubelet-client.crt" \
	--kubelet-client-key="$P/kubelet-client.key" \
	--kubelet-preferred-address-types=InternalIP \
	</dev/null >>"$DIR/apiserver.log" 2>&1 9>&- &
echo $! >"$DIR/apiserver.pid"

for ((i = 0; ; i++)); do
	curl -sf --max-time 2 --cacert "$P/ca.crt" "$SERVER/readyz" >/dev/null 2>&1 && break
	kc_proc_starting "$(cat "$DIR/apiserver.pid")" apiserver "$API_NEEDLE" || kc_die "kube-apiserver exited"
	# a resumed big estate (bench/estate.sh 150k) fills its caches first
	((i < 180 * (1 + 9 * resume))) || kc_die "kube-apiserver not ready after $((90 * (1 + 9 * resume))) s"
	sleep 0.5
done

# --- kubeconfigs. kc FILE NAME SERVER CLUSTER-LINES USER-LINES (lines are
# pre-indented by 4). Relative paths are relative to kubeconfigs/.
K=$DIR/kubeconfigs
kc() {
	cat >"$K/$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kcustody
  cluster:
    server: $3
$4
users:
- name: $2
  user:
$5
contexts:
- name: $2
  context:
    cluster: kcustody
    user: $2
current-context: $2
EOF
}
b64() { base64 -w0 "$1"; }
CA_REL="    certificate-authority: ../pki/ca.crt"
CERT_REL="    client-certificate: ../pki/admin.crt
    client-key: ../pki/admin.key"
# certs.yaml by hand: it also has a "restricted" context for --context tests.
cat >"$K/certs.yaml" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kcustody
  cluster:
    server: $SERVER
    certificate-authority: ../pki/ca.crt
users:
- name: admin
  user:
    client-certificate: ../pki/admin.crt
    client-key: ../pki/admin.key
- name: restricted
  user:
    client-certificate: ../pki/restricted.crt
    client-key: ../pki/restricted.key
contexts:
- name: admin
  context:
    cluster: kcustody
    user: admin
- name: restricted
  context:
    cluster: kcustody
    user: restricted
current-context: admin
EOF
kc inline.yaml admin "$SERVER" "    certificate-authority-data: $(b64 "$P/ca.crt")" \
	"    client-certificate-data: $(b64 "$P/admin.crt")
    client-key-data: $(b64 "$P/admin.key")"
kc token.yaml token-admin "$SERVER" "$CA_REL" "    token: $(cat "$T/admin.token")"
kc tokenfile.yaml token-admin "$SERVER" "$CA_REL" "    tokenFile: $T/admin.token"
for v in v1beta1 v1; do
	extra=
	[ "$v" = v1 ] && extra="
      interactiveMode: Never"
	f=exec.yaml
	[ "$v" = v1 ] && f=exec-v1.yaml
	kc "$f" exec "$SERVER" "$CA_REL" "    exec:
      apiVersion: client.authentication.k8s.io/$v
      command: $HERE/exec-credential.sh$extra
      env:
      - name: KCUSTODY_EXEC_TOKEN_FILE
        value: $T/admin.token
      - name: KCUSTODY_EXEC_LOG
        value: $DIR/exec-calls.log
      - name: KCUSTODY_EXEC_API_VERSION
        value: client.authentication.k8s.io/$v"
done
kc restricted.yaml restricted "$SERVER" "$CA_REL" \
	"    client-certificate: ../pki/restricted.crt
    client-key: ../pki/restricted.key"
kc wrong-ca.yaml admin "$SERVER" "    certificate-authority: ../pki/wrong-ca.crt" "$CERT_REL"
kc restricted-token.yaml restricted-token "$SERVER" "$CA_REL" "    token: $(cat "$T/restricted.token")"
kc bad-token.yaml bad-token "$SERVER" "$CA_REL" "    token: $(cat "$T/bad.token")"
kc missing-key.yaml admin "$SERVER" "$CA_REL" "    client-certificate: ../pki/admin.crt
    client-key: ../pki/does-not-exist.key"
kc unreachable.yaml admin "https://127.0.0.1:$CLOSED_PORT" "$CA_REL" "$CERT_REL"
# Skips TLS verification: kcustody must refuse it unless --insecure.
kc insecure.yaml admin "$SERVER" "    insecure-skip-tls-verify: true" "$CERT_REL"
printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: x\n  cluster: {server: "https://127.0.0.1\n users: [\n' \
	>"$K/malformed.yaml"
# The certs variant as JSON (a kubeconfig may be JSON).
jq -n --arg s "$SERVER" '{apiVersion: "v1", kind: "Config",
	clusters: [{name: "kcustody", cluster: {server: $s, "certificate-authority": "../pki/ca.crt"}}],
	users: [{name: "admin", user: {"client-certificate": "../pki/admin.crt", "client-key": "../pki/admin.key"}}],
	contexts: [{name: "admin", context: {cluster: "kcustody", user: "admin"}}],
	"current-context": "admin"}' >"$K/json.json"
# KUBECONFIG=multi-a.yaml:multi-b.yaml merging: the first file to define a
# name wins, so b's broken "admin" cluster is ignored and ctx-b reaches the
# server through a's "admin" cluster with b's token user. In the order b:a,
# ctx-b hits the closed port instead.
cat >"$K/multi-a.yaml" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: admin
  cluster:
    server: $SERVER
    certificate-authority: ../pki/ca.crt
users:
- name: admin
  user:
    client-certificate: ../pki/admin.crt
    client-key: ../pki/admin.key
contexts:
- name: ctx-a
  context:
    cluster: admin
    user: admin
current-context: ctx-a
EOF
cat >"$K/multi-b.yaml" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: admin
  cluster:
    server: https://127.0.0.1:$CLOSED_PORT
    certificate-authority: ../pki/wrong-ca.crt
users:
- name: b-token
  user:
    token: $(cat "$T/admin.token")
contexts:
- name: ctx-b
  context:
    cluster: admin
    user: b-token
    namespace: kube-system
current-context: ctx-b
EOF

# --- kube-controller-manager: each controller as its own kube-system service
# account (--use-service-account-credentials, as kubeadm runs it), bootstrapped by the
# system:kube-controller-manager user; no serving ports (several clusters
# share this host), no leader election (one instance).
if [ "$CONTROLLERS" != none ]; then
	kc controller-manager.yaml system:kube-controller-manager "$SERVER" "$CA_REL" \
		"    client-certificate: ../pki/controller-manager.crt
    client-key: ../pki/controller-manager.key"
	setsid "$KCM" \
		"$KCM_NEEDLE" \
		--port=0 --secure-port=0 --leader-elect=false \
		--controllers="$CONTROLLERS" \
		--service-account-private-key-file="$P/sa.key" \
		--root-ca-file="$P/ca.crt" \
		--use-service-account-credentials=true \
		--kube-api-qps=200 --kube-api-burst=400 \
		--concurrent-serviceaccount-token-syncs=5 --concurrent-namespace-syncs=10 \
		</dev/null >>"$DIR/controller-manager.log" 2>&1 9>&- &
	echo $! >"$DIR/controller-manager.pid"
	# Ready when its controllers have acted: the aggregated "view" role has
	# rules and the default namespace has its default service account.
	for ((i = 0; ; i++)); do
		kubectl --kubeconfig "$K/certs.yaml" -n default get serviceaccount default >/dev/null 2>&1 &&
			[ "$(kubectl --kubeconfig "$K/certs.yaml" get clusterrole view -o jsonpath='{.rules[0].verbs[0]}' 2>/dev/null)" != "" ] &&
			break
		kc_proc_starting "$(cat "$DIR/controller-manager.pid")" controller-manager "$KCM_NEEDLE" ||
			kc_die "kube-controller-manager exited (see $DIR/controller-manager.log)"
		((i < 120)) || kc_die "kube-controller-manager not working after 60 s (see $DIR/controller-manager.log)"
		sleep 0.5
	done
fi

# --- RBAC for the restricted identities: reads identities and RBAC, but
# not secrets/configmaps/PVCs/networkpolicies, so their collection is partial.
kubectl --kubeconfig "$K/certs.yaml" apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kcustody-restricted
rules:
- apiGroups: [""]
  resources: [namespaces, serviceaccounts, pods]
  verbs: [get, list]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings, clusterroles, clusterrolebindings]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kcustody-restricted
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kcustody-restricted
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: restricted-user
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: restricted-token
EOF
# The bootstrap controller creates these shortly after /readyz.
for ((i = 0; ; i++)); do
	kubectl --kubeconfig "$K/certs.yaml" get ns default kube-system >/dev/null 2>&1 && break
	((i < 60)) || kc_die "namespaces default/kube-system never appeared"
	sleep 0.5
done

q() { printf '%q' "$1"; }
cat >"$DIR/env.sh" <<EOF
export KCUSTODY_CLUSTER_DIR=$(q "$DIR")
export KC_SERVER=$(q "$SERVER")
export KC_KUBECONFIG=$(q "$K/certs.yaml")
export KC_KUBECONFIG_DIR=$(q "$K")
export KC_AUDIT_DIR=$(q "$DIR/audit")
export KC_PKI_DIR=$(q "$P")
export KC_TOKEN_DIR=$(q "$T")
export KC_EXEC_LOG=$(q "$DIR/exec-calls.log")
export KC_APISERVER_PORT=$API_PORT
export KC_ETCD_PORT=$ETCD_PORT
export KC_CLOSED_PORT=$CLOSED_PORT
EOF
chmod 0644 "$DIR/env.sh"
ok=1
how=up
[ "$resume" = 0 ] || how=resumed
kc_say "cluster $how in $((($(date +%s%N) - t0) / 1000000)) ms: $SERVER"
cat "$DIR/env.sh"
