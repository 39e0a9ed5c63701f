/* manifest.c - completing and rendering MANIFEST.json. */
#include <string.h>

#include "manifest/manifest.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"

static const struct {
	const char *suffix, *type;
} media[] = {
	{ ".json", "application/json" },
	{ ".jsonl", "application/jsonl" },
	{ ".ndjson", "application/jsonl" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".log", "text/plain; charset=utf-8" },
	{ ".csv", "text/csv; charset=utf-8" },
	{ ".md", "text/markdown; charset=utf-8" },
	{ ".html", "text/html; charset=utf-8" },
	{ ".yaml", "application/yaml" },
	{ ".yml", "application/yaml" },
	{ ".gz", "application/gzip" },
	{ ".pem", "application/x-pem-file" },
};

const char *
kc_media_type(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < sizeof(media) / sizeof(media[0]); i++) {
		size_t sl = strlen(media[i].suffix);

		if (len > sl && strcmp(path + len - sl, media[i].suffix) == 0)
			return media[i].type;
	}
	return "application/octet-stream";
}

static const char *const fixed_keys[] = {
	"path", "size", "sha256", "media_type", "derived", "sources"
};

static int
is_fixed(const char *k)
{
	for (size_t i = 0; i < sizeof(fixed_keys) / sizeof(fixed_keys[0]); i++)
		if (strcmp(k, fixed_keys[i]) == 0)
			return 1;
	return 0;
}

/* Draft file entry for path, or NULL. */
static cJSON *
draft_entry(cJSON *draft, const char *path)
{
	cJSON *it;

	cJSON_ArrayForEach(it, draft) {
		cJSON *p = kc_json_get_mut(it, "path");

		if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0)
			return it;
	}
	return NULL;
}

static int
check_draft_files(cJSON *draft, const struct kc_digest_list *files)
{
	char safe[256];
	cJSON *it;

	if (draft == NULL)
		return 0;
	if (!cJSON_IsArray(draft))
		return kc_err_set(KC_ERR_INVALID, "manifest draft: \"files\" is not an array");
	cJSON_ArrayForEach(it, draft) {
		cJSON *p = kc_json_get_mut(it, "path");

		if (!cJSON_IsObject(it) || !cJSON_IsString(p))
			return kc_err_set(KC_ERR_INVALID, "manifest draft: a file entry has no \"path\"");
		if (kc_digest_find(files, p->valuestring) < 0)
			return kc_err_set(KC_ERR_INVALID, "manifest draft lists '%s' but the staging "
			    "folder has no such file", kc_safe_str(p->valuestring, safe, sizeof(safe)));
	}
	return 0;
}

static cJSON *
file_entry(const struct kc_digest *d, cJSON *draft)
{
	cJSON *o = cJSON_CreateObject(), *mt = NULL, *dv = NULL, *src = NULL, *it;

	if (o == NULL)
		return NULL;
	if (draft != NULL) {
		mt = kc_json_get_mut(draft, "media_type");
		dv = kc_json_get_mut(draft, "derived");
		src = kc_json_get_mut(draft, "sources");
	}
	if (cJSON_AddStringToObject(o, "path", d->path) == NULL ||
	    cJSON_AddNumberToObject(o, "size", (double)d->size) == NULL ||
	    cJSON_AddStringToObject(o, "sha256", d->hex) == NULL ||
	    cJSON_AddStringToObject(o, "media_type", cJSON_IsString(mt) ? mt->valuestring :
	    kc_media_type(d->path)) == NULL ||
	    cJSON_AddBoolToObject(o, "derived", cJSON_IsTrue(dv)) == NULL)
		goto fail;
	if (cJSON_IsArray(src)) {
		if (!cJSON_AddItemToObject(o, "sources", cJSON_Duplicate(src, 1)))
			goto fail;
	} else if (cJSON_AddArrayToObject(o, "sources") == NULL) {
		goto fail;
	}
	if (draft != NULL) {
		cJSON_ArrayForEach(it, draft) {
			if (it->string == NULL || is_fixed(it->string))
				continue;
			if (!cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1)))
				goto fail;
		}
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

int
kc_manifest_finish(cJSON *m, const struct kc_digest_list *files)
{
	cJSON *schema, *draft, *rest = NULL, *arr = NULL, *it;
	int r = 0;

	if (!cJSON_IsObject(m))
		return kc_err_set(KC_ERR_INVALID, "manifest draft is not a JSON object");
	schema = kc_json_get_mut(m, "schema");
	if (schema != NULL && (!cJSON_IsString(schema) || strcmp(schema->valuestring, KC_BUNDLE_SCHEMA) != 0))
		return kc_err_set(KC_ERR_INVALID, "manifest draft: schema is not \"%s\"", KC_BUNDLE_SCHEMA);
	draft = kc_json_detach(m, "files");
	if ((r = check_draft_files(draft, files)) != 0)
		goto out;
	if ((arr = cJSON_CreateArray()) == NULL)
		goto nomem;
	for (size_t i = 0; i < files->n; i++) {
		cJSON *e = file_entry(&files->v[i], draft ? draft_entry(draft, files->v[i].path) : NULL);

		if (e == NULL || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			goto nomem;
		}
	}
	/* Re-order: schema, schema_version, the rest as drafted, files. */
	kc_json_delete(m, "schema");
	kc_json_delete(m, "schema_version");
	if ((rest = cJSON_CreateObject()) == NULL)
		goto nomem;
	while ((it = m->child) != NULL) {
		cJSON_DetachItemViaPointer(m, it);
		cJSON_AddItemToObject(rest, it->string, it);	/* re-keys a copy of the name */
	}
	if (cJSON_AddStringToObject(m, "schema", KC_BUNDLE_SCHEMA) == NULL ||
	    cJSON_AddNumberToObject(m, "schema_version", KC_BUNDLE_SCHEMA_VERSION) == NULL)
		goto nomem;
	while ((it = rest->child) != NULL) {
		cJSON_DetachItemViaPointer(rest, it);
		cJSON_AddItemToObject(m, it->string, it);
	}
	cJSON_AddItemToObject(m, "files", arr);
	arr = NULL;	/* transferred */
	goto out;
nomem:
	r = kc_err_set(KC_ERR_NOMEM, "out of memory");
out:
	cJSON_Delete(rest);
	cJSON_Delete(arr);
	cJSON_Delete(draft);
	return r;
}

int
kc_manifest_render(const cJSON *m, struct kc_buf *out)
{
	char *s = cJSON_Print(m);
	int r;

	if (s == NULL)
		return kc_err_set(KC_ERR_NOMEM, "cannot render MANIFEST.json");
	r = kc_buf_adds(out, s);
	if (r == 0)
		r = kc_buf_addc(out, '\n');
	cJSON_free(s);
	return r;
}
