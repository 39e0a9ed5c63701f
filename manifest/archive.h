/* archive.h - the AU-11 retention archive (docs/CUSTODY.md, "Retention
 * archive"): a content-addressed local store or S3-compatible object
 * storage with Object Lock.  The same operations on both.
 *
 * Every operation that moves evidence writes a custody entry: put an
 * "archived" entry (in the bundle's own ledger, then copied into the
 * store), get an "accessed" entry, prune a "disposed" entry before the
 * bundle is removed.  Items are named by the bundle's SHA-256 (the id).
 */
#ifndef KC_ARCHIVE_H
#define KC_ARCHIVE_H

#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "manifest/ledger.h"

#define KC_ARCHIVE_INDEX_MAX (256u << 20)

/* Where and how to reach a store. */
struct kc_archive_opts {
	const char *store;		/* folder, or s3://BUCKET[/PREFIX] */
	/* S3 only; NULL means: environment, then profile file */
	const char *endpoint;		/* https://host:port (AWS_ENDPOINT_URL) */
	const char *region;		/* default us-east-1 (AWS_REGION) */
	const char *access_key;		/* AWS_ACCESS_KEY_ID */
	const char *secret_key;		/* AWS_SECRET_ACCESS_KEY */
	const char *profile;		/* profile name in the credentials file */
	const char *credentials_file;	/* default ~/.aws/credentials */
	const char *ca_file;		/* extra CA bundle for TLS */
	const char *lock_mode;		/* COMPLIANCE (default) or GOVERNANCE */
	uint64_t multipart_threshold;	/* 0: 64 MiB */
	uint64_t part_size;		/* 0: 16 MiB (at least 5 MiB on AWS) */
	int create;			/* local: create a missing store (put); else a
					 * missing store is KC_ERR_CONFIG */
};

/* Who acts, with which key, trusting whom. */
struct kc_archive_actor {
	struct kc_ledger_key *key;	/* signs the custody entries */
	struct kc_ledger_actor actor;	/* name (required), organisation */
	const struct kc_trust *trust;	/* NULL: integrity checks only */
	const char *location;		/* where the actor is (optional) */
	const char *purpose;		/* why (optional) */
	const struct kc_ledger_recert *recert;	/* the decision of a "recertified"
					 * entry (kc_archive_recertify), else NULL */
};

struct kc_archive;

/* Open a store (a local folder is created when missing only with
 * o->create: a mistyped --store on list, get, verify or prune is an
 * error, not a new empty store; an S3 bucket must exist with Object Lock
 * enabled).  Credentials are copied and wiped on
 * close; they never reach logs or error messages. */
int kc_archive_open(const struct kc_archive_opts *o, struct kc_archive **out);
void kc_archive_close(struct kc_archive *a);

/* Retention from --retain-until (YYYY-MM-DD, or RFC 3339) or --retain
 * (Ny calendar years, Nw, Nd, or h/m/s as in kc_parse_duration) counted
 * from now.  Exactly one of until/retain is non-NULL. */
int kc_archive_retention(const char *until, const char *retain, time_t now, time_t *out);

/* Store the bundle (and the ledger beside it, which must verify) until
 * retain_until, with a legal hold when asked.  *item (optional, caller
 * frees) describes what was stored. */
int kc_archive_put(struct kc_archive *a, const char *bundle_path, time_t retain_until,
    int legal_hold, const struct kc_archive_actor *who, cJSON **item);

/* Every item of the store: [{"id","name","size","stored","retain_until",
 * "legal_hold","status"}] (caller frees).  An upload that did not finish is
 * never listed. */
int kc_archive_list(struct kc_archive *a, cJSON **items);

/* Copy item id (or a unique prefix of at least 8 hex digits) to out_path,
 * checking its SHA-256 on the way; writes its ledger, with the new
 * "accessed" entry, to out_path.custody.jsonl.  Never replaces a file. */
int kc_archive_get(struct kc_archive *a, const char *id, const char *out_path,
    const struct kc_archive_actor *who, cJSON **item);

/* Re-read and re-hash every stored item (id NULL) or one; check its ledger
 * against the copy recorded at put (never shorter, same entries) and, on
 * S3, read back retention and legal hold.  KC_ERR_VERIFY when anything is
 * damaged or missing; *report lists each item's result. */
int kc_archive_verify(struct kc_archive *a, const char *id, const struct kc_trust *trust,
    cJSON **report);

/* Record a reviewer's recertification decision (who->recert, required)
 * over the archived bundle id (its full SHA-256: the bundle the reviewer
 * judged hashes to it) as a "recertified" entry of the store's ledger of
 * the item, which must be stored (not disposed) and verify with
 * who->trust; note is optional. */
int kc_archive_recertify(struct kc_archive *a, const char *id, const struct kc_archive_actor *who,
    const char *note);

/* Remove what is past its retain-until (kc_now(), so KCUSTODY_NOW works)
 * and not on legal hold, writing the "disposed" entry first.  A store that
 * refuses (S3 403 on a locked version) is reported in *report, not an
 * error.  dry_run: only report. */
int kc_archive_prune(struct kc_archive *a, const struct kc_archive_actor *who, int dry_run,
    cJSON **report);

#endif
