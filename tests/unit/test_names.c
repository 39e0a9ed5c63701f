/* test_names.c - names from the server as path components (collector/names.h)
 * and the staging writer's path gate (kc_collect_add_file). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "collector/collect.h"
#include "collector/names.h"
#include "util/err.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha256.h"

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memset(s, c, n);
		s[n] = '\0';
	}
	return s;
}

/* "_invalid-" and the first 16 hex digits of SHA-256 of s */
static void
hashed(const char *s, char out[32])
{
	char hex[KC_SHA256_HEX];

	kc_sha256_hex(s, strlen(s), hex);
	snprintf(out, 32, "_invalid-%.16s", hex);
}

DEFINE_TEST(test_names_rules)
{
	char *s63 = repeat('a', 63), *s64 = repeat('a', 64), *s253 = repeat('b', 253),
	    *s254 = repeat('b', 254);

	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, "kube-system") == NULL);
	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, "a") == NULL);
	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, s63) == NULL);
	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, s64) != NULL);
	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, "") != NULL);
	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, NULL) != NULL);
	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, "..") != NULL);
	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, "a.b") != NULL);
	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, "Upper") != NULL);
	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, "-a") != NULL);
	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, "a-") != NULL);
	CHECK(kc_name_invalid(KC_NAME_NAMESPACE, "a\nb") != NULL);

	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, "kagent-bot") == NULL);
	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, "agent.v2-x") == NULL);
	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, s253) == NULL);
	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, s254) != NULL);
	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, "a/../../x") != NULL);
	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, "..") != NULL);
	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, "a..b") != NULL);
	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, ".a") != NULL);
	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, "a.") != NULL);
	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, "a.-b") != NULL);
	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, "bad\nname") != NULL);
	CHECK(kc_name_invalid(KC_NAME_SERVICEACCOUNT, "a_b") != NULL);

	/* path segment names: what the apiserver takes for RBAC objects */
	CHECK(kc_name_invalid(KC_NAME_RBAC, "system:controller:cronjob-controller") == NULL);
	CHECK(kc_name_invalid(KC_NAME_RBAC, "Any Thing_ok~") == NULL);
	CHECK(kc_name_invalid(KC_NAME_RBAC, "line\nbreak") == NULL);
	CHECK(kc_name_invalid(KC_NAME_RBAC, "...") == NULL);
	CHECK(kc_name_invalid(KC_NAME_RBAC, ".") != NULL);
	CHECK(kc_name_invalid(KC_NAME_RBAC, "..") != NULL);
	CHECK(kc_name_invalid(KC_NAME_RBAC, "a/b") != NULL);
	CHECK(kc_name_invalid(KC_NAME_RBAC, "a%2fb") != NULL);
	CHECK(kc_name_invalid(KC_NAME_RBAC, "") != NULL);
	free(s63);
	free(s64);
	free(s253);
	free(s254);
}

DEFINE_TEST(test_names_component)
{
	char c[KC_NAME_COMPONENT_SIZE], want[32];
	char *colons = repeat(':', 300), *xcolons = NULL, *s253 = repeat('b', 253);

	CHECK_INT(kc_name_component(KC_NAME_NAMESPACE, "kube-system", c), 0);
	CHECK_STR(c, "kube-system");
	CHECK_INT(kc_name_component(KC_NAME_SERVICEACCOUNT, "agent.v2", c), 0);
	CHECK_STR(c, "agent.v2");
	/* valid but not safe as a path component: encoded, reversibly */
	CHECK_INT(kc_name_component(KC_NAME_RBAC, "system:controller:x", c), 0);
	CHECK_STR(c, "system%3Acontroller%3Ax");
	CHECK_INT(kc_name_component(KC_NAME_RBAC, "a b\\c\n\xc3\xa9", c), 0);
	CHECK_STR(c, "a%20b%5Cc%0A%C3%A9");
	CHECK_INT(kc_name_component(KC_NAME_RBAC, "...", c), 0);
	CHECK_STR(c, "...");
	/* a leading '_' is encoded: "_invalid-" cannot be a valid name's form */
	CHECK_INT(kc_name_component(KC_NAME_RBAC, "_invalid-0123456789abcdef", c), 0);
	CHECK_STR(c, "%5Finvalid-0123456789abcdef");
	CHECK_INT(kc_name_component(KC_NAME_RBAC, "a_b", c), 0);
	CHECK_STR(c, "a_b");
	/* invalid for the kind: hashed, never the bytes */
	hashed("..", want);
	CHECK_INT(kc_name_component(KC_NAME_NAMESPACE, "..", c), 1);
	CHECK_STR(c, want);
	hashed("a/../../x", want);
	CHECK_INT(kc_name_component(KC_NAME_SERVICEACCOUNT, "a/../../x", c), 1);
	CHECK_STR(c, want);
	CHECK_INT(kc_name_component(KC_NAME_RBAC, "a/b", c), 1);
	CHECK(strncmp(c, "_invalid-", 9) == 0 && strlen(c) == 25);
	/* long valid names: shortened with '~' and the name's hash, never a partial %XX */
	CHECK_INT(kc_name_component(KC_NAME_SERVICEACCOUNT, s253, c), 0);
	CHECK_INT(strlen(c), KC_NAME_COMPONENT_MAX);
	CHECK_INT(c[183], '~');
	CHECK_INT(kc_name_component(KC_NAME_RBAC, colons, c), 0);
	CHECK_INT(strlen(c), KC_NAME_COMPONENT_MAX);
	CHECK_INT(c[183], '~');
	CHECK(strncmp(c, "%3A%3A", 6) == 0);
	if ((xcolons = malloc(302)) != NULL) {
		xcolons[0] = 'x';
		memcpy(xcolons + 1, colons, 301);
		CHECK_INT(kc_name_component(KC_NAME_RBAC, xcolons, c), 0);
		CHECK_INT(c[181], '~');
		CHECK_INT(strlen(c), 181 + 1 + 16);
	}
	for (const char *p = c; *p; p++)
		CHECK(*p != '/');
	free(colons);
	free(xcolons);
	free(s253);
}

DEFINE_TEST(test_names_sa_folder)
{
	char c[KC_NAME_COMPONENT_SIZE], want[32], full[64];
	char *ns63 = repeat('n', 63), *sa253 = repeat('s', 253);

	CHECK_INT(kc_name_sa_folder("agents", "kagent-bot", c), 0);
	CHECK_STR(c, "agents__kagent-bot");
	hashed("..", want);
	snprintf(full, sizeof(full), "%s__x", want);
	CHECK_INT(kc_name_sa_folder("..", "x", c), 1);
	CHECK_STR(c, full);
	CHECK_INT(kc_name_sa_folder("agents", "a/../../../x", c), 1);
	CHECK(strncmp(c, "agents___invalid-", 17) == 0 && strchr(c, '/') == NULL);
	/* both valid, together too long for one component */
	CHECK_INT(kc_name_sa_folder(ns63, sa253, c), 0);
	CHECK_INT(strlen(c), KC_NAME_COMPONENT_MAX);
	CHECK_INT(c[183], '~');
	CHECK(strncmp(c, ns63, 63) == 0 && strncmp(c + 63, "__", 2) == 0);
	free(ns63);
	free(sa253);
}

static int
collect_init(struct kc_collect *co)
{
	char cwd[4096];

	memset(co, 0, sizeof(*co));
	if (getcwd(cwd, sizeof(cwd)) == NULL || (co->staging = kc_strdup(cwd)) == NULL)
		return -1;
	co->manifest = cJSON_CreateObject();
	co->files = cJSON_AddArrayToObject(co->manifest, "files");
	return co->files != NULL ? 0 : -1;
}

static void
collect_done(struct kc_collect *co)
{
	cJSON_Delete(co->manifest);
	free(co->staging);
}

DEFINE_TEST(test_names_add_file_refuses)
{
	static const char *const bad[] = { "../escaped.json", "/tmp/kcustody-unit-abs.json", "a//b.json",
		"", "a/./b.json", "a/../b.json", "a/..", "x\\y.json", "new\nline.json", "sub/", NULL };
	struct kc_collect co;

	if (collect_init(&co) != 0) {
		CHECK(0);
		return;
	}
	for (size_t i = 0; bad[i] != NULL; i++) {
		CHECK_INT(kc_collect_add_file(&co, bad[i], "x", 1, "text/plain", 0, NULL), KC_ERR_INVALID);
		CHECK(strstr(kc_err_msg(), "not a relative bundle path") != NULL);
	}
	CHECK(access("../escaped.json", F_OK) != 0);
	CHECK(access("/tmp/kcustody-unit-abs.json", F_OK) != 0);
	CHECK(access("a", F_OK) != 0);
	CHECK_INT(cJSON_GetArraySize(co.files), 0);
	CHECK_INT(kc_collect_add_file(&co, "reviews/agents__kagent-bot/agents.json", "{}", 2,
	    "application/json", 0, NULL), 0);
	CHECK(access("reviews/agents__kagent-bot/agents.json", R_OK) == 0);
	CHECK_INT(cJSON_GetArraySize(co.files), 1);
	collect_done(&co);
}

DEFINE_TEST(test_names_anomaly_recorded_once)
{
	struct kc_collect co;
	cJSON *an, *a;
	char *long_ns = repeat('n', 300), want[32];

	if (collect_init(&co) != 0 || long_ns == NULL) {
		CHECK(0);
		free(long_ns);
		return;
	}
	enum kc_log_level level = kc_log_get_level();

	kc_log_set_level(KC_LOG_ERROR);	/* the warnings are expected */
	CHECK_INT(kc_collect_check_name(&co, KC_NAME_NAMESPACE, "agents"), 0);
	CHECK_INT(kc_collect_check_name(&co, KC_NAME_RBAC, "system:controller:x"), 0);
	CHECK(cJSON_GetObjectItemCaseSensitive(co.manifest, "anomalies") == NULL);
	CHECK_INT(co.partial, 0);
	CHECK_INT(kc_collect_check_name(&co, KC_NAME_SERVICEACCOUNT, "bad\nname"), 1);
	CHECK_INT(kc_collect_check_name(&co, KC_NAME_SERVICEACCOUNT, "bad\nname"), 1);
	CHECK_INT(kc_collect_check_name(&co, KC_NAME_NAMESPACE, "bad\nname"), 1);
	CHECK_INT(kc_collect_check_name(&co, KC_NAME_NAMESPACE, long_ns), 1);
	CHECK_INT(co.partial, 1);
	an = cJSON_GetObjectItemCaseSensitive(co.manifest, "anomalies");
	CHECK_INT(cJSON_GetArraySize(an), 3);
	a = cJSON_GetArrayItem(an, 0);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(a, "kind")->valuestring, "ServiceAccount");
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(a, "name")->valuestring, "bad\\x0aname");
	hashed("bad\nname", want);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(a, "stored_as")->valuestring, want);
	CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(a, "reason")));
	a = cJSON_GetArrayItem(an, 2);
	CHECK_INT(strlen(cJSON_GetObjectItemCaseSensitive(a, "name")->valuestring), 256);
	CHECK_INT(cJSON_GetObjectItemCaseSensitive(a, "name_bytes")->valuedouble, 300);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(a, "reason")->valuestring,
	    "longer than 63 bytes (DNS-1123 label)");
	kc_log_set_level(level);
	free(long_ns);
	collect_done(&co);
}
