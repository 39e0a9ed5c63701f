/* exec_cred.h - exec credential plugins (exec_cred.c): run the plugin a
 * kubeconfig user names and read its ExecCredential. */
#ifndef KC_EXEC_CRED_H
#define KC_EXEC_CRED_H

/* The exec credential API versions a plugin may answer with. */
#define KC_EXEC_V1 "client.authentication.k8s.io/v1"
#define KC_EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"

#include <time.h>

#include "util/buf.h"

struct kc_cluster_cfg;

/* Result of running an exec credential plugin. */
struct kc_exec_credential {
	char *token;			/* secret */
	struct kc_buf client_cert_data;
	struct kc_buf client_key_data;	/* secret */
	time_t expiration;		/* 0 = none given */
};

/* Run the exec plugin (stdin not a terminal; KUBERNETES_EXEC_INFO set as
 * kubectl sets it), with a timeout and a cap on its output, and parse the
 * ExecCredential it prints (the apiVersion must match the one requested).
 * *out is overwritten (it need not be initialised); on success the caller
 * clears it with kc_exec_credential_clear.  Every plugin failure (not
 * found, non-zero exit, timeout, too much output, bad ExecCredential)
 * returns KC_ERR_AUTH with a message naming the command.  The plugin runs
 * in its own process group, which is killed on timeout. */
int kc_exec_credential_get(const struct kc_cluster_cfg *cfg, struct kc_exec_credential *out);
/* *dst (need not be initialised) made a copy of src; on failure (out of
 * memory) *dst holds nothing. */
int kc_exec_credential_copy(struct kc_exec_credential *dst, const struct kc_exec_credential *src);
/* Wipes the token and key data, then frees; the struct can be reused. */
void kc_exec_credential_clear(struct kc_exec_credential *cred);

#endif
