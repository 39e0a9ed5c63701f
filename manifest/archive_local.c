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
#include "util/fsutil.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/timeutil.h"

#define INDEX_FORMAT "kcustody.archive-index/v1"

struct local {
	char *dir;
	int lockfd;
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
	if (*root == NULL || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*root, "items")) ||
	    archive_jstr(*root, "format") == NULL || strcmp(archive_jstr(*root, "format"), INDEX_FORMAT) != 0)
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
	const char *id = archive_jstr(it, "id"), *st = archive_jstr(it, "status");

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

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "items")) {
		const char *iid = archive_jstr(it, "id");

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
	const char *last = text;
	long n = 0;
	int r;

	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\n')
			continue;
		n++;
		if (i + 1 < len)
			last = text + i + 1;
	}
	if ((r = kc_sha256_hex(last, len - (size_t)(last - text), hex)) != 0)
		return r;
	cJSON_DeleteItemFromObjectCaseSensitive(item, "ledger_entries");
	cJSON_DeleteItemFromObjectCaseSensitive(item, "ledger_head");
	if (cJSON_AddNumberToObject(item, "ledger_entries", (double)n) == NULL ||
	    cJSON_AddStringToObject(item, "ledger_head", hex) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

static int
local_put(struct kc_archive *a, const char *bundle_path, time_t until, int hold,
    const struct kc_archive_actor *who, cJSON **item_out)
{
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	cJSON *root = NULL, *item = NULL, *old;
	char id[KC_SHA256_HEX], hex[KC_SHA256_HEX], tbuf[32], ubuf[32], note[128];
	char *obj = NULL, *tmp = NULL, *lpath = NULL, *slpath = NULL, *base;
	uint64_t size, copied;
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
		    kc_safe_str(archive_jstr(old, "status") ? archive_jstr(old, "status") : "?",
		    safe, sizeof(safe)));
		goto out;
	}
	obj = path_of(a, "objects", id, NULL);
	slpath = path_of(a, "ledgers", id, KC_LEDGER_SUFFIX);
	lpath = kc_ledger_path(bundle_path);
	if (obj == NULL || slpath == NULL || lpath == NULL || asprintf(&tmp, "%s.tmp.%ld", obj,
	    (long)getpid()) < 0) {
		tmp = NULL;
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The bundle: hashed again while copied (it may have changed since). */
	if (lstat(obj, &st) == 0) {
		/* Left by an interrupted put: keep it only when it is intact. */
		if ((r = kc_sha256_file(obj, hex, NULL)) != 0 || strcmp(hex, id) != 0)
			unlink(obj);
	}
	if (lstat(obj, &st) != 0) {
		if ((r = archive_copy(bundle_path, tmp, 0444, hex, &copied)) != 0)
			goto out;
		if (strcmp(hex, id) != 0 || copied != size) {
			unlink(tmp);
			r = kc_err_set(KC_ERR_VERIFY, "'%s' changed while it was archived", bundle_path);
			goto out;
		}
		if (rename(tmp, obj) != 0) {
			r = kc_err_set(KC_ERR_IO, "cannot rename '%s': %s", tmp, strerror(errno));
			unlink(tmp);
			goto out;
		}
		made_obj = 1;
	}
	/* The custody entry, in the bundle's own ledger, then its copy. */
	snprintf(note, sizeof(note), "retain until %s%s", archive_fmt_time(until, ubuf, sizeof(ubuf)),
	    hold ? ", legal hold" : "");
	if ((r = archive_file_entry(lpath, id, "archived", a->location, "kcustody archive put",
	    note, who, &text)) != 0)
		goto out;
	entry_written = 1;
	if ((r = kc_write_file_atomic(slpath, kc_buf_str(&text), text.len, 0644)) != 0)
		goto out;
	if ((item = cJSON_CreateObject()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	base = strrchr(bundle_path, '/');
	cJSON_AddStringToObject(item, "id", id);
	cJSON_AddStringToObject(item, "name", base ? base + 1 : bundle_path);
	cJSON_AddNumberToObject(item, "size", (double)size);
	cJSON_AddStringToObject(item, "stored", archive_fmt_time(kc_now(), tbuf, sizeof(tbuf)));
	cJSON_AddStringToObject(item, "retain_until", ubuf);
	cJSON_AddBoolToObject(item, "legal_hold", hold);
	cJSON_AddStringToObject(item, "status", "stored");
	if ((r = set_anchor(item, kc_buf_str(&text), text.len)) != 0)
		goto out;
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(root, "items"), item);
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
	cJSON_Delete(root);
	kc_buf_free(&text);
	free(obj);
	free(tmp);
	free(lpath);
	free(slpath);
	return r;
}

static int
local_list(struct kc_archive *a, cJSON **items)
{
	cJSON *root = NULL;
	int r;

	if ((r = index_load(a, &root)) != 0)
		return r;
	*items = cJSON_DetachItemFromObjectCaseSensitive(root, "items");
	cJSON_Delete(root);
	return *items ? 0 : kc_err_set(KC_ERR_NOMEM, "out of memory");
}

/* Read the store's ledger for item and check it and its anchor. */
static int
store_ledger(struct kc_archive *a, const cJSON *item, const struct kc_trust *trust,
    struct kc_buf *text, char **path)
{
	const char *id = archive_jstr(item, "id");
	int r;

	if ((*path = path_of(a, "ledgers", id, KC_LEDGER_SUFFIX)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = kc_read_file(*path, KC_LEDGER_MAX, text)) != 0)
		return r;
	if ((r = kc_ledger_check(kc_buf_str(text), text->len, id, trust, NULL, NULL)) != 0)
		return r;
	return archive_anchor_check(kc_buf_str(text), text->len,
	    archive_jlong(item, "ledger_entries"), archive_jstr(item, "ledger_head") ?
	    archive_jstr(item, "ledger_head") : "");
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

	if ((olpath = kc_ledger_path(out_path)) == NULL || asprintf(&tmp, "%s.tmp.%ld", out_path,
	    (long)getpid()) < 0) {
		tmp = NULL;
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (access(out_path, F_OK) == 0 || access(olpath, F_OK) == 0) {
		r = kc_err_set(KC_ERR_INVALID, "'%s' or its ledger already exists; not replacing it",
		    out_path);
		goto out;
	}
	if ((r = store_lock(a)) != 0)
		goto out;
	if ((r = index_load(a, &root)) != 0)
		goto out;
	if ((item = index_find(root, id, 0)) == NULL) {
		r = kc_err_code();
		goto out;
	}
	iid = archive_jstr(item, "id");
	if (item_problem(item) != NULL) {
		r = kc_err_set(KC_ERR_VERIFY, "the store's index entry for %s is damaged (%s); "
		    "nothing was handed out", iid, item_problem(item));
		goto out;
	}
	if (strcmp(archive_jstr(item, "status"), "stored") != 0) {
		r = kc_err_set(KC_ERR_NOTFOUND, "item %s was disposed of", iid);
		goto out;
	}
	if ((obj = path_of(a, "objects", iid, NULL)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = archive_copy(obj, tmp, 0444, hex, NULL)) != 0)
		goto out;
	if (strcmp(hex, iid) != 0) {
		unlink(tmp);
		r = kc_err_set(KC_ERR_VERIFY, "the stored bundle %s is damaged (its SHA-256 is now %s); "
		    "nothing was handed out", iid, hex);
		goto out;
	}
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
	if ((r = kc_write_file_atomic(olpath, kc_buf_str(&text), text.len, 0644)) != 0) {
		unlink(tmp);
		goto out;
	}
	if (link(tmp, out_path) != 0) {
		r = kc_err_set(KC_ERR_IO, "cannot create '%s': %s", out_path, strerror(errno));
		unlink(tmp);
		unlink(olpath);
		goto out;
	}
	unlink(tmp);
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


static int
local_verify(struct kc_archive *a, const char *id, const struct kc_trust *trust,
    cJSON **report)
{
	cJSON *root = NULL, *items, *it, *res, *rep = NULL;
	int r, damaged = 0, checked = 0;
	DIR *d = NULL;
	struct dirent *de;
	char *p = NULL;

	if ((r = index_load(a, &root)) != 0)
		return r;
	if (id != NULL && index_find(root, id, 0) == NULL) {
		r = kc_err_code();
		goto out;
	}
	if ((rep = cJSON_CreateObject()) == NULL || (items = cJSON_AddArrayToObject(rep, "items")) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(rep, "store", a->location);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "items")) {
		struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
		const char *iid = archive_jstr(it, "id"), *status = archive_jstr(it, "status");
		char hex[KC_SHA256_HEX], *obj, *lp = NULL;
		uint64_t size = 0;
		struct stat st;
		int stored;

		if (item_problem(it) != NULL) {
			char safe[160];

			/* Named or not, a damaged entry is reported (with --all). */
			if (id != NULL)
				continue;
			checked++;
			damaged++;
			if ((res = cJSON_CreateObject()) == NULL) {
				r = kc_err_set(KC_ERR_NOMEM, "out of memory");
				goto out;
			}
			cJSON_AddItemToArray(items, res);
			cJSON_AddStringToObject(res, "id", kc_safe_str(iid ? iid : "", safe, sizeof(safe)));
			cJSON_AddStringToObject(res, "name", archive_jstr(it, "name") ?
			    archive_jstr(it, "name") : "");
			cJSON_AddStringToObject(res, "status", status ? status : "");
			cJSON_AddArrayToObject(res, "problems");
			archive_problem(res, "index entry damaged: %s (the index was edited?)",
			    item_problem(it));
			cJSON_AddBoolToObject(res, "ok", 0);
			continue;
		}
		if (id != NULL && strncmp(iid, id, strlen(id)) != 0)
			continue;
		stored = strcmp(status, "stored") == 0;
		checked++;
		res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "id", iid);
		cJSON_AddStringToObject(res, "name", archive_jstr(it, "name"));
		cJSON_AddStringToObject(res, "status", status);
		cJSON_AddArrayToObject(res, "problems");
		obj = path_of(a, "objects", iid, NULL);
		if (obj == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			cJSON_Delete(res);
			goto out;
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
		} else if (strcmp(hex, iid) != 0) {
			archive_problem(res, "bundle damaged: its SHA-256 is now %s", hex);
		} else if (size != archive_jsize(it, "size")) {
			archive_problem(res, "bundle size %llu differs from the index",
			    (unsigned long long)size);
		} else if ((st.st_mode & 0222) != 0) {
			archive_problem(res, "bundle is writable (mode %03o), not read-only",
			    (unsigned)(st.st_mode & 0777));
		}
		if (store_ledger(a, it, trust, &text, &lp) != 0)
			archive_problem(res, "ledger: %s", kc_err_msg());
		free(lp);
		free(obj);
		kc_buf_free(&text);
		cJSON_AddBoolToObject(res, "ok", cJSON_GetArraySize(cJSON_GetObjectItem(res, "problems")) == 0);
		if (!cJSON_IsTrue(cJSON_GetObjectItem(res, "ok")))
			damaged++;
		cJSON_AddItemToArray(items, res);
	}
	/* Left-overs: files no index entry names (an interrupted put). */
	if (id == NULL && (p = path_of(a, "objects", NULL, NULL)) != NULL && (d = opendir(p)) != NULL) {
		cJSON *w = cJSON_AddArrayToObject(rep, "unindexed");

		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (!archive_is_id(de->d_name) || index_find(root, de->d_name, 1) == NULL)
				cJSON_AddItemToArray(w, cJSON_CreateString(de->d_name));
		}
	}
	cJSON_AddNumberToObject(rep, "checked", checked);
	cJSON_AddNumberToObject(rep, "damaged", damaged);
	r = damaged ? kc_err_set(KC_ERR_VERIFY, "%d of %d archived items damaged or missing",
	    damaged, checked) : 0;
	*report = rep;
	rep = NULL;
out:
	if (d != NULL)
		closedir(d);
	free(p);
	cJSON_Delete(rep);
	cJSON_Delete(root);
	return r;
}

static int
local_prune(struct kc_archive *a, const struct kc_archive_actor *who, int dry_run,
    cJSON **report)
{
	cJSON *root = NULL, *it, *rep = NULL, *list;
	time_t now = kc_now(), until;
	char tbuf[32];
	long ns;
	int r;

	if ((r = store_lock(a)) != 0)
		return r;
	if ((r = index_load(a, &root)) != 0)
		goto out;
	if ((rep = cJSON_CreateObject()) == NULL || (list = cJSON_AddArrayToObject(rep, "items")) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(rep, "now", archive_fmt_time(now, tbuf, sizeof(tbuf)));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "items")) {
		struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
		const char *iid = archive_jstr(it, "id"), *ru = archive_jstr(it, "retain_until");
		cJSON *res;
		char *obj = NULL, *lp = NULL, note[96];

		if (item_problem(it) != NULL) {
			char safe[160];

			/* Never acted on: report it, go on (verify says more). */
			if ((res = cJSON_CreateObject()) == NULL) {
				r = kc_err_set(KC_ERR_NOMEM, "out of memory");
				goto out;
			}
			cJSON_AddItemToArray(list, res);
			cJSON_AddStringToObject(res, "id", kc_safe_str(iid ? iid : "", safe, sizeof(safe)));
			cJSON_AddStringToObject(res, "name", archive_jstr(it, "name") ?
			    archive_jstr(it, "name") : "");
			cJSON_AddStringToObject(res, "result", "kept: index entry damaged");
			cJSON_AddStringToObject(res, "detail", item_problem(it));
			continue;
		}
		if (strcmp(archive_jstr(it, "status"), "stored") != 0)
			continue;
		res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "id", iid);
		cJSON_AddStringToObject(res, "name", archive_jstr(it, "name"));
		cJSON_AddItemToArray(list, res);
		if (cJSON_IsTrue(cJSON_GetObjectItem(it, "legal_hold"))) {
			cJSON_AddStringToObject(res, "result", "kept: legal hold");
			continue;
		}
		if (ru == NULL || kc_parse_rfc3339(ru, &until, &ns) != 0 || until > now) {
			cJSON_AddStringToObject(res, "result", "kept: retained");
			continue;
		}
		if (dry_run) {
			cJSON_AddStringToObject(res, "result", "would dispose");
			continue;
		}
		/* The disposal is recorded first; without the record, no disposal. */
		snprintf(note, sizeof(note), "retention ended %s", ru);
		if ((r = store_ledger(a, it, who->trust, &text, &lp)) != 0 ||
		    (r = archive_file_entry(lp, iid, "disposed", "", "kcustody archive prune", note,
		    who, &text)) != 0 ||
		    (r = set_anchor(it, kc_buf_str(&text), text.len)) != 0) {
			cJSON_AddStringToObject(res, "result", "error");
			cJSON_AddStringToObject(res, "error", kc_err_msg());
			kc_buf_free(&text);
			free(lp);
			goto out;
		}
		kc_buf_free(&text);
		free(lp);
		if ((obj = path_of(a, "objects", iid, NULL)) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (unlink(obj) != 0 && errno != ENOENT) {
			r = kc_err_set(KC_ERR_IO, "cannot remove '%s': %s", obj, strerror(errno));
			free(obj);
			goto out;
		}
		free(obj);
		cJSON_ReplaceItemInObjectCaseSensitive(it, "status", cJSON_CreateString("disposed"));
		cJSON_AddStringToObject(it, "disposed", archive_fmt_time(kc_now(), tbuf, sizeof(tbuf)));
		cJSON_AddStringToObject(res, "result", "disposed");
		if ((r = index_save(a, root)) != 0)
			goto out;
	}
out:
	store_unlock(a);
	cJSON_Delete(root);
	if (rep != NULL)
		*report = rep;	/* also on error: what was done so far */
	return r;
}

const struct archive_backend kc_archive_local = {
	local_put, local_list, local_get, local_verify, local_prune, local_close,
};
