/* mem.h - overflow-checked allocation helpers.  All return NULL on failure
 * (never abort: library code reports KC_ERR_NOMEM to its caller). */
#ifndef KC_MEM_H
#define KC_MEM_H

#include <stddef.h>

void *kc_calloc(size_t n, size_t size);
void *kc_reallocarray(void *p, size_t n, size_t size);
char *kc_strdup(const char *s);		/* kc_strdup(NULL) == NULL */
char *kc_strndup(const char *s, size_t n);
/* A newly allocated formatted string (vasprintf), NULL on failure. */
char *kc_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Grow *arr (of *cap elements of size) to hold at least need elements. */
int kc_grow(void **arr, size_t *cap, size_t need, size_t size);
/* Wipe then free a NUL-terminated secret; NULL is fine. */
void kc_free_secret(char *s);

#define KC_GROW(arr, cap, need) kc_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

#endif
