/* hmap.h - a string-keyed hash map to lists of indices (internal to rbac/).
 *
 * Open addressing, FNV-1a, keys copied.  Used to index bindings by subject
 * so that one evaluation touches only the bindings that can apply.
 */
#ifndef KC_RBAC_HMAP_H
#define KC_RBAC_HMAP_H

#include <stddef.h>

struct kc_hmap_entry {
	char *key;		/* NULL: free slot */
	size_t *vals;
	size_t n, cap;
};

struct kc_hmap {
	struct kc_hmap_entry *slots;
	size_t nslots;		/* power of two, or 0 */
	size_t used;
};

/* Append val to key's list (creating the key). */
int kc_hmap_add(struct kc_hmap *m, const char *key, size_t val);
/* key's entry or NULL. */
const struct kc_hmap_entry *kc_hmap_get(const struct kc_hmap *m, const char *key);
void kc_hmap_free(struct kc_hmap *m);

#endif
