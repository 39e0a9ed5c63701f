/* report_custody.c - the verification banner and table, the custody ledger,
 * and the case, collector and cluster section. */
#include <stdio.h>
#include <string.h>

#include "formats/report_int.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"

/* ------------------------------------------------------------------ */
/* verification */

static const char *
check_state(enum kc_check_state s)
{
	return s == KC_CHECK_OK ? "ok" : s == KC_CHECK_FAILED ? "FAILED" : "skipped";
}

static const struct kc_check *
first_failed(const struct kc_verify_result *vr)
{
	for (int i = 0; i < KC_CHECK_COUNT; i++)
		if (vr->checks[i].state == KC_CHECK_FAILED)
			return &vr->checks[i];
	return NULL;
}

/* Everything checked out but the signature, which could not be checked
 * because no trusted key was given: not INVALID, UNVERIFIED. */
int
rh_unverified_only(const struct kc_verify_result *vr)
{
	if (vr == NULL || vr->valid || !vr->no_key)
		return 0;
	for (int i = 0; i < KC_CHECK_COUNT; i++)
		if (i != KC_CHECK_SIGNATURE && vr->checks[i].state == KC_CHECK_FAILED)
			return 0;
	return vr->checks[KC_CHECK_STRUCTURE].state == KC_CHECK_OK;
}

void
rh_verify_banner(struct w *w, const char *what, const struct kc_verify_result *vr, const char *why)
{
	if (rh_unverified_only(vr)) {
		rh_raw(w, "<div class=\"banner warn\" id=\"verification-banner\"><span class=\"big\">UNVERIFIED"
		    "</span>");
		rh_text(w, what);
		rh_raw(w, ": structure, hashes and manifest check out, but the signature was not checked "
		    "(no key given: pass --pubkey or --ca). Nothing on this page is attested by a signer.</div>\n");
	} else if (vr == NULL) {
		rh_raw(w, "<div class=\"banner warn\" id=\"verification-banner\"><span class=\"big\">NOT VERIFIED</span>");
		rh_text(w, what);
		rh_raw(w, " was not checked");
		if (why != NULL) {
			rh_raw(w, " (");
			rh_text(w, why);
			rh_raw(w, ")");
		}
		rh_raw(w, ": nothing on this page is attested by its hashes or its signature.</div>\n");
	} else if (vr->valid) {
		const struct kc_check *sig = &vr->checks[KC_CHECK_SIGNATURE];

		rh_raw(w, "<div class=\"banner ok\" id=\"verification-banner\"><span class=\"big\">VALID</span>");
		rh_text(w, what);
		rh_raw(w, ": structure, hashes and manifest check out");
		if (sig->state == KC_CHECK_OK) {
			rh_raw(w, "; signed by <code>");
			rh_text(w, vr->signer[0] ? vr->signer : "(unnamed signer)");
			rh_raw(w, "</code>");
		} else {
			rh_raw(w, "; <strong>signature not checked</strong> (integrity only)");
		}
		if (vr->checks[KC_CHECK_TIMESTAMP].state == KC_CHECK_OK && vr->tsa_time[0]) {
			rh_raw(w, "; time-stamped ");
			rh_text(w, vr->tsa_time);
		}
		rh_raw(w, ".</div>\n");
	} else {
		const struct kc_check *f = first_failed(vr);

		rh_raw(w, "<div class=\"banner bad\" id=\"verification-banner\"><span class=\"big\">INVALID</span>");
		rh_text(w, what);
		rh_raw(w, " failed verification");
		if (f != NULL) {
			rh_raw(w, ": ");
			rh_text(w, f->name);
			rh_raw(w, " check failed");
			if (f->detail[0]) {
				rh_raw(w, " (");
				rh_text(w, f->detail);
				rh_raw(w, ")");
			}
		}
		rh_raw(w, ".<p>Treat everything below as untrusted: it is shown for the investigation of "
		    "the damage, not as evidence.</p></div>\n");
	}
}

void
rh_verify_table(struct w *w, const char *caption, const char *path, const struct kc_verify_result *vr,
    const char *why)
{
	char nb[64];

	rh_raw(w, "<h3>");
	rh_text(w, caption);
	rh_raw(w, "</h3>\n<table class=\"kv\"><tbody>\n");
	rh_kv_mono(w, "file", path);
	if (vr == NULL) {
		rh_raw(w, "<tr><th>result</th><td><span class=\"pill warn\">not verified</span> ");
		rh_text(w, why != NULL ? why : "");
		rh_raw(w, "</td></tr>\n</tbody></table>\n");
		return;
	}
	rh_rawf(w, "<tr><th>result</th><td><span class=\"pill %s\">%s</span></td></tr>\n",
	    vr->valid ? "ok" : rh_unverified_only(vr) ? "warn" : "bad",
	    vr->valid ? "valid" : rh_unverified_only(vr) ? "unverified (no key given)" : "INVALID");
	rh_kv_mono(w, "top folder", vr->top);
	kc_fmt_trunc(nb, sizeof(nb), "%zu members, %llu bytes", vr->members, (unsigned long long)vr->bytes);
	rh_kv(w, "contents", nb);
	rh_kv(w, "signature kind", vr->sig_kind == KC_SIG_ED25519 ? "Ed25519" : vr->sig_kind == KC_SIG_CMS ?
	    "CMS" : "none");
	rh_kv_mono(w, "signer", vr->signer);
	rh_kv(w, "time-stamp", vr->tsa_time);
	rh_raw(w, "</tbody></table>\n<table class=\"checks\"><thead><tr><th>check</th><th>result</th>"
	    "<th>detail</th></tr></thead><tbody>\n");
	for (int i = 0; i < KC_CHECK_COUNT; i++) {
		const struct kc_check *c = &vr->checks[i];

		rh_raw(w, "<tr><td>");
		rh_text(w, c->name);
		rh_raw(w, "</td><td>");
		rh_rawf(w, "<span class=\"pill %s\">%s</span>", c->state == KC_CHECK_OK ? "ok" :
		    c->state == KC_CHECK_FAILED ? "bad" : "skip", check_state(c->state));
		rh_raw(w, "</td><td>");
		rh_text_or_dash(w, c->detail);
		rh_raw(w, "</td></tr>\n");
	}
	rh_raw(w, "</tbody></table>\n");
}

/* The chain's state, its problems and warnings. */
static void
ledger_summary(struct w *w, const struct kc_report_in *in)
{
	const cJSON *x;

	if (in->ledger_status == 0 && rh_jtrue(in->ledger, "verified"))
		rh_raw(w, "<p><span class=\"pill ok\">chain verified</span> ");
	else
		rh_raw(w, "<p><span class=\"pill bad\">CHAIN BROKEN</span> ");
	rh_rawf(w, "%d entr%s", (int)rh_jnum(in->ledger, "entries", 0),
	    (int)rh_jnum(in->ledger, "entries", 0) == 1 ? "y" : "ies");
	rh_raw(w, rh_jtrue(in->ledger, "trustChecked") ? ", signers checked against a trust list" :
	    ", signatures checked against the keys in the entries (no trust list given)");
	if (kc_json_path(in->ledger, "custodian.name") != NULL) {
		rh_raw(w, "; current custodian: ");
		rh_text(w, kc_json_str(kc_json_path(in->ledger, "custodian"), "name"));
	}
	rh_raw(w, ".</p>\n");
	if (rh_jcount(in->ledger, "problems") > 0) {
		rh_raw(w, "<div class=\"problems\"><strong>Problems</strong><ul class=\"plain\">");
		cJSON_ArrayForEach(x, kc_json_path(in->ledger, "problems")) {
			rh_rawf(w, "<li>line %d: ", (int)rh_jnum(x, "line", 0));
			rh_text(w, kc_json_str(x, "reason"));
			rh_raw(w, "</li>");
		}
		rh_raw(w, "</ul></div>\n");
	}
	cJSON_ArrayForEach(x, kc_json_path(in->ledger, "warnings")) {
		rh_rawf(w, "<p class=\"note\">line %d: ", (int)rh_jnum(x, "line", 0));
		rh_text(w, kc_json_str(x, "reason"));
		rh_raw(w, "</p>\n");
	}
}

/* A recertification decision under its action: what was decided over
 * which scope file and result (docs/RECERTIFY.md). */
static void
ledger_decision(struct w *w, const cJSON *rc)
{
	const cJSON *sm = kc_json_get(rc, "summary");

	if (!cJSON_IsObject(rc))
		return;
	rh_raw(w, "<br/><span class=\"kind\">decision: <strong>");
	rh_text(w, kc_json_str(rc, "decision"));
	rh_raw(w, "</strong>; scope ");
	rh_text(w, kc_json_str(rc, "scope_file"));
	rh_raw(w, " (SHA-256 <code>");
	rh_text(w, kc_json_str(rc, "scope_sha256"));
	/* whole numbers up to 1e15 (the ledger's bound): printed as such, never
	 * cast to int (undefined above INT_MAX) */
	rh_rawf(w, "</code>); %.0f agents: %.0f within scope, %.0f beyond, %.0f missing from the scope file, "
	    "%.0f scope entries without agent</span>", rh_jnum(sm, "agents", 0),
	    rh_jnum(sm, "within_scope", 0), rh_jnum(sm, "beyond_scope", 0),
	    rh_jnum(sm, "missing_from_scope", 0), rh_jnum(sm, "scope_entries_without_agent", 0));
}

/* One entry of the ledger's history as a table row. */
static void
ledger_row(struct w *w, const cJSON *e)
{
	const char *sig = kc_json_str0(e, "signature");

	rh_rawf(w, "<tr><td class=\"num\">%d</td><td>", (int)rh_jnum(e, "seq", 0));
	rh_text_or_dash(w, kc_json_str(e, "time"));
	rh_raw(w, "</td><td><strong>");
	rh_text_or_dash(w, kc_json_str(e, "action"));
	rh_raw(w, "</strong>");
	ledger_decision(w, kc_json_get(e, "recertification"));
	rh_raw(w, "</td><td>");
	rh_text_or_dash(w, kc_json_str(kc_json_path(e, "actor"), "name"));
	if (rh_jhas(e, "actor.organisation")) {
		rh_raw(w, " <span class=\"kind\">(");
		rh_text(w, kc_json_str(kc_json_path(e, "actor"), "organisation"));
		rh_raw(w, ")</span>");
	}
	if (rh_jhas(e, "actor.trustedAs")) {
		rh_raw(w, "<br/><span class=\"kind\">trusted as ");
		rh_text(w, kc_json_str(kc_json_path(e, "actor"), "trustedAs"));
		rh_raw(w, "</span>");
	}
	rh_raw(w, "</td><td><code>");
	rh_text_or_dash(w, kc_json_str(kc_json_path(e, "actor"), "key_fingerprint"));
	rh_raw(w, "</code></td><td>");
	rh_text(w, kc_json_str(e, "from"));
	if (rh_jhas(e, "from") || rh_jhas(e, "to"))
		rh_raw(w, " \xe2\x86\x92 ");
	rh_text(w, kc_json_str(e, "to"));
	rh_raw(w, "</td><td>");
	rh_text_or_dash(w, kc_json_str(e, "purpose"));
	rh_raw(w, "</td><td>");
	rh_text_or_dash(w, kc_json_str(e, "location"));
	rh_raw(w, "</td><td>");
	rh_text_or_dash(w, kc_json_str(e, "method"));
	rh_raw(w, "</td><td>");
	rh_rawf(w, "<span class=\"pill %s\">", strcmp(sig, "trusted") == 0 || strcmp(sig, "valid") == 0 ?
	    "ok" : strcmp(sig, "untrusted") == 0 ? "warn" : "bad");
	rh_text_or_dash(w, sig);
	rh_raw(w, "</span></td></tr>\n");
}

static void
ledger_history(struct w *w, const cJSON *ledger)
{
	const cJSON *e;
	int rows = 0;

	rh_raw(w, "<table id=\"custody-ledger\"><thead><tr><th class=\"num\">seq</th><th>time (UTC)</th>"
	    "<th>action</th><th>actor</th><th>key</th><th>from \xe2\x86\x92 to</th><th>purpose</th>"
	    "<th>location</th><th>method</th><th>signature</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(e, kc_json_path(ledger, "history")) {
		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		ledger_row(w, e);
	}
	rh_raw(w, "</tbody></table>\n");
	rh_more_rows(w, KC_REPORT_ROWS_MAX, rh_jcount(ledger, "history"));
}

static void
ledger_section(struct w *w, const struct kc_report_in *in)
{
	rh_raw(w, "<h3>Custody ledger</h3>\n");
	if (in->ledger_skipped) {
		rh_raw(w, "<p class=\"note\"><span class=\"pill warn\">not checked</span> (");
		rh_text(w, in->vr == NULL && in->no_verify_reason != NULL ? in->no_verify_reason : "--no-ledger");
		rh_raw(w, ")</p>\n");
		return;
	}
	if (in->ledger_status == KC_ERR_NOTFOUND && in->ledger == NULL) {
		rh_raw(w, "<p class=\"note\">No custody ledger ");
		if (in->ledger_path != NULL) {
			rh_raw(w, "at <code>");
			rh_text(w, in->ledger_path);
			rh_raw(w, "</code>.</p>\n");
		} else {
			rh_raw(w, "beside the bundle (<code>");
			rh_text(w, in->bundle_path);
			rh_raw(w, ".custody.jsonl</code>).</p>\n");
		}
		return;
	}
	if (in->ledger_path != NULL) {
		rh_raw(w, "<p class=\"note\">Ledger <code>");
		rh_text(w, in->ledger_path);
		rh_raw(w, "</code></p>\n");
	}
	if (in->ledger == NULL) {
		rh_raw(w, "<p class=\"bad\">The custody ledger could not be read: ");
		rh_text(w, in->ledger_error != NULL ? in->ledger_error : "unknown error");
		rh_raw(w, "</p>\n");
		return;
	}
	ledger_summary(w, in);
	ledger_history(w, in->ledger);
}

/* ------------------------------------------------------------------ */
/* case, collector, cluster */

static void
case_box(struct w *w, const struct kc_report_in *in, const cJSON *m)
{
	const cJSON *cs = kc_json_path(m, "case");

	rh_raw(w, "<div><h3>Case</h3><table class=\"kv\"><tbody>\n");
	rh_kv(w, "case id", kc_json_str(cs, "id"));
	rh_kv(w, "evidence id", kc_json_str(cs, "evidence_id"));
	rh_kv(w, "phase", kc_json_str(cs, "phase"));
	rh_kv(w, "purpose", kc_json_str(cs, "purpose"));
	rh_kv(w, "authority", kc_json_str(cs, "authority"));
	rh_kv(w, "operator", kc_json_str(cs, "operator"));
	rh_kv_mono(w, "bundle id", kc_json_str(m, "bundle_id"));
	rh_kv_mono(w, "bundle file", in->bundle_path);
	rh_kv_mono(w, "bundle SHA-256", in->bundle_sha256);
	rh_kv(w, "collection status", kc_json_str(m, "status"));
	if (kc_json_path(m, "retention") != NULL) {
		rh_kv_json(w, "retain until", kc_json_path(m, "retention.retain_until"));
		rh_kv_json(w, "legal hold", kc_json_path(m, "retention.legal_hold"));
	}
	rh_raw(w, "</tbody></table></div>\n");
}

static void
collector_box(struct w *w, const cJSON *m)
{
	const cJSON *co = kc_json_path(m, "collector"), *id = kc_json_path(m, "collector_identity");
	const cJSON *os = kc_json_path(co, "os");
	char nb[96];

	rh_raw(w, "<div><h3>Collector</h3><table class=\"kv\"><tbody>\n");
	kc_fmt_trunc(nb, sizeof(nb), "%s %s", kc_json_str0(co, "tool"), kc_json_str0(co, "version"));
	rh_kv(w, "tool", nb);
	rh_kv_mono(w, "executable SHA-256", kc_json_str(co, "executable_sha256"));
	rh_kv(w, "host", kc_json_str(co, "host"));
	kc_fmt_trunc(nb, sizeof(nb), "%s %s %s", kc_json_str0(os, "sysname"), kc_json_str0(os, "release"),
	    kc_json_str0(os, "machine"));
	rh_kv(w, "system", nb);
	rh_kv(w, "OS user", kc_json_str(co, "os_user"));
	rh_kv_mono(w, "run id", kc_json_str(co, "run_id"));
	rh_kv(w, "Kubernetes user", kc_json_str(id, "user"));
	rh_kv(w, "authentication", kc_json_str(id, "auth_method"));
	rh_kv(w, "client certificate", kc_json_str(id, "client_certificate_subject"));
	rh_kv(w, "issued by", kc_json_str(id, "client_certificate_issuer"));
	rh_kv(w, "kubeconfig", kc_json_str(id, "kubeconfig"));
	rh_raw(w, "</tbody></table></div>\n");
}

static void
cluster_box(struct w *w, const cJSON *m)
{
	const cJSON *cl = kc_json_path(m, "cluster");
	char nb[96];
	double off = rh_jnum(m, "cluster.clock.offset_seconds", 0);

	rh_raw(w, "<div><h3>Cluster and times (UTC)</h3><table class=\"kv\"><tbody>\n");
	rh_kv_mono(w, "server", kc_json_str(cl, "server"));
	rh_kv(w, "context", kc_json_str(cl, "context"));
	rh_kv(w, "version", kc_json_str(cl, "version"));
	rh_kv_mono(w, "kube-system UID", kc_json_str(cl, "kube_system_uid"));
	rh_kv_mono(w, "CA SHA-256", kc_json_str(cl, "ca_sha256"));
	rh_rawf(w, "<tr><th>TLS</th><td>%s", rh_jtrue(m, "cluster.tls_verified") ? "verified" :
	    "<span class=\"bad\">NOT verified</span>");
	if (kc_json_str(cl, "http_version")) {
		rh_raw(w, ", ");
		rh_text(w, kc_json_str(cl, "http_version"));
	}
	rh_raw(w, "</td></tr>\n");
	rh_kv(w, "collection started", kc_json_str(kc_json_path(m, "times"), "started"));
	rh_kv(w, "collection finished", kc_json_str(kc_json_path(m, "times"), "finished"));
	rh_kv(w, "server Date header", kc_json_str(kc_json_path(m, "cluster.clock"), "server_date"));
	if (kc_json_path(m, "cluster.clock.offset_seconds") != NULL) {
		kc_fmt_trunc(nb, sizeof(nb), "%+.3f s (server minus local; the Date header has %g s resolution)",
		    off, rh_jnum(m, "cluster.clock.resolution_seconds", 1));
		rh_rawf(w, "<tr><th>clock offset</th><td%s>", off > 5 || off < -5 ? " class=\"bad\"" : "");
		rh_text(w, nb);
		rh_raw(w, "</td></tr>\n");
	} else {
		rh_kv(w, "clock offset", NULL);
	}
	rh_raw(w, "</tbody></table></div>\n");
}

/* The collection's custody event and the collector's warnings. */
static void
collection_notes(struct w *w, const cJSON *m)
{
	if (cJSON_IsObject(kc_json_path(m, "custody"))) {
		const cJSON *x;

		rh_raw(w, "<h3>Collection custody event</h3><table class=\"kv\"><tbody>\n");
		cJSON_ArrayForEach(x, kc_json_path(m, "custody")) {
			rh_raw(w, "<tr><th>");
			rh_text(w, x->string);
			rh_raw(w, "</th><td>");
			rh_jtext(w, x);
			rh_raw(w, "</td></tr>\n");
		}
		rh_raw(w, "</tbody></table>\n");
	}
	if (rh_jcount(m, "warnings") > 0) {
		const cJSON *x;

		rh_raw(w, "<h3>Warnings recorded by the collector</h3><ul class=\"plain\">\n");
		cJSON_ArrayForEach(x, kc_json_path(m, "warnings")) {
			rh_raw(w, "<li class=\"bad\">");
			rh_jtext(w, x);
			rh_raw(w, "</li>\n");
		}
		rh_raw(w, "</ul>\n");
	}
}

void
rh_case_section(struct w *w, const struct kc_report_in *in, const struct bundle *b)
{
	rh_raw(w, "<section id=\"custody\"><h2>Case, collection and custody</h2>\n<div class=\"grid3\">\n");
	case_box(w, in, b->manifest);
	collector_box(w, b->manifest);
	cluster_box(w, b->manifest);
	rh_raw(w, "</div>\n");
	collection_notes(w, b->manifest);
	ledger_section(w, in);
	rh_raw(w, "</section>\n");
}

