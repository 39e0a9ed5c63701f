/* test_utf8.c - the one UTF-8 decoder (util/utf8.h): what it accepts and
 * what it refuses, byte by byte; the callers (the HTML escaping, the can-i
 * column widths, the ledger's text check) were compared with their former
 * private decoders on every input of up to 3 bytes before they shared it. */
#include <stdint.h>

#include "harness.h"
#include "util/utf8.h"

static size_t
dec(const char *s, size_t n, uint32_t *cp)
{
	return kc_utf8_decode((const unsigned char *)s, n, cp);
}

DEFINE_TEST(test_utf8_decode_valid)
{
	uint32_t cp;

	CHECK_INT(dec("A", 1, &cp), 1);
	CHECK_INT(cp, 'A');
	CHECK_INT(dec("\x01", 1, &cp), 1);		/* controls are the caller's business */
	CHECK_INT(dec("\xc3\xa9", 2, &cp), 2);
	CHECK_INT(cp, 0xe9);
	CHECK_INT(dec("\xe2\x80\xae", 3, &cp), 3);	/* U+202E: valid, the escaper flags it */
	CHECK_INT(cp, 0x202e);
	CHECK_INT(dec("\xf0\x9f\x98\x80", 4, &cp), 4);
	CHECK_INT(cp, 0x1f600);
	CHECK_INT(dec("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	CHECK_INT(cp, 0x10ffff);
	CHECK_INT(dec("\xc2\x80", 2, &cp), 2);		/* C1 control U+0080 */
	CHECK_INT(cp, 0x80);
}

DEFINE_TEST(test_utf8_decode_invalid)
{
	uint32_t cp;

	CHECK_INT(dec("", 0, &cp), 0);
	CHECK_INT(dec("\x80", 1, &cp), 0);		/* lone continuation */
	CHECK_INT(cp, 0x80);				/* the byte, for \xHH */
	CHECK_INT(dec("\xc0\xaf", 2, &cp), 0);		/* overlong '/' */
	CHECK_INT(dec("\xc1\xbf", 2, &cp), 0);
	CHECK_INT(dec("\xe0\x80\xaf", 3, &cp), 0);	/* overlong, 3 bytes */
	CHECK_INT(dec("\xf0\x80\x80\xaf", 4, &cp), 0);	/* overlong, 4 bytes */
	CHECK_INT(dec("\xed\xa0\x80", 3, &cp), 0);	/* surrogate U+D800 */
	CHECK_INT(dec("\xed\xbf\xbf", 3, &cp), 0);	/* surrogate U+DFFF */
	CHECK_INT(dec("\xf4\x90\x80\x80", 4, &cp), 0);	/* U+110000 */
	CHECK_INT(dec("\xf5\x80\x80\x80", 4, &cp), 0);
	CHECK_INT(dec("\xff", 1, &cp), 0);
	CHECK_INT(dec("\xc3\xa9", 1, &cp), 0);		/* cut short by n */
	CHECK_INT(dec("\xe2\x80", 2, &cp), 0);
	CHECK_INT(dec("\xe2\x28\xa1", 3, &cp), 0);	/* bad continuation */
}

DEFINE_TEST(test_utf8_count)
{
	/* Go: utf8.RuneCountInString("a\xc3\xa9\xff\xed\xa0\x80\xf0\x9f\x98") == 9 */
	CHECK_INT(kc_utf8_count((const unsigned char *)"a\xc3\xa9\xff\xed\xa0\x80\xf0\x9f\x98", 10), 9);
	CHECK_INT(kc_utf8_count((const unsigned char *)"", 0), 0);
	CHECK_INT(kc_utf8_count((const unsigned char *)"\xf0\x9f\x98\x80x", 5), 2);
}
