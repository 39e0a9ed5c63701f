/* kubeconfig.c - the kubeconfig model: files merged and read with
 * kubectl's rules (clientcmd loader.go and validation.go are the
 * reference) from the YAML tree of yaml_tree.c; in-cluster configuration.
 * The exec plugins a user names are run by exec_cred.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "collector/kubeconfig.h"
#include "collector/yaml_tree.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/timeutil.h"

#define SMALL_FILE_MAX 4096		/* in-cluster namespace file */

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"


/* ------------------------------------------------------------------ */
/* Paths */

/* Lexical clean of an absolute path, like Go's filepath.Clean. */
static char *
path_clean(const char *p)
{
	size_t n = strlen(p), o = 1;
	const char *s = p, *e;
	char *out;

	if ((out = malloc(n + 2)) == NULL)
		return NULL;
	out[0] = '/';
	while (*s != '\0') {
		while (*s == '/')
			s++;
		if (*s == '\0')
			break;
		e = strchr(s, '/');
		if (e == NULL)
			e = s + strlen(s);
		if (e - s == 1 && s[0] == '.') {
			/* skip */
		} else if (e - s == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
		} else {
			if (o > 1)
				out[o++] = '/';
			memcpy(out + o, s, (size_t)(e - s));
			o += (size_t)(e - s);
		}
		s = e;
	}
	out[o] = '\0';
	return out;
}

/* Absolute, cleaned folder of file (kubectl: filepath.Abs(filepath.Dir)). */
static char *
abs_dir(const char *file)
{
	char *dir = NULL, *cwd = NULL, *joined = NULL, *out = NULL;

	if ((dir = kc_dirname(file)) == NULL)
		goto out;
	if (dir[0] == '/') {
		out = path_clean(dir);
		goto out;
	}
	if ((cwd = getcwd(NULL, 0)) == NULL)
		goto out;
	if ((joined = kc_path_join(cwd, dir)) == NULL)
		goto out;
	out = path_clean(joined);
out:
	free(dir);
	free(cwd);
	free(joined);
	return out;
}

/* kubectl's ResolvePath: a relative path is joined to the folder of the
 * file that named it; an absolute one is kept as written. */
static char *
resolve_path(const char *dir, const char *rel)
{
	char *joined, *out;

	if (rel[0] == '/')
		return kc_strdup(rel);
	if ((joined = kc_path_join(dir, rel)) == NULL)
		return NULL;
	out = path_clean(joined);
	free(joined);
	return out;
}

/* ------------------------------------------------------------------ */
/* Files */

struct kfile {
	char *path;		/* as named by the user */
	char *dir;		/* absolute folder of path */
	struct ynode *root;	/* top-level mapping, NULL when empty */
};

struct kset {
	struct kfile *f;
	size_t n, cap;
	char *source;		/* ':'-joined paths of the files read */
};

static void
kset_free(struct kset *ks)
{
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->f[i].path);
		free(ks->f[i].dir);
		kc_ynode_unref(ks->f[i].root);
	}
	free(ks->f);
	free(ks->source);
}

static int
ferr(const struct kfile *f, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
ferr(const struct kfile *f, const struct ynode *at, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	kc_vfmt_trunc(msg, sizeof(msg), fmt, ap);	/* an error detail */
	va_end(ap);
	if (at != NULL)
		return kc_err_set(KC_ERR_CONFIG, "kubeconfig '%s' line %zu column %zu: %s",
		    f->path, at->line, at->col, msg);
	return kc_err_set(KC_ERR_CONFIG, "kubeconfig '%s': %s", f->path, msg);
}

/* Read a kubeconfig file into one allocation of its size (no realloc
 * leaves copies of a token behind); the caller wipes and frees *data.
 * *missing is set (and 0 returned) when it does not exist and the caller
 * allows that. */
static int
read_kubeconfig(const char *path, int allow_missing, int *missing, char **data, size_t *len)
{
	struct stat st;
	size_t size = 0, got = 0;
	char *buf = NULL;
	ssize_t n;
	int fd, r = 0;

	*missing = 0;
	*data = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && allow_missing) {
			*missing = 1;
			return 0;
		}
		return kc_err_set(KC_ERR_IO, "cannot read kubeconfig '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		r = kc_err_set(KC_ERR_IO, "cannot read kubeconfig '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = kc_err_set(KC_ERR_IO, "cannot read kubeconfig '%s': %s", path,
		    S_ISDIR(st.st_mode) ? "Is a directory" : "not a regular file");
		goto out;
	}
	if (st.st_size > (off_t)KC_KUBECONFIG_MAX) {
		r = kc_err_set(KC_ERR_CONFIG, "kubeconfig '%s' is larger than %u bytes",
		    path, KC_KUBECONFIG_MAX);
		goto out;
	}
	size = (size_t)st.st_size;
	if ((buf = malloc(size + 1)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* one byte more than the size, to notice a file that grows meanwhile */
	while (got <= size) {
		n = read(fd, buf + got, size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = kc_err_set(KC_ERR_IO, "cannot read kubeconfig '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > size) {
		r = kc_err_set(KC_ERR_IO, "cannot read kubeconfig '%s': it changed while being read", path);
		goto out;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	buf = NULL;	/* transferred */
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, size + 1);
		free(buf);
	}
	close(fd);
	return r;
}

struct named {
	const char *name;
	const struct ynode *at;
};

static int
named_cmp(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* A scalar's string, or NULL for null/empty; error when not a string. */
static int
scalar_str(const struct kfile *f, const struct ynode *v, const char *what, const char **out)
{
	*out = NULL;
	if (kc_ynode_is_null(v))
		return 0;
	if (v->type != Y_SCALAR)
		return ferr(f, v, "%s must be a string", what);
	if (strlen(v->str) != v->len)
		return ferr(f, v, "%s contains a NUL byte", what);
	if (v->len > 0)
		*out = v->str;
	return 0;
}

/* kubectl turns each named list into a map and refuses duplicate names. */
static int
check_list(const struct kfile *f, const char *list)
{
	const struct ynode *l = kc_ynode_get(f->root, list);
	struct named *names = NULL;
	size_t n = 0;
	int r = 0;
	char esc[256];

	if (kc_ynode_is_null(l))
		return 0;
	if (l->type != Y_SEQ)
		return ferr(f, l, "%s must be a list", list);
	if ((names = kc_calloc(l->n, sizeof(*names))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < l->n; i++) {
		const struct ynode *e = l->kid[i];
		const char *name;

		if (e->type != Y_MAP) {
			r = ferr(f, e, "%s entries must be mappings", list);
			goto out;
		}
		if ((r = scalar_str(f, kc_ynode_get(e, "name"), "name", &name)) != 0)
			goto out;
		if (name == NULL)
			continue;
		names[n].name = name;
		names[n].at = e;
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), named_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(names[i - 1].name, names[i].name) == 0) {
			r = ferr(f, NULL, "duplicate name '%s' in %s",
			    kc_safe_str(names[i].name, esc, sizeof(esc)), list);
			goto out;
		}
	}
out:
	free(names);
	return r;
}

static int
load_file(struct kset *ks, const char *path, int allow_missing)
{
	struct kfile f = { NULL, NULL, NULL };
	char *data = NULL;
	size_t len = 0;
	int missing, r;

	for (size_t i = 0; i < ks->n; i++) {
		if (strcmp(ks->f[i].path, path) == 0)
			return 0;	/* kubectl skips repeated entries */
	}
	if ((r = read_kubeconfig(path, allow_missing, &missing, &data, &len)) != 0 || missing)
		goto out;
	if ((f.path = kc_strdup(path)) == NULL || (f.dir = abs_dir(path)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "cannot resolve the folder of kubeconfig '%s'", path);
		goto out;
	}
	if ((r = kc_yaml_load(path, data, len, &f.root)) != 0)
		goto out;
	if (kc_ynode_is_null(f.root)) {
		kc_ynode_unref(f.root);
		f.root = NULL;
	} else if (f.root->type != Y_MAP) {
		r = ferr(&f, f.root, "the top level must be a mapping");
		goto out;
	} else {
		const char *cc;

		if ((r = check_list(&f, "clusters")) != 0 || (r = check_list(&f, "users")) != 0 ||
		    (r = check_list(&f, "contexts")) != 0 ||
		    (r = scalar_str(&f, kc_ynode_get(f.root, "current-context"), "current-context", &cc)) != 0)
			goto out;
	}
	if (KC_GROW(ks->f, ks->cap, ks->n + 1) != 0) {
		r = KC_ERR_NOMEM;
		goto out;
	}
	ks->f[ks->n++] = f;
	memset(&f, 0, sizeof(f));	/* transferred */
out:
	if (data != NULL) {
		OPENSSL_cleanse(data, len);
		free(data);
	}
	free(f.path);
	free(f.dir);
	kc_ynode_unref(f.root);
	return r;
}

/* Find the named entry of list ("clusters") in the first file that defines
 * it; *body is its inner mapping ("cluster"), NULL when empty. */
static int
find_named(const struct kset *ks, const char *list, const char *item, const char *name,
    const struct kfile **file, const struct ynode **body)
{
	*file = NULL;
	*body = NULL;
	for (size_t i = 0; i < ks->n; i++) {
		const struct kfile *f = &ks->f[i];
		const struct ynode *l = kc_ynode_get(f->root, list);

		if (kc_ynode_is_null(l))
			continue;
		for (size_t j = 0; j < l->n; j++) {
			const struct ynode *e = l->kid[j], *b;
			const char *n;

			if (scalar_str(f, kc_ynode_get(e, "name"), "name", &n) != 0 || n == NULL ||
			    strcmp(n, name) != 0)
				continue;
			b = kc_ynode_get(e, item);
			if (!kc_ynode_is_null(b) && b->type != Y_MAP)
				return ferr(f, b, "%s must be a mapping", item);
			*file = f;
			*body = kc_ynode_is_null(b) ? NULL : b;
			return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Model */

static int
dup_str(const struct kfile *f, const struct ynode *m, const char *key, char **out)
{
	const char *s;
	int r;

	*out = NULL;
	if ((r = scalar_str(f, kc_ynode_get(m, key), key, &s)) != 0 || s == NULL)
		return r;
	if ((*out = kc_strdup(s)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

static int
dup_path(const struct kfile *f, const struct ynode *m, const char *key, char **out)
{
	const char *s;
	int r;

	*out = NULL;
	if ((r = scalar_str(f, kc_ynode_get(m, key), key, &s)) != 0 || s == NULL)
		return r;
	if ((*out = resolve_path(f->dir, s)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

/* YAML 1.1 booleans, as kubectl's decoder takes them. */
static int
get_bool(const struct kfile *f, const struct ynode *m, const char *key, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "y" };
	static const char *const no[] = { "false", "no", "off", "n" };
	const char *s;
	int r;

	*out = 0;
	if ((r = scalar_str(f, kc_ynode_get(m, key), key, &s)) != 0 || s == NULL)
		return r;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return ferr(f, kc_ynode_get(m, key), "%s must be true or false", key);
}

static int
is_b64(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '+' || c == '/';
}

/* Standard base64 with padding, line breaks ignored (Go's
 * base64.StdEncoding, which decodes []byte fields); OpenSSL decodes. */
static int
get_b64(const struct kfile *f, const struct ynode *m, const char *key, const char *owner,
    struct kc_buf *out)
{
	const struct ynode *v = kc_ynode_get(m, key);
	unsigned char *dec = NULL;
	char *clean = NULL, esc[256];
	const char *s;
	size_t n = 0, pad = 0, i;
	int r, got = -1;

	kc_buf_init(out, KC_KUBECONFIG_MAX);
	if ((r = scalar_str(f, v, key, &s)) != 0 || s == NULL)
		return r;
	if ((clean = malloc(v->len + 1)) == NULL || (dec = malloc(v->len / 4 * 3 + 3)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < v->len; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			clean[n++] = s[i];
	}
	clean[n] = '\0';
	while (pad < 2 && pad < n && clean[n - 1 - pad] == '=')
		pad++;
	for (i = 0; i < n - pad && is_b64((unsigned char)clean[i]); i++)
		;
	if (n % 4 != 0 || i != n - pad || n > INT32_MAX ||
	    (got = EVP_DecodeBlock(dec, (unsigned char *)clean, (int)n)) < 0 ||
	    (size_t)got < pad) {
		r = ferr(f, v, "%s of %s is not valid base64", key,
		    kc_safe_str(owner, esc, sizeof(esc)));
		goto out;
	}
	r = kc_buf_add(out, dec, (size_t)got - pad);
out:
	if (clean != NULL)
		OPENSSL_cleanse(clean, v->len + 1);
	if (dec != NULL)
		OPENSSL_cleanse(dec, v->len / 4 * 3 + 3);
	free(clean);
	free(dec);
	return r;
}

/* kubectl's validation reads every referenced certificate file. */
static int
check_readable(const char *path, const char *what, const char *kind, const char *owner)
{
	char esc[256];
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return kc_err_set(KC_ERR_CONFIG, "cannot read %s '%s' of %s '%s': %s", what, path,
		    kind, kc_safe_str(owner, esc, sizeof(esc)), strerror(errno));
	close(fd);
	return 0;
}

static int
add_unsupported(struct kc_cluster_cfg *cfg, const char *desc)
{
	char *s;

	if (cfg->unsupported_auth == NULL)
		s = kc_strdup(desc);
	else
		s = kc_asprintf("%s and %s", cfg->unsupported_auth, desc);
	if (s == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	free(cfg->unsupported_auth);
	cfg->unsupported_auth = s;
	return 0;
}

static int
load_cluster(const struct kset *ks, struct kc_cluster_cfg *cfg)
{
	const struct kfile *f;
	const struct ynode *c;
	char e1[256], e2[256];
	int r;

	if ((r = find_named(ks, "clusters", "cluster", cfg->cluster_name, &f, &c)) < 0)
		return r;
	if (r == 0)
		return kc_err_set(KC_ERR_CONFIG, "cluster '%s' of context '%s' not found in kubeconfig '%s'",
		    kc_safe_str(cfg->cluster_name, e1, sizeof(e1)),
		    kc_safe_str(cfg->context_name, e2, sizeof(e2)), ks->source);
	kc_safe_str(cfg->cluster_name, e1, sizeof(e1));
	if ((r = dup_str(f, c, "server", &cfg->server)) != 0 ||
	    (r = dup_str(f, c, "tls-server-name", &cfg->tls_server_name)) != 0 ||
	    (r = dup_str(f, c, "proxy-url", &cfg->proxy_url)) != 0 ||
	    (r = dup_path(f, c, "certificate-authority", &cfg->ca_file)) != 0 ||
	    (r = get_b64(f, c, "certificate-authority-data", cfg->cluster_name, &cfg->ca_data)) != 0 ||
	    (r = get_bool(f, c, "insecure-skip-tls-verify", &cfg->insecure_skip_tls_verify)) != 0)
		return r;
	if (cfg->server == NULL)
		return kc_err_set(KC_ERR_CONFIG, "cluster '%s' has no server in kubeconfig '%s'",
		    e1, f->path);
	if (cfg->ca_file != NULL && cfg->ca_data.len > 0)
		return kc_err_set(KC_ERR_CONFIG, "cluster '%s' sets both certificate-authority and "
		    "certificate-authority-data in kubeconfig '%s'", e1, f->path);
	if (cfg->insecure_skip_tls_verify && (cfg->ca_file != NULL || cfg->ca_data.len > 0))
		return kc_err_set(KC_ERR_CONFIG, "cluster '%s' sets both insecure-skip-tls-verify and "
		    "a certificate authority in kubeconfig '%s'", e1, f->path);
	if (cfg->ca_file != NULL)
		return check_readable(cfg->ca_file, "certificate-authority", "cluster", cfg->cluster_name);
	return 0;
}

static void
strv_free(char **v, int secret)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++) {
		if (secret)
			kc_free_secret(v[i]);
		else
			free(v[i]);
	}
	free(v);
}

static void
exec_cfg_free(struct kc_exec_cfg *e)
{
	if (e == NULL)
		return;
	free(e->command);
	strv_free(e->args, 0);
	strv_free(e->env, 1);	/* env values may carry secrets */
	free(e->api_version);
	free(e->interactive_mode);
	free(e->install_hint);
	free(e);
}

/* exec args of user esc: a list, into a NULL-terminated vector (*out,
 * freed by exec_cfg_free through the config that holds it). */
static int
exec_args(const struct kfile *f, const struct ynode *args, const char *esc, char ***out)
{
	char **v;
	int r = 0;

	if (!kc_ynode_is_null(args) && args->type != Y_SEQ) {
		r = ferr(f, args, "exec args of user '%s' must be a list", esc);
		goto out;
	}
	if ((*out = v = kc_calloc(kc_ynode_is_null(args) ? 1 : args->n + 1, sizeof(char *))) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; !kc_ynode_is_null(args) && i < args->n; i++) {
		const char *a;

		if (kc_ynode_is_null(args->kid[i]))
			a = "";
		else if ((r = scalar_str(f, args->kid[i], "exec args entry", &a)) != 0)
			goto out;
		if ((v[i] = kc_strdup(a ? a : "")) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
out:
	return r;
}

/* exec env (NAME=value) of user esc: a list, into a NULL-terminated vector (*out,
 * freed by exec_cfg_free through the config that holds it). */
static int
exec_env(const struct kfile *f, const struct ynode *env, const char *esc, char ***out)
{
	char **v;
	int r = 0;

	if (!kc_ynode_is_null(env) && env->type != Y_SEQ) {
		r = ferr(f, env, "exec env of user '%s' must be a list", esc);
		goto out;
	}
	if ((*out = v = kc_calloc(kc_ynode_is_null(env) ? 1 : env->n + 1, sizeof(char *))) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; !kc_ynode_is_null(env) && i < env->n; i++) {
		const struct ynode *kv = env->kid[i];
		const char *name, *value;

		if (kv->type != Y_MAP) {
			r = ferr(f, kv, "exec env entries of user '%s' must be mappings", esc);
			goto out;
		}
		if ((r = scalar_str(f, kc_ynode_get(kv, "name"), "env name", &name)) != 0 ||
		    (r = scalar_str(f, kc_ynode_get(kv, "value"), "env value", &value)) != 0)
			goto out;
		if (name == NULL || strchr(name, '=') != NULL) {
			r = ferr(f, kv, "exec env entry of user '%s' needs a name without '='", esc);
			goto out;
		}
		if ((v[i] = kc_asprintf("%s=%s", name, value ? value : "")) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
out:
	return r;
}

static int
load_exec(const struct kfile *f, const struct ynode *x, const char *user, struct kc_exec_cfg **out)
{
	const struct ynode *args = kc_ynode_get(x, "args"), *env = kc_ynode_get(x, "env");
	struct kc_exec_cfg *e;
	const char *cmd;
	char esc[256];
	int r;

	*out = NULL;
	kc_safe_str(user, esc, sizeof(esc));
	if (x->type != Y_MAP)
		return ferr(f, x, "exec of user '%s' must be a mapping", esc);
	if ((e = kc_calloc(1, sizeof(*e))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = scalar_str(f, kc_ynode_get(x, "command"), "command", &cmd)) != 0 ||
	    (r = dup_str(f, x, "apiVersion", &e->api_version)) != 0 ||
	    (r = dup_str(f, x, "interactiveMode", &e->interactive_mode)) != 0 ||
	    (r = dup_str(f, x, "installHint", &e->install_hint)) != 0 ||
	    (r = get_bool(f, x, "provideClusterInfo", &e->provide_cluster_info)) != 0)
		goto out;
	if (cmd == NULL) {
		r = ferr(f, x, "exec of user '%s' has no command", esc);
		goto out;
	}
	/* kubectl: a command with a path separator is relative to the file */
	e->command = strchr(cmd, '/') != NULL ? resolve_path(f->dir, cmd) : kc_strdup(cmd);
	if (e->command == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (e->api_version == NULL) {
		r = ferr(f, x, "exec of user '%s' has no apiVersion", esc);
		goto out;
	}
	if (strcmp(e->api_version, KC_EXEC_V1) != 0 && strcmp(e->api_version, KC_EXEC_V1BETA1) != 0) {
		char ev[128];

		r = ferr(f, x, "exec apiVersion '%s' of user '%s' is not supported (use %s or %s)",
		    kc_safe_str(e->api_version, ev, sizeof(ev)), esc, KC_EXEC_V1, KC_EXEC_V1BETA1);
		goto out;
	}
	if (e->interactive_mode == NULL) {
		/* v1 requires it; older versions default to IfAvailable */
		if (strcmp(e->api_version, KC_EXEC_V1) == 0) {
			r = ferr(f, x, "exec of user '%s' has no interactiveMode (required by %s)",
			    esc, KC_EXEC_V1);
			goto out;
		}
		if ((e->interactive_mode = kc_strdup("IfAvailable")) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
	} else if (strcmp(e->interactive_mode, "Never") != 0 &&
	    strcmp(e->interactive_mode, "IfAvailable") != 0 &&
	    strcmp(e->interactive_mode, "Always") != 0) {
		char ev[128];

		r = ferr(f, kc_ynode_get(x, "interactiveMode"), "invalid interactiveMode '%s' for user '%s'",
		    kc_safe_str(e->interactive_mode, ev, sizeof(ev)), esc);
		goto out;
	}
	if ((r = exec_args(f, args, esc, &e->args)) != 0 ||
	    (r = exec_env(f, env, esc, &e->env)) != 0)
		goto out;
	*out = e;
	e = NULL;	/* transferred */
out:
	exec_cfg_free(e);
	return r;
}

static int
load_user(const struct kset *ks, struct kc_cluster_cfg *cfg)
{
	const struct kfile *f;
	const struct ynode *u, *x, *ap;
	char e1[256], e2[256], desc[300];
	const char *s, *user, *pw;
	int r, basic, token;

	if (cfg->user_name == NULL)
		return 0;	/* anonymous, as kubectl allows */
	if ((r = find_named(ks, "users", "user", cfg->user_name, &f, &u)) < 0)
		return r;
	if (r == 0)
		return kc_err_set(KC_ERR_CONFIG, "user '%s' of context '%s' not found in kubeconfig '%s'",
		    kc_safe_str(cfg->user_name, e1, sizeof(e1)),
		    kc_safe_str(cfg->context_name, e2, sizeof(e2)), ks->source);
	kc_safe_str(cfg->user_name, e1, sizeof(e1));
	if ((r = dup_path(f, u, "client-certificate", &cfg->client_cert_file)) != 0 ||
	    (r = dup_path(f, u, "client-key", &cfg->client_key_file)) != 0 ||
	    (r = get_b64(f, u, "client-certificate-data", cfg->user_name, &cfg->client_cert_data)) != 0 ||
	    (r = get_b64(f, u, "client-key-data", cfg->user_name, &cfg->client_key_data)) != 0 ||
	    (r = dup_str(f, u, "token", &cfg->token)) != 0 ||
	    (r = dup_path(f, u, "tokenFile", &cfg->token_file)) != 0 ||
	    (r = scalar_str(f, kc_ynode_get(u, "username"), "username", &user)) != 0 ||
	    (r = scalar_str(f, kc_ynode_get(u, "password"), "password", &pw)) != 0)
		return r;

	/* The checks of kubectl's validateAuthInfo, in its words where short. */
	if (cfg->client_cert_file != NULL && cfg->client_cert_data.len > 0)
		return kc_err_set(KC_ERR_CONFIG, "user '%s' sets both client-certificate and "
		    "client-certificate-data in kubeconfig '%s'", e1, f->path);
	if (cfg->client_key_file != NULL && cfg->client_key_data.len > 0)
		return kc_err_set(KC_ERR_CONFIG, "user '%s' sets both client-key and "
		    "client-key-data in kubeconfig '%s'", e1, f->path);
	if ((cfg->client_cert_file != NULL || cfg->client_cert_data.len > 0) &&
	    cfg->client_key_file == NULL && cfg->client_key_data.len == 0)
		return kc_err_set(KC_ERR_CONFIG, "user '%s' has a client certificate but no "
		    "client-key or client-key-data in kubeconfig '%s'", e1, f->path);
	if (cfg->client_cert_file != NULL &&
	    (r = check_readable(cfg->client_cert_file, "client-certificate", "user", cfg->user_name)) != 0)
		return r;
	if (cfg->client_key_file != NULL &&
	    (r = check_readable(cfg->client_key_file, "client-key", "user", cfg->user_name)) != 0)
		return r;
	token = cfg->token != NULL;
	basic = user != NULL || pw != NULL;
	if (token && basic)
		return kc_err_set(KC_ERR_CONFIG, "more than one authentication method found for user "
		    "'%s' (token and basic auth) in kubeconfig '%s'", e1, f->path);
	ap = kc_ynode_get(u, "auth-provider");
	x = kc_ynode_get(u, "exec");
	if (!kc_ynode_is_null(x) && !kc_ynode_is_null(ap))
		return kc_err_set(KC_ERR_CONFIG, "user '%s' sets both exec and auth-provider in "
		    "kubeconfig '%s'", e1, f->path);
	if (!kc_ynode_is_null(x) && (r = load_exec(f, x, cfg->user_name, &cfg->exec)) != 0)
		return r;
	if (!kc_ynode_is_null(ap)) {
		if (ap->type != Y_MAP)
			return ferr(f, ap, "auth-provider of user '%s' must be a mapping", e1);
		if ((r = scalar_str(f, kc_ynode_get(ap, "name"), "auth-provider name", &s)) != 0)
			return r;
		kc_fmt_trunc(desc, sizeof(desc), "auth-provider '%s'", kc_safe_str(s ? s : "", e2, sizeof(e2)));
		if ((r = add_unsupported(cfg, desc)) != 0)
			return r;
	}
	if (basic && (r = add_unsupported(cfg, "basic auth (username/password)")) != 0)
		return r;
	/* Impersonation changes who the requests act as: the collector must
	 * not silently act as the kubeconfig user instead. */
	if ((!kc_ynode_is_null(kc_ynode_get(u, "as")) || !kc_ynode_is_null(kc_ynode_get(u, "as-groups")) ||
	    !kc_ynode_is_null(kc_ynode_get(u, "as-uid")) || !kc_ynode_is_null(kc_ynode_get(u, "as-user-extra"))) &&
	    (r = add_unsupported(cfg, "impersonation (as, as-groups, as-uid, as-user-extra)")) != 0)
		return r;
	return 0;
}

static int
build_cfg(const struct kset *ks, const char *context, struct kc_cluster_cfg *cfg)
{
	const struct kfile *f;
	const struct ynode *c;
	char e1[256];
	int r;

	if ((cfg->context_name = kc_strdup(context)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	kc_safe_str(context, e1, sizeof(e1));
	if ((r = find_named(ks, "contexts", "context", context, &f, &c)) < 0)
		return r;
	if (r == 0)
		return kc_err_set(KC_ERR_CONFIG, "context '%s' not found in kubeconfig '%s'",
		    e1, ks->source);
	if ((r = dup_str(f, c, "cluster", &cfg->cluster_name)) != 0 ||
	    (r = dup_str(f, c, "user", &cfg->user_name)) != 0 ||
	    (r = dup_str(f, c, "namespace", &cfg->namespace)) != 0)
		return r;
	if (cfg->cluster_name == NULL)
		return kc_err_set(KC_ERR_CONFIG, "context '%s' names no cluster in kubeconfig '%s'",
		    e1, f->path);
	if (cfg->namespace == NULL && (cfg->namespace = kc_strdup("default")) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = load_cluster(ks, cfg)) != 0 || (r = load_user(ks, cfg)) != 0)
		return r;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sources */

static int
in_cluster_possible(void)
{
	const char *h = getenv("KUBERNETES_SERVICE_HOST"), *p = getenv("KUBERNETES_SERVICE_PORT");

	return h != NULL && h[0] != '\0' && p != NULL && p[0] != '\0';
}

static int
load_in_cluster(const struct kc_kubeconfig_opts *opts, struct kc_cluster_cfg *cfg)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *root = opts->in_cluster_root ? opts->in_cluster_root : "";
	const char *podns = getenv("POD_NAMESPACE");
	struct kc_buf ns = KC_BUF_INIT(SMALL_FILE_MAX);
	char *nsfile = NULL;
	size_t rl = strlen(root);
	int r = 0;

	if (!in_cluster_possible())
		return kc_err_set(KC_ERR_CONFIG, "in-cluster configuration needs "
		    "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT");
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	if (strchr(host, '/') != NULL || strchr(port, '/') != NULL || strchr(port, ':') != NULL)
		return kc_err_set(KC_ERR_CONFIG, "in-cluster configuration: invalid "
		    "KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT");
	/* net.JoinHostPort: an IPv6 literal goes in brackets */
	if ((cfg->server = kc_asprintf(strchr(host, ':') != NULL && host[0] != '[' ?
	    "https://[%s]:%s" : "https://%s:%s", host, port)) == NULL ||
	    (cfg->token_file = kc_asprintf("%.*s" SA_DIR "/token", (int)rl, root)) == NULL ||
	    (cfg->ca_file = kc_asprintf("%.*s" SA_DIR "/ca.crt", (int)rl, root)) == NULL ||
	    (nsfile = kc_asprintf("%.*s" SA_DIR "/namespace", (int)rl, root)) == NULL ||
	    (cfg->source = kc_strdup("in-cluster")) == NULL ||
	    (cfg->context_name = kc_strdup("in-cluster")) == NULL ||
	    (cfg->cluster_name = kc_strdup("in-cluster")) == NULL ||
	    (cfg->user_name = kc_strdup("in-cluster")) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (access(cfg->token_file, R_OK) != 0) {
		r = kc_err_set(KC_ERR_CONFIG, "cannot read service account token '%s': %s",
		    cfg->token_file, strerror(errno));
		goto out;
	}
	if (access(cfg->ca_file, R_OK) != 0) {
		r = kc_err_set(KC_ERR_CONFIG, "cannot read service account CA '%s': %s",
		    cfg->ca_file, strerror(errno));
		goto out;
	}
	/* client-go: POD_NAMESPACE, else the mounted namespace file, else default */
	if (podns != NULL && podns[0] != '\0') {
		cfg->namespace = kc_strdup(podns);
	} else {
		if (kc_read_file(nsfile, SMALL_FILE_MAX, &ns) == 0) {
			while (ns.len > 0 && strchr(" \t\r\n", ns.data[ns.len - 1]) != NULL)
				ns.data[--ns.len] = '\0';
		}
		cfg->namespace = kc_strdup(ns.len > 0 ? ns.data : "default");
	}
	if (cfg->namespace == NULL)
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
out:
	kc_buf_free(&ns);
	free(nsfile);
	return r;
}

static int
source_join(struct kset *ks)
{
	struct kc_buf b = KC_BUF_INIT(1u << 20);

	for (size_t i = 0; i < ks->n; i++) {
		if ((i > 0 && kc_buf_addc(&b, ':') != 0) || kc_buf_adds(&b, ks->f[i].path) != 0) {
			kc_buf_free(&b);
			return KC_ERR_NOMEM;
		}
	}
	if ((ks->source = kc_buf_take(&b, NULL)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

/* The files of $KUBECONFIG, in order; missing ones are skipped like
 * kubectl does, but not silently when none exists. */
static int
load_env_list(struct kset *ks, const char *list, int *tried)
{
	char *copy, *p, *save = NULL;
	int r = 0;

	if ((copy = kc_strdup(list)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (p = strtok_r(copy, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save)) {
		(*tried)++;
		if ((r = load_file(ks, p, 1)) != 0)
			break;
	}
	free(copy);
	return r;
}

int
kc_kubeconfig_load(const struct kc_kubeconfig_opts *opts, struct kc_cluster_cfg **out)
{
	struct kset ks = { NULL, 0, 0, NULL };
	struct kc_cluster_cfg *cfg = NULL;
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
	const char *context = opts->context, *what;
	char *homecfg = NULL;
	int r = 0, tried = 0, empty = 1;

	*out = NULL;
	if ((cfg = kc_calloc(1, sizeof(*cfg))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	kc_buf_init(&cfg->ca_data, KC_KUBECONFIG_MAX);
	kc_buf_init(&cfg->client_cert_data, KC_KUBECONFIG_MAX);
	kc_buf_init(&cfg->client_key_data, KC_KUBECONFIG_MAX);
	if (opts->in_cluster) {
		r = load_in_cluster(opts, cfg);
		goto out;
	}
	if (opts->kubeconfig != NULL && opts->kubeconfig[0] != '\0') {
		what = opts->kubeconfig;
		tried = 1;
		r = load_file(&ks, opts->kubeconfig, 0);
	} else if (env != NULL && env[0] != '\0') {
		what = env;
		r = load_env_list(&ks, env, &tried);
	} else if (home != NULL && home[0] != '\0') {
		if ((homecfg = kc_path_join(home, ".kube/config")) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		what = homecfg;
		tried = 1;
		r = load_file(&ks, homecfg, 1);
	} else {
		what = NULL;
	}
	if (r != 0)
		goto out;
	if (ks.n == 0) {
		/* No kubeconfig at all: in a pod, kubectl falls back to in-cluster. */
		if (opts->context == NULL && in_cluster_possible() &&
		    (opts->kubeconfig == NULL || opts->kubeconfig[0] == '\0')) {
			r = load_in_cluster(opts, cfg);
			goto out;
		}
		if (what == NULL)
			r = kc_err_set(KC_ERR_CONFIG, "no kubeconfig: HOME and KUBECONFIG are not set; "
			    "use --kubeconfig or --in-cluster");
		else if (tried <= 1)
			r = kc_err_set(KC_ERR_IO, "cannot read kubeconfig '%s': %s", what, strerror(ENOENT));
		else
			r = kc_err_set(KC_ERR_IO, "cannot read kubeconfig: none of the files in "
			    "KUBECONFIG '%s' exists", what);
		goto out;
	}
	if ((r = source_join(&ks)) != 0)
		goto out;
	for (size_t i = 0; i < ks.n; i++)
		empty &= ks.f[i].root == NULL;
	if (empty) {
		r = kc_err_set(KC_ERR_CONFIG, "kubeconfig '%s' is empty", ks.source);
		goto out;
	}
	for (size_t i = 0; context == NULL && i < ks.n; i++)
		scalar_str(&ks.f[i], kc_ynode_get(ks.f[i].root, "current-context"), "current-context", &context);
	if (context == NULL || context[0] == '\0') {
		r = kc_err_set(KC_ERR_CONFIG, "kubeconfig '%s' has no current-context; use --context",
		    ks.source);
		goto out;
	}
	if ((r = build_cfg(&ks, context, cfg)) != 0)
		goto out;
	cfg->source = ks.source;
	ks.source = NULL;	/* transferred */
out:
	kset_free(&ks);
	free(homecfg);
	if (r != 0) {
		kc_cluster_cfg_free(cfg);
		return r;
	}
	*out = cfg;
	return 0;
}

void
kc_cluster_cfg_free(struct kc_cluster_cfg *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->source);
	free(cfg->context_name);
	free(cfg->cluster_name);
	free(cfg->user_name);
	free(cfg->namespace);
	free(cfg->server);
	free(cfg->tls_server_name);
	free(cfg->proxy_url);
	free(cfg->ca_file);
	kc_buf_free(&cfg->ca_data);
	free(cfg->client_cert_file);
	free(cfg->client_key_file);
	kc_buf_free(&cfg->client_cert_data);
	kc_buf_free_secret(&cfg->client_key_data);
	kc_free_secret(cfg->token);
	free(cfg->token_file);
	exec_cfg_free(cfg->exec);
	free(cfg->unsupported_auth);
	free(cfg);
}
