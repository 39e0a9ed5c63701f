#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rbac/labels.h"
#include "util/err.h"
#include "util/json.h"
#include "util/mem.h"

#define LBL_MAX_VALUES 256

static int
is_name_char(int c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/';
}

static void
req_free(struct kc_label_req *r)
{
	free(r->key);
	for (size_t i = 0; i < r->nvalues; i++)
		free(r->values[i]);
	free(r->values);
	memset(r, 0, sizeof(*r));
}

void
kc_labelsel_free(struct kc_labelsel *sel)
{
	if (sel == NULL)
		return;
	for (size_t i = 0; i < sel->n; i++)
		req_free(&sel->reqs[i]);
	free(sel->reqs);
	memset(sel, 0, sizeof(*sel));
}

static int
req_add_value(struct kc_label_req *r, const char *v, size_t len)
{
	char *copy;

	if (r->nvalues >= LBL_MAX_VALUES)
		return kc_err_set(KC_ERR_LIMIT, "label selector has too many values");
	if ((copy = kc_strndup(v, len)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r->values = kc_reallocarray(r->values, r->nvalues + 1, sizeof(*r->values));
	if (r->values == NULL) {
		free(copy);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	r->values[r->nvalues++] = copy;
	return 0;
}

static int
sel_push(struct kc_labelsel *sel, struct kc_label_req *r)
{
	if (KC_GROW(sel->reqs, sel->cap, sel->n + 1) != 0) {
		req_free(r);
		return KC_ERR_NOMEM;
	}
	sel->reqs[sel->n++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* word: a run of name characters; returns its length. */
static size_t
word_len(const char *p)
{
	size_t n = 0;

	while (p[n] != '\0' && is_name_char((unsigned char)p[n]))
		n++;
	return n;
}

static int
parse_set(const char **pp, struct kc_label_req *r, const char *whole)
{
	const char *p = skip_ws(*pp);

	if (*p != '(')
		return kc_err_set(KC_ERR_PARSE, "invalid label selector '%s': expected '('", whole);
	p++;
	for (;;) {
		size_t n;
		int rc;

		p = skip_ws(p);
		n = word_len(p);
		if ((rc = req_add_value(r, p, n)) != 0)
			return rc;
		p = skip_ws(p + n);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ')') {
			*pp = p + 1;
			return 0;
		}
		return kc_err_set(KC_ERR_PARSE, "invalid label selector '%s': expected ',' or ')'", whole);
	}
}

static int
parse_req(const char **pp, struct kc_label_req *r, const char *whole)
{
	const char *p = skip_ws(*pp);
	size_t n;

	if (*p == '!') {
		p = skip_ws(p + 1);
		if ((n = word_len(p)) == 0)
			return kc_err_set(KC_ERR_PARSE, "invalid label selector '%s': key expected after '!'", whole);
		if ((r->key = kc_strndup(p, n)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		r->op = KC_LBL_NOTEXISTS;
		*pp = p + n;
		return 0;
	}
	if ((n = word_len(p)) == 0)
		return kc_err_set(KC_ERR_PARSE, "invalid label selector '%s': key expected", whole);
	if ((r->key = kc_strndup(p, n)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	p = skip_ws(p + n);
	if (*p == '\0' || *p == ',') {
		r->op = KC_LBL_EXISTS;
	} else if (p[0] == '!' && p[1] == '=') {
		r->op = KC_LBL_NOTIN;
		p = skip_ws(p + 2);
		n = word_len(p);
		if (req_add_value(r, p, n) != 0)
			return kc_err_code();
		p += n;
	} else if (*p == '=') {
		p += (p[1] == '=') ? 2 : 1;
		r->op = KC_LBL_IN;
		p = skip_ws(p);
		n = word_len(p);
		if (req_add_value(r, p, n) != 0)
			return kc_err_code();
		p += n;
	} else if (strncmp(p, "notin", 5) == 0 && !is_name_char((unsigned char)p[5])) {
		r->op = KC_LBL_NOTIN;
		p += 5;
		if (parse_set(&p, r, whole) != 0)
			return kc_err_code();
	} else if (strncmp(p, "in", 2) == 0 && !is_name_char((unsigned char)p[2])) {
		r->op = KC_LBL_IN;
		p += 2;
		if (parse_set(&p, r, whole) != 0)
			return kc_err_code();
	} else {
		return kc_err_set(KC_ERR_PARSE, "invalid label selector '%s': unexpected '%c'", whole, *p);
	}
	*pp = skip_ws(p);
	return 0;
}

int
kc_labelsel_parse(const char *s, struct kc_labelsel *sel)
{
	const char *p = s;
	int r = 0;

	memset(sel, 0, sizeof(*sel));
	if (s == NULL)
		return kc_err_set(KC_ERR_INVALID, "no label selector");
	p = skip_ws(p);
	while (*p != '\0') {
		struct kc_label_req req;

		memset(&req, 0, sizeof(req));
		if ((r = parse_req(&p, &req, s)) != 0) {
			req_free(&req);
			goto out;
		}
		if ((r = sel_push(sel, &req)) != 0)
			goto out;
		p = skip_ws(p);
		if (*p == ',') {
			p = skip_ws(p + 1);
			if (*p == '\0') {
				r = kc_err_set(KC_ERR_PARSE, "invalid label selector '%s': trailing ','", s);
				goto out;
			}
		} else if (*p != '\0') {
			r = kc_err_set(KC_ERR_PARSE, "invalid label selector '%s': expected ','", s);
			goto out;
		}
	}
out:
	if (r != 0)
		kc_labelsel_free(sel);
	return r;
}

int
kc_labelsel_from_json(const cJSON *obj, struct kc_labelsel *sel)
{
	const cJSON *ml, *me, *it;
	int r = 0;

	memset(sel, 0, sizeof(*sel));
	ml = kc_json_get(obj, "matchLabels");
	me = kc_json_get(obj, "matchExpressions");
	cJSON_ArrayForEach(it, ml) {
		struct kc_label_req req;

		memset(&req, 0, sizeof(req));
		if (!cJSON_IsString(it) || it->string == NULL) {
			r = kc_err_set(KC_ERR_PARSE, "matchLabels value is not a string");
			goto out;
		}
		req.op = KC_LBL_IN;
		if ((req.key = kc_strdup(it->string)) == NULL ||
		    req_add_value(&req, it->valuestring, strlen(it->valuestring)) != 0) {
			req_free(&req);
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((r = sel_push(sel, &req)) != 0)
			goto out;
	}
	cJSON_ArrayForEach(it, me) {
		const cJSON *key = kc_json_get(it, "key");
		const cJSON *op = kc_json_get(it, "operator");
		const cJSON *vals = kc_json_get(it, "values"), *v;
		struct kc_label_req req;

		memset(&req, 0, sizeof(req));
		if (!cJSON_IsString(key) || !cJSON_IsString(op)) {
			r = kc_err_set(KC_ERR_PARSE, "matchExpressions entry without key or operator");
			goto out;
		}
		if (strcmp(op->valuestring, "In") == 0)
			req.op = KC_LBL_IN;
		else if (strcmp(op->valuestring, "NotIn") == 0)
			req.op = KC_LBL_NOTIN;
		else if (strcmp(op->valuestring, "Exists") == 0)
			req.op = KC_LBL_EXISTS;
		else if (strcmp(op->valuestring, "DoesNotExist") == 0)
			req.op = KC_LBL_NOTEXISTS;
		else {
			r = kc_err_set(KC_ERR_PARSE, "\"%s\" is not a valid label selector operator",
			    op->valuestring);
			goto out;
		}
		if ((req.key = kc_strdup(key->valuestring)) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		cJSON_ArrayForEach(v, vals) {
			if (cJSON_IsString(v) &&
			    (r = req_add_value(&req, v->valuestring, strlen(v->valuestring))) != 0) {
				req_free(&req);
				goto out;
			}
		}
		if ((req.op == KC_LBL_IN || req.op == KC_LBL_NOTIN) && req.nvalues == 0) {
			req_free(&req);
			r = kc_err_set(KC_ERR_PARSE, "values: must be specified when operator is In or NotIn");
			goto out;
		}
		if ((r = sel_push(sel, &req)) != 0)
			goto out;
	}
out:
	if (r != 0)
		kc_labelsel_free(sel);
	return r;
}

static int
req_match(const struct kc_label_req *r, const cJSON *labels)
{
	const cJSON *v = kc_json_get(labels, r->key);
	int has = cJSON_IsString(v), in = 0;

	for (size_t i = 0; has && i < r->nvalues; i++)
		if (strcmp(v->valuestring, r->values[i]) == 0)
			in = 1;
	switch (r->op) {
	case KC_LBL_IN: return has && in;
	case KC_LBL_NOTIN: return !has || !in;
	case KC_LBL_EXISTS: return has;
	case KC_LBL_NOTEXISTS: return !has;
	}
	return 0;
}

int
kc_labelsel_match(const struct kc_labelsel *sel, const cJSON *labels)
{
	for (size_t i = 0; i < sel->n; i++)
		if (!req_match(&sel->reqs[i], labels))
			return 0;
	return 1;
}
