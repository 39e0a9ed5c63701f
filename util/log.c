#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static enum kc_log_level log_level = KC_LOG_WARN;

void
kc_log_set_level(enum kc_log_level level)
{
	log_level = level;
}

enum kc_log_level
kc_log_get_level(void)
{
	return log_level;
}

void
kc_log(enum kc_log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "", "error: ", "warning: ", "", "debug: " };
	va_list ap;

	if (level > log_level || level == KC_LOG_QUIET)
		return;
	va_start(ap, fmt);
	flockfile(stderr);	/* one line, whole, when threads log (collect's lists) */
	fprintf(stderr, "kcustody: %s", prefix[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

char *
kc_safe_str(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (n == 0)
		return out;
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= n)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= n)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}
