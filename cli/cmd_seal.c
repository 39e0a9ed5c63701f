/* cmd_seal.c - kcustody seal: seal a staging folder into a bundle. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "manifest/bundle.h"
#include "manifest/manifest.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

static void
seal_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s seal STAGING_DIR -o BUNDLE.tar.gz [options]\n\n"
	    "Seal evidence gathered in a folder into a bundle (format v1): MANIFEST.json,\n"
	    "SHA256SUMS, signature, optional RFC 3161 time-stamp, VERIFY.txt, and the\n"
	    "deterministic tar.gz.  The folder's files are kept byte for byte.\n\n"
	    "  -o, --output FILE      bundle to write (must end in .tar.gz, must not exist);\n"
	    "                         its name without .tar.gz is the top folder\n"
	    "  --manifest FILE        manifest draft (JSON object) to complete\n"
	    "  --key KEY.pem          signing key (Ed25519 raw signature, or CMS with --cert)\n"
	    "  --cert CERT.pem        X.509 certificate (and chain): detached CMS signature\n"
	    "  --passphrase-file F    passphrase of an encrypted key (else asked on the terminal)\n"
	    "  --no-sign              seal without a signature (verify reports it)\n"
	    "  --tsa URL              RFC 3161 time-stamping authority\n"
	    "  --tsa-ca CA.pem        check the TSA's reply against this CA\n"
	    "  --mtime TIME           RFC 3339 time for every member (default: now)\n"
	    "  --level N              gzip level 1-9 (default %d)\n\n"
	    "Exit status: 0 sealed, 2 usage or configuration error, 4 fatal (nothing written).\n",
	    cli_progname, KC_TAR_DEFAULT_LEVEL);
}

enum { OPT_MANIFEST = 256, OPT_KEY, OPT_CERT, OPT_PASS, OPT_NOSIGN, OPT_TSA, OPT_TSACA, OPT_MTIME, OPT_LEVEL };

static const struct option seal_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "manifest", required_argument, NULL, OPT_MANIFEST },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "passphrase-file", required_argument, NULL, OPT_PASS },
	{ "no-sign", no_argument, NULL, OPT_NOSIGN },
	{ "tsa", required_argument, NULL, OPT_TSA },
	{ "tsa-ca", required_argument, NULL, OPT_TSACA },
	{ "mtime", required_argument, NULL, OPT_MTIME },
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

KC_COMMAND(seal, "seal a folder of evidence into a signed bundle")
{
	struct kc_seal_opts so = { 0 };
	struct kc_buf draft = KC_BUF_INIT(KC_MANIFEST_MAX);
	const char *out = NULL, *manifest_path = NULL;
	cJSON *m = NULL;
	long nsec;
	int c, r, rc;

	so.mtime = kc_now();
	while ((c = getopt_long(argc, argv, "o:h", seal_opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case OPT_MANIFEST: manifest_path = optarg; break;
		case OPT_KEY: so.key_path = optarg; break;
		case OPT_CERT: so.cert_path = optarg; break;
		case OPT_PASS: so.passphrase_file = optarg; break;
		case OPT_NOSIGN: so.no_sign = 1; break;
		case OPT_TSA: so.tsa_url = optarg; break;
		case OPT_TSACA: so.tsa_ca = optarg; break;
		case OPT_MTIME:
			if (kc_parse_rfc3339(optarg, &so.mtime, &nsec) != 0) {
				cli_error("--mtime: not an RFC 3339 time: '%s'", optarg);
				return KC_EXIT_USAGE;
			}
			break;
		case OPT_LEVEL:
		{
			long lv;

			if (cli_parse_int(optarg, 1, 9, &lv) != 0) {
				cli_error("--level must be 1-9");
				return KC_EXIT_USAGE;
			}
			so.gzip_level = (int)lv;
			break;
		}
		case 'h': seal_usage(stdout); return KC_EXIT_OK;
		default: return cli_bad_option(argv);
		}
	}
	if (optind + 1 != argc || out == NULL) {
		return cli_bad_args();
	}
	if (so.cert_path != NULL && so.key_path == NULL) {
		cli_error("--cert needs --key");
		return KC_EXIT_USAGE;
	}
	if (manifest_path != NULL) {
		if (kc_read_file(manifest_path, KC_MANIFEST_MAX, &draft) != 0)
			return cli_fail(KC_EXIT_USAGE, NULL);
		if ((m = cJSON_ParseWithLength(draft.data ? draft.data : "", draft.len)) == NULL ||
		    !cJSON_IsObject(m)) {
			cli_error("manifest draft '%s' is not a JSON object", manifest_path);
			kc_buf_free(&draft);
			cJSON_Delete(m);
			return KC_EXIT_USAGE;
		}
		kc_buf_free(&draft);
	} else if ((m = cJSON_CreateObject()) == NULL) {
		cli_error("out of memory");
		return KC_EXIT_FATAL;
	}
	r = kc_bundle_seal(argv[optind], m, &so, out);
	cJSON_Delete(m);
	if (r != 0) {
		rc = cli_exit_for(r);
		return cli_fail(r == KC_ERR_VERIFY ? KC_EXIT_FATAL : rc, "seal");
	}
	printf("%s\n", out);
	return KC_EXIT_OK;
}
