/* cmd_recertify.c - kcustody recertify BUNDLE --scope FILE: every agent of
 * a verified bundle judged against its approved scope (docs/RECERTIFY.md). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/recertify_decide.h"
#include "formats/propose_out.h"
#include "formats/recert_text.h"
#include "formats/yaml_out.h"
#include "rbac/propose.h"
#include "rbac/recert.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/timeutil.h"

static void
recertify_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s recertify BUNDLE --scope FILE [options]\n\n"
	    "Judge every agent of a bundle (the service accounts selected at collect\n"
	    "time) against its approved scope: within scope or not, every permission\n"
	    "beyond scope with the binding and role that grant it, agents missing from\n"
	    "the scope file and scope entries that match no agent.  The bundle is\n"
	    "verified first.  The scope file is described in docs/RECERTIFY.md\n"
	    "(apiVersion kcustody.dev/v1alpha1, kind AgentScopes).\n\n"
	    "  --scope FILE           the approved scopes (YAML)\n"
	    "  --format FMT           text (default), json (= --json), yaml (the JSON as YAML)\n"
	    "                         or oscal (OSCAL assessment results, needs -o)\n"
	    "  --pubkey F | --ca F    the key or CA the bundle must be signed with\n"
	    "  --tsa-ca F             CA for the bundle's time-stamp token\n"
	    "  --allow-unsigned       accept an unsigned bundle (stated in the output)\n"
	    "  --propose DIR          instead of judging, write a least-privilege proposal\n"
	    "                         from the bundle's audit segment into DIR (new or\n"
	    "                         empty): apply.yaml, delete.yaml, proposal.json\n"
	    "  --min-window DUR       audit window below which the proposal carries a\n"
	    "                         warning (default 30d; e.g. 90d, 12h)\n"
	    "  -o FILE                with --format oscal: the assessment results; the\n"
	    "                         assessment plan goes beside it (FILE less .json, -plan.json)\n"
	    "  --oscal-plan FILE      write the assessment plan here instead\n"
	    "  --force                replace existing OSCAL output files\n\n"
	    "The reviewer's decision (a signed 'recertified' custody entry, docs/CUSTODY.md):\n"
	    "  --decision D           approve, revoke or remediate\n"
	    "  --key KEY.pem          the reviewer's Ed25519 key (with --trust-keys it needs the\n"
	    "                         'reviewer' role; without, only the custodian may decide)\n"
	    "  --passphrase-file F    passphrase of an encrypted key (first line)\n"
	    "  --note TEXT            a note for the entry\n"
	    "  --trust-keys FILE      keys trusted to sign custody entries, with their roles\n"
	    "  --store STORE          the bundle is archived: record the decision in the store's\n"
	    "                         ledger of it (folder or s3://BUCKET/PREFIX, AWS_* settings)\n\n"
	    "Exit status: 0 every agent within scope, 1 a permission beyond scope or an\n"
	    "agent missing on either side, 2 bad scope file or usage, 3 the bundle\n"
	    "does not verify (also its ledger, for a decision), 4 fatal.  A decision that is\n"
	    "refused (untrusted key, no reviewer role) is 2 and nothing is written.\n"
	    "With --propose: 0 proposal written, 1 written with a warning (window below\n"
	    "the minimum, a request used beyond scope), 2 no proposal (no audit segment,\n"
	    "a filtered or gapped window) or usage.\n", cli_progname);
}

enum { O_SCOPE = 256, O_PUBKEY, O_CA, O_TSACA, O_UNSIGNED, O_JSON, O_PROPOSE, O_MINWIN,
	O_DECISION, O_KEY, O_PASS, O_NOTE, O_TRUST, O_STORE, O_PLAN, O_FORCE };

struct recert_args {
	struct kc_recert_opts o;
	const char *scope;
	int json;
	const char *propose;		/* --propose DIR */
	const char *min_window;		/* --min-window DUR */
	struct recert_decide d;		/* --decision and its options */
	int oscal, force;		/* --format oscal */
	const char *out, *plan;
};

/* The options of the decision and of OSCAL output (recertify_decide.h). */
static int
parse_decide_opt(int c, const char *arg, struct recert_args *a)
{
	switch (c) {
	case O_DECISION: a->d.decision = arg; break;
	case O_KEY: a->d.key = arg; break;
	case O_PASS: a->d.passphrase_file = arg; break;
	case O_NOTE: a->d.note = arg; break;
	case O_TRUST: a->d.trust_keys = arg; break;
	case O_STORE: a->d.store = arg; break;
	case O_PLAN: a->plan = arg; break;
	case O_FORCE: a->force = 1; break;
	case 'o': a->out = arg; break;
	default: return 0;
	}
	return 1;
}

static int
check_oscal_args(const struct recert_args *a)
{
	if (!a->oscal) {
		if (a->out != NULL || a->plan != NULL) {
			cli_error("-o and --oscal-plan go with --format oscal");
			return KC_EXIT_USAGE;
		}
		return KC_EXIT_OK;
	}
	if (a->out == NULL || strcmp(a->out, "-") == 0) {
		cli_error("--format oscal writes two files (the results and the plan): give -o FILE");
		return KC_EXIT_USAGE;
	}
	if (cli_check_output(a->out, a->force) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	return recert_oscal_check_plan(a->out, a->plan, a->force);
}

/* KC_EXIT_OK, or the exit status (-h: -1). */
static int
parse_args(int argc, char **argv, struct recert_args *a)
{
	static const struct option longopts[] = {
		{ "scope", required_argument, NULL, O_SCOPE },
		{ "format", required_argument, NULL, KC_OPT_FORMAT },
		{ "json", no_argument, NULL, O_JSON },
		{ "pubkey", required_argument, NULL, O_PUBKEY },
		{ "ca", required_argument, NULL, O_CA },
		{ "tsa-ca", required_argument, NULL, O_TSACA },
		{ "allow-unsigned", no_argument, NULL, O_UNSIGNED },
		{ "propose", required_argument, NULL, O_PROPOSE },
		{ "min-window", required_argument, NULL, O_MINWIN },
		{ "decision", required_argument, NULL, O_DECISION },
		{ "key", required_argument, NULL, O_KEY },
		{ "passphrase-file", required_argument, NULL, O_PASS },
		{ "note", required_argument, NULL, O_NOTE },
		{ "trust-keys", required_argument, NULL, O_TRUST },
		{ "store", required_argument, NULL, O_STORE },
		{ "oscal-plan", required_argument, NULL, O_PLAN },
		{ "force", no_argument, NULL, O_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		if (parse_decide_opt(c, optarg, a))
			continue;
		if (c == KC_OPT_FORMAT && strcmp(optarg, "oscal") == 0) {
			a->oscal = 1;
			continue;
		}
		switch (c) {
		case O_SCOPE: a->scope = optarg; break;
		case KC_OPT_FORMAT: if (cli_parse_format(optarg, &a->json) != KC_EXIT_OK) return KC_EXIT_USAGE; break;
		case O_JSON: a->json = 1; break;
		case O_PUBKEY: a->o.pubkey_path = optarg; break;
		case O_CA: a->o.ca_path = optarg; break;
		case O_TSACA: a->o.tsa_ca = optarg; break;
		case O_UNSIGNED: a->o.allow_unsigned = 1; break;
		case O_PROPOSE: a->propose = optarg; break;
		case O_MINWIN: a->min_window = optarg; break;
		case 'h': recertify_usage(stdout); return -1;
		default: return cli_bad_option(argv);
		}
	}
	if (argc - optind != 1)
		return cli_bad_args();
	a->o.bundle = argv[optind];
	if (a->scope == NULL) {
		cli_error("recertify needs the approved scopes: --scope FILE");
		return KC_EXIT_USAGE;
	}
	if (a->o.pubkey_path == NULL && a->o.ca_path == NULL && !a->o.allow_unsigned) {
		cli_error("give the key the bundle was signed with (--pubkey or --ca), or --allow-unsigned");
		return KC_EXIT_USAGE;
	}
	if (a->min_window != NULL && a->propose == NULL) {
		cli_error("--min-window applies to a proposal: give --propose DIR");
		return KC_EXIT_USAGE;
	}
	if (a->propose != NULL && (a->d.decision != NULL || a->oscal)) {
		cli_error("--propose writes a proposal instead of a judgement: it does not go with "
		    "--decision or --format oscal");
		return KC_EXIT_USAGE;
	}
	if (cli_check_trust(a->o.pubkey_path, a->o.ca_path, a->o.tsa_ca) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	if (recert_decide_check(&a->d) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	return check_oscal_args(a);
}

static int
print_doc(const cJSON *d, int json)
{
	struct kc_buf b = KC_BUF_INIT(1u << 30);
	char *txt = NULL;
	int r = 0;

	if (json == CLI_FMT_YAML) {
		r = kc_yaml_from_json(d, &b);
	} else if (json) {
		if ((txt = cJSON_Print(d)) == NULL || kc_buf_adds(&b, txt) != 0 || kc_buf_addc(&b, '\n') != 0)
			r = KC_ERR_NOMEM;
		free(txt);
	} else {
		r = kc_recert_render_text(d, &b);
	}
	if (r == 0)
		fwrite(kc_buf_str(&b), 1, b.len, stdout);
	kc_buf_free(&b);
	return r;
}

/* ---- --propose DIR: a least-privilege proposal (rbac/propose.h) ---- */

/* DIR must be new or empty: a file left from an earlier proposal must
 * never be applied with this one. */
static int
propose_dir(const char *dir)
{
	DIR *dp;
	struct dirent *de;
	int empty = 1;

	if ((dp = opendir(dir)) == NULL) {
		if (errno != ENOENT) {
			cli_error("cannot open '%s': %s", dir, strerror(errno));
			return KC_EXIT_USAGE;
		}
		if (kc_mkdir_p(dir, 0755) != 0)
			return cli_fail(KC_EXIT_USAGE, "cannot create the proposal folder");
		return KC_EXIT_OK;
	}
	while (empty && (de = readdir(dp)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(dp);
	if (!empty) {
		cli_error("'%s' is not empty: give a new or empty folder for the proposal", dir);
		return KC_EXIT_USAGE;
	}
	return KC_EXIT_OK;
}

static int
propose_write(const cJSON *d, const char *dir, const char *file, const char *which)
{
	struct kc_buf b = KC_BUF_INIT(1u << 30);
	char *path = kc_path_join(dir, file), *txt = NULL;
	int r;

	if (path == NULL)
		return KC_ERR_NOMEM;
	if (which != NULL) {
		r = kc_propose_render_yaml(d, which, dir, &b);
	} else {
		r = (txt = cJSON_Print(d)) == NULL || kc_buf_adds(&b, txt) != 0 || kc_buf_addc(&b, '\n') != 0 ?
		    KC_ERR_NOMEM : 0;
		free(txt);
	}
	if (r == 0)
		r = cli_write_output(path, kc_buf_str(&b), b.len, 0644);
	free(path);
	kc_buf_free(&b);
	return r;
}

static int
run_propose(const struct recert_args *a, const struct kc_scope *s)
{
	struct kc_propose_opts po;
	struct kc_buf b = KC_BUF_INIT(1u << 30);
	const cJSON *ag, *objs;
	cJSON *d = NULL;
	int r, ret = KC_EXIT_OK;

	memset(&po, 0, sizeof(po));
	po.ro = a->o;
	po.min_window = KC_PROPOSE_MIN_WINDOW_DEFAULT;
	if (a->min_window != NULL && (kc_parse_duration(a->min_window, &po.min_window) != 0 || po.min_window < 0)) {
		cli_error("--min-window wants a duration such as 30d, 90d or 12h, not '%s'", a->min_window);
		return KC_EXIT_USAGE;
	}
	if ((r = propose_dir(a->propose)) != KC_EXIT_OK)
		return r;
	if ((r = kc_propose_bundle(&po, s, &d)) != 0) {
		cli_error("%s", kc_err_msg());
		return r == KC_ERR_VERIFY ? KC_EXIT_INVALID : r == KC_ERR_NOMEM ? KC_EXIT_FATAL : KC_EXIT_USAGE;
	}
	objs = kc_json_get(d, "objects");
	if ((r = propose_write(d, a->propose, "proposal.json", NULL)) != 0 ||
	    (cJSON_GetArraySize(kc_json_get(objs, "apply")) > 0 &&
	    (r = propose_write(d, a->propose, "apply.yaml", "apply")) != 0) ||
	    (cJSON_GetArraySize(kc_json_get(objs, "delete")) > 0 &&
	    (r = propose_write(d, a->propose, "delete.yaml", "delete")) != 0)) {
		cJSON_Delete(d);
		return cli_fail(KC_EXIT_FATAL, "cannot write the proposal");
	}
	if (a->json)
		r = cli_print_doc(d, a->json);
	else if ((r = kc_propose_render_text(d, a->propose, &b)) == 0)
		fwrite(kc_buf_str(&b), 1, b.len, stdout);
	kc_buf_free(&b);
	if (cJSON_IsTrue(kc_json_path(d, "window.belowMinimum")))
		ret = KC_EXIT_PARTIAL;
	cJSON_ArrayForEach(ag, kc_json_get(d, "agents"))
		if (cJSON_GetArraySize(kc_json_get(ag, "usedBeyondScope")) > 0)
			ret = KC_EXIT_PARTIAL;
	cJSON_Delete(d);
	return r != 0 ? cli_fail(KC_EXIT_FATAL, "out of memory") : ret;
}

KC_COMMAND(recertify, "judge a bundle's agents against their approved scopes")
{
	struct recert_args a;
	struct kc_scope s;
	cJSON *d = NULL;
	int r, ret;

	memset(&a, 0, sizeof(a));
	if ((ret = parse_args(argc, argv, &a)) != KC_EXIT_OK)
		return ret == -1 ? KC_EXIT_OK : ret;
	if ((r = recert_load_scope(a.scope, &s)) != 0) {
		kc_scope_free(&s);
		cli_error("%s", kc_err_msg());
		return r == KC_ERR_NOMEM ? KC_EXIT_FATAL : KC_EXIT_USAGE;
	}
	if (a.propose != NULL) {
		ret = run_propose(&a, &s);
		kc_scope_free(&s);
		return ret;
	}
	if ((r = kc_recert_bundle(&a.o, &s, &d)) != 0) {
		cli_error("%s", kc_err_msg());
		kc_scope_free(&s);
		return r == KC_ERR_VERIFY ? KC_EXIT_INVALID : r == KC_ERR_CONFIG || r == KC_ERR_INVALID ||
		    r == KC_ERR_IO ? KC_EXIT_USAGE : KC_EXIT_FATAL;
	}
	kc_scope_free(&s);
	if ((a.d.decision != NULL && (ret = recert_decide_write(&a.d, a.o.bundle, d)) != KC_EXIT_OK) ||
	    (a.oscal && (ret = recert_oscal_write(a.o.bundle, d, a.out, a.plan)) != KC_EXIT_OK)) {
		cJSON_Delete(d);
		return ret;
	}
	if (!a.oscal && print_doc(d, a.json) != 0) {
		cJSON_Delete(d);
		return cli_fail(KC_EXIT_FATAL, "out of memory");
	}
	ret = cJSON_IsTrue(kc_json_get(d, "withinScope")) ? KC_EXIT_OK : KC_EXIT_PARTIAL;
	cJSON_Delete(d);
	return ret;
}
