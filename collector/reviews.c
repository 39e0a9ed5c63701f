#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/names.h"
#include "collector/reviews.h"
#include "util/json.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/timeutil.h"

/* A review is sent only for names the server could really hold: the
 * account's names go into the Impersonate-User header and every name into
 * a staging path.  Invalid ones are recorded as anomalies by the caller. */
static int
names_valid(const struct kc_review_target *t, size_t j)
{
	return kc_name_invalid(KC_NAME_NAMESPACE, t->sa_ns) == NULL &&
	    kc_name_invalid(KC_NAME_SERVICEACCOUNT, t->sa_name) == NULL &&
	    kc_name_invalid(KC_NAME_NAMESPACE, t->namespaces[j]) == NULL;
}

int
kc_reviews_collect(struct kc_collect *co, const struct kc_review_targets *targets,
    int parallel)
{
	const struct kc_review_target *t = targets->v;
	size_t nt = targets->n;
	struct kc_batch_req *reqs = NULL;
	char **bodies = NULL, **users = NULL;
	size_t n = 0, k = 0;
	int r = 0, refused = 0;
	char refusal[512] = "";

	for (size_t i = 0; i < nt; i++)
		for (size_t j = 0; j < t[i].nns; j++)
			n += names_valid(&t[i], j);
	if (nt == 0)
		return 0;
	if ((reqs = kc_calloc(n ? n : 1, sizeof(*reqs))) == NULL ||
	    (bodies = kc_calloc(n ? n : 1, sizeof(char *))) == NULL ||
	    (users = kc_calloc(nt, sizeof(char *))) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		if (asprintf(&users[i], "system:serviceaccount:%s:%s", t[i].sa_ns, t[i].sa_name) < 0) {
			users[i] = NULL;
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (size_t j = 0; j < t[i].nns; j++) {
			cJSON *b, *spec;

			if (!names_valid(&t[i], j))
				continue;
			b = cJSON_CreateObject();
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
			k++;
		}
	}
	{
		int64_t t0 = kc_mono_ns();
		double secs;

		if (n > 0 && (r = kc_client_batch(co->client, reqs, n, parallel)) != 0)
			goto out;
		secs = (double)(kc_mono_ns() - t0) / 1e9;
		kc_info("%-28s %zu reviews in %.2f s (%.0f/s, %d in flight)", "reviews", n, secs,
		    secs > 0 ? (double)n / secs : 0.0, parallel);
	}
	k = 0;
	for (size_t i = 0; i < nt; i++) {
		for (size_t j = 0; j < t[i].nns; j++) {
			struct kc_batch_req *q;
			char *rel = NULL, name[1024];
			cJSON *item;

			/* the item name is manifest text (JSON-escaped), never a path */
			if ((r = kc_fmt(name, sizeof(name), "review/%s/%s/%s", t[i].sa_ns, t[i].sa_name,
			    t[i].namespaces[j])) != 0)
				goto out;
			if (!names_valid(&t[i], j)) {
				kc_collect_add_item(co, name, "error", "not sent: a name is not valid for "
				    "its kind (see the manifest's anomalies)");
				continue;
			}
			q = &reqs[k++];
			if (q->err == KC_ERR_NET) {
				r = q->err;
				goto out;
			}
			if (q->err == 0 && q->resp.status == 201 &&
			    kc_json_text_has_nul(q->resp.body.data, q->resp.body.len)) {
				kc_err_set(KC_ERR_PARSE, KC_JSON_NUL_REFUSED, "POST", q->path);
				kc_collect_add_item(co, name, "error", kc_err_msg());
			} else if (q->err == 0 && q->resp.status == 201) {
				const char *const src[] = { NULL };

				if ((rel = kc_review_path(t[i].sa_ns, t[i].sa_name, t[i].namespaces[j])) == NULL) {
					r = kc_err_set(KC_ERR_NOMEM, "out of memory");
					goto out;
				}
				r = kc_collect_add_file(co, rel, q->resp.body.data, q->resp.body.len,
				    "application/json", 0, src);
				if (r == 0 && (item = kc_collect_add_item(co, name, "complete", NULL)) != NULL) {
					cJSON_AddStringToObject(item, "file", rel);
					cJSON_AddStringToObject(item, "audit_id", q->resp.audit_id);
				}
				free(rel);
				if (r != 0)
					goto out;
			} else if (q->err == 0 && q->resp.status == 403) {
				/* Not allowed to impersonate: the evaluator stands alone. */
				kc_response_error(&q->resp, "POST", q->path);
				kc_fmt_trunc(refusal, sizeof(refusal), "%s", kc_err_msg());
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
		cJSON *st = cJSON_CreateObject();
		char *txt;

		cJSON_AddStringToObject(st, "skipped", refusal);
		if ((txt = cJSON_Print(st)) != NULL)
			kc_collect_add_file(co, "reviews/status.json", txt, strlen(txt), "application/json", 1, NULL);
		free(txt);
		cJSON_Delete(st);
		kc_fmt_trunc(w, sizeof(w), "server-side rules reviews skipped for %d namespace(s): the collector "
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

void
kc_review_targets_free(struct kc_review_targets *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].sa_ns);
		free(t->v[i].sa_name);
		for (size_t j = 0; j < t->v[i].nns; j++)
			free(t->v[i].namespaces[j]);
		free(t->v[i].namespaces);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

char *
kc_review_path(const char *sa_ns, const char *sa_name, const char *ns)
{
	char folder[KC_NAME_COMPONENT_SIZE], cns[KC_NAME_COMPONENT_SIZE], *p = NULL;

	if (kc_name_sa_folder(sa_ns, sa_name, folder) < 0 ||
	    kc_name_component(KC_NAME_NAMESPACE, ns, cns) < 0)
		return NULL;
	if (asprintf(&p, "reviews/%s/%s.json", folder, cns) < 0)
		return NULL;
	return p;
}
