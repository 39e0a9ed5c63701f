/* auditchain.h - the audit sink's hash chain (docs/AUDIT_SINK.md).
 *
 * A sink folder holds JSON-lines segments "segment-NNNNNNNN.jsonl" and
 * signed digest records "digest-NNNNNNNN.json" with "digest-NNNNNNNN.json.sig"
 * (the raw 64-byte Ed25519 signature of the record's bytes, PureEdDSA, as
 * SHA256SUMS.sig).  Each record names the segments closed since the one
 * before (SHA-256, size, event count, first/last auditID and time) and the
 * SHA-256 of the previous record's file, so the records form a chain.
 */
#ifndef KC_AUDITCHAIN_H
#define KC_AUDITCHAIN_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "manifest/sign.h"
#include "util/sha256.h"

#define KC_ACHAIN_KIND "kcustody.audit-digest"
#define KC_ACHAIN_VERSION 1
#define KC_ACHAIN_ID_MAX 128	/* auditIDs longer than this are cut (recorded as seen) */
#define KC_ACHAIN_TIME_MAX 48
#define KC_ACHAIN_RECORD_MAX (4u << 20)

/* One closed segment as a digest record names it. */
struct kc_achain_seg {
	uint64_t number;		/* NNNNNNNN of segment-NNNNNNNN.jsonl */
	char sha256[KC_SHA256_HEX];
	uint64_t bytes, events;
	char first_id[KC_ACHAIN_ID_MAX], last_id[KC_ACHAIN_ID_MAX];
	char first_time[KC_ACHAIN_TIME_MAX], last_time[KC_ACHAIN_TIME_MAX];
	char opened[KC_ACHAIN_TIME_MAX], closed[KC_ACHAIN_TIME_MAX];
	int recovered;			/* sealed at start-up after the sink stopped uncleanly */
	uint64_t dropped_tail;		/* bytes of an unterminated last line cut off at recovery */
};

/* A parsed digest record. */
struct kc_achain_digest {
	uint64_t sequence;
	char created[KC_ACHAIN_TIME_MAX];
	char reason[16];		/* start, rotation, interval, shutdown */
	char run[40];			/* this sink process's random id */
	char run_started[KC_ACHAIN_TIME_MAX];
	int64_t interval;		/* the digest interval in seconds */
	char key[KC_FPR_LEN];
	int has_previous;
	uint64_t prev_sequence;
	char prev_sha256[KC_SHA256_HEX];
	struct kc_achain_seg *segs;
	size_t nsegs;
};

/* Segment and digest file names for a number (out at least 32 bytes). */
void kc_achain_seg_name(uint64_t n, char *out, size_t size);
void kc_achain_digest_name(uint64_t n, char *out, size_t size);
/* The number in "segment-NNNNNNNN.jsonl" / "digest-NNNNNNNN.json"; -1 when
 * name is not one of these (exactly 8 or more digits, nothing after). */
int kc_achain_name_number(const char *name, const char *prefix, const char *suffix, uint64_t *n);

/* The event fields a record keeps, from one event line's parsed JSON:
 * auditID and stageTimestamp (else requestReceivedTimestamp); "" when
 * absent. */
void kc_achain_event_fields(const cJSON *ev, char id[KC_ACHAIN_ID_MAX], char t[KC_ACHAIN_TIME_MAX]);
/* Add one event to a segment's statistics (first/last id and time). */
void kc_achain_seg_note(struct kc_achain_seg *s, const char *id, const char *t);

/* Scan a segment file that was never sealed (the sink stopped): an
 * unterminated last line is cut off (the file is truncated; the byte count
 * goes to dropped_tail), then the SHA-256, size and per-line statistics
 * are taken.  Lines that are not JSON objects still count as events. */
int kc_achain_seg_recover(const char *path, struct kc_achain_seg *s);

/* Render, sign and write digest record d into dir (the .sig first, then
 * the record, each atomically, then the folder synced).  The key
 * fingerprint is taken from the signer.  sha256_out (optional) receives
 * the written record's SHA-256. */
int kc_achain_digest_write(const char *dir, struct kc_achain_digest *d, struct kc_signer *signer,
    char sha256_out[KC_SHA256_HEX]);
/* Parse a record's bytes (strict: every field of the format present with
 * its type); KC_ERR_PARSE with a message otherwise.  Free with
 * kc_achain_digest_clear. */
int kc_achain_digest_parse(const char *text, size_t len, struct kc_achain_digest *out);
void kc_achain_digest_clear(struct kc_achain_digest *d);

/* The state a sink resumes from: the last digest record's number and
 * SHA-256 and the highest segment number it names (0 when none).  Reads
 * only the record files, does not verify signatures. */
struct kc_achain_tail {
	uint64_t last_digest;
	char last_sha256[KC_SHA256_HEX];
	uint64_t last_sealed_seg;
	uint64_t highest_seg_file;	/* highest segment-N file present */
};
int kc_achain_tail(const char *dir, struct kc_achain_tail *t);

/* Verify the chain in dir against the Ed25519 public key in pubkey: every
 * record's signature (pubkey NULL: not checked; the rest is), record
 * numbers 1..N contiguous, each record's
 * previous hash, segment numbers contiguous and each named once, each
 * segment's size, SHA-256 and line count; segment files named by no record
 * are "unsealed"; silences between records longer than gap_secs (0:
 * twice the record's digest interval plus 30 s) or a new sink run are gaps.  *report receives a JSON document (docs/AUDIT_SINK.md).
 * Returns 0 (proven), 1 (chain intact but unsealed segments), or
 * KC_ERR_VERIFY (tampering found, listed in the report); other negative
 * codes for I/O problems. */
int kc_achain_verify(const char *dir, const char *pubkey, int64_t gap_secs, cJSON **report);

/* RFC 3161 time-stamps of the records (docs/AUDIT_SINK.md): the TSA's
 * whole DER TimeStampResp over a record's bytes (imprint: SHA-256 of
 * digest-N.json, the hash the next record names) in
 * "digest-NNNNNNNN.json.tsr". */
#define KC_ACHAIN_TSR_SUFFIX ".tsr"
/* A token more than this many seconds before the record's "created" (clock
 * difference between the sink and the TSA) or more than
 * KC_ACHAIN_TSA_GIVE_UP plus this after it is inconsistent. */
#define KC_ACHAIN_TSA_SKEW 300
/* The sink stops retrying a record's time-stamp this long after the record. */
#define KC_ACHAIN_TSA_GIVE_UP 3600
void kc_achain_tsr_name(uint64_t n, char *out, size_t size);
/* Ask the TSA at url for a token over record n of dir and store it
 * (atomically, folder synced).  tsa_ca (optional) checks the reply's
 * signature as it comes; timeout bounds the exchange in seconds.  gentime
 * (optional, >= 32 bytes) receives the token's time. */
int kc_achain_stamp(const char *dir, uint64_t n, const char *url, const char *tsa_ca, long timeout,
    char *gentime, size_t gsize);
/* One record's token (the bytes of digest-N.json.tsr) against the record's
 * bytes rec and its "created": it verifies under tsa_ca (signature, TSA
 * certificate chain), its imprint is the SHA-256 of rec, and its time is
 * consistent with created (KC_ACHAIN_TSA_SKEW before, KC_ACHAIN_TSA_GIVE_UP
 * plus the skew after).  0 with gentime (optional, >= 40 bytes) the TSA's
 * time; KC_ERR_VERIFY with why (the problem as verify-chain reports it);
 * another negative code when tsa_ca is NULL.  The one check verify-chain
 * and a bundle's copied chain (auditchain_bundle.h) both make. */
int kc_achain_token_check(const void *tsr, size_t tsrlen, const void *rec, size_t reclen, const char *created,
    const char *tsa_ca, char *gentime, size_t gsize, char *why, size_t wsize);
/* One tampering problem, {"file": file, "problem": printf(fmt, ...)},
 * appended to problems (the reports' "tampering" arrays); the message is
 * cut at 511 bytes; nothing is added when out of memory. */
void kc_achain_problem(cJSON *problems, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A segment as found: a file of the sink folder, or a bundle member. */
struct kc_achain_seg_found {
	uint64_t bytes, lines;
	const char *sha256;	/* hex */
};
/* The checks of one segment s that record `record` names, in record
 * order, that verify-chain and a bundle's copied chain both make:
 * its number is *due (0: any; *due then becomes the next number), and
 * when check is set, the segment found (f; NULL: missing) has the
 * record's size, SHA-256 and line count.  Each problem is appended to
 * problems (kc_achain_problem); returns how many there were. */
int kc_achain_seg_check(const struct kc_achain_seg *s, const char *record, uint64_t *due, int check,
    const struct kc_achain_seg_found *f, cJSON *problems);
/* kc_achain_verify, and with tsa_ca (non-NULL) each record's token too:
 * its imprint is the record's SHA-256, it is signed by a TSA whose chain
 * ends at tsa_ca, and its time is consistent with the record's "created"
 * (KC_ACHAIN_TSA_SKEW).  A token that fails is tampering; records without
 * a token are listed (report "timestamps": {result, records, stamped,
 * missing: [file], firstStamp, lastStamp}) and make the result 1 when
 * nothing is worse.  With tsa_ca NULL: exactly kc_achain_verify. */
int kc_achain_verify_tsa(const char *dir, const char *pubkey, int64_t gap_secs, const char *tsa_ca,
    cJSON **report);

#endif
