#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbac/hmap.h"
#include "util/err.h"
#include "util/mem.h"

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

static struct kc_hmap_entry *
find_slot(struct kc_hmap_entry *slots, size_t nslots, const char *key)
{
	size_t i = (size_t)hash(key) & (nslots - 1);

	while (slots[i].key != NULL && strcmp(slots[i].key, key) != 0)
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static int
grow(struct kc_hmap *m)
{
	size_t nn = m->nslots ? m->nslots * 2 : 64;
	struct kc_hmap_entry *ns;

	if (nn > SIZE_MAX / sizeof(*ns) / 2)
		return kc_err_set(KC_ERR_NOMEM, "index too large");
	if ((ns = kc_calloc(nn, sizeof(*ns))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < m->nslots; i++)
		if (m->slots[i].key != NULL)
			*find_slot(ns, nn, m->slots[i].key) = m->slots[i];
	free(m->slots);
	m->slots = ns;
	m->nslots = nn;
	return 0;
}

int
kc_hmap_add(struct kc_hmap *m, const char *key, size_t val)
{
	struct kc_hmap_entry *e;

	if ((m->used + 1) * 2 > m->nslots && grow(m) != 0)
		return KC_ERR_NOMEM;
	e = find_slot(m->slots, m->nslots, key);
	if (e->key == NULL) {
		if ((e->key = kc_strdup(key)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		m->used++;
	}
	/* one binding may name the same subject twice: keep one entry */
	if (e->n > 0 && e->vals[e->n - 1] == val)
		return 0;
	if (KC_GROW(e->vals, e->cap, e->n + 1) != 0)
		return KC_ERR_NOMEM;
	e->vals[e->n++] = val;
	return 0;
}

const struct kc_hmap_entry *
kc_hmap_get(const struct kc_hmap *m, const char *key)
{
	const struct kc_hmap_entry *e;

	if (m->nslots == 0)
		return NULL;
	e = find_slot(m->slots, m->nslots, key);
	return e->key != NULL ? e : NULL;
}

void
kc_hmap_free(struct kc_hmap *m)
{
	for (size_t i = 0; i < m->nslots; i++) {
		free(m->slots[i].key);
		free(m->slots[i].vals);
	}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
