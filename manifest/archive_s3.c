/* archive_s3.c - the retention archive in S3-compatible object storage
 * with Object Lock (docs/CUSTODY.md, "S3 layout"):
 *
 *   PREFIX/<id>/bundle                     the bundle, locked
 *   PREFIX/<id>/custody.jsonl              the ledger as archived, locked
 *   PREFIX/<id>/custody/<seq>-<h16>.jsonl  each later entry, one object each
 *   PREFIX/<id>/meta.json                  written last: the item exists
 *
 * libcurl signs every request (CURLOPT_AWS_SIGV4); x-amz-content-sha256 is
 * always sent, Content-MD5 on every upload.  Credentials live only in this
 * file's struct, are wiped on close and never enter a message.
 *
 * S3 answers in XML.  We read only a few leaf elements (<Key>, <UploadId>,
 * <Code>, ...) whose text is in a known alphabet; archive_s3_xml_next() finds them and
 * decodes the five predefined entities.  It is not a general XML parser.
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

#include "manifest/archive_int.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/timeutil.h"

#define RESP_MAX (16u << 20)
#define META_FORMAT "kcustody.archive-item/v1"
#define DEFAULT_THRESHOLD (64ULL << 20)
#define DEFAULT_PART (16ULL << 20)
#define MAX_PARTS 10000

struct s3 {
	char *endpoint, *region, *bucket, *prefix;	/* prefix: "" or "p/q/" */
	char *access, *secret, *token;
	char *ca_file;
	char mode[16];
	uint64_t threshold, part_size;
	long send_bps;		/* test hook: KCUSTODY_TEST_S3_SEND_BPS */
	char sigv4[128];
	CURL *curl;
};

struct req {
	const char *method;	/* GET PUT POST DELETE HEAD */
	const char *key;	/* object key below the bucket (NULL: the bucket) */
	const char *query;	/* sorted, encoded; NULL or "" for none */
	const void *body;	/* memory body ... */
	size_t body_len;
	int body_fd;		/* ... or this file's range (when body == NULL, fd >= 0) */
	uint64_t body_off, body_size;
	int md5;		/* send Content-MD5 */
	struct curl_slist *hdrs;	/* extra headers (not freed here) */
	struct kc_buf *resp;	/* response body to memory (bounded) */
	int out_fd;		/* or to this file (when >= 0) */
	struct kc_sha256 *out_hash;	/* hash what goes to out_fd */
	uint64_t out_bytes;
	/* answers */
	long status;
	char version[256], etag[256], date[64];
	char lock_mode[32], retain_until[64], hold[16];
	/* internal */
	uint64_t sent;
	int write_err;
};

static struct s3 *
S(struct kc_archive *a)
{
	return a->priv;
}

/* ---- small helpers ---------------------------------------------------- */

static void
free_secret(char **p)
{
	kc_free_secret(*p);
	*p = NULL;
}

/* Percent-encode s for a query value (RFC 3986 unreserved kept). */
static int
qenc(struct kc_buf *b, const char *s)
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
static int
key_chars_ok(const char *s)
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

static int
xml_first(const char *xml, const char *tag, char *out, size_t n)
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
	return xml_first(xml, "IsTruncated", trunc, sizeof(trunc)) && strcmp(trunc, "true") == 0 &&
	    xml_first(xml, "NextContinuationToken", token, tn);
}

/* ---- HTTP ------------------------------------------------------------- */

static size_t
on_write(char *p, size_t sz, size_t nm, void *u)
{
	struct req *q = u;
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
	struct req *q = u;
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
	struct req *q = u;
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
body_digests(struct req *q, char sha[KC_SHA256_HEX], char md5b64[32])
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
static int
s3_fail(struct s3 *s, struct req *q, const char *what)
{
	char code[128] = "", msg[256] = "";
	const char *body = q->resp ? kc_buf_str(q->resp) : "";

	xml_first(body, "Code", code, sizeof(code));
	xml_first(body, "Message", msg, sizeof(msg));
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
static int
s3_do(struct s3 *s, struct req *q)
{
	struct kc_buf url = KC_BUF_INIT(8192), h = KC_BUF_INIT(256);
	struct curl_slist *hdrs = NULL, *x;
	char sha[KC_SHA256_HEX], md5[32], err[CURL_ERROR_SIZE] = "";
	int has_body = q->body != NULL || q->body_fd >= 0;
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
	if (has_body) {
		if ((r = body_digests(q, sha, md5)) != 0)
			goto out;
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
	curl_easy_reset(s->curl);
	curl_easy_setopt(s->curl, CURLOPT_URL, kc_buf_str(&url));
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
	goto out;
nomem:
	r = kc_err_set(KC_ERR_NOMEM, "out of memory");
out:
	/* the signed request lived in curl's handle: drop the password copy */
	curl_easy_setopt(s->curl, CURLOPT_PASSWORD, "");
	curl_slist_free_all(hdrs);
	kc_buf_free(&url);
	kc_buf_free(&h);
	return r;
}

static void
req_init(struct req *q, const char *method, const char *key, const char *query,
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
static int
s3_ok(struct s3 *s, struct req *q, const char *what)
{
	int r;

	if ((r = s3_do(s, q)) != 0)
		return r;
	if (q->status / 100 != 2)
		return s3_fail(s, q, what);
	return 0;
}

/* ---- keys and locks --------------------------------------------------- */

static char *
item_key(struct s3 *s, const char *id, const char *rest)
{
	char *k;

	if (asprintf(&k, "%s%s/%s", s->prefix, id, rest) < 0)
		return NULL;
	return k;
}

/* Object Lock headers for an upload. */
static struct curl_slist *
lock_headers(struct s3 *s, time_t until, int hold)
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
static int
put_small(struct s3 *s, const char *key, const void *data, size_t len, time_t until, int hold,
    char *version)
{
	struct kc_buf resp = KC_BUF_INIT(RESP_MAX);
	struct req q;
	int r;

	req_init(&q, "PUT", key, NULL, &resp);
	q.body = data ? data : "";
	q.body_len = len;
	q.md5 = 1;
	if ((q.hdrs = lock_headers(s, until, hold)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r = s3_ok(s, &q, key);
	if (r == 0 && version != NULL)
		snprintf(version, 256, "%s", q.version);
	curl_slist_free_all(q.hdrs);
	kc_buf_free(&resp);
	return r;
}

static int
get_small(struct s3 *s, const char *key, const char *version, struct kc_buf *out)
{
	struct kc_buf query = KC_BUF_INIT(1024);
	struct req q;
	int r;

	if (version != NULL && version[0] != '\0') {
		kc_buf_adds(&query, "versionId=");
		qenc(&query, version);
	}
	req_init(&q, "GET", key, kc_buf_str(&query), out);
	r = s3_ok(s, &q, key);
	kc_buf_free(&query);
	return r;
}

/* Multipart upload of fd (size bytes) with lock headers on the initiate
 * request and Content-MD5 on every part; aborted on any failure. */
static int
put_multipart(struct s3 *s, const char *key, int fd, uint64_t size, time_t until, int hold,
    char *version)
{
	struct kc_buf resp = KC_BUF_INIT(RESP_MAX), query = KC_BUF_INIT(2048);
	struct kc_buf done = KC_BUF_INIT(MAX_PARTS * 128ULL);
	char upload[1024] = "", etag[256];
	uint64_t off = 0;
	struct req q;
	int r, part = 0;

	req_init(&q, "POST", key, "uploads=", &resp);
	if ((q.hdrs = lock_headers(s, until, hold)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r = s3_ok(s, &q, key);
	curl_slist_free_all(q.hdrs);
	if (r != 0)
		goto out;
	if (!xml_first(kc_buf_str(&resp), "UploadId", upload, sizeof(upload)) || upload[0] == '\0') {
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
		qenc(&query, upload);
		req_init(&q, "PUT", key, kc_buf_str(&query), &resp);
		q.body_fd = fd;
		q.body_off = off;
		q.body_size = n;
		q.md5 = 1;
		if ((r = s3_ok(s, &q, key)) != 0)
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
	qenc(&query, upload);
	req_init(&q, "POST", key, kc_buf_str(&query), &resp);
	q.body = done.data;
	q.body_len = done.len;
	if ((r = s3_ok(s, &q, key)) != 0)
		goto abort;
	/* A 200 can still carry an error (S3 says so for CompleteMultipartUpload). */
	if (strstr(kc_buf_str(&resp), "<Error>") != NULL) {
		r = s3_fail(s, &q, key);
		goto abort;
	}
	if (version != NULL)
		snprintf(version, 256, "%s", q.version);
	goto out;
abort:
	{
		char *why = kc_strdup(kc_err_msg());
		struct kc_buf ab = KC_BUF_INIT(RESP_MAX);

		kc_buf_reset(&query);
		kc_buf_adds(&query, "uploadId=");
		qenc(&query, upload);
		req_init(&q, "DELETE", key, kc_buf_str(&query), &ab);
		if (s3_do(s, &q) != 0 || q.status / 100 != 2)
			kc_warn("could not abort the multipart upload of %s (HTTP %ld); "
			    "it is not listed, and the bucket's lifecycle rules remove it", key, q.status);
		kc_err_set(r, "%s", why ? why : "multipart upload failed");
		free(why);
		kc_buf_free(&ab);
	}
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
lock_version(struct s3 *s, const char *key, const char *version, time_t until, int hold)
{
	struct kc_buf resp = KC_BUF_INIT(RESP_MAX), query = KC_BUF_INIT(1024), body = KC_BUF_INIT(1024);
	char t[32];
	struct req q;
	int r = 0;

	kc_buf_adds(&query, "retention=&versionId=");
	qenc(&query, version);
	kc_buf_addf(&body, "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>%s</Mode>"
	    "<RetainUntilDate>%s</RetainUntilDate></Retention>", s->mode,
	    kc_fmt_rfc3339(until, t, sizeof(t)));
	req_init(&q, "PUT", key, kc_buf_str(&query), &resp);
	q.body = body.data;
	q.body_len = body.len;
	q.md5 = 1;
	if ((r = s3_ok(s, &q, "set retention")) != 0 || !hold)
		goto out;
	kc_buf_reset(&query);
	kc_buf_adds(&query, "legal-hold=&versionId=");
	qenc(&query, version);
	kc_buf_reset(&body);
	kc_buf_adds(&body, "<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Status>ON</Status></LegalHold>");
	req_init(&q, "PUT", key, kc_buf_str(&query), &resp);
	q.body = body.data;
	q.body_len = body.len;
	q.md5 = 1;
	r = s3_ok(s, &q, "set legal hold");
out:
	kc_buf_free(&resp);
	kc_buf_free(&query);
	kc_buf_free(&body);
	return r;
}

static int
put_file(struct s3 *s, const char *key, const char *path, uint64_t size, time_t until, int hold,
    char *version)
{
	struct kc_buf resp = KC_BUF_INIT(RESP_MAX);
	struct req q;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return kc_err_set(KC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
	if (size >= s->threshold) {
		if ((r = put_multipart(s, key, fd, size, until, hold, version)) == 0)
			r = lock_version(s, key, version, until, hold);
		goto out;
	}
	req_init(&q, "PUT", key, NULL, &resp);
	q.body_fd = fd;
	q.body_size = size;
	q.md5 = 1;
	if ((q.hdrs = lock_headers(s, until, hold)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = s3_ok(s, &q, key);
	if (r == 0 && version != NULL)
		snprintf(version, 256, "%s", q.version);
	curl_slist_free_all(q.hdrs);
out:
	close(fd);
	kc_buf_free(&resp);
	return r;
}

/* Every key under prefix (ListObjectsV2, all pages) into a JSON array. */
static int
list_keys(struct s3 *s, const char *prefix, cJSON **keys)
{
	struct kc_buf resp = KC_BUF_INIT(RESP_MAX), query = KC_BUF_INIT(4096);
	char token[2048] = "";
	struct req q;
	int r = 0;

	if ((*keys = cJSON_CreateArray()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (int page = 0; page < 100000; page++) {
		kc_buf_reset(&query);
		if (token[0] != '\0') {
			kc_buf_adds(&query, "continuation-token=");
			qenc(&query, token);
			kc_buf_addc(&query, '&');
		}
		kc_buf_adds(&query, "list-type=2&prefix=");
		qenc(&query, prefix);
		req_init(&q, "GET", NULL, kc_buf_str(&query), &resp);
		if ((r = s3_ok(s, &q, "list objects")) != 0)
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
read_profile(struct s3 *s, const char *file, const char *profile)
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

static void
s3_close(struct kc_archive *a)
{
	struct s3 *s = a->priv;

	if (s == NULL)
		return;
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	free(s->endpoint);
	free(s->region);
	free(s->bucket);
	free(s->prefix);
	free_secret(&s->access);
	free_secret(&s->secret);
	free_secret(&s->token);
	free(s->ca_file);
	OPENSSL_cleanse(s->sigv4, sizeof(s->sigv4));
	free(s);
	a->priv = NULL;
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

int
kc_archive_s3_open(struct kc_archive *a, const struct kc_archive_opts *o)
{
	struct kc_buf resp = KC_BUF_INIT(RESP_MAX);
	const char *rest = o->store + 5, *slash;
	char *p, state[32] = "", *home = NULL, safe[256];
	struct s3 *s;
	struct req q;
	size_t n;
	int r, https = 0, plain_remote;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	a->priv = s;
	slash = strchr(rest, '/');
	s->bucket = slash ? kc_strndup(rest, (size_t)(slash - rest)) : kc_strdup(rest);
	p = kc_strdup(slash ? slash + 1 : "");
	if (s->bucket == NULL || p == NULL) {
		free(p);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	while ((n = strlen(p)) > 0 && p[n - 1] == '/')
		p[n - 1] = '\0';
	if (s->bucket[0] == '\0' || !key_chars_ok(s->bucket) || strchr(s->bucket, '/') ||
	    !key_chars_ok(p) || strstr(p, "//") != NULL || p[0] == '/') {
		free(p);
		return kc_err_set(KC_ERR_INVALID, "store '%s': s3://BUCKET/PREFIX with letters, digits "
		    "and - . _ / only", o->store);
	}
	if (p[0] != '\0' && asprintf(&s->prefix, "%s/", p) < 0)
		s->prefix = NULL;
	else if (p[0] == '\0')
		s->prefix = kc_strdup("");
	free(p);
	if (asprintf(&a->location, "s3://%s/%s", s->bucket, s->prefix) < 0) {
		a->location = NULL;
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
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
	if (s->prefix == NULL || s->region == NULL || s->endpoint == NULL)
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
	/* The bucket must lock objects: ask it (this also checks credentials). */
	req_init(&q, "GET", NULL, "object-lock=", &resp);
	r = s3_do(s, &q);
	if (r == 0 && q.status / 100 != 2) {
		char code[64] = "";

		xml_first(kc_buf_str(&resp), "Code", code, sizeof(code));
		if (strcmp(code, "ObjectLockConfigurationNotFoundError") == 0 ||
		    strcmp(code, "ObjectLockConfigurationNotFound") == 0)
			r = kc_err_set(KC_ERR_CONFIG, "bucket '%s' has no Object Lock; create it with "
			    "Object Lock enabled (x-amz-bucket-object-lock-enabled: true)", s->bucket);
		else
			r = s3_fail(s, &q, "cannot open the S3 store");
	} else if (r == 0 && (!xml_first(kc_buf_str(&resp), "ObjectLockEnabled", state, sizeof(state)) ||
	    strcmp(state, "Enabled") != 0)) {
		r = kc_err_set(KC_ERR_CONFIG, "bucket '%s' has no Object Lock enabled", s->bucket);
	}
	kc_buf_free(&resp);
	return r;
}

/* ---- items ------------------------------------------------------------ */

static int
meta_get(struct s3 *s, const char *id, cJSON **meta)
{
	struct kc_buf b = KC_BUF_INIT(RESP_MAX);
	char *key = item_key(s, id, "meta.json");
	int r;

	*meta = NULL;
	if (key == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = get_small(s, key, NULL, &b)) == 0) {
		*meta = cJSON_ParseWithLength(kc_buf_str(&b), b.len);
		if (*meta == NULL || archive_jstr(*meta, "format") == NULL ||
		    strcmp(archive_jstr(*meta, "format"), META_FORMAT) != 0 ||
		    archive_jstr(*meta, "id") == NULL || strcmp(archive_jstr(*meta, "id"), id) != 0 ||
		    archive_jstr(*meta, "status") == NULL) {
			cJSON_Delete(*meta);
			*meta = NULL;
			r = kc_err_set(KC_ERR_VERIFY, "%s is not a kcustody item record", key);
		}
	}
	free(key);
	kc_buf_free(&b);
	return r;
}

static int
meta_put(struct s3 *s, const cJSON *meta, time_t until)
{
	char *key = item_key(s, archive_jstr(meta, "id"), "meta.json"), *txt = cJSON_Print(meta);
	int r;

	if (key == NULL || txt == NULL)
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
	else
		r = put_small(s, key, txt, strlen(txt), until, 0, NULL);
	free(key);
	cJSON_free(txt);
	return r;
}

/* Ids of all items (keys ending in /meta.json). */
static int
item_ids(struct s3 *s, cJSON **ids)
{
	cJSON *keys = NULL, *k;
	size_t pl = strlen(s->prefix);
	int r;

	if ((r = list_keys(s, s->prefix, &keys)) != 0)
		return r;
	if ((*ids = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(keys);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	cJSON_ArrayForEach(k, keys) {
		const char *rest = k->valuestring + pl;
		char id[KC_SHA256_HEX];

		if (strlen(rest) != 64 + 10 || strcmp(rest + 64, "/meta.json") != 0)
			continue;
		memcpy(id, rest, 64);
		id[64] = '\0';
		if (archive_is_id(id))
			cJSON_AddItemToArray(*ids, cJSON_CreateString(id));
	}
	cJSON_Delete(keys);
	return 0;
}

/* Resolve an id prefix to the full id of an item. */
static int
resolve(struct s3 *s, const char *prefix, char id[KC_SHA256_HEX])
{
	cJSON *ids = NULL, *it;
	int n = 0, r;

	if (archive_is_id(prefix)) {
		snprintf(id, KC_SHA256_HEX, "%s", prefix);
		return 0;
	}
	if ((r = item_ids(s, &ids)) != 0)
		return r;
	cJSON_ArrayForEach(it, ids)
		if (strncmp(it->valuestring, prefix, strlen(prefix)) == 0 && n++ == 0)
			snprintf(id, KC_SHA256_HEX, "%s", it->valuestring);
	cJSON_Delete(ids);
	if (n != 1)
		return kc_err_set(n ? KC_ERR_INVALID : KC_ERR_NOTFOUND, n ?
		    "id '%s' is ambiguous in this store" : "no item '%s' in this store", prefix);
	return 0;
}

/* The whole ledger of an item: the archived copy, then each entry object
 * in key order (= seq order).  Checks the copy against the anchor in meta
 * and each entry object's key against its content. */
static int
ledger_text(struct s3 *s, const cJSON *meta, struct kc_buf *text, cJSON *problems)
{
	const char *id = archive_jstr(meta, "id");
	char *key = item_key(s, id, "custody.jsonl"), *dir = item_key(s, id, "custody/");
	struct kc_buf one = KC_BUF_INIT(KC_LEDGER_LINE_MAX + 1);
	cJSON *keys = NULL, *k;
	int r;

	if (key == NULL || dir == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = get_small(s, key, archive_jstr(meta, "ledger_version"), text)) != 0)
		goto out;
	if ((r = archive_anchor_check(kc_buf_str(text), text->len,
	    archive_jlong(meta, "ledger_entries"), archive_jstr(meta, "ledger_head") ?
	    archive_jstr(meta, "ledger_head") : "")) != 0)
		goto out;
	if ((r = list_keys(s, dir, &keys)) != 0)
		goto out;
	cJSON_ArrayForEach(k, keys) {
		const char *name = k->valuestring + strlen(dir);
		char hex[KC_SHA256_HEX];
		cJSON *e;

		kc_buf_reset(&one);
		if ((r = get_small(s, k->valuestring, NULL, &one)) != 0)
			goto out;
		kc_sha256_hex(one.data ? one.data : "", one.len, hex);
		e = cJSON_ParseWithLength(kc_buf_str(&one), one.len);
		/* <seq, 10 digits>-<first 16 hex of the line's SHA-256>.jsonl */
		if (e == NULL || strlen(name) != 10 + 1 + 16 + 6 || name[10] != '-' ||
		    strncmp(name + 11, hex, 16) != 0 ||
		    archive_jlong(e, "seq") != strtol(name, NULL, 10)) {
			char msg[512];

			snprintf(msg, sizeof(msg), "entry object %s does not match its content", name);
			if (problems != NULL)
				cJSON_AddItemToArray(problems, cJSON_CreateString(msg));
		}
		cJSON_Delete(e);
		if ((r = kc_buf_add(text, one.data ? one.data : "", one.len)) != 0)
			goto out;
	}
out:
	cJSON_Delete(keys);
	kc_buf_free(&one);
	free(key);
	free(dir);
	return r;
}

/* Write the next ledger entry of an item as its own object. */
static int
add_entry(struct s3 *s, const cJSON *meta, const struct kc_archive_actor *who, const char *action,
    const char *to, const char *method, const char *note, time_t until, struct kc_buf *text)
{
	struct kc_buf line = KC_BUF_INIT(KC_LEDGER_LINE_MAX + 1);
	struct kc_ledger_state st;
	const char *id = archive_jstr(meta, "id");
	char hex[KC_SHA256_HEX], rest[64], *key = NULL;
	int r;

	if ((r = archive_next_entry(kc_buf_str(text), text->len, id, action, to, method, note, who,
	    &st, &line)) != 0)
		goto out;
	kc_sha256_hex(line.data, line.len, hex);
	snprintf(rest, sizeof(rest), "custody/%010ld-%.16s.jsonl", st.last_seq + 1, hex);
	if ((key = item_key(s, id, rest)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = put_small(s, key, line.data, line.len, until, 0, NULL)) != 0)
		goto out;
	r = kc_buf_add(text, line.data, line.len);
out:
	free(key);
	kc_buf_free(&line);
	return r;
}

static time_t
meta_until(const cJSON *meta)
{
	time_t t = 0;
	long ns;

	if (archive_jstr(meta, "retain_until") == NULL ||
	    kc_parse_rfc3339(archive_jstr(meta, "retain_until"), &t, &ns) != 0)
		return 0;
	return t;
}

static int
s3_put(struct kc_archive *a, const char *bundle_path, time_t until, int hold,
    const struct kc_archive_actor *who, cJSON **item_out)
{
	struct s3 *s = S(a);
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	char id[KC_SHA256_HEX], bver[256] = "", lver[256] = "", ubuf[32], tbuf[32], note[128];
	char *bkey = NULL, *lkey = NULL, *lpath = NULL, hex[KC_SHA256_HEX];
	const char *base;
	cJSON *meta = NULL, *old = NULL;
	uint64_t size, size2;
	int r;

	if ((r = archive_prepare(bundle_path, who, id, &size)) != 0)
		return r;
	if ((r = meta_get(s, id, &old)) == 0) {
		r = kc_err_set(KC_ERR_INVALID, "bundle %s is already in this store (%s)", id,
		    archive_jstr(old, "status") ? archive_jstr(old, "status") : "?");
		goto out;
	} else if (r != KC_ERR_NOTFOUND) {
		goto out;
	}
	kc_err_clear();
	bkey = item_key(s, id, "bundle");
	lkey = item_key(s, id, "custody.jsonl");
	lpath = kc_ledger_path(bundle_path);
	if (bkey == NULL || lkey == NULL || lpath == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = put_file(s, bkey, bundle_path, size, until, hold, bver)) != 0)
		goto out;
	/* the bytes uploaded were hashed as they went (x-amz-content-sha256 /
	 * Content-MD5); make sure the file did not change meanwhile */
	if ((r = kc_sha256_file(bundle_path, hex, &size2)) != 0)
		goto out;
	if (strcmp(hex, id) != 0 || size2 != size) {
		r = kc_err_set(KC_ERR_VERIFY, "'%s' changed while it was archived", bundle_path);
		goto out;
	}
	snprintf(note, sizeof(note), "retain until %s (%s)%s", kc_fmt_rfc3339(until, ubuf,
	    sizeof(ubuf)), s->mode, hold ? ", legal hold" : "");
	if ((r = archive_file_entry(lpath, id, "archived", a->location, "kcustody archive put",
	    note, who, &text)) != 0)
		goto out;
	if ((r = put_small(s, lkey, text.data, text.len, until, hold, lver)) != 0)
		goto out;
	base = strrchr(bundle_path, '/');
	if ((meta = cJSON_CreateObject()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(meta, "format", META_FORMAT);
	cJSON_AddStringToObject(meta, "id", id);
	cJSON_AddStringToObject(meta, "name", base ? base + 1 : bundle_path);
	cJSON_AddNumberToObject(meta, "size", (double)size);
	cJSON_AddStringToObject(meta, "stored", kc_fmt_rfc3339(kc_now(), tbuf, sizeof(tbuf)));
	cJSON_AddStringToObject(meta, "retain_until", ubuf);
	cJSON_AddBoolToObject(meta, "legal_hold", hold);
	cJSON_AddStringToObject(meta, "lock_mode", s->mode);
	cJSON_AddStringToObject(meta, "status", "stored");
	cJSON_AddStringToObject(meta, "bundle_version", bver);
	cJSON_AddStringToObject(meta, "ledger_version", lver);
	cJSON_AddBoolToObject(meta, "multipart", size >= s->threshold);
	{
		long n = 0;
		const char *last = text.data;

		for (size_t i = 0; i < text.len; i++)
			if (text.data[i] == '\n') {
				n++;
				if (i + 1 < text.len)
					last = text.data + i + 1;
			}
		kc_sha256_hex(last, text.len - (size_t)(last - text.data), hex);
		cJSON_AddNumberToObject(meta, "ledger_entries", (double)n);
		cJSON_AddStringToObject(meta, "ledger_head", hex);
	}
	/* Written last: until it exists the item is not listed. */
	if ((r = meta_put(s, meta, until)) != 0)
		goto out;
	if (item_out != NULL)
		*item_out = cJSON_Duplicate(meta, 1);
out:
	cJSON_Delete(meta);
	cJSON_Delete(old);
	kc_buf_free(&text);
	free(bkey);
	free(lkey);
	free(lpath);
	return r;
}

static int
s3_list(struct kc_archive *a, cJSON **items)
{
	struct s3 *s = S(a);
	cJSON *ids = NULL, *it, *meta;
	int r;

	if ((r = item_ids(s, &ids)) != 0)
		return r;
	if ((*items = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(ids);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	cJSON_ArrayForEach(it, ids) {
		if ((r = meta_get(s, it->valuestring, &meta)) != 0)
			break;
		cJSON_AddItemToArray(*items, meta);
	}
	cJSON_Delete(ids);
	if (r != 0) {
		cJSON_Delete(*items);
		*items = NULL;
	}
	return r;
}

/* Download the bundle version to path (new file), hashing it. */
static int
fetch_bundle(struct s3 *s, const cJSON *meta, const char *path, char hex[KC_SHA256_HEX],
    uint64_t *size)
{
	struct kc_buf query = KC_BUF_INIT(1024), err = KC_BUF_INIT(RESP_MAX);
	char *key = item_key(s, archive_jstr(meta, "id"), "bundle");
	struct req q;
	int fd = -1, r;

	if (key == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444)) < 0) {
		r = kc_err_set(KC_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
		goto out;
	}
	kc_buf_adds(&query, "versionId=");
	qenc(&query, archive_jstr(meta, "bundle_version") ? archive_jstr(meta, "bundle_version") : "");
	req_init(&q, "GET", key, kc_buf_str(&query), &err);
	q.out_fd = fd;
	if ((q.out_hash = kc_sha256_new()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = s3_ok(s, &q, key)) == 0) {
		if (fsync(fd) != 0)
			r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
		else
			r = kc_sha256_final(q.out_hash, NULL, hex);
		*size = q.out_bytes;
	}
	kc_sha256_free(q.out_hash);
out:
	if (fd >= 0)
		close(fd);
	if (r != 0 && fd >= 0)
		unlink(path);
	free(key);
	kc_buf_free(&query);
	kc_buf_free(&err);
	return r;
}

static int
s3_get(struct kc_archive *a, const char *idp, const char *out_path,
    const struct kc_archive_actor *who, cJSON **item_out)
{
	struct s3 *s = S(a);
	struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
	char id[KC_SHA256_HEX], hex[KC_SHA256_HEX], *tmp = NULL, *olpath = NULL;
	cJSON *meta = NULL;
	uint64_t size;
	int r;

	if ((olpath = kc_ledger_path(out_path)) == NULL ||
	    asprintf(&tmp, "%s.tmp.%ld", out_path, (long)getpid()) < 0) {
		tmp = NULL;
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (access(out_path, F_OK) == 0 || access(olpath, F_OK) == 0) {
		r = kc_err_set(KC_ERR_INVALID, "'%s' or its ledger already exists; not replacing it",
		    out_path);
		goto out;
	}
	if ((r = resolve(s, idp, id)) != 0 || (r = meta_get(s, id, &meta)) != 0)
		goto out;
	if (strcmp(archive_jstr(meta, "status"), "stored") != 0) {
		r = kc_err_set(KC_ERR_NOTFOUND, "item %s was disposed of", id);
		goto out;
	}
	if ((r = fetch_bundle(s, meta, tmp, hex, &size)) != 0)
		goto out;
	if (strcmp(hex, id) != 0) {
		unlink(tmp);
		r = kc_err_set(KC_ERR_VERIFY, "the stored bundle %s is damaged (its SHA-256 is now %s); "
		    "nothing was handed out", id, hex);
		goto out;
	}
	if ((r = ledger_text(s, meta, &text, NULL)) != 0 ||
	    (r = add_entry(s, meta, who, "accessed", out_path, "kcustody archive get", NULL,
	    meta_until(meta), &text)) != 0) {
		unlink(tmp);
		goto out;
	}
	if ((r = kc_write_file_atomic(olpath, text.data, text.len, 0644)) != 0) {
		unlink(tmp);
		goto out;
	}
	if (link(tmp, out_path) != 0) {
		r = kc_err_set(KC_ERR_IO, "cannot create '%s': %s", out_path, strerror(errno));
		unlink(olpath);
	}
	unlink(tmp);
	if (r == 0 && item_out != NULL)
		*item_out = cJSON_Duplicate(meta, 1);
out:
	cJSON_Delete(meta);
	kc_buf_free(&text);
	free(tmp);
	free(olpath);
	return r;
}


/* Read back ?retention= and ?legal-hold= of the bundle version. */
static int
read_lock(struct s3 *s, const cJSON *meta, char *mode, size_t mn, time_t *until, char *hold,
    size_t hn)
{
	struct kc_buf resp = KC_BUF_INIT(RESP_MAX), query = KC_BUF_INIT(1024);
	char *key = item_key(s, archive_jstr(meta, "id"), "bundle"), date[64] = "";
	struct req q;
	long ns;
	int r;

	*until = 0;
	mode[0] = hold[0] = '\0';
	if (key == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	kc_buf_adds(&query, "retention=&versionId=");
	qenc(&query, archive_jstr(meta, "bundle_version") ? archive_jstr(meta, "bundle_version") : "");
	req_init(&q, "GET", key, kc_buf_str(&query), &resp);
	if ((r = s3_ok(s, &q, "read retention")) != 0)
		goto out;
	xml_first(kc_buf_str(&resp), "Mode", mode, mn);
	if (xml_first(kc_buf_str(&resp), "RetainUntilDate", date, sizeof(date)))
		kc_parse_rfc3339(date, until, &ns);
	kc_buf_reset(&query);
	kc_buf_adds(&query, "legal-hold=&versionId=");
	qenc(&query, archive_jstr(meta, "bundle_version") ? archive_jstr(meta, "bundle_version") : "");
	req_init(&q, "GET", key, kc_buf_str(&query), &resp);
	if ((r = s3_do(s, &q)) != 0)
		goto out;
	if (q.status / 100 == 2)
		xml_first(kc_buf_str(&resp), "Status", hold, hn);
	else if (q.status == 404 || q.status == 400)
		snprintf(hold, hn, "OFF");	/* never set */
	else
		r = s3_fail(s, &q, "read legal hold");
out:
	free(key);
	kc_buf_free(&resp);
	kc_buf_free(&query);
	return r;
}

static int
s3_verify(struct kc_archive *a, const char *idp, const struct kc_trust *trust, cJSON **report)
{
	struct s3 *s = S(a);
	cJSON *ids = NULL, *it, *rep = NULL, *items;
	int r, damaged = 0, checked = 0;
	char id[KC_SHA256_HEX];

	if (idp != NULL) {
		if ((r = resolve(s, idp, id)) != 0)
			return r;
		if ((ids = cJSON_CreateArray()) != NULL)
			cJSON_AddItemToArray(ids, cJSON_CreateString(id));
	} else if ((r = item_ids(s, &ids)) != 0) {
		return r;
	}
	if (ids == NULL || (rep = cJSON_CreateObject()) == NULL ||
	    (items = cJSON_AddArrayToObject(rep, "items")) == NULL) {
		cJSON_Delete(ids);
		cJSON_Delete(rep);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	cJSON_AddStringToObject(rep, "store", a->location);
	cJSON_ArrayForEach(it, ids) {
		struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX);
		cJSON *meta = NULL, *res = cJSON_CreateObject();
		char hex[KC_SHA256_HEX], tmp[] = "/tmp/kcustody-verify.XXXXXX", mode[32], hold[16];
		char t1[32], t2[32];
		uint64_t size = 0;
		time_t until;
		int fd, stored;

		checked++;
		cJSON_AddStringToObject(res, "id", it->valuestring);
		cJSON_AddArrayToObject(res, "problems");
		cJSON_AddItemToArray(items, res);
		if (meta_get(s, it->valuestring, &meta) != 0) {
			cJSON_AddStringToObject(res, "name", "");
			cJSON_AddStringToObject(res, "status", "?");
			archive_problem(res, "item record: %s", kc_err_msg());
			goto next;
		}
		stored = strcmp(archive_jstr(meta, "status"), "stored") == 0;
		cJSON_AddStringToObject(res, "name", archive_jstr(meta, "name"));
		cJSON_AddStringToObject(res, "status", archive_jstr(meta, "status"));
		if (stored) {
			/* re-download and re-hash, through a private temporary file */
			if ((fd = mkstemp(tmp)) < 0) {
				archive_problem(res, "cannot create a temporary file: %s", strerror(errno));
				goto next;
			}
			close(fd);
			unlink(tmp);
			if (fetch_bundle(s, meta, tmp, hex, &size) != 0)
				archive_problem(res, "bundle: %s", kc_err_msg());
			else if (strcmp(hex, it->valuestring) != 0)
				archive_problem(res, "bundle damaged: its SHA-256 is now %s", hex);
			else if (size != archive_jsize(meta, "size"))
				archive_problem(res, "bundle size %llu differs from the record",
				    (unsigned long long)size);
			unlink(tmp);
			/* what the store enforces, read back */
			if (read_lock(s, meta, mode, sizeof(mode), &until, hold, sizeof(hold)) != 0) {
				archive_problem(res, "lock: %s", kc_err_msg());
			} else {
				cJSON_AddStringToObject(res, "lock_mode", mode);
				cJSON_AddStringToObject(res, "retain_until", until ?
				    kc_fmt_rfc3339(until, t1, sizeof(t1)) : "");
				cJSON_AddStringToObject(res, "legal_hold", hold);
				if (strcmp(mode, archive_jstr(meta, "lock_mode")) != 0)
					archive_problem(res, "lock mode is '%s', not %s", mode,
					    archive_jstr(meta, "lock_mode"));
				if (until < meta_until(meta))
					archive_problem(res, "the store retains it until %s, before %s",
					    until ? t1 : "(no date)",
					    kc_fmt_rfc3339(meta_until(meta), t2, sizeof(t2)));
				if (cJSON_IsTrue(cJSON_GetObjectItem(meta, "legal_hold")) !=
				    (strcmp(hold, "ON") == 0))
					archive_problem(res, "legal hold is %s in the store, %s in the record",
					    hold[0] ? hold : "OFF", cJSON_IsTrue(cJSON_GetObjectItem(meta,
					    "legal_hold")) ? "ON" : "OFF");
			}
		}
		if (ledger_text(s, meta, &text, cJSON_GetObjectItem(res, "problems")) != 0)
			archive_problem(res, "ledger: %s", kc_err_msg());
		else if (kc_ledger_check(kc_buf_str(&text), text.len, it->valuestring, trust, NULL,
		    NULL) != 0)
			archive_problem(res, "ledger: %s", kc_err_msg());
next:
		cJSON_AddBoolToObject(res, "ok", cJSON_GetArraySize(cJSON_GetObjectItem(res,
		    "problems")) == 0);
		if (!cJSON_IsTrue(cJSON_GetObjectItem(res, "ok")))
			damaged++;
		cJSON_Delete(meta);
		kc_buf_free(&text);
	}
	cJSON_AddNumberToObject(rep, "checked", checked);
	cJSON_AddNumberToObject(rep, "damaged", damaged);
	cJSON_Delete(ids);
	*report = rep;
	return damaged ? kc_err_set(KC_ERR_VERIFY, "%d of %d archived items damaged or missing",
	    damaged, checked) : 0;
}

static int
s3_prune(struct kc_archive *a, const struct kc_archive_actor *who, int dry_run, cJSON **report)
{
	struct s3 *s = S(a);
	cJSON *ids = NULL, *it, *rep, *list;
	time_t now = kc_now();
	char tbuf[32];
	int r;

	if ((r = item_ids(s, &ids)) != 0)
		return r;
	if ((rep = cJSON_CreateObject()) == NULL || (list = cJSON_AddArrayToObject(rep, "items")) == NULL) {
		cJSON_Delete(ids);
		cJSON_Delete(rep);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	*report = rep;
	cJSON_AddStringToObject(rep, "now", kc_fmt_rfc3339(now, tbuf, sizeof(tbuf)));
	cJSON_ArrayForEach(it, ids) {
		struct kc_buf text = KC_BUF_INIT(KC_LEDGER_MAX), resp = KC_BUF_INIT(RESP_MAX);
		struct kc_buf query = KC_BUF_INIT(1024);
		cJSON *meta = NULL, *res;
		char mode[32], hold[16], note[128], detail[512], *bkey = NULL;
		time_t until, server_now;
		struct req q;

		if ((r = meta_get(s, it->valuestring, &meta)) != 0)
			break;
		if (strcmp(archive_jstr(meta, "status"), "stored") != 0)
			goto next;
		res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "id", it->valuestring);
		cJSON_AddStringToObject(res, "name", archive_jstr(meta, "name"));
		cJSON_AddItemToArray(list, res);
		if (cJSON_IsTrue(cJSON_GetObjectItem(meta, "legal_hold"))) {
			cJSON_AddStringToObject(res, "result", "kept: legal hold");
			goto next;
		}
		if (meta_until(meta) > now) {
			cJSON_AddStringToObject(res, "result", "kept: retained");
			goto next;
		}
		/* What does the store itself say?  Its clock, its lock. */
		if ((r = read_lock(s, meta, mode, sizeof(mode), &until, hold, sizeof(hold))) != 0)
			break;
		server_now = time(NULL);
		{
			struct req hq;

			req_init(&hq, "HEAD", NULL, NULL, NULL);
			if (s3_do(s, &hq) == 0 && hq.date[0] != '\0')
				kc_parse_http_date(hq.date, &server_now);
		}
		if (strcmp(hold, "ON") == 0 || until > server_now) {
			snprintf(detail, sizeof(detail), "the store still locks it%s%s%s",
			    strcmp(hold, "ON") == 0 ? " (legal hold)" : "", until > server_now ?
			    " until " : "", until > server_now ? kc_fmt_rfc3339(until, tbuf,
			    sizeof(tbuf)) : "");
			cJSON_AddStringToObject(res, "result", "kept by the store");
			cJSON_AddStringToObject(res, "detail", detail);
			goto next;
		}
		if (dry_run) {
			cJSON_AddStringToObject(res, "result", "would dispose");
			goto next;
		}
		snprintf(note, sizeof(note), "retention ended %s", archive_jstr(meta, "retain_until"));
		if ((r = ledger_text(s, meta, &text, NULL)) != 0 ||
		    (r = add_entry(s, meta, who, "disposed", "", "kcustody archive prune", note, 0,
		    &text)) != 0) {
			cJSON_AddStringToObject(res, "result", "error");
			cJSON_AddStringToObject(res, "detail", kc_err_msg());
			kc_buf_free(&text);
			cJSON_Delete(meta);
			break;
		}
		bkey = item_key(s, it->valuestring, "bundle");
		kc_buf_adds(&query, "versionId=");
		qenc(&query, archive_jstr(meta, "bundle_version"));
		req_init(&q, "DELETE", bkey, kc_buf_str(&query), &resp);
		if (bkey == NULL || (r = s3_do(s, &q)) != 0) {
			cJSON_AddStringToObject(res, "result", "error");
			cJSON_AddStringToObject(res, "detail", bkey ? kc_err_msg() : "out of memory");
			r = 0;	/* reported; go on with the next item */
		} else if (q.status / 100 != 2) {
			s3_fail(s, &q, "delete");
			cJSON_AddStringToObject(res, "result", "refused by the store");
			cJSON_AddStringToObject(res, "detail", kc_err_msg());
		} else {
			cJSON_ReplaceItemInObjectCaseSensitive(meta, "status", cJSON_CreateString("disposed"));
			cJSON_AddStringToObject(meta, "disposed", kc_fmt_rfc3339(kc_now(), tbuf,
			    sizeof(tbuf)));
			if ((r = meta_put(s, meta, 0)) != 0) {
				cJSON_AddStringToObject(res, "result", "error");
				cJSON_AddStringToObject(res, "detail", kc_err_msg());
			} else {
				cJSON_AddStringToObject(res, "result", "disposed");
			}
		}
next:
		free(bkey);
		kc_buf_free(&text);
		kc_buf_free(&resp);
		kc_buf_free(&query);
		cJSON_Delete(meta);
		if (r != 0)
			break;
	}
	cJSON_Delete(ids);
	return r;
}

const struct archive_backend kc_archive_s3 = {
	s3_put, s3_list, s3_get, s3_verify, s3_prune, s3_close,
};
