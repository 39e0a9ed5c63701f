/* discovery.h - what the cluster serves: the API discovery documents.
 *
 * collect stores, byte for byte (docs/COLLECT.md, docs/FORMAT.md):
 *   discovery/api.json                  GET /api      (APIVersions)
 *   discovery/apis.json                 GET /apis     (APIGroupList)
 *   discovery/api/<version>.json        GET /api/<version>           (APIResourceList)
 *   discovery/apis/<group>/<version>.json  GET /apis/<group>/<version>
 * one for every version of every group /apis lists.  A group-version
 * that fails (403, 503 of an unavailable aggregated API, a name that is
 * not a valid group or version) is recorded as an item
 * "discovery/<group>/<version>" with its status and the collection goes
 * on (partial), like a list.
 *
 * The model below is what the analysis reads (rbac/reach.h): one entry per
 * served resource (group, plural name), subresources folded into their
 * resource.  A bundle without discovery/ (sealed before 0.9) loads as
 * NULL and the analysis keeps its built-in tables.
 */
#ifndef KC_DISCOVERY_H
#define KC_DISCOVERY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "collector/collect.h"
#include "collector/snapshot.h"

struct kc_disc_strs {
	char **v;
	size_t n, cap;
};

struct kc_disc_resource {
	char *group;			/* "" = core */
	char *version;			/* the first version that served it */
	char *name;			/* plural, no subresource */
	char *kind;
	int namespaced;
	int custom;			/* defined by a CustomResourceDefinition (or, without the
					 * CRD list, a group outside Kubernetes' own: see
					 * kc_discovery_custom_group) */
	struct kc_disc_strs verbs, short_names, subresources;	/* subresources: "res/sub" */
};

struct kc_discovery {
	struct kc_disc_resource *v;	/* sorted by group, then name */
	size_t n, cap;
	struct kc_disc_strs groups;	/* every group /api and /apis list ("" for core) */
	struct kc_disc_strs incomplete;	/* groups with a version whose document is missing */
};

/* Collect the documents into co's staging folder (after the lists).
 * Failures of one document are items, not errors; returns non-zero only
 * for failures that end the run (transport, credentials, memory, disk). */
int kc_collect_discovery(struct kc_collect *co);

/* Load discovery/ through a member reader (snapshot.h); *out NULL (and 0
 * returned) when the bundle has no discovery documents.  crds: the
 * CustomResourceDefinition objects when collected (NULL when not): then a
 * resource is custom exactly when a CRD defines it. */
int kc_discovery_load(kc_member_get_fn get, void *ctx, const cJSON *crds, struct kc_discovery **out);
void kc_discovery_free(struct kc_discovery *d);

/* The served resource group/name (name without subresource), or NULL. */
const struct kc_disc_resource *kc_discovery_find(const struct kc_discovery *d, const char *group,
    const char *name);
/* 1 when a version of group is missing from the documents (so "not
 * served" cannot be concluded for it). */
int kc_discovery_group_incomplete(const struct kc_discovery *d, const char *group);
/* 1 when group is listed at all. */
int kc_discovery_group_listed(const struct kc_discovery *d, const char *group);
/* Without a CRD list: 1 for a group outside Kubernetes' own ("", apps,
 * batch, autoscaling, policy, extensions and *.k8s.io / k8s.io are
 * Kubernetes' own). */
int kc_discovery_custom_group(const char *group);

#endif
