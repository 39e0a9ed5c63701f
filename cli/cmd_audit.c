/* cmd_audit.c - kcustody audit: stream a filtered audit-log segment. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "collector/audit.h"
#include "util/err.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/timeutil.h"

#define WARN_MAX 10	/* malformed lines named on stderr; the rest are counted */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s audit --audit-log PATH... [FILTERS] [--count | --summary]\n"
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
	    "determinable from the sources; 2 usage error; 4 fatal.\n", cli_progname);
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

KC_COMMAND(audit, "stream a filtered audit-log segment (jq-composable JSON lines)")
{
	struct kc_audit_filter *f = kc_audit_filter_new();
	struct kc_audit_opts o = { 0 };
	struct kc_audit_result res = { 0 };
	struct warn_ctx w = { 0 };
	const char **paths = NULL;
	size_t npaths = 0, pcap = 0;
	const char *stage = NULL, *malformed = NULL, *records = NULL;
	int count = 0, summary = 0, c, rc, ret = KC_EXIT_OK;
	char *sj;

	if (f == NULL) {
		cli_error("out of memory");
		return KC_EXIT_FATAL;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "a:n:h", longopts, NULL)) != -1) {
		const char *fn = filter_name(c);

		if (fn != NULL) {
			if (kc_audit_filter_add(f, fn, optarg) < 0) {
				ret = cli_fail(KC_EXIT_USAGE, NULL);
				goto out;
			}
			continue;
		}
		switch (c) {
		case 'a':
			if (KC_GROW(paths, pcap, npaths + 1)) {
				cli_error("out of memory");
				ret = KC_EXIT_FATAL;
				goto out;
			}
			paths[npaths++] = optarg;
			break;
		case 'c': count = 1; break;
		case 's': summary = 1; break;
		case 14: stage = optarg; break;
		case 15: malformed = optarg; break;
		case 16: o.no_redact = 1; break;
		case 17: o.no_rotated = 1; break;
		case 18: o.validate = 1; break;
		case 19: {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end != '\0' || v < KC_AUDIT_LINE_MAX_MIN ||
			    v > KC_AUDIT_LINE_MAX_MAX) {
				cli_error("invalid --line-max '%s' (%zu to %zu bytes)", optarg,
				    KC_AUDIT_LINE_MAX_MIN, KC_AUDIT_LINE_MAX_MAX);
				ret = KC_EXIT_USAGE;
				goto out;
			}
			o.line_max = (size_t)v;
			break;
		}
		case 20:
			if (kc_parse_duration(optarg, &o.gap_secs) < 0 || o.gap_secs <= 0) {
				cli_error("invalid --gap '%s' (a duration such as 10m)", optarg);
				ret = KC_EXIT_USAGE;
				goto out;
			}
			break;
		case 21: records = optarg; break;
		case 22:
			if ((o.format = kc_audit_format_parse(optarg)) < 0) {
				cli_error("invalid --audit-format '%s' (native, eks, gke, aks or auto)", optarg);
				ret = KC_EXIT_USAGE;
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			goto out;
		default:
			usage(stderr);
			ret = KC_EXIT_USAGE;
			goto out;
		}
	}
	for (; optind < argc; optind++) {
		if (KC_GROW(paths, pcap, npaths + 1)) {
			cli_error("out of memory");
			ret = KC_EXIT_FATAL;
			goto out;
		}
		paths[npaths++] = argv[optind];
	}
	if (npaths == 0) {
		cli_error("no audit log given (--audit-log PATH)");
		ret = KC_EXIT_USAGE;
		goto out;
	}
	if (count + summary + (stage != NULL) > 1) {
		cli_error("--count, --summary and --stage exclude each other");
		ret = KC_EXIT_USAGE;
		goto out;
	}
	if (malformed != NULL) {
		if (strcmp(malformed, "-") == 0) {
			cli_error("--malformed needs a file name");
			ret = KC_EXIT_USAGE;
			goto out;
		}
		if ((w.out = fopen(malformed, "wx")) == NULL) {
			cli_error("cannot create '%s': %s", malformed, strerror(errno));
			ret = KC_EXIT_USAGE;
			goto out;
		}
	}
	if (records != NULL) {
		if (stage != NULL || strcmp(records, "-") == 0) {
			cli_error("--records needs a file name, and --stage writes audit/records.jsonl itself");
			ret = KC_EXIT_USAGE;
			goto out;
		}
		if ((o.records = fopen(records, "wx")) == NULL) {
			cli_error("cannot create '%s': %s", records, strerror(errno));
			ret = KC_EXIT_USAGE;
			goto out;
		}
	}
	if (stage != NULL) {
		rc = kc_audit_extract(paths, npaths, f, &o, stage, &res);
		if (rc < 0) {
			ret = cli_fail(input_error(rc) ? KC_EXIT_USAGE : KC_EXIT_FATAL, NULL);
			goto out;
		}
		w.n = res.malformed;
	} else {
		static char obuf[1 << 20];

		o.stats = summary;
		if (!count && !summary)
			setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
		rc = kc_audit_scan(paths, npaths, f, &o, (count || summary) ? NULL : stdout,
		    on_malformed, &w, &res);
		if (rc < 0) {
			ret = cli_fail(input_error(rc) ? KC_EXIT_USAGE : KC_EXIT_FATAL, NULL);
			goto out;
		}
		if (count && res.determinable == 0)
			printf("%s\n", KC_NOT_DETERMINABLE);
		else if (count && res.determinable == 2)
			printf("at least %llu\n", (unsigned long long)res.matched);
		else if (count)
			printf("%llu\n", (unsigned long long)res.matched);
		if (summary) {
			if ((sj = cJSON_Print(res.doc)) == NULL) {
				cli_error("out of memory");
				ret = KC_EXIT_FATAL;
				goto out;
			}
			printf("%s\n", sj);
			free(sj);
		}
	}
	if (w.n > WARN_MAX)
		fprintf(stderr, "%s: warning: %llu malformed lines in all (set aside; --malformed FILE lists them)\n",
		    cli_progname, (unsigned long long)w.n);
	else if (stage != NULL && w.n > 0)
		fprintf(stderr, "%s: warning: %llu malformed lines (listed in %s/audit/malformed.jsonl)\n",
		    cli_progname, (unsigned long long)w.n, stage);
	if (res.source_errors > 0)
		fprintf(stderr, "%s: warning: %llu sources could not be read to the end\n",
		    cli_progname, (unsigned long long)res.source_errors);
	if (res.determinable == 0)
		fprintf(stderr, "%s: warning: not determinable from these sources: the question is about reads "
		    "(get, list, watch) and some cluster's sources do not log reads (AKS kube-audit-admin, "
		    "GKE Admin Activity); see reads.blind in --summary\n", cli_progname);
	else if (res.determinable == 2)
		fprintf(stderr, "%s: warning: reads (get, list, watch) of some clusters are not determinable from "
		    "these sources; what matched is a lower bound (see reads.blind in --summary)\n", cli_progname);
	if (w.n > 0 || res.source_errors > 0 || res.determinable != 1)
		ret = KC_EXIT_PARTIAL;
out:
	if (o.records != NULL && fclose(o.records) != 0 && ret == KC_EXIT_OK) {
		cli_error("cannot write '%s': %s", records, strerror(errno));
		ret = KC_EXIT_FATAL;
	}
	if (w.out != NULL && fclose(w.out) != 0 && ret == KC_EXIT_OK) {
		cli_error("cannot write '%s': %s", malformed, strerror(errno));
		ret = KC_EXIT_FATAL;
	}
	cJSON_Delete(res.doc);
	free(paths);
	kc_audit_filter_free(f);
	return ret;
}
