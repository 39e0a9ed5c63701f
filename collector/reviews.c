#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/reviews.h"
#include "util/err.h"
#include "util/mem.h"

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int
subject_is(const cJSON *s, const char *bns, const char *ns, const char *name)
{
	const char *kind = jstr(s, "kind"), *sn = jstr(s, "name"), *sns = jstr(s, "namespace");
	char user[600], grp[600];

	snprintf(user, sizeof(user), "system:serviceaccount:%s:%s", ns, name);
	snprintf(grp, sizeof(grp), "system:serviceaccounts:%s", ns);
	if (strcmp(kind, "ServiceAccount") == 0)
		return strcmp(sn, name) == 0 && strcmp(sns[0] ? sns : bns, ns) == 0;
	if (strcmp(kind, "User") == 0)
		return strcmp(sn, user) == 0;
	if (strcmp(kind, "Group") == 0)
		return strcmp(sn, "system:serviceaccounts") == 0 || strcmp(sn, grp) == 0 ||
		    strcmp(sn, "system:authenticated") == 0;
	return 0;
}

static int
add_ns(struct kc_review_target *t, size_t *cap, const char *ns)
{
	for (size_t i = 0; i < t->nnamespaces; i++)
		if (strcmp(t->namespaces[i], ns) == 0)
			return 0;
	if (KC_GROW(t->namespaces, *cap, t->nnamespaces + 1) != 0 ||
	    (t->namespaces[t->nnamespaces] = kc_strdup(ns)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	t->nnamespaces++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
kc_reviews_plan(const struct kc_snapshot *snap, const char *ns, const char *name,
    int all, struct kc_review_target *t)
{
	size_t cap = 0;
	const cJSON *it, *s;
	int r;

	memset(t, 0, sizeof(*t));
	if ((t->ns = kc_strdup(ns)) == NULL || (t->name = kc_strdup(name)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = add_ns(t, &cap, ns)) != 0)
		return r;
	if (all) {
		cJSON_ArrayForEach(it, snap->items[KC_RES_NAMESPACES])
			if ((r = add_ns(t, &cap, jstr(cJSON_GetObjectItemCaseSensitive(it, "metadata"), "name"))) != 0)
				return r;
	} else {
		cJSON_ArrayForEach(it, snap->items[KC_RES_ROLEBINDINGS]) {
			const char *bns = jstr(cJSON_GetObjectItemCaseSensitive(it, "metadata"), "namespace");

			cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(it, "subjects")) {
				if (subject_is(s, bns, ns, name)) {
					if ((r = add_ns(t, &cap, bns)) != 0)
						return r;
					break;
				}
			}
		}
	}
	qsort(t->namespaces, t->nnamespaces, sizeof(char *), cmp_str);
	return 0;
}

void
kc_review_target_free(struct kc_review_target *t)
{
	for (size_t i = 0; i < t->nnamespaces; i++)
		free(t->namespaces[i]);
	free(t->namespaces);
	free(t->ns);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

int
kc_reviews_collect(struct kc_collect *co, const struct kc_review_target *t, size_t nt,
    int parallel)
{
	struct kc_batch_req *reqs = NULL;
	char **bodies = NULL, **users = NULL;
	size_t n = 0, k = 0;
	int r = 0, refused = 0;
	char refusal[512] = "";

	for (size_t i = 0; i < nt; i++)
		n += t[i].nnamespaces;
	if (n == 0)
		return 0;
	if ((reqs = kc_calloc(n, sizeof(*reqs))) == NULL ||
	    (bodies = kc_calloc(n, sizeof(char *))) == NULL ||
	    (users = kc_calloc(nt, sizeof(char *))) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		if (asprintf(&users[i], "system:serviceaccount:%s:%s", t[i].ns, t[i].name) < 0) {
			users[i] = NULL;
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (size_t j = 0; j < t[i].nnamespaces; j++, k++) {
			cJSON *b = cJSON_CreateObject(), *spec;
			cJSON_AddStringToObject(b, "apiVersion", "authorization.k8s.io/v1");
			cJSON_AddStringToObject(b, "kind", "SelfSubjectRulesReview");
			spec = cJSON_AddObjectToObject(b, "spec");
			cJSON_AddStringToObject(spec, "namespace", t[i].namespaces[j]);
			bodies[k] = cJSON_PrintUnformatted(b);
			cJSON_Delete(b);
			if (bodies[k] == NULL) {
				r = kc_err_set(KC_ERR_NOMEM, "out of memory");
				goto out;
			}
			reqs[k].method = "POST";
			reqs[k].path = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
			reqs[k].impersonate_user = users[i];
			reqs[k].body = bodies[k];
			reqs[k].body_len = strlen(bodies[k]);
		}
	}
	if ((r = kc_client_batch(co->client, reqs, n, parallel)) != 0)
		goto out;
	k = 0;
	for (size_t i = 0; i < nt; i++) {
		for (size_t j = 0; j < t[i].nnamespaces; j++, k++) {
			struct kc_batch_req *q = &reqs[k];
			char rel[1024], name[1024];
			cJSON *item;

			snprintf(rel, sizeof(rel), "reviews/%s__%s/%s.json", t[i].ns, t[i].name, t[i].namespaces[j]);
			snprintf(name, sizeof(name), "review/%s/%s/%s", t[i].ns, t[i].name, t[i].namespaces[j]);
			if (q->err == KC_ERR_NET) {
				r = q->err;
				goto out;
			}
			if (q->err == 0 && q->resp.status == 201) {
				const char *const src[] = { NULL };
				if ((r = kc_collect_add_file(co, rel, q->resp.body.data, q->resp.body.len,
				    "application/json", 0, src)) != 0)
					goto out;
				item = kc_collect_add_item(co, name, "complete", NULL);
				cJSON_AddStringToObject(item, "file", rel);
				cJSON_AddStringToObject(item, "audit_id", q->resp.audit_id);
			} else if (q->err == 0 && q->resp.status == 403) {
				/* Not allowed to impersonate: the evaluator stands alone. */
				kc_response_error(&q->resp, "POST", q->path);
				snprintf(refusal, sizeof(refusal), "%s", kc_err_msg());
				item = kc_collect_add_item(co, name, "skipped", refusal);
				refused++;
			} else {
				if (q->err == 0)
					kc_response_error(&q->resp, "POST", q->path);
				kc_collect_add_item(co, name, "error", kc_err_msg());
			}
		}
	}
	if (refused > 0) {
		char w[768];
		snprintf(w, sizeof(w), "server-side rules reviews skipped for %d namespace(s): the collector "
		    "may not impersonate service accounts (%s); the offline evaluation stands alone",
		    refused, refusal);
		cJSON_AddItemToArray(co->warnings, cJSON_CreateString(w));
	}
out:
	for (size_t i = 0; reqs != NULL && i < n; i++) {
		kc_response_free(&reqs[i].resp);
		if (bodies != NULL)
			free(bodies[i]);
	}
	for (size_t i = 0; users != NULL && i < nt; i++)
		free(users[i]);
	free(users);
	free(bodies);
	free(reqs);
	return r;
}
