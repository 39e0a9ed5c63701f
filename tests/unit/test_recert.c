/* test_recert.c - the recertification scope file parser (rbac/recert.h):
 * a valid file and, beside it, one bad twin per rule, each with its
 * FILE:LINE:COLUMN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "rbac/recert.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "collector/snapshot.h"

#define HEAD "apiVersion: kcustody.dev/v1alpha1\nkind: AgentScopes\nagents:\n"
#define AGENT "- name: a\n  owner: o\n  approval: CHG-1\n  serviceAccount: ns/bot\n"

static int
parse(const char *text, struct kc_scope *s)
{
	return kc_scope_parse("s.yaml", text, strlen(text), s);
}

/* text fails with KC_ERR_CONFIG and a message starting with want */
static void
bad(const char *text, const char *want)
{
	struct kc_scope s;
	int r = parse(text, &s);

	CHECK_INT(r, KC_ERR_CONFIG);
	if (strncmp(kc_err_msg(), want, strlen(want)) != 0)
		kc_test_fail(__FILE__, __LINE__, "message '%s', expected it to start with '%s'", kc_err_msg(), want);
	kc_scope_free(&s);
}

DEFINE_TEST(test_recert_scope_valid)
{
	struct kc_scope s;

	CHECK_INT(parse(HEAD AGENT "  namespaces: [ns]\n  resources:\n"
	    "  - {apiGroup: \"\", resource: pods, subresource: log, verbs: [get]}\n"
	    "  secrets: {names: [db], verbs: [get]}\n  maxVerbs: [get, list]\n"
	    "- name: b\n  owner: o\n  approval: CHG-2\n  match: {namespaces: [ns], names: [\"rag-*\"]}\n", &s), 0);
	CHECK_INT(s.n, 2);
	CHECK_STR(s.v[0].sa_ns, "ns");
	CHECK_STR(s.v[0].sa_name, "bot");
	CHECK_STR(s.v[0].res[0].resource, "pods/log");
	CHECK_STR(s.v[0].res[0].group, "");
	CHECK(s.v[0].secrets.present && kc_strset_has(&s.v[0].secrets.names, "db"));
	CHECK(s.v[0].has_max && !kc_strset_has(&s.v[0].max_verbs, "watch"));
	CHECK_INT(s.v[1].at.line, 13);
	long idx;
	CHECK_INT(kc_scope_match(&s, "ns", "rag-x", &idx), 0);
	CHECK_INT(idx, 1);
	CHECK_INT(kc_scope_match(&s, "other", "rag-x", &idx), 0);
	CHECK_INT(idx, -1);
	kc_scope_free(&s);
}

DEFINE_TEST(test_recert_scope_unknown_key)
{
	bad(HEAD AGENT "  ownr: x\n", "s.yaml:8:3: unknown key 'ownr' in an agent entry");
	bad(HEAD AGENT "  resources:\n  - {apiGroup: \"\", resource: pods, verb: [get]}\n",
	    "s.yaml:9:36: unknown key 'verb'");
	bad("apiVersion: kcustody.dev/v1alpha1\nkind: AgentScopes\nagent: []\n", "s.yaml:3:1: unknown key 'agent'");
}

DEFINE_TEST(test_recert_scope_bad_verb)
{
	bad(HEAD AGENT "  maxVerbs: [get, read]\n", "s.yaml:8:19: 'read' is not a Kubernetes verb");
	bad(HEAD AGENT "  nonResourceURLs: [{urls: [/healthz], verbs: [list]}]\n",
	    "s.yaml:8:48: 'list' is not a verb of non-resource requests");
}

DEFINE_TEST(test_recert_scope_twice)
{
	bad(HEAD AGENT "- name: b\n  owner: o\n  approval: c\n  serviceAccount: ns/bot\n",
	    "s.yaml:11:19: service account ns/bot is matched twice");
	bad(HEAD AGENT AGENT, "s.yaml:8:9: agent entry name 'a' is used twice");
	bad(HEAD AGENT "  owner: p\n", "s.yaml:8:3: key 'owner' given twice");
}

DEFINE_TEST(test_recert_scope_types)
{
	bad(HEAD AGENT "  namespaces: ns\n", "s.yaml:8:15: 'namespaces' must be a list, not a string");
	bad(HEAD AGENT "  resources:\n  - {apiGroup: , resource: pods, verbs: [get]}\n",
	    "s.yaml:9:");
	bad(HEAD AGENT "  resources:\n  - {apiGroup: \"\", resource: secrets, verbs: [get]}\n",
	    "s.yaml:9:30: secrets are allowed by name");
	bad(HEAD "- name: a\n  owner: o\n  approval: c\n", "s.yaml:4:3: an agent entry selects by exactly one");
	bad("apiVersion: kcustody.dev/v1\nkind: AgentScopes\nagents: []\n", "s.yaml:1:13: apiVersion");
	bad(HEAD "  - [", "s.yaml:");
}

/* ---- judging, on a small snapshot ---- */

static void
page(const char *res, const char *items)
{
	struct kc_buf b = KC_BUF_INIT(1 << 20);
	char folder[256], path[300];

	snprintf(folder, sizeof(folder), "raw/%s", res);
	snprintf(path, sizeof(path), "%s/page-0001.json", folder);
	kc_buf_addf(&b, "{'kind':'List','items':[%s]}", items);
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\'')
			b.data[i] = '"';
	CHECK_INT(kc_mkdir_p(folder, 0755), 0);
	CHECK_INT(kc_write_file_atomic(path, b.data, b.len, 0644), 0);
	kc_buf_free(&b);
}

#define RBX(name, role, sa) "{'metadata':{'name':'" name "','namespace':'a'},'roleRef':{'apiGroup':" \
	"'rbac.authorization.k8s.io','kind':'ClusterRole','name':'" role "'},'subjects':[{'kind':" \
	"'ServiceAccount','name':'" sa "','namespace':'a'}]}"
#define ENTRY(n, sa) "- name: " n "\n  owner: o\n  approval: c\n  serviceAccount: a/" sa "\n" \
	"  namespaces: [a]\n  secrets: {names: [s1], verbs: [get]}\n" \
	"  resources: [{apiGroup: \"\", resource: pods, verbs: [get, list]}]\n"

/* bot: get on secret s1 only (within); bot2: get on every secret (beyond
 * the allowed names); bot3: '*' on pods (beyond: the verbs but get, list) */
DEFINE_TEST(test_recert_eval_names_and_wildcards)
{
	static const char text[] = HEAD ENTRY("e1", "bot") ENTRY("e2", "bot2") ENTRY("e3", "bot3");
	struct kc_snapshot snap;
	struct kc_rbac rb;
	struct kc_scope s;
	cJSON *doc = cJSON_CreateObject(), *sel, *a;

	page("clusterroles",
	    "{'metadata':{'name':'named'},'rules':[{'apiGroups':[''],'resources':['secrets'],'resourceNames':['s1'],'verbs':['get']}]},"
	    "{'metadata':{'name':'every'},'rules':[{'apiGroups':[''],'resources':['secrets'],'verbs':['get']}]},"
	    "{'metadata':{'name':'star'},'rules':[{'apiGroups':[''],'resources':['pods'],'verbs':['*']}]}");
	page("rolebindings", RBX("rb-named", "named", "bot") "," RBX("rb-every", "every", "bot2") ","
	    RBX("rb-star", "star", "bot3"));
	page("namespaces", "{'metadata':{'name':'a'}}");
	CHECK_INT(kc_snapshot_load_dir(".", &snap), 0);
	CHECK_INT(kc_rbac_init(&rb, &snap), 0);
	CHECK_INT(parse(text, &s), 0);
	sel = cJSON_Parse("{\"selected\":[{\"namespace\":\"a\",\"name\":\"bot\"},{\"namespace\":\"a\",\"name\":\"bot2\"},"
	    "{\"namespace\":\"a\",\"name\":\"bot3\"}]}");
	CHECK_INT(kc_recert_eval(&rb, sel, &s, doc), 0);
	a = cJSON_GetArrayItem(kc_json_get_mut(doc, "agents"), 0);
	CHECK_STR(kc_json_str(a, "status"), "within-scope");
	a = cJSON_GetArrayItem(kc_json_get_mut(doc, "agents"), 1);
	CHECK_STR(kc_json_str(a, "status"), "beyond-scope");
	CHECK_STR(kc_json_str(kc_json_path(cJSON_GetArrayItem(kc_json_get_mut(a, "excess"), 0), "binding"), "name"),
	    "rb-every");
	CHECK(strstr(cJSON_GetArrayItem(kc_json_get(cJSON_GetArrayItem(kc_json_get_mut(a, "excess"), 0),
	    "reasons"), 0)->valuestring, "not only the allowed names") != NULL);
	a = cJSON_GetArrayItem(kc_json_get_mut(doc, "agents"), 2);
	CHECK_STR(kc_json_str(a, "status"), "beyond-scope");
	{
		const cJSON *v = kc_json_get(cJSON_GetArrayItem(kc_json_get_mut(a, "excess"), 0), "verbsBeyondScope");
		char *t = cJSON_PrintUnformatted(v);

		CHECK(t != NULL && strstr(t, "\"delete\"") != NULL && strstr(t, "\"get\"") == NULL &&
		    strstr(t, "\"list\"") == NULL);
		free(t);
	}
	CHECK(!cJSON_IsTrue(kc_json_get(doc, "withinScope")));
	cJSON_Delete(sel);
	cJSON_Delete(doc);
	kc_scope_free(&s);
	kc_rbac_free(&rb);
	kc_snapshot_free(&snap);
}
