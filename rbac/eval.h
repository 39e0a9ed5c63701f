/* eval.h - offline RBAC evaluator over a snapshot.
 *
 * What the kube-apiserver's RBAC authorizer and its rule resolver do
 * (plugin/pkg/auth/authorizer/rbac, pkg/registry/rbac/validation/rule.go),
 * computed from the collected roles and bindings instead of the live
 * cluster; see ../shared/RBAC_SEMANTICS.md and docs/RBAC.md:
 *
 *   - kc_rbac_rules_for() is a rules review (SelfSubjectRulesReview) for a
 *     subject in a namespace: the rules of every ClusterRoleBinding and of
 *     every RoleBinding of that namespace that names the subject, each
 *     annotated with the binding, the matched subject and the role; a
 *     binding to a missing role is an evaluation error, worded like the
 *     server's (`clusterrole.rbac.authorization.k8s.io "x" not found`).
 *   - kc_rbac_authorize() answers one request like a SubjectAccessReview,
 *     with the first granting binding and the server's reason string.
 *
 * Aggregated ClusterRoles are evaluated with their stored rules (what the
 * authorizer reads); the union the aggregation controller would compute
 * from the aggregationRule selectors is recomputed only to flag drift.
 *
 * Blind spots of any offline evaluation (stated in every output): the
 * system:masters group, the Node authorizer, webhook and other authorizer
 * modes (EKS, GKE, AKS), and impersonation rights of the caller.
 *
 * Ownership: a struct kc_rbac borrows the snapshot (every string points
 * into its cJSON items); the snapshot must outlive it.  Not thread-safe
 * for writing; evaluations on one kc_rbac may run concurrently.
 */
#ifndef KC_RBAC_EVAL_H
#define KC_RBAC_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "collector/snapshot.h"

struct kc_rbac_strs {
	const char **v;
	size_t n;
};

/* One PolicyRule of a role. */
struct kc_rbac_rule {
	struct kc_rbac_strs verbs, groups, resources, names, urls;
	size_t index;			/* position in the role's rules */
	const cJSON *json;		/* the rule object in the snapshot */
};

struct kc_rbac_role {
	/* the flags together: 22,000 roles at 150k objects (issue 11) */
	int cluster;			/* 1: ClusterRole, 0: Role */
	int rules_shared;		/* 1: rules are another role's (not freed here) */
	int aggregated;			/* has an aggregationRule */
	int drift;			/* stored rules != recomputed aggregation */
	const char *ns;			/* "" for a ClusterRole */
	const char *name;
	struct kc_rbac_rule *rules;	/* shared with an earlier role whose rules are
					 * the same list of the snapshot (rules_shared) */
	size_t nrules;
	const cJSON *obj;		/* the object; NULL when the snapshot keeps
					 * records (collect's model: kc_snapshot.rbac) */
	const cJSON *labels;		/* metadata.labels or NULL */
	const cJSON *rules_json;	/* rules as stored, or NULL */
	const cJSON *aggregation;	/* aggregationRule, or NULL */
	cJSON *expected;		/* recomputed rules when aggregated (owned) */
	char *agg_error;		/* a selector the controller cannot use (owned) */
};

struct kc_rbac_binding {
	int cluster;			/* 1: ClusterRoleBinding, 0: RoleBinding */
	int subjects_borrowed;		/* 1: the snapshot's (kc_snapshot.subjects) */
	const char *ns;			/* "" for a ClusterRoleBinding */
	const char *name;
	const char *role_kind;		/* roleRef.kind */
	const char *role_name;		/* roleRef.name */
	/* kind: User, Group, ServiceAccount (others never match); ns: ""
	 * when absent (collector/snapshot.h) */
	struct kc_snap_subject *subjects;
	size_t nsubjects;
	const struct kc_rbac_role *role;	/* NULL when the role is missing */
	const cJSON *obj;		/* the object; NULL when the snapshot keeps
					 * records (kc_snapshot.rbac) */
	const cJSON *labels;		/* metadata.labels or NULL */
};

/* A subject of a binding, in the evaluator's indexes. */
struct kc_rbac_sref {
	uint32_t b;			/* position in kc_rbac.bindings */
	uint32_t s;			/* position in the binding's subjects */
};

struct kc_rbac {
	const struct kc_snapshot *snap;
	struct kc_rbac_role *roles;	/* Roles and ClusterRoles */
	size_t nroles;
	struct kc_rbac_binding *bindings;	/* ClusterRoleBindings first, then RoleBindings, in list order */
	size_t nbindings, ncrb;
	/* The indexes: sorted arrays searched by bisection (kc_rbac_init).
	 * A subject's key is its kind ('u' user, 'g' group) and the user or
	 * group name it stands for; RoleBindings' subjects are indexed by
	 * namespace, then that key (rb_subj), and by the key alone (rb_any). */
	struct kc_rbac_sref *crb_subj;	/* ClusterRoleBindings' subjects */
	struct kc_rbac_sref *rb_subj;	/* RoleBindings' subjects, by namespace */
	struct kc_rbac_sref *rb_any;	/* RoleBindings' subjects, any namespace */
	size_t ncrb_subj, nrb_subj;	/* rb_any has nrb_subj too */
	uint32_t *role_by_name;		/* roles by (namespace, "" for a ClusterRole; name) */
	size_t nunindexed;		/* SA subjects without namespace in ClusterRoleBindings */
};

/* Who is asking.  For a service account use kc_rbac_sa_identity(). */
struct kc_rbac_identity {
	const char *user;
	const char *const *groups;
	size_t ngroups;
};

/* Storage for a service account's identity: user
 * system:serviceaccount:NS:NAME, groups system:serviceaccounts,
 * system:serviceaccounts:NS, system:authenticated. */
struct kc_rbac_sa_id {
	char user[600];
	char nsgroup[600];
	const char *groups[3];
	struct kc_rbac_identity id;
};

/* One rule that applies, with where it comes from. */
struct kc_rbac_grant {
	const struct kc_rbac_binding *binding;
	size_t subject;			/* index of the first matching subject */
	const struct kc_rbac_rule *rule;
};

/* A rules review result; reusable across calls (kc_rbac_rules_for resets it). */
struct kc_rbac_rules {
	struct kc_rbac_grant *grants;
	size_t n, cap;
	const struct kc_rbac_binding **missing;	/* bindings whose role is missing */
	size_t nmissing, capmissing;
	size_t *cand;			/* scratch */
	size_t ncand, capcand;
};

struct kc_rbac_request {
	const char *verb;
	const char *group;		/* "" = core */
	const char *resource;
	const char *subresource;	/* "" or NULL: none */
	const char *name;		/* "" or NULL: none */
	const char *ns;			/* "" or NULL: cluster-scoped */
	const char *path;		/* non-NULL: a non-resource request */
};

struct kc_rbac_decision {
	int allowed;
	struct kc_rbac_grant grant;	/* the first granting rule when allowed */
};

/* Build the evaluator over snap (borrowed).  Malformed objects (a rule
 * that is not an object, a binding without roleRef) are skipped with a
 * warning; only allocation failures are errors. */
int kc_rbac_init(struct kc_rbac *rb, const struct kc_snapshot *snap);
void kc_rbac_free(struct kc_rbac *rb);

/* Fill id for service account NS/NAME (KC_ERR_LIMIT when too long). */
int kc_rbac_sa_identity(struct kc_rbac_sa_id *id, const char *ns, const char *name);

/* A rules review for id in namespace ns ("" = cluster scope only). */
int kc_rbac_rules_for(const struct kc_rbac *rb, const struct kc_rbac_identity *id,
    const char *ns, struct kc_rbac_rules *out);
/* The same review restricted to the RoleBindings of namespace ns (no
 * ClusterRoleBindings): what ns adds to the cluster-wide rules. */
int kc_rbac_rules_for_ns(const struct kc_rbac *rb, const struct kc_rbac_identity *id,
    const char *ns, struct kc_rbac_rules *out);
/* The RoleBindings, of any namespace, that name id's user or one of its
 * groups (indices into rb->bindings, ascending, each once) into *v (grown
 * with KC_GROW); a RoleBinding not listed here can never apply to id. */
int kc_rbac_rb_candidates(const struct kc_rbac *rb, const struct kc_rbac_identity *id,
    size_t **v, size_t *n, size_t *cap);
void kc_rbac_rules_free(struct kc_rbac_rules *r);

/* How many rules reviews (kc_rbac_rules_for, kc_rbac_rules_for_ns, and
 * those of kc_rbac_authorize) this process has evaluated: a count, so a
 * test can show that an analysis does not review every namespace or every
 * secret of the cluster for every account (tests/unit/test_rbac.c). */
unsigned long kc_rbac_reviews_run(void);

/* The server's evaluationError for this result, or NULL when there is
 * none (newly allocated): one message, or "[m1, m2]" for several distinct
 * ones, as apimachinery's aggregate error prints them. */
char *kc_rbac_eval_error(const struct kc_rbac_rules *r);

/* One request.  Returns 0 and fills d. */
int kc_rbac_authorize(const struct kc_rbac *rb, const struct kc_rbac_identity *id,
    const struct kc_rbac_request *req, struct kc_rbac_decision *d);

/* The authorizer's reason, as in the audit annotation
 * authorization.k8s.io/reason: `RBAC: allowed by ClusterRoleBinding "b" of
 * ClusterRole "r" to ServiceAccount "n/ns"`. */
int kc_rbac_reason(const struct kc_rbac_grant *g, char *out, size_t n);

/* Rule predicates, exactly as rbacv1helpers (RuleAllows and friends). */
int kc_rbac_verb_matches(const struct kc_rbac_rule *r, const char *verb);
int kc_rbac_group_matches(const struct kc_rbac_rule *r, const char *group);
int kc_rbac_resource_matches(const struct kc_rbac_rule *r, const char *resource, const char *sub);
int kc_rbac_name_matches(const struct kc_rbac_rule *r, const char *name);
int kc_rbac_url_matches(const struct kc_rbac_rule *r, const char *path);
int kc_rbac_rule_allows(const struct kc_rbac_rule *r, const struct kc_rbac_request *req);

/* A grant's rule is effective for non-resource URLs only through a
 * ClusterRoleBinding (non-resource requests have no namespace), although a
 * rules review lists it through a RoleBinding too. */
int kc_rbac_grant_cluster(const struct kc_rbac_grant *g);

/* JSON for outputs.  kc_rbac_rule_json: {"verbs","apiGroups","resources",
 * "resourceNames","nonResourceURLs"} (empty lists left out).
 * kc_rbac_status_json: a SubjectRulesReviewStatus as the server would
 * return it for this result (resourceRules, nonResourceRules, incomplete,
 * evaluationError).  kc_rbac_grants_json: the same rules with provenance:
 * binding, matched subject, role, scope, effective. */
cJSON *kc_rbac_rule_json(const struct kc_rbac_rule *r);
cJSON *kc_rbac_status_json(const struct kc_rbac_rules *r);
cJSON *kc_rbac_grants_json(const struct kc_rbac_rules *r);
cJSON *kc_rbac_binding_ref_json(const struct kc_rbac_binding *b);
cJSON *kc_rbac_role_ref_json(const struct kc_rbac_binding *b);
cJSON *kc_rbac_subject_json(const struct kc_snap_subject *s);

/* The blind spots above, as a JSON array of strings. */
cJSON *kc_rbac_blind_spots_json(void);

/* Aggregated ClusterRoles whose stored rules differ from the recomputed
 * union: [{"name","storedRules","expectedRules"}]. */
cJSON *kc_rbac_drift_json(const struct kc_rbac *rb);

/* Find a role by kind ("Role"/"ClusterRole"), namespace and name. */
const struct kc_rbac_role *kc_rbac_find_role(const struct kc_rbac *rb, int cluster,
    const char *ns, const char *name);

#endif
