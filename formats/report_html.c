/* report_html.c - the HTML evidence report (report_html.h): the page,
 * its banners and summary cards, and the access paths of the agents.
 * The other report_*.c files hold the parts (report_int.h lists them). */
#include <stdio.h>
#include <string.h>

#include "formats/report_int.h"
#include "manifest/auditchain_bundle.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"

/* ------------------------------------------------------------------ */
/* access paths */

void
rh_legend(struct w *w, int with_diff)
{
	rh_raw(w, "<p class=\"legend\"><span class=\"sw danger\"></span>high or critical finding "
	    "(the whole path to it is red)<span class=\"sw warn\"></span>medium finding"
	    "<span class=\"sw normal\"></span>no finding<span class=\"sw muted\"></span>folded, no finding");
	if (with_diff)
		rh_raw(w, "<span class=\"sw removed\"></span>removed by the remediation (struck through, "
		    "cut edge)<span class=\"sw added\"></span>new after the remediation");
	rh_raw(w, "</p>\n");
}

void
rh_agent_heading(struct w *w, const char *ns, const char *name, const cJSON *dagent, const cJSON *ident)
{
	const cJSON *ag;

	rh_raw(w, "<h3>");
	rh_text(w, ns);
	rh_raw(w, "/");
	rh_text(w, name);
	/* the agent custom resources that run as it (rbac/agentcr.h) */
	cJSON_ArrayForEach(ag, kc_json_get(ident, "agentResources")) {
		rh_raw(w, " <span class=\"pill\">");
		rh_text(w, kc_json_str0(ag, "text"));
		rh_raw(w, "</span>");
	}
	if (dagent != NULL) {
		rh_rawf(w, " <span class=\"pill ok\">%d removed</span> <span class=\"pill new\">%d added</span> "
		    "<span class=\"pill skip\">%d kept</span>", (int)rh_jnum(dagent, "counts.removed", 0),
		    (int)rh_jnum(dagent, "counts.added", 0), (int)rh_jnum(dagent, "counts.kept", 0));
		if (rh_jtrue(dagent, "secrets_before") && !rh_jtrue(dagent, "secrets_after"))
			rh_raw(w, " <span class=\"pill ok\">no longer reads secrets</span>");
		else if (rh_jtrue(dagent, "secrets_after"))
			rh_raw(w, " <span class=\"pill bad\">still reads secrets</span>");
	}
	rh_raw(w, "</h3>\n");
}

static void
access_section(struct w *w, const struct bundle *b, const cJSON *diff)
{
	const cJSON *s, *a;
	struct kc_buf tmp = KC_BUF_INIT(1u << 20), label = KC_BUF_INIT(4096);
	struct kc_nsindex dfx = { NULL, 0, 0, 0 }, aidx = { NULL, 0, 0, 0 };
	int n = 0;

	rh_raw(w, "<section id=\"access-paths\"><h2>Access paths of the agent identities</h2>\n");
	rh_raw(w, "<p class=\"sub\">For each selected service account: the bindings that name it (or a "
	    "group it is in), the role each binding grants, and the rules of that role, as the "
	    "offline evaluator resolved them in this snapshot");
	if (diff != NULL)
		rh_raw(w, ", with what the remediation removed since the PRE bundle");
	rh_raw(w, ". Hover a box for its full text.</p>\n");
	rh_legend(w, diff != NULL);
	if (diff != NULL) {
		rh_findex_diff(&dfx, diff);
		rh_findex_add_named(&aidx, kc_json_path(diff, "agents"));
		kc_nsindex_sort(&aidx);
	}
	cJSON_ArrayForEach(s, kc_json_path(b->selection, "selected")) {
		const char *ns = kc_json_str0(s, "namespace"), *name = kc_json_str0(s, "name");
		const cJSON *da = rh_diff_agent(&aidx, ns, name);
		struct tree t = { 0 };

		rh_tree_from_grants(&t, b, ns, name, &tmp);
		if (da != NULL)
			rh_tree_overlay_diff(&t, da, &dfx, &tmp);
		rh_agent_heading(w, ns, name, da, kc_json_get(s, "agentResources") != NULL ? s : da);
		kc_buf_reset(&label);
		kc_buf_addf(&label, "Access path of ServiceAccount %s/%s", ns, name);
		rh_tree_render(w, &t, kc_buf_str(&label));
		rh_tree_free(&t);
		n++;
	}
	/* agents the diff knows but this bundle did not select */
	cJSON_ArrayForEach(a, kc_json_path(diff, "agents")) {
		const char *ns = kc_json_str0(a, "namespace"), *name = kc_json_str0(a, "name");
		struct tree t = { 0 };

		if (rh_is_agent(b, ns, name))
			continue;
		rh_agent_heading(w, ns, name, a, a);
		rh_raw(w, "<p class=\"note\">Not selected in this bundle; drawn from the diff.</p>\n");
		rh_tree_from_diff(&t, a, &dfx, &tmp);
		kc_buf_reset(&label);
		kc_buf_addf(&label, "Access path of ServiceAccount %s/%s", ns, name);
		rh_tree_render(w, &t, kc_buf_str(&label));
		rh_tree_free(&t);
		n++;
	}
	if (n == 0)
		rh_raw(w, "<p class=\"note\">No agent identity was selected in this bundle.</p>\n");
	rh_raw(w, "</section>\n");
	kc_nsindex_free(&dfx);
	kc_nsindex_free(&aidx);
	kc_buf_free(&tmp);
	kc_buf_free(&label);
}

/* ------------------------------------------------------------------ */
/* the report page */

static void
triage_banner(struct w *w, const struct bundle *b)
{
	const char *t = kc_json_str(b->findings, "triage");
	const char *why = kc_json_str(b->findings, "triageReason");

	if (t == NULL)
		t = kc_json_str(kc_json_path(b->manifest, "findings_summary"), "triage");
	if (why == NULL)
		why = kc_json_str(kc_json_path(b->manifest, "findings_summary"), "triageReason");
	if (t == NULL)
		return;
	rh_rawf(w, "<div class=\"banner %s\" id=\"triage\"><span class=\"big\">", strcmp(t, "URGENT") == 0 ?
	    "bad" : "info");
	rh_text(w, t);
	rh_raw(w, "</span>");
	rh_text(w, why);
	if (rh_jcount(b->findings, "secretReaders") > 0) {
		rh_raw(w, "<p>Agent identities that can read secrets: <strong>");
		rh_jlist(w, kc_json_path(b->findings, "secretReaders"), ", ");
		rh_raw(w, "</strong></p>");
	}
	rh_raw(w, "</div>\n");
}

/* The copied audit-sink chain does not verify. */
static int
rh_chain_broken(const struct bundle *b)
{
	return b->continuity != NULL && strcmp(kc_json_str0(b->continuity, "state"), "broken") == 0;
}

static void
summary_cards(struct w *w, const struct kc_report_in *in, const struct bundle *b)
{
	const cJSON *fc = kc_json_path(b->findings, "counts");
	char nb[96], note[128];
	int crit = (int)rh_jnum(fc, "critical", 0), high = (int)rh_jnum(fc, "high", 0);
	int total = 0, bad = 0;
	const cJSON *x;
	const char *st = kc_json_str(b->manifest, "status");

	cJSON_ArrayForEach(x, fc)
		total += cJSON_IsNumber(x) ? (int)x->valuedouble : 0;
	rh_raw(w, "<div class=\"cards\" id=\"summary\">\n");
	if (in->vr != NULL && in->vr->valid && rh_chain_broken(b))
		rh_card(w, "bad", "verification", "INVALID", "audit chain broken");
	else
		rh_card(w, in->vr == NULL ? "warn" : in->vr->valid ? "ok" : "bad", "verification",
		    in->vr == NULL ? "not verified" : in->vr->valid ? "valid" :
		    rh_unverified_only(in->vr) ? "unverified (no key given)" : "INVALID",
		    in->vr != NULL && in->vr->valid && in->vr->checks[KC_CHECK_SIGNATURE].state != KC_CHECK_OK ?
		    "signature not checked" : NULL);
	if (kc_json_str(b->findings, "triage") != NULL)
		rh_card(w, strcmp(kc_json_str(b->findings, "triage"), "URGENT") == 0 ? "bad" : "", "triage",
		    kc_json_str(b->findings, "triage"), NULL);
	/* the cards' numbers and notes: display text */
	kc_fmt_trunc(nb, sizeof(nb), "%d", total);
	kc_fmt_trunc(note, sizeof(note), "%d critical, %d high", crit, high);
	rh_card(w, crit + high > 0 ? "bad" : "", "findings", nb, note);
	kc_fmt_trunc(nb, sizeof(nb), "%d", rh_jcount(b->selection, "selected"));
	rh_card(w, "", "agents selected", nb, NULL);
	cJSON_ArrayForEach(x, kc_json_path(b->manifest, "items")) {
		const char *s = kc_json_str0(x, "status");

		bad += strcmp(s, "complete") != 0 && strcmp(s, "skipped") != 0;
	}
	kc_fmt_trunc(note, sizeof(note), "%d item%s not complete", bad, bad == 1 ? "" : "s");
	rh_card(w, st != NULL && strcmp(st, "complete") == 0 ? "ok" : "bad", "collection", st,
	    bad ? note : NULL);
	if (b->sources != NULL) {
		rh_fmt_num(nb, sizeof(nb), rh_jnum(b->sources, "totals.matched", 0));
		kc_fmt_trunc(note, sizeof(note), "%d gap%s, %.0f malformed", rh_jcount(b->sources, "gaps"),
		    rh_jcount(b->sources, "gaps") == 1 ? "" : "s",
		    rh_jnum(b->sources, "totals.malformed", 0));
		rh_card(w, rh_jcount(b->sources, "gaps") > 0 ? "warn" : "", "audit events", nb, note);
	}
	if (in->diff != NULL) {
		const char *v = kc_json_str(kc_json_path(in->diff, "summary"), "verdict");
		const char *ba = kc_json_str(kc_json_path(in->diff, "breach_assessment"), "verdict");

		kc_fmt_trunc(note, sizeof(note), "%.0f permissions removed, %.0f added",
		    rh_jnum(in->diff, "summary.permissions_removed", 0), rh_jnum(in->diff, "summary.permissions_added", 0));
		rh_card_kc(w, rh_verdict_class(v), "remediation", v, note, "summary.verdict");
		if (ba != NULL)
			rh_card_kc(w, strcmp(ba, "URGENT") == 0 ? "bad" : "", "breach assessment", ba, NULL,
			    "breachAssessment.verdict");
	}
	if (in->recert != NULL) {
		int within = rh_jtrue(in->recert, "withinScope");

		kc_fmt_trunc(note, sizeof(note), "%.0f of %.0f agents beyond scope, %.0f missing on either side",
		    rh_jnum(in->recert, "summary.beyondScope", 0), rh_jnum(in->recert, "summary.agents", 0),
		    rh_jnum(in->recert, "summary.agentsMissingFromScope", 0) +
		    rh_jnum(in->recert, "summary.scopeEntriesWithoutAgent", 0));
		rh_card(w, within ? "ok" : "bad", "recertification", within ? "within scope" : "NOT within scope",
		    note);
	} else if (in->recert_error != NULL) {
		rh_card(w, "warn", "recertification", "not judged", NULL);
	}
	rh_raw(w, "</div>\n");
}

/* The page's header: case, phase, bundle, cluster, collection time. */
static void
report_header(struct w *w, const struct kc_report_in *in, const struct bundle *b)
{
	const cJSON *cs = kc_json_path(b->manifest, "case");

	rh_raw(w, "<header><h1>Evidence report");
	if (kc_json_str(cs, "id") != NULL) {
		rh_raw(w, ": case ");
		rh_text(w, kc_json_str(cs, "id"));
	}
	rh_raw(w, "</h1><p class=\"sub\">");
	if (kc_json_str(cs, "phase") != NULL) {
		rh_raw(w, "phase <strong>");
		rh_text(w, kc_json_str(cs, "phase"));
		rh_raw(w, "</strong> \xc2\xb7 ");
	}
	rh_raw(w, "bundle <code>");
	rh_text(w, b->top[0] ? b->top : in->bundle_path);
	rh_raw(w, "</code>");
	if (kc_json_str(kc_json_path(b->manifest, "cluster"), "server") != NULL) {
		rh_raw(w, " \xc2\xb7 cluster <code>");
		rh_text(w, kc_json_str(kc_json_path(b->manifest, "cluster"), "server"));
		rh_raw(w, "</code>");
	}
	if (kc_json_str(kc_json_path(b->manifest, "times"), "finished") != NULL) {
		rh_raw(w, " \xc2\xb7 collected ");
		rh_text(w, kc_json_str(kc_json_path(b->manifest, "times"), "finished"));
	}
	rh_raw(w, "</p></header>\n");
}

/* Verification, custody, triage and remediation banners. */
static void
report_banners(struct w *w, const struct kc_report_in *in, const struct bundle *b)
{
	rh_verify_banner(w, "This bundle", in->vr, in->no_verify_reason);
	if (rh_chain_broken(b)) {
		char first[600];

		/* verify says INVALID (its audit check FAILED): so does the page */
		rh_raw(w, "<div class=\"banner bad\" id=\"audit-chain-banner\"><span class=\"big\">AUDIT CHAIN "
		    "BROKEN</span>The audit-sink chain copied into this bundle does not verify");
		if (kc_achain_first_tampering(b->continuity, first, sizeof(first))[0] != '\0') {
			rh_raw(w, " (");
			rh_text(w, first);
			rh_raw(w, ")");
		}
		rh_raw(w, ": <code>kcustody verify</code> calls the bundle INVALID. See "
		    "<a href=\"#audit-continuity\">Audit continuity</a>.</div>\n");
	}
	if (in->pre_path != NULL && (in->pre_vr == NULL || !in->pre_vr->valid))
		rh_verify_banner(w, "The PRE bundle", in->pre_vr, in->no_verify_reason);
	if (!in->ledger_skipped && in->ledger_status != 0 &&
	    !(in->ledger_status == KC_ERR_NOTFOUND && in->ledger_path == NULL))
		rh_raw(w, "<div class=\"banner bad\" id=\"custody-banner\"><span class=\"big\">CUSTODY CHAIN "
		    "BROKEN</span>The custody ledger does not verify or cannot be read: see "
		    "<a href=\"#custody\">Case and collection</a>.</div>\n");
	triage_banner(w, b);
	if (in->diff_error != NULL) {
		rh_raw(w, "<div class=\"banner warn\"><span class=\"big\">NO REMEDIATION SECTION</span>");
		rh_text(w, in->diff_error);
		rh_raw(w, "</div>\n");
	}
}

/* Why some or all of the bundle is not shown: one item per problem. */
static void
read_problems(struct w *w, const struct bundle *b)
{
	rh_raw(w, "<div class=\"problems\" id=\"read-problems\"><strong>Not everything could be shown"
	    "</strong><ul class=\"plain\">");
	for (const char *p = kc_buf_str(&b->problems), *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
		struct kc_buf one = KC_BUF_INIT(1u << 20);

		nl = strchr(p, '\n');
		kc_buf_add(&one, p, nl ? (size_t)(nl - p) : strlen(p));
		rh_raw(w, "<li>");
		rh_text(w, kc_buf_str(&one));
		rh_raw(w, "</li>");
		kc_buf_free(&one);
	}
	rh_raw(w, "</ul></div>\n");
}

static void
report_toc(struct w *w, const struct kc_report_in *in)
{
	rh_raw(w, "<nav class=\"toc\"><a href=\"#access-paths\">Access paths</a>");
	if (in->diff != NULL)
		rh_raw(w, "<a href=\"#remediation\">Remediation</a>");
	if (in->recert != NULL || in->recert_error != NULL)
		rh_raw(w, "<a href=\"#recertification\">Recertification</a>");
	rh_raw(w, "<a href=\"#findings-section\">Findings</a><a href=\"#inventory\">Inventory</a>"
	    "<a href=\"#who-can\">Who can</a><a href=\"#audit\">Audit segment</a>"
	    "<a href=\"#items\">Collection items</a><a href=\"#custody\">Case and custody</a>"
	    "<a href=\"#verification\">Verification</a></nav>\n");
}

static void
report_sections(struct w *w, const struct kc_report_in *in, const struct bundle *b)
{
	if (!b->unreadable) {
		access_section(w, b, in->diff);
		if (in->diff != NULL)
			rh_diff_body(w, in->diff, 0, "h2");
		rh_recert_section(w, in);
		rh_findings_section(w, b);
		rh_inventory_section(w, b);
		rh_whocan_section(w, b);
		rh_audit_section(w, b);
		rh_items_section(w, b);
		rh_case_section(w, in, b);
	} else {
		/* the tools that look for the findings table still find one */
		rh_raw(w, "<section id=\"findings-section\"><h2>Findings by severity</h2>"
		    "<p class=\"note\">The bundle could not be read.</p>\n");
		rh_findings_table(w, "findings", NULL, 0, 1);
		rh_raw(w, "</section>\n");
		rh_recert_section(w, in);
	}
}

static void
verification_section(struct w *w, const struct kc_report_in *in)
{
	rh_raw(w, "<section id=\"verification\"><h2>Verification</h2>\n");
	rh_verify_table(w, "This bundle", in->bundle_path, in->vr, in->no_verify_reason);
	if (in->pre_path != NULL)
		rh_verify_table(w, "PRE bundle (for the remediation section)", in->pre_path, in->pre_vr,
		    in->no_verify_reason);
	rh_raw(w, "<p class=\"note\">Checked without trusting any key inside the bundle. To repeat it "
	    "with standard tools, follow VERIFY.txt inside the bundle.</p>\n</section>\n");
}

int
kc_report_html(const struct kc_report_in *in, struct kc_buf *out)
{
	struct bundle b;
	struct w w = { out, 0 };
	struct kc_buf title = KC_BUF_INIT(4096);
	const cJSON *cs;

	memset(&b, 0, sizeof(b));
	if (in == NULL || in->bundle_path == NULL)
		return kc_err_set(KC_ERR_INVALID, "report: no bundle");
	/* what is shown is the file whose SHA-256 the page names, verified
	 * or not (--no-verify, INVALID): another file shows nothing */
	if (in->vr != NULL && in->vr->valid)
		rh_bundle_read(in->bundle_path, in->vr->sha256, 1, in->audit_chain_pubkey, in->audit_chain_tsa_ca, &b);
	else
		rh_bundle_read(in->bundle_path, in->bundle_sha256 != NULL && in->bundle_sha256[0] != '\0' ?
		    in->bundle_sha256 : NULL, 0, in->audit_chain_pubkey, in->audit_chain_tsa_ca, &b);
	if (b.changed) {
		/* no page that names one file (and perhaps calls it VALID)
		 * beside another: the caller says so and exits INVALID */
		rh_bundle_free(&b);
		return kc_err_set(KC_ERR_VERIFY, "'%s' changed while the report read it (its SHA-256 is no longer "
		    "the one verified or named)", in->bundle_path);
	}
	if (in->audit_chain_broken != NULL)
		*in->audit_chain_broken = rh_chain_broken(&b);
	cs = kc_json_path(b.manifest, "case");
	kc_buf_addf(&title, "kcustody report: %s %s", kc_json_str(cs, "id") ? kc_json_str(cs, "id") :
	    "(unknown case)", kc_json_str0(cs, "phase"));
	rh_page_open(&w, kc_buf_str(&title));
	report_header(&w, in, &b);
	report_banners(&w, in, &b);
	if (b.problems.len > 0)
		read_problems(&w, &b);
	summary_cards(&w, in, &b);
	report_toc(&w, in);
	report_sections(&w, in, &b);
	verification_section(&w, in);
	rh_page_close(&w, in->generated);
	kc_buf_free(&title);
	rh_bundle_free(&b);
	if (w.err != 0)
		return kc_err_set(w.err, w.err == KC_ERR_NOMEM ? "out of memory" :
		    "the report would be larger than %zu bytes", out->max);
	return 0;
}

