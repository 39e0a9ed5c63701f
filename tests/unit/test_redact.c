#include <string.h>

#include <cjson/cJSON.h>

#include "collector/redact.h"
#include "harness.h"

/* collector/redact: kubectl apply's last-applied annotation (which carries
 * the object's values) is replaced in every member a hostile server could
 * repeat, at every level: "items", an item's "metadata", its
 * "annotations", the annotation itself.  Every repeated annotation key was
 * replaced, but only in the last "items", "metadata" and "annotations"
 * (kc_json_get, the one readers see): an earlier one kept its copy in the
 * stored page, and in the YAML export made from it. */
DEFINE_TEST(test_redact_last_applied_every_repeated_member)
{
	static const char *const doc_text =
	    "{\"items\":[{\"metadata\":{\"name\":\"a\",\"annotations\":{"
	    "\"kubectl.kubernetes.io/last-applied-configuration\":\"CANARY-1\"}},"
	    "\"metadata\":{\"name\":\"a\",\"annotations\":{\"x\":\"1\"},\"annotations\":{"
	    "\"kubectl.kubernetes.io/last-applied-configuration\":\"CANARY-2\","
	    "\"kubectl.kubernetes.io/last-applied-configuration\":\"CANARY-3\"}}}],"
	    "\"items\":[{\"metadata\":{\"annotations\":{"
	    "\"kubectl.kubernetes.io/last-applied-configuration\":\"CANARY-4\",\"keep\":\"plain\"}}}]}";
	cJSON *doc = cJSON_Parse(doc_text);
	char *out;

	CHECK(doc != NULL);
	CHECK_INT(kc_redact_last_applied(doc), 4);
	out = cJSON_PrintUnformatted(doc);
	CHECK(out != NULL && strstr(out, "CANARY") == NULL);
	CHECK(out != NULL && strstr(out, "\"kcustody.redacted sha256=") != NULL);
	/* twin: other annotations and names are kept as they are */
	CHECK(out != NULL && strstr(out, "\"keep\":\"plain\"") != NULL);
	CHECK(out != NULL && strstr(out, "\"x\":\"1\"") != NULL);
	cJSON_free(out);
	cJSON_Delete(doc);
}
