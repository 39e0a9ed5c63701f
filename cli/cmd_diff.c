/* cmd_diff.c - kcustody diff PRE POST */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "formats/report_html.h"
#include "formats/yaml_out.h"
#include "manifest/ledger.h"
#include "pipeline/diff.h"
#include "rbac/diff.h"
#include "util/err.h"
#include "util/jarena.h"
#include "util/log.h"

static void
diff_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s diff PRE POST [options]\n\n"
	    "Compare the evidence before and after a remediation: permissions of each\n"
	    "agent service account removed, added and kept; RBAC objects changed;\n"
	    "findings resolved, persisting and new (AGR-025); agent pods older than\n"
	    "the remediation; denied requests and sensitive reads in POST's audit\n"
	    "segment.  Both bundles are verified first, as 'verify' does (a copied\n"
	    "audit-sink chain that does not verify makes the bundle invalid).\n\n"
	    "  --format FMT           text (default), json, yaml (the JSON as YAML), md or html\n"
	    "                         (a self-contained page)\n"
	    "  -o FILE                write the output to FILE (atomically; an existing file\n"
	    "                         is not replaced without --force)\n"
	    "  --force                replace an existing output file\n"
	    "  --pubkey F | --ca F    the key or CA the bundles must be signed with\n"
	    "  --tsa-ca F             CA for the bundles' time-stamp tokens (and, without\n"
	    "                         --audit-chain-tsa-ca, for the audit-sink chain's)\n"
	    CLI_HELP_AUDIT_CHAIN
	    "  --allow-unsigned       accept unsigned bundles (stated in the output)\n"
	    "  --no-verify            compare without verifying (stated in the output)\n"
	    "  --remediated-at T      when the remediation happened (RFC 3339;\n"
	    "                         default: the end of the PRE collection)\n"
	    "  --seal OUT             also seal the diff (json, md, txt, html) as a signed\n"
	    "                         bundle naming PRE and POST by SHA-256; OUT is a\n"
	    "                         file or a folder for the generated name\n"
	    "  --key KEY.pem [--cert CERT.pem] [--passphrase-file F] | --no-sign\n"
	    "                         how --seal signs\n\n"
	    "Exit status: 0 done, 2 usage error or bundles that cannot be compared\n"
	    "(different clusters, PRE not older than POST), 3 a bundle failed\n"
	    "verification, 4 fatal.\n", cli_progname);
}

enum { O_FORMAT = 256, O_PUBKEY, O_CA, O_TSACA, O_NOVERIFY, O_UNSIGNED, O_REMAT, O_SEAL,
	O_KEY, O_CERT, O_PASS, O_NOSIGN, O_FORCE, O_CHAINPUB, O_CHAINTSA };

static int
write_out(const char *path, const struct kc_buf *b)
{
	if (path == NULL) {
		fwrite(kc_buf_str(b), 1, b->len, stdout);
		return 0;
	}
	return cli_write_output(path, kc_buf_str(b), b->len, 0644);
}

struct diff_args {
	struct kc_diff_opts o;
	struct kc_seal_opts so;
	const char *format, *output, *seal;
	int force;
};

/* Parse and check the options: KC_EXIT_OK, or the exit status (-h: -1). */
static int
parse_args(int argc, char **argv, struct diff_args *a)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, O_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "pubkey", required_argument, NULL, O_PUBKEY },
		{ "ca", required_argument, NULL, O_CA },
		{ "tsa-ca", required_argument, NULL, O_TSACA },
		{ "audit-chain-pubkey", required_argument, NULL, O_CHAINPUB },
		{ "audit-chain-tsa-ca", required_argument, NULL, O_CHAINTSA },
		{ "no-verify", no_argument, NULL, O_NOVERIFY },
		{ "allow-unsigned", no_argument, NULL, O_UNSIGNED },
		{ "remediated-at", required_argument, NULL, O_REMAT },
		{ "seal", required_argument, NULL, O_SEAL },
		{ "key", required_argument, NULL, O_KEY },
		{ "cert", required_argument, NULL, O_CERT },
		{ "passphrase-file", required_argument, NULL, O_PASS },
		{ "no-sign", no_argument, NULL, O_NOSIGN },
		{ "force", no_argument, NULL, O_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case O_FORMAT: a->format = optarg; break;
		case 'o': a->output = optarg; break;
		case O_FORCE: a->force = 1; break;
		case O_PUBKEY: a->o.pubkey_path = optarg; break;
		case O_CA: a->o.ca_path = optarg; break;
		case O_TSACA: a->o.tsa_ca = optarg; break;
		case O_CHAINPUB: a->o.audit_chain_pubkey = optarg; break;
		case O_CHAINTSA: a->o.audit_chain_tsa_ca = optarg; break;
		case O_NOVERIFY: a->o.no_verify = 1; break;
		case O_UNSIGNED: a->o.allow_unsigned = 1; break;
		case O_REMAT: a->o.remediated_at = optarg; break;
		case O_SEAL: a->seal = optarg; break;
		case O_KEY: a->so.key_path = optarg; break;
		case O_CERT: a->so.cert_path = optarg; break;
		case O_PASS: a->so.passphrase_file = optarg; break;
		case O_NOSIGN: a->so.no_sign = 1; break;
		case 'h': diff_usage(stdout); return -1;
		default: return cli_bad_option(argv);
		}
	}
	if (argc - optind != 2) {
		cli_error("diff needs two bundles: PRE POST");
		return KC_EXIT_USAGE;
	}
	a->o.pre = argv[optind];
	a->o.post = argv[optind + 1];
	return KC_EXIT_OK;
}

static int
check_args(const struct diff_args *a)
{
	const char *format = a->format;

	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 && strcmp(format, "md") != 0 &&
	    strcmp(format, "html") != 0 && strcmp(format, "yaml") != 0) {
		char safe[64];

		cli_error("--format must be text, json, yaml, md or html, not '%s'", kc_safe_str(format, safe, sizeof(safe)));
		return KC_EXIT_USAGE;
	}
	if (!a->o.no_verify && a->o.pubkey_path == NULL && a->o.ca_path == NULL && !a->o.allow_unsigned) {
		cli_error("give the key the bundles were signed with (--pubkey or --ca), "
		    "or --allow-unsigned / --no-verify");
		return KC_EXIT_USAGE;
	}
	if (!a->o.no_verify && cli_check_trust(a->o.pubkey_path, a->o.ca_path, a->o.tsa_ca) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	if (cli_check_chain_trust(a->o.audit_chain_pubkey, a->o.audit_chain_tsa_ca) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	if (cli_check_output(a->output, a->force) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	if (a->seal != NULL && a->so.key_path == NULL && !a->so.no_sign) {
		cli_error("--seal needs --key KEY.pem or --no-sign");
		return KC_EXIT_USAGE;
	}
	return KC_EXIT_OK;
}

/* d in the format asked for; KC_EXIT_OK or KC_EXIT_FATAL (printed). */
static int
render(const cJSON *d, const char *format, struct kc_buf *b)
{
	char *txt;

	if (strcmp(format, "json") == 0 || strcmp(format, "yaml") == 0) {
		/* the document as written: kcustody.diff/v2, packed (util/jarena.h) */
		struct kc_jarena *arena = kc_jarena_new();
		cJSON *pub = arena != NULL ? kc_diff_public(d, arena) : NULL;
		int bad;

		if (pub == NULL) {
			kc_jarena_free(arena);
			cli_error("out of memory");
			return KC_EXIT_FATAL;
		}
		if (format[0] == 'y') {
			bad = kc_yaml_from_json(pub, b) != 0;
		} else {
			txt = cJSON_Print(pub);
			bad = txt == NULL || kc_buf_adds(b, txt) != 0 || kc_buf_addc(b, '\n') != 0;
			free(txt);
		}
		cJSON_Delete(pub);
		kc_jarena_free(arena);
		if (bad) {
			cli_error("cannot write the diff as %s", format);
			return KC_EXIT_FATAL;
		}
	} else if (strcmp(format, "md") == 0) {
		kc_diff_render_md(d, b);
	} else if (strcmp(format, "html") == 0) {
		if (kc_diff_render_html(d, b) != 0) {
			cli_error("%s", kc_err_msg());
			return KC_EXIT_FATAL;
		}
	} else {
		kc_diff_render_text(d, b);
	}
	return KC_EXIT_OK;
}

/* --seal: the sealed diff, and its custody ledger when signed. */
static int
seal(const cJSON *d, const struct diff_args *a)
{
	char *final = NULL;

	if (kc_diff_seal(d, a->seal, &a->so, &final) != 0) {
		cli_error("cannot seal the diff: %s", kc_err_msg());
		free(final);
		return KC_EXIT_FATAL;
	}
	if (!a->so.no_sign) {
		struct kc_ledger_actor actor = { getenv("USER") ? getenv("USER") : "kcustody", NULL };
		if (kc_ledger_seal_entry(final, a->so.key_path, a->so.passphrase_file, &actor,
		    "recertification diff", "local") != 0)
			cli_error("warning: diff sealed, but no custody ledger was started: %s", kc_err_msg());
	}
	fprintf(stderr, "kcustody: sealed diff %s\n", final);
	free(final);
	return KC_EXIT_OK;
}

KC_COMMAND(diff, "compare PRE and POST bundles: the remediation's permission delta")
{
	struct diff_args a;
	struct kc_buf b = KC_BUF_INIT(1u << 30);
	cJSON *d = NULL;
	int r, ret;

	memset(&a, 0, sizeof(a));
	a.format = "text";
	if ((ret = parse_args(argc, argv, &a)) != KC_EXIT_OK)
		return ret == -1 ? KC_EXIT_OK : ret;
	if ((ret = check_args(&a)) != KC_EXIT_OK)
		return ret;
	if ((a.o.arena = kc_jarena_new()) == NULL) {
		cli_error("out of memory");
		return KC_EXIT_FATAL;
	}
	if ((r = kc_diff_bundles(&a.o, &d)) != 0) {
		kc_jarena_free(a.o.arena);
		cli_error("%s", kc_err_msg());
		return r == KC_ERR_VERIFY ? KC_EXIT_INVALID : r == KC_ERR_INVALID ? KC_EXIT_USAGE :
		    r == KC_ERR_IO ? KC_EXIT_USAGE : KC_EXIT_FATAL;
	}
	if ((ret = render(d, a.format, &b)) != KC_EXIT_OK)
		goto out;
	if (write_out(a.output, &b) != 0) {
		cli_error("%s", kc_err_msg());
		ret = KC_EXIT_FATAL;
		goto out;
	}
	if (a.seal != NULL)
		ret = seal(d, &a);
out:
	kc_buf_free(&b);
	cJSON_Delete(d);
	kc_jarena_free(a.o.arena);	/* after the document */
	return ret;
}
