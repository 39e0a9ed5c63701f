#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbac/labels.h"
#include "rbac/agentcr.h"
#include "rbac/hmap.h"
#include "rbac/select.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/nsindex.h"

#define NAME_MAX_LEN 1024
#define MAX_PARTS 64

static int
is_sep(char c)
{
	return c == '-' || c == '_' || c == '.' || c == ':' || c == '/';
}

int
kc_select_match_name(const void *rx, const char *ns, const char *name, char **part)
{
	char full[NAME_MAX_LEN], run[NAME_MAX_LEN];
	size_t starts[MAX_PARTS], ends[MAX_PARTS], np = 0, len;
	int n;

	if (part != NULL)
		*part = NULL;
	n = snprintf(full, sizeof(full), "%s/%s", ns, name);
	if (n < 0 || (size_t)n >= sizeof(full))
		return 0;
	len = (size_t)n;
	for (size_t i = 0; i <= len && np < MAX_PARTS;) {
		size_t j = i;

		while (j < len && !is_sep(full[j]))
			j++;
		if (j > i) {
			starts[np] = i;
			ends[np] = j;
			np++;
		}
		i = j + 1;
	}
	for (size_t a = 0; a < np; a++) {
		for (size_t b = a; b < np; b++) {
			size_t l = ends[b] - starts[a];

			memcpy(run, full + starts[a], l);
			run[l] = '\0';
			if (regexec((const regex_t *)rx, run, 0, NULL, 0) == 0) {
				if (part != NULL)
					*part = kc_strdup(run);
				return 1;
			}
		}
	}
	return 0;
}

const struct kc_selected *
kc_selection_find(const struct kc_selection *s, const char *ns, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].ns, ns) == 0 && strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

/* A selection being built: the accounts already chosen by hash, and the
 * snapshot's accounts by namespace and name (exists), so that choosing n
 * accounts of a cluster of m is not n x (n + m) comparisons. */
struct pick {
	struct kc_selection *s;
	struct kc_hmap at;		/* key() -> index into s->v */
	struct kc_nsindex sas;		/* the snapshot's ServiceAccounts */
	struct kc_buf k;
};

static int
pick_init(struct pick *p, const struct kc_snapshot *snap, struct kc_selection *s)
{
	struct kc_sa_iter x = KC_SA_ITER_INIT;
	struct kc_snap_sa sa;

	memset(p, 0, sizeof(*p));
	p->s = s;
	p->k = (struct kc_buf)KC_BUF_INIT(3 * NAME_MAX_LEN);
	while (kc_snapshot_next_sa(snap, &x, &sa))
		kc_nsindex_add(&p->sas, sa.ns, sa.name, NULL);
	kc_nsindex_sort(&p->sas);
	return p->sas.err != 0 ? kc_err_set(KC_ERR_NOMEM, "out of memory") : 0;
}

static void
pick_free(struct pick *p)
{
	kc_hmap_free(&p->at);
	kc_nsindex_free(&p->sas);
	kc_buf_free(&p->k);
}

/* "LEN:NS NAME": the namespace's length first, so that no two pairs share
 * a key whatever bytes they hold; NULL when too long for any account. */
static const char *
key(struct pick *p, const char *ns, const char *name)
{
	kc_buf_reset(&p->k);
	if (kc_buf_addf(&p->k, "%zu:%s/%s", strlen(ns), ns, name) != 0)
		return NULL;
	return kc_buf_str(&p->k);
}

static struct kc_selected *
find_mut(struct pick *p, const char *ns, const char *name)
{
	const char *k = key(p, ns, name);
	const struct kc_hmap_entry *e = k != NULL ? kc_hmap_get(&p->at, k) : NULL;

	if (e != NULL)
		return &p->s->v[e->vals[0]];
	if (k == NULL)	/* too long for a key: compared one by one */
		return (struct kc_selected *)kc_selection_find(p->s, ns, name);
	return NULL;
}

static int
add(struct pick *p, const char *ns, const char *name, const char *reason)
{
	struct kc_selection *s = p->s;
	struct kc_selected *e = find_mut(p, ns, name);
	const char *k;
	size_t nsa;
	char *r;

	if (e == NULL) {
		if (KC_GROW(s->v, s->cap, s->n + 1) != 0)
			return KC_ERR_NOMEM;
		e = &s->v[s->n];
		memset(e, 0, sizeof(*e));
		if ((e->ns = kc_strdup(ns)) == NULL || (e->name = kc_strdup(name)) == NULL) {
			free(e->ns);
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		}
		(void)kc_nsindex_slice(&p->sas, ns, name, &nsa);
		e->exists = nsa > 0;
		if ((k = key(p, ns, name)) != NULL && kc_hmap_add(&p->at, k, s->n) != 0) {
			free(e->ns);
			free(e->name);
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		}
		s->n++;
	}
	for (size_t i = 0; i < e->nreasons; i++)
		if (strcmp(e->reasons[i], reason) == 0)
			return 0;
	if ((r = kc_strdup(reason)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	e->reasons = kc_reallocarray(e->reasons, e->nreasons + 1, sizeof(*e->reasons));
	if (e->reasons == NULL) {
		free(r);
		e->nreasons = 0;
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	e->reasons[e->nreasons++] = r;
	return 0;
}

static int
by_regex(const struct kc_snapshot *snap, const char *re, struct pick *s)
{
	struct kc_buf pat = KC_BUF_INIT(8192), why = KC_BUF_INIT(8192);
	struct kc_sa_iter x = KC_SA_ITER_INIT;
	struct kc_snap_sa sa;
	regex_t rx;
	int r = 0, rc;

	if (re[0] == '\0')
		return 0;
	if (kc_buf_addf(&pat, "^(%s)$", re) != 0)
		return kc_err_set(KC_ERR_INVALID, "--agents regex too long");
	if ((rc = regcomp(&rx, kc_buf_str(&pat), REG_EXTENDED | REG_NOSUB)) != 0) {
		char msg[256];

		regerror(rc, &rx, msg, sizeof(msg));
		kc_buf_free(&pat);
		return kc_err_set(KC_ERR_INVALID, "invalid --agents regex '%s': %s", re, msg);
	}
	while (kc_snapshot_next_sa(snap, &x, &sa)) {
		char *part = NULL;

		if (!kc_select_match_name(&rx, sa.ns, sa.name, &part))
			continue;
		kc_buf_reset(&why);
		kc_buf_addf(&why, "name part '%s' matches --agents '%s'", part ? part : "", re);
		free(part);
		if ((r = add(s, sa.ns, sa.name, kc_buf_str(&why))) != 0)
			break;
	}
	regfree(&rx);
	kc_buf_free(&pat);
	kc_buf_free(&why);
	return r;
}

static int
by_selector(const struct kc_snapshot *snap, const char *selstr, struct pick *s)
{
	struct kc_labelsel sel;
	struct kc_buf why = KC_BUF_INIT(8192);
	const cJSON *it;
	int r;

	if ((r = kc_labelsel_parse(selstr, &sel)) != 0)
		return kc_err_set(KC_ERR_INVALID, "%s", kc_err_msg());
	cJSON_ArrayForEach(it, snap->items[KC_RES_PODS]) {
		const cJSON *m = kc_json_get(it, "metadata");
		const cJSON *spec = kc_json_get(it, "spec");
		const char *sa = kc_json_str0(spec, "serviceAccountName");

		if (!kc_labelsel_match(&sel, kc_json_get(m, "labels")))
			continue;
		if (sa[0] == '\0')
			sa = kc_json_str0(spec, "serviceAccount");	/* deprecated alias */
		if (sa[0] == '\0')
			sa = "default";
		kc_buf_reset(&why);
		kc_buf_addf(&why, "runs pod %s/%s matching --agent-selector '%s'",
		    kc_json_str0(m, "namespace"), kc_json_str0(m, "name"), selstr);
		/* one reason per SA is enough: the first pod found */
		if (find_mut(s, kc_json_str0(m, "namespace"), sa) != NULL) {
			struct kc_selected *e = find_mut(s, kc_json_str0(m, "namespace"), sa);
			int dup = 0;

			for (size_t i = 0; i < e->nreasons && !dup; i++)
				dup = strstr(e->reasons[i], "--agent-selector") != NULL;
			if (dup)
				continue;
		}
		if ((r = add(s, kc_json_str0(m, "namespace"), sa, kc_buf_str(&why))) != 0)
			break;
	}
	kc_labelsel_free(&sel);
	kc_buf_free(&why);
	return r;
}

/* Accounts that an agent runtime's custom resource runs as
 * (rbac/agentcr.h): agents whatever their names; a link to an account not
 * in the snapshot selects nothing (selection.json reports it). */
static int
by_agent_crs(const struct kc_snapshot *snap, struct pick *s)
{
	struct kc_agent_links links;
	char text[700], why[1500];
	int r;

	if ((r = kc_agent_links_load(snap, &links)) != 0)
		return r;
	for (size_t i = 0; i < links.n && r == 0; i++) {
		const struct kc_agent_link *l = &links.v[i];

		if (!l->exists)
			continue;
		kc_agent_link_text(l, text, sizeof(text));
		kc_fmt_trunc(why, sizeof(why), "runs %s (%s)", text, l->via);
		r = add(s, l->sa_ns, l->sa_name, why);
	}
	kc_agent_links_free(&links);
	return r;
}

static int
cmp_sel(const void *a, const void *b)
{
	const struct kc_selected *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c != 0 ? c : strcmp(x->name, y->name);
}

int
kc_select(const struct kc_snapshot *snap, const struct kc_select_opts *opts, struct kc_selection *out)
{
	struct pick p;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if ((r = pick_init(&p, snap, out)) != 0)
		goto out;
	if (!opts->no_regex && (r = by_regex(snap, opts->agents ? opts->agents : KC_AGENTS_DEFAULT, &p)) != 0)
		goto out;
	if (!opts->no_regex && (r = by_agent_crs(snap, &p)) != 0)
		goto out;
	for (size_t i = 0; i < opts->nsas; i++) {
		const char *v = opts->sas[i], *slash = strchr(v, '/');
		char ns[256];

		if (slash == NULL || slash == v || slash[1] == '\0' || strchr(slash + 1, '/') != NULL ||
		    (size_t)(slash - v) >= sizeof(ns)) {
			r = kc_err_set(KC_ERR_INVALID, "invalid --sa '%s' (expected NAMESPACE/NAME)", v);
			goto out;
		}
		memcpy(ns, v, (size_t)(slash - v));
		ns[slash - v] = '\0';
		if ((r = add(&p, ns, slash + 1, "named with --sa")) != 0)
			goto out;
	}
	if (opts->agent_selector != NULL && (r = by_selector(snap, opts->agent_selector, &p)) != 0)
		goto out;
	if (opts->all_sas) {
		struct kc_sa_iter x = KC_SA_ITER_INIT;
		struct kc_snap_sa sa;

		while (kc_snapshot_next_sa(snap, &x, &sa))
			if ((r = add(&p, sa.ns, sa.name, "--all-sas")) != 0)
				goto out;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_sel);
out:
	pick_free(&p);
	if (r != 0)
		kc_selection_free(out);
	return r;
}

void
kc_selection_free(struct kc_selection *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].ns);
		free(s->v[i].name);
		for (size_t j = 0; j < s->v[i].nreasons; j++)
			free(s->v[i].reasons[j]);
		free(s->v[i].reasons);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

cJSON *
kc_selection_json(const struct kc_select_opts *opts, const struct kc_selection *s)
{
	cJSON *o = cJSON_CreateObject(), *crit, *arr, *sas;

	if (o == NULL)
		return NULL;
	crit = cJSON_AddObjectToObject(o, "criteria");
	if (!opts->no_regex)
		cJSON_AddStringToObject(crit, "agents", opts->agents ? opts->agents : KC_AGENTS_DEFAULT);
	cJSON_AddStringToObject(crit, "agentsRule", "POSIX extended regex, anchored, matched against "
	    "every run of consecutive name parts of NAMESPACE/NAME split at '-', '_', '.', ':', '/'");
	sas = cJSON_AddArrayToObject(crit, "sa");
	for (size_t i = 0; i < opts->nsas; i++)
		cJSON_AddItemToArray(sas, cJSON_CreateString(opts->sas[i]));
	if (opts->agent_selector != NULL)
		cJSON_AddStringToObject(crit, "agentSelector", opts->agent_selector);
	cJSON_AddBoolToObject(crit, "allServiceAccounts", opts->all_sas);
	arr = cJSON_AddArrayToObject(o, "selected");
	for (size_t i = 0; i < s->n; i++) {
		cJSON *e = cJSON_CreateObject(), *rs;

		cJSON_AddStringToObject(e, "namespace", s->v[i].ns);
		cJSON_AddStringToObject(e, "name", s->v[i].name);
		cJSON_AddBoolToObject(e, "exists", s->v[i].exists);
		rs = cJSON_AddArrayToObject(e, "reasons");
		for (size_t j = 0; j < s->v[i].nreasons; j++)
			cJSON_AddItemToArray(rs, cJSON_CreateString(s->v[i].reasons[j]));
		cJSON_AddItemToArray(arr, e);
	}
	return o;
}
