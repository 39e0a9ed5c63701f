/* auditchain_bundle.c - an audit-sink chain excerpt inside a bundle
 * (auditchain_bundle.h): read from the bundle's members, re-checked. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "manifest/auditchain.h"
#include "manifest/auditchain_bundle.h"
#include "manifest/sign.h"
#include "manifest/tarball.h"
#include "manifest/tsa.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/timeutil.h"

#define SMALL_MAX (KC_ACHAIN_RECORD_MAX + 4096)
#define SOURCES_MAX (256u << 20)
#define CHAINS_MAX 64

struct xrec {
	uint64_t n;
	struct kc_buf text, sig, tsr;
	int has_text, has_sig, has_tsr;
};

struct xseg {
	uint64_t n;
	char hex[KC_SHA256_HEX];
	uint64_t bytes, lines;
	int named;		/* by a copied record */
};

struct xchain {
	char id[64];
	struct xrec *recs;
	size_t nrecs, caprecs;
	struct xseg *segs;
	size_t nsegs, capsegs;
	struct kc_buf meta, pub;
	int has_meta, has_pub;
	cJSON *odd;		/* members of no known kind */
};

struct xread {
	struct kc_buf manifest, sources;
	int has_manifest, has_sources;
	struct xchain chains[CHAINS_MAX];
	size_t nchains;
	int too_many;
};

/* Where the bytes of the member being read go. */
struct xsink {
	struct kc_buf *buf;
	int *flag;
	struct kc_sha256 *h;
	struct xseg *seg;
};

static struct xchain *
chain_of(struct xread *x, const char *id, size_t idlen)
{
	for (size_t i = 0; i < x->nchains; i++)
		if (strlen(x->chains[i].id) == idlen && strncmp(x->chains[i].id, id, idlen) == 0)
			return &x->chains[i];
	if (x->nchains == CHAINS_MAX || idlen >= sizeof(x->chains[0].id)) {
		x->too_many = 1;
		return NULL;
	}
	struct xchain *c = &x->chains[x->nchains++];

	memset(c, 0, sizeof(*c));
	memcpy(c->id, id, idlen);
	c->id[idlen] = '\0';
	kc_buf_init(&c->meta, SMALL_MAX);
	kc_buf_init(&c->pub, 64 * 1024);
	c->odd = cJSON_CreateArray();
	return c;
}

static struct xrec *
rec_of(struct xchain *c, uint64_t n)
{
	for (size_t i = 0; i < c->nrecs; i++)
		if (c->recs[i].n == n)
			return &c->recs[i];
	if (KC_GROW(c->recs, c->caprecs, c->nrecs + 1) != 0)
		return NULL;
	struct xrec *r = &c->recs[c->nrecs++];

	memset(r, 0, sizeof(*r));
	r->n = n;
	kc_buf_init(&r->text, KC_ACHAIN_RECORD_MAX);
	kc_buf_init(&r->sig, 1024);
	kc_buf_init(&r->tsr, KC_TSR_MAX);
	return r;
}

/* Decide where the member rel goes; 0 with s->buf or s->h set, or
 * nothing set: not read. */
static int
classify(struct xread *x, const char *rel, struct xsink *s)
{
	const char *id, *slash, *name;
	struct xchain *c;
	uint64_t n;

	memset(s, 0, sizeof(*s));
	if (strcmp(rel, "MANIFEST.json") == 0) {
		kc_buf_reset(&x->manifest);
		s->buf = &x->manifest;
		s->flag = &x->has_manifest;
		return 0;
	}
	if (strcmp(rel, "audit/sources.json") == 0) {
		kc_buf_reset(&x->sources);
		s->buf = &x->sources;
		s->flag = &x->has_sources;
		return 0;
	}
	if (strncmp(rel, KC_ACHAIN_EXCERPT_DIR, strlen(KC_ACHAIN_EXCERPT_DIR)) != 0)
		return 0;
	id = rel + strlen(KC_ACHAIN_EXCERPT_DIR);
	if ((slash = strchr(id, '/')) == NULL || slash == id)
		return 0;
	name = slash + 1;
	if ((c = chain_of(x, id, (size_t)(slash - id))) == NULL)
		return 0;
	if (strcmp(name, "CHAIN.json") == 0) {
		s->buf = &c->meta;
		s->flag = &c->has_meta;
	} else if (strcmp(name, "sink.pub") == 0) {
		s->buf = &c->pub;
		s->flag = &c->has_pub;
	} else if (kc_achain_name_number(name, "digest-", ".json", &n) == 0) {
		struct xrec *r = rec_of(c, n);

		if (r == NULL)
			return KC_ERR_NOMEM;
		s->buf = &r->text;
		s->flag = &r->has_text;
	} else if (kc_achain_name_number(name, "digest-", ".json.sig", &n) == 0) {
		struct xrec *r = rec_of(c, n);

		if (r == NULL)
			return KC_ERR_NOMEM;
		s->buf = &r->sig;
		s->flag = &r->has_sig;
	} else if (kc_achain_name_number(name, "digest-", ".json" KC_ACHAIN_TSR_SUFFIX, &n) == 0) {
		/* the record's RFC 3161 time-stamp token (audit-sink --tsa) */
		struct xrec *r = rec_of(c, n);

		if (r == NULL)
			return KC_ERR_NOMEM;
		s->buf = &r->tsr;
		s->flag = &r->has_tsr;
	} else if (strncmp(name, "digest-", 7) == 0 && strstr(name, ".json.") != NULL) {
		/* another companion of a record a later sink may write: hashed
		 * in SHA256SUMS like every member, not read here */
	} else if (kc_achain_name_number(name, "segment-", ".jsonl", &n) == 0) {
		if (KC_GROW(c->segs, c->capsegs, c->nsegs + 1) != 0)
			return KC_ERR_NOMEM;
		s->seg = &c->segs[c->nsegs++];
		memset(s->seg, 0, sizeof(*s->seg));
		s->seg->n = n;
		if ((s->h = kc_sha256_new()) == NULL)
			return KC_ERR_NOMEM;
	} else if (c->odd != NULL) {
		cJSON_AddItemToArray(c->odd, cJSON_CreateString(name));
	}
	return 0;
}

static int
sink_data(struct xsink *s, const void *p, size_t n)
{
	if (s->buf != NULL)
		return kc_buf_add(s->buf, p, n) == 0 ? 0 : kc_err_set(KC_ERR_LIMIT, "chain member too large");
	if (s->h != NULL) {
		kc_sha256_update(s->h, p, n);
		s->seg->bytes += n;
		for (size_t i = 0; i < n; i++)
			s->seg->lines += ((const char *)p)[i] == '\n';
	}
	return 0;
}

static void
sink_end(struct xsink *s)
{
	if (s->flag != NULL)
		*s->flag = 1;
	if (s->h != NULL) {
		kc_sha256_final(s->h, NULL, s->seg->hex);
		kc_sha256_free(s->h);
		s->h = NULL;
	}
}

static int
read_tar(const char *path, struct xread *x, int whole, const char *pin)
{
	struct kc_tar_limits lim = { 0, 0, 0 };
	struct kc_tar_reader *tr = NULL;
	struct kc_tar_entry e;
	unsigned char *chunk;
	int r;

	if ((chunk = malloc(65536)) == NULL)
		return KC_ERR_NOMEM;
	if ((r = kc_tar_open(path, &lim, &tr)) != 0) {
		free(chunk);
		return r;
	}
	while ((r = kc_tar_next(tr, &e)) == 1) {
		struct xsink s;
		long n;

		if (e.is_dir)
			continue;
		/* members are sealed in bytewise order: nothing read here
		 * comes after audit/sources.json */
		if (!whole && strcmp(e.path, "audit/sources.json") > 0)
			break;
		if ((r = classify(x, e.path, &s)) != 0)
			break;
		if (s.buf == NULL && s.h == NULL)
			continue;
		while ((n = kc_tar_read(tr, chunk, 65536)) > 0)
			if ((r = sink_data(&s, chunk, (size_t)n)) != 0)
				break;
		if (r == 0 && n < 0)
			r = (int)n;
		sink_end(&s);
		if (r != 0)
			break;
	}
	if (r >= 0 && pin != NULL) {	/* the file verify read, or nothing */
		char got[KC_SHA256_HEX];

		if ((r = kc_tar_sha256(tr, got)) == 0 && !kc_digest_eq(pin, got))
			r = kc_err_set(KC_ERR_VERIFY, "'%s' changed after it was verified (SHA-256 %.16s... verified, "
			    "%.16s... read now): nothing is taken from it", path, pin, got);
	}
	kc_tar_close(tr);
	free(chunk);
	return r < 0 ? r : 0;
}

static int
read_file_into(const char *dir, const char *rel, struct xread *x)
{
	struct xsink s;
	char *p, buf[65536];
	FILE *f;
	size_t n;
	int r;

	if ((r = classify(x, rel, &s)) != 0)
		return r;
	if (s.buf == NULL && s.h == NULL)
		return 0;
	if ((p = kc_path_join(dir, rel)) == NULL)
		return KC_ERR_NOMEM;
	f = fopen(p, "rb");
	free(p);
	if (f == NULL) {
		sink_end(&s);
		return 0;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if ((r = sink_data(&s, buf, n)) != 0)
			break;
	fclose(f);
	sink_end(&s);
	return r;
}

/* An unsealed evidence folder: the same members, from disk. */
static int
read_dir(const char *path, struct xread *x)
{
	char *cdir, rel[1024];
	DIR *d, *d2;
	struct dirent *e, *e2;
	int r;

	if ((r = read_file_into(path, "MANIFEST.json", x)) != 0 ||
	    (r = read_file_into(path, "audit/sources.json", x)) != 0)
		return r;
	if ((cdir = kc_path_join(path, "audit/chain")) == NULL)
		return KC_ERR_NOMEM;
	d = opendir(cdir);
	while (d != NULL && (e = readdir(d)) != NULL) {
		char *sub;

		if (e->d_name[0] == '.')
			continue;
		if ((sub = kc_path_join(cdir, e->d_name)) == NULL) {
			r = KC_ERR_NOMEM;
			break;
		}
		d2 = opendir(sub);
		free(sub);
		while (d2 != NULL && r == 0 && (e2 = readdir(d2)) != NULL) {
			if (e2->d_name[0] == '.')
				continue;
			if (kc_fmt(rel, sizeof(rel), "audit/chain/%s/%s", e->d_name, e2->d_name) == 0)
				r = read_file_into(path, rel, x);
		}
		if (d2 != NULL)
			closedir(d2);
		if (r != 0)
			break;
	}
	if (d != NULL)
		closedir(d);
	free(cdir);
	return r;
}

static void
xread_free(struct xread *x)
{
	kc_buf_free(&x->manifest);
	kc_buf_free(&x->sources);
	for (size_t i = 0; i < x->nchains; i++) {
		struct xchain *c = &x->chains[i];

		for (size_t k = 0; k < c->nrecs; k++) {
			kc_buf_free(&c->recs[k].text);
			kc_buf_free(&c->recs[k].sig);
			kc_buf_free(&c->recs[k].tsr);
		}
		free(c->recs);
		free(c->segs);
		kc_buf_free(&c->meta);
		kc_buf_free(&c->pub);
		cJSON_Delete(c->odd);
	}
}

/* ---- the checks ---- */

struct vctx {
	cJSON *problems, *gaps;
};


static int
cmp_rec(const void *a, const void *b)
{
	uint64_t x = ((const struct xrec *)a)->n, y = ((const struct xrec *)b)->n;

	return x < y ? -1 : x > y;
}

static int
cmp_seg(const void *a, const void *b)
{
	uint64_t x = ((const struct xseg *)a)->n, y = ((const struct xseg *)b)->n;

	return x < y ? -1 : x > y;
}

static struct xseg *
seg_find(struct xchain *c, uint64_t n)
{
	struct xseg key = { .n = n };

	return c->nsegs ? bsearch(&key, c->segs, c->nsegs, sizeof(*c->segs), cmp_seg) : NULL;
}

static int
time_ns(const char *s, int64_t *ns)
{
	time_t sec;
	long nsec;

	if (s == NULL || s[0] == '\0' || kc_parse_rfc3339(s, &sec, &nsec) != 0)
		return -1;
	*ns = (int64_t)sec * 1000000000 + nsec;
	return 0;
}

static double
tdiff(const char *later, const char *earlier)
{
	int64_t a, b;

	if (time_ns(later, &a) != 0 || time_ns(earlier, &b) != 0)
		return 0;
	return (double)(a - b) / 1e9;
}

/* The time-stamp tokens of an excerpt's records. */
struct xstamps {
	const char *ca;		/* verify --tsa-ca; NULL: tokens counted, not checked */
	uint64_t records, tokens, verified;
	cJSON *missing;
	char first[KC_ACHAIN_TIME_MAX], last[KC_ACHAIN_TIME_MAX];
};

/* Record r (parsed as d): its token, if any, checked with the code
 * verify-chain uses (kc_achain_token_check); a token that fails is
 * tampering, a record without one is listed (with a CA). */
static int
check_token(struct xstamps *t, struct vctx *v, const struct xrec *r, const struct kc_achain_digest *d)
{
	char name[80], when[40], why[512];
	int vr;

	t->records++;
	kc_achain_tsr_name(r->n, name, sizeof(name));
	if (!r->has_tsr) {
		if (t->ca != NULL && t->missing != NULL)
			cJSON_AddItemToArray(t->missing, cJSON_CreateString(name));
		return 0;
	}
	t->tokens++;
	if (t->ca == NULL)
		return 0;
	vr = kc_achain_token_check(r->tsr.data ? r->tsr.data : "", r->tsr.len, r->text.data ? r->text.data : "",
	    r->text.len, d->created, t->ca, when, sizeof(when), why, sizeof(why));
	if (vr == KC_ERR_VERIFY) {
		kc_achain_problem(v->problems, name, "%s", why);
		return 0;
	}
	if (vr != 0)
		return vr;
	t->verified++;
	if (t->first[0] == '\0')
		kc_fmt_trunc(t->first, sizeof(t->first), "%s", when);
	kc_fmt_trunc(t->last, sizeof(t->last), "%s", when);
	return 0;
}

/* One excerpt: the report of docs/FORMAT.md (audit/chain). */
static cJSON *
check_chain(struct xchain *c, const char *pubkey, const char *tsa_ca)
{
	struct vctx v;
	cJSON *rep = cJSON_CreateObject(), *meta = NULL;
	char dir[96], fpr[KC_FPR_LEN] = "", name[64], prev_sha[KC_SHA256_HEX] = "", first_ev[KC_ACHAIN_TIME_MAX] = "";
	char last_ev[KC_ACHAIN_TIME_MAX] = "";
	struct kc_achain_digest prev = { 0 };
	uint64_t anchor = 0, expect_seg = 0, nseg = 0, nev = 0, runs = 0, core = 0;
	int64_t since = 0;
	int has_anchor = 0, has_since = 0, have_prev = 0, sigs = 0;
	const char *keysrc;
	const cJSON *a;
	struct xstamps ts = { .ca = tsa_ca };

	if (rep == NULL)
		return NULL;
	if ((ts.missing = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(rep);
		return NULL;
	}
	kc_fmt_trunc(dir, sizeof(dir), KC_ACHAIN_EXCERPT_DIR "%s", c->id);
	v.problems = cJSON_AddArrayToObject(rep, "tampering");
	v.gaps = cJSON_AddArrayToObject(rep, "gaps");
	cJSON_AddStringToObject(rep, "path", dir);
	qsort(c->recs, c->nrecs, sizeof(*c->recs), cmp_rec);
	qsort(c->segs, c->nsegs, sizeof(*c->segs), cmp_seg);
	keysrc = pubkey != NULL ? "given" : c->has_pub ? "bundle" : "none";
	if (!c->has_meta || (meta = cJSON_ParseWithLength(c->meta.data ? c->meta.data : "", c->meta.len)) == NULL ||
	    strcmp(kc_json_str0(meta, "kind"), KC_ACHAIN_EXCERPT_KIND) != 0) {
		kc_achain_problem(v.problems, dir, "no readable CHAIN.json of kind %s", KC_ACHAIN_EXCERPT_KIND);
	} else {
		cJSON_AddStringToObject(rep, "folder", kc_json_str0(meta, "folder"));
		a = kc_json_get(meta, "anchor");
		if (cJSON_IsString(a) && kc_achain_name_number(a->valuestring, "digest-", ".json", &anchor) == 0)
			has_anchor = 1;
		has_since = time_ns(kc_json_path(meta, "window.since") ?
		    (cJSON_IsString(kc_json_path(meta, "window.since")) ? kc_json_path(meta, "window.since")->valuestring : NULL) :
		    NULL, &since) == 0;
	}
	cJSON_ArrayForEach(a, c->odd)
		kc_achain_problem(v.problems, a->valuestring, "member of no kind the chain excerpt has");
	if (c->nrecs == 0)
		kc_achain_problem(v.problems, dir, "no digest record: nothing is proven");
	if (has_anchor && (c->nrecs == 0 || c->recs[0].n != anchor))
		kc_achain_problem(v.problems, dir, "CHAIN.json names anchor record %" PRIu64 ", which is not the first "
		    "record here", anchor);
	for (size_t i = 0; i < c->nrecs; i++) {
		struct xrec *r = &c->recs[i];
		struct kc_achain_digest d;
		int is_anchor = has_anchor && i == 0;
		char kf[KC_FPR_LEN] = "";
		int vr;

		kc_achain_digest_name(r->n, name, sizeof(name));
		if (!r->has_text) {
			kc_achain_problem(v.problems, name, "%s without its record", r->has_sig ? "signature" : "time-stamp token");
			continue;
		}
		if (i > 0 && r->n != c->recs[i - 1].n + 1)
			kc_achain_problem(v.problems, name, "record %" PRIu64 " follows %" PRIu64 ": the records between are missing",
			    r->n, c->recs[i - 1].n);
		if (!r->has_sig) {
			if (strcmp(keysrc, "none") != 0)
				kc_achain_problem(v.problems, name, "signature missing");
		} else if (strcmp(keysrc, "none") != 0) {
			vr = pubkey != NULL ? kc_verify_raw(pubkey, r->text.data, r->text.len, r->sig.data, r->sig.len, kf) :
			    kc_verify_raw_pem(c->pub.data, c->pub.len, r->text.data, r->text.len, r->sig.data, r->sig.len, kf);
			if (vr != 0)
				kc_achain_problem(v.problems, name, "%s", kc_err_msg()[0] ? kc_err_msg() : "signature does not verify");
			else
				sigs++;
			if (fpr[0] == '\0' && kf[0] != '\0')
				kc_fmt_trunc(fpr, sizeof(fpr), "%s", kf);
		}
		if (kc_achain_digest_parse(r->text.data ? r->text.data : "", r->text.len, &d) != 0) {
			kc_achain_problem(v.problems, name, "%s", kc_err_msg());
			continue;
		}
		if (d.sequence != r->n)
			kc_achain_problem(v.problems, name, "record says it is number %" PRIu64, d.sequence);
		if (check_token(&ts, &v, r, &d) != 0) {
			kc_achain_digest_clear(&d);
			kc_achain_digest_clear(&prev);
			cJSON_Delete(ts.missing);
			cJSON_Delete(meta);
			cJSON_Delete(rep);
			return NULL;
		}
		if (fpr[0] != '\0' && !kc_digest_eq(d.key, fpr))
			kc_achain_problem(v.problems, name, "record names key %s, the key checked is %s", d.key, fpr);
		if (!have_prev) {
			if (r->n == 1 && d.has_previous)
				kc_achain_problem(v.problems, name, "first record names a previous one");
			if (r->n > 1 && !has_anchor)
				kc_achain_problem(v.problems, name, "no anchor record before the first one copied");
			runs = 1;
		} else {
			char pname[64];

			kc_achain_digest_name(prev.sequence, pname, sizeof(pname));
			if (!d.has_previous || d.prev_sequence != prev.sequence || !kc_digest_eq(d.prev_sha256, prev_sha))
				kc_achain_problem(v.problems, name, "previous-record hash does not match %s (a record was changed, removed "
				    "or inserted)", pname);
			if (strcmp(d.run, prev.run) != 0) {
				runs++;
				cJSON *g = cJSON_CreateObject();

				cJSON_AddStringToObject(g, "from", prev.created);
				cJSON_AddStringToObject(g, "to", d.run_started);
				cJSON_AddStringToObject(g, "why", "sink stopped and started again");
				cJSON_AddItemToArray(v.gaps, g);
			} else if (tdiff(d.created, prev.created) > (double)(2 * prev.interval + 30)) {
				cJSON *g = cJSON_CreateObject();

				cJSON_AddStringToObject(g, "from", prev.created);
				cJSON_AddStringToObject(g, "to", d.created);
				cJSON_AddStringToObject(g, "why", "no digest record for longer than the gap limit");
				cJSON_AddItemToArray(v.gaps, g);
			}
			if (tdiff(d.created, prev.created) < 0)
				kc_achain_problem(v.problems, name, "created before the record it follows");
		}
		if (!is_anchor)
			core++;
		for (size_t k = 0; k < d.nsegs; k++) {
			struct kc_achain_seg *s = &d.segs[k];
			struct xseg *m = seg_find(c, s->number);
			const struct kc_achain_seg_found f = { m ? m->bytes : 0, m ? m->lines : 0, m ? m->hex : "" };
			char sn[64];
			int64_t lt;

			kc_achain_seg_name(s->number, sn, sizeof(sn));
			/* numbered in order; the anchor's are not copied, the
			 * others are as the record says (manifest/auditchain.h) */
			kc_achain_seg_check(s, name, &expect_seg, !is_anchor, m != NULL ? &f : NULL, v.problems);
			if (is_anchor) {
				if (m != NULL)
					kc_achain_problem(v.problems, sn, "segment of the anchor record copied (the anchor's are not)");
				if (has_since && (time_ns(s->last_time, &lt) != 0 || lt >= since))
					kc_achain_problem(v.problems, sn, "the anchor record's segment reaches into the window (%s): it "
					    "should have been copied", s->last_time);
				continue;
			}
			if (m != NULL)
				m->named = 1;
			nseg++;
			nev += s->events;
			if (first_ev[0] == '\0' && s->first_time[0] != '\0')
				kc_fmt_trunc(first_ev, sizeof(first_ev), "%s", s->first_time);
			if (s->last_time[0] != '\0')
				kc_fmt_trunc(last_ev, sizeof(last_ev), "%s", s->last_time);
		}
		kc_sha256_hex(r->text.data ? r->text.data : "", r->text.len, prev_sha);
		kc_achain_digest_clear(&prev);
		prev = d;
		have_prev = 1;
	}
	for (size_t i = 0; i < c->nsegs; i++) {
		if (c->segs[i].named)
			continue;
		kc_achain_seg_name(c->segs[i].n, name, sizeof(name));
		kc_achain_problem(v.problems, name, "segment member named by no copied digest record (inserted)");
	}
	if (c->nrecs > 0 && core == 0)
		kc_achain_problem(v.problems, dir, "only an anchor record: no segment is proven");
	if (meta != NULL && cJSON_IsNumber(kc_json_get(meta, "segments")) &&
	    kc_json_get(meta, "segments")->valuedouble != (double)nseg)
		kc_achain_problem(v.problems, dir, "CHAIN.json says %.0f segments, the records copied name %" PRIu64,
		    kc_json_get(meta, "segments")->valuedouble, nseg);
	kc_achain_digest_clear(&prev);
	cJSON_AddStringToObject(rep, "key", fpr);
	cJSON_AddStringToObject(rep, "keySource", keysrc);
	cJSON_AddNumberToObject(rep, "records", (double)core);
	cJSON_AddNumberToObject(rep, "segments", (double)nseg);
	cJSON_AddNumberToObject(rep, "events", (double)nev);
	cJSON_AddNumberToObject(rep, "runs", (double)runs);
	cJSON_AddStringToObject(rep, "firstEvent", first_ev);
	cJSON_AddStringToObject(rep, "lastEvent", last_ev);
	if (tsa_ca != NULL || ts.tokens > 0) {
		cJSON *o = cJSON_AddObjectToObject(rep, "timestamps");

		if (o != NULL) {
			cJSON_AddBoolToObject(o, "checked", tsa_ca != NULL);
			cJSON_AddNumberToObject(o, "records", (double)ts.records);
			cJSON_AddNumberToObject(o, "tokens", (double)ts.tokens);
			if (tsa_ca != NULL) {
				cJSON_AddNumberToObject(o, "verified", (double)ts.verified);
				cJSON_AddItemToObject(o, "missing", ts.missing);
				ts.missing = NULL;
				cJSON_AddStringToObject(o, "firstStamp", ts.first);
				cJSON_AddStringToObject(o, "lastStamp", ts.last);
			}
		}
	}
	cJSON_Delete(ts.missing);
	if (meta != NULL && cJSON_IsArray(kc_json_get(meta, "unsealedNotCopied")))
		cJSON_AddItemToObject(rep, "unsealedNotCopied", cJSON_Duplicate(kc_json_get(meta, "unsealedNotCopied"), 1));
	{
		int broken = cJSON_GetArraySize(v.problems) > 0;
		const char *st = broken ? "broken" : strcmp(keysrc, "given") == 0 ? "signed chain" :
		    strcmp(keysrc, "bundle") == 0 ? "signed chain (bundle's key)" : "hash chain";
		const char *cont = broken ? "broken: the chain in the bundle does not verify (see tampering)" :
		    strcmp(keysrc, "given") == 0 ? "proven by signed chain" :
		    strcmp(keysrc, "bundle") == 0 ? "proven by signed chain, checked with the sink key carried in the "
		    "bundle (not independently trusted)" :
		    "hash chain intact; signatures not checked (no sink key)";

		(void)sigs;
		cJSON_AddStringToObject(rep, "state", st);
		cJSON_AddStringToObject(rep, "continuity", cont);
	}
	cJSON_Delete(meta);
	return rep;
}

static int
state_rank(const char *s)
{
	static const char *const order[] = { "broken", "none", "inferred", "recorded at collection", "hash chain",
	    "signed chain (bundle's key)", "signed chain", NULL };

	for (int i = 0; order[i] != NULL; i++)
		if (strcmp(s, order[i]) == 0)
			return i;
	return 0;
}

int
kc_achain_bundle_continuity(const char *path, const char *pubkey, int whole, const char *pin, cJSON **out)
{
	return kc_achain_bundle_continuity_tsa(path, pubkey, NULL, whole, pin, out);
}

/* The summary's time-stamp part: nothing when no excerpt has a token and
 * no CA was given; else what was (or was not) checked. */
static void
stamps_line(const cJSON *chains, const char *tsa_ca, struct kc_buf *line)
{
	double recs = 0, toks = 0, ok = 0;
	const cJSON *c, *t;

	cJSON_ArrayForEach(c, chains) {
		if ((t = kc_json_get(c, "timestamps")) == NULL)
			continue;
		recs += kc_json_get(t, "records") ? kc_json_get(t, "records")->valuedouble : 0;
		toks += kc_json_get(t, "tokens") ? kc_json_get(t, "tokens")->valuedouble : 0;
		ok += kc_json_get(t, "verified") ? kc_json_get(t, "verified")->valuedouble : 0;
	}
	if (tsa_ca == NULL && toks == 0)
		return;
	if (tsa_ca == NULL)
		kc_buf_addf(line, "; time-stamps: %.0f tokens present, not checked (--audit-chain-tsa-ca checks them)", toks);
	else if (ok == recs)
		kc_buf_addf(line, "; time-stamps: every record's token verified (%.0f)", ok);
	else
		kc_buf_addf(line, "; time-stamps: %.0f of %.0f records' tokens verified, %.0f without a token", ok, recs,
		    recs - toks);
}

int
kc_achain_bundle_continuity_tsa(const char *path, const char *pubkey, const char *tsa_ca, int whole, const char *pin,
    cJSON **out)
{
	struct xread x;
	struct stat st;
	cJSON *doc = NULL, *chains, *gaps, *man = NULL, *src = NULL;
	const char *state = "none";
	struct kc_buf line = KC_BUF_INIT(4096);
	int r, broken = 0;

	*out = NULL;
	memset(&x, 0, sizeof(x));
	kc_buf_init(&x.manifest, 64u << 20);
	kc_buf_init(&x.sources, SOURCES_MAX);
	if (pin != NULL && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		r = kc_err_set(KC_ERR_VERIFY, "'%s' changed after it was verified: it is now a folder", path);
	else
		r = stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? read_dir(path, &x) : read_tar(path, &x, whole, pin);
	if (r != 0)
		goto out;
	if ((doc = cJSON_CreateObject()) == NULL || (chains = cJSON_AddArrayToObject(doc, "chains")) == NULL ||
	    (gaps = cJSON_AddArrayToObject(doc, "gaps")) == NULL) {
		r = KC_ERR_NOMEM;
		goto out;
	}
	if (x.has_manifest)
		man = cJSON_ParseWithLength(x.manifest.data ? x.manifest.data : "", x.manifest.len);
	if (x.has_sources)
		src = cJSON_ParseWithLength(x.sources.data ? x.sources.data : "", x.sources.len);
	for (size_t i = 0; i < x.nchains; i++) {
		cJSON *rep = check_chain(&x.chains[i], pubkey, tsa_ca);
		const cJSON *g;

		if (rep == NULL) {
			r = KC_ERR_NOMEM;
			goto out;
		}
		if (strcmp(kc_json_str0(rep, "state"), "broken") == 0)
			broken = 1;
		if (i == 0 || state_rank(kc_json_str0(rep, "state")) < state_rank(state))
			state = kc_json_str0(rep, "state");
		cJSON_ArrayForEach(g, kc_json_get(rep, "gaps"))
			cJSON_AddItemToArray(gaps, cJSON_Duplicate(g, 1));
		cJSON_AddItemToArray(chains, rep);
	}
	if (x.too_many)
		broken = 1, state = "broken";
	if (x.nchains == 0) {
		const cJSON *cont = kc_json_path(man, "audit.continuity"), *g;

		if (cJSON_IsArray(cont) && cJSON_GetArraySize(cont) > 0) {
			state = "recorded at collection";
			cJSON_AddItemToObject(doc, "recorded", cJSON_Duplicate(cont, 1));
		} else if (src != NULL) {
			state = "inferred";
			cJSON_ArrayForEach(g, kc_json_get(src, "gaps"))
				cJSON_AddItemToArray(gaps, cJSON_Duplicate(g, 1));
		}
	}
	cJSON_AddStringToObject(doc, "state", broken ? "broken" : state);
	/* the one line verify, diff and the report print */
	if (broken) {
		kc_buf_adds(&line, "broken: an audit-sink chain in the bundle does not verify");
	} else if (x.nchains > 0) {
		double segs = 0, evs = 0;
		const cJSON *c;

		cJSON_ArrayForEach(c, chains) {
			segs += kc_json_get(c, "segments")->valuedouble;
			evs += kc_json_get(c, "events")->valuedouble;
		}
		kc_buf_addf(&line, "%s, %.0f segments, %.0f events", kc_json_str0(cJSON_GetArrayItem(chains, 0),
		    "continuity"), segs, evs);
		if (x.nchains > 1)
			kc_buf_addf(&line, " (%zu sink folders)", x.nchains);
		{
			int nun = 0;

			cJSON_ArrayForEach(c, chains)
				nun += cJSON_GetArraySize(kc_json_get(c, "unsealedNotCopied"));
			if (nun > 0)
				kc_buf_addf(&line, "; %d later segment%s unsealed at collection (events in "
				    "audit/segment.jsonl, not proven)", nun, nun == 1 ? "" : "s");
		}
	} else if (strcmp(state, "recorded at collection") == 0) {
		kc_buf_addf(&line, "recorded at collection: %s (the chain is not in the bundle)",
		    kc_json_str0(cJSON_GetArrayItem(kc_json_get(doc, "recorded"), 0), "continuity"));
	} else if (strcmp(state, "inferred") == 0) {
		kc_buf_adds(&line, "inferred from timestamps (no signed chain)");
	} else {
		kc_buf_adds(&line, "none (no audit segment)");
	}
	if (strcmp(state, "none") != 0 && !broken) {
		int ng = cJSON_GetArraySize(gaps);

		kc_buf_addf(&line, ", gaps: %s", ng == 0 ? "none" : "");
		if (ng > 0) {
			const cJSON *g = cJSON_GetArrayItem(gaps, 0);

			kc_buf_addf(&line, "%d (first %s to %s%s%s)", ng, kc_json_str0(g, "from"), kc_json_str0(g, "to"),
			    ": ", kc_json_str(g, "why") ? kc_json_str(g, "why") : kc_json_str0(g, "kind"));
		}
	}
	if (x.nchains > 0 && !broken)
		stamps_line(chains, tsa_ca, &line);
	cJSON_AddStringToObject(doc, "summary", kc_buf_str(&line));
	*out = doc;
	doc = NULL;
	r = broken ? KC_ERR_VERIFY : 0;
	if (broken)
		kc_err_set(KC_ERR_VERIFY, "an audit-sink chain in '%s' does not verify", path);
out:
	cJSON_Delete(doc);
	cJSON_Delete(man);
	cJSON_Delete(src);
	kc_buf_free(&line);
	xread_free(&x);
	return r;
}

const char *
kc_achain_continuity_line(const cJSON *c)
{
	return kc_json_str0(c, "summary");
}

const char *
kc_achain_first_tampering(const cJSON *c, char *out, size_t n)
{
	const cJSON *ch, *p;

	if (n > 0)
		out[0] = '\0';
	cJSON_ArrayForEach(ch, kc_json_get(c, "chains"))
		cJSON_ArrayForEach(p, kc_json_get(ch, "tampering")) {
			kc_fmt_trunc(out, n, "chain %s: %s: %s", kc_json_str0(ch, "path"), kc_json_str0(p, "file"),
			    kc_json_str0(p, "problem"));
			return out;
		}
	return out;
}
