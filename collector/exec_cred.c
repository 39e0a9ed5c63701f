/* exec_cred.c - exec credential plugins (client.authentication.k8s.io):
 * run the command a kubeconfig user names, as kubectl does (its own
 * process group, KUBERNETES_EXEC_INFO, a timeout, a cap on its output),
 * and read the ExecCredential it prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "collector/exec_cred.h"
#include "collector/kubeconfig.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/timeutil.h"

extern char **environ;




static int64_t
exec_timeout_ns(void)
{
	const char *s = getenv("KCUSTODY_EXEC_TIMEOUT");
	int64_t secs = KC_EXEC_TIMEOUT_DEFAULT;
	char *end;
	long v;

	if (s != NULL && s[0] != '\0') {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno == 0 && *end == '\0' && v > 0 && v <= 86400)
			secs = v;
		else if (kc_parse_duration(s, &secs) != 0 || secs <= 0 || secs > 86400) {
			kc_warn("ignoring KCUSTODY_EXEC_TIMEOUT (not a number of seconds)");
			secs = KC_EXEC_TIMEOUT_DEFAULT;
		}
	}
	return secs * INT64_C(1000000000);
}

/* The ExecCredential request kubectl puts in KUBERNETES_EXEC_INFO. */
static int
exec_info(const struct kc_cluster_cfg *cfg, char **out)
{
	struct kc_buf ca = KC_BUF_INIT(KC_KUBECONFIG_MAX);
	cJSON *j = NULL, *spec, *cl;
	unsigned char *b64 = NULL;
	char *s = NULL;
	int r = 0;

	*out = NULL;
	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "kind", "ExecCredential") == NULL ||
	    cJSON_AddStringToObject(j, "apiVersion", cfg->exec->api_version) == NULL ||
	    (spec = cJSON_AddObjectToObject(j, "spec")) == NULL)
		goto nomem;
	if (cfg->exec->provide_cluster_info) {
		if ((cl = cJSON_AddObjectToObject(spec, "cluster")) == NULL ||
		    cJSON_AddStringToObject(cl, "server", cfg->server ? cfg->server : "") == NULL)
			goto nomem;
		if (cfg->tls_server_name != NULL &&
		    cJSON_AddStringToObject(cl, "tls-server-name", cfg->tls_server_name) == NULL)
			goto nomem;
		if (cfg->insecure_skip_tls_verify &&
		    cJSON_AddTrueToObject(cl, "insecure-skip-tls-verify") == NULL)
			goto nomem;
		/* client-go sends the CA bytes, read from the file when named */
		if (cfg->ca_data.len > 0)
			r = kc_buf_add(&ca, cfg->ca_data.data, cfg->ca_data.len);
		else if (cfg->ca_file != NULL)
			r = kc_read_file(cfg->ca_file, KC_KUBECONFIG_MAX, &ca);
		if (r != 0) {
			char why[512];

			kc_fmt_trunc(why, sizeof(why), "%s", kc_err_msg());	/* an error detail */
			r = kc_err_set(KC_ERR_AUTH, "exec plugin: %s", why);
			goto out;
		}
		if (ca.len > 0) {
			if ((b64 = malloc((ca.len + 2) / 3 * 4 + 1)) == NULL)
				goto nomem;
			EVP_EncodeBlock(b64, (const unsigned char *)ca.data, (int)ca.len);
			if (cJSON_AddStringToObject(cl, "certificate-authority-data", (char *)b64) == NULL)
				goto nomem;
		}
		if (cfg->proxy_url != NULL &&
		    cJSON_AddStringToObject(cl, "proxy-url", cfg->proxy_url) == NULL)
			goto nomem;
		if (cJSON_AddNullToObject(cl, "config") == NULL)
			goto nomem;
	}
	if (cJSON_AddFalseToObject(spec, "interactive") == NULL ||
	    (s = cJSON_PrintUnformatted(j)) == NULL)
		goto nomem;
	if ((*out = kc_asprintf("KUBERNETES_EXEC_INFO=%s", s)) == NULL)
		goto nomem;
	goto out;
nomem:
	r = kc_err_set(KC_ERR_NOMEM, "out of memory");
out:
	free(s);
	free(b64);
	kc_buf_free(&ca);
	cJSON_Delete(j);
	return r;
}

static int
env_overridden(const char *entry, char *const *over)
{
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry);

	for (size_t i = 0; over[i] != NULL; i++) {
		if (strncmp(over[i], entry, n) == 0 && over[i][n] == '=')
			return 1;
	}
	return 0;
}

/* The plugin's environment: ours, then the exec env, then the exec info
 * (later names replace earlier ones, as Go's os/exec does).  Only the
 * array is allocated; the strings belong to environ and the caller. */
static int
exec_envp(char **cfgenv, char *info, char ***out)
{
	size_t ne = 0, nc = 0, n = 0;
	char *one[2] = { info, NULL };
	char **v;

	while (environ != NULL && environ[ne] != NULL)
		ne++;
	while (cfgenv[nc] != NULL)
		nc++;
	if ((v = kc_reallocarray(NULL, ne + nc + 2, sizeof(char *))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < ne; i++) {
		if (!env_overridden(environ[i], cfgenv) && !env_overridden(environ[i], one))
			v[n++] = environ[i];
	}
	for (size_t i = 0; i < nc; i++) {
		/* a later entry of the exec env replaces an earlier one */
		if (!env_overridden(cfgenv[i], cfgenv + i + 1) && !env_overridden(cfgenv[i], one))
			v[n++] = cfgenv[i];
	}
	v[n++] = info;
	v[n] = NULL;
	*out = v;
	return 0;
}

/* Keep our pipe ends off 0..2 so that dup2 onto 1 always does something. */
static int
fd_above_stdio(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static void
flatten(char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20)
			*s = ' ';
	}
}

/* Start the plugin with stdin from /dev/null, stdout into a pipe (*rfd),
 * stderr shared with us, default signal handling, in its own process
 * group.  A command without '/' is looked up in our PATH, like kubectl. */
static int
exec_spawn(const struct kc_exec_cfg *x, char **envp, const char *cmd, pid_t *pid, int *rfd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char **argv = NULL, hint[512];
	size_t na = 0;
	int pfd[2] = { -1, -1 }, r = 0, err;

	*rfd = -1;
	while (x->args[na] != NULL)
		na++;
	if ((argv = kc_reallocarray(NULL, na + 2, sizeof(char *))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	argv[0] = x->command;
	for (size_t i = 0; i < na; i++)
		argv[i + 1] = x->args[i];
	argv[na + 1] = NULL;
	if (pipe2(pfd, O_CLOEXEC) != 0 || (pfd[0] = fd_above_stdio(pfd[0])) < 0 ||
	    (pfd[1] = fd_above_stdio(pfd[1])) < 0) {
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s': cannot create a pipe: %s", cmd,
		    strerror(errno));
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (posix_spawnattr_init(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1) != 0 ||
	    posix_spawnattr_setsigmask(&at, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&at, &all) != 0 ||
	    posix_spawnattr_setpgroup(&at, 0) != 0 ||
	    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF) != 0)
		err = ENOMEM;
	else
		err = posix_spawnp(pid, x->command, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (err == ENOENT) {
		kc_fmt_trunc(hint, sizeof(hint), "%s", x->install_hint ? x->install_hint : "");	/* display */
		flatten(hint);
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' failed: executable not found%s%s",
		    cmd, hint[0] ? "; " : "", hint);
	} else if (err != 0) {
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' failed: %s", cmd, strerror(err));
	} else {
		*rfd = pfd[0];
		pfd[0] = -1;	/* transferred */
	}
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(argv);
	return r;
}

/* Read the plugin's stdout until EOF into out (KC_EXEC_OUTPUT_MAX + 1
 * bytes), then reap it; 1 when the deadline passed first. */
static int
exec_collect(pid_t pid, int rfd, int64_t deadline, const char *cmd, char *out, size_t *outlen,
    int *status)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int64_t left;
	ssize_t n;
	pid_t w;
	int pr;

	for (;;) {
		struct pollfd p = { rfd, POLLIN, 0 };

		if ((left = deadline - kc_mono_ns()) <= 0)
			return 1;
		pr = poll(&p, 1, (int)(left / 1000000 + 1));
		if (pr < 0 && errno != EINTR)
			return kc_err_set(KC_ERR_AUTH, "exec plugin '%s': %s", cmd, strerror(errno));
		if (pr <= 0)
			continue;
		n = read(rfd, out + *outlen, KC_EXEC_OUTPUT_MAX + 1 - *outlen);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return kc_err_set(KC_ERR_AUTH, "exec plugin '%s': cannot read its output: %s",
			    cmd, strerror(errno));
		if (n == 0)
			break;
		*outlen += (size_t)n;
		if (*outlen > KC_EXEC_OUTPUT_MAX)
			return kc_err_set(KC_ERR_AUTH, "exec plugin '%s' printed more than %u bytes",
			    cmd, KC_EXEC_OUTPUT_MAX);
	}
	/* stdout is closed; the plugin may still be running */
	while ((w = waitpid(pid, status, WNOHANG)) != pid) {
		if (w < 0 && errno != EINTR)
			return kc_err_set(KC_ERR_AUTH, "exec plugin '%s': %s", cmd, strerror(errno));
		if (kc_mono_ns() >= deadline)
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* Run the plugin; its stdout goes straight into out (KC_EXEC_OUTPUT_MAX + 1
 * bytes, so that no growing buffer leaves copies of a token behind), the
 * length into *outlen, the exit status into *status.  On any failure the
 * plugin's process group is killed and the plugin reaped. */
static int
exec_run(const struct kc_exec_cfg *x, char **envp, const char *cmd, char *out, size_t *outlen,
    int *status)
{
	int64_t timeout = exec_timeout_ns();
	pid_t pid = -1;
	int r, rfd, st;

	if ((r = exec_spawn(x, envp, cmd, &pid, &rfd)) != 0)
		return r;
	r = exec_collect(pid, rfd, kc_mono_ns() + timeout, cmd, out, outlen, status);
	close(rfd);
	if (r == 0)
		return 0;
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r == 1)
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' did not finish within %lld s and was killed",
		    cmd, (long long)(timeout / 1000000000));
	return r;
}

static void
cjson_wipe(cJSON *j)
{
	for (; j != NULL; j = j->next) {
		if (j->valuestring != NULL)
			OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
		if (j->child != NULL)
			cjson_wipe(j->child);
	}
}

/* A string member, NULL when absent, null or empty; error otherwise.  A
 * repeated key: the last wins (util/json.h), as client-go decodes it. */
static int
exec_str(const cJSON *o, const char *key, const char *cmd, const char **out)
{
	const cJSON *v = kc_json_get(o, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return kc_err_set(KC_ERR_AUTH, "exec plugin '%s' returned a non-string %s", cmd, key);
	if (v->valuestring[0] != '\0')
		*out = v->valuestring;
	return 0;
}

static int
exec_parse(const struct kc_exec_cfg *x, const char *cmd, const char *outb, size_t outlen,
    struct kc_exec_credential *cred)
{
	const char *kind, *api, *token, *cert, *key, *exp;
	const cJSON *status;
	cJSON *j = NULL;
	char esc[128];
	long ns;
	int r = 0;

	if (outlen == 0 || strlen(outb) != outlen ||
	    (j = cJSON_ParseWithOpts(outb, NULL, 1)) == NULL || !cJSON_IsObject(j)) {
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' did not print a JSON object", cmd);
		goto out;
	}
	if ((r = exec_str(j, "kind", cmd, &kind)) != 0 || (r = exec_str(j, "apiVersion", cmd, &api)) != 0)
		goto out;
	if (kind == NULL || strcmp(kind, "ExecCredential") != 0) {
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' returned kind '%s', expected ExecCredential",
		    cmd, kc_safe_str(kind ? kind : "", esc, sizeof(esc)));
		goto out;
	}
	if (api == NULL || strcmp(api, x->api_version) != 0) {
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' returned apiVersion '%s', expected '%s'",
		    cmd, kc_safe_str(api ? api : "", esc, sizeof(esc)), x->api_version);
		goto out;
	}
	status = kc_json_get(j, "status");
	if (!cJSON_IsObject(status)) {
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' returned no status", cmd);
		goto out;
	}
	if ((r = exec_str(status, "token", cmd, &token)) != 0 ||
	    (r = exec_str(status, "clientCertificateData", cmd, &cert)) != 0 ||
	    (r = exec_str(status, "clientKeyData", cmd, &key)) != 0 ||
	    (r = exec_str(status, "expirationTimestamp", cmd, &exp)) != 0)
		goto out;
	if (token == NULL && cert == NULL && key == NULL) {
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' returned neither a token nor a "
		    "client certificate and key", cmd);
		goto out;
	}
	if ((cert == NULL) != (key == NULL)) {
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' returned only one of "
		    "clientCertificateData and clientKeyData", cmd);
		goto out;
	}
	if (exp != NULL && kc_parse_rfc3339(exp, &cred->expiration, &ns) != 0) {
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' returned an invalid expirationTimestamp '%s'",
		    cmd, kc_safe_str(exp, esc, sizeof(esc)));
		goto out;
	}
	if ((token != NULL && (cred->token = kc_strdup(token)) == NULL) ||
	    (cert != NULL && kc_buf_adds(&cred->client_cert_data, cert) != 0) ||
	    (key != NULL && kc_buf_adds(&cred->client_key_data, key) != 0)) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
out:
	cjson_wipe(j);
	cJSON_Delete(j);
	return r;
}

int
kc_exec_credential_get(const struct kc_cluster_cfg *cfg, struct kc_exec_credential *out)
{
	const struct kc_exec_cfg *x = cfg->exec;
	char **envp = NULL, *info = NULL, *outb = NULL, cmd[256], hint[512];
	size_t outlen = 0;
	int r, status = 0;

	memset(out, 0, sizeof(*out));
	kc_buf_init(&out->client_cert_data, KC_EXEC_OUTPUT_MAX);
	kc_buf_init(&out->client_key_data, KC_EXEC_OUTPUT_MAX);
	if (x == NULL || x->command == NULL || x->api_version == NULL)
		return kc_err_set(KC_ERR_INVALID, "no exec plugin configured");
	kc_safe_str(x->command, cmd, sizeof(cmd));
	if (x->interactive_mode != NULL && strcmp(x->interactive_mode, "Always") == 0)
		return kc_err_set(KC_ERR_AUTH, "exec plugin '%s' needs an interactive terminal "
		    "(interactiveMode Always) and kcustody never gives it one", cmd);
	if ((outb = malloc(KC_EXEC_OUTPUT_MAX + 1)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = exec_info(cfg, &info)) != 0 ||
	    (r = exec_envp(x->env, info, &envp)) != 0 ||
	    (r = exec_run(x, envp, cmd, outb, &outlen, &status)) != 0)
		goto out;
	outb[outlen < KC_EXEC_OUTPUT_MAX ? outlen : KC_EXEC_OUTPUT_MAX] = '\0';
	if (WIFSIGNALED(status)) {
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' failed: killed by signal %d",
		    cmd, WTERMSIG(status));
		goto out;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		/* 127: a shell or env wrapper could not find the command */
		kc_fmt_trunc(hint, sizeof(hint), "%s", WEXITSTATUS(status) == 127 && x->install_hint ?
		    x->install_hint : "");
		flatten(hint);
		r = kc_err_set(KC_ERR_AUTH, "exec plugin '%s' failed: exit status %d%s%s", cmd,
		    WEXITSTATUS(status), hint[0] ? "; " : "", hint);
		goto out;
	}
	r = exec_parse(x, cmd, outb, outlen, out);
out:
	if (outb != NULL) {
		OPENSSL_cleanse(outb, outlen < KC_EXEC_OUTPUT_MAX ? outlen + 1 : KC_EXEC_OUTPUT_MAX + 1);
		free(outb);
	}
	free(envp);
	free(info);
	if (r != 0)
		kc_exec_credential_clear(out);
	return r;
}

int
kc_exec_credential_copy(struct kc_exec_credential *dst, const struct kc_exec_credential *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->expiration = src->expiration;
	kc_buf_init(&dst->client_cert_data, src->client_cert_data.max);
	kc_buf_init(&dst->client_key_data, src->client_key_data.max);
	if ((src->token != NULL && (dst->token = kc_strdup(src->token)) == NULL) ||
	    (src->client_cert_data.len > 0 &&
	    kc_buf_add(&dst->client_cert_data, src->client_cert_data.data, src->client_cert_data.len) != 0) ||
	    (src->client_key_data.len > 0 &&
	    kc_buf_add(&dst->client_key_data, src->client_key_data.data, src->client_key_data.len) != 0)) {
		kc_exec_credential_clear(dst);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	return 0;
}

void
kc_exec_credential_clear(struct kc_exec_credential *cred)
{
	if (cred == NULL)
		return;
	kc_free_secret(cred->token);
	cred->token = NULL;
	kc_buf_free(&cred->client_cert_data);
	kc_buf_free_secret(&cred->client_key_data);
	cred->expiration = 0;
}
