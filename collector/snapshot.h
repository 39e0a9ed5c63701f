/* snapshot.h - the collected objects, as the analysis reads them.
 *
 * Staging/bundle layout of what the server sent (byte for byte):
 *   raw/<resource>/page-NNNN.json   one List response per page (NNNN from 0001)
 *   raw/<resource>/status.json      derived: list status (complete, forbidden,
 *                                   error), resourceVersion, pages, items
 * with <resource> one of KC_SNAPSHOT_RESOURCES.  Secrets, configmaps and
 * persistentvolumeclaims are PartialObjectMetadataList pages (metadata only).
 * Pods and the workload lists (deployments ... cronjobs) are stored with
 * every literal env[].value and last-applied-configuration annotation
 * replaced by its SHA-256 (collector/redact.h).
 */
#ifndef KC_SNAPSHOT_H
#define KC_SNAPSHOT_H

#include <cjson/cJSON.h>

struct kc_jarena;

enum kc_snap_res {
	KC_RES_CLUSTERROLES,
	KC_RES_CLUSTERROLEBINDINGS,
	KC_RES_ROLES,
	KC_RES_ROLEBINDINGS,
	KC_RES_NAMESPACES,
	KC_RES_SERVICEACCOUNTS,
	KC_RES_PODS,
	KC_RES_NETWORKPOLICIES,
	KC_RES_SECRETS,
	KC_RES_CONFIGMAPS,
	KC_RES_PVCS,
	/* workload owners (issue 13 item 3): the owner chains of pods */
	KC_RES_DEPLOYMENTS,
	KC_RES_STATEFULSETS,
	KC_RES_DAEMONSETS,
	KC_RES_REPLICASETS,
	KC_RES_JOBS,
	KC_RES_CRONJOBS,
	KC_RES_COUNT
};

struct kc_snap_resource_def {
	const char *name;	/* folder name under raw/, e.g. "clusterroles" */
	const char *path;	/* API list path, e.g. "/apis/rbac.authorization.k8s.io/v1/clusterroles" */
	int metadata_only;	/* PartialObjectMetadataList */
	const char *fallback;	/* tried when the server answers 404 for path (an
				 * older served version, e.g. batch/v1beta1 cronjobs
				 * before Kubernetes 1.21), else NULL */
	const char *kind;	/* the kind its objects have in ownerReferences */
};

extern const struct kc_snap_resource_def kc_snap_resources[KC_RES_COUNT];

struct kc_discovery;	/* collector/discovery.h */

/* Where kagent's Agent objects are stored (collector/custom.h). */
#define KC_SNAPSHOT_AGENT_CRS "custom/kagent.dev/agents"

/* An object's metadata.namespace and metadata.name ("" when absent, as
 * kc_json_str0 reads them), for the kinds the model levels keep as names
 * only (kc_snapshot.names). */
struct kc_snap_name {
	const char *ns, *name;
};

/* A binding's subject: its kind, name and namespace ("" when absent). */
struct kc_snap_subject {
	const char *kind, *name, *ns;
};

/* An RBAC object as the model levels keep it (kc_snapshot.rbac): what the
 * evaluator reads (rbac/eval.h), read as it reads an object's members
 * (kc_json_get: the last of duplicate keys; kc_json_str0: "" for what is
 * missing or not a string), the strings and nodes in the snapshot's
 * arena. */
struct kc_snap_rbac {
	const char *ns, *name;		/* metadata's */
	const cJSON *labels;		/* metadata.labels, NULL when absent */
	const cJSON *rules;		/* rules, NULL when absent */
	const cJSON *aggregation;	/* aggregationRule, NULL when absent */
	const char *role_kind, *role_name;	/* roleRef's kind and name; NULL
					 * when roleRef is not an object */
	size_t subjects, nsubjects;	/* subjects' members: kc_snapshot.subjects
					 * from index subjects on */
};

/* A service account: its namespace and name ("" when absent) and its
 * metadata.annotations (NULL when absent); at the model levels those the
 * cloud reach reads only (kc_cloud_annotation). */
struct kc_snap_sa {
	const char *ns, *name;
	const cJSON *annotations;
};

struct kc_snapshot {
	cJSON *items[KC_RES_COUNT];	/* arrays of objects (owned), never NULL after load */
	struct kc_snap_rbac *rbac[KC_RES_COUNT];	/* the model levels' RBAC objects
					 * (clusterroles, clusterrolebindings, roles,
					 * rolebindings), in the list's order, and no
					 * item of theirs in items[] (as nodes they were
					 * 23 MiB at 150k: issue 11); NULL at the other
					 * levels and for the other kinds */
	size_t nrbac[KC_RES_COUNT];
	int rbac_released;		/* 1 after kc_snapshot_release_rbac: rbac[] let go */
	const char **rbac_ns;		/* then the namespaces of its Roles and
					 * RoleBindings, distinct, sorted (the strings
					 * in arena); NULL before */
	size_t nrbac_ns;
	struct kc_snap_subject *subjects;	/* the rbac[] bindings' subjects (owned) */
	size_t nsubjects;
	struct kc_snap_sa *sas;		/* the model levels' service accounts, in the
					 * list's order, and no item of theirs in
					 * items[] (5 MiB of nodes at 150k); NULL at
					 * the other levels (kc_snapshot_next_sa reads
					 * either) */
	size_t nsas;
	cJSON *heap;			/* an array of what rbac[] and sas hold that the arena
					 * had no room for (owned), or NULL */
	struct kc_snap_name *names[KC_RES_COUNT];	/* the model levels' namespaces and
					 * secrets: each item's namespace and name, in
					 * the list's order (the strings in arena), and
					 * no item of theirs in items[] (every reader of
					 * either in collect reads the two names only;
					 * as nodes they were 4 and 9 MiB at 150k:
					 * issue 11); NULL at the other levels */
	size_t nnames[KC_RES_COUNT];
	int present[KC_RES_COUNT];	/* 1 when the list was collected completely */
	struct kc_discovery *disc;	/* discovery/ documents (owned); NULL when the bundle has none */
	cJSON *agent_crs;		/* kagent's Agent objects, custom/kagent.dev/agents/page-*.json
					 * (collector/custom.h), concatenated; never NULL after load */
	int agent_crs_present;		/* 1 when that list was collected */
	int level;			/* the KC_SNAP_* level of its items */
	int shared;			/* 1 (the model levels, and after
					 * kc_snapshot_hydrate_pods): equal member lists
					 * of its items are one list (util/jarena.h
					 * kc_jarena_share), so its items are read only:
					 * a write into one would change others */
	struct kc_jarena *arena;	/* where a load packs its items (util/jarena.h);
					 * NULL for a snapshot built by hand */
};

/* Read raw/<resource>/page-*.json from a staging folder, concatenating the
 * items of all pages in order.  A missing resource folder gives an empty
 * array with present = 0 (a forbidden list), not an error. */
int kc_snapshot_load_dir(const char *dir, struct kc_snapshot *snap);

/* The same from a member reader: get(name) returns a newly allocated
 * buffer with the member's bytes (or NULL when absent), *len its size. */
typedef char *(*kc_member_get_fn)(void *ctx, const char *relpath, size_t *len);
typedef int (*kc_member_list_fn)(void *ctx, const char *prefix, char ***names, size_t *n);
int kc_snapshot_load(kc_member_get_fn get, kc_member_list_fn list, void *ctx, struct kc_snapshot *snap);

void kc_snapshot_free(struct kc_snapshot *snap);
/* 1 when the snapshot's service accounts hold NS/NAME. */
int kc_snapshot_has_sa(const struct kc_snapshot *snap, const char *ns, const char *name);

/* The snapshot's service accounts one after another, items or records:
 *	struct kc_sa_iter x = KC_SA_ITER_INIT;
 *	struct kc_snap_sa sa;
 *	while (kc_snapshot_next_sa(snap, &x, &sa)) ...
 * sa read of an item as kc_json_str0 and kc_json_get read its metadata;
 * its strings and annotations live as long as the snapshot. */
struct kc_sa_iter {
	const cJSON *it;
	size_t i;
	int started;
};
#define KC_SA_ITER_INIT { NULL, 0, 0 }
int kc_snapshot_next_sa(const struct kc_snapshot *snap, struct kc_sa_iter *x, struct kc_snap_sa *out);

/* kc_snapshot_load_dir without every item's metadata.managedFields, and
 * without the status of pods and workload owners: the model collect's own
 * analysis reads (selection, reviews, findings, can-i, inventory; none of
 * them reads either, and managedFields alone are a third of a pod's bytes
 * and more of its parsed nodes).  The raw pages and the exports keep
 * them; rbac/diff.c reads managedFields of the RBAC kinds from bundles
 * (KC_SNAP_DIFF). */
int kc_snapshot_load_dir_compact(const char *dir, struct kc_snapshot *snap);

/* How much of each item a load keeps:
 *   KC_SNAP_FULL       everything (kc_snapshot_load, kc_snapshot_load_dir)
 *   KC_SNAP_COMPACT    no managedFields, no status of pods and workload
 *                      owners (kc_snapshot_load_dir_compact: collect)
 *   KC_SNAP_KEEP_RBAC  the same, but the four RBAC kinds keep of their
 *                      managedFields each entry's manager, operation and
 *                      time (diff's "changed by" reads them; fieldsV1 goes)
 *   KC_SNAP_MODEL      KC_SNAP_COMPACT, but no pod (present[] is set; a
 *                      pod is most of a snapshot: issue 11), of the
 *                      workload owners only the deployments in the
 *                      namespaces of Agent resources (their links), each
 *                      owner reduced to its name, namespace, uid,
 *                      ownerReferences and pod template's account, no configmap,
 *                      PVC or network policy (nothing of collect's reads
 *                      them; present[] is set and their pages are not
 *                      read: collect parsed each as it arrived, and a
 *                      kind a level drops whole is never parsed, at any
 *                      level, so a page of it that is not JSON is no
 *                      error there; a sealed bundle's pages are covered
 *                      by its digests, and only --no-verify reads one
 *                      unchecked); no node of a service account, secret,
 *                      namespace or RBAC object either, but records
 *                      (items[] empty for them): each service account's
 *                      name, namespace and cloud-identity annotations
 *                      (kc_cloud_annotation) in sas, each secret's and
 *                      namespace's names in names[], each RBAC object's
 *                      name, namespace, labels, rules, subjects, roleRef
 *                      and aggregationRule in rbac[]: what the selection,
 *                      the indexes and the evaluator read.
 *                      kc_snapshot_hydrate_pods then adds the pods of the
 *                      selected accounts, each reduced to what collect's
 *                      readers of a pod read (each container status to its
 *                      name and restart count), and the owners of their
 *                      namespaces (directory loads only)
 *   KC_SNAP_MODEL_PODS the same with every pod reduced to its name,
 *                      namespace, labels and account (--agent-selector
 *                      selects by pod labels)
 *   KC_SNAP_DIFF       KC_SNAP_KEEP_RBAC, each RBAC object reduced to its
 *                      metadata's name, namespace, uid, resourceVersion,
 *                      labels and (reduced) managedFields, its rules,
 *                      subjects, roleRef and aggregationRule; each pod to its
 *                      name, namespace, creationTimestamp and
 *                      spec.serviceAccountName, each secret to its name and
 *                      namespace, each namespace to its name, and no
 *                      service account, configmap, PVC,
 *                      network policy or workload owner (present[] is set):
 *                      what rbac/diff.c reads
 *   KC_SNAP_DIFF_PRE   KC_SNAP_DIFF without pods (diff reads a PRE bundle's
 *                      secrets, never its pods)
 *   KC_SNAP_DIFF_POST  KC_SNAP_DIFF without secrets (diff reads a POST
 *                      bundle's pods, never its secrets) */
enum { KC_SNAP_FULL = 0, KC_SNAP_COMPACT = 1, KC_SNAP_KEEP_RBAC = 2, KC_SNAP_MODEL = 3, KC_SNAP_DIFF = 4,
	KC_SNAP_MODEL_PODS = 5, KC_SNAP_DIFF_PRE = 6, KC_SNAP_DIFF_POST = 7 };
int kc_snapshot_load_level(kc_member_get_fn get, kc_member_list_fn list, void *ctx, struct kc_snapshot *snap,
    int level);
int kc_snapshot_load_dir_level(const char *dir, struct kc_snapshot *snap, int level);

/* One resource's pages from a staging folder, one page in memory at a
 * time, in kc_snapshot_load_dir's order: open, then next() until NULL
 * (*err set on a page that cannot be read or parsed, left alone at the
 * end), then close.  next() returns the page's items array, valid until
 * the next call; pages without one are skipped, as the loader does.
 * A missing folder has no pages.  The pages are parsed into a scratch
 * arena, reset at each page: an item kept past the next call is copied
 * first (kc_jarena_take into an arena of its own, or cJSON_Duplicate),
 * never detached and kept as it is. */
struct kc_snap_pages {
	const char *dir;	/* borrowed */
	char **names;
	size_t n, i;
	cJSON *doc;		/* the current page */
	struct kc_jarena *scratch;	/* doc's nodes; NULL: the heap */
	size_t items;		/* items returned so far */
};
int kc_snap_pages_open(struct kc_snap_pages *it, const char *dir, enum kc_snap_res res);
const cJSON *kc_snap_pages_next(struct kc_snap_pages *it, int *err);
void kc_snap_pages_close(struct kc_snap_pages *it);
/* For a reader that names the pages itself (one that follows a list as it
 * is written, pipeline/exports.c): init (no page listed; 0 or
 * KC_ERR_NOMEM), then read(rel) for each page: the page rel (relative to
 * dir) read in place of the one before, its items array, or NULL: *err 0
 * for a page without one, else set as next() sets it.  close as above. */
int kc_snap_pages_init(struct kc_snap_pages *it, const char *dir);
const cJSON *kc_snap_pages_read(struct kc_snap_pages *it, const char *rel, int *err);

/* A KC_SNAP_MODEL or KC_SNAP_MODEL_PODS snapshot's pods made those whose
 * account want(ctx, namespace, account) accepts (the account as
 * spec.serviceAccountName, "default" when empty, or spec.serviceAccount),
 * each reduced to what collect's readers of a pod read (metadata's name,
 * namespace, uid, labels and ownerReferences; spec's accounts, nodeName,
 * volumes and its containers' names, of the three lists; each container
 * status's name and restart count: the pod logs, the owner chains, the cloud reach, the
 * inventory and the selection), in the order of dir's raw pages, read
 * again one page at a time; the others are dropped (after the selection,
 * every reader of pods looks up the selected accounts' pods only).  Its
 * workload owners are then those (reduced) in the namespaces of the pods
 * kept and of the Agent resources: the owner chains stay in their pod's
 * namespace, an Agent's link in its own.  The snapshot's level is then
 * KC_SNAP_COMPACT (its owners are as that level keeps them; its pods are
 * less).  A page that cannot be read or parsed is an error, as
 * for the loader.  want NULL: no account is wanted, and the pods' pages
 * are not read; nor are a workload kind's when no namespace is left (for
 * collect's own folder, whose pages the lists parsed as they arrived).
 * A snapshot loaded at another level is left alone. */
typedef int (*kc_snap_want_fn)(void *ctx, const char *ns, const char *name);
int kc_snapshot_hydrate_pods(struct kc_snapshot *snap, const char *dir, kc_snap_want_fn want, void *ctx);

/* Collect's model once its evaluator is built (rbac/eval.h kc_rbac_init
 * copies what it reads of each record; the strings, nodes and subjects it
 * points at stay): the RBAC records let go (3.9 MB of the analysis's peak
 * at 150k objects: issue 11), keeping for their one later reader,
 * kc_rbac_all_namespaces, the namespaces of the Roles and RoleBindings
 * (rbac_ns).  kc_rbac_init refuses a snapshot whose records are gone.  0
 * or KC_ERR_NOMEM (then nothing is let go). */
int kc_snapshot_release_rbac(struct kc_snapshot *snap);

/* A raw page (rel: raw/<resource>/page-*) of a resource that level
 * reduces, as it is read: *data (*len bytes, malloc'd) replaced by the
 * page {"items":[...]} with each item reduced to what level keeps, so a
 * reader holds the reduced page instead of the whole one; loading the
 * reduced page at level gives the same snapshot as the original.  Other
 * members, and a page that is not JSON or has no items array, are left
 * as they are (the loader judges them).  0 or KC_ERR_NOMEM. */
int kc_snapshot_reduce_page(const char *rel, int level, char **data, size_t *len);
/* The same, and of a pods page only the pods whose account want(ctx,
 * namespace, account) accepts (the account as the reduced pod has it:
 * spec.serviceAccountName, "default" when empty); want NULL keeps every
 * pod.  The reduced page then loads into a snapshot without the others:
 * for a reader that looks up no other pod (diff's stale pods).  scratch,
 * when not NULL, is an arena the page is parsed into instead of the heap
 * (one bump allocation a node instead of a malloc and a free: most of a
 * 150k-pod estate's pages is dropped); it is reset before this returns,
 * so it holds nothing between pages. */
struct kc_jarena;
int kc_snapshot_reduce_page_want(const char *rel, int level, kc_snap_want_fn want, void *ctx,
    struct kc_jarena *scratch, char **data, size_t *len);
/* What a reader of a reduced snapshot asks of each page: pods, the pods
 * filter above; managed_fields (KC_SNAP_DIFF_POST's RBAC objects only),
 * 0 when the reader never reads the object's managedFields (an object of
 * resource res with that uid and resourceVersion, as the reduced object
 * has them: "" when absent), 1 to keep them, or an error (returned, the
 * page left as it was).  Either may be NULL. */
typedef int (*kc_snap_mf_fn)(void *ctx, int res, const char *uid, const char *rv);
struct kc_snap_filter {
	kc_snap_want_fn pods;
	kc_snap_mf_fn managed_fields;
	void *ctx;
};
/* The resource (KC_RES_*) whose list page rel is ("raw/<name>/page-..."),
 * else -1. */
int kc_snapshot_page_res(const char *rel);
int kc_snapshot_reduce_page_filter(const char *rel, int level, const struct kc_snap_filter *f,
    struct kc_jarena *scratch, char **data, size_t *len);

#endif
