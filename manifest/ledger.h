/* ledger.h - the chain-of-custody ledger beside a sealed bundle
 * (<bundle>.custody.jsonl, docs/CUSTODY.md).
 *
 * One entry per line, each a JSON object in canonical form: members in a
 * fixed order, no whitespace, written by cJSON_PrintUnformatted; the
 * Ed25519 signature ("sig") covers the line's bytes without its sig member
 * and newline.  Each entry names the SHA-256 of the line before it (with
 * its newline), the SHA-256 of the bundle file, the action and the actor
 * with its public key.  Text fields are UTF-8 without control characters
 * or DEL, so that jq and cJSON print them the same.
 *
 * Verification (kc_ledger_check) reports every problem with its line
 * number; integrity (syntax, chain, sequence, bundle hash, times,
 * signatures against the embedded keys, transfer/receipt pairing, and that
 * only the holder transfers, releases or disposes) is always checked; trust
 * (keys listed in a --trust-keys file, names matching, the roles the file
 * gives each key) only when a trust list is given.
 */
#ifndef KC_LEDGER_H
#define KC_LEDGER_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/sha256.h"

#define KC_LEDGER_SUFFIX ".custody.jsonl"
#define KC_LEDGER_SCHEMA "kcustody.custody/v1"
#define KC_LEDGER_MAX (64u << 20)	/* largest ledger we read */
#define KC_LEDGER_LINE_MAX (64u << 10)	/* longest entry line */
#define KC_LEDGER_FIELD_MAX 1024	/* longest text field (bytes) */
#define KC_LEDGER_NOTE_MAX 4096		/* longest note (bytes) */
#define KC_TRUST_MAX (1u << 20)		/* largest --trust-keys file */

struct kc_ledger_actor {
	const char *name;		/* who (required, non-empty) */
	const char *organisation;	/* NULL or "" when none */
};

/* What a "recertified" entry adds (docs/CUSTODY.md, "recertification"):
 * a reviewer's decision over a recertification result (docs/RECERTIFY.md).
 * The bundle it judged is the entry's bundle_sha256. */
#define KC_LEDGER_DECISIONS "approve, revoke or remediate"
struct kc_ledger_recert {
	const char *decision;		/* approve | revoke | remediate */
	const char *scope_file;		/* the scope file's name as given */
	const char *scope_sha256;	/* SHA-256 hex of its bytes */
	long agents, within_scope, beyond_scope;	/* the result's summary */
	long missing_from_scope, scope_entries_without_agent;
};

/* What one entry says.  NULL strings are written as "" (note: omitted). */
struct kc_ledger_event {
	const char *action;	/* sealed transferred received verified archived
				 * accessed released disposed recertified */
	struct kc_ledger_actor actor;
	const char *from, *to, *purpose, *location, *method, *note;
	const struct kc_ledger_recert *recert;	/* "recertified" only (required there) */
};

/* 1 when d is one of the decisions of KC_LEDGER_DECISIONS. */
int kc_ledger_decision_ok(const char *d);

/* What a checked ledger leaves for the next entry. */
struct kc_ledger_state {
	long entries;		/* lines read */
	long last_seq;		/* 0 when empty */
	char last_hash[KC_SHA256_HEX];	/* SHA-256 of the last line (with \n) */
	time_t last_time;
	int problems;		/* problems found (0: verified) */
};

/* An Ed25519 signing key with its public half.  (Loaded here with OpenSSL
 * EVP because manifest/sign.h has no accessor for a signer's public key
 * yet; the fingerprint is the same "SHA256:<hex of DER SPKI>".) */
struct kc_ledger_key;

/* Load a PEM Ed25519 private key; an encrypted key needs passphrase_file
 * (its first line).  The key is wiped when freed. */
int kc_ledger_key_load(const char *key_path, const char *passphrase_file,
    struct kc_ledger_key **out);
const char *kc_ledger_key_fingerprint(const struct kc_ledger_key *k);
void kc_ledger_key_free(struct kc_ledger_key *k);

/* Keys the user trusts (docs/CUSTODY.md, "Trusted keys"). */
struct kc_trust;

/* Load a --trust-keys JSON file: {"trusted_keys":[{"name","organisation",
 * "public_key": PEM path relative to the file's folder, "fingerprint":
 * optional pin, "roles": optional array of "custodian", "archive",
 * "reviewer"}]}.  A key listed without "roles" is a custodian only (the
 * default for trust files written before roles existed).  KC_ERR_CONFIG
 * with the reason on a bad file (also an unknown role). */
int kc_trust_load(const char *path, struct kc_trust **out);
void kc_trust_free(struct kc_trust *t);
/* The name the trust list gives the key fingerprint fpr, or NULL (also
 * when t is NULL).  Valid while t is. */
const char *kc_trust_name(const struct kc_trust *t, const char *fpr);
/* Likewise the organisation ("" when the list gives none). */
const char *kc_trust_org(const struct kc_trust *t, const char *fpr);

/* Fingerprint ("SHA256:" + hex of the DER SubjectPublicKeyInfo, as in
 * manifest/sign.h) of the public key in a PEM public key or certificate. */
int kc_ledger_pem_fingerprint(const char *path, char fpr[72]);

/* "<bundle_path>.custody.jsonl", newly allocated; NULL on no memory. */
char *kc_ledger_path(const char *bundle_path);

/* Check ledger text against the bundle's SHA-256 hex (NULL: take it from
 * the first entry and report it) and, when trust is non-NULL, the trusted
 * keys.  Returns 0 when it verifies, KC_ERR_VERIFY when it does not (the
 * first problem in kc_err_msg()), or KC_ERR_NOMEM.  state and report are
 * optional; *report (caller frees) is the JSON described in
 * docs/CUSTODY.md ("Verification report"). */
int kc_ledger_check(const char *text, size_t len, const char *bundle_sha256,
    const struct kc_trust *trust, struct kc_ledger_state *state, cJSON **report);

/* Build the next signed entry line (with its newline) after state, at time
 * now, signed with key, appending it to line.  Refuses
 * (KC_ERR_INVALID) an unknown action, a missing actor name, text with a
 * control character or invalid UTF-8, an over-long field, "sealed" not as
 * the first entry or a first entry that is not "sealed", and (KC_ERR_VERIFY)
 * a time before the last entry's. */
int kc_ledger_make_entry(const struct kc_ledger_state *state, const char *bundle_sha256,
    struct kc_ledger_key *key, const struct kc_ledger_event *ev, time_t now,
    struct kc_buf *line);

/* The next entry after the ledger text (len bytes, already checked: state
 * is what kc_ledger_check gave), made as kc_ledger_make_entry does at
 * kc_now() and appended to line, but only when the ledger with it still
 * verifies with trust: else KC_ERR_INVALID "refusing to write an entry
 * that would not verify: ..." (a disposal by a key that may not dispose)
 * and line as it was.  The one rule for kc_ledger_append and the archive. */
int kc_ledger_next_entry(const char *text, size_t len, const struct kc_ledger_state *state,
    const char *bundle_sha256, struct kc_ledger_key *key, const struct kc_ledger_event *ev,
    const struct kc_trust *trust, struct kc_buf *line);

/* Append one entry to the ledger file at ledger_path (NULL: beside the
 * bundle) under an exclusive flock: read and check what is there (refusing,
 * KC_ERR_VERIFY, a ledger that does not verify: against trust when given),
 * build the next entry and check the ledger with it (so that an entry
 * that would itself fail, e.g. a receipt by the wrong party or an untrusted
 * key, is never written), write the new line with one write() on an
 * O_APPEND descriptor, fsync.
 * A missing ledger is created only for "sealed" (KC_ERR_NOTFOUND
 * otherwise).  bundle_sha256 NULL: hash bundle_path.  line_out (optional)
 * receives the line written. */
int kc_ledger_append(const char *bundle_path, const char *ledger_path,
    const char *bundle_sha256, struct kc_ledger_key *key,
    const struct kc_ledger_event *ev, const struct kc_trust *trust,
    struct kc_buf *line_out);

/* For collect: write the first ("sealed") entry of a new ledger beside the
 * bundle, signed with the Ed25519 key at key_path.  The ledger must not
 * exist yet.  method is "kcustody collect <version>". */
int kc_ledger_seal_entry(const char *bundle_path, const char *key_path,
    const char *passphrase_file, const struct kc_ledger_actor *actor,
    const char *purpose, const char *location);

/* For verify: check the ledger at ledger_path (NULL: beside the bundle)
 * against the bundle file's SHA-256 and, when trust_keys_file is non-NULL,
 * the keys it lists.  0 verified, KC_ERR_VERIFY not (report says why),
 * KC_ERR_NOTFOUND no ledger, KC_ERR_IO/KC_ERR_CONFIG reading the files.
 * *report (optional, caller frees) is set whenever the ledger was read. */
int kc_ledger_verify(const char *bundle_path, const char *ledger_path,
    const char *trust_keys_file, cJSON **report);

/* Render a report as a text table (custody show, verify) into out. */
int kc_ledger_render_text(const cJSON *report, struct kc_buf *out);

#endif
