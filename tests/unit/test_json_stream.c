/* test_json_stream.c - kc_json_parse_stream (util/json.h) against the
 * whole-text parse it stands in for: the same texts accepted and refused,
 * the same elements (of the key's last member, as kc_json_get reads it),
 * the same other members; and the same read fed in pieces
 * (kc_json_stream_feed) against it, cut everywhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/jarena.h"
#include "util/json.h"

struct seen {
	struct kc_buf text;	/* the elements of the current occurrence, printed */
	int occurrence, calls, fail_at, begins;
};

static int
collect(void *ctx, const cJSON *el, int occurrence)
{
	struct seen *s = ctx;
	char *p;

	if (el == NULL) {	/* a member of the key begins: its readers take the last */
		kc_buf_reset(&s->text);
		if (s->text.data != NULL)
			s->text.data[0] = '\0';
		s->occurrence = occurrence;
		s->begins++;
		return 0;
	}
	if (++s->calls == s->fail_at)
		return KC_ERR_NOMEM;
	if ((p = cJSON_PrintUnformatted(el)) == NULL)
		return KC_ERR_NOMEM;
	kc_buf_adds(&s->text, p);
	kc_buf_addc(&s->text, '\n');
	free(p);
	return 0;
}

/* what a reader of the whole text sees: the key's children, printed */
static char *
whole_elements(const cJSON *whole)
{
	struct kc_buf b = KC_BUF_INIT(1u << 24);
	const cJSON *el;
	size_t len;

	cJSON_ArrayForEach(el, kc_json_get(whole, "queries")) {
		char *p = cJSON_PrintUnformatted(el);

		kc_buf_adds(&b, p);
		kc_buf_addc(&b, '\n');
		free(p);
	}
	if (b.data == NULL)
		return strdup("");
	return kc_buf_take(&b, &len);
}

/* 1 when the stream parse of text agrees with the whole-text parse */
static int
agrees(const char *text, size_t len, struct kc_jarena *scratch)
{
	cJSON *whole = cJSON_ParseWithLength(text, len), *rest;
	struct seen s = { KC_BUF_INIT(1u << 24), 0, 0, 0, 0 };
	int err = -1, ok;

	rest = kc_json_parse_stream(text, len, "queries", scratch, collect, &s, &err);
	if (whole == NULL || rest == NULL) {
		ok = whole == NULL && rest == NULL && err == KC_ERR_PARSE;
	} else {
		char *we = whole_elements(whole), *wr, *sr;

		if (cJSON_IsObject(whole))
			kc_json_delete(whole, "queries");
		wr = cJSON_PrintUnformatted(whole);
		sr = cJSON_PrintUnformatted(rest);
		ok = err == 0 && strcmp(wr, sr) == 0 &&
		    strcmp(we, s.text.data != NULL ? s.text.data : "") == 0 &&
		    (cJSON_IsObject(whole) || s.calls == 0);
		if (!ok)
			fprintf(stderr, "  differs on %.80s: rest %s / %s, elements %s / %s\n", text, wr, sr, we,
			    s.text.data != NULL ? s.text.data : "");
		free(we);
		free(wr);
		free(sr);
	}
	if (!ok && (whole == NULL) != (rest == NULL))
		fprintf(stderr, "  differs on %.80s: whole %s, stream %s\n", text, whole ? "parses" : "refuses",
		    rest ? "parses" : "refuses");
	cJSON_Delete(whole);
	cJSON_Delete(rest);
	kc_buf_free(&s.text);
	return ok;
}

static const char *const cases[] = {
	"{\"queries\":[{\"verb\":\"get\"},{\"verb\":\"list\",\"n\":[1,2,{\"a\":null}]}],\"blindSpots\":[\"x\"]}",
	"{\"blindSpots\":[],\"queries\":[]}",
	"{}",
	" \t\r\n{ \"queries\" : [ 1 , \"two\" , true , null , -1.5e3 ] , \"z\" : { } } ",
	"{\"other\":1}",
	/* repeated: the readers take the last */
	"{\"queries\":[1,2],\"a\":0,\"queries\":[3]}",
	"{\"queries\":[1,2],\"queries\":{\"k\":4,\"l\":5}}",
	"{\"queries\":{\"k\":4},\"queries\":[6]}",
	"{\"queries\":\"a string\"}",
	/* a later member without elements: a reader sees none (found by
	 * fuzz_json_stream: the earlier member's elements stood) */
	"{\"queries\":[1,2],\"queries\":[]}",
	"{\"queries\":[1],\"x\":1,\"queries\":0}",
	"{\"queries\":[1],\"queries\":{}}",
	"{\"queries\":7,\"b\":[]}",
	"{\"a\":1,\"a\":2}",
	/* what follows the object is not read by either */
	"{\"queries\":[1]} trailing words",
	"{\"queries\":[1]}}",
	/* a BOM: at the start both skip it; inside neither takes it */
	"\xef\xbb\xbf{\"queries\":[1]}",
	"{\"queries\":[\xef\xbb\xbf" "1]}",
	"{\xef\xbb\xbf\"queries\":[1]}",
	"{\"queries\":\xef\xbb\xbf[1]}",
	"{\"a\":\xef\xbb\xbf" "1}",
	/* refused by both */
	"{\"queries\":[1,]}",
	"{\"queries\":[1 2]}",
	"{\"queries\":[1}",
	"{\"queries\":[1]",
	"{\"queries\" [1]}",
	"{queries:[1]}",
	"{\"queries\":[1],}",
	"{\"queries\":[1] \"a\":2}",
	"{\"queries\":[{\"a\":}]}",
	"{\"a\":tru}",
	"{",
	"",
	"   ",
	"{\"queries\":[\"unterminated]}",
	/* not an object: the whole value, no element */
	"[{\"queries\":[1]}]",
	"\"queries\"",
	"42",
	/* escapes in keys: the key as decoded */
	"{\"quer\\u0069es\":[9]}",
	"{\"queries\\u0000x\":[9]}",
	/* control bytes count as whitespace for cJSON */
	"{\x01\"queries\"\x02:\x03[\x04" "1\x05,\x1f" "2]\x10}",
};

DEFINE_TEST(test_json_stream_agrees)
{
	struct kc_jarena *scratch = kc_jarena_new();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(agrees(cases[i], strlen(cases[i]), NULL));
		CHECK(agrees(cases[i], strlen(cases[i]), scratch));
		CHECK_INT((int)kc_jarena_bytes(scratch), 0);	/* reset after each element */
	}
	/* a NUL byte, and a text cut short anywhere */
	{
		static const char nul[] = "{\"queries\":[1,\0 2]}";

		CHECK(agrees(nul, sizeof(nul) - 1, scratch));
		for (size_t n = 0; n <= strlen(cases[0]); n++)
			CHECK(agrees(cases[0], n, scratch));
	}
	kc_jarena_free(scratch);
}

/* Nesting past cJSON's limit counted from the top: an element at the limit
 * is refused as the whole text refuses it, one level less is read. */
DEFINE_TEST(test_json_stream_nesting)
{
	for (int depth = CJSON_NESTING_LIMIT - 4; depth <= CJSON_NESTING_LIMIT + 1; depth++) {
		struct kc_buf b = KC_BUF_INIT(1u << 20), c = KC_BUF_INIT(1u << 20);

		kc_buf_adds(&b, "{\"queries\":[");
		kc_buf_adds(&c, "{\"a\":");
		for (int i = 0; i < depth; i++) {
			kc_buf_addc(&b, '[');
			kc_buf_addc(&c, '[');
		}
		for (int i = 0; i < depth; i++) {
			kc_buf_addc(&b, ']');
			kc_buf_addc(&c, ']');
		}
		kc_buf_adds(&b, "]}");
		kc_buf_adds(&c, "}");
		CHECK(agrees(b.data, b.len, NULL));
		CHECK(agrees(c.data, c.len, NULL));
		kc_buf_free(&b);
		kc_buf_free(&c);
	}
}

/* fn's error stops the read and is returned; the twin without one reads
 * every element. */
DEFINE_TEST(test_json_stream_fn_error)
{
	static const char text[] = "{\"queries\":[1,2,3,4]}";
	struct seen s = { KC_BUF_INIT(1u << 20), 0, 0, 3, 0 };
	int err = 0;
	cJSON *rest = kc_json_parse_stream(text, strlen(text), "queries", NULL, collect, &s, &err);

	CHECK(rest == NULL);
	CHECK_INT(err, KC_ERR_NOMEM);
	CHECK_INT(s.calls, 3);
	kc_buf_free(&s.text);
	memset(&s, 0, sizeof(s));
	s.text = (struct kc_buf)KC_BUF_INIT(1u << 20);
	rest = kc_json_parse_stream(text, strlen(text), "queries", NULL, collect, &s, &err);
	CHECK(rest != NULL);
	CHECK_INT(err, 0);
	CHECK_INT(s.calls, 4);
	CHECK_STR(s.text.data, "1\n2\n3\n4\n");
	cJSON_Delete(rest);
	kc_buf_free(&s.text);
}

/* Every callback in order ("B<occurrence>" a member begins, "E<occurrence>:
 * <text>" an element). */
static int
record(void *ctx, const cJSON *el, int occurrence)
{
	struct kc_buf *log = ctx;
	char *p;

	if (el == NULL)
		return kc_buf_addf(log, "B%d\n", occurrence);
	if ((p = cJSON_PrintUnformatted(el)) == NULL)
		return KC_ERR_NOMEM;
	kc_buf_addf(log, "E%d:%s\n", occurrence, p);
	free(p);
	return 0;
}

/* The text read whole and fed in pieces at the cuts cut[0..ncut) (offsets,
 * increasing) must agree in callbacks, result and error. */
static int
pieces_agree(const char *text, size_t len, const size_t *cut, size_t ncut)
{
	struct kc_buf a = KC_BUF_INIT(1u << 24), b = KC_BUF_INIT(1u << 24);
	struct kc_json_stream *s = kc_json_stream_new("queries", NULL, record, &b);
	cJSON *wa, *wb;
	int ea = -1, eb = -1, ok;
	size_t at = 0;

	wa = kc_json_parse_stream(text, len, "queries", NULL, record, &a, &ea);
	for (size_t i = 0; i <= ncut; i++) {
		size_t to = i < ncut ? cut[i] : len;

		kc_json_stream_feed(s, text + at, to - at);
		at = to;
	}
	wb = kc_json_stream_end(s, &eb);
	ok = ea == eb && (wa == NULL) == (wb == NULL) && a.len == b.len &&
	    (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
	if (ok && wa != NULL) {
		char *x = cJSON_PrintUnformatted(wa), *y = cJSON_PrintUnformatted(wb);

		ok = strcmp(x, y) == 0;
		free(x);
		free(y);
	}
	if (!ok)
		fprintf(stderr, "  in pieces differs on %.80s (%zu cuts, first %zu): err %d / %d\n", text, ncut,
		    ncut > 0 ? cut[0] : 0, ea, eb);
	cJSON_Delete(wa);
	cJSON_Delete(wb);
	kc_buf_free(&a);
	kc_buf_free(&b);
	return ok;
}

/* Each case fed in two pieces cut at every offset, in three cut at every
 * pair, and a byte at a time: what the whole text gives (a number cut
 * anywhere is one number, "-1.5e3" not "-1." and "5e3"). */
DEFINE_TEST(test_json_stream_pieces)
{
	static const char num[] = "{\"queries\":[12345678901234567890,-1.5e3],\"n\":-0.25e-2}";
	size_t cut[64];

	for (size_t i = 0; i <= sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = i < sizeof(cases) / sizeof(cases[0]) ? cases[i] : num;
		size_t len = strlen(t);

		for (size_t c = 0; c <= len; c++) {
			cut[0] = c;
			CHECK(pieces_agree(t, len, cut, 1));
			for (size_t d = c; d <= len && len < 40; d++) {
				cut[1] = d;
				CHECK(pieces_agree(t, len, cut, 2));
			}
		}
		if (len < 64) {
			for (size_t c = 0; c < len; c++)
				cut[c] = c + 1;
			CHECK(pieces_agree(t, len, cut, len > 0 ? len - 1 : 0));
		}
	}
}

/* Fed in 4 KiB pieces from any first cut, the stream holds at most a
 * piece and the value begun: 2,000 queries and one of 300 KB, the largest
 * held about once (the 54 MB who-can.json at 150k is never a text at
 * once).  The first cuts include the end of a value that closes on a
 * piece's last byte (found by review: the scan forgot that it had ended,
 * and the rest of the member was held).  Twin: the same text whole gives
 * the same callbacks. */
DEFINE_TEST(test_json_stream_pieces_held)
{
	static const char head[] = "{\"generatedAt\":\"x\",\"summary\":{\"n\":1}";
	struct kc_buf t = KC_BUF_INIT(1u << 26), a = KC_BUF_INIT(1u << 26);
	size_t big = 0;
	cJSON *wa;
	int ea;

	kc_buf_adds(&t, head);
	kc_buf_adds(&t, ",\"queries\":[");
	for (int i = 0; i < 2000; i++) {
		kc_buf_addf(&t, "%s{\"verb\":\"get\",\"resource\":\"secrets\",\"n\":%d,\"clusterWide\":[]", i ? "," : "", i);
		if (i == 1000) {
			size_t from = t.len;

			kc_buf_adds(&t, ",\"pad\":[");
			for (int k = 0; k < 30000; k++)
				kc_buf_adds(&t, k ? ",\"abcdefgh\"" : "\"abcdefgh\"");
			kc_buf_adds(&t, "]");
			big = t.len - from;
		}
		kc_buf_adds(&t, "}");
	}
	kc_buf_adds(&t, "],\"blindSpots\":[\"x\"]}");
	CHECK(big > 300000);
	wa = kc_json_parse_stream(t.data, t.len, "queries", NULL, record, &a, &ea);
	CHECK(wa != NULL);
	CHECK_INT(ea, 0);
	for (size_t first = 1; first <= 4096; first += first == 1 ? sizeof(head) - 2 : 37) {
		struct kc_buf b = KC_BUF_INIT(1u << 26);
		struct kc_json_stream *s = kc_json_stream_new("queries", NULL, record, &b);
		size_t held_max = 0, at = 0, n = first;
		cJSON *wb;
		int eb;

		/* first == sizeof(head) - 1: the first piece ends on the '}'
		 * that closes "summary" */
		while (at < t.len) {
			if (n > t.len - at)
				n = t.len - at;
			CHECK_INT(kc_json_stream_feed(s, t.data + at, n), 0);
			if (kc_json_stream_held(s) > held_max)
				held_max = kc_json_stream_held(s);
			at += n;
			n = 4096;
		}
		if (held_max > big + 2 * 4096)
			kc_test_fail(__FILE__, __LINE__, "first piece %zu: held %zu bytes; the largest value is %zu",
			    first, held_max, big);
		CHECK(held_max > big / 2);	/* the big one was held, not skipped */
		wb = kc_json_stream_end(s, &eb);
		CHECK(wb != NULL);
		CHECK_INT(eb, 0);
		CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
		cJSON_Delete(wb);
		kc_buf_free(&b);
	}
	cJSON_Delete(wa);
	kc_buf_free(&t);
	kc_buf_free(&a);
}

/* A value that cannot parse fails the feed that brings its end, not the
 * member's end with the rest held (review: "[1,," then 32 MiB); the twin,
 * a valid text fed the same way, reads on. */
DEFINE_TEST(test_json_stream_fails_early)
{
	static const char *const bad[] = { "{\"queries\":[1,,", "{\"queries\":[}", "{\"queries\":[{\"a\":}]" };
	struct kc_buf pad = KC_BUF_INIT(1u << 22);

	for (int i = 0; i < 1 << 16; i++)
		kc_buf_adds(&pad, "1,");
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct kc_buf log = KC_BUF_INIT(1u << 24);
		struct kc_json_stream *s = kc_json_stream_new("queries", NULL, record, &log);
		int r = kc_json_stream_feed(s, bad[k], strlen(bad[k])), r2, err;

		r2 = kc_json_stream_feed(s, pad.data, pad.len);
		CHECK(r == KC_ERR_PARSE || r2 == KC_ERR_PARSE);
		CHECK(kc_json_stream_held(s) < 64);
		CHECK(kc_json_stream_end(s, &err) == NULL);
		CHECK_INT(err, KC_ERR_PARSE);
		kc_buf_free(&log);
	}
	{
		struct kc_buf log = KC_BUF_INIT(1u << 24);
		struct kc_json_stream *s = kc_json_stream_new("queries", NULL, record, &log);
		int err;

		CHECK_INT(kc_json_stream_feed(s, "{\"queries\":[", 12), 0);
		CHECK_INT(kc_json_stream_feed(s, pad.data, pad.len), 0);
		CHECK_INT(kc_json_stream_feed(s, "1]}", 3), 0);
		CHECK(kc_json_stream_held(s) == 0);
		cJSON_Delete(kc_json_stream_end(s, &err));
		CHECK_INT(err, 0);
		kc_buf_free(&log);
	}
	kc_buf_free(&pad);
}
