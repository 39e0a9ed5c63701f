/* custom.h - custom resources: every CustomResourceDefinition, the objects
 * of known agent runtimes whose CRDs exist (kagent: group kagent.dev,
 * every resource its installed CRDs declare), and the resources named
 * with `collect --resource GROUP/RESOURCE`.
 *
 * Staging layout (docs/COLLECT.md, docs/FORMAT.md):
 *   raw/customresourcedefinitions/page-NNNN.json   the CRD list, as received
 *   custom/<group>/<resource>/page-NNNN.json       the objects, all namespaces,
 *                                                  credentials redacted (below)
 * Items "list/customresourcedefinitions" and "custom/<group>/<resource>"
 * record each list's status; a refused list is "forbidden" (partial), no
 * CRD of a known runtime collects nothing and is no error.
 *
 * Values that look like credentials are never stored
 * (kc_custom_redact): each is replaced by "sha256:<hex of the value>",
 * and the page's manifest entry gets transform "redact-credentials", the
 * SHA-256 of the page as received (original_sha256) and the count.
 */
#ifndef KC_CUSTOM_H
#define KC_CUSTOM_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "collector/collect.h"

/* Collect into co's staging folder, after discovery (whose documents it
 * reads to find each resource's served version).  resources: "GROUP/RESOURCE"
 * strings (n of them).  Returns non-zero only for failures that end the run. */
int kc_collect_custom(struct kc_collect *co, const struct kc_collect_opts *opts);

/* Redact credential-looking values in one object (in place); returns how
 * many values were replaced (the rule is in docs/COLLECT.md). */
int kc_custom_redact(cJSON *obj);

/* 1 when "GROUP/RESOURCE" is well formed (group a DNS-1123 subdomain or
 * "" for core, resource a DNS-1123 label). */
int kc_custom_resource_ok(const char *spec);

#endif
