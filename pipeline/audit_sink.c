/* audit_sink.c - the audit webhook sink (audit_sink.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cjson/cJSON.h>

#include "manifest/auditchain.h"
#include "manifest/tsa.h"
#include "pipeline/audit_sink.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/log.h"
#include "util/sha256.h"
#include "util/timeutil.h"

#define MAX_ITEMS 100000	/* items in one batch (the apiserver sends at most 400 by default) */
#define STAMP_QUEUE_MAX 4096	/* records waiting for a time-stamp; past it the oldest is given up */
#define STAMP_RESUME 64		/* unstamped records of earlier runs looked at on start */

/* ---- RFC 3161 time-stamps, in a thread of their own ----
 *
 * The event loop only queues a record's number (stamp_add); the thread asks
 * the TSA, stores digest-N.json.tsr (manifest/auditchain.h) and retries a
 * failure every tsa_retry_secs until KC_ACHAIN_TSA_GIVE_UP seconds after
 * the record was made.  The two share only the queue and the counters,
 * under mu.  The thread reads record files that are complete (written
 * atomically before they are queued) and writes only .tsr files. */
struct stamp_job {
	uint64_t seq;
	int64_t made, next;	/* kc_mono_ns */
	unsigned attempts;
};

struct stamper {
	const struct kc_sink_config *cfg;
	pthread_t thread;
	int running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct stamp_job *jobs;
	size_t n, cap;
	int stop;
	uint64_t stamped, failures, given_up;
};

static void
stamp_remove(struct stamper *s, size_t i)
{
	memmove(&s->jobs[i], &s->jobs[i + 1], (s->n - i - 1) * sizeof(*s->jobs));
	s->n--;
}

/* Queue record seq, made age_ns ago (0: now). */
static void
stamp_add(struct stamper *s, uint64_t seq, int64_t age_ns)
{
	int64_t now = kc_mono_ns();

	if (s == NULL || !s->running)
		return;
	pthread_mutex_lock(&s->mu);
	if (s->n == STAMP_QUEUE_MAX) {
		kc_warn("audit-sink: %zu records wait for a time-stamp; digest record %" PRIu64 " is left without one",
		    s->n, s->jobs[0].seq);
		stamp_remove(s, 0);
		s->given_up++;
	}
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 16;
		struct stamp_job *nj = realloc(s->jobs, nc * sizeof(*nj));

		if (nj == NULL) {
			s->given_up++;
			pthread_mutex_unlock(&s->mu);
			kc_warn("audit-sink: out of memory: digest record %" PRIu64 " is left without a time-stamp", seq);
			return;
		}
		s->jobs = nj;
		s->cap = nc;
	}
	s->jobs[s->n].seq = seq;
	s->jobs[s->n].made = now - age_ns;
	s->jobs[s->n].next = now;
	s->jobs[s->n].attempts = 0;
	s->n++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void *
stamp_main(void *arg)
{
	struct stamper *s = arg;
	const struct kc_sink_config *cfg = s->cfg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		int64_t now = kc_mono_ns(), earliest = INT64_MAX;
		struct stamp_job job;
		char when[40] = "";
		size_t i;
		int r;

		for (i = 0; i < s->n && s->jobs[i].next > now; i++)
			if (s->jobs[i].next < earliest)
				earliest = s->jobs[i].next;
		if (i == s->n) {
			struct timespec ts;

			if (s->stop)
				break;
			if (earliest == INT64_MAX) {
				pthread_cond_wait(&s->cv, &s->mu);
			} else {
				ts.tv_sec = (time_t)(earliest / 1000000000LL);
				ts.tv_nsec = (long)(earliest % 1000000000LL);
				pthread_cond_timedwait(&s->cv, &s->mu, &ts);
			}
			continue;
		}
		job = s->jobs[i];
		pthread_mutex_unlock(&s->mu);
		r = kc_achain_stamp(cfg->dir, job.seq, cfg->tsa_url, cfg->tsa_ca, cfg->tsa_timeout, when, sizeof(when));
		pthread_mutex_lock(&s->mu);
		for (i = 0; i < s->n && s->jobs[i].seq != job.seq; i++)
			;
		if (i == s->n)
			continue;	/* dropped from a full queue meanwhile */
		now = kc_mono_ns();
		if (r == 0) {
			stamp_remove(s, i);
			s->stamped++;
			kc_info("audit-sink: digest record %" PRIu64 " time-stamped at %s", job.seq, when);
		} else if (s->stop || now - job.made >= (int64_t)KC_ACHAIN_TSA_GIVE_UP * 1000000000LL) {
			stamp_remove(s, i);
			s->failures++;
			s->given_up++;
			kc_warn("audit-sink: digest record %" PRIu64 " left without a time-stamp (%s): %s", job.seq,
			    s->stop ? "stopping" : "retries exhausted", kc_err_msg());
		} else {
			s->failures++;
			s->jobs[i].attempts++;
			s->jobs[i].next = now + cfg->tsa_retry_secs * 1000000000LL;
			kc_warn("audit-sink: cannot time-stamp digest record %" PRIu64 " (attempt %u, retry in %" PRId64
			    " s): %s", job.seq, s->jobs[i].attempts, cfg->tsa_retry_secs, kc_err_msg());
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int
stamp_start(struct stamper *s, const struct kc_sink_config *cfg)
{
	pthread_condattr_t ca;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	if (cfg->tsa_url == NULL)
		return 0;
	if (pthread_mutex_init(&s->mu, NULL) != 0 || pthread_condattr_init(&ca) != 0)
		return kc_err_set(KC_ERR_NOMEM, "cannot start the time-stamp thread");
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&s->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&s->mu);
		return kc_err_set(KC_ERR_NOMEM, "cannot start the time-stamp thread");
	}
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->thread, NULL, stamp_main, s) != 0) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		return kc_err_set(KC_ERR_NOMEM, "cannot start the time-stamp thread");
	}
	s->running = 1;
	return 0;
}

/* One last attempt for every queued record, then the thread ends. */
static void
stamp_stop(struct stamper *s)
{
	if (!s->running)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	for (size_t i = 0; i < s->n; i++)
		s->jobs[i].next = 0;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	s->running = 0;
	free(s->jobs);
	s->jobs = NULL;
	s->n = 0;
}

static void
stamp_counters(struct stamper *s, struct kc_sink_counters *c)
{
	int locked = s->running;

	if (locked)
		pthread_mutex_lock(&s->mu);
	c->tsa_stamped = s->stamped;
	c->tsa_failures = s->failures;
	c->tsa_given_up = s->given_up;
	c->tsa_pending = s->n;
	if (locked)
		pthread_mutex_unlock(&s->mu);
}

struct sink {
	const struct kc_sink_config *cfg;
	struct kc_sink_counters c;
	struct event_base *base;
	SSL_CTX *ssl;
	int fatal;			/* a write error left the chain state unknown */
	/* the open segment */
	int fd;
	uint64_t seg_no;		/* number of the open (or next) segment */
	struct kc_achain_seg seg;
	struct kc_sha256 *seg_hash;
	int64_t seg_opened_mono;
	/* closed, not yet in a record */
	struct kc_achain_seg *pending;
	size_t npending, cappending;
	/* the chain */
	uint64_t last_digest;
	char last_sha[KC_SHA256_HEX];
	int64_t last_digest_mono;
	char run[33], run_started[KC_ACHAIN_TIME_MAX];
	/* per-batch scratch */
	size_t *starts, *ends;
	struct kc_buf lines;
	struct stamper stamp;
	/* group commit: batches written, waiting for the one fdatasync that
	 * answers them all (group_commit) */
	struct evhttp_request **waiting;
	uint64_t *waiting_events;
	size_t nwaiting, capwaiting;
	struct event *commit;
	/* client connections open (gates with counted set), at most
	 * cfg->max_conns (make_bev), oldest first in ghead..gtail */
	unsigned conns;
	unsigned nevicting;		/* of those, closed to make room, not yet freed */
	struct gate *ghead, *gtail;
};

static void
now_str(char *out, size_t n)
{
	kc_fmt_rfc3339_us(kc_now_ns(), out, n);
}

/* ---- the EventList's item spans ---- */

/* Whitespace as cJSON skips it: every byte up to 32 (so the spans agree
 * with what cJSON parsed, even for a body stricter parsers refuse). */
static size_t
skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len && (unsigned char)s[i] <= 32)
		i++;
	return i;
}

/* End (one past) of the string starting at s[i] == '"'. */
static size_t
skip_string(const char *s, size_t i, size_t len)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len + 1;
}

/* End (one past) of the value starting at s[i]. */
static size_t
skip_value(const char *s, size_t i, size_t len)
{
	size_t depth = 0;

	if (i >= len)
		return len + 1;
	if (s[i] == '"')
		return skip_string(s, i, len);
	if (s[i] != '{' && s[i] != '[') {
		while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' && (unsigned char)s[i] > 32)
			i++;
		return i;
	}
	while (i < len) {
		char ch = s[i];

		if (ch == '"') {
			i = skip_string(s, i, len);
			continue;
		}
		if (ch == '{' || ch == '[')
			depth++;
		else if (ch == '}' || ch == ']') {
			if (--depth == 0)
				return i + 1;
		}
		i++;
	}
	return len + 1;
}

/* Whether the JSON string token k (quotes included) is "items" as
 * kc_json_get sees it: escapes decoded ("\u0069tems" is "items") and the
 * name ending at a NUL byte, as cJSON's C strings do. */
static int
is_items_key(const char *k, size_t n)
{
	cJSON *v;
	int yes;

	if (memchr(k, '\\', n) == NULL && memchr(k, '\0', n) == NULL)
		return n == 7 && memcmp(k, "\"items\"", 7) == 0;
	v = cJSON_ParseWithLength(k, n);
	yes = cJSON_IsString(v) && strcmp(v->valuestring, "items") == 0;
	cJSON_Delete(v);
	return yes;
}

int
kc_sink_item_spans(const char *s, size_t len, size_t *starts, size_t *ends, size_t max, size_t *n)
{
	size_t i = skip_ws(s, 0, len);
	int found = 0;

	*n = 0;
	if (i >= len || s[i] != '{')
		return -1;
	i = skip_ws(s, i + 1, len);
	while (i < len && s[i] != '}') {
		size_t ks = i, ke;

		if (s[i] != '"' || (ke = skip_string(s, i, len)) > len)
			return -1;
		i = skip_ws(s, ke, len);
		if (i >= len || s[i] != ':')
			return -1;
		i = skip_ws(s, i + 1, len);
		if (is_items_key(s + ks, ke - ks) && i < len && s[i] == '[') {
			/* the last "items" wins, as for every reader (util/json.h) */
			*n = 0;
			found = 1;
			i = skip_ws(s, i + 1, len);
			while (i < len && s[i] != ']') {
				size_t e = skip_value(s, i, len);

				if (e > len || *n >= max)
					return -1;
				starts[*n] = i;
				ends[*n] = e;
				(*n)++;
				i = skip_ws(s, e, len);
				if (i < len && s[i] == ',')
					i = skip_ws(s, i + 1, len);
			}
			if (i >= len)
				return -1;
			i++;
		} else {
			if ((i = skip_value(s, i, len)) > len)
				return -1;
		}
		i = skip_ws(s, i, len);
		if (i < len && s[i] == ',')
			i = skip_ws(s, i + 1, len);
	}
	return found ? 0 : -1;
}

/* ---- segments and records ---- */

static int
dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0 || fsync(fd) != 0)
		r = kc_err_set(KC_ERR_IO, "cannot sync folder '%s': %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

static int
pending_add(struct sink *k, const struct kc_achain_seg *s)
{
	if (k->npending == k->cappending) {
		size_t nc = k->cappending ? k->cappending * 2 : 8;
		struct kc_achain_seg *np = realloc(k->pending, nc * sizeof(*np));

		if (np == NULL)
			return KC_ERR_NOMEM;
		k->pending = np;
		k->cappending = nc;
	}
	k->pending[k->npending++] = *s;
	return 0;
}

/* Write a digest record for the pending segments. */
static int
write_digest(struct sink *k, const char *reason)
{
	struct kc_achain_digest d;
	char sha[KC_SHA256_HEX];
	int r;

	memset(&d, 0, sizeof(d));
	d.sequence = k->last_digest + 1;
	now_str(d.created, sizeof(d.created));
	kc_fmt_trunc(d.reason, sizeof(d.reason), "%s", reason);
	kc_fmt_trunc(d.run, sizeof(d.run), "%s", k->run);
	kc_fmt_trunc(d.run_started, sizeof(d.run_started), "%s", k->run_started);
	d.interval = k->cfg->digest_secs;
	if (k->last_digest > 0) {
		d.has_previous = 1;
		d.prev_sequence = k->last_digest;
		memcpy(d.prev_sha256, k->last_sha, sizeof(d.prev_sha256));
	}
	d.segs = k->pending;
	d.nsegs = k->npending;
	if ((r = kc_achain_digest_write(k->cfg->dir, &d, k->cfg->signer, sha)) != 0)
		return r;
	k->last_digest = d.sequence;
	memcpy(k->last_sha, sha, sizeof(sha));
	k->last_digest_mono = kc_mono_ns();
	k->npending = 0;
	k->c.digests++;
	stamp_add(&k->stamp, d.sequence, 0);
	kc_info("audit-sink: digest record %" PRIu64 " (%s, %zu segments)", d.sequence, reason, d.nsegs);
	return 0;
}

static int
open_segment(struct sink *k)
{
	char name[64], *path;
	int fd;

	kc_achain_seg_name(k->seg_no, name, sizeof(name));
	if ((path = kc_path_join(k->cfg->dir, name)) == NULL)
		return KC_ERR_NOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int r = kc_err_set(KC_ERR_IO, "cannot create segment '%s': %s", path, strerror(errno));

		free(path);
		return r;
	}
	free(path);
	if (dir_sync(k->cfg->dir) != 0) {
		close(fd);
		return KC_ERR_IO;
	}
	memset(&k->seg, 0, sizeof(k->seg));
	k->seg.number = k->seg_no;
	now_str(k->seg.opened, sizeof(k->seg.opened));
	kc_sha256_reset(k->seg_hash);
	k->seg_opened_mono = kc_mono_ns();
	k->fd = fd;
	return 0;
}

/* Close the open segment (if any) into the pending list. */
static int
close_segment(struct sink *k)
{
	if (k->fd < 0)
		return 0;
	if (fsync(k->fd) != 0 || close(k->fd) != 0) {
		k->fd = -1;
		return kc_err_set(KC_ERR_IO, "cannot close segment %" PRIu64 ": %s", k->seg_no, strerror(errno));
	}
	k->fd = -1;
	now_str(k->seg.closed, sizeof(k->seg.closed));
	kc_sha256_final(k->seg_hash, NULL, k->seg.sha256);
	k->seg_no++;
	k->c.segments_sealed++;
	return pending_add(k, &k->seg);
}

static void group_commit(struct sink *k);

static int
rotate(struct sink *k, const char *reason)
{
	int r;

	group_commit(k);	/* batches waiting on the open segment are answered first */
	if (k->fatal)
		return kc_err_set(KC_ERR_IO, "the open segment could not be synced");
	if ((r = close_segment(k)) != 0)
		return r;
	return write_digest(k, reason);
}

/* Seal what an earlier run left unsealed and write the start record. */
static int
resume(struct sink *k)
{
	struct kc_achain_tail t;
	int r;

	if ((r = kc_achain_tail(k->cfg->dir, &t)) != 0)
		return r;
	k->last_digest = t.last_digest;
	memcpy(k->last_sha, t.last_sha256, sizeof(k->last_sha));
	for (uint64_t n = t.last_sealed_seg + 1; n <= t.highest_seg_file; n++) {
		struct kc_achain_seg s;
		char name[64], *path;
		struct stat st;

		kc_achain_seg_name(n, name, sizeof(name));
		if ((path = kc_path_join(k->cfg->dir, name)) == NULL)
			return KC_ERR_NOMEM;
		if (stat(path, &st) != 0) {
			free(path);
			continue;	/* a number never used: verify-chain reports the jump */
		}
		memset(&s, 0, sizeof(s));
		s.number = n;
		r = kc_achain_seg_recover(path, &s);
		free(path);
		if (r != 0)
			return r;
		now_str(s.closed, sizeof(s.closed));
		if (s.dropped_tail > 0)
			kc_warn("audit-sink: %s: cut %" PRIu64 " bytes of an unterminated line (a batch never "
			    "acknowledged)", name, s.dropped_tail);
		kc_warn("audit-sink: sealing %s left by a run that stopped uncleanly (%" PRIu64 " events)", name,
		    s.events);
		if ((r = pending_add(k, &s)) != 0)
			return r;
	}
	k->seg_no = (t.highest_seg_file > t.last_sealed_seg ? t.highest_seg_file : t.last_sealed_seg) + 1;
	/* records of earlier runs still without a token (the TSA was down, or
	 * the sink stopped first) get their remaining retries */
	for (uint64_t n = t.last_digest > STAMP_RESUME ? t.last_digest - STAMP_RESUME + 1 : 1;
	    k->stamp.running && n <= t.last_digest; n++) {
		char name[80], *path;
		struct stat st;
		int has_tsr;
		time_t now = time(NULL);

		kc_achain_tsr_name(n, name, sizeof(name));
		if ((path = kc_path_join(k->cfg->dir, name)) == NULL)
			return KC_ERR_NOMEM;
		has_tsr = lstat(path, &st) == 0;
		path[strlen(path) - strlen(KC_ACHAIN_TSR_SUFFIX)] = '\0';
		if (!has_tsr && stat(path, &st) == 0 && now - st.st_mtime < KC_ACHAIN_TSA_GIVE_UP)
			stamp_add(&k->stamp, n, (int64_t)(now - st.st_mtime) * 1000000000LL);
		free(path);
	}
	return write_digest(k, "start");
}

/* ---- HTTP ---- */

static void
reply(struct evhttp_request *req, int code, const char *reason, const char *msg)
{
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; charset=utf-8");
	if (b != NULL && msg != NULL)
		evbuffer_add_printf(b, "%s\n", msg);
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void
peer_name(struct evhttp_request *req, char *out, size_t n)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	const char *addr = NULL;
	ev_uint16_t port = 0;

	if (conn != NULL)
		evhttp_connection_get_peer(conn, (char **)&addr, &port);
	kc_fmt_trunc(out, n, "%s:%u", addr ? addr : "?", (unsigned)port);
}

/* 0 when the client presented a certificate that verifies against the
 * client CA; else the HTTP status to refuse with (401 none, 403 untrusted). */
static int
check_client(struct evhttp_request *req, char *subject, size_t n)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	struct bufferevent *tls = bev ? bufferevent_get_underlying(bev) : NULL;	/* under the gate */
	SSL *ssl = tls ? bufferevent_openssl_get_ssl(tls) : NULL;
	X509 *peer;
	long vr;

	subject[0] = '\0';
	if (ssl == NULL || (peer = SSL_get1_peer_certificate(ssl)) == NULL)
		return 401;
	X509_NAME_oneline(X509_get_subject_name(peer), subject, (int)n);
	X509_free(peer);
	vr = SSL_get_verify_result(ssl);
	return vr == X509_V_OK ? 0 : 403;
}

static void
refuse(struct sink *k, struct evhttp_request *req, int code, const char *reason, uint64_t *counter,
    const char *why)
{
	char peer[128], safe[256];

	peer_name(req, peer, sizeof(peer));
	kc_warn("audit-sink: refused %d %s from %s: %s", code, reason, peer, kc_safe_str(why, safe, sizeof(safe)));
	k->c.refused++;
	(*counter)++;
	if (code == 429) {
		char ra[24];

		kc_fmt_trunc(ra, sizeof(ra), "%d", k->cfg->retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", ra);
	}
	reply(req, code, reason, why);
}

static int
disk_low(struct sink *k)
{
	struct statvfs sv;

	if (k->cfg->min_free == 0 || statvfs(k->cfg->dir, &sv) != 0)
		return 0;
	return (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize < k->cfg->min_free;
}

/* Append the batch's lines (group_commit syncs them); on failure take
 * them back out. */
static int
append_batch(struct sink *k, const char *data, size_t len)
{
	struct stat st;
	int r;

	if (k->fd < 0 && (r = open_segment(k)) != 0)
		return r;
	if (fstat(k->fd, &st) != 0)
		return kc_err_set(KC_ERR_IO, "cannot stat the open segment: %s", strerror(errno));
	if ((r = kc_write_all(k->fd, data, len, "segment")) != 0) {
		int e = errno;

		if (ftruncate(k->fd, st.st_size) != 0 || fdatasync(k->fd) != 0) {
			k->fatal = 1;	/* the segment's end is unknown: stop taking batches */
			kc_warn("audit-sink: cannot take a failed batch back out of segment %" PRIu64 ": %s",
			    k->seg_no, strerror(errno));
		}
		errno = e;
		return r;
	}
	kc_sha256_update(k->seg_hash, data, len);
	k->seg.bytes += len;
	return 0;
}

/* The body as JSON, nothing but whitespace after it (cJSON alone would
 * ignore trailing bytes). */
static cJSON *
parse_whole(const char *body, size_t len)
{
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);

	if (doc == NULL || end == NULL || skip_ws(body, (size_t)(end - body), len) != len) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

int
kc_sink_batch_lines(const char *body, size_t len, size_t *starts, size_t *ends, size_t max, cJSON **doc_out,
    struct kc_buf *lines, size_t *nout, const char **why)
{
	cJSON *doc;
	const cJSON *items, *it;
	const char *kind, *apiv;
	size_t n = 0, total = 0;

	*doc_out = NULL;
	*nout = 0;
	if (body == NULL || (doc = parse_whole(body, len)) == NULL || !cJSON_IsObject(doc) ||
	    (kind = kc_json_str(doc, "kind")) == NULL || strcmp(kind, "EventList") != 0 ||
	    (apiv = kc_json_str(doc, "apiVersion")) == NULL || strncmp(apiv, "audit.k8s.io/", 13) != 0 ||
	    (items = kc_json_get(doc, "items")) == NULL || !cJSON_IsArray(items)) {
		*why = "not an audit.k8s.io EventList (JSON object with kind EventList and an items array)";
		if (body != NULL)
			cJSON_Delete(doc);
		return KC_ERR_PARSE;
	}
	if (kc_sink_item_spans(body, len, starts, ends, max, &total) != 0 || total != (size_t)cJSON_GetArraySize(items)) {
		*why = "cannot delimit the EventList's items";
		cJSON_Delete(doc);
		return KC_ERR_PARSE;
	}
	lines->max = len + total + 1;
	cJSON_ArrayForEach(it, items) {
		size_t s = starts[n], e = ends[n];

		if (!cJSON_IsObject(it) || memchr(body + s, '\n', e - s) != NULL) {
			*why = cJSON_IsObject(it) ? "an event spans lines" : "an item is not an object";
			cJSON_Delete(doc);
			return KC_ERR_PARSE;
		}
		if (kc_buf_add(lines, body + s, e - s) != 0 || kc_buf_addc(lines, '\n') != 0) {
			*why = "out of memory";
			cJSON_Delete(doc);
			return KC_ERR_NOMEM;
		}
		n++;
	}
	*doc_out = doc;
	*nout = n;
	return 0;
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct sink *k = arg;
	struct evbuffer *in;
	char subject[256], why[300];
	const char *body;
	size_t len, n = 0;
	cJSON *doc = NULL;
	const cJSON *items, *it;
	const char *reason = NULL;
	int code, r;

	if ((code = check_client(req, subject, sizeof(subject))) != 0) {
		refuse(k, req, code, code == 401 ? "Unauthorized" : "Forbidden", &k->c.refused_auth,
		    code == 401 ? "no client certificate" : "client certificate not issued by the client CA");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		refuse(k, req, 405, "Method Not Allowed", &k->c.refused_error, "only POST");
		return;
	}
	if (k->fatal) {
		refuse(k, req, 503, "Service Unavailable", &k->c.refused_error, "a segment write failed; restart the sink");
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if (len > k->cfg->max_body) {
		kc_fmt_trunc(why, sizeof(why), "batch of %zu bytes over the %zu-byte limit", len, k->cfg->max_body);
		refuse(k, req, 413, "Payload Too Large", &k->c.refused_too_large, why);
		return;
	}
	body = (const char *)evbuffer_pullup(in, -1);
	kc_buf_reset(&k->lines);
	if ((r = kc_sink_batch_lines(body, len, k->starts, k->ends, MAX_ITEMS, &doc, &k->lines, &n, &reason)) != 0) {
		if (r == KC_ERR_NOMEM)
			refuse(k, req, 500, "Internal Server Error", &k->c.refused_error, reason);
		else
			refuse(k, req, 400, "Bad Request", &k->c.refused_malformed, reason);
		return;
	}
	items = kc_json_get(doc, "items");
	k->c.events_received += n;
	if (disk_low(k)) {
		kc_fmt_trunc(why, sizeof(why), "less than %" PRIu64 " bytes free in the sink folder", k->cfg->min_free);
		refuse(k, req, 429, "Too Many Requests", &k->c.refused_full, why);
		cJSON_Delete(doc);
		return;
	}
	if (n > 0 && (r = append_batch(k, k->lines.data, k->lines.len)) != 0) {
		int full = errno == ENOSPC || errno == EDQUOT;

		kc_fmt_trunc(why, sizeof(why), "%s", kc_err_msg());
		if (full)
			refuse(k, req, 429, "Too Many Requests", &k->c.refused_full, why);
		else
			refuse(k, req, 500, "Internal Server Error", &k->c.refused_error, why);
		cJSON_Delete(doc);
		return;
	}
	n = 0;
	cJSON_ArrayForEach(it, items) {
		char id[KC_ACHAIN_ID_MAX], t[KC_ACHAIN_TIME_MAX];

		kc_achain_event_fields(it, id, t);
		kc_achain_seg_note(&k->seg, id, t);
		n++;
	}
	cJSON_Delete(doc);
	if (n == 0) {
		k->c.batches++;
		reply(req, 200, "OK", NULL);
		return;
	}
	/* Answered by group_commit, after the fdatasync that covers it (and
	 * every batch written in this turn of the event loop). */
	if (k->nwaiting == k->capwaiting) {
		size_t nc = k->capwaiting ? k->capwaiting * 2 : 16;
		struct evhttp_request **nr = realloc(k->waiting, nc * sizeof(*nr));
		uint64_t *ne = nr ? realloc(k->waiting_events, nc * sizeof(*ne)) : NULL;

		if (nr != NULL)
			k->waiting = nr;
		if (ne == NULL) {
			/* no room to wait: sync now, for the waiting batches and this one */
			if (!k->fatal && fdatasync(k->fd) != 0) {
				kc_warn("audit-sink: cannot sync the open segment: %s; taking no more batches until "
				    "restarted", strerror(errno));
				k->fatal = 1;
			}
			group_commit(k);
			if (k->fatal) {
				refuse(k, req, 500, "Internal Server Error", &k->c.refused_error,
				    "cannot sync the open segment");
				return;
			}
			k->c.events_written += n;
			k->c.batches++;
			reply(req, 200, "OK", NULL);
			return;
		}
		k->waiting_events = ne;
		k->capwaiting = nc;
	}
	k->waiting[k->nwaiting] = req;
	k->waiting_events[k->nwaiting++] = n;
	if (k->nwaiting == 1)
		event_active(k->commit, EV_TIMEOUT, 0);
}

/* Group commit: one fdatasync for every batch written since the last one,
 * then their answers.  No batch is answered 200 before this fdatasync
 * returned 0, and it covers every byte written to the segment before it.
 * A failed fdatasync leaves the segment's state on disk unknown (the
 * kernel may have dropped the dirty pages): the batches get 500 and the
 * sink takes no more until restarted, when the segment is re-read and
 * sealed as found (crash recovery). */
static void
group_commit(struct sink *k)
{
	size_t n = k->nwaiting;
	int ok;

	if (n == 0)
		return;
	/* after a failed sync a second one can falsely succeed: never retried */
	ok = !k->fatal && fdatasync(k->fd) == 0;
	if (!ok && !k->fatal) {
		kc_warn("audit-sink: cannot sync the open segment: %s; taking no more batches until restarted",
		    strerror(errno));
		k->fatal = 1;
	}
	k->nwaiting = 0;
	k->c.group_commits++;
	for (size_t i = 0; i < n; i++) {
		if (ok) {
			k->c.events_written += k->waiting_events[i];
			k->c.batches++;
			reply(k->waiting[i], 200, "OK", NULL);
		} else {
			refuse(k, k->waiting[i], 500, "Internal Server Error", &k->c.refused_error,
			    "cannot sync the open segment");
		}
	}
}

static void
on_commit(evutil_socket_t fd, short what, void *arg)
{
	struct sink *k = arg;

	(void)fd;
	(void)what;
	group_commit(k);
	if (!k->fatal && k->fd >= 0 && k->seg.bytes >= k->cfg->segment_bytes && rotate(k, "rotation") != 0) {
		kc_warn("audit-sink: cannot seal segment: %s", kc_err_msg());
		k->fatal = 1;
	}
}

/* ---- TLS ---- */

static int
accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;	/* the handshake completes; the request is judged by the verify result (401/403) */
}

static SSL_CTX *
tls_setup(const struct kc_sink_config *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(X509_NAME) *names;

	if (ctx == NULL) {
		kc_err_ossl(KC_ERR_CRYPTO, "cannot make a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
		kc_err_ossl(KC_ERR_CONFIG, "--tls-cert '%s'", c->tls_cert);
		goto bad;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		kc_err_ossl(KC_ERR_CONFIG, "--tls-key '%s'", c->tls_key);
		goto bad;
	}
	if (SSL_CTX_load_verify_locations(ctx, c->client_ca, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(c->client_ca)) == NULL) {
		kc_err_ossl(KC_ERR_CONFIG, "--client-ca '%s'", c->client_ca);
		goto bad;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
	return ctx;
bad:
	SSL_CTX_free(ctx);
	return NULL;
}

/* ---- the pre-authentication gate ----
 *
 * libevent 2.1's evhttp reads a request's whole body before the handler
 * runs, and offers a server no hook between the headers and the body
 * (evhttp_set_newreqcb, which would reach evhttp_request_set_header_cb,
 * came in 2.2).  So each connection's TLS bufferevent sits under a filter
 * bufferevent that looks at the client certificate when the first
 * application bytes arrive (the handshake is over by then): a client whose
 * certificate verifies passes through untouched; any other gets at most
 * PREAUTH_BYTES (enough for headers and a small request, which the handler
 * then answers 401/403 as before) and past that its connection is cut
 * without the rest being read: the sink never buffers an unauthenticated
 * body bigger than that. */
#define PREAUTH_BYTES (128u << 10)
/* At --max-connections, a connection still without a TLS handshake this
 * long after it was accepted may be closed to make room (make_bev). */
#define PREAUTH_EVICT_SECS 10

static time_t
mono_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct gate {
	struct sink *k;
	struct bufferevent *bev;	/* the filter evhttp reads from */
	struct event *flush;		/* see gate_out_added */
	struct event *kill;		/* a connection refused on arrival (gate_kill) */
	int state;			/* 0 not yet known, 1 authenticated, 2 not */
	int cut;
	int counted;			/* in k->conns and the list ghead..gtail */
	struct gate *prev, *next;
	time_t born;			/* accepted (monotonic seconds) */
	int evicting;			/* closed to make room (make_bev) */
	uint64_t kill_no;		/* refused over --max-connections: the how-manieth */
	size_t passed;
};

static int
gate_verdict(struct gate *g)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bufferevent_get_underlying(g->bev));
	X509 *peer;

	if (ssl == NULL || (peer = SSL_get1_peer_certificate(ssl)) == NULL)
		return 2;
	X509_free(peer);
	return SSL_get_verify_result(ssl) == X509_V_OK ? 1 : 2;
}

static void
gate_peer(struct gate *g, char *host, size_t hn, char *port, size_t pn)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd = bufferevent_getfd(g->bev);

	kc_fmt_trunc(host, hn, "?");
	kc_fmt_trunc(port, pn, "?");
	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, host, (socklen_t)hn, port, (socklen_t)pn,
		    NI_NUMERICHOST | NI_NUMERICSERV);
}

static enum bufferevent_filter_result
gate_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit, enum bufferevent_flush_mode mode, void *arg)
{
	struct gate *g = arg;
	size_t n = evbuffer_get_length(src);

	(void)limit;
	(void)mode;
	if (g->kill != NULL) {	/* refused on arrival: nothing is read */
		evbuffer_drain(src, n);
		return BEV_NEED_MORE;
	}
	if (g->state == 0)
		g->state = gate_verdict(g);
	if (g->state == 1 || (!g->cut && g->passed + n <= PREAUTH_BYTES)) {
		g->passed += n;
		return evbuffer_add_buffer(dst, src) == 0 ? BEV_OK : BEV_ERROR;
	}
	evbuffer_drain(src, n);
	if (!g->cut) {
		char host[64], port[16];

		g->cut = 1;
		gate_peer(g, host, sizeof(host), port, sizeof(port));
		kc_warn("audit-sink: refused %s:%s: %s and more than %u bytes sent: connection cut, the body not "
		    "read", host, port, "no verified client certificate",
		    PREAUTH_BYTES);
		g->k->c.refused++;
		g->k->c.refused_auth++;
		g->k->c.refused_preauth_cut++;
		bufferevent_disable(bufferevent_get_underlying(g->bev), EV_READ);
		/* evhttp drops the connection on the error (after this returns) */
		bufferevent_trigger_event(g->bev, BEV_EVENT_ERROR | BEV_EVENT_READING, BEV_TRIG_DEFER_CALLBACKS);
	}
	return BEV_NEED_MORE;
}

/* libevent 2.1's filter moves output to the TLS layer only when bytes are
 * added while writing is enabled, but evhttp adds its answer first and
 * enables writing after: the answer would sit in the filter.  So every
 * addition also schedules a flush for just after (gate_flush). */
static void
gate_flush(evutil_socket_t fd, short what, void *arg)
{
	struct gate *g = arg;

	(void)fd;
	(void)what;
	if (evbuffer_get_length(bufferevent_get_output(g->bev)) > 0)
		bufferevent_flush(g->bev, EV_WRITE, BEV_NORMAL);
}

static void
gate_out_added(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct gate *g = arg;

	(void)b;
	if (info->n_added > 0 && g->flush != NULL)
		event_active(g->flush, EV_TIMEOUT, 0);
}

/* A connection refused on arrival (make_bev): activated as the gate is
 * made, it runs once evhttp has taken the connection (its callbacks set,
 * the socket known), in the same turn of the loop; the error makes evhttp
 * free the connection, closing the socket, without a byte read or sent.
 * Over --max-connections the refusal is logged at the 1st, 2nd, 4th, 8th,
 * ... one (a flood of connections must not become a flood of log lines);
 * the counter has them all. */
static void
gate_kill(evutil_socket_t fd, short what, void *arg)
{
	struct gate *g = arg;
	uint64_t n = g->kill_no;
	char host[64], port[16];

	(void)fd;
	(void)what;
	if (n > 0 && (n & (n - 1)) == 0) {
		gate_peer(g, host, sizeof(host), port, sizeof(port));
		kc_warn("audit-sink: refused connection from %s:%s: %u connections open, the --max-connections limit: "
		    "closed unread (%" PRIu64 " so far; logged at the 1st, 2nd, 4th, 8th, ...)", host, port,
		    g->k->conns, n);
	}
	bufferevent_trigger_event(g->bev, BEV_EVENT_ERROR | BEV_EVENT_READING, BEV_TRIG_DEFER_CALLBACKS);
}

static void
gate_free(void *arg)
{
	struct gate *g = arg;

	if (g->counted) {
		g->k->conns--;
		if (g->evicting)
			g->k->nevicting--;
		if (g->prev != NULL)
			g->prev->next = g->next;
		else
			g->k->ghead = g->next;
		if (g->next != NULL)
			g->next->prev = g->prev;
		else
			g->k->gtail = g->prev;
	}
	if (g->flush != NULL)
		event_free(g->flush);
	if (g->kill != NULL)
		event_free(g->kill);
	free(g);
}

/* The gate over under (a TLS bufferevent, or with kill a plain one for a
 * connection refused on arrival, kill_no its number over the limit or 0);
 * NULL with under freed on failure. */
static struct bufferevent *
gate_new(struct sink *k, struct event_base *base, struct bufferevent *under, int kill, uint64_t kill_no)
{
	struct bufferevent *bev;
	struct gate *g;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		bufferevent_free(under);
		return NULL;
	}
	g->k = k;
	g->kill_no = kill_no;
	if ((g->flush = event_new(base, -1, 0, gate_flush, g)) == NULL ||
	    (kill && (g->kill = event_new(base, -1, 0, gate_kill, g)) == NULL)) {
		gate_free(g);
		bufferevent_free(under);
		return NULL;
	}
	if ((bev = bufferevent_filter_new(under, gate_in, NULL, BEV_OPT_CLOSE_ON_FREE, gate_free, g)) == NULL) {
		gate_free(g);
		bufferevent_free(under);
		return NULL;
	}
	g->bev = bev;
	if (evbuffer_add_cb(bufferevent_get_output(bev), gate_out_added, g) == NULL) {
		bufferevent_free(bev);	/* frees g and under */
		return NULL;
	}
	if (kill)
		event_active(g->kill, EV_TIMEOUT, 0);
	else {
		g->counted = 1;
		k->conns++;
		g->born = mono_secs();
		g->prev = k->gtail;
		if (k->gtail != NULL)
			k->gtail->next = g;
		else
			k->ghead = g;
		k->gtail = g;
	}
	return bev;
}

/* At --max-connections: the oldest connection that is not the apiserver's
 * and never can be, closed to make room for the newcomer, so that clients
 * without a certificate holding every slot cannot keep the apiserver out:
 * one whose TLS handshake is done without a verified client certificate,
 * or one still without a handshake PREAUTH_EVICT_SECS after it was
 * accepted.  A verified connection is never closed for another.  1 when
 * one was closed (it goes through evhttp's error path, deferred). */
static int
evict_unauthenticated(struct sink *k)
{
	time_t now = mono_secs();

	for (struct gate *g = k->ghead; g != NULL; g = g->next) {
		SSL *ssl;
		int done;
		char host[64], port[16];

		if (g->evicting || g->kill != NULL || g->state == 1)
			continue;
		ssl = bufferevent_openssl_get_ssl(bufferevent_get_underlying(g->bev));
		done = ssl != NULL && SSL_is_init_finished(ssl);
		if (done ? gate_verdict(g) == 1 : now - g->born < PREAUTH_EVICT_SECS)
			continue;
		g->evicting = 1;
		k->nevicting++;
		k->c.evicted_unauthenticated++;
		if ((k->c.evicted_unauthenticated & (k->c.evicted_unauthenticated - 1)) == 0) {
			gate_peer(g, host, sizeof(host), port, sizeof(port));
			kc_warn("audit-sink: %u connections open, the --max-connections limit: closed the one from "
			    "%s:%s (%s) to make room (%" PRIu64 " so far; logged at the 1st, 2nd, 4th, ...)", k->conns,
			    host, port, done ? "no verified client certificate" : "no TLS handshake in time",
			    k->c.evicted_unauthenticated);
		}
		bufferevent_trigger_event(g->bev, BEV_EVENT_ERROR | BEV_EVENT_READING, BEV_TRIG_DEFER_CALLBACKS);
		return 1;
	}
	return 0;
}

/* evhttp's bufferevent for each accepted connection: TLS under the gate.
 *
 * evhttp (2.1, http.c evhttp_get_request_connection) takes a NULL from
 * here as "no callback" and serves the connection over a plain socket
 * bufferevent: plain HTTP, no TLS.  So a connection whose TLS cannot be
 * set up (out of memory) is never answered with NULL while anything else
 * can be done: it is logged, counted (refusedError) and refused on
 * arrival like one over --max-connections.  Only if even that cannot be
 * allocated is NULL returned, logged as such; that plain connection still
 * gets nothing but a 401 (check_client finds no TLS session), so no batch
 * is ever taken without TLS and a verified client certificate. */
static struct bufferevent *
make_bev(struct event_base *base, void *arg)
{
	struct sink *k = arg;
	struct bufferevent *tls, *bev, *plain;
	uint64_t kill_no = 0;
	SSL *ssl;

	if (k->cfg->max_conns > 0 && k->conns - k->nevicting >= k->cfg->max_conns &&
	    !evict_unauthenticated(k)) {
		kill_no = ++k->c.refused_conn_limit;
	} else {
		if ((ssl = SSL_new(k->ssl)) != NULL &&
		    (tls = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE)) != NULL &&	/* (on failure it frees ssl) */
		    (bev = gate_new(k, base, tls, 0, 0)) != NULL)
			return bev;
		ERR_clear_error();
		kc_warn("audit-sink: cannot set up TLS for a new connection (out of memory): it is closed unread");
		k->c.refused++;
		k->c.refused_error++;
	}
	if ((plain = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) != NULL &&
	    (bev = gate_new(k, base, plain, 1, kill_no)) != NULL)
		return bev;
	kc_warn("audit-sink: out of memory for a refused connection: evhttp serves it without TLS, where every "
	    "request is refused 401");
	return NULL;
}

/* ---- signals, timers, status ---- */

static void
write_status(struct sink *k)
{
	char buf[2048];

	if (k->cfg->status_path == NULL)
		return;
	stamp_counters(&k->stamp, &k->c);
	kc_fmt_trunc(buf, sizeof(buf),
	    "{\"batches\":%" PRIu64 ",\"eventsReceived\":%" PRIu64 ",\"eventsWritten\":%" PRIu64
	    ",\"refused\":%" PRIu64 ",\"refusedAuth\":%" PRIu64 ",\"refusedMalformed\":%" PRIu64
	    ",\"refusedTooLarge\":%" PRIu64 ",\"refusedFull\":%" PRIu64 ",\"refusedError\":%" PRIu64
	    ",\"segmentsSealed\":%" PRIu64 ",\"digests\":%" PRIu64 ",\"openSegment\":%" PRIu64
	    ",\"refusedPreauthCut\":%" PRIu64 ",\"tsaStamped\":%" PRIu64 ",\"tsaFailures\":%" PRIu64
	    ",\"tsaPending\":%" PRIu64 ",\"tsaGivenUp\":%" PRIu64 ",\"groupCommits\":%" PRIu64
	    ",\"refusedConnLimit\":%" PRIu64 ",\"evictedUnauthenticated\":%" PRIu64
	    ",\"openConnections\":%u,\"maxConnections\":%u}\n",
	    k->c.batches, k->c.events_received, k->c.events_written, k->c.refused, k->c.refused_auth,
	    k->c.refused_malformed, k->c.refused_too_large, k->c.refused_full, k->c.refused_error,
	    k->c.segments_sealed, k->c.digests, k->fd >= 0 ? k->seg_no : 0, k->c.refused_preauth_cut,
	    k->c.tsa_stamped, k->c.tsa_failures, k->c.tsa_pending, k->c.tsa_given_up, k->c.group_commits,
	    k->c.refused_conn_limit, k->c.evicted_unauthenticated, k->conns, k->cfg->max_conns);
	if (kc_write_file_atomic(k->cfg->status_path, buf, strlen(buf), 0644) != 0)
		kc_warn("audit-sink: cannot write the status file: %s", kc_err_msg());
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct sink *k = arg;

	(void)what;
	if (sig == SIGUSR1) {
		write_status(k);	/* takes the time-stamp counters too */
		if (k->cfg->report != NULL)
			k->cfg->report(&k->c, 0, k->cfg->report_arg);
		return;
	}
	event_base_loopexit(k->base, NULL);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sink *k = arg;
	int64_t now = kc_mono_ns();

	(void)fd;
	(void)what;
	if (k->fatal)
		return;
	if (k->fd >= 0 && k->cfg->segment_secs > 0 && now - k->seg_opened_mono >= k->cfg->segment_secs * 1000000000LL) {
		if (rotate(k, "rotation") != 0) {
			kc_warn("audit-sink: cannot seal segment: %s", kc_err_msg());
			k->fatal = 1;
		}
		write_status(k);
	} else if (now - k->last_digest_mono >= k->cfg->digest_secs * 1000000000LL) {
		if (rotate(k, "interval") != 0) {
			kc_warn("audit-sink: cannot write a digest record: %s", kc_err_msg());
			k->fatal = 1;
		}
		write_status(k);
	}
}

/* The sink's own descriptors besides its connections: the listener, the
 * event loop's, the open segment, the folder, record and status files,
 * the time-stamp thread's connection, OpenSSL's. */
#define FD_RESERVE 64

/* Room for max_conns connections under RLIMIT_NOFILE, raising the soft
 * limit towards the hard one when needed: past the limit accept() would
 * fail with EMFILE over and over (libevent 2.1's listener retries at
 * once) instead of the connection being refused on arrival. */
static int
fd_room(unsigned max_conns)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)max_conns + FD_RESERVE;

	if (max_conns == 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return 0;
	}
	return kc_err_set(KC_ERR_CONFIG, "--max-connections %u needs %llu open files, the hard limit is %llu "
	    "(ulimit -Hn): give fewer", max_conns, (unsigned long long)need, (unsigned long long)rl.rlim_max);
}

int
kc_sink_run(const struct kc_sink_config *cfg, struct kc_sink_counters *out)
{
	struct sink k;
	struct evhttp *http = NULL;
	struct evhttp_bound_socket *bound;
	struct event *sigs[4] = { NULL }, *tick = NULL;
	const int signos[4] = { SIGTERM, SIGINT, SIGUSR1, SIGHUP };
	struct timeval one = { 1, 0 };
	unsigned char rnd[16];
	int r = 0;

	memset(&k, 0, sizeof(k));
	k.cfg = cfg;
	k.fd = -1;
	kc_buf_init(&k.lines, 0);
	signal(SIGPIPE, SIG_IGN);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return kc_err_ossl(KC_ERR_CRYPTO, "no random bytes for the run id");
	kc_hex_encode(rnd, sizeof(rnd), k.run);
	now_str(k.run_started, sizeof(k.run_started));
	if ((k.seg_hash = kc_sha256_new()) == NULL || (k.starts = calloc(MAX_ITEMS, sizeof(size_t))) == NULL ||
	    (k.ends = calloc(MAX_ITEMS, sizeof(size_t))) == NULL) {
		r = KC_ERR_NOMEM;
		goto out;
	}
	if ((r = fd_room(cfg->max_conns)) != 0)
		goto out;
	if ((r = kc_mkdir_p(cfg->dir, 0750)) != 0)
		goto out;
	if ((k.ssl = tls_setup(cfg)) == NULL) {
		r = KC_ERR_CONFIG;
		goto out;
	}
	if ((k.base = event_base_new()) == NULL || (http = evhttp_new(k.base)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "cannot start the event loop");
		goto out;
	}
	if ((k.commit = event_new(k.base, -1, 0, on_commit, &k)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "cannot start the event loop");
		goto out;
	}
	evhttp_set_bevcb(http, make_bev, &k);
	evhttp_set_gencb(http, handle, &k);
	/* evhttp answers 413 itself past twice the limit (never buffering
	 * more); between the two the handler refuses it and logs it */
	evhttp_set_max_body_size(http, (ev_ssize_t)(cfg->max_body * 2));
	evhttp_set_max_headers_size(http, 65536);
	evhttp_set_timeout(http, 60);
	if ((bound = evhttp_bind_socket_with_handle(http, cfg->host, (ev_uint16_t)cfg->port)) == NULL) {
		r = kc_err_set(KC_ERR_NET, "cannot listen on %s:%d: %s", cfg->host, cfg->port, strerror(errno));
		goto out;
	}
	if ((r = stamp_start(&k.stamp, cfg)) != 0)
		goto out;
	/* Sealing what a stopped run left comes after the port is ours: a
	 * second sink on the same folder fails above, before touching it. */
	if ((r = resume(&k)) != 0)
		goto out;
	for (int i = 0; i < 4; i++) {
		if ((sigs[i] = evsignal_new(k.base, signos[i], on_signal, &k)) == NULL || evsignal_add(sigs[i], NULL) != 0) {
			r = kc_err_set(KC_ERR_NOMEM, "cannot handle signals");
			goto out;
		}
	}
	if ((tick = event_new(k.base, -1, EV_PERSIST, on_tick, &k)) == NULL || event_add(tick, &one) != 0) {
		r = kc_err_set(KC_ERR_NOMEM, "cannot start the timer");
		goto out;
	}
	write_status(&k);
	if (cfg->ready != NULL) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int port = cfg->port;

		if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &sl) == 0)
			port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
			    ntohs(((struct sockaddr_in *)&ss)->sin_port);
		cfg->ready(port, cfg->report_arg);
	}
	event_base_dispatch(k.base);
	if ((r = rotate(&k, "shutdown")) != 0)
		kc_warn("audit-sink: cannot seal at shutdown: %s", kc_err_msg());
	stamp_stop(&k.stamp);
	write_status(&k);
	if (cfg->report != NULL)
		cfg->report(&k.c, 1, cfg->report_arg);
out:
	stamp_stop(&k.stamp);
	stamp_counters(&k.stamp, &k.c);
	if (out != NULL)
		*out = k.c;
	for (int i = 0; i < 4; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	if (tick != NULL)
		event_free(tick);
	if (k.commit != NULL)
		event_free(k.commit);
	if (http != NULL)
		evhttp_free(http);
	if (k.base != NULL)
		event_base_free(k.base);
	if (k.fd >= 0)
		close(k.fd);
	SSL_CTX_free(k.ssl);
	kc_sha256_free(k.seg_hash);
	kc_buf_free(&k.lines);
	free(k.pending);
	free(k.starts);
	free(k.ends);
	free(k.waiting);
	free(k.waiting_events);
	return r;
}
