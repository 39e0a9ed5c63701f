/* collect_hooks.c - the options of collect's analysis steps (agent
 * selection, server rules reviews, the offline RBAC analysis, audit-log
 * segments): parsed here, run by pipeline/collect.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/collect_hooks.h"
#include "collector/audit.h"
#include "collector/names.h"
#include "manifest/sign.h"
#include "rbac/findings.h"
#include "rbac/select.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/mem.h"
#include "util/timeutil.h"

struct hook_state {
	struct kc_select_opts sel;
	char **sas;		/* --sa NS/NAME */
	size_t nsas, capsas;
	int no_reviews;
	int parallel;
	char **audit_paths;	/* --audit-log */
	size_t naudit, capaudit;
	const char *since, *until;
	int no_redact;
	int audit_all;		/* every event, not only the agents' */
	char **audit_conds;	/* --audit-filter NAME=VALUE */
	size_t nconds, capconds;
	int audit_format;	/* --audit-format: KC_AUDIT_PROV_*, 0 auto */
	int no_logs;		/* --no-logs */
	size_t log_limit;	/* --log-limit */
	long log_timeout;	/* --log-timeout */
	const char *chain_pubkey;	/* --audit-chain-pubkey */
};

enum {
	H_AGENTS, H_SA, H_SELECTOR, H_ALLSAS, H_ALLNS, H_NOREVIEWS, H_PARALLEL,
	H_AUDITLOG, H_SINCE, H_UNTIL, H_NOREDACT, H_AUDITALL, H_AUDITFILTER, H_FAILON,
	H_AUDITFORMAT, H_NOLOGS, H_LOGLIMIT, H_LOGTIMEOUT, H_CHAINPUB,
};

static const struct option hook_opts[] = {
	[H_AGENTS] = { "agents", required_argument, NULL, 0 },
	[H_SA] = { "sa", required_argument, NULL, 0 },
	[H_SELECTOR] = { "agent-selector", required_argument, NULL, 0 },
	[H_ALLSAS] = { "all-sas", no_argument, NULL, 0 },
	[H_ALLNS] = { "all-namespaces", no_argument, NULL, 0 },
	[H_NOREVIEWS] = { "no-reviews", no_argument, NULL, 0 },
	[H_PARALLEL] = { "review-parallel", required_argument, NULL, 0 },
	[H_AUDITLOG] = { "audit-log", required_argument, NULL, 0 },
	[H_SINCE] = { "since", required_argument, NULL, 0 },
	[H_UNTIL] = { "until", required_argument, NULL, 0 },
	[H_NOREDACT] = { "no-redact", no_argument, NULL, 0 },
	[H_AUDITALL] = { "audit-all-subjects", no_argument, NULL, 0 },
	[H_AUDITFILTER] = { "audit-filter", required_argument, NULL, 0 },
	[H_FAILON] = { "fail-on", required_argument, NULL, 0 },
	[H_AUDITFORMAT] = { "audit-format", required_argument, NULL, 0 },
	[H_NOLOGS] = { "no-logs", no_argument, NULL, 0 },
	[H_LOGLIMIT] = { "log-limit", required_argument, NULL, 0 },
	[H_LOGTIMEOUT] = { "log-timeout", required_argument, NULL, 0 },
	[H_CHAINPUB] = { "audit-chain-pubkey", required_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 },
};

void
collect_hooks_init(struct collect_hooks *h)
{
	struct hook_state *st;

	memset(h, 0, sizeof(*h));
	if ((st = kc_calloc(1, sizeof(*st))) != NULL)
		st->parallel = 8;
	h->rbac = st;
}

const char *
collect_hooks_usage(void)
{
	return "Agents and effective permissions:\n"
	    "  --agents REGEX         agent service accounts by name parts of NS/NAME\n"
	    "                         (default 'agent|kagent|ai'; '' selects none); the\n"
	    "                         accounts kagent Agents run as are agents anyway\n"
	    "  --sa NS/NAME           this service account too (repeatable)\n"
	    "  --agent-selector SEL   accounts of pods matching a label selector\n"
	    "  --all-sas              every service account\n"
	    "  --all-namespaces       review every namespace, not only those where\n"
	    "                         an account holds a binding and its own\n"
	    "  --no-reviews           skip the server-side rules reviews\n"
	    "  --review-parallel N    reviews in flight at once (default 8)\n"
	    "  --fail-on SEVERITY     exit 1 when a finding is this severe or worse\n"
	    "                         (critical, high, medium, low, info)\n"
	    "Audit logs:\n"
	    "  --audit-log PATH       API-server audit log file, folder or '-' (repeatable);\n"
	    "                         rotated and gzip'd backups are found beside it;\n"
	    "                         EKS, GKE and AKS exports are read too\n"
	    "  --audit-format F       native, eks, gke, aks or auto (default: per file)\n"
	    "  --audit-chain-pubkey K an audit-sink folder's key: its signed chain is\n"
	    "                         checked into audit/sources.json; the window's records\n"
	    "                         and segments are copied to audit/chain/ (with K as\n"
	    "                         sink.pub when given; docs/AUDIT_SINK.md)\n"
	    "  --since T, --until T   window (RFC 3339, or a duration such as 72h)\n"
	    "  --audit-all-subjects   keep every subject's events, not only the agents'\n"
	    "  --audit-filter N=V     extra condition as for 'kcustody audit' (repeatable)\n"
	    "  --no-redact            keep secret request/response bodies (recorded)\n"
	    "Agent pod logs (every container of the selected agents' pods, through pods/log):\n"
	    "  --since T              also the logs' window (default: all the kubelet keeps)\n"
	    "  --log-limit SIZE       per container log, larger ones cut and recorded\n"
	    "                         (default 10M; K, M or G; 1K to 1G)\n"
	    "  --log-timeout SECONDS  per log request, a hanging kubelet included (default 30)\n"
	    "  --no-logs              collect no pod logs\n";
}

size_t
collect_hooks_options(struct option *out, size_t max, int base)
{
	size_t n = 0;

	for (; hook_opts[n].name != NULL && n < max; n++) {
		out[n] = hook_opts[n];
		out[n].val = base + (int)n;
	}
	memset(&out[n], 0, sizeof(out[n]));
	return n;
}

static int
push(char ***v, size_t *n, size_t *cap, const char *s)
{
	if (KC_GROW(*v, *cap, *n + 1) != 0 || ((*v)[*n] = kc_strdup(s)) == NULL) {
		cli_error("out of memory");
		return -1;
	}
	(*n)++;
	return 0;
}

/* --sa NAMESPACE/NAME, each part a name Kubernetes allows. */
static int
parse_sa(struct hook_state *st, const char *arg)
{
	const char *slash = strchr(arg, '/'), *why;
	char ns[256];

	if (slash == NULL || slash == arg || slash[1] == '\0' || strchr(slash + 1, '/') != NULL) {
		cli_error("--sa wants NAMESPACE/NAME, not '%s'", arg);
		return -1;
	}
	/* a cut namespace would still be a valid name, of another namespace */
	if (kc_fmt(ns, sizeof(ns), "%.*s", (int)(slash - arg), arg) != 0) {
		cli_error("--sa '%s': the namespace is longer than %zu bytes", arg, sizeof(ns) - 1);
		return -1;
	}
	if ((why = kc_name_invalid(KC_NAME_NAMESPACE, ns)) != NULL ||
	    (why = kc_name_invalid(KC_NAME_SERVICEACCOUNT, slash + 1)) != NULL) {
		cli_error("--sa '%s': not a service account name Kubernetes allows (%s)", arg, why);
		return -1;
	}
	return push(&st->sas, &st->nsas, &st->capsas, arg);
}

int
collect_hooks_parse(struct collect_hooks *h, int index, const char *arg)
{
	struct hook_state *st = h->rbac;
	long lv;

	if (st == NULL) {
		cli_error("out of memory");
		return -1;
	}
	switch (index) {
	case H_AGENTS:
		st->sel.agents = arg;
		return 0;
	case H_SA:
		return parse_sa(st, arg);
	case H_SELECTOR:
		st->sel.agent_selector = arg;
		return 0;
	case H_ALLSAS:
		st->sel.all_sas = 1;
		return 0;
	case H_ALLNS:
		st->sel.all_namespaces = 1;
		return 0;
	case H_NOREVIEWS:
		st->no_reviews = 1;
		return 0;
	case H_PARALLEL:
		if (cli_parse_int(arg, 1, 64, &lv) != 0) {
			cli_error("--review-parallel must be between 1 and 64");
			return -1;
		}
		st->parallel = (int)lv;
		return 0;
	case H_AUDITLOG:
		return push(&st->audit_paths, &st->naudit, &st->capaudit, arg);
	case H_SINCE:
		st->since = arg;
		return 0;
	case H_UNTIL:
		st->until = arg;
		return 0;
	case H_NOREDACT:
		st->no_redact = 1;
		return 0;
	case H_AUDITALL:
		st->audit_all = 1;
		return 0;
	case H_AUDITFILTER:
		if (strchr(arg, '=') == NULL) {
			cli_error("--audit-filter wants NAME=VALUE, not '%s'", arg);
			return -1;
		}
		return push(&st->audit_conds, &st->nconds, &st->capconds, arg);
	case H_AUDITFORMAT:
		if ((st->audit_format = kc_audit_format_parse(arg)) < 0) {
			cli_error("--audit-format wants native, eks, gke, aks or auto, not '%s'", arg);
			return -1;
		}
		return 0;
	case H_NOLOGS:
		st->no_logs = 1;
		return 0;
	case H_LOGLIMIT: {
		char *end;
		unsigned long long v = strtoull(arg, &end, 10);

		if (end != arg && (*end == 'K' || *end == 'k')) v <<= 10, end++;
		else if (end != arg && *end == 'M') v <<= 20, end++;
		else if (end != arg && *end == 'G') v <<= 30, end++;
		if (end == arg || *end != '\0' || arg[0] == '-' || v < 1024 || v > (1ULL << 30)) {
			cli_error("--log-limit wants a size between 1K and 1G, not '%s'", arg);
			return -1;
		}
		st->log_limit = (size_t)v;
		return 0;
	}
	case H_LOGTIMEOUT:
		if (cli_parse_int(arg, 1, 3600, &lv) != 0) {
			cli_error("--log-timeout must be between 1 and 3600 seconds");
			return -1;
		}
		st->log_timeout = lv;
		return 0;
	case H_CHAINPUB:
		if (kc_trust_file_check(arg, 0) != 0) {
			cli_error("--audit-chain-pubkey: %s", kc_err_msg());
			return -1;
		}
		st->chain_pubkey = arg;
		return 0;
	case H_FAILON:
		if ((h->fail_on = kc_sev_parse(arg)) <= 0) {
			cli_error("--fail-on wants critical, high, medium, low or info, not '%s'", arg);
			return -1;
		}
		return 0;
	}
	return -1;
}

int
collect_hooks_plan(const struct collect_hooks *h, struct kc_collect_plan *plan)
{
	const struct hook_state *st = h->rbac;

	if (st == NULL) {
		cli_error("out of memory");
		return -1;
	}
	plan->select = st->sel;
	plan->select.sas = (const char *const *)st->sas;
	plan->select.nsas = st->nsas;
	plan->no_reviews = st->no_reviews;
	plan->review_parallel = st->parallel;
	plan->audit.paths = (const char *const *)st->audit_paths;
	plan->audit.npaths = st->naudit;
	plan->audit.since = st->since;
	plan->audit.until = st->until;
	plan->audit.all_subjects = st->audit_all;
	plan->audit.conds = (const char *const *)st->audit_conds;
	plan->audit.nconds = st->nconds;
	plan->audit.no_redact = st->no_redact;
	plan->audit.format = st->audit_format;
	plan->no_logs = st->no_logs;
	plan->logs.since = st->since;
	plan->logs.limit_bytes = st->log_limit;
	plan->logs.timeout_s = st->log_timeout;
	if (st->since != NULL) {
		int64_t secs;
		time_t t;
		long ns;

		if (kc_parse_duration(st->since, &secs) != 0 && kc_parse_rfc3339(st->since, &t, &ns) != 0) {
			cli_error("--since wants an RFC 3339 time or a duration such as 72h, not '%s'", st->since);
			return -2;
		}
	}
	plan->audit.chain_pubkey = st->chain_pubkey;
	return 0;
}

int
collect_hooks_exit(const struct collect_hooks *h, int worst_severity, int ret)
{
	if (h->fail_on > 0 && worst_severity >= h->fail_on && ret == KC_EXIT_OK) {
		cli_error("a finding of severity %s or worse was found (--fail-on %s)",
		    kc_sev_name(worst_severity), kc_sev_name(h->fail_on));
		return KC_EXIT_PARTIAL;
	}
	return ret;
}

void
collect_hooks_free(struct collect_hooks *h)
{
	struct hook_state *st = h->rbac;

	if (st != NULL) {
		for (size_t i = 0; i < st->nsas; i++)
			free(st->sas[i]);
		for (size_t i = 0; i < st->naudit; i++)
			free(st->audit_paths[i]);
		for (size_t i = 0; i < st->nconds; i++)
			free(st->audit_conds[i]);
		free(st->sas);
		free(st->audit_paths);
		free(st->audit_conds);
		free(st);
	}
	h->rbac = NULL;
}
