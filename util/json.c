#include <string.h>

#include "util/json.h"

const cJSON *
kc_json_get(const cJSON *o, const char *key)
{
	const cJSON *r = NULL;

	if (!cJSON_IsObject(o) || key == NULL)
		return NULL;
	for (const cJSON *c = o->child; c != NULL; c = c->next)
		if (c->string != NULL && strcmp(c->string, key) == 0)
			r = c;
	return r;
}

cJSON *
kc_json_get_mut(cJSON *o, const char *key)
{
	cJSON *r = NULL;

	if (!cJSON_IsObject(o) || key == NULL)
		return NULL;
	for (cJSON *c = o->child; c != NULL; c = c->next)
		if (c->string != NULL && strcmp(c->string, key) == 0)
			r = c;
	return r;
}

const cJSON *
kc_json_path(const cJSON *o, const char *path)
{
	char key[256];

	while (o != NULL && path != NULL && *path != '\0') {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = kc_json_get(o, key);
		path = dot ? dot + 1 : NULL;
	}
	return o;
}

void
kc_json_delete(cJSON *o, const char *key)
{
	cJSON *c, *next;

	if (!cJSON_IsObject(o) || key == NULL)
		return;
	for (c = o->child; c != NULL; c = next) {
		next = c->next;
		if (c->string != NULL && strcmp(c->string, key) == 0)
			cJSON_Delete(cJSON_DetachItemViaPointer(o, c));
	}
}

cJSON *
kc_json_detach(cJSON *o, const char *key)
{
	cJSON *last = kc_json_get_mut(o, key);

	if (last == NULL)
		return NULL;
	cJSON_DetachItemViaPointer(o, last);
	kc_json_delete(o, key);
	return last;
}

int
kc_json_set(cJSON *o, const char *key, cJSON *value)
{
	cJSON *c, *next, *first = NULL;

	if (!cJSON_IsObject(o) || key == NULL || value == NULL) {
		cJSON_Delete(value);
		return -1;
	}
	/* keep the first member's place (records keep their key order), drop
	 * every other member with the key */
	for (c = o->child; c != NULL; c = next) {
		next = c->next;
		if (c->string == NULL || strcmp(c->string, key) != 0)
			continue;
		if (first == NULL)
			first = c;
		else
			cJSON_Delete(cJSON_DetachItemViaPointer(o, c));
	}
	if (first != NULL ? !cJSON_ReplaceItemInObjectCaseSensitive(o, key, value) :
	    !cJSON_AddItemToObject(o, key, value)) {
		cJSON_Delete(value);
		return -1;
	}
	return 0;
}

const char *
kc_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = kc_json_get(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *
kc_json_str0(const cJSON *o, const char *key)
{
	const char *s = kc_json_str(o, key);

	return s != NULL ? s : "";
}

int
kc_json_text_has_nul(const char *p, size_t n)
{
	const char *end = p + n, *q = p;

	/* a raw NUL byte is not JSON text, yet cJSON's length-bounded parse
	 * takes it inside a string and the string ends there all the same */
	if (n > 0 && memchr(p, '\0', n) != NULL)
		return 1;
	while (q < end && (q = memchr(q, '\\', (size_t)(end - q))) != NULL) {
		if (end - q >= 6 && q[1] == 'u' && memcmp(q + 2, "0000", 4) == 0)
			return 1;
		if (end - q < 2)
			break;
		q += 2;	/* the escape's second byte is never the start of another */
	}
	return 0;
}
