/* test_diff.c - kcustody diff's reading of audit events (rbac/diff.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "collector/audit.h"
#include "manifest/bundle.h"
#include "rbac/diff.h"
#include "util/fsutil.h"
#include "util/json.h"

/* Two events whose "user" member appears twice, the agent in one and alice
 * in the other; each denied (403) in a namespace naming which user is the
 * agent. */
static const char dup_events[] =
    "{\"stage\":\"ResponseComplete\",\"verb\":\"get\",\"user\":{\"username\":\"alice\"},"
    "\"user\":{\"username\":\"system:serviceaccount:ns:agent\"},"
    "\"objectRef\":{\"resource\":\"configmaps\",\"namespace\":\"agent-last\"},"
    "\"responseStatus\":{\"code\":403},\"requestReceivedTimestamp\":\"2026-01-02T00:02:00Z\"}\n"
    "{\"stage\":\"ResponseComplete\",\"verb\":\"get\","
    "\"user\":{\"username\":\"system:serviceaccount:ns:agent\"},\"user\":{\"username\":\"alice\"},"
    "\"objectRef\":{\"resource\":\"configmaps\",\"namespace\":\"agent-first\"},"
    "\"responseStatus\":{\"code\":403},\"requestReceivedTimestamp\":\"2026-01-02T00:03:00Z\"}\n";

/* A bundle selecting ns/agent, unsigned; segment (may be NULL) as its
 * audit/segment.jsonl. */
static int
make_bundle(const char *name, const char *phase, const char *day, const char *segment)
{
	char dir[64], path[128], draft[512], out[80];
	static const char sel[] = "{\"selected\":[{\"namespace\":\"ns\",\"name\":\"agent\"}]}";
	struct kc_seal_opts so;
	cJSON *m;
	int r;

	snprintf(dir, sizeof(dir), "%s", name);
	snprintf(path, sizeof(path), "%s/analysis", dir);
	if (kc_mkdir_p(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/analysis/selection.json", dir);
	if (kc_write_file_atomic(path, sel, strlen(sel), 0600) != 0)
		return -1;
	if (segment != NULL) {
		snprintf(path, sizeof(path), "%s/audit", dir);
		if (kc_mkdir_p(path, 0700) != 0)
			return -1;
		snprintf(path, sizeof(path), "%s/audit/segment.jsonl", dir);
		if (kc_write_file_atomic(path, segment, strlen(segment), 0600) != 0)
			return -1;
	}
	snprintf(draft, sizeof(draft), "{\"bundle_id\":\"b-%s\",\"case\":{\"id\":\"c1\",\"phase\":\"%s\"},"
	    "\"cluster\":{\"kube_system_uid\":\"uid-1\",\"server\":\"https://x\"},"
	    "\"times\":{\"started\":\"%sT00:00:00Z\",\"finished\":\"%sT00:01:00Z\"}}", phase, phase, day, day);
	if ((m = cJSON_Parse(draft)) == NULL)
		return -1;
	memset(&so, 0, sizeof(so));
	so.no_sign = 1;
	so.mtime = 1767225600;
	snprintf(out, sizeof(out), "%s.tar.gz", name);
	r = kc_bundle_seal(dir, m, &so, out);
	cJSON_Delete(m);
	return r;
}

/* Duplicate keys: `kcustody audit` (the audit filter) and `kcustody diff`
 * attribute an event to the same user, the last "user" member (jq's
 * rule, util/json.h).  Before, diff took the first. */
DEFINE_TEST(test_diff_audit_duplicate_keys)
{
	struct kc_diff_opts o;
	struct kc_audit_filter *f;
	const cJSON *den, *x;
	cJSON *d = NULL;
	const char *line = dup_events, *nl;
	int n = 0, last = 0, first = 0;

	CHECK_INT(make_bundle("pre", "pre", "2026-01-01", NULL), 0);
	CHECK_INT(make_bundle("post", "post", "2026-01-02", dup_events), 0);
	memset(&o, 0, sizeof(o));
	o.pre = "pre.tar.gz";
	o.post = "post.tar.gz";
	o.no_verify = 1;
	CHECK_INT(kc_diff_bundles(&o, &d), 0);
	den = kc_json_path(d, "audit.denied");
	CHECK_INT(cJSON_GetArraySize(den), 1);
	cJSON_ArrayForEach(x, den) {
		CHECK_STR(kc_json_str(x, "user"), "system:serviceaccount:ns:agent");
		CHECK_STR(kc_json_str(x, "namespace"), "agent-last");
	}
	cJSON_Delete(d);

	/* the audit filter: --sa ns/agent keeps the same event, not the other */
	CHECK((f = kc_audit_filter_new()) != NULL);
	CHECK_INT(kc_audit_filter_add(f, "sa", "ns/agent"), 0);
	for (; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		cJSON *ev = cJSON_ParseWithLength(line, (size_t)(nl - line));
		const char *agent = NULL;

		CHECK(ev != NULL);
		if (kc_audit_filter_match(f, ev, &agent)) {
			n++;
			CHECK_STR(agent, "system:serviceaccount:ns:agent");
			last += strcmp(kc_json_path(ev, "objectRef.namespace")->valuestring, "agent-last") == 0;
			first += strcmp(kc_json_path(ev, "objectRef.namespace")->valuestring, "agent-first") == 0;
		}
		cJSON_Delete(ev);
	}
	CHECK_INT(n, 1);
	CHECK_INT(last, 1);
	CHECK_INT(first, 0);
	kc_audit_filter_free(f);
}

/* An event the authorizer forbade, known by its annotation alone (no
 * responseStatus, as in a record cut short): diff counts it as denied, as
 * `kcustody audit --denied` does.  Twin: "allow" and no status is not. */
DEFINE_TEST(test_diff_denied_by_decision_annotation)
{
	static const char forbid[] =
	    "{\"stage\":\"ResponseComplete\",\"verb\":\"list\","
	    "\"user\":{\"username\":\"system:serviceaccount:ns:agent\"},"
	    "\"objectRef\":{\"resource\":\"configmaps\",\"namespace\":\"x\"},"
	    "\"annotations\":{\"authorization.k8s.io/decision\":\"forbid\"},"
	    "\"requestReceivedTimestamp\":\"2026-01-02T00:02:00Z\"}\n";
	static const char allow[] =
	    "{\"stage\":\"ResponseComplete\",\"verb\":\"list\","
	    "\"user\":{\"username\":\"system:serviceaccount:ns:agent\"},"
	    "\"objectRef\":{\"resource\":\"configmaps\",\"namespace\":\"x\"},"
	    "\"annotations\":{\"authorization.k8s.io/decision\":\"allow\"},"
	    "\"requestReceivedTimestamp\":\"2026-01-02T00:02:00Z\"}\n";
	const char *seg[2] = { forbid, allow };

	for (int i = 0; i < 2; i++) {
		struct kc_diff_opts o;
		cJSON *d = NULL;
		char pre[32], post[32], pre_tgz[40], post_tgz[40];

		snprintf(pre, sizeof(pre), "dpre%d", i);
		snprintf(post, sizeof(post), "dpost%d", i);
		snprintf(pre_tgz, sizeof(pre_tgz), "%s.tar.gz", pre);
		snprintf(post_tgz, sizeof(post_tgz), "%s.tar.gz", post);
		CHECK_INT(make_bundle(pre, "pre", "2026-01-01", NULL), 0);
		CHECK_INT(make_bundle(post, "post", "2026-01-02", seg[i]), 0);
		memset(&o, 0, sizeof(o));
		o.pre = pre_tgz;
		o.post = post_tgz;
		o.no_verify = 1;
		CHECK_INT(kc_diff_bundles(&o, &d), 0);
		CHECK_INT(cJSON_GetArraySize(kc_json_path(d, "audit.denied")), i == 0 ? 1 : 0);
		cJSON_Delete(d);
	}
}

/* The agent custom resources named beside an agent (rbac/agentcr.h) come
 * from the server's objects: escaped in the text (terminal) and in the
 * Markdown table cell like every other string of the evidence.  Twin: a
 * plain name is printed as it is. */
DEFINE_TEST(test_diff_render_escapes_agent_resources)
{
	static const char *const texts[] = { "agent kagent.dev/Agent ns/x\\u001b[2J|y", "agent kagent.dev/Agent ns/plain" };

	for (int i = 0; i < 2; i++) {
		char json[512];
		struct kc_buf t = KC_BUF_INIT(1 << 20), m = KC_BUF_INIT(1 << 20);
		cJSON *d;

		snprintf(json, sizeof(json), "{\"agents\":[{\"namespace\":\"ns\",\"name\":\"a\",\"counts\":{},"
		    "\"agentResources\":[{\"text\":\"%s\"}]}]}", texts[i]);
		CHECK((d = cJSON_Parse(json)) != NULL);
		CHECK_INT(kc_diff_render_text(d, &t), 0);
		CHECK_INT(kc_diff_render_md(d, &m), 0);
		if (i == 0) {
			CHECK(strchr(kc_buf_str(&t), '\x1b') == NULL);
			CHECK(strchr(kc_buf_str(&m), '\x1b') == NULL);
			CHECK(strstr(kc_buf_str(&t), "(agent kagent.dev/Agent ns/x\\x1b[2J|y)") != NULL);
			CHECK(strstr(kc_buf_str(&m), "x\\x1b[2J|y") == NULL);
		} else {
			CHECK(strstr(kc_buf_str(&t), "Agent ns/a (agent kagent.dev/Agent ns/plain):") != NULL);
			CHECK(strstr(kc_buf_str(&m), "| ns/a (agent kagent.dev/Agent ns/plain) |") != NULL);
		}
		kc_buf_free(&t);
		kc_buf_free(&m);
		cJSON_Delete(d);
	}
}

/* roles page for make_rbac_bundle: r-same (uid u1, rv 1), r-edit (uid u2,
 * rv rv_edit, written by "edit-tool" at noon on day 1), and r-new (uid
 * u3) when with_new; each with managedFields */
static int
write_roles(const char *dir, const char *rv_edit, int with_new)
{
	char path[128], text[2048];
	static const char mf[] = "\"managedFields\":[{\"manager\":\"%s\",\"operation\":\"Update\","
	    "\"time\":\"2026-01-01T12:00:00Z\"}]";
	char m1[256], m2[256], m3[256];

	snprintf(m1, sizeof(m1), mf, "setup-tool");
	snprintf(m2, sizeof(m2), mf, "edit-tool");
	snprintf(m3, sizeof(m3), mf, "new-tool");
	snprintf(text, sizeof(text), "{\"items\":["
	    "{\"metadata\":{\"name\":\"r-same\",\"namespace\":\"ns\",\"uid\":\"u1\",\"resourceVersion\":\"1\",%s},"
	    "\"rules\":[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]},"
	    "{\"metadata\":{\"name\":\"r-edit\",\"namespace\":\"ns\",\"uid\":\"u2\",\"resourceVersion\":\"%s\",%s},"
	    "\"rules\":[{\"verbs\":[\"%s\"],\"apiGroups\":[\"\"],\"resources\":[\"secrets\"]}]}%s%s%s]}",
	    m1, rv_edit, m2, strcmp(rv_edit, "1") == 0 ? "list" : "get", with_new ? ",{\"metadata\":{\"name\":"
	    "\"r-new\",\"namespace\":\"ns\",\"uid\":\"u3\",\"resourceVersion\":\"5\"," : "",
	    with_new ? m3 : "", with_new ? "},\"rules\":[]}" : "");
	snprintf(path, sizeof(path), "%s/raw/roles", dir);
	if (kc_mkdir_p(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/raw/roles/page-0001.json", dir);
	return kc_write_file_atomic(path, text, strlen(text), 0600);
}

/* "Changed by" is read of POST's objects that changed or came (their
 * managedFields are kept as POST is read); an object PRE has with the
 * same resourceVersion keeps none and is no change.  The twin of each:
 * the unchanged role is not listed, the changed and the added one are,
 * with their managers. */
DEFINE_TEST(test_diff_changed_by_kept_where_read)
{
	struct kc_diff_opts o;
	const cJSON *x;
	cJSON *d = NULL;
	int edit = 0, added = 0;

	CHECK_INT(write_roles("rpre", "1", 0), 0);
	CHECK_INT(make_bundle("rpre", "pre", "2026-01-01", NULL), 0);
	CHECK_INT(write_roles("rpost", "2", 1), 0);
	CHECK_INT(make_bundle("rpost", "post", "2026-01-02", NULL), 0);
	memset(&o, 0, sizeof(o));
	o.pre = "rpre.tar.gz";
	o.post = "rpost.tar.gz";
	o.no_verify = 1;
	CHECK_INT(kc_diff_bundles(&o, &d), 0);
	CHECK_INT(cJSON_GetArraySize(kc_json_path(d, "rbac_objects.changed")), 1);
	cJSON_ArrayForEach(x, kc_json_path(d, "rbac_objects.changed")) {
		CHECK_STR(kc_json_str(x, "name"), "r-edit");
		CHECK_INT(cJSON_GetArraySize(kc_json_get(x, "changed_by")), 1);
		CHECK_STR(kc_json_str(cJSON_GetArrayItem(kc_json_get(x, "changed_by"), 0), "manager"), "edit-tool");
		CHECK(kc_json_path(x, "changes.rules") != NULL);
		edit++;
	}
	cJSON_ArrayForEach(x, kc_json_path(d, "rbac_objects.added")) {
		CHECK_STR(kc_json_str(x, "name"), "r-new");
		CHECK_STR(kc_json_str(cJSON_GetArrayItem(kc_json_get(x, "changed_by"), 0), "manager"), "new-tool");
		added++;
	}
	CHECK_INT(edit, 1);
	CHECK_INT(added, 1);
	CHECK_INT(cJSON_GetArraySize(kc_json_path(d, "rbac_objects.removed")), 0);
	cJSON_Delete(d);
}
