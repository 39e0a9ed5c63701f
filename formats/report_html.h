/* report_html.h - the HTML evidence report (`kcustody report`) and the
 * HTML rendering of a kcustody.diff/v1 document (`kcustody diff --format
 * html`).
 *
 * Both produce one self-contained HTML5 page: inline CSS, inline SVG drawn
 * here, no script, no external asset (a Content-Security-Policy meta
 * forbids both, so that even a bug in escaping could not run anything).
 * The markup is also well-formed XML (void elements self-closed, only the
 * five XML character references), so a strict parser of either kind
 * accepts it.  Every string that comes from a bundle, a ledger or a diff
 * goes through kc_html_escape.
 *
 * Nothing here verifies anything: the caller passes what it checked, and
 * the page says "not verified" when it was not.
 */
#ifndef KC_REPORT_HTML_H
#define KC_REPORT_HTML_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "manifest/bundle.h"
#include "util/buf.h"

#define KC_REPORT_MAX (256u << 20)		/* largest page we write */
#define KC_REPORT_MEMBER_MAX (64u << 20)	/* largest member we read into memory */
#define KC_REPORT_MEMBERS_MAX (512u << 20)	/* all members read, together */
#define KC_REPORT_ROWS_MAX 2000			/* rows per table before "N more" */

/* Append s for use in HTML text or a quoted attribute value: & < > " '
 * as character references; TAB and LF as they are; other C0 controls,
 * DEL and bytes that are not valid UTF-8 as the visible text "\xHH"; C1
 * controls, noncharacters and bidirectional formatting characters (which
 * could reorder what a reader sees) as "\uHHHH".  Valid UTF-8 otherwise
 * passes unchanged.  s NULL appends nothing.  0 or KC_ERR_LIMIT/NOMEM. */
int kc_html_escape(struct kc_buf *out, const char *s);
int kc_html_escape_n(struct kc_buf *out, const char *s, size_t n);

/* The number of bytes of s (NUL-terminated) that kc_html_escape shows in
 * at most cols columns, never cutting a character or an escape; *used
 * (optional) receives the columns they take. */
size_t kc_html_prefix(const char *s, size_t cols, size_t *used);

/* What the command checked and found, for kc_report_html. */
struct kc_report_in {
	const char *bundle_path;		/* the bundle reported on (required) */
	const struct kc_verify_result *vr;	/* its verification; NULL: not verified */
	const char *no_verify_reason;		/* shown when vr is NULL, e.g. "--no-verify" */
	const char *pre_path;			/* with a diff: the PRE bundle */
	const struct kc_verify_result *pre_vr;	/* PRE's verification; NULL: not verified */
	const cJSON *diff;			/* kcustody.diff/v1 of PRE -> this bundle, or NULL */
	const char *diff_error;			/* why a requested diff is missing, or NULL */
	const char *ledger_path;		/* the custody ledger read; NULL: beside the bundle */
	int ledger_skipped;			/* not checked (--no-ledger) */
	const cJSON *ledger;			/* kc_ledger_verify report, or NULL */
	int ledger_status;			/* its return: 0, KC_ERR_VERIFY, KC_ERR_NOTFOUND (none), other */
	const char *ledger_error;		/* message when ledger_status is another error */
	const char *bundle_sha256;		/* hex of the bundle file, or NULL */
	const cJSON *recert;			/* kcustody.recertification/v1alpha1 of this
						 * bundle (rbac/recert.h), or NULL */
	const char *recert_error;		/* why a requested recertification is missing */
	const char *audit_chain_pubkey;		/* the audit-sink chain copied into the
						 * bundle is checked with this trusted key
						 * (PEM file); NULL: the bundle's own copy */
	const char *audit_chain_tsa_ca;		/* and its records' RFC 3161 tokens with
						 * this CA; NULL: counted, not checked */
	time_t generated;			/* shown in the footer; 0: left out */
	int *audit_chain_broken;		/* out (may be NULL): set to 1 when the
						 * bundle's copied audit-sink chain does not
						 * verify (verify's audit check FAILED) */
};

/* Render the whole report page for in->bundle_path into out (appends).
 * The bundle's members are read in one pass with the bundle reader's
 * safety checks and each one used is checked against the bundle's
 * SHA256SUMS; a bundle that cannot be read still gives a page that says
 * so beside the verification result.  Returns 0, KC_ERR_VERIFY when the
 * file read is not the one verified (or, unverified, whose SHA-256
 * in->bundle_sha256 names), or KC_ERR_NOMEM / KC_ERR_LIMIT (the page
 * would exceed out's maximum). */
int kc_report_html(const struct kc_report_in *in, struct kc_buf *out);

/* Render a whole self-contained page for a kcustody.diff/v1 document
 * alone (verdict, per-agent removed/added/kept with an access-path picture
 * each, findings, RBAC objects, stale pods, audit).  0, KC_ERR_INVALID
 * when d is not a diff document, KC_ERR_NOMEM / KC_ERR_LIMIT. */
int kc_diff_render_html(const cJSON *d, struct kc_buf *out);

#endif
