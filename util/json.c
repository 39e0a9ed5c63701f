#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/err.h"
#include "util/jarena.h"

const cJSON *
kc_json_get(const cJSON *o, const char *key)
{
	const cJSON *r = NULL;

	if (!cJSON_IsObject(o) || key == NULL)
		return NULL;
	for (const cJSON *c = o->child; c != NULL; c = c->next)
		if (c->string != NULL && strcmp(c->string, key) == 0)
			r = c;
	return r;
}

cJSON *
kc_json_get_mut(cJSON *o, const char *key)
{
	cJSON *r = NULL;

	if (!cJSON_IsObject(o) || key == NULL)
		return NULL;
	for (cJSON *c = o->child; c != NULL; c = c->next)
		if (c->string != NULL && strcmp(c->string, key) == 0)
			r = c;
	return r;
}

const cJSON *
kc_json_path(const cJSON *o, const char *path)
{
	char key[256];

	while (o != NULL && path != NULL && *path != '\0') {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = kc_json_get(o, key);
		path = dot ? dot + 1 : NULL;
	}
	return o;
}

void
kc_json_delete(cJSON *o, const char *key)
{
	cJSON *c, *next;

	if (!cJSON_IsObject(o) || key == NULL)
		return;
	for (c = o->child; c != NULL; c = next) {
		next = c->next;
		if (c->string != NULL && strcmp(c->string, key) == 0)
			cJSON_Delete(cJSON_DetachItemViaPointer(o, c));
	}
}

cJSON *
kc_json_detach(cJSON *o, const char *key)
{
	cJSON *last = kc_json_get_mut(o, key);

	if (last == NULL)
		return NULL;
	cJSON_DetachItemViaPointer(o, last);
	kc_json_delete(o, key);
	return last;
}

int
kc_json_set(cJSON *o, const char *key, cJSON *value)
{
	cJSON *c, *next, *first = NULL;

	if (!cJSON_IsObject(o) || key == NULL || value == NULL) {
		cJSON_Delete(value);
		return -1;
	}
	/* keep the first member's place (records keep their key order), drop
	 * every other member with the key */
	for (c = o->child; c != NULL; c = next) {
		next = c->next;
		if (c->string == NULL || strcmp(c->string, key) != 0)
			continue;
		if (first == NULL)
			first = c;
		else
			cJSON_Delete(cJSON_DetachItemViaPointer(o, c));
	}
	if (first != NULL ? !cJSON_ReplaceItemInObjectCaseSensitive(o, key, value) :
	    !cJSON_AddItemToObject(o, key, value)) {
		cJSON_Delete(value);
		return -1;
	}
	return 0;
}

const char *
kc_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = kc_json_get(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *
kc_json_str0(const cJSON *o, const char *key)
{
	const char *s = kc_json_str(o, key);

	return s != NULL ? s : "";
}

int
kc_json_text_has_nul(const char *p, size_t n)
{
	const char *end = p + n, *q = p;

	/* a raw NUL byte is not JSON text, yet cJSON's length-bounded parse
	 * takes it inside a string and the string ends there all the same */
	if (n > 0 && memchr(p, '\0', n) != NULL)
		return 1;
	while (q < end && (q = memchr(q, '\\', (size_t)(end - q))) != NULL) {
		if (end - q >= 6 && q[1] == 'u' && memcmp(q + 2, "0000", 4) == 0)
			return 1;
		if (end - q < 2)
			break;
		q += 2;	/* the escape's second byte is never the start of another */
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* one array of an object parsed an element at a time */

/* cJSON's whitespace: every byte up to the space (buffer_skip_whitespace) */
static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= 32)
		p++;
	return p;
}

/* containers nested in j, j included (0 for a scalar) */
static int
nesting(const cJSON *j)
{
	int d = 0;

	if (!cJSON_IsArray(j) && !cJSON_IsObject(j))
		return 0;
	for (const cJSON *c = j->child; c != NULL; c = c->next) {
		int k = nesting(c);

		if (k > d)
			d = k;
	}
	return d + 1;
}

/* The value at *p as the whole-text parse reads it inside `outer`
 * containers (its nesting limit counted from the top), *p moved past it;
 * NULL when that parse would refuse it. */
static cJSON *
value_at(const char **p, const char *end, int outer, struct kc_jarena *a)
{
	const char *e = NULL;
	cJSON *v;

	if (end - *p >= 3 && memcmp(*p, "\xef\xbb\xbf", 3) == 0)
		return NULL;	/* cJSON skips a BOM at its text's start only */
	if ((v = kc_jarena_parse_end(a, *p, (size_t)(end - *p), &e)) == NULL)
		return NULL;
	if (nesting(v) + outer > CJSON_NESTING_LIMIT) {
		cJSON_Delete(v);
		return NULL;
	}
	*p = e;
	return v;
}

/* The reader's states: where in `{ "k": v, ... }` the next byte goes. */
enum js_state {
	JS_START,	/* before the text's first byte that is not a BOM or space */
	JS_FIRST,	/* after '{' */
	JS_KEY,		/* a member's key */
	JS_COLON,	/* after the key */
	JS_VALUE,	/* after ':' */
	JS_ARR_FIRST,	/* after the key's '[' */
	JS_ELEM,	/* an element of the key's array */
	JS_ELEM_SEP,	/* after an element */
	JS_AFTER,	/* after a member */
	JS_WHOLE,	/* not an object: the whole text, at its end */
	JS_DONE,	/* the object ended: what follows is not read */
	JS_FAILED
};

#define JS_MORE 1	/* the step needs bytes not fed yet */

struct kc_json_stream {
	char *key;
	struct kc_jarena *scratch;
	kc_json_elem_fn fn;
	void *ctx;
	enum js_state st;
	int occurrence, is_key, err;
	cJSON *k;		/* the member's key (JS_COLON, JS_VALUE) */
	cJSON *rest;
	char *buf;		/* bytes fed and not yet read (a value begun) */
	size_t len, cap;
	size_t want;		/* a value is tried again once this many bytes wait
				 * (0: when js_scan finds its end) */
	size_t scan;		/* js_scan: bytes of the value begun scanned */
	size_t sc_depth;
	int sc_kind, sc_str, sc_esc;
	int sc_done;		/* js_scan found the value's end (at scan) */
	size_t lead;		/* JS_START: the BOM and spaces already skipped */
};

/* 1 when no byte of [q, end) ends a number: cJSON's number is the bytes
 * of "0123456789+-eE." from its start (then strtod), so a number that
 * seems to end at q may go on in the next piece ("-1.5e" | "3": strtod
 * stops before the 'e' here, not in the whole text). */
static int
number_may_go_on(const char *q, const char *end)
{
	while (q < end && *q != '\0' && strchr("0123456789+-eE.", *q) != NULL)
		q++;
	return q == end;
}

/* Where the value at q ends, scanned on from where the last piece's scan
 * stopped (s->scan, from q): 1 when its end and a byte after it are in
 * [q, end).  Brackets counted outside strings, a string to its closing
 * quote, a number or word to the first byte that cannot be in one.  Only
 * a hint of when to parse: the parse decides (js_value). */
static int
js_scan(struct kc_json_stream *s, const char *q, const char *end)
{
	size_t n = (size_t)(end - q), i = s->scan;

	if (s->sc_done)		/* ended at the end of a piece before */
		return s->scan < n;
	if (n == 0)
		return 0;
	for (; i < n; i++) {
		unsigned char ch = (unsigned char)q[i];

		if (i == 0) {
			s->sc_kind = ch == '{' || ch == '[' ? 1 : ch == '"' ? 2 : 3;
			s->sc_depth = s->sc_kind == 1 ? 1 : 0;
			s->sc_str = s->sc_kind == 2;
			s->sc_esc = 0;
			if (s->sc_kind == 3 && !isalnum(ch) && ch != '-' && ch != '+' && ch != '.') {
				s->sc_done = 1;	/* no value starts so: the parse says so */
				break;
			}
			continue;
		}
		if (s->sc_kind == 3) {
			if (!isalnum(ch) && ch != '-' && ch != '+' && ch != '.') {
				s->sc_done = 1;	/* the word ended before i */
				break;
			}
			continue;
		}
		if (s->sc_str) {
			if (s->sc_esc)
				s->sc_esc = 0;
			else if (ch == '\\')
				s->sc_esc = 1;
			else if (ch == '"') {
				s->sc_str = 0;
				if (s->sc_kind == 2) {
					i++;	/* the string ended after its quote */
					s->sc_done = 1;
					break;
				}
			}
			continue;
		}
		if (ch == '"')
			s->sc_str = 1;
		else if (ch == '{' || ch == '[')
			s->sc_depth++;
		else if ((ch == '}' || ch == ']') && --s->sc_depth == 0) {
			i++;
			s->sc_done = 1;
			break;
		}
	}
	s->scan = i;
	return i < n;	/* ended, and a byte after it */
}

/* A value at *pp (spaces skipped), *pp moved past it: 0 and *out, JS_MORE
 * when it may go on past `end` (not eof), or KC_ERR_PARSE.  A value that
 * parses, ends before the end and is no number that the next piece could
 * go on is the one the whole text holds there: cJSON looks at no byte past
 * a value's end but a number's (number_may_go_on), and only its whitespace
 * skip at the very end of the buffer steps back.  Parsed once its end has
 * come (js_scan), so a value is parsed once and held at most whole with a
 * piece; a text the scan misjudges is tried again when twice its bytes
 * have come (the time stays linear). */
static int
js_value(struct kc_json_stream *s, const char **pp, const char *end, int eof, int outer,
    struct kc_jarena *a, cJSON **out)
{
	const char *q = *pp;
	size_t rem = (size_t)(end - q);
	cJSON *v;

	int ended = 0;

	if (!eof && s->want == 0) {
		if (!js_scan(s, q, end))
			return JS_MORE;
		ended = 1;	/* its end and a byte after it are here */
	} else if (!eof && rem < s->want) {
		return JS_MORE;
	}
	v = value_at(&q, end, outer, a);
	if (v != NULL && (eof || (q < end && !number_may_go_on(q, end)))) {
		s->want = s->scan = 0;
		s->sc_done = 0;
		*pp = q;
		*out = v;
		return 0;
	}
	cJSON_Delete(v);
	kc_jarena_reset(a);
	/* A value whose end (by the scan) and a byte after it are here, that
	 * does not parse, never will: cJSON looked at no byte past them (a
	 * string ends at the quote the scan found, a container at the bracket
	 * that closes it, an error inside before either).  So a malformed
	 * value fails at once, not at the member's end with everything after
	 * it held.  A number that may go on is no failure yet. */
	if (eof || (ended && v == NULL))
		return KC_ERR_PARSE;
	s->want = rem > SIZE_MAX / 2 ? SIZE_MAX : 2 * rem + 1;
	return JS_MORE;
}

/* One step of the reader from *pp: 0 (the state moved on), JS_MORE, or an
 * error.  Spaces are skipped first (and kept skipped) in every state but
 * the first, whose text is read whole when it is not an object. */
static int
js_step(struct kc_json_stream *s, const char **pp, const char *end, int eof)
{
	const char *q = *pp;
	cJSON *v = NULL;
	int r;

	if (s->st == JS_START) {
		/* a BOM at the text's start is skipped, as cJSON skips it; the
		 * text is held from its first byte (read whole when it is not
		 * an object), the spaces skipped so far are not looked at
		 * again (s->lead: 63 MiB of them in 64 KiB pieces were 10 s) */
		if (s->lead == 0) {
			if (end - q < 3 && !eof && memcmp(q, "\xef\xbb\xbf", (size_t)(end - q)) == 0)
				return JS_MORE;
			if (end - q >= 3 && memcmp(q, "\xef\xbb\xbf", 3) == 0)
				q += 3;
		} else {
			q += s->lead;
		}
		q = skip_ws(q, end);
		s->lead = (size_t)(q - *pp);
		if (q == end && !eof)
			return JS_MORE;
		if (q == end || *q != '{') {
			/* not an object: the whole text, as cJSON reads it (no key) */
			s->st = JS_WHOLE;
			return 0;
		}
		if ((s->rest = cJSON_CreateObject()) == NULL)
			return KC_ERR_NOMEM;
		*pp = q + 1;
		s->st = JS_FIRST;
		return 0;
	}
	*pp = q = skip_ws(q, end);
	if (q == end)
		return eof ? KC_ERR_PARSE : JS_MORE;
	switch (s->st) {
	case JS_FIRST:
		if (*q == '}') {
			*pp = q + 1;
			s->st = JS_DONE;
		} else {
			s->st = JS_KEY;
		}
		return 0;
	case JS_KEY:
		if (*q != '"')
			return KC_ERR_PARSE;
		if ((r = js_value(s, pp, end, eof, 1, NULL, &s->k)) != 0)
			return r;
		s->is_key = strcmp(s->k->valuestring, s->key) == 0;
		s->st = JS_COLON;
		return 0;
	case JS_COLON:
		if (*q != ':')
			return KC_ERR_PARSE;
		*pp = q + 1;
		s->st = JS_VALUE;
		/* a member of the key begins: its readers start over, even when
		 * it turns out to hold no element */
		if (s->is_key) {
			cJSON_Delete(s->k);
			s->k = NULL;
			return s->fn(s->ctx, NULL, s->occurrence);
		}
		return 0;
	case JS_VALUE:
		if (s->is_key && *q == '[') {
			*pp = q + 1;
			s->st = JS_ARR_FIRST;
			return 0;
		}
		if (s->is_key) {
			/* not an array: read whole, its children as
			 * cJSON_ArrayForEach walks them */
			if ((r = js_value(s, pp, end, eof, 1, s->scratch, &v)) != 0)
				return r;
			r = 0;
			for (const cJSON *c = v->child; c != NULL && r == 0; c = c->next)
				r = s->fn(s->ctx, c, s->occurrence);
			cJSON_Delete(v);
			kc_jarena_reset(s->scratch);
			if (r != 0)
				return r;
			s->occurrence++;
		} else {
			if ((r = js_value(s, pp, end, eof, 1, NULL, &v)) != 0)
				return r;
			if (!cJSON_AddItemToObject(s->rest, s->k->valuestring, v)) {
				cJSON_Delete(v);
				return KC_ERR_NOMEM;
			}
			cJSON_Delete(s->k);
			s->k = NULL;
		}
		s->st = JS_AFTER;
		return 0;
	case JS_ARR_FIRST:
		if (*q == ']') {
			*pp = q + 1;
			s->occurrence++;
			s->st = JS_AFTER;
		} else {
			s->st = JS_ELEM;
		}
		return 0;
	case JS_ELEM:
		if ((r = js_value(s, pp, end, eof, 2, s->scratch, &v)) != 0)
			return r;
		r = s->fn(s->ctx, v, s->occurrence);
		cJSON_Delete(v);
		kc_jarena_reset(s->scratch);
		if (r != 0)
			return r;
		s->st = JS_ELEM_SEP;
		return 0;
	case JS_ELEM_SEP:
	case JS_AFTER:
		if (*q == ',') {
			s->st = s->st == JS_ELEM_SEP ? JS_ELEM : JS_KEY;
		} else if (*q == (s->st == JS_ELEM_SEP ? ']' : '}')) {
			if (s->st == JS_ELEM_SEP)
				s->occurrence++;
			s->st = s->st == JS_ELEM_SEP ? JS_AFTER : JS_DONE;
		} else {
			return KC_ERR_PARSE;
		}
		*pp = q + 1;
		return 0;
	default:
		return KC_ERR_INVALID;
	}
}

/* Read w[0..n) (the bytes held and fed, in order); *used: how many of
 * them are read and need not be held.  eof: no byte follows. */
static int
js_run(struct kc_json_stream *s, const char *w, size_t n, int eof, size_t *used)
{
	static const char none[1];
	const char *p = w != NULL ? w : none, *end = p + n;
	int r = 0;

	while (s->st != JS_DONE) {
		if (s->st == JS_WHOLE) {
			if (!eof)
				break;	/* held from its first byte until the end */
			s->rest = cJSON_ParseWithLength(p, n);
			r = s->rest != NULL ? 0 : KC_ERR_PARSE;
			s->st = JS_DONE;
			break;
		}
		if ((r = js_step(s, &p, end, eof)) == JS_MORE) {
			r = 0;
			break;
		}
		if (r != 0)
			break;
	}
	/* what follows the object is not read, as cJSON_ParseWithLength
	 * does not read it */
	*used = s->st == JS_DONE ? n : (size_t)(p - (w != NULL ? w : none));
	return r;
}

static void
js_fail(struct kc_json_stream *s, int err)
{
	s->err = err;
	s->st = JS_FAILED;
	kc_jarena_reset(s->scratch);
	cJSON_Delete(s->rest);
	cJSON_Delete(s->k);
	s->rest = s->k = NULL;
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}

struct kc_json_stream *
kc_json_stream_new(const char *key, struct kc_jarena *scratch, kc_json_elem_fn fn, void *ctx)
{
	struct kc_json_stream *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->key = strdup(key)) == NULL) {
		free(s);
		return NULL;
	}
	s->scratch = scratch;
	s->fn = fn;
	s->ctx = ctx;
	return s;
}

/* p[0..n) read on from what is held (eof: nothing follows); what is left
 * unread is held for the next. */
static int
js_feed(struct kc_json_stream *s, const char *p, size_t n, int eof)
{
	const char *w = p;
	size_t wn = n, used = 0;
	int r;

	if (s->st == JS_FAILED)
		return s->err;
	if (s->st == JS_DONE)
		return 0;
	if (s->len > 0) {	/* on from the bytes held */
		if (n > SIZE_MAX - s->len) {
			js_fail(s, KC_ERR_NOMEM);
			return s->err;
		}
		if (s->len + n > s->cap) {
			size_t cap = s->cap > 0 ? s->cap : 65536;
			char *nb;

			while (cap < s->len + n)
				cap = cap > SIZE_MAX / 2 ? s->len + n : cap * 2;
			if ((nb = realloc(s->buf, cap)) == NULL) {
				js_fail(s, KC_ERR_NOMEM);
				return s->err;
			}
			s->buf = nb;
			s->cap = cap;
		}
		if (n > 0)
			memcpy(s->buf + s->len, p, n);
		s->len += n;
		w = s->buf;
		wn = s->len;
	}
	if ((r = js_run(s, w, wn, eof, &used)) != 0) {
		js_fail(s, r);
		return r;
	}
	if (w == s->buf) {
		if (used > 0 && used < s->len)
			memmove(s->buf, s->buf + used, s->len - used);
		s->len -= used;
	} else if (used < wn) {	/* the fed bytes' unread tail, held */
		if (wn - used > s->cap) {
			char *nb = realloc(s->buf, wn - used);

			if (nb == NULL) {
				js_fail(s, KC_ERR_NOMEM);
				return s->err;
			}
			s->buf = nb;
			s->cap = wn - used;
		}
		memcpy(s->buf, w + used, wn - used);
		s->len = wn - used;
	}
	return 0;
}

int
kc_json_stream_feed(struct kc_json_stream *s, const char *p, size_t n)
{
	return js_feed(s, p, n, 0);
}

/* The stream's result and its end (s freed). */
static cJSON *
js_finish(struct kc_json_stream *s, int *err)
{
	cJSON *rest = NULL;

	if (s->st == JS_DONE) {
		rest = s->rest;
		s->rest = NULL;
		*err = 0;
	} else {
		if (s->st != JS_FAILED)
			js_fail(s, KC_ERR_PARSE);
		*err = s->err;
	}
	kc_json_stream_free(s);
	return rest;
}

cJSON *
kc_json_stream_end(struct kc_json_stream *s, int *err)
{
	js_feed(s, NULL, 0, 1);
	return js_finish(s, err);
}

void
kc_json_stream_free(struct kc_json_stream *s)
{
	if (s == NULL)
		return;
	kc_jarena_reset(s->scratch);
	cJSON_Delete(s->rest);
	cJSON_Delete(s->k);
	free(s->buf);
	free(s->key);
	free(s);
}

size_t
kc_json_stream_held(const struct kc_json_stream *s)
{
	return s != NULL ? s->len : 0;
}

cJSON *
kc_json_parse_stream(const char *text, size_t len, const char *key, struct kc_jarena *scratch,
    kc_json_elem_fn fn, void *ctx, int *err)
{
	struct kc_json_stream *s = kc_json_stream_new(key, scratch, fn, ctx);
	size_t used;
	int r;

	if (s == NULL) {
		*err = KC_ERR_NOMEM;
		return NULL;
	}
	/* the whole text at once, read where it is (no copy) */
	if ((r = js_run(s, text, len, 1, &used)) != 0)
		js_fail(s, r);
	return js_finish(s, err);
}

void
kc_json_move_elems(cJSON *dst, cJSON *src, cJSON *from)
{
	cJSON *next;

	if (dst == NULL || src == NULL)
		return;	/* nothing moved, nothing lost */
	for (from = from != NULL ? from : src->child; from != NULL; from = next) {
		next = from->next;
		cJSON_AddItemToArray(dst, cJSON_DetachItemViaPointer(src, from));
	}
}
