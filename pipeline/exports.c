/* exports.c - kubectl-shaped YAML exports of the collected lists (exports.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>	/* rmdir */

#include "formats/yaml_out.h"
#include "manifest/digest.h"
#include "pipeline/exports.h"
#include "util/fsutil.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/timeutil.h"

static const struct {
	enum kc_snap_res res;
	const char *api_version, *kind;
} exports[] = {
	{ KC_RES_CLUSTERROLES, "rbac.authorization.k8s.io/v1", "ClusterRole" },
	{ KC_RES_CLUSTERROLEBINDINGS, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding" },
	{ KC_RES_ROLES, "rbac.authorization.k8s.io/v1", "Role" },
	{ KC_RES_ROLEBINDINGS, "rbac.authorization.k8s.io/v1", "RoleBinding" },
	{ KC_RES_SERVICEACCOUNTS, "v1", "ServiceAccount" },
	{ KC_RES_PODS, "v1", "Pod" },
};

/* The page members of raw/<name>/ among the manifest's files, in order
 * (NULL-terminated; the strings are borrowed from files). */
static const char **
page_sources(const cJSON *files, const char *name)
{
	char prefix[160];
	const char **v = NULL;
	size_t n = 0, cap = 0;
	const cJSON *f;

	if (kc_fmt(prefix, sizeof(prefix), "raw/%s/page-", name) != 0)
		return NULL;
	cJSON_ArrayForEach(f, files) {
		const char *p = kc_json_str(f, "path");

		if (p == NULL || strncmp(p, prefix, strlen(prefix)) != 0)
			continue;
		if (KC_GROW(v, cap, n + 2) != 0) {
			free(v);
			return NULL;
		}
		v[n++] = p;
	}
	if (v == NULL && KC_GROW(v, cap, 1) != 0)
		return NULL;
	v[n] = NULL;
	return v;
}

static int
fd_sink(void *ctx, const void *data, size_t len)
{
	struct kc_atomic *f = ctx;

	return kc_write_all(f->fd, data, len, f->tmp);
}

#define NEXPORTS (sizeof(exports) / sizeof(exports[0]))

/* An export that follows its list as the pages are written (follow mode) */
struct follow {
	int res, gen;			/* the list, and its generation read from */
	int k;				/* its pages read */
	int restart, absent;		/* the list started over / has no page */
};

struct kc_exports_job {
	const char *staging;		/* borrowed: co's staging folder */
	struct kc_list_progress *pg;	/* borrowed; non-NULL: follow the lists (kc_exports_start_follow) */
	struct follow fl;		/* the export being written, in follow mode */
	const char **src[NEXPORTS];	/* each export's pages among co's files, at finish */
	struct {
		int written;		/* 0: not collected (no page), no export */
		size_t objects;
	} done[NEXPORTS];
	struct kc_snap_pages *cur;	/* the pages being read (the worker's) */
	atomic_int cancel;
	atomic_int ended;		/* the worker has set wall_ns and cpu_ns */
	atomic_int failed;		/* the worker failed on its own (kc_exports_failed) */
	int stopped;			/* the worker saw cancel and stopped (its failure is not its own) */
	pthread_t th;
	int r;				/* the worker's result */
	struct kc_err_saved err;	/* and its error (kc_err is per thread) */
	int64_t wall_ns, cpu_ns;	/* the worker's clock and CPU */
};

static const cJSON *
pages_next(void *ctx, int *err)
{
	struct kc_exports_job *job = ctx;

	if (atomic_load(&job->cancel)) {
		job->stopped = 1;
		*err = kc_err_set(KC_ERR_INVALID, "exports stopped: the collection failed");
		return NULL;
	}
	return kc_snap_pages_next(job->cur, err);
}

/* 1 when the list fl follows has started over or lost its pages since fl
 * began (fl's flags set) */
static int
follow_changed(struct kc_exports_job *job, struct follow *fl)
{
	struct kc_list_progress *pg = job->pg;
	int changed;

	pthread_mutex_lock(&pg->mu);
	fl->restart = pg->gen[fl->res] != fl->gen;
	fl->absent = !fl->restart && pg->state[fl->res] == KC_LIST_ABSENT;
	changed = fl->restart || fl->absent;
	pthread_mutex_unlock(&pg->mu);
	return changed;
}

/* pages_next in follow mode: the list's next page once it is written,
 * NULL at the list's end; a list that starts over or ends without its
 * pages stops the export (fl's flags say which, *err set). */
static const cJSON *
follow_next(void *ctx, int *err)
{
	struct kc_exports_job *job = ctx;
	struct kc_list_progress *pg = job->pg;
	struct follow *fl = &job->fl;

	for (;;) {
		const char *name = kc_snap_resources[fl->res].name;
		char rel[160];
		const cJSON *items;
		int pages, gen;
		enum kc_list_state st;

		pthread_mutex_lock(&pg->mu);
		while (!atomic_load(&job->cancel) && pg->state[fl->res] == KC_LIST_PENDING &&
		    pg->gen[fl->res] == fl->gen && pg->pages[fl->res] <= fl->k)
			pthread_cond_wait(&pg->cv, &pg->mu);
		pages = pg->pages[fl->res];
		gen = pg->gen[fl->res];
		st = pg->state[fl->res];
		pthread_mutex_unlock(&pg->mu);
		if (atomic_load(&job->cancel)) {
			job->stopped = 1;
			*err = kc_err_set(KC_ERR_INVALID, "exports stopped: the collection failed");
			return NULL;
		}
		if (gen != fl->gen || st == KC_LIST_ABSENT) {
			fl->restart = gen != fl->gen;
			fl->absent = !fl->restart;
			*err = kc_err_set(KC_ERR_INVALID, "list/%s %s", name,
			    fl->restart ? "started over" : "was not collected completely");
			return NULL;
		}
		if (fl->k >= pages)
			return NULL;	/* DONE, every page read */
		fl->k++;
		if ((*err = kc_fmt(rel, sizeof(rel), "raw/%s/page-%04d.json", name, fl->k)) != 0)
			return NULL;
		items = kc_snap_pages_read(job->cur, rel, err);
		if (*err != 0) {
			/* gone or cut because the list started over or failed
			 * meanwhile (it says so before a page goes): that, not
			 * an error */
			if (follow_changed(job, fl))
				*err = kc_err_set(KC_ERR_INVALID, "list/%s changed while it was read", name);
			return NULL;
		}
		if (items != NULL)
			return items;
		/* a page without items adds none: the next */
	}
}

static void
export_names(size_t i, char *rel, size_t reln, char *cmd, size_t cmdn)
{
	const char *name = kc_snap_resources[exports[i].res].name;

	/* the names are short literals: never truncated */
	(void)kc_fmt(rel, reln, "exports/%s.yaml", name);
	(void)kc_fmt(cmd, cmdn, "kubectl get %s -A -o yaml --show-managed-fields", name);
}

/* Streamed into the staging folder through a temporary file, from the raw
 * pages one at a time (no size cap, memory bounded by the largest page).
 * A list with no page (not collected completely) has no export. */
static int
one_export(struct kc_exports_job *job, size_t i)
{
	struct kc_atomic f = KC_ATOMIC_INIT;
	struct kc_snap_pages pages;
	char rel[160], cmd[160], *path = NULL, *dir = NULL;
	int r;

	memset(&pages, 0, sizeof(pages));
	export_names(i, rel, sizeof(rel), cmd, sizeof(cmd));
	if (!kc_relpath_ok(rel))
		return kc_err_set(KC_ERR_INVALID, "refusing to write '%s': not a relative bundle path", rel);
	if (job->pg != NULL) {
		/* follow mode: from the list's first page of its generation now */
		memset(&job->fl, 0, sizeof(job->fl));
		job->fl.res = (int)exports[i].res;
		pthread_mutex_lock(&job->pg->mu);
		job->fl.gen = job->pg->gen[exports[i].res];
		pthread_mutex_unlock(&job->pg->mu);
		if ((r = kc_snap_pages_init(&pages, job->staging)) != 0)
			goto out;
	} else {
		if ((r = kc_snap_pages_open(&pages, job->staging, exports[i].res)) != 0)
			goto out;
		if (pages.n == 0)
			goto out;	/* as the snapshot's present[]: no page, not collected */
	}
	if ((path = kc_path_join(job->staging, rel)) == NULL || (dir = kc_dirname(path)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kc_mkdir_p(dir, 0700)) != 0 || (r = kc_atomic_open(&f, path, NULL, 0600)) != 0)
		goto out;
	job->cur = &pages;
	if ((r = kc_yaml_kube_list_pages_to(job->pg != NULL ? follow_next : pages_next, job,
	    exports[i].api_version, exports[i].kind, fd_sink, &f)) != 0) {
		if (job->pg != NULL && !job->stopped && (job->fl.restart || job->fl.absent)) {
			/* started over: again from its first page; no page: no
			 * export, as a list not collected has none */
			r = job->fl.restart ? 1 : 0;
			goto out;
		}
		if (r == KC_ERR_NOMEM)
			kc_err_set(r, "%s: out of memory", rel);
		goto out;
	}
	if ((r = kc_atomic_commit(&f, 0)) != 0)
		goto out;
	job->done[i].written = 1;
	job->done[i].objects = pages.items;
out:
	job->cur = NULL;
	kc_snap_pages_close(&pages);
	kc_atomic_abort(&f);
	free(path);
	free(dir);
	return r;
}

static void *
worker(void *arg)
{
	struct kc_exports_job *job = arg;
	int64_t t0 = kc_mono_ns(), c0 = kc_thread_cpu_ns();

	for (size_t i = 0; i < NEXPORTS && job->r == 0; i++) {
		/* 1: the list started over (follow mode), the export again */
		while ((job->r = one_export(job, i)) == 1)
			kc_err_clear();
		if (job->r == 0 && job->pg != NULL)
			kc_err_clear();	/* a list without pages said so: no error */
		if (job->r != 0) {
			kc_err_save(&job->err);
			if (!job->stopped)
				atomic_store(&job->failed, 1);
		}
	}
	if (job->pg != NULL) {
		/* follow mode makes the folder before it knows whether its list
		 * will have pages: with no export written, it goes (as made
		 * after the lists: no page, no folder); rmdir leaves a folder
		 * that holds anything */
		char *d = kc_path_join(job->staging, "exports");

		if (d != NULL)
			(void)rmdir(d);
		free(d);
	}
	job->cpu_ns = kc_thread_cpu_ns() - c0;
	job->wall_ns = kc_mono_ns() - t0;
	atomic_store(&job->ended, 1);
	return NULL;
}

static void
job_free(struct kc_exports_job *job)
{
	for (size_t i = 0; i < NEXPORTS; i++)
		free(job->src[i]);
	free(job);
}

static int
start(const char *staging, struct kc_list_progress *pg, struct kc_exports_job **out)
{
	struct kc_exports_job *job;
	pthread_attr_t attr;
	int e;

	*out = NULL;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	job->staging = staging;
	job->pg = pg;
	atomic_init(&job->cancel, 0);
	atomic_init(&job->ended, 0);
	atomic_init(&job->failed, 0);
	if ((e = pthread_attr_init(&attr)) != 0) {
		job_free(job);
		return kc_err_set(KC_ERR_NOMEM, "cannot start the exports: %s", strerror(e));
	}
	/* the main thread's stack size, whatever the libc's default */
	(void)pthread_attr_setstacksize(&attr, 8u << 20);
	e = pthread_create(&job->th, &attr, worker, job);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		job_free(job);
		return kc_err_set(KC_ERR_NOMEM, "cannot start the exports: %s", strerror(e));
	}
	*out = job;
	return 0;
}

int
kc_exports_start(struct kc_collect *co, struct kc_exports_job **out)
{
	return start(co->staging, NULL, out);
}

int
kc_exports_start_follow(const char *staging, struct kc_list_progress *pg, struct kc_exports_job **out)
{
	return start(staging, pg, out);
}

int64_t
kc_exports_cpu_ns(struct kc_exports_job *job)
{
	clockid_t cid;
	struct timespec ts;

	if (job == NULL)
		return 0;
	/* a thread that has ended has no clock to read: its own figure then */
	if (!atomic_load(&job->ended) && pthread_getcpuclockid(job->th, &cid) == 0 &&
	    clock_gettime(cid, &ts) == 0)
		return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	return atomic_load(&job->ended) ? job->cpu_ns : 0;
}

int
kc_exports_failed(struct kc_exports_job *job)
{
	return job != NULL && atomic_load(&job->failed);
}

int
kc_exports_finish(struct kc_collect *co, struct kc_exports_job *job, int cancel, size_t at,
    int64_t *wall_ns, int64_t *cpu_ns)
{
	int r = 0;

	if (job == NULL)
		return 0;
	if (cancel) {
		atomic_store(&job->cancel, 1);
		kc_list_progress_wake(job->pg);	/* a follower waiting on a list */
	}
	pthread_join(job->th, NULL);
	if (wall_ns != NULL)
		*wall_ns = job->wall_ns;
	if (cpu_ns != NULL)
		*cpu_ns = job->cpu_ns;
	if (job->r != 0 && !job->stopped) {	/* its own failure, whatever the caller's */
		r = kc_err_restore(&job->err, job->r);
		job_free(job);
		return r;
	}
	if (cancel) {
		job_free(job);
		return 0;
	}
	/* each export's member where it stood when the exports were written
	 * before the analysis: after the lists' members, in the table's order.
	 * The members noted since are moved aside and put back after them
	 * (cJSON_InsertItemInArray of bookworm's libcjson 1.7.15 inserts
	 * nothing and returns false) */
	{
		cJSON *tail = cJSON_CreateArray(), *from;

		if (tail == NULL) {
			job_free(job);
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		}
		/* each export's sources: its pages, as the manifest lists them
		 * (the lists are over) */
		for (size_t i = 0; i < NEXPORTS; i++)
			if (job->done[i].written &&
			    (job->src[i] = page_sources(co->files, kc_snap_resources[exports[i].res].name)) == NULL) {
				cJSON_Delete(tail);
				job_free(job);
				return kc_err_set(KC_ERR_NOMEM, "out of memory");
			}
		if ((from = cJSON_GetArrayItem(co->files, (int)at)) != NULL)
			kc_json_move_elems(tail, co->files, from);
		for (size_t i = 0; i < NEXPORTS && r == 0; i++) {
			char rel[160], cmd[160];
			cJSON *fe;

			if (!job->done[i].written)
				continue;
			export_names(i, rel, sizeof(rel), cmd, sizeof(cmd));
			if ((r = kc_collect_note_file(co, rel, "application/yaml", 1, job->src[i])) != 0)
				break;
			fe = cJSON_GetArrayItem(co->files, cJSON_GetArraySize(co->files) - 1);
			if (cJSON_AddStringToObject(fe, "transform", "kubectl-list-yaml") == NULL ||
			    cJSON_AddStringToObject(fe, "equivalent", cmd) == NULL ||
			    cJSON_AddNumberToObject(fe, "objects", (double)job->done[i].objects) == NULL)
				r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		}
		/* back, in their order, whatever happened above */
		kc_json_move_elems(co->files, tail, NULL);
		cJSON_Delete(tail);
	}
	job_free(job);
	return r;
}
