#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "err.h"
#include "mem.h"

void *
kc_calloc(size_t n, size_t size)
{
	if (n == 0 || size == 0)
		n = size = 1;
	return calloc(n, size);
}

void *
kc_reallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return realloc(p, (n != 0 && size != 0) ? n * size : 1);
}

char *
kc_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

char *
kc_strndup(const char *s, size_t n)
{
	char *p;

	if (s == NULL || n == SIZE_MAX || (p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
kc_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

int
kc_grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return kc_err_set(KC_ERR_NOMEM, "array too large");
		ncap *= 2;
	}
	if ((p = kc_reallocarray(*arr, ncap, size)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	*arr = p;
	*cap = ncap;
	return 0;
}

void
kc_free_secret(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}
