/* The discovery model (collector/discovery.h) and what the analysis makes
 * of it (rbac/reach.h), on documents written here. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "collector/custom.h"
#include "collector/discovery.h"
#include "harness.h"
#include "rbac/reach.h"
#include "rbac/scope.h"
#include "util/mem.h"

struct mem { const char *const *kv; };	/* path, text, ..., NULL */

static char *
mem_get(void *ctx, const char *rel, size_t *len)
{
	const struct mem *m = ctx;

	for (size_t i = 0; m->kv[i] != NULL; i += 2)
		if (strcmp(m->kv[i], rel) == 0) {
			*len = strlen(m->kv[i + 1]);
			return kc_strdup(m->kv[i + 1]);
		}
	return NULL;
}

static const char *const docs[] = {
	"discovery/api.json", "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}",
	"discovery/apis.json", "{\"kind\":\"APIGroupList\",\"groups\":["
	    "{\"name\":\"apps\",\"versions\":[{\"version\":\"v1\"}]},"
	    "{\"name\":\"example.com\",\"versions\":[{\"version\":\"v1\"},{\"version\":\"v2\"}]},"
	    "{\"name\":\"metrics.k8s.io\",\"versions\":[{\"version\":\"v1beta1\"}]},"
	    "{\"name\":\"../x\",\"versions\":[{\"version\":\"v1\"}]}]}",
	"discovery/api/v1.json", "{\"resources\":["
	    "{\"name\":\"pods\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\",\"list\",\"create\"],\"shortNames\":[\"po\"]},"
	    "{\"name\":\"pods/log\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\"]},"
	    "{\"name\":\"nodes\",\"namespaced\":false,\"kind\":\"Node\",\"verbs\":[\"get\",\"list\"]},"
	    "{\"name\":\"bindings\",\"namespaced\":true,\"kind\":\"Binding\",\"verbs\":[\"create\"]}]}",
	"discovery/apis/apps/v1.json", "{\"resources\":["
	    "{\"name\":\"deployments\",\"namespaced\":true,\"kind\":\"Deployment\",\"verbs\":[\"get\",\"list\"]}]}",
	"discovery/apis/example.com/v1.json", "{\"resources\":["
	    "{\"name\":\"widgets\",\"namespaced\":false,\"kind\":\"Widget\",\"verbs\":[\"get\"]}]}",
	"discovery/apis/example.com/v2.json", "{\"resources\":["
	    "{\"name\":\"widgets\",\"namespaced\":false,\"kind\":\"Widget\",\"verbs\":[\"get\",\"list\"]},"
	    "{\"name\":\"gadgets\",\"namespaced\":true,\"kind\":\"Gadget\",\"verbs\":[\"get\"]}]}",
	/* metrics.k8s.io/v1beta1 missing: a failed document */
	NULL,
};

DEFINE_TEST(test_discovery_model)
{
	struct mem m = { docs };
	struct kc_discovery *d = NULL;
	const struct kc_disc_resource *e;

	CHECK_INT(kc_discovery_load(mem_get, &m, NULL, &d), 0);
	if (d == NULL)
		return;
	CHECK_INT(d->n, 6);	/* pods nodes bindings deployments widgets gadgets */
	CHECK((e = kc_discovery_find(d, "", "pods")) != NULL && e->namespaced && e->verbs.n == 3 &&
	    e->subresources.n == 1 && strcmp(e->subresources.v[0], "pods/log") == 0 && !e->custom);
	CHECK((e = kc_discovery_find(d, "example.com", "widgets")) != NULL && !e->namespaced && e->custom &&
	    e->verbs.n == 2 && strcmp(e->version, "v1") == 0);
	CHECK(kc_discovery_find(d, "", "secrets") == NULL);
	CHECK(kc_discovery_group_incomplete(d, "metrics.k8s.io"));
	CHECK(kc_discovery_group_incomplete(d, "../x"));	/* never read as a path */
	CHECK(!kc_discovery_group_incomplete(d, "apps"));
	CHECK(kc_discovery_find(d, "apps", "deployments") != NULL);
	kc_discovery_free(d);

	/* a document with a NUL in a string is not read (cJSON would take
	 * "deployments\u0000x" as deployments): its group is incomplete;
	 * the twin above, without the NUL, finds deployments */
	{
		const char *nul[sizeof(docs) / sizeof(docs[0])];
		struct mem n = { nul };

		memcpy(nul, docs, sizeof(docs));
		for (size_t i = 0; nul[i] != NULL; i += 2)
			if (strcmp(nul[i], "discovery/apis/apps/v1.json") == 0)
				nul[i + 1] = "{\"resources\":[{\"name\":\"deployments\\u0000x\",\"namespaced\":true,"
				    "\"kind\":\"Deployment\",\"verbs\":[\"get\",\"list\"]}]}";
		CHECK_INT(kc_discovery_load(mem_get, &n, NULL, &d), 0);
		CHECK(d != NULL && kc_discovery_find(d, "apps", "deployments") == NULL);
		CHECK(d != NULL && kc_discovery_group_incomplete(d, "apps"));
		CHECK(d != NULL && kc_discovery_find(d, "", "pods") != NULL);
		kc_discovery_free(d);
	}
	/* a bundle without discovery: NULL, no error */
	{
		static const char *const none[] = { NULL };
		struct mem n = { none };

		d = (struct kc_discovery *)1;
		CHECK_INT(kc_discovery_load(mem_get, &n, NULL, &d), 0);
		CHECK(d == NULL);
	}
}

DEFINE_TEST(test_discovery_crds_decide_custom)
{
	struct mem m = { docs };
	struct kc_discovery *d = NULL;
	cJSON *crds = cJSON_Parse("[{\"spec\":{\"group\":\"example.com\",\"names\":{\"plural\":\"gadgets\"}}}]");

	CHECK_INT(kc_discovery_load(mem_get, &m, crds, &d), 0);
	CHECK(d != NULL && kc_discovery_find(d, "example.com", "gadgets")->custom);
	CHECK(d != NULL && !kc_discovery_find(d, "example.com", "widgets")->custom);	/* no CRD: aggregated */
	kc_discovery_free(d);
	cJSON_Delete(crds);
	CHECK(!kc_discovery_custom_group("storage.k8s.io"));
	CHECK(!kc_discovery_custom_group("batch"));
	CHECK(kc_discovery_custom_group("kagent.dev"));
}

DEFINE_TEST(test_discovery_reach_and_scope)
{
	struct mem m = { docs };
	struct kc_discovery *d = NULL;
	const char *star[] = { "*" }, *get[] = { "get" }, *apps[] = { "apps" }, *core[] = { "" };
	struct kc_rbac_rule r;
	cJSON *reach;

	CHECK_INT(kc_discovery_load(mem_get, &m, NULL, &d), 0);
	memset(&r, 0, sizeof(r));
	r.verbs.v = get; r.verbs.n = 1;
	r.groups.v = star; r.groups.n = 1;
	r.resources.v = star; r.resources.n = 1;
	CHECK(kc_rbac_wildcard_reach(&r, 0) == NULL);	/* nothing installed */
	CHECK(kc_rbac_served("", "secretz") == -1);
	kc_rbac_discovery_use(d);
	/* scope: the documents' own answer, built-ins kept for the rest */
	CHECK(kc_rbac_cluster_scoped("example.com", "widgets"));
	CHECK(kc_rbac_cluster_scoped("", "nodes"));
	CHECK(kc_rbac_cluster_scoped("", "users"));			/* pseudo-resource, built-in */
	CHECK(kc_rbac_cluster_scoped("apiextensions.k8s.io", "customresourcedefinitions"));	/* not listed */
	CHECK(!kc_rbac_cluster_scoped("example.com", "gadgets"));
	/* get on everything: bindings (create only) is not reached */
	reach = kc_rbac_wildcard_reach(&r, 0);
	CHECK(reach != NULL && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(reach, "resources")) == 5);
	CHECK(reach != NULL && strcmp(cJSON_GetObjectItemCaseSensitive(reach, "text")->valuestring,
	    "reaches 5 resource types in 3 groups, including 2 custom resources (gadgets.example.com, "
	    "widgets.example.com)") == 0);
	cJSON_Delete(reach);
	/* through a RoleBinding: namespaced only */
	reach = kc_rbac_wildcard_reach(&r, 1);
	CHECK(reach != NULL && cJSON_GetObjectItemCaseSensitive(reach, "resourceTypes")->valueint == 3);
	cJSON_Delete(reach);
	/* no wildcard: no reach; a wildcard group with a named resource */
	r.groups.v = apps;
	r.resources.v = star;
	reach = kc_rbac_wildcard_reach(&r, 0);
	CHECK(reach != NULL && cJSON_GetObjectItemCaseSensitive(reach, "resourceTypes")->valueint == 1);
	cJSON_Delete(reach);
	{
		const char *pods[] = { "pods" };

		r.groups.v = core;
		r.resources.v = pods;
		CHECK(kc_rbac_wildcard_reach(&r, 0) == NULL);
	}
	CHECK_INT(kc_rbac_served("", "pods"), 1);
	CHECK_INT(kc_rbac_served("", "pods/log"), 1);
	CHECK_INT(kc_rbac_served("", "pods/logz"), 0);
	CHECK_INT(kc_rbac_served("", "secretz"), 0);
	CHECK_INT(kc_rbac_served("metrics.k8s.io", "pods"), -1);	/* its document failed */
	kc_rbac_discovery_use(NULL);
	CHECK(!kc_rbac_cluster_scoped("example.com", "widgets"));	/* built-in again */
	CHECK(kc_rbac_wildcard_reach(&r, 0) == NULL);
	kc_discovery_free(d);
}

/* The credential rule of docs/COLLECT.md, value by value. */
DEFINE_TEST(test_custom_redact_rule)
{
	cJSON *o = cJSON_Parse("{\"metadata\":{\"name\":\"my-token-config\",\"annotations\":{"
	    "\"kubectl.kubernetes.io/last-applied-configuration\":\"{...}\",\"note\":\"plain\"}},"
	    "\"spec\":{\"apiKey\":\"abc\",\"apiKeySecret\":\"kagent-openai\",\"clientSecret\":\"3f9a0b1c2d3e4f5a6b7c\","
	    "\"apiKeySecretKey\":\"OPENAI_API_KEY\",\"apiKeySecretRef\":{\"name\":\"s\",\"key\":\"k\"},"
	    "\"credentials\":{\"user\":\"u\",\"tokenPath\":\"/var/run/t\"},"
	    "\"env\":[{\"name\":\"OPENAI_API_KEY\",\"value\":\"v1\"},{\"name\":\"LOG_LEVEL\",\"value\":\"debug\"},"
	    "{\"name\":\"X\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"a\",\"key\":\"b\"}}}],"
	    "\"args\":[\"--key\",\"sk-0123456789abcdefghij\"],\"model\":\"gpt\"}}");
	const cJSON *spec;

	CHECK(o != NULL);
	if (o == NULL)
		return;
	CHECK_INT(kc_custom_redact(o), 6);
	spec = cJSON_GetObjectItemCaseSensitive(o, "spec");
#define O(p, k) cJSON_GetObjectItemCaseSensitive(p, k)
#define S(p, k) O(p, k)->valuestring
	CHECK(strncmp(S(spec, "apiKey"), "sha256:", 7) == 0 && strlen(S(spec, "apiKey")) == 71);
	CHECK(strcmp(S(spec, "apiKeySecret"), "kagent-openai") == 0);		/* a Secret's name */
	CHECK(strncmp(S(spec, "clientSecret"), "sha256:", 7) == 0);		/* a value */
	CHECK(strcmp(S(spec, "apiKeySecretKey"), "OPENAI_API_KEY") == 0);
	CHECK(strcmp(S(O(spec, "apiKeySecretRef"), "name"), "s") == 0);
	CHECK(strncmp(S(O(spec, "credentials"), "user"), "sha256:", 7) == 0);	/* under a credential */
	CHECK(strcmp(S(O(spec, "credentials"), "tokenPath"), "/var/run/t") == 0);
	CHECK(strncmp(S(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec, "env"), 0),
	    "value"), "sha256:", 7) == 0);
	CHECK(strcmp(S(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec, "env"), 1), "value"), "debug") == 0);
	CHECK(strncmp(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec, "args"), 1)->valuestring, "sha256:", 7) == 0);
	CHECK(strcmp(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec, "args"), 0)->valuestring, "--key") == 0);
	CHECK(strcmp(S(spec, "model"), "gpt") == 0);
	CHECK(strcmp(S(O(o, "metadata"), "name"), "my-token-config") == 0);
	CHECK(strcmp(S(O(O(o, "metadata"), "annotations"), "note"), "plain") == 0);
#undef S
#undef O
	/* idempotent: a second pass hashes nothing again */
	CHECK_INT(kc_custom_redact(o), 0);
	cJSON_Delete(o);
	CHECK(kc_custom_resource_ok("kagent.dev/agents"));
	CHECK(kc_custom_resource_ok("/pods"));
	CHECK(!kc_custom_resource_ok("kagent.dev"));
	CHECK(!kc_custom_resource_ok("Kagent.dev/agents"));
	CHECK(!kc_custom_resource_ok("a/b/c"));
	CHECK(!kc_custom_resource_ok("../x/agents"));
}
