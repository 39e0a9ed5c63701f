/* test_archive.c - retention dates and the ledger anchor of the archive. */
#include <string.h>

#include "harness.h"
#include "manifest/archive.h"
#include "manifest/archive_int.h"
#include "util/err.h"
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

/* The plain-HTTP decision parses the URL (issue 10 item 6.4): a host that
 * merely starts like a loopback one is not loopback. */
DEFINE_TEST(test_archive_url_loopback)
{
	static const struct { const char *url; int want, https; } v[] = {
		{ "http://127.0.0.1:7480", 1, 0 },
		{ "http://127.9.8.7", 1, 0 },
		{ "http://localhost:7480/", 1, 0 },
		{ "http://LOCALHOST", 1, 0 },
		{ "http://[::1]:7480", 1, 0 },
		{ "https://127.0.0.1", 1, 1 },
		{ "http://127.evil.example", 0, 0 },
		{ "http://127.0.0.1.evil.example:80", 0, 0 },
		{ "http://localhost.evil.example", 0, 0 },
		{ "http://127.0.0.1@evil.example", 0, 0 },
		{ "http://[::1].evil.example", -1, 0 },
		{ "http://128.0.0.1", 0, 0 },
		{ "http://[::2]", 0, 0 },
		{ "https://s3.us-east-1.amazonaws.com", 0, 1 },
	};
	int https;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int r = archive_url_loopback(v[i].url, &https);

		if (v[i].want < 0) {
			CHECK_INT(r, KC_ERR_INVALID);
			continue;
		}
		if (r != v[i].want || https != v[i].https)
			kc_test_fail(__FILE__, __LINE__, "%s: loopback %d https %d, want %d %d",
			    v[i].url, r, https, v[i].want, v[i].https);
	}
	CHECK_INT(archive_url_loopback("ftp://127.0.0.1", &https), KC_ERR_INVALID);
	CHECK_INT(archive_url_loopback("127.0.0.1:7480", &https), KC_ERR_INVALID);
}
