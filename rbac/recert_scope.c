/* recert_scope.c - the recertification scope file (recert.h,
 * docs/RECERTIFY.md): YAML read by collector/yaml_tree.h, every key and
 * type checked, every error "FILE:LINE:COLUMN: what". */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/yaml_tree.h"
#include "rbac/recert.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/log.h"
#include "util/mem.h"

/* Kubernetes' verbs for resource requests: the API verbs and the special
 * verbs the authorizers check (bind, escalate, impersonate, approve, sign,
 * use); "*" is every verb. */
static const char *const resource_verbs[] = {
	"*", "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
	"bind", "escalate", "impersonate", "approve", "sign", "use", NULL
};
/* Non-resource requests: the lower-cased HTTP method. */
static const char *const url_verbs[] = {
	"*", "get", "post", "put", "patch", "delete", "head", "options", NULL
};

static int
in_list(const char *const *l, const char *v)
{
	for (; *l != NULL; l++)
		if (strcmp(*l, v) == 0)
			return 1;
	return 0;
}

int
kc_scope_resource_verb(const char *verb)
{
	return in_list(resource_verbs, verb);
}

int
kc_scope_url_verb(const char *verb)
{
	return in_list(url_verbs, verb);
}

struct sp {
	const char *file;
};

static int serr(const struct sp *p, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
serr(const struct sp *p, const struct ynode *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	kc_vfmt_trunc(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kc_err_set(KC_ERR_CONFIG, "%s:%zu:%zu: %s", p->file, at ? at->line : 1, at ? at->col : 1, msg);
}

static const char *
tname(const struct ynode *y)
{
	if (kc_ynode_is_null(y))
		return "null";
	return y->type == Y_MAP ? "a mapping" : y->type == Y_SEQ ? "a list" : "a string";
}

/* A scalar's text, for messages. */
static const char *
shown(const struct ynode *y, char *esc, size_t n)
{
	return kc_safe_str(y->type == Y_SCALAR && y->str ? y->str : "", esc, n);
}

/* Every key of m is one of keys[], none twice, none merged. */
static int
check_keys(const struct sp *p, const struct ynode *m, const char *where, const char *const *keys)
{
	char esc[128];

	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *k = m->kid[i];

		if (k->type != Y_SCALAR || !in_list(keys, k->str))
			return serr(p, k, "unknown key '%s' in %s", shown(k, esc, sizeof(esc)), where);
		for (size_t j = 0; j < i; j += 2)
			if (kc_ynode_key_is(m->kid[j], k->str))
				return serr(p, k, "key '%s' given twice in %s (first at line %zu column %zu)",
				    k->str, where, m->kid[j]->line, m->kid[j]->col);
	}
	return 0;
}

static int
need_map(const struct sp *p, const struct ynode *y, const struct ynode *at, const char *what)
{
	if (y == NULL || y->type != Y_MAP || kc_ynode_is_null(y))
		return serr(p, y ? y : at, "%s must be a mapping, not %s", what, y ? tname(y) : "missing");
	return 0;
}

/* A non-empty string value (key present unless optional). */
static int
get_str(const struct sp *p, const struct ynode *m, const char *key, int optional, int allow_empty,
    char **out)
{
	const struct ynode *v = kc_ynode_get(m, key);

	*out = NULL;
	if (v == NULL) {
		if (optional)
			return 0;
		return serr(p, m, "missing key '%s'", key);
	}
	if (v->type != Y_SCALAR || v->null)
		return serr(p, v, "'%s' must be a string, not %s%s", key, tname(v),
		    strcmp(key, "apiGroup") == 0 ? " (write \"\" for the core group)" : "");
	if (!allow_empty && v->len == 0)
		return serr(p, v, "'%s' must not be empty", key);
	if (strlen(v->str) != v->len)
		return serr(p, v, "'%s' holds a NUL byte", key);
	if ((*out = kc_strdup(v->str)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

/* A list of non-empty strings; check (may be NULL) says which are valid. */
static int
get_list(const struct sp *p, const struct ynode *m, const char *key, int optional, int nonempty,
    int (*check)(const char *), const char *what, struct kc_strset *out, int *present)
{
	const struct ynode *v = kc_ynode_get(m, key);
	char esc[128];

	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return optional ? 0 : serr(p, m, "missing key '%s'", key);
	if (v->type != Y_SEQ)
		return serr(p, v, "'%s' must be a list, not %s", key, tname(v));
	if (nonempty && v->n == 0)
		return serr(p, v, "'%s' must not be empty", key);
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *e = v->kid[i];

		if (e->type != Y_SCALAR || e->null || e->len == 0 || strlen(e->str) != e->len)
			return serr(p, e, "'%s' must list non-empty strings, not %s", key, tname(e));
		if (check != NULL && !check(e->str))
			return serr(p, e, "'%s' is not %s", shown(e, esc, sizeof(esc)), what);
		if (kc_strset_add(out, e->str) != 0)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	return 0;
}

static int
res_verb(const char *v)
{
	return kc_scope_resource_verb(v);
}

static int
url_verb(const char *v)
{
	return kc_scope_url_verb(v);
}

#define RES_VERB_WHAT "a Kubernetes verb (*, get, list, watch, create, update, patch, delete, " \
	"deletecollection, bind, escalate, impersonate, approve, sign, use)"
#define URL_VERB_WHAT "a verb of non-resource requests (*, get, post, put, patch, delete, head, options)"

static int
parse_res(const struct sp *p, const struct ynode *y, struct kc_scope_res *r)
{
	static const char *const keys[] = { "apiGroup", "resource", "subresource", "verbs", NULL };
	char *res = NULL, *sub = NULL;
	int rc;

	r->at.line = y->line;
	r->at.col = y->col;
	if ((rc = need_map(p, y, y, "an entry of 'resources'")) != 0 ||
	    (rc = check_keys(p, y, "an entry of 'resources'", keys)) != 0 ||
	    (rc = get_str(p, y, "apiGroup", 0, 1, &r->group)) != 0 ||
	    (rc = get_str(p, y, "resource", 0, 0, &res)) != 0 ||
	    (rc = get_str(p, y, "subresource", 1, 0, &sub)) != 0 ||
	    (rc = get_list(p, y, "verbs", 0, 1, res_verb, RES_VERB_WHAT, &r->verbs, NULL)) != 0)
		goto out;
	if (strchr(res, '/') != NULL || (sub != NULL && (strchr(sub, '/') != NULL || strcmp(sub, "*") == 0))) {
		rc = serr(p, kc_ynode_get(y, "resource"), "write the subresource under 'subresource' "
		    "(one name, no '/' and no '*')");
		goto out;
	}
	if ((strcmp(r->group, "") == 0 || strcmp(r->group, "*") == 0) &&
	    (strcmp(res, "secrets") == 0 || strcmp(res, "configmaps") == 0) && sub == NULL) {
		rc = serr(p, kc_ynode_get(y, "resource"), "%s are allowed by name: list them under '%s'",
		    res, strcmp(res, "secrets") == 0 ? "secrets" : "configMaps");
		goto out;
	}
	if (sub != NULL)
		r->resource = kc_asprintf("%s/%s", res, sub);
	else {
		r->resource = res;
		res = NULL;
	}
	if (r->resource == NULL)
		rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
out:
	free(res);
	free(sub);
	return rc;
}

static int
parse_urls(const struct sp *p, const struct ynode *y, struct kc_scope_urls *u)
{
	static const char *const keys[] = { "urls", "verbs", NULL };
	int rc;

	u->at.line = y->line;
	u->at.col = y->col;
	if ((rc = need_map(p, y, y, "an entry of 'nonResourceURLs'")) != 0 ||
	    (rc = check_keys(p, y, "an entry of 'nonResourceURLs'", keys)) != 0 ||
	    (rc = get_list(p, y, "urls", 0, 1, NULL, NULL, &u->urls, NULL)) != 0 ||
	    (rc = get_list(p, y, "verbs", 0, 1, url_verb, URL_VERB_WHAT, &u->verbs, NULL)) != 0)
		return rc;
	for (size_t i = 0; i < u->urls.n; i++)
		if (u->urls.v[i][0] != '/' && strcmp(u->urls.v[i], "*") != 0)
			return serr(p, kc_ynode_get(y, "urls"), "non-resource URL '%s' must start with '/' "
			    "(or be '*')", u->urls.v[i]);
	return 0;
}

static int
parse_names(const struct sp *p, const struct ynode *a, const char *key, struct kc_scope_names *n)
{
	static const char *const keys[] = { "names", "verbs", NULL };
	const struct ynode *y = kc_ynode_get(a, key);
	char where[64];
	int rc;

	if (y == NULL)
		return 0;
	n->present = 1;
	n->at.line = y->line;
	n->at.col = y->col;
	if ((rc = kc_fmt(where, sizeof(where), "'%s'", key)) != 0 ||
	    (rc = need_map(p, y, y, where)) != 0 || (rc = check_keys(p, y, where, keys)) != 0 ||
	    (rc = get_list(p, y, "names", 0, 1, NULL, NULL, &n->names, NULL)) != 0 ||
	    (rc = get_list(p, y, "verbs", 0, 1, res_verb, RES_VERB_WHAT, &n->verbs, NULL)) != 0)
		return rc;
	return 0;
}

static int
parse_select(const struct sp *p, const struct ynode *y, struct kc_scope_agent *a)
{
	static const char *const mkeys[] = { "namespaces", "names", NULL };
	const struct ynode *sa = kc_ynode_get(y, "serviceAccount"), *m = kc_ynode_get(y, "match");
	char *v = NULL, *slash;
	int rc;

	if ((sa == NULL) == (m == NULL))
		return serr(p, sa && m ? m : y, "an agent entry selects by exactly one of 'serviceAccount' "
		    "(NAMESPACE/NAME) and 'match' (namespaces and name patterns)");
	if (m != NULL) {
		if ((rc = need_map(p, m, m, "'match'")) != 0 || (rc = check_keys(p, m, "'match'", mkeys)) != 0 ||
		    (rc = get_list(p, m, "namespaces", 0, 1, NULL, NULL, &a->match_ns, NULL)) != 0 ||
		    (rc = get_list(p, m, "names", 0, 1, NULL, NULL, &a->match_names, NULL)) != 0)
			return rc;
		return 0;
	}
	if ((rc = get_str(p, y, "serviceAccount", 0, 0, &v)) != 0)
		return rc;
	slash = strchr(v, '/');
	if (slash == NULL || slash == v || slash[1] == '\0' || strchr(slash + 1, '/') != NULL) {
		free(v);
		return serr(p, sa, "'serviceAccount' must be NAMESPACE/NAME");
	}
	*slash = '\0';
	a->sa_ns = v;
	if ((a->sa_name = kc_strdup(slash + 1)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

static int
parse_agent(const struct sp *p, const struct ynode *y, struct kc_scope_agent *a)
{
	static const char *const keys[] = { "name", "owner", "approval", "serviceAccount", "match",
	    "namespaces", "resources", "nonResourceURLs", "secrets", "configMaps", "maxVerbs",
	    "externalEndpoints", NULL };
	const struct ynode *v;
	int rc;

	a->at.line = y->line;
	a->at.col = y->col;
	if ((rc = need_map(p, y, y, "an entry of 'agents'")) != 0 ||
	    (rc = check_keys(p, y, "an agent entry", keys)) != 0 ||
	    (rc = get_str(p, y, "name", 0, 0, &a->name)) != 0 ||
	    (rc = get_str(p, y, "owner", 0, 0, &a->owner)) != 0 ||
	    (rc = get_str(p, y, "approval", 0, 0, &a->approval)) != 0 ||
	    (rc = parse_select(p, y, a)) != 0 ||
	    (rc = get_list(p, y, "namespaces", 1, 0, NULL, NULL, &a->namespaces, NULL)) != 0 ||
	    (rc = get_list(p, y, "maxVerbs", 1, 1, res_verb, RES_VERB_WHAT, &a->max_verbs, &a->has_max)) != 0 ||
	    (rc = get_list(p, y, "externalEndpoints", 1, 0, NULL, NULL, &a->endpoints, NULL)) != 0 ||
	    (rc = parse_names(p, y, "secrets", &a->secrets)) != 0 ||
	    (rc = parse_names(p, y, "configMaps", &a->configmaps)) != 0)
		return rc;
	if ((v = kc_ynode_get(y, "resources")) != NULL) {
		if (v->type != Y_SEQ)
			return serr(p, v, "'resources' must be a list, not %s", tname(v));
		if ((a->res = kc_calloc(v->n ? v->n : 1, sizeof(*a->res))) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		for (size_t i = 0; i < v->n; i++, a->nres++)
			if ((rc = parse_res(p, v->kid[i], &a->res[i])) != 0) {
				a->nres++;
				return rc;
			}
	}
	if ((v = kc_ynode_get(y, "nonResourceURLs")) != NULL) {
		if (v->type != Y_SEQ)
			return serr(p, v, "'nonResourceURLs' must be a list, not %s", tname(v));
		if ((a->urls = kc_calloc(v->n ? v->n : 1, sizeof(*a->urls))) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		for (size_t i = 0; i < v->n; i++, a->nurls++)
			if ((rc = parse_urls(p, v->kid[i], &a->urls[i])) != 0) {
				a->nurls++;
				return rc;
			}
	}
	return 0;
}

/* Entry names unique; one serviceAccount in one entry only. */
static int
check_unique(const struct sp *p, const struct kc_scope *s, const struct ynode *agents)
{
	for (size_t i = 1; i < s->n; i++)
		for (size_t j = 0; j < i; j++) {
			const struct kc_scope_agent *a = &s->v[i], *b = &s->v[j];

			if (strcmp(a->name, b->name) == 0)
				return serr(p, kc_ynode_get(agents->kid[i], "name"), "agent entry name '%s' "
				    "is used twice (first at line %zu column %zu)", a->name, b->at.line, b->at.col);
			if (a->sa_ns != NULL && b->sa_ns != NULL && strcmp(a->sa_ns, b->sa_ns) == 0 &&
			    strcmp(a->sa_name, b->sa_name) == 0)
				return serr(p, kc_ynode_get(agents->kid[i], "serviceAccount"), "service account "
				    "%s/%s is matched twice: by '%s' and by '%s' (line %zu column %zu)",
				    a->sa_ns, a->sa_name, a->name, b->name, b->at.line, b->at.col);
		}
	return 0;
}

int
kc_scope_parse(const char *file, const char *data, size_t len, struct kc_scope *out)
{
	static const char *const keys[] = { "apiVersion", "kind", "agents", NULL };
	struct sp p = { file };
	struct ynode *root = NULL;
	const struct ynode *agents;
	char *av = NULL, *kind = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((out->file = kc_strdup(file)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((rc = kc_sha256_hex(data, len, out->sha256)) != 0)
		return rc;
	if ((rc = kc_yaml_load_file(file, data, len, &root)) != 0)
		return rc;
	if (root == NULL) {
		rc = kc_err_set(KC_ERR_CONFIG, "%s:1:1: the scope file is empty", file);
		goto out;
	}
	if ((rc = need_map(&p, root, root, "the scope file")) != 0 ||
	    (rc = check_keys(&p, root, "the scope file", keys)) != 0 ||
	    (rc = get_str(&p, root, "apiVersion", 0, 0, &av)) != 0 ||
	    (rc = get_str(&p, root, "kind", 0, 0, &kind)) != 0)
		goto out;
	if (strcmp(av, KC_SCOPE_API_VERSION) != 0) {
		rc = serr(&p, kc_ynode_get(root, "apiVersion"), "apiVersion '%s' is not "
		    KC_SCOPE_API_VERSION, av);
		goto out;
	}
	if (strcmp(kind, KC_SCOPE_KIND) != 0) {
		rc = serr(&p, kc_ynode_get(root, "kind"), "kind '%s' is not " KC_SCOPE_KIND, kind);
		goto out;
	}
	agents = kc_ynode_get(root, "agents");
	if (agents == NULL) {
		rc = serr(&p, root, "missing key 'agents'");
		goto out;
	}
	if (agents->type != Y_SEQ) {
		rc = serr(&p, agents, "'agents' must be a list, not %s", tname(agents));
		goto out;
	}
	if ((out->v = kc_calloc(agents->n ? agents->n : 1, sizeof(*out->v))) == NULL) {
		rc = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < agents->n; i++) {
		out->n++;
		if ((rc = parse_agent(&p, agents->kid[i], &out->v[i])) != 0)
			goto out;
	}
	rc = check_unique(&p, out, agents);
out:
	free(av);
	free(kind);
	kc_ynode_unref(root);
	return rc;
}

static void
agent_free(struct kc_scope_agent *a)
{
	free(a->name);
	free(a->owner);
	free(a->approval);
	free(a->sa_ns);
	free(a->sa_name);
	kc_strset_free(&a->match_ns);
	kc_strset_free(&a->match_names);
	kc_strset_free(&a->namespaces);
	for (size_t i = 0; i < a->nres; i++) {
		free(a->res[i].group);
		free(a->res[i].resource);
		kc_strset_free(&a->res[i].verbs);
	}
	free(a->res);
	for (size_t i = 0; i < a->nurls; i++) {
		kc_strset_free(&a->urls[i].urls);
		kc_strset_free(&a->urls[i].verbs);
	}
	free(a->urls);
	kc_strset_free(&a->secrets.names);
	kc_strset_free(&a->secrets.verbs);
	kc_strset_free(&a->configmaps.names);
	kc_strset_free(&a->configmaps.verbs);
	kc_strset_free(&a->max_verbs);
	kc_strset_free(&a->endpoints);
}

void
kc_scope_free(struct kc_scope *s)
{
	for (size_t i = 0; i < s->n; i++)
		agent_free(&s->v[i]);
	free(s->v);
	free(s->file);
	memset(s, 0, sizeof(*s));
}

static int
entry_matches(const struct kc_scope_agent *a, const char *ns, const char *name)
{
	if (a->sa_ns != NULL)
		return strcmp(a->sa_ns, ns) == 0 && strcmp(a->sa_name, name) == 0;
	if (!kc_strset_has(&a->match_ns, ns))
		return 0;
	for (size_t i = 0; i < a->match_names.n; i++)
		if (fnmatch(a->match_names.v[i], name, 0) == 0)
			return 1;
	return 0;
}

int
kc_scope_match(const struct kc_scope *s, const char *ns, const char *name, long *idx)
{
	*idx = -1;
	for (size_t i = 0; i < s->n; i++) {
		if (!entry_matches(&s->v[i], ns, name))
			continue;
		if (*idx >= 0) {
			const struct kc_scope_agent *a = &s->v[*idx], *b = &s->v[i];

			return kc_err_set(KC_ERR_CONFIG, "%s:%zu:%zu: agent %s/%s is matched twice: by '%s' "
			    "(line %zu column %zu) and by '%s'", s->file, b->at.line, b->at.col, ns, name,
			    a->name, a->at.line, a->at.col, b->name);
		}
		*idx = (long)i;
	}
	return 0;
}
