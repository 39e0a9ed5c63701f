/* tarball.h - the deterministic tar.gz of bundle format v1: writing it and
 * reading it back safely (docs/FORMAT.md, "Container").
 *
 * Writer: every file of a staging folder under one top folder, entries
 * sorted bytewise by archive path (folders as "name/"), pax-restricted
 * (ustar headers, pax records only where ustar cannot say it), uid/gid 0,
 * uname/gname "root", files 0444, folders 0555, one mtime, gzip with no
 * name and no timestamp.  Same inputs, same bytes.
 *
 * Reader: streams a bundle without writing anything to disk and rejects,
 * before reading member data, anything a v1 bundle never contains:
 * absolute or ".." paths, links, devices, FIFOs, sparse members, duplicate
 * or unsorted members, members outside the single top folder, sizes over
 * the caps.  It also checks the gzip container that libarchive leaves
 * unchecked (header, CRC-32 and length of the trailer, nothing after the
 * tar end but zeros) so that no byte of the file can change unnoticed.
 */
#ifndef KC_TARBALL_H
#define KC_TARBALL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "manifest/digest.h"
#include "util/sha256.h"

#define KC_TAR_DEFAULT_LEVEL 6
#define KC_TAR_MAX_MEMBER (4ULL << 30)		/* 4 GiB per member */
#define KC_TAR_MAX_TOTAL (64ULL << 30)		/* 64 GiB decompressed */
#define KC_TAR_MAX_MEMBERS 1000000
#define KC_TAR_MAX_RATIO 200			/* decompressed/compressed ... */
#define KC_TAR_RATIO_AFTER (64ULL << 20)	/* ... once past 64 MiB */

/* Write files (paths relative to dir, each with its expected size and
 * SHA-256) as top/<path> into a new tar.gz at out_path: a temporary file
 * beside it (O_EXCL, 0600 less the umask), fsync, then renamed into place
 * without replacing an existing file.  The bytes are hashed again while
 * they are archived; a file that changed since it was hashed fails the
 * write (KC_ERR_VERIFY) and nothing is left behind.  level 1-9. */
int kc_tar_write(const char *dir, const struct kc_digest_list *files, const char *top,
    time_t mtime, int level, const char *out_path);

struct kc_tar_limits {
	uint64_t max_member;	/* 0: KC_TAR_MAX_MEMBER */
	uint64_t max_total;	/* 0: KC_TAR_MAX_TOTAL */
	size_t max_members;	/* 0: KC_TAR_MAX_MEMBERS */
};

struct kc_tar_entry {
	const char *top;	/* the top folder's name */
	const char *path;	/* relative to top; "" for the top folder itself */
	int is_dir;
	uint64_t size;
	time_t mtime;		/* the one mtime of every member */
};

struct kc_tar_reader;

/* Open a bundle for reading; checks the gzip header.  KC_ERR_IO when the
 * file cannot be read, KC_ERR_VERIFY when it is not a v1 container. */
int kc_tar_open(const char *path, const struct kc_tar_limits *lim, struct kc_tar_reader **out);
/* Next member: 1 with *e filled (valid until the next call), 0 at the end
 * of the archive, or a negative error: KC_ERR_VERIFY for a structure
 * violation or damaged archive, KC_ERR_LIMIT for a cap.  Unread data of
 * the previous member is skipped (still counted and checked). */
int kc_tar_next(struct kc_tar_reader *r, struct kc_tar_entry *e);
/* Read member data: bytes read, 0 at its end, or a negative error. */
long kc_tar_read(struct kc_tar_reader *r, void *buf, size_t n);
/* After kc_tar_next returned 0: read the rest of the stream and check the
 * container (only zeros after the tar end, gzip CRC-32 and length). */
int kc_tar_finish(struct kc_tar_reader *r);
/* The SHA-256 of the whole file, as this reader read it: the bytes read
 * so far and then the rest, read raw (not inflated) through the same open
 * file; once per reader, after which it cannot be read on.  Callers that
 * read a bundle more than once (verify, then load) compare these digests,
 * so what was verified is what was read: a file swapped or rewritten in
 * between is refused, at the cost of reading the compressed rest. */
int kc_tar_sha256(struct kc_tar_reader *r, char hex[KC_SHA256_HEX]);
/* Decompressed and compressed bytes read so far. */
void kc_tar_counts(const struct kc_tar_reader *r, uint64_t *out_bytes, uint64_t *in_bytes);
void kc_tar_close(struct kc_tar_reader *r);

#endif
