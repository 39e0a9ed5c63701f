/* audit_chaincopy.c - the audit-sink chain excerpt of the collection
 * window, copied byte for byte into the bundle (audit.h,
 * kc_audit_chain_copy; the format: docs/FORMAT.md "audit/chain/"). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/audit.h"
#include "manifest/auditchain.h"
#include "manifest/auditchain_bundle.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/timeutil.h"

struct crec {
	uint64_t n;
	int overlaps;		/* names a segment that overlaps the window */
	uint64_t *segs;
	size_t nsegs;
};

static int
tns(const char *s, int64_t *ns)
{
	time_t sec;
	long nsec;

	if (s == NULL || s[0] == '\0' || kc_parse_rfc3339(s, &sec, &nsec) != 0)
		return -1;
	*ns = (int64_t)sec * 1000000000 + nsec;
	return 0;
}

/* A segment overlaps [since, until) unless its signed times say it lies
 * wholly outside; a segment without readable times is taken. */
static int
overlaps(const struct kc_achain_seg *s, int has_since, int64_t since, int has_until, int64_t until)
{
	int64_t a, b;

	if (has_since && tns(s->last_time, &b) == 0 && b < since)
		return 0;
	if (has_until && tns(s->first_time, &a) == 0 && a >= until)
		return 0;
	return 1;
}

static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in, *out;
	size_t n;
	int r = 0;

	if ((in = fopen(from, "rb")) == NULL)
		return kc_err_set(KC_ERR_IO, "cannot read '%s': %s", from, strerror(errno));
	if ((out = fopen(to, "wbx")) == NULL) {
		fclose(in);
		return kc_err_set(KC_ERR_IO, "cannot create '%s': %s", to, strerror(errno));
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n) {
			r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", to, strerror(errno));
			break;
		}
	if (r == 0 && ferror(in))
		r = kc_err_set(KC_ERR_IO, "cannot read '%s'", from);
	fclose(in);
	if (fclose(out) != 0 && r == 0)
		r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", to, strerror(errno));
	return r;
}

static int
copy_named(const char *dir, const char *dst, const char *name)
{
	char *a = kc_path_join(dir, name), *b = kc_path_join(dst, name);
	int r = a && b ? copy_file(a, b) : KC_ERR_NOMEM;

	free(a);
	free(b);
	return r;
}

/* The record, its signature and any companion the sink writes beside it
 * (digest-N.json.*: a time-stamp token). */
static int
copy_record(const char *dir, const char *dst, uint64_t n)
{
	char name[64];
	size_t nl;
	DIR *d;
	struct dirent *e;
	int r = 0;

	kc_achain_digest_name(n, name, sizeof(name));
	nl = strlen(name);
	if ((d = opendir(dir)) == NULL)
		return kc_err_set(KC_ERR_IO, "cannot read folder '%s': %s", dir, strerror(errno));
	while (r == 0 && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, name, nl) == 0 && (e->d_name[nl] == '\0' || e->d_name[nl] == '.'))
			r = copy_named(dir, dst, e->d_name);
	closedir(d);
	return r;
}

/* 1 when a line of the segment carries a body the audit redaction would
 * replace (a secret's data): such a segment cannot enter the bundle
 * byte for byte. */
static int
needs_redaction(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && (n = getline(&line, &cap, f)) > 0) {
		cJSON *ev = cJSON_ParseWithLength(line, (size_t)n);

		found = ev != NULL && kc_audit_needs_redaction(ev);
		cJSON_Delete(ev);
	}
	free(line);
	fclose(f);
	return found;
}

static void
crecs_free(struct crec *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].segs);
	free(v);
}

int
kc_audit_chain_copy(const char *dir, const char *id, const struct kc_audit_filter *f, const char *pubkey,
    int no_redact, const cJSON *chain_report, const char *staging, cJSON **summary)
{
	struct crec *recs = NULL;
	size_t nrecs = 0, caprecs = 0, first = 0, last = 0;
	struct kc_buf text = KC_BUF_INIT(KC_ACHAIN_RECORD_MAX);
	int64_t since = 0, until = 0;
	int w = kc_audit_filter_window(f, &since, &until), found = 0, r = 0;
	char rel[128], name[64], t[48];
	char *dst = NULL, *js = NULL, *p;
	cJSON *meta = NULL, *sum = NULL, *un;
	uint64_t nsegs = 0, nbytes = 0;

	*summary = NULL;
	/* every record in order (the folder verified just before) */
	for (uint64_t n = 1;; n++) {
		struct kc_achain_digest d;

		kc_achain_digest_name(n, name, sizeof(name));
		if ((p = kc_path_join(dir, name)) == NULL) {
			r = KC_ERR_NOMEM;
			goto out;
		}
		kc_buf_reset(&text);
		r = kc_read_file(p, KC_ACHAIN_RECORD_MAX, &text);
		free(p);
		if (r != 0) {
			kc_err_clear();
			r = 0;
			break;
		}
		if (kc_achain_digest_parse(text.data, text.len, &d) != 0) {
			r = kc_err_code();
			goto out;
		}
		if (KC_GROW(recs, caprecs, nrecs + 1) != 0) {
			kc_achain_digest_clear(&d);
			r = KC_ERR_NOMEM;
			goto out;
		}
		memset(&recs[nrecs], 0, sizeof(recs[nrecs]));
		recs[nrecs].n = n;
		if (d.nsegs > 0 && (recs[nrecs].segs = calloc(d.nsegs, sizeof(uint64_t))) == NULL) {
			kc_achain_digest_clear(&d);
			r = KC_ERR_NOMEM;
			goto out;
		}
		for (size_t k = 0; k < d.nsegs; k++) {
			recs[nrecs].segs[k] = d.segs[k].number;
			if (overlaps(&d.segs[k], w & 1, since, w & 2, until))
				recs[nrecs].overlaps = 1;
		}
		recs[nrecs].nsegs = d.nsegs;
		kc_achain_digest_clear(&d);
		if (recs[nrecs].overlaps) {
			if (!found)
				first = nrecs;
			last = nrecs;
			found = 1;
		}
		nrecs++;
	}
	if ((sum = cJSON_CreateObject()) == NULL) {
		r = KC_ERR_NOMEM;
		goto out;
	}
	if ((r = kc_fmt(rel, sizeof(rel), KC_ACHAIN_EXCERPT_DIR "%s", id)) != 0)
		goto out;
	cJSON_AddStringToObject(sum, "path", rel);
	if (!found) {
		cJSON_AddStringToObject(sum, "notCopied", "no sealed segment of the sink folder overlaps the window");
		goto done;
	}
	for (size_t i = first; i <= last; i++)
		for (size_t k = 0; k < recs[i].nsegs; k++) {
			kc_achain_seg_name(recs[i].segs[k], name, sizeof(name));
			if ((p = kc_path_join(dir, name)) == NULL) {
				r = KC_ERR_NOMEM;
				goto out;
			}
			if (!no_redact && needs_redaction(p)) {
				free(p);
				cJSON_AddStringToObject(sum, "notCopied", "a segment of the window holds secret request or "
				    "response bodies: the chain is copied byte for byte only with --no-redact");
				goto done;
			}
			free(p);
		}
	if ((dst = kc_path_join(staging, rel)) == NULL) {
		r = KC_ERR_NOMEM;
		goto out;
	}
	if ((r = kc_mkdir_p(dst, 0700)) != 0)
		goto out;
	if (first > 0 && (r = copy_record(dir, dst, recs[first - 1].n)) != 0)
		goto out;
	for (size_t i = first; i <= last; i++) {
		if ((r = copy_record(dir, dst, recs[i].n)) != 0)
			goto out;
		for (size_t k = 0; k < recs[i].nsegs; k++) {
			kc_achain_seg_name(recs[i].segs[k], name, sizeof(name));
			if ((r = copy_named(dir, dst, name)) != 0)
				goto out;
			if ((p = kc_path_join(dst, name)) != NULL) {
				FILE *sf = fopen(p, "rb");

				if (sf != NULL) {
					fseek(sf, 0, SEEK_END);
					nbytes += (uint64_t)ftell(sf);
					fclose(sf);
				}
				free(p);
			}
			nsegs++;
		}
	}
	if (pubkey != NULL) {
		char *to = kc_path_join(dst, "sink.pub");

		r = to ? copy_file(pubkey, to) : KC_ERR_NOMEM;
		free(to);
		if (r != 0)
			goto out;
	}
	/* CHAIN.json: what was copied and why (docs/FORMAT.md) */
	if ((meta = cJSON_CreateObject()) == NULL) {
		r = KC_ERR_NOMEM;
		goto out;
	}
	cJSON_AddStringToObject(meta, "kind", KC_ACHAIN_EXCERPT_KIND);
	cJSON_AddNumberToObject(meta, "version", 1);
	cJSON_AddStringToObject(meta, "folder", dir);
	{
		cJSON *win = cJSON_AddObjectToObject(meta, "window");

		if (w & 1)
			cJSON_AddStringToObject(win, "since", kc_fmt_rfc3339_us(since, t, sizeof(t)));
		else
			cJSON_AddNullToObject(win, "since");
		if (w & 2)
			cJSON_AddStringToObject(win, "until", kc_fmt_rfc3339_us(until, t, sizeof(t)));
		else
			cJSON_AddNullToObject(win, "until");
	}
	if (first > 0) {
		kc_achain_digest_name(recs[first - 1].n, name, sizeof(name));
		cJSON_AddStringToObject(meta, "anchor", name);
	} else {
		cJSON_AddNullToObject(meta, "anchor");
	}
	kc_achain_digest_name(recs[first].n, name, sizeof(name));
	cJSON_AddStringToObject(meta, "firstRecord", name);
	kc_achain_digest_name(recs[last].n, name, sizeof(name));
	cJSON_AddStringToObject(meta, "lastRecord", name);
	cJSON_AddNumberToObject(meta, "records", (double)(last - first + 1));
	cJSON_AddNumberToObject(meta, "segments", (double)nsegs);
	cJSON_AddNumberToObject(meta, "segmentBytes", (double)nbytes);
	cJSON_AddStringToObject(meta, "key", kc_json_str0(chain_report, "key"));
	if (pubkey != NULL)
		cJSON_AddStringToObject(meta, "publicKey", "sink.pub");
	else
		cJSON_AddNullToObject(meta, "publicKey");
	cJSON_AddStringToObject(meta, "continuityAtCollection", kc_json_str0(chain_report, "continuity"));
	un = cJSON_AddArrayToObject(meta, "unsealedNotCopied");
	{
		const cJSON *u;

		cJSON_ArrayForEach(u, kc_json_get(chain_report, "unsealed"))
			cJSON_AddItemToArray(un, cJSON_Duplicate(u, 1));
	}
	if ((js = cJSON_Print(meta)) == NULL || (p = kc_path_join(dst, "CHAIN.json")) == NULL) {
		r = KC_ERR_NOMEM;
		goto out;
	}
	r = kc_write_file_atomic(p, js, strlen(js), 0600);
	free(p);
	if (r != 0)
		goto out;
	cJSON_AddNumberToObject(sum, "records", (double)(last - first + 1));
	cJSON_AddBoolToObject(sum, "anchor", first > 0);
	cJSON_AddNumberToObject(sum, "segments", (double)nsegs);
	cJSON_AddNumberToObject(sum, "segmentBytes", (double)nbytes);
done:
	*summary = sum;
	sum = NULL;
out:
	if (r != 0 && dst != NULL)
		kc_rm_rf(dst);
	crecs_free(recs, nrecs);
	kc_buf_free(&text);
	cJSON_Delete(meta);
	cJSON_Delete(sum);
	free(js);
	free(dst);
	return r;
}
