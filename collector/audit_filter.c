/* audit_filter.c - exact event filters and the substring fast path.
 *
 * The exact test (kc_audit_filter_match) works on the parsed event and
 * mirrors what jq selects.  The fast path (kc_audit_filter_maybe) only ever
 * rejects: a line is rejected when some condition needs a JSON string that
 * cannot be in it.  A string value V in a JSON text is either written
 * literally ("V" with its quotes, when V holds no quote, backslash, slash
 * or control character) or with \uXXXX escapes; so when "V" is absent and
 * no \uXXXX escape in the line decodes to a character used by any wanted
 * value or key, no string in the line equals V.  Numbers and timestamps are
 * checked at every occurrence of their key.  Everything that passes is
 * parsed with cJSON and tested exactly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/audit.h"
#include "collector/audit_int.h"
#include "collector/sensitive.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/timeutil.h"

struct strlist {
	char **v;
	size_t n, cap;
};

enum atom_kind { ATOM_NEEDLE, ATOM_CODE, ATOM_TIME };

struct atom {
	enum atom_kind kind;
	char *needle;		/* ATOM_NEEDLE: "value" with quotes */
	size_t nlen;
	struct kc_audit_needle nd;
};

struct clause {
	struct atom *a;
	size_t n, cap;
	char *prefix;		/* common start of all needles, when long enough */
	size_t plen;
	struct kc_audit_needle pnd;
};

/* The option names, in the order sources.json lists them. */
static const char *const names[] = {
	"since", "until", "user", "sa", "resource", "verb", "namespace", "decision",
	"code", "exclude-user-agent", "exclude-audit-id-prefix", "exclude-run", "run",
	"preset",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))
enum { N_SINCE, N_UNTIL, N_USER, N_SA, N_RESOURCE, N_VERB, N_NAMESPACE, N_DECISION,
	N_CODE, N_EXCL_UA, N_EXCL_AID, N_EXCL_RUN, N_RUN, N_PRESET };

struct kc_audit_filter {
	struct strlist given[NNAMES];	/* values as given */
	struct strlist users;		/* users and sa, as usernames */
	struct strlist res, sub;	/* resource split at '/' ("" = any sub) */
	long *codes;
	size_t ncodes, codecap;
	int has_since, has_until;
	int64_t since_ns, until_ns;
	int sensitive, denied;
	struct clause *cl;
	size_t ncl, clcap;
	unsigned char hot[128];		/* characters of wanted values and keys */
	int hot_high;			/* some wanted value is not ASCII */
	struct kc_audit_needle k_code, k_time, k_esc;
};

static const char key_code[] = "\"code\"";
static const char key_time[] = "\"requestReceivedTimestamp\"";

static const char *const sensitive_verbs[] = { "get", "list", "watch" };
static const long denied_codes[] = { 401, 403 };

static int
sl_add(struct strlist *l, const char *s)
{
	char *d = kc_strdup(s);

	if (d == NULL || KC_GROW(l->v, l->cap, l->n + 1)) {
		free(d);
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	}
	l->v[l->n++] = d;
	return 0;
}

static void
sl_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void
clauses_free(struct kc_audit_filter *f)
{
	for (size_t i = 0; i < f->ncl; i++) {
		for (size_t j = 0; j < f->cl[i].n; j++)
			free(f->cl[i].a[j].needle);
		free(f->cl[i].a);
		free(f->cl[i].prefix);
	}
	free(f->cl);
	f->cl = NULL;
	f->ncl = f->clcap = 0;
}

struct kc_audit_filter *
kc_audit_filter_new(void)
{
	struct kc_audit_filter *f = kc_calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	kc_audit_needle_init(&f->k_code, key_code, sizeof(key_code) - 1);
	kc_audit_needle_init(&f->k_time, key_time, sizeof(key_time) - 1);
	kc_audit_needle_init(&f->k_esc, "\\u", 2);
	return f;
}

void
kc_audit_filter_free(struct kc_audit_filter *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < NNAMES; i++)
		sl_free(&f->given[i]);
	sl_free(&f->users);
	sl_free(&f->res);
	sl_free(&f->sub);
	free(f->codes);
	clauses_free(f);
	free(f);
}

/* ---- timestamps ------------------------------------------------------- */

static int
dig(const char *p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		*v = *v * 10 + (p[i] - '0');
	}
	return 1;
}

int
kc_audit_parse_ts(const char *s, size_t len, int64_t *ns)
{
	int Y, M, D, h, m, sec, oh, om;
	int64_t frac = 0, t;
	size_t i = 19;

	if (len < 20 || !dig(s, 4, &Y) || s[4] != '-' || !dig(s + 5, 2, &M) || s[7] != '-' ||
	    !dig(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || !dig(s + 11, 2, &h) ||
	    s[13] != ':' || !dig(s + 14, 2, &m) || s[16] != ':' || !dig(s + 17, 2, &sec))
		return KC_ERR_PARSE;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return KC_ERR_PARSE;
	if (s[i] == '.') {
		int nd = 0;

		i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return KC_ERR_PARSE;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (nd < 9) {
				frac = frac * 10 + (s[i] - '0');
				nd++;
			}
			i++;
		}
		while (nd++ < 9)
			frac *= 10;
	}
	t = kc_audit_days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && dig(s + i + 1, 2, &oh) &&
	    s[i + 3] == ':' && dig(s + i + 4, 2, &om)) {
		int64_t off = oh * 3600 + om * 60;

		t -= s[i] == '+' ? off : -off;
		i += 6;
	} else {
		return KC_ERR_PARSE;
	}
	if (i != len)
		return KC_ERR_PARSE;
	/* Nanoseconds since 1970 in an int64_t reach from 1677-09-21 to
	 * 2262-04-11: outside, t * 10^9 would overflow (undefined behaviour,
	 * and wrapped times would corrupt the window and gap accounting). */
	if (t < KC_AUDIT_TS_MIN_S || t > KC_AUDIT_TS_MAX_S)
		return KC_ERR_LIMIT;
	*ns = t * 1000000000 + frac;
	return 0;
}

static int
parse_when(const char *v, int64_t *ns)
{
	int64_t secs;

	if (kc_audit_parse_ts(v, strlen(v), ns) == 0)
		return 0;
	if (kc_parse_duration(v, &secs) == 0) {
		int64_t t = (int64_t)kc_now() - secs;

		if (t < KC_AUDIT_TS_MIN_S || t > KC_AUDIT_TS_MAX_S)
			return kc_err_set(KC_ERR_INVALID, "time '%s' reaches before the year 1678", v);
		*ns = t * 1000000000;
		return 0;
	}
	return kc_err_set(KC_ERR_INVALID, "invalid time '%s' (RFC 3339 such as 2026-03-02T08:00:00Z, or a duration such as 72h)", v);
}

/* ---- fast-path clauses ------------------------------------------------ */

/* A value can be searched for as "value" only when JSON writes it as is. */
static int
literal_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == '"' || *p == '\\' || *p == '/' || *p == 0x7f)
			return 0;
	return 1;
}

static void
hot_add(struct kc_audit_filter *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 128)
			f->hot[*p] = 1;
		else
			f->hot_high = 1;
	}
}

static struct clause *
clause_new(struct kc_audit_filter *f)
{
	if (KC_GROW(f->cl, f->clcap, f->ncl + 1))
		return NULL;
	memset(&f->cl[f->ncl], 0, sizeof(f->cl[0]));
	return &f->cl[f->ncl++];
}

static int
clause_atom(struct kc_audit_filter *f, struct clause *c, enum atom_kind kind, const char *v)
{
	struct atom *a;

	if (KC_GROW(c->a, c->cap, c->n + 1))
		return KC_ERR_NOMEM;
	a = &c->a[c->n];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	if (kind == ATOM_NEEDLE) {
		size_t n = strlen(v);

		if ((a->needle = malloc(n + 3)) == NULL)
			return KC_ERR_NOMEM;
		a->needle[0] = '"';
		memcpy(a->needle + 1, v, n);
		a->needle[n + 1] = '"';
		a->needle[n + 2] = '\0';
		a->nlen = n + 2;
		kc_audit_needle_init(&a->nd, a->needle, a->nlen);
		hot_add(f, v);
	} else {
		hot_add(f, kind == ATOM_CODE ? "code" : "requestReceivedTimestamp");
	}
	c->n++;
	return 0;
}

/* A clause of needles for the values; none when one of them cannot be
 * searched for literally (the clause would reject nothing safely). */
static int
needle_clause(struct kc_audit_filter *f, char *const *v, size_t n)
{
	struct clause *c;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!literal_ok(v[i]) || v[i][0] == '\0')
			return 0;
	if ((c = clause_new(f)) == NULL)
		return KC_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		if (clause_atom(f, c, ATOM_NEEDLE, v[i]) < 0)
			return KC_ERR_NOMEM;
	if (c->n >= 2) {
		size_t p = c->a[0].nlen;

		for (size_t i = 1; i < c->n; i++) {
			size_t k = 0;

			while (k < p && k < c->a[i].nlen && c->a[i].needle[k] == c->a[0].needle[k])
				k++;
			p = k;
		}
		if (p >= 5) {
			if ((c->prefix = kc_strndup(c->a[0].needle, p)) == NULL)
				return KC_ERR_NOMEM;
			c->plen = p;
			kc_audit_needle_init(&c->pnd, c->prefix, p);
		}
	}
	return 0;
}

static int
compile(struct kc_audit_filter *f)
{
	struct clause *c;
	int r = 0;

	clauses_free(f);
	memset(f->hot, 0, sizeof(f->hot));
	f->hot_high = 0;
	/* most selective first: who, then what */
	if ((r = needle_clause(f, f->users.v, f->users.n)) < 0 ||
	    (r = needle_clause(f, f->res.v, f->res.n)) < 0 ||
	    (r = needle_clause(f, f->given[N_NAMESPACE].v, f->given[N_NAMESPACE].n)) < 0 ||
	    (r = needle_clause(f, f->given[N_DECISION].v, f->given[N_DECISION].n)) < 0 ||
	    (r = needle_clause(f, f->given[N_VERB].v, f->given[N_VERB].n)) < 0)
		goto out;
	if (f->sensitive &&
	    ((r = needle_clause(f, (char *const *)kc_sensitive_resources, KC_SENSITIVE_N)) < 0 ||
	    (r = needle_clause(f, (char *const *)sensitive_verbs, 3)) < 0))
		goto out;
	if (f->denied) {
		if ((c = clause_new(f)) == NULL ||
		    clause_atom(f, c, ATOM_NEEDLE, "forbid") < 0 ||
		    clause_atom(f, c, ATOM_CODE, NULL) < 0) {
			r = KC_ERR_NOMEM;
			goto out;
		}
	}
	if (f->ncodes > 0) {
		if ((c = clause_new(f)) == NULL || clause_atom(f, c, ATOM_CODE, NULL) < 0) {
			r = KC_ERR_NOMEM;
			goto out;
		}
	}
	if (f->has_since || f->has_until) {
		if ((c = clause_new(f)) == NULL || clause_atom(f, c, ATOM_TIME, NULL) < 0) {
			r = KC_ERR_NOMEM;
			goto out;
		}
	}
out:
	if (r < 0)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

/* ---- adding conditions ------------------------------------------------ */

static int
parse_code(const char *v, long *out)
{
	char *end;
	long c;

	if (v[0] < '0' || v[0] > '9')
		return KC_ERR_INVALID;
	c = strtol(v, &end, 10);
	if (*end != '\0' || c < 0 || c > 999)
		return KC_ERR_INVALID;
	*out = c;
	return 0;
}

static int
add_code(struct kc_audit_filter *f, long c)
{
	if (KC_GROW(f->codes, f->codecap, f->ncodes + 1))
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	f->codes[f->ncodes++] = c;
	return 0;
}

int
kc_audit_filter_add(struct kc_audit_filter *f, const char *name, const char *value)
{
	size_t k;
	int r = 0;

	for (k = 0; k < NNAMES; k++)
		if (strcmp(names[k], name) == 0)
			break;
	if (k == NNAMES)
		return kc_err_set(KC_ERR_INVALID, "unknown audit filter '%s'", name);
	if (value == NULL || value[0] == '\0')
		return kc_err_set(KC_ERR_INVALID, "empty value for audit filter '%s'", name);
	switch (k) {
	case N_SINCE:
	case N_UNTIL: {
		int64_t ns;

		if ((r = parse_when(value, &ns)) < 0)
			return r;
		if (k == N_SINCE) {
			f->has_since = 1;
			f->since_ns = ns;
		} else {
			f->has_until = 1;
			f->until_ns = ns;
		}
		break;
	}
	case N_USER:
		r = sl_add(&f->users, value);
		break;
	case N_SA: {
		const char *slash = strchr(value, '/');
		char u[512];

		if (slash == NULL || slash == value || slash[1] == '\0' || strchr(slash + 1, '/') != NULL ||
		    strchr(value, ':') != NULL)
			return kc_err_set(KC_ERR_INVALID, "invalid service account '%s' (expected NAMESPACE/NAME)", value);
		if (snprintf(u, sizeof(u), "system:serviceaccount:%.*s:%s", (int)(slash - value),
		    value, slash + 1) >= (int)sizeof(u))
			return kc_err_set(KC_ERR_INVALID, "service account name too long");
		r = sl_add(&f->users, u);
		break;
	}
	case N_RESOURCE: {
		const char *slash = strchr(value, '/');
		char res[256];

		if (slash == value || (slash && (slash[1] == '\0' || strchr(slash + 1, '/'))) ||
		    strlen(value) >= sizeof(res))
			return kc_err_set(KC_ERR_INVALID, "invalid resource '%s' (expected RESOURCE or RESOURCE/SUBRESOURCE)", value);
		if ((r = kc_fmt(res, sizeof(res), "%.*s", slash ? (int)(slash - value) : (int)strlen(value), value)) != 0)
			return r;
		if ((r = sl_add(&f->res, res)) == 0)
			r = sl_add(&f->sub, slash ? slash + 1 : "");
		break;
	}
	case N_DECISION:
		if (strcmp(value, "allow") != 0 && strcmp(value, "forbid") != 0)
			return kc_err_set(KC_ERR_INVALID, "invalid decision '%s' (allow or forbid)", value);
		break;
	case N_CODE: {
		long c;

		if (parse_code(value, &c) < 0)
			return kc_err_set(KC_ERR_INVALID, "invalid response code '%s'", value);
		r = add_code(f, c);
		break;
	}
	case N_PRESET:
		if (strcmp(value, "sensitive-reads") == 0)
			f->sensitive = 1;
		else if (strcmp(value, "denied") == 0)
			f->denied = 1;
		else
			return kc_err_set(KC_ERR_INVALID, "unknown preset '%s' (sensitive-reads or denied)", value);
		break;
	case N_EXCL_RUN:
	case N_RUN:
		if (strchr(value, ' ') != NULL)
			return kc_err_set(KC_ERR_INVALID, "invalid run id '%s'", value);
		break;
	default:
		break;
	}
	if (r == 0)
		r = sl_add(&f->given[k], value);
	if (r == 0)
		r = compile(f);
	return r;
}

cJSON *
kc_audit_filter_json(const struct kc_audit_filter *f)
{
	cJSON *o = cJSON_CreateObject();
	char t[40];

	if (o == NULL)
		return NULL;
	for (size_t k = 0; k < NNAMES; k++) {
		cJSON *a;

		if (f->given[k].n == 0)
			continue;
		if ((a = cJSON_AddArrayToObject(o, names[k])) == NULL)
			goto fail;
		for (size_t i = 0; i < f->given[k].n; i++)
			if (!cJSON_AddItemToArray(a, cJSON_CreateString(f->given[k].v[i])))
				goto fail;
	}
	if (f->has_since && !cJSON_AddStringToObject(o, "since_resolved",
	    kc_fmt_rfc3339_us(f->since_ns, t, sizeof(t))))
		goto fail;
	if (f->has_until && !cJSON_AddStringToObject(o, "until_resolved",
	    kc_fmt_rfc3339_us(f->until_ns, t, sizeof(t))))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

int
kc_audit_filter_window(const struct kc_audit_filter *f, int64_t *since, int64_t *until)
{
	int r = 0;

	if (f->has_since) {
		*since = f->since_ns;
		r |= 1;
	}
	if (f->has_until) {
		*until = f->until_ns;
		r |= 2;
	}
	return r;
}

/* ---- exact test ------------------------------------------------------- */

static int
in_list(const char *s, char *const *v, size_t n)
{
	if (s == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return 1;
	return 0;
}

static int
code_in(const cJSON *ev, const long *codes, size_t n)
{
	const cJSON *c = kc_json_get(kc_json_get(ev, "responseStatus"), "code");

	if (!cJSON_IsNumber(c))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (c->valuedouble == (double)codes[i])
			return 1;
	return 0;
}

static int
starts(const char *s, const char *p)
{
	return s != NULL && strncmp(s, p, strlen(p)) == 0;
}

/* userAgent "... run/ID" (ID a whole word) or auditID "ID-..." */
static int
is_run(const char *ua, const char *aid, const char *id)
{
	size_t n = strlen(id);

	if (aid != NULL && strncmp(aid, id, n) == 0 && aid[n] == '-')
		return 1;
	for (const char *p = ua; p != NULL && (p = strstr(p, " run/")) != NULL; p++)
		if (strncmp(p + 5, id, n) == 0 && (p[5 + n] == '\0' || p[5 + n] == ' '))
			return 1;
	return 0;
}

int
kc_audit_filter_match(const struct kc_audit_filter *f, const cJSON *ev, const char **agent)
{
	const cJSON *ref = kc_json_get(ev, "objectRef");
	const char *u = kc_json_str(kc_json_get(ev, "user"), "username");
	const char *iu = kc_json_str(kc_json_get(ev, "impersonatedUser"), "username");
	const char *who;

	if (!cJSON_IsObject(ev))
		return 0;
	if (f->has_since || f->has_until) {
		const char *ts = kc_json_str(ev, "requestReceivedTimestamp");
		int64_t t;

		if (ts == NULL || kc_audit_parse_ts(ts, strlen(ts), &t) != 0 ||
		    (f->has_since && t < f->since_ns) || (f->has_until && t >= f->until_ns))
			return 0;
	}
	if (f->users.n > 0) {
		if (in_list(iu, f->users.v, f->users.n))
			who = iu;
		else if (in_list(u, f->users.v, f->users.n))
			who = u;
		else
			return 0;
	} else {
		who = iu ? iu : u ? u : "";
	}
	if (f->res.n > 0) {
		const char *r = kc_json_str(ref, "resource"), *s = kc_json_str(ref, "subresource");
		size_t i;

		for (i = 0; i < f->res.n; i++)
			if (r != NULL && strcmp(r, f->res.v[i]) == 0 &&
			    (f->sub.v[i][0] == '\0' || (s != NULL && strcmp(s, f->sub.v[i]) == 0)))
				break;
		if (i == f->res.n)
			return 0;
	}
	if (f->given[N_VERB].n > 0 && !in_list(kc_json_str(ev, "verb"), f->given[N_VERB].v, f->given[N_VERB].n))
		return 0;
	if (f->given[N_NAMESPACE].n > 0 &&
	    !in_list(kc_json_str(ref, "namespace"), f->given[N_NAMESPACE].v, f->given[N_NAMESPACE].n))
		return 0;
	if (f->given[N_DECISION].n > 0 &&
	    !in_list(kc_json_str(kc_json_get(ev, "annotations"), "authorization.k8s.io/decision"),
	    f->given[N_DECISION].v, f->given[N_DECISION].n))
		return 0;
	if (f->ncodes > 0 && !code_in(ev, f->codes, f->ncodes))
		return 0;
	if (f->sensitive &&
	    (!in_list(kc_json_str(ev, "verb"), (char *const *)sensitive_verbs, 3) ||
	    !in_list(kc_json_str(ref, "resource"), (char *const *)kc_sensitive_resources, KC_SENSITIVE_N)))
		return 0;
	if (f->denied) {
		const char *d = kc_json_str(kc_json_get(ev, "annotations"), "authorization.k8s.io/decision");

		if (!(d != NULL && strcmp(d, "forbid") == 0) && !code_in(ev, denied_codes, 2))
			return 0;
	}
	if (f->given[N_EXCL_UA].n + f->given[N_EXCL_AID].n + f->given[N_EXCL_RUN].n +
	    f->given[N_RUN].n > 0) {
		const char *ua = kc_json_str(ev, "userAgent"), *aid = kc_json_str(ev, "auditID");
		size_t i;

		for (i = 0; i < f->given[N_EXCL_UA].n; i++)
			if (starts(ua, f->given[N_EXCL_UA].v[i]))
				return 0;
		for (i = 0; i < f->given[N_EXCL_AID].n; i++)
			if (starts(aid, f->given[N_EXCL_AID].v[i]))
				return 0;
		for (i = 0; i < f->given[N_EXCL_RUN].n; i++)
			if (is_run(ua, aid, f->given[N_EXCL_RUN].v[i]))
				return 0;
		if (f->given[N_RUN].n > 0) {
			for (i = 0; i < f->given[N_RUN].n; i++)
				if (is_run(ua, aid, f->given[N_RUN].v[i]))
					break;
			if (i == f->given[N_RUN].n)
				return 0;
		}
	}
	if (agent != NULL)
		*agent = who;
	return 1;
}

/* ---- fast path -------------------------------------------------------- */

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* After a quoted key at p (pointing past its closing quote): the value's
 * first byte, or NULL when this is not a key. */
static const char *
after_key(const char *p, const char *end)
{
	while (p < end && is_ws(*p))
		p++;
	if (p >= end || *p != ':')
		return NULL;
	p++;
	while (p < end && is_ws(*p))
		p++;
	return p < end ? p : NULL;
}

static int
hit_code(const struct kc_audit_filter *f, const char *line, size_t len)
{
	const char *end = line + len, *p = line;

	while ((p = kc_audit_find(p, (size_t)(end - p), &f->k_code)) != NULL) {
		const char *v = after_key(p + 6, end);
		long c = 0;
		int nd = 0;

		p += 6;
		if (v == NULL)
			continue;
		if (*v == '-')
			return 1;	/* jq compares numbers: be safe */
		while (v < end && *v >= '0' && *v <= '9' && nd < 6) {
			c = c * 10 + (*v++ - '0');
			nd++;
		}
		if (nd == 0)
			continue;	/* not a number: never equal */
		if (v < end && ((*v >= '0' && *v <= '9') || *v == '.' || *v == 'e' || *v == 'E'))
			return 1;
		if (f->denied && (c == 401 || c == 403))
			return 1;
		for (size_t i = 0; i < f->ncodes; i++)
			if (f->codes[i] == c)
				return 1;
	}
	return 0;
}

static int
hit_time(const struct kc_audit_filter *f, const char *line, size_t len)
{
	const char *end = line + len, *p = line;

	while ((p = kc_audit_find(p, (size_t)(end - p), &f->k_time)) != NULL) {
		const char *v = after_key(p + sizeof(key_time) - 1, end), *q;
		int64_t t;

		p += sizeof(key_time) - 1;
		if (v == NULL || *v != '"')
			continue;
		v++;
		if ((q = memchr(v, '"', (size_t)(end - v))) == NULL)
			return 1;
		if (memchr(v, '\\', (size_t)(q - v)) != NULL)
			return 1;
		if (kc_audit_parse_ts(v, (size_t)(q - v), &t) != 0)
			continue;
		if ((!f->has_since || t >= f->since_ns) && (!f->has_until || t < f->until_ns))
			return 1;
	}
	return 0;
}

static int
hit_needles(const struct clause *c, const char *line, size_t len)
{
	const char *end = line + len;

	if (c->plen > 0) {
		const char *p = line;

		while ((p = kc_audit_find(p, (size_t)(end - p), &c->pnd)) != NULL) {
			for (size_t i = 0; i < c->n; i++)
				if ((size_t)(end - p) >= c->a[i].nlen &&
				    memcmp(p + c->plen, c->a[i].needle + c->plen, c->a[i].nlen - c->plen) == 0)
					return 1;
			p++;
		}
		return 0;
	}
	for (size_t i = 0; i < c->n; i++)
		if (c->a[i].kind == ATOM_NEEDLE && kc_audit_find(line, len, &c->a[i].nd) != NULL)
			return 1;
	return 0;
}

static int
hex4(const char *p, unsigned *cp)
{
	*cp = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned v;

		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = (unsigned)(c - 'A' + 10);
		else
			return 0;
		*cp = *cp * 16 + v;
	}
	return 1;
}

/* Could a \uXXXX escape in the line spell part of a wanted value or key? */
static int
escape_hatch(const struct kc_audit_filter *f, const char *line, size_t len)
{
	const char *end = line + len, *p = line;

	while ((p = kc_audit_find(p, (size_t)(end - p), &f->k_esc)) != NULL) {
		unsigned cp;

		if (end - p < 6 || !hex4(p + 2, &cp))
			return 1;	/* not valid JSON: let the parser say so */
		if (cp < 128 ? f->hot[cp] != 0 : f->hot_high)
			return 1;
		p += 6;
	}
	return 0;
}

int
kc_audit_filter_maybe(const struct kc_audit_filter *f, const char *line, size_t len)
{
	for (size_t i = 0; i < f->ncl; i++) {
		const struct clause *c = &f->cl[i];
		int hit = 0;

		if (c->n > 0 && c->a[0].kind == ATOM_NEEDLE)
			hit = hit_needles(c, line, len);
		for (size_t j = 0; j < c->n && !hit; j++) {
			if (c->a[j].kind == ATOM_CODE)
				hit = hit_code(f, line, len);
			else if (c->a[j].kind == ATOM_TIME)
				hit = hit_time(f, line, len);
		}
		if (!hit)
			return escape_hatch(f, line, len);
	}
	return 1;
}

static int
is_read_verb(const char *v)
{
	return strcmp(v, "get") == 0 || strcmp(v, "list") == 0 || strcmp(v, "watch") == 0;
}

int
kc_audit_filter_reads(const struct kc_audit_filter *f)
{
	const struct strlist *v = &f->given[N_VERB];
	size_t reads = 0;

	for (size_t i = 0; i < v->n; i++)
		reads += is_read_verb(v->v[i]) != 0;
	if (v->n > 0)	/* verbs are ANDed with the presets */
		return reads == v->n ? 2 : reads > 0 ? 1 : 0;
	if (f->sensitive && !f->denied)
		return 2;
	return 1;
}
