/* audit.h - API-server audit-log segments: find the rotated pieces of a log,
 * stream them in order with bounded memory, keep malformed lines aside,
 * select events with exact filters (a substring fast path decides most
 * lines before any JSON parse), redact secret bodies and account for what
 * was read (sources, hashes, window covered, gaps, overlaps, counts).
 *
 * Event schema and rotation naming: shared/RBAC_SEMANTICS.md; what the
 * reader does and promises: docs/AUDIT.md.
 *
 * Library code: never prints to stdout, never exits; functions return 0 or
 * a negative KC_ERR_* code with a kc_err_set() detail.
 */
#ifndef KC_AUDIT_H
#define KC_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#define KC_AUDIT_LINE_MAX_DEFAULT ((size_t)4 << 20)	/* 4 MiB */
#define KC_AUDIT_LINE_MAX_MIN ((size_t)256)
#define KC_AUDIT_LINE_MAX_MAX ((size_t)256 << 20)
#define KC_AUDIT_GAP_DEFAULT 600			/* seconds */

/* The marker that replaces a redacted requestObject/responseObject:
 *   {"kcustody.redacted":{"sha256":"<hex of the original line>"}}
 * where the original line is its bytes as read, without the newline. */
#define KC_AUDIT_REDACT_KEY "kcustody.redacted"

/* Add the marker's member {"kcustody.redacted":{"sha256":hex}} to the
 * object m: the one redaction marker of audit bodies and pod-log lines
 * (collector/podlogs.h), hex being the SHA-256 of the original line. */
int kc_audit_marker_fill(cJSON *m, const char *hex);

/* ---- filters ---------------------------------------------------------- */

struct kc_audit_filter;	/* opaque; all conditions are ANDed */

struct kc_audit_filter *kc_audit_filter_new(void);
void kc_audit_filter_free(struct kc_audit_filter *f);

/* Add one condition, named like the command-line option without dashes.
 * Values of the same name are ORed.
 *   since, until       RFC 3339 or a duration before kc_now() ("72h");
 *                      since <= requestReceivedTimestamp < until
 *   user               exact username; matches user.username or
 *                      impersonatedUser.username
 *   sa                 NS/NAME, the same as user system:serviceaccount:NS:NAME
 *   resource           objectRef.resource ("pods"), or RES/SUB which also
 *                      requires objectRef.subresource ("pods/exec")
 *   verb, namespace    verb, objectRef.namespace
 *   decision           allow | forbid (annotation authorization.k8s.io/decision)
 *   code               responseStatus.code (integer)
 *   exclude-user-agent       drop events whose userAgent starts with VALUE
 *   exclude-audit-id-prefix  drop events whose auditID starts with VALUE
 *   exclude-run        drop a kcustody run's own traffic: userAgent contains
 *                      " run/VALUE" or auditID starts with "VALUE-"
 *   run                keep only that run's traffic (same test)
 *   preset             sensitive-reads: verb get|list|watch and resource
 *                      secrets|configmaps|persistentvolumeclaims;
 *                      denied: decision forbid or code 401|403
 * KC_ERR_INVALID with a detail for an unknown name or a bad value. */
int kc_audit_filter_add(struct kc_audit_filter *f, const char *name, const char *value);

/* The time window asked for: bit 1 set when *since is, bit 2 for *until
 * (ns since the epoch; since inclusive, until exclusive). */
int kc_audit_filter_window(const struct kc_audit_filter *f, int64_t *since, int64_t *until);

/* What the filter asks about reads (get, list, watch): 2 only reads
 * (--preset sensitive-reads, or every --verb is a read), 1 reads among
 * other requests, 0 no reads. */
int kc_audit_filter_reads(const struct kc_audit_filter *f);

/* The filters as given (a JSON object for sources.json); NULL on ENOMEM. */
cJSON *kc_audit_filter_json(const struct kc_audit_filter *f);

/* Exact test on a parsed event (what jq would select).  When it matches and
 * agent is not NULL, *agent is the identity to count it under: the selected
 * user that matched (impersonated user first), else the impersonated user,
 * else user.username; "" when none (pointer into ev). */
int kc_audit_filter_match(const struct kc_audit_filter *f, const cJSON *ev, const char **agent);

/* Fast path: 0 when the raw line cannot match (no parse needed), 1 when it
 * may.  Never 0 for a line that kc_audit_filter_match would accept. */
int kc_audit_filter_maybe(const struct kc_audit_filter *f, const char *line, size_t len);

/* ---- redaction -------------------------------------------------------- */

/* 1 when the event carries a body to redact: requestObject/responseObject
 * present and objectRef.resource is secrets or tokenreviews, or the
 * subresource is token, or a body holds a data, stringData or binaryData
 * key at any depth. */
int kc_audit_needs_redaction(const cJSON *ev);

/* Replace requestObject/responseObject in ev by the marker with the SHA-256
 * of line (the original bytes without newline). */
int kc_audit_redact(cJSON *ev, const char *line, size_t len);

/* ---- sources ---------------------------------------------------------- */

struct kc_audit_source {
	char *path;		/* as opened ("-" for stdin) */
	char *name;		/* base name shown in reports */
	const char *role;	/* "backup", "current", "file" or "stdin" */
	int64_t rotated_ms;	/* backup: time in the name (ms since epoch), else -1 */
	int group;		/* pieces of one log share a group */
};

struct kc_audit_skipped {
	char *path;
	const char *reason;
};

struct kc_audit_sources {
	struct kc_audit_source *v;
	size_t n, cap;
	struct kc_audit_skipped *skipped;	/* files seen but not read */
	size_t nskipped, skipcap;
};

/* Parse a lumberjack backup name "<base>-2006-01-02T15-04-05.000<ext>[.gz]".
 * Returns 1 and fills base_len (length of <base>), ext/ext_len (without
 * ".gz"), gz and ms when it is one, else 0. */
int kc_audit_backup_name(const char *name, size_t *base_len, const char **ext,
    size_t *ext_len, int *gz, int64_t *ms);

/* Expand paths into ordered sources: "-" is stdin; a folder gives every
 * log in it (grouped by base name, backups by the time in their name, the
 * current file last); a file gives itself and, unless no_rotated, its
 * rotated backups beside it.  A plain and a .gz backup of the same time
 * (compression in progress) are read once (the plain one).  The same file
 * named twice is read once.  KC_ERR_NOTFOUND when a path does not exist,
 * KC_ERR_IO when it cannot be examined. */
int kc_audit_discover(const char *const *paths, size_t npaths, int no_rotated,
    struct kc_audit_sources *out);
void kc_audit_sources_free(struct kc_audit_sources *s);

/* ---- reading lines ---------------------------------------------------- */

struct kc_audit_reader;	/* one source at a time; plain or gzip by magic */

struct kc_audit_line {
	const char *data;	/* the line without '\n'; valid until the next call */
	size_t len;
	uint64_t offset;	/* in the decompressed stream */
	/* Malformed lines: reason set, data/len NULL/0 for lines over the cap
	 * and stream errors; size is the full length of the bad bytes and
	 * sha256 their hash (empty for stream errors). */
	const char *reason;
	char detail[256];	/* extra words for reason (gzip error text) */
	uint64_t size;
	char sha256[65];
};

/* Open path ("-" = stdin).  line_max: longest line kept (0 = default).
 * hash: compute the raw and decompressed SHA-256. */
int kc_audit_reader_open(struct kc_audit_reader **rp, const char *path,
    size_t line_max, int hash);
/* How a source is split into records, decided from its first 64 KiB on the
 * first kc_audit_reader_next(): lines (one record per line: the
 * apiserver's log, JSON-lines exports, CloudWatch's S3 export), or, when
 * kc_audit_reader_allow_docs() was called with 1, documents: a stream
 * that opens with '[' or with a '{' whose first line is not a whole object
 * (gcloud's JSON array, aws logs ... --output json, Azure's {"records":[]},
 * pretty-printed objects).  In a document a record is a member of a
 * top-level array, of the array under a top-level "events" or "records"
 * member, or a top-level object that holds neither; the splitter only finds
 * where a record begins and ends (strings and nesting), each record is then
 * parsed by cJSON.  Records over the line cap are skipped and hashed
 * ("record too long"); "truncated record", "truncated document" and "not
 * JSON" (bytes outside any value, up to a newline) are reported like
 * malformed lines. */
#define KC_AUDIT_SPLIT_LINES 1
#define KC_AUDIT_SPLIT_DOCS 2
void kc_audit_reader_allow_docs(struct kc_audit_reader *r, int allow);
/* KC_AUDIT_SPLIT_LINES or _DOCS once next() was called, else 0. */
int kc_audit_reader_split(const struct kc_audit_reader *r);
/* 1 with a line (good or malformed), 0 at the end of the source.  In a
 * document a record may span lines and is not followed by a newline. */
int kc_audit_reader_next(struct kc_audit_reader *r, struct kc_audit_line *l);
/* Once kc_audit_reader_next() returned 0: sizes and hashes (raw = every
 * byte of the file, compressed; the other = the decompressed stream, the
 * same for a plain file).  Hashes are "" unless asked for at open. */
struct kc_audit_reader_stats {
	uint64_t raw_size, size;
	char raw_sha256[65], sha256[65];
	int gzip;
	char error[200];	/* read or decompression error, "" when none */
};
void kc_audit_reader_stats(const struct kc_audit_reader *r, struct kc_audit_reader_stats *st);
void kc_audit_reader_close(struct kc_audit_reader *r);

/* ---- providers -------------------------------------------------------- */

/* The answer, wherever a count would be given, when the sources cannot
 * hold the events the question needs (summary, diff, report). */
#define KC_NOT_DETERMINABLE "not determinable from these sources"

/* Export formats (--audit-format); UNKNOWN is "auto": decided per file
 * from its first record. */
#define KC_AUDIT_PROV_UNKNOWN 0
#define KC_AUDIT_PROV_NATIVE 1	/* the API server's own log (JSON lines) */
#define KC_AUDIT_PROV_EKS 2	/* CloudWatch Logs JSON, or its S3 export */
#define KC_AUDIT_PROV_GKE 3	/* Cloud Logging entries (array or JSON lines) */
#define KC_AUDIT_PROV_AKS 4	/* diagnostic-settings records */
/* "auto", "native", "eks", "gke", "aks" -> KC_AUDIT_PROV_*, -1 otherwise. */
int kc_audit_format_parse(const char *s);
const char *kc_audit_provider_name(int p);

/* ---- extraction ------------------------------------------------------- */

struct kc_audit_opts {
	int format;		/* KC_AUDIT_PROV_*: forced; 0 auto per file */
	/* Provider records behind each event written (records.jsonl format);
	 * NULL: not kept.  Native lines are their own record. */
	FILE *records;
	size_t line_max;	/* 0: KC_AUDIT_LINE_MAX_DEFAULT */
	int64_t gap_secs;	/* 0: KC_AUDIT_GAP_DEFAULT */
	int no_redact;		/* keep matching lines untouched */
	int no_rotated;		/* do not look for backups beside a named file */
	int validate;		/* parse every line (implied by stats) */
	int stats;		/* build the sources.json document */
	/* An audit-sink folder among the paths: its digest chain is checked
	 * (manifest/auditchain.h) into sources.json "chains", signatures
	 * against this Ed25519 public key (NULL: hashes and links only). */
	const char *chain_pubkey;
};

struct kc_audit_malformed {
	const char *source;	/* source name */
	uint64_t offset, length;
	const char *reason;
	const char *detail;	/* "" when none */
	const char *sha256;	/* "" for stream errors */
};

typedef int (*kc_audit_malformed_fn)(void *ctx, const struct kc_audit_malformed *m);

struct kc_audit_result {
	uint64_t sources, lines, events, matched, redacted, malformed;
	uint64_t source_errors;	/* sources that could not be read to the end */
	/* Whether the sources can hold reads (get, list, watch): 2 every
	 * cluster read has a source that logs reads, 1 some, 0 none, -1 no
	 * events at all.  AKS kube-audit-admin and GKE Admin Activity logs
	 * leave reads out. */
	int reads_visible;
	/* For the filter's question (kc_audit_filter_reads): 1 matched is the
	 * answer; 0 not determinable from these sources (the question is about
	 * reads only and some cluster has no source of reads); 2 matched is a
	 * lower bound (reads among the question are missing from some). */
	int determinable;
	int records_file;	/* kc_audit_extract wrote audit/records.jsonl */
	cJSON *doc;		/* with opts.stats: the sources.json document (owned by caller) */
};

/* Read paths, write matching lines (each with '\n', redacted unless
 * no_redact) to segment (may be NULL: count only), report each malformed
 * line to on_malformed (may be NULL).  Malformed lines and unreadable
 * sources are never fatal; write errors on segment and callback errors are.
 * KC_ERR_NOTFOUND (a path does not exist) and KC_ERR_IO (cannot be
 * examined) come before anything is written. */
int kc_audit_scan(const char *const *paths, size_t npaths,
    const struct kc_audit_filter *f, const struct kc_audit_opts *o,
    FILE *segment, kc_audit_malformed_fn on_malformed, void *ctx,
    struct kc_audit_result *res);

/* For collect: the same extraction into a staging folder:
 *   <staging>/audit/segment.jsonl    matching lines (after redaction)
 *   <staging>/audit/malformed.jsonl  one record per malformed line: source,
 *                                    offset, length, reason, sha256 of the
 *                                    raw bytes (never the bytes)
 *   <staging>/audit/sources.json     sources, hashes, window, gaps,
 *                                    overlaps, counts, filters, redaction
 *   <staging>/audit/records.jsonl    when some event came from a provider
 *                                    record: that record per event (byte
 *                                    for byte, or only its hash when the
 *                                    event was redacted)
 * opts->stats is implied.  res->doc is the sources.json document (the
 * caller's to free; NULL on failure).  Files are written under temporary names and renamed. */
int kc_audit_extract(const char *const *paths, size_t npaths,
    const struct kc_audit_filter *f, const struct kc_audit_opts *o,
    const char *staging_dir, struct kc_audit_result *res);

/* Write one malformed record as a JSON line (the malformed.jsonl format). */
int kc_audit_malformed_write(FILE *fp, const struct kc_audit_malformed *m);

/* The seconds since 1970 whose nanoseconds (with any fraction) fit an
 * int64_t: 1677-09-21T00:12:45Z to 2262-04-11T23:47:15Z. */
#define KC_AUDIT_TS_MIN_S (-9223372035LL)
#define KC_AUDIT_TS_MAX_S (9223372035LL)

/* Time helpers: parse an RFC 3339 timestamp of len bytes (not necessarily
 * NUL-terminated) into ns since the epoch; 0, KC_ERR_PARSE, or
 * KC_ERR_LIMIT for a well-formed time outside KC_AUDIT_TS_MIN_S ..
 * KC_AUDIT_TS_MAX_S (about the years 1678 to 2262). */
int kc_audit_parse_ts(const char *s, size_t len, int64_t *ns);

/* The audit-sink chain excerpt of the window (docs/FORMAT.md
 * "audit/chain/"): the digest records of the sink folder dir that name a
 * segment overlapping f's window (by the segments' signed first and last
 * times), every segment they name, the record before them (the anchor,
 * without its segments), the public key file pubkey (as sink.pub, when
 * given) and CHAIN.json, copied byte for byte into
 * <staging>/audit/chain/<id>/.  chain_report is the folder's verify-chain
 * report (sources.json "chains" element).  Nothing is copied (and
 * *summary says why) when no sealed segment overlaps the window, or when
 * one of the segments holds a body the redaction would replace and
 * no_redact is 0.  *summary: {path, records, anchor, segments,
 * segmentBytes} or {path, notCopied}. */
int kc_audit_chain_copy(const char *dir, const char *id, const struct kc_audit_filter *f, const char *pubkey,
    int no_redact, const cJSON *chain_report, const char *staging, cJSON **summary);

#endif
