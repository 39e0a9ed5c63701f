/* hmap.h - a string-keyed hash map to lists of indices (internal to rbac/).
 *
 * Open addressing, FNV-1a, keys copied.  Used by diff, the who-can
 * queries, findings, selection and propose.  (The evaluator's own indexes
 * of bindings by subject and roles by name were four of these; they are
 * sorted arrays of positions since, a tenth of the memory: rbac/eval.h.)
 *
 * Sized for a large cluster (issue 11: a hundred thousand keys at 150k
 * objects): entries
 * are one dense array and the table holds 32-bit positions in it; keys
 * are packed into blocks of the map's own; a key's first value is kept in
 * its entry (most keys have one), its list allocated only from the
 * second.  An entry pointer from kc_hmap_get is valid until the next
 * kc_hmap_add to the same map.
 */
#ifndef KC_RBAC_HMAP_H
#define KC_RBAC_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct kc_hmap_entry {
	const char *key;
	size_t *vals;		/* n values: &one while there is one, else a list */
	size_t n, cap;		/* cap 0: the values are in one */
	size_t one;
};

struct kc_hmap_keys;

struct kc_hmap {
	struct kc_hmap_entry *ents;	/* in the order the keys came */
	size_t used, capents;
	uint32_t *slots;	/* position in ents + 1; 0 free */
	size_t nslots;		/* power of two, or 0 */
	struct kc_hmap_keys *keys;	/* where the keys are stored */
};

/* Append val to key's list (creating the key). */
int kc_hmap_add(struct kc_hmap *m, const char *key, size_t val);
/* key's entry or NULL. */
const struct kc_hmap_entry *kc_hmap_get(const struct kc_hmap *m, const char *key);
void kc_hmap_free(struct kc_hmap *m);

#endif
