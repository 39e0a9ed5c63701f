/* table.h - text tables that fit a width.
 *
 * One home for the column tables the commands print (archive list, custody
 * show, who-can).  Cells are escaped as kc_safe_str does (a name from a
 * bundle or a server never reaches the terminal raw), so every cell is
 * ASCII and its width is its length.  Columns are separated by two spaces.
 *
 * Fitting (kc_table_render with a width, 100 by default in the commands):
 * when the natural widths add up to more, the widest column not marked
 * KC_COL_KEEP is narrowed, one column at a time, to no less than
 * KC_TABLE_MIN_WIDTH.  A cell longer than its column is wrapped onto
 * continuation lines of the same row (at a space, or after '/', ',' or '_', where
 * one falls in the column, else at the width), so no part of a name is
 * lost; a column marked KC_COL_CUT is cut instead, ending in "..." (the
 * whole value is in the command's --format json).  A table whose kept
 * columns alone exceed the width is printed wider.
 */
#ifndef KC_UTIL_TABLE_H
#define KC_UTIL_TABLE_H

#include <stddef.h>

#include "buf.h"

#define KC_TABLE_WIDTH 100	/* the width a command's text tables fit */
#define KC_TABLE_MIN_WIDTH 12	/* a narrowed column keeps at least this */

enum {
	KC_COL_KEEP = 1,	/* never narrowed (short identifiers, digests, counts) */
	KC_COL_RIGHT = 2,	/* right-aligned (numbers) */
	KC_COL_CUT = 4,		/* cut with "..." instead of wrapped */
};

struct kc_table_col {
	const char *header;
	unsigned flags;
};

struct kc_table;

/* A table of ncols columns (cols copied; headers must outlive the table).
 * NULL when out of memory. */
struct kc_table *kc_table_new(const struct kc_table_col *cols, size_t ncols);
/* Add a row of ncols cells (NULL is an empty cell); copied, escaped.
 * 0, or KC_ERR_NOMEM. */
int kc_table_add(struct kc_table *t, const char *const *cells);
/* A note under the last row added: its own lines, indented by four and
 * wrapped at the width (details that would make a column of their own
 * too wide); each further note of the row starts a line of its own.
 * 0, KC_ERR_NOMEM, or KC_ERR_INVALID before any row. */
int kc_table_note(struct kc_table *t, const char *note);
/* Append the header and every row, fitted to width (0: no fitting). */
int kc_table_render(const struct kc_table *t, size_t width, struct kc_buf *out);
void kc_table_free(struct kc_table *t);

#endif
