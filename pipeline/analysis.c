#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collector/names.h"
#include "collector/reviews.h"
#include "collector/sensitive.h"
#include "formats/cani.h"
#include "formats/findings_txt.h"
#include "formats/inventory.h"
#include "manifest/digest.h"
#include "pipeline/analysis.h"
#include "rbac/agentcr.h"
#include "rbac/analyze.h"
#include "rbac/findings.h"
#include "rbac/logauthz.h"
#include "rbac/review.h"
#include "rbac/secreach.h"
#include "rbac/whocan.h"
#include "rbac/workload.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/jarena.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/nsindex.h"
#include "util/strset.h"

#define REVIEW_MAX (64u << 20)
#define OUT_MAX (512u << 20)

static const char *const RBAC_SOURCES[] = { "raw/clusterroles", "raw/clusterrolebindings",
	"raw/roles", "raw/rolebindings", NULL };


struct actx {
	const char *dir;
	cJSON *files;
	const struct kc_snapshot *snap;
	const struct kc_rbac *rb;	/* own_rb, or the caller's */
	struct kc_rbac own_rb;
	struct kc_selection sel;
	struct kc_findings fnd;
	struct kc_strset nss;
	struct kc_nsindex pods_by_sa;	/* pods by namespace and service account */
	struct kc_nsindex fnd_by_subject;	/* findings by subject namespace and name */
	struct kc_secret_index secrets;	/* for the inventory's reachable secrets */
	struct kc_workloads wl;		/* owner chains, cloud reach */
	struct kc_agent_links links;	/* agents defined by custom resources */
	cJSON *diffs;
	size_t disagreements, evalerrors, reviews, offline;
};

/* The manifest's entry for a derived file just written under rel. */
static void
note_file(struct actx *a, const char *rel, const char *media, const char *const *sources,
    const char *extra_source)
{
	cJSON *f, *src;

	if (a->files == NULL)
		return;
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "path", rel);
	cJSON_AddStringToObject(f, "media_type", media);
	cJSON_AddBoolToObject(f, "derived", 1);
	src = cJSON_AddArrayToObject(f, "sources");
	for (size_t i = 0; sources != NULL && sources[i] != NULL; i++)
		cJSON_AddItemToArray(src, cJSON_CreateString(sources[i]));
	if (extra_source != NULL)
		cJSON_AddItemToArray(src, cJSON_CreateString(extra_source));
	cJSON_AddItemToArray(a->files, f);
}

/* The checked path of rel under the staging folder, its folder made; the
 * caller frees it. */
static int
stage_path(struct actx *a, const char *rel, char **path)
{
	char *d, safe[256];
	int r;

	*path = NULL;
	if (!kc_relpath_ok(rel))
		return kc_err_set(KC_ERR_INVALID, "refusing to write '%s': not a relative bundle path",
		    kc_safe_str(rel, safe, sizeof(safe)));
	if ((*path = kc_path_join(a->dir, rel)) == NULL || (d = kc_dirname(*path)) == NULL) {
		free(*path);
		*path = NULL;
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	r = kc_mkdir_p(d, 0755);
	free(d);
	if (r != 0) {
		free(*path);
		*path = NULL;
	}
	return r;
}

static int
put(struct actx *a, const char *rel, const void *data, size_t len, const char *media,
    const char *const *sources, const char *extra_source)
{
	char *path;
	int r;

	if ((r = stage_path(a, rel, &path)) != 0)
		return r;
	r = kc_write_file_atomic(path, data, len, 0644);
	free(path);
	if (r == 0)
		note_file(a, rel, media, sources, extra_source);
	return r;
}

static int
put_json(struct actx *a, const char *rel, const cJSON *doc, const char *const *sources,
    const char *extra)
{
	/* the printed text gets its newline in place rather than being copied
	 * into a second buffer: a document is held once as text, not twice
	 * (cJSON_Print allocates with malloc: util/jarena.c's hooks allocate
	 * from an arena only inside kc_jarena_parse) */
	char *s = cJSON_Print(doc), *t;
	size_t n;
	int r;

	if (s == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	n = strlen(s);
	if (n + 1 > OUT_MAX) {
		cJSON_free(s);
		return kc_err_set(KC_ERR_LIMIT, "buffer limit of %zu bytes exceeded", (size_t)OUT_MAX);
	}
	if ((t = realloc(s, n + 2)) == NULL) {
		cJSON_free(s);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	r = put(a, rel, t, n + 1, "application/json", sources, extra);
	free(t);
	return r;
}

static cJSON *
read_json(const char *dir, const char *rel)
{
	struct kc_buf b = KC_BUF_INIT(REVIEW_MAX);
	char *path = kc_path_join(dir, rel);
	cJSON *doc = NULL;

	if (path != NULL && kc_read_file(path, REVIEW_MAX, &b) == 0)
		doc = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
	free(path);
	kc_buf_free(&b);
	return doc;
}

/* namespaces of stored reviews for one SA: the .json files in
 * reviews/<ns>__<name> whose names are valid namespaces (a hashed
 * "_invalid-..." file cannot be turned back into its name; the snapshot
 * gave that namespace already) */
static int
stored_review_namespaces(const char *dir, const char *sa_ns, const char *sa_name, struct kc_strset *out)
{
	char folder[KC_NAME_COMPONENT_SIZE], rel[KC_NAME_COMPONENT_SIZE + 16], *path;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if ((r = kc_name_sa_folder(sa_ns, sa_name, folder)) < 0)
		return r;
	r = 0;
	if ((r = kc_fmt(rel, sizeof(rel), "reviews/%s", folder)) != 0)
		return r;
	if ((path = kc_path_join(dir, rel)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	d = opendir(path);
	free(path);
	if (d == NULL)
		return 0;
	while (r == 0 && (de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char ns[512];

		if (l <= 5 || strcmp(de->d_name + l - 5, ".json") != 0 || l - 5 >= sizeof(ns))
			continue;
		memcpy(ns, de->d_name, l - 5);
		ns[l - 5] = '\0';
		if (kc_name_invalid(KC_NAME_NAMESPACE, ns) == NULL)
			r = kc_strset_add(out, ns);
	}
	closedir(d);
	return r;
}

/* The server's review against the evaluator's: the difference recorded
 * in review-diff.json, and as evidence gaps when they disagree, when the
 * server says it is incomplete, or has an evaluation error. */
static int
compare_review(struct actx *a, const struct kc_selected *sa, const char *ns, const cJSON *server,
    const cJSON *eff, const char *rpath)
{
	size_t nd = 0;
	const cJSON *st = kc_json_get(server, "status");
	const char *ee = kc_json_str0(st, "evaluationError");
	cJSON *diff = NULL;
	int r;

	if ((r = kc_review_compare(server, kc_json_get(eff, "status"), &nd, &diff)) != 0) {
		cJSON_Delete(diff);
		return r;
	}
	cJSON_AddStringToObject(diff, "serviceAccount", sa->ns);
	cJSON_AddStringToObject(diff, "name", sa->name);
	cJSON_AddStringToObject(diff, "namespace", ns);
	cJSON_AddStringToObject(diff, "review", rpath);
	if (nd > 0) {
		a->disagreements += nd;
		r = kc_findings_add_gap(&a->fnd, sa->ns, sa->name, ns,
		    "the server's rules review and the offline evaluator disagree",
		    cJSON_Duplicate(diff, 1));
	}
	if (r == 0 && cJSON_IsTrue(kc_json_get(st, "incomplete")))
		r = kc_findings_add_gap(&a->fnd, sa->ns, sa->name, ns,
		    "the server says its rules review is incomplete (another authorizer, "
		    "such as a webhook, may grant more)", NULL);
	if (r == 0 && ee[0] != '\0') {
		a->evalerrors++;
		r = kc_findings_add_gap(&a->fnd, sa->ns, sa->name, ns, ee, NULL);
	}
	cJSON_AddItemToArray(a->diffs, diff);	/* transferred */
	return r;
}

static int
one_review(struct actx *a, const struct kc_selected *sa, const char *ns)
{
	char folder[KC_NAME_COMPONENT_SIZE], cns[KC_NAME_COMPONENT_SIZE];
	char base[2 * KC_NAME_COMPONENT_SIZE + 2], rel[2 * KC_NAME_COMPONENT_SIZE + 64], *rpath = NULL;
	cJSON *eff = NULL, *server = NULL;
	struct kc_buf out = KC_BUF_INIT(OUT_MAX), warn = KC_BUF_INIT(1u << 20);
	int r;

	/* names that are not valid are stored under their hashed form;
	 * collect records them as anomalies where it takes the targets */
	if ((r = kc_name_sa_folder(sa->ns, sa->name, folder)) < 0 ||
	    (r = kc_name_component(KC_NAME_NAMESPACE, ns, cns)) < 0)
		return r;
	/* member names of the bundle: whole or an error */
	if ((r = kc_fmt(base, sizeof(base), "%s/%s", folder, cns)) != 0)
		return r;
	if ((r = kc_rbac_effective_json(a->rb, sa->ns, sa->name, ns, &eff)) != 0)
		goto out;
	if ((r = kc_fmt(rel, sizeof(rel), "analysis/effective/%s.json", base)) != 0 ||
	    (r = put_json(a, rel, eff, RBAC_SOURCES, NULL)) != 0)
		goto out;
	if ((rpath = kc_review_path(sa->ns, sa->name, ns)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	server = read_json(a->dir, rpath);
	if (server == NULL) {
		/* no server review: the evaluator's table, under a name that
		 * cannot be taken for kubectl's output */
		a->offline++;
		if ((r = kc_cani_render(kc_json_get(eff, "status"), &out, NULL)) != 0)
			goto out;
		if ((r = kc_fmt(rel, sizeof(rel), "analysis/can-i/%s.offline.txt", base)) == 0)
			r = put(a, rel, out.data ? out.data : "", out.len, "text/plain", RBAC_SOURCES, NULL);
		goto out;
	}
	a->reviews++;
	if ((r = kc_cani_render(server, &out, &warn)) != 0) {
		kc_warn("review '%s' cannot be rendered: %s", rpath, kc_err_msg());
		r = kc_findings_add_gap(&a->fnd, sa->ns, sa->name, ns, "stored rules review is malformed", NULL);
		goto out;
	}
	if ((r = kc_fmt(rel, sizeof(rel), "analysis/can-i/%s.txt", base)) != 0 ||
	    (r = put(a, rel, out.data ? out.data : "", out.len, "text/plain", NULL, rpath)) != 0)
		goto out;
	if (warn.len > 0) {
		if ((r = kc_fmt(rel, sizeof(rel), "analysis/can-i/%s.stderr.txt", base)) != 0 ||
		    (r = put(a, rel, warn.data, warn.len, "text/plain", NULL, rpath)) != 0)
			goto out;
	}
	r = compare_review(a, sa, ns, server, eff, rpath);
out:
	cJSON_Delete(eff);
	cJSON_Delete(server);
	free(rpath);
	kc_buf_free(&out);
	kc_buf_free(&warn);
	return r;
}

static int
all_reviews(struct actx *a, const struct kc_select_opts *opts)
{
	int r = 0;

	for (size_t i = 0; i < a->sel.n && r == 0; i++) {
		const struct kc_selected *sa = &a->sel.v[i];
		struct kc_rbac_sa_id id;
		struct kc_strset mine;

		if ((r = kc_rbac_sa_identity(&id, sa->ns, sa->name)) != 0)
			break;
		if ((r = kc_rbac_sa_namespaces(a->rb, &id.id, sa->ns, &a->nss, opts->all_namespaces, &mine)) != 0)
			break;
		if ((r = stored_review_namespaces(a->dir, sa->ns, sa->name, &mine)) == 0) {
			kc_strset_sort(&mine);
			for (size_t k = 0; k < mine.n && r == 0; k++)
				r = one_review(a, sa, mine.v[k]);
		}
		kc_strset_free(&mine);
	}
	return r;
}

/* Appends cJSON_Print(item) as if it were printed nested: every line after
 * the first gets indent (cJSON escapes newlines inside strings, so each raw
 * newline is a line break of the formatting). */
static int
add_nested(struct kc_buf *b, const cJSON *item, const char *indent)
{
	char *s = cJSON_Print(item);
	int r = 0;

	if (s == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (const char *p = s, *nl; r == 0 && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL) {
			r = kc_buf_adds(b, p);
			break;
		}
		if ((r = kc_buf_add(b, p, (size_t)(nl - p) + 1)) == 0)
			r = kc_buf_adds(b, indent);
	}
	cJSON_free(s);
	return r;
}

/* analysis/who-can.json, written query by query: each answer is printed,
 * written out (through a temporary file, in pieces of about 256 KiB) and
 * freed before the next is computed, so neither the document nor its text
 * is held whole (53 MB at the 150k estate); the bytes are those of
 * cJSON_Print on the whole document (make equiv).  A piece of 1 MiB left
 * a buffer of 2 MiB (grown by doubling) at collect's peak at 150k. */
#define PIECE_BYTES (256u << 10)

static int
pieces_flush(struct kc_atomic *f, struct kc_buf *b, size_t at_least)
{
	int r = 0;

	if (b->len >= at_least && b->len > 0) {
		r = kc_write_all(f->fd, b->data, b->len, f->tmp);
		kc_buf_reset(b);
	}
	return r;
}

/* A file written in pieces, ended: tail added (when r, the writing's
 * result so far, is 0), the rest written out and the file put in place;
 * on any failure, the temporary file goes.  Returns the result. */
static int
pieces_finish(struct kc_atomic *f, struct kc_buf *b, const char *tail, int r)
{
	if (r == 0)
		r = kc_buf_adds(b, tail);
	if (r == 0)
		r = pieces_flush(f, b, 0);
	if (r == 0)
		r = kc_atomic_commit(f, 0);
	kc_atomic_abort(f);
	return r;
}

/* kc_whocan_print's sink: into b, written out in pieces of about 256 KiB */
struct whocan_sink {
	struct kc_buf *b;
	struct kc_atomic *f;
};

static int
whocan_put(void *ctx, const char *s, size_t n)
{
	struct whocan_sink *w = ctx;
	int r = kc_buf_add(w->b, s, n);

	return r != 0 ? r : pieces_flush(w->f, w->b, PIECE_BYTES);
}

static int
write_whocan(struct actx *a)
{
	static const char *const verbs[] = { "get", "list", "watch", NULL };
	static const char rel[] = "analysis/who-can.json";
	const char *const *res = kc_sensitive_resources;
	struct kc_buf b = KC_BUF_INIT(OUT_MAX);
	struct kc_atomic f = KC_ATOMIC_INIT;
	struct whocan_sink ws = { &b, &f };
	char *path;
	cJSON *bs;
	int r, first = 1;

	if ((r = stage_path(a, rel, &path)) != 0)
		return r;
	r = kc_atomic_open(&f, path, NULL, 0644);
	free(path);
	if (r == 0)
		r = kc_buf_adds(&b, "{\n\t\"queries\":\t[");
	/* each query printed a grant at a time as it is made (a 30,000-grant
	 * query of the 150k estate was 45 MiB of nodes, then its text) */
	for (size_t i = 0; res[i] != NULL && r == 0; i++) {
		for (size_t v = 0; verbs[v] != NULL && r == 0; v++) {
			if (!first)
				r = kc_buf_adds(&b, ", ");
			first = 0;
			if (r == 0)
				r = kc_whocan_print(a->rb, verbs[v], res[i], NULL, "\t\t", whocan_put, &ws);
		}
	}
	if (r == 0)
		r = kc_buf_adds(&b, "],\n\t\"blindSpots\":\t");
	if (r == 0) {
		if ((bs = kc_rbac_blind_spots_json()) == NULL)
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		else
			r = add_nested(&b, bs, "\t");
		cJSON_Delete(bs);
	}
	r = pieces_finish(&f, &b, "\n}\n", r);
	kc_buf_free(&b);
	if (r == 0)
		note_file(a, rel, "application/json", RBAC_SOURCES, "raw/serviceaccounts");
	return r;
}

/* put_json for a document with one long list at its top, key: the same
 * bytes, but that list's items printed one at a time into pieces of about
 * 1 MiB written out as they fill, so the text is never held whole (the
 * findings of 2,000 agents at 150k: 3.8 MB of text, printed by doubling a
 * buffer that was copied at each step).  The rest of the document is
 * printed with that list emptied in place, found by the line cJSON prints
 * for it ("\n\t\"KEY\":\t[]": a raw newline is never inside a printed
 * string), then the list's items put back. */
static int
put_json_list(struct actx *a, const char *rel, cJSON *doc, const char *key, const char *const *sources,
    const char *extra)
{
	struct kc_buf b = KC_BUF_INIT(OUT_MAX);
	struct kc_atomic f = KC_ATOMIC_INIT;
	cJSON *list = kc_json_get_mut(doc, key), *items, *e;
	char mark[128], *s = NULL, *path = NULL, *at = NULL;
	size_t nmark;
	int r;

	if (!cJSON_IsArray(list))
		return kc_err_set(KC_ERR_INVALID, "%s: the document has no list '%s'", rel, key);
	if ((r = kc_fmt(mark, sizeof(mark), "\n\t\"%s\":\t[]", key)) != 0)
		return r;
	nmark = strlen(mark);
	/* printed with the list empty in its place, then its items back */
	items = list->child;
	list->child = NULL;
	if ((s = cJSON_Print(doc)) == NULL)
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
	list->child = items;
	if (r == 0 && (at = strstr(s, mark)) == NULL)
		r = kc_err_set(KC_ERR_INVALID, "%s: the list '%s' is not a member of the document's top", rel, key);
	if (r == 0 && (r = stage_path(a, rel, &path)) == 0)
		r = kc_atomic_open(&f, path, NULL, 0644);
	if (r == 0)
		r = kc_buf_add(&b, s, (size_t)(at - s) + nmark - 1);	/* up to its '[' */
	cJSON_ArrayForEach(e, list) {
		if (r == 0 && e != list->child)
			r = kc_buf_adds(&b, ", ");
		if (r == 0)
			r = add_nested(&b, e, "\t\t");
		if (r == 0)
			r = pieces_flush(&f, &b, PIECE_BYTES);
	}
	if (r == 0)
		r = kc_buf_adds(&b, at + nmark - 1);	/* from its ']' */
	r = pieces_finish(&f, &b, "\n", r);
	cJSON_free(s);
	free(path);
	kc_buf_free(&b);
	if (r == 0)
		note_file(a, rel, "application/json", sources, extra);
	return r;
}

static int
str_in(const cJSON *arr, const char *s)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr)
		if (strcmp(it->valuestring, s) == 0)
			return 1;
	return 0;
}

static void
add_unique(cJSON *arr, const char *s)
{
	if (!str_in(arr, s))
		cJSON_AddItemToArray(arr, cJSON_CreateString(s));
}

static int
default_crb(const struct kc_rbac_binding *b)
{
	return b->cluster && strcmp(kc_json_str0(b->labels, "kubernetes.io/bootstrapping"), "rbac-defaults") == 0 &&
	    strncmp(b->name, "system:", 7) == 0;
}

/* The binding and role of b in row's lists; the names are compared to
 * keep the lists unique, so they are whole or an error. */
static int
note_binding(cJSON *row, const struct kc_rbac_binding *b, int *cluster)
{
	char s[2048];
	int r;

	if ((r = b->cluster ? kc_fmt(s, sizeof(s), "ClusterRoleBinding/%s", b->name) :
	    kc_fmt(s, sizeof(s), "RoleBinding/%s/%s", b->ns, b->name)) != 0)
		return r;
	add_unique(kc_json_get_mut(row, "bindings"), s);
	if ((r = strcmp(b->role_kind, "Role") == 0 ?
	    kc_fmt(s, sizeof(s), "Role/%s/%s%s", b->ns, b->role_name, b->role ? "" : " (missing)") :
	    kc_fmt(s, sizeof(s), "%s/%s%s", b->role_kind, b->role_name, b->role ? "" : " (missing)")) != 0)
		return r;
	add_unique(kc_json_get_mut(row, "roles"), s);
	if (b->cluster && b->role != NULL && b->role->nrules > 0 && !default_crb(b))
		*cluster = 1;
	return 0;
}

/* 1 when a rule of these grants could allow get on secrets (verb, group
 * and resource; names are for the authorizer to check). */
static int
cluster_secret_rule(const struct kc_rbac_rules *rr)
{
	for (size_t i = 0; i < rr->n; i++) {
		const struct kc_rbac_rule *ru = rr->grants[i].rule;

		if (kc_rbac_verb_matches(ru, "get") && kc_rbac_group_matches(ru, "") &&
		    kc_rbac_resource_matches(ru, "secrets", ""))
			return 1;
	}
	return 0;
}

/* cloudReach (texts) and ownerChains (one per pod) of a row */
static int
inventory_reach(struct actx *a, const struct kc_selected *sa, cJSON *row)
{
	cJSON *reach = kc_cloud_reach_json(&a->wl, sa->ns, sa->name), *texts, *chains, *e;
	const struct kc_nsref *ix;
	size_t nix;
	int r = 0;

	if (reach == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	texts = cJSON_AddArrayToObject(row, "cloudReach");
	cJSON_ArrayForEach(e, reach)
		cJSON_AddItemToArray(texts, cJSON_CreateString(kc_json_str0(e, "text")));
	cJSON_Delete(reach);
	chains = cJSON_AddArrayToObject(row, "ownerChains");
	ix = kc_nsindex_slice(&a->pods_by_sa, sa->ns, sa->name, &nix);
	for (size_t i = 0; i < nix && r == 0; i++) {
		struct kc_buf b = KC_BUF_INIT(1u << 20);

		if ((r = kc_owner_chain(&a->wl, ix[i].p, &b)) == 0)
			cJSON_AddItemToArray(chains, cJSON_CreateString(kc_buf_str(&b)));
		kc_buf_free(&b);
	}
	return r;
}

static int
inventory_row(struct actx *a, const struct kc_selected *sa, cJSON *rows)
{
	struct kc_rbac_sa_id id;
	struct kc_rbac_rules rr, cl;
	struct kc_strset bound = { 0 };
	cJSON *row = cJSON_CreateObject(), *pods, *secrets;
	const struct kc_nsref *ix;
	size_t nix, *cand = NULL, ncand = 0, capcand = 0;
	int cluster = 0, worst = 0, secret_rule, r;

	memset(&rr, 0, sizeof(rr));
	memset(&cl, 0, sizeof(cl));
	if (row == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddItemToArray(rows, row);
	cJSON_AddStringToObject(row, "namespace", sa->ns);
	cJSON_AddStringToObject(row, "name", sa->name);
	pods = cJSON_AddArrayToObject(row, "pods");
	cJSON_AddArrayToObject(row, "bindings");
	cJSON_AddArrayToObject(row, "roles");
	secrets = cJSON_AddArrayToObject(row, "secrets");
	ix = kc_nsindex_slice(&a->pods_by_sa, sa->ns, sa->name, &nix);
	for (size_t i = 0; i < nix; i++)
		cJSON_AddItemToArray(pods, cJSON_CreateString(kc_json_str0(kc_json_get(ix[i].p, "metadata"), "name")));
	if ((r = kc_rbac_sa_identity(&id, sa->ns, sa->name)) != 0)
		goto out;
	/* the cluster-wide grants (cl, kept for row_secrets) */
	if ((r = kc_rbac_rules_for(a->rb, &id.id, "", &cl)) != 0)
		goto out;
	for (size_t i = 0; i < cl.n; i++)
		if ((r = note_binding(row, cl.grants[i].binding, &cluster)) != 0)
			goto out;
	for (size_t i = 0; i < cl.nmissing; i++)
		if ((r = note_binding(row, cl.missing[i], &cluster)) != 0)
			goto out;
	secret_rule = cluster_secret_rule(&cl);
	/* The namespaces whose RoleBindings can name the account, in the
	 * namespace list's (sorted) order: the others add nothing. */
	if ((r = kc_rbac_rb_candidates(a->rb, &id.id, &cand, &ncand, &capcand)) != 0)
		goto out;
	for (size_t c = 0; c < ncand; c++)
		if (kc_strset_has(&a->nss, a->rb->bindings[cand[c]].ns) &&
		    (r = kc_strset_add(&bound, a->rb->bindings[cand[c]].ns)) != 0)
			goto out;
	kc_strset_sort(&bound);
	for (size_t k = 0; k < bound.n; k++) {
		if ((r = kc_rbac_rules_for_ns(a->rb, &id.id, bound.v[k], &rr)) != 0)
			goto out;
		secret_rule |= cluster_secret_rule(&rr);
		for (size_t i = 0; i < rr.n; i++)
			if ((r = note_binding(row, rr.grants[i].binding, &cluster)) != 0)
				goto out;
		for (size_t i = 0; i < rr.nmissing; i++)
			if ((r = note_binding(row, rr.missing[i], &cluster)) != 0)
				goto out;
	}
	cJSON_AddBoolToObject(row, "clusterWide", cluster);
	/* (none can be when no rule of the account's grants names get on
	 * secrets: the authorizer needs one to allow) */
	if (secret_rule && (r = kc_secrets_reachable(a->rb, &a->secrets, &id.id, &cl, cand, ncand, secrets)) != 0)
		goto out;
	ix = kc_nsindex_slice(&a->fnd_by_subject, sa->ns, sa->name, &nix);
	for (size_t i = 0; i < nix; i++) {
		int sev = kc_sev_parse(kc_json_str0(ix[i].p, "severity"));

		if (sev > worst)
			worst = sev;
	}
	cJSON_AddStringToObject(row, "highestSeverity", kc_sev_name(worst));
	if ((r = inventory_reach(a, sa, row)) != 0)
		goto out;
	{
		cJSON *texts = cJSON_AddArrayToObject(row, "agentResources");
		const struct kc_agent_link *lv;
		size_t nl;
		char t[700];

		lv = kc_agent_links_in_ns(&a->links, sa->ns, &nl);
		for (size_t i = 0; i < nl; i++)
			if (lv[i].exists && strcmp(lv[i].sa_ns, sa->ns) == 0 && strcmp(lv[i].sa_name, sa->name) == 0) {
				kc_agent_link_text(&lv[i], t, sizeof(t));
				cJSON_AddItemToArray(texts, cJSON_CreateString(t));
			}
	}
out:
	kc_rbac_rules_free(&rr);
	kc_rbac_rules_free(&cl);
	kc_strset_free(&bound);
	free(cand);
	return r;
}

static int
write_inventory(struct actx *a)
{
	static const char *const src[] = { "raw/clusterroles", "raw/clusterrolebindings", "raw/roles",
		"raw/rolebindings", "raw/pods", "raw/secrets", "raw/serviceaccounts", "raw/deployments",
		"raw/statefulsets", "raw/daemonsets", "raw/replicasets", "raw/jobs", "raw/cronjobs", NULL };
	static const char rel[] = "analysis/inventory.csv";
	struct kc_buf csv = KC_BUF_INIT(OUT_MAX);
	struct kc_atomic f = KC_ATOMIC_INIT;
	char *path = NULL;
	int r = 0, opened = 0;

	if ((r = kc_workloads_init(&a->wl, a->snap)) != 0)
		return r;
	{
		const cJSON *it;

		cJSON_ArrayForEach(it, a->snap->items[KC_RES_PODS]) {
			const char *san = kc_json_str0(kc_json_get(it, "spec"), "serviceAccountName");

			kc_nsindex_add(&a->pods_by_sa, kc_json_str0(kc_json_get(it, "metadata"), "namespace"),
			    san[0] ? san : "default", it);
		}
		cJSON_ArrayForEach(it, a->fnd.list) {
			const cJSON *su = kc_json_get(it, "subject");

			kc_nsindex_add(&a->fnd_by_subject, kc_json_str0(su, "namespace"), kc_json_str0(su, "name"), it);
		}
		kc_nsindex_sort(&a->pods_by_sa);
		kc_nsindex_sort(&a->fnd_by_subject);
		if (a->pods_by_sa.err != 0 || a->fnd_by_subject.err != 0)
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		else
			r = a->snap->nnames[KC_RES_SECRETS] > 0 ?
			    /* collect's model: the secrets as names (snapshot.h) */
			    kc_secret_index_build_names(&a->secrets, a->snap->names[KC_RES_SECRETS],
			    a->snap->nnames[KC_RES_SECRETS]) :
			    kc_secret_index_build(&a->secrets, a->snap->items[KC_RES_SECRETS]);
	}
	/* the header, then each account's row as CSV once it is made, written
	 * out in pieces: neither the rows nor their text are held together
	 * (at 150k, 2,000 accounts: 8 MB of rows, 4 MiB of text) */
	if (r == 0 && (r = stage_path(a, rel, &path)) == 0) {
		r = kc_atomic_open(&f, path, NULL, 0644);
		free(path);
		opened = r == 0;
	}
	if (r == 0)
		r = kc_inventory_csv(NULL, &csv);
	for (size_t i = 0; i < a->sel.n && r == 0; i++) {
		cJSON *rows = cJSON_CreateArray();

		if (rows == NULL)
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		if (r == 0)
			r = inventory_row(a, &a->sel.v[i], rows);
		if (r == 0)
			r = kc_inventory_csv_rows(rows, &csv);
		if (r == 0)
			r = pieces_flush(&f, &csv, PIECE_BYTES);
		cJSON_Delete(rows);
	}
	if (opened)
		r = pieces_finish(&f, &csv, "", r);
	if (r == 0)
		note_file(a, rel, "text/csv", src, NULL);
	kc_buf_free(&csv);
	kc_workloads_free(&a->wl);
	return r;
}

/* selection.json: each selected account's agent resources, and (when the
 * snapshot has any) every agent resource with its link, a missing account
 * said as such (rbac/agentcr.h) */
static int
annotate_selection(struct actx *a, cJSON *doc)
{
	cJSON *it, *all;
	int r;

	cJSON_ArrayForEach(it, kc_json_get_mut(doc, "selected"))
		if ((r = kc_agent_links_annotate(&a->links, it)) != 0)
			return r;
	if (a->links.n == 0)
		return 0;
	if ((all = kc_agent_links_json(&a->links)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddItemToObject(doc, "agentResources", all);
	return 0;
}

int
kc_analysis_run(const char *staging_dir, const struct kc_select_opts *opts, cJSON *files_out,
    cJSON **summary_out, int *worst_rank_out)
{
	struct kc_snapshot snap;
	int r;

	if (summary_out != NULL)
		*summary_out = NULL;
	if (worst_rank_out != NULL)
		*worst_rank_out = 0;
	if ((r = kc_snapshot_load_dir(staging_dir, &snap)) != 0)
		return r;
	r = kc_analysis_run_snap(staging_dir, &snap, NULL, opts, files_out, summary_out, worst_rank_out);
	kc_snapshot_free(&snap);
	return r;
}

/* analysis/review-diff.json: every server review against the evaluator. */
static int
write_review_diff(struct actx *a)
{
	cJSON *doc = cJSON_CreateObject();
	int r;

	cJSON_AddNumberToObject(doc, "disagreements", (double)a->disagreements);
	cJSON_AddItemToObject(doc, "reviews", a->diffs);
	a->diffs = NULL;	/* transferred */
	r = put_json(a, "analysis/review-diff.json", doc, RBAC_SOURCES, "reviews");
	cJSON_Delete(doc);
	return r;
}

/* analysis/rbac-drift.json: aggregated ClusterRoles against their selectors. */
static int
write_drift(struct actx *a)
{
	cJSON *doc = cJSON_CreateObject();
	int r;

	cJSON_AddItemToObject(doc, "aggregatedClusterRoles", kc_rbac_drift_json(a->rb));
	cJSON_AddStringToObject(doc, "note", "the authorizer uses stored rules; the expected rules are "
	    "what the aggregation controller would store from the selectors");
	r = put_json(a, "analysis/rbac-drift.json", doc, RBAC_SOURCES, NULL);
	cJSON_Delete(doc);
	return r;
}

/* The manifest's findings_summary (analysis.h). */
static cJSON *
summary_json(const struct actx *a)
{
	cJSON *s = cJSON_CreateObject(), *c;

	cJSON_AddStringToObject(s, "triage", kc_findings_triage(&a->fnd));
	cJSON_AddStringToObject(s, "triageReason", a->fnd.secret_readers > 0 ?
	    "an agent service account can read secrets" : "no agent service account can read secrets");
	c = cJSON_AddObjectToObject(s, "findings");
	for (int sev = KC_SEV_CRITICAL; sev >= KC_SEV_INFO; sev--)
		cJSON_AddNumberToObject(c, kc_sev_name(sev), a->fnd.counts[sev]);
	cJSON_AddStringToObject(s, "highestSeverity", kc_sev_name(a->fnd.worst));
	cJSON_AddNumberToObject(s, "selected", (double)a->sel.n);
	cJSON_AddNumberToObject(s, "serverReviews", (double)a->reviews);
	cJSON_AddNumberToObject(s, "offlineOnly", (double)a->offline);
	cJSON_AddNumberToObject(s, "reviewDisagreements", (double)a->disagreements);
	cJSON_AddNumberToObject(s, "reviewEvaluationErrors", (double)a->evalerrors);
	cJSON_AddItemToObject(s, "blindSpots", kc_rbac_blind_spots_json());
	return s;
}

int
kc_analysis_run_snap(const char *staging_dir, const struct kc_snapshot *snap, const struct kc_rbac *rb,
    const struct kc_select_opts *opts, cJSON *files_out, cJSON **summary_out, int *worst_rank_out)
{
	static const char *const find_src[] = { "raw/clusterroles", "raw/clusterrolebindings", "raw/roles",
		"raw/rolebindings", "raw/serviceaccounts", "reviews", NULL };
	static const char *const agent_src[] = { KC_SNAPSHOT_AGENT_CRS, "raw/deployments", NULL };
	struct actx a;
	cJSON *doc = NULL, *f;
	struct kc_buf txt = KC_BUF_INIT(OUT_MAX);
	int r;

	if (summary_out != NULL)
		*summary_out = NULL;
	if (worst_rank_out != NULL)
		*worst_rank_out = 0;
	memset(&a, 0, sizeof(a));
	a.dir = staging_dir;
	a.files = files_out;
	a.snap = snap;
	if ((a.rb = rb) == NULL) {
		if ((r = kc_rbac_init(&a.own_rb, snap)) != 0)
			return r;
		a.rb = &a.own_rb;
	}
	if ((r = kc_findings_init(&a.fnd)) != 0)
		goto free_rb;
	if ((a.diffs = cJSON_CreateArray()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kc_select(snap, opts, &a.sel)) != 0 || (r = kc_rbac_all_namespaces(snap, &a.nss)) != 0)
		goto out;
	if ((r = kc_agent_links_load(snap, &a.links)) != 0)
		goto out;
	if ((doc = kc_selection_json(opts, &a.sel)) == NULL || (r = annotate_selection(&a, doc)) != 0) {
		r = r != 0 ? r : kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = put_json(&a, "analysis/selection.json", doc, a.links.n > 0 ? agent_src : NULL,
	    "raw/serviceaccounts")) != 0)
		goto out;
	cJSON_Delete(doc);
	doc = NULL;
	if ((r = kc_findings_eval(&a.fnd, a.rb, &a.sel, (const char *const *)a.nss.v)) != 0 ||
	    (r = all_reviews(&a, opts)) != 0)
		goto out;
	kc_findings_sort(&a.fnd);
	kc_debug("analysis: %d findings, arena %zu KiB", cJSON_GetArraySize(a.fnd.list),
	    kc_jarena_bytes(a.fnd.arena) / 1024);
	/* the findings themselves, annotated in place: nothing after reads
	 * more of them than their subject and severity */
	if ((doc = kc_findings_json_borrow(&a.fnd)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(f, kc_json_get_mut(doc, "findings"))
		if ((r = kc_agent_links_annotate(&a.links, kc_json_get_mut(f, "subject"))) != 0)
			goto out;
	if ((r = put_json_list(&a, "analysis/findings.json", doc, "findings", find_src,
	    a.links.n > 0 ? KC_SNAPSHOT_AGENT_CRS : NULL)) != 0 ||
	    (r = kc_findings_txt(doc, &txt)) != 0 ||
	    (r = put(&a, "analysis/findings.txt", txt.data, txt.len, "text/plain", NULL,
	    "analysis/findings.json")) != 0)
		goto out;
	/* written: the document and the text are not held through who-can
	 * and the inventory */
	cJSON_Delete(doc);	/* leaves the findings it borrows */
	doc = NULL;
	kc_buf_free(&txt);
	if ((r = write_review_diff(&a)) != 0 || (r = write_drift(&a)) != 0 ||
	    (r = write_whocan(&a)) != 0 || (r = write_inventory(&a)) != 0)
		goto out;
	if (summary_out != NULL)
		*summary_out = summary_json(&a);
	if (worst_rank_out != NULL)
		*worst_rank_out = a.fnd.worst;
out:
	cJSON_Delete(doc);
	cJSON_Delete(a.diffs);
	kc_buf_free(&txt);
	kc_strset_free(&a.nss);
	kc_nsindex_free(&a.pods_by_sa);
	kc_nsindex_free(&a.fnd_by_subject);
	kc_secret_index_free(&a.secrets);
	kc_selection_free(&a.sel);
	kc_agent_links_free(&a.links);
	kc_findings_free(&a.fnd);
free_rb:
	if (a.rb == &a.own_rb)
		kc_rbac_free(&a.own_rb);
	return r;
}

/* ---- analysis/log-authz-errors.json (rbac/logauthz.h) ---- */

static char *
staging_get(void *ctx, const char *rel, size_t *len)
{
	struct kc_buf b = KC_BUF_INIT(OUT_MAX);
	char *path = kc_path_join(ctx, rel), *out = NULL;

	if (path != NULL && kc_read_file(path, OUT_MAX, &b) == 0) {
		*len = b.len;
		out = b.data != NULL ? b.data : kc_strdup("");
		b.data = NULL;
	}
	free(path);
	kc_buf_free(&b);
	return out;
}

int
kc_analysis_log_summary(const char *staging_dir, cJSON *files_out, cJSON **summary_out)
{
	static const char *const src[] = { "logs/index.json", NULL };
	struct actx a;
	cJSON *doc;
	int r;

	memset(&a, 0, sizeof(a));
	a.dir = staging_dir;
	a.files = files_out;
	if ((doc = kc_logauthz_summary(staging_get, (void *)staging_dir)) == NULL)
		return kc_err_code();
	r = put_json(&a, "analysis/log-authz-errors.json", doc, src, NULL);
	if (r == 0 && summary_out != NULL) {
		const cJSON *ag;
		double lines = 0;
		int agents = 0;

		cJSON_ArrayForEach(ag, kc_json_get(doc, "agents")) {
			const cJSON *m = kc_json_get(ag, "matching_lines");

			if (cJSON_IsNumber(m) && m->valuedouble > 0) {
				lines += m->valuedouble;
				agents++;
			}
		}
		if ((*summary_out = cJSON_CreateObject()) != NULL) {
			cJSON_AddNumberToObject(*summary_out, "matching_lines", lines);
			cJSON_AddNumberToObject(*summary_out, "agents", agents);
		}
	}
	cJSON_Delete(doc);
	return r;
}
