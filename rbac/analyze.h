/* analyze.h - the RBAC analysis of a collection, as pure functions over the
 * snapshot: where to ask the server for rules reviews, the evaluator's
 * rules review per service account and namespace, and the namespace sets
 * both use.  Nothing here reads or writes files; pipeline/analysis.h runs
 * the analysis over a staging folder and writes its outputs.
 */
#ifndef KC_RBAC_ANALYZE_H
#define KC_RBAC_ANALYZE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "collector/reviews.h"
#include "collector/snapshot.h"
#include "rbac/eval.h"
#include "rbac/select.h"
#include "util/strset.h"

/* Where collect should ask the server for rules reviews (collector/reviews.h
 * struct kc_review_targets): every selected SA, in its own namespace and in
 * each namespace where a RoleBinding names it (directly or through one of
 * its groups), or in every namespace with opts->all_namespaces.  Namespaces
 * sorted, unique.  rb: the evaluator over snap, or NULL to build one here
 * (collect builds it once for the targets and the analysis). */
int kc_rbac_review_targets(const struct kc_snapshot *snap, const struct kc_rbac *rb,
    const struct kc_select_opts *opts, struct kc_review_targets *out);

/* The evaluator's result for SA sa_ns/sa_name in namespace ns:
 * {"subject":{kind,namespace,name,user,groups},"namespace","source":"offline evaluator",
 *  "status":{SubjectRulesReviewStatus},"grants":[...],"evaluationErrors":[...],
 *  "blindSpots":[...]} (newly allocated in *out). */
int kc_rbac_effective_json(const struct kc_rbac *rb, const char *sa_ns, const char *sa_name,
    const char *ns, cJSON **out);

/* Every namespace the snapshot knows: listed ones, and those of roles,
 * bindings and service accounts (a namespace list may be forbidden). */
int kc_rbac_all_namespaces(const struct kc_snapshot *snap, struct kc_strset *out);

/* The namespaces where a RoleBinding applies to the identity id (directly
 * or through one of its groups) and its own namespace `own`; every
 * namespace in nss when `every`.  Appended to out, unsorted. */
int kc_rbac_sa_namespaces(const struct kc_rbac *rb, const struct kc_rbac_identity *id, const char *own,
    const struct kc_strset *nss, int every, struct kc_strset *out);

#endif
