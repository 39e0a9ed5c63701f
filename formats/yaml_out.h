/* yaml_out.h - a JSON document written as YAML (`--format yaml`).
 *
 * Emitted by libyaml's emitter (block style, two-space indent, UTF-8),
 * so the text is well-formed YAML by construction.  Types survive a
 * round trip through YAML 1.1 and 1.2 loaders (PyYAML, Go's yaml.v3):
 * numbers, true/false and null are plain; a string is double-quoted when a
 * loader could read it as anything but a string (empty, a null/bool word
 * of either YAML version, YAML 1.1's merge key "<<" and value key "=",
 * anything that starts with a digit, '+', '-' or '.', such as a number, a
 * date or a time), and otherwise left to the emitter (plain where YAML
 * allows it).  A byte of a string that does not start valid UTF-8 (which
 * libyaml refuses) is written as U+FFFD, as kubectl (Go) shows it.  Member
 * order is the document's.
 */
#ifndef KC_FORMATS_YAML_OUT_H
#define KC_FORMATS_YAML_OUT_H

#include <cjson/cJSON.h>

#include "util/buf.h"

/* Append doc as one YAML document ("---" first, a newline last).
 * 0, KC_ERR_NOMEM, or KC_ERR_LIMIT when out is full. */
int kc_yaml_from_json(const cJSON *doc, struct kc_buf *out);

/* Append the objects of items (a JSON array, e.g. the concatenated items
 * of a list's pages) as `kubectl get RESOURCE -A -o yaml` prints them: one
 * document, no "---", `apiVersion: v1`, `items:` (each item with
 * `apiVersion: API_VERSION` and `kind: KIND` first, replacing any the item
 * has, then its members in their order), `kind: List`, `metadata:
 * {resourceVersion: ""}`.  kubectl sorts every mapping's keys; this keeps
 * the server's member order (the same document to any YAML reader).
 * Same errors as kc_yaml_from_json. */
int kc_yaml_kube_list(const cJSON *items, const char *api_version, const char *kind, struct kc_buf *out);

/* The same, streamed: fn(ctx, bytes, n) receives the text in pieces as
 * the emitter flushes them (bounded memory for lists of any size; the
 * caller writes them where it wants).  A non-zero return of fn stops the
 * emitter and is returned. */
typedef int (*kc_yaml_sink)(void *ctx, const void *data, size_t len);
int kc_yaml_kube_list_to(const cJSON *items, const char *api_version, const char *kind, kc_yaml_sink fn,
    void *ctx);

/* The same list with its items given page by page (the same text as
 * kc_yaml_kube_list_to over the pages' items concatenated): next(nctx,
 * &err) returns the next page's items array, valid until the next call, or
 * NULL at the end (err left 0) or on error (err set, and returned).  Only
 * one page need be in memory at a time. */
typedef const cJSON *(*kc_yaml_items_next)(void *nctx, int *err);
int kc_yaml_kube_list_pages_to(kc_yaml_items_next next, void *nctx, const char *api_version,
    const char *kind, kc_yaml_sink fn, void *ctx);

#endif
