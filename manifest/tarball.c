/* tarball.c - deterministic tar.gz writer and hostile-input-safe reader. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "manifest/tarball.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha256.h"

#define CHUNK (256u << 10)

/* ------------------------------------------------------------------ */
/* writer                                                               */

struct wentry {
	char *name;	/* archive path, folders end in '/' */
	long file;	/* index into the file list, -1 for a folder */
};

static int
cmp_wentry(const void *a, const void *b)
{
	return strcmp(((const struct wentry *)a)->name, ((const struct wentry *)b)->name);
}

static int
add_wentry(struct wentry **v, size_t *n, size_t *cap, char *name, long file)
{
	if (name == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (KC_GROW(*v, *cap, *n + 1) != 0) {
		free(name);
		return KC_ERR_NOMEM;
	}
	(*v)[*n].name = name;
	(*v)[*n].file = file;
	(*n)++;
	return 0;
}

/* Every folder ("top/", "top/a/", ...) and file, sorted, folders once. */
static int
build_entries(const struct kc_digest_list *files, const char *top, struct wentry **out, size_t *nout)
{
	struct wentry *v = NULL;
	size_t n = 0, cap = 0, w;
	char *s;
	int r;

	if (asprintf(&s, "%s/", top) < 0)
		s = NULL;
	if ((r = add_wentry(&v, &n, &cap, s, -1)) != 0)
		goto out;
	for (size_t i = 0; i < files->n; i++) {
		const char *p = files->v[i].path, *slash;

		for (slash = strchr(p, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
			if (asprintf(&s, "%s/%.*s", top, (int)(slash - p + 1), p) < 0)
				s = NULL;
			if ((r = add_wentry(&v, &n, &cap, s, -1)) != 0)
				goto out;
		}
		if (asprintf(&s, "%s/%s", top, p) < 0)
			s = NULL;
		if ((r = add_wentry(&v, &n, &cap, s, (long)i)) != 0)
			goto out;
	}
	qsort(v, n, sizeof(v[0]), cmp_wentry);
	for (size_t i = w = 0; i < n; i++) {
		if (w > 0 && strcmp(v[w - 1].name, v[i].name) == 0) {
			if (v[i].file >= 0 || v[w - 1].file >= 0) {
				r = kc_err_set(KC_ERR_INVALID, "'%s' is both a file and a folder", v[i].name);
				for (size_t j = i; j < n; j++)
					free(v[j].name);
				n = w;
				goto out;
			}
			free(v[i].name);
			continue;
		}
		v[w++] = v[i];
	}
	n = w;
out:
	if (r != 0) {
		for (size_t i = 0; i < n; i++)
			free(v[i].name);
		free(v);
		return r;
	}
	*out = v;
	*nout = n;
	return 0;
}

/* libarchive's message for a failed write is only "Write error"; add the
 * errno it kept (ENOSPC, EIO ...) so that the operator sees the cause. */
static const char *
ar_err(struct archive *a, char *buf, size_t n)
{
	const char *s = archive_error_string(a);
	int e = archive_errno(a);

	if (s == NULL)
		s = "unknown error";
	if (e > 0 && strstr(s, strerror(e)) == NULL) {
		kc_fmt_trunc(buf, n, "%s: %s", s, strerror(e));
		return buf;
	}
	return s;
}

static int
write_member_data(struct archive *a, const char *dir, const struct kc_digest *d, unsigned char *buf)
{
	struct kc_sha256 *h = NULL;
	char *path = NULL, hex[KC_SHA256_HEX];
	uint64_t total = 0;
	int fd = -1, r = 0;
	ssize_t n;
	char eb[256];

	if ((path = kc_path_join(dir, d->path)) == NULL || (h = kc_sha256_new()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		if ((n = read(fd, buf, CHUNK)) < 0) {
			if (errno == EINTR)
				continue;
			r = kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > d->size) {
			r = kc_err_set(KC_ERR_VERIFY, "'%s' grew while it was sealed", path);
			goto out;
		}
		if ((r = kc_sha256_update(h, buf, (size_t)n)) != 0)
			goto out;
		if (archive_write_data(a, buf, (size_t)n) != n) {
			r = kc_err_set(KC_ERR_IO, "cannot write archive: %s", ar_err(a, eb, sizeof(eb)));
			goto out;
		}
	}
	if ((r = kc_sha256_final(h, NULL, hex)) != 0)
		goto out;
	if (total != d->size || !kc_digest_eq(hex, d->hex))
		r = kc_err_set(KC_ERR_VERIFY, "'%s' changed while it was sealed", path);
out:
	if (fd >= 0)
		close(fd);
	kc_sha256_free(h);
	free(path);
	return r;
}

static int
write_archive(int fd, const char *dir, const struct kc_digest_list *files,
    const struct wentry *v, size_t n, time_t mtime, int level)
{
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	unsigned char *buf = NULL;
	char lv[4], eb[256];
	int r = 0;

	if ((a = archive_write_new()) == NULL || (e = archive_entry_new()) == NULL ||
	    (buf = malloc(CHUNK)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kc_fmt(lv, sizeof(lv), "%d", level)) != 0)
		goto out;
	/* "timestamp" unset: gzip MTIME 0; libarchive writes no file name. */
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "gzip", "compression-level", lv) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		r = kc_err_set(KC_ERR_IO, "cannot start archive: %s", archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct kc_digest *d = v[i].file >= 0 ? &files->v[v[i].file] : NULL;

		archive_entry_clear(e);
		archive_entry_set_pathname(e, v[i].name);
		archive_entry_set_filetype(e, d ? AE_IFREG : AE_IFDIR);
		archive_entry_set_perm(e, d ? 0444 : 0555);
		archive_entry_set_size(e, d ? (la_int64_t)d->size : 0);
		archive_entry_set_mtime(e, mtime, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		archive_entry_set_uname(e, "root");
		archive_entry_set_gname(e, "root");
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			r = kc_err_set(KC_ERR_IO, "cannot write archive header for '%s': %s",
			    v[i].name, ar_err(a, eb, sizeof(eb)));
			goto out;
		}
		if (d != NULL && (r = write_member_data(a, dir, d, buf)) != 0)
			goto out;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		r = kc_err_set(KC_ERR_IO, "cannot finish archive: %s", ar_err(a, eb, sizeof(eb)));
		goto out;
	}
out:
	free(buf);
	archive_entry_free(e);
	if (a != NULL)
		archive_write_free(a);
	return r;
}

int
kc_tar_write(const char *dir, const struct kc_digest_list *files, const char *top,
    time_t mtime, int level, const char *out_path)
{
	struct kc_atomic f = KC_ATOMIC_INIT;
	struct wentry *v = NULL;
	size_t n = 0;
	int r;

	if (level < 1 || level > 9)
		return kc_err_set(KC_ERR_INVALID, "gzip level %d is not 1-9", level);
	if ((r = build_entries(files, top, &v, &n)) != 0)
		return r;
	if (access(out_path, F_OK) == 0) {
		r = kc_err_set(KC_ERR_INVALID, "'%s' already exists", out_path);
		goto out;
	}
	/* 0600 less the umask; never replaces a bundle that appeared meanwhile. */
	if ((r = kc_atomic_open(&f, out_path, ".kcustody-seal.XXXXXX", 0600)) != 0)
		goto out;
	if ((r = write_archive(f.fd, dir, files, v, n, mtime, level)) != 0)
		goto out;
	r = kc_atomic_commit(&f, KC_ATOMIC_NOREPLACE | KC_ATOMIC_SYNC_DIR);
out:
	kc_atomic_abort(&f);
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	return r;
}
/* ------------------------------------------------------------------ */
/* reader
 *
 * Three layers.  zlib inflates the one gzip member itself (it checks the
 * trailer's CRC-32 and length; libarchive 3.6 does not), and the file must
 * end where that member ends.  libarchive's tar reader parses the
 * decompressed stream.  And every decompressed byte also passes through a
 * comparator that holds it against the stream seal would have written for
 * the members libarchive reported: each header must be byte for byte the
 * header libarchive's own pax-restricted writer emits for that name, size
 * and the canonical fields, data padding must be zeros and the stream must
 * end with exactly two zero blocks.  So a pax global header, a Solaris ACL
 * header, a GNU long name, an extra pax key or trailing bytes -- anything
 * one tar implementation may read differently from another -- is refused
 * (docs/FORMAT.md section 8). */

#define CANON_PEND_MAX (4u << 20)	/* read-ahead of the tar parser over one header */

struct kc_tar_reader {
	int fd;
	char *path;			/* as opened: named in the debug log's pass count */
	z_stream z;
	int z_init, z_end;		/* inflateInit2 done; the member's end reached */
	struct archive *tar;		/* tar over the decompressed bytes */
	struct kc_tar_limits lim;
	uint64_t file_size, in_bytes, out_bytes, declared;
	struct kc_sha256 *fh;		/* SHA-256 of the file's bytes as read */
	int hashed;			/* kc_tar_sha256 done */
	int ended;
	size_t members;
	time_t mtime;
	char *top, *prev, *name;
	char **dirs;			/* open folders (canonical names with '/') */
	size_t ndirs, dirs_cap;
	int last_dir_open;		/* the previous member was a folder: next must be inside */
	/* canonical comparator */
	struct kc_buf pend;		/* decompressed bytes not yet classified */
	struct kc_buf hdr;		/* the expected header bytes of the current member */
	size_t hdr_off;
	uint64_t skip, zeros;		/* data then zero padding still expected */
	uint64_t pos;			/* stream offset of the next byte to classify */
	int at_end, canon_failed;
	int finished;			/* kc_tar_finish found the file's end */
	char canon_err[320];
	int feed_rc;			/* why the last feed failed */
	char feed_err[320];
	unsigned char in[CHUNK];
	unsigned char buf[CHUNK];
};

static int canon_consume(struct kc_tar_reader *r, const unsigned char *p, size_t n);

static int
canon_fail(struct kc_tar_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
canon_fail(struct kc_tar_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->canon_failed) {
		va_start(ap, fmt);
		kc_vfmt_trunc(r->canon_err, sizeof(r->canon_err), fmt, ap);
		va_end(ap);
		r->canon_failed = 1;
	}
	return kc_err_set(KC_ERR_VERIFY, "not a canonical v1 container: %s", r->canon_err);
}

/* Classify bytes against the expected header, data and padding. */
static int
canon_consume(struct kc_tar_reader *r, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t k;

		if (r->canon_failed)
			return canon_fail(r, "%s", r->canon_err);
		if (r->hdr_off < r->hdr.len) {
			k = r->hdr.len - r->hdr_off < n ? r->hdr.len - r->hdr_off : n;
			if (memcmp(p, r->hdr.data + r->hdr_off, k) != 0) {
				size_t at = 0;

				while (p[at] == (unsigned char)r->hdr.data[r->hdr_off + at])
					at++;
				return canon_fail(r, "header bytes at stream offset %llu differ from the header "
				    "seal writes for member %zu", (unsigned long long)(r->pos + at), r->members);
			}
			r->hdr_off += k;
		} else if (r->skip > 0) {
			k = r->skip < n ? (size_t)r->skip : n;
			r->skip -= k;
		} else if (r->zeros > 0) {
			k = r->zeros < n ? (size_t)r->zeros : n;
			for (size_t i = 0; i < k; i++)
				if (p[i] != 0)
					return canon_fail(r, "non-zero byte at stream offset %llu where seal writes "
					    "%s", (unsigned long long)(r->pos + i),
					    r->at_end ? "the end marker" : "padding");
			r->zeros -= k;
		} else if (r->at_end) {
			return canon_fail(r, "data after the tar end marker (stream offset %llu)",
			    (unsigned long long)r->pos);
		} else {
			if (r->pend.len + n > CANON_PEND_MAX)
				return canon_fail(r, "more than %u bytes of header data before member %zu",
				    CANON_PEND_MAX, r->members + 1);
			if (kc_buf_add(&r->pend, p, n) != 0)
				return kc_err_set(KC_ERR_NOMEM, "out of memory");
			return 0;
		}
		r->pos += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* Re-run the bytes that arrived before the expectation was known. */
static int
canon_replay(struct kc_tar_reader *r)
{
	size_t n = r->pend.len;
	char *p = kc_buf_take(&r->pend, NULL);
	int rc;

	kc_buf_init(&r->pend, CANON_PEND_MAX);
	rc = canon_consume(r, (const unsigned char *)p, n);
	free(p);
	return rc;
}

struct capture {
	struct kc_buf *out;
	int closed;	/* refuse everything after the header */
};

static la_ssize_t
capture_write(struct archive *a, void *ctx, const void *p, size_t n)
{
	struct capture *c = ctx;

	if (c->closed || kc_buf_add(c->out, p, n) != 0) {
		archive_set_error(a, ENOSPC, "header captured");
		return -1;
	}
	return (la_ssize_t)n;
}

/* The header bytes (pax extended header where needed, then ustar) that
 * write_archive() emits for this member: libarchive's writer, the same
 * settings, no blocking, stopped before any data. */
static int
canon_header(const char *name, int is_dir, uint64_t size, time_t mtime, struct kc_buf *out)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct capture c = { out, 0 };
	int r = 0;

	kc_buf_reset(out);
	if (a == NULL || e == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, is_dir ? 0555 : 0444);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_open(a, &c, NULL, capture_write, NULL) != ARCHIVE_OK ||
	    archive_write_header(a, e) != ARCHIVE_OK) {
		r = kc_err_set(KC_ERR_VERIFY, "cannot form the canonical header of '%s': %s", name,
		    archive_error_string(a) ? archive_error_string(a) : "unknown error");
		goto out;
	}
	if (out->len == 0 || out->len % 512 != 0)
		r = kc_err_set(KC_ERR_VERIFY, "canonical header of '%s' is %zu bytes", name, out->len);
out:
	c.closed = 1;	/* the close pads the unwritten data: not wanted */
	if (a != NULL)
		archive_write_free(a);
	archive_entry_free(e);
	return r;
}

/* One more member: what must follow in the stream. */
static int
canon_member(struct kc_tar_reader *r, const char *name, int is_dir, uint64_t size)
{
	int rc;

	if (r->hdr_off < r->hdr.len || r->skip > 0 || r->zeros > 0)
		return canon_fail(r, "member %zu begins inside the previous one", r->members);
	if ((rc = canon_header(name, is_dir, size, r->mtime, &r->hdr)) != 0)
		return rc;
	r->hdr_off = 0;
	r->skip = size;
	r->zeros = (512 - size % 512) % 512;
	return canon_replay(r);
}

/* Inflate the next decompressed bytes into r->buf: bytes, 0 at the end of
 * the gzip member, or a negative error (kc_err set). */
static long
inflate_some(struct kc_tar_reader *r)
{
	for (;;) {
		int zr;
		size_t n;

		if (r->z_end)
			return 0;
		if (r->hashed)
			return kc_err_set(KC_ERR_INVALID, "a bundle reader read after kc_tar_sha256");
		if (r->z.avail_in == 0) {
			ssize_t got = read(r->fd, r->in, sizeof(r->in));

			if (got < 0) {
				if (errno == EINTR)
					continue;
				return kc_err_set(KC_ERR_IO, "cannot read the bundle: %s", strerror(errno));
			}
			if (got == 0)
				return kc_err_set(KC_ERR_VERIFY, "damaged archive (gzip): truncated, the file ends "
				    "inside the compressed data");
			r->in_bytes += (uint64_t)got;
			if (kc_sha256_update(r->fh, r->in, (size_t)got) != 0)
				return kc_err_set(KC_ERR_NOMEM, "cannot hash the bundle");
			r->z.next_in = r->in;
			r->z.avail_in = (uInt)got;
		}
		r->z.next_out = r->buf;
		r->z.avail_out = sizeof(r->buf);
		zr = inflate(&r->z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			return kc_err_set(KC_ERR_VERIFY, "damaged archive (gzip): %s",
			    r->z.msg ? r->z.msg : "inflate failed");
		n = sizeof(r->buf) - r->z.avail_out;
		if (zr == Z_STREAM_END) {
			/* Exactly one member, and the file ends with its trailer. */
			r->z_end = 1;
			if (r->in_bytes > r->file_size)
				return kc_err_set(KC_ERR_VERIFY, "data after the gzip member: the file "
				    "grew while it was read");
			if (r->z.avail_in != 0 || r->in_bytes != r->file_size)
				return kc_err_set(KC_ERR_VERIFY, "data after the gzip member (%llu bytes): a v1 "
				    "bundle is exactly one gzip member",
				    (unsigned long long)(r->file_size - (r->in_bytes - r->z.avail_in)));
		}
		if (n > 0 || r->z_end) {
			r->out_bytes += n;
			if (r->out_bytes > r->lim.max_total) {
				return kc_err_set(KC_ERR_LIMIT, "decompressed data exceeds %llu bytes",
				    (unsigned long long)r->lim.max_total);
			}
			if (r->out_bytes > KC_TAR_RATIO_AFTER && r->z.total_in > 0 &&
			    r->out_bytes / r->z.total_in > KC_TAR_MAX_RATIO) {
				return kc_err_set(KC_ERR_LIMIT, "compression ratio over %d:1 after %llu bytes "
				    "(a decompression bomb?)", KC_TAR_MAX_RATIO, (unsigned long long)r->out_bytes);
			}
			if (n > 0) {
				int rc = canon_consume(r, r->buf, n);

				if (rc != 0)
					return rc;
			}
			return (long)n;
		}
	}
}

static la_ssize_t
feed(struct archive *a, void *ctx, const void **out)
{
	struct kc_tar_reader *r = ctx;
	long n = inflate_some(r);

	if (n < 0) {
		/* Keep the reason: libarchive only reports that the read failed. */
		r->feed_rc = (int)n;
		kc_fmt_trunc(r->feed_err, sizeof(r->feed_err), "%s", kc_err_msg());
		archive_set_error(a, EIO, "%s", r->feed_err);
		return -1;
	}
	*out = r->buf;
	return n;
}

int
kc_tar_open(const char *path, const struct kc_tar_limits *lim, struct kc_tar_reader **out)
{
	static const unsigned char hdr[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0 };
	struct kc_tar_reader *r;
	unsigned char h[10];
	struct stat st;
	int rc = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r->fd = -1;
	if ((r->path = kc_strdup(path)) == NULL) {
		free(r);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	kc_buf_init(&r->pend, CANON_PEND_MAX);
	kc_buf_init(&r->hdr, 64u << 10);
	r->lim.max_member = lim && lim->max_member ? lim->max_member : KC_TAR_MAX_MEMBER;
	r->lim.max_total = lim && lim->max_total ? lim->max_total : KC_TAR_MAX_TOTAL;
	r->lim.max_members = lim && lim->max_members ? lim->max_members : KC_TAR_MAX_MEMBERS;
	if ((r->fh = kc_sha256_new()) == NULL) {
		rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(r->fd, &st) != 0) {
		rc = kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = kc_err_set(KC_ERR_IO, "cannot read '%s': not a regular file", path);
		goto out;
	}
	r->file_size = (uint64_t)st.st_size;
	/* v1 writes exactly this header: no flags, MTIME 0, OS Unix.  It is
	 * checked in the bytes that are hashed and inflated (read once, kept as
	 * inflate's first input), not in a separate pread: a file rewritten
	 * between the two reads would have its header checked in one version
	 * and its contents hashed in another. */
	while (r->in_bytes < sizeof(h)) {
		ssize_t got = read(r->fd, r->in + r->in_bytes, sizeof(r->in) - r->in_bytes);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		r->in_bytes += (uint64_t)got;
	}
	if (r->in_bytes > 0 && kc_sha256_update(r->fh, r->in, (size_t)r->in_bytes) != 0) {
		rc = kc_err_set(KC_ERR_NOMEM, "cannot hash the bundle");
		goto out;
	}
	memcpy(h, r->in, r->in_bytes < sizeof(h) ? (size_t)r->in_bytes : sizeof(h));
	if (r->in_bytes < sizeof(h) || r->file_size < 18 ||
	    memcmp(h, hdr, sizeof(hdr)) != 0 || (h[8] != 0 && h[8] != 2 && h[8] != 4) || h[9] != 3) {
		rc = kc_err_set(KC_ERR_VERIFY, "not a v1 bundle: gzip header is not the canonical one");
		goto out;
	}
	/* 15 + 16: gzip wrapper only; zlib checks the trailer's CRC-32 and length. */
	if (inflateInit2(&r->z, 15 + 16) != Z_OK) {
		rc = kc_err_set(KC_ERR_NOMEM, "cannot start inflate");
		goto out;
	}
	r->z_init = 1;
	r->z.next_in = r->in;
	r->z.avail_in = (uInt)r->in_bytes;
	if ((r->tar = archive_read_new()) == NULL) {
		rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (archive_read_support_format_tar(r->tar) != ARCHIVE_OK ||
	    archive_read_open(r->tar, r, NULL, feed, NULL) != ARCHIVE_OK) {
		rc = r->feed_rc ? kc_err_set(r->feed_rc, "%s", r->feed_err) :
		    kc_err_set(KC_ERR_VERIFY, "not a tar archive: %s", archive_error_string(r->tar));
		goto out;
	}
out:
	if (rc != 0) {
		kc_tar_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int
tar_fail(struct kc_tar_reader *r, const char *what)
{
	const char *s = archive_error_string(r->tar);

	if (r->feed_rc != 0)
		return kc_err_set(r->feed_rc, "%s", r->feed_err);
	return kc_err_set(KC_ERR_VERIFY, "damaged archive (%s): %s", what, s ? s : "unknown error");
}

static int
bad_member(const char *name, const char *why)
{
	char safe[256];

	return kc_err_set(KC_ERR_VERIFY, "member '%s': %s", kc_safe_str(name, safe, sizeof(safe)), why);
}

/* Folders: every folder on the way to a member is a member itself, and
 * no folder is empty (seal writes exactly the folders that hold files).
 * In sorted order a folder's contents follow it at once, so the stack of
 * open folders is all that is needed.  key is the canonical name. */
static int
check_folders(struct kc_tar_reader *r, const char *key, int is_dir, const char *shown)
{
	size_t kl = strlen(key), pl;
	const char *slash;

	if (r->last_dir_open && (r->ndirs == 0 ||
	    strncmp(key, r->dirs[r->ndirs - 1], strlen(r->dirs[r->ndirs - 1])) != 0))
		return bad_member(r->dirs[r->ndirs - 1], "empty folder (seal writes only folders that hold files)");
	r->last_dir_open = 0;
	/* The parent: everything up to the last '/' before the end (folders end in one). */
	slash = NULL;
	for (const char *p = key; p < key + kl - (is_dir ? 1 : 0); p++)
		if (*p == '/')
			slash = p;
	pl = slash ? (size_t)(slash - key + 1) : 0;
	while (r->ndirs > 0 && strncmp(key, r->dirs[r->ndirs - 1], strlen(r->dirs[r->ndirs - 1])) != 0)
		free(r->dirs[--r->ndirs]);
	if (pl > 0 && (r->ndirs == 0 || strlen(r->dirs[r->ndirs - 1]) != pl))
		return bad_member(shown, "its folder is not a member of its own");
	if (is_dir) {
		if (KC_GROW(r->dirs, r->dirs_cap, r->ndirs + 1) != 0)
			return KC_ERR_NOMEM;
		if ((r->dirs[r->ndirs] = kc_strdup(key)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		r->ndirs++;
		r->last_dir_open = 1;
	}
	return 0;
}

int
kc_tar_next(struct kc_tar_reader *r, struct kc_tar_entry *e)
{
	struct archive_entry *ae;
	const char *name, *slash;
	size_t len;
	mode_t type;
	int rc, is_dir;
	la_int64_t size;

	if (r->ended)
		return 0;
	rc = archive_read_next_header(r->tar, &ae);
	if (rc == ARCHIVE_EOF) {
		r->ended = 1;
		if (r->last_dir_open && r->ndirs > 0)
			return bad_member(r->dirs[r->ndirs - 1], "empty folder (seal writes only folders that hold files)");
		if (r->members == 0)
			return kc_err_set(KC_ERR_VERIFY, "empty archive");
		return 0;
	}
	if (rc != ARCHIVE_OK)	/* warnings too: a v1 bundle never causes one */
		return tar_fail(r, "header");
	if (++r->members > r->lim.max_members)
		return kc_err_set(KC_ERR_LIMIT, "more than %zu members", r->lim.max_members);
	if ((name = archive_entry_pathname(ae)) == NULL)
		return kc_err_set(KC_ERR_VERIFY, "member %zu: unreadable name", r->members);
	type = archive_entry_filetype(ae);
	if (archive_entry_hardlink(ae) != NULL)
		return bad_member(name, "hard link");
	if (type == AE_IFLNK || archive_entry_symlink(ae) != NULL)
		return bad_member(name, "symbolic link");
	if (type != AE_IFREG && type != AE_IFDIR)
		return bad_member(name, "not a regular file or folder (device, FIFO or socket)");
	if (archive_entry_sparse_count(ae) > 0)
		return bad_member(name, "sparse member");
	is_dir = type == AE_IFDIR;
	if (r->members == 1)
		r->mtime = archive_entry_mtime(ae);
	size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
	if (size < 0 || (uint64_t)size > r->lim.max_member)
		return bad_member(name, "size beyond the per-member cap");
	if (is_dir && size != 0)
		return bad_member(name, "folder with data");
	r->declared += (uint64_t)size;
	if (r->declared > r->lim.max_total)
		return kc_err_set(KC_ERR_LIMIT, "declared member sizes exceed %llu bytes",
		    (unsigned long long)r->lim.max_total);
	/* The name as compared: folders always with one trailing '/'. */
	len = strlen(name);
	if (len > KC_PATH_MAX_LEN + 256)
		return bad_member(name, "path too long");
	free(r->name);
	if ((r->name = kc_strndup(name, len)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (len > 0 && r->name[len - 1] == '/') {
		if (!is_dir)
			return bad_member(name, "file name ends in '/'");
		r->name[--len] = '\0';
	}
	if (!kc_relpath_ok(r->name))
		return bad_member(name, "absolute path, '..', '.', empty component or control character");
	slash = strchr(r->name, '/');
	if (r->top == NULL) {
		if (slash != NULL || !is_dir)
			return bad_member(name, "the first member must be the top folder");
		if ((r->top = kc_strdup(r->name)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
	} else {
		size_t tl = strlen(r->top);

		if (strncmp(r->name, r->top, tl) != 0 || r->name[tl] != '/')
			return bad_member(name, "outside the top folder");
	}
	{
		char *key;
		int c;

		if (asprintf(&key, "%s%s", r->name, is_dir ? "/" : "") < 0)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		c = r->prev ? strcmp(r->prev, key) : -1;
		free(r->prev);
		r->prev = key;
		if (c == 0)
			return bad_member(name, "duplicate member");
		if (c > 0)
			return bad_member(name, "members not in canonical (sorted) order");
		if ((rc = check_folders(r, key, is_dir, name)) != 0)
			return rc;
	}
	/* v1 headers are canonical: anything else was not written by a seal. */
	if (archive_entry_perm(ae) != (is_dir ? 0555 : 0444) || archive_entry_uid(ae) != 0 ||
	    archive_entry_gid(ae) != 0 || archive_entry_mtime(ae) != r->mtime ||
	    archive_entry_mtime_nsec(ae) != 0 || archive_entry_uname(ae) == NULL ||
	    strcmp(archive_entry_uname(ae), "root") != 0 || archive_entry_gname(ae) == NULL ||
	    strcmp(archive_entry_gname(ae), "root") != 0)
		return bad_member(name, "non-canonical header (mode, owner or mtime)");
	/* And byte for byte: the header seal writes for this name and size. */
	if ((rc = canon_member(r, r->prev, is_dir, (uint64_t)size)) != 0)
		return rc;
	e->top = r->top;
	e->path = slash ? slash + 1 : "";
	e->is_dir = is_dir;
	e->size = (uint64_t)size;
	e->mtime = r->mtime;
	return 1;
}

long
kc_tar_read(struct kc_tar_reader *r, void *buf, size_t n)
{
	la_ssize_t got = archive_read_data(r->tar, buf, n);

	if (got < 0)
		return tar_fail(r, "data");
	return (long)got;
}

int
kc_tar_finish(struct kc_tar_reader *r)
{
	long n;
	int rc;

	if (!r->ended)
		return kc_err_set(KC_ERR_INVALID, "kc_tar_finish before the end of the archive");
	if (r->canon_failed)
		return kc_err_set(KC_ERR_VERIFY, "not a canonical v1 container: %s", r->canon_err);
	if (r->hdr_off < r->hdr.len || r->skip > 0 || r->zeros > 0)
		return canon_fail(r, "the stream ends inside member %zu", r->members);
	/* Exactly two zero blocks end the stream; nothing follows them. */
	r->at_end = 1;
	r->zeros = 1024;
	if ((rc = canon_replay(r)) != 0)
		return rc;
	while ((n = inflate_some(r)) > 0)
		;
	if (n < 0)
		return (int)n;
	if (r->zeros > 0)
		return canon_fail(r, "the tar end marker is %llu bytes short (seal writes two zero blocks)",
		    (unsigned long long)r->zeros);
	/* The file grew since it was opened: what another verifier reads now
	 * is not what was checked and hashed here. */
	{
		unsigned char extra;
		ssize_t got;

		while ((got = read(r->fd, &extra, 1)) < 0 && errno == EINTR)
			;
		if (got < 0)
			return kc_err_set(KC_ERR_IO, "cannot read the bundle: %s", strerror(errno));
		if (got > 0) {
			/* hashed, so that the digest of the file names what is there now */
			if (kc_sha256_update(r->fh, &extra, 1) != 0)
				return kc_err_set(KC_ERR_NOMEM, "cannot hash the bundle");
			return kc_err_set(KC_ERR_VERIFY, "data after the gzip member: the file grew "
			    "while it was read");
		}
	}
	r->finished = 1;
	return 0;
}

int
kc_tar_sha256(struct kc_tar_reader *r, char hex[KC_SHA256_HEX])
{
	int grew = 0;

	if (r->hashed)
		return kc_err_set(KC_ERR_INVALID, "kc_tar_sha256 called twice");
	r->hashed = 1;
	/* the bytes after what was read so far, hashed as they are on disk
	 * (not inflated): the digest covers the whole file through this one
	 * open file, and costs only a read of the rest */
	for (;;) {
		ssize_t got = read(r->fd, r->in, sizeof(r->in));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return kc_err_set(KC_ERR_IO, "cannot read the bundle: %s", strerror(errno));
		if (got == 0)
			break;
		if (kc_sha256_update(r->fh, r->in, (size_t)got) != 0)
			return kc_err_set(KC_ERR_NOMEM, "cannot hash the bundle");
		grew = r->finished;
	}
	r->z.avail_in = 0;	/* r->in was reused: nothing more is inflated */
	/* kc_tar_finish found the end of the file: bytes now are bytes that
	 * were appended after it, never inflated nor checked; the digest
	 * would name a file that verify did not read */
	if (grew)
		return kc_err_set(KC_ERR_VERIFY, "data after the gzip member: the file grew while it was read");
	if (kc_sha256_final(r->fh, NULL, hex) != 0)
		return kc_err_set(KC_ERR_NOMEM, "cannot hash the bundle");
	return 0;
}

void
kc_tar_counts(const struct kc_tar_reader *r, uint64_t *out_bytes, uint64_t *in_bytes)
{
	if (out_bytes)
		*out_bytes = r->out_bytes;
	if (in_bytes)
		*in_bytes = r->z_init ? (uint64_t)r->z.total_in : 0;
}

void
kc_tar_close(struct kc_tar_reader *r)
{
	if (r == NULL)
		return;
	/* how many passes a command makes over a bundle, and how far each
	 * inflates it (tests/cmd/test_diff.sh counts them) */
	if (kc_log_get_level() >= KC_LOG_DEBUG) {
		char safe[512];

		kc_debug("tar: pass over '%s': %llu bytes inflated from %llu of %llu",
		    kc_safe_str(r->path, safe, sizeof(safe)), (unsigned long long)r->out_bytes,
		    (unsigned long long)(r->z_init ? r->z.total_in : 0), (unsigned long long)r->file_size);
	}
	free(r->path);
	if (r->tar)
		archive_read_free(r->tar);
	if (r->z_init)
		inflateEnd(&r->z);
	if (r->fd >= 0)
		close(r->fd);
	kc_sha256_free(r->fh);
	for (size_t i = 0; i < r->ndirs; i++)
		free(r->dirs[i]);
	free(r->dirs);
	kc_buf_free(&r->pend);
	kc_buf_free(&r->hdr);
	free(r->top);
	free(r->prev);
	free(r->name);
	free(r);
}
