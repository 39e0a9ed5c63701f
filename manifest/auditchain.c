/* auditchain.c - the audit sink's signed hash chain (auditchain.h). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "manifest/auditchain.h"
#include "manifest/tsa.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/timeutil.h"

#define SEG_PREFIX "segment-"
#define SEG_SUFFIX ".jsonl"
#define DIG_PREFIX "digest-"
#define DIG_SUFFIX ".json"
#define SEG_LINE_MAX (16u << 20)

void
kc_achain_seg_name(uint64_t n, char *out, size_t size)
{
	kc_fmt_trunc(out, size, SEG_PREFIX "%08" PRIu64 SEG_SUFFIX, n);
}

void
kc_achain_digest_name(uint64_t n, char *out, size_t size)
{
	kc_fmt_trunc(out, size, DIG_PREFIX "%08" PRIu64 DIG_SUFFIX, n);
}

void
kc_achain_tsr_name(uint64_t n, char *out, size_t size)
{
	kc_fmt_trunc(out, size, DIG_PREFIX "%08" PRIu64 DIG_SUFFIX KC_ACHAIN_TSR_SUFFIX, n);
}

int
kc_achain_name_number(const char *name, const char *prefix, const char *suffix, uint64_t *n)
{
	size_t pl = strlen(prefix), sl = strlen(suffix), nl = strlen(name), digits;
	uint64_t v = 0;

	if (nl < pl + sl + 8 || strncmp(name, prefix, pl) != 0 || strcmp(name + nl - sl, suffix) != 0)
		return -1;
	digits = nl - pl - sl;
	if (digits > 18)
		return -1;
	for (size_t i = 0; i < digits; i++) {
		char c = name[pl + i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (uint64_t)(c - '0');
	}
	*n = v;
	return 0;
}

static void
copy_str(char *dst, size_t n, const char *s)
{
	kc_fmt_trunc(dst, n, "%s", s ? s : "");
}

void
kc_achain_event_fields(const cJSON *ev, char id[KC_ACHAIN_ID_MAX], char t[KC_ACHAIN_TIME_MAX])
{
	const char *ts = kc_json_str(ev, "stageTimestamp");

	if (ts == NULL)
		ts = kc_json_str(ev, "requestReceivedTimestamp");
	copy_str(id, KC_ACHAIN_ID_MAX, kc_json_str(ev, "auditID"));
	copy_str(t, KC_ACHAIN_TIME_MAX, ts);
}

void
kc_achain_seg_note(struct kc_achain_seg *s, const char *id, const char *t)
{
	if (s->events == 0) {
		copy_str(s->first_id, sizeof(s->first_id), id);
		copy_str(s->first_time, sizeof(s->first_time), t);
	}
	copy_str(s->last_id, sizeof(s->last_id), id);
	copy_str(s->last_time, sizeof(s->last_time), t);
	s->events++;
}

int
kc_achain_seg_recover(const char *path, struct kc_achain_seg *s)
{
	FILE *f;
	struct stat st;
	struct kc_sha256 *h = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	off_t good = 0;
	int r = 0;

	if ((f = fopen(path, "r+")) == NULL)
		return kc_err_set(KC_ERR_IO, "cannot open segment '%s': %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0) {
		r = kc_err_set(KC_ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if ((h = kc_sha256_new()) == NULL) {
		r = KC_ERR_NOMEM;
		goto out;
	}
	s->events = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		char id[KC_ACHAIN_ID_MAX], t[KC_ACHAIN_TIME_MAX];
		cJSON *ev;

		if (line[n - 1] != '\n')
			break;	/* unterminated: a batch cut off before it was acknowledged */
		good += n;
		kc_sha256_update(h, line, (size_t)n);
		ev = cJSON_ParseWithLength(line, (size_t)n);
		kc_achain_event_fields(ev, id, t);
		cJSON_Delete(ev);
		kc_achain_seg_note(s, id, t);
	}
	if (ferror(f)) {
		r = kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	s->dropped_tail = (uint64_t)(st.st_size - good);
	if (good != st.st_size && (ftruncate(fileno(f), good) != 0 || fsync(fileno(f)) != 0)) {
		r = kc_err_set(KC_ERR_IO, "cannot cut the unterminated line of '%s': %s", path, strerror(errno));
		goto out;
	}
	s->bytes = (uint64_t)good;
	s->recovered = 1;
	kc_sha256_final(h, NULL, s->sha256);
out:
	free(line);
	kc_sha256_free(h);
	fclose(f);
	return r;
}

static int
add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v) == NULL ? -1 : 0;
}

static int
add_num(cJSON *o, const char *k, double v)
{
	return cJSON_AddNumberToObject(o, k, v) == NULL ? -1 : 0;
}

static cJSON *
render(const struct kc_achain_digest *d)
{
	cJSON *o = cJSON_CreateObject(), *segs, *prev;
	char name[64];
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= add_str(o, "kind", KC_ACHAIN_KIND);
	bad |= add_num(o, "version", KC_ACHAIN_VERSION);
	bad |= add_num(o, "sequence", (double)d->sequence);
	bad |= add_str(o, "created", d->created);
	bad |= add_str(o, "reason", d->reason);
	bad |= add_str(o, "run", d->run);
	bad |= add_str(o, "runStarted", d->run_started);
	bad |= add_num(o, "digestIntervalSeconds", (double)d->interval);
	bad |= add_str(o, "key", d->key);
	if (d->has_previous) {
		if ((prev = cJSON_AddObjectToObject(o, "previous")) == NULL)
			bad = 1;
		else {
			kc_achain_digest_name(d->prev_sequence, name, sizeof(name));
			bad |= add_str(prev, "file", name);
			bad |= add_str(prev, "sha256", d->prev_sha256);
		}
	} else if (cJSON_AddNullToObject(o, "previous") == NULL) {
		bad = 1;
	}
	if ((segs = cJSON_AddArrayToObject(o, "segments")) == NULL)
		bad = 1;
	for (size_t i = 0; !bad && i < d->nsegs; i++) {
		const struct kc_achain_seg *s = &d->segs[i];
		cJSON *so = cJSON_CreateObject();

		if (so == NULL || !cJSON_AddItemToArray(segs, so)) {
			cJSON_Delete(so);
			bad = 1;
			break;
		}
		kc_achain_seg_name(s->number, name, sizeof(name));
		bad |= add_str(so, "file", name);
		bad |= add_str(so, "sha256", s->sha256);
		bad |= add_num(so, "bytes", (double)s->bytes);
		bad |= add_num(so, "events", (double)s->events);
		bad |= add_str(so, "firstAuditID", s->first_id);
		bad |= add_str(so, "lastAuditID", s->last_id);
		bad |= add_str(so, "firstTime", s->first_time);
		bad |= add_str(so, "lastTime", s->last_time);
		bad |= add_str(so, "opened", s->opened);
		bad |= add_str(so, "closed", s->closed);
		bad |= cJSON_AddBoolToObject(so, "recovered", s->recovered) == NULL;
		bad |= add_num(so, "droppedTailBytes", (double)s->dropped_tail);
	}
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return kc_err_set(KC_ERR_IO, "cannot open folder '%s': %s", dir, strerror(errno));
	if (fsync(fd) != 0)
		r = kc_err_set(KC_ERR_IO, "cannot sync folder '%s': %s", dir, strerror(errno));
	close(fd);
	return r;
}

int
kc_achain_digest_write(const char *dir, struct kc_achain_digest *d, struct kc_signer *signer,
    char sha256_out[KC_SHA256_HEX])
{
	struct kc_buf text = KC_BUF_INIT(KC_ACHAIN_RECORD_MAX), sig = KC_BUF_INIT(KC_SIG_MAX);
	char name[64], sname[80], *js = NULL, *path = NULL, *spath = NULL, hex[KC_SHA256_HEX];
	cJSON *o;
	int r;

	copy_str(d->key, sizeof(d->key), kc_signer_fingerprint(signer));
	if ((o = render(d)) == NULL)
		return KC_ERR_NOMEM;
	js = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (js == NULL)
		return KC_ERR_NOMEM;
	if ((r = kc_buf_adds(&text, js)) != 0 || (r = kc_buf_addc(&text, '\n')) != 0)
		goto out;
	if ((r = kc_sign(signer, text.data, text.len, &sig)) != 0)
		goto out;
	kc_achain_digest_name(d->sequence, name, sizeof(name));
	if ((r = kc_fmt(sname, sizeof(sname), "%s.sig", name)) != 0)
		goto out;
	if ((path = kc_path_join(dir, name)) == NULL || (spath = kc_path_join(dir, sname)) == NULL) {
		r = KC_ERR_NOMEM;
		goto out;
	}
	if ((r = kc_write_file_atomic(spath, sig.data, sig.len, 0644)) != 0 ||
	    (r = kc_write_file_atomic(path, text.data, text.len, 0644)) != 0 || (r = sync_dir(dir)) != 0)
		goto out;
	if ((r = kc_sha256_hex(text.data, text.len, hex)) != 0)
		goto out;
	if (sha256_out != NULL)
		memcpy(sha256_out, hex, KC_SHA256_HEX);
out:
	free(js);
	free(path);
	free(spath);
	kc_buf_free(&text);
	kc_buf_free(&sig);
	return r;
}

void
kc_achain_digest_clear(struct kc_achain_digest *d)
{
	free(d->segs);
	memset(d, 0, sizeof(*d));
}

/* A required string member, copied; -1 when absent or too long. */
static int
get_str(const cJSON *o, const char *k, char *out, size_t n)
{
	const char *s = kc_json_str(o, k);

	if (s == NULL || strlen(s) >= n)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* A required whole number in [0, 2^53]. */
static int
get_u64(const cJSON *o, const char *k, uint64_t *out)
{
	const cJSON *v = kc_json_get(o, k);
	double x;

	if (v == NULL || !cJSON_IsNumber(v))
		return -1;
	x = v->valuedouble;
	if (!(x >= 0 && x <= 9007199254740992.0) || x != (double)(uint64_t)x)
		return -1;
	*out = (uint64_t)x;
	return 0;
}

static int
hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
kc_achain_digest_parse(const char *text, size_t len, struct kc_achain_digest *out)
{
	cJSON *o;
	const cJSON *prev, *segs, *v;
	const char *kind;
	uint64_t ver, iv;
	char name[80];
	int r = KC_ERR_PARSE;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (len > KC_ACHAIN_RECORD_MAX)
		return kc_err_set(KC_ERR_PARSE, "digest record longer than %u bytes", KC_ACHAIN_RECORD_MAX);
	if ((o = cJSON_ParseWithLength(text, len)) == NULL || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return kc_err_set(KC_ERR_PARSE, "digest record is not a JSON object");
	}
	if ((kind = kc_json_str(o, "kind")) == NULL || strcmp(kind, KC_ACHAIN_KIND) != 0 ||
	    get_u64(o, "version", &ver) != 0 || ver != KC_ACHAIN_VERSION) {
		kc_err_set(KC_ERR_PARSE, "not a %s version %d record", KC_ACHAIN_KIND, KC_ACHAIN_VERSION);
		goto out;
	}
	if (get_u64(o, "sequence", &out->sequence) != 0 || out->sequence == 0 ||
	    get_str(o, "created", out->created, sizeof(out->created)) != 0 ||
	    get_str(o, "reason", out->reason, sizeof(out->reason)) != 0 ||
	    get_str(o, "run", out->run, sizeof(out->run)) != 0 ||
	    get_str(o, "runStarted", out->run_started, sizeof(out->run_started)) != 0 ||
	    get_u64(o, "digestIntervalSeconds", &iv) != 0 ||
	    get_str(o, "key", out->key, sizeof(out->key)) != 0) {
		kc_err_set(KC_ERR_PARSE, "digest record lacks a field or has one of the wrong type");
		goto out;
	}
	out->interval = (int64_t)iv;
	if ((prev = kc_json_get(o, "previous")) == NULL) {
		kc_err_set(KC_ERR_PARSE, "digest record lacks 'previous'");
		goto out;
	}
	if (!cJSON_IsNull(prev)) {
		if (get_str(prev, "file", name, sizeof(name)) != 0 ||
		    kc_achain_name_number(name, DIG_PREFIX, DIG_SUFFIX, &out->prev_sequence) != 0 ||
		    get_str(prev, "sha256", out->prev_sha256, sizeof(out->prev_sha256)) != 0 ||
		    !hex64(out->prev_sha256)) {
			kc_err_set(KC_ERR_PARSE, "digest record's 'previous' is not {file, sha256}");
			goto out;
		}
		out->has_previous = 1;
	}
	if ((segs = kc_json_get(o, "segments")) == NULL || !cJSON_IsArray(segs)) {
		kc_err_set(KC_ERR_PARSE, "digest record lacks the 'segments' array");
		goto out;
	}
	out->nsegs = (size_t)cJSON_GetArraySize(segs);
	if (out->nsegs > 0 && (out->segs = calloc(out->nsegs, sizeof(*out->segs))) == NULL) {
		r = KC_ERR_NOMEM;
		goto out;
	}
	cJSON_ArrayForEach(v, segs) {
		struct kc_achain_seg *s = &out->segs[i++];
		const cJSON *rec = kc_json_get(v, "recovered");

		if (get_str(v, "file", name, sizeof(name)) != 0 ||
		    kc_achain_name_number(name, SEG_PREFIX, SEG_SUFFIX, &s->number) != 0 ||
		    get_str(v, "sha256", s->sha256, sizeof(s->sha256)) != 0 || !hex64(s->sha256) ||
		    get_u64(v, "bytes", &s->bytes) != 0 || get_u64(v, "events", &s->events) != 0 ||
		    get_str(v, "firstAuditID", s->first_id, sizeof(s->first_id)) != 0 ||
		    get_str(v, "lastAuditID", s->last_id, sizeof(s->last_id)) != 0 ||
		    get_str(v, "firstTime", s->first_time, sizeof(s->first_time)) != 0 ||
		    get_str(v, "lastTime", s->last_time, sizeof(s->last_time)) != 0 ||
		    get_str(v, "opened", s->opened, sizeof(s->opened)) != 0 ||
		    get_str(v, "closed", s->closed, sizeof(s->closed)) != 0 ||
		    rec == NULL || !cJSON_IsBool(rec) ||
		    get_u64(v, "droppedTailBytes", &s->dropped_tail) != 0) {
			kc_err_set(KC_ERR_PARSE, "digest record's segment %zu lacks a field or has one of the wrong type", i);
			goto out;
		}
		s->recovered = cJSON_IsTrue(rec);
	}
	r = 0;
out:
	cJSON_Delete(o);
	if (r != 0)
		kc_achain_digest_clear(out);
	return r;
}

/* The numbers of the files named PREFIX-N.SUFFIX in dir, sorted. */
struct numlist {
	uint64_t *v;
	size_t n, cap;
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
list_numbers(const char *dir, const char *prefix, const char *suffix, struct numlist *l)
{
	DIR *d;
	struct dirent *e;

	if ((d = opendir(dir)) == NULL)
		return kc_err_set(KC_ERR_IO, "cannot read folder '%s': %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		uint64_t n;

		if (kc_achain_name_number(e->d_name, prefix, suffix, &n) != 0)
			continue;
		if (l->n == l->cap) {
			size_t nc = l->cap ? l->cap * 2 : 64;
			uint64_t *nv = realloc(l->v, nc * sizeof(*nv));

			if (nv == NULL) {
				closedir(d);
				return KC_ERR_NOMEM;
			}
			l->v = nv;
			l->cap = nc;
		}
		l->v[l->n++] = n;
	}
	closedir(d);
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(*l->v), cmp_u64);
	return 0;
}

static int
read_record(const char *dir, uint64_t n, struct kc_buf *text)
{
	char name[64], *path;
	int r;

	kc_achain_digest_name(n, name, sizeof(name));
	if ((path = kc_path_join(dir, name)) == NULL)
		return KC_ERR_NOMEM;
	r = kc_read_file(path, KC_ACHAIN_RECORD_MAX, text);
	free(path);
	return r;
}

int
kc_achain_tail(const char *dir, struct kc_achain_tail *t)
{
	struct numlist dl = { 0 }, sl = { 0 };
	struct kc_buf text = KC_BUF_INIT(KC_ACHAIN_RECORD_MAX);
	struct kc_achain_digest d;
	int r;

	memset(t, 0, sizeof(*t));
	if ((r = list_numbers(dir, DIG_PREFIX, DIG_SUFFIX, &dl)) != 0 ||
	    (r = list_numbers(dir, SEG_PREFIX, SEG_SUFFIX, &sl)) != 0)
		goto out;
	if (sl.n > 0)
		t->highest_seg_file = sl.v[sl.n - 1];
	/* The newest record that reads; earlier ones are walked back for the
	 * highest sealed segment when the newest named none. */
	for (size_t i = dl.n; i-- > 0;) {
		kc_buf_reset(&text);
		if ((r = read_record(dir, dl.v[i], &text)) != 0)
			goto out;
		if ((r = kc_achain_digest_parse(text.data, text.len, &d)) != 0) {
			kc_err_set(r, "digest record %" PRIu64 " in '%s' does not parse; not resuming over it",
			    dl.v[i], dir);
			goto out;
		}
		if (t->last_digest == 0) {
			t->last_digest = d.sequence;
			kc_sha256_hex(text.data, text.len, t->last_sha256);
		}
		if (d.nsegs > 0) {
			t->last_sealed_seg = d.segs[d.nsegs - 1].number;
			kc_achain_digest_clear(&d);
			break;
		}
		kc_achain_digest_clear(&d);
	}
out:
	kc_buf_free(&text);
	free(dl.v);
	free(sl.v);
	return r;
}

int
kc_achain_stamp(const char *dir, uint64_t n, const char *url, const char *tsa_ca, long timeout,
    char *gentime, size_t gsize)
{
	struct kc_buf text = KC_BUF_INIT(KC_ACHAIN_RECORD_MAX), tsr = KC_BUF_INIT(KC_TSR_MAX);
	char name[64], *path = NULL;
	int r;

	if ((r = read_record(dir, n, &text)) != 0)
		goto out;
	if ((r = kc_tsa_stamp_timeout(url, tsa_ca, text.data, text.len, timeout, &tsr)) != 0)
		goto out;
	if (gentime != NULL && (r = kc_tsa_check(tsr.data, tsr.len, text.data, text.len, NULL, gentime, gsize)) != 0)
		goto out;
	kc_achain_tsr_name(n, name, sizeof(name));
	if ((path = kc_path_join(dir, name)) == NULL) {
		r = KC_ERR_NOMEM;
		goto out;
	}
	if ((r = kc_write_file_atomic(path, tsr.data, tsr.len, 0644)) == 0)
		r = sync_dir(dir);
out:
	free(path);
	kc_buf_free(&text);
	kc_buf_free(&tsr);
	return r;
}

/* ---- verification ---- */

struct vstate {
	cJSON *problems;	/* tampering */
	cJSON *gaps;
	int tampered;
};

static void
problem(struct vstate *v, const char *file, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void vproblem(cJSON *problems, const char *file, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
problem(struct vstate *v, const char *file, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(v->problems, file, fmt, ap);
	va_end(ap);
	v->tampered = 1;
}

static void
vproblem(cJSON *problems, const char *file, const char *fmt, va_list ap)
{
	char msg[512];
	cJSON *o = cJSON_CreateObject();

	kc_vfmt_trunc(msg, sizeof(msg), fmt, ap);
	if (o == NULL)
		return;
	add_str(o, "file", file);
	add_str(o, "problem", msg);
	if (!cJSON_AddItemToArray(problems, o))
		cJSON_Delete(o);
}

void
kc_achain_problem(cJSON *problems, const char *file, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(problems, file, fmt, ap);
	va_end(ap);
}

int
kc_achain_seg_check(const struct kc_achain_seg *s, const char *record, uint64_t *due, int check,
    const struct kc_achain_seg_found *f, cJSON *problems)
{
	char sn[64];
	int n = 0;

	kc_achain_seg_name(s->number, sn, sizeof(sn));
	if (*due != 0 && s->number != *due) {
		kc_achain_problem(problems, sn, "segment %" PRIu64 " where %" PRIu64 " was due (reordered, removed or "
		    "inserted)", s->number, *due);
		n++;
	}
	*due = s->number + 1;
	if (!check)
		return n;
	if (f == NULL) {
		kc_achain_problem(problems, sn, "segment named by %s is missing", record);
		n++;
	} else if (f->bytes != s->bytes || !kc_digest_eq(f->sha256, s->sha256)) {
		kc_achain_problem(problems, sn, "segment changed: %" PRIu64 " bytes sha256 %s, record %s says %" PRIu64
		    " bytes sha256 %s", f->bytes, f->sha256, record, s->bytes, s->sha256);
		n++;
	} else if (f->lines != s->events) {
		kc_achain_problem(problems, sn, "%" PRIu64 " lines, record says %" PRIu64 " events", f->lines, s->events);
		n++;
	}
	return n;
}

static void
gap(struct vstate *v, const char *from, const char *to, const char *why)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return;
	add_str(o, "from", from);
	add_str(o, "to", to);
	add_str(o, "why", why);
	if (!cJSON_AddItemToArray(v->gaps, o))
		cJSON_Delete(o);
}

/* Hash and count the lines of a segment file. */
static int
seg_measure(const char *path, char hex[KC_SHA256_HEX], uint64_t *bytes, uint64_t *lines)
{
	unsigned char buf[65536];
	struct kc_sha256 *h;
	size_t n;
	FILE *f;
	int r = 0;

	*bytes = *lines = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return kc_err_set(errno == ENOENT ? KC_ERR_NOTFOUND : KC_ERR_IO, "cannot open '%s': %s", path,
		    strerror(errno));
	if ((h = kc_sha256_new()) == NULL) {
		fclose(f);
		return KC_ERR_NOMEM;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		kc_sha256_update(h, buf, n);
		*bytes += n;
		for (size_t i = 0; i < n; i++)
			*lines += buf[i] == '\n';
	}
	if (ferror(f))
		r = kc_err_set(KC_ERR_IO, "cannot read '%s'", path);
	kc_sha256_final(h, NULL, hex);
	kc_sha256_free(h);
	fclose(f);
	return r;
}

static double
tdiff(const char *later, const char *earlier)
{
	time_t a, b;
	long an, bn;

	if (kc_parse_rfc3339(later, &a, &an) != 0 || kc_parse_rfc3339(earlier, &b, &bn) != 0)
		return 0;
	return difftime(a, b) + (double)(an - bn) / 1e9;
}

/* The time-stamp checks of one record (kc_achain_verify_tsa). */
struct tsa_state {
	const char *ca;
	cJSON *obj, *missing;
	uint64_t records, stamped;
	char first[KC_ACHAIN_TIME_MAX], last[KC_ACHAIN_TIME_MAX];
};

static int
check_stamp(struct tsa_state *t, struct vstate *v, const char *dir, uint64_t n, const struct kc_buf *text,
    const char *created)
{
	struct kc_buf tsr = KC_BUF_INIT(KC_TSR_MAX);
	char name[80], *path, when[40] = "", why[512];
	struct stat st;
	int r;

	t->records++;
	kc_achain_tsr_name(n, name, sizeof(name));
	if ((path = kc_path_join(dir, name)) == NULL)
		return KC_ERR_NOMEM;
	if (lstat(path, &st) != 0 && errno == ENOENT) {
		cJSON *s = cJSON_CreateString(name);

		free(path);
		if (s != NULL && !cJSON_AddItemToArray(t->missing, s))
			cJSON_Delete(s);
		return 0;
	}
	r = kc_read_file(path, KC_TSR_MAX, &tsr);
	free(path);
	if (r != 0) {
		problem(v, name, "time-stamp token unreadable: %s", kc_err_msg());
		kc_buf_free(&tsr);
		return 0;
	}
	r = kc_achain_token_check(tsr.data, tsr.len, text->data, text->len, created, t->ca, when, sizeof(when), why,
	    sizeof(why));
	kc_buf_free(&tsr);
	if (r == KC_ERR_VERIFY) {
		problem(v, name, "%s", why);
		return 0;
	}
	if (r != 0)
		return r;
	t->stamped++;
	if (t->first[0] == '\0')
		copy_str(t->first, sizeof(t->first), when);
	copy_str(t->last, sizeof(t->last), when);
	return 0;
}

int
kc_achain_token_check(const void *tsr, size_t tsrlen, const void *rec, size_t reclen, const char *created,
    const char *tsa_ca, char *gentime, size_t gsize, char *why, size_t wsize)
{
	char when[40] = "";
	double lag;

	if (gentime != NULL && gsize > 0)
		gentime[0] = '\0';
	why[0] = '\0';
	if (tsa_ca == NULL)
		return kc_err_set(KC_ERR_INVALID, "no TSA CA to check a time-stamp token against");
	if (kc_tsa_check(tsr, tsrlen, rec, reclen, tsa_ca, when, sizeof(when)) != 0) {
		kc_fmt_trunc(why, wsize, "time-stamp token does not match the record or is not signed by the TSA CA (%s)",
		    kc_err_msg());
		return KC_ERR_VERIFY;
	}
	lag = tdiff(when, created);
	if (when[0] == '\0' || lag < -KC_ACHAIN_TSA_SKEW) {
		kc_fmt_trunc(why, wsize, "time-stamp %s is before the record's creation %s", when[0] ? when : "(no time)",
		    created);
		return KC_ERR_VERIFY;
	}
	if (lag > KC_ACHAIN_TSA_GIVE_UP + KC_ACHAIN_TSA_SKEW) {
		kc_fmt_trunc(why, wsize, "time-stamp %s is %.0f s after the record's creation %s: made later than the "
		    "sink stamps (a rewritten record?)", when, lag, created);
		return KC_ERR_VERIFY;
	}
	if (gentime != NULL)
		kc_fmt_trunc(gentime, gsize, "%s", when);
	return 0;
}

int
kc_achain_verify(const char *dir, const char *pubkey, int64_t gap_secs, cJSON **report)
{
	return kc_achain_verify_tsa(dir, pubkey, gap_secs, NULL, report);
}

int
kc_achain_verify_tsa(const char *dir, const char *pubkey, int64_t gap_secs, const char *tsa_ca, cJSON **report)
{
	struct tsa_state ts;
	struct numlist dl = { 0 }, sl = { 0 };
	struct kc_buf text = KC_BUF_INIT(KC_ACHAIN_RECORD_MAX), sig = KC_BUF_INIT(128);
	struct vstate v = { 0 };
	struct kc_achain_digest prev = { 0 }, d;
	char prev_sha[KC_SHA256_HEX] = "", name[64], sname[80], fpr[KC_FPR_LEN] = "";
	uint64_t expect_seg = 0, nsegs = 0, nevents = 0, nrecords = 0, nunsealed = 0, runs = 0;
	uint64_t *sealed = NULL;
	size_t nsealed = 0, capsealed = 0;
	char first_time[KC_ACHAIN_TIME_MAX] = "", last_time[KC_ACHAIN_TIME_MAX] = "";
	cJSON *rep = NULL, *unsealed;
	int r, have_prev = 0;

	*report = NULL;
	if ((rep = cJSON_CreateObject()) == NULL || (v.problems = cJSON_AddArrayToObject(rep, "tampering")) == NULL ||
	    (v.gaps = cJSON_AddArrayToObject(rep, "gaps")) == NULL ||
	    (unsealed = cJSON_AddArrayToObject(rep, "unsealed")) == NULL) {
		cJSON_Delete(rep);
		return KC_ERR_NOMEM;
	}
	memset(&ts, 0, sizeof(ts));
	ts.ca = tsa_ca;
	if (tsa_ca != NULL && ((ts.obj = cJSON_CreateObject()) == NULL ||
	    (ts.missing = cJSON_AddArrayToObject(ts.obj, "missing")) == NULL)) {
		cJSON_Delete(ts.obj);
		cJSON_Delete(rep);
		return KC_ERR_NOMEM;
	}
	if ((r = list_numbers(dir, DIG_PREFIX, DIG_SUFFIX, &dl)) != 0 ||
	    (r = list_numbers(dir, SEG_PREFIX, SEG_SUFFIX, &sl)) != 0)
		goto out;
	if (dl.n == 0)
		problem(&v, dir, "no digest record: nothing is proven");
	for (size_t i = 0; i < dl.n; i++) {
		uint64_t n = dl.v[i];
		char *spath;

		kc_achain_digest_name(n, name, sizeof(name));
		if (n != i + 1) {
			problem(&v, name, "digest record %" PRIu64 " follows %zu: record %zu is missing", n, i,
			    i + 1);
			/* keep numbering from here so one removal is one problem */
		}
		kc_buf_reset(&text);
		kc_buf_reset(&sig);
		if ((r = read_record(dir, n, &text)) != 0)
			goto out;
		if (kc_fmt(sname, sizeof(sname), "%s.sig", name) != 0 || (spath = kc_path_join(dir, sname)) == NULL) {
			r = KC_ERR_NOMEM;
			goto out;
		}
		r = pubkey == NULL ? 0 : kc_read_file(spath, 128, &sig);
		free(spath);
		if (pubkey == NULL) {
			/* hashes and links only (sources.json of collect without a key) */
		} else if (r != 0) {
			problem(&v, sname, "signature missing or unreadable");
			r = 0;
		} else if (kc_verify_raw(pubkey, text.data, text.len, sig.data, sig.len, fpr) != 0) {
			if (kc_err_msg()[0] == '\0')
				problem(&v, name, "signature does not verify");
			else
				problem(&v, name, "%s", kc_err_msg());
		}
		if (kc_achain_digest_parse(text.data, text.len, &d) != 0) {
			problem(&v, name, "%s", kc_err_msg());
			continue;
		}
		nrecords++;
		if (tsa_ca != NULL && (r = check_stamp(&ts, &v, dir, n, &text, d.created)) != 0) {
			kc_achain_digest_clear(&d);
			goto out;
		}
		if (d.sequence != n)
			problem(&v, name, "record says it is number %" PRIu64, d.sequence);
		if (fpr[0] != '\0' && !kc_digest_eq(d.key, fpr))
			problem(&v, name, "record names key %s, verified with %s", d.key, fpr);
		if (!have_prev) {
			if (d.has_previous && n == 1)
				problem(&v, name, "first record names a previous one");
			else if (d.has_previous)
				problem(&v, name, "the records before this one are missing");
			runs = 1;
		} else {
			char pname[64];

			kc_achain_digest_name(prev.sequence, pname, sizeof(pname));
			if (!d.has_previous)
				problem(&v, name, "record names no previous record but follows %s", pname);
			else if (d.prev_sequence != prev.sequence || !kc_digest_eq(d.prev_sha256, prev_sha))
				problem(&v, name, "previous-record hash does not match %s (a record was changed, "
				    "removed or inserted)", pname);
			if (strcmp(d.run, prev.run) != 0) {
				runs++;
				gap(&v, prev.created, d.run_started, "sink stopped and started again");
			} else if (tdiff(d.created, prev.created) >
			    (double)(gap_secs > 0 ? gap_secs : 2 * prev.interval + 30)) {
				gap(&v, prev.created, d.created, "no digest record for longer than the gap limit");
			}
		}
		if (tdiff(d.created, prev.created) < 0 && have_prev)
			problem(&v, name, "created before the record it follows");
		for (size_t k = 0; k < d.nsegs; k++) {
			struct kc_achain_seg *s = &d.segs[k];
			char sn[64], hex[KC_SHA256_HEX], *path;
			uint64_t bytes, lines;
			int mr;

			kc_achain_seg_name(s->number, sn, sizeof(sn));
			if (nsealed == capsealed) {
				size_t nc = capsealed ? capsealed * 2 : 64;
				uint64_t *ns = realloc(sealed, nc * sizeof(*ns));

				if (ns == NULL) {
					kc_achain_digest_clear(&d);
					r = KC_ERR_NOMEM;
					goto out;
				}
				sealed = ns;
				capsealed = nc;
			}
			sealed[nsealed++] = s->number;
			if ((path = kc_path_join(dir, sn)) == NULL) {
				kc_achain_digest_clear(&d);
				r = KC_ERR_NOMEM;
				goto out;
			}
			mr = seg_measure(path, hex, &bytes, &lines);
			free(path);
			{
				const struct kc_achain_seg_found f = { bytes, lines, hex };

				/* a segment that cannot be read: its number checked,
				 * then the read error */
				if (kc_achain_seg_check(s, name, &expect_seg, mr == 0 || mr == KC_ERR_NOTFOUND,
				    mr == 0 ? &f : NULL, v.problems) > 0)
					v.tampered = 1;
			}
			if (mr != 0 && mr != KC_ERR_NOTFOUND)
				problem(&v, sn, "%s", kc_err_msg());
			nsegs++;
			nevents += s->events;
			if (first_time[0] == '\0' && s->first_time[0] != '\0')
				copy_str(first_time, sizeof(first_time), s->first_time);
			if (s->last_time[0] != '\0')
				copy_str(last_time, sizeof(last_time), s->last_time);
		}
		kc_sha256_hex(text.data, text.len, prev_sha);
		kc_achain_digest_clear(&prev);
		prev = d;
		have_prev = 1;
	}
	/* Segment files no record names: after the last sealed one they are
	 * the open (or not yet sealed) segments; before it, insertions. */
	qsort(sealed, nsealed, sizeof(*sealed), cmp_u64);
	for (size_t i = 0; i < sl.n; i++) {
		uint64_t key = sl.v[i];

		if (nsealed > 0 && bsearch(&key, sealed, nsealed, sizeof(*sealed), cmp_u64) != NULL)
			continue;
		kc_achain_seg_name(key, name, sizeof(name));
		if (nsealed > 0 && key < sealed[nsealed - 1]) {
			problem(&v, name, "segment file named by no digest record (inserted)");
		} else {
			cJSON *s = cJSON_CreateString(name);

			nunsealed++;
			if (s != NULL && !cJSON_AddItemToArray(unsealed, s))
				cJSON_Delete(s);
		}
	}
	add_str(rep, "folder", dir);
	add_str(rep, "key", fpr);
	add_num(rep, "records", (double)nrecords);
	add_num(rep, "segments", (double)nsegs);
	add_num(rep, "events", (double)nevents);
	add_num(rep, "runs", (double)runs);
	add_str(rep, "firstEvent", first_time);
	add_str(rep, "lastEvent", last_time);
	if (have_prev)
		add_str(rep, "lastRecord", prev.created);
	add_str(rep, "result", v.tampered ? "tampered" : nunsealed > 0 ? "intact, unsealed segments" : "intact");
	if (tsa_ca != NULL) {
		uint64_t nmissing = (uint64_t)cJSON_GetArraySize(ts.missing);
		char res[160];

		if (nmissing == 0 && ts.records > 0 && ts.stamped == ts.records)
			kc_fmt_trunc(res, sizeof(res), "every record time-stamped");
		else if (nmissing > 0)
			kc_fmt_trunc(res, sizeof(res), "%" PRIu64 " of %" PRIu64 " records without a time-stamp token",
			    nmissing, ts.records);
		else
			kc_fmt_trunc(res, sizeof(res), "time-stamp tokens do not verify (see tampering)");
		add_str(ts.obj, "result", res);
		add_num(ts.obj, "records", (double)ts.records);
		add_num(ts.obj, "stamped", (double)ts.stamped);
		add_str(ts.obj, "firstStamp", ts.first);
		add_str(ts.obj, "lastStamp", ts.last);
		if (!cJSON_AddItemToObject(rep, "timestamps", ts.obj))
			cJSON_Delete(ts.obj);
		ts.obj = NULL;
		r = v.tampered ? KC_ERR_VERIFY : (nunsealed > 0 || nmissing > 0) ? 1 : 0;
	} else {
		r = v.tampered ? KC_ERR_VERIFY : nunsealed > 0 ? 1 : 0;
	}
	if (v.tampered)
		kc_err_set(KC_ERR_VERIFY, "the audit chain in '%s' does not verify", dir);
out:
	cJSON_Delete(ts.obj);
	kc_achain_digest_clear(&prev);
	kc_buf_free(&text);
	kc_buf_free(&sig);
	free(dl.v);
	free(sl.v);
	free(sealed);
	if (r < 0 && r != KC_ERR_VERIFY) {
		cJSON_Delete(rep);
		return r;
	}
	*report = rep;
	return r;
}
