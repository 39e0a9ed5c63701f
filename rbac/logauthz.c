/* logauthz.c - authorization errors in agent pod logs (logauthz.h). */
#include <stdlib.h>
#include <string.h>

#include "collector/audit.h"
#include "rbac/logauthz.h"
#include "util/err.h"
#include "util/json.h"

static const char *const PATTERNS[] = { "403", "Forbidden", "forbidden:", "RBAC: access denied",
	"cannot get resource", NULL };

static int
alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int
find(const char *s, size_t n, const char *p, int word)
{
	size_t k = strlen(p);

	for (size_t i = 0; i + k <= n; i++) {
		if (memcmp(s + i, p, k) != 0)
			continue;
		if (!word || ((i == 0 || !alnum(s[i - 1])) && (i + k == n || !alnum(s[i + k]))))
			return 1;
	}
	return 0;
}

unsigned
kc_logauthz_match(const char *line, size_t n)
{
	static const char marker[] = "{\"" KC_AUDIT_REDACT_KEY "\"";
	unsigned m = 0;

	if (n >= sizeof(marker) - 1 && memcmp(line, marker, sizeof(marker) - 1) == 0)
		return 0;
	for (unsigned i = 0; PATTERNS[i] != NULL; i++)
		if (find(line, n, PATTERNS[i], i == 0))
			m |= 1u << i;
	return m;
}

/* The agent's entry in agents, made on first use. */
static cJSON *
agent(cJSON *agents, const char *sa)
{
	cJSON *a, *bp;

	cJSON_ArrayForEach(a, agents) {
		const char *s = kc_json_str(a, "sa");

		if (s != NULL && strcmp(s, sa) == 0)
			return a;
	}
	if ((a = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddStringToObject(a, "sa", sa);
	cJSON_AddNumberToObject(a, "captures", 0);
	cJSON_AddNumberToObject(a, "not_captured", 0);
	cJSON_AddNumberToObject(a, "lines_scanned", 0);
	cJSON_AddNumberToObject(a, "matching_lines", 0);
	bp = cJSON_AddObjectToObject(a, "by_pattern");
	for (unsigned i = 0; PATTERNS[i] != NULL; i++)
		cJSON_AddNumberToObject(bp, PATTERNS[i], 0);
	cJSON_AddArrayToObject(a, "lines");
	cJSON_AddItemToArray(agents, a);
	return a;
}

static void
inc(cJSON *o, const char *key, double by)
{
	cJSON *v = kc_json_get_mut(o, key);

	if (cJSON_IsNumber(v))
		cJSON_SetNumberValue(v, v->valuedouble + by);
}

/* Scan one captured log. */
static void
scan(cJSON *a, const cJSON *cap, const char *text, size_t len, int timestamps)
{
	cJSON *lines = kc_json_get_mut(a, "lines"), *bp = kc_json_get_mut(a, "by_pattern");
	size_t i = 0;
	long lineno = 0;

	while (i < len) {
		const char *l = text + i, *nl = memchr(l, '\n', len - i);
		size_t n = nl ? (size_t)(nl - l) : len - i;
		unsigned m;

		size_t skip = 0;

		lineno++;
		inc(a, "lines_scanned", 1);
		/* the kubelet's timestamp is not the line's words */
		if (timestamps) {
			const char *sp = memchr(l, ' ', n);

			skip = sp != NULL ? (size_t)(sp - l) + 1 : n;
		}
		if ((m = kc_logauthz_match(l + skip, n - skip)) != 0) {
			inc(a, "matching_lines", 1);
			for (unsigned k = 0; PATTERNS[k] != NULL; k++)
				if (m & (1u << k))
					inc(bp, PATTERNS[k], 1);
			if (cJSON_GetArraySize(lines) < KC_LOGAUTHZ_MAX_LINES) {
				cJSON *e = cJSON_CreateObject(), *ps;
				char *t = malloc(KC_LOGAUTHZ_MAX_TEXT + 1);
				size_t tl = n < KC_LOGAUTHZ_MAX_TEXT ? n : KC_LOGAUTHZ_MAX_TEXT;

				if (e != NULL && t != NULL) {
					memcpy(t, l, tl);
					t[tl] = '\0';
					cJSON_AddStringToObject(e, "namespace", kc_json_str0(cap, "namespace"));
					cJSON_AddStringToObject(e, "pod", kc_json_str0(cap, "pod"));
					cJSON_AddStringToObject(e, "container", kc_json_str0(cap, "container"));
					cJSON_AddBoolToObject(e, "previous", cJSON_IsTrue(kc_json_get(cap, "previous")));
					cJSON_AddStringToObject(e, "path", kc_json_str0(cap, "path"));
					cJSON_AddNumberToObject(e, "line", (double)lineno);
					cJSON_AddStringToObject(e, "text", t);
					ps = cJSON_AddArrayToObject(e, "patterns");
					for (unsigned k = 0; PATTERNS[k] != NULL; k++)
						if (m & (1u << k))
							cJSON_AddItemToArray(ps, cJSON_CreateString(PATTERNS[k]));
					cJSON_AddItemToArray(lines, e);
					e = NULL;
				}
				cJSON_Delete(e);
				free(t);
			}
		}
		i += n + (nl != NULL);
	}
}

cJSON *
kc_logauthz_summary(kc_logauthz_get_fn get, void *ctx)
{
	size_t len = 0;
	char *txt = get(ctx, "logs/index.json", &len);
	cJSON *idx, *out, *pats, *agents;
	const cJSON *cap;

	if (txt == NULL) {
		kc_err_set(KC_ERR_NOTFOUND, "no logs/index.json");
		return NULL;
	}
	idx = cJSON_ParseWithLength(txt, len);
	free(txt);
	if (idx == NULL) {
		kc_err_set(KC_ERR_PARSE, "logs/index.json is not JSON");
		return NULL;
	}
	if ((out = cJSON_CreateObject()) == NULL || (pats = cJSON_AddArrayToObject(out, "patterns")) == NULL ||
	    (agents = cJSON_AddArrayToObject(out, "agents")) == NULL) {
		cJSON_Delete(out);
		cJSON_Delete(idx);
		kc_err_set(KC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	for (unsigned i = 0; PATTERNS[i] != NULL; i++)
		cJSON_AddItemToArray(pats, cJSON_CreateString(PATTERNS[i]));
	cJSON_ArrayForEach(cap, kc_json_get(idx, "captures")) {
		const char *sa = kc_json_str(cap, "sa"), *st = kc_json_str(cap, "status");
		const char *path = kc_json_str(cap, "path");
		cJSON *a;
		char *body;

		if (sa == NULL || st == NULL || (a = agent(agents, sa)) == NULL)
			continue;
		if (strcmp(st, "complete") != 0 || path == NULL) {
			inc(a, "not_captured", 1);
			continue;
		}
		inc(a, "captures", 1);
		if ((body = get(ctx, path, &len)) != NULL) {
			scan(a, cap, body, len, cJSON_IsTrue(kc_json_get(idx, "timestamps")));
			free(body);
		}
	}
	cJSON_Delete(idx);
	return out;
}
