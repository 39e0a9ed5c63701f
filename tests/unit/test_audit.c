/* test_audit.c - audit-log reader, filters, fast path, redaction, staging.
 *
 * Fixtures in tests/unit/data/audit/ (made by hand, checked against jq):
 *   events.log     20 events e01..e20 covering every filter, a \u-escaped
 *                  username (e11), a line with spaces between tokens (e12),
 *                  "code":403.0 (e17), a duplicate "verb" key (e19), and
 *                  bodies holding the canary KCUSTODY-CANARY-UNIT-7f3a
 *                  (e05 data, e06 configmap data, e13 token, e15 SecretList)
 *   malformed.log  good lines m1..m4 around garbage, invalid UTF-8, a
 *                  non-object, an empty line, a cut object, two objects on
 *                  a line; no newline after m4
 *   rot/           a rotated log (gzip and plain backups, a gzip twin of a
 *                  plain backup, the current file), a second log whose base
 *                  name has dashes, and a README
 * The 10 MB line, the truncated gzips and the gap logs are written here.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "collector/audit.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/sha256.h"

#define CANARY "KCUSTODY-CANARY-UNIT-7f3a"
#define CANARY_B64 "S0NVU1RPRFktQ0FOQVJZLVVOSVQtN2YzYQ=="

struct bad_rec {
	char reason[64];
	char detail[128];
	uint64_t offset, length;
	char sha[65];
};

struct got {
	struct bad_rec bad[32];
	size_t nbad;
	char *out;	/* segment */
	size_t outlen;
	struct kc_audit_result res;
	int rc;
};

static int
collect_bad(void *ctx, const struct kc_audit_malformed *m)
{
	struct got *g = ctx;

	if (g->nbad < 32) {
		struct bad_rec *b = &g->bad[g->nbad];

		snprintf(b->reason, sizeof(b->reason), "%s", m->reason);
		snprintf(b->detail, sizeof(b->detail), "%s", m->detail);
		snprintf(b->sha, sizeof(b->sha), "%s", m->sha256);
		b->offset = m->offset;
		b->length = m->length;
	}
	g->nbad++;
	return 0;
}

/* Run a scan over one path with "name=value" filters (NULL-terminated). */
static void
scan(struct got *g, const char *path, const struct kc_audit_opts *o, const char *const *filters)
{
	struct kc_audit_filter *f = kc_audit_filter_new();
	FILE *mem;

	memset(g, 0, sizeof(*g));
	for (size_t i = 0; filters != NULL && filters[i] != NULL; i++) {
		char name[64];
		const char *eq = strchr(filters[i], '=');

		snprintf(name, sizeof(name), "%.*s", (int)(eq - filters[i]), filters[i]);
		CHECK_INT(kc_audit_filter_add(f, name, eq + 1), 0);
	}
	mem = open_memstream(&g->out, &g->outlen);
	g->rc = kc_audit_scan(&path, 1, f, o, mem, collect_bad, g, &g->res);
	fclose(mem);
	kc_audit_filter_free(f);
}

static void
got_free(struct got *g)
{
	free(g->out);
	cJSON_Delete(g->res.doc);
}

/* "id id id" of the segment's auditIDs, in order. */
static void
ids(const struct got *g, char *out, size_t n)
{
	const char *p = g->out, *end = g->out + g->outlen;

	out[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		cJSON *ev = cJSON_ParseWithLength(p, (size_t)(nl - p));
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "auditID");
		size_t k = strlen(out);

		snprintf(out + k, n - k, "%s%s", k ? " " : "", cJSON_IsString(id) ? id->valuestring : "?");
		cJSON_Delete(ev);
		p = nl + 1;
	}
}

static char *
data(const char *rel)
{
	return kc_path_join(kc_test_data(), rel);
}

static void
expect_ids(const char *const *filters, const char *want)
{
	struct kc_audit_opts o = { .no_redact = 1 };
	char *path = data("audit/events.log");
	struct got g;
	char s[1024];

	scan(&g, path, &o, filters);
	CHECK_INT(g.rc, 0);
	ids(&g, s, sizeof(s));
	if (strcmp(s, want) != 0)
		kc_test_fail(__FILE__, __LINE__, "filter %s...: got \"%s\", want \"%s\"",
		    filters[0] ? filters[0] : "(none)", s, want);
	/* the same with every line parsed (no fast path) */
	got_free(&g);
	o.validate = 1;
	scan(&g, path, &o, filters);
	ids(&g, s, sizeof(s));
	if (strcmp(s, want) != 0)
		kc_test_fail(__FILE__, __LINE__, "validate, filter %s...: got \"%s\"",
		    filters[0] ? filters[0] : "(none)", s);
	got_free(&g);
	free(path);
}

DEFINE_TEST(test_audit_backup_name)
{
	size_t bl, el;
	const char *ext;
	int gz;
	int64_t ms;

	CHECK_INT(kc_audit_backup_name("audit-2026-03-02T08-05-00.123.log.gz", &bl, &ext, &el, &gz, &ms), 1);
	CHECK_INT(bl, 5);
	CHECK_INT(el, 4);
	CHECK(strncmp(ext, ".log", 4) == 0);
	CHECK_INT(gz, 1);
	CHECK_INT(ms, 1772438700123LL);
	CHECK_INT(kc_audit_backup_name("kube-apiserver-audit-2026-03-02T08-29-00.000.log", &bl, &ext, &el, &gz, &ms), 1);
	CHECK_INT(bl, 20);
	CHECK_INT(gz, 0);
	CHECK_INT(kc_audit_backup_name("audit-2026-03-02T08-05-00.000", &bl, &ext, &el, &gz, &ms), 1);
	CHECK_INT(el, 0);
	CHECK_INT(kc_audit_backup_name("audit.log", &bl, &ext, &el, &gz, &ms), 0);
	CHECK_INT(kc_audit_backup_name("audit-2026-13-02T08-05-00.000.log", &bl, &ext, &el, &gz, &ms), 0);
	CHECK_INT(kc_audit_backup_name("audit-2026-03-02T08:05:00.000.log", &bl, &ext, &el, &gz, &ms), 0);
	CHECK_INT(kc_audit_backup_name("audit-2026-03-02T08-05-00.000xlog", &bl, &ext, &el, &gz, &ms), 0);
}

DEFINE_TEST(test_audit_parse_ts)
{
	int64_t ns;

	CHECK_INT(kc_audit_parse_ts("2026-03-02T08:00:01.000123Z", 27, &ns), 0);
	CHECK_INT(ns, 1772438401000123000LL);
	CHECK_INT(kc_audit_parse_ts("2026-03-02T09:00:01.000123+01:00", 32, &ns), 0);
	CHECK_INT(ns, 1772438401000123000LL);
	CHECK_INT(kc_audit_parse_ts("2026-03-02T08:00:01Z", 20, &ns), 0);
	CHECK_INT(ns, 1772438401000000000LL);
	CHECK_INT(kc_audit_parse_ts("2026-03-02T08:00:01", 19, &ns), KC_ERR_PARSE);
	CHECK_INT(kc_audit_parse_ts("2026-03-02T08:00:01.Z", 21, &ns), KC_ERR_PARSE);
	CHECK_INT(kc_audit_parse_ts("2026-03-02T08:00:01Zx", 21, &ns), KC_ERR_PARSE);
	/* Only what fits in int64_t ns, with a second of margin (tests/fuzz
	 * found the overflow): KC_ERR_LIMIT outside about 1678-2262. */
	CHECK_INT(kc_audit_parse_ts("2262-04-11T23:47:15Z", 20, &ns), 0);
	CHECK_INT(kc_audit_parse_ts("2262-04-11T23:47:16.854775808Z", 30, &ns), KC_ERR_LIMIT);
	CHECK_INT(kc_audit_parse_ts("6026-03-02T08:00:01Z", 20, &ns), KC_ERR_LIMIT);
	CHECK_INT(kc_audit_parse_ts("1677-09-21T00:12:45Z", 20, &ns), 0);
	CHECK_INT(kc_audit_parse_ts("0000-01-01T00:00:00Z", 20, &ns), KC_ERR_LIMIT);
}

DEFINE_TEST(test_audit_filter_far_since)
{
	struct kc_audit_filter *f = kc_audit_filter_new();

	CHECK(f != NULL);
	CHECK_INT(kc_audit_filter_add(f, "since", "9000000000000s"), KC_ERR_INVALID);
	CHECK_INT(kc_audit_filter_add(f, "since", "9999-01-01T00:00:00Z"), KC_ERR_INVALID);
	CHECK_INT(kc_audit_filter_add(f, "since", "72h"), 0);
	kc_audit_filter_free(f);
}

DEFINE_TEST(test_audit_discover_folder)
{
	struct kc_audit_sources s;
	char *dir = data("audit/rot");
	const char *p = dir;
	static const char *const want[] = {
		"audit-2026-03-02T08-05-00.000.log.gz", "audit-2026-03-02T08-10-00.000.log",
		"audit-2026-03-02T08-15-00.000.log.gz", "audit.log",
		"kube-apiserver-audit-2026-03-02T08-29-00.000.log", "kube-apiserver-audit.log",
	};

	CHECK_INT(kc_audit_discover(&p, 1, 0, &s), 0);
	CHECK_INT(s.n, 6);
	for (size_t i = 0; i < s.n && i < 6; i++)
		CHECK_STR(s.v[i].name, want[i]);
	if (s.n == 6) {
		CHECK_STR(s.v[0].role, "backup");
		CHECK_STR(s.v[3].role, "current");
		CHECK_INT(s.v[0].group, 0);
		CHECK_INT(s.v[3].group, 0);
		CHECK_INT(s.v[4].group, 1);
		CHECK_INT(s.v[5].group, 1);
		CHECK_INT(s.v[0].rotated_ms, 1772438700000LL);
		CHECK_INT(s.v[3].rotated_ms, -1);
	}
	CHECK_INT(s.nskipped, 2);	/* README.txt and the gzip twin, each once */
	if (s.nskipped == 2) {
		int r = strstr(s.skipped[0].path, "README.txt") != NULL ? 0 : 1;

		CHECK(strstr(s.skipped[r].path, "README.txt") != NULL);
		CHECK(strstr(s.skipped[1 - r].path, "T08-10-00.000.log.gz") != NULL);
	}
	kc_audit_sources_free(&s);
	free(dir);
}

DEFINE_TEST(test_audit_discover_file)
{
	struct kc_audit_sources s;
	char *cur = data("audit/rot/audit.log"), *bk = data("audit/rot/audit-2026-03-02T08-15-00.000.log.gz");
	const char *two[] = { cur, cur };
	const char *p = cur;

	CHECK_INT(kc_audit_discover(&p, 1, 0, &s), 0);
	CHECK_INT(s.n, 4);
	if (s.n == 4) {
		CHECK_STR(s.v[0].name, "audit-2026-03-02T08-05-00.000.log.gz");
		CHECK_STR(s.v[3].name, "audit.log");
		CHECK_STR(s.v[3].role, "current");
	}
	kc_audit_sources_free(&s);
	/* no siblings when asked, and a backup named alone is read alone */
	CHECK_INT(kc_audit_discover(&p, 1, 1, &s), 0);
	CHECK_INT(s.n, 1);
	kc_audit_sources_free(&s);
	p = bk;
	CHECK_INT(kc_audit_discover(&p, 1, 0, &s), 0);
	CHECK_INT(s.n, 1);
	kc_audit_sources_free(&s);
	/* the same file twice is read once */
	CHECK_INT(kc_audit_discover(two, 2, 1, &s), 0);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.nskipped, 1);
	kc_audit_sources_free(&s);
	p = "does-not-exist.log";
	CHECK_INT(kc_audit_discover(&p, 1, 0, &s), KC_ERR_NOTFOUND);
	CHECK(strstr(kc_err_msg(), "'does-not-exist.log'") != NULL);
	free(cur);
	free(bk);
}

DEFINE_TEST(test_audit_rotation_order)
{
	struct kc_audit_opts o = { .no_redact = 1, .stats = 1 };
	char *dir = data("audit/rot");
	struct got g;
	char s[512];
	const cJSON *src, *first;

	scan(&g, dir, &o, NULL);
	CHECK_INT(g.rc, 0);
	ids(&g, s, sizeof(s));
	CHECK_STR(s, "r1a r1b r1c r2a r2b r3a r3b r4a r4b k1a k2a");
	CHECK_INT(g.res.malformed, 0);
	src = cJSON_GetObjectItem(g.res.doc, "sources");
	CHECK_INT(cJSON_GetArraySize(src), 6);
	first = cJSON_GetArrayItem(src, 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "compression")), "gzip");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "first"), "auditID")), "r1a");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "last"), "auditID")), "r1c");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "rotated_at")), "2026-03-02T08:05:00.000000Z");
	/* raw hash is of the .gz bytes, the other of the log inside */
	{
		char *gz = data("audit/rot/audit-2026-03-02T08-05-00.000.log.gz");
		char hex[65];

		kc_sha256_file(gz, hex, NULL);
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "sha256")), hex);
		CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(first, "decompressed_sha256")), hex) != 0);
		free(gz);
	}
	got_free(&g);
	free(dir);
}

DEFINE_TEST(test_audit_malformed_cases)
{
	struct kc_audit_opts o = { .validate = 1 };
	char *path = data("audit/malformed.log");
	struct got g;
	char s[256];
	static const char *const want[] = {
		"invalid JSON", "invalid UTF-8", "not a JSON object", "empty line",
		"invalid JSON", "invalid JSON", "truncated last line (no newline at the end)",
	};

	scan(&g, path, &o, NULL);
	CHECK_INT(g.rc, 0);
	ids(&g, s, sizeof(s));
	CHECK_STR(s, "m1 m2 m3");
	CHECK_INT(g.nbad, 7);
	for (size_t i = 0; i < 7 && i < g.nbad; i++) {
		CHECK_STR(g.bad[i].reason, want[i]);
		CHECK_INT(strlen(g.bad[i].sha), 64);
	}
	CHECK_INT(g.res.malformed, 7);
	CHECK_INT(g.res.lines, 10);
	if (g.nbad == 7) {
		char hex[65];
		/* "this is not json" follows m1's line */
		CHECK_INT(g.bad[0].length, 16);
		kc_sha256_hex("this is not json", 16, hex);
		CHECK_STR(g.bad[0].sha, hex);
		CHECK_INT(g.bad[3].length, 0);
		CHECK(strstr(g.bad[5].detail, "trailing data") != NULL);
	}
	got_free(&g);
	/* without --validate the shape check still sets every bad line aside */
	o.validate = 0;
	scan(&g, path, &o, NULL);
	CHECK_INT(g.nbad, 7);
	if (g.nbad == 7)
		CHECK_STR(g.bad[0].reason, "not a JSON object");
	got_free(&g);
	free(path);
}

static void
write_file(const char *name, const char *a, size_t n)
{
	CHECK_INT(kc_write_file_atomic(name, a, n, 0600), 0);
}

DEFINE_TEST(test_audit_long_line)
{
	static const char good[] = "{\"auditID\":\"g1\",\"verb\":\"get\"}\n";
	static const char good2[] = "{\"auditID\":\"g2\",\"verb\":\"get\"}\n";
	size_t big = 10u << 20;
	char *buf = malloc(sizeof(good) + big + sizeof(good2) + 16), *p = buf;
	struct kc_audit_opts o = { 0 };
	struct got g;
	char s[64], hex[65];

	memcpy(p, good, sizeof(good) - 1);
	p += sizeof(good) - 1;
	*p++ = '{';
	memset(p, 'x', big - 2);
	p += big - 2;
	*p++ = '}';
	*p++ = '\n';
	memcpy(p, good2, sizeof(good2) - 1);
	p += sizeof(good2) - 1;
	write_file("long.log", buf, (size_t)(p - buf));
	kc_sha256_hex(buf + sizeof(good) - 1, big, hex);
	scan(&g, "long.log", &o, NULL);
	CHECK_INT(g.rc, 0);
	ids(&g, s, sizeof(s));
	CHECK_STR(s, "g1 g2");
	CHECK_INT(g.nbad, 1);
	CHECK_STR(g.bad[0].reason, "line too long");
	CHECK_INT(g.bad[0].offset, sizeof(good) - 1);
	CHECK_INT(g.bad[0].length, big);
	CHECK_STR(g.bad[0].sha, hex);
	got_free(&g);
	/* a small cap, and an overlong line at the end without newline */
	o.line_max = 1024;
	write_file("long2.log", buf, sizeof(good) - 1 + 5000);
	scan(&g, "long2.log", &o, NULL);
	ids(&g, s, sizeof(s));
	CHECK_STR(s, "g1");
	CHECK_INT(g.nbad, 1);
	CHECK_INT(g.bad[0].length, 5000);
	CHECK(strstr(g.bad[0].detail, "no newline") != NULL);
	got_free(&g);
	free(buf);
}

DEFINE_TEST(test_audit_nul_in_string)
{
	/* a user "agent\u0000x" would read as "agent" to cJSON and not to jq */
	static const char text[] =
	    "{\"auditID\":\"n1\",\"verb\":\"get\",\"user\":{\"username\":\"agent\"}}\n"
	    "{\"auditID\":\"n2\",\"verb\":\"get\",\"user\":{\"username\":\"agent\\u0000x\"}}\n"
	    "{\"auditID\":\"n3\",\"verb\":\"get\",\"user\":{\"username\":\"agent\\\\u0000x\"}}\n";
	struct kc_audit_opts o = { 0 };
	struct got g;
	char s[64];

	write_file("nul.log", text, sizeof(text) - 1);
	scan(&g, "nul.log", &o, NULL);
	CHECK_INT(g.rc, 0);
	ids(&g, s, sizeof(s));
	CHECK_STR(s, "n1 n3");	/* n3: an escaped backslash, then the text u0000 */
	CHECK_INT(g.nbad, 1);
	if (g.nbad == 1) {
		CHECK_STR(g.bad[0].reason, "NUL character in a string");
		CHECK_INT(g.bad[0].length, strlen(strchr(text, '\n') + 1) - strlen(strchr(strchr(text, '\n') + 1, '\n')));
	}
	got_free(&g);
}

/* The same with a raw NUL byte in the string (not JSON, but cJSON's
 * length-bounded parse takes it and cuts the string there). */
DEFINE_TEST(test_audit_raw_nul_in_string)
{
	static const char text[] =
	    "{\"auditID\":\"r1\",\"verb\":\"get\",\"user\":{\"username\":\"agent\"}}\n"
	    "{\"auditID\":\"r2\",\"verb\":\"get\",\"user\":{\"username\":\"agent\0x\"}}\n"
	    "{\"auditID\":\"r3\",\"verb\":\"get\",\"user\":{\"username\":\"agent0x\"}}\n";
	struct kc_audit_opts o = { 0 };
	struct got g;
	char s[64];

	write_file("rawnul.log", text, sizeof(text) - 1);
	scan(&g, "rawnul.log", &o, NULL);
	CHECK_INT(g.rc, 0);
	ids(&g, s, sizeof(s));
	CHECK_STR(s, "r1 r3");	/* r3: the twin without the NUL byte */
	CHECK_INT(g.nbad, 1);
	if (g.nbad == 1)
		CHECK_STR(g.bad[0].reason, "NUL character in a string");
	got_free(&g);
}

/* An audit event embedded as JSON text (AKS properties.log): the line's
 * own scan sees "\\u0000" (an escaped backslash), the embedded text holds
 * the NUL escape itself, and cJSON would cut the user there. */
DEFINE_TEST(test_audit_nul_in_embedded_event)
{
	static const char text[] =
	    "{\"category\":\"kube-audit\",\"resourceId\":\"/x/managedClusters/C1\",\"properties\":{\"log\":\"{\\\"kind\\\":\\\"Event\\\",\\\"apiVersion\\\":\\\"audit.k8s.io/v1\\\",\\\"auditID\\\":\\\"a1\\\",\\\"verb\\\":\\\"get\\\",\\\"requestReceivedTimestamp\\\":\\\"2026-03-02T08:00:00.000000Z\\\",\\\"user\\\":{\\\"username\\\":\\\"agent\\\"}}\"}}\n"
	    "{\"category\":\"kube-audit\",\"resourceId\":\"/x/managedClusters/C1\",\"properties\":{\"log\":\"{\\\"kind\\\":\\\"Event\\\",\\\"apiVersion\\\":\\\"audit.k8s.io/v1\\\",\\\"auditID\\\":\\\"a2\\\",\\\"verb\\\":\\\"get\\\",\\\"requestReceivedTimestamp\\\":\\\"2026-03-02T08:00:00.000000Z\\\",\\\"user\\\":{\\\"username\\\":\\\"agent\\\\u0000x\\\"}}\"}}\n"
	    "{\"category\":\"kube-audit\",\"resourceId\":\"/x/managedClusters/C1\",\"properties\":{\"log\":\"{\\\"kind\\\":\\\"Event\\\",\\\"apiVersion\\\":\\\"audit.k8s.io/v1\\\",\\\"auditID\\\":\\\"a3\\\",\\\"verb\\\":\\\"get\\\",\\\"requestReceivedTimestamp\\\":\\\"2026-03-02T08:00:00.000000Z\\\",\\\"user\\\":{\\\"username\\\":\\\"agent\\\\\\\\u0000x\\\"}}\"}}\n"
	    "{\"category\":\"kube-audit\",\"resourceId\":\"/x/managedClusters/C1\",\"properties\":\"{\\\"log\\\":\\\"{\\\\\\\"kind\\\\\\\":\\\\\\\"Event\\\\\\\",\\\\\\\"apiVersion\\\\\\\":\\\\\\\"audit.k8s.io/v1\\\\\\\",\\\\\\\"auditID\\\\\\\":\\\\\\\"a4\\\\\\\",\\\\\\\"verb\\\\\\\":\\\\\\\"get\\\\\\\",\\\\\\\"requestReceivedTimestamp\\\\\\\":\\\\\\\"2026-03-02T08:00:00.000000Z\\\\\\\",\\\\\\\"user\\\\\\\":{\\\\\\\"username\\\\\\\":\\\\\\\"agent\\\\\\\"}}\\\",\\\"note\\\":\\\"x\\\\u0000y\\\"}\"}\n"
	    "{\"category\":\"kube-audit\",\"resourceId\":\"/x/managedClusters/C1\",\"properties\":\"{\\\"log\\\":\\\"{\\\\\\\"kind\\\\\\\":\\\\\\\"Event\\\\\\\",\\\\\\\"apiVersion\\\\\\\":\\\\\\\"audit.k8s.io/v1\\\\\\\",\\\\\\\"auditID\\\\\\\":\\\\\\\"a5\\\\\\\",\\\\\\\"verb\\\\\\\":\\\\\\\"get\\\\\\\",\\\\\\\"requestReceivedTimestamp\\\\\\\":\\\\\\\"2026-03-02T08:00:00.000000Z\\\\\\\",\\\\\\\"user\\\\\\\":{\\\\\\\"username\\\\\\\":\\\\\\\"agent\\\\\\\"}}\\\",\\\"note\\\":\\\"xy\\\"}\"}\n";
	struct kc_audit_opts o = { 0 };
	struct got g;
	char s[64];

	write_file("aksnul.jsonl", text, sizeof(text) - 1);
	scan(&g, "aksnul.jsonl", &o, NULL);
	CHECK_INT(g.rc, 0);
	ids(&g, s, sizeof(s));
	/* a3: the embedded text has an escaped backslash, then u0000; a4:
	 * properties as JSON text with a NUL escape (a5, its twin, without) */
	CHECK_STR(s, "a1 a3 a5");
	CHECK_INT(g.nbad, 2);
	for (size_t i = 0; i < g.nbad && i < 2; i++)
		CHECK_STR(g.bad[i].reason, "NUL character in a string");
	got_free(&g);
}

/* A gzip log cut in half: events before the cut come out, whole and in
 * order, none after it, and the cut is a stream error.  The reader fills a
 * buffer of line_max + 1 MiB at a time, and the fill that meets the cut
 * hands on nothing (archive_read_data() returns the error, not the bytes
 * it had decoded): a known loss of up to one buffer of events before the
 * cut, which this test does not pin.  So the log is about 4 MB and the cap
 * the smallest, for the cut to fall well after the first buffer. */
DEFINE_TEST(test_audit_truncated_gzip_prefix)
{
	enum { N = 30000 };
	struct kc_audit_opts o = { .stats = 1, .line_max = KC_AUDIT_LINE_MAX_MIN };
	struct kc_buf b = KC_BUF_INIT(1 << 24), want = KC_BUF_INIT(1 << 20);
	struct got g;
	gzFile z = gzopen("whole.log.gz", "wb");
	char *s = malloc(1 << 20);
	size_t n = 0;
	unsigned x = 1;

	CHECK(z != NULL && s != NULL);
	if (z == NULL || s == NULL)
		return;
	for (int i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;	/* some entropy: several deflate blocks */
		gzprintf(z, "{\"kind\":\"Event\",\"auditID\":\"e%d\",\"verb\":\"get\",\"requestURI\":"
		    "\"/api/v1/namespaces/ns%u/secrets/s%08x\",\"userAgent\":\"agent/%u\"}\n",
		    i, x % 97, x, (x >> 8) % 1000);
	}
	CHECK_INT(gzclose(z), Z_OK);
	CHECK_INT(kc_read_file("whole.log.gz", b.max, &b), 0);
	write_file("half.log.gz", b.data, b.len / 2);
	scan(&g, "half.log.gz", &o, NULL);
	CHECK_INT(g.rc, 0);	/* never fatal */
	CHECK(g.nbad >= 1);
	if (g.nbad >= 1)
		CHECK_STR(g.bad[g.nbad - 1].reason, "stream error");
	CHECK_INT(g.res.source_errors, 1);
	ids(&g, s, 1 << 20);
	for (const char *p = s; *p != '\0'; p++)
		n += *p == ' ';
	n += s[0] != '\0';
	/* something came out, not everything, and exactly e0..e(n-1) */
	CHECK(n > 0);
	CHECK(n < N);
	for (size_t i = 0; i < n; i++)
		kc_buf_addf(&want, "%se%zu", i ? " " : "", i);
	CHECK_STR(s, kc_buf_str(&want));
	got_free(&g);
	kc_buf_free(&b);
	kc_buf_free(&want);
	free(s);
}

DEFINE_TEST(test_audit_truncated_gzip)
{
	char *gz = data("audit/rot/audit-2026-03-02T08-05-00.000.log.gz");
	struct kc_buf b = KC_BUF_INIT(1 << 20);
	struct kc_audit_opts o = { .stats = 1 };
	struct got g;
	char s[64];

	CHECK_INT(kc_read_file(gz, 1 << 20, &b), 0);
	write_file("cut.log.gz", b.data, b.len - 40);
	scan(&g, "cut.log.gz", &o, NULL);
	CHECK_INT(g.rc, 0);	/* never fatal */
	CHECK(g.nbad >= 1);
	CHECK_STR(g.bad[g.nbad - 1].reason, "stream error");
	CHECK(strstr(g.bad[g.nbad - 1].detail, "gzip") != NULL);
	CHECK_INT(g.res.source_errors, 1);
	/* Every complete event zlib can decode before the cut comes out, and
	 * only those: the reference is gzread's view of the same cut file
	 * (complete lines only).  libarchive dropped the bytes decoded in the
	 * read call that met the cut, so nothing came out here before. */
	ids(&g, s, sizeof(s));
	{
		char ref[4096], want[64] = "";
		gzFile z = gzopen("cut.log.gz", "rb");
		int k = 0, len;

		CHECK(z != NULL);
		while (z != NULL && k < (int)sizeof(ref) - 1 && (len = gzread(z, ref + k, (unsigned)(sizeof(ref) - 1 - (size_t)k))) > 0)
			k += len;
		if (z != NULL)
			gzclose(z);
		ref[k] = '\0';
		for (char *line = ref, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
			cJSON *ev = cJSON_ParseWithLength(line, (size_t)(nl - line));
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "auditID");
			size_t w = strlen(want);

			snprintf(want + w, sizeof(want) - w, "%s%s", w ? " " : "", cJSON_IsString(id) ? id->valuestring : "?");
			cJSON_Delete(ev);
		}
		CHECK(want[0] != '\0');	/* the cut leaves complete events before it */
		CHECK_STR(s, want);
	}
	got_free(&g);
	/* garbage after a complete gzip stream is not dropped silently */
	CHECK_INT(kc_buf_adds(&b, "GARBAGE"), 0);
	write_file("tail.log.gz", b.data, b.len);
	scan(&g, "tail.log.gz", &o, NULL);
	ids(&g, s, sizeof(s));
	CHECK_STR(s, "r1a r1b r1c");
	CHECK_INT(g.nbad, 1);
	if (g.nbad == 1)	/* the bytes counted, not just "gzip" somewhere */
		CHECK_STR(g.bad[0].detail, "trailing data: 7 bytes after the end of the gzip stream");
	got_free(&g);
	/* gzip'd by magic, whatever the name */
	write_file("noext", b.data, b.len - 7);
	scan(&g, "noext", &o, NULL);
	ids(&g, s, sizeof(s));
	CHECK_STR(s, "r1a r1b r1c");
	CHECK_INT(g.nbad, 0);
	got_free(&g);
	kc_buf_free(&b);
	free(gz);
}

DEFINE_TEST(test_audit_stdin)
{
	char *path = data("audit/rot/audit-2026-03-02T08-05-00.000.log.gz");
	struct kc_audit_opts o = { 0 };
	int saved = dup(0), fd = open(path, O_RDONLY);
	struct got g;
	char s[64];

	CHECK(fd >= 0 && saved >= 0);
	dup2(fd, 0);
	close(fd);
	scan(&g, "-", &o, NULL);
	dup2(saved, 0);
	close(saved);
	ids(&g, s, sizeof(s));
	CHECK_STR(s, "r1a r1b r1c");
	got_free(&g);
	free(path);
}

DEFINE_TEST(test_audit_filters)
{
	/* expected sets computed with jq over the same file (see docs/AUDIT.md) */
	expect_ids((const char *const[]){ "sa=ai-agents/kagent", NULL },
	    "e01 e02 e03 e11 e12 e13 e14 e15 e16 e18 e19");
	expect_ids((const char *const[]){ "sa=ai-agents/kagent", "user=system:serviceaccount:llm-gateway:gateway", NULL },
	    "e01 e02 e03 e06 e11 e12 e13 e14 e15 e16 e18 e19 e20");
	expect_ids((const char *const[]){ "code=403", NULL }, "e03 e12 e17");
	expect_ids((const char *const[]){ "verb=delete", NULL }, "e19");
	expect_ids((const char *const[]){ "verb=get", NULL },
	    "e01 e03 e08 R2-0001 e11 e12 e14 e16 e17 e18");
	expect_ids((const char *const[]){ "namespace=ai-agents", NULL }, "e01 e11 e12 e13 e15 e16 e18 e19");
	expect_ids((const char *const[]){ "decision=allow", NULL },
	    "e01 e02 e04 e05 e06 e07 R1-0001 R2-0001 e11 e13 e14 e15 e16 e18 e19 e20");
	expect_ids((const char *const[]){ "resource=pods/exec", NULL }, "e07");
	expect_ids((const char *const[]){ "resource=pods", NULL }, "e07 e08");
	expect_ids((const char *const[]){ "since=2026-03-02T08:00:10Z", "until=2026-03-02T08:00:18Z", NULL },
	    "R2-0001 e11 e12 e13 e14 e15 e17");
	expect_ids((const char *const[]){ "exclude-run=R1", "exclude-user-agent=kubectl/", "exclude-audit-id-prefix=e0", NULL },
	    "R2-0001 e11 e12 e13 e14 e15 e16 e18 e19");
	expect_ids((const char *const[]){ "run=R2", NULL }, "R2-0001");
	expect_ids((const char *const[]){ "sa=ai-agents/kagent", "resource=secrets", "verb=get", "decision=forbid", NULL },
	    "e03 e12");
}

DEFINE_TEST(test_audit_presets)
{
	expect_ids((const char *const[]){ "preset=sensitive-reads", NULL },
	    "e01 e02 e03 e04 R1-0001 R2-0001 e11 e12 e15 e16 e17 e18 e20");
	expect_ids((const char *const[]){ "preset=denied", NULL }, "e03 e08 e12 e17");
	expect_ids((const char *const[]){ "preset=denied", "preset=sensitive-reads", NULL }, "e03 e12 e17");
	expect_ids((const char *const[]){ "preset=sensitive-reads", "sa=ai-agents/rag-indexer", NULL }, "e04");
}

DEFINE_TEST(test_audit_filter_errors)
{
	struct kc_audit_filter *f = kc_audit_filter_new();

	CHECK_INT(kc_audit_filter_add(f, "preset", "everything"), KC_ERR_INVALID);
	CHECK(strstr(kc_err_msg(), "everything") != NULL);
	CHECK_INT(kc_audit_filter_add(f, "sa", "kagent"), KC_ERR_INVALID);
	CHECK_INT(kc_audit_filter_add(f, "decision", "maybe"), KC_ERR_INVALID);
	CHECK_INT(kc_audit_filter_add(f, "code", "4o3"), KC_ERR_INVALID);
	CHECK_INT(kc_audit_filter_add(f, "since", "yesterday"), KC_ERR_INVALID);
	CHECK_INT(kc_audit_filter_add(f, "colour", "red"), KC_ERR_INVALID);
	CHECK_INT(kc_audit_filter_add(f, "resource", "pods/"), KC_ERR_INVALID);
	kc_audit_filter_free(f);
}

/* The fast path never rejects a line the exact test accepts, and it does
 * reject the lines that cannot match (that is where the speed is). */
DEFINE_TEST(test_audit_fast_path_safe)
{
	static const char *const sets[][4] = {
		{ "sa=ai-agents/kagent", NULL },
		{ "preset=sensitive-reads", NULL },
		{ "preset=denied", NULL },
		{ "code=403", NULL },
		{ "since=2026-03-02T08:00:12Z", "until=2026-03-02T08:00:13Z", NULL },
		{ "user=system:serviceaccount:ai-agents:kagent", "resource=secrets", NULL },
		{ "namespace=payments", "verb=list", NULL },
	};
	char *path = data("audit/events.log");
	struct kc_buf b = KC_BUF_INIT(1 << 20);

	CHECK_INT(kc_read_file(path, 1 << 20, &b), 0);
	for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
		struct kc_audit_filter *f = kc_audit_filter_new();
		const char *p = b.data, *end = b.data + b.len;
		int rejected = 0;

		for (size_t i = 0; sets[k][i] != NULL; i++) {
			char name[32];
			const char *eq = strchr(sets[k][i], '=');

			snprintf(name, sizeof(name), "%.*s", (int)(eq - sets[k][i]), sets[k][i]);
			CHECK_INT(kc_audit_filter_add(f, name, eq + 1), 0);
		}
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			cJSON *ev = cJSON_ParseWithLength(p, (size_t)(nl - p));
			int m = kc_audit_filter_match(f, ev, NULL);
			int maybe = kc_audit_filter_maybe(f, p, (size_t)(nl - p));

			if (m && !maybe)
				kc_test_fail(__FILE__, __LINE__, "set %zu: fast path rejected a match: %.60s", k, p);
			rejected += !maybe;
			cJSON_Delete(ev);
			p = nl + 1;
		}
		if (rejected == 0)
			kc_test_fail(__FILE__, __LINE__, "set %zu: fast path rejected nothing", k);
		kc_audit_filter_free(f);
	}
	kc_buf_free(&b);
	free(path);
}

static cJSON *
line_by_id(const struct got *g, const char *id, const char **raw, size_t *rawlen)
{
	const char *p = g->out, *end = g->out + g->outlen;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		cJSON *ev = cJSON_ParseWithLength(p, (size_t)(nl - p));

		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "auditID")), id) == 0) {
			if (raw) {
				*raw = p;
				*rawlen = (size_t)(nl - p);
			}
			return ev;
		}
		cJSON_Delete(ev);
		p = nl + 1;
	}
	return NULL;
}

/* The original line of an auditID in the fixture. */
static int
orig_line(const char *id, char hex[65], struct kc_buf *keep)
{
	char *path = data("audit/events.log"), pat[64];
	const char *p, *e;

	kc_buf_reset(keep);
	kc_read_file(path, 1 << 20, keep);
	free(path);
	snprintf(pat, sizeof(pat), "\"auditID\":\"%s\"", id);
	if ((p = strstr(keep->data, pat)) == NULL)
		return -1;
	while (p > keep->data && p[-1] != '\n')
		p--;
	e = strchr(p, '\n');
	return kc_sha256_hex(p, (size_t)(e - p), hex);
}

DEFINE_TEST(test_audit_redaction)
{
	struct kc_audit_opts o = { 0 };
	char *path = data("audit/events.log");
	struct kc_buf orig = KC_BUF_INIT(1 << 20);
	static const char *const red[] = { "e05", "e06", "e13", "e15" };
	struct got g;

	scan(&g, path, &o, NULL);
	CHECK_INT(g.rc, 0);
	CHECK_INT(g.res.matched, 20);
	CHECK_INT(g.res.redacted, 4);
	CHECK(memmem(g.out, g.outlen, CANARY, strlen(CANARY)) == NULL);
	CHECK(memmem(g.out, g.outlen, CANARY_B64, strlen(CANARY_B64)) == NULL);
	for (size_t i = 0; i < 4; i++) {
		cJSON *ev = line_by_id(&g, red[i], NULL, NULL);
		char hex[65];
		const cJSON *m;

		CHECK(ev != NULL);
		CHECK_INT(orig_line(red[i], hex, &orig), 0);
		m = cJSON_GetObjectItem(ev, "requestObject");
		if (m == NULL)
			m = cJSON_GetObjectItem(ev, "responseObject");
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(m, KC_AUDIT_REDACT_KEY), "sha256")), hex);
		/* everything else kept */
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(ev, "verb")),
		    i == 0 || i == 2 ? "create" : i == 1 ? "patch" : "list");
		cJSON_Delete(ev);
	}
	/* lines without bodies to redact stay byte for byte */
	{
		const char *raw;
		size_t n;
		cJSON *ev = line_by_id(&g, "e18", &raw, &n);

		CHECK(ev != NULL);
		CHECK(strstr(orig.data, "\"auditID\":\"e18\"") != NULL);
		CHECK(memmem(orig.data, orig.len, raw, n) != NULL);
		cJSON_Delete(ev);
	}
	got_free(&g);
	/* --no-redact keeps them */
	o.no_redact = 1;
	scan(&g, path, &o, NULL);
	CHECK_INT(g.res.redacted, 0);
	CHECK(memmem(g.out, g.outlen, CANARY, strlen(CANARY)) != NULL);
	CHECK(g.outlen == (size_t)orig.len);
	CHECK(memcmp(g.out, orig.data, g.outlen) == 0);
	got_free(&g);
	kc_buf_free(&orig);
	free(path);
}

static const char *
jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
}

DEFINE_TEST(test_audit_extract_staging)
{
	struct kc_audit_filter *f = kc_audit_filter_new();
	struct kc_audit_opts o = { .gap_secs = 120 };
	struct kc_audit_result res;
	char *rot = data("audit/rot"), *mal = data("audit/malformed.log"), *ev = data("audit/events.log");
	const char *paths[] = { rot, mal, ev };
	struct kc_buf b = KC_BUF_INIT(4 << 20);
	cJSON *doc, *gaps;

	CHECK_INT(kc_audit_filter_add(f, "sa", "ai-agents/kagent"), 0);
	CHECK_INT(kc_audit_filter_add(f, "preset", "sensitive-reads"), 0);
	CHECK_INT(kc_audit_extract(paths, 3, f, &o, "stage", &res), 0);
	CHECK(cJSON_GetObjectItem(res.doc, "sources") != NULL);	/* the caller's */
	cJSON_Delete(res.doc);
	res.doc = NULL;
	CHECK_INT(res.malformed, 7);
	CHECK_INT(res.redacted, 1);	/* e15 */
	CHECK_INT(kc_read_file("stage/audit/segment.jsonl", 4 << 20, &b), 0);
	CHECK(memmem(b.data, b.len, CANARY_B64, strlen(CANARY_B64)) == NULL);
	CHECK_INT(res.matched, 11 + 3 + 8);	/* rot, m1-m3, e01 e02 e03 e11 e12 e15 e16 e18 */
	kc_buf_reset(&b);
	CHECK_INT(kc_read_file("stage/audit/malformed.jsonl", 1 << 20, &b), 0);
	CHECK(strstr(b.data, "this is not json") == NULL);	/* hashes, never bytes */
	CHECK(strstr(b.data, "\"sha256\":\"") != NULL);
	CHECK(strstr(b.data, "\"reason\":\"invalid UTF-8\"") != NULL);
	kc_buf_reset(&b);
	CHECK_INT(kc_read_file("stage/audit/sources.json", 1 << 20, &b), 0);
	doc = cJSON_Parse(b.data);
	CHECK(doc != NULL);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "sources")), 8);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "malformed")), 7);
	CHECK_STR(jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "malformed"), 1), "reason"), "invalid UTF-8");
	CHECK_STR(jstr(cJSON_GetObjectItem(doc, "redaction"), "mode"), "redact");
	CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "filters"), "preset") != NULL);
	CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "counts"),
	    "system:serviceaccount:ai-agents:kagent"), "secrets") != NULL);
	/* pieces 5 minutes apart with a 2 minute threshold: holes between pieces */
	gaps = cJSON_GetObjectItem(doc, "gaps");
	CHECK(cJSON_GetArraySize(gaps) >= 3);
	CHECK_STR(jstr(cJSON_GetArrayItem(gaps, 0), "kind"), "between-pieces");
	CHECK_STR(jstr(cJSON_GetArrayItem(gaps, 0), "last_event_source"), "audit-2026-03-02T08-05-00.000.log.gz");
	CHECK_STR(jstr(cJSON_GetArrayItem(gaps, 0), "next_event_source"), "audit-2026-03-02T08-10-00.000.log");
	cJSON_Delete(doc);
	CHECK(access("stage/audit/.segment.jsonl.tmp", F_OK) != 0);
	kc_buf_free(&b);
	kc_audit_filter_free(f);
	free(rot);
	free(mal);
	free(ev);
}

static void
gen_piece(const char *name, const char *from_min, int n, const char *prefix)
{
	FILE *fp = fopen(name, "w");

	for (int i = 0; i < n; i++)
		fprintf(fp, "{\"auditID\":\"%s%d\",\"verb\":\"get\",\"requestReceivedTimestamp\":"
		    "\"2026-03-02T%s:%02d.000000Z\"}\n", prefix, i, from_min, i);
	fclose(fp);
}

DEFINE_TEST(test_audit_gaps_overlaps)
{
	struct kc_audit_opts o = { .stats = 1 };
	struct got g;
	cJSON *gaps, *ov, *w;

	CHECK_INT(kc_mkdir_p("logs", 0700), 0);
	/* 08:00 piece, (08:10 piece missing), 08:20 piece, a copy of the
	 * 08:20 piece as a later backup (overlap), then a quiet 30 minutes
	 * inside the current file */
	gen_piece("logs/audit-2026-03-02T08-01-00.000.log", "08:00", 50, "a");
	gen_piece("logs/audit-2026-03-02T08-21-00.000.log", "08:20", 50, "c");
	gen_piece("logs/audit-2026-03-02T08-22-00.000.log", "08:20", 50, "d");
	{
		FILE *fp = fopen("logs/audit.log", "w");

		fputs("{\"auditID\":\"e1\",\"requestReceivedTimestamp\":\"2026-03-02T08:23:00.000000Z\"}\n"
		    "{\"auditID\":\"e2\",\"requestReceivedTimestamp\":\"2026-03-02T08:53:00.000000Z\"}\n"
		    "{\"auditID\":\"e3\",\"requestReceivedTimestamp\":\"2026-03-02T08:52:00.000000Z\"}\n", fp);
		fclose(fp);
	}
	scan(&g, "logs", &o, (const char *const[]){ "since=2026-03-02T07:00:00Z", "until=2026-03-02T10:00:00Z", NULL });
	CHECK_INT(g.rc, 0);
	gaps = cJSON_GetObjectItem(g.res.doc, "gaps");
	CHECK_INT(cJSON_GetArraySize(gaps), 3);
	CHECK_STR(jstr(cJSON_GetArrayItem(gaps, 0), "kind"), "between-pieces");
	CHECK_STR(jstr(cJSON_GetArrayItem(gaps, 0), "from"), "2026-03-02T08:00:49.000000Z");
	CHECK_STR(jstr(cJSON_GetArrayItem(gaps, 0), "to"), "2026-03-02T08:20:00.000000Z");
	CHECK_STR(jstr(cJSON_GetArrayItem(gaps, 1), "kind"), "no-events");
	CHECK_STR(jstr(cJSON_GetArrayItem(gaps, 1), "from"), "2026-03-02T08:23:00.000000Z");
	CHECK_STR(jstr(cJSON_GetArrayItem(gaps, 2), "kind"), "before-first-event");
	ov = cJSON_GetObjectItem(g.res.doc, "overlaps");
	CHECK_INT(cJSON_GetArraySize(ov), 0);	/* within the 10m threshold */
	w = cJSON_GetObjectItem(g.res.doc, "window");
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(w, "start_covered")));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(w, "end_covered")));
	CHECK_STR(jstr(cJSON_GetObjectItem(w, "covered"), "from"), "2026-03-02T08:00:00.000000Z");
	CHECK_STR(jstr(cJSON_GetObjectItem(w, "covered"), "to"), "2026-03-02T08:53:00.000000Z");
	got_free(&g);
	/* a smaller threshold: the copied piece now shows as an overlap */
	o.gap_secs = 30;
	scan(&g, "logs", &o, NULL);
	ov = cJSON_GetObjectItem(g.res.doc, "overlaps");
	CHECK_INT(cJSON_GetArraySize(ov), 1);
	CHECK_STR(jstr(cJSON_GetArrayItem(ov, 0), "source"), "audit-2026-03-02T08-22-00.000.log");
	got_free(&g);
}

/* Years outside int64_t nanoseconds (about 1678-2262) are refused, not
 * wrapped (issue 10 item 6.1). */
DEFINE_TEST(test_audit_parse_ts_range)
{
	int64_t ns;

	CHECK_INT(kc_audit_parse_ts("0001-01-01T00:00:00Z", 20, &ns), KC_ERR_LIMIT);
	CHECK_INT(kc_audit_parse_ts("9999-12-31T23:59:59.999999999Z", 30, &ns), KC_ERR_LIMIT);
	CHECK_INT(kc_audit_parse_ts("1677-09-21T00:12:44Z", 20, &ns), KC_ERR_LIMIT);
	CHECK_INT(kc_audit_parse_ts("2262-04-11T23:47:16Z", 20, &ns), KC_ERR_LIMIT);
	/* an offset can carry a time just inside across the edge */
	CHECK_INT(kc_audit_parse_ts("2262-04-11T23:47:15-01:00", 25, &ns), KC_ERR_LIMIT);
	/* the edges themselves, and ordinary times, are fine */
	CHECK_INT(kc_audit_parse_ts("1677-09-21T00:12:45Z", 20, &ns), 0);
	CHECK(ns == -9223372035LL * 1000000000);
	CHECK_INT(kc_audit_parse_ts("2262-04-11T23:47:15.999999999Z", 30, &ns), 0);
	CHECK(ns == 9223372035LL * 1000000000 + 999999999);
	CHECK_INT(kc_audit_parse_ts("1970-01-01T00:00:00Z", 20, &ns), 0);
	CHECK(ns == 0);
}

DEFINE_TEST(test_audit_out_of_range_lines)
{
	struct kc_audit_opts o = { .stats = 1 };
	struct got g;
	cJSON *w;
	char s[256];
	FILE *fp;

	CHECK((fp = fopen("audit.log", "w")) != NULL);
	fputs("{\"auditID\":\"a1\",\"requestReceivedTimestamp\":\"2026-03-02T08:00:00.000000Z\"}\n"
	    "{\"auditID\":\"y1\",\"requestReceivedTimestamp\":\"0001-01-01T00:00:00.000000Z\"}\n"
	    "{\"auditID\":\"y9\",\"requestReceivedTimestamp\":\"9999-12-31T23:59:59.999999Z\"}\n"
	    "{\"auditID\":\"s9\",\"requestReceivedTimestamp\":\"2026-03-02T08:01:00.000000Z\","
	    "\"stageTimestamp\":\"9999-01-01T00:00:00Z\"}\n"
	    "{\"auditID\":\"a2\",\"requestReceivedTimestamp\":\"2026-03-02T08:02:00.000000Z\"}\n", fp);
	fclose(fp);
	scan(&g, "audit.log", &o, (const char *const[]){ "since=2026-03-02T07:55:00Z", NULL });
	CHECK_INT(g.rc, 0);
	ids(&g, s, sizeof(s));
	CHECK_STR(s, "a1 a2");
	CHECK_INT(g.nbad, 3);
	CHECK_INT(g.res.malformed, 3);
	if (g.nbad == 3) {
		CHECK_STR(g.bad[0].reason, "timestamp out of range");
		CHECK_STR(g.bad[0].detail, "requestReceivedTimestamp year 0001 is outside 1678-2262");
		CHECK_STR(g.bad[1].detail, "requestReceivedTimestamp year 9999 is outside 1678-2262");
		CHECK_STR(g.bad[2].detail, "stageTimestamp year 9999 is outside 1678-2262");
		CHECK_INT(strlen(g.bad[0].sha), 64);
	}
	/* the window and gaps see only the good lines: no wrapped times */
	w = cJSON_GetObjectItem(g.res.doc, "window");
	CHECK_STR(jstr(cJSON_GetObjectItem(w, "covered"), "from"), "2026-03-02T08:00:00.000000Z");
	CHECK_STR(jstr(cJSON_GetObjectItem(w, "covered"), "to"), "2026-03-02T08:02:00.000000Z");
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(g.res.doc, "gaps")), 0);
	got_free(&g);
}

/* The twin: times near both edges of the range are accounted, and the
 * gap between them (longer than int64_t nanoseconds hold) does not wrap. */
DEFINE_TEST(test_audit_edge_years_accounted)
{
	struct kc_audit_opts o = { .stats = 1 };
	struct got g;
	cJSON *gaps;
	FILE *fp;

	CHECK((fp = fopen("audit.log", "w")) != NULL);
	fputs("{\"auditID\":\"old\",\"requestReceivedTimestamp\":\"1678-01-01T00:00:00Z\"}\n"
	    "{\"auditID\":\"new\",\"requestReceivedTimestamp\":\"2262-01-01T00:00:00Z\"}\n", fp);
	fclose(fp);
	scan(&g, "audit.log", &o, NULL);
	CHECK_INT(g.rc, 0);
	CHECK_INT(g.nbad, 0);
	gaps = cJSON_GetObjectItem(g.res.doc, "gaps");
	CHECK_INT(cJSON_GetArraySize(gaps), 1);
	CHECK_STR(jstr(cJSON_GetArrayItem(gaps, 0), "from"), "1678-01-01T00:00:00.000000Z");
	CHECK_STR(jstr(cJSON_GetArrayItem(gaps, 0), "to"), "2262-01-01T00:00:00.000000Z");
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(gaps, 0), "seconds")) > 1e10);
	got_free(&g);
}

/* ---- managed clusters' exports ---- */

/* The records the reader yields for text (documents allowed), as
 * "rec|rec|..." with malformed ones as "!reason". */
static void
split_records(const char *text, size_t line_max, char *out, size_t n)
{
	struct kc_audit_reader *r = NULL;
	struct kc_audit_line l;
	FILE *fp = fopen("doc.json", "w");

	fputs(text, fp);
	fclose(fp);
	out[0] = '\0';
	CHECK_INT(kc_audit_reader_open(&r, "doc.json", line_max, 0), 0);
	if (r == NULL)
		return;
	kc_audit_reader_allow_docs(r, 1);
	while (kc_audit_reader_next(r, &l) == 1) {
		size_t k = strlen(out);

		if (l.reason != NULL)
			snprintf(out + k, n - k, "%s!%s", k ? "|" : "", l.reason);
		else
			snprintf(out + k, n - k, "%s%.*s", k ? "|" : "", (int)l.len, l.data);
	}
	kc_audit_reader_close(r);
}

DEFINE_TEST(test_audit_doc_splitter)
{
	char got[4096], big[2048];

	/* a top-level array: strings with brackets and escaped quotes, nesting,
	 * scalars */
	split_records("[\n {\"k\":\"a}\\\"][\"},\n {\"k\":[1,{\"x\":\"]\"}]},\n \"str\", 42 ,\n [1,2]\n]\n", 0, got, sizeof(got));
	CHECK_STR(got, "{\"k\":\"a}\\\"][\"}|{\"k\":[1,{\"x\":\"]\"}]}|\"str\"|42|[1,2]");
	/* CloudWatch: other members skipped, events split, documents concatenated */
	split_records("{\"nextToken\":\"t\",\"searchedLogStreams\":[{\"a\":1}],\"events\":[{\"m\":1},{\"m\":2}]}\n"
	    "{\"events\":[{\"m\":3}]}\n", 0, got, sizeof(got));
	CHECK_STR(got, "{\"m\":1}|{\"m\":2}|{\"m\":3}");
	split_records("{\"entries\":[{\"e\":1}],\"nextPageToken\":\"x\"}\n", 0, got, sizeof(got));
	CHECK_STR(got, "{\"e\":1}");
	/* Azure pretty-printed, and plain objects spread over lines */
	split_records("{\n  \"records\": [\n    {\"c\": \"kube-audit\"}\n  ]\n}\n", 0, got, sizeof(got));
	CHECK_STR(got, "{\"c\": \"kube-audit\"}");
	split_records("{\n \"a\": 1\n}\n{\n \"b\": [2]\n}\n", 0, got, sizeof(got));
	CHECK_STR(got, "{\n \"a\": 1\n}|{\n \"b\": [2]\n}");
	/* JSON lines stay lines */
	split_records("{\"a\":1}\n{\"b\":2}\n", 0, got, sizeof(got));
	CHECK_STR(got, "{\"a\":1}|{\"b\":2}");
	/* cut short; junk after a document */
	split_records("[{\"a\":1}, {\"b\":", 0, got, sizeof(got));
	CHECK_STR(got, "{\"a\":1}|!truncated record (the input ends inside it)");
	split_records("[{\"a\":1}]\n{\"events\":[{\"c\":", 0, got, sizeof(got));
	CHECK_STR(got, "{\"a\":1}|!truncated record (the input ends inside it)");
	split_records("[{\"a\":1}] trailing junk\n[{\"b\":2}]", 0, got, sizeof(got));
	CHECK_STR(got, "{\"a\":1}|!not JSON|{\"b\":2}");
	split_records("[{\"a\":1}", 0, got, sizeof(got));
	CHECK_STR(got, "{\"a\":1}|!truncated document");
	/* a record over the cap is skipped and hashed, the next one read */
	memset(big, 'x', sizeof(big));
	snprintf(got, sizeof(got), "[{\"big\":\"%.1000s\"},{\"n\":1}]", big);
	split_records(got, 256, got, sizeof(got));
	CHECK_STR(got, "!record too long|{\"n\":1}");
}

static void
gke_file(const char *path, const char *method, const char *rn, int code)
{
	FILE *fp = fopen(path, "a");

	fprintf(fp, "{\"insertId\":\"id-%s\",\"logName\":\"projects/p/logs/cloudaudit.googleapis.com%%2Fdata_access\","
	    "\"protoPayload\":{\"@type\":\"type.googleapis.com/google.cloud.audit.AuditLog\","
	    "\"authenticationInfo\":{\"principalEmail\":\"system:serviceaccount:ai:kagent\"},"
	    "\"methodName\":\"%s\",\"resourceName\":\"%s\",\"status\":{\"code\":%d}},"
	    "\"resource\":{\"type\":\"k8s_cluster\",\"labels\":{\"cluster_name\":\"c\"}},"
	    "\"timestamp\":\"2026-03-02T08:00:00.5Z\",\"receiveTimestamp\":\"2026-03-02T08:00:01.123456789Z\"}\n",
	    method, method, rn, code);
	fclose(fp);
}

DEFINE_TEST(test_audit_gke_mapping)
{
	struct kc_audit_opts o = { .no_redact = 1, .stats = 1 };
	struct got g;
	char *line, *save = NULL;
	static const char *const want[] = {
		/* verb apiGroup apiVersion resource subresource namespace name code */
		"get||v1|secrets||ns1|s1|403",
		"create|rbac.authorization.k8s.io|v1|clusterrolebindings|||crb|200",
		"patch|apps|v1|deployments||ns1|d1|404",
		"create||v1|pods|exec|ns1|p1|401",
		"get|cert-manager.io|v1|certificates||ns1|c1|200",
		"get||v1|namespaces||ns1|ns1|409",
		"list|networking.k8s.io|v1|networkpolicies||ns1||200",
	};
	size_t k = 0;

	gke_file("g.json", "io.k8s.core.v1.secrets.get", "core/v1/namespaces/ns1/secrets/s1", 7);
	gke_file("g.json", "io.k8s.authorization.rbac.v1.clusterrolebindings.create",
	    "rbac.authorization.k8s.io/v1/clusterrolebindings/crb", 0);
	gke_file("g.json", "io.k8s.apps.v1.deployments.patch", "apps/v1/namespaces/ns1/deployments/d1", 5);
	gke_file("g.json", "io.k8s.core.v1.pods.exec.create", "core/v1/namespaces/ns1/pods/p1/exec", 16);
	gke_file("g.json", "io.cert-manager.v1.certificates.get", "cert-manager.io/v1/namespaces/ns1/certificates/c1", 0);
	gke_file("g.json", "io.k8s.core.v1.namespaces.get", "core/v1/namespaces/ns1", 6);
	gke_file("g.json", "io.k8s.networking.v1.networkpolicies.list", "networking.k8s.io/v1/namespaces/ns1/networkpolicies", 0);
	gke_file("g.json", "io.k8s.core.v1.pods.frobnicate", "core/v1/namespaces/ns1/pods/p1", 0);
	gke_file("g.json", "io.k8s.core.v1.pods.get", "core/v1/namespaces/ns1/secrets/s1", 0);
	gke_file("g.json", "k8s.get", "core/v1/pods", 0);
	scan(&g, "g.json", &o, NULL);
	CHECK_INT(g.rc, 0);
	CHECK_INT(g.res.matched, 7);
	CHECK_INT(g.nbad, 3);
	for (size_t i = 0; i < g.nbad && i < 3; i++)
		CHECK_STR(g.bad[i].reason, "GKE method name does not map");
	for (line = strtok_r(g.out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save), k++) {
		cJSON *ev = cJSON_Parse(line);
		const cJSON *ref = cJSON_GetObjectItem(ev, "objectRef");
		char s[512];

#define S(o, k) (cJSON_GetStringValue(cJSON_GetObjectItem(o, k)) ? cJSON_GetStringValue(cJSON_GetObjectItem(o, k)) : "")
		snprintf(s, sizeof(s), "%s|%s|%s|%s|%s|%s|%s|%d", S(ev, "verb"), S(ref, "apiGroup"), S(ref, "apiVersion"),
		    S(ref, "resource"), S(ref, "subresource"), S(ref, "namespace"), S(ref, "name"),
		    (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "responseStatus"), "code")));
		if (k < 7)
			CHECK_STR(s, want[k]);
		CHECK_STR(S(ev, "requestReceivedTimestamp"), "2026-03-02T08:00:00.500000Z");
		CHECK_STR(S(ev, "stageTimestamp"), "2026-03-02T08:00:01.123456Z");
		CHECK_STR(S(cJSON_GetObjectItem(ev, "user"), "username"), "system:serviceaccount:ai:kagent");
		CHECK_STR(S(ev, "stage"), "ResponseComplete");
#undef S
		cJSON_Delete(ev);
	}
	CHECK_INT(k, 7);
	got_free(&g);
}

DEFINE_TEST(test_audit_reads_visibility)
{
	struct kc_audit_opts o = { .stats = 1 };
	const char *sr[] = { "preset=sensitive-reads", NULL }, *dn[] = { "preset=denied", NULL };
	const char *wr[] = { "verb=create", NULL };
	struct got g;
	FILE *fp = fopen("adm.jsonl", "w");

	/* AKS kube-audit-admin: writes only */
	fprintf(fp, "{\"category\":\"kube-audit-admin\",\"resourceId\":\"/x/managedClusters/C1\",\"properties\":{\"log\":"
	    "\"{\\\"kind\\\":\\\"Event\\\",\\\"apiVersion\\\":\\\"audit.k8s.io/v1\\\",\\\"auditID\\\":\\\"a1\\\","
	    "\\\"verb\\\":\\\"create\\\",\\\"requestReceivedTimestamp\\\":\\\"2026-03-02T08:00:00.000000Z\\\"}\"}}\n");
	fclose(fp);
	scan(&g, "adm.jsonl", &o, sr);
	CHECK_INT(g.res.reads_visible, 0);
	CHECK_INT(g.res.determinable, 0);
	got_free(&g);
	scan(&g, "adm.jsonl", &o, dn);
	CHECK_INT(g.res.determinable, 2);
	got_free(&g);
	scan(&g, "adm.jsonl", &o, wr);
	CHECK_INT(g.res.determinable, 1);
	CHECK_INT(g.res.matched, 1);
	got_free(&g);
}
