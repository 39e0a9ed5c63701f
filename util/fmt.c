#include <stdio.h>

#include "util/err.h"
#include "util/fmt.h"

int
kc_vfmt(char *buf, size_t n, const char *fmt, va_list ap)
{
	int w;

	if (buf == NULL || n == 0)
		return kc_err_set(KC_ERR_INVALID, "formatting into an empty buffer");
	w = vsnprintf(buf, n, fmt, ap);
	if (w < 0) {
		buf[0] = '\0';
		return kc_err_set(KC_ERR_INVALID, "formatting failed (encoding error)");
	}
	if ((size_t)w >= n) {
		buf[0] = '\0';
		return kc_err_set(KC_ERR_LIMIT, "formatted text of %d bytes longer than its buffer (%zu)",
		    w, n - 1);
	}
	return 0;
}

int
kc_fmt(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = kc_vfmt(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

size_t
kc_vfmt_trunc(char *buf, size_t n, const char *fmt, va_list ap)
{
	int w;

	if (buf == NULL || n == 0)
		return 0;
	w = vsnprintf(buf, n, fmt, ap);
	if (w < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)w < n ? (size_t)w : n - 1;
}

size_t
kc_fmt_trunc(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	size_t r;

	va_start(ap, fmt);
	r = kc_vfmt_trunc(buf, n, fmt, ap);
	va_end(ap);
	return r;
}
