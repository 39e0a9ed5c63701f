/* recert_oscal.h - a kcustody.recertification/v1alpha1 document
 * (rbac/recert.h) as OSCAL 1.0.6 assessment results, with the minimal
 * assessment plan they import (docs/RECERTIFY.md, "OSCAL").
 *
 * One observation per agent and control (ac-6 least privilege: the
 * permissions beyond the approved scope; ac-2 account management: the
 * agent has a scope entry with owner and approval; au-6 audit review: what
 * the bundle's audit segment holds of the agent), a finding for each agent
 * beyond scope (ac-6) and each account without approval or approval
 * without account (ac-2), and the bundle and the scope file as back-matter
 * resources referenced by SHA-256.  Every UUID is a version 5 UUID in the
 * namespace KC_OSCAL_NS (uuid5 of the URL namespace and
 * "https://kcustody.dev/ns/oscal") of a name made of the bundle's SHA-256,
 * the agent and the control, so the same inputs give the same bytes. */
#ifndef KC_FORMATS_RECERT_OSCAL_H
#define KC_FORMATS_RECERT_OSCAL_H

#include <cjson/cJSON.h>

#include "util/buf.h"

#define KC_OSCAL_VERSION "1.0.6"
#define KC_OSCAL_NS_URL "https://kcustody.dev/ns/oscal"
#define KC_OSCAL_NS "bf72522e-0b20-5537-92ac-4a3da6b9cd41"
#define KC_RECERT_OSCAL_DOC_VERSION "kcustody.recertification/v1alpha1"

struct kc_recert_oscal_in {
	const cJSON *doc;		/* the recertification */
	const cJSON *manifest;		/* the bundle's MANIFEST.json (times, audit), or NULL */
	const cJSON *audit_events;	/* {"system:serviceaccount:NS:NAME": events} of the
					 * bundle's audit segment, or NULL when it has none */
	const char *bundle_href;	/* how the results refer to the bundle file */
	const char *scope_href;		/* ... and to the scope file */
	const char *plan_href;		/* import-ap: the plan written beside the results */
};

/* Append the assessment results to results and the plan to plan (each a
 * JSON document with a final newline). */
int kc_recert_oscal(const struct kc_recert_oscal_in *in, struct kc_buf *results, struct kc_buf *plan);

#endif
