/* utf8.h - the one UTF-8 decoder.
 *
 * Strict RFC 3629 (what Go's unicode/utf8 accepts): no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no sequence cut
 * short by the end of the input.  A byte that does not start a valid
 * sequence is one invalid unit; what to do with it (show it as \xHH, count
 * it as one rune, refuse the text) is the caller's choice.
 */
#ifndef KC_UTIL_UTF8_H
#define KC_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1-4) of the valid sequence that starts p[0..n), with its
 * code point in *cp; 0 when p[0] does not start one (or n is 0), *cp then
 * holding the byte p[0] (0 when n is 0).  ASCII, controls included, is
 * one byte. */
size_t kc_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

/* Runes in p[0..n), each invalid byte counting as one (Go's
 * utf8.RuneCount). */
size_t kc_utf8_count(const unsigned char *p, size_t n);

#endif
