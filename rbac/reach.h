/* reach.h - what a rule reaches on this cluster, from its discovery
 * documents (collector/discovery.h).
 *
 * The analysis answers for one snapshot at a time, and the scope table of
 * rbac/scope.h is process-wide.  kc_rbac_init() installs its snapshot's
 * discovery (kc_rbac_discovery_use): the cluster-scoped resources become
 * the ones the cluster's own documents mark `namespaced: false`, plus the
 * built-in table's entries for groups the documents do not cover
 * completely (a group-version that failed, or a group not listed at all,
 * keeps the built-in answer).  A snapshot without discovery installs the
 * built-in table, exactly as before.  A caller that holds two analyses at
 * once (diff: PRE and POST) switches with kc_rbac_discovery_use() before
 * each side's work.  Not thread-safe.
 */
#ifndef KC_RBAC_REACH_H
#define KC_RBAC_REACH_H

#include <cjson/cJSON.h>

#include "collector/discovery.h"
#include "rbac/eval.h"

/* Install d (borrowed; NULL: the built-in tables). */
void kc_rbac_discovery_use(const struct kc_discovery *d);
/* The discovery installed, or NULL. */
const struct kc_discovery *kc_rbac_discovery(void);

/* With discovery installed, a rule with a wildcard in resources ("*") or
 * apiGroups ("*"): the served resources it matches (verbs: a resource
 * counts when it lists a verb the rule allows, or the rule's verbs are
 * "*"; namespaced_only: a grant through a RoleBinding reaches namespaced
 * resources only).  {"resourceTypes": N, "groups": N, "customResources":
 * ["agents.kagent.dev", ...], "resources": ["pods", "deployments.apps",
 * ...], "text": "reaches N resource types in N groups, including N
 * custom resources (a, b, c, ...)"}.  NULL without discovery or wildcard. */
cJSON *kc_rbac_wildcard_reach(const struct kc_rbac_rule *r, int namespaced_only);

/* Is group/resource ("res" or "res/sub") served?  1 served, 0 not, -1
 * unknown (no discovery, or the group's documents are incomplete). */
int kc_rbac_served(const char *group, const char *resource);

#endif
