/* recert.h - access recertification: the approved scope of each agent
 * (a scope file, docs/RECERTIFY.md) against the effective permissions a
 * sealed bundle holds.
 *
 * kc_scope_parse() reads a scope file (YAML, apiVersion
 * kcustody.dev/v1alpha1, kind AgentScopes) into struct kc_scope; every
 * error (bad YAML, an unknown key, a wrong type, a verb that is not a
 * Kubernetes verb, two entries for one service account) is KC_ERR_CONFIG
 * with a message "FILE:LINE:COLUMN: what".
 *
 * kc_recert_eval() judges every agent of a selection (the agents chosen
 * at collect time, analysis/selection.json) against the scope, from the
 * evaluator's grants (rbac/eval.h) with their provenance.  Pure: it reads
 * the model and builds a cJSON document (kcustody.recertification/v1alpha1).
 * An agent that two scope entries match is KC_ERR_CONFIG naming both.
 *
 * kc_recert_bundle() verifies a bundle (as diff does: KC_ERR_VERIFY when a
 * check fails; not when the caller did, verified_as), loads its snapshot and selection and runs kc_recert_eval.
 */
#ifndef KC_RBAC_RECERT_H
#define KC_RBAC_RECERT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "rbac/eval.h"
#include "util/buf.h"
#include "rbac/source.h"
#include "util/sha256.h"
#include "util/strset.h"

#define KC_SCOPE_API_VERSION "kcustody.dev/v1alpha1"
#define KC_SCOPE_KIND "AgentScopes"
#define KC_RECERT_SCHEMA "kcustody.recertification/v1alpha1"

struct kc_scope_pos {
	size_t line, col;		/* 1-based, in the scope file */
};

/* resources: one apiGroup/resource[/subresource] with its verbs */
struct kc_scope_res {
	char *group;			/* "" = core, "*" = any */
	char *resource;			/* "res" or "res/sub"; "*" = any */
	struct kc_strset verbs;
	struct kc_scope_pos at;
};

/* secrets / configMaps: allowed by name, with their verbs */
struct kc_scope_names {
	int present;
	struct kc_strset names, verbs;
	struct kc_scope_pos at;
};

/* nonResourceURLs: URLs (exact, or a prefix ending in '*') with verbs */
struct kc_scope_urls {
	struct kc_strset urls, verbs;
	struct kc_scope_pos at;
};

struct kc_scope_agent {
	char *name;			/* the entry's own name (unique) */
	char *owner, *approval;
	char *sa_ns, *sa_name;		/* serviceAccount: NS/NAME, or NULL */
	struct kc_strset match_ns;	/* match: exact namespaces ... */
	struct kc_strset match_names;	/* ... and fnmatch(3) name patterns */
	struct kc_strset namespaces;	/* allowed namespaces ("*": all) */
	struct kc_scope_res *res;
	size_t nres;
	struct kc_scope_urls *urls;
	size_t nurls;
	struct kc_scope_names secrets, configmaps;
	int has_max;
	struct kc_strset max_verbs;
	struct kc_strset endpoints;	/* recorded, not checked */
	struct kc_scope_pos at;
};

struct kc_scope {
	char *file;
	char sha256[KC_SHA256_HEX];	/* of the file's bytes */
	struct kc_scope_agent *v;
	size_t n;
};

/* Parse data (len bytes, named file in messages) into *out (caller frees
 * with kc_scope_free, also after an error). */
int kc_scope_parse(const char *file, const char *data, size_t len, struct kc_scope *out);
void kc_scope_free(struct kc_scope *s);

/* 1 when verb is one of Kubernetes' verbs for resource requests
 * (including "*"); kc_scope_url_verb the same for non-resource requests. */
int kc_scope_resource_verb(const char *verb);
int kc_scope_url_verb(const char *verb);

/* The index of the entry that selects NS/NAME, or -1.  KC_ERR_CONFIG
 * (message names both entries) when two do; *idx set otherwise. */
int kc_scope_match(const struct kc_scope *s, const char *ns, const char *name, long *idx);

/* Judge the agents of selection ({"selected":[{"namespace","name"}]})
 * against s; the result's members are added to doc: "withinScope",
 * "summary", "agents", "agentsMissingFromScope", "scopeEntriesWithoutAgent",
 * "blindSpots". */
int kc_recert_eval(const struct kc_rbac *rb, const cJSON *selection, const struct kc_scope *s,
    cJSON *doc);

struct kc_recert_opts {
	const char *bundle;
	const char *pubkey_path;	/* as for verify */
	const char *ca_path;
	const char *tsa_ca;
	int allow_unsigned;
	/* The caller verified the bundle already (report --scope): not
	 * verified again, "verification" set to this text. */
	const char *verified_as;
	const char *verified_sha256;	/* with verified_as: the digest that caller's
					 * verify read (kc_verify_result.sha256); the
					 * bundle read here must be that file, NULL
					 * under --no-verify */
};

/* Verify o->bundle as diff does (KC_ERR_VERIFY naming the failed check);
 * adds "verification" and "signer" to desc, and copies the digest of the
 * file verify read into pin (a later read is pinned to it). */
int kc_recert_verify(const struct kc_recert_opts *o, cJSON *desc, char pin[KC_SHA256_HEX]);

/* What recertify and propose read first, into the document's "bundle"
 * object b (its "path" already set): "sha256" (the digest verify read, or
 * o->verified_sha256), "verification" and "signer"; then the bundle's
 * members that keep keeps, pinned to that digest (src: the caller
 * closes it), MANIFEST.json and analysis/selection.json (the caller
 * deletes them).  On an error nothing is left open. */
int kc_recert_open(const struct kc_recert_opts *o, kc_source_keep_fn keep, cJSON *b, struct kc_source *src,
    char sha[KC_SHA256_HEX], cJSON **man, cJSON **sel);

/* Judge one permission against scope entry a, as recertify does: verb,
 * group, resource ("res" or "res/sub"), the rule's resourceNames, held in
 * namespace ns ("*": every namespace) through a ClusterRoleBinding when
 * cluster is 1.  1 within scope, 0 beyond (each reason appended to
 * reasons).  kc_recert_url_ok: 1 when a nonResourceURLs entry allows
 * verb on url. */
int kc_recert_judge(const struct kc_scope_agent *a, const char *verb, const char *group, const char *resource,
    const struct kc_rbac_strs *names, const char *ns, int cluster, cJSON *reasons);
int kc_recert_url_ok(const struct kc_scope_agent *a, const char *url, const char *verb);

/* Verify o->bundle, then judge it: *out receives the whole document
 * (schema, bundle, scope, then kc_recert_eval's members). */
int kc_recert_bundle(const struct kc_recert_opts *o, const struct kc_scope *s, cJSON **out);

#endif
