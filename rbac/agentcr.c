/* agentcr.c - agents defined by a custom resource (agentcr.h). */
#include <stdlib.h>
#include <string.h>

#include "rbac/agentcr.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/mem.h"

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
static const cJSON *
owned_deployment(const struct kc_snapshot *snap, const char *ns, const char *name, const char *uid)
{
	const cJSON *d, *o, *only = NULL;
	size_t n = 0;

	cJSON_ArrayForEach(d, snap->items[KC_RES_DEPLOYMENTS]) {
		const cJSON *m = kc_json_get(d, "metadata");

		if (strcmp(kc_json_str0(m, "namespace"), ns) != 0)
			continue;
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
link_agent(const struct kc_snapshot *snap, const cJSON *agent, struct kc_agent_links *out)
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
	if ((dep = owned_deployment(snap, ns, name, kc_json_str0(m, "uid"))) != NULL) {
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
		return add_link(out, ns, name, run, via, kc_snapshot_has_sa(snap, ns, run));
	}
	if (field != NULL)
		return add_link(out, ns, name, sa, field, kc_snapshot_has_sa(snap, ns, sa));
	return add_link(out, ns, name, name, "no serviceAccountName: the account kagent names after the Agent",
	    kc_snapshot_has_sa(snap, ns, name));
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
	int r;

	memset(out, 0, sizeof(*out));
	out->collected = snap->agent_crs_present;
	cJSON_ArrayForEach(it, snap->agent_crs) {
		if (strcmp(kc_json_str0(it, "kind"), "Agent") != 0 || !group_is(kc_json_str0(it, "apiVersion"), "kagent.dev"))
			continue;
		if ((r = link_agent(snap, it, out)) != 0) {
			kc_agent_links_free(out);
			return r;
		}
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_link);
	return 0;
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

	for (size_t i = 0; arr != NULL && i < l->n; i++) {
		if (!l->v[i].exists || strcmp(l->v[i].sa_ns, ns) != 0 || strcmp(l->v[i].sa_name, name) != 0)
			continue;
		if ((o = link_json(&l->v[i], 0)) == NULL) {
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
