#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"
#include "mem.h"

int
kc_read_file(const char *path, size_t max, struct kc_buf *out)
{
	char chunk[65536];
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
		r = kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path,
		    S_ISDIR(st.st_mode) ? "Is a directory" : strerror(errno));
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			r = kc_err_set(KC_ERR_LIMIT, "'%s' is larger than %zu bytes", path, max);
			goto out;
		}
		if ((r = kc_buf_add(out, chunk, (size_t)n)) != 0)
			goto out;
	}
out:
	close(fd);
	return r;
}

int
kc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *p = data;
	char *tmp = NULL;
	int fd = -1, r = 0;
	ssize_t n;
	struct stat st;

	/* Renaming over a device or FIFO would replace it with a file (as
	 * root, /dev/null itself): only regular files are replaced. */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return kc_err_set(KC_ERR_INVALID, "'%s' exists and is not a regular file; not replacing it", path);
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) < 0) {
		r = kc_err_set(KC_ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = kc_err_set(KC_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	if (r != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	return r;
}

int
kc_mkdir_p(const char *dir, mode_t mode)
{
	char *p, *s;
	int r = 0;

	if ((s = kc_strdup(dir)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (p = s + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(s, mode) != 0 && errno != EEXIST) {
				r = kc_err_set(KC_ERR_IO, "cannot create folder '%s': %s", s, strerror(errno));
				break;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	free(s);
	return r;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

int
kc_rm_rf(const char *dir)
{
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
		return kc_err_set(KC_ERR_IO, "cannot remove '%s': %s", dir, strerror(errno));
	return 0;
}

char *
kc_path_join(const char *dir, const char *rel)
{
	char *p;

	size_t n;

	if (rel[0] == '/' || dir == NULL || dir[0] == '\0')
		return kc_strdup(rel);
	n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		n--;	/* "/" becomes "", so the result is "/rel" */
	if (asprintf(&p, "%.*s/%s", (int)n, dir, rel) < 0)
		return NULL;
	return p;
}

char *
kc_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return kc_strdup(".");
	if (slash == path)
		return kc_strdup("/");
	return kc_strndup(path, (size_t)(slash - path));
}
