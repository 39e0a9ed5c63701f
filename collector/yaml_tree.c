/* yaml_tree.c - a YAML document read (libyaml) into a small tree of
 * mappings, sequences and scalars, for the kubeconfig model (kubeconfig.c).
 * Aliases share the anchored node (reference counted) instead of copying
 * it, and the expanded size is capped, so an alias bomb costs nothing but
 * an error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <yaml.h>

#include "collector/yaml_tree.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/log.h"
#include "util/mem.h"

#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 100000
#define YAML_MAX_EXPANDED 1000000
#define YAML_MAX_ANCHORS 1000
#define YAML_MAX_ALIASES 10000
#define MERGE_MAX_DEPTH 16

/* ------------------------------------------------------------------ */
/* YAML tree */


void
kc_ynode_unref(struct ynode *y)
{
	if (y == NULL || --y->refs > 0)
		return;
	for (size_t i = 0; i < y->n; i++)
		kc_ynode_unref(y->kid[i]);
	free(y->kid);
	if (y->str != NULL) {
		OPENSSL_cleanse(y->str, y->len);
		free(y->str);
	}
	free(y);
}

struct yframe {
	struct ynode *node;
	char *anchor;		/* registered when the node is complete */
};

struct yanchor {
	char *name;
	struct ynode *node;	/* not owned: reachable from the root */
};

struct yparse {
	const char *file;
	int plain;		/* messages "FILE:LINE:COL: what" (kc_yaml_load_file) */
	struct yframe stack[YAML_MAX_DEPTH];
	size_t depth;
	struct yanchor *anchors;
	size_t nanchors, anchors_cap;
	size_t nodes, aliases;
	struct ynode *root;
};

static int
yerr(const struct yparse *yp, const yaml_mark_t *m, const char *what)
{
	if (yp->plain)
		return kc_err_set(KC_ERR_CONFIG, "%s:%zu:%zu: %s", yp->file, m->line + 1, m->column + 1, what);
	return kc_err_set(KC_ERR_CONFIG, "kubeconfig '%s' line %zu column %zu: %s",
	    yp->file, m->line + 1, m->column + 1, what);
}

static int
ynode_new(struct yparse *yp, enum ytype type, const yaml_mark_t *m, struct ynode **out)
{
	struct ynode *y;

	if (++yp->nodes > YAML_MAX_NODES)
		return yerr(yp, m, "more than 100000 YAML nodes");
	if ((y = kc_calloc(1, sizeof(*y))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	y->type = type;
	y->refs = 1;
	y->line = m->line + 1;
	y->col = m->column + 1;
	y->weight = 1;
	y->height = 1;
	*out = y;
	return 0;
}

/* Attach y (one reference, taken over even on failure) to the open
 * container or make it the root. */
static int
yattach(struct yparse *yp, struct ynode *y)
{
	struct ynode *parent;

	if (yp->depth == 0) {
		if (yp->root != NULL) {
			kc_ynode_unref(y);
			if (yp->plain)
				return kc_err_set(KC_ERR_CONFIG, "%s: more than one root node", yp->file);
			return kc_err_set(KC_ERR_CONFIG, "kubeconfig '%s': more than one root node", yp->file);
		}
		yp->root = y;
		return 0;
	}
	parent = yp->stack[yp->depth - 1].node;
	if (KC_GROW(parent->kid, parent->cap, parent->n + 1) != 0) {
		kc_ynode_unref(y);
		return KC_ERR_NOMEM;
	}
	parent->kid[parent->n++] = y;
	return 0;
}

static int
yanchor_add(struct yparse *yp, const char *name, struct ynode *y, const yaml_mark_t *m)
{
	char *dup;

	if (yp->nanchors >= YAML_MAX_ANCHORS)
		return yerr(yp, m, "more than 1000 anchors");
	if (KC_GROW(yp->anchors, yp->anchors_cap, yp->nanchors + 1) != 0)
		return KC_ERR_NOMEM;
	if ((dup = kc_strdup(name)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	yp->anchors[yp->nanchors].name = dup;
	yp->anchors[yp->nanchors].node = y;
	yp->nanchors++;
	return 0;
}

static int
yscalar(struct yparse *yp, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct ynode *y;
	int r;

	if ((r = ynode_new(yp, Y_SCALAR, &ev->start_mark, &y)) != 0)
		return r;
	if ((y->str = kc_strndup(v, len)) == NULL) {
		kc_ynode_unref(y);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	y->len = len;
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (len == 0 || strcmp(y->str, "~") == 0 || strcmp(y->str, "null") == 0 ||
	    strcmp(y->str, "Null") == 0 || strcmp(y->str, "NULL") == 0))
		y->null = 1;
	if ((r = yattach(yp, y)) != 0)
		return r;
	if (ev->data.scalar.anchor != NULL)
		return yanchor_add(yp, (const char *)ev->data.scalar.anchor, y, &ev->start_mark);
	return 0;
}

static int
ystart(struct yparse *yp, const yaml_event_t *ev, enum ytype type, const yaml_char_t *anchor)
{
	struct ynode *y;
	int r;

	if (yp->depth >= YAML_MAX_DEPTH)
		return yerr(yp, &ev->start_mark, "nesting deeper than 64 levels");
	if ((r = ynode_new(yp, type, &ev->start_mark, &y)) != 0)
		return r;
	if ((r = yattach(yp, y)) != 0)
		return r;
	yp->stack[yp->depth].node = y;
	yp->stack[yp->depth].anchor = NULL;
	yp->depth++;
	if (anchor != NULL && (yp->stack[yp->depth - 1].anchor =
	    kc_strdup((const char *)anchor)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

static int
yend(struct yparse *yp, const yaml_event_t *ev)
{
	struct yframe *f;
	struct ynode *y;
	size_t w = 1, h = 0;
	int r = 0;

	if (yp->depth == 0)
		return yerr(yp, &ev->start_mark, "unbalanced collection end");
	f = &yp->stack[--yp->depth];
	y = f->node;
	for (size_t i = 0; i < y->n; i++) {
		w += y->kid[i]->weight;
		if (w > YAML_MAX_EXPANDED)
			break;
		if (y->kid[i]->height > h)
			h = y->kid[i]->height;
	}
	y->weight = w;
	y->height = h + 1;
	if (w > YAML_MAX_EXPANDED)
		r = yerr(yp, &ev->start_mark, "aliases expand the document past 1000000 nodes");
	else if (f->anchor != NULL)
		r = yanchor_add(yp, f->anchor, y, &ev->start_mark);
	free(f->anchor);
	f->anchor = NULL;
	return r;
}

static int
yalias(struct yparse *yp, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct ynode *y = NULL;
	char msg[200], esc[96];

	if (++yp->aliases > YAML_MAX_ALIASES)
		return yerr(yp, &ev->start_mark, "more than 10000 aliases");
	for (size_t i = yp->nanchors; i-- > 0;) {
		if (strcmp(yp->anchors[i].name, name) == 0) {
			y = yp->anchors[i].node;
			break;
		}
	}
	if (y == NULL) {
		kc_fmt_trunc(msg, sizeof(msg), "unknown alias '%s'", kc_safe_str(name, esc, sizeof(esc)));
		return yerr(yp, &ev->start_mark, msg);
	}
	if (yp->depth + y->height > YAML_MAX_DEPTH)
		return yerr(yp, &ev->start_mark, "aliases nest deeper than 64 levels");
	y->refs++;
	return yattach(yp, y);
}

static int
ylibyaml_error(const struct yparse *yp, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	case YAML_READER_ERROR:
		if (yp->plain)
			return kc_err_set(KC_ERR_CONFIG, "%s: byte %zu: %s", yp->file, p->problem_offset, problem);
		return kc_err_set(KC_ERR_CONFIG, "kubeconfig '%s' byte %zu: %s",
		    yp->file, p->problem_offset, problem);
	default:
		return yerr(yp, &p->problem_mark, problem);
	}
}

/* Parse the first YAML document of data into *root (NULL when the stream
 * holds no document).  Like kubectl, later documents are not read. */
static int
yaml_load(const char *file, int plain, const char *data, size_t len, struct ynode **root)
{
	struct yparse yp;
	yaml_parser_t p;
	yaml_event_t ev;
	int r = 0, done = 0;

	*root = NULL;
	memset(&yp, 0, sizeof(yp));
	yp.file = file;
	yp.plain = plain;
	if (!yaml_parser_initialize(&p))
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			r = ylibyaml_error(&yp, &p);
			break;
		}
		switch (ev.type) {
		case YAML_SCALAR_EVENT:
			r = yscalar(&yp, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			r = ystart(&yp, &ev, Y_SEQ, ev.data.sequence_start.anchor);
			break;
		case YAML_MAPPING_START_EVENT:
			r = ystart(&yp, &ev, Y_MAP, ev.data.mapping_start.anchor);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			r = yend(&yp, &ev);
			break;
		case YAML_ALIAS_EVENT:
			r = yalias(&yp, &ev);
			break;
		case YAML_DOCUMENT_END_EVENT:
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	for (size_t i = 0; i < yp.depth; i++)
		free(yp.stack[i].anchor);
	for (size_t i = 0; i < yp.nanchors; i++)
		free(yp.anchors[i].name);
	free(yp.anchors);
	if (r != 0) {
		kc_ynode_unref(yp.root);
		return r;
	}
	*root = yp.root;
	return 0;
}

int
kc_yaml_load(const char *file, const char *data, size_t len, struct ynode **root)
{
	return yaml_load(file, 0, data, len, root);
}

int
kc_yaml_load_file(const char *file, const char *data, size_t len, struct ynode **root)
{
	return yaml_load(file, 1, data, len, root);
}

int
kc_ynode_is_null(const struct ynode *y)
{
	return y == NULL || (y->type == Y_SCALAR && y->null);
}

int
kc_ynode_key_is(const struct ynode *k, const char *key)
{
	return k->type == Y_SCALAR && strlen(key) == k->len && memcmp(k->str, key, k->len) == 0;
}

/* Value of key in mapping m, or NULL.  A later duplicate key wins (as in
 * kubectl's YAML decoder); "<<" merge keys are followed, explicit keys
 * first. */
static const struct ynode *
map_get_depth(const struct ynode *m, const char *key, int depth)
{
	if (m == NULL || m->type != Y_MAP || depth > MERGE_MAX_DEPTH)
		return NULL;
	for (size_t i = m->n; i >= 2; i -= 2) {
		if (kc_ynode_key_is(m->kid[i - 2], key))
			return m->kid[i - 1];
	}
	for (size_t i = m->n; i >= 2; i -= 2) {
		const struct ynode *v = m->kid[i - 1], *found;

		if (!kc_ynode_key_is(m->kid[i - 2], "<<"))
			continue;
		if (v->type == Y_MAP)
			return map_get_depth(v, key, depth + 1);
		if (v->type == Y_SEQ) {
			for (size_t j = 0; j < v->n; j++) {
				if ((found = map_get_depth(v->kid[j], key, depth + 1)) != NULL)
					return found;
			}
		}
		return NULL;
	}
	return NULL;
}

const struct ynode *
kc_ynode_get(const struct ynode *m, const char *key)
{
	return map_get_depth(m, key, 0);
}
