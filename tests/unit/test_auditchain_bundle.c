/* test_auditchain_bundle.c - the audit-sink chain excerpt collect copies
 * into a bundle and verify re-checks (collector/audit.h
 * kc_audit_chain_copy, manifest/auditchain_bundle.h), on an unsealed
 * evidence folder.  Each test runs in its own work folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "collector/audit.h"
#include "harness.h"
#include "manifest/auditchain.h"
#include "manifest/auditchain_bundle.h"
#include "manifest/bundle.h"
#include "util/sha256.h"
#include "manifest/sign.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/json.h"

static int
put(const char *path, const char *text)
{
	return kc_write_file_atomic(path, text, strlen(text), 0644);
}

/* Record seq in sink/ naming segment segno (0: none), whose one event is
 * at minute seq of 10:00. */
static int
record(struct kc_signer *sg, uint64_t seq, const char *prev_sha, uint64_t segno, char sha[KC_SHA256_HEX])
{
	struct kc_achain_digest d;
	struct kc_achain_seg seg;
	char name[64], path[96], line[128];
	uint64_t size;

	memset(&d, 0, sizeof(d));
	memset(&seg, 0, sizeof(seg));
	d.sequence = seq;
	snprintf(d.created, sizeof(d.created), "2026-12-04T10:%02d:30.000000Z", (int)seq);
	strcpy(d.reason, "rotation");
	strcpy(d.run, "00112233445566778899aabbccddeeff");
	strcpy(d.run_started, "2026-12-04T10:00:00.000000Z");
	d.interval = 60;
	if (prev_sha != NULL) {
		d.has_previous = 1;
		d.prev_sequence = seq - 1;
		memcpy(d.prev_sha256, prev_sha, KC_SHA256_HEX);
	}
	if (segno > 0) {
		seg.number = segno;
		kc_achain_seg_name(segno, name, sizeof(name));
		snprintf(path, sizeof(path), "sink/%s", name);
		snprintf(line, sizeof(line), "{\"auditID\":\"e%d\",\"stageTimestamp\":\"2026-12-04T10:%02d:10.000000Z\"}\n",
		    (int)seq, (int)seq);
		if (put(path, line) != 0 || kc_sha256_file(path, seg.sha256, &size) != 0)
			return -1;
		seg.bytes = size;
		seg.events = 1;
		snprintf(seg.first_time, sizeof(seg.first_time), "2026-12-04T10:%02d:10.000000Z", (int)seq);
		memcpy(seg.last_time, seg.first_time, sizeof(seg.last_time));
		d.segs = &seg;
		d.nsegs = 1;
	}
	return kc_achain_digest_write("sink", &d, sg, sha);
}

/* sink/: record 1 (no segment), records 2..5 naming segments 1..4, one
 * event each at 10:02, 10:03, 10:04, 10:05. */
static int
make_sink(void)
{
	struct kc_signer *sg = NULL;
	char a[KC_SHA256_HEX], b[KC_SHA256_HEX];
	char fpr[KC_FPR_LEN];
	int r;

	if (kc_mkdir_p("sink", 0700) != 0 || kc_keygen("k.pem", "k.pub", fpr) != 0 ||
	    kc_keygen("o.pem", "o.pub", fpr) != 0 || kc_signer_load_key("k.pem", NULL, &sg) != 0)
		return -1;
	r = record(sg, 1, NULL, 0, a) || record(sg, 2, a, 1, b) || record(sg, 3, b, 2, a) ||
	    record(sg, 4, a, 3, b) || record(sg, 5, b, 4, a);
	kc_signer_free(sg);
	return r;
}

static int
copy_window(const char *since, const char *pub, const char *staging, cJSON **sum)
{
	struct kc_audit_filter *f = kc_audit_filter_new();
	cJSON *rep = NULL;
	int r;

	if (f == NULL)
		return -1;
	if (since != NULL && kc_audit_filter_add(f, "since", since) != 0) {
		kc_audit_filter_free(f);
		return -1;
	}
	kc_achain_verify("sink", pub, 0, &rep);
	cJSON_AddStringToObject(rep, "continuity", "proven by signed chain");
	r = kc_mkdir_p(staging, 0700) == 0 ? kc_audit_chain_copy("sink", "1", f, pub, 0, rep, staging, sum) : -1;
	cJSON_Delete(rep);
	kc_audit_filter_free(f);
	return r;
}

static int
exists(const char *p)
{
	return access(p, F_OK) == 0;
}

DEFINE_TEST(test_achain_bundle_window_copy)
{
	cJSON *sum = NULL, *doc = NULL;

	CHECK_INT(make_sink(), 0);
	/* the window from 10:03:30: segments 3 and 4 (records 4, 5), anchor 3 */
	CHECK_INT(copy_window("2026-12-04T10:03:30Z", "k.pub", "ev", &sum), 0);
	CHECK_INT((int)kc_json_get(sum, "segments")->valuedouble, 2);
	cJSON_Delete(sum);
	CHECK(exists("ev/audit/chain/1/digest-00000003.json"));
	CHECK(exists("ev/audit/chain/1/digest-00000003.json.sig"));
	CHECK(!exists("ev/audit/chain/1/segment-00000002.jsonl"));
	CHECK(!exists("ev/audit/chain/1/digest-00000002.json"));
	CHECK(exists("ev/audit/chain/1/segment-00000003.jsonl"));
	CHECK(exists("ev/audit/chain/1/segment-00000004.jsonl"));
	CHECK(exists("ev/audit/chain/1/sink.pub"));
	CHECK_INT(kc_achain_bundle_continuity("ev", "k.pub", 1, NULL, &doc), 0);
	CHECK_STR(kc_json_str0(doc, "state"), "signed chain");
	CHECK_STR(kc_json_str0(doc, "summary"), "proven by signed chain, 2 segments, 2 events, gaps: none");
	cJSON_Delete(doc);
	{	/* sealed: read pinned to the file's digest; another digest (the
		 * file swapped after verify) is refused with nothing reported */
		struct kc_seal_opts so = { 0 };
		cJSON *draft = cJSON_CreateObject();
		char hex[KC_SHA256_HEX];
		static const char other[] = "0000000000000000000000000000000000000000000000000000000000000000";

		so.no_sign = 1;
		so.mtime = 1795000000;
		CHECK_INT(kc_bundle_seal("ev", draft, &so, "ev.tar.gz"), 0);
		cJSON_Delete(draft);
		CHECK_INT(kc_sha256_file("ev.tar.gz", hex, NULL), 0);
		CHECK_INT(kc_achain_bundle_continuity("ev.tar.gz", "k.pub", 1, hex, &doc), 0);
		CHECK_STR(kc_json_str0(doc, "state"), "signed chain");
		cJSON_Delete(doc);
		CHECK_INT(kc_achain_bundle_continuity("ev.tar.gz", "k.pub", 0, other, &doc), KC_ERR_VERIFY);
		CHECK(doc == NULL);
		CHECK_INT(kc_achain_bundle_continuity("ev", "k.pub", 1, hex, &doc), KC_ERR_VERIFY);	/* a folder */
		CHECK(doc == NULL);
	}
	/* the bundle's own key: said so */
	CHECK_INT(kc_achain_bundle_continuity("ev", NULL, 1, NULL, &doc), 0);
	CHECK_STR(kc_json_str0(doc, "state"), "signed chain (bundle's key)");
	cJSON_Delete(doc);
	/* another key: every record refused */
	CHECK_INT(kc_achain_bundle_continuity("ev", "o.pub", 1, NULL, &doc), KC_ERR_VERIFY);
	CHECK_STR(kc_json_str0(doc, "state"), "broken");
	cJSON_Delete(doc);
	/* no window: everything from record 2 on, anchor record 1 */
	CHECK_INT(copy_window(NULL, NULL, "all", &sum), 0);
	CHECK_INT((int)kc_json_get(sum, "segments")->valuedouble, 4);
	cJSON_Delete(sum);
	CHECK(exists("all/audit/chain/1/digest-00000001.json"));
	CHECK_INT(kc_achain_bundle_continuity("all", NULL, 1, NULL, &doc), 0);
	CHECK_STR(kc_json_str0(doc, "state"), "hash chain");
	cJSON_Delete(doc);
	/* a window after every segment: nothing copied, and said why */
	CHECK_INT(copy_window("2026-12-04T11:00:00Z", "k.pub", "late", &sum), 0);
	CHECK(kc_json_str(sum, "notCopied") != NULL);
	CHECK(!exists("late/audit/chain/1"));
	cJSON_Delete(sum);
	/* the open segment after the last record: not copied, and said so */
	CHECK_INT(put("sink/segment-00000005.jsonl", "{\"auditID\":\"open\"}\n"), 0);
	CHECK_INT(copy_window(NULL, "k.pub", "open", &sum), 0);
	cJSON_Delete(sum);
	CHECK(!exists("open/audit/chain/1/segment-00000005.jsonl"));
	CHECK_INT(kc_achain_bundle_continuity("open", "k.pub", 1, NULL, &doc), 0);
	CHECK(strstr(kc_json_str0(doc, "summary"), "; 1 later segment unsealed at collection") != NULL);
	cJSON_Delete(doc);
}

DEFINE_TEST(test_achain_bundle_tamper)
{
	cJSON *sum = NULL, *doc = NULL;

	CHECK_INT(make_sink(), 0);
	CHECK_INT(copy_window("2026-12-04T10:02:30Z", "k.pub", "ev", &sum), 0);
	cJSON_Delete(sum);
	/* an edited segment */
	CHECK_INT(put("ev/audit/chain/1/segment-00000003.jsonl", "{\"auditID\":\"X\"}\n"), 0);
	CHECK_INT(kc_achain_bundle_continuity("ev", "k.pub", 1, NULL, &doc), KC_ERR_VERIFY);
	CHECK_STR(kc_json_str0(doc, "state"), "broken");
	cJSON_Delete(doc);
	kc_rm_rf("ev");
	/* a record removed from the middle */
	CHECK_INT(copy_window("2026-12-04T10:02:30Z", "k.pub", "ev", &sum), 0);
	cJSON_Delete(sum);
	CHECK_INT(unlink("ev/audit/chain/1/digest-00000004.json"), 0);
	CHECK_INT(unlink("ev/audit/chain/1/digest-00000004.json.sig"), 0);
	CHECK_INT(kc_achain_bundle_continuity("ev", "k.pub", 1, NULL, &doc), KC_ERR_VERIFY);
	cJSON_Delete(doc);
	kc_rm_rf("ev");
	/* the first copied record made the anchor by dropping its segment:
	 * the anchor's segment reaches into the window */
	CHECK_INT(copy_window("2026-12-04T10:02:30Z", "k.pub", "ev", &sum), 0);
	cJSON_Delete(sum);
	CHECK_INT(unlink("ev/audit/chain/1/digest-00000002.json"), 0);
	CHECK_INT(unlink("ev/audit/chain/1/digest-00000002.json.sig"), 0);
	CHECK_INT(unlink("ev/audit/chain/1/segment-00000002.jsonl"), 0);
	{
		struct kc_buf b = KC_BUF_INIT(1 << 20);
		cJSON *m;
		char *js;

		CHECK_INT(kc_read_file("ev/audit/chain/1/CHAIN.json", 1 << 20, &b), 0);
		m = cJSON_ParseWithLength(b.data, b.len);
		cJSON_ReplaceItemInObject(m, "anchor", cJSON_CreateString("digest-00000003.json"));
		cJSON_ReplaceItemInObject(m, "segments", cJSON_CreateNumber(2));
		js = cJSON_Print(m);
		CHECK_INT(put("ev/audit/chain/1/CHAIN.json", js), 0);
		free(js);
		cJSON_Delete(m);
		kc_buf_free(&b);
	}
	CHECK_INT(kc_achain_bundle_continuity("ev", "k.pub", 1, NULL, &doc), KC_ERR_VERIFY);
	{
		char *t = cJSON_PrintUnformatted(kc_json_get(cJSON_GetArrayItem(kc_json_get(doc, "chains"), 0), "tampering"));

		CHECK(t != NULL && strstr(t, "reaches into the window") != NULL);
		free(t);
	}
	cJSON_Delete(doc);
	kc_rm_rf("ev");
	/* an inserted segment member */
	CHECK_INT(copy_window("2026-12-04T10:02:30Z", "k.pub", "ev", &sum), 0);
	cJSON_Delete(sum);
	CHECK_INT(put("ev/audit/chain/1/segment-00000009.jsonl", "{}\n"), 0);
	CHECK_INT(kc_achain_bundle_continuity("ev", "k.pub", 1, NULL, &doc), KC_ERR_VERIFY);
	cJSON_Delete(doc);
	kc_rm_rf("ev");
	/* a signature over its cap: an error, never a chain that verifies */
	CHECK_INT(copy_window("2026-12-04T10:02:30Z", "k.pub", "ev", &sum), 0);
	cJSON_Delete(sum);
	{
		char big[4096];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		CHECK_INT(put("ev/audit/chain/1/digest-00000004.json.sig", big), 0);
	}
	doc = NULL;
	CHECK(kc_achain_bundle_continuity("ev", "k.pub", 1, NULL, &doc) < 0);
	cJSON_Delete(doc);
}

DEFINE_TEST(test_achain_bundle_secret_bodies)
{
	struct kc_audit_filter *f = kc_audit_filter_new();
	cJSON *sum = NULL, *rep = NULL;

	CHECK_INT(make_sink(), 0);
	/* a secret's body in a segment of the window: not copied byte for
	 * byte unless --no-redact (the copy is not re-checked here) */
	CHECK_INT(put("sink/segment-00000004.jsonl", "{\"auditID\":\"s\",\"objectRef\":{\"resource\":\"secrets\"},"
	    "\"requestObject\":{\"kind\":\"Secret\",\"data\":{\"k\":\"c2VjcmV0\"}}}\n"), 0);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	rep = cJSON_CreateObject();
	CHECK_INT(kc_mkdir_p("ev", 0700), 0);
	CHECK_INT(kc_audit_chain_copy("sink", "1", f, "k.pub", 0, rep, "ev", &sum), 0);
	CHECK(strstr(kc_json_str0(sum, "notCopied"), "secret") != NULL);
	CHECK(!exists("ev/audit/chain/1"));
	cJSON_Delete(sum);
	CHECK_INT(kc_audit_chain_copy("sink", "1", f, "k.pub", 1, rep, "ev", &sum), 0);
	CHECK(kc_json_str(sum, "notCopied") == NULL);
	CHECK(exists("ev/audit/chain/1/segment-00000004.jsonl"));
	cJSON_Delete(sum);
	cJSON_Delete(rep);
	kc_audit_filter_free(f);
}

/* 1 when the chains' report of doc mentions text */
static int
chains_say(const cJSON *doc, const char *text)
{
	char *p = cJSON_PrintUnformatted(kc_json_get(doc, "chains"));
	int r = p != NULL && strstr(p, text) != NULL;

	free(p);
	return r;
}

DEFINE_TEST(test_achain_bundle_tokens)
{
	cJSON *sum = NULL, *doc = NULL;
	const cJSON *ts;

	CHECK_INT(make_sink(), 0);
	/* a record's time-stamp token (audit-sink --tsa) is copied beside it */
	CHECK_INT(put("sink/digest-00000004.json.tsr", "not a token"), 0);
	CHECK_INT(copy_window("2026-12-04T10:03:30Z", "k.pub", "ev", &sum), 0);
	cJSON_Delete(sum);
	CHECK(exists("ev/audit/chain/1/digest-00000004.json.tsr"));
	/* without a TSA CA: counted, not checked, and the line says so */
	CHECK_INT(kc_achain_bundle_continuity("ev", "k.pub", 1, NULL, &doc), 0);
	CHECK_STR(kc_json_str0(doc, "summary"), "proven by signed chain, 2 segments, 2 events, gaps: none; "
	    "time-stamps: 1 tokens present, not checked (--audit-chain-tsa-ca checks them)");
	ts = kc_json_path(kc_json_get(doc, "chains")->child, "timestamps");
	CHECK(cJSON_IsFalse(kc_json_get(ts, "checked")));
	CHECK_INT((int)kc_json_get(ts, "tokens")->valuedouble, 1);
	CHECK_INT((int)kc_json_get(ts, "records")->valuedouble, 3);
	cJSON_Delete(doc);
	/* with one (any file: the token is not one): tampering */
	CHECK_INT(kc_achain_bundle_continuity_tsa("ev", "k.pub", "k.pub", 1, NULL, &doc), KC_ERR_VERIFY);
	CHECK_STR(kc_json_str0(doc, "state"), "broken");
	CHECK(chains_say(doc, "digest-00000004.json.tsr"));
	cJSON_Delete(doc);
	/* no token anywhere and no CA: nothing said (twin) */
	CHECK_INT(unlink("ev/audit/chain/1/digest-00000004.json.tsr"), 0);
	CHECK_INT(kc_achain_bundle_continuity("ev", "k.pub", 1, NULL, &doc), 0);
	CHECK_STR(kc_json_str0(doc, "summary"), "proven by signed chain, 2 segments, 2 events, gaps: none");
	CHECK(kc_json_path(kc_json_get(doc, "chains")->child, "timestamps") == NULL);
	cJSON_Delete(doc);
	/* a token whose record is not in the excerpt: tampering */
	CHECK_INT(put("ev/audit/chain/1/digest-00000009.json.tsr", "x"), 0);
	CHECK_INT(kc_achain_bundle_continuity("ev", "k.pub", 1, NULL, &doc), KC_ERR_VERIFY);
	CHECK(chains_say(doc, "time-stamp token without its record"));
	cJSON_Delete(doc);
}
