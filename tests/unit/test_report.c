/* test_report.c - the HTML report: escaping with hostile input, the
 * access-path layout, the diff page from a fixture, and the report of a
 * small sealed bundle built from fixtures (no cluster needed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include "harness.h"
#include "manifest/bundle.h"
#include "formats/report_html.h"
#include "formats/svg_access.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/sha256.h"

static char *
esc(const char *s, size_t n)
{
	struct kc_buf b = KC_BUF_INIT(1u << 20);

	CHECK_INT(kc_html_escape_n(&b, s, n), 0);
	return kc_buf_take(&b, NULL);
}

#define CHECK_ESC(in, want) do { char *got_ = esc((in), sizeof(in) - 1); \
	CHECK_STR(got_, (want)); free(got_); } while (0)

DEFINE_TEST(test_report_escape_markup)
{
	CHECK_ESC("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
	CHECK_ESC("\"><img src=x onerror=alert('x')>", "&quot;&gt;&lt;img src=x onerror=alert(&#39;x&#39;)&gt;");
	CHECK_ESC("AT&T &amp; &#60;", "AT&amp;T &amp;amp; &amp;#60;");
	CHECK_ESC("]]><!-- -->", "]]&gt;&lt;!-- --&gt;");
	CHECK_ESC("plain text", "plain text");
	CHECK_ESC("", "");
	/* NULL appends nothing and is not an error */
	{
		struct kc_buf b = KC_BUF_INIT(16);

		CHECK_INT(kc_html_escape(&b, NULL), 0);
		CHECK_INT(b.len, 0);
		kc_buf_free(&b);
	}
}

DEFINE_TEST(test_report_escape_controls)
{
	/* TAB and LF stay; CR, other C0 controls, DEL and NUL become visible */
	CHECK_ESC("a\tb\nc", "a\tb\nc");
	CHECK_ESC("a\rb", "a\\x0db");
	CHECK_ESC("\x01\x1b[31m\x7f", "\\x01\\x1b[31m\\x7f");
	CHECK_ESC("nul\0byte", "nul\\x00byte");
	/* C1 controls (valid UTF-8 for U+0080..U+009F) */
	CHECK_ESC("\xc2\x85\xc2\x9b", "\\u0085\\u009b");
	/* bidirectional overrides could reorder what a reader sees */
	CHECK_ESC("admin\xe2\x80\xae" "gnp.exe", "admin\\u202egnp.exe");
	CHECK_ESC("\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069");
	/* noncharacters */
	CHECK_ESC("\xef\xbf\xbe", "\\ufffe");
	CHECK_ESC("\xf4\x8f\xbf\xbf", "\\U0010ffff");
}

DEFINE_TEST(test_report_escape_utf8)
{
	/* valid UTF-8 passes unchanged */
	CHECK_ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad");
	/* invalid: stray continuation, overlong, surrogate, out of range,
	 * bytes never used, truncated sequences */
	CHECK_ESC("\x80", "\\x80");
	CHECK_ESC("\xc0\xaf", "\\xc0\\xaf");
	CHECK_ESC("\xe0\x80\xaf", "\\xe0\\x80\\xaf");
	CHECK_ESC("\xed\xa0\x80", "\\xed\\xa0\\x80");
	CHECK_ESC("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	CHECK_ESC("\xf5\xfe\xff", "\\xf5\\xfe\\xff");
	CHECK_ESC("ok\xe2\x82", "ok\\xe2\\x82");
	CHECK_ESC("\xe2\x82<", "\\xe2\\x82&lt;");
	/* an invalid lead byte does not swallow a following '<' */
	CHECK_ESC("\xc3<script>", "\\xc3&lt;script&gt;");
}

DEFINE_TEST(test_report_escape_limit)
{
	struct kc_buf b = KC_BUF_INIT(8);

	CHECK_INT(kc_html_escape(&b, "<<<"), KC_ERR_LIMIT);
	CHECK(b.len <= 8);
	kc_buf_free(&b);
}

DEFINE_TEST(test_report_prefix)
{
	size_t used;

	CHECK_INT(kc_html_prefix("abcdef", 4, &used), 4);
	CHECK_INT(used, 4);
	CHECK_INT(kc_html_prefix("abc", 10, &used), 3);
	CHECK_INT(used, 3);
	/* a 2-byte character counts one column and is never cut */
	CHECK_INT(kc_html_prefix("\xc3\xa9\xc3\xa9x", 2, &used), 4);
	CHECK_INT(used, 2);
	/* an escape (4 columns) is kept whole or left out */
	CHECK_INT(kc_html_prefix("a\x01" "b", 3, &used), 1);
	CHECK_INT(used, 1);
	CHECK_INT(kc_html_prefix("a\x01" "b", 5, &used), 2);
	CHECK_INT(used, 5);
	CHECK_INT(kc_svg_text_width("\xe2\x80\xae"), 6);
	CHECK_INT(kc_svg_text_width("<&>"), 3);
	CHECK_INT(kc_svg_text_width(NULL), 0);
}

/* a fixture tree: SA -> 3 bindings (one with 2 roles' worth of rules) */
static const struct kc_svg_node fixture[] = {
	{ -1, { "kagent-bot", "ServiceAccount", "in agents" }, NULL, NULL, 0 },
	{ 0, { "kagent-bot-secrets", "ClusterRoleBinding", NULL }, "removed", NULL, KC_SVG_REMOVED },
	{ 1, { "agent-secret-reader", "ClusterRole", NULL }, NULL, NULL, KC_SVG_REMOVED },
	{ 2, { "get, list, watch", "secrets", "cluster-wide" }, "AGR-003 critical", NULL,
	  KC_SVG_REMOVED | KC_SVG_DANGER },
	{ 0, { "rag-all", "RoleBinding in agents", NULL }, NULL, NULL, 0 },
	{ 4, { "indexer-all", "Role", NULL }, NULL, NULL, 0 },
	{ 5, { "*", "*", "in agents" }, "AGR-004 high", NULL, KC_SVG_DANGER },
	{ 5, { "get", "configmaps", "in agents" }, NULL, NULL, 0 },
	{ 5, { "list", "pods", "in agents" }, "AGR-002 medium", NULL, KC_SVG_WARN },
	{ 0, { "via groups: 4 bindings", NULL, NULL }, "no finding", NULL, KC_SVG_MUTED },
	{ 0, { "new-binding", "RoleBinding", NULL }, "new after remediation", NULL, KC_SVG_ADDED },
	{ 10, { "new-role", "Role", NULL }, NULL, NULL, KC_SVG_ADDED },
	{ 11, { "get", "configmaps", "in agents" }, NULL, NULL, KC_SVG_ADDED },
};
#define NFIX (sizeof(fixture) / sizeof(fixture[0]))

static int
overlap(const struct kc_svg_box *a, const struct kc_svg_box *b)
{
	return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

DEFINE_TEST(test_report_svg_layout)
{
	struct kc_svg_box box[NFIX];
	double w, h;

	CHECK_INT(kc_svg_layout(fixture, NFIX, box, &w, &h), 0);
	for (size_t i = 0; i < NFIX; i++) {
		/* columns by depth, left to right, inside the picture */
		CHECK(box[i].x >= 0 && box[i].y >= 0);
		CHECK(box[i].x + box[i].w <= w);
		CHECK(box[i].y + box[i].h <= h);
		if (i > 0) {
			const struct kc_svg_box *p = &box[fixture[i].parent];

			CHECK_INT(box[i].depth, p->depth + 1);
			CHECK(box[i].x > p->x + p->w);
		}
		for (size_t j = 0; j < i; j++)
			if (overlap(&box[i], &box[j]))
				kc_test_fail(__FILE__, __LINE__, "boxes %zu and %zu overlap", j, i);
	}
	CHECK_INT(box[3].depth, 3);
	/* a parent is centred on its children: indexer-all on its three rules */
	{
		double mid = (box[6].y + box[8].y + box[8].h) / 2, c = box[5].y + box[5].h / 2;

		CHECK(c > mid - 1 && c < mid + 1);
	}
	/* siblings keep their order, top to bottom */
	CHECK(box[1].y < box[4].y && box[4].y < box[9].y && box[9].y < box[10].y);
	CHECK(box[6].y < box[7].y && box[7].y < box[8].y);
	/* danger of a live leaf reaches its ancestors; a removed one does not */
	CHECK(box[5].path_flags & KC_SVG_DANGER);
	CHECK(box[4].path_flags & KC_SVG_DANGER);
	CHECK(box[0].path_flags & KC_SVG_DANGER);
	CHECK(box[4].path_flags & KC_SVG_WARN);
	CHECK(!(box[2].path_flags & KC_SVG_DANGER));
	CHECK(!(box[1].path_flags & KC_SVG_DANGER));
	CHECK(!(box[10].path_flags & KC_SVG_DANGER));
}

DEFINE_TEST(test_report_svg_layout_errors)
{
	struct kc_svg_box box[6];
	double w, h;
	struct kc_svg_node bad[6];

	CHECK_INT(kc_svg_layout(fixture, 0, box, &w, &h), KC_ERR_INVALID);
	memset(bad, 0, sizeof(bad));
	bad[0].parent = 0;	/* the root must have no parent */
	CHECK_INT(kc_svg_layout(bad, 1, box, &w, &h), KC_ERR_INVALID);
	bad[0].parent = -1;
	bad[1].parent = -1;	/* a second root */
	CHECK_INT(kc_svg_layout(bad, 2, box, &w, &h), KC_ERR_INVALID);
	bad[1].parent = 2;	/* parent after the child */
	bad[2].parent = 0;
	CHECK_INT(kc_svg_layout(bad, 3, box, &w, &h), KC_ERR_INVALID);
	for (int i = 1; i < 6; i++)
		bad[i].parent = i - 1;	/* five levels: one too deep */
	CHECK_INT(kc_svg_layout(bad, 5, box, &w, &h), KC_ERR_INVALID);
	CHECK_INT(kc_svg_layout(bad, 4, box, &w, &h), 0);
	/* a lone root */
	CHECK_INT(kc_svg_layout(bad, 1, box, &w, &h), 0);
	CHECK(w > 0 && h > box[0].h);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

DEFINE_TEST(test_report_svg_render)
{
	struct kc_buf b = KC_BUF_INIT(1u << 20);
	struct kc_svg_node n[3];
	const char *s;

	CHECK_INT(kc_svg_render(fixture, NFIX, "Access path of <agents/kagent-bot>", &b), 0);
	s = kc_buf_str(&b);
	CHECK(strncmp(s, "<svg class=\"access-path\"", 24) == 0);
	CHECK(strcmp(s + b.len - 6, "</svg>") == 0);
	CHECK(strstr(s, "aria-label=\"Access path of &lt;agents/kagent-bot&gt;\"") != NULL);
	CHECK_INT(count(s, "<g "), count(s, "</g>"));
	CHECK_INT(count(s, "class=\"node"), NFIX);
	CHECK_INT(count(s, "class=\"edge"), NFIX - 1);
	/* removed: dashed, struck through, with a cross on the cut edge */
	CHECK(count(s, "class=\"node removed\"") == 3);
	CHECK(count(s, "class=\"edge removed\"") == 3);
	CHECK(strstr(s, "text-decoration=\"line-through\"") != NULL);
	/* the dangerous rule, and the edges leading to it, are red */
	CHECK(count(s, "class=\"node danger\"") == 1);
	CHECK(count(s, "class=\"edge danger\"") == 3);
	CHECK(count(s, "class=\"node warn\"") == 1);
	CHECK(count(s, "class=\"node added\"") == 3);
	CHECK(count(s, "class=\"node muted\"") == 1);
	kc_buf_free(&b);

	/* hostile labels are escaped, long ones cut with the full text kept
	 * in the tooltip */
	memset(n, 0, sizeof(n));
	n[0].parent = -1;
	n[0].line[0] = "</text></svg><script>alert(1)</script>";
	n[1].parent = 0;
	n[1].line[0] = "a-very-long-binding-name-that-cannot-fit-in-the-binding-column-at-all";
	n[1].title = "full \"title\" & more";
	n[2].parent = 1;
	n[2].line[0] = "\xe2\x80\xae\x01\xff";
	CHECK_INT(kc_svg_render(n, 3, NULL, &b), 0);
	s = kc_buf_str(&b);
	CHECK(strstr(s, "<script") == NULL);
	CHECK(count(s, "</svg>") == 1);
	/* the tooltip holds the whole label escaped, the box the cut one */
	CHECK(strstr(s, "<title>&lt;/text&gt;&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>") != NULL);
	CHECK(strstr(s, ">&lt;/text&gt;&lt;/svg&gt;&lt;script&gt;a\xe2\x80\xa6</text>") != NULL);
	CHECK(strstr(s, "cannot-fit-in-the-binding-column-at-all") == NULL);
	CHECK(strstr(s, "\xe2\x80\xa6</text>") != NULL);
	CHECK(strstr(s, "<title>full &quot;title&quot; &amp; more</title>") != NULL);
	CHECK(strstr(s, "\\u202e\\x01\\xff") != NULL);
	kc_buf_free(&b);
}

/* Rough well-formedness: every element opened is closed in order (void
 * elements self-closed), attributes quoted: what xmllint checks in the
 * command tests, good enough to catch a renderer mistake here. */
static int
well_formed(const char *s)
{
	char stack[256][32];
	int depth = 0;

	while ((s = strchr(s, '<')) != NULL) {
		char name[32];
		size_t n = 0;
		int closing = 0;
		const char *gt;

		if (strncmp(s, "<!DOCTYPE", 9) == 0 || strncmp(s, "<!--", 4) == 0) {
			s = strchr(s, '>');
			if (s == NULL)
				return 0;
			continue;
		}
		s++;
		if (*s == '/') {
			closing = 1;
			s++;
		}
		while (n < sizeof(name) - 1 && (s[n] == '-' || (s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= '0' && s[n] <= '9')))
			n++;
		if (n == 0 || n >= sizeof(name) - 1)
			return 0;
		memcpy(name, s, n);
		name[n] = '\0';
		if ((gt = strchr(s, '>')) == NULL)
			return 0;
		for (const char *p = s; p < gt; p++)
			if (*p == '<')
				return 0;
		if (closing) {
			if (depth == 0 || strcmp(stack[depth - 1], name) != 0)
				return 0;
			depth--;
		} else if (gt[-1] != '/') {
			if (depth == 256)
				return 0;
			snprintf(stack[depth++], sizeof(stack[0]), "%s", name);
		}
		s = gt + 1;
	}
	return depth == 0;
}

DEFINE_TEST(test_report_diff_page)
{
	cJSON *d = kc_test_load_json("report/diff.json");
	struct kc_buf b = KC_BUF_INIT(KC_REPORT_MAX);
	const char *s;

	/* the checker itself */
	CHECK(!well_formed("<div><p></div></p>"));
	CHECK(!well_formed("<td>x"));
	CHECK(!well_formed("<a <b>"));
	CHECK(well_formed("<!DOCTYPE html><p>x<br/></p>"));
	CHECK_INT(kc_diff_render_html(d, &b), 0);
	s = kc_buf_str(&b);
	CHECK(strncmp(s, "<!DOCTYPE html>", 15) == 0);
	CHECK(well_formed(s));
	CHECK(strstr(s, "Content-Security-Policy") != NULL);
	CHECK(strstr(s, "<script") == NULL);
	CHECK(strstr(s, "id=\"remediation\"") != NULL);
	CHECK(strstr(s, "<span class=\"big\" data-kc=\"summary.verdict\">incomplete</span>") != NULL);
	CHECK_INT(count(s, "<svg class=\"access-path\""), 2);
	/* kagent-bot: the cluster-wide secret reader is drawn removed, the
	 * new RoleBinding added */
	CHECK(strstr(s, "kagent-bot-secrets") != NULL);
	CHECK(count(s, "class=\"node removed\"") >= 6);
	CHECK(strstr(s, "removed \xc2\xb7 was critical") != NULL);
	CHECK(count(s, "class=\"node added\"") >= 3);
	/* rag-agent keeps a flagged secret read: red, with AGR-025 listed */
	CHECK(strstr(s, "kept \xc2\xb7 high") != NULL);
	CHECK(count(s, "class=\"node danger\"") >= 1);
	CHECK(strstr(s, "id=\"findings-regressions\"") != NULL);
	CHECK(strstr(s, "AGR-025") != NULL);
	/* unchanged benign bindings are folded */
	CHECK(strstr(s, "1 unchanged binding") != NULL);
	CHECK(strstr(s, "kagent-bot-0") != NULL);	/* stale pod */
	CHECK(strstr(s, "payments") != NULL);	/* denied request */
	kc_buf_free(&b);

	/* not a diff document */
	CHECK_INT(kc_diff_render_html(cJSON_GetObjectItem(d, "summary"), &b), KC_ERR_INVALID);
	kc_buf_free(&b);
	cJSON_Delete(d);
}

DEFINE_TEST(test_report_diff_page_hostile)
{
	cJSON *d = kc_test_load_json("report/diff.json"), *a, *s;
	struct kc_buf b = KC_BUF_INIT(KC_REPORT_MAX);
	const char *h;

	/* strings from the evidence that try to break out */
	a = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "agents"), 0);
	cJSON_ReplaceItemInObject(a, "name", cJSON_CreateString("<script>alert('sa')</script>"));
	s = cJSON_GetObjectItem(d, "summary");
	cJSON_ReplaceItemInObject(s, "verdict_reason", cJSON_CreateString("\"><img src=x onerror=alert(1)>"));
	cJSON_ReplaceItemInObject(s, "verdict", cJSON_CreateString("</span></div><iframe>"));
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(d, "pre"), "path",
	    cJSON_CreateString("/tmp/\xe2\x80\xae" "zg.rat\x1b[2J\xff.tar.gz"));
	a = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "agents"), 0),
	    "removed"), 0);
	cJSON_ReplaceItemInObject(a, "resource", cJSON_CreateString("secrets</text></svg><svg onload=alert(2)>"));
	CHECK_INT(kc_diff_render_html(d, &b), 0);
	h = kc_buf_str(&b);
	CHECK(well_formed(h));
	CHECK(strstr(h, "<script") == NULL);
	CHECK(strstr(h, "<img") == NULL);
	CHECK(strstr(h, "<iframe") == NULL);
	CHECK(strstr(h, "<svg onload") == NULL);
	CHECK(strstr(h, "&lt;script&gt;alert(&#39;sa&#39;)&lt;/script&gt;") != NULL);
	CHECK(strstr(h, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;") != NULL);
	CHECK(strstr(h, "\\u202ezg.rat\\x1b[2J\\xff.tar.gz") != NULL);
	CHECK(strstr(h, "\xe2\x80\xae") == NULL);
	kc_buf_free(&b);
	cJSON_Delete(d);
}

DEFINE_TEST(test_report_diff_page_big)
{
	cJSON *d = kc_test_load_json("report/diff.json"), *a, *removed;
	struct kc_buf b = KC_BUF_INIT(KC_REPORT_MAX);
	char ns[32];

	/* 1000 removed permissions in distinct namespaces: one leaf each, more
	 * than a picture holds */
	a = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "agents"), 0);
	removed = cJSON_GetObjectItem(a, "removed");
	for (int i = 0; i < 1000; i++) {
		cJSON *p = cJSON_Duplicate(cJSON_GetArrayItem(removed, 0), 1);

		snprintf(ns, sizeof(ns), "ns-%04d", i);
		cJSON_ReplaceItemInObject(p, "namespace", cJSON_CreateString(ns));
		cJSON_AddItemToArray(removed, p);
	}
	CHECK_INT(kc_diff_render_html(d, &b), 0);
	CHECK(strstr(kc_buf_str(&b), "The picture stops at 400 boxes") != NULL);
	CHECK(count(kc_buf_str(&b), "class=\"node") <= 400 + 20);
	/* the table still has them all (up to its own row limit) */
	CHECK(strstr(kc_buf_str(&b), "ns-0999") != NULL);
	CHECK(well_formed(kc_buf_str(&b)));
	kc_buf_free(&b);
	cJSON_Delete(d);
}

/* ---- a sealed bundle from the fixtures ---- */

static void
copy_fixture(const char *rel, const char *staging)
{
	char src[1024], dst[1024];
	struct kc_buf b = KC_BUF_INIT(1u << 24);
	char *dir;

	snprintf(src, sizeof(src), "%s/report/bundle/%s", kc_test_data(), rel);
	snprintf(dst, sizeof(dst), "%s/%s", staging, rel);
	CHECK_INT(kc_read_file(src, b.max, &b), 0);
	dir = kc_dirname(dst);
	CHECK_INT(kc_mkdir_p(dir, 0755), 0);
	free(dir);
	CHECK_INT(kc_write_file_atomic(dst, b.data, b.len, 0644), 0);
	kc_buf_free(&b);
}

static const char *const fixture_files[] = {
	"analysis/findings.json", "analysis/inventory.csv", "analysis/selection.json",
	"analysis/who-can.json", "analysis/effective/agents__kagent-bot/agents.json",
	"analysis/effective/agents__rag-agent/agents.json", "audit/sources.json", NULL
};

/* Seal the fixture bundle (unsigned) with hostile case text. */
static void
make_bundle(const char *out)
{
	struct kc_seal_opts o = { 0 };
	cJSON *m = kc_test_load_json("report/manifest.json"), *c;

	for (int i = 0; fixture_files[i] != NULL; i++)
		copy_fixture(fixture_files[i], "st");
	c = cJSON_GetObjectItem(m, "case");
	cJSON_ReplaceItemInObject(c, "id", cJSON_CreateString("IR-<b>7</b>"));
	cJSON_ReplaceItemInObject(c, "purpose", cJSON_CreateString("<script>alert(\"purpose\")</script>"));
	cJSON_ReplaceItemInObject(c, "operator", cJSON_CreateString("O'Brien & \"Sons\" \x01\xc3"));
	o.no_sign = 1;
	o.mtime = 1795000000;
	CHECK_INT(kc_bundle_seal("st", m, &o, out), 0);
	cJSON_Delete(m);
}

static char *
report(const struct kc_report_in *in)
{
	struct kc_buf b = KC_BUF_INIT(KC_REPORT_MAX);

	CHECK_INT(kc_report_html(in, &b), 0);
	return kc_buf_take(&b, NULL);
}

static int
report_rc(const struct kc_report_in *in)
{
	struct kc_buf b = KC_BUF_INIT(KC_REPORT_MAX);
	int r = kc_report_html(in, &b);

	kc_buf_free(&b);
	return r;
}

DEFINE_TEST(test_report_bundle_page)
{
	struct kc_verify_opts vo = { 0 };
	struct kc_verify_result vr;
	struct kc_report_in in = { 0 };
	cJSON *diff = kc_test_load_json("report/diff.json");
	char *s;

	make_bundle("case.tar.gz");
	vo.allow_unsigned = 1;
	CHECK_INT(kc_bundle_verify("case.tar.gz", &vo, &vr), 0);
	in.bundle_path = "case.tar.gz";
	in.vr = &vr;
	in.ledger_status = KC_ERR_NOTFOUND;
	s = report(&in);
	CHECK(well_formed(s));
	CHECK(strstr(s, "<script") == NULL);
	CHECK(strstr(s, "<b>7") == NULL);
	CHECK(strstr(s, "&lt;script&gt;alert(&quot;purpose&quot;)&lt;/script&gt;") != NULL);
	CHECK(strstr(s, "O&#39;Brien &amp; &quot;Sons&quot; \\x01\\xc3") != NULL);
	CHECK(strstr(s, "<span class=\"big\">VALID</span>") != NULL);
	CHECK(strstr(s, "signature not checked") != NULL);
	CHECK(strstr(s, "<span class=\"big\">URGENT</span>") != NULL);
	/* findings table: highest severity first */
	CHECK(strstr(s, "<table class=\"findings\" id=\"findings\">") != NULL);
	CHECK(strstr(s, "AGR-003") != NULL && strstr(s, "AGR-004") != NULL);
	{
		const char *t = strstr(s, "id=\"findings\"");

		CHECK(t != NULL && strstr(t, "AGR-003") < strstr(t, "AGR-004") &&
		    strstr(t, "AGR-004") < strstr(t, "AGR-002"));
	}
	/* one access path per agent; kagent-bot's cluster-wide reader in red,
	 * rag-agent's wildcard rule red (AGR-004 high beats AGR-002 medium) */
	CHECK_INT(count(s, "<svg class=\"access-path\""), 2);
	CHECK(count(s, "class=\"node danger\"") == 2);
	CHECK(strstr(s, "AGR-004 AGR-002 \xc2\xb7 high") != NULL);
	CHECK(strstr(s, "via groups: 4 bindings") != NULL);
	/* inventory: CSV quoting undone, list cells split */
	CHECK(strstr(s, "agents/db, &quot;primary&quot;") != NULL);
	CHECK(strstr(s, "rag-agent-0<br/>rag-agent-1") != NULL);
	/* items: the forbidden one stands out */
	CHECK(strstr(s, "<span class=\"pill bad\">forbidden</span>") != NULL);
	/* audit: source hash, gap, malformed */
	CHECK(strstr(s, "5de46aea809c7bf7dea2b1f08b7bfa6d6b946532518068b996e35b14f25d882c") != NULL);
	CHECK(strstr(s, "Gaps in the audit record") != NULL);
	CHECK(strstr(s, "id=\"who-can-secrets\"") != NULL);
	CHECK(strstr(s, "No custody ledger beside the bundle") != NULL);
	CHECK(strstr(s, "id=\"remediation\"") == NULL);
	free(s);

	/* not verified: says so, never "VALID" */
	in.vr = NULL;
	in.no_verify_reason = "--no-verify";
	s = report(&in);
	CHECK(strstr(s, "<span class=\"big\">NOT VERIFIED</span>") != NULL);
	CHECK(strstr(s, ">VALID<") == NULL);
	CHECK(strstr(s, ">valid<") == NULL);
	free(s);

	/* with a diff: removed paths drawn struck through on the agent */
	in.vr = &vr;
	in.diff = diff;
	in.pre_path = "pre.tar.gz";
	in.pre_vr = &vr;
	s = report(&in);
	CHECK(well_formed(s));
	CHECK(strstr(s, "id=\"remediation\"") != NULL);
	CHECK(count(s, "<svg class=\"access-path\"") == 2);
	CHECK(count(s, "class=\"node removed\"") >= 3);
	CHECK(count(s, "class=\"edge removed\"") >= 3);
	free(s);
	cJSON_Delete(diff);
}

DEFINE_TEST(test_report_bundle_invalid)
{
	struct kc_verify_opts vo = { 0 };
	struct kc_verify_result vr;
	struct kc_report_in in = { 0 };
	struct kc_buf b = KC_BUF_INIT(1u << 24);
	char *s;

	make_bundle("case.tar.gz");
	/* a signature is required without --allow-unsigned: INVALID */
	CHECK_INT(kc_bundle_verify("case.tar.gz", &vo, &vr), KC_ERR_VERIFY);
	in.bundle_path = "case.tar.gz";
	in.vr = &vr;
	in.ledger_status = KC_ERR_NOTFOUND;
	s = report(&in);
	CHECK(strstr(s, "<span class=\"big\">INVALID</span>") != NULL);
	CHECK(strstr(s, "<span class=\"pill bad\">INVALID</span>") != NULL);
	free(s);

	/* a file that is not a bundle: the page still renders and says why */
	CHECK_INT(kc_write_file_atomic("junk.tar.gz", "not a tarball", 13, 0644), 0);
	memset(&vr, 0, sizeof(vr));
	CHECK_INT(kc_bundle_verify("junk.tar.gz", &vo, &vr), KC_ERR_VERIFY);
	in.bundle_path = "junk.tar.gz";
	s = report(&in);
	CHECK(well_formed(s));
	CHECK(strstr(s, "<span class=\"big\">INVALID</span>") != NULL);
	CHECK(strstr(s, "id=\"read-problems\"") != NULL);
	CHECK(strstr(s, "id=\"findings\"") != NULL);
	free(s);

	/* the page must fit its buffer */
	in.bundle_path = "case.tar.gz";
	b.max = 4096;
	CHECK_INT(kc_report_html(&in, &b), KC_ERR_LIMIT);
	kc_buf_free(&b);
}

/* Not verified (--no-verify) or INVALID: what the page shows is still the
 * file whose SHA-256 it names (the report's first hash); a file swapped
 * after that hash shows nothing of itself.  Twins: the right digest shows
 * the findings; a valid file is pinned to verify's digest as before. */
DEFINE_TEST(test_report_bundle_pinned_to_named_hash)
{
	static const char other[] = "0000000000000000000000000000000000000000000000000000000000000000";
	struct kc_verify_opts vo = { 0 };
	struct kc_verify_result vr;
	struct kc_report_in in = { 0 };
	char hex[KC_SHA256_HEX];
	char *s;

	make_bundle("case.tar.gz");
	CHECK_INT(kc_sha256_file("case.tar.gz", hex, NULL), 0);
	in.bundle_path = "case.tar.gz";
	in.ledger_status = KC_ERR_NOTFOUND;
	in.no_verify_reason = "--no-verify";
	in.bundle_sha256 = hex;		/* the file as hashed: shown */
	s = report(&in);
	CHECK(strstr(s, "AGR-003") != NULL);
	CHECK(strstr(s, "changed after it was verified") == NULL);
	free(s);
	in.bundle_sha256 = other;	/* another file was hashed: no page */
	CHECK_INT(report_rc(&in), KC_ERR_VERIFY);
	CHECK(strstr(kc_err_msg(), "changed while the report read it") != NULL);

	/* INVALID (unsigned without --allow-unsigned): the same */
	CHECK_INT(kc_bundle_verify("case.tar.gz", &vo, &vr), KC_ERR_VERIFY);
	in.vr = &vr;
	in.no_verify_reason = NULL;
	CHECK_INT(report_rc(&in), KC_ERR_VERIFY);
	in.bundle_sha256 = hex;
	s = report(&in);
	CHECK(strstr(s, "AGR-003") != NULL);
	free(s);

	/* a damaged file, INVALID: shown as far as it reads when it is the
	 * named file, nothing when it is not */
	{
		struct kc_buf b = KC_BUF_INIT(1u << 24);
		char dhex[KC_SHA256_HEX];

		CHECK_INT(kc_read_file("case.tar.gz", b.max, &b), 0);
		CHECK(b.len > 200);
		b.len -= 100;	/* cut inside the compressed data */
		CHECK_INT(kc_write_file_atomic("cut.tar.gz", b.data, b.len, 0644), 0);
		kc_buf_free(&b);
		CHECK_INT(kc_sha256_file("cut.tar.gz", dhex, NULL), 0);
		memset(&vr, 0, sizeof(vr));
		CHECK_INT(kc_bundle_verify("cut.tar.gz", &vo, &vr), KC_ERR_VERIFY);
		in.bundle_path = "cut.tar.gz";
		in.bundle_sha256 = dhex;
		s = report(&in);
		CHECK(strstr(s, "could not be read to the end") != NULL);
		CHECK(strstr(s, "changed after it was verified") == NULL);
		free(s);
		in.bundle_sha256 = other;
		CHECK_INT(report_rc(&in), KC_ERR_VERIFY);
	}

	/* VALID, then swapped before the page's read: no page (it would say
	 * VALID beside a read problem); twin: the verified file renders */
	vo.allow_unsigned = 1;
	memset(&vr, 0, sizeof(vr));
	CHECK_INT(kc_bundle_verify("case.tar.gz", &vo, &vr), 0);
	in.bundle_path = "case.tar.gz";
	in.bundle_sha256 = hex;
	s = report(&in);
	CHECK(strstr(s, "AGR-003") != NULL);
	free(s);
	CHECK_INT(rename("cut.tar.gz", "case.tar.gz"), 0);
	CHECK_INT(report_rc(&in), KC_ERR_VERIFY);
}

/* A recertified entry's counts are whole numbers up to 1e15 (the ledger
 * accepts them so; an altered line is still listed with its problem): the
 * custody table prints them whole.  They were cast to int, undefined above
 * INT_MAX (x86 printed -2147483648).  Twin: a small count. */
DEFINE_TEST(test_report_recertified_counts_whole)
{
	static const char *const agents[] = { "3000000000", "7" };

	for (int i = 0; i < 2; i++) {
		struct kc_verify_opts vo = { 0 };
		struct kc_verify_result vr;
		struct kc_report_in in = { 0 };
		char json[1024], want[64], *s;
		cJSON *ledger;

		snprintf(json, sizeof(json), "{\"verified\":false,\"history\":[{\"line\":2,\"seq\":2,"
		    "\"time\":\"2026-12-04T10:00:00Z\",\"action\":\"recertified\",\"actor\":{\"name\":\"r\"},"
		    "\"recertification\":{\"decision\":\"approve\",\"scope_file\":\"s.yaml\",\"scope_sha256\":"
		    "\"ab\",\"summary\":{\"agents\":%s,\"within_scope\":1,\"beyond_scope\":0,"
		    "\"missing_from_scope\":0,\"scope_entries_without_agent\":0}}}]}", agents[i]);
		CHECK((ledger = cJSON_Parse(json)) != NULL);
		if (i == 0)
			make_bundle("case.tar.gz");
		vo.allow_unsigned = 1;
		CHECK_INT(kc_bundle_verify("case.tar.gz", &vo, &vr), 0);
		in.bundle_path = "case.tar.gz";
		in.vr = &vr;
		in.ledger = ledger;
		in.ledger_status = KC_ERR_VERIFY;
		s = report(&in);
		CHECK(well_formed(s));
		snprintf(want, sizeof(want), "); %s agents: 1 within scope", agents[i]);
		if (strstr(s, want) == NULL)
			kc_test_fail(__FILE__, __LINE__, "no '%s' in the custody table", want);
		CHECK(strstr(s, "-2147483648") == NULL);
		free(s);
		cJSON_Delete(ledger);
	}
}

/* A member whose bytes are not the ones SHA256SUMS names is not shown, and
 * says so, while the members around it are (the report uses each member
 * as it reads it, checked first); twin: the same bundle untouched shows
 * the findings without the problem. */
DEFINE_TEST(test_report_member_not_matching_sums)
{
	struct kc_report_in in = { 0 };
	char buf[1 << 16], *s, *at;
	gzFile g;
	int n;
	struct kc_buf b = KC_BUF_INIT(1u << 24);

	make_bundle("case.tar.gz");
	in.bundle_path = "case.tar.gz";
	in.ledger_status = KC_ERR_NOTFOUND;
	in.no_verify_reason = "--no-verify";
	s = report(&in);
	CHECK(strstr(s, "AGR-003") != NULL);
	CHECK(strstr(s, "does not match its SHA-256") == NULL);
	free(s);
	/* one byte of analysis/findings.json changed, the tar's shape kept */
	CHECK((g = gzopen("case.tar.gz", "rb")) != NULL);
	while ((n = gzread(g, buf, sizeof(buf))) > 0)
		kc_buf_add(&b, buf, (size_t)n);
	gzclose(g);
	CHECK((at = memmem(b.data, b.len, "AGR-003", 7)) != NULL);
	at[6] = '9';
	CHECK((g = gzopen("edited.tar.gz", "wb")) != NULL);
	CHECK_INT(gzwrite(g, b.data, (unsigned)b.len), (int)b.len);
	gzclose(g);
	kc_buf_free(&b);
	in.bundle_path = "edited.tar.gz";
	s = report(&in);
	CHECK(strstr(s, "analysis/findings.json does not match its SHA-256 in SHA256SUMS: not shown") != NULL);
	CHECK(strstr(s, "AGR-003") == NULL && strstr(s, "AGR-009") == NULL);
	CHECK(strstr(s, "id=\"who-can-secrets\"") != NULL);	/* the others are shown */
	free(s);
}

/* A who-can.json whose query has "namespaces" as an array (no namespace
 * names): the page says the document is not shown and why, and shows no
 * who-can table, where it crashed (a NULL place reached the rows' hash).
 * Twin: the fixture's own who-can.json gives its tables. */
DEFINE_TEST(test_report_whocan_namespaces_not_object)
{
	static const char bad[] = "{\"queries\":[{\"verb\":\"get\",\"resource\":\"secrets\","
	    "\"namespaces\":[[{\"subject\":{\"kind\":\"User\",\"name\":\"x\"}}]]}]}";
	struct kc_report_in in = { 0 };
	struct kc_seal_opts o = { 0 };
	cJSON *m = kc_test_load_json("report/manifest.json");
	char *s;

	for (int i = 0; fixture_files[i] != NULL; i++)
		copy_fixture(fixture_files[i], "wst");
	CHECK_INT(kc_write_file_atomic("wst/analysis/who-can.json", bad, strlen(bad), 0644), 0);
	o.no_sign = 1;
	o.mtime = 1795000000;
	CHECK_INT(kc_bundle_seal("wst", m, &o, "wc.tar.gz"), 0);
	cJSON_Delete(m);
	in.bundle_path = "wc.tar.gz";
	in.ledger_status = KC_ERR_NOTFOUND;
	in.no_verify_reason = "--no-verify";
	s = report(&in);
	CHECK(strstr(s, "analysis/who-can.json is not shown: a query&#39;s &quot;namespaces&quot; is not an "
	    "object of namespace names") != NULL || strstr(s, "analysis/who-can.json is not shown") != NULL);
	CHECK(strstr(s, "id=\"who-can-secrets\"") == NULL);
	CHECK(strstr(s, "AGR-003") != NULL);	/* the rest is shown */
	free(s);
	/* the twin */
	make_bundle("ok.tar.gz");
	in.bundle_path = "ok.tar.gz";
	s = report(&in);
	CHECK(strstr(s, "id=\"who-can-secrets\"") != NULL);
	CHECK(strstr(s, "analysis/who-can.json is not shown") == NULL);
	free(s);
}

/* who-can.json: in a bundle verified VALID it is read as it is inflated
 * (never held whole), and the file swapped after the verification for one
 * whose who-can.json differs gives no page; not verified, it is held and
 * used only when its SHA-256 is the one SHA256SUMS names (a forged member
 * is never parsed): one byte changed, not shown and the page says why;
 * cut short inside it, nothing of it is shown.  Twins: the bundle
 * untouched shows the tables and the note, verified or not. */
static void
edit_gz(const char *in, const char *out, const char *find, char to, long cut_after)
{
	char buf[1 << 16], *at = NULL;
	gzFile g;
	int n;
	struct kc_buf b = KC_BUF_INIT(1u << 24);

	CHECK((g = gzopen(in, "rb")) != NULL);
	while ((n = gzread(g, buf, sizeof(buf))) > 0)
		kc_buf_add(&b, buf, (size_t)n);
	gzclose(g);
	/* its last place: who-can.json is the last member the report reads
	 * (the manifest before it names the blind spots too) */
	for (char *p = b.data; (p = memmem(p, b.len - (size_t)(p - b.data), find, strlen(find))) != NULL; p++)
		at = p;
	CHECK(at != NULL);
	if (at == NULL)
		return;
	if (cut_after >= 0)
		b.len = (size_t)(at - b.data) + (size_t)cut_after;
	else
		at[strlen(find) - 1] = to;
	CHECK((g = gzopen(out, "wb")) != NULL);
	CHECK_INT(gzwrite(g, b.data, (unsigned)b.len), (int)b.len);
	gzclose(g);
	kc_buf_free(&b);
}

DEFINE_TEST(test_report_whocan_streamed_checked)
{
	struct kc_verify_opts vo = { 0 };
	struct kc_verify_result vr;
	struct kc_report_in in = { 0 };
	char *s;

	make_bundle("case.tar.gz");
	/* verified VALID: streamed */
	vo.allow_unsigned = 1;
	memset(&vr, 0, sizeof(vr));
	CHECK_INT(kc_bundle_verify("case.tar.gz", &vo, &vr), 0);
	in.ledger_status = KC_ERR_NOTFOUND;
	in.bundle_path = "case.tar.gz";
	in.vr = &vr;
	s = report(&in);
	CHECK(strstr(s, "id=\"who-can-secrets\"") != NULL);
	CHECK(strstr(s, "system:masters bypasses RBAC anyway") != NULL);
	free(s);
	edit_gz("case.tar.gz", "edited.tar.gz", "bypasses RBAC anyway", 'Y', -1);
	CHECK_INT(rename("edited.tar.gz", "swapped.tar.gz"), 0);
	CHECK_INT(system("cp case.tar.gz kept.tar.gz && cp swapped.tar.gz case.tar.gz"), 0);
	CHECK_INT(report_rc(&in), KC_ERR_VERIFY);	/* changed after it was verified */
	CHECK_INT(system("cp kept.tar.gz case.tar.gz"), 0);
	kc_err_clear();
	in.vr = NULL;
	/* not verified: held, checked, then parsed */
	in.no_verify_reason = "--no-verify";
	in.bundle_path = "case.tar.gz";
	s = report(&in);
	CHECK(strstr(s, "id=\"who-can-secrets\"") != NULL);
	CHECK(strstr(s, "system:masters bypasses RBAC anyway") != NULL);
	CHECK(strstr(s, "does not match its SHA-256") == NULL);
	free(s);
	/* one byte of who-can.json changed, the tar's shape kept */
	edit_gz("case.tar.gz", "edited.tar.gz", "bypasses RBAC anyway", 'Y', -1);
	in.bundle_path = "edited.tar.gz";
	s = report(&in);
	CHECK(strstr(s, "analysis/who-can.json does not match its SHA-256 in SHA256SUMS: not shown") != NULL);
	CHECK(strstr(s, "id=\"who-can-secrets\"") == NULL);
	CHECK(strstr(s, "bypasses RBAC anyway") == NULL && strstr(s, "bypasses RBAC anywaY") == NULL);
	CHECK(strstr(s, "AGR-003") != NULL);	/* the members before it are shown */
	free(s);
	/* the archive cut inside who-can.json, its queries read: the read stops
	 * there and nothing of it is shown */
	edit_gz("case.tar.gz", "cut.tar.gz", "the Node authorizer", 0, 5);	/* after every query */
	in.bundle_path = "cut.tar.gz";
	s = report(&in);
	CHECK(strstr(s, "could not be read to the end") != NULL);
	CHECK(strstr(s, "id=\"who-can-secrets\"") == NULL);
	CHECK(strstr(s, "kagent-bot-secrets") == NULL || strstr(s, "id=\"who-can-") == NULL);
	CHECK(strstr(s, "AGR-003") != NULL);
	free(s);
}
