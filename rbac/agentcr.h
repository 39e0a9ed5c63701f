/* agentcr.h - agents defined by a custom resource, linked to the service
 * account they run as (issue 13 item 2: an agent is what the runtime says
 * it is, not only a name that matches a regex).
 *
 * kagent (group kagent.dev, kind Agent, v1alpha1/v1alpha2, the objects
 * collect stores under custom/kagent.dev/agents/): the controller runs an
 * Agent as a Deployment named after it, under
 *   1. spec.declarative.deployment.serviceAccountName, or
 *      spec.byo.deployment.serviceAccountName, when given (an existing
 *      account: the controller creates none);
 *   2. else an account named after the Agent, which the controller
 *      creates (unless the controller was started with a global default
 *      account name, which is not in the Agent object);
 * (kagent-dev/kagent go/core/internal/controller/translator/agent/
 * deployments.go, resolveInlineDeployment / resolveByoDeployment, up to
 * v0.9.x; the deployment-backed controller was removed after v0.9 in
 * favour of SandboxAgent, commit ae5a948, and the pinned CRDs keep the
 * fields).  What the cluster actually runs decides over what the object
 * declares: a Deployment in the Agent's namespace whose ownerReference is
 * that Agent (kind Agent, group kagent.dev, the name, and the uid when both
 * have one) gives the account its pod template runs as.
 *
 * A link whose account is not in the snapshot is kept with exists = 0:
 * reported as "service account not found", never used to select or label
 * an account.
 */
#ifndef KC_RBAC_AGENTCR_H
#define KC_RBAC_AGENTCR_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "collector/snapshot.h"

struct kc_agent_link {
	const char *group, *kind;	/* "kagent.dev", "Agent" (static) */
	char *ns, *name;		/* the custom resource */
	char *sa_ns, *sa_name;		/* the account it runs as */
	char *via;			/* how the account was found (text) */
	int exists;			/* the ServiceAccount is in the snapshot */
};

struct kc_agent_links {
	struct kc_agent_link *v;
	size_t n, cap;
	int collected;			/* the Agent list was collected */
};

/* Every Agent of snap, sorted by namespace and name.  0 or KC_ERR_NOMEM. */
int kc_agent_links_load(const struct kc_snapshot *snap, struct kc_agent_links *out);
void kc_agent_links_free(struct kc_agent_links *l);
/* The links of the Agents of namespace ns (*n of them, may be 0): a
 * binary search of the sorted links.  An Agent runs as an account of its
 * own namespace, so an account's links are among its namespace's. */
const struct kc_agent_link *kc_agent_links_in_ns(const struct kc_agent_links *l, const char *ns, size_t *n);

/* "agent kagent.dev/Agent NS/NAME" into buf (cut when longer). */
void kc_agent_link_text(const struct kc_agent_link *l, char *buf, size_t size);

/* The links whose account NS/NAME exists: a new array of
 * {"group","kind","namespace","name","via","text"} (possibly empty), or
 * NULL when out of memory. */
cJSON *kc_agent_links_for_sa(const struct kc_agent_links *l, const char *ns, const char *name);

/* Every link: {"group","kind","namespace","name","serviceAccount":
 * {"namespace","name"},"serviceAccountExists","via","text"}, the text of a
 * missing account saying so.  NULL when out of memory. */
cJSON *kc_agent_links_json(const struct kc_agent_links *l);

/* Add "agentResources" (kc_agent_links_for_sa) to who, an object with
 * "namespace" and "name" of an account, when it has one or more links.
 * 0 or KC_ERR_NOMEM. */
int kc_agent_links_annotate(const struct kc_agent_links *l, cJSON *who);

#endif
