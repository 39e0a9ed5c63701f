#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbac/review.h"
#include "rbac/scope.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/mem.h"

#define TUPLE_MAX (1u << 20)
#define SEP "\x1f"

static const cJSON *
status_of(const cJSON *review)
{
	const cJSON *st = kc_json_get(review, "status");

	return cJSON_IsObject(st) ? st : review;
}

static int
tuple_add(struct kc_tuples *t, struct kc_buf *b)
{
	char *s;

	if (KC_GROW(t->v, t->cap, t->n + 1) != 0)
		return KC_ERR_NOMEM;
	if ((s = kc_buf_take(b, NULL)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	t->v[t->n++] = s;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *
sval(const cJSON *it)
{
	return cJSON_IsString(it) ? it->valuestring : "";
}

int
kc_review_tuples(const cJSON *review, struct kc_tuples *out)
{
	const cJSON *st = status_of(review), *rule;
	struct kc_buf b = KC_BUF_INIT(TUPLE_MAX);
	size_t w = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	cJSON_ArrayForEach(rule, kc_json_get(st, "resourceRules")) {
		const cJSON *v, *g, *res, *nm;
		const cJSON *names = kc_json_get(rule, "resourceNames");
		int nnames = cJSON_GetArraySize(names);

		cJSON_ArrayForEach(v, kc_json_get(rule, "verbs"))
		cJSON_ArrayForEach(g, kc_json_get(rule, "apiGroups"))
		cJSON_ArrayForEach(res, kc_json_get(rule, "resources")) {
			if (nnames == 0) {
				kc_buf_reset(&b);
				kc_buf_addf(&b, "R" SEP "%s" SEP "%s" SEP "%s" SEP "*", sval(v), sval(g), sval(res));
				if ((r = tuple_add(out, &b)) != 0)
					goto out;
				continue;
			}
			cJSON_ArrayForEach(nm, names) {
				kc_buf_reset(&b);
				kc_buf_addf(&b, "R" SEP "%s" SEP "%s" SEP "%s" SEP "=%s", sval(v), sval(g),
				    sval(res), sval(nm));
				if ((r = tuple_add(out, &b)) != 0)
					goto out;
			}
		}
	}
	cJSON_ArrayForEach(rule, kc_json_get(st, "nonResourceRules")) {
		const cJSON *v, *u;

		cJSON_ArrayForEach(v, kc_json_get(rule, "verbs"))
		cJSON_ArrayForEach(u, kc_json_get(rule, "nonResourceURLs")) {
			kc_buf_reset(&b);
			kc_buf_addf(&b, "U" SEP "%s" SEP "%s", sval(v), sval(u));
			if ((r = tuple_add(out, &b)) != 0)
				goto out;
		}
	}
	if (out->n > 0)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	for (size_t i = 0; i < out->n; i++) {
		if (w > 0 && strcmp(out->v[w - 1], out->v[i]) == 0) {
			free(out->v[i]);
			continue;
		}
		out->v[w++] = out->v[i];
	}
	out->n = w;
out:
	kc_buf_free(&b);
	if (r != 0)
		kc_tuples_free(out);
	return r;
}

void
kc_tuples_free(struct kc_tuples *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

void
kc_tuple_describe(const char *tuple, char *out, size_t n)
{
	char f[5][512];
	size_t nf = 0, k = 0;

	memset(f, 0, sizeof(f));
	for (const char *p = tuple; *p != '\0' && nf < 5; p++) {
		if (*p == '\x1f') {
			nf++;
			k = 0;
			continue;
		}
		if (k + 1 < sizeof(f[0]))
			f[nf][k++] = *p;
	}
	if (tuple[0] == 'U')
		kc_fmt_trunc(out, n, "%s %s", f[1], f[2]);
	else if (f[4][0] == '=')
		kc_fmt_trunc(out, n, "%s %s/%s %s", f[1], f[2], f[3], f[4] + 1);
	else
		kc_fmt_trunc(out, n, "%s %s/%s", f[1], f[2], f[3]);
}

/* The messages of an aggregate evaluationError: "[a, b]" or "a". */
static int
split_errors(const char *s, struct kc_tuples *out)
{
	struct kc_buf b = KC_BUF_INIT(TUPLE_MAX);
	size_t len = strlen(s);
	const char *p, *end;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	p = s;
	end = s + len;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		p++;
		end--;
	}
	while (p < end) {
		/* a message ends at ", " followed by the start of a known message */
		const char *q = p, *cut = end;

		while ((q = strstr(q, ", ")) != NULL && q < end) {
			if (strncmp(q + 2, "role.rbac.", 10) == 0 || strncmp(q + 2, "clusterrole.rbac.", 17) == 0 ||
			    strncmp(q + 2, "unsupported role reference", 26) == 0) {
				cut = q;
				break;
			}
			q += 2;
		}
		kc_buf_reset(&b);
		kc_buf_add(&b, p, (size_t)(cut - p));
		if ((r = tuple_add(out, &b)) != 0)
			break;
		p = cut < end ? cut + 2 : end;
	}
	kc_buf_free(&b);
	if (r == 0 && out->n > 0)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return r;
}

static int
add_side(cJSON *arr, const char *tuple)
{
	char d[2048];

	kc_tuple_describe(tuple, d, sizeof(d));
	cJSON_AddItemToArray(arr, cJSON_CreateString(d));
	return 0;
}

int
kc_review_compare(const cJSON *server, const cJSON *evaluator, size_t *ndiff, cJSON **diff)
{
	struct kc_tuples a, b, ea, eb;
	const cJSON *sa = status_of(server), *sb = status_of(evaluator);
	const char *erra = cJSON_IsString(kc_json_get(sa, "evaluationError")) ?
	    kc_json_get(sa, "evaluationError")->valuestring : "";
	const char *errb = cJSON_IsString(kc_json_get(sb, "evaluationError")) ?
	    kc_json_get(sb, "evaluationError")->valuestring : "";
	cJSON *d = NULL, *oa = NULL, *ob = NULL;
	size_t i = 0, j = 0, n = 0;
	int r;

	*ndiff = 0;
	if (diff != NULL)
		*diff = NULL;
	memset(&ea, 0, sizeof(ea));
	memset(&eb, 0, sizeof(eb));
	if ((r = kc_review_tuples(sa, &a)) != 0)
		return r;
	if ((r = kc_review_tuples(sb, &b)) != 0) {
		kc_tuples_free(&a);
		return r;
	}
	if (diff != NULL) {
		d = cJSON_CreateObject();
		oa = cJSON_AddArrayToObject(d, "onlyServer");
		ob = cJSON_AddArrayToObject(d, "onlyEvaluator");
	}
	while (i < a.n || j < b.n) {
		int c = i >= a.n ? 1 : j >= b.n ? -1 : strcmp(a.v[i], b.v[j]);

		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			if (oa != NULL)
				add_side(oa, a.v[i]);
			i++;
			n++;
		} else {
			if (ob != NULL)
				add_side(ob, b.v[j]);
			j++;
			n++;
		}
	}
	if ((r = split_errors(erra, &ea)) == 0 && (r = split_errors(errb, &eb)) == 0) {
		int same = ea.n == eb.n;

		for (size_t k = 0; same && k < ea.n; k++)
			same = strcmp(ea.v[k], eb.v[k]) == 0;
		if (!same)
			n++;
	}
	if (d != NULL) {
		cJSON_AddStringToObject(d, "serverEvaluationError", erra);
		cJSON_AddStringToObject(d, "evaluatorEvaluationError", errb);
		cJSON_AddBoolToObject(d, "incomplete",
		    cJSON_IsTrue(kc_json_get(sa, "incomplete")));
		cJSON_AddNumberToObject(d, "disagreements", (double)n);
		*diff = d;
	}
	*ndiff = n;
	kc_tuples_free(&a);
	kc_tuples_free(&b);
	kc_tuples_free(&ea);
	kc_tuples_free(&eb);
	return r;
}

/* Fill .status of one SubjectAccessReview like the server's RBAC authorizer. */
int
kc_rbac_answer_sar(const struct kc_rbac *rb, cJSON *sar)
{
	const cJSON *spec = kc_json_get(sar, "spec"), *g;
	const cJSON *ra = kc_json_get(spec, "resourceAttributes");
	const cJSON *na = kc_json_get(spec, "nonResourceAttributes");
	const cJSON *gl = kc_json_get(spec, "groups");
	const char **groups = NULL;
	struct kc_rbac_identity id = { kc_json_str0(spec, "user"), NULL, 0 };
	struct kc_rbac_request req;
	struct kc_rbac_decision d;
	char reason[4096] = "";
	cJSON *st;
	int r;

	/* every group counts: the authorizer checks each one */
	if (cJSON_IsArray(gl) && cJSON_GetArraySize(gl) > 0 &&
	    (groups = calloc((size_t)cJSON_GetArraySize(gl), sizeof(*groups))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(g, gl)
		if (cJSON_IsString(g))
			groups[id.ngroups++] = g->valuestring;
	id.groups = groups;
	memset(&req, 0, sizeof(req));
	if (ra != NULL) {
		req.verb = kc_json_str0(ra, "verb");
		req.group = kc_json_str0(ra, "group");
		req.resource = kc_json_str0(ra, "resource");
		req.subresource = kc_json_str0(ra, "subresource");
		req.name = kc_json_str0(ra, "name");
		req.ns = kc_json_str0(ra, "namespace");
	} else {
		req.verb = kc_json_str0(na, "verb");
		req.path = kc_json_str0(na, "path");
	}
	r = kc_rbac_authorize(rb, &id, &req, &d);
	free(groups);
	if (r != 0)
		return r;
	if (d.allowed)
		kc_rbac_reason(&d.grant, reason, sizeof(reason));
	kc_json_delete(sar, "status");
	st = cJSON_AddObjectToObject(sar, "status");
	cJSON_AddBoolToObject(st, "allowed", d.allowed);
	if (reason[0] != '\0')
		cJSON_AddStringToObject(st, "reason", reason);
	/* kubectl's namespaced review of a cluster-scoped resource: the
	 * answer the server gives, but no real request asks it that way */
	if (d.allowed && ra != NULL && req.ns[0] != '\0' && !d.grant.binding->cluster &&
	    !kc_rbac_ns_effective(req.verb, req.group, req.resource)) {
		cJSON_AddBoolToObject(st, "realRequestAllowed", 0);
		cJSON_AddStringToObject(st, "scopeNote", "cluster-scoped resource asked with a namespace: "
		    "allowed only through a RoleBinding, which a real request (no namespace) never "
		    "consults");
	}
	return 0;
}
