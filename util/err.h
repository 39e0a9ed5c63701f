/* err.h - error codes shared by every library folder.
 *
 * Library functions return 0 on success or a negative KC_ERR_* code and
 * never exit or print to stdout.  Where a failure has a useful detail (a
 * file name, an HTTP status, a parser position) the function also records
 * a one-line message with kc_err_set(); the command layer prints it.
 */
#ifndef KC_ERR_H
#define KC_ERR_H

#include <stdarg.h>

enum kc_err {
	KC_OK = 0,
	KC_ERR_NOMEM = -1,	/* allocation failed */
	KC_ERR_IO = -2,		/* read/write/open failed (errno in message) */
	KC_ERR_PARSE = -3,	/* malformed input (JSON, YAML, tar, ...) */
	KC_ERR_LIMIT = -4,	/* a stated maximum was exceeded */
	KC_ERR_INVALID = -5,	/* invalid argument or state */
	KC_ERR_NET = -6,	/* connection, TLS or transport failure */
	KC_ERR_HTTP = -7,	/* server answered with an error status */
	KC_ERR_AUTH = -8,	/* 401, credential plugin failure */
	KC_ERR_CRYPTO = -9,	/* OpenSSL failure */
	KC_ERR_NOTFOUND = -10,	/* 404 or missing file/member */
	KC_ERR_FORBIDDEN = -11,	/* 403 */
	KC_ERR_VERIFY = -12,	/* verification failed (tamper, bad signature) */
	KC_ERR_CONFIG = -13,	/* bad configuration (kubeconfig, flags) */
	KC_ERR_GONE = -14,	/* 410 Gone (expired list continue token) */
	KC_ERR_TIMEOUT = -15,	/* no complete answer in time (a bounded request) */
};

/* Static description of an error code; never NULL. */
const char *kc_strerror(int err);

/* Record a one-line detail for the most recent error of this thread.
 * Returns err so that callers can write `return kc_err_set(...)`. */
int kc_err_set(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kc_err_vset(int err, const char *fmt, va_list ap);

/* kc_err_set with the reason of OpenSSL's most recent error appended
 * ("msg: reason"); clears OpenSSL's error queue. */
int kc_err_ossl(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The detail recorded by kc_err_set(), or kc_strerror() of the last code
 * when none was recorded.  Valid until the next kc_err_set() on this thread. */
const char *kc_err_msg(void);
int kc_err_code(void);
void kc_err_clear(void);

/* This thread's error, kept to be raised again later or on another thread
 * (kc_err is per thread): kc_err_save copies the code and kc_err_msg();
 * kc_err_restore records them again on the calling thread (the code, or
 * fallback when none was recorded) and returns that code. */
struct kc_err_saved {
	int code;
	char msg[1024];
};
void kc_err_save(struct kc_err_saved *s);
int kc_err_restore(const struct kc_err_saved *s, int fallback);

#endif
