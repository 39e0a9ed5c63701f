/* custom.c - CustomResourceDefinitions, agent-runtime objects and
 * --resource lists (custom.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "collector/custom.h"
#include "collector/discovery.h"
#include "collector/names.h"
#include "collector/redact.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/strset.h"

#define CUSTOM_PAGE_MAX (256u << 20)
#define CRD_PATH "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* Groups of the agent runtimes collected by default when their CRDs exist. */
static const char *const RUNTIME_GROUPS[] = { "kagent.dev", NULL };

/* ---- the credential rule (docs/COLLECT.md) ---- */

static void
norm(const char *in, char *out, size_t n)
{
	size_t k = 0;

	for (; *in != '\0' && k + 1 < n; in++)
		if (*in != '-' && *in != '_' && *in != '.')
			out[k++] = (char)tolower((unsigned char)*in);
	out[k] = '\0';
}

static int
ends(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

static int
cred_name(const char *name)
{
	static const char *const w[] = { "password", "passwd", "secret", "token", "apikey", "credential",
		"privatekey", "accesskey", "authorization", "bearer", "cookie", NULL };
	char n[256];

	norm(name, n, sizeof(n));
	for (size_t i = 0; w[i] != NULL; i++)
		if (strstr(n, w[i]) != NULL)
			return 1;
	return 0;
}

/* A member that names where a credential is, not the credential. */
static int
ref_name(const char *name)
{
	static const char *const w[] = { "ref", "refs", "name", "names", "secretkey", "keyref", "path", "file",
		"namespace", NULL };
	char n[256];

	norm(name, n, sizeof(n));
	if (strcmp(n, "key") == 0)
		return 1;
	for (size_t i = 0; w[i] != NULL; i++)
		if (ends(n, w[i]))
			return 1;
	return 0;
}

/* "...Secret": kagent's apiKeySecret holds a Secret's name.  Kept when it
 * can only be a name: a DNS-1123 subdomain with a '-' or '.' and no run of
 * 16 or more letters and digits. */
static int
secret_name_ref(const char *name, const char *v)
{
	char n[256];
	size_t run = 0;
	int sep = 0;

	norm(name, n, sizeof(n));
	if (!ends(n, "secret") || kc_name_invalid(KC_NAME_SERVICEACCOUNT, v) != NULL)
		return 0;
	for (const char *p = v; *p; p++) {
		if (*p == '-' || *p == '.') {
			sep = 1;
			run = 0;
		} else if (++run >= 16) {
			return 0;
		}
	}
	return sep;
}

static int redact_node(cJSON *node, int under);

/* {"name": "OPENAI_API_KEY", "value": "..."}: env entries and headers */
static int
name_value_pair(cJSON *o)
{
	const cJSON *n = kc_json_get(o, "name");
	cJSON *v;
	int k = 0;

	if (!cJSON_IsString(n) || !cred_name(n->valuestring))
		return 0;
	for (v = o->child; v != NULL; v = v->next)
		if (v->string != NULL && strcmp(v->string, "value") == 0 && cJSON_IsString(v) &&
		    strncmp(v->valuestring, "sha256:", 7) != 0) {
			(void)kc_redact_hash_value(v);
			k++;
		}
	return k;
}

static int
redact_node(cJSON *node, int under)
{
	cJSON *c;
	int k = 0;

	if (cJSON_IsObject(node))
		k += name_value_pair(node);
	for (c = node->child; c != NULL; c = c->next) {
		const char *name = c->string;
		int cu = under || (name != NULL && cred_name(name));

		if (name != NULL && ref_name(name))
			cu = 0;	/* a reference block (secretKeyRef, apiKeySecretRef...) */
		if (cJSON_IsString(c)) {
			if (strncmp(c->valuestring, "sha256:", 7) == 0 && strlen(c->valuestring) == 71)
				continue;
			if ((name != NULL && strcmp(name, LAST_APPLIED) == 0) || kc_redact_credential_shape(c->valuestring, strlen(c->valuestring)) ||
			    (cu && !(name != NULL && secret_name_ref(name, c->valuestring)))) {
				(void)kc_redact_hash_value(c);
				k++;
			}
		} else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			k += redact_node(c, cu);
		}
	}
	return k;
}

int
kc_custom_redact(cJSON *obj)
{
	return obj != NULL ? redact_node(obj, 0) : 0;
}

int
kc_custom_resource_ok(const char *spec)
{
	const char *slash = spec ? strchr(spec, '/') : NULL;
	char g[300];

	if (slash == NULL || (size_t)(slash - spec) >= sizeof(g) || strchr(slash + 1, '/') != NULL)
		return 0;
	memcpy(g, spec, (size_t)(slash - spec));
	g[slash - spec] = '\0';
	return (g[0] == '\0' || kc_name_invalid(KC_NAME_SERVICEACCOUNT, g) == NULL) &&
	    kc_name_invalid(KC_NAME_NAMESPACE, slash + 1) == NULL;
}

/* ---- lists ---- */

struct page {
	char *data;
	size_t len;
	char orig[KC_SHA256_HEX];
	int redacted;
};

static void
pages_free(struct page *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i].data != NULL)
			OPENSSL_cleanse(p[i].data, p[i].len);
		free(p[i].data);
	}
	free(p);
}

static int
fatal(int r)
{
	return r == KC_ERR_NET || r == KC_ERR_AUTH || r == KC_ERR_NOMEM || r == KC_ERR_IO;
}

/* List path (all pages) into rel_dir/page-NNNN.json, redacting when asked.
 * Pages are kept in memory until the list is whole: half a list is never
 * written.  *crds gets the items when wanted (CRD list). */
static int
list_pages(struct kc_collect *co, const struct kc_collect_opts *opts, const char *name, const char *path,
    const char *rel_dir, int redact, cJSON **keep_items)
{
	struct page *pages = NULL;
	size_t np = 0, cap = 0;
	char *cont = NULL, *url = NULL, detail[1024] = "", rv[128] = "";
	long long items = 0, nred = 0;
	struct kc_response resp;
	int r = 0, restarts = 0;
	cJSON *it;

	memset(&resp, 0, sizeof(resp));
	for (;;) {
		CURL *esc = NULL;
		char *enc = NULL;
		cJSON *doc;
		const cJSON *md, *v;

		if (cont != NULL && ((esc = curl_easy_init()) == NULL || (enc = curl_easy_escape(esc, cont, 0)) == NULL)) {
			curl_easy_cleanup(esc);
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			break;
		}
		free(url);
		if (asprintf(&url, "%s?limit=%d%s%s", path, opts->page_size > 0 ? opts->page_size : 500,
		    enc ? "&continue=" : "", enc ? enc : "") < 0)
			url = NULL;
		curl_free(enc);
		curl_easy_cleanup(esc);
		if (url == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			break;
		}
		kc_response_free(&resp);
		if ((r = kc_client_request(co->client, "GET", url, "application/json", NULL, NULL, 0, &resp)) != 0)
			break;
		if (resp.status == 410 && restarts < 3) {
			pages_free(pages, np);
			pages = NULL;
			np = cap = 0;
			items = nred = 0;
			restarts++;
			free(cont);
			cont = NULL;
			continue;
		}
		if ((r = kc_response_error(&resp, "GET", url)) != 0)
			break;
		if ((doc = cJSON_ParseWithLength(resp.body.data, resp.body.len)) == NULL) {
			r = kc_err_set(KC_ERR_PARSE, "GET %s: the server's answer is not JSON", url);
			break;
		}
		if (kc_json_text_has_nul(resp.body.data, resp.body.len)) {
			cJSON_Delete(doc);
			r = kc_err_set(KC_ERR_PARSE, KC_JSON_NUL_REFUSED, "GET", url);
			break;
		}
		if (KC_GROW(pages, cap, np + 1) != 0) {
			cJSON_Delete(doc);
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			break;
		}
		memset(&pages[np], 0, sizeof(pages[np]));
		kc_sha256_hex(resp.body.data, resp.body.len, pages[np].orig);
		if (redact)
			cJSON_ArrayForEach(it, kc_json_get_mut(doc, "items"))
				pages[np].redacted += kc_custom_redact(it);
		if (pages[np].redacted > 0) {
			pages[np].data = cJSON_PrintUnformatted(doc);
			pages[np].len = pages[np].data ? strlen(pages[np].data) : 0;
			OPENSSL_cleanse(resp.body.data, resp.body.len);
		} else if ((pages[np].data = kc_calloc(1, resp.body.len + 1)) != NULL) {
			memcpy(pages[np].data, resp.body.data, resp.body.len);
			pages[np].len = resp.body.len;
		}
		nred += pages[np].redacted;
		items += cJSON_GetArraySize(kc_json_get(doc, "items"));
		if (keep_items != NULL) {
			cJSON *arr = kc_json_get_mut(doc, "items");

			if (*keep_items == NULL)
				*keep_items = cJSON_CreateArray();
			if (cJSON_IsArray(arr))
				kc_json_move_elems(*keep_items, arr, NULL);
		}
		md = kc_json_get(doc, "metadata");
		if (np == 0 && cJSON_IsString(v = kc_json_get(md, "resourceVersion")))
			kc_fmt_trunc(rv, sizeof(rv), "%s", v->valuestring);
		free(cont);
		cont = NULL;
		if (cJSON_IsString(v = kc_json_get(md, "continue")) && v->valuestring[0] != '\0')
			cont = kc_strdup(v->valuestring);
		cJSON_Delete(doc);
		if (pages[np++].data == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			break;
		}
		if (cont == NULL)
			break;
	}
	for (size_t i = 0; r == 0 && i < np; i++) {
		char rel[600];
		cJSON *f;

		if ((r = kc_fmt(rel, sizeof(rel), "%s/page-%04zu.json", rel_dir, i + 1)) != 0 ||
		    (r = kc_collect_add_file(co, rel, pages[i].data, pages[i].len, "application/json", 0, NULL)) != 0)
			break;
		if (pages[i].redacted > 0) {
			f = cJSON_GetArrayItem(co->files, cJSON_GetArraySize(co->files) - 1);
			cJSON_AddStringToObject(f, "transform", "redact-credentials");
			cJSON_AddStringToObject(f, "original_sha256", pages[i].orig);
			cJSON_AddNumberToObject(f, "redacted_values", pages[i].redacted);
		}
	}
	if (r != 0)
		kc_fmt_trunc(detail, sizeof(detail), "%s", kc_err_msg());
	/* a server without apiextensions.k8s.io/v1 (before 1.16) has no CRD
	 * list to take: skipped, not a gap */
	it = kc_collect_add_item(co, name, r == 0 ? "complete" : r == KC_ERR_FORBIDDEN ? "forbidden" :
	    r == KC_ERR_NOTFOUND && keep_items != NULL ? "skipped" : "error", detail[0] ? detail : NULL);
	cJSON_AddStringToObject(it, "path", path);
	if (r == 0) {
		cJSON_AddStringToObject(it, "resource_version", rv);
		cJSON_AddNumberToObject(it, "pages", (double)np);
		cJSON_AddNumberToObject(it, "count", (double)items);
		if (nred > 0)
			cJSON_AddNumberToObject(it, "redacted_values", (double)nred);
		kc_info("%-28s %lld items, %zu page%s", name, items, np, np == 1 ? "" : "s");
	} else {
		kc_info("%-28s %s", name, r == KC_ERR_FORBIDDEN ? "forbidden" : "error");
	}
	if (restarts > 0)
		cJSON_AddNumberToObject(it, "restarts_after_410", restarts);
	if (resp.status != 0)
		cJSON_AddNumberToObject(it, "http_status", (double)resp.status);
	kc_response_free(&resp);
	pages_free(pages, np);
	free(cont);
	free(url);
	if (fatal(r))
		return kc_err_set(r, "%s: %s", name, detail);
	return 0;
}

static char *
staging_get(void *ctx, const char *rel, size_t *len)
{
	struct kc_collect *co = ctx;
	struct kc_buf b = KC_BUF_INIT(CUSTOM_PAGE_MAX);
	char *path = kc_path_join(co->staging, rel);

	if (path == NULL || kc_read_file(path, CUSTOM_PAGE_MAX, &b) != 0) {
		free(path);
		kc_buf_free(&b);
		return NULL;
	}
	free(path);
	return kc_buf_take(&b, len);
}

/* The version to list group/resource at: the one discovery served it
 * first in (the preferred), else the CRD's storage version. */
static const char *
version_of(const struct kc_discovery *d, const cJSON *crds, const char *group, const char *res)
{
	const struct kc_disc_resource *e = kc_discovery_find(d, group, res);
	const cJSON *c, *v;

	if (e != NULL)
		return e->version;
	cJSON_ArrayForEach(c, crds) {
		const cJSON *spec = kc_json_get(c, "spec");

		if (strcmp(kc_json_str0(spec, "group"), group) != 0 ||
		    strcmp(kc_json_str0(kc_json_get(spec, "names"), "plural"), res) != 0)
			continue;
		cJSON_ArrayForEach(v, kc_json_get(spec, "versions"))
			if (cJSON_IsTrue(kc_json_get(v, "storage")))
				return kc_json_str(v, "name");
	}
	return NULL;
}

static int
list_custom(struct kc_collect *co, const struct kc_collect_opts *opts, const struct kc_discovery *d,
    const cJSON *crds, const char *group, const char *res)
{
	const char *ver = version_of(d, crds, group, res);
	char name[600], path[700], rel[600];

	if (kc_fmt(name, sizeof(name), "custom/%s/%s", group[0] ? group : "core", res) != 0 ||
	    kc_fmt(rel, sizeof(rel), "custom/%s/%s", group[0] ? group : "core", res) != 0)
		return 0;
	if (ver == NULL || kc_name_invalid(KC_NAME_NAMESPACE, ver) != NULL) {
		kc_collect_add_item(co, name, "error", "not served by this cluster (no discovery entry and no CRD)");
		return 0;
	}
	if ((group[0] ? kc_fmt(path, sizeof(path), "/apis/%s/%s/%s", group, ver, res) :
	    kc_fmt(path, sizeof(path), "/api/%s/%s", ver, res)) != 0)
		return 0;
	return list_pages(co, opts, name, path, rel, 1, NULL);
}

int
kc_collect_custom(struct kc_collect *co, const struct kc_collect_opts *opts)
{
	struct kc_discovery *d = NULL;
	struct kc_strset done;
	cJSON *crds = NULL;
	const cJSON *c;
	int r;

	memset(&done, 0, sizeof(done));
	if ((r = list_pages(co, opts, "list/customresourcedefinitions", CRD_PATH, "raw/customresourcedefinitions",
	    0, &crds)) != 0)
		return r;
	if ((r = kc_discovery_load(staging_get, co, crds, &d)) != 0)
		goto out;
	/* known runtimes: every resource their installed CRDs declare */
	cJSON_ArrayForEach(c, crds) {
		const cJSON *spec = kc_json_get(c, "spec");
		const char *g = kc_json_str0(spec, "group"), *pl = kc_json_str0(kc_json_get(spec, "names"), "plural");
		char key[600];

		for (size_t i = 0; RUNTIME_GROUPS[i] != NULL && r == 0; i++) {
			if (strcmp(g, RUNTIME_GROUPS[i]) != 0 || kc_name_invalid(KC_NAME_NAMESPACE, pl) != NULL ||
			    kc_fmt(key, sizeof(key), "%s/%s", g, pl) != 0 || kc_strset_has(&done, key))
				continue;
			kc_strset_add(&done, key);
			r = list_custom(co, opts, d, crds, g, pl);
		}
		if (r != 0)
			goto out;
	}
	for (size_t i = 0; i < opts->nresources && r == 0; i++) {
		const char *spec = opts->resources[i], *slash = strchr(spec, '/');
		char g[300];

		if (!kc_custom_resource_ok(spec) || kc_strset_has(&done, spec))
			continue;
		memcpy(g, spec, (size_t)(slash - spec));
		g[slash - spec] = '\0';
		kc_strset_add(&done, spec);
		r = list_custom(co, opts, d, crds, g, slash + 1);
	}
out:
	kc_strset_free(&done);
	kc_discovery_free(d);
	cJSON_Delete(crds);
	return r;
}
