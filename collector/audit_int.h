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
struct cJSON;
/* First occurrence of the needle in h[0..n), or NULL (memmem's contract). */
const char *kc_audit_find(const char *h, size_t n, const struct kc_audit_needle *nd);

/* ---- managed clusters' exports (audit_cloud.c) ---- */

/* Where one provider record came from, for records.jsonl and continuity. */
struct kc_audit_prov {
	int provider;		/* KC_AUDIT_PROV_* */
	const char *form;	/* eks-cloudwatch, eks-s3-export, gke-logging, aks-diagnostics */
	char id[256];		/* eventId, insertId; AKS: the event's auditID */
	char stream[256];	/* logStreamName, GKE log id, AKS category */
	char cluster[512];	/* EKS (when named), GKE project/location/name, AKS name */
	int reads;		/* the stream can hold get/list/watch */
	const char *text;	/* EKS/AKS: the embedded event text (in the record) */
	struct cJSON *owned;	/* parsed helper owned here */
};

/* The provider a parsed record's shape belongs to (KC_AUDIT_PROV_*). */
int kc_audit_cloud_classify(const struct cJSON *rec);
/* 1 and the length of "<RFC 3339> " when line opens like a line of
 * CloudWatch Logs' export to S3. */
int kc_audit_cloud_s3_prefix(const char *line, size_t len, size_t *skip);
/* Turn a provider record into an audit Event: 1 with *ev (new, the
 * caller's) and p filled; 0 with *why (a malformed-line reason) and
 * detail when the record is not a usable audit event; < 0 on ENOMEM. */
int kc_audit_cloud_convert(const struct cJSON *rec, int provider, struct kc_audit_prov *p,
    struct cJSON **ev, const char **why, char *detail, size_t dn);
void kc_audit_prov_clear(struct kc_audit_prov *p);

#endif
