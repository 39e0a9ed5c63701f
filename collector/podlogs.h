/* podlogs.h - the logs of the selected agents' pods, through the API
 * server's pods/log subresource (which the API server proxies to the
 * pod's kubelet, after authorizing `get pods/log` for the collector).
 *
 * For every pod that runs as a selected service account (same namespace,
 * spec.serviceAccountName, "default" when empty) and is scheduled to a
 * node: every init, regular and ephemeral container's log, and the
 * previous container's log (previous=true) when its status says
 * restartCount > 0.  Each request asks for timestamps=true (each line
 * begins with the kubelet's RFC 3339 time and a space, as `kubectl logs
 * --timestamps` prints it: lines can be set beside audit events), the
 * window (sinceSeconds or sinceTime) and limitBytes = the per-container
 * cap + 1, so that a log longer than the cap is seen to be, and is stored
 * cut at the cap.
 *
 * Staging layout (docs/COLLECT.md, docs/FORMAT.md):
 *   logs/<ns>/<pod>/<container>.log            the log as received
 *   logs/<ns>/<pod>/<container>.previous.log   the previous container's
 *   logs/index.json                            derived: {since,
 *       timestamps: true, limit_bytes, timeout_seconds, captures: one per
 *       capture {sa, namespace, pod, container, kind (init|container|
 *       ephemeral), previous, status, path, bytes, limit_reached,
 *       redacted_lines, http_status, detail}
 * A line holding a credential's shape (collector/redact.h
 * kc_redact_line_has_credential) is replaced by the audit marker line
 * {"kcustody.redacted":{"sha256":"<hex of the line>"}} (collector/audit.h);
 * such a member's manifest entry gets transform "redact-credentials",
 * original_sha256 and redacted_lines.
 * Items "logs/<ns>/<pod>/<container>[/previous]": complete; forbidden
 * (403: the bundle is partial); error (any other failure, a timeout
 * included, recorded with timed_out); skipped (pod not scheduled).
 */
#ifndef KC_PODLOGS_H
#define KC_PODLOGS_H

#include <stddef.h>

#include "collector/collect.h"
#include "collector/reviews.h"
#include "collector/snapshot.h"

#define KC_PODLOG_LIMIT_DEFAULT ((size_t)10 << 20)	/* 10 MiB per container */
#define KC_PODLOG_TIMEOUT_DEFAULT 30L			/* seconds per request */

struct kc_podlog_opts {
	const char *since;	/* RFC 3339 time or duration ("72h"); NULL: all the kubelet keeps */
	size_t limit_bytes;	/* per container log; 0: KC_PODLOG_LIMIT_DEFAULT */
	long timeout_s;		/* per request; 0: KC_PODLOG_TIMEOUT_DEFAULT */
};

/* Fetch and store the logs.  Returns non-zero only for failures that end
 * the run (transport to the API server, credentials, memory, disk). */
int kc_podlogs_collect(struct kc_collect *co, const struct kc_snapshot *snap,
    const struct kc_review_targets *targets, const struct kc_podlog_opts *o);

#endif
