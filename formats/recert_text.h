/* recert_text.h - the text rendering of a kcustody.recertification/v1alpha1
 * document (rbac/recert.h): per agent within scope or not, each excess
 * permission with the binding and role that grant it, agents missing from
 * the scope file and scope entries without an agent. */
#ifndef KC_FORMATS_RECERT_TEXT_H
#define KC_FORMATS_RECERT_TEXT_H

#include <cjson/cJSON.h>

#include "util/buf.h"

int kc_recert_render_text(const cJSON *d, struct kc_buf *out);

#endif
