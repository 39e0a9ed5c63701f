/* fuzz_ledger.c - the custody ledger checker (manifest/ledger.c) as
 * `kcustody custody verify` and `verify` run it: kc_ledger_check on the
 * ledger text, once taking the bundle hash from the first entry and once
 * against a fixed hash, then the text rendering of the report. */
#include <stdint.h>
#include <stdlib.h>

#include "manifest/ledger.h"
#include "tests/fuzz/fuzz_common.h"
#include "util/buf.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *text, size_t len, const char *sha)
{
	struct kc_ledger_state st;
	struct kc_buf out = KC_BUF_INIT(16u << 20);
	cJSON *report = NULL;

	kc_ledger_check(text, len, sha, NULL, &st, &report);
	if (report != NULL)
		kc_ledger_render_text(report, &out);
	cJSON_Delete(report);
	kc_buf_free(&out);
	kc_err_clear();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size > KC_LEDGER_MAX)
		return -1;
	/* The commands read the file into a kc_buf: NUL-terminated. */
	text = fz_strndup(data, size);
	check(text, size, NULL);
	check(text, size, "d57b1a95e27bff91331f7c6a301594eb9b00552564feb2400e0ac5570eacdd86");
	free(text);
	return 0;
}
