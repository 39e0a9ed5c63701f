/* main.c - subcommand dispatch. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "formats/yaml_out.h"
#include "manifest/sign.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/jarena.h"
#include "util/log.h"
#include "version.h"

#undef KC_COMMAND
#define KC_COMMAND(name, summary) int cmd_##name(int argc, char **argv);
#include "commands.h"
#undef KC_COMMAND
#define KC_COMMAND(name, summary) { #name, cmd_##name, summary },
static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
#include "commands.h"
	{ NULL, NULL, NULL }
};

const char *cli_progname = "kcustody";

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("kcustody: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_check_trust(const char *pubkey, const char *ca, const char *tsa_ca)
{
	const char *files[3] = { pubkey, ca, tsa_ca };

	for (int i = 0; i < 3; i++) {
		if (files[i] != NULL && kc_trust_file_check(files[i], i > 0) != 0) {
			cli_error("%s: %s", i == 0 ? "--pubkey" : i == 1 ? "--ca" : "--tsa-ca", kc_err_msg());
			return KC_EXIT_USAGE;
		}
	}
	return KC_EXIT_OK;
}

int
cli_check_chain_trust(const char *pubkey, const char *tsa_ca)
{
	if (pubkey != NULL && kc_trust_file_check(pubkey, 0) != 0) {
		cli_error("--audit-chain-pubkey: %s", kc_err_msg());
		return KC_EXIT_USAGE;
	}
	if (tsa_ca != NULL && kc_trust_file_check(tsa_ca, 1) != 0) {
		cli_error("--audit-chain-tsa-ca: %s", kc_err_msg());
		return KC_EXIT_USAGE;
	}
	return KC_EXIT_OK;
}

int
cli_check_output(const char *path, int force)
{
	static const char *const formats[] = { "json", "text", "txt", "md", "html", "yaml", "csv", NULL };
	const char *base, *slash;
	char dir[4096], safe[256];
	struct stat st;

	if (path == NULL || strcmp(path, "-") == 0)
		return KC_EXIT_OK;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	for (size_t i = 0; formats[i] != NULL; i++) {
		if (strcmp(base, formats[i]) == 0) {
			cli_error("-o names the output file, and '%s' looks like a format: use --format %s "
			    "(and -o FILE.%s for a file)", kc_safe_str(path, safe, sizeof(safe)), formats[i],
			    formats[i]);
			return KC_EXIT_USAGE;
		}
	}
	if (base[0] == '\0') {
		cli_error("-o '%s' is a folder; give a file name", kc_safe_str(path, safe, sizeof(safe)));
		return KC_EXIT_USAGE;
	}
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			cli_error("-o '%s' is a folder; give a file name", kc_safe_str(path, safe, sizeof(safe)));
			return KC_EXIT_USAGE;
		}
		if (!force && S_ISREG(st.st_mode)) {
			cli_error("'%s' exists; not replacing it (--force replaces it)",
			    kc_safe_str(path, safe, sizeof(safe)));
			return KC_EXIT_USAGE;
		}
	}
	/* the folder checked must be the folder written to: whole or an error */
	if (kc_fmt(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".") != 0) {
		cli_error("cannot write '%s': its folder name is longer than %zu bytes",
		    kc_safe_str(path, safe, sizeof(safe)), sizeof(dir) - 1);
		return KC_EXIT_USAGE;
	}
	if (dir[0] == '\0')
		kc_fmt_trunc(dir, sizeof(dir), "/");	/* fits */
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		cli_error("cannot write '%s': folder '%s' does not exist", kc_safe_str(path, safe, sizeof(safe)),
		    dir);
		return KC_EXIT_USAGE;
	}
	if (access(dir, W_OK) != 0) {
		cli_error("cannot write '%s': folder '%s' is not writable", kc_safe_str(path, safe, sizeof(safe)),
		    dir);
		return KC_EXIT_USAGE;
	}
	return KC_EXIT_OK;
}

int
cli_write_output(const char *path, const void *data, size_t len, mode_t mode)
{
	struct stat st;
	const char *p = data;
	int fd;

	if (stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		/* /dev/null, /dev/stdout, a pipe: written to, never replaced */
		if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
			return kc_err_set(KC_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
		while (len > 0) {
			ssize_t n = write(fd, p, len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				close(fd);
				return kc_err_set(KC_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
			}
			p += n;
			len -= (size_t)n;
		}
		if (close(fd) != 0)
			return kc_err_set(KC_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
		return 0;
	}
	return kc_write_file_atomic(path, data, len, mode);
}

int
cli_parse_format(const char *arg, int *fmt)
{
	char safe[64];

	if (strcmp(arg, "json") == 0 || strcmp(arg, "text") == 0 || strcmp(arg, "yaml") == 0) {
		*fmt = arg[0] == 'j' ? CLI_FMT_JSON : arg[0] == 'y' ? CLI_FMT_YAML : CLI_FMT_TEXT;
		return KC_EXIT_OK;
	}
	fprintf(stderr, "%s %s: --format must be text, json or yaml here, not '%s'; see '%s %s --help'\n",
	    cli_progname, cli_command, kc_safe_str(arg, safe, sizeof(safe)), cli_progname, cli_command);
	return KC_EXIT_USAGE;
}

int
cli_print_doc(const cJSON *doc, int fmt)
{
	struct kc_buf out = KC_BUF_INIT(1u << 30);
	char *s;

	if (fmt == CLI_FMT_YAML) {
		if (kc_yaml_from_json(doc, &out) != 0) {
			kc_buf_free(&out);
			cli_error("cannot write the result as YAML");
			return KC_EXIT_FATAL;
		}
		fputs(kc_buf_str(&out), stdout);
		kc_buf_free(&out);
		return KC_EXIT_OK;
	}
	if ((s = cJSON_Print(doc)) == NULL) {
		cli_error("out of memory");
		return KC_EXIT_FATAL;
	}
	printf("%s\n", s);
	cJSON_free(s);
	return KC_EXIT_OK;
}

int
cli_print_json_text(const char *text, size_t len, int fmt)
{
	cJSON *doc;
	int r;

	if (fmt != CLI_FMT_YAML) {
		fwrite(text, 1, len, stdout);
		return KC_EXIT_OK;
	}
	if ((doc = cJSON_ParseWithLength(text, len)) == NULL) {
		cli_error("the document is not JSON");
		return KC_EXIT_INVALID;
	}
	r = cli_print_doc(doc, fmt);
	cJSON_Delete(doc);
	return r;
}

int
cli_exit_for(int err)
{
	switch (err) {
	case KC_OK: return KC_EXIT_OK;
	case KC_ERR_CONFIG:
	case KC_ERR_INVALID: return KC_EXIT_USAGE;
	case KC_ERR_VERIFY: return KC_EXIT_INVALID;
	default: return KC_EXIT_FATAL;
	}
}

int
cli_fail(int code, const char *what)
{
	if (what != NULL)
		cli_error("%s: %s", what, kc_err_msg());
	else
		cli_error("%s", kc_err_msg());
	return code;
}

const char *cli_command = "";

int
cli_bad_option(char **argv)
{
	const char *arg = optind > 1 ? argv[optind - 1] : "";
	char safe[256];

	fprintf(stderr, "%s %s: unknown option or missing value: '%s'; see '%s %s --help'\n",
	    cli_progname, cli_command, kc_safe_str(arg, safe, sizeof(safe)), cli_progname, cli_command);
	return KC_EXIT_USAGE;
}

int
cli_bad_args(void)
{
	fprintf(stderr, "%s %s: wrong arguments; see '%s %s --help'\n", cli_progname, cli_command,
	    cli_progname, cli_command);
	return KC_EXIT_USAGE;
}

int
cli_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s COMMAND [OPTIONS]\n\n"
	    "Collect, seal, verify and archive forensic evidence about who can do\n"
	    "what in a Kubernetes cluster.\n\nCommands:\n", cli_progname);
	for (size_t i = 0; commands[i].name != NULL; i++) {
		char name[32];

		/* C names use '_' where the command has '-' (can-i, who-can). */
		kc_fmt_trunc(name, sizeof(name), "%s", commands[i].name);	/* a help line */
		for (char *p = name; *p; p++)
			if (*p == '_')
				*p = '-';
		fprintf(f, "  %-10s %s\n", name, commands[i].summary);
	}
	fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n"
	    "Exit status: 0 complete, 1 partial (or --fail-on hit), 2 usage or\n"
	    "configuration error, 3 verification failed, 4 fatal (nothing written).\n",
	    cli_progname);
}

/* Edit distance, for "did you mean". */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[40];

	if (la >= 39 || lb >= 39)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0], tmp;

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = a[i - 1] == b[j - 1] ? prev :
			    1 + (prev < row[j] ? (prev < row[j - 1] ? prev : row[j - 1]) :
			    (row[j] < row[j - 1] ? row[j] : row[j - 1]));
			prev = tmp;
		}
	}
	return row[lb];
}

/* The command's user-facing name: C names use '_' where it has '-'. */
/* Compared with what the user typed, so whole: a name that does not fit
 * leaves "" (matching nothing) and kc_fmt's error. */
static void
command_name(size_t i, char *out, size_t n)
{
	if (kc_fmt(out, n, "%s", commands[i].name) != 0)
		return;
	for (char *p = out; *p; p++)
		if (*p == '_')
			*p = '-';
}

static int
find_command(const char *arg)
{
	char name[32];

	for (size_t i = 0; commands[i].name != NULL; i++) {
		command_name(i, name, sizeof(name));
		if (strcmp(arg, name) == 0)
			return (int)i;
	}
	return -1;
}

const char *
cli_command_name(size_t i)
{
	static char name[32];

	for (size_t k = 0; commands[k].name != NULL; k++) {
		if (k == i) {
			command_name(k, name, sizeof(name));
			return name;
		}
	}
	return NULL;
}

static void
print_version(void)
{
	printf("kcustody %s (commit %s, built %s)\n", KC_VERSION, KC_GIT_COMMIT, KC_BUILD_DATE);
}

/* kcustody help COMMAND: that command's --help */
static int
help_command(char *cmd)
{
	static char help_flag[] = "--help";
	char *hv[3], safe[128];
	int ci;

	if ((ci = find_command(cmd)) < 0) {
		cli_error("help: no command '%s' (see '%s --help')", kc_safe_str(cmd, safe, sizeof(safe)),
		    cli_progname);
		return KC_EXIT_USAGE;
	}
	hv[0] = cmd;
	hv[1] = help_flag;
	hv[2] = NULL;
	cli_command = cmd;
	return commands[ci].fn(2, hv);
}

/* The ci-th command with its arguments (argv[0] its name). */
static int
run_command(int ci, int argc, char **argv)
{
	int r;

	/* --version on every command */
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		print_version();
		return KC_EXIT_OK;
	}
	cli_command = argv[0];
	opterr = 0;	/* cli_bad_option says it, in one line */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		cli_error("cannot initialise libcurl");
		return KC_EXIT_FATAL;
	}
	r = commands[ci].fn(argc, argv);
	curl_global_cleanup();
	fflush(stdout);
	if (ferror(stdout)) {
		cli_error("write error on standard output");
		return r ? r : KC_EXIT_FATAL;
	}
	return r;
}

/* An unknown command, with the nearest name when one is close. */
static int
unknown_command(const char *cmd)
{
	size_t best = 99;
	int bi = -1;
	char name[32], safe[128];

	for (size_t i = 0; commands[i].name != NULL; i++) {
		size_t d;

		command_name(i, name, sizeof(name));
		d = distance(cmd, name);
		if (strncmp(cmd, name, strlen(cmd)) == 0 && strlen(cmd) >= 2)
			d = 1;
		if (d < best) {
			best = d;
			bi = (int)i;
		}
	}
	if (bi >= 0 && best <= 2) {
		command_name((size_t)bi, name, sizeof(name));
		cli_error("unknown command '%s'; did you mean '%s'? (see '%s --help')",
		    kc_safe_str(cmd, safe, sizeof(safe)), name, cli_progname);
	} else {
		cli_error("unknown command '%s' (see '%s --help')", kc_safe_str(cmd, safe, sizeof(safe)),
		    cli_progname);
	}
	return KC_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	int ci;

	base = base ? base + 1 : argv[0];
	kc_jarena_init();	/* cJSON's free hook, before any thread */
	if (strcmp(base, "kubectl-custody") == 0)
		cli_progname = "kubectl custody";
	if (getenv("KCUSTODY_DEBUG") != NULL)
		kc_log_set_level(KC_LOG_DEBUG);
	if (argc < 2) {
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    (strcmp(argv[1], "help") == 0 && argc == 2)) {
		usage(stdout);
		return KC_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		print_version();
		return KC_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0)
		return help_command(argv[2]);
	if ((ci = find_command(argv[1])) >= 0)
		return run_command(ci, argc - 1, argv + 1);
	return unknown_command(argv[1]);
}
