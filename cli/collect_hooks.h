/* collect_hooks.h - the analysis steps that run after collect's lists:
 * agent selection and effective permissions (rbac/), audit-log segments
 * (collector/audit).  Kept apart from cmd_collect.c so that each step owns
 * its options. */
#ifndef KC_COLLECT_HOOKS_H
#define KC_COLLECT_HOOKS_H

#include <getopt.h>

#include "collector/collect.h"

struct collect_hooks {
	int fail_on;		/* severity rank, 0 = none */
	int worst_severity;	/* set by the analysis */
	void *rbac;		/* analysis state */
	void *audit;
};

void collect_hooks_init(struct collect_hooks *h);
const char *collect_hooks_usage(void);
/* Append the hooks' long options (val = base + index); returns the count. */
size_t collect_hooks_options(struct option *out, size_t max, int base);
/* Parse one hook option; prints an error and returns -1 when invalid. */
int collect_hooks_parse(struct collect_hooks *h, int index, const char *arg);
/* Run the analysis steps into the staging folder. */
int collect_hooks_run(struct collect_hooks *h, struct kc_collect *co);
/* Adjust the exit status (e.g. --fail-on). */
int collect_hooks_exit(struct collect_hooks *h, struct kc_collect *co, int ret);
void collect_hooks_free(struct collect_hooks *h);

#endif
