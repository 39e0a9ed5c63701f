/* cli.h - the command layer: the only code that prints results and exits.
 *
 * A subcommand lives in cli/cmd_NAME.c and is defined with
 *     KC_COMMAND(name, "one-line summary")
 *     { ... return KC_EXIT_...; }
 * at the start of a line; the Makefile collects these into the table.
 */
#ifndef KC_CLI_H
#define KC_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

enum kc_exit {
	KC_EXIT_OK = 0,		/* done and complete */
	KC_EXIT_PARTIAL = 1,	/* bundle written, collection partial; or --fail-on hit */
	KC_EXIT_USAGE = 2,	/* usage or configuration error */
	KC_EXIT_INVALID = 3,	/* verification failed */
	KC_EXIT_FATAL = 4,	/* fatal, nothing written */
};

#define KC_COMMAND(name, summary) \
	int cmd_##name(int argc, char **argv); \
	int cmd_##name(int argc, char **argv)

/* "kcustody: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print cli_error with the library's last error detail, return code. */
int cli_fail(int code, const char *what);
/* The trust files of --pubkey, --ca and --tsa-ca (each may be NULL),
 * checked before a bundle is judged: a missing file, a private key or a
 * file with no key is a usage error (message printed, KC_EXIT_USAGE), not
 * an invalid bundle.  KC_EXIT_OK when all are usable. */
int cli_check_trust(const char *pubkey, const char *ca, const char *tsa_ca);
/* The same for --audit-chain-pubkey (a public key) and
 * --audit-chain-tsa-ca (a CA) of verify, diff and report. */
int cli_check_chain_trust(const char *pubkey, const char *tsa_ca);
/* Their help lines, one text for the three commands. */
#define CLI_HELP_AUDIT_CHAIN \
	"  --audit-chain-pubkey KEY\n" \
	"                         the audit sink's public key: the audit-sink chain\n" \
	"                         copied by collect (audit/chain/) is checked with it\n" \
	"                         (default: the bundle's own copy, reported as such)\n" \
	"  --audit-chain-tsa-ca CA.pem\n" \
	"                         trust anchors for the RFC 3161 tokens of that chain's\n" \
	"                         records (audit-sink --tsa; default: --tsa-ca)\n"
/* Usage errors: one line, "kcustody COMMAND: <what>; see 'kcustody COMMAND
 * --help'", never the whole help.  cli_bad_option names the argument
 * getopt stopped at (an unknown option or one missing its value);
 * cli_bad_args is for wrong positional arguments.  Both return
 * KC_EXIT_USAGE. */
int cli_bad_option(char **argv);
int cli_bad_args(void);
/* The command being run ("verify"), for messages. */
extern const char *cli_command;
/* Before any work: an output file given with -o (NULL and "-" pass) is
 * not a format name ("-o json"), not a folder, in a folder that exists and
 * is writable, and not an existing file unless force.  Prints the problem
 * and returns KC_EXIT_USAGE, or KC_EXIT_OK. */
int cli_check_output(const char *path, int force);
/* The i-th command's name as typed ("can-i"), NULL past the last. */
const char *cli_command_name(size_t i);
/* Write an output file given by the user: a regular file atomically
 * (kc_write_file_atomic), a character device or FIFO (/dev/null, a pipe)
 * by writing to it, never by renaming over it. */
int cli_write_output(const char *path, const void *data, size_t len, mode_t mode);
/* --format text|json|yaml on the commands whose output is a report (--json
 * is its short form).  KC_OPT_FORMAT is the getopt code every command uses
 * for it.  Sets *fmt to CLI_FMT_TEXT (0), CLI_FMT_JSON or CLI_FMT_YAML (so
 * "if (fmt)" means structured output); prints and returns KC_EXIT_USAGE for
 * another name. */
#define KC_OPT_FORMAT 0x7f01
enum { CLI_FMT_TEXT = 0, CLI_FMT_JSON = 1, CLI_FMT_YAML = 2 };
int cli_parse_format(const char *arg, int *fmt);
/* Print a structured result on stdout: JSON (cJSON_Print) or, for
 * CLI_FMT_YAML, the same document as YAML (formats/yaml_out.h).
 * KC_EXIT_OK, or KC_EXIT_FATAL (printed) when it cannot be rendered. */
int cli_print_doc(const cJSON *doc, int fmt);
/* The same for a document held as JSON text (a ledger line, MANIFEST.json
 * as stored): the bytes as they are for JSON, parsed and emitted for YAML. */
int cli_print_json_text(const char *text, size_t len, int fmt);
/* Map a library error code to an exit status. */
int cli_exit_for(int err);
/* Parse a whole decimal integer in [min, max]; 0 or -1 (with no message)
 * when s is not one: trailing junk, overflow and out of range are refused,
 * unlike atoi. */
int cli_parse_int(const char *s, long min, long max, long *out);
/* kcustody audit verify-chain (cli/cmd_audit_sink.c); argv[0] is
 * "verify-chain". */
int cli_audit_verify_chain(int argc, char **argv);
/* Program name as invoked ("kcustody" or "kubectl custody"). */
extern const char *cli_progname;

#endif
