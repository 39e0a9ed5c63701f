/* yaml_out.c - a JSON document written as YAML (yaml_out.h). */
#include "formats/yaml_out.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "util/err.h"
#include "util/fmt.h"

static int
write_handler(void *data, unsigned char *buffer, size_t size)
{
	return kc_buf_add(data, buffer, size) == 0;
}

/* Would a YAML 1.1 or 1.2 loader read s, plain, as something else than a
 * string?  (yaml_out.h) */
static int
needs_quotes(const char *s)
{
	static const char *const words[] = {
		"null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", NULL,
	};

	if (s[0] == '\0' || strchr("0123456789+-.", s[0]) != NULL)
		return 1;
	for (const char *const *w = words; *w != NULL; w++)
		if (strcasecmp(s, *w) == 0)
			return 1;
	return 0;
}

static int
scalar(yaml_emitter_t *em, const char *v, int quote)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)v, (int)strlen(v),
	    !quote, 1, quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE))
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

int
kc_yaml_from_json(const cJSON *doc, struct kc_buf *out)
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
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0) || !yaml_emitter_emit(&em, &ev))
		goto done;
	if ((r = node(&em, doc)) != 0)
		goto done;
	r = KC_ERR_LIMIT;
	if (!yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&em, &ev))
		goto done;
	if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&em, &ev) || !yaml_emitter_flush(&em))
		goto done;
	r = 0;
done:
	yaml_emitter_delete(&em);
	return r;
}
