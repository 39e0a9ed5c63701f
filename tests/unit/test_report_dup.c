/* test_report_dup.c - duplicate keys in the documents the report reads:
 * the LAST member wins (util/json.h, jq's and Go's rule), in the report of
 * a bundle (its MANIFEST.json and selection.json) and on the diff page.
 * cJSON's own lookup would take the first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "formats/report_html.h"
#include "manifest/bundle.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"

static void
put(const char *rel, const char *text)
{
	char dst[1024];
	char *dir;

	snprintf(dst, sizeof(dst), "st/%s", rel);
	dir = kc_dirname(dst);
	CHECK_INT(kc_mkdir_p(dir, 0755), 0);
	free(dir);
	CHECK_INT(kc_write_file_atomic(dst, text, strlen(text), 0644), 0);
}

static void
copy(const char *rel)
{
	char src[1024];
	struct kc_buf b = KC_BUF_INIT(1u << 24);

	snprintf(src, sizeof(src), "%s/report/bundle/%s", kc_test_data(), rel);
	CHECK_INT(kc_read_file(src, b.max, &b), 0);
	put(rel, kc_buf_str(&b));
	kc_buf_free(&b);
}

DEFINE_TEST(test_report_duplicate_keys_last_wins)
{
	struct kc_seal_opts o = { 0 };
	struct kc_report_in in = { 0 };
	struct kc_buf page = KC_BUF_INIT(KC_REPORT_MAX);
	cJSON *m = kc_test_load_json("report/manifest.json"), *c;
	const char *s;

	copy("analysis/findings.json");
	copy("analysis/effective/agents__kagent-bot/agents.json");
	/* the selected agent's namespace twice: "wrong-ns" first */
	put("analysis/selection.json", "{\"selected\":[{\"namespace\":\"wrong-ns\",\"namespace\":\"agents\","
	    "\"name\":\"kagent-bot\"}]}");
	/* case.id twice, and the whole "cluster" object twice */
	c = cJSON_GetObjectItem(m, "case");
	cJSON_ReplaceItemInObject(c, "id", cJSON_CreateString("IR-FIRST"));
	cJSON_AddStringToObject(c, "id", "IR-LAST");
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "server", "https://last.example:6443");
	cJSON_AddItemToObject(m, "cluster", c);
	o.no_sign = 1;
	o.mtime = 1795000000;
	CHECK_INT(kc_bundle_seal("st", m, &o, "dup.tar.gz"), 0);
	in.bundle_path = "dup.tar.gz";
	in.no_verify_reason = "test";
	in.ledger_skipped = 1;
	CHECK_INT(kc_report_html(&in, &page), 0);
	s = kc_buf_str(&page);
	CHECK(strstr(s, "<h1>Evidence report: case IR-LAST</h1>") != NULL);
	CHECK(strstr(s, "IR-FIRST") == NULL);
	CHECK(strstr(s, "cluster <code>https://last.example:6443</code>") != NULL);
	CHECK(strstr(s, "<h3>agents/kagent-bot</h3>") != NULL);
	CHECK(strstr(s, "wrong-ns") == NULL);
	kc_buf_free(&page);
	cJSON_Delete(m);
}

DEFINE_TEST(test_report_diff_page_duplicate_keys_last_wins)
{
	struct kc_buf page = KC_BUF_INIT(KC_REPORT_MAX);
	cJSON *d = kc_test_load_json("report/diff.json"), *sum = cJSON_GetObjectItem(d, "summary");
	const char *s;

	cJSON_ReplaceItemInObject(sum, "verdict", cJSON_CreateString("first-verdict"));
	cJSON_AddStringToObject(sum, "verdict", "remediated");
	CHECK_INT(kc_diff_render_html(d, &page), 0);
	s = kc_buf_str(&page);
	CHECK(strstr(s, "data-kc=\"summary.verdict\">remediated</span>") != NULL);
	CHECK(strstr(s, "first-verdict") == NULL);
	kc_buf_free(&page);
	cJSON_Delete(d);
}
