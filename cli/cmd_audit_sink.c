/* cmd_audit_sink.c - kcustody audit-sink (pipeline/audit_sink.h) and
 * kcustody audit verify-chain (manifest/auditchain.h). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "manifest/auditchain.h"
#include "manifest/sign.h"
#include "pipeline/audit_sink.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/log.h"
#include "util/timeutil.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s audit-sink --listen HOST:PORT --tls-cert FILE --tls-key FILE\n"
	    "           --client-ca FILE --dir DIR --key SIGNING.pem [OPTIONS]\n"
	    "\n"
	    "Receive the kube-apiserver's audit webhook (batch mode, audit.k8s.io/v1\n"
	    "EventLists over HTTPS) and keep the events tamper-evident: each event is\n"
	    "appended byte for byte as one line to a JSON-lines segment in DIR and\n"
	    "fsync'd before the batch is answered 200; segments rotate by size and\n"
	    "age; at every rotation and at least every digest interval a digest\n"
	    "record (the closed segments' SHA-256, event counts, first/last auditID\n"
	    "and time, the previous record's SHA-256) is signed with the Ed25519\n"
	    "key.  Check the folder with '%s audit verify-chain DIR --pubkey KEY'\n"
	    "(docs/AUDIT_SINK.md).\n"
	    "\n"
	    "The client must present a certificate issued by --client-ca (the\n"
	    "apiserver's webhook client certificate): none is refused 401, another\n"
	    "403.  A malformed batch is refused 400, one over --max-batch-bytes 413;\n"
	    "when the disk is full or below --min-free the answer is 429 with\n"
	    "Retry-After (the apiserver retries).  Every refusal is logged.\n"
	    "\n"
	    "Options:\n"
	    "  --listen HOST:PORT        address to serve (PORT 0: any free port)\n"
	    "  --tls-cert FILE           server certificate (chain) PEM\n"
	    "  --tls-key FILE            its private key PEM\n"
	    "  --client-ca FILE          CA that issued the apiserver's client certificate\n"
	    "  --dir DIR                 segments and digest records (created)\n"
	    "  --key FILE                Ed25519 signing key (kcustody keygen)\n"
	    "  --passphrase-file FILE    the key's passphrase (first line)\n"
	    "  --segment-bytes N         rotate at N bytes (default 67108864)\n"
	    "  --segment-seconds N       rotate a segment N seconds old (default 3600)\n"
	    "  --digest-interval D       a digest record at least every D (default 5m)\n"
	    "  --max-batch-bytes N       largest batch taken (default 33554432)\n"
	    "  --min-free N              answer 429 below N free bytes (default 67108864)\n"
	    "  --retry-after N           the 429's Retry-After seconds (default 10)\n"
	    "  --max-connections N       client connections open at once (default 256); one\n"
	    "                            more is closed unread, counted and logged\n"
	    "  --status FILE             keep the counters in FILE (JSON)\n"
	    "  --tsa URL                 time-stamp every digest record at this RFC 3161\n"
	    "                            TSA as it is made (digest-N.json.tsr); a TSA that\n"
	    "                            is down never holds up a batch: the stamp is\n"
	    "                            retried, for at most an hour\n"
	    "  --tsa-ca FILE             CA certificates the TSA's replies must verify against\n"
	    "                            (required with --tsa)\n"
	    "  --tsa-retry D             wait D between attempts for one record (default 60s)\n"
	    "  -v, --verbose             log every digest record\n"
	    "\n"
	    "SIGTERM or SIGINT: seal the open segment, write the last record, print\n"
	    "the counters and exit 0.  SIGUSR1: print the counters.\n"
	    "\n"
	    "Exit status: 0 stopped cleanly; 2 usage error; 4 fatal (cannot listen,\n"
	    "cannot write DIR).\n", cli_progname, cli_progname);
}

struct report_arg {
	const char *host;
	int tsa;
};

static void
print_counters(const struct kc_sink_counters *c, int final, void *arg)
{
	const struct report_arg *ra = arg;

	fprintf(stderr, "%s audit-sink: %s: received %" PRIu64 " events, written %" PRIu64 " (%" PRIu64
	    " batches), refused %" PRIu64 " requests (auth %" PRIu64 ", malformed %" PRIu64 ", too large %" PRIu64
	    ", disk full %" PRIu64 ", other %" PRIu64 "), %" PRIu64 " segments sealed, %" PRIu64 " digest records\n",
	    cli_progname, final ? "stopped" : "counters", c->events_received, c->events_written, c->batches,
	    c->refused, c->refused_auth, c->refused_malformed, c->refused_too_large, c->refused_full,
	    c->refused_error, c->segments_sealed, c->digests);
	if (c->refused_preauth_cut > 0)
		fprintf(stderr, "%s audit-sink: %" PRIu64 " unauthenticated connections cut before their body was read\n",
		    cli_progname, c->refused_preauth_cut);
	if (c->refused_conn_limit > 0)
		fprintf(stderr, "%s audit-sink: %" PRIu64 " connections closed on arrival over --max-connections\n",
		    cli_progname, c->refused_conn_limit);
	if (c->evicted_unauthenticated > 0)
		fprintf(stderr, "%s audit-sink: %" PRIu64 " unauthenticated connections closed to make room at "
		    "--max-connections\n", cli_progname, c->evicted_unauthenticated);
	if (ra->tsa)
		fprintf(stderr, "%s audit-sink: time-stamps: %" PRIu64 " made, %" PRIu64 " failed attempts, %" PRIu64
		    " records waiting, %" PRIu64 " left without a token\n", cli_progname, c->tsa_stamped,
		    c->tsa_failures, c->tsa_pending, c->tsa_given_up);
	fflush(stderr);
}

static void
print_ready(int port, void *arg)
{
	const struct report_arg *ra = arg;

	fprintf(stderr, "%s audit-sink: listening on https://%s:%d\n", cli_progname, ra->host, port);
	fflush(stderr);
}

static int
parse_size(const char *opt, const char *s, long min, uint64_t *out)
{
	long v;

	if (cli_parse_int(s, min, 1L << 40, &v) != 0) {
		cli_error("%s: '%s' is not a whole number from %ld", opt, s, min);
		return KC_EXIT_USAGE;
	}
	*out = (uint64_t)v;
	return KC_EXIT_OK;
}

KC_COMMAND(audit_sink, "receive the apiserver's audit webhook into signed, hash-chained segments")
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "tls-cert", required_argument, NULL, 1 },
		{ "tls-key", required_argument, NULL, 2 },
		{ "client-ca", required_argument, NULL, 3 },
		{ "dir", required_argument, NULL, 4 },
		{ "key", required_argument, NULL, 5 },
		{ "passphrase-file", required_argument, NULL, 6 },
		{ "segment-bytes", required_argument, NULL, 7 },
		{ "segment-seconds", required_argument, NULL, 8 },
		{ "digest-interval", required_argument, NULL, 9 },
		{ "max-batch-bytes", required_argument, NULL, 10 },
		{ "min-free", required_argument, NULL, 11 },
		{ "retry-after", required_argument, NULL, 12 },
		{ "status", required_argument, NULL, 13 },
		{ "tsa", required_argument, NULL, 14 },
		{ "tsa-ca", required_argument, NULL, 15 },
		{ "tsa-retry", required_argument, NULL, 16 },
		{ "max-connections", required_argument, NULL, 17 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kc_sink_config cfg;
	struct kc_sink_counters counters;
	struct report_arg ra;
	const char *listen = NULL, *key = NULL, *pass = NULL;
	char host[256];
	uint64_t v;
	long port;
	int c, rc, ret;

	memset(&cfg, 0, sizeof(cfg));
	cfg.segment_bytes = 64u << 20;
	cfg.segment_secs = 3600;
	cfg.digest_secs = 300;
	cfg.max_body = 32u << 20;
	cfg.min_free = 64u << 20;
	cfg.retry_after = 10;
	cfg.tsa_retry_secs = 60;
	cfg.tsa_timeout = 10;
	cfg.max_conns = 256;
	while ((c = getopt_long(argc, argv, "l:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 1: cfg.tls_cert = optarg; break;
		case 2: cfg.tls_key = optarg; break;
		case 3: cfg.client_ca = optarg; break;
		case 4: cfg.dir = optarg; break;
		case 5: key = optarg; break;
		case 6: pass = optarg; break;
		case 7:
			if (parse_size("--segment-bytes", optarg, 1024, &cfg.segment_bytes) != 0)
				return KC_EXIT_USAGE;
			break;
		case 8:
			if (parse_size("--segment-seconds", optarg, 1, &v) != 0)
				return KC_EXIT_USAGE;
			cfg.segment_secs = (int64_t)v;
			break;
		case 9:
			if (kc_parse_duration(optarg, &cfg.digest_secs) != 0 || cfg.digest_secs < 1) {
				cli_error("--digest-interval: '%s' is not a duration of at least 1s (5m, 30s)", optarg);
				return KC_EXIT_USAGE;
			}
			break;
		case 10:
			if (parse_size("--max-batch-bytes", optarg, 1024, &v) != 0)
				return KC_EXIT_USAGE;
			cfg.max_body = (size_t)v;
			break;
		case 11:
			if (parse_size("--min-free", optarg, 0, &cfg.min_free) != 0)
				return KC_EXIT_USAGE;
			break;
		case 12:
			if (parse_size("--retry-after", optarg, 1, &v) != 0 || v > 3600) {
				cli_error("--retry-after: give 1 to 3600 seconds");
				return KC_EXIT_USAGE;
			}
			cfg.retry_after = (int)v;
			break;
		case 13: cfg.status_path = optarg; break;
		case 14: cfg.tsa_url = optarg; break;
		case 15: cfg.tsa_ca = optarg; break;
		case 16:
			if (kc_parse_duration(optarg, &cfg.tsa_retry_secs) != 0 || cfg.tsa_retry_secs < 1) {
				cli_error("--tsa-retry: '%s' is not a duration of at least 1s (60s, 5m)", optarg);
				return KC_EXIT_USAGE;
			}
			break;
		case 17:
			if (parse_size("--max-connections", optarg, 1, &v) != 0 || v > 65536) {
				cli_error("--max-connections: give 1 to 65536");
				return KC_EXIT_USAGE;
			}
			cfg.max_conns = (unsigned)v;
			break;
		case 'v': kc_log_set_level(KC_LOG_INFO); break;
		case 'h': usage(stdout); return KC_EXIT_OK;
		default: return cli_bad_option(argv);
		}
	}
	if (optind != argc)
		return cli_bad_args();
	if (listen == NULL || cfg.tls_cert == NULL || cfg.tls_key == NULL || cfg.client_ca == NULL ||
	    cfg.dir == NULL || key == NULL) {
		cli_error("audit-sink needs --listen, --tls-cert, --tls-key, --client-ca, --dir and --key; "
		    "see 'kcustody audit-sink --help'");
		return KC_EXIT_USAGE;
	}
	{
		const char *colon = strrchr(listen, ':');

		if (colon == NULL || colon == listen || cli_parse_int(colon + 1, 0, 65535, &port) != 0 ||
		    kc_fmt(host, sizeof(host), "%.*s", (int)(colon - listen), listen) != 0) {
			cli_error("--listen: '%s' is not HOST:PORT", listen);
			return KC_EXIT_USAGE;
		}
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
	}
	cfg.host = host;
	cfg.port = (int)port;
	if (kc_trust_file_check(cfg.client_ca, 1) != 0) {
		cli_error("--client-ca: %s", kc_err_msg());
		return KC_EXIT_USAGE;
	}
	if (cfg.tsa_ca != NULL && cfg.tsa_url == NULL) {
		cli_error("--tsa-ca needs --tsa URL");
		return KC_EXIT_USAGE;
	}
	if (cfg.tsa_url != NULL && strncmp(cfg.tsa_url, "http://", 7) != 0 && strncmp(cfg.tsa_url, "https://", 8) != 0) {
		cli_error("--tsa: '%s' is not an http:// or https:// URL", cfg.tsa_url);
		return KC_EXIT_USAGE;
	}
	/* A token whose signature no trust anchor checked proves nothing
	 * (anyone on the path to an http:// TSA can answer with one that
	 * carries our imprint and nonce), yet the sink would count it
	 * stamped: with --tsa the replies are checked as they come. */
	if (cfg.tsa_url != NULL && cfg.tsa_ca == NULL) {
		cli_error("--tsa needs --tsa-ca FILE (the CA certificates the TSA's replies must verify against): "
		    "without it no token the sink stores would be checked");
		return KC_EXIT_USAGE;
	}
	if (cfg.tsa_ca != NULL && kc_trust_file_check(cfg.tsa_ca, 1) != 0) {
		cli_error("--tsa-ca: %s", kc_err_msg());
		return KC_EXIT_USAGE;
	}
	if ((rc = kc_signer_load_key(key, pass, &cfg.signer)) != 0)
		return cli_fail(KC_EXIT_USAGE, "--key");
	if (!kc_signer_is_ed25519(cfg.signer)) {
		kc_signer_free(cfg.signer);
		cli_error("--key: '%s' is not an Ed25519 key (kcustody keygen makes one)", key);
		return KC_EXIT_USAGE;
	}
	ra.host = host;
	ra.tsa = cfg.tsa_url != NULL;
	cfg.report = print_counters;
	cfg.report_arg = &ra;
	cfg.ready = print_ready;
	rc = kc_sink_run(&cfg, &counters);
	kc_signer_free(cfg.signer);
	if (rc == KC_ERR_CONFIG)
		ret = cli_fail(KC_EXIT_USAGE, "audit-sink");
	else if (rc != 0)
		ret = cli_fail(KC_EXIT_FATAL, "audit-sink");
	else
		ret = KC_EXIT_OK;
	return ret;
}

static void
verify_usage(FILE *f)
{
	fprintf(f,
	    "usage: %s audit verify-chain DIR --pubkey KEY [--tsa-ca CA] [--gap DURATION] [--json]\n"
	    "\n"
	    "Check an audit-sink folder's digest chain offline: every record's\n"
	    "Ed25519 signature against KEY, records numbered 1..N with each naming\n"
	    "the previous record's SHA-256, segments numbered without a hole, each\n"
	    "named once and matching its recorded size, SHA-256 and event count.\n"
	    "A changed, removed, reordered or inserted segment or record is\n"
	    "tampering.  Silences (the sink stopped, or no record for longer than\n"
	    "--gap, default twice the digest interval plus 30s) are reported as\n"
	    "gaps, not tampering; segments after the last record are unsealed (not\n"
	    "yet proven).  What this proves: docs/AUDIT_SINK.md.\n"
	    "\n"
	    "With --tsa-ca CA, each record's RFC 3161 time-stamp token\n"
	    "(digest-N.json.tsr, audit-sink --tsa) is checked too: its imprint is\n"
	    "the record's SHA-256, it is signed by a TSA certified by CA, and its\n"
	    "time is consistent with the record's.  A token that fails is\n"
	    "tampering; records without a token are listed.\n"
	    "\n"
	    "Exit status: 0 intact; 1 intact but unsealed segments (or, with\n"
	    "--tsa-ca, records without a time-stamp); 2 usage error; 3 tampering\n"
	    "found; 4 fatal.\n", cli_progname);
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *n = kc_json_get(o, k);

	return cJSON_IsNumber(n) ? n->valuedouble : 0;
}

static void
print_list(const cJSON *rep, const char *key, const char *label)
{
	const cJSON *a = kc_json_get(rep, key), *e;
	char s1[256], s2[256], s3[512];

	cJSON_ArrayForEach(e, a) {
		if (cJSON_IsString(e))
			printf("%s: %s\n", label, kc_safe_str(e->valuestring, s1, sizeof(s1)));
		else if (kc_json_str(e, "problem") != NULL)
			printf("%s: %s: %s\n", label, kc_safe_str(kc_json_str0(e, "file"), s1, sizeof(s1)),
			    kc_safe_str(kc_json_str0(e, "problem"), s3, sizeof(s3)));
		else
			printf("%s: %s .. %s (%s)\n", label, kc_safe_str(kc_json_str0(e, "from"), s1, sizeof(s1)),
			    kc_safe_str(kc_json_str0(e, "to"), s2, sizeof(s2)), kc_json_str0(e, "why"));
	}
}

int
cli_audit_verify_chain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pubkey", required_argument, NULL, 'p' },
		{ "gap", required_argument, NULL, 'g' },
		{ "tsa-ca", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, KC_OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pub = NULL, *dir, *tsa_ca = NULL;
	int64_t gap = 0;
	int c, fmt = 0, rc, ret;
	cJSON *rep = NULL;
	const cJSON *ts;
	char safe[512];

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pub = optarg; break;
		case 't': tsa_ca = optarg; break;
		case 'g':
			if (kc_parse_duration(optarg, &gap) != 0 || gap < 1) {
				cli_error("--gap: '%s' is not a duration (10m, 90s)", optarg);
				return KC_EXIT_USAGE;
			}
			break;
		case 'j': fmt = CLI_FMT_JSON; break;
		case KC_OPT_FORMAT:
			if (cli_parse_format(optarg, &fmt) != KC_EXIT_OK)
				return KC_EXIT_USAGE;
			break;
		case 'h': verify_usage(stdout); return KC_EXIT_OK;
		default: return cli_bad_option(argv);
		}
	}
	if (optind + 1 != argc)
		return cli_bad_args();
	dir = argv[optind];
	if (pub == NULL) {
		cli_error("verify-chain needs --pubkey KEY (the sink's Ed25519 public key)");
		return KC_EXIT_USAGE;
	}
	if ((ret = cli_check_trust(pub, NULL, NULL)) != KC_EXIT_OK)
		return ret;
	if (tsa_ca != NULL && kc_trust_file_check(tsa_ca, 1) != 0) {
		cli_error("--tsa-ca: %s", kc_err_msg());
		return KC_EXIT_USAGE;
	}
	rc = kc_achain_verify_tsa(dir, pub, gap, tsa_ca, &rep);
	if (rep == NULL)
		return cli_fail(rc == KC_ERR_IO || rc == KC_ERR_NOTFOUND ? KC_EXIT_USAGE : KC_EXIT_FATAL, "verify-chain");
	ret = rc == KC_ERR_VERIFY ? KC_EXIT_INVALID : rc == 1 ? KC_EXIT_PARTIAL : KC_EXIT_OK;
	if (fmt) {
		if (cli_print_doc(rep, fmt) != KC_EXIT_OK)
			ret = KC_EXIT_FATAL;
	} else {
		printf("audit chain %s: %s\n", kc_safe_str(dir, safe, sizeof(safe)), kc_json_str0(rep, "result"));
		printf("key: %s\n", kc_json_str0(rep, "key"));
		printf("records: %.0f, segments: %.0f, events: %.0f, sink runs: %.0f\n", num(rep, "records"),
		    num(rep, "segments"), num(rep, "events"), num(rep, "runs"));
		printf("events from %s to %s\n", kc_json_str0(rep, "firstEvent"), kc_json_str0(rep, "lastEvent"));
		print_list(rep, "gaps", "gap");
		print_list(rep, "unsealed", "unsealed");
		if ((ts = kc_json_get(rep, "timestamps")) != NULL) {
			printf("time-stamps: %s (%.0f of %.0f records", kc_json_str0(ts, "result"), num(ts, "stamped"),
			    num(ts, "records"));
			if (num(ts, "stamped") > 0)
				printf("; TSA times %s to %s", kc_json_str0(ts, "firstStamp"), kc_json_str0(ts, "lastStamp"));
			printf(")\n");
			print_list(ts, "missing", "no time-stamp");
		}
		print_list(rep, "tampering", "TAMPERED");
	}
	cJSON_Delete(rep);
	return ret;
}
