/* archive_local.c - the retention archive in a local folder:
 *
 *   STORE/index.json                  items (replaced atomically under the lock)
 *   STORE/.lock                       flock'ed by every operation that writes
 *   STORE/objects/<sha256>            bundles, read-only (0444)
 *   STORE/ledgers/<sha256>.custody.jsonl   the archive's copy of each ledger
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/archive_int.h"
#include "util/err.h"
#include "util/json.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/timeutil.h"

#define INDEX_FORMAT "kcustody.archive-index/v1"

struct local {
	char *dir;
	int lockfd;
	cJSON *root;		/* the index, between begin() and end() */
};

static struct local *
L(struct kc_archive *a)
{
	return a->priv;
}

/* DIR/rel, or DIR/rel/id with suffix. */
static char *
path_of(struct kc_archive *a, const char *rel, const char *id, const char *suffix)
{
	char *p;

	if (asprintf(&p, "%s/%s%s%s%s", L(a)->dir, rel, id ? "/" : "", id ? id : "",
	    suffix ? suffix : "") < 0)
		return NULL;
	return p;
}

int
kc_archive_local_open(struct kc_archive *a, const char *dir, int create)
{
	struct local *l;
	char real[PATH_MAX], *p = NULL;
	struct stat st;
	int r;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	l->lockfd = -1;
	a->priv = l;
	if (!create) {
		/* A store is a folder holding objects/ (and ledgers/): anything
		 * else is a typo, not an empty archive to report on. */
		if (asprintf(&p, "%s/objects", dir) < 0)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		r = stat(p, &st);
		free(p);
		p = NULL;
		if (r != 0 || !S_ISDIR(st.st_mode))
			return kc_err_set(KC_ERR_CONFIG, "no archive store at '%s' (a store is made by "
			    "'kcustody archive put'; check --store)", dir);
	}
	if ((r = kc_mkdir_p(dir, 0755)) != 0)
		return r;
	if (realpath(dir, real) == NULL)
		return kc_err_set(KC_ERR_IO, "cannot open store '%s': %s", dir, strerror(errno));
	if ((l->dir = kc_strdup(real)) == NULL || asprintf(&a->location, "file://%s", real) < 0) {
		a->location = NULL;
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	if ((p = path_of(a, "objects", NULL, NULL)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r = kc_mkdir_p(p, 0755);
	free(p);
	if (r != 0)
		return r;
	if ((p = path_of(a, "ledgers", NULL, NULL)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r = kc_mkdir_p(p, 0755);
	free(p);
	return r;
}

static void
local_close(struct kc_archive *a)
{
	struct local *l = a->priv;

	if (l == NULL)
		return;
	if (l->lockfd >= 0)
		close(l->lockfd);
	cJSON_Delete(l->root);
	free(l->dir);
	free(l);
	a->priv = NULL;
}

static int
store_lock(struct kc_archive *a)
{
	struct local *l = L(a);
	char *p;

	if ((p = path_of(a, ".lock", NULL, NULL)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	l->lockfd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (l->lockfd < 0) {
		int e = errno;

		free(p);
		return kc_err_set(KC_ERR_IO, "cannot open the store's lock: %s", strerror(e));
	}
	free(p);
	while (flock(l->lockfd, LOCK_EX) != 0)
		if (errno != EINTR)
			return kc_err_set(KC_ERR_IO, "cannot lock the store: %s", strerror(errno));
	return 0;
}

static void
store_unlock(struct kc_archive *a)
{
	if (L(a)->lockfd >= 0)
		close(L(a)->lockfd);
	L(a)->lockfd = -1;
}

static int
index_load(struct kc_archive *a, cJSON **root)
{
	struct kc_buf b = KC_BUF_INIT(KC_ARCHIVE_INDEX_MAX);
	char *p;
	int r = 0;

	*root = NULL;
	if ((p = path_of(a, "index.json", NULL, NULL)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (access(p, F_OK) != 0 && errno == ENOENT) {
		if ((*root = cJSON_CreateObject()) == NULL ||
		    cJSON_AddStringToObject(*root, "format", INDEX_FORMAT) == NULL ||
		    cJSON_AddArrayToObject(*root, "items") == NULL)
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kc_read_file(p, KC_ARCHIVE_INDEX_MAX, &b)) != 0)
		goto out;
	*root = cJSON_ParseWithLength(kc_buf_str(&b), b.len);
	if (*root == NULL || !cJSON_IsArray(kc_json_get_mut(*root, "items")) ||
	    kc_json_str(*root, "format") == NULL || strcmp(kc_json_str(*root, "format"), INDEX_FORMAT) != 0)
		r = kc_err_set(KC_ERR_PARSE, "'%s' is not a kcustody archive index", p);
out:
	if (r != 0) {
		cJSON_Delete(*root);
		*root = NULL;
	}
	kc_buf_free(&b);
	free(p);
	return r;
}

static int
index_save(struct kc_archive *a, const cJSON *root)
{
	char *p = NULL, *s = NULL;
	int r;

	if ((p = path_of(a, "index.json", NULL, NULL)) == NULL || (s = cJSON_Print(root)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = kc_write_file_atomic(p, s, strlen(s), 0644);
out:
	cJSON_free(s);
	free(p);
	return r;
}

/* Why an index item cannot be used, or NULL.  The index is a file: an
 * edited one may hold any id (which becomes part of a path) or none, and
 * any status or none. */
static const char *
item_problem(const cJSON *it)
{
	const char *id = kc_json_str(it, "id"), *st = kc_json_str(it, "status");

	if (id == NULL || !archive_is_id(id))
		return "its id is not a SHA-256 hex digest";
	if (st == NULL)
		return "it has no status";
	if (strcmp(st, "stored") != 0 && strcmp(st, "disposed") != 0)
		return "its status is neither 'stored' nor 'disposed'";
	return NULL;
}

/* The item with id or a unique id prefix; NULL with an error set.  Items
 * without a valid id are never found. */
static cJSON *
index_find(cJSON *root, const char *id, int quiet)
{
	cJSON *it, *found = NULL;
	size_t n = strlen(id);
	int count = 0;

	cJSON_ArrayForEach(it, kc_json_get_mut(root, "items")) {
		const char *iid = kc_json_str(it, "id");

		if (iid != NULL && archive_is_id(iid) && strncmp(iid, id, n) == 0) {
			found = it;
			count++;
		}
	}
	if (count == 1)
		return found;
	if (!quiet)
		kc_err_set(count ? KC_ERR_INVALID : KC_ERR_NOTFOUND, count ?
		    "id '%s' is ambiguous in this store" : "no item '%s' in this store", id);
	return NULL;
}

/* Record the ledger's length and the hash of its last line in the item:
 * the ledger may grow, never shrink or change (archive_anchor_check). */
static int
set_anchor(cJSON *item, const char *text, size_t len)
{
	char hex[KC_SHA256_HEX];
	long n;
	int r;

	if ((r = archive_anchor_of(text, len, &n, hex)) != 0)
		return r;
	kc_json_delete(item, "ledger_entries");
	kc_json_delete(item, "ledger_head");
	if (cJSON_AddNumberToObject(item, "ledger_entries", (double)n) == NULL ||
	    cJSON_AddStringToObject(item, "ledger_head", hex) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

/* Copy the bundle to obj atomically (PATH.tmp.PID, 0444), hashed again
 * while copied: it must still be id, size bytes. */
static int
put_object(const char *bundle_path, const char *obj, const char *id, uint64_t size)
{
	struct kc_atomic f = KC_ATOMIC_INIT;
	char hex[KC_SHA256_HEX];
	uint64_t copied;
	int in, r;

	if ((in = open(bundle_path, O_RDONLY | O_CLOEXEC)) < 0)
		return kc_err_set(KC_ERR_IO, "cannot read '%s': %s", bundle_path, strerror(errno));
	if ((r = kc_atomic_open(&f, obj, NULL, 0444)) != 0 ||
	    (r = archive_copy_fd(in, bundle_path, f.fd, f.tmp, hex, &copied)) != 0)
		goto out;
	if (!kc_digest_eq(hex, id) || copied != size) {
		r = kc_err_set(KC_ERR_VERIFY, "'%s' changed while it was archived", bundle_path);
		goto out;
	}
	r = kc_atomic_commit(&f, 0);
out:
	kc_atomic_abort(&f);
	close(in);
	return r;
}

/* The index entry of a new item (*out, caller frees on error too). */
static int
item_new(const char *bundle_path, const char *id, uint64_t size, const char *until, int hold,
    const struct kc_buf *text, cJSON **out)
{
	const char *base = strrchr(bundle_path, '/');
	char tbuf[32];
	cJSON *item;

	if ((*out = item = cJSON_CreateObject()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddStringToObject(item, "id", id);
	cJSON_AddStringToObject(item, "name", base ? base + 1 : bundle_path);
	cJSON_AddNumberToObject(item, "size", (double)size);
	cJSON_AddStringToObject(item, "stored", archive_fmt_time(kc_now(), tbuf, sizeof(tbuf)));
	cJSON_AddStringToObject(item, "retain_until", until);
	cJSON_AddBoolToObject(item, "legal_hold", hold);
	cJSON_AddStringToObject(item, "status", "stored");
	return set_anchor(item, kc_buf_str(text), text->len);
}

static int
local_put(struct kc_archive *a, const char *bundle_path, time_t until, int hold,
    const struct kc_archive_actor *who, cJSON **item_out)
{
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	cJSON *root = NULL, *item = NULL, *old;
	char id[KC_SHA256_HEX], hex[KC_SHA256_HEX], ubuf[32], note[128];
	char *obj = NULL, *lpath = NULL, *slpath = NULL;
	uint64_t size;
	struct stat st;
	int r, made_obj = 0, entry_written = 0;

	if ((r = archive_prepare(bundle_path, who, id, &size)) != 0)
		return r;
	if ((r = store_lock(a)) != 0)
		return r;
	if ((r = index_load(a, &root)) != 0)
		goto out;
	if ((old = index_find(root, id, 1)) != NULL) {
		/* A disposed item keeps its record (index entry, ledger copy). */
		char safe[64];

		r = kc_err_set(KC_ERR_INVALID, "bundle %s is already in this store (%s)", id,
		    kc_safe_str(kc_json_str(old, "status") ? kc_json_str(old, "status") : "?",
		    safe, sizeof(safe)));
		goto out;
	}
	obj = path_of(a, "objects", id, NULL);
	slpath = path_of(a, "ledgers", id, KC_LEDGER_SUFFIX);
	lpath = kc_ledger_path(bundle_path);
	if (obj == NULL || slpath == NULL || lpath == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The bundle: hashed again while copied (it may have changed since). */
	if (lstat(obj, &st) == 0) {
		/* Left by an interrupted put: keep it only when it is intact. */
		if ((r = kc_sha256_file(obj, hex, NULL)) != 0 || !kc_digest_eq(hex, id))
			unlink(obj);
	}
	if (lstat(obj, &st) != 0) {
		if ((r = put_object(bundle_path, obj, id, size)) != 0)
			goto out;
		made_obj = 1;
	}
	/* The custody entry, in the bundle's own ledger, then its copy. */
	/* the ledger's record of the retention: whole or not at all */
	if ((r = kc_fmt(note, sizeof(note), "retain until %s%s", archive_fmt_time(until, ubuf,
	    sizeof(ubuf)), hold ? ", legal hold" : "")) != 0 ||
	    (r = archive_file_entry(lpath, id, "archived", a->location, "kcustody archive put",
	    note, who, &text)) != 0)
		goto out;
	entry_written = 1;
	if ((r = kc_write_file_atomic(slpath, kc_buf_str(&text), text.len, 0644)) != 0)
		goto out;
	if ((r = item_new(bundle_path, id, size, ubuf, hold, &text, &item)) != 0)
		goto out;
	cJSON_AddItemToArray(kc_json_get_mut(root, "items"), item);
	if ((r = index_save(a, root)) != 0) {
		item = NULL;	/* owned by root */
		goto out;
	}
	if (item_out != NULL)
		*item_out = cJSON_Duplicate(item, 1);
	item = NULL;	/* owned by root */
out:
	if (r != 0) {
		/* A put that failed (a full store, say) leaves no trace: no
		 * object it made, no ledger copy, and no 'archived' entry in
		 * the bundle's ledger claiming what did not happen. */
		char *why = kc_strdup(kc_err_msg());

		if (entry_written && archive_file_entry_undo(lpath, kc_buf_str(&text), text.len) != 0)
			kc_warn("the put failed, but its 'archived' entry in '%s' could not be taken "
			    "back: %s", lpath, kc_err_msg());
		if (entry_written)
			unlink(slpath);
		if (made_obj)
			unlink(obj);
		kc_err_set(r, "%s", why ? why : "out of memory");
		free(why);
	}
	store_unlock(a);
	cJSON_Delete(item);	/* NULL once owned by root */
	cJSON_Delete(root);
	kc_buf_free(&text);
	free(obj);
	free(lpath);
	free(slpath);
	return r;
}

/* Read the store's ledger for item and check it and its anchor. */
static int
store_ledger(struct kc_archive *a, const cJSON *item, const struct kc_trust *trust,
    struct kc_buf *text, char **path)
{
	const char *id = kc_json_str(item, "id");
	int r;

	if ((*path = path_of(a, "ledgers", id, KC_LEDGER_SUFFIX)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = kc_read_file(*path, KC_LEDGER_MAX, text)) != 0)
		return r;
	if ((r = kc_ledger_check(kc_buf_str(text), text->len, id, trust, NULL, NULL)) != 0)
		return r;
	return archive_anchor_check(kc_buf_str(text), text->len,
	    archive_jlong(item, "ledger_entries"), kc_json_str(item, "ledger_head") ?
	    kc_json_str(item, "ledger_head") : "");
}

static int
local_get(struct kc_archive *a, const char *id, const char *out_path,
    const struct kc_archive_actor *who, cJSON **item_out)
{
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	cJSON *root = NULL, *item;
	char hex[KC_SHA256_HEX], *obj = NULL, *tmp = NULL, *slpath = NULL, *olpath = NULL;
	const char *iid;
	int r;

	if ((r = archive_get_paths(out_path, &tmp, &olpath)) != 0)
		goto out;
	if ((r = store_lock(a)) != 0)
		goto out;
	if ((r = index_load(a, &root)) != 0)
		goto out;
	if ((item = index_find(root, id, 0)) == NULL) {
		r = kc_err_code();
		goto out;
	}
	iid = kc_json_str(item, "id");
	if (item_problem(item) != NULL) {
		r = kc_err_set(KC_ERR_VERIFY, "the store's index entry for %s is damaged (%s); "
		    "nothing was handed out", iid, item_problem(item));
		goto out;
	}
	if (strcmp(kc_json_str(item, "status"), "stored") != 0) {
		r = kc_err_set(KC_ERR_NOTFOUND, "item %s was disposed of", iid);
		goto out;
	}
	if ((obj = path_of(a, "objects", iid, NULL)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = archive_copy(obj, tmp, 0444, hex, NULL)) != 0)
		goto out;
	if ((r = archive_fetched_check(tmp, iid, hex)) != 0)
		goto out;
	if ((r = store_ledger(a, item, who->trust, &text, &slpath)) != 0) {
		char *why = kc_strdup(kc_err_msg());

		unlink(tmp);
		r = kc_err_set(r, "the store's ledger for %s does not verify: %s", iid, why ? why : "");
		free(why);
		goto out;
	}
	/* Access is recorded before the bundle is handed out. */
	if ((r = archive_file_entry(slpath, iid, "accessed", out_path, "kcustody archive get",
	    NULL, who, &text)) != 0) {
		unlink(tmp);
		goto out;
	}
	if ((r = set_anchor(item, kc_buf_str(&text), text.len)) != 0 ||
	    (r = index_save(a, root)) != 0) {
		unlink(tmp);
		goto out;
	}
	if ((r = archive_hand_out(tmp, out_path, olpath, &text)) != 0)
		goto out;
	if (item_out != NULL)
		*item_out = cJSON_Duplicate(item, 1);
out:
	store_unlock(a);
	cJSON_Delete(root);
	kc_buf_free(&text);
	free(obj);
	free(tmp);
	free(slpath);
	free(olpath);
	return r;
}


/* ---- the primitives of the shared list, verify and prune -------------- */

static int
local_begin(struct kc_archive *a, int write)
{
	int r;

	if (write && (r = store_lock(a)) != 0)
		return r;
	if ((r = index_load(a, &L(a)->root)) != 0)
		store_unlock(a);
	return r;
}

static void
local_end(struct kc_archive *a)
{
	cJSON_Delete(L(a)->root);
	L(a)->root = NULL;
	store_unlock(a);
}

static int
local_items(struct kc_archive *a, const char *id, cJSON **items)
{
	if (id != NULL && index_find(L(a)->root, id, 0) == NULL)
		return kc_err_code();
	*items = cJSON_Duplicate(kc_json_get(L(a)->root, "items"), 1);
	return *items ? 0 : kc_err_set(KC_ERR_NOMEM, "out of memory");
}

/* The index entry itself; damaged (1) when it cannot be used. */
static int
local_record(struct kc_archive *a, const cJSON *item, cJSON **rec, char *why, size_t n)
{
	const char *p = item_problem(item);

	(void)a;
	if ((*rec = cJSON_Duplicate(item, 1)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (p == NULL)
		return 0;
	kc_fmt_trunc(why, n, "%s", p);	/* a detail for display */
	return 1;
}

/* The live index entry of a record (a record is a copy). */
static cJSON *
live_item(struct kc_archive *a, const cJSON *rec)
{
	cJSON *it = index_find(L(a)->root, kc_json_str(rec, "id"), 1);

	if (it == NULL)
		kc_err_set(KC_ERR_NOTFOUND, "item %s left the index", kc_json_str(rec, "id"));
	return it;
}

static void
local_check_bundle(struct kc_archive *a, const cJSON *rec, int stored, cJSON *res)
{
	char hex[KC_SHA256_HEX], *obj;
	uint64_t size = 0;
	struct stat st;

	if ((obj = path_of(a, "objects", kc_json_str(rec, "id"), NULL)) == NULL) {
		archive_problem(res, "out of memory");
		return;
	}
	if (lstat(obj, &st) != 0) {
		if (stored)
			archive_problem(res, "bundle missing: %s", obj);
	} else if (!stored) {
		archive_problem(res, "disposed of, but the bundle is still in the store: %s", obj);
	} else if (!S_ISREG(st.st_mode)) {
		archive_problem(res, "not a regular file: %s", obj);
	} else if (kc_sha256_file(obj, hex, &size) != 0) {
		archive_problem(res, "%s", kc_err_msg());
	} else if (archive_bundle_check(res, rec, hex, size, "index") == 0 &&
	    (st.st_mode & 0222) != 0) {
		archive_problem(res, "bundle is writable (mode %03o), not read-only",
		    (unsigned)(st.st_mode & 0777));
	}
	free(obj);
}

static int
local_ledger(struct kc_archive *a, const cJSON *rec, const struct kc_trust *trust,
    struct kc_buf *text, cJSON *problems)
{
	char *lp = NULL;
	int r;

	(void)problems;
	r = store_ledger(a, rec, trust, text, &lp);
	free(lp);
	return r;
}

/* Left-overs: files no index entry names (an interrupted put). */
static void
local_leftovers(struct kc_archive *a, cJSON *rep)
{
	struct dirent *de;
	DIR *d;
	char *p;

	if ((p = path_of(a, "objects", NULL, NULL)) != NULL && (d = opendir(p)) != NULL) {
		cJSON *w = cJSON_AddArrayToObject(rep, "unindexed");

		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (!archive_is_id(de->d_name) || index_find(L(a)->root, de->d_name, 1) == NULL)
				cJSON_AddItemToArray(w, cJSON_CreateString(de->d_name));
		}
		closedir(d);
	}
	free(p);
}

static int
local_add_entry(struct kc_archive *a, const cJSON *rec, const struct kc_archive_actor *who,
    const char *action, const char *to, const char *method, const char *note)
{
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	cJSON *it;
	char *lp = NULL;
	int r;

	if ((it = live_item(a, rec)) == NULL)
		return kc_err_code();
	if ((r = store_ledger(a, it, who->trust, &text, &lp)) == 0 &&
	    (r = archive_file_entry(lp, kc_json_str(it, "id"), action, to, method, note, who,
	    &text)) == 0)
		r = set_anchor(it, kc_buf_str(&text), text.len);
	kc_buf_free(&text);
	free(lp);
	return r;
}

static int
local_dispose(struct kc_archive *a, const cJSON *rec, cJSON *res)
{
	cJSON *it;
	char *obj, tbuf[32];
	int r;

	if ((it = live_item(a, rec)) == NULL)
		return kc_err_code();
	if ((obj = path_of(a, "objects", kc_json_str(it, "id"), NULL)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (unlink(obj) != 0 && errno != ENOENT) {
		r = kc_err_set(KC_ERR_IO, "cannot remove '%s': %s", obj, strerror(errno));
		free(obj);
		return r;
	}
	free(obj);
	kc_json_set(it, "status", cJSON_CreateString("disposed"));
	cJSON_AddStringToObject(it, "disposed", archive_fmt_time(kc_now(), tbuf, sizeof(tbuf)));
	cJSON_AddStringToObject(res, "result", "disposed");
	return index_save(a, L(a)->root);
}

const struct archive_backend kc_archive_local = {
	.put = local_put,
	.get = local_get,
	.begin = local_begin,
	.end = local_end,
	.items = local_items,
	.record = local_record,
	.check_bundle = local_check_bundle,
	.ledger = local_ledger,
	.leftovers = local_leftovers,
	.store_locked = NULL,
	.add_entry = local_add_entry,
	.dispose = local_dispose,
	.close = local_close,
};
