/* cmd_report.c - kcustody report: one self-contained HTML page per bundle. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>	/* malloc_trim */
#endif

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "manifest/bundle.h"
#include "formats/report_html.h"
#include "cli/recertify_decide.h"
#include "manifest/ledger.h"
#include "rbac/diff.h"
#include "rbac/recert.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/jarena.h"
#include "util/log.h"
#include "util/sha256.h"
#include "util/timeutil.h"

static void
report_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s report BUNDLE [--diff PRE] [--pubkey PUB.pem | --ca CA.pem] [--tsa-ca CA.pem]\n"
	    "       [--allow-unsigned] [--no-verify] [--remediated-at T] [--scope FILE]\n"
	    "       [--trust-keys FILE] [--ledger FILE | --no-ledger] -o REPORT.html\n\n"
	    "Write one self-contained HTML page (inline CSS and SVG, no script, no external\n"
	    "resource) about a sealed bundle: verification result, case and custody, triage,\n"
	    "findings by severity, agent inventory, who-can tables, the audit segment,\n"
	    "collection items, and a picture of each agent's access path. With --diff, also\n"
	    "what the remediation changed since the PRE bundle (BUNDLE is the POST bundle).\n"
	    "With --scope, also the recertification of its agents against their approved scopes.\n\n"
	    "  -o, --output FILE      where to write the page ('-': standard output); an\n"
	    "                         existing file is not replaced without --force\n"
	    "  --force                replace an existing output file\n"
	    "  --diff PRE             add the remediation section: PRE -> BUNDLE\n"
	    "  --pubkey PUB.pem       the signer's public key (raw Ed25519, or the CMS signer's key)\n"
	    "  --ca CA.pem            trust anchors for a CMS signature\n"
	    "  --tsa-ca CA.pem        trust anchors for the time-stamp token (and, without\n"
	    "                         --audit-chain-tsa-ca, for the audit-sink chain's)\n"
	    CLI_HELP_AUDIT_CHAIN
	    "  --allow-unsigned       accept an unsigned bundle, or one whose signature is not\n"
	    "                         checked because no key was given (integrity only)\n"
	    "  --no-verify            do not verify (the page says \"not verified\")\n"
	    "  --remediated-at T      remediation time for --diff (RFC 3339; default: end of PRE)\n"
	    "  --scope FILE           add the recertification section: every agent judged against\n"
	    "                         the approved scopes of FILE as 'recertify --format json'\n"
	    "                         judges it (docs/RECERTIFY.md), with the reviewers' decisions\n"
	    "                         of the custody ledger; a bad scope file is exit 2\n"
	    "  --trust-keys FILE      check the custody ledger's signers against this list\n"
	    "  --ledger FILE          the custody ledger (default: BUNDLE.custody.jsonl)\n"
	    "  --no-ledger            do not check the custody ledger\n\n"
	    "The bundles are verified first, as 'verify' does. An invalid bundle still gets\n"
	    "its page, which says INVALID at the top, and the exit status is 3. A copied\n"
	    "audit-sink chain that does not verify makes the bundle INVALID too (a banner,\n"
	    "the chain in red in the audit section; exit 3); with --diff the remediation is\n"
	    "then not computed.\n"
	    "Exit status: 0 written (bundles valid, or --no-verify), 3 written but a bundle or\n"
	    "its custody ledger failed verification, 2 usage error or unreadable bundle,\n"
	    "4 fatal (nothing written).\n",
	    cli_progname);
}

enum { OPT_PUB = 256, OPT_CA, OPT_TSACA, OPT_UNSIGNED, OPT_NOVERIFY, OPT_DIFF, OPT_REMAT, OPT_TRUST,
	OPT_LEDGER, OPT_NOLEDGER, OPT_FORCE, OPT_SCOPE, OPT_CHAINPUB, OPT_CHAINTSA };

static const struct option report_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "diff", required_argument, NULL, OPT_DIFF },
	{ "pubkey", required_argument, NULL, OPT_PUB },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "tsa-ca", required_argument, NULL, OPT_TSACA },
	{ "audit-chain-pubkey", required_argument, NULL, OPT_CHAINPUB },
	{ "audit-chain-tsa-ca", required_argument, NULL, OPT_CHAINTSA },
	{ "allow-unsigned", no_argument, NULL, OPT_UNSIGNED },
	{ "no-verify", no_argument, NULL, OPT_NOVERIFY },
	{ "remediated-at", required_argument, NULL, OPT_REMAT },
	{ "trust-keys", required_argument, NULL, OPT_TRUST },
	{ "ledger", required_argument, NULL, OPT_LEDGER },
	{ "no-ledger", no_argument, NULL, OPT_NOLEDGER },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const char *
failed_check(const struct kc_verify_result *vr)
{
	for (int i = 0; i < KC_CHECK_COUNT; i++)
		if (vr->checks[i].state == KC_CHECK_FAILED)
			return vr->checks[i].name;
	return "structure";
}

/* Verify one bundle; 0 checked (valid or not: see vr->valid), else the
 * exit status for a file that cannot be read at all. */
static int
verify_one(const struct kc_verify_job *j)
{
	const char *path = j->path;
	const struct kc_verify_result *vr = j->res;
	char safe[512];
	int r;

	r = kc_verify_job_err(j);
	if (r != 0 && r != KC_ERR_VERIFY)
		return cli_fail(KC_EXIT_USAGE, "report");
	if (!vr->valid && vr->no_key && strcmp(failed_check(vr), "signature") == 0)
		cli_error("'%s' is UNVERIFIED: no key given (pass --pubkey or --ca); the report says so",
		    kc_safe_str(path, safe, sizeof(safe)));
	else if (!vr->valid)
		cli_error("'%s' is INVALID (%s check failed)", kc_safe_str(path, safe, sizeof(safe)),
		    failed_check(vr));
	return 0;
}

struct report_args {
	struct kc_verify_opts vo;
	const char *out, *pre, *trust, *remat, *ledger_path, *bundle, *scope;
	const char *chain_pubkey, *chain_tsa_ca;	/* --audit-chain-pubkey, --audit-chain-tsa-ca */
	int no_verify, no_ledger, force;
};

/* Options and operand: KC_EXIT_OK, or the exit status (-h: -1). */
static int
parse_args(int argc, char **argv, struct report_args *a)
{
	int c;

	while ((c = getopt_long(argc, argv, "ho:", report_opts, NULL)) != -1) {
		switch (c) {
		case 'o': a->out = optarg; break;
		case OPT_FORCE: a->force = 1; break;
		case OPT_DIFF: a->pre = optarg; break;
		case OPT_PUB: a->vo.pubkey_path = optarg; break;
		case OPT_CA: a->vo.ca_path = optarg; break;
		case OPT_TSACA: a->vo.tsa_ca = optarg; break;
		case OPT_CHAINPUB: a->chain_pubkey = optarg; break;
		case OPT_CHAINTSA: a->chain_tsa_ca = optarg; break;
		case OPT_UNSIGNED: a->vo.allow_unsigned = 1; break;
		case OPT_NOVERIFY: a->no_verify = 1; break;
		case OPT_REMAT: a->remat = optarg; break;
		case OPT_TRUST: a->trust = optarg; break;
		case OPT_LEDGER: a->ledger_path = optarg; break;
		case OPT_NOLEDGER: a->no_ledger = 1; break;
		case OPT_SCOPE: a->scope = optarg; break;
		case 'h': report_usage(stdout); return -1;
		default: return cli_bad_option(argv);
		}
	}
	if (optind + 1 != argc || a->out == NULL) {
		if (a->out == NULL && optind + 1 == argc)
			cli_error("report needs -o REPORT.html (or -o - for standard output)");
		return cli_bad_args();
	}
	a->bundle = argv[optind];
	return KC_EXIT_OK;
}

static int
check_args(const struct report_args *a)
{
	const char *files[2] = { a->trust, a->ledger_path };
	time_t t;
	long ns;

	if (a->vo.pubkey_path != NULL && a->vo.ca_path != NULL) {
		cli_error("give --pubkey or --ca, not both");
		return KC_EXIT_USAGE;
	}
	if (a->remat != NULL && a->pre == NULL) {
		cli_error("--remediated-at needs --diff PRE");
		return KC_EXIT_USAGE;
	}
	if (a->remat != NULL && kc_parse_rfc3339(a->remat, &t, &ns) != 0) {
		cli_error("--remediated-at: not an RFC 3339 time: '%s'", a->remat);
		return KC_EXIT_USAGE;
	}
	if (a->no_ledger && (a->ledger_path != NULL || a->trust != NULL)) {
		cli_error("--no-ledger excludes --ledger and --trust-keys");
		return KC_EXIT_USAGE;
	}
	if (cli_check_trust(a->vo.pubkey_path, a->vo.ca_path, a->vo.tsa_ca) != KC_EXIT_OK ||
	    cli_check_output(a->out, a->force) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	if (cli_check_chain_trust(a->chain_pubkey, a->chain_tsa_ca) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	for (int i = 0; i < 2; i++) {
		if (files[i] != NULL && access(files[i], R_OK) != 0) {
			cli_error("cannot read '%s'", files[i]);
			return KC_EXIT_USAGE;
		}
	}
	return KC_EXIT_OK;
}

/* The bundle and PRE verified (unless --no-verify); *rc becomes
 * KC_EXIT_INVALID when one is not valid.  0, or the exit status for a
 * file that cannot be read at all. */
static int
verify_bundles(const struct report_args *a, struct kc_report_in *in, struct kc_verify_result *vr,
    struct kc_verify_result *pre_vr, int *rc)
{
	struct kc_verify_job j[2] = { { .path = in->bundle_path, .o = &a->vo, .res = vr },
				      { .path = a->pre, .o = &a->vo, .res = pre_vr } };
	char safe[512];
	int r;

	if (a->no_verify) {
		in->no_verify_reason = "--no-verify";
		return 0;
	}
	/* the bundle and PRE at once, a core each; judged in that order */
	kc_bundle_verify_jobs(j, a->pre != NULL ? 2 : 1);
	if ((r = verify_one(&j[0])) != 0)
		return r;
	if (vr->sha256[0] != '\0' && !kc_digest_eq(vr->sha256, in->bundle_sha256)) {
		/* one file throughout: hashed, verified, then read (pinned) */
		cli_error("'%s' changed while it was being read (SHA-256 %.16s... then %.16s...): no report",
		    kc_safe_str(in->bundle_path, safe, sizeof(safe)), in->bundle_sha256, vr->sha256);
		return KC_EXIT_INVALID;
	}
	in->vr = vr;
	if (!vr->valid)
		*rc = KC_EXIT_INVALID;
	if (a->pre != NULL) {
		if ((r = verify_one(&j[1])) != 0)
			return r;
		in->pre_vr = pre_vr;
		if (!pre_vr->valid)
			*rc = KC_EXIT_INVALID;
	}
	return 0;
}

/* The comparison's options, as the command line gives them. */
static void
diff_opts(const struct report_args *a, const struct kc_report_in *in, struct kc_jarena *arena,
    struct kc_diff_opts *dopt)
{
	memset(dopt, 0, sizeof(*dopt));
	dopt->pre = a->pre;
	dopt->post = in->bundle_path;
	dopt->pubkey_path = a->vo.pubkey_path;
	dopt->ca_path = a->vo.ca_path;
	dopt->tsa_ca = a->vo.tsa_ca;
	dopt->audit_chain_pubkey = a->chain_pubkey;
	dopt->audit_chain_tsa_ca = a->chain_tsa_ca;
	dopt->no_verify = a->no_verify;
	dopt->allow_unsigned = a->vo.allow_unsigned;
	dopt->remediated_at = a->remat;
	dopt->arena = arena;
}

/* --diff, both bundles to be verified: diff verifies them itself, so each
 * file is read once, verified and compared in the same pass
 * (kc_diff_opts.pre_vr_out; a pass over a 150k-object bundle is seconds).
 * 1 when that gave the diff and both bundles valid (in->vr, in->pre_vr,
 * in->diff set; *arena, the diff's, replaced), 0 when anything else came
 * of it: then nothing of it is kept, and the steps are taken one by one
 * as before (verify_bundles, compute_diff), which say what is wrong. */
static int
diff_verified(const struct report_args *a, struct kc_report_in *in, struct kc_verify_result *vr,
    struct kc_verify_result *pre_vr, cJSON **diff, struct kc_jarena **arena)
{
	struct kc_diff_opts dopt;
	struct kc_jarena *own;
	int r;

	if (a->pre == NULL || a->no_verify || (own = kc_jarena_new()) == NULL)
		return 0;
	diff_opts(a, in, own, &dopt);
	memset(vr, 0, sizeof(*vr));
	memset(pre_vr, 0, sizeof(*pre_vr));
	dopt.pre_vr_out = pre_vr;
	dopt.post_vr_out = vr;
	dopt.caller_reverifies = 1;	/* verify_bundles, when this fails */
	r = kc_diff_bundles(&dopt, diff);
#ifdef __GLIBC__
	malloc_trim(0);	/* as compute_diff */
#endif
	if (r != 0 || !vr->valid || !pre_vr->valid || !kc_digest_eq(vr->sha256, in->bundle_sha256)) {
		cJSON_Delete(*diff);
		*diff = NULL;
		kc_jarena_free(own);
		kc_err_clear();
		return 0;
	}
	kc_jarena_free(*arena);
	*arena = own;
	in->vr = vr;
	in->pre_vr = pre_vr;
	in->diff = *diff;
	return 1;
}

/* --diff: the remediation PRE -> bundle, when both verified. */
static int
compute_diff(const struct report_args *a, struct kc_report_in *in, cJSON **diff, struct kc_jarena *arena,
    int *rc)
{
	struct kc_diff_opts dopt = { 0 };
	int r;

	if (a->pre == NULL)
		return 0;
	if (*rc != KC_EXIT_OK) {
		in->diff_error = "the remediation is not computed from a bundle that failed verification";
		return 0;
	}
	diff_opts(a, in, arena, &dopt);
	if (!a->no_verify) {	/* diff reads the files verified above */
		dopt.pre_sha256 = in->pre_vr->sha256;
		dopt.post_sha256 = in->vr->sha256;
		dopt.pre_verified = in->pre_vr;	/* not verified twice */
		dopt.post_verified = in->vr;
	}
	r = kc_diff_bundles(&dopt, diff);
#ifdef __GLIBC__
	/* the two snapshots' heap goes back to the system before the page's
	 * own bundle is read (glibc keeps freed small chunks: 30 MiB of the
	 * page's peak at 150k objects) */
	malloc_trim(0);
#endif
	if (r == KC_ERR_INVALID || r == KC_ERR_CONFIG)
		return cli_fail(KC_EXIT_USAGE, "report --diff");
	if (r == KC_ERR_VERIFY) {
		/* changed since we verified it */
		cli_error("report --diff: %s", kc_err_msg());
		in->diff_error = "a bundle failed verification while the remediation was computed";
		*rc = KC_EXIT_INVALID;
	} else if (r != 0) {
		return cli_fail(KC_EXIT_FATAL, "report --diff");
	}
	in->diff = *diff;
	return 0;
}

/* --scope: the recertification of the bundle (rbac/recert.h), the same
 * document as `recertify --format json`, from the bundle verified above
 * (not verified again).  0, or the exit status (printed). */
static int
compute_recert(const struct report_args *a, const struct kc_scope *s, const struct kc_verify_result *vr,
    struct kc_report_in *in, cJSON **recert, char *err, size_t errlen, int *rc)
{
	struct kc_recert_opts o;
	int r;

	if (a->scope == NULL)
		return 0;
	if (in->vr != NULL && !in->vr->valid) {
		in->recert_error = "the agents are not judged from a bundle that failed verification";
		return 0;
	}
	memset(&o, 0, sizeof(o));
	o.bundle = in->bundle_path;
	o.verified_as = a->no_verify ? "not verified (--no-verify)" : vr->signer[0] ? "valid" : "valid (unsigned)";
	/* the file the report names (under --no-verify its first hash) */
	o.verified_sha256 = a->no_verify ? in->bundle_sha256 : vr->sha256;
	r = kc_recert_bundle(&o, s, recert);
	if (r == KC_ERR_CONFIG)		/* an agent two scope entries select */
		return cli_fail(KC_EXIT_USAGE, "report --scope");
	if (r == KC_ERR_NOMEM)
		return cli_fail(KC_EXIT_FATAL, "report --scope");
	if (r != 0) {
		kc_fmt_trunc(err, errlen, "%s", kc_err_msg());	/* an error detail */
		cli_error("report --scope: %s", err);
		in->recert_error = err;
		if (r == KC_ERR_VERIFY)	/* the bundle changed since it was verified */
			*rc = KC_EXIT_INVALID;
		return 0;
	}
	in->recert = *recert;
	return 0;
}

/* The custody ledger, as verify checks it: a broken chain, an edited
 * entry or an unreadable ledger makes the evidence invalid. */
static void
check_ledger(const struct report_args *a, struct kc_report_in *in, cJSON **ledger,
    char *err, size_t errlen, int *rc)
{
	char safe[512];
	int r;

	in->ledger_path = a->ledger_path;
	in->ledger_skipped = a->no_ledger || a->no_verify;
	if (in->ledger_skipped)
		return;
	r = kc_ledger_verify(in->bundle_path, a->ledger_path, a->trust, ledger);
	in->ledger = *ledger;
	in->ledger_status = r;
	if (r != 0 && r != KC_ERR_VERIFY && r != KC_ERR_NOTFOUND) {
		kc_fmt_trunc(err, errlen, "%s", kc_err_msg());	/* an error detail */
		in->ledger_error = err;
	}
	if (r != 0 && !(r == KC_ERR_NOTFOUND && a->ledger_path == NULL)) {
		cli_error("the custody ledger of '%s' does not verify",
		    kc_safe_str(in->bundle_path, safe, sizeof(safe)));
		*rc = KC_EXIT_INVALID;
	}
}

/* The page to -o (a file, or '-'); KC_EXIT_OK or KC_EXIT_FATAL. */
static int
write_page(const char *out, const struct kc_buf *page)
{
	if (strcmp(out, "-") == 0) {
		if (fwrite(page->data, 1, page->len, stdout) != page->len) {
			cli_error("write error on standard output");
			return KC_EXIT_FATAL;
		}
		return KC_EXIT_OK;
	}
	if (cli_write_output(out, page->data, page->len, 0600) != 0)
		return cli_fail(KC_EXIT_FATAL, "report");
	printf("%s\n", out);
	return KC_EXIT_OK;
}

KC_COMMAND(report, "write a self-contained HTML report of a bundle (and its remediation)")
{
	struct report_args a;
	struct kc_verify_result vr, pre_vr;
	struct kc_report_in in = { 0 };
	struct kc_buf page = KC_BUF_INIT(KC_REPORT_MAX);
	char bundle_hex[KC_SHA256_HEX], ledger_err[512], recert_err[512];
	cJSON *diff = NULL, *ledger = NULL, *recert = NULL;
	struct kc_jarena *diff_arena = NULL;	/* where the diff's bulk is packed */
	struct kc_scope scope;
	int r, rc = KC_EXIT_OK, chain_broken = 0;

	memset(&a, 0, sizeof(a));
	if ((r = parse_args(argc, argv, &a)) != KC_EXIT_OK)
		return r == -1 ? KC_EXIT_OK : r;
	if ((r = check_args(&a)) != KC_EXIT_OK)
		return r;
	memset(&scope, 0, sizeof(scope));
	if (a.scope != NULL && (r = recert_load_scope(a.scope, &scope)) != 0) {
		kc_scope_free(&scope);
		cli_error("%s", kc_err_msg());
		return r == KC_ERR_NOMEM ? KC_EXIT_FATAL : KC_EXIT_USAGE;
	}
	in.bundle_path = a.bundle;
	in.pre_path = a.pre;
	/* the copied audit-sink chain checked as verify checks it: its
	 * tokens' CA defaults to --tsa-ca (not read under --no-verify) */
	in.audit_chain_pubkey = a.chain_pubkey;
	in.audit_chain_tsa_ca = a.chain_tsa_ca != NULL ? a.chain_tsa_ca : a.no_verify ? NULL : a.vo.tsa_ca;
	in.generated = kc_now();
	if (kc_sha256_file(in.bundle_path, bundle_hex, NULL) != 0) {
		kc_scope_free(&scope);
		return cli_fail(KC_EXIT_USAGE, "report");
	}
	in.bundle_sha256 = bundle_hex;
	if (a.pre != NULL && (diff_arena = kc_jarena_new()) == NULL) {
		kc_scope_free(&scope);
		cli_error("out of memory");
		return KC_EXIT_FATAL;
	}
	if ((!diff_verified(&a, &in, &vr, &pre_vr, &diff, &diff_arena) &&
	    ((r = verify_bundles(&a, &in, &vr, &pre_vr, &rc)) != 0 ||
	    (r = compute_diff(&a, &in, &diff, diff_arena, &rc)) != 0)) ||
	    (r = compute_recert(&a, &scope, &vr, &in, &recert, recert_err, sizeof(recert_err), &rc)) != 0) {
		kc_scope_free(&scope);
		cJSON_Delete(diff);
		kc_jarena_free(diff_arena);
		return r;
	}
	kc_scope_free(&scope);
	check_ledger(&a, &in, &ledger, ledger_err, sizeof(ledger_err), &rc);
	in.audit_chain_broken = &chain_broken;
	r = kc_report_html(&in, &page);
	cJSON_Delete(diff);
	kc_jarena_free(diff_arena);	/* after the document */
	cJSON_Delete(ledger);
	cJSON_Delete(recert);
	if (r == KC_ERR_VERIFY) {
		kc_buf_free(&page);
		cli_error("%s: no report", kc_err_msg());
		return KC_EXIT_INVALID;
	}
	if (r != 0) {
		kc_buf_free(&page);
		return cli_fail(KC_EXIT_FATAL, "report");
	}
	/* as verify: a copied audit-sink chain that does not verify makes
	 * the bundle INVALID (the page says so in its banner) */
	if (chain_broken && !a.no_verify) {
		char safe[512];

		cli_error("'%s' is INVALID (audit check failed: the copied audit-sink chain does not verify)",
		    kc_safe_str(a.bundle, safe, sizeof(safe)));
		rc = KC_EXIT_INVALID;
	}
	if ((r = write_page(a.out, &page)) != KC_EXIT_OK)
		rc = r;
	kc_buf_free(&page);
	return rc;
}
