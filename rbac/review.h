/* review.h - comparing a server rules review with the offline evaluator.
 *
 * Rules reviews are compared as sets of expanded permissions, never by
 * rule order (the server's changes between calls): every resource rule
 * becomes tuples (verb, apiGroup, resource, resourceName or "any"), every
 * non-resource rule tuples (verb, URL).  The evaluation errors are
 * compared as sets of messages.
 */
#ifndef KC_RBAC_REVIEW_H
#define KC_RBAC_REVIEW_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "rbac/eval.h"

struct kc_tuples {
	char **v;		/* sorted, unique */
	size_t n, cap;
};

/* Expand a SubjectRulesReviewStatus (or a review holding one). */
int kc_review_tuples(const cJSON *status, struct kc_tuples *out);
void kc_tuples_free(struct kc_tuples *t);

/* Compare server and evaluator statuses.  *ndiff receives the number of
 * disagreements (tuples on one side only, differing evaluation errors);
 * *diff (may be NULL) {"onlyServer":[...],"onlyEvaluator":[...],
 * "serverEvaluationError","evaluatorEvaluationError","incomplete":bool}
 * with tuples printed as "verb group/resource name" or "verb URL". */
int kc_review_compare(const cJSON *server, const cJSON *evaluator, size_t *ndiff, cJSON **diff);

/* "verb apigroup/resource [name]" or "verb url" for a tuple. */
void kc_tuple_describe(const char *tuple, char *out, size_t n);

/* Fill .status of one SubjectAccessReview (authorization.k8s.io/v1 JSON,
 * resourceAttributes or nonResourceAttributes) like the server's RBAC
 * authorizer: "allowed", and "reason" naming the grant.  A namespaced
 * review of a cluster-scoped resource allowed only through a RoleBinding
 * also gets "realRequestAllowed": false and a "scopeNote".  Every group in
 * spec.groups is considered. */
int kc_rbac_answer_sar(const struct kc_rbac *rb, cJSON *sar);

#endif
