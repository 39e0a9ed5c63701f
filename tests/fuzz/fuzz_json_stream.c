/* fuzz_json_stream.c - kc_json_parse_stream (util/json.h), the reader of
 * the report's who-can.json, against the whole-text parse it stands in
 * for: a differential harness.  Input: any text.
 *  - the stream parse accepts exactly what cJSON_ParseWithLength accepts;
 *  - when both accept, the members other than "queries" print the same
 *    as the whole document without them, and the elements the callback
 *    saw of the last "queries" print the same as that member's children
 *    (what kc_json_get and cJSON_ArrayForEach give a whole-text reader);
 *  - the scratch arena holds nothing after the call.
 * A disagreement aborts (a finding). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tests/fuzz/fuzz_common.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/jarena.h"
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	struct kc_buf text;
	int occurrence;
};

static int
collect(void *ctx, const cJSON *el, int occurrence)
{
	struct seen *s = ctx;
	char *p;

	if (el == NULL) {	/* a "queries" member begins */
		s->text.len = 0;
		s->occurrence = occurrence;
		return 0;
	}
	if ((p = cJSON_PrintUnformatted(el)) == NULL)
		return KC_ERR_NOMEM;
	kc_buf_adds(&s->text, p);
	kc_buf_addc(&s->text, '\n');
	free(p);
	return 0;
}

static void
differs(const char *what)
{
	fprintf(stderr, "fuzz_json_stream: the stream parse and the whole-text parse differ: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kc_jarena *scratch;
	const char *text = (const char *)data;
	struct seen s = { KC_BUF_INIT(1u << 26), 0 };
	cJSON *whole, *rest;
	int err = -1;

	if (scratch == NULL) {
		kc_jarena_init();
		if ((scratch = kc_jarena_new()) == NULL)
			abort();
	}
	whole = cJSON_ParseWithLength(text, size);
	rest = kc_json_parse_stream(text, size, "queries", scratch, collect, &s, &err);
	if (kc_jarena_bytes(scratch) != 0)
		differs("the scratch arena holds blocks after the call");
	if ((whole == NULL) != (rest == NULL))
		differs(whole == NULL ? "only the stream parse accepts" : "only the whole-text parse accepts");
	if (rest == NULL && err != KC_ERR_PARSE)
		differs("refused, but not as a parse error");
	if (whole != NULL && rest != NULL) {
		struct kc_buf els = KC_BUF_INIT(1u << 26);
		const cJSON *el;
		char *a, *b;

		cJSON_ArrayForEach(el, kc_json_get(whole, "queries")) {
			char *p = cJSON_PrintUnformatted(el);

			if (p == NULL)
				abort();
			kc_buf_adds(&els, p);
			kc_buf_addc(&els, '\n');
			free(p);
		}
		if (!cJSON_IsObject(whole) && s.text.len != 0)
			differs("elements reported of a text that is no object");
		if (els.len != s.text.len || (els.len > 0 && memcmp(els.data, s.text.data, els.len) != 0))
			differs("the elements of \"queries\"");
		if (cJSON_IsObject(whole))
			kc_json_delete(whole, "queries");
		a = cJSON_PrintUnformatted(whole);
		b = cJSON_PrintUnformatted(rest);
		if (a == NULL || b == NULL)
			abort();
		if (strcmp(a, b) != 0)
			differs("the other members");
		free(a);
		free(b);
		kc_buf_free(&els);
	}
	cJSON_Delete(whole);
	cJSON_Delete(rest);
	kc_buf_free(&s.text);
	return 0;
}
