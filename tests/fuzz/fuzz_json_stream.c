/* fuzz_json_stream.c - kc_json_parse_stream (util/json.h), the reader of
 * the report's who-can.json, against the whole-text parse it stands in
 * for: a differential harness.  Input: any text.
 *  - the stream parse accepts exactly what cJSON_ParseWithLength accepts;
 *  - when both accept, the members other than "queries" print the same
 *    as the whole document without them, and the elements the callback
 *    saw of the last "queries" print the same as that member's children
 *    (what kc_json_get and cJSON_ArrayForEach give a whole-text reader);
 *  - the scratch arena holds nothing after the call;
 *  - the same text fed in pieces (kc_json_stream_feed: a byte at a time,
 *    then cut at places drawn from the text's own hash) gives exactly the
 *    whole text's callbacks, in order, its result and its error, also when
 *    the callback stops the read part way.
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

/* Every callback, in order (a member's start "B<occurrence>", an element
 * "E<occurrence>:<text>"); the callback fails at the fail_at'th (0: never). */
struct calls {
	struct kc_buf log;
	int n, fail_at;
};

static int
record(void *ctx, const cJSON *el, int occurrence)
{
	struct calls *c = ctx;
	char *p;

	if (el == NULL) {
		kc_buf_addf(&c->log, "B%d\n", occurrence);
	} else {
		if ((p = cJSON_PrintUnformatted(el)) == NULL)
			return KC_ERR_NOMEM;
		kc_buf_addf(&c->log, "E%d:%s\n", occurrence, p);
		free(p);
	}
	if (++c->n == c->fail_at)
		return KC_ERR_INVALID;
	return 0;
}

/* The whole-text read and the same text fed in pieces (cut: 0 a byte at
 * a time, else cut at positions drawn from seed) must agree in every
 * callback, the result and the error. */
static void
pieces_agree(const char *text, size_t size, struct kc_jarena *scratch, uint32_t seed, int cut, int fail_at)
{
	struct calls w = { KC_BUF_INIT(1u << 26), 0, fail_at }, p = { KC_BUF_INIT(1u << 26), 0, fail_at };
	struct kc_json_stream *s;
	cJSON *a, *b;
	int ea = -1, eb = -1, fr = 0;
	size_t at = 0;

	a = kc_json_parse_stream(text, size, "queries", scratch, record, &w, &ea);
	if ((s = kc_json_stream_new("queries", scratch, record, &p)) == NULL)
		abort();
	while (at < size) {
		size_t n = 1;

		if (cut) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 8) % (cut == 1 ? 16 : size);
		}
		if (n > size - at)
			n = size - at;
		if ((fr = kc_json_stream_feed(s, text + at, n)) != 0)
			break;
		at += n;
	}
	b = kc_json_stream_end(s, &eb);
	if (fr != 0 && fr != eb)
		differs("a feed's error is not the end's");
	if (kc_jarena_bytes(scratch) != 0)
		differs("the scratch arena holds blocks after a read in pieces");
	if ((a == NULL) != (b == NULL) || ea != eb)
		differs("in pieces: another verdict or error");
	if (w.log.len != p.log.len || (w.log.len > 0 && memcmp(w.log.data, p.log.data, w.log.len) != 0))
		differs("in pieces: other callbacks");
	if (a != NULL) {
		char *x = cJSON_PrintUnformatted(a), *y = cJSON_PrintUnformatted(b);

		if (x == NULL || y == NULL)
			abort();
		if (strcmp(x, y) != 0)
			differs("in pieces: other members");
		free(x);
		free(y);
	}
	cJSON_Delete(a);
	cJSON_Delete(b);
	kc_buf_free(&w.log);
	kc_buf_free(&p.log);
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
	{
		uint32_t h = 2166136261u;

		for (size_t i = 0; i < size; i++)
			h = (h ^ data[i]) * 16777619u;
		if (size <= 4096)
			pieces_agree(text, size, scratch, h, 0, 0);
		pieces_agree(text, size, scratch, h, 1, 0);
		pieces_agree(text, size, scratch, h ^ 0x9e3779b9u, 2, 0);
		pieces_agree(text, size, scratch, h, 1, 1 + (int)(h % 7));
	}
	return 0;
}
