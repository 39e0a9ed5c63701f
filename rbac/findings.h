/* findings.h - risk rules AGR-001..AGR-024 over effective permissions.
 *
 * The rules are a table in findings.c (id, severity, title, ATT&CK, CWE,
 * predicate).  Predicates look at one rule an agent SA holds, with the
 * semantics of the authorizer: a verb '*' is every verb, an apiGroup '*'
 * every group, a resource '*' every resource and subresource, '*' + "/sub"
 * that subresource of any resource.  A rule restricted by resourceNames
 * fires when a real request can match it (the name is in the proof;
 * create and list with resourceNames never match).  Scope is "cluster" for
 * rules held through a ClusterRoleBinding, "namespace" (with the namespace)
 * for rules held through a RoleBinding; a namespaced grant never reaches a
 * cluster-scoped resource (rbac/scope.h).  Every hit names the subject, the
 * binding, the matched binding subject, the role, the scope and the rule,
 * and an ability carries "request": the SubjectAccessReview attributes
 * (verb, apiGroup, resource, subresource, namespace, name, or verb and
 * nonResourceURL) the API server would check for the request it claims.
 */
#ifndef KC_RBAC_FINDINGS_H
#define KC_RBAC_FINDINGS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "rbac/eval.h"
#include "rbac/select.h"

enum kc_sev {
	KC_SEV_NONE = 0,
	KC_SEV_INFO = 1,
	KC_SEV_LOW = 2,
	KC_SEV_MEDIUM = 3,
	KC_SEV_HIGH = 4,
	KC_SEV_CRITICAL = 5,
};

/* "critical", "high", "medium", "low", "info" (and "none" for 0). */
const char *kc_sev_name(int sev);
/* Case-insensitive; -1 when unknown.  For --fail-on. */
int kc_sev_parse(const char *s);

struct kc_finding_def {
	const char *id;
	int severity;			/* default; a predicate may lower it */
	const char *title;
	const char *attack;		/* "T1552.007, T1528" or "" */
	const char *cwe;		/* "CWE-522" or "" */
	/* 0: no hit; else the severity, with a short explanation in detail */
	int (*pred)(const void *ctx, char *detail, size_t n);
	/* what a hit claims: "ability" (the finding carries the request that
	 * proves it), or a statement about a "rule", a "binding" or the
	 * "evidence" (no request) */
	const char *claim;
};

/* The table, terminated by an entry with id NULL. */
extern const struct kc_finding_def kc_finding_defs[];
const struct kc_finding_def *kc_finding_def(const char *id);

struct kc_jarena;

struct kc_findings {
	cJSON *list;			/* array of findings (owned); each finding is
					 * packed in arena (util/jarena.h: read, print,
					 * add members; a string value is not to be set
					 * in place) */
	struct kc_jarena *arena;	/* owned; NULL: findings on the heap */
	int counts[KC_SEV_CRITICAL + 1];
	int worst;			/* highest severity seen */
	size_t secret_readers;		/* agent SAs that can read secrets somewhere */
	cJSON *secret_reader_list;	/* ["ns/name", ...] (owned) */
};

int kc_findings_init(struct kc_findings *f);
void kc_findings_free(struct kc_findings *f);

/* Evaluate every rule for every selected SA: cluster scope and each
 * namespace in namespaces (NULL-terminated, in that order; the SA's own is
 * always added).  A namespace none of whose RoleBindings can name the SA
 * adds nothing and is skipped without a review, so the work is linear in
 * the SA's bindings, not in the cluster's namespaces.  Bindings to missing
 * roles that apply to the SA are AGR-024. */
int kc_findings_eval(struct kc_findings *f, const struct kc_rbac *rb,
    const struct kc_selection *sel, const char *const *namespaces);

/* Record an evidence gap (AGR-024) for an SA: review incomplete, an
 * evaluationError, or a disagreement between server and evaluator. */
int kc_findings_add_gap(struct kc_findings *f, const char *sa_ns, const char *sa_name,
    const char *ns, const char *what, cJSON *detail /* consumed, may be NULL */);

/* Sort by severity (highest first), id, subject, scope. */
void kc_findings_sort(struct kc_findings *f);

/* {"triage","triageReason","counts":{...},"highestSeverity","findings":[...],
 *  "rules":[table]} (newly allocated; borrows nothing). */
cJSON *kc_findings_json(const struct kc_findings *f);
/* The same, its "findings" f's own list (a reference: deleting the
 * document leaves it; writing a finding through it writes f's): the
 * document of a large analysis without a second copy of its findings. */
cJSON *kc_findings_json_borrow(struct kc_findings *f);

/* "URGENT" when any agent SA can read secrets, else "ROUTINE". */
const char *kc_findings_triage(const struct kc_findings *f);

/* 1 when a finding at or above severity rank min exists (--fail-on). */
int kc_findings_fail(const struct kc_findings *f, int min);

#endif
