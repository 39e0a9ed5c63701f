/* collect_hooks.h - the options of the analysis steps that run after
 * collect's lists: agent selection and effective permissions, audit-log
 * segments.  Kept apart from cmd_collect.c so that each step owns its
 * options; the steps themselves are pipeline/collect.h. */
#ifndef KC_COLLECT_HOOKS_H
#define KC_COLLECT_HOOKS_H

#include <getopt.h>

#include "pipeline/collect.h"

struct collect_hooks {
	int fail_on;		/* severity rank, 0 = none */
	void *rbac;		/* analysis state */
	void *audit;
};

void collect_hooks_init(struct collect_hooks *h);
const char *collect_hooks_usage(void);
/* Append the hooks' long options (val = base + index); returns the count. */
size_t collect_hooks_options(struct option *out, size_t max, int base);
/* Parse one hook option; prints an error and returns -1 when invalid. */
int collect_hooks_parse(struct collect_hooks *h, int index, const char *arg);
/* Fill the plan's selection, review, audit and pod-log fields (borrowing
 * h's strings: h outlives the run).  Prints and returns -1 when h could
 * not be set up, -2 for a bad option value (a usage error). */
int collect_hooks_plan(const struct collect_hooks *h, struct kc_collect_plan *plan);
/* Adjust the exit status (--fail-on against the worst finding's rank). */
int collect_hooks_exit(const struct collect_hooks *h, int worst_severity, int ret);
void collect_hooks_free(struct collect_hooks *h);

#endif
