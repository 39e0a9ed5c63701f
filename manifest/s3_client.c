/* s3_client.c - the S3 client under the archive's S3 backend
 * (archive_s3.c): one request signed by libcurl (CURLOPT_AWS_SIGV4) with
 * x-amz-content-sha256 always and Content-MD5 on uploads, answers read
 * into bounded buffers or a file, errors mapped to clear messages, small
 * and multipart uploads with Object Lock, listing, lock read-back, and the
 * connection settings (endpoint, region, credentials from flags, the
 * environment or a profile file).  Credentials live only in struct kc_s3,
 * are wiped by kc_s3_close and never enter a message.
 *
 * S3 answers in XML.  We read only a few leaf elements (<Key>, <UploadId>,
 * <Code>, ...) whose text is in a known alphabet; archive_s3_xml_next()
 * finds them and decodes the five predefined entities.  It is not a
 * general XML parser.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "manifest/s3_client.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/timeutil.h"

#define DEFAULT_THRESHOLD (64ULL << 20)
#define DEFAULT_PART (16ULL << 20)
#define MAX_PARTS 10000

/* ---- small helpers ---------------------------------------------------- */

static void
free_secret(char **p)
{
	kc_free_secret(*p);
	*p = NULL;
}

/* Percent-encode s for a query value (RFC 3986 unreserved kept). */
int
kc_s3_qenc(struct kc_buf *b, const char *s)
{
	static const char hx[] = "0123456789ABCDEF";
	int r = 0;

	for (; *s && r == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			r = kc_buf_addc(b, (char)c);
		else
			r = kc_buf_addf(b, "%%%c%c", hx[c >> 4], hx[c & 15]);
	}
	return r;
}

/* Keys and prefixes we write use only these (no encoding in the path). */
int
kc_s3_key_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '.' || *s == '_' || *s == '/'))
			return 0;
	return 1;
}

/* Text of the next <tag>...</tag> at or after *pos in xml; entities
 * decoded into out.  1 found, 0 not.  (archive_int.h: tests/fuzz calls it.) */
int
archive_s3_xml_next(const char *xml, const char **pos, const char *tag, char *out, size_t n)
{
	char open[64], close[64];
	const char *p, *e;
	size_t k = 0;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if ((p = strstr(*pos ? *pos : xml, open)) == NULL)
		return 0;
	p += strlen(open);
	if ((e = strstr(p, close)) == NULL)
		return 0;
	*pos = e + strlen(close);
	while (p < e && k + 1 < n) {
		static const struct { const char *ent; char c; } ents[] = {
			{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
		};
		size_t i;

		for (i = 0; i < 5; i++) {
			size_t l = strlen(ents[i].ent);

			if ((size_t)(e - p) >= l && strncmp(p, ents[i].ent, l) == 0) {
				out[k++] = ents[i].c;
				p += l;
				break;
			}
		}
		if (i == 5)
			out[k++] = *p++;
	}
	out[k] = '\0';
	return 1;
}

int
kc_s3_xml_first(const char *xml, const char *tag, char *out, size_t n)
{
	const char *pos = NULL;

	return archive_s3_xml_next(xml, &pos, tag, out, n);
}

int
archive_s3_list_page(const char *xml, cJSON *keys, char *token, size_t tn)
{
	char key[2048], trunc[16];
	const char *pos = NULL;

	while (archive_s3_xml_next(xml, &pos, "Key", key, sizeof(key)))
		cJSON_AddItemToArray(keys, cJSON_CreateString(key));
	return kc_s3_xml_first(xml, "IsTruncated", trunc, sizeof(trunc)) && strcmp(trunc, "true") == 0 &&
	    kc_s3_xml_first(xml, "NextContinuationToken", token, tn);
}

/* ---- HTTP ------------------------------------------------------------- */

static size_t
on_write(char *p, size_t sz, size_t nm, void *u)
{
	struct kc_s3_req *q = u;
	size_t n = sz * nm;

	if (q->out_fd >= 0 && q->status / 100 == 2) {
		size_t off = 0;

		while (off < n) {
			ssize_t w = write(q->out_fd, p + off, n - off);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				q->write_err = errno;
				return 0;
			}
			off += (size_t)w;
		}
		if (q->out_hash != NULL)
			kc_sha256_update(q->out_hash, p, n);
		q->out_bytes += n;
		return n;
	}
	if (q->resp != NULL && kc_buf_add(q->resp, p, n) != 0) {
		q->write_err = EFBIG;
		return 0;
	}
	return n;
}

static void
hdr_copy(const char *line, size_t n, const char *name, char *out, size_t outn)
{
	size_t l = strlen(name);

	if (n > l + 1 && strncasecmp(line, name, l) == 0 && line[l] == ':') {
		const char *v = line + l + 1;
		size_t vl = n - l - 1;

		while (vl > 0 && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		if (vl >= outn)
			vl = outn - 1;
		memcpy(out, v, vl);
		out[vl] = '\0';
	}
}

static size_t
on_header(char *p, size_t sz, size_t nm, void *u)
{
	struct kc_s3_req *q = u;
	size_t n = sz * nm;

	if (n > 5 && strncmp(p, "HTTP/", 5) == 0) {
		const char *sp = memchr(p, ' ', n);

		q->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		q->version[0] = q->etag[0] = q->date[0] = '\0';
		q->lock_mode[0] = q->retain_until[0] = q->hold[0] = '\0';
	}
	hdr_copy(p, n, "x-amz-version-id", q->version, sizeof(q->version));
	hdr_copy(p, n, "ETag", q->etag, sizeof(q->etag));
	hdr_copy(p, n, "Date", q->date, sizeof(q->date));
	hdr_copy(p, n, "x-amz-object-lock-mode", q->lock_mode, sizeof(q->lock_mode));
	hdr_copy(p, n, "x-amz-object-lock-retain-until-date", q->retain_until, sizeof(q->retain_until));
	hdr_copy(p, n, "x-amz-object-lock-legal-hold", q->hold, sizeof(q->hold));
	return n;
}

static size_t
on_read(char *p, size_t sz, size_t nm, void *u)
{
	struct kc_s3_req *q = u;
	size_t want = sz * nm;
	uint64_t total = q->body ? q->body_len : q->body_size, left = total - q->sent;
	ssize_t got;

	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (q->body != NULL) {
		memcpy(p, (const char *)q->body + q->sent, want);
		q->sent += want;
		return want;
	}
	do
		got = pread(q->body_fd, p, want, (off_t)(q->body_off + q->sent));
	while (got < 0 && errno == EINTR);
	if (got <= 0) {
		q->write_err = got < 0 ? errno : EIO;
		return CURL_READFUNC_ABORT;
	}
	q->sent += (uint64_t)got;
	return (size_t)got;
}

/* SHA-256 hex and MD5 base64 of the request body. */
static int
body_digests(struct kc_s3_req *q, char sha[KC_SHA256_HEX], char md5b64[32])
{
	static _Thread_local unsigned char chunk[1 << 16];
	struct kc_sha256 *h = kc_sha256_new();
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned char md[16];
	unsigned int mdlen = 0;
	uint64_t off = 0, total = q->body ? q->body_len : q->body_size;
	int r = 0;

	if (h == NULL || m == NULL || EVP_DigestInit_ex(m, EVP_md5(), NULL) != 1) {
		r = kc_err_set(KC_ERR_CRYPTO, "cannot start digests");
		goto out;
	}
	while (off < total) {
		size_t n = total - off > sizeof(chunk) ? sizeof(chunk) : (size_t)(total - off);
		const void *p = chunk;

		if (q->body != NULL) {
			p = (const char *)q->body + off;
		} else {
			ssize_t got = pread(q->body_fd, chunk, n, (off_t)(q->body_off + off));

			if (got <= 0) {
				r = kc_err_set(KC_ERR_IO, "cannot read the upload: %s",
				    got < 0 ? strerror(errno) : "file shrank");
				goto out;
			}
			n = (size_t)got;
		}
		if ((r = kc_sha256_update(h, p, n)) != 0 || EVP_DigestUpdate(m, p, n) != 1) {
			r = kc_err_set(KC_ERR_CRYPTO, "digest failed");
			goto out;
		}
		off += n;
	}
	if ((r = kc_sha256_final(h, NULL, sha)) != 0 || EVP_DigestFinal_ex(m, md, &mdlen) != 1) {
		r = kc_err_set(KC_ERR_CRYPTO, "digest failed");
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)md5b64, md, (int)mdlen);
out:
	kc_sha256_free(h);
	EVP_MD_CTX_free(m);
	return r;
}

/* Map an S3 error answer to a library error with a clear message.
 * Never names credentials. */
int
kc_s3_fail(struct kc_s3 *s, struct kc_s3_req *q, const char *what)
{
	char code[128] = "", msg[256] = "";
	const char *body = q->resp ? kc_buf_str(q->resp) : "";

	kc_s3_xml_first(body, "Code", code, sizeof(code));
	kc_s3_xml_first(body, "Message", msg, sizeof(msg));
	if (strcmp(code, "SignatureDoesNotMatch") == 0)
		return kc_err_set(KC_ERR_AUTH, "%s: the S3 store at %s refused the request signature "
		    "(SignatureDoesNotMatch): the secret key is wrong for this access key", what,
		    s->endpoint);
	if (strcmp(code, "InvalidAccessKeyId") == 0)
		return kc_err_set(KC_ERR_AUTH, "%s: the S3 store at %s does not know the access key "
		    "(InvalidAccessKeyId)", what, s->endpoint);
	if (strcmp(code, "NoSuchBucket") == 0)
		return kc_err_set(KC_ERR_CONFIG, "%s: no bucket '%s' at %s", what, s->bucket, s->endpoint);
	return kc_err_set(q->status == 404 ? KC_ERR_NOTFOUND : q->status == 403 ? KC_ERR_FORBIDDEN :
	    KC_ERR_HTTP, "%s: HTTP %ld%s%s%s%s", what, q->status, code[0] ? " " : "", code,
	    msg[0] ? ": " : "", msg);
}

/* Perform one request.  Returns 0 when the transfer completed (any HTTP
 * status: the caller looks at q->status), else KC_ERR_NET/KC_ERR_IO. */
/* The headers of q: x-amz-content-sha256 (and Content-MD5) of its body,
 * the session token, q's own.  *out is the caller's to free. */
static int
request_headers(struct kc_s3 *s, struct kc_s3_req *q, struct curl_slist **out)
{
	struct kc_buf h = KC_BUF_INIT(256);
	struct curl_slist *hdrs = NULL, *x;
	char sha[KC_SHA256_HEX], md5[32];
	int has_body = q->body != NULL || q->body_fd >= 0;
	int r = 0;

	if (has_body) {
		if ((r = body_digests(q, sha, md5)) != 0)
			goto fail;
	} else {
		kc_sha256_hex("", 0, sha);
	}
	kc_buf_addf(&h, "x-amz-content-sha256: %s", sha);
	if ((hdrs = curl_slist_append(hdrs, kc_buf_str(&h))) == NULL)
		goto nomem;
	if (has_body && q->md5) {
		kc_buf_reset(&h);
		kc_buf_addf(&h, "Content-MD5: %s", md5);
		if ((x = curl_slist_append(hdrs, kc_buf_str(&h))) == NULL)
			goto nomem;
		hdrs = x;
	}
	if (s->token != NULL) {
		kc_buf_reset(&h);
		kc_buf_addf(&h, "x-amz-security-token: %s", s->token);
		x = curl_slist_append(hdrs, kc_buf_str(&h));
		kc_buf_free_secret(&h);
		if (x == NULL)
			goto nomem;
		hdrs = x;
	}
	for (struct curl_slist *e = q->hdrs; e != NULL; e = e->next) {
		if ((x = curl_slist_append(hdrs, e->data)) == NULL)
			goto nomem;
		hdrs = x;
	}
	*out = hdrs;
	kc_buf_free(&h);
	return 0;
nomem:
	r = kc_err_set(KC_ERR_NOMEM, "out of memory");
fail:
	curl_slist_free_all(hdrs);
	kc_buf_free(&h);
	return r;
}

/* Every libcurl option of one request (the handle is reset first). */
static void
request_options(struct kc_s3 *s, struct kc_s3_req *q, const char *url, struct curl_slist *hdrs,
    char *err)
{
	curl_easy_reset(s->curl);
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	curl_easy_setopt(s->curl, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(s->curl, CURLOPT_USERNAME, s->access);
	curl_easy_setopt(s->curl, CURLOPT_PASSWORD, s->secret);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, q);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (s->ca_file != NULL)
		curl_easy_setopt(s->curl, CURLOPT_CAINFO, s->ca_file);
	if (s->send_bps > 0)
		curl_easy_setopt(s->curl, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)s->send_bps);
	if (strcmp(q->method, "HEAD") == 0) {
		curl_easy_setopt(s->curl, CURLOPT_NOBODY, 1L);
	} else if (strcmp(q->method, "PUT") == 0) {
		curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(s->curl, CURLOPT_READDATA, q);
		curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)(q->body ? q->body_len : q->body_fd >= 0 ? q->body_size : 0));
	} else if (strcmp(q->method, "POST") == 0) {
		curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, q->body ? q->body : "");
		curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
	} else if (strcmp(q->method, "GET") != 0) {
		curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, q->method);
	}
}

int
kc_s3_do(struct kc_s3 *s, struct kc_s3_req *q)
{
	struct kc_buf url = KC_BUF_INIT(8192);
	struct curl_slist *hdrs = NULL;
	char err[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	int r = 0;

	q->status = 0;
	q->sent = 0;
	q->write_err = 0;
	q->out_bytes = 0;
	if (kc_buf_addf(&url, "%s/%s", s->endpoint, s->bucket) != 0 ||
	    (q->key != NULL && kc_buf_addf(&url, "/%s", q->key) != 0) ||
	    (q->query != NULL && q->query[0] != '\0' && kc_buf_addf(&url, "?%s", q->query) != 0)) {
		r = kc_err_set(KC_ERR_LIMIT, "S3 URL too long");
		goto out;
	}
	if ((r = request_headers(s, q, &hdrs)) != 0)
		goto out;
	request_options(s, q, kc_buf_str(&url), hdrs, err);
	if (q->resp != NULL)
		kc_buf_reset(q->resp);
	cc = curl_easy_perform(s->curl);
	if (q->write_err != 0) {
		r = kc_err_set(KC_ERR_IO, "S3 %s %s: %s", q->method, q->key ? q->key : s->bucket,
		    q->write_err == EFBIG ? "answer too large" : strerror(q->write_err));
	} else if (cc != CURLE_OK) {
		r = kc_err_set(KC_ERR_NET, "S3 %s %s at %s: %s", q->method, q->key ? q->key : s->bucket,
		    s->endpoint, err[0] ? err : curl_easy_strerror(cc));
	}
	kc_debug("s3: %s %s%s%s -> %ld", q->method, q->key ? q->key : "(bucket)",
	    q->query && q->query[0] ? "?" : "", q->query ? q->query : "", q->status);
out:
	/* the signed request lived in curl's handle: drop the password copy */
	curl_easy_setopt(s->curl, CURLOPT_PASSWORD, "");
	curl_slist_free_all(hdrs);
	kc_buf_free(&url);
	return r;
}

void
kc_s3_req_init(struct kc_s3_req *q, const char *method, const char *key, const char *query,
    struct kc_buf *resp)
{
	memset(q, 0, sizeof(*q));
	q->method = method;
	q->key = key;
	q->query = query;
	q->resp = resp;
	q->body_fd = -1;
	q->out_fd = -1;
}

/* Request expecting 2xx; anything else becomes an error named by what. */
int
kc_s3_ok(struct kc_s3 *s, struct kc_s3_req *q, const char *what)
{
	int r;

	if ((r = kc_s3_do(s, q)) != 0)
		return r;
	if (q->status / 100 != 2)
		return kc_s3_fail(s, q, what);
	return 0;
}

/* Object Lock headers for an upload. */
static struct curl_slist *
lock_headers(struct kc_s3 *s, time_t until, int hold)
{
	struct curl_slist *h = NULL, *x;
	char line[128], t[32];

	if (until > 0) {
		snprintf(line, sizeof(line), "x-amz-object-lock-mode: %s", s->mode);
		if ((h = curl_slist_append(h, line)) == NULL)
			return NULL;
		snprintf(line, sizeof(line), "x-amz-object-lock-retain-until-date: %s",
		    kc_fmt_rfc3339(until, t, sizeof(t)));
		if ((x = curl_slist_append(h, line)) == NULL)
			goto fail;
		h = x;
	}
	if (hold) {
		if ((x = curl_slist_append(h, "x-amz-object-lock-legal-hold: ON")) == NULL)
			goto fail;
		h = x;
	}
	if ((x = curl_slist_append(h, "Content-Type: application/octet-stream")) == NULL)
		goto fail;
	return x;
fail:
	curl_slist_free_all(h);
	return NULL;
}

/* PUT a small object from memory with a lock; version (optional, 256). */
int
kc_s3_put_small(struct kc_s3 *s, const char *key, const void *data, size_t len, time_t until, int hold,
    char *version)
{
	struct kc_buf resp = KC_BUF_INIT(KC_S3_RESP_MAX);
	struct kc_s3_req q;
	int r;

	kc_s3_req_init(&q, "PUT", key, NULL, &resp);
	q.body = data ? data : "";
	q.body_len = len;
	q.md5 = 1;
	if ((q.hdrs = lock_headers(s, until, hold)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r = kc_s3_ok(s, &q, key);
	if (r == 0 && version != NULL)
		snprintf(version, 256, "%s", q.version);
	curl_slist_free_all(q.hdrs);
	kc_buf_free(&resp);
	return r;
}

int
kc_s3_get_small(struct kc_s3 *s, const char *key, const char *version, struct kc_buf *out)
{
	struct kc_buf query = KC_BUF_INIT(1024);
	struct kc_s3_req q;
	int r;

	if (version != NULL && version[0] != '\0') {
		kc_buf_adds(&query, "versionId=");
		kc_s3_qenc(&query, version);
	}
	kc_s3_req_init(&q, "GET", key, kc_buf_str(&query), out);
	r = kc_s3_ok(s, &q, key);
	kc_buf_free(&query);
	return r;
}

/* Abort a multipart upload that failed with r, keeping r's message. */
static void
multipart_abort(struct kc_s3 *s, const char *key, const char *upload, int r)
{
	char *why = kc_strdup(kc_err_msg());
	struct kc_buf ab = KC_BUF_INIT(KC_S3_RESP_MAX), query = KC_BUF_INIT(2048);
	struct kc_s3_req q;

	kc_buf_adds(&query, "uploadId=");
	kc_s3_qenc(&query, upload);
	kc_s3_req_init(&q, "DELETE", key, kc_buf_str(&query), &ab);
	if (kc_s3_do(s, &q) != 0 || q.status / 100 != 2)
		kc_warn("could not abort the multipart upload of %s (HTTP %ld); "
		    "it is not listed, and the bucket's lifecycle rules remove it", key, q.status);
	kc_err_set(r, "%s", why ? why : "multipart upload failed");
	free(why);
	kc_buf_free(&ab);
	kc_buf_free(&query);
}

/* Multipart upload of fd (size bytes) with lock headers on the initiate
 * request and Content-MD5 on every part; aborted on any failure. */
static int
put_multipart(struct kc_s3 *s, const char *key, int fd, uint64_t size, time_t until, int hold,
    char *version)
{
	struct kc_buf resp = KC_BUF_INIT(KC_S3_RESP_MAX), query = KC_BUF_INIT(2048);
	struct kc_buf done = KC_BUF_INIT(MAX_PARTS * 128ULL);
	char upload[1024] = "", etag[256];
	uint64_t off = 0;
	struct kc_s3_req q;
	int r, part = 0;

	kc_s3_req_init(&q, "POST", key, "uploads=", &resp);
	if ((q.hdrs = lock_headers(s, until, hold)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r = kc_s3_ok(s, &q, key);
	curl_slist_free_all(q.hdrs);
	if (r != 0)
		goto out;
	if (!kc_s3_xml_first(kc_buf_str(&resp), "UploadId", upload, sizeof(upload)) || upload[0] == '\0') {
		r = kc_err_set(KC_ERR_PARSE, "%s: no UploadId in the answer", key);
		goto out;
	}
	kc_buf_adds(&done, "<CompleteMultipartUpload>");
	while (off < size) {
		uint64_t n = size - off > s->part_size ? s->part_size : size - off;

		if (++part > MAX_PARTS) {
			r = kc_err_set(KC_ERR_LIMIT, "%s: more than %d parts; raise --part-size", key,
			    MAX_PARTS);
			goto abort;
		}
		kc_buf_reset(&query);
		kc_buf_addf(&query, "partNumber=%d&uploadId=", part);
		kc_s3_qenc(&query, upload);
		kc_s3_req_init(&q, "PUT", key, kc_buf_str(&query), &resp);
		q.body_fd = fd;
		q.body_off = off;
		q.body_size = n;
		q.md5 = 1;
		if ((r = kc_s3_ok(s, &q, key)) != 0)
			goto abort;
		snprintf(etag, sizeof(etag), "%s", q.etag);
		if (kc_buf_addf(&done, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", part,
		    etag) != 0) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto abort;
		}
		off += n;
	}
	kc_buf_adds(&done, "</CompleteMultipartUpload>");
	kc_buf_reset(&query);
	kc_buf_adds(&query, "uploadId=");
	kc_s3_qenc(&query, upload);
	kc_s3_req_init(&q, "POST", key, kc_buf_str(&query), &resp);
	q.body = done.data;
	q.body_len = done.len;
	if ((r = kc_s3_ok(s, &q, key)) != 0)
		goto abort;
	/* A 200 can still carry an error (S3 says so for CompleteMultipartUpload). */
	if (strstr(kc_buf_str(&resp), "<Error>") != NULL) {
		r = kc_s3_fail(s, &q, key);
		goto abort;
	}
	if (version != NULL)
		snprintf(version, 256, "%s", q.version);
	goto out;
abort:
	multipart_abort(s, key, upload, r);
out:
	kc_buf_free(&resp);
	kc_buf_free(&query);
	kc_buf_free(&done);
	return r;
}

/* Set retention (and legal hold) on an object version after the fact:
 * Ceph RGW (16.x) ignores lock headers on CreateMultipartUpload, so a
 * multipart upload is locked this way; on AWS it repeats the same lock. */
static int
lock_version(struct kc_s3 *s, const char *key, const char *version, time_t until, int hold)
{
	struct kc_buf resp = KC_BUF_INIT(KC_S3_RESP_MAX), query = KC_BUF_INIT(1024), body = KC_BUF_INIT(1024);
	char t[32];
	struct kc_s3_req q;
	int r = 0;

	kc_buf_adds(&query, "retention=&versionId=");
	kc_s3_qenc(&query, version);
	kc_buf_addf(&body, "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>%s</Mode>"
	    "<RetainUntilDate>%s</RetainUntilDate></Retention>", s->mode,
	    kc_fmt_rfc3339(until, t, sizeof(t)));
	kc_s3_req_init(&q, "PUT", key, kc_buf_str(&query), &resp);
	q.body = body.data;
	q.body_len = body.len;
	q.md5 = 1;
	if ((r = kc_s3_ok(s, &q, "set retention")) != 0 || !hold)
		goto out;
	kc_buf_reset(&query);
	kc_buf_adds(&query, "legal-hold=&versionId=");
	kc_s3_qenc(&query, version);
	kc_buf_reset(&body);
	kc_buf_adds(&body, "<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Status>ON</Status></LegalHold>");
	kc_s3_req_init(&q, "PUT", key, kc_buf_str(&query), &resp);
	q.body = body.data;
	q.body_len = body.len;
	q.md5 = 1;
	r = kc_s3_ok(s, &q, "set legal hold");
out:
	kc_buf_free(&resp);
	kc_buf_free(&query);
	kc_buf_free(&body);
	return r;
}

int
kc_s3_put_file(struct kc_s3 *s, const char *key, const char *path, uint64_t size, time_t until, int hold,
    char *version)
{
	struct kc_buf resp = KC_BUF_INIT(KC_S3_RESP_MAX);
	struct kc_s3_req q;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
	if (size >= s->threshold) {
		if ((r = put_multipart(s, key, fd, size, until, hold, version)) == 0)
			r = lock_version(s, key, version, until, hold);
		goto out;
	}
	kc_s3_req_init(&q, "PUT", key, NULL, &resp);
	q.body_fd = fd;
	q.body_size = size;
	q.md5 = 1;
	if ((q.hdrs = lock_headers(s, until, hold)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = kc_s3_ok(s, &q, key);
	if (r == 0 && version != NULL)
		snprintf(version, 256, "%s", q.version);
	curl_slist_free_all(q.hdrs);
out:
	close(fd);
	kc_buf_free(&resp);
	return r;
}

/* Every key under prefix (ListObjectsV2, all pages) into a JSON array. */
int
kc_s3_list_keys(struct kc_s3 *s, const char *prefix, cJSON **keys)
{
	struct kc_buf resp = KC_BUF_INIT(KC_S3_RESP_MAX), query = KC_BUF_INIT(4096);
	char token[2048] = "";
	struct kc_s3_req q;
	int r = 0;

	if ((*keys = cJSON_CreateArray()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (int page = 0; page < 100000; page++) {
		kc_buf_reset(&query);
		if (token[0] != '\0') {
			kc_buf_adds(&query, "continuation-token=");
			kc_s3_qenc(&query, token);
			kc_buf_addc(&query, '&');
		}
		kc_buf_adds(&query, "list-type=2&prefix=");
		kc_s3_qenc(&query, prefix);
		kc_s3_req_init(&q, "GET", NULL, kc_buf_str(&query), &resp);
		if ((r = kc_s3_ok(s, &q, "list objects")) != 0)
			break;
		if (!archive_s3_list_page(kc_buf_str(&resp), *keys, token, sizeof(token)))
			break;
	}
	kc_buf_free(&resp);
	kc_buf_free(&query);
	if (r != 0) {
		cJSON_Delete(*keys);
		*keys = NULL;
	}
	return r;
}

/* ---- open / close ----------------------------------------------------- */

static char *
env_dup(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? kc_strdup(v) : NULL;
}

/* aws_access_key_id / aws_secret_access_key / aws_session_token of
 * [profile] in an INI credentials file. */
static int
read_profile(struct kc_s3 *s, const char *file, const char *profile)
{
	struct kc_buf b = KC_BUF_INIT(1u << 20);
	char *line, *save = NULL, want[256];
	int in = 0, r;

	if ((r = kc_read_file(file, 1u << 20, &b)) != 0)
		goto out;
	snprintf(want, sizeof(want), "[%s]", profile);
	for (line = strtok_r(b.data, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *eq, *k, *v, *e;

		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '[') {
			in = strcmp(line, want) == 0;
			continue;
		}
		if (!in || (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		k = line;
		v = eq + 1;
		for (e = eq - 1; e >= k && (*e == ' ' || *e == '\t'); e--)
			*e = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		if (strcmp(k, "aws_access_key_id") == 0 && s->access == NULL)
			s->access = kc_strdup(v);
		else if (strcmp(k, "aws_secret_access_key") == 0 && s->secret == NULL)
			s->secret = kc_strdup(v);
		else if (strcmp(k, "aws_session_token") == 0 && s->token == NULL)
			s->token = kc_strdup(v);
	}
out:
	kc_buf_free_secret(&b);
	return r;
}

/* 1 when host (as libcurl's URL API gives it) is "localhost" exactly, an
 * IPv4 literal in 127.0.0.0/8, or the IPv6 literal [::1] (or
 * [::ffff:127.x.y.z]); 0 for anything else, names that merely start
 * like one included. */
static int
host_is_loopback(const char *h)
{
	struct in_addr a4;
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN + 1];
	size_t n = strlen(h);

	if (strcasecmp(h, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n < 3 || h[0] != '[' || h[n - 1] != ']' || n - 2 >= sizeof(buf))
		return 0;
	memcpy(buf, h + 1, n - 2);
	buf[n - 2] = '\0';
	if (inet_pton(AF_INET6, buf, &a6) != 1)
		return 0;
	return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

int
archive_url_loopback(const char *url, int *https)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, safe[256];
	int r;

	*https = 0;
	if ((u = curl_url()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
		r = kc_err_set(KC_ERR_INVALID, "S3 endpoint '%s' is not an http(s) URL",
		    kc_safe_str(url, safe, sizeof(safe)));
		goto out;
	}
	*https = strcmp(scheme, "https") == 0;
	r = host_is_loopback(host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

/* Read back ?retention= and ?legal-hold= of the bundle version. */
int
kc_s3_read_lock(struct kc_s3 *s, const char *key, const char *version, char *mode, size_t mn,
    time_t *until, char *hold, size_t hn)
{
	struct kc_buf resp = KC_BUF_INIT(KC_S3_RESP_MAX), query = KC_BUF_INIT(1024);
	char date[64] = "";
	struct kc_s3_req q;
	long ns;
	int r;

	*until = 0;
	mode[0] = hold[0] = '\0';
	kc_buf_adds(&query, "retention=&versionId=");
	kc_s3_qenc(&query, version ? version : "");
	kc_s3_req_init(&q, "GET", key, kc_buf_str(&query), &resp);
	if ((r = kc_s3_ok(s, &q, "read retention")) != 0)
		goto out;
	kc_s3_xml_first(kc_buf_str(&resp), "Mode", mode, mn);
	if (kc_s3_xml_first(kc_buf_str(&resp), "RetainUntilDate", date, sizeof(date)))
		kc_parse_rfc3339(date, until, &ns);
	kc_buf_reset(&query);
	kc_buf_adds(&query, "legal-hold=&versionId=");
	kc_s3_qenc(&query, version ? version : "");
	kc_s3_req_init(&q, "GET", key, kc_buf_str(&query), &resp);
	if ((r = kc_s3_do(s, &q)) != 0)
		goto out;
	if (q.status / 100 == 2)
		kc_s3_xml_first(kc_buf_str(&resp), "Status", hold, hn);
	else if (q.status == 404 || q.status == 400)
		snprintf(hold, hn, "OFF");	/* never set */
	else
		r = kc_s3_fail(s, &q, "read legal hold");
out:
	kc_buf_free(&resp);
	kc_buf_free(&query);
	return r;
}

time_t
kc_s3_server_time(struct kc_s3 *s)
{
	struct kc_s3_req hq;
	time_t t = time(NULL);

	kc_s3_req_init(&hq, "HEAD", NULL, NULL, NULL);
	if (kc_s3_do(s, &hq) == 0 && hq.date[0] != '\0')
		kc_parse_http_date(hq.date, &t);
	return t;
}

int
kc_s3_open(struct kc_s3 *s, const struct kc_archive_opts *o)
{
	char *home = NULL, safe[256];
	size_t n;
	int r, https = 0, plain_remote;

	s->region = o->region ? kc_strdup(o->region) : env_dup("AWS_REGION");
	if (s->region == NULL)
		s->region = env_dup("AWS_DEFAULT_REGION");
	if (s->region == NULL)
		s->region = kc_strdup("us-east-1");
	s->endpoint = o->endpoint ? kc_strdup(o->endpoint) : env_dup("AWS_ENDPOINT_URL_S3");
	if (s->endpoint == NULL)
		s->endpoint = env_dup("AWS_ENDPOINT_URL");
	if (s->endpoint == NULL && s->region != NULL &&
	    asprintf(&s->endpoint, "https://s3.%s.amazonaws.com", s->region) < 0)
		s->endpoint = NULL;
	if (s->region == NULL || s->endpoint == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	while ((n = strlen(s->endpoint)) > 0 && s->endpoint[n - 1] == '/')
		s->endpoint[n - 1] = '\0';
	/* Decided on the parsed URL, not a prefix: "http://127.evil.example"
	 * and "http://127.0.0.1@evil.example" are not loopback. */
	if ((r = archive_url_loopback(s->endpoint, &https)) < 0)
		return r;
	plain_remote = !https && r == 0;
	if (plain_remote)
		kc_warn("S3 endpoint %s is plain HTTP: evidence and signatures travel unencrypted",
		    kc_safe_str(s->endpoint, safe, sizeof(safe)));
	/* credentials: flags, then the environment, then the profile file */
	s->access = o->access_key ? kc_strdup(o->access_key) : NULL;
	s->secret = o->secret_key ? kc_strdup(o->secret_key) : NULL;
	if (s->access == NULL && s->secret == NULL) {
		s->access = env_dup("AWS_ACCESS_KEY_ID");
		s->secret = env_dup("AWS_SECRET_ACCESS_KEY");
		s->token = env_dup("AWS_SESSION_TOKEN");
	}
	if (s->access == NULL || s->secret == NULL) {
		const char *prof = o->profile ? o->profile : getenv("AWS_PROFILE");
		const char *file = o->credentials_file ? o->credentials_file :
		    getenv("AWS_SHARED_CREDENTIALS_FILE");

		if (file == NULL && getenv("HOME") != NULL &&
		    asprintf(&home, "%s/.aws/credentials", getenv("HOME")) >= 0)
			file = home;
		if (file != NULL && access(file, R_OK) == 0 &&
		    (r = read_profile(s, file, prof ? prof : "default")) != 0) {
			free(home);
			return r;
		}
		free(home);
	}
	/* The signature keeps the secret key off the wire; a session token
	 * travels as it is (x-amz-security-token). */
	if (plain_remote && s->token != NULL)
		return kc_err_set(KC_ERR_CONFIG, "refusing to send an AWS session token over plain "
		    "HTTP to %s: use https (plain HTTP is accepted with a session token only for a "
		    "loopback host)", kc_safe_str(s->endpoint, safe, sizeof(safe)));
	if (s->access == NULL || s->secret == NULL)
		return kc_err_set(KC_ERR_CONFIG, "no S3 credentials: give --access-key and "
		    "--secret-key-file, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use a "
		    "profile (--profile, --credentials-file)");
	s->ca_file = o->ca_file ? kc_strdup(o->ca_file) : NULL;
	if (o->lock_mode == NULL || strcasecmp(o->lock_mode, "COMPLIANCE") == 0)
		snprintf(s->mode, sizeof(s->mode), "COMPLIANCE");
	else if (strcasecmp(o->lock_mode, "GOVERNANCE") == 0)
		snprintf(s->mode, sizeof(s->mode), "GOVERNANCE");
	else
		return kc_err_set(KC_ERR_INVALID, "--lock-mode '%s': COMPLIANCE or GOVERNANCE",
		    o->lock_mode);
	s->threshold = o->multipart_threshold ? o->multipart_threshold : DEFAULT_THRESHOLD;
	s->part_size = o->part_size ? o->part_size : DEFAULT_PART;
	if (getenv("KCUSTODY_TEST_S3_SEND_BPS") != NULL)
		s->send_bps = strtol(getenv("KCUSTODY_TEST_S3_SEND_BPS"), NULL, 10);
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", s->region);
	if ((s->curl = curl_easy_init()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "cannot start libcurl");
	return 0;
}

void
kc_s3_close(struct kc_s3 *s)
{
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	free(s->endpoint);
	free(s->region);
	free(s->bucket);
	free_secret(&s->access);
	free_secret(&s->secret);
	free_secret(&s->token);
	free(s->ca_file);
	OPENSSL_cleanse(s->sigv4, sizeof(s->sigv4));
}
