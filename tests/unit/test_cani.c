/* test_cani.c - the kubectl-identical can-i table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/cani.h"
#include "harness.h"
#include "util/buf.h"
#include "util/fsutil.h"

static char *
data(const char *rel)
{
	struct kc_buf b = KC_BUF_INIT(1 << 24);
	char path[1024];

	snprintf(path, sizeof(path), "%s/rbac/cani/%s", kc_test_data(), rel);
	if (kc_read_file(path, 1 << 24, &b) != 0) {
		kc_buf_free(&b);
		return NULL;
	}
	return kc_buf_take(&b, NULL);
}

static void
golden(const char *name)
{
	char rel[256], *review, *want;
	struct kc_buf out = KC_BUF_INIT(1 << 24), warn = KC_BUF_INIT(1 << 16);
	cJSON *doc;

	snprintf(rel, sizeof(rel), "%s.review.json", name);
	review = data(rel);
	snprintf(rel, sizeof(rel), "%s.kubectl.txt", name);
	want = data(rel);
	CHECK(review != NULL && want != NULL);
	doc = cJSON_Parse(review ? review : "");
	CHECK(doc != NULL);
	CHECK_INT(kc_cani_render(doc, &out, &warn), 0);
	if (want != NULL && strcmp(kc_buf_str(&out), want) != 0)
		kc_test_fail(__FILE__, __LINE__, "%s: table differs from kubectl's:\n%s---\n%s", name,
		    kc_buf_str(&out), want);
	CHECK_INT(warn.len, 0);
	cJSON_Delete(doc);
	free(review);
	free(want);
	kc_buf_free(&out);
	kc_buf_free(&warn);
}

/* Recorded from kubectl v1.32 against kube-apiserver v1.20.2. */
DEFINE_TEST(test_cani_golden_plain)
{
	golden("plain-agent");
}

/* verbs of one (group, resource) from several bindings, merged once each */
DEFINE_TEST(test_cani_golden_merged)
{
	golden("merged-agent");
}

/* resourceNames (with ""), subresources, '*' groups and resources,
 * multi-byte names (widths in runes), a long cell, non-resource URLs */
DEFINE_TEST(test_cani_golden_names)
{
	golden("names-agent");
}

DEFINE_TEST(test_cani_incomplete_warning)
{
	char *review = data("incomplete.review.json");
	struct kc_buf out = KC_BUF_INIT(1 << 20), warn = KC_BUF_INIT(1 << 16);
	cJSON *doc = cJSON_Parse(review ? review : "");

	CHECK_INT(kc_cani_render(doc, &out, &warn), 0);
	CHECK_STR(kc_buf_str(&warn), "Warning: the list may be incomplete: webhook authorizer does not "
	    "support user rule resolution\n");
	CHECK_STR(kc_buf_str(&out),
	    "Resources   Non-Resource URLs   Resource Names   Verbs\n"
	    "pods        []                  []               [get list]\n");
	cJSON_Delete(doc);
	free(review);
	kc_buf_free(&out);
	kc_buf_free(&warn);
}

DEFINE_TEST(test_cani_status_only_and_empty)
{
	struct kc_buf out = KC_BUF_INIT(1 << 20);
	cJSON *doc = cJSON_Parse("{\"resourceRules\":[{\"verbs\":[\"get\"],\"resources\":[\"pods\"]}]}");

	/* a rule without apiGroups vanishes */
	CHECK_INT(kc_cani_render(doc, &out, NULL), 0);
	CHECK_STR(kc_buf_str(&out), "Resources   Non-Resource URLs   Resource Names   Verbs\n");
	cJSON_Delete(doc);
	kc_buf_reset(&out);
	doc = cJSON_Parse("{\"status\":{\"resourceRules\":[{\"verbs\":[\"get\",7]}]}}");
	CHECK(kc_cani_render(doc, &out, NULL) != 0);
	cJSON_Delete(doc);
	kc_buf_free(&out);
}

/* Go text/tabwriter behaviour kubectl inherits: min width 6, padding 3,
 * the last cell unpadded, empty cells padded, a line with one cell ends
 * the column block, widths remembered after it. */
DEFINE_TEST(test_cani_tabwriter)
{
	struct kc_buf out = KC_BUF_INIT(1 << 16);
	const char in[] = "a\tbb\tc\n\tx\tyy\nlonger-cell\t\tz\n";

	CHECK_INT(kc_cani_tabwrite(in, sizeof(in) - 1, &out), 0);
	CHECK_STR(kc_buf_str(&out),
	    "a             bb    c\n"
	    "              x     yy\n"
	    "longer-cell         z\n");
	kc_buf_reset(&out);
	CHECK_INT(kc_cani_tabwrite("ä\tb\nsolo\nab\tc\n", 15, &out), 0);
	CHECK_STR(kc_buf_str(&out), "ä     b\nsolo\nab    c\n");
	kc_buf_reset(&out);
	CHECK_INT(kc_cani_tabwrite("no newline\tat end", 17, &out), 0);
	CHECK_STR(kc_buf_str(&out), "no newline   at end");
	kc_buf_free(&out);
}
