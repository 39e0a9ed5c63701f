/* discovery.c - the API discovery documents: collected as evidence, read
 * back as the model of what the cluster serves (discovery.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/discovery.h"
#include "collector/names.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#define DISC_DOC_MAX (64u << 20)

/* ---- collection ---- */

/* A group name is a DNS-1123 subdomain and a version a DNS-1123 label
 * (the API server's own rules); anything else never becomes a path. */
static int
gv_ok(const char *group, const char *version)
{
	return (group == NULL || kc_name_invalid(KC_NAME_SERVICEACCOUNT, group) == NULL) &&
	    version != NULL && kc_name_invalid(KC_NAME_NAMESPACE, version) == NULL;
}

static int
fatal(int r)
{
	return r == KC_ERR_NET || r == KC_ERR_AUTH || r == KC_ERR_NOMEM || r == KC_ERR_IO;
}

/* GET path, store it as rel, record item name; *doc the parsed answer
 * (NULL when it failed).  Returns non-zero only for a fatal failure. */
static int
fetch_doc(struct kc_collect *co, const char *path, const char *rel, const char *name, cJSON **doc)
{
	struct kc_response resp;
	char detail[1024] = "";
	const char *status = "complete";
	cJSON *it;
	int r;

	*doc = NULL;
	memset(&resp, 0, sizeof(resp));
	if ((r = kc_client_request(co->client, "GET", path, "application/json", NULL, NULL, 0, &resp)) == 0 &&
	    (r = kc_response_error(&resp, "GET", path)) == 0) {
		if ((*doc = cJSON_ParseWithLength(resp.body.data, resp.body.len)) == NULL)
			r = kc_err_set(KC_ERR_PARSE, "GET %s: the server's answer is not JSON", path);
		else if (kc_json_text_has_nul(resp.body.data, resp.body.len))
			r = kc_err_set(KC_ERR_PARSE, KC_JSON_NUL_REFUSED, "GET", path);
		else
			r = kc_collect_add_file(co, rel, resp.body.data, resp.body.len, "application/json", 0, NULL);
	}
	if (r != 0) {
		cJSON_Delete(*doc);
		*doc = NULL;
		kc_fmt_trunc(detail, sizeof(detail), "%s", kc_err_msg());
		status = r == KC_ERR_FORBIDDEN ? "forbidden" : "error";
	}
	it = kc_collect_add_item(co, name, status, detail[0] ? detail : NULL);
	cJSON_AddStringToObject(it, "path", path);
	if (resp.status != 0)
		cJSON_AddNumberToObject(it, "http_status", (double)resp.status);
	kc_response_free(&resp);
	if (fatal(r))
		return kc_err_set(r, "%s: %s", name, detail);
	return 0;
}

static int
fetch_gv(struct kc_collect *co, const char *group, const char *version, int *count)
{
	char path[600], rel[600], name[600];
	cJSON *doc = NULL;
	int r;

	if (!gv_ok(group, version)) {
		char safe[300];

		kc_safe_str(group ? group : version, safe, sizeof(safe));
		kc_collect_add_item(co, "discovery/invalid-group-version", "error", safe);
		kc_warn("discovery: group-version name '%s' from the server is not valid; not fetched", safe);
		return 0;
	}
	if (group == NULL)
		r = kc_fmt(path, sizeof(path), "/api/%s", version) ||
		    kc_fmt(rel, sizeof(rel), "discovery/api/%s.json", version) ||
		    kc_fmt(name, sizeof(name), "discovery/api/%s", version);
	else
		r = kc_fmt(path, sizeof(path), "/apis/%s/%s", group, version) ||
		    kc_fmt(rel, sizeof(rel), "discovery/apis/%s/%s.json", group, version) ||
		    kc_fmt(name, sizeof(name), "discovery/apis/%s/%s", group, version);
	if (r != 0)
		return 0;	/* cannot happen: the names are bounded */
	if ((r = fetch_doc(co, path, rel, name, &doc)) != 0)
		return r;
	if (doc != NULL)
		*count += cJSON_GetArraySize(kc_json_get(doc, "resources"));
	cJSON_Delete(doc);
	return 0;
}

int
kc_collect_discovery(struct kc_collect *co)
{
	cJSON *doc = NULL;
	const cJSON *v, *g;
	int r, count = 0, ngv = 0;

	if ((r = fetch_doc(co, "/api", "discovery/api.json", "discovery/api", &doc)) != 0)
		return r;
	cJSON_ArrayForEach(v, kc_json_get(doc, "versions")) {
		if (!cJSON_IsString(v))
			continue;
		ngv++;
		if ((r = fetch_gv(co, NULL, v->valuestring, &count)) != 0)
			goto out;
	}
	cJSON_Delete(doc);
	if ((r = fetch_doc(co, "/apis", "discovery/apis.json", "discovery/apis", &doc)) != 0)
		return r;
	cJSON_ArrayForEach(g, kc_json_get(doc, "groups")) {
		const char *gname = kc_json_str(g, "name");

		cJSON_ArrayForEach(v, kc_json_get(g, "versions")) {
			const char *ver = kc_json_str(v, "version");

			if (gname == NULL || ver == NULL)
				continue;
			ngv++;
			if ((r = fetch_gv(co, gname, ver, &count)) != 0)
				goto out;
		}
	}
	kc_info("%-28s %d group-versions, %d resource entries", "discovery", ngv, count);
out:
	cJSON_Delete(doc);
	return r;
}

/* ---- the model ---- */

static int
strs_add(struct kc_disc_strs *s, const char *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], v) == 0)
			return 0;
	if (KC_GROW(s->v, s->cap, s->n + 1) != 0 || (s->v[s->n] = kc_strdup(v)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	s->n++;
	return 0;
}

static void
strs_free(struct kc_disc_strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int
strs_has(const struct kc_disc_strs *s, const char *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], v) == 0)
			return 1;
	return 0;
}

int
kc_discovery_custom_group(const char *group)
{
	static const char *const own[] = { "", "apps", "batch", "autoscaling", "policy", "extensions", NULL };
	size_t l = strlen(group);

	for (size_t i = 0; own[i] != NULL; i++)
		if (strcmp(group, own[i]) == 0)
			return 0;
	if (strcmp(group, "k8s.io") == 0 || (l > 7 && strcmp(group + l - 7, ".k8s.io") == 0))
		return 0;
	return 1;
}

static struct kc_disc_resource *
find_mut(struct kc_discovery *d, const char *group, const char *name, size_t nl)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].group, group) == 0 && strlen(d->v[i].name) == nl &&
		    strncmp(d->v[i].name, name, nl) == 0)
			return &d->v[i];
	return NULL;
}

static int
add_str_list(struct kc_disc_strs *s, const cJSON *arr)
{
	const cJSON *x;
	int r;

	cJSON_ArrayForEach(x, arr)
		if (cJSON_IsString(x) && (r = strs_add(s, x->valuestring)) != 0)
			return r;
	return 0;
}

/* One APIResourceList: top-level resources first, then subresources. */
static int
add_list(struct kc_discovery *d, const char *group, const char *version, const cJSON *doc)
{
	const cJSON *res;
	int r;

	for (int pass = 0; pass < 2; pass++)
		cJSON_ArrayForEach(res, kc_json_get(doc, "resources")) {
			const char *name = kc_json_str(res, "name"), *slash;
			struct kc_disc_resource *e;
			size_t nl;

			if (name == NULL || name[0] == '\0')
				continue;
			slash = strchr(name, '/');
			if ((slash != NULL) != (pass == 1))
				continue;
			nl = slash ? (size_t)(slash - name) : strlen(name);
			if ((e = find_mut(d, group, name, nl)) == NULL) {
				if (slash != NULL)
					continue;	/* a subresource of nothing listed */
				if (KC_GROW(d->v, d->cap, d->n + 1) != 0)
					return kc_err_set(KC_ERR_NOMEM, "out of memory");
				e = &d->v[d->n++];
				memset(e, 0, sizeof(*e));
				if ((e->group = kc_strdup(group)) == NULL || (e->version = kc_strdup(version)) == NULL ||
				    (e->name = kc_strdup(name)) == NULL ||
				    (e->kind = kc_strdup(kc_json_str0(res, "kind"))) == NULL)
					return kc_err_set(KC_ERR_NOMEM, "out of memory");
				e->namespaced = cJSON_IsTrue(kc_json_get(res, "namespaced"));
			}
			if (slash != NULL) {
				if ((r = strs_add(&e->subresources, name)) != 0)
					return r;
				continue;
			}
			if ((r = add_str_list(&e->verbs, kc_json_get(res, "verbs"))) != 0 ||
			    (r = add_str_list(&e->short_names, kc_json_get(res, "shortNames"))) != 0)
				return r;
		}
	return 0;
}

static cJSON *
get_doc(kc_member_get_fn get, void *ctx, const char *rel)
{
	size_t len = 0;
	char *data = get(ctx, rel, &len);
	cJSON *doc;

	if (data == NULL)
		return NULL;
	/* a NUL in a string: cJSON would read a resource "x\u0000y" as "x"
	 * (collect refuses such an answer; an older bundle may hold one) */
	doc = len <= DISC_DOC_MAX && !kc_json_text_has_nul(data, len) ? cJSON_ParseWithLength(data, len) : NULL;
	free(data);
	return doc;
}

static int
load_gv(struct kc_discovery *d, kc_member_get_fn get, void *ctx, const char *group, const char *version)
{
	char rel[600];
	cJSON *doc;
	int r;

	if ((r = strs_add(&d->groups, group ? group : "")) != 0)
		return r;
	if (!gv_ok(group, version) ||
	    (group == NULL ? kc_fmt(rel, sizeof(rel), "discovery/api/%s.json", version) :
	    kc_fmt(rel, sizeof(rel), "discovery/apis/%s/%s.json", group, version)) != 0 ||
	    (doc = get_doc(get, ctx, rel)) == NULL)
		return strs_add(&d->incomplete, group ? group : "");
	r = add_list(d, group ? group : "", version, doc);
	cJSON_Delete(doc);
	return r;
}

static int
cmp_res(const void *a, const void *b)
{
	const struct kc_disc_resource *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	return c != 0 ? c : strcmp(x->name, y->name);
}

static void
mark_custom(struct kc_discovery *d, const cJSON *crds)
{
	for (size_t i = 0; i < d->n; i++) {
		struct kc_disc_resource *e = &d->v[i];
		const cJSON *c;

		if (crds == NULL) {
			e->custom = kc_discovery_custom_group(e->group);
			continue;
		}
		e->custom = 0;
		cJSON_ArrayForEach(c, crds) {
			const cJSON *spec = kc_json_get(c, "spec");

			if (strcmp(kc_json_str0(spec, "group"), e->group) == 0 &&
			    strcmp(kc_json_str0(kc_json_get(spec, "names"), "plural"), e->name) == 0) {
				e->custom = 1;
				break;
			}
		}
	}
}

int
kc_discovery_load(kc_member_get_fn get, void *ctx, const cJSON *crds, struct kc_discovery **out)
{
	cJSON *api = get_doc(get, ctx, "discovery/api.json"), *apis = get_doc(get, ctx, "discovery/apis.json");
	struct kc_discovery *d;
	const cJSON *v, *g;
	int r = 0;

	*out = NULL;
	if (api == NULL && apis == NULL)
		return 0;	/* no discovery in this bundle */
	if ((d = kc_calloc(1, sizeof(*d))) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (api == NULL)
		r = strs_add(&d->incomplete, "");
	cJSON_ArrayForEach(v, kc_json_get(api, "versions"))
		if (r == 0 && cJSON_IsString(v))
			r = load_gv(d, get, ctx, NULL, v->valuestring);
	cJSON_ArrayForEach(g, kc_json_get(apis, "groups")) {
		const char *gname = kc_json_str(g, "name");

		cJSON_ArrayForEach(v, kc_json_get(g, "versions")) {
			const char *ver = kc_json_str(v, "version");

			if (r == 0 && gname != NULL && ver != NULL)
				r = load_gv(d, get, ctx, gname, ver);
		}
	}
	if (r == 0) {
		if (d->n > 1)
			qsort(d->v, d->n, sizeof(*d->v), cmp_res);
		mark_custom(d, crds);
		*out = d;
		d = NULL;
	}
	kc_discovery_free(d);
out:
	cJSON_Delete(api);
	cJSON_Delete(apis);
	return r;
}

void
kc_discovery_free(struct kc_discovery *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		struct kc_disc_resource *e = &d->v[i];

		free(e->group);
		free(e->version);
		free(e->name);
		free(e->kind);
		strs_free(&e->verbs);
		strs_free(&e->short_names);
		strs_free(&e->subresources);
	}
	free(d->v);
	strs_free(&d->groups);
	strs_free(&d->incomplete);
	free(d);
}

const struct kc_disc_resource *
kc_discovery_find(const struct kc_discovery *d, const char *group, const char *name)
{
	struct kc_disc_resource key;

	if (d == NULL || d->n == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.group = (char *)group;
	key.name = (char *)name;
	return bsearch(&key, d->v, d->n, sizeof(*d->v), cmp_res);
}

int
kc_discovery_group_incomplete(const struct kc_discovery *d, const char *group)
{
	return d != NULL && strs_has(&d->incomplete, group);
}

int
kc_discovery_group_listed(const struct kc_discovery *d, const char *group)
{
	return d != NULL && strs_has(&d->groups, group);
}
