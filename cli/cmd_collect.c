/* cmd_collect.c - kcustody collect */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/collect_hooks.h"
#include "collector/collect.h"
#include "manifest/bundle.h"
#include "manifest/ledger.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/timeutil.h"

static void
collect_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s collect --case ID --phase pre|post|baseline [options]\n\n"
	    "Collect RBAC, identities, workloads and data-in-reach metadata from a\n"
	    "cluster and seal them into an evidence bundle.\n\n"
	    "Case:\n"
	    "  --case ID              case or incident id (required)\n"
	    "  --phase PHASE          pre, post or baseline (required)\n"
	    "  --purpose TEXT         why the evidence is collected\n"
	    "  --operator NAME        who collects (default: the OS user); --name is the same\n"
	    "  --authority TEXT       ticket, change or warrant authorising it\n"
	    "  --evidence-id ID       evidence item id (default: generated)\n"
	    "  --organisation ORG     the operator's organisation (custody ledger); or --org\n"
	    "Cluster:\n"
	    "  --kubeconfig FILE      kubeconfig (default: $KUBECONFIG, ~/.kube/config)\n"
	    "  --context NAME         kubeconfig context\n"
	    "  --in-cluster           use the pod's service-account credentials\n"
	    "  --insecure             honour insecure-skip-tls-verify (recorded)\n"
	    "  --page-size N          list page size (default 500)\n"
	    "  --max-retries N        retries on 429, 5xx, connection failures (default 4)\n"
	    "  --max-response SIZE    largest answer accepted (default 512M)\n"
	    "%s"
	    "Output:\n"
	    "  -o, --output PATH      bundle file, or an existing folder for the\n"
	    "                         generated name CASE_PHASE_CLUSTER_TIME.tar.gz\n"
	    "  --out-dir DIR          write the unsealed evidence folder DIR instead\n"
	    "  --key KEY.pem          signing key (Ed25519 raw, or CMS with --cert)\n"
	    "  --cert CERT.pem        X.509 certificate: detached CMS signature\n"
	    "  --passphrase-file F    passphrase of an encrypted key\n"
	    "  --no-sign              seal without a signature (verify says so)\n"
	    "  --tsa URL              RFC 3161 time-stamping authority\n"
	    "  --tsa-ca CA.pem        CA that issued the TSA certificate\n"
	    "  -q, --quiet            no progress on stderr\n\n"
	    "Exit status: 0 complete, 1 partial (bundle written, failures recorded),\n"
	    "2 usage or configuration error, 4 fatal (nothing written).\n",
	    cli_progname, collect_hooks_usage());
}

enum {
	OPT_CASE = 256, OPT_PHASE, OPT_PURPOSE, OPT_OPERATOR, OPT_AUTHORITY, OPT_EVID,
	OPT_KUBECONFIG, OPT_CONTEXT, OPT_INCLUSTER, OPT_INSECURE, OPT_PAGESIZE,
	OPT_OUTDIR, OPT_KEY, OPT_CERT, OPT_PASS, OPT_NOSIGN, OPT_TSA, OPT_TSACA,
	OPT_RETRIES, OPT_ORG, OPT_MAXRESP, OPT_HOOK_BASE = 512,
};

static void
sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
			*s = '-';
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A partial collection names what failed and how to fix it, not only
 * "see MANIFEST.json". */
static void
report_partial(const cJSON *manifest)
{
	const cJSON *it;
	char n[256], d[512];
	int shown = 0, forbidden = 0, reviews = 0;

	cli_error("collection PARTIAL: these items were not fully collected (all are recorded in "
	    "MANIFEST.json \"items\"):");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(manifest, "items")) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *de = cJSON_GetObjectItemCaseSensitive(it, "detail");

		if (!cJSON_IsString(st) || strcmp(st->valuestring, "complete") == 0 ||
		    strcmp(st->valuestring, "skipped") == 0)
			continue;
		if (strcmp(st->valuestring, "forbidden") == 0) {
			forbidden++;
			if (cJSON_IsString(nm) && strncmp(nm->valuestring, "review", 6) == 0)
				reviews++;
		}
		if (shown++ >= 20)
			continue;
		fprintf(stderr, "  %-9s %s%s%s\n", st->valuestring,
		    kc_safe_str(cJSON_IsString(nm) ? nm->valuestring : "?", n, sizeof(n)),
		    cJSON_IsString(de) && de->valuestring[0] ? ": " : "",
		    cJSON_IsString(de) ? kc_safe_str(de->valuestring, d, sizeof(d)) : "");
	}
	if (shown > 20)
		fprintf(stderr, "  ... and %d more\n", shown - 20);
	if (forbidden > reviews)
		fprintf(stderr, "  fix: the collector's identity lacks read access; apply "
		    "deploy/collector-rbac.yaml (least-privilege, read-only) and bind it to that identity\n");
	if (reviews > 0)
		fprintf(stderr, "  fix: server rules reviews need impersonation; apply "
		    "deploy/collector-reviews-rbac.yaml, or run with --no-reviews\n");
}

/* -o: an existing folder, a folder to create (the path ends in '/'), or
 * a NAME.tar.gz file that does not exist yet (nor its custody ledger), in
 * a writable folder. */
static int
preflight_output(const char *output)
{
	char *dir = NULL, *ledger = NULL, safe[512];
	const char *base;
	size_t len;
	int ret = KC_EXIT_USAGE;

	if (output == NULL || is_dir(output)) {
		if (access(output ? output : ".", W_OK) != 0) {
			cli_error("-o: folder '%s' is not writable", kc_safe_str(output ? output : ".", safe, sizeof(safe)));
			return KC_EXIT_USAGE;
		}
		return KC_EXIT_OK;
	}
	len = strlen(output);
	if (len > 0 && output[len - 1] == '/') {
		/* "-o evidence/": the folder is made (as mkdir -p would), 0750 */
		if (kc_mkdir_p(output, 0750) != 0) {
			cli_error("-o: cannot create folder '%s': %s", kc_safe_str(output, safe, sizeof(safe)),
			    kc_err_msg());
			return KC_EXIT_USAGE;
		}
		return KC_EXIT_OK;
	}
	base = strrchr(output, '/');
	base = base ? base + 1 : output;
	if (len < 8 || strcmp(output + len - 7, ".tar.gz") != 0 || base[0] == '.' || strlen(base) <= 7) {
		cli_error("-o '%s' is neither a folder nor a NAME.tar.gz bundle name (a folder to create "
		    "ends in '/')", kc_safe_str(output, safe, sizeof(safe)));
		return KC_EXIT_USAGE;
	}
	if (access(output, F_OK) == 0) {
		cli_error("-o '%s' already exists; a bundle is never replaced", kc_safe_str(output, safe, sizeof(safe)));
		return KC_EXIT_USAGE;
	}
	if (asprintf(&ledger, "%s.custody.jsonl", output) < 0 || (dir = kc_dirname(output)) == NULL) {
		cli_error("out of memory");
		ret = KC_EXIT_FATAL;
		goto out;
	}
	if (access(ledger, F_OK) == 0) {
		cli_error("-o: a custody ledger '%s' already exists for that name", kc_safe_str(ledger, safe, sizeof(safe)));
		goto out;
	}
	if (!is_dir(dir) || access(dir, W_OK) != 0) {
		cli_error("-o: folder '%s' does not exist or is not writable", kc_safe_str(dir, safe, sizeof(safe)));
		goto out;
	}
	ret = KC_EXIT_OK;
out:
	free(ledger);
	free(dir);
	return ret;
}

KC_COMMAND(collect, "collect and seal evidence from a cluster")
{
	static const struct option base_longopts[] = {
		{ "case", required_argument, NULL, OPT_CASE },
		{ "phase", required_argument, NULL, OPT_PHASE },
		{ "purpose", required_argument, NULL, OPT_PURPOSE },
		{ "operator", required_argument, NULL, OPT_OPERATOR },
		{ "authority", required_argument, NULL, OPT_AUTHORITY },
		{ "evidence-id", required_argument, NULL, OPT_EVID },
		{ "organisation", required_argument, NULL, OPT_ORG },
		{ "org", required_argument, NULL, OPT_ORG },		/* as custody and archive */
		{ "name", required_argument, NULL, OPT_OPERATOR },	/* as custody and archive */
		{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
		{ "context", required_argument, NULL, OPT_CONTEXT },
		{ "in-cluster", no_argument, NULL, OPT_INCLUSTER },
		{ "insecure", no_argument, NULL, OPT_INSECURE },
		{ "page-size", required_argument, NULL, OPT_PAGESIZE },
		{ "max-retries", required_argument, NULL, OPT_RETRIES },
		{ "max-response", required_argument, NULL, OPT_MAXRESP },
		{ "output", required_argument, NULL, 'o' },
		{ "out-dir", required_argument, NULL, OPT_OUTDIR },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "passphrase-file", required_argument, NULL, OPT_PASS },
		{ "no-sign", no_argument, NULL, OPT_NOSIGN },
		{ "tsa", required_argument, NULL, OPT_TSA },
		{ "tsa-ca", required_argument, NULL, OPT_TSACA },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
	};
	struct option longopts[64];
	struct kc_collect_opts opts;
	struct kc_seal_opts seal;
	struct collect_hooks hooks;
	struct kc_collect co;
	const char *output = NULL, *out_dir = NULL, *organisation = NULL;
	char *staging = NULL, *final = NULL, *dir = NULL, tbuf[32], cname[64];
	int c, r, ret = KC_EXIT_FATAL, quiet = 0;
	long lv;
	size_t nbase = sizeof(base_longopts) / sizeof(base_longopts[0]);
	char *manifest_text = NULL;

	memset(&opts, 0, sizeof(opts));
	memset(&seal, 0, sizeof(seal));
	memset(&co, 0, sizeof(co));
	collect_hooks_init(&hooks);
	opts.page_size = 500;
	opts.max_retries = -1;
	memcpy(longopts, base_longopts, sizeof(base_longopts));
	collect_hooks_options(longopts + nbase, 64 - nbase - 1, OPT_HOOK_BASE);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CASE: opts.case_id = optarg; break;
		case OPT_PHASE: opts.phase = optarg; break;
		case OPT_PURPOSE: opts.purpose = optarg; break;
		case OPT_OPERATOR: opts.operator_name = optarg; break;
		case OPT_AUTHORITY: opts.authority = optarg; break;
		case OPT_EVID: opts.evidence_id = optarg; break;
		case OPT_ORG: organisation = optarg; break;
		case OPT_KUBECONFIG: opts.kube.kubeconfig = optarg; break;
		case OPT_CONTEXT: opts.kube.context = optarg; break;
		case OPT_INCLUSTER: opts.kube.in_cluster = 1; break;
		case OPT_INSECURE: opts.allow_insecure = 1; break;
		case OPT_PAGESIZE:
			if (cli_parse_int(optarg, 1, 5000, &lv) != 0) {
				cli_error("--page-size must be between 1 and 5000");
				{ ret = KC_EXIT_USAGE; goto out; }
			}
			opts.page_size = (int)lv;
			break;
		case OPT_RETRIES:
			if (cli_parse_int(optarg, 0, 20, &lv) != 0) {
				cli_error("--max-retries must be between 0 and 20");
				{ ret = KC_EXIT_USAGE; goto out; }
			}
			opts.max_retries = (int)lv;
			break;
		case OPT_MAXRESP: {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end == 'K' || *end == 'k') v <<= 10, end++;
			else if (*end == 'M') v <<= 20, end++;
			else if (*end == 'G') v <<= 30, end++;
			if (*end != '\0' || v < 4096 || v > (4ULL << 30)) {
				cli_error("--max-response wants a size between 4K and 4G, not '%s'", optarg);
				{ ret = KC_EXIT_USAGE; goto out; }
			}
			opts.max_response = (size_t)v;
			break;
		}
		case 'o': output = optarg; break;
		case OPT_OUTDIR: out_dir = optarg; break;
		case OPT_KEY: seal.key_path = optarg; break;
		case OPT_CERT: seal.cert_path = optarg; break;
		case OPT_PASS: seal.passphrase_file = optarg; break;
		case OPT_NOSIGN: seal.no_sign = 1; break;
		case OPT_TSA: seal.tsa_url = optarg; break;
		case OPT_TSACA: seal.tsa_ca = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': collect_usage(stdout); ret = KC_EXIT_OK; goto out;
		default:
			if (c >= OPT_HOOK_BASE && collect_hooks_parse(&hooks, c - OPT_HOOK_BASE, optarg) == 0)
				break;
			if (c >= OPT_HOOK_BASE)
				{ ret = KC_EXIT_USAGE; goto out; }
			{ ret = cli_bad_option(argv); goto out; }
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		{ ret = KC_EXIT_USAGE; goto out; }
	}
	if (opts.case_id == NULL || opts.phase == NULL) {
		cli_error("collect needs --case ID and --phase pre|post|baseline");
		{ ret = KC_EXIT_USAGE; goto out; }
	}
	if (strcmp(opts.phase, "pre") != 0 && strcmp(opts.phase, "post") != 0 &&
	    strcmp(opts.phase, "baseline") != 0) {
		cli_error("--phase must be pre, post or baseline, not '%s'", opts.phase);
		{ ret = KC_EXIT_USAGE; goto out; }
	}
	if (output != NULL && out_dir != NULL) {
		cli_error("-o and --out-dir are exclusive");
		{ ret = KC_EXIT_USAGE; goto out; }
	}
	if (out_dir == NULL && !seal.no_sign && seal.key_path == NULL) {
		cli_error("a bundle is signed: give --key KEY.pem (see 'kcustody keygen'), or --no-sign");
		{ ret = KC_EXIT_USAGE; goto out; }
	}
	if (seal.cert_path != NULL && seal.key_path == NULL) {
		cli_error("--cert needs --key");
		{ ret = KC_EXIT_USAGE; goto out; }
	}
	/* The output is checked before the long work, not after it: a
	 * collection never ends with "must end in .tar.gz". */
	if (out_dir == NULL && (ret = preflight_output(output)) != KC_EXIT_OK)
		goto out;
	if (seal.key_path != NULL && access(seal.key_path, R_OK) != 0) {
		cli_error("--key: cannot read '%s': %s", seal.key_path, strerror(errno));
		{ ret = KC_EXIT_USAGE; goto out; }
	}
	ret = KC_EXIT_FATAL;
	if (!quiet && isatty(STDERR_FILENO) && kc_log_get_level() < KC_LOG_INFO)
		kc_log_set_level(KC_LOG_INFO);

	/* Stage next to the destination so the final rename stays on one
	 * file system, under a name that cannot be mistaken for evidence. */
	if (out_dir != NULL) {
		if (access(out_dir, F_OK) == 0) {
			cli_error("--out-dir '%s' already exists; kcustody never writes into old evidence", out_dir);
			ret = KC_EXIT_USAGE;
			goto out;
		}
		dir = kc_dirname(out_dir);
	} else if (output == NULL || is_dir(output) || output[strlen(output) - 1] == '/') {
		dir = kc_strdup(output ? output : ".");
	} else {
		dir = kc_dirname(output);
	}
	if (dir != NULL) {
		size_t dl = strlen(dir);
		while (dl > 1 && dir[dl - 1] == '/')
			dir[--dl] = '\0';
	}
	if (dir == NULL || asprintf(&staging, "%s/.kcustody-staging.XXXXXX", dir) < 0) {
		cli_error("out of memory");
		goto out;
	}
	if (mkdtemp(staging) == NULL) {
		cli_error("cannot create a staging folder in '%s': %s", dir, strerror(errno));
		ret = KC_EXIT_FATAL;
		free(staging);
		staging = NULL;
		goto out;
	}

	kc_info("collecting (case %s, phase %s)", opts.case_id, opts.phase);
	r = kc_collect_run(&opts, staging, &co);
	if (r != 0) {
		cli_error("%s", kc_err_msg());
		ret = r == KC_ERR_CONFIG || r == KC_ERR_INVALID ? KC_EXIT_USAGE : KC_EXIT_FATAL;
		goto out;
	}
	if ((r = collect_hooks_run(&hooks, &co)) != 0) {
		cli_error("%s", kc_err_msg());
		ret = r == KC_ERR_CONFIG || r == KC_ERR_INVALID ? KC_EXIT_USAGE : KC_EXIT_FATAL;
		goto out;
	}
	kc_collect_finish(&co);

	if (out_dir != NULL) {
		if ((manifest_text = cJSON_Print(co.manifest)) == NULL ||
		    kc_collect_add_file(&co, "MANIFEST.json", manifest_text, strlen(manifest_text),
		    "application/json", 1, NULL) != 0) {
			cli_error("cannot write the manifest: %s", kc_err_msg());
			goto out;
		}
		if (rename(staging, out_dir) != 0) {
			cli_error("cannot rename '%s' to '%s': %s", staging, out_dir, strerror(errno));
			goto out;
		}
		free(staging);
		staging = NULL;
		final = kc_strdup(out_dir);
	} else {
		/* The kubeconfig's cluster name when it has one; else (in-cluster)
		 * the first characters of the kube-system namespace UID. */
		snprintf(cname, sizeof(cname), "%s", co.cfg->cluster_name && co.cfg->cluster_name[0] &&
		    strcmp(co.cfg->cluster_name, "in-cluster") != 0 ? co.cfg->cluster_name :
		    co.cluster_name[0] ? co.cluster_name : "cluster");
		sanitize(cname);
		kc_fmt_compact((time_t)(co.finished_ns / 1000000000), tbuf, sizeof(tbuf));
		if (output == NULL || is_dir(output) || output[strlen(output) - 1] == '/') {
			char name[256];
			char caseid[96];
			snprintf(caseid, sizeof(caseid), "%s", opts.case_id);
			sanitize(caseid);
			snprintf(name, sizeof(name), "%s_%s_%s_%s.tar.gz", caseid, opts.phase, cname, tbuf);
			final = kc_path_join(dir, name);
		} else {
			final = kc_strdup(output);
		}
		seal.mtime = (time_t)(co.finished_ns / 1000000000);
		if (kc_bundle_seal(staging, co.manifest, &seal, final) != 0) {
			cli_error("cannot seal the bundle: %s", kc_err_msg());
			ret = cli_exit_for(kc_err_code()) == KC_EXIT_USAGE ? KC_EXIT_USAGE : KC_EXIT_FATAL;
			goto out;
		}
		/* The custody ledger starts with the sealing, signed by the
		 * collector's key (Ed25519 only: ledger lines are raw-signed). */
		if (!seal.no_sign) {
			struct kc_ledger_actor actor = { cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(co.manifest, "case"), "operator")->valuestring,
			    organisation };
			char host[256] = "unknown";

			gethostname(host, sizeof(host) - 1);
			if (kc_ledger_seal_entry(final, seal.key_path, seal.passphrase_file, &actor,
			    opts.purpose ? opts.purpose : "evidence collection", host) != 0)
				cli_error("warning: bundle sealed, but no custody ledger was started: %s",
				    kc_err_msg());
		}
	}
	{
		cJSON *fs = cJSON_GetObjectItemCaseSensitive(co.manifest, "findings_summary");
		cJSON *tr = cJSON_GetObjectItemCaseSensitive(fs, "triage");
		cJSON *why = cJSON_GetObjectItemCaseSensitive(fs, "triageReason");

		if (cJSON_IsString(tr) && !quiet)
			fprintf(stderr, "kcustody: triage %s%s%s\n", tr->valuestring,
			    cJSON_IsString(why) ? ": " : "", cJSON_IsString(why) ? why->valuestring : "");
	}
	if (co.partial)
		report_partial(co.manifest);
	printf("%s\n", final);
	ret = co.partial ? KC_EXIT_PARTIAL : KC_EXIT_OK;
	ret = collect_hooks_exit(&hooks, &co, ret);
out:
	if (staging != NULL)
		kc_rm_rf(staging);
	free(manifest_text);
	free(staging);
	free(final);
	free(dir);
	collect_hooks_free(&hooks);
	kc_collect_free(&co);
	return ret;
}
