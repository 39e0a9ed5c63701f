/* reach.c - wildcards expanded over the cluster's own discovery (reach.h). */
#include <stdlib.h>
#include <string.h>

#include "rbac/reach.h"
#include "rbac/scope.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/mem.h"
#include "util/strset.h"

#define REACH_NAMED 5	/* custom resources named in the text */

static const struct kc_discovery *cur;
static struct kc_rbac_scope_entry *table;	/* owned: built for cur */
static size_t ntable, captable;

void
kc_rbac_discovery_use(const struct kc_discovery *d)
{
	cur = d;
	ntable = 0;
	if (d == NULL) {
		kc_rbac_scope_use(NULL, 0);
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].namespaced)
			continue;
		if (KC_GROW(table, captable, ntable + 1) != 0)
			goto builtin;
		table[ntable].group = d->v[i].group;
		table[ntable++].resource = d->v[i].name;
	}
	/* a resource the documents do not list keeps the built-in answer:
	 * the pseudo-resources RBAC checks (users, groups, uids, userextras,
	 * signers) and the groups whose documents failed */
	for (size_t i = 0; i < kc_rbac_scope_builtin_n; i++) {
		if (kc_discovery_find(d, kc_rbac_scope_builtin[i].group, kc_rbac_scope_builtin[i].resource) != NULL)
			continue;	/* the documents decided */
		if (KC_GROW(table, captable, ntable + 1) != 0)
			goto builtin;
		table[ntable++] = kc_rbac_scope_builtin[i];
	}
	kc_rbac_scope_use(table, ntable);
	return;
builtin:
	kc_rbac_scope_use(NULL, 0);
}

const struct kc_discovery *
kc_rbac_discovery(void)
{
	return cur;
}

static int
has(const struct kc_rbac_strs *s, const char *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], v) == 0)
			return 1;
	return 0;
}

static int
verbs_meet(const struct kc_rbac_rule *r, const struct kc_disc_resource *e)
{
	if (has(&r->verbs, "*"))
		return 1;
	for (size_t i = 0; i < e->verbs.n; i++)
		if (has(&r->verbs, e->verbs.v[i]))
			return 1;
	return 0;
}

static int
full_name(const struct kc_disc_resource *e, char *out, size_t n)
{
	return kc_fmt(out, n, "%s%s%s", e->name, e->group[0] ? "." : "", e->group);
}

cJSON *
kc_rbac_wildcard_reach(const struct kc_rbac_rule *r, int namespaced_only)
{
	const struct kc_discovery *d = cur;
	struct kc_strset groups;
	cJSON *o, *crs, *all;
	struct kc_buf t = KC_BUF_INIT(1u << 16);
	long ntypes = 0, ncustom = 0;
	char fn[600];

	if (d == NULL || r->urls.n > 0 || !(has(&r->resources, "*") || has(&r->groups, "*")))
		return NULL;
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	memset(&groups, 0, sizeof(groups));
	crs = cJSON_CreateArray();
	all = cJSON_CreateArray();
	for (size_t i = 0; i < d->n; i++) {
		const struct kc_disc_resource *e = &d->v[i];

		if (!(has(&r->groups, "*") || has(&r->groups, e->group)) ||
		    !(has(&r->resources, "*") || has(&r->resources, e->name)) ||
		    (namespaced_only && !e->namespaced) || !verbs_meet(r, e) ||
		    full_name(e, fn, sizeof(fn)) != 0)
			continue;
		ntypes++;
		kc_strset_add(&groups, e->group);
		cJSON_AddItemToArray(all, cJSON_CreateString(fn));
		if (e->custom) {
			ncustom++;
			cJSON_AddItemToArray(crs, cJSON_CreateString(fn));
		}
	}
	cJSON_AddNumberToObject(o, "resourceTypes", (double)ntypes);
	cJSON_AddNumberToObject(o, "groups", (double)groups.n);
	cJSON_AddItemToObject(o, "customResources", crs);
	cJSON_AddItemToObject(o, "resources", all);
	kc_buf_addf(&t, "reaches %ld resource type%s in %zu group%s", ntypes, ntypes == 1 ? "" : "s",
	    groups.n, groups.n == 1 ? "" : "s");
	if (ncustom > 0) {
		const cJSON *c;
		int k = 0;

		kc_buf_addf(&t, ", including %ld custom resource%s (", ncustom, ncustom == 1 ? "" : "s");
		cJSON_ArrayForEach(c, crs) {
			if (k == REACH_NAMED) {
				kc_buf_addf(&t, ", ...");
				break;
			}
			kc_buf_addf(&t, "%s%s", k++ ? ", " : "", c->valuestring);
		}
		kc_buf_addf(&t, ")");
	}
	if (namespaced_only)
		kc_buf_addf(&t, " (namespaced resources only: granted through a RoleBinding)");
	cJSON_AddStringToObject(o, "text", kc_buf_str(&t));
	kc_buf_free(&t);
	kc_strset_free(&groups);
	return o;
}

int
kc_rbac_served(const char *group, const char *resource)
{
	const struct kc_disc_resource *e;
	const char *slash = strchr(resource, '/');
	char res[512];
	size_t rl = slash ? (size_t)(slash - resource) : strlen(resource);

	if (cur == NULL || kc_discovery_group_incomplete(cur, group) || rl >= sizeof(res))
		return -1;
	memcpy(res, resource, rl);
	res[rl] = '\0';
	if ((e = kc_discovery_find(cur, group, res)) == NULL)
		return 0;
	if (slash == NULL)
		return 1;
	for (size_t i = 0; i < e->subresources.n; i++)
		if (strcmp(e->subresources.v[i], resource) == 0)
			return 1;
	return 0;
}
