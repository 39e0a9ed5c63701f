#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/discovery.h"
#include "collector/snapshot.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/jarena.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strset.h"

/* A pod's status in a compact snapshot: only its container statuses (the
 * pod-log step reads their restart counts to fetch previous logs). */
static void
keep_container_statuses(cJSON *pod)
{
	static const char *const keep[] = { "initContainerStatuses", "containerStatuses",
		"ephemeralContainerStatuses" };
	cJSON *old = kc_json_detach(pod, "status"), *st;

	if (old == NULL)
		return;
	if ((st = cJSON_CreateObject()) != NULL) {
		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
			cJSON *a = kc_json_detach(old, keep[k]);

			if (a != NULL)
				cJSON_AddItemToObject(st, keep[k], a);
		}
		cJSON_AddItemToObject(pod, "status", st);
	}
	cJSON_Delete(old);
}

#define SNAP_PAGE_MAX (256u << 20)

/* ---- KC_SNAP_MODEL: each item reduced to the paths its readers look up ---- */

#define PATH_MAX_SEGS 4
struct keep_path {
	const char *seg[PATH_MAX_SEGS + 1];	/* NULL-terminated */
};

/* a pod until kc_snapshot_hydrate_pods: what the selection and the
 * indexes by account read (labels for --agent-selector) */
static const struct keep_path pod_keep[] = {
	{ { "metadata", "name" } }, { { "metadata", "namespace" } }, { { "metadata", "labels" } },
	{ { "spec", "serviceAccountName" } }, { { "spec", "serviceAccount" } }, { { NULL } },
};
/* a pod of a selected account (kc_snapshot_hydrate_pods at the model
 * levels): what its readers in collect read (the pod logs: name,
 * namespace, node, containers' names, their statuses' restart counts;
 * the owner chains: uid, ownerReferences; the cloud reach: projected
 * token audiences in volumes; the indexes by account; the selection's
 * labels); each container further reduced to its name, each container
 * status to its name and restart count (container_names) */
static const struct keep_path pod_hydrated_keep[] = {
	{ { "metadata", "name" } }, { { "metadata", "namespace" } }, { { "metadata", "uid" } },
	{ { "metadata", "labels" } }, { { "metadata", "ownerReferences" } },
	{ { "spec", "serviceAccountName" } }, { { "spec", "serviceAccount" } }, { { "spec", "nodeName" } },
	{ { "spec", "initContainers" } }, { { "spec", "containers" } }, { { "spec", "ephemeralContainers" } },
	{ { "spec", "volumes" } }, { { "status" } }, { { NULL } },
};
/* a workload owner: the owner chains (rbac/workload.c) and the Agent
 * links (rbac/agentcr.c) */
static const struct keep_path owner_keep[] = {
	{ { "metadata", "name" } }, { { "metadata", "namespace" } }, { { "metadata", "uid" } },
	{ { "metadata", "ownerReferences" } }, { { "spec", "template", "spec", "serviceAccountName" } },
	{ { "spec", "template", "spec", "serviceAccount" } }, { { NULL } },
};
/* an RBAC object in collect's model: what the evaluator (name, namespace,
 * labels, rules, subjects, roleRef, aggregationRule), the findings'
 * bootstrap mark (labels) and the drift of aggregated roles (rules) read;
 * uid, resourceVersion, creationTimestamp, annotations (a kubectl apply's
 * last-applied-configuration is a second copy of the object) go: the
 * exports and the bundle's pages are written from the stored pages, not
 * from the model */
static const struct keep_path rbac_model_keep[] = {
	{ { "metadata", "name" } }, { { "metadata", "namespace" } }, { { "metadata", "labels" } },
	{ { "rules" } }, { { "subjects" } }, { { "roleRef" } }, { { "aggregationRule" } }, { { NULL } },
};
/* a service account in collect's model: its name and namespace (every
 * reader looks one up by them) and the annotations the cloud reach reads
 * (rbac/workload.c, kc_cloud_annotation: test_snapshot_model_rbac_and_accounts
 * fails when the two lists part) */
static const struct keep_path sa_model_keep[] = {
	{ { "metadata", "name" } }, { { "metadata", "namespace" } },
	{ { "metadata", "annotations", "eks.amazonaws.com/role-arn" } },
	{ { "metadata", "annotations", "iam.gke.io/gcp-service-account" } },
	{ { "metadata", "annotations", "azure.workload.identity/client-id" } }, { { NULL } },
};
/* secrets, configmaps, persistentvolumeclaims: names only */
static const struct keep_path name_keep[] = {
	{ { "metadata", "name" } }, { { "metadata", "namespace" } }, { { NULL } },
};

/* diff (rbac/diff.c): a POST pod's account and creation time (stale
 * pods), a secret's name (secrets reachable), a namespace's name; it
 * reads no owner */
static const struct keep_path diff_pod_keep[] = {
	{ { "metadata", "name" } }, { { "metadata", "namespace" } }, { { "metadata", "creationTimestamp" } },
	{ { "spec", "serviceAccountName" } }, { { NULL } },
};

/* diff: of an RBAC object what the evaluator, the grants' bootstrap mark
 * (labels), "changed by" (managedFields, reduced by keep_changed_by) and
 * the object changes (rules, subjects, roleRef, aggregationRule, labels;
 * uid and resourceVersion to match and judge) read; annotations,
 * creationTimestamp and the rest of metadata go */
static const struct keep_path diff_rbac_keep[] = {
	{ { "metadata", "name" } }, { { "metadata", "namespace" } }, { { "metadata", "uid" } },
	{ { "metadata", "resourceVersion" } }, { { "metadata", "labels" } }, { { "metadata", "managedFields" } },
	{ { "rules" } }, { { "subjects" } }, { { "roleRef" } }, { { "aggregationRule" } }, { { NULL } },
};
/* PRE's: the same but managedFields, which diff reads of POST's objects
 * only ("changed by" names who wrote the object as it is after; an object
 * gone has no changes): five nodes of 64 bytes an object, 17 MiB at 150k */
static const struct keep_path diff_rbac_pre_keep[] = {
	{ { "metadata", "name" } }, { { "metadata", "namespace" } }, { { "metadata", "uid" } },
	{ { "metadata", "resourceVersion" } }, { { "metadata", "labels" } },
	{ { "rules" } }, { { "subjects" } }, { { "roleRef" } }, { { "aggregationRule" } }, { { NULL } },
};

/* no item at all: a resource the level's reader never looks at (the
 * pages are still listed, so present[] says it was collected) */
static const struct keep_path drop_all[] = { { { NULL } } };
/* no item either, but each item's namespace and name in names[] (the
 * model's secrets and namespaces, struct kc_snapshot); a page reduced at
 * such a level keeps what name_keep keeps */
static const struct keep_path names_only[] = { { { NULL } } };
/* no item either, but each one a record in rbac[] (the model's RBAC
 * objects, struct kc_snap_rbac); a page reduced at such a level keeps
 * what rbac_model_keep keeps */
static const struct keep_path rbac_records[] = { { { NULL } } };
/* the same for service accounts, in sas (sa_model_keep's members) */
static const struct keep_path sa_records[] = { { { NULL } } };

static const struct keep_path *
diff_paths(int level, int res)
{
	switch (res) {
	case KC_RES_PODS:
		return level == KC_SNAP_DIFF_PRE ? drop_all : diff_pod_keep;
	case KC_RES_SECRETS:
		return level == KC_SNAP_DIFF_POST ? drop_all : name_keep;
	case KC_RES_NAMESPACES:		/* the list of namespaces (collect_namespaces) */
		return name_keep;
	case KC_RES_CLUSTERROLES: case KC_RES_CLUSTERROLEBINDINGS: case KC_RES_ROLES: case KC_RES_ROLEBINDINGS:
		return level == KC_SNAP_DIFF_PRE ? diff_rbac_pre_keep : diff_rbac_keep;
	case KC_RES_SERVICEACCOUNTS: case KC_RES_NETWORKPOLICIES: case KC_RES_CONFIGMAPS: case KC_RES_PVCS:
	case KC_RES_DEPLOYMENTS: case KC_RES_STATEFULSETS: case KC_RES_DAEMONSETS:
	case KC_RES_REPLICASETS: case KC_RES_JOBS: case KC_RES_CRONJOBS:
		return drop_all;
	default:
		return NULL;
	}
}

static int
is_diff(int level)
{
	return level == KC_SNAP_DIFF || level == KC_SNAP_DIFF_PRE || level == KC_SNAP_DIFF_POST;
}

static const struct keep_path *
model_paths(int res)
{
	switch (res) {
	case KC_RES_PODS:
		return pod_keep;
	case KC_RES_SECRETS:		/* the secret index (rbac/secreach.c) */
		return names_only;
	case KC_RES_CONFIGMAPS: case KC_RES_PVCS: case KC_RES_NETWORKPOLICIES:
		/* nothing in collect's analysis reads them (the who-can section
		 * names resources, not objects): present[] says they were
		 * listed; 20,000 configmaps were 5 MiB at 150k */
		return drop_all;
	case KC_RES_SERVICEACCOUNTS:
		return sa_records;	/* sa_model_keep's members */
	case KC_RES_CLUSTERROLES: case KC_RES_CLUSTERROLEBINDINGS: case KC_RES_ROLES: case KC_RES_ROLEBINDINGS:
		/* rbac_model_keep's members, as records */
		return rbac_records;
	case KC_RES_NAMESPACES:
		/* every reader of the model's namespaces reads the name only
		 * (kc_rbac_all_namespaces): 10 MiB at 10,000 whole, 4 MiB as
		 * nodes of the name */
		return names_only;
	case KC_RES_DEPLOYMENTS: case KC_RES_STATEFULSETS: case KC_RES_DAEMONSETS:
	case KC_RES_REPLICASETS: case KC_RES_JOBS: case KC_RES_CRONJOBS:
		return owner_keep;
	default:
		return NULL;
	}
}

/* Move one path of src into dst.  Each step takes what kc_json_get takes
 * (the last of duplicate keys); a step that is not an object is moved
 * whole, so a lookup along the path sees in dst what it saw in src. */
static int
keep_one(cJSON *src, cJSON *dst, const struct keep_path *kp)
{
	for (size_t i = 0; kp->seg[i] != NULL; i++) {
		const char *k = kp->seg[i];
		cJSON *v = kc_json_get_mut(src, k), *d = kc_json_get_mut(dst, k);

		if (v == NULL)
			return 0;
		if (kp->seg[i + 1] == NULL || !cJSON_IsObject(v)) {
			if (d != NULL)
				return 0;	/* moved whole by an earlier path */
			cJSON_DetachItemViaPointer(src, v);
			cJSON_AddItemToObjectCS(dst, k, v);
			return 0;
		}
		if (d == NULL) {
			if ((d = cJSON_CreateObject()) == NULL)
				return KC_ERR_NOMEM;
			cJSON_AddItemToObjectCS(dst, k, d);
		} else if (!cJSON_IsObject(d)) {
			return 0;
		}
		src = v;
		dst = d;
	}
	return 0;
}

/* Each object of the three lists of pod's member at reduced to keys (each
 * the member kc_json_get reads; keys static, NULL-terminated); 0, or
 * KC_ERR_NOMEM */
static int
reduce_lists(cJSON *pod, const char *at, const char *const lists[3], const char *const *keys)
{
	cJSON *parent = kc_json_get_mut(pod, at);

	for (size_t k = 0; k < 3; k++) {
		cJSON *c = kc_json_get_mut(parent, lists[k]), *e, *next;

		if (!cJSON_IsArray(c))
			continue;
		for (e = c->child; e != NULL; e = next) {
			cJSON *o, *n;

			next = e->next;
			if (!cJSON_IsObject(e))
				continue;
			if ((o = cJSON_CreateObject()) == NULL)
				return KC_ERR_NOMEM;
			for (size_t i = 0; keys[i] != NULL; i++)
				if ((n = kc_json_detach(e, keys[i])) != NULL)
					cJSON_AddItemToObjectCS(o, keys[i], n);
			cJSON_ReplaceItemViaPointer(c, e, o);
		}
	}
	return 0;
}

/* Each object of pod's container lists reduced to its name: all the pod
 * logs read of one (a container's image, env, mounts and the rest are a
 * pod's largest part); each of its container statuses to its name and
 * restart count: all they read of one (its state, IDs, image and times are
 * the rest, and unlike the rest of a pod no two pods share them); 0, or
 * KC_ERR_NOMEM */
static int
container_names(cJSON *pod)
{
	static const char *const containers[] = { "initContainers", "containers", "ephemeralContainers" };
	static const char *const statuses[] = { "initContainerStatuses", "containerStatuses",
		"ephemeralContainerStatuses" };
	static const char *const name[] = { "name", NULL }, *const counts[] = { "name", "restartCount", NULL };
	int r = reduce_lists(pod, "spec", containers, name);

	return r != 0 ? r : reduce_lists(pod, "status", statuses, counts);
}

/* item reduced to paths (a new object; item is deleted), or item itself
 * when it is not an object; NULL when out of memory */
static cJSON *
model_item(cJSON *item, const struct keep_path *paths)
{
	cJSON *out;

	if (!cJSON_IsObject(item))
		return item;
	if ((out = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(item);
		return NULL;
	}
	for (const struct keep_path *kp = paths; kp->seg[0] != NULL; kp++)
		if (keep_one(item, out, kp) != 0) {
			cJSON_Delete(out);
			out = NULL;
			break;
		}
	cJSON_Delete(item);
	return out;
}

/* The paths an item of resource res keeps at level, NULL when it is kept
 * whole (less what compact_item drops) */
static const struct keep_path *
level_paths(int level, int res)
{
	if (level == KC_SNAP_MODEL || level == KC_SNAP_MODEL_PODS)
		return model_paths(res);
	if (is_diff(level))
		return diff_paths(level, res);
	return NULL;
}

/* The level whose compact_item an item kept whole at level gets. */
static int
base_level(int level)
{
	return level == KC_SNAP_MODEL || level == KC_SNAP_MODEL_PODS ? KC_SNAP_COMPACT :
	    is_diff(level) ? KC_SNAP_KEEP_RBAC : level;
}

/* Of an RBAC object's managedFields, what diff's "changed by" reads: each
 * entry's manager, operation and time (every copy of a repeated key, so a
 * lookup still takes the last); fieldsV1, most of the entry, goes. */
static void
keep_changed_by(cJSON *it)
{
	cJSON *mf = kc_json_get_mut(kc_json_get_mut(it, "metadata"), "managedFields"), *e, *c, *next;

	if (!cJSON_IsArray(mf))
		return;
	cJSON_ArrayForEach(e, mf) {
		if (!cJSON_IsObject(e))
			continue;
		for (c = e->child; c != NULL; c = next) {
			next = c->next;
			if (c->string == NULL || (strcmp(c->string, "manager") != 0 &&
			    strcmp(c->string, "operation") != 0 && strcmp(c->string, "time") != 0))
				cJSON_Delete(cJSON_DetachItemViaPointer(e, c));
		}
	}
}

/* What KC_SNAP_COMPACT keeps of an item of resource i (in place). */
static void
compact_item(cJSON *it, int i, int level)
{
	if (level == KC_SNAP_COMPACT || i > KC_RES_ROLEBINDINGS)
		kc_json_delete(kc_json_get_mut(it, "metadata"), "managedFields");
	else if (level == KC_SNAP_KEEP_RBAC)
		keep_changed_by(it);
	if (i == KC_RES_PODS)
		keep_container_statuses(it);
	else if (i >= KC_RES_DEPLOYMENTS)
		kc_json_delete(it, "status");
}

const struct kc_snap_resource_def kc_snap_resources[KC_RES_COUNT] = {
	[KC_RES_CLUSTERROLES] = { "clusterroles", "/apis/rbac.authorization.k8s.io/v1/clusterroles", 0 },
	[KC_RES_CLUSTERROLEBINDINGS] = { "clusterrolebindings", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", 0 },
	[KC_RES_ROLES] = { "roles", "/apis/rbac.authorization.k8s.io/v1/roles", 0 },
	[KC_RES_ROLEBINDINGS] = { "rolebindings", "/apis/rbac.authorization.k8s.io/v1/rolebindings", 0 },
	[KC_RES_NAMESPACES] = { "namespaces", "/api/v1/namespaces", 0 },
	[KC_RES_SERVICEACCOUNTS] = { "serviceaccounts", "/api/v1/serviceaccounts", 0 },
	[KC_RES_PODS] = { "pods", "/api/v1/pods", 0 },
	[KC_RES_NETWORKPOLICIES] = { "networkpolicies", "/apis/networking.k8s.io/v1/networkpolicies", 0 },
	[KC_RES_SECRETS] = { "secrets", "/api/v1/secrets", 1 },
	[KC_RES_CONFIGMAPS] = { "configmaps", "/api/v1/configmaps", 1 },
	[KC_RES_PVCS] = { "persistentvolumeclaims", "/api/v1/persistentvolumeclaims", 1 },
	[KC_RES_DEPLOYMENTS] = { "deployments", "/apis/apps/v1/deployments", 0, NULL, "Deployment" },
	[KC_RES_STATEFULSETS] = { "statefulsets", "/apis/apps/v1/statefulsets", 0, NULL, "StatefulSet" },
	[KC_RES_DAEMONSETS] = { "daemonsets", "/apis/apps/v1/daemonsets", 0, NULL, "DaemonSet" },
	[KC_RES_REPLICASETS] = { "replicasets", "/apis/apps/v1/replicasets", 0, NULL, "ReplicaSet" },
	[KC_RES_JOBS] = { "jobs", "/apis/batch/v1/jobs", 0, NULL, "Job" },
	[KC_RES_CRONJOBS] = { "cronjobs", "/apis/batch/v1/cronjobs", 0, "/apis/batch/v1beta1/cronjobs", "CronJob" },
};

struct dir_ctx {
	const char *dir;
};

static char *
dir_get(void *vctx, const char *rel, size_t *len)
{
	struct dir_ctx *ctx = vctx;
	struct kc_buf b = KC_BUF_INIT(SNAP_PAGE_MAX);
	char *path = kc_path_join(ctx->dir, rel);

	if (path == NULL || kc_read_file(path, SNAP_PAGE_MAX, &b) != 0) {
		free(path);
		kc_buf_free(&b);
		return NULL;
	}
	free(path);
	return kc_buf_take(&b, len);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
dir_list(void *vctx, const char *prefix, char ***names, size_t *n)
{
	struct dir_ctx *ctx = vctx;
	char *path = kc_path_join(ctx->dir, prefix);
	char **v = NULL;
	size_t cap = 0, cnt = 0;
	struct dirent *de;
	DIR *d;

	*names = NULL;
	*n = 0;
	if (path == NULL)
		return KC_ERR_NOMEM;
	d = opendir(path);
	if (d == NULL) {
		/* a missing folder: a list not collected; any other failure
		 * (EACCES, EMFILE, a file in the folder's place) is an error,
		 * never taken for "not collected" */
		int e = errno, r = e == ENOENT ? 0 : kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(e));

		free(path);
		return r;
	}
	free(path);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "page-", 5) != 0)
			continue;
		/* out of memory is an error, never a shorter list of pages */
		if (KC_GROW(v, cap, cnt + 1) != 0 || asprintf(&v[cnt], "%s/%s", prefix, de->d_name) < 0) {
			closedir(d);
			while (cnt > 0)
				free(v[--cnt]);
			free(v);
			return KC_ERR_NOMEM;
		}
		cnt++;
	}
	closedir(d);
	if (cnt > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
}

static int
is_model(int level)
{
	return level == KC_SNAP_MODEL || level == KC_SNAP_MODEL_PODS;
}

static int
is_owner(int res)
{
	return res >= KC_RES_DEPLOYMENTS && res <= KC_RES_CRONJOBS;
}

/* Every workload owner of dir's pages (owner_keep) in a namespace of nss,
 * in the pages' order; only deployments when deployments_only.  The owner
 * chains (rbac/workload.c) look owners up in their pod's namespace, the
 * Agent links (rbac/agentcr.c) deployments in their Agent's. */
static int
owners_pass(struct kc_snapshot *snap, const char *dir, const struct kc_strset *nss, int deployments_only)
{
	for (int i = KC_RES_DEPLOYMENTS; i <= KC_RES_CRONJOBS; i++) {
		struct kc_snap_pages pages;
		const cJSON *items;
		cJSON *keep;
		int r, err = 0;

		if (deployments_only && i != KC_RES_DEPLOYMENTS)
			continue;
		if ((keep = cJSON_CreateArray()) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		if (nss->n == 0) {
			/* no namespace: nothing to keep, so the pages are not
			 * read (at 150k the replicasets' and deployments' are
			 * 100 MB; the lists parsed each as it arrived) */
			cJSON_Delete(snap->items[i]);
			snap->items[i] = keep;
			continue;
		}
		if ((r = kc_snap_pages_open(&pages, dir, (enum kc_snap_res)i)) != 0) {
			cJSON_Delete(keep);
			return r;
		}
		while (r == 0 && (items = kc_snap_pages_next(&pages, &err)) != NULL) {
			cJSON *it = items->child;

			while (it != NULL && r == 0) {
				cJSON *next = it->next;

				if (kc_strset_has(nss, kc_json_str0(kc_json_get(it, "metadata"), "namespace"))) {
					cJSON_DetachItemViaPointer((cJSON *)items, it);
					if ((it = model_item(it, owner_keep)) == NULL ||
					    (it = kc_jarena_take(snap->arena, it)) == NULL)
						r = kc_err_set(KC_ERR_NOMEM, "out of memory");
					else
						cJSON_AddItemToArray(keep, it);
				}
				it = next;
			}
		}
		kc_snap_pages_close(&pages);
		if (r == 0)
			r = err;
		if (r != 0) {
			cJSON_Delete(keep);
			return r;
		}
		cJSON_Delete(snap->items[i]);
		snap->items[i] = keep;
	}
	return 0;
}

/* The namespaces of the Agent custom resources (rbac/agentcr.c links an
 * Agent to a deployment of its own namespace), added to nss. */
static int
agent_namespaces(const struct kc_snapshot *snap, struct kc_strset *nss)
{
	const cJSON *it;
	int r = 0;

	cJSON_ArrayForEach(it, snap->agent_crs)
		if ((r = kc_strset_add(nss, kc_json_str0(kc_json_get(it, "metadata"), "namespace"))) != 0)
			break;
	return r;
}

/* *v (n elements of size bytes, grown by doubling) cut to n; left as it
 * is when realloc cannot (it is only room) */
static void
fit(void **v, size_t n, size_t size)
{
	void *p;

	if (*v != NULL && n > 0 && (p = realloc(*v, n * size)) != NULL)
		*v = p;
}

/* Each of items' namespace and name appended to snap->names[res], the
 * strings copied into snap->arena; 0 or KC_ERR_NOMEM (with kc_err_set). */
static int
add_names(struct kc_snapshot *snap, int res, const cJSON *items, size_t *cap)
{
	const cJSON *it;

	if (!cJSON_IsArray(items))
		return 0;	/* as the loader: a page without an items array adds none */
	cJSON_ArrayForEach(it, items) {
		const cJSON *m = kc_json_get(it, "metadata");
		struct kc_snap_name *v;

		if (KC_GROW(snap->names[res], *cap, snap->nnames[res] + 1) != 0)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		v = &snap->names[res][snap->nnames[res]];
		if ((v->ns = kc_jarena_strdup(snap->arena, kc_json_str0(m, "namespace"))) == NULL ||
		    (v->name = kc_jarena_strdup(snap->arena, kc_json_str0(m, "name"))) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		snap->nnames[res]++;
	}
	return 0;
}

/* m's member key detached and copied into snap's arena (equal lists
 * shared), or NULL when m has none: the node kc_json_get reads; 0 or
 * KC_ERR_NOMEM (with kc_err_set) */
static int
take_member(struct kc_snapshot *snap, cJSON *m, const char *key, const cJSON **out)
{
	cJSON *v = kc_json_get_mut(m, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	cJSON_DetachItemViaPointer(m, v);
	if ((v = kc_jarena_take_member(snap->arena, v)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (!kc_jarena_owns(v))
		cJSON_AddItemToArray(snap->heap, v);	/* the arena had no room: owned there */
	*out = v;
	return 0;
}

static int
str_member(struct kc_snapshot *snap, const cJSON *o, const char *key, const char **out)
{
	if ((*out = kc_jarena_strdup(snap->arena, kc_json_str0(o, key))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

/* 0 when items is a page's items array to make records of (snap->heap
 * there for what the arena has no room for), 1 when it is no array (a
 * page without one adds none, as the loader), or KC_ERR_NOMEM */
static int
records_begin(struct kc_snapshot *snap, const cJSON *items)
{
	if (!cJSON_IsArray(items))
		return 1;
	if (snap->heap == NULL && (snap->heap = cJSON_CreateArray()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

/* Each of items (a page's, whose nodes it takes) a record appended to
 * snap->rbac[res]: what the evaluator reads of an RBAC object, as it read
 * the items (rbac/eval.c); every item is one, an item that is not an
 * object included (its members missing).  0 or KC_ERR_NOMEM. */
static int
add_rbac(struct kc_snapshot *snap, int res, cJSON *items, size_t *cap, size_t *subjects_cap)
{
	cJSON *it;
	int r = 0;

	if ((r = records_begin(snap, items)) != 0)
		return r > 0 ? 0 : r;
	for (it = items->child; it != NULL && r == 0; it = it->next) {
		cJSON *md = kc_json_get_mut(it, "metadata");
		const cJSON *ref = kc_json_get(it, "roleRef"), *sj;
		struct kc_snap_rbac *v;

		if (KC_GROW(snap->rbac[res], *cap, snap->nrbac[res] + 1) != 0)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		v = &snap->rbac[res][snap->nrbac[res]];
		memset(v, 0, sizeof(*v));
		if ((r = str_member(snap, md, "namespace", &v->ns)) != 0 ||
		    (r = str_member(snap, md, "name", &v->name)) != 0)
			break;
		if (cJSON_IsObject(ref) && ((r = str_member(snap, ref, "kind", &v->role_kind)) != 0 ||
		    (r = str_member(snap, ref, "name", &v->role_name)) != 0))
			break;
		/* the evaluator counts a binding's subjects as the members of
		 * whatever subjects is (rbac/eval.c binding_add) */
		v->subjects = snap->nsubjects;
		cJSON_ArrayForEach(sj, kc_json_get(it, "subjects")) {
			struct kc_snap_subject *su;

			if (KC_GROW(snap->subjects, *subjects_cap, snap->nsubjects + 1) != 0)
				return kc_err_set(KC_ERR_NOMEM, "out of memory");
			su = &snap->subjects[snap->nsubjects];
			if ((r = str_member(snap, sj, "kind", &su->kind)) != 0 ||
			    (r = str_member(snap, sj, "name", &su->name)) != 0 ||
			    (r = str_member(snap, sj, "namespace", &su->ns)) != 0)
				break;
			snap->nsubjects++;
			v->nsubjects++;
		}
		if (r == 0)
			r = take_member(snap, md, "labels", &v->labels);
		if (r == 0)
			r = take_member(snap, it, "rules", &v->rules);
		if (r == 0)
			r = take_member(snap, it, "aggregationRule", &v->aggregation);
		if (r == 0)
			snap->nrbac[res]++;
	}
	return r;
}

/* Each of items (a page's, whose nodes it takes) reduced as sa_model_keep
 * reduces it and appended to snap->sas; 0 or KC_ERR_NOMEM. */
static int
add_sas(struct kc_snapshot *snap, cJSON *items, size_t *cap)
{
	cJSON *it;
	int r = 0;

	if ((r = records_begin(snap, items)) != 0)
		return r > 0 ? 0 : r;
	while (r == 0 && (it = cJSON_DetachItemFromArray(items, 0)) != NULL) {
		struct kc_snap_sa *v;
		cJSON *md;

		if ((it = model_item(it, sa_model_keep)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		if (KC_GROW(snap->sas, *cap, snap->nsas + 1) != 0) {
			cJSON_Delete(it);
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		}
		v = &snap->sas[snap->nsas];
		memset(v, 0, sizeof(*v));
		md = kc_json_get_mut(it, "metadata");
		if ((r = str_member(snap, md, "namespace", &v->ns)) == 0 &&
		    (r = str_member(snap, md, "name", &v->name)) == 0 &&
		    (r = take_member(snap, md, "annotations", &v->annotations)) == 0)
			snap->nsas++;
		cJSON_Delete(it);
	}
	return r;
}

int
kc_snapshot_next_sa(const struct kc_snapshot *snap, struct kc_sa_iter *x, struct kc_snap_sa *out)
{
	if (!x->started) {
		x->started = 1;
		x->it = snap->items[KC_RES_SERVICEACCOUNTS] != NULL ? snap->items[KC_RES_SERVICEACCOUNTS]->child : NULL;
	} else if (x->it != NULL) {
		x->it = x->it->next;
	}
	if (x->it != NULL) {
		const cJSON *m = kc_json_get(x->it, "metadata");

		out->ns = kc_json_str0(m, "namespace");
		out->name = kc_json_str0(m, "name");
		out->annotations = kc_json_get(m, "annotations");
		return 1;
	}
	if (x->i < snap->nsas) {
		*out = snap->sas[x->i++];
		return 1;
	}
	return 0;
}

/* compact: a KC_SNAP_* level (snapshot.h) */
static int
snapshot_load(kc_member_get_fn get, kc_member_list_fn list, void *ctx, struct kc_snapshot *snap, int compact)
{
	/* each page parsed into it, its kept items copied out, then reset:
	 * no malloc and free per node of what is dropped; NULL: the heap */
	struct kc_jarena *scratch;
	size_t subjects_cap = 0;
	int r = 0;

	memset(snap, 0, sizeof(*snap));
	snap->level = compact;
	if ((snap->arena = kc_jarena_new()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	/* collect's model is read only: equal rules, subjects, labels and pod
	 * specs stored once (a role of each of 10,000 namespaces with the
	 * same rules: issue 11).  Not diff's: it rewrites PRE's managedFields
	 * in place (reduce_deferred_mf) */
	if (is_model(compact)) {
		kc_jarena_share(snap->arena);
		snap->shared = 1;
	}
	scratch = kc_jarena_new();
	for (int i = 0; i < KC_RES_COUNT; i++) {
		char prefix[128], **pages = NULL;
		size_t npages = 0, names_cap = 0;

		if ((snap->items[i] = cJSON_CreateArray()) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;	/* what was made goes with the snapshot */
		}
		if ((r = kc_fmt(prefix, sizeof(prefix), "raw/%s", kc_snap_resources[i].name)) != 0)
			goto out;
		if ((r = list(ctx, prefix, &pages, &npages)) != 0)
			goto out;
		snap->present[i] = npages > 0;
		/* KC_SNAP_MODEL: no pod until kc_snapshot_hydrate_pods; the
		 * model levels read the workload owners afterwards (owners_pass) */
		/* a kind the level drops whole is not read at all: its pages
		 * were parsed by the collector as they arrived (collect's
		 * model), or are checked by verify (diff's) */
		for (size_t p = 0; p < npages && !(compact == KC_SNAP_MODEL && i == KC_RES_PODS) &&
		    !(is_model(compact) && is_owner(i)) && level_paths(compact, i) != drop_all; p++) {
			size_t len = 0;
			char *data = get(ctx, pages[p], &len);
			cJSON *doc, *items, *it;

			if (data == NULL) {
				r = kc_err_set(KC_ERR_NOTFOUND, "cannot read snapshot page '%s'", pages[p]);
				break;
			}
			doc = kc_jarena_parse(scratch, data, len);
			free(data);
			if (doc == NULL) {
				r = kc_err_set(KC_ERR_PARSE, "snapshot page '%s' is not valid JSON", pages[p]);
				break;
			}
			items = kc_json_get_mut(doc, "items");
			if (level_paths(compact, i) == names_only) {
				r = add_names(snap, i, items, &names_cap);
				items = NULL;	/* nothing of the page kept as nodes */
			} else if (level_paths(compact, i) == rbac_records) {
				r = add_rbac(snap, i, items, &names_cap, &subjects_cap);
				items = NULL;
			} else if (level_paths(compact, i) == sa_records) {
				r = add_sas(snap, items, &names_cap);
				items = NULL;
			}
			while (cJSON_IsArray(items) && (it = cJSON_DetachItemFromArray(items, 0)) != NULL) {
				if (level_paths(compact, i) == drop_all) {
					cJSON_Delete(it);
					continue;
				}
				if (level_paths(compact, i) != NULL) {
					if (level_paths(compact, i) == diff_rbac_keep)
						keep_changed_by(it);
					if ((it = model_item(it, level_paths(compact, i))) == NULL) {
						r = kc_err_set(KC_ERR_NOMEM, "out of memory");
						break;
					}
				} else if (compact != KC_SNAP_FULL) {
					compact_item(it, i, base_level(compact));
				}
				/* packed: a third of the heap's bytes for the same tree;
				 * copied out of the page's scratch arena */
				if ((it = kc_jarena_take(snap->arena, it)) == NULL) {
					r = kc_err_set(KC_ERR_NOMEM, "out of memory");
					break;
				}
				cJSON_AddItemToArray(snap->items[i], it);
			}
			cJSON_Delete(doc);
			kc_jarena_reset(scratch);	/* after the page's every node */
			if (r != 0)
				break;
		}
		for (size_t p = 0; p < npages; p++)
			free(pages[p]);
		free(pages);
		if (r != 0)
			goto out;
		/* the arrays grown by doubling, cut to what they hold (up to
		 * half of each was room: 1.5 MiB at 150k) */
		fit((void **)&snap->names[i], snap->nnames[i], sizeof(*snap->names[i]));
		fit((void **)&snap->rbac[i], snap->nrbac[i], sizeof(*snap->rbac[i]));
		if (i == KC_RES_SERVICEACCOUNTS)
			fit((void **)&snap->sas, snap->nsas, sizeof(*snap->sas));
		if (i == KC_RES_ROLEBINDINGS && snap->nsubjects > 0) {
			/* the last kind with subjects; its room is then what it holds */
			fit((void **)&snap->subjects, snap->nsubjects, sizeof(*snap->subjects));
			subjects_cap = snap->nsubjects;
		}
		kc_debug("snapshot: %s: %d objects kept, %zu names, %zu records, arena %zu KiB",
		    kc_snap_resources[i].name, cJSON_GetArraySize(snap->items[i]), snap->nnames[i],
		    snap->nrbac[i], kc_jarena_bytes(snap->arena) / 1024);
	}
	{
		/* agents defined by a custom resource (rbac/agentcr.h) */
		char **pages = NULL;
		size_t npages = 0;

		if ((snap->agent_crs = cJSON_CreateArray()) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((r = list(ctx, KC_SNAPSHOT_AGENT_CRS, &pages, &npages)) != 0)
			goto out;
		snap->agent_crs_present = npages > 0;
		for (size_t p = 0; p < npages; p++) {
			size_t len = 0;
			char *data = r == 0 ? get(ctx, pages[p], &len) : NULL;
			cJSON *doc = data ? cJSON_ParseWithLength(data, len) : NULL, *items;

			free(data);
			if (r == 0 && doc == NULL)
				r = kc_err_set(KC_ERR_PARSE, "snapshot page '%s' is missing or not valid JSON", pages[p]);
			items = kc_json_get_mut(doc, "items");
			if (cJSON_IsArray(items))
				kc_json_move_elems(snap->agent_crs, items, NULL);
			cJSON_Delete(doc);
			free(pages[p]);
		}
		free(pages);
		if (r != 0)
			goto out;
	}
	{
		/* the CRD list, when collected, decides which resources are custom */
		char **pages = NULL;
		size_t npages = 0;
		cJSON *crds = NULL;

		if ((r = list(ctx, "raw/customresourcedefinitions", &pages, &npages)) != 0)
			goto out;
		for (size_t p = 0; p < npages; p++) {
			size_t len = 0;
			char *data = get(ctx, pages[p], &len);
			cJSON *doc = data ? cJSON_ParseWithLength(data, len) : NULL, *items, *it;

			free(data);
			if (crds == NULL)
				crds = cJSON_CreateArray();
			items = kc_json_get_mut(doc, "items");
			while (crds != NULL && cJSON_IsArray(items) && (it = cJSON_DetachItemFromArray(items, 0)) != NULL)
				cJSON_AddItemToArray(crds, it);
			cJSON_Delete(doc);
			free(pages[p]);
		}
		free(pages);
		r = kc_discovery_load(get, ctx, crds, &snap->disc);
		cJSON_Delete(crds);
	}
	kc_jarena_seal(snap->arena);	/* the string table has done its work */
out:
	kc_jarena_free(scratch);
	if (r != 0)
		kc_snapshot_free(snap);
	return r;
}

int
kc_snapshot_load(kc_member_get_fn get, kc_member_list_fn list, void *ctx, struct kc_snapshot *snap)
{
	return snapshot_load(get, list, ctx, snap, KC_SNAP_FULL);
}

int
kc_snapshot_load_level(kc_member_get_fn get, kc_member_list_fn list, void *ctx, struct kc_snapshot *snap,
    int level)
{
	return snapshot_load(get, list, ctx, snap, level);
}

int
kc_snapshot_load_dir_level(const char *dir, struct kc_snapshot *snap, int level)
{
	struct dir_ctx ctx = { dir };
	struct kc_strset nss;
	int r;

	if ((r = snapshot_load(dir_get, dir_list, &ctx, snap, level)) != 0 || !is_model(level))
		return r;
	/* the model: until the selection, only the deployments the Agent
	 * links read (kc_snapshot_hydrate_pods reads the others) */
	memset(&nss, 0, sizeof(nss));
	if ((r = agent_namespaces(snap, &nss)) == 0)
		r = owners_pass(snap, dir, &nss, 1);
	kc_strset_free(&nss);
	if (r != 0)
		kc_snapshot_free(snap);
	return r;
}

int
kc_snapshot_load_dir_compact(const char *dir, struct kc_snapshot *snap)
{
	return kc_snapshot_load_dir_level(dir, snap, KC_SNAP_COMPACT);
}

int
kc_snap_pages_open(struct kc_snap_pages *it, const char *dir, enum kc_snap_res res)
{
	struct dir_ctx ctx = { dir };
	char prefix[128];
	int r;

	memset(it, 0, sizeof(*it));
	it->dir = dir;
	if ((r = kc_fmt(prefix, sizeof(prefix), "raw/%s", kc_snap_resources[res].name)) != 0)
		return r;
	if ((r = dir_list(&ctx, prefix, &it->names, &it->n)) != 0)
		return r;
	it->scratch = kc_jarena_new();	/* NULL (no memory): pages parsed on the heap */
	return 0;
}

int
kc_snap_pages_init(struct kc_snap_pages *it, const char *dir)
{
	memset(it, 0, sizeof(*it));
	it->dir = dir;
	it->scratch = kc_jarena_new();	/* NULL (no memory): pages parsed on the heap */
	return 0;
}

const cJSON *
kc_snap_pages_read(struct kc_snap_pages *it, const char *rel, int *err)
{
	struct dir_ctx ctx = { it->dir };
	size_t len = 0;
	char *data;
	const cJSON *items;

	*err = 0;
	cJSON_Delete(it->doc);
	it->doc = NULL;
	kc_jarena_reset(it->scratch);
	if ((data = dir_get(&ctx, rel, &len)) == NULL) {
		*err = kc_err_set(KC_ERR_NOTFOUND, "cannot read snapshot page '%s'", rel);
		return NULL;
	}
	it->doc = kc_jarena_parse(it->scratch, data, len);
	free(data);
	if (it->doc == NULL) {
		*err = kc_err_set(KC_ERR_PARSE, "snapshot page '%s' is not valid JSON", rel);
		return NULL;
	}
	items = kc_json_get(it->doc, "items");
	if (!cJSON_IsArray(items))
		return NULL;	/* as kc_snapshot_load: a page without items adds none */
	it->items += (size_t)cJSON_GetArraySize(items);
	return items;
}

const cJSON *
kc_snap_pages_next(struct kc_snap_pages *it, int *err)
{
	while (it->i < it->n) {
		const cJSON *items = kc_snap_pages_read(it, it->names[it->i++], err);

		if (items != NULL || *err != 0)
			return items;
	}
	cJSON_Delete(it->doc);
	it->doc = NULL;
	kc_jarena_reset(it->scratch);
	return NULL;
}

void
kc_snap_pages_close(struct kc_snap_pages *it)
{
	cJSON_Delete(it->doc);
	kc_jarena_free(it->scratch);	/* after the page that held its nodes */
	for (size_t p = 0; p < it->n; p++)
		free(it->names[p]);
	free(it->names);
	memset(it, 0, sizeof(*it));
}

int
kc_snapshot_load_dir(const char *dir, struct kc_snapshot *snap)
{
	struct dir_ctx ctx = { dir };

	return kc_snapshot_load(dir_get, dir_list, &ctx, snap);
}

void
kc_snapshot_free(struct kc_snapshot *snap)
{
	for (int i = 0; i < KC_RES_COUNT; i++) {
		cJSON_Delete(snap->items[i]);
		snap->items[i] = NULL;
		free(snap->names[i]);
		snap->names[i] = NULL;
		snap->nnames[i] = 0;
		free(snap->rbac[i]);
		snap->rbac[i] = NULL;
		snap->nrbac[i] = 0;
	}
	free(snap->rbac_ns);
	snap->rbac_ns = NULL;
	snap->nrbac_ns = 0;
	snap->rbac_released = 0;
	free(snap->subjects);
	snap->subjects = NULL;
	snap->nsubjects = 0;
	free(snap->sas);
	snap->sas = NULL;
	snap->nsas = 0;
	cJSON_Delete(snap->heap);
	snap->heap = NULL;
	kc_discovery_free(snap->disc);
	snap->disc = NULL;
	cJSON_Delete(snap->agent_crs);
	snap->agent_crs = NULL;
	kc_jarena_free(snap->arena);	/* after every tree that may hold its nodes */
	snap->arena = NULL;
}

int
kc_snapshot_has_sa(const struct kc_snapshot *snap, const char *ns, const char *name)
{
	struct kc_sa_iter x = KC_SA_ITER_INIT;
	struct kc_snap_sa sa;

	while (kc_snapshot_next_sa(snap, &x, &sa))
		if (strcmp(sa.ns, ns) == 0 && strcmp(sa.name, name) == 0)
			return 1;
	return 0;
}

/* The pods of dir's pages whose account want accepts, added to keep as
 * their readers in collect read them (pod_hydrated_keep, container_names),
 * in the pages' order, one page read at a time. */
static int
keep_wanted_pods(struct kc_snapshot *snap, const char *dir, kc_snap_want_fn want, void *ctx, cJSON *keep)
{
	struct kc_snap_pages pages;
	const cJSON *items;
	int r, err = 0;

	if ((r = kc_snap_pages_open(&pages, dir, KC_RES_PODS)) != 0)
		return r;
	while (r == 0 && (items = kc_snap_pages_next(&pages, &err)) != NULL) {
		cJSON *it = items->child;

		while (it != NULL && r == 0) {
			cJSON *next = it->next;
			const cJSON *m = kc_json_get(it, "metadata"), *spec = kc_json_get(it, "spec");
			const char *ns = kc_json_str0(m, "namespace"), *san = kc_json_str0(spec, "serviceAccountName");
			const char *alias = kc_json_str0(spec, "serviceAccount");

			/* an item that is no object counts as namespace "", account
			 * "default", as the indexes by account take it */
			if (want(ctx, ns, san[0] ? san : "default") || (alias[0] && want(ctx, ns, alias))) {
				cJSON_DetachItemViaPointer((cJSON *)items, it);
				compact_item(it, KC_RES_PODS, KC_SNAP_COMPACT);
				if ((it = model_item(it, pod_hydrated_keep)) != NULL && container_names(it) != 0) {
					cJSON_Delete(it);
					it = NULL;
				}
				if (it == NULL || (it = kc_jarena_take(snap->arena, it)) == NULL)
					r = kc_err_set(KC_ERR_NOMEM, "out of memory");
				else
					cJSON_AddItemToArray(keep, it);
			}
			it = next;
		}
	}
	kc_snap_pages_close(&pages);
	return r != 0 ? r : err;
}

int
kc_snapshot_hydrate_pods(struct kc_snapshot *snap, const char *dir, kc_snap_want_fn want, void *ctx)
{
	cJSON *keep;
	int r = 0;

	if (snap->level != KC_SNAP_MODEL && snap->level != KC_SNAP_MODEL_PODS)
		return 0;	/* whole pods already */
	if ((keep = cJSON_CreateArray()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	/* no account wanted (want NULL): no pod is kept, so the pods' pages
	 * are not read (collect --agents '': 450 MB of them at 150k) */
	if (want != NULL && (r = keep_wanted_pods(snap, dir, want, ctx, keep)) != 0) {
		cJSON_Delete(keep);
		return r;
	}
	/* the owners of the namespaces of those pods (their chains) and of
	 * the Agents (their links) */
	{
		struct kc_strset nss;
		const cJSON *it;

		memset(&nss, 0, sizeof(nss));
		cJSON_ArrayForEach(it, keep)
			if ((r = kc_strset_add(&nss, kc_json_str0(kc_json_get(it, "metadata"), "namespace"))) != 0)
				break;
		if (r == 0)
			r = agent_namespaces(snap, &nss);
		if (r == 0)
			r = owners_pass(snap, dir, &nss, 0);
		kc_strset_free(&nss);
		if (r != 0) {
			cJSON_Delete(keep);
			return r;
		}
	}
	cJSON_Delete(snap->items[KC_RES_PODS]);
	snap->items[KC_RES_PODS] = keep;
	snap->level = KC_SNAP_COMPACT;	/* hydrated: no second hydration */
	kc_jarena_seal(snap->arena);
	kc_debug("snapshot: %d pods hydrated, arena %zu KiB", cJSON_GetArraySize(keep),
	    kc_jarena_bytes(snap->arena) / 1024);
	return 0;
}

static int reduce_page(const char *rel, int level, const struct kc_snap_filter *f, struct kc_jarena *scratch,
    char **data, size_t *len);

int
kc_snapshot_reduce_page(const char *rel, int level, char **data, size_t *len)
{
	return kc_snapshot_reduce_page_want(rel, level, NULL, NULL, NULL, data, len);
}

int
kc_snapshot_reduce_page_want(const char *rel, int level, kc_snap_want_fn want, void *ctx,
    struct kc_jarena *scratch, char **data, size_t *len)
{
	const struct kc_snap_filter f = { want, NULL, ctx };

	return kc_snapshot_reduce_page_filter(rel, level, &f, scratch, data, len);
}

int
kc_snapshot_page_res(const char *rel)
{
	for (int i = 0; i < KC_RES_COUNT; i++) {
		size_t pl = strlen(kc_snap_resources[i].name);

		if (strncmp(rel, "raw/", 4) == 0 && strncmp(rel + 4, kc_snap_resources[i].name, pl) == 0 &&
		    strncmp(rel + 4 + pl, "/page-", 6) == 0 && strchr(rel + 4 + pl + 1, '/') == NULL)
			return i;
	}
	return -1;
}

int
kc_snapshot_reduce_page_filter(const char *rel, int level, const struct kc_snap_filter *f,
    struct kc_jarena *scratch, char **data, size_t *len)
{
	int r = reduce_page(rel, level, f, scratch, data, len);

	kc_jarena_reset(scratch);	/* after every tree that held its nodes */
	return r;
}

static int
reduce_page(const char *rel, int level, const struct kc_snap_filter *f, struct kc_jarena *scratch,
    char **data, size_t *len)
{
	kc_snap_want_fn want = f != NULL ? f->pods : NULL;
	kc_snap_mf_fn mf = f != NULL && level == KC_SNAP_DIFF_POST ? f->managed_fields : NULL;
	void *ctx = f != NULL ? f->ctx : NULL;
	const struct keep_path *paths = NULL;
	cJSON *doc, *items, *out, *arr, *it;
	char *text;
	int res = kc_snapshot_page_res(rel);

	if (res >= 0)
		paths = level_paths(level, res);
	if (paths == names_only)
		paths = name_keep;	/* the names the loader takes, as items */
	else if (paths == rbac_records)
		paths = rbac_model_keep;	/* what a record holds, as items */
	else if (paths == sa_records)
		paths = sa_model_keep;
	if (res != KC_RES_PODS)
		want = NULL;
	if (paths == NULL || *data == NULL)
		return 0;
	if (paths == drop_all) {
		/* a kind the level drops whole: not parsed (the loader does
		 * not read it either); an empty page in its place (a PRE's
		 * pods were 353 MB of JSON parsed for nothing at 150k) */
		static const char empty[] = "{\"items\":[]}";
		char *e = malloc(sizeof(empty));

		if (e == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		memcpy(e, empty, sizeof(empty));
		free(*data);
		*data = e;
		*len = sizeof(empty) - 1;
		return 0;
	}
	/* parsed as the loader parses it; a page that does not parse, or has
	 * no items array, is left for the loader to judge */
	if ((doc = kc_jarena_parse(scratch, *data, *len)) == NULL)
		return 0;
	items = kc_json_get_mut(doc, "items");
	if (!cJSON_IsArray(items)) {
		cJSON_Delete(doc);
		return 0;
	}
	if ((out = cJSON_CreateObject()) == NULL || (arr = cJSON_AddArrayToObject(out, "items")) == NULL)
		goto nomem;
	while ((it = cJSON_DetachItemFromArray(items, 0)) != NULL) {
		const struct keep_path *ip = paths;

		if (paths == drop_all) {
			cJSON_Delete(it);
			continue;
		}
		if (paths == diff_rbac_keep && mf != NULL) {
			/* managedFields only where the reader reads them */
			const cJSON *md = kc_json_get(it, "metadata");
			int k = mf(ctx, res, kc_json_str0(md, "uid"), kc_json_str0(md, "resourceVersion"));

			if (k < 0) {
				cJSON_Delete(it);
				cJSON_Delete(doc);
				cJSON_Delete(out);
				return k;
			}
			if (k == 0)
				ip = diff_rbac_pre_keep;
		}
		if (ip == diff_rbac_keep)
			keep_changed_by(it);
		if ((it = model_item(it, ip)) == NULL)
			goto nomem;
		if (want != NULL) {	/* as diff's stale pods read it; a non-object: "", "default" */
			const char *sa = kc_json_str0(kc_json_get(it, "spec"), "serviceAccountName");
			int w = want(ctx, kc_json_str0(kc_json_get(it, "metadata"), "namespace"),
			    sa[0] != '\0' ? sa : "default");

			if (w < 0) {
				cJSON_Delete(it);
				cJSON_Delete(doc);
				cJSON_Delete(out);
				return w;
			}
			if (w == 0) {
				cJSON_Delete(it);
				continue;
			}
		}
		cJSON_AddItemToArray(arr, it);
	}
	if ((text = cJSON_PrintUnformatted(out)) == NULL)
		goto nomem;
	cJSON_Delete(doc);
	cJSON_Delete(out);
	free(*data);
	*data = text;
	*len = strlen(text);
	return 0;
nomem:
	cJSON_Delete(doc);
	cJSON_Delete(out);
	return kc_err_set(KC_ERR_NOMEM, "out of memory");
}

static int
cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
kc_snapshot_release_rbac(struct kc_snapshot *snap)
{
	static const enum kc_snap_res from[] = { KC_RES_ROLES, KC_RES_ROLEBINDINGS };
	size_t n = 0, w = 0;
	const char **v;

	if (snap->rbac_released)
		return 0;
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++)
		n += snap->nrbac[from[i]];
	if (n > 0 && (v = kc_calloc(n, sizeof(*v))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (n == 0)
		v = NULL;
	n = 0;
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++)
		for (size_t k = 0; k < snap->nrbac[from[i]]; k++)
			if (snap->rbac[from[i]][k].ns[0] != '\0')
				v[n++] = snap->rbac[from[i]][k].ns;
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str_ptr);
	for (size_t i = 0; i < n; i++)
		if (w == 0 || strcmp(v[w - 1], v[i]) != 0)
			v[w++] = v[i];
	if (w > 0 && w < n) {
		void *pv = v;

		fit(&pv, w, sizeof(*v));
		v = pv;
	}
	snap->rbac_ns = v;
	snap->nrbac_ns = w;
	for (int i = 0; i < KC_RES_COUNT; i++) {
		free(snap->rbac[i]);
		snap->rbac[i] = NULL;
		snap->nrbac[i] = 0;
	}
	snap->rbac_released = 1;
	return 0;
}
