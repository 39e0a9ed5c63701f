/* agentcr.c - agents defined by a custom resource (agentcr.h). */
#include <stdlib.h>
#include <string.h>

#include "rbac/agentcr.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/nsindex.h"

static int
group_is(const char *api_version, const char *group)
{
	const char *slash = strchr(api_version, '/');
	size_t gl = strlen(group);

	return slash != NULL && (size_t)(slash - api_version) == gl && strncmp(api_version, group, gl) == 0;
}

/* The Deployment of ns that the Agent controls, or NULL: an
 * ownerReference with controller: true naming the Agent (kind, group, name
 * and, when the Agent's uid is known, uid), as kagent's controller sets it.
 * Anyone who may create Deployments in ns can write such a reference, so
 * the Deployment named after the Agent (the one kagent makes) wins; of
 * several others, none is believed. */
/* The snapshot's Deployments by namespace and its ServiceAccounts by
 * namespace and name: each Agent looks at its own namespace's, not at
 * every Deployment and account of the cluster. */
struct idx {
	struct kc_nsindex deps;		/* (namespace, "") */
	struct kc_nsindex sas;		/* (namespace, name) */
};

static int
has_sa(const struct idx *x, const char *ns, const char *name)
{
	size_t n;

	(void)kc_nsindex_slice(&x->sas, ns, name, &n);
	return n > 0;
}

static const cJSON *
owned_deployment(const struct idx *x, const char *ns, const char *name, const char *uid)
{
	const cJSON *d, *o, *only = NULL;
	const struct kc_nsref *deps;
	size_t n = 0, ndeps;

	deps = kc_nsindex_slice(&x->deps, ns, "", &ndeps);
	for (size_t i = 0; i < ndeps; i++) {	/* in the snapshot's order */
		const cJSON *m = kc_json_get(d = deps[i].p, "metadata");

		cJSON_ArrayForEach(o, kc_json_get(m, "ownerReferences")) {
			const char *ouid = kc_json_str0(o, "uid");

			if (!cJSON_IsTrue(kc_json_get(o, "controller")) ||
			    strcmp(kc_json_str0(o, "kind"), "Agent") != 0 ||
			    !group_is(kc_json_str0(o, "apiVersion"), "kagent.dev") ||
			    strcmp(kc_json_str0(o, "name"), name) != 0 ||
			    (uid[0] != '\0' && strcmp(ouid, uid) != 0))
				continue;
			if (strcmp(kc_json_str0(m, "name"), name) == 0)
				return d;
			only = d;
			n++;
			break;
		}
	}
	return n == 1 ? only : NULL;
}

static int
add_link(struct kc_agent_links *out, const char *ns, const char *name, const char *sa, const char *via,
    int exists)
{
	struct kc_agent_link *l;

	if (KC_GROW(out->v, out->cap, out->n + 1) != 0)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	l = &out->v[out->n];
	memset(l, 0, sizeof(*l));
	l->group = "kagent.dev";
	l->kind = "Agent";
	l->exists = exists;
	if ((l->ns = kc_strdup(ns)) == NULL || (l->name = kc_strdup(name)) == NULL ||
	    (l->sa_ns = kc_strdup(ns)) == NULL || (l->sa_name = kc_strdup(sa)) == NULL ||
	    (l->via = kc_strdup(via)) == NULL) {
		free(l->ns);
		free(l->name);
		free(l->sa_ns);
		free(l->sa_name);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	out->n++;
	return 0;
}

/* The account one Agent runs as, and how that was found. */
static int
link_agent(const struct idx *x, const cJSON *agent, struct kc_agent_links *out)
{
	const cJSON *m = kc_json_get(agent, "metadata"), *spec = kc_json_get(agent, "spec"), *dep;
	const char *ns = kc_json_str0(m, "namespace"), *name = kc_json_str0(m, "name");
	const char *sa = NULL, *field = NULL;
	char via[600];

	if (name[0] == '\0' || ns[0] == '\0')
		return 0;
	if ((sa = kc_json_str(kc_json_path(spec, "declarative.deployment"), "serviceAccountName")) != NULL &&
	    sa[0] != '\0')
		field = "spec.declarative.deployment.serviceAccountName";
	else if ((sa = kc_json_str(kc_json_path(spec, "byo.deployment"), "serviceAccountName")) != NULL &&
	    sa[0] != '\0')
		field = "spec.byo.deployment.serviceAccountName";
	if ((dep = owned_deployment(x, ns, name, kc_json_str0(m, "uid"))) != NULL) {
		const cJSON *ps = kc_json_path(dep, "spec.template.spec");
		const char *run = kc_json_str0(ps, "serviceAccountName");

		if (run[0] == '\0')
			run = kc_json_str0(ps, "serviceAccount");
		if (run[0] == '\0')
			run = "default";
		kc_fmt_trunc(via, sizeof(via), "Deployment %s/%s owned by the Agent runs as it%s%s%s", ns,
		    kc_json_str0(kc_json_get(dep, "metadata"), "name"),
		    field != NULL && strcmp(sa, run) != 0 ? " (the Agent's " : "",
		    field != NULL && strcmp(sa, run) != 0 ? field : "",
		    field != NULL && strcmp(sa, run) != 0 ? " names another)" : "");
		return add_link(out, ns, name, run, via, has_sa(x, ns, run));
	}
	if (field != NULL)
		return add_link(out, ns, name, sa, field, has_sa(x, ns, sa));
	return add_link(out, ns, name, name, "no serviceAccountName: the account kagent names after the Agent",
	    has_sa(x, ns, name));
}

static int
cmp_link(const void *a, const void *b)
{
	const struct kc_agent_link *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c != 0 ? c : strcmp(x->name, y->name);
}

int
kc_agent_links_load(const struct kc_snapshot *snap, struct kc_agent_links *out)
{
	const cJSON *it;
	struct idx x;
	int r = 0;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	out->collected = snap->agent_crs_present;
	if (cJSON_GetArraySize(snap->agent_crs) > 0) {
		cJSON_ArrayForEach(it, snap->items[KC_RES_DEPLOYMENTS])
			kc_nsindex_add(&x.deps, kc_json_str0(kc_json_get(it, "metadata"), "namespace"), "", it);
		struct kc_sa_iter si = KC_SA_ITER_INIT;
		struct kc_snap_sa sa;

		while (kc_snapshot_next_sa(snap, &si, &sa))
			kc_nsindex_add(&x.sas, sa.ns, sa.name, NULL);
		kc_nsindex_sort(&x.deps);
		kc_nsindex_sort(&x.sas);
		if (x.deps.err != 0 || x.sas.err != 0)
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	cJSON_ArrayForEach(it, snap->agent_crs) {
		if (r != 0)
			break;
		if (strcmp(kc_json_str0(it, "kind"), "Agent") != 0 || !group_is(kc_json_str0(it, "apiVersion"), "kagent.dev"))
			continue;
		r = link_agent(&x, it, out);
	}
	kc_nsindex_free(&x.deps);
	kc_nsindex_free(&x.sas);
	if (r != 0) {
		kc_agent_links_free(out);
		return r;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_link);
	return 0;
}

const struct kc_agent_link *
kc_agent_links_in_ns(const struct kc_agent_links *l, const char *ns, size_t *n)
{
	size_t lo = 0, hi = l->n, end;

	while (lo < hi) {	/* the first link whose namespace is >= ns */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(l->v[mid].ns, ns) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < l->n && strcmp(l->v[end].ns, ns) == 0; end++)
		;
	*n = end - lo;
	return l->v == NULL ? NULL : l->v + lo;
}

void
kc_agent_links_free(struct kc_agent_links *l)
{
	for (size_t i = 0; l != NULL && i < l->n; i++) {
		free(l->v[i].ns);
		free(l->v[i].name);
		free(l->v[i].sa_ns);
		free(l->v[i].sa_name);
		free(l->v[i].via);
	}
	if (l != NULL) {
		free(l->v);
		memset(l, 0, sizeof(*l));
	}
}

void
kc_agent_link_text(const struct kc_agent_link *l, char *buf, size_t size)
{
	kc_fmt_trunc(buf, size, "agent %s/%s %s/%s", l->group, l->kind, l->ns, l->name);
}

static cJSON *
link_json(const struct kc_agent_link *l, int full)
{
	cJSON *o = cJSON_CreateObject(), *sa;
	char text[700];

	if (o == NULL)
		return NULL;
	kc_agent_link_text(l, text, sizeof(text));
	cJSON_AddStringToObject(o, "group", l->group);
	cJSON_AddStringToObject(o, "kind", l->kind);
	cJSON_AddStringToObject(o, "namespace", l->ns);
	cJSON_AddStringToObject(o, "name", l->name);
	if (full) {
		sa = cJSON_AddObjectToObject(o, "serviceAccount");
		cJSON_AddStringToObject(sa, "namespace", l->sa_ns);
		cJSON_AddStringToObject(sa, "name", l->sa_name);
		cJSON_AddBoolToObject(o, "serviceAccountExists", l->exists);
	}
	cJSON_AddStringToObject(o, "via", l->via);
	if (full && !l->exists) {
		char t2[1600];

		kc_fmt_trunc(t2, sizeof(t2), "%s names service account %s/%s, which does not exist in this snapshot "
		    "(not linked)", text, l->sa_ns, l->sa_name);
		cJSON_AddStringToObject(o, "text", t2);
	} else {
		cJSON_AddStringToObject(o, "text", text);
	}
	return o;
}

cJSON *
kc_agent_links_for_sa(const struct kc_agent_links *l, const char *ns, const char *name)
{
	cJSON *arr = cJSON_CreateArray(), *o;
	size_t n;
	const struct kc_agent_link *v = kc_agent_links_in_ns(l, ns, &n);

	for (size_t i = 0; arr != NULL && i < n; i++) {
		if (!v[i].exists || strcmp(v[i].sa_ns, ns) != 0 || strcmp(v[i].sa_name, name) != 0)
			continue;
		if ((o = link_json(&v[i], 0)) == NULL) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

cJSON *
kc_agent_links_json(const struct kc_agent_links *l)
{
	cJSON *arr = cJSON_CreateArray(), *o;

	for (size_t i = 0; arr != NULL && i < l->n; i++) {
		if ((o = link_json(&l->v[i], 1)) == NULL) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

int
kc_agent_links_annotate(const struct kc_agent_links *l, cJSON *who)
{
	cJSON *links;

	if (l->n == 0 || !cJSON_IsObject(who))
		return 0;
	if ((links = kc_agent_links_for_sa(l, kc_json_str0(who, "namespace"), kc_json_str0(who, "name"))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (cJSON_GetArraySize(links) == 0)
		cJSON_Delete(links);
	else
		cJSON_AddItemToObject(who, "agentResources", links);
	return 0;
}
