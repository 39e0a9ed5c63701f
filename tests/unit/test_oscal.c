#include <string.h>

#include <cjson/cJSON.h>

#include "formats/recert_oscal.h"
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
