/* report_escape.c - escaping for HTML text and attribute values (report_html.h):
 * markup characters as references, controls, bad bytes and characters that
 * could mislead a reader as visible escapes. */
#include <stdint.h>
#include <string.h>

#include "formats/report_int.h"
#include "util/utf8.h"

/* ------------------------------------------------------------------ */
/* escaping */

enum unit { U_PLAIN, U_ENTITY, U_BYTE, U_CODEPOINT };

/* Classify the next character of p[0..n): its length in *len, its code
 * point in *cp (or the byte for U_BYTE). */
static enum unit
next_unit(const unsigned char *p, size_t n, size_t *len, uint32_t *cp)
{
	unsigned char b = p[0];
	uint32_t c;
	size_t k;

	*len = 1;
	*cp = b;
	if (b < 0x80) {
		if (b == '&' || b == '<' || b == '>' || b == '"' || b == '\'')
			return U_ENTITY;
		if ((b < 0x20 && b != '\t' && b != '\n') || b == 0x7f)
			return U_BYTE;
		return U_PLAIN;
	}
	if ((k = kc_utf8_decode(p, n, &c)) == 0)
		return U_BYTE;
	*len = k;
	*cp = c;
	if ((c >= 0x80 && c <= 0x9f) ||			/* C1 controls */
	    (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe ||	/* noncharacters */
	    c == 0x061c || c == 0x200e || c == 0x200f ||	/* bidi marks */
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
		return U_CODEPOINT;
	return U_PLAIN;
}

static size_t
unit_cols(enum unit u, uint32_t cp)
{
	switch (u) {
	case U_BYTE: return 4;				/* \xHH */
	case U_CODEPOINT: return cp > 0xffff ? 10 : 6;	/* \uHHHH or \UHHHHHHHH */
	default: return 1;
	}
}

size_t
kc_html_prefix(const char *s, size_t cols, size_t *used)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, u = 0, len;
	uint32_t cp;

	while (i < n) {
		enum unit k = next_unit(p + i, n - i, &len, &cp);
		size_t c = unit_cols(k, cp);

		if (u + c > cols)
			break;
		u += c;
		i += len;
	}
	if (used != NULL)
		*used = u;
	return i;
}

int
kc_html_escape_n(struct kc_buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, len;
	uint32_t cp;
	int r = 0;

	if (s == NULL)
		return 0;
	while (i < n && r == 0) {
		enum unit k = next_unit(p + i, n - i, &len, &cp);

		if (k == U_PLAIN) {
			i += len;
			continue;
		}
		if (i > run)
			r = kc_buf_add(out, s + run, i - run);
		if (r != 0)
			break;
		switch (k) {
		case U_ENTITY:
			r = kc_buf_adds(out, cp == '&' ? "&amp;" : cp == '<' ? "&lt;" : cp == '>' ? "&gt;" :
			    cp == '"' ? "&quot;" : "&#39;");
			break;
		case U_BYTE:
			r = kc_buf_addf(out, "\\x%02x", (unsigned)cp);
			break;
		default:
			r = cp > 0xffff ? kc_buf_addf(out, "\\U%08x", (unsigned)cp) :
			    kc_buf_addf(out, "\\u%04x", (unsigned)cp);
			break;
		}
		i += len;
		run = i;
	}
	if (r == 0 && i > run)
		r = kc_buf_add(out, s + run, i - run);
	return r;
}

int
kc_html_escape(struct kc_buf *out, const char *s)
{
	return s == NULL ? 0 : kc_html_escape_n(out, s, strlen(s));
}

