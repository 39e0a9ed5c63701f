/* test_main.c - runs every DEFINE_TEST, each in its own work folder. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "util/buf.h"
#include "util/fsutil.h"

#include <cjson/cJSON.h>

#undef DEFINE_TEST
#define DEFINE_TEST(name) void name(void);
#include "list.h"
#undef DEFINE_TEST
#define DEFINE_TEST(name) { #name, name },
static const struct { const char *name; void (*fn)(void); } tests[] = {
#include "list.h"
};

int kc_test_failures;
static char datadir[PATH_MAX + 32];

void
kc_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	kc_test_failures++;
	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *
kc_test_data(void)
{
	return datadir;
}

cJSON *
kc_test_load_json(const char *rel)
{
	struct kc_buf b = KC_BUF_INIT(1u << 24);
	char *path = kc_path_join(datadir, rel);
	cJSON *j = NULL;

	CHECK(path != NULL);
	if (path != NULL && kc_read_file(path, b.max, &b) == 0)
		j = cJSON_ParseWithLength(kc_buf_str(&b), b.len);
	CHECK(j != NULL);
	kc_buf_free(&b);
	free(path);
	return j;
}

int
main(int argc, char **argv)
{
	char cwd[PATH_MAX], work[PATH_MAX + 32];
	int passed = 0, failed = 0;
	const char *tmp = getenv("TMPDIR");

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return 2;
	snprintf(datadir, sizeof(datadir), "%s/tests/unit/data", cwd);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = kc_test_failures;

		if (argc > 1 && strstr(tests[i].name, argv[1]) == NULL)
			continue;
		snprintf(work, sizeof(work), "%s/kcustody-unit.XXXXXX", tmp ? tmp : "/tmp");
		if (mkdtemp(work) == NULL || chdir(work) != 0) {
			perror("mkdtemp");
			return 2;
		}
		tests[i].fn();
		if (chdir(cwd) != 0)
			return 2;
		if (kc_test_failures == before) {
			passed++;
			kc_rm_rf(work);
		} else {
			failed++;
			fprintf(stderr, "FAIL %s (work folder kept: %s)\n", tests[i].name, work);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
