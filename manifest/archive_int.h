/* archive_int.h - what the archive backends (archive_local.c,
 * archive_s3.c) share with archive.c.  Not a public interface. */
#ifndef KC_ARCHIVE_INT_H
#define KC_ARCHIVE_INT_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "manifest/archive.h"
#include "manifest/ledger.h"
#include "util/buf.h"
#include "util/sha256.h"

struct archive_backend {
	int (*put)(struct kc_archive *a, const char *bundle_path, time_t until, int hold,
	    const struct kc_archive_actor *who, cJSON **item);
	int (*list)(struct kc_archive *a, cJSON **items);
	int (*get)(struct kc_archive *a, const char *id, const char *out_path,
	    const struct kc_archive_actor *who, cJSON **item);
	int (*verify)(struct kc_archive *a, const char *id, const struct kc_trust *trust,
	    cJSON **report);
	int (*prune)(struct kc_archive *a, const struct kc_archive_actor *who, int dry_run,
	    cJSON **report);
	void (*close)(struct kc_archive *a);
};

struct kc_archive {
	const struct archive_backend *be;
	char *location;		/* "file:///abs/dir" or "s3://bucket/prefix" */
	void *priv;
};

extern const struct archive_backend kc_archive_local;
extern const struct archive_backend kc_archive_s3;
int kc_archive_local_open(struct kc_archive *a, const char *dir, int create);
int kc_archive_s3_open(struct kc_archive *a, const struct kc_archive_opts *o);

/* Hash the bundle and check the ledger beside it (must verify, with the
 * actor's trust list when given).  id receives the SHA-256 hex. */
int archive_prepare(const char *bundle_path, const struct kc_archive_actor *who,
    char id[KC_SHA256_HEX], uint64_t *size);

/* Append an entry for the archive's own actions to the bundle's ledger at
 * ledger_path (file) and return the whole ledger text afterwards. */
int archive_file_entry(const char *ledger_path, const char *id, const char *action,
    const char *to, const char *method, const char *note,
    const struct kc_archive_actor *who, struct kc_buf *ledger_text);

/* Take back the entry archive_file_entry just appended, because the
 * action it records then failed: only while the ledger file is still
 * byte for byte ledger_text (checked under the ledger's lock), so that no
 * other entry is ever touched.  0, or an error and the file unchanged. */
int archive_file_entry_undo(const char *ledger_path, const char *ledger_text, size_t len);

/* The next entry after the ledger text (which must verify), as one line
 * appended to line; refused (KC_ERR_INVALID) when the ledger with it would
 * not verify, e.g. a disposal by a key that may not dispose. */
int archive_next_entry(const char *text, size_t len, const char *id, const char *action,
    const char *to, const char *method, const char *note,
    const struct kc_archive_actor *who, struct kc_ledger_state *st, struct kc_buf *line);

/* Ledger text never shorter than what was recorded: at least entries
 * lines, line `entries` hashing to head.  0 or KC_ERR_VERIFY with why. */
int archive_anchor_check(const char *text, size_t len, long entries, const char *head);

/* Copy src to a new file dst (O_EXCL, mode), hashing; fsync. */
int archive_copy(const char *src, const char *dst, mode_t mode, char hex[KC_SHA256_HEX],
    uint64_t *size);

/* Parse an S3 endpoint URL with libcurl's URL API: *https set for https;
 * returns 1 when its host is loopback ("localhost" exactly, 127.0.0.0/8 or
 * ::1 as IP literals), 0 when not, KC_ERR_INVALID when it is not an
 * http(s) URL. */
int archive_url_loopback(const char *url, int *https);

/* Whether a string is 64 lowercase hex digits, or a hex prefix of >= 8. */
/* Append a formatted problem to res["problems"] (verify reports). */
void archive_problem(cJSON *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int archive_is_id(const char *s);
int archive_is_id_prefix(const char *s);

/* S3 answers (archive_s3.c; declared here for tests/fuzz).  The text of
 * the next <tag>...</tag> at or after *pos (NULL: the start) in xml, the
 * five predefined entities decoded, cut to n-1 bytes: 1 found, 0 not. */
int archive_s3_xml_next(const char *xml, const char **pos, const char *tag, char *out, size_t n);
/* One ListObjectsV2 page: append every <Key> to keys; 1 with the
 * continuation token in token (tn bytes) when there is another page. */
int archive_s3_list_page(const char *xml, cJSON *keys, char *token, size_t tn);

/* cJSON helpers */
const char *archive_jstr(const cJSON *o, const char *name);
double archive_jnum(const cJSON *o, const char *name);
/* The same as a size (UINT64_MAX when not a whole number in 0..2^53) or
 * a long (-1 when out of range): never an undefined conversion. */
uint64_t archive_jsize(const cJSON *o, const char *name);
long archive_jlong(const cJSON *o, const char *name);
char *archive_fmt_time(time_t t, char *buf, size_t n);

#endif
