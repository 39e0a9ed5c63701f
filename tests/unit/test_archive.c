/* test_archive.c - retention dates, the ledger anchor and the index of the
 * archive. */
#include <string.h>

#include "harness.h"
#include "manifest/archive.h"
#include "manifest/archive_int.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

DEFINE_TEST(test_archive_retention)
{
	time_t now, t;
	long ns;
	char out[32];

	CHECK_INT(kc_parse_rfc3339("2024-02-29T12:00:00Z", &now, &ns), 0);
	CHECK_INT(kc_archive_retention(NULL, "7y", now, &t), 0);
	CHECK_STR(kc_fmt_rfc3339(t, out, sizeof(out)), "2031-03-01T12:00:00Z");	/* no Feb 29 */
	CHECK_INT(kc_archive_retention(NULL, "1y", now, &t), 0);
	CHECK_STR(kc_fmt_rfc3339(t, out, sizeof(out)), "2025-03-01T12:00:00Z");
	CHECK_INT(kc_archive_retention(NULL, "2w", now, &t), 0);
	CHECK_STR(kc_fmt_rfc3339(t, out, sizeof(out)), "2024-03-14T12:00:00Z");
	CHECK_INT(kc_archive_retention(NULL, "90d", now, &t), 0);
	CHECK_STR(kc_fmt_rfc3339(t, out, sizeof(out)), "2024-05-29T12:00:00Z");
	CHECK_INT(kc_archive_retention(NULL, "90s", now, &t), 0);
	CHECK_INT(t - now, 90);
	CHECK_INT(kc_archive_retention("2030-01-31", NULL, now, &t), 0);
	CHECK_STR(kc_fmt_rfc3339(t, out, sizeof(out)), "2030-01-31T23:59:59Z");
	CHECK_INT(kc_archive_retention("2030-01-31T10:00:00+02:00", NULL, now, &t), 0);
	CHECK_STR(kc_fmt_rfc3339(t, out, sizeof(out)), "2030-01-31T08:00:00Z");
	CHECK_INT(kc_archive_retention(NULL, "7q", now, &t), KC_ERR_INVALID);
	CHECK_INT(kc_archive_retention(NULL, "-1y", now, &t), KC_ERR_INVALID);
	CHECK_INT(kc_archive_retention("2030-13-01", NULL, now, &t), KC_ERR_INVALID);
	CHECK_INT(kc_archive_retention(NULL, NULL, now, &t), KC_ERR_INVALID);
	CHECK_INT(kc_archive_retention("2030-01-01", "7y", now, &t), KC_ERR_INVALID);
}

DEFINE_TEST(test_archive_anchor)
{
	static const char text[] = "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n";
	char head[KC_SHA256_HEX];

	CHECK_INT(kc_sha256_hex("{\"b\":2}\n", 8, head), 0);
	CHECK_INT(archive_anchor_check(text, strlen(text), 2, head), 0);
	CHECK_INT(archive_anchor_check(text, 16, 2, head), 0);
	CHECK_INT(archive_anchor_check(text, 8, 2, head), KC_ERR_VERIFY);	/* cut off */
	CHECK_INT(archive_anchor_check(text, strlen(text), 3, head), KC_ERR_VERIFY);	/* rewritten */
	CHECK(archive_is_id_prefix("0123abcd"));
	CHECK(!archive_is_id_prefix("0123abc"));
	CHECK(!archive_is_id_prefix("0123ABCD"));
	CHECK(!archive_is_id("0123abcd"));
}

/* A damaged index (found by tests/fuzz/fuzz_archive_index): an entry
 * without a status or with an id that is not a SHA-256 is reported by
 * verify, skipped by prune and get, and never names a file. */
DEFINE_TEST(test_archive_index_damaged)
{
	static const char idx[] = "{\"format\":\"kcustody.archive-index/v1\",\"items\":["
	    "{\"id\":\"b07910e2c9f7c55fcd218b2830c02d6fe3d371468905bc90c391d7514820eaf8\","
	    "\"name\":\"x.tar.gz\",\"retain_until\":\"2020-01-01T00:00:00Z\",\"legal_hold\":false},"
	    "{\"id\":\"../../../etc/passwd\",\"status\":\"stored\",\"retain_until\":\"2020-01-01T00:00:00Z\"}]}";
	struct kc_archive_opts o = { .store = "store" };
	struct kc_archive_actor who = { .actor = { .name = "test" } };
	struct kc_archive *a = NULL;
	cJSON *rep = NULL;

	CHECK_INT(kc_archive_open(&o, &a), 0);
	CHECK_INT(kc_write_file_atomic("store/index.json", idx, strlen(idx), 0644), 0);
	CHECK_INT(kc_archive_prune(a, &who, 1, &rep), 0);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(rep, "items")), 0);
	cJSON_Delete(rep);
	rep = NULL;
	CHECK_INT(kc_archive_verify(a, NULL, NULL, &rep), KC_ERR_VERIFY);
	CHECK_INT((long)cJSON_GetNumberValue(cJSON_GetObjectItem(rep, "damaged")), 2);
	cJSON_Delete(rep);
	rep = NULL;
	CHECK_INT(kc_archive_get(a, "b07910e2", "out.tar.gz", &who, &rep), KC_ERR_NOTFOUND);
	CHECK(rep == NULL);
	kc_archive_close(a);
}
