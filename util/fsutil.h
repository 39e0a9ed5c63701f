/* fsutil.h - file helpers with stated limits and atomic replacement. */
#ifndef KC_FSUTIL_H
#define KC_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* Read a whole regular file of at most max bytes into out (appends).
 * KC_ERR_IO with "cannot read 'path': strerror" on failure, KC_ERR_LIMIT
 * when larger than max. */
int kc_read_file(const char *path, size_t max, struct kc_buf *out);

/* Write data to path atomically: a temporary file in the same folder
 * (PATH.tmp.PID, O_EXCL, mode), fsync, rename.  Never follows a symlink at
 * path; refuses to replace anything but a regular file.  The one atomic
 * writer: kc_atomic_* below is the same for a file written in pieces. */
int kc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* A file written in pieces and then put in place atomically:
 *   kc_atomic_open -> write to f.fd (kc_write_all) -> kc_atomic_commit,
 * and kc_atomic_abort on every path (a no-op after a commit).  The
 * temporary file is created beside path with O_EXCL|O_NOFOLLOW, named
 * PATH.tmp.PID (tmpl NULL) or, from a mkstemp template such as
 * ".kcustody-seal.XXXXXX", in path's folder; its mode is mode less the
 * umask. */
struct kc_atomic {
	int fd;			/* write here; -1 when not open */
	char *tmp;		/* the temporary file's name (owned) */
	char *path;		/* the final name (owned) */
};
#define KC_ATOMIC_INIT { -1, NULL, NULL }
#define KC_ATOMIC_NOREPLACE	1	/* fail (EEXIST) rather than replace path */
#define KC_ATOMIC_SYNC_DIR	2	/* fsync the folder after the rename */
int kc_atomic_open(struct kc_atomic *f, const char *path, const char *tmpl, mode_t mode);
/* fsync, close, rename to path (flags KC_ATOMIC_*).  On error the
 * temporary file is removed. */
int kc_atomic_commit(struct kc_atomic *f, int flags);
/* Close and remove the temporary file (when not committed), free names. */
void kc_atomic_abort(struct kc_atomic *f);
/* Write all of data to fd (EINTR retried); name is for the message. */
int kc_write_all(int fd, const void *data, size_t len, const char *name);

/* Create dir and its parents with mode (existing folders are fine). */
int kc_mkdir_p(const char *dir, mode_t mode);

/* Remove a folder tree (used for our own staging folders only). */
int kc_rm_rf(const char *dir);

/* Join a folder and a relative path into a newly allocated string; an
 * absolute rel is returned as is.  NULL on allocation failure. */
char *kc_path_join(const char *dir, const char *rel);

/* Folder part of path, newly allocated ("." when there is none). */
char *kc_dirname(const char *path);

#endif
