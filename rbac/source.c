#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/tarball.h"
#include "rbac/source.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/mem.h"

#define SRC_MEMBER_MAX (1ULL << 30)

static int
kept(const char *path)
{
	return strncmp(path, "raw/", 4) == 0 || strncmp(path, "reviews/", 8) == 0 ||
	    strncmp(path, "analysis/can-i/", 15) == 0;
}

static int
cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct kc_source_member *)a)->path, ((const struct kc_source_member *)b)->path);
}

static int
default_keep(void *ctx, const char *path)
{
	(void)ctx;
	return kept(path);
}

static int
read_bundle(const char *path, kc_source_keep_fn keep, void *ctx, struct kc_source *src)
{
	struct kc_tar_reader *tr = NULL;
	struct kc_tar_entry e;
	int r;

	if ((r = kc_tar_open(path, NULL, &tr)) != 0)
		return r;
	while ((r = kc_tar_next(tr, &e)) == 1) {
		struct kc_source_member *m;
		size_t got = 0;

		if (e.is_dir || !keep(ctx, e.path))
			continue;
		if (e.size > SRC_MEMBER_MAX) {
			r = kc_err_set(KC_ERR_LIMIT, "bundle member '%s' is too large", e.path);
			break;
		}
		if (KC_GROW(src->m, src->cap, src->n + 1) != 0) {
			r = KC_ERR_NOMEM;
			break;
		}
		m = &src->m[src->n];
		memset(m, 0, sizeof(*m));
		if ((m->path = kc_strdup(e.path)) == NULL || (m->data = malloc((size_t)e.size + 1)) == NULL) {
			free(m->path);
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			break;
		}
		src->n++;
		while (got < e.size) {
			long k = kc_tar_read(tr, m->data + got, (size_t)e.size - got);

			if (k <= 0) {
				r = k < 0 ? (int)k : kc_err_set(KC_ERR_VERIFY, "bundle member '%s' is truncated", e.path);
				break;
			}
			got += (size_t)k;
		}
		if (r < 0)
			break;
		m->data[got] = '\0';
		m->len = got;
	}
	if (r == 0)
		r = kc_tar_finish(tr);
	kc_tar_close(tr);
	if (r == 0 && src->n > 1)
		qsort(src->m, src->n, sizeof(*src->m), cmp_member);
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
	struct stat st;
	int r;

	memset(src, 0, sizeof(*src));
	if (stat(path, &st) != 0)
		return kc_err_set(KC_ERR_IO, "cannot read '%s': no such file or folder", path);
	if (S_ISDIR(st.st_mode)) {
		if ((src->dir = kc_strdup(path)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		return 0;
	}
	if ((r = read_bundle(path, keep ? keep : default_keep, ctx, src)) != 0)
		kc_source_close(src);
	return r;
}

void
kc_source_close(struct kc_source *src)
{
	if (src == NULL)
		return;
	for (size_t i = 0; i < src->n; i++) {
		free(src->m[i].path);
		free(src->m[i].data);
	}
	free(src->m);
	free(src->dir);
	memset(src, 0, sizeof(*src));
}

static const struct kc_source_member *
find(const struct kc_source *src, const char *rel)
{
	struct kc_source_member key = { (char *)rel, NULL, 0 };

	if (src->n == 0)
		return NULL;
	return bsearch(&key, src->m, src->n, sizeof(*src->m), cmp_member);
}

int
kc_source_get(struct kc_source *src, const char *rel, size_t max, struct kc_buf *out)
{
	const struct kc_source_member *m;
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
	if ((m = find(src, rel)) == NULL)
		return kc_err_set(KC_ERR_NOTFOUND, "no member '%s'", rel);
	if (m->len > max)
		return kc_err_set(KC_ERR_LIMIT, "member '%s' is too large", rel);
	return kc_buf_add(out, m->data, m->len);
}

static char *
member_get(void *ctx, const char *rel, size_t *len)
{
	const struct kc_source_member *m = find(ctx, rel);
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
	for (size_t i = 0; i < src->n; i++) {
		const char *p = src->m[i].path;

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
		return kc_snapshot_load_dir(src->dir, snap);
	return kc_snapshot_load(member_get, member_list, src, snap);
}
