#!/usr/bin/env bash
# Make a throw-away PKI for the loopback TSA and the CMS signing tests:
#   DIR/ca.pem, ca.key          test root CA
#   DIR/tsa.pem, tsa.key        TSA certificate (critical EKU timeStamping)
#   DIR/tsa-chain.pem           TSA certificate + CA
#   DIR/ts.cnf                  `openssl ts -reply` configuration
#   DIR/signer-{rsa,ec,ed}.{key,pem}  CMS signing certificates under the CA
# usage: tests/tsa/setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
mkdir -p "$dir"
cd "$dir"
[ -s ts.cnf ] && exit 0

cat >ext.cnf <<'CNF'
[kc_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[kc_tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[kc_signer]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

q() { "$@" >/dev/null 2>&1; }
q openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
	-out ca.pem -days 3650 -subj "/CN=kcustody test CA" -extensions kc_ca -config <(cat /etc/ssl/openssl.cnf ext.cnf)
issue() {	# name ext keyalg...
	local n=$1 ext=$2
	shift 2
	q openssl req -new -newkey "$@" -nodes -keyout "$n.key" -out "$n.csr" -subj "/CN=kcustody test $n"
	q openssl x509 -req -in "$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
		-extfile ext.cnf -extensions "$ext" -out "$n.pem"
	rm -f "$n.csr"
}
issue tsa kc_tsa ec -pkeyopt ec_paramgen_curve:P-256
issue signer-rsa kc_signer rsa:2048
issue signer-ec kc_signer ec -pkeyopt ec_paramgen_curve:P-256
issue signer-ed kc_signer ed25519
cat tsa.pem ca.pem >tsa-chain.pem
echo 01 >tsaserial

cat >ts.cnf <<CNF
[tsa]
default_tsa = tsa_config1
[tsa_config1]
dir = $PWD
serial = \$dir/tsaserial
crypto_device = builtin
signer_cert = \$dir/tsa.pem
certs = \$dir/ca.pem
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
clock_precision_digits = 0
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
