/* propose.c - least-privilege proposal from the audit segment of a bundle
 * (propose.h, docs/RECERTIFY.md "Least-privilege proposal"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/audit.h"
#include "manifest/bundle.h"
#include "rbac/hmap.h"
#include "rbac/propose.h"
#include "rbac/scope.h"
#include "rbac/source.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/timeutil.h"

#define PROPOSED_PREFIX "kcustody-proposed:"

/* One distinct request an agent made in the window. */
struct use {
	char *verb, *group, *res, *sub, *name, *ns, *path;	/* ns "" cluster scope; path: non-resource */
	size_t count;
	int denied;
};

/* What the proposal grants in one namespace ("" cluster scope): verbs
 * per (group, resource, name) or per URL. */
struct bucket {
	const char *ns, *group, *name, *path;	/* borrowed from the uses */
	char *resource;				/* "res" or "res/sub" */
	struct kc_strset verbs;
};

struct agent {
	const char *ns, *name;
	struct kc_rbac_sa_id id;
	const struct kc_scope_agent *a;	/* NULL: missing from the scope file */
	struct use *u;
	size_t nu, capu;
	struct kc_hmap ix;		/* use key -> index */
	struct bucket *b;
	size_t nb, capb;
	cJSON *o;			/* its member of "agents" */
};

struct ctx {
	const struct kc_rbac *rb;
	struct agent *ag;
	size_t nag;
	struct kc_hmap by_user;		/* username -> agent */
	char **removed;			/* per binding: a flag per subject to remove (NULL: none) */
	struct kc_strset ids;		/* auditIDs already counted */
	size_t events, attributed;
};

static int
nomem(void)
{
	return kc_err_set(KC_ERR_NOMEM, "out of memory");
}

/* ---- the window ---- */

/* Filters a proposal can take: the window, the agents, collect's own traffic. */
static int
filter_ok(const char *name)
{
	static const char *const ok[] = { "since", "until", "since_resolved", "until_resolved", "sa",
	    "exclude-run", NULL };

	for (size_t i = 0; ok[i] != NULL; i++)
		if (strcmp(ok[i], name) == 0)
			return 1;
	return 0;
}

static int
refuse_filters(const cJSON *src, const char *bundle)
{
	const cJSON *f = kc_json_get(src, "filters"), *it;

	cJSON_ArrayForEach(it, f) {
		/* collect excludes its own run, one; another given with
		 * --audit-filter exclude-run drops someone's requests */
		if (it->string != NULL && strcmp(it->string, "exclude-run") == 0 && cJSON_GetArraySize(it) > 1)
			return kc_err_set(KC_ERR_INVALID, "no proposal from '%s': its audit segment was filtered "
			    "(--audit-filter exclude-run)", bundle);
		if (it->string != NULL && !filter_ok(it->string))
			return kc_err_set(KC_ERR_INVALID, "no proposal from '%s': its audit segment was filtered "
			    "(--audit-filter %s): requests outside the filter are missing, so unused cannot be "
			    "told from unseen; collect again without --audit-filter", bundle, it->string);
	}
	return 0;
}

/* The segment's agents filter (collect adds each selected agent) must
 * hold every agent a proposal is made for. */
static int
refuse_agents(const cJSON *src, const struct ctx *c, const char *bundle)
{
	const cJSON *sa = kc_json_get(kc_json_get(src, "filters"), "sa"), *it;

	if (sa == NULL)
		return 0;	/* every subject's events */
	for (size_t i = 0; i < c->nag; i++) {
		char want[1200];
		int found = 0;

		if (kc_fmt(want, sizeof(want), "%s/%s", c->ag[i].ns, c->ag[i].name) != 0)
			return kc_err_set(KC_ERR_LIMIT, "agent name too long");
		cJSON_ArrayForEach(it, sa)
			found |= cJSON_IsString(it) && strcmp(it->valuestring, want) == 0;
		if (!found)
			return kc_err_set(KC_ERR_INVALID, "no proposal from '%s': its audit segment holds no "
			    "events of agent %s (not in the segment's --sa filter)", bundle, want);
	}
	return 0;
}

static int
refuse_gaps(const cJSON *src, const char *bundle)
{
	const cJSON *g = kc_json_get(src, "gaps"), *w = kc_json_get(src, "window");
	const cJSON *tot = kc_json_get(src, "totals"), *it;
	double n;

	if (cJSON_GetArraySize(g) > 0 || cJSON_IsNumber(kc_json_get(src, "gaps_not_listed"))) {
		const cJSON *g0 = cJSON_GetArrayItem(g, 0);

		return kc_err_set(KC_ERR_INVALID, "no proposal from '%s': its audit window has %d gap(s) "
		    "(first: %s from %s to %s): requests in a gap are unseen", bundle, cJSON_GetArraySize(g),
		    kc_json_str0(g0, "kind"), kc_json_str0(g0, "from"), kc_json_str0(g0, "to"));
	}
	if (cJSON_IsFalse(kc_json_get(w, "start_covered")) || cJSON_IsFalse(kc_json_get(w, "end_covered")))
		return kc_err_set(KC_ERR_INVALID, "no proposal from '%s': the audit log does not cover the "
		    "window asked for (start or end uncovered: a gap)", bundle);
	if ((n = cJSON_GetNumberValue(kc_json_get(tot, "source_errors"))) > 0)
		return kc_err_set(KC_ERR_INVALID, "no proposal from '%s': %.0f audit source(s) could not be "
		    "read to the end", bundle, n);
	cJSON_ArrayForEach(it, kc_json_get(src, "malformed")) {
		const char *why = kc_json_str0(it, "reason");

		/* a current file caught while the server wrote its last line */
		if (strncmp(why, "truncated last line", 19) != 0)
			return kc_err_set(KC_ERR_INVALID, "no proposal from '%s': a malformed audit line (%s in "
			    "%s at offset %.0f) may hide a request", bundle, why, kc_json_str0(it, "source"),
			    cJSON_GetNumberValue(kc_json_get(it, "offset")));
	}
	if (cJSON_IsNumber(kc_json_get(src, "malformed_not_listed")))
		return kc_err_set(KC_ERR_INVALID, "no proposal from '%s': malformed audit lines may hide "
		    "requests", bundle);
	/* "all", or "no events" (an empty window is stated as such below) */
	if (strcmp(kc_json_str0(kc_json_get(src, "reads"), "visible"), "none") == 0 ||
	    strcmp(kc_json_str0(kc_json_get(src, "reads"), "visible"), "some") == 0)
		return kc_err_set(KC_ERR_INVALID, "no proposal from '%s': its audit sources do not log reads "
		    "(get, list, watch)", bundle);
	return 0;
}

static int
window_json(const cJSON *src, int64_t min_window, const char *bundle, cJSON *doc)
{
	const cJSON *w = kc_json_get(src, "window");
	const char *from = kc_json_str(kc_json_get(w, "requested"), "since");
	const char *to = kc_json_str(kc_json_get(w, "requested"), "until");
	time_t fs, ts;
	long fn, tn;
	double secs, days;
	cJSON *x;
	char msg[400];

	if (from == NULL)
		from = kc_json_str(kc_json_get(w, "covered"), "from");
	if (to == NULL)
		to = kc_json_str(kc_json_get(w, "covered"), "to");
	if (from == NULL || to == NULL || kc_parse_rfc3339(from, &fs, &fn) != 0 ||
	    kc_parse_rfc3339(to, &ts, &tn) != 0)
		return kc_err_set(KC_ERR_INVALID, "no proposal from '%s': its audit segment holds no event "
		    "(no window)", bundle);
	secs = (double)(ts - fs) + (double)(tn - fn) / 1e9;
	days = (double)(int64_t)(secs / 864.0) / 100.0;	/* cut to 2 decimals: never rounded up to the minimum */
	if ((x = cJSON_AddObjectToObject(doc, "window")) == NULL)
		return nomem();
	cJSON_AddStringToObject(x, "from", from);
	cJSON_AddStringToObject(x, "to", to);
	cJSON_AddNumberToObject(x, "seconds", (double)(int64_t)secs);
	cJSON_AddNumberToObject(x, "days", days);
	cJSON_AddNumberToObject(x, "minimumSeconds", (double)min_window);
	cJSON_AddBoolToObject(x, "belowMinimum", secs < (double)min_window);
	if (secs < (double)min_window) {
		kc_fmt_trunc(msg, sizeof(msg), "the audit window is %.2f days, shorter than the minimum of "
		    "%.2f days: a job that runs less often than the window (a monthly report, a quarterly "
		    "rotation) was never seen and loses its access if this proposal is applied",
		    days, (double)min_window / 86400.0);
		cJSON_AddStringToObject(x, "warning", msg);
	}
	return 0;
}

/* ---- uses from the segment ---- */

static char *
dup0(const char *s)
{
	return kc_strdup(s != NULL ? s : "");
}

static int
add_use(struct agent *ag, const struct use *q)
{
	char key[2048];
	const struct kc_hmap_entry *e;
	struct use *u;

	if (kc_fmt(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%d", q->verb, q->group, q->res,
	    q->sub, q->name, q->ns, q->path, q->denied) != 0)
		return 0;	/* a name too long for any object: not a request the server took */
	if ((e = kc_hmap_get(&ag->ix, key)) != NULL) {
		ag->u[e->vals[0]].count++;
		return 0;
	}
	if (kc_grow((void **)&ag->u, &ag->capu, ag->nu + 1, sizeof(*ag->u)) != 0)
		return nomem();
	u = &ag->u[ag->nu];
	memset(u, 0, sizeof(*u));
	u->count = 1;
	u->denied = q->denied;
	if ((u->verb = dup0(q->verb)) == NULL || (u->group = dup0(q->group)) == NULL ||
	    (u->res = dup0(q->res)) == NULL || (u->sub = dup0(q->sub)) == NULL ||
	    (u->name = dup0(q->name)) == NULL || (u->ns = dup0(q->ns)) == NULL ||
	    (u->path = dup0(q->path)) == NULL)
		return nomem();
	ag->nu++;
	return kc_hmap_add(&ag->ix, key, ag->nu - 1);
}

/* The request of event ev as the authorizer saw it. */
static void
request_of(const cJSON *ev, struct use *q, char *path, size_t pn)
{
	const cJSON *ref = kc_json_get(ev, "objectRef");

	memset(q, 0, sizeof(*q));
	q->verb = (char *)kc_json_str0(ev, "verb");
	if (ref == NULL) {
		const char *uri = kc_json_str0(ev, "requestURI");
		size_t n = strcspn(uri, "?");

		kc_fmt_trunc(path, pn, "%.*s", (int)n, uri);
		q->path = path;
		return;
	}
	q->group = (char *)kc_json_str0(ref, "apiGroup");
	q->res = (char *)kc_json_str0(ref, "resource");
	q->sub = (char *)kc_json_str0(ref, "subresource");
	q->name = (char *)kc_json_str0(ref, "name");
	q->ns = (char *)kc_json_str0(ref, "namespace");
	/* create names no object in its authorization (the name in the audit
	 * event comes from the body) */
	if (strcmp(q->verb, "create") == 0 && q->sub[0] == '\0')
		q->name = (char *)"";
	/* a cluster-scoped resource: the request has no namespace for a
	 * ClusterRoleBinding (a namespaces get carries its own name) */
	if (kc_rbac_cluster_scoped(q->group, q->res))
		q->ns = (char *)"";
}

static int
one_event(struct ctx *c, const cJSON *ev)
{
	const char *stage = kc_json_str0(ev, "stage"), *id = kc_json_str0(ev, "auditID");
	const char *user = kc_json_str(kc_json_get(ev, "impersonatedUser"), "username");
	const char *dec = kc_json_str(kc_json_get(ev, "annotations"), "authorization.k8s.io/decision");
	const struct kc_hmap_entry *e;
	struct use q;
	char path[1024];
	int r;

	c->events++;
	/* the decision is known once the request was authorized */
	if (strcmp(stage, "ResponseComplete") != 0 && strcmp(stage, "ResponseStarted") != 0 &&
	    strcmp(stage, "Panic") != 0)
		return 0;
	if (user == NULL)
		user = kc_json_str(kc_json_get(ev, "user"), "username");
	if (user == NULL || (e = kc_hmap_get(&c->by_user, user)) == NULL)
		return 0;
	if (id[0] != '\0') {
		if (kc_strset_has(&c->ids, id))
			return 0;
		if ((r = kc_strset_add(&c->ids, id)) != 0)
			return r;
	}
	c->attributed++;
	request_of(ev, &q, path, sizeof(path));
	if (dec != NULL)
		q.denied = strcmp(dec, "allow") != 0;
	else
		q.denied = cJSON_GetNumberValue(kc_json_path(ev, "responseStatus.code")) == 403;
	return add_use(&c->ag[e->vals[0]], &q);
}

/* One line of the segment (one JSON object). */
static int
segment_line(struct ctx *c, const char *p, size_t n)
{
	cJSON *ev;
	int r;

	if ((ev = cJSON_ParseWithLength(p, n)) == NULL)
		return 0;	/* the segment holds whole events; malformed ones were set aside */
	r = one_event(c, ev);
	cJSON_Delete(ev);
	return r;
}

/* ---- what the agent holds ---- */

static int
subject_is(const struct kc_rbac_binding *b, const struct kc_snap_subject *s, const struct agent *ag)
{
	if (strcmp(s->kind, "User") == 0)
		return strcmp(s->name, ag->id.user) == 0;
	if (strcmp(s->kind, "ServiceAccount") != 0 || strcmp(s->name, ag->name) != 0)
		return 0;
	return strcmp(s->ns[0] || b->cluster ? s->ns : b->ns, ag->ns) == 0;
}

/* Does one permission (verb, group, resource of rule r, in bns or "*")
 * cover use u? */
static int
perm_covers(const struct kc_rbac_rule *r, const char *verb, const char *group, const char *res,
    const char *bns, const struct use *u)
{
	struct kc_rbac_rule one = *r;
	const char *v[1] = { verb }, *g[1] = { group }, *rs[1] = { res };
	struct kc_rbac_request q = { u->verb, u->group, u->res, u->sub, u->name, u->ns, NULL };

	if (u->denied || u->path[0] != '\0')
		return 0;
	if (strcmp(bns, "*") != 0 && strcmp(bns, u->ns) != 0)
		return 0;
	one.verbs.v = v;
	one.verbs.n = 1;
	one.groups.v = g;
	one.groups.n = 1;
	one.resources.v = rs;
	one.resources.n = 1;
	one.urls.n = 0;
	return kc_rbac_rule_allows(&one, &q);
}

static int
url_used(const struct kc_rbac_rule *r, const char *verb, const char *url, const struct agent *ag)
{
	struct kc_rbac_rule one = *r;
	const char *v[1] = { verb }, *us[1] = { url };

	one.verbs.v = v;
	one.verbs.n = 1;
	one.urls.v = us;
	one.urls.n = 1;
	for (size_t i = 0; i < ag->nu; i++)
		if (!ag->u[i].denied && ag->u[i].path[0] && kc_rbac_verb_matches(&one, ag->u[i].verb) &&
		    kc_rbac_url_matches(&one, ag->u[i].path))
			return 1;
	return 0;
}

static cJSON *
unused_item(const struct kc_rbac_grant *g, const char *verb, const char *group, const char *res,
    const char *url, const char *ns)
{
	cJSON *o = cJSON_CreateObject(), *n;

	cJSON_AddStringToObject(o, "verb", verb);
	if (url != NULL) {
		cJSON_AddStringToObject(o, "nonResourceURL", url);
	} else {
		cJSON_AddStringToObject(o, "apiGroup", group);
		cJSON_AddStringToObject(o, "resource", res);
		if (g->rule->names.n > 0) {
			n = cJSON_AddArrayToObject(o, "resourceNames");
			for (size_t i = 0; i < g->rule->names.n; i++)
				cJSON_AddItemToArray(n, cJSON_CreateString(g->rule->names.v[i]));
		}
		cJSON_AddStringToObject(o, "namespace", ns);
	}
	cJSON_AddItemToObject(o, "binding", kc_rbac_binding_ref_json(g->binding));
	cJSON_AddItemToObject(o, "role", kc_rbac_role_ref_json(g->binding));
	cJSON_AddNumberToObject(o, "ruleIndex", (double)g->rule->index);
	return o;
}

/* One grant of the agent: a direct one marks its binding for the agent's
 * removal and lists its permissions no request used. */
static int
held_grant(struct agent *ag, const struct kc_rbac_grant *g, const char *ns, cJSON *unused,
    cJSON *kept)
{
	const struct kc_rbac_binding *b = g->binding;
	const struct kc_rbac_rule *r = g->rule;
	int cl = b->cluster;

	if (strcmp(b->subjects[g->subject].kind, "Group") == 0) {
		/* a binding through a group is not the agent's to edit */
		cJSON *it;

		cJSON_ArrayForEach(it, kept)
			if (strcmp(kc_json_str0(it, "name"), b->name) == 0 &&
			    strcmp(kc_json_str0(it, "namespace"), b->ns) == 0)
				return 0;
		cJSON_AddItemToArray(kept, kc_rbac_binding_ref_json(b));
		return 0;
	}
	if (r->urls.n > 0 && kc_rbac_grant_cluster(g))
		for (size_t v = 0; v < r->verbs.n; v++)
			for (size_t u = 0; u < r->urls.n; u++)
				if (!url_used(r, r->verbs.v[v], r->urls.v[u], ag))
					cJSON_AddItemToArray(unused, unused_item(g, r->verbs.v[v], NULL, NULL,
					    r->urls.v[u], NULL));
	for (size_t v = 0; v < r->verbs.n; v++)
		for (size_t gi = 0; gi < r->groups.n; gi++)
			for (size_t ri = 0; ri < r->resources.n; ri++) {
				int used = 0;

				if (!cl && strcmp(r->resources.v[ri], "*") != 0 &&
				    !kc_rbac_ns_effective(r->verbs.v[v], r->groups.v[gi], r->resources.v[ri]))
					continue;	/* listed by a review, never granted */
				/* through a ClusterRoleBinding: every namespace, or cluster
				 * scope ("") for a cluster-scoped resource */
				const char *at = !cl ? ns : kc_rbac_cluster_scoped(r->groups.v[gi],
				    r->resources.v[ri]) ? "" : "*";

				for (size_t i = 0; i < ag->nu && !used; i++)
					used = perm_covers(r, r->verbs.v[v], r->groups.v[gi], r->resources.v[ri],
					    at, &ag->u[i]);
				if (!used)
					cJSON_AddItemToArray(unused, unused_item(g, r->verbs.v[v], r->groups.v[gi],
					    r->resources.v[ri], NULL, at));
			}
	return 0;
}

/* Every binding that names the agent itself loses it, also one whose role
 * grants nothing today (a missing role, an aggregated role not yet
 * filled): the agent must not regain access when that role changes. */
static int
mark_direct(struct ctx *c, const struct agent *ag)
{
	size_t *cand = NULL, ncand = 0, capcand = 0;
	int r;

	if ((r = kc_rbac_rb_candidates(c->rb, &ag->id.id, &cand, &ncand, &capcand)) != 0)
		return r;
	for (size_t i = 0; i < c->rb->ncrb + ncand && r == 0; i++) {
		size_t bi = i < c->rb->ncrb ? i : cand[i - c->rb->ncrb];
		const struct kc_rbac_binding *b = &c->rb->bindings[bi];

		for (size_t s = 0; s < b->nsubjects; s++) {
			if (!subject_is(b, &b->subjects[s], ag))
				continue;
			if (c->removed[bi] == NULL &&
			    (c->removed[bi] = kc_calloc(b->nsubjects, 1)) == NULL) {
				r = nomem();
				break;
			}
			c->removed[bi][s] = 1;
		}
	}
	free(cand);
	return r;
}

static int
held(struct ctx *c, struct agent *ag, cJSON *unused, cJSON *kept)
{
	struct kc_rbac_rules rules;
	struct kc_strset seen;
	size_t *cand = NULL, ncand = 0, capcand = 0;
	int r;

	memset(&rules, 0, sizeof(rules));
	memset(&seen, 0, sizeof(seen));
	if ((r = mark_direct(c, ag)) != 0 || (r = kc_rbac_rules_for(c->rb, &ag->id.id, "", &rules)) != 0)
		goto out;
	for (size_t g = 0; g < rules.n && r == 0; g++)
		r = held_grant(ag, &rules.grants[g], "*", unused, kept);
	if (r != 0 || (r = kc_rbac_rb_candidates(c->rb, &ag->id.id, &cand, &ncand, &capcand)) != 0)
		goto out;
	for (size_t i = 0; i < ncand && r == 0; i++) {
		const char *bns = c->rb->bindings[cand[i]].ns;

		if (kc_strset_has(&seen, bns))
			continue;
		if ((r = kc_strset_add(&seen, bns)) != 0 ||
		    (r = kc_rbac_rules_for_ns(c->rb, &ag->id.id, bns, &rules)) != 0)
			goto out;
		for (size_t g = 0; g < rules.n && r == 0; g++)
			r = held_grant(ag, &rules.grants[g], bns, unused, kept);
	}
out:
	free(cand);
	kc_strset_free(&seen);
	kc_rbac_rules_free(&rules);
	return r;
}

/* ---- what is proposed ---- */

/* Is u allowed by a grant through a group (kept as it is)? */
static int
kept_allows(const struct ctx *c, const struct agent *ag, const struct use *u, struct kc_rbac_rules *rules)
{
	struct kc_rbac_request q = { u->verb, u->group, u->res, u->sub, u->name, u->ns,
	    u->path[0] ? u->path : NULL };

	if (kc_rbac_rules_for(c->rb, &ag->id.id, u->ns, rules) != 0)
		return 0;
	for (size_t g = 0; g < rules->n; g++) {
		const struct kc_rbac_grant *gr = &rules->grants[g];

		if (strcmp(gr->binding->subjects[gr->subject].kind, "Group") != 0)
			continue;
		if (q.path != NULL && !kc_rbac_grant_cluster(gr))
			continue;
		if (kc_rbac_rule_allows(gr->rule, &q))
			return 1;
	}
	return 0;
}

static int
bucket_add(struct agent *ag, const struct use *u)
{
	/* names only where the scope approves by name: secrets and configmaps */
	int byname = u->group[0] == '\0' && (strcmp(u->res, "secrets") == 0 || strcmp(u->res, "configmaps") == 0);
	const char *name = byname ? u->name : "";
	char res[600];
	struct bucket *b;

	if (kc_fmt(res, sizeof(res), "%s%s%s", u->res, u->sub[0] ? "/" : "", u->sub) != 0)
		return 0;
	for (size_t i = 0; i < ag->nb; i++) {
		b = &ag->b[i];
		if (strcmp(b->ns, u->ns) == 0 && strcmp(b->path, u->path) == 0 && strcmp(b->group, u->group) == 0 &&
		    strcmp(b->resource, res) == 0 && strcmp(b->name, name) == 0)
			return kc_strset_add(&b->verbs, u->verb);
	}
	if (kc_grow((void **)&ag->b, &ag->capb, ag->nb + 1, sizeof(*ag->b)) != 0)
		return nomem();
	b = &ag->b[ag->nb];
	memset(b, 0, sizeof(*b));
	b->ns = u->ns;
	b->group = u->group;
	b->path = u->path;
	b->name = name;
	if ((b->resource = kc_strdup(res)) == NULL)
		return nomem();
	ag->nb++;
	return kc_strset_add(&b->verbs, u->verb);
}

static cJSON *
use_json(const struct use *u)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "verb", u->verb);
	if (u->path[0]) {
		cJSON_AddStringToObject(o, "nonResourceURL", u->path);
	} else {
		cJSON_AddStringToObject(o, "apiGroup", u->group);
		cJSON_AddStringToObject(o, "resource", u->res);
		if (u->sub[0])
			cJSON_AddStringToObject(o, "subresource", u->sub);
		cJSON_AddStringToObject(o, "namespace", u->ns);
		if (u->name[0])
			cJSON_AddStringToObject(o, "name", u->name);
	}
	cJSON_AddNumberToObject(o, "requests", (double)u->count);
	return o;
}

/* Sort the uses before anything keeps pointers into them. */
static int
use_cmp(const void *x, const void *y)
{
	const struct use *a = x, *b = y;
	int r;

	if ((r = strcmp(a->ns, b->ns)) != 0 || (r = strcmp(a->path, b->path)) != 0 ||
	    (r = strcmp(a->group, b->group)) != 0 || (r = strcmp(a->res, b->res)) != 0 ||
	    (r = strcmp(a->sub, b->sub)) != 0 || (r = strcmp(a->name, b->name)) != 0 ||
	    (r = strcmp(a->verb, b->verb)) != 0)
		return r;
	return a->denied - b->denied;
}

/* Judge each use: denied, kept by a group's grant, beyond scope, or proposed. */
static int
judge_uses(const struct ctx *c, struct agent *ag, cJSON *o, size_t *nprop)
{
	cJSON *used = cJSON_AddArrayToObject(o, "used"), *denied = cJSON_AddArrayToObject(o, "denied");
	cJSON *beyond = cJSON_AddArrayToObject(o, "usedBeyondScope");
	struct kc_rbac_rules rules;
	int r = 0;

	memset(&rules, 0, sizeof(rules));
	for (size_t i = 0; i < ag->nu && r == 0; i++) {
		struct use *u = &ag->u[i];
		cJSON *j = use_json(u), *reasons;
		char res[600];
		const char *one[1] = { u->name };
		struct kc_rbac_strs names = { one, u->name[0] ? 1 : 0 };

		if (u->denied) {
			cJSON_AddItemToArray(denied, j);
			continue;
		}
		cJSON_AddItemToArray(used, j);
		if (kept_allows(c, ag, u, &rules)) {
			cJSON_AddStringToObject(j, "proposal", "kept: allowed through a group's binding");
			continue;
		}
		reasons = cJSON_CreateArray();
		if (u->path[0]) {
			if (!kc_recert_url_ok(ag->a, u->path, u->verb)) {
				kc_fmt_trunc(res, sizeof(res), "no 'nonResourceURLs' entry allows verb '%s' on '%s'",
				    u->verb, u->path);
				cJSON_AddItemToArray(reasons, cJSON_CreateString(res));
			}
		} else if (kc_fmt(res, sizeof(res), "%s%s%s", u->res, u->sub[0] ? "/" : "", u->sub) == 0) {
			kc_recert_judge(ag->a, u->verb, u->group, res, &names, u->ns[0] ? u->ns : "*",
			    u->ns[0] == '\0', reasons);
		}
		if (cJSON_GetArraySize(reasons) > 0) {
			cJSON_AddStringToObject(j, "proposal", "not granted: beyond scope");
			cJSON_AddItemToObject(j, "reasons", reasons);
			cJSON_AddItemToArray(beyond, cJSON_Duplicate(j, 1));
			continue;
		}
		cJSON_Delete(reasons);
		cJSON_AddStringToObject(j, "proposal", "granted");
		(*nprop)++;
		r = bucket_add(ag, u);
	}
	kc_rbac_rules_free(&rules);
	return r;
}

static cJSON *
strs_json(const char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static cJSON *
meta(cJSON *obj, const char *name, const char *ns, const char *bundle_sha, const cJSON *window)
{
	cJSON *m = cJSON_AddObjectToObject(obj, "metadata"), *x;

	cJSON_AddStringToObject(m, "name", name);
	if (ns != NULL)
		cJSON_AddStringToObject(m, "namespace", ns);
	x = cJSON_AddObjectToObject(m, "labels");
	cJSON_AddStringToObject(x, "app.kubernetes.io/managed-by", "kcustody");
	x = cJSON_AddObjectToObject(m, "annotations");
	cJSON_AddStringToObject(x, "kcustody.dev/proposed-from-bundle-sha256", bundle_sha);
	cJSON_AddStringToObject(x, "kcustody.dev/audit-window", kc_json_str0(window, "from"));
	cJSON_AddStringToObject(x, "kcustody.dev/audit-window-end", kc_json_str0(window, "to"));
	return m;
}

static int
bucket_cmp(const void *x, const void *y)
{
	const struct bucket *a = x, *b = y;
	int r;

	if ((r = strcmp(a->ns, b->ns)) != 0 || (r = strcmp(a->path, b->path)) != 0 ||
	    (r = strcmp(a->group, b->group)) != 0 || (r = strcmp(a->resource, b->resource)) != 0)
		return r;
	return strcmp(a->name, b->name);
}

/* The Role (ClusterRole for ns "") and its binding to the agent. */
static int
role_pair(const struct agent *ag, size_t from, size_t to, const char *bundle_sha, const cJSON *window,
    cJSON *apply)
{
	const char *ns = ag->b[from].ns;
	int cl = ns[0] == '\0';
	char name[1400];
	cJSON *role, *rules, *bind, *x, *s;

	if (kc_fmt(name, sizeof(name), PROPOSED_PREFIX "%s:%s", ag->ns, ag->name) != 0)
		return kc_err_set(KC_ERR_LIMIT, "agent name too long");
	role = cJSON_CreateObject();
	cJSON_AddStringToObject(role, "apiVersion", "rbac.authorization.k8s.io/v1");
	cJSON_AddStringToObject(role, "kind", cl ? "ClusterRole" : "Role");
	meta(role, name, cl ? NULL : ns, bundle_sha, window);
	rules = cJSON_AddArrayToObject(role, "rules");
	for (size_t i = from; i < to; i++) {
		const struct bucket *b = &ag->b[i];

		x = cJSON_CreateObject();
		cJSON_AddItemToObject(x, "verbs", strs_json((const char *const *)b->verbs.v, b->verbs.n));
		if (b->path[0]) {
			cJSON_AddItemToObject(x, "nonResourceURLs", strs_json(&b->path, 1));
		} else {
			cJSON_AddItemToObject(x, "apiGroups", strs_json(&b->group, 1));
			cJSON_AddItemToObject(x, "resources", strs_json((const char *const *)&b->resource, 1));
			if (b->name[0])
				cJSON_AddItemToObject(x, "resourceNames", strs_json(&b->name, 1));
		}
		cJSON_AddItemToArray(rules, x);
	}
	cJSON_AddItemToArray(apply, role);
	bind = cJSON_CreateObject();
	cJSON_AddStringToObject(bind, "apiVersion", "rbac.authorization.k8s.io/v1");
	cJSON_AddStringToObject(bind, "kind", cl ? "ClusterRoleBinding" : "RoleBinding");
	meta(bind, name, cl ? NULL : ns, bundle_sha, window);
	x = cJSON_AddObjectToObject(bind, "roleRef");
	cJSON_AddStringToObject(x, "apiGroup", "rbac.authorization.k8s.io");
	cJSON_AddStringToObject(x, "kind", cl ? "ClusterRole" : "Role");
	cJSON_AddStringToObject(x, "name", name);
	s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "kind", "ServiceAccount");
	cJSON_AddStringToObject(s, "name", ag->name);
	cJSON_AddStringToObject(s, "namespace", ag->ns);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(bind, "subjects"), s);
	cJSON_AddItemToArray(apply, bind);
	return 0;
}

static int
agent_objects(struct agent *ag, const char *bundle_sha, const cJSON *window, cJSON *apply)
{
	int r = 0;

	for (size_t i = 0; i < ag->nb; i++)
		kc_strset_sort(&ag->b[i].verbs);
	if (ag->nb > 1)	/* qsort(NULL, 0) is undefined */
		qsort(ag->b, ag->nb, sizeof(*ag->b), bucket_cmp);
	for (size_t i = 0, j; i < ag->nb && r == 0; i = j) {
		for (j = i + 1; j < ag->nb && strcmp(ag->b[j].ns, ag->b[i].ns) == 0; j++)
			;
		r = role_pair(ag, i, j, bundle_sha, window, apply);
	}
	return r;
}

/* A binding without the removed subjects (apply), or its reference
 * (delete) when none is left. */
static void
binding_change(const struct kc_rbac_binding *b, const char *removed, cJSON *apply, cJSON *del, cJSON *changes)
{
	const char *kind = b->cluster ? "ClusterRoleBinding" : "RoleBinding";
	size_t left = 0;
	cJSON *o, *m, *subs, *it, *ch;
	int i = 0;

	for (size_t s = 0; s < b->nsubjects; s++)
		left += !removed[s];
	ch = kc_rbac_binding_ref_json(b);
	cJSON_AddItemToArray(changes, ch);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "apiVersion", "rbac.authorization.k8s.io/v1");
	cJSON_AddStringToObject(o, "kind", kind);
	m = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(m, "name", b->name);
	if (!b->cluster)
		cJSON_AddStringToObject(m, "namespace", b->ns);
	/* the version collected: an edit is then applied only to the binding
	 * as it was (the server answers Conflict if it changed since, so a
	 * subject added after collection is never dropped); a deletion carries
	 * it too, for the check before deleting (docs/RECERTIFY.md) */
	{
		const char *rv = kc_json_str(kc_json_get(b->obj, "metadata"), "resourceVersion");
		const char *uid = kc_json_str(kc_json_get(b->obj, "metadata"), "uid");

		if (rv != NULL && rv[0] != '\0')
			cJSON_AddStringToObject(m, "resourceVersion", rv);
		if (left == 0 && uid != NULL && uid[0] != '\0')
			cJSON_AddStringToObject(m, "uid", uid);
	}
	if (left == 0) {
		cJSON_AddStringToObject(ch, "change", "delete");
		cJSON_AddItemToArray(del, o);
		return;
	}
	cJSON_AddStringToObject(ch, "change", "edit");
	cJSON_AddNumberToObject(ch, "subjectsLeft", (double)left);
	/* the stored object minus the agent and the server's own fields */
	if ((it = (cJSON *)kc_json_path(b->obj, "metadata.labels")) != NULL)
		cJSON_AddItemToObject(m, "labels", cJSON_Duplicate(it, 1));
	if ((it = (cJSON *)kc_json_path(b->obj, "metadata.annotations")) != NULL) {
		cJSON *an = cJSON_Duplicate(it, 1);

		kc_json_delete(an, "kubectl.kubernetes.io/last-applied-configuration");
		cJSON_AddItemToObject(m, "annotations", an);
	}
	cJSON_AddItemToObject(o, "roleRef", cJSON_Duplicate(kc_json_get(b->obj, "roleRef"), 1));
	subs = cJSON_AddArrayToObject(o, "subjects");
	cJSON_ArrayForEach(it, kc_json_get(b->obj, "subjects")) {
		/* b->subjects follows the stored list, one for one */
		if ((size_t)i < b->nsubjects && !removed[i])
			cJSON_AddItemToArray(subs, cJSON_Duplicate(it, 1));
		i++;
	}
	cJSON_AddItemToArray(apply, o);
}

/* ---- the whole ---- */

static int
init_agents(struct ctx *c, const cJSON *sel, const struct kc_scope *s)
{
	const cJSON *it;
	size_t n = (size_t)cJSON_GetArraySize(kc_json_get(sel, "selected"));
	int r;

	if ((c->ag = kc_calloc(n ? n : 1, sizeof(*c->ag))) == NULL)
		return nomem();
	cJSON_ArrayForEach(it, kc_json_get(sel, "selected")) {
		struct agent *ag = &c->ag[c->nag];
		long idx;

		ag->ns = kc_json_str0(it, "namespace");
		ag->name = kc_json_str0(it, "name");
		if (ag->ns[0] == '\0' || ag->name[0] == '\0')
			continue;
		if ((r = kc_scope_match(s, ag->ns, ag->name, &idx)) != 0 ||
		    (r = kc_rbac_sa_identity(&ag->id, ag->ns, ag->name)) != 0 ||
		    (r = kc_hmap_add(&c->by_user, ag->id.user, c->nag)) != 0)
			return r;
		ag->a = idx >= 0 ? &s->v[idx] : NULL;
		c->nag++;
	}
	return 0;
}

static int
propose(struct ctx *c, const char *bundle_sha, cJSON *d)
{
	cJSON *agents = cJSON_AddArrayToObject(d, "agents"), *objs = cJSON_AddObjectToObject(d, "objects");
	cJSON *apply = cJSON_AddArrayToObject(objs, "apply"), *del = cJSON_AddArrayToObject(objs, "delete");
	cJSON *changes = cJSON_AddArrayToObject(d, "bindingChanges"), *edited = cJSON_CreateArray();
	const cJSON *window = kc_json_get(d, "window");
	size_t nprop = 0, nunused = 0, nmissing = 0;
	cJSON *sum;
	int r = 0;

	for (size_t i = 0; i < c->nag && r == 0; i++) {
		struct agent *ag = &c->ag[i];
		cJSON *o = cJSON_CreateObject(), *unused, *kept;

		cJSON_AddStringToObject(o, "namespace", ag->ns);
		cJSON_AddStringToObject(o, "name", ag->name);
		cJSON_AddItemToArray(agents, o);
		if (ag->nu > 1)	/* an agent without requests has no array: qsort(NULL, 0) is undefined */
			qsort(ag->u, ag->nu, sizeof(*ag->u), use_cmp);
		if (ag->a == NULL) {
			nmissing++;
			cJSON_AddStringToObject(o, "status", "missing-from-scope: nothing proposed, nothing changed");
			continue;
		}
		cJSON_AddStringToObject(o, "status", "proposed");
		cJSON_AddStringToObject(o, "scopeEntry", ag->a->name);
		if ((r = judge_uses(c, ag, o, &nprop)) != 0)
			break;
		unused = cJSON_AddArrayToObject(o, "unused");
		kept = cJSON_AddArrayToObject(o, "keptBindingsThroughGroups");
		if ((r = held(c, ag, unused, kept)) != 0 || (r = agent_objects(ag, bundle_sha, window, apply)) != 0)
			break;
		nunused += (size_t)cJSON_GetArraySize(unused);
	}
	for (size_t bi = 0; bi < c->rb->nbindings && r == 0; bi++)
		if (c->removed[bi] != NULL)
			binding_change(&c->rb->bindings[bi], c->removed[bi], edited, del, changes);
	/* new grants first, then the edits that take the old ones away */
	while (cJSON_GetArraySize(edited) > 0)
		cJSON_AddItemToArray(apply, cJSON_DetachItemFromArray(edited, 0));
	cJSON_Delete(edited);
	sum = cJSON_AddObjectToObject(d, "summary");
	cJSON_AddNumberToObject(sum, "agents", (double)c->nag);
	cJSON_AddNumberToObject(sum, "agentsMissingFromScope", (double)nmissing);
	cJSON_AddNumberToObject(sum, "auditEvents", (double)c->events);
	cJSON_AddNumberToObject(sum, "agentRequests", (double)c->attributed);
	cJSON_AddNumberToObject(sum, "permissionsGranted", (double)nprop);
	cJSON_AddNumberToObject(sum, "unusedPermissions", (double)nunused);
	cJSON_AddNumberToObject(sum, "objectsToApply", (double)cJSON_GetArraySize(apply));
	cJSON_AddNumberToObject(sum, "objectsToDelete", (double)cJSON_GetArraySize(del));
	cJSON_AddItemToObject(d, "blindSpots", kc_rbac_blind_spots_json());
	return r;
}

static void
ctx_free(struct ctx *c)
{
	for (size_t i = 0; i < c->nag; i++) {
		struct agent *ag = &c->ag[i];

		for (size_t j = 0; j < ag->nu; j++) {
			struct use *u = &ag->u[j];

			free(u->verb), free(u->group), free(u->res), free(u->sub);
			free(u->name), free(u->ns), free(u->path);
		}
		for (size_t j = 0; j < ag->nb; j++) {
			kc_strset_free(&ag->b[j].verbs);
			free(ag->b[j].resource);
		}
		free(ag->u);
		free(ag->b);
		kc_hmap_free(&ag->ix);
	}
	free(c->ag);
	if (c->removed != NULL)
		for (size_t i = 0; i < c->rb->nbindings; i++)
			free(c->removed[i]);
	free(c->removed);
	kc_hmap_free(&c->by_user);
	kc_strset_free(&c->ids);
}

struct kc_propose {
	struct ctx c;
	cJSON *doc;
};

int
kc_propose_begin(const struct kc_rbac *rb, const cJSON *selection, const struct kc_scope *s,
    const cJSON *sources, int64_t min_window, const char *bundle, cJSON *doc, struct kc_propose **out)
{
	struct kc_propose *p;
	int r;

	*out = NULL;
	if ((r = refuse_filters(sources, bundle)) != 0 || (r = refuse_gaps(sources, bundle)) != 0 ||
	    (r = window_json(sources, min_window, bundle, doc)) != 0)
		return r;
	if ((p = kc_calloc(1, sizeof(*p))) == NULL)
		return nomem();
	p->doc = doc;
	p->c.rb = rb;
	if ((p->c.removed = kc_calloc(rb->nbindings ? rb->nbindings : 1, sizeof(*p->c.removed))) == NULL) {
		free(p);
		return nomem();
	}
	if ((r = init_agents(&p->c, selection, s)) != 0 || (r = refuse_agents(sources, &p->c, bundle)) != 0) {
		kc_propose_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int
kc_propose_line(struct kc_propose *p, const char *line, size_t len)
{
	return segment_line(&p->c, line, len);
}

int
kc_propose_finish(struct kc_propose *p, const char *bundle_sha)
{
	return propose(&p->c, bundle_sha, p->doc);
}

void
kc_propose_free(struct kc_propose *p)
{
	if (p == NULL)
		return;
	ctx_free(&p->c);
	free(p);
}

int
kc_propose_eval(const struct kc_rbac *rb, const cJSON *selection, const struct kc_scope *s,
    const cJSON *sources, const char *segment, size_t len, int64_t min_window, const char *bundle,
    const char *bundle_sha, cJSON *doc)
{
	struct kc_propose *p;
	const char *q = segment, *end = segment + len, *nl;
	int r;

	if ((r = kc_propose_begin(rb, selection, s, sources, min_window, bundle, doc, &p)) != 0)
		return r;
	for (; q < end && r == 0; q = nl + 1) {
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
			nl = end;
		r = kc_propose_line(p, q, (size_t)(nl - q));
	}
	if (r == 0)
		r = kc_propose_finish(p, bundle_sha);
	kc_propose_free(p);
	return r;
}

/* The segment streamed out of the bundle, one line at a time (bounded by
 * the longest line an audit reader keeps). */
struct seg_sink {
	struct kc_propose *p;
	struct kc_buf line;
};

static int
seg_bytes(void *ctx, const void *data, size_t n)
{
	struct seg_sink *k = ctx;
	const char *q = data, *end = q + n, *nl;
	int r;

	for (; q < end; q = nl + 1) {
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
			return kc_buf_add(&k->line, q, (size_t)(end - q)) == 0 ? 0 :
			    kc_err_set(KC_ERR_LIMIT, "an audit segment line longer than %zu bytes", k->line.max);
		if (k->line.len == 0) {
			r = kc_propose_line(k->p, q, (size_t)(nl - q));
		} else {
			if (kc_buf_add(&k->line, q, (size_t)(nl - q)) != 0)
				return kc_err_set(KC_ERR_LIMIT, "an audit segment line longer than %zu bytes",
				    k->line.max);
			r = kc_propose_line(k->p, k->line.data, k->line.len);
			k->line.len = 0;
		}
		if (r != 0)
			return r;
	}
	return 0;
}

static int
read_segment(struct kc_propose *p, const char *bundle, const char *pin)
{
	struct seg_sink k = { p, KC_BUF_INIT(KC_AUDIT_LINE_MAX_MAX) };
	int r;

	r = kc_bundle_read_member_pinned(bundle, "audit/segment.jsonl", pin, seg_bytes, &k);
	if (r == 0 && k.line.len > 0)
		r = kc_propose_line(p, k.line.data, k.line.len);
	kc_buf_free(&k.line);
	if (r == KC_ERR_NOTFOUND)
		r = kc_err_set(KC_ERR_INVALID, "no proposal from '%s': it has no audit segment "
		    "(audit/segment.jsonl; collect with --audit-log)", bundle);
	return r;
}

static int
wanted(void *ctx, const char *p)
{
	(void)ctx;
	return strcmp(p, "MANIFEST.json") == 0 || strncmp(p, "raw/", 4) == 0 ||
	    strcmp(p, "analysis/selection.json") == 0 || strcmp(p, "audit/sources.json") == 0;
}

static void
describe(cJSON *b, const cJSON *man)
{
	cJSON_AddStringToObject(b, "bundleID", kc_json_str0(man, "bundle_id"));
	cJSON_AddStringToObject(b, "case", kc_json_str0(kc_json_get(man, "case"), "id"));
	cJSON_AddStringToObject(b, "phase", kc_json_str0(kc_json_get(man, "case"), "phase"));
	cJSON_AddStringToObject(b, "cluster", kc_json_str0(kc_json_get(man, "cluster"), "server"));
}

int
kc_propose_bundle(const struct kc_propose_opts *o, const struct kc_scope *s, cJSON **out)
{
	struct kc_source src;
	struct kc_snapshot snap;
	struct kc_rbac rb;
	struct kc_propose *p = NULL;
	int have_src = 0, have_snap = 0, have_rb = 0, r;
	char sha[KC_SHA256_HEX];
	cJSON *d = cJSON_CreateObject(), *b, *sc, *man = NULL, *sel = NULL, *asrc = NULL;

	*out = NULL;
	if (d == NULL)
		return nomem();
	cJSON_AddStringToObject(d, "schema", KC_PROPOSE_SCHEMA);
	b = cJSON_AddObjectToObject(d, "bundle");
	cJSON_AddStringToObject(b, "path", o->ro.bundle);
	/* the audit segment read later is pinned to sha too */
	if ((r = kc_recert_open(&o->ro, wanted, b, &src, sha, &man, &sel)) != 0)
		goto out;
	have_src = 1;
	describe(b, man);
	sc = cJSON_AddObjectToObject(d, "scope");
	cJSON_AddStringToObject(sc, "file", s->file);
	cJSON_AddStringToObject(sc, "sha256", s->sha256);
	if ((asrc = kc_source_get_json(&src, "audit/sources.json")) == NULL) {
		r = kc_err_set(KC_ERR_INVALID, "no proposal from '%s': it has no audit segment "
		    "(audit/sources.json; collect with --audit-log)", o->ro.bundle);
		goto out;
	}
	/* refused before the heavier work when the window cannot serve */
	if ((r = refuse_filters(asrc, o->ro.bundle)) != 0 || (r = refuse_gaps(asrc, o->ro.bundle)) != 0)
		goto out;
	if ((r = kc_source_snapshot(&src, &snap)) != 0)
		goto out;
	have_snap = 1;
	if ((r = kc_rbac_init(&rb, &snap)) != 0)
		goto out;
	have_rb = 1;
	if ((r = kc_propose_begin(&rb, sel, s, asrc, o->min_window, o->ro.bundle, d, &p)) != 0 ||
	    (r = read_segment(p, o->ro.bundle, sha)) != 0 || (r = kc_propose_finish(p, sha)) != 0)
		goto out;
	*out = d;
	d = NULL;	/* transferred */
out:
	kc_propose_free(p);
	if (have_rb)
		kc_rbac_free(&rb);
	if (have_snap)
		kc_snapshot_free(&snap);
	if (have_src)
		kc_source_close(&src);
	cJSON_Delete(man);
	cJSON_Delete(sel);
	cJSON_Delete(asrc);
	cJSON_Delete(d);
	return r;
}
