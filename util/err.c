#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "err.h"
#include "fmt.h"

static _Thread_local char errmsg[1024];
static _Thread_local int errcode;

const char *
kc_strerror(int err)
{
	switch (err) {
	case KC_OK: return "success";
	case KC_ERR_NOMEM: return "out of memory";
	case KC_ERR_IO: return "input/output error";
	case KC_ERR_PARSE: return "malformed input";
	case KC_ERR_LIMIT: return "size limit exceeded";
	case KC_ERR_INVALID: return "invalid argument";
	case KC_ERR_NET: return "network error";
	case KC_ERR_HTTP: return "server error";
	case KC_ERR_AUTH: return "authentication failed";
	case KC_ERR_CRYPTO: return "cryptographic failure";
	case KC_ERR_NOTFOUND: return "not found";
	case KC_ERR_FORBIDDEN: return "forbidden";
	case KC_ERR_VERIFY: return "verification failed";
	case KC_ERR_CONFIG: return "configuration error";
	case KC_ERR_GONE: return "resource expired (410 Gone)";
	case KC_ERR_TIMEOUT: return "timed out";
	}
	return "unknown error";
}

int
kc_err_vset(int err, const char *fmt, va_list ap)
{
	char m[sizeof(errmsg)];

	errcode = err;
	/* Formatted aside first: an argument may be kc_err_msg() itself
	 * (rbac/select.c does), and vsnprintf's source and destination must
	 * not overlap.  A message longer than the buffer is cut: it is for
	 * reading. */
	kc_vfmt_trunc(m, sizeof(m), fmt, ap);
	memcpy(errmsg, m, sizeof(m));
	return err;
}

int
kc_err_set(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kc_err_vset(err, fmt, ap);
	va_end(ap);
	return err;
}

const char *
kc_err_msg(void)
{
	if (errmsg[0] != '\0')
		return errmsg;
	return kc_strerror(errcode);
}

int
kc_err_code(void)
{
	return errcode;
}

void
kc_err_clear(void)
{
	errmsg[0] = '\0';
	errcode = 0;
}

void
kc_err_save(struct kc_err_saved *s)
{
	s->code = errcode;
	kc_fmt_trunc(s->msg, sizeof(s->msg), "%s", kc_err_msg());	/* an error detail */
}

int
kc_err_restore(const struct kc_err_saved *s, int fallback)
{
	return kc_err_set(s->code != 0 ? s->code : fallback, "%s", s->msg);
}

int
kc_err_ossl(int err, const char *fmt, ...)
{
	char msg[512], reason[256] = "";
	unsigned long e = ERR_peek_last_error();
	va_list ap;

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	va_start(ap, fmt);
	kc_vfmt_trunc(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (reason[0] != '\0')
		return kc_err_set(err, "%s: %s", msg, reason);
	return kc_err_set(err, "%s", msg);
}
