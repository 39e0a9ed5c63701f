/* report_int.h - what the files of the HTML report share (report_html.h
 * is the public side).  Not an interface for anything outside formats/.
 *
 *   report_escape.c     escaping (kc_html_escape, kc_html_prefix)
 *   report_write.c      the sticky-error writer, JSON values as text, the
 *                       page frame (CSS, head, footer) and small tables
 *   report_bundle.c     the members the report shows, read in one pass by
 *                       the bundle-member reader (manifest/bundle.h) and
 *                       checked against SHA256SUMS
 *   report_tree.c       access-path trees: nodes, labels, a tree from the
 *                       bundle's effective grants, drawing (svg_access.h)
 *   report_tree_diff.c  access-path trees from a diff document
 *   report_custody.c    verification banner and table, custody ledger,
 *                       case, collector and cluster
 *   report_sections.c   findings, inventory, who-can, audit segment, items
 *   report_diff.c       the remediation section and the diff page
 *   report_recert.c     the recertification section (report --scope)
 *   report_html.c       the report page: header, banners, summary cards,
 *                       access paths
 *
 * Names shared between these files carry the prefix rh_.  Every member of
 * a JSON document is read through util/json.h (the last duplicate key
 * wins); rh_jnum, rh_jhas, rh_jtrue and rh_jcount only type the value at
 * a dotted path (kc_json_path).
 */
#ifndef KC_REPORT_INT_H
#define KC_REPORT_INT_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "formats/report_html.h"
#include "formats/svg_access.h"
#include "manifest/bundle.h"
#include "util/buf.h"
#include "util/nsindex.h"

/* writer: the first error sticks, later writes do nothing */
struct w {
	struct kc_buf *b;
	int err;
};

/* the bundle's members the report shows */
struct eff {
	char *agent;		/* "<ns>__<name>" folder */
	cJSON *doc;
};

/* who-can rows merged over verbs: one row per subject, binding, role and
 * place, with a mark per verb (analysis/who-can.json, read a query at a
 * time: rh_whocan_read). */
struct wc_row {
	const cJSON *subject, *binding, *role;	/* kind, name, namespace, found: false */
	const char *where;	/* "" cluster-wide, else a namespace */
	const char *note;
	unsigned verbs;		/* 1 get, 2 list, 4 watch */
	int agent;		/* set when the section is written */
};

/* The rows of one table and an index on them (the who-can lists of a
 * large cluster hold hundreds of thousands of entries; a scan per entry
 * made the table n^2). */
struct wc_set {
	struct wc_row *v;
	size_t n, cap;
	size_t *slot;		/* open addressing: row index + 1, 0 free */
	size_t nslot;		/* 0 or a power of two */
};

/* Findings by the service account they name (util/nsindex.h): an agent's
 * findings are one slice, found by binary search, so a report does not
 * scan every finding for every grant of every agent. */
struct bundle {
	cJSON *manifest, *findings, *whocan, *selection, *sources;
	cJSON *logauthz;	/* analysis/log-authz-errors.json, NULL when no pod logs */
	cJSON *continuity;	/* the audit continuity (manifest/auditchain_bundle.h) */
	struct kc_nsindex fidx;	/* findings.findings by subject */
	struct kc_nsindex sidx;	/* selection.selected by namespace and name */
	cJSON *inventory;	/* rows: arrays of strings, header first */
	struct eff *eff;
	size_t neff, effcap;
	char top[256];
	struct kc_buf problems;	/* why some or all contents are not shown */
	int unreadable;		/* nothing could be read */
	int changed;		/* the file read is not the one pinned (its digest differs) */
	struct kc_jarena *arena;	/* where the documents above are packed (util/jarena.h) */
	struct kc_jarena *scratch;	/* where a member is parsed before it is reduced */
	struct wc_set wc[3];	/* who-can rows of each kc_sensitive_resources entry */
	const cJSON **refs;	/* the rows' refs, one copy of each in the arena */
	size_t nrefs, nrefslot;
};

/* Boxes per picture: beyond this a picture stops helping anyone see. */
#define TREE_MAX 400

struct tnode {
	int parent;
	char *key;
	char *line[KC_SVG_LINES];
	char *tag, *title;
	unsigned flags;
	int sev;		/* best (lowest) severity rank of findings on it */
};

struct tree {
	struct tnode *v;
	size_t n, cap;
	int err;
	size_t dropped;		/* boxes left out beyond KC_SVG_MAX_NODES */
};

/* report_sections.c: analysis/who-can.json (text, len) read into b->wc a
 * query at a time, b->whocan its other members; 0, KC_ERR_PARSE (not the
 * JSON cJSON reads) or KC_ERR_NOMEM, the tables empty then. */
int rh_whocan_read(struct bundle *b, const char *text, size_t len);
/* The same read as the member is inflated (util/json.h kc_json_stream):
 * new (the tables emptied; NULL: out of memory), feed each piece (0 or
 * the read's error), then end (the tables and b->whocan set, or the
 * error, the tables empty) or abandon (the tables empty).  end and
 * abandon free s. */
struct rh_whocan_stream;
struct rh_whocan_stream *rh_whocan_stream_new(struct bundle *b);
int rh_whocan_stream_feed(struct rh_whocan_stream *s, const char *p, size_t n);
int rh_whocan_stream_end(struct rh_whocan_stream *s);
void rh_whocan_stream_abandon(struct rh_whocan_stream *s);
void rh_whocan_free(struct bundle *b);

/* report_write.c */
void rh_raw(struct w *w, const char *s);
/* Markup only: never pass a string from the evidence through fmt. */
void rh_rawf(struct w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rh_text(struct w *w, const char *s);
void rh_text_or_dash(struct w *w, const char *s);
double rh_jnum(const cJSON *o, const char *path, double dflt);
int rh_jhas(const cJSON *o, const char *path);
int rh_jtrue(const cJSON *o, const char *path);
int rh_jcount(const cJSON *o, const char *path);
void rh_fmt_num(char *out, size_t n, double v);
void rh_jtext(struct w *w, const cJSON *v);
void rh_jlist(struct w *w, const cJSON *arr, const char *sep);
int rh_sev_rank(const char *s);
const char *rh_sev_class(const char *s);
void rh_sev_badge(struct w *w, const char *s);
void rh_ref_text(struct kc_buf *b, const cJSON *o);
void rh_ref(struct w *w, const cJSON *o);
void rh_page_open(struct w *w, const char *title);
void rh_page_close(struct w *w, time_t generated);
void rh_kv(struct w *w, const char *k, const char *v);
void rh_kv_mono(struct w *w, const char *k, const char *v);
void rh_kv_json(struct w *w, const char *k, const cJSON *v);
void rh_card(struct w *w, const char *cls, const char *k, const char *v, const char *note);
void rh_card_kc(struct w *w, const char *cls, const char *k, const char *v, const char *note, const char *kc);
void rh_status_pill(struct w *w, const char *st);
void rh_generic_table(struct w *w, const cJSON *arr, const char *cls);
void rh_more_rows(struct w *w, int shown, int total);

/* report_bundle.c */
void rh_bundle_free(struct bundle *b);
/* pin: the digest the report names for the file (the one verify read
 * when it found the file valid, else the report's own first hash; NULL:
 * not pinned).  A file with another digest shows nothing.  strict (the
 * file verified valid): any read error shows nothing either; otherwise an
 * invalid bundle is shown as far as it can be read.  chain_pubkey,
 * chain_tsa_ca: how a copied audit-sink chain is checked
 * (kc_achain_bundle_continuity_tsa; NULL: the bundle's own key, tokens
 * not checked). */
void rh_bundle_read(const char *path, const char *pin, int strict, const char *chain_pubkey,
    const char *chain_tsa_ca, struct bundle *b);

/* report_tree.c */
void rh_tree_free(struct tree *t);
int rh_tree_find(const struct tree *t, int parent, const char *key);
int rh_tree_add(struct tree *t, int parent, const char *key, unsigned flags);
void rh_tree_set(struct tree *t, int i, int line, const char *s);
void rh_tree_setb(struct tree *t, int i, int line, struct kc_buf *b);
void rh_tree_render(struct w *w, struct tree *t, const char *label);
unsigned rh_sev_flag(int rank);
int rh_str_in(const cJSON *arr, const char *s);
int rh_same_ref(const cJSON *a, const cJSON *b, int with_ns);
int rh_subject_is(const cJSON *f, const char *ns, const char *name);
void rh_key_of(struct kc_buf *b, const cJSON *o);
void rh_label_binding(struct tree *t, int i, const cJSON *binding, struct kc_buf *tmp);
void rh_label_role(struct tree *t, int i, const cJSON *role, struct kc_buf *tmp);
int rh_tree_root(struct tree *t, const char *ns, const char *name, struct kc_buf *tmp);
void rh_tree_from_grants(struct tree *t, const struct bundle *b, const char *ns, const char *name,
    struct kc_buf *tmp);

/* Add the findings of arr that name a ServiceAccount (with unwrap, an
 * AGR-025 wrapper counts as the finding it wraps), then sort once with
 * kc_nsindex_sort. */
void rh_findex_add(struct kc_nsindex *x, const cJSON *arr, int unwrap);
/* Add the members of arr (objects with namespace and name: selected
 * accounts, a diff's agents) by their own namespace and name. */
void rh_findex_add_named(struct kc_nsindex *x, const cJSON *arr);
/* The diff's resolved, persisting and new findings, indexed. */
void rh_findex_diff(struct kc_nsindex *x, const cJSON *diff);

/* report_tree_diff.c */
const char *rh_rank_name(int r);
/* The first of the diff's agents (aidx: rh_findex_add_named of them) that
 * is ns/name, or NULL. */
const cJSON *rh_diff_agent(const struct kc_nsindex *aidx, const char *ns, const char *name);
/* dfx: rh_findex_diff of the diff the agent comes from */
void rh_tree_overlay_diff(struct tree *t, const cJSON *agent, const struct kc_nsindex *dfx,
    struct kc_buf *tmp);
void rh_tree_from_diff(struct tree *t, const cJSON *agent, const struct kc_nsindex *dfx,
    struct kc_buf *tmp);

/* report_custody.c */
int rh_unverified_only(const struct kc_verify_result *vr);
void rh_verify_banner(struct w *w, const char *what, const struct kc_verify_result *vr, const char *why);
void rh_verify_table(struct w *w, const char *caption, const char *path, const struct kc_verify_result *vr,
    const char *why);
void rh_case_section(struct w *w, const struct kc_report_in *in, const struct bundle *b);

/* report_sections.c */
void rh_findings_table(struct w *w, const char *id, const cJSON *arr, int sort, int always);
void rh_findings_section(struct w *w, const struct bundle *b);
int rh_is_agent(const struct bundle *b, const char *ns, const char *name);
void rh_inventory_section(struct w *w, const struct bundle *b);
void rh_whocan_section(struct w *w, const struct bundle *b);
void rh_audit_section(struct w *w, const struct bundle *b);
void rh_items_section(struct w *w, const struct bundle *b);

/* report_diff.c */
const char *rh_verdict_class(const char *v);
void rh_diff_body(struct w *w, const cJSON *d, int pictures, const char *h);

/* report_recert.c: the section of in->recert (or why it is missing);
 * nothing when neither is set */
void rh_recert_section(struct w *w, const struct kc_report_in *in);

/* report_html.c */
void rh_legend(struct w *w, int with_diff);
/* ident (may be NULL): an object whose "agentResources" are shown beside the name */
void rh_agent_heading(struct w *w, const char *ns, const char *name, const cJSON *dagent,
    const cJSON *ident);

#endif
