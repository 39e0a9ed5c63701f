/* recert_text.c - recertification result as text (recert_text.h). */
#include <string.h>

#include "formats/recert_text.h"
#include "util/json.h"
#include "util/log.h"

static const char *
js(const cJSON *o, const char *path)
{
	const cJSON *v = kc_json_path(o, path);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double
jn(const cJSON *o, const char *path)
{
	const cJSON *v = kc_json_path(o, path);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Strings of the evidence, escaped for a terminal. */
static const char *
e(const char *s, char *buf, size_t n)
{
	return kc_safe_str(s, buf, n);
}

static void
strs(struct kc_buf *out, const cJSON *a)
{
	const cJSON *x;
	char b[512];
	int first = 1;

	cJSON_ArrayForEach(x, a) {
		kc_buf_addf(out, "%s%s", first ? "" : ", ", e(cJSON_IsString(x) ? x->valuestring : "", b, sizeof(b)));
		first = 0;
	}
}

static void
excess_line(struct kc_buf *out, const cJSON *x)
{
	char b1[512], b2[512], b3[512], b4[512];
	const cJSON *r;

	if (kc_json_get(x, "nonResourceURL") != NULL) {
		kc_buf_addf(out, "    - %s %s (non-resource URL)\n", e(js(x, "verb"), b1, sizeof(b1)),
		    e(js(x, "nonResourceURL"), b2, sizeof(b2)));
	} else {
		const char *g = js(x, "apiGroup");

		kc_buf_addf(out, "    - %s %s%s%s", e(js(x, "verb"), b1, sizeof(b1)), e(js(x, "resource"), b2, sizeof(b2)),
		    g[0] ? "." : "", e(g, b3, sizeof(b3)));
		if (kc_json_get(x, "resourceNames") != NULL) {
			kc_buf_adds(out, " names [");
			strs(out, kc_json_get(x, "resourceNames"));
			kc_buf_adds(out, "]");
		}
		if (strcmp(js(x, "namespace"), "*") == 0)
			kc_buf_adds(out, " in every namespace\n");
		else
			kc_buf_addf(out, " in namespace %s\n", e(js(x, "namespace"), b4, sizeof(b4)));
	}
	kc_buf_addf(out, "      granted by %s %s%s%s -> %s %s (rule %d)\n", js(x, "binding.kind"),
	    e(js(x, "binding.namespace"), b1, sizeof(b1)), js(x, "binding.namespace")[0] ? "/" : "",
	    e(js(x, "binding.name"), b2, sizeof(b2)), js(x, "role.kind"), e(js(x, "role.name"), b3, sizeof(b3)),
	    (int)jn(x, "ruleIndex"));
	kc_buf_addf(out, "      to %s %s%s%s\n", js(x, "subject.kind"), e(js(x, "subject.namespace"), b1, sizeof(b1)),
	    js(x, "subject.namespace")[0] ? "/" : "", e(js(x, "subject.name"), b4, sizeof(b4)));
	cJSON_ArrayForEach(r, kc_json_get(x, "reasons"))
		kc_buf_addf(out, "      beyond scope: %s\n", e(cJSON_IsString(r) ? r->valuestring : "", b1, sizeof(b1)));
	if (kc_json_get(x, "verbsBeyondScope") != NULL) {
		kc_buf_adds(out, "      '*' expands to, beyond scope: ");
		strs(out, kc_json_get(x, "verbsBeyondScope"));
		kc_buf_adds(out, " (and any other verb)\n");
	}
}

static void
agent(struct kc_buf *out, const cJSON *a)
{
	const char *st = js(a, "status");
	char b1[512], b2[512], b3[512], b4[512];
	const cJSON *x;

	kc_buf_addf(out, "\n%s/%s: %s\n", e(js(a, "namespace"), b1, sizeof(b1)), e(js(a, "name"), b2, sizeof(b2)),
	    strcmp(st, "within-scope") == 0 ? "WITHIN SCOPE" : strcmp(st, "beyond-scope") == 0 ?
	    "BEYOND SCOPE" : "MISSING FROM THE SCOPE FILE");
	if (kc_json_get(a, "scopeEntry") == NULL)
		return;
	kc_buf_addf(out, "  scope entry '%s' (line %d), owner %s, approval %s\n",
	    e(js(a, "scopeEntry.name"), b1, sizeof(b1)), (int)jn(a, "scopeEntry.line"),
	    e(js(a, "scopeEntry.owner"), b3, sizeof(b3)), e(js(a, "scopeEntry.approval"), b4, sizeof(b4)));
	kc_buf_addf(out, "  permissions judged %d, bootstrap defaults not judged %d, listed but never granted %d\n",
	    (int)jn(a, "permissionsJudged"), (int)jn(a, "bootstrapDefaultsNotJudged"),
	    (int)jn(a, "listedButNotGranted"));
	if (cJSON_GetArraySize(kc_json_path(a, "scopeEntry.externalEndpoints")) > 0) {
		kc_buf_adds(out, "  external endpoints (recorded, not checked): ");
		strs(out, kc_json_get(kc_json_get(a, "scopeEntry"), "externalEndpoints"));
		kc_buf_adds(out, "\n");
	}
	cJSON_ArrayForEach(x, kc_json_get(a, "evaluationErrors"))
		kc_buf_addf(out, "  evaluation error: %s %s grants nothing (its role is missing)\n",
		    js(x, "kind"), e(js(x, "name"), b1, sizeof(b1)));
	if (cJSON_GetArraySize(kc_json_get(a, "excess")) > 0)
		kc_buf_addf(out, "  %d permission(s) beyond scope:\n", cJSON_GetArraySize(kc_json_get(a, "excess")));
	cJSON_ArrayForEach(x, kc_json_get(a, "excess"))
		excess_line(out, x);
}

int
kc_recert_render_text(const cJSON *d, struct kc_buf *out)
{
	const cJSON *x;
	char b1[512], b2[512];

	kc_buf_addf(out, "Recertification of %s\n", e(js(d, "bundle.path"), b1, sizeof(b1)));
	kc_buf_addf(out, "  bundle sha256 %s, case %s, phase %s, collected %s, %s\n", js(d, "bundle.sha256"),
	    e(js(d, "bundle.case"), b1, sizeof(b1)), e(js(d, "bundle.phase"), b2, sizeof(b2)),
	    js(d, "bundle.finished"), js(d, "bundle.verification"));
	kc_buf_addf(out, "  scope %s sha256 %s\n", e(js(d, "scope.file"), b1, sizeof(b1)), js(d, "scope.sha256"));
	kc_buf_addf(out, "Result: %s: %d agent(s), %d within scope, %d beyond scope (%d excess permission(s)), "
	    "%d missing from the scope file, %d scope entr%s without an agent\n",
	    cJSON_IsTrue(kc_json_get(d, "withinScope")) ? "WITHIN SCOPE" : "NOT WITHIN SCOPE",
	    (int)jn(d, "summary.agents"), (int)jn(d, "summary.withinScope"), (int)jn(d, "summary.beyondScope"),
	    (int)jn(d, "summary.excessPermissions"), (int)jn(d, "summary.agentsMissingFromScope"),
	    (int)jn(d, "summary.scopeEntriesWithoutAgent"),
	    (int)jn(d, "summary.scopeEntriesWithoutAgent") == 1 ? "y" : "ies");
	cJSON_ArrayForEach(x, kc_json_get(d, "agents"))
		agent(out, x);
	if (cJSON_GetArraySize(kc_json_get(d, "scopeEntriesWithoutAgent")) > 0)
		kc_buf_adds(out, "\nScope entries that match no agent of the bundle:\n");
	cJSON_ArrayForEach(x, kc_json_get(d, "scopeEntriesWithoutAgent"))
		kc_buf_addf(out, "  %s (line %d)%s%s\n", e(js(x, "name"), b1, sizeof(b1)), (int)jn(x, "line"),
		    js(x, "serviceAccount")[0] ? ": " : "", e(js(x, "serviceAccount"), b2, sizeof(b2)));
	kc_buf_adds(out, "\nNot evaluated offline: ");
	strs(out, kc_json_get(d, "blindSpots"));
	kc_buf_adds(out, "\n");
	return 0;
}
