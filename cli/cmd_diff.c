/* cmd_diff.c - kcustody diff PRE POST */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "manifest/bundle.h"
#include "formats/report_html.h"
#include "manifest/ledger.h"
#include "rbac/diff.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/mem.h"
#include "util/timeutil.h"

static void
diff_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s diff PRE POST [options]\n\n"
	    "Compare the evidence before and after a remediation: permissions of each\n"
	    "agent service account removed, added and kept; RBAC objects changed;\n"
	    "findings resolved, persisting and new (AGR-025); agent pods older than\n"
	    "the remediation; denied requests and sensitive reads in POST's audit\n"
	    "segment.  Both bundles are verified first.\n\n"
	    "  --format FMT           text (default), json, md or html (a self-contained page)\n"
	    "  -o FILE                write the output to FILE (atomically; an existing file\n"
	    "                         is not replaced without --force)\n"
	    "  --force                replace an existing output file\n"
	    "  --pubkey F | --ca F    the key or CA the bundles must be signed with\n"
	    "  --tsa-ca F             CA for the bundles' time-stamp tokens\n"
	    "  --allow-unsigned       accept unsigned bundles (stated in the output)\n"
	    "  --no-verify            compare without verifying (stated in the output)\n"
	    "  --remediated-at T      when the remediation happened (RFC 3339;\n"
	    "                         default: the end of the PRE collection)\n"
	    "  --seal OUT             also seal the diff (json, md, txt, html) as a signed\n"
	    "                         bundle naming PRE and POST by SHA-256; OUT is a\n"
	    "                         file or a folder for the generated name\n"
	    "  --key KEY.pem [--cert CERT.pem] [--passphrase-file F] | --no-sign\n"
	    "                         how --seal signs\n\n"
	    "Exit status: 0 done, 2 usage error or bundles that cannot be compared\n"
	    "(different clusters, PRE not older than POST), 3 a bundle failed\n"
	    "verification, 4 fatal.\n", cli_progname);
}

enum { O_FORMAT = 256, O_PUBKEY, O_CA, O_TSACA, O_NOVERIFY, O_UNSIGNED, O_REMAT, O_SEAL,
	O_KEY, O_CERT, O_PASS, O_NOSIGN, O_FORCE };

static int
write_out(const char *path, const struct kc_buf *b)
{
	if (path == NULL) {
		fwrite(kc_buf_str(b), 1, b->len, stdout);
		return 0;
	}
	return cli_write_output(path, kc_buf_str(b), b->len, 0644);
}

static int
seal_diff(const cJSON *d, const char *out, const struct kc_seal_opts *so, char **final)
{
	char tmpl[4096], name[512], *dir = NULL, *txt = NULL;
	struct kc_buf b = KC_BUF_INIT(256u << 20);
	cJSON *m = NULL, *files, *f, *pre, *post;
	struct stat st;
	time_t now = kc_now();
	int r;

	*final = NULL;
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(d, "post");
		const cJSON *cid = cJSON_GetObjectItemCaseSensitive(c, "case");
		const cJSON *uid = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(d, "cluster"), "kube_system_uid");
		char cl[16];
		size_t nl;

		snprintf(cl, sizeof(cl), "%.8s", cJSON_IsString(uid) ? uid->valuestring : "cluster");
		if ((r = kc_bundle_name(cJSON_IsString(cid) ? cid->valuestring : "case", "diff",
		    cl, now, name, sizeof(name) - 8)) != 0)
			return r;
		nl = strlen(name);
		if (nl < 7 || strcmp(name + nl - 7, ".tar.gz") != 0)
			snprintf(name + nl, sizeof(name) - nl, ".tar.gz");
		if ((*final = kc_path_join(out, name)) == NULL)
			return kc_err_set(KC_ERR_NOMEM, "out of memory");
	} else if ((*final = kc_strdup(out)) == NULL) {
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	if ((dir = kc_dirname(*final)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	snprintf(tmpl, sizeof(tmpl), "%s/.kcustody-staging.XXXXXX", dir);
	free(dir);
	if (mkdtemp(tmpl) == NULL)
		return kc_err_set(KC_ERR_IO, "cannot create a staging folder: %s", strerror(errno));
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "schema", "kcustody.bundle/v1");
	cJSON_AddNumberToObject(m, "schema_version", 1);
	cJSON_AddStringToObject(m, "kind", "recertification-diff");
	pre = cJSON_AddObjectToObject(m, "compares");
	post = cJSON_GetObjectItemCaseSensitive(d, "pre");
	cJSON_AddStringToObject(pre, "pre_sha256", cJSON_GetObjectItemCaseSensitive(post, "sha256")->valuestring);
	cJSON_AddStringToObject(pre, "pre_bundle_id", cJSON_GetObjectItemCaseSensitive(post, "bundle_id")->valuestring);
	post = cJSON_GetObjectItemCaseSensitive(d, "post");
	cJSON_AddStringToObject(pre, "post_sha256", cJSON_GetObjectItemCaseSensitive(post, "sha256")->valuestring);
	cJSON_AddStringToObject(pre, "post_bundle_id", cJSON_GetObjectItemCaseSensitive(post, "bundle_id")->valuestring);
	{
		cJSON *c = cJSON_AddObjectToObject(m, "case");
		char tb[40];
		cJSON_AddStringToObject(c, "id", cJSON_GetObjectItemCaseSensitive(post, "case")->valuestring);
		cJSON_AddStringToObject(c, "phase", "diff");
		cJSON *t = cJSON_AddObjectToObject(m, "times");
		cJSON_AddStringToObject(t, "finished", kc_fmt_rfc3339(now, tb, sizeof(tb)));
		cJSON *col = cJSON_AddObjectToObject(m, "collector");
		cJSON_AddStringToObject(col, "tool", "kcustody");
		cJSON_AddStringToObject(col, "version", KC_VERSION);
	}
	cJSON_AddItemToObject(m, "summary", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(d, "summary"), 1));
	files = cJSON_AddArrayToObject(m, "files");
	for (int k = 0; k < 4; k++) {
		static const char *const names[] = { "diff.json", "diff.md", "diff.txt", "diff.html" };
		static const char *const types[] = { "application/json", "text/markdown", "text/plain",
		    "text/html" };
		char *path;

		kc_buf_reset(&b);
		if (k == 0) {
			txt = cJSON_Print(d);
			r = txt ? kc_buf_adds(&b, txt) : KC_ERR_NOMEM;
			free(txt);
		} else if (k == 1) {
			r = kc_diff_render_md(d, &b);
		} else if (k == 2) {
			r = kc_diff_render_text(d, &b);
		} else {
			r = kc_diff_render_html(d, &b);
		}
		if (r != 0 || (path = kc_path_join(tmpl, names[k])) == NULL)
			goto fail;
		r = kc_write_file_atomic(path, kc_buf_str(&b), b.len, 0600);
		free(path);
		if (r != 0)
			goto fail;
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "path", names[k]);
		cJSON_AddStringToObject(f, "media_type", types[k]);
		cJSON_AddBoolToObject(f, "derived", 1);
		cJSON *src = cJSON_AddArrayToObject(f, "sources");
		cJSON_AddItemToArray(src, cJSON_CreateString(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(d, "pre"), "sha256")->valuestring));
		cJSON_AddItemToArray(src, cJSON_CreateString(cJSON_GetObjectItemCaseSensitive(post, "sha256")->valuestring));
		cJSON_AddItemToArray(files, f);
	}
	{
		struct kc_seal_opts o = *so;
		o.mtime = now;
		r = kc_bundle_seal(tmpl, m, &o, *final);
	}
fail:
	kc_rm_rf(tmpl);
	cJSON_Delete(m);
	kc_buf_free(&b);
	return r;
}

KC_COMMAND(diff, "compare PRE and POST bundles: the remediation's permission delta")
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, O_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "pubkey", required_argument, NULL, O_PUBKEY },
		{ "ca", required_argument, NULL, O_CA },
		{ "tsa-ca", required_argument, NULL, O_TSACA },
		{ "no-verify", no_argument, NULL, O_NOVERIFY },
		{ "allow-unsigned", no_argument, NULL, O_UNSIGNED },
		{ "remediated-at", required_argument, NULL, O_REMAT },
		{ "seal", required_argument, NULL, O_SEAL },
		{ "key", required_argument, NULL, O_KEY },
		{ "cert", required_argument, NULL, O_CERT },
		{ "passphrase-file", required_argument, NULL, O_PASS },
		{ "no-sign", no_argument, NULL, O_NOSIGN },
		{ "force", no_argument, NULL, O_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kc_diff_opts o;
	struct kc_seal_opts so;
	struct kc_buf b = KC_BUF_INIT(1u << 30);
	const char *format = "text", *output = NULL, *seal = NULL;
	cJSON *d = NULL;
	char *final = NULL, *txt;
	int c, r, ret = KC_EXIT_FATAL, force = 0;

	memset(&o, 0, sizeof(o));
	memset(&so, 0, sizeof(so));
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case O_FORMAT: format = optarg; break;
		case 'o': output = optarg; break;
		case O_FORCE: force = 1; break;
		case O_PUBKEY: o.pubkey_path = optarg; break;
		case O_CA: o.ca_path = optarg; break;
		case O_TSACA: o.tsa_ca = optarg; break;
		case O_NOVERIFY: o.no_verify = 1; break;
		case O_UNSIGNED: o.allow_unsigned = 1; break;
		case O_REMAT: o.remediated_at = optarg; break;
		case O_SEAL: seal = optarg; break;
		case O_KEY: so.key_path = optarg; break;
		case O_CERT: so.cert_path = optarg; break;
		case O_PASS: so.passphrase_file = optarg; break;
		case O_NOSIGN: so.no_sign = 1; break;
		case 'h': diff_usage(stdout); return KC_EXIT_OK;
		default: return cli_bad_option(argv);
		}
	}
	if (argc - optind != 2) {
		cli_error("diff needs two bundles: PRE POST");
		return KC_EXIT_USAGE;
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 && strcmp(format, "md") != 0 &&
	    strcmp(format, "html") != 0) {
		cli_error("--format must be text, json, md or html, not '%s'", format);
		return KC_EXIT_USAGE;
	}
	if (!o.no_verify && o.pubkey_path == NULL && o.ca_path == NULL && !o.allow_unsigned) {
		cli_error("give the key the bundles were signed with (--pubkey or --ca), "
		    "or --allow-unsigned / --no-verify");
		return KC_EXIT_USAGE;
	}
	if (!o.no_verify && cli_check_trust(o.pubkey_path, o.ca_path, o.tsa_ca) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	if (cli_check_output(output, force) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	if (seal != NULL && so.key_path == NULL && !so.no_sign) {
		cli_error("--seal needs --key KEY.pem or --no-sign");
		return KC_EXIT_USAGE;
	}
	o.pre = argv[optind];
	o.post = argv[optind + 1];
	if ((r = kc_diff_bundles(&o, &d)) != 0) {
		cli_error("%s", kc_err_msg());
		return r == KC_ERR_VERIFY ? KC_EXIT_INVALID : r == KC_ERR_INVALID ? KC_EXIT_USAGE :
		    r == KC_ERR_IO ? KC_EXIT_USAGE : KC_EXIT_FATAL;
	}
	if (strcmp(format, "json") == 0) {
		if ((txt = cJSON_Print(d)) == NULL || kc_buf_adds(&b, txt) != 0 || kc_buf_addc(&b, '\n') != 0) {
			free(txt);
			cli_error("out of memory");
			goto out;
		}
		free(txt);
	} else if (strcmp(format, "md") == 0) {
		kc_diff_render_md(d, &b);
	} else if (strcmp(format, "html") == 0) {
		if (kc_diff_render_html(d, &b) != 0) {
			cli_error("%s", kc_err_msg());
			goto out;
		}
	} else {
		kc_diff_render_text(d, &b);
	}
	if (write_out(output, &b) != 0) {
		cli_error("%s", kc_err_msg());
		goto out;
	}
	if (seal != NULL) {
		if (seal_diff(d, seal, &so, &final) != 0) {
			cli_error("cannot seal the diff: %s", kc_err_msg());
			goto out;
		}
		if (!so.no_sign) {
			struct kc_ledger_actor actor = { getenv("USER") ? getenv("USER") : "kcustody", NULL };
			if (kc_ledger_seal_entry(final, so.key_path, so.passphrase_file, &actor,
			    "recertification diff", "local") != 0)
				cli_error("warning: diff sealed, but no custody ledger was started: %s", kc_err_msg());
		}
		fprintf(stderr, "kcustody: sealed diff %s\n", final);
	}
	ret = KC_EXIT_OK;
out:
	free(final);
	kc_buf_free(&b);
	cJSON_Delete(d);
	return ret;
}
