/* logauthz.h - authorization errors in agent pod logs (issue 13, item 5):
 * the lines of the captured logs (collector/podlogs.h) that say a request
 * was refused, per agent service account, for diff and the report to show
 * beside the audit log's denied requests ("monitor agent logs for
 * authorization errors that indicate over-restriction").
 *
 * A line matches when it holds one of, case as written:
 *   "403" (not inside a longer run of letters or digits), "Forbidden",
 *   "forbidden:", "RBAC: access denied", "cannot get resource"
 * A redaction marker line ({"kcustody.redacted":...}) never matches; when
 * logs/index.json says "timestamps": true, each line's first word (the
 * kubelet's timestamp) is not searched.
 *
 * The summary (analysis/log-authz-errors.json):
 *   {"patterns":[...],
 *    "agents":[{"sa":"ns/name","captures":n,"not_captured":n,
 *               "lines_scanned":n,"matching_lines":n,
 *               "by_pattern":{"403":n,...},
 *               "lines":[{"namespace","pod","container","previous",
 *                         "path","line":n,"text","patterns":[...]}]}]}
 * with at most KC_LOGAUTHZ_MAX_LINES lines listed per agent (the counts
 * are whole) and each text cut to KC_LOGAUTHZ_MAX_TEXT bytes.
 */
#ifndef KC_RBAC_LOGAUTHZ_H
#define KC_RBAC_LOGAUTHZ_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define KC_LOGAUTHZ_MAX_LINES 200
#define KC_LOGAUTHZ_MAX_TEXT 400

/* A member reader: the bytes of a bundle member (newly allocated), NULL
 * when absent. */
typedef char *(*kc_logauthz_get_fn)(void *ctx, const char *relpath, size_t *len);

/* Bit i set for each pattern i the n bytes at line hold; 0 when none. */
unsigned kc_logauthz_match(const char *line, size_t n);

/* The summary from logs/index.json and the members it names; NULL with
 * a kc_err_set() detail when the index is missing or not JSON. */
cJSON *kc_logauthz_summary(kc_logauthz_get_fn get, void *ctx);

#endif
