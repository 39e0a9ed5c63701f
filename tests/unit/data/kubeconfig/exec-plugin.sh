#!/bin/sh
# Test exec credential plugin for test_kubeconfig.c.  The first argument
# picks the behaviour; PLUGIN_API and PLUGIN_TOKEN come from the exec env of
# the kubeconfig.  What the client passed is left in the current folder
# (the test's work folder) for the test to check.
printf '%s' "${KUBERNETES_EXEC_INFO-<unset>}" > exec-info.json
printf '%s\n' "$@" > exec-args.txt
[ -t 0 ] && echo tty > exec-stdin.txt || echo notty > exec-stdin.txt
case "$1" in
token)
	printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2030-01-02T03:04:05Z"}}\n' \
		"$PLUGIN_API" "$PLUGIN_TOKEN" ;;
duptoken)
	# a repeated key: the last wins, as client-go decodes it
	printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"tok-first","token":"%s"}}\n' \
		"$PLUGIN_API" "$PLUGIN_TOKEN" ;;
noexp)
	printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s"}}\n' \
		"$PLUGIN_API" "$PLUGIN_TOKEN" ;;
badexp)
	printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"tomorrow"}}\n' \
		"$PLUGIN_API" ;;
cert)
	printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"clientCertificateData":"-----BEGIN CERTIFICATE-----\\nexec\\n-----END CERTIFICATE-----\\n","clientKeyData":"-----BEGIN PRIVATE KEY-----\\nexec\\n-----END PRIVATE KEY-----\\n"}}\n' \
		"$PLUGIN_API" ;;
certonly)
	printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"clientCertificateData":"x"}}\n' "$PLUGIN_API" ;;
nostatus)
	printf '{"apiVersion":"%s","kind":"ExecCredential"}\n' "$PLUGIN_API" ;;
wrongkind)
	printf '{"apiVersion":"%s","kind":"Config","status":{"token":"t"}}\n' "$PLUGIN_API" ;;
garbage)
	echo 'this is not JSON' ;;
fail)
	echo "exec-plugin.sh: refusing on purpose (a test expects this)" >&2
	exit 3 ;;
big)
	head -c 1100000 /dev/zero | tr '\0' 'a' ;;
slow)
	sleep 30 ;;
*)
	echo "exec-plugin.sh: unknown mode '$1'" >&2
	exit 2 ;;
esac
