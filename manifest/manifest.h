/* manifest.h - MANIFEST.json of bundle format v1: what the seal adds to
 * the draft that collect builds (docs/FORMAT.md, "MANIFEST.json").
 */
#ifndef KC_MANIFEST_H
#define KC_MANIFEST_H

#include <cjson/cJSON.h>

#include "manifest/digest.h"
#include "util/buf.h"

#define KC_BUNDLE_SCHEMA "kcustody.bundle/v1"
#define KC_BUNDLE_SCHEMA_VERSION 1
#define KC_MANIFEST_MAX (64u << 20)

/* Media type by file name suffix ("application/octet-stream" when unknown). */
const char *kc_media_type(const char *path);

/* Finish a draft in place: "schema" and "schema_version" first (added when
 * absent; a different schema is KC_ERR_INVALID), the draft's other keys in
 * their order, then "files" rebuilt from files (sorted, every member that
 * MANIFEST.json describes) as {path, size, sha256, media_type, derived,
 * sources, ...}: media_type, derived and sources (and any other keys) are
 * kept from the draft's entry for the path, else guessed / false / [].
 * A draft entry for a path not in files is KC_ERR_INVALID. */
int kc_manifest_finish(cJSON *m, const struct kc_digest_list *files);

/* Render as MANIFEST.json bytes (cJSON_Print and a final newline). */
int kc_manifest_render(const cJSON *m, struct kc_buf *out);

#endif
