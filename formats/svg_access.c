/* svg_access.c - layout and drawing of the access-path tree (svg_access.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/report_html.h"
#include "formats/svg_access.h"
#include "util/err.h"
#include "util/mem.h"

/* Geometry, in CSS pixels.  The label font is monospace 12px (DejaVu
 * Sans Mono and its kin are 0.6 em wide), so a column of width W holds
 * (W - 2 * PAD_X) / CHAR_W characters. */
#define MARGIN 12.0
#define HEADER 22.0
#define COL_GAP 56.0
#define PAD_X 8.0
#define PAD_Y 7.0
#define LINE_H 15.0
#define CHAR_W 7.3
#define ROW_GAP 10.0

static const double col_w[KC_SVG_DEPTH] = { 190.0, 240.0, 240.0, 320.0 };
static const char *const col_name[KC_SVG_DEPTH] = {
	"service account", "bindings", "roles", "permissions"
};

size_t
kc_svg_text_width(const char *s)
{
	size_t used = 0;

	if (s != NULL)
		(void)kc_html_prefix(s, SIZE_MAX, &used);
	return used;
}

static int
nlines(const struct kc_svg_node *n)
{
	int k = 0;

	while (k < KC_SVG_LINES && n->line[k] != NULL)
		k++;
	return k + (n->tag != NULL ? 1 : 0);
}

static double
node_h(const struct kc_svg_node *n)
{
	int k = nlines(n);

	return 2 * PAD_Y + (k > 0 ? k : 1) * LINE_H;
}

static double
col_x(int depth)
{
	double x = MARGIN;

	for (int i = 0; i < depth; i++)
		x += col_w[i] + COL_GAP;
	return x;
}

int
kc_svg_layout(const struct kc_svg_node *n, size_t count, struct kc_svg_box *box,
    double *width, double *height)
{
	double *ext = NULL, *kids = NULL, *next = NULL;
	size_t *nkids = NULL;
	int maxdepth = 0, r = KC_ERR_NOMEM;

	if (count == 0 || n[0].parent != -1)
		return kc_err_set(KC_ERR_INVALID, "access path: the first node must be the root");
	if (count > KC_SVG_MAX_NODES)
		return kc_err_set(KC_ERR_LIMIT, "access path: more than %d nodes", KC_SVG_MAX_NODES);
	for (size_t i = 1; i < count; i++) {
		if (n[i].parent < 0 || (size_t)n[i].parent >= i)
			return kc_err_set(KC_ERR_INVALID, "access path: node %zu has no earlier parent", i);
	}
	if ((ext = kc_calloc(count, sizeof(*ext))) == NULL ||
	    (kids = kc_calloc(count, sizeof(*kids))) == NULL ||
	    (next = kc_calloc(count, sizeof(*next))) == NULL ||
	    (nkids = kc_calloc(count, sizeof(*nkids))) == NULL)
		goto out;
	for (size_t i = 0; i < count; i++) {
		box[i].depth = i == 0 ? 0 : box[n[i].parent].depth + 1;
		if (box[i].depth >= KC_SVG_DEPTH) {
			r = kc_err_set(KC_ERR_INVALID, "access path: node %zu deeper than %d columns", i,
			    KC_SVG_DEPTH);
			goto out;
		}
		if (box[i].depth > maxdepth)
			maxdepth = box[i].depth;
		box[i].w = col_w[box[i].depth];
		box[i].h = node_h(&n[i]);
		box[i].x = col_x(box[i].depth);
		box[i].path_flags = n[i].flags;
	}
	/* Children follow their parents, so one backward pass sees every
	 * subtree complete: its extent is its children stacked with gaps, or
	 * the node itself when taller.  Danger of live descendants is carried
	 * up so that the whole path to a dangerous permission is drawn red. */
	for (size_t i = count; i-- > 0;) {
		ext[i] = kids[i] > box[i].h ? kids[i] : box[i].h;
		if (i == 0)
			break;
		size_t p = (size_t)n[i].parent;
		kids[p] += (nkids[p] > 0 ? ROW_GAP : 0) + ext[i];
		nkids[p]++;
		if (!(n[i].flags & KC_SVG_REMOVED))
			box[p].path_flags |= box[i].path_flags & (KC_SVG_DANGER | KC_SVG_WARN);
	}
	/* Forward: a node sits in the middle of its extent, its children's
	 * block is centred in the same extent and filled in order. */
	box[0].y = MARGIN + HEADER + (ext[0] - box[0].h) / 2;
	next[0] = MARGIN + HEADER + (ext[0] - kids[0]) / 2;
	for (size_t i = 1; i < count; i++) {
		size_t p = (size_t)n[i].parent;
		double top = next[p];

		next[p] += ext[i] + ROW_GAP;
		box[i].y = top + (ext[i] - box[i].h) / 2;
		next[i] = top + (ext[i] - kids[i]) / 2;
	}
	*width = col_x(maxdepth) + col_w[maxdepth] + MARGIN;
	*height = MARGIN + HEADER + ext[0] + MARGIN;
	r = 0;
out:
	free(ext);
	free(kids);
	free(next);
	free(nkids);
	return r;
}

struct style {
	const char *cls, *fill, *stroke, *text, *dash, *deco;
	double sw;
};

static struct style
node_style(unsigned own, unsigned path, int root)
{
	struct style s = { "node", "#ffffff", "#94a3b8", "#0f172a", NULL, NULL, 1.2 };

	if (own & KC_SVG_REMOVED) {
		s.cls = "node removed";
		s.fill = "#f8fafc";
		s.stroke = (own & KC_SVG_DANGER) ? "#f87171" : "#94a3b8";
		s.text = "#64748b";
		s.dash = "5 4";
		s.deco = "line-through";
		s.sw = 1.5;
	} else if (path & KC_SVG_DANGER) {
		s.cls = (own & KC_SVG_DANGER) ? "node danger" : "node on-danger-path";
		s.fill = (own & KC_SVG_DANGER) ? "#fee2e2" : "#fff5f5";
		s.stroke = "#dc2626";
		s.text = (own & KC_SVG_DANGER) ? "#7f1d1d" : "#0f172a";
		s.sw = (own & KC_SVG_DANGER) ? 2.2 : 1.6;
	} else if (path & KC_SVG_WARN) {
		s.cls = (own & KC_SVG_WARN) ? "node warn" : "node on-warn-path";
		s.fill = (own & KC_SVG_WARN) ? "#fef3c7" : "#fffbeb";
		s.stroke = "#d97706";
		s.sw = (own & KC_SVG_WARN) ? 2.0 : 1.4;
	} else if (own & KC_SVG_ADDED) {
		s.cls = "node added";
		s.fill = "#eff6ff";
		s.stroke = "#2563eb";
		s.sw = 1.6;
	} else if (own & KC_SVG_MUTED) {
		s.cls = "node muted";
		s.fill = "#f8fafc";
		s.stroke = "#cbd5e1";
		s.text = "#64748b";
		s.dash = "2 3";
	}
	if (root && !(own & KC_SVG_REMOVED)) {
		s.cls = "node root";
		s.fill = "#eef2ff";
		s.stroke = (path & KC_SVG_DANGER) ? "#dc2626" : "#4f46e5";
		s.sw = 2.0;
	}
	return s;
}

static struct style
edge_style(unsigned child_own, unsigned child_path)
{
	struct style s = { "edge", NULL, "#94a3b8", NULL, NULL, NULL, 1.4 };

	if (child_own & KC_SVG_REMOVED) {
		s.cls = "edge removed";
		s.stroke = (child_own & KC_SVG_DANGER) || (child_path & KC_SVG_DANGER) ? "#fca5a5" : "#cbd5e1";
		s.dash = "6 4";
	} else if (child_path & KC_SVG_DANGER) {
		s.cls = "edge danger";
		s.stroke = "#dc2626";
		s.sw = 2.4;
	} else if (child_path & KC_SVG_WARN) {
		s.cls = "edge warn";
		s.stroke = "#d97706";
		s.sw = 1.8;
	} else if (child_own & KC_SVG_ADDED) {
		s.cls = "edge added";
		s.stroke = "#2563eb";
		s.sw = 1.8;
	} else if (child_own & KC_SVG_MUTED) {
		s.cls = "edge muted";
		s.stroke = "#cbd5e1";
		s.dash = "2 3";
	}
	return s;
}

/* One label line cut to fit max columns (an ellipsis marks the cut). */
static int
put_line(struct kc_buf *out, const char *s, double width)
{
	size_t cols = (size_t)((width - 2 * PAD_X) / CHAR_W), used, n;

	if (kc_svg_text_width(s) <= cols)
		return kc_html_escape(out, s);
	n = kc_html_prefix(s, cols > 1 ? cols - 1 : 0, &used);
	if (kc_html_escape_n(out, s, n) != 0)
		return KC_ERR_LIMIT;
	return kc_buf_adds(out, "\xe2\x80\xa6");
}

static int
render_node(struct kc_buf *o, const struct kc_svg_node *n, const struct kc_svg_box *b, int root)
{
	struct style s = node_style(n->flags, b->path_flags, root);
	double y;
	int k, r = 0;

	r |= kc_buf_addf(o, "<g class=\"%s\">", s.cls);
	if (n->title != NULL || n->line[0] != NULL) {
		r |= kc_buf_adds(o, "<title>");
		r |= kc_html_escape(o, n->title != NULL ? n->title : n->line[0]);
		r |= kc_buf_adds(o, "</title>");
	}
	r |= kc_buf_addf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"6\" "
	    "fill=\"%s\" stroke=\"%s\" stroke-width=\"%.1f\"", b->x, b->y, b->w, b->h, s.fill,
	    s.stroke, s.sw);
	if (s.dash != NULL)
		r |= kc_buf_addf(o, " stroke-dasharray=\"%s\"", s.dash);
	r |= kc_buf_adds(o, "/>");
	y = b->y + PAD_Y + LINE_H - 4;
	for (k = 0; k < KC_SVG_LINES && n->line[k] != NULL; k++, y += LINE_H) {
		r |= kc_buf_addf(o, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\"%s", b->x + PAD_X, y,
		    s.text, k == 0 ? " font-weight=\"bold\"" : "");
		if (s.deco != NULL)
			r |= kc_buf_addf(o, " text-decoration=\"%s\"", s.deco);
		r |= kc_buf_adds(o, ">");
		r |= put_line(o, n->line[k], b->w);
		r |= kc_buf_adds(o, "</text>");
	}
	if (n->tag != NULL) {
		const char *c = (n->flags & KC_SVG_DANGER) ? "#b91c1c" : (n->flags & KC_SVG_WARN) ?
		    "#b45309" : (n->flags & KC_SVG_ADDED) ? "#1d4ed8" : "#475569";

		r |= kc_buf_addf(o, "<text class=\"tag\" x=\"%.1f\" y=\"%.1f\" fill=\"%s\" "
		    "font-weight=\"bold\" font-size=\"11\">", b->x + PAD_X, y, c);
		r |= put_line(o, n->tag, b->w);
		r |= kc_buf_adds(o, "</text>");
	}
	r |= kc_buf_adds(o, "</g>");
	return r ? KC_ERR_LIMIT : 0;
}

static int
render_edge(struct kc_buf *o, const struct kc_svg_box *p, const struct kc_svg_node *cn,
    const struct kc_svg_box *c)
{
	struct style s = edge_style(cn->flags, c->path_flags);
	double x1 = p->x + p->w, y1 = p->y + p->h / 2, x2 = c->x, y2 = c->y + c->h / 2;
	double xm = (x1 + x2) / 2, tip = x2 - 1;
	int r = 0;

	r |= kc_buf_addf(o, "<g class=\"%s\"><path d=\"M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f\" "
	    "fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"", s.cls, x1, y1, xm, y1, xm, y2,
	    tip - 7, y2, s.stroke, s.sw);
	if (s.dash != NULL)
		r |= kc_buf_addf(o, " stroke-dasharray=\"%s\"", s.dash);
	r |= kc_buf_addf(o, "/><polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>",
	    tip, y2, tip - 8, y2 - 4.5, tip - 8, y2 + 4.5, s.stroke);
	if (cn->flags & KC_SVG_REMOVED) {
		/* a cross on the cut edge: removed by the remediation */
		double cx = xm, cy = (y1 + y2) / 2;

		r |= kc_buf_addf(o, "<path d=\"M%.1f %.1f L%.1f %.1f M%.1f %.1f L%.1f %.1f\" "
		    "stroke=\"#dc2626\" stroke-width=\"2\"/>", cx - 5, cy - 5, cx + 5, cy + 5,
		    cx - 5, cy + 5, cx + 5, cy - 5);
	}
	r |= kc_buf_adds(o, "</g>");
	return r ? KC_ERR_LIMIT : 0;
}

int
kc_svg_render(const struct kc_svg_node *n, size_t count, const char *label, struct kc_buf *out)
{
	struct kc_svg_box *box = NULL;
	double w, h;
	int r, maxdepth = 0;

	if (count == 0)
		return kc_err_set(KC_ERR_INVALID, "access path: empty tree");
	if (count > KC_SVG_MAX_NODES)
		return kc_err_set(KC_ERR_LIMIT, "access path: more than %d nodes", KC_SVG_MAX_NODES);
	if ((box = kc_calloc(count, sizeof(*box))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = kc_svg_layout(n, count, box, &w, &h)) != 0)
		goto out;
	for (size_t i = 0; i < count; i++)
		if (box[i].depth > maxdepth)
			maxdepth = box[i].depth;
	r = kc_buf_addf(out, "<svg class=\"access-path\" xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
	    "font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"12\" "
	    "aria-label=\"", w, h, w, h);
	r |= kc_html_escape(out, label != NULL ? label : "access path");
	r |= kc_buf_adds(out, "\"><title>");
	r |= kc_html_escape(out, label != NULL ? label : "access path");
	r |= kc_buf_adds(out, "</title>");
	for (int d = 0; d <= maxdepth; d++)
		r |= kc_buf_addf(out, "<text class=\"column\" x=\"%.1f\" y=\"%.1f\" fill=\"#64748b\" "
		    "font-size=\"11\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
		    "letter-spacing=\"0.5\">%s</text>", col_x(d), MARGIN + 10, col_name[d]);
	/* edges first, so that boxes are drawn over their ends */
	for (size_t i = 1; i < count && r == 0; i++)
		r = render_edge(out, &box[n[i].parent], &n[i], &box[i]);
	for (size_t i = 0; i < count && r == 0; i++)
		r = render_node(out, &n[i], &box[i], i == 0);
	r |= kc_buf_adds(out, "</svg>");
	if (r != 0)
		r = kc_err_set(KC_ERR_LIMIT, "report larger than its maximum");
out:
	free(box);
	return r;
}
