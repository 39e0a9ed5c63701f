/* propose_out.c - a least-privilege proposal as text and YAML (propose_out.h). */
#include <string.h>

#include "formats/propose_out.h"
#include "formats/yaml_out.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"

static const char *
js(const cJSON *o, const char *key)
{
	return kc_json_str0(o, key);
}

static double
jn(const cJSON *o, const char *key)
{
	const cJSON *v = kc_json_get(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Strings of the evidence, escaped for a terminal (and kept on one line). */
static const char *
e(const char *s, char *buf, size_t n)
{
	return kc_safe_str(s, buf, n);
}

static void
req(struct kc_buf *out, const cJSON *u)
{
	char a[512], b[512], c[512], d[512];

	if (kc_json_get(u, "nonResourceURL") != NULL) {
		kc_buf_addf(out, "%s %s", e(js(u, "verb"), a, sizeof(a)), e(js(u, "nonResourceURL"), b, sizeof(b)));
		return;
	}
	kc_buf_addf(out, "%s %s%s%s%s%s", e(js(u, "verb"), a, sizeof(a)), e(js(u, "resource"), b, sizeof(b)),
	    kc_json_get(u, "subresource") ? "/" : "", e(js(u, "subresource"), c, sizeof(c)),
	    js(u, "apiGroup")[0] ? "." : "", e(js(u, "apiGroup"), d, sizeof(d)));
	if (kc_json_get(u, "name") != NULL)
		kc_buf_addf(out, " %s", e(js(u, "name"), a, sizeof(a)));
	if (kc_json_get(u, "resourceNames") != NULL) {
		const cJSON *x;

		kc_buf_adds(out, " names");
		cJSON_ArrayForEach(x, kc_json_get(u, "resourceNames"))
			kc_buf_addf(out, " %s", e(cJSON_IsString(x) ? x->valuestring : "", a, sizeof(a)));
	}
	kc_buf_addf(out, js(u, "namespace")[0] == '\0' ? " (cluster scope)" :
	    strcmp(js(u, "namespace"), "*") == 0 ? " in every namespace" : " in namespace %s",
	    e(js(u, "namespace"), a, sizeof(a)));
}

static void
commands(struct kc_buf *out, const cJSON *d, const char *dir, const char *pre)
{
	const cJSON *o = kc_json_get(d, "objects");
	char a[1024];

	e(dir, a, sizeof(a));
	if (cJSON_GetArraySize(kc_json_get(o, "apply")) > 0) {
		kc_buf_addf(out, "%skubectl apply --dry-run=server -f %s/apply.yaml\n", pre, a);
		kc_buf_addf(out, "%skubectl apply -f %s/apply.yaml\n", pre, a);
	}
	if (cJSON_GetArraySize(kc_json_get(o, "delete")) > 0) {
		kc_buf_addf(out, "%skubectl delete --dry-run=server -f %s/delete.yaml\n", pre, a);
		kc_buf_addf(out, "%skubectl delete -f %s/delete.yaml\n", pre, a);
	}
}

static void
window(struct kc_buf *out, const cJSON *d, const char *pre)
{
	const cJSON *w = kc_json_get(d, "window");
	char a[200], b[200], c[1024];

	if (kc_json_get(w, "warning") != NULL)
		kc_buf_addf(out, "%sWARNING: %s\n", pre, e(js(w, "warning"), c, sizeof(c)));
	kc_buf_addf(out, "%sAudit window: %s to %s (%.2f days = %.0f seconds; minimum %.2f days)\n", pre,
	    e(js(w, "from"), a, sizeof(a)), e(js(w, "to"), b, sizeof(b)), jn(w, "days"), jn(w, "seconds"),
	    jn(w, "minimumSeconds") / 86400.0);
}

static void
list(struct kc_buf *out, const cJSON *a, const char *title)
{
	const cJSON *x;
	char b[1024], c[1024];

	if (cJSON_GetArraySize(a) == 0)
		return;
	kc_buf_addf(out, "  %s:\n", title);
	cJSON_ArrayForEach(x, a) {
		const cJSON *bi = kc_json_get(x, "binding");

		kc_buf_adds(out, "    - ");
		req(out, x);
		if (kc_json_get(x, "requests") != NULL)
			kc_buf_addf(out, " (requests: %.0f)", jn(x, "requests"));
		if (kc_json_get(x, "proposal") != NULL)
			kc_buf_addf(out, ": %s", e(js(x, "proposal"), b, sizeof(b)));
		if (bi != NULL)
			kc_buf_addf(out, ": held through %s %s%s%s", js(bi, "kind"), e(js(bi, "namespace"), b, sizeof(b)),
			    js(bi, "namespace")[0] ? "/" : "", e(js(bi, "name"), c, sizeof(c)));
		kc_buf_addc(out, '\n');
	}
}

int
kc_propose_render_text(const cJSON *d, const char *dir, struct kc_buf *out)
{
	const cJSON *ag, *x, *sum = kc_json_get(d, "summary");
	char a[1024], b[1024];

	window(out, d, "");
	kc_buf_addf(out, "Least-privilege proposal from %s (bundle SHA-256 %s)\n\n",
	    e(js(kc_json_get(d, "bundle"), "path"), a, sizeof(a)), js(kc_json_get(d, "bundle"), "sha256"));
	cJSON_ArrayForEach(ag, kc_json_get(d, "agents")) {
		kc_buf_addf(out, "%s/%s: %s\n", e(js(ag, "namespace"), a, sizeof(a)), e(js(ag, "name"), b, sizeof(b)),
		    js(ag, "status"));
		list(out, kc_json_get(ag, "used"), "used in the window");
		list(out, kc_json_get(ag, "denied"), "denied in the window (not proposed)");
		list(out, kc_json_get(ag, "unused"), "held but unused (removed)");
	}
	if (cJSON_GetArraySize(kc_json_get(d, "bindingChanges")) > 0)
		kc_buf_adds(out, "\nBinding changes:\n");
	cJSON_ArrayForEach(x, kc_json_get(d, "bindingChanges"))
		kc_buf_addf(out, "  %s %s %s%s%s%s\n", js(x, "change"), js(x, "kind"), e(js(x, "namespace"), a, sizeof(a)),
		    js(x, "namespace")[0] ? "/" : "", e(js(x, "name"), b, sizeof(b)),
		    strcmp(js(x, "change"), "edit") == 0 ? " (the agent removed, the other subjects kept)" : "");
	kc_buf_addf(out, "\n%.0f object(s) to apply, %.0f to delete; %.0f permission(s) granted, %.0f unused "
	    "removed.  Files in %s: proposal.json%s%s\nRun, in this order:\n", jn(sum, "objectsToApply"),
	    jn(sum, "objectsToDelete"), jn(sum, "permissionsGranted"), jn(sum, "unusedPermissions"),
	    e(dir, a, sizeof(a)), jn(sum, "objectsToApply") > 0 ? ", apply.yaml" : "",
	    jn(sum, "objectsToDelete") > 0 ? ", delete.yaml" : "");
	commands(out, d, dir, "  ");
	window(out, d, "");
	return 0;
}

int
kc_propose_render_yaml(const cJSON *d, const char *which, const char *dir, struct kc_buf *out)
{
	const cJSON *x;
	int r;

	kc_buf_addf(out, "# kcustody least-privilege proposal (%s): the objects to %s\n", js(d, "schema"),
	    which);
	kc_buf_addf(out, "# from bundle SHA-256 %s\n", js(kc_json_get(d, "bundle"), "sha256"));
	window(out, d, "# ");
	kc_buf_adds(out, "# Run, in this order:\n");
	commands(out, d, dir, "#   ");
	cJSON_ArrayForEach(x, kc_json_get(kc_json_get(d, "objects"), which))
		if ((r = kc_yaml_from_json(x, out)) != 0)
			return r;
	return 0;
}
