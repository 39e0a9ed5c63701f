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

struct kc_jarena;

struct kc_verify_result;

struct kc_diff_opts {
	const char *pre;
	const char *post;
	const char *pubkey_path;	/* as for verify */
	const char *ca_path;
	const char *tsa_ca;
	/* an audit-sink chain copied into a bundle (audit/chain/): checked
	 * with this trusted public key (verify --audit-chain-pubkey; NULL:
	 * the bundle's own copy) and its records' RFC 3161 tokens with this
	 * CA (--audit-chain-tsa-ca; NULL: tsa_ca when verifying, else not
	 * checked) */
	const char *audit_chain_pubkey;
	const char *audit_chain_tsa_ca;
	int no_verify;
	int allow_unsigned;		/* --allow-unsigned: unsigned bundles pass */
	const char *remediated_at;	/* RFC 3339, or NULL: end of PRE */
	/* When the caller verified the bundles already (report): the digests
	 * it verified; diff's own verify must read the same files (else
	 * KC_ERR_VERIFY).  NULL: not checked. */
	const char *pre_sha256;
	const char *post_sha256;
	/* The VALID results of kc_bundle_verify the caller ran on these
	 * files with these same options (report): taken instead of verifying
	 * each file again (a pass over every byte: 1.9 s each at 150k
	 * objects); the audit-sink chain copied into a bundle is still checked
	 * here, and the reads are pinned to their digests.  NULL: verified
	 * here. */
	const struct kc_verify_result *pre_verified;
	const struct kc_verify_result *post_verified;
	/* Out, when not NULL: the results of the verification diff ran itself
	 * (none given above, not --no-verify), valid whenever 0 is returned;
	 * so a caller that lets diff verify (report --diff) reads each file
	 * once, verified and compared in the same pass. */
	struct kc_verify_result *pre_vr_out;
	struct kc_verify_result *post_vr_out;
	/* The caller verifies the bundles again itself when diff fails (report
	 * --diff): a bundle the comparison's pass found not valid is refused
	 * as that, not verified a second time here for the message (which
	 * otherwise rules out a pass that failed for want of memory). */
	int caller_reverifies;
	/* Where the document's bulk (the permissions compared, the findings)
	 * is packed (util/jarena.h), or NULL: the heap.  The caller frees it
	 * after the document (cJSON_Delete of the document leaves it alone). */
	struct kc_jarena *arena;
};

int kc_diff_bundles(const struct kc_diff_opts *o, cJSON **out);

/* The diff as commands write it (--format json|yaml, the sealed diff.json):
 * kcustody.diff/v2, the model built by kc_diff_bundles with every member
 * named in Kubernetes' lowerCamelCase (docs/DIFF.md lists the renames of
 * v1); findings and RBAC object changes inside it are kept as the bundles
 * hold them.  A new document, packed into arena when it is not NULL
 * (free the arena after the document); NULL when out of memory. */
#define KC_DIFF_SCHEMA_OUT "kcustody.diff/v2"
cJSON *kc_diff_public(const cJSON *d, struct kc_jarena *arena);
/* The v2 name of a dotted path of the model ("summary.policy_bypass_reads"
 * -> "summary.policyBypassReads") into out; 0 or KC_ERR_LIMIT. */
int kc_diff_public_path(const char *path, char *out, size_t n);

/* Renderers of the model (kcustody.diff/v1 member names). */
int kc_diff_render_text(const cJSON *d, struct kc_buf *out);
int kc_diff_render_md(const cJSON *d, struct kc_buf *out);

#endif
