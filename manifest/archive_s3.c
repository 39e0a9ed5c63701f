/* archive_s3.c - the retention archive in S3-compatible object storage
 * with Object Lock (docs/CUSTODY.md, "S3 layout"):
 *
 *   PREFIX/<id>/bundle                     the bundle, locked
 *   PREFIX/<id>/custody.jsonl              the ledger as archived, locked
 *   PREFIX/<id>/custody/<seq>-<h16>.jsonl  each later entry, one object each
 *   PREFIX/<id>/meta.json                  written last: the item exists
 *
 * The requests themselves (signing, uploads, answers) are s3_client.c's;
 * list, verify and prune are archive.c's, over the primitives below.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/archive_int.h"
#include "manifest/s3_client.h"
#include "util/err.h"
#include "util/json.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/timeutil.h"

#define META_FORMAT "kcustody.archive-item/v1"

struct s3 {
	struct kc_s3 c;		/* the connection (credentials inside) */
	char *prefix;		/* "" or "p/q/" */
};

static struct s3 *
S(struct kc_archive *a)
{
	return a->priv;
}

/* ---- items ------------------------------------------------------------ */

static int meta_landed(struct s3 *s, const char *id, int err);

/* ---- keys and locks --------------------------------------------------- */

static char *
item_key(struct s3 *s, const char *id, const char *rest)
{
	char *k;

	if (asprintf(&k, "%s%s/%s", s->prefix, id, rest) < 0)
		return NULL;
	return k;
}

/* ---- items ------------------------------------------------------------ */

static int
meta_get(struct s3 *s, const char *id, cJSON **meta)
{
	struct kc_buf b = KC_BUF_INIT(KC_S3_RESP_MAX);
	char *key = item_key(s, id, "meta.json");
	int r;

	*meta = NULL;
	if (key == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = kc_s3_get_small(&s->c, key, NULL, &b)) == 0) {
		*meta = cJSON_ParseWithLength(kc_buf_str(&b), b.len);
		if (*meta == NULL || kc_json_str(*meta, "format") == NULL ||
		    strcmp(kc_json_str(*meta, "format"), META_FORMAT) != 0 ||
		    kc_json_str(*meta, "id") == NULL || strcmp(kc_json_str(*meta, "id"), id) != 0 ||
		    kc_json_str(*meta, "status") == NULL) {
			cJSON_Delete(*meta);
			*meta = NULL;
			r = kc_err_set(KC_ERR_VERIFY, "%s is not a kcustody item record", key);
		}
	}
	free(key);
	kc_buf_free(&b);
	return r;
}

static int
meta_put(struct s3 *s, const cJSON *meta, time_t until)
{
	char *key = item_key(s, kc_json_str(meta, "id"), "meta.json"), *txt = cJSON_Print(meta);
	int r;

	if (key == NULL || txt == NULL)
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
	else
		r = kc_s3_put_small(&s->c, key, txt, strlen(txt), until, 0, NULL);
	free(key);
	cJSON_free(txt);
	return r;
}

/* Ids of all items (keys ending in /meta.json). */
static int
item_ids(struct s3 *s, cJSON **ids)
{
	cJSON *keys = NULL, *k;
	size_t pl = strlen(s->prefix);
	int r;

	if ((r = kc_s3_list_keys(&s->c, s->prefix, &keys)) != 0)
		return r;
	if ((*ids = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(keys);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	cJSON_ArrayForEach(k, keys) {
		const char *rest = k->valuestring + pl;
		char id[KC_SHA256_HEX];

		if (strlen(rest) != 64 + 10 || strcmp(rest + 64, "/meta.json") != 0)
			continue;
		memcpy(id, rest, 64);
		id[64] = '\0';
		if (archive_is_id(id))
			cJSON_AddItemToArray(*ids, cJSON_CreateString(id));
	}
	cJSON_Delete(keys);
	return 0;
}

/* Resolve an id prefix to the full id of an item. */
static int
resolve(struct s3 *s, const char *prefix, char id[KC_SHA256_HEX])
{
	cJSON *ids = NULL, *it;
	int n = 0, r;

	if (archive_is_id(prefix)) {
		return kc_fmt(id, KC_SHA256_HEX, "%s", prefix);
	}
	if ((r = item_ids(s, &ids)) != 0)
		return r;
	cJSON_ArrayForEach(it, ids)
		if (strncmp(it->valuestring, prefix, strlen(prefix)) == 0 && n++ == 0)
			r = kc_fmt(id, KC_SHA256_HEX, "%s", it->valuestring);	/* an id: 64 hex */
	cJSON_Delete(ids);
	if (r != 0)
		return r;
	if (n != 1)
		return kc_err_set(n ? KC_ERR_INVALID : KC_ERR_NOTFOUND, n ?
		    "id '%s' is ambiguous in this store" : "no item '%s' in this store", prefix);
	return 0;
}

/* The whole ledger of an item: the archived copy, then each entry object
 * in key order (= seq order).  Checks the copy against the anchor in meta
 * and each entry object's key against its content. */
static int
ledger_text(struct s3 *s, const cJSON *meta, struct kc_buf *text, cJSON *problems)
{
	const char *id = kc_json_str(meta, "id");
	char *key = item_key(s, id, "custody.jsonl"), *dir = item_key(s, id, "custody/");
	struct kc_buf one = KC_BUF_INIT(KC_LEDGER_LINE_MAX + 1);
	cJSON *keys = NULL, *k;
	int r;

	if (key == NULL || dir == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kc_s3_get_small(&s->c, key, kc_json_str(meta, "ledger_version"), text)) != 0)
		goto out;
	if ((r = archive_anchor_check(kc_buf_str(text), text->len,
	    archive_jlong(meta, "ledger_entries"), kc_json_str(meta, "ledger_head") ?
	    kc_json_str(meta, "ledger_head") : "")) != 0)
		goto out;
	if ((r = kc_s3_list_keys(&s->c, dir, &keys)) != 0)
		goto out;
	cJSON_ArrayForEach(k, keys) {
		const char *name = k->valuestring + strlen(dir);
		char hex[KC_SHA256_HEX];
		cJSON *e;

		kc_buf_reset(&one);
		if ((r = kc_s3_get_small(&s->c, k->valuestring, NULL, &one)) != 0)
			goto out;
		kc_sha256_hex(one.data ? one.data : "", one.len, hex);
		e = cJSON_ParseWithLength(kc_buf_str(&one), one.len);
		/* <seq, 10 digits>-<first 16 hex of the line's SHA-256>.jsonl */
		if (e == NULL || strlen(name) != 10 + 1 + 16 + 6 || name[10] != '-' ||
		    !kc_mem_eq_ct(name + 11, 16, hex, 16) ||
		    archive_jlong(e, "seq") != strtol(name, NULL, 10)) {
			char msg[512];

			kc_fmt_trunc(msg, sizeof(msg), "entry object %s does not match its content", name);
			if (problems != NULL)
				cJSON_AddItemToArray(problems, cJSON_CreateString(msg));
		}
		cJSON_Delete(e);
		if ((r = kc_buf_add(text, one.data ? one.data : "", one.len)) != 0)
			goto out;
	}
out:
	cJSON_Delete(keys);
	kc_buf_free(&one);
	free(key);
	free(dir);
	return r;
}

/* Write the next ledger entry of an item as its own object. */
static int
add_entry(struct s3 *s, const cJSON *meta, const struct kc_archive_actor *who, const char *action,
    const char *to, const char *method, const char *note, time_t until, struct kc_buf *text)
{
	struct kc_buf line = KC_BUF_INIT(KC_LEDGER_LINE_MAX + 1);
	struct kc_ledger_state st;
	const char *id = kc_json_str(meta, "id");
	char hex[KC_SHA256_HEX], rest[64], *key = NULL;
	int r;

	if ((r = archive_next_entry(kc_buf_str(text), text->len, id, action, to, method, note, who,
	    &st, &line)) != 0)
		goto out;
	kc_sha256_hex(line.data, line.len, hex);
	if ((r = kc_fmt(rest, sizeof(rest), "custody/%010ld-%.16s.jsonl", st.last_seq + 1, hex)) != 0)
		goto out;
	if ((key = item_key(s, id, rest)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kc_s3_put_small(&s->c, key, line.data, line.len, until, 0, NULL)) != 0)
		goto out;
	r = kc_buf_add(text, line.data, line.len);
out:
	free(key);
	kc_buf_free(&line);
	return r;
}

static time_t
meta_until(const cJSON *meta)
{
	time_t t = 0;
	long ns;

	if (kc_json_str(meta, "retain_until") == NULL ||
	    kc_parse_rfc3339(kc_json_str(meta, "retain_until"), &t, &ns) != 0)
		return 0;
	return t;
}

/* The item record s3_put writes last (meta.json). */
static int
meta_new(struct s3 *s, const char *bundle_path, const char *id, uint64_t size, const char *until,
    int hold, const char *bver, const char *lver, const struct kc_buf *text, cJSON **out)
{
	const char *base = strrchr(bundle_path, '/');
	char tbuf[32], hex[KC_SHA256_HEX];
	cJSON *meta;
	long n = 0;
	int r;

	if ((*out = meta = cJSON_CreateObject()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddStringToObject(meta, "format", META_FORMAT);
	cJSON_AddStringToObject(meta, "id", id);
	cJSON_AddStringToObject(meta, "name", base ? base + 1 : bundle_path);
	cJSON_AddNumberToObject(meta, "size", (double)size);
	cJSON_AddStringToObject(meta, "stored", kc_fmt_rfc3339(kc_now(), tbuf, sizeof(tbuf)));
	cJSON_AddStringToObject(meta, "retain_until", until);
	cJSON_AddBoolToObject(meta, "legal_hold", hold);
	cJSON_AddStringToObject(meta, "lock_mode", s->c.mode);
	cJSON_AddStringToObject(meta, "status", "stored");
	cJSON_AddStringToObject(meta, "bundle_version", bver);
	cJSON_AddStringToObject(meta, "ledger_version", lver);
	cJSON_AddBoolToObject(meta, "multipart", size >= s->c.threshold);
	if ((r = archive_anchor_of(text->data, text->len, &n, hex)) != 0)
		return r;
	cJSON_AddNumberToObject(meta, "ledger_entries", (double)n);
	cJSON_AddStringToObject(meta, "ledger_head", hex);
	return 0;
}

static int
s3_put(struct kc_archive *a, const char *bundle_path, time_t until, int hold,
    const struct kc_archive_actor *who, cJSON **item_out)
{
	struct s3 *s = S(a);
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	char id[KC_SHA256_HEX], bver[256] = "", lver[256] = "", ubuf[32], note[128];
	char *bkey = NULL, *lkey = NULL, *lpath = NULL, hex[KC_SHA256_HEX];
	cJSON *meta = NULL, *old = NULL;
	uint64_t size, size2;
	int r, entry_written = 0;

	if ((r = archive_prepare(bundle_path, who, id, &size)) != 0)
		return r;
	if ((r = meta_get(s, id, &old)) == 0) {
		r = kc_err_set(KC_ERR_INVALID, "bundle %s is already in this store (%s)", id,
		    kc_json_str(old, "status") ? kc_json_str(old, "status") : "?");
		goto out;
	} else if (r != KC_ERR_NOTFOUND) {
		goto out;
	}
	kc_err_clear();
	bkey = item_key(s, id, "bundle");
	lkey = item_key(s, id, "custody.jsonl");
	lpath = kc_ledger_path(bundle_path);
	if (bkey == NULL || lkey == NULL || lpath == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kc_s3_put_file(&s->c, bkey, bundle_path, size, until, hold, bver)) != 0)
		goto out;
	/* the bytes uploaded were hashed as they went (x-amz-content-sha256 /
	 * Content-MD5); make sure the file did not change meanwhile */
	if ((r = kc_sha256_file(bundle_path, hex, &size2)) != 0)
		goto out;
	if (!kc_digest_eq(hex, id) || size2 != size) {
		r = kc_err_set(KC_ERR_VERIFY, "'%s' changed while it was archived", bundle_path);
		goto out;
	}
	/* the ledger's record of the retention: whole or not at all */
	if ((r = kc_fmt(note, sizeof(note), "retain until %s (%s)%s", kc_fmt_rfc3339(until, ubuf,
	    sizeof(ubuf)), s->c.mode, hold ? ", legal hold" : "")) != 0 ||
	    (r = archive_file_entry(lpath, id, "archived", a->location, "kcustody archive put",
	    note, who, &text)) != 0)
		goto out;
	entry_written = 1;
	if ((r = kc_s3_put_small(&s->c, lkey, text.data, text.len, until, hold, lver)) != 0)
		goto out;
	if ((r = meta_new(s, bundle_path, id, size, ubuf, hold, bver, lver, &text, &meta)) != 0)
		goto out;
	/* Written last: until it exists the item is not listed. */
	if ((r = meta_put(s, meta, until)) != 0 && (r = meta_landed(s, id, r)) != 0) {
		if (r != KC_ERR_NOTFOUND)
			entry_written = 0;	/* may be in the store: keep the entry */
		goto out;
	}
	if (item_out != NULL)
		*item_out = cJSON_Duplicate(meta, 1);
out:
	if (r != 0 && entry_written) {
		/* Until meta.json exists the item is not in the store: the
		 * bundle's ledger must not say it was archived (what was
		 * uploaded stays locked, unlisted, as an interrupted put). */
		char *why = kc_strdup(kc_err_msg());

		if (archive_file_entry_undo(lpath, kc_buf_str(&text), text.len) != 0)
			kc_warn("the put failed, but its 'archived' entry in '%s' could not be taken "
			    "back: %s", lpath, kc_err_msg());
		kc_err_set(r, "%s", why ? why : "out of memory");
		free(why);
	}
	cJSON_Delete(meta);
	cJSON_Delete(old);
	kc_buf_free(&text);
	free(bkey);
	free(lkey);
	free(lpath);
	return r;
}

/* meta_put answered with error `err`; but a timeout, a reset connection or
 * a proxy's 5xx can come after S3 stored the object.  Ask the store: 0 when
 * the record is there (the item IS archived: the 'archived' entry must
 * stay, or the bundle's ledger and the store's copy fork), KC_ERR_NOTFOUND
 * when it is certainly absent (the put failed; the entry is taken back),
 * anything else when it cannot be told (the entry stays; the caller is told
 * to look). */
static int
meta_landed(struct s3 *s, const char *id, int err)
{
	char *why = kc_strdup(kc_err_msg());
	cJSON *chk = NULL;
	int r = meta_get(s, id, &chk);

	cJSON_Delete(chk);
	if (r == 0) {
		kc_warn("the store answered the item record's upload with an error (%s), but the "
		    "record is there: bundle %s is archived", why ? why : "?", id);
	} else if (r == KC_ERR_NOTFOUND) {
		kc_err_set(KC_ERR_NOTFOUND, "%s", why ? why : "out of memory");
	} else {
		kc_err_set(err, "%s; whether the item record was stored cannot be told (%s): its "
		    "'archived' custody entry is kept; check with 'kcustody archive list' and "
		    "'archive verify'", why ? why : "?", kc_err_msg());
		r = err;
		if (r == KC_ERR_NOTFOUND)
			r = KC_ERR_IO;
	}
	free(why);
	return r;
}

/* Download the bundle version to path (new file), hashing it. */
static int
fetch_bundle(struct s3 *s, const cJSON *meta, const char *path, char hex[KC_SHA256_HEX],
    uint64_t *size)
{
	struct kc_buf query = KC_BUF_INIT(1024), err = KC_BUF_INIT(KC_S3_RESP_MAX);
	char *key = item_key(s, kc_json_str(meta, "id"), "bundle");
	struct kc_s3_req q;
	int fd = -1, r;

	if (key == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444)) < 0) {
		r = kc_err_set(KC_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
		goto out;
	}
	kc_buf_adds(&query, "versionId=");
	kc_s3_qenc(&query, kc_json_str(meta, "bundle_version") ? kc_json_str(meta, "bundle_version") : "");
	kc_s3_req_init(&q, "GET", key, kc_buf_str(&query), &err);
	q.out_fd = fd;
	if ((q.out_hash = kc_sha256_new()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kc_s3_ok(&s->c, &q, key)) == 0) {
		if (fsync(fd) != 0)
			r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
		else
			r = kc_sha256_final(q.out_hash, NULL, hex);
		*size = q.out_bytes;
	}
	kc_sha256_free(q.out_hash);
out:
	if (fd >= 0)
		close(fd);
	if (r != 0 && fd >= 0)
		unlink(path);
	free(key);
	kc_buf_free(&query);
	kc_buf_free(&err);
	return r;
}

static int
s3_get(struct kc_archive *a, const char *idp, const char *out_path,
    const struct kc_archive_actor *who, cJSON **item_out)
{
	struct s3 *s = S(a);
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	char id[KC_SHA256_HEX], hex[KC_SHA256_HEX], *tmp = NULL, *olpath = NULL;
	cJSON *meta = NULL;
	uint64_t size;
	int r;

	if ((r = archive_get_paths(out_path, &tmp, &olpath)) != 0)
		goto out;
	if ((r = resolve(s, idp, id)) != 0 || (r = meta_get(s, id, &meta)) != 0)
		goto out;
	if (strcmp(kc_json_str(meta, "status"), "stored") != 0) {
		r = kc_err_set(KC_ERR_NOTFOUND, "item %s was disposed of", id);
		goto out;
	}
	if ((r = fetch_bundle(s, meta, tmp, hex, &size)) != 0)
		goto out;
	if ((r = archive_fetched_check(tmp, id, hex)) != 0)
		goto out;
	if ((r = ledger_text(s, meta, &text, NULL)) != 0 ||
	    (r = add_entry(s, meta, who, "accessed", out_path, "kcustody archive get", NULL,
	    meta_until(meta), &text)) != 0) {
		unlink(tmp);
		goto out;
	}
	if ((r = archive_hand_out(tmp, out_path, olpath, &text)) == 0 && item_out != NULL)
		*item_out = cJSON_Duplicate(meta, 1);
out:
	cJSON_Delete(meta);
	kc_buf_free(&text);
	free(tmp);
	free(olpath);
	return r;
}

/* ---- the primitives of the shared list, verify and prune -------------- */

static int
s3_begin(struct kc_archive *a, int write)
{
	(void)a;
	(void)write;
	return 0;	/* the store locks its own objects */
}

static void
s3_end(struct kc_archive *a)
{
	(void)a;
}

static int
s3_items(struct kc_archive *a, const char *idp, cJSON **items)
{
	char id[KC_SHA256_HEX];
	int r;

	if (idp == NULL)
		return item_ids(S(a), items);
	if ((r = resolve(S(a), idp, id)) != 0)
		return r;
	if ((*items = cJSON_CreateArray()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddItemToArray(*items, cJSON_CreateString(id));
	return 0;
}

/* meta.json of the listed id; an error when it cannot be read. */
static int
s3_record(struct kc_archive *a, const cJSON *item, cJSON **rec, char *why, size_t n)
{
	(void)why;
	(void)n;
	return meta_get(S(a), item->valuestring, rec);
}

/* Re-download and re-hash the bundle version (through a private
 * temporary file) and read back what the store enforces. */
static void
s3_check_bundle(struct kc_archive *a, const cJSON *meta, int stored, cJSON *res)
{
	struct s3 *s = S(a);
	char hex[KC_SHA256_HEX], tmp[] = "/tmp/kcustody-verify.XXXXXX", mode[32], hold[16];
	char t1[32], t2[32], *bkey;
	uint64_t size = 0;
	time_t until;
	int fd, r;

	if (!stored)
		return;
	if ((fd = mkstemp(tmp)) < 0) {
		archive_problem(res, "cannot create a temporary file: %s", strerror(errno));
		return;
	}
	close(fd);
	unlink(tmp);
	if (fetch_bundle(s, meta, tmp, hex, &size) != 0)
		archive_problem(res, "bundle: %s", kc_err_msg());
	else
		archive_bundle_check(res, meta, hex, size, "record");
	unlink(tmp);
	if ((bkey = item_key(s, kc_json_str(meta, "id"), "bundle")) == NULL)
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
	else
		r = kc_s3_read_lock(&s->c, bkey, kc_json_str(meta, "bundle_version"), mode,
		    sizeof(mode), &until, hold, sizeof(hold));
	free(bkey);
	if (r != 0) {
		archive_problem(res, "lock: %s", kc_err_msg());
		return;
	}
	cJSON_AddStringToObject(res, "lock_mode", mode);
	cJSON_AddStringToObject(res, "retain_until", until ? kc_fmt_rfc3339(until, t1, sizeof(t1)) : "");
	cJSON_AddStringToObject(res, "legal_hold", hold);
	if (strcmp(mode, kc_json_str0(meta, "lock_mode")) != 0)
		archive_problem(res, "lock mode is '%s', not %s", mode, kc_json_str0(meta, "lock_mode"));
	if (until < meta_until(meta))
		archive_problem(res, "the store retains it until %s, before %s", until ? t1 : "(no date)",
		    kc_fmt_rfc3339(meta_until(meta), t2, sizeof(t2)));
	if (cJSON_IsTrue(kc_json_get(meta, "legal_hold")) != (strcmp(hold, "ON") == 0))
		archive_problem(res, "legal hold is %s in the store, %s in the record",
		    hold[0] ? hold : "OFF", cJSON_IsTrue(kc_json_get(meta, "legal_hold")) ? "ON" : "OFF");
}

static int
s3_ledger(struct kc_archive *a, const cJSON *meta, const struct kc_trust *trust,
    struct kc_buf *text, cJSON *problems)
{
	int r;

	if ((r = ledger_text(S(a), meta, text, problems)) != 0)
		return r;
	return kc_ledger_check(kc_buf_str(text), text->len, kc_json_str(meta, "id"), trust, NULL, NULL);
}

/* The store's own word: its lock on the bundle version, by its clock. */
static int
s3_store_locked(struct kc_archive *a, const cJSON *meta, char *detail, size_t n)
{
	struct s3 *s = S(a);
	char mode[32], hold[16], tbuf[32], *bkey;
	time_t until, server_now;
	int r;

	if ((bkey = item_key(s, kc_json_str(meta, "id"), "bundle")) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r = kc_s3_read_lock(&s->c, bkey, kc_json_str(meta, "bundle_version"), mode, sizeof(mode),
	    &until, hold, sizeof(hold));
	free(bkey);
	if (r != 0)
		return r;
	server_now = kc_s3_server_time(&s->c);
	if (strcmp(hold, "ON") != 0 && until <= server_now)
		return 0;
	kc_fmt_trunc(detail, n, "the store still locks it%s%s%s",
	    strcmp(hold, "ON") == 0 ? " (legal hold)" : "", until > server_now ? " until " : "",
	    until > server_now ? kc_fmt_rfc3339(until, tbuf, sizeof(tbuf)) : "");
	return 1;
}

static int
s3_add_entry(struct kc_archive *a, const cJSON *meta, const struct kc_archive_actor *who,
    const char *action, const char *to, const char *method, const char *note)
{
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	int r;

	if ((r = ledger_text(S(a), meta, &text, NULL)) == 0)
		r = add_entry(S(a), meta, who, action, to, method, note, 0, &text);
	kc_buf_free(&text);
	return r;
}

/* DELETE the bundle version (refused while locked: reported), then mark
 * the record disposed. */
static int
s3_dispose(struct kc_archive *a, const cJSON *rec, cJSON *res)
{
	struct s3 *s = S(a);
	struct kc_buf resp = KC_BUF_INIT(KC_S3_RESP_MAX), query = KC_BUF_INIT(1024);
	char *bkey = item_key(s, kc_json_str(rec, "id"), "bundle"), tbuf[32];
	cJSON *meta = NULL;
	struct kc_s3_req q;
	int r = 0;

	kc_buf_adds(&query, "versionId=");
	kc_s3_qenc(&query, kc_json_str0(rec, "bundle_version"));
	kc_s3_req_init(&q, "DELETE", bkey, kc_buf_str(&query), &resp);
	if (bkey == NULL || kc_s3_do(&s->c, &q) != 0) {
		cJSON_AddStringToObject(res, "result", "error");
		cJSON_AddStringToObject(res, "detail", bkey ? kc_err_msg() : "out of memory");
		goto out;	/* reported; go on with the next item */
	}
	if (q.status / 100 != 2) {
		kc_s3_fail(&s->c, &q, "delete");
		cJSON_AddStringToObject(res, "result", "refused by the store");
		cJSON_AddStringToObject(res, "detail", kc_err_msg());
		goto out;
	}
	if ((meta = cJSON_Duplicate(rec, 1)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	kc_json_set(meta, "status", cJSON_CreateString("disposed"));
	cJSON_AddStringToObject(meta, "disposed", kc_fmt_rfc3339(kc_now(), tbuf, sizeof(tbuf)));
	if ((r = meta_put(s, meta, 0)) != 0) {
		cJSON_AddStringToObject(res, "result", "error");
		cJSON_AddStringToObject(res, "detail", kc_err_msg());
	}
out:
	cJSON_Delete(meta);
	free(bkey);
	kc_buf_free(&resp);
	kc_buf_free(&query);
	return r;
}

static void
s3_close(struct kc_archive *a)
{
	struct s3 *s = a->priv;

	if (s == NULL)
		return;
	kc_s3_close(&s->c);
	free(s->prefix);
	free(s);
	a->priv = NULL;
}

int
kc_archive_s3_open(struct kc_archive *a, const struct kc_archive_opts *o)
{
	struct kc_buf resp = KC_BUF_INIT(KC_S3_RESP_MAX);
	const char *rest = o->store + 5, *slash;
	char *p, state[32] = "";
	struct s3 *s;
	struct kc_s3_req q;
	size_t n;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	a->priv = s;
	slash = strchr(rest, '/');
	s->c.bucket = slash ? kc_strndup(rest, (size_t)(slash - rest)) : kc_strdup(rest);
	p = kc_strdup(slash ? slash + 1 : "");
	if (s->c.bucket == NULL || p == NULL) {
		free(p);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	while ((n = strlen(p)) > 0 && p[n - 1] == '/')
		p[n - 1] = '\0';
	if (s->c.bucket[0] == '\0' || !kc_s3_key_chars_ok(s->c.bucket) || strchr(s->c.bucket, '/') ||
	    !kc_s3_key_chars_ok(p) || strstr(p, "//") != NULL || p[0] == '/') {
		free(p);
		return kc_err_set(KC_ERR_INVALID, "store '%s': s3://BUCKET/PREFIX with letters, digits "
		    "and - . _ / only", o->store);
	}
	if (p[0] != '\0' && asprintf(&s->prefix, "%s/", p) < 0)
		s->prefix = NULL;
	else if (p[0] == '\0')
		s->prefix = kc_strdup("");
	free(p);
	if (s->prefix == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (asprintf(&a->location, "s3://%s/%s", s->c.bucket, s->prefix) < 0) {
		a->location = NULL;
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	if ((r = kc_s3_open(&s->c, o)) != 0)
		return r;
	/* The bucket must lock objects: ask it (this also checks credentials). */
	kc_s3_req_init(&q, "GET", NULL, "object-lock=", &resp);
	r = kc_s3_do(&s->c, &q);
	if (r == 0 && q.status / 100 != 2) {
		char code[64] = "";

		kc_s3_xml_first(kc_buf_str(&resp), "Code", code, sizeof(code));
		if (strcmp(code, "ObjectLockConfigurationNotFoundError") == 0 ||
		    strcmp(code, "ObjectLockConfigurationNotFound") == 0)
			r = kc_err_set(KC_ERR_CONFIG, "bucket '%s' has no Object Lock; create it with "
			    "Object Lock enabled (x-amz-bucket-object-lock-enabled: true)", s->c.bucket);
		else
			r = kc_s3_fail(&s->c, &q, "cannot open the S3 store");
	} else if (r == 0 && (!kc_s3_xml_first(kc_buf_str(&resp), "ObjectLockEnabled", state, sizeof(state)) ||
	    strcmp(state, "Enabled") != 0)) {
		r = kc_err_set(KC_ERR_CONFIG, "bucket '%s' has no Object Lock enabled", s->c.bucket);
	}
	kc_buf_free(&resp);
	return r;
}

const struct archive_backend kc_archive_s3 = {
	.put = s3_put,
	.get = s3_get,
	.begin = s3_begin,
	.end = s3_end,
	.items = s3_items,
	.record = s3_record,
	.check_bundle = s3_check_bundle,
	.ledger = s3_ledger,
	.leftovers = NULL,
	.store_locked = s3_store_locked,
	.add_entry = s3_add_entry,
	.dispose = s3_dispose,
	.close = s3_close,
};
