#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbac/hmap.h"
#include "util/err.h"
#include "util/mem.h"

#define KEYS_BLOCK ((size_t)64 << 10)

struct kc_hmap_keys {
	struct kc_hmap_keys *next;
	size_t used, size;
	char data[];
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* key's slot: the one holding it, or the free one where it would go */
static uint32_t *
find_slot(const struct kc_hmap *m, uint32_t *slots, size_t nslots, const char *key)
{
	size_t i = (size_t)hash(key) & (nslots - 1);

	while (slots[i] != 0 && strcmp(m->ents[slots[i] - 1].key, key) != 0)
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static int
grow_slots(struct kc_hmap *m)
{
	size_t nn = m->nslots ? m->nslots * 2 : 64;
	uint32_t *ns;

	if (nn > UINT32_MAX || nn > SIZE_MAX / sizeof(*ns))
		return kc_err_set(KC_ERR_NOMEM, "index too large");
	if ((ns = kc_calloc(nn, sizeof(*ns))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < m->used; i++)
		*find_slot(m, ns, nn, m->ents[i].key) = (uint32_t)(i + 1);
	free(m->slots);
	m->slots = ns;
	m->nslots = nn;
	return 0;
}

/* a copy of key in the map's key blocks */
static const char *
key_copy(struct kc_hmap *m, const char *key)
{
	size_t n = strlen(key) + 1;
	struct kc_hmap_keys *b = m->keys;

	if (b == NULL || b->size - b->used < n) {
		size_t size = n > KEYS_BLOCK / 4 ? n : KEYS_BLOCK;

		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->used = 0;
		b->size = size;
		if (m->keys != NULL && size != KEYS_BLOCK) {
			/* a large key's own block goes behind the one being filled */
			b->next = m->keys->next;
			m->keys->next = b;
		} else {
			b->next = m->keys;
			m->keys = b;
		}
	}
	memcpy(b->data + b->used, key, n);
	b->used += n;
	return b->data + b->used - n;
}

int
kc_hmap_add(struct kc_hmap *m, const char *key, size_t val)
{
	struct kc_hmap_entry *e;
	uint32_t *slot;

	if ((m->used + 1) * 2 > m->nslots && grow_slots(m) != 0)
		return KC_ERR_NOMEM;
	slot = find_slot(m, m->slots, m->nslots, key);
	if (*slot == 0) {
		if (m->used == m->capents) {
			struct kc_hmap_entry *old = m->ents;

			if (KC_GROW(m->ents, m->capents, m->used + 1) != 0)
				return KC_ERR_NOMEM;
			if (m->ents != old)	/* the one-value lists point into the entries */
				for (size_t i = 0; i < m->used; i++)
					if (m->ents[i].cap == 0)
						m->ents[i].vals = &m->ents[i].one;
		}
		e = &m->ents[m->used];
		memset(e, 0, sizeof(*e));
		if ((e->key = key_copy(m, key)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		e->vals = &e->one;
		*slot = (uint32_t)(++m->used);
	} else {
		e = &m->ents[*slot - 1];
	}
	/* one binding may name the same subject twice: keep one entry */
	if (e->n > 0 && e->vals[e->n - 1] == val)
		return 0;
	if (e->n == 0) {
		e->one = val;
		e->n = 1;
		return 0;
	}
	if (e->cap == 0) {
		size_t *v = NULL, cap = 0;

		if (KC_GROW(v, cap, 2) != 0)
			return KC_ERR_NOMEM;
		v[0] = e->one;
		e->vals = v;
		e->cap = cap;
	} else if (KC_GROW(e->vals, e->cap, e->n + 1) != 0) {
		return KC_ERR_NOMEM;
	}
	e->vals[e->n++] = val;
	return 0;
}

const struct kc_hmap_entry *
kc_hmap_get(const struct kc_hmap *m, const char *key)
{
	uint32_t s;

	if (m->nslots == 0)
		return NULL;
	s = *find_slot(m, m->slots, m->nslots, key);
	return s != 0 ? &m->ents[s - 1] : NULL;
}

void
kc_hmap_free(struct kc_hmap *m)
{
	struct kc_hmap_keys *b, *next;

	for (size_t i = 0; i < m->used; i++)
		if (m->ents[i].cap != 0)
			free(m->ents[i].vals);
	free(m->ents);
	free(m->slots);
	for (b = m->keys; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	memset(m, 0, sizeof(*m));
}
