/* source.h - where the analysis commands read evidence from: an unsealed
 * staging/evidence folder, or a sealed bundle (tar.gz, read in one pass
 * by the bundle-member reader of manifest/bundle.h, with its safety
 * checks; nothing is written to disk).
 * Only the members the RBAC commands use are kept: raw/ (the snapshot),
 * reviews/ and analysis/can-i/.  Verify the bundle first (kcustody verify)
 * when its integrity matters; this reader does not check signatures. */
#ifndef KC_RBAC_SOURCE_H
#define KC_RBAC_SOURCE_H

#include <stddef.h>

#include "collector/snapshot.h"
#include "manifest/bundle.h"
#include "util/buf.h"

struct kc_source {
	char *dir;			/* a folder, or NULL for a bundle */
	struct kc_bundle_members m;	/* a bundle's kept members, sorted */
	int level;			/* kc_source_snapshot's KC_SNAP_* level
					 * (collector/snapshot.h); 0 after open: full */
	struct kc_snap_filter filter;	/* kc_source_open_filter's, or none */
	struct kc_jarena *scratch;	/* the pages are parsed into while read */
};

/* Open path (folder or bundle). */
int kc_source_open(const char *path, struct kc_source *src);
/* The same, keeping the bundle members for which keep(ctx, path) returns
 * non-zero (it sees every regular member's path, in archive order); keep
 * NULL keeps what kc_source_open keeps. */
typedef int (*kc_source_keep_fn)(void *ctx, const char *path);
int kc_source_open_keep(const char *path, kc_source_keep_fn keep, void *ctx, struct kc_source *src);
/* The same, pinned to what was verified: a bundle must hash (as read, to
 * its last byte) to pin, the digest kc_bundle_verify read
 * (kc_verify_result.sha256), or the open fails with KC_ERR_VERIFY; so a
 * file swapped or rewritten between verify and this read is refused.
 * pin NULL: not pinned.  src->m.sha256 holds the digest read either way. */
int kc_source_open_pinned(const char *path, kc_source_keep_fn keep, void *ctx, const char *pin,
    struct kc_source *src);
/* kc_source_open_pinned for a snapshot at level (KC_SNAP_*,
 * collector/snapshot.h; src->level is set to it): a bundle's raw pages are
 * reduced as they are read (kc_snapshot_reduce_page), so the whole pages
 * of the resources the level reduces are never held together; the pin is
 * checked as before and nothing is taken from a bundle that fails it. */
int kc_source_open_level(const char *path, kc_source_keep_fn keep, void *ctx, const char *pin, int level,
    struct kc_source *src);
/* The same, and of a bundle's pod pages only the pods whose account
 * want(want_ctx, namespace, account) accepts (kc_snapshot_reduce_page_want;
 * it is called while the bundle is read, so it may look at the members
 * read before the pods, src->m in archive order, not yet sorted).  A
 * folder's pods are all kept. */
int kc_source_open_want(const char *path, kc_source_keep_fn keep, void *ctx, const char *pin, int level,
    kc_snap_want_fn want, void *want_ctx, struct kc_source *src);
/* The same with a whole filter (kc_snapshot_reduce_page_filter: pods and
 * POST's managedFields); f NULL filters nothing. */
int kc_source_open_filter(const char *path, kc_source_keep_fn keep, void *ctx, const char *pin, int level,
    const struct kc_snap_filter *f, struct kc_source *src);
/* kc_source_open_filter of a bundle verified in the same pass
 * (kc_bundle_verify_read): what is kept is what the checks hashed, and the
 * file is inflated once.  Returns what kc_bundle_verify_read returns:
 * KC_ERR_VERIFY (res says why) and nothing kept; a valid bundle whose
 * members could not be read, that error (res->valid set).  A folder is
 * not a bundle: it fails as kc_bundle_verify fails it. */
int kc_source_open_verified(const char *path, const struct kc_verify_opts *vo, struct kc_verify_result *res,
    kc_source_keep_fn keep, void *ctx, int level, const struct kc_snap_filter *f, struct kc_source *src);
void kc_source_close(struct kc_source *src);
/* Drop a bundle's kept members whose path starts with prefix (their bytes
 * are no longer needed, e.g. raw/ once the snapshot is built); a folder
 * source has none. */
void kc_source_forget(struct kc_source *src, const char *prefix);

/* Load the snapshot from it. */
int kc_source_snapshot(struct kc_source *src, struct kc_snapshot *snap);

/* Read one member (relative path) into out; KC_ERR_NOTFOUND when absent. */
int kc_source_get(struct kc_source *src, const char *rel, size_t max, struct kc_buf *out);
/* One member (at most 256 MiB) parsed as JSON; NULL when it is absent, too
 * large or not JSON.  The caller deletes it. */
cJSON *kc_source_get_json(struct kc_source *src, const char *rel);

#endif
