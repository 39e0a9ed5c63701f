/* report_sections.c - the report's tables: findings, agent inventory,
 * who-can, the audit segment and the collection items. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/sensitive.h"
#include "formats/report_int.h"
#include "manifest/auditchain_bundle.h"
#include "util/err.h"
#include "util/jarena.h"
#include "util/json.h"
#include "util/mem.h"

/* ------------------------------------------------------------------ */
/* findings, inventory, who-can */

static int
cmp_findings(const void *a, const void *b)
{
	const cJSON *fa = *(const cJSON *const *)a, *fb = *(const cJSON *const *)b;
	int d = rh_sev_rank(kc_json_str(fa, "severity")) - rh_sev_rank(kc_json_str(fb, "severity"));

	return d != 0 ? d : strcmp(kc_json_str0(fa, "id"), kc_json_str0(fb, "id"));
}

static void
rule_text(struct w *w, const cJSON *rule)
{
	const cJSON *urls = kc_json_path(rule, "nonResourceURLs");

	if (!cJSON_IsObject(rule)) {
		rh_text_or_dash(w, NULL);
		return;
	}
	rh_raw(w, "<code>verbs ");
	rh_jlist(w, kc_json_path(rule, "verbs"), ",");
	if (cJSON_GetArraySize(urls) > 0) {
		rh_raw(w, " \xc2\xb7 URLs ");
		rh_jlist(w, urls, ",");
	} else {
		rh_raw(w, " \xc2\xb7 resources ");
		rh_jlist(w, kc_json_path(rule, "resources"), ",");
		rh_raw(w, " \xc2\xb7 apiGroups ");
		{
			const cJSON *g;
			int first = 1;

			cJSON_ArrayForEach(g, kc_json_path(rule, "apiGroups")) {
				rh_raw(w, first ? "" : ",");
				first = 0;
				rh_text(w, cJSON_IsString(g) && g->valuestring[0] ? g->valuestring : "core");
			}
		}
		if (rh_jcount(rule, "resourceNames") > 0) {
			rh_raw(w, " \xc2\xb7 names ");
			rh_jlist(w, kc_json_path(rule, "resourceNames"), ",");
		}
	}
	rh_raw(w, "</code>");
}

static const char FINDINGS_HEAD[] =
    "><thead><tr><th>id</th><th>severity</th><th>subject</th><th>binding</th><th>role</th>"
    "<th>scope</th><th>matched rule</th><th>ATT&amp;CK</th><th>CWE</th></tr></thead><tbody>\n";

/* The findings table (id="findings" in the report); with always, an
 * empty list still gives the table (with one "none" row), so that tools
 * looking for it find it. */
void
rh_findings_table(struct w *w, const char *id, const cJSON *arr, int sort, int always)
{
	const cJSON **v = NULL, *f;
	int n = cJSON_GetArraySize(arr), k = 0;

	if (n == 0) {
		if (!always) {
			rh_raw(w, "<p class=\"note\">None.</p>\n");
			return;
		}
		rh_raw(w, "<table class=\"findings\"");
		if (id != NULL)
			rh_rawf(w, " id=\"%s\"", id);
		rh_raw(w, FINDINGS_HEAD);
		rh_raw(w, "<tr><td colspan=\"9\" class=\"note\">No finding.</td></tr>\n</tbody></table>\n");
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
	rh_raw(w, "<table class=\"findings\"");
	if (id != NULL)
		rh_rawf(w, " id=\"%s\"", id);
	rh_raw(w, FINDINGS_HEAD);
	for (k = 0; k < n && k < KC_REPORT_ROWS_MAX; k++) {
		const cJSON *x = v[k], *inner = cJSON_IsObject(kc_json_path(x, "finding")) ? kc_json_path(x, "finding") : x;
		const char *sc = kc_json_str(inner, "scope");

		rh_rawf(w, "<tr class=\"row-%s\"><td><strong>", rh_sev_class(kc_json_str(x, "severity")));
		rh_text_or_dash(w, kc_json_str(x, "id"));
		rh_raw(w, "</strong><br/><span class=\"note\">");
		rh_text(w, kc_json_str(x, "title"));
		if (inner != x) {
			rh_raw(w, " (");
			rh_text(w, kc_json_str(inner, "id"));
			rh_raw(w, ": ");
			rh_text(w, kc_json_str(inner, "title"));
			rh_raw(w, ")");
		}
		rh_raw(w, "</span></td><td>");
		rh_sev_badge(w, kc_json_str(x, "severity"));
		rh_raw(w, "</td><td>");
		rh_ref(w, kc_json_path(inner, "subject"));
		rh_raw(w, "</td><td>");
		rh_ref(w, kc_json_path(inner, "binding"));
		rh_raw(w, "</td><td>");
		rh_ref(w, kc_json_path(inner, "role"));
		rh_raw(w, "</td><td>");
		if (sc != NULL && strcmp(sc, "cluster") == 0) {
			rh_raw(w, "<strong>cluster-wide</strong>");
		} else if (sc != NULL && strcmp(sc, "namespace") == 0 && rh_jhas(inner, "binding.namespace")) {
			rh_raw(w, "namespace ");
			rh_text(w, kc_json_str(kc_json_path(inner, "binding"), "namespace"));
		} else {
			rh_text_or_dash(w, sc);
		}
		rh_raw(w, "</td><td>");
		if (kc_json_str(inner, "matched") != NULL) {
			rh_text(w, kc_json_str(inner, "matched"));
			rh_raw(w, "<br/>");
		}
		if (kc_json_str(kc_json_get(inner, "reach"), "text") != NULL) {	/* bundles with discovery */
			rh_text(w, kc_json_str(kc_json_get(inner, "reach"), "text"));
			rh_raw(w, "<br/>");
		}
		rule_text(w, kc_json_path(inner, "rule"));
		rh_raw(w, "</td><td>");
		rh_text_or_dash(w, kc_json_str(inner, "attack"));
		rh_raw(w, "</td><td>");
		rh_text_or_dash(w, kc_json_str(inner, "cwe"));
		rh_raw(w, "</td></tr>\n");
	}
	rh_raw(w, "</tbody></table>\n");
	rh_more_rows(w, k, n);
	free(v);
}

void
rh_findings_section(struct w *w, const struct bundle *b)
{
	const cJSON *fd = b->findings;
	static const char *const sevs[] = { "critical", "high", "medium", "low", "info" };

	rh_raw(w, "<section id=\"findings-section\"><h2>Findings by severity</h2>\n");
	if (fd == NULL) {
		rh_raw(w, "<p class=\"note\">No findings document (analysis/findings.json) in the bundle.</p>\n");
		rh_findings_table(w, "findings", NULL, 0, 1);
		rh_raw(w, "</section>\n");
		return;
	}
	rh_raw(w, "<p>");
	for (int i = 0; i < 5; i++) {
		rh_rawf(w, "<span class=\"sev sev-%s\">%s %d</span> ", sevs[i], sevs[i],
		    (int)rh_jnum(kc_json_path(fd, "counts"), sevs[i], 0));
	}
	rh_raw(w, "</p>\n");
	rh_findings_table(w, "findings", kc_json_path(fd, "findings"), 1, 1);
	rh_raw(w, "<p class=\"note\">Rules: docs/RBAC_SEMANTICS.md. Blind spots of the offline analysis: ");
	rh_jlist(w, kc_json_get(fd, "blindSpots") ? kc_json_get(fd, "blindSpots") :
	    kc_json_path(b->manifest, "findings_summary.blindSpots"), "; ");
	rh_raw(w, ".</p>\n</section>\n");
}

int
rh_is_agent(const struct bundle *b, const char *ns, const char *name)
{
	size_t n;

	(void)kc_nsindex_slice(&b->sidx, ns, name, &n);
	return n > 0;
}

/* A list cell: items separated by ';' one per line. */
static void
list_cell(struct w *w, const char *s, int red)
{
	const char *p = s, *semi;
	struct kc_buf one = KC_BUF_INIT(1u << 16);

	if (s == NULL || *s == '\0') {
		rh_text_or_dash(w, NULL);
		return;
	}
	if (red)
		rh_raw(w, "<span class=\"bad\">");
	for (;;) {
		semi = strchr(p, ';');
		kc_buf_reset(&one);
		kc_buf_add(&one, p, semi ? (size_t)(semi - p) : strlen(p));
		rh_text(w, kc_buf_str(&one));
		if (semi == NULL)
			break;
		rh_raw(w, "<br/>");
		p = semi + 1;
	}
	if (red)
		rh_raw(w, "</span>");
	kc_buf_free(&one);
}

/* cloud_reach: one line per entry, "cloud reach: X, not evaluated by
 * kcustody" (an inventory without the column: a dash) */
static void
reach_cell(struct w *w, const char *cell)
{
	const char *p = cell, *semi;

	if (cell == NULL || *cell == '\0') {
		rh_text_or_dash(w, NULL);
		return;
	}
	for (;;) {
		struct kc_buf one = KC_BUF_INIT(1u << 20);

		semi = strchr(p, ';');
		kc_buf_add(&one, p, semi != NULL ? (size_t)(semi - p) : strlen(p));
		rh_raw(w, "<span>cloud reach: ");
		rh_text(w, kc_buf_str(&one));
		rh_raw(w, ", not evaluated by kcustody</span>");
		kc_buf_free(&one);
		if (semi == NULL)
			break;
		rh_raw(w, "<br/>");
		p = semi + 1;
	}
}

void
rh_inventory_section(struct w *w, const struct bundle *b)
{
	const cJSON *hdr = cJSON_GetArrayItem(b->inventory, 0), *row;
	int rows = 0, col[11];
	static const char *const want[11] = { "namespace", "name", "pods", "bindings", "roles",
		"cluster_wide_reach", "secrets_reachable", "highest_severity", "cloud_reach", "owner_chains",
		"agent_resources" };

	rh_raw(w, "<section id=\"inventory\"><h2>Agent inventory</h2>\n");
	if (b->inventory == NULL || hdr == NULL) {
		rh_raw(w, "<p class=\"note\">No inventory (analysis/inventory.csv) in the bundle.</p></section>\n");
		return;
	}
	for (int c = 0; c < 11; c++) {
		const cJSON *x;
		int k = 0;

		col[c] = -1;
		cJSON_ArrayForEach(x, hdr) {
			if (cJSON_IsString(x) && strcmp(x->valuestring, want[c]) == 0)
				col[c] = k;
			k++;
		}
	}
	rh_raw(w, "<p class=\"sub\">Briefing step 1: every selected agent identity, what runs as it, "
	    "what it is bound to and what it can reach.</p>\n");
	rh_raw(w, "<table id=\"inventory-table\"><thead><tr><th>service account</th><th>pods</th>"
	    "<th>bindings</th><th>roles</th><th>cluster-wide reach</th><th>secrets reachable</th>"
	    "<th>highest severity</th><th>cloud reach</th><th>owner chains</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(row, b->inventory) {
		const char *v[11];

		if (row == hdr)
			continue;
		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		for (int c = 0; c < 11; c++) {
			const cJSON *it = col[c] >= 0 ? cJSON_GetArrayItem(row, col[c]) : NULL;

			v[c] = cJSON_IsString(it) ? it->valuestring : NULL;
		}
		rh_raw(w, "<tr><td><strong>");
		rh_text(w, v[0]);
		rh_raw(w, "/");
		rh_text(w, v[1]);
		rh_raw(w, "</strong>");
		if (v[10] != NULL && *v[10]) {
			/* the agent custom resources it runs (semicolon-separated) */
			rh_raw(w, "<br/>");
			list_cell(w, v[10], 0);
		}
		rh_raw(w, "</td><td>");
		list_cell(w, v[2], 0);
		rh_raw(w, "</td><td>");
		list_cell(w, v[3], 0);
		rh_raw(w, "</td><td>");
		list_cell(w, v[4], 0);
		rh_raw(w, "</td><td>");
		if (v[5] != NULL && strcmp(v[5], "yes") == 0)
			rh_raw(w, "<span class=\"bad\">yes</span>");
		else
			rh_text_or_dash(w, v[5]);
		rh_raw(w, "</td><td>");
		list_cell(w, v[6], 1);
		rh_raw(w, "</td><td>");
		if (v[7] != NULL && *v[7])
			rh_sev_badge(w, v[7]);
		else
			rh_text_or_dash(w, NULL);
		rh_raw(w, "</td><td>");
		reach_cell(w, v[8]);
		rh_raw(w, "</td><td>");
		list_cell(w, v[9], 0);
		rh_raw(w, "</td></tr>\n");
	}
	rh_raw(w, "</tbody></table>\n");
	rh_more_rows(w, rows, cJSON_GetArraySize(b->inventory) - 1);
	rh_raw(w, "</section>\n");
}

static int
cmp_wc(const void *a, const void *b)
{
	const struct wc_row *x = a, *y = b;
	int d;

	if (x->agent != y->agent)
		return y->agent - x->agent;
	d = (strcmp(kc_json_str0(x->subject, "kind"), "ServiceAccount") != 0) -
	    (strcmp(kc_json_str0(y->subject, "kind"), "ServiceAccount") != 0);
	if (d != 0)
		return d;
	if ((d = strcmp(x->where, y->where)) != 0)
		return d;
	if ((d = strcmp(kc_json_str0(x->subject, "namespace"), kc_json_str0(y->subject, "namespace"))) != 0)
		return d;
	if ((d = strcmp(kc_json_str0(x->subject, "name"), kc_json_str0(y->subject, "name"))) != 0)
		return d;
	return strcmp(kc_json_str0(x->binding, "name"), kc_json_str0(y->binding, "name"));
}

static uint64_t
wc_hash_str(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;	/* a separator no name holds */
}

static uint64_t
wc_hash_ref(uint64_t h, const cJSON *r)
{
	h = wc_hash_str(h, kc_json_str0(r, "kind"));
	h = wc_hash_str(h, kc_json_str0(r, "name"));
	return wc_hash_str(h, kc_json_str0(r, "namespace"));
}

static uint64_t
wc_hash(const char *where, const cJSON *s, const cJSON *bi, const cJSON *ro)
{
	uint64_t h = wc_hash_str(0xcbf29ce484222325ULL, where);

	return wc_hash_ref(wc_hash_ref(wc_hash_ref(h, s), bi), ro);
}

/* Double the index (or make it) and put every row back. */
static int
wc_rehash(struct wc_set *t)
{
	size_t ns = t->nslot == 0 ? 64 : t->nslot * 2;
	size_t *slot = calloc(ns, sizeof(*slot));

	if (slot == NULL)
		return KC_ERR_NOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const struct wc_row *r = &t->v[i];
		size_t k = (size_t)wc_hash(r->where, r->subject, r->binding, r->role) & (ns - 1);

		while (slot[k] != 0)
			k = (k + 1) & (ns - 1);
		slot[k] = i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->nslot = ns;
	return 0;
}

/* The fields of a ref the report reads (rh_ref, rh_same_ref, cmp_wc):
 * kind, name and namespace when strings, found when false. */
static int
ref_same(const cJSON *a, const cJSON *b)
{
	static const char *const keys[] = { "kind", "name", "namespace" };

	for (int i = 0; i < 3; i++) {
		const char *x = kc_json_str(a, keys[i]), *y = kc_json_str(b, keys[i]);

		if ((x == NULL) != (y == NULL) || (x != NULL && strcmp(x, y) != 0))
			return 0;
	}
	return cJSON_IsFalse(kc_json_get(a, "found")) == cJSON_IsFalse(kc_json_get(b, "found"));
}

static uint64_t
ref_hash(const cJSON *o)
{
	static const char *const keys[] = { "kind", "name", "namespace" };
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)cJSON_IsFalse(kc_json_get(o, "found"));

	for (int i = 0; i < 3; i++) {
		const char *x = kc_json_str(o, keys[i]);

		h = x != NULL ? wc_hash_str(h, x) : (h ^ 0xfe) * 0x100000001b3ULL;
	}
	return h;
}

/* o (a subject, binding or role of a who-can entry) as the report reads
 * it, one copy per distinct ref in b's arena (a who-can list names the
 * same few thousand subjects, bindings and roles a hundred thousand
 * times); NULL for a non-object, which every reader takes as it takes
 * NULL.  *err set when out of memory. */
static const cJSON *
ref_intern(struct bundle *b, const cJSON *o, int *err)
{
	static const char *const keys[] = { "kind", "name", "namespace" };
	cJSON *tmp, *c = NULL;
	size_t k;

	if (!cJSON_IsObject(o))
		return NULL;
	if ((b->nrefs + 1) * 2 > b->nrefslot) {
		size_t ns = b->nrefslot == 0 ? 1024 : b->nrefslot * 2;
		const cJSON **t = calloc(ns, sizeof(*t));

		if (t == NULL) {
			*err = KC_ERR_NOMEM;
			return NULL;
		}
		for (size_t i = 0; i < b->nrefslot; i++) {
			if (b->refs[i] == NULL)
				continue;
			for (k = (size_t)ref_hash(b->refs[i]) & (ns - 1); t[k] != NULL; k = (k + 1) & (ns - 1))
				;
			t[k] = b->refs[i];
		}
		free(b->refs);
		b->refs = t;
		b->nrefslot = ns;
	}
	for (k = (size_t)ref_hash(o) & (b->nrefslot - 1); b->refs[k] != NULL; k = (k + 1) & (b->nrefslot - 1))
		if (ref_same(b->refs[k], o))
			return b->refs[k];
	if ((tmp = cJSON_CreateObject()) == NULL) {
		*err = KC_ERR_NOMEM;
		return NULL;
	}
	for (int i = 0; i < 3; i++) {
		const char *x = kc_json_str(o, keys[i]);

		if (x != NULL && cJSON_AddStringToObject(tmp, keys[i], x) == NULL)
			*err = KC_ERR_NOMEM;
	}
	if (cJSON_IsFalse(kc_json_get(o, "found")) && cJSON_AddFalseToObject(tmp, "found") == NULL)
		*err = KC_ERR_NOMEM;
	if (*err != 0 || b->arena == NULL || (c = kc_jarena_copy(b->arena, tmp)) == NULL || !kc_jarena_owns(c)) {
		/* a heap copy would outlive nothing that frees it: out of memory */
		if (c != NULL && !kc_jarena_owns(c))
			cJSON_Delete(c);
		cJSON_Delete(tmp);
		*err = KC_ERR_NOMEM;
		return NULL;
	}
	cJSON_Delete(tmp);
	b->refs[k] = c;
	b->nrefs++;
	return c;
}

/* A string of e kept in b's arena (NULL stays NULL) */
static const char *
str_keep(struct bundle *b, const char *s, int *err)
{
	const char *c;

	if (s == NULL)
		return NULL;
	if (b->arena == NULL || (c = kc_jarena_strdup(b->arena, s)) == NULL) {
		*err = KC_ERR_NOMEM;
		return NULL;
	}
	return c;
}

static void
wc_add(struct bundle *b, struct wc_set *t, const cJSON *e, const char *where, unsigned verb, int *err)
{
	const cJSON *s = kc_json_path(e, "subject"), *bi = kc_json_path(e, "binding"), *ro = kc_json_path(e, "role");
	struct wc_row row;
	size_t k;

	if ((t->n + 1) * 2 > t->nslot && wc_rehash(t) != 0) {
		*err = KC_ERR_NOMEM;
		return;
	}
	for (k = (size_t)wc_hash(where, s, bi, ro) & (t->nslot - 1); t->slot[k] != 0; k = (k + 1) & (t->nslot - 1)) {
		struct wc_row *r = &t->v[t->slot[k] - 1];

		if (strcmp(r->where, where) == 0 && rh_same_ref(r->subject, s, 1) && rh_same_ref(r->binding, bi, 1) &&
		    rh_same_ref(r->role, ro, 1)) {
			r->verbs |= verb;
			return;
		}
	}
	/* a new row: what it shows copied out of the query (which goes) */
	row = (struct wc_row){ ref_intern(b, s, err), ref_intern(b, bi, err), ref_intern(b, ro, err),
		str_keep(b, where, err), str_keep(b, kc_json_str(e, "note"), err), verb, 0 };
	if (*err != 0)
		return;
	if (KC_GROW(t->v, t->cap, t->n + 1) != 0) {
		*err = KC_ERR_NOMEM;
		return;
	}
	t->v[t->n] = row;
	t->slot[k] = ++t->n;
}

static void
wc_clear(struct bundle *b)
{
	for (int r = 0; r < KC_SENSITIVE_N; r++) {
		free(b->wc[r].v);
		free(b->wc[r].slot);
		memset(&b->wc[r], 0, sizeof(b->wc[r]));
	}
}

void
rh_whocan_free(struct bundle *b)
{
	wc_clear(b);
	free(b->refs);
	b->refs = NULL;
	b->nrefs = b->nrefslot = 0;
}

struct wc_read {
	struct bundle *b;
};

/* One query of who-can.json: its entries into the table of its resource. */
static int
wc_query(void *ctx, const cJSON *q, int occurrence)
{
	struct wc_read *rd = ctx;
	const char *verb = kc_json_str0(q, "verb");
	unsigned bit = strcmp(verb, "get") == 0 ? 1 : strcmp(verb, "list") == 0 ? 2 :
	    strcmp(verb, "watch") == 0 ? 4 : 0;
	const cJSON *e, *nsl;
	int err = 0;

	(void)occurrence;
	if (q == NULL) {
		/* a "queries" member begins: its readers take the last, so
		 * start over (an empty or non-array last one shows nobody) */
		wc_clear(rd->b);
		return 0;
	}
	for (int r = 0; r < KC_SENSITIVE_N; r++) {
		struct wc_set *t = &rd->b->wc[r];

		if (bit == 0 || strcmp(kc_json_str0(q, "resource"), kc_sensitive_resources[r]) != 0 ||
		    rh_jhas(q, "subresource"))
			continue;
		cJSON_ArrayForEach(e, kc_json_path(q, "clusterWide"))
			wc_add(rd->b, t, e, "", bit, &err);
		cJSON_ArrayForEach(nsl, kc_json_path(q, "namespaces")) {
			if (nsl->string == NULL)	/* an array: its rows would have no place */
				return kc_err_set(KC_ERR_INVALID, "a query's \"namespaces\" is not an object of "
				    "namespace names");
			cJSON_ArrayForEach(e, nsl)
				wc_add(rd->b, t, e, nsl->string, bit, &err);
		}
	}
	return err;
}

struct rh_whocan_stream {
	struct wc_read rd;
	struct kc_jarena *scratch;	/* a query parsed (NULL: the heap) */
	struct kc_json_stream *js;
};

struct rh_whocan_stream *
rh_whocan_stream_new(struct bundle *b)
{
	struct rh_whocan_stream *s;

	wc_clear(b);	/* a member read again replaces what it gave */
	if (b->arena == NULL)
		b->arena = kc_jarena_new();
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->rd.b = b;
	s->scratch = kc_jarena_new();
	if ((s->js = kc_json_stream_new("queries", s->scratch, wc_query, &s->rd)) == NULL) {
		kc_jarena_free(s->scratch);
		free(s);
		return NULL;
	}
	return s;
}

int
rh_whocan_stream_feed(struct rh_whocan_stream *s, const char *p, size_t n)
{
	return kc_json_stream_feed(s->js, p, n);
}

int
rh_whocan_stream_end(struct rh_whocan_stream *s)
{
	struct bundle *b = s->rd.b;
	int err;
	cJSON *rest = kc_json_stream_end(s->js, &err);

	kc_jarena_free(s->scratch);
	free(s);
	if (rest == NULL) {
		wc_clear(b);
		return err != 0 ? err : KC_ERR_PARSE;
	}
	b->whocan = kc_jarena_take(b->arena, rest);
	return 0;
}

void
rh_whocan_stream_abandon(struct rh_whocan_stream *s)
{
	if (s == NULL)
		return;
	wc_clear(s->rd.b);
	kc_json_stream_free(s->js);
	kc_jarena_free(s->scratch);
	free(s);
}

int
rh_whocan_read(struct bundle *b, const char *text, size_t len)
{
	struct rh_whocan_stream *s = rh_whocan_stream_new(b);
	int r;

	if (s == NULL)
		return KC_ERR_NOMEM;
	if ((r = rh_whocan_stream_feed(s, text, len)) != 0) {
		rh_whocan_stream_abandon(s);
		return r;
	}
	return rh_whocan_stream_end(s);
}

void
rh_whocan_section(struct w *w, const struct bundle *b)
{
	const char *const *res = kc_sensitive_resources;

	rh_raw(w, "<section id=\"who-can\"><h2>Who can read secrets, configmaps and PVCs</h2>\n");
	if (b->whocan == NULL) {
		rh_raw(w, "<p class=\"note\">No who-can tables (analysis/who-can.json) in the bundle.</p></section>\n");
		return;
	}
	rh_raw(w, "<p class=\"sub\">Every subject that can get, list or watch these resources by RBAC in "
	    "this snapshot, with the binding and role that allow it. Selected agent identities "
	    "come first, highlighted.</p>\n");
	for (int r = 0; r < KC_SENSITIVE_N; r++) {
		struct wc_row *v = b->wc[r].v;
		size_t n = b->wc[r].n;
		int shown = 0;

		for (size_t i = 0; i < n; i++) {
			const cJSON *s = v[i].subject;

			v[i].agent = strcmp(kc_json_str0(s, "kind"), "ServiceAccount") == 0 &&
			    rh_is_agent(b, kc_json_str0(s, "namespace"), kc_json_str0(s, "name"));
		}
		if (n > 1)
			qsort(v, n, sizeof(*v), cmp_wc);
		rh_rawf(w, "<h3>%s</h3>\n", res[r]);
		rh_rawf(w, "<table class=\"whocan\" id=\"who-can-%s\"><thead><tr><th>subject</th><th>where</th>"
		    "<th>binding</th><th>role</th><th>get</th><th>list</th><th>watch</th></tr></thead>"
		    "<tbody>\n", res[r]);
		for (size_t i = 0; i < n && shown < KC_REPORT_ROWS_MAX; i++, shown++) {
			rh_rawf(w, "<tr%s><td>", v[i].agent ? " class=\"agent\"" : "");
			rh_ref(w, v[i].subject);
			if (v[i].agent)
				rh_raw(w, " <span class=\"pill bad\">agent</span>");
			if (v[i].note != NULL) {
				rh_raw(w, "<br/><span class=\"note\">");
				rh_text(w, v[i].note);
				rh_raw(w, "</span>");
			}
			rh_raw(w, "</td><td>");
			if (v[i].where[0] == '\0')
				rh_raw(w, "<strong>cluster-wide</strong>");
			else
				rh_text(w, v[i].where);
			rh_raw(w, "</td><td>");
			rh_ref(w, v[i].binding);
			rh_raw(w, "</td><td>");
			rh_ref(w, v[i].role);
			for (unsigned bit = 1; bit <= 4; bit <<= 1)
				rh_rawf(w, "</td><td>%s", (v[i].verbs & bit) ? "\xe2\x9c\x93" : "");
			rh_raw(w, "</td></tr>\n");
		}
		if (n == 0)
			rh_raw(w, "<tr><td colspan=\"7\" class=\"note\">nobody, by RBAC</td></tr>\n");
		rh_raw(w, "</tbody></table>\n");
		rh_more_rows(w, shown, (int)n);
	}
	rh_raw(w, "</section>\n");
}

/* ------------------------------------------------------------------ */
/* audit segment, collection items */

/* Window, totals, redaction; and what the sources cannot show. */
static void
audit_overview(struct w *w, const cJSON *s)
{
	const char *vis = kc_json_str(kc_json_path(s, "reads"), "visible");

	rh_raw(w, "<div class=\"grid3\"><div><table class=\"kv\"><tbody>\n");
	rh_kv(w, "window covered: from", kc_json_str(kc_json_path(s, "window.covered"), "from"));
	rh_kv(w, "window covered: to", kc_json_str(kc_json_path(s, "window.covered"), "to"));
	if (kc_json_path(s, "window.requested") != NULL)
		rh_kv_json(w, "window requested", kc_json_path(s, "window.requested"));
	rh_kv_json(w, "filters", kc_json_path(s, "filters"));
	rh_raw(w, "</tbody></table></div><div><table class=\"kv\"><tbody>\n");
	rh_kv_json(w, "sources", kc_json_path(s, "totals.sources"));
	rh_kv_json(w, "source errors", kc_json_path(s, "totals.source_errors"));
	rh_kv_json(w, "lines read", kc_json_path(s, "totals.lines"));
	rh_kv_json(w, "events", kc_json_path(s, "totals.events"));
	rh_kv_json(w, "events in the segment", kc_json_path(s, "totals.matched"));
	rh_rawf(w, "<tr><th>malformed lines</th><td%s>", rh_jnum(s, "totals.malformed", 0) > 0 ?
	    " class=\"bad\"" : "");
	rh_jtext(w, kc_json_path(s, "totals.malformed"));
	rh_raw(w, "</td></tr>\n");
	rh_rawf(w, "<tr><th>gaps (over %g s)</th><td%s>", rh_jnum(s, "gap_threshold_seconds", 0),
	    rh_jcount(s, "gaps") > 0 ? " class=\"bad\"" : "");
	rh_rawf(w, "%d</td></tr>\n", rh_jcount(s, "gaps"));
	rh_raw(w, "</tbody></table></div><div><table class=\"kv\"><tbody>\n");
	rh_kv(w, "redaction", kc_json_str(kc_json_path(s, "redaction"), "mode"));
	rh_kv_json(w, "lines redacted", kc_json_path(s, "redaction.lines"));
	rh_kv_mono(w, "marker", kc_json_str(kc_json_path(s, "redaction"), "marker"));
	rh_kv(w, "generator", kc_json_str(s, "generator"));
	if (rh_jcount(s, "providers") > 0)
		rh_kv_json(w, "providers", kc_json_path(s, "providers"));
	rh_raw(w, "</tbody></table></div></div>\n");
	/* exports that cannot hold reads: say so, a count of 0 would mislead */
	if (vis != NULL && (strcmp(vis, "none") == 0 || strcmp(vis, "some") == 0)) {
		rh_rawf(w, "<p class=\"bad\" id=\"audit-reads-blind\">Reads (get, list, watch) %s <b>not "
		    "determinable from these sources</b>: the sources below do not log them.</p>\n",
		    strcmp(vis, "none") == 0 ? "are" : "of some clusters are");
		rh_generic_table(w, kc_json_path(s, "reads.blind"), "audit-reads-blind-sources");
	}
	if (rh_jcount(s, "streams") > 0) {
		rh_raw(w, "<h3>Provider log streams</h3>\n");
		rh_generic_table(w, kc_json_path(s, "streams"), "audit-streams");
	}
}

static void
audit_sources(struct w *w, const cJSON *s)
{
	const cJSON *x;
	int rows = 0;

	rh_raw(w, "<h3>Sources</h3><table id=\"audit-sources\"><thead><tr><th>source</th><th>role</th>"
	    "<th>compression</th><th class=\"num\">size</th><th>SHA-256 (file / decompressed)</th>"
	    "<th class=\"num\">lines</th><th class=\"num\">malformed</th><th class=\"num\">matched</th>"
	    "<th class=\"num\">redacted</th><th>first / last event</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(x, kc_json_path(s, "sources")) {
		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		rh_raw(w, "<tr><td><strong>");
		rh_text_or_dash(w, kc_json_str(x, "name"));
		rh_raw(w, "</strong><br/><code>");
		rh_text(w, kc_json_str(x, "path"));
		rh_raw(w, "</code></td><td>");
		rh_text_or_dash(w, kc_json_str(x, "role"));
		if (kc_json_str(x, "form") != NULL && strcmp(kc_json_str0(x, "form"), "native") != 0) {
			rh_raw(w, "<br/>");
			rh_text(w, kc_json_str(x, "form"));
		}
		rh_raw(w, "</td><td>");
		rh_text_or_dash(w, kc_json_str(x, "compression"));
		rh_raw(w, "</td><td class=\"num\">");
		rh_jtext(w, kc_json_path(x, "size"));
		rh_raw(w, "</td><td><code>");
		rh_text_or_dash(w, kc_json_str(x, "sha256"));
		if (kc_json_str(x, "decompressed_sha256") && strcmp(kc_json_str0(x, "decompressed_sha256"),
		    kc_json_str0(x, "sha256")) != 0) {
			rh_raw(w, "<br/>");
			rh_text(w, kc_json_str(x, "decompressed_sha256"));
		}
		rh_raw(w, "</code></td><td class=\"num\">");
		rh_jtext(w, kc_json_path(x, "lines"));
		rh_rawf(w, "</td><td class=\"num%s\">", rh_jnum(x, "malformed", 0) > 0 ? " bad" : "");
		rh_jtext(w, kc_json_path(x, "malformed"));
		rh_raw(w, "</td><td class=\"num\">");
		rh_jtext(w, kc_json_path(x, "matched"));
		rh_raw(w, "</td><td class=\"num\">");
		rh_jtext(w, kc_json_path(x, "redacted"));
		rh_raw(w, "</td><td>");
		rh_text_or_dash(w, kc_json_str(x, "earliest"));
		rh_raw(w, "<br/>");
		rh_text_or_dash(w, kc_json_str(x, "latest"));
		rh_raw(w, "</td></tr>\n");
	}
	rh_raw(w, "</tbody></table>\n");
}

static void
audit_tables(struct w *w, const cJSON *s)
{
	if (rh_jcount(s, "skipped") > 0) {
		rh_raw(w, "<h3>Skipped sources</h3>\n");
		rh_generic_table(w, kc_json_path(s, "skipped"), "skipped");
	}
	if (rh_jcount(s, "gaps") > 0) {
		rh_raw(w, "<h3 class=\"bad\">Gaps in the audit record</h3>\n");
		rh_generic_table(w, kc_json_path(s, "gaps"), "gaps");
	}
	if (rh_jcount(s, "overlaps") > 0) {
		rh_raw(w, "<h3>Overlapping sources</h3>\n");
		rh_generic_table(w, kc_json_path(s, "overlaps"), "overlaps");
	}
}

/* Requests per user, resource and verb, with the decisions. */
static void
audit_counts(struct w *w, const cJSON *s)
{
	const cJSON *u, *rsc, *vb, *d;
	int rows = 0;

	rh_raw(w, "<h3>Requests in the segment</h3>\n");
	rh_raw(w, "<table id=\"audit-counts\"><thead><tr><th>user</th><th>resource</th><th>verb</th>"
	    "<th>decisions</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(u, kc_json_path(s, "counts"))
		cJSON_ArrayForEach(rsc, u)
			cJSON_ArrayForEach(vb, rsc) {
				if (rows++ >= KC_REPORT_ROWS_MAX)
					break;
				rh_raw(w, "<tr><td>");
				rh_text(w, u->string);
				rh_raw(w, "</td><td>");
				rh_text(w, rsc->string);
				rh_raw(w, "</td><td>");
				rh_text(w, vb->string);
				rh_raw(w, "</td><td>");
				cJSON_ArrayForEach(d, vb) {
					int deny = strcmp(d->string, "allow") != 0;

					rh_rawf(w, "<span class=\"pill %s\">", deny ? "bad" : "ok");
					rh_text(w, d->string);
					rh_raw(w, " ");
					rh_jtext(w, d);
					rh_raw(w, "</span> ");
				}
				rh_raw(w, "</td></tr>\n");
			}
	if (rows == 0)
		rh_raw(w, "<tr><td colspan=\"4\" class=\"note\">no request of the selected agents in the window"
		    "</td></tr>\n");
	rh_raw(w, "</tbody></table>\n");
}

/* Authorization errors in the agents' pod logs (rbac/logauthz.h), beside
 * the audit segment's denials: one row per matching line, agent first. */
static void
log_authz(struct w *w, const struct bundle *b)
{
	const cJSON *a, *x;
	cJSON *rows;
	int n = 0;

	/* no pod logs (--no-logs, no agent, an older bundle): the section
	 * reads as before kcustody collected them; the items table says why */
	if (b->logauthz == NULL)
		return;
	rh_raw(w, "<h3 id=\"log-authz\">Authorization errors in agent pod logs</h3>\n");
	if ((rows = cJSON_CreateArray()) == NULL)
		return;
	cJSON_ArrayForEach(a, kc_json_get(b->logauthz, "agents")) {
		n += (int)rh_jnum(a, "matching_lines", 0);
		cJSON_ArrayForEach(x, kc_json_get(a, "lines")) {
			cJSON *r = cJSON_CreateObject();

			if (r == NULL)
				continue;
			cJSON_AddStringToObject(r, "agent", kc_json_str0(a, "sa"));
			cJSON_AddStringToObject(r, "pod", kc_json_str0(x, "pod"));
			cJSON_AddStringToObject(r, "container", kc_json_str0(x, "container"));
			cJSON_AddBoolToObject(r, "previous", rh_jtrue(x, "previous"));
			cJSON_AddNumberToObject(r, "line", rh_jnum(x, "line", 0));
			cJSON_AddStringToObject(r, "text", kc_json_str0(x, "text"));
			cJSON_AddItemToArray(rows, r);
		}
	}
	rh_rawf(w, "<p>%d line%s of the selected agents' pod logs report a refused request "
	    "(403, Forbidden, forbidden:, RBAC: access denied, cannot get resource): signs of "
	    "over-restriction to review beside the audit log's denied requests.</p>\n", n, n == 1 ? "" : "s");
	if (cJSON_GetArraySize(rows) > 0)
		rh_generic_table(w, rows, "log-authz-lines");
	cJSON_Delete(rows);
}

void
rh_audit_section(struct w *w, const struct bundle *b)
{
	const cJSON *s = b->sources;

	rh_raw(w, "<section id=\"audit\"><h2>Audit-log segment</h2>\n");
	if (s == NULL) {
		rh_raw(w, "<p class=\"note\">No audit segment in this bundle (collected without "
		    "<code>--audit-log</code>).</p>");
		if (b->logauthz != NULL)
			rh_raw(w, "\n");
		log_authz(w, b);
		rh_raw(w, "</section>\n");
		return;
	}
	if (b->continuity != NULL) {
		int bad = strcmp(kc_json_str0(b->continuity, "state"), "broken") == 0;

		rh_rawf(w, "<p id=\"audit-continuity\"%s><b>Audit continuity:</b> ", bad ? " class=\"bad\"" : "");
		rh_text(w, kc_json_str0(b->continuity, "summary"));
		if (bad) {
			char first[600];

			if (kc_achain_first_tampering(b->continuity, first, sizeof(first))[0] != '\0') {
				rh_raw(w, "; ");
				rh_text(w, first);
			}
		}
		rh_raw(w, "</p>\n");
	}
	audit_overview(w, s);
	audit_sources(w, s);
	audit_tables(w, s);
	audit_counts(w, s);
	log_authz(w, b);
	rh_raw(w, "</section>\n");
}

void
rh_items_section(struct w *w, const struct bundle *b)
{
	const cJSON *it;
	int rows = 0, bad = 0;

	rh_raw(w, "<section id=\"items\"><h2>Collection items</h2>\n");
	cJSON_ArrayForEach(it, kc_json_path(b->manifest, "items")) {
		const char *st = kc_json_str0(it, "status");

		if (strcmp(st, "complete") != 0 && strcmp(st, "skipped") != 0)
			bad++;
	}
	if (bad > 0)
		rh_rawf(w, "<p class=\"bad\">%d item%s not complete: the bundle is PARTIAL for %s.</p>\n",
		    bad, bad == 1 ? " is" : "s are", bad == 1 ? "it" : "them");
	rh_raw(w, "<table id=\"items-table\"><thead><tr><th>item</th><th>status</th><th>detail</th>"
	    "<th class=\"num\">objects</th><th>resourceVersion</th><th class=\"num\">HTTP</th>"
	    "</tr></thead><tbody>\n");
	cJSON_ArrayForEach(it, kc_json_path(b->manifest, "items")) {
		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		rh_raw(w, "<tr><td>");
		rh_text_or_dash(w, kc_json_str(it, "name"));
		rh_raw(w, "</td><td>");
		rh_status_pill(w, kc_json_str(it, "status"));
		rh_raw(w, "</td><td>");
		rh_text(w, kc_json_str(it, "detail"));
		if (kc_json_path(it, "metadata_only") != NULL && rh_jtrue(it, "metadata_only"))
			rh_raw(w, "<span class=\"note\">metadata only</span>");
		if (kc_json_path(it, "redacted_annotations") != NULL) {
			rh_rawf(w, "<span class=\"note\"> \xc2\xb7 %d annotation%s redacted</span>",
			    (int)rh_jnum(it, "redacted_annotations", 0),
			    (int)rh_jnum(it, "redacted_annotations", 0) == 1 ? "" : "s");
		}
		rh_raw(w, "</td><td class=\"num\">");
		if (kc_json_path(it, "count") != NULL)
			rh_jtext(w, kc_json_path(it, "count"));
		else if (kc_json_path(it, "matched") != NULL)
			rh_jtext(w, kc_json_path(it, "matched"));
		rh_raw(w, "</td><td>");
		rh_text(w, kc_json_str(it, "resource_version"));
		rh_raw(w, "</td><td class=\"num\">");
		if (kc_json_path(it, "http_status") != NULL)
			rh_jtext(w, kc_json_path(it, "http_status"));
		rh_raw(w, "</td></tr>\n");
	}
	rh_raw(w, "</tbody></table>\n");
	rh_more_rows(w, rows, rh_jcount(b->manifest, "items"));
	rh_raw(w, "</section>\n");
}

