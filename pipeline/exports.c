/* exports.c - kubectl-shaped YAML exports of the collected lists (exports.h). */
#include <stdlib.h>
#include <string.h>

#include "formats/yaml_out.h"
#include "manifest/digest.h"
#include "pipeline/exports.h"
#include "util/fsutil.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

static const struct {
	enum kc_snap_res res;
	const char *api_version, *kind;
} exports[] = {
	{ KC_RES_CLUSTERROLES, "rbac.authorization.k8s.io/v1", "ClusterRole" },
	{ KC_RES_CLUSTERROLEBINDINGS, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding" },
	{ KC_RES_ROLES, "rbac.authorization.k8s.io/v1", "Role" },
	{ KC_RES_ROLEBINDINGS, "rbac.authorization.k8s.io/v1", "RoleBinding" },
	{ KC_RES_SERVICEACCOUNTS, "v1", "ServiceAccount" },
	{ KC_RES_PODS, "v1", "Pod" },
};

/* The page members of raw/<name>/ among the manifest's files, in order
 * (NULL-terminated; the strings are borrowed from files). */
static const char **
page_sources(const cJSON *files, const char *name)
{
	char prefix[160];
	const char **v = NULL;
	size_t n = 0, cap = 0;
	const cJSON *f;

	if (kc_fmt(prefix, sizeof(prefix), "raw/%s/page-", name) != 0)
		return NULL;
	cJSON_ArrayForEach(f, files) {
		const char *p = kc_json_str(f, "path");

		if (p == NULL || strncmp(p, prefix, strlen(prefix)) != 0)
			continue;
		if (KC_GROW(v, cap, n + 2) != 0) {
			free(v);
			return NULL;
		}
		v[n++] = p;
	}
	if (v == NULL && KC_GROW(v, cap, 1) != 0)
		return NULL;
	v[n] = NULL;
	return v;
}

static int
fd_sink(void *ctx, const void *data, size_t len)
{
	struct kc_atomic *f = ctx;

	return kc_write_all(f->fd, data, len, f->tmp);
}

static const cJSON *
pages_next(void *ctx, int *err)
{
	return kc_snap_pages_next(ctx, err);
}

/* Streamed into the staging folder through a temporary file, from the raw
 * pages one at a time (no size cap, memory bounded by the largest page). */
static int
one_export(struct kc_collect *co, size_t i)
{
	const char *name = kc_snap_resources[exports[i].res].name;
	struct kc_atomic f = KC_ATOMIC_INIT;
	struct kc_snap_pages pages;
	char rel[160], cmd[160], *path = NULL, *dir = NULL;
	const char **src = NULL;
	cJSON *fe;
	int r;

	memset(&pages, 0, sizeof(pages));
	if ((r = kc_fmt(rel, sizeof(rel), "exports/%s.yaml", name)) != 0 ||
	    (r = kc_fmt(cmd, sizeof(cmd), "kubectl get %s -A -o yaml --show-managed-fields", name)) != 0)
		return r;
	if (!kc_relpath_ok(rel))
		return kc_err_set(KC_ERR_INVALID, "refusing to write '%s': not a relative bundle path", rel);
	if ((src = page_sources(co->files, name)) == NULL || (path = kc_path_join(co->staging, rel)) == NULL ||
	    (dir = kc_dirname(path)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kc_mkdir_p(dir, 0700)) != 0 || (r = kc_atomic_open(&f, path, NULL, 0600)) != 0 ||
	    (r = kc_snap_pages_open(&pages, co->staging, exports[i].res)) != 0)
		goto out;
	if ((r = kc_yaml_kube_list_pages_to(pages_next, &pages, exports[i].api_version, exports[i].kind,
	    fd_sink, &f)) != 0) {
		if (r == KC_ERR_NOMEM)
			kc_err_set(r, "%s: out of memory", rel);
		goto out;
	}
	if ((r = kc_atomic_commit(&f, 0)) != 0 ||
	    (r = kc_collect_note_file(co, rel, "application/yaml", 1, src)) != 0)
		goto out;
	fe = cJSON_GetArrayItem(co->files, cJSON_GetArraySize(co->files) - 1);
	cJSON_AddStringToObject(fe, "transform", "kubectl-list-yaml");
	cJSON_AddStringToObject(fe, "equivalent", cmd);
	cJSON_AddNumberToObject(fe, "objects", (double)pages.items);
out:
	kc_snap_pages_close(&pages);
	kc_atomic_abort(&f);
	free(path);
	free(dir);
	free(src);
	return r;
}

int
kc_exports_write(struct kc_collect *co, const struct kc_snapshot *snap)
{
	int r;

	for (size_t i = 0; i < sizeof(exports) / sizeof(exports[0]); i++) {
		if (!snap->present[exports[i].res])
			continue;	/* not collected whole: no export */
		if ((r = one_export(co, i)) != 0)
			return r;
	}
	return 0;
}
