/* uuid.c - version 5 (SHA-1, name-based) UUIDs, RFC 4122 section 4.3. */
#include <string.h>

#include <openssl/evp.h>

#include "util/err.h"
#include "util/fmt.h"
#include "util/uuid.h"

const unsigned char kc_uuid_ns_url[KC_UUID_LEN] = {
	0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
	0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
};

int
kc_uuid_v5_bytes(const unsigned char ns[KC_UUID_LEN], const void *name, size_t n,
    unsigned char out[KC_UUID_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	/* SHA-1 over the namespace's 16 bytes (network order) then the name */
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, ns, KC_UUID_LEN) == 1 &&
	    EVP_DigestUpdate(ctx, name, n) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &len) == 1 && len >= KC_UUID_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return kc_err_set(KC_ERR_CRYPTO, "SHA-1 failed");
	memcpy(out, md, KC_UUID_LEN);
	out[6] = (unsigned char)((out[6] & 0x0f) | 0x50);	/* version 5 */
	out[8] = (unsigned char)((out[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	return 0;
}

int
kc_uuid_v5(const unsigned char ns[KC_UUID_LEN], const void *name, size_t n, char out[KC_UUID_STR])
{
	unsigned char u[KC_UUID_LEN];
	int r;

	if ((r = kc_uuid_v5_bytes(ns, name, n, u)) != 0)
		return r;
	return kc_fmt(out, KC_UUID_STR,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
	    u[13], u[14], u[15]);
}
