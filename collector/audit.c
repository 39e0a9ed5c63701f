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
#include "util/err.h"
#include "util/fsutil.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/timeutil.h"

#define FIELD_MAX 256		/* longest auditID/timestamp copied into reports */
#define GAPS_MAX 1000		/* gaps listed; the rest are counted */
#define BAD_MAX 100		/* malformed lines listed in the summary */
#define SEGMENT_BUF ((size_t)1 << 20)

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
	const cJSON *req = kc_audit_member(ev, "requestObject"), *resp = kc_audit_member(ev, "responseObject");
	const cJSON *ref = kc_audit_member(ev, "objectRef");
	const char *res = kc_audit_member_str(ref, "resource"), *sub = kc_audit_member_str(ref, "subresource");

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
	cJSON *holder = cJSON_CreateObject(), *m = cJSON_CreateObject(), *in;

	if (holder == NULL || m == NULL || !cJSON_AddItemToObject(holder, key, m)) {
		cJSON_Delete(holder);
		cJSON_Delete(m);
		return NULL;
	}
	m = cJSON_DetachItemViaPointer(holder, m);
	cJSON_Delete(holder);
	if ((in = cJSON_AddObjectToObject(m, KC_AUDIT_REDACT_KEY)) == NULL ||
	    cJSON_AddStringToObject(in, "sha256", hex) == NULL) {
		cJSON_Delete(m);
		return NULL;
	}
	return m;
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
};

struct grp {
	int have;
	int64_t max_ns;
	size_t max_src;
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
add_gap(struct run *r, const char *kind, int64_t from, int64_t to, size_t sa, size_t sb)
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
	    (sb != (size_t)-1 && !cJSON_AddStringToObject(g, "next_event_source", r->srcs.v[sb].name)))
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

/* Per-event bookkeeping for the document: first/last in file order,
 * earliest/latest, and silences longer than the gap threshold, measured
 * against the latest time seen so far in the log (lines are in write
 * order, not time order, so older stamps never open a gap). */
static int
account(struct run *r, size_t si, const cJSON *ev)
{
	struct src_stat *s = &r->st[si];
	const char *id = kc_audit_member_str(ev, "auditID");
	const char *ts = kc_audit_member_str(ev, "requestReceivedTimestamp");
	struct grp *g = &r->grp[r->srcs.v[si].group];
	int64_t t;

	if (!s->have_first) {
		copy_field(s->first_id, id ? id : "");
		copy_field(s->first_ts, ts ? ts : "");
		s->have_first = 1;
	}
	copy_field(s->last_id, id ? id : "");
	copy_field(s->last_ts, ts ? ts : "");
	{
		const char *st = kc_audit_member_str(ev, "stageTimestamp");
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
		    g->max_ns, t, g->max_src, si);
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
	cJSON *c = cJSON_GetObjectItemCaseSensitive(o, k);

	if (c == NULL)
		c = cJSON_AddObjectToObject(o, k);
	return c;
}

static int
count(struct run *r, const cJSON *ev, const char *agent)
{
	const cJSON *ref = kc_audit_member(ev, "objectRef");
	const char *res = kc_audit_member_str(ref, "resource"), *sub = kc_audit_member_str(ref, "subresource");
	const char *verb = kc_audit_member_str(ev, "verb");
	const char *dec = kc_audit_member_str(kc_audit_member(ev, "annotations"), "authorization.k8s.io/decision");
	char rk[300];
	cJSON *a, *b, *c, *n;

	if (res == NULL)
		snprintf(rk, sizeof(rk), "(non-resource)");
	else if (sub != NULL)
		snprintf(rk, sizeof(rk), "%s/%s", res, sub);
	else
		snprintf(rk, sizeof(rk), "%s", res);
	if ((a = child_obj(r->counts, agent)) == NULL || (b = child_obj(a, rk)) == NULL ||
	    (c = child_obj(b, verb ? verb : "(none)")) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	dec = dec ? dec : "(none)";
	if ((n = cJSON_GetObjectItemCaseSensitive(c, dec)) != NULL)
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

static int
emit(struct run *r, size_t si, cJSON *ev, const char *line, size_t len)
{
	if (!r->o->no_redact && kc_audit_needs_redaction(ev)) {
		char *out;
		size_t n;
		int rc;

		if ((rc = kc_audit_redact(ev, line, len)) < 0)
			return rc;
		if ((out = cJSON_PrintUnformatted(ev)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		n = strlen(out);
		if (r->seg != NULL && (fwrite(out, 1, n, r->seg) != n || putc('\n', r->seg) == EOF)) {
			free(out);
			return kc_err_set(KC_ERR_IO, "cannot write the audit segment: %s", strerror(errno));
		}
		free(out);
		r->st[si].redacted++;
		r->res->redacted++;
		return 0;
	}
	/* the line is followed by its '\n' in the reader's buffer */
	if (r->seg != NULL && fwrite(line, 1, len + 1, r->seg) != len + 1)
		return kc_err_set(KC_ERR_IO, "cannot write the audit segment: %s", strerror(errno));
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
		const char *v = kc_audit_member_str(ev, keys[i]);
		int64_t t;

		if (v != NULL && kc_audit_parse_ts(v, strlen(v), &t) == KC_ERR_LIMIT) {
			snprintf(detail, n, "%s year %.4s is outside 1678-2262", keys[i], v);
			return 1;
		}
	}
	return 0;
}

static int
one_line(struct run *r, size_t si, const struct kc_audit_line *l)
{
	struct src_stat *s = &r->st[si];
	const char *end = NULL, *agent = NULL;
	cJSON *ev;
	char hex[KC_SHA256_HEX], detail[96];
	int rc = 0;

	s->lines++;
	r->res->lines++;
	if (l->reason != NULL)
		return report(r, si, l->offset, l->size, l->reason, l->detail, l->sha256);
	if (!r->full) {
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
	ev = cJSON_ParseWithLengthOpts(l->data, l->len, &end, 0);
	if (ev == NULL || end == NULL) {
		const char *at = cJSON_GetErrorPtr();

		snprintf(detail, sizeof(detail), "parse error at byte %zu",
		    at && at >= l->data && at <= l->data + l->len ? (size_t)(at - l->data) : (size_t)0);
		cJSON_Delete(ev);
		kc_sha256_hex(l->data, l->len, hex);
		return report(r, si, l->offset, l->len, "invalid JSON", detail, hex);
	}
	while (end < l->data + l->len && is_ws(*end))
		end++;
	if (end != l->data + l->len) {
		snprintf(detail, sizeof(detail), "trailing data at byte %zu", (size_t)(end - l->data));
		cJSON_Delete(ev);
		kc_sha256_hex(l->data, l->len, hex);
		return report(r, si, l->offset, l->len, "invalid JSON", detail, hex);
	}
	if (!cJSON_IsObject(ev)) {
		cJSON_Delete(ev);
		goto not_object;
	}
	if (ts_problem(ev, detail, sizeof(detail))) {
		cJSON_Delete(ev);
		kc_sha256_hex(l->data, l->len, hex);
		return report(r, si, l->offset, l->len, "timestamp out of range", detail, hex);
	}
	s->events++;
	r->res->events++;
	if (r->o->stats && (rc = account(r, si, ev)) < 0)
		goto out;
	if (kc_audit_filter_match(r->f, ev, &agent)) {
		s->matched++;
		r->res->matched++;
		if (r->o->stats && (rc = count(r, ev, agent)) < 0)
			goto out;
		rc = emit(r, si, ev, l->data, l->len);
	}
out:
	cJSON_Delete(ev);
	return rc;
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
		snprintf(s->error, sizeof(s->error), "%s", kc_err_msg());
		r->res->source_errors++;
		return 0;	/* recorded, not fatal */
	}
	s->read = 1;
	while ((k = kc_audit_reader_next(rd, &l)) == 1)
		if ((rc = one_line(r, si, &l)) < 0) {
			kc_audit_reader_close(rd);
			return rc;
		}
	kc_audit_reader_stats(rd, &s->rs);
	if (s->rs.error[0] != '\0') {
		snprintf(s->error, sizeof(s->error), "%s", s->rs.error);
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
			    strcmp(a->rs.sha256, b->rs.sha256) != 0)
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
		    (size_t)-1, r->have_ts ? 0 : (size_t)-1) < 0)
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
	if (o->stats && (res->doc = build_doc(&r)) == NULL)
		rc = kc_err_code();
out:
	cJSON_Delete(r.gaps);
	cJSON_Delete(r.counts);
	cJSON_Delete(r.bad);
	free(r.st);
	free(r.grp);
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
	char *json = NULL;
	FILE *fs = NULL, *fb = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	so.stats = 1;
	if ((dir = kc_path_join(staging_dir, "audit")) == NULL ||
	    (seg = kc_path_join(dir, "segment.jsonl")) == NULL ||
	    (segt = kc_path_join(dir, ".segment.jsonl.tmp")) == NULL ||
	    (bad = kc_path_join(dir, "malformed.jsonl")) == NULL ||
	    (badt = kc_path_join(dir, ".malformed.jsonl.tmp")) == NULL ||
	    (src = kc_path_join(dir, "sources.json")) == NULL) {
		rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = kc_mkdir_p(dir, 0700)) < 0)
		goto out;
	if ((fs = create_tmp(segt)) == NULL || (fb = create_tmp(badt)) == NULL) {
		rc = kc_err_code();
		goto out;
	}
	if ((rc = kc_audit_scan(paths, npaths, f, &so, fs, write_malformed, fb, res)) < 0)
		goto out;
	if ((rc = close_tmp(&fs, segt)) < 0 || (rc = close_tmp(&fb, badt)) < 0)
		goto out;
	if ((json = cJSON_Print(res->doc)) == NULL) {
		rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = kc_write_file_atomic(src, json, strlen(json), 0600)) < 0)
		goto out;
	if (rename(segt, seg) != 0 || rename(badt, bad) != 0) {
		rc = kc_err_set(KC_ERR_IO, "cannot rename into '%s': %s", dir, strerror(errno));
		goto out;
	}
out:
	if (fs != NULL)
		fclose(fs);
	if (fb != NULL)
		fclose(fb);
	if (rc < 0 && segt != NULL) {
		unlink(segt);
		if (badt != NULL)
			unlink(badt);
	}
	cJSON_Delete(res->doc);
	res->doc = NULL;
	free(json);
	free(dir);
	free(seg);
	free(segt);
	free(bad);
	free(badt);
	free(src);
	return rc;
}
