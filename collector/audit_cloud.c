/* audit_cloud.c - audit events from managed clusters' exports: EKS
 * (CloudWatch Logs JSON and its S3 export), GKE (Cloud Logging entries of
 * Cloud Audit Logs) and AKS (diagnostic-settings records).  Each record is
 * classified, checked and turned into one audit.k8s.io/v1 Event so that
 * filters, redaction, accounting and diff read it unchanged.  The shapes
 * are written down in docs/AUDIT.md ("Managed clusters"). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collector/audit.h"
#include "collector/audit_int.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/json.h"
#include "util/timeutil.h"

const char *
kc_audit_provider_name(int p)
{
	switch (p) {
	case KC_AUDIT_PROV_NATIVE: return "native";
	case KC_AUDIT_PROV_EKS: return "eks";
	case KC_AUDIT_PROV_GKE: return "gke";
	case KC_AUDIT_PROV_AKS: return "aks";
	default: return "unknown";
	}
}

int
kc_audit_format_parse(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return KC_AUDIT_PROV_UNKNOWN;
	if (strcmp(s, "native") == 0)
		return KC_AUDIT_PROV_NATIVE;
	if (strcmp(s, "eks") == 0)
		return KC_AUDIT_PROV_EKS;
	if (strcmp(s, "gke") == 0)
		return KC_AUDIT_PROV_GKE;
	if (strcmp(s, "aks") == 0)
		return KC_AUDIT_PROV_AKS;
	return -1;
}

/* A provenance label (record id, stream, cluster) for the report: cut to its
 * field when longer, which only shortens what is shown. */
static void
copy_label(char *dst, size_t n, const char *s)
{
	kc_fmt_trunc(dst, n, "%s", s ? s : "");
}

/* A part of a method or resource name that the record is matched by: 0
 * when it does not fit its field (the name does not map; a cut part would
 * name another resource). */
static int
copy_part(char *dst, size_t n, const char *s)
{
	size_t l = strlen(s);

	if (l >= n)
		return 0;
	memcpy(dst, s, l + 1);
	return 1;
}

static int
is_audit_event(const cJSON *ev)
{
	const char *k = kc_json_str(ev, "kind"), *av = kc_json_str(ev, "apiVersion");

	return cJSON_IsObject(ev) && k != NULL && strcmp(k, "Event") == 0 && av != NULL &&
	    strncmp(av, "audit.k8s.io/", 13) == 0;
}

int
kc_audit_cloud_classify(const cJSON *rec)
{
	if (cJSON_IsObject(kc_json_get(rec, "protoPayload")))
		return KC_AUDIT_PROV_GKE;
	if (kc_json_str(rec, "category") != NULL && kc_json_get(rec, "properties") != NULL)
		return KC_AUDIT_PROV_AKS;
	if (kc_json_str(rec, "message") != NULL &&
	    (kc_json_get(rec, "eventId") != NULL || kc_json_get(rec, "logStreamName") != NULL ||
	    kc_json_get(rec, "ingestionTime") != NULL || cJSON_IsNumber(kc_json_get(rec, "timestamp"))))
		return KC_AUDIT_PROV_EKS;
	if (is_audit_event(rec))
		return KC_AUDIT_PROV_NATIVE;
	return KC_AUDIT_PROV_UNKNOWN;
}

/* "2026-03-02T08:00:00.123Z {" ...: CloudWatch Logs' export to S3 writes
 * each event as its ingestion time, a space and the message.  *skip is
 * the length of the prefix. */
int
kc_audit_cloud_s3_prefix(const char *line, size_t len, size_t *skip)
{
	size_t i;
	int64_t ns;

	if (len < 22 || line[0] < '0' || line[0] > '9' || line[4] != '-' || line[10] != 'T')
		return 0;
	for (i = 11; i < len && i < 48 && line[i] != ' '; i++)
		;
	if (i >= len - 1 || line[i] != ' ' || line[i + 1] != '{')
		return 0;
	if (kc_audit_parse_ts(line, i, &ns) != 0)
		return 0;
	*skip = i + 1;
	return 1;
}

/* A string member holding one audit event as JSON text. */
static int
embedded_event(const char *text, cJSON **ev, const char **why, char *detail, size_t dn)
{
	const char *end = NULL;

	*ev = NULL;
	if (kc_json_text_has_nul(text, strlen(text))) {
		/* the line's own scan saw an escaped backslash here: the NUL
		 * escape is in the embedded text, and cJSON would cut there */
		*why = "NUL character in a string";
		kc_fmt_trunc(detail, dn, "the embedded event holds \\u0000, which no API server writes; JSON "
		    "readers differ on it");
		return 0;
	}
	*ev = cJSON_ParseWithLengthOpts(text, strlen(text), &end, 0);
	if (*ev == NULL || end == NULL || *end != '\0') {
		cJSON_Delete(*ev);
		*ev = NULL;
		*why = "message is not an audit event";
		kc_fmt_trunc(detail, dn, "the embedded text is not one JSON value");
		return 0;
	}
	if (!is_audit_event(*ev)) {
		cJSON_Delete(*ev);
		*ev = NULL;
		*why = "message is not an audit event";
		kc_fmt_trunc(detail, dn, "the embedded JSON is not an audit.k8s.io Event");
		return 0;
	}
	return 1;
}

static int
eks(const cJSON *rec, struct kc_audit_prov *p, cJSON **ev, const char **why, char *detail, size_t dn)
{
	const char *msg = kc_json_str(rec, "message");
	const char *st = kc_json_str(rec, "logStreamName");
	const char *grp = kc_json_str(rec, "logGroupName");
	const cJSON *id = kc_json_get(rec, "eventId");

	p->form = "eks-cloudwatch";
	copy_label(p->stream, sizeof(p->stream), st ? st : "(log stream not named)");
	if (cJSON_IsString(id))
		copy_label(p->id, sizeof(p->id), id->valuestring);
	if (grp != NULL && strncmp(grp, "/aws/eks/", 9) == 0) {
		const char *e = strchr(grp + 9, '/');
		kc_fmt_trunc(p->cluster, sizeof(p->cluster), "%.*s", (int)(e ? (size_t)(e - grp - 9) : strlen(grp + 9)), grp + 9);
	}
	p->reads = 1;
	if (msg == NULL) {
		*why = "not an EKS log event";
		kc_fmt_trunc(detail, dn, "no message");
		return 0;
	}
	if (!embedded_event(msg, ev, why, detail, dn)) {
		if (st != NULL && strncmp(st, "kube-apiserver-audit", 20) != 0)
			kc_fmt_trunc(detail, dn, "log stream %.200s is not an audit stream (kube-apiserver-audit-*)", st);
		return 0;
	}
	p->text = msg;
	return 1;
}

/* The managed cluster's name: the segment after .../managedClusters/. */
static void
aks_cluster(const char *rid, char *out, size_t n)
{
	const char *k = "/managedclusters/";
	size_t kl = strlen(k);

	for (const char *s = rid; s != NULL && *s; s++)
		if (strncasecmp(s, k, kl) == 0) {
			const char *e = strchr(s + kl, '/');
			kc_fmt_trunc(out, n, "%.*s", (int)(e ? (size_t)(e - s - kl) : strlen(s + kl)), s + kl);
			return;
		}
}

static int
aks(const cJSON *rec, struct kc_audit_prov *p, cJSON **ev, const char **why, char *detail, size_t dn)
{
	const char *cat = kc_json_str(rec, "category");
	const cJSON *props = kc_json_get(rec, "properties");
	const char *log;

	p->form = "aks-diagnostics";
	copy_label(p->stream, sizeof(p->stream), cat);
	aks_cluster(kc_json_str(rec, "resourceId"), p->cluster, sizeof(p->cluster));
	if (cat == NULL || (strcasecmp(cat, "kube-audit") != 0 && strcasecmp(cat, "kube-audit-admin") != 0)) {
		*why = "not an audit category";
		kc_fmt_trunc(detail, dn, "category %.100s (kube-audit or kube-audit-admin expected)", cat ? cat : "(none)");
		return 0;
	}
	/* kube-audit-admin leaves out get and list (and watch) */
	p->reads = strcasecmp(cat, "kube-audit") == 0;
	if (cJSON_IsString(props)) {
		/* some exports carry properties as JSON text */
		if (kc_json_text_has_nul(props->valuestring, strlen(props->valuestring))) {
			*why = "NUL character in a string";
			kc_fmt_trunc(detail, dn, "properties holds \\u0000, which no API server writes; JSON readers "
			    "differ on it");
			return 0;
		}
		if ((p->owned = cJSON_Parse(props->valuestring)) == NULL) {
			*why = "message is not an audit event";
			kc_fmt_trunc(detail, dn, "properties is text that is not JSON");
			return 0;
		}
		props = p->owned;
	}
	if ((log = kc_json_str(props, "log")) == NULL) {
		*why = "message is not an audit event";
		kc_fmt_trunc(detail, dn, "no properties.log");
		return 0;
	}
	if (!embedded_event(log, ev, why, detail, dn))
		return 0;
	copy_label(p->id, sizeof(p->id), kc_json_str(*ev, "auditID"));
	p->text = log;
	return 1;
}

/* ---- GKE -------------------------------------------------------------- */

static const char *const VERBS[] = { "get", "list", "watch", "create", "update", "patch",
	"delete", "deletecollection", NULL };

static int
version_part(const char *s)
{
	size_t i = 1;

	if (s[0] != 'v' || s[1] < '0' || s[1] > '9')
		return 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (s[i] == '\0')
		return 1;
	if (strncmp(s + i, "alpha", 5) == 0)
		i += 5;
	else if (strncmp(s + i, "beta", 4) == 0)
		i += 4;
	else
		return 0;
	if (s[i] < '0' || s[i] > '9')
		return 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	return s[i] == '\0';
}

#define MPARTS 24

struct gke_method {
	char group[256], version[32], resource[128], sub[128], verb[32];
};

/* io.k8s.core.v1.secrets.get: the API group's domain reversed (core.k8s.io
 * is the core group "", apps.k8s.io and the other legacy names are "apps"
 * etc., other .k8s.io groups keep their name, a CRD group is its domain),
 * the version, the resource, a subresource, the verb. */
static int
gke_method(const char *m, struct gke_method *g)
{
	static const char *const legacy[] = { "apps", "batch", "autoscaling", "policy", "extensions", NULL };
	char buf[512], *parts[MPARTS], *save = NULL, *t;
	int n = 0, iv = -1, after;
	size_t gl = 0;

	memset(g, 0, sizeof(*g));
	if (strlen(m) >= sizeof(buf))
		return 0;
	memcpy(buf, m, strlen(m) + 1);
	for (t = strtok_r(buf, ".", &save); t != NULL; t = strtok_r(NULL, ".", &save)) {
		if (n == MPARTS)
			return 0;
		parts[n++] = t;
	}
	for (int i = 2; i < n; i++)
		if (version_part(parts[i])) {
			iv = i;
			break;
		}
	if (iv < 0)
		return 0;
	after = n - iv - 1;
	if (after < 2 || after > 3)
		return 0;
	for (int i = iv - 1; i >= 0; i--) {
		int k = snprintf(g->group + gl, sizeof(g->group) - gl, "%s%s", gl ? "." : "", parts[i]);
		if (k < 0 || (size_t)k >= sizeof(g->group) - gl)
			return 0;
		gl += (size_t)k;
	}
	if (gl > 7 && strcmp(g->group + gl - 7, ".k8s.io") == 0) {
		g->group[gl - 7] = '\0';
		if (strcmp(g->group, "core") == 0) {
			g->group[0] = '\0';
		} else {
			int leg = 0;
			for (int i = 0; legacy[i]; i++)
				leg |= strcmp(g->group, legacy[i]) == 0;
			if (!leg)
				g->group[gl - 7] = '.';
		}
	}
	if (!copy_part(g->version, sizeof(g->version), parts[iv]) ||
	    !copy_part(g->resource, sizeof(g->resource), parts[iv + 1]) ||
	    (after == 3 && !copy_part(g->sub, sizeof(g->sub), parts[iv + 2])) ||
	    !copy_part(g->verb, sizeof(g->verb), parts[n - 1]))
		return 0;
	for (int i = 0; VERBS[i]; i++)
		if (strcmp(g->verb, VERBS[i]) == 0)
			return 1;
	return 0;
}

struct gke_name {
	char ns[256], resource[128], name[256], sub[128];
};

/* core/v1/namespaces/NS/secrets/NAME[/SUB], core/v1/nodes/NAME,
 * core/v1/namespaces/NS (the namespace itself). */
static int
gke_resource_name(const char *rn, struct gke_name *o)
{
	char buf[1024], *parts[16], *save = NULL, *t;
	int n = 0, i = 2;

	memset(o, 0, sizeof(*o));
	if (rn == NULL || strlen(rn) >= sizeof(buf))
		return 0;
	memcpy(buf, rn, strlen(rn) + 1);
	for (t = strtok_r(buf, "/", &save); t != NULL; t = strtok_r(NULL, "/", &save)) {
		if (n == 16)
			return 0;
		parts[n++] = t;
	}
	if (n < 3)
		return 0;
	if (strcmp(parts[2], "namespaces") == 0 && n == 4) {
		return copy_part(o->resource, sizeof(o->resource), "namespaces") &&
		    copy_part(o->name, sizeof(o->name), parts[3]) &&
		    copy_part(o->ns, sizeof(o->ns), parts[3]);
	}
	if (strcmp(parts[2], "namespaces") == 0 && n >= 5) {
		if (!copy_part(o->ns, sizeof(o->ns), parts[3]))
			return 0;
		i = 4;
	}
	if (n - i > 3)
		return 0;
	return copy_part(o->resource, sizeof(o->resource), parts[i]) &&
	    (n - i < 2 || copy_part(o->name, sizeof(o->name), parts[i + 1])) &&
	    (n - i < 3 || copy_part(o->sub, sizeof(o->sub), parts[i + 2]));
}

/* google.rpc.Code to the HTTP status the API server would have sent. */
static int
grpc_http(int c)
{
	static const int map[] = {
		200,	/* 0 OK (201 Created is not recoverable) */
		499,	/* 1 CANCELLED */
		500,	/* 2 UNKNOWN */
		400,	/* 3 INVALID_ARGUMENT */
		504,	/* 4 DEADLINE_EXCEEDED */
		404,	/* 5 NOT_FOUND */
		409,	/* 6 ALREADY_EXISTS */
		403,	/* 7 PERMISSION_DENIED */
		429,	/* 8 RESOURCE_EXHAUSTED */
		400,	/* 9 FAILED_PRECONDITION */
		409,	/* 10 ABORTED */
		400,	/* 11 OUT_OF_RANGE */
		501,	/* 12 UNIMPLEMENTED */
		500,	/* 13 INTERNAL */
		503,	/* 14 UNAVAILABLE */
		500,	/* 15 DATA_LOSS */
		401,	/* 16 UNAUTHENTICATED */
	};

	return c >= 0 && c <= 16 ? map[c] : 500;
}

static int
add_ts(cJSON *ev, const char *k, const char *v)
{
	int64_t ns;
	char t[40];

	if (v == NULL)
		return 1;
	if (kc_audit_parse_ts(v, strlen(v), &ns) != 0)	/* kept as is: reported later */
		return cJSON_AddStringToObject(ev, k, v) != NULL;
	return cJSON_AddStringToObject(ev, k, kc_fmt_rfc3339_us(ns, t, sizeof(t))) != NULL;
}

static int
add_copy(cJSON *o, const char *k, const cJSON *v)
{
	cJSON *c;

	if (v == NULL)
		return 1;
	if ((c = cJSON_Duplicate(v, 1)) == NULL)
		return 0;
	if (!cJSON_AddItemToObject(o, k, c)) {
		cJSON_Delete(c);
		return 0;
	}
	return 1;
}

/* "projects/P/logs/cloudaudit.googleapis.com%2Fdata_access" -> the log id,
 * %2F decoded. */
static void
log_id(const char *ln, char *out, size_t n)
{
	const char *s = ln ? strstr(ln, "/logs/") : NULL;
	size_t o = 0;

	s = s ? s + 6 : (ln ? ln : "");
	for (; *s && o + 1 < n; s++) {
		if (s[0] == '%' && (s[1] == '2') && (s[2] == 'F' || s[2] == 'f')) {
			out[o++] = '/';
			s += 2;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

static int
gke(const cJSON *rec, struct kc_audit_prov *p, cJSON **evp, const char **why, char *detail, size_t dn)
{
	const cJSON *pp = kc_json_get(rec, "protoPayload"), *res = kc_json_get(rec, "resource");
	const cJSON *lab = kc_json_get(res, "labels"), *auth = kc_json_get(pp, "authenticationInfo");
	const cJSON *rm = kc_json_get(pp, "requestMetadata"), *st = kc_json_get(pp, "status");
	const cJSON *elab = kc_json_get(rec, "labels"), *c;
	const char *type = kc_json_str(pp, "@type"), *rtype = kc_json_str(res, "type");
	const char *method = kc_json_str(pp, "methodName"), *ts = kc_json_str(rec, "timestamp");
	const char *user, *ip, *ua, *dec = NULL;
	struct gke_method gm;
	struct gke_name gn;
	cJSON *ev = NULL, *o, *ann = NULL;
	int code = 0, have_rn;

	p->form = "gke-logging";
	copy_label(p->id, sizeof(p->id), kc_json_str(rec, "insertId"));
	log_id(kc_json_str(rec, "logName"), p->stream, sizeof(p->stream));
	kc_fmt_trunc(p->cluster, sizeof(p->cluster), "%s/%s/%s",
	    kc_json_str(lab, "project_id") ? kc_json_str(lab, "project_id") : "",
	    kc_json_str(lab, "location") ? kc_json_str(lab, "location") : "",
	    kc_json_str(lab, "cluster_name") ? kc_json_str(lab, "cluster_name") : "");
	/* reads (get, list, watch) are in Data Access logs only */
	p->reads = strstr(p->stream, "data_access") != NULL;
	if (type == NULL || strcmp(type, "type.googleapis.com/google.cloud.audit.AuditLog") != 0) {
		*why = "not a Cloud Audit Logs entry";
		kc_fmt_trunc(detail, dn, "protoPayload @type %.150s", type ? type : "(none)");
		return 0;
	}
	if (rtype == NULL || strcmp(rtype, "k8s_cluster") != 0) {
		*why = "not a Kubernetes API audit entry";
		kc_fmt_trunc(detail, dn, "resource.type %.100s (k8s_cluster expected)", rtype ? rtype : "(none)");
		return 0;
	}
	if (method == NULL || !gke_method(method, &gm)) {
		*why = "GKE method name does not map";
		kc_fmt_trunc(detail, dn, "methodName %.200s", method ? method : "(none)");
		return 0;
	}
	have_rn = gke_resource_name(kc_json_str(pp, "resourceName"), &gn);
	if (have_rn && strcmp(gn.resource, gm.resource) != 0) {
		*why = "GKE method name does not map";
		kc_fmt_trunc(detail, dn, "methodName %.100s names %.60s, resourceName names %.60s",
		    method, gm.resource, gn.resource);
		return 0;
	}
	if (ts == NULL) {
		*why = "not a Kubernetes API audit entry";
		kc_fmt_trunc(detail, dn, "no timestamp");
		return 0;
	}
	c = kc_json_get(st, "code");
	if (c != NULL && !cJSON_IsNumber(c)) {
		*why = "not a Kubernetes API audit entry";
		kc_fmt_trunc(detail, dn, "status.code is not a number");
		return 0;
	}
	code = c ? (int)c->valuedouble : 0;
	if ((ev = cJSON_CreateObject()) == NULL)
		goto nomem;
	user = kc_json_str(auth, "principalEmail");
	ip = kc_json_str(rm, "callerIp");
	ua = kc_json_str(rm, "callerSuppliedUserAgent");
	if (!cJSON_AddStringToObject(ev, "kind", "Event") ||
	    !cJSON_AddStringToObject(ev, "apiVersion", "audit.k8s.io/v1") ||
	    !cJSON_AddStringToObject(ev, "level", kc_json_get(pp, "response") ? "RequestResponse" :
	    kc_json_get(pp, "request") ? "Request" : "Metadata") ||
	    !cJSON_AddStringToObject(ev, "auditID", p->id) ||
	    !cJSON_AddStringToObject(ev, "stage", "ResponseComplete") ||
	    !cJSON_AddStringToObject(ev, "verb", gm.verb))
		goto nomem;
	if (user != NULL) {
		if ((o = cJSON_AddObjectToObject(ev, "user")) == NULL || !cJSON_AddStringToObject(o, "username", user))
			goto nomem;
	}
	if (ip != NULL) {
		if ((o = cJSON_AddArrayToObject(ev, "sourceIPs")) == NULL)
			goto nomem;
		cJSON_AddItemToArray(o, cJSON_CreateString(ip));
	}
	if (ua != NULL && !cJSON_AddStringToObject(ev, "userAgent", ua))
		goto nomem;
	if ((o = cJSON_AddObjectToObject(ev, "objectRef")) == NULL ||
	    !cJSON_AddStringToObject(o, "resource", gm.resource) ||
	    (gn.ns[0] && !cJSON_AddStringToObject(o, "namespace", gn.ns)) ||
	    (gn.name[0] && !cJSON_AddStringToObject(o, "name", gn.name)) ||
	    (gm.group[0] && !cJSON_AddStringToObject(o, "apiGroup", gm.group)) ||
	    !cJSON_AddStringToObject(o, "apiVersion", gm.version) ||
	    ((gn.sub[0] || gm.sub[0]) && !cJSON_AddStringToObject(o, "subresource", gn.sub[0] ? gn.sub : gm.sub)))
		goto nomem;
	if ((o = cJSON_AddObjectToObject(ev, "responseStatus")) == NULL ||
	    !cJSON_AddNumberToObject(o, "code", grpc_http(code)) ||
	    (kc_json_str(st, "message") &&
	    !cJSON_AddStringToObject(o, "message", kc_json_str(st, "message"))))
		goto nomem;
	if (!add_copy(ev, "requestObject", kc_json_get(pp, "request")) ||
	    !add_copy(ev, "responseObject", kc_json_get(pp, "response")) ||
	    !add_ts(ev, "requestReceivedTimestamp", ts) ||
	    !add_ts(ev, "stageTimestamp", kc_json_str(rec, "receiveTimestamp") ?
	    kc_json_str(rec, "receiveTimestamp") : ts))
		goto nomem;
	/* the API server's annotations travel as entry labels */
	cJSON_ArrayForEach(c, elab) {
		if (c->string == NULL || !cJSON_IsString(c) || strstr(c->string, "k8s.io/") == NULL)
			continue;
		if (ann == NULL && (ann = cJSON_AddObjectToObject(ev, "annotations")) == NULL)
			goto nomem;
		if (!cJSON_AddStringToObject(ann, c->string, c->valuestring))
			goto nomem;
		if (strcmp(c->string, "authorization.k8s.io/decision") == 0)
			dec = c->valuestring;
	}
	if (dec == NULL && cJSON_IsArray(kc_json_get(pp, "authorizationInfo")) &&
	    cJSON_GetArraySize(kc_json_get(pp, "authorizationInfo")) > 0) {
		const cJSON *a0 = cJSON_GetArrayItem(kc_json_get(pp, "authorizationInfo"), 0);

		/* proto3 JSON leaves out granted: false */
		if (ann == NULL && (ann = cJSON_AddObjectToObject(ev, "annotations")) == NULL)
			goto nomem;
		if (!cJSON_AddStringToObject(ann, "authorization.k8s.io/decision",
		    cJSON_IsTrue(kc_json_get(a0, "granted")) ? "allow" : "forbid"))
			goto nomem;
	}
	*evp = ev;
	return 1;
nomem:
	cJSON_Delete(ev);
	*why = NULL;
	return kc_err_set(KC_ERR_NOMEM, "out of memory");
}

int
kc_audit_cloud_convert(const cJSON *rec, int provider, struct kc_audit_prov *p, cJSON **ev,
    const char **why, char *detail, size_t dn)
{
	*ev = NULL;
	*why = NULL;
	detail[0] = '\0';
	p->provider = provider;
	switch (provider) {
	case KC_AUDIT_PROV_EKS:
		return eks(rec, p, ev, why, detail, dn);
	case KC_AUDIT_PROV_GKE:
		return gke(rec, p, ev, why, detail, dn);
	case KC_AUDIT_PROV_AKS:
		return aks(rec, p, ev, why, detail, dn);
	default:
		*why = "not an audit record";
		kc_fmt_trunc(detail, dn, "neither an audit.k8s.io Event nor an EKS, GKE or AKS export record");
		return 0;
	}
}

void
kc_audit_prov_clear(struct kc_audit_prov *p)
{
	cJSON_Delete(p->owned);
	memset(p, 0, sizeof(*p));
}
