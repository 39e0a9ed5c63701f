/* table.c - text tables that fit a width (table.h). */
#include "table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "mem.h"

struct kc_table {
	struct kc_table_col *cols;
	size_t ncols;
	char **cells;		/* nrows * ncols, escaped */
	char **notes;		/* nrows, escaped or NULL */
	size_t nrows, cap;
};

/* kc_safe_str's escaping into a buffer of the escaped length: printable
 * ASCII but '\\' as itself, every other byte as \\xHH. */
static char *
escape(const char *s)
{
	size_t n = 0;
	char *out;

	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		n += (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;
	}
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	return kc_safe_str(s, out, n + 1);
}

static size_t take(const char *s, size_t w, size_t *skip);

struct kc_table *
kc_table_new(const struct kc_table_col *cols, size_t ncols)
{
	struct kc_table *t = calloc(1, sizeof(*t));

	if (t == NULL || ncols == 0 || (t->cols = calloc(ncols, sizeof(*cols))) == NULL) {
		free(t);
		return NULL;
	}
	memcpy(t->cols, cols, ncols * sizeof(*cols));
	t->ncols = ncols;
	return t;
}

int
kc_table_add(struct kc_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **n = realloc(t->cells, ncap * t->ncols * sizeof(*n));

		if (n == NULL)
			return KC_ERR_NOMEM;
		t->cells = n;
		if ((n = realloc(t->notes, ncap * sizeof(*n))) == NULL)
			return KC_ERR_NOMEM;
		t->notes = n;
		t->cap = ncap;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		char *e = escape(cells[c] ? cells[c] : "");

		if (e == NULL) {
			while (c-- > 0)
				free(t->cells[t->nrows * t->ncols + c]);
			return KC_ERR_NOMEM;
		}
		t->cells[t->nrows * t->ncols + c] = e;
	}
	t->notes[t->nrows] = NULL;
	t->nrows++;
	return 0;
}

int
kc_table_note(struct kc_table *t, const char *note)
{
	char *e, *prev, *joined;

	if (t->nrows == 0)
		return KC_ERR_INVALID;
	if ((e = escape(note)) == NULL)
		return KC_ERR_NOMEM;
	if ((prev = t->notes[t->nrows - 1]) == NULL) {
		t->notes[t->nrows - 1] = e;
		return 0;
	}
	/* a second note: its own lines ('\n' cannot be in an escaped note) */
	joined = kc_asprintf("%s\n%s", prev, e);
	free(e);
	if (joined == NULL)
		return KC_ERR_NOMEM;
	free(prev);
	t->notes[t->nrows - 1] = joined;
	return 0;
}

/* A row's note: indented by four, wrapped at the width. */
static int
note_lines(struct kc_buf *out, const char *s, size_t width)
{
	size_t w = width > 4 + KC_TABLE_MIN_WIDTH ? width - 4 : KC_TABLE_MIN_WIDTH;
	int r = 0;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t skip, n;

		if (nl != NULL && (size_t)(nl - s) <= w) {
			n = (size_t)(nl - s);
			skip = 1;
		} else {
			n = take(s, w, &skip);
		}
		r |= kc_buf_add(out, "    ", 4);
		r |= kc_buf_add(out, s, n);
		r |= kc_buf_addc(out, '\n');
		s += n + skip;
	}
	return r;
}

/* The widths the columns get: natural, then the widest column that may
 * narrow taken down one at a time until the sum fits (table.h). */
static void
fit(const struct kc_table *t, size_t width, size_t *w)
{
	size_t total = 0;

	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->cols[c].header);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t l = strlen(t->cells[r * t->ncols + c]);

			if (l > w[c])
				w[c] = l;
		}
		total += w[c] + (c ? 2 : 0);
	}
	while (width > 0 && total > width) {
		size_t best = t->ncols;

		for (size_t c = 0; c < t->ncols; c++) {
			if ((t->cols[c].flags & KC_COL_KEEP) || w[c] <= KC_TABLE_MIN_WIDTH)
				continue;
			if (best == t->ncols || w[c] > w[best])
				best = c;
		}
		if (best == t->ncols)
			return;	/* only kept or narrow columns left: print wider */
		w[best]--;
		total--;
	}
}

static int
pad(struct kc_buf *out, size_t n)
{
	int r = 0;

	while (n-- > 0)
		r |= kc_buf_addc(out, ' ');
	return r;
}

/* How much of s goes on one line of width w: all of it when it fits, else
 * up to and including the last break character within w (a space is
 * dropped), else w. */
static size_t
take(const char *s, size_t w, size_t *skip)
{
	size_t l = strlen(s), k;

	*skip = 0;
	if (l <= w)
		return l;
	for (k = w; k > 0; k--) {
		if (s[k] == ' ') {
			*skip = 1;
			return k;
		}
		if (s[k - 1] == '/' || s[k - 1] == ',' || s[k - 1] == '_')
			return k;
	}
	return w;
}

/* One row: every cell wrapped within its width (or cut, KC_COL_CUT),
 * lines added until every cell is used up. */
static int
line(struct kc_buf *out, const struct kc_table *t, const size_t *w, const char *const *v)
{
	const char **at;
	int r = 0, more = 1;

	if ((at = calloc(t->ncols, sizeof(*at))) == NULL)
		return KC_ERR_NOMEM;
	for (size_t c = 0; c < t->ncols; c++)
		at[c] = v[c];
	while (more) {
		size_t start = out->len;

		more = 0;
		for (size_t c = 0; c < t->ncols; c++) {
			size_t n, skip, l;

			if (c)
				r |= kc_buf_add(out, "  ", 2);
			l = strlen(at[c]);
			if ((t->cols[c].flags & KC_COL_CUT) && l > w[c]) {
				r |= kc_buf_add(out, at[c], w[c] > 3 ? w[c] - 3 : 0);
				r |= kc_buf_add(out, "...", w[c] > 3 ? 3 : w[c]);
				at[c] += l;
				continue;
			}
			n = take(at[c], w[c], &skip);
			if (t->cols[c].flags & KC_COL_RIGHT)
				r |= pad(out, w[c] - n);
			r |= kc_buf_add(out, at[c], n);
			if (!(t->cols[c].flags & KC_COL_RIGHT))
				r |= pad(out, w[c] - n);
			at[c] += n + skip;
			if (*at[c])
				more = 1;
		}
		/* no trailing blanks */
		while (out->len > start && out->data[out->len - 1] == ' ')
			out->data[--out->len] = '\0';
		r |= kc_buf_addc(out, '\n');
	}
	free(at);
	return r;
}

int
kc_table_render(const struct kc_table *t, size_t width, struct kc_buf *out)
{
	const char **hdr;
	size_t *w;
	int r = 0;

	if ((w = calloc(t->ncols, sizeof(*w))) == NULL || (hdr = calloc(t->ncols, sizeof(*hdr))) == NULL) {
		free(w);
		return KC_ERR_NOMEM;
	}
	fit(t, width, w);
	for (size_t c = 0; c < t->ncols; c++)
		hdr[c] = t->cols[c].header;
	r |= line(out, t, w, hdr);
	for (size_t i = 0; i < t->nrows; i++) {
		r |= line(out, t, w, (const char *const *)&t->cells[i * t->ncols]);
		if (t->notes[i] != NULL)
			r |= note_lines(out, t->notes[i], width ? width : SIZE_MAX);
	}
	free(w);
	free(hdr);
	return r ? KC_ERR_LIMIT : 0;
}

void
kc_table_free(struct kc_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	for (size_t i = 0; i < t->nrows; i++)
		free(t->notes[i]);
	free(t->notes);
	free(t->cells);
	free(t->cols);
	free(t);
}
