/* svg_access.h - the access-path picture of one agent identity: service
 * account -> bindings -> roles -> permissions, drawn left to right as an
 * inline SVG tree (boxes and arrows) for the HTML report.
 *
 * The caller describes a tree of at most KC_SVG_DEPTH levels in an array
 * of nodes, the root first and every node after its parent; this module
 * lays it out (fixed column widths, each subtree centred on its children,
 * no two boxes overlapping) and renders it with presentation attributes
 * only, so that the picture stands alone without the page's stylesheet.
 * Every label is HTML-escaped; labels too long for their column are cut
 * with an ellipsis and the whole text is kept in the node's <title>.
 */
#ifndef KC_SVG_ACCESS_H
#define KC_SVG_ACCESS_H

#include <stddef.h>

#include "util/buf.h"

#define KC_SVG_DEPTH 4		/* columns: SA, binding, role, permission */
#define KC_SVG_LINES 3		/* label lines per box */
#define KC_SVG_MAX_NODES 4096

enum kc_svg_flag {
	KC_SVG_DANGER = 1u << 0,	/* red: high or critical finding */
	KC_SVG_WARN = 1u << 1,		/* amber: medium finding */
	KC_SVG_REMOVED = 1u << 2,	/* grey, dashed, struck through: removed by the remediation */
	KC_SVG_ADDED = 1u << 3,		/* blue: new after the remediation */
	KC_SVG_MUTED = 1u << 4,		/* grey summary box */
};

struct kc_svg_node {
	int parent;			/* index of an earlier node; -1 for the root (node 0 only) */
	const char *line[KC_SVG_LINES];	/* label lines; the first NULL ends them */
	const char *tag;		/* short badge line under the label, or NULL */
	const char *title;		/* tooltip (the full text), or NULL */
	unsigned flags;			/* enum kc_svg_flag */
};

struct kc_svg_box {
	double x, y, w, h;
	int depth;			/* column 0..KC_SVG_DEPTH-1 */
	unsigned path_flags;		/* own flags plus DANGER/WARN of live (not removed) descendants */
};

/* Lay out count nodes into box[count] and the picture's size.  0, or
 * KC_ERR_INVALID for an empty tree, a second root, a parent that does
 * not precede its child, or a tree deeper than KC_SVG_DEPTH; KC_ERR_LIMIT
 * beyond KC_SVG_MAX_NODES. */
int kc_svg_layout(const struct kc_svg_node *n, size_t count, struct kc_svg_box *box,
    double *width, double *height);

/* Append the <svg class="access-path"> element for the tree to out;
 * label (escaped) names the picture for screen readers.  Errors as
 * kc_svg_layout, KC_ERR_NOMEM, KC_ERR_LIMIT from out. */
int kc_svg_render(const struct kc_svg_node *n, size_t count, const char *label, struct kc_buf *out);

/* Display width in columns of s once escaped as the report escapes it
 * (a control byte or invalid byte shows as 4 columns "\xHH"). */
size_t kc_svg_text_width(const char *s);

#endif
