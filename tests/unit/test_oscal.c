#include <string.h>

#include <cjson/cJSON.h>

#include "formats/recert_oscal.h"
#include "util/json.h"
#include "harness.h"
#include "util/buf.h"

/* formats/recert_oscal: every href is an RFC 3986 URI reference (OSCAL's
 * URIReferenceDatatype, format uri-reference): a bundle, scope or plan
 * file name with a space, '#', '%' or a non-ASCII byte is percent-encoded.
 * Written as given, `-o "case 1.json"` or a bundle named "my case.tar.gz"
 * made results that failed the OSCAL schema.  Twin: a plain name is kept. */
DEFINE_TEST(test_oscal_hrefs_are_uri_references)
{
	static const char *const doc_text = "{\"bundle\":{\"sha256\":"
	    "\"0000000000000000000000000000000000000000000000000000000000000000\","
	    "\"finished\":\"2026-12-04T10:00:00Z\"},\"scope\":{\"file\":\"s.yaml\",\"sha256\":"
	    "\"1111111111111111111111111111111111111111111111111111111111111111\"},\"agents\":[]}";
	cJSON *doc = cJSON_Parse(doc_text);
	struct kc_recert_oscal_in in;
	struct kc_buf ar = KC_BUF_INIT(1 << 22), ap = KC_BUF_INIT(1 << 22);

	CHECK(doc != NULL);
	memset(&in, 0, sizeof(in));
	in.doc = doc;
	in.bundle_href = "my case #1 100%.tar.gz";
	in.scope_href = "scope\xc3\xa9.yaml";
	in.plan_href = "out dir/r-plan.json";
	CHECK_INT(kc_recert_oscal(&in, &ar, &ap), 0);
	CHECK(strstr(kc_buf_str(&ar), "\"my%20case%20%231%20100%25.tar.gz\"") != NULL);
	CHECK(strstr(kc_buf_str(&ar), "scope%C3%A9.yaml") != NULL);
	CHECK(strstr(kc_buf_str(&ar), "out%20dir/r-plan.json") != NULL);
	CHECK(strstr(kc_buf_str(&ar), "my case") == NULL);
	CHECK(strstr(kc_buf_str(&ap), "my case") == NULL);
	/* twin */
	kc_buf_reset(&ar);
	kc_buf_reset(&ap);
	in.bundle_href = "case-1_v2.tar.gz";
	in.scope_href = "s.yaml";
	in.plan_href = "../r-plan.json";
	CHECK_INT(kc_recert_oscal(&in, &ar, &ap), 0);
	CHECK(strstr(kc_buf_str(&ar), "case-1_v2.tar.gz\"") != NULL);
	CHECK(strstr(kc_buf_str(&ar), "\"../r-plan.json\"") != NULL);
	kc_buf_free(&ar);
	kc_buf_free(&ap);
	cJSON_Delete(doc);
}

/* Two scope entries whose long names differ only at the end get different
 * UUIDs (the subject is hashed whole; it was cut at 600 bytes). */
DEFINE_TEST(test_oscal_long_names_distinct_uuids)
{
	char name_a[1200], name_b[1200];
	const char *text;
	cJSON *doc, *un, *e;
	struct kc_recert_oscal_in in;
	struct kc_buf ar = KC_BUF_INIT(1 << 22), ap = KC_BUF_INIT(1 << 22);
	cJSON *res, *obs;
	const char *u0, *u1;

	memset(name_a, 'n', 1100);
	memcpy(name_b, name_a, 1100);
	name_a[1099] = 'a';
	name_b[1099] = 'b';
	name_a[1100] = name_b[1100] = '\0';
	doc = cJSON_Parse("{\"bundle\":{\"sha256\":"
	    "\"0000000000000000000000000000000000000000000000000000000000000000\","
	    "\"finished\":\"2026-12-04T10:00:00Z\"},\"scope\":{\"file\":\"s.yaml\",\"sha256\":"
	    "\"1111111111111111111111111111111111111111111111111111111111111111\"},\"agents\":[]}");
	CHECK(doc != NULL);
	un = cJSON_AddArrayToObject(doc, "scopeEntriesWithoutAgent");
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", name_a);
	cJSON_AddNumberToObject(e, "line", 4);
	cJSON_AddItemToArray(un, e);
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", name_b);
	cJSON_AddNumberToObject(e, "line", 9);
	cJSON_AddItemToArray(un, e);
	memset(&in, 0, sizeof(in));
	in.doc = doc;
	in.bundle_href = "b.tar.gz";
	in.scope_href = "s.yaml";
	in.plan_href = "p.json";
	CHECK_INT(kc_recert_oscal(&in, &ar, &ap), 0);
	text = kc_buf_str(&ar);
	res = cJSON_Parse(text);
	CHECK(res != NULL);
	obs = kc_json_get_mut(cJSON_GetArrayItem(kc_json_get_mut(kc_json_get_mut(res,
	    "assessment-results"), "results"), 0), "observations");
	CHECK_INT(cJSON_GetArraySize(obs), 2);
	u0 = kc_json_str(cJSON_GetArrayItem(obs, 0), "uuid");
	u1 = kc_json_str(cJSON_GetArrayItem(obs, 1), "uuid");
	CHECK(u0 != NULL && u1 != NULL && strcmp(u0, u1) != 0);
	cJSON_Delete(res);
	kc_buf_free(&ar);
	kc_buf_free(&ap);
	cJSON_Delete(doc);
}

