/* redact.h - literal environment values of pods and workload pod templates
 * never enter a bundle.
 *
 * In a List page of pods, deployments, statefulsets, daemonsets,
 * replicasets, jobs or cronjobs, every member named "value" of every
 * element of env[] of every container, initContainer and ephemeralContainer
 * of the pod spec (pods: spec; workloads: spec.template.spec; cronjobs:
 * spec.jobTemplate.spec.template.spec) is replaced by the string
 * "sha256:<64 hex digits>": the SHA-256 of the value's bytes (a string's
 * UTF-8 bytes as the server sent them, decoded from JSON; any other JSON
 * value: its compact JSON text).  valueFrom is kept as it is.  Every member
 * of a repeated key is visited, not only the one readers see, so that a
 * hostile server's duplicate cannot keep a copy.
 */
#ifndef KC_COLLECTOR_REDACT_H
#define KC_COLLECTOR_REDACT_H

#include <cjson/cJSON.h>

#include "collector/snapshot.h"

/* 1 when the list res holds pod specs whose env values are redacted. */
int kc_redact_env_list(enum kc_snap_res res);

/* Replace one value (any JSON type) by "sha256:<hex>" of its bytes (a
 * string's, else its compact JSON text), as above; the one hashing of a
 * redacted value (custom resources use it too).  0, or -1 when it cannot
 * be hashed: a string is then wiped, never kept. */
int kc_redact_hash_value(cJSON *v);

/* Replace every `kubectl.kubernetes.io/last-applied-configuration`
 * annotation of the items of one List page (which carries the applied
 * object, values included) by "kcustody.redacted sha256=<hex>": every
 * member of a repeated "items", "metadata", "annotations" or annotation
 * key, not only the one readers see.  Returns how many were replaced. */
int kc_redact_last_applied(cJSON *doc);

/* Redact the env values in the items of one List page of res.  Returns the
 * number of values replaced (>= 0). */
long long kc_redact_env_values(cJSON *doc, enum kc_snap_res res);

/* 1 when the n bytes at v have the shape of a credential, whatever the
 * name they are stored under (docs/COLLECT.md, credentials in custom
 * resources, 4): sk-, sk_live_, AKIA/ASIA, ghp_/gho_/ghs_/github_pat_,
 * xoxb-/xoxp-, glpat-, AIza, "Bearer "/"Basic " values, a JWT, a PEM
 * PRIVATE KEY. */
int kc_redact_credential_shape(const char *v, size_t n);

/* 1 when a line of a pod log (n bytes, newline excluded) holds a word of
 * a credential's shape: each word (a run between spaces, quotes, '=',
 * ':', ',', ';' and brackets) is tested as above; "Bearer ", "Basic " and
 * "-----BEGIN" take the rest of the line as theirs. */
int kc_redact_line_has_credential(const char *line, size_t n);

#endif
