/* recert_oscal.c - recertification results as OSCAL assessment results
 * and the assessment plan they import (formats/recert_oscal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/recert_oscal.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/uuid.h"

struct oscal {
	const struct kc_recert_oscal_in *in;
	unsigned char ns[KC_UUID_LEN];
	const char *sha;		/* the bundle's SHA-256 */
	const char *collected;		/* when the evidence was collected (finished) */
	char bundle_res[KC_UUID_STR], scope_res[KC_UUID_STR];
	int err;
};

static const struct { const char *id, *title; } controls[] = {
	{ "ac-2", "AC-2 account management" },
	{ "ac-6", "AC-6 least privilege" },
	{ "au-6", "AU-6 audit record review" },
};

static const char *
str(const cJSON *o, const char *path)
{
	const cJSON *v = kc_json_path(o, path);

	return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

static long
num(const cJSON *o, const char *name)
{
	const cJSON *v = kc_json_get(o, name);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

/* The UUID of the name "SHA|a|b|c" (parts NULL: left out). */
static void
uuid_of(struct oscal *x, char out[KC_UUID_STR], const char *a, const char *b, const char *c)
{
	char *name = kc_asprintf("%s|%s%s%s%s%s", x->sha, a, b ? "|" : "", b ? b : "",
	    c ? "|" : "", c ? c : "");

	if (name == NULL || kc_uuid_v5(x->ns, name, strlen(name), out) != 0) {
		x->err = name == NULL ? KC_ERR_NOMEM : KC_ERR_LIMIT;
		kc_fmt_trunc(out, KC_UUID_STR, "00000000-0000-5000-8000-000000000000");
	}
	free(name);
}

/* OSCAL's StringDatatype: non-empty, no whitespace at either end, no line break. */
static int
oscal_string(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || strchr(" \t\n\r", s[0]) != NULL || strchr(" \t\n\r", s[n - 1]) != NULL)
		return 0;
	return strpbrk(s, "\n\r") == NULL && strstr(s, "\xe2\x80\xa8") == NULL &&
	    strstr(s, "\xe2\x80\xa9") == NULL;
}

static void
prop(cJSON *props, const char *name, const char *value)
{
	cJSON *p;

	if (!oscal_string(value) || (p = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(p, "name", name);
	cJSON_AddStringToObject(p, "ns", KC_OSCAL_NS_URL);
	cJSON_AddStringToObject(p, "value", value);
	cJSON_AddItemToArray(props, p);
}

static void
metadata(cJSON *parent, const char *title, const struct oscal *x)
{
	cJSON *m = cJSON_AddObjectToObject(parent, "metadata"), *props;
	const cJSON *b = kc_json_get(x->in->doc, "bundle");

	cJSON_AddStringToObject(m, "title", title);
	cJSON_AddStringToObject(m, "last-modified", x->collected);
	cJSON_AddStringToObject(m, "version", KC_RECERT_OSCAL_DOC_VERSION);
	cJSON_AddStringToObject(m, "oscal-version", KC_OSCAL_VERSION);
	props = cJSON_AddArrayToObject(m, "props");
	prop(props, "bundle-sha256", x->sha);
	prop(props, "bundle-id", str(b, "bundleID"));
	prop(props, "case", str(b, "case"));
	prop(props, "phase", str(b, "phase"));
	prop(props, "cluster", str(b, "cluster"));
	prop(props, "scope-sha256", str(x->in->doc, "scope.sha256"));
}

static cJSON *
reviewed_controls(void)
{
	cJSON *rc = cJSON_CreateObject(), *sel, *one, *inc;

	sel = cJSON_AddArrayToObject(rc, "control-selections");
	one = cJSON_CreateObject();
	cJSON_AddItemToArray(sel, one);
	cJSON_AddStringToObject(one, "description", "The controls kcustody recertify assesses "
	    "for each agent service account of the bundle.");
	inc = cJSON_AddArrayToObject(one, "include-controls");
	for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "control-id", controls[i].id);
		cJSON_AddItemToArray(inc, c);
	}
	return rc;
}

static void
evidence(cJSON *o, const struct oscal *x, const char *what)
{
	cJSON *ev = cJSON_AddArrayToObject(o, "relevant-evidence"), *e = cJSON_CreateObject();
	char href[KC_UUID_STR + 1];

	kc_fmt_trunc(href, sizeof(href), "#%s", x->bundle_res);	/* 37 bytes, always fits */
	cJSON_AddStringToObject(e, "href", href);
	cJSON_AddStringToObject(e, "description", what);
	cJSON_AddItemToArray(ev, e);
}

/* One observation of agent ns/name (agent: its entry in doc.agents, NULL
 * for a scope entry without agent, named by entry) on control. */
static cJSON *
observation(struct oscal *x, const char *subject, const char *control, const char *title,
    const char *text, const char *agent_status, char uuid[KC_UUID_STR])
{
	cJSON *o = cJSON_CreateObject(), *props, *m;

	uuid_of(x, uuid, "observation", subject, control);
	cJSON_AddStringToObject(o, "uuid", uuid);
	cJSON_AddStringToObject(o, "title", title);
	cJSON_AddStringToObject(o, "description", text);
	props = cJSON_AddArrayToObject(o, "props");
	prop(props, "control-id", control);
	prop(props, "agent", subject);
	prop(props, "recertification-status", agent_status);
	m = cJSON_AddArrayToObject(o, "methods");
	cJSON_AddItemToArray(m, cJSON_CreateString("EXAMINE"));
	m = cJSON_AddArrayToObject(o, "types");
	cJSON_AddItemToArray(m, cJSON_CreateString("control-objective"));
	evidence(o, x, strcmp(control, "au-6") == 0 ? "the bundle's audit-log segment" :
	    "the bundle's RBAC snapshot, judged by the offline evaluator against the scope file");
	cJSON_AddStringToObject(o, "collected", x->collected);
	return o;
}

static void
finding(struct oscal *x, cJSON *findings, const char *subject, const char *control,
    const char *title, const char *text, const char *obs_uuid)
{
	cJSON *f = cJSON_CreateObject(), *t, *st, *ro, *r;
	char uuid[KC_UUID_STR], tid[32];

	uuid_of(x, uuid, "finding", subject, control);
	kc_fmt_trunc(tid, sizeof(tid), "%s_obj", control);
	cJSON_AddStringToObject(f, "uuid", uuid);
	cJSON_AddStringToObject(f, "title", title);
	cJSON_AddStringToObject(f, "description", text);
	t = cJSON_AddObjectToObject(f, "target");
	cJSON_AddStringToObject(t, "type", "objective-id");
	cJSON_AddStringToObject(t, "target-id", tid);
	st = cJSON_AddObjectToObject(t, "status");
	cJSON_AddStringToObject(st, "state", "not-satisfied");
	cJSON_AddStringToObject(st, "reason", "fail");
	ro = cJSON_AddArrayToObject(f, "related-observations");
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "observation-uuid", obs_uuid);
	cJSON_AddItemToArray(ro, r);
	cJSON_AddItemToArray(findings, f);
}

/* The excess permissions of an agent, one line each, into b. */
static void
excess_text(const cJSON *agent, struct kc_buf *b)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, kc_json_get(agent, "excess")) {
		const char *why = str(e, "reason");

		if (str(e, "nonResourceURL") != NULL)
			kc_buf_addf(b, "\n- %s %s", kc_json_str0(e, "verb"), str(e, "nonResourceURL"));
		else
			kc_buf_addf(b, "\n- %s %s%s%s%s%s", kc_json_str0(e, "verb"),
			    str(e, "apiGroup") ? str(e, "apiGroup") : "", str(e, "apiGroup") ? "/" : "",
			    kc_json_str0(e, "resource"), str(e, "namespace") ? " in namespace " : "",
			    str(e, "namespace") ? str(e, "namespace") : "");
		kc_buf_addf(b, ": %s", why ? why : "beyond scope");
	}
}

static void
au6_text(const struct oscal *x, const char *user, struct kc_buf *b)
{
	const cJSON *a = kc_json_get(x->in->manifest, "audit");

	if (!cJSON_IsObject(a)) {
		kc_buf_adds(b, "The bundle holds no audit-log segment: this agent's use of its "
		    "permissions cannot be reviewed from this evidence.");
		return;
	}
	kc_buf_addf(b, "The bundle's audit-log segment (%ld sources, %ld lines read, %ld events "
	    "kept, reads visible: %s) holds %ld events of %s.",
	    num(a, "sources"), num(a, "lines"), num(a, "matched"),
	    str(a, "reads_visible") ? str(a, "reads_visible") : "unknown",
	    num(x->in->audit_events, user), user);
}

/* The three observations of one agent, and its findings. */
static void
one_agent(struct oscal *x, const cJSON *agent, cJSON *obs, cJSON *findings)
{
	struct kc_buf b = KC_BUF_INIT(1u << 24);
	const char *ns = kc_json_str0(agent, "namespace"), *name = kc_json_str0(agent, "name");
	const char *status = kc_json_str0(agent, "status");
	const cJSON *se = kc_json_get(agent, "scopeEntry");
	char subject[600], user[640], title[700], ou[KC_UUID_STR];
	long nex = cJSON_GetArraySize(kc_json_get(agent, "excess"));

	kc_fmt_trunc(subject, sizeof(subject), "%s/%s", ns, name);
	kc_fmt_trunc(user, sizeof(user), "system:serviceaccount:%s:%s", ns, name);
	/* AC-2: an approved account, with owner and approval */
	if (cJSON_IsObject(se))
		kc_buf_addf(&b, "Service account %s is approved by scope entry '%s' (owner %s, "
		    "approval %s).", subject, kc_json_str0(se, "name"), kc_json_str0(se, "owner"),
		    kc_json_str0(se, "approval"));
	else
		kc_buf_addf(&b, "Service account %s is an agent of the bundle but has no entry in the "
		    "scope file: no owner, no approval.", subject);
	kc_fmt_trunc(title, sizeof(title), "AC-2 account management: %s", subject);
	cJSON_AddItemToArray(obs, observation(x, subject, "ac-2", title, kc_buf_str(&b), status, ou));
	if (!cJSON_IsObject(se))
		finding(x, findings, subject, "ac-2", title, kc_buf_str(&b), ou);
	/* AC-6: permissions beyond the approved scope */
	kc_buf_reset(&b);
	if (!cJSON_IsObject(se))
		kc_buf_addf(&b, "No approved scope to judge %s's permissions against.", subject);
	else if (nex == 0)
		kc_buf_addf(&b, "All %ld permissions of %s are within its approved scope.",
		    num(agent, "permissionsJudged"), subject);
	else {
		kc_buf_addf(&b, "%ld of %ld permissions of %s are beyond its approved scope:", nex,
		    num(agent, "permissionsJudged"), subject);
		excess_text(agent, &b);
	}
	kc_fmt_trunc(title, sizeof(title), "AC-6 least privilege: %s", subject);
	cJSON_AddItemToArray(obs, observation(x, subject, "ac-6", title, kc_buf_str(&b), status, ou));
	if (nex > 0)
		finding(x, findings, subject, "ac-6", title, kc_buf_str(&b), ou);
	/* AU-6: the audit segment's events of the agent */
	kc_buf_reset(&b);
	au6_text(x, user, &b);
	kc_fmt_trunc(title, sizeof(title), "AU-6 audit record review: %s", subject);
	cJSON_AddItemToArray(obs, observation(x, subject, "au-6", title, kc_buf_str(&b), status, ou));
	if (b.data == NULL)
		x->err = KC_ERR_NOMEM;
	kc_buf_free(&b);
}

/* A scope entry that matches no agent: an approval without an account. */
static void
unused_entry(struct oscal *x, const cJSON *e, cJSON *obs, cJSON *findings)
{
	/* whole, not cut: the name is the scope file's, of any length, and the
	 * UUIDs are made from the subject (two long names must not share them) */
	const char *name = kc_json_str0(e, "name");
	char *subject = kc_asprintf("scope-entry:%s", name);
	char *text = kc_asprintf("Scope entry '%s' (line %ld) approves access for an "
	    "agent that the bundle does not hold.", name, num(e, "line"));
	char *title = subject ? kc_asprintf("AC-2 account management: %s", subject) : NULL;
	char ou[KC_UUID_STR];

	if (subject == NULL || text == NULL || title == NULL) {
		x->err = KC_ERR_NOMEM;
	} else {
		cJSON_AddItemToArray(obs, observation(x, subject, "ac-2", title, text,
		    "scope-entry-without-agent", ou));
		finding(x, findings, subject, "ac-2", title, text, ou);
	}
	free(subject);
	free(text);
	free(title);
}

/* A file name or path as an RFC 3986 URI reference (OSCAL's
 * URIReferenceDatatype): every byte but ALPHA, DIGIT, '-', '.', '_', '~'
 * and '/' percent-encoded (a space, '#', '%', ':', UTF-8); NULL when out
 * of memory. */
static char *
href_enc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), o = 0;
	char *out = kc_calloc(3 * n + 1, 1);

	if (out == NULL)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p) != NULL) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* href (a file name or path) encoded, as the member name of o. */
static void
add_href(cJSON *o, const char *href)
{
	char *h = href_enc(href != NULL ? href : "");

	cJSON_AddStringToObject(o, "href", h != NULL ? h : "");
	free(h);
}

static cJSON *
resource(const char *uuid, const char *title, const char *text, const char *href,
    const char *media, const char *sha)
{
	cJSON *r = cJSON_CreateObject(), *rl, *l, *hs, *h;

	cJSON_AddStringToObject(r, "uuid", uuid);
	cJSON_AddStringToObject(r, "title", title);
	cJSON_AddStringToObject(r, "description", text);
	rl = cJSON_AddArrayToObject(r, "rlinks");
	l = cJSON_CreateObject();
	cJSON_AddItemToArray(rl, l);
	add_href(l, href);
	cJSON_AddStringToObject(l, "media-type", media);
	hs = cJSON_AddArrayToObject(l, "hashes");
	h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "algorithm", "SHA-256");
	cJSON_AddStringToObject(h, "value", sha);
	cJSON_AddItemToArray(hs, h);
	return r;
}

static cJSON *
back_matter(struct oscal *x)
{
	cJSON *bm = cJSON_CreateObject(), *rs = cJSON_AddArrayToObject(bm, "resources");

	cJSON_AddItemToArray(rs, resource(x->bundle_res, "The sealed evidence bundle",
	    "The kcustody bundle every observation examined (verified before the assessment).",
	    x->in->bundle_href, "application/gzip", x->sha));
	cJSON_AddItemToArray(rs, resource(x->scope_res, "The approved agent scopes",
	    "The scope file (kcustody.dev/v1alpha1 AgentScopes) the agents were judged against.",
	    x->in->scope_href, "application/yaml", str(x->in->doc, "scope.sha256")));
	return bm;
}

static int
print_doc(cJSON *d, struct kc_buf *out)
{
	char *s = cJSON_Print(d);
	int r;

	if (s == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = kc_buf_adds(out, s)) == 0)
		r = kc_buf_addc(out, '\n');
	cJSON_free(s);
	return r;
}

static int
plan(struct oscal *x, struct kc_buf *out)
{
	cJSON *d = cJSON_CreateObject(), *ap = cJSON_AddObjectToObject(d, "assessment-plan"), *imp;
	char uuid[KC_UUID_STR], href[KC_UUID_STR + 1];
	int r;

	uuid_of(x, uuid, "assessment-plan", str(x->in->doc, "scope.sha256"), NULL);
	cJSON_AddStringToObject(ap, "uuid", uuid);
	metadata(ap, "Agent access recertification: assessment plan", x);
	imp = cJSON_AddObjectToObject(ap, "import-ssp");
	kc_fmt_trunc(href, sizeof(href), "#%s", x->scope_res);
	cJSON_AddStringToObject(imp, "href", href);
	cJSON_AddStringToObject(imp, "remarks", "There is no system security plan: the approved "
	    "agent scopes (back-matter) stand for the authorised access of each agent.");
	cJSON_AddItemToObject(ap, "reviewed-controls", reviewed_controls());
	cJSON_AddItemToObject(ap, "back-matter", back_matter(x));
	r = x->err ? x->err : print_doc(d, out);
	cJSON_Delete(d);
	return r;
}

int
kc_recert_oscal(const struct kc_recert_oscal_in *in, struct kc_buf *results, struct kc_buf *planb)
{
	struct oscal x;
	cJSON *d, *ar, *res, *one, *obs, *fnd;
	const cJSON *a;
	char uuid[KC_UUID_STR];
	int r;

	memset(&x, 0, sizeof(x));
	x.in = in;
	x.sha = str(in->doc, "bundle.sha256");
	x.collected = str(in->doc, "bundle.finished");
	if (x.sha == NULL || x.collected == NULL || str(in->doc, "scope.sha256") == NULL)
		return kc_err_set(KC_ERR_INVALID, "the recertification names no bundle, time or scope");
	if ((r = kc_uuid_v5_bytes(kc_uuid_ns_url, KC_OSCAL_NS_URL, strlen(KC_OSCAL_NS_URL), x.ns)) != 0)
		return r;
	uuid_of(&x, x.bundle_res, "resource", "bundle", NULL);
	uuid_of(&x, x.scope_res, "resource", "scope", str(in->doc, "scope.sha256"));
	if ((d = cJSON_CreateObject()) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	ar = cJSON_AddObjectToObject(d, "assessment-results");
	uuid_of(&x, uuid, "assessment-results", str(in->doc, "scope.sha256"), NULL);
	cJSON_AddStringToObject(ar, "uuid", uuid);
	metadata(ar, "Agent access recertification: assessment results", &x);
	add_href(cJSON_AddObjectToObject(ar, "import-ap"), in->plan_href);
	res = cJSON_AddArrayToObject(ar, "results");
	one = cJSON_CreateObject();
	cJSON_AddItemToArray(res, one);
	uuid_of(&x, uuid, "result", str(in->doc, "scope.sha256"), NULL);
	cJSON_AddStringToObject(one, "uuid", uuid);
	cJSON_AddStringToObject(one, "title", "Agent service accounts against their approved scopes");
	cJSON_AddStringToObject(one, "description", "Each agent of the bundle (the service accounts "
	    "selected at collect time) judged by kcustody recertify: account approval (AC-2), "
	    "permissions beyond the approved scope (AC-6), its events in the audit segment (AU-6).");
	cJSON_AddStringToObject(one, "start", str(in->manifest, "times.started") ?
	    str(in->manifest, "times.started") : x.collected);
	cJSON_AddStringToObject(one, "end", x.collected);
	cJSON_AddItemToObject(one, "reviewed-controls", reviewed_controls());
	obs = cJSON_CreateArray();
	fnd = cJSON_CreateArray();
	cJSON_ArrayForEach(a, kc_json_get(in->doc, "agents"))
		one_agent(&x, a, obs, fnd);
	cJSON_ArrayForEach(a, kc_json_get(in->doc, "scopeEntriesWithoutAgent"))
		unused_entry(&x, a, obs, fnd);
	/* OSCAL arrays have at least one item: an empty one is left out */
	cJSON_AddItemToObject(one, "observations", obs);
	if (cJSON_GetArraySize(obs) == 0)
		kc_json_delete(one, "observations");
	cJSON_AddItemToObject(one, "findings", fnd);
	if (cJSON_GetArraySize(fnd) == 0)
		kc_json_delete(one, "findings");
	cJSON_AddItemToObject(ar, "back-matter", back_matter(&x));
	r = x.err ? x.err : print_doc(d, results);
	cJSON_Delete(d);
	if (r == 0)
		r = plan(&x, planb);
	return r;
}
