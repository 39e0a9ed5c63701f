/* collect.c - the collect pipeline (collect.h): list, select, review,
 * analyse, audit segments, then seal or write the evidence folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/audit.h"
#include "collector/names.h"
#include "collector/podlogs.h"
#include "collector/reviews.h"
#include "collector/snapshot.h"
#include "manifest/ledger.h"
#include "pipeline/analysis.h"
#include "pipeline/collect.h"
#include "pipeline/exports.h"
#include "rbac/analyze.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strset.h"
#include "util/timeutil.h"

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
			*s = '-';
}

/* The audit filter: the window, not our own reads, the agents (unless
 * every subject), the extra conditions. */
static int
audit_filter(const struct kc_collect_audit_plan *ap, const struct kc_collect *co,
    const struct kc_review_targets *targets, struct kc_audit_filter **out)
{
	struct kc_audit_filter *f;
	char sa[600];
	int r = 0;

	if ((f = kc_audit_filter_new()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (ap->since != NULL && (r = kc_audit_filter_add(f, "since", ap->since)) != 0)
		goto out;
	if (ap->until != NULL && (r = kc_audit_filter_add(f, "until", ap->until)) != 0)
		goto out;
	/* Our own reads are evidence of collection, not of agent activity. */
	if ((r = kc_audit_filter_add(f, "exclude-run", co->run_id)) != 0)
		goto out;
	for (size_t i = 0; !ap->all_subjects && i < targets->n; i++) {
		/* a cut "ns/name" would filter for another account: whole or an error */
		if ((r = kc_fmt(sa, sizeof(sa), "%s/%s", targets->v[i].sa_ns, targets->v[i].sa_name)) != 0 ||
		    (r = kc_audit_filter_add(f, "sa", sa)) != 0)
			goto out;
	}
	for (size_t i = 0; i < ap->nconds; i++) {
		char *c = kc_strdup(ap->conds[i]), *eq;

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
out:
	if (r != 0)
		kc_audit_filter_free(f);
	else
		*out = f;
	return r;
}

/* The manifest "files" entries of the audit members. */
static void
audit_files(struct kc_collect *co, const struct kc_audit_result *res)
{
	static const char *const names[] = { "audit/segment.jsonl", "audit/malformed.jsonl",
	    "audit/sources.json", "audit/records.jsonl" };
	static const char *const types[] = { "application/x-ndjson", "application/x-ndjson",
	    "application/json", "application/x-ndjson" };

	for (int i = 0; i < (res->records_file ? 4 : 3); i++) {
		cJSON *fe = cJSON_CreateObject();
		cJSON_AddStringToObject(fe, "path", names[i]);
		cJSON_AddStringToObject(fe, "media_type", types[i]);
		cJSON_AddBoolToObject(fe, "derived", 1);
		if (i != 2) {
			cJSON *s = cJSON_AddArrayToObject(fe, "sources");
			cJSON_AddItemToArray(s, cJSON_CreateString("audit/sources.json"));
			if (i == 0 && res->records_file)
				cJSON_AddItemToArray(s, cJSON_CreateString("audit/records.jsonl"));
		}
		/* segment and records: the provider files read (outside
		 * the bundle; audit/sources.json gives each one's SHA-256) */
		if (i == 0 || i == 3) {
			cJSON *s = kc_json_get_mut(fe, "sources"), *x;

			cJSON_ArrayForEach(x, kc_json_get(res->doc, "sources")) {
				const char *pv = kc_json_str(x, "provider");
				const char *pa = kc_json_str(x, "path");

				if (pv != NULL && pa != NULL && strcmp(pv, "native") != 0)
					cJSON_AddItemToArray(s, cJSON_CreateString(pa));
			}
		}
		cJSON_AddItemToArray(co->files, fe);
	}
}

/* The manifest "audit" object and the audit/segment item. */
static void
audit_record(struct kc_collect *co, const struct kc_collect_audit_plan *ap,
    const struct kc_audit_filter *f, const struct kc_audit_result *res)
{
	cJSON *a, *item;
	const cJSON *ch, *chains = kc_json_get(res->doc, "chains");
	const char *broken = NULL;

	a = cJSON_AddObjectToObject(co->manifest, "audit");
	cJSON_AddNumberToObject(a, "sources", (double)res->sources);
	cJSON_AddNumberToObject(a, "lines", (double)res->lines);
	cJSON_AddNumberToObject(a, "matched", (double)res->matched);
	cJSON_AddNumberToObject(a, "malformed", (double)res->malformed);
	cJSON_AddStringToObject(a, "redaction", ap->no_redact ? "none (--no-redact)" : "secret bodies replaced by sha256 marker");
	cJSON_AddNumberToObject(a, "redacted", (double)res->redacted);
	cJSON_AddItemToObject(a, "filter", kc_audit_filter_json(f));
	cJSON_AddStringToObject(a, "reads_visible", res->reads_visible == 2 ? "all" : res->reads_visible == 1 ? "some" :
	    res->reads_visible == 0 ? "none" : "no events");
	/* audit-sink folders read: how their continuity stands (the whole
	 * report is in audit/sources.json "chains") */
	if (chains != NULL) {
		cJSON *cont = cJSON_AddArrayToObject(a, "continuity");

		cJSON_ArrayForEach(ch, chains) {
			cJSON *c = cJSON_CreateObject();

			cJSON_AddStringToObject(c, "folder", kc_json_str0(ch, "folder"));
			cJSON_AddStringToObject(c, "continuity", kc_json_str0(ch, "continuity"));
			cJSON_AddStringToObject(c, "key", kc_json_str0(ch, "key"));
			cJSON_AddItemToArray(cont, c);
			if (strcmp(kc_json_str0(ch, "result"), "tampered") == 0)
				broken = "an audit-sink chain does not verify (see chains in audit/sources.json)";
		}
	}
	item = kc_collect_add_item(co, "audit/segment",
	    broken != NULL || res->source_errors > 0 || res->reads_visible == 0 || res->reads_visible == 1 ? "partial" : "complete",
	    broken != NULL ? broken :
	    res->source_errors > 0 ? "some audit sources could not be read to the end (see audit/sources.json)" :
	    res->reads_visible == 0 ? "the audit sources do not log reads (get, list, watch): reads are not determinable "
	    "from these sources (see reads in audit/sources.json)" :
	    res->reads_visible == 1 ? "some clusters' audit sources do not log reads (get, list, watch): their reads are "
	    "not determinable from these sources (see reads in audit/sources.json)" : NULL);
	cJSON_AddNumberToObject(item, "matched", (double)res->matched);
	if (ap->no_redact)
		cJSON_AddItemToArray(co->warnings, cJSON_CreateString(
		    "audit lines kept unredacted (--no-redact): secret request/response bodies may be in the bundle"));
}

/* The audit-sink chain of each sink folder whose chain verified, for the
 * window, into audit/chain/<n>/ (docs/FORMAT.md); the manifest's
 * audit.continuity entry says what was copied ("bundled"). */
static int
audit_chains(struct kc_collect *co, const struct kc_collect_audit_plan *ap,
    const struct kc_audit_filter *f, const struct kc_audit_result *res)
{
	const cJSON *ch;
	cJSON *cont = kc_json_get_mut(kc_json_get_mut(co->manifest, "audit"), "continuity"), *c;
	int i = 0, r;

	c = cont != NULL ? cont->child : NULL;
	cJSON_ArrayForEach(ch, kc_json_get(res->doc, "chains")) {
		cJSON *sum = NULL;
		char id[24];

		i++;
		if (strcmp(kc_json_str0(ch, "result"), "tampered") == 0) {
			sum = cJSON_CreateObject();
			cJSON_AddStringToObject(sum, "notCopied", "the chain does not verify");
		} else {
			kc_fmt_trunc(id, sizeof(id), "%d", i);
			if ((r = kc_audit_chain_copy(kc_json_str0(ch, "folder"), id, f, ap->chain_pubkey, ap->no_redact, ch,
			    co->staging, &sum)) != 0)
				return r;
		}
		/* CHAIN.json is kcustody's account of the copy (derived); the
		 * records and segments are the sink's bytes (not derived) */
		if (sum != NULL && kc_json_get(sum, "segments") != NULL) {
			cJSON *fe = cJSON_CreateObject(), *srcs;
			char path[96];

			kc_fmt_trunc(path, sizeof(path), "%s/CHAIN.json", kc_json_str0(sum, "path"));
			cJSON_AddStringToObject(fe, "path", path);
			cJSON_AddStringToObject(fe, "media_type", "application/json");
			cJSON_AddBoolToObject(fe, "derived", 1);
			srcs = cJSON_AddArrayToObject(fe, "sources");
			cJSON_AddItemToArray(srcs, cJSON_CreateString(kc_json_str0(ch, "folder")));
			cJSON_AddItemToArray(co->files, fe);
		}
		if (c != NULL) {
			cJSON_AddItemToObject(c, "bundled", sum);
			c = c->next;
		} else {
			cJSON_Delete(sum);
		}
	}
	return 0;
}

/* Audit-log segments of the selected agents (or of everyone). */
static int
run_audit(const struct kc_collect_audit_plan *ap, struct kc_collect *co,
    const struct kc_review_targets *targets)
{
	struct kc_audit_filter *f = NULL;
	struct kc_audit_opts ao;
	struct kc_audit_result res;
	int r;

	memset(&ao, 0, sizeof(ao));
	memset(&res, 0, sizeof(res));
	if (!ap->all_subjects && targets->n == 0) {
		kc_collect_add_item(co, "audit/segment", "skipped",
		    "no agent service account was selected; give --sa, --agents or --audit-all-subjects");
		return 0;
	}
	if ((r = audit_filter(ap, co, targets, &f)) != 0)
		return r;
	ao.no_redact = ap->no_redact;
	ao.chain_pubkey = ap->chain_pubkey;
	ao.format = ap->format;
	kc_info("extracting audit-log segments");
	if ((r = kc_audit_extract(ap->paths, ap->npaths, f, &ao, co->staging, &res)) == 0) {
		audit_files(co, &res);
		audit_record(co, ap, f, &res);
		r = audit_chains(co, ap, f, &res);
	}
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

static const char *const phase_names[KC_PHASE_N] = {
	[KC_PHASE_LISTS] = "lists", [KC_PHASE_SELECT] = "select",
	[KC_PHASE_EXPORTS] = "exports", [KC_PHASE_REVIEWS] = "reviews",
	[KC_PHASE_LOGS] = "logs", [KC_PHASE_ANALYSIS] = "analysis",
	[KC_PHASE_AUDIT] = "audit", [KC_PHASE_SEAL] = "seal",
};

const char *
kc_collect_phase_name(enum kc_collect_phase ph)
{
	return ph < KC_PHASE_N ? phase_names[ph] : "?";
}

/* A step's stopwatch: the clocks and the request log's length at its start. */
struct stopwatch {
	int64_t wall, cpu;
	int nreq;
	int process;	/* CPU of every thread: the lists, which run on
			 * several (collector/collect.c) before any other */
};

static const cJSON *
request_log(const struct kc_collect *co)
{
	return co->client != NULL ? kc_client_request_log(co->client) : NULL;
}

static void
sw_start(const struct kc_collect *co, struct stopwatch *sw)
{
	const cJSON *log = request_log(co);

	sw->wall = kc_mono_ns();
	sw->process = 0;
	sw->cpu = kc_thread_cpu_ns();	/* the exports' thread has its own row */
	sw->nreq = log != NULL ? cJSON_GetArraySize(log) : 0;
}

/* The step's figures, added to t (a step may run in parts). */
static void
sw_stop(const struct kc_collect *co, const struct stopwatch *sw, struct kc_collect_timing *t)
{
	const cJSON *log = request_log(co), *e;

	t->ran = 1;
	t->wall_ns += kc_mono_ns() - sw->wall;
	t->cpu_ns += (sw->process ? kc_cpu_ns() : kc_thread_cpu_ns()) - sw->cpu;
	t->peak_rss_kib = kc_peak_rss_kib();
	if (log == NULL)
		return;
	for (e = cJSON_GetArrayItem(log, sw->nreq); e != NULL; e = e->next) {
		const cJSON *d = kc_json_get(e, "duration_ms"), *b = kc_json_get(e, "bytes");

		t->requests++;
		if (cJSON_IsNumber(d))
			t->request_ms += d->valuedouble;
		if (cJSON_IsNumber(b))
			t->bytes += b->valuedouble;
	}
}

/* kc_snapshot_hydrate_pods: the pods of the review targets (the accounts
 * the selection picked: the pod logs and the analysis look up their pods
 * only, and read them whole; the analysis selects the same accounts from
 * the snapshot, --agent-selector from the pods it keeps: every pod that
 * matches runs as a selected account) */
static int
target_wanted(void *ctx, const char *ns, const char *name)
{
	const struct kc_strset *keys = ctx;
	struct kc_buf k = KC_BUF_INIT(1u << 20);
	int has;

	/* a key that cannot be made is taken as wanted: a pod read whole
	 * that no one looks up changes nothing, a missing one would */
	has = kc_buf_addf(&k, "%s\x1f%s", ns, name) != 0 || kc_strset_has(keys, kc_buf_str(&k));
	kc_buf_free(&k);
	return has;
}

static int
hydrate_target_pods(struct kc_snapshot *snap, const char *dir, const struct kc_review_targets *targets)
{
	struct kc_strset keys;
	struct kc_buf k = KC_BUF_INIT(1u << 20);
	int r = 0;

	memset(&keys, 0, sizeof(keys));
	for (size_t i = 0; i < targets->n && r == 0; i++) {
		kc_buf_reset(&k);
		if ((r = kc_buf_addf(&k, "%s\x1f%s", targets->v[i].sa_ns, targets->v[i].sa_name)) == 0)
			r = kc_strset_add(&keys, kc_buf_str(&k));
	}
	kc_buf_free(&k);
	if (r == 0)
		r = kc_snapshot_hydrate_pods(snap, dir, targets->n > 0 ? target_wanted : NULL, &keys);
	kc_strset_free(&keys);
	return r;
}

/* Wait for the exports (cancel: the collection failed) and give them their
 * --timings row; the exports' own failure, raised again here, or 0. */
static int
exports_join(struct kc_collect *co, struct kc_exports_job *ex, int cancel, size_t at,
    struct kc_collect_timing *tm)
{
	struct kc_collect_timing *t = &tm[KC_PHASE_EXPORTS];
	int64_t wall = 0, cpu = 0;
	int rx = kc_exports_finish(co, ex, cancel, at, &wall, &cpu);

	t->ran = 1;
	t->beside = 1;
	t->wall_ns += wall;
	t->cpu_ns += cpu;
	t->peak_rss_kib = kc_peak_rss_kib();
	return rx;
}

/* After the lists: selection, reviews, analysis, audit segments. */
static int
run_analysis(const struct kc_collect_plan *p, struct kc_collect *co, int *worst,
    struct kc_collect_timing *tm, struct kc_exports_job *ex)
{
	struct stopwatch sw;

	struct kc_review_targets targets;
	struct kc_snapshot snap;
	struct kc_rbac rb;
	size_t ex_at;
	cJSON *summary = NULL;
	int r, rx;

	memset(&targets, 0, sizeof(targets));
	memset(&rb, 0, sizeof(rb));
	/* the YAML exports (started before the lists, each following its
	 * list's pages: kc_exports_start_follow) read the raw pages only, on
	 * a thread of their own beside the lists and the model's load, and
	 * are waited for before the evaluator is built (issue 11: the last
	 * pod pages' exports, 4-5 MiB of buffers, were still running beside
	 * it and set the peak at 150k objects; the wait, within select's
	 * row, is what they lag the lists); their members are noted where
	 * they were when they were written first (after the lists') */
	ex_at = (size_t)cJSON_GetArraySize(co->files);
	sw_start(co, &sw);
	/* the reduced model (collector/snapshot.h): pods only for
	 * --agent-selector, and reduced; the pods of the selected accounts
	 * are read whole once the selection is made */
	if ((r = kc_snapshot_load_dir_level(co->staging, &snap,
	    p->select.agent_selector != NULL ? KC_SNAP_MODEL_PODS : KC_SNAP_MODEL)) != 0) {
		/* the model's error, as when the exports waited for it: kept
		 * over one the stopped exports may raise */
		struct kc_err_saved e;

		kc_err_save(&e);
		(void)exports_join(co, ex, 1, ex_at, tm);
		return kc_err_restore(&e, r);
	}
	r = exports_join(co, ex, 0, ex_at, tm);
	ex = NULL;	/* joined */
	if (r != 0)
		goto out;
	/* one evaluator for the targets and the analysis (issue 11: built
	 * twice, 0.3 s of CPU at 150k objects); the records it copied are
	 * let go once it is built */
	if ((r = kc_rbac_init(&rb, &snap)) != 0 || (r = kc_snapshot_release_rbac(&snap)) != 0 ||
	    (r = kc_rbac_review_targets(&snap, &rb, &p->select, &targets)) != 0 ||
	    (r = check_target_names(co, &targets)) != 0 ||
	    (r = hydrate_target_pods(&snap, co->staging, &targets)) != 0)
		goto out;
	sw_stop(co, &sw, &tm[KC_PHASE_SELECT]);
	if (p->no_reviews) {
		kc_collect_add_item(co, "reviews", "skipped", "--no-reviews");
	} else if (targets.n > 0) {
		kc_info("server rules reviews for %zu service account(s)", targets.n);
		sw_start(co, &sw);
		if ((r = kc_reviews_collect(co, &targets, p->review_parallel)) != 0)
			goto out;
		sw_stop(co, &sw, &tm[KC_PHASE_REVIEWS]);
	}
	if (p->no_logs) {
		kc_collect_add_item(co, "logs", "skipped", "--no-logs");
	} else if (targets.n == 0) {
		kc_collect_add_item(co, "logs", "skipped",
		    "no agent service account was selected; give --sa, --agents or --all-sas");
	} else {
		cJSON *ls = NULL;

		kc_info("pod logs of the selected agents' pods");
		sw_start(co, &sw);
		if ((r = kc_podlogs_collect(co, &snap, &targets, &p->logs)) != 0 ||
		    (r = kc_analysis_log_summary(co->staging, co->files, &ls)) != 0)
			goto out;
		sw_stop(co, &sw, &tm[KC_PHASE_LOGS]);
		if (ls != NULL && !cJSON_AddItemToObject(kc_json_get_mut(co->manifest, "pod_logs"), "authz_errors", ls))
			cJSON_Delete(ls);
	}
	kc_info("offline RBAC analysis");
	sw_start(co, &sw);
	if ((r = kc_analysis_run_snap(co->staging, &snap, &rb, &p->select, co->files, &summary, worst)) != 0)
		goto out;
	if (summary != NULL) {
		cJSON_AddItemToObject(co->manifest, "findings_summary", summary);
		summary = NULL;	/* transferred */
	}
	sw_stop(co, &sw, &tm[KC_PHASE_ANALYSIS]);
	if (p->audit.npaths > 0) {
		sw_start(co, &sw);
		if ((r = run_audit(&p->audit, co, &targets)) != 0)
			goto out;
		sw_stop(co, &sw, &tm[KC_PHASE_AUDIT]);
	}
out:
	/* (joined above unless the run failed before: then stopped here) */
	if (ex != NULL && (rx = exports_join(co, ex, r != 0, ex_at, tm)) != 0)
		r = rx;
	cJSON_Delete(summary);
	kc_review_targets_free(&targets);
	kc_rbac_free(&rb);	/* before the snapshot it reads */
	kc_snapshot_free(&snap);
	return r;
}

static int
fail(struct kc_collect_outcome *out, enum kc_collect_step step, int err)
{
	out->failed = step;
	out->err = err;
	return err;
}

/* Stage next to the destination so the final rename stays on one file
 * system, under a name that cannot be mistaken for evidence. */
static int
make_staging(const struct kc_collect_plan *p, struct kc_collect_outcome *out)
{
	const char *o = p->output;

	if (p->out_dir != NULL)
		out->dir = kc_dirname(p->out_dir);
	else if (o == NULL || is_dir(o) || o[strlen(o) - 1] == '/')
		out->dir = kc_strdup(o ? o : ".");
	else
		out->dir = kc_dirname(o);
	if (out->dir != NULL) {
		size_t dl = strlen(out->dir);
		while (dl > 1 && out->dir[dl - 1] == '/')
			out->dir[--dl] = '\0';
	}
	if (out->dir == NULL || asprintf(&out->staging, "%s/.kcustody-staging.XXXXXX", out->dir) < 0) {
		out->staging = NULL;
		return fail(out, KC_COLLECT_NOMEM, kc_err_set(KC_ERR_NOMEM, "out of memory"));
	}
	if (mkdtemp(out->staging) == NULL) {
		out->sys_errno = errno;
		free(out->staging);
		out->staging = NULL;
		return fail(out, KC_COLLECT_STAGING, kc_err_set(KC_ERR_IO,
		    "cannot create a staging folder: %s", strerror(out->sys_errno)));
	}
	return 0;
}

/* --out-dir: MANIFEST.json written unsealed, the folder renamed. */
static int
write_folder(const struct kc_collect_plan *p, struct kc_collect_outcome *out, int *staged)
{
	char *text;
	int r;

	if ((text = cJSON_Print(out->co.manifest)) == NULL) {
		kc_err_set(KC_ERR_NOMEM, "out of memory");
		return fail(out, KC_COLLECT_MANIFEST, KC_ERR_NOMEM);
	}
	r = kc_collect_add_file(&out->co, "MANIFEST.json", text, strlen(text), "application/json", 1, NULL);
	free(text);
	if (r != 0)
		return fail(out, KC_COLLECT_MANIFEST, r);
	if (rename(out->staging, p->out_dir) != 0) {
		out->sys_errno = errno;
		return fail(out, KC_COLLECT_RENAME, kc_err_set(KC_ERR_IO, "cannot rename: %s",
		    strerror(out->sys_errno)));
	}
	*staged = 0;
	if ((out->path = kc_strdup(p->out_dir)) == NULL)
		return fail(out, KC_COLLECT_MANIFEST, KC_ERR_NOMEM);
	return 0;
}

/* The bundle's path: the name given, or CASE_PHASE_CLUSTER_TIME.tar.gz in
 * the folder given.  The cluster part is the kubeconfig's cluster name
 * when it has one; else (in-cluster) the first characters of the
 * kube-system namespace UID. */
static char *
bundle_path(const struct kc_collect_plan *p, const struct kc_collect *co, const char *dir)
{
	const char *o = p->output;
	char tbuf[32], cname[64], name[256], caseid[96], *path;

	if (!(o == NULL || is_dir(o) || o[strlen(o) - 1] == '/')) {
		if ((path = kc_strdup(o)) == NULL)
			kc_err_set(KC_ERR_NOMEM, "out of memory");
		return path;
	}
	/* the cluster and case parts of a default file name are shortened on
	 * purpose (both are recorded whole in the manifest); the name is whole */
	kc_fmt_trunc(cname, sizeof(cname), "%s", co->cfg->cluster_name && co->cfg->cluster_name[0] &&
	    strcmp(co->cfg->cluster_name, "in-cluster") != 0 ? co->cfg->cluster_name :
	    co->cluster_name[0] ? co->cluster_name : "cluster");
	sanitize(cname);
	kc_fmt_compact((time_t)(co->finished_ns / 1000000000), tbuf, sizeof(tbuf));
	kc_fmt_trunc(caseid, sizeof(caseid), "%s", p->collect.case_id);
	sanitize(caseid);
	if (kc_fmt(name, sizeof(name), "%s_%s_%s_%s.tar.gz", caseid, p->collect.phase, cname, tbuf) != 0)
		return NULL;
	if ((path = kc_path_join(dir, name)) == NULL)
		kc_err_set(KC_ERR_NOMEM, "out of memory");
	return path;
}

/* Seal, then start the custody ledger, signed by the collector's key
 * (Ed25519 only: ledger lines are raw-signed).  A ledger that cannot be
 * started is reported, not fatal: the bundle is sealed. */
static int
write_bundle(const struct kc_collect_plan *p, struct kc_collect_outcome *out)
{
	struct kc_seal_opts seal = p->seal;
	int r;

	if ((out->path = bundle_path(p, &out->co, out->dir)) == NULL)
		return fail(out, KC_COLLECT_SEAL, kc_err_code());	/* set by bundle_path */
	seal.mtime = (time_t)(out->co.finished_ns / 1000000000);
	if ((r = kc_bundle_seal(out->staging, out->co.manifest, &seal, out->path)) != 0)
		return fail(out, KC_COLLECT_SEAL, r);
	if (!seal.no_sign) {
		struct kc_ledger_actor actor = { kc_json_str(kc_json_get(out->co.manifest, "case"), "operator"),
		    p->organisation };
		char host[256] = "unknown";

		gethostname(host, sizeof(host) - 1);
		if (kc_ledger_seal_entry(out->path, seal.key_path, seal.passphrase_file, &actor,
		    p->collect.purpose ? p->collect.purpose : "evidence collection", host) != 0 &&
		    (out->ledger_error = kc_strdup(kc_err_msg())) == NULL)
			out->ledger_error = kc_strdup("out of memory");
	}
	return 0;
}

int
kc_collect_pipeline(const struct kc_collect_plan *p, struct kc_collect_outcome *out)
{
	struct stopwatch sw;
	struct kc_list_progress progress;
	struct kc_collect_opts opts;
	struct kc_exports_job *ex = NULL;
	int r, staged, have_progress = 0;
	int64_t t0 = kc_mono_ns();

	memset(out, 0, sizeof(*out));
	if ((r = make_staging(p, out)) != 0)
		return r;
	staged = 1;
	if ((r = kc_list_progress_init(&progress)) != 0) {
		fail(out, KC_COLLECT_LIST, r);	/* its own message, not a generic one */
		goto out;
	}
	have_progress = 1;
	opts = p->collect;
	opts.progress = &progress;
	/* the YAML exports follow the lists' pages as they are written: they
	 * are made while the lists wait on the server */
	if ((r = kc_exports_start_follow(out->staging, &progress, &ex)) != 0) {
		fail(out, KC_COLLECT_LIST, r);
		goto out;
	}
	kc_info("collecting (case %s, phase %s)", p->collect.case_id, p->collect.phase);
	sw_start(&out->co, &sw);	/* no client yet: the log starts empty */
	sw.process = 1;
	sw.cpu = kc_cpu_ns();
	if ((r = kc_collect_run(&opts, out->staging, &out->co)) != 0) {
		struct kc_err_saved e;

		kc_err_save(&e);	/* the lists' error, not the stopped exports' */
		(void)kc_exports_finish(&out->co, ex, 1, 0, NULL, NULL);
		ex = NULL;
		kc_err_restore(&e, r);
		fail(out, KC_COLLECT_LIST, r);
		goto out;
	}
	sw_stop(&out->co, &sw, &out->timing[KC_PHASE_LISTS]);
	/* the lists' CPU is their threads': the exports' so far has its own row */
	out->timing[KC_PHASE_LISTS].cpu_ns -= kc_exports_cpu_ns(ex);
	r = run_analysis(p, &out->co, &out->worst_severity, out->timing, ex);
	ex = NULL;	/* joined there */
	if (r != 0) {
		fail(out, KC_COLLECT_LIST, r);
		goto out;
	}
	sw_start(&out->co, &sw);
	kc_collect_finish(&out->co);
	if (p->out_dir != NULL)
		r = write_folder(p, out, &staged);
	else
		r = write_bundle(p, out);
	sw_stop(&out->co, &sw, &out->timing[KC_PHASE_SEAL]);
	out->wall_ns = kc_mono_ns() - t0;
out:
	if (ex != NULL) {	/* not started the lists: nothing to keep */
		struct kc_err_saved e;

		kc_err_save(&e);
		(void)kc_exports_finish(&out->co, ex, 1, 0, NULL, NULL);
		kc_err_restore(&e, r);
	}
	if (have_progress)
		kc_list_progress_destroy(&progress);
	if (staged) {
		/* the step's error is what the command prints, not a cleanup's */
		struct kc_err_saved e;

		kc_err_save(&e);
		kc_rm_rf(out->staging);
		if (r != 0)
			kc_err_restore(&e, r);
	}
	return r;
}

void
kc_collect_outcome_free(struct kc_collect_outcome *out)
{
	free(out->dir);
	free(out->staging);
	free(out->path);
	free(out->ledger_error);
	kc_collect_free(&out->co);
	memset(out, 0, sizeof(*out));
}
