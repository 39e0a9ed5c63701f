#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "collector/redact.h"
#include "util/fmt.h"
#include "util/mem.h"
#include "util/sha256.h"

int
kc_redact_env_list(enum kc_snap_res res)
{
	switch (res) {
	case KC_RES_PODS:
	case KC_RES_DEPLOYMENTS:
	case KC_RES_STATEFULSETS:
	case KC_RES_DAEMONSETS:
	case KC_RES_REPLICASETS:
	case KC_RES_JOBS:
	case KC_RES_CRONJOBS:
		return 1;
	default:
		return 0;
	}
}

static int
hash_value(cJSON *v)
{
	char hex[KC_SHA256_HEX], marker[80];
	char *text = NULL;
	const char *p;
	size_t n;

	if (cJSON_IsString(v) && v->valuestring != NULL) {
		p = v->valuestring;
		n = strlen(p);
	} else {
		if ((text = cJSON_PrintUnformatted(v)) == NULL)
			return -1;
		p = text;
		n = strlen(text);
	}
	if (kc_sha256_hex(p, n, hex) != 0 || kc_fmt(marker, sizeof(marker), "sha256:%s", hex) != 0) {
		if (text != NULL) {
			OPENSSL_cleanse(text, n);
			free(text);
		}
		return -1;
	}
	if (text != NULL) {
		OPENSSL_cleanse(text, n);
		free(text);
	}
	if (cJSON_IsString(v) && v->valuestring != NULL) {
		/* wiped first: on failure the value is "", still gone */
		OPENSSL_cleanse(v->valuestring, strlen(v->valuestring));
		return cJSON_SetValuestring(v, marker) != NULL ? 0 : -1;
	}
	/* not a string: make it one (children freed, type changed) */
	if (v->child != NULL) {
		cJSON_Delete(v->child);
		v->child = NULL;
	}
	v->type = cJSON_String;
	v->valuedouble = 0;
	v->valueint = 0;
	if ((v->valuestring = kc_strdup(marker)) == NULL)
		return -1;
	return 0;
}

int
kc_redact_hash_value(cJSON *v)
{
	if (hash_value(v) == 0)
		return 0;
	/* cannot hash: never keep it */
	if (cJSON_IsString(v) && v->valuestring != NULL)
		OPENSSL_cleanse(v->valuestring, strlen(v->valuestring));
	return -1;
}

/* fn on every member of o named key (all of them, repeated keys included) */
#define EACH_MEMBER(c, o, key) \
	for (c = (cJSON_IsObject(o) ? (o)->child : NULL); c != NULL; c = c->next) \
		if (c->string != NULL && strcmp(c->string, key) == 0)

static long long
redact_podspec(cJSON *spec)
{
	static const char *const lists[] = { "containers", "initContainers", "ephemeralContainers" };
	long long n = 0;
	cJSON *cl, *ct, *env, *ev, *val;

	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
		EACH_MEMBER(cl, spec, lists[l]) {
			cJSON_ArrayForEach(ct, cl)
				EACH_MEMBER(env, ct, "env") {
					cJSON_ArrayForEach(ev, env)
						EACH_MEMBER(val, ev, "value") {
							(void)kc_redact_hash_value(val);
							n++;
						}
				}
		}
	return n;
}

/* descend obj along path (every member of each name), then redact */
static long long
walk(cJSON *obj, const char *const *path)
{
	long long n = 0;
	cJSON *c;

	if (*path == NULL)
		return redact_podspec(obj);
	EACH_MEMBER(c, obj, *path)
		n += walk(c, path + 1);
	return n;
}

long long
kc_redact_env_values(cJSON *doc, enum kc_snap_res res)
{
	static const char *const pod[] = { "spec", NULL };
	static const char *const tmpl[] = { "spec", "template", "spec", NULL };
	static const char *const cron[] = { "spec", "jobTemplate", "spec", "template", "spec", NULL };
	const char *const *path;
	long long n = 0;
	cJSON *items, *it;

	if (!kc_redact_env_list(res))
		return 0;
	path = res == KC_RES_PODS ? pod : res == KC_RES_CRONJOBS ? cron : tmpl;
	EACH_MEMBER(items, doc, "items")
		cJSON_ArrayForEach(it, items)
			n += walk(it, path);
	return n;
}

/* ---- the credential shapes (docs/COLLECT.md) ---- */

static int
prefixed(const char *v, size_t n, const char *p, size_t minlen)
{
	size_t pl = strlen(p);

	return n >= pl && n >= minlen && memcmp(v, p, pl) == 0;
}

static int
has(const char *v, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(v + i, needle, k) == 0)
			return 1;
	return 0;
}

int
kc_redact_credential_shape(const char *v, size_t n)
{
	const char *d1;

	if (prefixed(v, n, "sk-", 20) || prefixed(v, n, "sk_live_", 16) || prefixed(v, n, "AKIA", 20) ||
	    prefixed(v, n, "ASIA", 20) || prefixed(v, n, "ghp_", 20) || prefixed(v, n, "gho_", 20) ||
	    prefixed(v, n, "ghs_", 20) || prefixed(v, n, "github_pat_", 20) || prefixed(v, n, "xoxb-", 15) ||
	    prefixed(v, n, "xoxp-", 15) || prefixed(v, n, "glpat-", 20) || prefixed(v, n, "AIza", 30) ||
	    prefixed(v, n, "Bearer ", 8) || prefixed(v, n, "Basic ", 7) ||
	    (prefixed(v, n, "-----BEGIN", 10) && has(v, n, "PRIVATE KEY")))
		return 1;
	if (!prefixed(v, n, "eyJ", 20) || (d1 = memchr(v, '.', n)) == NULL)
		return 0;
	return memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - v)) != NULL;
}

/* Where a word starts in a log line, and where it ends. */
static int
delim(char c)
{
	return c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '=' || c == ':' || c == ',' ||
	    c == ';' || c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' ||
	    c == '<' || c == '>' || c == '`' || c == '\r' || c == '\n';
}

int
kc_redact_line_has_credential(const char *line, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t e;

		if (i > 0 && !delim(line[i - 1]))
			continue;
		if (delim(line[i]))
			continue;
		/* "Bearer X", "Basic X" and a PEM header are words with a space:
		 * the rest of the line is their value */
		if (prefixed(line + i, n - i, "Bearer ", 8) || prefixed(line + i, n - i, "Basic ", 7) ||
		    prefixed(line + i, n - i, "-----BEGIN", 10)) {
			if (kc_redact_credential_shape(line + i, n - i))
				return 1;
			continue;
		}
		for (e = i; e < n && !delim(line[e]); e++)
			;
		if (kc_redact_credential_shape(line + i, e - i))
			return 1;
	}
	return 0;
}

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

int
kc_redact_last_applied(cJSON *doc)
{
	cJSON *items, *it, *md, *ann, *la;
	int n = 0;

	/* every member of each name, repeated keys included (a hostile
	 * server's second "metadata" must not keep a copy) */
	EACH_MEMBER(items, doc, "items")
		cJSON_ArrayForEach(it, items)
			EACH_MEMBER(md, it, "metadata")
				EACH_MEMBER(ann, md, "annotations")
					EACH_MEMBER(la, ann, LAST_APPLIED) {
						char hex[KC_SHA256_HEX], marker[128];

						if (!cJSON_IsString(la) || la->valuestring == NULL)
							continue;
						kc_sha256_hex(la->valuestring, strlen(la->valuestring), hex);
						/* cannot fail (fixed sizes); if it did, the value is still removed */
						if (kc_fmt(marker, sizeof(marker), "kcustody.redacted sha256=%s", hex) != 0)
							kc_fmt_trunc(marker, sizeof(marker), "kcustody.redacted");
						/* wiped first: on failure the value is "", still redacted */
						OPENSSL_cleanse(la->valuestring, strlen(la->valuestring));
						cJSON_SetValuestring(la, marker);
						n++;
					}
	return n;
}
