/* names.h - names from the Kubernetes API server, checked before they
 * become part of a path in the staging folder.
 *
 * A server (or a man in the middle under --insecure) may send any bytes
 * as a name; joined into a path unchecked, `a/../../x` writes wherever the
 * operator can.  So every name is checked against the rule the real
 * kube-apiserver enforces for its kind (k8s.io/apimachinery validation):
 *
 *   KC_NAME_NAMESPACE       DNS-1123 label: 1-63 bytes of [a-z0-9-],
 *                           first and last [a-z0-9]
 *   KC_NAME_SERVICEACCOUNT  DNS-1123 subdomain: 1-253 bytes, labels of
 *                           [a-z0-9-] separated by '.', each label's first
 *                           and last byte [a-z0-9]
 *   KC_NAME_RBAC            Role, ClusterRole, RoleBinding,
 *                           ClusterRoleBinding: path segment name, not
 *                           empty, not "." or "..", no '/' or '%'
 *
 * and becomes one path component (docs/FORMAT.md section 2):
 *
 *   - a valid name whose bytes are all in [A-Za-z0-9._-], that does not
 *     start with '_' and is at most KC_NAME_COMPONENT_MAX bytes: itself;
 *   - another valid name: each other byte (':' in `system:controller:x`,
 *     a space, UTF-8, a leading '_') written %XX (uppercase hex).  No
 *     valid name holds '%', so the encoding is unambiguous and reversible;
 *     when the result is longer than KC_NAME_COMPONENT_MAX bytes, its
 *     first bytes (never a partial %XX), '~' and the first 16 hex digits
 *     of the SHA-256 of the name;
 *   - an invalid name: "_invalid-" and the first 16 hex digits of the
 *     SHA-256 of its bytes.  No valid name encodes to a component that
 *     starts with '_', so the two never meet.
 *
 * The caller decides what an invalid name means; collect records it as an
 * anomaly (kc_collect_check_name, collector/collect.h).
 */
#ifndef KC_NAMES_H
#define KC_NAMES_H

#include <stddef.h>

enum kc_name_kind {
	KC_NAME_NAMESPACE,
	KC_NAME_SERVICEACCOUNT,
	KC_NAME_RBAC,
	KC_NAME_POD,		/* DNS-1123 subdomain, as a service account */
	KC_NAME_CONTAINER,	/* DNS-1123 label, as a namespace */
};

#define KC_NAME_COMPONENT_MAX 200	/* leaves room for suffixes under NAME_MAX */
#define KC_NAME_COMPONENT_SIZE (KC_NAME_COMPONENT_MAX + 1)

/* "Namespace", "ServiceAccount", "RBAC object", "Pod" or "Container". */
const char *kc_name_kind_str(enum kc_name_kind kind);

/* NULL when name is valid for its kind, else why not (a static string,
 * e.g. "longer than 63 bytes"). */
const char *kc_name_invalid(enum kc_name_kind kind, const char *name);

/* The path component of name, as above, into out.  Returns 0 for a valid
 * name, 1 for an invalid one (out holds the hashed form), or
 * KC_ERR_CRYPTO when hashing failed. */
int kc_name_component(enum kc_name_kind kind, const char *name, char out[KC_NAME_COMPONENT_SIZE]);

/* The folder of a service account: "<namespace>__<name>", each part a
 * component as above (a valid namespace holds no '_', so the first "__"
 * splits it); shortened like a long name when longer than
 * KC_NAME_COMPONENT_MAX, with the hash taken over "<namespace>/<name>".
 * Returns 0 when both names are valid, 1 when either is not, or
 * KC_ERR_CRYPTO. */
int kc_name_sa_folder(const char *ns, const char *name, char out[KC_NAME_COMPONENT_SIZE]);

#endif
