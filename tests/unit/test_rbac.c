/* test_rbac.c - the offline evaluator, findings, selection and analysis.
 * Snapshots are written into the test's work folder from the literals
 * below (single quotes stand for double quotes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/snapshot.h"
#include "formats/inventory.h"
#include "harness.h"
#include "pipeline/analysis.h"
#include "rbac/analyze.h"
#include "rbac/eval.h"
#include "rbac/findings.h"
#include "rbac/scope.h"
#include "rbac/labels.h"
#include "rbac/review.h"
#include "rbac/secreach.h"
#include "rbac/select.h"
#include "rbac/whocan.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/jarena.h"
#include "util/json.h"
#include "util/log.h"

static void
write_page(const char *dir, const char *res, const char *items)
{
	struct kc_buf b = KC_BUF_INIT(1 << 24);
	char path[600], folder[512];

	snprintf(folder, sizeof(folder), "%s/raw/%s", dir, res);
	snprintf(path, sizeof(path), "%s/page-0001.json", folder);
	kc_buf_addf(&b, "{'kind':'List','items':[%s]}", items);
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\'')
			b.data[i] = '"';
	CHECK_INT(kc_mkdir_p(folder, 0755), 0);
	CHECK_INT(kc_write_file_atomic(path, b.data, b.len, 0644), 0);
	kc_buf_free(&b);
}

#define RB(ns, name, kind, role, subjects) \
	"{'metadata':{'name':'" name "','namespace':'" ns "'},'roleRef':{'apiGroup':'rbac.authorization.k8s.io'," \
	"'kind':'" kind "','name':'" role "'},'subjects':[" subjects "]}"
#define CRB(name, role, subjects) \
	"{'metadata':{'name':'" name "'},'roleRef':{'apiGroup':'rbac.authorization.k8s.io'," \
	"'kind':'ClusterRole','name':'" role "'},'subjects':[" subjects "]}"
#define SA(ns, name) "{'kind':'ServiceAccount','name':'" name "','namespace':'" ns "'}"
#define SA_NONS(name) "{'kind':'ServiceAccount','name':'" name "'}"
#define GROUP(name) "{'kind':'Group','apiGroup':'rbac.authorization.k8s.io','name':'" name "'}"
#define USER(name) "{'kind':'User','apiGroup':'rbac.authorization.k8s.io','name':'" name "'}"
#define SAOBJ(ns, name) "{'metadata':{'name':'" name "','namespace':'" ns "'}}"

/* A small estate with the traps of RBAC_SEMANTICS.md. */
static void
traps_snapshot(const char *dir)
{
	write_page(dir, "clusterroles",
	    "{'metadata':{'name':'secret-star'},'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['*']}]},"
	    "{'metadata':{'name':'exec-get'},'rules':[{'apiGroups':[''],'resources':['pods/exec'],'verbs':['get']}]},"
	    "{'metadata':{'name':'pod-reader'},'rules':[{'apiGroups':[''],'resources':['pods'],'verbs':['get','list']}]},"
	    "{'metadata':{'name':'scaler'},'rules':[{'apiGroups':['apps'],'resources':['*/scale'],'verbs':['update']}]},"
	    "{'metadata':{'name':'named'},'rules':[{'apiGroups':[''],'resources':['configmaps'],'resourceNames':['cm1'],'verbs':['get','list']}]},"
	    "{'metadata':{'name':'urls'},'rules':[{'nonResourceURLs':['/api/*','/healthz'],'verbs':['get']},{'nonResourceURLs':['*'],'verbs':['post']}]},"
	    "{'metadata':{'name':'cluster-admin'},'rules':[{'apiGroups':['*'],'resources':['*'],'verbs':['*']},{'nonResourceURLs':['*'],'verbs':['*']}]},"
	    "{'metadata':{'name':'agg','labels':{}},'aggregationRule':{'clusterRoleSelectors':[{'matchLabels':{'x/agg':'true'}}]},'rules':[]},"
	    "{'metadata':{'name':'agg-part','labels':{'x/agg':'true'}},'rules':[{'apiGroups':[''],'resources':['nodes'],'verbs':['get']}]},"
	    "{'metadata':{'name':'binder'},'rules':[{'apiGroups':['rbac.authorization.k8s.io'],'resources':['clusterroles'],'verbs':['bind'],'resourceNames':['view']}]}");
	write_page(dir, "roles",
	    "{'metadata':{'name':'local','namespace':'team'},'rules':[{'apiGroups':[''],'resources':['services'],'verbs':['get']}]}");
	write_page(dir, "clusterrolebindings",
	    CRB("crb-secret-star", "secret-star", SA("agents", "kagent-bot")) ","
	    CRB("crb-nons", "cluster-admin", SA_NONS("kagent-bot")) ","
	    CRB("crb-group-then-sa", "exec-get", GROUP("ops-team") "," SA("agents", "rag-agent")) ","
	    CRB("crb-urls", "urls", SA("agents", "ai-indexer")) ","
	    CRB("crb-missing", "no-such-role", SA("agents", "ai-indexer")) ","
	    CRB("crb-missing-2", "no-such-role", SA("agents", "ai-indexer")) ","
	    CRB("crb-all-sas", "pod-reader", GROUP("system:serviceaccounts")) ","
	    CRB("crb-agg", "agg", SA("agents", "ai-indexer")) ","
	    CRB("crb-user", "cluster-admin", USER("system:serviceaccount:agents:maintainer")));
	write_page(dir, "rolebindings",
	    RB("team", "rb-local", "Role", "local", SA_NONS("kagent-bot") "," SA("agents", "rag-agent")) ","
	    RB("team", "rb-cr", "ClusterRole", "scaler", SA("agents", "rag-agent")) ","
	    RB("team", "rb-named", "ClusterRole", "named", SA("agents", "ai-indexer")) ","
	    RB("team", "rb-missing-role", "Role", "gone", SA("agents", "ai-indexer")) ","
	    RB("team", "rb-urls", "ClusterRole", "urls", SA("agents", "rag-agent")) ","
	    RB("agents", "rb-binder", "ClusterRole", "binder", SA("agents", "kagent-bot")));
	write_page(dir, "namespaces", "{'metadata':{'name':'agents'}},{'metadata':{'name':'team'}},"
	    "{'metadata':{'name':'kube-system'}}");
	write_page(dir, "serviceaccounts", SAOBJ("agents", "kagent-bot") "," SAOBJ("agents", "rag-agent") ","
	    SAOBJ("agents", "ai-indexer") "," SAOBJ("agents", "maintainer") "," SAOBJ("team", "kagent-bot") ","
	    SAOBJ("agents", "llm-gateway"));
	write_page(dir, "pods",
	    "{'metadata':{'name':'gw-1','namespace':'agents','labels':{'app':'gw','tier':'llm'}},'spec':{'serviceAccountName':'llm-gateway'}},"
	    "{'metadata':{'name':'web-1','namespace':'agents','labels':{'app':'web'}},'spec':{}}");
	write_page(dir, "secrets", "{'metadata':{'name':'s1','namespace':'agents'}},"
	    "{'metadata':{'name':'s,2\\\"q','namespace':'team'}}");
}

struct env {
	struct kc_snapshot snap;
	struct kc_rbac rb;
};

static int
env_load(struct env *e)
{
	traps_snapshot(".");
	if (kc_snapshot_load_dir(".", &e->snap) != 0)
		return -1;
	return kc_rbac_init(&e->rb, &e->snap);
}

static void
env_free(struct env *e)
{
	kc_rbac_free(&e->rb);
	kc_snapshot_free(&e->snap);
}

static int
allowed(struct env *e, const char *sa_ns, const char *sa, const char *verb, const char *group,
    const char *res, const char *sub, const char *name, const char *ns)
{
	struct kc_rbac_sa_id id;
	struct kc_rbac_request req = { verb, group, res, sub, name, ns, NULL };
	struct kc_rbac_decision d;

	if (kc_rbac_sa_identity(&id, sa_ns, sa) != 0 || kc_rbac_authorize(&e->rb, &id.id, &req, &d) != 0)
		return -1;
	return d.allowed;
}

static int
url_allowed(struct env *e, const char *sa, const char *verb, const char *path)
{
	struct kc_rbac_sa_id id;
	struct kc_rbac_request req = { verb, NULL, NULL, NULL, NULL, NULL, path };
	struct kc_rbac_decision d;

	if (kc_rbac_sa_identity(&id, "agents", sa) != 0 || kc_rbac_authorize(&e->rb, &id.id, &req, &d) != 0)
		return -1;
	return d.allowed;
}

DEFINE_TEST(test_rbac_subject_matching)
{
	struct env e;

	CHECK_INT(env_load(&e), 0);
	/* SA subject without namespace in a ClusterRoleBinding never matches */
	CHECK_INT(allowed(&e, "agents", "kagent-bot", "delete", "", "nodes", NULL, NULL, NULL), 0);
	/* ... in a RoleBinding it means the binding's namespace */
	CHECK_INT(allowed(&e, "team", "kagent-bot", "get", "", "services", NULL, NULL, "team"), 1);
	CHECK_INT(allowed(&e, "agents", "kagent-bot", "get", "", "services", NULL, NULL, "team"), 0);
	/* an SA subject after a Group subject in one binding is seen */
	CHECK_INT(allowed(&e, "agents", "rag-agent", "get", "", "pods", "exec", "p", "any"), 1);
	/* a User subject naming an SA's user matches that SA */
	CHECK_INT(allowed(&e, "agents", "maintainer", "delete", "", "nodes", NULL, "n1", NULL), 1);
	/* groups: system:serviceaccounts holds every SA, existing or not */
	CHECK_INT(allowed(&e, "nowhere", "ghost", "list", "", "pods", NULL, NULL, "x"), 1);
	CHECK_INT(allowed(&e, "nowhere", "ghost", "watch", "", "pods", NULL, NULL, "x"), 0);
	env_free(&e);
}

DEFINE_TEST(test_rbac_rule_matching)
{
	struct env e;

	CHECK_INT(env_load(&e), 0);
	/* verbs '*' */
	CHECK_INT(allowed(&e, "agents", "kagent-bot", "watch", "", "secrets", NULL, NULL, "team"), 1);
	/* ClusterRole through RoleBinding: only in that namespace */
	CHECK_INT(allowed(&e, "agents", "rag-agent", "update", "apps", "deployments", "scale", "d", "team"), 1);
	CHECK_INT(allowed(&e, "agents", "rag-agent", "update", "apps", "deployments", "scale", "d", "agents"), 0);
	/* the subresource rule does not cover the resource itself */
	CHECK_INT(allowed(&e, "agents", "rag-agent", "update", "apps", "deployments", NULL, "d", "team"), 0);
	/* pods does not cover pods/log */
	CHECK_INT(allowed(&e, "nowhere", "ghost", "get", "", "pods", "log", "p", "x"), 0);
	/* resourceNames: the name must be given and equal; list carries none */
	CHECK_INT(allowed(&e, "agents", "ai-indexer", "get", "", "configmaps", NULL, "cm1", "team"), 1);
	CHECK_INT(allowed(&e, "agents", "ai-indexer", "get", "", "configmaps", NULL, "cm2", "team"), 0);
	CHECK_INT(allowed(&e, "agents", "ai-indexer", "list", "", "configmaps", NULL, NULL, "team"), 0);
	/* apiGroup must match */
	CHECK_INT(allowed(&e, "agents", "rag-agent", "update", "", "deployments", "scale", "d", "team"), 0);
	/* non-resource URLs: prefix *, exact, only through ClusterRoleBindings */
	CHECK_INT(url_allowed(&e, "ai-indexer", "get", "/api/v1"), 1);
	CHECK_INT(url_allowed(&e, "ai-indexer", "get", "/api"), 0);
	CHECK_INT(url_allowed(&e, "ai-indexer", "get", "/healthz"), 1);
	CHECK_INT(url_allowed(&e, "ai-indexer", "post", "/anything"), 1);
	CHECK_INT(url_allowed(&e, "rag-agent", "get", "/healthz"), 0);
	env_free(&e);
}

DEFINE_TEST(test_rbac_rules_review)
{
	struct env e;
	struct kc_rbac_sa_id id;
	struct kc_rbac_rules rr;
	char *err, reason[1024];
	cJSON *st;

	memset(&rr, 0, sizeof(rr));
	CHECK_INT(env_load(&e), 0);
	CHECK_INT(kc_rbac_sa_identity(&id, "agents", "ai-indexer"), 0);
	CHECK_INT(kc_rbac_rules_for(&e.rb, &id.id, "team", &rr), 0);
	/* ClusterRoleBindings first, in list order, then the namespace's */
	CHECK(rr.n >= 4);
	CHECK_STR(rr.grants[0].binding->name, "crb-urls");
	CHECK_STR(rr.grants[rr.n - 1].binding->name, "rb-named");
	CHECK_INT(rr.nmissing, 3);
	err = kc_rbac_eval_error(&rr);
	/* duplicates collapse; several distinct messages are bracketed */
	CHECK_STR(err, "[clusterrole.rbac.authorization.k8s.io \"no-such-role\" not found, "
	    "role.rbac.authorization.k8s.io \"gone\" not found]");
	free(err);
	st = kc_rbac_status_json(&rr);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(st, "nonResourceRules")) == 2);
	cJSON_Delete(st);
	CHECK_INT(kc_rbac_reason(&rr.grants[rr.n - 1], reason, sizeof(reason)), 0);
	CHECK_STR(reason, "RBAC: allowed by RoleBinding \"rb-named/team\" of ClusterRole \"named\" to "
	    "ServiceAccount \"ai-indexer/agents\"");
	CHECK_INT(kc_rbac_rules_for(&e.rb, &id.id, "", &rr), 0);
	CHECK_INT(rr.nmissing, 2);
	err = kc_rbac_eval_error(&rr);
	CHECK_STR(err, "clusterrole.rbac.authorization.k8s.io \"no-such-role\" not found");
	free(err);
	kc_rbac_rules_free(&rr);
	env_free(&e);
}

DEFINE_TEST(test_rbac_aggregation_drift)
{
	struct env e;
	const struct kc_rbac_role *agg;
	cJSON *d;

	CHECK_INT(env_load(&e), 0);
	agg = kc_rbac_find_role(&e.rb, 1, "", "agg");
	CHECK(agg != NULL);
	CHECK(agg != NULL && agg->aggregated && agg->drift);
	CHECK(agg != NULL && cJSON_GetArraySize(agg->expected) == 1);
	/* the authorizer uses the stored (empty) rules */
	CHECK_INT(allowed(&e, "agents", "ai-indexer", "get", "", "nodes", NULL, "n", NULL), 0);
	d = kc_rbac_drift_json(&e.rb);
	CHECK_INT(cJSON_GetArraySize(d), 1);
	cJSON_Delete(d);
	env_free(&e);
}

static int
has_finding(const cJSON *list, const char *id, const char *sa, const char *scope_ns)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, list) {
		const cJSON *s = cJSON_GetObjectItem(f, "subject");
		const cJSON *ns = cJSON_GetObjectItem(f, "namespace");

		if (strcmp(cJSON_GetObjectItem(f, "id")->valuestring, id) == 0 &&
		    strcmp(cJSON_GetObjectItem(s, "name")->valuestring, sa) == 0 &&
		    (scope_ns == NULL || (ns != NULL && strcmp(ns->valuestring, scope_ns) == 0) ||
		    (scope_ns[0] == '\0' && ns == NULL)))
			return 1;
	}
	return 0;
}

DEFINE_TEST(test_rbac_findings_traps)
{
	static const char *const nss[] = { "agents", "team", "kube-system", NULL };
	struct kc_select_opts o = { NULL, 0, NULL, 0, NULL, 0, 0 };
	struct kc_selection sel;
	struct kc_findings f;
	struct env e;

	CHECK_INT(env_load(&e), 0);
	CHECK_INT(kc_select(&e.snap, &o, &sel), 0);
	CHECK_INT(kc_findings_init(&f), 0);
	CHECK_INT(kc_findings_eval(&f, &e.rb, &sel, nss), 0);
	/* verbs '*' on secrets: cluster-wide secret reading */
	CHECK(has_finding(f.list, "AGR-003", "kagent-bot", ""));
	CHECK(has_finding(f.list, "AGR-012", "kagent-bot", ""));
	CHECK(has_finding(f.list, "AGR-002", "kagent-bot", ""));
	/* get on pods/exec is exec; the SA after a group subject is seen */
	CHECK(has_finding(f.list, "AGR-010", "rag-agent", ""));
	/* negatives */
	CHECK(!has_finding(f.list, "AGR-003", "rag-agent", NULL));
	CHECK(!has_finding(f.list, "AGR-010", "kagent-bot", NULL));
	CHECK(!has_finding(f.list, "AGR-001", "kagent-bot", NULL));	/* crb-nons never matches */
	/* nonResourceURLs * with post, through the ClusterRoleBinding only */
	CHECK(has_finding(f.list, "AGR-023", "ai-indexer", ""));
	CHECK(!has_finding(f.list, "AGR-023", "rag-agent", NULL));
	/* bind with resourceNames is high, not critical */
	CHECK(has_finding(f.list, "AGR-006", "kagent-bot", "agents"));
	/* access through system:serviceaccounts */
	CHECK(has_finding(f.list, "AGR-022", "ai-indexer", ""));
	/* missing roles are evidence gaps */
	CHECK(has_finding(f.list, "AGR-024", "ai-indexer", ""));
	CHECK(has_finding(f.list, "AGR-024", "ai-indexer", "team"));
	/* maintainer is not an agent, so none of its findings */
	CHECK(!has_finding(f.list, "AGR-001", "maintainer", NULL));
	CHECK_STR(kc_findings_triage(&f), "URGENT");
	CHECK_INT(f.worst, KC_SEV_CRITICAL);
	CHECK(kc_findings_fail(&f, kc_sev_parse("high")));
	CHECK(!kc_findings_fail(&f, 0));
	kc_findings_sort(&f);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(f.list, 0), "severity")->valuestring, "critical");
	kc_findings_free(&f);
	kc_selection_free(&sel);
	env_free(&e);
}

DEFINE_TEST(test_rbac_finding_table)
{
	size_t n = 0;

	for (; kc_finding_defs[n].id != NULL; n++) {
		char want[16];

		snprintf(want, sizeof(want), "AGR-%03zu", n + 1);
		CHECK_STR(kc_finding_defs[n].id, want);
		CHECK(kc_finding_defs[n].title != NULL && kc_finding_defs[n].title[0] != '\0');
	}
	CHECK_INT(n, 24);
	CHECK_INT(kc_sev_parse("CRITICAL"), KC_SEV_CRITICAL);
	CHECK_INT(kc_sev_parse("bogus"), -1);
	CHECK_STR(kc_sev_name(KC_SEV_MEDIUM), "medium");
}

DEFINE_TEST(test_rbac_select)
{
	static const char *const sas[] = { "other/named" };
	struct kc_select_opts o = { NULL, 0, NULL, 0, NULL, 0, 0 };
	struct kc_selection sel;
	struct env e;

	CHECK_INT(env_load(&e), 0);
	CHECK_INT(kc_select(&e.snap, &o, &sel), 0);
	CHECK(kc_selection_find(&sel, "agents", "kagent-bot") != NULL);
	CHECK(kc_selection_find(&sel, "agents", "rag-agent") != NULL);
	CHECK(kc_selection_find(&sel, "agents", "ai-indexer") != NULL);
	/* "agents" is not the part "agent", and "maintainer" holds no "ai" part */
	CHECK(kc_selection_find(&sel, "agents", "maintainer") == NULL);
	kc_selection_free(&sel);
	/* a namespace part matches too */
	o.agents = "agents";
	CHECK_INT(kc_select(&e.snap, &o, &sel), 0);
	CHECK(kc_selection_find(&sel, "agents", "maintainer") != NULL);
	kc_selection_free(&sel);
	o.agents = "kagent|ai";
	CHECK_INT(kc_select(&e.snap, &o, &sel), 0);
	CHECK(kc_selection_find(&sel, "agents", "maintainer") == NULL);
	CHECK(kc_selection_find(&sel, "agents", "ai-indexer") != NULL);
	CHECK(kc_selection_find(&sel, "team", "kagent-bot") != NULL);
	kc_selection_free(&sel);
	/* a regex spanning parts; --sa for an SA that does not exist */
	o.agents = "llm-gateway";
	o.sas = sas;
	o.nsas = 1;
	CHECK_INT(kc_select(&e.snap, &o, &sel), 0);
	CHECK_INT(sel.n, 2);
	CHECK(kc_selection_find(&sel, "agents", "llm-gateway") != NULL);
	CHECK(kc_selection_find(&sel, "other", "named") != NULL &&
	    !kc_selection_find(&sel, "other", "named")->exists);
	kc_selection_free(&sel);
	/* label selector over pods; a pod without serviceAccountName runs as default */
	o.no_regex = 1;
	o.nsas = 0;
	o.agent_selector = "tier in (llm, rag),app!=web";
	CHECK_INT(kc_select(&e.snap, &o, &sel), 0);
	CHECK_INT(sel.n, 1);
	CHECK(kc_selection_find(&sel, "agents", "llm-gateway") != NULL);
	kc_selection_free(&sel);
	o.agent_selector = "app=web";
	CHECK_INT(kc_select(&e.snap, &o, &sel), 0);
	CHECK(kc_selection_find(&sel, "agents", "default") != NULL);
	kc_selection_free(&sel);
	o.agent_selector = "app in (web";
	CHECK_INT(kc_select(&e.snap, &o, &sel), KC_ERR_INVALID);
	o.agent_selector = NULL;
	o.no_regex = 0;
	o.agents = "(";
	CHECK_INT(kc_select(&e.snap, &o, &sel), KC_ERR_INVALID);
	env_free(&e);
}

DEFINE_TEST(test_rbac_select_name_parts)
{
	static const struct { const char *ns, *name; int want; } cases[] = {
		{ "default", "maintainer", 0 }, { "default", "kagent-bot", 1 }, { "x", "ai-indexer", 1 },
		{ "x", "rag-agent", 1 }, { "x", "trainer", 0 }, { "x", "my.ai", 1 }, { "x", "agentsmith", 0 },
		{ "ai", "web", 1 }, { "x", "openai_proxy", 0 }, { "x", "team:agent", 1 },
	};
	struct kc_select_opts o = { NULL, 0, NULL, 0, NULL, 0, 0 };
	struct kc_snapshot snap;
	struct kc_selection sel;
	struct kc_buf items = KC_BUF_INIT(1 << 16);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		kc_buf_addf(&items, "%s{'metadata':{'namespace':'%s','name':'%s'}}", i ? "," : "",
		    cases[i].ns, cases[i].name);
	write_page(".", "serviceaccounts", kc_buf_str(&items));
	kc_buf_free(&items);
	CHECK_INT(kc_snapshot_load_dir(".", &snap), 0);
	CHECK_INT(kc_select(&snap, &o, &sel), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = kc_selection_find(&sel, cases[i].ns, cases[i].name) != NULL;

		if (got != cases[i].want)
			kc_test_fail(__FILE__, __LINE__, "%s/%s: selected %d, want %d", cases[i].ns,
			    cases[i].name, got, cases[i].want);
	}
	kc_selection_free(&sel);
	kc_snapshot_free(&snap);
}

DEFINE_TEST(test_rbac_labels)
{
	struct kc_labelsel s;
	cJSON *l = cJSON_Parse("{\"app\":\"gw\",\"tier\":\"llm\"}");
	cJSON *js = cJSON_Parse("{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"NotIn\","
	    "\"values\":[\"web\"]}],\"matchLabels\":{\"app\":\"gw\"}}");

	CHECK_INT(kc_labelsel_parse("app=gw, tier==llm,!missing, tier", &s), 0);
	CHECK(kc_labelsel_match(&s, l));
	kc_labelsel_free(&s);
	CHECK_INT(kc_labelsel_parse("app!=gw", &s), 0);
	CHECK(!kc_labelsel_match(&s, l));
	kc_labelsel_free(&s);
	CHECK_INT(kc_labelsel_parse("other notin (a,b)", &s), 0);
	CHECK(kc_labelsel_match(&s, l));	/* absent label matches notin */
	kc_labelsel_free(&s);
	CHECK_INT(kc_labelsel_parse("", &s), 0);
	CHECK(kc_labelsel_match(&s, l));	/* empty selects everything */
	kc_labelsel_free(&s);
	CHECK_INT(kc_labelsel_parse("a=b,", &s), KC_ERR_PARSE);
	CHECK_INT(kc_labelsel_parse("a in b", &s), KC_ERR_PARSE);
	CHECK_INT(kc_labelsel_from_json(js, &s), 0);
	CHECK(kc_labelsel_match(&s, l));
	kc_labelsel_free(&s);
	cJSON_Delete(l);
	cJSON_Delete(js);
}

DEFINE_TEST(test_rbac_whocan)
{
	struct env e;
	cJSON *res = NULL, *sas;

	CHECK_INT(env_load(&e), 0);
	CHECK_INT(kc_whocan(&e.rb, "get", "secrets", NULL, &res), 0);
	sas = cJSON_GetObjectItem(res, "serviceAccounts");
	CHECK_INT(cJSON_GetArraySize(sas), 1);
	CHECK_STR(cJSON_GetArrayItem(sas, 0)->valuestring, "agents/kagent-bot");
	cJSON_Delete(res);
	/* group expansion: system:serviceaccounts holds every SA */
	CHECK_INT(kc_whocan(&e.rb, "list", "pods", NULL, &res), 0);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(res, "serviceAccounts")) >= 6);
	cJSON_Delete(res);
	CHECK_INT(kc_whocan(&e.rb, "update", "deployments.apps/scale", "team", &res), 0);
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "namespaces"), "team")), 1);
	cJSON_Delete(res);
	CHECK_INT(kc_whocan(&e.rb, "get", "", NULL, &res), KC_ERR_INVALID);
	env_free(&e);
}

DEFINE_TEST(test_rbac_csv)
{
	struct kc_buf b = KC_BUF_INIT(1024);

	CHECK_INT(kc_csv_field(&b, "plain"), 0);
	kc_buf_addc(&b, ',');
	CHECK_INT(kc_csv_field(&b, "a,\"b\"\nc"), 0);
	CHECK_STR(kc_buf_str(&b), "plain,\"a,\"\"b\"\"\nc\"");
	kc_buf_free(&b);
}

static char *
slurp(const char *path)
{
	struct kc_buf b = KC_BUF_INIT(1 << 26);

	if (kc_read_file(path, 1 << 26, &b) != 0) {
		kc_buf_free(&b);
		return NULL;
	}
	return kc_buf_take(&b, NULL);
}

DEFINE_TEST(test_rbac_analyze_traps)
{
	struct kc_select_opts o = { NULL, 0, NULL, 0, NULL, 0, 0 };
	cJSON *files = cJSON_CreateArray(), *sum = NULL;
	char *csv, *txt;
	int worst = 0;

	traps_snapshot(".");
	CHECK_INT(kc_analysis_run(".", &o, files, &sum, &worst), 0);
	CHECK_INT(worst, KC_SEV_CRITICAL);
	CHECK_STR(cJSON_GetObjectItem(sum, "triage")->valuestring, "URGENT");
	CHECK(cJSON_GetArraySize(files) > 6);
	csv = slurp("analysis/inventory.csv");
	CHECK(csv != NULL && strncmp(csv, "namespace,name,pods,bindings,roles,cluster_wide_reach,"
	    "secrets_reachable,highest_severity,cloud_reach,owner_chains,agent_resources\r\n", 131) == 0);
	/* kagent-bot reads every secret, and the odd name is quoted */
	CHECK(csv != NULL && strstr(csv, "agents,kagent-bot,,") != NULL);
	CHECK(csv != NULL && strstr(csv, "\"agents/s1;team/s,2\"\"q\",critical,,") != NULL);
	free(csv);
	txt = slurp("analysis/findings.txt");
	CHECK(txt != NULL && strncmp(txt, "TRIAGE: URGENT", 14) == 0);
	free(txt);
	txt = slurp("analysis/can-i/agents__kagent-bot/agents.offline.txt");
	CHECK(txt != NULL && strncmp(txt, "Resources", 9) == 0);
	free(txt);
	CHECK(access("analysis/effective/agents__rag-agent/team.json", R_OK) == 0);
	CHECK(access("analysis/who-can.json", R_OK) == 0);
	CHECK(access("analysis/rbac-drift.json", R_OK) == 0);
	cJSON_Delete(files);
	cJSON_Delete(sum);
}

/* An estate of n namespaces ns-NNN, each with an account, a secret and a
 * RoleBinding to somebody else; the agent agents/kagent-bot reads the
 * secrets of its own namespace (Role secret-reader) and, when every_ns,
 * those of every namespace (a RoleBinding in each). */
static void
wide_snapshot(const char *dir, int n, int every_ns)
{
	struct kc_buf nss = KC_BUF_INIT(1 << 24), sas = KC_BUF_INIT(1 << 24), rbs = KC_BUF_INIT(1 << 24),
	    secrets = KC_BUF_INIT(1 << 24);

	kc_buf_adds(&nss, "{'metadata':{'name':'agents'}}");
	kc_buf_adds(&sas, SAOBJ("agents", "kagent-bot"));
	kc_buf_adds(&secrets, "{'metadata':{'name':'agent-secret','namespace':'agents'}}");
	kc_buf_adds(&rbs, RB("agents", "reads", "Role", "secret-reader", SA("agents", "kagent-bot")));
	for (int i = 0; i < n; i++) {
		kc_buf_addf(&nss, ",{'metadata':{'name':'ns-%03d'}}", i);
		kc_buf_addf(&sas, ",{'metadata':{'name':'app','namespace':'ns-%03d'}}", i);
		kc_buf_addf(&secrets, ",{'metadata':{'name':'app-secret','namespace':'ns-%03d'}}", i);
		kc_buf_addf(&rbs, ",{'metadata':{'name':'dev','namespace':'ns-%03d'},'roleRef':{'apiGroup':"
		    "'rbac.authorization.k8s.io','kind':'ClusterRole','name':'secret-reader'},'subjects':["
		    USER("dev@example.com") "]}", i);
		if (every_ns)
			kc_buf_addf(&rbs, ",{'metadata':{'name':'agent','namespace':'ns-%03d'},'roleRef':{'apiGroup':"
			    "'rbac.authorization.k8s.io','kind':'ClusterRole','name':'secret-reader'},'subjects':["
			    SA("agents", "kagent-bot") "]}", i);
	}
	write_page(dir, "namespaces", kc_buf_str(&nss));
	write_page(dir, "serviceaccounts", kc_buf_str(&sas));
	write_page(dir, "secrets", kc_buf_str(&secrets));
	write_page(dir, "rolebindings", kc_buf_str(&rbs));
	write_page(dir, "roles", "{'metadata':{'name':'secret-reader','namespace':'agents'},"
	    "'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['get','list']}]}");
	write_page(dir, "clusterroles", "{'metadata':{'name':'secret-reader'},"
	    "'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['get','list']}]}");
	write_page(dir, "clusterrolebindings", "");
	kc_buf_free(&nss);
	kc_buf_free(&sas);
	kc_buf_free(&rbs);
	kc_buf_free(&secrets);
}

/* The analysis of wide_snapshot(n, every_ns) in folder dir: the rules
 * reviews it evaluated (kc_rbac_reviews_run), and its inventory.csv
 * (*csv, the caller frees it). */
static unsigned long
wide_analysis(const char *dir, int n, int every_ns, char **csv)
{
	struct kc_select_opts o = { NULL, 0, NULL, 0, NULL, 0, 0 };
	cJSON *files = cJSON_CreateArray(), *sum = NULL;
	char path[600];
	unsigned long before;
	int worst = 0;

	wide_snapshot(dir, n, every_ns);
	before = kc_rbac_reviews_run();
	CHECK_INT(kc_analysis_run(dir, &o, files, &sum, &worst), 0);
	before = kc_rbac_reviews_run() - before;
	snprintf(path, sizeof(path), "%s/analysis/inventory.csv", dir);
	*csv = slurp(path);
	CHECK(*csv != NULL);
	cJSON_Delete(files);
	cJSON_Delete(sum);
	return before;
}

/* The analysis of one agent reviews what the agent is bound to, not every
 * namespace and every secret of the cluster: the count of rules reviews is
 * the same in an estate of 40 namespaces and of 120 (it grew with both
 * before: findings reviewed each namespace for each agent, the inventory
 * asked the authorizer about each secret).  A count, not a stopwatch. */
DEFINE_TEST(test_rbac_analysis_reviews_do_not_grow_with_estate)
{
	char *small = NULL, *big = NULL;
	unsigned long a = wide_analysis("small", 40, 0, &small);
	unsigned long b = wide_analysis("big", 120, 0, &big);

	CHECK(a > 0);
	CHECK_INT(b, a);
	/* and the answers are whole: its own namespace's secret, nobody else's */
	CHECK(small != NULL && strstr(small, "agents,kagent-bot,,RoleBinding/agents/reads,Role/agents/secret-reader,"
	    "no,agents/agent-secret,") != NULL);
	CHECK(big != NULL && strstr(big, "agents,kagent-bot,,RoleBinding/agents/reads,Role/agents/secret-reader,"
	    "no,agents/agent-secret,") != NULL);
	free(small);
	free(big);
}

/* Its twin: an agent bound in every namespace is reviewed in every one
 * (the count grows by at least one per namespace added) and reads every
 * secret. */
DEFINE_TEST(test_rbac_analysis_reviews_grow_with_bindings)
{
	char *small = NULL, *big = NULL;
	unsigned long a = wide_analysis("small", 40, 1, &small);
	unsigned long b = wide_analysis("big", 120, 1, &big);

	CHECK(b >= a + 80);
	CHECK(small != NULL && strstr(small, "agents/agent-secret;ns-000/app-secret;") != NULL &&
	    strstr(small, ";ns-039/app-secret,") != NULL && strstr(small, "ns-040/") == NULL);
	CHECK(big != NULL && strstr(big, ";ns-119/app-secret,") != NULL);
	free(small);
	free(big);
}

/* The recorded cluster: the evaluator agrees with the server's reviews. */
DEFINE_TEST(test_rbac_cluster1_vs_server)
{
	static const char *const sas[] = { "plain-agent", "merged-agent", "names-agent" };
	char dir[1024], path[1200];
	struct kc_snapshot snap;
	struct kc_rbac rb;

	snprintf(dir, sizeof(dir), "%s/rbac/cluster1", kc_test_data());
	CHECK_INT(kc_snapshot_load_dir(dir, &snap), 0);
	CHECK_INT(kc_rbac_init(&rb, &snap), 0);
	for (size_t i = 0; i < 3; i++) {
		cJSON *eff = NULL, *server, *diff = NULL;
		size_t nd = 99;
		char *s;

		snprintf(path, sizeof(path), "%s/reviews/kcr-cani__%s/kcr-cani.json", dir, sas[i]);
		s = slurp(path);
		server = cJSON_Parse(s ? s : "");
		free(s);
		CHECK(server != NULL);
		CHECK_INT(kc_rbac_effective_json(&rb, "kcr-cani", sas[i], "kcr-cani", &eff), 0);
		CHECK_INT(kc_review_compare(server, cJSON_GetObjectItem(eff, "status"), &nd, &diff), 0);
		if (nd != 0) {
			char *p = cJSON_Print(diff);

			kc_test_fail(__FILE__, __LINE__, "%s: %zu disagreements: %s", sas[i], nd, p);
			free(p);
		}
		cJSON_Delete(diff);
		cJSON_Delete(eff);
		cJSON_Delete(server);
	}
	kc_rbac_free(&rb);
	kc_snapshot_free(&snap);
}

/* An estate of the benchmark's size, built in memory: 1,000 SAs in 40
 * namespaces, binding rbI in nsI%40 grants role r there to saI and to
 * sa(7I%1000).  Every SA's rules review in every namespace holds exactly
 * the grants of the bindings that name it there.  How fast that is, is
 * bench/bench_rbac.sh's to measure (against kubectl, in the same run). */
DEFINE_TEST(test_rbac_estate_rules)
{
	struct kc_buf sas = KC_BUF_INIT(1 << 26), rbs = KC_BUF_INIT(1 << 26), roles = KC_BUF_INIT(1 << 26);
	struct kc_snapshot snap;
	struct kc_rbac rb;
	struct kc_rbac_rules rr;
	size_t grants = 0, wrong = 0;

	for (int n = 0; n < 40; n++)
		kc_buf_addf(&roles, "%s{'metadata':{'name':'r','namespace':'ns%d'},'rules':[{'apiGroups':[''],"
		    "'resources':['pods','configmaps'],'verbs':['get','list']}]}", n ? "," : "", n);
	for (int i = 0; i < 1000; i++)
		kc_buf_addf(&sas, "%s{'metadata':{'name':'sa%d','namespace':'ns%d'}}", i ? "," : "", i, i % 40);
	for (int i = 0; i < 1000; i++)
		kc_buf_addf(&rbs, "%s{'metadata':{'name':'rb%d','namespace':'ns%d'},'roleRef':{'kind':'Role',"
		    "'name':'r'},'subjects':[{'kind':'ServiceAccount','name':'sa%d','namespace':'ns%d'},"
		    "{'kind':'ServiceAccount','name':'sa%d','namespace':'ns%d'}]}", i ? "," : "", i, i % 40,
		    i, i % 40, (i * 7) % 1000, ((i * 7) % 1000) % 40);
	write_page(".", "serviceaccounts", kc_buf_str(&sas));
	write_page(".", "rolebindings", kc_buf_str(&rbs));
	write_page(".", "roles", kc_buf_str(&roles));
	kc_buf_free(&sas);
	kc_buf_free(&rbs);
	kc_buf_free(&roles);
	CHECK_INT(kc_snapshot_load_dir(".", &snap), 0);
	CHECK_INT(kc_rbac_init(&rb, &snap), 0);
	memset(&rr, 0, sizeof(rr));
	for (int i = 0; i < 1000; i++) {
		struct kc_rbac_sa_id id;
		char ns[16], name[16], tns[16], rbname[16];

		snprintf(ns, sizeof(ns), "ns%d", i % 40);
		snprintf(name, sizeof(name), "sa%d", i);
		CHECK_INT(kc_rbac_sa_identity(&id, ns, name), 0);
		for (int n = 0; n < 40; n++) {
			/* rbI names saI, and rb(143I%1000) names sa(7*143I%1000) = saI */
			int own = i, other = (143 * i) % 1000;
			size_t want = (own % 40 == n) + (other != own && other % 40 == n);

			snprintf(tns, sizeof(tns), "ns%d", n);
			CHECK_INT(kc_rbac_rules_for(&rb, &id.id, tns, &rr), 0);
			grants += rr.n;
			if (rr.n != want && wrong++ == 0)
				kc_test_fail(__FILE__, __LINE__, "sa%d in %s: %zu grants, want %zu (from rb%d, rb%d)",
				    i, tns, rr.n, want, own, other);
			for (size_t k = 0; k < rr.n; k++) {
				const struct kc_rbac_binding *bd = rr.grants[k].binding;
				int b = atoi(bd->name + 2);

				snprintf(rbname, sizeof(rbname), "rb%d", b);
				if ((strcmp(bd->name, rbname) != 0 || strcmp(bd->ns, tns) != 0 ||
				    (b != own && b != other) || strcmp(bd->role_name, "r") != 0) && wrong++ == 0)
					kc_test_fail(__FILE__, __LINE__, "sa%d in %s: granted by %s/%s (role %s)",
					    i, tns, bd->ns, bd->name, bd->role_name);
			}
		}
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(grants, 1998);	/* sa0 and sa500 name themselves twice in one binding */
	kc_rbac_rules_free(&rr);
	kc_rbac_free(&rb);
	kc_snapshot_free(&snap);
}

DEFINE_TEST(test_rbac_scope_table)
{
	static const struct kc_rbac_scope_entry only[] = { { "example.com", "widgets" } };

	CHECK(kc_rbac_cluster_scoped("", "nodes"));
	CHECK(kc_rbac_cluster_scoped("", "nodes/proxy"));
	CHECK(kc_rbac_cluster_scoped("rbac.authorization.k8s.io", "clusterroles"));
	CHECK(kc_rbac_cluster_scoped("*", "customresourcedefinitions"));
	CHECK(kc_rbac_cluster_scoped("authentication.k8s.io", "userextras/scopes"));
	CHECK(!kc_rbac_cluster_scoped("", "pods"));
	CHECK(!kc_rbac_cluster_scoped("", "serviceaccounts"));
	CHECK(!kc_rbac_cluster_scoped("apps", "nodes"));
	CHECK(!kc_rbac_cluster_scoped("", "*"));
	CHECK(!kc_rbac_ns_effective("patch", "", "nodes"));
	CHECK(kc_rbac_ns_effective("get", "", "secrets"));
	CHECK(kc_rbac_ns_effective("bind", "rbac.authorization.k8s.io", "clusterroles"));
	CHECK(!kc_rbac_ns_effective("escalate", "rbac.authorization.k8s.io", "clusterroles"));
	/* discovery can replace the table */
	kc_rbac_scope_use(only, 1);
	CHECK(kc_rbac_cluster_scoped("example.com", "widgets"));
	CHECK(!kc_rbac_cluster_scoped("", "nodes"));
	kc_rbac_scope_use(NULL, 0);
	CHECK(kc_rbac_cluster_scoped("", "nodes"));
}

/* Duplicate keys (util/json.h): the last member wins, as when the apiserver
 * (Go's encoding/json) decodes the object.  A Role whose rule says "verbs"
 * twice grants the second list, a binding whose roleRef names two roles
 * points at the second, and a SubjectAccessReview asking twice for a verb
 * is answered for the last. */
DEFINE_TEST(test_rbac_duplicate_keys_last_wins)
{
	struct env e;
	cJSON *sar;

	write_page(".", "clusterroles",
	    "{'metadata':{'name':'dup-verbs'},'rules':[{'apiGroups':[''],'resources':['pods'],"
	    "'verbs':['get'],'verbs':['delete']}]},"
	    "{'metadata':{'name':'first'},'rules':[{'apiGroups':[''],'resources':['nodes'],'verbs':['get']}]},"
	    "{'metadata':{'name':'second'},'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['get']}]}");
	write_page(".", "clusterrolebindings",
	    CRB("crb-dup", "dup-verbs", SA("agents", "bot")) ","
	    "{'metadata':{'name':'crb-ref'},'roleRef':{'apiGroup':'rbac.authorization.k8s.io',"
	    "'kind':'ClusterRole','name':'first','name':'second'},'subjects':[" SA("agents", "bot") "]}");
	write_page(".", "namespaces", "{'metadata':{'name':'agents'}}");
	write_page(".", "serviceaccounts", SAOBJ("agents", "bot"));
	CHECK_INT(kc_snapshot_load_dir(".", &e.snap), 0);
	CHECK_INT(kc_rbac_init(&e.rb, &e.snap), 0);
	CHECK_INT(allowed(&e, "agents", "bot", "delete", "", "pods", NULL, "p", "x"), 1);
	CHECK_INT(allowed(&e, "agents", "bot", "get", "", "pods", NULL, "p", "x"), 0);
	CHECK_INT(allowed(&e, "agents", "bot", "get", "", "secrets", NULL, "s", "x"), 1);
	CHECK_INT(allowed(&e, "agents", "bot", "get", "", "nodes", NULL, "n", NULL), 0);

	sar = cJSON_Parse("{\"spec\":{\"user\":\"system:serviceaccount:agents:nobody\","
	    "\"user\":\"system:serviceaccount:agents:bot\",\"resourceAttributes\":"
	    "{\"verb\":\"get\",\"verb\":\"delete\",\"resource\":\"pods\",\"namespace\":\"x\"}}}");
	CHECK(sar != NULL);
	CHECK_INT(kc_rbac_answer_sar(&e.rb, sar), 0);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(sar, "status"), "allowed")));
	cJSON_Delete(sar);
	env_free(&e);
}

/* The secrets an account may get (rbac/secreach.h: the analysis's
 * inventory and diff's breach assessment): exactly those kc_rbac_authorize
 * allows when asked about every secret, in the list's order, while asking
 * only about the candidates. */
static void
reach_names(cJSON *arr, char *out, size_t n)
{
	const cJSON *it;

	out[0] = '\0';
	cJSON_ArrayForEach(it, arr) {
		strncat(out, it->valuestring, n - strlen(out) - 1);
		strncat(out, " ", n - strlen(out) - 1);
	}
}

DEFINE_TEST(test_rbac_secrets_reachable)
{
	static const char *const sas[][3] = {
		/* account, what it may get, reviews asked */
		{ "one", "a/s1 a/s3 ", "2" },		/* a Role in a: a's two */
		{ "two", "c/y ", "2" },			/* cluster rule names y; b's list-only is no get */
		{ "all", "c/x a/s1 b/s2 a/s3 c/y ", "5" },	/* cluster-wide get: every secret */
		{ "none", "", "0" },
	};
	struct kc_snapshot snap;
	struct kc_rbac rb;
	struct kc_secret_index sx;

	write_page("sr", "clusterroles",
	    "{'metadata':{'name':'get-named'},'rules':[{'apiGroups':[''],'resources':['secrets'],'resourceNames':['y'],'verbs':['get']}]},"
	    "{'metadata':{'name':'secret-reader'},'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['get']}]},"
	    "{'metadata':{'name':'secret-lister'},'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['list']}]}");
	write_page("sr", "roles",
	    "{'metadata':{'name':'reader','namespace':'a'},'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['get','list']}]}");
	write_page("sr", "clusterrolebindings",
	    CRB("crb-named", "get-named", SA("n", "two")) "," CRB("crb-all", "secret-reader", SA("n", "all")));
	write_page("sr", "rolebindings",
	    RB("a", "rb-one", "Role", "reader", SA("n", "one")) ","
	    RB("b", "rb-two", "ClusterRole", "secret-lister", SA("n", "two")));
	write_page("sr", "namespaces", "{'metadata':{'name':'a'}},{'metadata':{'name':'b'}},{'metadata':{'name':'c'}},"
	    "{'metadata':{'name':'n'}}");
	write_page("sr", "secrets", "{'metadata':{'name':'x','namespace':'c'}},{'metadata':{'name':'s1','namespace':'a'}},"
	    "{'metadata':{'name':'s2','namespace':'b'}},{'metadata':{'name':'s3','namespace':'a'}},"
	    "{'metadata':{'name':'y','namespace':'c'}}");
	CHECK_INT(kc_snapshot_load_dir("sr", &snap), 0);
	CHECK_INT(kc_rbac_init(&rb, &snap), 0);
	CHECK_INT(kc_secret_index_build(&sx, snap.items[KC_RES_SECRETS]), 0);
	CHECK_INT((int)sx.n, 5);
	for (size_t k = 0; k < sizeof(sas) / sizeof(sas[0]); k++) {
		struct kc_rbac_sa_id id;
		struct kc_rbac_rules cl;
		size_t *cand = NULL, ncand = 0, capcand = 0;
		cJSON *got = cJSON_CreateArray(), *sec;
		char g[256], every[256] = "", asked[16];
		unsigned long before;

		memset(&cl, 0, sizeof(cl));
		CHECK_INT(kc_rbac_sa_identity(&id, "n", sas[k][0]), 0);
		CHECK_INT(kc_rbac_rules_for(&rb, &id.id, "", &cl), 0);
		CHECK_INT(kc_rbac_rb_candidates(&rb, &id.id, &cand, &ncand, &capcand), 0);
		before = kc_rbac_reviews_run();
		CHECK_INT(kc_secrets_reachable(&rb, &sx, &id.id, &cl, cand, ncand, got), 0);
		snprintf(asked, sizeof(asked), "%lu", kc_rbac_reviews_run() - before);
		reach_names(got, g, sizeof(g));
		CHECK_STR(g, sas[k][1]);
		CHECK_STR(asked, sas[k][2]);
		/* the oracle: the authorizer asked about every secret */
		cJSON_ArrayForEach(sec, snap.items[KC_RES_SECRETS]) {
			const cJSON *m = cJSON_GetObjectItem(sec, "metadata");
			struct kc_rbac_request req = { "get", "", "secrets", NULL,
				cJSON_GetObjectItem(m, "name")->valuestring,
				cJSON_GetObjectItem(m, "namespace")->valuestring, NULL };
			struct kc_rbac_decision d;

			CHECK_INT(kc_rbac_authorize(&rb, &id.id, &req, &d), 0);
			if (d.allowed) {
				strncat(every, req.ns, sizeof(every) - strlen(every) - 1);
				strncat(every, "/", sizeof(every) - strlen(every) - 1);
				strncat(every, req.name, sizeof(every) - strlen(every) - 1);
				strncat(every, " ", sizeof(every) - strlen(every) - 1);
			}
		}
		CHECK_STR(g, every);
		cJSON_Delete(got);
		kc_rbac_rules_free(&cl);
		free(cand);
	}
	/* twin: a secret the index was not given is never answered */
	kc_secret_index_free(&sx);
	CHECK_INT(kc_secret_index_build(&sx, NULL), 0);
	{
		struct kc_rbac_sa_id id;
		struct kc_rbac_rules cl;
		size_t *cand = NULL, ncand = 0;
		cJSON *got = cJSON_CreateArray();

		memset(&cl, 0, sizeof(cl));
		CHECK_INT(kc_rbac_sa_identity(&id, "n", "all"), 0);
		CHECK_INT(kc_rbac_rules_for(&rb, &id.id, "", &cl), 0);
		CHECK_INT(kc_secrets_reachable(&rb, &sx, &id.id, &cl, cand, ncand, got), 0);
		CHECK_INT(cJSON_GetArraySize(got), 0);
		cJSON_Delete(got);
		kc_rbac_rules_free(&cl);
	}
	kc_secret_index_free(&sx);
	kc_rbac_free(&rb);
	kc_snapshot_free(&snap);
}

/* The namespaces each selected account is reviewed in
 * (kc_rbac_review_targets): its own and where a RoleBinding names it, or
 * every namespace with --all-namespaces.  Twenty namespaces are more than
 * the string set keeps in a plain list, so the set's hash table is built
 * and must not outlive the transfer of its strings (LeakSanitizer found it
 * in make SANITIZE=1 check). */
static void
ns_list(const struct kc_review_target *t, char *out, size_t n)
{
	out[0] = '\0';
	for (size_t i = 0; i < t->nns; i++) {
		strncat(out, t->namespaces[i], n - strlen(out) - 1);
		strncat(out, " ", n - strlen(out) - 1);
	}
}

DEFINE_TEST(test_rbac_review_targets)
{
	static const char *const sas[] = { "ns07/bot", "ns00/idle" };
	struct kc_buf nss = KC_BUF_INIT(4096), all = KC_BUF_INIT(4096);
	struct kc_snapshot snap;
	char got[512];

	for (int i = 19; i >= 0; i--)	/* listed out of order */
		kc_buf_addf(&nss, "%s{'metadata':{'name':'ns%02d'}}", i == 19 ? "" : ",", i);
	for (int i = 0; i < 20; i++)
		kc_buf_addf(&all, "ns%02d ", i);
	write_page("rt", "namespaces", kc_buf_str(&nss));
	write_page("rt", "clusterroles",
	    "{'metadata':{'name':'view'},'rules':[{'apiGroups':[''],'resources':['pods'],'verbs':['get']}]}");
	write_page("rt", "rolebindings",
	    RB("ns12", "rb-bot", "ClusterRole", "view", SA("ns07", "bot")) ","
	    RB("ns03", "rb-other", "ClusterRole", "view", SA("ns07", "other")));
	CHECK_INT(kc_snapshot_load_dir("rt", &snap), 0);
	for (int every = 0; every <= 1; every++) {
		struct kc_select_opts o;
		struct kc_review_targets t;

		memset(&o, 0, sizeof(o));
		o.no_regex = 1;
		o.sas = sas;
		o.nsas = 2;
		o.all_namespaces = every;
		CHECK_INT(kc_rbac_review_targets(&snap, NULL, &o, &t), 0);
		CHECK_INT((int)t.n, 2);
		for (size_t k = 0; k < t.n; k++) {
			const char *want = strcmp(t.v[k].sa_name, "bot") == 0 ? "ns07 ns12 " : "ns00 ";

			ns_list(&t.v[k], got, sizeof(got));
			/* twin: without --all-namespaces only what binds it */
			CHECK_STR(got, every ? kc_buf_str(&all) : want);
		}
		kc_review_targets_free(&t);
	}
	kc_snapshot_free(&snap);
	kc_buf_free(&nss);
	kc_buf_free(&all);
}

/* One ClusterRoleBinding naming n users, to a ClusterRole that reads
 * secrets: each secrets query's cluster-wide list is n entries long (more
 * than one arena block of nodes), and no namespace list follows it. */
static void
crb_snapshot(const char *dir, int n)
{
	struct kc_buf subs = KC_BUF_INIT(1 << 24);

	for (int i = 0; i < n; i++)
		kc_buf_addf(&subs, "%s{'kind':'User','apiGroup':'rbac.authorization.k8s.io','name':'user-%05d'}",
		    i ? "," : "", i);
	write_page(dir, "namespaces", "{'metadata':{'name':'agents'}}");
	write_page(dir, "serviceaccounts", "{'metadata':{'name':'kagent-bot','namespace':'agents'}}");
	write_page(dir, "secrets", "{'metadata':{'name':'s1','namespace':'agents'}}");
	write_page(dir, "roles", "");
	write_page(dir, "rolebindings", "");
	write_page(dir, "clusterroles", "{'metadata':{'name':'secret-reader'},"
	    "'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['get','list']}]}");
	{
		struct kc_buf crb = KC_BUF_INIT(1 << 24);

		kc_buf_addf(&crb, "{'metadata':{'name':'many-readers'},'roleRef':{'apiGroup':'rbac.authorization.k8s.io',"
		    "'kind':'ClusterRole','name':'secret-reader'},'subjects':[%s]}", kc_buf_str(&subs));
		write_page(dir, "clusterrolebindings", kc_buf_str(&crb));
		kc_buf_free(&crb);
	}
	kc_buf_free(&subs);
}

/* With no arena block to be had from some point on (an mmap failure, a
 * memory limit), every model and page falls back to the heap and the
 * analysis writes the same files byte for byte: k blocks granted, then
 * none, for every k up to the blocks a run takes.  (When who-can's
 * queries were built in a scratch arena, a failure mid-query wrote one
 * short: this fixture's one 4,000-subject ClusterRoleBinding put it
 * there, and the test failed until the query was made again.) */
DEFINE_TEST(test_rbac_analyze_no_arena_blocks)
{
	static const char *const out[] = { "analysis/who-can.json", "analysis/findings.json",
		"analysis/inventory.csv", "analysis/selection.json", "analysis/rbac-drift.json", NULL };
	struct kc_select_opts o = { NULL, 0, NULL, 0, NULL, 0, 0 };
	char *want[8], path[256];
	long used;
	int runs = 0;

	crb_snapshot("base", 4000);
	kc_jarena_test_fail_blocks_after(1000000);
	{
		cJSON *files = cJSON_CreateArray(), *sum = NULL;
		int worst = 0;

		CHECK_INT(kc_analysis_run("base", &o, files, &sum, &worst), 0);
		cJSON_Delete(files);
		cJSON_Delete(sum);
	}
	used = 1000000 - kc_jarena_test_fail_blocks_after(-1);
	CHECK(used >= 2);	/* the model and the pages take blocks */
	for (int i = 0; out[i] != NULL; i++) {
		snprintf(path, sizeof(path), "base/%s", out[i]);
		CHECK((want[i] = slurp(path)) != NULL);
	}
	for (long k = 0; k <= used; k++) {
		cJSON *files = cJSON_CreateArray(), *sum = NULL;
		char dir[64];
		int worst = 0, r;

		snprintf(dir, sizeof(dir), "k%ld", k);
		crb_snapshot(dir, 4000);
		kc_jarena_test_fail_blocks_after(k);
		r = kc_analysis_run(dir, &o, files, &sum, &worst);
		kc_jarena_test_fail_blocks_after(-1);
		CHECK_INT(r, 0);
		for (int i = 0; out[i] != NULL; i++) {
			char *got;

			snprintf(path, sizeof(path), "%s/%s", dir, out[i]);
			got = slurp(path);
			CHECK(got != NULL && strcmp(got, want[i]) == 0);
			free(got);
		}
		cJSON_Delete(files);
		cJSON_Delete(sum);
		runs++;
	}
	CHECK(runs >= 5);
	for (int i = 0; out[i] != NULL; i++)
		free(want[i]);
}

static int
buf_sink(void *ctx, const char *s, size_t n)
{
	return kc_buf_add(ctx, s, n);
}

/* kc_whocan_print writes, a grant at a time, the bytes of cJSON_Print on
 * kc_whocan's document with every later line indented by the nesting:
 * for queries with cluster-wide and namespaced grants, a namespace filter,
 * a cluster-scoped resource, groups expanded, none at all, and a resource
 * nobody serves.  Twin: a document that differs by one grant does not
 * print the same. */
DEFINE_TEST(test_whocan_print_same_bytes)
{
	static const struct { const char *verb, *res, *ns; } qs[] = {
		{ "get", "secrets", NULL }, { "list", "secrets", NULL }, { "get", "secrets", "agents" },
		{ "watch", "configmaps", NULL }, { "get", "nodes", NULL }, { "delete", "pods", "team" },
		{ "get", "widgets.example.com", NULL }, { "impersonate", "users", NULL },
	};
	static const char *const dirs[] = { "t", "w", "c" };
	int nsgrants = 0;

	traps_snapshot("t");
	wide_snapshot("w", 5, 1);	/* RoleBindings in five namespaces */
	crb_snapshot("c", 3);
	for (size_t d = 0; d < 3; d++) {
	struct kc_snapshot snap;
	struct kc_rbac rb;

	CHECK_INT(kc_snapshot_load_dir(dirs[d], &snap), 0);
	CHECK_INT(kc_rbac_init(&rb, &snap), 0);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		for (int nest = 0; nest < 2; nest++) {
			const char *indent = nest ? "\t\t" : "";
			struct kc_buf want = KC_BUF_INIT(1u << 24), got = KC_BUF_INIT(1u << 24);
			cJSON *doc = NULL;
			char *t;

			CHECK_INT(kc_whocan(&rb, qs[i].verb, qs[i].res, qs[i].ns, &doc), 0);
			nsgrants += cJSON_GetArraySize(kc_json_get(doc, "namespaces")) > 1;
			if ((t = cJSON_Print(doc)) == NULL) {
				CHECK(0);
				continue;
			}
			for (const char *p = t; *p != '\0'; p++) {
				kc_buf_addc(&want, *p);
				if (*p == '\n')
					kc_buf_adds(&want, indent);
			}
			free(t);
			CHECK_INT(kc_whocan_print(&rb, qs[i].verb, qs[i].res, qs[i].ns, indent, buf_sink, &got), 0);
			CHECK(want.len == got.len && memcmp(want.data, got.data, want.len) == 0);
			if (d == 0 && i == 0 && nest == 0) {
				/* the twin: one grant fewer is another text */
				cJSON *cw = kc_json_get_mut(doc, "clusterWide");

				CHECK(cJSON_GetArraySize(cw) > 0);
				cJSON_Delete(cJSON_DetachItemFromArray(cw, 0));
				CHECK((t = cJSON_Print(doc)) != NULL);
				CHECK(strlen(t) != got.len || memcmp(t, got.data, got.len) != 0);
				free(t);
			}
			cJSON_Delete(doc);
			kc_buf_free(&want);
			kc_buf_free(&got);
		}
	}
	kc_rbac_free(&rb);
	kc_snapshot_free(&snap);
	}
	CHECK(nsgrants > 0);	/* more than one namespace's list was printed */
}

/* kc_findings_json_borrow: the same document as kc_findings_json, whose
 * findings are the list's own (packed in the findings' arena): deleting it
 * leaves them, and a member added through it is added to them. */
DEFINE_TEST(test_findings_json_borrow)
{
	struct kc_findings f;
	cJSON *copy, *borrow, *sub;
	char *p1, *p2;

	CHECK(kc_findings_init(&f) == 0);
	CHECK(kc_findings_add_gap(&f, "ns-a", "agent", "ns-b", "no review", NULL) == 0);
	CHECK(kc_findings_add_gap(&f, "ns-a", "agent", "", "stored review is malformed",
	    cJSON_CreateString("detail")) == 0);
	CHECK(f.arena == NULL || kc_jarena_owns(f.list->child));
	copy = kc_findings_json(&f);
	borrow = kc_findings_json_borrow(&f);
	CHECK(copy != NULL && borrow != NULL);
	p1 = cJSON_PrintUnformatted(copy);
	p2 = cJSON_PrintUnformatted(borrow);
	CHECK_STR(p2, p1);
	free(p2);
	/* written through the borrowed document: the list's finding has it,
	 * the copy's does not */
	sub = kc_json_get_mut(kc_json_get(borrow, "findings")->child, "subject");
	CHECK(sub != NULL);
	cJSON_AddStringToObject(sub, "note", "x");
	CHECK_STR(kc_json_str0(kc_json_get(f.list->child, "subject"), "note"), "x");
	CHECK(kc_json_get(kc_json_get(kc_json_get(copy, "findings")->child, "subject"), "note") == NULL);
	cJSON_Delete(borrow);
	/* the list is whole after the borrowing document went */
	CHECK_INT(cJSON_GetArraySize(f.list), 2);
	/* the note taken off again: the same document as the copy */
	cJSON_Delete(cJSON_DetachItemFromObject(kc_json_get_mut(f.list->child, "subject"), "note"));
	borrow = kc_findings_json_borrow(&f);
	p2 = cJSON_PrintUnformatted(borrow);
	CHECK_STR(p2, p1);
	free(p1);
	free(p2);
	cJSON_Delete(borrow);
	cJSON_Delete(copy);
	kc_findings_free(&f);
}

/* ---- the evaluator's indexes against an oracle ----
 * Random bindings and roles over names made to collide and to prefix one
 * another (a:b, system:serviceaccount:a:b, the index's old separator
 * \x1f), subjects of every kind, ServiceAccounts with and without a
 * namespace, duplicated roles: every lookup through the sorted indexes
 * (eval.c build_indexes) must give what reading every binding and role
 * gives.  Twin: an identity named by no subject finds nothing. */
static unsigned idx_seed = 12345;

static unsigned
idx_rand(unsigned n)
{
	idx_seed = idx_seed * 1103515245u + 12345u;
	return (idx_seed >> 16) % n;
}

static const char *const idx_words[] = { "a", "ab", "a:b", "b", "", "system:serviceaccount:a:b",
	"system:serviceaccounts", "x\\u001fu\\u001fy", "x" };
static const char *const idx_words_raw[] = { "a", "ab", "a:b", "b", "", "system:serviceaccount:a:b",
	"system:serviceaccounts", "x\x1fu\x1fy", "x" };
#define IDX_NW (sizeof(idx_words) / sizeof(idx_words[0]))

static void
idx_subject(struct kc_buf *b)
{
	static const char *const kinds[] = { "User", "Group", "ServiceAccount", "ServiceAccount", "Other" };
	unsigned k = idx_rand(5);

	kc_buf_addf(b, "{'kind':'%s','name':'%s'", kinds[k], idx_words[idx_rand(IDX_NW)]);
	if (k >= 2 && idx_rand(3) != 0)
		kc_buf_addf(b, ",'namespace':'%s'", idx_words[idx_rand(IDX_NW)]);
	kc_buf_adds(b, "}");
}

/* appliesToUser, read from RBAC_SEMANTICS.md, for the oracle */
static int
idx_applies(const struct kc_snap_subject *s, const char *bns, const char *user, const char *const *groups,
    size_t ngroups)
{
	char sa[256];

	if (strcmp(s->kind, "User") == 0)
		return strcmp(s->name, user) == 0;
	if (strcmp(s->kind, "Group") == 0) {
		for (size_t i = 0; i < ngroups; i++)
			if (strcmp(s->name, groups[i]) == 0)
				return 1;
		return 0;
	}
	if (strcmp(s->kind, "ServiceAccount") != 0)
		return 0;
	bns = s->ns[0] != '\0' ? s->ns : bns;
	snprintf(sa, sizeof(sa), "system:serviceaccount:%s:%s", bns, s->name);
	return bns[0] != '\0' && strcmp(sa, user) == 0;
}

DEFINE_TEST(test_rbac_index_oracle)
{
	for (int round = 0; round < 20; round++) {
		struct kc_buf roles = KC_BUF_INIT(1 << 24), croles = KC_BUF_INIT(1 << 24);
		struct kc_buf rbs = KC_BUF_INIT(1 << 24), crbs = KC_BUF_INIT(1 << 24);
		struct kc_snapshot snap;
		struct kc_rbac rb;
		char dir[32];
		int found = 0;

		snprintf(dir, sizeof(dir), "ix%d", round);
		/* roles: few names, so that several share one (a hostile list) */
		for (int i = 0; i < 30; i++) {
			struct kc_buf *b = i % 2 ? &roles : &croles;

			kc_buf_addf(b, "%s{'metadata':{'name':'%s'", b->len ? "," : "", idx_words[idx_rand(IDX_NW)]);
			if (b == &roles)
				kc_buf_addf(b, ",'namespace':'%s'", idx_words[idx_rand(IDX_NW)]);
			kc_buf_addf(b, ",'labels':{'i':'%d'}},'rules':[{'apiGroups':[''],'resources':['r%d'],"
			    "'verbs':['get']}]}", i, i);
		}
		for (int i = 0; i < 60; i++) {
			struct kc_buf *b = i % 3 ? &rbs : &crbs;
			int ns = idx_rand(4);	/* 0: no namespace (hostile for a RoleBinding) */
			int nsub = (int)idx_rand(4);

			kc_buf_addf(b, "%s{'metadata':{'name':'b%d'", b->len ? "," : "", i);
			if (b == &rbs && ns != 0)
				kc_buf_addf(b, ",'namespace':'%s'", idx_words[ns - 1]);
			kc_buf_addf(b, "},'roleRef':{'kind':'%s','name':'%s'},'subjects':[",
			    b == &rbs && idx_rand(2) ? "Role" : "ClusterRole", idx_words[idx_rand(IDX_NW)]);
			for (int s = 0; s < nsub; s++) {
				if (s > 0)
					kc_buf_adds(b, ",");
				idx_subject(b);
			}
			kc_buf_adds(b, "]}");
		}
		write_page(dir, "roles", kc_buf_str(&roles));
		write_page(dir, "clusterroles", kc_buf_str(&croles));
		write_page(dir, "rolebindings", kc_buf_str(&rbs));
		write_page(dir, "clusterrolebindings", kc_buf_str(&crbs));
		CHECK_INT(kc_snapshot_load_dir(dir, &snap), 0);
		CHECK_INT(kc_rbac_init(&rb, &snap), 0);
		/* roles: the first of that kind, namespace and name, in list order */
		for (size_t w = 0; w < IDX_NW; w++) {
			for (size_t v = 0; v < IDX_NW; v++) {
				for (int cl = 0; cl < 2; cl++) {
					const char *ns = cl ? "" : idx_words_raw[v];
					const struct kc_rbac_role *want = NULL;

					for (size_t i = 0; i < rb.nroles && want == NULL; i++)
						if (rb.roles[i].cluster == cl && strcmp(rb.roles[i].ns, ns) == 0 &&
						    strcmp(rb.roles[i].name, idx_words_raw[w]) == 0)
							want = &rb.roles[i];
					CHECK(kc_rbac_find_role(&rb, cl, idx_words_raw[v], idx_words_raw[w]) == want);
				}
			}
		}
		/* identities: each word as a user and as a service account's
		 * user, with groups; then one no subject names */
		for (size_t u = 0; u <= 2 * IDX_NW; u++) {
			char user[256];
			const char *groups[3];
			size_t ngroups = (size_t)idx_rand(4);
			struct kc_rbac_identity id;
			size_t *cand = NULL, ncand = 0, capcand = 0, k = 0;

			if (u < IDX_NW)
				snprintf(user, sizeof(user), "%s", idx_words_raw[u]);
			else if (u < 2 * IDX_NW)
				snprintf(user, sizeof(user), "system:serviceaccount:%s:%s", idx_words_raw[idx_rand(4)],
				    idx_words_raw[u - IDX_NW]);
			else
				snprintf(user, sizeof(user), "nobody-at-all");
			for (size_t g = 0; g < ngroups; g++)
				groups[g] = u == 2 * IDX_NW ? "no-group" : idx_words_raw[idx_rand(IDX_NW)];
			id.user = user;
			id.groups = groups;
			id.ngroups = ngroups;
			/* the RoleBindings of any namespace that name it */
			CHECK_INT(kc_rbac_rb_candidates(&rb, &id, &cand, &ncand, &capcand), 0);
			for (size_t i = rb.ncrb; i < rb.nbindings; i++) {
				const struct kc_rbac_binding *b = &rb.bindings[i];
				int names = 0;

				for (size_t s = 0; s < b->nsubjects && !names; s++)
					names = idx_applies(&b->subjects[s], b->ns, user, groups, ngroups);
				if (names) {
					CHECK(k < ncand && cand[k] == i);
					k++;
				}
			}
			CHECK(k == ncand);
			found += ncand > 0;
			if (u == 2 * IDX_NW)
				CHECK(ncand == 0);
			/* a review in each namespace: the bindings that apply,
			 * granted or with their role missing */
			for (size_t v = 0; v < 4; v++) {
				struct kc_rbac_rules rr;
				const char *ns = idx_words_raw[v];

				memset(&rr, 0, sizeof(rr));
				CHECK_INT(kc_rbac_rules_for(&rb, &id, ns, &rr), 0);
				for (size_t i = 0; i < rb.nbindings; i++) {
					const struct kc_rbac_binding *b = &rb.bindings[i];
					int names = 0, seen = 0;

					for (size_t s = 0; s < b->nsubjects && !names; s++)
						names = idx_applies(&b->subjects[s], b->ns, user, groups, ngroups);
					if (!b->cluster && (ns[0] == '\0' || strcmp(b->ns, ns) != 0))
						names = 0;
					for (size_t g = 0; g < rr.n; g++)
						seen |= rr.grants[g].binding == b;
					for (size_t g = 0; g < rr.nmissing; g++)
						seen |= rr.missing[g] == b;
					CHECK_INT(seen, names);
				}
				kc_rbac_rules_free(&rr);
			}
			free(cand);
		}
		CHECK(found > 0);	/* the draw named someone */
		kc_rbac_free(&rb);
		kc_snapshot_free(&snap);
		kc_buf_free(&roles);
		kc_buf_free(&croles);
		kc_buf_free(&rbs);
		kc_buf_free(&crbs);
	}
}

/* who-can's RoleBinding grants come by namespace, the namespaces in the
 * order their first binding comes, each namespace's in list order
 * (rbac/whocan.c query_grants); the printed document has them so too.
 * Twin: a namespace whose bindings allow nothing is not listed. */
DEFINE_TEST(test_whocan_namespace_order)
{
	static const char *const want[] = { "\"b\"", "\"u1\"", "\"u3\"", "\"a\"", "\"u2\"", "\"u5\"",
		"\"c\"", "\"u4\"", NULL };
	struct kc_snapshot snap;
	struct kc_rbac rb;
	cJSON *doc = NULL, *nss;
	char *t;
	const char *at;

	write_page("wo", "clusterroles",
	    "{'metadata':{'name':'sr'},'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['get']}]},"
	    "{'metadata':{'name':'other'},'rules':[{'apiGroups':[''],'resources':['pods'],'verbs':['get']}]}");
	write_page("wo", "rolebindings",
	    RB("b", "rb1", "ClusterRole", "sr", USER("u1")) "," RB("a", "rb2", "ClusterRole", "sr", USER("u2")) ","
	    RB("b", "rb3", "ClusterRole", "sr", USER("u3")) "," RB("d", "rbd", "ClusterRole", "other", USER("u6")) ","
	    RB("c", "rb4", "ClusterRole", "sr", USER("u4")) "," RB("a", "rb5", "ClusterRole", "sr", USER("u5")));
	CHECK_INT(kc_snapshot_load_dir("wo", &snap), 0);
	CHECK_INT(kc_rbac_init(&rb, &snap), 0);
	CHECK_INT(kc_whocan(&rb, "get", "secrets", NULL, &doc), 0);
	nss = kc_json_get_mut(doc, "namespaces");
	CHECK_INT(cJSON_GetArraySize(nss), 3);
	CHECK(kc_json_get(nss, "d") == NULL);
	t = cJSON_PrintUnformatted(nss);
	at = t;
	for (int i = 0; want[i] != NULL && at != NULL; i++)
		if ((at = strstr(at, want[i])) != NULL)
			at += strlen(want[i]);
	CHECK(at != NULL);
	free(t);
	cJSON_Delete(doc);
	kc_rbac_free(&rb);
	kc_snapshot_free(&snap);
}
