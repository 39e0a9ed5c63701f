#include <string.h>

#include "formats/findings_txt.h"
#include "util/err.h"

static const char *
s(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static void
ref(struct kc_buf *out, const cJSON *o)
{
	kc_buf_addf(out, "%s %s%s%s", s(o, "kind"), s(o, "namespace"), s(o, "namespace")[0] ? "/" : "",
	    s(o, "name"));
}

static void
list(struct kc_buf *out, const cJSON *arr)
{
	const cJSON *it;
	int first = 1;

	kc_buf_addc(out, '[');
	cJSON_ArrayForEach(it, arr) {
		kc_buf_addf(out, "%s%s", first ? "" : " ", cJSON_IsString(it) ? it->valuestring : "");
		first = 0;
	}
	kc_buf_addc(out, ']');
}

static void
rule(struct kc_buf *out, const cJSON *r)
{
	static const char *const keys[] = { "verbs", "apiGroups", "resources", "resourceNames",
		"nonResourceURLs", NULL };

	for (size_t i = 0; keys[i] != NULL; i++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, keys[i]);

		if (a == NULL)
			continue;
		kc_buf_addf(out, "%s%s=", i ? " " : "", keys[i]);
		list(out, a);
	}
}

int
kc_findings_txt(const cJSON *doc, struct kc_buf *out)
{
	const cJSON *counts = cJSON_GetObjectItemCaseSensitive(doc, "counts"), *c, *f;
	const cJSON *readers = cJSON_GetObjectItemCaseSensitive(doc, "secretReaders");

	kc_buf_addf(out, "TRIAGE: %s (%s)\n", s(doc, "triage"), s(doc, "triageReason"));
	if (cJSON_GetArraySize(readers) > 0) {
		kc_buf_adds(out, "Agent service accounts that can read secrets:");
		cJSON_ArrayForEach(c, readers)
			kc_buf_addf(out, " %s", c->valuestring);
		kc_buf_addc(out, '\n');
	}
	kc_buf_adds(out, "Findings:");
	cJSON_ArrayForEach(c, counts)
		kc_buf_addf(out, " %s %d", c->string, (int)cJSON_GetNumberValue(c));
	kc_buf_addf(out, " (highest: %s)\n", s(doc, "highestSeverity"));
	kc_buf_adds(out, "Not visible offline: system:masters, the Node authorizer, webhook authorizers.\n");
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(doc, "findings")) {
		const cJSON *sub = cJSON_GetObjectItemCaseSensitive(f, "subject");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(f, "binding");

		kc_buf_addf(out, "\n[%s] %s %s\n", s(f, "severity"), s(f, "id"), s(f, "title"));
		kc_buf_addf(out, "  subject:  ServiceAccount %s/%s\n", s(sub, "namespace"), s(sub, "name"));
		kc_buf_addf(out, "  scope:    %s%s%s\n", s(f, "scope"), s(f, "namespace")[0] ? " " : "",
		    s(f, "namespace"));
		kc_buf_addf(out, "  matched:  %s\n", s(f, "matched"));
		if (b != NULL) {
			kc_buf_adds(out, "  binding:  ");
			ref(out, b);
			kc_buf_adds(out, " (subject ");
			ref(out, cJSON_GetObjectItemCaseSensitive(f, "bindingSubject"));
			kc_buf_adds(out, ")\n  role:     ");
			ref(out, cJSON_GetObjectItemCaseSensitive(f, "role"));
			kc_buf_adds(out, "\n  rule:     ");
			rule(out, cJSON_GetObjectItemCaseSensitive(f, "rule"));
			kc_buf_addc(out, '\n');
		}
		if (s(f, "attack")[0] || s(f, "cwe")[0])
			kc_buf_addf(out, "  ATT&CK:   %s  CWE: %s\n", s(f, "attack")[0] ? s(f, "attack") : "-",
			    s(f, "cwe")[0] ? s(f, "cwe") : "-");
	}
	if (kc_buf_adds(out, "") != 0 || out->len == out->max)
		return kc_err_set(KC_ERR_LIMIT, "findings.txt too large");
	return 0;
}
