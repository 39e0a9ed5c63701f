/* diff.c - PRE/POST comparison (docs/DIFF.md). */
#include <pthread.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/snapshot.h"
#include "collector/audit.h"
#include "collector/sensitive.h"
#include "manifest/bundle.h"
#include "rbac/source.h"
#include "manifest/auditchain_bundle.h"
#include "rbac/diff.h"
#include "rbac/eval.h"
#include "rbac/hmap.h"
#include "rbac/reach.h"
#include "rbac/scope.h"
#include "rbac/secreach.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/jarena.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/timeutil.h"

#define US "\x1f"

/* ---- reading a sealed bundle ---- */

struct bundle {
	const char *path;
	struct kc_source src;
	int has_segment;	/* audit/segment.jsonl is a member */
	cJSON *manifest;
	struct kc_snapshot snap;
	char sha256[KC_SHA256_HEX];
	cJSON *continuity;	/* the audit-sink chain's check verify_one made, or NULL */
	struct pod_filter *publish;	/* PRE read beside POST: its selection goes to POST's filter */
};

static void publish_selection(struct bundle *b);

/* Members diff needs in memory; the audit segment is streamed later. */
static int
wanted(void *ctx, const char *p)
{
	struct bundle *b = ctx;

	if (strcmp(p, "audit/segment.jsonl") == 0)
		b->has_segment = 1;
	/* members come in bytewise order: PRE's selection, when it has one,
	 * is read by now (publish_selection checks, it does not rely on it) */
	if (b->publish != NULL && strcmp(p, "analysis/selection.json") > 0)
		publish_selection(b);
	return strcmp(p, "MANIFEST.json") == 0 || strncmp(p, "raw/", 4) == 0 || strncmp(p, "discovery/", 10) == 0 ||
	    strncmp(p, KC_SNAPSHOT_AGENT_CRS "/", sizeof(KC_SNAPSHOT_AGENT_CRS)) == 0 ||
	    strcmp(p, "analysis/selection.json") == 0 || strcmp(p, "analysis/findings.json") == 0 ||
	    strcmp(p, "audit/sources.json") == 0 || strcmp(p, "analysis/log-authz-errors.json") == 0;
}

static cJSON *
get_json(struct bundle *b, const char *rel)
{
	return kc_source_get_json(&b->src, rel);
}

/* POST's pods as diff reads them: only those of agent accounts
 * (stale_pods), the accounts selected in either bundle (agent_list, by the
 * same key); PRE's selection is read already, POST's is the member read
 * before its pods (the canonical order sorts analysis/ before raw/).  When
 * POST's selection has not been read, or a key cannot be built, every pod
 * is kept: the filter only saves memory, it never decides an answer. */
static const char *js(const cJSON *o, const char *path);

struct pod_filter {
	struct bundle *pre, *post;
	int ready, all;
	struct kc_hmap idx;	/* "NS\x1fNAME" of every selected account */
	struct kc_buf key;
	/* PRE's RBAC objects by uid, per kind (post_mf_keep), made when first asked */
	struct kc_hmap uids[KC_RES_ROLEBINDINGS + 1];
	const cJSON **objs[KC_RES_ROLEBINDINGS + 1];
	int uids_made[KC_RES_ROLEBINDINGS + 1];
	/* PRE read beside POST (read_side_by_side): PRE's thread adds PRE's
	 * selection to idx and sets pre_sel, under mu; POST's waits for it
	 * before its first pod.  POST's managedFields are all kept while PRE
	 * is read (defer_mf) and reduced once PRE's snapshot is built
	 * (reduce_deferred_mf). */
	int threaded, pre_sel, pre_sel_failed, defer_mf;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static int
filter_add(struct pod_filter *f, const cJSON *sel)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, kc_json_get(sel, "selected")) {
		kc_buf_reset(&f->key);
		if (kc_buf_addf(&f->key, "%s" US "%s", js(it, "namespace"), js(it, "name")) != 0 ||
		    (kc_hmap_get(&f->idx, kc_buf_str(&f->key)) == NULL && kc_hmap_add(&f->idx, kc_buf_str(&f->key), 0) != 0))
			return -1;
	}
	return 0;
}

/* POST's selection.json as read so far (members not sorted yet). */
static cJSON *
selection_read(const struct kc_bundle_members *m, int *found)
{
	const struct kc_bundle_member *sel = NULL;

	for (size_t i = 0; i < m->n && sel == NULL; i++)	/* not sorted yet */
		if (strcmp(m->v[i].path, "analysis/selection.json") == 0)
			sel = &m->v[i];
	*found = sel != NULL;
	if (sel == NULL || sel->len > (256u << 20))	/* as kc_source_get_json parses it */
		return NULL;
	return cJSON_ParseWithLength(sel->data, sel->len);
}

/* On PRE's thread, once: PRE's selection added to POST's filter. */
static void
publish_selection(struct bundle *b)
{
	struct pod_filter *f = b->publish;
	int found;
	cJSON *a;

	b->publish = NULL;
	a = selection_read(&b->src.m, &found);
	pthread_mutex_lock(&f->mu);
	if (filter_add(f, a) != 0)
		f->pre_sel_failed = 1;
	f->pre_sel = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	cJSON_Delete(a);
}

static void
filter_ready(struct pod_filter *f)
{
	cJSON *a = NULL, *b;
	int found, bad = 0;

	f->ready = 1;
	b = selection_read(&f->post->src.m, &found);
	if (!found) {
		f->all = 1;
		return;
	}
	if (f->threaded) {	/* PRE's is added by PRE's thread */
		pthread_mutex_lock(&f->mu);
		while (!f->pre_sel)
			pthread_cond_wait(&f->cv, &f->mu);
		bad = f->pre_sel_failed;
		pthread_mutex_unlock(&f->mu);
	} else {
		a = get_json(f->pre, "analysis/selection.json");
		bad = filter_add(f, a) != 0;
	}
	if (bad || filter_add(f, b) != 0)
		f->all = 1;
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static int
post_pod_want(void *ctx, const char *ns, const char *account)
{
	struct pod_filter *f = ctx;

	if (!f->ready)
		filter_ready(f);
	if (f->all)
		return 1;
	kc_buf_reset(&f->key);
	if (kc_buf_addf(&f->key, "%s" US "%s", ns, account) != 0)
		return 1;
	return kc_hmap_get(&f->idx, kc_buf_str(&f->key)) != NULL;
}

/* Whether POST's RBAC object (res, uid, rv) keeps its managedFields:
 * rbac_objects reads them (object_changes, "changed by") of an object
 * that PRE has not (added) or whose resourceVersion differs from a PRE
 * object's of its uid (changed), never of one PRE has with the same
 * resourceVersion under every copy of its uid; those keep none (17 MiB at
 * 150k objects).  Anything unsure keeps them: the filter only saves
 * memory, it never decides an answer. */
static int
post_mf_keep(void *ctx, int res, const char *uid, const char *rv)
{
	struct pod_filter *f = ctx;
	const struct kc_hmap_entry *e;

	if (res < 0 || res > KC_RES_ROLEBINDINGS || f->defer_mf)
		return 1;
	if (!f->uids_made[res]) {
		const cJSON *a;
		size_t i = 0, n = (size_t)cJSON_GetArraySize(f->pre->snap.items[res]);

		f->uids_made[res] = 1;
		if (n > 0 && (f->objs[res] = calloc(n, sizeof(*f->objs[res]))) == NULL)
			return 1;
		cJSON_ArrayForEach(a, f->pre->snap.items[res]) {
			if (i >= n || kc_hmap_add(&f->uids[res], js(a, "metadata.uid"), i) != 0) {
				kc_hmap_free(&f->uids[res]);
				free(f->objs[res]);
				f->objs[res] = NULL;
				return 1;
			}
			f->objs[res][i++] = a;
		}
	}
	if (f->objs[res] == NULL || (e = kc_hmap_get(&f->uids[res], uid)) == NULL)
		return 1;	/* added (or no index): read */
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(js(f->objs[res][e->vals[i]], "metadata.resourceVersion"), rv) != 0)
			return 1;	/* changed against some PRE copy: read */
	return 0;
}

static void
filter_free(struct pod_filter *f)
{
	kc_hmap_free(&f->idx);
	kc_buf_free(&f->key);
	for (int i = 0; i <= KC_RES_ROLEBINDINGS; i++) {
		kc_hmap_free(&f->uids[i]);
		free(f->objs[i]);
	}
	if (f->threaded) {
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->cv);
	}
}

/* Of a bundle's MANIFEST.json diff reads a few members of these (every
 * copy of a repeated key kept, so a lookup still takes the last); the
 * rest, the files list above all (12 MB at the 150k estate), goes. */
static void
manifest_keep_read(cJSON *m)
{
	static const char *const read[] = { "bundle_id", "case", "times", "findings_summary", "cluster" };
	cJSON *c, *next;

	for (c = m->child; c != NULL; c = next) {
		size_t i;

		next = c->next;
		for (i = 0; i < sizeof(read) / sizeof(read[0]); i++)
			if (c->string != NULL && strcmp(c->string, read[i]) == 0)
				break;
		if (i == sizeof(read) / sizeof(read[0]))
			cJSON_Delete(cJSON_DetachItemViaPointer(m, c));
	}
}

/* pin: the digest verify read (NULL under --no-verify): the bundle read
 * here must be that file, byte for byte (rbac/source.h); vo non-NULL: the
 * bundle is verified in this same pass instead (vr its result, pin
 * unused).  pods: POST's filter, or NULL. */
static int
bundle_read(struct bundle *b, const char *path, const char *pin, int level, struct pod_filter *pods,
    const struct kc_verify_opts *vo, struct kc_verify_result *vr)
{
	struct stat st;
	const struct kc_snap_filter *f = pods != NULL ? &(struct kc_snap_filter){
	    post_pod_want, post_mf_keep, pods } : NULL;
	int r;

	b->path = path;
	if (vo == NULL && pin == NULL && (stat(path, &st) != 0 || S_ISDIR(st.st_mode)) &&
	    (r = kc_sha256_file(path, b->sha256, NULL)) != 0)
		return r;
	/* the comparison reads managedFields of the RBAC kinds only (changed
	 * by), no status, a few fields of POST's pods and of PRE's secrets,
	 * and no other kind's items (KC_SNAP_DIFF_PRE, KC_SNAP_DIFF_POST): the
	 * raw pages are reduced to those as they are read */
	r = vo != NULL ? kc_source_open_verified(path, vo, vr, wanted, b, level, f, &b->src) :
	    kc_source_open_filter(path, wanted, b, pin, level, f, &b->src);
	if (r != 0)
		return r;
	if (b->src.dir == NULL)	/* the digest of the bytes just read */
		memcpy(b->sha256, b->src.m.sha256, sizeof(b->sha256));
	if (b->src.dir != NULL) {	/* an unsealed evidence folder (--no-verify) */
		char *seg = kc_path_join(b->src.dir, "audit/segment.jsonl");
		b->has_segment = seg != NULL && access(seg, R_OK) == 0;
		free(seg);
	}
	return 0;
}

/* The bundle read: its manifest and snapshot. */
static int
bundle_load(struct bundle *b)
{
	int r;

	if ((b->manifest = get_json(b, "MANIFEST.json")) == NULL)
		return kc_err_set(KC_ERR_PARSE, "'%s' has no readable MANIFEST.json", b->path);
	manifest_keep_read(b->manifest);
	kc_source_forget(&b->src, "MANIFEST.json");
	if ((r = kc_source_snapshot(&b->src, &b->snap)) != 0)
		return r;
	kc_source_forget(&b->src, "raw/");	/* read once, into the snapshot */
	return 0;
}

static int
bundle_open(struct bundle *b, const char *path, const char *pin, int level, struct pod_filter *pods)
{
	int r;

	memset(b, 0, sizeof(*b));
	if ((r = bundle_read(b, path, pin, level, pods, NULL, NULL)) != 0)
		return r;
	return bundle_load(b);
}

/* POST's RBAC pages, read while PRE was (their managedFields all kept),
 * reduced again now that PRE's objects are known: to what they are when
 * read after PRE (reducing a reduced page is the same projection). */
static int
reduce_deferred_mf(struct bundle *post, struct pod_filter *f)
{
	const struct kc_snap_filter flt = { post_pod_want, post_mf_keep, f };
	struct kc_bundle_members *m = &post->src.m;
	struct kc_jarena *scratch = kc_jarena_new();
	int r = 0;

	f->defer_mf = 0;
	for (size_t i = 0; i < m->n && r == 0; i++) {
		int res = kc_snapshot_page_res(m->v[i].path);

		if (res >= 0 && res <= KC_RES_ROLEBINDINGS)	/* the RBAC kinds */
			r = kc_snapshot_reduce_page_filter(m->v[i].path, KC_SNAP_DIFF_POST, &flt, scratch,
			    &m->v[i].data, &m->v[i].len);
	}
	kc_jarena_free(scratch);
	return r;
}

/* ---- PRE and POST read side by side ---- */

/* One bundle read (and verified, or pinned) and loaded on a thread. */
struct load_job {
	struct bundle *b;
	const char *path;
	int level;
	struct pod_filter *pods;	/* POST's filter, or NULL (PRE) */
	const char *pin;		/* the caller verified it: pinned to this */
	const struct kc_verify_opts *vo;	/* else verified in the same pass */
	struct kc_verify_result vr;
	int r;
	int judged;			/* vo's checks were reached: vr is the verdict */
	struct kc_err_saved err;
	/* PRE's: POST waits for done (PRE's snapshot, ok when built) */
	int done, ok;
	pthread_mutex_t *mu;
	pthread_cond_t *cv;
};

static void *
load_pre(void *arg)
{
	struct load_job *j = arg;

	kc_err_clear();
	j->r = bundle_read(j->b, j->path, j->pin, j->level, NULL, j->vo, &j->vr);
	j->judged = j->vo != NULL && (j->vr.valid || j->r == KC_ERR_VERIFY);
	if (j->b->publish != NULL)	/* nothing came after its selection */
		publish_selection(j->b);
	if (j->r == 0)
		j->r = bundle_load(j->b);
	if (j->r != 0)
		kc_err_save(&j->err);
	pthread_mutex_lock(j->mu);
	j->done = 1;
	j->ok = j->r == 0;
	pthread_cond_broadcast(j->cv);
	pthread_mutex_unlock(j->mu);
	return NULL;
}

/* PRE on a thread of its own, POST here: both files inflated, hashed and
 * parsed at once, a core each (at 150k objects each pass is seconds).
 * POST's pod filter waits for PRE's selection (early in PRE's file), its
 * managedFields for PRE's snapshot (reduce_deferred_mf): the result is
 * what reading PRE, then POST gives.  A thread that cannot be started
 * reads PRE first, here. */
static void
read_side_by_side(struct load_job *pre, struct load_job *post)
{
	pthread_t th;
	pthread_attr_t attr;
	struct pod_filter *f = post->pods;
	int started, have_attr;

	pre->mu = &f->mu;
	pre->cv = &f->cv;
	pre->b->publish = f;
	have_attr = pthread_attr_init(&attr) == 0;
	if (have_attr)	/* cJSON recurses up to its nesting limit */
		(void)pthread_attr_setstacksize(&attr, 8u << 20);
	started = pthread_create(&th, have_attr ? &attr : NULL, load_pre, pre) == 0;
	if (have_attr)
		pthread_attr_destroy(&attr);
	if (!started)
		load_pre(pre);
	f->defer_mf = 1;
	kc_err_clear();
	post->r = bundle_read(post->b, post->path, post->pin, post->level, f, post->vo, &post->vr);
	post->judged = post->vo != NULL && (post->vr.valid || post->r == KC_ERR_VERIFY);
	pthread_mutex_lock(&f->mu);
	while (!pre->done)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	if (started)
		pthread_join(th, NULL);
#ifdef __GLIBC__
	/* what PRE's thread freed (its pages, once in its snapshot) sits in
	 * a malloc arena of its own, which this thread does not reuse: given
	 * back before POST's snapshot is built beside PRE's */
	malloc_trim(0);
#endif
	if (post->r == 0 && pre->ok && (post->r = reduce_deferred_mf(post->b, f)) == 0)
		post->r = bundle_load(post->b);
	if (post->r != 0)
		kc_err_save(&post->err);
}

static void
bundle_close(struct bundle *b)
{
	kc_source_close(&b->src);
	cJSON_Delete(b->manifest);
	cJSON_Delete(b->continuity);
	kc_snapshot_free(&b->snap);
}

/* ---- small JSON helpers ---- */

/* The string at a dotted path, "" when absent; each step by kc_json_get
 * (the last of duplicate keys, as the audit filter and jq take it). */
static const char *
js(const cJSON *o, const char *path)
{
	const cJSON *v = kc_json_path(o, path);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int64_t
ts_ns(const char *s)
{
	time_t t;
	long ns;

	if (s == NULL || kc_parse_rfc3339(s, &t, &ns) != 0)
		return 0;
	return (int64_t)t * 1000000000 + ns;
}

/* ---- permissions as sets ---- */

struct permset {
	struct kc_hmap idx;	/* key -> index in perms */
	cJSON *perms;		/* array of PERM objects, in insertion order */
	cJSON **item;		/* item[i]: the i-th member of perms (cJSON arrays
				 * are lists: GetArrayItem walks them) */
	char **keys;
	size_t n, cap, icap;
};

static void
permset_free(struct permset *p)
{
	kc_hmap_free(&p->idx);
	cJSON_Delete(p->perms);
	for (size_t i = 0; i < p->n; i++)
		free(p->keys[i]);
	free(p->keys);
	free(p->item);
	memset(p, 0, sizeof(*p));
}

static cJSON *
grant_json(const struct kc_rbac_binding *b)
{
	cJSON *g = cJSON_CreateObject(), *bo, *ro;

	bo = cJSON_AddObjectToObject(g, "binding");
	cJSON_AddStringToObject(bo, "kind", b->cluster ? "ClusterRoleBinding" : "RoleBinding");
	if (!b->cluster)
		cJSON_AddStringToObject(bo, "namespace", b->ns);
	cJSON_AddStringToObject(bo, "name", b->name);
	ro = cJSON_AddObjectToObject(g, "role");
	cJSON_AddStringToObject(ro, "kind", b->role_kind);
	cJSON_AddStringToObject(ro, "name", b->role_name);
	/* The server's own bootstrap bindings (discovery, basic-user...) that
	 * every authenticated identity holds: not reach the agent was given. */
	{
		const cJSON *l = kc_json_get(b->labels, "kubernetes.io/bootstrapping");
		if (cJSON_IsString(l) && strcmp(l->valuestring, "rbac-defaults") == 0)
			cJSON_AddBoolToObject(g, "default", 1);
	}
	return g;
}

static int
permset_add(struct permset *p, const char *key, cJSON *perm, const struct kc_rbac_binding *b)
{
	const struct kc_hmap_entry *e = kc_hmap_get(&p->idx, key);
	cJSON *grants, *g, *x;

	if (e == NULL) {
		if (KC_GROW(p->keys, p->cap, p->n + 1) != 0 || KC_GROW(p->item, p->icap, p->n + 1) != 0 ||
		    (p->keys[p->n] = kc_strdup(key)) == NULL || kc_hmap_add(&p->idx, key, p->n) != 0) {
			cJSON_Delete(perm);
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		}
		cJSON_AddArrayToObject(perm, "grants");
		cJSON_AddItemToArray(p->perms, perm);
		p->item[p->n++] = perm;
		e = kc_hmap_get(&p->idx, key);
	} else {
		cJSON_Delete(perm);
	}
	grants = kc_json_get_mut(p->item[e->vals[0]], "grants");
	g = grant_json(b);
	cJSON_ArrayForEach(x, grants)
		if (cJSON_Compare(x, g, 1)) {
			cJSON_Delete(g);
			return 0;
		}
	cJSON_AddItemToArray(grants, g);
	return 0;
}

static int
expand_grant(struct permset *p, const struct kc_rbac_grant *g, const char *ns)
{
	const struct kc_rbac_rule *r = g->rule;
	const char *scope = g->binding->cluster ? "*" : ns;
	char key[2048];
	int rc;

	if (r->urls.n > 0) {
		if (!kc_rbac_grant_cluster(g))
			return 0;	/* non-resource URLs only through ClusterRoleBindings */
		for (size_t v = 0; v < r->verbs.n; v++)
			for (size_t u = 0; u < r->urls.n; u++) {
				cJSON *o;

				/* the permission's identity: whole or an error */
				if ((rc = kc_fmt(key, sizeof(key), "N" US "%s" US "%s", r->verbs.v[v],
				    r->urls.v[u])) != 0)
					return rc;
				o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "verb", r->verbs.v[v]);
				cJSON_AddStringToObject(o, "url", r->urls.v[u]);
				if ((rc = permset_add(p, key, o, g->binding)) != 0)
					return rc;
			}
		return 0;
	}
	for (size_t v = 0; v < r->verbs.n; v++)
		for (size_t gi = 0; gi < r->groups.n; gi++)
			for (size_t ri = 0; ri < r->resources.n; ri++)
				for (size_t ni = 0; ni < (r->names.n ? r->names.n : 1); ni++) {
					const char *name = r->names.n ? r->names.v[ni] : "*";
					cJSON *o;

					if ((rc = kc_fmt(key, sizeof(key), "R" US "%s" US "%s" US "%s" US "%s" US "%s",
					    r->verbs.v[v], r->groups.v[gi], r->resources.v[ri], name, scope)) != 0)
						return rc;
					o = cJSON_CreateObject();
					cJSON_AddStringToObject(o, "verb", r->verbs.v[v]);
					cJSON_AddStringToObject(o, "apiGroup", r->groups.v[gi]);
					cJSON_AddStringToObject(o, "resource", r->resources.v[ri]);
					cJSON_AddStringToObject(o, "name", name);
					cJSON_AddStringToObject(o, "namespace", scope);
					/* listed by a rules review, never granted: a request
					 * for a cluster-scoped resource has no namespace */
					if (!g->binding->cluster && r->resources.v[ri][0] != '*' &&
					    !kc_rbac_ns_effective(r->verbs.v[v], r->groups.v[gi], r->resources.v[ri]))
						cJSON_AddBoolToObject(o, "effective", 0);
					if ((rc = permset_add(p, key, o, g->binding)) != 0)
						return rc;
				}
	return 0;
}

/* Every namespace of either snapshot, in list order (PRE's, then POST's
 * new ones), each once, with its position. */
struct nslist {
	struct kc_hmap pos;	/* name -> index in v */
	char **v;
	size_t n, cap;
};

static void
nslist_free(struct nslist *l)
{
	kc_hmap_free(&l->pos);
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
collect_namespaces(const struct bundle *a, const struct bundle *b, struct nslist *l)
{
	const struct bundle *bs[2] = { a, b };
	const cJSON *it;

	for (int k = 0; k < 2; k++)
		cJSON_ArrayForEach(it, bs[k]->snap.items[KC_RES_NAMESPACES]) {
			const char *name = js(it, "metadata.name");

			if (name[0] == '\0' || kc_hmap_get(&l->pos, name) != NULL)
				continue;
			if (kc_hmap_add(&l->pos, name, l->n) != 0 || KC_GROW(l->v, l->cap, l->n + 1) != 0 ||
			    (l->v[l->n] = kc_strdup(name)) == NULL)
				return kc_err_set(KC_ERR_NOMEM, "out of memory");
			l->n++;
		}
	return 0;
}

struct ns_at {
	const char *ns;
	size_t at;	/* 0 the account's own namespace, else 1 + its list position */
};

static int
cmp_ns_at(const void *x, const void *y)
{
	const struct ns_at *a = x, *b = y;

	return a->at < b->at ? -1 : a->at > b->at;
}

/* An account's permissions: the cluster-wide rules (a rules review for
 * scope ""), then for each namespace whose RoleBindings can name it - its
 * own first, then the snapshots' namespaces in list order - what that
 * namespace's RoleBindings add.  The same set, grants and order as a
 * rules review in every namespace (a ClusterRoleBinding's grant is the
 * same cluster-wide permission in each), without visiting namespaces that
 * add nothing: linear in the account's bindings, not in the estate's
 * namespaces. */
static int
sa_perms(const struct kc_rbac *rb, const char *ns, const char *name, const struct nslist *l,
    struct permset *p)
{
	struct kc_rbac_sa_id id;
	struct kc_rbac_rules rules;
	size_t *cand = NULL, ncand = 0, capcand = 0, nat = 0, capat = 0;
	struct ns_at *at = NULL;
	int r;

	memset(&rules, 0, sizeof(rules));
	if ((p->perms = cJSON_CreateArray()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = kc_rbac_sa_identity(&id, ns, name)) != 0)
		return r;
	if ((r = kc_rbac_rules_for(rb, &id.id, "", &rules)) != 0)
		goto out;
	for (size_t g = 0; g < rules.n && r == 0; g++)
		r = expand_grant(p, &rules.grants[g], "*");
	if (r == 0)
		r = kc_rbac_rb_candidates(rb, &id.id, &cand, &ncand, &capcand);
	for (size_t i = 0; i < ncand && r == 0; i++) {
		const char *bns = rb->bindings[cand[i]].ns;
		const struct kc_hmap_entry *e = kc_hmap_get(&l->pos, bns);
		int own = strcmp(bns, ns) == 0;

		if (!own && e == NULL)
			continue;	/* a namespace neither snapshot lists */
		if (KC_GROW(at, capat, nat + 1) != 0) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			break;
		}
		at[nat].ns = bns;
		at[nat++].at = own ? 0 : 1 + e->vals[0];
	}
	if (r == 0 && nat > 1)
		qsort(at, nat, sizeof(*at), cmp_ns_at);
	for (size_t i = 0; i < nat && r == 0; i++) {
		if (i > 0 && at[i].at == at[i - 1].at)
			continue;
		if ((r = kc_rbac_rules_for_ns(rb, &id.id, at[i].ns, &rules)) != 0)
			break;
		for (size_t g = 0; g < rules.n && r == 0; g++)
			r = expand_grant(p, &rules.grants[g], at[i].ns);
	}
out:
	free(cand);
	free(at);
	kc_rbac_rules_free(&rules);
	return r;
}

/* Cluster-wide reach: a permission granted cluster-wide (or a
 * non-resource URL) through at least one binding that is not a bootstrap
 * default. */
static int
perm_cluster_reach(const cJSON *perm)
{
	const cJSON *g;

	if (strcmp(js(perm, "namespace"), "*") != 0 && js(perm, "url")[0] == '\0')
		return 0;
	cJSON_ArrayForEach(g, kc_json_get(perm, "grants"))
		if (!cJSON_IsTrue(kc_json_get(g, "default")))
			return 1;
	return 0;
}

static int
perm_reads_secrets(const cJSON *perm)
{
	const char *verb = js(perm, "verb"), *res = js(perm, "resource"), *grp = js(perm, "apiGroup");

	if (perm == NULL || js(perm, "url")[0] != '\0')
		return 0;
	return (strcmp(verb, "*") == 0 || strcmp(verb, "get") == 0 || strcmp(verb, "list") == 0 ||
	    strcmp(verb, "watch") == 0) && (strcmp(grp, "") == 0 || strcmp(grp, "*") == 0) &&
	    (strcmp(res, "*") == 0 || strcmp(res, "secrets") == 0);
}

/* A copy of x for the document: packed into arena when there is one
 * (util/jarena.h: a third of the heap's bytes at 150k objects), else on
 * the heap. */
static cJSON *
doc_dup(struct kc_jarena *arena, const cJSON *x)
{
	return arena != NULL ? kc_jarena_copy(arena, x) : cJSON_Duplicate(x, 1);
}

/* Each member of o replaced by its copy in arena (none: left as it is). */
static int
pack_children(struct kc_jarena *arena, cJSON *o)
{
	cJSON *it, *next, *c;

	if (arena == NULL || o == NULL)
		return 0;
	for (it = o->child; it != NULL; it = next) {
		next = it->next;
		if ((c = kc_jarena_copy(arena, it)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		cJSON_ReplaceItemViaPointer(o, it, c);
	}
	return 0;
}

static void
sa_compare(const struct permset *pre, const struct permset *post, cJSON *agent, struct kc_jarena *arena)
{
	cJSON *removed = cJSON_AddArrayToObject(agent, "removed");
	cJSON *added = cJSON_AddArrayToObject(agent, "added");
	cJSON *kept = cJSON_AddArrayToObject(agent, "kept");
	cJSON *counts;
	int cw_before = 0, cw_after = 0, sec_before = 0, sec_after = 0;

	for (size_t i = 0; i < pre->n; i++) {
		cJSON *pp = pre->item[i];
		const struct kc_hmap_entry *e = kc_hmap_get(&post->idx, pre->keys[i]);

		cw_before |= perm_cluster_reach(pp);
		sec_before |= perm_reads_secrets(pp);
		if (e != NULL) {
			cJSON *k = doc_dup(arena, post->item[e->vals[0]]);
			cJSON_AddItemToArray(kept, k);
		} else {
			cJSON_AddItemToArray(removed, doc_dup(arena, pp));
		}
	}
	for (size_t i = 0; i < post->n; i++) {
		cJSON *pp = post->item[i];

		cw_after |= perm_cluster_reach(pp);
		sec_after |= perm_reads_secrets(pp);
		if (kc_hmap_get(&pre->idx, post->keys[i]) == NULL)
			cJSON_AddItemToArray(added, doc_dup(arena, pp));
	}
	cJSON_AddBoolToObject(agent, "cluster_wide_before", cw_before);
	cJSON_AddBoolToObject(agent, "cluster_wide_after", cw_after);
	cJSON_AddBoolToObject(agent, "secrets_before", sec_before);
	cJSON_AddBoolToObject(agent, "secrets_after", sec_after);
	counts = cJSON_CreateObject();
	cJSON_AddNumberToObject(counts, "removed", cJSON_GetArraySize(removed));
	cJSON_AddNumberToObject(counts, "added", cJSON_GetArraySize(added));
	cJSON_AddNumberToObject(counts, "kept", cJSON_GetArraySize(kept));
	cJSON_AddItemToObject(agent, "counts", counts);
}

/* Agents: selected in either bundle (analysis/selection.json). */
static int
agent_list(struct bundle *pre, struct bundle *post, cJSON *agents)
{
	struct bundle *bs[2] = { pre, post };
	static const char *const which[2] = { "pre", "post" };
	struct kc_hmap idx;	/* "NS\x1fNAME" -> index in items */
	cJSON **items = NULL;
	size_t n = 0, cap = 0;
	struct kc_buf key = KC_BUF_INIT(1u << 16);
	int r = 0;

	memset(&idx, 0, sizeof(idx));
	for (int k = 0; k < 2 && r == 0; k++) {
		cJSON *sel = get_json(bs[k], "analysis/selection.json"), *it;

		cJSON_ArrayForEach(it, kc_json_get(sel, "selected")) {
			const char *ns = js(it, "namespace"), *name = js(it, "name");
			const struct kc_hmap_entry *e;
			cJSON *found;

			kc_buf_reset(&key);
			if ((r = kc_buf_addf(&key, "%s" US "%s", ns, name)) != 0)
				break;
			if ((e = kc_hmap_get(&idx, kc_buf_str(&key))) != NULL) {
				found = items[e->vals[e->n - 1]];	/* the last one, as before */
			} else {
				found = cJSON_CreateObject();
				cJSON_AddStringToObject(found, "namespace", ns);
				cJSON_AddStringToObject(found, "name", name);
				cJSON_AddArrayToObject(found, "selected_in");
				cJSON_AddItemToArray(agents, found);
				if ((r = KC_GROW(items, cap, n + 1)) != 0 ||
				    (r = kc_hmap_add(&idx, kc_buf_str(&key), n)) != 0)
					break;
				items[n++] = found;
			}
			cJSON_AddItemToArray(kc_json_get_mut(found, "selected_in"),
			    cJSON_CreateString(which[k]));
			/* the agent custom resources that run as it: POST's, else PRE's */
			if (kc_json_get(it, "agentResources") != NULL &&
			    kc_json_set(found, "agentResources", cJSON_Duplicate(kc_json_get(it, "agentResources"), 1)) != 0) {
				r = KC_ERR_NOMEM;
				break;
			}
		}
		cJSON_Delete(sel);
	}
	kc_hmap_free(&idx);
	kc_buf_free(&key);
	free(items);
	return r == 0 ? 0 : kc_err_set(KC_ERR_NOMEM, "out of memory");
}

/* ---- RBAC objects by uid ---- */

static void
object_changes(const cJSON *a, const cJSON *b, cJSON *obj, int64_t since_ns)
{
	static const char *const fields[] = { "rules", "subjects", "roleRef", "aggregationRule" };
	cJSON *ch = cJSON_AddObjectToObject(obj, "changes"), *by, *mf;
	const cJSON *la, *lb;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const cJSON *fa = a ? kc_json_get(a, fields[i]) : NULL;
		const cJSON *fb = b ? kc_json_get(b, fields[i]) : NULL;

		if ((fa == NULL && fb == NULL) || (fa && fb && cJSON_Compare(fa, fb, 1)))
			continue;
		if (a == NULL || b == NULL)
			continue;
		cJSON *c = cJSON_AddObjectToObject(ch, fields[i]);
		cJSON_AddItemToObject(c, "before", fa ? cJSON_Duplicate(fa, 1) : cJSON_CreateNull());
		cJSON_AddItemToObject(c, "after", fb ? cJSON_Duplicate(fb, 1) : cJSON_CreateNull());
	}
	la = kc_json_get(kc_json_get(a, "metadata"), "labels");
	lb = kc_json_get(kc_json_get(b, "metadata"), "labels");
	if (a && b && !((la == NULL && lb == NULL) || (la && lb && cJSON_Compare(la, lb, 1)))) {
		cJSON *c = cJSON_AddObjectToObject(ch, "labels");
		cJSON_AddItemToObject(c, "before", la ? cJSON_Duplicate(la, 1) : cJSON_CreateNull());
		cJSON_AddItemToObject(c, "after", lb ? cJSON_Duplicate(lb, 1) : cJSON_CreateNull());
	}
	by = cJSON_AddArrayToObject(obj, "changed_by");
	cJSON_ArrayForEach(mf, kc_json_get(kc_json_get(b ? b : a,
	    "metadata"), "managedFields")) {
		if (ts_ns(js(mf, "time")) < since_ns)
			continue;
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "manager", js(mf, "manager"));
		cJSON_AddStringToObject(e, "operation", js(mf, "operation"));
		cJSON_AddStringToObject(e, "time", js(mf, "time"));
		cJSON_AddItemToArray(by, e);
	}
}

static cJSON *
obj_ref(const char *kind, const cJSON *o)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "kind", kind);
	if (js(o, "metadata.namespace")[0])
		cJSON_AddStringToObject(r, "namespace", js(o, "metadata.namespace"));
	cJSON_AddStringToObject(r, "name", js(o, "metadata.name"));
	cJSON_AddStringToObject(r, "uid", js(o, "metadata.uid"));
	return r;
}

static int
rbac_objects(const struct bundle *pre, const struct bundle *post, cJSON *out, int64_t since_ns)
{
	static const struct { int res; const char *kind; } kinds[] = {
		{ KC_RES_CLUSTERROLES, "ClusterRole" }, { KC_RES_CLUSTERROLEBINDINGS, "ClusterRoleBinding" },
		{ KC_RES_ROLES, "Role" }, { KC_RES_ROLEBINDINGS, "RoleBinding" },
	};
	cJSON *added = cJSON_AddArrayToObject(out, "added");
	cJSON *removed = cJSON_AddArrayToObject(out, "removed");
	cJSON *changed = cJSON_AddArrayToObject(out, "changed");

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct kc_hmap post_idx;
		const cJSON *a, *b;
		const cJSON **pb = NULL;	/* POST's objects by position */
		size_t i = 0, cap = 0;

		memset(&post_idx, 0, sizeof(post_idx));
		cJSON_ArrayForEach(b, post->snap.items[kinds[k].res]) {
			if (KC_GROW(pb, cap, i + 1) != 0) {
				kc_hmap_free(&post_idx);
				free(pb);
				return kc_err_set(KC_ERR_NOMEM, "out of memory");
			}
			pb[i] = b;
			kc_hmap_add(&post_idx, js(b, "metadata.uid"), i++);
		}
		cJSON_ArrayForEach(a, pre->snap.items[kinds[k].res]) {
			const struct kc_hmap_entry *e = kc_hmap_get(&post_idx, js(a, "metadata.uid"));

			if (e == NULL) {
				cJSON_AddItemToArray(removed, obj_ref(kinds[k].kind, a));
				continue;
			}
			b = pb[e->vals[0]];
			if (strcmp(js(a, "metadata.resourceVersion"), js(b, "metadata.resourceVersion")) != 0) {
				cJSON *o = obj_ref(kinds[k].kind, b);
				object_changes(a, b, o, since_ns);
				cJSON_AddItemToArray(changed, o);
			}
		}
		kc_hmap_free(&post_idx);
		free(pb);
		memset(&post_idx, 0, sizeof(post_idx));
		i = 0;
		cJSON_ArrayForEach(a, pre->snap.items[kinds[k].res])
			kc_hmap_add(&post_idx, js(a, "metadata.uid"), i++);
		cJSON_ArrayForEach(b, post->snap.items[kinds[k].res]) {
			if (kc_hmap_get(&post_idx, js(b, "metadata.uid")) == NULL) {
				cJSON *o = obj_ref(kinds[k].kind, b);
				object_changes(NULL, b, o, since_ns);
				cJSON_AddItemToArray(added, o);
			}
		}
		kc_hmap_free(&post_idx);
	}
	return 0;
}

/* ---- findings ---- */

/* Two findings are the same one when these members are equal, compared
 * one by one (a joined key would be cut at its buffer's size, and two
 * long findings that differ only past it would be taken for one). */
static const char *const finding_id[] = {
	"id", "subject.namespace", "subject.name", "scope", "binding.kind", "binding.namespace",
	"binding.name", "role.kind", "role.name",
};

static int
same_finding(const cJSON *a, const cJSON *b)
{
	for (size_t i = 0; i < sizeof(finding_id) / sizeof(finding_id[0]); i++)
		if (strcmp(js(a, finding_id[i]), js(b, finding_id[i])) != 0)
			return 0;
	return 1;
}

/* Findings indexed by their identity members joined with US; a hit is
 * then checked member by member (same_finding), so a value holding US
 * cannot make two findings one. */
struct finding_idx {
	struct kc_hmap m;
	const cJSON **v;
	size_t n, cap;
};

static int
finding_key(const cJSON *f, struct kc_buf *k)
{
	kc_buf_reset(k);
	for (size_t i = 0; i < sizeof(finding_id) / sizeof(finding_id[0]); i++)
		if (kc_buf_addf(k, "%s%s", i ? US : "", js(f, finding_id[i])) != 0)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

static int
finding_index(const cJSON *arr, struct finding_idx *x, struct kc_buf *k)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, arr) {
		if (finding_key(f, k) != 0 || KC_GROW(x->v, x->cap, x->n + 1) != 0 ||
		    kc_hmap_add(&x->m, kc_buf_str(k), x->n) != 0)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		x->v[x->n++] = f;
	}
	return 0;
}

static void
finding_index_free(struct finding_idx *x)
{
	kc_hmap_free(&x->m);
	free(x->v);
	memset(x, 0, sizeof(*x));
}

/* 1 when x is in the index, 0 when not, < 0 on error */
static int
find_finding(const struct finding_idx *idx, const cJSON *x, struct kc_buf *k)
{
	const struct kc_hmap_entry *e;

	if (finding_key(x, k) != 0)
		return KC_ERR_NOMEM;
	if ((e = kc_hmap_get(&idx->m, kc_buf_str(k))) == NULL)
		return 0;
	for (size_t i = 0; i < e->n; i++)
		if (same_finding(idx->v[e->vals[i]], x))
			return 1;
	return 0;
}

static int
findings_diff(struct bundle *pre, struct bundle *post, cJSON *out, struct kc_jarena *arena)
{
	/* both documents at once, packed while they are compared (23 MB of
	 * heap each at 150k objects) */
	struct kc_jarena *tmp = arena != NULL ? kc_jarena_new() : NULL;
	cJSON *a = kc_jarena_take(tmp, get_json(pre, "analysis/findings.json"));
	cJSON *b = kc_jarena_take(tmp, get_json(post, "analysis/findings.json"));
	const cJSON *fa = kc_json_get(a, "findings");
	const cJSON *fb = kc_json_get(b, "findings");
	cJSON *resolved = cJSON_AddArrayToObject(out, "resolved");
	cJSON *persisting = cJSON_AddArrayToObject(out, "persisting");
	cJSON *added = cJSON_AddArrayToObject(out, "new");
	cJSON *reg = cJSON_AddArrayToObject(out, "regressions");
	struct finding_idx ia, ib;
	struct kc_buf k = KC_BUF_INIT(1u << 20);
	const cJSON *f;
	int r;

	memset(&ia, 0, sizeof(ia));
	memset(&ib, 0, sizeof(ib));
	if ((r = finding_index(fa, &ia, &k)) != 0 || (r = finding_index(fb, &ib, &k)) != 0)
		goto out;
	cJSON_ArrayForEach(f, fa) {
		if ((r = find_finding(&ib, f, &k)) < 0)
			goto out;
		cJSON_AddItemToArray(r ? persisting : resolved, doc_dup(arena, f));
	}
	cJSON_ArrayForEach(f, fb) {
		int kept;
		cJSON *g;

		if ((kept = find_finding(&ia, f, &k)) < 0) {
			r = kept;
			goto out;
		}
		if (!kept)
			cJSON_AddItemToArray(added, doc_dup(arena, f));
		/* AGR-024 is an evidence gap, not a permission: it does not regress. */
		if (strcmp(js(f, "id"), "AGR-024") == 0)
			continue;
		g = cJSON_CreateObject();
		cJSON_AddStringToObject(g, "id", "AGR-025");
		cJSON_AddStringToObject(g, "severity", "high");
		cJSON_AddStringToObject(g, "title", kept ? "keeps a flagged permission after remediation" :
		    "gained a flagged permission after remediation");
		cJSON_AddBoolToObject(g, "kept", kept);
		cJSON_AddItemToObject(g, "finding", doc_dup(arena, f));
		cJSON_AddItemToArray(reg, g);
	}
	r = 0;
out:
	finding_index_free(&ia);
	finding_index_free(&ib);
	kc_buf_free(&k);
	cJSON_Delete(a);
	cJSON_Delete(b);
	kc_jarena_free(tmp);
	return r;
}

/* ---- pods predating the remediation ---- */

static int
stale_pods(const struct bundle *post, const cJSON *agents, int64_t rem_ns, cJSON *out)
{
	struct kc_hmap idx;	/* "NS\x1fNAME" of every agent entry */
	const cJSON *p, *a;
	char key[1024];
	size_t i = 0;
	int r = 0;

	memset(&idx, 0, sizeof(idx));
	cJSON_ArrayForEach(a, agents) {
		if (kc_fmt(key, sizeof(key), "%s" US "%s", js(a, "namespace"), js(a, "name")) == 0 &&
		    (r = kc_hmap_add(&idx, key, i)) != 0)
			goto out;
		i++;
	}
	cJSON_ArrayForEach(p, post->snap.items[KC_RES_PODS]) {
		const char *ns = js(p, "metadata.namespace");
		const char *sa = js(p, "spec.serviceAccountName");
		const char *created;
		const struct kc_hmap_entry *e;

		if (sa[0] == '\0')
			sa = "default";
		if (kc_fmt(key, sizeof(key), "%s" US "%s", ns, sa) != 0 ||
		    (e = kc_hmap_get(&idx, key)) == NULL)
			continue;
		created = js(p, "metadata.creationTimestamp");
		if (ts_ns(created) >= rem_ns)
			continue;
		/* once per agent entry that names this account */
		for (size_t k = 0; k < e->n; k++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "namespace", ns);
			cJSON_AddStringToObject(o, "name", js(p, "metadata.name"));
			cJSON_AddStringToObject(o, "serviceAccount", sa);
			cJSON_AddStringToObject(o, "created", created);
			cJSON_AddItemToArray(out, o);
		}
	}
out:
	kc_hmap_free(&idx);
	return r == 0 ? 0 : kc_err_set(KC_ERR_NOMEM, "out of memory");
}

/* ---- POST audit segment ---- */

struct audit_ctx {
	struct kc_buf line;
	const cJSON *agents;
	const struct kc_rbac *rb_post;
	int64_t rem_ns;
	cJSON *denied;		/* aggregated */
	cJSON *reads;
	cJSON *secret_reads;	/* {"ns/name of agent": ["ns/secret", ...]}: any time */
	int breach_only;	/* PRE segment: record secret reads only */
	long long denied_total;
	int overflow;
	struct kc_hmap agent_users;	/* "system:serviceaccount:NS:NAME" of every agent */
	struct kc_hmap denied_idx;	/* user US verb US resource US namespace -> denied_v */
	cJSON **denied_v;
	size_t ndenied, capdenied;
	struct kc_buf key;
	int nomem;		/* an index could not grow: the result would be wrong */
};

/* A successful secret read by an agent, for the breach assessment:
 * "ns/name"; "ns/" + "*" for a list in a namespace; "*" for a cluster-wide list. */
static void
note_secret_read(struct audit_ctx *c, const char *user, const cJSON *ev)
{
	const char *ns = js(ev, "objectRef.namespace"), *name = js(ev, "objectRef.name");
	/* both are names compared and looked up: built whole, as long as the
	 * event's (its line is capped), never cut to a buffer */
	struct kc_buf who = KC_BUF_INIT(c->line.max), what = KC_BUF_INIT(c->line.max);
	const char *colon;
	cJSON *arr, *it;

	if (strncmp(user, "system:serviceaccount:", 22) != 0 || c->secret_reads == NULL)
		return;
	colon = strchr(user + 22, ':');
	if ((colon != NULL ? kc_buf_addf(&who, "%.*s/%s", (int)(colon - user - 22), user + 22, colon + 1) :
	    kc_buf_adds(&who, user + 22)) != 0 ||
	    (ns[0] == '\0' ? kc_buf_adds(&what, name[0] ? name : "*") :
	    kc_buf_addf(&what, "%s/%s", ns, name[0] ? name : "*")) != 0)
		goto out;	/* out of memory: as a failed cJSON_Add below */
	if ((arr = kc_json_get_mut(c->secret_reads, kc_buf_str(&who))) == NULL)
		arr = cJSON_AddArrayToObject(c->secret_reads, kc_buf_str(&who));
	cJSON_ArrayForEach(it, arr)
		if (strcmp(it->valuestring, kc_buf_str(&what)) == 0)
			goto out;
	cJSON_AddItemToArray(arr, cJSON_CreateString(kc_buf_str(&what)));
out:
	kc_buf_free(&who);
	kc_buf_free(&what);
}

static int
is_agent(const struct audit_ctx *c, const char *user)
{
	/* user == "system:serviceaccount:NS:NAME", whole */
	return strncmp(user, "system:serviceaccount:", 22) == 0 &&
	    kc_hmap_get(&c->agent_users, user) != NULL;
}

/* A denied request by an agent, aggregated by user, verb, resource and
 * namespace. */
static void
note_denied(struct audit_ctx *c, const cJSON *ev, const char *user, const char *verb,
    const char *res, long status)
{
	cJSON *d, *found = NULL;
	const char *ns = js(ev, "objectRef.namespace"), *t = js(ev, "requestReceivedTimestamp");

	const struct kc_hmap_entry *e = NULL;

	c->denied_total++;
	kc_buf_reset(&c->key);
	if (kc_buf_addf(&c->key, "%s" US "%s" US "%s" US "%s", user, verb, res, ns) == 0 &&
	    (e = kc_hmap_get(&c->denied_idx, kc_buf_str(&c->key))) != NULL) {
		/* the last entry with these four, checked whole */
		for (size_t i = e->n; i-- > 0 && found == NULL;) {
			d = c->denied_v[e->vals[i]];
			if (strcmp(js(d, "user"), user) == 0 && strcmp(js(d, "verb"), verb) == 0 &&
			    strcmp(js(d, "resource"), res) == 0 && strcmp(js(d, "namespace"), ns) == 0)
				found = d;
		}
	}
	if (found == NULL) {
		found = cJSON_CreateObject();
		cJSON_AddStringToObject(found, "user", user);
		cJSON_AddStringToObject(found, "verb", verb);
		cJSON_AddStringToObject(found, "resource", res);
		cJSON_AddStringToObject(found, "namespace", ns);
		cJSON_AddNumberToObject(found, "code", (double)status);
		cJSON_AddNumberToObject(found, "count", 0);
		cJSON_AddStringToObject(found, "first", t);
		cJSON_AddStringToObject(found, "last", t);
		cJSON_AddItemToArray(c->denied, found);
		if (KC_GROW(c->denied_v, c->capdenied, c->ndenied + 1) == 0 &&
		    kc_hmap_add(&c->denied_idx, kc_buf_str(&c->key), c->ndenied) == 0)
			c->denied_v[c->ndenied++] = found;
		else
			c->nomem = 1;
	}
	cJSON_SetNumberValue(kc_json_get_mut(found, "count"),
	    kc_json_get(found, "count")->valuedouble + 1);
	if (strcmp(t, js(found, "first")) < 0)
		kc_json_set(found, "first", cJSON_CreateString(t));
	if (strcmp(t, js(found, "last")) > 0)
		kc_json_set(found, "last", cJSON_CreateString(t));
}

/* A sensitive read by an agent after the remediation.  Would the POST
 * RBAC state allow it?  A read the remediated RBAC does not allow, or any
 * secret read, is a bypass. */
static void
note_read(struct audit_ctx *c, const cJSON *ev, const char *user, const char *verb,
    const char *res, long status)
{
	cJSON *o = cJSON_CreateObject();
	struct kc_rbac_sa_id id;
	struct kc_rbac_request rq;
	struct kc_rbac_decision dd;
	char sns[256], sname[256];
	int permitted = 0;

	if (sscanf(user, "system:serviceaccount:%255[^:]:%255s", sns, sname) == 2 &&
	    kc_rbac_sa_identity(&id, sns, sname) == 0) {
		memset(&rq, 0, sizeof(rq));
		rq.verb = verb;
		rq.group = js(ev, "objectRef.apiGroup");
		rq.resource = res;
		rq.subresource = js(ev, "objectRef.subresource");
		rq.name = js(ev, "objectRef.name");
		rq.ns = js(ev, "objectRef.namespace");
		if (kc_rbac_authorize(c->rb_post, &id.id, &rq, &dd) == 0)
			permitted = dd.allowed;
	}
	cJSON_AddBoolToObject(o, "permitted_by_post_rbac", permitted);
	cJSON_AddBoolToObject(o, "escalate", !permitted || strcmp(res, "secrets") == 0);
	cJSON_AddStringToObject(o, "auditID", js(ev, "auditID"));
	cJSON_AddStringToObject(o, "user", user);
	cJSON_AddStringToObject(o, "verb", verb);
	cJSON_AddStringToObject(o, "resource", res);
	cJSON_AddStringToObject(o, "namespace", js(ev, "objectRef.namespace"));
	cJSON_AddStringToObject(o, "name", js(ev, "objectRef.name"));
	cJSON_AddStringToObject(o, "time", js(ev, "requestReceivedTimestamp"));
	cJSON_AddNumberToObject(o, "code", (double)status);
	cJSON_AddItemToArray(c->reads, o);
}

static int
is_read(const char *verb)
{
	return strcmp(verb, "get") == 0 || strcmp(verb, "list") == 0 || strcmp(verb, "watch") == 0;
}

/* One audit event (a line of a segment).  Members by kc_json_get: with
 * duplicate keys the last wins, as in the audit filter, so `kcustody
 * audit` and `kcustody diff` attribute an event to the same user. */
static void
audit_line(struct audit_ctx *c, const char *s, size_t n)
{
	cJSON *ev = cJSON_ParseWithLength(s, n);
	const cJSON *code;
	const char *user, *verb, *res, *dec, *stage;
	long status;
	int denied;

	if (ev == NULL)
		return;
	stage = js(ev, "stage");
	if (stage[0] != '\0' && strcmp(stage, "ResponseComplete") != 0 && strcmp(stage, "Panic") != 0)
		goto out;	/* one event per request: the final stage */
	user = js(ev, "impersonatedUser.username");
	if (user[0] == '\0')
		user = js(ev, "user.username");
	if (!is_agent(c, user))
		goto out;
	verb = js(ev, "verb");
	res = js(ev, "objectRef.resource");
	/* the key holds dots: a member, not a dotted path */
	dec = kc_json_str0(kc_json_get(ev, "annotations"), "authorization.k8s.io/decision");
	code = kc_json_path(ev, "responseStatus.code");
	status = cJSON_IsNumber(code) ? (long)code->valuedouble : 0;
	denied = strcmp(dec, "forbid") == 0 || status == 401 || status == 403;
	if (!denied && status < 400 && strcmp(res, "secrets") == 0 &&
	    js(ev, "objectRef.subresource")[0] == '\0' && js(ev, "objectRef.apiGroup")[0] == '\0' &&
	    is_read(verb))
		note_secret_read(c, user, ev);
	if (c->breach_only)
		goto out;
	if (denied)
		note_denied(c, ev, user, verb, res, status);
	else if (is_read(verb) && kc_sensitive_resource(res) &&
	    ts_ns(js(ev, "requestReceivedTimestamp")) >= c->rem_ns)
		note_read(c, ev, user, verb, res, status);
out:
	cJSON_Delete(ev);
}

static int
audit_sink(void *vctx, const void *p, size_t n)
{
	struct audit_ctx *c = vctx;
	const char *s = p, *nl;

	while (n > 0) {
		nl = memchr(s, '\n', n);
		size_t take = nl ? (size_t)(nl - s) : n;

		if (kc_buf_add(&c->line, s, take) != 0) {
			c->overflow = 1;	/* a line over the cap: skip it */
			kc_buf_reset(&c->line);
		}
		if (nl == NULL)
			break;
		if (!c->overflow)
			audit_line(c, c->line.data ? c->line.data : "", c->line.len);
		c->overflow = 0;
		kc_buf_reset(&c->line);
		s = nl + 1;
		n -= take + 1;
	}
	return 0;
}

static int
audit_stream(struct bundle *post, struct audit_ctx *c)
{
	int r = 0;

	if (post->has_segment) {
		if (post->src.dir != NULL) {
			char *seg = kc_path_join(post->src.dir, "audit/segment.jsonl"), chunk[65536];
			FILE *fp = seg ? fopen(seg, "r") : NULL;
			size_t k;

			if (fp == NULL)
				r = kc_err_set(KC_ERR_IO, "cannot read '%s'", seg ? seg : "audit/segment.jsonl");
			while (fp != NULL && (k = fread(chunk, 1, sizeof(chunk), fp)) > 0)
				audit_sink(c, chunk, k);
			if (fp != NULL)
				fclose(fp);
			free(seg);
		} else {
			/* the same file as the members read at open */
			r = kc_bundle_read_member_pinned(post->path, "audit/segment.jsonl", post->sha256, audit_sink, c);
		}
		if (r == 0 && c->line.len > 0)
			audit_line(c, c->line.data, c->line.len);
	}
	kc_buf_reset(&c->line);
	return r;
}

/* POST's segment: denials and sensitive reads after the remediation; both
 * segments: every secret read by an agent (secret_reads, borrowed). */
static int
audit_diff(struct bundle *pre, struct bundle *post, const struct kc_rbac *rb_post, const cJSON *agents,
    int64_t rem_ns, cJSON *secret_reads, cJSON *out)
{
	struct audit_ctx c;
	int r;

	memset(&c, 0, sizeof(c));
	c.rb_post = rb_post;
	kc_buf_init(&c.line, 64u << 20);
	c.agents = agents;
	c.rem_ns = rem_ns;
	c.secret_reads = secret_reads;
	kc_buf_init(&c.key, 1u << 16);
	{
		const cJSON *a;

		cJSON_ArrayForEach(a, agents) {
			kc_buf_reset(&c.key);
			if (kc_buf_addf(&c.key, "system:serviceaccount:%s:%s", js(a, "namespace"),
			    js(a, "name")) != 0 || kc_hmap_add(&c.agent_users, kc_buf_str(&c.key), 0) != 0) {
				kc_hmap_free(&c.agent_users);
				kc_buf_free(&c.key);
				kc_buf_free(&c.line);
				return kc_err_set(KC_ERR_NOMEM, "out of memory");
			}
		}
	}
	c.denied = cJSON_AddArrayToObject(out, "denied");
	c.reads = cJSON_AddArrayToObject(out, "sensitive_reads_after_remediation");
	cJSON_AddBoolToObject(out, "pre_segment", pre->has_segment);
	cJSON_AddBoolToObject(out, "post_segment", post->has_segment);
	c.breach_only = 1;
	if ((r = audit_stream(pre, &c)) == 0) {
		c.breach_only = 0;
		r = audit_stream(post, &c);
	}
	if (r == 0 && c.nomem)
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddNumberToObject(out, "denied_total", (double)c.denied_total);
	/* Sources that cannot hold reads (AKS kube-audit-admin, GKE Admin
	 * Activity): reads after remediation are not determinable, never 0.
	 * Bundles from before provider exports have no "reads": native logs. */
	if (post->has_segment) {
		cJSON *sj = get_json(post, "audit/sources.json");
		const char *vis = js(sj, "reads.visible");
		const cJSON *blind = kc_json_get(kc_json_get(sj, "reads"), "blind");

		if (vis[0] == '\0')
			vis = "all";
		cJSON_AddStringToObject(out, "reads_visible", vis);
		cJSON_AddBoolToObject(out, "reads_determinable", strcmp(vis, "none") != 0 && strcmp(vis, "some") != 0);
		if (cJSON_IsArray(blind))
			cJSON_AddItemToObject(out, "reads_blind", cJSON_Duplicate(blind, 1));
		cJSON_Delete(sj);
	}
	kc_buf_free(&c.line);
	kc_buf_free(&c.key);
	kc_hmap_free(&c.agent_users);
	kc_hmap_free(&c.denied_idx);
	free(c.denied_v);
	return r;
}

/* The breach assessment, its PRE half: per agent, in the order of agents,
 * the PRE secrets its grants let it get (rbac/secreach.h, the analysis's
 * own answer), appended to reaches.  Computed while PRE is loaded, so
 * PRE can go before the findings and the audit are read. */
static int
breach_reach(const struct bundle *pre, const struct kc_rbac *rb_pre, const cJSON *agents, cJSON *reaches)
{
	const cJSON *a;
	struct kc_secret_index sx;
	struct kc_rbac_rules cl;
	size_t *cand = NULL, ncand = 0, capcand = 0;
	int r;

	memset(&cl, 0, sizeof(cl));
	/* secrets_reachable: get on each PRE secret the account's grants
	 * could allow */
	if ((r = kc_secret_index_build(&sx, pre->snap.items[KC_RES_SECRETS])) != 0)
		return r;
	cJSON_ArrayForEach(a, agents) {
		struct kc_rbac_sa_id id;
		cJSON *reach = cJSON_CreateArray();

		if (reach == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			break;
		}
		cJSON_AddItemToArray(reaches, reach);
		if ((r = kc_rbac_sa_identity(&id, js(a, "namespace"), js(a, "name"))) != 0 ||
		    (r = kc_rbac_rules_for(rb_pre, &id.id, "", &cl)) != 0 ||
		    (r = kc_rbac_rb_candidates(rb_pre, &id.id, &cand, &ncand, &capcand)) != 0 ||
		    (r = kc_secrets_reachable(rb_pre, &sx, &id.id, &cl, cand, ncand, reach)) != 0)
			break;
	}
	kc_rbac_rules_free(&cl);
	free(cand);
	kc_secret_index_free(&sx);
	return r;
}

/* The breach assessment: whatever the remediation achieved, an agent that
 * could reach secrets before it (PRE) or was seen reading them (audit)
 * keeps the incident URGENT until the secrets are rotated.  Per agent:
 * the secrets it read and those PRE's RBAC let it get, by name (reaches,
 * from breach_reach, taken). */
static int
breach_assessment(cJSON *agents, cJSON *reaches, const cJSON *secret_reads, cJSON *out)
{
	cJSON *a, *list = cJSON_AddArrayToObject(out, "agents");
	int urgent = 0, r = 0;

	cJSON_ArrayForEach(a, agents) {
		const char *ns = js(a, "namespace"), *name = js(a, "name");
		const cJSON *read;
		cJSON *o, *reach;
		char who[600];

		/* the key of the agent's reads: whole or an error */
		if ((r = kc_fmt(who, sizeof(who), "%s/%s", ns, name)) != 0)
			break;
		if ((reach = cJSON_DetachItemFromArray(reaches, 0)) == NULL) {
			r = kc_err_set(KC_ERR_INVALID, "breach assessment: no reach computed for %s", who);
			break;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "namespace", ns);
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddBoolToObject(o, "could_read_secrets", cJSON_IsTrue(kc_json_get(a,
		    "secrets_before")));
		cJSON_AddItemToObject(o, "secrets_reachable", reach);
		read = kc_json_get(secret_reads, who);
		cJSON_AddItemToObject(o, "secrets_read", read ? cJSON_Duplicate(read, 1) : cJSON_CreateArray());
		if (cJSON_IsTrue(kc_json_get(o, "could_read_secrets")) ||
		    cJSON_GetArraySize(reach) > 0 || cJSON_GetArraySize(read) > 0)
			urgent = 1;
		cJSON_AddItemToArray(list, o);
	}
	if (r != 0)
		return r;
	cJSON_AddStringToObject(out, "verdict", urgent ? "URGENT" : "ROUTINE");
	cJSON_AddStringToObject(out, "reason", urgent ?
	    "an agent could read secrets before the remediation (PRE) or read them (audit): treat those "
	    "secrets as exposed and rotate them, whatever the remediation verdict" :
	    "no agent could read secrets in PRE and no agent secret read is in the audit segments");
	return 0;
}

/* ---- putting it together ---- */

/* The CA for the copied audit-sink chain's tokens, as verify picks it:
 * --audit-chain-tsa-ca, else the bundles' --tsa-ca (not read under
 * --no-verify), else none (the tokens are counted, not checked). */
static const char *
chain_tsa_ca(const struct kc_diff_opts *o)
{
	if (o->audit_chain_tsa_ca != NULL)
		return o->audit_chain_tsa_ca;
	return o->no_verify ? NULL : o->tsa_ca;
}

/* The verify options diff's own give: one place, so the bundles verified
 * side by side (kc_diff_bundles) and one verified alone (verify_one) are
 * judged by the same key, CA, TSA CA and --allow-unsigned. */
static void
diff_verify_opts(const struct kc_diff_opts *o, struct kc_verify_opts *vo)
{
	kc_verify_opts_init(vo, o->pubkey_path, o->ca_path, o->tsa_ca, o->allow_unsigned);
}

/* cont: where the audit-sink chain's check, made here, is kept for the
 * output's continuity (audit_continuity asks the same of the same file),
 * or NULL. */
static int
verify_one(const struct kc_diff_opts *o, const char *path, const char *want, const struct kc_verify_result *given,
    cJSON *desc, char pin[KC_SHA256_HEX], struct kc_verify_result *vr_out, cJSON **cont)
{
	struct kc_verify_opts vo;
	struct kc_verify_result vr;
	int r;

	if (o->no_verify) {
		cJSON_AddStringToObject(desc, "verification", "not verified (--no-verify)");
		return 0;
	}
	diff_verify_opts(o, &vo);
	if (given != NULL) {	/* judged by the caller or in the pass, as here */
		vr = *given;
		r = vr.valid ? 0 : KC_ERR_VERIFY;
	} else {
		r = kc_bundle_verify(path, &vo, &vr);
	}
	if (r == KC_ERR_VERIFY)
		return kc_bundle_invalid_err(path, &vr, "(use --no-verify to compare anyway)");
	if (r != 0)
		return r;
	/* as verify: an audit-sink chain copied into the bundle must verify
	 * from its members (checked with --audit-chain-pubkey, else with the
	 * bundle's copy of the sink key; its tokens with chain_tsa_ca) */
	{
		cJSON *c = NULL;

		r = kc_achain_bundle_continuity_tsa(path, o->audit_chain_pubkey, chain_tsa_ca(o), 0,
		    vr.sha256[0] ? vr.sha256 : NULL, &c);
		if (r == KC_ERR_VERIFY && c == NULL)	/* another file than the one verified */
			return r;
		if (r == KC_ERR_VERIFY) {
			char first[600];

			kc_achain_first_tampering(c, first, sizeof(first));
			kc_err_set(KC_ERR_VERIFY, "'%s' is not a valid bundle: audit check failed: %s%s%s (use --no-verify "
			    "to compare anyway)", path, kc_json_str0(c, "summary"), first[0] ? "; " : "", first);
			cJSON_Delete(c);
			return KC_ERR_VERIFY;
		}
		if (r != 0) {
			cJSON_Delete(c);
			return r;
		}
		if (cont != NULL) {
			cJSON_Delete(*cont);
			*cont = c;
		} else {
			cJSON_Delete(c);
		}
	}
	cJSON_AddStringToObject(desc, "verification", "valid");
	cJSON_AddStringToObject(desc, "signer", vr.signer);
	if (vr_out != NULL)
		*vr_out = vr;
	memcpy(pin, vr.sha256, KC_SHA256_HEX);
	if (want != NULL && !kc_digest_eq(want, pin))
		return kc_err_set(KC_ERR_VERIFY, "'%s' changed after it was verified (SHA-256 %.16s... verified, "
		    "%.16s... read now)", path, want, pin);
	return 0;
}

static cJSON *
describe(const struct bundle *b)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "path", b->path);
	cJSON_AddStringToObject(d, "sha256", b->sha256);
	cJSON_AddStringToObject(d, "bundle_id", js(b->manifest, "bundle_id"));
	cJSON_AddStringToObject(d, "case", js(b->manifest, "case.id"));
	cJSON_AddStringToObject(d, "phase", js(b->manifest, "case.phase"));
	cJSON_AddStringToObject(d, "started", js(b->manifest, "times.started"));
	cJSON_AddStringToObject(d, "finished", js(b->manifest, "times.finished"));
	cJSON_AddStringToObject(d, "triage", js(b->manifest, "findings_summary.triage"));
	return d;
}

/* PRE and POST can be compared: one cluster, two bundles, in order.
 * Sets the end of PRE and the remediation time. */
static int
check_pair(const struct kc_diff_opts *o, const struct bundle *pre, const struct bundle *post,
    int64_t *pre_end, int64_t *rem_ns)
{
	const char *uid_pre = js(pre->manifest, "cluster.kube_system_uid");
	const char *uid_post = js(post->manifest, "cluster.kube_system_uid");
	const char *id_pre = js(pre->manifest, "bundle_id");
	int64_t post_start;

	if (strcmp(uid_pre, uid_post) != 0 || uid_pre[0] == '\0')
		return kc_err_set(KC_ERR_INVALID, "the bundles come from different clusters "
		    "(kube-system UID %s in PRE, %s in POST)",
		    uid_pre[0] ? uid_pre : "unknown", uid_post[0] ? uid_post : "unknown");
	if (id_pre[0] != '\0' && strcmp(id_pre, js(post->manifest, "bundle_id")) == 0)
		return kc_err_set(KC_ERR_INVALID, "PRE and POST are the same bundle (bundle id %s): give the "
		    "bundle collected before the remediation and the one collected after it", id_pre);
	*pre_end = ts_ns(js(pre->manifest, "times.finished"));
	post_start = ts_ns(js(post->manifest, "times.started"));
	if (*pre_end == 0 || post_start == 0 || *pre_end > post_start)
		return kc_err_set(KC_ERR_INVALID, "PRE (%s, finished %s) is not older than POST (%s, started %s); "
		    "give the bundles in the order they were collected", o->pre,
		    js(pre->manifest, "times.finished"), o->post, js(post->manifest, "times.started"));
	if (o->remediated_at == NULL) {
		*rem_ns = *pre_end;
		return 0;
	}
	if ((*rem_ns = ts_ns(o->remediated_at)) == 0)
		return kc_err_set(KC_ERR_INVALID, "--remediated-at '%s' is not an RFC 3339 time", o->remediated_at);
	return 0;
}

/* The document's head: schema, the two bundles (with their verification
 * in dpre and dpost), the cluster, the remediation time. */
static cJSON *
diff_head(const struct kc_diff_opts *o, const struct bundle *pre, const struct bundle *post,
    const cJSON *dpre, const cJSON *dpost, int64_t rem_ns)
{
	cJSON *d = cJSON_CreateObject(), *dp = describe(pre), *dq = describe(post), *it, *c;
	char tb[40];

	cJSON_AddStringToObject(d, "schema", "kcustody.diff/v1");
	cJSON_AddBoolToObject(d, "verified", !o->no_verify);
	cJSON_ArrayForEach(it, dpre)
		cJSON_AddItemToObject(dp, it->string, cJSON_Duplicate(it, 1));
	cJSON_ArrayForEach(it, dpost)
		cJSON_AddItemToObject(dq, it->string, cJSON_Duplicate(it, 1));
	cJSON_AddItemToObject(d, "pre", dp);
	cJSON_AddItemToObject(d, "post", dq);
	c = cJSON_AddObjectToObject(d, "cluster");
	cJSON_AddStringToObject(c, "kube_system_uid", js(post->manifest, "cluster.kube_system_uid"));
	cJSON_AddStringToObject(c, "server", js(post->manifest, "cluster.server"));
	cJSON_AddStringToObject(d, "remediated_at", kc_fmt_rfc3339((time_t)(rem_ns / 1000000000), tb, sizeof(tb)));
	cJSON_AddStringToObject(d, "remediated_at_source", o->remediated_at ? "--remediated-at" :
	    "end of the PRE collection");
	return d;
}

struct perm_counts {
	long removed, added, kept;
};

/* One agent's permissions in PRE and POST, over the namespaces either
 * bundle makes relevant to it. */
static int
agent_diff(const struct kc_rbac *rb_pre, const struct kc_rbac *rb_post, const struct nslist *l,
    cJSON *a, struct perm_counts *n, struct kc_jarena *arena)
{
	struct permset ppre, ppost;
	int r;

	memset(&ppre, 0, sizeof(ppre));
	memset(&ppost, 0, sizeof(ppost));
	/* each side judged by its own cluster's discovery (rbac/reach.h) */
	kc_rbac_discovery_use(rb_pre->snap->disc);
	r = sa_perms(rb_pre, js(a, "namespace"), js(a, "name"), l, &ppre);
	kc_rbac_discovery_use(rb_post->snap->disc);
	if (r == 0)
		r = sa_perms(rb_post, js(a, "namespace"), js(a, "name"), l, &ppost);
	if (r == 0) {
		sa_compare(&ppre, &ppost, a, arena);
		n->removed += ppre.n - (long)cJSON_GetArraySize(kc_json_get(a, "kept"));
		n->added += (long)cJSON_GetArraySize(kc_json_get(a, "added"));
		n->kept += (long)cJSON_GetArraySize(kc_json_get(a, "kept"));
	}
	permset_free(&ppre);
	permset_free(&ppost);
	return r;
}

/* The verdict of the summary, most serious first. */
static void
verdict(const cJSON *d, const cJSON *fd, int nreads, int blind, cJSON *sum)
{
	int nnew = 0, nkept = 0;
	const char *v, *why;
	const cJSON *g;

	cJSON_ArrayForEach(g, kc_json_get(fd, "regressions")) {
		if (cJSON_IsTrue(kc_json_get(g, "kept")))
			nkept++;
		else
			nnew++;
	}
	if (nreads > 0) {
		v = "escalate";
		why = "after the remediation time an agent read secrets, or read data the remediated RBAC does not allow (policy bypass)";
	} else if (nnew > 0) {
		v = "regressed";
		why = "an agent service account gained a flagged permission (AGR-025)";
	} else if (nkept > 0) {
		v = "incomplete";
		why = "an agent service account keeps a flagged permission after remediation (AGR-025)";
	} else if (cJSON_GetArraySize(kc_json_get(d, "stale_pods")) > 0) {
		v = "incomplete";
		why = "agent pods predate the remediation and may hold tokens issued before it";
	} else if (blind) {
		v = "incomplete";
		why = "reads after the remediation are not determinable from the POST audit sources "
		    "(they do not log get, list and watch)";
	} else {
		v = "remediated";
		why = "no flagged permission kept or gained, no stale agent pods, no sensitive read after remediation";
	}
	cJSON_AddStringToObject(sum, "verdict", v);
	cJSON_AddStringToObject(sum, "verdict_reason", why);
	cJSON_AddStringToObject(sum, "breach_assessment", js(d, "breach_assessment.verdict"));
}

/* The reads after the remediation in the summary: counts, or "not
 * determinable" when no POST source logs reads. */
static void
summary_reads(const cJSON *d, const cJSON *fd, const cJSON *au, cJSON *sum)
{
	int nreads = 0;
	int blind = cJSON_IsFalse(kc_json_get(au, "reads_determinable"));
	int some = blind && strcmp(js(au, "reads_visible"), "some") == 0;
	const cJSON *g;

	cJSON_ArrayForEach(g, kc_json_get(au, "sensitive_reads_after_remediation"))
		nreads += cJSON_IsTrue(kc_json_get(g, "escalate"));
	if (blind && !some) {
		/* no source logs reads: 0 would be a false all-clear */
		cJSON_AddStringToObject(sum, "sensitive_reads_after_remediation", KC_NOT_DETERMINABLE);
		cJSON_AddStringToObject(sum, "policy_bypass_reads", KC_NOT_DETERMINABLE);
	} else {
		cJSON_AddNumberToObject(sum, "sensitive_reads_after_remediation",
		    cJSON_GetArraySize(kc_json_get(au, "sensitive_reads_after_remediation")));
		cJSON_AddNumberToObject(sum, "policy_bypass_reads", nreads);
	}
	if (blind)
		cJSON_AddStringToObject(sum, "reads_note", some ?
		    "some clusters' audit sources do not log reads (get, list, watch): their reads are not "
		    "determinable from these sources; the counts hold what the sources show" :
		    "the POST audit sources do not log reads (get, list, watch): sensitive reads and policy "
		    "bypasses are not determinable from these sources");
	verdict(d, fd, nreads, blind, sum);
}

/* Authorization errors in the agents' pod logs (rbac/logauthz.h), PRE
 * and POST side by side per agent, POST's lines listed: shown beside the
 * audit segment's denials (over-restriction after the remediation).  A
 * bundle without pod logs says so (collected false), never 0; when
 * neither has any, there is no such member. */
static void
log_authz(struct bundle *pre, struct bundle *post, cJSON *d)
{
	cJSON *lp = get_json(pre, "analysis/log-authz-errors.json");
	cJSON *lq = get_json(post, "analysis/log-authz-errors.json");
	cJSON *out, *agents;
	const cJSON *a;
	double total = 0;

	/* neither bundle has pod logs (both older, or --no-logs): the diff
	 * reads as it did before kcustody collected them */
	if ((lp == NULL && lq == NULL) || (out = cJSON_AddObjectToObject(d, "log_authz_errors")) == NULL) {
		cJSON_Delete(lp);
		cJSON_Delete(lq);
		return;
	}
	agents = cJSON_AddArrayToObject(out, "agents");

	cJSON_AddBoolToObject(out, "collected_pre", lp != NULL);
	cJSON_AddBoolToObject(out, "collected_post", lq != NULL);
	for (int side = 0; side < 2; side++) {
		cJSON_ArrayForEach(a, kc_json_get(side ? lq : lp, "agents")) {
			const char *sa = kc_json_str(a, "sa");
			const cJSON *m = kc_json_get(a, "matching_lines"), *nc = kc_json_get(a, "not_captured");
			cJSON *e = NULL, *x;

			if (sa == NULL)
				continue;
			cJSON_ArrayForEach(x, agents)
				if (strcmp(js(x, "sa"), sa) == 0)
					e = x;
			if (e == NULL) {
				if ((e = cJSON_CreateObject()) == NULL)
					continue;
				cJSON_AddStringToObject(e, "sa", sa);
				cJSON_AddItemToArray(agents, e);
			}
			cJSON_AddNumberToObject(e, side ? "post" : "pre", cJSON_IsNumber(m) ? m->valuedouble : 0);
			if (side) {
				total += cJSON_IsNumber(m) ? m->valuedouble : 0;
				cJSON_AddNumberToObject(e, "not_captured", cJSON_IsNumber(nc) ? nc->valuedouble : 0);
				if ((x = cJSON_Duplicate(kc_json_get(a, "lines"), 1)) != NULL) {
					while (cJSON_GetArraySize(x) > 20)
						cJSON_DeleteItemFromArray(x, 20);
					cJSON_AddItemToObject(e, "lines", x);
				}
			}
		}
	}
	cJSON_AddNumberToObject(out, "post_total", total);
	cJSON_Delete(lp);
	cJSON_Delete(lq);
}

static void
summary(cJSON *d, const cJSON *fd, const cJSON *au, const struct perm_counts *n)
{
	cJSON *sum = cJSON_AddObjectToObject(d, "summary");

	cJSON_AddNumberToObject(sum, "permissions_removed", (double)n->removed);
	cJSON_AddNumberToObject(sum, "permissions_added", (double)n->added);
	cJSON_AddNumberToObject(sum, "permissions_kept", (double)n->kept);
	cJSON_AddNumberToObject(sum, "findings_resolved", cJSON_GetArraySize(kc_json_get(fd, "resolved")));
	cJSON_AddNumberToObject(sum, "findings_persisting", cJSON_GetArraySize(kc_json_get(fd, "persisting")));
	cJSON_AddNumberToObject(sum, "findings_new", cJSON_GetArraySize(kc_json_get(fd, "new")));
	cJSON_AddNumberToObject(sum, "stale_pods", cJSON_GetArraySize(kc_json_get(d, "stale_pods")));
	cJSON_AddNumberToObject(sum, "denied_requests", kc_json_get(au, "denied_total")->valuedouble);
	if (cJSON_IsTrue(kc_json_path(d, "log_authz_errors.collected_post")))
		cJSON_AddNumberToObject(sum, "log_authz_errors",
		    kc_json_path(d, "log_authz_errors.post_total")->valuedouble);
	summary_reads(d, fd, au, sum);
}

/* Everything after the head: agents, RBAC objects, findings, stale
 * pods, audit, breach assessment, summary. */
/* Each side's audit continuity (manifest/auditchain_bundle.h: a copied
 * audit-sink chain re-checked from the bundle's members, else what the
 * manifest recorded, inferred from timestamps, or none), and whether they
 * differ. */
static int
audit_continuity(const struct kc_diff_opts *o, const struct bundle *pre, const struct bundle *post, cJSON *au)
{
	const struct bundle *b[2] = { pre, post };
	static const char *const side[2] = { "pre", "post" };
	char st[2][64];
	cJSON *c = cJSON_AddObjectToObject(au, "continuity");

	if (c == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (int i = 0; i < 2; i++) {
		cJSON *doc = NULL, *s = cJSON_AddObjectToObject(c, side[i]);
		/* made by verify_one of this file with these arguments, or now */
		int r = b[i]->continuity != NULL ? 0 : kc_achain_bundle_continuity_tsa(b[i]->path,
		    o->audit_chain_pubkey, chain_tsa_ca(o), 0, b[i]->src.dir ? NULL : b[i]->sha256, &doc);

		if (b[i]->continuity != NULL)
			doc = cJSON_Duplicate(b[i]->continuity, 1);

		if (s == NULL) {
			cJSON_Delete(doc);
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		}
		kc_fmt_trunc(st[i], sizeof(st[i]), "%s", doc ? kc_json_str0(doc, "state") : "unreadable");
		cJSON_AddStringToObject(s, "state", st[i]);
		cJSON_AddStringToObject(s, "summary", doc ? kc_json_str0(doc, "summary") : kc_err_msg());
		cJSON_AddNumberToObject(s, "gaps", doc ? cJSON_GetArraySize(kc_json_get(doc, "gaps")) : 0);
		cJSON_Delete(doc);
		(void)r;
		kc_err_clear();
	}
	cJSON_AddBoolToObject(c, "differs", strcmp(st[0], st[1]) != 0);
	return 0;
}

static int
diff_body(const struct kc_diff_opts *o, struct bundle *pre, struct bundle *post, struct kc_rbac *rb_pre,
    int *have_rb_pre, const struct kc_rbac *rb_post, int64_t pre_end, int64_t rem_ns, cJSON *d)
{
	struct perm_counts n = { 0, 0, 0 };
	struct nslist l;
	cJSON *agents, *a, *fd, *au, *secret_reads, *reaches;
	int r;

	agents = cJSON_AddArrayToObject(d, "agents");
	if ((r = agent_list(pre, post, agents)) != 0)
		return r;
	memset(&l, 0, sizeof(l));
	r = collect_namespaces(pre, post, &l);
	for (a = agents->child; a != NULL && r == 0; a = a->next)
		r = agent_diff(rb_pre, rb_post, &l, a, &n, o->arena);
	nslist_free(&l);
	if (r != 0)
		return r;
	if ((r = rbac_objects(pre, post, cJSON_AddObjectToObject(d, "rbac_objects"), pre_end)) != 0)
		return r;
	/* the last reader of PRE's objects; then they go (a third of the
	 * peak at 150k objects): what follows reads PRE's members only */
	if ((reaches = cJSON_CreateArray()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	kc_rbac_discovery_use(rb_pre->snap->disc);
	r = breach_reach(pre, rb_pre, agents, reaches);
	kc_rbac_discovery_use(NULL);
	if (r == 0)
		r = pack_children(o->arena, reaches);
	if (r != 0) {
		cJSON_Delete(reaches);
		return r;
	}
	kc_rbac_free(rb_pre);
	*have_rb_pre = 0;
	kc_snapshot_free(&pre->snap);
	fd = cJSON_AddObjectToObject(d, "findings");
	if ((r = findings_diff(pre, post, fd, o->arena)) != 0) {
		cJSON_Delete(reaches);
		return r;
	}
	if ((r = stale_pods(post, agents, rem_ns, cJSON_AddArrayToObject(d, "stale_pods"))) != 0 ||
	    (r = pack_children(o->arena, kc_json_get_mut(d, "stale_pods"))) != 0) {
		cJSON_Delete(reaches);
		return r;
	}
	au = cJSON_AddObjectToObject(d, "audit");
	if ((secret_reads = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(reaches);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	kc_rbac_discovery_use(rb_post->snap->disc);
	if ((r = audit_diff(pre, post, rb_post, agents, rem_ns, secret_reads, au)) == 0 &&
	    (r = audit_continuity(o, pre, post, au)) == 0)
		r = breach_assessment(agents, reaches, secret_reads, cJSON_AddObjectToObject(d, "breach_assessment"));
	if (r == 0)
		log_authz(pre, post, d);
	if (r == 0)
		summary(d, fd, au, &n);
	cJSON_Delete(secret_reads);
	cJSON_Delete(reaches);
	return r;
}

int
kc_diff_bundles(const struct kc_diff_opts *o, cJSON **out)
{
	struct bundle pre, post;
	struct kc_rbac rb_pre, rb_post;
	int have_rb_pre = 0, have_rb_post = 0, r;
	cJSON *d = NULL, *dpre = NULL, *dpost = NULL;
	int64_t rem_ns = 0, pre_end = 0;
	char pin_pre[KC_SHA256_HEX] = "", pin_post[KC_SHA256_HEX] = "";
	struct pod_filter pods = { .key = KC_BUF_INIT(1u << 16) };
	const struct kc_verify_result *given_pre = o->pre_verified, *given_post = o->post_verified;
	int given = o->pre_verified != NULL && o->post_verified != NULL;	/* verified by the caller */
	struct kc_verify_opts vo;
	cJSON *cont_pre = NULL, *cont_post = NULL;	/* the chain checks verify_one made */
	struct load_job jpre = { .b = &pre, .path = o->pre, .level = KC_SNAP_DIFF_PRE },
			jpost = { .b = &post, .path = o->post, .level = KC_SNAP_DIFF_POST, .pods = &pods };

	*out = NULL;
	memset(&pre, 0, sizeof(pre));
	memset(&post, 0, sizeof(post));
	if ((dpre = cJSON_CreateObject()) == NULL || (dpost = cJSON_CreateObject()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	diff_verify_opts(o, &vo);
	pods.pre = &pre;
	pods.post = &post;
	if (!o->no_verify && pthread_mutex_init(&pods.mu, NULL) == 0) {
		if (pthread_cond_init(&pods.cv, NULL) != 0) {
			pthread_mutex_destroy(&pods.mu);
		} else {
			pods.threaded = 1;
		}
	}
	if (pods.threaded) {
		/* each file read once, PRE and POST side by side: verified in
		 * the same pass (or, verified by the caller, pinned to that) */
		if (given) {
			jpre.pin = o->pre_verified->sha256;
			jpost.pin = o->post_verified->sha256;
		} else {
			jpre.vo = jpost.vo = &vo;
		}
		read_side_by_side(&jpre, &jpost);
		if (jpre.r == KC_ERR_NOMEM || jpost.r == KC_ERR_NOMEM ||
		    (!given && !o->caller_reverifies && (!jpre.vr.valid || !jpost.vr.valid))) {
			/* out of memory beside each other, or a bundle not
			 * found valid (a check can fail for want of memory
			 * too): everything read is let go and the bundles are
			 * verified alone, then read one after the other, as
			 * below; an invalid bundle is then said as before */
			bundle_close(&pre);
			bundle_close(&post);
			memset(&pre, 0, sizeof(pre));
			memset(&post, 0, sizeof(post));
			filter_free(&pods);
			memset(&pods, 0, sizeof(pods));
			kc_buf_init(&pods.key, 1u << 16);
			pods.pre = &pre;
			pods.post = &post;
		}
	}
	if (pods.threaded) {
	/* judged as verify_one judges each; one whose checks were not
		 * reached (a file that cannot be read) is verified again, alone,
		 * for verify_one's message */
		given_pre = given ? o->pre_verified : jpre.judged ? &jpre.vr : NULL;
		given_post = given ? o->post_verified : jpost.judged ? &jpost.vr : NULL;
		kc_err_clear();
		if ((r = verify_one(o, o->pre, o->pre_sha256, given_pre, dpre, pin_pre, o->pre_vr_out, &cont_pre)) != 0 ||
		    (r = verify_one(o, o->post, o->post_sha256, given_post, dpost, pin_post, o->post_vr_out, &cont_post)) != 0)
			goto out_filter;
		/* then what reading each gave, PRE's first */
		if (jpre.r != 0) {
			r = kc_err_restore(&jpre.err, jpre.r);
			goto out_filter;
		}
		if (jpost.r != 0) {
			r = kc_err_restore(&jpost.err, jpost.r);
			goto out_filter;
		}
		/* the files read are the files verified (pinned or the same pass) */
		if (!kc_digest_eq(pre.sha256, pin_pre) || !kc_digest_eq(post.sha256, pin_post)) {
			r = kc_err_set(KC_ERR_VERIFY, "'%s' changed after it was verified",
			    !kc_digest_eq(pre.sha256, pin_pre) ? o->pre : o->post);
			goto out_filter;
		}
	} else {
		if ((r = verify_one(o, o->pre, o->pre_sha256, given_pre, dpre, pin_pre, o->pre_vr_out, &cont_pre)) != 0 ||
		    (r = verify_one(o, o->post, o->post_sha256, given_post, dpost, pin_post, o->post_vr_out, &cont_post)) != 0)
			goto out_filter;
		if ((r = bundle_open(&pre, o->pre, o->no_verify ? NULL : pin_pre, KC_SNAP_DIFF_PRE, NULL)) != 0)
			goto out_filter;
		r = bundle_open(&post, o->post, o->no_verify ? NULL : pin_post, KC_SNAP_DIFF_POST, &pods);
	}
out_filter:
	filter_free(&pods);
	pre.continuity = cont_pre;	/* owned by the bundles from here */
	post.continuity = cont_post;
	if (r != 0 ||
	    (r = check_pair(o, &pre, &post, &pre_end, &rem_ns)) != 0)
		goto out;
	d = diff_head(o, &pre, &post, dpre, dpost, rem_ns);
	if ((r = kc_rbac_init(&rb_pre, &pre.snap)) != 0)
		goto out;
	have_rb_pre = 1;
	if ((r = kc_rbac_init(&rb_post, &post.snap)) != 0)
		goto out;
	have_rb_post = 1;
	if ((r = diff_body(o, &pre, &post, &rb_pre, &have_rb_pre, &rb_post, pre_end, rem_ns, d)) != 0)
		goto out;
	kc_debug("diff: packed KiB: POST %zu, the document %zu (PRE's objects are freed by now)",
	    kc_jarena_bytes(post.snap.arena) / 1024, kc_jarena_bytes(o->arena) / 1024);
	*out = d;
	d = NULL;	/* transferred */
out:
	kc_rbac_discovery_use(NULL);
	if (have_rb_pre)
		kc_rbac_free(&rb_pre);
	if (have_rb_post)
		kc_rbac_free(&rb_post);
	cJSON_Delete(d);
	cJSON_Delete(dpre);
	cJSON_Delete(dpost);
	bundle_close(&pre);
	bundle_close(&post);
	return r;
}

/* ---- the diff as commands write it: kcustody.diff/v2 ------------------- */

/* v1 member -> v2 (lowerCamelCase; initialisms as Kubernetes writes them:
 * UID, RBAC).  docs/DIFF.md has the same table. */
static const char *const public_names[][2] = {
	{ "breach_assessment", "breachAssessment" },
	{ "bundle_id", "bundleID" },
	{ "changed_by", "changedBy" },
	{ "cluster_wide_after", "clusterWideAfter" },
	{ "cluster_wide_before", "clusterWideBefore" },
	{ "collected_post", "collectedPost" },
	{ "collected_pre", "collectedPre" },
	{ "could_read_secrets", "couldReadSecrets" },
	{ "denied_requests", "deniedRequests" },
	{ "denied_total", "deniedTotal" },
	{ "findings_new", "findingsNew" },
	{ "findings_persisting", "findingsPersisting" },
	{ "findings_resolved", "findingsResolved" },
	{ "kube_system_uid", "kubeSystemUID" },
	{ "log_authz_errors", "logAuthzErrors" },
	{ "not_captured", "notCaptured" },
	{ "permissions_added", "permissionsAdded" },
	{ "permissions_kept", "permissionsKept" },
	{ "permissions_removed", "permissionsRemoved" },
	{ "permitted_by_post_rbac", "permittedByPostRBAC" },
	{ "policy_bypass_reads", "policyBypassReads" },
	{ "post_segment", "postSegment" },
	{ "post_total", "postTotal" },
	{ "pre_segment", "preSegment" },
	{ "rbac_objects", "rbacObjects" },
	{ "reads_blind", "readsBlind" },
	{ "reads_determinable", "readsDeterminable" },
	{ "reads_note", "readsNote" },
	{ "reads_visible", "readsVisible" },
	{ "remediated_at", "remediatedAt" },
	{ "remediated_at_source", "remediatedAtSource" },
	{ "secrets_after", "secretsAfter" },
	{ "secrets_before", "secretsBefore" },
	{ "secrets_reachable", "secretsReachable" },
	{ "secrets_read", "secretsRead" },
	{ "selected_in", "selectedIn" },
	{ "sensitive_reads_after_remediation", "sensitiveReadsAfterRemediation" },
	{ "stale_pods", "stalePods" },
	{ "verdict_reason", "verdictReason" },
};

static const char *
public_name(const char *k, size_t len)
{
	for (size_t i = 0; i < sizeof(public_names) / sizeof(public_names[0]); i++)
		if (strlen(public_names[i][0]) == len && strncmp(public_names[i][0], k, len) == 0)
			return public_names[i][1];
	return NULL;
}

/* Rename the members of o and below; the findings (analysis/findings.json
 * objects) and an RBAC object's changes (Kubernetes objects, whose label
 * keys are the cluster's) are evidence and kept as they are. */
static int
rename_tree(cJSON *o)
{
	cJSON *it;

	cJSON_ArrayForEach(it, o) {
		const char *to;

		if (cJSON_IsObject(o) && it->string != NULL) {
			if (strcmp(it->string, "findings") == 0 || strcmp(it->string, "changes") == 0)
				continue;
			if ((to = public_name(it->string, strlen(it->string))) != NULL) {
				char *n = kc_strdup(to);

				if (n == NULL)
					return KC_ERR_NOMEM;
				if (!(it->type & cJSON_StringIsConst))
					cJSON_free(it->string);
				it->string = n;
				it->type &= ~cJSON_StringIsConst;
			}
		}
		if ((cJSON_IsObject(it) || cJSON_IsArray(it)) && rename_tree(it) != 0)
			return KC_ERR_NOMEM;
	}
	return 0;
}

cJSON *
kc_diff_public(const cJSON *d, struct kc_jarena *arena)
{
	cJSON *p = doc_dup(arena, d), *s;

	if (p == NULL || rename_tree(p) != 0) {
		cJSON_Delete(p);
		return NULL;
	}
	if ((s = cJSON_CreateString(KC_DIFF_SCHEMA_OUT)) == NULL || kc_json_set(p, "schema", s) != 0) {
		cJSON_Delete(p);
		return NULL;
	}
	return p;
}

int
kc_diff_public_path(const char *path, char *out, size_t n)
{
	struct kc_buf b = KC_BUF_INIT(4096);
	const char *p = path;
	int r = 0;

	while (r == 0) {
		const char *dot = strchr(p, '.'), *to;
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		to = public_name(p, len);
		r = to ? kc_buf_adds(&b, to) : kc_buf_add(&b, p, len);
		if (dot == NULL)
			break;
		r |= kc_buf_addc(&b, '.');
		p = dot + 1;
	}
	if (r == 0)
		r = kc_fmt(out, n, "%s", kc_buf_str(&b));
	kc_buf_free(&b);
	return r;
}
