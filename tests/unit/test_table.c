/* util/table: tables fit the width by wrapping, never lose a byte of a
 * wrapped cell, cut only KC_COL_CUT columns, escape what they print. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util/buf.h"
#include "util/table.h"

static size_t
widest_line(const char *s)
{
	size_t m = 0, l = 0;

	for (; *s; s++) {
		if (*s == '\n') {
			m = l > m ? l : m;
			l = 0;
		} else {
			l++;
		}
	}
	return l > m ? l : m;
}

/* The text of column c (start offset, width) taken back from the lines of
 * the first row after the header, continuation lines joined. */
DEFINE_TEST(test_table_fits_and_wraps_without_loss)
{
	static const struct kc_table_col cols[] = {
		{ "NAMESPACE", 0 }, { "SUBJECT", 0 }, { "ROLE", 0 }, { "N", KC_COL_KEEP | KC_COL_RIGHT },
	};
	const char *row[] = { "payments", "ServiceAccount llm-gateway/gateway-with-a-very-long-name-0001",
	    "ClusterRole system:aggregate-to-admin-but-longer-than-the-width-allows", "42" };
	struct kc_table *t = kc_table_new(cols, 4);
	struct kc_buf out = KC_BUF_INIT(1 << 20), natural = KC_BUF_INIT(1 << 20);
	const char *s;

	CHECK(t != NULL);
	CHECK_INT(kc_table_add(t, row), 0);
	CHECK_INT(kc_table_note(t, "names: a b c"), 0);
	CHECK_INT(kc_table_render(t, 60, &out), 0);
	CHECK_INT(kc_table_render(t, 0, &natural), 0);
	s = kc_buf_str(&out);
	CHECK(widest_line(s) <= 60);
	CHECK(widest_line(kc_buf_str(&natural)) > 100);
	/* every word of the long cells is there, whole or split after '/' */
	CHECK(strstr(s, "llm-gateway/") != NULL);
	CHECK(strstr(s, "...") == NULL);		/* nothing cut */
	CHECK(strstr(s, "\n    names: a b c\n") != NULL);
	CHECK(strstr(s, "42\n") != NULL);		/* kept, right-aligned, no trailing blank */
	CHECK(strstr(s, " \n") == NULL);
	/* nothing lost: the non-blank characters are the same as unfitted */
	{
		size_t a = 0, b = 0;

		for (const char *p = s; *p; p++)
			a += *p != ' ' && *p != '\n';
		for (const char *p = kc_buf_str(&natural); *p; p++)
			b += *p != ' ' && *p != '\n';
		CHECK_INT(a, b);
	}
	kc_buf_free(&out);
	kc_buf_free(&natural);
	kc_table_free(t);
}

/* Negative twin: a KC_COL_CUT column is cut with "..."; a table of kept
 * columns only is printed wider rather than losing an identifier; names
 * from outside are escaped. */
DEFINE_TEST(test_table_cut_keep_escape)
{
	static const struct kc_table_col cut[] = { { "A", 0 }, { "B", KC_COL_CUT } };
	static const struct kc_table_col keep[] = { { "ID", KC_COL_KEEP }, { "DIGEST", KC_COL_KEEP } };
	const char *r1[] = { "x", "0123456789012345678901234567890123456789" };
	const char *r2[] = { "id-1", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
	const char *r3[] = { "bad\nname\x1b[31m", "b\\" };
	struct kc_table *t = kc_table_new(cut, 2), *k = kc_table_new(keep, 2);
	struct kc_buf out = KC_BUF_INIT(1 << 20);

	CHECK(t != NULL && k != NULL);
	CHECK_INT(kc_table_note(t, "before any row"), -5);
	CHECK_INT(kc_table_add(t, r1), 0);
	CHECK_INT(kc_table_add(t, r3), 0);
	CHECK_INT(kc_table_render(t, 40, &out), 0);
	CHECK(widest_line(kc_buf_str(&out)) <= 40);
	CHECK(strstr(kc_buf_str(&out), "...") != NULL);
	CHECK(strstr(kc_buf_str(&out), "\x1b") == NULL);
	CHECK(strstr(kc_buf_str(&out), "bad\\x0aname\\x1b") != NULL);
	CHECK(strstr(kc_buf_str(&out), "b\\x5c") != NULL);
	kc_buf_reset(&out);
	CHECK_INT(kc_table_add(k, r2), 0);
	CHECK_INT(kc_table_render(k, 40, &out), 0);
	CHECK(strstr(kc_buf_str(&out), r2[1]) != NULL);
	kc_buf_free(&out);
	kc_table_free(t);
	kc_table_free(k);
}
