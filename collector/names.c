/* names.c - Kubernetes name rules and their path components (names.h). */
#include <stdio.h>
#include <string.h>

#include "collector/names.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/sha256.h"

#define HASH_DIGITS 16
#define INVALID_PREFIX "_invalid-"
/* room kept at the end of a shortened component for '~' and the digits */
#define SHORT_KEEP (KC_NAME_COMPONENT_MAX - 1 - HASH_DIGITS)

const char *
kc_name_kind_str(enum kc_name_kind kind)
{
	switch (kind) {
	case KC_NAME_NAMESPACE: return "Namespace";
	case KC_NAME_SERVICEACCOUNT: return "ServiceAccount";
	case KC_NAME_RBAC: return "RBAC object";
	case KC_NAME_POD: return "Pod";
	case KC_NAME_CONTAINER: return "Container";
	}
	return "name";
}

static int
lower_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One DNS-1123 label of n bytes at s (n > 0). */
static const char *
label_invalid(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!lower_alnum((unsigned char)s[i]) && s[i] != '-')
			return "holds a byte other than a-z, 0-9, '-' and '.'";
	if (!lower_alnum((unsigned char)s[0]) || !lower_alnum((unsigned char)s[n - 1]))
		return "a label does not start and end with a-z or 0-9";
	return NULL;
}

const char *
kc_name_invalid(enum kc_name_kind kind, const char *name)
{
	size_t len;
	const char *p, *dot, *why;

	if (name == NULL || (len = strlen(name)) == 0)
		return "empty";
	switch (kind) {
	case KC_NAME_NAMESPACE:
	case KC_NAME_CONTAINER:
		if (len > 63)
			return "longer than 63 bytes (DNS-1123 label)";
		if (strchr(name, '.') != NULL)
			return "holds '.' (a namespace is a DNS-1123 label)";
		return label_invalid(name, len);
	case KC_NAME_SERVICEACCOUNT:
	case KC_NAME_POD:
		if (len > 253)
			return "longer than 253 bytes (DNS-1123 subdomain)";
		for (p = name; ; p = dot + 1) {
			dot = strchr(p, '.');
			if ((dot ? (size_t)(dot - p) : strlen(p)) == 0)
				return "has an empty label";
			if ((why = label_invalid(p, dot ? (size_t)(dot - p) : strlen(p))) != NULL)
				return why;
			if (dot == NULL)
				return NULL;
		}
	case KC_NAME_RBAC:
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			return "is \".\" or \"..\"";
		if (strchr(name, '/') != NULL)
			return "holds '/'";
		if (strchr(name, '%') != NULL)
			return "holds '%'";
		return NULL;
	}
	return "unknown kind";
}

static int
kept(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '-' || c == '_';
}

static int
hash16(const char *a, const char *b, char out[HASH_DIGITS + 1])
{
	char hex[KC_SHA256_HEX];
	struct kc_sha256 *h = kc_sha256_new();
	int r;

	if (h == NULL)
		return kc_err_set(KC_ERR_CRYPTO, "sha256 failed");
	r = kc_sha256_update(h, a, strlen(a));
	if (r == 0 && b != NULL)
		r = kc_sha256_update(h, "/", 1);
	if (r == 0 && b != NULL)
		r = kc_sha256_update(h, b, strlen(b));
	if (r == 0)
		r = kc_sha256_final(h, NULL, hex);
	kc_sha256_free(h);
	if (r != 0)
		return r;
	memcpy(out, hex, HASH_DIGITS);
	out[HASH_DIGITS] = '\0';
	return 0;
}

/* Cut a component of len bytes to SHORT_KEEP (never inside a %XX) and
 * append '~' and the hash of a (and "/" b). */
static int
shorten(char *out, size_t len, const char *a, const char *b)
{
	char h[HASH_DIGITS + 1];
	size_t cut = SHORT_KEEP;
	int r;

	if (len <= KC_NAME_COMPONENT_MAX)
		return 0;
	if ((r = hash16(a, b, h)) != 0)
		return r;
	if (out[cut - 1] == '%')
		cut -= 1;
	else if (out[cut - 2] == '%')
		cut -= 2;
	/* the hash whole, or the shortened name would not be unique */
	return kc_fmt(out + cut, KC_NAME_COMPONENT_SIZE - cut, "~%s", h);
}

int
kc_name_component(enum kc_name_kind kind, const char *name, char out[KC_NAME_COMPONENT_SIZE])
{
	static const char hex[] = "0123456789ABCDEF";
	char h[HASH_DIGITS + 1];
	size_t o = 0;
	int r;

	if (kc_name_invalid(kind, name) != NULL) {
		if ((r = hash16(name ? name : "", NULL, h)) != 0)
			return r;
		if ((r = kc_fmt(out, KC_NAME_COMPONENT_SIZE, INVALID_PREFIX "%s", h)) != 0)
			return r;
		return 1;
	}
	/* Encode until the buffer is full; a longer result is shortened,
	 * and its shortened form does not depend on the bytes past the cut. */
	for (const char *p = name; *p != '\0' && o < KC_NAME_COMPONENT_SIZE; p++) {
		unsigned char c = (unsigned char)*p;

		if (kept(c) && !(c == '_' && p == name)) {
			out[o++] = (char)c;
		} else if (o + 3 <= KC_NAME_COMPONENT_SIZE) {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			o = KC_NAME_COMPONENT_SIZE;	/* too long either way */
		}
	}
	if (o < KC_NAME_COMPONENT_SIZE) {
		out[o] = '\0';
		return 0;
	}
	if ((r = shorten(out, o, name, NULL)) != 0)
		return r;
	return 0;
}

int
kc_name_sa_folder(const char *ns, const char *name, char out[KC_NAME_COMPONENT_SIZE])
{
	char cns[KC_NAME_COMPONENT_SIZE], cname[KC_NAME_COMPONENT_SIZE];
	char both[2 * KC_NAME_COMPONENT_SIZE + 2];
	int a, b, r;
	size_t len;

	if ((a = kc_name_component(KC_NAME_NAMESPACE, ns, cns)) < 0)
		return a;
	if ((b = kc_name_component(KC_NAME_SERVICEACCOUNT, name, cname)) < 0)
		return b;
	if ((r = kc_fmt(both, sizeof(both), "%s__%s", cns, cname)) != 0)
		return r;
	len = strlen(both);
	if (len > KC_NAME_COMPONENT_MAX && (r = shorten(both, len, ns ? ns : "", name ? name : "")) != 0)
		return r;
	if ((len = strlen(both)) > KC_NAME_COMPONENT_MAX)	/* cannot happen: shortened */
		return kc_err_set(KC_ERR_INVALID, "service account folder too long");
	memcpy(out, both, len + 1);
	return a || b ? 1 : 0;
}
