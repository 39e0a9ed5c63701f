/* fuzz_scope.c - the recertification scope file (rbac/recert_scope.c) as
 * `kcustody recertify --scope FILE` reads it: kc_scope_parse on the
 * file's bytes, then kc_scope_match over the parsed entries for a few
 * accounts, and kc_scope_free (also after an error). */
#include <stdint.h>
#include <stdlib.h>

#include "rbac/recert.h"
#include "tests/fuzz/fuzz_common.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const who[][2] = { { "agents", "kagent-bot" }, { "search", "rag-1" }, { "", "" } };
	struct kc_scope s;
	long idx;

	if (size > (1u << 20))
		return -1;
	if (kc_scope_parse("scope.yaml", (const char *)data, size, &s) == 0)
		for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++)
			(void)kc_scope_match(&s, who[i][0], who[i][1], &idx);
	kc_scope_free(&s);
	kc_err_clear();
	return 0;
}
