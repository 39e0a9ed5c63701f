/* cmd_archive.c - kcustody archive put|list|get|verify|prune */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "manifest/archive.h"
#include "manifest/ledger.h"
#include "util/log.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

static void
archive_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s archive put BUNDLE --store STORE (--retain-until DATE | --retain 7y)\n"
	    "                     [--legal-hold] --key KEY.pem [options]\n"
	    "       %s archive list --store STORE [--json]\n"
	    "       %s archive get ID -o FILE --store STORE --key KEY.pem [options]\n"
	    "       %s archive verify [ID | --all] --store STORE [--trust-keys FILE] [--json]\n"
	    "       %s archive prune --store STORE --key KEY.pem [--dry-run] [--json]\n\n"
	    "The AU-11 retention archive.  STORE is a folder (content-addressed,\n"
	    "read-only objects and an index) or s3://BUCKET/PREFIX (S3 Object Lock:\n"
	    "the store itself refuses to delete before retain-until).  put, get and\n"
	    "prune write archived, accessed and disposed entries into the custody\n"
	    "ledger, signed with --key.  ID is the bundle's SHA-256 (or a unique prefix\n"
	    "of at least 8 hex digits).\n\n"
	    "Options:\n"
	    "  --store STORE          folder or s3://BUCKET/PREFIX\n"
	    "  --retain-until DATE    YYYY-MM-DD (end of that day, UTC) or RFC 3339\n"
	    "  --retain DURATION      from now: 7y, 52w, 90d, 12h, 30m, 10s\n"
	    "  --legal-hold           keep regardless of the date until the hold is lifted\n"
	    "  --key KEY.pem          Ed25519 key that signs the custody entries\n"
	    "  --passphrase-file F    passphrase of an encrypted key\n"
	    "  --name NAME, --org ORG the actor (--operator, --organisation are the same;\n"
	    "                         default: the trust file's name for the\n"
	    "                         key, else the OS user)\n"
	    "  --location TEXT, --purpose TEXT   recorded in the custody entries\n"
	    "  --trust-keys FILE      trusted signers; ledgers must verify against them\n"
	    "  -o, --output FILE      get: where to write the bundle (and FILE.custody.jsonl)\n"
	    "  --all                  verify: every item (the default)\n"
	    "  --dry-run              prune: only say what would be removed\n"
	    "  --json                 machine-readable output (= --format json)\n"
	    "  --format text|json     output format\n"
	    "S3:\n"
	    "  --endpoint URL         S3 endpoint (default $AWS_ENDPOINT_URL, else AWS)\n"
	    "  --region REGION        default $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1\n"
	    "  --access-key ID        default $AWS_ACCESS_KEY_ID, else the profile\n"
	    "  --secret-key-file F    file holding the secret key (default\n"
	    "                         $AWS_SECRET_ACCESS_KEY, else the profile)\n"
	    "  --profile NAME         profile in the credentials file (default $AWS_PROFILE,\n"
	    "                         'default')\n"
	    "  --credentials-file F   default $AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials\n"
	    "  --ca-file F            CA bundle for the endpoint's TLS certificate\n"
	    "  --lock-mode MODE       COMPLIANCE (default) or GOVERNANCE\n"
	    "  --multipart-threshold N  upload in parts above N bytes (default 64M)\n"
	    "  --part-size N          part size (default 16M; AWS needs at least 5M)\n\n"
	    "Exit status: 0 done, 2 usage, 3 something stored is damaged or missing\n"
	    "(verify) or a ledger does not verify, 4 fatal.\n",
	    cli_progname, cli_progname, cli_progname, cli_progname, cli_progname);
}

enum {
	OPT_STORE = 256, OPT_UNTIL, OPT_RETAIN, OPT_HOLD, OPT_KEY, OPT_PASS, OPT_NAME, OPT_ORG,
	OPT_LOCATION, OPT_PURPOSE, OPT_TRUST, OPT_ALL, OPT_DRY, OPT_JSON, OPT_ENDPOINT,
	OPT_REGION, OPT_ACCESS, OPT_SECRET_FILE, OPT_PROFILE, OPT_CREDS, OPT_CA, OPT_MODE,
	OPT_THRESHOLD, OPT_PART,
};

static int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: return -1;
	}
	if (*end != '\0' || v == 0)
		return -1;
	*out = v;
	return 0;
}

static void
print_json(const cJSON *j)
{
	char *s = cJSON_Print(j);

	if (s != NULL)
		printf("%s\n", s);
	cJSON_free(s);
}

/* A string member for the terminal, control bytes escaped (index and item
 * records are files anyone with write access may have edited).  Valid
 * until the eighth call after it. */
static const char *
js(const cJSON *o, const char *name)
{
	static char ring[8][512];
	static unsigned k;
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsString(it))
		return "";
	k = (k + 1) % 8;
	return kc_safe_str(it->valuestring, ring[k], sizeof(ring[k]));
}

static const char *
safe_item(const cJSON *it)
{
	static char buf[1024];

	return kc_safe_str(cJSON_IsString(it) ? it->valuestring : "", buf, sizeof(buf));
}

static int
do_list(struct kc_archive *a, int json)
{
	cJSON *items = NULL, *it;
	int r;

	if ((r = kc_archive_list(a, &items)) != 0)
		return cli_fail(cli_exit_for(r), NULL);
	if (json) {
		print_json(items);
	} else {
		printf("%-16s %-44s %12s %-20s %-20s %-4s %s\n", "ID", "NAME", "SIZE", "STORED",
		    "RETAIN UNTIL", "HOLD", "STATUS");
		cJSON_ArrayForEach(it, items)
			printf("%-16.16s %-44s %12.0f %-20s %-20s %-4s %s\n", js(it, "id"), js(it, "name"),
			    cJSON_GetObjectItem(it, "size") ? cJSON_GetObjectItem(it, "size")->valuedouble : 0,
			    js(it, "stored"), js(it, "retain_until"),
			    cJSON_IsTrue(cJSON_GetObjectItem(it, "legal_hold")) ? "yes" : "no",
			    js(it, "status"));
	}
	cJSON_Delete(items);
	return KC_EXIT_OK;
}

static int
do_verify(struct kc_archive *a, const char *id, const struct kc_trust *trust, int json)
{
	cJSON *rep = NULL, *it, *p;
	int r;

	r = kc_archive_verify(a, id, trust, &rep);
	if (rep == NULL)
		return cli_fail(r == KC_ERR_NOTFOUND ? KC_EXIT_USAGE : cli_exit_for(r), NULL);
	if (json) {
		print_json(rep);
	} else {
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(rep, "items")) {
			int ok = cJSON_IsTrue(cJSON_GetObjectItem(it, "ok"));

			printf("%-8s %s %s (%s)\n", ok ? "ok" : "DAMAGED", js(it, "id"), js(it, "name"),
			    js(it, "status"));
			cJSON_ArrayForEach(p, cJSON_GetObjectItem(it, "problems"))
				printf("         %s\n", safe_item(p));
			cJSON_ArrayForEach(p, cJSON_GetObjectItem(it, "warnings"))
				printf("         warning: %s\n", safe_item(p));
		}
		cJSON_ArrayForEach(p, cJSON_GetObjectItem(rep, "unindexed"))
			printf("warning: %s is in the store but not in its index (an interrupted put?)\n",
			    safe_item(p));
		printf("%d checked, %d damaged or missing\n",
		    cJSON_GetObjectItem(rep, "checked")->valueint,
		    cJSON_GetObjectItem(rep, "damaged")->valueint);
	}
	cJSON_Delete(rep);
	if (r == KC_ERR_VERIFY) {
		cli_error("%s", kc_err_msg());
		return KC_EXIT_INVALID;
	}
	return r ? cli_fail(cli_exit_for(r), NULL) : KC_EXIT_OK;
}

static int
do_prune(struct kc_archive *a, const struct kc_archive_actor *who, int dry, int json)
{
	cJSON *rep = NULL, *it;
	int r;

	r = kc_archive_prune(a, who, dry, &rep);
	if (rep != NULL) {
		if (json) {
			print_json(rep);
		} else {
			cJSON_ArrayForEach(it, cJSON_GetObjectItem(rep, "items")) {
				printf("%-16.16s %-44s %s%s%s\n", js(it, "id"), js(it, "name"),
				    js(it, "result"), js(it, "detail")[0] ? ": " : "", js(it, "detail"));
			}
		}
		cJSON_Delete(rep);
	}
	return r ? cli_fail(cli_exit_for(r), NULL) : KC_EXIT_OK;
}

KC_COMMAND(archive, "store, list, retrieve, re-verify and prune bundles (AU-11)")
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, OPT_STORE },
		{ "retain-until", required_argument, NULL, OPT_UNTIL },
		{ "retain", required_argument, NULL, OPT_RETAIN },
		{ "legal-hold", no_argument, NULL, OPT_HOLD },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "passphrase-file", required_argument, NULL, OPT_PASS },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "org", required_argument, NULL, OPT_ORG },
		{ "organisation", required_argument, NULL, OPT_ORG },
		{ "operator", required_argument, NULL, OPT_NAME },	/* as collect */
		{ "location", required_argument, NULL, OPT_LOCATION },
		{ "purpose", required_argument, NULL, OPT_PURPOSE },
		{ "trust-keys", required_argument, NULL, OPT_TRUST },
		{ "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "format", required_argument, NULL, KC_OPT_FORMAT },
		{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "access-key", required_argument, NULL, OPT_ACCESS },
		{ "secret-key-file", required_argument, NULL, OPT_SECRET_FILE },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "credentials-file", required_argument, NULL, OPT_CREDS },
		{ "ca-file", required_argument, NULL, OPT_CA },
		{ "lock-mode", required_argument, NULL, OPT_MODE },
		{ "multipart-threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "part-size", required_argument, NULL, OPT_PART },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kc_archive_opts o;
	struct kc_archive_actor who;
	struct kc_archive *a = NULL;
	struct kc_ledger_key *key = NULL;
	struct kc_trust *trust = NULL;
	struct kc_buf secret = KC_BUF_INIT(4096);
	const char *sub, *until = NULL, *retain = NULL, *key_path = NULL, *pass = NULL;
	const char *trust_file = NULL, *output = NULL, *secret_file = NULL;
	char namebuf[256];
	int c, hold = 0, all = 0, dry = 0, json = 0, r, ret = KC_EXIT_USAGE, needs_key;
	cJSON *item = NULL;
	struct passwd *pw;
	time_t ru = 0;

	memset(&o, 0, sizeof(o));
	memset(&who, 0, sizeof(who));
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		archive_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	sub = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: o.store = optarg; break;
		case OPT_UNTIL: until = optarg; break;
		case OPT_RETAIN: retain = optarg; break;
		case OPT_HOLD: hold = 1; break;
		case OPT_KEY: key_path = optarg; break;
		case OPT_PASS: pass = optarg; break;
		case OPT_NAME: who.actor.name = optarg; break;
		case OPT_ORG: who.actor.organisation = optarg; break;
		case OPT_LOCATION: who.location = optarg; break;
		case OPT_PURPOSE: who.purpose = optarg; break;
		case OPT_TRUST: trust_file = optarg; break;
		case 'o': output = optarg; break;
		case OPT_ALL: all = 1; break;
		case OPT_DRY: dry = 1; break;
		case OPT_JSON: json = 1; break;
		case KC_OPT_FORMAT: if (cli_parse_format(optarg, &json) != KC_EXIT_OK) return KC_EXIT_USAGE; break;
		case OPT_ENDPOINT: o.endpoint = optarg; break;
		case OPT_REGION: o.region = optarg; break;
		case OPT_ACCESS: o.access_key = optarg; break;
		case OPT_SECRET_FILE: secret_file = optarg; break;
		case OPT_PROFILE: o.profile = optarg; break;
		case OPT_CREDS: o.credentials_file = optarg; break;
		case OPT_CA: o.ca_file = optarg; break;
		case OPT_MODE: o.lock_mode = optarg; break;
		case OPT_THRESHOLD:
			if (parse_size(optarg, &o.multipart_threshold) != 0) {
				cli_error("--multipart-threshold '%s' is not a size", optarg);
				return KC_EXIT_USAGE;
			}
			break;
		case OPT_PART:
			if (parse_size(optarg, &o.part_size) != 0) {
				cli_error("--part-size '%s' is not a size", optarg);
				return KC_EXIT_USAGE;
			}
			break;
		case 'h': archive_usage(stdout); return KC_EXIT_OK;
		default: return cli_bad_option(argv);
		}
	}
	if (o.store == NULL) {
		cli_error("archive %s needs --store (a folder or s3://BUCKET/PREFIX)", sub);
		return KC_EXIT_USAGE;
	}
	needs_key = strcmp(sub, "put") == 0 || strcmp(sub, "get") == 0 ||
	    (strcmp(sub, "prune") == 0 && !dry);
	if (strcmp(sub, "put") == 0 || strcmp(sub, "get") == 0) {
		if (optind != argc - 1) {
			cli_error("archive %s needs exactly one %s", sub, sub[0] == 'p' ? "BUNDLE" : "ID");
			return KC_EXIT_USAGE;
		}
	} else if (strcmp(sub, "verify") == 0) {
		if (optind < argc - 1 || (all && optind != argc)) {
			cli_error("archive verify takes one ID or --all");
			return KC_EXIT_USAGE;
		}
	} else if (strcmp(sub, "list") == 0 || strcmp(sub, "prune") == 0) {
		if (optind != argc) {
			cli_error("archive %s takes no operand", sub);
			return KC_EXIT_USAGE;
		}
	} else {
		cli_error("unknown archive command '%s' (put, list, get, verify or prune)", sub);
		return KC_EXIT_USAGE;
	}
	if (needs_key && key_path == NULL) {
		cli_error("archive %s needs --key: it signs a custody entry", sub);
		return KC_EXIT_USAGE;
	}
	if (strcmp(sub, "get") == 0 && output == NULL) {
		cli_error("archive get needs -o FILE");
		return KC_EXIT_USAGE;
	}
	if (strcmp(sub, "put") == 0 &&
	    kc_archive_retention(until, retain, kc_now(), &ru) != 0)
		return cli_fail(KC_EXIT_USAGE, NULL);
	if (secret_file != NULL) {
		if (kc_read_file(secret_file, 4096, &secret) != 0) {
			ret = cli_fail(KC_EXIT_USAGE, NULL);
			goto out;
		}
		secret.data[strcspn(secret.data, "\r\n")] = '\0';
		o.secret_key = secret.data;
	}
	if (trust_file != NULL && kc_trust_load(trust_file, &trust) != 0) {
		ret = cli_fail(KC_EXIT_USAGE, NULL);
		goto out;
	}
	who.trust = trust;
	if (needs_key) {
		if ((r = kc_ledger_key_load(key_path, pass, &key)) != 0) {
			ret = cli_fail(cli_exit_for(r), NULL);
			goto out;
		}
		who.key = key;
		if (who.actor.name == NULL)
			who.actor.name = kc_trust_name(trust, kc_ledger_key_fingerprint(key));
		if (who.actor.organisation == NULL)
			who.actor.organisation = kc_trust_org(trust, kc_ledger_key_fingerprint(key));
		if (who.actor.name == NULL && (pw = getpwuid(getuid())) != NULL) {
			snprintf(namebuf, sizeof(namebuf), "%s", pw->pw_name);
			who.actor.name = namebuf;
		}
	}
	o.create = strcmp(sub, "put") == 0;
	if ((r = kc_archive_open(&o, &a)) != 0) {
		ret = cli_fail(cli_exit_for(r), NULL);
		goto out;
	}
	if (strcmp(sub, "put") == 0) {
		r = kc_archive_put(a, argv[optind], ru, hold, &who, &item);
		if (r != 0) {
			ret = cli_fail(r == KC_ERR_NOTFOUND ? KC_EXIT_USAGE : cli_exit_for(r), NULL);
			goto out;
		}
		if (json)
			print_json(item);
		else
			printf("archived %s %s until %s%s\n", js(item, "id"), js(item, "name"),
			    js(item, "retain_until"), cJSON_IsTrue(cJSON_GetObjectItem(item,
			    "legal_hold")) ? " (legal hold)" : "");
		ret = KC_EXIT_OK;
	} else if (strcmp(sub, "list") == 0) {
		ret = do_list(a, json);
	} else if (strcmp(sub, "get") == 0) {
		r = kc_archive_get(a, argv[optind], output, &who, &item);
		if (r != 0) {
			ret = cli_fail(r == KC_ERR_NOTFOUND ? KC_EXIT_USAGE : cli_exit_for(r), NULL);
			goto out;
		}
		if (json)
			print_json(item);
		else
			fprintf(stderr, "%s: %s written (SHA-256 %s checked), access recorded in %s%s\n",
			    cli_progname, output, js(item, "id"), output, KC_LEDGER_SUFFIX);
		ret = KC_EXIT_OK;
	} else if (strcmp(sub, "verify") == 0) {
		ret = do_verify(a, optind < argc ? argv[optind] : NULL, trust, json);
	} else {
		ret = do_prune(a, &who, dry, json);
	}
out:
	cJSON_Delete(item);
	kc_archive_close(a);
	kc_trust_free(trust);
	kc_ledger_key_free(key);
	kc_buf_free_secret(&secret);
	return ret;
}
