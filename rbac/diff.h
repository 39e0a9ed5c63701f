/* diff.h - PRE/POST comparison of two sealed bundles (docs/DIFF.md).
 *
 * kc_diff_bundles verifies both bundles (unless no_verify), checks they are
 * from one cluster and in order, and builds the kcustody.diff/v1 document.
 * Errors: KC_ERR_VERIFY (a bundle failed verification; message names it
 * and the failing check), KC_ERR_INVALID (different clusters, PRE not
 * older than POST), KC_ERR_IO / KC_ERR_PARSE (unreadable input).
 */
#ifndef KC_RBAC_DIFF_H
#define KC_RBAC_DIFF_H

#include <time.h>

#include <cjson/cJSON.h>

#include "util/buf.h"

struct kc_diff_opts {
	const char *pre;
	const char *post;
	const char *pubkey_path;	/* as for verify */
	const char *ca_path;
	const char *tsa_ca;
	int no_verify;
	int allow_unsigned;		/* --allow-unsigned: unsigned bundles pass */
	const char *remediated_at;	/* RFC 3339, or NULL: end of PRE */
};

int kc_diff_bundles(const struct kc_diff_opts *o, cJSON **out);

/* Renderers of a kcustody.diff/v1 document. */
int kc_diff_render_text(const cJSON *d, struct kc_buf *out);
int kc_diff_render_md(const cJSON *d, struct kc_buf *out);

#endif
