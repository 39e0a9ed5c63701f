/* diff.h - the sealed diff: a kcustody.diff/v1 document (rbac/diff.h)
 * rendered as diff.json, diff.md, diff.txt and diff.html (formats/) and
 * sealed as a bundle of kind "recertification-diff" that names PRE and POST
 * by SHA-256 (docs/DIFF.md).
 */
#ifndef KC_PIPELINE_DIFF_H
#define KC_PIPELINE_DIFF_H

#include <cjson/cJSON.h>

#include "manifest/bundle.h"

/* Render d and seal it.  out: the bundle's file name, or an existing
 * folder for the generated name CASE_diff_CLUSTER_TIME.tar.gz.  *final
 * receives the bundle's path (owned by the caller; may be set on error).
 * The staging folder is made beside it and always removed. */
int kc_diff_seal(const cJSON *d, const char *out, const struct kc_seal_opts *so, char **final);

#endif
