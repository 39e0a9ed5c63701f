/* report_tree_diff.c - access-path trees from a kcustody.diff/v1 document:
 * permissions compacted for drawing, the diff overlaid on a bundle's tree,
 * and the diff page's own tree. */
#include <stdlib.h>
#include <string.h>

#include "formats/report_int.h"
#include "util/err.h"
#include "util/json.h"
#include "util/mem.h"

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
	const char *url = kc_json_str(p, "url"), *g = kc_json_str(p, "apiGroup"), *n = kc_json_str(p, "name");

	if (url != NULL) {
		kc_buf_adds(b, url);
		return;
	}
	if (g != NULL && *g)
		kc_buf_addf(b, "%s/", g);
	kc_buf_adds(b, kc_json_str0(p, "resource"));
	if (n != NULL && *n && strcmp(n, "*") != 0)
		kc_buf_addf(b, " [%s]", n);
}

static void
perm_where(struct kc_buf *b, const cJSON *p)
{
	const char *ns = kc_json_str(p, "namespace");

	if (kc_json_str(p, "url") != NULL)
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
	x->verbs = kc_strdup(kc_json_str0(p, "verb"));
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

/* Severity rank of the worst finding of fv[0..fn) (the agent's slice of
 * the diff's findings index) that names this grant and covers the
 * permission; 5 when none. */
static int
perm_sev(const struct kc_nsref *fv, size_t fn, const cJSON *p, const cJSON *binding, const cJSON *role)
{
	int best = 5;
	const char *url = kc_json_str(p, "url");

	for (size_t i = 0; i < fn; i++) {
		const cJSON *f = fv[i].p, *rule = kc_json_path(f, "rule");

		if (!rh_same_ref(kc_json_path(f, "binding"), binding, 0) ||
		    !rh_same_ref(kc_json_path(f, "role"), role, 0))
			continue;
		if (url != NULL ? !rh_str_in(kc_json_path(rule, "nonResourceURLs"), url) :
		    (!rh_str_in(kc_json_path(rule, "resources"), kc_json_str0(p, "resource")) &&
		    strcmp(kc_json_str0(p, "resource"), "*") != 0))
			continue;
		if (!rh_str_in(kc_json_get(rule, "verbs"), kc_json_str0(p, "verb")) &&
		    strcmp(kc_json_str0(p, "verb"), "*") != 0)
			continue;
		if (rh_sev_rank(kc_json_str(f, "severity")) < best)
			best = rh_sev_rank(kc_json_str(f, "severity"));
	}
	return best;
}

const char *
rh_rank_name(int r)
{
	static const char *const n[] = { "critical", "high", "medium", "low", "info", "finding" };

	return n[r < 0 || r > 5 ? 5 : r];
}

/* The permissions of one diff list under one (binding, role). */
struct grp {
	const cJSON *binding, *role;
	struct cperms c;
};

struct grps {
	struct grp *v;
	size_t n, cap;
};

static void
grps_free(struct grps *gs)
{
	for (size_t k = 0; k < gs->n; k++)
		cperms_free(&gs->v[k].c);
	free(gs->v);
}

/* The group of (bi, ro), added when missing; NULL when out of memory. */
static struct grp *
grp_of(struct grps *gs, const cJSON *bi, const cJSON *ro)
{
	for (size_t k = 0; k < gs->n; k++)
		if (rh_same_ref(gs->v[k].binding, bi, 1) && rh_same_ref(gs->v[k].role, ro, 0))
			return &gs->v[k];
	if (KC_GROW(gs->v, gs->cap, gs->n + 1) != 0)
		return NULL;
	memset(&gs->v[gs->n], 0, sizeof(gs->v[gs->n]));
	gs->v[gs->n].binding = bi;
	gs->v[gs->n].role = ro;
	return &gs->v[gs->n++];
}

/* The permissions of agent's list grouped per (binding, role), each with
 * the severity of the worst finding that covers it.  0 or KC_ERR_NOMEM
 * (a failed add leaves the groups read so far). */
static int
group_perms(struct grps *gs, const cJSON *agent, const char *list, unsigned leaf_flags,
    const struct kc_nsindex *dfx)
{
	const char *ns = kc_json_str0(agent, "namespace"), *name = kc_json_str0(agent, "name");
	const cJSON *p, *g;
	size_t fn;
	const struct kc_nsref *fv = kc_nsindex_slice(dfx, ns, name, &fn);
	int r = dfx->err;

	cJSON_ArrayForEach(p, kc_json_get(agent, list)) {
		cJSON_ArrayForEach(g, kc_json_get(p, "grants")) {
			const cJSON *bi = kc_json_get(g, "binding"), *ro = kc_json_get(g, "role");
			struct grp *x = grp_of(gs, bi, ro);
			int sev;

			if (x == NULL)
				return KC_ERR_NOMEM;
			sev = perm_sev(fv, fn, p, bi, ro);
			if (cperms_add(&x->c, p, leaf_flags | rh_sev_flag(sev), sev) != 0)
				r = KC_ERR_NOMEM;
		}
	}
	return r;
}

/* One compacted permission c of list as a box under rn. */
static void
perm_box(struct tree *t, int rn, const struct cperm *c, const char *list, struct kc_buf *tmp)
{
	int pn;

	kc_buf_addf(tmp, "%s|%s|%s|%s", list, c->verbs, c->what, c->where);
	pn = rh_tree_add(t, rn, kc_buf_str(tmp), c->flags);
	kc_buf_reset(tmp);
	rh_tree_set(t, pn, 0, strcmp(c->verbs, "*") == 0 ? "* (every verb)" : c->verbs);
	rh_tree_set(t, pn, 1, strcmp(c->what, "*/*") == 0 ? "* (every resource, every API group)" :
	    strcmp(c->what, "*") == 0 ? "* (every core resource)" : c->what);
	rh_tree_set(t, pn, 2, c->where);
	if (c->flags & KC_SVG_REMOVED)
		kc_buf_addf(tmp, "removed%s%s", c->sev < 5 ? " \xc2\xb7 was " : "",
		    c->sev < 5 ? rh_rank_name(c->sev) : "");
	else if (c->flags & KC_SVG_ADDED)
		kc_buf_addf(tmp, "added%s%s", c->sev < 5 ? " \xc2\xb7 " : "",
		    c->sev < 5 ? rh_rank_name(c->sev) : "");
	else if (c->sev < 5)
		kc_buf_addf(tmp, "kept \xc2\xb7 %s", rh_rank_name(c->sev));
	if (tmp->len > 0)
		rh_tree_setb(t, pn, -1, tmp);
	if (pn >= 0 && c->sev < t->v[pn].sev)
		t->v[pn].sev = c->sev;
	kc_buf_addf(tmp, "%s: %s %s (%s)", list, c->verbs, c->what, c->where);
	rh_tree_setb(t, pn, -2, tmp);
}

/* The binding and role boxes of g under root (found or added with
 * node_flags): the role's index. */
static int
grp_path(struct tree *t, int root, const struct grp *g, unsigned node_flags, struct kc_buf *tmp)
{
	int bn, rn;

	rh_key_of(tmp, g->binding);
	if ((bn = rh_tree_find(t, root, kc_buf_str(tmp))) < 0) {
		bn = rh_tree_add(t, root, kc_buf_str(tmp), node_flags);
		kc_buf_reset(tmp);
		rh_label_binding(t, bn, g->binding, tmp);
		if (node_flags & KC_SVG_REMOVED)
			rh_tree_set(t, bn, -1, "removed");
		else if (node_flags & KC_SVG_ADDED)
			rh_tree_set(t, bn, -1, "new after remediation");
	}
	rh_key_of(tmp, g->role);
	if ((rn = rh_tree_find(t, bn, kc_buf_str(tmp))) < 0) {
		rn = rh_tree_add(t, bn, kc_buf_str(tmp), node_flags);
		kc_buf_reset(tmp);
		rh_label_role(t, rn, g->role, tmp);
	}
	kc_buf_reset(tmp);
	return rn;
}

/* Add the permissions of one diff list (removed, kept or added) of an
 * agent under binding -> role nodes of t, creating the nodes that are
 * missing with flags.  Leaves carry leaf_flags. */
static void
tree_add_perms(struct tree *t, int root, const cJSON *agent, const char *list, unsigned node_flags,
    unsigned leaf_flags, const struct kc_nsindex *dfx, struct kc_buf *tmp)
{
	struct grps gs = { NULL, 0, 0 };

	if (group_perms(&gs, agent, list, leaf_flags, dfx) != 0)
		t->err = KC_ERR_NOMEM;
	for (size_t k = 0; k < gs.n && t->err == 0; k++) {
		int rn;

		if (cperms_merge(&gs.v[k].c) != 0) {
			t->err = KC_ERR_NOMEM;
			break;
		}
		rn = grp_path(t, root, &gs.v[k], node_flags, tmp);
		for (size_t i = 0; i < gs.v[k].c.n; i++)
			perm_box(t, rn, &gs.v[k].c.v[i], list, tmp);
	}
	grps_free(&gs);
}

const cJSON *
rh_diff_agent(const struct kc_nsindex *aidx, const char *ns, const char *name)
{
	size_t n;
	const struct kc_nsref *v = kc_nsindex_slice(aidx, ns, name, &n);

	return n > 0 ? v[0].p : NULL;
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
void
rh_tree_overlay_diff(struct tree *t, const cJSON *agent, const struct kc_nsindex *dfx,
    struct kc_buf *tmp)
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

		cJSON_ArrayForEach(p, kc_json_path(agent, lists[l]))
			cJSON_ArrayForEach(g, kc_json_path(p, "grants")) {
				struct bkey *hit;

				rh_key_of(tmp, kc_json_path(g, "binding"));
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
			rh_tree_set(t, (int)k[i].node, -1, "new after remediation");
	}
	free(k);
	tree_add_perms(t, 0, agent, "removed", KC_SVG_REMOVED, KC_SVG_REMOVED, dfx, tmp);
}

/* The diff page's tree: everything from the diff; bindings that are kept
 * unchanged and carry no finding are folded into one grey box. */
void
rh_tree_from_diff(struct tree *t, const cJSON *agent, const struct kc_nsindex *dfx,
    struct kc_buf *tmp)
{
	const char *ns = kc_json_str0(agent, "namespace"), *name = kc_json_str0(agent, "name");
	struct tree full = { 0 };
	struct kc_buf folded = KC_BUF_INIT(4096);
	int root, nfold = 0;
	char *keep = NULL;	/* 1: something under the node is flagged or changed */
	int *idx = NULL;	/* the node's index in t, -1 when folded */

	root = rh_tree_root(&full, ns, name, tmp);
	tree_add_perms(&full, root, agent, "kept", 0, 0, dfx, tmp);
	tree_add_perms(&full, root, agent, "added", KC_SVG_ADDED, KC_SVG_ADDED, dfx, tmp);
	tree_add_perms(&full, root, agent, "removed", KC_SVG_REMOVED, KC_SVG_REMOVED, dfx, tmp);
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
		idx[i] = rh_tree_add(t, parent, x->key, x->flags);
		for (int k = 0; k < KC_SVG_LINES; k++)
			if (x->line[k] != NULL)
				rh_tree_set(t, idx[i], k, x->line[k]);
		if (x->tag != NULL)
			rh_tree_set(t, idx[i], -1, x->tag);
		if (x->title != NULL)
			rh_tree_set(t, idx[i], -2, x->title);
	}
	t->dropped += full.dropped;
	if (nfold > 0 && t->err == 0) {
		int gn = rh_tree_add(t, 0, "(unchanged)", KC_SVG_MUTED);

		kc_buf_addf(tmp, "%d unchanged binding%s", nfold, nfold == 1 ? "" : "s");
		rh_tree_setb(t, gn, 0, tmp);
		rh_tree_set(t, gn, 1, kc_buf_str(&folded));
		rh_tree_set(t, gn, 2, "kept, no finding");
		kc_buf_addf(tmp, "Kept without change and without a finding: %s", kc_buf_str(&folded));
		rh_tree_setb(t, gn, -2, tmp);
	}
out:
	free(keep);
	free(idx);
	rh_tree_free(&full);
	kc_buf_free(&folded);
}

