/* digest.c - SHA256SUMS rendering and strict parsing. */
#include <stdlib.h>
#include <string.h>

#include "manifest/digest.h"
#include "util/err.h"
#include "util/mem.h"

int
kc_relpath_ok(const char *rel)
{
	size_t len, comp = 0;
	const char *p, *start;

	if (rel == NULL || (len = strlen(rel)) == 0 || len > KC_PATH_MAX_LEN || rel[0] == '/')
		return 0;
	for (p = start = rel; ; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '/' || c == '\0') {
			comp = (size_t)(p - start);
			if (comp == 0 || (comp == 1 && start[0] == '.') ||
			    (comp == 2 && start[0] == '.' && start[1] == '.'))
				return 0;
			if (c == '\0')
				return 1;
			start = p + 1;
			continue;
		}
		if (c < 0x20 || c >= 0x7f || c == '\\')
			return 0;
	}
}

int
kc_digest_add(struct kc_digest_list *l, const char *path, uint64_t size, const char *hex)
{
	struct kc_digest *d;

	if (KC_GROW(l->v, l->cap, l->n + 1) != 0)
		return KC_ERR_NOMEM;
	d = &l->v[l->n];
	if ((d->path = kc_strdup(path)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	d->size = size;
	memset(d->hex, 0, sizeof(d->hex));
	if (hex != NULL)
		memcpy(d->hex, hex, KC_SHA256_HEX - 1);
	l->n++;
	return 0;
}

static int
cmp_digest(const void *a, const void *b)
{
	return strcmp(((const struct kc_digest *)a)->path, ((const struct kc_digest *)b)->path);
}

void
kc_digest_sort(struct kc_digest_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]), cmp_digest);
}

long
kc_digest_find(const struct kc_digest_list *l, const char *path)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].path, path);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void
kc_digest_list_free(struct kc_digest_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int
kc_sums_render(const struct kc_digest_list *l, struct kc_buf *out)
{
	int r;

	for (size_t i = 0; i < l->n; i++)
		if ((r = kc_buf_addf(out, "SHA256 (%s) = %s\n", l->v[i].path, l->v[i].hex)) != 0)
			return r;
	return 0;
}

static int
is_lower_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* "SHA256 (" PATH ") = " HEX64; PATH is taken up to the last ") = ". */
int
kc_sums_parse(const char *text, size_t len, struct kc_digest_list *out)
{
	static const char pre[] = "SHA256 (", mid[] = ") = ";
	const size_t npre = sizeof(pre) - 1, nmid = sizeof(mid) - 1, nhex = KC_SHA256_HEX - 1;
	size_t off = 0, lineno = 0;
	char *path = NULL, hex[KC_SHA256_HEX];
	int r = 0;

	if (len > KC_SUMS_MAX)
		return kc_err_set(KC_ERR_LIMIT, "SHA256SUMS is larger than %u bytes", KC_SUMS_MAX);
	if (memchr(text, '\0', len) != NULL)
		return kc_err_set(KC_ERR_PARSE, "SHA256SUMS contains a NUL byte");
	while (off < len) {
		const char *line = text + off, *nl = memchr(line, '\n', len - off);
		size_t n;

		lineno++;
		if (nl == NULL) {
			r = kc_err_set(KC_ERR_PARSE, "SHA256SUMS line %zu: no final newline", lineno);
			goto out;
		}
		n = (size_t)(nl - line);
		off += n + 1;
		if (n < npre + 1 + nmid + nhex || memcmp(line, pre, npre) != 0 ||
		    memcmp(line + n - nhex - nmid, mid, nmid) != 0 ||
		    !is_lower_hex(line + n - nhex, nhex)) {
			r = kc_err_set(KC_ERR_PARSE, "SHA256SUMS line %zu: not 'SHA256 (path) = <64 hex>'", lineno);
			goto out;
		}
		free(path);
		if ((path = kc_strndup(line + npre, n - npre - nmid - nhex)) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (!kc_relpath_ok(path)) {
			r = kc_err_set(KC_ERR_PARSE, "SHA256SUMS line %zu: unsafe path", lineno);
			goto out;
		}
		if (out->n > 0 && strcmp(out->v[out->n - 1].path, path) >= 0) {
			r = kc_err_set(KC_ERR_PARSE, "SHA256SUMS line %zu: %s", lineno,
			    strcmp(out->v[out->n - 1].path, path) == 0 ? "duplicate path" : "paths not sorted");
			goto out;
		}
		memcpy(hex, line + n - nhex, nhex);
		hex[nhex] = '\0';
		if ((r = kc_digest_add(out, path, 0, hex)) != 0)
			goto out;
	}
out:
	free(path);
	return r;
}
