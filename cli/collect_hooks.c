#include <string.h>

#include "cli/cli.h"
#include "cli/collect_hooks.h"

static const struct option hook_opts[] = {
	{ NULL, 0, NULL, 0 },
};

void
collect_hooks_init(struct collect_hooks *h)
{
	memset(h, 0, sizeof(*h));
}

const char *
collect_hooks_usage(void)
{
	return "";
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
	(void)h; (void)index; (void)arg;
	return -1;
}

int
collect_hooks_run(struct collect_hooks *h, struct kc_collect *co)
{
	(void)h; (void)co;
	return 0;
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
	(void)h;
}
