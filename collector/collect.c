/* collect.c - the collection run.
 *
 * What the server sent is written byte for byte, with one exception made
 * for the non-negotiable that secret values never enter a bundle: the
 * `kubectl.kubernetes.io/last-applied-configuration` annotation of secrets
 * and configmaps holds the whole object (values included) when it was
 * created with `kubectl apply`, so in metadata-only pages that annotation's
 * value is replaced by a marker with its SHA-256 and the page's original
 * SHA-256 is kept in the manifest (transform "redact-last-applied").
 * Pods and workload lists get the same annotation treatment and their
 * literal env[].value replaced by "sha256:<hex>" (collector/redact.h;
 * transform "redact-values").
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "collector/collect.h"
#include "collector/custom.h"
#include "collector/discovery.h"
#include "collector/redact.h"
#include "collector/snapshot.h"
#include "manifest/digest.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/jarena.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/timeutil.h"

#define META_ACCEPT "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
#define MAX_LIST_RESTARTS 3

static void
random_hex(char *out, size_t nbytes)
{
	unsigned char b[32];

	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	if (RAND_bytes(b, (int)nbytes) != 1)
		memset(b, 0, nbytes);
	kc_hex_encode(b, nbytes, out);
}

static int
uuid4(char out[37])
{
	unsigned char b[16];
	char h[33];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	kc_hex_encode(b, sizeof(b), h);
	return kc_fmt(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

int
kc_collect_add_file(struct kc_collect *co, const char *rel, const void *data, size_t len,
    const char *media_type, int derived, const char *const *sources)
{
	char *path = NULL, *dir = NULL, safe[256];
	int r;

	/* The one gate for every file collect writes: a path that could leave
	 * the staging folder, or not be a bundle member, is refused. */
	if (!kc_relpath_ok(rel))
		return kc_err_set(KC_ERR_INVALID, "refusing to write '%s': not a relative bundle path",
		    kc_safe_str(rel, safe, sizeof(safe)));
	if ((path = kc_path_join(co->staging, rel)) == NULL || (dir = kc_dirname(path)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kc_mkdir_p(dir, 0700)) != 0 ||
	    (r = kc_write_file_atomic(path, data, len, 0600)) != 0)
		goto out;
	r = kc_collect_note_file(co, rel, media_type, derived, sources);
out:
	free(path);
	free(dir);
	return r;
}

int
kc_collect_note_file(struct kc_collect *co, const char *rel, const char *media_type, int derived,
    const char *const *sources)
{
	cJSON *f, *src;

	if ((f = cJSON_CreateObject()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	cJSON_AddStringToObject(f, "path", rel);
	cJSON_AddStringToObject(f, "media_type", media_type);
	cJSON_AddBoolToObject(f, "derived", derived);
	if (sources != NULL) {
		src = cJSON_AddArrayToObject(f, "sources");
		for (; *sources != NULL; sources++)
			cJSON_AddItemToArray(src, cJSON_CreateString(*sources));
	}
	cJSON_AddItemToArray(co->files, f);
	return 0;
}

cJSON *
kc_collect_add_item(struct kc_collect *co, const char *name, const char *status, const char *detail)
{
	cJSON *it = cJSON_CreateObject();

	if (it == NULL)
		return NULL;
	cJSON_AddStringToObject(it, "name", name);
	cJSON_AddStringToObject(it, "status", status);
	if (detail != NULL)
		cJSON_AddStringToObject(it, "detail", detail);
	cJSON_AddItemToArray(co->items, it);
	if (strcmp(status, "complete") != 0 && strcmp(status, "skipped") != 0)
		co->partial = 1;
	return it;
}

int
kc_collect_check_name(struct kc_collect *co, enum kc_name_kind kind, const char *name)
{
	const char *why = kc_name_invalid(kind, name), *kind_s = kc_name_kind_str(kind);
	char comp[KC_NAME_COMPONENT_SIZE], hex[KC_SHA256_HEX], safe[257];
	cJSON *a, *it;
	int r;

	if (why == NULL)
		return 0;
	if (name == NULL)
		name = "";
	if ((r = kc_name_component(kind, name, comp)) < 0 ||
	    (r = kc_sha256_hex(name, strlen(name), hex)) != 0)
		return r;
	cJSON_ArrayForEach(it, co->anomalies) {
		cJSON *k = kc_json_get_mut(it, "kind");
		cJSON *h = kc_json_get_mut(it, "name_sha256");

		if (cJSON_IsString(k) && cJSON_IsString(h) && strcmp(k->valuestring, kind_s) == 0 &&
		    kc_digest_eq(h->valuestring, hex))
			return 1;	/* recorded already */
	}
	if (co->anomalies == NULL &&
	    (co->anomalies = cJSON_AddArrayToObject(co->manifest, "anomalies")) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((a = cJSON_CreateObject()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	kc_safe_str(name, safe, sizeof(safe));
	cJSON_AddStringToObject(a, "kind", kind_s);
	cJSON_AddStringToObject(a, "name", safe);
	cJSON_AddNumberToObject(a, "name_bytes", (double)strlen(name));
	cJSON_AddStringToObject(a, "name_sha256", hex);
	cJSON_AddStringToObject(a, "reason", why);
	cJSON_AddStringToObject(a, "stored_as", comp);
	cJSON_AddItemToArray(co->anomalies, a);
	co->partial = 1;
	kc_warn("%s name '%s' from the server is not valid (%s); stored as '%s'", kind_s, safe, why, comp);
	return 1;
}

static const char *
os_user(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw != NULL ? pw->pw_name : "unknown";
}

static int
self_sha256(char hex[KC_SHA256_HEX])
{
	if (kc_sha256_file("/proc/self/exe", hex, NULL) != 0) {
		memcpy(hex, "unknown", sizeof("unknown"));
		return -1;
	}
	return 0;
}

static void
manifest_skeleton(const struct kc_collect_opts *opts, struct kc_collect *co)
{
	cJSON *m = cJSON_CreateObject(), *cs, *col, *host;
	char hex[KC_SHA256_HEX], hn[256] = "unknown";
	struct utsname un;

	co->manifest = m;
	cJSON_AddStringToObject(m, "schema", "kcustody.bundle/v1");
	cJSON_AddNumberToObject(m, "schema_version", 1);
	cJSON_AddStringToObject(m, "bundle_id", co->bundle_id);
	cs = cJSON_AddObjectToObject(m, "case");
	cJSON_AddStringToObject(cs, "id", opts->case_id);
	if (opts->evidence_id != NULL) {
		cJSON_AddStringToObject(cs, "evidence_id", opts->evidence_id);
	} else {
		/* whole, however long the case id: a cut id could name another case */
		struct kc_buf evid = KC_BUF_INIT(1u << 20);

		if (kc_buf_addf(&evid, "%s-%s-%.8s", opts->case_id, opts->phase, co->bundle_id) == 0)
			cJSON_AddStringToObject(cs, "evidence_id", kc_buf_str(&evid));
		kc_buf_free(&evid);
	}
	cJSON_AddStringToObject(cs, "phase", opts->phase);
	cJSON_AddStringToObject(cs, "purpose", opts->purpose ? opts->purpose : "");
	cJSON_AddStringToObject(cs, "authority", opts->authority ? opts->authority : "");
	cJSON_AddStringToObject(cs, "operator", opts->operator_name ? opts->operator_name : os_user());
	col = cJSON_AddObjectToObject(m, "collector");
	cJSON_AddStringToObject(col, "tool", "kcustody");
	cJSON_AddStringToObject(col, "version", KC_VERSION);
	self_sha256(hex);
	cJSON_AddStringToObject(col, "executable_sha256", hex);
	gethostname(hn, sizeof(hn) - 1);
	cJSON_AddStringToObject(col, "host", hn);
	if (uname(&un) == 0) {
		host = cJSON_AddObjectToObject(col, "os");
		cJSON_AddStringToObject(host, "sysname", un.sysname);
		cJSON_AddStringToObject(host, "release", un.release);
		cJSON_AddStringToObject(host, "machine", un.machine);
	}
	cJSON_AddStringToObject(col, "os_user", os_user());
	cJSON_AddStringToObject(col, "run_id", co->run_id);
	cJSON_AddStringToObject(col, "curl", curl_version_info(CURLVERSION_NOW)->version);
	cJSON_AddStringToObject(col, "openssl", OpenSSL_version(OPENSSL_VERSION));
	co->items = cJSON_AddArrayToObject(m, "items");
	co->files = cJSON_AddArrayToObject(m, "files");
	co->warnings = cJSON_AddArrayToObject(m, "warnings");
}

/* Subject of the client certificate, when authenticating with one. */
static void
cert_identity(const struct kc_cluster_cfg *cfg, cJSON *ident)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	char buf[512];

	if (cfg->client_cert_data.len > 0)
		bio = BIO_new_mem_buf(cfg->client_cert_data.data, (int)cfg->client_cert_data.len);
	else if (cfg->client_cert_file != NULL)
		bio = BIO_new_file(cfg->client_cert_file, "r");
	if (bio == NULL)
		return;
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof(buf));
		cJSON_AddStringToObject(ident, "client_certificate_subject", buf);
		X509_NAME_oneline(X509_get_issuer_name(x), buf, sizeof(buf));
		cJSON_AddStringToObject(ident, "client_certificate_issuer", buf);
	}
	X509_free(x);
	BIO_free(bio);
}

static int
json_get(struct kc_collect *co, const char *path, const char *rel, const char *name,
    struct kc_response *resp)
{
	int r;

	if ((r = kc_client_request(co->client, "GET", path, NULL, NULL, NULL, 0, resp)) != 0)
		return r;
	if ((r = kc_response_error(resp, "GET", path)) != 0)
		return r;
	/* A string cut at a NUL would be read differently here and by kubectl
	 * or jq (the kube-system uid names the bundle's top folder). */
	if (kc_json_text_has_nul(resp->body.data, resp->body.len))
		return kc_err_set(KC_ERR_PARSE, KC_JSON_NUL_REFUSED, "GET", path);
	if (rel != NULL && (r = kc_collect_add_file(co, rel, resp->body.data, resp->body.len,
	    "application/json", 0, NULL)) != 0)
		return r;
	(void)name;
	return 0;
}

static int
collect_identity(struct kc_collect *co)
{
	struct kc_response resp;
	cJSON *cl, *doc, *ident, *v;
	time_t server_t;
	char tbuf[40];
	int r;

	cl = cJSON_AddObjectToObject(co->manifest, "cluster");
	cJSON_AddStringToObject(cl, "server", kc_client_server(co->client));
	cJSON_AddStringToObject(cl, "ca_sha256", kc_client_ca_sha256(co->client));
	cJSON_AddStringToObject(cl, "context", co->cfg->context_name ? co->cfg->context_name : "");
	cJSON_AddStringToObject(cl, "cluster_name", co->cfg->cluster_name ? co->cfg->cluster_name : "");
	cJSON_AddBoolToObject(cl, "tls_verified", !kc_client_insecure(co->client));
	if (kc_client_insecure(co->client))
		cJSON_AddItemToArray(co->warnings, cJSON_CreateString(
		    "TLS verification was disabled with --insecure (kubeconfig insecure-skip-tls-verify)"));

	/* /version first: it tells whether we can talk to the server at all. */
	r = json_get(co, "/version", "cluster/version.json", "version", &resp);
	if (r != 0 && r != KC_ERR_PARSE) {
		kc_response_free(&resp);
		return r;
	}
	cJSON_AddStringToObject(cl, "http_version", kc_client_http_version(co->client));
	if (r != 0) {
		/* The server answered, with a document we do not read: the
		 * collection goes on without its version, the item says why. */
		kc_collect_add_item(co, "cluster/version", "error", kc_err_msg());
	} else if ((doc = cJSON_ParseWithLength(resp.body.data, resp.body.len)) != NULL) {
		if (cJSON_IsString(v = kc_json_get_mut(doc, "gitVersion")))
			cJSON_AddStringToObject(cl, "version", v->valuestring);
		cJSON_Delete(doc);
	}
	if (resp.date[0] != '\0' && kc_parse_http_date(resp.date, &server_t) == 0) {
		/* HTTP dates have one-second resolution: the offset is +-1 s. */
		double local = (double)resp.local_ns / 1e9;
		cJSON *clk = cJSON_AddObjectToObject(cl, "clock");

		cJSON_AddStringToObject(clk, "server_date", kc_fmt_rfc3339(server_t, tbuf, sizeof(tbuf)));
		cJSON_AddStringToObject(clk, "local_time", kc_fmt_rfc3339_us(resp.local_ns, tbuf, sizeof(tbuf)));
		cJSON_AddNumberToObject(clk, "offset_seconds", (double)(long long)(((double)server_t - local) * 1000) / 1000.0);
		cJSON_AddNumberToObject(clk, "resolution_seconds", 1);
	}
	kc_response_free(&resp);
	if (r == 0)
		kc_collect_add_item(co, "cluster/version", "complete", NULL);

	r = json_get(co, "/api/v1/namespaces/kube-system", "cluster/kube-system-namespace.json",
	    "kube-system", &resp);
	if (r == 0 && (doc = cJSON_ParseWithLength(resp.body.data, resp.body.len)) != NULL) {
		cJSON *md = kc_json_get_mut(doc, "metadata");
		if (cJSON_IsString(v = kc_json_get_mut(md, "uid"))) {
			cJSON_AddStringToObject(cl, "kube_system_uid", v->valuestring);
			kc_fmt_trunc(co->cluster_name, sizeof(co->cluster_name), "%.8s", v->valuestring);
		}
		cJSON_Delete(doc);
		kc_collect_add_item(co, "cluster/kube-system-namespace", "complete", NULL);
	} else {
		kc_collect_add_item(co, "cluster/kube-system-namespace",
		    r == KC_ERR_FORBIDDEN ? "forbidden" : "error", kc_err_msg());
		if (r == KC_ERR_AUTH || r == KC_ERR_NET) {
			kc_response_free(&resp);
			return r;
		}
	}
	kc_response_free(&resp);

	ident = cJSON_AddObjectToObject(co->manifest, "collector_identity");
	cJSON_AddStringToObject(ident, "kubeconfig", co->cfg->source ? co->cfg->source : "");
	cJSON_AddStringToObject(ident, "user", co->cfg->user_name ? co->cfg->user_name : "");
	cJSON_AddStringToObject(ident, "auth_method", kc_client_auth_method(co->client));
	cert_identity(co->cfg, ident);
	return 0;
}

/* The collector's own view of itself: who the server says we are (where
 * SelfSubjectReview exists) and what we may do (a rules review). */
static void
collect_self(struct kc_collect *co)
{
	static const char *const ssr[] = {
		"/apis/authentication.k8s.io/v1/selfsubjectreviews",
		"/apis/authentication.k8s.io/v1beta1/selfsubjectreviews",
		"/apis/authentication.k8s.io/v1alpha1/selfsubjectreviews",
	};
	static const char *const ssr_ver[] = { "v1", "v1beta1", "v1alpha1" };
	struct kc_response resp;
	char body[512], *rbody;
	const char *ns = co->cfg->namespace ? co->cfg->namespace : "default";
	cJSON *rr, *spec;
	int done = 0, r;

	for (size_t i = 0; i < 3 && !done; i++) {
		if (kc_fmt(body, sizeof(body), "{\"apiVersion\":\"authentication.k8s.io/%s\","
		    "\"kind\":\"SelfSubjectReview\"}", ssr_ver[i]) != 0)
			break;
		if (kc_client_request(co->client, "POST", ssr[i], NULL, NULL, body, strlen(body), &resp) == 0 &&
		    resp.status == 201) {
			kc_collect_add_file(co, "cluster/collector-selfsubjectreview.json",
			    resp.body.data, resp.body.len, "application/json", 0, NULL);
			kc_collect_add_item(co, "collector/selfsubjectreview", "complete", NULL);
			done = 1;
		}
		kc_response_free(&resp);
	}
	if (!done)
		kc_collect_add_item(co, "collector/selfsubjectreview", "skipped",
		    "the server offers no SelfSubjectReview API (Kubernetes < 1.26 or disabled); "
		    "identity is taken from the kubeconfig credentials");

	/* the namespace comes from the kubeconfig: encoded by cJSON, never
	 * pasted into the JSON text */
	if ((rr = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(rr, "apiVersion", "authorization.k8s.io/v1") == NULL ||
	    cJSON_AddStringToObject(rr, "kind", "SelfSubjectRulesReview") == NULL ||
	    (spec = cJSON_AddObjectToObject(rr, "spec")) == NULL ||
	    cJSON_AddStringToObject(spec, "namespace", ns) == NULL ||
	    (rbody = cJSON_PrintUnformatted(rr)) == NULL) {
		cJSON_Delete(rr);
		kc_collect_add_item(co, "collector/rules-review", "error", "out of memory");
		return;
	}
	cJSON_Delete(rr);
	r = kc_client_request(co->client, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
	    NULL, NULL, rbody, strlen(rbody), &resp);
	free(rbody);
	if (r == 0 && resp.status == 201) {
		kc_collect_add_file(co, "cluster/collector-rules-review.json", resp.body.data, resp.body.len,
		    "application/json", 0, NULL);
		kc_collect_add_item(co, "collector/rules-review", "complete", ns);
	} else {
		kc_collect_add_item(co, "collector/rules-review", "error",
		    resp.status ? "the server refused the collector's own rules review" : kc_err_msg());
	}
	kc_response_free(&resp);
}

_Static_assert(KC_RES_COUNT <= KC_LIST_PROGRESS_MAX, "kc_list_progress holds every snapshot list");

int
kc_list_progress_init(struct kc_list_progress *p)
{
	memset(p, 0, sizeof(*p));
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		return kc_err_set(KC_ERR_NOMEM, "cannot set up the lists' progress");
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		return kc_err_set(KC_ERR_NOMEM, "cannot set up the lists' progress");
	}
	return 0;
}

void
kc_list_progress_destroy(struct kc_list_progress *p)
{
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}

void
kc_list_progress_page(struct kc_list_progress *p, int res, int page)
{
	if (p == NULL || res < 0 || res >= KC_LIST_PROGRESS_MAX)
		return;
	pthread_mutex_lock(&p->mu);
	p->pages[res] = page;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void
kc_list_progress_restart(struct kc_list_progress *p, int res)
{
	if (p == NULL || res < 0 || res >= KC_LIST_PROGRESS_MAX)
		return;
	pthread_mutex_lock(&p->mu);
	p->gen[res]++;
	p->pages[res] = 0;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void
kc_list_progress_end(struct kc_list_progress *p, int res, int ok)
{
	if (p == NULL || res < 0 || res >= KC_LIST_PROGRESS_MAX)
		return;
	pthread_mutex_lock(&p->mu);
	if (p->state[res] == KC_LIST_PENDING)
		p->state[res] = ok ? KC_LIST_DONE : KC_LIST_ABSENT;
	if (!ok)
		p->pages[res] = 0;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void
kc_list_progress_close(struct kc_list_progress *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < KC_LIST_PROGRESS_MAX; i++)
		if (p->state[i] == KC_LIST_PENDING) {
			p->state[i] = KC_LIST_ABSENT;
			p->pages[i] = 0;
		}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void
kc_list_progress_wake(struct kc_list_progress *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void
remove_pages(struct kc_collect *co, const char *res, int npages)
{
	char rel[256];
	int cnt = cJSON_GetArraySize(co->files);

	for (int p = 1; p <= npages; p++) {
		char *path;
		if (kc_fmt(rel, sizeof(rel), "raw/%s/page-%04d.json", res, p) != 0)
			continue;	/* never written under a longer name either */
		if ((path = kc_path_join(co->staging, rel)) != NULL)
			unlink(path);
		free(path);
		for (int i = cnt - 1; i >= 0; i--) {
			cJSON *f = cJSON_GetArrayItem(co->files, i);
			cJSON *pp = kc_json_get_mut(f, "path");
			if (cJSON_IsString(pp) && strcmp(pp->valuestring, rel) == 0) {
				cJSON_DeleteItemFromArray(co->files, i);
				cnt--;
				break;
			}
		}
	}
}

/* Every string value in j overwritten (the values of a full Secret list a
 * server sent where metadata was asked for). */
static void
wipe_strings(cJSON *j)
{
	for (; j != NULL; j = j->next) {
		if (cJSON_IsString(j) && j->valuestring != NULL)
			OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
		wipe_strings(j->child);
	}
}

static int
list_resource(struct kc_collect *co, const struct kc_collect_opts *opts, int idx, const int *stop,
    struct kc_jarena *scratch)
{
	const struct kc_snap_resource_def *def = &kc_snap_resources[idx];
	char name[128], rel[256], *cont = NULL, *path = NULL;
	int page = 0, restarts = 0, r = 0, done = 0;
	long long items = 0, redacted = 0, redacted_env = 0;
	const char *lpath = def->path;	/* the fallback after a 404 */
	int64_t t0;
	char rv[128] = "";
	struct kc_response resp;
	cJSON *it, *doc = NULL;
	const char *status = "complete";
	char detail[1024] = "";

	if ((r = kc_fmt(name, sizeof(name), "list/%s", def->name)) != 0)
		return r;
	memset(&resp, 0, sizeof(resp));
	t0 = kc_mono_ns();
	for (;;) {
		CURL *esc = NULL;
		char *enc = NULL;
		cJSON *md, *v, *kind;
		int nred = 0;
		long long nenv = 0;

		free(path);
		path = NULL;
		if (stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED)) {
			/* another list failed and ends the run: nothing of this
			 * one is kept */
			r = kc_err_set(KC_ERR_INVALID, "not finished: another list failed");
			break;
		}
		if (cont != NULL) {
			if ((esc = curl_easy_init()) != NULL)
				enc = curl_easy_escape(esc, cont, 0);
			if (enc == NULL) {
				curl_easy_cleanup(esc);
				r = kc_err_set(KC_ERR_NOMEM, "out of memory");
				break;
			}
		}
		if (asprintf(&path, "%s?limit=%d%s%s", lpath, opts->page_size,
		    enc ? "&continue=" : "", enc ? enc : "") < 0)
			path = NULL;
		curl_free(enc);
		curl_easy_cleanup(esc);
		if (path == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			break;
		}
		kc_response_free(&resp);
		r = kc_client_request(co->client, "GET", path,
		    def->metadata_only ? META_ACCEPT : "application/json", NULL, NULL, 0, &resp);
		if (r != 0)
			break;
		if (resp.status == 410 && restarts < MAX_LIST_RESTARTS) {
			/* The continue token expired: start the list over. */
			kc_info("%s: continue token expired (410 Gone), restarting the list", def->name);
			kc_list_progress_restart(opts->progress, idx);	/* before a page goes */
			remove_pages(co, def->name, page);
			page = 0;
			items = redacted = redacted_env = 0;
			restarts++;
			free(cont);
			cont = NULL;
			rv[0] = '\0';
			continue;
		}
		if (resp.status == 404 && page == 0 && def->fallback != NULL && lpath != def->fallback) {
			/* an older server serves this list at an older version only */
			kc_info("%s: %s not served (404), trying %s", def->name, def->path, def->fallback);
			lpath = def->fallback;
			continue;
		}
		if ((r = kc_response_error(&resp, "GET", path)) != 0)
			break;
		/* into the stream's scratch arena (one bump a node, nothing to
		 * free but what redaction adds: issue 11, the lists' malloc and
		 * free were a third of their CPU), reset after the page */
		if ((doc = kc_jarena_parse(scratch, resp.body.data, resp.body.len)) == NULL) {
			r = kc_err_set(KC_ERR_PARSE, "GET %s: the server's answer is not JSON", path);
			break;
		}
		if (kc_json_text_has_nul(resp.body.data, resp.body.len)) {
			r = kc_err_set(KC_ERR_PARSE, KC_JSON_NUL_REFUSED, "GET", path);
			break;
		}
		kind = kc_json_get_mut(doc, "kind");
		if (def->metadata_only && (!cJSON_IsString(kind) ||
		    strcmp(kind->valuestring, "PartialObjectMetadataList") != 0)) {
			/* Never store a full object list of secrets: wipe it, and
			 * its parsed strings (the scratch arena keeps its blocks). */
			OPENSSL_cleanse(resp.body.data, resp.body.len);
			wipe_strings(doc);
			r = kc_err_set(KC_ERR_HTTP, "GET %s: the server did not return metadata only "
			    "(kind %s); the list was discarded so that no value is stored", path,
			    cJSON_IsString(kind) ? kind->valuestring : "?");
			break;
		}
		page++;
		if ((r = kc_fmt(rel, sizeof(rel), "raw/%s/page-%04d.json", def->name, page)) != 0)
			break;
		/* Metadata-only lists, pods and workloads: last-applied annotations
		 * replaced; pods and workloads: literal env values too. */
		if (def->metadata_only || kc_redact_env_list((enum kc_snap_res)idx))
			nred = kc_redact_last_applied(doc);
		nenv = kc_redact_env_values(doc, (enum kc_snap_res)idx);
		if (nred > 0 || nenv > 0) {
			char *out = cJSON_PrintUnformatted(doc);
			char hex[KC_SHA256_HEX];
			cJSON *f;

			kc_sha256_hex(resp.body.data, resp.body.len, hex);
			OPENSSL_cleanse(resp.body.data, resp.body.len);
			if (out == NULL) {
				r = kc_err_set(KC_ERR_NOMEM, "out of memory");
				break;
			}
			r = kc_collect_add_file(co, rel, out, strlen(out), "application/json", 0, NULL);
			OPENSSL_cleanse(out, strlen(out));
			free(out);
			if (r != 0)
				break;
			f = cJSON_GetArrayItem(co->files, cJSON_GetArraySize(co->files) - 1);
			/* metadata-only pages keep their transform name (bundles
			 * before env redaction read the same) */
			cJSON_AddStringToObject(f, "transform", def->metadata_only ?
			    "redact-last-applied" : "redact-values");
			cJSON_AddStringToObject(f, "original_sha256", hex);
			if (nred > 0 || def->metadata_only)
				cJSON_AddNumberToObject(f, "redacted_annotations", nred);
			if (nenv > 0)
				cJSON_AddNumberToObject(f, "redacted_env_values", (double)nenv);
			redacted += nred;
			redacted_env += nenv;
		} else if ((r = kc_collect_add_file(co, rel, resp.body.data, resp.body.len,
		    "application/json", 0, NULL)) != 0) {
			break;
		}
		kc_list_progress_page(opts->progress, idx, page);	/* written whole */
		items += cJSON_GetArraySize(kc_json_get(doc, "items"));
		md = kc_json_get_mut(doc, "metadata");
		if (page == 1 && cJSON_IsString(v = kc_json_get_mut(md, "resourceVersion")) &&
		    (r = kc_fmt(rv, sizeof(rv), "%s", v->valuestring)) != 0)
			break;	/* recorded whole or not at all */
		free(cont);
		cont = NULL;
		v = kc_json_get_mut(md, "continue");
		if (cJSON_IsString(v) && v->valuestring[0] != '\0')
			cont = kc_strdup(v->valuestring);
		cJSON_Delete(doc);	/* the heap nodes redaction added */
		doc = NULL;
		kc_jarena_reset(scratch);
		if (cont == NULL)
			break;
	}
	cJSON_Delete(doc);
	kc_jarena_reset(scratch);
	if (r != 0) {
		size_t dl;

		kc_fmt_trunc(detail, sizeof(detail), "%s", kc_err_msg());
		for (dl = strlen(detail); dl > 0 && detail[dl - 1] == ' '; dl--)
			detail[dl - 1] = '\0';	/* curl's messages may end in a space */
		status = r == KC_ERR_FORBIDDEN ? "forbidden" : "error";
		kc_list_progress_end(opts->progress, idx, 0);	/* before a page goes */
		remove_pages(co, def->name, page);
		done = page;
		page = 0;
	}
	if (r == 0)
		kc_list_progress_end(opts->progress, idx, 1);
	/* progress on a terminal (kc_info is shown there, quiet otherwise) */
	{
		double secs = (double)(kc_mono_ns() - t0) / 1e9;

		if (r == 0)
			kc_info("%-28s %lld items, %d page%s in %.2f s (%.0f items/s)", name, items, page,
			    page == 1 ? "" : "s", secs, secs > 0 ? (double)items / secs : 0.0);
		else
			kc_info("%-28s %s", name, status);
	}
	it = kc_collect_add_item(co, name, status, detail[0] ? detail : NULL);
	cJSON_AddStringToObject(it, "path", lpath);
	if (lpath != def->path)
		cJSON_AddStringToObject(it, "not_served", def->path);
	if (r == 0) {
		cJSON_AddStringToObject(it, "resource_version", rv);
		cJSON_AddNumberToObject(it, "pages", page);
		cJSON_AddNumberToObject(it, "count", (double)items);
		cJSON_AddBoolToObject(it, "metadata_only", def->metadata_only);
		if (redacted > 0)
			cJSON_AddNumberToObject(it, "redacted_annotations", (double)redacted);
		if (redacted_env > 0)
			cJSON_AddNumberToObject(it, "redacted_env_values", (double)redacted_env);
	}
	if (restarts > 0)
		cJSON_AddNumberToObject(it, "restarts_after_410", restarts);
	if (resp.status != 0)
		cJSON_AddNumberToObject(it, "http_status", (double)resp.status);
	kc_response_free(&resp);
	free(cont);
	free(path);
	/* Transport and credential failures end the run; a refusal does not.
	 * The message names the list and how far it got: the operator sees
	 * which item failed even though nothing is written. */
	if (r == KC_ERR_NET || r == KC_ERR_AUTH || r == KC_ERR_NOMEM || r == KC_ERR_IO)
		return kc_err_set(r, "%s: %s (failed after %d page%s of this list)", name, detail,
		    done, done == 1 ? "" : "s");
	return 0;
}

/* The lists run on opts->list_streams connections at once (a client fork
 * each, on a thread each), each stream taking the next list not yet taken
 * (KC_SNAPSHOT_RESOURCES order) and fetching its pages one after the
 * other: the server works on the pods' pages while another stream takes
 * the RBAC kinds, the accounts and the workloads (issue 11: one list after
 * the other left the lists step waiting on one request at a time).  What a
 * list adds to the manifest (its files, its item, its requests) is kept
 * apart and added in list order at the end, so the manifest reads as when
 * the lists ran one after the other: only the Audit-IDs' numbers (one
 * counter for the run) and the durations show the overlap.  A failure
 * that ends the run (transport, credentials, memory, disk) stops the
 * other stream before its next request; the error of the first such list
 * in list order is returned, as one after the other would have.  After
 * the lists comes one more task, taken the same way: the discovery
 * documents, then the CRDs and custom resources (kc_collect_discovery,
 * kc_collect_custom), which no list needs; a stream done with its lists
 * takes it while another still has the pods' pages to fetch (issue 11:
 * its 40 requests one after the other were 60 ms after the lists at 10k
 * objects).  What it adds goes into the manifest after every list's, as
 * before; its failure, when no list failed, is the run's. */
#define DISCOVERY_TASK KC_RES_COUNT

struct list_result {
	cJSON *files, *items, *log;
	int partial;
	int failed;		/* list_resource's error, which ends the run */
	struct kc_err_saved err;
};

struct list_stream {
	struct kc_collect *co;
	const struct kc_collect_opts *opts;
	struct kc_client *client;	/* a fork of co->client */
	struct kc_jarena *scratch;	/* its pages are parsed into (NULL: the heap) */
	struct list_result *res;	/* [DISCOVERY_TASK + 1] */
	int *next, *stop;		/* shared by the streams */
};

static void *
list_stream_run(void *arg)
{
	struct list_stream *ls = arg;
	cJSON *log = kc_client_request_log(ls->client);

	for (;;) {
		int i = __atomic_fetch_add(ls->next, 1, __ATOMIC_RELAXED), r;
		struct list_result *lr;
		struct kc_collect sh;
		cJSON *before;

		if (i > DISCOVERY_TASK || __atomic_load_n(ls->stop, __ATOMIC_RELAXED))
			break;
		lr = &ls->res[i];
		/* the list writes into the staging folder as collect does, and
		 * notes what it adds in its own arrays */
		sh = *ls->co;
		sh.client = ls->client;
		sh.files = lr->files;
		sh.items = lr->items;
		sh.partial = 0;
		before = log->child != NULL ? log->child->prev : NULL;	/* the log's last entry */
		if (i == DISCOVERY_TASK) {
			if ((r = kc_collect_discovery(&sh)) == 0)
				r = kc_collect_custom(&sh, ls->opts);
		} else {
			r = list_resource(&sh, ls->opts, i, ls->stop, ls->scratch);
		}
		lr->partial = sh.partial;
		/* the list's requests: those logged after `before` */
		if (before == NULL)
			kc_json_move_elems(lr->log, log, NULL);
		else if (before->next != NULL)
			kc_json_move_elems(lr->log, log, before->next);
		if (r != 0) {
			kc_err_save(&lr->err);
			lr->failed = 1;
			/* a list's failure stops the others; the discovery's does
			 * not (it came after the lists: they decide first) */
			if (i != DISCOVERY_TASK)
				__atomic_store_n(ls->stop, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	return NULL;
}

static int
collect_lists(struct kc_collect *co, const struct kc_collect_opts *opts)
{
	struct list_result res[DISCOVERY_TASK + 1];	/* the lists', then the discovery's */
	struct list_stream ls[KC_LIST_STREAMS_MAX];
	pthread_t th[KC_LIST_STREAMS_MAX];
	int started[KC_LIST_STREAMS_MAX] = { 0 };
	int next = 0, stop = 0, r = 0, n, want;

	memset(res, 0, sizeof(res));
	memset(ls, 0, sizeof(ls));
	for (int i = 0; i <= DISCOVERY_TASK; i++)
		if ((res[i].files = cJSON_CreateArray()) == NULL || (res[i].items = cJSON_CreateArray()) == NULL ||
		    (res[i].log = cJSON_CreateArray()) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
	want = opts->list_streams < 1 ? 1 : opts->list_streams > KC_LIST_STREAMS_MAX ?
	    KC_LIST_STREAMS_MAX : opts->list_streams;
	for (n = 0; n < want; n++) {
		ls[n].co = co;
		ls[n].opts = opts;
		ls[n].res = res;
		ls[n].next = &next;
		ls[n].stop = &stop;
		ls[n].scratch = kc_jarena_new();	/* none: the heap */
		/* stream 0 is the run's own client and connection; each other
		 * one a fork */
		if (n == 0) {
			ls[n].client = co->client;
		} else if (kc_client_fork(co->client, &ls[n].client) != 0) {
			kc_warn("lists: %d of %d streams (a connection could not be set up: %s)", n, want,
			    kc_err_msg());
			break;	/* fewer streams, not no lists */
		}
	}
	/* stream 0 runs on this thread; one that cannot be started leaves its
	 * lists to the others */
	for (int k = 1; k < n; k++)
		if (!(started[k] = pthread_create(&th[k], NULL, list_stream_run, &ls[k]) == 0))
			kc_warn("lists: stream %d of %d not started (no thread); the others take its lists",
			    k + 1, n);
	list_stream_run(&ls[0]);
	for (int k = 1; k < n; k++)
		if (started[k])
			pthread_join(th[k], NULL);
	/* a list no stream took (the run stopped) has no page: its follower
	 * stops waiting */
	kc_list_progress_close(opts->progress);
	/* Everything a list added, in list order, then the discovery's, on
	 * failure too: every request sent is in the request log, as one after
	 * the other. */
	for (int i = 0; i <= DISCOVERY_TASK; i++) {
		kc_json_move_elems(co->files, res[i].files, NULL);
		kc_json_move_elems(co->items, res[i].items, NULL);
		kc_json_move_elems(kc_client_request_log(co->client), res[i].log, NULL);
		co->partial |= res[i].partial;
	}
	/* The first failed list's code; every failed list's message, in list
	 * order (a server that dies fails the list of each stream). */
	{
		char also[512] = "";
		size_t al = 0;
		int first = -1;

		for (int i = 0; i < KC_RES_COUNT; i++) {
			if (!res[i].failed)
				continue;
			if (first < 0)
				first = i;
			else
				al += kc_fmt_trunc(also + al, sizeof(also) - al, "%slist/%s", al ? ", " : "",
				    kc_snap_resources[i].name);
			if (al >= sizeof(also))
				al = sizeof(also) - 1;
		}
		if (first >= 0) {
			/* the names first, so no message cuts them off */
			char msg[sizeof(res[0].err.msg)];

			kc_fmt_trunc(msg, sizeof(msg), "%s", res[first].err.msg);
			r = also[0] != '\0' ? kc_err_set(res[first].err.code ? res[first].err.code : KC_ERR_NET,
			    "%s failed too; %s", also, msg) : kc_err_restore(&res[first].err, KC_ERR_NET);
		} else if (res[DISCOVERY_TASK].failed) {
			/* every list complete: the discovery's failure, as when
			 * it came after them */
			r = kc_err_restore(&res[DISCOVERY_TASK].err, KC_ERR_NET);
		}
	}
out:
	kc_list_progress_close(opts->progress);	/* idempotent */
	for (int k = 0; k < KC_LIST_STREAMS_MAX; k++) {
		if (ls[k].client != co->client)
			kc_client_free(ls[k].client);
		kc_jarena_free(ls[k].scratch);
	}
	for (int i = 0; i <= DISCOVERY_TASK; i++) {
		cJSON_Delete(res[i].files);
		cJSON_Delete(res[i].items);
		cJSON_Delete(res[i].log);
	}
	return r;
}

int
kc_collect_run(const struct kc_collect_opts *opts, const char *staging, struct kc_collect *co)
{
	struct kc_client_opts copts;
	char tbuf[40];
	cJSON *times;
	int r;

	memset(co, 0, sizeof(*co));
	co->started_ns = kc_now_ns();
	if ((r = kc_fmt(co->run_id, sizeof(co->run_id), "kc-")) != 0 || (r = uuid4(co->bundle_id)) != 0)
		return r;
	random_hex(co->run_id + 3, 8);
	if ((co->staging = kc_strdup(staging)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	manifest_skeleton(opts, co);
	if (co->manifest == NULL || co->items == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	times = cJSON_AddObjectToObject(co->manifest, "times");
	cJSON_AddStringToObject(times, "started", kc_fmt_rfc3339_us(co->started_ns, tbuf, sizeof(tbuf)));

	if ((r = kc_kubeconfig_load(&opts->kube, &co->cfg)) != 0)
		return r == KC_ERR_IO ? KC_ERR_CONFIG : r;	/* an unreadable kubeconfig is configuration */
	memset(&copts, 0, sizeof(copts));
	copts.allow_insecure = opts->allow_insecure;
	copts.run_id = co->run_id;
	copts.max_retries = opts->max_retries;
	copts.backoff_ms = opts->backoff_ms;
	copts.max_response = opts->max_response;
	if ((r = kc_client_new(co->cfg, &copts, &co->client)) != 0)
		return r;
	if ((r = collect_identity(co)) != 0)
		return r;
	collect_self(co);
	/* the lists, and the discovery and custom resources beside them */
	return collect_lists(co, opts);
}

void
kc_collect_finish(struct kc_collect *co)
{
	cJSON *times = kc_json_get_mut(co->manifest, "times");
	char tbuf[40];

	co->finished_ns = kc_now_ns();
	cJSON_AddStringToObject(times, "finished", kc_fmt_rfc3339_us(co->finished_ns, tbuf, sizeof(tbuf)));
	if (co->client != NULL)
		cJSON_AddItemReferenceToObject(co->manifest, "requests", kc_client_request_log(co->client));
	cJSON_AddStringToObject(co->manifest, "status", co->partial ? "partial" : "complete");
}

void
kc_collect_free(struct kc_collect *co)
{
	cJSON_Delete(co->manifest);
	kc_client_free(co->client);
	kc_cluster_cfg_free(co->cfg);
	free(co->staging);
	memset(co, 0, sizeof(*co));
}
