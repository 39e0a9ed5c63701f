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
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/table.h"
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
	    "  --format FMT           text, json or yaml (the JSON document as YAML)\n"
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

/* A string member for the terminal, control bytes escaped (index and item
 * records are files anyone with write access may have edited).  Valid
 * until the eighth call after it. */
static const char *
js(const cJSON *o, const char *name)
{
	static char ring[8][512];
	static unsigned k;
	const char *v = kc_json_str(o, name);

	if (v == NULL)
		return "";
	k = (k + 1) % 8;
	return kc_safe_str(v, ring[k], sizeof(ring[k]));
}

static const char *
safe_item(const cJSON *it)
{
	static char buf[1024];

	return kc_safe_str(cJSON_IsString(it) ? it->valuestring : "", buf, sizeof(buf));
}

struct archive_args {
	const char *sub;
	struct kc_archive_opts o;
	struct kc_archive_actor who;
	const char *until, *retain, *key_path, *pass, *trust_file, *output, *secret_file;
	const char *operand;		/* BUNDLE or ID, or NULL */
	int hold, all, dry, json;
	time_t retain_until;
};

/* put, get and prune (unless a dry run) sign a custody entry. */
static int
needs_key(const struct archive_args *a)
{
	return strcmp(a->sub, "put") == 0 || strcmp(a->sub, "get") == 0 ||
	    (strcmp(a->sub, "prune") == 0 && !a->dry);
}

static int
do_list(struct kc_archive *a, int json)
{
	cJSON *items = NULL, *it;
	int r;

	if ((r = kc_archive_list(a, &items)) != 0)
		return cli_fail(cli_exit_for(r), NULL);
	if (json) {
		cli_print_doc(items, json);
	} else {
		static const struct kc_table_col cols[] = {
			{ "ID", KC_COL_KEEP }, { "SIZE", KC_COL_KEEP | KC_COL_RIGHT },
			{ "STORED", KC_COL_KEEP }, { "RETAIN UNTIL", KC_COL_KEEP }, { "HOLD", KC_COL_KEEP },
			{ "STATUS", 0 },
		};
		struct kc_table *t = kc_table_new(cols, sizeof(cols) / sizeof(cols[0]));
		struct kc_buf out = KC_BUF_INIT(256u << 20);

		r = t == NULL ? KC_ERR_NOMEM : 0;
		cJSON_ArrayForEach(it, items) {
			char id[17], size[32];
			const char *cells[6];

			if (r != 0)
				break;
			/* the first 16 of the id, as archive get takes it */
			kc_fmt_trunc(id, sizeof(id), "%s", kc_json_str0(it, "id"));
			kc_fmt_trunc(size, sizeof(size), "%.0f",
			    kc_json_get(it, "size") ? kc_json_get(it, "size")->valuedouble : 0);
			cells[0] = id;
			cells[1] = size;
			cells[2] = kc_json_str0(it, "stored");
			cells[3] = kc_json_str0(it, "retain_until");
			cells[4] = cJSON_IsTrue(kc_json_get(it, "legal_hold")) ? "yes" : "no";
			cells[5] = kc_json_str0(it, "status");
			/* the bundle's name on a line of its own: names are long */
			if ((r = kc_table_add(t, cells)) == 0)
				r = kc_table_note(t, kc_json_str0(it, "name"));
		}
		if (r == 0)
			r = kc_table_render(t, KC_TABLE_WIDTH, &out);
		kc_table_free(t);
		if (r != 0) {
			kc_buf_free(&out);
			cJSON_Delete(items);
			return cli_fail(cli_exit_for(r), NULL);
		}
		fputs(kc_buf_str(&out), stdout);
		kc_buf_free(&out);
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
		cli_print_doc(rep, json);
	} else {
		cJSON_ArrayForEach(it, kc_json_get(rep, "items")) {
			int ok = cJSON_IsTrue(kc_json_get(it, "ok"));

			printf("%-8s %s %s (%s)\n", ok ? "ok" : "DAMAGED", js(it, "id"), js(it, "name"),
			    js(it, "status"));
			cJSON_ArrayForEach(p, kc_json_get(it, "problems"))
				printf("         %s\n", safe_item(p));
			cJSON_ArrayForEach(p, kc_json_get(it, "warnings"))
				printf("         warning: %s\n", safe_item(p));
		}
		cJSON_ArrayForEach(p, kc_json_get(rep, "unindexed"))
			printf("warning: %s is in the store but not in its index (an interrupted put?)\n",
			    safe_item(p));
		printf("%d checked, %d damaged or missing\n",
		    kc_json_get(rep, "checked")->valueint,
		    kc_json_get(rep, "damaged")->valueint);
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
			cli_print_doc(rep, json);
		} else {
			cJSON_ArrayForEach(it, kc_json_get(rep, "items")) {
				printf("%-16.16s %-44s %s%s%s\n", js(it, "id"), js(it, "name"),
				    js(it, "result"), js(it, "detail")[0] ? ": " : "", js(it, "detail"));
			}
		}
		cJSON_Delete(rep);
	}
	return r ? cli_fail(cli_exit_for(r), NULL) : KC_EXIT_OK;
}


/* The options of parse_one that take a size; KC_EXIT_OK or KC_EXIT_USAGE. */
static int
parse_size_opt(int c, const char *arg, struct kc_archive_opts *o)
{
	if (parse_size(arg, c == OPT_THRESHOLD ? &o->multipart_threshold : &o->part_size) != 0) {
		cli_error("%s '%s' is not a size", c == OPT_THRESHOLD ? "--multipart-threshold" :
		    "--part-size", arg);
		return KC_EXIT_USAGE;
	}
	return KC_EXIT_OK;
}

/* One option into a: KC_EXIT_OK, KC_EXIT_USAGE (printed), or -1 when c
 * is not an option of archive. */
static int
parse_one(int c, const char *arg, struct archive_args *a)
{
	switch (c) {
	case OPT_STORE: a->o.store = arg; break;
	case OPT_UNTIL: a->until = arg; break;
	case OPT_RETAIN: a->retain = arg; break;
	case OPT_HOLD: a->hold = 1; break;
	case OPT_KEY: a->key_path = arg; break;
	case OPT_PASS: a->pass = arg; break;
	case OPT_NAME: a->who.actor.name = arg; break;
	case OPT_ORG: a->who.actor.organisation = arg; break;
	case OPT_LOCATION: a->who.location = arg; break;
	case OPT_PURPOSE: a->who.purpose = arg; break;
	case OPT_TRUST: a->trust_file = arg; break;
	case 'o': a->output = arg; break;
	case OPT_ALL: a->all = 1; break;
	case OPT_DRY: a->dry = 1; break;
	case OPT_JSON: a->json = 1; break;
	case KC_OPT_FORMAT: return cli_parse_format(arg, &a->json) != KC_EXIT_OK ? KC_EXIT_USAGE : KC_EXIT_OK;
	case OPT_ENDPOINT: a->o.endpoint = arg; break;
	case OPT_REGION: a->o.region = arg; break;
	case OPT_ACCESS: a->o.access_key = arg; break;
	case OPT_SECRET_FILE: a->secret_file = arg; break;
	case OPT_PROFILE: a->o.profile = arg; break;
	case OPT_CREDS: a->o.credentials_file = arg; break;
	case OPT_CA: a->o.ca_file = arg; break;
	case OPT_MODE: a->o.lock_mode = arg; break;
	case OPT_THRESHOLD: case OPT_PART: return parse_size_opt(c, arg, &a->o);
	default: return -1;
	}
	return KC_EXIT_OK;
}

/* The options after the subcommand (argv[0]): KC_EXIT_OK, or the exit
 * status (-h: -1, the help printed). */
static int
parse_args(int argc, char **argv, struct archive_args *a)
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
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		if (c == 'h') {
			archive_usage(stdout);
			return -1;
		}
		if ((r = parse_one(c, optarg, a)) == -1)
			return cli_bad_option(argv);
		if (r != KC_EXIT_OK)
			return r;
	}
	a->operand = optind < argc ? argv[optind] : NULL;
	return KC_EXIT_OK;
}

/* Each subcommand's operands and required options. */
static int
check_args(struct archive_args *a, int noperands)
{
	const char *sub = a->sub;
	int is_put = strcmp(sub, "put") == 0, is_get = strcmp(sub, "get") == 0;

	if (a->o.store == NULL) {
		cli_error("archive %s needs --store (a folder or s3://BUCKET/PREFIX)", sub);
		return KC_EXIT_USAGE;
	}
	if (is_put || is_get) {
		if (noperands != 1) {
			cli_error("archive %s needs exactly one %s", sub, sub[0] == 'p' ? "BUNDLE" : "ID");
			return KC_EXIT_USAGE;
		}
	} else if (strcmp(sub, "verify") == 0) {
		if (noperands > 1 || (a->all && noperands != 0)) {
			cli_error("archive verify takes one ID or --all");
			return KC_EXIT_USAGE;
		}
	} else if (strcmp(sub, "list") == 0 || strcmp(sub, "prune") == 0) {
		if (noperands != 0) {
			cli_error("archive %s takes no operand", sub);
			return KC_EXIT_USAGE;
		}
	} else {
		cli_error("unknown archive command '%s' (put, list, get, verify or prune)", sub);
		return KC_EXIT_USAGE;
	}
	if (needs_key(a) && a->key_path == NULL) {
		cli_error("archive %s needs --key: it signs a custody entry", sub);
		return KC_EXIT_USAGE;
	}
	if (is_get && a->output == NULL) {
		cli_error("archive get needs -o FILE");
		return KC_EXIT_USAGE;
	}
	if (is_put && kc_archive_retention(a->until, a->retain, kc_now(), &a->retain_until) != 0)
		return cli_fail(KC_EXIT_USAGE, NULL);
	return KC_EXIT_OK;
}

/* What the subcommand holds while it runs. */
struct archive_run {
	struct kc_archive *a;
	struct kc_ledger_key *key;
	struct kc_trust *trust;
	struct kc_buf secret;
	char namebuf[256];
};

/* The S3 secret, the trust file, the signing key and the actor, then the
 * store: KC_EXIT_OK or the exit status (printed). */
static int
open_store(struct archive_args *a, struct archive_run *run)
{
	struct kc_archive_actor *who = &a->who;
	struct passwd *pw;
	int r;

	if (a->secret_file != NULL) {
		if (kc_read_file(a->secret_file, 4096, &run->secret) != 0)
			return cli_fail(KC_EXIT_USAGE, NULL);
		run->secret.data[strcspn(run->secret.data, "\r\n")] = '\0';
		a->o.secret_key = run->secret.data;
	}
	if (a->trust_file != NULL && kc_trust_load(a->trust_file, &run->trust) != 0)
		return cli_fail(KC_EXIT_USAGE, NULL);
	who->trust = run->trust;
	if (needs_key(a)) {
		if ((r = kc_ledger_key_load(a->key_path, a->pass, &run->key)) != 0)
			return cli_fail(cli_exit_for(r), NULL);
		who->key = run->key;
		if (who->actor.name == NULL)
			who->actor.name = kc_trust_name(run->trust, kc_ledger_key_fingerprint(run->key));
		if (who->actor.organisation == NULL)
			who->actor.organisation = kc_trust_org(run->trust, kc_ledger_key_fingerprint(run->key));
		if (who->actor.name == NULL && (pw = getpwuid(getuid())) != NULL) {
			/* the actor's name goes into the ledger: whole or an error */
			if (kc_fmt(run->namebuf, sizeof(run->namebuf), "%s", pw->pw_name) != 0)
				return cli_fail(KC_EXIT_USAGE, NULL);
			who->actor.name = run->namebuf;
		}
	}
	a->o.create = strcmp(a->sub, "put") == 0;
	if ((r = kc_archive_open(&a->o, &run->a)) != 0)
		return cli_fail(cli_exit_for(r), NULL);
	return KC_EXIT_OK;
}

static int
do_put(struct kc_archive *ar, const struct archive_args *a)
{
	cJSON *item = NULL;
	int r;

	if ((r = kc_archive_put(ar, a->operand, a->retain_until, a->hold, &a->who, &item)) != 0) {
		cJSON_Delete(item);
		return cli_fail(r == KC_ERR_NOTFOUND ? KC_EXIT_USAGE : cli_exit_for(r), NULL);
	}
	if (a->json)
		cli_print_doc(item, a->json);
	else
		printf("archived %s %s until %s%s\n", js(item, "id"), js(item, "name"),
		    js(item, "retain_until"), cJSON_IsTrue(kc_json_get(item,
		    "legal_hold")) ? " (legal hold)" : "");
	cJSON_Delete(item);
	return KC_EXIT_OK;
}

static int
do_get(struct kc_archive *ar, const struct archive_args *a)
{
	cJSON *item = NULL;
	int r;

	if ((r = kc_archive_get(ar, a->operand, a->output, &a->who, &item)) != 0) {
		cJSON_Delete(item);
		return cli_fail(r == KC_ERR_NOTFOUND ? KC_EXIT_USAGE : cli_exit_for(r), NULL);
	}
	if (a->json)
		cli_print_doc(item, a->json);
	else
		fprintf(stderr, "%s: %s written (SHA-256 %s checked), access recorded in %s%s\n",
		    cli_progname, a->output, js(item, "id"), a->output, KC_LEDGER_SUFFIX);
	cJSON_Delete(item);
	return KC_EXIT_OK;
}

KC_COMMAND(archive, "store, list, retrieve, re-verify and prune bundles (AU-11)")
{
	struct archive_args a;
	struct archive_run run;
	int ret;

	memset(&a, 0, sizeof(a));
	memset(&run, 0, sizeof(run));
	kc_buf_init(&run.secret, 4096);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		archive_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	a.sub = argv[1];
	if (strcmp(a.sub, "put") != 0 && strcmp(a.sub, "get") != 0 && strcmp(a.sub, "list") != 0 &&
	    strcmp(a.sub, "verify") != 0 && strcmp(a.sub, "prune") != 0) {
		char safe[128];

		fprintf(stderr, "%s archive: unknown subcommand '%s' (put, list, get, verify or prune); "
		    "see '%s archive --help'\n", cli_progname, kc_safe_str(a.sub, safe, sizeof(safe)), cli_progname);
		return KC_EXIT_USAGE;
	}
	if ((ret = parse_args(argc - 1, argv + 1, &a)) != KC_EXIT_OK)
		return ret == -1 ? KC_EXIT_OK : ret;
	if ((ret = check_args(&a, argc - 1 - optind)) != KC_EXIT_OK)
		return ret;
	if ((ret = open_store(&a, &run)) != KC_EXIT_OK)
		goto out;
	if (strcmp(a.sub, "put") == 0)
		ret = do_put(run.a, &a);
	else if (strcmp(a.sub, "list") == 0)
		ret = do_list(run.a, a.json);
	else if (strcmp(a.sub, "get") == 0)
		ret = do_get(run.a, &a);
	else if (strcmp(a.sub, "verify") == 0)
		ret = do_verify(run.a, a.operand, run.trust, a.json);
	else
		ret = do_prune(run.a, &a.who, a.dry, a.json);
out:
	kc_archive_close(run.a);
	kc_trust_free(run.trust);
	kc_ledger_key_free(run.key);
	kc_buf_free_secret(&run.secret);
	return ret;
}
