/* audit_int.h - helpers shared by the collector/audit*.c files only. */
#ifndef KC_AUDIT_INT_H
#define KC_AUDIT_INT_H

#include <stddef.h>
#include <stdint.h>

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
 * days_from_civil); no table, no timegm, no locale. */
static inline int64_t
kc_audit_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* A needle for kc_audit_find: s (not copied, not NUL-terminated) and the
 * offsets of its two rarest bytes. */
struct kc_audit_needle {
	const char *s;
	size_t n, a, b;
};

void kc_audit_needle_init(struct kc_audit_needle *nd, const char *s, size_t n);
/* First occurrence of the needle in h[0..n), or NULL (memmem's contract). */
/* jq's .key on a parsed event: the LAST member of that name (cJSON keeps
 * duplicate keys, jq keeps the last); NULL when o is not an object. */
struct cJSON;
const struct cJSON *kc_audit_member(const struct cJSON *o, const char *k);
/* The same member's string value, or NULL. */
const char *kc_audit_member_str(const struct cJSON *o, const char *k);

const char *kc_audit_find(const char *h, size_t n, const struct kc_audit_needle *nd);

#endif
