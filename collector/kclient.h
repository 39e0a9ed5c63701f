/* kclient.h - a Kubernetes API client on libcurl.
 *
 * TLS is always verified (against the kubeconfig's CA, or the system store
 * when none is given); insecure-skip-tls-verify is honoured only when the
 * caller passes allow_insecure, and is then reported by kc_client_insecure().
 * HTTP/2 is negotiated when the server offers it and one connection is
 * reused.  Every request carries User-Agent "kcustody/<version> (run <id>)"
 * and Audit-ID "<id>-<seq>"; each is recorded in the request log.
 * Responses are bounded (max_response).  429 (honouring Retry-After), 5xx
 * and connection failures are retried with exponential backoff and jitter.
 */
#ifndef KC_KCLIENT_H
#define KC_KCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "collector/kubeconfig.h"
#include "util/buf.h"

struct kc_client_opts {
	int allow_insecure;	/* --insecure */
	const char *run_id;	/* required: names this run in headers */
	size_t max_response;	/* 0 = 512 MiB */
	int max_retries;	/* -1 = default (4) */
	long timeout_s;		/* per attempt; 0 = 60 */
	long backoff_ms;	/* initial backoff; 0 = 200 */
};

struct kc_response {
	long status;		/* HTTP status, 0 when no answer */
	struct kc_buf body;
	char audit_id[80];	/* as echoed by the server, else as sent */
	char content_type[128];
	char date[64];		/* the server's Date header */
	char retry_after[32];
	int64_t local_ns;	/* local clock when the response arrived */
	double duration_ms;
	int attempts;
};

struct kc_client;

int kc_client_new(const struct kc_cluster_cfg *cfg, const struct kc_client_opts *opts,
    struct kc_client **out);
void kc_client_free(struct kc_client *c);
/* A second client of the same run on a connection of its own, for another
 * thread: the parent's cluster, options, TLS settings and credentials (an
 * exec plugin's credential copied as the parent holds it, not fetched
 * again); its Audit-IDs come from the parent's counter (atomically, so no
 * two requests of the run share one) and it keeps a request log of its
 * own.  The parent must outlive it; only the fork is used on the other
 * thread. */
int kc_client_fork(struct kc_client *parent, struct kc_client **out);

/* Send one request.  path includes the query.  accept and impersonate_user
 * may be NULL.  Returns 0 when the server answered (any status; see
 * resp->status), or KC_ERR_NET / KC_ERR_LIMIT / KC_ERR_AUTH (credential
 * plugin) with a message.  The caller frees resp with kc_response_free. */
int kc_client_request(struct kc_client *c, const char *method, const char *path,
    const char *accept, const char *impersonate_user,
    const void *body, size_t body_len, struct kc_response *resp);
void kc_response_free(struct kc_response *resp);

/* Limits of one request (kc_client_get_bounded), over the client's. */
struct kc_req_limits {
	long timeout_s;		/* whole request; 0 = the client's */
	size_t max_bytes;	/* largest body; 0 = the client's max_response */
	int no_retry_timeout;	/* a timeout is KC_ERR_TIMEOUT at once, not retried */
};

/* A GET under lim (pod logs: a hanging kubelet must not stall the run).
 * As kc_client_request, plus KC_ERR_TIMEOUT with no_retry_timeout;
 * KC_ERR_LIMIT leaves what arrived, at most max_bytes, in resp->body. */
int kc_client_get_bounded(struct kc_client *c, const char *path, const char *accept,
    const struct kc_req_limits *lim, struct kc_response *resp);

/* One request of a batch: filled in by the caller (method, path, body,
 * impersonate_user) and by kc_client_batch (resp, err). */
struct kc_batch_req {
	const char *method;
	const char *path;
	const char *impersonate_user;
	const char *body;
	size_t body_len;
	struct kc_response resp;
	int err;		/* as kc_client_request would return */
};

/* Send n requests with at most `parallel` in flight (libcurl multi; over
 * HTTP/2 they share one connection as streams).  Requests that fail in a
 * retryable way are retried one by one with kc_client_request.  Every
 * request is logged.  Returns 0 unless allocation failed: per-request
 * outcomes are in reqs[i].err and reqs[i].resp. */
int kc_client_batch(struct kc_client *c, struct kc_batch_req *reqs, size_t n, int parallel);

/* Map a non-2xx answer to a KC_ERR_* with a one-line message naming the
 * path and the server's own message when it sent a Status. */
int kc_response_error(const struct kc_response *resp, const char *method, const char *path);

/* The request log: array of {method, path, status, audit_id, bytes,
 * duration_ms, attempts, impersonate, error}.  Owned by the client. */
cJSON *kc_client_request_log(struct kc_client *c);

/* Facts for the manifest. */
const char *kc_client_server(const struct kc_client *c);
const char *kc_client_ca_sha256(const struct kc_client *c);	/* "system-trust-store" when none */
int kc_client_insecure(const struct kc_client *c);
const char *kc_client_auth_method(const struct kc_client *c);	/* client-certificate, token, ... */
const char *kc_client_user_agent(const struct kc_client *c);
const char *kc_client_http_version(const struct kc_client *c);

#endif
