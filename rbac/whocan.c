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

static void
add_sas(const struct kc_rbac *rb, const char *only_ns, cJSON *arr, cJSON *all)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, rb->snap->items[KC_RES_SERVICEACCOUNTS]) {
		const cJSON *m = kc_json_get(it, "metadata");

		if (only_ns != NULL && strcmp(kc_json_str0(m, "namespace"), only_ns) != 0)
			continue;
		cJSON_AddItemToArray(arr, sa_ref(kc_json_str0(m, "namespace"), kc_json_str0(m, "name")));
		cJSON_AddItemToArray(all, sa_ref(kc_json_str0(m, "namespace"), kc_json_str0(m, "name")));
	}
}

static cJSON *
grant_json(const struct kc_rbac *rb, const struct kc_rbac_binding *b, const struct kc_rbac_subject *s,
    const struct kc_rbac_rule *ru, cJSON *all)
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
		} else {
			cJSON_AddItemToArray(all, sa_ref(ns, s->name));
		}
	} else if (strcmp(s->kind, "Group") == 0) {
		if (strcmp(s->name, "system:serviceaccounts") == 0 || strcmp(s->name, "system:authenticated") == 0) {
			exp = cJSON_AddArrayToObject(o, "expandsTo");
			add_sas(rb, NULL, exp, all);
			if (strcmp(s->name, "system:authenticated") == 0)
				cJSON_AddStringToObject(o, "note", "every authenticated user and every service account");
		} else if (strncmp(s->name, "system:serviceaccounts:", 23) == 0) {
			exp = cJSON_AddArrayToObject(o, "expandsTo");
			add_sas(rb, s->name + 23, exp, all);
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

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sort and deduplicate an array of strings in place */
static void
uniq_strings(cJSON *arr)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), k = 0;
	char **v;
	cJSON *it;

	if (n == 0 || (v = kc_calloc(n, sizeof(*v))) == NULL)
		return;
	cJSON_ArrayForEach(it, arr)
		v[k++] = it->valuestring;
	qsort(v, k, sizeof(*v), cmp_str);
	{
		cJSON *nw = cJSON_CreateArray();

		for (size_t i = 0; i < k; i++)
			if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
				cJSON_AddItemToArray(nw, cJSON_CreateString(v[i]));
		/* replace the contents */
		while ((it = cJSON_DetachItemFromArray(arr, 0)) != NULL)
			cJSON_Delete(it);
		while ((it = cJSON_DetachItemFromArray(nw, 0)) != NULL)
			cJSON_AddItemToArray(arr, it);
		cJSON_Delete(nw);
	}
	free(v);
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

int
kc_whocan(const struct kc_rbac *rb, const char *verb, const char *resource, const char *ns, cJSON **out)
{
	char res[256], group[256], sub[256], ressub[520];
	const char *slash = strchr(resource, '/'), *dot;
	size_t rl = slash ? (size_t)(slash - resource) : strlen(resource);
	cJSON *o, *cw, *nss, *all, **arrs = NULL;
	struct kc_hmap byns;
	size_t narrs = 0, caparrs = 0;
	int ns_ok, r = 0;

	*out = NULL;
	if (rl == 0 || rl >= sizeof(res) || (slash && strlen(slash + 1) >= sizeof(sub)))
		return kc_err_set(KC_ERR_INVALID, "invalid resource '%s'", resource);
	memcpy(res, resource, rl);
	res[rl] = '\0';
	if (kc_fmt(sub, sizeof(sub), "%s", slash ? slash + 1 : "") != 0)
		return kc_err_code();
	group[0] = '\0';
	if ((dot = strchr(res, '.')) != NULL) {
		if (kc_fmt(group, sizeof(group), "%s", dot + 1) != 0)
			return kc_err_code();
		res[dot - res] = '\0';
	}
	if ((o = cJSON_CreateObject()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
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
	cw = cJSON_AddArrayToObject(o, "clusterWide");
	nss = cJSON_AddObjectToObject(o, "namespaces");
	all = cJSON_AddArrayToObject(o, "serviceAccounts");
	memset(&byns, 0, sizeof(byns));
	for (size_t bi = 0; bi < rb->nbindings && r == 0; bi++) {
		const struct kc_rbac_binding *b = &rb->bindings[bi];
		const struct kc_rbac_rule *hit = NULL;
		cJSON *dst;

		if (b->role == NULL || (!b->cluster && ns != NULL && strcmp(b->ns, ns) != 0) ||
		    (!b->cluster && !ns_ok))
			continue;
		/* the first allowing rule; one without resourceNames wins */
		for (size_t i = 0; i < b->role->nrules; i++) {
			const struct kc_rbac_rule *ru = &b->role->rules[i];

			if (!kc_rbac_verb_matches(ru, verb) || !kc_rbac_group_matches(ru, group) ||
			    !kc_rbac_resource_matches(ru, res, sub[0] ? sub : NULL))
				continue;
			if (hit == NULL || (hit->names.n > 0 && ru->names.n == 0))
				hit = ru;
		}
		if (hit == NULL)
			continue;
		if (b->cluster) {
			dst = cw;
		} else if ((dst = ns_array(nss, &byns, &arrs, &narrs, &caparrs, b->ns)) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			break;
		}
		for (size_t s = 0; s < b->nsubjects; s++)
			cJSON_AddItemToArray(dst, grant_json(rb, b, &b->subjects[s], hit, all));
	}
	kc_hmap_free(&byns);
	free(arrs);
	if (r != 0) {
		cJSON_Delete(o);
		return r;
	}
	uniq_strings(all);
	*out = o;
	return 0;
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
