#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/fmt.h"
#include "util/sha256.h"
#include "util/nsindex.h"
#include "util/strset.h"
#include "util/timeutil.h"
#include "util/uuid.h"

DEFINE_TEST(test_buf_limit)
{
	struct kc_buf b = KC_BUF_INIT(8);

	CHECK_INT(kc_buf_adds(&b, "1234"), 0);
	CHECK_INT(kc_buf_addf(&b, "%d", 5678), 0);
	CHECK_STR(kc_buf_str(&b), "12345678");
	CHECK_INT(kc_buf_addc(&b, 'x'), KC_ERR_LIMIT);
	CHECK_INT(b.len, 8);
	kc_buf_free(&b);
	kc_buf_free(&b);
}

DEFINE_TEST(test_time_rfc3339)
{
	time_t t;
	long ns;
	char out[40];

	CHECK_INT(kc_parse_rfc3339("2026-11-25T17:46:47Z", &t, &ns), 0);
	CHECK_STR(kc_fmt_rfc3339(t, out, sizeof(out)), "2026-11-25T17:46:47Z");
	CHECK_INT(kc_parse_rfc3339("2026-11-25T18:46:47.5+01:00", &t, &ns), 0);
	CHECK_STR(kc_fmt_rfc3339(t, out, sizeof(out)), "2026-11-25T17:46:47Z");
	CHECK_INT(ns, 500000000);
	CHECK_STR(kc_fmt_compact(t, out, sizeof(out)), "20261125T174647Z");
	CHECK_INT(kc_parse_rfc3339("2026-13-25T17:46:47Z", &t, &ns), KC_ERR_PARSE);
	CHECK_INT(kc_parse_rfc3339("2026-11-25 17:46", &t, &ns), KC_ERR_PARSE);
	CHECK_INT(kc_parse_http_date("Wed, 25 Nov 2026 17:46:47 GMT", &t), 0);
	CHECK_STR(kc_fmt_rfc3339(t, out, sizeof(out)), "2026-11-25T17:46:47Z");
}

DEFINE_TEST(test_time_duration)
{
	int64_t s;

	CHECK_INT(kc_parse_duration("72h", &s), 0);
	CHECK_INT(s, 72 * 3600);
	CHECK_INT(kc_parse_duration("1h30m", &s), 0);
	CHECK_INT(s, 5400);
	CHECK_INT(kc_parse_duration("7x", &s), KC_ERR_PARSE);
	CHECK_INT(kc_parse_duration("", &s), KC_ERR_PARSE);
	/* Each part fits, the sum does not. */
	CHECK_INT(kc_parse_duration("4611686018427387903s4611686018427387903s", &s), KC_ERR_PARSE);
}

DEFINE_TEST(test_sha256_known)
{
	char hex[KC_SHA256_HEX];

	CHECK_INT(kc_sha256_hex("abc", 3, hex), 0);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_INT(kc_write_file_atomic("f", "abc", 3, 0600), 0);
	CHECK_INT(kc_sha256_file("f", hex, NULL), 0);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_INT(kc_sha256_file("missing", hex, NULL), KC_ERR_IO);
	CHECK(strstr(kc_err_msg(), "'missing'") != NULL);
}

DEFINE_TEST(test_fs_read_limit)
{
	struct kc_buf b = KC_BUF_INIT(1 << 20);

	CHECK_INT(kc_write_file_atomic("f", "0123456789", 10, 0600), 0);
	CHECK_INT(kc_read_file("f", 5, &b), KC_ERR_LIMIT);
	kc_buf_reset(&b);
	CHECK_INT(kc_read_file("f", 10, &b), 0);
	CHECK_INT(b.len, 10);
	kc_buf_free(&b);
	CHECK_INT(kc_mkdir_p("a/b/c", 0700), 0);
	CHECK_INT(kc_rm_rf("a"), 0);
}

DEFINE_TEST(test_fs_atomic_never_replaces_a_device_or_fifo)
{
	struct stat st;

	CHECK_INT(mkfifo("fifo", 0600), 0);
	CHECK_INT(kc_write_file_atomic("fifo", "x", 1, 0600), KC_ERR_INVALID);
	CHECK(strstr(kc_err_msg(), "not a regular file") != NULL);
	CHECK_INT(lstat("fifo", &st), 0);
	CHECK(S_ISFIFO(st.st_mode));
	/* the twin: a regular file is replaced */
	CHECK_INT(kc_write_file_atomic("plain", "a", 1, 0600), 0);
	CHECK_INT(kc_write_file_atomic("plain", "bb", 2, 0600), 0);
	CHECK_INT(lstat("plain", &st), 0);
	CHECK_INT(st.st_size, 2);
}

DEFINE_TEST(test_fs_path_join)
{
	char *p;

	CHECK_STR((p = kc_path_join("out/", "a.tar.gz")), "out/a.tar.gz");
	free(p);
	CHECK_STR((p = kc_path_join("out//", "a")), "out/a");
	free(p);
	CHECK_STR((p = kc_path_join("/", "a")), "/a");
	free(p);
	CHECK_STR((p = kc_path_join("x", "/abs")), "/abs");
	free(p);
	CHECK_STR((p = kc_dirname("a/b/c")), "a/b");
	free(p);
	CHECK_STR((p = kc_dirname("c")), ".");
	free(p);
}

/* One duplicate-key rule, jq's and Go's: the last member wins. */
DEFINE_TEST(test_json_last_member_wins)
{
	cJSON *o = cJSON_Parse("{\"user\":\"first\",\"a\":{\"b\":1,\"b\":{\"c\":\"deep\"}},"
	    "\"user\":\"last\",\"n\":3,\"User\":\"case\"}");

	CHECK(o != NULL);
	CHECK_STR(kc_json_str(o, "user"), "last");
	CHECK_STR(kc_json_str(o, "User"), "case");
	CHECK(kc_json_str(o, "n") == NULL);		/* not a string */
	CHECK_STR(kc_json_str0(o, "n"), "");
	CHECK(kc_json_str(o, "missing") == NULL);
	CHECK_STR(kc_json_str0(o, "missing"), "");
	CHECK_STR(cJSON_GetStringValue(kc_json_path(o, "a.b.c")), "deep");
	CHECK(kc_json_path(o, "a.x.c") == NULL);
	CHECK(kc_json_get(kc_json_get(o, "user"), "x") == NULL);	/* not an object */
	CHECK(kc_json_get(NULL, "user") == NULL);
	CHECK(kc_json_get_mut(o, "n") != NULL);
	cJSON_Delete(o);
}

/* Changing a repeated key changes every copy: no first member is left
 * behind for a later reader (last wins) to see. */
DEFINE_TEST(test_json_set_delete_detach_repeated)
{
	cJSON *o = cJSON_Parse("{\"status\":\"stored\",\"a\":1,\"status\":\"stored\","
	    "\"files\":[1],\"files\":[2]}"), *d;
	char *s;

	CHECK(o != NULL);
	CHECK_INT(kc_json_set(o, "status", cJSON_CreateString("disposed")), 0);
	CHECK_STR(kc_json_str(o, "status"), "disposed");
	d = kc_json_detach(o, "files");
	CHECK(d != NULL && cJSON_GetArraySize(d) == 1 && cJSON_GetArrayItem(d, 0)->valueint == 2);
	cJSON_Delete(d);
	CHECK(kc_json_get(o, "files") == NULL);
	s = cJSON_PrintUnformatted(o);
	CHECK_STR(s, "{\"status\":\"disposed\",\"a\":1}");	/* first place kept */
	free(s);
	kc_json_delete(o, "a");
	CHECK(kc_json_get(o, "a") == NULL);
	CHECK_INT(kc_json_set(NULL, "x", cJSON_CreateNull()), -1);
	cJSON_Delete(o);
}

DEFINE_TEST(test_strset)
{
	struct kc_strset s = { 0 };

	CHECK_INT(kc_strset_add(&s, "b"), 0);
	CHECK_INT(kc_strset_add(&s, "a"), 0);
	CHECK_INT(kc_strset_add(&s, "b"), 0);
	CHECK_INT(s.n, 2);
	CHECK(s.v[2] == NULL);
	CHECK(kc_strset_has(&s, "a"));
	CHECK(!kc_strset_has(&s, "c"));
	kc_strset_sort(&s);
	CHECK_STR(s.v[0], "a");
	CHECK_STR(s.v[1], "b");
	kc_strset_free(&s);
	CHECK_INT(s.n, 0);
}

/* Past the linear size the set is hashed: every member found, no duplicate
 * added, absent strings absent, and still so after a sort moved them. */
DEFINE_TEST(test_strset_hashed)
{
	struct kc_strset s = { 0 };
	char b[32];

	for (int round = 0; round < 2; round++)
		for (int i = 5000; i-- > 0;) {
			snprintf(b, sizeof(b), "ns-%05d", i);
			CHECK_INT(kc_strset_add(&s, b), 0);
		}
	CHECK_INT(s.n, 5000);
	CHECK(s.nslot >= 10000);
	CHECK(s.v[5000] == NULL);
	CHECK_STR(s.v[0], "ns-04999");	/* insertion order until sorted */
	kc_strset_sort(&s);
	CHECK_STR(s.v[0], "ns-00000");
	CHECK_STR(s.v[4999], "ns-04999");
	for (int i = 0; i < 5000; i++) {
		snprintf(b, sizeof(b), "ns-%05d", i);
		CHECK(kc_strset_has(&s, b));
	}
	CHECK(!kc_strset_has(&s, "ns-05000"));
	CHECK(!kc_strset_has(&s, "ns-0000"));
	CHECK(!kc_strset_has(&s, ""));
	CHECK_INT(kc_strset_add(&s, "ns-00042"), 0);
	CHECK_INT(s.n, 5000);
	CHECK_INT(kc_strset_add(&s, ""), 0);
	CHECK_INT(s.n, 5001);
	CHECK(kc_strset_has(&s, ""));
	kc_strset_free(&s);
	CHECK(s.slot == NULL && s.nslot == 0);
}

/* (namespace, name) slices: the entries of one account in the order they
 * were added; neighbours and prefixes are other accounts. */
DEFINE_TEST(test_nsindex)
{
	struct kc_nsindex x = { 0 };
	static const char *const ns[] = { "b", "a", "b", "a", "ab", "a", "" };
	static const char *const nm[] = { "x", "x", "x", "y", "x", "x", "x" };
	const struct kc_nsref *v;
	size_t n;
	int tag[7];

	for (int i = 0; i < 7; i++) {
		tag[i] = i;
		CHECK_INT(kc_nsindex_add(&x, ns[i], nm[i], &tag[i]), 0);
	}
	kc_nsindex_sort(&x);
	v = kc_nsindex_slice(&x, "a", "x", &n);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(*(const int *)v[0].p, 1);
		CHECK_INT(*(const int *)v[1].p, 5);
	}
	v = kc_nsindex_slice(&x, "b", "x", &n);
	CHECK_INT(n, 2);
	if (n == 2)
		CHECK_INT(*(const int *)v[1].p, 2);
	(void)kc_nsindex_slice(&x, "a", "z", &n);
	CHECK_INT(n, 0);
	(void)kc_nsindex_slice(&x, "", "x", &n);
	CHECK_INT(n, 1);
	(void)kc_nsindex_slice(&x, "c", "x", &n);
	CHECK_INT(n, 0);
	kc_nsindex_free(&x);
	(void)kc_nsindex_slice(&x, "a", "x", &n);	/* empty index */
	CHECK_INT(n, 0);
}

/* kc_fmt: whole or an error (and ""); kc_fmt_trunc: cut on purpose. */
DEFINE_TEST(test_util_fmt)
{
	char b[8];

	CHECK_INT(kc_fmt(b, sizeof(b), "%s", "1234567"), 0);
	CHECK_STR(b, "1234567");
	CHECK_INT(kc_fmt(b, sizeof(b), "%s/%d", "page", 1234), KC_ERR_LIMIT);
	CHECK_STR(b, "");
	CHECK(strstr(kc_err_msg(), "longer than its buffer") != NULL);
	CHECK_INT(kc_fmt(b, 0, "x"), KC_ERR_INVALID);
	CHECK_INT(kc_fmt_trunc(b, sizeof(b), "%s", "123456789"), 7);
	CHECK_STR(b, "1234567");
	CHECK_INT(kc_fmt_trunc(b, sizeof(b), "%d", 42), 2);
	CHECK_STR(b, "42");
	CHECK_INT(kc_fmt_trunc(NULL, 0, "x"), 0);
}

/* kc_digest_eq: equal only when both are there and the same, lengths
 * first (a prefix is not equal). */
DEFINE_TEST(test_util_digest_eq)
{
	CHECK(kc_digest_eq("ab12", "ab12"));
	CHECK(!kc_digest_eq("ab12", "ab13"));
	CHECK(!kc_digest_eq("ab12", "ab1"));
	CHECK(!kc_digest_eq("", "ab"));
	CHECK(kc_digest_eq("", ""));
	CHECK(!kc_digest_eq(NULL, "ab"));
	CHECK(!kc_digest_eq(NULL, NULL));
	CHECK(kc_mem_eq_ct("\x00\x01", 2, "\x00\x01", 2));
	CHECK(!kc_mem_eq_ct("\x00\x01", 2, "\x00\x02", 2));
	CHECK(!kc_mem_eq_ct("\x00\x01", 2, "\x00", 1));
}

/* RFC 4122 version 5: Python's uuid.uuid5(NAMESPACE_DNS, "python.org") and
 * the kcustody OSCAL namespace (uuid5(NAMESPACE_URL, its URL),
 * docs/RECERTIFY.md); a changed name gives another UUID. */
DEFINE_TEST(test_uuid_v5_known)
{
	static const unsigned char ns_dns[KC_UUID_LEN] = {
		0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
		0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
	};
	const char *url = "https://kcustody.dev/ns/oscal";
	char u[KC_UUID_STR], v[KC_UUID_STR];

	CHECK_INT(kc_uuid_v5(ns_dns, "python.org", 10, u), 0);
	CHECK_STR(u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	CHECK_INT(kc_uuid_v5(kc_uuid_ns_url, url, strlen(url), u), 0);
	CHECK_STR(u, "bf72522e-0b20-5537-92ac-4a3da6b9cd41");
	CHECK_INT(kc_uuid_v5(ns_dns, "python.orh", 10, v), 0);
	CHECK(strcmp(u, v) != 0);
}

DEFINE_TEST(test_json_text_has_nul)
{
#define NUL_IN(s) kc_json_text_has_nul((s), sizeof(s) - 1)
	CHECK_INT(NUL_IN("{\"name\":\"agent\\u0000x\"}"), 1);
	CHECK_INT(NUL_IN("\\u0000"), 1);
	CHECK_INT(NUL_IN("{\"a\":\"\\\\\",\"b\":\"\\u0000\"}"), 1);	/* "\\" then a NUL escape */
	/* twins: an escaped backslash before the text u0000, other escapes, a cut escape */
	CHECK_INT(NUL_IN("{\"name\":\"agent\\\\u0000x\"}"), 0);
	CHECK_INT(NUL_IN("{\"name\":\"\\u0001\\u00000\"}"), 1);
	CHECK_INT(NUL_IN("{\"name\":\"\\u0001\\u1000\"}"), 0);
	CHECK_INT(NUL_IN("{\"name\":\"\\u000"), 0);
	CHECK_INT(NUL_IN("\\"), 0);
	CHECK_INT(NUL_IN(""), 0);
	/* a raw NUL byte: not JSON, yet cJSON_ParseWithLength takes it inside
	 * a string and cuts the string there just the same */
	CHECK_INT(NUL_IN("{\"name\":\"agent\0x\"}"), 1);
	CHECK_INT(NUL_IN("{\"name\":\"agent\\\0x\"}"), 1);	/* right after a backslash */
	CHECK_INT(NUL_IN("{\"name\":\"agent\\x\"}"), 0);	/* its twin: no NUL */
	{
		static const char raw[] = "{\"name\":\"agent\0x\"}";
		cJSON *j = cJSON_ParseWithLength(raw, sizeof(raw) - 1);

		CHECK(j != NULL && strcmp(kc_json_str0(j, "name"), "agent") == 0);
		cJSON_Delete(j);
	}
	{	/* what the check guards: cJSON cuts the string at the NUL */
		cJSON *j = cJSON_Parse("{\"name\":\"agent\\u0000x\"}");

		CHECK(j != NULL && strcmp(kc_json_str0(j, "name"), "agent") == 0);
		cJSON_Delete(j);
	}
#undef NUL_IN
}

/* kc_err_save / kc_err_restore: an error kept and raised again as it was;
 * with no code recorded, the fallback (the twin). */
DEFINE_TEST(test_err_save_restore)
{
	struct kc_err_saved s;

	kc_err_set(KC_ERR_PARSE, "page '%s' is not valid JSON", "raw/x/page-0001.json");
	kc_err_save(&s);
	kc_err_set(KC_ERR_IO, "a cleanup's error");
	CHECK_INT(kc_err_restore(&s, KC_ERR_NOMEM), KC_ERR_PARSE);
	CHECK_INT(kc_err_code(), KC_ERR_PARSE);
	CHECK_STR(kc_err_msg(), "page 'raw/x/page-0001.json' is not valid JSON");
	kc_err_clear();
	kc_err_save(&s);
	CHECK_INT(kc_err_restore(&s, KC_ERR_NOMEM), KC_ERR_NOMEM);
	CHECK_INT(kc_err_code(), KC_ERR_NOMEM);
	kc_err_clear();
}
