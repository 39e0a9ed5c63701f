/* recert.c - agents' effective permissions judged against their approved
 * scope (recert.h, docs/RECERTIFY.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/bundle.h"
#include "rbac/recert.h"
#include "rbac/scope.h"
#include "rbac/source.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/mem.h"


/* The concrete verbs a "*" verb is expanded to when it is judged. */
static const char *const concrete_verbs[] = {
	"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
	"bind", "escalate", "impersonate", "approve", "sign", "use", NULL
};

static int
verb_ok(const struct kc_strset *allowed, const char *verb)
{
	return kc_strset_has(allowed, "*") || kc_strset_has(allowed, verb);
}

/* Scope resource er covers rule resource r: "*" everything, an equal
 * entry, or "*\/sub" the subresource sub of any resource. */
static int
res_covers(const char *er, const char *r)
{
	const char *slash;

	if (strcmp(er, "*") == 0 || strcmp(er, r) == 0)
		return 1;
	return er[0] == '*' && er[1] == '/' && (slash = strchr(r, '/')) != NULL && strcmp(slash, er + 1) == 0;
}

/* What one rule grants for one verb, group and resource. */
struct perm {
	const char *verb, *group, *resource;
	const struct kc_rbac_strs *names;	/* resourceNames (n == 0: any) */
	const char *ns;				/* "*": every namespace (a ClusterRoleBinding) */
	int cluster;				/* granted by a ClusterRoleBinding */
};

/* The names of the rule all allowed by a names scope, with the verb. */
static int
names_ok(const struct kc_scope_names *sn, const struct perm *p, const char *what, cJSON *reasons)
{
	char msg[600];

	if (!sn->present) {
		kc_fmt_trunc(msg, sizeof(msg), "%s are not in scope (no '%s' in the scope entry)", what,
		    strcmp(what, "secrets") == 0 ? "secrets" : "configMaps");
		cJSON_AddItemToArray(reasons, cJSON_CreateString(msg));
		return 0;
	}
	if (!verb_ok(&sn->verbs, p->verb)) {
		kc_fmt_trunc(msg, sizeof(msg), "verb '%s' on %s is not allowed", p->verb, what);
		cJSON_AddItemToArray(reasons, cJSON_CreateString(msg));
		return 0;
	}
	if (p->names->n == 0) {
		kc_fmt_trunc(msg, sizeof(msg), "every %s, not only the allowed names (the rule has no "
		    "resourceNames)", strcmp(what, "secrets") == 0 ? "secret" : "configmap");
		cJSON_AddItemToArray(reasons, cJSON_CreateString(msg));
		return 0;
	}
	for (size_t i = 0; i < p->names->n; i++)
		if (!kc_strset_has(&sn->names, p->names->v[i])) {
			kc_fmt_trunc(msg, sizeof(msg), "%s '%s' is not an allowed name",
			    strcmp(what, "secrets") == 0 ? "secret" : "configmap", p->names->v[i]);
			cJSON_AddItemToArray(reasons, cJSON_CreateString(msg));
			return 0;
		}
	return 1;
}

/* Judge p against a; the reasons it is beyond scope go into reasons
 * (none: within scope). */
static void
judge(const struct kc_scope_agent *a, const struct perm *p, cJSON *reasons)
{
	int core = strcmp(p->group, "") == 0, anyg = strcmp(p->group, "*") == 0;
	int all = strcmp(p->resource, "*") == 0;
	int cluster_res = p->cluster && !anyg && !all && kc_rbac_cluster_scoped(p->group, p->resource);
	char msg[600];

	if (a->has_max && !verb_ok(&a->max_verbs, p->verb)) {
		kc_fmt_trunc(msg, sizeof(msg), "verb '%s' is beyond maxVerbs", p->verb);
		cJSON_AddItemToArray(reasons, cJSON_CreateString(msg));
	}
	if (!cluster_res && !kc_strset_has(&a->namespaces, "*")) {
		if (strcmp(p->ns, "*") == 0)
			cJSON_AddItemToArray(reasons, cJSON_CreateString("granted in every namespace "
			    "(ClusterRoleBinding), not only the allowed namespaces"));
		else if (!kc_strset_has(&a->namespaces, p->ns)) {
			kc_fmt_trunc(msg, sizeof(msg), "namespace '%s' is not an allowed namespace", p->ns);
			cJSON_AddItemToArray(reasons, cJSON_CreateString(msg));
		}
	}
	/* core secrets and configmaps: only by name; anything else (and a
	 * wildcard that covers them as well) needs a resources entry */
	if (!(core && (strcmp(p->resource, "secrets") == 0 || strcmp(p->resource, "configmaps") == 0))) {
		int covered = 0;

		for (size_t i = 0; i < a->nres && !covered; i++) {
			const struct kc_scope_res *e = &a->res[i];

			covered = (strcmp(e->group, "*") == 0 || strcmp(e->group, p->group) == 0) &&
			    res_covers(e->resource, p->resource) && verb_ok(&e->verbs, p->verb);
		}
		if (!covered) {
			kc_fmt_trunc(msg, sizeof(msg), "no 'resources' entry allows verb '%s' on %s%s%s", p->verb,
			    p->resource, p->group[0] ? "." : "", p->group);
			cJSON_AddItemToArray(reasons, cJSON_CreateString(msg));
		}
	}
	if ((core || anyg) && (all || strcmp(p->resource, "secrets") == 0))
		names_ok(&a->secrets, p, "secrets", reasons);
	if ((core || anyg) && (all || strcmp(p->resource, "configmaps") == 0))
		names_ok(&a->configmaps, p, "configmaps", reasons);
}

static int
url_covered(const struct kc_scope_agent *a, const char *url, const char *verb)
{
	for (size_t i = 0; i < a->nurls; i++) {
		const struct kc_scope_urls *e = &a->urls[i];

		if (!verb_ok(&e->verbs, verb))
			continue;
		for (size_t u = 0; u < e->urls.n; u++) {
			const char *s = e->urls.v[u];
			size_t sl = strlen(s);

			if (strcmp(s, "*") == 0 || strcmp(s, url) == 0 ||
			    (sl > 0 && s[sl - 1] == '*' && strncmp(s, url, sl - 1) == 0))
				return 1;
		}
	}
	return 0;
}

/* A grant of the server's bootstrap policy every identity holds (the
 * binding and its role labelled kubernetes.io/bootstrapping=rbac-defaults,
 * the agent matched through a Group): not judged, counted. */
static int
bootstrap_default(const struct kc_rbac_grant *g)
{
	const struct kc_rbac_binding *b = g->binding;
	const char *v = kc_json_str(b->labels, "kubernetes.io/bootstrapping");

	if (v == NULL || strcmp(v, "rbac-defaults") != 0 || b->role == NULL ||
	    strcmp(b->subjects[g->subject].kind, "Group") != 0)
		return 0;
	v = kc_json_str(b->role->labels, "kubernetes.io/bootstrapping");
	return v != NULL && strcmp(v, "rbac-defaults") == 0;
}

struct agent_ctx {
	const struct kc_scope_agent *a;
	cJSON *excess;
	size_t judged, defaults, ineffective;
};

static cJSON *
excess_item(const struct kc_rbac_grant *g, const struct perm *p, const char *url, cJSON *reasons)
{
	const struct kc_rbac_binding *b = g->binding;
	cJSON *o = cJSON_CreateObject(), *n;
	char reason[1024];

	cJSON_AddStringToObject(o, "verb", p->verb);
	if (url != NULL) {
		cJSON_AddStringToObject(o, "nonResourceURL", url);
	} else {
		cJSON_AddStringToObject(o, "apiGroup", p->group);
		cJSON_AddStringToObject(o, "resource", p->resource);
		if (p->names->n > 0) {
			n = cJSON_AddArrayToObject(o, "resourceNames");
			for (size_t i = 0; i < p->names->n; i++)
				cJSON_AddItemToArray(n, cJSON_CreateString(p->names->v[i]));
		}
		cJSON_AddStringToObject(o, "namespace", p->ns);
	}
	cJSON_AddItemToObject(o, "reasons", reasons);
	cJSON_AddItemToObject(o, "binding", kc_rbac_binding_ref_json(b));
	cJSON_AddItemToObject(o, "role", kc_rbac_role_ref_json(b));
	cJSON_AddItemToObject(o, "subject", kc_rbac_subject_json(&b->subjects[g->subject]));
	cJSON_AddNumberToObject(o, "ruleIndex", (double)g->rule->index);
	cJSON_AddItemToObject(o, "rule", kc_rbac_rule_json(g->rule));
	if (kc_rbac_reason(g, reason, sizeof(reason)) == 0)
		cJSON_AddStringToObject(o, "reason", reason);
	return o;
}

/* "*" in verbs: the concrete verbs that are beyond scope. */
static void
expand_verbs(const struct kc_scope_agent *a, const struct perm *p, cJSON *o)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "verbsBeyondScope");

	for (size_t i = 0; concrete_verbs[i] != NULL; i++) {
		struct perm q = *p;
		cJSON *r = cJSON_CreateArray();

		q.verb = concrete_verbs[i];
		judge(a, &q, r);
		if (cJSON_GetArraySize(r) > 0)
			cJSON_AddItemToArray(arr, cJSON_CreateString(concrete_verbs[i]));
		cJSON_Delete(r);
	}
	cJSON_AddStringToObject(o, "verbsNote", "'*' is every verb, also any other verb an "
	    "authorizer or admission plugin checks");
}

static void
judge_grant(struct agent_ctx *c, const struct kc_rbac_grant *g, const char *ns)
{
	const struct kc_rbac_rule *r = g->rule;
	int cl = g->binding->cluster;

	if (bootstrap_default(g)) {
		c->defaults++;
		return;
	}
	if (r->urls.n > 0) {
		if (!kc_rbac_grant_cluster(g)) {
			c->ineffective++;	/* non-resource URLs only through ClusterRoleBindings */
		} else {
			for (size_t v = 0; v < r->verbs.n; v++)
				for (size_t u = 0; u < r->urls.n; u++) {
					struct kc_rbac_strs none = { NULL, 0 };
					struct perm p = { r->verbs.v[v], "", "", &none, "*", 1 };
					char msg[600];

					c->judged++;
					if (url_covered(c->a, r->urls.v[u], r->verbs.v[v]))
						continue;
					cJSON *reasons = cJSON_CreateArray();
					kc_fmt_trunc(msg, sizeof(msg), "no 'nonResourceURLs' entry allows verb '%s' on "
					    "'%s'", r->verbs.v[v], r->urls.v[u]);
					cJSON_AddItemToArray(reasons, cJSON_CreateString(msg));
					cJSON_AddItemToArray(c->excess, excess_item(g, &p, r->urls.v[u], reasons));
				}
		}
	}
	for (size_t v = 0; v < r->verbs.n; v++)
		for (size_t gi = 0; gi < r->groups.n; gi++)
			for (size_t ri = 0; ri < r->resources.n; ri++) {
				struct perm p = { r->verbs.v[v], r->groups.v[gi], r->resources.v[ri], &r->names,
				    cl ? "*" : ns, cl };
				cJSON *reasons, *o;

				/* listed by a rules review, never granted: a request for a
				 * cluster-scoped resource has no namespace (rbac/scope.h) */
				if (!cl && strcmp(p.resource, "*") != 0 &&
				    !kc_rbac_ns_effective(p.verb, p.group, p.resource)) {
					c->ineffective++;
					continue;
				}
				c->judged++;
				reasons = cJSON_CreateArray();
				judge(c->a, &p, reasons);
				if (cJSON_GetArraySize(reasons) == 0) {
					cJSON_Delete(reasons);
					continue;
				}
				o = excess_item(g, &p, NULL, reasons);
				if (strcmp(p.verb, "*") == 0)
					expand_verbs(c->a, &p, o);
				cJSON_AddItemToArray(c->excess, o);
			}
}

/* Every grant of NS/NAME: the ClusterRoleBindings', then the RoleBindings'
 * of each namespace that has one naming the account or its groups. */
static int
judge_agent(const struct kc_rbac *rb, const char *ns, const char *name, struct agent_ctx *c,
    cJSON *errors)
{
	struct kc_rbac_sa_id id;
	struct kc_rbac_rules rules;
	struct kc_strset seen;
	size_t *cand = NULL, ncand = 0, capcand = 0;
	int r;

	memset(&rules, 0, sizeof(rules));
	memset(&seen, 0, sizeof(seen));
	if ((r = kc_rbac_sa_identity(&id, ns, name)) != 0)
		return r;
	if ((r = kc_rbac_rules_for(rb, &id.id, "", &rules)) != 0)
		goto out;
	for (size_t g = 0; g < rules.n; g++)
		judge_grant(c, &rules.grants[g], "*");
	for (size_t m = 0; m < rules.nmissing; m++)
		cJSON_AddItemToArray(errors, kc_rbac_binding_ref_json(rules.missing[m]));
	if ((r = kc_rbac_rb_candidates(rb, &id.id, &cand, &ncand, &capcand)) != 0)
		goto out;
	for (size_t i = 0; i < ncand; i++) {
		const char *bns = rb->bindings[cand[i]].ns;

		if (kc_strset_has(&seen, bns))
			continue;
		if ((r = kc_strset_add(&seen, bns)) != 0 ||
		    (r = kc_rbac_rules_for_ns(rb, &id.id, bns, &rules)) != 0)
			goto out;
		for (size_t g = 0; g < rules.n; g++)
			judge_grant(c, &rules.grants[g], bns);
		for (size_t m = 0; m < rules.nmissing; m++)
			cJSON_AddItemToArray(errors, kc_rbac_binding_ref_json(rules.missing[m]));
	}
out:
	free(cand);
	kc_strset_free(&seen);
	kc_rbac_rules_free(&rules);
	return r;
}

static void
add_set(cJSON *o, const char *key, const struct kc_strset *s)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);

	for (size_t i = 0; i < s->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(s->v[i]));
}

struct totals {
	size_t agents, within, beyond, excess, missing, unused;
};

static int
one_agent(const struct kc_rbac *rb, const struct kc_scope *s, const char *ns, const char *name,
    char *used, cJSON *agents, cJSON *missing, struct totals *t)
{
	cJSON *o = cJSON_CreateObject(), *e;
	struct agent_ctx c;
	long idx;
	int r;

	t->agents++;
	cJSON_AddStringToObject(o, "namespace", ns);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddItemToArray(agents, o);
	if ((r = kc_scope_match(s, ns, name, &idx)) != 0)
		return r;
	if (idx < 0) {
		t->missing++;
		cJSON_AddStringToObject(o, "status", "missing-from-scope");
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "namespace", ns);
		cJSON_AddStringToObject(e, "name", name);
		cJSON_AddItemToArray(missing, e);
		return 0;
	}
	used[idx] = 1;
	memset(&c, 0, sizeof(c));
	c.a = &s->v[idx];
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", c.a->name);
	cJSON_AddNumberToObject(e, "line", (double)c.a->at.line);
	cJSON_AddNumberToObject(e, "column", (double)c.a->at.col);
	cJSON_AddStringToObject(e, "owner", c.a->owner);
	cJSON_AddStringToObject(e, "approval", c.a->approval);
	add_set(e, "externalEndpoints", &c.a->endpoints);
	cJSON_AddItemToObject(o, "scopeEntry", e);
	c.excess = cJSON_CreateArray();
	if ((r = judge_agent(rb, ns, name, &c, cJSON_AddArrayToObject(o, "evaluationErrors"))) != 0) {
		cJSON_Delete(c.excess);
		return r;
	}
	cJSON_AddStringToObject(o, "status", cJSON_GetArraySize(c.excess) ? "beyond-scope" : "within-scope");
	cJSON_AddNumberToObject(o, "permissionsJudged", (double)c.judged);
	cJSON_AddNumberToObject(o, "bootstrapDefaultsNotJudged", (double)c.defaults);
	cJSON_AddNumberToObject(o, "listedButNotGranted", (double)c.ineffective);
	cJSON_AddItemToObject(o, "excess", c.excess);
	if (cJSON_GetArraySize(c.excess) > 0) {
		t->beyond++;
		t->excess += (size_t)cJSON_GetArraySize(c.excess);
	} else {
		t->within++;
	}
	return 0;
}

int
kc_recert_eval(const struct kc_rbac *rb, const cJSON *selection, const struct kc_scope *s, cJSON *doc)
{
	cJSON *agents, *missing, *unused, *sum, *it;
	struct totals t;
	char *used;
	int r = 0;

	memset(&t, 0, sizeof(t));
	if ((used = kc_calloc(s->n ? s->n : 1, 1)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	sum = cJSON_AddObjectToObject(doc, "summary");
	agents = cJSON_AddArrayToObject(doc, "agents");
	missing = cJSON_AddArrayToObject(doc, "agentsMissingFromScope");
	unused = cJSON_AddArrayToObject(doc, "scopeEntriesWithoutAgent");
	cJSON_ArrayForEach(it, kc_json_get(selection, "selected")) {
		const char *ns = kc_json_str0(it, "namespace"), *name = kc_json_str0(it, "name");

		if (ns[0] == '\0' || name[0] == '\0')
			continue;
		if ((r = one_agent(rb, s, ns, name, used, agents, missing, &t)) != 0)
			goto out;
	}
	for (size_t i = 0; i < s->n; i++) {
		cJSON *e;

		if (used[i])
			continue;
		t.unused++;
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", s->v[i].name);
		cJSON_AddNumberToObject(e, "line", (double)s->v[i].at.line);
		cJSON_AddNumberToObject(e, "column", (double)s->v[i].at.col);
		if (s->v[i].sa_ns != NULL) {
			char sa[1200];

			kc_fmt_trunc(sa, sizeof(sa), "%s/%s", s->v[i].sa_ns, s->v[i].sa_name);
			cJSON_AddStringToObject(e, "serviceAccount", sa);
		}
		cJSON_AddItemToArray(unused, e);
	}
	cJSON_AddNumberToObject(sum, "agents", (double)t.agents);
	cJSON_AddNumberToObject(sum, "withinScope", (double)t.within);
	cJSON_AddNumberToObject(sum, "beyondScope", (double)t.beyond);
	cJSON_AddNumberToObject(sum, "excessPermissions", (double)t.excess);
	cJSON_AddNumberToObject(sum, "agentsMissingFromScope", (double)t.missing);
	cJSON_AddNumberToObject(sum, "scopeEntriesWithoutAgent", (double)t.unused);
	cJSON_AddBoolToObject(doc, "withinScope", t.beyond == 0 && t.missing == 0 && t.unused == 0);
	cJSON_AddItemToObject(doc, "blindSpots", kc_rbac_blind_spots_json());
out:
	free(used);
	return r;
}

int
kc_recert_judge(const struct kc_scope_agent *a, const char *verb, const char *group, const char *resource,
    const struct kc_rbac_strs *names, const char *ns, int cluster, cJSON *reasons)
{
	struct perm p = { verb, group, resource, names, ns, cluster };

	judge(a, &p, reasons);
	return cJSON_GetArraySize(reasons) == 0;
}

int
kc_recert_url_ok(const struct kc_scope_agent *a, const char *url, const char *verb)
{
	return url_covered(a, url, verb);
}

/* ---- the bundle ---- */

static int
wanted(void *ctx, const char *p)
{
	(void)ctx;
	return strcmp(p, "MANIFEST.json") == 0 || strncmp(p, "raw/", 4) == 0 ||
	    strcmp(p, "analysis/selection.json") == 0;
}

static void
recert_verify_opts(const struct kc_recert_opts *o, struct kc_verify_opts *vo)
{
	kc_verify_opts_init(vo, o->pubkey_path, o->ca_path, o->tsa_ca, o->allow_unsigned);
}

/* What verify gave (r, vr) said as recertify says it. */
static int
recert_verdict(const struct kc_recert_opts *o, int r, const struct kc_verify_result *vr, cJSON *desc,
    char pin[KC_SHA256_HEX])
{
	if (r == KC_ERR_VERIFY)
		return kc_bundle_invalid_err(o->bundle, vr, NULL);
	if (r != 0)
		return r;
	cJSON_AddStringToObject(desc, "verification", vr->signer[0] ? "valid" : "valid (unsigned)");
	cJSON_AddStringToObject(desc, "signer", vr->signer);
	memcpy(pin, vr->sha256, KC_SHA256_HEX);
	return 0;
}

int
kc_recert_verify(const struct kc_recert_opts *o, cJSON *desc, char pin[KC_SHA256_HEX])
{
	struct kc_verify_opts vo;
	struct kc_verify_result vr;

	recert_verify_opts(o, &vo);
	return recert_verdict(o, kc_bundle_verify(o->bundle, &vo, &vr), &vr, desc, pin);
}

static const char *
js(const cJSON *o, const char *path)
{
	const cJSON *v = kc_json_path(o, path);

	return cJSON_IsString(v) ? v->valuestring : "";
}

int
kc_recert_open(const struct kc_recert_opts *o, kc_source_keep_fn keep, cJSON *b, struct kc_source *src,
    char sha[KC_SHA256_HEX], cJSON **man, cJSON **sel)
{
	int r, opened = 0;

	*man = *sel = NULL;
	memset(src, 0, sizeof(*src));
	/* One file throughout: verified and read in one pass, or (verified
	 * by the caller) read pinned to its digest; that digest is the one
	 * reported. */
	sha[0] = '\0';
	cJSON_AddStringToObject(b, "sha256", "");	/* filled below, in this place */
	if (o->verified_as != NULL) {
		cJSON_AddStringToObject(b, "verification", o->verified_as);
		if (o->verified_sha256 != NULL)
			kc_fmt_trunc(sha, KC_SHA256_HEX, "%s", o->verified_sha256);
	} else {
		/* verified and read in one pass (rbac/source.h): what is read
		 * is what the checks hashed */
		struct kc_verify_opts vo;
		struct kc_verify_result vr;

		recert_verify_opts(o, &vo);
		memset(&vr, 0, sizeof(vr));
		r = kc_source_open_verified(o->bundle, &vo, &vr, keep, NULL, KC_SNAP_FULL, NULL, src);
		if (!vr.valid)	/* not valid, or not read at all: said as before */
			return recert_verdict(o, r, &vr, b, sha);
		(void)recert_verdict(o, 0, &vr, b, sha);	/* valid, then the reading's own error */
		if (r != 0)
			return r;
		opened = 1;
	}
	if (!opened && (r = kc_source_open_pinned(o->bundle, keep, NULL, sha[0] ? sha : NULL, src)) != 0)
		return r;
	if (sha[0] == '\0' && src->dir == NULL)
		memcpy(sha, src->m.sha256, KC_SHA256_HEX);
	else if (sha[0] == '\0' && (r = kc_sha256_file(o->bundle, sha, NULL)) != 0)
		goto fail;
	if (kc_json_set(b, "sha256", cJSON_CreateString(sha)) != 0) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((*man = kc_source_get_json(src, "MANIFEST.json")) == NULL) {
		r = kc_err_set(KC_ERR_PARSE, "'%s' has no readable MANIFEST.json", o->bundle);
		goto fail;
	}
	if ((*sel = kc_source_get_json(src, "analysis/selection.json")) == NULL) {
		r = kc_err_set(KC_ERR_PARSE, "'%s' has no readable analysis/selection.json (the agents "
		    "selected at collect time)", o->bundle);
		goto fail;
	}
	return 0;
fail:
	cJSON_Delete(*man);
	*man = NULL;
	kc_source_close(src);
	return r;
}

int
kc_recert_bundle(const struct kc_recert_opts *o, const struct kc_scope *s, cJSON **out)
{
	struct kc_source src;
	struct kc_snapshot snap;
	struct kc_rbac rb;
	int have_src = 0, have_snap = 0, have_rb = 0, r;
	char sha[KC_SHA256_HEX];
	cJSON *d = cJSON_CreateObject(), *b, *sc, *man = NULL, *sel = NULL;

	*out = NULL;
	if (d == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddStringToObject(d, "schema", KC_RECERT_SCHEMA);
	b = cJSON_AddObjectToObject(d, "bundle");
	cJSON_AddStringToObject(b, "path", o->bundle);
	if ((r = kc_recert_open(o, wanted, b, &src, sha, &man, &sel)) != 0)
		goto out;
	have_src = 1;
	cJSON_AddStringToObject(b, "bundleID", js(man, "bundle_id"));
	cJSON_AddStringToObject(b, "case", js(man, "case.id"));
	cJSON_AddStringToObject(b, "phase", js(man, "case.phase"));
	cJSON_AddStringToObject(b, "finished", js(man, "times.finished"));
	cJSON_AddStringToObject(b, "cluster", js(man, "cluster.server"));
	sc = cJSON_AddObjectToObject(d, "scope");
	cJSON_AddStringToObject(sc, "file", s->file);
	cJSON_AddStringToObject(sc, "sha256", s->sha256);
	cJSON_AddStringToObject(sc, "apiVersion", KC_SCOPE_API_VERSION);
	cJSON_AddStringToObject(sc, "kind", KC_SCOPE_KIND);
	if ((r = kc_source_snapshot(&src, &snap)) != 0)
		goto out;
	have_snap = 1;
	if ((r = kc_rbac_init(&rb, &snap)) != 0)
		goto out;
	have_rb = 1;
	if ((r = kc_recert_eval(&rb, sel, s, d)) != 0)
		goto out;
	*out = d;
	d = NULL;	/* transferred */
out:
	if (have_rb)
		kc_rbac_free(&rb);
	if (have_snap)
		kc_snapshot_free(&snap);
	if (have_src)
		kc_source_close(&src);
	cJSON_Delete(man);
	cJSON_Delete(sel);
	cJSON_Delete(d);
	return r;
}
