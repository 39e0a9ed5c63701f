/* scope.c - the cluster-scoped resources of each API group (scope.h). */
#include <string.h>

#include "rbac/scope.h"

#define RBACG "rbac.authorization.k8s.io"
#define ADM "admissionregistration.k8s.io"
#define FC "flowcontrol.apiserver.k8s.io"

const struct kc_rbac_scope_entry kc_rbac_scope_builtin[] = {
	{ "", "nodes" },
	{ "", "persistentvolumes" },
	{ "", "namespaces" },
	{ "", "componentstatuses" },
	{ "", "users" },			/* impersonation */
	{ "", "groups" },			/* impersonation */
	{ RBACG, "clusterroles" },
	{ RBACG, "clusterrolebindings" },
	{ "certificates.k8s.io", "certificatesigningrequests" },
	{ "certificates.k8s.io", "signers" },	/* approve, sign */
	{ "certificates.k8s.io", "clustertrustbundles" },
	{ ADM, "mutatingwebhookconfigurations" },
	{ ADM, "validatingwebhookconfigurations" },
	{ ADM, "validatingadmissionpolicies" },
	{ ADM, "validatingadmissionpolicybindings" },
	{ ADM, "mutatingadmissionpolicies" },
	{ ADM, "mutatingadmissionpolicybindings" },
	{ "apiextensions.k8s.io", "customresourcedefinitions" },
	{ "apiregistration.k8s.io", "apiservices" },
	{ "storage.k8s.io", "storageclasses" },
	{ "storage.k8s.io", "volumeattachments" },
	{ "storage.k8s.io", "csidrivers" },
	{ "storage.k8s.io", "csinodes" },
	{ "storage.k8s.io", "volumeattributesclasses" },
	{ "scheduling.k8s.io", "priorityclasses" },
	{ "node.k8s.io", "runtimeclasses" },
	{ "networking.k8s.io", "ingressclasses" },
	{ "networking.k8s.io", "ipaddresses" },
	{ "networking.k8s.io", "servicecidrs" },
	{ FC, "flowschemas" },
	{ FC, "prioritylevelconfigurations" },
	{ "authentication.k8s.io", "tokenreviews" },
	{ "authentication.k8s.io", "uids" },		/* impersonation */
	{ "authentication.k8s.io", "userextras" },	/* impersonation, userextras/KEY */
	{ "authentication.k8s.io", "selfsubjectreviews" },
	{ "authorization.k8s.io", "subjectaccessreviews" },
	{ "authorization.k8s.io", "selfsubjectaccessreviews" },
	{ "authorization.k8s.io", "selfsubjectrulesreviews" },
	{ "policy", "podsecuritypolicies" },
	{ "extensions", "podsecuritypolicies" },
	{ "resource.k8s.io", "deviceclasses" },
	{ "resource.k8s.io", "resourceslices" },
};
const size_t kc_rbac_scope_builtin_n = sizeof(kc_rbac_scope_builtin) / sizeof(kc_rbac_scope_builtin[0]);

static const struct kc_rbac_scope_entry *table = kc_rbac_scope_builtin;
static size_t ntable = sizeof(kc_rbac_scope_builtin) / sizeof(kc_rbac_scope_builtin[0]);

void
kc_rbac_scope_use(const struct kc_rbac_scope_entry *v, size_t n)
{
	if (v == NULL) {
		table = kc_rbac_scope_builtin;
		ntable = kc_rbac_scope_builtin_n;
	} else {
		table = v;
		ntable = n;
	}
}

int
kc_rbac_cluster_scoped(const char *group, const char *resource)
{
	const char *slash;
	size_t rl;

	if (group == NULL || resource == NULL)
		return 0;
	slash = strchr(resource, '/');
	rl = slash ? (size_t)(slash - resource) : strlen(resource);
	if (rl == 0 || (rl == 1 && resource[0] == '*'))
		return 0;
	for (size_t i = 0; i < ntable; i++)
		if ((strcmp(group, "*") == 0 || strcmp(table[i].group, group) == 0) && strlen(table[i].resource) == rl &&
		    strncmp(table[i].resource, resource, rl) == 0)
			return 1;
	return 0;
}

int
kc_rbac_ns_effective(const char *verb, const char *group, const char *resource)
{
	if (!kc_rbac_cluster_scoped(group, resource))
		return 1;
	/* RoleBinding admission asks `bind` on the referenced ClusterRole with
	 * the binding's namespace set (BindingAuthorized) */
	return verb != NULL && strcmp(verb, "bind") == 0 && (strcmp(group, RBACG) == 0 || strcmp(group, "*") == 0) &&
	    strcmp(resource, "clusterroles") == 0;
}

/* The namespaced resources of the built-in API groups (Kubernetes 1.20 to
 * current releases), for "is this a resource the cluster serves" until
 * discovery is collected. */
static const struct kc_rbac_scope_entry builtin_namespaced[] = {
	{ "", "pods" }, { "", "services" }, { "", "endpoints" }, { "", "configmaps" },
	{ "", "secrets" }, { "", "serviceaccounts" }, { "", "persistentvolumeclaims" },
	{ "", "replicationcontrollers" }, { "", "resourcequotas" }, { "", "limitranges" },
	{ "", "events" }, { "", "podtemplates" }, { "", "bindings" },
	{ "apps", "deployments" }, { "apps", "daemonsets" }, { "apps", "statefulsets" },
	{ "apps", "replicasets" }, { "apps", "controllerrevisions" },
	{ "batch", "jobs" }, { "batch", "cronjobs" },
	{ "autoscaling", "horizontalpodautoscalers" },
	{ "networking.k8s.io", "networkpolicies" }, { "networking.k8s.io", "ingresses" },
	{ "extensions", "ingresses" }, { "extensions", "networkpolicies" },
	{ "extensions", "deployments" }, { "extensions", "daemonsets" }, { "extensions", "replicasets" },
	{ "policy", "poddisruptionbudgets" },
	{ RBACG, "roles" }, { RBACG, "rolebindings" },
	{ "coordination.k8s.io", "leases" },
	{ "discovery.k8s.io", "endpointslices" },
	{ "events.k8s.io", "events" },
	{ "storage.k8s.io", "csistoragecapacities" },
	{ "authorization.k8s.io", "localsubjectaccessreviews" },
	{ "resource.k8s.io", "resourceclaims" }, { "resource.k8s.io", "resourceclaimtemplates" },
	{ "metrics.k8s.io", "pods" }, { "metrics.k8s.io", "nodes" },
};

int
kc_rbac_builtin_served(const char *group, const char *resource)
{
	const char *slash = strchr(resource, '/');
	size_t rl = slash ? (size_t)(slash - resource) : strlen(resource);

	if (kc_rbac_cluster_scoped(group, resource))
		return 1;
	for (size_t i = 0; i < sizeof(builtin_namespaced) / sizeof(builtin_namespaced[0]); i++)
		if (strcmp(builtin_namespaced[i].group, group) == 0 && strlen(builtin_namespaced[i].resource) == rl &&
		    strncmp(builtin_namespaced[i].resource, resource, rl) == 0)
			return 1;
	return 0;
}
