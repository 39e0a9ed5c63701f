/* diff_render.c - text and Markdown renderings of a kcustody.diff/v1
 * document (the HTML page is formats/report_html.c). */
#include <stdio.h>
#include <string.h>

#include "rbac/diff.h"
#include "util/err.h"
#include "util/json.h"

/* Members by util/json.h (the last of duplicate keys): "" , 0, false
 * when absent or of another type. */
static const char *
js(const cJSON *o, const char *k)
{
	return kc_json_str0(o, k);
}

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

static const cJSON *
jo(const cJSON *o, const char *k)
{
	return kc_json_get(o, k);
}

/* "get secrets (any name) cluster-wide via ClusterRoleBinding/x -> ClusterRole/y" */
static void
perm_line(struct kc_buf *b, const cJSON *p, const char *prefix)
{
	const cJSON *g;
	const char *grp = js(p, "apiGroup");

	if (js(p, "url")[0] != '\0') {
		kc_buf_addf(b, "%s%s %s (non-resource URL)", prefix, js(p, "verb"), js(p, "url"));
	} else {
		kc_buf_addf(b, "%s%s %s%s%s", prefix, js(p, "verb"), js(p, "resource"),
		    grp[0] ? "." : "", grp);
		if (strcmp(js(p, "name"), "*") != 0)
			kc_buf_addf(b, " name=%s", js(p, "name"));
		if (strcmp(js(p, "namespace"), "*") == 0)
			kc_buf_adds(b, " cluster-wide");
		else
			kc_buf_addf(b, " in %s", js(p, "namespace"));
	}
	cJSON_ArrayForEach(g, jo(p, "grants")) {
		const cJSON *bd = jo(g, "binding"), *ro = jo(g, "role");
		kc_buf_addf(b, "  [%s %s%s%s -> %s %s]", js(bd, "kind"), js(bd, "namespace"),
		    js(bd, "namespace")[0] ? "/" : "", js(bd, "name"), js(ro, "kind"), js(ro, "name"));
	}
	kc_buf_addc(b, '\n');
}

static void
finding_line(struct kc_buf *b, const cJSON *f, const char *prefix)
{
	const cJSON *s = jo(f, "subject"), *bd = jo(f, "binding"), *ro = jo(f, "role");

	kc_buf_addf(b, "%s%s [%s] %s: %s/%s via %s %s -> %s %s (scope %s)\n", prefix, js(f, "id"),
	    js(f, "severity"), js(f, "title"), js(s, "namespace"), js(s, "name"), js(bd, "kind"),
	    js(bd, "name"), js(ro, "kind"), js(ro, "name"), js(f, "scope"));
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
	kc_buf_addf(b, "breach assessment: %s\n  %s\n", js(ba, "verdict"), js(ba, "reason"));
	cJSON_ArrayForEach(a, jo(ba, "agents")) {
		if (!jb(a, "could_read_secrets") && cJSON_GetArraySize(jo(a, "secrets_read")) == 0 &&
		    cJSON_GetArraySize(jo(a, "secrets_reachable")) == 0)
			continue;
		kc_buf_addf(b, "  %s/%s read (audit): ", js(a, "namespace"), js(a, "name"));
		str_list(b, jo(a, "secrets_read"));
		kc_buf_adds(b, "; could reach (PRE): ");
		str_list(b, jo(a, "secrets_reachable"));
		kc_buf_addc(b, '\n');
	}
}

/* The verdicts, the two bundles, the cluster and the remediation time. */
static void
text_head(const cJSON *d, struct kc_buf *b)
{
	const cJSON *pre = jo(d, "pre"), *post = jo(d, "post"), *sum = jo(d, "summary");

	if (!jb(d, "verified"))
		kc_buf_adds(b, "WARNING: bundles NOT verified (--no-verify): this comparison is not evidence\n\n");
	kc_buf_addf(b, "kcustody diff  verdict: %s\n  %s\n", js(sum, "verdict"), js(sum, "verdict_reason"));
	breach_text(b, jo(d, "breach_assessment"));
	kc_buf_addc(b, '\n');
	kc_buf_addf(b, "PRE   %s\n      sha256 %s  case %s  finished %s  %s  triage %s\n",
	    js(pre, "path"), js(pre, "sha256"), js(pre, "case"), js(pre, "finished"),
	    js(pre, "verification"), js(pre, "triage"));
	kc_buf_addf(b, "POST  %s\n      sha256 %s  case %s  started %s  %s  triage %s\n",
	    js(post, "path"), js(post, "sha256"), js(post, "case"), js(post, "started"),
	    js(post, "verification"), js(post, "triage"));
	kc_buf_addf(b, "cluster kube-system UID %s; remediation time %s (%s)\n\n",
	    js(jo(d, "cluster"), "kube_system_uid"), js(d, "remediated_at"), js(d, "remediated_at_source"));
}

/* Per agent: the counts and reach, and the permissions that changed (kept
 * permissions are in the JSON). */
static void
text_agents(const cJSON *d, struct kc_buf *b)
{
	static const char *const sets[] = { "removed", "added" };
	const cJSON *sum = jo(d, "summary"), *a, *x;

	kc_buf_addf(b, "Permissions: %.0f removed, %.0f added, %.0f kept\n",
	    jn(sum, "permissions_removed"), jn(sum, "permissions_added"), jn(sum, "permissions_kept"));
	cJSON_ArrayForEach(a, jo(d, "agents")) {
		const cJSON *c = jo(a, "counts");

		kc_buf_addf(b, "\nAgent %s/%s: %.0f removed, %.0f added, %.0f kept; cluster-wide reach %s -> %s; "
		    "secrets %s -> %s\n", js(a, "namespace"), js(a, "name"), jn(c, "removed"), jn(c, "added"),
		    jn(c, "kept"), jb(a, "cluster_wide_before") ? "yes" : "no",
		    jb(a, "cluster_wide_after") ? "yes" : "no", jb(a, "secrets_before") ? "yes" : "no",
		    jb(a, "secrets_after") ? "YES" : "no");
		for (int k = 0; k < 2; k++) {
			const char *mark = k == 0 ? "  - " : "  + ";
			cJSON_ArrayForEach(x, jo(a, sets[k]))
				perm_line(b, x, mark);
		}
	}
}

static void
text_findings(const cJSON *d, struct kc_buf *b)
{
	const cJSON *sum = jo(d, "summary"), *fd = jo(d, "findings"), *x;

	kc_buf_addf(b, "\nFindings: %.0f resolved, %.0f persisting, %.0f new\n", jn(sum, "findings_resolved"),
	    jn(sum, "findings_persisting"), jn(sum, "findings_new"));
	cJSON_ArrayForEach(x, jo(fd, "resolved"))
		finding_line(b, x, "  resolved   ");
	cJSON_ArrayForEach(x, jo(fd, "persisting"))
		finding_line(b, x, "  PERSISTING ");
	cJSON_ArrayForEach(x, jo(fd, "new"))
		finding_line(b, x, "  NEW        ");
	cJSON_ArrayForEach(x, jo(fd, "regressions"))
		kc_buf_addf(b, "  AGR-025 [high] %s: %s for %s/%s\n", js(x, "title"), js(jo(x, "finding"), "id"),
		    js(jo(jo(x, "finding"), "subject"), "namespace"), js(jo(jo(x, "finding"), "subject"), "name"));
}

/* RBAC objects added, removed and changed, with who changed them. */
static void
text_rbac_objects(const cJSON *ro, struct kc_buf *b)
{
	static const char *const names[] = { "added", "removed", "changed" };
	const cJSON *x, *by, *ch, *c;

	kc_buf_addf(b, "\nRBAC objects: %d added, %d removed, %d changed\n",
	    cJSON_GetArraySize(jo(ro, "added")), cJSON_GetArraySize(jo(ro, "removed")),
	    cJSON_GetArraySize(jo(ro, "changed")));
	for (int k = 0; k < 3; k++) {
		cJSON_ArrayForEach(x, jo(ro, names[k])) {
			kc_buf_addf(b, "  %-8s %s %s%s%s", names[k], js(x, "kind"), js(x, "namespace"),
			    js(x, "namespace")[0] ? "/" : "", js(x, "name"));
			ch = jo(x, "changes");
			if (ch != NULL && ch->child != NULL) {
				kc_buf_adds(b, " (changed:");
				cJSON_ArrayForEach(c, ch)
					kc_buf_addf(b, " %s", c->string);
				kc_buf_adds(b, ")");
			}
			cJSON_ArrayForEach(by, jo(x, "changed_by"))
				kc_buf_addf(b, " by %s (%s %s)", js(by, "manager"), js(by, "operation"), js(by, "time"));
			kc_buf_addc(b, '\n');
		}
	}
}

/* The POST audit segment: denials, and reads after the remediation. */
static void
text_audit(const cJSON *sum, const cJSON *au, struct kc_buf *b)
{
	const cJSON *x;

	if (!jb(au, "post_segment")) {
		kc_buf_adds(b, "\nAudit: the POST bundle has no audit segment (collect with --audit-log)\n");
		return;
	}
	kc_buf_addf(b, "\nDenied requests by agents in the POST audit segment: %.0f%s (review for over-restriction)\n",
	    jn(au, "denied_total"), cJSON_IsFalse(jo(au, "reads_determinable")) ?
	    " (denied reads: not determinable from these sources)" : "");
	cJSON_ArrayForEach(x, jo(au, "denied"))
		kc_buf_addf(b, "  %s %s %s in %s: %.0f x HTTP %.0f (%s .. %s)\n", js(x, "user"), js(x, "verb"),
		    js(x, "resource"), js(x, "namespace")[0] ? js(x, "namespace") : "(cluster)",
		    jn(x, "count"), jn(x, "code"), js(x, "first"), js(x, "last"));
	if (cJSON_IsString(jo(sum, "sensitive_reads_after_remediation")))
		kc_buf_addf(b, "Sensitive reads by agents after the remediation time: %s\n",
		    js(sum, "sensitive_reads_after_remediation"));
	else
		kc_buf_addf(b, "Sensitive reads by agents after the remediation time: %.0f, policy bypasses: %.0f%s\n",
		    jn(sum, "sensitive_reads_after_remediation"), jn(sum, "policy_bypass_reads"),
		    jn(sum, "policy_bypass_reads") > 0 ? "  ESCALATE" : "");
	if (js(sum, "reads_note")[0] != '\0')
		kc_buf_addf(b, "  note: %s\n", js(sum, "reads_note"));
	cJSON_ArrayForEach(x, jo(au, "sensitive_reads_after_remediation"))
		kc_buf_addf(b, "  %s %s %s %s %s%s%s at %s (audit %s)\n",
		    jb(x, "escalate") ? "BYPASS " : "allowed", js(x, "user"), js(x, "verb"),
		    js(x, "resource"), js(x, "namespace"), js(x, "name")[0] ? "/" : "", js(x, "name"),
		    js(x, "time"), js(x, "auditID"));
}

int
kc_diff_render_text(const cJSON *d, struct kc_buf *b)
{
	const cJSON *sum = jo(d, "summary"), *x;

	text_head(d, b);
	text_agents(d, b);
	text_findings(d, b);
	text_rbac_objects(jo(d, "rbac_objects"), b);
	kc_buf_addf(b, "\nAgent pods created before the remediation time (may hold old tokens): %.0f\n",
	    jn(sum, "stale_pods"));
	cJSON_ArrayForEach(x, jo(d, "stale_pods"))
		kc_buf_addf(b, "  %s/%s (service account %s, created %s)\n", js(x, "namespace"), js(x, "name"),
		    js(x, "serviceAccount"), js(x, "created"));
	text_audit(sum, jo(d, "audit"), b);
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
	const cJSON *pre = jo(d, "pre"), *post = jo(d, "post"), *sum = jo(d, "summary"), *a, *x;
	const cJSON *fd = jo(d, "findings"), *au = jo(d, "audit");

	kc_buf_adds(b, "## kcustody remediation diff\n\n");
	if (!jb(d, "verified"))
		kc_buf_adds(b, "> **WARNING:** bundles not verified (`--no-verify`); this comparison is not evidence.\n\n");
	kc_buf_addf(b, "**Verdict: %s** — ", js(sum, "verdict"));
	md_cell(b, js(sum, "verdict_reason"));
	if (jo(d, "breach_assessment") != NULL) {
		const cJSON *ba = jo(d, "breach_assessment");

		kc_buf_addf(b, "\n\n**Breach assessment: %s** — ", js(ba, "verdict"));
		md_cell(b, js(ba, "reason"));
		cJSON_ArrayForEach(a, jo(ba, "agents")) {
			if (cJSON_GetArraySize(jo(a, "secrets_read")) == 0 &&
			    cJSON_GetArraySize(jo(a, "secrets_reachable")) == 0 && !jb(a, "could_read_secrets"))
				continue;
			kc_buf_addf(b, "\n- %s/%s read (audit): ", js(a, "namespace"), js(a, "name"));
			str_list(b, jo(a, "secrets_read"));
			kc_buf_adds(b, "; could reach (PRE): ");
			str_list(b, jo(a, "secrets_reachable"));
		}
	}
	kc_buf_adds(b, "\n\n| | bundle | SHA-256 | collected | verification | triage |\n|---|---|---|---|---|---|\n");
	kc_buf_adds(b, "| PRE | ");
	md_cell(b, js(pre, "path"));
	kc_buf_addf(b, " | `%s` | %s | %s | %s |\n", js(pre, "sha256"), js(pre, "finished"),
	    js(pre, "verification"), js(pre, "triage"));
	kc_buf_adds(b, "| POST | ");
	md_cell(b, js(post, "path"));
	kc_buf_addf(b, " | `%s` | %s | %s | %s |\n\n", js(post, "sha256"), js(post, "started"),
	    js(post, "verification"), js(post, "triage"));
	kc_buf_addf(b, "Remediation time: %s (%s).\n\n", js(d, "remediated_at"), js(d, "remediated_at_source"));
	kc_buf_adds(b, "### Agent permissions\n\n| agent | removed | added | kept | cluster-wide before → after | secrets before → after |\n|---|---|---|---|---|---|\n");
	cJSON_ArrayForEach(a, jo(d, "agents")) {
		const cJSON *c = jo(a, "counts");
		kc_buf_addf(b, "| %s/%s | %.0f | %.0f | %.0f | %s → %s | %s → %s |\n", js(a, "namespace"),
		    js(a, "name"), jn(c, "removed"), jn(c, "added"), jn(c, "kept"),
		    jb(a, "cluster_wide_before") ? "yes" : "no", jb(a, "cluster_wide_after") ? "yes" : "no",
		    jb(a, "secrets_before") ? "yes" : "no", jb(a, "secrets_after") ? "**yes**" : "no");
	}
	kc_buf_addf(b, "\n### Findings\n\n%.0f resolved, %.0f persisting, %.0f new.\n\n| state | id | severity | subject | binding | role | scope |\n|---|---|---|---|---|---|---|\n",
	    jn(sum, "findings_resolved"), jn(sum, "findings_persisting"), jn(sum, "findings_new"));
	for (int k = 0; k < 3; k++) {
		static const char *const names[] = { "resolved", "persisting", "new" };
		cJSON_ArrayForEach(x, jo(fd, names[k])) {
			const cJSON *s = jo(x, "subject");
			kc_buf_addf(b, "| %s | %s | %s | %s/%s | %s %s | %s %s | %s |\n", names[k], js(x, "id"),
			    js(x, "severity"), js(s, "namespace"), js(s, "name"), js(jo(x, "binding"), "kind"),
			    js(jo(x, "binding"), "name"), js(jo(x, "role"), "kind"), js(jo(x, "role"), "name"),
			    js(x, "scope"));
		}
	}
	kc_buf_addf(b, "\n### Pods predating the remediation\n\n%.0f agent pod(s).\n", jn(sum, "stale_pods"));
	cJSON_ArrayForEach(x, jo(d, "stale_pods"))
		kc_buf_addf(b, "- `%s/%s` (service account `%s`, created %s)\n", js(x, "namespace"),
		    js(x, "name"), js(x, "serviceAccount"), js(x, "created"));
	if (cJSON_IsString(jo(sum, "sensitive_reads_after_remediation")))
		kc_buf_addf(b, "\n### Audit (POST segment)\n\n- denied requests by agents: %.0f\n- sensitive reads after remediation: %s\n",
		    jn(au, "denied_total"), js(sum, "sensitive_reads_after_remediation"));
	else
		kc_buf_addf(b, "\n### Audit (POST segment)\n\n- denied requests by agents: %.0f\n- sensitive reads after remediation: %.0f (policy bypasses: %.0f)\n",
		    jn(au, "denied_total"), jn(sum, "sensitive_reads_after_remediation"), jn(sum, "policy_bypass_reads"));
	if (js(sum, "reads_note")[0] != '\0')
		kc_buf_addf(b, "- note: %s\n", js(sum, "reads_note"));
	return 0;
}
