/* report_tree.c - access-path trees: nodes and their labels, the tree of
 * one agent from the bundle's effective grants, and drawing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/names.h"
#include "formats/report_int.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/mem.h"

/* ------------------------------------------------------------------ */
/* access-path trees */

void
rh_tree_free(struct tree *t)
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

int
rh_tree_find(const struct tree *t, int parent, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].parent == parent && strcmp(t->v[i].key, key) == 0)
			return (int)i;
	return -1;
}

int
rh_tree_add(struct tree *t, int parent, const char *key, unsigned flags)
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

void
rh_tree_set(struct tree *t, int i, int line, const char *s)
{
	char **slot;

	if (i < 0 || t->err != 0)
		return;
	slot = line == -1 ? &t->v[i].tag : line == -2 ? &t->v[i].title : &t->v[i].line[line];
	free(*slot);
	if ((*slot = kc_strdup(s)) == NULL)
		t->err = KC_ERR_NOMEM;
}

void
rh_tree_setb(struct tree *t, int i, int line, struct kc_buf *b)
{
	rh_tree_set(t, i, line, kc_buf_str(b));
	kc_buf_reset(b);
}

void
rh_tree_render(struct w *w, struct tree *t, const char *label)
{
	struct kc_svg_node *n;

	if (t->err != 0 || t->n == 0) {
		rh_raw(w, "<p class=\"bad\">The access-path picture could not be drawn.</p>");
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
	rh_raw(w, "<div class=\"svgwrap\">");
	if (w->err == 0 && kc_svg_render(n, t->n, label, w->b) != 0)
		w->err = KC_ERR_LIMIT;
	rh_raw(w, "</div>");
	if (t->dropped > 0)
		rh_rawf(w, "<p class=\"note\">The picture stops at %d boxes: %zu more are left out (the tables "
		    "list everything).</p>\n", TREE_MAX, t->dropped);
	free(n);
}

unsigned
rh_sev_flag(int rank)
{
	return rank <= 1 ? KC_SVG_DANGER : rank == 2 ? KC_SVG_WARN : 0;
}

int
rh_str_in(const cJSON *arr, const char *s)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, arr)
		if (cJSON_IsString(x) && (strcmp(x->valuestring, s) == 0 || strcmp(x->valuestring, "*") == 0))
			return 1;
	return 0;
}

int
rh_same_ref(const cJSON *a, const cJSON *b, int with_ns)
{
	if (strcmp(kc_json_str0(a, "kind"), kc_json_str0(b, "kind")) != 0 ||
	    strcmp(kc_json_str0(a, "name"), kc_json_str0(b, "name")) != 0)
		return 0;
	return !with_ns || strcmp(kc_json_str0(a, "namespace"), kc_json_str0(b, "namespace")) == 0;
}

int
rh_subject_is(const cJSON *f, const char *ns, const char *name)
{
	const cJSON *s = kc_json_path(f, "subject");

	return strcmp(kc_json_str0(s, "kind"), "ServiceAccount") == 0 &&
	    strcmp(kc_json_str0(s, "namespace"), ns) == 0 && strcmp(kc_json_str0(s, "name"), name) == 0;
}

/* The binding and role of a tree: "Kind ns/name" keys. */
void
rh_key_of(struct kc_buf *b, const cJSON *o)
{
	kc_buf_reset(b);
	rh_ref_text(b, o);
}

void
rh_label_binding(struct tree *t, int i, const cJSON *binding, struct kc_buf *tmp)
{
	const char *ns = kc_json_str(binding, "namespace");

	rh_tree_set(t, i, 0, kc_json_str0(binding, "name"));
	kc_buf_adds(tmp, kc_json_str0(binding, "kind"));
	if (ns != NULL && *ns)
		kc_buf_addf(tmp, " in %s", ns);
	rh_tree_setb(t, i, 1, tmp);
	rh_ref_text(tmp, binding);
	rh_tree_setb(t, i, -2, tmp);
}

void
rh_label_role(struct tree *t, int i, const cJSON *role, struct kc_buf *tmp)
{
	rh_tree_set(t, i, 0, kc_json_str0(role, "name"));
	kc_buf_adds(tmp, kc_json_str0(role, "kind"));
	if (cJSON_IsFalse(kc_json_path(role, "found")))
		kc_buf_adds(tmp, " (missing)");
	rh_tree_setb(t, i, 1, tmp);
	rh_ref_text(tmp, role);
	rh_tree_setb(t, i, -2, tmp);
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
	const cJSON *urls = kc_json_path(rule, "nonResourceURLs"), *groups = kc_json_path(rule, "apiGroups"), *g0;
	int core_only;

	join_arr(tmp, kc_json_path(rule, "verbs"), "\"\"");
	if (strcmp(kc_buf_str(tmp), "*") == 0)
		kc_buf_adds(tmp, " (every verb)");
	rh_tree_setb(t, i, 0, tmp);
	if (cJSON_GetArraySize(urls) > 0) {
		join_arr(tmp, urls, "\"\"");
		rh_tree_setb(t, i, 1, tmp);
		rh_tree_set(t, i, 2, "non-resource URLs");
		return;
	}
	join_arr(tmp, kc_json_path(rule, "resources"), "\"\"");
	if (strcmp(kc_buf_str(tmp), "*") == 0)
		kc_buf_adds(tmp, " (every resource)");
	if (rh_jcount(rule, "resourceNames") > 0) {
		kc_buf_adds(tmp, " [");
		join_arr(tmp, kc_json_path(rule, "resourceNames"), "\"\"");
		kc_buf_adds(tmp, "]");
	}
	rh_tree_setb(t, i, 1, tmp);
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
	rh_tree_setb(t, i, 2, tmp);
}

void
rh_findex_add(struct kc_nsindex *x, const cJSON *arr, int unwrap)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, arr) {
		const cJSON *s, *w = f;

		if (unwrap && cJSON_IsObject(kc_json_path(f, "finding")))
			w = kc_json_path(f, "finding");	/* AGR-025 wraps the finding */
		s = kc_json_path(w, "subject");
		if (strcmp(kc_json_str0(s, "kind"), "ServiceAccount") != 0)
			continue;
		if (kc_nsindex_add(x, kc_json_str0(s, "namespace"), kc_json_str0(s, "name"), w) != 0)
			return;
	}
}

void
rh_findex_add_named(struct kc_nsindex *x, const cJSON *arr)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, arr) {
		if (kc_nsindex_add(x, kc_json_str0(a, "namespace"), kc_json_str0(a, "name"), a) != 0)
			return;
	}
}

void
rh_findex_diff(struct kc_nsindex *x, const cJSON *diff)
{
	rh_findex_add(x, kc_json_path(diff, "findings.resolved"), 1);
	rh_findex_add(x, kc_json_path(diff, "findings.persisting"), 1);
	rh_findex_add(x, kc_json_path(diff, "findings.new"), 1);
	kc_nsindex_sort(x);
}

/* The findings fv[0..fn) (one agent's slice of the index) that name this
 * binding and role (and rule index when given): the worst severity rank
 * (5: none), and their ids in ids (reset first) when non-NULL. */
static int
grant_findings(const struct kc_nsref *fv, size_t fn, const cJSON *binding,
    const cJSON *role, int rule_index, struct kc_buf *ids)
{
	int best = 5, hits = 0;

	if (ids != NULL)
		kc_buf_reset(ids);
	for (size_t i = 0; i < fn; i++) {
		const cJSON *f = fv[i].p;
		const cJSON *ri = kc_json_path(f, "ruleIndex");

		if (!rh_same_ref(kc_json_path(f, "binding"), binding, 1) ||
		    !rh_same_ref(kc_json_path(f, "role"), role, 0))
			continue;
		if (rule_index >= 0 && cJSON_IsNumber(ri) && (int)ri->valuedouble != rule_index)
			continue;
		if (ids != NULL && hits < 3)
			kc_buf_addf(ids, "%s%s", hits > 0 ? " " : "", kc_json_str0(f, "id"));
		hits++;
		if (rh_sev_rank(kc_json_str(f, "severity")) < best)
			best = rh_sev_rank(kc_json_str(f, "severity"));
	}
	if (ids != NULL && hits > 3)
		kc_buf_addf(ids, " +%d", hits - 3);
	return best;
}

/* Mark node i with the findings that name its grant. */
static void
mark_findings(struct tree *t, int i, const struct kc_nsref *fv, size_t fn,
    const cJSON *binding, const cJSON *role, int rule_index, struct kc_buf *tmp)
{
	int best = grant_findings(fv, fn, binding, role, rule_index, tmp);

	if (best < 5 && i >= 0 && t->err == 0 && best < t->v[i].sev) {
		kc_buf_addf(tmp, " \xc2\xb7 %s", rh_rank_name(best));
		t->v[i].sev = best;
		t->v[i].flags |= rh_sev_flag(best);
		rh_tree_setb(t, i, -1, tmp);
	}
	kc_buf_reset(tmp);
}

/* The root box of an agent's tree: the service account; its index. */
int
rh_tree_root(struct tree *t, const char *ns, const char *name, struct kc_buf *tmp)
{
	int root;

	kc_buf_addf(tmp, "%s/%s", ns, name);
	root = rh_tree_add(t, -1, kc_buf_str(tmp), 0);
	rh_tree_set(t, root, 0, name);
	kc_buf_reset(tmp);
	rh_tree_set(t, root, 1, "ServiceAccount");
	kc_buf_addf(tmp, "in %s", ns);
	rh_tree_setb(t, root, 2, tmp);
	kc_buf_addf(tmp, "ServiceAccount %s/%s", ns, name);
	rh_tree_setb(t, root, -2, tmp);
	return root;
}

/* One agent's tree being built from its effective grants. */
struct grants {
	struct tree *t;
	int root;
	const struct kc_nsref *fv;	/* the findings that name the agent */
	size_t fn;
	const char *ns, *name;		/* the agent */
	struct kc_buf *tmp;
	struct kc_buf groups, gbind;	/* grants through groups, folded */
	int ngroup;
};

/* A grant through a group binding that no finding names is folded into
 * the grey box: 1 when it was. */
static int
fold_group_grant(struct grants *c, const cJSON *bi, const cJSON *ro, const cJSON *su, int ri,
    const char *bkey)
{
	if (grant_findings(c->fv, c->fn, bi, ro, ri, NULL) != 5)
		return 0;
	if (strstr(kc_buf_str(&c->gbind), bkey) == NULL) {
		kc_buf_addf(&c->gbind, "%s%s", c->gbind.len ? ", " : "", kc_json_str0(bi, "name"));
		c->ngroup++;
	}
	if (strstr(kc_buf_str(&c->groups), kc_json_str0(su, "name")) == NULL)
		kc_buf_addf(&c->groups, "%s%s", c->groups.len ? ", " : "", kc_json_str0(su, "name"));
	return 1;
}

/* The binding and role boxes of a grant (found or added): the role's. */
static int
grant_path(struct grants *c, const cJSON *bi, const cJSON *ro, const cJSON *su, const char *bkey)
{
	struct tree *t = c->t;
	struct kc_buf *tmp = c->tmp;
	char rkey[700];
	int bn, rn;

	if ((bn = rh_tree_find(t, c->root, bkey)) < 0) {
		bn = rh_tree_add(t, c->root, bkey, 0);
		rh_label_binding(t, bn, bi, tmp);
		if (strcmp(kc_json_str0(su, "kind"), "ServiceAccount") != 0) {
			kc_buf_addf(tmp, "via group %s", kc_json_str0(su, "name"));
			rh_tree_setb(t, bn, 2, tmp);
		}
	}
	rh_ref_text(tmp, ro);
	/* a node's key: cut, two roles would be drawn as one; too long, the
	 * picture is not drawn (rh_tree_render says so) */
	if (kc_fmt(rkey, sizeof(rkey), "%s", kc_buf_str(tmp)) != 0) {
		t->err = KC_ERR_LIMIT;
		kc_buf_reset(tmp);
		return -1;
	}
	kc_buf_reset(tmp);
	if ((rn = rh_tree_find(t, bn, rkey)) < 0) {
		rn = rh_tree_add(t, bn, rkey, 0);
		rh_label_role(t, rn, ro, tmp);
	}
	return rn;
}

/* One effective grant g of doc: binding -> role -> rule boxes. */
static void
add_grant(struct grants *c, const cJSON *doc, const cJSON *g)
{
	const cJSON *bi = kc_json_get(g, "binding"), *ro = kc_json_get(g, "role"), *su = kc_json_get(g, "subject");
	const char *scope = kc_json_str(g, "scope");
	struct tree *t = c->t;
	struct kc_buf *tmp = c->tmp;
	int ri = (int)rh_jnum(g, "ruleIndex", -1), rn, pn;
	char bkey[700];

	/* a RoleBinding's grant holds in the binding's namespace */
	if (scope != NULL && strcmp(scope, "namespace") == 0)
		scope = rh_jhas(bi, "namespace") ? kc_json_str(bi, "namespace") : kc_json_str(doc, "namespace");
	kc_buf_reset(tmp);
	rh_ref_text(tmp, bi);
	/* a node's key, as in grant_path */
	if (kc_fmt(bkey, sizeof(bkey), "%s", kc_buf_str(tmp)) != 0) {
		t->err = KC_ERR_LIMIT;
		kc_buf_reset(tmp);
		return;
	}
	kc_buf_reset(tmp);
	if (strcmp(kc_json_str0(su, "kind"), "ServiceAccount") != 0 && fold_group_grant(c, bi, ro, su, ri, bkey))
		return;
	rn = grant_path(c, bi, ro, su, bkey);
	kc_buf_addf(tmp, "rule %d @%s", ri, scope ? scope : "");
	if (rh_tree_find(t, rn, kc_buf_str(tmp)) >= 0) {
		kc_buf_reset(tmp);
		return;		/* the same grant seen from another namespace */
	}
	pn = rh_tree_add(t, rn, kc_buf_str(tmp), 0);
	kc_buf_reset(tmp);
	label_rule(t, pn, kc_json_get(g, "rule"), scope, tmp);
	mark_findings(t, pn, c->fv, c->fn, bi, ro, ri, tmp);
	if (pn >= 0 && t->err == 0) {
		kc_buf_adds(tmp, kc_json_str0(g, "reason"));
		rh_tree_setb(t, pn, -2, tmp);
	}
}

/* The grey box of the grants folded by fold_group_grant. */
static void
add_groups_box(struct grants *c)
{
	struct tree *t = c->t;
	struct kc_buf *tmp = c->tmp;
	int gn = rh_tree_add(t, c->root, "(groups)", KC_SVG_MUTED);

	kc_buf_addf(tmp, "via groups: %d binding%s", c->ngroup, c->ngroup == 1 ? "" : "s");
	rh_tree_setb(t, gn, 0, tmp);
	rh_tree_set(t, gn, 1, kc_buf_str(&c->groups));
	rh_tree_set(t, gn, 2, kc_buf_str(&c->gbind));
	kc_buf_addf(tmp, "Bindings to groups the account belongs to (%s), with no finding: %s",
	    kc_buf_str(&c->groups), kc_buf_str(&c->gbind));
	rh_tree_setb(t, gn, -2, tmp);
	rh_tree_set(t, gn, -1, "no finding");
}

/* One agent's tree from the bundle's effective grants.  Grants through a
 * group binding with no finding are folded into one grey box. */
void
rh_tree_from_grants(struct tree *t, const struct bundle *b, const char *ns, const char *name,
    struct kc_buf *tmp)
{
	struct grants c = { t, 0, NULL, 0, ns, name, tmp, KC_BUF_INIT(4096), KC_BUF_INIT(4096), 0 };
	char folder[KC_NAME_COMPONENT_SIZE];

	if (kc_name_sa_folder(ns, name, folder) < 0)
		folder[0] = '\0';	/* matches no effective/ folder */
	c.fv = kc_nsindex_slice(&b->fidx, ns, name, &c.fn);
	if (b->fidx.err != 0)
		t->err = b->fidx.err;	/* an incomplete index would hide findings */
	c.root = rh_tree_root(t, ns, name, tmp);
	for (size_t e = 0; e < b->neff; e++) {
		const cJSON *g;

		if (strcmp(b->eff[e].agent, folder) != 0)
			continue;
		cJSON_ArrayForEach(g, kc_json_get(b->eff[e].doc, "grants"))
			add_grant(&c, b->eff[e].doc, g);
	}
	if (c.ngroup > 0)
		add_groups_box(&c);
	kc_buf_free(&c.groups);
	kc_buf_free(&c.gbind);
}

