/* yaml_out.c - a JSON document written as YAML (yaml_out.h). */
#include "formats/yaml_out.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "util/err.h"
#include "util/fmt.h"
#include "util/mem.h"
#include "util/utf8.h"

/* Where the emitter's bytes go, and the first error of the sink. */
struct sink {
	kc_yaml_sink fn;
	void *ctx;
	int err;
};

static int
write_handler(void *data, unsigned char *buffer, size_t size)
{
	struct sink *o = data;
	int r;

	if (o->err != 0)
		return 0;
	if ((r = o->fn(o->ctx, buffer, size)) != 0)
		o->err = r;
	return r == 0;
}

static int
buf_sink(void *ctx, const void *data, size_t len)
{
	return kc_buf_add(ctx, data, len);
}

/* Would a YAML 1.1 or 1.2 loader read s, plain, as something else than a
 * string?  (yaml_out.h) */
static int
needs_quotes(const char *s)
{
	/* "<<" and "=": YAML 1.1's merge and value keys (PyYAML refuses both plain) */
	static const char *const words[] = {
		"null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", "<<", "=", NULL,
	};

	if (s[0] == '\0' || strchr("0123456789+-.", s[0]) != NULL)
		return 1;
	if (strnlen(s, 6) > 5)
		return 0;	/* longer than every word: most scalars (issue 11: the
				 * comparisons were a tenth of the exports' CPU) */
	for (const char *const *w = words; *w != NULL; w++)
		if (strcasecmp(s, *w) == 0)
			return 1;
	return 0;
}

/* s with each byte that does not start a valid UTF-8 sequence replaced by
 * U+FFFD (what Go's decoder, so kubectl, shows), or NULL when s is valid
 * UTF-8 or out of memory (*nomem then set).  libyaml's emitter refuses a
 * scalar that is not UTF-8; cJSON keeps whatever bytes the server sent. */
static char *
utf8_fixed(const char *s, int *nomem)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), bad = 0, k;
	uint32_t cp;
	char *o, *q;

	*nomem = 0;
	while (*p != '\0' && *p < 0x80)
		p++;
	if (*p == '\0')
		return NULL;	/* ASCII: valid */
	p = (const unsigned char *)s;
	for (size_t i = 0; i < n; i += k)
		if ((k = kc_utf8_decode(p + i, n - i, &cp)) == 0) {
			bad++;
			k = 1;
		}
	if (bad == 0)
		return NULL;
	if ((o = kc_calloc(n + 2 * bad + 1, 1)) == NULL) {
		*nomem = 1;
		return NULL;
	}
	q = o;
	for (size_t i = 0; i < n; i += k) {
		if ((k = kc_utf8_decode(p + i, n - i, &cp)) == 0) {
			memcpy(q, "\xef\xbf\xbd", 3);
			q += 3;
			k = 1;
		} else {
			memcpy(q, p + i, k);
			q += k;
		}
	}
	*q = '\0';
	return o;
}

static int
scalar(yaml_emitter_t *em, const char *v, int quote)
{
	yaml_event_t ev;
	int nomem, ok;
	char *fixed = utf8_fixed(v, &nomem);

	if (nomem)
		return KC_ERR_NOMEM;
	if (fixed != NULL)
		v = fixed;
	ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)v, (int)strlen(v),
	    !quote, 1, quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	free(fixed);	/* the event holds its own copy */
	if (!ok)
		return KC_ERR_NOMEM;
	return yaml_emitter_emit(em, &ev) ? 0 : KC_ERR_LIMIT;
}

static int
node(yaml_emitter_t *em, const cJSON *j)
{
	yaml_event_t ev;
	const cJSON *it;
	char num[64];
	int r;

	if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
		int obj = cJSON_IsObject(j);

		if (obj ? !yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE)
		    : !yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
			return KC_ERR_NOMEM;
		if (!yaml_emitter_emit(em, &ev))
			return KC_ERR_LIMIT;
		cJSON_ArrayForEach(it, j) {
			if (obj && (r = scalar(em, it->string ? it->string : "", needs_quotes(it->string ? it->string : ""))) != 0)
				return r;
			if ((r = node(em, it)) != 0)
				return r;
		}
		if (obj ? !yaml_mapping_end_event_initialize(&ev) : !yaml_sequence_end_event_initialize(&ev))
			return KC_ERR_NOMEM;
		return yaml_emitter_emit(em, &ev) ? 0 : KC_ERR_LIMIT;
	}
	if (cJSON_IsString(j))
		return scalar(em, j->valuestring, needs_quotes(j->valuestring));
	if (cJSON_IsBool(j))
		return scalar(em, cJSON_IsTrue(j) ? "true" : "false", 0);
	if (cJSON_IsNumber(j)) {
		double d = j->valuedouble;

		if (!isfinite(d))
			return scalar(em, "null", 0);	/* as cJSON prints it */
		if (d == (double)(long long)d && fabs(d) < 9007199254740992.0)
			r = kc_fmt(num, sizeof(num), "%lld", (long long)d);
		else
			r = kc_fmt(num, sizeof(num), "%.17g", d);
		return r != 0 ? r : scalar(em, num, 0);
	}
	return scalar(em, "null", 0);
}

/* One list item as kubectl prints it: apiVersion and kind first (the
 * server leaves them out of list items), then the item's other members. */
static int
kube_item(yaml_emitter_t *em, const cJSON *item, const char *api_version, const char *kind)
{
	yaml_event_t ev;
	const cJSON *it;
	int r;

	if (!cJSON_IsObject(item))
		return node(em, item);
	if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
		return KC_ERR_NOMEM;
	if (!yaml_emitter_emit(em, &ev))
		return KC_ERR_LIMIT;
	if ((r = scalar(em, "apiVersion", 0)) != 0 || (r = scalar(em, api_version, needs_quotes(api_version))) != 0 ||
	    (r = scalar(em, "kind", 0)) != 0 || (r = scalar(em, kind, needs_quotes(kind))) != 0)
		return r;
	cJSON_ArrayForEach(it, item) {
		const char *k = it->string ? it->string : "";

		if (strcmp(k, "apiVersion") == 0 || strcmp(k, "kind") == 0)
			continue;
		if ((r = scalar(em, k, needs_quotes(k))) != 0 || (r = node(em, it)) != 0)
			return r;
	}
	if (!yaml_mapping_end_event_initialize(&ev))
		return KC_ERR_NOMEM;
	return yaml_emitter_emit(em, &ev) ? 0 : KC_ERR_LIMIT;
}

/* The v1 List around items: apiVersion, items, kind, metadata (kubectl's
 * order of these four). */
static int
kube_list(yaml_emitter_t *em, const cJSON *items, kc_yaml_items_next next, void *nctx,
    const char *api_version, const char *kind)
{
	yaml_event_t ev;
	const cJSON *it;
	int r;

	if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
		return KC_ERR_NOMEM;
	if (!yaml_emitter_emit(em, &ev))
		return KC_ERR_LIMIT;
	if ((r = scalar(em, "apiVersion", 0)) != 0 || (r = scalar(em, "v1", 0)) != 0 ||
	    (r = scalar(em, "items", 0)) != 0)
		return r;
	if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
		return KC_ERR_NOMEM;
	if (!yaml_emitter_emit(em, &ev))
		return KC_ERR_LIMIT;
	if (next == NULL) {
		cJSON_ArrayForEach(it, items)
			if ((r = kube_item(em, it, api_version, kind)) != 0)
				return r;
	} else {
		/* page by page: each page's items are valid until the next call */
		const cJSON *page;

		r = 0;
		while ((page = next(nctx, &r)) != NULL)
			cJSON_ArrayForEach(it, page)
				if ((r = kube_item(em, it, api_version, kind)) != 0)
					return r;
		if (r != 0)
			return r;
	}
	if (!yaml_sequence_end_event_initialize(&ev))
		return KC_ERR_NOMEM;
	if (!yaml_emitter_emit(em, &ev))
		return KC_ERR_LIMIT;
	if ((r = scalar(em, "kind", 0)) != 0 || (r = scalar(em, "List", 0)) != 0 ||
	    (r = scalar(em, "metadata", 0)) != 0)
		return r;
	if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
		return KC_ERR_NOMEM;
	if (!yaml_emitter_emit(em, &ev))
		return KC_ERR_LIMIT;
	if ((r = scalar(em, "resourceVersion", 0)) != 0 || (r = scalar(em, "", 1)) != 0)
		return r;
	if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
		return KC_ERR_LIMIT;
	if (!yaml_mapping_end_event_initialize(&ev))
		return KC_ERR_NOMEM;
	return yaml_emitter_emit(em, &ev) ? 0 : KC_ERR_LIMIT;
}

/* One document: doc as it is, or (items != NULL) the kubectl List. */
static int
emit(const cJSON *doc, const cJSON *items, kc_yaml_items_next next, void *nctx,
    const char *api_version, const char *kind, int implicit_start, struct sink *out)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int r = KC_ERR_NOMEM;

	if (!yaml_emitter_initialize(&em))
		return KC_ERR_NOMEM;
	yaml_emitter_set_output(&em, write_handler, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_indent(&em, 2);
	yaml_emitter_set_width(&em, -1);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || !yaml_emitter_emit(&em, &ev))
		goto done;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, implicit_start) ||
	    !yaml_emitter_emit(&em, &ev))
		goto done;
	if ((r = items != NULL || next != NULL ? kube_list(&em, items, next, nctx, api_version, kind) :
	    node(&em, doc)) != 0)
		goto done;
	r = KC_ERR_LIMIT;
	if (!yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&em, &ev))
		goto done;
	if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&em, &ev) || !yaml_emitter_flush(&em))
		goto done;
	r = 0;
done:
	yaml_emitter_delete(&em);
	/* the sink's own error (a full buffer, a failed write) comes first */
	return r != 0 && out->err != 0 ? out->err : r;
}

int
kc_yaml_from_json(const cJSON *doc, struct kc_buf *out)
{
	struct sink o = { buf_sink, out, 0 };

	return emit(doc, NULL, NULL, NULL, NULL, NULL, 0, &o);
}

int
kc_yaml_kube_list(const cJSON *items, const char *api_version, const char *kind, struct kc_buf *out)
{
	struct sink o = { buf_sink, out, 0 };

	return emit(NULL, items, NULL, NULL, api_version, kind, 1, &o);
}

int
kc_yaml_kube_list_to(const cJSON *items, const char *api_version, const char *kind, kc_yaml_sink fn,
    void *ctx)
{
	struct sink o = { fn, ctx, 0 };

	return emit(NULL, items, NULL, NULL, api_version, kind, 1, &o);
}

int
kc_yaml_kube_list_pages_to(kc_yaml_items_next next, void *nctx, const char *api_version, const char *kind,
    kc_yaml_sink fn, void *ctx)
{
	struct sink o = { fn, ctx, 0 };

	return emit(NULL, NULL, next, nctx, api_version, kind, 1, &o);
}
