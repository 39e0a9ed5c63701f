#include <string.h>

#include "rbac/workload.h"
#include "util/err.h"
#include "util/json.h"

#define CHAIN_MAX 16

static const struct {
	const char *annotation, *provider, *label;
} cloud_ann[] = {
	{ "eks.amazonaws.com/role-arn", "aws", "aws role" },
	{ "iam.gke.io/gcp-service-account", "gcp", "gcp service account" },
	{ "azure.workload.identity/client-id", "azure", "azure client-id" },
};

const char *
kc_cloud_annotation(size_t i)
{
	return i < sizeof(cloud_ann) / sizeof(cloud_ann[0]) ? cloud_ann[i].annotation : NULL;
}

/* the group each owner kind must carry in its ownerReference apiVersion */
static const char *
res_group(int res)
{
	switch (res) {
	case KC_RES_DEPLOYMENTS: case KC_RES_STATEFULSETS: case KC_RES_DAEMONSETS:
	case KC_RES_REPLICASETS:
		return "apps";
	case KC_RES_JOBS: case KC_RES_CRONJOBS:
		return "batch";
	default:
		return NULL;
	}
}

int
kc_workloads_init(struct kc_workloads *w, const struct kc_snapshot *snap)
{
	struct kc_sa_iter x = KC_SA_ITER_INIT;
	struct kc_snap_sa sa;
	const cJSON *it;
	int err = 0;

	memset(w, 0, sizeof(*w));
	w->snap = snap;
	/* each entry's p: the account's annotations (NULL: none) */
	while (kc_snapshot_next_sa(snap, &x, &sa))
		kc_nsindex_add(&w->sas, sa.ns, sa.name, sa.annotations);
	cJSON_ArrayForEach(it, snap->items[KC_RES_PODS]) {
		const char *san = kc_json_str0(kc_json_get(it, "spec"), "serviceAccountName");

		kc_nsindex_add(&w->pods_by_sa, kc_json_str0(kc_json_get(it, "metadata"), "namespace"),
		    san[0] ? san : "default", it);
	}
	for (int r = 0; r < KC_RES_COUNT; r++) {
		if (res_group(r) == NULL)
			continue;
		cJSON_ArrayForEach(it, snap->items[r]) {
			const cJSON *m = kc_json_get(it, "metadata");

			kc_nsindex_add(&w->owners[r], kc_json_str0(m, "namespace"), kc_json_str0(m, "name"), it);
		}
		kc_nsindex_sort(&w->owners[r]);
		err |= w->owners[r].err;
	}
	kc_nsindex_sort(&w->sas);
	kc_nsindex_sort(&w->pods_by_sa);
	if (err || w->sas.err || w->pods_by_sa.err) {
		kc_workloads_free(w);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	return 0;
}

void
kc_workloads_free(struct kc_workloads *w)
{
	kc_nsindex_free(&w->sas);
	kc_nsindex_free(&w->pods_by_sa);
	for (int r = 0; r < KC_RES_COUNT; r++)
		kc_nsindex_free(&w->owners[r]);
}

static int
add_entry(cJSON *arr, const char *provider, const char *source, const char *value, const char *text)
{
	cJSON *e, *x;

	/* the same text once (several pods of one account share audiences) */
	cJSON_ArrayForEach(x, arr)
		if (strcmp(kc_json_str0(x, "text"), text) == 0)
			return 0;
	if ((e = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(e, "provider", provider) == NULL ||
	    cJSON_AddStringToObject(e, "source", source) == NULL ||
	    cJSON_AddStringToObject(e, "value", value) == NULL ||
	    cJSON_AddStringToObject(e, "text", text) == NULL ||
	    cJSON_AddFalseToObject(e, "evaluated") == NULL) {
		cJSON_Delete(e);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	cJSON_AddItemToArray(arr, e);
	return 0;
}

cJSON *
kc_cloud_reach_json(const struct kc_workloads *w, const char *ns, const char *name)
{
	cJSON *arr = cJSON_CreateArray();
	const struct kc_nsref *ix;
	struct kc_buf t = KC_BUF_INIT(1u << 20);
	size_t n;
	int r = 0;

	if (arr == NULL)
		return NULL;
	ix = kc_nsindex_slice(&w->sas, ns, name, &n);
	if (n > 0) {
		/* the last object of that name: a list holds one */
		const cJSON *ann = ix[n - 1].p;

		for (size_t a = 0; a < sizeof(cloud_ann) / sizeof(cloud_ann[0]) && r == 0; a++) {
			const char *v = kc_json_str(ann, cloud_ann[a].annotation);

			if (v == NULL || v[0] == '\0')
				continue;
			kc_buf_reset(&t);
			if ((r = kc_buf_addf(&t, "%s %s", cloud_ann[a].label, v)) == 0)
				r = add_entry(arr, cloud_ann[a].provider, cloud_ann[a].annotation, v, kc_buf_str(&t));
		}
	}
	ix = kc_nsindex_slice(&w->pods_by_sa, ns, name, &n);
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *pod = kc_json_str0(kc_json_get(ix[i].p, "metadata"), "name");
		const cJSON *vol, *src;

		cJSON_ArrayForEach(vol, kc_json_get(kc_json_get(ix[i].p, "spec"), "volumes"))
			cJSON_ArrayForEach(src, kc_json_get(kc_json_get(vol, "projected"), "sources")) {
				const char *aud = kc_json_str(kc_json_get(src, "serviceAccountToken"), "audience");
				struct kc_buf s = KC_BUF_INIT(1u << 20);

				if (aud == NULL || aud[0] == '\0' || r != 0)
					continue;
				kc_buf_reset(&t);
				if ((r = kc_buf_addf(&t, "token audience %s (pod %s)", aud, pod)) == 0 &&
				    (r = kc_buf_addf(&s, "pod %s", pod)) == 0)
					r = add_entry(arr, "token", kc_buf_str(&s), aud, kc_buf_str(&t));
				kc_buf_free(&s);
			}
	}
	kc_buf_free(&t);
	if (r != 0) {
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

/* the controller ownerReference, else the first; NULL when none */
static const cJSON *
owner_ref(const cJSON *obj)
{
	const cJSON *refs = kc_json_get(kc_json_get(obj, "metadata"), "ownerReferences"), *o;

	cJSON_ArrayForEach(o, refs)
		if (cJSON_IsTrue(kc_json_get(o, "controller")))
			return o;
	return cJSON_IsArray(refs) ? refs->child : NULL;
}

/* "apps" of "apps/v1", "" of "v1" */
static int
group_is(const char *api_version, const char *group)
{
	const char *slash = strchr(api_version, '/');
	size_t gl = strlen(group);

	if (slash == NULL)
		return gl == 0;
	return (size_t)(slash - api_version) == gl && strncmp(api_version, group, gl) == 0;
}

int
kc_owner_chain(const struct kc_workloads *w, const cJSON *pod, struct kc_buf *out)
{
	const cJSON *m = kc_json_get(pod, "metadata"), *cur = pod, *seen[CHAIN_MAX];
	const char *ns = kc_json_str0(m, "namespace");
	size_t nseen = 0;
	int r;

	if ((r = kc_buf_addf(out, "Pod/%s", kc_json_str0(m, "name"))) != 0)
		return r;
	for (;;) {
		const cJSON *ref = owner_ref(cur), *next = NULL;
		const char *kind, *name, *uid, *av;
		int res = -1;

		if (ref == NULL)
			return 0;
		kind = kc_json_str0(ref, "kind");
		name = kc_json_str0(ref, "name");
		uid = kc_json_str0(ref, "uid");
		av = kc_json_str0(ref, "apiVersion");
		for (int k = 0; k < KC_RES_COUNT; k++)
			if (res_group(k) != NULL && kc_snap_resources[k].kind != NULL &&
			    strcmp(kc_snap_resources[k].kind, kind) == 0 && group_is(av, res_group(k)))
				res = k;
		if (res < 0) {
			const char *slash = strchr(av, '/');

			/* a kind outside the workload lists: Kind.group/name */
			if (slash != NULL)
				return kc_buf_addf(out, " <- %s.%.*s/%s (kind not collected)", kind,
				    (int)(slash - av), av, name);
			return kc_buf_addf(out, " <- %s/%s (kind not collected)", kind, name);
		}
		if ((r = kc_buf_addf(out, " <- %s/%s", kind, name)) != 0)
			return r;
		if (!w->snap->present[res])
			return kc_buf_adds(out, " (not collected)");
		{
			size_t n;
			const struct kc_nsref *ix = kc_nsindex_slice(&w->owners[res], ns, name, &n);

			for (size_t i = 0; i < n; i++) {
				const char *ouid = kc_json_str0(kc_json_get(ix[i].p, "metadata"), "uid");

				if (uid[0] == '\0' || strcmp(uid, ouid) == 0)
					next = ix[i].p;
			}
		}
		if (next == NULL)
			return kc_buf_adds(out, " (not found)");
		for (size_t i = 0; i < nseen; i++)
			if (seen[i] == next)
				return kc_buf_adds(out, " (cycle)");
		if (nseen == CHAIN_MAX)
			return kc_buf_adds(out, " (chain too long)");
		seen[nseen++] = next;
		cur = next;
	}
}
