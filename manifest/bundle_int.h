/* bundle_int.h - bundle.c internals that tests/fuzz calls directly.  Not a
 * public interface. */
#ifndef KC_BUNDLE_INT_H
#define KC_BUNDLE_INT_H

#include <stddef.h>

#include "manifest/bundle.h"
#include "manifest/digest.h"

/* The "manifest" check of kc_bundle_verify: MANIFEST.json text (len bytes)
 * against the parsed SHA256SUMS and the archive's regular members (sorted,
 * the SHA256SUMS family excluded, sizes as read).  Sets
 * res->checks[KC_CHECK_MANIFEST]. */
void kc_bundle_check_manifest(const char *text, size_t len, const struct kc_digest_list *sums,
    const struct kc_digest_list *members, struct kc_verify_result *res);

#endif
