/* cmd_inspect.c - kcustody inspect: read a bundle without unpacking it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "manifest/bundle.h"
#include "manifest/manifest.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/log.h"

static void
inspect_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s inspect BUNDLE [MEMBER] [--list] [--json]\n\n"
	    "Without MEMBER: a summary of MANIFEST.json and the member list.\n"
	    "With MEMBER (a path inside the top folder, e.g. MANIFEST.json or\n"
	    "raw/clusterroles/page-0001.json): that member's bytes on stdout.\n"
	    "Read straight from the archive; nothing is written to disk.  This does\n"
	    "not verify the bundle: use '%s verify'.\n\n"
	    "  --list     only the member list (size and path)\n"
	    "  --json     the manifest as stored (MANIFEST.json); = --format json\n"
	    "  --format FMT  text, json (= --json) or yaml (the manifest as YAML)\n",
	    cli_progname, cli_progname);
}

static int
stdout_sink(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	if (fwrite(p, 1, n, stdout) != n)
		return kc_err_set(KC_ERR_IO, "write error on standard output");
	return 0;
}

static int
print_entry(void *ctx, const struct kc_tar_entry *e)
{
	char safe[1200];

	(void)ctx;
	if (!e->is_dir)
		printf("%12llu  %s\n", (unsigned long long)e->size, kc_safe_str(e->path, safe, sizeof(safe)));
	return 0;
}

/* One level of scalars: "key: value", objects as "key.sub: value". */
static void
print_scalars(const cJSON *o, const char *prefix, int depth)
{
	const cJSON *it;
	char safe[600], name[256], key[200];

	cJSON_ArrayForEach(it, o) {
		if (it->string == NULL || strcmp(it->string, "files") == 0)
			continue;
		/* Keys come from the bundle, like values: escaped before printing
		 * (prefix is a key escaped one level up). */
		kc_fmt_trunc(name, sizeof(name), "%s%s%s", prefix,	/* a display column */ prefix[0] ? "." : "",
		    kc_safe_str(it->string, key, sizeof(key)));
		if (cJSON_IsString(it))
			printf("  %-28s %s\n", name, kc_safe_str(it->valuestring, safe, sizeof(safe)));
		else if (cJSON_IsNumber(it))
			printf("  %-28s %.17g\n", name, it->valuedouble);
		else if (cJSON_IsBool(it))
			printf("  %-28s %s\n", name, cJSON_IsTrue(it) ? "true" : "false");
		else if (cJSON_IsArray(it))
			printf("  %-28s [%d entries]\n", name, cJSON_GetArraySize(it));
		else if (cJSON_IsObject(it) && depth < 1)
			print_scalars(it, name, depth + 1);
	}
}

static int
summary(const char *bundle)
{
	struct kc_buf b;
	cJSON *m;
	const cJSON *files;
	int r;

	if ((r = kc_bundle_get_member(bundle, "MANIFEST.json", KC_MANIFEST_MAX, &b)) != 0) {
		kc_buf_free(&b);
		return r;
	}
	m = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
	kc_buf_free(&b);
	if (!cJSON_IsObject(m)) {
		cJSON_Delete(m);
		return kc_err_set(KC_ERR_PARSE, "MANIFEST.json is not a JSON object");
	}
	printf("manifest:\n");
	print_scalars(m, "", 0);
	files = kc_json_get(m, "files");
	printf("  %-28s %d\n", "files", cJSON_IsArray(files) ? cJSON_GetArraySize(files) : 0);
	cJSON_Delete(m);
	printf("members:\n");
	return 0;
}

KC_COMMAND(inspect, "show a bundle's manifest, members, or one member")
{
	static const struct option opts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, KC_OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, list = 0, json = 0, r;
	const char *bundle;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': list = 1; break;
		case 'j': json = 1; break;
		case KC_OPT_FORMAT: if (cli_parse_format(optarg, &json) != KC_EXIT_OK) return KC_EXIT_USAGE; break;
		case 'h': inspect_usage(stdout); return KC_EXIT_OK;
		default: return cli_bad_option(argv);
		}
	}
	if (optind >= argc || argc - optind > 2) {
		return cli_bad_args();
	}
	bundle = argv[optind];
	if (json == CLI_FMT_YAML && argc - optind == 1) {
		/* the manifest as YAML: derived from MANIFEST.json, which
		 * --format json prints byte for byte */
		struct kc_buf m = KC_BUF_INIT(256u << 20);

		r = kc_bundle_read_member(bundle, "MANIFEST.json", kc_bundle_buf_sink, &m);
		if (r != 0) {
			kc_buf_free(&m);
			return cli_fail(r == KC_ERR_NOTFOUND ? KC_EXIT_USAGE : KC_EXIT_INVALID, "inspect");
		}
		r = cli_print_json_text(kc_buf_str(&m), m.len, json);
		kc_buf_free(&m);
		return r;
	}
	if (argc - optind == 2 || json) {
		r = kc_bundle_read_member(bundle, json ? "MANIFEST.json" : argv[optind + 1], stdout_sink, NULL);
		return r == 0 ? KC_EXIT_OK : cli_fail(r == KC_ERR_NOTFOUND ? KC_EXIT_USAGE : KC_EXIT_INVALID, "inspect");
	}
	if (!list && (r = summary(bundle)) != 0)
		return cli_fail(r == KC_ERR_IO ? KC_EXIT_USAGE : KC_EXIT_INVALID, "inspect");
	if ((r = kc_bundle_list(bundle, print_entry, NULL)) != 0)
		return cli_fail(r == KC_ERR_IO ? KC_EXIT_USAGE : KC_EXIT_INVALID, "inspect");
	return KC_EXIT_OK;
}
