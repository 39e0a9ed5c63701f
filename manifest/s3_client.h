/* s3_client.h - a small S3 client (s3_client.c) for the archive's S3
 * backend: signed requests, bounded answers, uploads with Object Lock,
 * listing.  Internal to manifest/; not a general S3 library. */
#ifndef KC_S3_CLIENT_H
#define KC_S3_CLIENT_H

#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "manifest/archive.h"
#include "util/buf.h"
#include "util/sha256.h"

#define KC_S3_RESP_MAX (16u << 20)	/* an answer read into memory */
#define KC_S3_VERSION_MAX 256		/* version ids copied out */

/* A connection to one bucket.  Credentials are wiped by kc_s3_close. */
struct kc_s3 {
	char *endpoint, *region, *bucket;
	char *access, *secret, *token;
	char *ca_file;
	char mode[16];		/* Object Lock mode for uploads */
	uint64_t threshold, part_size;
	long send_bps;		/* test hook: KCUSTODY_TEST_S3_SEND_BPS */
	char sigv4[128];
	CURL *curl;
};

/* One request and its answer. */
struct kc_s3_req {
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

/* Settings of s (bucket already set by the caller) from o, the
 * environment (AWS_REGION, AWS_ENDPOINT_URL[_S3], AWS_ACCESS_KEY_ID, ...)
 * and a profile file; plain HTTP only warned about (a session token over
 * it to a remote host refused); libcurl started.  No request is made. */
int kc_s3_open(struct kc_s3 *s, const struct kc_archive_opts *o);
/* Free everything of s, credentials wiped; s itself is the caller's. */
void kc_s3_close(struct kc_s3 *s);

/* A request: kc_s3_req_init, set body/out fields, then kc_s3_do (0 when
 * the transfer completed, whatever the HTTP status) or kc_s3_ok (2xx or
 * an error named by what).  kc_s3_fail maps a non-2xx answer to an error. */
void kc_s3_req_init(struct kc_s3_req *q, const char *method, const char *key, const char *query,
    struct kc_buf *resp);
int kc_s3_do(struct kc_s3 *s, struct kc_s3_req *q);
int kc_s3_ok(struct kc_s3 *s, struct kc_s3_req *q, const char *what);
int kc_s3_fail(struct kc_s3 *s, struct kc_s3_req *q, const char *what);

/* PUT a small object from memory, locked until `until` (0: no retention)
 * with s->mode, with a legal hold when hold; version (optional,
 * KC_S3_VERSION_MAX bytes) receives its version id. */
int kc_s3_put_small(struct kc_s3 *s, const char *key, const void *data, size_t len, time_t until,
    int hold, char *version);
/* PUT a file (multipart at s->threshold and above, then locked again by
 * version), locked as kc_s3_put_small. */
int kc_s3_put_file(struct kc_s3 *s, const char *key, const char *path, uint64_t size, time_t until,
    int hold, char *version);
/* GET an object (a version when version is non-empty) into out. */
int kc_s3_get_small(struct kc_s3 *s, const char *key, const char *version, struct kc_buf *out);
/* Every key under prefix (ListObjectsV2, all pages): a JSON array. */
int kc_s3_list_keys(struct kc_s3 *s, const char *prefix, cJSON **keys);
/* Read back ?retention= and ?legal-hold= of an object version: mode (mn
 * bytes), retain-until (0: none) and hold ("ON", "OFF"; hn bytes). */
int kc_s3_read_lock(struct kc_s3 *s, const char *key, const char *version, char *mode, size_t mn,
    time_t *until, char *hold, size_t hn);
/* The store's clock (its Date header), or ours when it gives none. */
time_t kc_s3_server_time(struct kc_s3 *s);

/* Percent-encode s for a query value (RFC 3986 unreserved kept). */
int kc_s3_qenc(struct kc_buf *b, const char *s);
/* Keys and prefixes we write use only letters, digits and - . _ / */
int kc_s3_key_chars_ok(const char *s);
/* The first <tag> of xml, as archive_s3_xml_next. */
int kc_s3_xml_first(const char *xml, const char *tag, char *out, size_t n);

/* Declared for tests/fuzz.  The text of the next <tag>...</tag> at or
 * after *pos (NULL: the start) in xml, the five predefined entities
 * decoded, cut to n-1 bytes: 1 found, 0 not. */
int archive_s3_xml_next(const char *xml, const char **pos, const char *tag, char *out, size_t n);
/* One ListObjectsV2 page: append every <Key> to keys; 1 with the
 * continuation token in token (tn bytes) when there is another page. */
int archive_s3_list_page(const char *xml, cJSON *keys, char *token, size_t tn);
/* Parse an S3 endpoint URL with libcurl's URL API: *https set for https;
 * returns 1 when its host is loopback ("localhost" exactly, 127.0.0.0/8 or
 * ::1 as IP literals), 0 when not, KC_ERR_INVALID when it is not an
 * http(s) URL. */
int archive_url_loopback(const char *url, int *https);

#endif
