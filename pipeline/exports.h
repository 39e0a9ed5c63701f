/* exports.h - the YAML exports of a collection (docs/COLLECT.md, "YAML
 * exports"): exports/<resource>.yaml for clusterroles,
 * clusterrolebindings, roles, rolebindings, serviceaccounts and pods,
 * each the List that `kubectl get <resource> -A -o yaml` prints
 * (formats/yaml_out.h kc_yaml_kube_list_pages_to, streamed into the
 * staging folder from the stored pages read one at a time: no size cap,
 * memory bounded by a page, whatever the snapshot model holds), made from
 * the stored pages
 * (after redaction: an export shows exactly what the bundle's JSON
 * shows).  Each is a derived member whose sources are its pages.  A list
 * that was not collected completely (forbidden, error) has no export.
 *
 * Here, not in collector/: an export is derived evidence rendered by
 * formats/, and writing derived members from lower layers' results is
 * what pipeline/ is for (docs/ARCHITECTURE.md).
 */
#ifndef KC_PIPELINE_EXPORTS_H
#define KC_PIPELINE_EXPORTS_H

#include "collector/collect.h"
#include "collector/snapshot.h"

/* Write the exports of snap (loaded from co's staging folder) into it and
 * co's manifest files.  0 or an error (out of memory, a write failure). */
int kc_exports_write(struct kc_collect *co, const struct kc_snapshot *snap);

#endif
