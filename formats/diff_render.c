/* diff_render.c - text and Markdown renderings of a kcustody.diff/v1
 * document (the HTML page is formats/report_html.c). */
#include <stdio.h>
#include <string.h>

#include "rbac/diff.h"
#include "rbac/logauthz.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/log.h"

/* Members by util/json.h (the last of duplicate keys): 0, false when
 * absent or of another type. */
static double
jn(const cJSON *o, const char *k)
{
	const cJSON *v = kc_json_get(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int
jb(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(kc_json_get(o, k));
}

/* "get secrets (any name) cluster-wide via ClusterRoleBinding/x -> ClusterRole/y" */
static void
perm_line(struct kc_buf *b, const cJSON *p, const char *prefix)
{
	const cJSON *g;
	const char *grp = kc_json_str0(p, "apiGroup");

	if (kc_json_str0(p, "url")[0] != '\0') {
		kc_buf_addf(b, "%s%s %s (non-resource URL)", prefix, kc_json_str0(p, "verb"), kc_json_str0(p, "url"));
	} else {
		kc_buf_addf(b, "%s%s %s%s%s", prefix, kc_json_str0(p, "verb"), kc_json_str0(p, "resource"),
		    grp[0] ? "." : "", grp);
		if (strcmp(kc_json_str0(p, "name"), "*") != 0)
			kc_buf_addf(b, " name=%s", kc_json_str0(p, "name"));
		if (strcmp(kc_json_str0(p, "namespace"), "*") == 0)
			kc_buf_adds(b, " cluster-wide");
		else
			kc_buf_addf(b, " in %s", kc_json_str0(p, "namespace"));
	}
	cJSON_ArrayForEach(g, kc_json_get(p, "grants")) {
		const cJSON *bd = kc_json_get(g, "binding"), *ro = kc_json_get(g, "role");
		kc_buf_addf(b, "  [%s %s%s%s -> %s %s]", kc_json_str0(bd, "kind"), kc_json_str0(bd, "namespace"),
		    kc_json_str0(bd, "namespace")[0] ? "/" : "", kc_json_str0(bd, "name"), kc_json_str0(ro, "kind"), kc_json_str0(ro, "name"));
	}
	kc_buf_addc(b, '\n');
}

static void
finding_line(struct kc_buf *b, const cJSON *f, const char *prefix)
{
	const cJSON *s = kc_json_get(f, "subject"), *bd = kc_json_get(f, "binding"), *ro = kc_json_get(f, "role");

	kc_buf_addf(b, "%s%s [%s] %s: %s/%s via %s %s -> %s %s (scope %s)\n", prefix, kc_json_str0(f, "id"),
	    kc_json_str0(f, "severity"), kc_json_str0(f, "title"), kc_json_str0(s, "namespace"), kc_json_str0(s, "name"), kc_json_str0(bd, "kind"),
	    kc_json_str0(bd, "name"), kc_json_str0(ro, "kind"), kc_json_str0(ro, "name"), kc_json_str0(f, "scope"));
}

static void
str_list(struct kc_buf *b, const cJSON *arr)
{
	const cJSON *x;
	int first = 1;

	cJSON_ArrayForEach(x, arr) {
		kc_buf_addf(b, "%s%s", first ? "" : ", ", cJSON_IsString(x) ? x->valuestring : "");
		first = 0;
	}
	if (first)
		kc_buf_adds(b, "none");
}

/* The breach assessment: URGENT stays URGENT whatever the remediation did. */
static void
breach_text(struct kc_buf *b, const cJSON *ba)
{
	const cJSON *a;

	if (ba == NULL)
		return;
	kc_buf_addf(b, "breach assessment: %s\n  %s\n", kc_json_str0(ba, "verdict"), kc_json_str0(ba, "reason"));
	cJSON_ArrayForEach(a, kc_json_get(ba, "agents")) {
		if (!jb(a, "could_read_secrets") && cJSON_GetArraySize(kc_json_get(a, "secrets_read")) == 0 &&
		    cJSON_GetArraySize(kc_json_get(a, "secrets_reachable")) == 0)
			continue;
		kc_buf_addf(b, "  %s/%s read (audit): ", kc_json_str0(a, "namespace"), kc_json_str0(a, "name"));
		str_list(b, kc_json_get(a, "secrets_read"));
		kc_buf_adds(b, "; could reach (PRE): ");
		str_list(b, kc_json_get(a, "secrets_reachable"));
		kc_buf_addc(b, '\n');
	}
}

/* The verdicts, the two bundles, the cluster and the remediation time. */
static void
text_head(const cJSON *d, struct kc_buf *b)
{
	const cJSON *pre = kc_json_get(d, "pre"), *post = kc_json_get(d, "post"), *sum = kc_json_get(d, "summary");

	if (!jb(d, "verified"))
		kc_buf_adds(b, "WARNING: bundles NOT verified (--no-verify): this comparison is not evidence\n\n");
	kc_buf_addf(b, "kcustody diff  verdict: %s\n  %s\n", kc_json_str0(sum, "verdict"), kc_json_str0(sum, "verdict_reason"));
	breach_text(b, kc_json_get(d, "breach_assessment"));
	kc_buf_addc(b, '\n');
	kc_buf_addf(b, "PRE   %s\n      sha256 %s  case %s  finished %s  %s  triage %s\n",
	    kc_json_str0(pre, "path"), kc_json_str0(pre, "sha256"), kc_json_str0(pre, "case"), kc_json_str0(pre, "finished"),
	    kc_json_str0(pre, "verification"), kc_json_str0(pre, "triage"));
	kc_buf_addf(b, "POST  %s\n      sha256 %s  case %s  started %s  %s  triage %s\n",
	    kc_json_str0(post, "path"), kc_json_str0(post, "sha256"), kc_json_str0(post, "case"), kc_json_str0(post, "started"),
	    kc_json_str0(post, "verification"), kc_json_str0(post, "triage"));
	kc_buf_addf(b, "cluster kube-system UID %s; remediation time %s (%s)\n\n",
	    kc_json_str0(kc_json_get(d, "cluster"), "kube_system_uid"), kc_json_str0(d, "remediated_at"), kc_json_str0(d, "remediated_at_source"));
}

/* Per agent: the counts and reach, and the permissions that changed (kept
 * permissions are in the JSON). */
/* " (agent kagent.dev/Agent NS/NAME)" for each agent custom resource
 * that runs as the account (rbac/agentcr.h) */
static void md_cell(struct kc_buf *b, const char *s);

/* The server's names: escaped for a terminal, and for a Markdown cell (md). */
static void
agent_idents(const cJSON *a, struct kc_buf *b, int md)
{
	const cJSON *ag;
	char t[1600];

	cJSON_ArrayForEach(ag, kc_json_get(a, "agentResources")) {
		kc_safe_str(kc_json_str0(ag, "text"), t, sizeof(t));
		kc_buf_adds(b, " (");
		if (md)
			md_cell(b, t);
		else
			kc_buf_adds(b, t);
		kc_buf_addc(b, ')');
	}
}

static void
text_agents(const cJSON *d, struct kc_buf *b)
{
	static const char *const sets[] = { "removed", "added" };
	const cJSON *sum = kc_json_get(d, "summary"), *a, *x;

	kc_buf_addf(b, "Permissions: %.0f removed, %.0f added, %.0f kept\n",
	    jn(sum, "permissions_removed"), jn(sum, "permissions_added"), jn(sum, "permissions_kept"));
	cJSON_ArrayForEach(a, kc_json_get(d, "agents")) {
		const cJSON *c = kc_json_get(a, "counts");

		kc_buf_addf(b, "\nAgent %s/%s", kc_json_str0(a, "namespace"), kc_json_str0(a, "name"));
		agent_idents(a, b, 0);
		kc_buf_addf(b, ": %.0f removed, %.0f added, %.0f kept; cluster-wide reach %s -> %s; "
		    "secrets %s -> %s\n", jn(c, "removed"), jn(c, "added"),
		    jn(c, "kept"), jb(a, "cluster_wide_before") ? "yes" : "no",
		    jb(a, "cluster_wide_after") ? "yes" : "no", jb(a, "secrets_before") ? "yes" : "no",
		    jb(a, "secrets_after") ? "YES" : "no");
		for (int k = 0; k < 2; k++) {
			const char *mark = k == 0 ? "  - " : "  + ";
			cJSON_ArrayForEach(x, kc_json_get(a, sets[k]))
				perm_line(b, x, mark);
		}
	}
}

static void
text_findings(const cJSON *d, struct kc_buf *b)
{
	const cJSON *sum = kc_json_get(d, "summary"), *fd = kc_json_get(d, "findings"), *x;

	kc_buf_addf(b, "\nFindings: %.0f resolved, %.0f persisting, %.0f new\n", jn(sum, "findings_resolved"),
	    jn(sum, "findings_persisting"), jn(sum, "findings_new"));
	cJSON_ArrayForEach(x, kc_json_get(fd, "resolved"))
		finding_line(b, x, "  resolved   ");
	cJSON_ArrayForEach(x, kc_json_get(fd, "persisting"))
		finding_line(b, x, "  PERSISTING ");
	cJSON_ArrayForEach(x, kc_json_get(fd, "new"))
		finding_line(b, x, "  NEW        ");
	cJSON_ArrayForEach(x, kc_json_get(fd, "regressions"))
		kc_buf_addf(b, "  AGR-025 [high] %s: %s for %s/%s\n", kc_json_str0(x, "title"), kc_json_str0(kc_json_get(x, "finding"), "id"),
		    kc_json_str0(kc_json_get(kc_json_get(x, "finding"), "subject"), "namespace"), kc_json_str0(kc_json_get(kc_json_get(x, "finding"), "subject"), "name"));
}

/* RBAC objects added, removed and changed, with who changed them. */
static void
text_rbac_objects(const cJSON *ro, struct kc_buf *b)
{
	static const char *const names[] = { "added", "removed", "changed" };
	const cJSON *x, *by, *ch, *c;

	kc_buf_addf(b, "\nRBAC objects: %d added, %d removed, %d changed\n",
	    cJSON_GetArraySize(kc_json_get(ro, "added")), cJSON_GetArraySize(kc_json_get(ro, "removed")),
	    cJSON_GetArraySize(kc_json_get(ro, "changed")));
	for (int k = 0; k < 3; k++) {
		cJSON_ArrayForEach(x, kc_json_get(ro, names[k])) {
			kc_buf_addf(b, "  %-8s %s %s%s%s", names[k], kc_json_str0(x, "kind"), kc_json_str0(x, "namespace"),
			    kc_json_str0(x, "namespace")[0] ? "/" : "", kc_json_str0(x, "name"));
			ch = kc_json_get(x, "changes");
			if (ch != NULL && ch->child != NULL) {
				kc_buf_adds(b, " (changed:");
				cJSON_ArrayForEach(c, ch)
					kc_buf_addf(b, " %s", c->string);
				kc_buf_adds(b, ")");
			}
			cJSON_ArrayForEach(by, kc_json_get(x, "changed_by"))
				kc_buf_addf(b, " by %s (%s %s)", kc_json_str0(by, "manager"), kc_json_str0(by, "operation"), kc_json_str0(by, "time"));
			kc_buf_addc(b, '\n');
		}
	}
}

/* Neither side has audit events (the continuity is not shown then). */
static int
continuity_none(const cJSON *co)
{
	return strcmp(kc_json_str0(kc_json_get(co, "pre"), "state"), "none") == 0 &&
	    strcmp(kc_json_str0(kc_json_get(co, "post"), "state"), "none") == 0;
}

/* The POST audit segment: denials, and reads after the remediation. */
static void
text_audit(const cJSON *sum, const cJSON *au, struct kc_buf *b)
{
	const cJSON *x, *co = kc_json_get(au, "continuity");

	if (co != NULL && !continuity_none(co)) {
		kc_buf_addf(b, "\nAudit continuity%s:\n  PRE:  %s\n  POST: %s\n",
		    jb(co, "differs") ? " (DIFFERS between PRE and POST)" : "",
		    kc_json_str0(kc_json_get(co, "pre"), "summary"), kc_json_str0(kc_json_get(co, "post"), "summary"));
	}
	if (!jb(au, "post_segment")) {
		kc_buf_adds(b, "\nAudit: the POST bundle has no audit segment (collect with --audit-log)\n");
		return;
	}
	kc_buf_addf(b, "\nDenied requests by agents in the POST audit segment: %.0f%s (review for over-restriction)\n",
	    jn(au, "denied_total"), cJSON_IsFalse(kc_json_get(au, "reads_determinable")) ?
	    " (denied reads: not determinable from these sources)" : "");
	cJSON_ArrayForEach(x, kc_json_get(au, "denied"))
		kc_buf_addf(b, "  %s %s %s in %s: %.0f x HTTP %.0f (%s .. %s)\n", kc_json_str0(x, "user"), kc_json_str0(x, "verb"),
		    kc_json_str0(x, "resource"), kc_json_str0(x, "namespace")[0] ? kc_json_str0(x, "namespace") : "(cluster)",
		    jn(x, "count"), jn(x, "code"), kc_json_str0(x, "first"), kc_json_str0(x, "last"));
	if (cJSON_IsString(kc_json_get(sum, "sensitive_reads_after_remediation")))
		kc_buf_addf(b, "Sensitive reads by agents after the remediation time: %s\n",
		    kc_json_str0(sum, "sensitive_reads_after_remediation"));
	else
		kc_buf_addf(b, "Sensitive reads by agents after the remediation time: %.0f, policy bypasses: %.0f%s\n",
		    jn(sum, "sensitive_reads_after_remediation"), jn(sum, "policy_bypass_reads"),
		    jn(sum, "policy_bypass_reads") > 0 ? "  ESCALATE" : "");
	if (kc_json_str0(sum, "reads_note")[0] != '\0')
		kc_buf_addf(b, "  note: %s\n", kc_json_str0(sum, "reads_note"));
	cJSON_ArrayForEach(x, kc_json_get(au, "sensitive_reads_after_remediation"))
		kc_buf_addf(b, "  %s %s %s %s %s%s%s at %s (audit %s)\n",
		    jb(x, "escalate") ? "BYPASS " : "allowed", kc_json_str0(x, "user"), kc_json_str0(x, "verb"),
		    kc_json_str0(x, "resource"), kc_json_str0(x, "namespace"), kc_json_str0(x, "name")[0] ? "/" : "", kc_json_str0(x, "name"),
		    kc_json_str0(x, "time"), kc_json_str0(x, "auditID"));
}

/* Authorization errors in the agents' pod logs, beside the audit's
 * denials (rbac/diff.c log_authz).  A log line is the pod's text:
 * escaped before it reaches a terminal. */
static void
text_logs(const cJSON *lz, struct kc_buf *b)
{
	const cJSON *a, *x;
	char t[KC_LOGAUTHZ_MAX_TEXT * 4 + 8], n[600];

	if (lz == NULL)
		return;	/* neither bundle has pod logs */
	if (!jb(lz, "collected_post")) {
		kc_buf_adds(b, "Authorization errors in agent pod logs: the POST bundle has no pod logs\n");
		return;
	}
	kc_buf_addf(b, "Authorization errors in agent pod logs (POST): %.0f line(s)\n", jn(lz, "post_total"));
	cJSON_ArrayForEach(a, kc_json_get(lz, "agents")) {
		char pre[32] = "not collected";

		if (kc_json_get(a, "pre") != NULL)
			kc_fmt_trunc(pre, sizeof(pre), "%.0f", jn(a, "pre"));
		kc_buf_addf(b, "  %s: %.0f in POST (PRE: %s)%s\n", kc_safe_str(kc_json_str0(a, "sa"), n, sizeof(n)),
		    jn(a, "post"), pre, jn(a, "not_captured") > 0 ? "; some of its logs were not captured" : "");
		cJSON_ArrayForEach(x, kc_json_get(a, "lines"))
			kc_buf_addf(b, "    %s/%s%s line %.0f: %s\n", kc_safe_str(kc_json_str0(x, "pod"), n, sizeof(n)),
			    kc_json_str0(x, "container"), jb(x, "previous") ? " (previous)" : "", jn(x, "line"),
			    kc_safe_str(kc_json_str0(x, "text"), t, sizeof(t)));
	}
}

int
kc_diff_render_text(const cJSON *d, struct kc_buf *b)
{
	const cJSON *sum = kc_json_get(d, "summary"), *x;

	text_head(d, b);
	text_agents(d, b);
	text_findings(d, b);
	text_rbac_objects(kc_json_get(d, "rbac_objects"), b);
	kc_buf_addf(b, "\nAgent pods created before the remediation time (may hold old tokens): %.0f\n",
	    jn(sum, "stale_pods"));
	cJSON_ArrayForEach(x, kc_json_get(d, "stale_pods"))
		kc_buf_addf(b, "  %s/%s (service account %s, created %s)\n", kc_json_str0(x, "namespace"), kc_json_str0(x, "name"),
		    kc_json_str0(x, "serviceAccount"), kc_json_str0(x, "created"));
	text_audit(sum, kc_json_get(d, "audit"), b);
	text_logs(kc_json_get(d, "log_authz_errors"), b);
	return 0;
}

/* Markdown: a pipe in a cell would break the table. */
static void
md_cell(struct kc_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			kc_buf_adds(b, "\\|");
		else if (*s == '\n')
			kc_buf_addc(b, ' ');
		else
			kc_buf_addc(b, *s);
	}
}

int
kc_diff_render_md(const cJSON *d, struct kc_buf *b)
{
	const cJSON *pre = kc_json_get(d, "pre"), *post = kc_json_get(d, "post"), *sum = kc_json_get(d, "summary"), *a, *x;
	const cJSON *fd = kc_json_get(d, "findings"), *au = kc_json_get(d, "audit");

	kc_buf_adds(b, "## kcustody remediation diff\n\n");
	if (!jb(d, "verified"))
		kc_buf_adds(b, "> **WARNING:** bundles not verified (`--no-verify`); this comparison is not evidence.\n\n");
	kc_buf_addf(b, "**Verdict: %s** — ", kc_json_str0(sum, "verdict"));
	md_cell(b, kc_json_str0(sum, "verdict_reason"));
	if (kc_json_get(d, "breach_assessment") != NULL) {
		const cJSON *ba = kc_json_get(d, "breach_assessment");

		kc_buf_addf(b, "\n\n**Breach assessment: %s** — ", kc_json_str0(ba, "verdict"));
		md_cell(b, kc_json_str0(ba, "reason"));
		cJSON_ArrayForEach(a, kc_json_get(ba, "agents")) {
			if (cJSON_GetArraySize(kc_json_get(a, "secrets_read")) == 0 &&
			    cJSON_GetArraySize(kc_json_get(a, "secrets_reachable")) == 0 && !jb(a, "could_read_secrets"))
				continue;
			kc_buf_addf(b, "\n- %s/%s read (audit): ", kc_json_str0(a, "namespace"), kc_json_str0(a, "name"));
			str_list(b, kc_json_get(a, "secrets_read"));
			kc_buf_adds(b, "; could reach (PRE): ");
			str_list(b, kc_json_get(a, "secrets_reachable"));
		}
	}
	kc_buf_adds(b, "\n\n| | bundle | SHA-256 | collected | verification | triage |\n|---|---|---|---|---|---|\n");
	kc_buf_adds(b, "| PRE | ");
	md_cell(b, kc_json_str0(pre, "path"));
	kc_buf_addf(b, " | `%s` | %s | %s | %s |\n", kc_json_str0(pre, "sha256"), kc_json_str0(pre, "finished"),
	    kc_json_str0(pre, "verification"), kc_json_str0(pre, "triage"));
	kc_buf_adds(b, "| POST | ");
	md_cell(b, kc_json_str0(post, "path"));
	kc_buf_addf(b, " | `%s` | %s | %s | %s |\n\n", kc_json_str0(post, "sha256"), kc_json_str0(post, "started"),
	    kc_json_str0(post, "verification"), kc_json_str0(post, "triage"));
	kc_buf_addf(b, "Remediation time: %s (%s).\n\n", kc_json_str0(d, "remediated_at"), kc_json_str0(d, "remediated_at_source"));
	kc_buf_adds(b, "### Agent permissions\n\n| agent | removed | added | kept | cluster-wide before → after | secrets before → after |\n|---|---|---|---|---|---|\n");
	cJSON_ArrayForEach(a, kc_json_get(d, "agents")) {
		const cJSON *c = kc_json_get(a, "counts");
		kc_buf_addf(b, "| %s/%s", kc_json_str0(a, "namespace"), kc_json_str0(a, "name"));
		agent_idents(a, b, 1);
		kc_buf_addf(b, " | %.0f | %.0f | %.0f | %s → %s | %s → %s |\n", jn(c, "removed"), jn(c, "added"), jn(c, "kept"),
		    jb(a, "cluster_wide_before") ? "yes" : "no", jb(a, "cluster_wide_after") ? "yes" : "no",
		    jb(a, "secrets_before") ? "yes" : "no", jb(a, "secrets_after") ? "**yes**" : "no");
	}
	kc_buf_addf(b, "\n### Findings\n\n%.0f resolved, %.0f persisting, %.0f new.\n\n| state | id | severity | subject | binding | role | scope |\n|---|---|---|---|---|---|---|\n",
	    jn(sum, "findings_resolved"), jn(sum, "findings_persisting"), jn(sum, "findings_new"));
	for (int k = 0; k < 3; k++) {
		static const char *const names[] = { "resolved", "persisting", "new" };
		cJSON_ArrayForEach(x, kc_json_get(fd, names[k])) {
			const cJSON *s = kc_json_get(x, "subject");
			kc_buf_addf(b, "| %s | %s | %s | %s/%s | %s %s | %s %s | %s |\n", names[k], kc_json_str0(x, "id"),
			    kc_json_str0(x, "severity"), kc_json_str0(s, "namespace"), kc_json_str0(s, "name"), kc_json_str0(kc_json_get(x, "binding"), "kind"),
			    kc_json_str0(kc_json_get(x, "binding"), "name"), kc_json_str0(kc_json_get(x, "role"), "kind"), kc_json_str0(kc_json_get(x, "role"), "name"),
			    kc_json_str0(x, "scope"));
		}
	}
	kc_buf_addf(b, "\n### Pods predating the remediation\n\n%.0f agent pod(s).\n", jn(sum, "stale_pods"));
	cJSON_ArrayForEach(x, kc_json_get(d, "stale_pods"))
		kc_buf_addf(b, "- `%s/%s` (service account `%s`, created %s)\n", kc_json_str0(x, "namespace"),
		    kc_json_str0(x, "name"), kc_json_str0(x, "serviceAccount"), kc_json_str0(x, "created"));
	if (kc_json_get(au, "continuity") != NULL && !continuity_none(kc_json_get(au, "continuity"))) {
		const cJSON *co = kc_json_get(au, "continuity");

		kc_buf_addf(b, "\n### Audit continuity\n\n%s| | state | continuity |\n|---|---|---|\n",
		    jb(co, "differs") ? "**PRE and POST differ in audit continuity.**\n\n" : "");
		for (int k = 0; k < 2; k++) {
			const cJSON *s = kc_json_get(co, k ? "post" : "pre");

			kc_buf_addf(b, "| %s | %s | ", k ? "POST" : "PRE", kc_json_str0(s, "state"));
			md_cell(b, kc_json_str0(s, "summary"));
			kc_buf_adds(b, " |\n");
		}
	}
	if (cJSON_IsString(kc_json_get(sum, "sensitive_reads_after_remediation")))
		kc_buf_addf(b, "\n### Audit (POST segment)\n\n- denied requests by agents: %.0f\n- sensitive reads after remediation: %s\n",
		    jn(au, "denied_total"), kc_json_str0(sum, "sensitive_reads_after_remediation"));
	else
		kc_buf_addf(b, "\n### Audit (POST segment)\n\n- denied requests by agents: %.0f\n- sensitive reads after remediation: %.0f (policy bypasses: %.0f)\n",
		    jn(au, "denied_total"), jn(sum, "sensitive_reads_after_remediation"), jn(sum, "policy_bypass_reads"));
	if (kc_json_str0(sum, "reads_note")[0] != '\0')
		kc_buf_addf(b, "- note: %s\n", kc_json_str0(sum, "reads_note"));
	if (jb(kc_json_get(d, "log_authz_errors"), "collected_post")) {
		const cJSON *lz = kc_json_get(d, "log_authz_errors");
		char t[KC_LOGAUTHZ_MAX_TEXT * 4 + 8];

		kc_buf_addf(b, "- authorization errors in agent pod logs: %.0f\n", jn(lz, "post_total"));
		cJSON_ArrayForEach(a, kc_json_get(lz, "agents"))
			cJSON_ArrayForEach(x, kc_json_get(a, "lines")) {
				kc_buf_addf(b, "  - `%s` %s/%s%s line %.0f: ", kc_json_str0(a, "sa"), kc_json_str0(x, "pod"),
				    kc_json_str0(x, "container"), jb(x, "previous") ? " (previous)" : "", jn(x, "line"));
				md_cell(b, kc_safe_str(kc_json_str0(x, "text"), t, sizeof(t)));
				kc_buf_addc(b, '\n');
			}
	} else if (kc_json_get(d, "log_authz_errors") != NULL) {
		kc_buf_adds(b, "- authorization errors in agent pod logs: the POST bundle has no pod logs\n");
	}
	return 0;
}
