#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbac/hmap.h"
#include "rbac/reach.h"
#include "rbac/scope.h"
#include "rbac/whocan.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strset.h"
#include "util/table.h"

/* every SA of the snapshot, or those of one namespace */
/* "NS/NAME" of a service account, whole, as a JSON string (NULL when out of
 * memory): a cut name would be another account. */
static cJSON *
sa_ref(const char *ns, const char *name)
{
	struct kc_buf b = KC_BUF_INIT(1u << 16);
	cJSON *s = kc_buf_addf(&b, "%s/%s", ns, name) == 0 ? cJSON_CreateString(kc_buf_str(&b)) : NULL;

	kc_buf_free(&b);
	return s;
}

/* "NS/NAME" into the set of accounts that can (0 or KC_ERR_NOMEM) */
static int
all_add(struct kc_strset *all, const char *ns, const char *name)
{
	struct kc_buf b = KC_BUF_INIT(1u << 16);
	int r = kc_buf_addf(&b, "%s/%s", ns, name) == 0 ? kc_strset_add(all, kc_buf_str(&b)) :
	    kc_err_set(KC_ERR_NOMEM, "out of memory");

	kc_buf_free(&b);
	return r;
}

static int
add_sas(const struct kc_rbac *rb, const char *only_ns, cJSON *arr, struct kc_strset *all)
{
	struct kc_sa_iter x = KC_SA_ITER_INIT;
	struct kc_snap_sa sa;
	int r = 0;

	while (kc_snapshot_next_sa(rb->snap, &x, &sa)) {
		if (only_ns != NULL && strcmp(sa.ns, only_ns) != 0)
			continue;
		cJSON_AddItemToArray(arr, sa_ref(sa.ns, sa.name));
		if ((r = all_add(all, sa.ns, sa.name)) != 0)
			break;
	}
	return r;
}

/* One grant of binding b to subject s by rule ru; NULL when out of memory
 * (*err set when the set of accounts could not take one) */
static cJSON *
grant_json(const struct kc_rbac *rb, const struct kc_rbac_binding *b, const struct kc_snap_subject *s,
    const struct kc_rbac_rule *ru, struct kc_strset *all, int *err)
{
	cJSON *o = cJSON_CreateObject(), *exp;

	cJSON_AddItemToObject(o, "subject", kc_rbac_subject_json(s));
	cJSON_AddItemToObject(o, "binding", kc_rbac_binding_ref_json(b));
	cJSON_AddItemToObject(o, "role", kc_rbac_role_ref_json(b));
	if (ru->names.n > 0) {
		cJSON *n = cJSON_AddArrayToObject(o, "resourceNames");

		for (size_t i = 0; i < ru->names.n; i++)
			cJSON_AddItemToArray(n, cJSON_CreateString(ru->names.v[i]));
	}
	if (strcmp(s->kind, "ServiceAccount") == 0) {
		const char *ns = s->ns[0] ? s->ns : b->ns;

		if (ns[0] == '\0') {
			cJSON_AddStringToObject(o, "note", "ServiceAccount subject without namespace in a "
			    "ClusterRoleBinding matches nobody");
		} else if (*err == 0) {
			*err = all_add(all, ns, s->name);
		}
	} else if (strcmp(s->kind, "Group") == 0) {
		if (strcmp(s->name, "system:serviceaccounts") == 0 || strcmp(s->name, "system:authenticated") == 0) {
			exp = cJSON_AddArrayToObject(o, "expandsTo");
			if (*err == 0)
				*err = add_sas(rb, NULL, exp, all);
			if (strcmp(s->name, "system:authenticated") == 0)
				cJSON_AddStringToObject(o, "note", "every authenticated user and every service account");
		} else if (strncmp(s->name, "system:serviceaccounts:", 23) == 0) {
			exp = cJSON_AddArrayToObject(o, "expandsTo");
			if (*err == 0)
				*err = add_sas(rb, s->name + 23, exp, all);
		} else if (strcmp(s->name, "system:unauthenticated") == 0) {
			cJSON_AddStringToObject(o, "note", "anonymous requests");
		} else if (strcmp(s->name, "system:masters") == 0) {
			cJSON_AddStringToObject(o, "note", "system:masters bypasses RBAC anyway");
		} else {
			cJSON_AddStringToObject(o, "note", "group membership is not visible offline");
		}
	}
	return o;
}

/* The array of namespace ns in the object nss, added (in first-seen order)
 * when it is not there yet; found through byns (ns -> index into *arrs), not
 * by a scan of nss's keys, which made a query bindings x namespaces.  NULL
 * when out of memory. */
static cJSON *
ns_array(cJSON *nss, struct kc_hmap *byns, cJSON ***arrs, size_t *n, size_t *cap, const char *ns)
{
	const struct kc_hmap_entry *e = kc_hmap_get(byns, ns);
	cJSON *a;

	if (e != NULL)
		return (*arrs)[e->vals[0]];
	if (KC_GROW(*arrs, *cap, *n + 1) != 0 || kc_hmap_add(byns, ns, *n) != 0 ||
	    (a = cJSON_AddArrayToObject(nss, ns)) == NULL)
		return NULL;
	(*arrs)[(*n)++] = a;
	return a;
}

/* A query parsed, and its document's first members */
struct wc_query {
	char res[256], group[256], sub[256];
	const char *verb, *ns;
	int ns_ok;
};

/* The document's members before the grants (verb ... warning), or NULL
 * with the error set. */
static cJSON *
query_head(const struct kc_rbac *rb, const char *verb, const char *resource, const char *ns, struct wc_query *q)
{
	char *res = q->res, *group = q->group, *sub = q->sub, ressub[520];
	const char *slash = strchr(resource, '/'), *dot;
	size_t rl = slash ? (size_t)(slash - resource) : strlen(resource);
	cJSON *o;
	int ns_ok;

	q->verb = verb;
	q->ns = ns;
	if (rl == 0 || rl >= sizeof(q->res) || (slash && strlen(slash + 1) >= sizeof(q->sub))) {
		kc_err_set(KC_ERR_INVALID, "invalid resource '%s'", resource);
		return NULL;
	}
	memcpy(res, resource, rl);
	res[rl] = '\0';
	if (kc_fmt(sub, sizeof(q->sub), "%s", slash ? slash + 1 : "") != 0)
		return NULL;
	group[0] = '\0';
	if ((dot = strchr(res, '.')) != NULL) {
		if (kc_fmt(group, sizeof(q->group), "%s", dot + 1) != 0)
			return NULL;
		res[dot - res] = '\0';
	}
	if ((o = cJSON_CreateObject()) == NULL) {
		kc_err_set(KC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	cJSON_AddStringToObject(o, "verb", verb);
	cJSON_AddStringToObject(o, "resource", res);
	cJSON_AddStringToObject(o, "apiGroup", group);
	cJSON_AddStringToObject(o, "subresource", sub);
	if (ns != NULL)
		cJSON_AddStringToObject(o, "namespace", ns);
	/* a request for a cluster-scoped resource has no namespace: only
	 * ClusterRoleBindings can grant it */
	ns_ok = kc_rbac_ns_effective(verb, group, res);
	cJSON_AddBoolToObject(o, "clusterScoped", kc_rbac_cluster_scoped(group, res));
	if (!ns_ok)
		cJSON_AddStringToObject(o, "note", "cluster-scoped resource: a real request carries no "
		    "namespace, so grants through RoleBindings never allow it (kubectl auth can-i -n NS "
		    "would still say yes)");
	/* A resource no built-in group serves and no rule names: most likely
	 * a typo, which would otherwise answer "nobody" in silence. */
	/* With discovery the cluster's own documents answer, as kubectl's
	 * "the server doesn't have a resource type" does (rbac/reach.h). */
	kc_fmt_trunc(ressub, sizeof(ressub), "%s%s%s", res, sub[0] ? "/" : "", sub);	/* fits: 255 + 1 + 255 */
	if (strcmp(res, "*") != 0 && strcmp(group, "*") != 0 && strcmp(sub, "*") != 0 &&
	    kc_rbac_served(group, ressub) >= 0) {
		int served = kc_rbac_served(group, ressub);

		cJSON_AddBoolToObject(o, "served", served);
		if (!served) {
			char w[700];

			kc_fmt_trunc(w, sizeof(w), "the server doesn't have a resource type '%s%s%s%s%s' (not in "
			    "this bundle's discovery documents)", res, group[0] ? "." : "", group,
			    sub[0] ? "/" : "", sub);
			cJSON_AddStringToObject(o, "warning", w);
		}
	} else {
		int named = kc_rbac_builtin_served(group, res);

		for (size_t i = 0; !named && i < rb->nroles; i++) {
			for (size_t k = 0; !named && k < rb->roles[i].nrules; k++) {
				const struct kc_rbac_rule *ru = &rb->roles[i].rules[k];

				for (size_t g = 0; !named && g < ru->groups.n; g++) {
					if (strcmp(ru->groups.v[g], group) != 0)
						continue;
					for (size_t x = 0; !named && x < ru->resources.n; x++) {
						const char *rr = ru->resources.v[x], *sl = strchr(rr, '/');
						size_t l = sl ? (size_t)(sl - rr) : strlen(rr);

						named = strlen(res) == l && strncmp(rr, res, l) == 0;
					}
				}
			}
		}
		cJSON_AddBoolToObject(o, "served", named);
		if (!named && strcmp(res, "*") != 0) {
			char w[700];

			kc_fmt_trunc(w, sizeof(w), "the server doesn't have a resource type '%s%s%s' as far as this "
			    "bundle shows (not a built-in resource, and no rule names it; custom resources are "
			    "known only from rules until discovery is collected)", res, group[0] ? "." : "", group);
			cJSON_AddStringToObject(o, "warning", w);
		}
	}
	q->ns_ok = ns_ok;
	return o;
}

/* Where the grants go, in the document's order: the cluster-wide ones
 * (ns NULL), then each namespace's, begun by ns_begin (even when its
 * bindings name no subject). */
struct wc_out {
	int (*ns_begin)(void *ctx, const char *ns);
	int (*grant)(void *ctx, const char *ns, cJSON *grant);	/* takes grant */
	void *ctx;
};

/* A RoleBinding that allows, and its namespace's group (query_grants) */
struct rb_hit {
	const char *ns;
	size_t b;			/* position in rb->bindings */
	const struct kc_rbac_rule *hit;
};

struct ns_group {
	size_t start, n;		/* its hits, in binding order */
};

static int
hit_order(const void *x, const void *y)
{
	const struct rb_hit *a = x, *b = y;
	int c = strcmp(a->ns, b->ns);

	return c != 0 ? c : a->b < b->b ? -1 : a->b > b->b;
}

/* namespaces in the order they first come: by their first binding */
static int
group_order(const void *x, const void *y, void *hits)
{
	const struct rb_hit *v = hits;
	size_t a = v[((const struct ns_group *)x)->start].b;
	size_t b = v[((const struct ns_group *)y)->start].b;

	return a < b ? -1 : a > b;
}

static int
emit_grants(const struct kc_rbac *rb, const struct kc_rbac_binding *b, const char *ns,
    const struct kc_rbac_rule *hit, struct kc_strset *all, const struct wc_out *out)
{
	int r = 0;

	for (size_t s = 0; s < b->nsubjects && r == 0; s++) {
		cJSON *g = grant_json(rb, b, &b->subjects[s], hit, all, &r);

		if (r == 0)
			r = g != NULL ? out->grant(out->ctx, ns, g) : kc_err_set(KC_ERR_NOMEM, "out of memory");
		else
			cJSON_Delete(g);
	}
	return r;
}

/* Every grant of the query, in the order the document lists them: the
 * ClusterRoleBindings' as they come, then the RoleBindings' by namespace
 * in the order the namespaces first come; the accounts that can, into
 * all.  The RoleBindings that allow are one array, sorted by namespace
 * and then grouped (issue 11: a hash map and two arrays per namespace
 * were 2.7 MB of collect's peak over the 150k estate's 10,000). */
static int
query_grants(const struct kc_rbac *rb, const struct wc_query *q, struct kc_strset *all, const struct wc_out *out)
{
	struct rb_hit *v = NULL;
	struct ns_group *g = NULL;
	size_t nv = 0, capv = 0, ng = 0;
	int r = 0;

	for (size_t bi = 0; bi < rb->nbindings && r == 0; bi++) {
		const struct kc_rbac_binding *b = &rb->bindings[bi];
		const struct kc_rbac_rule *hit = NULL;

		if (b->role == NULL || (!b->cluster && q->ns != NULL && strcmp(b->ns, q->ns) != 0) ||
		    (!b->cluster && !q->ns_ok))
			continue;
		/* the first allowing rule; one without resourceNames wins */
		for (size_t i = 0; i < b->role->nrules; i++) {
			const struct kc_rbac_rule *ru = &b->role->rules[i];

			if (!kc_rbac_verb_matches(ru, q->verb) || !kc_rbac_group_matches(ru, q->group) ||
			    !kc_rbac_resource_matches(ru, q->res, q->sub[0] ? q->sub : NULL))
				continue;
			if (hit == NULL || (hit->names.n > 0 && ru->names.n == 0))
				hit = ru;
		}
		if (hit == NULL)
			continue;
		if (b->cluster) {
			r = emit_grants(rb, b, NULL, hit, all, out);
		} else if (KC_GROW(v, capv, nv + 1) != 0) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		} else {
			v[nv].ns = b->ns;
			v[nv].b = bi;
			v[nv++].hit = hit;
		}
	}
	if (r == 0 && nv > 0) {
		qsort(v, nv, sizeof(*v), hit_order);
		if ((g = kc_calloc(nv, sizeof(*g))) == NULL)
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		for (size_t i = 0; i < nv && r == 0; i++) {
			if (ng == 0 || strcmp(v[g[ng - 1].start].ns, v[i].ns) != 0)
				g[ng++].start = i;
			g[ng - 1].n++;
		}
		if (r == 0)
			qsort_r(g, ng, sizeof(*g), group_order, v);
	}
	for (size_t i = 0; i < ng && r == 0; i++) {
		const char *ns = v[g[i].start].ns;

		r = out->ns_begin(out->ctx, ns);
		for (size_t k = g[i].start; k < g[i].start + g[i].n && r == 0; k++)
			r = emit_grants(rb, &rb->bindings[v[k].b], ns, v[k].hit, all, out);
	}
	free(g);
	free(v);
	return r;
}

/* ---- the document as a tree (kc_whocan) ---- */

struct tree_out {
	cJSON *cw, *nss, **arrs;
	struct kc_hmap byns;
	size_t narrs, caparrs;
};

static int
tree_ns_begin(void *ctx, const char *ns)
{
	struct tree_out *t = ctx;

	return ns_array(t->nss, &t->byns, &t->arrs, &t->narrs, &t->caparrs, ns) != NULL ? 0 :
	    kc_err_set(KC_ERR_NOMEM, "out of memory");
}

static int
tree_grant(void *ctx, const char *ns, cJSON *g)
{
	struct tree_out *t = ctx;
	cJSON *dst = ns == NULL ? t->cw : ns_array(t->nss, &t->byns, &t->arrs, &t->narrs, &t->caparrs, ns);

	if (dst == NULL || !cJSON_AddItemToArray(dst, g)) {
		cJSON_Delete(g);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	return 0;
}

int
kc_whocan(const struct kc_rbac *rb, const char *verb, const char *resource, const char *ns, cJSON **out)
{
	struct wc_query q;
	struct tree_out t;
	struct kc_strset all = { 0 };
	const struct wc_out o = { tree_ns_begin, tree_grant, &t };
	cJSON *doc, *sas;
	int r;

	*out = NULL;
	memset(&t, 0, sizeof(t));
	if ((doc = query_head(rb, verb, resource, ns, &q)) == NULL)
		return kc_err_code();
	t.cw = cJSON_AddArrayToObject(doc, "clusterWide");
	t.nss = cJSON_AddObjectToObject(doc, "namespaces");
	sas = cJSON_AddArrayToObject(doc, "serviceAccounts");
	r = t.cw != NULL && t.nss != NULL && sas != NULL ? query_grants(rb, &q, &all, &o) :
	    kc_err_set(KC_ERR_NOMEM, "out of memory");
	kc_hmap_free(&t.byns);
	free(t.arrs);
	kc_strset_sort(&all);
	for (size_t i = 0; i < all.n && r == 0; i++)
		if (!cJSON_AddItemToArray(sas, cJSON_CreateString(all.v[i])))
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
	kc_strset_free(&all);
	if (r != 0) {
		cJSON_Delete(doc);
		return r;
	}
	*out = doc;
	return 0;
}

/* ---- the document printed as it is made (kc_whocan_print) ---- */

struct print_out {
	int (*sink)(void *ctx, const char *s, size_t n);
	void *ctx;
	const char *indent;	/* after every line break: the nesting's */
	const char *ns;		/* the namespace whose list is open, or NULL */
	int state;		/* 0 no grant yet, 1 cluster-wide list, 2 a namespace's list */
	int first;		/* the open list has no grant yet */
	int err;
};

/* s, with p->indent then extra after every line break */
static int
put(struct print_out *p, const char *s, const char *extra)
{
	const char *nl;

	while (p->err == 0 && (nl = strchr(s, '\n')) != NULL) {
		if ((p->err = p->sink(p->ctx, s, (size_t)(nl - s) + 1)) == 0 &&
		    (p->err = p->sink(p->ctx, p->indent, strlen(p->indent))) == 0)
			p->err = p->sink(p->ctx, extra, strlen(extra));
		s = nl + 1;
	}
	if (p->err == 0 && *s != '\0')
		p->err = p->sink(p->ctx, s, strlen(s));
	return p->err;
}

/* a JSON string as cJSON prints it */
static int
put_string(struct print_out *p, const char *s)
{
	cJSON *j = cJSON_CreateString(s);
	char *t = j != NULL ? cJSON_PrintUnformatted(j) : NULL;

	if (t == NULL)
		p->err = kc_err_set(KC_ERR_NOMEM, "out of memory");
	else
		put(p, t, "");
	cJSON_free(t);
	cJSON_Delete(j);
	return p->err;
}

/* the namespaces' object opened, after the cluster-wide list */
static void
open_namespaces(struct print_out *p)
{
	put(p, "],\n\t\"namespaces\":\t{", "");
}

static int
print_ns_begin(void *ctx, const char *ns)
{
	struct print_out *p = ctx;

	if (p->state == 2)
		put(p, "],\n\t\t", "");
	else
		(open_namespaces(p), put(p, "\n\t\t", ""));
	put_string(p, ns);
	put(p, ":\t[", "");
	p->state = 2;
	p->ns = ns;
	p->first = 1;
	return p->err;
}

static int
print_grant(void *ctx, const char *ns, cJSON *g)
{
	struct print_out *p = ctx;
	char *t = cJSON_Print(g);

	(void)ns;
	cJSON_Delete(g);
	if (t == NULL)
		return p->err = kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (!p->first)
		put(p, ", ", "");
	p->first = 0;
	/* a grant is an object in a list: two levels deep in the cluster-wide
	 * list, three in a namespace's */
	put(p, t, p->state == 2 ? "\t\t\t" : "\t\t");
	cJSON_free(t);
	return p->err;
}

int
kc_whocan_print(const struct kc_rbac *rb, const char *verb, const char *resource, const char *ns,
    const char *indent, int (*sink)(void *ctx, const char *s, size_t n), void *ctx)
{
	struct wc_query q;
	struct print_out p = { sink, ctx, indent, NULL, 1, 1, 0 };
	const struct wc_out o = { print_ns_begin, print_grant, &p };
	struct kc_strset all = { 0 };
	cJSON *head;
	char *t;
	size_t n;
	int r;

	if ((head = query_head(rb, verb, resource, ns, &q)) == NULL)
		return kc_err_code();
	t = cJSON_Print(head);
	cJSON_Delete(head);
	if (t == NULL || (n = strlen(t)) < 2 || strcmp(t + n - 2, "\n}") != 0) {
		cJSON_free(t);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	t[n - 2] = '\0';	/* the head's members, the object left open */
	put(&p, t, "");
	cJSON_free(t);
	put(&p, ",\n\t\"clusterWide\":\t[", "");
	if ((r = p.err) == 0)
		r = query_grants(rb, &q, &all, &o);
	if (r == 0 && p.state == 2)
		put(&p, "]\n\t}", "");
	else if (r == 0)
		(open_namespaces(&p), put(&p, "\n\t}", ""));
	if (r == 0)
		put(&p, ",\n\t\"serviceAccounts\":\t[", "");
	kc_strset_sort(&all);
	for (size_t i = 0; i < all.n && r == 0 && p.err == 0; i++) {
		if (i > 0)
			put(&p, ", ", "");
		put_string(&p, all.v[i]);
	}
	if (r == 0)
		put(&p, "]\n}", "");
	kc_strset_free(&all);
	return r != 0 ? r : p.err;
}

/* "Kind ns/name" (or "Kind name") of a subject, binding or role object;
 * the namespace left out when it is the row's own (a RoleBinding and its
 * Role live in the namespace the row is about) */
static void
ref_text(char *dst, size_t n, const cJSON *o, const char *row_ns)
{
	const char *ns = kc_json_str0(o, "namespace");

	if (row_ns != NULL && strcmp(ns, row_ns) == 0)
		ns = "";
	kc_fmt_trunc(dst, n, "%s %s%s%s", kc_json_str0(o, "kind"), ns, ns[0] ? "/" : "", kc_json_str0(o, "name"));
}

static int
row(struct kc_table *t, const char *row_ns, const cJSON *g)
{
	const cJSON *names = kc_json_get(g, "resourceNames"), *it;
	const cJSON *exp = kc_json_get(g, "expandsTo");
	char subj[600], bind[600], role[600];
	struct kc_buf detail = KC_BUF_INIT(1 << 20);
	const char *cells[4];
	int r = 0;

	ref_text(subj, sizeof(subj), kc_json_get(g, "subject"), NULL);
	ref_text(bind, sizeof(bind), kc_json_get(g, "binding"), row_ns);
	ref_text(role, sizeof(role), kc_json_get(g, "role"), row_ns);
	if (names != NULL) {
		r |= kc_buf_adds(&detail, "names:");
		cJSON_ArrayForEach(it, names)
			r |= kc_buf_addf(&detail, " %s", it->valuestring);
	}
	if (exp != NULL)
		r |= kc_buf_addf(&detail, "%s(%d service accounts)", detail.len ? "  " : "", cJSON_GetArraySize(exp));
	if (kc_json_str0(g, "note")[0])
		r |= kc_buf_addf(&detail, "%s[%s]", detail.len ? "  " : "", kc_json_str0(g, "note"));
	cells[0] = row_ns != NULL ? row_ns : "(cluster-wide)";
	cells[1] = subj;
	cells[2] = bind;
	cells[3] = role;
	if (r == 0)
		r = kc_table_add(t, cells);
	if (r == 0 && detail.len > 0)
		r = kc_table_note(t, kc_buf_str(&detail));
	kc_buf_free(&detail);
	return r;
}

int
kc_whocan_text(const cJSON *res, struct kc_buf *out)
{
	static const struct kc_table_col cols[] = {
		{ "NAMESPACE", 0 }, { "SUBJECT", 0 }, { "VIA BINDING", 0 }, { "ROLE", 0 },
	};
	const cJSON *g, *nsl;
	const char *grp = kc_json_str0(res, "apiGroup"), *sub = kc_json_str0(res, "subresource");
	struct kc_table *t;
	int r = 0;

	kc_buf_addf(out, "Who can %s %s%s%s%s%s:\n\n", kc_json_str0(res, "verb"), kc_json_str0(res, "resource"),
	    grp[0] ? "." : "", grp, sub[0] ? "/" : "", sub);
	if (kc_json_str0(res, "note")[0])
		kc_buf_addf(out, "Note: %s.\n\n", kc_json_str0(res, "note"));
	if ((t = kc_table_new(cols, sizeof(cols) / sizeof(cols[0]))) == NULL)
		return KC_ERR_NOMEM;
	cJSON_ArrayForEach(g, kc_json_get(res, "clusterWide"))
		r |= row(t, NULL, g);
	cJSON_ArrayForEach(nsl, kc_json_get(res, "namespaces")) {
		cJSON_ArrayForEach(g, nsl)
			r |= row(t, nsl->string, g);
	}
	if (r == 0)
		r = kc_table_render(t, KC_TABLE_WIDTH, out);
	kc_table_free(t);
	if (r != 0)
		return r;
	kc_buf_addf(out, "\nService accounts that can (groups expanded): %d\n",
	    cJSON_GetArraySize(kc_json_get(res, "serviceAccounts")));
	cJSON_ArrayForEach(g, kc_json_get(res, "serviceAccounts")) {
		char safe[1200];

		kc_buf_addf(out, "  %s\n", kc_safe_str(g->valuestring, safe, sizeof(safe)));
	}
	if (kc_buf_adds(out, "\nNot visible offline: system:masters, the Node authorizer, webhook "
	    "authorizers.\n") != 0)
		return kc_err_set(KC_ERR_LIMIT, "who-can output too large");
	return 0;
}
