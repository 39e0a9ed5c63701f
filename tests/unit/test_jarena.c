/* test_jarena.c - cJSON trees packed into an arena (util/jarena.h). */
#include <stdint.h>
#include <stdio.h>
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

/* ---- kc_jarena_share ---- */

static const char role_fmt[] =
    "{\"metadata\":{\"name\":\"reader\",\"namespace\":\"ns-%d\",\"labels\":{\"app\":\"x\"}},"
    "\"rules\":[{\"verbs\":[\"get\",\"list\",\"watch\"],\"apiGroups\":[\"\"],"
    "\"resources\":[\"pods\",\"configmaps\"]},{\"verbs\":[\"get\"],\"apiGroups\":[\"apps\"],"
    "\"resources\":[\"deployments\"],\"resourceNames\":[\"a\",\"b\"]}]}";

static cJSON *
role(int i)
{
	char text[sizeof(role_fmt) + 16];

	snprintf(text, sizeof(text), role_fmt, i);
	return cJSON_Parse(text);
}

/* Equal member lists are stored once: the roles' rules are one list, each
 * copy still prints as its source; the metadata (another namespace each)
 * is not shared.  The twin: without kc_jarena_share nothing is. */
DEFINE_TEST(test_jarena_share_same)
{
	for (int on = 1; on >= 0; on--) {
		struct kc_jarena *a = kc_jarena_new();
		cJSON *src[3], *c[3];

		CHECK(a != NULL);
		if (on)
			kc_jarena_share(a);
		for (int i = 0; i < 3; i++) {
			char *p1, *p2;

			src[i] = role(i);
			c[i] = kc_jarena_copy(a, src[i]);
			CHECK(src[i] != NULL && c[i] != NULL && kc_jarena_owns(c[i]));
			p1 = cJSON_PrintUnformatted(src[i]);
			p2 = cJSON_PrintUnformatted(c[i]);
			CHECK_STR(p2, p1);
			free(p1);
			free(p2);
		}
		/* the same rules: one list when shared, two otherwise */
		CHECK((kc_json_get(c[0], "rules")->child == kc_json_get(c[2], "rules")->child) == on);
		CHECK((kc_json_get(kc_json_get(c[0], "metadata"), "labels")->child ==
		    kc_json_get(kc_json_get(c[1], "metadata"), "labels")->child) == on);
		/* the nodes holding the lists are each copy's own, and so are the
		 * lists that differ (the namespace) */
		CHECK(kc_json_get(c[0], "rules") != kc_json_get(c[2], "rules"));
		CHECK(kc_json_get(c[0], "metadata")->child != kc_json_get(c[1], "metadata")->child);
		/* the first's prev is the list's last, for every holder */
		CHECK(kc_json_get(c[1], "rules")->child->prev == cJSON_GetArrayItem(kc_json_get(c[1], "rules"), 1));
		for (int i = 0; i < 3; i++)
			cJSON_Delete(src[i]);
		kc_jarena_free(a);
	}
}

/* Lists that print differently are never shared: -0 and 0, 1 and 1.5,
 * true and false, null and false, a key or a value that differs past the
 * 64 bytes strings are stored once up to, another order, one member
 * more, a number and the same digits as a string. */
DEFINE_TEST(test_jarena_share_different)
{
	static const char *const pairs[][2] = {
		{ "{\"a\":[0]}", "{\"a\":[-0]}" },
		{ "{\"a\":[1]}", "{\"a\":[1.5]}" },
		{ "{\"a\":[true]}", "{\"a\":[false]}" },
		{ "{\"a\":[null]}", "{\"a\":[false]}" },
		{ "{\"a\":[\"1\"]}", "{\"a\":[1]}" },
		{ "{\"a\":[\"x\",\"y\"]}", "{\"a\":[\"y\",\"x\"]}" },
		{ "{\"a\":[\"x\"]}", "{\"a\":[\"x\",\"x\"]}" },
		{ "{\"a\":{\"k\":1}}", "{\"a\":{\"K\":1}}" },
		{ "{\"a\":{\"k\":[]}}", "{\"a\":{\"k\":{}}}" },
		{ "{\"a\":[\"0123456789012345678901234567890123456789012345678901234567890123456789a\"]}",
		  "{\"a\":[\"0123456789012345678901234567890123456789012345678901234567890123456789b\"]}" },
		{ "{\"a\":{\"0123456789012345678901234567890123456789012345678901234567890123456789a\":1}}",
		  "{\"a\":{\"0123456789012345678901234567890123456789012345678901234567890123456789b\":1}}" },
		{ "{\"a\":[[1,[2]]]}", "{\"a\":[[1,[3]]]}" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct kc_jarena *a = kc_jarena_new();
		cJSON *s0 = cJSON_Parse(pairs[i][0]), *s1 = cJSON_Parse(pairs[i][1]);
		cJSON *c0, *c1, *c2;
		char *p;

		CHECK(a != NULL && s0 != NULL && s1 != NULL);
		kc_jarena_share(a);
		c0 = kc_jarena_copy(a, s0);
		c1 = kc_jarena_copy(a, s1);
		c2 = kc_jarena_copy(a, s0);	/* the twin: the same again is shared */
		CHECK(kc_json_get(c0, "a")->child != kc_json_get(c1, "a")->child);
		CHECK(kc_json_get(c0, "a")->child == kc_json_get(c2, "a")->child);
		p = cJSON_PrintUnformatted(c0);
		CHECK_STR(p, pairs[i][0]);
		free(p);
		p = cJSON_PrintUnformatted(c1);
		CHECK_STR(p, pairs[i][1]);
		free(p);
		cJSON_Delete(s0);
		cJSON_Delete(s1);
		kc_jarena_free(a);
	}
}

/* The room a shared copy took is given back: 5,000 roles of 5,000
 * namespaces fit in 3 MiB shared, where unshared they take 3 times as
 * much (each keeps 6 nodes of its 27: its own, its metadata's three,
 * its labels' and its rules'). */
DEFINE_TEST(test_jarena_share_room)
{
	size_t bytes[2];

	for (int on = 0; on < 2; on++) {
		struct kc_jarena *a = kc_jarena_new();

		CHECK(a != NULL);
		if (on)
			kc_jarena_share(a);
		for (int i = 0; i < 5000; i++) {
			cJSON *s = role(i);

			CHECK(kc_jarena_take(a, s) != NULL);
		}
		bytes[on] = kc_jarena_bytes(a);
		kc_jarena_free(a);
	}
	CHECK(bytes[1] <= ((size_t)3 << 20));	/* 2.4 MiB */
	CHECK(bytes[0] >= 3 * bytes[1]);	/* 9.1 MiB */
}

/* Random documents over a small alphabet (so most lists repeat, at every
 * depth, and some differ only in -0, a long string's end or an order),
 * copied one after the other into one shared arena: every copy still
 * prints as its source once all are made (a list given back wrongly
 * would be overwritten by a later copy). */
static cJSON *
random_tree(unsigned *seed, int depth, int max)
{
	static const char *const keys[] = { "a", "b", "c" };
	static const char *const strs[] = {
		"x", "y", "",
		"0123456789012345678901234567890123456789012345678901234567890123456789a",
		"0123456789012345678901234567890123456789012345678901234567890123456789b",
	};
	static const double nums[] = { 0.0, -0.0, 1.0, 2.5 };
	int kind = depth >= max ? (int)(rand_r(seed) % 6) : (int)(rand_r(seed) % 8);
	cJSON *o;

	switch (kind) {
	case 0: return cJSON_CreateString(strs[rand_r(seed) % 5]);
	case 1: return cJSON_CreateNumber(nums[rand_r(seed) % 4]);
	case 2: return cJSON_CreateBool(rand_r(seed) % 2);
	case 3: return cJSON_CreateNull();
	case 4: return cJSON_CreateArray();
	case 5: return cJSON_CreateObject();
	case 6:
		o = cJSON_CreateArray();
		for (int n = (int)(rand_r(seed) % 4); n > 0; n--)
			cJSON_AddItemToArray(o, random_tree(seed, depth + 1, max));
		return o;
	default:
		o = cJSON_CreateObject();
		for (int n = (int)(rand_r(seed) % 4); n > 0; n--)
			cJSON_AddItemToObject(o, keys[rand_r(seed) % 3], random_tree(seed, depth + 1, max));
		return o;
	}
}

/* How many member lists of the roots' members are also those of an
 * earlier root's member (the same pointer). */
static int
shared_lists(cJSON **c, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		for (const cJSON *e = c[i]->child; e != NULL; e = e->next)
			for (int j = 0; e->child != NULL && j < i; j++) {
				const cJSON *f;

				for (f = c[j]->child; f != NULL && f->child != e->child; f = f->next)
					;
				if (f != NULL) {
					k++;
					break;
				}
			}
	return k;
}

DEFINE_TEST(test_jarena_share_random)
{
	enum { N = 3000 };
	struct kc_jarena *a = kc_jarena_new(), *u = kc_jarena_new();
	cJSON **src = calloc(N, sizeof(*src)), **c = calloc(N, sizeof(*c));
	unsigned seed = 11;

	CHECK(a != NULL && u != NULL && src != NULL && c != NULL);
	kc_jarena_share(a);
	for (int i = 0; i < N; i++) {
		src[i] = random_tree(&seed, 0, i % 2 ? 2 : 4);	/* shallow and deep */
		c[i] = kc_jarena_copy(a, src[i]);
		CHECK(c[i] != NULL);
	}
	for (int i = 0; i < N; i++) {
		char *p1 = cJSON_PrintUnformatted(src[i]), *p2 = cJSON_PrintUnformatted(c[i]);

		CHECK_STR(p2, p1);
		free(p1);
		free(p2);
		cJSON_Delete(src[i]);
	}
	/* the alphabet is small: lists did repeat, and are shared, in the
	 * shared arena only */
	CHECK(shared_lists(c, N) > 20);	/* 29 with this seed */
	for (int i = 0; i < N; i++)
		c[i] = kc_jarena_copy(u, c[i]);
	CHECK(shared_lists(c, N) == 0);
	free(src);
	free(c);
	kc_jarena_free(a);
	kc_jarena_free(u);
}
