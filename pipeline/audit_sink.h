/* audit_sink.h - the audit webhook sink (kcustody audit-sink,
 * docs/AUDIT_SINK.md).
 *
 * An HTTPS endpoint (libevent's evhttp over OpenSSL bufferevents) for the
 * kube-apiserver's audit webhook backend.  Each POSTed audit.k8s.io
 * EventList's items are appended byte for byte, one line each, to the open
 * JSON-lines segment of dir and fsync'd before the 200; segments rotate by
 * size and age and are sealed into the signed digest chain
 * (manifest/auditchain.h).  Runs until SIGTERM or SIGINT (then seals the
 * open segment); SIGUSR1 reports the counters.  It prints nothing: the
 * counters go to the report callback, refusals to util/log.h.
 */
#ifndef KC_PIPELINE_AUDIT_SINK_H
#define KC_PIPELINE_AUDIT_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "manifest/sign.h"
#include "util/buf.h"

struct kc_sink_counters {
	uint64_t batches;		/* answered 200 */
	uint64_t events_received;	/* items in well-formed batches */
	uint64_t events_written;	/* written and fsync'd */
	uint64_t refused;		/* every refused request, below by cause */
	uint64_t refused_auth;		/* 401/403: no or untrusted client certificate */
	uint64_t refused_malformed;	/* 400 */
	uint64_t refused_too_large;	/* 413 */
	uint64_t refused_full;		/* 429: disk full or below --min-free */
	uint64_t refused_error;		/* 500/405/404 */
	uint64_t segments_sealed, digests;
	uint64_t group_commits;		/* fdatasyncs that answered waiting batches */
	/* RFC 3161 time-stamps of the records (--tsa) */
	uint64_t tsa_stamped;		/* tokens stored */
	uint64_t tsa_failures;		/* attempts that failed (each retried until given up) */
	uint64_t tsa_pending;		/* records waiting for a token */
	uint64_t tsa_given_up;		/* records left without a token */
	/* unauthenticated connections cut for sending more than the pre-auth allowance */
	uint64_t refused_preauth_cut;
	/* connections closed on arrival, over max_conns (not requests: not in refused) */
	uint64_t refused_conn_limit;
	/* at max_conns, an unauthenticated connection closed to make room for
	 * the newcomer (TLS done without a verified client certificate, or no
	 * handshake PREAUTH_EVICT_SECS after it was accepted) */
	uint64_t evicted_unauthenticated;
};

struct kc_sink_config {
	const char *host;		/* listen address */
	int port;
	const char *tls_cert, *tls_key, *client_ca;
	const char *dir;
	struct kc_signer *signer;	/* Ed25519 */
	uint64_t segment_bytes;		/* rotate when a segment reaches this */
	int64_t segment_secs;		/* ... or is this old */
	int64_t digest_secs;		/* a digest record at least this often */
	size_t max_body;		/* larger batches: 413 */
	uint64_t min_free;		/* free bytes below which batches get 429 */
	int retry_after;		/* seconds, in the 429's Retry-After */
	const char *status_path;	/* optional: counters as JSON, rewritten */
	/* optional: time-stamp each digest record at this RFC 3161 TSA (in a
	 * thread of its own: a slow or dead TSA never holds up a batch);
	 * tsa_ca checks the replies; a failed stamp is retried every
	 * tsa_retry_secs until KC_ACHAIN_TSA_GIVE_UP after the record */
	const char *tsa_url, *tsa_ca;
	int64_t tsa_retry_secs;
	long tsa_timeout;		/* seconds per TSA exchange */
	/* client connections open at once (0: no limit); one arriving past
	 * it is closed unread and counted (refused_conn_limit) */
	unsigned max_conns;
	/* Called on SIGUSR1 and at the end with the counters. */
	void (*report)(const struct kc_sink_counters *c, int final, void *arg);
	void *report_arg;
	/* Called once listening (the port, for --listen HOST:0). */
	void (*ready)(int port, void *arg);
};

/* Run the sink until SIGTERM/SIGINT.  0 after a clean stop (open segment
 * sealed), a negative KC_ERR_* when it cannot start or cannot write. */
int kc_sink_run(const struct kc_sink_config *cfg, struct kc_sink_counters *out);

/* Find the byte spans of the "items" array's elements in an EventList
 * body already checked by cJSON (exposed for the unit tests and the fuzz
 * harness).  starts/ends: arrays of max entries; *n the number found.  0,
 * or -1 when the body's shape is not {..., "items": [...]} or there are
 * more than max. */
int kc_sink_item_spans(const char *body, size_t len, size_t *starts, size_t *ends, size_t max, size_t *n);

/* A POSTed body checked and cut into event lines: a JSON object (nothing
 * after it) with kind EventList, apiVersion audit.k8s.io/..., an items
 * array of objects, each item's exact bytes (kc_sink_item_spans) with a
 * newline appended to lines (reset by the caller).  *doc receives the
 * parsed body (caller deletes), *n the number of events.  0;
 * KC_ERR_PARSE with *why (static text) for a batch to refuse with 400;
 * KC_ERR_NOMEM. */
int kc_sink_batch_lines(const char *body, size_t len, size_t *starts, size_t *ends, size_t max, cJSON **doc,
    struct kc_buf *lines, size_t *n, const char **why);

#endif
