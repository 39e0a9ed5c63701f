#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/strset.h"

#define LINEAR_MAX 16	/* below this many strings a scan is cheaper */

static size_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

/* The slot holding v, or the free slot where it would go. */
static size_t
find(const struct kc_strset *s, const char *v)
{
	size_t m = s->nslot - 1, i = hash(v) & m;

	while (s->slot[i] != 0 && strcmp(s->v[s->slot[i] - 1], v) != 0)
		i = (i + 1) & m;
	return i;
}

/* (Re)build the table for the strings in v, at least twice their count. */
static int
rehash(struct kc_strset *s, size_t want)
{
	size_t n = 64, *slot;

	while (n < 2 * want)
		n *= 2;
	if ((slot = kc_calloc(n, sizeof(*slot))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	free(s->slot);
	s->slot = slot;
	s->nslot = n;
	for (size_t i = 0; i < s->n; i++)
		s->slot[find(s, s->v[i])] = i + 1;
	return 0;
}

int
kc_strset_has(const struct kc_strset *s, const char *v)
{
	if (s->nslot == 0) {
		for (size_t i = 0; i < s->n; i++)
			if (strcmp(s->v[i], v) == 0)
				return 1;
		return 0;
	}
	return s->slot[find(s, v)] != 0;
}

int
kc_strset_add(struct kc_strset *s, const char *v)
{
	char *c;

	if (kc_strset_has(s, v))
		return 0;
	if (KC_GROW(s->v, s->cap, s->n + 2) != 0)
		return KC_ERR_NOMEM;
	if (s->n + 1 > LINEAR_MAX && 2 * (s->n + 1) > s->nslot && rehash(s, s->n + 1) != 0)
		return KC_ERR_NOMEM;
	if ((c = kc_strdup(v)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (s->nslot != 0)
		s->slot[find(s, c)] = s->n + 1;
	s->v[s->n++] = c;
	s->v[s->n] = NULL;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
kc_strset_sort(struct kc_strset *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	if (s->nslot != 0) {	/* the same size: only the indices moved */
		memset(s->slot, 0, s->nslot * sizeof(*s->slot));
		for (size_t i = 0; i < s->n; i++)
			s->slot[find(s, s->v[i])] = i + 1;
	}
}

void
kc_strset_free(struct kc_strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}
