/* scope.h - which resources are cluster-scoped, and what a grant through a
 * RoleBinding can therefore never authorize.
 *
 * A request for a cluster-scoped resource (nodes, clusterroles, CRDs...)
 * carries no namespace, so the RBAC authorizer consults only
 * ClusterRoleBindings for it: a Role or ClusterRole bound by a RoleBinding
 * never grants it, whatever its rules say (`kubectl auth can-i patch nodes
 * -n NS` answers yes only because it sends a review with the namespace
 * set, which no real request does).  Every claim about ability (findings,
 * who-can, triage, report, diff) asks kc_rbac_ns_effective() first.
 *
 * The table is built in (the API groups of current Kubernetes releases,
 * checked against `kubectl api-resources --namespaced=false` of the 1.20
 * test cluster, plus the newer kinds and the pseudo-resources RBAC checks:
 * users, groups, uids, userextras, signers).  A resource it does not know
 * (a custom resource) is taken as namespaced.  Discovery can replace the
 * table: kc_rbac_scope_use() installs another list (borrowed), NULL
 * restores the built-in one.
 */
#ifndef KC_RBAC_SCOPE_H
#define KC_RBAC_SCOPE_H

#include <stddef.h>

struct kc_rbac_scope_entry {
	const char *group;		/* "" = core */
	const char *resource;		/* plural, no subresource */
};

/* 1 when group/resource is cluster-scoped ("res/sub" is looked up by
 * "res"); 0 when namespaced or unknown.  group "*": cluster-scoped in
 * some group; resource "*": 0. */
int kc_rbac_cluster_scoped(const char *group, const char *resource);

/* 1 when a grant through a RoleBinding (a namespaced grant) can authorize
 * a real request VERB on group/resource in its namespace: the resource is
 * namespaced, or the request is the one check the API server makes with a
 * namespace on a cluster-scoped resource (`bind` on clusterroles when a
 * RoleBinding in that namespace references a ClusterRole). */
int kc_rbac_ns_effective(const char *verb, const char *group, const char *resource);

/* Replace the table (e.g. from discovery); NULL, 0 restores the built-in
 * one.  v is borrowed and must outlive its use.  Not thread-safe. */
void kc_rbac_scope_use(const struct kc_rbac_scope_entry *v, size_t n);

/* 1 when group/resource is a resource of the built-in API groups (either
 * scope); 0 for anything else, a custom resource or a typo ("secretz").
 * who-can warns on 0 unless a rule of the snapshot names it, as kubectl
 * warns "the server doesn't have a resource type". */
int kc_rbac_builtin_served(const char *group, const char *resource);

/* The built-in table. */
extern const struct kc_rbac_scope_entry kc_rbac_scope_builtin[];
extern const size_t kc_rbac_scope_builtin_n;

#endif
