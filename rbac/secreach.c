/* secreach.c - the secrets an account may get by name (secreach.h) */
#include "rbac/secreach.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/mem.h"

/* names indexed into x (memset, x->owned set or NULL); on failure x is
 * freed */
static int
index_names(struct kc_secret_index *x, const struct kc_snap_name *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		kc_nsindex_add(&x->by_ns, names[i].ns, "", &names[i]);
		kc_nsindex_add(&x->by_name, names[i].name, "", &names[i]);
		x->n++;
	}
	kc_nsindex_sort(&x->by_ns);
	kc_nsindex_sort(&x->by_name);
	if (x->by_ns.err != 0 || x->by_name.err != 0) {
		kc_secret_index_free(x);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	return 0;
}

int
kc_secret_index_build(struct kc_secret_index *x, const cJSON *items)
{
	const cJSON *it;
	size_t n = 0, k = 0;

	memset(x, 0, sizeof(*x));
	cJSON_ArrayForEach(it, items)
		n++;
	if (n > 0 && (x->owned = kc_calloc(n, sizeof(*x->owned))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(it, items) {
		const cJSON *m = kc_json_get(it, "metadata");

		x->owned[k].ns = kc_json_str0(m, "namespace");
		x->owned[k++].name = kc_json_str0(m, "name");
	}
	return index_names(x, x->owned, n);
}

int
kc_secret_index_build_names(struct kc_secret_index *x, const struct kc_snap_name *names, size_t n)
{
	memset(x, 0, sizeof(*x));
	return index_names(x, names, n);
}

void
kc_secret_index_free(struct kc_secret_index *x)
{
	kc_nsindex_free(&x->by_ns);
	kc_nsindex_free(&x->by_name);
	free(x->owned);
	memset(x, 0, sizeof(*x));
}

static int
add_refs(const struct kc_nsref ***v, size_t *n, size_t *cap, const struct kc_nsref *x, size_t nx)
{
	if (nx == 0)
		return 0;
	if (KC_GROW(*v, *cap, *n + nx) != 0)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (size_t j = 0; j < nx; j++)
		(*v)[(*n)++] = &x[j];
	return 0;
}

/* The secrets whose get the authorizer could allow id, added to *v: those
 * of the namespaces in whose RoleBindings id can be named (cand, binding
 * indices), those named by a cluster-wide rule on get secrets with
 * resourceNames, and every secret (*all) when a cluster-wide rule allows
 * get on secrets of any name. */
static int
candidates(const struct kc_rbac *rb, const struct kc_secret_index *x,
    const struct kc_rbac_rules *cluster, const size_t *cand, size_t ncand,
    const struct kc_nsref ***v, size_t *n, size_t *cap, int *all)
{
	const struct kc_nsref *s;
	size_t ns;
	int r;

	*n = 0;
	*all = 0;
	for (size_t i = 0; i < cluster->n; i++) {
		const struct kc_rbac_rule *ru = cluster->grants[i].rule;

		if (!kc_rbac_verb_matches(ru, "get") || !kc_rbac_group_matches(ru, "") ||
		    !kc_rbac_resource_matches(ru, "secrets", NULL))
			continue;
		if (ru->names.n == 0) {
			*all = 1;
			return 0;
		}
		for (size_t k = 0; k < ru->names.n; k++) {
			s = kc_nsindex_slice(&x->by_name, ru->names.v[k], "", &ns);
			if ((r = add_refs(v, n, cap, s, ns)) != 0)
				return r;
		}
	}
	for (size_t c = 0; c < ncand; c++) {
		/* a namespace once per run of its bindings (a list groups
		 * them; a repeat is dropped with the other duplicates later) */
		if (c > 0 && strcmp(rb->bindings[cand[c]].ns, rb->bindings[cand[c - 1]].ns) == 0)
			continue;
		s = kc_nsindex_slice(&x->by_ns, rb->bindings[cand[c]].ns, "", &ns);
		if ((r = add_refs(v, n, cap, s, ns)) != 0)
			return r;
	}
	return 0;
}

static int
cmp_ref_ord(const void *a, const void *b)
{
	const struct kc_nsref *p = *(const struct kc_nsref *const *)a, *q = *(const struct kc_nsref *const *)b;

	return p->ord < q->ord ? -1 : p->ord > q->ord;
}

int
kc_secrets_reachable(const struct kc_rbac *rb, const struct kc_secret_index *x,
    const struct kc_rbac_identity *id, const struct kc_rbac_rules *cluster, const size_t *cand,
    size_t ncand, cJSON *out)
{
	const struct kc_nsref **v = NULL;
	size_t n = 0, cap = 0, w = 0;
	int all = 0, r;

	if ((r = candidates(rb, x, cluster, cand, ncand, &v, &n, &cap, &all)) != 0)
		goto done;
	if (all) {
		/* every secret, in the list's order */
		n = 0;
		if (x->by_ns.n > 0 && KC_GROW(v, cap, x->by_ns.n) != 0) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto done;
		}
		for (size_t i = 0; i < x->by_ns.n; i++)
			v[n++] = &x->by_ns.v[i];
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_ref_ord);
	for (size_t i = 0; i < n; i++)
		if (w == 0 || v[w - 1]->ord != v[i]->ord)
			v[w++] = v[i];
	for (size_t i = 0; i < w && r == 0; i++) {
		const struct kc_snap_name *m = v[i]->p;
		struct kc_rbac_request req = { "get", "", "secrets", NULL, m->name, m->ns, NULL };
		struct kc_rbac_decision d;
		char who[1024];

		if ((r = kc_rbac_authorize(rb, id, &req, &d)) != 0)
			break;
		if (d.allowed) {
			/* "ns/name" of a secret: whole or an error */
			if ((r = kc_fmt(who, sizeof(who), "%s/%s", req.ns, req.name)) != 0)
				break;
			cJSON_AddItemToArray(out, cJSON_CreateString(who));
		}
	}
done:
	free(v);
	return r;
}
