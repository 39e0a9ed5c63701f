/* ledger.c - chain-of-custody ledger: canonical entries, Ed25519
 * signatures, verification with line-numbered problems, locked appends. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "manifest/ledger.h"
#include "manifest/sign.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/table.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define FPR_LEN 72		/* "SHA256:" + 64 hex + NUL */
#define SPKI_MAX 512
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static const char *const actions[] = {
	"sealed", "transferred", "received", "verified", "archived",
	"accessed", "released", "disposed", "recertified", NULL
};

static const char *const decisions[] = { "approve", "revoke", "remediate", NULL };

int
kc_ledger_decision_ok(const char *d)
{
	for (size_t i = 0; d != NULL && decisions[i] != NULL; i++)
		if (strcmp(d, decisions[i]) == 0)
			return 1;
	return 0;
}

struct kc_ledger_key {
	struct kc_signer *signer;
	unsigned char spki[SPKI_MAX];
	size_t spki_len;
	char fpr[FPR_LEN];
};

/* Roles a trust file can give a key (docs/CUSTODY.md, "Roles"). */
#define ROLE_CUSTODIAN	1u	/* may hold the evidence; transfer, release, dispose while holding */
#define ROLE_ARCHIVE	2u	/* may dispose of it without holding it (retention officer) */
#define ROLE_REVIEWER	4u	/* may release it without holding it; signs recertification
				 * decisions ("recertified") */
#define ROLE_DEFAULT	ROLE_CUSTODIAN	/* a key listed without "roles" */

static const struct { const char *name; unsigned bit; } role_names[] = {
	{ "custodian", ROLE_CUSTODIAN },
	{ "archive", ROLE_ARCHIVE },
	{ "reviewer", ROLE_REVIEWER },
};

struct trusted {
	char *name, *org;
	char fpr[FPR_LEN];
	unsigned roles;
};

struct kc_trust {
	struct trusted *v;
	size_t n, cap;
};

/* ---- small helpers ---------------------------------------------------- */


static int
fpr_of_der(const unsigned char *der, size_t n, char fpr[FPR_LEN])
{
	char hex[KC_SHA256_HEX];
	int r;

	if ((r = kc_sha256_hex(der, n, hex)) != 0)
		return r;
	return kc_fmt(fpr, FPR_LEN, "SHA256:%s", hex);	/* 7 + 64 < 72 */
}

/* Standard base64 with padding (RFC 4648 section 4), NUL-terminated. */
static int
b64_encode(const unsigned char *p, size_t n, char *out, size_t outsz)
{
	if (n > 4096 || outsz < 4 * ((n + 2) / 3) + 1)
		return KC_ERR_LIMIT;
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return 0;
}

/* Strict decode: the text must be exactly what b64_encode gives back. */
static int
b64_decode(const char *s, unsigned char *out, size_t max, size_t *outlen)
{
	size_t len = strlen(s), n, pad = 0;
	unsigned char tmp[SPKI_MAX + 4];
	char back[2 * SPKI_MAX];
	int got;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof(tmp))
		return KC_ERR_PARSE;
	if ((got = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len)) < 0)
		return KC_ERR_PARSE;
	if (s[len - 1] == '=')
		pad++;
	if (s[len - 2] == '=')
		pad++;
	n = (size_t)got - pad;
	if (n > max)
		return KC_ERR_PARSE;
	if (b64_encode(tmp, n, back, sizeof(back)) != 0 || strcmp(back, s) != 0)
		return KC_ERR_PARSE;
	memcpy(out, tmp, n);
	*outlen = n;
	return 0;
}

/* UTF-8 without control characters or DEL: text that cJSON and jq print
 * byte for byte alike.  0 when fine, else a static reason. */
static const char *
text_problem(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	if (n > max)
		return "too long";
	while (i < n) {
		uint32_t cp;
		size_t k;

		if (p[i] < 0x20 || p[i] == 0x7f)
			return "contains a control character";
		if ((k = kc_utf8_decode(p + i, n - i, &cp)) == 0)
			return "is not valid UTF-8";
		if (cp >= 0x80 && cp < 0xa0)
			return "contains a control character";
		i += k;
	}
	return NULL;
}

static int
action_ok(const char *a)
{
	for (size_t i = 0; actions[i] != NULL; i++)
		if (strcmp(a, actions[i]) == 0)
			return 1;
	return 0;
}

/* ---- keys ------------------------------------------------------------- */

/* The key is loaded by sign.c's one loader (kc_signer_load_key), which
 * asks for a passphrase on the terminal when no file is given. */
int
kc_ledger_key_load(const char *key_path, const char *passphrase_file, struct kc_ledger_key **out)
{
	struct kc_ledger_key *k;
	int r;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = kc_signer_load_key(key_path, passphrase_file, &k->signer)) != 0)
		goto out;
	if (!kc_signer_is_ed25519(k->signer)) {
		r = kc_err_set(KC_ERR_CONFIG, "key '%s' is not Ed25519; custody entries are signed "
		    "with Ed25519 keys", key_path);
		goto out;
	}
	if ((r = kc_signer_public_der(k->signer, k->spki, sizeof(k->spki), &k->spki_len)) != 0)
		goto out;
	r = kc_fmt(k->fpr, sizeof(k->fpr), "%s", kc_signer_fingerprint(k->signer));
out:
	if (r != 0) {
		kc_ledger_key_free(k);
		return r;
	}
	*out = k;
	return 0;
}

const char *
kc_ledger_key_fingerprint(const struct kc_ledger_key *k)
{
	return k->fpr;
}

void
kc_ledger_key_free(struct kc_ledger_key *k)
{
	if (k == NULL)
		return;
	kc_signer_free(k->signer);	/* OpenSSL cleanses the key material */
	free(k);
}

static int
ed25519_sign(struct kc_ledger_key *k, const void *data, size_t len, unsigned char sig[64])
{
	struct kc_buf b = KC_BUF_INIT(KC_SIG_MAX);
	int r;

	if ((r = kc_sign(k->signer, data, len, &b)) == 0 && b.len != 64)
		r = kc_err_set(KC_ERR_CRYPTO, "Ed25519 signing failed");
	if (r == 0)
		memcpy(sig, b.data, 64);
	kc_buf_free(&b);
	return r;
}

/* 1 valid, 0 invalid, <0 the key cannot be used. */
static int
ed25519_check(const unsigned char *spki, size_t spki_len, const void *data, size_t len,
    const unsigned char *sig, size_t siglen)
{
	const unsigned char *p = spki;
	EVP_PKEY *pk;
	EVP_MD_CTX *ctx = NULL;
	int ok = -1;

	if ((pk = d2i_PUBKEY(NULL, &p, (long)spki_len)) == NULL || p != spki + spki_len ||
	    EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519)
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) != 1)
		goto out;
	ok = siglen == 64 && EVP_DigestVerify(ctx, sig, siglen, data, len) == 1;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ok;
}

/* ---- trust list ------------------------------------------------------- */

void
kc_trust_free(struct kc_trust *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].org);
	}
	free(t->v);
	free(t);
}

/* The "roles" member of trust file entry i: absent gives ROLE_DEFAULT; else
 * an array of known role names (an empty array: no role). */
static int
trust_roles(const char *path, size_t i, const cJSON *roles, unsigned *out)
{
	const cJSON *it;

	*out = 0;
	if (roles == NULL) {
		*out = ROLE_DEFAULT;
		return 0;
	}
	if (!cJSON_IsArray(roles))
		return kc_err_set(KC_ERR_CONFIG, "trust file '%s', key %zu: \"roles\" is not an "
		    "array of role names", path, i);
	cJSON_ArrayForEach(it, roles) {
		size_t j, n = sizeof(role_names) / sizeof(role_names[0]);
		char safe[64];

		for (j = 0; j < n && cJSON_IsString(it); j++)
			if (strcmp(it->valuestring, role_names[j].name) == 0)
				break;
		if (!cJSON_IsString(it) || j == n)
			return kc_err_set(KC_ERR_CONFIG, "trust file '%s', key %zu: unknown role '%s' "
			    "(custodian, archive or reviewer)", path, i,
			    cJSON_IsString(it) ? kc_safe_str(it->valuestring, safe, sizeof(safe)) : "?");
		*out |= role_names[j].bit;
	}
	return 0;
}

int
kc_trust_load(const char *path, struct kc_trust **out)
{
	struct kc_buf b = KC_BUF_INIT(KC_TRUST_MAX);
	struct kc_trust *t = NULL;
	cJSON *root = NULL;
	const cJSON *keys, *k;
	char *dir = NULL, *pem = NULL;
	size_t i = 0;
	int r;

	*out = NULL;
	if ((r = kc_read_file(path, KC_TRUST_MAX, &b)) != 0)
		goto out;
	if ((root = cJSON_ParseWithLength(b.data ? b.data : "", b.len)) == NULL) {
		r = kc_err_set(KC_ERR_CONFIG, "trust file '%s' is not valid JSON", path);
		goto out;
	}
	keys = kc_json_get(root, "trusted_keys");
	if (!cJSON_IsArray(keys)) {
		r = kc_err_set(KC_ERR_CONFIG, "trust file '%s' has no \"trusted_keys\" array", path);
		goto out;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL || (dir = kc_dirname(path)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(k, keys) {
		const char *name = kc_json_str(k, "name"), *org = kc_json_str(k, "organisation");
		const char *pub = kc_json_str(k, "public_key"), *pin = kc_json_str(k, "fingerprint");
		const cJSON *roles = kc_json_get(k, "roles");
		struct trusted *e;

		i++;
		if (name == NULL || name[0] == '\0' || pub == NULL) {
			r = kc_err_set(KC_ERR_CONFIG, "trust file '%s', key %zu: needs \"name\" and "
			    "\"public_key\"", path, i);
			goto out;
		}
		if (KC_GROW(t->v, t->cap, t->n + 1) != 0) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		e = &t->v[t->n];
		memset(e, 0, sizeof(*e));
		free(pem);
		if ((pem = kc_path_join(dir, pub)) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((r = kc_ledger_pem_fingerprint(pem, e->fpr)) != 0) {
			char *why = kc_strdup(kc_err_msg());

			r = kc_err_set(KC_ERR_CONFIG, "trust file '%s', key %zu: %s", path, i,
			    why ? why : "out of memory");
			free(why);
			goto out;
		}
		if (pin != NULL && !kc_digest_eq(pin, e->fpr)) {
			r = kc_err_set(KC_ERR_CONFIG, "trust file '%s', key %zu: '%s' has fingerprint %s, "
			    "not the pinned %s", path, i, pem, e->fpr, pin);
			goto out;
		}
		if ((r = trust_roles(path, i, roles, &e->roles)) != 0)
			goto out;
		e->name = kc_strdup(name);
		e->org = kc_strdup(org ? org : "");
		t->n++;
		if (e->name == NULL || e->org == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	*out = t;
	t = NULL;	/* transferred */
out:
	kc_trust_free(t);
	cJSON_Delete(root);
	kc_buf_free(&b);
	free(dir);
	free(pem);
	return r;
}

int
kc_ledger_pem_fingerprint(const char *path, char fpr[72])
{
	BIO *bio;
	EVP_PKEY *pk;
	X509 *x;
	unsigned char *der = NULL;
	int n, r;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		return kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
	}
	if ((pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
		(void)BIO_reset(bio);
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			pk = X509_get_pubkey(x);
			X509_free(x);
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	if (pk == NULL)
		return kc_err_set(KC_ERR_CONFIG, "no public key in '%s'", path);
	if ((n = i2d_PUBKEY(pk, &der)) <= 0)
		r = kc_err_ossl(KC_ERR_CRYPTO, "cannot encode public key");
	else
		r = fpr_of_der(der, (size_t)n, fpr);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	return r;
}

static const struct trusted *
trust_find(const struct kc_trust *t, const char *fpr)
{
	for (size_t i = 0; t != NULL && i < t->n; i++)
		if (kc_digest_eq(t->v[i].fpr, fpr))
			return &t->v[i];
	return NULL;
}

const char *
kc_trust_name(const struct kc_trust *t, const char *fpr)
{
	const struct trusted *e = trust_find(t, fpr);

	return e ? e->name : NULL;
}

const char *
kc_trust_org(const struct kc_trust *t, const char *fpr)
{
	const struct trusted *e = trust_find(t, fpr);

	return e ? e->org : NULL;
}

/* ---- canonical form --------------------------------------------------- */

struct entry {
	long seq;
	const char *prev, *bundle, *action;
	const char *name, *org, *fpr, *pubkey;
	const char *from, *to, *purpose, *location, *method, *time, *note;
	int has_rc;		/* "recertification" present */
	struct kc_ledger_recert rc;
	const char *sig;	/* base64, NULL while building */
};

/* The "recertification" member of a "recertified" entry, in this order. */
static int
canon_recert(cJSON *o, const struct kc_ledger_recert *rc)
{
	cJSON *r, *sm;

	return (r = cJSON_AddObjectToObject(o, "recertification")) == NULL ||
	    cJSON_AddStringToObject(r, "decision", rc->decision) == NULL ||
	    cJSON_AddStringToObject(r, "scope_file", rc->scope_file) == NULL ||
	    cJSON_AddStringToObject(r, "scope_sha256", rc->scope_sha256) == NULL ||
	    (sm = cJSON_AddObjectToObject(r, "summary")) == NULL ||
	    cJSON_AddNumberToObject(sm, "agents", (double)rc->agents) == NULL ||
	    cJSON_AddNumberToObject(sm, "within_scope", (double)rc->within_scope) == NULL ||
	    cJSON_AddNumberToObject(sm, "beyond_scope", (double)rc->beyond_scope) == NULL ||
	    cJSON_AddNumberToObject(sm, "missing_from_scope", (double)rc->missing_from_scope) == NULL ||
	    cJSON_AddNumberToObject(sm, "scope_entries_without_agent",
	    (double)rc->scope_entries_without_agent) == NULL ? KC_ERR_NOMEM : 0;
}

/* The canonical bytes: members in this order, no whitespace, printed by
 * cJSON_PrintUnformatted; note only when present; sig (when e->sig is
 * set) last.  Appends to out. */
static int
canon(const struct entry *e, struct kc_buf *out)
{
	cJSON *o, *a;
	char *s = NULL;
	int r = KC_ERR_NOMEM;

	if ((o = cJSON_CreateObject()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (cJSON_AddStringToObject(o, "schema", KC_LEDGER_SCHEMA) == NULL ||
	    cJSON_AddNumberToObject(o, "seq", (double)e->seq) == NULL ||
	    cJSON_AddStringToObject(o, "prev", e->prev) == NULL ||
	    cJSON_AddStringToObject(o, "bundle_sha256", e->bundle) == NULL ||
	    cJSON_AddStringToObject(o, "action", e->action) == NULL ||
	    (a = cJSON_AddObjectToObject(o, "actor")) == NULL ||
	    cJSON_AddStringToObject(a, "name", e->name) == NULL ||
	    cJSON_AddStringToObject(a, "organisation", e->org) == NULL ||
	    cJSON_AddStringToObject(a, "key_fingerprint", e->fpr) == NULL ||
	    cJSON_AddStringToObject(a, "public_key", e->pubkey) == NULL ||
	    cJSON_AddStringToObject(o, "from", e->from) == NULL ||
	    cJSON_AddStringToObject(o, "to", e->to) == NULL ||
	    cJSON_AddStringToObject(o, "purpose", e->purpose) == NULL ||
	    cJSON_AddStringToObject(o, "location", e->location) == NULL ||
	    cJSON_AddStringToObject(o, "method", e->method) == NULL ||
	    cJSON_AddStringToObject(o, "time", e->time) == NULL ||
	    (e->has_rc && canon_recert(o, &e->rc) != 0) ||
	    (e->note != NULL && cJSON_AddStringToObject(o, "note", e->note) == NULL) ||
	    (e->sig != NULL && cJSON_AddStringToObject(o, "sig", e->sig) == NULL) ||
	    (s = cJSON_PrintUnformatted(o)) == NULL)
		goto out;
	r = kc_buf_adds(out, s);
out:
	if (r == KC_ERR_NOMEM)
		kc_err_set(r, "out of memory");
	cJSON_free(s);
	cJSON_Delete(o);
	return r;
}

static const char *
field_problem(const struct entry *e, const char **which)
{
	const struct { const char *name; const char *v; size_t max; } f[] = {
		{ "action", e->action, 32 },
		{ "time", e->time, 40 },
		{ "key_fingerprint", e->fpr, 80 },
		{ "actor name", e->name, KC_LEDGER_FIELD_MAX },
		{ "organisation", e->org, KC_LEDGER_FIELD_MAX },
		{ "from", e->from, KC_LEDGER_FIELD_MAX },
		{ "to", e->to, KC_LEDGER_FIELD_MAX },
		{ "purpose", e->purpose, KC_LEDGER_FIELD_MAX },
		{ "location", e->location, KC_LEDGER_FIELD_MAX },
		{ "method", e->method, KC_LEDGER_FIELD_MAX },
		{ "note", e->note, KC_LEDGER_NOTE_MAX },
		{ "decision", e->has_rc ? e->rc.decision : NULL, 32 },
		{ "scope_file", e->has_rc ? e->rc.scope_file : NULL, KC_LEDGER_FIELD_MAX },
		{ "scope_sha256", e->has_rc ? e->rc.scope_sha256 : NULL, 80 },
	};
	const char *why;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].v != NULL && (why = text_problem(f[i].v, f[i].max)) != NULL) {
			*which = f[i].name;
			return why;
		}
	}
	return NULL;
}

/* ---- verification ----------------------------------------------------- */

struct checker {
	const struct kc_trust *trust;
	const char *bundle;		/* expected bundle SHA-256 hex */
	cJSON *report, *problems, *warnings, *history;
	int nproblems;
	/* chain */
	long last_seq;
	char last_hash[KC_SHA256_HEX];
	time_t last_time;
	int have_time;
	/* custody */
	char custodian[FPR_LEN];
	const char *custodian_name;
	cJSON *custodian_json;
	long transfer_line;		/* open transfer's line, 0 when none */
	char transfer_to[KC_LEDGER_FIELD_MAX + 1];
	long disposed_line;
	char first_bundle[KC_SHA256_HEX];
};

static void
problem(struct checker *c, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
problem(struct checker *c, long line, const char *fmt, ...)
{
	char msg[1024];
	cJSON *p;
	va_list ap;

	va_start(ap, fmt);
	kc_vfmt_trunc(msg, sizeof(msg), fmt, ap);	/* a report line: shortened if it must be */
	va_end(ap);
	if (c->nproblems++ == 0)
		kc_err_set(KC_ERR_VERIFY, "custody ledger line %ld: %s", line, msg);
	if (c->problems != NULL && (p = cJSON_CreateObject()) != NULL) {
		cJSON_AddNumberToObject(p, "line", (double)line);
		cJSON_AddStringToObject(p, "reason", msg);
		cJSON_AddItemToArray(c->problems, p);
	}
}

static void
warning(struct checker *c, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
warning(struct checker *c, long line, const char *fmt, ...)
{
	char msg[1024];
	cJSON *p;
	va_list ap;

	va_start(ap, fmt);
	kc_vfmt_trunc(msg, sizeof(msg), fmt, ap);	/* a report line: shortened if it must be */
	va_end(ap);
	if (c->warnings != NULL && (p = cJSON_CreateObject()) != NULL) {
		cJSON_AddNumberToObject(p, "line", (double)line);
		cJSON_AddStringToObject(p, "reason", msg);
		cJSON_AddItemToArray(c->warnings, p);
	}
}

static const char *
req_str(const cJSON *o, const char *name, const char **missing)
{
	const char *s = kc_json_str(o, name);

	if (s == NULL && *missing == NULL)
		*missing = name;
	return s;
}

/* A count of the recertification summary: an integer 0..1e15, else -1. */
static long
count_of(const cJSON *o, const char *name)
{
	const cJSON *v = kc_json_get(o, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15 ||
	    v->valuedouble != (double)(long)v->valuedouble)
		return -1;
	return (long)v->valuedouble;
}

/* The "recertification" member (present: rc) into e.  NULL or why. */
static const char *
parse_recert(const cJSON *rc, struct entry *e)
{
	const cJSON *sm = kc_json_get(rc, "summary");
	struct kc_ledger_recert *r = &e->rc;

	if (!cJSON_IsObject(rc))
		return "\"recertification\" is not an object";
	r->decision = kc_json_str(rc, "decision");
	r->scope_file = kc_json_str(rc, "scope_file");
	r->scope_sha256 = kc_json_str(rc, "scope_sha256");
	if (r->decision == NULL || r->scope_file == NULL || r->scope_sha256 == NULL)
		return "\"recertification\" lacks decision, scope_file or scope_sha256";
	if (!cJSON_IsObject(sm) ||
	    (r->agents = count_of(sm, "agents")) < 0 ||
	    (r->within_scope = count_of(sm, "within_scope")) < 0 ||
	    (r->beyond_scope = count_of(sm, "beyond_scope")) < 0 ||
	    (r->missing_from_scope = count_of(sm, "missing_from_scope")) < 0 ||
	    (r->scope_entries_without_agent = count_of(sm, "scope_entries_without_agent")) < 0)
		return "\"recertification\" has no summary of whole counts";
	e->has_rc = 1;
	return NULL;
}

/* Parse one line into e (pointers into root).  NULL when fine, else why. */
static const char *
parse_entry(cJSON *root, struct entry *e, char *why, size_t n)
{
	const cJSON *seq, *actor, *note, *rc;
	const char *missing = NULL, *schema, *bad;

	memset(e, 0, sizeof(*e));
	if (!cJSON_IsObject(root))
		return "not a JSON object";
	schema = req_str(root, "schema", &missing);
	seq = kc_json_get(root, "seq");
	actor = kc_json_get(root, "actor");
	e->prev = req_str(root, "prev", &missing);
	e->bundle = req_str(root, "bundle_sha256", &missing);
	e->action = req_str(root, "action", &missing);
	if (!cJSON_IsObject(actor))
		return "no \"actor\" object";
	e->name = req_str(actor, "name", &missing);
	e->org = req_str(actor, "organisation", &missing);
	e->fpr = req_str(actor, "key_fingerprint", &missing);
	e->pubkey = req_str(actor, "public_key", &missing);
	e->from = req_str(root, "from", &missing);
	e->to = req_str(root, "to", &missing);
	e->purpose = req_str(root, "purpose", &missing);
	e->location = req_str(root, "location", &missing);
	e->method = req_str(root, "method", &missing);
	e->time = req_str(root, "time", &missing);
	e->sig = req_str(root, "sig", &missing);
	note = kc_json_get(root, "note");
	rc = kc_json_get(root, "recertification");
	if (missing != NULL) {
		kc_fmt_trunc(why, n, "no string member \"%s\"", missing);
		return why;
	}
	if (note != NULL) {
		if (!cJSON_IsString(note))
			return "\"note\" is not a string";
		e->note = note->valuestring;
	}
	if (rc != NULL && (bad = parse_recert(rc, e)) != NULL)
		return bad;
	if (strcmp(schema, KC_LEDGER_SCHEMA) != 0) {
		char safe[80];

		kc_fmt_trunc(why, n, "unknown schema \"%s\"", kc_safe_str(schema, safe, sizeof(safe)));
		return why;
	}
	if (!cJSON_IsNumber(seq) || seq->valuedouble < 1 || seq->valuedouble > 1e15 ||
	    seq->valuedouble != (double)(long)seq->valuedouble)
		return "\"seq\" is not a positive integer";
	e->seq = (long)seq->valuedouble;
	return NULL;
}

static int
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

static cJSON *
history_item(long line, const struct entry *e, const char *sigstate, const struct trusted *tr)
{
	cJSON *h = cJSON_CreateObject(), *a;

	if (h == NULL)
		return NULL;
	cJSON_AddNumberToObject(h, "line", (double)line);
	cJSON_AddNumberToObject(h, "seq", (double)e->seq);
	cJSON_AddStringToObject(h, "time", e->time);
	cJSON_AddStringToObject(h, "action", e->action);
	if ((a = cJSON_AddObjectToObject(h, "actor")) != NULL) {
		cJSON_AddStringToObject(a, "name", e->name);
		cJSON_AddStringToObject(a, "organisation", e->org);
		cJSON_AddStringToObject(a, "key_fingerprint", e->fpr);
		if (tr != NULL) {
			cJSON *ro;

			cJSON_AddStringToObject(a, "trustedAs", tr->name);
			if ((ro = cJSON_AddArrayToObject(a, "roles")) != NULL)
				for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
					if (tr->roles & role_names[i].bit)
						cJSON_AddItemToArray(ro,
						    cJSON_CreateString(role_names[i].name));
		}
	}
	cJSON_AddStringToObject(h, "from", e->from);
	cJSON_AddStringToObject(h, "to", e->to);
	cJSON_AddStringToObject(h, "purpose", e->purpose);
	cJSON_AddStringToObject(h, "location", e->location);
	cJSON_AddStringToObject(h, "method", e->method);
	if (e->has_rc)
		canon_recert(h, &e->rc);	/* the signed members, as the line has them */
	if (e->note != NULL)
		cJSON_AddStringToObject(h, "note", e->note);
	cJSON_AddStringToObject(h, "signature", sigstate);
	return h;
}

/* The identity an entry's "to" names matches the signer: the trusted name
 * (or, without a trust list, the claimed name) or the key fingerprint. */
static int
names_signer(const char *to, const struct entry *e, const struct trusted *tr)
{
	if (kc_digest_eq(to, e->fpr))
		return 1;
	if (tr != NULL)
		return strcmp(to, tr->name) == 0;
	return strcmp(to, e->name) == 0;
}

static const char *
holder_name(const struct checker *c)
{
	return c->custodian_name ? c->custodian_name : c->custodian;
}

/* Who may sign a recertification decision: with a trust list, a key with
 * the reviewer role (a custodian's role is not enough: the decision is the
 * reviewer's); without one no roles are known, and, as for a release, only
 * the holder may. */
static void
check_decision(struct checker *c, long line, const struct entry *e, const struct trusted *tr,
    int holder)
{
	if (c->trust == NULL) {
		if (!holder)
			problem(c, line, "recertification decision signed by %s, who is not the "
			    "custodian (%s holds the evidence; without --trust-keys only the "
			    "custodian may sign a decision, with it a key with the 'reviewer' role)",
			    e->fpr, holder_name(c));
		return;
	}
	if (tr != NULL && !(tr->roles & ROLE_REVIEWER))
		problem(c, line, "recertification decision signed by '%s' (%s), who has no "
		    "'reviewer' role in the trust file", tr->name, e->fpr);
}

/* Who may sign an entry that moves or ends custody (docs/CUSTODY.md,
 * "Roles").  Without a trust list only the holder (the sealer, then each
 * confirmed receiver) may transfer, release or dispose; with one, the
 * holder needs the custodian role, and a release may also come from a
 * reviewer, a disposal from the archive.  An untrusted signer (tr NULL
 * with a trust list) is already a problem and is not judged again. */
static void
check_authority(struct checker *c, long line, const struct entry *e, const struct trusted *tr)
{
	int transfer = strcmp(e->action, "transferred") == 0;
	int release = strcmp(e->action, "released") == 0;
	int dispose = strcmp(e->action, "disposed") == 0;
	int holder = c->custodian[0] == '\0' || kc_digest_eq(c->custodian, e->fpr);
	const char *what = transfer ? "transfer" : release ? "release" : "disposal";
	unsigned other = release ? ROLE_REVIEWER : dispose ? ROLE_ARCHIVE : 0;

	if (strcmp(e->action, "recertified") == 0) {
		check_decision(c, line, e, tr, holder);
		return;
	}
	if (strcmp(e->action, "sealed") == 0 || strcmp(e->action, "received") == 0) {
		/* The signer becomes the holder. */
		if (c->trust != NULL && tr != NULL && !(tr->roles & ROLE_CUSTODIAN))
			problem(c, line, "%s by '%s', who has no 'custodian' role in the trust file "
			    "(only a custodian may hold the evidence)", e->action, tr->name);
		return;
	}
	if (!transfer && !release && !dispose)
		return;
	if (c->trust == NULL) {
		if (!holder)
			problem(c, line, "%s signed by %s, who is not the custodian (%s holds the "
			    "evidence; without --trust-keys only the custodian may transfer, release "
			    "or dispose)", what, e->fpr, holder_name(c));
		return;
	}
	if (tr == NULL)
		return;
	if (holder && (tr->roles & ROLE_CUSTODIAN))
		return;
	if (other != 0 && (tr->roles & other))
		return;
	if (transfer && !holder)
		problem(c, line, "transfer signed by %s, who is not the custodian (%s holds the "
		    "evidence)", e->fpr, holder_name(c));
	else if (!holder)
		problem(c, line, "%s signed by '%s' (%s), who is not the custodian (%s holds the "
		    "evidence) and has no '%s' role in the trust file", what, tr->name, e->fpr,
		    holder_name(c), release ? "reviewer" : "archive");
	else
		problem(c, line, "%s signed by '%s', the holder, who has no 'custodian' role in "
		    "the trust file", what, tr->name);
}

static void
check_custody(struct checker *c, long line, const struct entry *e, const struct trusted *tr)
{
	int is_transfer = strcmp(e->action, "transferred") == 0;
	int is_receipt = strcmp(e->action, "received") == 0;

	if (c->disposed_line != 0)
		problem(c, line, "entry after the disposal at line %ld", c->disposed_line);
	if (c->transfer_line != 0) {
		if (!is_receipt) {
			problem(c, line, "the transfer at line %ld to '%s' is not followed by its "
			    "receipt (found '%s')", c->transfer_line, c->transfer_to, e->action);
		} else if (!names_signer(c->transfer_to, e, tr)) {
			problem(c, line, "receipt signed by %s (%s), but the transfer at line %ld "
			    "was to '%s'", tr ? tr->name : e->name, e->fpr, c->transfer_line,
			    c->transfer_to);
		}
		c->transfer_line = 0;
	} else if (is_receipt) {
		problem(c, line, "receipt without a transfer before it");
	}
	check_authority(c, line, e, tr);
	if (is_transfer) {
		if (e->to[0] == '\0')
			problem(c, line, "transfer names no receiver (\"to\" is empty)");
		c->transfer_line = line;
		/* compared with the receiver's name: a cut name could match another
		 * (field_problem keeps "to" within KC_LEDGER_FIELD_MAX, so this holds) */
		if (kc_fmt(c->transfer_to, sizeof(c->transfer_to), "%s", e->to) != 0)
			problem(c, line, "\"to\" is longer than %d bytes", KC_LEDGER_FIELD_MAX);
	}
	if (strcmp(e->action, "sealed") == 0 || is_receipt) {
		/* compared with later signers' fingerprints: never cut (a key_fingerprint
		 * of up to 80 bytes passes field_problem; cut to 71 it could equal
		 * another key's).  Too long, the holder is no key at all. */
		if (kc_fmt(c->custodian, sizeof(c->custodian), "%s", e->fpr) != 0) {
			problem(c, line, "key_fingerprint is longer than %d bytes", FPR_LEN - 1);
			kc_fmt_trunc(c->custodian, sizeof(c->custodian), "(no valid key)");
		}
		c->custodian_name = NULL;
		cJSON_Delete(c->custodian_json);
		if ((c->custodian_json = cJSON_CreateObject()) != NULL) {
			cJSON_AddStringToObject(c->custodian_json, "name", tr ? tr->name : e->name);
			cJSON_AddStringToObject(c->custodian_json, "organisation", tr ? tr->org : e->org);
			cJSON_AddStringToObject(c->custodian_json, "key_fingerprint", e->fpr);
			c->custodian_name = kc_json_str(c->custodian_json, "name");
		}
	}
	if (strcmp(e->action, "disposed") == 0)
		c->disposed_line = line;
}

/* The signature of e (cb: its canonical bytes without "sig"): the key
 * matches its fingerprint, the signature verifies, the signer is trusted
 * under the name it gives.  *sigstate and *tr (the trusted key) set. */
static void
check_signature(struct checker *c, long line, const struct entry *e, const struct kc_buf *cb,
    const char **sigstate, const struct trusted **tr)
{
	unsigned char spki[SPKI_MAX], sig[80];
	size_t spki_len, siglen;
	char fpr[FPR_LEN];
	int ok;

	if (b64_decode(e->pubkey, spki, sizeof(spki), &spki_len) != 0 ||
	    fpr_of_der(spki, spki_len, fpr) != 0) {
		problem(c, line, "public_key is not base64 DER");
	} else if (!kc_digest_eq(fpr, e->fpr)) {
		problem(c, line, "key_fingerprint %s is not the fingerprint of public_key (%s)",
		    e->fpr, fpr);
	} else if (b64_decode(e->sig, sig, 64, &siglen) != 0 || siglen != 64) {
		problem(c, line, "sig is not a base64 64-byte Ed25519 signature");
	} else if ((ok = ed25519_check(spki, spki_len, cb->data, cb->len, sig, siglen)) < 0) {
		problem(c, line, "public_key is not an Ed25519 key");
	} else if (ok == 0) {
		problem(c, line, "signature does not verify with %s's key %s (the entry was "
		    "altered)", e->name, e->fpr);
	} else if (c->trust == NULL) {
		*sigstate = "valid";
	} else if ((*tr = trust_find(c->trust, e->fpr)) == NULL) {
		*sigstate = "untrusted";
		problem(c, line, "signed by untrusted key %s (claims to be '%s')", e->fpr, e->name);
	} else {
		*sigstate = "trusted";
		if (strcmp((*tr)->name, e->name) != 0 ||
		    ((*tr)->org[0] != '\0' && strcmp((*tr)->org, e->org) != 0))
			problem(c, line, "actor '%s' (%s) signed with the key trusted as '%s' (%s)",
			    e->name, e->org, (*tr)->name, (*tr)->org);
	}
}

/* A "recertified" entry carries its recertification, no other entry one. */
static const char *
recert_problem(const struct entry *e)
{
	int is_rc = strcmp(e->action, "recertified") == 0;

	if (is_rc != e->has_rc)
		return is_rc ? "a 'recertified' entry without its \"recertification\"" :
		    "\"recertification\" in an entry that is not 'recertified'";
	if (!is_rc)
		return NULL;
	if (!kc_ledger_decision_ok(e->rc.decision))
		return "the recertification decision is not one of " KC_LEDGER_DECISIONS;
	if (!is_hex64(e->rc.scope_sha256))
		return "the recertification's scope_sha256 is not a SHA-256 hex digest";
	return NULL;
}

static void
check_line(struct checker *c, long line, const char *p, size_t len)
{
	struct kc_buf cb = KC_BUF_INIT(KC_LEDGER_LINE_MAX);
	struct entry e;
	cJSON *root = NULL, *h;
	const char *why, *which = NULL, *sigstate = "invalid";
	const struct trusted *tr = NULL;
	char whybuf[128], *copy = NULL;
	time_t t;
	long ns;

	if ((copy = kc_strndup(p, len)) == NULL || memchr(p, '\0', len) != NULL) {
		problem(c, line, copy ? "contains a NUL byte" : "out of memory");
		goto out;
	}
	if ((root = cJSON_ParseWithOpts(copy, NULL, 1)) == NULL) {
		problem(c, line, "not valid JSON");
		goto out;
	}
	if ((why = parse_entry(root, &e, whybuf, sizeof(whybuf))) != NULL) {
		problem(c, line, "not a custody entry: %s", why);
		goto out;
	}
	/* One byte representation only: the line must be its canonical form
	 * followed by the signature member. */
	{
		struct entry es = e;

		if (canon(&es, &cb) != 0 || cb.len != len || memcmp(cb.data, p, len) != 0) {
			problem(c, line, "not in canonical form (members, order, spacing or "
			    "escaping differ from what kcustody writes)");
			goto out;
		}
		kc_buf_reset(&cb);
		es.sig = NULL;
		if (canon(&es, &cb) != 0) {
			problem(c, line, "out of memory");
			goto out;
		}
	}
	if ((why = field_problem(&e, &which)) != NULL) {
		/* Nothing of this line is printed: it may hold control bytes. */
		problem(c, line, "%s %s", which, why);
		c->last_seq = e.seq;
		goto out;
	}
	if (!action_ok(e.action)) {
		char safe[80];

		problem(c, line, "unknown action '%s'", kc_safe_str(e.action, safe, sizeof(safe)));
	}
	if ((why = recert_problem(&e)) != NULL)
		problem(c, line, "%s", why);
	/* sequence and chain */
	if (e.seq != c->last_seq + 1) {
		if (e.seq <= c->last_seq)
			problem(c, line, "seq %ld does not follow seq %ld (a repeated or reordered "
			    "entry)", e.seq, c->last_seq);
		else
			problem(c, line, "seq %ld follows seq %ld (an entry is missing)", e.seq,
			    c->last_seq);
	}
	if (!is_hex64(e.prev))
		problem(c, line, "prev is not a SHA-256 hex digest");
	else if (!kc_digest_eq(e.prev, c->last_hash))
		problem(c, line, line == 1 ? "prev of the first entry is not all zeros" :
		    "prev does not match the SHA-256 of line %ld (the chain is broken)", line - 1);
	if (line == 1 && strcmp(e.action, "sealed") != 0)
		problem(c, line, "the first entry is '%s', not 'sealed'", e.action);
	if (line != 1 && strcmp(e.action, "sealed") == 0)
		problem(c, line, "'sealed' is only the first entry");
	/* bundle */
	if (!is_hex64(e.bundle))
		problem(c, line, "bundle_sha256 is not a SHA-256 hex digest");
	else if (c->bundle != NULL && strcmp(e.bundle, c->bundle) != 0)
		problem(c, line, "bundle_sha256 %.12s... is not this bundle's SHA-256 %.12s... "
		    "(the ledger belongs to another bundle)", e.bundle, c->bundle);
	/* time */
	if (kc_parse_rfc3339(e.time, &t, &ns) != 0 || strlen(e.time) != 20 ||
	    e.time[19] != 'Z') {
		problem(c, line, "time '%s' is not UTC RFC 3339 (YYYY-MM-DDTHH:MM:SSZ)", e.time);
	} else {
		if (c->have_time && t < c->last_time)
			problem(c, line, "time %s is before the previous entry's", e.time);
		c->last_time = t;
		c->have_time = 1;
	}
	check_signature(c, line, &e, &cb, &sigstate, &tr);
	check_custody(c, line, &e, tr);
	c->last_seq = e.seq;
	if (c->history != NULL && (h = history_item(line, &e, sigstate, tr)) != NULL)
		cJSON_AddItemToArray(c->history, h);
	if (c->bundle == NULL && is_hex64(e.bundle)) {
		/* No bundle to compare with: the first entry's hash binds the rest. */
		memcpy(c->first_bundle, e.bundle, KC_SHA256_HEX);
		c->bundle = c->first_bundle;
		if (c->report != NULL)
			cJSON_AddStringToObject(c->report, "bundleSHA256", e.bundle);
		warning(c, line, "no bundle file given: bundle hashes checked against the first "
		    "entry only");
	}
out:
	kc_buf_free(&cb);
	cJSON_Delete(root);
	free(copy);
}

int
kc_ledger_check(const char *text, size_t len, const char *bundle_sha256,
    const struct kc_trust *trust, struct kc_ledger_state *state, cJSON **report)
{
	struct checker c;
	long line = 0;
	size_t off = 0;
	int r = 0;

	memset(&c, 0, sizeof(c));
	c.trust = trust;
	c.bundle = bundle_sha256;
	memcpy(c.last_hash, ZERO_HASH, sizeof(c.last_hash));
	if (report != NULL) {
		*report = NULL;
		if ((c.report = cJSON_CreateObject()) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		if (bundle_sha256 != NULL)
			cJSON_AddStringToObject(c.report, "bundleSHA256", bundle_sha256);
		c.problems = cJSON_CreateArray();
		c.warnings = cJSON_CreateArray();
		c.history = cJSON_CreateArray();
		if (c.problems == NULL || c.warnings == NULL || c.history == NULL) {
			cJSON_Delete(c.problems);
			cJSON_Delete(c.warnings);
			cJSON_Delete(c.history);
			cJSON_Delete(c.report);
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		}
	}
	while (off < len) {
		const char *p = text + off, *nl = memchr(p, '\n', len - off);
		size_t n = nl ? (size_t)(nl - p) : len - off;

		line++;
		if (nl == NULL)
			problem(&c, line, "incomplete entry (no newline at the end of the file: an "
			    "interrupted write?)");
		else if (n == 0)
			problem(&c, line, "empty line");
		else if (n > KC_LEDGER_LINE_MAX)
			problem(&c, line, "longer than %u bytes", KC_LEDGER_LINE_MAX);
		else
			check_line(&c, line, p, n);
		if ((r = kc_sha256_hex(p, nl ? n + 1 : n, c.last_hash)) != 0)
			goto out;
		off += nl ? n + 1 : n;
	}
	if (line == 0)
		problem(&c, 1, "the ledger is empty");
	if (c.transfer_line != 0)
		warning(&c, c.transfer_line, "transfer to '%s' not yet received (in transit)",
		    c.transfer_to);
	if (state != NULL) {
		state->entries = line;
		state->last_seq = c.last_seq;
		memcpy(state->last_hash, c.last_hash, sizeof(state->last_hash));
		state->last_time = c.last_time;
		state->problems = c.nproblems;
	}
	r = c.nproblems ? KC_ERR_VERIFY : 0;
out:
	if (c.report != NULL) {
		cJSON *pend = NULL;

		cJSON_AddBoolToObject(c.report, "verified", c.nproblems == 0 && r == 0);
		cJSON_AddBoolToObject(c.report, "trustChecked", trust != NULL);
		cJSON_AddNumberToObject(c.report, "entries", (double)line);
		if (c.custodian_json != NULL) {
			cJSON_AddItemToObject(c.report, "custodian", c.custodian_json);
			c.custodian_json = NULL;	/* transferred */
		} else {
			cJSON_AddNullToObject(c.report, "custodian");
		}
		if (c.transfer_line != 0 && (pend = cJSON_CreateObject()) != NULL) {
			cJSON_AddNumberToObject(pend, "line", (double)c.transfer_line);
			cJSON_AddStringToObject(pend, "to", c.transfer_to);
			cJSON_AddItemToObject(c.report, "pendingTransfer", pend);
		} else {
			cJSON_AddNullToObject(c.report, "pendingTransfer");
		}
		cJSON_AddItemToObject(c.report, "problems", c.problems);
		cJSON_AddItemToObject(c.report, "warnings", c.warnings);
		cJSON_AddItemToObject(c.report, "history", c.history);
		*report = c.report;
	}
	cJSON_Delete(c.custodian_json);
	return r;
}

/* ---- writing ---------------------------------------------------------- */

int
kc_ledger_make_entry(const struct kc_ledger_state *st, const char *bundle_sha256,
    struct kc_ledger_key *key, const struct kc_ledger_event *ev, time_t now,
    struct kc_buf *line)
{
	struct kc_buf cb = KC_BUF_INIT(KC_LEDGER_LINE_MAX);
	struct entry e;
	unsigned char sig[64];
	char sigb64[100], pubb64[2 * SPKI_MAX], tbuf[32];
	const char *why, *which = NULL;
	int r;

	memset(&e, 0, sizeof(e));
	if (ev->action == NULL || !action_ok(ev->action))
		return kc_err_set(KC_ERR_INVALID, "unknown custody action '%s' (one of sealed, "
		    "transferred, received, verified, archived, accessed, released, disposed)",
		    ev->action ? ev->action : "");	/* "recertified": recertify --decision */
	if ((strcmp(ev->action, "recertified") == 0) != (ev->recert != NULL))
		return kc_err_set(KC_ERR_INVALID, ev->recert ? "a recertification belongs only in a "
		    "'recertified' entry" : "a 'recertified' entry is written by kcustody recertify "
		    "--decision (it carries the decision, the scope file's SHA-256 and the result)");
	if (ev->actor.name == NULL || ev->actor.name[0] == '\0')
		return kc_err_set(KC_ERR_INVALID, "a custody entry needs the actor's name");
	if (st->last_seq == 0 && strcmp(ev->action, "sealed") != 0)
		return kc_err_set(KC_ERR_INVALID, "the first custody entry must be 'sealed'");
	if (st->last_seq != 0 && strcmp(ev->action, "sealed") == 0)
		return kc_err_set(KC_ERR_INVALID, "the ledger already has entries; 'sealed' is "
		    "only the first");
	if (!is_hex64(bundle_sha256))
		return kc_err_set(KC_ERR_INVALID, "bundle SHA-256 is not a hex digest");
	if (st->last_seq != 0 && now < st->last_time)
		return kc_err_set(KC_ERR_VERIFY, "the clock says %s, before the ledger's last entry; "
		    "refusing to write a time that goes backwards",
		    kc_fmt_rfc3339(now, tbuf, sizeof(tbuf)));
	e.seq = st->last_seq + 1;
	e.prev = st->last_seq == 0 ? ZERO_HASH : st->last_hash;
	e.bundle = bundle_sha256;
	e.action = ev->action;
	e.name = ev->actor.name;
	e.org = ev->actor.organisation ? ev->actor.organisation : "";
	e.fpr = key->fpr;
	e.from = ev->from ? ev->from : "";
	e.to = ev->to ? ev->to : "";
	e.purpose = ev->purpose ? ev->purpose : "";
	e.location = ev->location ? ev->location : "";
	e.method = ev->method ? ev->method : "";
	e.note = ev->note;
	e.time = kc_fmt_rfc3339(now, tbuf, sizeof(tbuf));
	if (ev->recert != NULL) {
		e.has_rc = 1;
		e.rc = *ev->recert;
		if (e.rc.decision == NULL || e.rc.scope_file == NULL || e.rc.scope_sha256 == NULL ||
		    e.rc.agents < 0 || e.rc.within_scope < 0 || e.rc.beyond_scope < 0 ||
		    e.rc.missing_from_scope < 0 || e.rc.scope_entries_without_agent < 0)
			return kc_err_set(KC_ERR_INVALID, "incomplete recertification");
	}
	if ((why = field_problem(&e, &which)) != NULL)
		return kc_err_set(KC_ERR_INVALID, "custody %s %s", which, why);
	if ((why = recert_problem(&e)) != NULL)
		return kc_err_set(KC_ERR_INVALID, "%s", why);
	if (strcmp(ev->action, "transferred") == 0 && e.to[0] == '\0')
		return kc_err_set(KC_ERR_INVALID, "a transfer needs --to (the receiver's name or "
		    "key fingerprint)");
	if ((r = b64_encode(key->spki, key->spki_len, pubb64, sizeof(pubb64))) != 0)
		return kc_err_set(r, "public key too long");
	e.pubkey = pubb64;
	if ((r = canon(&e, &cb)) != 0)
		goto out;
	if ((r = ed25519_sign(key, cb.data, cb.len, sig)) != 0)
		goto out;
	if ((r = b64_encode(sig, sizeof(sig), sigb64, sizeof(sigb64))) != 0)
		goto out;
	e.sig = sigb64;
	kc_buf_reset(&cb);
	if ((r = canon(&e, &cb)) != 0 || (r = kc_buf_addc(&cb, '\n')) != 0) {
		r = kc_err_set(r, "custody entry longer than %u bytes", KC_LEDGER_LINE_MAX);
		goto out;
	}
	r = kc_buf_add(line, cb.data, cb.len);
out:
	OPENSSL_cleanse(sig, sizeof(sig));
	kc_buf_free(&cb);
	return r;
}

char *
kc_ledger_path(const char *bundle_path)
{
	char *p;

	if (asprintf(&p, "%s%s", bundle_path, KC_LEDGER_SUFFIX) < 0)
		return NULL;
	return p;
}

static int
read_fd(int fd, const char *path, struct kc_buf *out)
{
	char chunk[65536];
	off_t off = 0;
	ssize_t n;
	int r;

	for (;;) {
		n = pread(fd, chunk, sizeof(chunk), off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
		}
		if (n == 0)
			return 0;
		if ((r = kc_buf_add(out, chunk, (size_t)n)) != 0)
			return kc_err_set(r, "'%s' is larger than %u bytes", path, KC_LEDGER_MAX);
		off += n;
	}
}

int
kc_ledger_next_entry(const char *text, size_t len, const struct kc_ledger_state *st,
    const char *bundle_sha256, struct kc_ledger_key *key, const struct kc_ledger_event *ev,
    const struct kc_trust *trust, struct kc_buf *line)
{
	struct kc_buf all = KC_BUF_INIT(KC_LEDGER_MAX);
	size_t start = line->len;
	int r;

	if ((r = kc_ledger_make_entry(st, bundle_sha256, key, ev, kc_now(), line)) != 0)
		return r;
	/* The ledger with the new entry must verify too (without flagging an
	 * open transfer, which is a warning), so that an entry the signer may
	 * not make is never written. */
	if ((r = kc_buf_add(&all, text, len)) != 0 ||
	    (r = kc_buf_add(&all, line->data + start, line->len - start)) != 0) {
		r = kc_err_set(r, "custody ledger longer than %u bytes", KC_LEDGER_MAX);
		goto out;
	}
	if ((r = kc_ledger_check(kc_buf_str(&all), all.len, bundle_sha256, trust, NULL, NULL)) != 0) {
		char *why = kc_strdup(kc_err_msg());

		r = kc_err_set(r == KC_ERR_VERIFY ? KC_ERR_INVALID : r, "refusing to write an entry "
		    "that would not verify: %s", why ? why : "out of memory");
		free(why);
	}
out:
	if (r != 0 && line->data != NULL) {
		line->len = start;
		line->data[start] = '\0';
	}
	kc_buf_free(&all);
	return r;
}

/* Open the ledger for appending (created, O_EXCL, only for the 'sealed'
 * entry: *created) and take its lock. */
static int
ledger_open_locked(const char *ledger_path, int sealing, int *fdp, int *created)
{
	int fd;

	*created = 0;
	fd = open(ledger_path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && sealing) {
		fd = open(ledger_path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0644);
		*created = fd >= 0;
	}
	*fdp = fd;
	if (fd < 0) {
		if (errno == ENOENT)
			return kc_err_set(KC_ERR_NOTFOUND, "no custody ledger '%s' (it starts with the "
			    "'sealed' entry)", ledger_path);
		return kc_err_set(KC_ERR_IO, "cannot open '%s': %s", ledger_path, strerror(errno));
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR)
			return kc_err_set(KC_ERR_IO, "cannot lock '%s': %s", ledger_path, strerror(errno));
	}
	return 0;
}

/* One write of the whole line on O_APPEND, under the lock, then fsync; a
 * partial line is cut off again (the file back to keep bytes). */
static int
append_line(int fd, const char *ledger_path, const struct kc_buf *line, size_t keep)
{
	ssize_t n = write(fd, line->data, line->len);

	if (n >= 0 && n < (ssize_t)line->len) {
		/* A short write (a full file system): the rest fails with the
		 * reason, and the partial line is cut off again below. */
		ssize_t m = write(fd, line->data + n, line->len - (size_t)n);

		if (m > 0)
			n += m;
		if (m == 0)
			errno = ENOSPC;
	}
	if (n != (ssize_t)line->len) {
		int r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s (the ledger is left as it was)",
		    ledger_path, strerror(errno));

		if (n > 0 && ftruncate(fd, (off_t)keep) != 0)
			kc_err_set(KC_ERR_IO, "cannot write '%s' and cannot undo a partial line: %s",
			    ledger_path, strerror(errno));
		return r;
	}
	if (fsync(fd) != 0)
		return kc_err_set(KC_ERR_IO, "cannot fsync '%s': %s", ledger_path, strerror(errno));
	return 0;
}

/* The new ledger with its first line: a temporary ".kcustody-seal.XXXXXX"
 * beside it (a name a killed run may leave, docs/COLLECT.md), fsync'ed,
 * renamed into place only when no ledger is there, the folder fsync'ed. */
static int
create_ledger(const char *ledger_path, const struct kc_buf *line)
{
	struct kc_atomic f = KC_ATOMIC_INIT;
	int r;

	if ((r = kc_atomic_open(&f, ledger_path, ".kcustody-seal.XXXXXX", 0644)) == 0 &&
	    (r = kc_write_all(f.fd, line->data, line->len, ledger_path)) == 0)
		r = kc_atomic_commit(&f, KC_ATOMIC_NOREPLACE | KC_ATOMIC_SYNC_DIR);
	kc_atomic_abort(&f);
	if (r != 0 && access(ledger_path, F_OK) == 0)	/* another run made it first */
		r = kc_err_set(KC_ERR_INVALID, "custody ledger '%s' already exists", ledger_path);
	return r;
}

int
kc_ledger_append(const char *bundle_path, const char *ledger_path,
    const char *bundle_sha256, struct kc_ledger_key *key,
    const struct kc_ledger_event *ev, const struct kc_trust *trust,
    struct kc_buf *line_out)
{
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX), line = KC_BUF_INIT(KC_LEDGER_LINE_MAX);
	struct kc_ledger_state st;
	char hex[KC_SHA256_HEX], *lpath = NULL;
	int fd = -1, r, created = 0, sealing = ev->action && strcmp(ev->action, "sealed") == 0;

	memset(&st, 0, sizeof(st));
	if (bundle_sha256 == NULL) {
		if ((r = kc_sha256_file(bundle_path, hex, NULL)) != 0)
			return r;
		bundle_sha256 = hex;
	}
	if (ledger_path == NULL) {
		if ((lpath = kc_ledger_path(bundle_path)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		ledger_path = lpath;
	}
	if (sealing && access(ledger_path, F_OK) != 0 && errno == ENOENT) {
		/* A new ledger appears whole or not at all: its first line is
		 * written to a temporary file that is linked into place only
		 * if no ledger is there (a kill between creating the file and
		 * writing the line left an empty ledger, which made the sealed
		 * bundle beside it fail verify). */
		if ((r = kc_ledger_next_entry(NULL, 0, &st, bundle_sha256, key, ev, trust, &line)) != 0 ||
		    (r = create_ledger(ledger_path, &line)) != 0)
			goto out;
		if (line_out != NULL)
			r = kc_buf_add(line_out, line.data, line.len);
		goto out;
	}
	if ((r = ledger_open_locked(ledger_path, 0, &fd, &created)) != 0 ||
	    (r = read_fd(fd, ledger_path, &text)) != 0)
		goto out;
	if (text.len > 0 &&
	    (r = kc_ledger_check(text.data, text.len, bundle_sha256, trust, &st, NULL)) != 0) {
		char *why = kc_strdup(kc_err_msg());

		kc_err_set(r, "refusing to append to '%s', which does not verify: %s",
		    ledger_path, why ? why : "out of memory");
		free(why);
		goto out;
	}
	if ((r = kc_ledger_next_entry(text.data, text.len, &st, bundle_sha256, key, ev, trust,
	    &line)) != 0 ||
	    (r = append_line(fd, ledger_path, &line, text.len)) != 0)
		goto out;
	if (line_out != NULL)
		r = kc_buf_add(line_out, line.data, line.len);
out:
	if (r != 0 && created)
		unlink(ledger_path);
	if (fd >= 0)
		close(fd);	/* releases the lock */
	kc_buf_free(&text);
	kc_buf_free(&line);
	free(lpath);
	return r;
}

int
kc_ledger_seal_entry(const char *bundle_path, const char *key_path,
    const char *passphrase_file, const struct kc_ledger_actor *actor,
    const char *purpose, const char *location)
{
	struct kc_ledger_key *key = NULL;
	struct kc_ledger_event ev;
	char *lpath = NULL;
	int r;

	memset(&ev, 0, sizeof(ev));
	ev.action = "sealed";
	ev.actor = *actor;
	ev.purpose = purpose;
	ev.location = location;
	ev.method = "kcustody collect " KC_VERSION;
	if ((lpath = kc_ledger_path(bundle_path)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (access(lpath, F_OK) == 0) {
		r = kc_err_set(KC_ERR_INVALID, "custody ledger '%s' already exists", lpath);
		goto out;
	}
	if ((r = kc_ledger_key_load(key_path, passphrase_file, &key)) != 0)
		goto out;
	r = kc_ledger_append(bundle_path, lpath, NULL, key, &ev, NULL, NULL);
out:
	kc_ledger_key_free(key);
	free(lpath);
	return r;
}

int
kc_ledger_verify(const char *bundle_path, const char *ledger_path,
    const char *trust_keys_file, cJSON **report)
{
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	struct kc_trust *trust = NULL;
	char hex[KC_SHA256_HEX], *lpath = NULL;
	int r;

	if (report != NULL)
		*report = NULL;
	if (ledger_path == NULL) {
		if ((lpath = kc_ledger_path(bundle_path)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		ledger_path = lpath;
	}
	if (access(ledger_path, F_OK) != 0 && errno == ENOENT) {
		r = kc_err_set(KC_ERR_NOTFOUND, "no custody ledger '%s'", ledger_path);
		goto out;
	}
	if (trust_keys_file != NULL && (r = kc_trust_load(trust_keys_file, &trust)) != 0)
		goto out;
	if ((r = kc_sha256_file(bundle_path, hex, NULL)) != 0)
		goto out;
	if ((r = kc_read_file(ledger_path, KC_LEDGER_MAX, &text)) != 0)
		goto out;
	r = kc_ledger_check(text.data ? text.data : "", text.len, hex, trust, NULL, report);
	if (report != NULL && *report != NULL)
		cJSON_AddStringToObject(*report, "ledger", ledger_path);
out:
	kc_trust_free(trust);
	kc_buf_free(&text);
	free(lpath);
	return r;
}

/* ---- text rendering --------------------------------------------------- */

static const char *
hs(const cJSON *o, const char *name)
{
	const char *s = kc_json_str(o, name);

	return s ? s : "";
}

/* A decision's lines under its row: what was decided over what. */
static int
recert_note(struct kc_table *t, const cJSON *rc)
{
	const cJSON *sm = kc_json_get(rc, "summary");
	char *l[4];
	int r = 0;

	if (!cJSON_IsObject(rc))
		return 0;
	l[0] = kc_asprintf("decision: %s", hs(rc, "decision"));
	l[1] = kc_asprintf("scope: %s", hs(rc, "scope_file"));
	l[2] = kc_asprintf("scope sha256: %s", hs(rc, "scope_sha256"));
	/* whole counts up to 1e15 (count_of): valueint would saturate at INT_MAX */
	l[3] = kc_asprintf("result: %.0f agents, %.0f within scope, %.0f beyond, %.0f not in scope, "
	    "%.0f entries unused",
	    cJSON_GetNumberValue(kc_json_get(sm, "agents")), cJSON_GetNumberValue(kc_json_get(sm, "within_scope")),
	    cJSON_GetNumberValue(kc_json_get(sm, "beyond_scope")),
	    cJSON_GetNumberValue(kc_json_get(sm, "missing_from_scope")),
	    cJSON_GetNumberValue(kc_json_get(sm, "scope_entries_without_agent")));
	for (size_t i = 0; i < 4; i++) {
		if (l[i] == NULL)
			r = KC_ERR_NOMEM;
		else if (r == 0)
			r = kc_table_note(t, l[i]);
		free(l[i]);
	}
	return r;
}

int
kc_ledger_render_text(const cJSON *report, struct kc_buf *out)
{
	const cJSON *h, *a, *p, *cust, *pend;
	const cJSON *hist = kc_json_get(report, "history");
	int r = 0;

	if (cJSON_GetArraySize(hist) > 0) {
		static const struct kc_table_col cols[] = {
			{ "SEQ", KC_COL_KEEP | KC_COL_RIGHT }, { "TIME", KC_COL_KEEP }, { "ACTION", KC_COL_KEEP },
			{ "ACTOR", 0 }, { "FROM", 0 }, { "TO", 0 }, { "SIGNATURE", 0 },
		};
		struct kc_table *t = kc_table_new(cols, sizeof(cols) / sizeof(cols[0]));

		if (t == NULL)
			return KC_ERR_NOMEM;
		cJSON_ArrayForEach(h, hist) {
			char actor[256], seq[32];
			const char *cells[7];

			a = kc_json_get(h, "actor");
			if (hs(a, "organisation")[0] != '\0')
				kc_fmt_trunc(actor, sizeof(actor), "%s (%s)", hs(a, "name"), hs(a, "organisation"));
			else
				kc_fmt_trunc(actor, sizeof(actor), "%s", hs(a, "name"));	/* a column */
			kc_fmt_trunc(seq, sizeof(seq), "%d", kc_json_get(h, "seq")->valueint);
			cells[0] = seq;
			cells[1] = hs(h, "time");
			cells[2] = hs(h, "action");
			cells[3] = actor;
			cells[4] = hs(h, "from");
			cells[5] = hs(h, "to");
			cells[6] = hs(h, "signature");
			r |= kc_table_add(t, cells);
			for (const char *const *f = (const char *const[]){ "purpose", "location", "method",
			    "note", NULL }; *f != NULL && r == 0; f++) {
				char *line;

				if (hs(h, *f)[0] == '\0')
					continue;
				if ((line = kc_asprintf("%s: %s", *f, hs(h, *f))) == NULL)
					r = KC_ERR_NOMEM;
				else
					r |= kc_table_note(t, line);
				free(line);
			}
			if (r == 0)
				r = recert_note(t, kc_json_get(h, "recertification"));
		}
		if (r == 0)
			r = kc_table_render(t, KC_TABLE_WIDTH, out);
		kc_table_free(t);
		if (r != 0)
			return r;
	}
	cust = kc_json_get(report, "custodian");
	if (cJSON_IsObject(cust) && hs(cust, "organisation")[0] != '\0')
		r |= kc_buf_addf(out, "custodian: %s (%s) %s\n", hs(cust, "name"),
		    hs(cust, "organisation"), hs(cust, "key_fingerprint"));
	else if (cJSON_IsObject(cust))	/* no organisation: no empty "()" */
		r |= kc_buf_addf(out, "custodian: %s %s\n", hs(cust, "name"), hs(cust, "key_fingerprint"));
	pend = kc_json_get(report, "pendingTransfer");
	if (cJSON_IsObject(pend))
		r |= kc_buf_addf(out, "in transit: transfer at line %d to '%s' not yet received\n",
		    kc_json_get(pend, "line")->valueint, hs(pend, "to"));
	cJSON_ArrayForEach(p, kc_json_get(report, "problems"))
		r |= kc_buf_addf(out, "problem: line %d: %s\n",
		    kc_json_get(p, "line")->valueint, hs(p, "reason"));
	cJSON_ArrayForEach(p, kc_json_get(report, "warnings"))
		r |= kc_buf_addf(out, "warning: line %d: %s\n",
		    kc_json_get(p, "line")->valueint, hs(p, "reason"));
	r |= kc_buf_addf(out, "custody ledger: %s (%d entries%s)\n",
	    cJSON_IsTrue(kc_json_get(report, "verified")) ? "VERIFIED" : "FAILED",
	    kc_json_get(report, "entries")->valueint,
	    cJSON_IsTrue(kc_json_get(report, "trustChecked")) ?
	    ", signers trusted" : ", signers NOT checked against trusted keys: give --trust-keys");
	return r ? KC_ERR_NOMEM : 0;
}
