#!/bin/bash
# client-go exec credential plugin for the test cluster: prints an
# ExecCredential whose status.token is the admin bearer token.
#
# Configured from the kubeconfig's exec `env:` list:
#   KCUSTODY_EXEC_TOKEN_FILE  file holding the token (or KCUSTODY_EXEC_TOKEN)
#   KCUSTODY_EXEC_LOG         optional; one line is appended per invocation
#                             so tests can count how often the client ran us
#   KCUSTODY_EXEC_API_VERSION apiVersion to answer with when the client does
#                             not send KUBERNETES_EXEC_INFO
# The token never goes to the log or to stderr.
set -euo pipefail

api=${KCUSTODY_EXEC_API_VERSION:-client.authentication.k8s.io/v1beta1}
# The client states the apiVersion it wants in KUBERNETES_EXEC_INFO; answer
# in that version so a mismatch is the client's bug, not ours.
if [ -n "${KUBERNETES_EXEC_INFO:-}" ]; then
	api=$(jq -r '.apiVersion // empty' <<<"$KUBERNETES_EXEC_INFO" || true)
	api=${api:-${KCUSTODY_EXEC_API_VERSION:-client.authentication.k8s.io/v1beta1}}
fi

if [ -n "${KCUSTODY_EXEC_TOKEN:-}" ]; then
	token=$KCUSTODY_EXEC_TOKEN
elif [ -n "${KCUSTODY_EXEC_TOKEN_FILE:-}" ]; then
	token=$(tr -d ' \t\r\n' <"$KCUSTODY_EXEC_TOKEN_FILE")
else
	echo "exec-credential.sh: set KCUSTODY_EXEC_TOKEN_FILE or KCUSTODY_EXEC_TOKEN" >&2
	exit 1
fi

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if [ -n "${KCUSTODY_EXEC_LOG:-}" ]; then
	printf '%s pid=%d api=%s exec_info=%s\n' "$now" "$$" "$api" \
		"$([ -n "${KUBERNETES_EXEC_INFO:-}" ] && echo yes || echo no)" >>"$KCUSTODY_EXEC_LOG"
fi

jq -n --arg api "$api" --arg token "$token" \
	--arg exp "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
	'{apiVersion: $api, kind: "ExecCredential",
	  status: {token: $token, expirationTimestamp: $exp}}'
