/* labels.h - Kubernetes label selectors.
 *
 * Two sources, one matcher:
 *   - the string syntax of `kubectl get -l` (comma-separated requirements:
 *     k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b));
 *   - a metav1.LabelSelector object ({"matchLabels":{...},
 *     "matchExpressions":[{"key","operator":"In|NotIn|Exists|DoesNotExist",
 *     "values":[...]}]}), as in aggregationRule.clusterRoleSelectors.
 * As in apimachinery, an empty selector matches everything; `k!=v` and
 * `k notin (...)` also match objects without the label k.
 */
#ifndef KC_RBAC_LABELS_H
#define KC_RBAC_LABELS_H

#include <stddef.h>

#include <cjson/cJSON.h>

enum kc_label_op { KC_LBL_IN, KC_LBL_NOTIN, KC_LBL_EXISTS, KC_LBL_NOTEXISTS };

struct kc_label_req {
	char *key;
	enum kc_label_op op;
	char **values;		/* for IN / NOTIN (k=v is IN with one value) */
	size_t nvalues;
};

struct kc_labelsel {
	struct kc_label_req *reqs;
	size_t n, cap;
};

/* Parse the string syntax into sel (zeroed by the call).  KC_ERR_PARSE
 * with "invalid label selector 'S': why" on a syntax error. */
int kc_labelsel_parse(const char *s, struct kc_labelsel *sel);

/* Convert a LabelSelector object; an unknown operator is KC_ERR_PARSE
 * (apimachinery refuses it too, and the controller then aggregates
 * nothing for that role). */
int kc_labelsel_from_json(const cJSON *obj, struct kc_labelsel *sel);

/* 1 when the labels object ({"k":"v",...}, or NULL for none) matches. */
int kc_labelsel_match(const struct kc_labelsel *sel, const cJSON *labels);

void kc_labelsel_free(struct kc_labelsel *sel);

#endif
