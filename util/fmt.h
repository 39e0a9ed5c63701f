/* fmt.h - bounded formatting that never truncates silently.
 *
 * snprintf cuts its output at the buffer's size and says so only through
 * a return value that is easy to drop; a path, key or member name cut
 * short names a different thing.  tests/lint/snprintf.sh fails on a
 * snprintf whose value is discarded, so formatting goes through these:
 *
 *   kc_fmt        when the whole text is needed (paths, keys, names, request
 *                 bodies): truncation is an error.
 *   kc_fmt_trunc  when a shorter text is acceptable (a display string, an
 *                 error detail, a copy into a fixed report field): the name
 *                 says the truncation is intended.
 */
#ifndef KC_UTIL_FMT_H
#define KC_UTIL_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Format into buf (n bytes, n > 0).  0 when the whole text fit; otherwise
 * KC_ERR_LIMIT (or KC_ERR_INVALID for an encoding error or n == 0) with
 * kc_err_set, and buf holds "" so the cut text cannot be used by mistake. */
int kc_fmt(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int kc_vfmt(char *buf, size_t n, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Format into buf (n bytes), cutting the text to fit: the caller accepts a
 * shorter result.  Returns the length stored (< n); an encoding error
 * stores "".  Never sets an error; n == 0 writes nothing. */
size_t kc_fmt_trunc(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
size_t kc_vfmt_trunc(char *buf, size_t n, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
