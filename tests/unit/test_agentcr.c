#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "collector/snapshot.h"
#include "harness.h"
#include "rbac/agentcr.h"
#include "rbac/select.h"
#include "util/json.h"

/* rbac/agentcr: which account a kagent Agent runs as, on an in-memory
 * snapshot (single quotes stand for double quotes). */

static cJSON *
parse_q(const char *s)
{
	char buf[8192];
	size_t n = strlen(s);

	if (n >= sizeof(buf))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		buf[i] = s[i] == '\'' ? '"' : s[i];
	return cJSON_Parse(buf);
}

static void
snap_of(struct kc_snapshot *snap, const char *sas, const char *agents, const char *deps)
{
	memset(snap, 0, sizeof(*snap));
	snap->items[KC_RES_SERVICEACCOUNTS] = parse_q(sas);
	snap->items[KC_RES_DEPLOYMENTS] = parse_q(deps);
	snap->agent_crs = parse_q(agents);
	snap->agent_crs_present = 1;
	CHECK(snap->items[KC_RES_SERVICEACCOUNTS] != NULL && snap->items[KC_RES_DEPLOYMENTS] != NULL &&
	    snap->agent_crs != NULL);
}

#define SAO(name) "{'metadata':{'namespace':'ns','name':'" name "'}}"
#define AGENT(name, uid, spec) "{'apiVersion':'kagent.dev/v1alpha2','kind':'Agent','metadata':{'namespace':'ns'," \
	"'name':'" name "','uid':'" uid "'},'spec':" spec "}"

static const struct kc_agent_link *
link_of(const struct kc_agent_links *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

DEFINE_TEST(test_agentcr_links)
{
	struct kc_snapshot snap;
	struct kc_agent_links l;
	const struct kc_agent_link *x;
	char text[256];
	cJSON *arr;

	snap_of(&snap, "[" SAO("svc-runner") "," SAO("byo-sa") "," SAO("plain") "," SAO("declared") ","
	    SAO("runtime") "," SAO("other-uid") "]",
	    "[" AGENT("decl", "u1", "{'declarative':{'deployment':{'serviceAccountName':'svc-runner'}}}") ","
	    AGENT("byo", "u2", "{'byo':{'deployment':{'serviceAccountName':'byo-sa'}}}") ","
	    AGENT("plain", "u3", "{'declarative':{}}") ","
	    AGENT("ghost", "u4", "{'declarative':{'deployment':{'serviceAccountName':'missing'}}}") ","
	    AGENT("owned", "u5", "{'declarative':{'deployment':{'serviceAccountName':'declared'}}}") ","
	    AGENT("stale", "u6", "{'declarative':{'deployment':{'serviceAccountName':'declared'}}}") ","
	    "{'apiVersion':'other.dev/v1','kind':'Agent','metadata':{'namespace':'ns','name':'foreign'},"
	    "'spec':{'declarative':{'deployment':{'serviceAccountName':'plain'}}}}]",
	    "[{'metadata':{'namespace':'ns','name':'owned','ownerReferences':[{'apiVersion':'kagent.dev/v1alpha2',"
	    "'kind':'Agent','name':'owned','uid':'u5','controller':true}]},"
	    "'spec':{'template':{'spec':{'serviceAccountName':'runtime'}}}},"
	    "{'metadata':{'namespace':'ns','name':'stale','ownerReferences':[{'apiVersion':'kagent.dev/v1alpha2',"
	    "'kind':'Agent','name':'stale','uid':'not-u6'}]},"
	    "'spec':{'template':{'spec':{'serviceAccountName':'other-uid'}}}},"
	    /* another Deployment claiming to be owned's: the one named after the Agent wins */
	    "{'metadata':{'namespace':'ns','name':'rogue','ownerReferences':[{'apiVersion':'kagent.dev/v1alpha2',"
	    "'kind':'Agent','name':'owned','uid':'u5','controller':true}]},"
	    "'spec':{'template':{'spec':{'serviceAccountName':'other-uid'}}}},"
	    /* an owner that is not the controller is not the Agent's runtime */
	    "{'metadata':{'namespace':'ns','name':'plain-x','ownerReferences':[{'apiVersion':'kagent.dev/v1alpha2',"
	    "'kind':'Agent','name':'plain','uid':'u3'}]},"
	    "'spec':{'template':{'spec':{'serviceAccountName':'other-uid'}}}}]");
	CHECK_INT(kc_agent_links_load(&snap, &l), 0);
	CHECK_INT((int)l.n, 6);	/* the other group's Agent is not kagent's */
	CHECK(link_of(&l, "foreign") == NULL);
	CHECK((x = link_of(&l, "decl")) != NULL && strcmp(x->sa_name, "svc-runner") == 0 && x->exists &&
	    strcmp(x->via, "spec.declarative.deployment.serviceAccountName") == 0);
	CHECK((x = link_of(&l, "byo")) != NULL && strcmp(x->sa_name, "byo-sa") == 0 && x->exists &&
	    strcmp(x->via, "spec.byo.deployment.serviceAccountName") == 0);
	/* no serviceAccountName: the account named after the Agent */
	CHECK((x = link_of(&l, "plain")) != NULL && strcmp(x->sa_name, "plain") == 0 && x->exists);
	/* a named account that does not exist: kept, not existing */
	CHECK((x = link_of(&l, "ghost")) != NULL && strcmp(x->sa_name, "missing") == 0 && !x->exists);
	/* the owned Deployment's account decides */
	CHECK((x = link_of(&l, "owned")) != NULL && strcmp(x->sa_name, "runtime") == 0 &&
	    strstr(x->via, "Deployment ns/owned") != NULL && strstr(x->via, "names another") != NULL);
	/* a Deployment owned by another object of that name (uid differs): not it */
	CHECK((x = link_of(&l, "stale")) != NULL && strcmp(x->sa_name, "declared") == 0);
	kc_agent_link_text(link_of(&l, "decl"), text, sizeof(text));
	CHECK_STR(text, "agent kagent.dev/Agent ns/decl");
	/* for_sa: only existing links; none for an unlinked or missing account */
	CHECK((arr = kc_agent_links_for_sa(&l, "ns", "svc-runner")) != NULL && cJSON_GetArraySize(arr) == 1);
	CHECK_STR(kc_json_str0(cJSON_GetArrayItem(arr, 0), "text"), "agent kagent.dev/Agent ns/decl");
	cJSON_Delete(arr);
	CHECK((arr = kc_agent_links_for_sa(&l, "ns", "missing")) != NULL && cJSON_GetArraySize(arr) == 0);
	cJSON_Delete(arr);
	CHECK((arr = kc_agent_links_for_sa(&l, "ns", "other-uid")) != NULL && cJSON_GetArraySize(arr) == 0);
	cJSON_Delete(arr);
	/* every link: the missing one says so */
	CHECK((arr = kc_agent_links_json(&l)) != NULL);
	{
		const cJSON *it, *g = NULL;

		cJSON_ArrayForEach(it, arr)
			if (strcmp(kc_json_str0(it, "name"), "ghost") == 0)
				g = it;
		CHECK(g != NULL && cJSON_IsFalse(kc_json_get(g, "serviceAccountExists")) &&
		    strstr(kc_json_str0(g, "text"), "which does not exist") != NULL);
	}
	cJSON_Delete(arr);
	kc_agent_links_free(&l);
	kc_snapshot_free(&snap);
}

/* Selection: a linked account is an agent whatever its name and the
 * regex; a missing or unlinked one is not. */
DEFINE_TEST(test_agentcr_selection)
{
	struct kc_snapshot snap;
	struct kc_select_opts o;
	struct kc_selection s;

	snap_of(&snap, "[" SAO("svc-runner") "," SAO("bystander") "]",
	    "[" AGENT("decl", "u1", "{'declarative':{'deployment':{'serviceAccountName':'svc-runner'}}}") ","
	    AGENT("ghost", "u2", "{'declarative':{'deployment':{'serviceAccountName':'missing'}}}") "]", "[]");
	memset(&o, 0, sizeof(o));
	o.agents = "nomatch";
	CHECK_INT(kc_select(&snap, &o, &s), 0);
	CHECK_INT((int)s.n, 1);
	CHECK(s.n == 1 && strcmp(s.v[0].name, "svc-runner") == 0 && s.v[0].nreasons == 1 &&
	    strcmp(s.v[0].reasons[0], "runs agent kagent.dev/Agent ns/decl "
	    "(spec.declarative.deployment.serviceAccountName)") == 0);
	kc_selection_free(&s);
	/* twin: without the Agent list nothing is selected */
	cJSON_Delete(snap.agent_crs);
	snap.agent_crs = cJSON_CreateArray();
	CHECK_INT(kc_select(&snap, &o, &s), 0);
	CHECK_INT((int)s.n, 0);
	kc_selection_free(&s);
	kc_snapshot_free(&snap);
}
