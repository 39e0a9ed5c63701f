/* audit_find.c - substring search for the fast path.
 *
 * glibc's memmem runs at about 1 GB/s on audit lines, which made it the
 * cost of the whole scan.  This is the "generic SIMD" method (W. Mula):
 * compare two bytes of the needle at their offsets against 16 (SSE2) or
 * 32 (AVX2) haystack positions at once, and memcmp only where both agree.
 * The two bytes are the needle's rarest by a fixed estimate of byte
 * frequency in audit JSON, so punctuation such as '"' and ':' is avoided.
 */
#include <string.h>

#include "collector/audit_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

/* Rough frequency rank of a byte in audit-log JSON (higher = commoner). */
static int
rank(unsigned char c)
{
	static const char common[] = "\":,{}/-.0123456789";
	static const char letters[] = "etaoinsrclmudpgvhbfykwxjqz";	/* commoner first */

	if (c == 0)
		return 0;
	if (strchr(common, c) != NULL)
		return 100;
	if (c >= 'a' && c <= 'z')
		return 90 - (int)(strchr(letters, c) - letters) * 3;
	if (c >= 'A' && c <= 'Z')
		return 15;
	return 5;
}

void
kc_audit_needle_init(struct kc_audit_needle *nd, const char *s, size_t n)
{
	size_t a = 0, b = 0;

	nd->s = s;
	nd->n = n;
	for (size_t i = 1; i < n; i++)
		if (rank((unsigned char)s[i]) < rank((unsigned char)s[a]))
			a = i;
	b = a == 0 ? (n > 1 ? 1 : 0) : 0;
	for (size_t i = 0; i < n; i++)
		if (i != a && rank((unsigned char)s[i]) < rank((unsigned char)s[b]))
			b = i;
	nd->a = a;
	nd->b = b;
}

#ifdef HAVE_X86
__attribute__((target("avx2")))
static const char *
find_avx2(const char *h, size_t n, const struct kc_audit_needle *nd, size_t *done)
{
	const __m256i fa = _mm256_set1_epi8(nd->s[nd->a]), fb = _mm256_set1_epi8(nd->s[nd->b]);
	size_t i = 0, m = nd->n;

	for (; i + m + 31 <= n; i += 32) {
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(h + i + nd->a));
		__m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(h + i + nd->b));
		unsigned mask = (unsigned)_mm256_movemask_epi8(_mm256_and_si256(
		    _mm256_cmpeq_epi8(x, fa), _mm256_cmpeq_epi8(y, fb)));

		while (mask != 0) {
			unsigned bit = (unsigned)__builtin_ctz(mask);

			if (memcmp(h + i + bit, nd->s, m) == 0)
				return h + i + bit;
			mask &= mask - 1;
		}
	}
	*done = i;
	return NULL;
}

static const char *
find_sse2(const char *h, size_t n, const struct kc_audit_needle *nd, size_t *done)
{
	const __m128i fa = _mm_set1_epi8(nd->s[nd->a]), fb = _mm_set1_epi8(nd->s[nd->b]);
	size_t i = 0, m = nd->n;

	for (; i + m + 15 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(h + i + nd->a));
		__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(h + i + nd->b));
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(
		    _mm_cmpeq_epi8(x, fa), _mm_cmpeq_epi8(y, fb)));

		while (mask != 0) {
			unsigned bit = (unsigned)__builtin_ctz(mask);

			if (memcmp(h + i + bit, nd->s, m) == 0)
				return h + i + bit;
			mask &= mask - 1;
		}
	}
	*done = i;
	return NULL;
}

static int
have_avx2(void)
{
	static int v = -1;

	if (v < 0) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("avx2") ? 1 : 0;
	}
	return v;
}
#endif

const char *
kc_audit_find(const char *h, size_t n, const struct kc_audit_needle *nd)
{
	size_t done = 0;

	if (nd->n == 0)
		return h;
	if (nd->n > n)
		return NULL;
	if (nd->n == 1)
		return memchr(h, nd->s[0], n);
#ifdef HAVE_X86
	const char *p = have_avx2() ? find_avx2(h, n, nd, &done) : find_sse2(h, n, nd, &done);

	if (p != NULL)
		return p;
#endif
	/* the last few positions (all of them without SIMD) */
	for (size_t i = done; i + nd->n <= n; i++)
		if (h[i + nd->a] == nd->s[nd->a] && h[i + nd->b] == nd->s[nd->b] &&
		    memcmp(h + i, nd->s, nd->n) == 0)
			return h + i;
	return NULL;
}
