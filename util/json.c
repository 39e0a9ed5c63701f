#include <string.h>

#include "util/json.h"
#include "util/err.h"
#include "util/jarena.h"

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

/* ------------------------------------------------------------------ */
/* one array of an object parsed an element at a time */

/* cJSON's whitespace: every byte up to the space (buffer_skip_whitespace) */
static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= 32)
		p++;
	return p;
}

/* containers nested in j, j included (0 for a scalar) */
static int
nesting(const cJSON *j)
{
	int d = 0;

	if (!cJSON_IsArray(j) && !cJSON_IsObject(j))
		return 0;
	for (const cJSON *c = j->child; c != NULL; c = c->next) {
		int k = nesting(c);

		if (k > d)
			d = k;
	}
	return d + 1;
}

/* The value at *p as the whole-text parse reads it inside `outer`
 * containers (its nesting limit counted from the top), *p moved past it;
 * NULL when that parse would refuse it. */
static cJSON *
value_at(const char **p, const char *end, int outer, struct kc_jarena *a)
{
	const char *e = NULL;
	cJSON *v;

	if (end - *p >= 3 && memcmp(*p, "\xef\xbb\xbf", 3) == 0)
		return NULL;	/* cJSON skips a BOM at its text's start only */
	if ((v = kc_jarena_parse_end(a, *p, (size_t)(end - *p), &e)) == NULL)
		return NULL;
	if (nesting(v) + outer > CJSON_NESTING_LIMIT) {
		cJSON_Delete(v);
		return NULL;
	}
	*p = e;
	return v;
}

cJSON *
kc_json_parse_stream(const char *text, size_t len, const char *key, struct kc_jarena *scratch,
    kc_json_elem_fn fn, void *ctx, int *err)
{
	const char *p = text, *end = text + len;
	int occurrence = 0, r;
	cJSON *rest;

	*err = KC_ERR_PARSE;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	p = skip_ws(p, end);
	if (p == end || *p != '{') {
		/* not an object: the whole text, as cJSON reads it (no key) */
		if ((rest = cJSON_ParseWithLength(text, len)) != NULL)
			*err = 0;
		return rest;
	}
	if ((rest = cJSON_CreateObject()) == NULL) {
		*err = KC_ERR_NOMEM;
		return NULL;
	}
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		goto done;
	for (;;) {
		cJSON *k, *v;
		int is_key;

		p = skip_ws(p, end);
		if (p == end || *p != '"' || (k = value_at(&p, end, 1, NULL)) == NULL)
			goto fail;
		is_key = strcmp(k->valuestring, key) == 0;
		p = skip_ws(p, end);
		if (p == end || *p != ':') {
			cJSON_Delete(k);
			goto fail;
		}
		p = skip_ws(p + 1, end);
		/* a member of the key begins: its readers start over, even when
		 * it turns out to hold no element */
		if (is_key && (r = fn(ctx, NULL, occurrence)) != 0) {
			cJSON_Delete(k);
			*err = r;
			goto fail;
		}
		if (is_key && p < end && *p == '[') {
			cJSON_Delete(k);
			p = skip_ws(p + 1, end);
			if (p < end && *p == ']') {
				p++;
			} else {
				for (;;) {
					cJSON *el;

					p = skip_ws(p, end);
					if ((el = value_at(&p, end, 2, scratch)) == NULL)
						goto fail;
					r = fn(ctx, el, occurrence);
					cJSON_Delete(el);
					kc_jarena_reset(scratch);
					if (r != 0) {
						*err = r;
						goto fail;
					}
					p = skip_ws(p, end);
					if (p < end && *p == ',') {
						p++;
						continue;
					}
					if (p < end && *p == ']') {
						p++;
						break;
					}
					goto fail;
				}
			}
			occurrence++;
		} else if (is_key) {
			/* not an array: read whole, its children as cJSON_ArrayForEach
			 * walks them */
			cJSON_Delete(k);
			if ((v = value_at(&p, end, 1, scratch)) == NULL)
				goto fail;
			r = 0;
			for (const cJSON *c = v->child; c != NULL && r == 0; c = c->next)
				r = fn(ctx, c, occurrence);
			cJSON_Delete(v);
			kc_jarena_reset(scratch);
			if (r != 0) {
				*err = r;
				goto fail;
			}
			occurrence++;
		} else {
			if ((v = value_at(&p, end, 1, NULL)) == NULL) {
				cJSON_Delete(k);
				goto fail;
			}
			if (!cJSON_AddItemToObject(rest, k->valuestring, v)) {
				cJSON_Delete(v);
				cJSON_Delete(k);
				*err = KC_ERR_NOMEM;
				goto fail;
			}
			cJSON_Delete(k);
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}')
			break;
		goto fail;
	}
done:
	/* what follows the object is not read, as cJSON_ParseWithLength
	 * does not read it */
	*err = 0;
	return rest;
fail:
	kc_jarena_reset(scratch);
	cJSON_Delete(rest);
	return NULL;
}

void
kc_json_move_elems(cJSON *dst, cJSON *src, cJSON *from)
{
	cJSON *next;

	if (dst == NULL || src == NULL)
		return;	/* nothing moved, nothing lost */
	for (from = from != NULL ? from : src->child; from != NULL; from = next) {
		next = from->next;
		cJSON_AddItemToArray(dst, cJSON_DetachItemViaPointer(src, from));
	}
}
