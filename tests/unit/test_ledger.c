/* test_ledger.c - custody ledger: a full story verifies; every kind of
 * tampering fails with its line and reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "harness.h"
#include "manifest/ledger.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

/* An Ed25519 key pair NAME.key / NAME.pub in the work folder. */
static void
make_key(const char *name)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char path[64];
	FILE *f;

	CHECK(pk != NULL);
	snprintf(path, sizeof(path), "%s.key", name);
	CHECK((f = fopen(path, "w")) != NULL);
	CHECK(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	snprintf(path, sizeof(path), "%s.pub", name);
	CHECK((f = fopen(path, "w")) != NULL);
	CHECK(PEM_write_PUBKEY(f, pk) == 1);
	fclose(f);
	EVP_PKEY_free(pk);
}

static const char trust_json[] =
	"{\"trusted_keys\":["
	"{\"name\":\"Alice\",\"organisation\":\"ACME CSIRT\",\"public_key\":\"alice.pub\"},"
	"{\"name\":\"Bob\",\"organisation\":\"ACME Legal\",\"public_key\":\"bob.pub\"},"
	"{\"name\":\"Carol\",\"organisation\":\"Audit Co\",\"public_key\":\"carol.pub\"}]}";

static void
setup(void)
{
	make_key("alice");
	make_key("bob");
	make_key("carol");
	make_key("mallory");
	CHECK_INT(kc_write_file_atomic("trust.json", trust_json, strlen(trust_json), 0644), 0);
	CHECK_INT(kc_write_file_atomic("bundle.tar.gz", "evidence", 8, 0444), 0);
	CHECK_INT(kc_write_file_atomic("other.tar.gz", "other evidence", 14, 0444), 0);
}

static int
append(const char *who, const char *name, const char *org, const char *action,
    const char *from, const char *to, const char *when)
{
	struct kc_ledger_key *key = NULL;
	struct kc_trust *trust = NULL;
	struct kc_ledger_event ev;
	char path[64];
	int r;

	memset(&ev, 0, sizeof(ev));
	ev.action = action;
	ev.actor.name = name;
	ev.actor.organisation = org;
	ev.from = from;
	ev.to = to;
	ev.purpose = "incident 2026-042";
	ev.location = "Berlin";
	setenv("KCUSTODY_NOW", when, 1);
	snprintf(path, sizeof(path), "%s.key", who);
	if ((r = kc_ledger_key_load(path, NULL, &key)) == 0 &&
	    (r = kc_trust_load("trust.json", &trust)) == 0)
		r = kc_ledger_append("bundle.tar.gz", NULL, NULL, key, &ev, NULL, NULL);
	unsetenv("KCUSTODY_NOW");
	kc_trust_free(trust);
	kc_ledger_key_free(key);
	return r;
}

/* Append an entry without the write-time check, as a forger would. */
static int
force_append(const char *who, const char *name, const char *org, const char *action,
    const char *from, const char *to, const char *when)
{
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX), line = KC_BUF_INIT(KC_LEDGER_LINE_MAX);
	struct kc_ledger_key *key = NULL;
	struct kc_ledger_state st;
	struct kc_ledger_event ev = { .action = action, .actor = { name, org }, .from = from, .to = to };
	char path[64], hex[KC_SHA256_HEX];
	time_t t;
	long ns;
	int r;

	snprintf(path, sizeof(path), "%s.key", who);
	CHECK_INT(kc_parse_rfc3339(when, &t, &ns), 0);
	CHECK_INT(kc_sha256_file("bundle.tar.gz", hex, NULL), 0);
	CHECK_INT(kc_read_file("bundle.tar.gz.custody.jsonl", KC_LEDGER_MAX, &text), 0);
	memset(&st, 0, sizeof(st));
	kc_ledger_check(text.data, text.len, hex, NULL, &st, NULL);
	if ((r = kc_ledger_key_load(path, NULL, &key)) == 0 &&
	    (r = kc_ledger_make_entry(&st, hex, key, &ev, t, &line)) == 0 &&
	    (r = kc_buf_add(&text, line.data, line.len)) == 0)
		r = kc_write_file_atomic("bundle.tar.gz.custody.jsonl", text.data, text.len, 0644);
	kc_ledger_key_free(key);
	kc_buf_free(&text);
	kc_buf_free(&line);
	return r;
}

/* sealed, transferred, received, verified, archived, accessed */
static void
story(void)
{
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "sealed", NULL, NULL, "2026-03-01T10:00:00Z"), 0);
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "transferred", "Alice", "Bob", "2026-03-01T11:00:00Z"), 0);
	CHECK_INT(append("bob", "Bob", "ACME Legal", "received", "Alice", "Bob", "2026-03-01T12:00:00Z"), 0);
	CHECK_INT(append("carol", "Carol", "Audit Co", "verified", NULL, NULL, "2026-03-02T09:00:00Z"), 0);
	CHECK_INT(append("bob", "Bob", "ACME Legal", "archived", NULL, "store", "2026-03-02T10:00:00Z"), 0);
	CHECK_INT(append("carol", "Carol", "Audit Co", "accessed", NULL, NULL, "2026-03-03T10:00:00Z"), 0);
}

/* Verify ledger text (as if it were the ledger file) against bundle.tar.gz
 * with the trust list; returns the result and the first problem's reason. */
static int
verify_text(const char *text, size_t len, const char *bundle, char *reason, size_t n, long *line)
{
	cJSON *report = NULL, *p;
	int r;

	CHECK_INT(kc_write_file_atomic("t.custody.jsonl", text, len, 0644), 0);
	r = kc_ledger_verify(bundle, "t.custody.jsonl", "trust.json", &report);
	reason[0] = '\0';
	*line = 0;
	/* every reason, one per line; the first problem's line number */
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(report, "problems")) {
		size_t used = strlen(reason);

		snprintf(reason + used, n - used, "%s\n", cJSON_GetObjectItem(p, "reason")->valuestring);
		if (*line == 0)
			*line = (long)cJSON_GetObjectItem(p, "line")->valuedouble;
	}
	cJSON_Delete(report);
	return r;
}

struct lines {
	char *v[16];
	size_t n;
	struct kc_buf all;
};

static void
read_lines(struct lines *l)
{
	char *s, *save = NULL;

	memset(l, 0, sizeof(*l));
	kc_buf_init(&l->all, KC_LEDGER_MAX);
	CHECK_INT(kc_read_file("bundle.tar.gz.custody.jsonl", KC_LEDGER_MAX, &l->all), 0);
	for (s = strtok_r(l->all.data, "\n", &save); s && l->n < 16; s = strtok_r(NULL, "\n", &save))
		l->v[l->n++] = s;
}

/* Join lines idx[0..k) with newlines. */
static void
join(const struct lines *l, const int *idx, size_t k, struct kc_buf *out)
{
	kc_buf_reset(out);
	for (size_t i = 0; i < k; i++) {
		kc_buf_adds(out, l->v[idx[i]]);
		kc_buf_addc(out, '\n');
	}
}

DEFINE_TEST(test_ledger_story_verifies)
{
	cJSON *report = NULL;

	setup();
	story();
	CHECK_INT(kc_ledger_verify("bundle.tar.gz", NULL, "trust.json", &report), 0);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(report, "verified")));
	CHECK_INT(cJSON_GetObjectItem(report, "entries")->valueint, 6);
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(report, "custodian"), "name")->valuestring, "Bob");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(report, "pendingTransfer")));
	cJSON_Delete(report);
	/* without a trust list: integrity holds, trust is not claimed */
	CHECK_INT(kc_ledger_verify("bundle.tar.gz", NULL, NULL, &report), 0);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(report, "trustChecked")));
	cJSON_Delete(report);
}

DEFINE_TEST(test_ledger_tamper_each_line)
{
	struct kc_buf b = KC_BUF_INIT(KC_LEDGER_MAX);
	struct lines l;
	char reason[1024];
	long line;
	int idx[16];

	setup();
	story();
	read_lines(&l);
	CHECK_INT(l.n, 6);
	for (size_t del = 0; del < l.n; del++) {	/* delete each line */
		size_t k = 0;

		for (size_t i = 0; i < l.n; i++)
			if (i != del)
				idx[k++] = (int)i;
		join(&l, idx, k, &b);
		if (del == l.n - 1) {
			/* Deleting the last line leaves a valid shorter chain:
			 * only a copy outside the ledger (the archived copy, an
			 * S3 entry object) can show it (docs/CUSTODY.md). */
			CHECK_INT(verify_text(b.data, b.len, "bundle.tar.gz", reason, sizeof(reason),
			    &line), 0);
			continue;
		}
		CHECK_INT(verify_text(b.data, b.len, "bundle.tar.gz", reason, sizeof(reason), &line),
		    KC_ERR_VERIFY);
		CHECK(line == (long)del + 1);
		CHECK(strstr(reason, "an entry is missing") != NULL);
	}
	for (size_t sw = 0; sw + 1 < l.n; sw++) {	/* swap neighbours */
		for (size_t i = 0; i < l.n; i++)
			idx[i] = (int)i;
		idx[sw] = (int)sw + 1;
		idx[sw + 1] = (int)sw;
		join(&l, idx, l.n, &b);
		CHECK_INT(verify_text(b.data, b.len, "bundle.tar.gz", reason, sizeof(reason), &line),
		    KC_ERR_VERIFY);
		CHECK(line == (long)sw + 1);
	}
	for (size_t dup = 0; dup < l.n; dup++) {	/* duplicate each line */
		size_t k = 0;

		for (size_t i = 0; i < l.n; i++) {
			idx[k++] = (int)i;
			if (i == dup)
				idx[k++] = (int)i;
		}
		join(&l, idx, k, &b);
		CHECK_INT(verify_text(b.data, b.len, "bundle.tar.gz", reason, sizeof(reason), &line),
		    KC_ERR_VERIFY);
		CHECK(line == (long)dup + 2);
		CHECK(strstr(reason, "does not follow") != NULL);
	}
	for (size_t ed = 0; ed < l.n; ed++) {		/* edit each line */
		char *p;

		for (size_t i = 0; i < l.n; i++)
			idx[i] = (int)i;
		join(&l, idx, l.n, &b);
		p = strstr(b.data, "incident 2026-042");
		for (size_t i = 0; i < ed; i++)
			p = strstr(p + 1, "incident 2026-042");
		CHECK(p != NULL);
		p[9] = '9';	/* 2026 -> 2029 */
		CHECK_INT(verify_text(b.data, b.len, "bundle.tar.gz", reason, sizeof(reason), &line),
		    KC_ERR_VERIFY);
		CHECK(line == (long)ed + 1);
		CHECK(strstr(reason, "signature does not verify") != NULL);
	}
	/* a ledger paired with another bundle */
	join(&l, (int[]){ 0, 1, 2, 3, 4, 5 }, l.n, &b);
	CHECK_INT(verify_text(b.data, b.len, "other.tar.gz", reason, sizeof(reason), &line),
	    KC_ERR_VERIFY);
	CHECK(line == 1 && strstr(reason, "another bundle") != NULL);
	/* a truncated last line */
	CHECK_INT(verify_text(b.data, b.len - 10, "bundle.tar.gz", reason, sizeof(reason), &line),
	    KC_ERR_VERIFY);
	CHECK(line == 6 && strstr(reason, "incomplete") != NULL);
	/* whitespace added: still JSON, not canonical */
	kc_buf_reset(&b);
	kc_buf_adds(&b, l.v[0]);
	kc_buf_adds(&b, " \n");
	CHECK_INT(verify_text(b.data, b.len, "bundle.tar.gz", reason, sizeof(reason), &line),
	    KC_ERR_VERIFY);
	CHECK(strstr(reason, "canonical") != NULL);
	kc_buf_free(&b);
	kc_buf_free(&l.all);
}

DEFINE_TEST(test_ledger_untrusted_signer)
{
	char reason[1024];
	long line;
	struct kc_buf b = KC_BUF_INIT(KC_LEDGER_MAX);

	setup();
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "sealed", NULL, NULL, "2026-03-01T10:00:00Z"), 0);
	CHECK_INT(append("mallory", "Carol", "Audit Co", "verified", NULL, NULL, "2026-03-01T10:30:00Z"), 0);
	CHECK_INT(kc_read_file("bundle.tar.gz.custody.jsonl", KC_LEDGER_MAX, &b), 0);
	CHECK_INT(verify_text(b.data, b.len, "bundle.tar.gz", reason, sizeof(reason), &line), KC_ERR_VERIFY);
	CHECK_INT(line, 2);
	CHECK(strstr(reason, "untrusted key") != NULL);
	/* appending to it with the trust list is refused */
	{
		struct kc_ledger_key *key = NULL;
		struct kc_trust *trust = NULL;
		struct kc_ledger_event ev = { .action = "accessed", .actor = { "Bob", "ACME Legal" } };

		CHECK_INT(kc_ledger_key_load("bob.key", NULL, &key), 0);
		CHECK_INT(kc_trust_load("trust.json", &trust), 0);
		CHECK_INT(kc_ledger_append("bundle.tar.gz", NULL, NULL, key, &ev, trust, NULL), KC_ERR_VERIFY);
		CHECK(strstr(kc_err_msg(), "refusing to append") != NULL);
		kc_trust_free(trust);
		kc_ledger_key_free(key);
	}
	kc_buf_free(&b);
}

DEFINE_TEST(test_ledger_transfer_pairing)
{
	char reason[1024];
	long line;
	struct kc_buf b = KC_BUF_INIT(KC_LEDGER_MAX);
	cJSON *report = NULL;

	setup();
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "sealed", NULL, NULL, "2026-03-01T10:00:00Z"), 0);
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "transferred", "Alice", "Bob", "2026-03-01T11:00:00Z"), 0);
	/* in transit: verifies, with the transfer pending */
	CHECK_INT(kc_ledger_verify("bundle.tar.gz", NULL, "trust.json", &report), 0);
	CHECK(cJSON_IsObject(cJSON_GetObjectItem(report, "pendingTransfer")));
	cJSON_Delete(report);
	/* Carol (trusted, but not Bob) signs the receipt, claiming to be Bob */
	CHECK_INT(append("carol", "Carol", "Audit Co", "received", "Alice", NULL, "2026-03-01T12:00:00Z"),
	    KC_ERR_INVALID);
	CHECK_INT(append("carol", "Bob", "ACME Legal", "received", "Alice", NULL, "2026-03-01T12:00:00Z"), 0);
	CHECK_INT(kc_read_file("bundle.tar.gz.custody.jsonl", KC_LEDGER_MAX, &b), 0);
	CHECK_INT(verify_text(b.data, b.len, "bundle.tar.gz", reason, sizeof(reason), &line), KC_ERR_VERIFY);
	CHECK_INT(line, 3);
	CHECK(strstr(reason, "the transfer at line 2 was to 'Bob'") != NULL);
	kc_buf_free(&b);
}

DEFINE_TEST(test_ledger_transfer_by_non_custodian)
{
	char reason[1024];
	long line;
	struct kc_buf b = KC_BUF_INIT(KC_LEDGER_MAX);

	setup();
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "sealed", NULL, NULL, "2026-03-01T10:00:00Z"), 0);
	/* refused when written ... */
	CHECK_INT(append("carol", "Carol", "Audit Co", "transferred", "Carol", "Bob", "2026-03-01T11:00:00Z"),
	    KC_ERR_INVALID);
	CHECK(strstr(kc_err_msg(), "not the custodian") != NULL);
	/* ... and found when forged */
	CHECK_INT(force_append("carol", "Carol", "Audit Co", "transferred", "Carol", "Bob", "2026-03-01T11:00:00Z"), 0);
	CHECK_INT(kc_read_file("bundle.tar.gz.custody.jsonl", KC_LEDGER_MAX, &b), 0);
	CHECK_INT(verify_text(b.data, b.len, "bundle.tar.gz", reason, sizeof(reason), &line), KC_ERR_VERIFY);
	CHECK_INT(line, 2);
	CHECK(strstr(reason, "not the custodian") != NULL);
	kc_buf_free(&b);
}

DEFINE_TEST(test_ledger_rules_on_write)
{
	setup();
	/* the first entry must be sealed */
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "verified", NULL, NULL, "2026-03-01T10:00:00Z"),
	    KC_ERR_NOTFOUND);
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "sealed", NULL, NULL, "2026-03-01T10:00:00Z"), 0);
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "sealed", NULL, NULL, "2026-03-01T10:00:00Z"),
	    KC_ERR_INVALID);
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "shredded", NULL, NULL, "2026-03-01T10:00:00Z"),
	    KC_ERR_INVALID);
	/* the clock may not go backwards */
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "verified", NULL, NULL, "2026-02-01T10:00:00Z"),
	    KC_ERR_VERIFY);
	/* control characters never enter a ledger */
	CHECK_INT(append("alice", "Alice\x1b[31m", "ACME CSIRT", "verified", NULL, NULL, "2026-03-01T10:00:00Z"),
	    KC_ERR_INVALID);
	CHECK_INT(append("alice", "Alice", "\xc3\x28", "verified", NULL, NULL, "2026-03-01T10:00:00Z"),
	    KC_ERR_INVALID);
	/* a transfer names its receiver */
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "transferred", NULL, NULL, "2026-03-01T10:00:00Z"),
	    KC_ERR_INVALID);
	CHECK_INT(kc_ledger_verify("bundle.tar.gz", NULL, "trust.json", NULL), 0);
}

DEFINE_TEST(test_ledger_name_must_match_trust)
{
	char reason[1024];
	long line;
	struct kc_buf b = KC_BUF_INIT(KC_LEDGER_MAX);

	setup();
	CHECK_INT(append("alice", "Alice", "ACME CSIRT", "sealed", NULL, NULL, "2026-03-01T10:00:00Z"), 0);
	CHECK_INT(append("bob", "Carol", "Audit Co", "verified", NULL, NULL, "2026-03-01T11:00:00Z"), 0);
	CHECK_INT(kc_read_file("bundle.tar.gz.custody.jsonl", KC_LEDGER_MAX, &b), 0);
	CHECK_INT(verify_text(b.data, b.len, "bundle.tar.gz", reason, sizeof(reason), &line), KC_ERR_VERIFY);
	CHECK_INT(line, 2);
	CHECK(strstr(reason, "trusted as 'Bob'") != NULL);
	kc_buf_free(&b);
}

DEFINE_TEST(test_ledger_trust_file_errors)
{
	struct kc_trust *t = NULL;
	static const char pin[] = "{\"trusted_keys\":[{\"name\":\"A\",\"public_key\":\"alice.pub\","
	    "\"fingerprint\":\"SHA256:00\"}]}";

	setup();
	CHECK_INT(kc_write_file_atomic("bad.json", "[]", 2, 0644), 0);
	CHECK_INT(kc_trust_load("bad.json", &t), KC_ERR_CONFIG);
	CHECK_INT(kc_write_file_atomic("pin.json", pin, strlen(pin), 0644), 0);
	CHECK_INT(kc_trust_load("pin.json", &t), KC_ERR_CONFIG);
	CHECK(strstr(kc_err_msg(), "pinned") != NULL);
	CHECK_INT(kc_trust_load("missing.json", &t), KC_ERR_IO);
	CHECK(t == NULL);
}

/* ---- who may transfer, release, dispose (issue 10 item 5) -------------- */

static const char roles_json[] =
	"{\"trusted_keys\":["
	"{\"name\":\"Alice\",\"organisation\":\"ACME CSIRT\",\"public_key\":\"alice.pub\",\"roles\":[\"custodian\"]},"
	"{\"name\":\"Bob\",\"organisation\":\"ACME Legal\",\"public_key\":\"bob.pub\",\"roles\":[\"custodian\"]},"
	"{\"name\":\"Carol\",\"organisation\":\"Audit Co\",\"public_key\":\"carol.pub\",\"roles\":[\"archive\"]},"
	"{\"name\":\"Mallory\",\"organisation\":\"Review Board\",\"public_key\":\"mallory.pub\",\"roles\":[\"reviewer\"]}]}";

/* append() with a trust file checked on write (NULL: none). */
static int
append_t(const char *trust_file, const char *who, const char *name, const char *org,
    const char *action, const char *to, const char *when)
{
	struct kc_ledger_key *key = NULL;
	struct kc_trust *trust = NULL;
	struct kc_ledger_event ev = { .action = action, .actor = { name, org }, .to = to };
	char path[64];
	int r;

	setenv("KCUSTODY_NOW", when, 1);
	snprintf(path, sizeof(path), "%s.key", who);
	if ((r = kc_ledger_key_load(path, NULL, &key)) == 0 &&
	    (trust_file == NULL || (r = kc_trust_load(trust_file, &trust)) == 0))
		r = kc_ledger_append("bundle.tar.gz", NULL, NULL, key, &ev, trust, NULL);
	unsetenv("KCUSTODY_NOW");
	kc_trust_free(trust);
	kc_ledger_key_free(key);
	return r;
}

/* sealed by Alice, handed to Bob: Bob holds the evidence. */
static void
handed_to_bob(const char *trust_file)
{
	CHECK_INT(append_t(trust_file, "alice", "Alice", "ACME CSIRT", "sealed", NULL, "2026-03-01T10:00:00Z"), 0);
	CHECK_INT(append_t(trust_file, "alice", "Alice", "ACME CSIRT", "transferred", "Bob", "2026-03-01T11:00:00Z"), 0);
	CHECK_INT(append_t(trust_file, "bob", "Bob", "ACME Legal", "received", NULL, "2026-03-01T12:00:00Z"), 0);
}

static int
verify_with(const char *trust_file, char *reason, size_t n, long *line)
{
	cJSON *report = NULL, *p;
	int r;

	r = kc_ledger_verify("bundle.tar.gz", NULL, trust_file, &report);
	reason[0] = '\0';
	*line = 0;
	p = cJSON_GetArrayItem(cJSON_GetObjectItem(report, "problems"), 0);
	if (p != NULL) {
		snprintf(reason, n, "%s", cJSON_GetObjectItem(p, "reason")->valuestring);
		*line = (long)cJSON_GetObjectItem(p, "line")->valuedouble;
	}
	cJSON_Delete(report);
	return r;
}

DEFINE_TEST(test_ledger_no_trust_only_holder_disposes)
{
	char reason[1024];
	long line;

	setup();
	handed_to_bob(NULL);
	/* Alice sealed it but handed it on; Carol never held it */
	CHECK_INT(append_t(NULL, "alice", "Alice", "ACME CSIRT", "disposed", NULL, "2026-03-02T10:00:00Z"),
	    KC_ERR_INVALID);
	CHECK(strstr(kc_err_msg(), "disposal signed by") != NULL);
	CHECK(strstr(kc_err_msg(), "not the custodian") != NULL);
	CHECK_INT(append_t(NULL, "carol", "Carol", "Audit Co", "released", NULL, "2026-03-02T10:00:00Z"),
	    KC_ERR_INVALID);
	/* a forged release is found when verified */
	CHECK_INT(force_append("carol", "Carol", "Audit Co", "released", NULL, NULL, "2026-03-02T10:00:00Z"), 0);
	CHECK_INT(verify_with(NULL, reason, sizeof(reason), &line), KC_ERR_VERIFY);
	CHECK_INT(line, 4);
	CHECK(strstr(reason, "release signed by SHA256:") != NULL);
	CHECK(strstr(reason, "Bob holds the evidence") != NULL);
}

DEFINE_TEST(test_ledger_no_trust_holder_disposes)
{
	char reason[1024];
	long line;

	setup();
	handed_to_bob(NULL);
	CHECK_INT(append_t(NULL, "bob", "Bob", "ACME Legal", "disposed", NULL, "2026-03-02T10:00:00Z"), 0);
	CHECK_INT(verify_with(NULL, reason, sizeof(reason), &line), 0);
	/* legacy trust file (no roles): every key a custodian; Bob holds it */
	CHECK_INT(verify_with("trust.json", reason, sizeof(reason), &line), 0);
}

DEFINE_TEST(test_ledger_roles_archive_disposes)
{
	char reason[1024];
	long line;
	cJSON *report = NULL, *roles;

	setup();
	CHECK_INT(kc_write_file_atomic("roles.json", roles_json, strlen(roles_json), 0644), 0);
	handed_to_bob("roles.json");
	/* Carol is the archive: she may dispose without holding it ... */
	CHECK_INT(append_t("roles.json", "carol", "Carol", "Audit Co", "disposed", NULL, "2030-03-02T10:00:00Z"), 0);
	CHECK_INT(verify_with("roles.json", reason, sizeof(reason), &line), 0);
	CHECK_INT(kc_ledger_verify("bundle.tar.gz", NULL, "roles.json", &report), 0);
	roles = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(report, "history"), 3), "actor"), "roles");
	CHECK(cJSON_GetArraySize(roles) == 1 && strcmp(cJSON_GetArrayItem(roles, 0)->valuestring, "archive") == 0);
	cJSON_Delete(report);
	/* ... but a trust file that does not give her the role finds it */
	CHECK_INT(verify_with("trust.json", reason, sizeof(reason), &line), KC_ERR_VERIFY);
	CHECK_INT(line, 4);
	CHECK(strstr(reason, "disposal signed by 'Carol'") != NULL);
	CHECK(strstr(reason, "no 'archive' role") != NULL);
	/* and so does verifying without any trust file */
	CHECK_INT(verify_with(NULL, reason, sizeof(reason), &line), KC_ERR_VERIFY);
	CHECK_INT(line, 4);
}

DEFINE_TEST(test_ledger_roles_refused_on_write)
{
	setup();
	CHECK_INT(kc_write_file_atomic("roles.json", roles_json, strlen(roles_json), 0644), 0);
	handed_to_bob("roles.json");
	/* archive may dispose, not release; reviewer may release, not dispose */
	CHECK_INT(append_t("roles.json", "carol", "Carol", "Audit Co", "released", NULL, "2026-03-02T10:00:00Z"),
	    KC_ERR_INVALID);
	CHECK(strstr(kc_err_msg(), "no 'reviewer' role") != NULL);
	CHECK_INT(append_t("roles.json", "mallory", "Mallory", "Review Board", "disposed", NULL, "2026-03-02T10:00:00Z"),
	    KC_ERR_INVALID);
	CHECK(strstr(kc_err_msg(), "no 'archive' role") != NULL);
	/* a custodian who no longer holds it may not dispose */
	CHECK_INT(append_t("roles.json", "alice", "Alice", "ACME CSIRT", "disposed", NULL, "2026-03-02T10:00:00Z"),
	    KC_ERR_INVALID);
	/* nor may the archive or a reviewer transfer */
	CHECK_INT(append_t("roles.json", "carol", "Carol", "Audit Co", "transferred", "Alice", "2026-03-02T10:00:00Z"),
	    KC_ERR_INVALID);
	CHECK(strstr(kc_err_msg(), "not the custodian") != NULL);
	/* nor may a reviewer hold it */
	CHECK_INT(append_t("roles.json", "bob", "Bob", "ACME Legal", "transferred", "Mallory", "2026-03-02T10:00:00Z"), 0);
	CHECK_INT(append_t("roles.json", "mallory", "Mallory", "Review Board", "received", NULL, "2026-03-02T11:00:00Z"),
	    KC_ERR_INVALID);
	CHECK(strstr(kc_err_msg(), "no 'custodian' role") != NULL);
	CHECK_INT(kc_ledger_verify("bundle.tar.gz", NULL, "roles.json", NULL), 0);
}

DEFINE_TEST(test_ledger_roles_reviewer_releases)
{
	char reason[1024];
	long line;

	setup();
	CHECK_INT(kc_write_file_atomic("roles.json", roles_json, strlen(roles_json), 0644), 0);
	handed_to_bob("roles.json");
	CHECK_INT(append_t("roles.json", "mallory", "Mallory", "Review Board", "released", NULL, "2026-03-02T10:00:00Z"), 0);
	CHECK_INT(verify_with("roles.json", reason, sizeof(reason), &line), 0);
	/* the holder with the custodian role may release too */
	CHECK_INT(append_t("roles.json", "bob", "Bob", "ACME Legal", "released", NULL, "2026-03-02T11:00:00Z"), 0);
	CHECK_INT(verify_with("roles.json", reason, sizeof(reason), &line), 0);
}

DEFINE_TEST(test_ledger_trust_roles_format)
{
	struct kc_trust *t = NULL;
	static const char unknown[] = "{\"trusted_keys\":[{\"name\":\"A\",\"public_key\":\"alice.pub\","
	    "\"roles\":[\"custodian\",\"janitor\"]}]}";
	static const char notarray[] = "{\"trusted_keys\":[{\"name\":\"A\",\"public_key\":\"alice.pub\","
	    "\"roles\":\"custodian\"}]}";
	static const char none[] = "{\"trusted_keys\":[{\"name\":\"Alice\",\"public_key\":\"alice.pub\","
	    "\"roles\":[]}]}";

	setup();
	CHECK_INT(kc_write_file_atomic("u.json", unknown, strlen(unknown), 0644), 0);
	CHECK_INT(kc_trust_load("u.json", &t), KC_ERR_CONFIG);
	CHECK(strstr(kc_err_msg(), "unknown role 'janitor'") != NULL);
	CHECK_INT(kc_write_file_atomic("n.json", notarray, strlen(notarray), 0644), 0);
	CHECK_INT(kc_trust_load("n.json", &t), KC_ERR_CONFIG);
	CHECK(t == NULL);
	/* an empty list: trusted to sign, but not to hold the evidence */
	CHECK_INT(kc_write_file_atomic("e.json", none, strlen(none), 0644), 0);
	CHECK_INT(kc_trust_load("e.json", &t), 0);
	kc_trust_free(t);
	CHECK_INT(append_t("e.json", "alice", "Alice", "", "sealed", NULL, "2026-03-01T10:00:00Z"), KC_ERR_INVALID);
	CHECK(strstr(kc_err_msg(), "no 'custodian' role") != NULL);
	/* without roles (trust files before roles): a custodian */
	CHECK_INT(append_t("trust.json", "alice", "Alice", "ACME CSIRT", "sealed", NULL, "2026-03-01T10:00:00Z"), 0);
}

/* One key loader (sign.c) for bundles and custody entries: an encrypted
 * custody key opens with --passphrase-file; without one and without a
 * terminal it fails with the same clear error as bundle signing; a wrong
 * passphrase is refused. */
DEFINE_TEST(test_ledger_key_encrypted_passphrase)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct kc_ledger_key *key = NULL;
	int status;
	pid_t pid;
	FILE *f;

	CHECK(pk != NULL);
	CHECK((f = fopen("enc.key", "w")) != NULL);
	CHECK(PEM_write_PKCS8PrivateKey(f, pk, EVP_aes_256_cbc(), NULL, 0, NULL,
	    (void *)"correct horse") == 1);
	fclose(f);
	EVP_PKEY_free(pk);
	CHECK_INT(kc_write_file_atomic("pass.txt", "correct horse\n", 14, 0600), 0);
	CHECK_INT(kc_write_file_atomic("wrong.txt", "battery staple\n", 15, 0600), 0);

	CHECK_INT(kc_ledger_key_load("enc.key", "pass.txt", &key), 0);
	CHECK(key != NULL && strncmp(kc_ledger_key_fingerprint(key), "SHA256:", 7) == 0);
	kc_ledger_key_free(key);
	key = NULL;
	CHECK_INT(kc_ledger_key_load("enc.key", "wrong.txt", &key), KC_ERR_CONFIG);
	CHECK(strstr(kc_err_msg(), "wrong passphrase") != NULL);
	CHECK(key == NULL);

	/* No passphrase file: asked on the terminal.  In a new session there
	 * is none (and a developer's terminal is never prompted by the test). */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int r;

		setsid();
		r = kc_ledger_key_load("enc.key", NULL, &key);
		_exit(r == KC_ERR_CONFIG && strstr(kc_err_msg(), "is encrypted and no terminal to ask "
		    "for the passphrase: give --passphrase-file") != NULL ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A signed entry is one byte representation: a line with a member twice
 * (two "prev") is refused as not canonical, whichever copy a JSON reader
 * would take. */
DEFINE_TEST(test_ledger_duplicate_key_refused)
{
	struct lines l;
	struct kc_buf b = KC_BUF_INIT(KC_LEDGER_MAX);
	char reason[1024], *p;
	long line;

	setup();
	story();
	read_lines(&l);
	/* line 2 gets a second "prev" (the real one) after the first */
	for (size_t i = 0; i < l.n; i++) {
		if (i == 1) {
			CHECK((p = strstr(l.v[i], "\"prev\":")) != NULL);
			kc_buf_add(&b, l.v[i], (size_t)(p - l.v[i]));
			kc_buf_adds(&b, "\"prev\":\"" "0000000000000000000000000000000000000000000000000000000000000000" "\",");
			kc_buf_adds(&b, p);
		} else {
			kc_buf_adds(&b, l.v[i]);
		}
		kc_buf_addc(&b, '\n');
	}
	CHECK_INT(verify_text(b.data, b.len, "bundle.tar.gz", reason, sizeof(reason), &line),
	    KC_ERR_VERIFY);
	CHECK(line == 2);
	CHECK(strstr(reason, "not in canonical form") != NULL);
	kc_buf_free(&b);
	kc_buf_free(&l.all);
}

/* append_t for a "recertified" entry with decision d. */
static int
decide(const char *trust_file, const char *who, const char *name, const char *org, const char *d,
    const char *when)
{
	struct kc_ledger_recert rc = { d, "scopes.yaml",
	    "3cdcef08cb162e8f84393d5b8ced894b7fbaaa1b61812c72b029d433991b044f", 2, 1, 1, 0, 0 };
	struct kc_ledger_key *key = NULL;
	struct kc_trust *trust = NULL;
	struct kc_ledger_event ev = { .action = "recertified", .actor = { name, org }, .recert = &rc };
	char path[64];
	int r;

	setenv("KCUSTODY_NOW", when, 1);
	snprintf(path, sizeof(path), "%s.key", who);
	if ((r = kc_ledger_key_load(path, NULL, &key)) == 0 &&
	    (trust_file == NULL || (r = kc_trust_load(trust_file, &trust)) == 0))
		r = kc_ledger_append("bundle.tar.gz", NULL, NULL, key, &ev, trust, NULL);
	unsetenv("KCUSTODY_NOW");
	kc_trust_free(trust);
	kc_ledger_key_free(key);
	return r;
}

/* A reviewer's decision: the reviewer role with a trust file (a custodian,
 * even the holder, may not), the holder only without one; the holder is
 * unchanged; the recertification is in the report's history. */
DEFINE_TEST(test_ledger_recertified_reviewer_decides)
{
	char reason[1024];
	long line;
	cJSON *report = NULL;
	const cJSON *h;

	setup();
	CHECK_INT(kc_write_file_atomic("roles.json", roles_json, strlen(roles_json), 0644), 0);
	handed_to_bob("roles.json");
	CHECK_INT(decide("roles.json", "bob", "Bob", "ACME Legal", "approve", "2026-03-02T10:00:00Z"),
	    KC_ERR_INVALID);
	CHECK(strstr(kc_err_msg(), "has no 'reviewer' role") != NULL);
	CHECK_INT(decide("roles.json", "mallory", "Mallory", "Review Board", "sometimes",
	    "2026-03-02T10:00:00Z"), KC_ERR_INVALID);
	CHECK_INT(decide("roles.json", "mallory", "Mallory", "Review Board", "remediate",
	    "2026-03-02T10:00:00Z"), 0);
	CHECK_INT(kc_ledger_verify("bundle.tar.gz", NULL, "roles.json", &report), 0);
	h = cJSON_GetArrayItem(cJSON_GetObjectItem(report, "history"), 3);
	CHECK_STR(cJSON_GetObjectItem(h, "action")->valuestring, "recertified");
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(h, "recertification"), "decision")->valuestring,
	    "remediate");
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(report, "custodian"), "name")->valuestring, "Bob");
	cJSON_Delete(report);
	/* without a trust file the reviewer is not the holder: a problem */
	CHECK_INT(verify_with(NULL, reason, sizeof(reason), &line), KC_ERR_VERIFY);
	CHECK_INT(line, 4);
	CHECK(strstr(reason, "recertification decision signed by SHA256:") != NULL);
	/* ... and the holder's own decision is accepted there */
	setup();
	unlink("bundle.tar.gz.custody.jsonl");
	handed_to_bob(NULL);
	CHECK_INT(decide(NULL, "bob", "Bob", "ACME Legal", "approve", "2026-03-02T10:00:00Z"), 0);
	CHECK_INT(verify_with(NULL, reason, sizeof(reason), &line), 0);
	/* a 'recertified' entry without its recertification is never written */
	CHECK_INT(append_t(NULL, "bob", "Bob", "ACME Legal", "recertified", NULL, "2026-03-02T11:00:00Z"),
	    KC_ERR_INVALID);
}

/* custody show's text states a decision's counts whole (the ledger takes
 * counts up to 1e15): cJSON's valueint saturates at INT_MAX, so 3e9 agents
 * read "2147483647 agents".  Twin: a small count. */
DEFINE_TEST(test_ledger_render_recert_counts_whole)
{
	static const char *const agents[] = { "3000000000", "7" };

	for (int i = 0; i < 2; i++) {
		struct kc_buf out = KC_BUF_INIT(1 << 20);
		char json[1024], want[64];
		cJSON *rep;

		snprintf(json, sizeof(json), "{\"entries\":2,\"history\":[{\"seq\":2,\"time\":\"2026-12-04T10:00:00Z\","
		    "\"action\":\"recertified\",\"actor\":{\"name\":\"r\"},\"signature\":\"valid\","
		    "\"recertification\":{\"decision\":\"approve\",\"scope_file\":\"s.yaml\",\"scope_sha256\":"
		    "\"ab\",\"summary\":{\"agents\":%s,\"within_scope\":1,\"beyond_scope\":0,"
		    "\"missing_from_scope\":0,\"scope_entries_without_agent\":0}}}]}", agents[i]);
		CHECK((rep = cJSON_Parse(json)) != NULL);
		CHECK_INT(kc_ledger_render_text(rep, &out), 0);
		snprintf(want, sizeof(want), "result: %s agents, 1 within scope", agents[i]);
		if (strstr(kc_buf_str(&out), want) == NULL)
			kc_test_fail(__FILE__, __LINE__, "no '%s' in\n%s", want, kc_buf_str(&out));
		kc_buf_free(&out);
		cJSON_Delete(rep);
	}
}
