#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "formats/yaml_out.h"
#include "harness.h"
#include "util/buf.h"

/* formats/yaml_out: what a YAML 1.1 or 1.2 loader would read as another
 * type is quoted; plain strings, numbers, booleans and null are plain; a
 * key is quoted by the same rule (PyYAML reads a plain key `on` as True). */

DEFINE_TEST(test_yaml_out_quotes_what_would_change_type)
{
	static const char *const quoted[] = {
		"", "1e5", "12345", "0x1F", ".5", "-1", "+1", "~", "null", "NULL", "true", "False", "yes", "No",
		"on", "OFF", "y", "n", "2026-03-02T11:00:00Z", "2026-03-02", ".inf", "-.nan", NULL,
	};
	cJSON *d = cJSON_CreateObject();
	struct kc_buf out = KC_BUF_INIT(1 << 20);
	char want[128];

	for (int i = 0; quoted[i] != NULL; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%02d", i);
		cJSON_AddStringToObject(d, k, quoted[i]);
	}
	cJSON_AddStringToObject(d, "plain", "ai-agents/kagent");
	cJSON_AddNumberToObject(d, "num", 42);
	cJSON_AddNumberToObject(d, "f", 1.5);
	cJSON_AddBoolToObject(d, "b", 1);
	cJSON_AddNullToObject(d, "z");
	cJSON_AddStringToObject(d, "on", "key");
	CHECK_INT(kc_yaml_from_json(d, &out), 0);
	for (int i = 0; quoted[i] != NULL; i++) {
		snprintf(want, sizeof(want), "\nk%02d: \"%s\"\n", i, quoted[i]);
		if (strstr(kc_buf_str(&out), want) == NULL)
			kc_test_fail(__FILE__, __LINE__, "not quoted: '%s' in\n%s", quoted[i], kc_buf_str(&out));
	}
	CHECK(strncmp(kc_buf_str(&out), "---\n", 4) == 0);
	CHECK(strstr(kc_buf_str(&out), "\nplain: ai-agents/kagent\n") != NULL);
	CHECK(strstr(kc_buf_str(&out), "\nnum: 42\n") != NULL);
	CHECK(strstr(kc_buf_str(&out), "\nf: 1.5\n") != NULL);
	CHECK(strstr(kc_buf_str(&out), "\nb: true\n") != NULL);
	CHECK(strstr(kc_buf_str(&out), "\n\"n\": ") == NULL);
	CHECK(strstr(kc_buf_str(&out), "\nz: null\n") != NULL);
	CHECK(strstr(kc_buf_str(&out), "\n\"on\": key\n") != NULL);
	kc_buf_free(&out);
	cJSON_Delete(d);
}

/* kc_yaml_kube_list: kubectl's List, items given apiVersion and kind first
 * (replacing the item's own), no "---"; an empty list is `items: []`. */
DEFINE_TEST(test_yaml_out_kube_list)
{
	cJSON *items = cJSON_Parse("[{\"metadata\":{\"name\":\"a\"},\"kind\":\"Wrong\",\"rules\":[]},"
	    "{\"metadata\":{\"name\":\"b\"}}]");
	cJSON *none = cJSON_CreateArray();
	struct kc_buf out = KC_BUF_INIT(1 << 20);

	CHECK_INT(kc_yaml_kube_list(items, "rbac.authorization.k8s.io/v1", "Role", &out), 0);
	CHECK_STR(kc_buf_str(&out), "apiVersion: v1\nitems:\n"
	    "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: Role\n  metadata:\n    name: a\n  rules: []\n"
	    "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: Role\n  metadata:\n    name: b\n"
	    "kind: List\nmetadata:\n  resourceVersion: \"\"\n");
	kc_buf_reset(&out);
	CHECK_INT(kc_yaml_kube_list(none, "v1", "Pod", &out), 0);
	CHECK_STR(kc_buf_str(&out), "apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n");
	/* the buffer's cap is an error, not a cut document */
	{
		struct kc_buf small = KC_BUF_INIT(40);

		CHECK(kc_yaml_kube_list(items, "v1", "Pod", &small) != 0);
		kc_buf_free(&small);
	}
	kc_buf_free(&out);
	cJSON_Delete(items);
	cJSON_Delete(none);
}

/* YAML 1.1's merge key "<<" and value key "=" are types too: PyYAML
 * (SafeLoader) refuses a plain `<<` or `=` ("could not determine a
 * constructor for the tag ...merge/value"), so a label, annotation or
 * resourceName holding one made an export no YAML 1.1 reader could load. */
DEFINE_TEST(test_yaml_out_quotes_merge_and_value_keys)
{
	cJSON *items = cJSON_Parse("[{\"metadata\":{\"name\":\"<<\",\"labels\":{\"<<\":\"=\",\"=\":\"<<\"}}}]");
	struct kc_buf out = KC_BUF_INIT(1 << 20);

	CHECK_INT(kc_yaml_kube_list(items, "v1", "Pod", &out), 0);
	CHECK(strstr(kc_buf_str(&out), "\n    name: \"<<\"\n") != NULL);
	CHECK(strstr(kc_buf_str(&out), "\n      \"<<\": \"=\"\n") != NULL);
	CHECK(strstr(kc_buf_str(&out), "\n      \"=\": \"<<\"\n") != NULL);
	/* twin: a longer string that only starts so stays plain */
	kc_buf_reset(&out);
	cJSON_Delete(items);
	items = cJSON_Parse("[{\"metadata\":{\"name\":\"<<x\",\"uid\":\"=y\"}}]");
	CHECK_INT(kc_yaml_kube_list(items, "v1", "Pod", &out), 0);
	CHECK(strstr(kc_buf_str(&out), "\n    name: <<x\n") != NULL);
	CHECK(strstr(kc_buf_str(&out), "\n    uid: =y\n") != NULL);
	kc_buf_free(&out);
	cJSON_Delete(items);
}

/* A string that is not UTF-8 (a hostile server's label: cJSON keeps the
 * bytes, libyaml's emitter refuses them) is written as kubectl would show
 * it, each invalid byte as U+FFFD (Go's decoder), not an "out of memory"
 * that ended the whole collection; valid text around it is kept. */
DEFINE_TEST(test_yaml_out_invalid_utf8_is_replaced)
{
	cJSON *items = cJSON_Parse("[{\"metadata\":{\"name\":\"a\xff" "b\",\"labels\":{\"k\xc0\x80\":\"\xc3\xa9\"}}}]");
	struct kc_buf out = KC_BUF_INIT(1 << 20);

	CHECK(items != NULL);
	CHECK_INT(kc_yaml_kube_list(items, "v1", "Pod", &out), 0);
	CHECK(strstr(kc_buf_str(&out), "\n    name: a\xef\xbf\xbd" "b\n") != NULL);
	CHECK(strstr(kc_buf_str(&out), "\n      k\xef\xbf\xbd\xef\xbf\xbd: \xc3\xa9\n") != NULL);
	kc_buf_free(&out);
	cJSON_Delete(items);
}
