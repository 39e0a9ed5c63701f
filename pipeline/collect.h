/* collect.h - the collect pipeline: list the cluster into a staging
 * folder (collector/), choose the agents and fetch their server rules
 * reviews, run the offline analysis (pipeline/analysis.h), cut the
 * audit-log segments, complete the manifest draft, then either seal the
 * bundle (and start its custody ledger) or rename the staging folder to
 * an unsealed evidence folder.
 *
 * The command (cli/cmd_collect.c) parses and checks the options, fills a
 * struct kc_collect_plan and runs it; it prints what the outcome says.
 * The pipeline prints nothing (progress goes through util/log.h).
 */
#ifndef KC_PIPELINE_COLLECT_H
#define KC_PIPELINE_COLLECT_H

#include <stddef.h>

#include "collector/collect.h"
#include "collector/podlogs.h"
#include "manifest/bundle.h"
#include "rbac/select.h"

/* What to extract from audit logs (--audit-log and friends). */
struct kc_collect_audit_plan {
	const char *const *paths;	/* files, folders or "-"; none: no audit step */
	size_t npaths;
	const char *since, *until;	/* window, or NULL */
	int all_subjects;		/* every event, not only the selected agents' */
	const char *const *conds;	/* extra filter conditions "NAME=VALUE" */
	size_t nconds;
	int no_redact;
	int format;			/* KC_AUDIT_PROV_*, 0 auto */
	const char *chain_pubkey;	/* audit-sink chains: signatures checked with it */
};

struct kc_collect_plan {
	struct kc_collect_opts collect;	/* cluster and case */
	struct kc_select_opts select;	/* which service accounts are agents */
	int no_reviews;			/* skip the server rules reviews */
	int review_parallel;		/* reviews in flight at once */
	struct kc_collect_audit_plan audit;
	int no_logs;			/* --no-logs: no agent pod logs */
	struct kc_podlog_opts logs;	/* window (--since), cap, timeout */
	/* Where: out_dir (an unsealed folder that must not exist), else a
	 * sealed bundle at output: NULL or a folder (existing, or ending in
	 * '/') for the generated name CASE_PHASE_CLUSTER_TIME.tar.gz, or the
	 * bundle's file name.  The command checks these before the run. */
	const char *output;
	const char *out_dir;
	struct kc_seal_opts seal;	/* mtime is set by the run */
	const char *organisation;	/* of the custody ledger's first entry */
};

/* The step that failed; its error is in kc_err_msg() / kc_err_code(). */
enum kc_collect_step {
	KC_COLLECT_OK = 0,
	KC_COLLECT_NOMEM,		/* no memory for the staging path */
	KC_COLLECT_STAGING,		/* mkdtemp failed: sys_errno, dir */
	KC_COLLECT_LIST,		/* kc_collect_run or the analysis steps */
	KC_COLLECT_MANIFEST,		/* writing MANIFEST.json (out_dir) */
	KC_COLLECT_RENAME,		/* renaming staging to out_dir: sys_errno */
	KC_COLLECT_SEAL,		/* kc_bundle_seal */
};

/* --timings: where a run's time went, step by step. */
enum kc_collect_phase {
	KC_PHASE_LISTS,		/* connect, discovery, every list and custom resource */
	KC_PHASE_SELECT,	/* the snapshot read back, agents selected */
	KC_PHASE_EXPORTS,	/* the YAML exports (exports/NAME.yaml) */
	KC_PHASE_REVIEWS,	/* the server's rules reviews */
	KC_PHASE_LOGS,		/* the agents' pod logs and their authorization errors */
	KC_PHASE_ANALYSIS,	/* offline RBAC analysis and its members */
	KC_PHASE_AUDIT,		/* audit segments */
	KC_PHASE_SEAL,		/* manifest, hashes, tar.gz, signature, ledger */
	KC_PHASE_N
};

struct kc_collect_timing {
	int ran;
	int64_t wall_ns, cpu_ns;	/* the CPU of the thread that ran the step */
	int beside;			/* ran on a thread of its own beside the steps after
					 * it (the exports): its wall is not in the run's */
	size_t requests;		/* HTTP requests sent in the step */
	double request_ms;		/* their durations summed (overlap when in flight together) */
	double bytes;			/* response bytes */
	long peak_rss_kib;		/* the process's peak so far, at the step's end */
};

/* The step's name as --timings prints it. */
const char *kc_collect_phase_name(enum kc_collect_phase ph);

struct kc_collect_outcome {
	enum kc_collect_step failed;
	int err;			/* the KC_ERR_* of the failed step */
	int sys_errno;			/* for KC_COLLECT_STAGING and _RENAME */
	char *dir;			/* the folder staged in (owned) */
	char *staging;			/* the staging folder's name (owned; removed) */
	char *path;			/* the bundle or folder written (owned) */
	int worst_severity;		/* highest finding severity rank (--fail-on) */
	char *ledger_error;		/* sealed, but the ledger was not started:
					 * why (owned), else NULL */
	struct kc_collect co;		/* co.manifest, co.partial for the report */
	struct kc_collect_timing timing[KC_PHASE_N];
	int64_t wall_ns;		/* the whole run's, from the staging folder to the seal */
};

/* Run the plan.  0, or the failed step's KC_ERR_* code with out->failed
 * and out->err set.  The staging folder is always removed.  Free out with
 * kc_collect_outcome_free whatever the result. */
int kc_collect_pipeline(const struct kc_collect_plan *plan, struct kc_collect_outcome *out);
void kc_collect_outcome_free(struct kc_collect_outcome *out);

#endif
