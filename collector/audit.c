/* audit.c - the extraction: read every source in order, keep malformed
 * lines aside, select, redact, write the segment and account for it all
 * (sources.json). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/audit.h"
#include "collector/audit_int.h"
#include "manifest/auditchain.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/timeutil.h"

#define FIELD_MAX 256		/* longest auditID/timestamp copied into reports */
#define GAPS_MAX 1000		/* gaps listed; the rest are counted */
#define BAD_MAX 100		/* malformed lines listed in the summary */
#define SEGMENT_BUF ((size_t)1 << 20)
#define STREAMS_MAX 256		/* provider streams tracked one by one; the rest pooled */
#define SRC_STREAMS 16		/* streams listed per source */

/* Times are int64_t nanoseconds within KC_AUDIT_TS_MIN_S..MAX_S; their
 * sums and differences with a gap can leave int64_t, so saturate. */
static int64_t
ns_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int64_t
ns_sub(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int add_str(cJSON *o, const char *k, const char *v);
static int add_num(cJSON *o, const char *k, double v);

/* ---- redaction -------------------------------------------------------- */

static int
has_data_key(const cJSON *v, int depth)
{
	if (depth > 64)
		return 1;	/* deeper than any real object: redact to be safe */
	for (const cJSON *c = (v != NULL) ? v->child : NULL; c != NULL; c = c->next) {
		if (cJSON_IsObject(v) && c->string != NULL &&
		    (strcmp(c->string, "data") == 0 || strcmp(c->string, "stringData") == 0 ||
		    strcmp(c->string, "binaryData") == 0))
			return 1;
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && has_data_key(c, depth + 1))
			return 1;
	}
	return 0;
}

static int
is_body(const cJSON *b)
{
	return b != NULL && !cJSON_IsNull(b);
}

int
kc_audit_needs_redaction(const cJSON *ev)
{
	const cJSON *req = kc_json_get(ev, "requestObject"), *resp = kc_json_get(ev, "responseObject");
	const cJSON *ref = kc_json_get(ev, "objectRef");
	const char *res = kc_json_str(ref, "resource"), *sub = kc_json_str(ref, "subresource");

	if (!is_body(req) && !is_body(resp))
		return 0;
	if (res != NULL && (strcmp(res, "secrets") == 0 || strcmp(res, "tokenreviews") == 0))
		return 1;
	if (sub != NULL && strcmp(sub, "token") == 0)
		return 1;
	return (is_body(req) && has_data_key(req, 0)) || (is_body(resp) && has_data_key(resp, 0));
}

/* The marker as a member named key (the name allocated by cJSON itself:
 * added to a holder object, then detached from it). */
static cJSON *
marker(const char *hex, const char *key)
{
	cJSON *holder = cJSON_CreateObject(), *m = cJSON_CreateObject();

	if (holder == NULL || m == NULL || !cJSON_AddItemToObject(holder, key, m)) {
		cJSON_Delete(holder);
		cJSON_Delete(m);
		return NULL;
	}
	m = cJSON_DetachItemViaPointer(holder, m);
	cJSON_Delete(holder);
	if (kc_audit_marker_fill(m, hex) != 0) {
		cJSON_Delete(m);
		return NULL;
	}
	return m;
}

int
kc_audit_marker_fill(cJSON *m, const char *hex)
{
	cJSON *in;

	if ((in = cJSON_AddObjectToObject(m, KC_AUDIT_REDACT_KEY)) == NULL ||
	    cJSON_AddStringToObject(in, "sha256", hex) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

int
kc_audit_redact(cJSON *ev, const char *line, size_t len)
{
	static const char *const keys[] = { "requestObject", "responseObject" };
	char hex[KC_SHA256_HEX];

	if (kc_sha256_hex(line, len, hex) < 0)
		return kc_err_set(KC_ERR_CRYPTO, "SHA-256 failed");
	for (size_t k = 0; k < 2; k++) {
		/* every member of that name (jq reads the last; none may leak) */
		for (cJSON *c = ev->child; c != NULL; c = c->next) {
			cJSON *m;

			if (c->string == NULL || strcmp(c->string, keys[k]) != 0 || !is_body(c))
				continue;
			if ((m = marker(hex, keys[k])) == NULL ||
			    !cJSON_ReplaceItemViaPointer(ev, c, m)) {
				cJSON_Delete(m);
				return kc_err_set(KC_ERR_NOMEM, "out of memory");
			}
			c = m;
		}
	}
	return 0;
}

/* ---- accounting ------------------------------------------------------- */

struct src_stat {
	uint64_t lines, events, matched, malformed, redacted;
	char first_id[FIELD_MAX], last_id[FIELD_MAX];
	char first_ts[FIELD_MAX], last_ts[FIELD_MAX];
	int have_first;
	int64_t min_ns, max_ns;
	int have_ts;
	int64_t wmin_ns, wmax_ns;	/* written: stageTimestamp (else requestReceived) */
	int have_w;
	struct kc_audit_reader_stats rs;
	char error[256];
	int read;		/* opened */
	int prov;		/* KC_AUDIT_PROV_*: forced, or decided by the first record */
	const char *form;	/* the first record's form */
	int split;		/* KC_AUDIT_SPLIT_* */
	uint64_t other;		/* records of another provider, set aside */
	uint64_t reads_yes, reads_no;	/* events from streams that can / cannot hold reads */
	char first_rid[FIELD_MAX], last_rid[FIELD_MAX];
	int have_rid;
	int streams[SRC_STREAMS];
	int nstreams, streams_more;
};

struct grp {
	int have;
	int64_t max_ns;
	size_t max_src;
};

/* One provider log stream (EKS log stream, GKE log, AKS category) of one
 * cluster: continuity is followed per stream, across files. */
struct stream {
	int provider, reads;
	char *cluster, *name;
	uint64_t events;
	struct grp g;
	int have_ts;
	int64_t min_ns, max_ns;
	size_t first_src, last_src;
	char first_rid[FIELD_MAX], last_rid[FIELD_MAX];
};

struct run {
	const struct kc_audit_filter *f;
	const struct kc_audit_opts *o;
	struct kc_audit_sources srcs;
	struct src_stat *st;
	FILE *seg;
	kc_audit_malformed_fn on_bad;
	void *ctx;
	struct kc_audit_result *res;
	int full;		/* parse every line */
	int64_t gap_ns;
	struct grp *grp;
	int ngrp;
	cJSON *gaps, *counts, *bad;
	uint64_t gaps_dropped;
	int64_t min_ns, max_ns;
	int have_ts;
	struct stream *streams;
	size_t nstreams, streamcap;
	int streams_pooled;	/* the last entry pools streams past STREAMS_MAX */
};

static void
copy_field(char *dst, const char *s)
{
	size_t n = strlen(s);

	if (n >= FIELD_MAX)
		n = FIELD_MAX - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int
report(struct run *r, size_t si, uint64_t off, uint64_t len, const char *reason,
    const char *detail, const char *sha)
{
	struct kc_audit_malformed m = {
		.source = r->srcs.v[si].name, .offset = off, .length = len, .reason = reason,
		.detail = detail ? detail : "", .sha256 = sha ? sha : "",
	};

	r->st[si].malformed++;
	r->res->malformed++;
	if (r->bad != NULL && cJSON_GetArraySize(r->bad) < BAD_MAX) {
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(r->bad, o) ||
		    !cJSON_AddStringToObject(o, "source", m.source) ||
		    !cJSON_AddNumberToObject(o, "offset", (double)off) ||
		    !cJSON_AddNumberToObject(o, "length", (double)len) ||
		    !cJSON_AddStringToObject(o, "reason", reason) ||
		    (m.detail[0] && !cJSON_AddStringToObject(o, "detail", m.detail)) ||
		    (m.sha256[0] && !cJSON_AddStringToObject(o, "sha256", m.sha256)))
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	return r->on_bad ? r->on_bad(r->ctx, &m) : 0;
}

/* to - from in seconds, to the millisecond; a span longer than int64_t
 * nanoseconds hold (292 years) in whole seconds. */
static double
gap_seconds(int64_t from, int64_t to)
{
	int64_t d;

	if (__builtin_sub_overflow(to, from, &d))
		return (double)(to / 1000000000 - from / 1000000000);
	return (double)(d / 1000000) / 1000.0;
}

static int
add_gap(struct run *r, const char *kind, int64_t from, int64_t to, size_t sa, size_t sb,
    const struct stream *st)
{
	cJSON *g;
	char t[40];

	if (cJSON_GetArraySize(r->gaps) >= GAPS_MAX) {
		r->gaps_dropped++;
		return 0;
	}
	if ((g = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(r->gaps, g) ||
	    !cJSON_AddStringToObject(g, "kind", kind) ||
	    !cJSON_AddStringToObject(g, "from", kc_fmt_rfc3339_us(from, t, sizeof(t))) ||
	    !cJSON_AddStringToObject(g, "to", kc_fmt_rfc3339_us(to, t, sizeof(t))) ||
	    !cJSON_AddNumberToObject(g, "seconds", gap_seconds(from, to)) ||
	    (sa != (size_t)-1 && !cJSON_AddStringToObject(g, "last_event_source", r->srcs.v[sa].name)) ||
	    (sb != (size_t)-1 && !cJSON_AddStringToObject(g, "next_event_source", r->srcs.v[sb].name)) ||
	    (st != NULL && (!cJSON_AddStringToObject(g, "provider", kc_audit_provider_name(st->provider)) ||
	    !cJSON_AddStringToObject(g, "cluster", st->cluster) ||
	    !cJSON_AddStringToObject(g, "stream", st->name))))
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

/* Per-event bookkeeping for the document: first/last in file order,
 * earliest/latest, and silences longer than the gap threshold, measured
 * against the latest time seen so far in the log (lines are in write
 * order, not time order, so older stamps never open a gap). */
static int
account(struct run *r, size_t si, const cJSON *ev, struct stream *sm)
{
	struct src_stat *s = &r->st[si];
	const char *id = kc_json_str(ev, "auditID");
	const char *ts = kc_json_str(ev, "requestReceivedTimestamp");
	struct grp *g = sm ? &sm->g : &r->grp[r->srcs.v[si].group];
	int64_t t;

	if (!s->have_first) {
		copy_field(s->first_id, id ? id : "");
		copy_field(s->first_ts, ts ? ts : "");
		s->have_first = 1;
	}
	copy_field(s->last_id, id ? id : "");
	copy_field(s->last_ts, ts ? ts : "");
	{
		const char *st = kc_json_str(ev, "stageTimestamp");
		int64_t w;

		if ((st != NULL && kc_audit_parse_ts(st, strlen(st), &w) == 0) ||
		    (ts != NULL && kc_audit_parse_ts(ts, strlen(ts), &w) == 0)) {
			if (!s->have_w || w < s->wmin_ns)
				s->wmin_ns = w;
			if (!s->have_w || w > s->wmax_ns)
				s->wmax_ns = w;
			s->have_w = 1;
		}
	}
	if (ts == NULL || kc_audit_parse_ts(ts, strlen(ts), &t) != 0)
		return 0;
	if (sm != NULL) {
		if (!sm->have_ts || t < sm->min_ns)
			sm->min_ns = t;
		if (!sm->have_ts || t > sm->max_ns)
			sm->max_ns = t;
		sm->have_ts = 1;
	}
	if (!s->have_ts || t < s->min_ns)
		s->min_ns = t;
	if (!s->have_ts || t > s->max_ns)
		s->max_ns = t;
	s->have_ts = 1;
	if (!r->have_ts || t < r->min_ns)
		r->min_ns = t;
	if (!r->have_ts || t > r->max_ns)
		r->max_ns = t;
	r->have_ts = 1;
	if (g->have && ns_sub(t, g->max_ns) > r->gap_ns) {
		int rc = add_gap(r, g->max_src == si ? "no-events" : "between-pieces",
		    g->max_ns, t, g->max_src, si, sm);
		if (rc < 0)
			return rc;
	}
	if (!g->have || t > g->max_ns) {
		g->have = 1;
		g->max_ns = t;
		g->max_src = si;
	}
	return 0;
}

static cJSON *
child_obj(cJSON *o, const char *k)
{
	cJSON *c = kc_json_get_mut(o, k);

	if (c == NULL)
		c = cJSON_AddObjectToObject(o, k);
	return c;
}

static int
count(struct run *r, const cJSON *ev, const char *agent)
{
	const cJSON *ref = kc_json_get(ev, "objectRef");
	const char *res = kc_json_str(ref, "resource"), *sub = kc_json_str(ref, "subresource");
	const char *verb = kc_json_str(ev, "verb");
	const char *dec = kc_json_str(kc_json_get(ev, "annotations"), "authorization.k8s.io/decision");
	/* the whole key, however long: a cut one would count another resource */
	struct kc_buf rk = KC_BUF_INIT(1u << 20);
	cJSON *a, *b, *c, *n;
	int e;

	if (res == NULL)
		e = kc_buf_addf(&rk, "(non-resource)");
	else
		e = kc_buf_addf(&rk, "%s%s%s", res, sub ? "/" : "", sub ? sub : "");
	if (e != 0 || (a = child_obj(r->counts, agent)) == NULL || (b = child_obj(a, kc_buf_str(&rk))) == NULL ||
	    (c = child_obj(b, verb ? verb : "(none)")) == NULL) {
		kc_buf_free(&rk);
		return e != 0 ? e : kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	kc_buf_free(&rk);
	dec = dec ? dec : "(none)";
	if ((n = kc_json_get_mut(c, dec)) != NULL)
		cJSON_SetNumberValue(n, n->valuedouble + 1);
	else if (cJSON_AddNumberToObject(c, dec, 1) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct stream *
stream_get(struct run *r, size_t si, const struct kc_audit_prov *p)
{
	struct src_stat *s = &r->st[si];
	struct stream *sm;
	size_t i;
	int k;

	for (i = 0; i < r->nstreams; i++)
		if (r->streams[i].provider == p->provider && strcmp(r->streams[i].cluster, p->cluster) == 0 &&
		    strcmp(r->streams[i].name, p->stream) == 0)
			break;
	if (i == r->nstreams && r->nstreams >= STREAMS_MAX) {
		i = STREAMS_MAX - 1;	/* pooled: continuity no longer per stream */
		r->streams_pooled = 1;
	} else if (i == r->nstreams) {
		if (KC_GROW(r->streams, r->streamcap, r->nstreams + 1))
			return NULL;
		sm = &r->streams[i];
		memset(sm, 0, sizeof(*sm));
		sm->provider = p->provider;
		sm->cluster = kc_strdup(p->cluster);
		sm->name = kc_strdup(p->stream);
		sm->first_src = si;
		if (sm->cluster == NULL || sm->name == NULL) {
			free(sm->cluster);
			free(sm->name);
			return NULL;
		}
		r->nstreams++;
	}
	sm = &r->streams[i];
	sm->events++;
	sm->reads |= p->reads;
	sm->last_src = si;
	if (p->id[0] != '\0') {
		if (sm->first_rid[0] == '\0')
			copy_field(sm->first_rid, p->id);
		copy_field(sm->last_rid, p->id);
		if (!s->have_rid)
			copy_field(s->first_rid, p->id);
		copy_field(s->last_rid, p->id);
		s->have_rid = 1;
	}
	for (k = 0; k < s->nstreams; k++)
		if (s->streams[k] == (int)i)
			break;
	if (k == s->nstreams) {
		if (s->nstreams < SRC_STREAMS)
			s->streams[s->nstreams++] = (int)i;
		else
			s->streams_more = 1;
	}
	return sm;
}

/* One records.jsonl line: where the event on line `event` of the segment
 * came from, with the provider's record as it was (or only its hash when
 * the event was redacted). */
static int
write_record(struct run *r, size_t si, const struct kc_audit_line *l, const cJSON *ev,
    const struct kc_audit_prov *p, int redacted)
{
	cJSON *o = cJSON_CreateObject();
	char hex[KC_SHA256_HEX], *raw = NULL, *out = NULL;
	int rc = 0;

	if (kc_sha256_hex(l->data, l->len, hex) < 0)
		hex[0] = '\0';
	if (!redacted && (raw = malloc(l->len + 1)) != NULL) {
		memcpy(raw, l->data, l->len);
		raw[l->len] = '\0';
	}
	if (o == NULL || add_num(o, "event", (double)r->res->matched) ||
	    add_str(o, "auditID", kc_json_str(ev, "auditID") ? kc_json_str(ev, "auditID") : "") ||
	    add_str(o, "provider", kc_audit_provider_name(p->provider)) ||
	    add_str(o, "form", p->form ? p->form : "native-document") ||
	    add_str(o, "source", r->srcs.v[si].name) ||
	    add_num(o, "offset", (double)l->offset) || add_num(o, "length", (double)l->len) ||
	    (p->id[0] && add_str(o, "record_id", p->id)) ||
	    (p->stream[0] && add_str(o, "stream", p->stream)) ||
	    (p->cluster[0] && add_str(o, "cluster", p->cluster)) ||
	    add_str(o, "sha256", hex) ||
	    (redacted ? cJSON_AddTrueToObject(o, "redacted") == NULL :
	    (raw == NULL || add_str(o, "record", raw))) ||
	    (out = cJSON_PrintUnformatted(o)) == NULL) {
		rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto done;
	}
	if (fputs(out, r->o->records) == EOF || putc('\n', r->o->records) == EOF)
		rc = kc_err_set(KC_ERR_IO, "cannot write the provider records: %s", strerror(errno));
done:
	free(out);
	free(raw);
	cJSON_Delete(o);
	return rc;
}

/* Write the event: text as it is (the log line, or the event text a
 * provider record carried) unless it must be redacted or there is none
 * (GKE, a record spread over lines): then ev, printed by cJSON.  The
 * redaction marker hashes the source record l. */
static int
emit(struct run *r, size_t si, cJSON *ev, const struct kc_audit_line *l,
    const char *text, size_t tlen, const struct kc_audit_prov *p)
{
	char *out = NULL;
	int rc, redacted = 0;

	if (!r->o->no_redact && kc_audit_needs_redaction(ev)) {
		if ((rc = kc_audit_redact(ev, l->data, l->len)) < 0)
			return rc;
		redacted = 1;
		text = NULL;
	}
	if (text == NULL) {
		if ((out = cJSON_PrintUnformatted(ev)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		text = out;
		tlen = strlen(out);
	}
	if (r->seg != NULL && (fwrite(text, 1, tlen, r->seg) != tlen || putc('\n', r->seg) == EOF)) {
		free(out);
		return kc_err_set(KC_ERR_IO, "cannot write the audit segment: %s", strerror(errno));
	}
	free(out);
	if (redacted) {
		r->st[si].redacted++;
		r->res->redacted++;
	}
	if (p != NULL && r->o->records != NULL)
		return write_record(r, si, l, ev, p, redacted);
	return 0;
}

/* A timestamp that is well formed but outside what int64_t nanoseconds
 * hold (about the years 1678 to 2262) cannot be placed in time: the line
 * is reported, not accounted.  1 with the member named in detail. */
static int
ts_problem(const cJSON *ev, char *detail, size_t n)
{
	static const char *const keys[] = { "requestReceivedTimestamp", "stageTimestamp" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = kc_json_str(ev, keys[i]);
		int64_t t;

		if (v != NULL && kc_audit_parse_ts(v, strlen(v), &t) == KC_ERR_LIMIT) {
			kc_fmt_trunc(detail, n, "%s year %.4s is outside 1678-2262", keys[i], v);
			return 1;
		}
	}
	return 0;
}

/* Can a file read as provider fp hold a record classified as rp? */
static int
fits(int fp, int rp)
{
	switch (fp) {
	case KC_AUDIT_PROV_NATIVE: return rp == KC_AUDIT_PROV_NATIVE || rp == KC_AUDIT_PROV_UNKNOWN;
	case KC_AUDIT_PROV_EKS: return rp == KC_AUDIT_PROV_EKS || rp == KC_AUDIT_PROV_NATIVE;
	default: return rp == fp;
	}
}

/* The folder a CloudWatch export to S3 keeps each log stream in. */
static void
s3_stream(const char *path, char *out, size_t n)
{
	const char *e = strrchr(path, '/'), *b;

	if (e == NULL) {
		kc_fmt_trunc(out, n, "(file %s)", path);
		return;
	}
	for (b = e; b > path && b[-1] != '/'; b--)
		;
	kc_fmt_trunc(out, n, "%.*s", (int)(e - b), b);
}

static int
one_line(struct run *r, size_t si, const struct kc_audit_line *l)
{
	struct src_stat *s = &r->st[si];
	const char *end = NULL, *agent = NULL, *body, *why = NULL, *text = NULL;
	size_t blen, skip = 0, tlen = 0;
	struct kc_audit_prov pv;
	struct stream *sm = NULL;
	cJSON *rec = NULL, *ev = NULL;
	char hex[KC_SHA256_HEX], detail[256];
	int rc = 0, cls;

	memset(&pv, 0, sizeof(pv));
	s->lines++;
	r->res->lines++;
	if (l->reason != NULL)
		return report(r, si, l->offset, l->size, l->reason, l->detail, l->sha256);
	if (s->prov == KC_AUDIT_PROV_NATIVE && !r->full && s->split == KC_AUDIT_SPLIT_LINES) {
		const char *p = l->data, *e = l->data + l->len;

		while (p < e && is_ws(*p))
			p++;
		while (e > p && is_ws(e[-1]))
			e--;
		if (p == e || *p != '{' || e[-1] != '}')
			goto not_object;
		if (!kc_audit_filter_maybe(r->f, l->data, l->len)) {
			s->events++;
			r->res->events++;
			return 0;
		}
	}
	body = l->data;
	blen = l->len;
	if (s->split == KC_AUDIT_SPLIT_LINES && (s->prov == KC_AUDIT_PROV_UNKNOWN || s->prov == KC_AUDIT_PROV_EKS) &&
	    kc_audit_cloud_s3_prefix(body, blen, &skip)) {
		body += skip;
		blen -= skip;
	}
	rec = cJSON_ParseWithLengthOpts(body, blen, &end, 0);
	if (rec == NULL || end == NULL) {
		/* where the parse stopped, from this parse's own end pointer
		 * (cJSON sets it on failure): cJSON_GetErrorPtr() is one global,
		 * which collect's exports thread, parsing pages meanwhile, resets */
		const char *at = rec == NULL ? end : NULL;

		kc_fmt_trunc(detail, sizeof(detail), "parse error at byte %zu",
		    at && at >= body && at <= body + blen ? (size_t)(at - l->data) : (size_t)0);
		cJSON_Delete(rec);
		kc_sha256_hex(l->data, l->len, hex);
		return report(r, si, l->offset, l->len, "invalid JSON", detail, hex);
	}
	while (end < body + blen && is_ws(*end))
		end++;
	if (end != body + blen) {
		kc_fmt_trunc(detail, sizeof(detail), "trailing data at byte %zu", (size_t)(end - l->data));
		cJSON_Delete(rec);
		kc_sha256_hex(l->data, l->len, hex);
		return report(r, si, l->offset, l->len, "invalid JSON", detail, hex);
	}
	if (!cJSON_IsObject(rec)) {
		cJSON_Delete(rec);
		goto not_object;
	}
	if (kc_json_text_has_nul(body, blen)) {
		/* cJSON would cut the string at the NUL (a user "agent\u0000x"
		 * read as "agent") where jq and Go keep it: set aside whole */
		cJSON_Delete(rec);
		kc_sha256_hex(l->data, l->len, hex);
		return report(r, si, l->offset, l->len, "NUL character in a string",
		    "a string holds \\u0000, which no API server writes; JSON readers differ on it", hex);
	}
	pv.provider = KC_AUDIT_PROV_NATIVE;
	if (r->o->format == KC_AUDIT_PROV_NATIVE) {
		cls = KC_AUDIT_PROV_NATIVE;	/* as the API server wrote it, no questions */
	} else {
		cls = kc_audit_cloud_classify(rec);
		if (skip > 0 && cls != KC_AUDIT_PROV_NATIVE) {
			why = "message is not an audit event";
			kc_fmt_trunc(detail, sizeof(detail), "the text after the export's timestamp is not an audit.k8s.io Event");
			goto aside;
		}
		if (s->prov == KC_AUDIT_PROV_UNKNOWN) {
			s->prov = skip > 0 ? KC_AUDIT_PROV_EKS : cls == KC_AUDIT_PROV_UNKNOWN ? KC_AUDIT_PROV_NATIVE : cls;
			s->form = skip > 0 ? "eks-s3-export" : NULL;
		}
		if (!fits(s->prov, skip > 0 ? KC_AUDIT_PROV_EKS : cls)) {
			if (cls == KC_AUDIT_PROV_UNKNOWN) {
				why = "not an audit record";
				kc_fmt_trunc(detail, sizeof(detail), "neither an audit.k8s.io Event nor a %s export record",
				    kc_audit_provider_name(s->prov));
			} else {
				why = "record of another provider";
				kc_fmt_trunc(detail, sizeof(detail), "record from %s in a file read as %s",
				    kc_audit_provider_name(cls), kc_audit_provider_name(s->prov));
				s->other++;
			}
			goto aside;
		}
	}
	if (skip > 0) {
		ev = rec;
		rec = NULL;
		pv.provider = KC_AUDIT_PROV_EKS;
		pv.form = "eks-s3-export";
		pv.reads = 1;
		s3_stream(r->srcs.v[si].path, pv.stream, sizeof(pv.stream));
		text = body;
		tlen = blen;
	} else if (cls == KC_AUDIT_PROV_NATIVE || cls == KC_AUDIT_PROV_UNKNOWN) {
		ev = rec;
		rec = NULL;
		text = l->data;
		tlen = l->len;
	} else {
		if ((rc = kc_audit_cloud_convert(rec, cls, &pv, &ev, &why, detail, sizeof(detail))) < 0)
			goto out;
		if (rc == 0)
			goto aside;
		rc = 0;
		text = pv.text;
		tlen = text ? strlen(text) : 0;
	}
	if (s->form == NULL)
		s->form = pv.provider == KC_AUDIT_PROV_NATIVE ? "native" : pv.form;
	/* a record spread over lines is written on one */
	if (text != NULL && memchr(text, '\n', tlen) != NULL)
		text = NULL;
	if (ts_problem(ev, detail, sizeof(detail))) {
		why = "timestamp out of range";
		goto aside;
	}
	s->events++;
	r->res->events++;
	if (pv.provider != KC_AUDIT_PROV_NATIVE) {
		if ((sm = stream_get(r, si, &pv)) == NULL) {
			rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (pv.reads)
			s->reads_yes++;
		else
			s->reads_no++;
	} else {
		s->reads_yes++;
	}
	if (r->o->stats && (rc = account(r, si, ev, sm)) < 0)
		goto out;
	if (kc_audit_filter_match(r->f, ev, &agent)) {
		s->matched++;
		r->res->matched++;
		if (r->o->stats && (rc = count(r, ev, agent)) < 0)
			goto out;
		rc = emit(r, si, ev, l, text, tlen,
		    pv.provider != KC_AUDIT_PROV_NATIVE || s->split == KC_AUDIT_SPLIT_DOCS ? &pv : NULL);
	}
out:
	cJSON_Delete(ev);
	cJSON_Delete(rec);
	kc_audit_prov_clear(&pv);
	return rc;
aside:
	cJSON_Delete(ev);
	cJSON_Delete(rec);
	kc_audit_prov_clear(&pv);
	kc_sha256_hex(l->data, l->len, hex);
	return report(r, si, l->offset, l->len, why, detail, hex);
not_object:
	kc_sha256_hex(l->data, l->len, hex);
	return report(r, si, l->offset, l->len, "not a JSON object", NULL, hex);
}

static int
read_source(struct run *r, size_t si)
{
	struct kc_audit_reader *rd = NULL;
	struct kc_audit_line l;
	struct src_stat *s = &r->st[si];
	int rc, k;

	if (kc_audit_reader_open(&rd, r->srcs.v[si].path, r->o->line_max, r->o->stats) < 0) {
		kc_fmt_trunc(s->error, sizeof(s->error), "%s", kc_err_msg());
		r->res->source_errors++;
		return 0;	/* recorded, not fatal */
	}
	s->read = 1;
	s->prov = r->o->format;
	kc_audit_reader_allow_docs(rd, r->o->format != KC_AUDIT_PROV_NATIVE);
	while ((k = kc_audit_reader_next(rd, &l)) == 1) {
		s->split = kc_audit_reader_split(rd);
		if ((rc = one_line(r, si, &l)) < 0) {
			kc_audit_reader_close(rd);
			return rc;
		}
	}
	if (s->split == 0)
		s->split = kc_audit_reader_split(rd);
	kc_audit_reader_stats(rd, &s->rs);
	if (s->rs.error[0] != '\0') {
		kc_fmt_trunc(s->error, sizeof(s->error), "%s", s->rs.error);
		r->res->source_errors++;
	}
	kc_audit_reader_close(rd);
	return 0;
}

/* ---- the document ----------------------------------------------------- */

static int
add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v) != NULL ? 0 : KC_ERR_NOMEM;
}

static int
add_num(cJSON *o, const char *k, double v)
{
	return cJSON_AddNumberToObject(o, k, v) != NULL ? 0 : KC_ERR_NOMEM;
}

static int
add_ts(cJSON *o, const char *k, int have, int64_t ns)
{
	char t[40];

	if (!have)
		return cJSON_AddNullToObject(o, k) != NULL ? 0 : KC_ERR_NOMEM;
	return add_str(o, k, kc_fmt_rfc3339_us(ns, t, sizeof(t)));
}

static cJSON *
source_json(const struct run *r, size_t i)
{
	const struct kc_audit_source *src = &r->srcs.v[i];
	const struct src_stat *s = &r->st[i];
	cJSON *o = cJSON_CreateObject(), *e;
	char t[48];
	int rc = 0;

	if (o == NULL)
		return NULL;
	rc |= add_str(o, "name", src->name);
	rc |= add_str(o, "path", src->path);
	rc |= add_str(o, "role", src->role);
	rc |= add_num(o, "log", src->group);
	if (src->rotated_ms >= 0)
		rc |= add_str(o, "rotated_at", kc_fmt_rfc3339_us(src->rotated_ms * 1000000, t, sizeof(t)));
	if (s->read) {
		rc |= add_str(o, "compression", s->rs.gzip ? "gzip" : "none");
		rc |= add_num(o, "size", (double)s->rs.raw_size);
		rc |= add_str(o, "sha256", s->rs.raw_sha256);
		rc |= add_num(o, "decompressed_size", (double)s->rs.size);
		rc |= add_str(o, "decompressed_sha256", s->rs.sha256);
	}
	rc |= add_num(o, "lines", (double)s->lines);
	rc |= add_num(o, "events", (double)s->events);
	rc |= add_num(o, "malformed", (double)s->malformed);
	rc |= add_num(o, "matched", (double)s->matched);
	rc |= add_num(o, "redacted", (double)s->redacted);
	if (s->have_first) {
		if ((e = cJSON_AddObjectToObject(o, "first")) == NULL)
			rc |= KC_ERR_NOMEM;
		else {
			rc |= add_str(e, "auditID", s->first_id);
			rc |= add_str(e, "requestReceivedTimestamp", s->first_ts);
		}
		if ((e = cJSON_AddObjectToObject(o, "last")) == NULL)
			rc |= KC_ERR_NOMEM;
		else {
			rc |= add_str(e, "auditID", s->last_id);
			rc |= add_str(e, "requestReceivedTimestamp", s->last_ts);
		}
	}
	rc |= add_ts(o, "earliest", s->have_ts, s->min_ns);
	rc |= add_ts(o, "latest", s->have_ts, s->max_ns);
	if (s->read) {
		rc |= add_str(o, "provider", kc_audit_provider_name(s->prov));
		rc |= add_str(o, "form", s->form ? s->form : "(no record)");
		rc |= add_str(o, "split", s->split == KC_AUDIT_SPLIT_DOCS ? "documents" : "lines");
	}
	if (s->other > 0)
		rc |= add_num(o, "other_provider_records", (double)s->other);
	if (s->have_rid) {
		if ((e = cJSON_AddObjectToObject(o, "record_ids")) == NULL)
			rc |= KC_ERR_NOMEM;
		else {
			rc |= add_str(e, "first", s->first_rid);
			rc |= add_str(e, "last", s->last_rid);
		}
	}
	if (s->nstreams > 0) {
		cJSON *a = cJSON_AddArrayToObject(o, "streams");

		for (int k = 0; a != NULL && k < s->nstreams; k++) {
			const struct stream *sm = &r->streams[s->streams[k]];
			cJSON *x = cJSON_CreateObject();

			if (x == NULL || !cJSON_AddItemToArray(a, x) || add_str(x, "cluster", sm->cluster) ||
			    add_str(x, "stream", sm->name))
				rc |= KC_ERR_NOMEM;
		}
		if (a == NULL)
			rc |= KC_ERR_NOMEM;
		if (s->streams_more)
			rc |= add_str(o, "streams_not_listed", "more than 16 streams in this file");
	}
	if (s->reads_yes + s->reads_no > 0) {
		if (s->reads_yes > 0 && s->reads_no == 0)
			rc |= cJSON_AddTrueToObject(o, "reads_visible") ? 0 : KC_ERR_NOMEM;
		else if (s->reads_yes == 0)
			rc |= cJSON_AddFalseToObject(o, "reads_visible") ? 0 : KC_ERR_NOMEM;
		else
			rc |= add_str(o, "reads_visible", "some streams");
	}
	if (s->error[0] != '\0')
		rc |= add_str(o, "error", s->error);
	if (rc != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Consecutive pieces of one log written over the same time: the later
 * piece has writes (stageTimestamp) earlier than the previous piece's last
 * write by more than the gap threshold (a piece copied back, two logs
 * mixed, a clock jump).  requestReceivedTimestamp is not used here: a long
 * watch ends in a later piece with a start time long past.  Pieces with
 * identical decompressed content are listed as duplicates. */
static int
overlaps(const struct run *r, cJSON *arr)
{
	char t[40];

	for (size_t i = 0; i < r->srcs.n; i++) {
		const struct src_stat *b = &r->st[i];
		cJSON *o;

		for (size_t j = 0; j < i; j++) {
			const struct src_stat *a = &r->st[j];

			if (!a->read || !b->read || a->rs.size == 0 || a->rs.sha256[0] == '\0' ||
			    !kc_digest_eq(a->rs.sha256, b->rs.sha256))
				continue;
			if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, o) ||
			    add_str(o, "kind", "duplicate") ||
			    add_str(o, "previous_source", r->srcs.v[j].name) ||
			    add_str(o, "source", r->srcs.v[i].name))
				return KC_ERR_NOMEM;
		}
		if (i == 0 || r->srcs.v[i].group != r->srcs.v[i - 1].group)
			continue;
		const struct src_stat *a = &r->st[i - 1];

		if (!a->have_w || !b->have_w || b->wmin_ns >= ns_sub(a->wmax_ns, r->gap_ns))
			continue;
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, o) ||
		    add_str(o, "kind", "overlap") ||
		    add_str(o, "previous_source", r->srcs.v[i - 1].name) ||
		    add_str(o, "source", r->srcs.v[i].name) ||
		    add_str(o, "from", kc_fmt_rfc3339_us(b->wmin_ns, t, sizeof(t))) ||
		    add_str(o, "to", kc_fmt_rfc3339_us(a->wmax_ns < b->wmax_ns ? a->wmax_ns : b->wmax_ns, t, sizeof(t))))
			return KC_ERR_NOMEM;
	}
	return 0;
}

/* Which clusters' sources can hold reads: a cluster (provider + name; each
 * native log counts as one) can when one of its streams logs them. */
static void
visibility(struct run *r)
{
	size_t yes = 0, no = 0;
	int need = kc_audit_filter_reads(r->f);

	for (size_t i = 0; i < r->srcs.n; i++)
		if (r->st[i].prov == KC_AUDIT_PROV_NATIVE && r->st[i].events > 0)
			yes++;
	for (size_t i = 0; i < r->nstreams; i++) {
		int cap = 0, first = 1;

		for (size_t j = 0; j < r->nstreams; j++) {
			if (r->streams[j].provider != r->streams[i].provider ||
			    strcmp(r->streams[j].cluster, r->streams[i].cluster) != 0)
				continue;
			if (j < i)
				first = 0;
			cap |= r->streams[j].reads;
		}
		if (!first)
			continue;
		if (cap)
			yes++;
		else
			no++;
	}
	r->res->reads_visible = yes + no == 0 ? -1 : no == 0 ? 2 : yes == 0 ? 0 : 1;
	if (r->res->reads_visible == -1 || r->res->reads_visible == 2 || need == 0)
		r->res->determinable = 1;
	else if (need == 2)
		r->res->determinable = 0;
	else
		r->res->determinable = 2;
}

static const char *
blind_reason(const struct stream *sm)
{
	if (sm->provider == KC_AUDIT_PROV_AKS)
		return "AKS kube-audit-admin leaves out get, list and watch; only the kube-audit category logs reads";
	if (sm->provider == KC_AUDIT_PROV_GKE)
		return "GKE logs reads (get, list, watch) in Data Access audit logs only; these are other logs (Admin Activity)";
	return "this stream does not log reads";
}

static int
provider_doc(struct run *r, cJSON *d)
{
	static const char *const vis[] = { "none", "some", "all" };
	cJSON *a, *x, *b;
	unsigned seen = 0;
	int rc = 0, nprov = 0;

	for (size_t i = 0; i < r->srcs.n; i++)
		if (r->st[i].read && r->st[i].prov > 0 && r->st[i].events + r->st[i].other > 0)
			seen |= 1u << r->st[i].prov;
	if ((a = cJSON_AddArrayToObject(d, "providers")) == NULL)
		return KC_ERR_NOMEM;
	for (int p = 1; p <= KC_AUDIT_PROV_AKS; p++)
		if (seen & (1u << p)) {
			cJSON_AddItemToArray(a, cJSON_CreateString(kc_audit_provider_name(p)));
			nprov++;
		}
	if (!cJSON_AddBoolToObject(d, "mixed_providers", nprov > 1))
		return KC_ERR_NOMEM;
	if ((a = cJSON_AddArrayToObject(d, "streams")) == NULL)
		return KC_ERR_NOMEM;
	for (size_t i = 0; i < r->nstreams; i++) {
		const struct stream *sm = &r->streams[i];

		if ((x = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(a, x))
			return KC_ERR_NOMEM;
		rc |= add_str(x, "provider", kc_audit_provider_name(sm->provider));
		rc |= add_str(x, "cluster", sm->cluster);
		rc |= add_str(x, "stream", r->streams_pooled && i == STREAMS_MAX - 1 ? "(other streams, pooled)" : sm->name);
		rc |= cJSON_AddBoolToObject(x, "reads_visible", sm->reads) ? 0 : KC_ERR_NOMEM;
		rc |= add_num(x, "events", (double)sm->events);
		rc |= add_ts(x, "earliest", sm->have_ts, sm->min_ns);
		rc |= add_ts(x, "latest", sm->have_ts, sm->max_ns);
		if (sm->first_rid[0]) {
			rc |= add_str(x, "first_record_id", sm->first_rid);
			rc |= add_str(x, "last_record_id", sm->last_rid);
		}
		rc |= add_str(x, "first_source", r->srcs.v[sm->first_src].name);
		rc |= add_str(x, "last_source", r->srcs.v[sm->last_src].name);
	}
	if ((x = cJSON_AddObjectToObject(d, "reads")) == NULL)
		return KC_ERR_NOMEM;
	rc |= add_str(x, "visible", r->res->reads_visible < 0 ? "no events" : vis[r->res->reads_visible]);
	if ((b = cJSON_AddArrayToObject(x, "blind")) == NULL)
		return KC_ERR_NOMEM;
	for (size_t i = 0; i < r->nstreams; i++) {
		const struct stream *sm = &r->streams[i];
		int cap = 0, first = 1;
		cJSON *o;

		for (size_t j = 0; j < r->nstreams; j++)
			if (r->streams[j].provider == sm->provider && strcmp(r->streams[j].cluster, sm->cluster) == 0) {
				cap |= r->streams[j].reads;
				first &= j >= i;
			}
		if (cap || !first)
			continue;
		if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(b, o))
			return KC_ERR_NOMEM;
		rc |= add_str(o, "provider", kc_audit_provider_name(sm->provider));
		rc |= add_str(o, "cluster", sm->cluster);
		rc |= add_str(o, "why", blind_reason(sm));
	}
	if ((x = cJSON_AddObjectToObject(d, "answer")) == NULL)
		return KC_ERR_NOMEM;
	if (r->res->determinable == 1) {
		rc |= cJSON_AddTrueToObject(x, "determinable") ? 0 : KC_ERR_NOMEM;
		rc |= add_num(x, "matched", (double)r->res->matched);
	} else if (r->res->determinable == 0) {
		rc |= cJSON_AddFalseToObject(x, "determinable") ? 0 : KC_ERR_NOMEM;
		rc |= add_str(x, "matched", KC_NOT_DETERMINABLE);
		rc |= add_str(x, "why", "the filter asks about reads (get, list, watch) and some cluster has no source that logs reads (see reads.blind)");
	} else {
		rc |= add_str(x, "determinable", "lower bound");
		rc |= add_num(x, "matched", (double)r->res->matched);
		rc |= add_str(x, "why", "reads (get, list, watch) of some clusters are not determinable from these sources (see reads.blind); the count holds what the sources show");
	}
	return rc;
}

static cJSON *
build_doc(struct run *r)
{
	cJSON *d = cJSON_CreateObject(), *a, *w, *x;
	int64_t since = 0, until = 0;
	int win = kc_audit_filter_window(r->f, &since, &until);
	char t[48];
	int rc = 0;

	if (d == NULL)
		return NULL;
	rc |= add_str(d, "schema", "kcustody.audit.sources/v1");
	rc |= add_str(d, "generator", "kcustody " KC_VERSION);
	if ((x = kc_audit_filter_json(r->f)) == NULL)
		goto fail;
	cJSON_AddItemToObject(d, "filters", x);
	if ((x = cJSON_AddObjectToObject(d, "redaction")) == NULL)
		goto fail;
	rc |= add_str(x, "mode", r->o->no_redact ? "none" : "redact");
	rc |= add_num(x, "lines", (double)r->res->redacted);
	rc |= add_str(x, "marker", "{\"" KC_AUDIT_REDACT_KEY "\":{\"sha256\":\"<SHA-256 of the original line without its newline>\"}}");
	rc |= add_num(d, "line_max", (double)(r->o->line_max ? r->o->line_max : KC_AUDIT_LINE_MAX_DEFAULT));
	rc |= add_num(d, "gap_threshold_seconds", (double)(r->gap_ns / 1000000000));
	if ((a = cJSON_AddArrayToObject(d, "sources")) == NULL)
		goto fail;
	for (size_t i = 0; i < r->srcs.n; i++) {
		cJSON *s = source_json(r, i);

		if (s == NULL || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			goto fail;
		}
	}
	if ((a = cJSON_AddArrayToObject(d, "skipped")) == NULL)
		goto fail;
	for (size_t i = 0; i < r->srcs.nskipped; i++) {
		cJSON *s = cJSON_CreateObject();

		if (s == NULL || !cJSON_AddItemToArray(a, s) ||
		    add_str(s, "path", r->srcs.skipped[i].path) ||
		    add_str(s, "reason", r->srcs.skipped[i].reason))
			goto fail;
	}
	if ((w = cJSON_AddObjectToObject(d, "window")) == NULL)
		goto fail;
	if (win) {
		if ((x = cJSON_AddObjectToObject(w, "requested")) == NULL)
			goto fail;
		if (win & 1)
			rc |= add_str(x, "since", kc_fmt_rfc3339_us(since, t, sizeof(t)));
		if (win & 2)
			rc |= add_str(x, "until", kc_fmt_rfc3339_us(until, t, sizeof(t)));
	}
	if ((x = cJSON_AddObjectToObject(w, "covered")) == NULL)
		goto fail;
	rc |= add_ts(x, "from", r->have_ts, r->min_ns);
	rc |= add_ts(x, "to", r->have_ts, r->max_ns);
	if (win & 1) {
		int ok = r->have_ts && r->min_ns <= ns_add(since, r->gap_ns);

		if (!cJSON_AddBoolToObject(w, "start_covered", ok))
			goto fail;
		if (!ok && add_gap(r, "before-first-event", since, r->have_ts ? r->min_ns : since,
		    (size_t)-1, r->have_ts ? 0 : (size_t)-1, NULL) < 0)
			goto fail;
	}
	if (win & 2) {
		int ok = r->have_ts && r->max_ns >= ns_sub(until, r->gap_ns);

		if (!cJSON_AddBoolToObject(w, "end_covered", ok))
			goto fail;
	}
	cJSON_AddItemToObject(d, "gaps", r->gaps);
	r->gaps = NULL;	/* transferred */
	if (r->gaps_dropped)
		rc |= add_num(d, "gaps_not_listed", (double)r->gaps_dropped);
	if ((a = cJSON_AddArrayToObject(d, "overlaps")) == NULL || overlaps(r, a) < 0)
		goto fail;
	if ((x = cJSON_AddObjectToObject(d, "totals")) == NULL)
		goto fail;
	rc |= add_num(x, "sources", (double)r->srcs.n);
	rc |= add_num(x, "source_errors", (double)r->res->source_errors);
	rc |= add_num(x, "lines", (double)r->res->lines);
	rc |= add_num(x, "events", (double)r->res->events);
	rc |= add_num(x, "malformed", (double)r->res->malformed);
	rc |= add_num(x, "matched", (double)r->res->matched);
	rc |= add_num(x, "redacted", (double)r->res->redacted);
	rc |= provider_doc(r, d);
	cJSON_AddItemToObject(d, "counts", r->counts);
	r->counts = NULL;	/* transferred */
	cJSON_AddItemToObject(d, "malformed", r->bad);
	r->bad = NULL;		/* transferred */
	if (r->res->malformed > BAD_MAX)
		rc |= add_num(d, "malformed_not_listed", (double)(r->res->malformed - BAD_MAX));
	if (rc == 0)
		return d;
fail:
	cJSON_Delete(d);
	kc_err_set(KC_ERR_NOMEM, "out of memory");
	return NULL;
}

/* ---- entry points ----------------------------------------------------- */

/* sources.json "chains": each folder named that holds audit-sink digest
 * records, its chain checked (docs/AUDIT_SINK.md).  Added only when there
 * is one, so a plain log's sources.json is unchanged. */
static int
add_chains(cJSON *doc, const char *const *paths, size_t npaths, const char *pubkey)
{
	cJSON *chains = NULL;

	for (size_t i = 0; i < npaths; i++) {
		struct kc_achain_tail t;
		struct stat st;
		cJSON *rep = NULL;
		const char *cont;
		int r;

		if (strcmp(paths[i], "-") == 0 || stat(paths[i], &st) != 0 || !S_ISDIR(st.st_mode) ||
		    kc_achain_tail(paths[i], &t) != 0 || t.last_digest == 0) {
			kc_err_clear();
			continue;
		}
		r = kc_achain_verify(paths[i], pubkey, 0, &rep);
		if (rep == NULL)
			return r;
		if (r == KC_ERR_VERIFY)
			cont = "broken: the signed chain does not verify (see tampering)";
		else if (pubkey == NULL)
			cont = "hash chain intact; signatures not checked (no chain public key given)";
		else if (r == 1)
			cont = "proven by signed chain up to the last record; later segments unsealed";
		else
			cont = "proven by signed chain";
		if (cJSON_AddStringToObject(rep, "continuity", cont) == NULL ||
		    cJSON_AddBoolToObject(rep, "signatures_checked", pubkey != NULL) == NULL ||
		    (chains == NULL && (chains = cJSON_AddArrayToObject(doc, "chains")) == NULL) ||
		    !cJSON_AddItemToArray(chains, rep)) {
			cJSON_Delete(rep);
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		}
		kc_err_clear();
	}
	return 0;
}

int
kc_audit_scan(const char *const *paths, size_t npaths,
    const struct kc_audit_filter *f, const struct kc_audit_opts *o,
    FILE *segment, kc_audit_malformed_fn on_malformed, void *ctx,
    struct kc_audit_result *res)
{
	struct run r;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	r.f = f;
	r.o = o;
	r.seg = segment;
	r.on_bad = on_malformed;
	r.ctx = ctx;
	r.res = res;
	r.full = o->validate || o->stats;
	if (o->gap_secs > KC_AUDIT_TS_MAX_S)
		return kc_err_set(KC_ERR_INVALID, "gap threshold of %lld seconds is longer than "
		    "any audit log can be", (long long)o->gap_secs);
	r.gap_ns = (o->gap_secs > 0 ? o->gap_secs : KC_AUDIT_GAP_DEFAULT) * (int64_t)1000000000;
	if (o->line_max != 0 && (o->line_max < KC_AUDIT_LINE_MAX_MIN || o->line_max > KC_AUDIT_LINE_MAX_MAX))
		return kc_err_set(KC_ERR_INVALID, "line cap %zu out of range (%zu to %zu bytes)",
		    o->line_max, KC_AUDIT_LINE_MAX_MIN, KC_AUDIT_LINE_MAX_MAX);
	if ((rc = kc_audit_discover(paths, npaths, o->no_rotated, &r.srcs)) < 0)
		return rc;
	res->sources = r.srcs.n;
	r.ngrp = 1;
	for (size_t i = 0; i < r.srcs.n; i++)
		if (r.srcs.v[i].group + 1 > r.ngrp)
			r.ngrp = r.srcs.v[i].group + 1;
	r.st = kc_calloc(r.srcs.n ? r.srcs.n : 1, sizeof(*r.st));
	r.grp = kc_calloc((size_t)r.ngrp, sizeof(*r.grp));
	if (o->stats) {
		r.gaps = cJSON_CreateArray();
		r.counts = cJSON_CreateObject();
		r.bad = cJSON_CreateArray();
	}
	if (r.st == NULL || r.grp == NULL ||
	    (o->stats && (r.gaps == NULL || r.counts == NULL || r.bad == NULL))) {
		rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r.srcs.n; i++)
		if ((rc = read_source(&r, i)) < 0)
			goto out;
	visibility(&r);
	if (o->stats && (res->doc = build_doc(&r)) == NULL)
		rc = kc_err_code();
	else if (o->stats && (rc = add_chains(res->doc, paths, npaths, o->chain_pubkey)) < 0) {
		cJSON_Delete(res->doc);
		res->doc = NULL;
	}
out:
	cJSON_Delete(r.gaps);
	cJSON_Delete(r.counts);
	cJSON_Delete(r.bad);
	free(r.st);
	free(r.grp);
	for (size_t i = 0; i < r.nstreams; i++) {
		free(r.streams[i].cluster);
		free(r.streams[i].name);
	}
	free(r.streams);
	kc_audit_sources_free(&r.srcs);
	return rc;
}

int
kc_audit_malformed_write(FILE *fp, const struct kc_audit_malformed *m)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;
	int rc = 0;

	if (o == NULL || add_str(o, "source", m->source) || add_num(o, "offset", (double)m->offset) ||
	    add_num(o, "length", (double)m->length) || add_str(o, "reason", m->reason) ||
	    (m->detail[0] && add_str(o, "detail", m->detail)) ||
	    (m->sha256[0] && add_str(o, "sha256", m->sha256)) ||
	    (s = cJSON_PrintUnformatted(o)) == NULL) {
		rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (fputs(s, fp) == EOF || putc('\n', fp) == EOF)
		rc = kc_err_set(KC_ERR_IO, "cannot write malformed-line record: %s", strerror(errno));
out:
	free(s);
	cJSON_Delete(o);
	return rc;
}

static int
write_malformed(void *ctx, const struct kc_audit_malformed *m)
{
	return kc_audit_malformed_write(ctx, m);
}

static FILE *
create_tmp(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *fp;

	if (fd < 0) {
		kc_err_set(KC_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
		return NULL;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		kc_err_set(KC_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
		return NULL;
	}
	setvbuf(fp, NULL, _IOFBF, SEGMENT_BUF);
	return fp;
}

static int
close_tmp(FILE **fpp, const char *path)
{
	FILE *fp = *fpp;
	int bad;

	*fpp = NULL;
	if (fp == NULL)
		return 0;
	bad = fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0;
	if (fclose(fp) != 0 || bad)
		return kc_err_set(KC_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}

int
kc_audit_extract(const char *const *paths, size_t npaths,
    const struct kc_audit_filter *f, const struct kc_audit_opts *o,
    const char *staging_dir, struct kc_audit_result *res)
{
	struct kc_audit_opts so = *o;
	char *dir = NULL, *seg = NULL, *segt = NULL, *bad = NULL, *badt = NULL, *src = NULL;
	char *rec = NULL, *rect = NULL, *json = NULL;
	FILE *fs = NULL, *fb = NULL, *fr = NULL;
	long nrec = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	so.stats = 1;
	if ((dir = kc_path_join(staging_dir, "audit")) == NULL ||
	    (seg = kc_path_join(dir, "segment.jsonl")) == NULL ||
	    (segt = kc_path_join(dir, ".segment.jsonl.tmp")) == NULL ||
	    (bad = kc_path_join(dir, "malformed.jsonl")) == NULL ||
	    (badt = kc_path_join(dir, ".malformed.jsonl.tmp")) == NULL ||
	    (src = kc_path_join(dir, "sources.json")) == NULL ||
	    (rec = kc_path_join(dir, "records.jsonl")) == NULL ||
	    (rect = kc_path_join(dir, ".records.jsonl.tmp")) == NULL) {
		rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = kc_mkdir_p(dir, 0700)) < 0)
		goto out;
	if ((fs = create_tmp(segt)) == NULL || (fb = create_tmp(badt)) == NULL ||
	    (fr = create_tmp(rect)) == NULL) {
		rc = kc_err_code();
		goto out;
	}
	so.records = fr;
	if ((rc = kc_audit_scan(paths, npaths, f, &so, fs, write_malformed, fb, res)) < 0)
		goto out;
	nrec = ftell(fr);
	if ((rc = close_tmp(&fs, segt)) < 0 || (rc = close_tmp(&fb, badt)) < 0 ||
	    (rc = close_tmp(&fr, rect)) < 0)
		goto out;
	if ((json = cJSON_Print(res->doc)) == NULL) {
		rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = kc_write_file_atomic(src, json, strlen(json), 0600)) < 0)
		goto out;
	if (rename(segt, seg) != 0 || rename(badt, bad) != 0 ||
	    (nrec > 0 ? rename(rect, rec) : unlink(rect)) != 0) {
		rc = kc_err_set(KC_ERR_IO, "cannot rename into '%s': %s", dir, strerror(errno));
		goto out;
	}
	res->records_file = nrec > 0;
out:
	if (fs != NULL)
		fclose(fs);
	if (fb != NULL)
		fclose(fb);
	if (fr != NULL)
		fclose(fr);
	if (rc < 0 && segt != NULL) {
		unlink(segt);
		if (badt != NULL)
			unlink(badt);
		if (rect != NULL)
			unlink(rect);
	}
	if (rc < 0) {
		cJSON_Delete(res->doc);
		res->doc = NULL;
	}
	free(json);
	free(dir);
	free(seg);
	free(segt);
	free(bad);
	free(badt);
	free(src);
	free(rec);
	free(rect);
	return rc;
}
