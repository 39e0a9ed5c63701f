/* report_diff.c - the remediation section (from a kcustody.diff/v1
 * document) and the diff page (kc_diff_render_html). */
#include <stdio.h>
#include <string.h>

#include "formats/report_int.h"
#include "rbac/diff.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"

/* ------------------------------------------------------------------ */
/* remediation (the diff document) */

static void
perm_table(struct w *w, const cJSON *perms, const char *cls)
{
	const cJSON *p, *g;
	int rows = 0;

	if (cJSON_GetArraySize(perms) == 0) {
		rh_raw(w, "<p class=\"note\">None.</p>\n");
		return;
	}
	rh_rawf(w, "<table class=\"perms %s\"><thead><tr><th>verb</th><th>apiGroup</th>"
	    "<th>resource or URL</th><th>name</th><th>where</th><th>granted by</th></tr></thead><tbody>\n",
	    cls);
	cJSON_ArrayForEach(p, perms) {
		const char *url = kc_json_str(p, "url"), *ns = kc_json_str(p, "namespace");
		const char *g0 = kc_json_str(p, "apiGroup");
		int first = 1;

		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		rh_raw(w, "<tr><td><code>");
		rh_text_or_dash(w, kc_json_str(p, "verb"));
		rh_raw(w, "</code></td><td>");
		if (url != NULL)
			rh_text_or_dash(w, NULL);
		else
			rh_text(w, g0 != NULL && *g0 ? g0 : "core");
		rh_raw(w, "</td><td><code>");
		rh_text_or_dash(w, url != NULL ? url : kc_json_str(p, "resource"));
		rh_raw(w, "</code></td><td>");
		rh_text(w, url != NULL ? "" : kc_json_str(p, "name") && strcmp(kc_json_str(p, "name"), "*") == 0 ? "any" :
		    kc_json_str(p, "name"));
		rh_raw(w, "</td><td>");
		if (url != NULL)
			rh_raw(w, "non-resource");
		else if (ns == NULL || strcmp(ns, "*") == 0)
			rh_raw(w, "<strong>cluster-wide</strong>");
		else
			rh_text(w, ns);
		rh_raw(w, "</td><td>");
		cJSON_ArrayForEach(g, kc_json_path(p, "grants")) {
			if (!first)
				rh_raw(w, "<br/>");
			first = 0;
			rh_ref(w, kc_json_path(g, "binding"));
			rh_raw(w, " \xe2\x86\x92 ");
			rh_ref(w, kc_json_path(g, "role"));
		}
		rh_raw(w, "</td></tr>\n");
	}
	rh_raw(w, "</tbody></table>\n");
	rh_more_rows(w, KC_REPORT_ROWS_MAX, cJSON_GetArraySize(perms));
}

const char *
rh_verdict_class(const char *v)
{
	if (v == NULL)
		return "info";
	if (strcmp(v, "remediated") == 0)
		return "ok";
	if (strcmp(v, "incomplete") == 0)
		return "warn";
	return "bad";
}

static void
yesno_change(struct w *w, int before, int after, int bad_when_true)
{
	const char *b = before ? "yes" : "no", *a = after ? "yes" : "no";

	rh_rawf(w, "<span class=\"%s\">%s</span> \xe2\x86\x92 <span class=\"%s\">%s</span>",
	    before && bad_when_true ? "bad" : "", b, after && bad_when_true ? "bad" : "good", a);
}

static void
rbac_objects(struct w *w, const cJSON *ro)
{
	static const char *const lists[] = { "removed", "added", "changed" };
	int total = 0;

	for (int i = 0; i < 3; i++)
		total += rh_jcount(ro, lists[i]);
	if (total == 0) {
		rh_raw(w, "<p class=\"note\">No RBAC object was added, removed or changed.</p>\n");
		return;
	}
	rh_raw(w, "<table id=\"rbac-objects\"><thead><tr><th>change</th><th>object</th><th>uid</th>"
	    "<th>what changed</th><th>changed by (managedFields)</th></tr></thead><tbody>\n");
	for (int i = 0; i < 3; i++) {
		const cJSON *o, *c, *m;

		cJSON_ArrayForEach(o, kc_json_path(ro, lists[i])) {
			rh_rawf(w, "<tr><td><span class=\"pill %s\">%s</span></td><td>", i == 0 ? "ok" :
			    i == 1 ? "new" : "warn", lists[i]);
			if (i == 0)
				rh_raw(w, "<span class=\"struck\">");
			rh_ref(w, o);
			if (i == 0)
				rh_raw(w, "</span>");
			rh_raw(w, "</td><td><code>");
			rh_text_or_dash(w, kc_json_str(o, "uid"));
			rh_raw(w, "</code></td><td>");
			cJSON_ArrayForEach(c, kc_json_path(o, "changes")) {
				rh_raw(w, "<strong>");
				rh_text(w, c->string);
				rh_raw(w, "</strong>: ");
				rh_jtext(w, kc_json_path(c, "before"));
				rh_raw(w, " \xe2\x86\x92 ");
				rh_jtext(w, kc_json_path(c, "after"));
				rh_raw(w, "<br/>");
			}
			rh_raw(w, "</td><td>");
			cJSON_ArrayForEach(m, kc_json_path(o, "changed_by")) {
				rh_text(w, kc_json_str(m, "manager"));
				rh_raw(w, " ");
				rh_text(w, kc_json_str(m, "operation"));
				rh_raw(w, " ");
				rh_text(w, kc_json_str(m, "time"));
				rh_raw(w, "<br/>");
			}
			rh_raw(w, "</td></tr>\n");
		}
	}
	rh_raw(w, "</tbody></table>\n");
}

static void
summary_card_num(struct w *w, const cJSON *sum, const char *key, const char *label, int bad_if_pos,
    int good_if_pos)
{
	char nb[64];
	double v = rh_jnum(sum, key, 0);

	char kc[128];

	rh_fmt_num(nb, sizeof(nb), v);
	/* data-kc names the member the card shows: whole, or no attribute
	 * (never one naming another member; the keys are this file's) */
	{
		char v1[128];

		if (kc_fmt(v1, sizeof(v1), "summary.%s", key) != 0 || kc_diff_public_path(v1, kc, sizeof(kc)) != 0) {
			kc_err_clear();
			kc[0] = '\0';
		}
	}
	if (kc_json_str(sum, key) != NULL) {	/* "not determinable from these sources" */
		rh_card_kc(w, "warn", label, kc_json_str(sum, key), NULL, kc[0] ? kc : NULL);
		return;
	}
	rh_card_kc(w, v > 0 && bad_if_pos ? "bad" : v > 0 && good_if_pos ? "ok" : "", label, nb, NULL,
	    kc[0] ? kc : NULL);
}

/* The verdict of the diff, and its breach assessment when it has one. */
static void
diff_verdict(struct w *w, const cJSON *sum)
{
	rh_rawf(w, "<div class=\"banner %s\" id=\"verdict\"><span class=\"big\" data-kc=\"summary.verdict\">",
	    rh_verdict_class(kc_json_str(sum, "verdict")));
	rh_text_or_dash(w, kc_json_str(sum, "verdict") ? kc_json_str(sum, "verdict") : "no verdict");
	rh_raw(w, "</span>");
	rh_text(w, kc_json_str(sum, "verdict_reason"));
	rh_raw(w, "</div>\n");
}

static void
diff_breach(struct w *w, const cJSON *ba)
{
	const cJSON *ag;
	const char *bv = kc_json_str(ba, "verdict");

	rh_rawf(w, "<div class=\"banner %s\" id=\"breach\"><span class=\"big\">",
	    bv != NULL && strcmp(bv, "URGENT") == 0 ? "bad" : "info");
	rh_text(w, bv != NULL ? bv : "-");
	rh_raw(w, "</span>Breach assessment: ");
	rh_text(w, kc_json_str(ba, "reason"));
	rh_raw(w, "<ul class=\"plain\">");
	cJSON_ArrayForEach(ag, kc_json_path(ba, "agents")) {
		if (rh_jcount(ag, "secrets_read") == 0 &&
		    rh_jcount(ag, "secrets_reachable") == 0 && !rh_jtrue(ag, "could_read_secrets"))
			continue;
		rh_raw(w, "<li class=\"breach-agent\"><strong>");
		rh_text(w, kc_json_str(ag, "namespace"));
		rh_raw(w, "/");
		rh_text(w, kc_json_str(ag, "name"));
		rh_raw(w, "</strong> read (audit): ");
		if (rh_jcount(ag, "secrets_read") > 0)
			rh_jlist(w, kc_json_path(ag, "secrets_read"), ", ");
		else
			rh_raw(w, "none");
		rh_raw(w, "; could reach (PRE): ");
		if (rh_jcount(ag, "secrets_reachable") > 0)
			rh_jlist(w, kc_json_path(ag, "secrets_reachable"), ", ");
		else
			rh_raw(w, "none listed");
		rh_raw(w, "</li>");
	}
	rh_raw(w, "</ul></div>\n");
}

static void
diff_cards(struct w *w, const cJSON *d, const cJSON *sum)
{
	if (!rh_jtrue(d, "verified"))
		rh_raw(w, "<div class=\"banner warn\"><span class=\"big\">NOT VERIFIED</span>The two bundles "
		    "were compared without verifying them (--no-verify).</div>\n");
	rh_raw(w, "<div class=\"cards\">\n");
	summary_card_num(w, sum, "permissions_removed", "permissions removed", 0, 1);
	summary_card_num(w, sum, "permissions_added", "permissions added", 0, 0);
	summary_card_num(w, sum, "permissions_kept", "permissions kept", 0, 0);
	summary_card_num(w, sum, "findings_resolved", "findings resolved", 0, 1);
	summary_card_num(w, sum, "findings_persisting", "findings persisting", 1, 0);
	summary_card_num(w, sum, "findings_new", "findings new", 1, 0);
	summary_card_num(w, sum, "stale_pods", "pods older than the change", 1, 0);
	summary_card_num(w, sum, "denied_requests", "denied requests after", 1, 0);
	summary_card_num(w, sum, "sensitive_reads_after_remediation", "sensitive reads after", 0, 0);
	summary_card_num(w, sum, "policy_bypass_reads", "policy bypass reads", 1, 0);
	rh_raw(w, "</div>\n");

}

/* PRE and POST: paths, hashes, verification; the cluster and the time. */
static void
diff_bundles(struct w *w, const cJSON *d)
{
	static const char *const sides[] = { "pre", "post" };

	rh_raw(w, "<table id=\"diff-bundles\"><thead><tr><th></th><th>bundle</th><th>SHA-256</th>"
	    "<th>case / phase</th><th>collected (UTC)</th><th>verification</th><th>signer</th>"
	    "</tr></thead><tbody>\n");
	for (int i = 0; i < 2; i++) {
		const cJSON *bd = kc_json_path(d, sides[i]);
		const char *v = kc_json_str(bd, "verification");

		rh_rawf(w, "<tr><th>%s</th><td><code>", i == 0 ? "PRE" : "POST");
		rh_text_or_dash(w, kc_json_str(bd, "path"));
		rh_raw(w, "</code><br/><span class=\"note\">bundle id ");
		rh_text(w, kc_json_str(bd, "bundle_id"));
		rh_raw(w, "</span></td><td><code>");
		rh_text_or_dash(w, kc_json_str(bd, "sha256"));
		rh_raw(w, "</code></td><td>");
		rh_text(w, kc_json_str(bd, "case"));
		rh_raw(w, " / ");
		rh_text(w, kc_json_str(bd, "phase"));
		rh_raw(w, "</td><td>");
		rh_text_or_dash(w, kc_json_str(bd, "started"));
		rh_raw(w, "<br/>");
		rh_text_or_dash(w, kc_json_str(bd, "finished"));
		rh_raw(w, "</td><td>");
		rh_rawf(w, "<span class=\"pill %s\">", v != NULL && strcmp(v, "valid") == 0 ? "ok" : "warn");
		rh_text_or_dash(w, v);
		rh_raw(w, "</span></td><td><code>");
		rh_text_or_dash(w, kc_json_str(bd, "signer"));
		rh_raw(w, "</code></td></tr>\n");
	}
	rh_raw(w, "</tbody></table>\n<table class=\"kv\"><tbody>\n");
	rh_kv_mono(w, "cluster (kube-system UID)", kc_json_str(kc_json_path(d, "cluster"), "kube_system_uid"));
	rh_kv_mono(w, "server", kc_json_str(kc_json_path(d, "cluster"), "server"));
	rh_rawf(w, "<tr><th>remediation time</th><td>");
	rh_text_or_dash(w, kc_json_str(d, "remediated_at"));
	rh_raw(w, " <span class=\"note\">(");
	rh_text(w, kc_json_str(d, "remediated_at_source"));
	rh_raw(w, ")</span></td></tr>\n</tbody></table>\n");

}

static void
diff_agents_table(struct w *w, const cJSON *d)
{
	const cJSON *a;

	rh_raw(w, "<h3>Per agent</h3>\n<table id=\"diff-agents\"><thead><tr><th>agent</th><th>selected in</th>"
	    "<th>cluster-wide reach</th><th>reads secrets</th><th class=\"num\">removed</th>"
	    "<th class=\"num\">added</th><th class=\"num\">kept</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(a, kc_json_path(d, "agents")) {
		rh_raw(w, "<tr><td><strong>");
		rh_text(w, kc_json_str(a, "namespace"));
		rh_raw(w, "/");
		rh_text(w, kc_json_str(a, "name"));
		rh_raw(w, "</strong></td><td>");
		rh_jlist(w, kc_json_path(a, "selected_in"), ", ");
		rh_raw(w, "</td><td>");
		yesno_change(w, rh_jtrue(a, "cluster_wide_before"), rh_jtrue(a, "cluster_wide_after"), 1);
		rh_raw(w, "</td><td>");
		yesno_change(w, rh_jtrue(a, "secrets_before"), rh_jtrue(a, "secrets_after"), 1);
		rh_rawf(w, "</td><td class=\"num good\">%d</td><td class=\"num%s\">%d</td><td class=\"num\">%d"
		    "</td></tr>\n", (int)rh_jnum(a, "counts.removed", 0), rh_jnum(a, "counts.added", 0) > 0 ?
		    " bad" : "", (int)rh_jnum(a, "counts.added", 0), (int)rh_jnum(a, "counts.kept", 0));
	}
	rh_raw(w, "</tbody></table>\n");
}

/* Per agent: a heading, the access-path picture when asked, and the
 * removed, added and kept permissions. */
static void
diff_agents(struct w *w, const cJSON *d, int pictures)
{
	struct kc_buf tmp = KC_BUF_INIT(1u << 20), label = KC_BUF_INIT(4096);
	struct kc_nsindex dfx = { NULL, 0, 0, 0 };
	const cJSON *a;

	if (pictures) {
		rh_legend(w, 1);
		rh_findex_diff(&dfx, d);
	}
	cJSON_ArrayForEach(a, kc_json_path(d, "agents")) {
		const char *ns = kc_json_str0(a, "namespace"), *name = kc_json_str0(a, "name");

		rh_agent_heading(w, ns, name, a, a);
		if (pictures) {
			struct tree t = { 0 };

			rh_tree_from_diff(&t, a, &dfx, &tmp);
			kc_buf_reset(&label);
			kc_buf_addf(&label, "Remediation of ServiceAccount %s/%s", ns, name);
			rh_tree_render(w, &t, kc_buf_str(&label));
			rh_tree_free(&t);
		}
		rh_rawf(w, "<details%s><summary>%d permission%s removed</summary>\n",
		    rh_jcount(a, "removed") <= 30 ? " open=\"open\"" : "",
		    rh_jcount(a, "removed"), rh_jcount(a, "removed") == 1 ? "" : "s");
		perm_table(w, kc_json_path(a, "removed"), "removed");
		rh_raw(w, "</details>\n");
		rh_rawf(w, "<details%s><summary>%d permission%s added</summary>\n",
		    rh_jcount(a, "added") <= 30 ? " open=\"open\"" : "",
		    rh_jcount(a, "added"), rh_jcount(a, "added") == 1 ? "" : "s");
		perm_table(w, kc_json_path(a, "added"), "added");
		rh_raw(w, "</details>\n");
		rh_rawf(w, "<details><summary>%d permission%s kept</summary>\n", rh_jcount(a, "kept"),
		    rh_jcount(a, "kept") == 1 ? "" : "s");
		perm_table(w, kc_json_path(a, "kept"), "kept");
		rh_raw(w, "</details>\n");
	}
	kc_buf_free(&tmp);
	kc_buf_free(&label);
	kc_nsindex_free(&dfx);
}

static void
diff_findings(struct w *w, const cJSON *d)
{
	rh_raw(w, "<h3>Findings</h3>\n");
	rh_rawf(w, "<h4 class=\"bad\">Flagged permissions kept or gained (AGR-025): %d</h4>\n",
	    rh_jcount(d, "findings.regressions"));
	rh_findings_table(w, "findings-regressions", kc_json_path(d, "findings.regressions"), 1, 0);
	rh_rawf(w, "<h4>New: %d</h4>\n", rh_jcount(d, "findings.new"));
	rh_findings_table(w, "findings-new", kc_json_path(d, "findings.new"), 1, 0);
	rh_rawf(w, "<h4>Persisting: %d</h4>\n", rh_jcount(d, "findings.persisting"));
	rh_findings_table(w, "findings-persisting", kc_json_path(d, "findings.persisting"), 1, 0);
	rh_rawf(w, "<h4 class=\"good\">Resolved: %d</h4>\n", rh_jcount(d, "findings.resolved"));
	rh_findings_table(w, "findings-resolved", kc_json_path(d, "findings.resolved"), 1, 0);
}

static void
diff_objects_pods(struct w *w, const cJSON *d)
{
	rh_raw(w, "<h3>RBAC objects</h3>\n");
	rbac_objects(w, kc_json_path(d, "rbac_objects"));

	rh_rawf(w, "<h3>Agent pods older than the remediation: %d</h3>\n", rh_jcount(d, "stale_pods"));
	if (rh_jcount(d, "stale_pods") > 0) {
		rh_raw(w, "<p class=\"sub\">They may still hold tokens issued before the change: restart them "
		    "(the briefing's recovery note).</p>\n");
		rh_generic_table(w, kc_json_path(d, "stale_pods"), "stale-pods");
	} else {
		rh_raw(w, "<p class=\"note\">None.</p>\n");
	}
}

static void
diff_audit(struct w *w, const cJSON *d)
{
	if (kc_json_path(d, "audit.continuity") != NULL &&
	    !(strcmp(kc_json_str0(kc_json_path(d, "audit.continuity.pre"), "state"), "none") == 0 &&
	    strcmp(kc_json_str0(kc_json_path(d, "audit.continuity.post"), "state"), "none") == 0)) {
		const cJSON *co = kc_json_path(d, "audit.continuity");

		rh_raw(w, "<h3>Audit continuity</h3>\n");
		if (rh_jtrue(co, "differs"))
			rh_raw(w, "<p class=\"note\"><strong>PRE and POST differ in audit continuity.</strong></p>\n");
		rh_raw(w, "<table class=\"continuity\"><thead><tr><th></th><th>state</th><th>continuity</th></tr></thead><tbody>\n");
		for (int k = 0; k < 2; k++) {
			const cJSON *s = kc_json_get(co, k ? "post" : "pre");

			rh_rawf(w, "<tr><td>%s</td><td>", k ? "POST" : "PRE");
			rh_text(w, kc_json_str0(s, "state"));
			rh_raw(w, "</td><td>");
			rh_text(w, kc_json_str0(s, "summary"));
			rh_raw(w, "</td></tr>\n");
		}
		rh_raw(w, "</tbody></table>\n");
	}
	rh_raw(w, "<h3>Audit after the remediation</h3>\n");
	if (!rh_jtrue(d, "audit.post_segment"))
		rh_raw(w, "<p class=\"note\">The POST bundle carries no audit segment: denials and reads after "
		    "the remediation cannot be shown.</p>\n");
	rh_rawf(w, "<h4>Denied requests by agents: %d</h4>\n", (int)rh_jnum(d, "audit.denied_total", 0));
	if (kc_json_path(d, "audit.reads_determinable") != NULL && !rh_jtrue(d, "audit.reads_determinable")) {
		rh_raw(w, "<p class=\"bad\" id=\"reads-not-determinable\">Reads (get, list, watch) are <b>not determinable "
		    "from these sources</b>: ");
		rh_text(w, kc_json_str0(kc_json_get(d, "summary"), "reads_note"));
		rh_raw(w, ". Denied reads are missing from the count above.</p>\n");
		if (rh_jcount(d, "audit.reads_blind") > 0)
			rh_generic_table(w, kc_json_path(d, "audit.reads_blind"), "reads-blind");
	}
	if (rh_jcount(d, "audit.denied") > 0) {
		rh_raw(w, "<p class=\"sub\">Signs of over-restriction to review (briefing step 4).</p>\n");
		rh_generic_table(w, kc_json_path(d, "audit.denied"), "denied");
	}
	/* beside the denials: what the agents' own logs say (rbac/logauthz.h) */
	if (kc_json_get(d, "log_authz_errors") == NULL) {
		/* neither bundle has pod logs: nothing to show beside the denials */
	} else if (!rh_jtrue(d, "log_authz_errors.collected_post")) {
		rh_raw(w, "<h4 id=\"diff-log-authz\">Authorization errors in agent pod logs</h4>\n"
		    "<p class=\"note\">The POST bundle carries no pod logs.</p>\n");
	} else {
		const cJSON *a;

		rh_rawf(w, "<h4 id=\"diff-log-authz\">Authorization errors in agent pod logs (POST): %d</h4>\n",
		    (int)rh_jnum(d, "log_authz_errors.post_total", 0));
		cJSON_ArrayForEach(a, kc_json_path(d, "log_authz_errors.agents")) {
			rh_raw(w, "<p class=\"sub\">");
			rh_text(w, kc_json_str0(a, "sa"));
			rh_rawf(w, ": %d in POST", (int)rh_jnum(a, "post", 0));
			if (kc_json_get(a, "pre") != NULL)
				rh_rawf(w, ", %d in PRE", (int)rh_jnum(a, "pre", 0));
			else
				rh_raw(w, ", PRE has no pod logs");
			rh_raw(w, "</p>\n");
			if (rh_jcount(a, "lines") > 0)
				rh_generic_table(w, kc_json_get(a, "lines"), "diff-log-authz-lines");
		}
	}
}

	/* The verdict is the diff's (summary.policy_bypass_reads, each row's
	 * "escalate"); this page only shows it, never decides it. */
static void
diff_sensitive_reads(struct w *w, const cJSON *d)
{
	int nsens = rh_jcount(d, "audit.sensitive_reads_after_remediation");
	int nbypass = (int)rh_jnum(d, "summary.policy_bypass_reads", 0);

	if (kc_json_str(kc_json_path(d, "summary"), "sensitive_reads_after_remediation") != NULL) {
		rh_raw(w, "<h4>Sensitive reads after the remediation: <span data-kc=\"summary."
		    "sensitiveReadsAfterRemediation\">");
		rh_text(w, kc_json_str(kc_json_path(d, "summary"), "sensitive_reads_after_remediation"));
		rh_raw(w, "</span></h4>\n");
	} else {
		rh_rawf(w, "<h4>Sensitive reads after the remediation: <span data-kc=\"summary."
		    "sensitiveReadsAfterRemediation\">%d</span></h4>\n", nsens);
	}
	if (nbypass > 0)
		rh_rawf(w, "<p class=\"bad\">A policy bypass to escalate: <span data-kc=\"summary."
		    "policyBypassReads\">%d</span> of these read a secret, or read data the remediated "
		    "RBAC does not allow (rows with escalate yes).</p>\n", nbypass);
	else if (nsens > 0)
		rh_raw(w, "<p class=\"note\">No policy bypass: each of these reads was allowed by the "
		    "remediated RBAC and none read a secret (escalate no).</p>\n");
	if (nsens > 0)
		rh_generic_table(w, kc_json_path(d, "audit.sensitive_reads_after_remediation"), "sensitive-reads");
}

/* The remediation section of the report and the body of the diff page;
 * pictures: draw an access path per agent from the diff alone. */
void
rh_diff_body(struct w *w, const cJSON *d, int pictures, const char *h)
{
	const cJSON *sum = kc_json_path(d, "summary");

	rh_rawf(w, "<section id=\"remediation\"><%s>Remediation: what changed from PRE to POST</%s>\n", h, h);
	diff_verdict(w, sum);
	if (kc_json_path(d, "breach_assessment") != NULL)
		diff_breach(w, kc_json_path(d, "breach_assessment"));
	diff_cards(w, d, sum);
	diff_bundles(w, d);
	diff_agents_table(w, d);
	diff_agents(w, d, pictures);
	diff_findings(w, d);
	diff_objects_pods(w, d);
	diff_audit(w, d);
	diff_sensitive_reads(w, d);
	rh_raw(w, "</section>\n");
}

int
kc_diff_render_html(const cJSON *d, struct kc_buf *out)
{
	struct w w = { out, 0 };
	const char *schema = kc_json_str(d, "schema");
	struct kc_buf title = KC_BUF_INIT(4096);

	if (schema == NULL || strcmp(schema, "kcustody.diff/v1") != 0)
		return kc_err_set(KC_ERR_INVALID, "not a kcustody.diff/v1 document");
	kc_buf_addf(&title, "kcustody diff: %s %s \xe2\x86\x92 %s", kc_json_str0(kc_json_path(d, "post"), "case"),
	    kc_json_str0(kc_json_path(d, "pre"), "phase"), kc_json_str0(kc_json_path(d, "post"), "phase"));
	rh_page_open(&w, kc_buf_str(&title));
	rh_raw(&w, "<header><h1>Remediation record");
	if (kc_json_str(kc_json_path(d, "post"), "case") != NULL) {
		rh_raw(&w, ": case ");
		rh_text(&w, kc_json_str(kc_json_path(d, "post"), "case"));
	}
	rh_raw(&w, "</h1><p class=\"sub\">");
	rh_text(&w, kc_json_str0(kc_json_path(d, "pre"), "phase"));
	rh_raw(&w, " <code>");
	rh_text(&w, kc_json_str0(kc_json_path(d, "pre"), "path"));
	rh_raw(&w, "</code> \xe2\x86\x92 ");
	rh_text(&w, kc_json_str0(kc_json_path(d, "post"), "phase"));
	rh_raw(&w, " <code>");
	rh_text(&w, kc_json_str0(kc_json_path(d, "post"), "path"));
	rh_raw(&w, "</code></p></header>\n");
	rh_diff_body(&w, d, 1, "h2");
	rh_page_close(&w, 0);
	kc_buf_free(&title);
	if (w.err != 0)
		return kc_err_set(w.err, w.err == KC_ERR_NOMEM ? "out of memory" :
		    "the page would be larger than %zu bytes", out->max);
	return 0;
}

