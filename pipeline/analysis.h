/* analysis.h - the analysis step of collect: runs the RBAC analysis
 * (rbac/) over a staging folder and writes what it finds, rendered by
 * formats/, as derived members (after listing, and again after fetching
 * the server's rules reviews).
 *
 * Reads from the staging folder:
 *   raw/<resource>/page-*.json                 the snapshot (collector/snapshot.h)
 *   custom/kagent.dev/agents/page-*.json       kagent's Agents, when collected
 *   reviews/<ns>__<name>/<namespace>.json      raw SelfSubjectRulesReview
 *                                              responses, when collected
 *   reviews/status.json                        optional: why reviews were
 *                                              skipped ({"skipped":"reason"})
 * <ns>__<name> and <namespace> below are path components of the names
 * (collector/names.h: kc_name_sa_folder, kc_name_component): the names
 * themselves when valid, "_invalid-<hash>" when not (collect records those
 * as anomalies).
 * Writes into it (all derived, each listed in files_out):
 *   analysis/selection.json                    chosen agent SAs, with reasons
 *                                              and the agent custom resources
 *                                              that run as them (rbac/agentcr.h)
 *   analysis/effective/<ns>__<name>/<namespace>.json
 *                                              the evaluator's rules review,
 *                                              every rule with its binding,
 *                                              subject and role; errors;
 *                                              blind spots
 *   analysis/can-i/<ns>__<name>/<namespace>.txt
 *                                              kubectl-identical table of
 *                                              the server's review
 *   analysis/can-i/<ns>__<name>/<namespace>.offline.txt
 *                                              the same table rendered from
 *                                              the evaluator, written only
 *                                              when the server's review is
 *                                              missing (never mistaken for
 *                                              kubectl's output)
 *   analysis/can-i/<ns>__<name>/<namespace>.stderr.txt
 *                                              kubectl's stderr warning, only
 *                                              when the review is incomplete
 *   analysis/review-diff.json                  server vs evaluator, per SA
 *                                              and namespace
 *   analysis/findings.json, analysis/findings.txt
 *   analysis/who-can.json                      get/list/watch on secrets,
 *                                              configmaps, PVCs
 *   analysis/inventory.csv                     one row per agent SA (its last
 *                                              column: the agent custom
 *                                              resources that run as it)
 *   analysis/log-authz-errors.json             authorization errors in the
 *                                              agents' pod logs (below)
 *   analysis/rbac-drift.json                   aggregated ClusterRoles whose
 *                                              stored rules differ from
 *                                              their selectors' union
 */
#ifndef KC_PIPELINE_ANALYSIS_H
#define KC_PIPELINE_ANALYSIS_H

#include <cjson/cJSON.h>

#include "collector/snapshot.h"
#include "rbac/eval.h"
#include "rbac/select.h"

/* Run the analysis over a staging folder and write the files above.
 * files_out (may be NULL): an array of manifest "files" entries to append
 * to ({"path","media_type","derived":true,"sources":[...]}; collect's
 * kc_bundle_seal fills sizes and digests).  summary_out (may be NULL):
 * {"triage":"URGENT"|"ROUTINE","triageReason","findings":{"critical":n,
 *  ...},"highestSeverity","selected":n,"reviewDisagreements":n,
 *  "evaluationErrors":n,"blindSpots":[...]} for the manifest.
 * worst_rank_out (may be NULL): the highest finding severity rank
 * (kc_sev_rank) for --fail-on. */
int kc_analysis_run(const char *staging_dir, const struct kc_select_opts *sel,
    cJSON *files_out, cJSON **summary_out, int *worst_rank_out);
/* The same over a snapshot the caller already loaded from staging_dir
 * (collect has it in memory; the reviews are still read from the folder),
 * and the evaluator over it (rb; NULL: built here). */
int kc_analysis_run_snap(const char *staging_dir, const struct kc_snapshot *snap, const struct kc_rbac *rb,
    const struct kc_select_opts *sel, cJSON *files_out, cJSON **summary_out, int *worst_rank_out);

/* analysis/log-authz-errors.json: the authorization errors in the pod
 * logs collect captured (logs/index.json, collector/podlogs.h), per agent
 * (rbac/logauthz.h).  summary_out (may be NULL): {"matching_lines":n,
 * "agents":n} for the manifest. */
int kc_analysis_log_summary(const char *staging_dir, cJSON *files_out, cJSON **summary_out);

#endif
