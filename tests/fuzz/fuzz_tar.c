/* fuzz_tar.c - the bundle reader (manifest/tarball.h) and verification
 * (manifest/bundle.h) on the input written as a .tar.gz file:
 *  - kc_tar_open / kc_tar_next / kc_tar_read / kc_tar_finish, reading
 *    every member to its end, as kc_bundle_verify does;
 *  - kc_bundle_verify as `kcustody verify --allow-unsigned` runs it, and
 *    with --pubkey tests/fuzz/fuzz.pub (the key the seed bundles are
 *    signed with), which also reaches the signature and time-stamp checks;
 *  - kc_bundle_get_member of MANIFEST.json, as inspect and report read it;
 *  - kc_bundle_verify_read (verify and read in one pass, diff's and
 *    recertify's), checked against the two it replaces: its verdict is
 *    kc_bundle_verify's, it keeps nothing of a bundle that does not
 *    verify, and of one that does it keeps what kc_bundle_read_members
 *    reads, byte for byte (abort() otherwise).
 * Only the public API: the reader's internals may change freely.  Limits
 * are lowered (as --max-* would) so that a run stays short.
 *
 * Mutation: a byte flip in a gzip stream almost always just breaks its
 * CRC, so three mutations in four decompress the input, mutate the tar
 * stream and compress it again with a canonical header (zlib's gzip
 * wrapper: no name, MTIME 0, OS Unix): the tar layer and the checks after
 * it get inputs whose container is intact.  The fourth mutates the raw
 * bytes, for the gzip layer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "manifest/bundle.h"
#include "manifest/tarball.h"
#include "manifest/manifest.h"
#include "tests/fuzz/fuzz_common.h"
#include "util/buf.h"
#include "util/err.h"

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#define TAR_MAX (4u << 20)

/* gunzip in[0..n) into out (at most cap bytes); bytes written, or 0. */
static size_t
gunzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream z;
	size_t got;
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return 0;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	rc = inflate(&z, Z_FINISH);
	got = cap - z.avail_out;
	inflateEnd(&z);
	return rc == Z_STREAM_END ? got : 0;
}

/* gzip in[0..n) into out (at most cap bytes); bytes written, or 0. */
static size_t
gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream z;
	size_t got;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	got = cap - z.avail_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? got : 0;
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	static uint8_t *tar, *gz;
	size_t n, m;

	if (tar == NULL && ((tar = malloc(TAR_MAX)) == NULL || (gz = malloc(TAR_MAX)) == NULL))
		abort();
	if (seed % 4 == 0 || (n = gunzip(data, size, tar, TAR_MAX / 2)) == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	n = LLVMFuzzerMutate(tar, n, TAR_MAX / 2);
	if ((m = gzip(tar, n, gz, TAR_MAX)) == 0 || m > max_size)
		return LLVMFuzzerMutate(data, size, max_size);
	memcpy(data, gz, m);
	return m;
}

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

static int
keep_all(void *ctx, const struct kc_tar_entry *e)
{
	(void)ctx;
	if (e->is_dir || strcmp(e->path, "SHA256SUMS") == 0 || strcmp(e->path, "SHA256SUMS.sig") == 0 ||
	    strcmp(e->path, "SHA256SUMS.sig.tsr") == 0)
		return KC_BUNDLE_SKIP;	/* the checks' own: never the reader's */
	return KC_BUNDLE_KEEP;
}

/* kc_bundle_verify_read against kc_bundle_verify's verdict (res) and
 * kc_bundle_read_members's members */
static void
one_pass(const char *path, const struct kc_verify_opts *o, const struct kc_verify_result *res)
{
	const struct kc_bundle_read_opts ro = { .member_max = 8u << 20, .total_max = 32u << 20,
		.reader = "fuzz", .check_end = 1, .sort = 1 };
	struct kc_verify_result vr;
	struct kc_bundle_members ms, two;
	int r = kc_bundle_verify_read(path, o, &vr, &ro, keep_all, NULL, &ms);

	if (vr.valid != res->valid)
		abort();
	for (int i = 0; i < KC_CHECK_COUNT; i++)
		if (vr.checks[i].state != res->checks[i].state)
			abort();
	if (r == KC_ERR_NOMEM) {	/* the fuzzer's memory limit: nothing to compare */
		kc_bundle_members_free(&ms);
		return;
	}
	if (!vr.valid) {
		if (ms.n != 0 || r == 0)
			abort();
		return;
	}
	if (r != 0 || kc_bundle_read_members(path, &ro, keep_all, NULL, &two) != 0 || two.n != ms.n ||
	    strcmp(ms.sha256, vr.sha256) != 0)
		abort();
	for (size_t i = 0; i < ms.n; i++)
		if (strcmp(ms.v[i].path, two.v[i].path) != 0 || ms.v[i].len != two.v[i].len ||
		    memcmp(ms.v[i].data, two.v[i].data, ms.v[i].len) != 0)
			abort();
	kc_bundle_members_free(&ms);
	kc_bundle_members_free(&two);
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
	if (kc_bundle_verify(path, &o, &res) != KC_ERR_NOMEM)
		one_pass(path, &o, &res);
	o.allow_unsigned = 0;
	o.pubkey_path = FUZZ_TOP "/tests/fuzz/fuzz.pub";
	if (kc_bundle_verify(path, &o, &res) != KC_ERR_NOMEM)
		one_pass(path, &o, &res);
	kc_bundle_get_member(path, "MANIFEST.json", KC_MANIFEST_MAX, &m);
	kc_buf_free(&m);
	kc_err_clear();
	free(path);
	return 0;
}
