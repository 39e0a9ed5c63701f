/* collect.h - one collection run: identity, snapshot lists, request log,
 * written into a staging folder, and the manifest draft describing it.
 */
#ifndef KC_COLLECT_H
#define KC_COLLECT_H

#include <pthread.h>

#include <cjson/cJSON.h>

#include "collector/kclient.h"
#include "collector/kubeconfig.h"
#include "collector/names.h"

/* How far each list has come, for a reader that follows its pages as
 * they are written (the YAML exports, pipeline/exports.h: at 150k objects
 * they were 14 s after the lists, the lists 23 s of waiting on the server
 * with a core idle).  Per snapshot resource (collector/snapshot.h): the
 * pages written so far (raw/<name>/page-NNNN.json, 1..pages), a
 * generation that grows when the list starts over (410 Gone: its pages
 * are removed and written again) and a state.  A list that failed, was
 * refused or never ran is ABSENT: no page of it stays.  The list marks
 * itself before it removes a page, so a follower that finds a page gone
 * finds the change too. */
enum kc_list_state { KC_LIST_PENDING = 0, KC_LIST_DONE = 1, KC_LIST_ABSENT = 2 };
#define KC_LIST_PROGRESS_MAX 32

struct kc_list_progress {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pages[KC_LIST_PROGRESS_MAX], gen[KC_LIST_PROGRESS_MAX];
	enum kc_list_state state[KC_LIST_PROGRESS_MAX];
};

int kc_list_progress_init(struct kc_list_progress *p);
void kc_list_progress_destroy(struct kc_list_progress *p);
/* list res wrote its page number page */
void kc_list_progress_page(struct kc_list_progress *p, int res, int page);
/* list res starts over (before its pages are removed) */
void kc_list_progress_restart(struct kc_list_progress *p, int res);
/* list res ended: ok, DONE with its pages; else ABSENT (before its pages
 * are removed) */
void kc_list_progress_end(struct kc_list_progress *p, int res, int ok);
/* the lists are over (or the run failed): every list still PENDING is
 * ABSENT, and every follower wakes */
void kc_list_progress_close(struct kc_list_progress *p);
/* Wake every follower (it looks at its own stop flag). */
void kc_list_progress_wake(struct kc_list_progress *p);

struct kc_collect_opts {
	struct kc_kubeconfig_opts kube;
	int allow_insecure;
	const char *case_id;		/* required */
	const char *phase;		/* pre | post | baseline */
	const char *purpose;
	const char *operator_name;	/* default: the OS user */
	const char *authority;		/* ticket, warrant, change number */
	const char *evidence_id;	/* default: generated */
	int page_size;			/* default 500 */
	int list_streams;		/* lists fetched at once, each on a
					 * connection of its own; 0 or 1: one
					 * after the other (cli: 2) */
	int max_retries;		/* -1 default */
	long backoff_ms;		/* 0 default */
	size_t max_response;		/* 0 default (512 MiB) */
	const char *const *resources;	/* --resource GROUP/RESOURCE (collector/custom.h) */
	size_t nresources;
	struct kc_list_progress *progress; /* NULL, or told of every list's pages
					 * as they are written (closed when the
					 * lists step ends) */
};

#define KC_LIST_STREAMS_DEFAULT 2
#define KC_LIST_STREAMS_MAX 8

struct kc_collect {
	struct kc_cluster_cfg *cfg;
	struct kc_client *client;
	char run_id[40];
	char bundle_id[40];		/* UUID v4 */
	char *staging;			/* folder written into (owned) */
	cJSON *manifest;		/* draft (owned) */
	cJSON *items;			/* manifest "items" (borrowed from manifest) */
	cJSON *files;			/* manifest "files" (borrowed) */
	cJSON *warnings;		/* manifest "warnings" (borrowed) */
	cJSON *anomalies;		/* manifest "anomalies" (borrowed), NULL until the first */
	int partial;			/* some item was not collected completely */
	long long started_ns, finished_ns;
	char cluster_name[64];		/* short name for the bundle file name */
};

/* Connect and collect into staging (which must exist and be empty).
 * Returns 0 when something was collected (check co->partial), or an error
 * when nothing useful could be (bad kubeconfig: KC_ERR_CONFIG; server
 * unreachable, TLS or credential failure: KC_ERR_NET/KC_ERR_AUTH). */
int kc_collect_run(const struct kc_collect_opts *opts, const char *staging, struct kc_collect *co);

/* Write a file into the staging folder (creating folders) and add it to
 * the manifest's files list with its media type; derived files name the
 * members they were computed from (sources may be NULL).  rel must be a
 * bundle member path (kc_relpath_ok: relative, no empty, "." or ".."
 * component, printable ASCII): anything else is KC_ERR_INVALID and
 * nothing is written. */
int kc_collect_add_file(struct kc_collect *co, const char *rel, const void *data, size_t len,
    const char *media_type, int derived, const char *const *sources);

/* Add a file the caller wrote into the staging folder itself (in pieces,
 * e.g. through kc_atomic_open after checking rel with kc_relpath_ok) to the
 * manifest's files list, as kc_collect_add_file does. */
int kc_collect_note_file(struct kc_collect *co, const char *rel, const char *media_type, int derived,
    const char *const *sources);

/* Record an item (a list, a review, an audit extraction) with its status
 * ("complete", "partial", "forbidden", "error", "skipped") and detail. */
cJSON *kc_collect_add_item(struct kc_collect *co, const char *name, const char *status, const char *detail);

/* Check a name the server sent before it becomes part of a path
 * (collector/names.h).  An invalid name is recorded once in the manifest's
 * "anomalies" list as {"kind", "name" (escaped, at most 256 bytes),
 * "name_bytes", "name_sha256", "reason", "stored_as"} and makes the collection partial.
 * Returns 0 for a valid name, 1 for an invalid one, or a negative error. */
int kc_collect_check_name(struct kc_collect *co, enum kc_name_kind kind, const char *name);

void kc_collect_finish(struct kc_collect *co);	/* sets finished time */
void kc_collect_free(struct kc_collect *co);

#endif
