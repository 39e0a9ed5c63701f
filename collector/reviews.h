/* reviews.h - server-side rules reviews for the selected service accounts.
 *
 * For each service account and each namespace where it holds a binding
 * (plus its own namespace, or every namespace when asked), one
 * SelfSubjectRulesReview under impersonation, exactly as
 * `kubectl auth can-i --list --as=system:serviceaccount:NS:NAME -n NS`
 * sends it (Impersonate-User only).  Raw responses are stored at
 * reviews/<sa-ns>__<sa-name>/<namespace>.json.
 */
#ifndef KC_REVIEWS_H
#define KC_REVIEWS_H

#include <stddef.h>

#include "collector/collect.h"
#include "collector/snapshot.h"

struct kc_review_target {
	char *ns;		/* the service account's namespace */
	char *name;
	char **namespaces;	/* where to review (sorted, unique) */
	size_t nnamespaces;
};

/* Namespaces to review for service account ns/name: its own and those of
 * RoleBindings naming it (as ServiceAccount, as its user name, or through
 * one of its groups); every namespace in the snapshot when all is set. */
int kc_reviews_plan(const struct kc_snapshot *snap, const char *ns, const char *name,
    int all, struct kc_review_target *t);
void kc_review_target_free(struct kc_review_target *t);

/* Run the reviews (at most `parallel` at once) and store them.  When the
 * server refuses impersonation, every review is recorded as skipped with
 * the server's reason and 0 is returned: the offline evaluator's result
 * then stands alone.  Returns an error only for transport failures. */
int kc_reviews_collect(struct kc_collect *co, const struct kc_review_target *t, size_t nt,
    int parallel);

#endif
