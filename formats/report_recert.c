/* report_recert.c - the recertification section of the report (`report
 * --scope FILE`): the kcustody.recertification/v1alpha1 document that
 * `recertify --format json` prints (rbac/recert.h, computed by the caller
 * with kc_recert_bundle, not here), shown per agent, with each permission
 * beyond scope and the binding and role that grant it, the agents missing
 * on either side, the scope file's name and SHA-256, and the reviewers'
 * decisions ("recertified" entries) of the bundle's custody ledger.
 *
 * data-kc names the member of that document a value was read from (a
 * dotted path, as the page's other data-kc name members of the diff
 * document); the section says so with data-kc-doc="recertification", so a
 * test can hold each part of the page against its own document.
 */
#include <string.h>

#include "formats/report_int.h"
#include "util/json.h"
#include "util/sha256.h"

/* A count of the document's summary as a card whose value names its path. */
static void
recert_card(struct w *w, const cJSON *d, const char *key, const char *label, int bad_if_pos)
{
	char nb[64];
	double v = rh_jnum(d, key, 0);

	rh_fmt_num(nb, sizeof(nb), v);
	rh_card_kc(w, v > 0 && bad_if_pos ? "bad" : "", label, nb, NULL, key);
}

static void
recert_verdict(struct w *w, const cJSON *d)
{
	int beyond = (int)rh_jnum(d, "summary.beyondScope", 0);
	int missing = (int)rh_jnum(d, "summary.agentsMissingFromScope", 0);
	int unused = (int)rh_jnum(d, "summary.scopeEntriesWithoutAgent", 0);

	if (rh_jtrue(d, "withinScope")) {
		rh_raw(w, "<div class=\"banner ok\" id=\"recert-verdict\"><span class=\"big\">ALL WITHIN "
		    "SCOPE</span>Every agent of the bundle holds only what its scope entry allows, and every "
		    "scope entry matches an agent.</div>\n");
		return;
	}
	rh_raw(w, "<div class=\"banner bad\" id=\"recert-verdict\"><span class=\"big\">NOT WITHIN "
	    "SCOPE</span>");
	if (beyond > 0)
		rh_rawf(w, "%d agent%s hold%s permissions beyond %s approved scope. ", beyond,
		    beyond == 1 ? "" : "s", beyond == 1 ? "s" : "", beyond == 1 ? "its" : "their");
	if (missing > 0)
		rh_rawf(w, "%d agent%s of the bundle %s no scope entry. ", missing, missing == 1 ? "" : "s",
		    missing == 1 ? "has" : "have");
	if (unused > 0)
		rh_rawf(w, "%d scope entr%s match%s no agent of the bundle.", unused, unused == 1 ? "y" : "ies",
		    unused == 1 ? "es" : "");
	rh_raw(w, "</div>\n");
}

static void
status_pill(struct w *w, const char *st)
{
	if (strcmp(st, "within-scope") == 0)
		rh_raw(w, "<span class=\"pill ok\">within scope</span>");
	else if (strcmp(st, "beyond-scope") == 0)
		rh_raw(w, "<span class=\"pill bad\">beyond scope</span>");
	else if (strcmp(st, "missing-from-scope") == 0)
		rh_raw(w, "<span class=\"pill bad\">missing from the scope file</span>");
	else
		rh_status_pill(w, st);
}

/* One row per agent: status, its scope entry, counts, evaluation errors. */
static void
agents_table(struct w *w, const cJSON *d)
{
	const cJSON *a, *x;
	int rows = 0;

	rh_raw(w, "<h3>Per agent</h3>\n<table id=\"recert-agents\"><thead><tr><th>agent</th><th>status</th>"
	    "<th>scope entry</th><th>owner</th><th>approval</th><th class=\"num\">judged</th>"
	    "<th class=\"num\">beyond scope</th><th>external endpoints (recorded, not checked)</th>"
	    "</tr></thead><tbody>\n");
	cJSON_ArrayForEach(a, kc_json_get(d, "agents")) {
		const cJSON *se = kc_json_get(a, "scopeEntry");
		const char *st = kc_json_str0(a, "status");

		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		rh_raw(w, strcmp(st, "within-scope") == 0 ? "<tr><td>" : "<tr class=\"row-high\"><td>");
		rh_text(w, kc_json_str0(a, "namespace"));
		rh_raw(w, "/");
		rh_text(w, kc_json_str0(a, "name"));
		rh_raw(w, "</td><td>");
		status_pill(w, st);
		cJSON_ArrayForEach(x, kc_json_get(a, "evaluationErrors")) {
			rh_raw(w, "<br/><span class=\"warn\">");
			rh_ref(w, x);
			rh_raw(w, " grants nothing (its role is missing)</span>");
		}
		rh_raw(w, "</td><td>");
		if (se == NULL) {
			rh_raw(w, "\xe2\x80\x94</td><td>\xe2\x80\x94</td><td>\xe2\x80\x94</td><td class=\"num\">"
			    "\xe2\x80\x94</td><td class=\"num\">\xe2\x80\x94</td><td>\xe2\x80\x94</td></tr>\n");
			continue;
		}
		rh_text_or_dash(w, kc_json_str(se, "name"));
		rh_rawf(w, " <span class=\"kind\">(line %d)</span></td><td>", (int)rh_jnum(se, "line", 0));
		rh_text_or_dash(w, kc_json_str(se, "owner"));
		rh_raw(w, "</td><td>");
		rh_text_or_dash(w, kc_json_str(se, "approval"));
		rh_rawf(w, "</td><td class=\"num\">%d</td><td class=\"num\">%d</td><td>",
		    (int)rh_jnum(a, "permissionsJudged", 0), rh_jcount(a, "excess"));
		if (rh_jcount(se, "externalEndpoints") > 0)
			rh_jlist(w, kc_json_get(se, "externalEndpoints"), ", ");
		else
			rh_text_or_dash(w, NULL);
		rh_raw(w, "</td></tr>\n");
	}
	rh_raw(w, "</tbody></table>\n");
	rh_more_rows(w, KC_REPORT_ROWS_MAX, rh_jcount(d, "agents"));
}

/* The permission of one excess item: verb, resource.group, names, where. */
static void
excess_perm(struct w *w, const cJSON *x)
{
	const char *g = kc_json_str0(x, "apiGroup"), *ns = kc_json_str0(x, "namespace");

	rh_raw(w, "<code>");
	rh_text(w, kc_json_str0(x, "verb"));
	rh_raw(w, " ");
	if (kc_json_get(x, "nonResourceURL") != NULL) {
		rh_text(w, kc_json_str0(x, "nonResourceURL"));
		rh_raw(w, "</code> <span class=\"kind\">(non-resource URL)</span>");
		return;
	}
	rh_text(w, kc_json_str0(x, "resource"));
	if (*g) {
		rh_raw(w, ".");
		rh_text(w, g);
	}
	rh_raw(w, "</code>");
	if (kc_json_get(x, "resourceNames") != NULL) {
		rh_raw(w, " names ");
		rh_jlist(w, kc_json_get(x, "resourceNames"), ", ");
	}
	if (strcmp(ns, "*") == 0) {
		rh_raw(w, " <span class=\"bad\">in every namespace</span>");
	} else {
		rh_raw(w, " in ");
		rh_text(w, ns);
	}
}

static void
excess_reasons(struct w *w, const cJSON *x)
{
	const cJSON *r;
	int first = 1;

	rh_raw(w, "<ul class=\"plain\">");
	cJSON_ArrayForEach(r, kc_json_get(x, "reasons")) {
		rh_raw(w, "<li>");
		rh_text(w, cJSON_IsString(r) ? r->valuestring : "");
		rh_raw(w, "</li>");
	}
	if (kc_json_get(x, "verbsBeyondScope") != NULL) {
		rh_raw(w, "<li>'*' expands to, beyond scope: ");
		cJSON_ArrayForEach(r, kc_json_get(x, "verbsBeyondScope")) {
			if (!first)
				rh_raw(w, ", ");
			rh_text(w, cJSON_IsString(r) ? r->valuestring : "");
			first = 0;
		}
		rh_raw(w, " (and any other verb)</li>");
	}
	rh_raw(w, "</ul>");
}

/* Every permission beyond scope, with the binding, role and subject. */
static void
excess_table(struct w *w, const cJSON *d)
{
	const cJSON *a, *x;
	int rows = 0, total = 0;

	rh_raw(w, "<h3>Permissions beyond scope</h3>\n");
	if (rh_jnum(d, "summary.excessPermissions", 0) <= 0) {
		rh_raw(w, "<p class=\"note\" id=\"recert-no-excess\">No agent holds a permission beyond its "
		    "scope entry.</p>\n");
		return;
	}
	rh_raw(w, "<table id=\"recert-excess\"><thead><tr><th>agent</th><th>permission</th>"
	    "<th>granted by (binding)</th><th>role</th><th>to subject</th><th>why beyond scope</th>"
	    "</tr></thead><tbody>\n");
	cJSON_ArrayForEach(a, kc_json_get(d, "agents")) {
		cJSON_ArrayForEach(x, kc_json_get(a, "excess")) {
			if (total++ >= KC_REPORT_ROWS_MAX)
				continue;
			rows++;
			rh_raw(w, "<tr class=\"row-high\"><td>");
			rh_text(w, kc_json_str0(a, "namespace"));
			rh_raw(w, "/");
			rh_text(w, kc_json_str0(a, "name"));
			rh_raw(w, "</td><td>");
			excess_perm(w, x);
			rh_raw(w, "</td><td>");
			rh_ref(w, kc_json_get(x, "binding"));
			rh_raw(w, "</td><td>");
			rh_ref(w, kc_json_get(x, "role"));
			rh_rawf(w, " <span class=\"kind\">(rule %d)</span></td><td>", (int)rh_jnum(x, "ruleIndex", 0));
			rh_ref(w, kc_json_get(x, "subject"));
			rh_raw(w, "</td><td>");
			excess_reasons(w, x);
			rh_raw(w, "</td></tr>\n");
		}
	}
	rh_raw(w, "</tbody></table>\n");
	rh_more_rows(w, rows, total);
}

/* Agents of the bundle without a scope entry, and entries without agent. */
static void
missing_tables(struct w *w, const cJSON *d)
{
	const cJSON *x;
	int rows = 0;

	rh_raw(w, "<h3>Agents missing from the scope file</h3>\n");
	if (rh_jcount(d, "agentsMissingFromScope") == 0) {
		rh_raw(w, "<p class=\"note\">None: every agent of the bundle has a scope entry.</p>\n");
	} else {
		rh_raw(w, "<ul class=\"plain\" id=\"recert-missing-agents\">");
		cJSON_ArrayForEach(x, kc_json_get(d, "agentsMissingFromScope")) {
			if (rows++ >= KC_REPORT_ROWS_MAX)
				break;
			rh_raw(w, "<li>");
			rh_text(w, kc_json_str0(x, "namespace"));
			rh_raw(w, "/");
			rh_text(w, kc_json_str0(x, "name"));
			rh_raw(w, "</li>");
		}
		rh_raw(w, "</ul>\n");
		rh_more_rows(w, KC_REPORT_ROWS_MAX, rh_jcount(d, "agentsMissingFromScope"));
	}
	rh_raw(w, "<h3>Scope entries that match no agent of the bundle</h3>\n");
	if (rh_jcount(d, "scopeEntriesWithoutAgent") == 0) {
		rh_raw(w, "<p class=\"note\">None: every scope entry matches an agent.</p>\n");
		return;
	}
	rows = 0;
	rh_raw(w, "<table id=\"recert-unmatched-entries\"><thead><tr><th>scope entry</th>"
	    "<th class=\"num\">line</th><th>service account</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(x, kc_json_get(d, "scopeEntriesWithoutAgent")) {
		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		rh_raw(w, "<tr><td>");
		rh_text_or_dash(w, kc_json_str(x, "name"));
		rh_rawf(w, "</td><td class=\"num\">%d</td><td>", (int)rh_jnum(x, "line", 0));
		rh_text_or_dash(w, kc_json_str(x, "serviceAccount"));
		rh_raw(w, "</td></tr>\n");
	}
	rh_raw(w, "</tbody></table>\n");
	rh_more_rows(w, KC_REPORT_ROWS_MAX, rh_jcount(d, "scopeEntriesWithoutAgent"));
}

static void
decision_row(struct w *w, const cJSON *e, const char *scope_sha)
{
	const cJSON *rc = kc_json_get(e, "recertification"), *sm = kc_json_get(rc, "summary");
	const char *sha = kc_json_str0(rc, "scope_sha256"), *sig = kc_json_str0(e, "signature");

	rh_rawf(w, "<tr><td class=\"num\">%d</td><td>", (int)rh_jnum(e, "seq", 0));
	rh_text_or_dash(w, kc_json_str(e, "time"));
	rh_raw(w, "</td><td><strong>");
	rh_text_or_dash(w, kc_json_str(rc, "decision"));
	rh_raw(w, "</strong></td><td>");
	rh_text_or_dash(w, kc_json_str(kc_json_path(e, "actor"), "name"));
	if (rh_jhas(e, "actor.trustedAs")) {
		rh_raw(w, "<br/><span class=\"kind\">trusted as ");
		rh_text(w, kc_json_str(kc_json_path(e, "actor"), "trustedAs"));
		rh_raw(w, "</span>");
	}
	rh_rawf(w, "</td><td><span class=\"pill %s\">", strcmp(sig, "trusted") == 0 || strcmp(sig, "valid") == 0 ?
	    "ok" : strcmp(sig, "untrusted") == 0 ? "warn" : "bad");
	rh_text_or_dash(w, sig);
	rh_raw(w, "</span></td><td>");
	rh_text_or_dash(w, kc_json_str(rc, "scope_file"));
	rh_raw(w, "<br/><code>");
	rh_text(w, sha);
	rh_raw(w, "</code> ");
	if (scope_sha != NULL && kc_digest_eq(sha, scope_sha))
		rh_raw(w, "<span class=\"pill ok\">this scope file</span>");
	else
		rh_raw(w, "<span class=\"pill warn\">another scope file</span>");
	rh_rawf(w, "</td><td>%d agents: %d within scope, %d beyond, %d missing from the scope file, "
	    "%d scope entries without agent</td><td>", (int)rh_jnum(sm, "agents", 0),
	    (int)rh_jnum(sm, "within_scope", 0), (int)rh_jnum(sm, "beyond_scope", 0),
	    (int)rh_jnum(sm, "missing_from_scope", 0), (int)rh_jnum(sm, "scope_entries_without_agent", 0));
	rh_text_or_dash(w, kc_json_str(e, "note"));
	rh_raw(w, "</td></tr>\n");
}

/* The reviewers' decisions: the ledger's "recertified" entries. */
static void
decisions(struct w *w, const struct kc_report_in *in, const char *scope_sha)
{
	const cJSON *e;
	int n = 0, rows = 0;

	rh_raw(w, "<h3>Reviewer decisions</h3>\n");
	if (in->ledger_skipped) {
		rh_raw(w, "<p class=\"note\" id=\"recert-no-decisions\">The custody ledger was not checked, so "
		    "no decision is shown.</p>\n");
		return;
	}
	cJSON_ArrayForEach(e, kc_json_path(in->ledger, "history"))
		n += strcmp(kc_json_str0(e, "action"), "recertified") == 0;
	if (n == 0) {
		rh_raw(w, "<p class=\"note\" id=\"recert-no-decisions\">No reviewer decision (a "
		    "<code>recertified</code> entry) is recorded in the custody ledger of this bundle.</p>\n");
		return;
	}
	rh_raw(w, "<table id=\"recert-decisions\"><thead><tr><th class=\"num\">seq</th><th>time (UTC)</th>"
	    "<th>decision</th><th>reviewer</th><th>signature</th><th>scope file and SHA-256</th>"
	    "<th>result decided on</th><th>note</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(e, kc_json_path(in->ledger, "history")) {
		if (strcmp(kc_json_str0(e, "action"), "recertified") != 0)
			continue;
		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		decision_row(w, e, scope_sha);
	}
	rh_raw(w, "</tbody></table>\n");
	rh_more_rows(w, KC_REPORT_ROWS_MAX, n);
}

void
rh_recert_section(struct w *w, const struct kc_report_in *in)
{
	const cJSON *d = in->recert;

	if (d == NULL && in->recert_error == NULL)
		return;
	rh_raw(w, "<section id=\"recertification\" data-kc-doc=\"recertification\"><h2>Recertification "
	    "against the approved scopes</h2>\n");
	if (d == NULL) {
		rh_raw(w, "<p class=\"bad\" id=\"recert-not-judged\">Not judged: ");
		rh_text(w, in->recert_error);
		rh_raw(w, "</p>\n");
		decisions(w, in, NULL);
		rh_raw(w, "</section>\n");
		return;
	}
	rh_raw(w, "<p class=\"sub\">Each agent of the bundle judged against the scope file <code "
	    "data-kc=\"scope.file\">");
	rh_text(w, kc_json_str0(kc_json_get(d, "scope"), "file"));
	rh_raw(w, "</code> (SHA-256 <code data-kc=\"scope.sha256\">");
	rh_text(w, kc_json_str0(kc_json_get(d, "scope"), "sha256"));
	rh_raw(w, "</code>), as <code>kcustody recertify --format json</code> judges it "
	    "(docs/RECERTIFY.md).</p>\n");
	recert_verdict(w, d);
	rh_raw(w, "<div class=\"cards\" id=\"recert-summary\">\n");
	recert_card(w, d, "summary.agents", "agents", 0);
	recert_card(w, d, "summary.withinScope", "within scope", 0);
	recert_card(w, d, "summary.beyondScope", "beyond scope", 1);
	recert_card(w, d, "summary.excessPermissions", "permissions beyond scope", 1);
	recert_card(w, d, "summary.agentsMissingFromScope", "agents missing from the scope file", 1);
	recert_card(w, d, "summary.scopeEntriesWithoutAgent", "scope entries without agent", 1);
	rh_raw(w, "</div>\n");
	agents_table(w, d);
	excess_table(w, d);
	missing_tables(w, d);
	decisions(w, in, kc_json_str(kc_json_get(d, "scope"), "sha256"));
	rh_raw(w, "</section>\n");
}
