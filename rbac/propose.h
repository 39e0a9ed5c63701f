/* propose.h - a least-privilege proposal from observed use
 * (`kcustody recertify BUNDLE --scope FILE --propose DIR`, docs/RECERTIFY.md).
 *
 * From a verified bundle's audit segment (audit/segment.jsonl, accounted
 * for by audit/sources.json) the requests each selected agent made in the
 * window, allowed or denied, are set against what the agent holds (the
 * offline evaluator's grants).  The proposal grants exactly the allowed
 * requests that the agent's scope entry allows and that no grant kept
 * unchanged (a binding through a Group) already allows: one Role and
 * RoleBinding per namespace used, one ClusterRole and ClusterRoleBinding
 * for cluster-scoped and all-namespace requests and non-resource URLs.
 * Every binding that names the agent directly loses the agent: deleted
 * when no other subject is left, otherwise edited (the other subjects'
 * access is unchanged).
 *
 * Refused (KC_ERR_INVALID with the reason): a bundle without an audit
 * segment, a segment narrowed by any filter but the window, the agents and
 * collect's exclusion of its own traffic, a window with gaps (also an
 * uncovered start or end), sources not read to the end or malformed lines
 * (a request may be missing), sources that do not log reads.
 *
 * Pure but for reading the bundle (the segment streamed, one line in
 * memory at a time); the caller writes the files.
 */
#ifndef KC_RBAC_PROPOSE_H
#define KC_RBAC_PROPOSE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "rbac/recert.h"

#define KC_PROPOSE_SCHEMA "kcustody.proposal/v1alpha1"
#define KC_PROPOSE_MIN_WINDOW_DEFAULT (30 * 86400)	/* seconds */

struct kc_propose_opts {
	struct kc_recert_opts ro;	/* the bundle and how to verify it */
	int64_t min_window;		/* seconds; shorter windows carry a warning */
};

/* The same in steps, for a segment streamed line by line: begin (the
 * window's refusals, the agents), one call per line, finish (adds the
 * members below from "agents" on), free (always, also after an error). */
struct kc_propose;
int kc_propose_begin(const struct kc_rbac *rb, const cJSON *selection, const struct kc_scope *s,
    const cJSON *sources, int64_t min_window, const char *bundle, cJSON *doc, struct kc_propose **out);
int kc_propose_line(struct kc_propose *p, const char *line, size_t len);
int kc_propose_finish(struct kc_propose *p, const char *bundle_sha);
void kc_propose_free(struct kc_propose *p);

/* The proposal over a model (pure): selection as in analysis/selection.json,
 * sources the segment's audit/sources.json, segment its events (len
 * bytes, one JSON object a line), bundle names the bundle in messages,
 * bundle_sha its SHA-256 (annotated on the objects).  The members below
 * from "window" on are added to doc. */
int kc_propose_eval(const struct kc_rbac *rb, const cJSON *selection, const struct kc_scope *s,
    const cJSON *sources, const char *segment, size_t len, int64_t min_window, const char *bundle,
    const char *bundle_sha, cJSON *doc);

/* Verify, check the audit window, build the proposal document:
 * schema, bundle, scope, window {from, to, seconds, days, minimumSeconds,
 * belowMinimum, warning}, agents[] (used, denied, unused, bindings),
 * objects {apply[], delete[]} (Kubernetes objects, in the order to apply),
 * summary, blindSpots.  *out owned by the caller. */
int kc_propose_bundle(const struct kc_propose_opts *o, const struct kc_scope *s, cJSON **out);

#endif
