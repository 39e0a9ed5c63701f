/* inventory.h - inventory.csv (briefing step 1), RFC 4180: CRLF line
 * ends, every field quoted when it holds a comma, a quote, CR or LF, quotes
 * doubled.  Columns: namespace, name, pods, bindings, roles,
 * cluster_wide_reach, secrets_reachable, highest_severity, cloud_reach
 * (workload identity, rbac/workload.h; not evaluated), owner_chains (one
 * per pod, "Pod/p <- ReplicaSet/r <- Deployment/d"); list cells hold their
 * items separated by ';'. */
#ifndef KC_INVENTORY_H
#define KC_INVENTORY_H

#include <cjson/cJSON.h>

#include "util/buf.h"

/* Append one field (quoted when needed). */
int kc_csv_field(struct kc_buf *out, const char *s);

/* rows: [{"namespace","name","pods":[..],"bindings":[..],"roles":[..],
 * "clusterWide":bool,"secrets":[..],"highestSeverity","cloudReach":[..],
 * "ownerChains":[..]}] */
int kc_inventory_csv(const cJSON *rows, struct kc_buf *out);
/* The same without the header line: rows appended a few at a time (the
 * analysis writes each account's as it is made). */
int kc_inventory_csv_rows(const cJSON *rows, struct kc_buf *out);

#endif
