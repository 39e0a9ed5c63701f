/* diff.c - the sealed diff (diff.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/report_html.h"
#include "manifest/manifest.h"
#include "pipeline/diff.h"
#include "rbac/diff.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/jarena.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/timeutil.h"

/* The bundle's path: out, or the generated name in the folder out. */
static int
seal_path(const cJSON *d, const char *out, time_t now, char **final)
{
	char name[512], cl[16];
	const char *cid = kc_json_str(kc_json_get(d, "post"), "case");
	const char *uid = kc_json_str(kc_json_get(d, "cluster"), "kube_system_uid");
	struct stat st;
	size_t nl;
	int r;

	if (!(stat(out, &st) == 0 && S_ISDIR(st.st_mode))) {
		if ((*final = kc_strdup(out)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		return 0;
	}
	if ((r = kc_fmt(cl, sizeof(cl), "%.8s", uid ? uid : "cluster")) != 0 ||	/* 8 of the UID */
	    (r = kc_bundle_name(cid ? cid : "case", "diff", cl, now, name, sizeof(name) - 8)) != 0)
		return r;
	nl = strlen(name);
	if ((nl < 7 || strcmp(name + nl - 7, ".tar.gz") != 0) &&
	    (r = kc_fmt(name + nl, sizeof(name) - nl, ".tar.gz")) != 0)	/* 8 bytes kept for it */
		return r;
	if ((*final = kc_path_join(out, name)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

/* The manifest draft: what the diff compares, its case and time, the
 * summary; "files" is filled as the members are written. */
static cJSON *
seal_manifest(const cJSON *d, time_t now)
{
	const cJSON *pre = kc_json_get(d, "pre"), *post = kc_json_get(d, "post");
	cJSON *m = cJSON_CreateObject(), *cmp, *c, *t, *col;
	char tb[40];

	cJSON_AddStringToObject(m, "schema", KC_BUNDLE_SCHEMA);
	cJSON_AddNumberToObject(m, "schema_version", KC_BUNDLE_SCHEMA_VERSION);
	cJSON_AddStringToObject(m, "kind", "recertification-diff");
	cmp = cJSON_AddObjectToObject(m, "compares");
	cJSON_AddStringToObject(cmp, "pre_sha256", kc_json_str(pre, "sha256"));
	cJSON_AddStringToObject(cmp, "pre_bundle_id", kc_json_str(pre, "bundle_id"));
	cJSON_AddStringToObject(cmp, "post_sha256", kc_json_str(post, "sha256"));
	cJSON_AddStringToObject(cmp, "post_bundle_id", kc_json_str(post, "bundle_id"));
	c = cJSON_AddObjectToObject(m, "case");
	cJSON_AddStringToObject(c, "id", kc_json_str(post, "case"));
	cJSON_AddStringToObject(c, "phase", "diff");
	t = cJSON_AddObjectToObject(m, "times");
	cJSON_AddStringToObject(t, "finished", kc_fmt_rfc3339(now, tb, sizeof(tb)));
	col = cJSON_AddObjectToObject(m, "collector");
	cJSON_AddStringToObject(col, "tool", "kcustody");
	cJSON_AddStringToObject(col, "version", KC_VERSION);
	cJSON_AddItemToObject(m, "summary", cJSON_Duplicate(kc_json_get(d, "summary"), 1));
	cJSON_AddArrayToObject(m, "files");
	return m;
}

/* The k-th rendering of d into b. */
static int
render(const cJSON *d, int k, struct kc_buf *b)
{
	char *txt;
	int r;

	if (k == 1)
		return kc_diff_render_md(d, b);
	if (k == 2)
		return kc_diff_render_text(d, b);
	if (k == 3)
		return kc_diff_render_html(d, b);
	{
		/* diff.json: kcustody.diff/v2, packed (util/jarena.h) */
		struct kc_jarena *arena = kc_jarena_new();
		cJSON *pub = arena != NULL ? kc_diff_public(d, arena) : NULL;

		txt = pub ? cJSON_Print(pub) : NULL;
		cJSON_Delete(pub);
		kc_jarena_free(arena);
	}
	r = txt ? kc_buf_adds(b, txt) : KC_ERR_NOMEM;
	free(txt);
	return r;
}

/* diff.json, diff.md, diff.txt and diff.html into staging, each listed in
 * the draft as derived from PRE and POST. */
static int
write_members(const cJSON *d, const char *staging, cJSON *m)
{
	static const char *const names[] = { "diff.json", "diff.md", "diff.txt", "diff.html" };
	static const char *const types[] = { "application/json", "text/markdown", "text/plain",
	    "text/html" };
	struct kc_buf b = KC_BUF_INIT(256u << 20);
	cJSON *files = kc_json_get_mut(m, "files"), *f, *src;
	char *path;
	int r = 0;

	for (int k = 0; k < 4; k++) {
		kc_buf_reset(&b);
		if ((r = render(d, k, &b)) != 0)
			break;
		if ((path = kc_path_join(staging, names[k])) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			break;
		}
		r = kc_write_file_atomic(path, kc_buf_str(&b), b.len, 0600);
		free(path);
		if (r != 0)
			break;
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "path", names[k]);
		cJSON_AddStringToObject(f, "media_type", types[k]);
		cJSON_AddBoolToObject(f, "derived", 1);
		src = cJSON_AddArrayToObject(f, "sources");
		cJSON_AddItemToArray(src, cJSON_CreateString(kc_json_str(kc_json_get(d, "pre"), "sha256")));
		cJSON_AddItemToArray(src, cJSON_CreateString(kc_json_str(kc_json_get(d, "post"), "sha256")));
		cJSON_AddItemToArray(files, f);
	}
	kc_buf_free(&b);
	return r;
}

int
kc_diff_seal(const cJSON *d, const char *out, const struct kc_seal_opts *so, char **final)
{
	char tmpl[4096], *dir;
	struct kc_seal_opts o = *so;
	time_t now = kc_now();
	cJSON *m;
	int r;

	*final = NULL;
	if ((r = seal_path(d, out, now, final)) != 0)
		return r;
	if ((dir = kc_dirname(*final)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	/* a cut folder would stage the bundle somewhere else: whole or an error */
	r = kc_fmt(tmpl, sizeof(tmpl), "%s/.kcustody-staging.XXXXXX", dir);
	free(dir);
	if (r != 0)
		return r;
	if (mkdtemp(tmpl) == NULL)
		return kc_err_set(KC_ERR_IO, "cannot create a staging folder: %s", strerror(errno));
	m = seal_manifest(d, now);
	if ((r = write_members(d, tmpl, m)) == 0) {
		o.mtime = now;
		r = kc_bundle_seal(tmpl, m, &o, *final);
	}
	kc_rm_rf(tmpl);
	cJSON_Delete(m);
	return r;
}
