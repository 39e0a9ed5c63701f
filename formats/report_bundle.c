/* report_bundle.c - the members the report shows, read in one pass by the
 * bundle-member reader (manifest/bundle.h), each used only when its SHA-256
 * is the one SHA256SUMS names. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/report_int.h"
#include "manifest/auditchain_bundle.h"
#include "util/json.h"
#include "manifest/digest.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/jarena.h"
#include "util/mem.h"
#include "util/sha256.h"

/* ------------------------------------------------------------------ */
/* the bundle's members, read in one pass */

static const char *const wanted[] = {
	"MANIFEST.json", "SHA256SUMS", "analysis/findings.json", "analysis/inventory.csv",
	"analysis/who-can.json", "analysis/selection.json", "analysis/log-authz-errors.json",
	"audit/sources.json", NULL
};

static int
is_wanted(const char *rel)
{
	size_t n = strlen(rel);

	for (int i = 0; wanted[i] != NULL; i++)
		if (strcmp(rel, wanted[i]) == 0)
			return 1;
	return strncmp(rel, "analysis/effective/", 19) == 0 && n > 24 &&
	    strcmp(rel + n - 5, ".json") == 0;
}


static void
problem(struct bundle *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
problem(struct bundle *b, const char *fmt, ...)
{
	va_list ap;

	if (b->problems.len > 0)
		kc_buf_addc(&b->problems, '\n');
	va_start(ap, fmt);
	kc_buf_vaddf(&b->problems, fmt, ap);
	va_end(ap);
}

/* RFC 4180 (inventory.csv): rows of fields into a JSON array of arrays. */
static cJSON *
parse_csv(const char *s, size_t n)
{
	cJSON *rows = cJSON_CreateArray(), *row = NULL;
	struct kc_buf f = KC_BUF_INIT(1u << 20);
	size_t i = 0;

	if (rows == NULL)
		return NULL;
	while (i < n) {
		int quoted = 0, end_row = 0;

		kc_buf_reset(&f);
		if (s[i] == '"') {
			quoted = 1;
			i++;
		}
		while (i < n) {
			if (quoted) {
				if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') {
					kc_buf_addc(&f, '"');
					i += 2;
				} else if (s[i] == '"') {
					quoted = 0;
					i++;
				} else {
					kc_buf_addc(&f, s[i++]);
				}
			} else if (s[i] == ',') {
				i++;
				break;
			} else if (s[i] == '\r' || s[i] == '\n') {
				if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
					i++;
				i++;
				end_row = 1;
				break;
			} else {
				kc_buf_addc(&f, s[i++]);
			}
		}
		if (row == NULL) {
			row = cJSON_CreateArray();
			cJSON_AddItemToArray(rows, row);
		}
		cJSON_AddItemToArray(row, cJSON_CreateString(kc_buf_str(&f)));
		if (end_row || i >= n)
			row = NULL;
	}
	kc_buf_free(&f);
	return rows;
}

/* b's arena (util/jarena.h: at 150k objects the documents a report
 * shows were 200 MB of heap), made on first use; NULL: the heap. */
static struct kc_jarena *
arena_of(struct bundle *b)
{
	if (b->arena == NULL)
		b->arena = kc_jarena_new();
	return b->arena;
}

/* m parsed straight into b's arena (a 51 MB who-can.json at 150k
 * objects: parsed on the heap first, then packed, it peaked at 200 MB
 * more) */
static cJSON *
parse_member(struct bundle *b, const struct kc_bundle_member *m)
{
	cJSON *j;

	if ((j = kc_jarena_parse(arena_of(b), m->data, m->len)) == NULL)
		problem(b, "%s is not valid JSON", m->path);
	return j;
}

/* m reduced to what the page reads of it, packed into b's arena: parsed
 * into a scratch arena first, then keep (when not NULL) names the members
 * kept (their last, as kc_json_get reads them), drop (when not NULL) the
 * members removed (every one of the name).  A document that is not an
 * object is kept whole.  Effective grants: 40 MB of arena at 150k objects
 * for the namespace and grants the pictures read; the manifest: its file
 * list and request log, which the page does not show, half of it. */
static cJSON *
parse_member_reduced(struct bundle *b, const struct kc_bundle_member *m, const char *const *keep,
    const char *const *drop)
{
	cJSON *j, *out = NULL;

	if (b->scratch == NULL)
		b->scratch = kc_jarena_new();	/* NULL: the heap */
	if ((j = kc_jarena_parse(b->scratch, m->data, m->len)) == NULL) {
		problem(b, "%s is not valid JSON", m->path);
		kc_jarena_reset(b->scratch);
		return NULL;
	}
	if (cJSON_IsObject(j)) {
		for (size_t i = 0; drop != NULL && drop[i] != NULL; i++)
			kc_json_delete(j, drop[i]);
		if (keep != NULL && (out = cJSON_CreateObject()) != NULL) {
			for (size_t i = 0; keep[i] != NULL; i++) {
				cJSON *v = kc_json_detach(j, keep[i]);

				if (v != NULL)
					cJSON_AddItemToObject(out, keep[i], v);
			}
			cJSON_Delete(j);
			j = out;
		}
	}
	if (arena_of(b) == NULL && b->scratch != NULL) {	/* the heap, then: a copy, never the scratch tree */
		out = cJSON_Duplicate(j, 1);
		cJSON_Delete(j);
	} else {
		out = kc_jarena_take(b->arena, j);	/* out of the scratch arena */
	}
	kc_jarena_reset(b->scratch);
	if (out == NULL)
		problem(b, "%s: out of memory", m->path);
	return out;
}

/* who-can.json's read ended with r (msg: the error's words) */
static void
whocan_problem(struct bundle *b, const char *path, int r, const char *msg)
{
	if (r == KC_ERR_NOMEM)
		problem(b, "%s: out of memory", path);
	else if (r == KC_ERR_PARSE)
		problem(b, "%s is not valid JSON", path);
	else if (r != 0)
		problem(b, "%s is not shown: %s", path, msg);
}

static void
use_member(struct bundle *b, const struct kc_bundle_member *m)
{
	static const char *const eff_keep[] = { "namespace", "grants", NULL };
	static const char *const manifest_drop[] = { "files", "requests", NULL };

	const char *rel = m->path;

	if (strcmp(rel, "MANIFEST.json") == 0) {
		b->manifest = parse_member_reduced(b, m, NULL, manifest_drop);
	} else if (strcmp(rel, "analysis/findings.json") == 0) {
		b->findings = parse_member(b, m);
	} else if (strcmp(rel, "analysis/who-can.json") == 0) {
		arena_of(b);
		whocan_problem(b, m->path, rh_whocan_read(b, m->data, m->len), kc_err_msg());
	} else if (strcmp(rel, "analysis/selection.json") == 0) {
		b->selection = parse_member(b, m);
	} else if (strcmp(rel, "audit/sources.json") == 0) {
		b->sources = parse_member(b, m);
	} else if (strcmp(rel, "analysis/log-authz-errors.json") == 0) {
		b->logauthz = parse_member(b, m);
	} else if (strcmp(rel, "analysis/inventory.csv") == 0) {
		b->inventory = kc_jarena_take(arena_of(b), parse_csv(m->data, m->len));
	} else if (strncmp(rel, "analysis/effective/", 19) == 0) {
		const char *a = rel + 19, *slash = strchr(a, '/');
		cJSON *doc;

		if (slash == NULL || (doc = parse_member_reduced(b, m, eff_keep, NULL)) == NULL)
			return;
		if (KC_GROW(b->eff, b->effcap, b->neff + 1) != 0) {
			cJSON_Delete(doc);
			return;
		}
		b->eff[b->neff].agent = kc_strndup(a, (size_t)(slash - a));
		b->eff[b->neff++].doc = doc;
	}
}

void
rh_bundle_free(struct bundle *b)
{
	cJSON_Delete(b->manifest);
	kc_nsindex_free(&b->fidx);
	kc_nsindex_free(&b->sidx);
	cJSON_Delete(b->findings);
	cJSON_Delete(b->whocan);
	rh_whocan_free(b);
	cJSON_Delete(b->selection);
	cJSON_Delete(b->sources);
	cJSON_Delete(b->logauthz);
	cJSON_Delete(b->continuity);
	cJSON_Delete(b->inventory);
	for (size_t i = 0; i < b->neff; i++) {
		free(b->eff[i].agent);
		cJSON_Delete(b->eff[i].doc);
	}
	free(b->eff);
	kc_buf_free(&b->problems);
	kc_jarena_free(b->arena);	/* after every document in it */
	kc_jarena_free(b->scratch);
	b->scratch = NULL;
	b->arena = NULL;
}

/* Read the members the report shows.  Each one is used only when its
 * SHA-256 is the one SHA256SUMS names: the page never shows bytes that
 * differ from the hash list (which verification ties to the signature).
 * Members are used as they are read, in the archive's order, from the
 * first SHA256SUMS that parses on (those before it when it comes), each
 * text freed once used: the report never holds every member's text with
 * the documents made of them (75 MB of text at 150k objects). */
struct early {
	struct bundle *b;
	struct kc_bundle_members *ms;	/* what kc_bundle_read_members has read so far */
	struct kc_digest_list sums;
	int have_sums;		/* sums parsed: each member is used as it comes */
	struct kc_buf later;	/* the members' problems, shown after the read's own */
	/* who-can.json, streamed (54 MB of text at 150k objects, never held):
	 * read into the tables as it is inflated, and kept only when the
	 * whole member's SHA-256 is the one SHA256SUMS names */
	struct kc_sha256 *h;	/* its hash so far (NULL: no member begun) */
	struct rh_whocan_stream *ws;	/* its read (NULL once it failed) */
	int ws_err;
	char ws_msg[512];	/* the failed read's words */
	int stream_ok;		/* the file is the one verified VALID (strict):
				 * its members are the signed ones, so one may be
				 * parsed before its own hash is known */
};

/* What the report reads of an entry: who-can.json streamed once the sums
 * are known, in a bundle verified VALID (a member before the sums is held,
 * as every member is, until they come).  A bundle not verified (--no-verify)
 * or INVALID has who-can.json held and parsed only once its hash matches,
 * as before: a forged member must not make the report parse it (cJSON
 * builds 30 bytes of tree for a byte of "[1,1,...]": 2.3 GB). */
static int
keep_member(void *ctx, const struct kc_tar_entry *te)
{
	const struct early *e = ctx;

	/* members are sorted bytewise: nothing wanted comes after
	 * audit/sources.json (cluster/, raw/ and reviews/ are skipped) */
	if (strcmp(te->path, "audit/sources.json") > 0)
		return KC_BUNDLE_STOP;
	if (te->is_dir || !is_wanted(te->path))
		return KC_BUNDLE_SKIP;
	return e->stream_ok && e->have_sums && strcmp(te->path, "analysis/who-can.json") == 0 ?
	    KC_BUNDLE_STREAM : KC_BUNDLE_KEEP;
}

/* A streamed member given up (the read stopped in it, or its hash is not
 * the one named): nothing of it stays. */
static void
stream_drop(struct early *e)
{
	kc_sha256_free(e->h);
	e->h = NULL;
	rh_whocan_stream_abandon(e->ws);
	e->ws = NULL;
}

/* The piece p[0..n) of who-can.json (p NULL: its end). */
static int
stream_member(void *ctx, const struct kc_tar_entry *te, const void *p, size_t n)
{
	struct early *e = ctx;
	char hex[KC_SHA256_HEX];
	struct kc_buf own;
	long at;
	int r;

	if (e->h == NULL) {	/* the member begins */
		if ((e->h = kc_sha256_new()) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		e->ws_err = (e->ws = rh_whocan_stream_new(e->b)) == NULL ? KC_ERR_NOMEM : 0;
		e->ws_msg[0] = '\0';
	}
	if (p != NULL) {
		if (kc_sha256_update(e->h, p, n) != 0)
			return kc_err_set(KC_ERR_CRYPTO, "SHA-256 of '%s' failed", te->path);
		if (e->ws_err == 0 && (e->ws_err = rh_whocan_stream_feed(e->ws, p, n)) != 0) {
			kc_fmt_trunc(e->ws_msg, sizeof(e->ws_msg), "%s", kc_err_msg());
			rh_whocan_stream_abandon(e->ws);
			e->ws = NULL;
		}
		return 0;
	}
	r = kc_sha256_final(e->h, NULL, hex);
	kc_sha256_free(e->h);
	e->h = NULL;
	if (r != 0) {
		stream_drop(e);
		return kc_err_set(KC_ERR_CRYPTO, "SHA-256 of '%s' failed", te->path);
	}
	own = e->b->problems;	/* problem() writes to later meanwhile, as handle() */
	e->b->problems = e->later;
	at = kc_digest_find(&e->sums, te->path);
	if (at < 0 || !kc_digest_eq(e->sums.v[at].hex, hex)) {
		problem(e->b, "%s does not match its SHA-256 in SHA256SUMS: not shown", te->path);
		stream_drop(e);
	} else {
		if (e->ws_err == 0) {
			e->ws_err = rh_whocan_stream_end(e->ws);
			kc_fmt_trunc(e->ws_msg, sizeof(e->ws_msg), "%s", kc_err_msg());
		}
		e->ws = NULL;
		whocan_problem(e->b, te->path, e->ws_err, e->ws_msg);
	}
	e->later = e->b->problems;
	e->b->problems = own;
	return 0;
}

/* 1 when m's bytes have the SHA-256 that sums names for it. */
static int
matches_sums(const struct kc_digest_list *sums, const struct kc_bundle_member *m)
{
	char hex[KC_SHA256_HEX];
	long at = kc_digest_find(sums, m->path);

	return kc_sha256_hex(m->data, m->len, hex) == 0 && at >= 0 && kc_digest_eq(sums->v[at].hex, hex);
}

/* Member m checked against the sums, used or refused, and its text freed
 * (data NULL: done with). */
static void
handle(struct early *e, struct kc_bundle_member *m)
{
	struct kc_buf own;

	if (m->data == NULL || strcmp(m->path, "SHA256SUMS") == 0)
		return;
	own = e->b->problems;	/* problem() writes to later meanwhile */
	e->b->problems = e->later;
	if (!matches_sums(&e->sums, m))
		problem(e->b, "%s does not match its SHA-256 in SHA256SUMS: not shown", m->path);
	else
		use_member(e->b, m);
	e->later = e->b->problems;
	e->b->problems = own;
	free(m->data);
	m->data = NULL;
	m->len = 0;
}

static int
use_as_read(void *ctx, struct kc_bundle_member *m)
{
	struct early *e = ctx;

	if (e->have_sums) {
		handle(e, m);
	} else if (strcmp(m->path, "SHA256SUMS") == 0 && kc_sums_parse(m->data, m->len, &e->sums) == 0) {
		e->have_sums = 1;
		for (size_t i = 0; i < e->ms->n; i++)	/* the members before it, then it */
			handle(e, &e->ms->v[i]);
	}
	return 0;
}

/* Everything used from a bundle forgotten (the problems kept): for a file
 * that turns out not to be the one verified. */
static void
forget_members(struct bundle *b)
{
	struct kc_buf problems = b->problems;

	kc_buf_init(&b->problems, 1u << 20);
	rh_bundle_free(b);
	memset(b, 0, sizeof(*b));
	b->problems = problems;
}

void
rh_bundle_read(const char *path, const char *pin, int strict, const char *chain_pubkey, const char *chain_tsa_ca,
    struct bundle *b)
{
	struct kc_bundle_members ms;
	struct early e = { b, &ms, { 0 }, 0, KC_BUF_INIT(1u << 20), NULL, NULL, 0, "", strict && pin != NULL };
	const struct kc_bundle_read_opts o = {
		.member_max = KC_REPORT_MEMBER_MAX, .total_max = KC_REPORT_MEMBERS_MAX,
		.reader = "the report", .check_end = 0, .sort = 0, .expect_sha256 = pin,
		.shrink = use_as_read, .shrink_ctx = &e, .stream = stream_member,
	};
	int r;

	kc_buf_init(&b->problems, 1u << 20);
	r = kc_bundle_read_members(path, &o, keep_member, &e, &ms);
	if (e.h != NULL)	/* the read stopped inside who-can.json */
		stream_drop(&e);
	if (pin != NULL && r != 0 && ms.opened &&
	    (strict || (ms.sha256[0] != '\0' && !kc_digest_eq(ms.sha256, pin)))) {
		/* the file verify found valid (strict), or whose digest the
		 * report names, is not the file read now: show nothing of it
		 * (what was used as it was read is forgotten) */
		char msg[1024];

		kc_fmt_trunc(msg, sizeof(msg), "%s", kc_err_msg());
		forget_members(b);
		kc_digest_list_free(&e.sums);
		kc_buf_free(&e.later);
		problem(b, "%s", msg);
		b->unreadable = 1;
		b->changed = ms.sha256[0] != '\0' && !kc_digest_eq(ms.sha256, pin);
		kc_bundle_members_free(&ms);
		return;
	}
	if (kc_fmt(b->top, sizeof(b->top), "%s", ms.top) != 0)	/* 256 into 256 */
		problem(b, "the top folder's name is too long: %s", kc_err_msg());
	if (!ms.opened) {
		problem(b, "cannot read the bundle: %s", kc_err_msg());
		b->unreadable = 1;
		kc_buf_free(&e.later);
		return;
	}
	if (r < 0) {
		problem(b, "the bundle could not be read to the end: %s", kc_err_msg());
		if (ms.n == 0)
			b->unreadable = 1;
	}
	/* every member after the sums was used as it was read (use_as_read) */
	if (!e.have_sums && ms.n > 0)
		problem(b, "SHA256SUMS is missing or malformed: no member is shown");
	if (e.later.len > 0) {
		if (b->problems.len > 0)
			kc_buf_addc(&b->problems, '\n');
		kc_buf_add(&b->problems, e.later.data, e.later.len);
	}
	kc_buf_free(&e.later);
	kc_bundle_members_free(&ms);
	kc_digest_list_free(&e.sums);
	/* the audit continuity: a copied audit-sink chain re-checked from the
	 * bundle's members (with --audit-chain-pubkey, else the bundle's own
	 * copy of the sink key; its tokens with --audit-chain-tsa-ca) */
	/* As verify decides it: checked whenever the container could be read
	 * (not only when audit/sources.json was shown: a member over the
	 * report's caps before it must not skip the check), and a chain whose
	 * members cannot be checked (one over its cap) is broken, not absent. */
	if (!b->unreadable) {
		int cr = kc_achain_bundle_continuity_tsa(path, chain_pubkey, chain_tsa_ca, 0, pin, &b->continuity);

		/* strict: verified, so the container is sound and the error is
		 * the chain's; else only a member over its cap is (a damaged
		 * bundle is not called a broken chain) */
		if (cr != 0 && b->continuity == NULL && (strict || cr == KC_ERR_LIMIT) &&
		    (b->continuity = cJSON_CreateObject()) != NULL) {
			char msg[600];

			kc_fmt_trunc(msg, sizeof(msg), "broken: the audit members cannot be checked: %s", kc_err_msg());
			cJSON_AddStringToObject(b->continuity, "state", "broken");
			cJSON_AddStringToObject(b->continuity, "summary", msg);
		}
		if (b->continuity != NULL && b->sources == NULL &&
		    strcmp(kc_json_str0(b->continuity, "state"), "none") == 0) {
			/* no audit evidence at all: nothing to show, as before */
			cJSON_Delete(b->continuity);
			b->continuity = NULL;
		}
		kc_err_clear();
	}
	rh_findex_add(&b->fidx, kc_json_path(b->findings, "findings"), 0);
	kc_nsindex_sort(&b->fidx);
	rh_findex_add_named(&b->sidx, kc_json_path(b->selection, "selected"));
	kc_nsindex_sort(&b->sidx);
}
