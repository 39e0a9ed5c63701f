/* collect_hooks.c - the analysis steps after collect's lists: agent
 * selection, server rules reviews, the offline RBAC analysis (findings,
 * can-i tables, who-can, inventory) and audit-log segments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/collect_hooks.h"
#include "collector/audit.h"
#include "collector/names.h"
#include "collector/reviews.h"
#include "collector/snapshot.h"
#include "pipeline/analysis.h"
#include "rbac/analyze.h"
#include "rbac/findings.h"
#include "rbac/select.h"
#include "util/err.h"
#include "util/log.h"
#include "util/mem.h"

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
};

enum {
	H_AGENTS, H_SA, H_SELECTOR, H_ALLSAS, H_ALLNS, H_NOREVIEWS, H_PARALLEL,
	H_AUDITLOG, H_SINCE, H_UNTIL, H_NOREDACT, H_AUDITALL, H_AUDITFILTER, H_FAILON,
	H_AUDITFORMAT,
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
	    "                         (default 'agent|kagent|ai'; '' selects none)\n"
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
	    "  --since T, --until T   window (RFC 3339, or a duration such as 72h)\n"
	    "  --audit-all-subjects   keep every subject's events, not only the agents'\n"
	    "  --audit-filter N=V     extra condition as for 'kcustody audit' (repeatable)\n"
	    "  --no-redact            keep secret request/response bodies (recorded)\n";
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

int
collect_hooks_parse(struct collect_hooks *h, int index, const char *arg)
{
	struct hook_state *st = h->rbac;
	const char *slash;

	if (st == NULL) {
		cli_error("out of memory");
		return -1;
	}
	switch (index) {
	case H_AGENTS:
		st->sel.agents = arg;
		return 0;
	case H_SA:
	{
		char ns[256];
		const char *why;

		slash = strchr(arg, '/');
		if (slash == NULL || slash == arg || slash[1] == '\0' || strchr(slash + 1, '/') != NULL) {
			cli_error("--sa wants NAMESPACE/NAME, not '%s'", arg);
			return -1;
		}
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - arg), arg);
		if ((why = kc_name_invalid(KC_NAME_NAMESPACE, ns)) != NULL ||
		    (why = kc_name_invalid(KC_NAME_SERVICEACCOUNT, slash + 1)) != NULL) {
			cli_error("--sa '%s': not a service account name Kubernetes allows (%s)", arg, why);
			return -1;
		}
		return push(&st->sas, &st->nsas, &st->capsas, arg);
	}
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
	{
		long lv;

		if (cli_parse_int(arg, 1, 64, &lv) != 0) {
			cli_error("--review-parallel must be between 1 and 64");
			return -1;
		}
		st->parallel = (int)lv;
		return 0;
	}
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
	case H_FAILON:
		if ((h->fail_on = kc_sev_parse(arg)) <= 0) {
			cli_error("--fail-on wants critical, high, medium, low or info, not '%s'", arg);
			return -1;
		}
		return 0;
	}
	return -1;
}

/* Audit-log segments of the selected agents (or of everyone). */
static int
run_audit(struct hook_state *st, struct kc_collect *co, const struct kc_review_targets *targets)
{
	struct kc_audit_filter *f = NULL;
	struct kc_audit_opts ao;
	struct kc_audit_result res;
	cJSON *a, *item;
	char sa[600];
	int r = 0;

	memset(&ao, 0, sizeof(ao));
	memset(&res, 0, sizeof(res));
	if (!st->audit_all && targets->n == 0) {
		kc_collect_add_item(co, "audit/segment", "skipped",
		    "no agent service account was selected; give --sa, --agents or --audit-all-subjects");
		return 0;
	}
	if ((f = kc_audit_filter_new()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (st->since != NULL && (r = kc_audit_filter_add(f, "since", st->since)) != 0)
		goto out;
	if (st->until != NULL && (r = kc_audit_filter_add(f, "until", st->until)) != 0)
		goto out;
	/* Our own reads are evidence of collection, not of agent activity. */
	if ((r = kc_audit_filter_add(f, "exclude-run", co->run_id)) != 0)
		goto out;
	for (size_t i = 0; !st->audit_all && i < targets->n; i++) {
		snprintf(sa, sizeof(sa), "%s/%s", targets->v[i].sa_ns, targets->v[i].sa_name);
		if ((r = kc_audit_filter_add(f, "sa", sa)) != 0)
			goto out;
	}
	for (size_t i = 0; i < st->nconds; i++) {
		char *c = kc_strdup(st->audit_conds[i]), *eq;

		if (c == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		eq = strchr(c, '=');
		*eq = '\0';
		r = kc_audit_filter_add(f, c, eq + 1);
		free(c);
		if (r != 0)
			goto out;
	}
	ao.no_redact = st->no_redact;
	ao.format = st->audit_format;
	kc_info("extracting audit-log segments");
	if ((r = kc_audit_extract((const char *const *)st->audit_paths, st->naudit, f, &ao,
	    co->staging, &res)) != 0)
		goto out;
	{
		static const char *const names[] = { "audit/segment.jsonl", "audit/malformed.jsonl",
		    "audit/sources.json", "audit/records.jsonl" };
		static const char *const types[] = { "application/x-ndjson", "application/x-ndjson",
		    "application/json", "application/x-ndjson" };

		for (int i = 0; i < (res.records_file ? 4 : 3); i++) {
			cJSON *fe = cJSON_CreateObject();
			cJSON_AddStringToObject(fe, "path", names[i]);
			cJSON_AddStringToObject(fe, "media_type", types[i]);
			cJSON_AddBoolToObject(fe, "derived", 1);
			if (i != 2) {
				cJSON *s = cJSON_AddArrayToObject(fe, "sources");
				cJSON_AddItemToArray(s, cJSON_CreateString("audit/sources.json"));
				if (i == 0 && res.records_file)
					cJSON_AddItemToArray(s, cJSON_CreateString("audit/records.jsonl"));
			}
			/* segment and records: the provider files read (outside
			 * the bundle; audit/sources.json gives each one's SHA-256) */
			if (i == 0 || i == 3) {
				cJSON *s = cJSON_GetObjectItemCaseSensitive(fe, "sources"), *x;

				cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(res.doc, "sources")) {
					const char *pv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "provider"));
					const char *pa = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "path"));

					if (pv != NULL && pa != NULL && strcmp(pv, "native") != 0)
						cJSON_AddItemToArray(s, cJSON_CreateString(pa));
				}
			}
			cJSON_AddItemToArray(co->files, fe);
		}
	}
	a = cJSON_AddObjectToObject(co->manifest, "audit");
	cJSON_AddNumberToObject(a, "sources", (double)res.sources);
	cJSON_AddNumberToObject(a, "lines", (double)res.lines);
	cJSON_AddNumberToObject(a, "matched", (double)res.matched);
	cJSON_AddNumberToObject(a, "malformed", (double)res.malformed);
	cJSON_AddStringToObject(a, "redaction", st->no_redact ? "none (--no-redact)" : "secret bodies replaced by sha256 marker");
	cJSON_AddNumberToObject(a, "redacted", (double)res.redacted);
	cJSON_AddItemToObject(a, "filter", kc_audit_filter_json(f));
	cJSON_AddStringToObject(a, "reads_visible", res.reads_visible == 2 ? "all" : res.reads_visible == 1 ? "some" :
	    res.reads_visible == 0 ? "none" : "no events");
	item = kc_collect_add_item(co, "audit/segment",
	    res.source_errors > 0 || res.reads_visible == 0 || res.reads_visible == 1 ? "partial" : "complete",
	    res.source_errors > 0 ? "some audit sources could not be read to the end (see audit/sources.json)" :
	    res.reads_visible == 0 ? "the audit sources do not log reads (get, list, watch): reads are not determinable "
	    "from these sources (see reads in audit/sources.json)" :
	    res.reads_visible == 1 ? "some clusters' audit sources do not log reads (get, list, watch): their reads are "
	    "not determinable from these sources (see reads in audit/sources.json)" : NULL);
	cJSON_AddNumberToObject(item, "matched", (double)res.matched);
	if (st->no_redact)
		cJSON_AddItemToArray(co->warnings, cJSON_CreateString(
		    "audit lines kept unredacted (--no-redact): secret request/response bodies may be in the bundle"));
out:
	cJSON_Delete(res.doc);
	kc_audit_filter_free(f);
	return r;
}

/* Where the server's names enter the paths of the bundle: the selected
 * service accounts and the namespaces they are reviewed in become
 * reviews/, analysis/effective/ and analysis/can-i/ paths.  Each is
 * checked against its kind's rule here, once; an invalid one is recorded
 * as an anomaly (the run goes on, the bundle is partial) and its files
 * go under a hashed name (collector/names.h). */
static int
check_target_names(struct kc_collect *co, const struct kc_review_targets *targets)
{
	int r;

	for (size_t i = 0; i < targets->n; i++) {
		const struct kc_review_target *t = &targets->v[i];

		if ((r = kc_collect_check_name(co, KC_NAME_NAMESPACE, t->sa_ns)) < 0 ||
		    (r = kc_collect_check_name(co, KC_NAME_SERVICEACCOUNT, t->sa_name)) < 0)
			return r;
		for (size_t j = 0; j < t->nns; j++)
			if ((r = kc_collect_check_name(co, KC_NAME_NAMESPACE, t->namespaces[j])) < 0)
				return r;
	}
	return 0;
}

int
collect_hooks_run(struct collect_hooks *h, struct kc_collect *co)
{
	struct hook_state *st = h->rbac;
	struct kc_review_targets targets;
	struct kc_snapshot snap;
	cJSON *summary = NULL;
	int r, worst = 0;

	memset(&targets, 0, sizeof(targets));
	if (st == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	st->sel.sas = (const char *const *)st->sas;
	st->sel.nsas = st->nsas;
	if ((r = kc_snapshot_load_dir(co->staging, &snap)) != 0)
		return r;
	if ((r = kc_rbac_review_targets(&snap, &st->sel, &targets)) != 0 ||
	    (r = check_target_names(co, &targets)) != 0)
		goto out;
	if (st->no_reviews) {
		kc_collect_add_item(co, "reviews", "skipped", "--no-reviews");
	} else if (targets.n > 0) {
		kc_info("server rules reviews for %zu service account(s)", targets.n);
		if ((r = kc_reviews_collect(co, &targets, st->parallel)) != 0)
			goto out;
	}
	kc_info("offline RBAC analysis");
	if ((r = kc_analysis_run_snap(co->staging, &snap, &st->sel, co->files, &summary, &worst)) != 0)
		goto out;
	h->worst_severity = worst;
	if (summary != NULL) {
		cJSON_AddItemToObject(co->manifest, "findings_summary", summary);
		summary = NULL;	/* transferred */
	}
	if (st->naudit > 0 && (r = run_audit(st, co, &targets)) != 0)
		goto out;
out:
	cJSON_Delete(summary);
	kc_review_targets_free(&targets);
	kc_snapshot_free(&snap);
	return r;
}

int
collect_hooks_exit(struct collect_hooks *h, struct kc_collect *co, int ret)
{
	(void)co;
	if (h->fail_on > 0 && h->worst_severity >= h->fail_on && ret == KC_EXIT_OK) {
		cli_error("a finding of severity %s or worse was found (--fail-on %s)",
		    kc_sev_name(h->worst_severity), kc_sev_name(h->fail_on));
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
