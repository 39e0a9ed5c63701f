/* fuzz_archive_index.c - the local retention archive's index
 * (manifest/archive_local.c): the input is STORE/index.json, read by
 * `kcustody archive list`, `archive verify` (every item and one id prefix)
 * and `archive prune --dry-run`.  The store holds one intact object
 * (FUZZ_ID, the SHA-256 of FUZZ_OBJECT) with an empty ledger copy, so
 * that an index naming it gets past the file checks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "manifest/archive.h"
#include "tests/fuzz/fuzz_common.h"
#include "util/err.h"

#define FUZZ_OBJECT "kcustody fuzz bundle\n"
#define FUZZ_ID "b07910e2c9f7c55fcd218b2830c02d6fe3d371468905bc90c391d7514820eaf8"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *store;

static void
setup(void)
{
	struct kc_archive_opts o = { 0 };
	struct kc_archive *a;
	char *p, rel[160];

	store = fz_path("store");
	o.store = store;
	o.create = 1;	/* as archive put: the later opens find a store */
	if (kc_archive_open(&o, &a) != 0) {
		fprintf(stderr, "fuzz: cannot open the store %s: %s\n", store, kc_err_msg());
		abort();
	}
	kc_archive_close(a);
	snprintf(rel, sizeof(rel), "store/objects/%s", FUZZ_ID);
	p = fz_write(rel, FUZZ_OBJECT, sizeof(FUZZ_OBJECT) - 1);
	chmod(p, 0444);
	free(p);
	snprintf(rel, sizeof(rel), "store/ledgers/%s.custody.jsonl", FUZZ_ID);
	free(fz_write(rel, "", 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_archive_opts o = { 0 };
	struct kc_archive_actor who = { 0 };
	struct kc_archive *a = NULL;
	cJSON *out = NULL;

	if (size > (1u << 20))
		return -1;
	if (store == NULL)
		setup();
	free(fz_write("store/index.json", data, size));
	o.store = store;
	if (kc_archive_open(&o, &a) != 0)
		abort();
	who.actor.name = "fuzz";
	if (kc_archive_list(a, &out) == 0)
		cJSON_Delete(out);
	out = NULL;
	kc_archive_verify(a, NULL, NULL, &out);
	cJSON_Delete(out);
	out = NULL;
	kc_archive_verify(a, "b07910e2", NULL, &out);
	cJSON_Delete(out);
	out = NULL;
	kc_archive_prune(a, &who, 1, &out);
	cJSON_Delete(out);
	kc_archive_close(a);
	kc_err_clear();
	return 0;
}
