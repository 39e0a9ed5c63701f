#include <stdlib.h>
#include <string.h>

#include "formats/cani.h"
#include "util/err.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/utf8.h"

/* ---- tabwriter (github.com/liggitt/tabwriter, kubectl's settings) ---- */

#define TW_MINWIDTH 6
#define TW_PADDING 3

struct tw_cell {
	size_t size;		/* bytes */
	size_t width;		/* runes */
	int htab;
};

struct tw_line {
	struct tw_cell *cells;
	size_t n, cap;
};

struct tw {
	struct kc_buf *out;
	char *text;		/* cell text, tabs and line breaks stripped */
	size_t textlen, textcap;
	struct tw_cell cell;	/* incomplete cell */
	struct tw_line *lines;
	size_t nlines, caplines;
	size_t *widths, nwidths, capwidths;
	size_t *maxwidths, nmax, capmax;	/* RememberWidths */
	int err;
};

static int
tw_add_line(struct tw *t)
{
	if (KC_GROW(t->lines, t->caplines, t->nlines + 1) != 0)
		return t->err = KC_ERR_NOMEM;
	memset(&t->lines[t->nlines++], 0, sizeof(struct tw_line));
	return 0;
}

static void
tw_reset(struct tw *t)
{
	for (size_t i = 0; i < t->nlines; i++)
		free(t->lines[i].cells);
	t->nlines = 0;
	t->textlen = 0;
	memset(&t->cell, 0, sizeof(t->cell));
	t->nwidths = 0;
	tw_add_line(t);
}

static size_t
tw_terminate_cell(struct tw *t, int htab)
{
	struct tw_line *l = &t->lines[t->nlines - 1];

	t->cell.htab = htab;
	if (KC_GROW(l->cells, l->cap, l->n + 1) != 0) {
		t->err = KC_ERR_NOMEM;
		return 0;
	}
	l->cells[l->n++] = t->cell;
	memset(&t->cell, 0, sizeof(t->cell));
	return l->n;
}

static void
tw_pad(struct tw *t, size_t textw, size_t cellw)
{
	for (size_t i = textw; i < cellw; i++)
		if (kc_buf_addc(t->out, ' ') != 0)
			t->err = KC_ERR_LIMIT;
}

static size_t
tw_write_lines(struct tw *t, size_t pos, size_t line0, size_t line1)
{
	for (size_t i = line0; i < line1; i++) {
		const struct tw_line *l = &t->lines[i];

		for (size_t j = 0; j < l->n; j++) {
			const struct tw_cell *c = &l->cells[j];

			if (c->size > 0) {
				if (kc_buf_add(t->out, t->text + pos, c->size) != 0)
					t->err = KC_ERR_LIMIT;
				pos += c->size;
			}
			if (j < t->nwidths)
				tw_pad(t, c->width, t->widths[j]);
		}
		if (i + 1 == t->nlines) {
			/* last buffered line: the outstanding incomplete cell */
			if (t->cell.size > 0 && kc_buf_add(t->out, t->text + pos, t->cell.size) != 0)
				t->err = KC_ERR_LIMIT;
			pos += t->cell.size;
		} else if (kc_buf_addc(t->out, '\n') != 0) {
			t->err = KC_ERR_LIMIT;
		}
	}
	return pos;
}

static size_t
tw_format(struct tw *t, size_t pos, size_t line0, size_t line1)
{
	size_t column = t->nwidths;

	for (size_t this = line0; this < line1; this++) {
		size_t width = TW_MINWIDTH;

		if (column + 1 >= t->lines[this].n)
			continue;
		/* cell exists in this column: print the lines before the block */
		pos = tw_write_lines(t, pos, line0, this);
		line0 = this;
		for (; this < line1; this++) {
			const struct tw_line *l = &t->lines[this];

			if (column + 1 >= l->n)
				break;
			if (l->cells[column].width + TW_PADDING > width)
				width = l->cells[column].width + TW_PADDING;
		}
		/* RememberWidths */
		if (t->nmax < t->nwidths) {
			if (KC_GROW(t->maxwidths, t->capmax, t->nwidths) != 0) {
				t->err = KC_ERR_NOMEM;
				return pos;
			}
			memcpy(t->maxwidths + t->nmax, t->widths + t->nmax,
			    (t->nwidths - t->nmax) * sizeof(*t->widths));
			t->nmax = t->nwidths;
		}
		if (t->nmax == t->nwidths) {
			if (KC_GROW(t->maxwidths, t->capmax, t->nmax + 1) != 0) {
				t->err = KC_ERR_NOMEM;
				return pos;
			}
			t->maxwidths[t->nmax++] = width;
		} else if (t->maxwidths[t->nwidths] > width) {
			width = t->maxwidths[t->nwidths];
		} else if (t->maxwidths[t->nwidths] < width) {
			t->maxwidths[t->nwidths] = width;
		}
		if (KC_GROW(t->widths, t->capwidths, t->nwidths + 1) != 0) {
			t->err = KC_ERR_NOMEM;
			return pos;
		}
		t->widths[t->nwidths++] = width;
		pos = tw_format(t, pos, line0, this);
		t->nwidths--;
		line0 = this;
	}
	return tw_write_lines(t, pos, line0, line1);
}

static void
tw_flush(struct tw *t)
{
	if (t->cell.size > 0)
		tw_terminate_cell(t, 0);
	tw_format(t, 0, 0, t->nlines);
	tw_reset(t);
}

static void
tw_append(struct tw *t, const char *p, size_t n)
{
	if (KC_GROW(t->text, t->textcap, t->textlen + n + 1) != 0) {
		t->err = KC_ERR_NOMEM;
		return;
	}
	memcpy(t->text + t->textlen, p, n);
	t->textlen += n;
	t->cell.size += n;
	t->cell.width += kc_utf8_count((const unsigned char *)p, n);
}

static void
tw_write(struct tw *t, const char *p, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && t->err == 0; i++) {
		char ch = p[i];
		size_t ncells;

		if (ch != '\t' && ch != '\v' && ch != '\n' && ch != '\f')
			continue;
		tw_append(t, p + n, i - n);
		n = i + 1;
		ncells = tw_terminate_cell(t, ch == '\t');
		if (ch == '\n' || ch == '\f') {
			tw_add_line(t);
			if (ch == '\f' || ncells == 1)
				tw_flush(t);
		}
	}
	if (t->err == 0)
		tw_append(t, p + n, len - n);
}

int
kc_cani_tabwrite(const char *text, size_t len, struct kc_buf *out)
{
	struct tw t;

	memset(&t, 0, sizeof(t));
	t.out = out;
	tw_reset(&t);
	tw_write(&t, text, len);
	if (t.err == 0)
		tw_flush(&t);
	for (size_t i = 0; i < t.nlines; i++)
		free(t.lines[i].cells);
	free(t.lines);
	free(t.text);
	free(t.widths);
	free(t.maxwidths);
	if (t.err != 0)
		return kc_err_set(t.err, t.err == KC_ERR_LIMIT ? "can-i table too large" : "out of memory");
	return 0;
}

/* ---- rules ---- */

struct crule {
	const char *group;	/* resource rules */
	const char *resource;
	const char *name;	/* NULL: no resourceNames */
	const char *url;	/* non-resource rules */
	const char **verbs;
	size_t nverbs, capverbs;
	size_t seq;		/* input order, for stable sorts */
	char *str;		/* the Go String() */
	int dead;		/* merged into another */
};

struct crules {
	struct crule *v;
	size_t n, cap;
};

static int
get_strs(const cJSON *obj, const char *key, const cJSON **arr, size_t *n)
{
	const cJSON *a = kc_json_get(obj, key), *it;

	*arr = NULL;
	*n = 0;
	if (a == NULL || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return kc_err_set(KC_ERR_PARSE, "rules review: '%s' is not a list", key);
	cJSON_ArrayForEach(it, a) {
		if (!cJSON_IsString(it))
			return kc_err_set(KC_ERR_PARSE, "rules review: '%s' holds a non-string", key);
		(*n)++;
	}
	*arr = a;
	return 0;
}

static int
push(struct crules *cr, const char *group, const char *resource, const char *name,
    const char *url, const char *verb)
{
	struct crule *c;

	if (KC_GROW(cr->v, cr->cap, cr->n + 1) != 0)
		return KC_ERR_NOMEM;
	c = &cr->v[cr->n];
	memset(c, 0, sizeof(*c));
	c->group = group;
	c->resource = resource;
	c->name = name;
	c->url = url;
	c->seq = cr->n;
	if (KC_GROW(c->verbs, c->capverbs, 1) != 0)
		return KC_ERR_NOMEM;
	c->verbs[c->nverbs++] = verb;
	cr->n++;
	return 0;
}

/* rbac.BreakdownRule over convertToPolicyRule's output */
static int
breakdown(const cJSON *status, struct crules *cr)
{
	const cJSON *rrs = kc_json_get(status, "resourceRules");
	const cJSON *nrs = kc_json_get(status, "nonResourceRules");
	const cJSON *rule;
	int r;

	cJSON_ArrayForEach(rule, rrs) {
		const cJSON *verbs, *groups, *res, *names, *g, *rs, *v, *nm;
		size_t nv, ng, nr, nn;

		if ((r = get_strs(rule, "verbs", &verbs, &nv)) != 0 ||
		    (r = get_strs(rule, "apiGroups", &groups, &ng)) != 0 ||
		    (r = get_strs(rule, "resources", &res, &nr)) != 0 ||
		    (r = get_strs(rule, "resourceNames", &names, &nn)) != 0)
			return r;
		cJSON_ArrayForEach(g, groups)
			cJSON_ArrayForEach(rs, res)
				cJSON_ArrayForEach(v, verbs) {
					if (nn == 0) {
						if ((r = push(cr, g->valuestring, rs->valuestring, NULL, NULL,
						    v->valuestring)) != 0)
							return r;
						continue;
					}
					cJSON_ArrayForEach(nm, names)
						if ((r = push(cr, g->valuestring, rs->valuestring,
						    nm->valuestring, NULL, v->valuestring)) != 0)
							return r;
				}
	}
	cJSON_ArrayForEach(rule, nrs) {
		const cJSON *verbs, *urls, *u, *v;
		size_t nv, nu;

		if ((r = get_strs(rule, "verbs", &verbs, &nv)) != 0 ||
		    (r = get_strs(rule, "nonResourceURLs", &urls, &nu)) != 0)
			return r;
		cJSON_ArrayForEach(u, urls)
			cJSON_ArrayForEach(v, verbs)
				if ((r = push(cr, NULL, NULL, NULL, u->valuestring, v->valuestring)) != 0)
					return r;
	}
	return 0;
}

static int
nullcmp(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* CompactRules' map key: (group, resource, has name, name) */
static int
cmp_key(const struct crule *a, const struct crule *b)
{
	int c;

	if ((c = (a->url != NULL) - (b->url != NULL)) != 0)
		return c;
	if ((c = strcmp(a->group ? a->group : "", b->group ? b->group : "")) != 0)
		return c;
	if ((c = strcmp(a->resource ? a->resource : "", b->resource ? b->resource : "")) != 0)
		return c;
	return nullcmp(a->name, b->name);
}

/* a stable sort: qsort with the input order as the last key */
static int
cmp_by_key(const void *x, const void *y)
{
	const struct crule *a = x, *b = y;
	int c = cmp_key(a, b);

	if (c != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
cmp_by_str(const void *x, const void *y)
{
	const struct crule *a = x, *b = y;
	int c = strcmp(a->str, b->str);

	if (c != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Go's %v of a []string */
static void
go_list(struct kc_buf *b, const char *const *v, size_t n)
{
	kc_buf_addc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			kc_buf_addc(b, ' ');
		kc_buf_adds(b, v[i]);
	}
	kc_buf_addc(b, ']');
}

static void
go_one(struct kc_buf *b, const char *s)
{
	go_list(b, &s, s != NULL ? 1 : 0);
}

static int
rule_string(struct crule *c)
{
	struct kc_buf b = KC_BUF_INIT(64u << 20);

	kc_buf_adds(&b, "&PolicyRule{Verbs:");
	go_list(&b, c->verbs, c->nverbs);
	kc_buf_adds(&b, ",APIGroups:");
	go_one(&b, c->url == NULL ? c->group : NULL);
	kc_buf_adds(&b, ",Resources:");
	go_one(&b, c->url == NULL ? c->resource : NULL);
	kc_buf_adds(&b, ",ResourceNames:");
	go_one(&b, c->name);
	kc_buf_adds(&b, ",NonResourceURLs:");
	go_one(&b, c->url);
	if (kc_buf_adds(&b, ",}") != 0) {
		kc_buf_free(&b);
		return kc_err_set(KC_ERR_LIMIT, "rule too large");
	}
	c->str = kc_buf_take(&b, NULL);
	return c->str != NULL ? 0 : kc_err_set(KC_ERR_NOMEM, "out of memory");
}

/* describe.CombineResourceGroup */
static void
combine_resource_group(struct kc_buf *b, const struct crule *c)
{
	const char *slash;

	if (c->url != NULL)
		return;
	slash = strchr(c->resource, '/');
	kc_buf_add(b, c->resource, slash ? (size_t)(slash - c->resource) : strlen(c->resource));
	if (c->group[0] != '\0')
		kc_buf_addf(b, ".%s", c->group);
	if (slash != NULL)
		kc_buf_adds(b, slash);
}

/* CompactRules: merge resource rules with one key, verbs in input order,
 * each verb once.  0 or KC_ERR_NOMEM (cr stays whole for freeing). */
static int
compact_rules(struct crules *cr)
{
	size_t i, j, live = 0;

	if (cr->n > 1)
		qsort(cr->v, cr->n, sizeof(*cr->v), cmp_by_key);
	for (i = 0; i < cr->n; i = j) {
		for (j = i + 1; j < cr->n && cr->v[i].url == NULL && cmp_key(&cr->v[i], &cr->v[j]) == 0; j++) {
			int seen = 0;

			cr->v[j].dead = 1;
			for (size_t k = 0; k < cr->v[i].nverbs && !seen; k++)
				seen = strcmp(cr->v[i].verbs[k], cr->v[j].verbs[0]) == 0;
			if (seen)
				continue;
			if (KC_GROW(cr->v[i].verbs, cr->v[i].capverbs, cr->v[i].nverbs + 1) != 0)
				return KC_ERR_NOMEM;
			cr->v[i].verbs[cr->v[i].nverbs++] = cr->v[j].verbs[0];
		}
	}
	for (i = 0; i < cr->n; i++) {
		if (cr->v[i].dead) {
			free(cr->v[i].verbs);
			continue;
		}
		cr->v[live++] = cr->v[i];
	}
	cr->n = live;
	return 0;
}

int
kc_cani_render(const cJSON *review, struct kc_buf *out, struct kc_buf *warn)
{
	const cJSON *status = kc_json_get(review, "status");
	struct crules cr = { NULL, 0, 0 };
	struct kc_buf text = KC_BUF_INIT(256u << 20);
	size_t i;
	int r = 0;

	if (!cJSON_IsObject(status))
		status = review;	/* given the status itself */
	if (cJSON_IsTrue(kc_json_get(status, "incomplete")) && warn != NULL) {
		const cJSON *e = kc_json_get(status, "evaluationError");

		kc_buf_addf(warn, "Warning: the list may be incomplete: %s\n",
		    cJSON_IsString(e) ? e->valuestring : "");
	}
	if ((r = breakdown(status, &cr)) != 0)
		goto out;
	if ((r = compact_rules(&cr)) != 0)
		goto out;
	for (i = 0; i < cr.n; i++)
		if ((r = rule_string(&cr.v[i])) != 0)
			goto out;
	/* sort.Stable by String(); equal strings print equal rows, so the
	 * order of the compacted list (a Go map's) cannot show */
	if (cr.n > 1)
		qsort(cr.v, cr.n, sizeof(*cr.v), cmp_by_str);
	kc_buf_adds(&text, "Resources\tNon-Resource URLs\tResource Names\tVerbs\n");
	for (i = 0; i < cr.n; i++) {
		const struct crule *c = &cr.v[i];

		combine_resource_group(&text, c);
		kc_buf_addc(&text, '\t');
		go_one(&text, c->url);
		kc_buf_addc(&text, '\t');
		go_one(&text, c->name);
		kc_buf_addc(&text, '\t');
		go_list(&text, c->verbs, c->nverbs);
		if (kc_buf_addc(&text, '\n') != 0) {
			r = kc_err_set(KC_ERR_LIMIT, "can-i table too large");
			goto out;
		}
	}
	r = kc_cani_tabwrite(text.data, text.len, out);
out:
	for (i = 0; i < cr.n; i++) {
		free(cr.v[i].verbs);
		free(cr.v[i].str);
	}
	free(cr.v);
	kc_buf_free(&text);
	return r;
}
