/* collect_hooks.c - analysis steps after collect's lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/collect_hooks.h"
#include "collector/reviews.h"
#include "collector/snapshot.h"
#include "util/err.h"
#include "util/log.h"
#include "util/mem.h"

struct hook_state {
	char **sas;		/* --sa NS/NAME */
	size_t nsas, capsas;
	int all_namespaces;
	int no_reviews;
	int parallel;
};

enum { H_SA, H_ALLNS, H_NOREVIEWS, H_PARALLEL };

static const struct option hook_opts[] = {
	[H_SA] = { "sa", required_argument, NULL, 0 },
	[H_ALLNS] = { "all-namespaces", no_argument, NULL, 0 },
	[H_NOREVIEWS] = { "no-reviews", no_argument, NULL, 0 },
	[H_PARALLEL] = { "review-parallel", required_argument, NULL, 0 },
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
	    "  --sa NS/NAME           review this service account (repeatable)\n"
	    "  --all-namespaces       review every namespace, not only those where\n"
	    "                         the account holds a binding and its own\n"
	    "  --no-reviews           skip the server-side rules reviews\n"
	    "  --review-parallel N    reviews in flight at once (default 8)\n";
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
	case H_SA:
		slash = strchr(arg, '/');
		if (slash == NULL || slash == arg || slash[1] == '\0' || strchr(slash + 1, '/') != NULL) {
			cli_error("--sa wants NAMESPACE/NAME, not '%s'", arg);
			return -1;
		}
		if (KC_GROW(st->sas, st->capsas, st->nsas + 1) != 0 ||
		    (st->sas[st->nsas] = kc_strdup(arg)) == NULL) {
			cli_error("out of memory");
			return -1;
		}
		st->nsas++;
		return 0;
	case H_ALLNS:
		st->all_namespaces = 1;
		return 0;
	case H_NOREVIEWS:
		st->no_reviews = 1;
		return 0;
	case H_PARALLEL:
		st->parallel = atoi(arg);
		if (st->parallel < 1 || st->parallel > 64) {
			cli_error("--review-parallel must be between 1 and 64");
			return -1;
		}
		return 0;
	}
	return -1;
}

int
collect_hooks_run(struct collect_hooks *h, struct kc_collect *co)
{
	struct hook_state *st = h->rbac;
	struct kc_review_target *t = NULL;
	struct kc_snapshot snap;
	size_t nt = 0;
	int r;

	if (st == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = kc_snapshot_load_dir(co->staging, &snap)) != 0)
		return r;
	if (st->nsas > 0 && !st->no_reviews) {
		if ((t = kc_calloc(st->nsas, sizeof(*t))) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < st->nsas; i++, nt++) {
			char *ns = kc_strdup(st->sas[i]), *name;

			if (ns == NULL) {
				r = kc_err_set(KC_ERR_NOMEM, "out of memory");
				goto out;
			}
			name = strchr(ns, '/');
			*name++ = '\0';
			r = kc_reviews_plan(&snap, ns, name, st->all_namespaces, &t[i]);
			free(ns);
			if (r != 0)
				goto out;
		}
		kc_info("server rules reviews for %zu service account(s)", nt);
		if ((r = kc_reviews_collect(co, t, nt, st->parallel)) != 0)
			goto out;
	} else if (st->no_reviews) {
		kc_collect_add_item(co, "reviews", "skipped", "--no-reviews");
	}
out:
	for (size_t i = 0; i < nt; i++)
		kc_review_target_free(&t[i]);
	free(t);
	kc_snapshot_free(&snap);
	return r;
}

int
collect_hooks_exit(struct collect_hooks *h, struct kc_collect *co, int ret)
{
	(void)h; (void)co;
	return ret;
}

void
collect_hooks_free(struct collect_hooks *h)
{
	struct hook_state *st = h->rbac;

	if (st != NULL) {
		for (size_t i = 0; i < st->nsas; i++)
			free(st->sas[i]);
		free(st->sas);
		free(st);
	}
	h->rbac = NULL;
}
