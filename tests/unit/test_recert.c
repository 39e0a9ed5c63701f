/* test_recert.c - the recertification scope file parser (rbac/recert.h):
 * a valid file and, beside it, one bad twin per rule, each with its
 * FILE:LINE:COLUMN. */
#include <string.h>

#include "harness.h"
#include "rbac/recert.h"
#include "util/err.h"

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
