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
#include "collector/custom.h"
#include "pipeline/collect.h"
#include "util/err.h"
#include "util/buf.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/log.h"
#include "util/table.h"

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
	    "  --list-streams N       lists fetched at once, each on its own connection\n"
	    "                         (1-8, default 2; 1: one request at a time)\n"
	    "  --max-retries N        retries on 429, 5xx, connection failures (default 4)\n"
	    "  --max-response SIZE    largest answer accepted (default 512M)\n"
	    "  --resource GROUP/RES   also collect every object of that resource, all\n"
	    "                         namespaces (repeatable; \"\" group for core, e.g.\n"
	    "                         policy.example.com/contextpolicies); credentials\n"
	    "                         in them are hashed (kagent.dev is collected anyway)\n"
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
	    "  --timings              after the run, where the time went on stderr: each\n"
	    "                         step's wall and CPU time, requests, their summed\n"
	    "                         duration, bytes received and peak memory\n"
	    "  -q, --quiet            no progress on stderr\n\n"
	    "Exit status: 0 complete, 1 partial (bundle written, failures recorded),\n"
	    "2 usage or configuration error, 4 fatal (nothing written).\n",
	    cli_progname, collect_hooks_usage());
}

enum {
	OPT_CASE = 256, OPT_PHASE, OPT_PURPOSE, OPT_OPERATOR, OPT_AUTHORITY, OPT_EVID,
	OPT_KUBECONFIG, OPT_CONTEXT, OPT_INCLUSTER, OPT_INSECURE, OPT_PAGESIZE, OPT_STREAMS,
	OPT_OUTDIR, OPT_KEY, OPT_CERT, OPT_PASS, OPT_NOSIGN, OPT_TSA, OPT_TSACA,
	OPT_RETRIES, OPT_ORG, OPT_MAXRESP, OPT_RESOURCE, OPT_TIMINGS, OPT_HOOK_BASE = 512,
};

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
	cJSON_ArrayForEach(it, kc_json_get(manifest, "items")) {
		const cJSON *st = kc_json_get(it, "status");
		const cJSON *nm = kc_json_get(it, "name");
		const cJSON *de = kc_json_get(it, "detail");

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

/* The options as parsed, before they are checked. */
struct collect_args {
	struct kc_collect_plan plan;
	struct collect_hooks hooks;
	int quiet;
	int timings;			/* --timings */
	const char *resources[64];	/* --resource */
	size_t nresources;
};

/* --max-response SIZE: bytes, or with K, M or G; 4K to 4G. */
static int
parse_size(const char *arg, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);

	if (*end == 'K' || *end == 'k') v <<= 10, end++;
	else if (*end == 'M') v <<= 20, end++;
	else if (*end == 'G') v <<= 30, end++;
	if (*end != '\0' || v < 4096 || v > (4ULL << 30)) {
		cli_error("--max-response wants a size between 4K and 4G, not '%s'", arg);
		return KC_EXIT_USAGE;
	}
	*out = (size_t)v;
	return KC_EXIT_OK;
}

/* The numeric options; KC_EXIT_OK or KC_EXIT_USAGE (printed). */
static int
parse_number(int c, const char *arg, struct kc_collect_opts *opts)
{
	long lv;

	if (c == OPT_MAXRESP)
		return parse_size(arg, &opts->max_response);
	if (c == OPT_PAGESIZE) {
		if (cli_parse_int(arg, 1, 5000, &lv) != 0) {
			cli_error("--page-size must be between 1 and 5000");
			return KC_EXIT_USAGE;
		}
		opts->page_size = (int)lv;
	} else if (c == OPT_STREAMS) {
		if (cli_parse_int(arg, 1, KC_LIST_STREAMS_MAX, &lv) != 0) {
			cli_error("--list-streams must be between 1 and %d", KC_LIST_STREAMS_MAX);
			return KC_EXIT_USAGE;
		}
		opts->list_streams = (int)lv;
	} else {
		if (cli_parse_int(arg, 0, 20, &lv) != 0) {
			cli_error("--max-retries must be between 0 and 20");
			return KC_EXIT_USAGE;
		}
		opts->max_retries = (int)lv;
	}
	return KC_EXIT_OK;
}

/* One option into a; -1 when it is not one of the base options. */
static int
parse_one(int c, const char *arg, struct collect_args *a)
{
	struct kc_collect_opts *opts = &a->plan.collect;
	struct kc_seal_opts *seal = &a->plan.seal;

	switch (c) {
	case OPT_CASE: opts->case_id = arg; break;
	case OPT_PHASE: opts->phase = arg; break;
	case OPT_PURPOSE: opts->purpose = arg; break;
	case OPT_OPERATOR: opts->operator_name = arg; break;
	case OPT_AUTHORITY: opts->authority = arg; break;
	case OPT_EVID: opts->evidence_id = arg; break;
	case OPT_ORG: a->plan.organisation = arg; break;
	case OPT_KUBECONFIG: opts->kube.kubeconfig = arg; break;
	case OPT_CONTEXT: opts->kube.context = arg; break;
	case OPT_INCLUSTER: opts->kube.in_cluster = 1; break;
	case OPT_INSECURE: opts->allow_insecure = 1; break;
	case OPT_PAGESIZE: case OPT_STREAMS: case OPT_RETRIES: case OPT_MAXRESP:
		return parse_number(c, arg, opts);
	case OPT_RESOURCE:
		if (!kc_custom_resource_ok(arg)) {
			cli_error("--resource wants GROUP/RESOURCE (a DNS subdomain, or empty for core, and a "
			    "lowercase plural), not '%s'", arg);
			return KC_EXIT_USAGE;
		}
		if (a->nresources == sizeof(a->resources) / sizeof(a->resources[0])) {
			cli_error("--resource: at most 64");
			return KC_EXIT_USAGE;
		}
		a->resources[a->nresources++] = arg;
		opts->resources = a->resources;
		opts->nresources = a->nresources;
		break;
	case 'o': a->plan.output = arg; break;
	case OPT_OUTDIR: a->plan.out_dir = arg; break;
	case OPT_KEY: seal->key_path = arg; break;
	case OPT_CERT: seal->cert_path = arg; break;
	case OPT_PASS: seal->passphrase_file = arg; break;
	case OPT_NOSIGN: seal->no_sign = 1; break;
	case OPT_TSA: seal->tsa_url = arg; break;
	case OPT_TSACA: seal->tsa_ca = arg; break;
	case 'q': a->quiet = 1; break;
	case OPT_TIMINGS: a->timings = 1; break;
	default: return -1;
	}
	return KC_EXIT_OK;
}

/* Parse argv into a: KC_EXIT_OK, or the exit status (-h: -1 and the help
 * printed). */
static int
parse_args(int argc, char **argv, struct collect_args *a)
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
		{ "list-streams", required_argument, NULL, OPT_STREAMS },
		{ "max-retries", required_argument, NULL, OPT_RETRIES },
		{ "max-response", required_argument, NULL, OPT_MAXRESP },
		{ "resource", required_argument, NULL, OPT_RESOURCE },
		{ "output", required_argument, NULL, 'o' },
		{ "out-dir", required_argument, NULL, OPT_OUTDIR },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "passphrase-file", required_argument, NULL, OPT_PASS },
		{ "no-sign", no_argument, NULL, OPT_NOSIGN },
		{ "tsa", required_argument, NULL, OPT_TSA },
		{ "tsa-ca", required_argument, NULL, OPT_TSACA },
		{ "quiet", no_argument, NULL, 'q' },
		{ "timings", no_argument, NULL, OPT_TIMINGS },
		{ "help", no_argument, NULL, 'h' },
	};
	struct option longopts[64];
	size_t nbase = sizeof(base_longopts) / sizeof(base_longopts[0]);
	int c, r;

	memcpy(longopts, base_longopts, sizeof(base_longopts));
	collect_hooks_options(longopts + nbase, 64 - nbase - 1, OPT_HOOK_BASE);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		if (c == 'h') {
			collect_usage(stdout);
			return -1;
		}
		if ((r = parse_one(c, optarg, a)) == KC_EXIT_OK)
			continue;
		if (r != -1)
			return r;
		if (c >= OPT_HOOK_BASE && collect_hooks_parse(&a->hooks, c - OPT_HOOK_BASE, optarg) == 0)
			continue;
		if (c >= OPT_HOOK_BASE)
			return KC_EXIT_USAGE;
		return cli_bad_option(argv);
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return KC_EXIT_USAGE;
	}
	return KC_EXIT_OK;
}

/* The options that do not go together, and the output checked before
 * the long work, not after it: a collection never ends with "must end
 * in .tar.gz". */
static int
check_args(const struct kc_collect_plan *p)
{
	const struct kc_collect_opts *opts = &p->collect;
	int ret;

	if (opts->case_id == NULL || opts->phase == NULL) {
		cli_error("collect needs --case ID and --phase pre|post|baseline");
		return KC_EXIT_USAGE;
	}
	if (strcmp(opts->phase, "pre") != 0 && strcmp(opts->phase, "post") != 0 &&
	    strcmp(opts->phase, "baseline") != 0) {
		cli_error("--phase must be pre, post or baseline, not '%s'", opts->phase);
		return KC_EXIT_USAGE;
	}
	if (p->output != NULL && p->out_dir != NULL) {
		cli_error("-o and --out-dir are exclusive");
		return KC_EXIT_USAGE;
	}
	if (p->out_dir == NULL && !p->seal.no_sign && p->seal.key_path == NULL) {
		cli_error("a bundle is signed: give --key KEY.pem (see 'kcustody keygen'), or --no-sign");
		return KC_EXIT_USAGE;
	}
	if (p->seal.cert_path != NULL && p->seal.key_path == NULL) {
		cli_error("--cert needs --key");
		return KC_EXIT_USAGE;
	}
	if (p->out_dir == NULL && (ret = preflight_output(p->output)) != KC_EXIT_OK)
		return ret;
	if (p->seal.key_path != NULL && access(p->seal.key_path, R_OK) != 0) {
		cli_error("--key: cannot read '%s': %s", p->seal.key_path, strerror(errno));
		return KC_EXIT_USAGE;
	}
	return KC_EXIT_OK;
}

/* The failed step's message and exit status. */
static int
report_failure(const struct kc_collect_plan *p, const struct kc_collect_outcome *o)
{
	switch (o->failed) {
	case KC_COLLECT_STAGING:
		cli_error("cannot create a staging folder in '%s': %s", o->dir, strerror(o->sys_errno));
		return KC_EXIT_FATAL;
	case KC_COLLECT_LIST:
		cli_error("%s", kc_err_msg());
		return o->err == KC_ERR_CONFIG || o->err == KC_ERR_INVALID ? KC_EXIT_USAGE : KC_EXIT_FATAL;
	case KC_COLLECT_MANIFEST:
		cli_error("cannot write the manifest: %s", kc_err_msg());
		return KC_EXIT_FATAL;
	case KC_COLLECT_RENAME:
		cli_error("cannot rename '%s' to '%s': %s", o->staging, p->out_dir, strerror(o->sys_errno));
		return KC_EXIT_FATAL;
	case KC_COLLECT_SEAL:
		cli_error("cannot seal the bundle: %s", kc_err_msg());
		return cli_exit_for(kc_err_code()) == KC_EXIT_USAGE ? KC_EXIT_USAGE : KC_EXIT_FATAL;
	default:
		cli_error("out of memory");
		return KC_EXIT_FATAL;
	}
}

/* What a finished run prints: the ledger warning, the triage, what was
 * partial, and the path on stdout. */
static int
report_outcome(const struct collect_args *a, const struct kc_collect_outcome *o)
{
	const cJSON *fs = kc_json_get(o->co.manifest, "findings_summary");
	const char *tr = kc_json_str(fs, "triage"), *why = kc_json_str(fs, "triageReason");

	if (o->ledger_error != NULL)
		cli_error("warning: bundle sealed, but no custody ledger was started: %s", o->ledger_error);
	if (tr != NULL && !a->quiet)
		fprintf(stderr, "kcustody: triage %s%s%s\n", tr, why ? ": " : "", why ? why : "");
	if (o->co.partial)
		report_partial(o->co.manifest);
	printf("%s\n", o->path);
	return collect_hooks_exit(&a->hooks, o->worst_severity,
	    o->co.partial ? KC_EXIT_PARTIAL : KC_EXIT_OK);
}

/* --timings: one row per step that ran, and the whole run. */
static void
print_timings(const struct kc_collect_outcome *o)
{
	static const struct kc_table_col cols[] = {
		{ "STEP", 0 }, { "WALL", KC_COL_RIGHT }, { "CPU", KC_COL_RIGHT },
		{ "REQUESTS", KC_COL_RIGHT }, { "REQUEST TIME", KC_COL_RIGHT },
		{ "RECEIVED", KC_COL_RIGHT }, { "PEAK RSS", KC_COL_RIGHT },
	};
	struct kc_collect_timing all;
	struct kc_table *t = kc_table_new(cols, sizeof(cols) / sizeof(cols[0]));
	struct kc_buf out;

	memset(&all, 0, sizeof(all));
	kc_buf_init(&out, 1u << 20);
	for (int ph = 0; t != NULL && ph <= KC_PHASE_N; ph++) {
		const struct kc_collect_timing *x = ph < KC_PHASE_N ? &o->timing[ph] : &all;
		char w[32], c[32], n[32], rt[32], b[32], m[32];
		const char *cells[7] = { ph < KC_PHASE_N ? kc_collect_phase_name(ph) : "total", w, c, n, rt, b, m };

		if (ph < KC_PHASE_N && !x->ran)
			continue;
		if (ph < KC_PHASE_N) {
			if (!x->beside)	/* its time is in the steps' it ran beside */
				all.wall_ns += x->wall_ns;
			all.cpu_ns += x->cpu_ns;
			all.requests += x->requests;
			all.request_ms += x->request_ms;
			all.bytes += x->bytes;
			all.peak_rss_kib = x->peak_rss_kib > all.peak_rss_kib ? x->peak_rss_kib : all.peak_rss_kib;
		} else if (o->wall_ns > 0) {
			/* the run's own clock: the wait for a step beside the
			 * others is in it (unset when the run failed) */
			all.wall_ns = o->wall_ns;
		}
		if (kc_fmt(w, sizeof(w), "%.2f s", (double)x->wall_ns / 1e9) != 0 ||
		    kc_fmt(c, sizeof(c), "%.2f s", (double)x->cpu_ns / 1e9) != 0 ||
		    kc_fmt(n, sizeof(n), "%zu", x->requests) != 0 ||
		    kc_fmt(rt, sizeof(rt), "%.2f s", x->request_ms / 1e3) != 0 ||
		    kc_fmt(b, sizeof(b), "%.1f MiB", x->bytes / 1048576.0) != 0 ||
		    kc_fmt(m, sizeof(m), "%.1f MiB", (double)x->peak_rss_kib / 1024.0) != 0 ||
		    kc_table_add(t, cells) != 0)
			break;
		if (ph < KC_PHASE_N && x->beside)
			kc_table_note(t, "on a thread of its own from the start, following each list's pages "
			    "as they are written, beside the lists and the model's load; select waits for its end");
		if (ph == KC_PHASE_REVIEWS && x->wall_ns > 0 &&
		    kc_fmt(w, sizeof(w), "%.0f reviews/s", (double)x->requests / ((double)x->wall_ns / 1e9)) == 0)
			kc_table_note(t, w);
	}
	if (t != NULL && kc_table_render(t, KC_TABLE_WIDTH, &out) == 0 && out.len > 0) {
		fputs("kcustody: timings (CPU is the time of the thread that ran the step, of every\n"
		    "list stream's thread for the lists (--list-streams); REQUEST TIME sums the\n"
		    "requests' durations, which overlap when several are in flight; PEAK RSS is the\n"
		    "process's peak at the step's end; the total's WALL is the whole run's)\n", stderr);
		fwrite(out.data, 1, out.len, stderr);
	}
	kc_buf_free(&out);
	kc_table_free(t);
}

KC_COMMAND(collect, "collect and seal evidence from a cluster")
{
	struct collect_args a;
	struct kc_collect_outcome o;
	int ret, r;

	memset(&a, 0, sizeof(a));
	memset(&o, 0, sizeof(o));
	collect_hooks_init(&a.hooks);
	a.plan.collect.page_size = 500;
	a.plan.collect.list_streams = KC_LIST_STREAMS_DEFAULT;
	a.plan.collect.max_retries = -1;
	if ((ret = parse_args(argc, argv, &a)) != KC_EXIT_OK) {
		ret = ret == -1 ? KC_EXIT_OK : ret;
		goto out;
	}
	if ((ret = check_args(&a.plan)) != KC_EXIT_OK)
		goto out;
	ret = KC_EXIT_FATAL;
	if (!a.quiet && isatty(STDERR_FILENO) && kc_log_get_level() < KC_LOG_INFO)
		kc_log_set_level(KC_LOG_INFO);
	if (a.plan.out_dir != NULL && access(a.plan.out_dir, F_OK) == 0) {
		cli_error("--out-dir '%s' already exists; kcustody never writes into old evidence", a.plan.out_dir);
		ret = KC_EXIT_USAGE;
		goto out;
	}
	if ((r = collect_hooks_plan(&a.hooks, &a.plan)) != 0) {
		if (r == -2)
			ret = KC_EXIT_USAGE;
		goto out;
	}
	if (kc_collect_pipeline(&a.plan, &o) != 0)
		ret = report_failure(&a.plan, &o);
	else
		ret = report_outcome(&a, &o);
	if (a.timings)
		print_timings(&o);
out:
	kc_collect_outcome_free(&o);
	collect_hooks_free(&a.hooks);
	return ret;
}
