/* recertify_decide.h - the reviewer's signed decision of `kcustody
 * recertify --decision` (docs/RECERTIFY.md, "The reviewer's decision") and
 * the OSCAL output of `--format oscal`: the parts of cmd_recertify.c that
 * write, kept here so that the command itself stays a parser and printer. */
#ifndef KC_CLI_RECERTIFY_DECIDE_H
#define KC_CLI_RECERTIFY_DECIDE_H

#include <cjson/cJSON.h>

struct recert_decide {
	const char *decision;		/* approve | revoke | remediate, NULL: none */
	const char *key;		/* the reviewer's Ed25519 key */
	const char *passphrase_file;
	const char *note;
	const char *trust_keys;		/* NULL: only the holder may decide */
	const char *store;		/* the bundle is archived there */
};

/* Option checks before any work: KC_EXIT_OK or KC_EXIT_USAGE (printed). */
int recert_decide_check(const struct recert_decide *d);

/* Append the "recertified" entry for the judged document doc (of bundle)
 * to the bundle's ledger, or through the store for an archived bundle.
 * KC_EXIT_OK, or the exit status (printed). */
int recert_decide_write(const struct recert_decide *d, const char *bundle, const cJSON *doc);

/* Read and parse the scope file at path into *s (kc_scope_free it, also
 * after an error): 0, or the error (kc_err_msg says what and where). */
struct kc_scope;
int recert_load_scope(const char *path, struct kc_scope *s);

/* OSCAL, before any work: the plan's path (plan_path, or beside out_path)
 * can be written (cli_check_output).  KC_EXIT_OK or KC_EXIT_USAGE (printed). */
int recert_oscal_check_plan(const char *out_path, const char *plan_path, int force);

/* OSCAL: the assessment results of doc to out_path and the minimal
 * assessment plan to plan_path (NULL: beside out_path).  KC_EXIT_OK or
 * the exit status (printed). */
int recert_oscal_write(const char *bundle, const cJSON *doc, const char *out_path,
    const char *plan_path);

#endif
