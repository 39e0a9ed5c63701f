/* cmd_completion.c - shell completion scripts (bash, zsh, fish).
 *
 * Commands come from the command table; a command's options are read at
 * completion time from its own --help, so the scripts never go stale. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void
completion_usage(FILE *f)
{
	fprintf(f, "usage: %s completion bash|zsh|fish\n\n"
	    "Print a completion script for the shell.  For example:\n"
	    "  bash:  source <(kcustody completion bash)   (or save it in\n"
	    "         /etc/bash_completion.d/kcustody)\n"
	    "  zsh:   source <(kcustody completion zsh)\n"
	    "  fish:  kcustody completion fish | source\n", cli_progname);
}

static void
names(char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; cli_command_name(i) != NULL; i++) {
		int k = snprintf(out + used, n - used, "%s%s", used ? " " : "", cli_command_name(i));

		if (k < 0 || (size_t)k >= n - used)
			break;
		used += (size_t)k;
	}
}

/* The completion function bash runs, and zsh through bashcompinit. */
static void
bash_function(const char *cmds)
{
	printf("_kcustody() {\n"
	    "\tlocal cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]}\n"
	    "\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n"
	    "\t\tCOMPREPLY=($(compgen -W \"%s help version\" -- \"$cur\"))\n"
	    "\t\treturn\n"
	    "\tfi\n"
	    "\tcase $cur in\n"
	    "\t-*) COMPREPLY=($(compgen -W \"$(\"${COMP_WORDS[0]}\" \"$cmd\" --help 2>/dev/null |"
	    " grep -o -- '--[a-z][a-z0-9-]*' | sort -u)\" -- \"$cur\")) ;;\n"
	    "\t*) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
	    "\tesac\n"
	    "}\n"
	    "complete -o filenames -F _kcustody kcustody kubectl-custody\n", cmds);
}

KC_COMMAND(completion, "print a shell completion script (bash, zsh, fish)")
{
	char cmds[1024];

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		completion_usage(stdout);
		return KC_EXIT_OK;
	}
	if (argc != 2)
		return cli_bad_args();
	names(cmds, sizeof(cmds));
	if (strcmp(argv[1], "bash") == 0) {
		printf("# bash completion for kcustody\n");
		bash_function(cmds);
	} else if (strcmp(argv[1], "zsh") == 0) {
		printf("#compdef kcustody kubectl-custody\n"
		    "# zsh completion for kcustody (the bash function, through bashcompinit)\n"
		    "autoload -U +X bashcompinit && bashcompinit\n");
		bash_function(cmds);
	} else if (strcmp(argv[1], "fish") == 0) {
		printf("# fish completion for kcustody\n"
		    "complete -c kcustody -f -n '__fish_use_subcommand' -a '%s help version'\n"
		    "function __kcustody_opts\n"
		    "\tset -l cmd (commandline -opc)[2]\n"
		    "\tkcustody $cmd --help 2>/dev/null | string match -r -a -- '--[a-z][a-z0-9-]*' | sort -u |"
		    " string replace -- '--' ''\n"
		    "end\n"
		    "complete -c kcustody -n 'not __fish_use_subcommand' -l '(__kcustody_opts)' -r\n"
		    "complete -c kcustody -n 'not __fish_use_subcommand' -F\n", cmds);
	} else {
		cli_error("completion: shell must be bash, zsh or fish, not '%s'", argv[1]);
		return KC_EXIT_USAGE;
	}
	return KC_EXIT_OK;
}
