/* fuzz_sums_manifest.c - SHA256SUMS and MANIFEST.json (manifest/digest.c,
 * manifest/manifest.c, the manifest check of manifest/bundle.c).
 *
 * Input: SHA256SUMS text, then optionally a line "%%" and MANIFEST.json.
 *  - kc_sums_parse as verify runs it; what it accepts must render back to
 *    the same bytes (the format has one spelling);
 *  - the verify manifest check (kc_bundle_check_manifest) against those
 *    sums, with the archive's members being the listed files (what verify
 *    has established when it gets there) sized as MANIFEST.json says;
 *  - the seal path of `kcustody seal --manifest DRAFT`: the JSON as a
 *    draft completed by kc_manifest_finish over those files, rendered. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "manifest/bundle_int.h"
#include "manifest/digest.h"
#include "manifest/manifest.h"
#include "tests/fuzz/fuzz_common.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The size MANIFEST.json gives path, or 0. */
static uint64_t
manifest_size(const cJSON *m, const char *path)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(m, "files")) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "path");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(it, "size");

		if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0 && cJSON_IsNumber(s) &&
		    s->valuedouble >= 0 && s->valuedouble < 9007199254740992.0)
			return (uint64_t)s->valuedouble;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_digest_list sums = { 0 }, members = { 0 }, files = { 0 };
	struct kc_verify_result res;
	struct kc_buf out = KC_BUF_INIT(KC_SUMS_MAX);
	const uint8_t *a, *b;
	size_t an, bn;
	char *text, *mtext;
	cJSON *m;

	if (size > (1u << 20))
		return -1;
	fz_split(data, size, "%%\n", &a, &an, &b, &bn);
	text = fz_strndup(a, an);
	mtext = fz_strndup(b, bn);
	if (kc_sums_parse(text, an, &sums) != 0)
		goto out;
	if (kc_sums_render(&sums, &out) != 0 || out.len != an || memcmp(kc_buf_str(&out), text, an) != 0) {
		fprintf(stderr, "SHA256SUMS accepted but renders differently\n");
		abort();
	}
	m = cJSON_ParseWithLength(mtext, bn);
	/* Sorted, as kc_sums_parse returns them. */
	for (size_t i = 0; i < sums.n; i++) {
		uint64_t n = manifest_size(m, sums.v[i].path);

		if (kc_digest_add(&members, sums.v[i].path, n, sums.v[i].hex) != 0 ||
		    (strcmp(sums.v[i].path, "MANIFEST.json") != 0 &&
		    kc_digest_add(&files, sums.v[i].path, n, sums.v[i].hex) != 0))
			abort();
	}
	memset(&res, 0, sizeof(res));
	kc_bundle_check_manifest(mtext, bn, &sums, &members, &res);
	if (cJSON_IsObject(m)) {
		kc_buf_free(&out);
		kc_buf_init(&out, KC_MANIFEST_MAX);
		if (kc_manifest_finish(m, &files) == 0)
			kc_manifest_render(m, &out);
	}
	cJSON_Delete(m);
out:
	kc_digest_list_free(&sums);
	kc_digest_list_free(&members);
	kc_digest_list_free(&files);
	kc_buf_free(&out);
	kc_err_clear();
	free(text);
	free(mtext);
	return 0;
}
