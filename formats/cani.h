/* cani.h - `kubectl auth can-i --list`, byte for byte.
 *
 * Renders a SelfSubjectRulesReview response exactly as kubectl 1.32 prints
 * it (staging/src/k8s.io/kubectl/pkg/cmd/auth/cani.go printStatus):
 *   1. each resource rule broken down into one rule per apiGroup x
 *      resource x verb (x resourceName); each non-resource rule into one per
 *      URL x verb (rbac.BreakdownRule);
 *   2. resource rules with the same (group, resource, name) merged, verbs
 *      appended in the order met, each verb once (rbac.CompactRules; kubectl
 *      1.32 drops a verb the merged row already has -- checked against the
 *      real kubectl, RBAC_SEMANTICS.md's "without dedup" is older kubectl);
 *      non-resource rules are never merged, so their duplicates stay;
 *   3. a stable sort by the Go string of each rule,
 *      `&PolicyRule{Verbs:[..],APIGroups:[..],Resources:[..],ResourceNames:[..],NonResourceURLs:[..],}`;
 *   4. the rows `RESOURCE\t[URLS]\t[NAMES]\t[VERBS]\n` under the header
 *      `Resources\tNon-Resource URLs\tResource Names\tVerbs`, aligned by
 *      kubectl's tabwriter (github.com/liggitt/tabwriter, minwidth 6,
 *      tabwidth 4, padding 3, pad ' ', RememberWidths): every column but the
 *      last is padded to max(6, widest cell + 3) runes.
 * The order of the server's rules changes between calls, and the verb order
 * of a merged row follows it, so render from the stored response.
 */
#ifndef KC_CANI_H
#define KC_CANI_H

#include <cjson/cJSON.h>

#include "util/buf.h"

/* review: the SelfSubjectRulesReview object, or just its status.  The
 * table is appended to out; when status.incomplete is true, warn receives
 * what kubectl prints on stderr ("Warning: the list may be incomplete:
 * <evaluationError>\n", without colour).  warn may be NULL.
 * KC_ERR_PARSE when a rule list holds something other than strings. */
int kc_cani_render(const cJSON *review, struct kc_buf *out, struct kc_buf *warn);

/* The Go text/tabwriter algorithm with kubectl's settings, for tests:
 * format text (cells ended by '\t', lines by '\n') into out. */
int kc_cani_tabwrite(const char *text, size_t len, struct kc_buf *out);

#endif
