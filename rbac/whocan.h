/* whocan.h - which subjects can do VERB on RESOURCE, cluster-wide and per
 * namespace, with groups expanded to the service accounts they contain.
 *
 * A binding counts when its role has a rule that allows the verb on the
 * resource (the authorizer's matching: '*' verbs, groups, resources,
 * '*' + "/sub").  A rule limited by resourceNames counts too, and the
 * names are listed.  Group expansion, from the snapshot's service
 * accounts: system:serviceaccounts and system:authenticated hold every SA
 * (system:authenticated also every authenticated user), and
 * system:serviceaccounts:NS the SAs of NS.  Other groups and users cannot
 * be expanded offline and are listed as they are.  A ServiceAccount
 * subject without a namespace in a ClusterRoleBinding matches nobody and
 * is listed with that note.  For a cluster-scoped resource (rbac/scope.h)
 * RoleBindings are left out: the request carries no namespace ("note" and
 * "clusterScoped" say so); `bind` on clusterroles is the exception (the
 * API server checks it in the RoleBinding's namespace).
 */
#ifndef KC_RBAC_WHOCAN_H
#define KC_RBAC_WHOCAN_H

#include <cjson/cJSON.h>

#include "rbac/eval.h"
#include "util/buf.h"

/* resource: "res", "res.group", "res/sub" or "res.group/sub"; ns: NULL for
 * every namespace.  *out: {"verb","resource","apiGroup","subresource",
 * "clusterWide":[grant],"namespaces":{"ns":[grant]},"serviceAccounts":
 * ["ns/name" that can, anywhere]} where grant is {"subject","binding",
 * "role","resourceNames"?,"expandsTo"?:[...],"note"?}. */
int kc_whocan(const struct kc_rbac *rb, const char *verb, const char *resource, const char *ns,
    cJSON **out);

/* The same document printed as cJSON_Print prints it, every line after
 * the first followed by indent (the nesting of the document it goes in),
 * given to sink(ctx, bytes, length) piece by piece as it is made: a grant
 * at a time, the document never whole (a 30,000-grant query of the 150k
 * estate was 45 MiB of nodes).  0, the error, or sink's non-zero return. */
int kc_whocan_print(const struct kc_rbac *rb, const char *verb, const char *resource, const char *ns,
    const char *indent, int (*sink)(void *ctx, const char *s, size_t n), void *ctx);

/* The same as a readable table. */
int kc_whocan_text(const cJSON *res, struct kc_buf *out);

#endif
