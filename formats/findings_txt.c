#include <stdarg.h>
#include <string.h>

#include "formats/findings_txt.h"
#include "util/err.h"
#include "util/json.h"

/* appends that remember a failure (the buffer's cap), checked once at the end */
struct out {
	struct kc_buf *b;
	int err;
};

static void addf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
addf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (kc_buf_vaddf(o->b, fmt, ap) != 0)
		o->err = 1;
	va_end(ap);
}

static void
ref(struct out *out, const cJSON *o)
{
	const char *ns = kc_json_str0(o, "namespace");

	addf(out, "%s %s%s%s", kc_json_str0(o, "kind"), ns, ns[0] ? "/" : "", kc_json_str0(o, "name"));
}

static void
list(struct out *out, const cJSON *arr)
{
	const cJSON *it;
	int first = 1;

	addf(out, "[");
	cJSON_ArrayForEach(it, arr) {
		addf(out, "%s%s", first ? "" : " ", cJSON_IsString(it) ? it->valuestring : "");
		first = 0;
	}
	addf(out, "]");
}

static void
rule(struct out *out, const cJSON *r)
{
	static const char *const keys[] = { "verbs", "apiGroups", "resources", "resourceNames",
		"nonResourceURLs", NULL };

	for (size_t i = 0; keys[i] != NULL; i++) {
		const cJSON *a = kc_json_get(r, keys[i]);

		if (a == NULL)
			continue;
		addf(out, "%s%s=", i ? " " : "", keys[i]);
		list(out, a);
	}
}

int
kc_findings_txt(const cJSON *doc, struct kc_buf *buf)
{
	struct out o = { buf, 0 }, *out = &o;
	const cJSON *counts = kc_json_get(doc, "counts"), *c, *f;
	const cJSON *readers = kc_json_get(doc, "secretReaders");

	addf(out, "TRIAGE: %s (%s)\n", kc_json_str0(doc, "triage"), kc_json_str0(doc, "triageReason"));
	if (cJSON_GetArraySize(readers) > 0) {
		addf(out, "%s", "Agent service accounts that can read secrets:");
		cJSON_ArrayForEach(c, readers)
			addf(out, " %s", c->valuestring);
		addf(out, "\n");
	}
	addf(out, "%s", "Findings:");
	cJSON_ArrayForEach(c, counts)
		addf(out, " %s %d", c->string, (int)cJSON_GetNumberValue(c));
	addf(out, " (highest: %s)\n", kc_json_str0(doc, "highestSeverity"));
	addf(out, "%s", "Not visible offline: system:masters, the Node authorizer, webhook authorizers.\n");
	cJSON_ArrayForEach(f, kc_json_get(doc, "findings")) {
		const cJSON *sub = kc_json_get(f, "subject");
		const cJSON *b = kc_json_get(f, "binding");

		addf(out, "\n[%s] %s %s\n", kc_json_str0(f, "severity"), kc_json_str0(f, "id"),
		    kc_json_str0(f, "title"));
		addf(out, "  subject:  ServiceAccount %s/%s\n", kc_json_str0(sub, "namespace"),
		    kc_json_str0(sub, "name"));
		{
			const cJSON *ag;

			/* the agent custom resources that run as it (rbac/agentcr.h) */
			cJSON_ArrayForEach(ag, kc_json_get(sub, "agentResources"))
				addf(out, "  identity: %s (%s)\n", kc_json_str0(ag, "text"), kc_json_str0(ag, "via"));
		}
		addf(out, "  scope:    %s%s%s\n", kc_json_str0(f, "scope"), kc_json_str0(f, "namespace")[0] ? " " : "",
		    kc_json_str0(f, "namespace"));
		addf(out, "  matched:  %s\n", kc_json_str0(f, "matched"));
		if (kc_json_str(kc_json_get(f, "reach"), "text") != NULL)	/* bundles with discovery */
			addf(out, "  reach:    %s\n", kc_json_str(kc_json_get(f, "reach"), "text"));
		if (b != NULL) {
			addf(out, "%s", "  binding:  ");
			ref(out, b);
			addf(out, "%s", " (subject ");
			ref(out, kc_json_get(f, "bindingSubject"));
			addf(out, "%s", ")\n  role:     ");
			ref(out, kc_json_get(f, "role"));
			addf(out, "%s", "\n  rule:     ");
			rule(out, kc_json_get(f, "rule"));
			addf(out, "\n");
		}
		if (kc_json_str0(f, "attack")[0] || kc_json_str0(f, "cwe")[0])
			addf(out, "  ATT&CK:   %s  CWE: %s\n",
			    kc_json_str0(f, "attack")[0] ? kc_json_str0(f, "attack") : "-",
			    kc_json_str0(f, "cwe")[0] ? kc_json_str0(f, "cwe") : "-");
	}
	return o.err ? kc_err_set(KC_ERR_LIMIT, "findings.txt too large") : 0;
}
