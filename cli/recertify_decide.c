/* recertify_decide.c - `kcustody recertify --decision`: the reviewer's
 * signed decision as a "recertified" custody entry (docs/CUSTODY.md), in
 * the ledger beside the bundle or, for an archived bundle, in the store's
 * ledger of the item (docs/RECERTIFY.md). */
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/recertify_decide.h"
#include "formats/recert_oscal.h"
#include "manifest/archive.h"
#include "manifest/bundle.h"
#include "manifest/ledger.h"
#include "rbac/recert.h"
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

int
recert_decide_check(const struct recert_decide *d)
{
	if (d->decision == NULL) {
		if (d->key != NULL || d->note != NULL || d->trust_keys != NULL || d->store != NULL ||
		    d->passphrase_file != NULL) {
			cli_error("--key, --note, --trust-keys, --store and --passphrase-file go with "
			    "--decision (%s)", KC_LEDGER_DECISIONS);
			return KC_EXIT_USAGE;
		}
		return KC_EXIT_OK;
	}
	if (!kc_ledger_decision_ok(d->decision)) {
		char safe[64];

		cli_error("--decision must be %s, not '%s'", KC_LEDGER_DECISIONS,
		    kc_safe_str(d->decision, safe, sizeof(safe)));
		return KC_EXIT_USAGE;
	}
	if (d->key == NULL) {
		cli_error("a decision is signed: give the reviewer's key with --key KEY.pem");
		return KC_EXIT_USAGE;
	}
	return KC_EXIT_OK;
}

/* doc's summary as the entry's recertification; 0 or -1 when doc lacks it. */
static int
recert_of(const struct recert_decide *d, const cJSON *doc, struct kc_ledger_recert *rc)
{
	const cJSON *sm = kc_json_get(doc, "summary"), *sc = kc_json_get(doc, "scope");
	const struct { const char *name; long *v; } n[] = {
		{ "agents", &rc->agents }, { "withinScope", &rc->within_scope },
		{ "beyondScope", &rc->beyond_scope }, { "agentsMissingFromScope", &rc->missing_from_scope },
		{ "scopeEntriesWithoutAgent", &rc->scope_entries_without_agent },
	};

	memset(rc, 0, sizeof(*rc));
	rc->decision = d->decision;
	rc->scope_file = kc_json_str(sc, "file");
	rc->scope_sha256 = kc_json_str(sc, "sha256");
	if (rc->scope_file == NULL || rc->scope_sha256 == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		const cJSON *v = kc_json_get(sm, n[i].name);

		if (!cJSON_IsNumber(v) || v->valuedouble < 0)
			return -1;
		*n[i].v = (long)v->valuedouble;
	}
	return 0;
}

/* Through the retention store: the item is the judged bundle's SHA-256. */
static int
decide_in_store(const struct recert_decide *d, const char *id, struct kc_ledger_key *key,
    const struct kc_ledger_actor *actor, const struct kc_trust *trust,
    const struct kc_ledger_recert *rc)
{
	struct kc_archive_opts o;
	struct kc_archive_actor who;
	struct kc_archive *a = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	memset(&who, 0, sizeof(who));
	o.store = d->store;
	who.key = key;
	who.actor = *actor;
	who.trust = trust;
	who.purpose = "access recertification";
	who.recert = rc;
	if ((r = kc_archive_open(&o, &a)) == 0)
		r = kc_archive_recertify(a, id, &who, d->note);
	kc_archive_close(a);
	return r;
}

int
recert_decide_write(const struct recert_decide *d, const char *bundle, const cJSON *doc)
{
	struct kc_ledger_key *key = NULL;
	struct kc_trust *trust = NULL;
	struct kc_ledger_recert rc;
	struct kc_ledger_event ev;
	struct passwd *pw;
	const char *sha = kc_json_str(kc_json_get(doc, "bundle"), "sha256");
	char namebuf[256];
	int r, ret = KC_EXIT_OK;

	if (sha == NULL || recert_of(d, doc, &rc) != 0)
		return cli_fail(KC_EXIT_FATAL, "the recertification has no summary to decide on");
	if (d->trust_keys != NULL && kc_trust_load(d->trust_keys, &trust) != 0)
		return cli_fail(KC_EXIT_USAGE, NULL);
	if ((r = kc_ledger_key_load(d->key, d->passphrase_file, &key)) != 0) {
		ret = cli_fail(cli_exit_for(r), NULL);
		goto out;
	}
	memset(&ev, 0, sizeof(ev));
	ev.action = "recertified";
	ev.purpose = "access recertification";
	ev.method = "kcustody recertify";
	ev.note = d->note;
	ev.recert = &rc;
	ev.actor.name = kc_trust_name(trust, kc_ledger_key_fingerprint(key));
	ev.actor.organisation = kc_trust_org(trust, kc_ledger_key_fingerprint(key));
	if (ev.actor.name == NULL && (pw = getpwuid(getuid())) != NULL &&
	    kc_fmt(namebuf, sizeof(namebuf), "%s", pw->pw_name) == 0)
		ev.actor.name = namebuf;
	if (d->store != NULL)
		r = decide_in_store(d, sha, key, &ev.actor, trust, &rc);
	else
		r = kc_ledger_append(bundle, NULL, sha, key, &ev, trust, NULL);
	if (r != 0) {
		ret = cli_fail(r == KC_ERR_NOTFOUND || r == KC_ERR_CONFIG ? KC_EXIT_USAGE :
		    cli_exit_for(r), "decision not recorded");
		goto out;
	}
	fprintf(stderr, "%s: decision '%s' recorded by %s (%s) in %s\n", cli_progname, d->decision,
	    ev.actor.name ? ev.actor.name : "?", kc_ledger_key_fingerprint(key),
	    d->store ? "the store's ledger of the archived bundle" : "the bundle's custody ledger");
out:
	kc_trust_free(trust);
	kc_ledger_key_free(key);
	return ret;
}

/* ---- OSCAL ------------------------------------------------------------- */

/* Events per user.username of the audit segment, counted line by line as
 * the member streams past (bounded memory: one line at a time). */
struct count_ctx {
	struct kc_buf line;
	cJSON *counts;
	int err;
};

static void
count_line(struct count_ctx *c)
{
	cJSON *ev = cJSON_ParseWithLength(c->line.data ? c->line.data : "", c->line.len);
	const cJSON *u = kc_json_path(ev, "user.username");
	cJSON *n;

	if (cJSON_IsString(u)) {
		if ((n = kc_json_get_mut(c->counts, u->valuestring)) != NULL)
			cJSON_SetNumberValue(n, n->valuedouble + 1);
		else
			cJSON_AddNumberToObject(c->counts, u->valuestring, 1);
	}
	cJSON_Delete(ev);
	kc_buf_reset(&c->line);
}

static int
count_sink(void *ctx, const void *p, size_t n)
{
	struct count_ctx *c = ctx;
	const char *s = p, *nl;

	while (n > 0) {
		size_t k = (nl = memchr(s, '\n', n)) ? (size_t)(nl - s) : n;

		if (kc_buf_add(&c->line, s, k) != 0)
			return c->err = KC_ERR_LIMIT;
		if (nl == NULL)
			break;
		count_line(c);
		s += k + 1;
		n -= k + 1;
	}
	return 0;
}

/* *counts: events per user of the bundle's audit segment, NULL when it has none. */
static int
audit_counts(const char *bundle, const char *pin, cJSON **counts)
{
	struct count_ctx c = { KC_BUF_INIT(16u << 20), cJSON_CreateObject(), 0 };
	int r;

	*counts = NULL;
	if (c.counts == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r = kc_bundle_read_member_pinned(bundle, "audit/segment.jsonl", pin, count_sink, &c);
	if (r == 0 && c.line.len > 0)
		count_line(&c);
	kc_buf_free(&c.line);
	if (r == KC_ERR_NOTFOUND) {
		cJSON_Delete(c.counts);
		return 0;
	}
	if (r != 0) {
		cJSON_Delete(c.counts);
		return r;
	}
	*counts = c.counts;
	return 0;
}

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* The plan beside out_path: FILE less ".json", then "-plan.json". */
static char *
default_plan(const char *out_path)
{
	size_t n = strlen(out_path);

	if (n > 5 && strcmp(out_path + n - 5, ".json") == 0)
		n -= 5;
	return kc_asprintf("%.*s-plan.json", (int)n, out_path);
}

/* import-ap's href: the plan's file name when it is in the results' folder,
 * else its path as given. */
static const char *
plan_href(const char *out_path, const char *plan)
{
	size_t d1 = (size_t)(base_name(out_path) - out_path), d2 = (size_t)(base_name(plan) - plan);

	return d1 == d2 && strncmp(out_path, plan, d1) == 0 ? base_name(plan) : plan;
}

int
recert_oscal_check_plan(const char *out_path, const char *plan_path, int force)
{
	char *plan = plan_path ? NULL : default_plan(out_path);
	int ret;

	if (plan_path == NULL && plan == NULL)
		return cli_fail(KC_EXIT_FATAL, "out of memory");
	ret = cli_check_output(plan_path ? plan_path : plan, force);
	free(plan);
	return ret;
}

int
recert_oscal_write(const char *bundle, const cJSON *doc, const char *out_path,
    const char *plan_path)
{
	struct kc_buf man = KC_BUF_INIT(64u << 20), ar = KC_BUF_INIT(1u << 30), ap = KC_BUF_INIT(16u << 20);
	struct kc_recert_oscal_in in;
	cJSON *manifest = NULL, *counts = NULL;
	const cJSON *pin;
	char *plan = plan_path ? NULL : default_plan(out_path);
	int r, ret = KC_EXIT_OK;

	if (plan_path == NULL && plan == NULL)
		return cli_fail(KC_EXIT_FATAL, "out of memory");
	memset(&in, 0, sizeof(in));
	/* the bundle recertify verified and judged: pinned to its digest */
	pin = kc_json_path(doc, "bundle.sha256");
	if (!cJSON_IsString(pin) || strlen(pin->valuestring) != KC_SHA256_HEX - 1) {
		ret = cli_fail(KC_EXIT_FATAL, "the recertification names no bundle digest");
		goto out;
	}
	if ((r = kc_bundle_read_member_pinned(bundle, "MANIFEST.json", pin->valuestring, kc_bundle_buf_sink, &man)) != 0 ||
	    (manifest = cJSON_ParseWithLength(kc_buf_str(&man), man.len)) == NULL ||
	    (r = audit_counts(bundle, pin->valuestring, &counts)) != 0) {
		ret = cli_fail(KC_EXIT_FATAL, "cannot read the bundle for OSCAL");
		goto out;
	}
	in.doc = doc;
	in.manifest = manifest;
	in.audit_events = counts;
	in.bundle_href = base_name(bundle);
	in.scope_href = base_name(kc_json_str0(kc_json_get(doc, "scope"), "file"));
	in.plan_href = plan_href(out_path, plan_path ? plan_path : plan);
	if ((r = kc_recert_oscal(&in, &ar, &ap)) != 0 ||
	    (r = cli_write_output(plan_path ? plan_path : plan, ap.data, ap.len, 0644)) != 0 ||
	    (r = cli_write_output(out_path, ar.data, ar.len, 0644)) != 0)
		ret = cli_fail(cli_exit_for(r) == KC_EXIT_USAGE ? KC_EXIT_FATAL : cli_exit_for(r), NULL);
out:
	cJSON_Delete(manifest);
	cJSON_Delete(counts);
	kc_buf_free(&man);
	kc_buf_free(&ar);
	kc_buf_free(&ap);
	free(plan);
	return ret;
}

#define SCOPE_MAX (16u << 20)

int
recert_load_scope(const char *path, struct kc_scope *s)
{
	struct kc_buf b = KC_BUF_INIT(SCOPE_MAX);
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = kc_read_file(path, SCOPE_MAX, &b)) == 0)
		r = kc_scope_parse(path, kc_buf_str(&b), b.len, s);
	kc_buf_free(&b);
	return r;
}
