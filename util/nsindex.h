/* nsindex.h - objects indexed by (namespace, name), for per-account lookups
 * in lists of thousands (pods of a service account, findings that name it,
 * an agent's diff entry) without scanning the list for every account.
 *
 * Add entries in list order, sort once, then take an account's slice: its
 * entries in the order they were added.  Keys are borrowed, not copied:
 * they must outlive the index.
 */
#ifndef KC_NSINDEX_H
#define KC_NSINDEX_H

#include <stddef.h>

struct kc_nsref {
	const char *ns, *name;
	size_t ord;		/* the order of kc_nsindex_add calls */
	const void *p;
};

struct kc_nsindex {
	struct kc_nsref *v;
	size_t n, cap;
	int err;		/* KC_ERR_NOMEM when an add failed: the index is incomplete */
};

/* 0, or KC_ERR_NOMEM (also kept in x->err). */
int kc_nsindex_add(struct kc_nsindex *x, const char *ns, const char *name, const void *p);
void kc_nsindex_sort(struct kc_nsindex *x);
/* The entries for ns/name, in the order they were added; *n may be 0. */
const struct kc_nsref *kc_nsindex_slice(const struct kc_nsindex *x, const char *ns, const char *name,
    size_t *n);
void kc_nsindex_free(struct kc_nsindex *x);

#endif
