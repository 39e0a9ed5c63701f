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
kc_write_all(int fd, const void *data, size_t len, const char *name)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kc_err_set(KC_ERR_IO, "cannot write '%s': %s", name, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
kc_atomic_open(struct kc_atomic *f, const char *path, const char *tmpl, mode_t mode)
{
	char *dir = NULL;
	mode_t mask;
	int r = 0;

	f->fd = -1;
	f->tmp = NULL;
	if ((f->path = kc_strdup(path)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (tmpl == NULL) {
		if (asprintf(&f->tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
			f->tmp = NULL;
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		}
		f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (f->fd < 0) {
			r = kc_err_set(KC_ERR_IO, "cannot create '%s': %s", f->tmp, strerror(errno));
			free(f->tmp);
			f->tmp = NULL;
		}
		return r;
	}
	if ((dir = kc_dirname(path)) == NULL || asprintf(&f->tmp, "%s/%s", dir, tmpl) < 0) {
		f->tmp = NULL;
		free(dir);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	/* mkostemp: O_CREAT|O_EXCL, mode 0600; then mode less the umask. */
	if ((f->fd = mkostemp(f->tmp, O_CLOEXEC)) < 0) {
		r = kc_err_set(KC_ERR_IO, "cannot create a file in '%s': %s", dir, strerror(errno));
		free(f->tmp);
		f->tmp = NULL;
		goto out;
	}
	mask = umask(077);
	umask(mask);
	if (fchmod(f->fd, mode & ~mask) != 0)
		r = kc_err_set(KC_ERR_IO, "cannot chmod '%s': %s", f->tmp, strerror(errno));
out:
	free(dir);
	return r;
}

/* rename(2) that never replaces to. */
static int
rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* File systems without RENAME_NOREPLACE: link refuses to replace too. */
	if (link(from, to) != 0)
		return -1;
	unlink(from);
	return 0;
}

int
kc_atomic_commit(struct kc_atomic *f, int flags)
{
	char *dir;
	int dfd, r = 0, fd = f->fd;

	f->fd = -1;
	if (fsync(fd) != 0 || close(fd) != 0) {
		r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", f->tmp, strerror(errno));
		goto out;
	}
	if (((flags & KC_ATOMIC_NOREPLACE) ? rename_noreplace(f->tmp, f->path) :
	    rename(f->tmp, f->path)) != 0) {
		r = kc_err_set(KC_ERR_IO, "cannot rename '%s' to '%s': %s", f->tmp, f->path,
		    strerror(errno));
		goto out;
	}
	free(f->tmp);
	f->tmp = NULL;	/* committed: nothing to remove */
	if ((flags & KC_ATOMIC_SYNC_DIR) && (dir = kc_dirname(f->path)) != NULL) {
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(dir);
	}
out:
	if (r != 0)
		kc_atomic_abort(f);
	return r;
}

void
kc_atomic_abort(struct kc_atomic *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp != NULL)
		unlink(f->tmp);
	free(f->tmp);
	free(f->path);
	f->tmp = f->path = NULL;
}

int
kc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	struct kc_atomic f = KC_ATOMIC_INIT;
	struct stat st;
	int r;

	/* Renaming over a device or FIFO would replace it with a file (as
	 * root, /dev/null itself): only regular files are replaced. */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return kc_err_set(KC_ERR_INVALID, "'%s' exists and is not a regular file; not replacing it", path);
	if ((r = kc_atomic_open(&f, path, NULL, mode)) == 0 &&
	    (r = kc_write_all(f.fd, data, len, f.tmp)) == 0)
		r = kc_atomic_commit(&f, 0);
	kc_atomic_abort(&f);
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
