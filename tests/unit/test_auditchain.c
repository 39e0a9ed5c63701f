/* test_auditchain.c - the audit sink's item spans and digest chain
 * (pipeline/audit_sink.h, manifest/auditchain.h). Each test runs in its
 * own work folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "manifest/auditchain.h"
#include "manifest/sign.h"
#include "pipeline/audit_sink.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/json.h"

static int
spans(const char *body, size_t *n, char out[][128])
{
	size_t s[8], e[8];
	int r = kc_sink_item_spans(body, strlen(body), s, e, 8, n);

	for (size_t i = 0; r == 0 && i < *n; i++)
		snprintf(out[i], 128, "%.*s", (int)(e[i] - s[i]), body + s[i]);
	return r;
}

DEFINE_TEST(test_sink_item_spans)
{
	char out[8][128];
	size_t n = 0;

	CHECK_INT(spans("{\"kind\":\"EventList\",\"items\":[{\"a\":\"x]}\\\"{\"} , {\"b\":[1,{\"c\":2}]},{}]}", &n, out), 0);
	CHECK_INT(n, 3);
	CHECK_STR(out[0], "{\"a\":\"x]}\\\"{\"}");
	CHECK_STR(out[1], "{\"b\":[1,{\"c\":2}]}");
	CHECK_STR(out[2], "{}");
	/* a member before items holding "items" in a string and a nested items */
	CHECK_INT(spans(" { \"m\" : {\"items\":[1]}, \"s\":\"\\\"items\\\"\", \"items\" : [ {\"x\":1} ] } ", &n, out), 0);
	CHECK_INT(n, 1);
	CHECK_STR(out[0], "{\"x\":1}");
	/* repeated items: the last wins, as kc_json_get reads it */
	CHECK_INT(spans("{\"items\":[{\"old\":1},{\"old\":2}],\"items\":[{\"new\":1}]}", &n, out), 0);
	CHECK_INT(n, 1);
	CHECK_STR(out[0], "{\"new\":1}");
	/* an escaped key is the same key to every reader */
	CHECK_INT(spans("{\"items\":[{\"raw\":1}],\"\\u0069tems\":[{\"esc\":1}]}", &n, out), 0);
	CHECK_INT(n, 1);
	CHECK_STR(out[0], "{\"esc\":1}");
	CHECK_INT(spans("{\"items\":[]}", &n, out), 0);
	CHECK_INT(n, 0);
	/* negatives */
	CHECK_INT(spans("[{\"items\":[]}]", &n, out), -1);
	CHECK_INT(spans("{\"kind\":\"EventList\"}", &n, out), -1);
	CHECK_INT(spans("{\"items\":[{\"a\":1}", &n, out), -1);
	CHECK_INT(spans("{\"items\":[1,2,3,4,5,6,7,8,9]}", &n, out), -1);	/* over max */
}

DEFINE_TEST(test_achain_names)
{
	char name[64];
	uint64_t n = 0;

	kc_achain_seg_name(42, name, sizeof(name));
	CHECK_STR(name, "segment-00000042.jsonl");
	CHECK_INT(kc_achain_name_number(name, "segment-", ".jsonl", &n), 0);
	CHECK_INT(n, 42);
	CHECK_INT(kc_achain_name_number("segment-123456789.jsonl", "segment-", ".jsonl", &n), 0);
	CHECK_INT(n, 123456789);
	CHECK_INT(kc_achain_name_number("segment-0000042.jsonl", "segment-", ".jsonl", &n), -1);
	CHECK_INT(kc_achain_name_number("segment-0000004x.jsonl", "segment-", ".jsonl", &n), -1);
	CHECK_INT(kc_achain_name_number("segment-00000042.jsonl.tmp", "segment-", ".jsonl", &n), -1);
	CHECK_INT(kc_achain_name_number("digest-00000001.json.sig", "digest-", ".json", &n), -1);
}

static int
put(const char *path, const char *text)
{
	return kc_write_file_atomic(path, text, strlen(text), 0644);
}

DEFINE_TEST(test_achain_recover)
{
	const char *whole = "{\"auditID\":\"a\",\"stageTimestamp\":\"T1\"}\nnot json\n"
	    "{\"auditID\":\"c\",\"requestReceivedTimestamp\":\"T3\"}\n";
	const char *tail = "{\"auditID\":\"d\",\"sta";
	char all[256];
	struct kc_achain_seg s;
	struct stat st;

	memset(&s, 0, sizeof(s));
	snprintf(all, sizeof(all), "%s%s", whole, tail);
	CHECK_INT(put("segment-00000001.jsonl", all), 0);
	CHECK_INT(kc_achain_seg_recover("segment-00000001.jsonl", &s), 0);
	CHECK_INT(s.events, 3);
	CHECK_INT(s.dropped_tail, strlen(tail));
	CHECK_STR(s.first_id, "a");
	CHECK_STR(s.first_time, "T1");
	CHECK_STR(s.last_id, "c");
	CHECK_STR(s.last_time, "T3");
	CHECK(s.recovered);
	CHECK_INT(stat("segment-00000001.jsonl", &st), 0);
	CHECK_INT(st.st_size, (long long)s.bytes);
	CHECK_INT(s.bytes, strlen(whole));
}

static int
write_record(struct kc_signer *sg, uint64_t seq, const char *prev_sha, uint64_t segno, char sha[KC_SHA256_HEX])
{
	struct kc_achain_digest d;
	struct kc_achain_seg seg;
	char name[64];
	uint64_t size;

	memset(&d, 0, sizeof(d));
	memset(&seg, 0, sizeof(seg));
	d.sequence = seq;
	snprintf(d.created, sizeof(d.created), "2026-12-04T10:00:%02d.000000Z", (int)seq);
	strcpy(d.reason, "rotation");
	strcpy(d.run, "00112233445566778899aabbccddeeff");
	strcpy(d.run_started, "2026-12-04T10:00:00.000000Z");
	d.interval = 300;
	if (prev_sha != NULL) {
		d.has_previous = 1;
		d.prev_sequence = seq - 1;
		memcpy(d.prev_sha256, prev_sha, KC_SHA256_HEX);
	}
	if (segno > 0) {
		seg.number = segno;
		kc_achain_seg_name(segno, name, sizeof(name));
		if (put(name, "{\"auditID\":\"x\"}\n") != 0 || kc_sha256_file(name, seg.sha256, &size) != 0)
			return -1;
		seg.bytes = size;
		seg.events = 1;
		d.segs = &seg;
		d.nsegs = 1;
	}
	return kc_achain_digest_write(".", &d, sg, sha);
}

DEFINE_TEST(test_achain_write_verify)
{
	struct kc_signer *sg = NULL;
	char fpr[KC_FPR_LEN], sha1[KC_SHA256_HEX], sha2[KC_SHA256_HEX], sha3[KC_SHA256_HEX];
	struct kc_buf text = KC_BUF_INIT(1 << 20);
	struct kc_achain_digest d;
	struct kc_achain_tail t;
	cJSON *rep = NULL;

	CHECK_INT(kc_keygen("k.pem", "k.pub", fpr), 0);
	CHECK_INT(kc_signer_load_key("k.pem", NULL, &sg), 0);
	if (sg == NULL)
		return;
	CHECK_INT(write_record(sg, 1, NULL, 0, sha1), 0);
	CHECK_INT(write_record(sg, 2, sha1, 1, sha2), 0);
	CHECK_INT(write_record(sg, 3, sha2, 2, sha3), 0);
	/* the record parses back */
	CHECK_INT(kc_read_file("digest-00000002.json", 1 << 20, &text), 0);
	CHECK_INT(kc_achain_digest_parse(text.data, text.len, &d), 0);
	CHECK_INT(d.sequence, 2);
	CHECK(d.has_previous);
	CHECK_INT(d.nsegs, 1);
	CHECK_STR(d.key, fpr);
	CHECK_INT(d.segs[0].number, 1);
	kc_achain_digest_clear(&d);
	kc_buf_free(&text);
	/* resuming */
	CHECK_INT(kc_achain_tail(".", &t), 0);
	CHECK_INT(t.last_digest, 3);
	CHECK_INT(t.last_sealed_seg, 2);
	CHECK(kc_digest_eq(t.last_sha256, sha3));
	/* intact */
	CHECK_INT(kc_achain_verify(".", "k.pub", 0, &rep), 0);
	CHECK_STR(kc_json_str(rep, "result"), "intact");
	CHECK(kc_json_get(rep, "timestamps") == NULL);
	cJSON_Delete(rep);
	/* time-stamps asked for: none there is exit 1, each record listed;
	 * a token that is not one is tampering */
	{
		char tn[64];

		kc_achain_tsr_name(2, tn, sizeof(tn));
		CHECK_STR(tn, "digest-00000002.json.tsr");
		CHECK_INT(kc_achain_verify_tsa(".", "k.pub", 0, "no-ca.pem", &rep), 1);
		CHECK_STR(kc_json_str(kc_json_get(rep, "timestamps"), "result"), "3 of 3 records without a time-stamp token");
		CHECK_INT(cJSON_GetArraySize(kc_json_get(kc_json_get(rep, "timestamps"), "missing")), 3);
		CHECK_STR(kc_json_str(rep, "result"), "intact");
		cJSON_Delete(rep);
		CHECK_INT(put(tn, "not DER"), 0);
		CHECK_INT(kc_achain_verify_tsa(".", "k.pub", 0, "no-ca.pem", &rep), KC_ERR_VERIFY);
		CHECK_INT(cJSON_GetArraySize(kc_json_get(rep, "tampering")), 1);
		CHECK_INT(cJSON_GetArraySize(kc_json_get(kc_json_get(rep, "timestamps"), "missing")), 2);
		cJSON_Delete(rep);
		CHECK_INT(unlink(tn), 0);
	}
	/* an unsealed segment after the last: 1 */
	CHECK_INT(put("segment-00000003.jsonl", "{}\n"), 0);
	CHECK_INT(kc_achain_verify(".", "k.pub", 0, &rep), 1);
	CHECK_INT(cJSON_GetArraySize(kc_json_get(rep, "unsealed")), 1);
	cJSON_Delete(rep);
	/* a changed segment: tampering */
	CHECK_INT(put("segment-00000001.jsonl", "{\"auditID\":\"y\"}\n"), 0);
	CHECK_INT(kc_achain_verify(".", "k.pub", 0, &rep), KC_ERR_VERIFY);
	CHECK_INT(cJSON_GetArraySize(kc_json_get(rep, "tampering")), 1);
	cJSON_Delete(rep);
	kc_signer_free(sg);
}

DEFINE_TEST(test_achain_parse_rejects)
{
	struct kc_achain_digest d;
	const char *good = "{\"kind\":\"kcustody.audit-digest\",\"version\":1,\"sequence\":1,\"created\":\"c\","
	    "\"reason\":\"start\",\"run\":\"r\",\"runStarted\":\"s\",\"digestIntervalSeconds\":300,\"key\":\"k\","
	    "\"previous\":null,\"segments\":[]}";
	char buf[1024];

	CHECK_INT(kc_achain_digest_parse(good, strlen(good), &d), 0);
	kc_achain_digest_clear(&d);
	CHECK_INT(kc_achain_digest_parse("[]", 2, &d), KC_ERR_PARSE);
	CHECK_INT(kc_achain_digest_parse("{", 1, &d), KC_ERR_PARSE);
	/* each member's absence or wrong type */
	{
		const char *swaps[][2] = {
			{ "\"version\":1", "\"version\":2" },
			{ "\"sequence\":1", "\"sequence\":0" },
			{ "\"sequence\":1", "\"sequence\":1.5" },
			{ "\"created\":\"c\",", "" },
			{ "\"previous\":null", "\"previous\":{\"file\":\"x\",\"sha256\":\"00\"}" },
			{ "\"segments\":[]", "\"segments\":[{\"file\":\"segment-00000001.jsonl\"}]" },
			{ "\"segments\":[]", "\"segments\":{}" },
			{ "kcustody.audit-digest", "other" },
		};

		for (size_t i = 0; i < sizeof(swaps) / sizeof(swaps[0]); i++) {
			const char *at = strstr(good, swaps[i][0]);

			CHECK(at != NULL);
			if (at == NULL)
				continue;
			snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good), good, swaps[i][1],
			    at + strlen(swaps[i][0]));
			if (kc_achain_digest_parse(buf, strlen(buf), &d) != KC_ERR_PARSE)
				kc_test_fail(__FILE__, __LINE__, "accepted: %s", buf);
			kc_achain_digest_clear(&d);
		}
	}
}

/* The segment check verify-chain and a bundle's copied chain share
 * (kc_achain_seg_check): a segment as its record says passes (twin of
 * each failure), out of order, missing, changed and short are named. */
DEFINE_TEST(test_achain_seg_check)
{
	struct kc_achain_seg s;
	struct kc_achain_seg_found f;
	cJSON *p = cJSON_CreateArray();
	uint64_t due = 0;

	memset(&s, 0, sizeof(s));
	s.number = 3;
	s.bytes = 10;
	s.events = 2;
	memset(s.sha256, 'a', KC_SHA256_HEX - 1);
	f.bytes = 10;
	f.lines = 2;
	f.sha256 = s.sha256;
	CHECK(p != NULL);
	if (p == NULL)
		return;
	/* the first segment: any number; the next is due */
	CHECK_INT(kc_achain_seg_check(&s, "digest-00000001.json", &due, 1, &f, p), 0);
	CHECK_INT(due, 4);
	CHECK_INT(cJSON_GetArraySize(p), 0);
	s.number = 4;
	CHECK_INT(kc_achain_seg_check(&s, "digest-00000001.json", &due, 1, &f, p), 0);
	/* out of order: named, and numbering goes on from it */
	s.number = 7;
	CHECK_INT(kc_achain_seg_check(&s, "digest-00000002.json", &due, 0, NULL, p), 1);
	CHECK_INT(due, 8);
	CHECK_STR(kc_json_str0(cJSON_GetArrayItem(p, 0), "file"), "segment-00000007.jsonl");
	CHECK_STR(kc_json_str0(cJSON_GetArrayItem(p, 0), "problem"), "segment 7 where 5 was due (reordered, removed or inserted)");
	s.number = 8;
	CHECK_INT(kc_achain_seg_check(&s, "digest-00000002.json", &due, 1, NULL, p), 1);
	CHECK_STR(kc_json_str0(cJSON_GetArrayItem(p, 1), "problem"), "segment named by digest-00000002.json is missing");
	s.number = 9;
	f.sha256 = "bb";
	CHECK_INT(kc_achain_seg_check(&s, "digest-00000002.json", &due, 1, &f, p), 1);
	CHECK(strstr(kc_json_str0(cJSON_GetArrayItem(p, 2), "problem"), "segment changed: 10 bytes sha256 bb") != NULL);
	s.number = 10;
	f.sha256 = s.sha256;
	f.lines = 1;
	CHECK_INT(kc_achain_seg_check(&s, "digest-00000002.json", &due, 1, &f, p), 1);
	CHECK_STR(kc_json_str0(cJSON_GetArrayItem(p, 3), "problem"), "1 lines, record says 2 events");
	CHECK_INT(cJSON_GetArraySize(p), 4);
	cJSON_Delete(p);
}
