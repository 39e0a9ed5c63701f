#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "err.h"
#include "sha256.h"

struct kc_sha256 {
	EVP_MD_CTX *ctx;
};

void
kc_hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

struct kc_sha256 *
kc_sha256_new(void)
{
	struct kc_sha256 *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	if ((h->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		kc_sha256_free(h);
		return NULL;
	}
	return h;
}

int
kc_sha256_reset(struct kc_sha256 *h)
{
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		return kc_err_set(KC_ERR_CRYPTO, "sha256 init failed");
	return 0;
}

int
kc_sha256_update(struct kc_sha256 *h, const void *p, size_t n)
{
	if (EVP_DigestUpdate(h->ctx, p, n) != 1)
		return kc_err_set(KC_ERR_CRYPTO, "sha256 update failed");
	return 0;
}

int
kc_sha256_final(struct kc_sha256 *h, unsigned char raw[KC_SHA256_LEN], char hex[KC_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &len) != 1 || len != KC_SHA256_LEN)
		return kc_err_set(KC_ERR_CRYPTO, "sha256 final failed");
	if (raw != NULL)
		memcpy(raw, md, KC_SHA256_LEN);
	if (hex != NULL)
		kc_hex_encode(md, KC_SHA256_LEN, hex);
	return 0;
}

void
kc_sha256_free(struct kc_sha256 *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int
kc_sha256_hex(const void *p, size_t n, char hex[KC_SHA256_HEX])
{
	unsigned char md[KC_SHA256_LEN];
	unsigned int len = 0;

	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1)
		return kc_err_set(KC_ERR_CRYPTO, "sha256 failed");
	kc_hex_encode(md, KC_SHA256_LEN, hex);
	return 0;
}

int
kc_sha256_file(const char *path, char hex[KC_SHA256_HEX], uint64_t *size)
{
	static _Thread_local unsigned char chunk[1 << 17];
	struct kc_sha256 *h = NULL;
	uint64_t total = 0;
	int fd, r = 0;
	ssize_t n;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
	if ((h = kc_sha256_new()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if ((r = kc_sha256_update(h, chunk, (size_t)n)) != 0)
			goto out;
	}
	if ((r = kc_sha256_final(h, NULL, hex)) != 0)
		goto out;
	if (size != NULL)
		*size = total;
out:
	kc_sha256_free(h);
	close(fd);
	return r;
}

int
kc_mem_eq_ct(const void *a, size_t an, const void *b, size_t bn)
{
	if (a == NULL || b == NULL || an != bn)
		return 0;
	return an == 0 || CRYPTO_memcmp(a, b, an) == 0;
}

int
kc_digest_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return 0;
	return kc_mem_eq_ct(a, strlen(a), b, strlen(b));
}
