/* uuid.h - name-based UUIDs (RFC 4122 section 4.3, version 5: SHA-1),
 * so that the same inputs always give the same identifier (the OSCAL
 * documents of `recertify --format oscal`, docs/RECERTIFY.md). */
#ifndef KC_UUID_H
#define KC_UUID_H

#include <stddef.h>

#define KC_UUID_LEN 16
#define KC_UUID_STR 37		/* 36 characters and the NUL */

/* RFC 4122 appendix C's URL namespace, 6ba7b811-9dad-11d1-80b4-00c04fd430c8. */
extern const unsigned char kc_uuid_ns_url[KC_UUID_LEN];

/* The version 5 UUID of name (n bytes) in namespace ns, as 36 lowercase
 * characters into out.  SHA-1 through OpenSSL's EVP interface. */
int kc_uuid_v5(const unsigned char ns[KC_UUID_LEN], const void *name, size_t n,
    char out[KC_UUID_STR]);
/* The same, the 16 bytes (to serve as a namespace in turn). */
int kc_uuid_v5_bytes(const unsigned char ns[KC_UUID_LEN], const void *name, size_t n,
    unsigned char out[KC_UUID_LEN]);

#endif
