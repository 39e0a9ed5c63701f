/* reviews.h - server-side rules reviews for the selected service accounts.
 *
 * For each target (rbac/analyze.h kc_rbac_review_targets: a selected
 * service account with the namespaces to review), one
 * SelfSubjectRulesReview under impersonation, exactly as
 * `kubectl auth can-i --list --as=system:serviceaccount:NS:NAME -n NS`
 * sends it (Impersonate-User only).  Raw responses are stored at
 * reviews/<sa-ns>__<sa-name>/<namespace>.json (kc_review_path); when
 * the server refuses impersonation, reviews/status.json says
 * {"skipped": reason}.  No review is sent when one of the three names is
 * not valid for its kind (collector/names.h): it is recorded as an error
 * item, and the caller records the name as an anomaly.
 */
#ifndef KC_REVIEWS_H
#define KC_REVIEWS_H

#include <stddef.h>

#include "collector/collect.h"
#include "collector/snapshot.h"

/* A selected service account and the namespaces to review it in
 * (computed by rbac/analyze.h kc_rbac_review_targets). */
struct kc_review_target {
	char *sa_ns;
	char *sa_name;
	char **namespaces;
	size_t nns;
};

struct kc_review_targets {
	struct kc_review_target *v;
	size_t n;
};

void kc_review_targets_free(struct kc_review_targets *t);

/* The staging path of a stored review: "reviews/<ns>__<name>/<namespace>.json"
 * with each name as its path component (collector/names.h); newly
 * allocated, NULL on allocation or hashing failure. */
char *kc_review_path(const char *sa_ns, const char *sa_name, const char *ns);

/* Run the reviews (at most `parallel` at once) and store them.  When the
 * server refuses impersonation, every review is recorded as skipped with
 * the server's reason and 0 is returned: the offline evaluator's result
 * then stands alone.  Returns an error only for transport failures. */
int kc_reviews_collect(struct kc_collect *co, const struct kc_review_targets *targets,
    int parallel);

#endif
