/* auditchain_bundle.h - an audit-sink chain excerpt inside a bundle
 * (docs/FORMAT.md "audit/chain/", docs/AUDIT_SINK.md).
 *
 * collect copies, byte for byte, the digest records of a sink folder whose
 * segments overlap the collection window, every segment they name, the
 * record before the first of them (the anchor: its segments are not
 * copied), the sink's public key when one was given, and CHAIN.json (what
 * was copied and why) into audit/chain/<n>/.  This module re-checks such
 * an excerpt from the bundle's own members, with nothing written to disk,
 * and says what a bundle's audit continuity is (signed chain, hash chain,
 * inferred from timestamps, none).
 */
#ifndef KC_AUDITCHAIN_BUNDLE_H
#define KC_AUDITCHAIN_BUNDLE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define KC_ACHAIN_EXCERPT_KIND "kcustody.audit-chain-excerpt"
#define KC_ACHAIN_EXCERPT_DIR "audit/chain/"

/* The audit continuity of the bundle (a sealed .tar.gz, or an unsealed
 * evidence folder) at path.  Each chain excerpt under audit/chain/ is
 * verified: record signatures with the trusted Ed25519 public key in
 * pubkey (PEM file) when given, else with the bundle's own copy of the
 * sink key (reported as not independently trusted), else not at all;
 * records contiguous, each record's previous-record hash, segments
 * contiguous, each copied segment's size, SHA-256 and line count, no
 * segment member that no record names, the anchor's segments outside
 * the window.  *out receives
 *   {"state": "signed chain" | "signed chain (bundle's key)" | "hash chain"
 *             | "broken" | "recorded at collection" | "inferred" | "none",
 *    "summary": one line, "chains": [per excerpt report], "gaps": [...]}
 * Returns 0, KC_ERR_VERIFY when an excerpt does not verify (state
 * "broken", *out filled), or another negative code when the bundle
 * cannot be read (*out NULL).  whole: read the archive to its end (verify);
 * else stop after audit/sources.json, members being sealed in bytewise
 * order (diff, report).  pin: the SHA-256 of the file as verify (or the
 * caller's load) read it; a different file is KC_ERR_VERIFY with *out
 * NULL (docs/FORMAT.md 8.3); NULL: not pinned. */
int kc_achain_bundle_continuity(const char *path, const char *pubkey, int whole, const char *pin, cJSON **out);

/* kc_achain_bundle_continuity, and the RFC 3161 tokens copied with the
 * records (digest-N.json.tsr): with tsa_ca each is checked as
 * verify-chain --tsa-ca checks it (kc_achain_token_check; one that fails
 * is tampering, the state "broken"), records without one are listed; with
 * tsa_ca NULL the tokens are counted, not checked, and the summary says
 * so.  Each chain report gets "timestamps": {checked, records, tokens,
 * and with a CA verified, missing: [file], firstStamp, lastStamp} when
 * there is a token or a CA. */
int kc_achain_bundle_continuity_tsa(const char *path, const char *pubkey, const char *tsa_ca, int whole,
    const char *pin, cJSON **out);

/* The one-line text of a continuity document (its "summary"). */
const char *kc_achain_continuity_line(const cJSON *c);

/* The first problem of a broken continuity document, "chain
 * audit/chain/N: FILE: PROBLEM", into out (cut to n bytes); "" when
 * there is none.  Returns out. */
const char *kc_achain_first_tampering(const cJSON *c, char *out, size_t n);

#endif
