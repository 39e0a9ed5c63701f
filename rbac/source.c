#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rbac/source.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/jarena.h"
#include "util/mem.h"

#define SRC_MEMBER_MAX (1ULL << 30)

static int
kept(const char *path)
{
	return strncmp(path, "raw/", 4) == 0 || strncmp(path, "reviews/", 8) == 0 ||
	    strncmp(path, "discovery/", 10) == 0 ||
	    strncmp(path, KC_SNAPSHOT_AGENT_CRS "/", sizeof(KC_SNAPSHOT_AGENT_CRS)) == 0 ||
	    strncmp(path, "analysis/can-i/", 15) == 0 || strcmp(path, "analysis/selection.json") == 0;
}

struct keep_ctx {
	kc_source_keep_fn keep;
	void *ctx;
};

static int
keep_member(void *ctx, const struct kc_tar_entry *e)
{
	const struct keep_ctx *k = ctx;

	if (e->is_dir || !k->keep(k->ctx, e->path))
		return KC_BUNDLE_SKIP;
	if (e->size > SRC_MEMBER_MAX)
		return kc_err_set(KC_ERR_LIMIT, "bundle member '%s' is too large", e->path);
	return KC_BUNDLE_KEEP;
}

static int
default_keep(void *ctx, const char *path)
{
	(void)ctx;
	return kept(path);
}

/* each raw page reduced as it is read to what the snapshot's level keeps */
static int
shrink_member(void *ctx, struct kc_bundle_member *m)
{
	const struct kc_source *src = ctx;

	return kc_snapshot_reduce_page_filter(m->path, src->level, &src->filter, src->scratch, &m->data, &m->len);
}

/* vo NULL: read (pinned to pin); else verified in the same pass (res). */
static int
read_bundle(const char *path, kc_source_keep_fn keep, void *ctx, const char *pin, const struct kc_verify_opts *vo,
    struct kc_verify_result *res, struct kc_source *src)
{
	const struct kc_bundle_read_opts o = {
		.member_max = SRC_MEMBER_MAX, .total_max = SIZE_MAX, .reader = "kcustody",
		.check_end = 1, .sort = 1, .expect_sha256 = pin,
		.shrink = src->level != KC_SNAP_FULL ? shrink_member : NULL, .shrink_ctx = src,
	};
	struct keep_ctx k = { keep, ctx };
	int r;

	/* no scratch arena (out of memory): the pages are parsed on the heap */
	if (o.shrink != NULL)
		src->scratch = kc_jarena_new();
	if (vo != NULL)
		r = kc_bundle_verify_read(path, vo, res, &o, keep_member, &k, &src->m);
	else
		r = kc_bundle_read_members(path, &o, keep_member, &k, &src->m);
	kc_jarena_free(src->scratch);
	src->scratch = NULL;
	return r;
}

int
kc_source_open(const char *path, struct kc_source *src)
{
	return kc_source_open_keep(path, NULL, NULL, src);
}

int
kc_source_open_keep(const char *path, kc_source_keep_fn keep, void *ctx, struct kc_source *src)
{
	return kc_source_open_pinned(path, keep, ctx, NULL, src);
}

int
kc_source_open_pinned(const char *path, kc_source_keep_fn keep, void *ctx, const char *pin,
    struct kc_source *src)
{
	return kc_source_open_level(path, keep, ctx, pin, KC_SNAP_FULL, src);
}

int
kc_source_open_level(const char *path, kc_source_keep_fn keep, void *ctx, const char *pin, int level,
    struct kc_source *src)
{
	return kc_source_open_want(path, keep, ctx, pin, level, NULL, NULL, src);
}

int
kc_source_open_want(const char *path, kc_source_keep_fn keep, void *ctx, const char *pin, int level,
    kc_snap_want_fn want, void *want_ctx, struct kc_source *src)
{
	const struct kc_snap_filter f = { want, NULL, want_ctx };

	return kc_source_open_filter(path, keep, ctx, pin, level, &f, src);
}

int
kc_source_open_filter(const char *path, kc_source_keep_fn keep, void *ctx, const char *pin, int level,
    const struct kc_snap_filter *f, struct kc_source *src)
{
	struct stat st;
	int r;

	memset(src, 0, sizeof(*src));
	src->level = level;
	if (f != NULL)
		src->filter = *f;
	if (stat(path, &st) != 0)
		return kc_err_set(KC_ERR_IO, "cannot read '%s': no such file or folder", path);
	if (S_ISDIR(st.st_mode)) {
		if (pin != NULL)
			return kc_err_set(KC_ERR_VERIFY, "'%s' changed after it was verified: it is now a folder",
			    path);
		if ((src->dir = kc_strdup(path)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		return 0;
	}
	if ((r = read_bundle(path, keep ? keep : default_keep, ctx, pin, NULL, NULL, src)) != 0)
		kc_source_close(src);
	return r;
}

int
kc_source_open_verified(const char *path, const struct kc_verify_opts *vo, struct kc_verify_result *res,
    kc_source_keep_fn keep, void *ctx, int level, const struct kc_snap_filter *f, struct kc_source *src)
{
	int r;

	memset(src, 0, sizeof(*src));
	src->level = level;
	if (f != NULL)
		src->filter = *f;
	if ((r = read_bundle(path, keep ? keep : default_keep, ctx, NULL, vo, res, src)) != 0)
		kc_source_close(src);
	return r;
}

void
kc_source_close(struct kc_source *src)
{
	if (src == NULL)
		return;
	kc_bundle_members_free(&src->m);
	free(src->dir);
	memset(src, 0, sizeof(*src));
}

int
kc_source_get(struct kc_source *src, const char *rel, size_t max, struct kc_buf *out)
{
	const struct kc_bundle_member *m;
	char *path;
	int r;

	if (src->dir != NULL) {
		if ((path = kc_path_join(src->dir, rel)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		r = access(path, R_OK) == 0 ? kc_read_file(path, max, out) :
		    kc_err_set(KC_ERR_NOTFOUND, "no member '%s'", rel);
		free(path);
		return r;
	}
	if ((m = kc_bundle_member_find(&src->m, rel)) == NULL)
		return kc_err_set(KC_ERR_NOTFOUND, "no member '%s'", rel);
	if (m->len > max)
		return kc_err_set(KC_ERR_LIMIT, "member '%s' is too large", rel);
	return kc_buf_add(out, m->data, m->len);
}

cJSON *
kc_source_get_json(struct kc_source *src, const char *rel)
{
	const size_t max = 256u << 20;
	struct kc_buf buf = KC_BUF_INIT(max);
	cJSON *j = NULL;

	if (kc_source_get(src, rel, max, &buf) == 0)
		j = cJSON_ParseWithLength(kc_buf_str(&buf), buf.len);
	kc_buf_free(&buf);
	return j;
}

static char *
member_get(void *ctx, const char *rel, size_t *len)
{
	const struct kc_source *src = ctx;
	const struct kc_bundle_member *m = kc_bundle_member_find(&src->m, rel);
	char *p;

	if (m == NULL || (p = malloc(m->len + 1)) == NULL)
		return NULL;
	memcpy(p, m->data, m->len + 1);
	*len = m->len;
	return p;
}

static int
member_list(void *ctx, const char *prefix, char ***names, size_t *n)
{
	const struct kc_source *src = ctx;
	size_t pl = strlen(prefix), cnt = 0;
	char **v = NULL;

	*names = NULL;
	*n = 0;
	for (size_t i = 0; i < src->m.n; i++) {
		const char *p = src->m.v[i].path;

		if (strncmp(p, prefix, pl) != 0 || p[pl] != '/' || strncmp(p + pl + 1, "page-", 5) != 0 ||
		    strchr(p + pl + 1, '/') != NULL)
			continue;
		if ((v = kc_reallocarray(v, cnt + 1, sizeof(*v))) == NULL ||
		    (v[cnt] = kc_strdup(p)) == NULL) {
			for (size_t k = 0; v != NULL && k < cnt; k++)
				free(v[k]);
			free(v);
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		}
		cnt++;
	}
	*names = v;	/* members are sorted, so pages are in order */
	*n = cnt;
	return 0;
}

int
kc_source_snapshot(struct kc_source *src, struct kc_snapshot *snap)
{
	if (src->dir != NULL)
		return kc_snapshot_load_dir_level(src->dir, snap, src->level);
	return kc_snapshot_load_level(member_get, member_list, src, snap, src->level);
}

void
kc_source_forget(struct kc_source *src, const char *prefix)
{
	size_t pl = strlen(prefix), j = 0;

	for (size_t i = 0; i < src->m.n; i++) {
		struct kc_bundle_member *e = &src->m.v[i];

		if (strncmp(e->path, prefix, pl) == 0) {
			free(e->path);
			free(e->data);
			continue;
		}
		src->m.v[j++] = *e;	/* order kept: still sorted */
	}
	src->m.n = j;
}
