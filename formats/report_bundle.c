/* report_bundle.c - the members the report shows, read in one pass by the
 * bundle-member reader (manifest/bundle.h), each used only when its SHA-256
 * is the one SHA256SUMS names. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/report_int.h"
#include "manifest/digest.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/sha256.h"

/* ------------------------------------------------------------------ */
/* the bundle's members, read in one pass */

static const char *const wanted[] = {
	"MANIFEST.json", "SHA256SUMS", "analysis/findings.json", "analysis/inventory.csv",
	"analysis/who-can.json", "analysis/selection.json", "audit/sources.json", NULL
};

static int
is_wanted(const char *rel)
{
	size_t n = strlen(rel);

	for (int i = 0; wanted[i] != NULL; i++)
		if (strcmp(rel, wanted[i]) == 0)
			return 1;
	return strncmp(rel, "analysis/effective/", 19) == 0 && n > 24 &&
	    strcmp(rel + n - 5, ".json") == 0;
}

struct member {
	char *rel;
	struct kc_buf data;
};

static void
problem(struct bundle *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
problem(struct bundle *b, const char *fmt, ...)
{
	va_list ap;

	if (b->problems.len > 0)
		kc_buf_addc(&b->problems, '\n');
	va_start(ap, fmt);
	kc_buf_vaddf(&b->problems, fmt, ap);
	va_end(ap);
}

/* RFC 4180 (inventory.csv): rows of fields into a JSON array of arrays. */
static cJSON *
parse_csv(const char *s, size_t n)
{
	cJSON *rows = cJSON_CreateArray(), *row = NULL;
	struct kc_buf f = KC_BUF_INIT(1u << 20);
	size_t i = 0;

	if (rows == NULL)
		return NULL;
	while (i < n) {
		int quoted = 0, end_row = 0;

		kc_buf_reset(&f);
		if (s[i] == '"') {
			quoted = 1;
			i++;
		}
		while (i < n) {
			if (quoted) {
				if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') {
					kc_buf_addc(&f, '"');
					i += 2;
				} else if (s[i] == '"') {
					quoted = 0;
					i++;
				} else {
					kc_buf_addc(&f, s[i++]);
				}
			} else if (s[i] == ',') {
				i++;
				break;
			} else if (s[i] == '\r' || s[i] == '\n') {
				if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
					i++;
				i++;
				end_row = 1;
				break;
			} else {
				kc_buf_addc(&f, s[i++]);
			}
		}
		if (row == NULL) {
			row = cJSON_CreateArray();
			cJSON_AddItemToArray(rows, row);
		}
		cJSON_AddItemToArray(row, cJSON_CreateString(kc_buf_str(&f)));
		if (end_row || i >= n)
			row = NULL;
	}
	kc_buf_free(&f);
	return rows;
}

static cJSON *
parse_member(struct bundle *b, const struct member *m)
{
	cJSON *j = cJSON_ParseWithLength(m->data.data ? m->data.data : "", m->data.len);

	if (j == NULL)
		problem(b, "%s is not valid JSON", m->rel);
	return j;
}

static void
use_member(struct bundle *b, struct member *m)
{
	const char *rel = m->rel;

	if (strcmp(rel, "MANIFEST.json") == 0) {
		b->manifest = parse_member(b, m);
	} else if (strcmp(rel, "analysis/findings.json") == 0) {
		b->findings = parse_member(b, m);
	} else if (strcmp(rel, "analysis/who-can.json") == 0) {
		b->whocan = parse_member(b, m);
	} else if (strcmp(rel, "analysis/selection.json") == 0) {
		b->selection = parse_member(b, m);
	} else if (strcmp(rel, "audit/sources.json") == 0) {
		b->sources = parse_member(b, m);
	} else if (strcmp(rel, "analysis/inventory.csv") == 0) {
		b->inventory = parse_csv(m->data.data ? m->data.data : "", m->data.len);
	} else if (strncmp(rel, "analysis/effective/", 19) == 0) {
		const char *a = rel + 19, *slash = strchr(a, '/');
		cJSON *doc;

		if (slash == NULL || (doc = parse_member(b, m)) == NULL)
			return;
		if (KC_GROW(b->eff, b->effcap, b->neff + 1) != 0) {
			cJSON_Delete(doc);
			return;
		}
		b->eff[b->neff].agent = kc_strndup(a, (size_t)(slash - a));
		b->eff[b->neff++].doc = doc;
	}
}

void
rh_bundle_free(struct bundle *b)
{
	cJSON_Delete(b->manifest);
	cJSON_Delete(b->findings);
	cJSON_Delete(b->whocan);
	cJSON_Delete(b->selection);
	cJSON_Delete(b->sources);
	cJSON_Delete(b->inventory);
	for (size_t i = 0; i < b->neff; i++) {
		free(b->eff[i].agent);
		cJSON_Delete(b->eff[i].doc);
	}
	free(b->eff);
	kc_buf_free(&b->problems);
}

/* Read the members the report shows.  Each one is used only when its
 * SHA-256 is the one SHA256SUMS names: the page never shows bytes that
 * differ from the hash list (which verification ties to the signature). */
void
rh_bundle_read(const char *path, struct bundle *b)
{
	struct kc_tar_reader *tr = NULL;
	struct kc_tar_entry e;
	struct member *m = NULL;
	struct kc_digest_list sums = { 0 };
	size_t nm = 0, mcap = 0, total = 0;
	int r, have_sums = 0;
	char buf[65536];

	kc_buf_init(&b->problems, 1u << 20);
	if ((r = kc_tar_open(path, NULL, &tr)) != 0) {
		problem(b, "cannot read the bundle: %s", kc_err_msg());
		b->unreadable = 1;
		return;
	}
	while ((r = kc_tar_next(tr, &e)) == 1) {
		long got;
		struct member *cur;

		if (b->top[0] == '\0')
			snprintf(b->top, sizeof(b->top), "%s", e.top);
		/* members are sorted bytewise: nothing wanted comes after
		 * audit/sources.json (cluster/, raw/ and reviews/ are skipped) */
		if (strcmp(e.path, "audit/sources.json") > 0)
			break;
		if (e.is_dir || !is_wanted(e.path))
			continue;
		if (KC_GROW(m, mcap, nm + 1) != 0) {
			r = KC_ERR_NOMEM;
			break;
		}
		cur = &m[nm++];
		cur->rel = kc_strdup(e.path);
		kc_buf_init(&cur->data, KC_REPORT_MEMBER_MAX);
		while ((got = kc_tar_read(tr, buf, sizeof(buf))) > 0) {
			total += (size_t)got;
			if (total > KC_REPORT_MEMBERS_MAX || kc_buf_add(&cur->data, buf, (size_t)got) != 0) {
				got = kc_err_set(KC_ERR_LIMIT, "'%s' is larger than the report reads", e.path);
				break;
			}
		}
		if (got < 0) {
			r = (int)got;
			kc_buf_free(&cur->data);
			free(cur->rel);
			nm--;
			break;
		}
	}
	if (r < 0) {
		problem(b, "the bundle could not be read to the end: %s", kc_err_msg());
		if (nm == 0)
			b->unreadable = 1;
	}
	for (size_t i = 0; i < nm; i++) {
		if (strcmp(m[i].rel, "SHA256SUMS") == 0 &&
		    kc_sums_parse(m[i].data.data ? m[i].data.data : "", m[i].data.len, &sums) == 0)
			have_sums = 1;
	}
	if (!have_sums && nm > 0)
		problem(b, "SHA256SUMS is missing or malformed: no member is shown");
	for (size_t i = 0; i < nm; i++) {
		char hex[KC_SHA256_HEX];
		long at;

		if (!have_sums || strcmp(m[i].rel, "SHA256SUMS") == 0)
			continue;
		at = kc_digest_find(&sums, m[i].rel);
		if (kc_sha256_hex(m[i].data.data ? m[i].data.data : "", m[i].data.len, hex) != 0 ||
		    at < 0 || strcmp(sums.v[at].hex, hex) != 0) {
			problem(b, "%s does not match its SHA-256 in SHA256SUMS: not shown", m[i].rel);
			continue;
		}
		use_member(b, &m[i]);
	}
	for (size_t i = 0; i < nm; i++) {
		kc_buf_free(&m[i].data);
		free(m[i].rel);
	}
	free(m);
	kc_digest_list_free(&sums);
	kc_tar_close(tr);
}

