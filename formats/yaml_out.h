/* yaml_out.h - a JSON document written as YAML (`--format yaml`).
 *
 * Emitted by libyaml's emitter (block style, two-space indent, UTF-8),
 * so the text is well-formed YAML by construction.  Types survive a
 * round trip through YAML 1.1 and 1.2 loaders (PyYAML, Go's yaml.v3):
 * numbers, true/false and null are plain; a string is double-quoted when a
 * loader could read it as anything but a string (empty, a null/bool word
 * of either YAML version, anything that starts with a digit, '+', '-' or
 * '.', such as a number, a date or a time), and otherwise left to the
 * emitter (plain where YAML allows it).  Member order is the document's.
 */
#ifndef KC_FORMATS_YAML_OUT_H
#define KC_FORMATS_YAML_OUT_H

#include <cjson/cJSON.h>

#include "util/buf.h"

/* Append doc as one YAML document ("---" first, a newline last).
 * 0, KC_ERR_NOMEM, or KC_ERR_LIMIT when out is full. */
int kc_yaml_from_json(const cJSON *doc, struct kc_buf *out);

#endif
