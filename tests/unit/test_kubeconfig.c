/* test_kubeconfig.c - kubeconfig loading and exec credential plugins.
 *
 * Fixtures are in tests/unit/data/kubeconfig; variants that only differ in
 * one line are written into the test's work folder.  The exec tests run a
 * real plugin (exec-plugin.sh), the way kubectl runs one.  Every positive
 * test has a negative twin.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "collector/kubeconfig.h"
#include "harness.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

/* Environment changes made by a test, undone by env_restore(). */
static struct {
	char name[64];
	char *value;	/* NULL: was unset */
} saved_env[16];
static int nsaved_env;

static void
env_put(const char *name, const char *value)
{
	int i;

	for (i = 0; i < nsaved_env; i++) {
		if (strcmp(saved_env[i].name, name) == 0)
			break;
	}
	if (i == nsaved_env && nsaved_env < (int)(sizeof(saved_env) / sizeof(saved_env[0]))) {
		const char *old = getenv(name);

		snprintf(saved_env[i].name, sizeof(saved_env[i].name), "%s", name);
		saved_env[i].value = old ? strdup(old) : NULL;
		nsaved_env++;
	}
	if (value != NULL)
		setenv(name, value, 1);
	else
		unsetenv(name);
}

static void
env_restore(void)
{
	while (nsaved_env > 0) {
		nsaved_env--;
		if (saved_env[nsaved_env].value != NULL)
			setenv(saved_env[nsaved_env].name, saved_env[nsaved_env].value, 1);
		else
			unsetenv(saved_env[nsaved_env].name);
		free(saved_env[nsaved_env].value);
	}
}

/* No ambient configuration leaks into a test. */
static void
env_clean(void)
{
	env_put("KUBECONFIG", NULL);
	env_put("KUBERNETES_SERVICE_HOST", NULL);
	env_put("KUBERNETES_SERVICE_PORT", NULL);
	env_put("POD_NAMESPACE", NULL);
}

/* printf into one of a few static buffers (enough for a CHECK_STR). */
static const char *
strf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *
strf(const char *fmt, ...)
{
	static char buf[4][3 * PATH_MAX];
	static int next;
	char *p = buf[next++ % 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p, sizeof(buf[0]), fmt, ap);
	va_end(ap);
	return p;
}

static const char *
fixture(const char *name)
{
	static char path[4][PATH_MAX];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, PATH_MAX, "%s/kubeconfig/%s", kc_test_data(), name);
	return p;
}

static int
load(const char *file, const char *context, struct kc_cluster_cfg **cfg)
{
	struct kc_kubeconfig_opts o = { file, context, 0, NULL };

	*cfg = NULL;
	kc_err_clear();
	return kc_kubeconfig_load(&o, cfg);
}

static void
write_text(const char *path, const char *text)
{
	CHECK_INT(kc_write_file_atomic(path, text, strlen(text), 0600), 0);
}

/* Expect loading file (with context) to fail with code and message. */
#define CHECK_LOAD_ERR(file, ctx, code, msg) do { \
	struct kc_cluster_cfg *c_ = NULL; \
	CHECK_INT(load((file), (ctx), &c_), (code)); \
	CHECK(c_ == NULL); \
	CHECK_STR(kc_err_msg(), (msg)); \
	kc_cluster_cfg_free(c_); \
} while (0)

static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\nprod CA\n-----END CERTIFICATE-----\n";
static const char crt_pem[] = "-----BEGIN CERTIFICATE-----\nprod client\n-----END CERTIFICATE-----\n";
static const char key_pem[] = "-----BEGIN PRIVATE KEY-----\nprod key1\n-----END PRIVATE KEY-----\n";

/* The dev context of basic.yaml / basic.json: paths resolved. */
static void
check_basic_dev(const struct kc_cluster_cfg *c, const char *file)
{
	const char *want;

	CHECK_STR(c->source, file);
	CHECK_STR(c->context_name, "dev");
	CHECK_STR(c->cluster_name, "dev-cluster");
	CHECK_STR(c->user_name, "dev-user");
	CHECK_STR(c->namespace, "agents");
	CHECK_STR(c->server, "https://dev.example:6443");
	CHECK_STR(c->tls_server_name, "api.dev.example");
	CHECK_STR(c->proxy_url, "http://proxy.example:3128");
	CHECK_INT(c->insecure_skip_tls_verify, 0);
	want = strf("%s/kubeconfig/certs/ca.crt", kc_test_data());
	CHECK_STR(c->ca_file, want);
	want = strf("%s/kubeconfig/certs/client.crt", kc_test_data());
	CHECK_STR(c->client_cert_file, want);
	want = strf("%s/kubeconfig/certs/client.key", kc_test_data());
	CHECK_STR(c->client_key_file, want);
	CHECK_INT(c->ca_data.len, 0);
	CHECK(c->token == NULL);
	CHECK(c->token_file == NULL);
	CHECK(c->exec == NULL);
	CHECK(c->unsupported_auth == NULL);
}

/* The prod context: inline data decoded to the known bytes. */
static void
check_basic_prod(const struct kc_cluster_cfg *c)
{
	CHECK_STR(c->context_name, "prod");
	CHECK_STR(c->namespace, "default");
	CHECK_STR(c->server, "https://[2001:db8::1]:443/prefix");
	CHECK(c->ca_file == NULL);
	CHECK_INT(c->ca_data.len, sizeof(ca_pem) - 1);
	CHECK(memcmp(c->ca_data.data, ca_pem, sizeof(ca_pem) - 1) == 0);
	CHECK_INT(c->client_cert_data.len, sizeof(crt_pem) - 1);
	CHECK(memcmp(c->client_cert_data.data, crt_pem, sizeof(crt_pem) - 1) == 0);
	CHECK_INT(c->client_key_data.len, sizeof(key_pem) - 1);
	CHECK(memcmp(c->client_key_data.data, key_pem, sizeof(key_pem) - 1) == 0);
	CHECK_STR(c->token, "prod-token-123");
	CHECK(c->client_cert_file == NULL);
}

DEFINE_TEST(test_kubeconfig_yaml_current_context)
{
	struct kc_cluster_cfg *c;
	const char *f = fixture("basic.yaml");

	env_clean();
	CHECK_INT(load(f, NULL, &c), 0);
	if (c != NULL)
		check_basic_dev(c, f);
	kc_cluster_cfg_free(c);
	/* negative twin: a current-context that names no context */
	write_text("gone.yaml", "current-context: gone\nclusters:\n- name: k\n  cluster: {server: https://k}\n"
	    "contexts:\n- name: c\n  context: {cluster: k}\n");
	CHECK_LOAD_ERR("gone.yaml", NULL, KC_ERR_CONFIG,
	    "context 'gone' not found in kubeconfig 'gone.yaml'");
	env_restore();
}

DEFINE_TEST(test_kubeconfig_yaml_context_flag)
{
	struct kc_cluster_cfg *c;

	env_clean();
	CHECK_INT(load(fixture("basic.yaml"), "prod", &c), 0);
	if (c != NULL)
		check_basic_prod(c);
	kc_cluster_cfg_free(c);
	/* negative twin: a context that is not there */
	CHECK_LOAD_ERR(fixture("basic.yaml"), "staging", KC_ERR_CONFIG,
	    strf("context 'staging' not found in kubeconfig '%s'", fixture("basic.yaml")));
	env_restore();
}

DEFINE_TEST(test_kubeconfig_json_same_as_yaml)
{
	struct kc_cluster_cfg *c;
	const char *f = fixture("basic.json");
	const char *want;

	env_clean();
	CHECK_INT(load(f, NULL, &c), 0);
	if (c != NULL)
		check_basic_dev(c, f);
	kc_cluster_cfg_free(c);
	CHECK_INT(load(f, "prod", &c), 0);
	if (c != NULL)
		check_basic_prod(c);
	kc_cluster_cfg_free(c);
	/* negative twin: JSON with a syntax error names line and column */
	write_text("broken.json", "{\n  \"apiVersion\": \"v1\",\n  \"clusters\": [\n    {\"name\": \"k\"}\n  }\n}\n");
	CHECK_INT(load("broken.json", NULL, &c), KC_ERR_CONFIG);
	want = strf("kubeconfig 'broken.json' line 5 column 3: "
	    "did not find expected ',' or ']'");
	CHECK_STR(kc_err_msg(), want);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_relative_paths)
{
	struct kc_cluster_cfg *c;
	char dir[PATH_MAX];
	const char *want;

	env_clean();
	/* A relative --kubeconfig: paths resolve against its (absolute) folder. */
	CHECK_INT(kc_mkdir_p("sub/certs", 0700), 0);
	write_text("sub/certs/ca.crt", "ca\n");
	write_text("sub/kc.yaml",
	    "clusters:\n- name: k\n  cluster:\n    server: https://k:6443\n"
	    "    certificate-authority: certs/ca.crt\n"
	    "users:\n- name: u\n  user:\n    tokenFile: ../token\n"
	    "contexts:\n- name: c\n  context: {cluster: k, user: u}\ncurrent-context: c\n");
	CHECK(getcwd(dir, sizeof(dir)) != NULL);
	CHECK_INT(load("sub/kc.yaml", NULL, &c), 0);
	if (c != NULL) {
		want = strf("%s/sub/certs/ca.crt", dir);
		CHECK_STR(c->ca_file, want);
		want = strf("%s/token", dir);
		CHECK_STR(c->token_file, want);
		CHECK_STR(c->source, "sub/kc.yaml");
	}
	kc_cluster_cfg_free(c);
	/* negative twin: the CA is looked for next to the file, not in the cwd */
	CHECK_INT(kc_mkdir_p("certs", 0700), 0);
	write_text("certs/ca.crt", "ca\n");
	CHECK_INT(unlink("sub/certs/ca.crt"), 0);
	CHECK_INT(load("sub/kc.yaml", NULL, &c), KC_ERR_CONFIG);
	want = strf("cannot read certificate-authority '%s/sub/certs/ca.crt' "
	    "of cluster 'k': No such file or directory", dir);
	CHECK_STR(kc_err_msg(), want);
	env_restore();
}

static void
merge_env(const char *order)
{
	char list[4 * PATH_MAX];
	size_t o = 0;

	list[0] = '\0';
	for (const char *p = order; *p; p++) {
		char name[32];

		snprintf(name, sizeof(name), "merge/%c/config", *p);
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ":" : "", fixture(name));
	}
	env_put("KUBECONFIG", list);
}

DEFINE_TEST(test_kubeconfig_merge_first_wins)
{
	struct kc_cluster_cfg *c;
	const char *want;

	env_clean();
	merge_env("cab");
	/* c sets no current-context; a is the first that does */
	CHECK_INT(load(NULL, NULL, &c), 0);
	if (c != NULL) {
		CHECK_STR(c->context_name, "ctx-a");
		CHECK_STR(c->server, "https://a.example:6443");
		CHECK_STR(c->token, "token-a");
		want = strf("%s:%s:%s", fixture("merge/c/config"),
		    fixture("merge/a/config"), fixture("merge/b/config"));
		CHECK_STR(c->source, want);
	}
	kc_cluster_cfg_free(c);
	/* 'shared' is in a and b: a's context, cluster and user win */
	CHECK_INT(load(NULL, "shared", &c), 0);
	if (c != NULL) {
		CHECK_STR(c->namespace, "from-a");
		CHECK_STR(c->server, "https://a.example:6443");
		want = strf("%s/kubeconfig/merge/a/ca.crt", kc_test_data());
		CHECK_STR(c->ca_file, want);
		CHECK_STR(c->token, "token-a");
	}
	kc_cluster_cfg_free(c);
	/* a context only in b: its cluster's CA resolves against b's folder,
	 * while user 'shared' still comes from a (first file wins per name) */
	CHECK_INT(load(NULL, "ctx-b", &c), 0);
	if (c != NULL) {
		CHECK_STR(c->server, "https://only-b.example:6443");
		want = strf("%s/kubeconfig/merge/b/ca.crt", kc_test_data());
		CHECK_STR(c->ca_file, want);
		CHECK_STR(c->token, "token-a");
	}
	kc_cluster_cfg_free(c);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_merge_order_reversed)
{
	struct kc_cluster_cfg *c;

	env_clean();
	/* negative twin of the above: with b first, b wins everything */
	merge_env("ba");
	CHECK_INT(load(NULL, NULL, &c), 0);
	if (c != NULL) {
		CHECK_STR(c->context_name, "ctx-b");
		CHECK_STR(c->token, "token-b");
	}
	kc_cluster_cfg_free(c);
	CHECK_INT(load(NULL, "shared", &c), 0);
	if (c != NULL) {
		CHECK_STR(c->namespace, "from-b");
		CHECK_STR(c->server, "https://b.example:6443");
		CHECK(c->ca_file == NULL);
	}
	kc_cluster_cfg_free(c);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_env_missing_files)
{
	struct kc_cluster_cfg *c;
	char list[3 * PATH_MAX];

	env_clean();
	/* missing files and empty entries are skipped, like kubectl */
	snprintf(list, sizeof(list), "::%s/nope:%s:", kc_test_data(), fixture("merge/a/config"));
	env_put("KUBECONFIG", list);
	CHECK_INT(load(NULL, NULL, &c), 0);
	if (c != NULL) {
		CHECK_STR(c->context_name, "ctx-a");
		CHECK_STR(c->source, fixture("merge/a/config"));
	}
	kc_cluster_cfg_free(c);
	/* negative twin: none exists */
	env_put("KUBECONFIG", "nope1:nope2");
	CHECK_LOAD_ERR(NULL, NULL, KC_ERR_IO,
	    "cannot read kubeconfig: none of the files in KUBECONFIG 'nope1:nope2' exists");
	env_put("KUBECONFIG", "nope1");
	CHECK_LOAD_ERR(NULL, NULL, KC_ERR_IO,
	    "cannot read kubeconfig 'nope1': No such file or directory");
	/* a file that exists but cannot be read is an error, not skipped */
	CHECK_INT(kc_mkdir_p("adir", 0700), 0);
	snprintf(list, sizeof(list), "adir:%s", fixture("merge/a/config"));
	env_put("KUBECONFIG", list);
	CHECK_LOAD_ERR(NULL, NULL, KC_ERR_IO, "cannot read kubeconfig 'adir': Is a directory");
	env_restore();
}

DEFINE_TEST(test_kubeconfig_home_default)
{
	struct kc_cluster_cfg *c;
	char dir[PATH_MAX];
	const char *want;

	env_clean();
	CHECK(getcwd(dir, sizeof(dir)) != NULL);
	env_put("HOME", dir);
	CHECK_INT(kc_mkdir_p(".kube", 0700), 0);
	write_text(".kube/config", "clusters:\n- name: k\n  cluster: {server: 'https://home:6443'}\n"
	    "contexts:\n- name: c\n  context: {cluster: k}\ncurrent-context: c\n");
	CHECK_INT(load(NULL, NULL, &c), 0);
	if (c != NULL) {
		CHECK_STR(c->server, "https://home:6443");
		CHECK(c->user_name == NULL);	/* anonymous */
	}
	kc_cluster_cfg_free(c);
	/* negative twin: no ~/.kube/config */
	CHECK_INT(unlink(".kube/config"), 0);
	want = strf("cannot read kubeconfig '%s/.kube/config': "
	    "No such file or directory", dir);
	CHECK_LOAD_ERR(NULL, NULL, KC_ERR_IO, want);
	env_put("HOME", NULL);
	CHECK_LOAD_ERR(NULL, NULL, KC_ERR_CONFIG, "no kubeconfig: HOME and KUBECONFIG are not set; "
	    "use --kubeconfig or --in-cluster");
	env_restore();
}

DEFINE_TEST(test_kubeconfig_error_messages)
{
	const char *want;

	env_clean();
	CHECK_LOAD_ERR("missing.yaml", NULL, KC_ERR_IO,
	    "cannot read kubeconfig 'missing.yaml': No such file or directory");

	want = strf("kubeconfig '%s' line 5 column 16: "
	    "did not find expected ',' or '}'", fixture("malformed.yaml"));
	CHECK_LOAD_ERR(fixture("malformed.yaml"), NULL, KC_ERR_CONFIG, want);

	want = strf("kubeconfig '%s' has no current-context; use --context",
	    fixture("no-current.yaml"));
	CHECK_LOAD_ERR(fixture("no-current.yaml"), NULL, KC_ERR_CONFIG, want);

	want = strf("user 'ghost' of context 'ghost-user' not found in "
	    "kubeconfig '%s'", fixture("missing-refs.yaml"));
	CHECK_LOAD_ERR(fixture("missing-refs.yaml"), NULL, KC_ERR_CONFIG, want);

	want = strf("cluster 'nowhere' of context 'ghost-cluster' not found in "
	    "kubeconfig '%s'", fixture("missing-refs.yaml"));
	CHECK_LOAD_ERR(fixture("missing-refs.yaml"), "ghost-cluster", KC_ERR_CONFIG, want);

	want = strf("kubeconfig '%s' is empty", fixture("empty.yaml"));
	CHECK_LOAD_ERR(fixture("empty.yaml"), NULL, KC_ERR_CONFIG, want);
	want = strf("kubeconfig '%s' is empty", fixture("comments-only.yaml"));
	CHECK_LOAD_ERR(fixture("comments-only.yaml"), NULL, KC_ERR_CONFIG, want);

	want = strf("kubeconfig '%s': duplicate name 'k' in clusters",
	    fixture("dup-name.yaml"));
	CHECK_LOAD_ERR(fixture("dup-name.yaml"), NULL, KC_ERR_CONFIG, want);

	CHECK_INT(kc_mkdir_p("dir.yaml", 0700), 0);
	CHECK_LOAD_ERR("dir.yaml", NULL, KC_ERR_IO, "cannot read kubeconfig 'dir.yaml': Is a directory");

	write_text("seq.yaml", "- a\n- b\n");
	CHECK_LOAD_ERR("seq.yaml", NULL, KC_ERR_CONFIG,
	    "kubeconfig 'seq.yaml' line 1 column 1: the top level must be a mapping");
	write_text("clusters.yaml", "current-context: c\nclusters: oops\n");
	CHECK_LOAD_ERR("clusters.yaml", NULL, KC_ERR_CONFIG,
	    "kubeconfig 'clusters.yaml' line 2 column 11: clusters must be a list");
	write_text("noserver.yaml", "clusters:\n- name: k\n  cluster: {}\n"
	    "contexts:\n- name: c\n  context: {cluster: k}\ncurrent-context: c\n");
	CHECK_LOAD_ERR("noserver.yaml", NULL, KC_ERR_CONFIG,
	    "cluster 'k' has no server in kubeconfig 'noserver.yaml'");
	write_text("nocluster.yaml", "contexts:\n- name: c\n  context: {user: u}\ncurrent-context: c\n");
	CHECK_LOAD_ERR("nocluster.yaml", NULL, KC_ERR_CONFIG,
	    "context 'c' names no cluster in kubeconfig 'nocluster.yaml'");
	write_text("badbool.yaml", "clusters:\n- name: k\n  cluster:\n    server: https://k\n"
	    "    insecure-skip-tls-verify: maybe\n"
	    "contexts:\n- name: c\n  context: {cluster: k}\ncurrent-context: c\n");
	CHECK_LOAD_ERR("badbool.yaml", NULL, KC_ERR_CONFIG,
	    "kubeconfig 'badbool.yaml' line 5 column 31: insecure-skip-tls-verify must be true or false");
	/* a control character in a name from the file is escaped */
	write_text("esc.yaml", "current-context: \"a\\x1bb\"\nclusters: []\n");
	CHECK_LOAD_ERR("esc.yaml", NULL, KC_ERR_CONFIG,
	    "context 'a\\x1bb' not found in kubeconfig 'esc.yaml'");
	/* the positive twins of these are the fixtures loaded elsewhere */
	env_restore();
}

DEFINE_TEST(test_kubeconfig_anonymous_context)
{
	struct kc_cluster_cfg *c;

	env_clean();
	CHECK_INT(load(fixture("missing-refs.yaml"), "anonymous", &c), 0);
	if (c != NULL) {
		CHECK(c->user_name == NULL);
		CHECK(c->token == NULL && c->exec == NULL && c->client_cert_file == NULL);
		CHECK_STR(c->server, "https://k.example:6443");
	}
	kc_cluster_cfg_free(c);
	/* negative twin: same file, context whose user is missing */
	CHECK_INT(load(fixture("missing-refs.yaml"), "ghost-user", &c), KC_ERR_CONFIG);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_size_cap)
{
	static const char head[] = "clusters:\n- name: k\n  cluster: {server: https://k}\n"
	    "contexts:\n- name: c\n  context: {cluster: k}\ncurrent-context: c\n#";
	struct kc_cluster_cfg *c;
	size_t n = KC_KUBECONFIG_MAX;
	char *big = malloc(n + 1);

	env_clean();
	CHECK(big != NULL);
	if (big == NULL)
		return;
	/* exactly at the cap: a valid kubeconfig padded with a comment */
	memset(big, 'x', n + 1);
	memcpy(big, head, sizeof(head) - 1);
	big[n - 1] = '\n';
	CHECK_INT(kc_write_file_atomic("atcap.yaml", big, n, 0600), 0);
	CHECK_INT(load("atcap.yaml", NULL, &c), 0);
	if (c != NULL)
		CHECK_STR(c->server, "https://k");
	kc_cluster_cfg_free(c);
	/* negative twin: one byte more */
	big[n - 1] = 'x';
	big[n] = '\n';
	CHECK_INT(kc_write_file_atomic("big.yaml", big, n + 1, 0600), 0);
	CHECK_LOAD_ERR("big.yaml", NULL, KC_ERR_CONFIG,
	    "kubeconfig 'big.yaml' is larger than 4194304 bytes");
	free(big);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_anchors)
{
	struct kc_cluster_cfg *c;

	env_clean();
	CHECK_INT(load(fixture("anchors.yaml"), NULL, &c), 0);
	if (c != NULL) {
		CHECK_STR(c->server, "https://k2.example:6443");	/* explicit key beats merge */
		CHECK_STR(c->tls_server_name, "api.k.example");	/* from the merge key */
		CHECK_STR(c->token, "anchored-token");
		CHECK_STR(c->namespace, "anchored-token");	/* alias of a scalar */
	}
	kc_cluster_cfg_free(c);
	/* negative twins: undefined and self-referencing aliases */
	write_text("undef.yaml", "current-context: *nope\n");
	CHECK_LOAD_ERR("undef.yaml", NULL, KC_ERR_CONFIG,
	    "kubeconfig 'undef.yaml' line 1 column 18: unknown alias 'nope'");
	write_text("self.yaml", "a: &x\n  b: *x\n");
	CHECK_LOAD_ERR("self.yaml", NULL, KC_ERR_CONFIG,
	    "kubeconfig 'self.yaml' line 2 column 6: unknown alias 'x'");
	env_restore();
}

DEFINE_TEST(test_kubeconfig_alias_bomb)
{
	struct kc_buf b = KC_BUF_INIT(1 << 20);
	struct kc_cluster_cfg *c;

	env_clean();
	/* billion laughs: 9 levels of 10 aliases each */
	kc_buf_adds(&b, "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (int i = 1; i <= 9; i++) {
		kc_buf_addf(&b, "a%d: &a%d [", i, i);
		for (int j = 0; j < 10; j++)
			kc_buf_addf(&b, "%s*a%d", j ? ", " : "", i - 1);
		kc_buf_adds(&b, "]\n");
	}
	CHECK_INT(kc_write_file_atomic("bomb.yaml", b.data, b.len, 0600), 0);
	CHECK_LOAD_ERR("bomb.yaml", NULL, KC_ERR_CONFIG,
	    "kubeconfig 'bomb.yaml' line 6 column 58: aliases expand the document past 1000000 nodes");
	/* deep nesting is refused too */
	kc_buf_reset(&b);
	for (int i = 0; i < 70; i++)
		kc_buf_adds(&b, "[");
	CHECK_INT(kc_write_file_atomic("deep.yaml", b.data, b.len, 0600), 0);
	CHECK_LOAD_ERR("deep.yaml", NULL, KC_ERR_CONFIG,
	    "kubeconfig 'deep.yaml' line 1 column 65: nesting deeper than 64 levels");
	/* too many nodes, even without aliases */
	kc_buf_reset(&b);
	kc_buf_adds(&b, "x: [");
	for (int i = 0; i < 100001; i++)
		kc_buf_adds(&b, "a,");
	kc_buf_adds(&b, "]\n");
	CHECK_INT(kc_write_file_atomic("many.yaml", b.data, b.len, 0600), 0);
	CHECK_LOAD_ERR("many.yaml", NULL, KC_ERR_CONFIG,
	    "kubeconfig 'many.yaml' line 1 column 199999: more than 100000 YAML nodes");
	/* positive twin: a few levels of aliases load fine */
	kc_buf_reset(&b);
	kc_buf_adds(&b, "x0: &a0 [lol, lol]\nx1: &a1 [*a0, *a0]\nx2: [*a1, *a1]\n"
	    "clusters:\n- name: k\n  cluster: {server: https://k}\n"
	    "contexts:\n- name: c\n  context: {cluster: k}\ncurrent-context: c\n");
	CHECK_INT(kc_write_file_atomic("ok.yaml", b.data, b.len, 0600), 0);
	CHECK_INT(load("ok.yaml", NULL, &c), 0);
	kc_cluster_cfg_free(c);
	kc_buf_free(&b);
	env_restore();
}

static void
write_b64_cfg(const char *path, const char *ca_b64)
{
	write_text(path, strf("clusters:\n- name: k\n  cluster:\n    server: https://k\n"
	    "    certificate-authority-data: %s\n"
	    "contexts:\n- name: c\n  context: {cluster: k}\ncurrent-context: c\n", ca_b64));
}

DEFINE_TEST(test_kubeconfig_base64_padding)
{
	static const struct { const char *b64; const char *bytes; size_t len; } ok[] = {
		{ "YWJj", "abc", 3 },
		{ "YWI=", "ab", 2 },
		{ "YQ==", "a", 1 },
		{ "AP8A/w==", "\0\xff\0\xff", 4 },
		{ "\"YWJj\\nZGVm\"", "abcdef", 6 },	/* Go ignores line breaks */
		{ "|\n      YWJj\n      ZGVm", "abcdef", 6 },
	};
	struct kc_cluster_cfg *c;

	env_clean();
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		write_b64_cfg("b.yaml", ok[i].b64);
		CHECK_INT(load("b.yaml", NULL, &c), 0);
		if (c != NULL) {
			CHECK_INT(c->ca_data.len, ok[i].len);
			CHECK(memcmp(c->ca_data.data, ok[i].bytes, ok[i].len) == 0);
		}
		kc_cluster_cfg_free(c);
	}
	env_restore();
}

DEFINE_TEST(test_kubeconfig_base64_invalid)
{
	static const char *const bad[] = { "YQ", "Y=Q=", "YW!j", "YWJj=", "Y===", "====" };

	env_clean();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_b64_cfg("b.yaml", bad[i]);
		CHECK_LOAD_ERR("b.yaml", NULL, KC_ERR_CONFIG, "kubeconfig 'b.yaml' line 5 column 33: "
		    "certificate-authority-data of k is not valid base64");
	}
	env_restore();
}

static void
write_user_cfg(const char *path, const char *cluster_extra, const char *user_body)
{
	struct kc_buf b = KC_BUF_INIT(1 << 16);

	CHECK_INT(kc_buf_addf(&b, "clusters:\n- name: k\n  cluster:\n    server: https://k\n%s"
	    "users:\n- name: u\n  user:\n%s"
	    "contexts:\n- name: c\n  context: {cluster: k, user: u}\ncurrent-context: c\n",
	    cluster_extra, user_body), 0);
	write_text(path, kc_buf_str(&b));
	kc_buf_free(&b);
}

DEFINE_TEST(test_kubeconfig_kubectl_validation)
{
	struct kc_cluster_cfg *c;
	char ca[PATH_MAX + 64];

	env_clean();
	snprintf(ca, sizeof(ca), "    certificate-authority: %s\n", fixture("certs/ca.crt"));
	/* positive: insecure without a CA, token and tokenFile together */
	write_user_cfg("v.yaml", "    insecure-skip-tls-verify: yes\n",
	    "    token: t\n    tokenFile: /tmp/tok\n");
	CHECK_INT(load("v.yaml", NULL, &c), 0);
	if (c != NULL) {
		CHECK_INT(c->insecure_skip_tls_verify, 1);
		CHECK_STR(c->token, "t");
		CHECK_STR(c->token_file, "/tmp/tok");
	}
	kc_cluster_cfg_free(c);
	/* negatives: what kubectl's validation refuses */
	write_user_cfg("v.yaml", "    certificate-authority-data: YWJj\n" "    certificate-authority: ca.crt\n",
	    "    token: t\n");
	CHECK_LOAD_ERR("v.yaml", NULL, KC_ERR_CONFIG, "cluster 'k' sets both certificate-authority "
	    "and certificate-authority-data in kubeconfig 'v.yaml'");
	write_user_cfg("v.yaml", "    insecure-skip-tls-verify: true\n    certificate-authority-data: YWJj\n",
	    "    token: t\n");
	CHECK_LOAD_ERR("v.yaml", NULL, KC_ERR_CONFIG, "cluster 'k' sets both insecure-skip-tls-verify "
	    "and a certificate authority in kubeconfig 'v.yaml'");
	write_user_cfg("v.yaml", ca, "    client-certificate-data: YWJj\n");
	CHECK_LOAD_ERR("v.yaml", NULL, KC_ERR_CONFIG, "user 'u' has a client certificate but no "
	    "client-key or client-key-data in kubeconfig 'v.yaml'");
	write_user_cfg("v.yaml", ca, "    client-certificate-data: YWJj\n    client-key: nokey.pem\n");
	{
		char dir[PATH_MAX];
		const char *want;

		CHECK(getcwd(dir, sizeof(dir)) != NULL);
		want = strf("cannot read client-key '%s/nokey.pem' of user 'u': "
		    "No such file or directory", dir);
		CHECK_LOAD_ERR("v.yaml", NULL, KC_ERR_CONFIG, want);
	}
	write_user_cfg("v.yaml", ca, "    token: t\n    username: admin\n    password: secret-pw\n");
	CHECK_LOAD_ERR("v.yaml", NULL, KC_ERR_CONFIG, "more than one authentication method found "
	    "for user 'u' (token and basic auth) in kubeconfig 'v.yaml'");
	CHECK(strstr(kc_err_msg(), "secret-pw") == NULL);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_unsupported_auth)
{
	struct kc_cluster_cfg *c;

	env_clean();
	write_user_cfg("u.yaml", "", "    auth-provider:\n      name: oidc\n"
	    "      config: {id-token: secret-id-token}\n");
	CHECK_INT(load("u.yaml", NULL, &c), 0);
	if (c != NULL)
		CHECK_STR(c->unsupported_auth, "auth-provider 'oidc'");
	kc_cluster_cfg_free(c);
	write_user_cfg("u.yaml", "", "    username: admin\n    password: secret-pw\n    as: root\n");
	CHECK_INT(load("u.yaml", NULL, &c), 0);
	if (c != NULL) {
		CHECK_STR(c->unsupported_auth, "basic auth (username/password) and "
		    "impersonation (as, as-groups, as-uid, as-user-extra)");
		CHECK(strstr(c->unsupported_auth, "secret-pw") == NULL);
	}
	kc_cluster_cfg_free(c);
	/* negative twin: a plain token user has no unsupported auth */
	write_user_cfg("u.yaml", "", "    token: t\n");
	CHECK_INT(load("u.yaml", NULL, &c), 0);
	if (c != NULL)
		CHECK(c->unsupported_auth == NULL);
	kc_cluster_cfg_free(c);
	/* and exec with auth-provider is refused outright, as kubectl does */
	write_user_cfg("u.yaml", "", "    auth-provider: {name: gcp}\n    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1beta1\n      command: x\n");
	CHECK_LOAD_ERR("u.yaml", NULL, KC_ERR_CONFIG,
	    "user 'u' sets both exec and auth-provider in kubeconfig 'u.yaml'");
	env_restore();
}

DEFINE_TEST(test_kubeconfig_exec_config)
{
	struct kc_cluster_cfg *c;
	const char *want;

	env_clean();
	CHECK_INT(load(fixture("exec.yaml"), "v1", &c), 0);
	if (c != NULL && c->exec != NULL) {
		want = strf("%s/kubeconfig/exec-plugin.sh", kc_test_data());
		CHECK_STR(c->exec->command, want);
		CHECK_STR(c->exec->api_version, "client.authentication.k8s.io/v1");
		CHECK_STR(c->exec->interactive_mode, "Never");
		CHECK_INT(c->exec->provide_cluster_info, 1);
		CHECK_STR(c->exec->args[0], "token");
		CHECK_STR(c->exec->args[1], "two words");
		CHECK(c->exec->args[2] == NULL);
		CHECK_STR(c->exec->env[0], "PLUGIN_API=client.authentication.k8s.io/v1");
		CHECK_STR(c->exec->env[1], "PLUGIN_TOKEN=tok-v1");
		CHECK(c->exec->env[2] == NULL);
		CHECK(c->exec->install_hint == NULL);
	} else {
		CHECK(!"exec config missing");
	}
	kc_cluster_cfg_free(c);
	CHECK_INT(load(fixture("exec.yaml"), "v1beta1", &c), 0);
	if (c != NULL && c->exec != NULL) {
		CHECK_STR(c->exec->interactive_mode, "IfAvailable");	/* v1beta1 default */
		CHECK_INT(c->exec->provide_cluster_info, 0);
	}
	kc_cluster_cfg_free(c);
	CHECK_INT(load(fixture("exec.yaml"), "pathlookup", &c), 0);
	if (c != NULL && c->exec != NULL)
		CHECK_STR(c->exec->command, "exec-plugin.sh");	/* left for PATH */
	kc_cluster_cfg_free(c);
	CHECK_INT(load(fixture("exec.yaml"), "notfound", &c), 0);
	if (c != NULL && c->exec != NULL)
		CHECK_STR(c->exec->install_hint,
		    "Install kcustody-test-no-such-plugin\nfrom your package manager.\n");
	kc_cluster_cfg_free(c);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_exec_config_invalid)
{
	static const struct { const char *exec, *msg; } bad[] = {
		{ "      command: x\n",
		  "kubeconfig 'e.yaml' line 9 column 7: exec of user 'u' has no apiVersion" },
		{ "      apiVersion: client.authentication.k8s.io/v1beta1\n",
		  "kubeconfig 'e.yaml' line 9 column 7: exec of user 'u' has no command" },
		{ "      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: x\n",
		  "kubeconfig 'e.yaml' line 9 column 7: exec apiVersion "
		  "'client.authentication.k8s.io/v1alpha1' of user 'u' is not supported (use "
		  "client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1)" },
		{ "      apiVersion: client.authentication.k8s.io/v1\n      command: x\n",
		  "kubeconfig 'e.yaml' line 9 column 7: exec of user 'u' has no interactiveMode "
		  "(required by client.authentication.k8s.io/v1)" },
		{ "      apiVersion: client.authentication.k8s.io/v1\n      command: x\n"
		  "      interactiveMode: Sometimes\n",
		  "kubeconfig 'e.yaml' line 11 column 24: invalid interactiveMode 'Sometimes' for user 'u'" },
		{ "      apiVersion: client.authentication.k8s.io/v1beta1\n      command: x\n"
		  "      env: [{value: v}]\n",
		  "kubeconfig 'e.yaml' line 11 column 13: exec env entry of user 'u' needs a name without '='" },
		{ "      apiVersion: client.authentication.k8s.io/v1beta1\n      command: x\n"
		  "      args: oops\n",
		  "kubeconfig 'e.yaml' line 11 column 13: exec args of user 'u' must be a list" },
	};
	struct kc_cluster_cfg *c;
	char body[512];

	env_clean();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "    exec:\n%s", bad[i].exec);
		write_user_cfg("e.yaml", "", body);
		CHECK_LOAD_ERR("e.yaml", NULL, KC_ERR_CONFIG, bad[i].msg);
	}
	/* positive twin: the smallest valid exec section */
	write_user_cfg("e.yaml", "", "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: /bin/true\n      interactiveMode: Never\n");
	CHECK_INT(load("e.yaml", NULL, &c), 0);
	if (c != NULL && c->exec != NULL) {
		CHECK_STR(c->exec->command, "/bin/true");
		CHECK(c->exec->args != NULL && c->exec->args[0] == NULL);
		CHECK(c->exec->env != NULL && c->exec->env[0] == NULL);
	}
	kc_cluster_cfg_free(c);
	env_restore();
}

/* Load context ctx of exec.yaml and run its plugin. */
static int
run_exec(const char *ctx, struct kc_exec_credential *cred)
{
	struct kc_cluster_cfg *c;
	int r;

	memset(cred, 0, sizeof(*cred));
	if ((r = load(fixture("exec.yaml"), ctx, &c)) != 0) {
		kc_test_fail(__FILE__, __LINE__, "load %s: %s", ctx, kc_err_msg());
		return r;
	}
	kc_err_clear();
	r = kc_exec_credential_get(c, cred);
	kc_cluster_cfg_free(c);
	return r;
}

static cJSON *
read_json(const char *path)
{
	struct kc_buf b = KC_BUF_INIT(1 << 20);
	cJSON *j = NULL;

	if (kc_read_file(path, 1 << 20, &b) == 0)
		j = cJSON_Parse(kc_buf_str(&b));
	kc_buf_free(&b);
	return j;
}

static const char *
jstr(const cJSON *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o != NULL && (dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = cJSON_GetObjectItemCaseSensitive(o, key);
		path = dot + 1;
	}
	o = cJSON_GetObjectItemCaseSensitive(o, path);
	return cJSON_IsString(o) ? o->valuestring : NULL;
}

DEFINE_TEST(test_kubeconfig_exec_v1)
{
	struct kc_exec_credential cred;
	struct kc_buf args = KC_BUF_INIT(4096);
	cJSON *info, *cl;
	time_t want;
	long ns;

	env_clean();
	env_put("PLUGIN_TOKEN", "from-parent-env");	/* the exec env overrides it */
	CHECK_INT(run_exec("v1", &cred), 0);
	CHECK_STR(cred.token, "tok-v1");
	CHECK_INT(kc_parse_rfc3339("2030-01-02T03:04:05Z", &want, &ns), 0);
	CHECK_INT(cred.expiration, want);
	CHECK_INT(cred.client_cert_data.len, 0);
	kc_exec_credential_clear(&cred);
	CHECK(cred.token == NULL);
	/* negative twin: a v1 request answered in v1beta1 is refused */
	CHECK_INT(run_exec("mismatch", &cred), KC_ERR_AUTH);
	CHECK(cred.token == NULL);
	CHECK_INT(run_exec("v1", &cred), 0);
	kc_exec_credential_clear(&cred);
	/* what the plugin saw: args, no terminal, KUBERNETES_EXEC_INFO with the
	 * cluster (provideClusterInfo) */
	CHECK_INT(kc_read_file("exec-args.txt", 4096, &args), 0);
	CHECK_STR(kc_buf_str(&args), "token\ntwo words\n");
	kc_buf_free(&args);
	CHECK_INT(kc_read_file("exec-stdin.txt", 4096, &args), 0);
	CHECK_STR(kc_buf_str(&args), "notty\n");
	kc_buf_free(&args);
	info = read_json("exec-info.json");
	CHECK(info != NULL);
	CHECK_STR(jstr(info, "kind"), "ExecCredential");
	CHECK_STR(jstr(info, "apiVersion"), "client.authentication.k8s.io/v1");
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(info, "spec"), "interactive")));
	CHECK_STR(jstr(info, "spec.cluster.server"), "https://k.example:6443");
	CHECK_STR(jstr(info, "spec.cluster.tls-server-name"), "api.k.example");
	CHECK_STR(jstr(info, "spec.cluster.certificate-authority-data"), "YWJj");
	CHECK_STR(jstr(info, "spec.cluster.proxy-url"), "http://proxy.example:3128");
	cl = cJSON_GetObjectItem(cJSON_GetObjectItem(info, "spec"), "cluster");
	CHECK(cJSON_GetObjectItem(cl, "insecure-skip-tls-verify") == NULL);
	cJSON_Delete(info);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_exec_v1beta1)
{
	struct kc_exec_credential cred;
	cJSON *info;

	env_clean();
	CHECK_INT(run_exec("v1beta1", &cred), 0);
	CHECK_STR(cred.token, "tok-v1beta1");
	CHECK(cred.expiration > 0);
	kc_exec_credential_clear(&cred);
	info = read_json("exec-info.json");
	CHECK_STR(jstr(info, "apiVersion"), "client.authentication.k8s.io/v1beta1");
	/* no provideClusterInfo: no cluster in the request */
	CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(info, "spec"), "cluster") == NULL);
	cJSON_Delete(info);
	/* no expirationTimestamp: 0 */
	CHECK_INT(run_exec("noexp", &cred), 0);
	CHECK_STR(cred.token, "tok-noexp");
	CHECK_INT(cred.expiration, 0);
	kc_exec_credential_clear(&cred);
	/* a key printed twice: the last wins (util/json.h, client-go's rule) */
	CHECK_INT(run_exec("duptoken", &cred), 0);
	CHECK_STR(cred.token, "tok-last");
	kc_exec_credential_clear(&cred);
	/* a client certificate and key instead of a token */
	CHECK_INT(run_exec("cert", &cred), 0);
	CHECK(cred.token == NULL);
	CHECK_STR(kc_buf_str(&cred.client_cert_data),
	    "-----BEGIN CERTIFICATE-----\nexec\n-----END CERTIFICATE-----\n");
	CHECK_STR(kc_buf_str(&cred.client_key_data),
	    "-----BEGIN PRIVATE KEY-----\nexec\n-----END PRIVATE KEY-----\n");
	kc_exec_credential_clear(&cred);
	/* negative twins: a bad expirationTimestamp, a certificate without key */
	CHECK_INT(run_exec("badexp", &cred), KC_ERR_AUTH);
	CHECK_INT(run_exec("certonly", &cred), KC_ERR_AUTH);
	CHECK_INT(cred.client_cert_data.len, 0);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_exec_path_lookup)
{
	struct kc_exec_credential cred;
	char path[2 * PATH_MAX];
	const char *old = getenv("PATH");

	env_clean();
	snprintf(path, sizeof(path), "%s/kubeconfig:%s", kc_test_data(), old ? old : "/bin:/usr/bin");
	env_put("PATH", path);
	CHECK_INT(run_exec("pathlookup", &cred), 0);
	CHECK_STR(cred.token, "tok-path");
	kc_exec_credential_clear(&cred);
	/* negative twin: not on PATH; the install hint is shown on one line */
	env_put("PATH", old ? old : "/bin:/usr/bin");
	CHECK_INT(run_exec("pathlookup", &cred), KC_ERR_AUTH);
	CHECK_STR(kc_err_msg(), "exec plugin 'exec-plugin.sh' failed: executable not found");
	CHECK_INT(run_exec("notfound", &cred), KC_ERR_AUTH);
	CHECK_STR(kc_err_msg(), "exec plugin 'kcustody-test-no-such-plugin' failed: executable not "
	    "found; Install kcustody-test-no-such-plugin from your package manager. ");
	CHECK(cred.token == NULL);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_exec_rejects)
{
	static const struct { const char *ctx, *msg; } bad[] = {
		{ "mismatch", " returned apiVersion "
		  "'client.authentication.k8s.io/v1beta1', expected 'client.authentication.k8s.io/v1'" },
		{ "fail", " failed: exit status 3" },
		{ "badexp", " returned an invalid expirationTimestamp 'tomorrow'" },
		{ "certonly", " returned only one of clientCertificateData and clientKeyData" },
		{ "nostatus", " returned no status" },
		{ "wrongkind", " returned kind 'Config', expected ExecCredential" },
		{ "garbage", " did not print a JSON object" },
		{ "big", " printed more than 1048576 bytes" },
		{ "always", " needs an interactive terminal (interactiveMode Always) "
		  "and kcustody never gives it one" },
	};
	struct kc_exec_credential cred;
	char cmd[PATH_MAX];
	const char *want;

	env_clean();
	snprintf(cmd, sizeof(cmd), "%s/kubeconfig/exec-plugin.sh", kc_test_data());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(run_exec(bad[i].ctx, &cred), KC_ERR_AUTH);
		want = strf("exec plugin '%s'%s", cmd, bad[i].msg);
		CHECK_STR(kc_err_msg(), want);
		CHECK(cred.token == NULL && cred.client_key_data.len == 0);
	}
	env_restore();
}

DEFINE_TEST(test_kubeconfig_exec_timeout)
{
	struct kc_exec_credential cred;
	const char *want;
	int64_t t0;

	env_clean();
	env_put("KCUSTODY_EXEC_TIMEOUT", "1");
	t0 = kc_mono_ns();
	CHECK_INT(run_exec("slow", &cred), KC_ERR_AUTH);
	CHECK(kc_mono_ns() - t0 < INT64_C(10000000000));	/* not the plugin's 30 s */
	want = strf("exec plugin '%s/kubeconfig/exec-plugin.sh' did not finish "
	    "within 1 s and was killed", kc_test_data());
	CHECK_STR(kc_err_msg(), want);
	/* positive twin: a quick plugin under the same short timeout */
	CHECK_INT(run_exec("v1beta1", &cred), 0);
	kc_exec_credential_clear(&cred);
	env_restore();
}

static void
make_sa_tree(const char *ns)
{
	CHECK_INT(kc_mkdir_p("root/var/run/secrets/kubernetes.io/serviceaccount", 0700), 0);
	write_text("root/var/run/secrets/kubernetes.io/serviceaccount/token", "sa-token\n");
	write_text("root/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", "ca\n");
	if (ns != NULL)
		write_text("root/var/run/secrets/kubernetes.io/serviceaccount/namespace", ns);
}

static int
load_in_cluster(const char *kubeconfig, struct kc_cluster_cfg **c, char *root, size_t n)
{
	struct kc_kubeconfig_opts o = { kubeconfig, NULL, kubeconfig == NULL, root };
	char dir[PATH_MAX];

	if (getcwd(dir, sizeof(dir)) == NULL)
		return -1;
	snprintf(root, n, "%s/root", dir);
	*c = NULL;
	kc_err_clear();
	return kc_kubeconfig_load(&o, c);
}

DEFINE_TEST(test_kubeconfig_in_cluster)
{
	struct kc_cluster_cfg *c;
	char root[PATH_MAX + 16];
	const char *want;

	env_clean();
	make_sa_tree("agents\n");
	env_put("KUBERNETES_SERVICE_HOST", "10.96.0.1");
	env_put("KUBERNETES_SERVICE_PORT", "443");
	CHECK_INT(load_in_cluster(NULL, &c, root, sizeof(root)), 0);
	if (c != NULL) {
		CHECK_STR(c->source, "in-cluster");
		CHECK_STR(c->server, "https://10.96.0.1:443");
		want = strf("%s/var/run/secrets/kubernetes.io/serviceaccount/token", root);
		CHECK_STR(c->token_file, want);
		want = strf("%s/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", root);
		CHECK_STR(c->ca_file, want);
		CHECK_STR(c->namespace, "agents");
		CHECK(c->token == NULL);	/* re-read from the file on each use */
	}
	kc_cluster_cfg_free(c);
	/* IPv6 service host in brackets; POD_NAMESPACE wins over the file */
	env_put("KUBERNETES_SERVICE_HOST", "fd00:10:96::1");
	env_put("POD_NAMESPACE", "from-env");
	CHECK_INT(load_in_cluster(NULL, &c, root, sizeof(root)), 0);
	if (c != NULL) {
		CHECK_STR(c->server, "https://[fd00:10:96::1]:443");
		CHECK_STR(c->namespace, "from-env");
	}
	kc_cluster_cfg_free(c);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_in_cluster_errors)
{
	struct kc_cluster_cfg *c;
	char root[PATH_MAX + 16];
	const char *want;

	env_clean();
	make_sa_tree(NULL);
	CHECK_INT(load_in_cluster(NULL, &c, root, sizeof(root)), KC_ERR_CONFIG);
	CHECK_STR(kc_err_msg(), "in-cluster configuration needs KUBERNETES_SERVICE_HOST and "
	    "KUBERNETES_SERVICE_PORT");
	env_put("KUBERNETES_SERVICE_HOST", "10.96.0.1");
	env_put("KUBERNETES_SERVICE_PORT", "443");
	/* no namespace file: default */
	CHECK_INT(load_in_cluster(NULL, &c, root, sizeof(root)), 0);
	if (c != NULL)
		CHECK_STR(c->namespace, "default");
	kc_cluster_cfg_free(c);
	CHECK_INT(unlink("root/var/run/secrets/kubernetes.io/serviceaccount/token"), 0);
	CHECK_INT(load_in_cluster(NULL, &c, root, sizeof(root)), KC_ERR_CONFIG);
	want = strf("cannot read service account token "
	    "'%s/var/run/secrets/kubernetes.io/serviceaccount/token': No such file or directory", root);
	CHECK_STR(kc_err_msg(), want);
	CHECK(c == NULL);
	env_restore();
}

DEFINE_TEST(test_kubeconfig_in_cluster_fallback)
{
	struct kc_kubeconfig_opts o = { NULL, NULL, 0, NULL };
	struct kc_cluster_cfg *c = NULL;
	char root[PATH_MAX + 16], dir[PATH_MAX];

	env_clean();
	make_sa_tree("ns1");
	CHECK(getcwd(dir, sizeof(dir)) != NULL);
	snprintf(root, sizeof(root), "%s/root/", dir);	/* a trailing '/' is fine */
	o.in_cluster_root = root;
	env_put("HOME", dir);	/* no .kube/config here */
	env_put("KUBERNETES_SERVICE_HOST", "10.96.0.1");
	env_put("KUBERNETES_SERVICE_PORT", "6443");
	/* no kubeconfig at all, in a pod: in-cluster */
	CHECK_INT(kc_kubeconfig_load(&o, &c), 0);
	if (c != NULL) {
		CHECK_STR(c->source, "in-cluster");
		CHECK_STR(c->server, "https://10.96.0.1:6443");
		CHECK_STR(c->namespace, "ns1");
	}
	kc_cluster_cfg_free(c);
	/* negative twin: an explicit --kubeconfig that is missing is an error */
	o.kubeconfig = "missing.yaml";
	CHECK_INT(kc_kubeconfig_load(&o, &c), KC_ERR_IO);
	CHECK_STR(kc_err_msg(), "cannot read kubeconfig 'missing.yaml': No such file or directory");
	/* and a kubeconfig that exists wins over in-cluster */
	o.kubeconfig = fixture("basic.yaml");
	CHECK_INT(kc_kubeconfig_load(&o, &c), 0);
	if (c != NULL)
		CHECK_STR(c->context_name, "dev");
	kc_cluster_cfg_free(c);
	env_restore();
}
