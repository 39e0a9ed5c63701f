#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/strset.h"

int
kc_strset_has(const struct kc_strset *s, const char *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], v) == 0)
			return 1;
	return 0;
}

int
kc_strset_add(struct kc_strset *s, const char *v)
{
	char *c;

	if (kc_strset_has(s, v))
		return 0;
	if (KC_GROW(s->v, s->cap, s->n + 2) != 0)
		return KC_ERR_NOMEM;
	if ((c = kc_strdup(v)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
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
}

void
kc_strset_free(struct kc_strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
