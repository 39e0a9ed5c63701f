/* strset.h - a set of owned strings (insertion order until sorted).
 * The array is kept NULL-terminated so it can be passed where a char **
 * list is expected.  Membership is a hash lookup once the set holds more
 * than a few strings (namespaces and accounts of a large cluster: a
 * linear scan per add made building a set of n strings n^2). */
#ifndef KC_STRSET_H
#define KC_STRSET_H

#include <stddef.h>

struct kc_strset {
	char **v;
	size_t n, cap;
	size_t *slot;		/* open addressing: index + 1 into v, 0 free */
	size_t nslot;		/* 0 (no table yet) or a power of two */
};

/* Add a copy of v unless an equal string is present; 0 or KC_ERR_NOMEM. */
int kc_strset_add(struct kc_strset *s, const char *v);
/* 1 when an equal string is present. */
int kc_strset_has(const struct kc_strset *s, const char *v);
/* Sort bytewise (strcmp). */
void kc_strset_sort(struct kc_strset *s);
void kc_strset_free(struct kc_strset *s);

#endif
