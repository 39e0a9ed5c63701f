/* buf.h - bounded growable byte buffer (in the spirit of curl's dynbuf).
 *
 * Every buffer has a hard maximum set at init; appending past it fails with
 * KC_ERR_LIMIT and leaves the buffer unchanged.  The data is always
 * NUL-terminated (the terminator is not counted in len).
 */
#ifndef KC_BUF_H
#define KC_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct kc_buf {
	char *data;	/* NULL until first append */
	size_t len;
	size_t cap;
	size_t max;	/* maximum len */
};

#define KC_BUF_INIT(maxlen) { NULL, 0, 0, (maxlen) }

void kc_buf_init(struct kc_buf *b, size_t max);
int kc_buf_add(struct kc_buf *b, const void *p, size_t n);
int kc_buf_adds(struct kc_buf *b, const char *s);
int kc_buf_addc(struct kc_buf *b, char c);
int kc_buf_addf(struct kc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kc_buf_vaddf(struct kc_buf *b, const char *fmt, va_list ap);
/* Empty the buffer but keep its memory. */
void kc_buf_reset(struct kc_buf *b);
/* Free the memory; safe on a zeroed or already-freed buffer. */
void kc_buf_free(struct kc_buf *b);
/* Wipe (OPENSSL_cleanse) then free: for tokens and keys. */
void kc_buf_free_secret(struct kc_buf *b);
/* Hand the data to the caller (who frees it); the buffer becomes empty.
 * Returns an empty allocated string when nothing was added. */
char *kc_buf_take(struct kc_buf *b, size_t *lenp);
/* The data as a C string ("" when empty). */
const char *kc_buf_str(const struct kc_buf *b);

#endif
