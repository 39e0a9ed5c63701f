/* podlogs.c - agent pod logs through pods/log (podlogs.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "collector/audit.h"
#include "collector/names.h"
#include "collector/podlogs.h"
#include "collector/redact.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/nsindex.h"
#include "util/sha256.h"
#include "util/timeutil.h"

struct run {
	struct kc_collect *co;
	const struct kc_podlog_opts *o;
	size_t limit;
	long timeout_s;
	char window[96];	/* "&sinceSeconds=N" or "&sinceTime=T", or "" */
	cJSON *index;		/* logs/index.json "captures" (borrowed) */
	int forbidden, errors, timeouts, captured, limited, redacted;
};

/* --since: a duration before now (sinceSeconds) or an RFC 3339 time
 * (sinceTime, in UTC to the second as the API wants it). */
static int
window_param(const char *since, char *out, size_t n)
{
	int64_t secs;
	time_t t;
	long ns;
	char buf[40];

	out[0] = '\0';
	if (since == NULL)
		return 0;
	if (kc_parse_duration(since, &secs) == 0) {
		if (secs < 1)
			secs = 1;	/* the API refuses sinceSeconds < 1 */
		return kc_fmt(out, n, "&sinceSeconds=%lld", (long long)secs);
	}
	if (kc_parse_rfc3339(since, &t, &ns) != 0)
		return kc_err_set(KC_ERR_INVALID, "--since '%s' is neither a duration nor an RFC 3339 time", since);
	return kc_fmt(out, n, "&sinceTime=%s", kc_fmt_rfc3339(t, buf, sizeof(buf)));
}

/* The restart count of container name in a status array, else 0. */
static long
restarts(const cJSON *statuses, const char *name)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, statuses) {
		const char *n = kc_json_str(s, "name");
		const cJSON *rc = kc_json_get(s, "restartCount");

		if (n != NULL && strcmp(n, name) == 0 && cJSON_IsNumber(rc))
			return (long)rc->valuedouble;
	}
	return 0;
}

/* Redact the lines of b that hold a credential (in place, into out):
 * each becomes the audit marker line.  Returns the count, or < 0. */
static long
redact_lines(const struct kc_buf *b, struct kc_buf *out)
{
	long n = 0;
	size_t i = 0;

	while (i < b->len) {
		const char *l = b->data + i, *nl = memchr(l, '\n', b->len - i);
		size_t len = nl ? (size_t)(nl - l) : b->len - i;
		int r;

		if (kc_redact_line_has_credential(l, len)) {
			char hex[KC_SHA256_HEX], *txt;
			cJSON *m = cJSON_CreateObject();

			if (m == NULL || kc_sha256_hex(l, len, hex) != 0 || kc_audit_marker_fill(m, hex) != 0 ||
			    (txt = cJSON_PrintUnformatted(m)) == NULL) {
				cJSON_Delete(m);
				return kc_err_set(KC_ERR_NOMEM, "out of memory");
			}
			cJSON_Delete(m);
			r = kc_buf_adds(out, txt);
			free(txt);
			n++;
		} else {
			r = kc_buf_add(out, l, len);
		}
		if (r == 0 && nl != NULL)
			r = kc_buf_addc(out, '\n');
		if (r != 0)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		i += len + (nl != NULL);
	}
	return n;
}

static int
fatal(int r)
{
	return r == KC_ERR_NET || r == KC_ERR_AUTH || r == KC_ERR_NOMEM || r == KC_ERR_IO;
}

/* One capture: GET, store, record. */
static int
capture(struct run *R, const char *sa, const char *ns, const char *pod, const char *ctr,
    const char *kind, int previous)
{
	char cns[KC_NAME_COMPONENT_SIZE], cpod[KC_NAME_COMPONENT_SIZE], cctr[KC_NAME_COMPONENT_SIZE];
	char rel[800], item[800], detail[600] = "", *path = NULL, *ens = NULL, *epod = NULL, *ectr = NULL;
	struct kc_req_limits lim = { R->timeout_s, R->limit + 1 + CURL_MAX_WRITE_SIZE, 1 };
	struct kc_response resp;
	struct kc_buf red = KC_BUF_INIT(SIZE_MAX / 2);	/* markers may outgrow short lines */
	const char *status = "complete";
	long nred = 0;
	int r, limit_hit = 0, timed_out = 0;
	size_t keep = 0, got = 0;
	cJSON *e, *it;
	CURL *esc;

	memset(&resp, 0, sizeof(resp));
	if ((r = kc_name_component(KC_NAME_NAMESPACE, ns, cns)) < 0 ||
	    (r = kc_name_component(KC_NAME_POD, pod, cpod)) < 0 ||
	    (r = kc_name_component(KC_NAME_CONTAINER, ctr, cctr)) < 0)
		return r;
	if ((r = kc_fmt(rel, sizeof(rel), "logs/%s/%s/%s%s.log", cns, cpod, cctr, previous ? ".previous" : "")) != 0 ||
	    (r = kc_fmt(item, sizeof(item), "logs/%s/%s/%s%s", cns, cpod, cctr, previous ? "/previous" : "")) != 0)
		return r;
	if ((esc = curl_easy_init()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	ens = curl_easy_escape(esc, ns, 0);
	epod = curl_easy_escape(esc, pod, 0);
	ectr = curl_easy_escape(esc, ctr, 0);
	if (ens == NULL || epod == NULL || ectr == NULL ||
	    asprintf(&path, "/api/v1/namespaces/%s/pods/%s/log?container=%s%s&timestamps=true&limitBytes=%zu%s",
	    ens, epod, ectr,
	    previous ? "&previous=true" : "", R->limit + 1, R->window) < 0) {
		path = NULL;
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = kc_client_get_bounded(R->co->client, path, "*/*", &lim, &resp);
	if (r == KC_ERR_LIMIT) {
		r = 0;	/* a kubelet that ignored limitBytes: what arrived, cut below */
		resp.status = 200;
	}
	if (r == 0)
		r = kc_response_error(&resp, "GET", path);
	if (r == 0) {
		const struct kc_buf *body = &resp.body;
		char hex[KC_SHA256_HEX];

		got = body->len;
		keep = body->len;
		if (keep > R->limit) {
			keep = R->limit;
			limit_hit = 1;
		}
		resp.body.len = keep;
		if ((nred = redact_lines(body, &red)) < 0) {
			r = (int)nred;
			goto out;
		}
		if (nred > 0) {
			kc_sha256_hex(body->data, body->len, hex);
			r = kc_collect_add_file(R->co, rel, red.data ? red.data : "", red.len, "text/plain", 0, NULL);
			if (r == 0) {
				cJSON *f = cJSON_GetArrayItem(R->co->files, cJSON_GetArraySize(R->co->files) - 1);

				cJSON_AddStringToObject(f, "transform", "redact-credentials");
				cJSON_AddStringToObject(f, "original_sha256", hex);
				cJSON_AddNumberToObject(f, "redacted_lines", (double)nred);
			}
			OPENSSL_cleanse(body->data, got);	/* the cut tail too */
			if (red.data != NULL)
				OPENSSL_cleanse(red.data, red.len);
		} else {
			r = kc_collect_add_file(R->co, rel, body->data ? body->data : "", body->len,
			    "text/plain", 0, NULL);
		}
		if (r != 0)
			goto out;
		R->captured++;
		R->limited += limit_hit;
		R->redacted += nred > 0;
	} else if (fatal(r) && r != KC_ERR_AUTH) {
		goto out;
	} else {
		size_t dl;

		kc_fmt_trunc(detail, sizeof(detail), "%s", kc_err_msg());
		for (dl = strlen(detail); dl > 0 && detail[dl - 1] == ' '; dl--)
			detail[dl - 1] = '\0';
		status = r == KC_ERR_FORBIDDEN ? "forbidden" : "error";
		if (r == KC_ERR_FORBIDDEN)
			R->forbidden++;
		else
			R->errors++;
		timed_out = r == KC_ERR_TIMEOUT;
		R->timeouts += timed_out;
		if (r == KC_ERR_AUTH) {
			kc_err_set(r, "%s", detail);
			goto out;	/* 401: the credentials are gone; the run ends */
		}
		r = 0;
	}
	kc_info("%-28s %s%s", item, status, limit_hit ? " (cut at the limit)" : "");
	if ((it = kc_collect_add_item(R->co, item, status, detail[0] ? detail : NULL)) == NULL ||
	    (e = cJSON_CreateObject()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (strcmp(status, "complete") == 0) {
		cJSON_AddNumberToObject(it, "bytes", (double)keep);
		if (limit_hit) {
			cJSON_AddBoolToObject(it, "limit_reached", 1);
			cJSON_AddNumberToObject(it, "limit_bytes", (double)R->limit);
		}
	}
	if (resp.status != 0)
		cJSON_AddNumberToObject(it, "http_status", (double)resp.status);
	if (timed_out)
		cJSON_AddBoolToObject(it, "timed_out", 1);
	cJSON_AddStringToObject(e, "sa", sa);
	cJSON_AddStringToObject(e, "namespace", ns);
	cJSON_AddStringToObject(e, "pod", pod);
	cJSON_AddStringToObject(e, "container", ctr);
	cJSON_AddStringToObject(e, "kind", kind);
	cJSON_AddBoolToObject(e, "previous", previous);
	cJSON_AddStringToObject(e, "status", status);
	if (strcmp(status, "complete") == 0) {
		cJSON_AddStringToObject(e, "path", rel);
		cJSON_AddNumberToObject(e, "bytes", (double)keep);
		cJSON_AddBoolToObject(e, "limit_reached", limit_hit);
		cJSON_AddNumberToObject(e, "redacted_lines", (double)nred);
	} else {
		cJSON_AddStringToObject(e, "detail", detail);
		cJSON_AddBoolToObject(e, "timed_out", timed_out);
	}
	if (resp.status != 0)
		cJSON_AddNumberToObject(e, "http_status", (double)resp.status);
	cJSON_AddItemToArray(R->index, e);
out:
	kc_buf_free(&red);
	kc_response_free(&resp);
	curl_free(ens);
	curl_free(epod);
	curl_free(ectr);
	curl_easy_cleanup(esc);
	free(path);
	return r;
}

/* Every container of one pod (init, regular, ephemeral), and the
 * previous ones that restarted. */
static int
pod_logs(struct run *R, const char *sa, const cJSON *pod)
{
	static const char *const lists[] = { "initContainers", "containers", "ephemeralContainers" };
	static const char *const stats[] = { "initContainerStatuses", "containerStatuses",
	    "ephemeralContainerStatuses" };
	static const char *const kinds[] = { "init", "container", "ephemeral" };
	const cJSON *md = kc_json_get(pod, "metadata"), *spec = kc_json_get(pod, "spec");
	const char *ns = kc_json_str(md, "namespace"), *name = kc_json_str(md, "name");
	const char *node = kc_json_str(spec, "nodeName");
	int r;

	if (ns == NULL || name == NULL)
		return 0;
	if ((r = kc_collect_check_name(R->co, KC_NAME_POD, name)) != 0)
		return r < 0 ? r : 0;	/* an invalid pod name: an anomaly, no request */
	if (node == NULL || node[0] == '\0') {
		char item[600];

		if (kc_fmt(item, sizeof(item), "logs/%s/%s", ns, name) == 0)
			kc_collect_add_item(R->co, item, "skipped", "the pod is not scheduled to a node: no log");
		return 0;
	}
	for (size_t k = 0; k < 3; k++) {
		const cJSON *c;

		cJSON_ArrayForEach(c, kc_json_get(spec, lists[k])) {
			const char *cn = kc_json_str(c, "name");

			if (cn == NULL)
				continue;
			if ((r = kc_collect_check_name(R->co, KC_NAME_CONTAINER, cn)) != 0) {
				if (r < 0)
					return r;
				continue;
			}
			if ((r = capture(R, sa, ns, name, cn, kinds[k], 0)) != 0)
				return r;
			if (restarts(kc_json_get(kc_json_get(pod, "status"), stats[k]), cn) > 0 &&
			    (r = capture(R, sa, ns, name, cn, kinds[k], 1)) != 0)
				return r;
		}
	}
	return 0;
}

int
kc_podlogs_collect(struct kc_collect *co, const struct kc_snapshot *snap,
    const struct kc_review_targets *targets, const struct kc_podlog_opts *o)
{
	struct run R;
	struct kc_nsindex by_sa;	/* pods by namespace and account */
	cJSON *doc, *sum, *it;
	char *txt, sa[600];
	int r = 0;

	memset(&R, 0, sizeof(R));
	memset(&by_sa, 0, sizeof(by_sa));
	R.co = co;
	R.o = o;
	R.limit = o->limit_bytes ? o->limit_bytes : KC_PODLOG_LIMIT_DEFAULT;
	R.timeout_s = o->timeout_s ? o->timeout_s : KC_PODLOG_TIMEOUT_DEFAULT;
	if ((r = window_param(o->since, R.window, sizeof(R.window))) != 0)
		return r;
	if ((doc = cJSON_CreateObject()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddStringToObject(doc, "since", o->since ? o->since : "");
	cJSON_AddBoolToObject(doc, "timestamps", 1);
	cJSON_AddNumberToObject(doc, "limit_bytes", (double)R.limit);
	cJSON_AddNumberToObject(doc, "timeout_seconds", (double)R.timeout_s);
	R.index = cJSON_AddArrayToObject(doc, "captures");
	if (R.index == NULL) {
		cJSON_Delete(doc);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	/* each pod under its namespace and account, once: a scan of every pod
	 * for every target made this step targets x pods */
	cJSON_ArrayForEach(it, snap->items[KC_RES_PODS]) {
		const char *pns = kc_json_str(kc_json_get(it, "metadata"), "namespace");
		const char *psa = kc_json_str(kc_json_get(it, "spec"), "serviceAccountName");

		if (psa == NULL || psa[0] == '\0')
			psa = "default";
		if (pns != NULL)
			kc_nsindex_add(&by_sa, pns, psa, it);
	}
	kc_nsindex_sort(&by_sa);
	if (by_sa.err != 0)
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < targets->n && r == 0; i++) {
		const struct kc_review_target *t = &targets->v[i];
		const struct kc_nsref *pods;
		size_t npods;

		if (kc_name_invalid(KC_NAME_NAMESPACE, t->sa_ns) != NULL ||
		    kc_name_invalid(KC_NAME_SERVICEACCOUNT, t->sa_name) != NULL)
			continue;	/* recorded as an anomaly by the caller */
		if ((r = kc_fmt(sa, sizeof(sa), "%s/%s", t->sa_ns, t->sa_name)) != 0)
			break;
		pods = kc_nsindex_slice(&by_sa, t->sa_ns, t->sa_name, &npods);
		for (size_t k = 0; k < npods && r == 0; k++)	/* in the snapshot's order */
			r = pod_logs(&R, sa, pods[k].p);
	}
	kc_nsindex_free(&by_sa);
	if (r == 0) {
		const char *src[] = { "raw/pods", NULL };

		if ((txt = cJSON_Print(doc)) == NULL)
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		else
			r = kc_collect_add_file(co, "logs/index.json", txt, strlen(txt), "application/json", 1, src);
		free(txt);
	}
	cJSON_Delete(doc);
	if (r != 0)
		return r;
	if ((sum = cJSON_AddObjectToObject(co->manifest, "pod_logs")) != NULL) {
		cJSON_AddNumberToObject(sum, "captured", R.captured);
		cJSON_AddNumberToObject(sum, "forbidden", R.forbidden);
		cJSON_AddNumberToObject(sum, "errors", R.errors);
		cJSON_AddNumberToObject(sum, "timed_out", R.timeouts);
		cJSON_AddNumberToObject(sum, "limit_reached", R.limited);
		cJSON_AddNumberToObject(sum, "redacted_members", R.redacted);
		cJSON_AddNumberToObject(sum, "limit_bytes", (double)R.limit);
		cJSON_AddNumberToObject(sum, "timeout_seconds", (double)R.timeout_s);
		cJSON_AddStringToObject(sum, "since", o->since ? o->since : "");
	}
	if (R.limited > 0) {
		char w[256];

		if (kc_fmt(w, sizeof(w), "%d pod log(s) longer than the limit of %zu bytes were cut at it "
		    "(--log-limit)", R.limited, R.limit) == 0)
			cJSON_AddItemToArray(co->warnings, cJSON_CreateString(w));
	}
	return 0;
}
