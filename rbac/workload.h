/* workload.h - what runs as an agent identity beyond RBAC: the owner chain
 * of each pod through ownerReferences (pod -> replicaset -> deployment,
 * pod -> job -> cronjob, ...) and the account's reach beyond the cluster
 * through workload identity (recorded, never evaluated).
 *
 * Cloud reach of a service account NS/NAME, in this order:
 *   - its annotations eks.amazonaws.com/role-arn ("aws role ARN"),
 *     iam.gke.io/gcp-service-account ("gcp service account EMAIL"),
 *     azure.workload.identity/client-id ("azure client-id ID"), each when
 *     present with a non-empty string value; no other annotation counts;
 *   - the audience of every projected serviceAccountToken source
 *     (spec.volumes[].projected.sources[].serviceAccountToken.audience) of
 *     the pods running as it ("token audience AUD (pod NAME)").
 * Each entry is {"provider": "aws"|"gcp"|"azure"|"token", "source": the
 * annotation or "pod NAME", "value", "text", "evaluated": false}: kcustody
 * does not evaluate what the cloud role may do.
 *
 * Owner chain text: "Pod/NAME <- Kind/NAME <- ...", each owner the
 * controller ownerReference (else the first); an owner that cannot be
 * followed ends the chain with a reason in parentheses: "(not found)" (its
 * list was collected and has no such object, or the uid differs), "(not
 * collected)" (its list is missing or forbidden in this snapshot), "(kind not
 * collected)" (a kind outside the workload lists, e.g. a custom resource),
 * "(cycle)".
 */
#ifndef KC_RBAC_WORKLOAD_H
#define KC_RBAC_WORKLOAD_H

#include <cjson/cJSON.h>

#include "collector/snapshot.h"
#include "util/buf.h"
#include "util/nsindex.h"

struct kc_workloads {
	const struct kc_snapshot *snap;
	struct kc_nsindex sas;			/* service accounts by ns/name */
	struct kc_nsindex pods_by_sa;		/* pods by ns/serviceAccountName */
	struct kc_nsindex owners[KC_RES_COUNT];	/* workload lists by ns/name */
};

int kc_workloads_init(struct kc_workloads *w, const struct kc_snapshot *snap);
void kc_workloads_free(struct kc_workloads *w);

/* The cloud reach entries of NS/NAME (a new array, possibly empty), or
 * NULL when out of memory. */
cJSON *kc_cloud_reach_json(const struct kc_workloads *w, const char *ns, const char *name);

/* The i-th annotation of a service account the cloud reach reads (from
 * 0), NULL past the last: collect's model keeps these of an account
 * (collector/snapshot.c), a unit test holds the two lists together. */
const char *kc_cloud_annotation(size_t i);

/* Append the owner chain text of pod to out. */
int kc_owner_chain(const struct kc_workloads *w, const cJSON *pod, struct kc_buf *out);

#endif
