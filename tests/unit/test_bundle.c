/* test_bundle.c - bundle format v1: SHA256SUMS, deterministic seal,
 * verify, tamper and hostile archives (no cluster needed). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "harness.h"
#include "manifest/bundle.h"
#include "manifest/tarball.h"
#include "manifest/digest.h"
#include "manifest/manifest.h"
#include "manifest/sign.h"
#include "rbac/source.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/sha256.h"

static void
put(const char *path, const char *text)
{
	char *dir = kc_dirname(path);

	CHECK_INT(kc_mkdir_p(dir, 0755), 0);
	free(dir);
	CHECK_INT(kc_write_file_atomic(path, text, strlen(text), 0644), 0);
}

static void
make_staging(const char *dir)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/raw/clusterroles/page-0001.json", dir);
	put(p, "{\"kind\":\"ClusterRoleList\",\"items\":[{\"metadata\":{\"name\":\"admin\"}}]}\n");
	snprintf(p, sizeof(p), "%s/raw/clusterroles/page-0002.json", dir);
	put(p, "{\"kind\":\"ClusterRoleList\",\"items\":[]}\n");
	snprintf(p, sizeof(p), "%s/raw/rolebindings/page-0001.json", dir);
	put(p, "{\"kind\":\"RoleBindingList\",\"items\":[]}\n");
	snprintf(p, sizeof(p), "%s/raw/clusterroles/status.json", dir);
	put(p, "{\"status\":\"complete\"}\n");
	snprintf(p, sizeof(p), "%s/findings.csv", dir);
	put(p, "id,severity\nKC001,high\n");
}

static cJSON *
draft(void)
{
	return cJSON_Parse("{\"bundle\":{\"id\":\"2f1c\"},\"case\":{\"id\":\"IR-1\",\"phase\":\"pre\"},"
	    "\"files\":[{\"path\":\"raw/clusterroles/status.json\",\"derived\":true,"
	    "\"sources\":[\"raw/clusterroles/page-0001.json\"]}]}");
}

static int
seal(const char *staging, const char *key, const char *out)
{
	struct kc_seal_opts o = { 0 };
	cJSON *m = draft();
	int r;

	o.key_path = key;
	o.no_sign = key == NULL;
	o.mtime = 1795000000;
	r = kc_bundle_seal(staging, m, &o, out);
	cJSON_Delete(m);
	return r;
}

static int
verify(const char *bundle, const char *pub, struct kc_verify_result *res)
{
	struct kc_verify_opts o = { 0 };

	o.pubkey_path = pub;
	o.allow_unsigned = pub == NULL;
	return kc_bundle_verify(bundle, &o, res);
}

static struct kc_buf
slurp(const char *path)
{
	struct kc_buf b = KC_BUF_INIT(1u << 30);

	CHECK_INT(kc_read_file(path, b.max, &b), 0);
	return b;
}

static int
first_failed(const struct kc_verify_result *res)
{
	for (int i = 0; i < KC_CHECK_COUNT; i++)
		if (res->checks[i].state == KC_CHECK_FAILED)
			return i;
	return -1;
}

DEFINE_TEST(test_bundle_relpath)
{
	CHECK(kc_relpath_ok("raw/pods/page-0001.json"));
	CHECK(kc_relpath_ok("a"));
	CHECK(!kc_relpath_ok(""));
	CHECK(!kc_relpath_ok("/etc/passwd"));
	CHECK(!kc_relpath_ok("a/../b"));
	CHECK(!kc_relpath_ok(".."));
	CHECK(!kc_relpath_ok("a//b"));
	CHECK(!kc_relpath_ok("a/./b"));
	CHECK(!kc_relpath_ok("a/"));
	CHECK(!kc_relpath_ok("a\nb"));
	CHECK(!kc_relpath_ok("a\\b"));
	CHECK(!kc_relpath_ok("caf\xc3\xa9/x"));
	CHECK(kc_relpath_ok("a b/c~d(e)=f.json"));
}

DEFINE_TEST(test_bundle_sums_roundtrip)
{
	struct kc_digest_list l = { 0 }, back = { 0 };
	struct kc_buf b = KC_BUF_INIT(4096);
	const char *h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

	CHECK_INT(kc_digest_add(&l, "b) = x", 0, h), 0);
	CHECK_INT(kc_digest_add(&l, "MANIFEST.json", 0, h), 0);
	kc_digest_sort(&l);
	CHECK_INT(kc_sums_render(&l, &b), 0);
	CHECK_INT(kc_sums_parse(b.data, b.len, &back), 0);
	CHECK_INT(back.n, 2);
	CHECK_STR(back.v[1].path, "b) = x");
	CHECK_STR(back.v[0].hex, h);
	kc_digest_list_free(&back);
	/* unsorted, duplicate, upper-case hex, traversal, no newline */
	CHECK_INT(kc_sums_parse("SHA256 (b) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
	    "SHA256 (a) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n", 164, &back), KC_ERR_PARSE);
	kc_digest_list_free(&back);
	CHECK_INT(kc_sums_parse("SHA256 (a) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
	    "SHA256 (a) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n", 164, &back), KC_ERR_PARSE);
	kc_digest_list_free(&back);
	CHECK_INT(kc_sums_parse("SHA256 (a) = E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\n", 82, &back), KC_ERR_PARSE);
	CHECK_INT(kc_sums_parse("SHA256 (../a) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n", 85, &back), KC_ERR_PARSE);
	CHECK_INT(kc_sums_parse("SHA256 (a) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 81, &back), KC_ERR_PARSE);
	kc_digest_list_free(&back);
	kc_digest_list_free(&l);
	kc_buf_free(&b);
}

DEFINE_TEST(test_bundle_name)
{
	char n[128];

	CHECK_INT(kc_bundle_name("IR-2026/11", "pre", "..kind cluster", 1795000000, n, sizeof(n)), 0);
	CHECK_STR(n, "IR-2026-11_pre_-.kind-cluster_20261118T110640Z");
	CHECK_INT(kc_bundle_name("x", "pre", "c", 0, n, 10), KC_ERR_LIMIT);
}

DEFINE_TEST(test_sign_keygen_raw)
{
	struct kc_signer *s = NULL;
	struct kc_buf sig = KC_BUF_INIT(4096);
	char fpr[KC_FPR_LEN], fpr2[KC_FPR_LEN], fpr3[KC_FPR_LEN];
	struct stat st;

	CHECK_INT(kc_keygen("k.pem", "k.pub.pem", fpr), 0);
	CHECK(strncmp(fpr, "SHA256:", 7) == 0 && strlen(fpr) == 71);
	CHECK_INT(stat("k.pem", &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(kc_keygen("k.pem", "other.pem", fpr2), KC_ERR_INVALID);	/* never overwrites */
	CHECK_INT(symlink("nowhere", "link.pem"), 0);
	CHECK(kc_keygen("link.pem", NULL, fpr2) != 0);				/* O_NOFOLLOW|O_EXCL */
	CHECK_INT(kc_fingerprint_file("k.pub.pem", fpr2), 0);
	CHECK_STR(fpr2, fpr);
	CHECK_INT(kc_fingerprint_file("k.pem", fpr3), 0);
	CHECK_STR(fpr3, fpr);
	CHECK_INT(kc_signer_load("k.pem", NULL, NULL, &s), 0);
	CHECK_STR(kc_signer_fingerprint(s), fpr);
	CHECK_INT(kc_sign(s, "hello", 5, &sig), 0);
	CHECK_INT(sig.len, 64);
	CHECK_INT(kc_verify_raw("k.pub.pem", "hello", 5, sig.data, sig.len, fpr2), 0);
	CHECK_INT(kc_verify_raw("k.pub.pem", "hellO", 5, sig.data, sig.len, NULL), KC_ERR_VERIFY);
	CHECK_INT(kc_keygen("o.pem", "o.pub.pem", fpr2), 0);
	CHECK_INT(kc_verify_raw("o.pub.pem", "hello", 5, sig.data, sig.len, NULL), KC_ERR_VERIFY);
	kc_signer_free(s);
	kc_buf_free(&sig);
}

DEFINE_TEST(test_bundle_seal_deterministic)
{
	struct kc_buf a, b;
	struct kc_verify_result res;
	char fpr[KC_FPR_LEN];
	struct stat st;

	make_staging("st");
	CHECK_INT(kc_keygen("k.pem", "k.pub.pem", fpr), 0);
	CHECK_INT(kc_mkdir_p("one", 0755), 0);
	CHECK_INT(kc_mkdir_p("two", 0755), 0);
	CHECK_INT(seal("st", "k.pem", "one/IR-1_pre_kind_20261121T093320Z.tar.gz"), 0);
	/* the same folder again: stale MANIFEST.json etc. are regenerated */
	CHECK_INT(seal("st", "k.pem", "two/IR-1_pre_kind_20261121T093320Z.tar.gz"), 0);
	CHECK_INT(seal("st", "k.pem", "two/IR-1_pre_kind_20261121T093320Z.tar.gz"), KC_ERR_INVALID);
	a = slurp("one/IR-1_pre_kind_20261121T093320Z.tar.gz");
	b = slurp("two/IR-1_pre_kind_20261121T093320Z.tar.gz");
	CHECK(a.len > 100 && a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	/* gzip: no name flag, MTIME 0, OS Unix */
	CHECK(a.len > 10 && a.data[3] == 0 && a.data[4] == 0 && a.data[5] == 0 && a.data[6] == 0 &&
	    a.data[7] == 0 && a.data[9] == 3);
	CHECK_INT(stat("one/IR-1_pre_kind_20261121T093320Z.tar.gz", &st), 0);
	CHECK_INT(st.st_mode & 077, 0);
	CHECK_INT(verify("one/IR-1_pre_kind_20261121T093320Z.tar.gz", "k.pub.pem", &res), 0);
	CHECK(res.valid);
	CHECK_INT(res.checks[KC_CHECK_SIGNATURE].state, KC_CHECK_OK);
	CHECK_INT(res.checks[KC_CHECK_TIMESTAMP].state, KC_CHECK_SKIPPED);
	CHECK_STR(res.top, "IR-1_pre_kind_20261121T093320Z");
	CHECK_INT(res.members, 9);	/* 5 evidence + VERIFY, MANIFEST, SUMS, sig */
	kc_buf_free(&a);
	kc_buf_free(&b);
}

DEFINE_TEST(test_bundle_manifest_files)
{
	struct kc_buf m;
	cJSON *j, *files, *e;
	char fpr[KC_FPR_LEN];

	make_staging("st");
	CHECK_INT(kc_keygen("k.pem", "k.pub.pem", fpr), 0);
	CHECK_INT(seal("st", "k.pem", "b.tar.gz"), 0);
	CHECK_INT(kc_bundle_get_member("b.tar.gz", "MANIFEST.json", 1 << 20, &m), 0);
	j = cJSON_ParseWithLength(m.data, m.len);
	CHECK(j != NULL);
	CHECK_STR(j->child->string, "schema");
	CHECK_STR(cJSON_GetObjectItem(j, "schema")->valuestring, KC_BUNDLE_SCHEMA);
	files = cJSON_GetObjectItem(j, "files");
	CHECK_INT(cJSON_GetArraySize(files), 6);	/* 5 evidence + VERIFY.txt */
	e = cJSON_GetArrayItem(files, 4);
	CHECK_STR(cJSON_GetObjectItem(e, "path")->valuestring, "raw/clusterroles/status.json");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(e, "derived")));
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(e, "sources")), 1);
	CHECK_STR(cJSON_GetObjectItem(e, "media_type")->valuestring, "application/json");
	CHECK_INT(cJSON_GetObjectItem(e, "size")->valuedouble, 22);
	cJSON_Delete(j);
	kc_buf_free(&m);
	/* a draft naming a file that does not exist is refused */
	{
		struct kc_seal_opts o = { 0 };
		cJSON *d = cJSON_Parse("{\"files\":[{\"path\":\"raw/nope.json\"}]}");

		o.no_sign = 1;
		CHECK_INT(kc_bundle_seal("st", d, &o, "c.tar.gz"), KC_ERR_INVALID);
		cJSON_Delete(d);
		CHECK(access("c.tar.gz", F_OK) != 0);
	}
}

DEFINE_TEST(test_bundle_unsigned_and_wrong_key)
{
	struct kc_verify_result res;
	struct kc_verify_opts o = { 0 };
	char fpr[KC_FPR_LEN];

	make_staging("st");
	CHECK_INT(kc_keygen("k.pem", "k.pub.pem", fpr), 0);
	CHECK_INT(kc_keygen("x.pem", "x.pub.pem", fpr), 0);
	CHECK_INT(seal("st", NULL, "u.tar.gz"), 0);
	CHECK_INT(kc_bundle_verify("u.tar.gz", &o, &res), KC_ERR_VERIFY);
	CHECK_INT(first_failed(&res), KC_CHECK_SIGNATURE);
	CHECK(strstr(res.checks[KC_CHECK_SIGNATURE].detail, "unsigned") != NULL);
	o.allow_unsigned = 1;
	CHECK_INT(kc_bundle_verify("u.tar.gz", &o, &res), 0);
	CHECK_INT(res.checks[KC_CHECK_SIGNATURE].state, KC_CHECK_SKIPPED);
	CHECK_INT(seal("st", "k.pem", "s.tar.gz"), 0);
	o.allow_unsigned = 0;
	CHECK_INT(kc_bundle_verify("s.tar.gz", &o, &res), KC_ERR_VERIFY);	/* no key given */
	CHECK(strstr(res.checks[KC_CHECK_SIGNATURE].detail, "no trusted key") != NULL);
	CHECK_INT(verify("s.tar.gz", "x.pub.pem", &res), KC_ERR_VERIFY);
	CHECK_INT(first_failed(&res), KC_CHECK_SIGNATURE);
	CHECK_INT(verify("s.tar.gz", "k.pub.pem", &res), 0);
}

/* Bundles verified on threads (diff and report --diff verify PRE and POST
 * at once): each job's result, check states, digest and error message are
 * what kc_bundle_verify gives for it alone, the valid and the tampered,
 * the wrong key and the missing file side by side (the negative twins). */
DEFINE_TEST(test_bundle_verify_jobs)
{
	struct kc_verify_opts ok = { 0 }, wrong = { 0 };
	struct kc_verify_result alone[4], res[4];
	struct kc_verify_job j[4];
	const char *path[4] = { "s.tar.gz", "t.tar.gz", "s.tar.gz", "missing.tar.gz" };
	const struct kc_verify_opts *opt[4] = { &ok, &ok, &wrong, &ok };
	char fpr[KC_FPR_LEN], msg[4][1024];
	int want[4];
	struct kc_buf b;

	make_staging("st");
	CHECK_INT(kc_keygen("k.pem", "k.pub.pem", fpr), 0);
	CHECK_INT(kc_keygen("x.pem", "x.pub.pem", fpr), 0);
	CHECK_INT(seal("st", "k.pem", "s.tar.gz"), 0);
	b = slurp("s.tar.gz");
	b.data[b.len / 2] ^= 0x01;	/* inside the deflate stream */
	CHECK_INT(kc_write_file_atomic("t.tar.gz", b.data, b.len, 0644), 0);
	kc_buf_free(&b);
	ok.pubkey_path = "k.pub.pem";
	wrong.pubkey_path = "x.pub.pem";
	for (int i = 0; i < 4; i++) {
		kc_err_clear();
		want[i] = kc_bundle_verify(path[i], opt[i], &alone[i]);
		snprintf(msg[i], sizeof(msg[i]), "%s", want[i] != 0 ? kc_err_msg() : "");
		j[i] = (struct kc_verify_job){ .path = path[i], .o = opt[i], .res = &res[i] };
	}
	CHECK_INT(want[0], 0);
	CHECK_INT(want[1], KC_ERR_VERIFY);
	CHECK_INT(want[2], KC_ERR_VERIFY);
	CHECK(want[3] != 0 && want[3] != KC_ERR_VERIFY);
	CHECK_INT(first_failed(&alone[2]), KC_CHECK_SIGNATURE);
	kc_bundle_verify_jobs(j, 4);
	for (int i = 0; i < 4; i++) {
		CHECK_INT(j[i].r, want[i]);
		CHECK_INT(res[i].valid, alone[i].valid);
		CHECK_INT(first_failed(&res[i]), first_failed(&alone[i]));
		CHECK_STR(res[i].sha256, alone[i].sha256);
		for (int c = 0; c < KC_CHECK_COUNT; c++) {
			CHECK_INT(res[i].checks[c].state, alone[i].checks[c].state);
			CHECK_STR(res[i].checks[c].detail, alone[i].checks[c].detail);
		}
		kc_err_clear();
		CHECK_INT(kc_verify_job_err(&j[i]), want[i]);
		if (want[i] != 0) {
			CHECK_STR(kc_err_msg(), msg[i]);
			CHECK_INT(kc_err_code(), want[i]);
		}
	}
}

/* The reader checks, hashes and inflates the same bytes: a file that grows
 * after it was opened (a writer appending to the bundle while verify reads
 * it) is refused at the end of the gzip member, not passed on the size
 * fstat saw; the untouched bundle reads to its end (the twin). */
DEFINE_TEST(test_bundle_reader_file_grew)
{
	struct kc_tar_reader *r;
	struct kc_tar_entry e;
	FILE *f;
	int rc;

	make_staging("st");
	CHECK_INT(seal("st", NULL, "g.tar.gz"), 0);
	CHECK_INT(kc_tar_open("g.tar.gz", NULL, &r), 0);
	while ((rc = kc_tar_next(r, &e)) == 1)
		;
	CHECK_INT(rc, 0);
	CHECK_INT(kc_tar_finish(r), 0);
	kc_tar_close(r);

	CHECK_INT(kc_tar_open("g.tar.gz", NULL, &r), 0);
	CHECK((f = fopen("g.tar.gz", "ab")) != NULL);
	fputs("appended after open", f);
	fclose(f);
	while ((rc = kc_tar_next(r, &e)) == 1)
		;
	if (rc == 0)
		rc = kc_tar_finish(r);
	CHECK_INT(rc, KC_ERR_VERIFY);
	CHECK(strstr(kc_err_msg(), "grew while it was read") != NULL);
	kc_tar_close(r);

	/* appended between the end check and the digest: no digest of bytes
	 * that were never inflated (the twin, untouched, hashes) */
	CHECK_INT(seal("st", NULL, "h.tar.gz"), 0);
	CHECK_INT(kc_tar_open("h.tar.gz", NULL, &r), 0);
	while ((rc = kc_tar_next(r, &e)) == 1)
		;
	CHECK_INT(rc, 0);
	CHECK_INT(kc_tar_finish(r), 0);
	{
		char hex[KC_SHA256_HEX];

		CHECK((f = fopen("h.tar.gz", "ab")) != NULL);
		fputs("appended after the end check", f);
		fclose(f);
		CHECK_INT(kc_tar_sha256(r, hex), KC_ERR_VERIFY);
		CHECK(strstr(kc_err_msg(), "grew while it was read") != NULL);
		kc_tar_close(r);
		CHECK_INT(seal("st", NULL, "i.tar.gz"), 0);
		CHECK_INT(kc_tar_open("i.tar.gz", NULL, &r), 0);
		while ((rc = kc_tar_next(r, &e)) == 1)
			;
		CHECK_INT(kc_tar_finish(r), 0);
		CHECK_INT(kc_tar_sha256(r, hex), 0);
		kc_tar_close(r);
	}
}

/* A fixed key, so that the flip test runs on the same bytes every time: a
 * change to the compressed bytes that inflates to the very same tar stream
 * (rare: padding bits, an equivalent Huffman table) changes no evidence and
 * is out of verify's reach (docs/FORMAT.md, "What verify proves"). */
static const char fixed_key[] = "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIBN2esvi+68PY6UIhvYnkbGJv8dfJB8lW78qENuffI0o\n"
    "-----END PRIVATE KEY-----\n";

DEFINE_TEST(test_bundle_flip_every_region)
{
	struct kc_verify_result res;
	struct kc_buf a;
	char fpr[KC_FPR_LEN];
	size_t step, tried = 0, caught = 0;
	FILE *f;

	make_staging("st");
	put("k.pem", fixed_key);
	CHECK((f = popen("openssl pkey -in k.pem -pubout -out k.pub.pem", "r")) != NULL);
	CHECK_INT(pclose(f), 0);
	CHECK_INT(kc_fingerprint_file("k.pub.pem", fpr), 0);
	CHECK_INT(seal("st", "k.pem", "b.tar.gz"), 0);
	a = slurp("b.tar.gz");
	step = a.len / 300 ? a.len / 300 : 1;
	for (size_t pos = 0; pos < a.len; pos += (pos < 16 || pos + 16 > a.len) ? 1 : step) {
		/* Every bit of the byte: the last deflate byte may hold up to 7
		 * padding bits that no gzip reader looks at (docs/FORMAT.md). */
		a.data[pos] ^= (char)0xff;
		CHECK_INT(kc_write_file_atomic("t.tar.gz", a.data, a.len, 0600), 0);
		a.data[pos] ^= (char)0xff;
		tried++;
		if (verify("t.tar.gz", "k.pub.pem", &res) == KC_ERR_VERIFY && first_failed(&res) >= 0)
			caught++;
		else
			kc_test_fail(__FILE__, __LINE__, "flip at %zu of %zu not detected: r=%d %s / %s / %s", pos, a.len,
			    verify("t.tar.gz", "k.pub.pem", &res), res.checks[0].detail, res.checks[1].detail, res.checks[3].detail);
		if (kc_test_failures == 0)
			unlink("t.tar.gz");
	}
	CHECK(tried >= 200);
	CHECK_INT(caught, tried);
	kc_buf_free(&a);
}

/* Hostile archives built here, with a canonical gzip header so that the
 * tar-level checks are reached.  The tar is made in memory and gzip'd as
 * one "raw" stream, so that a header can be patched after the fact (a
 * declared size without the data behind it). */
struct hmember {
	const char *name;
	int type;		/* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR */
	const char *data;
	int64_t size;		/* -1: strlen(data); else the size patched into the header */
};

static void
gzip_to(const char *out, const void *p, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_set_format_raw(a);
	archive_write_add_filter_gzip(a);
	archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	archive_write_set_bytes_per_block(a, 1);
	CHECK_INT(archive_write_open_filename(a, out), ARCHIVE_OK);
	archive_entry_set_pathname(e, "x");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)n);
	CHECK_INT(archive_write_header(a, e), ARCHIVE_OK);
	CHECK_INT(archive_write_data(a, p, n), (la_ssize_t)n);
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
}

/* Size field (12 octal digits, no NUL) and checksum of the header at off. */
static void
patch_size(unsigned char *h, int64_t size)
{
	char f[32];
	unsigned sum = 0;

	snprintf(f, sizeof(f), "%012llo", (unsigned long long)size);
	memcpy(h + 124, f, 12);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf(f, sizeof(f), "%06o", sum);
	memcpy(h + 148, f, 7);
}

static void
hostile(const char *out, const struct hmember *m, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = 1 << 20, used = 0;
	unsigned char *buf = calloc(1, cap);
	long patch_at[8];

	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_none(a);
	archive_write_set_bytes_per_block(a, 0);	/* unblocked: used tracks each header */
	CHECK_INT(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n && i < 8; i++) {
		size_t len = m[i].data ? strlen(m[i].data) : 0;

		patch_at[i] = -1;
		archive_entry_clear(e);
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, (unsigned)m[i].type);
		archive_entry_set_perm(e, m[i].type == AE_IFDIR ? 0555 : 0444);
		archive_entry_set_uname(e, "root");
		archive_entry_set_gname(e, "root");
		if (m[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, "/etc/passwd");
		archive_entry_set_size(e, (la_int64_t)len);
		archive_write_header(a, e);
		if (m[i].size >= 0)
			patch_at[i] = (long)used - 512;	
		if (len)
			archive_write_data(a, m[i].data, len);
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
	for (size_t i = 0; i < n && i < 8; i++)
		if (m[i].size >= 0 && patch_at[i] >= 0)
			patch_size(buf + patch_at[i], m[i].size);
	gzip_to(out, buf, used);
	free(buf);
}

static void
expect_structure_fail(const char *file, const char *why)
{
	struct kc_verify_result res;
	int r = verify(file, NULL, &res);

	if (r != KC_ERR_VERIFY || first_failed(&res) != KC_CHECK_STRUCTURE ||
	    strstr(res.checks[KC_CHECK_STRUCTURE].detail, why) == NULL)
		kc_test_fail(__FILE__, __LINE__, "%s: r=%d detail '%s', expected '%s'", file, r,
		    res.checks[KC_CHECK_STRUCTURE].detail, why);
}

DEFINE_TEST(test_bundle_hostile_archives)
{
	const struct hmember trav[] = { { "t/", AE_IFDIR, NULL, -1 }, { "t/../../etc/x", AE_IFREG, "x", -1 } };
	const struct hmember abs[] = { { "/etc/x", AE_IFREG, "x", -1 } };
	const struct hmember sym[] = { { "t/", AE_IFDIR, NULL, -1 }, { "t/a", AE_IFLNK, NULL, 0 } };
	const struct hmember dev[] = { { "t/", AE_IFDIR, NULL, -1 }, { "t/a", AE_IFCHR, NULL, 0 } };
	const struct hmember dup[] = { { "t/", AE_IFDIR, NULL, -1 }, { "t/a", AE_IFREG, "1", -1 },
		{ "t/a", AE_IFREG, "2", -1 } };
	const struct hmember two[] = { { "t/", AE_IFDIR, NULL, -1 }, { "u/", AE_IFDIR, NULL, 0 } };
	const struct hmember big[] = { { "t/", AE_IFDIR, NULL, -1 }, { "t/a", AE_IFREG, "x", 10LL << 30 } };
	const struct hmember unsorted[] = { { "t/", AE_IFDIR, NULL, -1 }, { "t/b", AE_IFREG, "1", -1 },
		{ "t/a", AE_IFREG, "2", -1 } };

	hostile("trav.tar.gz", trav, 2);
	expect_structure_fail("trav.tar.gz", "'..'");
	hostile("abs.tar.gz", abs, 1);
	expect_structure_fail("abs.tar.gz", "absolute");
	hostile("sym.tar.gz", sym, 2);
	expect_structure_fail("sym.tar.gz", "symbolic link");
	hostile("dev.tar.gz", dev, 2);
	expect_structure_fail("dev.tar.gz", "device");
	hostile("dup.tar.gz", dup, 3);
	expect_structure_fail("dup.tar.gz", "duplicate");
	hostile("two.tar.gz", two, 2);
	expect_structure_fail("two.tar.gz", "outside the top folder");
	hostile("big.tar.gz", big, 2);
	expect_structure_fail("big.tar.gz", "cap");
	hostile("unsorted.tar.gz", unsorted, 3);

	expect_structure_fail("unsorted.tar.gz", "canonical");
	/* nothing was extracted */
	CHECK(access("t", F_OK) != 0 && access("etc", F_OK) != 0);
}

DEFINE_TEST(test_bundle_gzip_bomb)
{
	/* 1 GiB of zeros in members of 256 MiB: each within the member cap,
	 * together a ratio no evidence has.  Must stop long before 1 GiB. */
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	static char zero[1 << 16];
	char name[32];

	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	archive_write_set_filter_option(a, "gzip", "compression-level", "1");
	CHECK_INT(archive_write_open_filename(a, "bomb.tar.gz"), ARCHIVE_OK);
	archive_entry_set_pathname(e, "t/");
	archive_entry_set_filetype(e, AE_IFDIR);
	archive_entry_set_perm(e, 0555);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	archive_write_header(a, e);
	for (int i = 0; i < 4; i++) {
		archive_entry_clear(e);
		snprintf(name, sizeof(name), "t/z%d", i);
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0444);
		archive_entry_set_uname(e, "root");
		archive_entry_set_gname(e, "root");
		archive_entry_set_size(e, 256 << 20);
		archive_write_header(a, e);
		for (int k = 0; k < (256 << 20) / (int)sizeof(zero); k++)
			archive_write_data(a, zero, sizeof(zero));
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
	expect_structure_fail("bomb.tar.gz", "ratio");
}

DEFINE_TEST(test_bundle_long_paths_deterministic)
{
	/* Paths past ustar's 100/155 bytes need pax headers: those must be
	 * deterministic too (no pid or time in them). */
	char p[1200], dir[160];
	struct kc_buf a, b;
	struct kc_verify_result res;

	make_staging("st");
	memset(dir, 'd', 150);
	dir[150] = '\0';
	snprintf(p, sizeof(p), "st/raw/%s/%s/page-0001 (%s).json", dir, dir, "x) = y");
	put(p, "{}\n");
	CHECK_INT(kc_mkdir_p("one", 0755), 0);
	CHECK_INT(kc_mkdir_p("two", 0755), 0);
	CHECK_INT(seal("st", NULL, "one/L_pre_c_20261125T000000Z.tar.gz"), 0);
	CHECK_INT(seal("st", NULL, "two/L_pre_c_20261125T000000Z.tar.gz"), 0);
	a = slurp("one/L_pre_c_20261125T000000Z.tar.gz");
	b = slurp("two/L_pre_c_20261125T000000Z.tar.gz");
	CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	CHECK_INT(verify("one/L_pre_c_20261125T000000Z.tar.gz", NULL, &res), 0);
	CHECK_INT(res.members, 9);
	kc_buf_free(&a);
	kc_buf_free(&b);
}

DEFINE_TEST(test_bundle_staging_symlink_refused)
{
	make_staging("st");
	CHECK_INT(symlink("/etc/passwd", "st/raw/passwd.json"), 0);
	CHECK_INT(seal("st", NULL, "x.tar.gz"), KC_ERR_INVALID);
	CHECK(strstr(kc_err_msg(), "symbolic link") != NULL);
	CHECK(access("x.tar.gz", F_OK) != 0);
}

/* A detached CMS signature (ECDSA P-256, self-signed signer) over the
 * SHA256SUMS of a sealed bundle: it verifies against its certificate, and
 * not once the content changes (the content reaches CMS_verify through a
 * filter BIO since the leak tests/fuzz/fuzz_tar found). */
DEFINE_TEST(test_bundle_verify_cms)
{
	struct kc_buf sums = KC_BUF_INIT(1u << 20), sig = KC_BUF_INIT(1u << 20);
	char dir[4096], ca[4200], path[4200], subj[256] = "", fpr[KC_FPR_LEN] = "";

	snprintf(dir, sizeof(dir), "%s/cms", kc_test_data());
	snprintf(ca, sizeof(ca), "%s/signer.crt", dir);
	snprintf(path, sizeof(path), "%s/SHA256SUMS", dir);
	CHECK_INT(kc_read_file(path, sums.max, &sums), 0);
	snprintf(path, sizeof(path), "%s/SHA256SUMS.sig", dir);
	CHECK_INT(kc_read_file(path, sig.max, &sig), 0);
	CHECK_INT(kc_verify_cms(ca, NULL, sums.data, sums.len, sig.data, sig.len, subj, sizeof(subj), fpr), 0);
	CHECK_STR(subj, "/CN=kcustody fuzz");
	CHECK(strncmp(fpr, "SHA256:", 7) == 0);
	sums.data[0] ^= 1;
	CHECK_INT(kc_verify_cms(ca, NULL, sums.data, sums.len, sig.data, sig.len, NULL, 0, NULL),
	    KC_ERR_VERIFY);
	kc_buf_free(&sums);
	kc_buf_free(&sig);
}

/* ---- one file throughout: a read pinned to what verify read ---- */

static int
stop_after_findings(void *ctx, const struct kc_tar_entry *e)
{
	(void)ctx;
	if (e->is_dir)
		return KC_BUNDLE_SKIP;
	return strcmp(e->path, "findings.csv") == 0 ? KC_BUNDLE_KEEP :
	    strcmp(e->path, "findings.csv") > 0 ? KC_BUNDLE_STOP : KC_BUNDLE_SKIP;
}

static int
count_sink(void *ctx, const void *p, size_t n)
{
	(void)p;
	*(size_t *)ctx += n;
	return 0;
}

DEFINE_TEST(test_bundle_pinned_read)
{
	struct kc_verify_result res;
	struct kc_bundle_read_opts o = { .member_max = 1u << 20, .total_max = 1u << 20, .reader = "test",
		.sort = 1 };
	struct kc_bundle_members ms;
	char file_hex[KC_SHA256_HEX], pin[KC_SHA256_HEX];
	size_t got = 0;

	make_staging("st");
	put("st/raw/pods/page-0001.json", "{\"items\":[{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"},"
	    "\"spec\":{\"serviceAccountName\":\"a\",\"containers\":[]}}]}");
	CHECK_INT(seal("st", NULL, "a.tar.gz"), 0);
	put("st/findings.csv", "id,severity\nKC001,low\n");	/* the attacker's version */
	CHECK_INT(seal("st", NULL, "b.tar.gz"), 0);
	CHECK_INT(verify("a.tar.gz", NULL, &res), 0);
	/* verify's digest is the file's */
	CHECK_INT(kc_sha256_file("a.tar.gz", file_hex, NULL), 0);
	CHECK_STR(res.sha256, file_hex);
	memcpy(pin, res.sha256, sizeof(pin));

	/* the same file: read, even when the reader stops early (the rest is
	 * hashed raw), and its digest reported */
	o.expect_sha256 = pin;
	CHECK_INT(kc_bundle_read_members("a.tar.gz", &o, stop_after_findings, NULL, &ms), 0);
	CHECK_INT(ms.n, 1);
	CHECK_STR(ms.sha256, pin);
	kc_bundle_members_free(&ms);
	CHECK_INT(kc_bundle_read_member_pinned("a.tar.gz", "findings.csv", pin, count_sink, &got), 0);
	CHECK_INT(got, strlen("id,severity\nKC001,high\n"));
	/* a member the verified file lacks: not found (the twin of the swap below) */
	CHECK_INT(kc_bundle_read_member_pinned("a.tar.gz", "audit/none.jsonl", pin, count_sink, &got),
	    KC_ERR_NOTFOUND);

	{
		struct kc_source src;

		CHECK_INT(kc_source_open_pinned("a.tar.gz", NULL, NULL, pin, &src), 0);
		CHECK_STR(src.m.sha256, pin);
		kc_source_close(&src);
		/* raw pages reduced as they are read (diff): the same pin */
		CHECK_INT(kc_source_open_level("a.tar.gz", NULL, NULL, pin, KC_SNAP_DIFF, &src), 0);
		CHECK_STR(src.m.sha256, pin);
		CHECK(kc_bundle_member_find(&src.m, "raw/pods/page-0001.json") != NULL &&
		    strstr(kc_bundle_member_find(&src.m, "raw/pods/page-0001.json")->data, "containers") == NULL);
		kc_source_close(&src);
	}
	/* swapped after verify: refused, whether read whole or stopped early */
	CHECK_INT(rename("b.tar.gz", "a.tar.gz"), 0);
	CHECK_INT(kc_bundle_read_members("a.tar.gz", &o, stop_after_findings, NULL, &ms), KC_ERR_VERIFY);
	CHECK(strstr(kc_err_msg(), "changed after it was verified") != NULL);
	kc_bundle_members_free(&ms);
	o.check_end = 1;
	CHECK_INT(kc_bundle_read_members("a.tar.gz", &o, stop_after_findings, NULL, &ms), KC_ERR_VERIFY);
	kc_bundle_members_free(&ms);
	CHECK_INT(kc_bundle_read_member_pinned("a.tar.gz", "findings.csv", pin, count_sink, &got), KC_ERR_VERIFY);
	/* a member missing from the swapped file is not "absent" (diff, propose
	 * and the OSCAL audit counts take that as no audit segment): the file
	 * is not the verified one */
	CHECK_INT(kc_bundle_read_member_pinned("a.tar.gz", "audit/none.jsonl", pin, count_sink, &got),
	    KC_ERR_VERIFY);
	CHECK(strstr(kc_err_msg(), "changed after it was verified") != NULL);
	{
		struct kc_source src;

		CHECK_INT(kc_source_open_pinned("a.tar.gz", NULL, NULL, pin, &src), KC_ERR_VERIFY);
		kc_source_close(&src);
		CHECK_INT(kc_source_open_level("a.tar.gz", NULL, NULL, pin, KC_SNAP_DIFF, &src), KC_ERR_VERIFY);
		CHECK(strstr(kc_err_msg(), "changed after it was verified") != NULL);
		CHECK_INT(src.m.n, 0);	/* nothing is taken from it */
		kc_source_close(&src);
	}
	/* unpinned, the same reads take the new file (what the pin guards) */
	CHECK_INT(kc_bundle_read_member_pinned("a.tar.gz", "findings.csv", NULL, count_sink, &got), 0);
	o.expect_sha256 = NULL;
	CHECK_INT(kc_bundle_read_members("a.tar.gz", &o, stop_after_findings, NULL, &ms), 0);
	CHECK(!kc_digest_eq(ms.sha256, pin) && ms.sha256[0] == '\0');	/* stopped: no digest */
	kc_bundle_members_free(&ms);
}

/* ---- verified and read in one pass (kc_bundle_verify_read) ---- */

static int
keep_findings_raw(void *ctx, const struct kc_tar_entry *e)
{
	int *calls = ctx;

	(*calls)++;
	if (e->is_dir)
		return KC_BUNDLE_SKIP;
	return strcmp(e->path, "findings.csv") == 0 || strncmp(e->path, "raw/", 4) == 0 ? KC_BUNDLE_KEEP :
	    KC_BUNDLE_SKIP;
}

static int
keep_fails_on_raw(void *ctx, const struct kc_tar_entry *e)
{
	(void)ctx;
	if (!e->is_dir && strncmp(e->path, "raw/", 4) == 0)
		return kc_err_set(KC_ERR_LIMIT, "the reader's own limit");
	return KC_BUNDLE_SKIP;
}

DEFINE_TEST(test_bundle_verify_read)
{
	struct kc_verify_opts vo = { .allow_unsigned = 1 };
	struct kc_verify_result res, alone;
	struct kc_bundle_read_opts o = { .member_max = 1u << 20, .total_max = 1u << 20, .reader = "test",
		.sort = 1 };
	struct kc_bundle_members ms;
	const struct kc_bundle_member *m;
	struct kc_buf raw;
	int calls = 0;

	make_staging("st");
	CHECK_INT(seal("st", NULL, "a.tar.gz"), 0);
	/* the members chosen, as the checks read them; the verdict and the
	 * digest are kc_bundle_verify's */
	CHECK_INT(kc_bundle_verify_read("a.tar.gz", &vo, &res, &o, keep_findings_raw, &calls, &ms), 0);
	CHECK_INT(verify("a.tar.gz", NULL, &alone), 0);
	CHECK(res.valid && alone.valid);
	CHECK_STR(res.sha256, alone.sha256);
	CHECK_STR(ms.sha256, alone.sha256);
	CHECK_INT(res.members, alone.members);
	CHECK(calls > 0);
	CHECK_INT(ms.n, 5);	/* findings.csv and four raw/ members */
	CHECK(ms.sorted);
	CHECK((m = kc_bundle_member_find(&ms, "findings.csv")) != NULL && strcmp(m->data, "id,severity\nKC001,high\n") == 0);
	CHECK((m = kc_bundle_member_find(&ms, "raw/clusterroles/status.json")) != NULL &&
	    m->len == strlen("{\"status\":\"complete\"}\n"));
	CHECK(kc_bundle_member_find(&ms, "MANIFEST.json") == NULL);
	kc_bundle_members_free(&ms);

	/* the twin: one byte changed in a member's data (the gzip recomputed
	 * so the container reads): not valid, and nothing is kept */
	raw = slurp("a.tar.gz");
	{
		struct kc_buf plain = KC_BUF_INIT(1u << 24);
		FILE *p;
		char *hit;
		size_t n;

		CHECK((p = popen("gzip -dc a.tar.gz", "r")) != NULL);
		while ((n = fread(raw.data, 1, raw.len, p)) > 0)
			CHECK_INT(kc_buf_add(&plain, raw.data, n), 0);
		pclose(p);
		CHECK((hit = memmem(plain.data, plain.len, "KC001,high", 10)) != NULL);
		hit[6] = 'l';	/* KC001,low? no: one byte, same length */
		CHECK_INT(kc_write_file_atomic("b.tar", plain.data, plain.len, 0644), 0);
		CHECK_INT(system("gzip -n -c b.tar > b.tar.gz"), 0);
		kc_buf_free(&plain);
	}
	kc_buf_free(&raw);
	CHECK_INT(kc_bundle_verify_read("b.tar.gz", &vo, &res, &o, keep_findings_raw, &calls, &ms), KC_ERR_VERIFY);
	CHECK(!res.valid);
	CHECK_INT(ms.n, 0);
	CHECK(ms.v == NULL);

	/* valid, but the reader's own error: returned after the checks, with
	 * the verdict set, and nothing kept */
	CHECK_INT(kc_bundle_verify_read("a.tar.gz", &vo, &res, &o, keep_fails_on_raw, NULL, &ms), KC_ERR_LIMIT);
	CHECK(res.valid);
	CHECK(strstr(kc_err_msg(), "the reader's own limit") != NULL);
	CHECK_INT(ms.n, 0);
	/* a member over the reader's limit: KC_ERR_LIMIT, still valid */
	o.member_max = 8;
	CHECK_INT(kc_bundle_verify_read("a.tar.gz", &vo, &res, &o, keep_findings_raw, &calls, &ms), KC_ERR_LIMIT);
	CHECK(res.valid);
	CHECK(strstr(kc_err_msg(), "larger than test reads") != NULL);
	CHECK_INT(ms.n, 0);
	/* a verify failure wins over a reader's error: the wrong key */
	o.member_max = 1u << 20;
	vo.allow_unsigned = 0;
	CHECK_INT(kc_bundle_verify_read("a.tar.gz", &vo, &res, &o, keep_fails_on_raw, NULL, &ms), KC_ERR_VERIFY);
	CHECK(!res.valid);
}

/* ---- the one pass keeps nothing before it is the signed content ---- */

static int
count_shrink(void *ctx, struct kc_bundle_member *m)
{
	(void)m;
	(*(int *)ctx)++;
	return 0;
}

static int
keep_all(void *ctx, const struct kc_tar_entry *e)
{
	(void)ctx;
	return e->is_dir ? KC_BUNDLE_SKIP : KC_BUNDLE_KEEP;
}

/* the bundle at in with its first "from" replaced by "to" (same length),
 * the gzip container made again: the signature over SHA256SUMS still
 * holds, the member no longer hashes to its line */
static void
edit_member(const char *in, const char *out, const char *from, const char *to)
{
	struct kc_buf plain = KC_BUF_INIT(1u << 24);
	char cmd[512], chunk[65536], *hit;
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "gzip -dc %s", in);
	CHECK((p = popen(cmd, "r")) != NULL);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		CHECK_INT(kc_buf_add(&plain, chunk, n), 0);
	pclose(p);
	CHECK((hit = memmem(plain.data, plain.len, from, strlen(from))) != NULL);
	memcpy(hit, to, strlen(to));
	CHECK_INT(kc_write_file_atomic("edit.tar", plain.data, plain.len, 0644), 0);
	snprintf(cmd, sizeof(cmd), "gzip -n -c edit.tar > %s", out);
	CHECK_INT(system(cmd), 0);
	kc_buf_free(&plain);
}

DEFINE_TEST(test_bundle_verify_read_gate)
{
	struct kc_verify_opts vo = { 0 };
	struct kc_verify_result res;
	struct kc_bundle_read_opts o = { .member_max = 1u << 20, .total_max = 1u << 20, .reader = "test",
		.sort = 1, .shrink = count_shrink };
	struct kc_bundle_members ms;
	int shrunk = 0;
	FILE *f;

	put("k.pem", fixed_key);
	CHECK((f = popen("openssl pkey -in k.pem -pubout -out k.pub.pem", "r")) != NULL);
	pclose(f);
	CHECK((f = popen("openssl genpkey -algorithm ed25519 -out o.pem && openssl pkey -in o.pem -pubout -out o.pub.pem", "r")) != NULL);
	pclose(f);
	make_staging("st");
	CHECK_INT(seal("st", "k.pem", "a.tar.gz"), 0);
	CHECK_INT(seal("st", NULL, "u.tar.gz"), 0);
	o.shrink_ctx = &shrunk;

	/* the signed content: every member kept and handed to the shrink */
	vo.pubkey_path = "k.pub.pem";
	CHECK_INT(kc_bundle_verify_read("a.tar.gz", &vo, &res, &o, keep_all, NULL, &ms), 0);
	CHECK(res.valid);
	CHECK(ms.n >= 7 && kc_bundle_member_find(&ms, "MANIFEST.json") != NULL);
	CHECK_INT(shrunk, (int)ms.n);
	kc_bundle_members_free(&ms);

	/* another key: the signature fails as soon as it is read, so no data
	 * member is kept nor parsed (MANIFEST.json, before it, neither) */
	shrunk = 0;
	vo.pubkey_path = "o.pub.pem";
	CHECK_INT(kc_bundle_verify_read("a.tar.gz", &vo, &res, &o, keep_all, NULL, &ms), KC_ERR_VERIFY);
	CHECK_INT(shrunk, 0);
	CHECK_INT(ms.n, 0);
	/* unsigned, not accepted: nothing; accepted (--allow-unsigned): all */
	vo.pubkey_path = "k.pub.pem";
	CHECK_INT(kc_bundle_verify_read("u.tar.gz", &vo, &res, &o, keep_all, NULL, &ms), KC_ERR_VERIFY);
	CHECK_INT(shrunk, 0);
	vo.allow_unsigned = 1;
	CHECK_INT(kc_bundle_verify_read("u.tar.gz", &vo, &res, &o, keep_all, NULL, &ms), 0);
	CHECK(shrunk > 0);
	kc_bundle_members_free(&ms);
	vo.allow_unsigned = 0;

	/* signed, one member edited: kept only up to it, then nothing; the
	 * edited bytes never reach the shrink */
	edit_member("a.tar.gz", "e.tar.gz", "KC001,high", "KC001,HIGH");
	shrunk = 0;
	CHECK_INT(kc_bundle_verify_read("e.tar.gz", &vo, &res, &o, keep_all, NULL, &ms), KC_ERR_VERIFY);
	CHECK(!res.valid && res.checks[KC_CHECK_SIGNATURE].state == KC_CHECK_OK);
	CHECK_INT(ms.n, 0);
	CHECK(shrunk < 7);	/* MANIFEST.json and the members before findings.csv only */
}
