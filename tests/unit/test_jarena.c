/* test_jarena.c - cJSON trees packed into an arena (util/jarena.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "util/jarena.h"
#include "util/json.h"

static const char doc[] =
    "{\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns-1\",\"labels\":{\"k\":\"v\"}},"
    "\"rules\":[{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"secrets\"]}]},"
    "{\"metadata\":{\"name\":\"b\",\"namespace\":\"ns-1\"},\"n\":-12.5,\"t\":true,\"f\":false,"
    "\"z\":null,\"e\":{},\"ea\":[],\"name\":\"dup\",\"name\":\"last\"}]}";

/* The copy is the same document: printed the same, members in the same
 * order (duplicate keys included: cJSON_Compare cannot judge those, it
 * takes the first of a key on both sides), equal by cJSON_Compare where
 * keys are unique, and the reader's rules hold (kc_json_get takes the
 * last of duplicate keys). */
DEFINE_TEST(test_jarena_copy_same)
{
	struct kc_jarena *a = kc_jarena_new();
	cJSON *src = cJSON_Parse(doc), *c;
	char *p1, *p2;

	CHECK(a != NULL && src != NULL);
	c = kc_jarena_copy(a, src);
	CHECK(c != NULL);
	CHECK(kc_jarena_owns(c));
	CHECK(!kc_jarena_owns(src));
	CHECK(cJSON_Compare(kc_json_get(src, "items")->child, kc_json_get(c, "items")->child, 1));
	p1 = cJSON_Print(src);
	p2 = cJSON_Print(c);
	CHECK_STR(p2, p1);
	free(p1);
	free(p2);
	CHECK_STR(kc_json_str0(cJSON_GetArrayItem(kc_json_get(c, "items"), 1), "name"), "last");
	/* the first's prev is the last, as cJSON appends by it */
	CHECK(kc_json_get(c, "items")->child->prev == cJSON_GetArrayItem(kc_json_get(c, "items"), 1));
	/* its negative twin: a changed copy is no longer the same */
	cJSON_AddItemToObject(kc_json_get_mut(c, "items")->child, "extra", cJSON_CreateString("x"));
	CHECK(!cJSON_Compare(kc_json_get(src, "items")->child, kc_json_get(c, "items")->child, 1));
	p1 = cJSON_Print(src);
	p2 = cJSON_Print(c);
	CHECK(strcmp(p1, p2) != 0);
	free(p1);
	free(p2);
	cJSON_Delete(c);	/* frees the heap node, leaves the arena's */
	cJSON_Delete(src);
	kc_jarena_free(a);
}

/* Equal strings are stored once per arena; string values are marked
 * shared, so cJSON_SetValuestring cannot write into one in place. */
DEFINE_TEST(test_jarena_strings_shared)
{
	struct kc_jarena *a = kc_jarena_new();
	cJSON *src = cJSON_Parse(doc), *c;
	const cJSON *i0, *i1, *name;

	c = kc_jarena_copy(a, src);
	CHECK(c != NULL);
	i0 = cJSON_GetArrayItem(kc_json_get(c, "items"), 0);
	i1 = cJSON_GetArrayItem(kc_json_get(c, "items"), 1);
	CHECK(kc_json_get(i0, "metadata")->string == kc_json_get(i1, "metadata")->string);
	CHECK(kc_json_get(kc_json_get(i0, "metadata"), "namespace")->valuestring ==
	    kc_json_get(kc_json_get(i1, "metadata"), "namespace")->valuestring);
	/* the source's are separate allocations */
	CHECK(kc_json_get(cJSON_GetArrayItem(kc_json_get(src, "items"), 0), "metadata")->string !=
	    kc_json_get(cJSON_GetArrayItem(kc_json_get(src, "items"), 1), "metadata")->string);
	name = kc_json_get(kc_json_get(i0, "metadata"), "namespace");
	CHECK(cJSON_SetValuestring((cJSON *)name, "x") == NULL);
	CHECK_STR(kc_json_str0(kc_json_get(i1, "metadata"), "namespace"), "ns-1");
	cJSON_Delete(c);
	cJSON_Delete(src);
	kc_jarena_free(a);
}

/* A duplicate of an arena tree is a heap tree that outlives the arena;
 * after kc_jarena_free no pointer is the arena's any more.  A string
 * larger than a block is copied whole. */
DEFINE_TEST(test_jarena_outlive_and_large)
{
	struct kc_jarena *a = kc_jarena_new();
	size_t big = (3u << 20) + 17;
	char *s = malloc(big + 1);
	cJSON *src, *c, *d;

	CHECK(a != NULL && s != NULL);
	memset(s, 'x', big);
	s[big] = '\0';
	src = cJSON_CreateObject();
	cJSON_AddStringToObject(src, "big", s);
	cJSON_AddStringToObject(src, "small", "y");
	c = kc_jarena_copy(a, src);
	CHECK(c != NULL);
	CHECK(kc_jarena_owns(kc_json_get(c, "big")->valuestring));
	CHECK(strlen(kc_json_str0(c, "big")) == big);
	CHECK(kc_jarena_bytes(a) >= big);
	d = cJSON_Duplicate(c, 1);
	CHECK(d != NULL && !kc_jarena_owns(d) && !kc_jarena_owns(kc_json_get(d, "big")->valuestring));
	CHECK(!kc_jarena_owns(kc_json_get(d, "small")->string));
	kc_jarena_seal(a);
	{
		const void *was = c;

		cJSON_Delete(c);
		kc_jarena_free(a);
		CHECK(!kc_jarena_owns(was));
	}
	CHECK(cJSON_Compare(src, d, 1));
	CHECK(strlen(kc_json_str0(d, "big")) == big);
	cJSON_Delete(d);
	cJSON_Delete(src);
	free(s);
	kc_jarena_free(NULL);
	CHECK(kc_jarena_copy(NULL, NULL) == NULL);
}

/* kc_jarena_parse builds the same tree as cJSON's parser, in the arena;
 * its twin: what cJSON refuses (a cut document) it refuses too. */
DEFINE_TEST(test_jarena_parse)
{
	struct kc_jarena *a = kc_jarena_new();
	cJSON *heap = cJSON_Parse(doc), *j;
	char *p1, *p2;

	CHECK(a != NULL && heap != NULL);
	j = kc_jarena_parse(a, doc, strlen(doc));
	CHECK(j != NULL && kc_jarena_owns(j) && kc_jarena_owns(kc_json_get(j, "items")->string));
	p1 = cJSON_Print(heap);
	p2 = cJSON_Print(j);
	CHECK(p1 != NULL && p2 != NULL && !kc_jarena_owns(p2));	/* printing is on the heap */
	CHECK_STR(p2, p1);
	free(p1);
	free(p2);
	CHECK(kc_jarena_parse(a, doc, strlen(doc) - 3) == NULL);
	CHECK(kc_jarena_parse(a, "{\"a\":", 5) == NULL);
	/* after a parse, the heap is the heap again */
	p1 = cJSON_PrintUnformatted(heap);
	CHECK(p1 != NULL && !kc_jarena_owns(p1));
	free(p1);
	cJSON_Delete(j);
	cJSON_Delete(heap);
	kc_jarena_free(a);
	j = kc_jarena_parse(NULL, "[1]", 3);	/* no arena: the heap */
	CHECK(j != NULL && !kc_jarena_owns(j));
	cJSON_Delete(j);
}

/* kc_jarena_take: the tree replaced by its packed copy (the heap one
 * deleted: LeakSanitizer would see it otherwise); its twins: no arena
 * gives the tree back as it is, and NULL stays NULL. */
DEFINE_TEST(test_jarena_take)
{
	struct kc_jarena *a = kc_jarena_new();
	cJSON *t = cJSON_Parse(doc), *c;
	char *p1 = cJSON_PrintUnformatted(t), *p2;

	c = kc_jarena_take(a, t);
	CHECK(c != NULL && c != t && kc_jarena_owns(c));
	p2 = cJSON_PrintUnformatted(c);
	CHECK_STR(p2, p1);
	free(p2);
	t = cJSON_Parse(doc);
	CHECK(kc_jarena_take(NULL, t) == t && !kc_jarena_owns(t));
	CHECK(kc_jarena_take(a, NULL) == NULL);
	cJSON_Delete(t);
	cJSON_Delete(c);
	free(p1);
	kc_jarena_free(a);
}

/* kc_jarena_reset: the arena is empty after it and parses again into the
 * same 1 MiB blocks (no new mapping for a scratch arena's next page);
 * a large block is unmapped at the reset.  Twin: the reset arena's new
 * tree is the whole document, not a mix with the old one. */
DEFINE_TEST(test_jarena_reset)
{
	struct kc_jarena *a = kc_jarena_new();
	size_t big = (size_t)1 << 20;	/* a block of its own, of 2 MiB */
	char *text = malloc(big + 16);
	cJSON *j, *k;
	char *p1, *p2;

	CHECK(a != NULL && text != NULL);
	j = kc_jarena_parse(a, doc, strlen(doc));
	CHECK(j != NULL && kc_jarena_owns(j));
	CHECK(kc_jarena_bytes(a) > 0);
	p1 = cJSON_PrintUnformatted(j);
	kc_jarena_reset(a);
	CHECK_INT((int)kc_jarena_bytes(a), 0);
	k = kc_jarena_parse(a, doc, strlen(doc));
	CHECK(k != NULL && kc_jarena_owns(k));
#if !defined(__SANITIZE_ADDRESS__)
	CHECK(((uintptr_t)k >> 20) == ((uintptr_t)j >> 20));	/* the same block, reused */
#endif
	p2 = cJSON_PrintUnformatted(k);
	CHECK_STR(p2, p1);
	free(p2);
	/* a string of 1 MiB: its own block, unmapped at the reset */
	text[0] = '"';
	memset(text + 1, 'x', big);
	text[big + 1] = '"';
	j = kc_jarena_parse(a, text, big + 2);
	CHECK(j != NULL && cJSON_IsString(j) && strlen(j->valuestring) == big);
	CHECK(kc_jarena_bytes(a) >= ((size_t)3 << 20));
	p2 = j->valuestring;
	CHECK(kc_jarena_owns(p2));
	kc_jarena_reset(a);
	CHECK_INT((int)kc_jarena_bytes(a), 0);
	CHECK(!kc_jarena_owns(p2));	/* not kept: only 1 MiB blocks are */
	/* the twin: a document parsed after the reset is itself whole */
	k = kc_jarena_parse(a, "{\"a\":[1,2]}", 11);
	p2 = cJSON_PrintUnformatted(k);
	CHECK_STR(p2, "{\"a\":[1,2]}");
	free(p2);
	free(p1);
	free(text);
	kc_jarena_free(a);
}
