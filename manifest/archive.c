/* archive.c - the retention archive: dispatch to the local or S3 backend,
 * retention dates, the custody steps both share, and list, verify and
 * prune written once over the backends' storage primitives
 * (archive_int.h). */
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
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha256.h"
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
	cJSON *all = NULL, *it, *rec;
	char why[160];
	int r;

	*items = NULL;
	if ((r = a->be->begin(a, 0)) != 0)
		return r;
	if ((r = a->be->items(a, NULL, &all)) != 0)
		goto out;
	if ((*items = cJSON_CreateArray()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Damaged records are listed as they are (verify says more). */
	cJSON_ArrayForEach(it, all) {
		if ((r = a->be->record(a, it, &rec, why, sizeof(why))) < 0)
			break;
		r = 0;
		cJSON_AddItemToArray(*items, rec);
	}
out:
	a->be->end(a);
	cJSON_Delete(all);
	if (r != 0) {
		cJSON_Delete(*items);
		*items = NULL;
	}
	return r;
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

/* ---- verify and prune, written once over the backend primitives ------ */

/* A new result for the report: {"id","name","status"?,"problems"?}. */
static cJSON *
result_new(cJSON *list, const char *id, const char *name, const char *status, int problems)
{
	cJSON *res;

	if ((res = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddItemToArray(list, res);
	cJSON_AddStringToObject(res, "id", id ? id : "");
	cJSON_AddStringToObject(res, "name", name ? name : "");
	if (status != NULL)
		cJSON_AddStringToObject(res, "status", status);
	if (problems)
		cJSON_AddArrayToObject(res, "problems");
	return res;
}

/* Mark res ok or not: 2 when not, 1 when ok. */
static int
result_done(cJSON *res)
{
	int ok = cJSON_GetArraySize(kc_json_get(res, "problems")) == 0;

	cJSON_AddBoolToObject(res, "ok", ok);
	return ok ? 1 : 2;
}

/* Verify one item into items: 0 skipped (not the one asked for), 1 ok,
 * 2 damaged, or an error. */
static int
verify_item(struct kc_archive *a, const cJSON *it, const char *want,
    const struct kc_trust *trust, cJSON *items)
{
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	cJSON *rec = NULL, *res;
	const char *id;
	char why[160], safe[160];
	int got, r;

	got = a->be->record(a, it, &rec, why, sizeof(why));
	if (got < 0) {
		/* Unreadable (an S3 item record): reported under the listed id. */
		if ((res = result_new(items, cJSON_IsString(it) ? it->valuestring : "", "", "?", 1)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		archive_problem(res, "item record: %s", kc_err_msg());
		return result_done(res);
	}
	id = kc_json_str(rec, "id");
	if (got == 1) {
		/* Named or not, a damaged entry is reported (with --all). */
		r = 0;
		if (want != NULL)
			goto out;
		if ((res = result_new(items, kc_safe_str(id ? id : "", safe, sizeof(safe)),
		    kc_json_str(rec, "name"), kc_json_str0(rec, "status"), 1)) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		archive_problem(res, "index entry damaged: %s (the index was edited?)", why);
		r = result_done(res);
		goto out;
	}
	r = 0;
	if (want != NULL && strncmp(id, want, strlen(want)) != 0)
		goto out;
	if ((res = result_new(items, id, kc_json_str(rec, "name"), kc_json_str(rec, "status"), 1)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	a->be->check_bundle(a, rec, strcmp(kc_json_str(rec, "status"), "stored") == 0, res);
	if (a->be->ledger(a, rec, trust, &text, kc_json_get_mut(res, "problems")) != 0)
		archive_problem(res, "ledger: %s", kc_err_msg());
	r = result_done(res);
out:
	kc_buf_free(&text);
	cJSON_Delete(rec);
	return r;
}

/* Prune one item into list: 0 (done, kept or refused: reported) or an
 * error that stops the prune. */
static int
prune_item(struct kc_archive *a, const cJSON *it, const struct kc_archive_actor *who,
    int dry_run, time_t now, cJSON *list)
{
	cJSON *rec = NULL, *res;
	const char *ru;
	char why[160], detail[512], note[128], safe[160];
	time_t until;
	long ns;
	int r;

	if ((r = a->be->record(a, it, &rec, why, sizeof(why))) < 0)
		return r;
	if (r == 1) {
		/* Never acted on: report it, go on (verify says more). */
		r = 0;
		const char *id = kc_json_str(rec, "id");

		if ((res = result_new(list, kc_safe_str(id ? id : "", safe, sizeof(safe)),
		    kc_json_str(rec, "name"), NULL, 0)) == NULL)
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		else {
			cJSON_AddStringToObject(res, "result", "kept: index entry damaged");
			cJSON_AddStringToObject(res, "detail", why);
		}
		goto out;
	}
	if (strcmp(kc_json_str(rec, "status"), "stored") != 0)
		goto out;
	if ((res = result_new(list, kc_json_str(rec, "id"), kc_json_str(rec, "name"), NULL, 0)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	ru = kc_json_str(rec, "retain_until");
	if (cJSON_IsTrue(kc_json_get(rec, "legal_hold"))) {
		cJSON_AddStringToObject(res, "result", "kept: legal hold");
		goto out;
	}
	if (ru == NULL || kc_parse_rfc3339(ru, &until, &ns) != 0 || until > now) {
		cJSON_AddStringToObject(res, "result", "kept: retained");
		goto out;
	}
	/* What does the store itself say (S3: its clock, its lock)? */
	if (a->be->store_locked != NULL &&
	    (r = a->be->store_locked(a, rec, detail, sizeof(detail))) != 0) {
		if (r < 0)
			goto out;
		r = 0;
		cJSON_AddStringToObject(res, "result", "kept by the store");
		cJSON_AddStringToObject(res, "detail", detail);
		goto out;
	}
	if (dry_run) {
		cJSON_AddStringToObject(res, "result", "would dispose");
		goto out;
	}
	/* The disposal is recorded first; without the record, no disposal. */
	/* the note is the ledger's record of the disposal: whole or not at all */
	if ((r = kc_fmt(note, sizeof(note), "retention ended %s", ru)) != 0 ||
	    (r = a->be->add_entry(a, rec, who, "disposed", "", "kcustody archive prune", note)) != 0) {
		cJSON_AddStringToObject(res, "result", "error");
		cJSON_AddStringToObject(res, "detail", kc_err_msg());
		goto out;
	}
	if ((r = a->be->dispose(a, rec, res)) == 0 && kc_json_get(res, "result") == NULL)
		cJSON_AddStringToObject(res, "result", "disposed");
out:
	cJSON_Delete(rec);
	return r;
}

int
kc_archive_verify(struct kc_archive *a, const char *id, const struct kc_trust *trust,
    cJSON **report)
{
	cJSON *all = NULL, *it, *rep = NULL, *items;
	int r, damaged = 0, checked = 0;

	*report = NULL;
	if (id != NULL && !archive_is_id_prefix(id))
		return kc_err_set(KC_ERR_INVALID, "'%s' is not an archive id", id);
	if ((r = a->be->begin(a, 0)) != 0)
		return r;
	if ((r = a->be->items(a, id, &all)) != 0)
		goto out;
	if ((rep = cJSON_CreateObject()) == NULL || (items = cJSON_AddArrayToObject(rep, "items")) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(rep, "store", a->location);
	cJSON_ArrayForEach(it, all) {
		int got = verify_item(a, it, id, trust, items);

		if (got < 0) {
			r = got;
			goto out;
		}
		checked += got > 0;
		damaged += got == 2;
	}
	if (id == NULL && a->be->leftovers != NULL)
		a->be->leftovers(a, rep);
	cJSON_AddNumberToObject(rep, "checked", checked);
	cJSON_AddNumberToObject(rep, "damaged", damaged);
	r = damaged ? kc_err_set(KC_ERR_VERIFY, "%d of %d archived items damaged or missing",
	    damaged, checked) : 0;
	*report = rep;
	rep = NULL;
out:
	a->be->end(a);
	cJSON_Delete(rep);
	cJSON_Delete(all);
	return r;
}

int
kc_archive_prune(struct kc_archive *a, const struct kc_archive_actor *who, int dry_run,
    cJSON **report)
{
	cJSON *all = NULL, *it, *rep = NULL, *list;
	time_t now = kc_now();
	char tbuf[32];
	int r;

	*report = NULL;
	if ((r = a->be->begin(a, 1)) != 0)
		return r;
	if ((r = a->be->items(a, NULL, &all)) != 0)
		goto out;
	if ((rep = cJSON_CreateObject()) == NULL || (list = cJSON_AddArrayToObject(rep, "items")) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(rep, "now", archive_fmt_time(now, tbuf, sizeof(tbuf)));
	cJSON_ArrayForEach(it, all) {
		if ((r = prune_item(a, it, who, dry_run, now, list)) != 0)
			break;
	}
out:
	a->be->end(a);
	cJSON_Delete(all);
	if (rep != NULL)
		*report = rep;	/* also on error: what was done so far */
	return r;
}

int
kc_archive_recertify(struct kc_archive *a, const char *id, const struct kc_archive_actor *who,
    const char *note)
{
	cJSON *all = NULL, *rec = NULL;
	char why[160];
	int r;

	if (!archive_is_id(id) || who->recert == NULL)
		return kc_err_set(KC_ERR_INVALID, "a decision names the archived bundle by its full "
		    "SHA-256");
	if ((r = a->be->begin(a, 1)) != 0)
		return r;
	if ((r = a->be->items(a, id, &all)) != 0)
		goto out;
	if (cJSON_GetArraySize(all) != 1) {
		r = kc_err_set(KC_ERR_NOTFOUND, "no item %s in the store %s", id, a->location);
		goto out;
	}
	if ((r = a->be->record(a, cJSON_GetArrayItem(all, 0), &rec, why, sizeof(why))) != 0) {
		if (r == 1)
			r = kc_err_set(KC_ERR_VERIFY, "the store's record of %s is damaged: %s", id, why);
		goto out;
	}
	if (strcmp(kc_json_str0(rec, "status"), "stored") != 0 ||
	    !kc_digest_eq(kc_json_str0(rec, "id"), id)) {
		r = kc_err_set(KC_ERR_INVALID, "the store's item %s is %s, not stored: no decision "
		    "over a disposed bundle", id, kc_json_str0(rec, "status"));
		goto out;
	}
	r = a->be->add_entry(a, rec, who, "recertified", "", "kcustody recertify", note);
out:
	a->be->end(a);
	cJSON_Delete(rec);
	cJSON_Delete(all);
	return r;
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
			if (kc_fmt(buf, sizeof(buf), "%sT23:59:59Z", until) != 0)	/* 10 + 10 < 40 */
				return kc_err_set(KC_ERR_INVALID, "--retain-until '%s' is not YYYY-MM-DD or RFC 3339", until);
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

double
archive_jnum(const cJSON *o, const char *name)
{
	const cJSON *it = kc_json_get(o, name);

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
	if (strcmp(action, "recertified") == 0)
		ev->recert = who->recert;
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

	memset(st, 0, sizeof(*st));
	if ((r = kc_ledger_check(text, len, id, who->trust, st, NULL)) != 0)
		return r;
	event_for(&ev, action, to, method, note, who);
	return kc_ledger_next_entry(text, len, st, id, who->key, &ev, who->trust, line);
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
			if (!kc_digest_eq(hex, head))
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
archive_copy_fd(int in, const char *src, int out, const char *dst, char hex[KC_SHA256_HEX],
    uint64_t *size)
{
	static _Thread_local unsigned char chunk[1 << 17];
	struct kc_sha256 *h = NULL;
	uint64_t total = 0;
	int r = 0;
	ssize_t n;

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
		if ((r = kc_sha256_update(h, chunk, (size_t)n)) != 0 ||
		    (r = kc_write_all(out, chunk, (size_t)n, dst)) != 0)
			goto out;
		total += (uint64_t)n;
	}
	if ((r = kc_sha256_final(h, NULL, hex)) != 0)
		goto out;
	if (size != NULL)
		*size = total;
out:
	kc_sha256_free(h);
	return r;
}

int
archive_copy(const char *src, const char *dst, mode_t mode, char hex[KC_SHA256_HEX],
    uint64_t *size)
{
	int in, out, r;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return kc_err_set(KC_ERR_IO, "cannot read '%s': %s", src, strerror(errno));
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) < 0) {
		r = kc_err_set(KC_ERR_IO, "cannot create '%s': %s", dst, strerror(errno));
		close(in);
		return r;
	}
	r = archive_copy_fd(in, src, out, dst, hex, size);
	close(in);
	if (r == 0 && fsync(out) != 0)
		r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", dst, strerror(errno));
	if (close(out) != 0 && r == 0)
		r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", dst, strerror(errno));
	if (r != 0)
		unlink(dst);
	return r;
}

int
archive_bundle_check(cJSON *res, const cJSON *rec, const char *hex, uint64_t size, const char *what)
{
	if (!kc_digest_eq(hex, kc_json_str0(rec, "id")))
		archive_problem(res, "bundle damaged: its SHA-256 is now %s", hex);
	else if (size != archive_jsize(rec, "size"))
		archive_problem(res, "bundle size %llu differs from the %s", (unsigned long long)size,
		    what);
	else
		return 0;
	return 1;
}

int
archive_anchor_of(const char *text, size_t len, long *entries, char head[KC_SHA256_HEX])
{
	const char *last = text;
	long n = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\n')
			continue;
		n++;
		if (i + 1 < len)
			last = text + i + 1;
	}
	*entries = n;
	return kc_sha256_hex(last ? last : "", len - (size_t)(last - text), head);
}

int
archive_get_paths(const char *out_path, char **tmp, char **olpath)
{
	*tmp = NULL;
	if ((*olpath = kc_ledger_path(out_path)) == NULL ||
	    asprintf(tmp, "%s.tmp.%ld", out_path, (long)getpid()) < 0) {
		*tmp = NULL;
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	if (access(out_path, F_OK) == 0 || access(*olpath, F_OK) == 0)
		return kc_err_set(KC_ERR_INVALID, "'%s' or its ledger already exists; not replacing it",
		    out_path);
	return 0;
}

int
archive_fetched_check(const char *tmp, const char *id, const char *hex)
{
	if (kc_digest_eq(hex, id))
		return 0;
	unlink(tmp);
	return kc_err_set(KC_ERR_VERIFY, "the stored bundle %s is damaged (its SHA-256 is now %s); "
	    "nothing was handed out", id, hex);
}

int
archive_hand_out(const char *tmp, const char *out_path, const char *olpath,
    const struct kc_buf *text)
{
	int r;

	if ((r = kc_write_file_atomic(olpath, kc_buf_str(text), text->len, 0644)) == 0 &&
	    link(tmp, out_path) != 0) {
		r = kc_err_set(KC_ERR_IO, "cannot create '%s': %s", out_path, strerror(errno));
		unlink(olpath);
	}
	unlink(tmp);
	return r;
}

void
archive_problem(cJSON *res, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	kc_vfmt_trunc(msg, sizeof(msg), fmt, ap);	/* a problem line: shortened if it must be */
	va_end(ap);
	cJSON_AddItemToArray(kc_json_get_mut(res, "problems"), cJSON_CreateString(msg));
}
