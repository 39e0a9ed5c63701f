/* cmd_keygen.c - kcustody keygen: an Ed25519 signing key. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "manifest/sign.h"
#include "util/err.h"

static void
keygen_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s keygen -o KEY.pem [--pub PUB.pem] [--json]\n"
	    "       %s keygen --fingerprint FILE\n\n"
	    "Make an Ed25519 signing key: KEY.pem (PKCS#8 PEM, mode 0600, never\n"
	    "overwrites) and its public key (default: KEY.pub.pem), and print the\n"
	    "fingerprint: SHA256:<hex of SHA-256 of the DER SubjectPublicKeyInfo>.\n"
	    "--fingerprint prints that of a public key, private key or certificate.\n",
	    cli_progname, cli_progname);
}

static const struct option keygen_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "pub", required_argument, NULL, 'p' },
	{ "fingerprint", required_argument, NULL, 'f' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
print_result(int json, const char *key, const char *pub, const char *fpr)
{
	cJSON *o;
	char *s;

	if (!json) {
		printf("%s\n", fpr);
		return;
	}
	o = cJSON_CreateObject();
	if (key != NULL)
		cJSON_AddStringToObject(o, "key", key);
	if (pub != NULL)
		cJSON_AddStringToObject(o, "pub", pub);
	cJSON_AddStringToObject(o, "fingerprint", fpr);
	if ((s = cJSON_PrintUnformatted(o)) != NULL)
		printf("%s\n", s);
	cJSON_free(s);
	cJSON_Delete(o);
}

KC_COMMAND(keygen, "make an Ed25519 signing key and print its fingerprint")
{
	const char *key = NULL, *pub = NULL, *fprfile = NULL;
	char fpr[KC_FPR_LEN], *defpub = NULL;
	int c, json = 0, r;

	while ((c = getopt_long(argc, argv, "o:h", keygen_opts, NULL)) != -1) {
		switch (c) {
		case 'o': key = optarg; break;
		case 'p': pub = optarg; break;
		case 'f': fprfile = optarg; break;
		case 'j': json = 1; break;
		case 'h': keygen_usage(stdout); return KC_EXIT_OK;
		default: return cli_bad_option(argv);
		}
	}
	if (optind != argc || (key == NULL) == (fprfile == NULL)) {
		return cli_bad_args();
	}
	if (fprfile != NULL) {
		if (kc_fingerprint_file(fprfile, fpr) != 0)
			return cli_fail(KC_EXIT_USAGE, NULL);
		print_result(json, NULL, NULL, fpr);
		return KC_EXIT_OK;
	}
	if (pub == NULL) {
		size_t n = strlen(key);

		if (n > 4 && strcmp(key + n - 4, ".pem") == 0)
			r = asprintf(&defpub, "%.*s.pub.pem", (int)(n - 4), key);
		else
			r = asprintf(&defpub, "%s.pub", key);
		if (r < 0) {
			cli_error("out of memory");
			return KC_EXIT_FATAL;
		}
		pub = defpub;
	}
	r = kc_keygen(key, pub, fpr);
	if (r != 0) {
		free(defpub);
		return cli_fail(r == KC_ERR_INVALID ? KC_EXIT_USAGE : KC_EXIT_FATAL, "keygen");
	}
	print_result(json, key, pub, fpr);
	if (!json)
		fprintf(stderr, "kcustody: wrote private key '%s' (0600) and public key '%s'\n", key, pub);
	free(defpub);
	return KC_EXIT_OK;
}
