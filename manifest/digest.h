/* digest.h - SHA256SUMS (BSD-tag lines) and the member path rules of
 * bundle format v1 (docs/FORMAT.md).
 *
 * A SHA256SUMS file is a sequence of lines "SHA256 (PATH) = HEX\n", HEX
 * 64 lowercase hex digits, PATH relative to the bundle's top folder, lines
 * sorted bytewise by PATH, no duplicates, nothing else.  `sha256sum -c`
 * accepts it as is.
 */
#ifndef KC_DIGEST_H
#define KC_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/sha256.h"

#define KC_PATH_MAX_LEN 1024		/* longest member path we write or accept */
#define KC_SUMS_MAX (64u << 20)		/* largest SHA256SUMS we accept */

struct kc_digest {
	char *path;			/* owned */
	uint64_t size;
	char hex[KC_SHA256_HEX];
};

struct kc_digest_list {
	struct kc_digest *v;
	size_t n, cap;
};

/* 1 when rel is a path we allow inside a bundle: relative, non-empty, at
 * most KC_PATH_MAX_LEN bytes, no empty, "." or ".." component, no control
 * byte, DEL or backslash (names stay printable and unescaped in
 * SHA256SUMS).  Bytes >= 0x80 are refused too (docs/FORMAT.md section 2:
 * printable ASCII only; names from the server are encoded, names.h). */
int kc_relpath_ok(const char *rel);

/* Append a copy of path with its size and digest. */
int kc_digest_add(struct kc_digest_list *l, const char *path, uint64_t size, const char *hex);
/* Sort bytewise by path. */
void kc_digest_sort(struct kc_digest_list *l);
/* Index of path in a sorted list, or -1. */
long kc_digest_find(const struct kc_digest_list *l, const char *path);
void kc_digest_list_free(struct kc_digest_list *l);

/* Render a sorted list as SHA256SUMS text (appends to out). */
int kc_sums_render(const struct kc_digest_list *l, struct kc_buf *out);
/* Parse SHA256SUMS text strictly (syntax, path rules, order, duplicates).
 * KC_ERR_PARSE with "SHA256SUMS line N: reason" on the first bad line.
 * Sizes in the result are 0 (SHA256SUMS carries none). */
int kc_sums_parse(const char *text, size_t len, struct kc_digest_list *out);

#endif
