/* audit_source.c - find the pieces of a rotated audit log and read them
 * line by line with bounded memory (plain or gzip, decided by magic). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "collector/audit.h"
#include "collector/audit_int.h"
#include "manifest/auditchain.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/mem.h"
#include "util/sha256.h"

#define RAW_BLOCK ((size_t)256 << 10)	/* compressed input block */
#define READ_SPACE ((size_t)1 << 20)	/* room to read beyond the longest line */

/* ---- rotation names --------------------------------------------------- */

static int
ndig(const char *p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		*v = *v * 10 + (p[i] - '0');
	}
	return 1;
}

/* "-2006-01-02T15-04-05.000" at p (24 bytes) */
static int
rot_stamp(const char *p, int64_t *ms)
{
	int Y, M, D, h, m, s, f;

	if (p[0] != '-' || !ndig(p + 1, 4, &Y) || p[5] != '-' || !ndig(p + 6, 2, &M) ||
	    p[8] != '-' || !ndig(p + 9, 2, &D) || p[11] != 'T' || !ndig(p + 12, 2, &h) ||
	    p[14] != '-' || !ndig(p + 15, 2, &m) || p[17] != '-' || !ndig(p + 18, 2, &s) ||
	    p[20] != '.' || !ndig(p + 21, 3, &f))
		return 0;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60)
		return 0;
	*ms = ((kc_audit_days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + s) * 1000) + f;
	return 1;
}

int
kc_audit_backup_name(const char *name, size_t *base_len, const char **ext,
    size_t *ext_len, int *gz, int64_t *ms)
{
	size_t n = strlen(name);

	if (n < 24)
		return 0;
	for (size_t i = n - 24 + 1; i-- > 0;) {
		const char *e = name + i + 24;
		size_t el = n - i - 24;
		int z = 0;

		if (!rot_stamp(name + i, ms))
			continue;
		if (el >= 3 && strcmp(name + n - 3, ".gz") == 0) {
			z = 1;
			el -= 3;
		}
		if (el > 0 && e[0] != '.')
			continue;
		if (memchr(e, '/', el) != NULL)
			return 0;
		*base_len = i;
		*ext = e;
		*ext_len = el;
		*gz = z;
		return 1;
	}
	return 0;
}

/* ---- discovery -------------------------------------------------------- */

#define EXPORT_KEY "\001exports"	/* sorts before any name */
#define DIR_DEPTH_MAX 16

struct cand {
	char *name;	/* entry name in the folder */
	char *key;	/* base+ext: the current file's name; EXPORT_KEY */
	int backup, gz, exported;
	int64_t ms;
	dev_t dev;
	ino_t ino;
};

struct seen {
	dev_t *dev;
	ino_t *ino;
	size_t n, cap, icap;
};

static int
seen_add(struct seen *s, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->dev[i] == dev && s->ino[i] == ino)
			return 1;
	if (KC_GROW(s->dev, s->cap, s->n + 1) || KC_GROW(s->ino, s->icap, s->n + 1))
		return -1;
	s->dev[s->n] = dev;
	s->ino[s->n] = ino;
	s->n++;
	return 0;
}

static int
add_skipped(struct kc_audit_sources *out, const char *path, const char *reason)
{
	char *p = kc_strdup(path);

	if (p == NULL || KC_GROW(out->skipped, out->skipcap, out->nskipped + 1)) {
		free(p);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	out->skipped[out->nskipped].path = p;
	out->skipped[out->nskipped].reason = reason;
	out->nskipped++;
	return 0;
}

static int
add_source(struct kc_audit_sources *out, struct seen *seen, const char *path,
    const char *role, int64_t ms, int group, dev_t dev, ino_t ino)
{
	struct kc_audit_source *s;
	const char *base;
	int r;

	if (strcmp(role, "stdin") != 0) {
		if ((r = seen_add(seen, dev, ino)) < 0)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		if (r == 1)
			return add_skipped(out, path, "named twice (read once)");
	}
	if (KC_GROW(out->v, out->cap, out->n + 1))
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	s = &out->v[out->n];
	memset(s, 0, sizeof(*s));
	base = strrchr(path, '/');
	s->path = kc_strdup(path);
	s->name = kc_strdup(strcmp(role, "stdin") == 0 ? "(stdin)" : base ? base + 1 : path);
	if (s->path == NULL || s->name == NULL) {
		free(s->path);
		free(s->name);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	s->role = role;
	s->rotated_ms = ms;
	s->group = group;
	out->n++;
	return 0;
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	if (x->backup != y->backup)
		return x->backup ? -1 : 1;	/* current file last */
	if (x->ms != y->ms)
		return x->ms < y->ms ? -1 : 1;
	if (x->gz != y->gz)
		return x->gz ? 1 : -1;		/* plain before its .gz twin */
	return strcmp(x->name, y->name);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
cands_free(struct cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].name);
		free(c[i].key);
	}
	free(c);
}

static int
ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* A provider export by its name: CloudWatch's S3 export (000000.gz),
 * Cloud Logging sinks (*.json), Azure storage (PT1H.json), saved command
 * output (*.json, *.jsonl, *.ndjson). */
static int
export_name(const char *n)
{
	return !ends_with(n, ".log") && (ends_with(n, ".json") || ends_with(n, ".jsonl") ||
	    ends_with(n, ".ndjson") || ends_with(n, ".gz"));
}

/* digest-N.json or digest-N.json.sig of an audit-sink folder
 * (manifest/auditchain.h). */
static int
sink_record_name(const char *n)
{
	uint64_t num;

	return kc_achain_name_number(n, "digest-", ".json", &num) == 0 ||
	    kc_achain_name_number(n, "digest-", ".json.sig", &num) == 0;
}

static int scan_dir_at(const char *dir, const char *only_key, struct kc_audit_sources *out,
    struct seen *seen, int *group, int depth);

static int
scan_dir(const char *dir, const char *only_key, struct kc_audit_sources *out,
    struct seen *seen, int *group)
{
	return scan_dir_at(dir, only_key, out, seen, group, 0);
}

/* List the folder: every log in it, one group per current-file name; with
 * only_key set, only the backups of that current-file name, in *group (the
 * file itself is added by the caller). */
static int
scan_dir_at(const char *dir, const char *only_key, struct kc_audit_sources *out,
    struct seen *seen, int *group, int depth)
{
	struct cand *c = NULL;
	char **subs = NULL;
	size_t n = 0, cap = 0, nsub = 0, subcap = 0;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if ((d = opendir(dir)) == NULL)
		return kc_err_set(KC_ERR_IO, "cannot read folder '%s': %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct cand x;
		struct stat st;
		size_t bl, el;
		const char *ext;
		char *full;

		if (de->d_name[0] == '.')
			continue;
		if (only_key == NULL && sink_record_name(de->d_name)) {
			/* an audit-sink folder: its records are checked as a chain
			 * (sources.json "chains"), never read as events */
			if ((full = kc_path_join(dir, de->d_name)) == NULL) {
				r = kc_err_set(KC_ERR_NOMEM, "out of memory");
				goto out;
			}
			r = add_skipped(out, full, "audit-sink digest record (checked under \"chains\")");
			free(full);
			if (r < 0)
				goto out;
			continue;
		}
		memset(&x, 0, sizeof(x));
		x.backup = kc_audit_backup_name(de->d_name, &bl, &ext, &el, &x.gz, &x.ms);
		if (only_key != NULL && !x.backup)
			continue;
		if ((full = kc_path_join(dir, de->d_name)) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (only_key == NULL && stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			/* exports are kept in folders by stream, log or hour */
			if (depth + 1 >= DIR_DEPTH_MAX)
				r = add_skipped(out, full, "folder nested too deep (16 levels)");
			else if (KC_GROW(subs, subcap, nsub + 1))
				r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			else
				subs[nsub++] = full, full = NULL;
			free(full);
			if (r < 0)
				goto out;
			continue;
		}
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
			if (only_key == NULL && (r = add_skipped(out, full, "not a regular file")) < 0) {
				free(full);
				goto out;
			}
			free(full);
			continue;
		}
		free(full);
		x.dev = st.st_dev;
		x.ino = st.st_ino;
		if (x.backup) {
			x.key = malloc(bl + el + 1);
			if (x.key != NULL) {
				memcpy(x.key, de->d_name, bl);
				memcpy(x.key + bl, ext, el);
				x.key[bl + el] = '\0';
			}
		} else if (only_key == NULL && export_name(de->d_name)) {
			x.exported = 1;
			x.key = kc_strdup(EXPORT_KEY);
		} else {
			x.key = kc_strdup(de->d_name);
		}
		if (x.key != NULL && only_key != NULL && strcmp(x.key, only_key) != 0) {
			free(x.key);
			continue;
		}
		x.name = kc_strdup(de->d_name);
		if (x.key == NULL || x.name == NULL || KC_GROW(c, cap, n + 1)) {
			free(x.key);
			free(x.name);
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		c[n++] = x;
	}
	if (n > 1)
		qsort(c, n, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < n; i++) {
		char *full;
		int keep = 1;
		const char *reason = NULL;

		if (only_key == NULL && (i == 0 || strcmp(c[i].key, c[i - 1].key) != 0))
			(*group)++;
		if (c[i].exported) {
			/* a provider export: read, its form found from its content */
		} else if (!c[i].backup) {
			/* a current file: a .log name or one that has backups */
			int has = (i > 0 && c[i - 1].backup && strcmp(c[i - 1].key, c[i].key) == 0);
			if (!has && !ends_with(c[i].name, ".log")) {
				keep = 0;
				reason = "not an audit log name (no .log suffix and no rotated backups)";
			}
		} else if (c[i].gz && i > 0 && c[i - 1].backup && !c[i - 1].gz &&
		    c[i - 1].ms == c[i].ms && strcmp(c[i - 1].key, c[i].key) == 0) {
			keep = 0;
			reason = "gzip twin of an uncompressed backup (compression in progress); the plain file is read";
		}
		if ((full = kc_path_join(dir, c[i].name)) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (keep)
			r = add_source(out, seen, full, c[i].exported ? "export" : c[i].backup ? "backup" : "current",
			    c[i].backup ? c[i].ms : -1, *group, c[i].dev, c[i].ino);
		else
			r = add_skipped(out, full, reason);
		free(full);
		if (r < 0)
			goto out;
	}
	if (nsub > 1)
		qsort(subs, nsub, sizeof(*subs), str_cmp);
	for (size_t i = 0; i < nsub && r >= 0; i++) {
		struct stat st;
		int dr;

		if (stat(subs[i], &st) != 0)
			continue;
		if ((dr = seen_add(seen, st.st_dev, st.st_ino)) < 0)
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		else if (dr == 1)
			r = add_skipped(out, subs[i], "folder reached twice (read once)");
		else
			r = scan_dir_at(subs[i], NULL, out, seen, group, depth + 1);
	}
out:
	closedir(d);
	cands_free(c, n);
	for (size_t i = 0; i < nsub; i++)
		free(subs[i]);
	free(subs);
	return r;
}

static int
discover_file(const char *path, const struct stat *st, int no_rotated,
    struct kc_audit_sources *out, struct seen *seen, int *group)
{
	const char *name = strrchr(path, '/');
	size_t bl, el;
	const char *ext;
	int gz, r;
	int64_t ms;
	char *dir;

	name = name ? name + 1 : path;
	(*group)++;
	if (kc_audit_backup_name(name, &bl, &ext, &el, &gz, &ms))
		return add_source(out, seen, path, "backup", ms, *group, st->st_dev, st->st_ino);
	if (no_rotated)
		return add_source(out, seen, path, "file", -1, *group, st->st_dev, st->st_ino);
	if ((dir = kc_dirname(path)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r = scan_dir(dir, name, out, seen, group);	/* its backups, same group */
	free(dir);
	if (r < 0)
		return r;
	return add_source(out, seen, path, "current", -1, *group, st->st_dev, st->st_ino);
}

int
kc_audit_discover(const char *const *paths, size_t npaths, int no_rotated,
    struct kc_audit_sources *out)
{
	struct seen seen = { 0 };
	int group = -1, r = 0, have_stdin = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < npaths; i++) {
		struct stat st;

		if (strcmp(paths[i], "-") == 0) {
			if (have_stdin++) {
				r = kc_err_set(KC_ERR_INVALID, "standard input named twice");
				goto out;
			}
			if ((r = add_source(out, &seen, "-", "stdin", -1, ++group, 0, 0)) < 0)
				goto out;
			continue;
		}
		if (stat(paths[i], &st) != 0) {
			r = kc_err_set(errno == ENOENT ? KC_ERR_NOTFOUND : KC_ERR_IO,
			    "cannot read audit log '%s': %s", paths[i], strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode))
			r = scan_dir(paths[i], NULL, out, &seen, &group);
		else
			r = discover_file(paths[i], &st, no_rotated, out, &seen, &group);
		if (r < 0)
			goto out;
	}
	/* number the logs 0, 1, ... in reading order (pieces are contiguous) */
	for (size_t i = 0, k = 0, prev = 0; i < out->n; i++) {
		size_t old = (size_t)out->v[i].group;

		if (i > 0 && old != prev)
			k++;
		prev = old;
		out->v[i].group = (int)k;
	}
out:
	free(seen.dev);
	free(seen.ino);
	if (r < 0)
		kc_audit_sources_free(out);
	return r;
}

void
kc_audit_sources_free(struct kc_audit_sources *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].name);
	}
	for (size_t i = 0; i < s->nskipped; i++)
		free(s->skipped[i].path);
	free(s->v);
	free(s->skipped);
	memset(s, 0, sizeof(*s));
}

/* ---- reader ----------------------------------------------------------- */

struct kc_audit_reader {
	int fd, own_fd;
	char *buf;		/* line_max + READ_SPACE bytes */
	size_t size, start, end, scan;
	uint64_t base;		/* stream offset of buf[0] */
	size_t line_max;
	int eof, gzip;
	/* gzip: zlib inflates straight into buf, so every byte decoded before
	 * a truncation or a corrupt block is kept (libarchive's read call
	 * returned the error and dropped what it had decoded in that call). */
	z_stream z;
	int z_init;		/* inflateInit2 done */
	int raw_eof;		/* the compressed input ended */
	uint64_t z_used;	/* compressed bytes that belong to gzip members */
	char *raw;		/* RAW_BLOCK: compressed input */
	struct kc_sha256 *h_raw, *h_dec, *h_line;
	uint64_t raw_size, dec_size;
	char error[200];
	int error_pending;	/* report error[] as a stream record at the end */
	uint64_t error_off;
	int finished;
	char raw_hex[KC_SHA256_HEX], dec_hex[KC_SHA256_HEX];
	int skipping;		/* discarding a line longer than line_max */
	uint64_t skip_off, skip_len;
	int done;
	/* How the stream is split: decided on the first call to next() from
	 * the first bytes (KC_AUDIT_SPLIT_LINES or _DOCS); 0 undecided. */
	int split, allow_docs;
	/* Document splitter (only finds where records begin and end; every
	 * record is then parsed by cJSON).  State at buf[scan]. */
	int d_depth, d_str, d_esc;
	int d_top;		/* '[' or '{': the open top-level value */
	int d_elem;		/* depth of the array whose members are records, 0 none */
	int d_in;		/* inside a record that began at buf[start] */
	int d_rdepth;		/* depth at which the record began */
	int d_scalar;		/* the record is a bare scalar */
	int d_cand;		/* the record is a top-level object that may be a container */
	int d_junk;		/* bytes at depth 0 that are not JSON, up to a newline */
	int d_key;		/* depth-1 object: 0 want key, 1 in key, 2 after key, 3 value */
	char d_kbuf[16];
	size_t d_klen;
	int d_skip;		/* record over the cap: hashed while skipped */
	uint64_t d_off, d_len;	/* record offset and, when skipping, length */
	int d_tail_done;
};

void
kc_audit_reader_allow_docs(struct kc_audit_reader *r, int allow)
{
	r->allow_docs = allow;
}

int
kc_audit_reader_split(const struct kc_audit_reader *r)
{
	return r->split;
}

static int
read_full(int fd, void *p, size_t n, size_t *got)
{
	ssize_t k;

	*got = 0;
	for (;;) {
		k = read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		*got = (size_t)k;
		return 0;
	}
}

/* Make sure zlib has at least `want` (1 or 2) unread compressed bytes,
 * moving what it has not used to the front of raw first; fewer only at the
 * end of the input (raw_eof). */
static int
gz_more(struct kc_audit_reader *r, size_t want)
{
	size_t got;

	while (r->z.avail_in < want && !r->raw_eof) {
		if (r->z.avail_in > 0)
			memmove(r->raw, r->z.next_in, r->z.avail_in);
		if (read_full(r->fd, r->raw + r->z.avail_in, RAW_BLOCK - r->z.avail_in, &got) < 0)
			return -1;
		if (r->h_raw != NULL && got > 0)
			kc_sha256_update(r->h_raw, r->raw + r->z.avail_in, got);
		r->raw_size += got;
		r->z.next_in = (Bytef *)r->raw;
		r->z.avail_in += (uInt)got;
		if (got == 0)
			r->raw_eof = 1;
	}
	return 0;
}

static void
set_error(struct kc_audit_reader *r, const char *what, const char *msg)
{
	if (r->error[0] == '\0')
		kc_fmt_trunc(r->error, sizeof(r->error), "%s: %s", what, msg);
	r->error_pending = 1;
	r->error_off = r->dec_size;
	r->eof = 1;
}

static int
gz_start(struct kc_audit_reader *r, size_t got)
{
	/* 16 + MAX_WBITS: a gzip wrapper, its CRC-32 and length checked */
	if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
		return kc_err_set(KC_ERR_NOMEM, "cannot start inflate");
	r->z_init = 1;
	r->z.next_in = (Bytef *)r->raw;
	r->z.avail_in = (uInt)got;
	return 0;
}

/* One member ended at z.next_in: another gzip member follows (concatenated
 * members are one stream, as for gzip -d and libarchive), or the stream
 * ends there and finish() counts what follows as trailing data. */
static void
gz_member_end(struct kc_audit_reader *r)
{
	r->z_used = r->raw_size - r->z.avail_in;
	if (gz_more(r, 2) < 0) {
		set_error(r, "read error", strerror(errno));
		return;
	}
	if (r->z.avail_in >= 2 && r->z.next_in[0] == 0x1f && r->z.next_in[1] == 0x8b) {
		if (inflateReset(&r->z) != Z_OK)
			set_error(r, "corrupt gzip stream", "cannot restart inflate");
		return;
	}
	r->eof = 1;
}

int
kc_audit_reader_open(struct kc_audit_reader **rp, const char *path, size_t line_max, int hash)
{
	struct kc_audit_reader *r;
	size_t got = 0;
	int ret;

	*rp = NULL;
	if (line_max == 0)
		line_max = KC_AUDIT_LINE_MAX_DEFAULT;
	if (line_max < KC_AUDIT_LINE_MAX_MIN || line_max > KC_AUDIT_LINE_MAX_MAX)
		return kc_err_set(KC_ERR_INVALID, "line cap %zu out of range", line_max);
	if ((r = kc_calloc(1, sizeof(*r))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r->fd = -1;
	r->line_max = line_max;
	r->size = line_max + READ_SPACE;
	r->buf = malloc(r->size);
	r->raw = malloc(RAW_BLOCK);
	if (r->buf == NULL || r->raw == NULL) {
		ret = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (hash && ((r->h_raw = kc_sha256_new()) == NULL || (r->h_dec = kc_sha256_new()) == NULL)) {
		ret = kc_err_set(KC_ERR_CRYPTO, "cannot create a SHA-256 context");
		goto fail;
	}
	if ((r->h_line = kc_sha256_new()) == NULL) {
		ret = kc_err_set(KC_ERR_CRYPTO, "cannot create a SHA-256 context");
		goto fail;
	}
	if (strcmp(path, "-") == 0) {
		r->fd = STDIN_FILENO;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (r->fd < 0) {
			ret = kc_err_set(KC_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
			goto fail;
		}
		r->own_fd = 1;
	}
	/* Read until the two magic bytes are known (or the input ends). */
	while (got < 2) {
		size_t k;

		if (read_full(r->fd, r->raw + got, RAW_BLOCK - got, &k) < 0) {
			ret = kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
			goto fail;
		}
		if (k == 0)
			break;
		got += k;
	}
	if (r->h_raw != NULL && got > 0)
		kc_sha256_update(r->h_raw, r->raw, got);
	r->raw_size = got;
	if (got >= 2 && (unsigned char)r->raw[0] == 0x1f && (unsigned char)r->raw[1] == 0x8b) {
		r->gzip = 1;
		if ((ret = gz_start(r, got)) < 0)
			goto fail;
	} else {
		memcpy(r->buf, r->raw, got);
		r->end = got;
		r->dec_size = got;
		if (got == 0)
			r->eof = 1;
	}
	*rp = r;
	return 0;
fail:
	kc_audit_reader_close(r);
	return ret;
}

/* One inflate call into buf[end..size); returns the bytes it decoded.
 * What was decoded is kept whatever inflate says next: a truncated or
 * corrupt stream loses nothing before the damage. */
static size_t
gz_fill_once(struct kc_audit_reader *r)
{
	size_t room = r->size - r->end, got;
	int zr;

	if (room == 0)
		return 1;	/* full: the caller reads lines first */
	if (gz_more(r, 1) < 0) {
		set_error(r, "read error", strerror(errno));
		return 0;
	}
	r->z.next_out = (Bytef *)(r->buf + r->end);
	r->z.avail_out = (uInt)room;
	zr = inflate(&r->z, Z_NO_FLUSH);
	got = room - r->z.avail_out;
	if (r->h_dec != NULL && got > 0)
		kc_sha256_update(r->h_dec, r->buf + r->end, got);
	r->end += got;
	r->dec_size += got;
	if (zr == Z_STREAM_END)
		gz_member_end(r);
	else if (zr == Z_BUF_ERROR && r->z.avail_in == 0 && r->raw_eof)
		set_error(r, "corrupt or truncated gzip stream", "truncated gzip input");
	else if (zr != Z_OK && zr != Z_BUF_ERROR)
		set_error(r, "corrupt or truncated gzip stream",
		    r->z.msg != NULL ? r->z.msg : "inflate failed");
	return got;
}

/* Append more stream bytes at buf[end..size); sets eof at the end. */
static void
fill(struct kc_audit_reader *r)
{
	size_t room = r->size - r->end, got = 0;

	if (r->eof || room == 0)
		return;
	if (r->gzip) {
		/* inflate may use input (a gzip header) and give nothing: go on
		 * until bytes come out, the stream ends, or an error stops it */
		while (!r->eof && gz_fill_once(r) == 0)
			;
		return;
	} else {
		if (read_full(r->fd, r->buf + r->end, room, &got) < 0) {
			set_error(r, "read error", strerror(errno));
			return;
		}
		if (r->h_raw != NULL && got > 0)
			kc_sha256_update(r->h_raw, r->buf + r->end, got);
		r->raw_size += got;
	}
	if (got == 0) {
		r->eof = 1;
		return;
	}
	r->end += got;
	r->dec_size += got;
}

/* Move the unread tail to the front of the buffer. */
static void
compact(struct kc_audit_reader *r)
{
	if (r->start == 0)
		return;
	if (r->end > r->start)
		memmove(r->buf, r->buf + r->start, r->end - r->start);
	r->base += r->start;
	r->scan -= r->start;
	r->end -= r->start;
	r->start = 0;
}

static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		while (i + 32 <= n) {
			uint64_t a, b, c, d;

			memcpy(&a, s + i, 8);
			memcpy(&b, s + i + 8, 8);
			memcpy(&c, s + i + 16, 8);
			memcpy(&d, s + i + 24, 8);
			if ((a | b | c | d) & 0x8080808080808080ULL)
				break;
			i += 32;
		}
		while (i < n && s[i] < 0x80)
			i++;
		if (i >= n)
			return 1;
		unsigned c = s[i];
		size_t need;
		unsigned lo = 0x80, hi = 0xBF;

		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			return 0;
		}
		if (n - i - 1 < need)
			return 0;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k <= need; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return 0;
		i += need + 1;
	}
}

static void
line_hash(struct kc_audit_reader *r, const char *p, size_t n, char hex[KC_SHA256_HEX])
{
	kc_sha256_reset(r->h_line);
	kc_sha256_update(r->h_line, p, n);
	kc_sha256_final(r->h_line, NULL, hex);
}

static void
bad(struct kc_audit_line *l, const char *reason)
{
	l->reason = reason;
}

/* Discard the rest of an overlong line; 1 when a record is ready. */
static int
skip_line(struct kc_audit_reader *r, struct kc_audit_line *l)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		size_t n = nl ? (size_t)(nl - (r->buf + r->start)) : r->end - r->start;

		kc_sha256_update(r->h_line, r->buf + r->start, n);
		r->skip_len += n;
		if (nl != NULL || r->eof) {
			r->start += n + (nl != NULL);
			r->scan = r->start;
			r->skipping = 0;
			l->offset = r->skip_off;
			l->size = r->skip_len;
			kc_sha256_final(r->h_line, NULL, l->sha256);
			kc_fmt_trunc(l->detail, sizeof(l->detail), "longer than the cap of %zu bytes%s",
			    r->line_max, nl ? "" : ", and no newline at the end");
			bad(l, "line too long");
			return 1;
		}
		r->start = r->end;
		compact(r);
		fill(r);
	}
}

/* End of the stream: read what zlib left of the file (so the raw
 * hash covers every byte), notice bytes after the gzip stream, close the
 * digests. */
static void
finish(struct kc_audit_reader *r)
{
	r->finished = 1;
	if (r->gzip) {
		uint64_t used = r->z_used;
		size_t got;

		while (read_full(r->fd, r->raw, RAW_BLOCK, &got) == 0 && got > 0) {
			if (r->h_raw != NULL)
				kc_sha256_update(r->h_raw, r->raw, got);
			r->raw_size += got;
		}
		if (!r->error_pending && used < r->raw_size) {
			char m[80];

			kc_fmt_trunc(m, sizeof(m), "%llu bytes after the end of the gzip stream",
			    (unsigned long long)(r->raw_size - used));
			set_error(r, "trailing data", m);
		}
	}
	if (r->h_raw != NULL) {
		kc_sha256_final(r->h_raw, NULL, r->raw_hex);
		if (r->gzip)
			kc_sha256_final(r->h_dec, NULL, r->dec_hex);
		else
			memcpy(r->dec_hex, r->raw_hex, sizeof(r->dec_hex));
	}
}

/* ---- documents -------------------------------------------------------- */

#define DETECT_BYTES ((size_t)64 << 10)

static int
dws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Lines or documents, from the first bytes: a stream that opens with '['
 * is a document (gcloud's JSON array); one that opens with '{' is lines
 * when its first line is a whole object ('{' ... '}', JSON lines), else a
 * document (a pretty-printed {"events":[...]} or {"records":[...]}, or
 * objects spread over lines).  Anything else is lines. */
static void
decide_split(struct kc_audit_reader *r)
{
	const char *p, *e, *nl, *q;

	while (!r->eof && r->end - r->start < DETECT_BYTES && r->end < r->size)
		fill(r);
	r->split = KC_AUDIT_SPLIT_LINES;
	if (!r->allow_docs)
		return;
	p = r->buf + r->start;
	e = r->buf + r->end;
	while (p < e && dws((unsigned char)*p))
		p++;
	if (p == e || (*p != '[' && *p != '{'))
		return;
	if (*p == '[') {
		r->split = KC_AUDIT_SPLIT_DOCS;
		return;
	}
	if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL) {
		r->split = KC_AUDIT_SPLIT_DOCS;
		return;
	}
	for (q = nl; q > p && dws((unsigned char)q[-1]); q--)
		;
	if (q[-1] != '}') {
		r->split = KC_AUDIT_SPLIT_DOCS;
		return;
	}
	/* a one-line container ({"records":[...]}): its members are the
	 * records.  Splitting JSON lines as documents gives the same records,
	 * so a false hit on a nested key costs speed only. */
	for (const char *k = p; k < q; k++) {
		const char *v;

		if (*k != '"')
			continue;
		if ((size_t)(q - k) > 8 && memcmp(k, "\"events\"", 8) == 0)
			v = k + 8;
		else if ((size_t)(q - k) > 9 && (memcmp(k, "\"records\"", 9) == 0 || memcmp(k, "\"entries\"", 9) == 0))
			v = k + 9;
		else
			continue;
		while (v < q && dws((unsigned char)*v))
			v++;
		if (v < q && *v == ':') {
			for (v++; v < q && dws((unsigned char)*v); v++)
				;
			if (v < q && *v == '[') {
				r->split = KC_AUDIT_SPLIT_DOCS;
				return;
			}
		}
	}
}

static void
doc_begin(struct kc_audit_reader *r, size_t pos)
{
	r->d_in = 1;
	r->d_rdepth = r->d_depth;
	r->d_scalar = r->d_cand = r->d_skip = 0;
	r->d_len = 0;
	r->start = pos;
	r->d_off = r->base + pos;
}

/* The record buf[start..endpos) (or its hashed remainder when skipping)
 * as a line; reason NULL for a whole record. */
static int
doc_yield(struct kc_audit_reader *r, struct kc_audit_line *l, size_t endpos, const char *reason)
{
	size_t n = endpos - r->start;

	l->offset = r->d_off;
	if (r->d_skip) {
		kc_sha256_update(r->h_line, r->buf + r->start, n);
		l->size = r->d_len + n;
		kc_sha256_final(r->h_line, NULL, l->sha256);
		kc_fmt_trunc(l->detail, sizeof(l->detail), "longer than the cap of %zu bytes", r->line_max);
		l->reason = reason ? reason : "record too long";
	} else {
		l->data = r->buf + r->start;
		l->len = n;
		l->size = n;
		if (reason != NULL) {
			line_hash(r, l->data, n, l->sha256);
			l->reason = reason;
		} else if (!utf8_ok((const unsigned char *)l->data, n)) {
			line_hash(r, l->data, n, l->sha256);
			l->reason = "invalid UTF-8";
		}
		if (l->reason != NULL && reason != NULL && r->d_junk)
			kc_fmt_trunc(l->detail, sizeof(l->detail), "bytes outside any JSON value");
	}
	r->start = endpos;
	if (r->scan < endpos)
		r->scan = endpos;
	r->d_in = r->d_scalar = r->d_cand = r->d_skip = r->d_junk = 0;
	return 1;
}

static int
doc_key_is_records(const struct kc_audit_reader *r)
{
	return (r->d_klen == 6 && memcmp(r->d_kbuf, "events", 6) == 0) ||
	    (r->d_klen == 7 && memcmp(r->d_kbuf, "records", 7) == 0) ||
	    (r->d_klen == 7 && memcmp(r->d_kbuf, "entries", 7) == 0);
}

/* One record of a document stream: a member of a top-level array, of the
 * array under "events" (CloudWatch Logs), "records" (Azure) or "entries"
 * (Cloud Logging's entries.list) of a top-level object, or a top-level
 * object that holds none of them.  The container's other members (next
 * tokens, searchedLogStreams) are not records and are passed over. */
/* The end of the input: a pending stream error is one last record (1),
 * else nothing more (0).  Both readers, lines and documents, end here. */
static int
stream_end(struct kc_audit_reader *r, struct kc_audit_line *l)
{
	r->done = 1;
	if (!r->error_pending)
		return 0;
	r->error_pending = 0;
	l->offset = r->error_off;
	l->reason = "stream error";
	kc_fmt_trunc(l->detail, sizeof(l->detail), "%s", r->error);
	return 1;
}

static int
doc_next(struct kc_audit_reader *r, struct kc_audit_line *l)
{
	for (;;) {
		while (r->scan < r->end) {
			size_t pos;
			unsigned char c;
			int top_obj = r->d_depth == 1 && r->d_top == '{';

			/* inside a string (most bytes: CloudWatch and Azure carry
			 * the event as one): on to the next quote or backslash,
			 * never past the cap */
			if (r->d_str && !r->d_esc && !(top_obj && r->d_key == 1)) {
				size_t lim = r->end;
				const char *p = r->buf + r->scan, *e;

				if (r->d_in && !r->d_skip && r->start + r->line_max < lim)
					lim = r->start + r->line_max;
				for (e = r->buf + lim; p < e && *p != '"' && *p != '\\'; p++)
					;
				r->scan = (size_t)(p - r->buf);
				if (r->scan >= r->end)
					break;
			}
			pos = r->scan++;
			c = (unsigned char)r->buf[pos];

			if ((r->d_in || r->d_junk) && !r->d_skip && pos - r->start >= r->line_max) {
				kc_sha256_reset(r->h_line);
				kc_sha256_update(r->h_line, r->buf + r->start, pos - r->start);
				r->d_len = pos - r->start;
				r->start = pos;
				r->d_skip = 1;
			}
			if (r->d_junk) {
				if (c == '\n')
					return doc_yield(r, l, pos, "not JSON");
				continue;
			}
			if (r->d_str) {
				if (r->d_esc)
					r->d_esc = 0;
				else if (c == '\\')
					r->d_esc = 1;
				else if (c == '"') {
					r->d_str = 0;
					if (top_obj && r->d_key == 1)
						r->d_key = 2;
					if (r->d_in && r->d_scalar == 1)
						return doc_yield(r, l, pos + 1, NULL);
				} else if (top_obj && r->d_key == 1 && r->d_klen < sizeof(r->d_kbuf))
					r->d_kbuf[r->d_klen++] = (char)c;
				continue;
			}
			if (r->d_in && r->d_scalar == 2) {
				if (dws(c) || c == ',' || c == ']' || c == '}') {
					r->scan = pos;
					return doc_yield(r, l, pos, NULL);
				}
				continue;
			}
			if (dws(c))
				continue;
			switch (c) {
			case '"':
				r->d_str = 1;
				if (r->d_depth == 0) {
					r->d_str = 0;
					goto junk;
				}
				if (top_obj && r->d_key == 0) {
					r->d_key = 1;
					r->d_klen = 0;
				} else if (!r->d_in && r->d_elem && r->d_depth == r->d_elem) {
					doc_begin(r, pos);
					r->d_scalar = 1;
				}
				break;
			case '{':
			case '[':
				if (r->d_depth == 0) {
					r->d_top = c;
					if (c == '[') {
						r->d_elem = 1;
					} else {
						r->d_key = 0;
						doc_begin(r, pos);
						r->d_cand = 1;
					}
					r->d_depth = 1;
					break;
				}
				if (!r->d_in && r->d_elem && r->d_depth == r->d_elem) {
					doc_begin(r, pos);
				} else if (top_obj && r->d_key == 3 && c == '[' && doc_key_is_records(r)) {
					if (r->d_cand) {	/* a container, not a record */
						r->d_in = r->d_cand = r->d_skip = 0;
						r->start = pos + 1;
					}
					r->d_elem = 2;
				}
				r->d_depth++;
				break;
			case '}':
			case ']':
				if (r->d_depth == 0)
					goto junk;
				r->d_depth--;
				if (r->d_elem && r->d_depth < r->d_elem)
					r->d_elem = 0;
				if (r->d_depth == 0)
					r->d_top = 0;
				if (r->d_in && r->d_depth == r->d_rdepth)
					return doc_yield(r, l, pos + 1, NULL);
				break;
			case ':':
				if (top_obj && r->d_key == 2)
					r->d_key = 3;
				break;
			case ',':
				if (top_obj)
					r->d_key = 0;
				break;
			default:
				if (r->d_depth == 0)
					goto junk;
				if (!r->d_in && r->d_elem && r->d_depth == r->d_elem) {
					doc_begin(r, pos);
					r->d_scalar = 2;
				}
				break;
			}
			if (!r->d_in)
				r->start = r->scan;
			continue;
junk:
			doc_begin(r, pos);
			r->d_in = 0;
			r->d_junk = 1;
		}
		if (r->d_skip) {
			kc_sha256_update(r->h_line, r->buf + r->start, r->scan - r->start);
			r->d_len += r->scan - r->start;
			r->start = r->scan;
		} else if (!r->d_in && !r->d_junk) {
			r->start = r->scan;
		}
		if (r->eof) {
			if (!r->finished)
				finish(r);
			if (r->d_junk)
				return doc_yield(r, l, r->end, "not JSON");
			if (r->d_in) {
				r->d_str = r->d_esc = 0;
				if (r->d_scalar != 2 || r->d_depth > r->d_rdepth) {
					r->d_depth = 0;
					return doc_yield(r, l, r->end, "truncated record (the input ends inside it)");
				}
				return doc_yield(r, l, r->end, NULL);
			}
			if (r->d_depth > 0 && !r->d_tail_done) {
				r->d_tail_done = 1;
				l->offset = r->base + r->end;
				l->reason = "truncated document";
				kc_fmt_trunc(l->detail, sizeof(l->detail), "the input ends inside a JSON document, %d levels deep",
				    r->d_depth);
				return 1;
			}
			return stream_end(r, l);
		}
		compact(r);
		fill(r);
	}
}

int
kc_audit_reader_next(struct kc_audit_reader *r, struct kc_audit_line *l)
{
	memset(l, 0, sizeof(*l));
	if (r->done)
		return 0;
	if (r->split == 0)
		decide_split(r);
	if (r->split == KC_AUDIT_SPLIT_DOCS)
		return doc_next(r, l);
	for (;;) {
		char *nl;

		if (r->skipping)
			return skip_line(r, l);
		nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
		if (nl != NULL) {
			size_t len = (size_t)(nl - (r->buf + r->start));

			l->data = r->buf + r->start;
			l->len = len;
			l->offset = r->base + r->start;
			l->size = len;
			r->start = r->scan = (size_t)(nl - r->buf) + 1;
			if (len > r->line_max) {
				/* found after a fill that overshot the cap */
				line_hash(r, l->data, len, l->sha256);
				kc_fmt_trunc(l->detail, sizeof(l->detail), "longer than the cap of %zu bytes", r->line_max);
				l->data = NULL;
				l->len = 0;
				bad(l, "line too long");
			} else if (len == 0) {
				line_hash(r, "", 0, l->sha256);
				bad(l, "empty line");
			} else if (!utf8_ok((const unsigned char *)l->data, len)) {
				line_hash(r, l->data, len, l->sha256);
				bad(l, "invalid UTF-8");
			}
			return 1;
		}
		r->scan = r->end;
		if (r->end - r->start > r->line_max) {
			r->skipping = 1;
			r->skip_off = r->base + r->start;
			r->skip_len = 0;
			kc_sha256_reset(r->h_line);
			continue;
		}
		if (r->eof) {
			if (!r->finished)
				finish(r);
			if (r->end > r->start) {
				l->data = r->buf + r->start;
				l->len = r->end - r->start;
				l->offset = r->base + r->start;
				l->size = l->len;
				line_hash(r, l->data, l->len, l->sha256);
				bad(l, "truncated last line (no newline at the end)");
				r->start = r->scan = r->end;
				return 1;
			}
			return stream_end(r, l);
		}
		compact(r);
		fill(r);
	}
}

void
kc_audit_reader_stats(const struct kc_audit_reader *r, struct kc_audit_reader_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->raw_size = r->raw_size;
	st->size = r->dec_size;
	st->gzip = r->gzip;
	kc_fmt_trunc(st->error, sizeof(st->error), "%s", r->error);
	memcpy(st->raw_sha256, r->raw_hex, sizeof(st->raw_sha256));
	memcpy(st->sha256, r->dec_hex, sizeof(st->sha256));
}

void
kc_audit_reader_close(struct kc_audit_reader *r)
{
	if (r == NULL)
		return;
	if (r->z_init)
		inflateEnd(&r->z);
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	kc_sha256_free(r->h_raw);
	kc_sha256_free(r->h_dec);
	kc_sha256_free(r->h_line);
	free(r->buf);
	free(r->raw);
	free(r);
}
