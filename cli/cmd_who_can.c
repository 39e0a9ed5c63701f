/* cmd_who_can.c - `kcustody who-can SOURCE VERB RESOURCE [-n NS] [--json]`:
 * the subjects that can VERB RESOURCE, cluster-wide and per namespace, with
 * groups expanded to the service accounts they hold (rbac/whocan.h).
 * SOURCE is a sealed bundle or an unsealed evidence folder.  RESOURCE is "res", "res.group", "res/sub" or "res.group/sub". */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/log.h"
#include "collector/snapshot.h"
#include "rbac/eval.h"
#include "rbac/source.h"
#include "rbac/whocan.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"

static void
who_can_usage(FILE *f)
{
	fprintf(f, "usage: %s who-can SOURCE VERB RESOURCE [-n NS] [--json]\n\n"
	    "List who can VERB RESOURCE (res, res.group, res/sub) according to the\n"
	    "collected RBAC, cluster-wide and per namespace; groups are expanded to\n"
	    "the service accounts they contain.\n\n"
	    "  -n, --namespace NS   only RoleBindings of NS (ClusterRoleBindings always)\n"
	    "  --json               machine output (= --format json)\n"
	    "  --format FMT         text, json or yaml (the JSON document as YAML)\n", cli_progname);
}

KC_COMMAND(who_can, "list who can do VERB on RESOURCE, groups expanded to service accounts")
{
	static const struct option longopts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, KC_OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ns = NULL;
	int c, json = 0, ret = KC_EXIT_OK;
	struct kc_snapshot snap;
	struct kc_rbac rb;
	struct kc_source src;
	cJSON *res = NULL;

	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': ns = optarg; break;
		case 'j': json = 1; break;
		case KC_OPT_FORMAT: if (cli_parse_format(optarg, &json) != KC_EXIT_OK) return KC_EXIT_USAGE; break;
		case 'h': who_can_usage(stdout); return KC_EXIT_OK;
		default: return cli_bad_option(argv);
		}
	}
	if (optind + 3 != argc) {
		return cli_bad_args();
	}
	if (kc_source_open(argv[optind], &src) != 0)
		return cli_fail(KC_EXIT_USAGE, NULL);
	c = kc_source_snapshot(&src, &snap);
	kc_source_close(&src);
	if (c != 0)
		return cli_fail(KC_EXIT_FATAL, "cannot load snapshot");
	if (kc_rbac_init(&rb, &snap) != 0) {
		kc_snapshot_free(&snap);
		return cli_fail(KC_EXIT_FATAL, NULL);
	}
	if (kc_whocan(&rb, argv[optind + 1], argv[optind + 2], ns, &res) != 0) {
		ret = cli_fail(KC_EXIT_USAGE, NULL);
		goto done;
	}
	if (kc_json_str(res, "warning") != NULL) {
		char safe[1024];

		fprintf(stderr, "%s who-can: warning: %s\n", cli_progname,
		    kc_safe_str(kc_json_str(res, "warning"), safe, sizeof(safe)));
	}
	if (json) {
		ret = cli_print_doc(res, json);
	} else {
		struct kc_buf out = KC_BUF_INIT(256u << 20);

		if (kc_whocan_text(res, &out) == 0)
			fputs(kc_buf_str(&out), stdout);
		else
			ret = cli_fail(KC_EXIT_FATAL, NULL);
		kc_buf_free(&out);
	}
done:
	cJSON_Delete(res);
	kc_rbac_free(&rb);
	kc_snapshot_free(&snap);
	return ret;
}
