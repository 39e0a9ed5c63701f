/* findings_txt.h - findings.txt: the findings document (rbac/findings.h
 * kc_findings_json) as text a responder reads top to bottom: triage,
 * counts, then one block per finding, highest severity first. */
#ifndef KC_FINDINGS_TXT_H
#define KC_FINDINGS_TXT_H

#include <cjson/cJSON.h>

#include "util/buf.h"

int kc_findings_txt(const cJSON *doc, struct kc_buf *out);

#endif
