#include <stdarg.h>
#include <string.h>

#include "formats/findings_txt.h"
#include "util/err.h"

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

static const char *
s(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static void
ref(struct out *out, const cJSON *o)
{
	addf(out, "%s %s%s%s", s(o, "kind"), s(o, "namespace"), s(o, "namespace")[0] ? "/" : "",
	    s(o, "name"));
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
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, keys[i]);

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
	const cJSON *counts = cJSON_GetObjectItemCaseSensitive(doc, "counts"), *c, *f;
	const cJSON *readers = cJSON_GetObjectItemCaseSensitive(doc, "secretReaders");

	addf(out, "TRIAGE: %s (%s)\n", s(doc, "triage"), s(doc, "triageReason"));
	if (cJSON_GetArraySize(readers) > 0) {
		addf(out, "%s", "Agent service accounts that can read secrets:");
		cJSON_ArrayForEach(c, readers)
			addf(out, " %s", c->valuestring);
		addf(out, "\n");
	}
	addf(out, "%s", "Findings:");
	cJSON_ArrayForEach(c, counts)
		addf(out, " %s %d", c->string, (int)cJSON_GetNumberValue(c));
	addf(out, " (highest: %s)\n", s(doc, "highestSeverity"));
	addf(out, "%s", "Not visible offline: system:masters, the Node authorizer, webhook authorizers.\n");
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(doc, "findings")) {
		const cJSON *sub = cJSON_GetObjectItemCaseSensitive(f, "subject");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(f, "binding");

		addf(out, "\n[%s] %s %s\n", s(f, "severity"), s(f, "id"), s(f, "title"));
		addf(out, "  subject:  ServiceAccount %s/%s\n", s(sub, "namespace"), s(sub, "name"));
		addf(out, "  scope:    %s%s%s\n", s(f, "scope"), s(f, "namespace")[0] ? " " : "",
		    s(f, "namespace"));
		addf(out, "  matched:  %s\n", s(f, "matched"));
		if (b != NULL) {
			addf(out, "%s", "  binding:  ");
			ref(out, b);
			addf(out, "%s", " (subject ");
			ref(out, cJSON_GetObjectItemCaseSensitive(f, "bindingSubject"));
			addf(out, "%s", ")\n  role:     ");
			ref(out, cJSON_GetObjectItemCaseSensitive(f, "role"));
			addf(out, "%s", "\n  rule:     ");
			rule(out, cJSON_GetObjectItemCaseSensitive(f, "rule"));
			addf(out, "\n");
		}
		if (s(f, "attack")[0] || s(f, "cwe")[0])
			addf(out, "  ATT&CK:   %s  CWE: %s\n", s(f, "attack")[0] ? s(f, "attack") : "-",
			    s(f, "cwe")[0] ? s(f, "cwe") : "-");
	}
	return o.err ? kc_err_set(KC_ERR_LIMIT, "findings.txt too large") : 0;
}
