/* secreach.h - the secrets an account may get by name, in the snapshot's
 * order: one answer for the collect analysis (inventory `secrets`) and for
 * diff's breach assessment (`secrets_reachable`), so the two cannot
 * disagree, and in time that grows with what the account reaches rather
 * than with accounts x secrets.
 *
 * Each candidate is still decided by kc_rbac_authorize (get secrets NAME
 * in NS), exactly as a SubjectAccessReview; the index only leaves out the
 * secrets no grant of the account can allow: those of namespaces in whose
 * RoleBindings the account cannot be named, unless a cluster-wide rule on
 * get secrets names them (resourceNames) or covers every name.
 */
#ifndef KC_RBAC_SECREACH_H
#define KC_RBAC_SECREACH_H

#include <cjson/cJSON.h>

#include "rbac/eval.h"
#include "util/nsindex.h"

struct kc_secret_index {
	struct kc_nsindex by_ns;	/* by namespace (name key ""), each entry's p
					 * a const struct kc_snap_name * */
	struct kc_nsindex by_name;	/* by name (name key ""), the same */
	struct kc_snap_name *owned;	/* the names kc_secret_index_build read */
	size_t n;			/* secrets indexed */
};

/* Index the items of a secrets list (borrowed: it must outlive x).
 * 0 or KC_ERR_NOMEM (with kc_err_set). */
int kc_secret_index_build(struct kc_secret_index *x, const cJSON *items);
/* The same from n secrets' names in the list's order (borrowed: collect's
 * model, struct kc_snapshot's names[KC_RES_SECRETS]). */
int kc_secret_index_build_names(struct kc_secret_index *x, const struct kc_snap_name *names, size_t n);
void kc_secret_index_free(struct kc_secret_index *x);

/* Append "ns/name" to out (a cJSON array) for every indexed secret that id
 * may get, in the list's order.  cluster: kc_rbac_rules_for(rb, id, "")
 * (the ClusterRoleBindings' grants); cand, ncand:
 * kc_rbac_rb_candidates(rb, id).  0, KC_ERR_NOMEM, or KC_ERR_LIMIT for an
 * "ns/name" too long to hold (never cut). */
int kc_secrets_reachable(const struct kc_rbac *rb, const struct kc_secret_index *x,
    const struct kc_rbac_identity *id, const struct kc_rbac_rules *cluster, const size_t *cand,
    size_t ncand, cJSON *out);

#endif
