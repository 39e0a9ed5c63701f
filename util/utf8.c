#include "util/utf8.h"

size_t
kc_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char b;
	uint32_t c;
	size_t k;

	if (n == 0) {
		*cp = 0;
		return 0;
	}
	b = p[0];
	*cp = b;
	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf) {
		k = 2;
		c = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		k = 3;
		c = b & 0x0f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		k = 4;
		c = b & 0x07;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return k;
}

size_t
kc_utf8_count(const unsigned char *p, size_t n)
{
	size_t i = 0, c = 0;

	while (i < n) {
		uint32_t cp;
		size_t k = kc_utf8_decode(p + i, n - i, &cp);

		i += k > 0 ? k : 1;
		c++;
	}
	return c;
}
