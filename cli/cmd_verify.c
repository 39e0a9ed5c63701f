/* cmd_verify.c - kcustody verify: check a sealed bundle. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "manifest/auditchain_bundle.h"
#include "manifest/ledger.h"
#include "util/buf.h"
#include "manifest/bundle.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/log.h"

static void
verify_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s verify BUNDLE [--pubkey PUB.pem | --ca CA.pem] [--tsa-ca CA.pem]\n"
	    "       [--allow-unsigned] [--json]\n\n"
	    "Check a bundle without unpacking it: structure (one top folder, no links,\n"
	    "devices, '..' or duplicates, sizes within caps, every member listed in\n"
	    "SHA256SUMS and every entry present, gzip trailer), every hash, MANIFEST.json\n"
	    "against SHA256SUMS, the signature and the RFC 3161 time-stamp.\n\n"
	    "  --pubkey PUB.pem       the signer's public key (raw Ed25519, or the CMS signer's key)\n"
	    "  --ca CA.pem            trust anchors for a CMS signature\n"
	    "  --tsa-ca CA.pem        trust anchors for the time-stamp token (and, without\n"
	    "                         --audit-chain-tsa-ca, for the audit-sink chain's)\n"
	    "  --allow-unsigned       accept an unsigned bundle, or one whose signature is\n"
	    "                         not checked because no key was given (integrity only)\n"
	    "  --max-member BYTES     per-member size cap (default 4 GiB)\n"
	    "  --max-total BYTES      decompressed size cap (default 64 GiB)\n"
	    "  --json                 machine-readable result (= --format json)\n"
	    "  --format FMT           text, json or yaml (the JSON document as YAML)\n"
	    "  --trust-keys FILE      keys trusted to sign custody entries (docs/CUSTODY.md)\n"
	    "  --ledger FILE          the custody ledger (default: BUNDLE.custody.jsonl)\n"
	    "  --require-custody      a missing custody ledger makes the bundle invalid\n"
	    "                         (implied by --trust-keys)\n"
	    "  --no-ledger            do not check the custody ledger\n"
	    CLI_HELP_AUDIT_CHAIN "\n"
	    "A bundle holding audit events gets an \"audit\" line: its continuity (signed\n"
	    "chain, hash chain, inferred from timestamps) and gaps; a copied chain that\n"
	    "does not verify from the bundle's members makes the bundle invalid.  Its\n"
	    "records' RFC 3161 tokens are checked with --audit-chain-tsa-ca (one that\n"
	    "fails makes the bundle invalid); without a CA the line says they are\n"
	    "present but not checked.\n"
	    "The bundle's own claims about its signer are never trusted: without --pubkey\n"
	    "or --ca a signed bundle is not valid unless --allow-unsigned is given.\n"
	    "Exit status: 0 valid, 3 invalid, 2 usage error or unreadable file.\n",
	    cli_progname);
}

enum { OPT_PUB = 256, OPT_CA, OPT_TSACA, OPT_UNSIGNED, OPT_JSON, OPT_MAXM, OPT_MAXT, OPT_TRUST,
	OPT_LEDGER, OPT_NOLEDGER, OPT_REQCUST, OPT_CHAINPUB, OPT_CHAINTSA };

static const struct option verify_opts[] = {
	{ "pubkey", required_argument, NULL, OPT_PUB },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "tsa-ca", required_argument, NULL, OPT_TSACA },
	{ "allow-unsigned", no_argument, NULL, OPT_UNSIGNED },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "format", required_argument, NULL, KC_OPT_FORMAT },
	{ "trust-keys", required_argument, NULL, OPT_TRUST },
	{ "ledger", required_argument, NULL, OPT_LEDGER },
	{ "no-ledger", no_argument, NULL, OPT_NOLEDGER },
	{ "require-custody", no_argument, NULL, OPT_REQCUST },
	{ "audit-chain-pubkey", required_argument, NULL, OPT_CHAINPUB },
	{ "audit-chain-tsa-ca", required_argument, NULL, OPT_CHAINTSA },
	{ "max-member", required_argument, NULL, OPT_MAXM },
	{ "max-total", required_argument, NULL, OPT_MAXT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const char *
state_name(enum kc_check_state s)
{
	return s == KC_CHECK_OK ? "ok" : s == KC_CHECK_FAILED ? "FAILED" : "skipped";
}

static void
print_json(const char *bundle, const struct kc_verify_result *res, cJSON *custody, cJSON *audit, int valid, int fmt)
{
	cJSON *o = cJSON_CreateObject(), *arr;

	cJSON_AddStringToObject(o, "bundle", bundle);
	cJSON_AddBoolToObject(o, "valid", valid);
	cJSON_AddStringToObject(o, "top", res->top);
	cJSON_AddNumberToObject(o, "members", (double)res->members);
	cJSON_AddNumberToObject(o, "bytes", (double)res->bytes);
	cJSON_AddStringToObject(o, "signatureKind", res->sig_kind == KC_SIG_ED25519 ? "ed25519" :
	    res->sig_kind == KC_SIG_CMS ? "cms" : "none");
	if (res->signer[0])
		cJSON_AddStringToObject(o, "signer", res->signer);
	if (res->tsa_time[0])
		cJSON_AddStringToObject(o, "timestamp", res->tsa_time);
	arr = cJSON_AddArrayToObject(o, "checks");
	for (int i = 0; i < KC_CHECK_COUNT; i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "name", res->checks[i].name);
		cJSON_AddStringToObject(c, "status", res->checks[i].state == KC_CHECK_OK ? "ok" :
		    res->checks[i].state == KC_CHECK_FAILED ? "failed" : "skipped");
		cJSON_AddStringToObject(c, "detail", res->checks[i].detail);
		cJSON_AddItemToArray(arr, c);
	}
	if (custody != NULL)
		cJSON_AddItemReferenceToObject(o, "custody", custody);
	if (audit != NULL)
		cJSON_AddItemReferenceToObject(o, "auditContinuity", audit);
	cli_print_doc(o, fmt);
	cJSON_Delete(o);
}

static void
print_human(const char *bundle, const struct kc_verify_result *res, const char *custody_state,
    const char *custody_detail, const char *history, const cJSON *audit, int audit_bad, int valid)
{
	char safe[512];
	const char *failed = NULL;

	printf("bundle: %s\n", kc_safe_str(bundle, safe, sizeof(safe)));
	for (int i = 0; i < KC_CHECK_COUNT; i++) {
		printf("  %-10s %-8s %s\n", res->checks[i].name, state_name(res->checks[i].state),
		    kc_safe_str(res->checks[i].detail, safe, sizeof(safe)));
		if (res->checks[i].state == KC_CHECK_FAILED && failed == NULL)
			failed = res->checks[i].name;
	}
	printf("  %-10s %-8s %s\n", "custody", custody_state, kc_safe_str(custody_detail, safe, sizeof(safe)));
	if (failed == NULL && strcmp(custody_state, "FAILED") == 0)
		failed = "custody";
	if (audit != NULL) {
		printf("  %-10s %-8s %s\n", "audit", audit_bad ? "FAILED" : "ok",
		    kc_safe_str(kc_achain_continuity_line(audit), safe, sizeof(safe)));
		if (audit_bad) {
			const cJSON *c, *p;

			cJSON_ArrayForEach(c, kc_json_get(audit, "chains"))
				cJSON_ArrayForEach(p, kc_json_get(c, "tampering")) {
					char s2[256];

					printf("    chain %s: %s: %s\n", kc_safe_str(kc_json_str0(c, "path"), s2, sizeof(s2)),
					    kc_json_str0(p, "file"), kc_safe_str(kc_json_str0(p, "problem"), safe, sizeof(safe)));
				}
			if (failed == NULL)
				failed = "audit";
		}
	}
	if (history != NULL && history[0] != '\0')
		printf("custody history:\n%s", history);
	if (valid)
		printf("VALID\n");
	else
		printf("INVALID (%s check failed)\n", failed ? failed : "structure");
}

static int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s || v == 0)
		return -1;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M')
		v <<= 20, end++;
	else if (*end == 'G')
		v <<= 30, end++;
	if (*end == 'i')
		end++;
	if (*end == 'B')
		end++;
	*out = v;
	return *end == '\0' ? 0 : -1;
}

struct verify_args {
	struct kc_verify_opts vo;
	const char *trust, *ledger, *bundle, *chain_pubkey, *chain_tsa_ca;
	int no_ledger, require_custody, json;
};

/* Options and operand: KC_EXIT_OK, or the exit status (-h: -1). */
static int
parse_args(int argc, char **argv, struct verify_args *a)
{
	int c;

	while ((c = getopt_long(argc, argv, "h", verify_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PUB: a->vo.pubkey_path = optarg; break;
		case OPT_CA: a->vo.ca_path = optarg; break;
		case OPT_TSACA: a->vo.tsa_ca = optarg; break;
		case OPT_UNSIGNED: a->vo.allow_unsigned = 1; break;
		case OPT_JSON: a->json = 1; break;
		case KC_OPT_FORMAT: if (cli_parse_format(optarg, &a->json) != KC_EXIT_OK) return KC_EXIT_USAGE; break;
		case OPT_TRUST: a->trust = optarg; break;
		case OPT_LEDGER: a->ledger = optarg; break;
		case OPT_NOLEDGER: a->no_ledger = 1; break;
		case OPT_REQCUST: a->require_custody = 1; break;
		case OPT_CHAINPUB: a->chain_pubkey = optarg; break;
		case OPT_CHAINTSA: a->chain_tsa_ca = optarg; break;
		case OPT_MAXM:
		case OPT_MAXT:
			if (parse_size(optarg, c == OPT_MAXM ? &a->vo.limits.max_member : &a->vo.limits.max_total) != 0) {
				cli_error("not a size: '%s'", optarg);
				return KC_EXIT_USAGE;
			}
			break;
		case 'h': verify_usage(stdout); return -1;
		default: return cli_bad_option(argv);
		}
	}
	if (optind + 1 != argc) {
		return cli_bad_args();
	}
	a->bundle = argv[optind];
	return KC_EXIT_OK;
}

/* The custody ledger beside the bundle (docs/CUSTODY.md): chain,
 * signatures, bundle hash in every entry, times, transfer pairing.
 * Sets the state and detail of the custody line, *report, and clears
 * *valid when custody fails; the history for the text output in hist. */
static void
check_custody(const struct verify_args *a, const char **cstate, char *cdetail, size_t n,
    cJSON **report, struct kc_buf *hist, int *valid)
{
	int r;

	if (a->no_ledger) {
		*cstate = "skipped";
		kc_fmt_trunc(cdetail, n, "--no-ledger");
		return;
	}
	r = kc_ledger_verify(a->bundle, a->ledger, a->trust, report);
	if (r == KC_ERR_NOTFOUND && a->ledger == NULL && !a->require_custody) {
		*cstate = "skipped";
		kc_fmt_trunc(cdetail, n, "no custody ledger beside the bundle");
	} else if (r == KC_ERR_NOTFOUND) {
		*cstate = "FAILED";
		*valid = 0;
		kc_fmt_trunc(cdetail, n, "no custody ledger%s: the chain of custody "
		    "cannot be shown (deleted, or never written)", a->ledger ? "" :
		    " beside the bundle");
		if ((*report = cJSON_CreateObject()) != NULL) {
			cJSON_AddBoolToObject(*report, "verified", 0);
			cJSON_AddBoolToObject(*report, "missing", 1);
			cJSON_AddStringToObject(*report, "reason", cdetail);
		}
	} else if (r == 0) {
		const cJSON *entries = kc_json_get(*report, "entries");

		*cstate = "ok";
		kc_fmt_trunc(cdetail, n, "%d ledger entries, chain and signatures intact%s",
		    cJSON_IsNumber(entries) ? entries->valueint : 0,
		    a->trust ? ", signers trusted" : " (no --trust-keys: signers checked against their own keys only)");
	} else {
		*cstate = "FAILED";
		*valid = 0;
		kc_fmt_trunc(cdetail, n, "%s", r == KC_ERR_VERIFY ? "the custody ledger does not verify" : kc_err_msg());
	}
	if (*report != NULL && !a->json && r != KC_ERR_NOTFOUND)
		kc_ledger_render_text(*report, hist);
}

KC_COMMAND(verify, "check a bundle's structure, hashes, manifest, signature and time-stamp")
{
	struct verify_args a;
	const char *cstate = "skipped";
	char cdetail[512] = "";
	struct kc_buf hist = KC_BUF_INIT(16u << 20);
	cJSON *report = NULL, *audit = NULL;
	struct kc_verify_result res;
	int r, valid, audit_bad = 0;

	memset(&a, 0, sizeof(a));
	if ((r = parse_args(argc, argv, &a)) != KC_EXIT_OK)
		return r == -1 ? KC_EXIT_OK : r;
	if (a.no_ledger && (a.require_custody || a.trust != NULL)) {
		cli_error("--no-ledger cannot be given with --require-custody or --trust-keys");
		return KC_EXIT_USAGE;
	}
	/* Trusting custody signers means nothing without their ledger: a
	 * deleted ledger must not turn "custody checked" into "skipped". */
	if (a.trust != NULL)
		a.require_custody = 1;
	if (a.vo.pubkey_path != NULL && a.vo.ca_path != NULL) {
		cli_error("give --pubkey or --ca, not both");
		return KC_EXIT_USAGE;
	}
	if (cli_check_trust(a.vo.pubkey_path, a.vo.ca_path, a.vo.tsa_ca) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	if (cli_check_chain_trust(a.chain_pubkey, a.chain_tsa_ca) != KC_EXIT_OK)
		return KC_EXIT_USAGE;
	r = kc_bundle_verify(a.bundle, &a.vo, &res);
	if (r != 0 && r != KC_ERR_VERIFY)
		return cli_fail(KC_EXIT_USAGE, "verify");
	valid = res.valid;
	check_custody(&a, &cstate, cdetail, sizeof(cdetail), &report, &hist, &valid);
	/* the audit continuity, re-checked from the bundle's own members
	 * (docs/FORMAT.md "audit/chain/"): shown when the bundle has audit
	 * events; a copied chain that does not verify is tampering (exit 3)
	 * even under a valid outer signature */
	if (res.checks[KC_CHECK_STRUCTURE].state == KC_CHECK_OK) {
		/* the structure check found the canonical container, whose
		 * members are in bytewise order: the chain is read to
		 * audit/sources.json, not through the whole archive again */
		r = kc_achain_bundle_continuity_tsa(a.bundle, a.chain_pubkey, a.chain_tsa_ca ? a.chain_tsa_ca : a.vo.tsa_ca, 0,
		    res.sha256[0] ? res.sha256 : NULL, &audit);
		if (r == KC_ERR_VERIFY) {
			audit_bad = 1;
			valid = 0;
		} else if (r != 0) {
			/* a chain member that cannot be read (over its cap) is not
			 * a chain that verifies */
			audit_bad = 1;
			valid = 0;
			cJSON_Delete(audit);
			if ((audit = cJSON_CreateObject()) != NULL) {
				char msg[600];

				kc_fmt_trunc(msg, sizeof(msg), "broken: the audit members cannot be checked: %s", kc_err_msg());
				cJSON_AddStringToObject(audit, "state", "broken");
				cJSON_AddStringToObject(audit, "summary", msg);
			}
		}
		if (audit != NULL && strcmp(kc_json_str0(audit, "state"), "none") == 0) {
			cJSON_Delete(audit);
			audit = NULL;
		}
	}
	if (a.json)
		print_json(a.bundle, &res, report, audit, valid, a.json);
	else
		print_human(a.bundle, &res, cstate, cdetail, kc_buf_str(&hist), audit, audit_bad, valid);
	cJSON_Delete(report);
	cJSON_Delete(audit);
	kc_buf_free(&hist);
	return valid ? KC_EXIT_OK : KC_EXIT_INVALID;
}
