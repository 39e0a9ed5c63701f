#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rbac/findings.h"
#include "rbac/hmap.h"
#include "rbac/reach.h"
#include "rbac/scope.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/jarena.h"
#include "util/json.h"
#include "util/mem.h"

#define RBACG "rbac.authorization.k8s.io"
#define KC_GAP_INDEX 23	/* AGR-024 in kc_finding_defs */
#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* The request a finding claims the agent can make (its proof): the
 * attributes the API server would put in a SubjectAccessReview for it. */
struct proof {
	int set;
	char verb[64];
	char group[256];
	char resource[128];
	char sub[128];		/* "" = none */
	char name[256];		/* "" = any name (no resourceNames) */
	char ns[256];		/* "" = absent (cluster-scoped, or every namespace) */
	char path[256];		/* non-resource request when non-empty */
};

/* What a predicate sees: one rule an SA holds, and where. */
struct fctx {
	const struct kc_rbac_grant *g;
	const struct kc_rbac_rule *r;
	const char *scope_ns;		/* "" = cluster scope */
	const char *sa_ns;
	const struct kc_rbac_identity *id;
	struct proof *pf;		/* filled by a predicate that fires */
};

static const char *const sev_names[] = { "none", "info", "low", "medium", "high", "critical" };

const char *
kc_sev_name(int sev)
{
	return sev >= 0 && sev <= KC_SEV_CRITICAL ? sev_names[sev] : "unknown";
}

int
kc_sev_parse(const char *s)
{
	for (int i = 0; s != NULL && i <= KC_SEV_CRITICAL; i++)
		if (strcasecmp(s, sev_names[i]) == 0)
			return i;
	return -1;
}

static void
names_note(const struct kc_rbac_rule *r, struct kc_buf *b)
{
	if (r->names.n == 0)
		return;
	kc_buf_adds(b, " (only resourceNames");
	for (size_t i = 0; i < r->names.n; i++)
		kc_buf_addf(b, " %s", r->names.v[i]);
	kc_buf_addc(b, ')');
}

/* Verbs whose requests carry no name unless they are on a subresource. */
static int
nameless_verb(const char *verb, const char *sub)
{
	return sub == NULL && (strcmp(verb, "create") == 0 || strcmp(verb, "list") == 0 ||
	    strcmp(verb, "watch") == 0 || strcmp(verb, "deletecollection") == 0);
}

/* The name a real request would carry under the rule's resourceNames:
 * *name "" = any (no restriction, or a nameless request matched by ""),
 * else the first listed name.  0 when no real request can match (create
 * or list with resourceNames; a named verb when only "" is listed). */
static int
pick_name(const struct kc_rbac_rule *r, const char *verb, const char *sub, const char **name)
{
	*name = "";
	if (r->names.n == 0)
		return 1;
	for (size_t i = 0; i < r->names.n; i++) {
		if (nameless_verb(verb, sub) ? r->names.v[i][0] == '\0' : r->names.v[i][0] != '\0') {
			*name = r->names.v[i];
			return 1;
		}
	}
	return 0;
}

/* One field of the request that proves a finding, whole: a cut verb, name
 * or namespace would prove something else, so a value that does not fit
 * leaves the finding without a proof (set = 0). */
static void
proof_put(struct proof *p, char *dst, size_t n, const char *s)
{
	size_t l = strlen(s);

	if (l >= n) {
		p->set = 0;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, s, l + 1);
}

static void
proof_set(const struct fctx *c, const char *verb, const char *group, const char *res, const char *sub,
    const char *name)
{
	struct proof *p = c->pf;

	if (p == NULL)
		return;
	memset(p, 0, sizeof(*p));
	p->set = 1;
	proof_put(p, p->verb, sizeof(p->verb), verb);
	proof_put(p, p->group, sizeof(p->group), group);
	proof_put(p, p->resource, sizeof(p->resource), res);
	proof_put(p, p->sub, sizeof(p->sub), sub ? sub : "");
	proof_put(p, p->name, sizeof(p->name), name ? name : "");
	/* through a RoleBinding: its namespace.  Through a ClusterRoleBinding:
	 * none for a cluster-scoped resource or a cluster-wide list/watch,
	 * else the agent's own namespace (any namespace would do). */
	if (c->scope_ns[0] != '\0')
		proof_put(p, p->ns, sizeof(p->ns), c->scope_ns);
	else if (!kc_rbac_cluster_scoped(group, res) && !(sub == NULL && name != NULL && name[0] == '\0' &&
	    (strcmp(verb, "list") == 0 || strcmp(verb, "watch") == 0)))
		proof_put(p, p->ns, sizeof(p->ns), c->sa_ns);
}

/* The rule allows one of verbs on one of resources ("res" or "res/sub")
 * in group for a real request in the grant's scope: detail says which and
 * c->pf gets the request.  A grant through a RoleBinding never reaches a
 * cluster-scoped resource (its requests carry no namespace). */
static int
can(const struct fctx *c, const char *const *verbs, const char *group,
    const char *const *resources, char *detail, size_t n)
{
	const struct kc_rbac_rule *r = c->r;

	if (!kc_rbac_group_matches(r, group))
		return 0;
	for (size_t v = 0; verbs[v] != NULL; v++) {
		if (!kc_rbac_verb_matches(r, verbs[v]))
			continue;
		for (size_t i = 0; resources[i] != NULL; i++) {
			char res[128];
			const char *slash = strchr(resources[i], '/'), *sub = slash ? slash + 1 : NULL, *name;
			struct kc_buf b = KC_BUF_INIT(4096);

			if (kc_fmt(res, sizeof(res), "%.*s", slash ? (int)(slash - resources[i]) :
			    (int)strlen(resources[i]), resources[i]) != 0)
				continue;	/* the table names none this long */
			if (!kc_rbac_resource_matches(r, res, sub))
				continue;
			if (c->scope_ns[0] != '\0' && !kc_rbac_ns_effective(verbs[v], group, res))
				continue;
			if (!pick_name(r, verbs[v], sub, &name))
				continue;
			kc_buf_addf(&b, "can %s %s%s%s", verbs[v], resources[i], group[0] ? "." : "", group);
			names_note(r, &b);
			kc_fmt_trunc(detail, n, "%s", kc_buf_str(&b));
			kc_buf_free(&b);
			proof_set(c, verbs[v], group, res, sub, name);
			return 1;
		}
	}
	return 0;
}

static int
has_str(const struct kc_rbac_strs *s, const char *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], v) == 0)
			return 1;
	return 0;
}

static int
p001(const void *vc, char *d, size_t n)
{
	const struct fctx *c = vc;
	const struct kc_rbac_binding *b = c->g->binding;
	int all = has_str(&c->r->verbs, "*") && has_str(&c->r->groups, "*") && has_str(&c->r->resources, "*");
	int admin = strcmp(b->role_kind, "ClusterRole") == 0 && strcmp(b->role_name, "cluster-admin") == 0 &&
	    c->r->index == 0;
	char tmp[512];

	if (!all && !admin)
		return 0;
	/* the proof: granting itself anything (a binding) in the scope */
	if (!can(c, L("create"), RBACG, c->scope_ns[0] ? L("rolebindings") : L("clusterrolebindings"),
	    tmp, sizeof(tmp)))
		return 0;
	if (all)
		kc_fmt_trunc(d, n, "verbs * on resources * in apiGroups *%s",
		    c->scope_ns[0] ? " (every namespaced resource of the namespace; no cluster-scoped resource)" :
		    " (cluster-admin)");
	else
		kc_fmt_trunc(d, n, "bound to ClusterRole cluster-admin%s",
		    c->scope_ns[0] ? " through a RoleBinding (admin of the namespace only)" : "");
	return KC_SEV_CRITICAL;
}

static int
p002(const void *vc, char *d, size_t n)
{
	const struct kc_rbac_rule *r = ((const struct fctx *)vc)->r;
	const char *where = NULL;

	if (has_str(&r->verbs, "*"))
		where = "verbs";
	else if (has_str(&r->resources, "*"))
		where = "resources";
	else if (has_str(&r->groups, "*"))
		where = "apiGroups";
	for (size_t i = 0; where == NULL && i < r->resources.n; i++)
		if (strncmp(r->resources.v[i], "*/", 2) == 0)
			where = "resources (*/subresource)";
	if (where == NULL)
		return 0;
	kc_fmt_trunc(d, n, "wildcard in %s", where);
	return KC_SEV_MEDIUM;
}

static const char *const READ[] = { "get", "list", "watch", NULL };
static const char *const WRITE[] = { "create", "update", "patch", NULL };

static int
p003(const void *vc, char *d, size_t n)
{
	const struct fctx *c = vc;

	if (c->scope_ns[0] != '\0' || !can(c, L("list", "get", "watch"), "", L("secrets"), d, n))
		return 0;
	return KC_SEV_CRITICAL;
}

static int
p004(const void *vc, char *d, size_t n)
{
	const struct fctx *c = vc;

	if (c->scope_ns[0] == '\0' ||
	    (strcmp(c->scope_ns, "kube-system") != 0 && strcmp(c->scope_ns, c->sa_ns) != 0))
		return 0;
	return can(c, READ, "", L("secrets"), d, n) ? KC_SEV_HIGH : 0;
}

static int
p005(const void *vc, char *d, size_t n)
{
	return can(vc, L("escalate"), RBACG, L("roles", "clusterroles"), d, n) ? KC_SEV_CRITICAL : 0;
}

static int
p006(const void *vc, char *d, size_t n)
{
	const struct kc_rbac_rule *r = ((const struct fctx *)vc)->r;

	if (!can(vc, L("bind"), RBACG, L("roles", "clusterroles"), d, n))
		return 0;
	return r->names.n == 0 ? KC_SEV_CRITICAL : KC_SEV_HIGH;
}

static int
p007(const void *vc, char *d, size_t n)
{
	return can(vc, WRITE, RBACG, L("rolebindings", "clusterrolebindings"), d, n) ? KC_SEV_CRITICAL : 0;
}

static int
p008(const void *vc, char *d, size_t n)
{
	const struct fctx *c = vc;
	const struct kc_rbac_rule *r = c->r;

	if (can(c, L("impersonate"), "", L("users", "groups", "serviceaccounts"), d, n) ||
	    can(c, L("impersonate"), "authentication.k8s.io", L("uids"), d, n))
		return KC_SEV_CRITICAL;
	/* userextras/<key>: any key the rule names */
	for (size_t i = 0; i < r->resources.n; i++) {
		if (strncmp(r->resources.v[i], "userextras/", 11) == 0 &&
		    can(c, L("impersonate"), "authentication.k8s.io", L(r->resources.v[i]), d, n))
			return KC_SEV_CRITICAL;
	}
	return 0;
}

static int
p009(const void *vc, char *d, size_t n)
{
	if (can(vc, L("create"), "", L("pods"), d, n) ||
	    can(vc, WRITE, "apps", L("deployments", "daemonsets", "statefulsets", "replicasets"), d, n) ||
	    can(vc, WRITE, "batch", L("jobs", "cronjobs"), d, n) ||
	    can(vc, WRITE, "", L("replicationcontrollers"), d, n))
		return KC_SEV_HIGH;
	return 0;
}

static int
p010(const void *vc, char *d, size_t n)
{
	/* get is enough: exec over WebSocket is a GET on current clusters */
	if (can(vc, L("get", "create"), "", L("pods/exec", "pods/attach", "pods/portforward"), d, n) ||
	    can(vc, L("patch", "update"), "", L("pods/ephemeralcontainers"), d, n))
		return KC_SEV_CRITICAL;
	return 0;
}

static int
p011(const void *vc, char *d, size_t n)
{
	if (!can(vc, L("get", "create", "update", "patch", "delete"), "", L("nodes/proxy"), d, n))
		return 0;
	{
		size_t l = strlen(d);

		kc_fmt_trunc(d + l, n - l, " (kubelet API: exec in any pod of the node)");
	}
	return KC_SEV_CRITICAL;
}

static int
p012(const void *vc, char *d, size_t n)
{
	if (can(vc, L("create"), "", L("serviceaccounts/token"), d, n) ||
	    can(vc, WRITE, "", L("secrets"), d, n))
		return KC_SEV_CRITICAL;
	return 0;
}

static int
p013(const void *vc, char *d, size_t n)
{
	if (can(vc, L("update", "patch"), "certificates.k8s.io", L("certificatesigningrequests/approval"), d, n) ||
	    can(vc, L("approve"), "certificates.k8s.io", L("signers"), d, n))
		return KC_SEV_CRITICAL;
	return 0;
}

static int
p014(const void *vc, char *d, size_t n)
{
	return can(vc, L("create", "update", "patch", "delete"),
	    "admissionregistration.k8s.io", L("mutatingwebhookconfigurations",
	    "validatingwebhookconfigurations", "validatingadmissionpolicies",
	    "validatingadmissionpolicybindings", "mutatingadmissionpolicies",
	    "mutatingadmissionpolicybindings"), d, n) ? KC_SEV_HIGH : 0;
}

static int
p015(const void *vc, char *d, size_t n)
{
	if (can(vc, L("create", "update", "patch", "delete"), "apiextensions.k8s.io",
	    L("customresourcedefinitions"), d, n) ||
	    can(vc, L("create", "update", "patch", "delete"), "apiregistration.k8s.io", L("apiservices"), d, n))
		return KC_SEV_HIGH;
	return 0;
}

static int
p016(const void *vc, char *d, size_t n)
{
	if (can(vc, L("patch", "update"), "", L("nodes", "nodes/status"), d, n) ||
	    can(vc, L("delete"), "", L("nodes"), d, n))
		return KC_SEV_HIGH;
	return 0;
}

static int
p017(const void *vc, char *d, size_t n)
{
	return can(vc, L("create"), "", L("persistentvolumes"), d, n) ? KC_SEV_HIGH : 0;
}

static int
p018(const void *vc, char *d, size_t n)
{
	if (can(vc, WRITE, "", L("services/status", "endpoints"), d, n) ||
	    can(vc, WRITE, "discovery.k8s.io", L("endpointslices"), d, n))
		return KC_SEV_MEDIUM;
	return 0;
}

static int
p019(const void *vc, char *d, size_t n)
{
	const struct fctx *c = vc;
	const struct kc_rbac_rule *r = c->r;
	const char *const del[] = { "delete", "deletecollection", NULL };
	char tmp[512];

	/* resources *: the proof is one resource of a group the rule covers */
	if (has_str(&r->resources, "*") &&
	    (can(c, del, "", L("namespaces", "configmaps"), tmp, sizeof(tmp)) ||
	    can(c, del, "apps", L("deployments"), tmp, sizeof(tmp)) ||
	    can(c, del, "batch", L("jobs"), tmp, sizeof(tmp)) ||
	    can(c, del, RBACG, L("roles"), tmp, sizeof(tmp)))) {
		kc_fmt_trunc(d, n, "can %s every resource (resources *)", c->pf ? c->pf->verb : "delete");
		return KC_SEV_MEDIUM;
	}
	if (can(c, del, "", L("namespaces", "persistentvolumes"), d, n) ||
	    can(c, del, "apiextensions.k8s.io", L("customresourcedefinitions"), d, n))
		return KC_SEV_MEDIUM;
	return 0;
}

static int
p020(const void *vc, char *d, size_t n)
{
	const struct fctx *c = vc;

	if (can(c, L("delete", "deletecollection"), "", L("events"), d, n) ||
	    can(c, L("delete", "deletecollection"), "events.k8s.io", L("events"), d, n))
		return KC_SEV_MEDIUM;
	if ((c->scope_ns[0] == '\0' || strcmp(c->scope_ns, "kube-system") == 0) &&
	    can(c, L("create", "update", "patch", "delete"), "", L("configmaps"), d, n)) {
		size_t l = strlen(d);

		kc_fmt_trunc(d + l, n - l, " in kube-system");
		if (c->pf != NULL)
			proof_put(c->pf, c->pf->ns, sizeof(c->pf->ns), "kube-system");
		return KC_SEV_MEDIUM;
	}
	return 0;
}

static int
p021(const void *vc, char *d, size_t n)
{
	if (!can(vc, WRITE, RBACG, L("clusterroles"), d, n))
		return 0;
	{
		size_t l = strlen(d);

		kc_fmt_trunc(d + l, n - l, " (aggregate-to-* labels or an aggregationRule inject rules into other roles)");
	}
	return KC_SEV_HIGH;
}

static int
broad_group(const char *g)
{
	return strcmp(g, "system:authenticated") == 0 || strcmp(g, "system:unauthenticated") == 0 ||
	    strcmp(g, "system:serviceaccounts") == 0 || strncmp(g, "system:serviceaccounts:", 23) == 0;
}

/* The bindings the API server creates for every identity; flagging them
 * would flag every account of every cluster. */
static int
default_binding(const struct kc_rbac_binding *b)
{
	static const char *const defaults[] = { "system:basic-user", "system:discovery",
		"system:public-info-viewer", "system:service-account-issuer-discovery", NULL };
	const cJSON *boot = kc_json_get(b->labels, "kubernetes.io/bootstrapping");

	if (!b->cluster || !cJSON_IsString(boot) || strcmp(boot->valuestring, "rbac-defaults") != 0 ||
	    strcmp(b->role_kind, "ClusterRole") != 0 || strcmp(b->name, b->role_name) != 0)
		return 0;
	for (size_t i = 0; defaults[i] != NULL; i++)
		if (strcmp(b->role_name, defaults[i]) == 0)
			return 1;
	return 0;
}

static int
p022(const void *vc, char *d, size_t n)
{
	const struct fctx *c = vc;
	const struct kc_rbac_binding *b = c->g->binding;

	if (c->r->index != 0 || default_binding(b))
		return 0;
	for (size_t i = 0; i < b->nsubjects; i++) {
		const struct kc_snap_subject *s = &b->subjects[i];

		if (strcmp(s->kind, "User") == 0 && strcmp(s->name, "system:anonymous") == 0) {
			kc_fmt_trunc(d, n, "binding names User system:anonymous");
			return KC_SEV_CRITICAL;
		}
		if (strcmp(s->kind, "Group") != 0 || !broad_group(s->name))
			continue;
		for (size_t k = 0; k < c->id->ngroups; k++) {
			if (strcmp(c->id->groups[k], s->name) == 0) {
				kc_fmt_trunc(d, n, "access held through Group %s (every identity in it has it)", s->name);
				return KC_SEV_CRITICAL;
			}
		}
	}
	return 0;
}

static int
p023(const void *vc, char *d, size_t n)
{
	const struct fctx *c = vc;
	const struct kc_rbac_rule *r = c->r;

	/* non-resource rules authorize only through ClusterRoleBindings */
	if (c->scope_ns[0] != '\0' || !(has_str(&r->urls, "*") || has_str(&r->urls, "/*")))
		return 0;
	for (size_t i = 0; i < r->verbs.n; i++) {
		if (strcmp(r->verbs.v[i], "get") != 0) {
			kc_fmt_trunc(d, n, "nonResourceURLs * with verb %s", r->verbs.v[i]);
			if (c->pf != NULL) {
				memset(c->pf, 0, sizeof(*c->pf));
				c->pf->set = 1;
				proof_put(c->pf, c->pf->verb, sizeof(c->pf->verb),
				    strcmp(r->verbs.v[i], "*") == 0 ? "post" : r->verbs.v[i]);
				proof_put(c->pf, c->pf->path, sizeof(c->pf->path), "/metrics");
			}
			return KC_SEV_MEDIUM;
		}
	}
	return 0;
}

const struct kc_finding_def kc_finding_defs[] = {
	{ "AGR-001", KC_SEV_CRITICAL, "can act as cluster-admin", "T1078", "CWE-250, CWE-269", p001, "ability" },
	{ "AGR-002", KC_SEV_MEDIUM, "uses a wildcard in verbs, resources or apiGroups", "", "CWE-732", p002, "rule" },
	{ "AGR-003", KC_SEV_CRITICAL, "can read secrets cluster-wide", "T1552.007, T1528", "CWE-522", p003, "ability" },
	{ "AGR-004", KC_SEV_HIGH, "can read secrets in kube-system or its own namespace", "T1552.007", "CWE-522", p004, "ability" },
	{ "AGR-005", KC_SEV_CRITICAL, "can escalate roles or clusterroles", "T1098", "CWE-269", p005, "ability" },
	{ "AGR-006", KC_SEV_CRITICAL, "can bind roles or clusterroles", "T1098", "CWE-269", p006, "ability" },
	{ "AGR-007", KC_SEV_CRITICAL, "can write rolebindings or clusterrolebindings", "T1098", "CWE-269", p007, "ability" },
	{ "AGR-008", KC_SEV_CRITICAL, "can impersonate users, groups, serviceaccounts, uids or userextras", "T1078", "CWE-269", p008, "ability" },
	{ "AGR-009", KC_SEV_HIGH, "can create pods or write workload controllers", "T1610", "CWE-269", p009, "ability" },
	{ "AGR-010", KC_SEV_CRITICAL, "can exec, attach or port-forward into pods, or add ephemeral containers", "T1609", "CWE-250", p010, "ability" },
	{ "AGR-011", KC_SEV_CRITICAL, "can use nodes/proxy", "T1609, T1611", "CWE-284", p011, "ability" },
	{ "AGR-012", KC_SEV_CRITICAL, "can mint service account tokens or write secrets", "T1528", "CWE-522", p012, "ability" },
	{ "AGR-013", KC_SEV_CRITICAL, "can approve certificate signing requests", "T1649", "CWE-269", p013, "ability" },
	{ "AGR-014", KC_SEV_HIGH, "can write admission webhooks or admission policies", "T1562.001", "CWE-284", p014, "ability" },
	{ "AGR-015", KC_SEV_HIGH, "can write CRDs or apiservices", "", "CWE-284", p015, "ability" },
	{ "AGR-016", KC_SEV_HIGH, "can patch or delete nodes", "T1611", "CWE-284", p016, "ability" },
	{ "AGR-017", KC_SEV_HIGH, "can create persistentvolumes", "T1611", "CWE-250", p017, "ability" },
	{ "AGR-018", KC_SEV_MEDIUM, "can write services/status, endpoints or endpointslices", "", "CWE-284", p018, "ability" },
	{ "AGR-019", KC_SEV_MEDIUM, "can delete every resource, namespaces, PVs or CRDs", "T1485", "CWE-284", p019, "ability" },
	{ "AGR-020", KC_SEV_MEDIUM, "can delete events or write configmaps in kube-system", "T1070", "CWE-778", p020, "ability" },
	{ "AGR-021", KC_SEV_HIGH, "can write clusterroles (aggregation labels, aggregationRule)", "T1098", "CWE-269", p021, "ability" },
	{ "AGR-022", KC_SEV_CRITICAL, "holds access through a binding to anonymous, unauthenticated, all authenticated or all service accounts", "T1078", "CWE-284", p022, "binding" },
	{ "AGR-023", KC_SEV_MEDIUM, "nonResourceURLs * with verbs other than get", "", "CWE-284", p023, "ability" },
	{ "AGR-024", KC_SEV_INFO, "evidence gap: review incomplete, evaluation error, missing role, or server and evaluator disagree", "", "", NULL, "evidence" },
	{ NULL, 0, NULL, NULL, NULL, NULL, NULL },
};

const struct kc_finding_def *
kc_finding_def(const char *id)
{
	for (size_t i = 0; kc_finding_defs[i].id != NULL; i++)
		if (strcmp(kc_finding_defs[i].id, id) == 0)
			return &kc_finding_defs[i];
	return NULL;
}

int
kc_findings_init(struct kc_findings *f)
{
	memset(f, 0, sizeof(*f));
	f->arena = kc_jarena_new();	/* NULL (no memory): findings on the heap */
	f->list = cJSON_CreateArray();
	f->secret_reader_list = cJSON_CreateArray();
	if (f->list == NULL || f->secret_reader_list == NULL) {
		kc_findings_free(f);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	return 0;
}

void
kc_findings_free(struct kc_findings *f)
{
	if (f == NULL)
		return;
	cJSON_Delete(f->list);	/* the heap nodes added to findings (annotations) */
	cJSON_Delete(f->secret_reader_list);
	kc_jarena_free(f->arena);	/* after every tree that held its nodes */
	memset(f, 0, sizeof(*f));
}

static cJSON *
sa_json(const char *ns, const char *name)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", "ServiceAccount");
	cJSON_AddStringToObject(o, "namespace", ns);
	cJSON_AddStringToObject(o, "name", name);
	return o;
}

static void
count(struct kc_findings *f, int sev)
{
	if (sev < 0 || sev > KC_SEV_CRITICAL)
		return;
	f->counts[sev]++;
	if (sev > f->worst)
		f->worst = sev;
}

static cJSON *
base_finding(const struct kc_finding_def *def, int sev, const char *sa_ns, const char *sa_name)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", def->id);
	cJSON_AddStringToObject(o, "severity", kc_sev_name(sev));
	cJSON_AddStringToObject(o, "title", def->title);
	cJSON_AddStringToObject(o, "attack", def->attack);
	cJSON_AddStringToObject(o, "cwe", def->cwe);
	cJSON_AddItemToObject(o, "subject", sa_json(sa_ns, sa_name));
	return o;
}

static cJSON *
proof_json(const struct proof *p)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "verb", p->verb);
	if (p->path[0] != '\0') {
		cJSON_AddStringToObject(o, "nonResourceURL", p->path);
		return o;
	}
	cJSON_AddStringToObject(o, "apiGroup", p->group);
	cJSON_AddStringToObject(o, "resource", p->resource);
	if (p->sub[0] != '\0')
		cJSON_AddStringToObject(o, "subresource", p->sub);
	if (p->ns[0] != '\0')
		cJSON_AddStringToObject(o, "namespace", p->ns);
	if (p->name[0] != '\0')
		cJSON_AddStringToObject(o, "name", p->name);
	return o;
}

static int
add_hit(struct kc_findings *f, const struct kc_finding_def *def, int sev, const struct fctx *c,
    const struct kc_selected *sa, const char *detail)
{
	cJSON *o = base_finding(def, sev, sa->ns, sa->name);
	const struct kc_rbac_binding *b = c->g->binding;
	char reason[4096];

	if (o == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddStringToObject(o, "scope", c->scope_ns[0] ? "namespace" : "cluster");
	if (c->scope_ns[0])
		cJSON_AddStringToObject(o, "namespace", c->scope_ns);
	cJSON_AddItemToObject(o, "binding", kc_rbac_binding_ref_json(b));
	cJSON_AddItemToObject(o, "bindingSubject", kc_rbac_subject_json(&b->subjects[c->g->subject]));
	cJSON_AddItemToObject(o, "role", kc_rbac_role_ref_json(b));
	cJSON_AddItemToObject(o, "rule", kc_rbac_rule_json(c->r));
	cJSON_AddNumberToObject(o, "ruleIndex", (double)c->r->index);
	cJSON_AddStringToObject(o, "matched", detail);
	cJSON_AddStringToObject(o, "claim", def->claim);
	if (strcmp(def->claim, "ability") == 0 && c->pf != NULL && c->pf->set)
		cJSON_AddItemToObject(o, "request", proof_json(c->pf));
	/* a wildcard named by its concrete reach on this cluster, when the
	 * bundle has discovery (rbac/reach.h) */
	if (strcmp(def->id, "AGR-001") == 0 || strcmp(def->id, "AGR-002") == 0) {
		cJSON *reach = kc_rbac_wildcard_reach(c->r, c->scope_ns[0] != '\0');

		if (reach != NULL)
			cJSON_AddItemToObject(o, "reach", reach);
	}
	if (kc_rbac_reason(c->g, reason, sizeof(reason)) == 0)
		cJSON_AddStringToObject(o, "reason", reason);
	if ((o = kc_jarena_take(f->arena, o)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddItemToArray(f->list, o);
	count(f, sev);
	return 0;
}

static int
cmp_pos(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static int
eval_grants(struct kc_findings *f, const struct kc_rbac_rules *rr, const char *scope_ns,
    const struct kc_selected *sa, const struct kc_rbac_identity *id, int *reads_secrets)
{
	char detail[1024];
	int r;

	for (size_t i = 0; i < rr->n; i++) {
		struct proof pf;
		struct fctx c = { &rr->grants[i], rr->grants[i].rule, scope_ns, sa->ns, id, &pf };

		/* the cluster pass sees ClusterRoleBindings, the namespace
		 * passes only their own RoleBindings */
		if (rr->grants[i].binding->cluster != (scope_ns[0] == '\0'))
			continue;
		if (can(&c, READ, "", L("secrets"), detail, sizeof(detail)))
			*reads_secrets = 1;
		for (size_t d = 0; kc_finding_defs[d].id != NULL; d++) {
			int sev;

			if (kc_finding_defs[d].pred == NULL)
				continue;
			detail[0] = '\0';
			pf.set = 0;
			if ((sev = kc_finding_defs[d].pred(&c, detail, sizeof(detail))) == 0)
				continue;
			if ((r = add_hit(f, &kc_finding_defs[d], sev, &c, sa, detail)) != 0)
				return r;
		}
	}
	return 0;
}

static int
missing_gaps(struct kc_findings *f, const struct kc_rbac_rules *rr, const char *scope_ns,
    const struct kc_selected *sa)
{
	for (size_t i = 0; i < rr->nmissing; i++) {
		const struct kc_rbac_binding *b = rr->missing[i];
		struct kc_buf m = KC_BUF_INIT(4096);
		cJSON *d;
		int r;

		if (b->cluster != (scope_ns[0] == '\0'))
			continue;
		kc_buf_addf(&m, "binding to missing %s '%s' grants nothing", b->role_kind, b->role_name);
		d = cJSON_CreateObject();
		cJSON_AddItemToObject(d, "binding", kc_rbac_binding_ref_json(b));
		cJSON_AddItemToObject(d, "role", kc_rbac_role_ref_json(b));
		r = kc_findings_add_gap(f, sa->ns, sa->name, scope_ns, kc_buf_str(&m), d);
		kc_buf_free(&m);
		if (r != 0)
			return r;
	}
	return 0;
}

/* One scope's findings: the cluster pass (ns "") sees only the
 * ClusterRoleBindings, a namespace pass only that namespace's RoleBindings,
 * so the latter asks for those alone (kc_rbac_rules_for_ns lists them in
 * the same order as kc_rbac_rules_for does after the ClusterRoleBindings). */
static int
eval_ns(struct kc_findings *f, const struct kc_rbac *rb, const struct kc_selected *sa,
    const struct kc_rbac_identity *id, const char *ns, struct kc_rbac_rules *rr, int *reads)
{
	int r;

	if ((r = ns[0] == '\0' ? kc_rbac_rules_for(rb, id, ns, rr) : kc_rbac_rules_for_ns(rb, id, ns, rr)) != 0 ||
	    (r = eval_grants(f, rr, ns, sa, id, reads)) != 0)
		return r;
	return missing_gaps(f, rr, ns, sa);
}

/* The positions in namespaces (ascending, each once) of the namespaces
 * whose RoleBindings can name id (kc_rbac_rb_candidates): a namespace pass
 * anywhere else finds nothing, so an account is evaluated in the
 * namespaces it is bound in, not in every namespace of the cluster (that
 * made the analysis agents x namespaces).  An empty name in the list (a
 * Namespace object without one) is kept wherever it is: its pass is the
 * cluster scope's again, as it always was. */
static int
bound_positions(const struct kc_rbac *rb, const struct kc_hmap *pos, const struct kc_rbac_identity *id,
    size_t **cand, size_t *ncand, size_t *capcand, size_t **v, size_t *n, size_t *cap)
{
	size_t w = 0;
	int r;

	*n = 0;
	if ((r = kc_rbac_rb_candidates(rb, id, cand, ncand, capcand)) != 0)
		return r;
	for (size_t c = 0; c <= *ncand; c++) {
		const struct kc_hmap_entry *e = kc_hmap_get(pos, c < *ncand ? rb->bindings[(*cand)[c]].ns : "");

		if (e == NULL)
			continue;
		if (KC_GROW(*v, *cap, *n + e->n) != 0)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		memcpy(*v + *n, e->vals, e->n * sizeof(**v));
		*n += e->n;
	}
	if (*n > 1)
		qsort(*v, *n, sizeof(**v), cmp_pos);
	for (size_t i = 0; i < *n; i++)
		if (w == 0 || (*v)[w - 1] != (*v)[i])
			(*v)[w++] = (*v)[i];
	*n = w;
	return 0;
}

int
kc_findings_eval(struct kc_findings *f, const struct kc_rbac *rb, const struct kc_selection *sel,
    const char *const *namespaces)
{
	struct kc_rbac_rules rr;
	struct kc_hmap pos;
	size_t *cand = NULL, ncand = 0, capcand = 0, *at = NULL, nat = 0, capat = 0;
	int r = 0;

	memset(&rr, 0, sizeof(rr));
	memset(&pos, 0, sizeof(pos));
	/* each namespace's position in the list: the passes keep its order */
	for (size_t i = 0; r == 0 && namespaces != NULL && namespaces[i] != NULL; i++)
		r = kc_hmap_add(&pos, namespaces[i], i);
	for (size_t s = 0; s < sel->n && r == 0; s++) {
		const struct kc_selected *sa = &sel->v[s];
		struct kc_rbac_sa_id id;
		int reads = 0;

		if ((r = kc_rbac_sa_identity(&id, sa->ns, sa->name)) != 0)
			break;
		if ((r = eval_ns(f, rb, sa, &id.id, "", &rr, &reads)) != 0)
			break;
		if ((r = bound_positions(rb, &pos, &id.id, &cand, &ncand, &capcand, &at, &nat, &capat)) != 0)
			break;
		for (size_t i = 0; r == 0 && i < nat; i++)
			r = eval_ns(f, rb, sa, &id.id, namespaces[at[i]], &rr, &reads);
		if (r == 0 && kc_hmap_get(&pos, sa->ns) == NULL)
			r = eval_ns(f, rb, sa, &id.id, sa->ns, &rr, &reads);
		if (r == 0 && reads) {
			char who[1024];

			if ((r = kc_fmt(who, sizeof(who), "%s/%s", sa->ns, sa->name)) != 0)
				break;
			cJSON_AddItemToArray(f->secret_reader_list, cJSON_CreateString(who));
			f->secret_readers++;
		}
	}
	kc_rbac_rules_free(&rr);
	kc_hmap_free(&pos);
	free(cand);
	free(at);
	return r;
}

int
kc_findings_add_gap(struct kc_findings *f, const char *sa_ns, const char *sa_name, const char *ns,
    const char *what, cJSON *detail)
{
	/* the table's evidence-gap entry */
	const struct kc_finding_def *def = &kc_finding_defs[KC_GAP_INDEX];
	cJSON *o = base_finding(def, def->severity, sa_ns, sa_name);

	if (o == NULL) {
		cJSON_Delete(detail);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	cJSON_AddStringToObject(o, "scope", ns != NULL && ns[0] ? "namespace" : "cluster");
	if (ns != NULL && ns[0])
		cJSON_AddStringToObject(o, "namespace", ns);
	cJSON_AddStringToObject(o, "matched", what);
	cJSON_AddStringToObject(o, "claim", def->claim);
	if (detail != NULL)
		cJSON_AddItemToObject(o, "detail", detail);
	if ((o = kc_jarena_take(f->arena, o)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddItemToArray(f->list, o);
	count(f, def->severity);
	return 0;
}

static int
cmp_finding(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	const cJSON *sx = kc_json_get(x, "subject");
	const cJSON *sy = kc_json_get(y, "subject");
	int c;

	if ((c = kc_sev_parse(kc_json_str0(y, "severity")) - kc_sev_parse(kc_json_str0(x, "severity"))) != 0)
		return c;
	if ((c = strcmp(kc_json_str0(x, "id"), kc_json_str0(y, "id"))) != 0)
		return c;
	if ((c = strcmp(kc_json_str0(sx, "namespace"), kc_json_str0(sy, "namespace"))) != 0)
		return c;
	if ((c = strcmp(kc_json_str0(sx, "name"), kc_json_str0(sy, "name"))) != 0)
		return c;
	if ((c = strcmp(kc_json_str0(x, "scope"), kc_json_str0(y, "scope"))) != 0)
		return c;
	if ((c = strcmp(kc_json_str0(x, "namespace"), kc_json_str0(y, "namespace"))) != 0)
		return c;
	if ((c = strcmp(kc_json_str0(kc_json_get(x, "binding"), "namespace"),
	    kc_json_str0(kc_json_get(y, "binding"), "namespace"))) != 0)
		return c;
	if ((c = strcmp(kc_json_str0(kc_json_get(x, "binding"), "name"),
	    kc_json_str0(kc_json_get(y, "binding"), "name"))) != 0)
		return c;
	if ((c = cJSON_GetNumberValue(kc_json_get(x, "ruleIndex")) <
	    cJSON_GetNumberValue(kc_json_get(y, "ruleIndex")) ? -1 :
	    cJSON_GetNumberValue(kc_json_get(x, "ruleIndex")) >
	    cJSON_GetNumberValue(kc_json_get(y, "ruleIndex"))) != 0)
		return c;
	return strcmp(kc_json_str0(x, "matched"), kc_json_str0(y, "matched"));
}

void
kc_findings_sort(struct kc_findings *f)
{
	size_t n = (size_t)cJSON_GetArraySize(f->list), i = 0;
	cJSON **v, *it;

	if (n < 2 || (v = kc_calloc(n, sizeof(*v))) == NULL)
		return;
	while ((it = cJSON_DetachItemFromArray(f->list, 0)) != NULL)
		v[i++] = it;
	/* the key is total, so qsort's instability cannot show */
	qsort(v, i, sizeof(*v), cmp_finding);
	for (size_t k = 0; k < i; k++)
		cJSON_AddItemToArray(f->list, v[k]);
	free(v);
}

const char *
kc_findings_triage(const struct kc_findings *f)
{
	return f->secret_readers > 0 ? "URGENT" : "ROUTINE";
}

int
kc_findings_fail(const struct kc_findings *f, int min)
{
	return min > 0 && f->worst >= min;
}

static cJSON *
findings_json(const struct kc_findings *f, int borrow)
{
	cJSON *o = cJSON_CreateObject(), *counts, *rules;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "triage", kc_findings_triage(f));
	cJSON_AddStringToObject(o, "triageReason", f->secret_readers > 0 ?
	    "an agent service account can read secrets (escalation criterion)" :
	    "no agent service account can read secrets");
	cJSON_AddItemToObject(o, "secretReaders", cJSON_Duplicate(f->secret_reader_list, 1));
	cJSON_AddStringToObject(o, "highestSeverity", kc_sev_name(f->worst));
	counts = cJSON_AddObjectToObject(o, "counts");
	for (int s = KC_SEV_CRITICAL; s >= KC_SEV_INFO; s--)
		cJSON_AddNumberToObject(counts, kc_sev_name(s), f->counts[s]);
	cJSON_AddItemToObject(o, "findings", borrow ? cJSON_CreateArrayReference(f->list->child) :
	    cJSON_Duplicate(f->list, 1));
	rules = cJSON_AddArrayToObject(o, "rules");
	for (size_t i = 0; kc_finding_defs[i].id != NULL; i++) {
		const struct kc_finding_def *d = &kc_finding_defs[i];
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "id", d->id);
		cJSON_AddStringToObject(e, "severity", kc_sev_name(d->severity));
		cJSON_AddStringToObject(e, "title", d->title);
		cJSON_AddStringToObject(e, "attack", d->attack);
		cJSON_AddStringToObject(e, "cwe", d->cwe);
		cJSON_AddStringToObject(e, "claim", d->claim);
		cJSON_AddItemToArray(rules, e);
	}
	return o;
}

cJSON *
kc_findings_json(const struct kc_findings *f)
{
	return findings_json(f, 0);
}

cJSON *
kc_findings_json_borrow(struct kc_findings *f)
{
	return findings_json(f, 1);
}
