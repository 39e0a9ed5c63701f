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
#include "manifest/s3_client.h"	/* archive_url_loopback, archive_s3_xml_next and
					 * archive_s3_list_page, for tests and fuzzing */
#include "util/buf.h"
#include "util/json.h"
#include "util/sha256.h"

/* What a store must do.  put and get are whole operations (each store
 * keeps the item's ledger its own way: a file beside the object under the
 * store's lock, or one locked object per entry); list, verify and prune
 * are written once in archive.c over the storage primitives below, so a
 * new backend implements these and never builds a report itself.
 *
 * An "item" is what items() lists (an index entry, an object key); its
 * "record" is the JSON object describing it: id, name, size, stored,
 * retain_until, legal_hold, status ("stored" or "disposed"), and whatever
 * the backend keeps (the ledger anchor, lock mode, version ids). */
struct archive_backend {
	int (*put)(struct kc_archive *a, const char *bundle_path, time_t until, int hold,
	    const struct kc_archive_actor *who, cJSON **item);
	int (*get)(struct kc_archive *a, const char *id, const char *out_path,
	    const struct kc_archive_actor *who, cJSON **item);

	/* Start and end a list, verify or prune: write 1 when the store
	 * will be changed (the local store takes its lock).  end() always
	 * follows a begin() that succeeded. */
	int (*begin)(struct kc_archive *a, int write);
	void (*end)(struct kc_archive *a);
	/* Every item (id NULL), or every item with id named as one item: the
	 * id (or a unique prefix of it) must name exactly one, else
	 * KC_ERR_NOTFOUND or KC_ERR_INVALID.  *items: a JSON array the
	 * caller frees, handed one by one to record(). */
	int (*items)(struct kc_archive *a, const char *id, cJSON **items);
	/* The record of one item (*rec, caller frees): 0; 1 when the record
	 * is damaged and must not be acted on (*rec holds what could be read
	 * of id, name and status, printable; why says what is wrong); or an
	 * error when it cannot be read at all (*rec NULL). */
	int (*record)(struct kc_archive *a, const cJSON *item, cJSON **rec, char *why, size_t n);
	/* Verify: check the stored bundle of rec (stored: 1 when the record
	 * says "stored") and what the store enforces, appending problems to
	 * res (archive_problem) and any members of its own.  Not an error
	 * when something is wrong: that is a problem. */
	void (*check_bundle)(struct kc_archive *a, const cJSON *rec, int stored, cJSON *res);
	/* The item's whole ledger as the store holds it, checked (it must
	 * verify, with trust when given, and be no shorter than what the
	 * store recorded); problems (may be NULL) takes extra findings. */
	int (*ledger)(struct kc_archive *a, const cJSON *rec, const struct kc_trust *trust,
	    struct kc_buf *text, cJSON *problems);
	/* Verify --all: add what the store holds that no item names to
	 * report (optional, NULL when a store cannot tell). */
	void (*leftovers)(struct kc_archive *a, cJSON *report);
	/* Prune: 1 when the store itself still locks the item (detail says
	 * how), 0 when not, or an error (optional: NULL means 0). */
	int (*store_locked)(struct kc_archive *a, const cJSON *rec, char *detail, size_t n);
	/* Prune: append a custody entry (the disposal) to the store's ledger
	 * of rec, which must verify with who->trust. */
	int (*add_entry)(struct kc_archive *a, const cJSON *rec, const struct kc_archive_actor *who,
	    const char *action, const char *to, const char *method, const char *note);
	/* Prune: remove the bundle and mark the record disposed.  0 with
	 * res["result"] set when the store refused (reported, not an error),
	 * 0 without it when done, or an error that stops the prune. */
	int (*dispose)(struct kc_archive *a, const cJSON *rec, cJSON *res);

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
/* Copy the open file in (named src) into the open file out (named dst),
 * hashing; no fsync (kc_atomic_commit does it). */
int archive_copy_fd(int in, const char *src, int out, const char *dst, char hex[KC_SHA256_HEX],
    uint64_t *size);

/* Get: the temporary and ledger names beside out_path (*tmp, *olpath,
 * caller frees both, also on error); KC_ERR_INVALID when out_path or its
 * ledger exists (never replaced). */
int archive_get_paths(const char *out_path, char **tmp, char **olpath);
/* Get: the bundle fetched to tmp must hash to id; else tmp is removed and
 * KC_ERR_VERIFY says nothing was handed out. */
int archive_fetched_check(const char *tmp, const char *id, const char *hex);
/* Get: hand the fetched bundle out: its ledger (text, with the
 * "accessed" entry) written to olpath, then tmp linked to out_path (never
 * replacing); tmp removed in every case, olpath again when the link fails. */
int archive_hand_out(const char *tmp, const char *out_path, const char *olpath,
    const struct kc_buf *text);

/* Verify: compare a stored bundle's SHA-256 and size with its record
 * (what: "index" or "record", for the message); problems into res.
 * 1 when there was one, else 0. */
int archive_bundle_check(cJSON *res, const cJSON *rec, const char *hex, uint64_t size,
    const char *what);
/* The ledger anchor of text: its entries (lines) and the SHA-256 hex of
 * its last line, as recorded at put and checked by archive_anchor_check. */
int archive_anchor_of(const char *text, size_t len, long *entries, char head[KC_SHA256_HEX]);

/* Append a formatted problem to res["problems"] (verify reports). */
void archive_problem(cJSON *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether a string is 64 lowercase hex digits, or a hex prefix of >= 8. */
int archive_is_id(const char *s);
int archive_is_id_prefix(const char *s);

/* cJSON helpers (strings: kc_json_str of util/json.h) */
double archive_jnum(const cJSON *o, const char *name);
/* The same as a size (UINT64_MAX when not a whole number in 0..2^53) or
 * a long (-1 when out of range): never an undefined conversion. */
uint64_t archive_jsize(const cJSON *o, const char *name);
long archive_jlong(const cJSON *o, const char *name);
char *archive_fmt_time(time_t t, char *buf, size_t n);

#endif
