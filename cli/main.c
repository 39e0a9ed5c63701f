/* main.c - subcommand dispatch. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "manifest/sign.h"
#include "util/err.h"
#include "util/log.h"

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
		snprintf(name, sizeof(name), "%s", commands[i].name);
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

int
main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	int r;

	base = base ? base + 1 : argv[0];
	if (strcmp(base, "kubectl-custody") == 0)
		cli_progname = "kubectl custody";
	if (getenv("KCUSTODY_DEBUG") != NULL)
		kc_log_set_level(KC_LOG_DEBUG);
	if (argc < 2) {
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return KC_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("kcustody %s\n", KC_VERSION);
		return KC_EXIT_OK;
	}
	for (size_t i = 0; commands[i].name != NULL; i++) {
		char want[32];

		snprintf(want, sizeof(want), "%s", argv[1]);
		for (char *p = want; *p; p++)
			if (*p == '-')
				*p = '_';
		if (strchr(argv[1], '_') == NULL && strcmp(want, commands[i].name) == 0) {
			if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
				cli_error("cannot initialise libcurl");
				return KC_EXIT_FATAL;
			}
			r = commands[i].fn(argc - 1, argv + 1);
			curl_global_cleanup();
			fflush(stdout);
			if (ferror(stdout)) {
				cli_error("write error on standard output");
				return r ? r : KC_EXIT_FATAL;
			}
			return r;
		}
	}
	cli_error("unknown command '%s' (see '%s --help')", argv[1], cli_progname);
	return KC_EXIT_USAGE;
}
