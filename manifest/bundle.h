/* bundle.h - the sealed evidence bundle (format v1, docs/FORMAT.md).
 *
 * CONTRACT (owned by the bundle module):
 * kc_bundle_seal() takes a staging folder holding the evidence members
 * (relative paths, no MANIFEST.json yet) and the manifest draft built by
 * collect (case, collector, cluster, times, requests, items, and "files":
 * [{"path","media_type","derived":bool,"sources":[...]}] for the members it
 * knows).  It fills size and sha256 of every file (adding entries for
 * members not listed), writes MANIFEST.json, SHA256SUMS, SHA256SUMS.sig,
 * SHA256SUMS.sig.tsr (with a TSA) and VERIFY.txt into the staging folder,
 * then writes the deterministic tar.gz to a temporary file beside out_path
 * and renames it into place.  The top folder is the bundle name (the base
 * name of out_path without .tar.gz).
 *
 * Details: a staging folder holding a symlink, device or FIFO, or a path
 * kc_relpath_ok() refuses, is KC_ERR_INVALID; stale MANIFEST.json,
 * SHA256SUMS* and VERIFY.txt at its top are replaced, so sealing the same
 * folder again gives the same bytes (Ed25519 and unsigned; CMS signatures
 * carry a signing time and TSA tokens a time).  out_path must end in
 * ".tar.gz" and must not exist.  The draft is completed in place.
 */
#ifndef KC_BUNDLE_H
#define KC_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "manifest/tarball.h"
#include "manifest/sign.h"
#include "util/buf.h"

struct kc_seal_opts {
	const char *key_path;		/* PEM private key (may be encrypted) */
	const char *cert_path;		/* X.509 certificate: CMS detached signature */
	const char *passphrase_file;	/* or the terminal when the key is encrypted */
	int no_sign;			/* explicit --no-sign */
	const char *tsa_url;		/* RFC 3161 TSA, optional */
	const char *tsa_ca;		/* CA to check the TSA reply with */
	time_t mtime;			/* one mtime for every member */
	int gzip_level;			/* 1-9; 0: KC_TAR_DEFAULT_LEVEL */
};

int kc_bundle_seal(const char *staging_dir, cJSON *manifest,
    const struct kc_seal_opts *opts, const char *out_path);

/* The bundle name of DESIGN.md, <case>_<phase>_<cluster>_<YYYYMMDDTHHMMSSZ>,
 * each part reduced to [A-Za-z0-9.-] (others become '-').  0 or
 * KC_ERR_LIMIT when it does not fit in n. */
int kc_bundle_name(const char *case_id, const char *phase, const char *cluster,
    time_t end, char *out, size_t n);

/* ---- verification ---- */

enum kc_check_id {
	KC_CHECK_STRUCTURE, KC_CHECK_HASHES, KC_CHECK_MANIFEST,
	KC_CHECK_SIGNATURE, KC_CHECK_TIMESTAMP, KC_CHECK_COUNT
};
enum kc_check_state { KC_CHECK_SKIPPED = 0, KC_CHECK_OK, KC_CHECK_FAILED };

struct kc_check {
	const char *name;		/* "structure", "hashes", ... */
	enum kc_check_state state;
	char detail[512];
};

struct kc_verify_opts {
	const char *pubkey_path;	/* trusted Ed25519 (or CMS signer) public key */
	const char *ca_path;		/* trust anchors for a CMS signature */
	const char *tsa_ca;		/* trust anchors for the time-stamp token */
	int allow_unsigned;		/* an absent or unchecked signature is not a failure */
	struct kc_tar_limits limits;
};

struct kc_verify_result {
	struct kc_check checks[KC_CHECK_COUNT];
	char top[256];
	size_t members;			/* regular members */
	uint64_t bytes;			/* their total size */
	enum kc_sig_kind sig_kind;
	char signer[512];		/* fingerprint / subject of the checked signer */
	char tsa_time[40];
	int no_key;			/* signature FAILED only because no trusted key was given */
	time_t mtime;			/* the members' one mtime */
	char sha256[KC_SHA256_HEX];	/* SHA-256 of the file as verify read it ("" when
					 * it could not be read to the end); a later
					 * read is pinned to it (kc_bundle_read_opts) */
	int container_unbound;		/* sealed by 0.1: top folder and mtime not in the manifest */
	int valid;			/* no check FAILED */
};

/* The options every command's verify gives (one place: diff, recertify). */
void kc_verify_opts_init(struct kc_verify_opts *vo, const char *pubkey_path, const char *ca_path,
    const char *tsa_ca, int allow_unsigned);
/* A bundle found not valid, said as the commands say it: KC_ERR_VERIFY
 * with "'path' is not a valid bundle: <check> check failed: <detail>"
 * and hint after it (NULL: none). */
int kc_bundle_invalid_err(const char *path, const struct kc_verify_result *vr, const char *hint);

/* Verify a bundle without writing anything to disk.  Returns 0 when valid,
 * KC_ERR_VERIFY when a check failed (res says which and why), KC_ERR_IO
 * when the file cannot be read at all.  Never trusts a key from the bundle. */
int kc_bundle_verify(const char *path, const struct kc_verify_opts *o,
    struct kc_verify_result *res);

/* Bundles verified at once, each on a thread of its own (inflating and
 * hashing a 150k-object bundle is 1.6 s of one core; diff and report
 * --diff verify two).  Each job's r and *res are what kc_bundle_verify
 * gives for its path; code and msg its error, which kc_verify_job_err
 * raises again on the calling thread (kc_err is per thread) and returns
 * r.  A thread that cannot be started runs its job in the caller; a job
 * that ran out of memory beside the others is run again alone. */
struct kc_verify_job {
	const char *path;
	const struct kc_verify_opts *o;
	struct kc_verify_result *res;
	int r, code;
	char msg[1024];
};
void kc_bundle_verify_jobs(struct kc_verify_job *jobs, size_t n);
int kc_verify_job_err(const struct kc_verify_job *job);

/* ---- reading members (bundle_read.c) ---- */

/* Every reader of bundle members goes through these: the tar reader's
 * structure checks apply, nothing is written to disk, and nothing here
 * checks hashes or signatures (kc_bundle_verify does). */

/* Call fn for each member (after the structure checks of the reader);
 * stops on the first error.  fn returns 0 to go on, 1 to stop. */
typedef int (*kc_bundle_visit_fn)(void *ctx, const struct kc_tar_entry *e);
int kc_bundle_list(const char *path, kc_bundle_visit_fn fn, void *ctx);

/* Stream the member rel (relative to the top folder) to sink; KC_ERR_NOTFOUND
 * when there is no such regular member. */
typedef int (*kc_bundle_sink_fn)(void *ctx, const void *p, size_t n);
int kc_bundle_read_member(const char *path, const char *rel, kc_bundle_sink_fn sink, void *ctx);
/* The same, pinned: with pin non-NULL the rest of the file is read and
 * checked after the member, and the file's SHA-256 must equal pin (the
 * digest kc_bundle_verify read), else KC_ERR_VERIFY; the caller then
 * discards what sink received.  KC_ERR_NOTFOUND only when the pinned file
 * has no such member (checked to its end). */
int kc_bundle_read_member_pinned(const char *path, const char *rel, const char *pin, kc_bundle_sink_fn sink,
    void *ctx);
/* A kc_bundle_sink_fn that appends to the struct kc_buf ctx
 * (KC_ERR_LIMIT past its max). */
int kc_bundle_buf_sink(void *ctx, const void *p, size_t n);
/* The same into a buffer of at most max bytes (KC_ERR_LIMIT beyond). */
int kc_bundle_get_member(const char *path, const char *rel, size_t max, struct kc_buf *out);

/* Members read into memory in one pass. */
struct kc_bundle_member {
	char *path;		/* relative to the top folder */
	char *data;		/* len bytes, NUL-terminated */
	size_t len;
};

struct kc_bundle_members {
	struct kc_bundle_member *v;
	size_t n, cap;
	char top[256];		/* the top folder ("" when no entry was read) */
	int opened;		/* the file opened as a bundle (errors came later) */
	char sha256[KC_SHA256_HEX]; /* the file's SHA-256 (check_end read to the end,
				 * or expect_sha256), else "" */
	int sorted;		/* v is sorted by path */
};

/* What keep returns for an entry (folders too): read it, pass over it, or
 * stop reading there (no error, the rest of the archive is not read).  A
 * negative error code stops with that error.  STREAM (kc_bundle_read_members
 * only, with o->stream): its bytes go to the stream as they are inflated,
 * never held (the verify pass refuses it: KC_ERR_INVALID). */
enum { KC_BUNDLE_SKIP = 0, KC_BUNDLE_KEEP = 1, KC_BUNDLE_STOP = 2, KC_BUNDLE_STREAM = 3 };
typedef int (*kc_bundle_keep_fn)(void *ctx, const struct kc_tar_entry *e);

struct kc_bundle_read_opts {
	size_t member_max;	/* bytes of one member */
	size_t total_max;	/* bytes of all members kept, together */
	const char *reader;	/* names the reader in the limit error: "'<path>' is
				 * larger than <reader> reads" */
	int check_end;		/* at the end of the archive, check the container
				 * to its last byte (kc_tar_finish) */
	int sort;		/* sort the members by path (for kc_bundle_member_find) */
	const char *expect_sha256; /* non-NULL: the file must hash to this (the digest
				 * kc_bundle_verify read, kc_verify_result.sha256),
				 * else KC_ERR_VERIFY (the file changed since it was
				 * verified); the rest after a stop is hashed raw */
	/* non-NULL: called with each member once it is read whole, before the
	 * next one is read; it may replace m->data and m->len by a smaller
	 * form of what its reader needs (e.g. a snapshot page reduced to the
	 * fields of a model, rbac/source.h), so that not every member's bytes
	 * are held at once.  0 to go on, else an error that stops the read.
	 * Nothing read is usable when the read fails (pins included). */
	int (*shrink)(void *ctx, struct kc_bundle_member *m);
	void *shrink_ctx;
	/* A member keep answers KC_BUNDLE_STREAM for: stream(shrink_ctx, e,
	 * p, n) with each piece as it is inflated (the limits above count it
	 * as a member read), then stream(shrink_ctx, e, NULL, 0) once it is
	 * whole (a member shorter than its header is KC_ERR_VERIFY before
	 * that end).  It is not added to the members read.  0 to go on, else
	 * an error that stops the read (and nothing read is usable). */
	int (*stream)(void *ctx, const struct kc_tar_entry *e, const void *p, size_t n);
};

/* Read the regular members keep chooses into out (emptied first).  A
 * member shorter than its header says is KC_ERR_VERIFY; a limit,
 * KC_ERR_LIMIT.  On an error out still holds the members read completely
 * before it (kc_bundle_members_free them either way). */
int kc_bundle_read_members(const char *path, const struct kc_bundle_read_opts *o,
    kc_bundle_keep_fn keep, void *ctx, struct kc_bundle_members *out);
/* kc_bundle_verify and kc_bundle_read_members in one pass over the file:
 * every byte the reader keeps is a byte the checks hashed, and the file is
 * inflated once (diff and report read 150k-object bundles; each pass is a
 * core-second and more).  ro's expect_sha256 and check_end are not used
 * (the pass reads to the end and out->sha256 is res->sha256); keep sees
 * every entry in archive order, folders too, as kc_bundle_read_members's.
 * Nothing is kept, nor handed to the shrink, before it is known to be the
 * signed content: SHA256SUMS and its signature come first in a canonical
 * bundle and are checked as soon as they are read (an unsigned bundle is
 * read only with allow_unsigned), and each member kept must hash to its
 * SHA256SUMS line; anything else keeps nothing from there on (the bundle
 * will not verify), so a forged file cannot make a reader hold or parse
 * more than one member of it.  The SHA256SUMS family itself is never kept
 * for the reader.
 * Returns what kc_bundle_verify returns (KC_ERR_VERIFY with res saying
 * why, KC_ERR_IO); a valid bundle whose members could not be read (a
 * limit, the shrink's error, memory) returns that error with res->valid
 * set.  out holds the members only when 0 is returned (emptied else). */
int kc_bundle_verify_read(const char *path, const struct kc_verify_opts *vo, struct kc_verify_result *res,
    const struct kc_bundle_read_opts *ro, kc_bundle_keep_fn keep, void *ctx, struct kc_bundle_members *out);
/* The member rel, or NULL. */
const struct kc_bundle_member *kc_bundle_member_find(const struct kc_bundle_members *ms, const char *rel);
/* Sort ms by path (for kc_bundle_member_find); sets ms->sorted. */
void kc_bundle_members_sort(struct kc_bundle_members *ms);
void kc_bundle_members_free(struct kc_bundle_members *ms);

#endif
