/* cmd_can_i.c - `kcustody can-i`: the kubectl-identical permission table
 * of a service account, offline.
 *
 *   kcustody can-i SOURCE --sa NS/NAME [-n NS] [--offline] [--json]
 *   kcustody can-i SOURCE --sa NS/NAME [-n NS] --compare REVIEW.json
 *   kcustody can-i SOURCE --sar FILE|-
 *   kcustody can-i SOURCE --all-sas [--stats]
 *   kcustody can-i --review-json FILE|-
 *
 * SOURCE is a sealed bundle or an unsealed evidence folder (collect
 * --out-dir).  The table comes from the server's stored rules review
 * (reviews/NS__NAME/NS.json) when there is one: then it is byte for byte
 * what `kubectl auth can-i --list --as=system:serviceaccount:NS:NAME -n NS`
 * printed for that response.  Otherwise, or with --offline, it is rendered
 * from the offline evaluator's rules over the snapshot, and a note on
 * stderr says so.  --compare checks a stored server review against the
 * evaluator (as sets of expanded permissions; exit 1 on any difference).
 * --sar answers SubjectAccessReview objects (one, or a v1 List of them)
 * offline and prints them back with .status {allowed, reason}, as the
 * server would.  --all-sas evaluates every service account of the
 * snapshot in every namespace and prints one line per pair (account,
 * namespace, rules, evaluation errors); --stats prints only the totals and
 * the evaluation time (the benchmark's measure).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "collector/snapshot.h"
#include "formats/cani.h"
#include "rbac/agentcr.h"
#include "rbac/analyze.h"
#include "rbac/eval.h"
#include "rbac/scope.h"
#include "rbac/review.h"
#include "rbac/source.h"
#include "rbac/workload.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/log.h"

#define REVIEW_MAX (64u << 20)

static void
can_i_usage(FILE *f)
{
	fprintf(f, "usage: %s can-i SOURCE --sa NS/NAME [-n NS] [--offline] [--json]\n"
	    "       %s can-i SOURCE --sa NS/NAME [-n NS] --compare REVIEW.json\n"
	    "       %s can-i SOURCE --sar FILE|-\n"
	    "       %s can-i SOURCE --all-sas [--stats]\n"
	    "       %s can-i --review-json FILE|-\n\n"
	    "Print what a service account may do in a namespace, exactly as\n"
	    "'kubectl auth can-i --list --as=system:serviceaccount:NS:NAME -n NS'\n"
	    "prints it.  SOURCE is a bundle or an unsealed evidence folder.\n\n"
	    "  --sa NS/NAME         the service account\n"
	    "  -n, --namespace NS   namespace of the review (default: the SA's)\n"
	    "  --offline            use the offline evaluator even when the server's\n"
	    "                       review was collected\n"
	    "  --json               print the evaluator's rules with the granting\n"
	    "                       binding and role of each\n"
	    "  --format FMT         text (the table), json (= --json) or yaml (the JSON as YAML)\n"
	    "  --compare FILE       compare a stored server review with the evaluator\n"
	    "                       (exit 1 when they differ)\n"
	    "  --sar FILE           answer SubjectAccessReviews (an object or a List) offline\n"
	    "  --all-sas            every service account in every namespace: one line\n"
	    "                       'NS/NAME NAMESPACE RULES ERRORS' per pair\n"
	    "  --stats              with --all-sas: totals and evaluation time only\n"
	    "  --review-json FILE   render a stored SelfSubjectRulesReview response\n",
	    cli_progname, cli_progname, cli_progname, cli_progname, cli_progname);
}

static int
read_input(const char *path, struct kc_buf *b)
{
	if (strcmp(path, "-") != 0)
		return kc_read_file(path, REVIEW_MAX, b);
	for (;;) {
		char chunk[65536];
		size_t n = fread(chunk, 1, sizeof(chunk), stdin);

		if (n > 0 && kc_buf_add(b, chunk, n) != 0)
			return kc_err_set(KC_ERR_LIMIT, "standard input is larger than %u bytes", REVIEW_MAX);
		if (n < sizeof(chunk))
			break;
	}
	if (ferror(stdin))
		return kc_err_set(KC_ERR_IO, "cannot read standard input");
	return 0;
}

static cJSON *
load_json(const char *path)
{
	struct kc_buf b = KC_BUF_INIT(REVIEW_MAX);
	cJSON *doc = NULL;

	if (read_input(path, &b) == 0 &&
	    (doc = cJSON_ParseWithLength(b.data ? b.data : "", b.len)) == NULL)
		kc_err_set(KC_ERR_PARSE, "'%s' is not valid JSON", path);
	kc_buf_free(&b);
	return doc;
}

static int
run_sar(const struct kc_rbac *rb, const char *file)
{
	cJSON *doc = load_json(file), *items, *it;
	char *s;
	int r = 0;

	if (doc == NULL)
		return cli_fail(KC_EXIT_USAGE, NULL);
	items = kc_json_get_mut(doc, "items");
	if (cJSON_IsArray(items)) {
		cJSON_ArrayForEach(it, items)
			if ((r = kc_rbac_answer_sar(rb, it)) != 0)
				break;
	} else {
		r = kc_rbac_answer_sar(rb, doc);
	}
	if (r == 0 && (s = cJSON_Print(doc)) != NULL) {
		printf("%s\n", s);
		free(s);
	}
	cJSON_Delete(doc);
	return r == 0 ? KC_EXIT_OK : cli_fail(KC_EXIT_FATAL, NULL);
}

static int
run_compare(const cJSON *eff, const char *file)
{
	cJSON *server = load_json(file), *diff = NULL;
	size_t nd = 0;
	char *s;
	int r;

	if (server == NULL)
		return cli_fail(KC_EXIT_USAGE, NULL);
	r = kc_review_compare(server, kc_json_get(eff, "status"), &nd, &diff);
	cJSON_Delete(server);
	if (r != 0)
		return cli_fail(KC_EXIT_FATAL, NULL);
	if ((s = cJSON_Print(diff)) != NULL)
		printf("%s\n", s);
	free(s);
	cJSON_Delete(diff);
	return nd == 0 ? KC_EXIT_OK : KC_EXIT_PARTIAL;
}

/* every SA x every namespace the snapshot lists */
static int
run_matrix(const struct kc_snapshot *snap, const struct kc_rbac *rb, int stats)
{
	const cJSON *sa, *ns;
	struct kc_rbac_rules rr;
	struct timespec t0, t1;
	size_t pairs = 0, rules = 0, errs = 0;
	int r = 0;

	memset(&rr, 0, sizeof(rr));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cJSON_ArrayForEach(sa, snap->items[KC_RES_SERVICEACCOUNTS]) {
		const cJSON *sm = kc_json_get(sa, "metadata");
		const char *sa_ns = kc_json_str0(sm, "namespace"), *sa_name = kc_json_str0(sm, "name");
		struct kc_rbac_sa_id id;

		if ((r = kc_rbac_sa_identity(&id, sa_ns, sa_name)) != 0)
			break;
		cJSON_ArrayForEach(ns, snap->items[KC_RES_NAMESPACES]) {
			const char *ns_name = kc_json_str0(kc_json_get(ns, "metadata"), "name");

			if ((r = kc_rbac_rules_for(rb, &id.id, ns_name, &rr)) != 0)
				break;
			pairs++;
			rules += rr.n;
			errs += rr.nmissing;
			if (!stats)
				printf("%s/%s %s %zu %zu\n", sa_ns, sa_name, ns_name, rr.n, rr.nmissing);
		}
		if (r != 0)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	kc_rbac_rules_free(&rr);
	if (r != 0)
		return cli_fail(KC_EXIT_FATAL, NULL);
	if (stats)
		printf("pairs %zu rules %zu errors %zu seconds %.6f\n", pairs, rules, errs,
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return KC_EXIT_OK;
}

static int
print_table(const cJSON *review)
{
	struct kc_buf out = KC_BUF_INIT(256u << 20), warn = KC_BUF_INIT(1u << 20);
	int r;

	if ((r = kc_cani_render(review, &out, &warn)) == 0) {
		fputs(kc_buf_str(&warn), stderr);
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	}
	kc_buf_free(&out);
	kc_buf_free(&warn);
	return r;
}

static int
render_file(const char *path)
{
	struct kc_buf b = KC_BUF_INIT(REVIEW_MAX);
	cJSON *doc = NULL;
	int r;

	if ((r = read_input(path, &b)) != 0)
		goto out;
	if ((doc = cJSON_ParseWithLength(b.data ? b.data : "", b.len)) == NULL) {
		r = kc_err_set(KC_ERR_PARSE, "'%s' is not valid JSON", path);
		goto out;
	}
	r = print_table(doc);
out:
	cJSON_Delete(doc);
	kc_buf_free(&b);
	return r == 0 ? KC_EXIT_OK : cli_fail(cli_exit_for(r) == KC_EXIT_USAGE ? KC_EXIT_USAGE :
	    KC_EXIT_FATAL, NULL);
}

static int
split_sa(const char *arg, char *ns, size_t nsn, char *name, size_t namen)
{
	const char *slash = strchr(arg, '/');

	if (slash == NULL || slash == arg || slash[1] == '\0' || strchr(slash + 1, '/') != NULL ||
	    (size_t)(slash - arg) >= nsn || strlen(slash + 1) >= namen)
		return -1;
	/* the lengths are checked above: these cannot be cut */
	if (kc_fmt(ns, nsn, "%.*s", (int)(slash - arg), arg) != 0 || kc_fmt(name, namen, "%s", slash + 1) != 0)
		return -1;
	return 0;
}

struct can_i_args {
	const char *sa, *nsopt, *review, *source, *compare, *sarf;
	char ns[256], name[512];
	int offline, json, all, stats;
};

/* Options and operand: KC_EXIT_OK, or the exit status (-h: -1). */
static int
parse_args(int argc, char **argv, struct can_i_args *a)
{
	static const struct option longopts[] = {
		{ "sa", required_argument, NULL, 's' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "offline", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, KC_OPT_FORMAT },
		{ "review-json", required_argument, NULL, 'r' },
		{ "compare", required_argument, NULL, 'c' },
		{ "sar", required_argument, NULL, 'a' },
		{ "all-sas", no_argument, NULL, 'A' },
		{ "stats", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': a->sa = optarg; break;
		case 'n': a->nsopt = optarg; break;
		case 'o': a->offline = 1; break;
		case 'j': a->json = 1; break;
		case KC_OPT_FORMAT: if (cli_parse_format(optarg, &a->json) != KC_EXIT_OK) return KC_EXIT_USAGE; break;
		case 'r': a->review = optarg; break;
		case 'c': a->compare = optarg; break;
		case 'a': a->sarf = optarg; break;
		case 'A': a->all = 1; break;
		case 'S': a->stats = 1; break;
		case 'h': can_i_usage(stdout); return -1;
		default: return cli_bad_option(argv);
		}
	}
	return KC_EXIT_OK;
}

/* SOURCE and the account: KC_EXIT_OK or KC_EXIT_USAGE (printed). */
static int
check_args(int argc, char **argv, struct can_i_args *a)
{
	if (optind + 1 != argc || (a->sa == NULL && a->sarf == NULL && !a->all)) {
		return cli_bad_args();
	}
	a->source = argv[optind];
	if (a->sarf != NULL || a->all) {
		if (a->sa != NULL || a->compare != NULL || (a->sarf != NULL && a->all)) {
			cli_error("--sar and --all-sas take no --sa or --compare");
			return KC_EXIT_USAGE;
		}
	} else if (split_sa(a->sa, a->ns, sizeof(a->ns), a->name, sizeof(a->name)) != 0) {
		cli_error("invalid --sa '%s' (expected NAMESPACE/NAME)", a->sa);
		return KC_EXIT_USAGE;
	}
	if (a->sarf != NULL || a->all)
		a->ns[0] = a->name[0] = '\0';
	if (a->nsopt == NULL)
		a->nsopt = a->ns;
	return KC_EXIT_OK;
}

/* The server's stored review as kubectl's table, when SOURCE has one:
 * 1 when there is none (the evaluator answers), else the exit status. */
static int
stored_review(struct kc_source *src, const struct can_i_args *a)
{
	struct kc_buf b = KC_BUF_INIT(REVIEW_MAX);
	cJSON *doc;
	char *rel;
	int r, ret = KC_EXIT_OK;

	if ((rel = kc_review_path(a->ns, a->name, a->nsopt)) == NULL)
		return cli_fail(KC_EXIT_FATAL, NULL);
	r = kc_source_get(src, rel, REVIEW_MAX, &b);
	free(rel);
	if (r != 0) {
		kc_buf_free(&b);
		return 1;
	}
	if ((doc = cJSON_ParseWithLength(b.data ? b.data : "", b.len)) == NULL)
		ret = cli_fail(KC_EXIT_FATAL, "stored review is not valid JSON");
	else if (print_table(doc) != 0)
		ret = cli_fail(KC_EXIT_FATAL, NULL);
	cJSON_Delete(doc);
	kc_buf_free(&b);
	return ret;
}

/* cloudReach: the account's workload identity annotations and its pods'
 * projected token audiences (rbac/workload.h), recorded, not evaluated */
static int
add_cloud_reach(const struct kc_snapshot *snap, const char *ns, const char *name, cJSON *doc)
{
	struct kc_workloads wl;
	cJSON *reach;
	int r;

	if ((r = kc_workloads_init(&wl, snap)) != 0)
		return r;
	reach = kc_cloud_reach_json(&wl, ns, name);
	kc_workloads_free(&wl);
	if (reach == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddItemToObject(doc, "cloudReach", reach);
	return 0;
}

/* agentResources: the agent custom resources that run as the account
 * (rbac/agentcr.h), when there are any */
static int
add_agent_resources(const struct kc_snapshot *snap, const char *ns, const char *name, cJSON *doc)
{
	struct kc_agent_links links;
	cJSON *arr;
	int r;

	if ((r = kc_agent_links_load(snap, &links)) != 0)
		return r;
	arr = kc_agent_links_for_sa(&links, ns, name);
	kc_agent_links_free(&links);
	if (arr == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (cJSON_GetArraySize(arr) == 0)
		cJSON_Delete(arr);
	else
		cJSON_AddItemToObject(doc, "agentResources", arr);
	return 0;
}

/* The table is kubectl's, so the identity goes to stderr: one note per
 * agent custom resource that runs as the account, as the collection's
 * selection recorded it (analysis/selection.json). */
static void
agent_note(struct kc_source *src, const struct can_i_args *a)
{
	struct kc_buf b = KC_BUF_INIT(REVIEW_MAX);
	const cJSON *it, *ag;
	cJSON *sel;

	if (kc_source_get(src, "analysis/selection.json", REVIEW_MAX, &b) != 0) {
		kc_buf_free(&b);
		return;	/* no selection (an older or partial folder): no note */
	}
	sel = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
	kc_buf_free(&b);
	cJSON_ArrayForEach(it, kc_json_get(sel, "selected")) {
		if (strcmp(kc_json_str0(it, "namespace"), a->ns) != 0 || strcmp(kc_json_str0(it, "name"), a->name) != 0)
			continue;
		cJSON_ArrayForEach(ag, kc_json_get(it, "agentResources")) {
			char t[1024], v[1024];

			fprintf(stderr, "%s: note: %s/%s is the identity of %s (%s)\n", cli_progname, a->ns, a->name,
			    kc_safe_str(kc_json_str0(ag, "text"), t, sizeof(t)),
			    kc_safe_str(kc_json_str0(ag, "via"), v, sizeof(v)));
		}
	}
	cJSON_Delete(sel);
}

/* The offline evaluator's answer: --all-sas, --sar, --compare, --json or
 * the table rendered from its rules. */
static int
evaluate(const struct kc_snapshot *snap, const struct kc_rbac *rb, const struct can_i_args *a)
{
	cJSON *doc = NULL;
	int r, ret = KC_EXIT_OK;

	if (a->all)
		return run_matrix(snap, rb, a->stats);
	if (a->sarf != NULL)
		return run_sar(rb, a->sarf);
	if ((r = kc_rbac_effective_json(rb, a->ns, a->name, a->nsopt, &doc)) != 0) {
		ret = cli_fail(cli_exit_for(r), NULL);
	} else if (a->compare != NULL) {
		ret = run_compare(doc, a->compare);
	} else if (a->json) {
		if ((r = add_cloud_reach(snap, a->ns, a->name, doc)) != 0 ||
		    (r = add_agent_resources(snap, a->ns, a->name, doc)) != 0) {
			cJSON_Delete(doc);
			return cli_fail(cli_exit_for(r), NULL);
		}
		ret = cli_print_doc(doc, a->json);
	} else {
		if (!snap->present[KC_RES_ROLEBINDINGS] || !snap->present[KC_RES_CLUSTERROLEBINDINGS])
			cli_error("warning: the snapshot lacks role bindings; the table may be incomplete");
		fprintf(stderr, "%s: note: no server review for %s/%s in namespace '%s'; "
		    "rendered from the offline evaluator\n", cli_progname, a->ns, a->name, a->nsopt);
		if ((r = print_table(kc_json_get(doc, "status"))) != 0)
			ret = cli_fail(KC_EXIT_FATAL, NULL);
	}
	cJSON_Delete(doc);
	return ret;
}

KC_COMMAND(can_i, "print a service account's permissions like kubectl auth can-i --list")
{
	struct can_i_args a;
	struct kc_snapshot snap;
	struct kc_rbac rb;
	struct kc_source src;
	int r, ret;

	memset(&a, 0, sizeof(a));
	if ((ret = parse_args(argc, argv, &a)) != KC_EXIT_OK)
		return ret == -1 ? KC_EXIT_OK : ret;
	if (a.review != NULL) {
		if (optind != argc || a.sa != NULL) {
			cli_error("--review-json takes no other arguments");
			return KC_EXIT_USAGE;
		}
		return render_file(a.review);
	}
	if ((ret = check_args(argc, argv, &a)) != KC_EXIT_OK)
		return ret;
	if (kc_source_open(a.source, &src) != 0)
		return cli_fail(KC_EXIT_USAGE, NULL);
	if (!a.json && a.compare == NULL && a.sarf == NULL && !a.all)
		agent_note(&src, &a);
	if (!a.offline && !a.json && a.compare == NULL && a.sarf == NULL && !a.all &&
	    (ret = stored_review(&src, &a)) != 1) {
		kc_source_close(&src);
		return ret;
	}
	r = kc_source_snapshot(&src, &snap);
	kc_source_close(&src);
	if (r != 0)
		return cli_fail(KC_EXIT_FATAL, "cannot load snapshot");
	if ((r = kc_rbac_init(&rb, &snap)) != 0) {
		kc_snapshot_free(&snap);
		return cli_fail(KC_EXIT_FATAL, NULL);
	}
	ret = evaluate(&snap, &rb, &a);
	kc_rbac_free(&rb);
	kc_snapshot_free(&snap);
	return ret;
}
