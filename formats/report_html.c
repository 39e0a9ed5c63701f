/* report_html.c - the HTML evidence report and diff page (report_html.h).
 *
 * Layout of this file: escaping; a sticky-error writer; JSON helpers;
 * reading the bundle's members in one pass; the access-path trees; the
 * sections of the page; the two public entry points.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/names.h"
#include "formats/report_html.h"
#include "formats/svg_access.h"
#include "manifest/tarball.h"
#include "manifest/digest.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/timeutil.h"

/* ------------------------------------------------------------------ */
/* escaping */

enum unit { U_PLAIN, U_ENTITY, U_BYTE, U_CODEPOINT };

/* Classify the next character of p[0..n): its length in *len, its code
 * point in *cp (or the byte for U_BYTE). */
static enum unit
next_unit(const unsigned char *p, size_t n, size_t *len, uint32_t *cp)
{
	unsigned char b = p[0];
	uint32_t c;
	size_t k;

	*len = 1;
	*cp = b;
	if (b < 0x80) {
		if (b == '&' || b == '<' || b == '>' || b == '"' || b == '\'')
			return U_ENTITY;
		if ((b < 0x20 && b != '\t' && b != '\n') || b == 0x7f)
			return U_BYTE;
		return U_PLAIN;
	}
	/* strict UTF-8 (RFC 3629): no overlongs, no surrogates, <= U+10FFFF */
	if (b >= 0xc2 && b <= 0xdf) {
		k = 2;
		c = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		k = 3;
		c = b & 0x0f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		k = 4;
		c = b & 0x07;
	} else {
		return U_BYTE;
	}
	if (n < k)
		return U_BYTE;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return U_BYTE;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return U_BYTE;
	*len = k;
	*cp = c;
	if ((c >= 0x80 && c <= 0x9f) ||			/* C1 controls */
	    (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe ||	/* noncharacters */
	    c == 0x061c || c == 0x200e || c == 0x200f ||	/* bidi marks */
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
		return U_CODEPOINT;
	return U_PLAIN;
}

static size_t
unit_cols(enum unit u, uint32_t cp)
{
	switch (u) {
	case U_BYTE: return 4;				/* \xHH */
	case U_CODEPOINT: return cp > 0xffff ? 10 : 6;	/* \uHHHH or \UHHHHHHHH */
	default: return 1;
	}
}

size_t
kc_html_prefix(const char *s, size_t cols, size_t *used)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, u = 0, len;
	uint32_t cp;

	while (i < n) {
		enum unit k = next_unit(p + i, n - i, &len, &cp);
		size_t c = unit_cols(k, cp);

		if (u + c > cols)
			break;
		u += c;
		i += len;
	}
	if (used != NULL)
		*used = u;
	return i;
}

int
kc_html_escape_n(struct kc_buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, len;
	uint32_t cp;
	int r = 0;

	if (s == NULL)
		return 0;
	while (i < n && r == 0) {
		enum unit k = next_unit(p + i, n - i, &len, &cp);

		if (k == U_PLAIN) {
			i += len;
			continue;
		}
		if (i > run)
			r = kc_buf_add(out, s + run, i - run);
		if (r != 0)
			break;
		switch (k) {
		case U_ENTITY:
			r = kc_buf_adds(out, cp == '&' ? "&amp;" : cp == '<' ? "&lt;" : cp == '>' ? "&gt;" :
			    cp == '"' ? "&quot;" : "&#39;");
			break;
		case U_BYTE:
			r = kc_buf_addf(out, "\\x%02x", (unsigned)cp);
			break;
		default:
			r = cp > 0xffff ? kc_buf_addf(out, "\\U%08x", (unsigned)cp) :
			    kc_buf_addf(out, "\\u%04x", (unsigned)cp);
			break;
		}
		i += len;
		run = i;
	}
	if (r == 0 && i > run)
		r = kc_buf_add(out, s + run, i - run);
	return r;
}

int
kc_html_escape(struct kc_buf *out, const char *s)
{
	return s == NULL ? 0 : kc_html_escape_n(out, s, strlen(s));
}

/* ------------------------------------------------------------------ */
/* writer: the first error sticks, later writes do nothing */

struct w {
	struct kc_buf *b;
	int err;
};

static void
raw(struct w *w, const char *s)
{
	if (w->err == 0 && kc_buf_adds(w->b, s) != 0)
		w->err = KC_ERR_LIMIT;
}

/* Markup only: never pass a string from the evidence through fmt. */
static void rawf(struct w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
rawf(struct w *w, const char *fmt, ...)
{
	va_list ap;

	if (w->err != 0)
		return;
	va_start(ap, fmt);
	if (kc_buf_vaddf(w->b, fmt, ap) != 0)
		w->err = KC_ERR_LIMIT;
	va_end(ap);
}

static void
text(struct w *w, const char *s)
{
	if (w->err == 0 && s != NULL && kc_html_escape(w->b, s) != 0)
		w->err = KC_ERR_LIMIT;
}

static const char DASH[] = "\xe2\x80\x94";	/* em dash: no value */

/* Escaped text, or a grey dash when s is NULL or empty. */
static void
text_or_dash(struct w *w, const char *s)
{
	if (s == NULL || *s == '\0')
		rawf(w, "<span class=\"none\">%s</span>", DASH);
	else
		text(w, s);
}

/* ------------------------------------------------------------------ */
/* JSON helpers */

/* o's member at a dotted path ("cluster.clock.offset_seconds"). */
static const cJSON *
jget(const cJSON *o, const char *path)
{
	char key[128];
	const char *dot;

	while (o != NULL && path != NULL && *path != '\0') {
		size_t n;

		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
		path = dot ? dot + 1 : NULL;
	}
	return o;
}

static const char *
jstr(const cJSON *o, const char *path)
{
	const cJSON *v = jget(o, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* 1 when o has a non-empty string at path. */
static int
jhas(const cJSON *o, const char *path)
{
	const char *s = jstr(o, path);

	return s != NULL && *s != '\0';
}

static const char *
jstr0(const cJSON *o, const char *path)
{
	const char *s = jstr(o, path);

	return s != NULL ? s : "";
}

static double
jnum(const cJSON *o, const char *path, double dflt)
{
	const cJSON *v = jget(o, path);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int
jtrue(const cJSON *o, const char *path)
{
	return cJSON_IsTrue(jget(o, path));
}

static void
fmt_num(char *out, size_t n, double v)
{
	if (v == (double)(long long)v && v > -1e15 && v < 1e15)
		snprintf(out, n, "%lld", (long long)v);
	else
		snprintf(out, n, "%.3f", v);
}

/* Any JSON value as text: strings as they are, numbers, yes/no, a dash
 * for null or missing, compact JSON for objects and arrays. */
static void
jtext(struct w *w, const cJSON *v)
{
	char nb[64];

	if (v == NULL || cJSON_IsNull(v)) {
		text_or_dash(w, NULL);
	} else if (cJSON_IsString(v)) {
		text_or_dash(w, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		fmt_num(nb, sizeof(nb), v->valuedouble);
		raw(w, nb);
	} else if (cJSON_IsBool(v)) {
		raw(w, cJSON_IsTrue(v) ? "yes" : "no");
	} else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0) {
		text_or_dash(w, NULL);
	} else {
		char *s = cJSON_PrintUnformatted(v);

		if (s == NULL) {
			w->err = w->err ? w->err : KC_ERR_NOMEM;
			return;
		}
		raw(w, "<code>");
		text(w, s);
		raw(w, "</code>");
		cJSON_free(s);
	}
}

/* "a, b, c" of an array of strings. */
static void
jlist(struct w *w, const cJSON *arr, const char *sep)
{
	const cJSON *x;
	int first = 1;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
		text_or_dash(w, NULL);
		return;
	}
	cJSON_ArrayForEach(x, arr) {
		if (!first)
			raw(w, sep);
		first = 0;
		if (cJSON_IsString(x))
			text(w, x->valuestring[0] ? x->valuestring : "\"\"");
		else
			jtext(w, x);
	}
}

static int
sev_rank(const char *s)
{
	static const char *const names[] = { "critical", "high", "medium", "low", "info" };

	for (int i = 0; s != NULL && i < 5; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return 5;
}

static const char *
sev_class(const char *s)
{
	static const char *const cls[] = { "critical", "high", "medium", "low", "info", "info" };

	return cls[sev_rank(s)];
}

static void
sev_badge(struct w *w, const char *s)
{
	rawf(w, "<span class=\"sev sev-%s\">", sev_class(s));
	text_or_dash(w, s);
	raw(w, "</span>");
}

/* "Kind ns/name" of a subject, binding or role object. */
static void
ref_text(struct kc_buf *b, const cJSON *o)
{
	const char *k = jstr(o, "kind"), *ns = jstr(o, "namespace"), *n = jstr(o, "name");

	if (k != NULL && *k)
		kc_buf_addf(b, "%s ", k);
	if (ns != NULL && *ns)
		kc_buf_addf(b, "%s/", ns);
	kc_buf_adds(b, n != NULL ? n : "?");
}

static void
ref(struct w *w, const cJSON *o)
{
	const char *k = jstr(o, "kind"), *ns = jstr(o, "namespace"), *n = jstr(o, "name");

	if (o == NULL || !cJSON_IsObject(o)) {
		text_or_dash(w, NULL);
		return;
	}
	if (k != NULL && *k) {
		raw(w, "<span class=\"kind\">");
		text(w, k);
		raw(w, "</span> ");
	}
	if (ns != NULL && *ns) {
		text(w, ns);
		raw(w, "/");
	}
	text_or_dash(w, n);
	if (cJSON_IsFalse(jget(o, "found")))
		raw(w, " <span class=\"bad\">(missing)</span>");
}

/* ------------------------------------------------------------------ */
/* the bundle's members, read in one pass */

struct eff {
	char *agent;		/* "<ns>__<name>" folder */
	cJSON *doc;
};

struct bundle {
	cJSON *manifest, *findings, *whocan, *selection, *sources;
	cJSON *inventory;	/* rows: arrays of strings, header first */
	struct eff *eff;
	size_t neff, effcap;
	char top[256];
	struct kc_buf problems;	/* why some or all contents are not shown */
	int unreadable;		/* nothing could be read */
};

static const char *const wanted[] = {
	"MANIFEST.json", "SHA256SUMS", "analysis/findings.json", "analysis/inventory.csv",
	"analysis/who-can.json", "analysis/selection.json", "audit/sources.json", NULL
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

struct member {
	char *rel;
	struct kc_buf data;
};

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

static cJSON *
parse_member(struct bundle *b, const struct member *m)
{
	cJSON *j = cJSON_ParseWithLength(m->data.data ? m->data.data : "", m->data.len);

	if (j == NULL)
		problem(b, "%s is not valid JSON", m->rel);
	return j;
}

static void
use_member(struct bundle *b, struct member *m)
{
	const char *rel = m->rel;

	if (strcmp(rel, "MANIFEST.json") == 0) {
		b->manifest = parse_member(b, m);
	} else if (strcmp(rel, "analysis/findings.json") == 0) {
		b->findings = parse_member(b, m);
	} else if (strcmp(rel, "analysis/who-can.json") == 0) {
		b->whocan = parse_member(b, m);
	} else if (strcmp(rel, "analysis/selection.json") == 0) {
		b->selection = parse_member(b, m);
	} else if (strcmp(rel, "audit/sources.json") == 0) {
		b->sources = parse_member(b, m);
	} else if (strcmp(rel, "analysis/inventory.csv") == 0) {
		b->inventory = parse_csv(m->data.data ? m->data.data : "", m->data.len);
	} else if (strncmp(rel, "analysis/effective/", 19) == 0) {
		const char *a = rel + 19, *slash = strchr(a, '/');
		cJSON *doc;

		if (slash == NULL || (doc = parse_member(b, m)) == NULL)
			return;
		if (KC_GROW(b->eff, b->effcap, b->neff + 1) != 0) {
			cJSON_Delete(doc);
			return;
		}
		b->eff[b->neff].agent = kc_strndup(a, (size_t)(slash - a));
		b->eff[b->neff++].doc = doc;
	}
}

static void
bundle_free(struct bundle *b)
{
	cJSON_Delete(b->manifest);
	cJSON_Delete(b->findings);
	cJSON_Delete(b->whocan);
	cJSON_Delete(b->selection);
	cJSON_Delete(b->sources);
	cJSON_Delete(b->inventory);
	for (size_t i = 0; i < b->neff; i++) {
		free(b->eff[i].agent);
		cJSON_Delete(b->eff[i].doc);
	}
	free(b->eff);
	kc_buf_free(&b->problems);
}

/* Read the members the report shows.  Each one is used only when its
 * SHA-256 is the one SHA256SUMS names: the page never shows bytes that
 * differ from the hash list (which verification ties to the signature). */
static void
bundle_read(const char *path, struct bundle *b)
{
	struct kc_tar_reader *tr = NULL;
	struct kc_tar_entry e;
	struct member *m = NULL;
	struct kc_digest_list sums = { 0 };
	size_t nm = 0, mcap = 0, total = 0;
	int r, have_sums = 0;
	char buf[65536];

	kc_buf_init(&b->problems, 1u << 20);
	if ((r = kc_tar_open(path, NULL, &tr)) != 0) {
		problem(b, "cannot read the bundle: %s", kc_err_msg());
		b->unreadable = 1;
		return;
	}
	while ((r = kc_tar_next(tr, &e)) == 1) {
		long got;
		struct member *cur;

		if (b->top[0] == '\0')
			snprintf(b->top, sizeof(b->top), "%s", e.top);
		/* members are sorted bytewise: nothing wanted comes after
		 * audit/sources.json (cluster/, raw/ and reviews/ are skipped) */
		if (strcmp(e.path, "audit/sources.json") > 0)
			break;
		if (e.is_dir || !is_wanted(e.path))
			continue;
		if (KC_GROW(m, mcap, nm + 1) != 0) {
			r = KC_ERR_NOMEM;
			break;
		}
		cur = &m[nm++];
		cur->rel = kc_strdup(e.path);
		kc_buf_init(&cur->data, KC_REPORT_MEMBER_MAX);
		while ((got = kc_tar_read(tr, buf, sizeof(buf))) > 0) {
			total += (size_t)got;
			if (total > KC_REPORT_MEMBERS_MAX || kc_buf_add(&cur->data, buf, (size_t)got) != 0) {
				got = kc_err_set(KC_ERR_LIMIT, "'%s' is larger than the report reads", e.path);
				break;
			}
		}
		if (got < 0) {
			r = (int)got;
			kc_buf_free(&cur->data);
			free(cur->rel);
			nm--;
			break;
		}
	}
	if (r < 0) {
		problem(b, "the bundle could not be read to the end: %s", kc_err_msg());
		if (nm == 0)
			b->unreadable = 1;
	}
	for (size_t i = 0; i < nm; i++) {
		if (strcmp(m[i].rel, "SHA256SUMS") == 0 &&
		    kc_sums_parse(m[i].data.data ? m[i].data.data : "", m[i].data.len, &sums) == 0)
			have_sums = 1;
	}
	if (!have_sums && nm > 0)
		problem(b, "SHA256SUMS is missing or malformed: no member is shown");
	for (size_t i = 0; i < nm; i++) {
		char hex[KC_SHA256_HEX];
		long at;

		if (!have_sums || strcmp(m[i].rel, "SHA256SUMS") == 0)
			continue;
		at = kc_digest_find(&sums, m[i].rel);
		if (kc_sha256_hex(m[i].data.data ? m[i].data.data : "", m[i].data.len, hex) != 0 ||
		    at < 0 || strcmp(sums.v[at].hex, hex) != 0) {
			problem(b, "%s does not match its SHA-256 in SHA256SUMS: not shown", m[i].rel);
			continue;
		}
		use_member(b, &m[i]);
	}
	for (size_t i = 0; i < nm; i++) {
		kc_buf_free(&m[i].data);
		free(m[i].rel);
	}
	free(m);
	kc_digest_list_free(&sums);
	kc_tar_close(tr);
}

/* ------------------------------------------------------------------ */
/* access-path trees */

/* Boxes per picture: beyond this a picture stops helping anyone see. */
#define TREE_MAX 400

struct tnode {
	int parent;
	char *key;
	char *line[KC_SVG_LINES];
	char *tag, *title;
	unsigned flags;
	int sev;		/* best (lowest) severity rank of findings on it */
};

struct tree {
	struct tnode *v;
	size_t n, cap;
	int err;
	size_t dropped;		/* boxes left out beyond KC_SVG_MAX_NODES */
};

static void
tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].key);
		for (int k = 0; k < KC_SVG_LINES; k++)
			free(t->v[i].line[k]);
		free(t->v[i].tag);
		free(t->v[i].title);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static int
tree_find(const struct tree *t, int parent, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].parent == parent && strcmp(t->v[i].key, key) == 0)
			return (int)i;
	return -1;
}

static int
tree_add(struct tree *t, int parent, const char *key, unsigned flags)
{
	struct tnode *n;

	if (t->err != 0)
		return -1;
	if (t->n >= TREE_MAX) {
		t->dropped++;	/* the picture is cut; the tables keep everything */
		return -1;
	}
	if (KC_GROW(t->v, t->cap, t->n + 1) != 0) {
		t->err = KC_ERR_NOMEM;
		return -1;
	}
	n = &t->v[t->n];
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->key = kc_strdup(key);
	n->flags = flags;
	n->sev = 5;
	if (n->key == NULL) {
		t->err = KC_ERR_NOMEM;
		return -1;
	}
	return (int)t->n++;
}

static void
tree_set(struct tree *t, int i, int line, const char *s)
{
	char **slot;

	if (i < 0 || t->err != 0)
		return;
	slot = line == -1 ? &t->v[i].tag : line == -2 ? &t->v[i].title : &t->v[i].line[line];
	free(*slot);
	if ((*slot = kc_strdup(s)) == NULL)
		t->err = KC_ERR_NOMEM;
}

static void
tree_setb(struct tree *t, int i, int line, struct kc_buf *b)
{
	tree_set(t, i, line, kc_buf_str(b));
	kc_buf_reset(b);
}

static void
tree_render(struct w *w, struct tree *t, const char *label)
{
	struct kc_svg_node *n;

	if (t->err != 0 || t->n == 0) {
		raw(w, "<p class=\"bad\">The access-path picture could not be drawn.</p>");
		return;
	}
	if ((n = kc_calloc(t->n, sizeof(*n))) == NULL) {
		w->err = KC_ERR_NOMEM;
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		n[i].parent = t->v[i].parent;
		for (int k = 0; k < KC_SVG_LINES; k++)
			n[i].line[k] = t->v[i].line[k];
		n[i].tag = t->v[i].tag;
		n[i].title = t->v[i].title;
		n[i].flags = t->v[i].flags;
	}
	raw(w, "<div class=\"svgwrap\">");
	if (w->err == 0 && kc_svg_render(n, t->n, label, w->b) != 0)
		w->err = KC_ERR_LIMIT;
	raw(w, "</div>");
	if (t->dropped > 0)
		rawf(w, "<p class=\"note\">The picture stops at %d boxes: %zu more are left out (the tables "
		    "list everything).</p>\n", TREE_MAX, t->dropped);
	free(n);
}

static unsigned
sev_flag(int rank)
{
	return rank <= 1 ? KC_SVG_DANGER : rank == 2 ? KC_SVG_WARN : 0;
}

static int
str_in(const cJSON *arr, const char *s)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, arr)
		if (cJSON_IsString(x) && (strcmp(x->valuestring, s) == 0 || strcmp(x->valuestring, "*") == 0))
			return 1;
	return 0;
}

static int
same_ref(const cJSON *a, const cJSON *b, int with_ns)
{
	if (strcmp(jstr0(a, "kind"), jstr0(b, "kind")) != 0 || strcmp(jstr0(a, "name"), jstr0(b, "name")) != 0)
		return 0;
	return !with_ns || strcmp(jstr0(a, "namespace"), jstr0(b, "namespace")) == 0;
}

static int
subject_is(const cJSON *f, const char *ns, const char *name)
{
	const cJSON *s = jget(f, "subject");

	return strcmp(jstr0(s, "kind"), "ServiceAccount") == 0 &&
	    strcmp(jstr0(s, "namespace"), ns) == 0 && strcmp(jstr0(s, "name"), name) == 0;
}

/* The binding and role of a tree: "Kind ns/name" keys. */
static void
key_of(struct kc_buf *b, const cJSON *o)
{
	kc_buf_reset(b);
	ref_text(b, o);
}

static void
label_binding(struct tree *t, int i, const cJSON *binding, struct kc_buf *tmp)
{
	const char *ns = jstr(binding, "namespace");

	tree_set(t, i, 0, jstr0(binding, "name"));
	kc_buf_adds(tmp, jstr0(binding, "kind"));
	if (ns != NULL && *ns)
		kc_buf_addf(tmp, " in %s", ns);
	tree_setb(t, i, 1, tmp);
	ref_text(tmp, binding);
	tree_setb(t, i, -2, tmp);
}

static void
label_role(struct tree *t, int i, const cJSON *role, struct kc_buf *tmp)
{
	tree_set(t, i, 0, jstr0(role, "name"));
	kc_buf_adds(tmp, jstr0(role, "kind"));
	if (cJSON_IsFalse(jget(role, "found")))
		kc_buf_adds(tmp, " (missing)");
	tree_setb(t, i, 1, tmp);
	ref_text(tmp, role);
	tree_setb(t, i, -2, tmp);
}

static void
join_arr(struct kc_buf *b, const cJSON *arr, const char *empty)
{
	const cJSON *x;
	int first = 1;

	cJSON_ArrayForEach(x, arr) {
		if (!cJSON_IsString(x))
			continue;
		kc_buf_addf(b, "%s%s", first ? "" : ", ", x->valuestring[0] ? x->valuestring : empty);
		first = 0;
	}
}

/* Label lines of one rule: verbs / resources (or URLs) / where. */
static void
label_rule(struct tree *t, int i, const cJSON *rule, const char *scope, struct kc_buf *tmp)
{
	const cJSON *urls = jget(rule, "nonResourceURLs"), *groups = jget(rule, "apiGroups"), *g0;
	int core_only;

	join_arr(tmp, jget(rule, "verbs"), "\"\"");
	if (strcmp(kc_buf_str(tmp), "*") == 0)
		kc_buf_adds(tmp, " (every verb)");
	tree_setb(t, i, 0, tmp);
	if (cJSON_GetArraySize(urls) > 0) {
		join_arr(tmp, urls, "\"\"");
		tree_setb(t, i, 1, tmp);
		tree_set(t, i, 2, "non-resource URLs");
		return;
	}
	join_arr(tmp, jget(rule, "resources"), "\"\"");
	if (strcmp(kc_buf_str(tmp), "*") == 0)
		kc_buf_adds(tmp, " (every resource)");
	if (cJSON_GetArraySize(jget(rule, "resourceNames")) > 0) {
		kc_buf_adds(tmp, " [");
		join_arr(tmp, jget(rule, "resourceNames"), "\"\"");
		kc_buf_adds(tmp, "]");
	}
	tree_setb(t, i, 1, tmp);
	if (scope == NULL || strcmp(scope, "cluster") == 0 || strcmp(scope, "*") == 0)
		kc_buf_adds(tmp, "cluster-wide");
	else
		kc_buf_addf(tmp, "in %s", scope);
	g0 = cJSON_GetArrayItem(groups, 0);
	core_only = cJSON_GetArraySize(groups) == 1 && cJSON_IsString(g0) && g0->valuestring[0] == '\0';
	if (cJSON_GetArraySize(groups) > 0 && !core_only) {
		kc_buf_adds(tmp, " \xc2\xb7 groups ");
		join_arr(tmp, groups, "core");
	}
	tree_setb(t, i, 2, tmp);
}

/* The findings in fs (array) that name this subject, binding and role
 * (and rule index when given): the worst severity rank (5: none), and
 * their ids in ids (reset first) when non-NULL. */
static int
grant_findings(const cJSON *fs, const char *ns, const char *name, const cJSON *binding,
    const cJSON *role, int rule_index, struct kc_buf *ids)
{
	const cJSON *f;
	int best = 5, hits = 0;

	if (ids != NULL)
		kc_buf_reset(ids);
	cJSON_ArrayForEach(f, fs) {
		const cJSON *ri = jget(f, "ruleIndex");

		if (!subject_is(f, ns, name) || !same_ref(jget(f, "binding"), binding, 1) ||
		    !same_ref(jget(f, "role"), role, 0))
			continue;
		if (rule_index >= 0 && cJSON_IsNumber(ri) && (int)ri->valuedouble != rule_index)
			continue;
		if (ids != NULL && hits < 3)
			kc_buf_addf(ids, "%s%s", hits > 0 ? " " : "", jstr0(f, "id"));
		hits++;
		if (sev_rank(jstr(f, "severity")) < best)
			best = sev_rank(jstr(f, "severity"));
	}
	if (ids != NULL && hits > 3)
		kc_buf_addf(ids, " +%d", hits - 3);
	return best;
}

static const char *rank_name(int r);

/* Mark node i with the findings that name its grant. */
static void
mark_findings(struct tree *t, int i, const cJSON *fs, const char *ns, const char *name,
    const cJSON *binding, const cJSON *role, int rule_index, struct kc_buf *tmp)
{
	int best = grant_findings(fs, ns, name, binding, role, rule_index, tmp);

	if (best < 5 && i >= 0 && t->err == 0 && best < t->v[i].sev) {
		kc_buf_addf(tmp, " \xc2\xb7 %s", rank_name(best));
		t->v[i].sev = best;
		t->v[i].flags |= sev_flag(best);
		tree_setb(t, i, -1, tmp);
	}
	kc_buf_reset(tmp);
}

/* One agent's tree from the bundle's effective grants.  Grants through a
 * group binding with no finding are folded into one grey box. */
static void
tree_from_grants(struct tree *t, const struct bundle *b, const char *ns, const char *name,
    struct kc_buf *tmp)
{
	const cJSON *fs = jget(b->findings, "findings");
	char folder[KC_NAME_COMPONENT_SIZE];
	struct kc_buf groups = KC_BUF_INIT(4096), gbind = KC_BUF_INIT(4096);
	int ngroup = 0, root;

	if (kc_name_sa_folder(ns, name, folder) < 0)
		folder[0] = '\0';	/* matches no effective/ folder */
	kc_buf_addf(tmp, "%s/%s", ns, name);
	root = tree_add(t, -1, kc_buf_str(tmp), 0);
	tree_set(t, root, 0, name);
	kc_buf_reset(tmp);
	tree_set(t, root, 1, "ServiceAccount");
	kc_buf_addf(tmp, "in %s", ns);
	tree_setb(t, root, 2, tmp);
	kc_buf_addf(tmp, "ServiceAccount %s/%s", ns, name);
	tree_setb(t, root, -2, tmp);
	for (size_t e = 0; e < b->neff; e++) {
		const cJSON *g;

		if (strcmp(b->eff[e].agent, folder) != 0)
			continue;
		cJSON_ArrayForEach(g, jget(b->eff[e].doc, "grants")) {
			const cJSON *bi = jget(g, "binding"), *ro = jget(g, "role"), *su = jget(g, "subject");
			const char *scope = jstr(g, "scope");

			/* a RoleBinding's grant holds in the binding's namespace */
			if (scope != NULL && strcmp(scope, "namespace") == 0)
				scope = jhas(bi, "namespace") ? jstr(bi, "namespace") :
				    jstr(b->eff[e].doc, "namespace");
			int via_group = strcmp(jstr0(su, "kind"), "ServiceAccount") != 0;
			int ri = (int)jnum(g, "ruleIndex", -1), bn, rn, pn;
			char bkey[700], rkey[700];

			kc_buf_reset(tmp);
			ref_text(tmp, bi);
			snprintf(bkey, sizeof(bkey), "%s", kc_buf_str(tmp));
			kc_buf_reset(tmp);
			if (via_group) {
				/* fold unless a finding names this grant */
				if (grant_findings(fs, ns, name, bi, ro, ri, NULL) == 5) {
					if (strstr(kc_buf_str(&gbind), bkey) == NULL) {
						kc_buf_addf(&gbind, "%s%s", gbind.len ? ", " : "", jstr0(bi, "name"));
						ngroup++;
					}
					if (strstr(kc_buf_str(&groups), jstr0(su, "name")) == NULL)
						kc_buf_addf(&groups, "%s%s", groups.len ? ", " : "", jstr0(su, "name"));
					continue;
				}
			}
			if ((bn = tree_find(t, root, bkey)) < 0) {
				bn = tree_add(t, root, bkey, 0);
				label_binding(t, bn, bi, tmp);
				if (via_group) {
					kc_buf_addf(tmp, "via group %s", jstr0(su, "name"));
					tree_setb(t, bn, 2, tmp);
				}
			}
			ref_text(tmp, ro);
			snprintf(rkey, sizeof(rkey), "%s", kc_buf_str(tmp));
			kc_buf_reset(tmp);
			if ((rn = tree_find(t, bn, rkey)) < 0) {
				rn = tree_add(t, bn, rkey, 0);
				label_role(t, rn, ro, tmp);
			}
			kc_buf_addf(tmp, "rule %d @%s", ri, scope ? scope : "");
			if (tree_find(t, rn, kc_buf_str(tmp)) >= 0) {
				kc_buf_reset(tmp);
				continue;	/* the same grant seen from another namespace */
			}
			pn = tree_add(t, rn, kc_buf_str(tmp), 0);
			kc_buf_reset(tmp);
			label_rule(t, pn, jget(g, "rule"), scope, tmp);
			mark_findings(t, pn, fs, ns, name, bi, ro, ri, tmp);
			if (pn >= 0 && t->err == 0) {
				kc_buf_adds(tmp, jstr0(g, "reason"));
				tree_setb(t, pn, -2, tmp);
			}
		}
	}
	if (ngroup > 0) {
		int gn = tree_add(t, root, "(groups)", KC_SVG_MUTED);

		kc_buf_addf(tmp, "via groups: %d binding%s", ngroup, ngroup == 1 ? "" : "s");
		tree_setb(t, gn, 0, tmp);
		tree_set(t, gn, 1, kc_buf_str(&groups));
		tree_set(t, gn, 2, kc_buf_str(&gbind));
		kc_buf_addf(tmp, "Bindings to groups the account belongs to (%s), with no finding: %s",
		    kc_buf_str(&groups), kc_buf_str(&gbind));
		tree_setb(t, gn, -2, tmp);
		tree_set(t, gn, -1, "no finding");
	}
	kc_buf_free(&groups);
	kc_buf_free(&gbind);
}

/* Diff permissions compacted for drawing: verbs merged per resource, then
 * resources merged per verb set. */
struct cperm {
	char *verbs, *what, *where;
	unsigned flags;
	int sev;
	const cJSON *perm;	/* one example permission (for findings) */
};

struct cperms {
	struct cperm *v;
	size_t n, cap;
};

static void
cperms_free(struct cperms *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].verbs);
		free(c->v[i].what);
		free(c->v[i].where);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static void
perm_what(struct kc_buf *b, const cJSON *p)
{
	const char *url = jstr(p, "url"), *g = jstr(p, "apiGroup"), *n = jstr(p, "name");

	if (url != NULL) {
		kc_buf_adds(b, url);
		return;
	}
	if (g != NULL && *g)
		kc_buf_addf(b, "%s/", g);
	kc_buf_adds(b, jstr0(p, "resource"));
	if (n != NULL && *n && strcmp(n, "*") != 0)
		kc_buf_addf(b, " [%s]", n);
}

static void
perm_where(struct kc_buf *b, const cJSON *p)
{
	const char *ns = jstr(p, "namespace");

	if (jstr(p, "url") != NULL)
		kc_buf_adds(b, "non-resource URL");
	else if (ns == NULL || strcmp(ns, "*") == 0 || *ns == '\0')
		kc_buf_adds(b, "cluster-wide");
	else
		kc_buf_addf(b, "in %s", ns);
}

/* Append perm to c as it is; cperms_merge compacts. */
static int
cperms_add(struct cperms *c, const cJSON *p, unsigned flags, int sev)
{
	struct kc_buf what = KC_BUF_INIT(4096), where = KC_BUF_INIT(512);
	struct cperm *x;
	int r = 0;

	if (KC_GROW(c->v, c->cap, c->n + 1) != 0)
		return KC_ERR_NOMEM;
	perm_what(&what, p);
	perm_where(&where, p);
	x = &c->v[c->n++];
	x->verbs = kc_strdup(jstr0(p, "verb"));
	x->what = kc_buf_take(&what, NULL);
	x->where = kc_buf_take(&where, NULL);
	x->flags = flags;
	x->sev = sev;
	x->perm = p;
	if (x->verbs == NULL || x->what == NULL || x->where == NULL)
		r = KC_ERR_NOMEM;
	kc_buf_free(&what);
	kc_buf_free(&where);
	return r;
}

static int
cmp_by_what(const void *a, const void *b)
{
	const struct cperm *x = a, *y = b;
	int d;

	if (x->flags != y->flags)
		return x->flags < y->flags ? -1 : 1;
	if ((d = strcmp(x->where, y->where)) != 0 || (d = strcmp(x->what, y->what)) != 0)
		return d;
	return strcmp(x->verbs, y->verbs);
}

static int
cmp_by_verbs(const void *a, const void *b)
{
	const struct cperm *x = a, *y = b;
	int d;

	if (x->flags != y->flags)
		return x->flags < y->flags ? -1 : 1;
	if (x->sev != y->sev)
		return x->sev - y->sev;
	if ((d = strcmp(x->where, y->where)) != 0 || (d = strcmp(x->verbs, y->verbs)) != 0)
		return d;
	return strcmp(x->what, y->what);
}

#define JOIN_MAX 600	/* bytes of a joined label before "+N more" */

/* Merge runs of entries equal under same() by joining one field
 * (field 0: verbs, 1: what) with ", "; sorted with cmp first.  Linear
 * after the sort, and each joined text is capped. */
static int
cperms_join(struct cperms *c, int (*cmp)(const void *, const void *), int field)
{
	struct kc_buf j = KC_BUF_INIT(JOIN_MAX + 64);
	size_t out = 0;

	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), cmp);
	for (size_t i = 0; i < c->n;) {
		struct cperm *x = &c->v[i];
		size_t k = i + 1, more = 0;
		char **f = field == 0 ? &x->verbs : &x->what;

		kc_buf_reset(&j);
		kc_buf_adds(&j, *f);
		for (; k < c->n; k++) {
			struct cperm *y = &c->v[k];
			char *g = field == 0 ? y->verbs : y->what;
			int same = x->flags == y->flags && strcmp(x->where, y->where) == 0 &&
			    (field == 0 ? strcmp(x->what, y->what) == 0 :
			    x->sev == y->sev && strcmp(x->verbs, y->verbs) == 0);

			if (!same)
				break;
			if (y->sev < x->sev)
				x->sev = y->sev;
			if (strcmp(g, field == 0 ? c->v[k - 1].verbs : c->v[k - 1].what) == 0)
				;	/* the same word again (sorted: next to it) */
			else if (j.len < JOIN_MAX)
				kc_buf_addf(&j, ", %s", g);
			else
				more++;
		}
		for (size_t m = i + 1; m < k; m++) {
			free(c->v[m].verbs);
			free(c->v[m].what);
			free(c->v[m].where);
		}
		if (more > 0)
			kc_buf_addf(&j, ", \xe2\x80\xa6 (+%zu)", more);
		free(*f);
		if ((*f = kc_strdup(kc_buf_str(&j))) == NULL) {
			kc_buf_free(&j);
			return KC_ERR_NOMEM;
		}
		c->v[out++] = *x;
		i = k;
	}
	c->n = out;
	kc_buf_free(&j);
	return 0;
}

/* Verbs merged per resource and place, then resources per verb set. */
static int
cperms_merge(struct cperms *c)
{
	int r = cperms_join(c, cmp_by_what, 0);

	return r != 0 ? r : cperms_join(c, cmp_by_verbs, 1);
}

/* Severity rank of the worst finding in fs (array of arrays) that names
 * this subject and grant and covers the permission; 5 when none. */
static int
perm_sev(const cJSON *const *fss, int nfs, const char *ns, const char *name, const cJSON *p,
    const cJSON *binding, const cJSON *role)
{
	int best = 5;

	for (int k = 0; k < nfs; k++) {
		const cJSON *f;

		cJSON_ArrayForEach(f, fss[k]) {
			const cJSON *rule = jget(f, "rule");
			const char *url = jstr(p, "url");

			if (cJSON_IsObject(jget(f, "finding")))
				f = jget(f, "finding");	/* AGR-025 wraps the finding */
			rule = jget(f, "rule");
			if (!subject_is(f, ns, name) || !same_ref(jget(f, "binding"), binding, 0) ||
			    !same_ref(jget(f, "role"), role, 0))
				continue;
			if (url != NULL ? !str_in(jget(rule, "nonResourceURLs"), url) :
			    (!str_in(jget(rule, "resources"), jstr0(p, "resource")) &&
			    strcmp(jstr0(p, "resource"), "*") != 0))
				continue;
			if (!str_in(jget(rule, "verbs"), jstr0(p, "verb")) && strcmp(jstr0(p, "verb"), "*") != 0)
				continue;
			if (sev_rank(jstr(f, "severity")) < best)
				best = sev_rank(jstr(f, "severity"));
		}
	}
	return best;
}

static const char *
rank_name(int r)
{
	static const char *const n[] = { "critical", "high", "medium", "low", "info", "finding" };

	return n[r < 0 || r > 5 ? 5 : r];
}

/* Add the permissions of one diff list (removed, kept or added) of an
 * agent under binding -> role nodes of t, creating the nodes that are
 * missing with flags.  Leaves carry leaf_flags. */
static void
tree_add_perms(struct tree *t, int root, const cJSON *agent, const char *list, unsigned node_flags,
    unsigned leaf_flags, const cJSON *diff, struct kc_buf *tmp)
{
	const cJSON *fss[3] = {
		jget(diff, "findings.resolved"), jget(diff, "findings.persisting"), jget(diff, "findings.new")
	};
	const char *ns = jstr0(agent, "namespace"), *name = jstr0(agent, "name");
	const cJSON *p;
	/* group the permissions per (binding, role) */
	struct grp {
		const cJSON *binding, *role;
		struct cperms c;
	} *gs = NULL;
	size_t ng = 0, gcap = 0;

	cJSON_ArrayForEach(p, jget(agent, list)) {
		const cJSON *g;

		cJSON_ArrayForEach(g, jget(p, "grants")) {
			const cJSON *bi = jget(g, "binding"), *ro = jget(g, "role");
			size_t k;
			int sev;

			for (k = 0; k < ng; k++)
				if (same_ref(gs[k].binding, bi, 1) && same_ref(gs[k].role, ro, 0))
					break;
			if (k == ng) {
				if (KC_GROW(gs, gcap, ng + 1) != 0) {
					t->err = KC_ERR_NOMEM;
					goto out;
				}
				memset(&gs[ng], 0, sizeof(gs[ng]));
				gs[ng].binding = bi;
				gs[ng].role = ro;
				ng++;
			}
			sev = perm_sev(fss, 3, ns, name, p, bi, ro);
			if (cperms_add(&gs[k].c, p, leaf_flags | sev_flag(sev), sev) != 0)
				t->err = KC_ERR_NOMEM;
		}
	}
	for (size_t k = 0; k < ng && t->err == 0; k++) {
		int bn, rn;

		if (cperms_merge(&gs[k].c) != 0) {
			t->err = KC_ERR_NOMEM;
			break;
		}
		key_of(tmp, gs[k].binding);
		if ((bn = tree_find(t, root, kc_buf_str(tmp))) < 0) {
			bn = tree_add(t, root, kc_buf_str(tmp), node_flags);
			kc_buf_reset(tmp);
			label_binding(t, bn, gs[k].binding, tmp);
			if (node_flags & KC_SVG_REMOVED)
				tree_set(t, bn, -1, "removed");
			else if (node_flags & KC_SVG_ADDED)
				tree_set(t, bn, -1, "new after remediation");
		}
		key_of(tmp, gs[k].role);
		if ((rn = tree_find(t, bn, kc_buf_str(tmp))) < 0) {
			rn = tree_add(t, bn, kc_buf_str(tmp), node_flags);
			kc_buf_reset(tmp);
			label_role(t, rn, gs[k].role, tmp);
		}
		kc_buf_reset(tmp);
		for (size_t i = 0; i < gs[k].c.n; i++) {
			struct cperm *c = &gs[k].c.v[i];
			int pn;

			kc_buf_addf(tmp, "%s|%s|%s|%s", list, c->verbs, c->what, c->where);
			pn = tree_add(t, rn, kc_buf_str(tmp), c->flags);
			kc_buf_reset(tmp);
			tree_set(t, pn, 0, strcmp(c->verbs, "*") == 0 ? "* (every verb)" : c->verbs);
			tree_set(t, pn, 1, strcmp(c->what, "*/*") == 0 ? "* (every resource, every API group)" :
			    strcmp(c->what, "*") == 0 ? "* (every core resource)" : c->what);
			tree_set(t, pn, 2, c->where);
			if (c->flags & KC_SVG_REMOVED)
				kc_buf_addf(tmp, "removed%s%s", c->sev < 5 ? " \xc2\xb7 was " : "",
				    c->sev < 5 ? rank_name(c->sev) : "");
			else if (c->flags & KC_SVG_ADDED)
				kc_buf_addf(tmp, "added%s%s", c->sev < 5 ? " \xc2\xb7 " : "",
				    c->sev < 5 ? rank_name(c->sev) : "");
			else if (c->sev < 5)
				kc_buf_addf(tmp, "kept \xc2\xb7 %s", rank_name(c->sev));
			if (tmp->len > 0)
				tree_setb(t, pn, -1, tmp);
			if (pn >= 0 && c->sev < t->v[pn].sev)
				t->v[pn].sev = c->sev;
			kc_buf_addf(tmp, "%s: %s %s (%s)", list, c->verbs, c->what, c->where);
			tree_setb(t, pn, -2, tmp);
		}
	}
out:
	for (size_t k = 0; k < ng; k++)
		cperms_free(&gs[k].c);
	free(gs);
}

static const cJSON *
diff_agent(const cJSON *diff, const char *ns, const char *name)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, jget(diff, "agents"))
		if (strcmp(jstr0(a, "namespace"), ns) == 0 && strcmp(jstr0(a, "name"), name) == 0)
			return a;
	return NULL;
}

struct bkey {
	const char *key;
	size_t node;
	unsigned lists;		/* 1 added, 2 kept, 4 removed */
};

static int
cmp_bkey(const void *a, const void *b)
{
	return strcmp(((const struct bkey *)a)->key, ((const struct bkey *)b)->key);
}

/* In the report with a diff: bindings that only the added list names are
 * new; the removed permissions are drawn grey and struck through.  One
 * pass over the diff's permissions, each binding looked up by bsearch. */
static void
tree_overlay_diff(struct tree *t, const cJSON *agent, const cJSON *diff, struct kc_buf *tmp)
{
	static const char *const lists[] = { "added", "kept", "removed" };
	struct bkey *k = NULL, probe;
	size_t nk = 0;

	if (t->err != 0 || (k = kc_calloc(t->n + 1, sizeof(*k))) == NULL) {
		t->err = t->err ? t->err : KC_ERR_NOMEM;
		return;
	}
	for (size_t i = 1; i < t->n; i++)
		if (t->v[i].parent == 0 && !(t->v[i].flags & KC_SVG_MUTED))
			k[nk++] = (struct bkey){ t->v[i].key, i, 0 };
	if (nk > 1)
		qsort(k, nk, sizeof(*k), cmp_bkey);
	for (int l = 0; l < 3 && nk > 0; l++) {
		const cJSON *p, *g;

		cJSON_ArrayForEach(p, jget(agent, lists[l]))
			cJSON_ArrayForEach(g, jget(p, "grants")) {
				struct bkey *hit;

				key_of(tmp, jget(g, "binding"));
				probe.key = kc_buf_str(tmp);
				if ((hit = bsearch(&probe, k, nk, sizeof(*k), cmp_bkey)) != NULL)
					hit->lists |= 1u << l;
			}
	}
	kc_buf_reset(tmp);
	for (size_t i = 0; i < nk; i++) {
		if (k[i].lists != 1)
			continue;
		t->v[k[i].node].flags |= KC_SVG_ADDED;
		if (t->v[k[i].node].tag == NULL)
			tree_set(t, (int)k[i].node, -1, "new after remediation");
	}
	free(k);
	tree_add_perms(t, 0, agent, "removed", KC_SVG_REMOVED, KC_SVG_REMOVED, diff, tmp);
}

/* The diff page's tree: everything from the diff; bindings that are kept
 * unchanged and carry no finding are folded into one grey box. */
static void
tree_from_diff(struct tree *t, const cJSON *agent, const cJSON *diff, struct kc_buf *tmp)
{
	const char *ns = jstr0(agent, "namespace"), *name = jstr0(agent, "name");
	struct tree full = { 0 };
	struct kc_buf folded = KC_BUF_INIT(4096);
	int root, nfold = 0;
	char *keep = NULL;	/* 1: something under the node is flagged or changed */
	int *idx = NULL;	/* the node's index in t, -1 when folded */

	kc_buf_addf(tmp, "%s/%s", ns, name);
	root = tree_add(&full, -1, kc_buf_str(tmp), 0);
	tree_set(&full, root, 0, name);
	kc_buf_reset(tmp);
	tree_set(&full, root, 1, "ServiceAccount");
	kc_buf_addf(tmp, "in %s", ns);
	tree_setb(&full, root, 2, tmp);
	kc_buf_addf(tmp, "ServiceAccount %s/%s", ns, name);
	tree_setb(&full, root, -2, tmp);
	tree_add_perms(&full, root, agent, "kept", 0, 0, diff, tmp);
	tree_add_perms(&full, root, agent, "added", KC_SVG_ADDED, KC_SVG_ADDED, diff, tmp);
	tree_add_perms(&full, root, agent, "removed", KC_SVG_REMOVED, KC_SVG_REMOVED, diff, tmp);
	if (full.err != 0 || (keep = kc_calloc(full.n, 1)) == NULL ||
	    (idx = kc_calloc(full.n, sizeof(*idx))) == NULL) {
		t->err = full.err ? full.err : KC_ERR_NOMEM;
		goto out;
	}
	for (size_t i = full.n; i-- > 1;) {
		const struct tnode *x = &full.v[i];

		if (keep[i] || x->sev < 5 ||
		    (x->flags & (KC_SVG_DANGER | KC_SVG_WARN | KC_SVG_ADDED | KC_SVG_REMOVED)))
			keep[x->parent] = 1;
		if (keep[i] || x->sev < 5 || (x->flags & (KC_SVG_ADDED | KC_SVG_REMOVED)))
			keep[i] = 1;
	}
	for (size_t i = 0; i < full.n && t->err == 0; i++) {
		const struct tnode *x = &full.v[i];
		int parent = i == 0 ? -1 : idx[x->parent];

		if (i > 0 && (parent < 0 || (x->parent == 0 && !keep[i]))) {
			if (parent >= 0) {
				kc_buf_addf(&folded, "%s%s", folded.len ? ", " : "",
				    x->line[0] ? x->line[0] : "?");
				nfold++;
			}
			idx[i] = -1;
			continue;
		}
		idx[i] = tree_add(t, parent, x->key, x->flags);
		for (int k = 0; k < KC_SVG_LINES; k++)
			if (x->line[k] != NULL)
				tree_set(t, idx[i], k, x->line[k]);
		if (x->tag != NULL)
			tree_set(t, idx[i], -1, x->tag);
		if (x->title != NULL)
			tree_set(t, idx[i], -2, x->title);
	}
	t->dropped += full.dropped;
	if (nfold > 0 && t->err == 0) {
		int gn = tree_add(t, 0, "(unchanged)", KC_SVG_MUTED);

		kc_buf_addf(tmp, "%d unchanged binding%s", nfold, nfold == 1 ? "" : "s");
		tree_setb(t, gn, 0, tmp);
		tree_set(t, gn, 1, kc_buf_str(&folded));
		tree_set(t, gn, 2, "kept, no finding");
		kc_buf_addf(tmp, "Kept without change and without a finding: %s", kc_buf_str(&folded));
		tree_setb(t, gn, -2, tmp);
	}
out:
	free(keep);
	free(idx);
	tree_free(&full);
	kc_buf_free(&folded);
}

/* ------------------------------------------------------------------ */
/* page frame */

static const char CSS[] =
":root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f5f7fa;--red:#b91c1c;--amber:#b45309;"
"--green:#15803d;--blue:#1d4ed8}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;background:var(--bg);color:var(--fg);"
"font:14px/1.45 \"DejaVu Sans\",system-ui,-apple-system,\"Segoe UI\",Helvetica,Arial,sans-serif}\n"
"main{max-width:1360px;margin:0 auto;padding:22px 28px 40px}\n"
"h1{font-size:24px;margin:0 0 2px}\n"
"h2{font-size:18px;margin:30px 0 10px;padding-bottom:5px;border-bottom:2px solid #cbd5e1}\n"
"h3{font-size:15px;margin:18px 0 6px}\n"
".sub{color:var(--muted);margin:0 0 10px}\n"
"code,.mono{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace;font-size:12px;"
"overflow-wrap:anywhere}\n"
"nav.toc{margin:8px 0 4px;font-size:13px}\n"
"nav.toc a{color:var(--blue);text-decoration:none;margin-right:14px;white-space:nowrap}\n"
".banner{border-radius:8px;padding:12px 18px;margin:10px 0;border:1px solid}\n"
".banner .big{font-size:20px;font-weight:800;letter-spacing:.5px;margin-right:12px}\n"
".banner.ok{background:#f0fdf4;border-color:#86efac;color:#14532d}\n"
".banner.warn{background:#fffbeb;border-color:#fcd34d;color:#78350f}\n"
".banner.bad{background:#b91c1c;border-color:#7f1d1d;color:#fff}\n"
".banner.info{background:#f8fafc;border-color:#cbd5e1;color:#334155}\n"
".banner p{margin:6px 0 0}\n"
".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:10px;margin:14px 0}\n"
".card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px}\n"
".card .k{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.5px}\n"
".card .v{font-size:21px;font-weight:700;margin-top:2px}\n"
".card .n{font-size:12px;color:var(--muted)}\n"
".card.bad{border-color:#fca5a5;background:#fef2f2}.card.bad .v{color:var(--red)}\n"
".card.warn{border-color:#fcd34d;background:#fffbeb}.card.warn .v{color:var(--amber)}\n"
".card.ok{border-color:#86efac;background:#f0fdf4}.card.ok .v{color:var(--green)}\n"
".grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:14px}\n"
"table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);"
"margin:6px 0 4px;font-size:13px}\n"
"th,td{text-align:left;vertical-align:top;padding:5px 9px;border-bottom:1px solid var(--line)}\n"
"thead th{background:#eef2f7;font-size:12px;color:#334155;white-space:nowrap}\n"
"table.kv th{width:34%;background:#f8fafc;font-weight:600;color:#334155;font-size:12.5px}\n"
"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
"tr.agent td{background:#fff7ed}\n"
"tr.row-critical td:first-child,tr.row-high td:first-child{border-left:4px solid #dc2626}\n"
"tr.row-medium td:first-child{border-left:4px solid #d97706}\n"
".sev{display:inline-block;border-radius:999px;padding:0 9px;font-size:12px;font-weight:700;"
"color:#fff;white-space:nowrap}\n"
".sev-critical{background:#7f1d1d}.sev-high{background:#dc2626}.sev-medium{background:#d97706}"
".sev-low{background:#2563eb}.sev-info{background:#64748b}\n"
".pill{display:inline-block;border-radius:4px;padding:0 7px;font-size:12px;font-weight:700;"
"white-space:nowrap}\n"
".pill.ok{background:#dcfce7;color:#166534}.pill.bad{background:#dc2626;color:#fff}"
".pill.skip{background:#e2e8f0;color:#475569}.pill.warn{background:#fef3c7;color:#92400e}"
".pill.new{background:#dbeafe;color:#1e40af}\n"
".kind{color:var(--muted);font-size:12px}\n"
".none{color:#94a3b8}\n"
".bad{color:var(--red);font-weight:700}\n"
".good{color:var(--green);font-weight:700}\n"
".struck{text-decoration:line-through;color:var(--muted)}\n"
".note{color:var(--muted);font-size:12.5px}\n"
".problems{background:#fef2f2;border:1px solid #fca5a5;border-radius:6px;padding:8px 14px;"
"color:#7f1d1d}\n"
".svgwrap{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:8px;"
"padding:4px;margin:6px 0 16px}\n"
".legend{font-size:12.5px;color:#334155;margin:4px 0 8px}\n"
".sw{display:inline-block;width:26px;height:12px;border-radius:3px;"
"vertical-align:middle;margin:0 5px 0 12px;border:2px solid}\n"
".sw.danger{background:#fee2e2;border-color:#dc2626}.sw.warn{background:#fef3c7;border-color:#d97706}"
".sw.removed{background:#f8fafc;border-color:#94a3b8;border-style:dashed}"
".sw.added{background:#eff6ff;border-color:#2563eb}.sw.normal{background:#fff;border-color:#94a3b8}"
".sw.muted{background:#f8fafc;border-color:#cbd5e1;border-style:dotted}\n"
"details{margin:4px 0}summary{cursor:pointer;color:var(--blue)}\n"
"ul.plain{margin:4px 0;padding-left:18px}\n"
"footer{margin-top:36px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);"
"padding-top:8px}\n"
"@media print{body{background:#fff}main{max-width:none;padding:0}.svgwrap{overflow:visible}}\n";

static void
page_open(struct w *w, const char *title)
{
	raw(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'; img-src data:\"/>\n");
	rawf(w, "<meta name=\"generator\" content=\"kcustody %s\"/>\n<title>", KC_VERSION);
	text(w, title);
	raw(w, "</title>\n<style>\n");
	raw(w, CSS);
	raw(w, "</style>\n</head>\n<body><main>\n");
}

static void
page_close(struct w *w, time_t generated)
{
	char tb[40];

	rawf(w, "<footer>Written by kcustody %s", KC_VERSION);
	if (generated != 0)
		rawf(w, " at %s", kc_fmt_rfc3339(generated, tb, sizeof(tb)));
	raw(w, ". A self-contained page: no script, no external resource. Every value is "
	    "quoted from the evidence and escaped.</footer>\n</main></body></html>\n");
}

static void
kv(struct w *w, const char *k, const char *v)
{
	rawf(w, "<tr><th>%s</th><td>", k);
	text_or_dash(w, v);
	raw(w, "</td></tr>\n");
}

static void
kv_mono(struct w *w, const char *k, const char *v)
{
	rawf(w, "<tr><th>%s</th><td><code>", k);
	text_or_dash(w, v);
	raw(w, "</code></td></tr>\n");
}

static void
kv_json(struct w *w, const char *k, const cJSON *v)
{
	rawf(w, "<tr><th>%s</th><td>", k);
	jtext(w, v);
	raw(w, "</td></tr>\n");
}

/* kc: the path of the value in the diff or findings document it was read
 * from, written as data-kc so that a test can hold every number and
 * verdict on the page against that document (one source of truth). */
static void
card_kc(struct w *w, const char *cls, const char *k, const char *v, const char *note, const char *kc)
{
	rawf(w, "<div class=\"card %s\"><div class=\"k\">%s</div><div class=\"v\"", cls, k);
	if (kc != NULL)
		rawf(w, " data-kc=\"%s\"", kc);
	raw(w, ">");
	text_or_dash(w, v);
	raw(w, "</div>");
	if (note != NULL && *note) {
		raw(w, "<div class=\"n\">");
		text(w, note);
		raw(w, "</div>");
	}
	raw(w, "</div>\n");
}

static void
card(struct w *w, const char *cls, const char *k, const char *v, const char *note)
{
	card_kc(w, cls, k, v, note, NULL);
}

static void
status_pill(struct w *w, const char *st)
{
	const char *cls = "bad";

	if (st == NULL)
		st = "";
	if (strcmp(st, "complete") == 0 || strcmp(st, "ok") == 0 || strcmp(st, "valid") == 0 ||
	    strcmp(st, "trusted") == 0)
		cls = "ok";
	else if (strcmp(st, "skipped") == 0 || strcmp(st, "") == 0)
		cls = "skip";
	rawf(w, "<span class=\"pill %s\">", cls);
	text_or_dash(w, st);
	raw(w, "</span>");
}

/* A table for an array of objects of unknown shape: one column per key,
 * in the order first seen. */
static void
generic_table(struct w *w, const cJSON *arr, const char *cls)
{
	const char *cols[32];
	int ncol = 0, rows = 0;
	const cJSON *o, *x;

	cJSON_ArrayForEach(o, arr) {
		if (!cJSON_IsObject(o)) {
			if (ncol == 0)
				cols[ncol++] = "value";
			continue;
		}
		cJSON_ArrayForEach(x, o) {
			int k;

			for (k = 0; k < ncol; k++)
				if (strcmp(cols[k], x->string) == 0)
					break;
			if (k == ncol && ncol < 32)
				cols[ncol++] = x->string;
		}
	}
	rawf(w, "<table class=\"%s\"><thead><tr>", cls);
	for (int k = 0; k < ncol; k++) {
		raw(w, "<th>");
		text(w, cols[k]);
		raw(w, "</th>");
	}
	raw(w, "</tr></thead><tbody>\n");
	cJSON_ArrayForEach(o, arr) {
		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		raw(w, "<tr>");
		for (int k = 0; k < ncol; k++) {
			raw(w, "<td>");
			jtext(w, cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, cols[k]) : o);
			raw(w, "</td>");
		}
		raw(w, "</tr>\n");
	}
	raw(w, "</tbody></table>\n");
	if (rows > KC_REPORT_ROWS_MAX)
		rawf(w, "<p class=\"note\">%d more rows not shown.</p>\n",
		    cJSON_GetArraySize(arr) - KC_REPORT_ROWS_MAX);
}

static void
more_rows(struct w *w, int shown, int total)
{
	if (total > shown)
		rawf(w, "<p class=\"note\">%d more rows not shown (the bundle holds them all).</p>\n",
		    total - shown);
}

/* ------------------------------------------------------------------ */
/* verification */

static const char *
check_state(enum kc_check_state s)
{
	return s == KC_CHECK_OK ? "ok" : s == KC_CHECK_FAILED ? "FAILED" : "skipped";
}

static const struct kc_check *
first_failed(const struct kc_verify_result *vr)
{
	for (int i = 0; i < KC_CHECK_COUNT; i++)
		if (vr->checks[i].state == KC_CHECK_FAILED)
			return &vr->checks[i];
	return NULL;
}

/* Everything checked out but the signature, which could not be checked
 * because no trusted key was given: not INVALID, UNVERIFIED. */
static int
unverified_only(const struct kc_verify_result *vr)
{
	if (vr == NULL || vr->valid || !vr->no_key)
		return 0;
	for (int i = 0; i < KC_CHECK_COUNT; i++)
		if (i != KC_CHECK_SIGNATURE && vr->checks[i].state == KC_CHECK_FAILED)
			return 0;
	return vr->checks[KC_CHECK_STRUCTURE].state == KC_CHECK_OK;
}

static void
verify_banner(struct w *w, const char *what, const struct kc_verify_result *vr, const char *why)
{
	if (unverified_only(vr)) {
		raw(w, "<div class=\"banner warn\" id=\"verification-banner\"><span class=\"big\">UNVERIFIED"
		    "</span>");
		text(w, what);
		raw(w, ": structure, hashes and manifest check out, but the signature was not checked "
		    "(no key given: pass --pubkey or --ca). Nothing on this page is attested by a signer.</div>\n");
	} else if (vr == NULL) {
		raw(w, "<div class=\"banner warn\" id=\"verification-banner\"><span class=\"big\">NOT VERIFIED</span>");
		text(w, what);
		raw(w, " was not checked");
		if (why != NULL) {
			raw(w, " (");
			text(w, why);
			raw(w, ")");
		}
		raw(w, ": nothing on this page is attested by its hashes or its signature.</div>\n");
	} else if (vr->valid) {
		const struct kc_check *sig = &vr->checks[KC_CHECK_SIGNATURE];

		raw(w, "<div class=\"banner ok\" id=\"verification-banner\"><span class=\"big\">VALID</span>");
		text(w, what);
		raw(w, ": structure, hashes and manifest check out");
		if (sig->state == KC_CHECK_OK) {
			raw(w, "; signed by <code>");
			text(w, vr->signer[0] ? vr->signer : "(unnamed signer)");
			raw(w, "</code>");
		} else {
			raw(w, "; <strong>signature not checked</strong> (integrity only)");
		}
		if (vr->checks[KC_CHECK_TIMESTAMP].state == KC_CHECK_OK && vr->tsa_time[0]) {
			raw(w, "; time-stamped ");
			text(w, vr->tsa_time);
		}
		raw(w, ".</div>\n");
	} else {
		const struct kc_check *f = first_failed(vr);

		raw(w, "<div class=\"banner bad\" id=\"verification-banner\"><span class=\"big\">INVALID</span>");
		text(w, what);
		raw(w, " failed verification");
		if (f != NULL) {
			raw(w, ": ");
			text(w, f->name);
			raw(w, " check failed");
			if (f->detail[0]) {
				raw(w, " (");
				text(w, f->detail);
				raw(w, ")");
			}
		}
		raw(w, ".<p>Treat everything below as untrusted: it is shown for the investigation of "
		    "the damage, not as evidence.</p></div>\n");
	}
}

static void
verify_table(struct w *w, const char *caption, const char *path, const struct kc_verify_result *vr,
    const char *why)
{
	char nb[64];

	raw(w, "<h3>");
	text(w, caption);
	raw(w, "</h3>\n<table class=\"kv\"><tbody>\n");
	kv_mono(w, "file", path);
	if (vr == NULL) {
		raw(w, "<tr><th>result</th><td><span class=\"pill warn\">not verified</span> ");
		text(w, why != NULL ? why : "");
		raw(w, "</td></tr>\n</tbody></table>\n");
		return;
	}
	rawf(w, "<tr><th>result</th><td><span class=\"pill %s\">%s</span></td></tr>\n",
	    vr->valid ? "ok" : unverified_only(vr) ? "warn" : "bad",
	    vr->valid ? "valid" : unverified_only(vr) ? "unverified (no key given)" : "INVALID");
	kv_mono(w, "top folder", vr->top);
	snprintf(nb, sizeof(nb), "%zu members, %llu bytes", vr->members, (unsigned long long)vr->bytes);
	kv(w, "contents", nb);
	kv(w, "signature kind", vr->sig_kind == KC_SIG_ED25519 ? "Ed25519" : vr->sig_kind == KC_SIG_CMS ?
	    "CMS" : "none");
	kv_mono(w, "signer", vr->signer);
	kv(w, "time-stamp", vr->tsa_time);
	raw(w, "</tbody></table>\n<table class=\"checks\"><thead><tr><th>check</th><th>result</th>"
	    "<th>detail</th></tr></thead><tbody>\n");
	for (int i = 0; i < KC_CHECK_COUNT; i++) {
		const struct kc_check *c = &vr->checks[i];

		raw(w, "<tr><td>");
		text(w, c->name);
		raw(w, "</td><td>");
		rawf(w, "<span class=\"pill %s\">%s</span>", c->state == KC_CHECK_OK ? "ok" :
		    c->state == KC_CHECK_FAILED ? "bad" : "skip", check_state(c->state));
		raw(w, "</td><td>");
		text_or_dash(w, c->detail);
		raw(w, "</td></tr>\n");
	}
	raw(w, "</tbody></table>\n");
}

static void
ledger_section(struct w *w, const struct kc_report_in *in)
{
	const cJSON *e, *x;
	int rows = 0;

	raw(w, "<h3>Custody ledger</h3>\n");
	if (in->ledger_skipped) {
		raw(w, "<p class=\"note\"><span class=\"pill warn\">not checked</span> (");
		text(w, in->vr == NULL && in->no_verify_reason != NULL ? in->no_verify_reason : "--no-ledger");
		raw(w, ")</p>\n");
		return;
	}
	if (in->ledger_status == KC_ERR_NOTFOUND && in->ledger == NULL) {
		raw(w, "<p class=\"note\">No custody ledger ");
		if (in->ledger_path != NULL) {
			raw(w, "at <code>");
			text(w, in->ledger_path);
			raw(w, "</code>.</p>\n");
		} else {
			raw(w, "beside the bundle (<code>");
			text(w, in->bundle_path);
			raw(w, ".custody.jsonl</code>).</p>\n");
		}
		return;
	}
	if (in->ledger_path != NULL) {
		raw(w, "<p class=\"note\">Ledger <code>");
		text(w, in->ledger_path);
		raw(w, "</code></p>\n");
	}
	if (in->ledger == NULL) {
		raw(w, "<p class=\"bad\">The custody ledger could not be read: ");
		text(w, in->ledger_error != NULL ? in->ledger_error : "unknown error");
		raw(w, "</p>\n");
		return;
	}
	if (in->ledger_status == 0 && jtrue(in->ledger, "verified"))
		raw(w, "<p><span class=\"pill ok\">chain verified</span> ");
	else
		raw(w, "<p><span class=\"pill bad\">CHAIN BROKEN</span> ");
	rawf(w, "%d entr%s", (int)jnum(in->ledger, "entries", 0),
	    (int)jnum(in->ledger, "entries", 0) == 1 ? "y" : "ies");
	raw(w, jtrue(in->ledger, "trust_checked") ? ", signers checked against a trust list" :
	    ", signatures checked against the keys in the entries (no trust list given)");
	if (jget(in->ledger, "custodian.name") != NULL) {
		raw(w, "; current custodian: ");
		text(w, jstr(in->ledger, "custodian.name"));
	}
	raw(w, ".</p>\n");
	if (cJSON_GetArraySize(jget(in->ledger, "problems")) > 0) {
		raw(w, "<div class=\"problems\"><strong>Problems</strong><ul class=\"plain\">");
		cJSON_ArrayForEach(x, jget(in->ledger, "problems")) {
			rawf(w, "<li>line %d: ", (int)jnum(x, "line", 0));
			text(w, jstr(x, "reason"));
			raw(w, "</li>");
		}
		raw(w, "</ul></div>\n");
	}
	cJSON_ArrayForEach(x, jget(in->ledger, "warnings")) {
		rawf(w, "<p class=\"note\">line %d: ", (int)jnum(x, "line", 0));
		text(w, jstr(x, "reason"));
		raw(w, "</p>\n");
	}
	raw(w, "<table id=\"custody-ledger\"><thead><tr><th class=\"num\">seq</th><th>time (UTC)</th>"
	    "<th>action</th><th>actor</th><th>key</th><th>from \xe2\x86\x92 to</th><th>purpose</th>"
	    "<th>location</th><th>method</th><th>signature</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(e, jget(in->ledger, "history")) {
		const char *sig = jstr0(e, "signature");

		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		rawf(w, "<tr><td class=\"num\">%d</td><td>", (int)jnum(e, "seq", 0));
		text_or_dash(w, jstr(e, "time"));
		raw(w, "</td><td><strong>");
		text_or_dash(w, jstr(e, "action"));
		raw(w, "</strong></td><td>");
		text_or_dash(w, jstr(e, "actor.name"));
		if (jhas(e, "actor.organisation")) {
			raw(w, " <span class=\"kind\">(");
			text(w, jstr(e, "actor.organisation"));
			raw(w, ")</span>");
		}
		if (jhas(e, "actor.trusted_as")) {
			raw(w, "<br/><span class=\"kind\">trusted as ");
			text(w, jstr(e, "actor.trusted_as"));
			raw(w, "</span>");
		}
		raw(w, "</td><td><code>");
		text_or_dash(w, jstr(e, "actor.key_fingerprint"));
		raw(w, "</code></td><td>");
		text(w, jstr(e, "from"));
		if (jhas(e, "from") || jhas(e, "to"))
			raw(w, " \xe2\x86\x92 ");
		text(w, jstr(e, "to"));
		raw(w, "</td><td>");
		text_or_dash(w, jstr(e, "purpose"));
		raw(w, "</td><td>");
		text_or_dash(w, jstr(e, "location"));
		raw(w, "</td><td>");
		text_or_dash(w, jstr(e, "method"));
		raw(w, "</td><td>");
		rawf(w, "<span class=\"pill %s\">", strcmp(sig, "trusted") == 0 || strcmp(sig, "valid") == 0 ?
		    "ok" : strcmp(sig, "untrusted") == 0 ? "warn" : "bad");
		text_or_dash(w, sig);
		raw(w, "</span></td></tr>\n");
	}
	raw(w, "</tbody></table>\n");
	more_rows(w, KC_REPORT_ROWS_MAX, cJSON_GetArraySize(jget(in->ledger, "history")));
}

/* ------------------------------------------------------------------ */
/* case, collector, cluster */

static void
case_section(struct w *w, const struct kc_report_in *in, const struct bundle *b)
{
	const cJSON *m = b->manifest;
	char nb[96];
	double off = jnum(m, "cluster.clock.offset_seconds", 0);

	raw(w, "<section id=\"custody\"><h2>Case, collection and custody</h2>\n<div class=\"grid3\">\n");
	raw(w, "<div><h3>Case</h3><table class=\"kv\"><tbody>\n");
	kv(w, "case id", jstr(m, "case.id"));
	kv(w, "evidence id", jstr(m, "case.evidence_id"));
	kv(w, "phase", jstr(m, "case.phase"));
	kv(w, "purpose", jstr(m, "case.purpose"));
	kv(w, "authority", jstr(m, "case.authority"));
	kv(w, "operator", jstr(m, "case.operator"));
	kv_mono(w, "bundle id", jstr(m, "bundle_id"));
	kv_mono(w, "bundle file", in->bundle_path);
	kv_mono(w, "bundle SHA-256", in->bundle_sha256);
	kv(w, "collection status", jstr(m, "status"));
	if (jget(m, "retention") != NULL) {
		kv_json(w, "retain until", jget(m, "retention.retain_until"));
		kv_json(w, "legal hold", jget(m, "retention.legal_hold"));
	}
	raw(w, "</tbody></table></div>\n");

	raw(w, "<div><h3>Collector</h3><table class=\"kv\"><tbody>\n");
	snprintf(nb, sizeof(nb), "%s %s", jstr0(m, "collector.tool"), jstr0(m, "collector.version"));
	kv(w, "tool", nb);
	kv_mono(w, "executable SHA-256", jstr(m, "collector.executable_sha256"));
	kv(w, "host", jstr(m, "collector.host"));
	snprintf(nb, sizeof(nb), "%s %s %s", jstr0(m, "collector.os.sysname"),
	    jstr0(m, "collector.os.release"), jstr0(m, "collector.os.machine"));
	kv(w, "system", nb);
	kv(w, "OS user", jstr(m, "collector.os_user"));
	kv_mono(w, "run id", jstr(m, "collector.run_id"));
	kv(w, "Kubernetes user", jstr(m, "collector_identity.user"));
	kv(w, "authentication", jstr(m, "collector_identity.auth_method"));
	kv(w, "client certificate", jstr(m, "collector_identity.client_certificate_subject"));
	kv(w, "issued by", jstr(m, "collector_identity.client_certificate_issuer"));
	kv(w, "kubeconfig", jstr(m, "collector_identity.kubeconfig"));
	raw(w, "</tbody></table></div>\n");

	raw(w, "<div><h3>Cluster and times (UTC)</h3><table class=\"kv\"><tbody>\n");
	kv_mono(w, "server", jstr(m, "cluster.server"));
	kv(w, "context", jstr(m, "cluster.context"));
	kv(w, "version", jstr(m, "cluster.version"));
	kv_mono(w, "kube-system UID", jstr(m, "cluster.kube_system_uid"));
	kv_mono(w, "CA SHA-256", jstr(m, "cluster.ca_sha256"));
	rawf(w, "<tr><th>TLS</th><td>%s", jtrue(m, "cluster.tls_verified") ? "verified" :
	    "<span class=\"bad\">NOT verified</span>");
	if (jstr(m, "cluster.http_version")) {
		raw(w, ", ");
		text(w, jstr(m, "cluster.http_version"));
	}
	raw(w, "</td></tr>\n");
	kv(w, "collection started", jstr(m, "times.started"));
	kv(w, "collection finished", jstr(m, "times.finished"));
	kv(w, "server Date header", jstr(m, "cluster.clock.server_date"));
	if (jget(m, "cluster.clock.offset_seconds") != NULL) {
		snprintf(nb, sizeof(nb), "%+.3f s (server minus local; the Date header has %g s resolution)",
		    off, jnum(m, "cluster.clock.resolution_seconds", 1));
		rawf(w, "<tr><th>clock offset</th><td%s>", off > 5 || off < -5 ? " class=\"bad\"" : "");
		text(w, nb);
		raw(w, "</td></tr>\n");
	} else {
		kv(w, "clock offset", NULL);
	}
	raw(w, "</tbody></table></div>\n</div>\n");
	if (cJSON_IsObject(jget(m, "custody"))) {
		const cJSON *x;

		raw(w, "<h3>Collection custody event</h3><table class=\"kv\"><tbody>\n");
		cJSON_ArrayForEach(x, jget(m, "custody")) {
			raw(w, "<tr><th>");
			text(w, x->string);
			raw(w, "</th><td>");
			jtext(w, x);
			raw(w, "</td></tr>\n");
		}
		raw(w, "</tbody></table>\n");
	}
	if (cJSON_GetArraySize(jget(m, "warnings")) > 0) {
		const cJSON *x;

		raw(w, "<h3>Warnings recorded by the collector</h3><ul class=\"plain\">\n");
		cJSON_ArrayForEach(x, jget(m, "warnings")) {
			raw(w, "<li class=\"bad\">");
			jtext(w, x);
			raw(w, "</li>\n");
		}
		raw(w, "</ul>\n");
	}
	ledger_section(w, in);
	raw(w, "</section>\n");
}

/* ------------------------------------------------------------------ */
/* findings, inventory, who-can */

static int
cmp_findings(const void *a, const void *b)
{
	const cJSON *fa = *(const cJSON *const *)a, *fb = *(const cJSON *const *)b;
	int d = sev_rank(jstr(fa, "severity")) - sev_rank(jstr(fb, "severity"));

	return d != 0 ? d : strcmp(jstr0(fa, "id"), jstr0(fb, "id"));
}

static void
rule_text(struct w *w, const cJSON *rule)
{
	const cJSON *urls = jget(rule, "nonResourceURLs");

	if (!cJSON_IsObject(rule)) {
		text_or_dash(w, NULL);
		return;
	}
	raw(w, "<code>verbs ");
	jlist(w, jget(rule, "verbs"), ",");
	if (cJSON_GetArraySize(urls) > 0) {
		raw(w, " \xc2\xb7 URLs ");
		jlist(w, urls, ",");
	} else {
		raw(w, " \xc2\xb7 resources ");
		jlist(w, jget(rule, "resources"), ",");
		raw(w, " \xc2\xb7 apiGroups ");
		{
			const cJSON *g;
			int first = 1;

			cJSON_ArrayForEach(g, jget(rule, "apiGroups")) {
				raw(w, first ? "" : ",");
				first = 0;
				text(w, cJSON_IsString(g) && g->valuestring[0] ? g->valuestring : "core");
			}
		}
		if (cJSON_GetArraySize(jget(rule, "resourceNames")) > 0) {
			raw(w, " \xc2\xb7 names ");
			jlist(w, jget(rule, "resourceNames"), ",");
		}
	}
	raw(w, "</code>");
}

static const char FINDINGS_HEAD[] =
    "><thead><tr><th>id</th><th>severity</th><th>subject</th><th>binding</th><th>role</th>"
    "<th>scope</th><th>matched rule</th><th>ATT&amp;CK</th><th>CWE</th></tr></thead><tbody>\n";

/* The findings table (id="findings" in the report); with always, an
 * empty list still gives the table (with one "none" row), so that tools
 * looking for it find it. */
static void
findings_table(struct w *w, const char *id, const cJSON *arr, int sort, int always)
{
	const cJSON **v = NULL, *f;
	int n = cJSON_GetArraySize(arr), k = 0;

	if (n == 0) {
		if (!always) {
			raw(w, "<p class=\"note\">None.</p>\n");
			return;
		}
		raw(w, "<table class=\"findings\"");
		if (id != NULL)
			rawf(w, " id=\"%s\"", id);
		raw(w, FINDINGS_HEAD);
		raw(w, "<tr><td colspan=\"9\" class=\"note\">No finding.</td></tr>\n</tbody></table>\n");
		return;
	}
	if ((v = kc_calloc((size_t)n, sizeof(*v))) == NULL) {
		w->err = KC_ERR_NOMEM;
		return;
	}
	cJSON_ArrayForEach(f, arr)
		v[k++] = f;
	if (sort)
		qsort(v, (size_t)n, sizeof(*v), cmp_findings);
	raw(w, "<table class=\"findings\"");
	if (id != NULL)
		rawf(w, " id=\"%s\"", id);
	raw(w, FINDINGS_HEAD);
	for (k = 0; k < n && k < KC_REPORT_ROWS_MAX; k++) {
		const cJSON *x = v[k], *inner = cJSON_IsObject(jget(x, "finding")) ? jget(x, "finding") : x;
		const char *sc = jstr(inner, "scope");

		rawf(w, "<tr class=\"row-%s\"><td><strong>", sev_class(jstr(x, "severity")));
		text_or_dash(w, jstr(x, "id"));
		raw(w, "</strong><br/><span class=\"note\">");
		text(w, jstr(x, "title"));
		if (inner != x) {
			raw(w, " (");
			text(w, jstr(inner, "id"));
			raw(w, ": ");
			text(w, jstr(inner, "title"));
			raw(w, ")");
		}
		raw(w, "</span></td><td>");
		sev_badge(w, jstr(x, "severity"));
		raw(w, "</td><td>");
		ref(w, jget(inner, "subject"));
		raw(w, "</td><td>");
		ref(w, jget(inner, "binding"));
		raw(w, "</td><td>");
		ref(w, jget(inner, "role"));
		raw(w, "</td><td>");
		if (sc != NULL && strcmp(sc, "cluster") == 0) {
			raw(w, "<strong>cluster-wide</strong>");
		} else if (sc != NULL && strcmp(sc, "namespace") == 0 && jhas(inner, "binding.namespace")) {
			raw(w, "namespace ");
			text(w, jstr(inner, "binding.namespace"));
		} else {
			text_or_dash(w, sc);
		}
		raw(w, "</td><td>");
		if (jstr(inner, "matched") != NULL) {
			text(w, jstr(inner, "matched"));
			raw(w, "<br/>");
		}
		rule_text(w, jget(inner, "rule"));
		raw(w, "</td><td>");
		text_or_dash(w, jstr(inner, "attack"));
		raw(w, "</td><td>");
		text_or_dash(w, jstr(inner, "cwe"));
		raw(w, "</td></tr>\n");
	}
	raw(w, "</tbody></table>\n");
	more_rows(w, k, n);
	free(v);
}

static void
findings_section(struct w *w, const struct bundle *b)
{
	const cJSON *fd = b->findings;
	static const char *const sevs[] = { "critical", "high", "medium", "low", "info" };

	raw(w, "<section id=\"findings-section\"><h2>Findings by severity</h2>\n");
	if (fd == NULL) {
		raw(w, "<p class=\"note\">No findings document (analysis/findings.json) in the bundle.</p>\n");
		findings_table(w, "findings", NULL, 0, 1);
		raw(w, "</section>\n");
		return;
	}
	raw(w, "<p>");
	for (int i = 0; i < 5; i++) {
		rawf(w, "<span class=\"sev sev-%s\">%s %d</span> ", sevs[i], sevs[i],
		    (int)jnum(jget(fd, "counts"), sevs[i], 0));
	}
	raw(w, "</p>\n");
	findings_table(w, "findings", jget(fd, "findings"), 1, 1);
	raw(w, "<p class=\"note\">Rules: docs/RBAC_SEMANTICS.md. Blind spots of the offline analysis: ");
	jlist(w, jget(fd, "blindSpots") ? jget(fd, "blindSpots") : jget(b->manifest,
	    "findings_summary.blindSpots"), "; ");
	raw(w, ".</p>\n</section>\n");
}

static int
is_agent(const struct bundle *b, const char *ns, const char *name)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, jget(b->selection, "selected"))
		if (strcmp(jstr0(s, "namespace"), ns) == 0 && strcmp(jstr0(s, "name"), name) == 0)
			return 1;
	return 0;
}

/* A list cell: items separated by ';' one per line. */
static void
list_cell(struct w *w, const char *s, int red)
{
	const char *p = s, *semi;
	struct kc_buf one = KC_BUF_INIT(1u << 16);

	if (s == NULL || *s == '\0') {
		text_or_dash(w, NULL);
		return;
	}
	if (red)
		raw(w, "<span class=\"bad\">");
	for (;;) {
		semi = strchr(p, ';');
		kc_buf_reset(&one);
		kc_buf_add(&one, p, semi ? (size_t)(semi - p) : strlen(p));
		text(w, kc_buf_str(&one));
		if (semi == NULL)
			break;
		raw(w, "<br/>");
		p = semi + 1;
	}
	if (red)
		raw(w, "</span>");
	kc_buf_free(&one);
}

static void
inventory_section(struct w *w, const struct bundle *b)
{
	const cJSON *hdr = cJSON_GetArrayItem(b->inventory, 0), *row;
	int rows = 0, col[8];
	static const char *const want[8] = { "namespace", "name", "pods", "bindings", "roles",
		"cluster_wide_reach", "secrets_reachable", "highest_severity" };

	raw(w, "<section id=\"inventory\"><h2>Agent inventory</h2>\n");
	if (b->inventory == NULL || hdr == NULL) {
		raw(w, "<p class=\"note\">No inventory (analysis/inventory.csv) in the bundle.</p></section>\n");
		return;
	}
	for (int c = 0; c < 8; c++) {
		const cJSON *x;
		int k = 0;

		col[c] = -1;
		cJSON_ArrayForEach(x, hdr) {
			if (cJSON_IsString(x) && strcmp(x->valuestring, want[c]) == 0)
				col[c] = k;
			k++;
		}
	}
	raw(w, "<p class=\"sub\">Briefing step 1: every selected agent identity, what runs as it, "
	    "what it is bound to and what it can reach.</p>\n");
	raw(w, "<table id=\"inventory-table\"><thead><tr><th>service account</th><th>pods</th>"
	    "<th>bindings</th><th>roles</th><th>cluster-wide reach</th><th>secrets reachable</th>"
	    "<th>highest severity</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(row, b->inventory) {
		const char *v[8];

		if (row == hdr)
			continue;
		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		for (int c = 0; c < 8; c++) {
			const cJSON *it = col[c] >= 0 ? cJSON_GetArrayItem(row, col[c]) : NULL;

			v[c] = cJSON_IsString(it) ? it->valuestring : NULL;
		}
		raw(w, "<tr><td><strong>");
		text(w, v[0]);
		raw(w, "/");
		text(w, v[1]);
		raw(w, "</strong></td><td>");
		list_cell(w, v[2], 0);
		raw(w, "</td><td>");
		list_cell(w, v[3], 0);
		raw(w, "</td><td>");
		list_cell(w, v[4], 0);
		raw(w, "</td><td>");
		if (v[5] != NULL && strcmp(v[5], "yes") == 0)
			raw(w, "<span class=\"bad\">yes</span>");
		else
			text_or_dash(w, v[5]);
		raw(w, "</td><td>");
		list_cell(w, v[6], 1);
		raw(w, "</td><td>");
		if (v[7] != NULL && *v[7])
			sev_badge(w, v[7]);
		else
			text_or_dash(w, NULL);
		raw(w, "</td></tr>\n");
	}
	raw(w, "</tbody></table>\n");
	more_rows(w, rows, cJSON_GetArraySize(b->inventory) - 1);
	raw(w, "</section>\n");
}

/* who-can rows merged over verbs: one row per subject, binding, role and
 * place, with a mark per verb. */
struct wc_row {
	const cJSON *subject, *binding, *role;
	const char *where;	/* "" cluster-wide, else a namespace */
	const char *note;
	unsigned verbs;		/* 1 get, 2 list, 4 watch */
	int agent;
};

static int
cmp_wc(const void *a, const void *b)
{
	const struct wc_row *x = a, *y = b;
	int d;

	if (x->agent != y->agent)
		return y->agent - x->agent;
	d = (strcmp(jstr0(x->subject, "kind"), "ServiceAccount") != 0) -
	    (strcmp(jstr0(y->subject, "kind"), "ServiceAccount") != 0);
	if (d != 0)
		return d;
	if ((d = strcmp(x->where, y->where)) != 0)
		return d;
	if ((d = strcmp(jstr0(x->subject, "namespace"), jstr0(y->subject, "namespace"))) != 0)
		return d;
	if ((d = strcmp(jstr0(x->subject, "name"), jstr0(y->subject, "name"))) != 0)
		return d;
	return strcmp(jstr0(x->binding, "name"), jstr0(y->binding, "name"));
}

static void
wc_add(struct wc_row **v, size_t *n, size_t *cap, const cJSON *e, const char *where, unsigned verb,
    const struct bundle *b, int *err)
{
	const cJSON *s = jget(e, "subject"), *bi = jget(e, "binding"), *ro = jget(e, "role");

	for (size_t i = 0; i < *n; i++) {
		struct wc_row *r = &(*v)[i];

		if (strcmp(r->where, where) == 0 && same_ref(r->subject, s, 1) && same_ref(r->binding, bi, 1) &&
		    same_ref(r->role, ro, 1)) {
			r->verbs |= verb;
			return;
		}
	}
	if (KC_GROW(*v, *cap, *n + 1) != 0) {
		*err = KC_ERR_NOMEM;
		return;
	}
	(*v)[*n] = (struct wc_row){ s, bi, ro, where, jstr(e, "note"), verb,
		strcmp(jstr0(s, "kind"), "ServiceAccount") == 0 &&
		is_agent(b, jstr0(s, "namespace"), jstr0(s, "name")) };
	(*n)++;
}

static void
whocan_section(struct w *w, const struct bundle *b)
{
	static const char *const res[] = { "secrets", "configmaps", "persistentvolumeclaims" };

	raw(w, "<section id=\"who-can\"><h2>Who can read secrets, configmaps and PVCs</h2>\n");
	if (b->whocan == NULL) {
		raw(w, "<p class=\"note\">No who-can tables (analysis/who-can.json) in the bundle.</p></section>\n");
		return;
	}
	raw(w, "<p class=\"sub\">Every subject that can get, list or watch these resources by RBAC in "
	    "this snapshot, with the binding and role that allow it. Selected agent identities "
	    "come first, highlighted.</p>\n");
	for (int r = 0; r < 3; r++) {
		struct wc_row *v = NULL;
		size_t n = 0, cap = 0;
		const cJSON *q;
		int err = 0, shown = 0;

		cJSON_ArrayForEach(q, jget(b->whocan, "queries")) {
			const char *verb = jstr0(q, "verb");
			unsigned bit = strcmp(verb, "get") == 0 ? 1 : strcmp(verb, "list") == 0 ? 2 :
			    strcmp(verb, "watch") == 0 ? 4 : 0;
			const cJSON *e, *nsl;

			if (bit == 0 || strcmp(jstr0(q, "resource"), res[r]) != 0 ||
			    jhas(q, "subresource"))
				continue;
			cJSON_ArrayForEach(e, jget(q, "clusterWide"))
				wc_add(&v, &n, &cap, e, "", bit, b, &err);
			cJSON_ArrayForEach(nsl, jget(q, "namespaces"))
				cJSON_ArrayForEach(e, nsl)
					wc_add(&v, &n, &cap, e, nsl->string, bit, b, &err);
		}
		if (err != 0) {
			w->err = err;
			free(v);
			return;
		}
		if (n > 1)
			qsort(v, n, sizeof(*v), cmp_wc);
		rawf(w, "<h3>%s</h3>\n", res[r]);
		rawf(w, "<table class=\"whocan\" id=\"who-can-%s\"><thead><tr><th>subject</th><th>where</th>"
		    "<th>binding</th><th>role</th><th>get</th><th>list</th><th>watch</th></tr></thead>"
		    "<tbody>\n", res[r]);
		for (size_t i = 0; i < n && shown < KC_REPORT_ROWS_MAX; i++, shown++) {
			rawf(w, "<tr%s><td>", v[i].agent ? " class=\"agent\"" : "");
			ref(w, v[i].subject);
			if (v[i].agent)
				raw(w, " <span class=\"pill bad\">agent</span>");
			if (v[i].note != NULL) {
				raw(w, "<br/><span class=\"note\">");
				text(w, v[i].note);
				raw(w, "</span>");
			}
			raw(w, "</td><td>");
			if (v[i].where[0] == '\0')
				raw(w, "<strong>cluster-wide</strong>");
			else
				text(w, v[i].where);
			raw(w, "</td><td>");
			ref(w, v[i].binding);
			raw(w, "</td><td>");
			ref(w, v[i].role);
			for (unsigned bit = 1; bit <= 4; bit <<= 1)
				rawf(w, "</td><td>%s", (v[i].verbs & bit) ? "\xe2\x9c\x93" : "");
			raw(w, "</td></tr>\n");
		}
		if (n == 0)
			raw(w, "<tr><td colspan=\"7\" class=\"note\">nobody, by RBAC</td></tr>\n");
		raw(w, "</tbody></table>\n");
		more_rows(w, shown, (int)n);
		free(v);
	}
	raw(w, "</section>\n");
}

/* ------------------------------------------------------------------ */
/* audit segment, collection items */

static void
audit_section(struct w *w, const struct bundle *b)
{
	const cJSON *s = b->sources, *x, *u, *rsc, *vb, *d;
	int rows = 0;

	raw(w, "<section id=\"audit\"><h2>Audit-log segment</h2>\n");
	if (s == NULL) {
		raw(w, "<p class=\"note\">No audit segment in this bundle (collected without "
		    "<code>--audit-log</code>).</p></section>\n");
		return;
	}
	raw(w, "<div class=\"grid3\"><div><table class=\"kv\"><tbody>\n");
	kv(w, "window covered: from", jstr(s, "window.covered.from"));
	kv(w, "window covered: to", jstr(s, "window.covered.to"));
	if (jget(s, "window.requested") != NULL)
		kv_json(w, "window requested", jget(s, "window.requested"));
	kv_json(w, "filters", jget(s, "filters"));
	raw(w, "</tbody></table></div><div><table class=\"kv\"><tbody>\n");
	kv_json(w, "sources", jget(s, "totals.sources"));
	kv_json(w, "source errors", jget(s, "totals.source_errors"));
	kv_json(w, "lines read", jget(s, "totals.lines"));
	kv_json(w, "events", jget(s, "totals.events"));
	kv_json(w, "events in the segment", jget(s, "totals.matched"));
	rawf(w, "<tr><th>malformed lines</th><td%s>", jnum(s, "totals.malformed", 0) > 0 ?
	    " class=\"bad\"" : "");
	jtext(w, jget(s, "totals.malformed"));
	raw(w, "</td></tr>\n");
	rawf(w, "<tr><th>gaps (over %g s)</th><td%s>", jnum(s, "gap_threshold_seconds", 0),
	    cJSON_GetArraySize(jget(s, "gaps")) > 0 ? " class=\"bad\"" : "");
	rawf(w, "%d</td></tr>\n", cJSON_GetArraySize(jget(s, "gaps")));
	raw(w, "</tbody></table></div><div><table class=\"kv\"><tbody>\n");
	kv(w, "redaction", jstr(s, "redaction.mode"));
	kv_json(w, "lines redacted", jget(s, "redaction.lines"));
	kv_mono(w, "marker", jstr(s, "redaction.marker"));
	kv(w, "generator", jstr(s, "generator"));
	if (cJSON_GetArraySize(jget(s, "providers")) > 0)
		kv_json(w, "providers", jget(s, "providers"));
	raw(w, "</tbody></table></div></div>\n");
	/* exports that cannot hold reads: say so, a count of 0 would mislead */
	if (jstr(s, "reads.visible") != NULL && (strcmp(jstr(s, "reads.visible"), "none") == 0 ||
	    strcmp(jstr(s, "reads.visible"), "some") == 0)) {
		rawf(w, "<p class=\"bad\" id=\"audit-reads-blind\">Reads (get, list, watch) %s <b>not "
		    "determinable from these sources</b>: the sources below do not log them.</p>\n",
		    strcmp(jstr(s, "reads.visible"), "none") == 0 ? "are" : "of some clusters are");
		generic_table(w, jget(s, "reads.blind"), "audit-reads-blind-sources");
	}
	if (cJSON_GetArraySize(jget(s, "streams")) > 0) {
		raw(w, "<h3>Provider log streams</h3>\n");
		generic_table(w, jget(s, "streams"), "audit-streams");
	}

	raw(w, "<h3>Sources</h3><table id=\"audit-sources\"><thead><tr><th>source</th><th>role</th>"
	    "<th>compression</th><th class=\"num\">size</th><th>SHA-256 (file / decompressed)</th>"
	    "<th class=\"num\">lines</th><th class=\"num\">malformed</th><th class=\"num\">matched</th>"
	    "<th class=\"num\">redacted</th><th>first / last event</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(x, jget(s, "sources")) {
		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		raw(w, "<tr><td><strong>");
		text_or_dash(w, jstr(x, "name"));
		raw(w, "</strong><br/><code>");
		text(w, jstr(x, "path"));
		raw(w, "</code></td><td>");
		text_or_dash(w, jstr(x, "role"));
		if (jstr(x, "form") != NULL && strcmp(jstr0(x, "form"), "native") != 0) {
			raw(w, "<br/>");
			text(w, jstr(x, "form"));
		}
		raw(w, "</td><td>");
		text_or_dash(w, jstr(x, "compression"));
		raw(w, "</td><td class=\"num\">");
		jtext(w, jget(x, "size"));
		raw(w, "</td><td><code>");
		text_or_dash(w, jstr(x, "sha256"));
		if (jstr(x, "decompressed_sha256") && strcmp(jstr0(x, "decompressed_sha256"),
		    jstr0(x, "sha256")) != 0) {
			raw(w, "<br/>");
			text(w, jstr(x, "decompressed_sha256"));
		}
		raw(w, "</code></td><td class=\"num\">");
		jtext(w, jget(x, "lines"));
		rawf(w, "</td><td class=\"num%s\">", jnum(x, "malformed", 0) > 0 ? " bad" : "");
		jtext(w, jget(x, "malformed"));
		raw(w, "</td><td class=\"num\">");
		jtext(w, jget(x, "matched"));
		raw(w, "</td><td class=\"num\">");
		jtext(w, jget(x, "redacted"));
		raw(w, "</td><td>");
		text_or_dash(w, jstr(x, "earliest"));
		raw(w, "<br/>");
		text_or_dash(w, jstr(x, "latest"));
		raw(w, "</td></tr>\n");
	}
	raw(w, "</tbody></table>\n");
	if (cJSON_GetArraySize(jget(s, "skipped")) > 0) {
		raw(w, "<h3>Skipped sources</h3>\n");
		generic_table(w, jget(s, "skipped"), "skipped");
	}
	if (cJSON_GetArraySize(jget(s, "gaps")) > 0) {
		raw(w, "<h3 class=\"bad\">Gaps in the audit record</h3>\n");
		generic_table(w, jget(s, "gaps"), "gaps");
	}
	if (cJSON_GetArraySize(jget(s, "overlaps")) > 0) {
		raw(w, "<h3>Overlapping sources</h3>\n");
		generic_table(w, jget(s, "overlaps"), "overlaps");
	}
	raw(w, "<h3>Requests in the segment</h3>\n");
	raw(w, "<table id=\"audit-counts\"><thead><tr><th>user</th><th>resource</th><th>verb</th>"
	    "<th>decisions</th></tr></thead><tbody>\n");
	rows = 0;
	cJSON_ArrayForEach(u, jget(s, "counts"))
		cJSON_ArrayForEach(rsc, u)
			cJSON_ArrayForEach(vb, rsc) {
				if (rows++ >= KC_REPORT_ROWS_MAX)
					break;
				raw(w, "<tr><td>");
				text(w, u->string);
				raw(w, "</td><td>");
				text(w, rsc->string);
				raw(w, "</td><td>");
				text(w, vb->string);
				raw(w, "</td><td>");
				cJSON_ArrayForEach(d, vb) {
					int deny = strcmp(d->string, "allow") != 0;

					rawf(w, "<span class=\"pill %s\">", deny ? "bad" : "ok");
					text(w, d->string);
					raw(w, " ");
					jtext(w, d);
					raw(w, "</span> ");
				}
				raw(w, "</td></tr>\n");
			}
	if (rows == 0)
		raw(w, "<tr><td colspan=\"4\" class=\"note\">no request of the selected agents in the window</td></tr>\n");
	raw(w, "</tbody></table>\n</section>\n");
}

static void
items_section(struct w *w, const struct bundle *b)
{
	const cJSON *it;
	int rows = 0, bad = 0;

	raw(w, "<section id=\"items\"><h2>Collection items</h2>\n");
	cJSON_ArrayForEach(it, jget(b->manifest, "items")) {
		const char *st = jstr0(it, "status");

		if (strcmp(st, "complete") != 0 && strcmp(st, "skipped") != 0)
			bad++;
	}
	if (bad > 0)
		rawf(w, "<p class=\"bad\">%d item%s not complete: the bundle is PARTIAL for %s.</p>\n",
		    bad, bad == 1 ? " is" : "s are", bad == 1 ? "it" : "them");
	raw(w, "<table id=\"items-table\"><thead><tr><th>item</th><th>status</th><th>detail</th>"
	    "<th class=\"num\">objects</th><th>resourceVersion</th><th class=\"num\">HTTP</th>"
	    "</tr></thead><tbody>\n");
	cJSON_ArrayForEach(it, jget(b->manifest, "items")) {
		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		raw(w, "<tr><td>");
		text_or_dash(w, jstr(it, "name"));
		raw(w, "</td><td>");
		status_pill(w, jstr(it, "status"));
		raw(w, "</td><td>");
		text(w, jstr(it, "detail"));
		if (jget(it, "metadata_only") != NULL && jtrue(it, "metadata_only"))
			raw(w, "<span class=\"note\">metadata only</span>");
		if (jget(it, "redacted_annotations") != NULL) {
			rawf(w, "<span class=\"note\"> \xc2\xb7 %d annotation%s redacted</span>",
			    (int)jnum(it, "redacted_annotations", 0),
			    (int)jnum(it, "redacted_annotations", 0) == 1 ? "" : "s");
		}
		raw(w, "</td><td class=\"num\">");
		if (jget(it, "count") != NULL)
			jtext(w, jget(it, "count"));
		else if (jget(it, "matched") != NULL)
			jtext(w, jget(it, "matched"));
		raw(w, "</td><td>");
		text(w, jstr(it, "resource_version"));
		raw(w, "</td><td class=\"num\">");
		if (jget(it, "http_status") != NULL)
			jtext(w, jget(it, "http_status"));
		raw(w, "</td></tr>\n");
	}
	raw(w, "</tbody></table>\n");
	more_rows(w, rows, cJSON_GetArraySize(jget(b->manifest, "items")));
	raw(w, "</section>\n");
}

/* ------------------------------------------------------------------ */
/* access paths */

static void
legend(struct w *w, int with_diff)
{
	raw(w, "<p class=\"legend\"><span class=\"sw danger\"></span>high or critical finding "
	    "(the whole path to it is red)<span class=\"sw warn\"></span>medium finding"
	    "<span class=\"sw normal\"></span>no finding<span class=\"sw muted\"></span>folded, no finding");
	if (with_diff)
		raw(w, "<span class=\"sw removed\"></span>removed by the remediation (struck through, "
		    "cut edge)<span class=\"sw added\"></span>new after the remediation");
	raw(w, "</p>\n");
}

static void
agent_heading(struct w *w, const char *ns, const char *name, const cJSON *dagent)
{
	raw(w, "<h3>");
	text(w, ns);
	raw(w, "/");
	text(w, name);
	if (dagent != NULL) {
		rawf(w, " <span class=\"pill ok\">%d removed</span> <span class=\"pill new\">%d added</span> "
		    "<span class=\"pill skip\">%d kept</span>", (int)jnum(dagent, "counts.removed", 0),
		    (int)jnum(dagent, "counts.added", 0), (int)jnum(dagent, "counts.kept", 0));
		if (jtrue(dagent, "secrets_before") && !jtrue(dagent, "secrets_after"))
			raw(w, " <span class=\"pill ok\">no longer reads secrets</span>");
		else if (jtrue(dagent, "secrets_after"))
			raw(w, " <span class=\"pill bad\">still reads secrets</span>");
	}
	raw(w, "</h3>\n");
}

static void
access_section(struct w *w, const struct bundle *b, const cJSON *diff)
{
	const cJSON *s, *a;
	struct kc_buf tmp = KC_BUF_INIT(1u << 20), label = KC_BUF_INIT(4096);
	int n = 0;

	raw(w, "<section id=\"access-paths\"><h2>Access paths of the agent identities</h2>\n");
	raw(w, "<p class=\"sub\">For each selected service account: the bindings that name it (or a "
	    "group it is in), the role each binding grants, and the rules of that role, as the "
	    "offline evaluator resolved them in this snapshot");
	if (diff != NULL)
		raw(w, ", with what the remediation removed since the PRE bundle");
	raw(w, ". Hover a box for its full text.</p>\n");
	legend(w, diff != NULL);
	cJSON_ArrayForEach(s, jget(b->selection, "selected")) {
		const char *ns = jstr0(s, "namespace"), *name = jstr0(s, "name");
		const cJSON *da = diff_agent(diff, ns, name);
		struct tree t = { 0 };

		tree_from_grants(&t, b, ns, name, &tmp);
		if (da != NULL)
			tree_overlay_diff(&t, da, diff, &tmp);
		agent_heading(w, ns, name, da);
		kc_buf_reset(&label);
		kc_buf_addf(&label, "Access path of ServiceAccount %s/%s", ns, name);
		tree_render(w, &t, kc_buf_str(&label));
		tree_free(&t);
		n++;
	}
	/* agents the diff knows but this bundle did not select */
	cJSON_ArrayForEach(a, jget(diff, "agents")) {
		const char *ns = jstr0(a, "namespace"), *name = jstr0(a, "name");
		struct tree t = { 0 };

		if (is_agent(b, ns, name))
			continue;
		agent_heading(w, ns, name, a);
		raw(w, "<p class=\"note\">Not selected in this bundle; drawn from the diff.</p>\n");
		tree_from_diff(&t, a, diff, &tmp);
		kc_buf_reset(&label);
		kc_buf_addf(&label, "Access path of ServiceAccount %s/%s", ns, name);
		tree_render(w, &t, kc_buf_str(&label));
		tree_free(&t);
		n++;
	}
	if (n == 0)
		raw(w, "<p class=\"note\">No agent identity was selected in this bundle.</p>\n");
	raw(w, "</section>\n");
	kc_buf_free(&tmp);
	kc_buf_free(&label);
}

/* ------------------------------------------------------------------ */
/* remediation (the diff document) */

static void
perm_table(struct w *w, const cJSON *perms, const char *cls)
{
	const cJSON *p, *g;
	int rows = 0;

	if (cJSON_GetArraySize(perms) == 0) {
		raw(w, "<p class=\"note\">None.</p>\n");
		return;
	}
	rawf(w, "<table class=\"perms %s\"><thead><tr><th>verb</th><th>apiGroup</th>"
	    "<th>resource or URL</th><th>name</th><th>where</th><th>granted by</th></tr></thead><tbody>\n",
	    cls);
	cJSON_ArrayForEach(p, perms) {
		const char *url = jstr(p, "url"), *ns = jstr(p, "namespace"), *g0 = jstr(p, "apiGroup");
		int first = 1;

		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		raw(w, "<tr><td><code>");
		text_or_dash(w, jstr(p, "verb"));
		raw(w, "</code></td><td>");
		if (url != NULL)
			text_or_dash(w, NULL);
		else
			text(w, g0 != NULL && *g0 ? g0 : "core");
		raw(w, "</td><td><code>");
		text_or_dash(w, url != NULL ? url : jstr(p, "resource"));
		raw(w, "</code></td><td>");
		text(w, url != NULL ? "" : jstr(p, "name") && strcmp(jstr(p, "name"), "*") == 0 ? "any" :
		    jstr(p, "name"));
		raw(w, "</td><td>");
		if (url != NULL)
			raw(w, "non-resource");
		else if (ns == NULL || strcmp(ns, "*") == 0)
			raw(w, "<strong>cluster-wide</strong>");
		else
			text(w, ns);
		raw(w, "</td><td>");
		cJSON_ArrayForEach(g, jget(p, "grants")) {
			if (!first)
				raw(w, "<br/>");
			first = 0;
			ref(w, jget(g, "binding"));
			raw(w, " \xe2\x86\x92 ");
			ref(w, jget(g, "role"));
		}
		raw(w, "</td></tr>\n");
	}
	raw(w, "</tbody></table>\n");
	more_rows(w, KC_REPORT_ROWS_MAX, cJSON_GetArraySize(perms));
}

static const char *
verdict_class(const char *v)
{
	if (v == NULL)
		return "info";
	if (strcmp(v, "remediated") == 0)
		return "ok";
	if (strcmp(v, "incomplete") == 0)
		return "warn";
	return "bad";
}

static void
yesno_change(struct w *w, int before, int after, int bad_when_true)
{
	const char *b = before ? "yes" : "no", *a = after ? "yes" : "no";

	rawf(w, "<span class=\"%s\">%s</span> \xe2\x86\x92 <span class=\"%s\">%s</span>",
	    before && bad_when_true ? "bad" : "", b, after && bad_when_true ? "bad" : "good", a);
}

static void
rbac_objects(struct w *w, const cJSON *ro)
{
	static const char *const lists[] = { "removed", "added", "changed" };
	int total = 0;

	for (int i = 0; i < 3; i++)
		total += cJSON_GetArraySize(jget(ro, lists[i]));
	if (total == 0) {
		raw(w, "<p class=\"note\">No RBAC object was added, removed or changed.</p>\n");
		return;
	}
	raw(w, "<table id=\"rbac-objects\"><thead><tr><th>change</th><th>object</th><th>uid</th>"
	    "<th>what changed</th><th>changed by (managedFields)</th></tr></thead><tbody>\n");
	for (int i = 0; i < 3; i++) {
		const cJSON *o, *c, *m;

		cJSON_ArrayForEach(o, jget(ro, lists[i])) {
			rawf(w, "<tr><td><span class=\"pill %s\">%s</span></td><td>", i == 0 ? "ok" :
			    i == 1 ? "new" : "warn", lists[i]);
			if (i == 0)
				raw(w, "<span class=\"struck\">");
			ref(w, o);
			if (i == 0)
				raw(w, "</span>");
			raw(w, "</td><td><code>");
			text_or_dash(w, jstr(o, "uid"));
			raw(w, "</code></td><td>");
			cJSON_ArrayForEach(c, jget(o, "changes")) {
				raw(w, "<strong>");
				text(w, c->string);
				raw(w, "</strong>: ");
				jtext(w, jget(c, "before"));
				raw(w, " \xe2\x86\x92 ");
				jtext(w, jget(c, "after"));
				raw(w, "<br/>");
			}
			raw(w, "</td><td>");
			cJSON_ArrayForEach(m, jget(o, "changed_by")) {
				text(w, jstr(m, "manager"));
				raw(w, " ");
				text(w, jstr(m, "operation"));
				raw(w, " ");
				text(w, jstr(m, "time"));
				raw(w, "<br/>");
			}
			raw(w, "</td></tr>\n");
		}
	}
	raw(w, "</tbody></table>\n");
}

static void
summary_card_num(struct w *w, const cJSON *sum, const char *key, const char *label, int bad_if_pos,
    int good_if_pos)
{
	char nb[64];
	double v = jnum(sum, key, 0);

	char kc[128];

	fmt_num(nb, sizeof(nb), v);
	snprintf(kc, sizeof(kc), "summary.%s", key);
	if (jstr(sum, key) != NULL) {	/* "not determinable from these sources" */
		card_kc(w, "warn", label, jstr(sum, key), NULL, kc);
		return;
	}
	card_kc(w, v > 0 && bad_if_pos ? "bad" : v > 0 && good_if_pos ? "ok" : "", label, nb, NULL, kc);
}

/* The remediation section of the report and the body of the diff page;
 * pictures: draw an access path per agent from the diff alone. */
static void
diff_body(struct w *w, const cJSON *d, int pictures, const char *h)
{
	const cJSON *sum = jget(d, "summary"), *a;
	static const char *const sides[] = { "pre", "post" };
	struct kc_buf tmp = KC_BUF_INIT(1u << 20), label = KC_BUF_INIT(4096);

	rawf(w, "<section id=\"remediation\"><%s>Remediation: what changed from PRE to POST</%s>\n", h, h);
	rawf(w, "<div class=\"banner %s\" id=\"verdict\"><span class=\"big\" data-kc=\"summary.verdict\">",
	    verdict_class(jstr(sum, "verdict")));
	text_or_dash(w, jstr(sum, "verdict") ? jstr(sum, "verdict") : "no verdict");
	raw(w, "</span>");
	text(w, jstr(sum, "verdict_reason"));
	raw(w, "</div>\n");
	if (jget(d, "breach_assessment") != NULL) {
		const cJSON *ba = jget(d, "breach_assessment"), *ag;
		const char *bv = jstr(ba, "verdict");

		rawf(w, "<div class=\"banner %s\" id=\"breach\"><span class=\"big\">",
		    bv != NULL && strcmp(bv, "URGENT") == 0 ? "bad" : "info");
		text(w, bv != NULL ? bv : "-");
		raw(w, "</span>Breach assessment: ");
		text(w, jstr(ba, "reason"));
		raw(w, "<ul class=\"plain\">");
		cJSON_ArrayForEach(ag, jget(ba, "agents")) {
			if (cJSON_GetArraySize(jget(ag, "secrets_read")) == 0 &&
			    cJSON_GetArraySize(jget(ag, "secrets_reachable")) == 0 && !jtrue(ag, "could_read_secrets"))
				continue;
			raw(w, "<li class=\"breach-agent\"><strong>");
			text(w, jstr(ag, "namespace"));
			raw(w, "/");
			text(w, jstr(ag, "name"));
			raw(w, "</strong> read (audit): ");
			if (cJSON_GetArraySize(jget(ag, "secrets_read")) > 0)
				jlist(w, jget(ag, "secrets_read"), ", ");
			else
				raw(w, "none");
			raw(w, "; could reach (PRE): ");
			if (cJSON_GetArraySize(jget(ag, "secrets_reachable")) > 0)
				jlist(w, jget(ag, "secrets_reachable"), ", ");
			else
				raw(w, "none listed");
			raw(w, "</li>");
		}
		raw(w, "</ul></div>\n");
	}
	if (!jtrue(d, "verified"))
		raw(w, "<div class=\"banner warn\"><span class=\"big\">NOT VERIFIED</span>The two bundles "
		    "were compared without verifying them (--no-verify).</div>\n");
	raw(w, "<div class=\"cards\">\n");
	summary_card_num(w, sum, "permissions_removed", "permissions removed", 0, 1);
	summary_card_num(w, sum, "permissions_added", "permissions added", 0, 0);
	summary_card_num(w, sum, "permissions_kept", "permissions kept", 0, 0);
	summary_card_num(w, sum, "findings_resolved", "findings resolved", 0, 1);
	summary_card_num(w, sum, "findings_persisting", "findings persisting", 1, 0);
	summary_card_num(w, sum, "findings_new", "findings new", 1, 0);
	summary_card_num(w, sum, "stale_pods", "pods older than the change", 1, 0);
	summary_card_num(w, sum, "denied_requests", "denied requests after", 1, 0);
	summary_card_num(w, sum, "sensitive_reads_after_remediation", "sensitive reads after", 0, 0);
	summary_card_num(w, sum, "policy_bypass_reads", "policy bypass reads", 1, 0);
	raw(w, "</div>\n");

	raw(w, "<table id=\"diff-bundles\"><thead><tr><th></th><th>bundle</th><th>SHA-256</th>"
	    "<th>case / phase</th><th>collected (UTC)</th><th>verification</th><th>signer</th>"
	    "</tr></thead><tbody>\n");
	for (int i = 0; i < 2; i++) {
		const cJSON *bd = jget(d, sides[i]);
		const char *v = jstr(bd, "verification");

		rawf(w, "<tr><th>%s</th><td><code>", i == 0 ? "PRE" : "POST");
		text_or_dash(w, jstr(bd, "path"));
		raw(w, "</code><br/><span class=\"note\">bundle id ");
		text(w, jstr(bd, "bundle_id"));
		raw(w, "</span></td><td><code>");
		text_or_dash(w, jstr(bd, "sha256"));
		raw(w, "</code></td><td>");
		text(w, jstr(bd, "case"));
		raw(w, " / ");
		text(w, jstr(bd, "phase"));
		raw(w, "</td><td>");
		text_or_dash(w, jstr(bd, "started"));
		raw(w, "<br/>");
		text_or_dash(w, jstr(bd, "finished"));
		raw(w, "</td><td>");
		rawf(w, "<span class=\"pill %s\">", v != NULL && strcmp(v, "valid") == 0 ? "ok" : "warn");
		text_or_dash(w, v);
		raw(w, "</span></td><td><code>");
		text_or_dash(w, jstr(bd, "signer"));
		raw(w, "</code></td></tr>\n");
	}
	raw(w, "</tbody></table>\n<table class=\"kv\"><tbody>\n");
	kv_mono(w, "cluster (kube-system UID)", jstr(d, "cluster.kube_system_uid"));
	kv_mono(w, "server", jstr(d, "cluster.server"));
	rawf(w, "<tr><th>remediation time</th><td>");
	text_or_dash(w, jstr(d, "remediated_at"));
	raw(w, " <span class=\"note\">(");
	text(w, jstr(d, "remediated_at_source"));
	raw(w, ")</span></td></tr>\n</tbody></table>\n");

	raw(w, "<h3>Per agent</h3>\n<table id=\"diff-agents\"><thead><tr><th>agent</th><th>selected in</th>"
	    "<th>cluster-wide reach</th><th>reads secrets</th><th class=\"num\">removed</th>"
	    "<th class=\"num\">added</th><th class=\"num\">kept</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(a, jget(d, "agents")) {
		raw(w, "<tr><td><strong>");
		text(w, jstr(a, "namespace"));
		raw(w, "/");
		text(w, jstr(a, "name"));
		raw(w, "</strong></td><td>");
		jlist(w, jget(a, "selected_in"), ", ");
		raw(w, "</td><td>");
		yesno_change(w, jtrue(a, "cluster_wide_before"), jtrue(a, "cluster_wide_after"), 1);
		raw(w, "</td><td>");
		yesno_change(w, jtrue(a, "secrets_before"), jtrue(a, "secrets_after"), 1);
		rawf(w, "</td><td class=\"num good\">%d</td><td class=\"num%s\">%d</td><td class=\"num\">%d"
		    "</td></tr>\n", (int)jnum(a, "counts.removed", 0), jnum(a, "counts.added", 0) > 0 ?
		    " bad" : "", (int)jnum(a, "counts.added", 0), (int)jnum(a, "counts.kept", 0));
	}
	raw(w, "</tbody></table>\n");
	if (pictures)
		legend(w, 1);
	cJSON_ArrayForEach(a, jget(d, "agents")) {
		const char *ns = jstr0(a, "namespace"), *name = jstr0(a, "name");

		agent_heading(w, ns, name, a);
		if (pictures) {
			struct tree t = { 0 };

			tree_from_diff(&t, a, d, &tmp);
			kc_buf_reset(&label);
			kc_buf_addf(&label, "Remediation of ServiceAccount %s/%s", ns, name);
			tree_render(w, &t, kc_buf_str(&label));
			tree_free(&t);
		}
		rawf(w, "<details%s><summary>%d permission%s removed</summary>\n",
		    cJSON_GetArraySize(jget(a, "removed")) <= 30 ? " open=\"open\"" : "",
		    cJSON_GetArraySize(jget(a, "removed")), cJSON_GetArraySize(jget(a, "removed")) == 1 ? "" : "s");
		perm_table(w, jget(a, "removed"), "removed");
		raw(w, "</details>\n");
		rawf(w, "<details%s><summary>%d permission%s added</summary>\n",
		    cJSON_GetArraySize(jget(a, "added")) <= 30 ? " open=\"open\"" : "",
		    cJSON_GetArraySize(jget(a, "added")), cJSON_GetArraySize(jget(a, "added")) == 1 ? "" : "s");
		perm_table(w, jget(a, "added"), "added");
		raw(w, "</details>\n");
		rawf(w, "<details><summary>%d permission%s kept</summary>\n", cJSON_GetArraySize(jget(a, "kept")),
		    cJSON_GetArraySize(jget(a, "kept")) == 1 ? "" : "s");
		perm_table(w, jget(a, "kept"), "kept");
		raw(w, "</details>\n");
	}

	raw(w, "<h3>Findings</h3>\n");
	rawf(w, "<h4 class=\"bad\">Flagged permissions kept or gained (AGR-025): %d</h4>\n",
	    cJSON_GetArraySize(jget(d, "findings.regressions")));
	findings_table(w, "findings-regressions", jget(d, "findings.regressions"), 1, 0);
	rawf(w, "<h4>New: %d</h4>\n", cJSON_GetArraySize(jget(d, "findings.new")));
	findings_table(w, "findings-new", jget(d, "findings.new"), 1, 0);
	rawf(w, "<h4>Persisting: %d</h4>\n", cJSON_GetArraySize(jget(d, "findings.persisting")));
	findings_table(w, "findings-persisting", jget(d, "findings.persisting"), 1, 0);
	rawf(w, "<h4 class=\"good\">Resolved: %d</h4>\n", cJSON_GetArraySize(jget(d, "findings.resolved")));
	findings_table(w, "findings-resolved", jget(d, "findings.resolved"), 1, 0);

	raw(w, "<h3>RBAC objects</h3>\n");
	rbac_objects(w, jget(d, "rbac_objects"));

	rawf(w, "<h3>Agent pods older than the remediation: %d</h3>\n", cJSON_GetArraySize(jget(d, "stale_pods")));
	if (cJSON_GetArraySize(jget(d, "stale_pods")) > 0) {
		raw(w, "<p class=\"sub\">They may still hold tokens issued before the change: restart them "
		    "(the briefing's recovery note).</p>\n");
		generic_table(w, jget(d, "stale_pods"), "stale-pods");
	} else {
		raw(w, "<p class=\"note\">None.</p>\n");
	}

	raw(w, "<h3>Audit after the remediation</h3>\n");
	if (!jtrue(d, "audit.post_segment"))
		raw(w, "<p class=\"note\">The POST bundle carries no audit segment: denials and reads after "
		    "the remediation cannot be shown.</p>\n");
	rawf(w, "<h4>Denied requests by agents: %d</h4>\n", (int)jnum(d, "audit.denied_total", 0));
	if (jget(d, "audit.reads_determinable") != NULL && !jtrue(d, "audit.reads_determinable")) {
		raw(w, "<p class=\"bad\" id=\"reads-not-determinable\">Reads (get, list, watch) are <b>not determinable "
		    "from these sources</b>: ");
		text(w, jstr(jget(d, "summary"), "reads_note") ? jstr(jget(d, "summary"), "reads_note") : "");
		raw(w, ". Denied reads are missing from the count above.</p>\n");
		if (cJSON_GetArraySize(jget(d, "audit.reads_blind")) > 0)
			generic_table(w, jget(d, "audit.reads_blind"), "reads-blind");
	}
	if (cJSON_GetArraySize(jget(d, "audit.denied")) > 0) {
		raw(w, "<p class=\"sub\">Signs of over-restriction to review (briefing step 4).</p>\n");
		generic_table(w, jget(d, "audit.denied"), "denied");
	}
	/* The verdict is the diff's (summary.policy_bypass_reads, each row's
	 * "escalate"); this page only shows it, never decides it. */
	{
		int nsens = cJSON_GetArraySize(jget(d, "audit.sensitive_reads_after_remediation"));
		int nbypass = (int)jnum(d, "summary.policy_bypass_reads", 0);

		if (jstr(jget(d, "summary"), "sensitive_reads_after_remediation") != NULL) {
			raw(w, "<h4>Sensitive reads after the remediation: <span data-kc=\"summary."
			    "sensitive_reads_after_remediation\">");
			text(w, jstr(jget(d, "summary"), "sensitive_reads_after_remediation"));
			raw(w, "</span></h4>\n");
		} else {
			rawf(w, "<h4>Sensitive reads after the remediation: <span data-kc=\"summary."
			    "sensitive_reads_after_remediation\">%d</span></h4>\n", nsens);
		}
		if (nbypass > 0)
			rawf(w, "<p class=\"bad\">A policy bypass to escalate: <span data-kc=\"summary."
			    "policy_bypass_reads\">%d</span> of these read a secret, or read data the remediated "
			    "RBAC does not allow (rows with escalate yes).</p>\n", nbypass);
		else if (nsens > 0)
			raw(w, "<p class=\"note\">No policy bypass: each of these reads was allowed by the "
			    "remediated RBAC and none read a secret (escalate no).</p>\n");
		if (nsens > 0)
			generic_table(w, jget(d, "audit.sensitive_reads_after_remediation"), "sensitive-reads");
	}
	raw(w, "</section>\n");
	kc_buf_free(&tmp);
	kc_buf_free(&label);
}

/* ------------------------------------------------------------------ */
/* the report page */

static void
triage_banner(struct w *w, const struct bundle *b)
{
	const char *t = jstr(b->findings, "triage");
	const char *why = jstr(b->findings, "triageReason");

	if (t == NULL)
		t = jstr(b->manifest, "findings_summary.triage");
	if (why == NULL)
		why = jstr(b->manifest, "findings_summary.triageReason");
	if (t == NULL)
		return;
	rawf(w, "<div class=\"banner %s\" id=\"triage\"><span class=\"big\">", strcmp(t, "URGENT") == 0 ?
	    "bad" : "info");
	text(w, t);
	raw(w, "</span>");
	text(w, why);
	if (cJSON_GetArraySize(jget(b->findings, "secretReaders")) > 0) {
		raw(w, "<p>Agent identities that can read secrets: <strong>");
		jlist(w, jget(b->findings, "secretReaders"), ", ");
		raw(w, "</strong></p>");
	}
	raw(w, "</div>\n");
}

static void
summary_cards(struct w *w, const struct kc_report_in *in, const struct bundle *b)
{
	const cJSON *fc = jget(b->findings, "counts");
	char nb[96], note[128];
	int crit = (int)jnum(fc, "critical", 0), high = (int)jnum(fc, "high", 0);
	int total = 0, bad = 0;
	const cJSON *x;
	const char *st = jstr(b->manifest, "status");

	cJSON_ArrayForEach(x, fc)
		total += cJSON_IsNumber(x) ? (int)x->valuedouble : 0;
	raw(w, "<div class=\"cards\" id=\"summary\">\n");
	card(w, in->vr == NULL ? "warn" : in->vr->valid ? "ok" : "bad", "verification",
	    in->vr == NULL ? "not verified" : in->vr->valid ? "valid" :
	    unverified_only(in->vr) ? "unverified (no key given)" : "INVALID",
	    in->vr != NULL && in->vr->valid && in->vr->checks[KC_CHECK_SIGNATURE].state != KC_CHECK_OK ?
	    "signature not checked" : NULL);
	if (jstr(b->findings, "triage") != NULL)
		card(w, strcmp(jstr(b->findings, "triage"), "URGENT") == 0 ? "bad" : "", "triage",
		    jstr(b->findings, "triage"), NULL);
	snprintf(nb, sizeof(nb), "%d", total);
	snprintf(note, sizeof(note), "%d critical, %d high", crit, high);
	card(w, crit + high > 0 ? "bad" : "", "findings", nb, note);
	snprintf(nb, sizeof(nb), "%d", cJSON_GetArraySize(jget(b->selection, "selected")));
	card(w, "", "agents selected", nb, NULL);
	cJSON_ArrayForEach(x, jget(b->manifest, "items")) {
		const char *s = jstr0(x, "status");

		bad += strcmp(s, "complete") != 0 && strcmp(s, "skipped") != 0;
	}
	snprintf(note, sizeof(note), "%d item%s not complete", bad, bad == 1 ? "" : "s");
	card(w, st != NULL && strcmp(st, "complete") == 0 ? "ok" : "bad", "collection", st,
	    bad ? note : NULL);
	if (b->sources != NULL) {
		fmt_num(nb, sizeof(nb), jnum(b->sources, "totals.matched", 0));
		snprintf(note, sizeof(note), "%d gap%s, %.0f malformed", cJSON_GetArraySize(jget(b->sources, "gaps")),
		    cJSON_GetArraySize(jget(b->sources, "gaps")) == 1 ? "" : "s",
		    jnum(b->sources, "totals.malformed", 0));
		card(w, cJSON_GetArraySize(jget(b->sources, "gaps")) > 0 ? "warn" : "", "audit events", nb, note);
	}
	if (in->diff != NULL) {
		const char *v = jstr(in->diff, "summary.verdict");

		snprintf(note, sizeof(note), "%.0f permissions removed, %.0f added",
		    jnum(in->diff, "summary.permissions_removed", 0), jnum(in->diff, "summary.permissions_added", 0));
		card_kc(w, verdict_class(v), "remediation", v, note, "summary.verdict");
		if (jstr(in->diff, "breach_assessment.verdict") != NULL)
			card_kc(w, strcmp(jstr(in->diff, "breach_assessment.verdict"), "URGENT") == 0 ? "bad" : "",
			    "breach assessment", jstr(in->diff, "breach_assessment.verdict"), NULL,
			    "breach_assessment.verdict");
	}
	raw(w, "</div>\n");
}

int
kc_report_html(const struct kc_report_in *in, struct kc_buf *out)
{
	struct bundle b;
	struct w w = { out, 0 };
	struct kc_buf title = KC_BUF_INIT(4096);

	memset(&b, 0, sizeof(b));
	if (in == NULL || in->bundle_path == NULL)
		return kc_err_set(KC_ERR_INVALID, "report: no bundle");
	bundle_read(in->bundle_path, &b);
	kc_buf_addf(&title, "kcustody report: %s %s", jstr(b.manifest, "case.id") ? jstr(b.manifest, "case.id") :
	    "(unknown case)", jstr0(b.manifest, "case.phase"));
	page_open(&w, kc_buf_str(&title));
	raw(&w, "<header><h1>Evidence report");
	if (jstr(b.manifest, "case.id") != NULL) {
		raw(&w, ": case ");
		text(&w, jstr(b.manifest, "case.id"));
	}
	raw(&w, "</h1><p class=\"sub\">");
	if (jstr(b.manifest, "case.phase") != NULL) {
		raw(&w, "phase <strong>");
		text(&w, jstr(b.manifest, "case.phase"));
		raw(&w, "</strong> \xc2\xb7 ");
	}
	raw(&w, "bundle <code>");
	text(&w, b.top[0] ? b.top : in->bundle_path);
	raw(&w, "</code>");
	if (jstr(b.manifest, "cluster.server") != NULL) {
		raw(&w, " \xc2\xb7 cluster <code>");
		text(&w, jstr(b.manifest, "cluster.server"));
		raw(&w, "</code>");
	}
	if (jstr(b.manifest, "times.finished") != NULL) {
		raw(&w, " \xc2\xb7 collected ");
		text(&w, jstr(b.manifest, "times.finished"));
	}
	raw(&w, "</p></header>\n");

	verify_banner(&w, "This bundle", in->vr, in->no_verify_reason);
	if (in->pre_path != NULL && (in->pre_vr == NULL || !in->pre_vr->valid))
		verify_banner(&w, "The PRE bundle", in->pre_vr, in->no_verify_reason);
	if (!in->ledger_skipped && in->ledger_status != 0 &&
	    !(in->ledger_status == KC_ERR_NOTFOUND && in->ledger_path == NULL))
		raw(&w, "<div class=\"banner bad\" id=\"custody-banner\"><span class=\"big\">CUSTODY CHAIN "
		    "BROKEN</span>The custody ledger does not verify or cannot be read: see "
		    "<a href=\"#custody\">Case and collection</a>.</div>\n");
	triage_banner(&w, &b);
	if (in->diff_error != NULL) {
		raw(&w, "<div class=\"banner warn\"><span class=\"big\">NO REMEDIATION SECTION</span>");
		text(&w, in->diff_error);
		raw(&w, "</div>\n");
	}
	if (b.problems.len > 0) {
		raw(&w, "<div class=\"problems\" id=\"read-problems\"><strong>Not everything could be shown"
		    "</strong><ul class=\"plain\">");
		for (const char *p = kc_buf_str(&b.problems), *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
			struct kc_buf one = KC_BUF_INIT(1u << 20);

			nl = strchr(p, '\n');
			kc_buf_add(&one, p, nl ? (size_t)(nl - p) : strlen(p));
			raw(&w, "<li>");
			text(&w, kc_buf_str(&one));
			raw(&w, "</li>");
			kc_buf_free(&one);
		}
		raw(&w, "</ul></div>\n");
	}
	summary_cards(&w, in, &b);
	raw(&w, "<nav class=\"toc\"><a href=\"#access-paths\">Access paths</a>");
	if (in->diff != NULL)
		raw(&w, "<a href=\"#remediation\">Remediation</a>");
	raw(&w, "<a href=\"#findings-section\">Findings</a><a href=\"#inventory\">Inventory</a>"
	    "<a href=\"#who-can\">Who can</a><a href=\"#audit\">Audit segment</a>"
	    "<a href=\"#items\">Collection items</a><a href=\"#custody\">Case and custody</a>"
	    "<a href=\"#verification\">Verification</a></nav>\n");

	if (!b.unreadable) {
		access_section(&w, &b, in->diff);
		if (in->diff != NULL)
			diff_body(&w, in->diff, 0, "h2");
		findings_section(&w, &b);
		inventory_section(&w, &b);
		whocan_section(&w, &b);
		audit_section(&w, &b);
		items_section(&w, &b);
		case_section(&w, in, &b);
	} else {
		/* the tools that look for the findings table still find one */
		raw(&w, "<section id=\"findings-section\"><h2>Findings by severity</h2>"
		    "<p class=\"note\">The bundle could not be read.</p>\n");
		findings_table(&w, "findings", NULL, 0, 1);
		raw(&w, "</section>\n");
	}
	raw(&w, "<section id=\"verification\"><h2>Verification</h2>\n");
	verify_table(&w, "This bundle", in->bundle_path, in->vr, in->no_verify_reason);
	if (in->pre_path != NULL)
		verify_table(&w, "PRE bundle (for the remediation section)", in->pre_path, in->pre_vr,
		    in->no_verify_reason);
	raw(&w, "<p class=\"note\">Checked without trusting any key inside the bundle. To repeat it "
	    "with standard tools, follow VERIFY.txt inside the bundle.</p>\n</section>\n");
	page_close(&w, in->generated);
	kc_buf_free(&title);
	bundle_free(&b);
	if (w.err != 0)
		return kc_err_set(w.err, w.err == KC_ERR_NOMEM ? "out of memory" :
		    "the report would be larger than %zu bytes", out->max);
	return 0;
}

int
kc_diff_render_html(const cJSON *d, struct kc_buf *out)
{
	struct w w = { out, 0 };
	const char *schema = jstr(d, "schema");
	struct kc_buf title = KC_BUF_INIT(4096);

	if (schema == NULL || strcmp(schema, "kcustody.diff/v1") != 0)
		return kc_err_set(KC_ERR_INVALID, "not a kcustody.diff/v1 document");
	kc_buf_addf(&title, "kcustody diff: %s %s \xe2\x86\x92 %s", jstr0(d, "post.case"),
	    jstr0(d, "pre.phase"), jstr0(d, "post.phase"));
	page_open(&w, kc_buf_str(&title));
	raw(&w, "<header><h1>Remediation record");
	if (jstr(d, "post.case") != NULL) {
		raw(&w, ": case ");
		text(&w, jstr(d, "post.case"));
	}
	raw(&w, "</h1><p class=\"sub\">");
	text(&w, jstr0(d, "pre.phase"));
	raw(&w, " <code>");
	text(&w, jstr0(d, "pre.path"));
	raw(&w, "</code> \xe2\x86\x92 ");
	text(&w, jstr0(d, "post.phase"));
	raw(&w, " <code>");
	text(&w, jstr0(d, "post.path"));
	raw(&w, "</code></p></header>\n");
	diff_body(&w, d, 1, "h2");
	page_close(&w, 0);
	kc_buf_free(&title);
	if (w.err != 0)
		return kc_err_set(w.err, w.err == KC_ERR_NOMEM ? "out of memory" :
		    "the page would be larger than %zu bytes", out->max);
	return 0;
}
