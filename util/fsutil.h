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
 * (O_EXCL, mode), fsync, rename.  Never follows a symlink at path. */
int kc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

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
