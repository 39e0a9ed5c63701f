#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbac/eval.h"
#include "rbac/reach.h"
#include "rbac/scope.h"
#include "rbac/labels.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#define KEY_MAX (1u << 20)

static const cJSON *
jmeta(const cJSON *obj)
{
	return kc_json_get(obj, "metadata");
}

/* A JSON list of strings into borrowed pointers; non-strings are skipped
 * (the server never sends them). */
static int
strs_parse(const cJSON *arr, struct kc_rbac_strs *s)
{
	const cJSON *it;
	size_t n = 0;

	s->v = NULL;
	s->n = 0;
	if (!cJSON_IsArray(arr))
		return 0;
	cJSON_ArrayForEach(it, arr)
		n++;
	if (n == 0)
		return 0;
	if ((s->v = kc_calloc(n, sizeof(*s->v))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it))
			s->v[s->n++] = it->valuestring;
	return 0;
}

static void
rule_free(struct kc_rbac_rule *r)
{
	free(r->verbs.v);
	free(r->groups.v);
	free(r->resources.v);
	free(r->names.v);
	free(r->urls.v);
}

static int
rule_parse(const cJSON *obj, size_t index, struct kc_rbac_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->index = index;
	r->json = obj;
	if (strs_parse(kc_json_get(obj, "verbs"), &r->verbs) != 0 ||
	    strs_parse(kc_json_get(obj, "apiGroups"), &r->groups) != 0 ||
	    strs_parse(kc_json_get(obj, "resources"), &r->resources) != 0 ||
	    strs_parse(kc_json_get(obj, "resourceNames"), &r->names) != 0 ||
	    strs_parse(kc_json_get(obj, "nonResourceURLs"), &r->urls) != 0) {
		rule_free(r);
		return KC_ERR_NOMEM;
	}
	return 0;
}

static int
strs_equal(const struct kc_rbac_strs *a, const struct kc_rbac_strs *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

/* equality.Semantic.DeepEqual of two PolicyRules (nil == empty). */
static int
rule_equal(const struct kc_rbac_rule *a, const struct kc_rbac_rule *b)
{
	return strs_equal(&a->verbs, &b->verbs) && strs_equal(&a->groups, &b->groups) &&
	    strs_equal(&a->resources, &b->resources) && strs_equal(&a->names, &b->names) &&
	    strs_equal(&a->urls, &b->urls);
}

/* Roles whose rules are one list of the snapshot (collect's model stores
 * equal lists once: util/jarena.h kc_jarena_share) share one parsed copy:
 * the first such role's, by the list's address.  Open addressing. */
struct rules_seen {
	const cJSON **list;	/* a rules list's first rule; NULL: free slot */
	size_t *role;		/* the role that parsed it */
	size_t n, used;
};

static size_t
ptr_slot(const void *p, size_t n)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15u;

	return (size_t)(h >> 32) & (n - 1);
}

/* the role that parsed list, or (size_t)-1 */
static size_t
rules_seen_get(const struct rules_seen *t, const cJSON *list)
{
	if (t->n == 0)
		return (size_t)-1;
	for (size_t j = ptr_slot(list, t->n); t->list[j] != NULL; j = (j + 1) & (t->n - 1))
		if (t->list[j] == list)
			return t->role[j];
	return (size_t)-1;
}

/* 0, or KC_ERR_NOMEM (then nothing is shared, and nothing lost) */
static int
rules_seen_add(struct rules_seen *t, const cJSON *list, size_t role)
{
	size_t j;

	if ((t->used + 1) * 2 > t->n) {
		size_t n = t->n ? t->n * 2 : 1024;
		const cJSON **l = kc_calloc(n, sizeof(*l));
		size_t *r = kc_calloc(n, sizeof(*r));

		if (l == NULL || r == NULL) {
			free(l);
			free(r);
			return KC_ERR_NOMEM;
		}
		for (size_t i = 0; i < t->n; i++) {
			if (t->list[i] == NULL)
				continue;
			for (j = ptr_slot(t->list[i], n); l[j] != NULL; j = (j + 1) & (n - 1))
				;
			l[j] = t->list[i];
			r[j] = t->role[i];
		}
		free(t->list);
		free(t->role);
		t->list = l;
		t->role = r;
		t->n = n;
	}
	for (j = ptr_slot(list, t->n); t->list[j] != NULL; j = (j + 1) & (t->n - 1))
		;
	t->list[j] = list;
	t->role[j] = role;
	t->used++;
	return 0;
}

/* What the evaluator reads of a role or a binding: of an object (obj) or of
 * the snapshot's record of it (kc_snapshot.rbac, obj NULL). */
struct parts {
	const cJSON *obj;
	const char *ns, *name;
	const cJSON *labels, *rules, *aggregation;
	int has_ref;			/* roleRef is an object */
	const char *role_kind, *role_name;
	const cJSON *subjects;		/* an object's subjects */
	struct kc_snap_subject *rec_subjects;	/* a record's, borrowed */
	size_t nrec_subjects;
};

static void
obj_parts(const cJSON *obj, struct parts *p)
{
	const cJSON *ref = kc_json_get(obj, "roleRef");

	memset(p, 0, sizeof(*p));
	p->obj = obj;
	p->ns = kc_json_str0(jmeta(obj), "namespace");
	p->name = kc_json_str0(jmeta(obj), "name");
	p->labels = kc_json_get(jmeta(obj), "labels");
	p->rules = kc_json_get(obj, "rules");
	p->aggregation = kc_json_get(obj, "aggregationRule");
	p->has_ref = cJSON_IsObject(ref);
	p->role_kind = kc_json_str0(ref, "kind");
	p->role_name = kc_json_str0(ref, "name");
	p->subjects = kc_json_get(obj, "subjects");
}

static void
rec_parts(const struct kc_snapshot *snap, const struct kc_snap_rbac *rec, struct parts *p)
{
	memset(p, 0, sizeof(*p));
	p->ns = rec->ns;
	p->name = rec->name;
	p->labels = rec->labels;
	p->rules = rec->rules;
	p->aggregation = rec->aggregation;
	p->has_ref = rec->role_kind != NULL;
	p->role_kind = rec->role_kind != NULL ? rec->role_kind : "";
	p->role_name = rec->role_name != NULL ? rec->role_name : "";
	p->rec_subjects = rec->nsubjects > 0 ? snap->subjects + rec->subjects : NULL;
	p->nrec_subjects = rec->nsubjects;
}

static int
role_add(struct kc_rbac *rb, const struct parts *p, int cluster, size_t *cap, struct rules_seen *seen)
{
	struct kc_rbac_role *ro;
	const cJSON *rules, *it;
	size_t n = 0, same;

	if (KC_GROW(rb->roles, *cap, rb->nroles + 1) != 0)
		return KC_ERR_NOMEM;
	ro = &rb->roles[rb->nroles];
	memset(ro, 0, sizeof(*ro));
	ro->cluster = cluster;
	ro->obj = p->obj;
	ro->name = p->name;
	ro->ns = cluster ? "" : p->ns;
	ro->labels = p->labels;
	ro->rules_json = p->rules;
	ro->aggregation = p->aggregation;
	ro->aggregated = cluster && cJSON_IsObject(p->aggregation);
	rules = p->rules;
	if (cJSON_IsArray(rules) && rules->child != NULL &&
	    (same = rules_seen_get(seen, rules->child)) != (size_t)-1) {
		/* the same list as an earlier role's: its parsed rules (equal
		 * rules, the same positions, the same rule objects) */
		cJSON_ArrayForEach(it, rules)
			if (!cJSON_IsObject(it))
				kc_warn("%s '%s': a rule is not an object; skipped",
				    cluster ? "clusterrole" : "role", ro->name);
		ro->rules = rb->roles[same].rules;
		ro->nrules = rb->roles[same].nrules;
		ro->rules_shared = 1;
		rb->nroles++;
		return 0;
	}
	cJSON_ArrayForEach(it, rules)
		n++;
	if (n > 0 && (ro->rules = kc_calloc(n, sizeof(*ro->rules))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(it, rules) {
		if (!cJSON_IsObject(it)) {
			kc_warn("%s '%s': a rule is not an object; skipped", cluster ? "clusterrole" : "role", ro->name);
			continue;
		}
		if (rule_parse(it, ro->nrules, &ro->rules[ro->nrules]) != 0)
			return KC_ERR_NOMEM;
		ro->nrules++;
	}
	/* a table without room only shares less */
	if (cJSON_IsArray(rules) && rules->child != NULL)
		(void)rules_seen_add(seen, rules->child, rb->nroles);
	rb->nroles++;
	return 0;
}

static int
binding_add(struct kc_rbac *rb, const struct parts *p, int cluster, size_t *cap)
{
	struct kc_rbac_binding *b;
	const cJSON *it;
	size_t n = 0;

	if (!p->has_ref) {
		kc_warn("%s '%s' has no roleRef; skipped", cluster ? "clusterrolebinding" : "rolebinding", p->name);
		return 0;
	}
	if (KC_GROW(rb->bindings, *cap, rb->nbindings + 1) != 0)
		return KC_ERR_NOMEM;
	b = &rb->bindings[rb->nbindings];
	memset(b, 0, sizeof(*b));
	b->cluster = cluster;
	b->obj = p->obj;
	b->labels = p->labels;
	b->name = p->name;
	b->ns = cluster ? "" : p->ns;
	b->role_kind = p->role_kind;
	b->role_name = p->role_name;
	if (p->obj == NULL) {
		/* a record's subjects, read as below when it was made */
		b->subjects = p->rec_subjects;
		b->nsubjects = p->nrec_subjects;
		b->subjects_borrowed = 1;
		rb->nbindings++;
		return 0;
	}
	cJSON_ArrayForEach(it, p->subjects)
		n++;
	if (n > 0 && (b->subjects = kc_calloc(n, sizeof(*b->subjects))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(it, p->subjects) {
		struct kc_snap_subject *s = &b->subjects[b->nsubjects++];

		s->kind = kc_json_str0(it, "kind");
		s->name = kc_json_str0(it, "name");
		s->ns = kc_json_str0(it, "namespace");
	}
	rb->nbindings++;
	return 0;
}

/* The roles (binding 0) or bindings of kind res, in the list's order:
 * the snapshot's items, or its records */
static int
add_kind(struct kc_rbac *rb, int res, int cluster, int binding, size_t *cap, struct rules_seen *seen)
{
	const struct kc_snapshot *snap = rb->snap;
	const cJSON *it;
	struct parts p;
	int r = 0;

	cJSON_ArrayForEach(it, snap->items[res]) {
		obj_parts(it, &p);
		if ((r = binding ? binding_add(rb, &p, cluster, cap) : role_add(rb, &p, cluster, cap, seen)) != 0)
			return r;
	}
	for (size_t i = 0; i < snap->nrbac[res]; i++) {
		rec_parts(snap, &snap->rbac[res][i], &p);
		if ((r = binding ? binding_add(rb, &p, cluster, cap) : role_add(rb, &p, cluster, cap, seen)) != 0)
			return r;
	}
	return 0;
}

/* ---- the indexes (struct kc_rbac: crb_subj, rb_subj, rb_any, role_by_name) ----
 *
 * Sorted arrays of 32-bit positions, searched by bisection (issue 11: the
 * four string-keyed hash maps they replace held a copied key, an entry and
 * a slot for each of the 150k estate's ~100,000 subjects and roles, 7.7 MB
 * of collect's 29.5 MB heap peak; a subject is now 8 bytes, a role 4).
 * A subject's key is its kind ('u' user, 'g' group) and the name it
 * stands for, compared in pieces: a ServiceAccount's
 * system:serviceaccount:NS:NAME is never built.  Equal keys keep list
 * order, so a lookup finds them as the bindings and roles come. */

/* A key: ns (NULL: not compared), kind, and the name as the concatenation
 * of seg[] up to a NULL. */
struct skey {
	const char *ns;
	int kind;
	const char *seg[5];
};

/* The concatenations of a and b compared byte by byte, as strcmp would
 * compare them built. */
static int
segs_cmp(const char *const *a, const char *const *b)
{
	const char *pa = *a, *pb = *b;

	for (;;) {
		int ca, cb;

		while (pa != NULL && *pa == '\0')
			pa = *++a;
		while (pb != NULL && *pb == '\0')
			pb = *++b;
		ca = pa != NULL ? (unsigned char)*pa++ : -1;
		cb = pb != NULL ? (unsigned char)*pb++ : -1;
		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (ca < 0)
			return 0;
	}
}

static int
skey_cmp(const struct skey *a, const struct skey *b)
{
	int c;

	if (a->ns != NULL && b->ns != NULL && (c = strcmp(a->ns, b->ns)) != 0)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return segs_cmp(a->seg, b->seg);
}

/* Subject s of binding b's key (ns: the binding's, or NULL): 1, or 0 when
 * it is never indexed (a kind appliesToUser never matches, or a
 * ServiceAccount with no namespace to default to). */
static int
subject_key(const struct kc_rbac_binding *b, const struct kc_snap_subject *s, int with_ns, struct skey *k)
{
	k->ns = with_ns ? b->ns : NULL;
	if (strcmp(s->kind, "User") == 0 || strcmp(s->kind, "Group") == 0) {
		k->kind = s->kind[0] == 'U' ? 'u' : 'g';
		k->seg[0] = s->name;
		k->seg[1] = NULL;
		return 1;
	}
	if (strcmp(s->kind, "ServiceAccount") == 0) {
		const char *ns = s->ns[0] != '\0' ? s->ns : b->ns;

		if (ns[0] == '\0')
			return 0;
		k->kind = 'u';
		k->seg[0] = "system:serviceaccount:";
		k->seg[1] = ns;
		k->seg[2] = ":";
		k->seg[3] = s->name;
		k->seg[4] = NULL;
		return 1;
	}
	return 0;
}

static void
sref_key(const struct kc_rbac *rb, const struct kc_rbac_sref *e, int with_ns, struct skey *k)
{
	const struct kc_rbac_binding *b = &rb->bindings[e->b];

	(void)subject_key(b, &b->subjects[e->s], with_ns, k);	/* indexed: it has one */
}

struct sort_ctx {
	const struct kc_rbac *rb;
	int with_ns;
};

static int
sref_order(const void *x, const void *y, void *ctx)
{
	const struct sort_ctx *c = ctx;
	const struct kc_rbac_sref *a = x, *b = y;
	struct skey ka, kb;
	int d;

	sref_key(c->rb, a, c->with_ns, &ka);
	sref_key(c->rb, b, c->with_ns, &kb);
	if ((d = skey_cmp(&ka, &kb)) != 0)
		return d;
	if (a->b != b->b)
		return a->b < b->b ? -1 : 1;
	return a->s < b->s ? -1 : a->s > b->s;
}

/* Append to out->cand the binding of every entry of v[0..n) whose key is
 * q. */
static int
sref_lookup(const struct kc_rbac *rb, const struct kc_rbac_sref *v, size_t n, int with_ns,
    const struct skey *q, struct kc_rbac_rules *out)
{
	size_t lo = 0, hi = n;
	struct skey k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		sref_key(rb, &v[mid], with_ns, &k);
		if (skey_cmp(&k, q) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n; lo++) {
		sref_key(rb, &v[lo], with_ns, &k);
		if (skey_cmp(&k, q) != 0)
			break;
		if (KC_GROW(out->cand, out->capcand, out->ncand + 1) != 0)
			return KC_ERR_NOMEM;
		out->cand[out->ncand++] = v[lo].b;
	}
	return 0;
}

static int
role_order(const void *x, const void *y, void *ctx)
{
	const struct kc_rbac *rb = ctx;
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	int c;

	if ((c = strcmp(rb->roles[a].ns, rb->roles[b].ns)) != 0 ||
	    (c = strcmp(rb->roles[a].name, rb->roles[b].name)) != 0)
		return c;
	return a < b ? -1 : a > b;
}

const struct kc_rbac_role *
kc_rbac_find_role(const struct kc_rbac *rb, int cluster, const char *ns, const char *name)
{
	size_t lo = 0, hi = rb->role_by_name != NULL ? rb->nroles : 0;

	if (cluster)
		ns = "";
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct kc_rbac_role *ro = &rb->roles[rb->role_by_name[mid]];
		int c = strcmp(ro->ns, ns);

		if (c == 0)
			c = strcmp(ro->name, name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* the first of that name and kind, in list order */
	for (; lo < rb->nroles; lo++) {
		const struct kc_rbac_role *ro = &rb->roles[rb->role_by_name[lo]];

		if (strcmp(ro->ns, ns) != 0 || strcmp(ro->name, name) != 0)
			break;
		if (ro->cluster == cluster)
			return ro;
	}
	return NULL;
}

/* Every indexed subject of every binding into the three subject arrays,
 * sorted; every role into role_by_name. */
static int
build_indexes(struct kc_rbac *rb)
{
	size_t nsub = 0;
	struct sort_ctx ctx = { rb, 0 };

	if (rb->nroles > UINT32_MAX || rb->nbindings > UINT32_MAX)
		return kc_err_set(KC_ERR_LIMIT, "more than %u roles or bindings", (unsigned)UINT32_MAX);
	for (size_t i = 0; i < rb->nbindings; i++) {
		if (rb->bindings[i].nsubjects > UINT32_MAX)
			return kc_err_set(KC_ERR_LIMIT, "binding '%s': more than %u subjects",
			    rb->bindings[i].name, (unsigned)UINT32_MAX);
		nsub += rb->bindings[i].nsubjects;
	}
	if ((rb->nroles > 0 && (rb->role_by_name = kc_calloc(rb->nroles, sizeof(uint32_t))) == NULL) ||
	    (nsub > 0 && ((rb->crb_subj = kc_calloc(nsub, sizeof(*rb->crb_subj))) == NULL ||
	    (rb->rb_subj = kc_calloc(nsub, sizeof(*rb->rb_subj))) == NULL ||
	    (rb->rb_any = kc_calloc(nsub, sizeof(*rb->rb_any))) == NULL)))
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < rb->nroles; i++)
		rb->role_by_name[i] = (uint32_t)i;
	if (rb->nroles > 1)
		qsort_r(rb->role_by_name, rb->nroles, sizeof(uint32_t), role_order, rb);
	for (size_t i = 0; i < rb->nbindings; i++) {
		const struct kc_rbac_binding *b = &rb->bindings[i];

		for (size_t j = 0; j < b->nsubjects; j++) {
			struct kc_rbac_sref e = { (uint32_t)i, (uint32_t)j };
			struct skey k;

			if (!subject_key(b, &b->subjects[j], 0, &k)) {
				if (strcmp(b->subjects[j].kind, "ServiceAccount") == 0)
					rb->nunindexed++;
			} else if (b->cluster) {
				rb->crb_subj[rb->ncrb_subj++] = e;
			} else {
				rb->rb_subj[rb->nrb_subj] = e;
				rb->rb_any[rb->nrb_subj++] = e;
			}
		}
	}
	if (rb->ncrb_subj > 1)
		qsort_r(rb->crb_subj, rb->ncrb_subj, sizeof(*rb->crb_subj), sref_order, &ctx);
	if (rb->nrb_subj > 1)
		qsort_r(rb->rb_any, rb->nrb_subj, sizeof(*rb->rb_any), sref_order, &ctx);
	ctx.with_ns = 1;
	if (rb->nrb_subj > 1)
		qsort_r(rb->rb_subj, rb->nrb_subj, sizeof(*rb->rb_subj), sref_order, &ctx);
	return 0;
}

/* The rules the aggregation controller would store (syncClusterRole):
 * for each selector in order, matching ClusterRoles sorted by name, self
 * excluded, rules appended unless an equal one is already there. */
static int
aggregate_role(struct kc_rbac *rb, struct kc_rbac_role *ro, const size_t *by_name, size_t ncr)
{
	const cJSON *agg = ro->aggregation;
	const cJSON *sels = kc_json_get(agg, "clusterRoleSelectors"), *sj;
	const struct kc_rbac_rule **acc = NULL;
	size_t nacc = 0, capacc = 0;
	int r = 0;

	if ((ro->expected = cJSON_CreateArray()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(sj, sels) {
		struct kc_labelsel sel;

		if (kc_labelsel_from_json(sj, &sel) != 0) {
			if (kc_err_code() == KC_ERR_NOMEM) {
				r = KC_ERR_NOMEM;
				goto out;
			}
			/* the controller gives up on this role and leaves it as is */
			ro->agg_error = kc_strdup(kc_err_msg());
			goto out;
		}
		for (size_t i = 0; i < ncr; i++) {
			const struct kc_rbac_role *o = &rb->roles[by_name[i]];

			if (strcmp(o->name, ro->name) == 0 || !kc_labelsel_match(&sel, o->labels))
				continue;
			for (size_t j = 0; j < o->nrules; j++) {
				int dup = 0;

				for (size_t k = 0; k < nacc && !dup; k++)
					dup = rule_equal(acc[k], &o->rules[j]);
				if (dup)
					continue;
				if (KC_GROW(acc, capacc, nacc + 1) != 0) {
					kc_labelsel_free(&sel);
					r = KC_ERR_NOMEM;
					goto out;
				}
				acc[nacc++] = &o->rules[j];
			}
		}
		kc_labelsel_free(&sel);
	}
	for (size_t i = 0; i < nacc; i++)
		cJSON_AddItemToArray(ro->expected, cJSON_Duplicate(acc[i]->json, 1));
	ro->drift = nacc != ro->nrules;
	for (size_t i = 0; i < nacc && !ro->drift; i++)
		ro->drift = !rule_equal(acc[i], &ro->rules[i]);
out:
	free(acc);
	return r;
}

static const struct kc_rbac *sort_rb;

static int
cmp_role_name(const void *a, const void *b)
{
	return strcmp(sort_rb->roles[*(const size_t *)a].name, sort_rb->roles[*(const size_t *)b].name);
}

static int
aggregate_all(struct kc_rbac *rb)
{
	size_t *by_name = NULL, ncr = 0;
	int r = 0;

	for (size_t i = 0; i < rb->nroles; i++)
		ncr += rb->roles[i].cluster;
	if (ncr == 0)
		return 0;
	if ((by_name = kc_calloc(ncr, sizeof(*by_name))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	ncr = 0;
	for (size_t i = 0; i < rb->nroles; i++)
		if (rb->roles[i].cluster)
			by_name[ncr++] = i;
	sort_rb = rb;
	qsort(by_name, ncr, sizeof(*by_name), cmp_role_name);
	sort_rb = NULL;
	for (size_t i = 0; i < rb->nroles && r == 0; i++)
		if (rb->roles[i].aggregated)
			r = aggregate_role(rb, &rb->roles[i], by_name, ncr);
	free(by_name);
	return r;
}

int
kc_rbac_init(struct kc_rbac *rb, const struct kc_snapshot *snap)
{
	size_t rcap = 0, bcap = 0;
	struct rules_seen seen = { NULL, NULL, 0, 0 };
	int r = 0;

	memset(rb, 0, sizeof(*rb));
	if (snap->rbac_released)	/* its roles and bindings are gone */
		return kc_err_set(KC_ERR_INVALID, "internal: an evaluator over a snapshot whose RBAC records were released");
	rb->snap = snap;
	/* this snapshot's own table of served and cluster-scoped resources
	 * (rbac/reach.h); a bundle without discovery gets the built-in one */
	kc_rbac_discovery_use(snap->disc);
	{
		/* the arrays at their size (grown by doubling, a third of
		 * 22,000 roles' was room at 150k) */
		size_t nr = snap->nrbac[KC_RES_CLUSTERROLES] + snap->nrbac[KC_RES_ROLES] +
		    (size_t)cJSON_GetArraySize(snap->items[KC_RES_CLUSTERROLES]) +
		    (size_t)cJSON_GetArraySize(snap->items[KC_RES_ROLES]);
		size_t nb = snap->nrbac[KC_RES_CLUSTERROLEBINDINGS] + snap->nrbac[KC_RES_ROLEBINDINGS] +
		    (size_t)cJSON_GetArraySize(snap->items[KC_RES_CLUSTERROLEBINDINGS]) +
		    (size_t)cJSON_GetArraySize(snap->items[KC_RES_ROLEBINDINGS]);

		if ((nr > 0 && (rb->roles = kc_calloc(nr, sizeof(*rb->roles))) == NULL) ||
		    (nb > 0 && (rb->bindings = kc_calloc(nb, sizeof(*rb->bindings))) == NULL)) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		rcap = nr;
		bcap = nb;
	}
	if ((r = add_kind(rb, KC_RES_CLUSTERROLES, 1, 0, &rcap, &seen)) != 0 ||
	    (r = add_kind(rb, KC_RES_ROLES, 0, 0, &rcap, &seen)) != 0 ||
	    (r = add_kind(rb, KC_RES_CLUSTERROLEBINDINGS, 1, 1, &bcap, NULL)) != 0)
		goto out;
	rb->ncrb = rb->nbindings;
	if ((r = add_kind(rb, KC_RES_ROLEBINDINGS, 0, 1, &bcap, NULL)) != 0)
		goto out;
	if ((r = build_indexes(rb)) != 0)
		goto out;
	for (size_t i = 0; i < rb->nbindings; i++) {
		struct kc_rbac_binding *b = &rb->bindings[i];

		/* GetRoleReferenceRules: a Role in the binding's namespace (""
		 * for a ClusterRoleBinding, which never finds one), or a
		 * ClusterRole; any other kind is an error */
		if (strcmp(b->role_kind, "Role") == 0)
			b->role = b->cluster ? NULL : kc_rbac_find_role(rb, 0, b->ns, b->role_name);
		else if (strcmp(b->role_kind, "ClusterRole") == 0)
			b->role = kc_rbac_find_role(rb, 1, "", b->role_name);
	}
	r = aggregate_all(rb);
out:
	free(seen.list);
	free(seen.role);
	if (r != 0)
		kc_rbac_free(rb);
	return r;
}

void
kc_rbac_free(struct kc_rbac *rb)
{
	if (rb == NULL)
		return;
	/* never leave a table installed that dies with its snapshot */
	if (rb->snap != NULL && rb->snap->disc != NULL && kc_rbac_discovery() == rb->snap->disc)
		kc_rbac_discovery_use(NULL);
	for (size_t i = 0; i < rb->nroles; i++) {
		for (size_t j = 0; j < rb->roles[i].nrules && !rb->roles[i].rules_shared; j++)
			rule_free(&rb->roles[i].rules[j]);
		if (!rb->roles[i].rules_shared)
			free(rb->roles[i].rules);
		cJSON_Delete(rb->roles[i].expected);
		free(rb->roles[i].agg_error);
	}
	free(rb->roles);
	for (size_t i = 0; i < rb->nbindings; i++)
		if (!rb->bindings[i].subjects_borrowed)
			free(rb->bindings[i].subjects);
	free(rb->bindings);
	free(rb->crb_subj);
	free(rb->rb_subj);
	free(rb->rb_any);
	free(rb->role_by_name);
	memset(rb, 0, sizeof(*rb));
}

int
kc_rbac_sa_identity(struct kc_rbac_sa_id *id, const char *ns, const char *name)
{
	int n1, n2;

	memset(id, 0, sizeof(*id));
	n1 = snprintf(id->user, sizeof(id->user), "system:serviceaccount:%s:%s", ns, name);
	n2 = snprintf(id->nsgroup, sizeof(id->nsgroup), "system:serviceaccounts:%s", ns);
	if (n1 < 0 || (size_t)n1 >= sizeof(id->user) || n2 < 0 || (size_t)n2 >= sizeof(id->nsgroup))
		return kc_err_set(KC_ERR_LIMIT, "service account name too long");
	id->groups[0] = "system:serviceaccounts";
	id->groups[1] = id->nsgroup;
	id->groups[2] = "system:authenticated";
	id->id.user = id->user;
	id->id.groups = id->groups;
	id->id.ngroups = 3;
	return 0;
}

/* appliesToUser */
static int
subject_applies(const struct kc_snap_subject *s, const struct kc_rbac_identity *id, const char *ns)
{
	if (strcmp(s->kind, "User") == 0)
		return strcmp(id->user, s->name) == 0;
	if (strcmp(s->kind, "Group") == 0) {
		for (size_t i = 0; i < id->ngroups; i++)
			if (strcmp(id->groups[i], s->name) == 0)
				return 1;
		return 0;
	}
	if (strcmp(s->kind, "ServiceAccount") == 0) {
		const char *sns = s->ns[0] != '\0' ? s->ns : ns;
		const char *u = id->user;
		size_t nl = strlen(sns);

		/* serviceaccount.MatchesUsername */
		if (sns[0] == '\0' || strncmp(u, "system:serviceaccount:", 22) != 0)
			return 0;
		u += 22;
		if (strncmp(u, sns, nl) != 0 || u[nl] != ':')
			return 0;
		return strcmp(u + nl + 1, s->name) == 0;
	}
	return 0;
}

static int
applies_to(const struct kc_rbac_binding *b, const struct kc_rbac_identity *id, size_t *idx)
{
	for (size_t i = 0; i < b->nsubjects; i++) {
		if (subject_applies(&b->subjects[i], id, b->ns)) {
			*idx = i;
			return 1;
		}
	}
	return 0;
}

/* The bindings of v[0..n) that name user (kind 'u') or one of groups
 * (kind 'g'), in namespace ns when the array is by namespace, appended to
 * out->cand. */
static int
cand_lookup(const struct kc_rbac *rb, const struct kc_rbac_sref *v, size_t n, const char *ns,
    const struct kc_rbac_identity *id, struct kc_rbac_rules *out)
{
	struct skey q = { ns, 'u', { id->user, NULL } };
	int r = sref_lookup(rb, v, n, ns != NULL, &q, out);

	q.kind = 'g';
	for (size_t i = 0; i < id->ngroups && r == 0; i++) {
		q.seg[0] = id->groups[i];
		r = sref_lookup(rb, v, n, ns != NULL, &q, out);
	}
	return r;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Candidate bindings for id (ClusterRoleBindings, then the RoleBindings
 * of ns), in list order, each once. */
static int
candidates(const struct kc_rbac *rb, const struct kc_rbac_identity *id, const char *ns,
    int with_cluster, struct kc_rbac_rules *out)
{
	int r = 0;
	size_t w = 0;

	out->ncand = 0;
	if (with_cluster)
		r = cand_lookup(rb, rb->crb_subj, rb->ncrb_subj, NULL, id, out);
	if (r == 0 && ns != NULL && ns[0] != '\0')
		r = cand_lookup(rb, rb->rb_subj, rb->nrb_subj, ns, id, out);
	if (r != 0)
		return r;
	if (out->ncand > 1)
		qsort(out->cand, out->ncand, sizeof(*out->cand), cmp_size);
	for (size_t i = 0; i < out->ncand; i++)
		if (w == 0 || out->cand[w - 1] != out->cand[i])
			out->cand[w++] = out->cand[i];
	out->ncand = w;
	return 0;
}

int
kc_rbac_rb_candidates(const struct kc_rbac *rb, const struct kc_rbac_identity *id,
    size_t **v, size_t *n, size_t *cap)
{
	struct kc_rbac_rules tmp;
	size_t w = 0;
	int r;

	memset(&tmp, 0, sizeof(tmp));
	r = cand_lookup(rb, rb->rb_any, rb->nrb_subj, NULL, id, &tmp);
	if (r == 0 && tmp.ncand > 1)
		qsort(tmp.cand, tmp.ncand, sizeof(*tmp.cand), cmp_size);
	for (size_t i = 0; r == 0 && i < tmp.ncand; i++)
		if (w == 0 || tmp.cand[w - 1] != tmp.cand[i])
			tmp.cand[w++] = tmp.cand[i];
	*n = 0;
	if (r == 0 && w > 0) {
		if (KC_GROW(*v, *cap, w) != 0)
			r = KC_ERR_NOMEM;
		else
			memcpy(*v, tmp.cand, w * sizeof(**v));
		*n = r == 0 ? w : 0;
	}
	free(tmp.cand);
	return r;
}

/* kc_rbac_reviews_run(): relaxed, since evaluations may run concurrently */
static atomic_ulong reviews_run;

unsigned long
kc_rbac_reviews_run(void)
{
	return atomic_load_explicit(&reviews_run, memory_order_relaxed);
}

static int
rules_for(const struct kc_rbac *rb, const struct kc_rbac_identity *id, const char *ns,
    int with_cluster, struct kc_rbac_rules *out)
{
	int r;

	atomic_fetch_add_explicit(&reviews_run, 1, memory_order_relaxed);
	out->n = 0;
	out->nmissing = 0;
	if ((r = candidates(rb, id, ns, with_cluster, out)) != 0)
		return r;
	for (size_t c = 0; c < out->ncand; c++) {
		const struct kc_rbac_binding *b = &rb->bindings[out->cand[c]];
		size_t si;

		if (!applies_to(b, id, &si))
			continue;
		if (b->role == NULL) {
			if (KC_GROW(out->missing, out->capmissing, out->nmissing + 1) != 0)
				return KC_ERR_NOMEM;
			out->missing[out->nmissing++] = b;
			continue;
		}
		if (KC_GROW(out->grants, out->cap, out->n + b->role->nrules) != 0)
			return KC_ERR_NOMEM;
		for (size_t i = 0; i < b->role->nrules; i++) {
			struct kc_rbac_grant *g = &out->grants[out->n++];

			g->binding = b;
			g->subject = si;
			g->rule = &b->role->rules[i];
		}
	}
	return 0;
}

int
kc_rbac_rules_for(const struct kc_rbac *rb, const struct kc_rbac_identity *id, const char *ns,
    struct kc_rbac_rules *out)
{
	return rules_for(rb, id, ns, 1, out);
}

int
kc_rbac_rules_for_ns(const struct kc_rbac *rb, const struct kc_rbac_identity *id, const char *ns,
    struct kc_rbac_rules *out)
{
	return rules_for(rb, id, ns, 0, out);
}

void
kc_rbac_rules_free(struct kc_rbac_rules *r)
{
	if (r == NULL)
		return;
	free(r->grants);
	free(r->missing);
	free(r->cand);
	memset(r, 0, sizeof(*r));
}

/* Go's %q for the names we print (plain for printable ASCII). */
static void
go_quote(struct kc_buf *b, const char *s)
{
	kc_buf_addc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			kc_buf_addf(b, "\\%c", c);
		else if (c == '\n')
			kc_buf_adds(b, "\\n");
		else if (c == '\t')
			kc_buf_adds(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			kc_buf_addf(b, "\\x%02x", c);
		else
			kc_buf_addc(b, (char)c);
	}
	kc_buf_addc(b, '"');
}

static void
missing_message(struct kc_buf *b, const struct kc_rbac_binding *bd)
{
	if (strcmp(bd->role_kind, "Role") == 0) {
		kc_buf_adds(b, "role.rbac.authorization.k8s.io ");
		go_quote(b, bd->role_name);
		kc_buf_adds(b, " not found");
	} else if (strcmp(bd->role_kind, "ClusterRole") == 0) {
		kc_buf_adds(b, "clusterrole.rbac.authorization.k8s.io ");
		go_quote(b, bd->role_name);
		kc_buf_adds(b, " not found");
	} else {
		kc_buf_adds(b, "unsupported role reference kind: ");
		go_quote(b, bd->role_kind);
	}
}

char *
kc_rbac_eval_error(const struct kc_rbac_rules *r)
{
	struct kc_buf out = KC_BUF_INIT(KEY_MAX), one = KC_BUF_INIT(KEY_MAX);
	char **seen = NULL;
	size_t nseen = 0;
	char *res = NULL;

	if (r->nmissing == 0)
		return NULL;
	if ((seen = kc_calloc(r->nmissing, sizeof(*seen))) == NULL)
		return NULL;
	for (size_t i = 0; i < r->nmissing; i++) {
		int dup = 0;

		kc_buf_reset(&one);
		missing_message(&one, r->missing[i]);
		for (size_t j = 0; j < nseen && !dup; j++)
			dup = strcmp(seen[j], kc_buf_str(&one)) == 0;
		if (dup)
			continue;
		if ((seen[nseen] = kc_strdup(kc_buf_str(&one))) == NULL)
			goto out;
		if (nseen > 0)
			kc_buf_adds(&out, ", ");
		kc_buf_adds(&out, seen[nseen]);
		nseen++;
	}
	if (nseen > 1) {
		kc_buf_reset(&one);
		kc_buf_addf(&one, "[%s]", kc_buf_str(&out));
		res = kc_buf_take(&one, NULL);
	} else {
		res = kc_buf_take(&out, NULL);
	}
out:
	for (size_t j = 0; j < nseen; j++)
		free(seen[j]);
	free(seen);
	kc_buf_free(&out);
	kc_buf_free(&one);
	return res;
}

/* rbacv1helpers */
int
kc_rbac_verb_matches(const struct kc_rbac_rule *r, const char *verb)
{
	for (size_t i = 0; i < r->verbs.n; i++)
		if (strcmp(r->verbs.v[i], "*") == 0 || strcmp(r->verbs.v[i], verb) == 0)
			return 1;
	return 0;
}

int
kc_rbac_group_matches(const struct kc_rbac_rule *r, const char *group)
{
	for (size_t i = 0; i < r->groups.n; i++)
		if (strcmp(r->groups.v[i], "*") == 0 || strcmp(r->groups.v[i], group) == 0)
			return 1;
	return 0;
}

int
kc_rbac_resource_matches(const struct kc_rbac_rule *r, const char *resource, const char *sub)
{
	size_t rl = strlen(resource), sl = sub != NULL ? strlen(sub) : 0;

	for (size_t i = 0; i < r->resources.n; i++) {
		const char *e = r->resources.v[i];
		size_t el = strlen(e);

		if (strcmp(e, "*") == 0)
			return 1;
		/* combined "res" or "res/sub" */
		if (sl == 0 ? strcmp(e, resource) == 0 :
		    (el == rl + 1 + sl && strncmp(e, resource, rl) == 0 && e[rl] == '/' &&
		    strcmp(e + rl + 1, sub) == 0))
			return 1;
		if (sl == 0)
			continue;
		if (el == sl + 2 && strncmp(e, "*/", 2) == 0 && strcmp(e + 2, sub) == 0)
			return 1;
	}
	return 0;
}

int
kc_rbac_name_matches(const struct kc_rbac_rule *r, const char *name)
{
	if (r->names.n == 0)
		return 1;
	if (name == NULL)
		name = "";
	for (size_t i = 0; i < r->names.n; i++)
		if (strcmp(r->names.v[i], name) == 0)
			return 1;
	return 0;
}

int
kc_rbac_url_matches(const struct kc_rbac_rule *r, const char *path)
{
	for (size_t i = 0; i < r->urls.n; i++) {
		const char *u = r->urls.v[i];
		size_t ul = strlen(u), pl;

		if (strcmp(u, "*") == 0 || strcmp(u, path) == 0)
			return 1;
		if (ul == 0 || u[ul - 1] != '*')
			continue;
		pl = ul;
		while (pl > 0 && u[pl - 1] == '*')	/* strings.TrimRight(u, "*") */
			pl--;
		if (strncmp(path, u, pl) == 0)
			return 1;
	}
	return 0;
}

int
kc_rbac_rule_allows(const struct kc_rbac_rule *r, const struct kc_rbac_request *req)
{
	if (req->path != NULL)
		return kc_rbac_verb_matches(r, req->verb) && kc_rbac_url_matches(r, req->path);
	return kc_rbac_verb_matches(r, req->verb) &&
	    kc_rbac_group_matches(r, req->group != NULL ? req->group : "") &&
	    kc_rbac_resource_matches(r, req->resource, req->subresource) &&
	    kc_rbac_name_matches(r, req->name);
}

int
kc_rbac_grant_cluster(const struct kc_rbac_grant *g)
{
	return g->binding->cluster;
}

int
kc_rbac_authorize(const struct kc_rbac *rb, const struct kc_rbac_identity *id,
    const struct kc_rbac_request *req, struct kc_rbac_decision *d)
{
	struct kc_rbac_rules rr;
	const char *ns = req->path != NULL ? "" : (req->ns != NULL ? req->ns : "");
	int r;

	memset(d, 0, sizeof(*d));
	memset(&rr, 0, sizeof(rr));
	if ((r = kc_rbac_rules_for(rb, id, ns, &rr)) != 0)
		goto out;
	for (size_t i = 0; i < rr.n; i++) {
		if (kc_rbac_rule_allows(rr.grants[i].rule, req)) {
			d->allowed = 1;
			d->grant = rr.grants[i];
			break;
		}
	}
out:
	kc_rbac_rules_free(&rr);
	return r;
}

int
kc_rbac_reason(const struct kc_rbac_grant *g, char *out, size_t n)
{
	const struct kc_rbac_binding *b = g->binding;
	const struct kc_snap_subject *s = &b->subjects[g->subject];
	struct kc_buf buf = KC_BUF_INIT(KEY_MAX), t = KC_BUF_INIT(KEY_MAX);
	int r = 0;

	kc_buf_adds(&buf, b->cluster ? "RBAC: allowed by ClusterRoleBinding " :
	    "RBAC: allowed by RoleBinding ");
	if (b->cluster)
		kc_buf_adds(&t, b->name);
	else
		kc_buf_addf(&t, "%s/%s", b->name, b->ns);
	go_quote(&buf, kc_buf_str(&t));
	kc_buf_addf(&buf, " of %s ", b->role_kind);
	go_quote(&buf, b->role_name);
	kc_buf_addf(&buf, " to %s ", s->kind);
	kc_buf_reset(&t);
	if (strcmp(s->kind, "ServiceAccount") == 0)
		kc_buf_addf(&t, "%s/%s", s->name, s->ns[0] != '\0' ? s->ns : b->ns);
	else
		kc_buf_adds(&t, s->name);
	go_quote(&buf, kc_buf_str(&t));
	if (n == 0 || buf.len >= n)
		r = kc_err_set(KC_ERR_LIMIT, "reason too long");
	else
		memcpy(out, kc_buf_str(&buf), buf.len + 1);
	kc_buf_free(&buf);
	kc_buf_free(&t);
	return r;
}

/* ---- JSON ---- */

static int
add_strs(cJSON *o, const char *key, const struct kc_rbac_strs *s, int always)
{
	cJSON *a;

	if (s->n == 0 && !always)
		return 0;
	if ((a = cJSON_AddArrayToObject(o, key)) == NULL)
		return KC_ERR_NOMEM;
	for (size_t i = 0; i < s->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(s->v[i]));
	return 0;
}

cJSON *
kc_rbac_rule_json(const struct kc_rbac_rule *r)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	add_strs(o, "verbs", &r->verbs, 1);
	add_strs(o, "apiGroups", &r->groups, 0);
	add_strs(o, "resources", &r->resources, 0);
	add_strs(o, "resourceNames", &r->names, 0);
	add_strs(o, "nonResourceURLs", &r->urls, 0);
	return o;
}

cJSON *
kc_rbac_status_json(const struct kc_rbac_rules *r)
{
	cJSON *st = cJSON_CreateObject(), *rr, *nr;
	char *err;

	if (st == NULL)
		return NULL;
	rr = cJSON_AddArrayToObject(st, "resourceRules");
	nr = cJSON_AddArrayToObject(st, "nonResourceRules");
	/* RBACAuthorizer.RulesFor: a rule with resources is a resource rule,
	 * one with nonResourceURLs a non-resource rule (both when both) */
	for (size_t i = 0; i < r->n; i++) {
		const struct kc_rbac_rule *ru = r->grants[i].rule;
		cJSON *o;

		if (ru->resources.n > 0 && (o = cJSON_CreateObject()) != NULL) {
			add_strs(o, "verbs", &ru->verbs, 1);
			add_strs(o, "apiGroups", &ru->groups, 0);
			add_strs(o, "resources", &ru->resources, 0);
			add_strs(o, "resourceNames", &ru->names, 0);
			cJSON_AddItemToArray(rr, o);
		}
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct kc_rbac_rule *ru = r->grants[i].rule;
		cJSON *o;

		if (ru->urls.n > 0 && (o = cJSON_CreateObject()) != NULL) {
			add_strs(o, "verbs", &ru->verbs, 1);
			add_strs(o, "nonResourceURLs", &ru->urls, 0);
			cJSON_AddItemToArray(nr, o);
		}
	}
	cJSON_AddBoolToObject(st, "incomplete", 0);
	if ((err = kc_rbac_eval_error(r)) != NULL)
		cJSON_AddStringToObject(st, "evaluationError", err);
	free(err);
	return st;
}

cJSON *
kc_rbac_binding_ref_json(const struct kc_rbac_binding *b)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", b->cluster ? "ClusterRoleBinding" : "RoleBinding");
	if (!b->cluster)
		cJSON_AddStringToObject(o, "namespace", b->ns);
	cJSON_AddStringToObject(o, "name", b->name);
	return o;
}

cJSON *
kc_rbac_role_ref_json(const struct kc_rbac_binding *b)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", b->role_kind);
	if (strcmp(b->role_kind, "Role") == 0)
		cJSON_AddStringToObject(o, "namespace", b->ns);
	cJSON_AddStringToObject(o, "name", b->role_name);
	cJSON_AddBoolToObject(o, "found", b->role != NULL);
	if (b->role != NULL && b->role->aggregated) {
		cJSON_AddBoolToObject(o, "aggregated", 1);
		cJSON_AddBoolToObject(o, "aggregationDrift", b->role->drift);
	}
	return o;
}

cJSON *
kc_rbac_subject_json(const struct kc_snap_subject *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", s->kind);
	cJSON_AddStringToObject(o, "name", s->name);
	if (s->ns[0] != '\0')
		cJSON_AddStringToObject(o, "namespace", s->ns);
	return o;
}

/* A rule held through a RoleBinding: the cluster-scoped resources it
 * names (or covers with "*") are listed by reviews and answered yes by
 * `kubectl auth can-i -n NS`, but no real request for them has a
 * namespace, so they are never granted (rbac/scope.h). */
static void
scope_notes(const struct kc_rbac_rule *r, cJSON *o)
{
	cJSON *cs = NULL;
	int wild = 0, bind = kc_rbac_verb_matches(r, "bind");
	char s[600];

	for (size_t gi = 0; gi < r->groups.n; gi++) {
		for (size_t ri = 0; ri < r->resources.n; ri++) {
			const char *res = r->resources.v[ri], *grp = r->groups.v[gi];

			if (res[0] == '*') {
				wild = 1;
				continue;
			}
			if (!kc_rbac_cluster_scoped(grp, res))
				continue;
			/* a note for the reader: a cut entry still shows which resource */
			kc_fmt_trunc(s, sizeof(s), "%s%s%s%s", res, grp[0] ? "." : "", grp,
			    bind && kc_rbac_ns_effective("bind", grp, res) ? " (bind only)" : "");
			if (cs == NULL)
				cs = cJSON_AddArrayToObject(o, "clusterScopedNotGranted");
			cJSON_AddItemToArray(cs, cJSON_CreateString(s));
		}
	}
	if (cs != NULL || wild)
		cJSON_AddStringToObject(o, "scopeNote", wild ?
		    "through a RoleBinding, resources * covers only namespaced resources (and bind on "
		    "clusterroles): a request for a cluster-scoped resource has no namespace; kubectl auth "
		    "can-i -n NS answers yes for them, a real request is forbidden" :
		    "the resources in clusterScopedNotGranted are cluster-scoped: a real request for them "
		    "has no namespace, so this RoleBinding never grants them (kubectl auth can-i -n NS "
		    "answers yes)");
}

cJSON *
kc_rbac_grants_json(const struct kc_rbac_rules *r)
{
	cJSON *arr = cJSON_CreateArray();
	char reason[4096];

	for (size_t i = 0; arr != NULL && i < r->n; i++) {
		const struct kc_rbac_grant *g = &r->grants[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToObject(o, "rule", kc_rbac_rule_json(g->rule));
		cJSON_AddNumberToObject(o, "ruleIndex", (double)g->rule->index);
		cJSON_AddItemToObject(o, "binding", kc_rbac_binding_ref_json(g->binding));
		cJSON_AddItemToObject(o, "subject", kc_rbac_subject_json(&g->binding->subjects[g->subject]));
		cJSON_AddItemToObject(o, "role", kc_rbac_role_ref_json(g->binding));
		cJSON_AddStringToObject(o, "scope", g->binding->cluster ? "cluster" : "namespace");
		if (g->rule->urls.n > 0 && !g->binding->cluster)
			cJSON_AddStringToObject(o, "note", "nonResourceURLs through a RoleBinding are "
			    "listed by rules reviews but never authorize a request");
		else if (!g->binding->cluster)
			scope_notes(g->rule, o);
		{
			cJSON *reach = kc_rbac_wildcard_reach(g->rule, !g->binding->cluster);

			if (reach != NULL)
				cJSON_AddItemToObject(o, "wildcardReach", reach);
		}
		if (kc_rbac_reason(g, reason, sizeof(reason)) == 0)
			cJSON_AddStringToObject(o, "reason", reason);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

cJSON *
kc_rbac_blind_spots_json(void)
{
	static const char *const spots[] = {
		"members of the system:masters group bypass RBAC entirely",
		"the Node authorizer (kubelets) is not evaluated",
		"webhook and other authorizer modes (EKS, GKE, AKS IAM) are not evaluated",
		"ABAC or AlwaysAllow authorization modes, if enabled, are not evaluated",
	};
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a != NULL && i < sizeof(spots) / sizeof(spots[0]); i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(spots[i]));
	return a;
}

cJSON *
kc_rbac_drift_json(const struct kc_rbac *rb)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a != NULL && i < rb->nroles; i++) {
		const struct kc_rbac_role *ro = &rb->roles[i];
		cJSON *o;
		const cJSON *stored;

		if (!ro->aggregated || (!ro->drift && ro->agg_error == NULL))
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", ro->name);
		stored = ro->rules_json;
		cJSON_AddItemToObject(o, "storedRules", cJSON_IsArray(stored) ?
		    cJSON_Duplicate(stored, 1) : cJSON_CreateArray());
		if (ro->agg_error != NULL)
			cJSON_AddStringToObject(o, "selectorError", ro->agg_error);
		else
			cJSON_AddItemToObject(o, "expectedRules", cJSON_Duplicate(ro->expected, 1));
		cJSON_AddItemToArray(a, o);
	}
	return a;
}
