/* cmd_custody.c - kcustody custody show|verify|append */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/log.h"
#include "manifest/ledger.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/fmt.h"

static void
custody_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s custody show BUNDLE [--trust-keys FILE] [--ledger FILE] [--json]\n"
	    "       %s custody verify BUNDLE [--trust-keys FILE] [--ledger FILE] [--json]\n"
	    "       %s custody append BUNDLE --action ACTION --key KEY.pem [options]\n\n"
	    "Show, verify or extend the chain-of-custody ledger BUNDLE.custody.jsonl.\n"
	    "show prints the history and the verification result; verify prints only\n"
	    "the result and the problems.  append verifies the ledger first and\n"
	    "refuses to extend one that does not verify, or an entry its signer may\n"
	    "not make: only the holder transfers, releases or disposes; with\n"
	    "--trust-keys the roles there decide (custodian, archive, reviewer).\n\n"
	    "Options:\n"
	    "  --trust-keys FILE      trusted signers and their roles (JSON,\n"
	    "                         docs/CUSTODY.md); without it\n"
	    "                         signatures are checked against the keys in the\n"
	    "                         entries only, and the result says so\n"
	    "  --ledger FILE          the ledger (default: BUNDLE.custody.jsonl)\n"
	    "  --json                 machine-readable output (= --format json)\n"
	    "  --format FMT           text, json or yaml (the JSON document as YAML)\n"
	    "append:\n"
	    "  --action ACTION        sealed, transferred, received, verified, archived,\n"
	    "                         accessed, released or disposed\n"
	    "  --key KEY.pem          the actor's Ed25519 private key\n"
	    "  --passphrase-file F    passphrase of an encrypted key\n"
	    "  --name NAME            the actor, or --operator (default: the name the trust file gives\n"
	    "                         the key, else the OS user)\n"
	    "  --org ORGANISATION     the actor's organisation (or --organisation)\n"
	    "  --from WHO             previous holder (transfers, receipts)\n"
	    "  --to WHO               receiver: trusted name or key fingerprint\n"
	    "  --purpose TEXT         why\n"
	    "  --location TEXT        where\n"
	    "  --method TEXT          how (hand delivery, sftp, sealed bag ...)\n"
	    "  --note TEXT            anything else\n\n"
	    "Exit status: 0 verified (appended), 2 usage, 3 the ledger does not verify,\n"
	    "4 fatal.\n", cli_progname, cli_progname, cli_progname);
}

enum {
	OPT_ACTION = 256, OPT_KEY, OPT_PASS, OPT_NAME, OPT_ORG, OPT_FROM, OPT_TO,
	OPT_PURPOSE, OPT_LOCATION, OPT_METHOD, OPT_NOTE, OPT_TRUST, OPT_LEDGER, OPT_JSON,
};

static int
print_report(cJSON *report, int json, int history)
{
	struct kc_buf out = KC_BUF_INIT(64u << 20);

	if (json)
		return cli_print_doc(report, json) == KC_EXIT_OK ? 0 : KC_ERR_NOMEM;
	if (!history)
		kc_json_delete(report, "history");
	if (kc_ledger_render_text(report, &out) != 0) {
		kc_buf_free(&out);
		return KC_ERR_NOMEM;
	}
	fputs(kc_buf_str(&out), stdout);
	kc_buf_free(&out);
	return 0;
}

static int
custody_show(const char *bundle, const char *ledger, const char *trust, int json, int history)
{
	cJSON *report = NULL;
	int r;

	r = kc_ledger_verify(bundle, ledger, trust, &report);
	if (report == NULL)
		return cli_fail(r == KC_ERR_NOTFOUND ? KC_EXIT_USAGE : cli_exit_for(r), NULL);
	if (print_report(report, json, history) != 0) {
		cJSON_Delete(report);
		return cli_fail(KC_EXIT_FATAL, "cannot print the report");
	}
	cJSON_Delete(report);
	if (r == KC_ERR_VERIFY) {
		cli_error("%s", kc_err_msg());
		return KC_EXIT_INVALID;
	}
	return r == 0 ? KC_EXIT_OK : cli_fail(cli_exit_for(r), NULL);
}

static int
custody_append(const char *bundle, const char *ledger, const char *trust_file,
    const char *key_path, const char *pass, struct kc_ledger_event *ev, int json)
{
	struct kc_ledger_key *key = NULL;
	struct kc_trust *trust = NULL;
	struct kc_buf line = KC_BUF_INIT(KC_LEDGER_LINE_MAX);
	struct passwd *pw;
	char namebuf[1024];
	int r, ret;

	if (trust_file != NULL && (r = kc_trust_load(trust_file, &trust)) != 0) {
		ret = cli_fail(KC_EXIT_USAGE, NULL);
		goto out;
	}
	if ((r = kc_ledger_key_load(key_path, pass, &key)) != 0) {
		ret = cli_fail(cli_exit_for(r), NULL);
		goto out;
	}
	if (ev->actor.name == NULL)
		ev->actor.name = kc_trust_name(trust, kc_ledger_key_fingerprint(key));
	if (ev->actor.organisation == NULL)
		ev->actor.organisation = kc_trust_org(trust, kc_ledger_key_fingerprint(key));
	if (ev->actor.name == NULL && (pw = getpwuid(getuid())) != NULL) {
		/* the actor's name goes into the ledger: whole or an error */
		if ((r = kc_fmt(namebuf, sizeof(namebuf), "%s", pw->pw_name)) != 0) {
			ret = cli_fail(KC_EXIT_USAGE, NULL);
			goto out;
		}
		ev->actor.name = namebuf;
	}
	r = kc_ledger_append(bundle, ledger, NULL, key, ev, trust, &line);
	if (r != 0) {
		ret = cli_fail(r == KC_ERR_NOTFOUND ? KC_EXIT_USAGE : cli_exit_for(r), NULL);
		goto out;
	}
	if (json)
		cli_print_json_text(kc_buf_str(&line), line.len, json);
	else
		fprintf(stderr, "%s: %s entry appended by %s (%s)\n", cli_progname, ev->action,
		    ev->actor.name, kc_ledger_key_fingerprint(key));
	ret = KC_EXIT_OK;
out:
	kc_buf_free(&line);
	kc_trust_free(trust);
	kc_ledger_key_free(key);
	return ret;
}

KC_COMMAND(custody, "show, verify or extend a bundle's chain-of-custody ledger")
{
	static const struct option longopts[] = {
		{ "action", required_argument, NULL, OPT_ACTION },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "passphrase-file", required_argument, NULL, OPT_PASS },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "org", required_argument, NULL, OPT_ORG },
		{ "organisation", required_argument, NULL, OPT_ORG },
		{ "operator", required_argument, NULL, OPT_NAME },	/* as collect */
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "purpose", required_argument, NULL, OPT_PURPOSE },
		{ "location", required_argument, NULL, OPT_LOCATION },
		{ "method", required_argument, NULL, OPT_METHOD },
		{ "note", required_argument, NULL, OPT_NOTE },
		{ "trust-keys", required_argument, NULL, OPT_TRUST },
		{ "ledger", required_argument, NULL, OPT_LEDGER },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "format", required_argument, NULL, KC_OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kc_ledger_event ev;
	const char *sub, *key = NULL, *pass = NULL, *trust = NULL, *ledger = NULL;
	int c, json = 0;

	memset(&ev, 0, sizeof(ev));
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		custody_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "show") != 0 && strcmp(sub, "verify") != 0 && strcmp(sub, "append") != 0) {
		char safe[128];

		fprintf(stderr, "%s custody: unknown subcommand '%s' (show, verify or append); "
		    "see '%s custody --help'\n", cli_progname, kc_safe_str(sub, safe, sizeof(safe)), cli_progname);
		return KC_EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ACTION: ev.action = optarg; break;
		case OPT_KEY: key = optarg; break;
		case OPT_PASS: pass = optarg; break;
		case OPT_NAME: ev.actor.name = optarg; break;
		case OPT_ORG: ev.actor.organisation = optarg; break;
		case OPT_FROM: ev.from = optarg; break;
		case OPT_TO: ev.to = optarg; break;
		case OPT_PURPOSE: ev.purpose = optarg; break;
		case OPT_LOCATION: ev.location = optarg; break;
		case OPT_METHOD: ev.method = optarg; break;
		case OPT_NOTE: ev.note = optarg; break;
		case OPT_TRUST: trust = optarg; break;
		case OPT_LEDGER: ledger = optarg; break;
		case OPT_JSON: json = 1; break;
		case KC_OPT_FORMAT: if (cli_parse_format(optarg, &json) != KC_EXIT_OK) return KC_EXIT_USAGE; break;
		case 'h': custody_usage(stdout); return KC_EXIT_OK;
		default: return cli_bad_option(argv);
		}
	}
	if (optind != argc - 1) {
		cli_error("custody %s needs exactly one BUNDLE (see '%s custody --help')", sub,
		    cli_progname);
		return KC_EXIT_USAGE;
	}
	if (strcmp(sub, "show") == 0 || strcmp(sub, "verify") == 0)
		return custody_show(argv[optind], ledger, trust, json, strcmp(sub, "show") == 0);
	if (strcmp(sub, "append") == 0) {
		if (ev.action == NULL || key == NULL) {
			cli_error("custody append needs --action and --key");
			return KC_EXIT_USAGE;
		}
		return custody_append(argv[optind], ledger, trust, key, pass, &ev, json);
	}
	cli_error("unknown custody command '%s' (show, verify or append)", sub);
	return KC_EXIT_USAGE;
}
