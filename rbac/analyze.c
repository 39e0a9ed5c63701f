#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collector/names.h"
#include "rbac/analyze.h"
#include "rbac/findings.h"
#include "rbac/review.h"
#include "rbac/whocan.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#define REVIEW_MAX (64u << 20)
#define OUT_MAX (512u << 20)

/* ---- namespaces ---- */

/* Every namespace the snapshot knows: listed ones, and those of roles,
 * bindings and service accounts (a namespace list may be forbidden). */
int
kc_rbac_all_namespaces(const struct kc_snapshot *snap, struct kc_strset *out)
{
	static const enum kc_snap_res from[] = { KC_RES_ROLES, KC_RES_ROLEBINDINGS };
	struct kc_sa_iter x = KC_SA_ITER_INIT;
	struct kc_snap_sa sa;
	const cJSON *it;
	int r = 0;

	memset(out, 0, sizeof(*out));
	cJSON_ArrayForEach(it, snap->items[KC_RES_NAMESPACES])
		if ((r = kc_strset_add(out, kc_json_str0(kc_json_get(it, "metadata"), "name"))) != 0)
			return r;
	/* collect's model keeps the namespaces as names (snapshot.h) */
	for (size_t i = 0; i < snap->nnames[KC_RES_NAMESPACES]; i++)
		if ((r = kc_strset_add(out, snap->names[KC_RES_NAMESPACES][i].name)) != 0)
			return r;
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		cJSON_ArrayForEach(it, snap->items[from[i]]) {
			const char *ns = kc_json_str0(kc_json_get(it, "metadata"), "namespace");

			if (ns[0] != '\0' && (r = kc_strset_add(out, ns)) != 0)
				return r;
		}
		/* and as its RBAC records (or what is kept of them when
		 * they are released: kc_snapshot_release_rbac) */
		for (size_t k = 0; k < snap->nrbac[from[i]]; k++) {
			const char *ns = snap->rbac[from[i]][k].ns;

			if (ns[0] != '\0' && (r = kc_strset_add(out, ns)) != 0)
				return r;
		}
	}
	for (size_t k = 0; k < snap->nrbac_ns; k++)
		if ((r = kc_strset_add(out, snap->rbac_ns[k])) != 0)
			return r;
	/* the service accounts', items or records (collect's model) */
	while (kc_snapshot_next_sa(snap, &x, &sa))
		if (sa.ns[0] != '\0' && (r = kc_strset_add(out, sa.ns)) != 0)
			return r;
	kc_strset_sort(out);
	return 0;
}

/* The namespaces where a RoleBinding applies to the SA, and its own. */
int
kc_rbac_sa_namespaces(const struct kc_rbac *rb, const struct kc_rbac_identity *id, const char *own,
    const struct kc_strset *nss, int every, struct kc_strset *out)
{
	struct kc_rbac_rules rr;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&rr, 0, sizeof(rr));
	if ((r = kc_strset_add(out, own)) != 0)
		return r;
	if (every) {
		for (size_t i = 0; i < nss->n && r == 0; i++)
			r = kc_strset_add(out, nss->v[i]);
	} else {
		size_t *cand = NULL, ncand = 0, capcand = 0;

		/* only the namespaces of RoleBindings that can name id: the
		 * others add nothing (linear in the account's bindings, not in
		 * the cluster's namespaces); the set is sorted below */
		r = kc_rbac_rb_candidates(rb, id, &cand, &ncand, &capcand);
		for (size_t c = 0; c < ncand && r == 0; c++) {
			const char *ns = rb->bindings[cand[c]].ns;
			int hit = 0;

			if (!kc_strset_has(nss, ns) || kc_strset_has(out, ns))
				continue;
			if ((r = kc_rbac_rules_for_ns(rb, id, ns, &rr)) != 0)
				break;
			hit = rr.n > 0 || rr.nmissing > 0;
			if (hit)
				r = kc_strset_add(out, ns);
		}
		free(cand);
	}
	kc_rbac_rules_free(&rr);
	kc_strset_sort(out);
	return r;
}

int
kc_rbac_review_targets(const struct kc_snapshot *snap, const struct kc_rbac *given,
    const struct kc_select_opts *opts, struct kc_review_targets *out)
{
	struct kc_selection sel;
	struct kc_rbac own;
	const struct kc_rbac *rb = given;
	struct kc_strset nss, mine;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&nss, 0, sizeof(nss));
	if ((r = kc_select(snap, opts, &sel)) != 0)
		return r;
	memset(&own, 0, sizeof(own));
	if (sel.n == 0)
		goto out;	/* no target: nothing to evaluate */
	if (rb == NULL) {
		if ((r = kc_rbac_init(&own, snap)) != 0) {
			kc_selection_free(&sel);
			return r;
		}
		rb = &own;
	}
	if ((r = kc_rbac_all_namespaces(snap, &nss)) != 0)
		goto out;
	if (sel.n > 0 && (out->v = kc_calloc(sel.n, sizeof(*out->v))) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sel.n; i++) {
		struct kc_review_target *t = &out->v[out->n];
		struct kc_rbac_sa_id id;

		memset(&mine, 0, sizeof(mine));
		if ((r = kc_rbac_sa_identity(&id, sel.v[i].ns, sel.v[i].name)) != 0 ||
		    (r = kc_rbac_sa_namespaces(rb, &id.id, sel.v[i].ns, &nss, opts->all_namespaces, &mine)) != 0) {
			kc_strset_free(&mine);
			goto out;
		}
		t->sa_ns = kc_strdup(sel.v[i].ns);
		t->sa_name = kc_strdup(sel.v[i].name);
		t->namespaces = mine.v;	/* transferred; the hash table is not */
		t->nns = mine.n;
		free(mine.slot);
		out->n++;
		if (t->sa_ns == NULL || t->sa_name == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
out:
	if (r != 0)
		kc_review_targets_free(out);
	kc_strset_free(&nss);
	if (rb == &own)
		kc_rbac_free(&own);
	kc_selection_free(&sel);
	return r;
}

int
kc_rbac_effective_json(const struct kc_rbac *rb, const char *sa_ns, const char *sa_name,
    const char *ns, cJSON **out)
{
	struct kc_rbac_sa_id id;
	struct kc_rbac_rules rr;
	cJSON *o = NULL, *sub, *groups, *errs;
	int r;

	*out = NULL;
	memset(&rr, 0, sizeof(rr));
	if ((r = kc_rbac_sa_identity(&id, sa_ns, sa_name)) != 0)
		return r;
	if ((r = kc_rbac_rules_for(rb, &id.id, ns, &rr)) != 0)
		goto out;
	if ((o = cJSON_CreateObject()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	sub = cJSON_AddObjectToObject(o, "subject");
	cJSON_AddStringToObject(sub, "kind", "ServiceAccount");
	cJSON_AddStringToObject(sub, "namespace", sa_ns);
	cJSON_AddStringToObject(sub, "name", sa_name);
	cJSON_AddStringToObject(sub, "user", id.user);
	groups = cJSON_AddArrayToObject(sub, "groups");
	for (size_t i = 0; i < id.id.ngroups; i++)
		cJSON_AddItemToArray(groups, cJSON_CreateString(id.groups[i]));
	cJSON_AddStringToObject(o, "namespace", ns);
	cJSON_AddStringToObject(o, "source", "kcustody offline evaluator (RBAC authorizer semantics "
	    "over the collected roles and bindings)");
	cJSON_AddItemToObject(o, "status", kc_rbac_status_json(&rr));
	cJSON_AddItemToObject(o, "grants", kc_rbac_grants_json(&rr));
	errs = cJSON_AddArrayToObject(o, "evaluationErrors");
	for (size_t i = 0; i < rr.nmissing; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddItemToObject(e, "binding", kc_rbac_binding_ref_json(rr.missing[i]));
		cJSON_AddItemToObject(e, "role", kc_rbac_role_ref_json(rr.missing[i]));
		cJSON_AddItemToArray(errs, e);
	}
	cJSON_AddItemToObject(o, "blindSpots", kc_rbac_blind_spots_json());
	*out = o;
	o = NULL;	/* transferred */
out:
	cJSON_Delete(o);
	kc_rbac_rules_free(&rr);
	return r;
}
