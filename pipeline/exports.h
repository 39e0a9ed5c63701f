/* exports.h - the YAML exports of a collection (docs/COLLECT.md, "YAML
 * exports"): exports/<resource>.yaml for clusterroles,
 * clusterrolebindings, roles, rolebindings, serviceaccounts and pods,
 * each the List that `kubectl get <resource> -A -o yaml` prints
 * (formats/yaml_out.h kc_yaml_kube_list_pages_to, streamed into the
 * staging folder from the stored pages read one at a time: no size cap,
 * memory bounded by a page, whatever the snapshot model holds), made from
 * the stored pages
 * (after redaction: an export shows exactly what the bundle's JSON
 * shows).  Each is a derived member whose sources are its pages.  A list
 * that was not collected completely (forbidden, error) has no export.
 *
 * Here, not in collector/: an export is derived evidence rendered by
 * formats/, and writing derived members from lower layers' results is
 * what pipeline/ is for (docs/ARCHITECTURE.md).
 */
#ifndef KC_PIPELINE_EXPORTS_H
#define KC_PIPELINE_EXPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "collector/collect.h"
#include "collector/snapshot.h"

/* The exports are written on a thread of their own, beside the model's
 * load, the selection, the reviews, pod logs and analysis (issue 11: 8.8 s
 * of the 150k default run, a core otherwise idle then), and with
 * kc_exports_start_follow beside the lists too; nothing else touches co's
 * files meanwhile but the caller, which keeps appending.
 *
 * kc_exports_start starts the worker: 0, or an error (out of memory, no
 * thread); the pages' names are read from co->files by kc_exports_finish.
 * Until kc_exports_finish, the caller must not change or remove the raw
 * pages or co->staging.
 *
 * kc_exports_finish waits for the worker.  When the worker failed on its
 * own (not stopped by cancel), its error is raised again on the caller's
 * thread (kc_err is per thread) and its code returned, whatever cancel.
 * cancel: the collection failed; the worker stops at its next page and
 * nothing is added (0).  Else each export's member is noted in co->files at
 * index at onwards (at: the count of co->files when the exports were
 * started, so the manifest lists them where writing them before the
 * analysis did), and 0.  *wall_ns and *cpu_ns (either may be NULL) get
 * the worker's time and its thread's CPU.
 * The job is freed in every case; a NULL job is a no-op.
 *
 * kc_exports_failed: 1 once the worker has failed on its own (a caller
 * may stop before its next step; kc_exports_finish raises the error.
 * collect looks at neither during the lists, which run to their end, and
 * joins the worker after the model's load, before anything sends a
 * request or writes a member: a worker that failed is acted on then).
 * When the worker and the caller
 * both fail, the worker's error is the one raised if it failed before the
 * caller cancelled it (as when the exports ran first), else the caller's
 * stands; a caller that must keep its own error saves it around the join. */
struct kc_exports_job;
int kc_exports_failed(struct kc_exports_job *job);
/* The worker's CPU so far (its thread's clock; 0 for NULL or when the
 * clock cannot be read). */
int64_t kc_exports_cpu_ns(struct kc_exports_job *job);
int kc_exports_start(struct kc_collect *co, struct kc_exports_job **job);
/* The same, started before the lists: each export follows its list's
 * pages as they are written (pg, collector/collect.h, given to the lists
 * as kc_collect_opts.progress), waits while the list runs, starts over
 * when the list does, and has no export when the list ends without pages.
 * The exports are then written while the lists wait on the server (at
 * 150k objects the pods' 300 pages take 23 s).  staging and pg must
 * outlive the job; kc_exports_finish as above (cancel wakes a follower). */
int kc_exports_start_follow(const char *staging, struct kc_list_progress *pg, struct kc_exports_job **job);
int kc_exports_finish(struct kc_collect *co, struct kc_exports_job *job, int cancel, size_t at,
    int64_t *wall_ns, int64_t *cpu_ns);

#endif
