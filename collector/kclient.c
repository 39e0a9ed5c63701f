#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "collector/kclient.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/timeutil.h"

#define KC_TOKEN_MAX (64u << 10)
#define KC_CA_MAX (4u << 20)

struct kc_client {
	const struct kc_cluster_cfg *cfg;	/* borrowed: outlives the client */
	struct kc_client_opts opts;
	CURL *curl;
	char *server;		/* base URL without trailing slash */
	char *url_host;		/* host used in URLs (tls-server-name when set) */
	struct curl_slist *connect_to;
	char ca_sha256[KC_SHA256_HEX + 24];
	struct kc_buf ca_pem;
	char *user_agent;
	const char *auth_method;
	char http_version[16];
	unsigned long seq;
	unsigned long *seqp;	/* the Audit-ID counter: &seq, or a parent's (kc_client_fork) */
	cJSON *log;
	/* exec credential cache */
	struct kc_exec_credential exec_cred;
	int have_exec_cred;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct kc_buf *b = userdata;
	size_t n = size * nmemb;

	if (kc_buf_add(b, ptr, n) != 0)
		return 0;	/* over the cap: curl fails with CURLE_WRITE_ERROR */
	return n;
}

static void
copy_header_value(const char *line, size_t len, char *out, size_t outlen)
{
	const char *v = memchr(line, ':', len);
	size_t n;

	if (v == NULL)
		return;
	v++;
	while (v < line + len && (*v == ' ' || *v == '\t'))
		v++;
	n = (size_t)(line + len - v);
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static size_t
header_cb(char *line, size_t size, size_t nmemb, void *userdata)
{
	struct kc_response *resp = userdata;
	size_t n = size * nmemb;

	if (n > 9 && strncasecmp(line, "audit-id:", 9) == 0)
		copy_header_value(line, n, resp->audit_id, sizeof(resp->audit_id));
	else if (n > 13 && strncasecmp(line, "content-type:", 13) == 0)
		copy_header_value(line, n, resp->content_type, sizeof(resp->content_type));
	else if (n > 5 && strncasecmp(line, "date:", 5) == 0)
		copy_header_value(line, n, resp->date, sizeof(resp->date));
	else if (n > 12 && strncasecmp(line, "retry-after:", 12) == 0)
		copy_header_value(line, n, resp->retry_after, sizeof(resp->retry_after));
	return n;
}

/* Split https://host:port/path into host and port (default 443). */
static int
split_server(const char *server, char **host, long *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL, *scheme = NULL;
	int r = 0;

	if (u == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, server, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
		r = kc_err_set(KC_ERR_CONFIG, "invalid server URL '%s'", server);
		goto out;
	}
	if (strcmp(scheme, "https") != 0) {
		r = kc_err_set(KC_ERR_CONFIG, "server URL '%s' is not https: kcustody only talks TLS", server);
		goto out;
	}
	*port = 443;
	if (curl_url_get(u, CURLUPART_PORT, &p, 0) == CURLUE_OK)
		*port = strtol(p, NULL, 10);
	*host = kc_strdup(h);
out:
	curl_free(h);
	curl_free(p);
	curl_free(scheme);
	curl_url_cleanup(u);
	return r;
}

/* parent: a fork's (kc_client_fork), whose CA it takes as the parent read
 * it (the file is not read again: the manifest records the parent's) and
 * whose --insecure warning it does not repeat; else NULL. */
static int
client_setup_tls(struct kc_client *c, const struct kc_client *parent)
{
	const struct kc_cluster_cfg *cfg = c->cfg;
	char hex[KC_SHA256_HEX];
	int r;

	if (cfg->insecure_skip_tls_verify) {
		if (!c->opts.allow_insecure)
			return kc_err_set(KC_ERR_CONFIG, "kubeconfig '%s' sets insecure-skip-tls-verify; "
			    "kcustody verifies TLS unless --insecure is given (and then records it)",
			    cfg->source ? cfg->source : "?");
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 0L);
		if (parent == NULL)
			kc_warn("TLS verification disabled by --insecure; this is recorded in the manifest");
	} else {
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	kc_buf_init(&c->ca_pem, KC_CA_MAX);
	if (parent != NULL) {
		if (parent->ca_pem.len > 0 &&
		    (r = kc_buf_add(&c->ca_pem, parent->ca_pem.data, parent->ca_pem.len)) != 0)
			return r;
	} else if (cfg->ca_data.len > 0) {
		if ((r = kc_buf_add(&c->ca_pem, cfg->ca_data.data, cfg->ca_data.len)) != 0)
			return r;
	} else if (cfg->ca_file != NULL) {
		if ((r = kc_read_file(cfg->ca_file, KC_CA_MAX, &c->ca_pem)) != 0)
			return kc_err_set(KC_ERR_CONFIG, "cannot read certificate-authority '%s': %s",
			    cfg->ca_file, kc_err_msg());
	}
	if (c->ca_pem.len > 0) {
		struct curl_blob blob = { c->ca_pem.data, c->ca_pem.len, CURL_BLOB_NOCOPY };

		if (curl_easy_setopt(c->curl, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK)
			return kc_err_set(KC_ERR_CONFIG, "libcurl cannot take an in-memory CA bundle");
		kc_sha256_hex(c->ca_pem.data, c->ca_pem.len, hex);
		if (kc_fmt(c->ca_sha256, sizeof(c->ca_sha256), "%s", hex) != 0)
			return kc_err_code();
	} else if (kc_fmt(c->ca_sha256, sizeof(c->ca_sha256), "system-trust-store") != 0) {
		return kc_err_code();
	}
	return 0;
}

static int
set_client_cert(struct kc_client *c, const struct kc_buf *cert, const struct kc_buf *key,
    const char *certfile, const char *keyfile)
{
	if (cert != NULL && cert->len > 0) {
		struct curl_blob b = { cert->data, cert->len, CURL_BLOB_COPY };
		curl_easy_setopt(c->curl, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(c->curl, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (certfile != NULL) {
		if (access(certfile, R_OK) != 0)
			return kc_err_set(KC_ERR_CONFIG, "cannot read client-certificate '%s': %s",
			    certfile, strerror(errno));
		curl_easy_setopt(c->curl, CURLOPT_SSLCERT, certfile);
	}
	if (key != NULL && key->len > 0) {
		/* CURL_BLOB_COPY: libcurl keeps its own copy; ours is wiped with the config. */
		struct curl_blob b = { key->data, key->len, CURL_BLOB_COPY };
		curl_easy_setopt(c->curl, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(c->curl, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (keyfile != NULL) {
		if (access(keyfile, R_OK) != 0)
			return kc_err_set(KC_ERR_CONFIG, "cannot read client-key '%s': %s",
			    keyfile, strerror(errno));
		curl_easy_setopt(c->curl, CURLOPT_SSLKEY, keyfile);
	}
	return 0;
}

static int client_new(const struct kc_cluster_cfg *cfg, const struct kc_client_opts *opts,
    const struct kc_client *parent, struct kc_client **out);

int
kc_client_new(const struct kc_cluster_cfg *cfg, const struct kc_client_opts *opts,
    struct kc_client **out)
{
	return client_new(cfg, opts, NULL, out);
}

static int
client_new(const struct kc_cluster_cfg *cfg, const struct kc_client_opts *opts,
    const struct kc_client *parent, struct kc_client **out)
{
	struct kc_client *c;
	char *host = NULL;
	long port = 443;
	size_t len;
	int r;

	*out = NULL;
	if (cfg->server == NULL || cfg->server[0] == '\0')
		return kc_err_set(KC_ERR_CONFIG, "cluster '%s' has no server URL",
		    cfg->cluster_name ? cfg->cluster_name : "?");
	if (cfg->unsupported_auth != NULL)
		return kc_err_set(KC_ERR_CONFIG, "user '%s' uses %s, which kcustody does not support",
		    cfg->user_name ? cfg->user_name : "?", cfg->unsupported_auth);
	if ((c = kc_calloc(1, sizeof(*c))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	c->cfg = cfg;
	c->opts = *opts;
	c->seqp = &c->seq;
	if (c->opts.max_response == 0)
		c->opts.max_response = 512u << 20;
	if (c->opts.max_retries < 0)
		c->opts.max_retries = 4;
	if (c->opts.timeout_s == 0)
		c->opts.timeout_s = 60;
	if (c->opts.backoff_ms == 0)
		c->opts.backoff_ms = 200;
	if ((c->log = cJSON_CreateArray()) == NULL || (c->curl = curl_easy_init()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = split_server(cfg->server, &host, &port)) != 0)
		goto out;
	c->server = kc_strdup(cfg->server);
	len = strlen(c->server);
	while (len > 0 && c->server[len - 1] == '/')
		c->server[--len] = '\0';
	if (cfg->tls_server_name != NULL && cfg->tls_server_name[0] != '\0') {
		/* Verify and send SNI for tls-server-name while connecting to the
		 * real host: the URL names tls-server-name, CONNECT_TO redirects. */
		char *entry = NULL, *rest = strstr(c->server, "://");
		const char *path;

		rest = rest ? rest + 3 : c->server;
		path = strchr(rest, '/');
		if (asprintf(&entry, "%s:%ld:%s:%ld", cfg->tls_server_name, port, host, port) < 0 ||
		    (c->connect_to = curl_slist_append(NULL, entry)) == NULL) {
			free(entry);
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		free(entry);
		free(c->server);
		if (asprintf(&c->server, "https://%s:%ld%s", cfg->tls_server_name, port,
		    path ? path : "") < 0) {
			c->server = NULL;
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		curl_easy_setopt(c->curl, CURLOPT_CONNECT_TO, c->connect_to);
	}
	if (asprintf(&c->user_agent, "kcustody/%s run/%s", KC_VERSION, opts->run_id) < 0) {
		c->user_agent = NULL;
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = client_setup_tls(c, parent)) != 0)
		goto out;
	if ((r = set_client_cert(c, &cfg->client_cert_data, &cfg->client_key_data,
	    cfg->client_cert_file, cfg->client_key_file)) != 0)
		goto out;
	if (cfg->exec != NULL)
		c->auth_method = "exec";
	else if (cfg->token != NULL)
		c->auth_method = "token";
	else if (cfg->token_file != NULL)
		c->auth_method = "tokenFile";
	else if (cfg->client_cert_data.len > 0 || cfg->client_cert_file != NULL)
		c->auth_method = "client-certificate";
	else
		c->auth_method = "none";
	if (cfg->proxy_url != NULL)
		curl_easy_setopt(c->curl, CURLOPT_PROXY, cfg->proxy_url);
	else
		curl_easy_setopt(c->curl, CURLOPT_PROXY, "");	/* no proxy from the environment */
	curl_easy_setopt(c->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->opts.timeout_s);
	curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");	/* gzip when offered */
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	*out = c;
	c = NULL;	/* transferred */
out:
	free(host);
	kc_client_free(c);
	return r;
}

void
kc_client_free(struct kc_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->connect_to);
	kc_buf_free(&c->ca_pem);
	free(c->server);
	free(c->user_agent);
	cJSON_Delete(c->log);
	if (c->have_exec_cred)
		kc_exec_credential_clear(&c->exec_cred);
	free(c);
}

/* The next Audit-ID number of the run: one counter for a client and its
 * forks, which send from other threads. */
static unsigned long
next_seq(struct kc_client *c)
{
	return __atomic_add_fetch(c->seqp, 1, __ATOMIC_RELAXED);
}

int
kc_client_fork(struct kc_client *parent, struct kc_client **out)
{
	struct kc_client *c;
	int r;

	*out = NULL;
	if ((r = client_new(parent->cfg, &parent->opts, parent, &c)) != 0)
		return r;
	c->seqp = parent->seqp;
	if (parent->have_exec_cred) {
		/* the plugin's credential as the parent holds it: the plugin is
		 * not run again for a second connection */
		struct kc_exec_credential *d = &c->exec_cred;

		if ((r = kc_exec_credential_copy(d, &parent->exec_cred)) != 0) {
			kc_client_free(c);
			return r;
		}
		c->have_exec_cred = 1;
		if (d->client_cert_data.len > 0 &&
		    (r = set_client_cert(c, &d->client_cert_data, &d->client_key_data, NULL, NULL)) != 0) {
			kc_client_free(c);
			return r;
		}
	}
	kc_fmt_trunc(c->http_version, sizeof(c->http_version), "%s", parent->http_version);
	*out = c;
	return 0;
}

/* The bearer token for this request (caller wipes and frees), or NULL. */
static int
get_token(struct kc_client *c, int force_refresh, char **token)
{
	const struct kc_cluster_cfg *cfg = c->cfg;
	int r;

	*token = NULL;
	if (cfg->exec != NULL) {
		if (c->have_exec_cred && !force_refresh && (c->exec_cred.expiration == 0 ||
		    c->exec_cred.expiration > time(NULL) + 10))
			goto have;
		if (c->have_exec_cred) {
			kc_exec_credential_clear(&c->exec_cred);
			c->have_exec_cred = 0;
		}
		memset(&c->exec_cred, 0, sizeof(c->exec_cred));
		if ((r = kc_exec_credential_get(cfg, &c->exec_cred)) != 0)
			return r;
		c->have_exec_cred = 1;
		if (c->exec_cred.client_cert_data.len > 0 &&
		    (r = set_client_cert(c, &c->exec_cred.client_cert_data,
		    &c->exec_cred.client_key_data, NULL, NULL)) != 0)
			return r;
have:
		if (c->exec_cred.token != NULL && (*token = kc_strdup(c->exec_cred.token)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		return 0;
	}
	if (cfg->token != NULL) {
		if ((*token = kc_strdup(cfg->token)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
		return 0;
	}
	if (cfg->token_file != NULL) {
		/* Re-read each time: projected tokens rotate under a running Job. */
		struct kc_buf b = KC_BUF_INIT(KC_TOKEN_MAX);

		if ((r = kc_read_file(cfg->token_file, KC_TOKEN_MAX, &b)) != 0) {
			kc_buf_free_secret(&b);
			return kc_err_set(KC_ERR_CONFIG, "cannot read tokenFile '%s'", cfg->token_file);
		}
		while (b.len > 0 && isspace((unsigned char)b.data[b.len - 1]))
			b.data[--b.len] = '\0';
		*token = kc_buf_take(&b, NULL);
		if (*token == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	return 0;
}

static int request_impl(struct kc_client *c, const char *method, const char *path,
    const char *accept, const char *impersonate_user,
    const void *body, size_t body_len, const struct kc_req_limits *lim, struct kc_response *resp);

static int
retryable_status(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

static int
retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static void
sleep_backoff(struct kc_client *c, int attempt, const char *retry_after)
{
	long ms = c->opts.backoff_ms << (attempt > 6 ? 6 : attempt);
	unsigned int rnd = 0;
	struct timespec ts;

	if (retry_after != NULL && retry_after[0] != '\0' && isdigit((unsigned char)retry_after[0])) {
		long s = strtol(retry_after, NULL, 10);
		if (s > 30)
			s = 30;	/* a hostile or confused server does not park us for hours */
		ms = s * 1000;
	}
	if (ms > 30000)
		ms = 30000;
	RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
	ms += (long)(rnd % (unsigned)(ms / 2 + 1));	/* jitter: up to +50% */
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
log_request(struct kc_client *c, const char *method, const char *path, const char *imp,
    const struct kc_response *resp, const char *sent_id, const char *error)
{
	cJSON *e = cJSON_CreateObject();

	if (e == NULL)
		return;
	cJSON_AddStringToObject(e, "method", method);
	cJSON_AddStringToObject(e, "path", path);
	cJSON_AddNumberToObject(e, "status", (double)resp->status);
	cJSON_AddStringToObject(e, "audit_id", resp->audit_id[0] ? resp->audit_id : sent_id);
	cJSON_AddNumberToObject(e, "bytes", (double)resp->body.len);
	cJSON_AddNumberToObject(e, "duration_ms", (double)(long long)(resp->duration_ms * 1000) / 1000.0);
	cJSON_AddNumberToObject(e, "attempts", resp->attempts);
	if (imp != NULL)
		cJSON_AddStringToObject(e, "impersonate_user", imp);
	if (error != NULL)
		cJSON_AddStringToObject(e, "error", error);
	cJSON_AddItemToArray(c->log, e);
}

int
kc_client_request(struct kc_client *c, const char *method, const char *path,
    const char *accept, const char *impersonate_user,
    const void *body, size_t body_len, struct kc_response *resp)
{
	return request_impl(c, method, path, accept, impersonate_user, body, body_len, NULL, resp);
}

int
kc_client_get_bounded(struct kc_client *c, const char *path, const char *accept,
    const struct kc_req_limits *lim, struct kc_response *resp)
{
	int r;

	if (lim->timeout_s > 0)
		curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, lim->timeout_s);
	r = request_impl(c, "GET", path, accept, NULL, NULL, 0, lim, resp);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->opts.timeout_s);
	return r;
}

static int
request_impl(struct kc_client *c, const char *method, const char *path,
    const char *accept, const char *impersonate_user,
    const void *body, size_t body_len, const struct kc_req_limits *lim, struct kc_response *resp)
{
	size_t maxr = lim != NULL && lim->max_bytes > 0 ? lim->max_bytes : c->opts.max_response;
	struct curl_slist *hdrs = NULL;
	struct kc_buf hbuf = KC_BUF_INIT(KC_TOKEN_MAX + 256);
	char sent_id[80], *url = NULL, *token = NULL, *imp = NULL;
	int r = 0, refreshed = 0, attempt, sends = 0;
	unsigned long seq;
	CURLcode cc = CURLE_OK;
	int64_t t0;

	memset(resp, 0, sizeof(*resp));
	kc_buf_init(&resp->body, maxr);
	seq = next_seq(c);
	/* an Audit-ID cut short could collide with another request's */
	if ((r = kc_fmt(sent_id, sizeof(sent_id), "%s-%06lu", c->opts.run_id, seq)) != 0)
		return r;
	if (asprintf(&url, "%s%s", c->server, path) < 0) {
		url = NULL;
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	t0 = kc_mono_ns();
	for (attempt = 0; ; attempt++) {
		curl_slist_free_all(hdrs);
		hdrs = NULL;
		kc_buf_reset(&resp->body);
		resp->status = 0;
		resp->audit_id[0] = resp->content_type[0] = resp->retry_after[0] = '\0';
		if (token == NULL && (r = get_token(c, refreshed, &token)) != 0)
			goto out;
		/* A retry is another request to the server: its own Audit-ID,
		 * "<run>-<seq>.<attempt>", so no two audit events collide. */
		if (sends > 0 && (r = kc_fmt(sent_id, sizeof(sent_id), "%s-%06lu.%d", c->opts.run_id, seq,
		    sends + 1)) != 0)
			goto out;
		kc_buf_reset(&hbuf);
		kc_buf_addf(&hbuf, "Audit-ID: %s", sent_id);
		hdrs = curl_slist_append(hdrs, hbuf.data);
		kc_buf_reset(&hbuf);
		kc_buf_addf(&hbuf, "Accept: %s", accept ? accept : "application/json");
		hdrs = curl_slist_append(hdrs, hbuf.data);
		if (token != NULL) {
			kc_buf_reset(&hbuf);
			if ((r = kc_buf_addf(&hbuf, "Authorization: Bearer %s", token)) != 0)
				goto out;
			hdrs = curl_slist_append(hdrs, hbuf.data);
		}
		if (impersonate_user != NULL) {
			free(imp);
			if (asprintf(&imp, "Impersonate-User: %s", impersonate_user) < 0) {
				imp = NULL;
				r = kc_err_set(KC_ERR_NOMEM, "out of memory");
				goto out;
			}
			hdrs = curl_slist_append(hdrs, imp);
		}
		if (body != NULL)
			hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		if (hdrs == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		curl_easy_setopt(c->curl, CURLOPT_URL, url);
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &resp->body);
		curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, resp);
		if (body != NULL) {
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		} else {
			curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
		}
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST,
		    strcmp(method, body ? "POST" : "GET") == 0 ? NULL : method);
		c->errbuf[0] = '\0';
		cc = curl_easy_perform(c->curl);
		/* The Authorization header must not outlive the request. */
		OPENSSL_cleanse(hbuf.data, hbuf.cap);
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
		/* every request sent, the one after a refreshed credential too
		 * (it has its own Audit-ID suffix, as a retry has) */
		resp->attempts = ++sends;
		if (cc == CURLE_OK) {
			long v = 0;
			curl_easy_getinfo(c->curl, CURLINFO_HTTP_VERSION, &v);
			kc_fmt_trunc(c->http_version, sizeof(c->http_version), "%s",
			    v == CURL_HTTP_VERSION_2_0 ? "HTTP/2" : v == CURL_HTTP_VERSION_1_1 ? "HTTP/1.1" : "HTTP/1.0");
			if (resp->status == 401 && (c->cfg->exec != NULL) && !refreshed) {
				/* The plugin's credential may have been revoked early. */
				refreshed = 1;
				kc_free_secret(token);
				token = NULL;
				attempt--;
				continue;
			}
			if (!retryable_status(resp->status) || attempt >= c->opts.max_retries)
				break;
			kc_debug("%s %s: status %ld, retrying", method, path, resp->status);
		} else {
			if (cc == CURLE_WRITE_ERROR && resp->body.len + CURL_MAX_WRITE_SIZE > maxr) {
				r = kc_err_set(KC_ERR_LIMIT, "response to %s %s is larger than %zu bytes",
				    method, path, maxr);
				goto out;
			}
			if (cc == CURLE_OPERATION_TIMEDOUT && lim != NULL && lim->no_retry_timeout) {
				r = kc_err_set(KC_ERR_TIMEOUT, "%s %s: no complete answer within %ld s",
				    method, path, lim->timeout_s > 0 ? lim->timeout_s : c->opts.timeout_s);
				goto out;
			}
			if (!retryable_curl(cc) || attempt >= c->opts.max_retries) {
				r = kc_err_set(KC_ERR_NET, "cannot reach %s: %s", c->cfg->server,
				    c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
				goto out;
			}
			kc_debug("%s %s: %s, retrying", method, path, curl_easy_strerror(cc));
		}
		sleep_backoff(c, attempt, resp->retry_after);
	}
out:
	resp->local_ns = kc_now_ns();
	resp->duration_ms = (double)(kc_mono_ns() - t0) / 1e6;
	if (resp->audit_id[0] == '\0' && kc_fmt(resp->audit_id, sizeof(resp->audit_id), "%s", sent_id) != 0 &&
	    r == 0)
		r = kc_err_code();
	log_request(c, method, path, impersonate_user, resp, sent_id, r != 0 ? kc_err_msg() : NULL);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	kc_buf_free_secret(&hbuf);
	kc_free_secret(token);
	free(imp);
	free(url);
	return r;
}

void
kc_response_free(struct kc_response *resp)
{
	kc_buf_free(&resp->body);
}

int
kc_response_error(const struct kc_response *resp, const char *method, const char *path)
{
	const char *msg = NULL;
	cJSON *doc = NULL, *m;
	char safe[512];
	int code;
	int r;

	if (resp->status >= 200 && resp->status < 300)
		return 0;
	if (resp->body.len > 0 && (doc = cJSON_ParseWithLength(resp->body.data, resp->body.len)) != NULL &&
	    cJSON_IsString(m = kc_json_get_mut(doc, "message")))
		msg = kc_safe_str(m->valuestring, safe, sizeof(safe));	/* the server's words reach a terminal */
	switch (resp->status) {
	case 401: code = KC_ERR_AUTH; break;
	case 403: code = KC_ERR_FORBIDDEN; break;
	case 404: code = KC_ERR_NOTFOUND; break;
	case 410: code = KC_ERR_GONE; break;
	default: code = KC_ERR_HTTP; break;
	}
	if (resp->status == 401)
		r = kc_err_set(code, "server rejected the credentials (401 Unauthorized) for %s %s", method, path);
	else
		r = kc_err_set(code, "%s %s: HTTP %ld%s%s", method, path, resp->status,
		    msg ? ": " : "", msg ? msg : "");
	cJSON_Delete(doc);
	return r;
}

cJSON *
kc_client_request_log(struct kc_client *c)
{
	return c->log;
}

const char *
kc_client_server(const struct kc_client *c)
{
	return c->cfg->server;
}

const char *
kc_client_ca_sha256(const struct kc_client *c)
{
	return c->ca_sha256;
}

int
kc_client_insecure(const struct kc_client *c)
{
	return c->cfg->insecure_skip_tls_verify && c->opts.allow_insecure;
}

const char *
kc_client_auth_method(const struct kc_client *c)
{
	return c->auth_method;
}

const char *
kc_client_user_agent(const struct kc_client *c)
{
	return c->user_agent;
}

const char *
kc_client_http_version(const struct kc_client *c)
{
	return c->http_version[0] ? c->http_version : "unknown";
}

struct batch_slot {
	CURL *easy;
	struct curl_slist *hdrs;
	size_t idx;
	int64_t t0;
	char sent_id[80];
	char *url;
};
_Static_assert(sizeof(((struct batch_slot *)0)->sent_id) <= sizeof(((struct kc_response *)0)->audit_id),
    "an Audit-ID as sent fits the response's audit_id");

static int
batch_prepare(struct kc_client *c, struct batch_slot *s, struct kc_batch_req *q,
    const char *token)
{
	struct kc_buf h = KC_BUF_INIT(KC_TOKEN_MAX + 256);
	int r = 0;

	memset(&q->resp, 0, sizeof(q->resp));
	kc_buf_init(&q->resp.body, c->opts.max_response);
	if ((r = kc_fmt(s->sent_id, sizeof(s->sent_id), "%s-%06lu", c->opts.run_id, next_seq(c))) != 0)
		return r;
	if ((s->easy = curl_easy_duphandle(c->curl)) == NULL ||
	    asprintf(&s->url, "%s%s", c->server, q->path) < 0) {
		s->url = NULL;
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	kc_buf_addf(&h, "Audit-ID: %s", s->sent_id);
	s->hdrs = curl_slist_append(s->hdrs, h.data);
	s->hdrs = curl_slist_append(s->hdrs, "Accept: application/json");
	if (q->body != NULL)
		s->hdrs = curl_slist_append(s->hdrs, "Content-Type: application/json");
	if (token != NULL) {
		kc_buf_reset(&h);
		if ((r = kc_buf_addf(&h, "Authorization: Bearer %s", token)) == 0)
			s->hdrs = curl_slist_append(s->hdrs, h.data);
	}
	if (q->impersonate_user != NULL) {
		kc_buf_reset(&h);
		kc_buf_addf(&h, "Impersonate-User: %s", q->impersonate_user);
		s->hdrs = curl_slist_append(s->hdrs, h.data);
	}
	kc_buf_free_secret(&h);
	if (r != 0 || s->hdrs == NULL)
		return r ? r : kc_err_set(KC_ERR_NOMEM, "out of memory");
	curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &q->resp.body);
	curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, &q->resp);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(s->easy, CURLOPT_PIPEWAIT, 1L);
	if (q->body != NULL) {
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
		curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST,
		    strcmp(q->method, "POST") == 0 ? NULL : q->method);
	} else {
		curl_easy_setopt(s->easy, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST,
		    strcmp(q->method, "GET") == 0 ? NULL : q->method);
	}
	s->t0 = kc_mono_ns();
	return 0;
}

static void
batch_release(struct batch_slot *s)
{
	if (s->easy != NULL)
		curl_easy_cleanup(s->easy);
	if (s->hdrs != NULL) {
		/* The Authorization header is in this list: wipe it. */
		for (struct curl_slist *l = s->hdrs; l != NULL; l = l->next)
			OPENSSL_cleanse(l->data, strlen(l->data));
		curl_slist_free_all(s->hdrs);
	}
	free(s->url);
	memset(s, 0, sizeof(*s));
}

int
kc_client_batch(struct kc_client *c, struct kc_batch_req *reqs, size_t n, int parallel)
{
	struct batch_slot *slots = NULL;
	CURLM *multi = NULL;
	char *token = NULL;
	size_t next = 0, active = 0;
	int r = 0, running;

	if (n == 0)
		return 0;
	if (parallel < 1)
		parallel = 1;
	if ((r = get_token(c, 0, &token)) != 0) {
		for (size_t i = 0; i < n; i++)
			reqs[i].err = r;
		return 0;
	}
	if ((slots = kc_calloc((size_t)parallel, sizeof(*slots))) == NULL ||
	    (multi = curl_multi_init()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 2L);
	for (;;) {
		CURLMsg *msg;
		int left;

		while (active < (size_t)parallel && next < n) {
			size_t k;
			for (k = 0; k < (size_t)parallel && slots[k].easy != NULL; k++)
				;
			slots[k].idx = next;
			if ((r = batch_prepare(c, &slots[k], &reqs[next], token)) != 0) {
				batch_release(&slots[k]);
				goto out;
			}
			curl_easy_setopt(slots[k].easy, CURLOPT_PRIVATE, &slots[k]);
			curl_multi_add_handle(multi, slots[k].easy);
			next++;
			active++;
		}
		if (active == 0)
			break;
		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			r = kc_err_set(KC_ERR_NET, "libcurl multi interface failed");
			goto out;
		}
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			struct batch_slot *s = NULL;
			struct kc_batch_req *q;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			q = &reqs[s->idx];
			curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &q->resp.status);
			q->resp.attempts = 1;
			q->resp.local_ns = kc_now_ns();
			q->resp.duration_ms = (double)(kc_mono_ns() - s->t0) / 1e6;
			if (q->resp.audit_id[0] == '\0')	/* fits: static assertion at batch_slot */
				memcpy(q->resp.audit_id, s->sent_id, strlen(s->sent_id) + 1);
			if (msg->data.result != CURLE_OK)
				q->err = kc_err_set(KC_ERR_NET, "cannot reach %s: %s", c->cfg->server,
				    curl_easy_strerror(msg->data.result));
			else
				q->err = 0;
			/* Retryable outcomes are redone below, one by one with backoff. */
			if (!(q->err != 0 && retryable_curl(msg->data.result)) &&
			    !(q->err == 0 && retryable_status(q->resp.status)))
				log_request(c, q->method, q->path, q->impersonate_user, &q->resp,
				    s->sent_id, q->err ? kc_err_msg() : NULL);
			else
				q->err = KC_ERR_GONE;	/* marker: retry */
			curl_multi_remove_handle(multi, s->easy);
			batch_release(s);
			active--;
		}
		if (active > 0 && running > 0)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if (reqs[i].err != KC_ERR_GONE)
			continue;
		kc_response_free(&reqs[i].resp);
		reqs[i].err = kc_client_request(c, reqs[i].method, reqs[i].path, NULL,
		    reqs[i].impersonate_user, reqs[i].body, reqs[i].body_len, &reqs[i].resp);
	}
out:
	if (slots != NULL) {
		for (int k = 0; k < parallel; k++) {
			if (slots[k].easy != NULL && multi != NULL)
				curl_multi_remove_handle(multi, slots[k].easy);
			batch_release(&slots[k]);
		}
	}
	if (multi != NULL)
		curl_multi_cleanup(multi);
	free(slots);
	kc_free_secret(token);
	return r;
}
