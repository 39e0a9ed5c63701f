/* yaml_tree.h - a YAML document as a tree (yaml_tree.c), read by the
 * kubeconfig model and by the recertification scope file (rbac/recert.h,
 * the only reader above collector/). */
#ifndef KC_YAML_TREE_H
#define KC_YAML_TREE_H

#include <stddef.h>

enum ytype { Y_SCALAR, Y_MAP, Y_SEQ };

struct ynode {
	enum ytype type;
	unsigned refs;		/* aliases share nodes */
	int null;		/* plain null scalar: "", ~, null */
	size_t line, col;	/* 1-based */
	char *str;		/* scalar value (may hold a secret: wiped on free) */
	size_t len;
	struct ynode **kid;	/* map: key, value, key, value, ... */
	size_t n, cap;
	size_t weight;		/* nodes with aliases expanded (bomb cap) */
	size_t height;		/* levels with aliases expanded (recursion cap) */
};

/* Drop a reference; the last one frees the node (scalars wiped). */
void kc_ynode_unref(struct ynode *y);
/* Parse the single document in data (file names it in messages) into
 * *root (caller unrefs).  KC_ERR_PARSE with file:line:col on bad YAML,
 * KC_ERR_LIMIT past the caps (depth, nodes, anchors, aliases, expanded
 * size). */
int kc_yaml_load(const char *file, const char *data, size_t len, struct ynode **root);
/* The same for a file that is not a kubeconfig: messages are
 * "FILE:LINE:COLUMN: what" (as compilers write them). */
int kc_yaml_load_file(const char *file, const char *data, size_t len, struct ynode **root);
/* Absent or a plain null scalar. */
int kc_ynode_is_null(const struct ynode *y);
/* Whether scalar k is exactly key. */
int kc_ynode_key_is(const struct ynode *k, const char *key);
/* Value of key in mapping m, or NULL.  A later duplicate key wins (as in
 * kubectl's YAML decoder); "<<" merge keys are followed, explicit keys
 * first. */
const struct ynode *kc_ynode_get(const struct ynode *m, const char *key);

#endif
