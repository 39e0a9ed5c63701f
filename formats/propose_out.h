/* propose_out.h - renderings of a kcustody.proposal/v1alpha1 document
 * (rbac/propose.h): the text a reviewer reads, and the YAML files kubectl
 * applies.
 *
 * kc_propose_render_text: the window (and its warning first when it is
 * shorter than the minimum), per agent what was used, granted, kept,
 * beyond scope, denied and unused, the binding changes, and the commands
 * to run over dir.
 * kc_propose_render_yaml: the objects of list (objects.apply or
 * objects.delete) as one YAML stream, each object one document, after a
 * comment header naming the bundle, the window, the warning and the
 * commands (comment lines only: the header is never read as YAML). */
#ifndef KC_FORMATS_PROPOSE_OUT_H
#define KC_FORMATS_PROPOSE_OUT_H

#include <cjson/cJSON.h>

#include "util/buf.h"

int kc_propose_render_text(const cJSON *d, const char *dir, struct kc_buf *out);
int kc_propose_render_yaml(const cJSON *d, const char *list, const char *dir, struct kc_buf *out);

#endif
