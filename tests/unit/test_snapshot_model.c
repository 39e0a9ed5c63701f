/* test_snapshot_model.c - the reduced snapshots (collector/snapshot.h
 * KC_SNAP_MODEL and KC_SNAP_DIFF, issue 11): what each keeps, the pods
 * read whole again for the selected accounts, and raw pages reduced as a
 * bundle is read.  Pages are written into the test's work folder from the
 * literals below (single quotes stand for double quotes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/snapshot.h"
#include "harness.h"
#include "rbac/analyze.h"
#include "rbac/eval.h"
#include "rbac/secreach.h"
#include "rbac/workload.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/jarena.h"
#include "util/json.h"
#include "util/strset.h"

static void
page(const char *res, const char *name, const char *items)
{
	struct kc_buf b = KC_BUF_INIT(1 << 20);
	char path[600], folder[512];

	snprintf(folder, sizeof(folder), "raw/%s", res);
	snprintf(path, sizeof(path), "%s/%s", folder, name);
	kc_buf_addf(&b, "{'kind':'List','metadata':{'resourceVersion':'7'},'items':[%s]}", items);
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\'')
			b.data[i] = '"';
	CHECK_INT(kc_mkdir_p(folder, 0755), 0);
	CHECK_INT(kc_write_file_atomic(path, b.data, b.len, 0644), 0);
	kc_buf_free(&b);
}

#define POD(ns, name, sa, extra) \
	"{'metadata':{'name':'" name "','namespace':'" ns "','labels':{'app':'x'},'uid':'u-" name "'," \
	"'managedFields':[{'manager':'kubectl'}],'ownerReferences':[{'kind':'ReplicaSet','name':'rs'}]}," \
	"'spec':{'serviceAccountName':'" sa "','containers':[{'name':'c','image':'i'}]" extra "}," \
	"'status':{'phase':'Running','containerStatuses':[{'name':'x','containerID':'cri://" name "'," \
	"'state':{'running':{'startedAt':'t'}},'name':'c','restartCount':2,'image':'i'},'str']}}"

static void
estate(void)
{
	page("pods", "page-0001.json",
	    POD("a", "agent-1", "agent", "") "," POD("a", "app-1", "app", "") ","
	    /* duplicate keys: every reader takes the last */
	    "{'metadata':{'name':'first','name':'dup','namespace':'a'},'spec':{'serviceAccount':'agent'}},"
	    "'not-an-object'");
	page("pods", "page-0002.json", POD("a", "agent-2", "agent",
	    ",'volumes':[{'name':'v'}],'initContainers':[{'name':'i1','image':'x','name':'i2'},'str'],"
	    "'nodeName':'n1','tolerations':[{'key':'k'}]"));
	page("secrets", "page-0001.json",
	    "{'metadata':{'name':'s','namespace':'a','annotations':{'k':'v'},'managedFields':[]}}");
	page("deployments", "page-0001.json",
	    "{'metadata':{'name':'d','namespace':'a','uid':'u1','ownerReferences':[{'kind':'Agent'}],"
	    "'labels':{'l':'1'}},'spec':{'replicas':5,'template':{'metadata':{'labels':{'l':'1'}},"
	    "'spec':{'serviceAccountName':'agent','containers':[{'name':'c'}]}}},'status':{'replicas':5}}");
}

static const cJSON *
pod(const struct kc_snapshot *s, int i)
{
	return cJSON_GetArrayItem(s->items[KC_RES_PODS], i);
}

static char *
pr(const cJSON *j)
{
	return j != NULL ? cJSON_PrintUnformatted(j) : strdup("(none)");
}

/* the same bytes printed, or both NULL (cJSON_Compare looks duplicate
 * keys up by the first of them) */
static int
same(const cJSON *a, const cJSON *b)
{
	char *x = pr(a), *y = pr(b);
	int eq = x != NULL && y != NULL && strcmp(x, y) == 0;

	free(x);
	free(y);
	return eq;
}

static int
want_agent(void *ctx, const char *ns, const char *name)
{
	(void)ctx;
	return strcmp(ns, "a") == 0 && strcmp(name, "agent") == 0;
}

static int
want_none(void *ctx, const char *ns, const char *name)
{
	(void)ctx;
	(void)ns;
	(void)name;
	return 0;
}

/* The model keeps what the selection and the indexes read, nothing more;
 * pods only for --agent-selector. */
DEFINE_TEST(test_snapshot_model_keeps_lookups)
{
	static const char agent[] = "{\"items\":[{\"metadata\":{\"name\":\"ag\",\"namespace\":\"a\"}}]}";
	struct kc_snapshot s;
	const cJSON *d;

	estate();
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_MODEL), 0);
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_PODS]), 0);
	CHECK_INT(s.present[KC_RES_PODS], 1);
	/* a secret as its names only (test_snapshot_model_names) */
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_SECRETS]), 0);
	CHECK_INT(s.nnames[KC_RES_SECRETS], 1);
	CHECK_STR(s.names[KC_RES_SECRETS][0].name, "s");
	CHECK_STR(s.names[KC_RES_SECRETS][0].ns, "a");
	/* no Agent resource: no owner until the selection */
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_DEPLOYMENTS]), 0);
	CHECK_INT(s.present[KC_RES_DEPLOYMENTS], 1);
	kc_snapshot_free(&s);
	/* an Agent in namespace a: that namespace's deployments, reduced */
	CHECK_INT(kc_mkdir_p(KC_SNAPSHOT_AGENT_CRS, 0755), 0);
	CHECK_INT(kc_write_file_atomic(KC_SNAPSHOT_AGENT_CRS "/page-0001.json", agent, strlen(agent), 0644), 0);
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_MODEL), 0);
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_DEPLOYMENTS]), 1);
	d = cJSON_GetArrayItem(s.items[KC_RES_DEPLOYMENTS], 0);
	CHECK_STR(kc_json_str0(kc_json_get(d, "metadata"), "uid"), "u1");
	CHECK(cJSON_IsArray(kc_json_path(d, "metadata.ownerReferences")));
	CHECK_STR(kc_json_str0(kc_json_path(d, "spec.template.spec"), "serviceAccountName"), "agent");
	CHECK(kc_json_path(d, "spec.replicas") == NULL && kc_json_path(d, "spec.template.metadata") == NULL);
	kc_snapshot_free(&s);
	CHECK_INT(unlink(KC_SNAPSHOT_AGENT_CRS "/page-0001.json"), 0);

	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_MODEL_PODS), 0);
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_PODS]), 5);
	CHECK_STR(kc_json_str0(kc_json_path(pod(&s, 0), "metadata"), "name"), "agent-1");
	CHECK_STR(kc_json_str0(kc_json_path(pod(&s, 0), "metadata.labels"), "app"), "x");
	CHECK_STR(kc_json_str0(kc_json_get(pod(&s, 0), "spec"), "serviceAccountName"), "agent");
	CHECK(kc_json_path(pod(&s, 0), "spec.containers") == NULL);
	CHECK(kc_json_get(pod(&s, 0), "status") == NULL);
	CHECK(kc_json_path(pod(&s, 0), "metadata.uid") == NULL);
	CHECK_STR(kc_json_str0(kc_json_get(pod(&s, 2), "metadata"), "name"), "dup");
	CHECK_STR(kc_json_str0(kc_json_get(pod(&s, 2), "spec"), "serviceAccount"), "agent");
	CHECK(cJSON_IsString(pod(&s, 3)));
	CHECK_STR(kc_json_str0(kc_json_get(pod(&s, 4), "metadata"), "name"), "agent-2");
	kc_snapshot_free(&s);
	/* the twin: the secret an item, as every other level keeps it */
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_COMPACT), 0);
	d = cJSON_GetArrayItem(s.items[KC_RES_SECRETS], 0);
	CHECK_STR(kc_json_str0(kc_json_get(d, "metadata"), "name"), "s");
	CHECK(kc_json_path(d, "metadata.annotations") != NULL);
	CHECK(s.names[KC_RES_SECRETS] == NULL && s.nnames[KC_RES_SECRETS] == 0);
	kc_snapshot_free(&s);
}

/* The evaluator built over the model's RBAC records is the one built over
 * the objects: every role and binding, in order, with the same names,
 * rules, labels, subjects, roles found, aggregation and drift, and the
 * same warnings' effects (a binding without roleRef skipped, a rule that
 * is not an object skipped), for objects that are odd as the server never
 * sends them: duplicate keys, an item that is not an object, subjects an
 * object, rules an object, a missing namespace.  Twin: the records' kinds
 * have no items at the model level, and the compact level no records. */
DEFINE_TEST(test_snapshot_model_rbac_records)
{
	struct kc_snapshot m, c;
	struct kc_rbac rm, rc;
	cJSON *dm, *dc;

	page("clusterroles", "page-0001.json",
	    "{'metadata':{'name':'agg','labels':{'x':'1'}},'aggregationRule':{'clusterRoleSelectors':"
	    "[{'matchLabels':{'feed':'1'}}]},'rules':[{'verbs':['get'],'apiGroups':[''],'resources':['pods']}]},"
	    "{'metadata':{'name':'feed-a','labels':{'feed':'1'}},'rules':[{'verbs':['list'],'apiGroups':[''],"
	    "'resources':['secrets']},'not-a-rule']},"
	    "{'metadata':{'name':'obj-rules'},'rules':{'a':{'verbs':['*'],'apiGroups':['*'],'resources':['*']}}},"
	    "'not-an-object'");
	page("clusterrolebindings", "page-0001.json",
	    "{'metadata':{'name':'crb','labels':{'kubernetes.io/bootstrapping':'rbac-defaults'}},"
	    "'roleRef':{'kind':'ClusterRole','name':'agg'},'subjects':[{'kind':'Group','name':'g'},"
	    "{'kind':'ServiceAccount','name':'nons'}]},"
	    "{'metadata':{'name':'noref'},'subjects':[{'kind':'User','name':'u'}]}");
	page("roles", "page-0001.json",
	    "{'metadata':{'name':'r','namespace':'a'},'rules':[{'verbs':['get'],'apiGroups':[''],'resources':['secrets']}]},"
	    "{'metadata':{'name':'r2','namespace':'b'},'rules':[{'verbs':['get'],'apiGroups':[''],'resources':['secrets']}]}");
	page("rolebindings", "page-0001.json",
	    "{'metadata':{'name':'rb','namespace':'a','name':'rb-last'},'roleRef':{'kind':'Role','name':'r'},"
	    "'subjects':{'one':{'kind':'ServiceAccount','name':'agent','namespace':'a'}}},"
	    "{'metadata':{'name':'rb2','namespace':'b'},'roleRef':{'kind':'Role','name':'missing'},"
	    "'subjects':[{'kind':'ServiceAccount','name':'agent'},'str',{'kind':7}]},"
	    "{'metadata':{'name':'rb3'},'roleRef':'not-an-object'}");
	page("rolebindings", "page-0002.json",
	    "{'metadata':{'name':'rb4','namespace':'b'},'roleRef':{'kind':'ClusterRole','name':'feed-a'},"
	    "'subjects':[{'kind':'Group','name':'system:serviceaccounts:a'}]}");
	CHECK_INT(kc_snapshot_load_dir_level(".", &m, KC_SNAP_MODEL), 0);
	CHECK_INT(kc_snapshot_load_dir_level(".", &c, KC_SNAP_COMPACT), 0);
	CHECK_INT(m.nrbac[KC_RES_CLUSTERROLES], 4);
	CHECK_INT(m.nrbac[KC_RES_ROLEBINDINGS], 4);
	CHECK_INT(cJSON_GetArraySize(m.items[KC_RES_ROLEBINDINGS]), 0);
	CHECK(c.rbac[KC_RES_ROLEBINDINGS] == NULL && cJSON_GetArraySize(c.items[KC_RES_ROLEBINDINGS]) == 4);
	CHECK_INT(kc_rbac_init(&rm, &m), 0);
	CHECK_INT(kc_rbac_init(&rc, &c), 0);
	CHECK_INT(rm.nroles, rc.nroles);
	CHECK_INT(rm.nroles, 6);
	CHECK_INT(rm.nbindings, rc.nbindings);
	CHECK_INT(rm.nbindings, 4);	/* noref and rb3 skipped */
	CHECK_INT(rm.ncrb, rc.ncrb);
	for (size_t i = 0; i < rm.nroles && i < rc.nroles; i++) {
		const struct kc_rbac_role *a = &rm.roles[i], *b = &rc.roles[i];

		CHECK(a->obj == NULL && b->obj != NULL);
		CHECK_INT(a->cluster, b->cluster);
		CHECK_STR(a->ns, b->ns);
		CHECK_STR(a->name, b->name);
		CHECK_INT(a->nrules, b->nrules);
		for (size_t k = 0; k < a->nrules && k < b->nrules; k++)
			CHECK(same(a->rules[k].json, b->rules[k].json));
		CHECK(same(a->labels, b->labels));
		CHECK(same(a->rules_json, b->rules_json));
		CHECK_INT(a->aggregated, b->aggregated);
		CHECK_INT(a->drift, b->drift);
		CHECK(same(a->expected, b->expected));
	}
	CHECK(rm.roles[0].aggregated && rm.roles[0].drift);	/* feed-a's list is not agg's */
	for (size_t i = 0; i < rm.nbindings && i < rc.nbindings; i++) {
		const struct kc_rbac_binding *a = &rm.bindings[i], *b = &rc.bindings[i];

		CHECK(a->obj == NULL && a->subjects_borrowed && !b->subjects_borrowed);
		CHECK_INT(a->cluster, b->cluster);
		CHECK_STR(a->ns, b->ns);
		CHECK_STR(a->name, b->name);
		CHECK_STR(a->role_kind, b->role_kind);
		CHECK_STR(a->role_name, b->role_name);
		CHECK(same(a->labels, b->labels));
		CHECK_INT(a->role == NULL, b->role == NULL);
		if (a->role != NULL && b->role != NULL)
			CHECK_INT(a->role - rm.roles, b->role - rc.roles);
		CHECK_INT(a->nsubjects, b->nsubjects);
		for (size_t k = 0; k < a->nsubjects && k < b->nsubjects; k++) {
			CHECK_STR(a->subjects[k].kind, b->subjects[k].kind);
			CHECK_STR(a->subjects[k].name, b->subjects[k].name);
			CHECK_STR(a->subjects[k].ns, b->subjects[k].ns);
		}
	}
	CHECK_STR(rm.bindings[1].name, "rb-last");
	CHECK_INT(rm.bindings[1].nsubjects, 1);	/* the member of an object */
	CHECK_INT(rm.bindings[2].nsubjects, 3);	/* 'str' and {'kind':7} are members too */
	CHECK_INT(rm.nunindexed, rc.nunindexed);
	dm = kc_rbac_drift_json(&rm);
	dc = kc_rbac_drift_json(&rc);
	CHECK(dm != NULL && same(dm, dc));
	cJSON_Delete(dm);
	cJSON_Delete(dc);
	kc_rbac_free(&rm);
	kc_rbac_free(&rc);
	kc_snapshot_free(&m);
	kc_snapshot_free(&c);
}

/* The selected account's pods come in, in the pages' order, each reduced
 * to what collect's readers of a pod read (the duplicate keys' last, a
 * container to its name); the others are dropped. */
DEFINE_TEST(test_snapshot_model_hydrates_selected_pods)
{
	static const int levels[] = { KC_SNAP_MODEL, KC_SNAP_MODEL_PODS };
	struct kc_snapshot s, c;

	estate();
	CHECK_INT(kc_snapshot_load_dir_level(".", &c, KC_SNAP_COMPACT), 0);
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		CHECK_INT(kc_snapshot_load_dir_level(".", &s, levels[l]), 0);
		CHECK_INT(kc_snapshot_hydrate_pods(&s, ".", want_agent, NULL), 0);
		CHECK_INT(s.level, KC_SNAP_COMPACT);
		/* agent-1, the duplicate-keyed pod (serviceAccount alias), agent-2 */
		CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_PODS]), 3);
		{
			static const char *const want[] = {
			    "{\"metadata\":{\"name\":\"agent-1\",\"namespace\":\"a\",\"uid\":\"u-agent-1\","
			    "\"labels\":{\"app\":\"x\"},\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"rs\"}]},"
			    "\"spec\":{\"serviceAccountName\":\"agent\",\"containers\":[{\"name\":\"c\"}]},"
			    "\"status\":{\"containerStatuses\":[{\"name\":\"c\",\"restartCount\":2},\"str\"]}}",
			    "{\"metadata\":{\"name\":\"dup\",\"namespace\":\"a\"},\"spec\":{\"serviceAccount\":\"agent\"}}",
			    "{\"metadata\":{\"name\":\"agent-2\",\"namespace\":\"a\",\"uid\":\"u-agent-2\","
			    "\"labels\":{\"app\":\"x\"},\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"rs\"}]},"
			    "\"spec\":{\"serviceAccountName\":\"agent\",\"nodeName\":\"n1\","
			    "\"initContainers\":[{\"name\":\"i2\"},\"str\"],\"containers\":[{\"name\":\"c\"}],"
			    "\"volumes\":[{\"name\":\"v\"}]},"
			    "\"status\":{\"containerStatuses\":[{\"name\":\"c\",\"restartCount\":2},\"str\"]}}",
			};

			for (int i = 0; i < 3; i++) {
				char *p = cJSON_PrintUnformatted(pod(&s, i));

				CHECK_STR(p, want[i]);
				free(p);
			}
			/* the twin: the whole pod (KC_SNAP_COMPACT) has more */
			CHECK(!same(pod(&s, 0), pod(&c, 0)));
			CHECK_STR(kc_json_str0(kc_json_path(pod(&c, 0), "spec.containers")->child, "image"), "i");
			CHECK_STR(kc_json_str0(kc_json_path(pod(&c, 0), "status.containerStatuses")->child, "containerID"),
			    "cri://agent-1");
		}
		CHECK_INT(kc_json_path(pod(&s, 0), "status.containerStatuses")->child->child->next->valueint, 2);
		CHECK(kc_json_path(pod(&s, 0), "metadata.managedFields") == NULL);
		CHECK(kc_json_get(kc_json_get(pod(&s, 0), "status"), "phase") == NULL);
		/* the other account's pod and the item that is no object: gone */
		for (int i = 0; i < 3; i++)
			CHECK(strcmp(kc_json_str0(kc_json_get(pod(&s, i), "metadata"), "name"), "app-1") != 0);
		/* the owners of the pods' namespace, reduced */
		CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_DEPLOYMENTS]), 1);
		CHECK_STR(kc_json_str0(kc_json_path(cJSON_GetArrayItem(s.items[KC_RES_DEPLOYMENTS], 0), "metadata"),
		    "uid"), "u1");
		kc_snapshot_free(&s);
	}
	kc_snapshot_free(&c);
}

/* Its twin: a page that no longer parses is an error, nothing is kept; a
 * snapshot of another level is left alone. */
DEFINE_TEST(test_snapshot_model_hydrate_refuses_broken_pages)
{
	struct kc_snapshot s;

	estate();
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_MODEL_PODS), 0);
	CHECK_INT(kc_write_file_atomic("raw/pods/page-0002.json", "{\"items\":[", 10, 0644), 0);
	CHECK_INT(kc_snapshot_hydrate_pods(&s, ".", want_agent, NULL), KC_ERR_PARSE);
	CHECK(strstr(kc_err_msg(), "page-0002.json") != NULL);
	CHECK_INT(s.level, KC_SNAP_MODEL_PODS);
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_PODS]), 5);	/* unchanged */
	kc_snapshot_free(&s);
	/* no selected account: no pod, no owner */
	estate();
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_MODEL), 0);
	CHECK_INT(kc_snapshot_hydrate_pods(&s, ".", want_none, NULL), 0);
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_PODS]), 0);
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_DEPLOYMENTS]), 0);
	kc_snapshot_free(&s);
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_COMPACT), 0);
	CHECK_INT(kc_snapshot_hydrate_pods(&s, ".", want_agent, NULL), 0);
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_PODS]), 5);
	kc_snapshot_free(&s);
	/* no account wanted at all (want NULL, collect with no agent
	 * selected): the pods' pages and, no namespace being left, the
	 * owners' are not read, so broken ones are not met; the same
	 * snapshot as want_none's. Its twin: want_none reads them and fails */
	estate();
	CHECK_INT(kc_write_file_atomic("raw/pods/page-0002.json", "{\"items\":[", 10, 0644), 0);
	CHECK_INT(kc_write_file_atomic("raw/deployments/page-0001.json", "{\"items\":[", 10, 0644), 0);
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_MODEL), 0);
	CHECK_INT(kc_snapshot_hydrate_pods(&s, ".", NULL, NULL), 0);
	CHECK_INT(s.level, KC_SNAP_COMPACT);
	CHECK_INT(s.present[KC_RES_PODS], 1);
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_PODS]), 0);
	for (int i = KC_RES_DEPLOYMENTS; i <= KC_RES_CRONJOBS; i++)
		CHECK_INT(cJSON_GetArraySize(s.items[i]), 0);
	kc_snapshot_free(&s);
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_MODEL), 0);
	CHECK_INT(kc_snapshot_hydrate_pods(&s, ".", want_none, NULL), KC_ERR_PARSE);
	CHECK(strstr(kc_err_msg(), "pods/page-0002.json") != NULL);
	kc_snapshot_free(&s);
	/* the pods intact: want_none reads every page and keeps no pod, then
	 * meets the broken deployments page only if a namespace is left
	 * (none is): the same empty snapshot as want NULL */
	estate();
	CHECK_INT(kc_write_file_atomic("raw/deployments/page-0001.json", "{\"items\":[", 10, 0644), 0);
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_MODEL), 0);
	CHECK_INT(kc_snapshot_hydrate_pods(&s, ".", want_none, NULL), 0);
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_PODS]), 0);
	CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_DEPLOYMENTS]), 0);
	kc_snapshot_free(&s);
	/* and with a namespace left (agent-1's pod kept), the broken
	 * deployments page is read and refused */
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_MODEL), 0);
	CHECK_INT(kc_snapshot_hydrate_pods(&s, ".", want_agent, NULL), KC_ERR_PARSE);
	CHECK(strstr(kc_err_msg(), "deployments/page-0001.json") != NULL);
	kc_snapshot_free(&s);
}

/* RBAC objects and service accounts in the model: of an RBAC object what
 * the evaluator, the findings and the drift read (name, namespace, labels,
 * rules, subjects, roleRef, aggregationRule, each whole, duplicate keys
 * taken as every reader takes them: the last), of an account its name and
 * namespace; KC_SNAP_COMPACT (offline readers) keeps the rest. */
DEFINE_TEST(test_snapshot_model_rbac_and_accounts)
{
	static const int levels[] = { KC_SNAP_MODEL, KC_SNAP_MODEL_PODS };
	struct kc_snapshot s, c;
	struct kc_workloads wc, ws;
	cJSON *want, *got;
	const cJSON *d;

	estate();
	page("clusterroles", "page-0001.json",
	    "{'metadata':{'name':'agg','uid':'u-agg','resourceVersion':'9','creationTimestamp':'2026-01-01T00:00:00Z',"
	    "'labels':{'x':'1'},'annotations':{'kubectl.kubernetes.io/last-applied-configuration':'{}'},"
	    "'managedFields':[{'manager':'m'}]},'aggregationRule':{'clusterRoleSelectors':[{'matchLabels':{'x':'1'}}]},"
	    "'rules':[{'verbs':['get'],'apiGroups':[''],'resources':['pods']}]}");
	page("rolebindings", "page-0001.json",
	    "{'metadata':{'name':'b','namespace':'a','uid':'u-b','annotations':{'k':'v'}},"
	    "'roleRef':{'kind':'Role','name':'first'},'roleRef':{'kind':'ClusterRole','name':'agg'},"
	    "'subjects':[{'kind':'ServiceAccount','name':'agent','namespace':'a'}]}");
	page("serviceaccounts", "page-0001.json",
	    "{'metadata':{'name':'agent','namespace':'a','uid':'u-sa','labels':{'l':'1'},"
	    "'annotations':{'eks.amazonaws.com/role-arn':'arn:1','other':'x',"
	    "'iam.gke.io/gcp-service-account':'g@p','azure.workload.identity/client-id':'first',"
	    "'azure.workload.identity/client-id':'az'}},"
	    "'secrets':[{'name':'agent-token-x'}],'automountServiceAccountToken':false}");
	CHECK_INT(kc_snapshot_load_dir_level(".", &c, KC_SNAP_COMPACT), 0);
	CHECK_INT(kc_workloads_init(&wc, &c), 0);
	want = kc_cloud_reach_json(&wc, "a", "agent");
	CHECK(want != NULL && cJSON_GetArraySize(want) == 3);
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		CHECK_INT(kc_snapshot_load_dir_level(".", &s, levels[l]), 0);
		/* a record: every annotation the cloud reach reads is kept,
		 * the rest go */
		CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_SERVICEACCOUNTS]), 0);
		CHECK_INT(s.nsas, 1);
		d = s.nsas > 0 ? s.sas[0].annotations : NULL;
		for (size_t i = 0; kc_cloud_annotation(i) != NULL; i++)
			CHECK(kc_json_get(d, kc_cloud_annotation(i)) != NULL);
		CHECK(kc_json_get(d, "other") == NULL);
		CHECK_INT(kc_workloads_init(&ws, &s), 0);
		got = kc_cloud_reach_json(&ws, "a", "agent");
		CHECK(same(got, want));
		cJSON_Delete(got);
		kc_workloads_free(&ws);
		/* the RBAC objects as records (test_snapshot_model_rbac_records):
		 * of metadata only the name, namespace and labels */
		CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_CLUSTERROLES]), 0);
		CHECK_INT(s.nrbac[KC_RES_CLUSTERROLES], 1);
		if (s.nrbac[KC_RES_CLUSTERROLES] == 1) {
			const struct kc_snap_rbac *rec = &s.rbac[KC_RES_CLUSTERROLES][0];

			CHECK_STR(rec->name, "agg");
			CHECK_STR(kc_json_str0(rec->labels, "x"), "1");
			CHECK(cJSON_IsArray(kc_json_get(rec->aggregation, "clusterRoleSelectors")));
			CHECK_STR(cJSON_GetArrayItem(kc_json_get(cJSON_GetArrayItem(rec->rules, 0), "resources"),
			    0)->valuestring, "pods");
			CHECK(rec->role_kind == NULL && rec->nsubjects == 0);
		}
		CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_ROLEBINDINGS]), 0);
		CHECK_INT(s.nrbac[KC_RES_ROLEBINDINGS], 1);
		if (s.nrbac[KC_RES_ROLEBINDINGS] == 1) {
			const struct kc_snap_rbac *rec = &s.rbac[KC_RES_ROLEBINDINGS][0];

			CHECK_STR(rec->ns, "a");
			CHECK_STR(rec->role_name, "agg");	/* the last roleRef */
			CHECK_STR(rec->role_kind, "ClusterRole");
			CHECK_INT(rec->nsubjects, 1);
			CHECK_STR(s.subjects[rec->subjects].name, "agent");
			CHECK(rec->labels == NULL && rec->rules == NULL);
		}
		{
			struct kc_sa_iter x = KC_SA_ITER_INIT;
			struct kc_snap_sa sa;

			CHECK(kc_snapshot_next_sa(&s, &x, &sa));
			CHECK_STR(sa.name, "agent");
			CHECK_STR(sa.ns, "a");
			CHECK(sa.annotations == d);
			CHECK(!kc_snapshot_next_sa(&s, &x, &sa));
			CHECK(kc_snapshot_has_sa(&s, "a", "agent") && !kc_snapshot_has_sa(&s, "a", "other"));
		}
		kc_snapshot_free(&s);
	}
	/* the twin: the offline level keeps them, as items, and the
	 * iterator reads the items */
	CHECK(c.rbac[KC_RES_CLUSTERROLES] == NULL && c.nrbac[KC_RES_ROLEBINDINGS] == 0);
	CHECK(c.sas == NULL && c.nsas == 0);
	{
		struct kc_sa_iter x = KC_SA_ITER_INIT;
		struct kc_snap_sa sa;

		CHECK(kc_snapshot_next_sa(&c, &x, &sa));
		CHECK_STR(sa.name, "agent");
		CHECK(kc_json_get(sa.annotations, "other") != NULL);
		CHECK(!kc_snapshot_next_sa(&c, &x, &sa));
		CHECK(kc_snapshot_has_sa(&c, "a", "agent"));
	}
	d = cJSON_GetArrayItem(c.items[KC_RES_CLUSTERROLES], 0);
	CHECK_STR(kc_json_str0(kc_json_get(d, "metadata"), "uid"), "u-agg");
	CHECK(kc_json_path(d, "metadata.annotations") != NULL);
	d = cJSON_GetArrayItem(c.items[KC_RES_SERVICEACCOUNTS], 0);
	CHECK(cJSON_IsArray(kc_json_get(d, "secrets")));
	CHECK(kc_json_get(kc_json_path(d, "metadata.annotations"), "other") != NULL);
	cJSON_Delete(want);
	kc_workloads_free(&wc);
	kc_snapshot_free(&c);
}

/* A page reduced as it is read loads into the same snapshot as the page. */
DEFINE_TEST(test_snapshot_reduce_page_same_snapshot)
{
	static const char *const res[] = { "pods", "secrets", "deployments" };
	struct kc_snapshot whole, reduced;

	estate();
	CHECK_INT(kc_snapshot_load_dir_level(".", &whole, KC_SNAP_DIFF), 0);
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		char rel[128], *data;
		struct kc_buf b = KC_BUF_INIT(1 << 20);
		size_t len, before;

		snprintf(rel, sizeof(rel), "raw/%s/page-0001.json", res[i]);
		CHECK_INT(kc_read_file(rel, 1 << 20, &b), 0);
		before = b.len;
		data = kc_buf_take(&b, &len);
		CHECK_INT(kc_snapshot_reduce_page(rel, KC_SNAP_DIFF, &data, &len), 0);
		CHECK(len < before);
		CHECK(strstr(data, "managedFields") == NULL && strstr(data, "containers") == NULL);
		CHECK_INT(kc_write_file_atomic(rel, data, len, 0644), 0);
		free(data);
	}
	CHECK_INT(kc_snapshot_load_dir_level(".", &reduced, KC_SNAP_DIFF), 0);
	for (int r = 0; r < KC_RES_COUNT; r++)
		CHECK(same(whole.items[r], reduced.items[r]));
	CHECK_STR(kc_json_str0(kc_json_get(pod(&reduced, 0), "metadata"), "namespace"), "a");
	kc_snapshot_free(&whole);
	kc_snapshot_free(&reduced);
}

/* Its twin: what a level keeps whole, and what the loader must judge, is
 * left as it is. */
DEFINE_TEST(test_snapshot_reduce_page_leaves_others)
{
	static const struct { const char *rel, *text; int level; } cases[] = {
		{ "raw/pods/page-0001.json", "{\"items\":[{\"a\":1}", KC_SNAP_DIFF },	/* not JSON */
		{ "raw/pods/page-0001.json", "{\"items\":{}}", KC_SNAP_DIFF },	/* no items array */
		{ "raw/rolebindings/page-0001.json", "{\"items\":[{\"metadata\":{\"managedFields\":[]}}]}",
		  KC_SNAP_COMPACT },	/* kept whole */
		{ "raw/pods/page-0001.json", "{\"items\":[{\"spec\":{}}]}", KC_SNAP_FULL },
		{ "raw/pods/sub/page-0001.json", "{\"items\":[{\"spec\":{}}]}", KC_SNAP_DIFF },
		{ "reviews/pods/page-0001.json", "{\"items\":[{\"spec\":{}}]}", KC_SNAP_DIFF },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].text);
		char *data = strdup(cases[i].text), *was = data;

		CHECK_INT(kc_snapshot_reduce_page(cases[i].rel, cases[i].level, &data, &len), 0);
		CHECK(data == was);
		CHECK_STR(data, cases[i].text);
		free(data);
	}
}

/* KC_SNAP_DIFF keeps of an RBAC object's managedFields what diff's
 * "changed by" reads (manager, operation, time, a repeated key's every
 * copy), of its metadata what diff reads (no annotations, no
 * creationTimestamp), and a page reduced as it is read loads the same;
 * its twins: KC_SNAP_FULL keeps fieldsV1 and annotations, KC_SNAP_COMPACT
 * drops managedFields, and a pod at KC_SNAP_DIFF keeps none. */
DEFINE_TEST(test_snapshot_diff_keeps_changed_by)
{
	struct kc_snapshot s;
	const cJSON *mf, *e;

	page("rolebindings", "page-0001.json",
	    "{'metadata':{'name':'rb','namespace':'a','uid':'u-rb','resourceVersion':'7',"
	    "'creationTimestamp':'2026-01-01T00:00:00Z','labels':{'l':'1'},'annotations':{'k':'v'},"
	    "'managedFields':[{'manager':'kubectl','operation':'Update',"
	    "'apiVersion':'rbac.authorization.k8s.io/v1','time':'2026-01-01T00:00:00Z','time':'2026-02-02T00:00:00Z',"
	    "'fieldsType':'FieldsV1','fieldsV1':{'f:subjects':{}}},'not-an-object']},"
	    "'roleRef':{'kind':'Role','name':'r'},'subjects':[]}");
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_DIFF), 0);
	{
		/* what diff reads stays, annotations and creationTimestamp go */
		const cJSON *m = kc_json_get(cJSON_GetArrayItem(s.items[KC_RES_ROLEBINDINGS], 0), "metadata");

		CHECK_STR(kc_json_str0(m, "uid"), "u-rb");
		CHECK_STR(kc_json_str0(m, "resourceVersion"), "7");
		CHECK_STR(kc_json_str0(kc_json_get(m, "labels"), "l"), "1");
		CHECK(kc_json_get(m, "annotations") == NULL && kc_json_get(m, "creationTimestamp") == NULL);
		CHECK(kc_json_get(cJSON_GetArrayItem(s.items[KC_RES_ROLEBINDINGS], 0), "roleRef") != NULL);
	}
	{
		/* the page reduced as it is read loads into the same snapshot */
		struct kc_snapshot r;
		struct kc_buf b = KC_BUF_INIT(1 << 20);
		char *data;
		size_t len, before;

		CHECK_INT(kc_read_file("raw/rolebindings/page-0001.json", 1 << 20, &b), 0);
		before = b.len;
		data = kc_buf_take(&b, &len);
		CHECK_INT(kc_snapshot_reduce_page("raw/rolebindings/page-0001.json", KC_SNAP_DIFF, &data, &len), 0);
		CHECK(len < before && strstr(data, "fieldsV1") == NULL && strstr(data, "annotations") == NULL);
		CHECK_INT(kc_write_file_atomic("raw/rolebindings/page-0001.json", data, len, 0644), 0);
		free(data);
		CHECK_INT(kc_snapshot_load_dir_level(".", &r, KC_SNAP_DIFF), 0);
		CHECK(same(s.items[KC_RES_ROLEBINDINGS], r.items[KC_RES_ROLEBINDINGS]));
		kc_snapshot_free(&r);
		kc_snapshot_free(&s);
		page("rolebindings", "page-0001.json",
		    "{'metadata':{'name':'rb','namespace':'a','uid':'u-rb','resourceVersion':'7',"
		    "'creationTimestamp':'2026-01-01T00:00:00Z','labels':{'l':'1'},'annotations':{'k':'v'},"
		    "'managedFields':[{'manager':'kubectl','operation':'Update',"
		    "'apiVersion':'rbac.authorization.k8s.io/v1','time':'2026-01-01T00:00:00Z',"
		    "'time':'2026-02-02T00:00:00Z','fieldsType':'FieldsV1','fieldsV1':{'f:subjects':{}}},"
		    "'not-an-object']},'roleRef':{'kind':'Role','name':'r'},'subjects':[]}");
		CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_DIFF), 0);
	}
	mf = kc_json_get(kc_json_get(cJSON_GetArrayItem(s.items[KC_RES_ROLEBINDINGS], 0), "metadata"),
	    "managedFields");
	CHECK_INT(cJSON_GetArraySize(mf), 2);
	e = cJSON_GetArrayItem(mf, 0);
	CHECK_INT(cJSON_GetArraySize(e), 4);
	CHECK_STR(kc_json_str0(e, "manager"), "kubectl");
	CHECK_STR(kc_json_str0(e, "operation"), "Update");
	CHECK_STR(kc_json_str0(e, "time"), "2026-02-02T00:00:00Z");
	CHECK(kc_json_get(e, "fieldsV1") == NULL && kc_json_get(e, "apiVersion") == NULL);
	CHECK(cJSON_IsString(cJSON_GetArrayItem(mf, 1)));
	CHECK(kc_json_get(cJSON_GetArrayItem(s.items[KC_RES_ROLEBINDINGS], 0), "subjects") != NULL);
	kc_snapshot_free(&s);
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_FULL), 0);
	e = cJSON_GetArrayItem(kc_json_get(kc_json_get(cJSON_GetArrayItem(s.items[KC_RES_ROLEBINDINGS], 0),
	    "metadata"), "managedFields"), 0);
	CHECK(kc_json_get(e, "fieldsV1") != NULL);
	CHECK(kc_json_path(cJSON_GetArrayItem(s.items[KC_RES_ROLEBINDINGS], 0), "metadata.annotations") != NULL);
	kc_snapshot_free(&s);
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_COMPACT), 0);
	CHECK(kc_json_get(kc_json_get(cJSON_GetArrayItem(s.items[KC_RES_ROLEBINDINGS], 0), "metadata"),
	    "managedFields") == NULL);
	kc_snapshot_free(&s);
}

/* The model's secrets and namespaces are their names (struct kc_snapshot
 * names[]), read as every reader of the items read them (the last of
 * duplicate keys, "" for what is missing or not a string, an item that is
 * not an object included), in the list's order across pages; what the
 * analysis makes of them (every namespace, the secret index) is what it
 * made of the items.  The twin: the compact level's items. */
DEFINE_TEST(test_snapshot_model_names)
{
	static const int res[] = { KC_RES_SECRETS, KC_RES_NAMESPACES };
	struct kc_snapshot m, c;
	struct kc_strset nm, nc;
	struct kc_secret_index xm, xc;

	page("secrets", "page-0001.json", "{'metadata':{'name':'s1','namespace':'a','name':'s2'}},"
	    "'not-an-object',{'metadata':{'namespace':'b','name':7}}");
	page("secrets", "page-0002.json", "{'metadata':{'name':'s3','namespace':'b'}}");
	page("namespaces", "page-0001.json", "{'metadata':{'name':'a','labels':{'x':'y'}}},{'metadata':{}}");
	page("namespaces", "page-0002.json", "{'metadata':{'name':'b'}}");
	page("rolebindings", "page-0001.json", "{'metadata':{'name':'rb','namespace':'c'},'subjects':[]}");
	/* a namespace known from an account only (helper-50's case: the
	 * namespace list forbidden, --all-namespaces) */
	page("serviceaccounts", "page-0001.json", "{'metadata':{'name':'sa','namespace':'d'}}");
	CHECK_INT(kc_snapshot_load_dir_level(".", &m, KC_SNAP_MODEL), 0);
	CHECK_INT(kc_snapshot_load_dir_level(".", &c, KC_SNAP_COMPACT), 0);
	for (size_t k = 0; k < sizeof(res) / sizeof(res[0]); k++) {
		const cJSON *it;
		size_t i = 0;

		CHECK_INT(cJSON_GetArraySize(m.items[res[k]]), 0);
		CHECK(m.present[res[k]]);
		CHECK_INT(m.nnames[res[k]], (size_t)cJSON_GetArraySize(c.items[res[k]]));
		CHECK(c.names[res[k]] == NULL);
		cJSON_ArrayForEach(it, c.items[res[k]]) {
			const cJSON *md = kc_json_get(it, "metadata");

			if (i >= m.nnames[res[k]])
				break;
			CHECK_STR(m.names[res[k]][i].ns, kc_json_str0(md, "namespace"));
			CHECK_STR(m.names[res[k]][i].name, kc_json_str0(md, "name"));
			i++;
		}
	}
	CHECK_STR(m.names[KC_RES_SECRETS][0].name, "s2");
	CHECK_STR(m.names[KC_RES_SECRETS][1].name, "");
	CHECK_STR(m.names[KC_RES_SECRETS][3].name, "s3");
	CHECK_INT(kc_rbac_all_namespaces(&m, &nm), 0);
	CHECK_INT(kc_rbac_all_namespaces(&c, &nc), 0);
	CHECK_INT(nm.n, nc.n);
	CHECK_INT(nm.n, 5);	/* "", a, b, c of the binding and d of the account */
	for (size_t i = 0; i < nm.n && i < nc.n; i++)
		CHECK_STR(nm.v[i], nc.v[i]);
	CHECK_INT(kc_secret_index_build_names(&xm, m.names[KC_RES_SECRETS], m.nnames[KC_RES_SECRETS]), 0);
	CHECK_INT(kc_secret_index_build(&xc, c.items[KC_RES_SECRETS]), 0);
	CHECK_INT(xm.n, 4);
	CHECK_INT(xm.n, xc.n);
	for (size_t i = 0; i < xm.by_ns.n && i < xc.by_ns.n; i++) {
		const struct kc_snap_name *p = xm.by_ns.v[i].p, *q = xc.by_ns.v[i].p;

		CHECK_STR(p->ns, q->ns);
		CHECK_STR(p->name, q->name);
		CHECK_INT(xm.by_ns.v[i].ord, xc.by_ns.v[i].ord);
	}
	kc_secret_index_free(&xm);
	kc_secret_index_free(&xc);
	kc_strset_free(&nm);
	kc_strset_free(&nc);
	kc_snapshot_free(&m);
	kc_snapshot_free(&c);
}

/* diff reads a PRE bundle's secrets and a POST bundle's pods, and no
 * service account, configmap or workload owner of either: KC_SNAP_DIFF_PRE
 * and KC_SNAP_DIFF_POST keep no item of what their side does not read
 * (the kind is still present), and a page reduced at either level loads
 * into the same snapshot.  Every diff level keeps of a namespace its name
 * only (diff reads no other member).  Twins: KC_SNAP_DIFF keeps pods and
 * secrets, KC_SNAP_COMPACT every kind, and a namespace whole. */
DEFINE_TEST(test_snapshot_diff_sides)
{
	static const struct { int level, pods, secrets, other; } want[] = {
		{ KC_SNAP_DIFF_PRE, 0, 1, 0 }, { KC_SNAP_DIFF_POST, 5, 0, 0 },
		{ KC_SNAP_DIFF, 5, 1, 0 }, { KC_SNAP_COMPACT, 5, 1, 1 },
	};
	static const int other[] = { KC_RES_SERVICEACCOUNTS, KC_RES_CONFIGMAPS, KC_RES_DEPLOYMENTS };
	static const char *const pages[] = { "raw/pods/page-0001.json", "raw/secrets/page-0001.json",
		"raw/serviceaccounts/page-0001.json", "raw/namespaces/page-0001.json" };

	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		struct kc_snapshot s, r;

		estate();
		page("serviceaccounts", "page-0001.json", "{'metadata':{'name':'agent','namespace':'a'}}");
		page("configmaps", "page-0001.json", "{'metadata':{'name':'c','namespace':'a'}}");
		page("rolebindings", "page-0001.json", "{'metadata':{'name':'rb','namespace':'a'},'subjects':[]}");
		page("namespaces", "page-0001.json", "{'metadata':{'name':'a','uid':'u-1','labels':{'x':'y'}},"
		    "'spec':{'finalizers':['kubernetes']},'status':{'phase':'Active'}}");
		CHECK_INT(kc_snapshot_load_dir_level(".", &s, want[w].level), 0);
		{
			const cJSON *ns = cJSON_GetArrayItem(s.items[KC_RES_NAMESPACES], 0);

			CHECK_STR(kc_json_str0(kc_json_get(ns, "metadata"), "name"), "a");
			CHECK_INT(kc_json_get(ns, "spec") != NULL, want[w].other);
			CHECK_INT(kc_json_get(kc_json_get(ns, "metadata"), "uid") != NULL, want[w].other);
		}
		CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_PODS]), want[w].pods);
		CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_SECRETS]), want[w].secrets);
		for (size_t o = 0; o < sizeof(other) / sizeof(other[0]); o++) {
			CHECK_INT(cJSON_GetArraySize(s.items[other[o]]), want[w].other);
			CHECK(s.present[other[o]]);
		}
		CHECK(s.present[KC_RES_PODS] && s.present[KC_RES_SECRETS]);
		CHECK_INT(cJSON_GetArraySize(s.items[KC_RES_ROLEBINDINGS]), 1);
		for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
			struct kc_buf b = KC_BUF_INIT(1 << 20);
			char *data;
			size_t len;

			CHECK_INT(kc_read_file(pages[p], 1 << 20, &b), 0);
			data = kc_buf_take(&b, &len);
			CHECK_INT(kc_snapshot_reduce_page(pages[p], want[w].level, &data, &len), 0);
			CHECK_INT(kc_write_file_atomic(pages[p], data, len, 0644), 0);
			free(data);
		}
		CHECK_INT(kc_snapshot_load_dir_level(".", &r, want[w].level), 0);
		for (int k = 0; k < KC_RES_COUNT; k++)
			CHECK(same(s.items[k], r.items[k]));
		kc_snapshot_free(&s);
		kc_snapshot_free(&r);
	}
}

/* kc_snapshot_reduce_page_want: of a pods page only the pods whose account
 * want accepts, asked with the account as diff reads it ("default" for a
 * pod without one); an error from want stops the page and leaves it as it
 * was.  Twins: want NULL keeps every pod, and a page of another kind is
 * never filtered. */
static int
want_agent_ns_a(void *ctx, const char *ns, const char *name)
{
	int *calls = ctx;

	(*calls)++;
	if (strcmp(name, "boom") == 0)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return strcmp(ns, "a") == 0 && (strcmp(name, "agent") == 0 || strcmp(name, "default") == 0);
}

static int
page_names(const char *data, size_t len, char *out, size_t n)
{
	cJSON *doc = cJSON_ParseWithLength(data, len), *it;
	int count = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(it, kc_json_get(doc, "items")) {
		strncat(out, kc_json_str0(kc_json_get(it, "metadata"), "name"), n - strlen(out) - 1);
		strncat(out, " ", n - strlen(out) - 1);
		count++;
	}
	cJSON_Delete(doc);
	return count;
}

DEFINE_TEST(test_snapshot_reduce_page_want)
{
	static const char text[] = "{\"items\":[{\"metadata\":{\"name\":\"p1\",\"namespace\":\"a\"},"
	    "\"spec\":{\"serviceAccountName\":\"agent\"}},{\"metadata\":{\"name\":\"p2\",\"namespace\":\"a\"},"
	    "\"spec\":{\"serviceAccountName\":\"app\"}},{\"metadata\":{\"name\":\"p3\",\"namespace\":\"a\"},"
	    "\"spec\":{}},{\"metadata\":{\"name\":\"p4\",\"namespace\":\"b\"},\"spec\":{\"serviceAccountName\":"
	    "\"agent\"}}]}";
	static const char boom[] = "{\"items\":[{\"metadata\":{\"name\":\"p1\",\"namespace\":\"a\"},"
	    "\"spec\":{\"serviceAccountName\":\"boom\"}}]}";
	char names[256], *data;
	struct kc_jarena *scratch;
	size_t len;
	int calls = 0;

	data = strdup(text);
	len = strlen(text);
	CHECK_INT(kc_snapshot_reduce_page_want("raw/pods/page-0001.json", KC_SNAP_DIFF_POST, want_agent_ns_a,
	    &calls, NULL, &data, &len), 0);
	CHECK_INT(page_names(data, len, names, sizeof(names)), 2);
	CHECK_STR(names, "p1 p3 ");	/* p3: no account, so "default" */
	CHECK_INT(calls, 4);
	/* parsed into a scratch arena: the same page, twice (the arena's
	 * blocks reused), and the arena holds nothing after */
	scratch = kc_jarena_new();
	CHECK(scratch != NULL);
	for (int k = 0; k < 2; k++) {
		char *d2 = strdup(text);
		size_t l2 = strlen(text);

		calls = 0;
		CHECK_INT(kc_snapshot_reduce_page_want("raw/pods/page-0001.json", KC_SNAP_DIFF_POST, want_agent_ns_a,
		    &calls, scratch, &d2, &l2), 0);
		CHECK_INT(calls, 4);
		CHECK_INT((int)l2, (int)len);
		CHECK_STR(d2, data);
		CHECK_INT((int)kc_jarena_bytes(scratch), 0);
		free(d2);
	}
	kc_jarena_free(scratch);
	free(data);
	/* twin: no filter, every pod */
	data = strdup(text);
	len = strlen(text);
	CHECK_INT(kc_snapshot_reduce_page_want("raw/pods/page-0001.json", KC_SNAP_DIFF_POST, NULL, NULL, NULL,
	    &data, &len), 0);
	CHECK_INT(page_names(data, len, names, sizeof(names)), 4);
	free(data);
	/* twin: a secrets page is not a pods page */
	data = strdup(text);
	len = strlen(text);
	calls = 0;
	CHECK_INT(kc_snapshot_reduce_page_want("raw/secrets/page-0001.json", KC_SNAP_DIFF_PRE, want_agent_ns_a,
	    &calls, NULL, &data, &len), 0);
	CHECK_INT(page_names(data, len, names, sizeof(names)), 4);
	CHECK_INT(calls, 0);
	free(data);
	/* want's error: returned, the page untouched */
	data = strdup(boom);
	len = strlen(boom);
	CHECK_INT(kc_snapshot_reduce_page_want("raw/pods/page-0001.json", KC_SNAP_DIFF_POST, want_agent_ns_a,
	    &calls, NULL, &data, &len), KC_ERR_NOMEM);
	CHECK_STR(data, boom);
	free(data);
}

/* A kind the level drops whole (collect's model: configmaps, PVCs and
 * network policies; diff's PRE: pods) is listed (present[]) but its pages
 * are not read: a page that would not even parse loads at that level, and
 * fails at the one that reads it (the twin).  Reduced as a bundle is read,
 * such a page becomes an empty one without being parsed. */
DEFINE_TEST(test_snapshot_dropped_kinds_not_read)
{
	static const char *const dropped[] = { "configmaps", "persistentvolumeclaims", "networkpolicies" };
	static const int res[] = { KC_RES_CONFIGMAPS, KC_RES_PVCS, KC_RES_NETWORKPOLICIES };
	static const int levels[] = { KC_SNAP_MODEL, KC_SNAP_MODEL_PODS };
	struct kc_snapshot s;
	char *data;
	size_t len;

	estate();
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
		char folder[128], path[160];

		page(dropped[i], "page-0001.json", "{'metadata':{'name':'c','namespace':'a'}}");
		snprintf(folder, sizeof(folder), "raw/%s", dropped[i]);
		snprintf(path, sizeof(path), "%s/page-0002.json", folder);
		CHECK_INT(kc_write_file_atomic(path, "{\"items\":[", 10, 0644), 0);
	}
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		CHECK_INT(kc_snapshot_load_dir_level(".", &s, levels[l]), 0);
		for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
			CHECK_INT(s.present[res[i]], 1);
			CHECK_INT(cJSON_GetArraySize(s.items[res[i]]), 0);
		}
		/* the secret index still has its names */
		CHECK_INT(s.nnames[KC_RES_SECRETS], 1);
		kc_snapshot_free(&s);
	}
	/* the twin: the level that reads configmaps refuses the broken page */
	CHECK(kc_snapshot_load_dir_level(".", &s, KC_SNAP_COMPACT) == KC_ERR_PARSE);
	kc_err_clear();

	/* diff's PRE drops its pods unparsed; POST keeps a page it cannot
	 * parse for the loader to judge */
	data = strdup("{\"items\":[{\"metadata\":");
	len = strlen(data);
	CHECK_INT(kc_snapshot_reduce_page("raw/pods/page-0001.json", KC_SNAP_DIFF_PRE, &data, &len), 0);
	CHECK_STR(data, "{\"items\":[]}");
	CHECK_INT(len, strlen("{\"items\":[]}"));
	free(data);
	data = strdup("{\"items\":[{\"metadata\":");
	len = strlen(data);
	CHECK_INT(kc_snapshot_reduce_page("raw/pods/page-0001.json", KC_SNAP_DIFF_POST, &data, &len), 0);
	CHECK_STR(data, "{\"items\":[{\"metadata\":");
	free(data);
}

/* A resource folder that cannot be read is an error, never "not
 * collected"; a missing one is a list not collected (the twin). */
DEFINE_TEST(test_snapshot_unreadable_folder_is_an_error)
{
	struct kc_snapshot s;
	struct kc_snap_pages it;

	estate();
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_MODEL), 0);
	CHECK_INT(s.present[KC_RES_ROLES], 0);	/* no raw/roles: not collected */
	kc_snapshot_free(&s);
	CHECK_INT(kc_write_file_atomic("raw/roles", "x", 1, 0644), 0);	/* a file in the folder's place */
	CHECK_INT(kc_snapshot_load_dir_level(".", &s, KC_SNAP_MODEL), KC_ERR_IO);
	CHECK(strstr(kc_err_msg(), "raw/roles") != NULL);
	kc_err_clear();
	CHECK_INT(kc_snap_pages_open(&it, ".", KC_RES_ROLES), KC_ERR_IO);
	kc_err_clear();
}

/* collect's model stores equal rules once (kc_jarena_share), and the
 * evaluator then parses them once: two roles of two namespaces with the
 * same rules share one parsed list, and each still grants through its own
 * binding, named in the reason.  The twin: a whole snapshot (no sharing)
 * parses each role's own. */
DEFINE_TEST(test_snapshot_model_roles_share_rules)
{
	static const int levels[] = { KC_SNAP_MODEL, KC_SNAP_COMPACT };

#define ROLE(ns) "{'metadata':{'name':'reader','namespace':'" ns "'},'rules':[" \
	"{'verbs':['get','list'],'apiGroups':[''],'resources':['secrets']},{'verbs':['get'],'apiGroups':['']," \
	"'resources':['pods']}]}"
#define RB(ns) "{'metadata':{'name':'rb','namespace':'" ns "'},'subjects':[{'kind':'ServiceAccount'," \
	"'name':'agent','namespace':'" ns "'}],'roleRef':{'apiGroup':'rbac.authorization.k8s.io'," \
	"'kind':'Role','name':'reader'}}"
	page("roles", "page-0001.json", ROLE("a") "," ROLE("b") ","
	    "{'metadata':{'name':'other','namespace':'b'},'rules':[{'verbs':['get'],'apiGroups':[''],"
	    "'resources':['secrets']}]}");
	page("rolebindings", "page-0001.json", RB("a") "," RB("b"));
#undef ROLE
#undef RB
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		struct kc_snapshot s;
		struct kc_rbac rb;
		struct kc_rbac_sa_id id;
		struct kc_rbac_request req = { "get", "", "secrets", NULL, "x", "b", NULL };
		struct kc_rbac_decision d;
		char reason[512];

		CHECK_INT(kc_snapshot_load_dir_level(".", &s, levels[l]), 0);
		CHECK_INT(kc_rbac_init(&rb, &s), 0);
		CHECK_INT((int)rb.nroles, 3);
		CHECK_INT((int)rb.roles[1].nrules, 2);
		CHECK_STR(rb.roles[1].rules[1].resources.v[0], "pods");
		if (levels[l] == KC_SNAP_MODEL) {
			CHECK(rb.roles[1].rules == rb.roles[0].rules && rb.roles[1].rules_shared && s.shared);
		} else {
			CHECK(rb.roles[1].rules != rb.roles[0].rules && !rb.roles[1].rules_shared && !s.shared);
		}
		/* one element shorter: its own */
		CHECK(rb.roles[2].rules != rb.roles[0].rules && !rb.roles[2].rules_shared);
		CHECK_INT(kc_rbac_sa_identity(&id, "b", "agent"), 0);
		CHECK_INT(kc_rbac_authorize(&rb, &id.id, &req, &d), 0);
		CHECK(d.allowed);
		CHECK_INT(kc_rbac_reason(&d.grant, reason, sizeof(reason)), 0);
		CHECK(strstr(reason, "RoleBinding \"rb/b\"") != NULL);
		req.resource = "configmaps";
		CHECK_INT(kc_rbac_authorize(&rb, &id.id, &req, &d), 0);
		CHECK(!d.allowed);
		kc_rbac_free(&rb);
		kc_snapshot_free(&s);
	}
}

/* kc_snapshot_release_rbac (collect, once its evaluator is built): the
 * records go, the evaluator built before answers as before, and
 * kc_rbac_all_namespaces still knows the namespaces only a Role or a
 * RoleBinding named (the namespace list forbidden).  Twins: a second
 * evaluator over the released snapshot is refused, not built empty; a
 * snapshot released twice is unchanged. */
DEFINE_TEST(test_snapshot_release_rbac)
{
	struct kc_snapshot m;
	struct kc_rbac rb;
	struct kc_strset before, after;
	struct kc_rbac_sa_id id;
	struct kc_rbac_rules rr;

	page("roles", "page-0001.json", "{'metadata':{'name':'r','namespace':'only-role'},"
	    "'rules':[{'apiGroups':[''],'resources':['pods'],'verbs':['get']}]}");
	page("rolebindings", "page-0001.json", "{'metadata':{'name':'rb','namespace':'only-role'},"
	    "'roleRef':{'kind':'Role','name':'r'},'subjects':[{'kind':'ServiceAccount','name':'a','namespace':'x'}]},"
	    "{'metadata':{'name':'norefs','namespace':'only-binding'},'subjects':[]}");
	page("clusterroles", "page-0001.json", "{'metadata':{'name':'c'},'rules':[]}");
	page("serviceaccounts", "page-0001.json", "{'metadata':{'name':'a','namespace':'x'}}");
	CHECK_INT(kc_snapshot_load_dir_level(".", &m, KC_SNAP_MODEL), 0);
	CHECK_INT(kc_rbac_all_namespaces(&m, &before), 0);
	CHECK_INT(before.n, 3);	/* only-binding, only-role, x */
	CHECK_INT(kc_rbac_init(&rb, &m), 0);
	CHECK_INT(kc_snapshot_release_rbac(&m), 0);
	CHECK(m.rbac_released && m.rbac[KC_RES_ROLES] == NULL && m.nrbac[KC_RES_ROLEBINDINGS] == 0);
	CHECK_INT(m.nrbac_ns, 2);
	CHECK_INT(kc_snapshot_release_rbac(&m), 0);
	CHECK_INT(m.nrbac_ns, 2);
	CHECK_INT(kc_rbac_all_namespaces(&m, &after), 0);
	CHECK_INT(after.n, before.n);
	for (size_t i = 0; i < after.n && i < before.n; i++)
		CHECK_STR(after.v[i], before.v[i]);
	/* the evaluator built before: its roles, bindings and subjects */
	memset(&rr, 0, sizeof(rr));
	CHECK_INT(kc_rbac_sa_identity(&id, "x", "a"), 0);
	CHECK_INT(kc_rbac_rules_for(&rb, &id.id, "only-role", &rr), 0);
	CHECK_INT(rr.n, 1);
	CHECK(rr.n == 1 && strcmp(rr.grants[0].binding->name, "rb") == 0 &&
	    strcmp(rr.grants[0].binding->subjects[0].name, "a") == 0);
	kc_rbac_rules_free(&rr);
	kc_rbac_free(&rb);
	/* twin: no evaluator over what is gone */
	CHECK(kc_rbac_init(&rb, &m) != 0);
	kc_strset_free(&before);
	kc_strset_free(&after);
	kc_snapshot_free(&m);
}
