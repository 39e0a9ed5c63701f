#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "err.h"

void
kc_buf_init(struct kc_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static int
buf_grow(struct kc_buf *b, size_t need)
{
	size_t cap;
	char *p;

	if (need > b->max || need + 1 < need)
		return kc_err_set(KC_ERR_LIMIT, "buffer limit of %zu bytes exceeded", b->max);
	if (need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need + 1) {
		if (cap > ((size_t)-1) / 2) {
			cap = need + 1;
			break;
		}
		cap *= 2;
	}
	if (cap > b->max + 1)
		cap = b->max + 1;
	if ((p = realloc(b->data, cap)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory (%zu bytes)", cap);
	b->data = p;
	b->cap = cap;
	return 0;
}

int
kc_buf_add(struct kc_buf *b, const void *p, size_t n)
{
	int r;

	if (b->len + n < b->len)
		return kc_err_set(KC_ERR_LIMIT, "buffer size overflow");
	if ((r = buf_grow(b, b->len + n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
kc_buf_adds(struct kc_buf *b, const char *s)
{
	return kc_buf_add(b, s, strlen(s));
}

int
kc_buf_addc(struct kc_buf *b, char c)
{
	return kc_buf_add(b, &c, 1);
}

int
kc_buf_vaddf(struct kc_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, r;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return kc_err_set(KC_ERR_INVALID, "format error");
	if ((r = buf_grow(b, b->len + (size_t)n)) != 0)
		return r;
	if (vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap) != n)
		return kc_err_set(KC_ERR_INVALID, "format error");
	b->len += (size_t)n;
	return 0;
}

int
kc_buf_addf(struct kc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = kc_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
kc_buf_reset(struct kc_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
kc_buf_free(struct kc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
kc_buf_free_secret(struct kc_buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	kc_buf_free(b);
}

char *
kc_buf_take(struct kc_buf *b, size_t *lenp)
{
	char *p = b->data;

	if (p == NULL)
		p = calloc(1, 1);
	if (lenp != NULL)
		*lenp = p != NULL ? b->len : 0;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *
kc_buf_str(const struct kc_buf *b)
{
	return b->data != NULL ? b->data : "";
}
