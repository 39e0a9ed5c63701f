/* archive.c - the retention archive: dispatch to the local or S3 backend,
 * retention dates, and the custody steps both share. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/archive_int.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/mem.h"
#include "util/timeutil.h"

int
kc_archive_open(const struct kc_archive_opts *o, struct kc_archive **out)
{
	struct kc_archive *a;
	int r;

	*out = NULL;
	if (o->store == NULL || o->store[0] == '\0')
		return kc_err_set(KC_ERR_INVALID, "no --store given");
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (strncmp(o->store, "s3://", 5) == 0) {
		a->be = &kc_archive_s3;
		r = kc_archive_s3_open(a, o);
	} else if (strstr(o->store, "://") != NULL) {
		r = kc_err_set(KC_ERR_INVALID, "store '%s': a folder or s3://BUCKET/PREFIX", o->store);
	} else {
		a->be = &kc_archive_local;
		r = kc_archive_local_open(a, o->store, o->create);
	}
	if (r != 0) {
		kc_archive_close(a);
		return r;
	}
	*out = a;
	return 0;
}

void
kc_archive_close(struct kc_archive *a)
{
	if (a == NULL)
		return;
	if (a->be != NULL && a->be->close != NULL)
		a->be->close(a);
	free(a->location);
	free(a);
}

int
kc_archive_put(struct kc_archive *a, const char *bundle_path, time_t retain_until,
    int legal_hold, const struct kc_archive_actor *who, cJSON **item)
{
	if (item != NULL)
		*item = NULL;
	if (retain_until <= kc_now())
		return kc_err_set(KC_ERR_INVALID, "retain-until must be in the future");
	return a->be->put(a, bundle_path, retain_until, legal_hold, who, item);
}

int
kc_archive_list(struct kc_archive *a, cJSON **items)
{
	*items = NULL;
	return a->be->list(a, items);
}

int
kc_archive_get(struct kc_archive *a, const char *id, const char *out_path,
    const struct kc_archive_actor *who, cJSON **item)
{
	if (item != NULL)
		*item = NULL;
	if (!archive_is_id_prefix(id))
		return kc_err_set(KC_ERR_INVALID, "'%s' is not an archive id (the bundle's SHA-256, "
		    "or at least its first 8 hex digits)", id);
	return a->be->get(a, id, out_path, who, item);
}

int
kc_archive_verify(struct kc_archive *a, const char *id, const struct kc_trust *trust,
    cJSON **report)
{
	*report = NULL;
	if (id != NULL && !archive_is_id_prefix(id))
		return kc_err_set(KC_ERR_INVALID, "'%s' is not an archive id", id);
	return a->be->verify(a, id, trust, report);
}

int
kc_archive_prune(struct kc_archive *a, const struct kc_archive_actor *who, int dry_run,
    cJSON **report)
{
	*report = NULL;
	return a->be->prune(a, who, dry_run, report);
}

/* ---- retention -------------------------------------------------------- */

int
kc_archive_retention(const char *until, const char *retain, time_t now, time_t *out)
{
	time_t t;
	long ns;
	char *end;

	if ((until == NULL) == (retain == NULL))
		return kc_err_set(KC_ERR_INVALID, "give one of --retain-until DATE or --retain DURATION");
	if (until != NULL) {
		char buf[40];

		if (strlen(until) == 10) {	/* YYYY-MM-DD: the end of that day, UTC */
			snprintf(buf, sizeof(buf), "%sT23:59:59Z", until);
			until = buf;
		}
		if (kc_parse_rfc3339(until, &t, &ns) != 0)
			return kc_err_set(KC_ERR_INVALID, "--retain-until '%s' is not YYYY-MM-DD or RFC 3339",
			    until);
		*out = t;
		return 0;
	}
	errno = 0;
	{
		long n = strtol(retain, &end, 10);
		int64_t secs;

		if (errno == 0 && n > 0 && n <= 1000 && end != retain &&
		    (strcmp(end, "y") == 0 || strcmp(end, "w") == 0 || strcmp(end, "d") == 0)) {
			struct tm tm;

			if (end[0] == 'y') {
				gmtime_r(&now, &tm);
				tm.tm_year += (int)n;
				*out = timegm(&tm);
			} else {
				*out = now + (time_t)n * 86400 * (end[0] == 'w' ? 7 : 1);
			}
			return 0;
		}
		if (kc_parse_duration(retain, &secs) == 0 && secs > 0) {
			*out = now + (time_t)secs;
			return 0;
		}
	}
	return kc_err_set(KC_ERR_INVALID, "--retain '%s': a number with y (years), w, d, h, m or s",
	    retain);
}

/* ---- shared helpers --------------------------------------------------- */

int
archive_is_id(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

int
archive_is_id_prefix(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i >= 8 && i <= 64;
}

const char *
archive_jstr(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

double
archive_jnum(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(it) ? it->valuedouble : 0;
}

/* Integers from an index that anyone may have edited: converted only
 * when they are whole and in range (a cast of 2e85 or -1 to an unsigned
 * type is undefined behaviour; tests/fuzz found one). */
uint64_t
archive_jsize(const cJSON *o, const char *name)
{
	double v = archive_jnum(o, name);

	return v >= 0 && v <= 9007199254740992.0 && v == (double)(uint64_t)v ? (uint64_t)v : UINT64_MAX;
}

long
archive_jlong(const cJSON *o, const char *name)
{
	double v = archive_jnum(o, name);

	return v >= -2147483648.0 && v <= 2147483647.0 ? (long)v : -1;
}

char *
archive_fmt_time(time_t t, char *buf, size_t n)
{
	return kc_fmt_rfc3339(t, buf, n);
}

int
archive_prepare(const char *bundle_path, const struct kc_archive_actor *who,
    char id[KC_SHA256_HEX], uint64_t *size)
{
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	char *lpath = NULL;
	int r;

	if ((r = kc_sha256_file(bundle_path, id, size)) != 0)
		return r;
	if ((lpath = kc_ledger_path(bundle_path)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (access(lpath, F_OK) != 0) {
		r = kc_err_set(KC_ERR_NOTFOUND, "no custody ledger '%s': a bundle is archived with "
		    "its ledger (it starts with the 'sealed' entry)", lpath);
		goto out;
	}
	if ((r = kc_read_file(lpath, KC_LEDGER_MAX, &text)) != 0)
		goto out;
	if ((r = kc_ledger_check(kc_buf_str(&text), text.len, id, who->trust, NULL, NULL)) != 0) {
		char *why = kc_strdup(kc_err_msg());

		r = kc_err_set(KC_ERR_VERIFY, "refusing to archive: '%s' does not verify: %s", lpath,
		    why ? why : "");
		free(why);
	}
out:
	kc_buf_free(&text);
	free(lpath);
	return r;
}

static void
event_for(struct kc_ledger_event *ev, const char *action, const char *to, const char *method,
    const char *note, const struct kc_archive_actor *who)
{
	memset(ev, 0, sizeof(*ev));
	ev->action = action;
	ev->actor = who->actor;
	ev->to = to;
	ev->method = method;
	ev->note = note;
	ev->location = who->location;
	ev->purpose = who->purpose;
}

int
archive_file_entry(const char *ledger_path, const char *id, const char *action,
    const char *to, const char *method, const char *note,
    const struct kc_archive_actor *who, struct kc_buf *ledger_text)
{
	struct kc_ledger_event ev;
	int r;

	event_for(&ev, action, to, method, note, who);
	if ((r = kc_ledger_append(NULL, ledger_path, id, who->key, &ev, who->trust, NULL)) != 0)
		return r;
	if (ledger_text != NULL) {
		kc_buf_reset(ledger_text);
		r = kc_read_file(ledger_path, KC_LEDGER_MAX, ledger_text);
	}
	return r;
}

int
archive_file_entry_undo(const char *ledger_path, const char *ledger_text, size_t len)
{
	struct stat st;
	char *cur = NULL;
	size_t keep = 0, got = 0;
	int fd, r = 0;
	ssize_t n;

	/* keep = start of the last line (the text ends with its newline) */
	for (size_t i = 0; len > 0 && i + 1 < len; i++)
		if (ledger_text[i] == '\n')
			keep = i + 1;
	if ((fd = open(ledger_path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return kc_err_set(KC_ERR_IO, "cannot open '%s': %s", ledger_path, strerror(errno));
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			r = kc_err_set(KC_ERR_IO, "cannot lock '%s': %s", ledger_path, strerror(errno));
			goto out;
		}
	}
	if (fstat(fd, &st) != 0 || (size_t)st.st_size != len || (cur = malloc(len ? len : 1)) == NULL) {
		r = kc_err_set(KC_ERR_INVALID, "'%s' changed meanwhile; its last entry is left", ledger_path);
		goto out;
	}
	while (got < len && (n = pread(fd, cur + got, len - got, (off_t)got)) > 0)
		got += (size_t)n;
	if (got != len || memcmp(cur, ledger_text, len) != 0) {
		r = kc_err_set(KC_ERR_INVALID, "'%s' changed meanwhile; its last entry is left", ledger_path);
		goto out;
	}
	if (ftruncate(fd, (off_t)keep) != 0 || fsync(fd) != 0)
		r = kc_err_set(KC_ERR_IO, "cannot take back the last entry of '%s': %s", ledger_path,
		    strerror(errno));
out:
	free(cur);
	close(fd);	/* releases the lock */
	return r;
}

int
archive_next_entry(const char *text, size_t len, const char *id, const char *action,
    const char *to, const char *method, const char *note,
    const struct kc_archive_actor *who, struct kc_ledger_state *st, struct kc_buf *line)
{
	struct kc_ledger_event ev;
	int r;

	struct kc_buf all = KC_BUF_INIT(KC_LEDGER_MAX);
	size_t start = line->len;

	memset(st, 0, sizeof(*st));
	if ((r = kc_ledger_check(text, len, id, who->trust, st, NULL)) != 0)
		return r;
	event_for(&ev, action, to, method, note, who);
	if ((r = kc_ledger_make_entry(st, id, who->key, &ev, kc_now(), line)) != 0)
		return r;
	/* As kc_ledger_append does: the ledger with the new entry must verify
	 * too, so that an entry the signer may not make (a disposal by someone
	 * who neither holds the evidence nor has the archive role) is never
	 * written. */
	if ((r = kc_buf_add(&all, text, len)) != 0 ||
	    (r = kc_buf_add(&all, line->data + start, line->len - start)) != 0) {
		r = kc_err_set(r, "custody ledger longer than %u bytes", KC_LEDGER_MAX);
		goto out;
	}
	if ((r = kc_ledger_check(kc_buf_str(&all), all.len, id, who->trust, NULL, NULL)) != 0) {
		char *why = kc_strdup(kc_err_msg());

		r = kc_err_set(r == KC_ERR_VERIFY ? KC_ERR_INVALID : r, "refusing to write an entry "
		    "that would not verify: %s", why ? why : "out of memory");
		free(why);
	}
out:
	if (r != 0 && line->data != NULL) {
		line->len = start;
		line->data[start] = '\0';
	}
	kc_buf_free(&all);
	return r;
}

int
archive_anchor_check(const char *text, size_t len, long entries, const char *head)
{
	const char *p = text, *nl;
	char hex[KC_SHA256_HEX];
	long line = 0;
	int r;

	while ((size_t)(p - text) < len && (nl = memchr(p, '\n', len - (size_t)(p - text))) != NULL) {
		line++;
		if (line == entries) {
			if ((r = kc_sha256_hex(p, (size_t)(nl - p) + 1, hex)) != 0)
				return r;
			if (strcmp(hex, head) != 0)
				return kc_err_set(KC_ERR_VERIFY, "ledger line %ld is not the entry the "
				    "archive recorded (the ledger was rewritten)", line);
			return 0;
		}
		p = nl + 1;
	}
	return kc_err_set(KC_ERR_VERIFY, "the ledger has %ld entries, fewer than the %ld the "
	    "archive recorded (entries were cut off)", line, entries);
}

int
archive_copy(const char *src, const char *dst, mode_t mode, char hex[KC_SHA256_HEX],
    uint64_t *size)
{
	static _Thread_local unsigned char chunk[1 << 17];
	struct kc_sha256 *h = NULL;
	uint64_t total = 0;
	int in = -1, out = -1, r = 0;
	ssize_t n, w;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return kc_err_set(KC_ERR_IO, "cannot read '%s': %s", src, strerror(errno));
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) < 0) {
		r = kc_err_set(KC_ERR_IO, "cannot create '%s': %s", dst, strerror(errno));
		goto out;
	}
	if ((h = kc_sha256_new()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		if ((n = read(in, chunk, sizeof(chunk))) < 0) {
			if (errno == EINTR)
				continue;
			r = kc_err_set(KC_ERR_IO, "cannot read '%s': %s", src, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((r = kc_sha256_update(h, chunk, (size_t)n)) != 0)
			goto out;
		total += (uint64_t)n;
		for (ssize_t off = 0; off < n; off += w) {
			if ((w = write(out, chunk + off, (size_t)(n - off))) < 0) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", dst, strerror(errno));
				goto out;
			}
		}
	}
	if (fsync(out) != 0) {
		r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", dst, strerror(errno));
		goto out;
	}
	if ((r = kc_sha256_final(h, NULL, hex)) != 0)
		goto out;
	if (size != NULL)
		*size = total;
out:
	kc_sha256_free(h);
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0 && r == 0)
		r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", dst, strerror(errno));
	if (r != 0 && out >= 0)
		unlink(dst);
	return r;
}

void
archive_problem(cJSON *res, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(res, "problems"), cJSON_CreateString(msg));
}
