/* kubeconfig.h - where the cluster is and how to authenticate to it.
 *
 * Sources, in kubectl's order: --kubeconfig FILE, else $KUBECONFIG (a
 * colon-separated list merged the way kubectl merges: for maps keyed by
 * name the first file that defines a name wins; current-context is taken
 * from the first file that sets it), else ~/.kube/config; or the in-cluster
 * configuration (service-account token and CA under
 * /var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST and
 * _PORT) with --in-cluster or when no kubeconfig exists and those are set
 * (and no --context or --kubeconfig was given).
 * YAML and JSON kubeconfigs are both read with libyaml.  Relative paths are
 * resolved against the folder of the file that named them.
 *
 * Nothing here ever logs a token, a key or a password.
 *
 * Limits: a kubeconfig file is at most KC_KUBECONFIG_MAX bytes; its YAML
 * may nest at most 64 levels, hold at most 100000 nodes, and aliases may
 * not expand it past 1000000 nodes (alias bombs are rejected).
 */
#ifndef KC_KUBECONFIG_H
#define KC_KUBECONFIG_H

#include <stddef.h>
#include <time.h>

#include "util/buf.h"

#define KC_KUBECONFIG_MAX (4u << 20)	/* bytes per kubeconfig file */
#define KC_EXEC_OUTPUT_MAX (1u << 20)	/* bytes an exec plugin may print */
#define KC_EXEC_TIMEOUT_DEFAULT 60	/* seconds; $KCUSTODY_EXEC_TIMEOUT overrides (tests) */

struct kc_kubeconfig_opts {
	const char *kubeconfig;	/* --kubeconfig, or NULL */
	const char *context;	/* --context, or NULL for current-context */
	int in_cluster;		/* --in-cluster */
	/* For tests: root folder of the in-cluster paths ("" = real root) */
	const char *in_cluster_root;
};

struct kc_exec_cfg {
	char *command;		/* resolved like kubectl: relative with '/' => against the file's folder */
	char **args;		/* NULL-terminated */
	char **env;		/* NULL-terminated "NAME=value" */
	char *api_version;	/* client.authentication.k8s.io/v1 or v1beta1 */
	char *interactive_mode;	/* Never, IfAvailable, Always; v1beta1 defaults to IfAvailable */
	int provide_cluster_info;
	char *install_hint;	/* shown when the command is not found, or NULL */
};

struct kc_cluster_cfg {
	char *source;		/* the file(s) the config came from (':'-joined), or "in-cluster" */
	char *context_name;	/* "in-cluster" for the in-cluster configuration */
	char *cluster_name;	/* "in-cluster" likewise */
	char *user_name;	/* NULL when the context names no user (anonymous) */
	char *namespace;	/* context namespace or "default" */
	char *server;		/* https://host:port[/path] */
	char *tls_server_name;
	char *proxy_url;
	int insecure_skip_tls_verify;	/* as the kubeconfig says; the client refuses it without --insecure */

	/* CA bundle (PEM); either a path or inline data (decoded). */
	char *ca_file;
	struct kc_buf ca_data;

	/* Client certificate auth: paths or inline decoded PEM. */
	char *client_cert_file;
	char *client_key_file;
	struct kc_buf client_cert_data;
	struct kc_buf client_key_data;	/* secret: wiped on free */

	/* Bearer token: inline or a file re-read on each use. */
	char *token;			/* secret: wiped on free */
	char *token_file;

	/* exec credential plugin (may also be set with the above) */
	struct kc_exec_cfg *exec;

	/* auth-provider, username/password, impersonation (as, as-groups,
	 * as-uid, as-user-extra): a description such as "auth-provider 'oidc'",
	 * never a secret value; NULL when none is used */
	char *unsupported_auth;
};

/* Load and resolve the configuration.  On error returns KC_ERR_CONFIG or
 * KC_ERR_IO (or KC_ERR_NOMEM) with a one-line message (kc_err_msg) naming
 * the file and the problem, e.g. "cannot read kubeconfig 'x': No such file
 * or directory".  It also checks what kubectl checks before any request
 * (referenced CA and client certificate files readable, no conflicting
 * auth methods, a valid exec section).  The caller owns *out and frees it
 * with kc_cluster_cfg_free. */
int kc_kubeconfig_load(const struct kc_kubeconfig_opts *opts, struct kc_cluster_cfg **out);
/* Wipes the token, the client key data and the exec env, then frees;
 * NULL is fine. */
void kc_cluster_cfg_free(struct kc_cluster_cfg *cfg);

/* Running the exec plugin a user names: collector/exec_cred.h. */
#include "collector/exec_cred.h"

#endif
