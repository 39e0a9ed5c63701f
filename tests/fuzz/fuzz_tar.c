/* fuzz_tar.c - the bundle reader (formats/tarball.h) and verification
 * (formats/bundle.h) on the input written as a .tar.gz file:
 *  - kc_tar_open / kc_tar_next / kc_tar_read / kc_tar_finish, reading
 *    every member to its end, as kc_bundle_verify does;
 *  - kc_bundle_verify as `kcustody verify --allow-unsigned` runs it, and
 *    with --pubkey tests/fuzz/fuzz.pub (the key the seed bundles are
 *    signed with), which also reaches the signature and time-stamp checks;
 *  - kc_bundle_get_member of MANIFEST.json, as inspect and report read it.
 * Only the public API: the reader's internals may change freely.  Limits
 * are lowered (as --max-* would) so that a run stays short. */
#include <stdint.h>
#include <stdlib.h>

#include "formats/bundle.h"
#include "formats/tarball.h"
#include "manifest/manifest.h"
#include "tests/fuzz/fuzz_common.h"
#include "util/buf.h"
#include "util/err.h"

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct kc_tar_limits limits = { 8u << 20, 32u << 20, 10000 };

static void
read_all(const char *path)
{
	static unsigned char buf[65536];
	struct kc_tar_reader *r = NULL;
	struct kc_tar_entry e;
	int rc;

	if (kc_tar_open(path, &limits, &r) != 0)
		return;
	while ((rc = kc_tar_next(r, &e)) == 1) {
		long n;

		if (e.is_dir)
			continue;
		while ((n = kc_tar_read(r, buf, sizeof(buf))) > 0)
			;
		if (n < 0)
			break;
	}
	if (rc == 0)
		kc_tar_finish(r);
	kc_tar_close(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_verify_opts o = { 0 };
	struct kc_verify_result res;
	struct kc_buf m = KC_BUF_INIT(KC_MANIFEST_MAX);
	char *path;

	if (size > (1u << 20))
		return -1;
	path = fz_write("b.tar.gz", data, size);
	read_all(path);
	o.limits = limits;
	o.allow_unsigned = 1;
	kc_bundle_verify(path, &o, &res);
	o.allow_unsigned = 0;
	o.pubkey_path = FUZZ_TOP "/tests/fuzz/fuzz.pub";
	kc_bundle_verify(path, &o, &res);
	kc_bundle_get_member(path, "MANIFEST.json", KC_MANIFEST_MAX, &m);
	kc_buf_free(&m);
	kc_err_clear();
	free(path);
	return 0;
}
