/* fuzz_audit.c - the audit-log reader, filter and redaction
 * (collector/audit*.c) through kc_audit_scan, the entry point of
 * `kcustody audit` (kc_audit_extract, used by collect, adds only the file
 * writing).
 *
 * Input: the log file's bytes (plain or gzip: the reader decides by magic),
 * optionally preceded by filter lines "NAME=VALUE" (kc_audit_filter_add
 * names, plus line-max=N and no-redact=1) and a line "%%".  A filter the
 * library refuses is skipped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/audit.h"
#include "tests/fuzz/fuzz_common.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

static int
on_malformed(void *ctx, const struct kc_audit_malformed *m)
{
	(void)ctx;
	return kc_audit_malformed_write(devnull, m);
}

static void
add_filters(struct kc_audit_filter *f, struct kc_audit_opts *o, char *spec)
{
	char *save = NULL, *line;

	for (line = strtok_r(spec, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "line-max") == 0) {
			long v = strtol(eq, NULL, 10);

			if (v >= (long)KC_AUDIT_LINE_MAX_MIN && v <= (1L << 20))
				o->line_max = (size_t)v;
		} else if (strcmp(line, "no-redact") == 0) {
			o->no_redact = 1;
		} else {
			kc_audit_filter_add(f, line, eq);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_audit_opts o = { 0 };
	struct kc_audit_result res = { 0 };
	struct kc_audit_filter *f;
	const uint8_t *a, *b, *log = data;
	size_t an, bn, logn = size;
	const char *paths[1];
	char *path, *spec = NULL;

	if (size > (4u << 20))
		return -1;
	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	if ((f = kc_audit_filter_new()) == NULL)
		abort();
	o.no_rotated = 1;
	o.stats = 1;
	o.validate = 1;
	fz_split(data, size, "%%\n", &a, &an, &b, &bn);
	if (a + an != data + size) {
		spec = fz_strndup(a, an);
		add_filters(f, &o, spec);
		log = b;
		logn = bn;
	}
	path = fz_write("audit.log", log, logn);
	paths[0] = path;
	kc_audit_scan(paths, 1, f, &o, devnull, on_malformed, NULL, &res);
	cJSON_Delete(res.doc);
	kc_audit_filter_free(f);
	kc_err_clear();
	free(path);
	free(spec);
	return 0;
}
