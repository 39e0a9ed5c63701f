/* sha256.h - SHA-256 through OpenSSL EVP, streaming. */
#ifndef KC_SHA256_H
#define KC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define KC_SHA256_LEN 32
#define KC_SHA256_HEX 65	/* 64 hex digits and NUL */

struct kc_sha256;	/* opaque streaming context */

struct kc_sha256 *kc_sha256_new(void);
int kc_sha256_update(struct kc_sha256 *h, const void *p, size_t n);
/* Finish into hex (65 bytes) and/or raw (32 bytes); either may be NULL.
 * The context may be reused after kc_sha256_reset. */
int kc_sha256_final(struct kc_sha256 *h, unsigned char raw[KC_SHA256_LEN], char hex[KC_SHA256_HEX]);
int kc_sha256_reset(struct kc_sha256 *h);
void kc_sha256_free(struct kc_sha256 *h);

/* One-shot helpers. */
int kc_sha256_hex(const void *p, size_t n, char hex[KC_SHA256_HEX]);
/* Hash a file streaming; size (optional) receives its length. */
int kc_sha256_file(const char *path, char hex[KC_SHA256_HEX], uint64_t *size);

void kc_hex_encode(const unsigned char *p, size_t n, char *out);

/* Digests, MACs and signatures are compared in constant time
 * (CRYPTO_memcmp): their lengths are not secret and are compared first;
 * where two of them differ is never revealed by the time taken.
 * tests/lint/digest_cmp.sh fails on a strcmp/memcmp/strncmp of one. */
/* 1 when the NUL-terminated a and b (hex digests, say) are equal; 0 when
 * they differ or either is NULL. */
int kc_digest_eq(const char *a, const char *b);
/* 1 when a[0..an) equals b[0..bn) (raw digests, MACs, signatures). */
int kc_mem_eq_ct(const void *a, size_t an, const void *b, size_t bn);

#endif
