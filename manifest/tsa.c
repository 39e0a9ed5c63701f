/* tsa.c - RFC 3161 requests (libcurl) and reply checks (OpenSSL TS). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "manifest/tsa.h"
#include "util/err.h"
#include "util/log.h"


static int
sha256(const void *data, size_t len, unsigned char md[32])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return kc_err_ossl(KC_ERR_CRYPTO, "sha256 failed");
	return 0;
}

static TS_REQ *
make_request(const unsigned char md[32])
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	unsigned char rnd[8];
	BIGNUM *bn = NULL;
	int ok = 0;

	if (req == NULL || mi == NULL || alg == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	rnd[0] &= 0x7f;	/* a positive INTEGER, as openssl ts -query makes */
	X509_ALGOR_set_md(alg, EVP_sha256());
	if ((bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) == NULL ||
	    (nonce = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto out;
	ok = TS_REQ_set_version(req, 1) == 1 && TS_MSG_IMPRINT_set_algo(mi, alg) == 1 &&
	    TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)md, 32) == 1 &&
	    TS_REQ_set_msg_imprint(req, mi) == 1 && TS_REQ_set_nonce(req, nonce) == 1 &&
	    TS_REQ_set_cert_req(req, 1) == 1;
out:
	BN_free(bn);
	ASN1_INTEGER_free(nonce);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	if (!ok) {
		TS_REQ_free(req);
		return NULL;
	}
	return req;
}

struct sink {
	struct kc_buf *b;
	int over;
};

static size_t
on_body(char *p, size_t size, size_t n, void *u)
{
	struct sink *s = u;

	if (kc_buf_add(s->b, p, size * n) != 0) {
		s->over = 1;
		return 0;
	}
	return size * n;
}

static int
post(const char *url, const unsigned char *body, long len, long timeout, struct kc_buf *reply)
{
	struct curl_slist *hdr = NULL;
	struct sink s = { reply, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	CURL *c;
	int r = 0;

	if ((c = curl_easy_init()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	hdr = curl_slist_append(hdr, "Content-Type: application/timestamp-query");
	hdr = curl_slist_append(hdr, "Accept: application/timestamp-reply");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 15 ? timeout : 15L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kcustody/" KC_VERSION);
	rc = curl_easy_perform(c);
	if (s.over)
		r = kc_err_set(KC_ERR_LIMIT, "TSA reply larger than %u bytes", KC_TSR_MAX);
	else if (rc != CURLE_OK)
		r = kc_err_set(KC_ERR_NET, "cannot reach TSA '%s': %s", url,
		    errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), status != 200)
		r = kc_err_set(KC_ERR_HTTP, "TSA '%s' answered HTTP %ld", url, status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return r;
}

static int
load_store(TS_VERIFY_CTX *ctx, const char *tsa_ca)
{
	X509_STORE *st = X509_STORE_new();

	if (st == NULL || X509_STORE_load_file(st, tsa_ca) != 1) {
		X509_STORE_free(st);
		return kc_err_ossl(KC_ERR_CONFIG, "cannot load TSA CA certificates from '%s'", tsa_ca);
	}
	TS_VERIFY_CTX_set_store(ctx, st);	/* ctx owns it now */
	TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE);
	return 0;
}

static int
check_token(TS_RESP *resp, char *gentime, size_t n)
{
	TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
	const ASN1_GENERALIZEDTIME *gt;
	X509_ALGOR *alg;
	struct tm tm;

	if (tst == NULL)
		return kc_err_set(KC_ERR_VERIFY, "time-stamp reply carries no token");
	alg = TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(tst));
	if (alg == NULL || OBJ_obj2nid(alg->algorithm) != NID_sha256)
		return kc_err_set(KC_ERR_VERIFY, "time-stamp imprint is not SHA-256");
	if (gentime != NULL && n > 0) {
		gentime[0] = '\0';
		if ((gt = TS_TST_INFO_get_time(tst)) != NULL && ASN1_TIME_to_tm(gt, &tm) == 1)
			strftime(gentime, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	return 0;
}

int
kc_tsa_stamp(const char *url, const char *tsa_ca, const void *data, size_t len,
    struct kc_buf *tsr)
{
	return kc_tsa_stamp_timeout(url, tsa_ca, data, len, 60, tsr);
}

int
kc_tsa_stamp_timeout(const char *url, const char *tsa_ca, const void *data, size_t len, long timeout,
    struct kc_buf *tsr)
{
	struct kc_buf reply = KC_BUF_INIT(KC_TSR_MAX);
	unsigned char md[32], *der = NULL;
	const unsigned char *p;
	TS_REQ *req = NULL;
	TS_RESP *resp = NULL;
	TS_VERIFY_CTX *ctx = NULL;
	int n, r;

	if ((r = sha256(data, len, md)) != 0)
		return r;
	if ((req = make_request(md)) == NULL || (n = i2d_TS_REQ(req, &der)) <= 0) {
		r = kc_err_ossl(KC_ERR_CRYPTO, "cannot build the time-stamp request");
		goto out;
	}
	if ((r = post(url, der, n, timeout > 0 ? timeout : 60, &reply)) != 0)
		goto out;
	p = (const unsigned char *)reply.data;
	if (reply.len == 0 || (resp = d2i_TS_RESP(NULL, &p, (long)reply.len)) == NULL ||
	    p != (const unsigned char *)reply.data + reply.len) {
		r = kc_err_ossl(KC_ERR_VERIFY, "TSA '%s' sent no valid TimeStampResp", url);
		goto out;
	}
	/* Status, version, imprint and nonce as we asked them. */
	if ((ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL)) == NULL) {
		r = kc_err_ossl(KC_ERR_CRYPTO, "cannot check the time-stamp reply");
		goto out;
	}
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_NONCE);
	if (tsa_ca != NULL && (r = load_store(ctx, tsa_ca)) != 0)
		goto out;
	if (TS_RESP_verify_response(ctx, resp) != 1) {
		r = kc_err_ossl(KC_ERR_VERIFY, "TSA '%s' reply rejected", url);
		goto out;
	}
	if ((r = check_token(resp, NULL, 0)) != 0)
		goto out;
	r = kc_buf_add(tsr, reply.data, reply.len);
out:
	ERR_clear_error();
	TS_VERIFY_CTX_free(ctx);
	TS_RESP_free(resp);
	TS_REQ_free(req);
	OPENSSL_free(der);
	kc_buf_free(&reply);
	return r;
}

int
kc_tsa_check(const void *tsr, size_t tsrlen, const void *data, size_t len,
    const char *tsa_ca, char *gentime, size_t n)
{
	const unsigned char *p = tsr;
	unsigned char *imprint = NULL;
	TS_RESP *resp = NULL;
	TS_VERIFY_CTX *ctx = NULL;
	int r;

	if (tsrlen > KC_TSR_MAX)
		return kc_err_set(KC_ERR_VERIFY, "time-stamp reply larger than %u bytes", KC_TSR_MAX);
	if ((resp = d2i_TS_RESP(NULL, &p, (long)tsrlen)) == NULL || p != (const unsigned char *)tsr + tsrlen) {
		r = kc_err_ossl(KC_ERR_VERIFY, "SHA256SUMS.sig.tsr is not a DER TimeStampResp");
		goto out;
	}
	if ((imprint = OPENSSL_malloc(32)) == NULL || (ctx = TS_VERIFY_CTX_new()) == NULL) {
		OPENSSL_free(imprint);
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = sha256(data, len, imprint)) != 0) {
		OPENSSL_free(imprint);
		goto out;
	}
	TS_VERIFY_CTX_set_imprint(ctx, imprint, 32);	/* ctx owns it now */
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_IMPRINT);
	if (tsa_ca != NULL && (r = load_store(ctx, tsa_ca)) != 0)
		goto out;
	if ((r = check_token(resp, gentime, n)) != 0)
		goto out;
	if (TS_RESP_verify_response(ctx, resp) != 1)
		r = kc_err_ossl(KC_ERR_VERIFY, "time-stamp token does not verify");
out:
	ERR_clear_error();
	TS_VERIFY_CTX_free(ctx);
	TS_RESP_free(resp);
	return r;
}
