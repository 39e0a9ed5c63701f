/* tsa.h - RFC 3161 time-stamps over SHA256SUMS.sig (OpenSSL TS API,
 * libcurl).
 *
 * SHA256SUMS.sig.tsr holds the TSA's whole TimeStampResp (DER), as
 * `openssl ts -reply` writes it and `openssl ts -verify -in` reads it.
 * The message imprint is SHA-256 of the bytes of SHA256SUMS.sig.
 */
#ifndef KC_TSA_H
#define KC_TSA_H

#include <stddef.h>

#include "util/buf.h"

#define KC_TSR_MAX (1u << 20)

/* Ask the TSA at url for a token over data: a TimeStampReq with a SHA-256
 * imprint, a random 64-bit nonce and certReq, POSTed as
 * application/timestamp-query (TLS verified).  The reply must be granted
 * and carry our imprint and nonce; with tsa_ca its signature and chain are
 * checked too.  The DER reply is appended to tsr. */
int kc_tsa_stamp(const char *url, const char *tsa_ca, const void *data, size_t len,
    struct kc_buf *tsr);
/* The same with the whole exchange bounded by timeout seconds (connecting
 * by at most 15 of them); kc_tsa_stamp allows 60. */
int kc_tsa_stamp_timeout(const char *url, const char *tsa_ca, const void *data, size_t len, long timeout,
    struct kc_buf *tsr);

/* Check a stored reply against data: granted, SHA-256 imprint of data;
 * with tsa_ca (non-NULL) also its signature and the TSA certificate chain
 * (critical timeStamping EKU).  gentime (optional, >= 32 bytes) receives
 * the token's time as RFC 3339 UTC. */
int kc_tsa_check(const void *tsr, size_t tsrlen, const void *data, size_t len,
    const char *tsa_ca, char *gentime, size_t n);

#endif
