/* bundle_read.c - the one reader of bundle members (bundle.h, "reading
 * members"): listing, streaming one member, and reading a chosen set into
 * memory in one pass.  inspect, the snapshot loader (rbac/source.c), diff
 * and the HTML report all read through here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/bundle.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/log.h"
#include "util/mem.h"

#define CHUNK_SIZE (256u << 10)
/* Read size per call when reading members into memory. */
#define READ_STEP 65536

int
kc_bundle_list(const char *path, kc_bundle_visit_fn fn, void *ctx)
{
	struct kc_tar_reader *tr = NULL;
	struct kc_tar_entry e;
	int r;

	if ((r = kc_tar_open(path, NULL, &tr)) != 0)
		return r;
	while ((r = kc_tar_next(tr, &e)) == 1) {
		if ((r = fn(ctx, &e)) != 0)
			break;
	}
	kc_tar_close(tr);
	return r < 0 ? r : 0;
}

int
kc_bundle_read_member(const char *path, const char *rel, kc_bundle_sink_fn sink, void *ctx)
{
	return kc_bundle_read_member_pinned(path, rel, NULL, sink, ctx);
}

/* The file's digest (the bytes read and the rest) compared with pin. */
static int
pin_check(struct kc_tar_reader *tr, const char *path, const char *pin, char got[KC_SHA256_HEX])
{
	int r;

	if ((r = kc_tar_sha256(tr, got)) != 0)
		return r;
	if (!kc_digest_eq(pin, got))
		return kc_err_set(KC_ERR_VERIFY, "'%s' changed after it was verified (SHA-256 %.16s... verified, "
		    "%.16s... read now): nothing is taken from it", path, pin, got);
	return 0;
}

int
kc_bundle_read_member_pinned(const char *path, const char *rel, const char *pin, kc_bundle_sink_fn sink,
    void *ctx)
{
	struct kc_tar_reader *tr = NULL;
	struct kc_tar_entry e;
	unsigned char *buf = NULL;
	long n;
	int r;

	if ((buf = malloc(CHUNK_SIZE)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = kc_tar_open(path, NULL, &tr)) != 0)
		goto out;
	while ((r = kc_tar_next(tr, &e)) == 1) {
		if (e.is_dir || strcmp(e.path, rel) != 0)
			continue;
		while ((n = kc_tar_read(tr, buf, CHUNK_SIZE)) > 0)
			if ((r = sink(ctx, buf, (size_t)n)) != 0)
				goto out;
		r = n < 0 ? (int)n : 0;
		if (r == 0 && pin != NULL) {
			char got[KC_SHA256_HEX];

			r = pin_check(tr, path, pin, got);
		}
		goto out;
	}
	if (r == 0 && pin != NULL) {
		/* "no such member" only of the verified file: another file
		 * without it is refused (callers take a missing audit segment
		 * as none) */
		char got[KC_SHA256_HEX];

		r = pin_check(tr, path, pin, got);
	}
	if (r == 0) {
		char safe[256];

		r = kc_err_set(KC_ERR_NOTFOUND, "no member '%s' in '%s'", kc_safe_str(rel, safe, sizeof(safe)), path);
	}
out:
	kc_tar_close(tr);
	free(buf);
	return r;
}

int
kc_bundle_buf_sink(void *ctx, const void *p, size_t n)
{
	struct kc_buf *b = ctx;

	if (kc_buf_add(b, p, n) != 0)
		return kc_err_set(KC_ERR_LIMIT, "member larger than %zu bytes", b->max);
	return 0;
}

int
kc_bundle_get_member(const char *path, const char *rel, size_t max, struct kc_buf *out)
{
	kc_buf_init(out, max);
	return kc_bundle_read_member(path, rel, kc_bundle_buf_sink, out);
}

/* ---- members into memory ---- */

static int
cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct kc_bundle_member *)a)->path, ((const struct kc_bundle_member *)b)->path);
}

/* Read the data of the current entry e into a new member of out. */
static int
read_one(struct kc_tar_reader *tr, const struct kc_tar_entry *e, const struct kc_bundle_read_opts *o,
    size_t *total, char *chunk, struct kc_bundle_members *out)
{
	struct kc_buf data = KC_BUF_INIT(o->member_max);
	struct kc_bundle_member *m;
	long got;

	while ((got = kc_tar_read(tr, chunk, READ_STEP)) > 0) {
		*total += (size_t)got;
		if (*total > o->total_max || kc_buf_add(&data, chunk, (size_t)got) != 0) {
			got = kc_err_set(KC_ERR_LIMIT, "'%s' is larger than %s reads", e->path, o->reader);
			break;
		}
	}
	if (got == 0 && data.len != e->size)
		got = kc_err_set(KC_ERR_VERIFY, "bundle member '%s' is truncated", e->path);
	if (got < 0) {
		kc_buf_free(&data);
		return (int)got;
	}
	if (KC_GROW(out->v, out->cap, out->n + 1) != 0) {
		kc_buf_free(&data);
		return KC_ERR_NOMEM;
	}
	m = &out->v[out->n];
	if ((m->path = kc_strdup(e->path)) == NULL || (m->data = kc_buf_take(&data, &m->len)) == NULL) {
		free(m->path);
		kc_buf_free(&data);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	out->n++;
	return 0;
}

/* The current entry e handed to o->stream as it is read (read_one's
 * limits and truncation check). */
static int
stream_one(struct kc_tar_reader *tr, const struct kc_tar_entry *e, const struct kc_bundle_read_opts *o,
    size_t *total, char *chunk)
{
	size_t len = 0;
	long got;
	int r;

	if (o->stream == NULL)
		return kc_err_set(KC_ERR_INVALID, "'%s': a member streamed with no stream to take it", e->path);
	while ((got = kc_tar_read(tr, chunk, READ_STEP)) > 0) {
		*total += (size_t)got;
		len += (size_t)got;
		if (*total > o->total_max || len > o->member_max)
			return kc_err_set(KC_ERR_LIMIT, "'%s' is larger than %s reads", e->path, o->reader);
		if ((r = o->stream(o->shrink_ctx, e, chunk, (size_t)got)) != 0)
			return r;
	}
	if (got < 0)
		return (int)got;
	if (len != e->size)
		return kc_err_set(KC_ERR_VERIFY, "bundle member '%s' is truncated", e->path);
	return o->stream(o->shrink_ctx, e, NULL, 0);
}

int
kc_bundle_read_members(const char *path, const struct kc_bundle_read_opts *o,
    kc_bundle_keep_fn keep, void *ctx, struct kc_bundle_members *out)
{
	struct kc_tar_reader *tr = NULL;
	struct kc_tar_entry e;
	size_t total = 0;
	char *chunk;
	int r, k, stopped = 0;

	memset(out, 0, sizeof(*out));
	if ((chunk = malloc(READ_STEP)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = kc_tar_open(path, NULL, &tr)) != 0) {
		free(chunk);
		return r;
	}
	out->opened = 1;
	while ((r = kc_tar_next(tr, &e)) == 1) {
		/* the top folder names the bundle's members: whole or an error */
		if (out->top[0] == '\0' && (r = kc_fmt(out->top, sizeof(out->top), "%s", e.top)) != 0)
			break;
		if ((k = keep(ctx, &e)) < 0 || k == KC_BUNDLE_STOP) {
			r = k < 0 ? k : 0;
			stopped = 1;
			break;
		}
		if (k == KC_BUNDLE_SKIP || e.is_dir)
			continue;
		if (k == KC_BUNDLE_STREAM) {
			if ((r = stream_one(tr, &e, o, &total, chunk)) != 0)
				break;
			continue;
		}
		if ((r = read_one(tr, &e, o, &total, chunk, out)) != 0)
			break;
		if (o->shrink != NULL && (r = o->shrink(o->shrink_ctx, &out->v[out->n - 1])) != 0)
			break;
	}
	if (r == 0 && !stopped && o->check_end)
		r = kc_tar_finish(tr);
	if (r == 0 && o->expect_sha256 != NULL) {
		r = pin_check(tr, path, o->expect_sha256, out->sha256);
	} else if (r != 0 && r != KC_ERR_NOMEM && o->expect_sha256 != NULL) {
		/* stopped by an error part way: every byte read so far was
		 * hashed, so the rest is hashed too and a file other than the
		 * pinned one is named as that, not only as damaged (a reader
		 * that shows what came before the error shows nothing of it) */
		char msg[512], got[KC_SHA256_HEX];

		kc_fmt_trunc(msg, sizeof(msg), "%s", kc_err_msg());
		if (kc_tar_sha256(tr, got) == 0 && !kc_digest_eq(o->expect_sha256, got)) {
			memcpy(out->sha256, got, sizeof(out->sha256));
			r = kc_err_set(KC_ERR_VERIFY, "'%s' changed after it was verified (SHA-256 %.16s... verified, "
			    "%.16s... read now): nothing is taken from it", path, o->expect_sha256, got);
		} else {
			kc_err_set(r, "%s", msg);
		}
	} else if (r == 0 && !stopped && o->check_end)
		r = kc_tar_sha256(tr, out->sha256);
	kc_tar_close(tr);
	free(chunk);
	if (r == 0 && o->sort)
		kc_bundle_members_sort(out);
	return r;
}

void
kc_bundle_members_sort(struct kc_bundle_members *ms)
{
	if (ms->n > 1)
		qsort(ms->v, ms->n, sizeof(*ms->v), cmp_member);
	ms->sorted = 1;
}

const struct kc_bundle_member *
kc_bundle_member_find(const struct kc_bundle_members *ms, const char *rel)
{
	struct kc_bundle_member key = { (char *)rel, NULL, 0 };

	if (ms->n == 0)
		return NULL;
	if (ms->sorted)
		return bsearch(&key, ms->v, ms->n, sizeof(*ms->v), cmp_member);
	for (size_t i = 0; i < ms->n; i++)
		if (strcmp(ms->v[i].path, rel) == 0)
			return &ms->v[i];
	return NULL;
}

void
kc_bundle_members_free(struct kc_bundle_members *ms)
{
	if (ms == NULL)
		return;
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->v[i].path);
		free(ms->v[i].data);
	}
	free(ms->v);
	memset(ms, 0, sizeof(*ms));
}
