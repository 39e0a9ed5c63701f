/* report_write.c - the report's writer (the first error sticks), JSON values
 * as text, and the page frame: CSS, head, footer, key-value rows, cards,
 * a generic table. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "formats/report_int.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/timeutil.h"

/* ------------------------------------------------------------------ */
/* writer: the first error sticks, later writes do nothing */

void
rh_raw(struct w *w, const char *s)
{
	if (w->err == 0 && kc_buf_adds(w->b, s) != 0)
		w->err = KC_ERR_LIMIT;
}

/* Markup only: never pass a string from the evidence through fmt. */
void
rh_rawf(struct w *w, const char *fmt, ...)
{
	va_list ap;

	if (w->err != 0)
		return;
	va_start(ap, fmt);
	if (kc_buf_vaddf(w->b, fmt, ap) != 0)
		w->err = KC_ERR_LIMIT;
	va_end(ap);
}

void
rh_text(struct w *w, const char *s)
{
	if (w->err == 0 && s != NULL && kc_html_escape(w->b, s) != 0)
		w->err = KC_ERR_LIMIT;
}

static const char DASH[] = "\xe2\x80\x94";	/* em dash: no value */

/* Escaped text, or a grey dash when s is NULL or empty. */
void
rh_text_or_dash(struct w *w, const char *s)
{
	if (s == NULL || *s == '\0')
		rh_rawf(w, "<span class=\"none\">%s</span>", DASH);
	else
		rh_text(w, s);
}

/* ------------------------------------------------------------------ */
/* JSON values (members by util/json.h: the last duplicate wins) */

/* The number at path, or dflt. */
double
rh_jnum(const cJSON *o, const char *path, double dflt)
{
	const cJSON *v = kc_json_path(o, path);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* 1 when o has a non-empty string at path. */
int
rh_jhas(const cJSON *o, const char *path)
{
	const cJSON *v = kc_json_path(o, path);

	return cJSON_IsString(v) && v->valuestring[0] != '\0';
}

/* 1 when the member at path is true. */
int
rh_jtrue(const cJSON *o, const char *path)
{
	return cJSON_IsTrue(kc_json_path(o, path));
}

/* The size of the array (or object) at path; 0 when missing. */
int
rh_jcount(const cJSON *o, const char *path)
{
	return cJSON_GetArraySize(kc_json_path(o, path));
}

void
rh_fmt_num(char *out, size_t n, double v)
{
	if (v == (double)(long long)v && v > -1e15 && v < 1e15)
		kc_fmt_trunc(out, n, "%lld", (long long)v);	/* a displayed number */
	else
		kc_fmt_trunc(out, n, "%.3f", v);
}

/* Any JSON value as text: strings as they are, numbers, yes/no, a dash
 * for null or missing, compact JSON for objects and arrays. */
void
rh_jtext(struct w *w, const cJSON *v)
{
	char nb[64];

	if (v == NULL || cJSON_IsNull(v)) {
		rh_text_or_dash(w, NULL);
	} else if (cJSON_IsString(v)) {
		rh_text_or_dash(w, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		rh_fmt_num(nb, sizeof(nb), v->valuedouble);
		rh_raw(w, nb);
	} else if (cJSON_IsBool(v)) {
		rh_raw(w, cJSON_IsTrue(v) ? "yes" : "no");
	} else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0) {
		rh_text_or_dash(w, NULL);
	} else {
		char *s = cJSON_PrintUnformatted(v);

		if (s == NULL) {
			w->err = w->err ? w->err : KC_ERR_NOMEM;
			return;
		}
		rh_raw(w, "<code>");
		rh_text(w, s);
		rh_raw(w, "</code>");
		cJSON_free(s);
	}
}

/* "a, b, c" of an array of strings. */
void
rh_jlist(struct w *w, const cJSON *arr, const char *sep)
{
	const cJSON *x;
	int first = 1;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
		rh_text_or_dash(w, NULL);
		return;
	}
	cJSON_ArrayForEach(x, arr) {
		if (!first)
			rh_raw(w, sep);
		first = 0;
		if (cJSON_IsString(x))
			rh_text(w, x->valuestring[0] ? x->valuestring : "\"\"");
		else
			rh_jtext(w, x);
	}
}

int
rh_sev_rank(const char *s)
{
	static const char *const names[] = { "critical", "high", "medium", "low", "info" };

	for (int i = 0; s != NULL && i < 5; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return 5;
}

const char *
rh_sev_class(const char *s)
{
	static const char *const cls[] = { "critical", "high", "medium", "low", "info", "info" };

	return cls[rh_sev_rank(s)];
}

void
rh_sev_badge(struct w *w, const char *s)
{
	rh_rawf(w, "<span class=\"sev sev-%s\">", rh_sev_class(s));
	rh_text_or_dash(w, s);
	rh_raw(w, "</span>");
}

/* "Kind ns/name" of a subject, binding or role object. */
void
rh_ref_text(struct kc_buf *b, const cJSON *o)
{
	const char *k = kc_json_str(o, "kind"), *ns = kc_json_str(o, "namespace"), *n = kc_json_str(o, "name");

	if (k != NULL && *k)
		kc_buf_addf(b, "%s ", k);
	if (ns != NULL && *ns)
		kc_buf_addf(b, "%s/", ns);
	kc_buf_adds(b, n != NULL ? n : "?");
}

void
rh_ref(struct w *w, const cJSON *o)
{
	const char *k = kc_json_str(o, "kind"), *ns = kc_json_str(o, "namespace"), *n = kc_json_str(o, "name");

	if (o == NULL || !cJSON_IsObject(o)) {
		rh_text_or_dash(w, NULL);
		return;
	}
	if (k != NULL && *k) {
		rh_raw(w, "<span class=\"kind\">");
		rh_text(w, k);
		rh_raw(w, "</span> ");
	}
	if (ns != NULL && *ns) {
		rh_text(w, ns);
		rh_raw(w, "/");
	}
	rh_text_or_dash(w, n);
	if (cJSON_IsFalse(kc_json_path(o, "found")))
		rh_raw(w, " <span class=\"bad\">(missing)</span>");
}

/* ------------------------------------------------------------------ */
/* page frame */

static const char CSS[] =
":root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f5f7fa;--red:#b91c1c;--amber:#b45309;"
"--green:#15803d;--blue:#1d4ed8}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;background:var(--bg);color:var(--fg);"
"font:14px/1.45 \"DejaVu Sans\",system-ui,-apple-system,\"Segoe UI\",Helvetica,Arial,sans-serif}\n"
"main{max-width:1360px;margin:0 auto;padding:22px 28px 40px}\n"
"h1{font-size:24px;margin:0 0 2px}\n"
"h2{font-size:18px;margin:30px 0 10px;padding-bottom:5px;border-bottom:2px solid #cbd5e1}\n"
"h3{font-size:15px;margin:18px 0 6px}\n"
".sub{color:var(--muted);margin:0 0 10px}\n"
"code,.mono{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace;font-size:12px;"
"overflow-wrap:anywhere}\n"
"nav.toc{margin:8px 0 4px;font-size:13px}\n"
"nav.toc a{color:var(--blue);text-decoration:none;margin-right:14px;white-space:nowrap}\n"
".banner{border-radius:8px;padding:12px 18px;margin:10px 0;border:1px solid}\n"
".banner .big{font-size:20px;font-weight:800;letter-spacing:.5px;margin-right:12px}\n"
".banner.ok{background:#f0fdf4;border-color:#86efac;color:#14532d}\n"
".banner.warn{background:#fffbeb;border-color:#fcd34d;color:#78350f}\n"
".banner.bad{background:#b91c1c;border-color:#7f1d1d;color:#fff}\n"
".banner.info{background:#f8fafc;border-color:#cbd5e1;color:#334155}\n"
".banner p{margin:6px 0 0}\n"
".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:10px;margin:14px 0}\n"
".card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px}\n"
".card .k{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.5px}\n"
".card .v{font-size:21px;font-weight:700;margin-top:2px}\n"
".card .n{font-size:12px;color:var(--muted)}\n"
".card.bad{border-color:#fca5a5;background:#fef2f2}.card.bad .v{color:var(--red)}\n"
".card.warn{border-color:#fcd34d;background:#fffbeb}.card.warn .v{color:var(--amber)}\n"
".card.ok{border-color:#86efac;background:#f0fdf4}.card.ok .v{color:var(--green)}\n"
".grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:14px}\n"
"table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);"
"margin:6px 0 4px;font-size:13px}\n"
"th,td{text-align:left;vertical-align:top;padding:5px 9px;border-bottom:1px solid var(--line)}\n"
"thead th{background:#eef2f7;font-size:12px;color:#334155;white-space:nowrap}\n"
"table.kv th{width:34%;background:#f8fafc;font-weight:600;color:#334155;font-size:12.5px}\n"
"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
"tr.agent td{background:#fff7ed}\n"
"tr.row-critical td:first-child,tr.row-high td:first-child{border-left:4px solid #dc2626}\n"
"tr.row-medium td:first-child{border-left:4px solid #d97706}\n"
".sev{display:inline-block;border-radius:999px;padding:0 9px;font-size:12px;font-weight:700;"
"color:#fff;white-space:nowrap}\n"
".sev-critical{background:#7f1d1d}.sev-high{background:#dc2626}.sev-medium{background:#d97706}"
".sev-low{background:#2563eb}.sev-info{background:#64748b}\n"
".pill{display:inline-block;border-radius:4px;padding:0 7px;font-size:12px;font-weight:700;"
"white-space:nowrap}\n"
".pill.ok{background:#dcfce7;color:#166534}.pill.bad{background:#dc2626;color:#fff}"
".pill.skip{background:#e2e8f0;color:#475569}.pill.warn{background:#fef3c7;color:#92400e}"
".pill.new{background:#dbeafe;color:#1e40af}\n"
".kind{color:var(--muted);font-size:12px}\n"
".none{color:#94a3b8}\n"
".bad{color:var(--red);font-weight:700}\n"
".good{color:var(--green);font-weight:700}\n"
".struck{text-decoration:line-through;color:var(--muted)}\n"
".note{color:var(--muted);font-size:12.5px}\n"
".problems{background:#fef2f2;border:1px solid #fca5a5;border-radius:6px;padding:8px 14px;"
"color:#7f1d1d}\n"
".svgwrap{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:8px;"
"padding:4px;margin:6px 0 16px}\n"
".legend{font-size:12.5px;color:#334155;margin:4px 0 8px}\n"
".sw{display:inline-block;width:26px;height:12px;border-radius:3px;"
"vertical-align:middle;margin:0 5px 0 12px;border:2px solid}\n"
".sw.danger{background:#fee2e2;border-color:#dc2626}.sw.warn{background:#fef3c7;border-color:#d97706}"
".sw.removed{background:#f8fafc;border-color:#94a3b8;border-style:dashed}"
".sw.added{background:#eff6ff;border-color:#2563eb}.sw.normal{background:#fff;border-color:#94a3b8}"
".sw.muted{background:#f8fafc;border-color:#cbd5e1;border-style:dotted}\n"
"details{margin:4px 0}summary{cursor:pointer;color:var(--blue)}\n"
"ul.plain{margin:4px 0;padding-left:18px}\n"
"footer{margin-top:36px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);"
"padding-top:8px}\n"
"@media print{body{background:#fff}main{max-width:none;padding:0}.svgwrap{overflow:visible}}\n";

void
rh_page_open(struct w *w, const char *title)
{
	rh_raw(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'; img-src data:\"/>\n");
	rh_rawf(w, "<meta name=\"generator\" content=\"kcustody %s\"/>\n<title>", KC_VERSION);
	rh_text(w, title);
	rh_raw(w, "</title>\n<style>\n");
	rh_raw(w, CSS);
	rh_raw(w, "</style>\n</head>\n<body><main>\n");
}

void
rh_page_close(struct w *w, time_t generated)
{
	char tb[40];

	rh_rawf(w, "<footer>Written by kcustody %s", KC_VERSION);
	if (generated != 0)
		rh_rawf(w, " at %s", kc_fmt_rfc3339(generated, tb, sizeof(tb)));
	rh_raw(w, ". A self-contained page: no script, no external resource. Every value is "
	    "quoted from the evidence and escaped.</footer>\n</main></body></html>\n");
}

void
rh_kv(struct w *w, const char *k, const char *v)
{
	rh_rawf(w, "<tr><th>%s</th><td>", k);
	rh_text_or_dash(w, v);
	rh_raw(w, "</td></tr>\n");
}

void
rh_kv_mono(struct w *w, const char *k, const char *v)
{
	rh_rawf(w, "<tr><th>%s</th><td><code>", k);
	rh_text_or_dash(w, v);
	rh_raw(w, "</code></td></tr>\n");
}

void
rh_kv_json(struct w *w, const char *k, const cJSON *v)
{
	rh_rawf(w, "<tr><th>%s</th><td>", k);
	rh_jtext(w, v);
	rh_raw(w, "</td></tr>\n");
}

/* kc: the path of the value in the diff or findings document it was read
 * from, written as data-kc so that a test can hold every number and
 * verdict on the page against that document (one source of truth).
 * Inside an element with data-kc-doc (the recertification section:
 * data-kc-doc="recertification"), the path is in that document instead. */
void
rh_card_kc(struct w *w, const char *cls, const char *k, const char *v, const char *note, const char *kc)
{
	rh_rawf(w, "<div class=\"card %s\"><div class=\"k\">%s</div><div class=\"v\"", cls, k);
	if (kc != NULL)
		rh_rawf(w, " data-kc=\"%s\"", kc);
	rh_raw(w, ">");
	rh_text_or_dash(w, v);
	rh_raw(w, "</div>");
	if (note != NULL && *note) {
		rh_raw(w, "<div class=\"n\">");
		rh_text(w, note);
		rh_raw(w, "</div>");
	}
	rh_raw(w, "</div>\n");
}

void
rh_card(struct w *w, const char *cls, const char *k, const char *v, const char *note)
{
	rh_card_kc(w, cls, k, v, note, NULL);
}

void
rh_status_pill(struct w *w, const char *st)
{
	const char *cls = "bad";

	if (st == NULL)
		st = "";
	if (strcmp(st, "complete") == 0 || strcmp(st, "ok") == 0 || strcmp(st, "valid") == 0 ||
	    strcmp(st, "trusted") == 0)
		cls = "ok";
	else if (strcmp(st, "skipped") == 0 || strcmp(st, "") == 0)
		cls = "skip";
	rh_rawf(w, "<span class=\"pill %s\">", cls);
	rh_text_or_dash(w, st);
	rh_raw(w, "</span>");
}

/* A table for an array of objects of unknown shape: one column per key,
 * in the order first seen. */
void
rh_generic_table(struct w *w, const cJSON *arr, const char *cls)
{
	const char *cols[32];
	int ncol = 0, rows = 0;
	const cJSON *o, *x;

	cJSON_ArrayForEach(o, arr) {
		if (!cJSON_IsObject(o)) {
			if (ncol == 0)
				cols[ncol++] = "value";
			continue;
		}
		cJSON_ArrayForEach(x, o) {
			int k;

			for (k = 0; k < ncol; k++)
				if (strcmp(cols[k], x->string) == 0)
					break;
			if (k == ncol && ncol < 32)
				cols[ncol++] = x->string;
		}
	}
	rh_rawf(w, "<table class=\"%s\"><thead><tr>", cls);
	for (int k = 0; k < ncol; k++) {
		rh_raw(w, "<th>");
		rh_text(w, cols[k]);
		rh_raw(w, "</th>");
	}
	rh_raw(w, "</tr></thead><tbody>\n");
	cJSON_ArrayForEach(o, arr) {
		if (rows++ >= KC_REPORT_ROWS_MAX)
			break;
		rh_raw(w, "<tr>");
		for (int k = 0; k < ncol; k++) {
			rh_raw(w, "<td>");
			rh_jtext(w, cJSON_IsObject(o) ? kc_json_get(o, cols[k]) : o);
			rh_raw(w, "</td>");
		}
		rh_raw(w, "</tr>\n");
	}
	rh_raw(w, "</tbody></table>\n");
	if (rows > KC_REPORT_ROWS_MAX)
		rh_rawf(w, "<p class=\"note\">%d more rows not shown.</p>\n",
		    cJSON_GetArraySize(arr) - KC_REPORT_ROWS_MAX);
}

void
rh_more_rows(struct w *w, int shown, int total)
{
	if (total > shown)
		rh_rawf(w, "<p class=\"note\">%d more rows not shown (the bundle holds them all).</p>\n",
		    total - shown);
}

