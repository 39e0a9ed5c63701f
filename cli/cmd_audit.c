/* cmd_audit.c - kcustody audit: stream a filtered audit-log segment. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "collector/audit.h"
#include "manifest/sign.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/timeutil.h"

#define WARN_MAX 10	/* malformed lines named on stderr; the rest are counted */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s audit --audit-log PATH... [FILTERS] [--count | --summary]\n"
	    "       %s audit verify-chain DIR --pubkey KEY [--json]   (see verify-chain --help)\n"
	    "\n"
	    "Stream the audit events that match FILTERS, one JSON line each, as they\n"
	    "are in the log (bodies of secrets redacted unless --no-redact). PATH is\n"
	    "a log file (its rotated backups beside it are read first, oldest first),\n"
	    "a folder of logs, or - for standard input; plain or gzip.  Managed\n"
	    "clusters' exports are read too, each file's form found from its first\n"
	    "record: EKS (CloudWatch Logs JSON, its S3 export), GKE (Cloud Logging\n"
	    "entries) and AKS (diagnostic-settings records); their events come out\n"
	    "as audit.k8s.io/v1 Events (docs/AUDIT.md).\n"
	    "\n"
	    "Filters (repeat an option to accept any of its values; options AND):\n"
	    "  --since T, --until T      RFC 3339 time or a duration before now (72h),\n"
	    "                            on requestReceivedTimestamp (until exclusive)\n"
	    "  --user NAME               user.username or impersonatedUser.username\n"
	    "  --sa NS/NAME              the same for system:serviceaccount:NS:NAME\n"
	    "  --resource RES[/SUB]      objectRef.resource (and .subresource)\n"
	    "  --verb V, --namespace NS, --decision allow|forbid, --code N\n"
	    "  --preset sensitive-reads  get/list/watch on secrets, configmaps, PVCs\n"
	    "  --preset denied           decision forbid or response code 401/403\n"
	    "  --exclude-user-agent PREFIX, --exclude-audit-id-prefix PREFIX\n"
	    "  --exclude-run ID          drop the traffic of kcustody run ID\n"
	    "  --run ID                  keep only the traffic of kcustody run ID\n"
	    "\n"
	    "Output:\n"
	    "  --count                   print the number of matching events\n"
	    "  --summary                 print a JSON summary (sources, hashes, window,\n"
	    "                            gaps, overlaps, counts) instead of the events\n"
	    "  --stage DIR               write DIR/audit/{segment.jsonl,malformed.jsonl,\n"
	    "                            sources.json} as collect does\n"
	    "  --malformed FILE          write one JSON record per malformed line\n"
	    "  --records FILE            write, per event taken from a provider record,\n"
	    "                            that record and where it was (records.jsonl)\n"
	    "  --audit-format F          native, eks, gke, aks or auto (default: per file)\n"
	    "  --audit-chain-pubkey KEY  an audit-sink folder's key: its chain's signatures\n"
	    "                            are checked into the summary's \"chains\"\n"
	    "  --no-redact               keep matching lines byte for byte\n"
	    "  --no-rotated              read only the files named, not their backups\n"
	    "  --validate                parse every line (find all malformed JSON)\n"
	    "  --line-max BYTES          longest line read (default 4194304)\n"
	    "  --gap DURATION            silence reported as a gap (default 10m)\n"
	    "\n"
	    "When the filter asks about reads (get, list, watch) and some cluster's\n"
	    "sources cannot hold reads (AKS kube-audit-admin, GKE Admin Activity),\n"
	    "--count prints 'not determinable from these sources' instead of a number\n"
	    "(or 'at least N' when reads are only part of the question).\n"
	    "\n"
	    "Exit status: 0 done; 1 done but some lines were malformed (set aside and\n"
	    "reported), a source could not be read to the end, or the answer is not\n"
	    "determinable from the sources; 2 usage error; 4 fatal.\n", cli_progname, cli_progname);
}

/* A missing --audit-log path or a bad option value is the user's error. */
static int
input_error(int rc)
{
	return rc == KC_ERR_NOTFOUND || rc == KC_ERR_INVALID || rc == KC_ERR_CONFIG;
}

struct warn_ctx {
	FILE *out;		/* --malformed FILE, or NULL */
	uint64_t n;
	int err;
};

static int
on_malformed(void *p, const struct kc_audit_malformed *m)
{
	struct warn_ctx *w = p;
	char name[256];

	if (w->n++ < WARN_MAX)
		fprintf(stderr, "%s: warning: %s: offset %llu: %s%s%s (%llu bytes, set aside)\n",
		    cli_progname, kc_safe_str(m->source, name, sizeof(name)),
		    (unsigned long long)m->offset, m->reason, m->detail[0] ? ": " : "",
		    m->detail, (unsigned long long)m->length);
	if (w->out != NULL)
		return kc_audit_malformed_write(w->out, m);
	return 0;
}

static const struct option longopts[] = {
	{ "audit-log", required_argument, NULL, 'a' },
	{ "since", required_argument, NULL, 1 },
	{ "until", required_argument, NULL, 2 },
	{ "user", required_argument, NULL, 3 },
	{ "sa", required_argument, NULL, 4 },
	{ "resource", required_argument, NULL, 5 },
	{ "verb", required_argument, NULL, 6 },
	{ "namespace", required_argument, NULL, 'n' },
	{ "decision", required_argument, NULL, 7 },
	{ "code", required_argument, NULL, 8 },
	{ "exclude-user-agent", required_argument, NULL, 9 },
	{ "exclude-audit-id-prefix", required_argument, NULL, 10 },
	{ "exclude-run", required_argument, NULL, 11 },
	{ "run", required_argument, NULL, 12 },
	{ "preset", required_argument, NULL, 13 },
	{ "count", no_argument, NULL, 'c' },
	{ "summary", no_argument, NULL, 's' },
	{ "stage", required_argument, NULL, 14 },
	{ "malformed", required_argument, NULL, 15 },
	{ "no-redact", no_argument, NULL, 16 },
	{ "no-rotated", no_argument, NULL, 17 },
	{ "validate", no_argument, NULL, 18 },
	{ "line-max", required_argument, NULL, 19 },
	{ "gap", required_argument, NULL, 20 },
	{ "records", required_argument, NULL, 21 },
	{ "audit-format", required_argument, NULL, 22 },
	{ "audit-chain-pubkey", required_argument, NULL, 23 },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* option value -> filter name (kc_audit_filter_add) */
static const char *
filter_name(int c)
{
	switch (c) {
	case 1: return "since";
	case 2: return "until";
	case 3: return "user";
	case 4: return "sa";
	case 5: return "resource";
	case 6: return "verb";
	case 'n': return "namespace";
	case 7: return "decision";
	case 8: return "code";
	case 9: return "exclude-user-agent";
	case 10: return "exclude-audit-id-prefix";
	case 11: return "exclude-run";
	case 12: return "run";
	case 13: return "preset";
	default: return NULL;
	}
}

struct audit_args {
	struct kc_audit_filter *f;
	struct kc_audit_opts o;
	struct warn_ctx w;
	const char **paths;
	size_t npaths, pcap;
	const char *stage, *malformed, *records;
	int count, summary;
};

static int
add_path(struct audit_args *a, const char *path)
{
	if (KC_GROW(a->paths, a->pcap, a->npaths + 1)) {
		cli_error("out of memory");
		return KC_EXIT_FATAL;
	}
	a->paths[a->npaths++] = path;
	return KC_EXIT_OK;
}

/* --line-max, --gap and --audit-format: KC_EXIT_OK or KC_EXIT_USAGE. */
static int
parse_value(int c, const char *arg, struct kc_audit_opts *o)
{
	char *end;
	unsigned long long v;

	if (c == 19) {
		errno = 0;
		v = strtoull(arg, &end, 10);
		if (errno || end == arg || *end != '\0' || v < KC_AUDIT_LINE_MAX_MIN ||
		    v > KC_AUDIT_LINE_MAX_MAX) {
			cli_error("invalid --line-max '%s' (%zu to %zu bytes)", arg,
			    KC_AUDIT_LINE_MAX_MIN, KC_AUDIT_LINE_MAX_MAX);
			return KC_EXIT_USAGE;
		}
		o->line_max = (size_t)v;
	} else if (c == 20) {
		if (kc_parse_duration(arg, &o->gap_secs) < 0 || o->gap_secs <= 0) {
			cli_error("invalid --gap '%s' (a duration such as 10m)", arg);
			return KC_EXIT_USAGE;
		}
	} else if ((o->format = kc_audit_format_parse(arg)) < 0) {
		cli_error("invalid --audit-format '%s' (native, eks, gke, aks or auto)", arg);
		return KC_EXIT_USAGE;
	}
	return KC_EXIT_OK;
}

/* Options and operands: KC_EXIT_OK, or the exit status (-h: -1). */
static int
parse_args(int argc, char **argv, struct audit_args *a)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "a:n:h", longopts, NULL)) != -1) {
		const char *fn = filter_name(c);
		int r = KC_EXIT_OK;

		if (fn != NULL) {
			if (kc_audit_filter_add(a->f, fn, optarg) < 0)
				return cli_fail(KC_EXIT_USAGE, NULL);
			continue;
		}
		switch (c) {
		case 'a': r = add_path(a, optarg); break;
		case 'c': a->count = 1; break;
		case 's': a->summary = 1; break;
		case 14: a->stage = optarg; break;
		case 15: a->malformed = optarg; break;
		case 16: a->o.no_redact = 1; break;
		case 17: a->o.no_rotated = 1; break;
		case 18: a->o.validate = 1; break;
		case 19: case 20: case 22: r = parse_value(c, optarg, &a->o); break;
		case 21: a->records = optarg; break;
		case 23:
			if (kc_trust_file_check(optarg, 0) != 0) {
				cli_error("--audit-chain-pubkey: %s", kc_err_msg());
				return KC_EXIT_USAGE;
			}
			a->o.chain_pubkey = optarg;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return cli_bad_option(argv);
		}
		if (r != KC_EXIT_OK)
			return r;
	}
	for (; optind < argc; optind++)
		if (add_path(a, argv[optind]) != KC_EXIT_OK)
			return KC_EXIT_FATAL;
	return KC_EXIT_OK;
}

/* The operands and outputs that do not go together, then --malformed
 * and --records created (never replaced). */
static int
open_outputs(struct audit_args *a)
{
	if (a->npaths == 0) {
		cli_error("no audit log given (--audit-log PATH)");
		return KC_EXIT_USAGE;
	}
	if (a->count + a->summary + (a->stage != NULL) > 1) {
		cli_error("--count, --summary and --stage exclude each other");
		return KC_EXIT_USAGE;
	}
	if (a->malformed != NULL) {
		if (strcmp(a->malformed, "-") == 0) {
			cli_error("--malformed needs a file name");
			return KC_EXIT_USAGE;
		}
		if ((a->w.out = fopen(a->malformed, "wx")) == NULL) {
			cli_error("cannot create '%s': %s", a->malformed, strerror(errno));
			return KC_EXIT_USAGE;
		}
	}
	if (a->records != NULL) {
		if (a->stage != NULL || strcmp(a->records, "-") == 0) {
			cli_error("--records needs a file name, and --stage writes audit/records.jsonl itself");
			return KC_EXIT_USAGE;
		}
		if ((a->o.records = fopen(a->records, "wx")) == NULL) {
			cli_error("cannot create '%s': %s", a->records, strerror(errno));
			return KC_EXIT_USAGE;
		}
	}
	return KC_EXIT_OK;
}

/* Scan to standard output (the events, --count or --summary). */
static int
scan(struct audit_args *a, struct kc_audit_result *res)
{
	static char obuf[1 << 20];
	char *sj;
	int rc;

	a->o.stats = a->summary;
	if (!a->count && !a->summary)
		setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	rc = kc_audit_scan(a->paths, a->npaths, a->f, &a->o, (a->count || a->summary) ? NULL : stdout,
	    on_malformed, &a->w, res);
	if (rc < 0)
		return cli_fail(input_error(rc) ? KC_EXIT_USAGE : KC_EXIT_FATAL, NULL);
	if (a->count && res->determinable == 0)
		printf("%s\n", KC_NOT_DETERMINABLE);
	else if (a->count && res->determinable == 2)
		printf("at least %llu\n", (unsigned long long)res->matched);
	else if (a->count)
		printf("%llu\n", (unsigned long long)res->matched);
	if (a->summary) {
		if ((sj = cJSON_Print(res->doc)) == NULL) {
			cli_error("out of memory");
			return KC_EXIT_FATAL;
		}
		printf("%s\n", sj);
		free(sj);
	}
	return KC_EXIT_OK;
}

/* The warnings at the end, and the exit status they make. */
static int
warn_end(const struct audit_args *a, const struct kc_audit_result *res)
{
	uint64_t n = a->w.n;

	if (n > WARN_MAX)
		fprintf(stderr, "%s: warning: %llu malformed lines in all (set aside; --malformed FILE lists them)\n",
		    cli_progname, (unsigned long long)n);
	else if (a->stage != NULL && n > 0)
		fprintf(stderr, "%s: warning: %llu malformed lines (listed in %s/audit/malformed.jsonl)\n",
		    cli_progname, (unsigned long long)n, a->stage);
	if (res->source_errors > 0)
		fprintf(stderr, "%s: warning: %llu sources could not be read to the end\n",
		    cli_progname, (unsigned long long)res->source_errors);
	if (res->determinable == 0)
		fprintf(stderr, "%s: warning: not determinable from these sources: the question is about reads "
		    "(get, list, watch) and some cluster's sources do not log reads (AKS kube-audit-admin, "
		    "GKE Admin Activity); see reads.blind in --summary\n", cli_progname);
	else if (res->determinable == 2)
		fprintf(stderr, "%s: warning: reads (get, list, watch) of some clusters are not determinable from "
		    "these sources; what matched is a lower bound (see reads.blind in --summary)\n", cli_progname);
	{
		const cJSON *c;

		cJSON_ArrayForEach(c, kc_json_get(res->doc, "chains")) {
			if (strcmp(kc_json_str0(c, "result"), "tampered") == 0) {
				char safe[512];

				fprintf(stderr, "%s: warning: the audit-sink chain of '%s' does not verify: %s\n",
				    cli_progname, kc_safe_str(kc_json_str0(c, "folder"), safe, sizeof(safe)),
				    "see chains[].tampering in the summary, or 'audit verify-chain'");
				return KC_EXIT_INVALID;
			}
		}
	}
	return n > 0 || res->source_errors > 0 || res->determinable != 1 ? KC_EXIT_PARTIAL : KC_EXIT_OK;
}

/* --records and --malformed closed: a write error shows only then. */
static int
close_outputs(const struct audit_args *a, int ret)
{
	if (a->o.records != NULL && fclose(a->o.records) != 0 && ret == KC_EXIT_OK) {
		cli_error("cannot write '%s': %s", a->records, strerror(errno));
		ret = KC_EXIT_FATAL;
	}
	if (a->w.out != NULL && fclose(a->w.out) != 0 && ret == KC_EXIT_OK) {
		cli_error("cannot write '%s': %s", a->malformed, strerror(errno));
		ret = KC_EXIT_FATAL;
	}
	return ret;
}

KC_COMMAND(audit, "stream a filtered audit-log segment (jq-composable JSON lines)")
{
	struct audit_args a;
	struct kc_audit_result res = { 0 };
	int rc, ret;

	if (argc >= 2 && strcmp(argv[1], "verify-chain") == 0)
		return cli_audit_verify_chain(argc - 1, argv + 1);
	memset(&a, 0, sizeof(a));
	if ((a.f = kc_audit_filter_new()) == NULL) {
		cli_error("out of memory");
		return KC_EXIT_FATAL;
	}
	if ((ret = parse_args(argc, argv, &a)) != KC_EXIT_OK) {
		ret = ret == -1 ? KC_EXIT_OK : ret;
		goto out;
	}
	if ((ret = open_outputs(&a)) != KC_EXIT_OK)
		goto out;
	if (a.stage != NULL) {
		rc = kc_audit_extract(a.paths, a.npaths, a.f, &a.o, a.stage, &res);
		if (rc < 0) {
			ret = cli_fail(input_error(rc) ? KC_EXIT_USAGE : KC_EXIT_FATAL, NULL);
			goto out;
		}
		a.w.n = res.malformed;
	} else if ((ret = scan(&a, &res)) != KC_EXIT_OK) {
		goto out;
	}
	ret = warn_end(&a, &res);
out:
	ret = close_outputs(&a, ret);
	cJSON_Delete(res.doc);
	free(a.paths);
	kc_audit_filter_free(a.f);
	return ret;
}
