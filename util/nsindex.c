/* nsindex.c - objects indexed by (namespace, name): a sorted array. */
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/nsindex.h"

int
kc_nsindex_add(struct kc_nsindex *x, const char *ns, const char *name, const void *p)
{
	if (KC_GROW(x->v, x->cap, x->n + 1) != 0)
		return x->err = KC_ERR_NOMEM;
	x->v[x->n] = (struct kc_nsref){ ns, name, x->n, p };
	x->n++;
	return 0;
}

static int
cmp_ref(const void *a, const void *b)
{
	const struct kc_nsref *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	if (c == 0)
		c = strcmp(x->name, y->name);
	return c != 0 ? c : x->ord < y->ord ? -1 : x->ord > y->ord;
}

void
kc_nsindex_sort(struct kc_nsindex *x)
{
	if (x->n > 1)
		qsort(x->v, x->n, sizeof(*x->v), cmp_ref);
}

const struct kc_nsref *
kc_nsindex_slice(const struct kc_nsindex *x, const char *ns, const char *name, size_t *n)
{
	struct kc_nsref probe = { ns, name, 0, NULL };
	size_t lo = 0, hi = x->n, end;

	while (lo < hi) {	/* the first entry >= (ns, name, 0) */
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_ref(&x->v[mid], &probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < x->n && strcmp(x->v[end].ns, ns) == 0 && strcmp(x->v[end].name, name) == 0; end++)
		;
	*n = end - lo;
	return x->v == NULL ? NULL : x->v + lo;
}

void
kc_nsindex_free(struct kc_nsindex *x)
{
	free(x->v);
	memset(x, 0, sizeof(*x));
}
