/* test_podlogs.c - the pure parts of pod-log collection: which log lines
 * carry a credential (collector/redact.h) and which report a refused
 * request (rbac/logauthz.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "collector/redact.h"
#include "rbac/logauthz.h"
#include "util/json.h"

static int
cred(const char *s)
{
	return kc_redact_line_has_credential(s, strlen(s));
}

static unsigned
authz(const char *s)
{
	return kc_logauthz_match(s, strlen(s));
}

DEFINE_TEST(test_podlogs_credential_lines)
{
	CHECK(cred("calling model with key sk-live-0123456789abcdef0123 now"));
	CHECK(cred("OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstu"));
	CHECK(cred("header Authorization: Bearer abcdef.ghijkl"));
	CHECK(cred("aws AKIAABCDEFGHIJKLMNOP used"));
	CHECK(cred("{\"token\":\"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\"}"));
	CHECK(cred("-----BEGIN RSA PRIVATE KEY-----"));
	/* negative twins: too short, inside a word, no credential */
	CHECK(!cred("sk-short"));
	CHECK(!cred("task-sk-live-0123456789abcdef0123"));
	CHECK(!cred("GET /api/v1/namespaces/lg-a/secrets -> 403"));
	CHECK(!cred("Bearer"));
	CHECK(!cred("-----BEGIN CERTIFICATE-----"));
	CHECK(!cred(""));
	/* the shape rule itself, as custom resources use it (whole values) */
	CHECK(kc_redact_credential_shape("ghp_abcdefghijklmnopqrst", 24));
	CHECK(!kc_redact_credential_shape("ghp_abcdefghijklmnopqrst", 10));
}

DEFINE_TEST(test_podlogs_authz_patterns)
{
	CHECK(authz("GET /api/v1/secrets -> 403") == 1u);
	CHECK(authz("HTTP 403: Forbidden") == 3u);
	CHECK(authz("secrets is forbidden: User x cannot list") == 4u);
	CHECK(authz("upstream: RBAC: access denied") == 8u);
	CHECK(authz("cannot get resource \"pods/exec\"") == 16u);
	/* negative twins: 403 inside a number or a word, lower-case "forbidden",
	 * a redaction marker whose hash holds 403 */
	CHECK(authz("processed 14035 items in 4030ms") == 0);
	CHECK(authz("id a403b") == 0);
	CHECK(authz("this is forbidden") == 0);
	CHECK(authz("{\"kcustody.redacted\":{\"sha256\":\"00403 Forbidden\"}}") == 0);
	CHECK(authz("") == 0);
}

/* a bundle of two members for kc_logauthz_summary */
static const char *idx_doc;

static char *
get(void *ctx, const char *rel, size_t *len)
{
	const char *body = NULL;
	char *out;

	(void)ctx;
	if (strcmp(rel, "logs/index.json") == 0)
		body = idx_doc;
	else if (strcmp(rel, "logs/a/p/c.log") == 0)
		body = "2026-01-01T00:00:00.403 ok\n2026-01-01T00:00:01Z GET x -> 403\n";
	if (body == NULL)
		return NULL;
	*len = strlen(body);
	out = malloc(*len + 1);
	if (out != NULL)
		memcpy(out, body, *len + 1);
	return out;
}

static double
matching(const char *doc)
{
	cJSON *s;
	const cJSON *m;
	double n = -1;

	idx_doc = doc;
	if ((s = kc_logauthz_summary(get, NULL)) == NULL)
		return -2;
	m = cJSON_GetArrayItem(kc_json_get(s, "agents"), 0);
	if (cJSON_IsNumber(kc_json_get(m, "matching_lines")))
		n = kc_json_get(m, "matching_lines")->valuedouble;
	cJSON_Delete(s);
	return n;
}

DEFINE_TEST(test_podlogs_summary_timestamps)
{
	static const char cap[] = "\"captures\":[{\"sa\":\"a/s\",\"namespace\":\"a\",\"pod\":\"p\","
	    "\"container\":\"c\",\"previous\":false,\"status\":\"complete\",\"path\":\"logs/a/p/c.log\"}]}";
	char with[512], without[512];

	snprintf(with, sizeof(with), "{\"timestamps\":true,%s", cap);
	snprintf(without, sizeof(without), "{%s", cap);
	/* the timestamp's ".403" is not a refusal when the index says the
	 * lines carry timestamps; without it, it is read as one */
	CHECK(matching(with) == 1);
	CHECK(matching(without) == 2);
	/* no index: an error, not an empty summary */
	CHECK(matching(NULL) == -2);
}
