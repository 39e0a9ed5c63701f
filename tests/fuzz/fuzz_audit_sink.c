/* fuzz_audit_sink.c - the audit sink's two parsers on untrusted bytes:
 * kc_sink_batch_lines on a POSTed body (as the sink's handler calls it),
 * checking that every line it would write parses to exactly the item cJSON
 * saw, and kc_achain_digest_parse on a digest record (as verify-chain and
 * a restarting sink read them). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/auditchain.h"
#include "pipeline/audit_sink.h"
#include "tests/fuzz/fuzz_common.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXI 4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t starts[MAXI], ends[MAXI];
	struct kc_buf lines = KC_BUF_INIT(0);
	struct kc_achain_digest d;
	const char *why = NULL;
	cJSON *doc = NULL;
	size_t n = 0;
	char *text;

	if (size > (1u << 20))
		return -1;
	text = fz_strndup(data, size);
	if (kc_sink_batch_lines(text, size, starts, ends, MAXI, &doc, &lines, &n, &why) == 0) {
		const cJSON *it;
		size_t i = 0, off = 0;

		/* each line is one item's bytes: parsed, it equals that item */
		cJSON_ArrayForEach(it, kc_json_get(doc, "items")) {
			const char *nl = memchr(lines.data + off, '\n', lines.len - off);
			cJSON *line;
			char *a, *b;

			if (nl == NULL)
				abort();
			line = cJSON_ParseWithLength(lines.data + off, (size_t)(nl - lines.data - off));
			/* printed, not cJSON_Compare: that looks repeated keys
			 * up by name and calls equal documents different */
			if (line == NULL)
				abort();
			a = cJSON_PrintUnformatted(line);
			b = cJSON_PrintUnformatted(it);
			if (a == NULL || b == NULL || strcmp(a, b) != 0)
				abort();
			free(a);
			free(b);
			cJSON_Delete(line);
			off = (size_t)(nl - lines.data) + 1;
			i++;
		}
		if (i != n || off != lines.len)
			abort();
	} else if (why == NULL) {
		abort();
	}
	cJSON_Delete(doc);
	kc_buf_free(&lines);
	if (kc_achain_digest_parse(text, size, &d) == 0) {
		if (d.sequence == 0 || (d.nsegs > 0 && d.segs == NULL))
			abort();
		kc_achain_digest_clear(&d);
	}
	kc_err_clear();
	free(text);
	return 0;
}
