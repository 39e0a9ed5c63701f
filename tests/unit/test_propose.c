/* test_propose.c - the least-privilege proposal over a small model
 * (rbac/propose.h): attribution (own token, impersonation, one count per
 * auditID), bindings edited or deleted, grants kept through a group, and
 * each refusal of the window beside a window that passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "collector/snapshot.h"
#include "harness.h"
#include "formats/propose_out.h"
#include "rbac/propose.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"

static void
qfix(struct kc_buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\'')
			b->data[i] = '"';
}

static void
page(const char *res, const char *items)
{
	struct kc_buf b = KC_BUF_INIT(1 << 20);
	char folder[256], path[300];

	CHECK_INT(kc_fmt(folder, sizeof(folder), "raw/%s", res), 0);
	CHECK_INT(kc_fmt(path, sizeof(path), "%s/page-0001.json", folder), 0);
	kc_buf_addf(&b, "{'kind':'List','items':[%s]}", items);
	qfix(&b);
	CHECK_INT(kc_mkdir_p(folder, 0755), 0);
	CHECK_INT(kc_write_file_atomic(path, b.data, b.len, 0644), 0);
	kc_buf_free(&b);
}

static cJSON *
js(const char *text)
{
	struct kc_buf b = KC_BUF_INIT(1 << 20);
	cJSON *j;

	kc_buf_adds(&b, text);
	qfix(&b);
	j = cJSON_Parse(kc_buf_str(&b));
	kc_buf_free(&b);
	CHECK(j != NULL);
	return j;
}

#define SA(n) "{'kind':'ServiceAccount','name':'" n "','namespace':'a'}"
#define RB(name, role, subs) "{'metadata':{'name':'" name "','namespace':'a'},'roleRef':{'apiGroup':" \
	"'rbac.authorization.k8s.io','kind':'ClusterRole','name':'" role "'},'subjects':[" subs "]}"
#define EV(id, user, verb, ref) "{'auditID':'" id "','stage':'ResponseComplete','verb':'" verb "'," \
	"'user':{'username':'" user "'},'objectRef':" ref ",'annotations':{'authorization.k8s.io/decision':'allow'}}\n"
#define BOT "system:serviceaccount:a:bot"
#define SOURCES "{'filters':{'since':['2026-01-01T00:00:00Z'],'until':['2026-01-02T00:00:00Z']," \
	"'sa':['a/bot','a/bot2'],'exclude-run':['r1']},'window':{'requested':{'since':'2026-01-01T00:00:00Z'," \
	"'until':'2026-01-02T00:00:00Z'},'start_covered':true,'end_covered':true},'gaps':[],'totals':" \
	"{'source_errors':0},'malformed':[],'reads':{'visible':'all'}}"
#define SCOPE "apiVersion: kcustody.dev/v1alpha1\nkind: AgentScopes\nagents:\n" \
	"- {name: b, owner: o, approval: c, serviceAccount: a/bot, namespaces: [a],\n" \
	"   resources: [{apiGroup: \"\", resource: pods, verbs: [get, list]}]}\n" \
	"- {name: b2, owner: o, approval: c, serviceAccount: a/bot2, namespaces: [a]}\n"

struct fx {
	struct kc_snapshot snap;
	struct kc_rbac rb;
	struct kc_scope s;
	cJSON *sel;
};

/* bot: pods get/list/delete through its own binding "own", shared with
 * bot2 in "pair" (configmaps list), and with user alice in "shared";
 * everyone of the namespace reads services through a group. */
static void
fx_init(struct fx *f)
{
	page("clusterroles",
	    "{'metadata':{'name':'pods'},'rules':[{'apiGroups':[''],'resources':['pods'],'verbs':['get','list','delete']}]},"
	    "{'metadata':{'name':'cms'},'rules':[{'apiGroups':[''],'resources':['configmaps'],'verbs':['list']}]},"
	    "{'metadata':{'name':'svc'},'rules':[{'apiGroups':[''],'resources':['services'],'verbs':['get']}]}");
	page("rolebindings", RB("own", "pods", SA("bot")) "," RB("pair", "cms", SA("bot") "," SA("bot2")) ","
	    RB("shared", "cms", "{'kind':'User','name':'alice'}," SA("bot") ",{'kind':'User','name':'" BOT "'}") ","
	    RB("group", "svc", "{'kind':'Group','name':'system:serviceaccounts:a'}"));
	page("namespaces", "{'metadata':{'name':'a'}}");
	CHECK_INT(kc_snapshot_load_dir(".", &f->snap), 0);
	CHECK_INT(kc_rbac_init(&f->rb, &f->snap), 0);
	CHECK_INT(kc_scope_parse("s.yaml", SCOPE, strlen(SCOPE), &f->s), 0);
	f->sel = js("{'selected':[{'namespace':'a','name':'bot'},{'namespace':'a','name':'bot2'}]}");
}

static void
fx_free(struct fx *f)
{
	cJSON_Delete(f->sel);
	kc_scope_free(&f->s);
	kc_rbac_free(&f->rb);
	kc_snapshot_free(&f->snap);
}

static int
run(struct fx *f, const char *sources, const char *seg, int64_t min, cJSON **doc)
{
	cJSON *src = js(sources);
	struct kc_buf b = KC_BUF_INIT(1 << 20);
	int r;

	kc_buf_adds(&b, seg);
	qfix(&b);
	*doc = cJSON_CreateObject();
	r = kc_propose_eval(&f->rb, f->sel, &f->s, src, kc_buf_str(&b), b.len, min, "b.tar.gz", "00ff", *doc);
	kc_buf_free(&b);
	cJSON_Delete(src);
	return r;
}

static const char segment[] =
    EV("1", BOT, "list", "{'resource':'pods','namespace':'a'}")
    EV("1", BOT, "list", "{'resource':'pods','namespace':'a'}")	/* the same request, another stage */
    "{'auditID':'2','stage':'ResponseComplete','verb':'get','user':{'username':'admin'},'impersonatedUser':"
    "{'username':'" BOT "'},'objectRef':{'resource':'pods','namespace':'a','name':'p1'},'annotations':"
    "{'authorization.k8s.io/decision':'allow'}}\n"
    EV("3", BOT, "get", "{'resource':'services','namespace':'a','name':'s'}")	/* through the group */
    "{'auditID':'4','stage':'ResponseComplete','verb':'list','user':{'username':'" BOT "'},'objectRef':"
    "{'resource':'secrets','namespace':'a'},'annotations':{'authorization.k8s.io/decision':'forbid'}}\n"
    EV("5", "system:serviceaccount:a:other", "delete", "{'resource':'pods','namespace':'a','name':'x'}");

DEFINE_TEST(test_propose_uses_and_bindings)
{
	struct fx f;
	cJSON *doc, *bot, *it;
	char *t;
	int n = 0;

	fx_init(&f);
	CHECK_INT(run(&f, SOURCES, segment, 30 * 86400, &doc), 0);
	bot = cJSON_GetArrayItem(kc_json_get_mut(doc, "agents"), 0);
	CHECK_STR(kc_json_str(bot, "status"), "proposed");
	/* list pods once (two stages of one auditID), get pods p1 impersonated,
	 * get services kept through the group */
	CHECK_INT(cJSON_GetArraySize(kc_json_get(bot, "used")), 3);
	cJSON_ArrayForEach(it, kc_json_get(bot, "used")) {
		if (strcmp(kc_json_str0(it, "resource"), "services") == 0)
			CHECK(strncmp(kc_json_str0(it, "proposal"), "kept", 4) == 0);
		else
			CHECK_STR(kc_json_str(it, "proposal"), "granted");
		CHECK_INT(cJSON_GetNumberValue(kc_json_get(it, "requests")), 1);
	}
	CHECK_INT(cJSON_GetArraySize(kc_json_get(bot, "denied")), 1);
	/* unused: delete pods (own), list configmaps (pair, shared) */
	t = cJSON_PrintUnformatted(kc_json_get(bot, "unused"));
	CHECK(t != NULL && strstr(t, "\"verb\":\"delete\",\"apiGroup\":\"\",\"resource\":\"pods\"") != NULL);
	CHECK(strstr(t, "\"verb\":\"get\"") == NULL && strstr(t, "\"list\",\"apiGroup\":\"\",\"resource\":\"pods\"") == NULL);
	free(t);
	/* own and pair (bot and bot2 both gone) deleted, shared edited: alice
	 * only (the agent named as ServiceAccount and as User both removed) */
	cJSON_ArrayForEach(it, kc_json_get(kc_json_get(doc, "objects"), "delete"))
		n++;
	CHECK_INT(n, 2);
	n = 0;
	cJSON_ArrayForEach(it, kc_json_get(kc_json_get(doc, "objects"), "apply")) {
		if (strcmp(kc_json_str0(it, "kind"), "RoleBinding") == 0 &&
		    strcmp(kc_json_str0(kc_json_get(it, "metadata"), "name"), "shared") == 0) {
			t = cJSON_PrintUnformatted(kc_json_get(it, "subjects"));
			CHECK_STR(t, "[{\"kind\":\"User\",\"name\":\"alice\"}]");
			free(t);
			n++;
		}
		if (strcmp(kc_json_str0(it, "kind"), "Role") == 0) {
			t = cJSON_PrintUnformatted(kc_json_get(it, "rules"));
			CHECK_STR(t, "[{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]");
			free(t);
			CHECK_STR(kc_json_str(kc_json_get(it, "metadata"), "name"), "kcustody-proposed:a:bot");
			n++;
		}
	}
	CHECK_INT(n, 2);
	/* bot2 used nothing: nothing granted to it */
	CHECK_INT(cJSON_GetArraySize(kc_json_get(cJSON_GetArrayItem(kc_json_get_mut(doc, "agents"), 1), "used")), 0);
	CHECK(cJSON_IsTrue(kc_json_path(doc, "window.belowMinimum")));
	CHECK(kc_json_path(doc, "window.warning") != NULL);
	CHECK_INT(cJSON_GetNumberValue(kc_json_path(doc, "window.seconds")), 86400);
	cJSON_Delete(doc);
	/* the twin: a minimum of one day is met, no warning */
	CHECK_INT(run(&f, SOURCES, segment, 86400, &doc), 0);
	CHECK(cJSON_IsFalse(kc_json_path(doc, "window.belowMinimum")));
	CHECK(kc_json_path(doc, "window.warning") == NULL);
	cJSON_Delete(doc);
	fx_free(&f);
}

/* sources with one member replaced (a JSON fragment spliced in) */
static void
refused(struct fx *f, const char *from, const char *to, const char *want)
{
	char src[4096];
	const char *p = strstr(SOURCES, from);
	cJSON *doc;

	CHECK(p != NULL);
	CHECK_INT(kc_fmt(src, sizeof(src), "%.*s%s%s", (int)(p - SOURCES), SOURCES, to, p + strlen(from)), 0);
	CHECK_INT(run(f, src, segment, 1, &doc), KC_ERR_INVALID);
	if (strstr(kc_err_msg(), want) == NULL)
		fprintf(stderr, "message: %s\n", kc_err_msg());
	CHECK(strstr(kc_err_msg(), want) != NULL);
	cJSON_Delete(doc);
}

DEFINE_TEST(test_propose_refusals)
{
	struct fx f;

	fx_init(&f);
	refused(&f, "'exclude-run':['r1']", "'exclude-run':['r1'],'verb':['get']", "filtered (--audit-filter verb)");
	refused(&f, "'exclude-run':['r1']", "'exclude-run':['r1','r2']", "filtered (--audit-filter exclude-run)");
	refused(&f, "'a/bot2'", "'a/bot3'", "no events of agent a/bot2");
	refused(&f, "'gaps':[]", "'gaps':[{'kind':'no-events','from':'x','to':'y'}]", "1 gap(s) (first: no-events");
	refused(&f, "'end_covered':true", "'end_covered':false", "does not cover the window");
	refused(&f, "'source_errors':0", "'source_errors':1", "could not be read to the end");
	refused(&f, "'malformed':[]", "'malformed':[{'reason':'invalid JSON','source':'audit.log','offset':9}]",
	    "a malformed audit line (invalid JSON in audit.log at offset 9)");
	refused(&f, "'visible':'all'", "'visible':'some'", "do not log reads");
	fx_free(&f);
}

/* the twin of the refusals: a line the server was writing is no loss */
DEFINE_TEST(test_propose_truncated_last_line_accepted)
{
	struct fx f;
	cJSON *doc;
	char src[4096];
	const char *p;

	fx_init(&f);
	p = strstr(SOURCES, "'malformed':[]");
	CHECK(p != NULL);
	CHECK_INT(kc_fmt(src, sizeof(src), "%.*s%s%s", (int)(p - SOURCES), SOURCES,
	    "'malformed':[{'reason':'truncated last line (no newline at the end)','source':'audit.log','offset':9}]",
	    p + strlen("'malformed':[]")), 0);
	CHECK_INT(run(&f, src, segment, 1, &doc), 0);
	cJSON_Delete(doc);
	fx_free(&f);
}

/* The proposal's text escapes every string of the evidence: a binding's
 * name (from the bundle) under "held but unused" and "Binding changes"
 * reached the terminal raw, so an escape sequence in it could rewrite what
 * the reviewer sees.  Twin: a plain name is printed as it is. */
DEFINE_TEST(test_propose_text_escapes_binding_names)
{
	static const char *const names[] = { "evil\x1b[2J\rkept", "plain-binding" };

	for (int i = 0; i < 2; i++) {
		cJSON *d = cJSON_CreateObject(), *ag, *un, *bi, *ch;
		struct kc_buf out = KC_BUF_INIT(1 << 20);

		ag = cJSON_CreateObject();
		cJSON_AddStringToObject(ag, "namespace", "ns");
		cJSON_AddStringToObject(ag, "name", "a");
		cJSON_AddStringToObject(ag, "status", "proposed");
		un = cJSON_CreateObject();
		cJSON_AddStringToObject(un, "verb", "get");
		cJSON_AddStringToObject(un, "apiGroup", "");
		cJSON_AddStringToObject(un, "resource", "pods");
		cJSON_AddStringToObject(un, "namespace", "ns");
		bi = cJSON_AddObjectToObject(un, "binding");
		cJSON_AddStringToObject(bi, "kind", "RoleBinding");
		cJSON_AddStringToObject(bi, "namespace", "ns");
		cJSON_AddStringToObject(bi, "name", names[i]);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(ag, "unused"), un);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "agents"), ag);
		ch = cJSON_CreateObject();
		cJSON_AddStringToObject(ch, "change", "delete");
		cJSON_AddStringToObject(ch, "kind", "RoleBinding");
		cJSON_AddStringToObject(ch, "namespace", "ns");
		cJSON_AddStringToObject(ch, "name", names[i]);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "bindingChanges"), ch);
		CHECK_INT(kc_propose_render_text(d, "out", &out), 0);
		if (i == 0) {
			CHECK(strchr(kc_buf_str(&out), '\x1b') == NULL);
			CHECK(strchr(kc_buf_str(&out), '\r') == NULL);
			CHECK(strstr(kc_buf_str(&out), "held through RoleBinding ns/evil\\x1b[2J\\x0dkept") != NULL);
			CHECK(strstr(kc_buf_str(&out), "delete RoleBinding ns/evil\\x1b[2J\\x0dkept") != NULL);
		} else {
			CHECK(strstr(kc_buf_str(&out), "held through RoleBinding ns/plain-binding\n") != NULL);
			CHECK(strstr(kc_buf_str(&out), "delete RoleBinding ns/plain-binding\n") != NULL);
		}
		kc_buf_free(&out);
		cJSON_Delete(d);
	}
}
