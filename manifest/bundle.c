/* bundle.c - sealing and verifying bundle format v1. */
#include <errno.h>
#include <ftw.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/bundle.h"
#include "manifest/bundle_int.h"
#include "manifest/digest.h"
#include "manifest/manifest.h"
#include "manifest/sign.h"
#include "manifest/tsa.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/timeutil.h"

#define SUFFIX ".tar.gz"
#define CHUNK_SIZE (256u << 10)

/* Top-level names the seal writes itself. */
static const char *const reserved[] = {
	"MANIFEST.json", "SHA256SUMS", "SHA256SUMS.sig", "SHA256SUMS.sig.tsr", "VERIFY.txt"
};

static int
is_reserved(const char *rel)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(rel, reserved[i]) == 0)
			return 1;
	return 0;
}

/* RESERVED.tmp.PID: the temporary name kc_write_file_atomic gives a
 * member seal writes itself, left behind when a seal was killed.  Never
 * evidence: seal skips and removes it (docs/COLLECT.md). */
static int
is_stale_seal_tmp(const char *rel)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		size_t l = strlen(reserved[i]);
		const char *p = rel + l;

		if (strncmp(rel, reserved[i], l) != 0 || strncmp(p, ".tmp.", 5) != 0)
			continue;
		p += 5;
		if (*p == '\0')
			continue;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p == '\0')
			return 1;
	}
	return 0;
}

int
kc_bundle_name(const char *case_id, const char *phase, const char *cluster,
    time_t end, char *out, size_t n)
{
	const char *parts[3] = { case_id, phase, cluster };
	char ts[32];
	size_t o = 0;

	kc_fmt_compact(end, ts, sizeof(ts));
	for (int i = 0; i < 3; i++) {
		const char *p = parts[i] && parts[i][0] ? parts[i] : "unknown";

		for (; *p != '\0'; p++) {
			char c = *p;
			int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '.' || c == '-';

			if (o + 1 >= n)
				return kc_err_set(KC_ERR_LIMIT, "bundle name too long");
			/* No leading '.', so no hidden or ".." names. */
			if (c == '.' && (o == 0 || out[o - 1] == '_'))
				ok = 0;
			out[o++] = ok ? c : '-';
		}
		if (o + 1 >= n)
			return kc_err_set(KC_ERR_LIMIT, "bundle name too long");
		out[o++] = '_';
	}
	if (o + strlen(ts) + 1 > n)
		return kc_err_set(KC_ERR_LIMIT, "bundle name too long");
	memcpy(out + o, ts, strlen(ts) + 1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* seal                                                                 */

static struct walk {
	const char *root;
	size_t rootlen;
	struct kc_digest_list *files;
	int err;
} *walk_ctx;

static int
walk_one(const char *fpath, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = fpath + walk_ctx->rootlen;
	char safe[256];

	(void)ftw;
	while (*rel == '/')
		rel++;
	if (*rel == '\0')
		return 0;
	if (flag == FTW_D)
		return 0;
	if (flag == FTW_SL || flag == FTW_SLN) {
		walk_ctx->err = kc_err_set(KC_ERR_INVALID, "staging folder holds a symbolic link: '%s'",
		    kc_safe_str(fpath, safe, sizeof(safe)));
		return 1;
	}
	if (flag != FTW_F) {
		walk_ctx->err = kc_err_set(KC_ERR_IO, "cannot read '%s'", kc_safe_str(fpath, safe, sizeof(safe)));
		return 1;
	}
	if (!S_ISREG(st->st_mode)) {
		walk_ctx->err = kc_err_set(KC_ERR_INVALID, "staging folder holds a special file: '%s'",
		    kc_safe_str(fpath, safe, sizeof(safe)));
		return 1;
	}
	if (is_reserved(rel))
		return 0;
	if (is_stale_seal_tmp(rel)) {
		kc_warn("removing '%s', left by an interrupted seal", kc_safe_str(rel, safe, sizeof(safe)));
		if (unlink(fpath) != 0 && errno != ENOENT) {
			walk_ctx->err = kc_err_set(KC_ERR_IO, "cannot remove '%s': %s",
			    kc_safe_str(fpath, safe, sizeof(safe)), strerror(errno));
			return 1;
		}
		return 0;
	}
	if (!kc_relpath_ok(rel)) {
		walk_ctx->err = kc_err_set(KC_ERR_INVALID, "staging file name not allowed in a bundle: '%s'",
		    kc_safe_str(rel, safe, sizeof(safe)));
		return 1;
	}
	if ((walk_ctx->err = kc_digest_add(walk_ctx->files, rel, (uint64_t)st->st_size, NULL)) != 0)
		return 1;
	return 0;
}

static int
list_staging(const char *dir, struct kc_digest_list *files)
{
	struct walk w = { dir, strlen(dir), files, 0 };
	int rc;

	walk_ctx = &w;
	rc = nftw(dir, walk_one, 32, FTW_PHYS);
	walk_ctx = NULL;
	if (w.err != 0)
		return w.err;
	if (rc != 0)
		return kc_err_set(KC_ERR_IO, "cannot read staging folder '%s': %s", dir, strerror(errno));
	kc_digest_sort(files);
	return 0;
}

/* VERIFY.txt: commands for GNU tar, coreutils and OpenSSL 3 that a hostile
 * archive cannot subvert: the signature is checked over SHA256SUMS read
 * to stdout before anything is unpacked; the listing is checked against
 * the members that the signed SHA256SUMS implies; extraction goes into a
 * fresh folder under an empty parent, so nothing can land beside the
 * trust files; and the unpacked tree must hold only the listed members.
 * The trust files stay in the bundle's folder, outside the extraction. */
static int
verify_text(const char *top, enum kc_sig_kind kind, int tsr, struct kc_buf *b)
{
	kc_buf_addf(b,
	    "kcustody evidence bundle %s\n"
	    "format %s (docs/FORMAT.md)\n\n"
	    "These are the exact commands that verify this bundle with standard tools\n"
	    "(GNU tar, coreutils, OpenSSL 3), without kcustody.  Each line indented by\n"
	    "four spaces is a bash command; run them in order from the folder that\n"
	    "holds %s.tar.gz.\n"
	    "Every command must exit 0.  They write only names that begin with\n"
	    "%s. beside the bundle.\n\n", top, KC_BUNDLE_SCHEMA, top, top);
	if (kind != KC_SIG_NONE || tsr) {
		kc_buf_adds(b, "First put beside the bundle, obtained out of band (never from the bundle):\n");
		if (kind == KC_SIG_ED25519)
			kc_buf_adds(b, "  signer.pub.pem  the signer's Ed25519 public key\n");
		if (kind == KC_SIG_CMS)
			kc_buf_adds(b, "  ca.pem          the CA certificates that issued the signer's certificate\n");
		if (tsr)
			kc_buf_adds(b, "  tsa-ca.pem      the CA certificates of the time-stamping authority\n");
		kc_buf_adds(b, "\n");
	}
	kc_buf_addf(b,
	    "1. Read SHA256SUMS%s out of the bundle without unpacking it:\n\n"
	    "    tar -xzOf %s.tar.gz %s/SHA256SUMS > %s.SHA256SUMS\n",
	    kind != KC_SIG_NONE ? " and its signature" : "", top, top, top);
	if (kind != KC_SIG_NONE)
		kc_buf_addf(b, "    tar -xzOf %s.tar.gz %s/SHA256SUMS.sig > %s.SHA256SUMS.sig\n", top, top, top);
	kc_buf_adds(b, "\n");
	switch (kind) {
	case KC_SIG_ED25519:
		kc_buf_addf(b, "2. SHA256SUMS is signed by the holder of the Ed25519 key (raw signature):\n\n"
		    "    openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin -in %s.SHA256SUMS"
		    " -sigfile %s.SHA256SUMS.sig\n\n", top, top);
		break;
	case KC_SIG_CMS:
		kc_buf_addf(b, "2. SHA256SUMS is signed by a certificate issued under ca.pem (detached CMS):\n\n"
		    "    openssl cms -verify -binary -inform DER -in %s.SHA256SUMS.sig -content %s.SHA256SUMS"
		    " -CAfile ca.pem -out /dev/null\n\n", top, top);
		break;
	case KC_SIG_NONE:
		kc_buf_adds(b, "2. This bundle is UNSIGNED (sealed with --no-sign): nothing binds SHA256SUMS\n"
		    "   to a person or key, so the steps below only show that the members agree with it.\n\n");
		break;
	}
	kc_buf_addf(b,
	    "3. List the bundle before unpacking it: every entry is a read-only folder or\n"
	    "   regular file owned by 0/0 (awk prints nothing), and the entries are\n"
	    "   exactly, in order, the members that SHA256SUMS implies (diff prints nothing):\n\n"
	    "    tar --numeric-owner -tvzf %s.tar.gz > %s.listing\n"
	    "    awk '!/^(dr-xr-xr-x 0\\/0 +0 |-r--r--r-- 0\\/0 +[0-9]+ )[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9] / { print; bad = 1 } END { exit bad }' %s.listing\n"
	    "    sed -E 's/^([^ ]+ +){5}//' %s.listing > %s.names\n"
	    "    diff %s.names <({ sed -n 's/^SHA256 (\\(.*\\)) = [0-9a-f]\\{64\\}$/\\1/p' %s.SHA256SUMS;"
	    " printf '%%s\\n' SHA256SUMS%s%s; } | awk '{ print \"%s/\" $0; n = split($0, c, \"/\"); p = \"%s/\";"
	    " print p; for (i = 1; i < n; i++) { p = p c[i] \"/\"; print p } }' | LC_ALL=C sort -u)\n\n",
	    top, top, top, top, top, top, top, kind != KC_SIG_NONE ? " SHA256SUMS.sig" : "",
	    tsr ? " SHA256SUMS.sig.tsr" : "", top, top);
	kc_buf_addf(b,
	    "4. Unpack into a fresh folder under an empty parent; afterwards the parent holds\n"
	    "   only that folder and the folder only the listed entries (diff prints nothing):\n\n"
	    "    mkdir %s.check %s.check/x\n"
	    "    tar -xzf %s.tar.gz -C %s.check/x\n"
	    "    [ \"$(ls -A %s.check)\" = x ]\n"
	    "    diff %s.names <(cd %s.check/x && find . -mindepth 1 \\( -type d -printf '%%P/\\n' \\)"
	    " -o \\( -type f -printf '%%P\\n' \\) -o -printf 'not a file or folder: %%P\\n' | LC_ALL=C sort)\n"
	    "    cd %s.check/x/%s\n\n",
	    top, top, top, top, top, top, top, top, top);
	kc_buf_addf(b,
	    "5. Every member listed in the checked SHA256SUMS has that SHA-256:\n\n"
	    "    sha256sum --strict -c ../../../%s.SHA256SUMS\n\n", top);
	if (tsr)
		kc_buf_addf(b, "6. A time-stamping authority saw SHA256SUMS.sig at the time in its token:\n\n"
		    "    openssl ts -verify -in SHA256SUMS.sig.tsr -data ../../../%s.SHA256SUMS.sig"
		    " -CAfile ../../../tsa-ca.pem\n\n", top);
	else
		kc_buf_adds(b, "6. No RFC 3161 time-stamp was requested for this bundle.\n\n");
	return kc_buf_adds(b, "kcustody does all of this in one step, and also checks that the container is\n"
	    "byte for byte the one seal writes: kcustody verify BUNDLE --pubkey KEY | --ca CA [--tsa-ca CA]\n");
}

static int
write_member(const char *dir, const char *rel, const void *p, size_t n,
    struct kc_digest_list *list)
{
	char hex[KC_SHA256_HEX], *path;
	int r;

	if (!kc_relpath_ok(rel))
		return kc_err_set(KC_ERR_INVALID, "refusing to write '%s': not a relative bundle path", rel);
	if ((path = kc_path_join(dir, rel)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r = kc_write_file_atomic(path, p, n, 0644);
	free(path);
	if (r == 0)
		r = kc_sha256_hex(p, n, hex);
	if (r == 0 && list != NULL)
		r = kc_digest_add(list, rel, n, hex);
	return r;
}

static int
bundle_top(const char *out_path, char **top)
{
	const char *base = strrchr(out_path, '/');
	size_t len;

	base = base ? base + 1 : out_path;
	len = strlen(base);
	if (len <= strlen(SUFFIX) || strcmp(base + len - strlen(SUFFIX), SUFFIX) != 0)
		return kc_err_set(KC_ERR_INVALID, "bundle file name must end in '%s': '%s'", SUFFIX, out_path);
	if ((*top = kc_strndup(base, len - strlen(SUFFIX))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if (!kc_relpath_ok(*top) || (*top)[0] == '.') {
		free(*top);
		*top = NULL;
		return kc_err_set(KC_ERR_INVALID, "bundle name not allowed: '%s'", out_path);
	}
	return 0;
}

/* The container facts that no member's bytes carry: the top folder's name
 * (case, phase, cluster and time) and the one mtime.  Recorded in the
 * signed manifest so that verify can compare them (docs/FORMAT.md 3). */
static int
bind_container(cJSON *manifest, const char *top, time_t mtime)
{
	cJSON *c;

	if (!cJSON_IsObject(manifest))
		return kc_err_set(KC_ERR_INVALID, "manifest draft is not a JSON object");
	kc_json_delete(manifest, "container");
	if ((c = cJSON_AddObjectToObject(manifest, "container")) == NULL ||
	    cJSON_AddStringToObject(c, "top", top) == NULL ||
	    cJSON_AddNumberToObject(c, "mtime", (double)mtime) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	return 0;
}

int
kc_bundle_seal(const char *staging_dir, cJSON *manifest,
    const struct kc_seal_opts *opts, const char *out_path)
{
	struct kc_digest_list files = { 0 }, all = { 0 };
	struct kc_buf text = KC_BUF_INIT(KC_MANIFEST_MAX), sig = KC_BUF_INIT(KC_SIG_MAX);
	struct kc_buf tsr = KC_BUF_INIT(KC_TSR_MAX);
	struct kc_signer *signer = NULL;
	enum kc_sig_kind kind = KC_SIG_NONE;
	char *top = NULL, *path = NULL;
	uint64_t hashed = 0;
	int64_t t0;
	int r;

	if ((r = bundle_top(out_path, &top)) != 0)
		return r;
	if (opts->no_sign && opts->key_path != NULL) {
		r = kc_err_set(KC_ERR_CONFIG, "both a signing key and --no-sign given");
		goto out;
	}
	if (!opts->no_sign && opts->key_path == NULL) {
		r = kc_err_set(KC_ERR_CONFIG, "no signing key: give --key (or --no-sign for an unsigned bundle)");
		goto out;
	}
	if (opts->tsa_url != NULL && opts->no_sign) {
		r = kc_err_set(KC_ERR_CONFIG, "--tsa time-stamps the signature: it needs a signing key");
		goto out;
	}
	/* Ask for a passphrase before the long work, not after. */
	if (!opts->no_sign) {
		if ((r = kc_signer_load(opts->key_path, opts->cert_path, opts->passphrase_file, &signer)) != 0)
			goto out;
		kind = kc_signer_kind(signer);
	}
	if ((r = list_staging(staging_dir, &files)) != 0)
		goto out;
	if ((r = verify_text(top, kind, opts->tsa_url != NULL, &text)) != 0 ||
	    (r = write_member(staging_dir, "VERIFY.txt", text.data, text.len, NULL)) != 0 ||
	    (r = kc_digest_add(&files, "VERIFY.txt", text.len, NULL)) != 0)
		goto out;
	kc_digest_sort(&files);
	t0 = kc_mono_ns();
	for (size_t i = 0; i < files.n; i++) {
		free(path);
		if ((path = kc_path_join(staging_dir, files.v[i].path)) == NULL) {
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((r = kc_sha256_file(path, files.v[i].hex, &files.v[i].size)) != 0)
			goto out;
		if ((r = kc_digest_add(&all, files.v[i].path, files.v[i].size, files.v[i].hex)) != 0)
			goto out;
	}
	for (size_t i = 0; i < files.n; i++)
		hashed += files.v[i].size;
	kc_debug("seal: hashed %zu files, %llu bytes in %.3f s", files.n, (unsigned long long)hashed,
	    (double)(kc_mono_ns() - t0) / 1e9);
	/* MANIFEST.json describes every member but itself and the SHA256SUMS family. */
	kc_buf_reset(&text);
	if ((r = bind_container(manifest, top, opts->mtime)) != 0)
		goto out;
	if ((r = kc_manifest_finish(manifest, &files)) != 0 ||
	    (r = kc_manifest_render(manifest, &text)) != 0 ||
	    (r = write_member(staging_dir, "MANIFEST.json", text.data, text.len, &all)) != 0)
		goto out;
	kc_digest_sort(&all);
	kc_buf_free(&text);
	kc_buf_init(&text, KC_SUMS_MAX);
	if ((r = kc_sums_render(&all, &text)) != 0)
		goto out;
	if (signer != NULL && (r = kc_sign(signer, text.data, text.len, &sig)) != 0)
		goto out;
	if (opts->tsa_url != NULL && (r = kc_tsa_stamp(opts->tsa_url, opts->tsa_ca, sig.data, sig.len, &tsr)) != 0)
		goto out;
	/* Written after signing so that a failed signature leaves no SHA256SUMS
	 * that looks final; stale signature files are removed. */
	if ((r = write_member(staging_dir, "SHA256SUMS", text.data, text.len, &all)) != 0)
		goto out;
	for (int i = 0; i < 2; i++) {
		const char *rel = i ? "SHA256SUMS.sig.tsr" : "SHA256SUMS.sig";
		struct kc_buf *b = i ? &tsr : &sig;

		if (b->len > 0) {
			if ((r = write_member(staging_dir, rel, b->data, b->len, &all)) != 0)
				goto out;
		} else {
			free(path);
			if ((path = kc_path_join(staging_dir, rel)) == NULL) {
				r = kc_err_set(KC_ERR_NOMEM, "out of memory");
				goto out;
			}
			if (unlink(path) != 0 && errno != ENOENT) {
				r = kc_err_set(KC_ERR_IO, "cannot remove '%s': %s", path, strerror(errno));
				goto out;
			}
		}
	}
	kc_digest_sort(&all);
	t0 = kc_mono_ns();
	r = kc_tar_write(staging_dir, &all, top, opts->mtime,
	    opts->gzip_level ? opts->gzip_level : KC_TAR_DEFAULT_LEVEL, out_path);
	kc_debug("seal: archived %zu members in %.3f s", all.n, (double)(kc_mono_ns() - t0) / 1e9);
out:
	kc_signer_free(signer);
	kc_digest_list_free(&files);
	kc_digest_list_free(&all);
	kc_buf_free(&text);
	kc_buf_free(&sig);
	kc_buf_free(&tsr);
	free(top);
	free(path);
	return r;
}

/* ------------------------------------------------------------------ */
/* verify                                                               */

static const char *const check_names[KC_CHECK_COUNT] = {
	"structure", "hashes", "manifest", "signature", "timestamp"
};

static void
set_check(struct kc_verify_result *res, enum kc_check_id id, enum kc_check_state st,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
set_check(struct kc_verify_result *res, enum kc_check_id id, enum kc_check_state st,
    const char *fmt, ...)
{
	va_list ap;

	res->checks[id].state = st;
	va_start(ap, fmt);
	kc_vfmt_trunc(res->checks[id].detail, sizeof(res->checks[id].detail), fmt, ap);
	va_end(ap);
}

/* What one pass over the archive collects. */
struct pass {
	struct kc_digest_list members;	/* every regular member but the SHA256SUMS family */
	struct kc_buf manifest, sums, sig, tsr;
	int has_manifest, has_sums, has_sig, has_tsr;
	time_t mtime;			/* of every member */
	unsigned char *chunk;
};

/* The reader of kc_bundle_verify_read, beside the checks: the members
 * keep chooses, read in the same pass.  Its own failure (a limit, a
 * shrink, memory) is kept in err and stops the reading only: the checks
 * go on to the end, and a bundle that fails them is reported as that. */
struct vread {
	const struct kc_bundle_read_opts *o;
	kc_bundle_keep_fn keep;
	void *ctx;
	struct kc_bundle_members *out;
	size_t total;
	int stopped;			/* keep said KC_BUNDLE_STOP */
	int r;				/* the reading's error, 0 while none */
	struct kc_err_saved err;
	/* Nothing is kept (nor handed to the shrink) before it is known to be
	 * the signed content: the gate opens once SHA256SUMS has been read and
	 * its signature checked (or, unsigned, accepted by allow_unsigned),
	 * which the canonical order puts before every data member; each
	 * member kept must then hash to its SHA256SUMS line.  Anything else
	 * shuts it: the bundle will not verify, and a forged one cannot make
	 * the reader hold more than one member of its bytes. */
	int gate;			/* GATE_* */
	struct kc_digest_list sums;	/* SHA256SUMS as read (the gate's) */
	int have_sums;
	int manifest_wanted;		/* keep chose MANIFEST.json, read before the gate */
};
enum { GATE_UNKNOWN = 0, GATE_OPEN, GATE_SHUT };

static void check_signature(struct pass *p, const struct kc_verify_opts *o, struct kc_verify_result *res);

static void
vread_fail(struct vread *rd, int r)
{
	rd->r = r;
	kc_err_save(&rd->err);
	kc_bundle_members_free(rd->out);
}

/* Not the signed content: nothing kept, nothing more read for the reader
 * (the checks will fail; kc_bundle_verify_read refuses an empty read if
 * they do not). */
static void
vread_shut(struct vread *rd)
{
	rd->gate = GATE_SHUT;
	kc_bundle_members_free(rd->out);
}

/* Stream one member into its digest, keeping it in keep (when given) and
 * in data (when given: a kept member of the reader; when it cannot grow,
 * data is freed and *over set to kc_buf_add's error, the digest goes on). */
static int
hash_member(struct kc_tar_reader *tr, struct pass *p, struct kc_buf *keep,
    char hex[KC_SHA256_HEX], uint64_t *size, struct kc_buf *data, int *over)
{
	struct kc_sha256 *h = kc_sha256_new();
	uint64_t total = 0;
	long n;
	int r = 0;

	if (h == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	while ((n = kc_tar_read(tr, p->chunk, CHUNK_SIZE)) > 0) {
		total += (uint64_t)n;
		if ((r = kc_sha256_update(h, p->chunk, (size_t)n)) != 0)
			break;
		if (keep != NULL && (r = kc_buf_add(keep, p->chunk, (size_t)n)) != 0) {
			r = kc_err_set(KC_ERR_LIMIT, "special member larger than %zu bytes", keep->max);
			break;
		}
		if (data != NULL && *over == 0 && (*over = kc_buf_add(data, p->chunk, (size_t)n)) != 0)
			kc_buf_free(data);	/* *over: KC_ERR_LIMIT, or KC_ERR_NOMEM */
	}
	if (n < 0)
		r = (int)n;
	if (r == 0)
		r = kc_sha256_final(h, NULL, hex);
	*size = total;
	kc_sha256_free(h);
	return r;
}

/* The reader's part of one regular member e: whether keep wants it
 * (*data set up when it does), called before the member is hashed. */
static struct kc_buf *
vread_want(struct vread *rd, const struct kc_tar_entry *e, struct kc_buf *data)
{
	int k;

	if (rd == NULL || rd->r != 0 || rd->stopped)
		return NULL;
	if ((k = rd->keep(rd->ctx, e)) < 0) {
		vread_fail(rd, k);
		return NULL;
	}
	if (k == KC_BUNDLE_STREAM) {	/* kc_bundle_read_members's only (bundle.h) */
		vread_fail(rd, kc_err_set(KC_ERR_INVALID, "a member streamed is not read by the verify pass"));
		return NULL;
	}
	if (k == KC_BUNDLE_STOP)
		rd->stopped = 1;
	if (k != KC_BUNDLE_KEEP || e->is_dir)
		return NULL;
	if (strcmp(e->path, "SHA256SUMS") == 0 || strcmp(e->path, "SHA256SUMS.sig") == 0 ||
	    strcmp(e->path, "SHA256SUMS.sig.tsr") == 0)
		return NULL;	/* the checks' own, never the reader's (bundle.h) */
	if (rd->gate == GATE_UNKNOWN && strcmp(e->path, "MANIFEST.json") == 0) {
		rd->manifest_wanted = 1;	/* kept by the checks: added when the gate opens */
		return NULL;
	}
	if (rd->gate != GATE_OPEN) {
		vread_shut(rd);
		return NULL;
	}
	kc_buf_init(data, rd->o->member_max);
	return data;
}

/* The member e just hashed into data: added to the reader's members. */
static void
vread_add(struct vread *rd, const char *path, const char hex[KC_SHA256_HEX], struct kc_buf *data, int over,
    uint64_t size)
{
	struct kc_bundle_member *m;
	struct kc_bundle_members *out = rd->out;
	long at = kc_digest_find(&rd->sums, path);

	if (at < 0 || !kc_digest_eq(rd->sums.v[at].hex, hex)) {	/* not the signed bytes */
		vread_shut(rd);
		return;
	}
	rd->total += size;
	if (over == KC_ERR_NOMEM) {
		kc_err_set(KC_ERR_NOMEM, "out of memory");
		vread_fail(rd, KC_ERR_NOMEM);
		return;
	}
	if (over || rd->total > rd->o->total_max || size > rd->o->member_max) {
		kc_err_set(KC_ERR_LIMIT, "'%s' is larger than %s reads", path, rd->o->reader);
		vread_fail(rd, KC_ERR_LIMIT);
		return;
	}
	if (KC_GROW(out->v, out->cap, out->n + 1) != 0) {
		kc_err_set(KC_ERR_NOMEM, "out of memory");
		vread_fail(rd, KC_ERR_NOMEM);
		return;
	}
	m = &out->v[out->n];
	if ((m->path = kc_strdup(path)) == NULL || (m->data = kc_buf_take(data, &m->len)) == NULL) {
		free(m->path);
		kc_err_set(KC_ERR_NOMEM, "out of memory");
		vread_fail(rd, KC_ERR_NOMEM);
		return;
	}
	out->n++;
	if (rd->o->shrink != NULL) {
		int r = rd->o->shrink(rd->o->shrink_ctx, m);

		if (r != 0)
			vread_fail(rd, r);
	}
}

/* The gate opens: MANIFEST.json first when the reader chose it (the
 * checks kept its bytes; its digest as the pass computed it). */
static void
vread_open(struct vread *rd, struct pass *p)
{
	long mi;
	struct kc_buf data = KC_BUF_INIT(rd->o->member_max);

	rd->gate = GATE_OPEN;
	if (!rd->manifest_wanted || rd->r != 0)
		return;
	for (mi = 0; mi < (long)p->members.n; mi++)	/* not sorted yet: the first member or so */
		if (strcmp(p->members.v[mi].path, "MANIFEST.json") == 0)
			break;
	if (mi == (long)p->members.n) {
		vread_shut(rd);
		return;
	}
	vread_add(rd, "MANIFEST.json", p->members.v[mi].hex, &data,
	    kc_buf_add(&data, p->manifest.data ? p->manifest.data : "", p->manifest.len), p->manifest.len);
	kc_buf_free(&data);
}

/* The gate, before entry e is looked at: decided at the first entry after
 * the SHA256SUMS family, or when the signature has been read. */
static void
vread_gate(struct vread *rd, struct pass *p, const struct kc_verify_opts *o, const struct kc_tar_entry *e)
{
	if (rd == NULL || rd->gate != GATE_UNKNOWN || e->path[0] == '\0')	/* "": the top folder */
		return;
	if (!e->is_dir && (strcmp(e->path, "MANIFEST.json") == 0 || strcmp(e->path, "SHA256SUMS") == 0 ||
	    strcmp(e->path, "SHA256SUMS.sig") == 0 || strcmp(e->path, "SHA256SUMS.sig.tsr") == 0))
		return;
	/* past them with no signature: an unsigned bundle, kept only when
	 * unsigned ones are accepted; no SHA256SUMS yet: not canonical */
	if (rd->have_sums && !p->has_sig && o->allow_unsigned)
		vread_open(rd, p);
	else
		vread_shut(rd);
}

/* After a member of the SHA256SUMS family was read. */
static void
vread_sums_read(struct vread *rd, struct pass *p, const struct kc_verify_opts *o, const char *path)
{
	if (rd == NULL || rd->gate != GATE_UNKNOWN)
		return;
	if (strcmp(path, "SHA256SUMS") == 0) {
		kc_digest_list_free(&rd->sums);
		if (kc_sums_parse(p->sums.data ? p->sums.data : "", p->sums.len, &rd->sums) != 0) {
			kc_err_clear();	/* the checks say it */
			vread_shut(rd);
			return;
		}
		rd->have_sums = 1;
	} else if (strcmp(path, "SHA256SUMS.sig") == 0) {
		/* the signature's own check, as the checks will make it */
		struct kc_verify_result *early = calloc(1, sizeof(*early));

		if (early == NULL) {
			vread_fail(rd, kc_err_set(KC_ERR_NOMEM, "out of memory"));
			return;
		}
		if (!rd->have_sums) {
			free(early);
			vread_shut(rd);
			return;
		}
		check_signature(p, o, early);
		kc_err_clear();
		if (early->checks[KC_CHECK_SIGNATURE].state == KC_CHECK_FAILED)
			vread_shut(rd);
		else
			vread_open(rd, p);
		free(early);
	}
}

static int
read_pass(const char *path, const struct kc_verify_opts *o, struct pass *p,
    struct kc_verify_result *res, struct vread *rd)
{
	struct kc_tar_reader *tr = NULL;
	struct kc_tar_entry e;
	char hex[KC_SHA256_HEX];
	uint64_t size = 0;
	int r;

	if ((r = kc_tar_open(path, &o->limits, &tr)) != 0)
		return r;
	if (rd != NULL)
		rd->out->opened = 1;
	while ((r = kc_tar_next(tr, &e)) == 1) {
		struct kc_buf *keep = NULL, dbuf, *data;
		int listed = 1, over = 0;

		/* whole: it is compared with the manifest's container.top */
		if (res->top[0] == '\0' && (r = kc_fmt(res->top, sizeof(res->top), "%s", e.top)) != 0)
			break;
		if (rd != NULL && rd->out->top[0] == '\0')
			memcpy(rd->out->top, res->top, sizeof(rd->out->top));
		p->mtime = e.mtime;
		res->mtime = e.mtime;
		vread_gate(rd, p, o, &e);
		data = vread_want(rd, &e, &dbuf);
		if (e.is_dir)
			continue;
		if (strcmp(e.path, "MANIFEST.json") == 0) {
			keep = &p->manifest;
			p->has_manifest = 1;
		} else if (strcmp(e.path, "SHA256SUMS") == 0) {
			keep = &p->sums;
			p->has_sums = 1;
			listed = 0;
		} else if (strcmp(e.path, "SHA256SUMS.sig") == 0) {
			keep = &p->sig;
			p->has_sig = 1;
			listed = 0;
		} else if (strcmp(e.path, "SHA256SUMS.sig.tsr") == 0) {
			keep = &p->tsr;
			p->has_tsr = 1;
			listed = 0;
		}
		if (keep != NULL && e.size > keep->max) {
			if (data != NULL)
				kc_buf_free(data);
			r = kc_err_set(KC_ERR_LIMIT, "member '%s' is larger than %zu bytes", e.path, keep->max);
			break;
		}
		if ((r = hash_member(tr, p, keep, hex, &size, data, &over)) != 0) {
			if (data != NULL)
				kc_buf_free(data);
			break;
		}
		if (data != NULL) {
			vread_add(rd, e.path, hex, data, over, size);
			kc_buf_free(data);
		}
		res->members++;
		res->bytes += size;
		if (listed && (r = kc_digest_add(&p->members, e.path, size, hex)) != 0)
			break;
		if (!listed)
			vread_sums_read(rd, p, o, e.path);
	}
	if (r == 0)
		r = kc_tar_finish(tr);
	if (r == 0)
		r = kc_tar_sha256(tr, res->sha256);
	kc_tar_close(tr);
	return r;
}

static void
check_listing(struct pass *p, const struct kc_digest_list *sums, struct kc_verify_result *res)
{
	char safe[256];

	for (size_t i = 0; i < p->members.n; i++) {
		if (kc_digest_find(sums, p->members.v[i].path) < 0) {
			set_check(res, KC_CHECK_STRUCTURE, KC_CHECK_FAILED,
			    "member '%s' is not listed in SHA256SUMS",
			    kc_safe_str(p->members.v[i].path, safe, sizeof(safe)));
			return;
		}
	}
	for (size_t i = 0; i < sums->n; i++) {
		if (kc_digest_find(&p->members, sums->v[i].path) < 0) {
			set_check(res, KC_CHECK_STRUCTURE, KC_CHECK_FAILED,
			    "SHA256SUMS lists '%s' but the archive has no such member",
			    kc_safe_str(sums->v[i].path, safe, sizeof(safe)));
			return;
		}
	}
	if (kc_digest_find(sums, "MANIFEST.json") < 0 || kc_digest_find(sums, "VERIFY.txt") < 0) {
		set_check(res, KC_CHECK_STRUCTURE, KC_CHECK_FAILED, "MANIFEST.json or VERIFY.txt missing");
		return;
	}
	set_check(res, KC_CHECK_STRUCTURE, KC_CHECK_OK, "one top folder '%s', %zu files, %llu bytes, "
	    "canonical container (byte for byte as seal writes it)", kc_safe_str(res->top, safe, sizeof(safe)),
	    res->members, (unsigned long long)res->bytes);
}

static void
check_hashes(struct pass *p, const struct kc_digest_list *sums, struct kc_verify_result *res)
{
	size_t bad = 0;
	const char *first = NULL;
	char safe[256];

	for (size_t i = 0; i < sums->n; i++) {
		long j = kc_digest_find(&p->members, sums->v[i].path);

		if (j < 0 || !kc_digest_eq(p->members.v[j].hex, sums->v[i].hex)) {
			if (bad++ == 0)
				first = sums->v[i].path;
		}
	}
	if (bad > 0)
		set_check(res, KC_CHECK_HASHES, KC_CHECK_FAILED, "%zu of %zu files do not match SHA256SUMS "
		    "(first: '%s')", bad, sums->n, kc_safe_str(first, safe, sizeof(safe)));
	else
		set_check(res, KC_CHECK_HASHES, KC_CHECK_OK, "%zu files match SHA256SUMS", sums->n);
}

void
kc_bundle_check_manifest(const char *text, size_t len, const struct kc_digest_list *sums,
    const struct kc_digest_list *members, struct kc_verify_result *res)
{
	cJSON *m = cJSON_ParseWithLength(text ? text : "", len);
	cJSON *schema, *ver, *files, *it, *cont, *top, *mt;
	size_t n = 0;
	char safe[256], safe2[256];
	unsigned char *listed = NULL;	/* listed[s]: a files entry names SHA256SUMS entry s */

	if (m == NULL || !cJSON_IsObject(m)) {
		set_check(res, KC_CHECK_MANIFEST, KC_CHECK_FAILED, "MANIFEST.json is not a JSON object");
		goto out;
	}
	schema = kc_json_get_mut(m, "schema");
	ver = kc_json_get_mut(m, "schema_version");
	if (!cJSON_IsString(schema) || strncmp(schema->valuestring, "kcustody.bundle/", 16) != 0 ||
	    !cJSON_IsNumber(ver)) {
		set_check(res, KC_CHECK_MANIFEST, KC_CHECK_FAILED, "no kcustody.bundle schema id and version");
		goto out;
	}
	/* Later versions only add keys (docs/FORMAT.md): the checks below
	 * hold for every version, so a newer bundle is still checked. */
	files = kc_json_get_mut(m, "files");
	if (!cJSON_IsArray(files)) {
		set_check(res, KC_CHECK_MANIFEST, KC_CHECK_FAILED, "MANIFEST.json has no \"files\" array");
		goto out;
	}
	if ((listed = calloc(sums->n + 1, 1)) == NULL) {
		set_check(res, KC_CHECK_MANIFEST, KC_CHECK_FAILED, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(it, files) {
		cJSON *path = kc_json_get_mut(it, "path");
		cJSON *sha = kc_json_get_mut(it, "sha256");
		cJSON *size = kc_json_get_mut(it, "size");
		long s, mi;

		if (!cJSON_IsString(path) || !cJSON_IsString(sha) || !cJSON_IsNumber(size)) {
			set_check(res, KC_CHECK_MANIFEST, KC_CHECK_FAILED, "files[%zu] lacks path, size or sha256", n);
			goto out;
		}
		s = kc_digest_find(sums, path->valuestring);
		mi = kc_digest_find(members, path->valuestring);
		if (s < 0 || mi < 0 || strcmp(path->valuestring, "MANIFEST.json") == 0) {
			set_check(res, KC_CHECK_MANIFEST, KC_CHECK_FAILED, "files lists '%s', which SHA256SUMS "
			    "does not", kc_safe_str(path->valuestring, safe, sizeof(safe)));
			goto out;
		}
		if (!kc_digest_eq(sha->valuestring, sums->v[s].hex) ||
		    size->valuedouble != (double)members->v[mi].size) {
			set_check(res, KC_CHECK_MANIFEST, KC_CHECK_FAILED, "files entry '%s' disagrees with "
			    "SHA256SUMS or the member's size", kc_safe_str(path->valuestring, safe, sizeof(safe)));
			goto out;
		}
		listed[s] = 1;
		n++;
	}
	/* Every SHA256SUMS entry but MANIFEST.json itself, each once. */
	if (n + 1 != sums->n) {
		set_check(res, KC_CHECK_MANIFEST, KC_CHECK_FAILED, "files has %zu entries, SHA256SUMS %zu "
		    "(expected one more, MANIFEST.json)", n, sums->n);
		goto out;
	}
	for (size_t i = 0; i < sums->n; i++) {
		/* the entry kc_digest_find gives for this path is the one the
		 * files loop marked when some files entry named it (a sorted
		 * lookup, not a scan of files per entry: bundles hold thousands) */
		long at = kc_digest_find(sums, sums->v[i].path);
		int found = strcmp(sums->v[i].path, "MANIFEST.json") == 0 || (at >= 0 && listed[at]);

		if (!found) {
			set_check(res, KC_CHECK_MANIFEST, KC_CHECK_FAILED, "'%s' is in SHA256SUMS but not in files",
			    kc_safe_str(sums->v[i].path, safe, sizeof(safe)));
			goto out;
		}
	}
	/* The container facts no member carries: bound since 0.2. */
	cont = kc_json_get_mut(m, "container");
	if (cont == NULL) {
		set_check(res, KC_CHECK_MANIFEST, KC_CHECK_OK, "%s, %zu files agree with SHA256SUMS; "
		    "top folder name and mtime not bound (sealed by 0.1)",
		    kc_safe_str(schema->valuestring, safe, sizeof(safe)), n);
		res->container_unbound = 1;
		goto out;
	}
	top = kc_json_get_mut(cont, "top");
	mt = kc_json_get_mut(cont, "mtime");
	if (!cJSON_IsString(top) || strcmp(top->valuestring, res->top) != 0) {
		set_check(res, KC_CHECK_MANIFEST, KC_CHECK_FAILED, "the top folder is '%s' but the manifest "
		    "was sealed for '%s' (renamed inside the container)", kc_safe_str(res->top, safe, sizeof(safe)),
		    cJSON_IsString(top) ? kc_safe_str(top->valuestring, safe2, sizeof(safe2)) : "(none)");
		goto out;
	}
	if (!cJSON_IsNumber(mt) || mt->valuedouble != (double)res->mtime) {
		set_check(res, KC_CHECK_MANIFEST, KC_CHECK_FAILED, "the members' mtime is %lld but the "
		    "manifest was sealed with %.0f", (long long)res->mtime, cJSON_IsNumber(mt) ? mt->valuedouble : -1.0);
		goto out;
	}
	set_check(res, KC_CHECK_MANIFEST, KC_CHECK_OK, "%s, %zu files agree with SHA256SUMS; top folder "
	    "and mtime bound", kc_safe_str(schema->valuestring, safe, sizeof(safe)), n);
out:
	free(listed);
	cJSON_Delete(m);
}

static void
check_signature(struct pass *p, const struct kc_verify_opts *o, struct kc_verify_result *res)
{
	char fpr[KC_FPR_LEN] = "", subj[400] = "";
	int r;

	if (!p->has_sig) {
		res->sig_kind = KC_SIG_NONE;
		set_check(res, KC_CHECK_SIGNATURE, o->allow_unsigned ? KC_CHECK_SKIPPED : KC_CHECK_FAILED,
		    "unsigned bundle (sealed with --no-sign)%s",
		    o->allow_unsigned ? "; accepted by --allow-unsigned" : "; pass --allow-unsigned to accept it");
		return;
	}
	res->sig_kind = p->sig.len == 64 ? KC_SIG_ED25519 : KC_SIG_CMS;
	if (o->pubkey_path == NULL && o->ca_path == NULL) {
		res->no_key = !o->allow_unsigned;
		set_check(res, KC_CHECK_SIGNATURE, o->allow_unsigned ? KC_CHECK_SKIPPED : KC_CHECK_FAILED,
		    "%s signature not checked: no trusted key given (--pubkey or --ca)%s",
		    res->sig_kind == KC_SIG_ED25519 ? "Ed25519" : "CMS",
		    o->allow_unsigned ? "; accepted by --allow-unsigned" : "");
		return;
	}
	if (res->sig_kind == KC_SIG_ED25519) {
		if (o->pubkey_path == NULL) {
			set_check(res, KC_CHECK_SIGNATURE, KC_CHECK_FAILED,
			    "raw Ed25519 signature: give the signer's key with --pubkey (--ca is for CMS)");
			return;
		}
		r = kc_verify_raw(o->pubkey_path, p->sums.data, p->sums.len, p->sig.data, p->sig.len, fpr);
	} else {
		r = kc_verify_cms(o->ca_path, o->ca_path ? NULL : o->pubkey_path, p->sums.data, p->sums.len,
		    p->sig.data, p->sig.len, subj, sizeof(subj), fpr);
	}
	if (r != 0) {
		set_check(res, KC_CHECK_SIGNATURE, KC_CHECK_FAILED, "%s", kc_err_msg());
		return;
	}
	if (res->sig_kind == KC_SIG_ED25519) {
		kc_fmt_trunc(res->signer, sizeof(res->signer), "%s", fpr);
		set_check(res, KC_CHECK_SIGNATURE, KC_CHECK_OK, "Ed25519 signature by %s", fpr);
	} else {
		kc_fmt_trunc(res->signer, sizeof(res->signer), "%s (%s)", subj, fpr);
		set_check(res, KC_CHECK_SIGNATURE, KC_CHECK_OK, "CMS signature by %s (%s), %s", subj, fpr,
		    o->ca_path ? "chain to --ca checked" : "signer key is --pubkey");
	}
}

static void
check_timestamp(struct pass *p, const struct kc_verify_opts *o, struct kc_verify_result *res)
{
	if (!p->has_tsr) {
		set_check(res, KC_CHECK_TIMESTAMP, o->tsa_ca ? KC_CHECK_FAILED : KC_CHECK_SKIPPED,
		    "no time-stamp token in the bundle%s", o->tsa_ca ? " but --tsa-ca was given" : "");
		return;
	}
	if (!p->has_sig) {
		set_check(res, KC_CHECK_TIMESTAMP, KC_CHECK_FAILED, "time-stamp token without a signature");
		return;
	}
	if (kc_tsa_check(p->tsr.data, p->tsr.len, p->sig.data, p->sig.len, o->tsa_ca,
	    res->tsa_time, sizeof(res->tsa_time)) != 0) {
		set_check(res, KC_CHECK_TIMESTAMP, KC_CHECK_FAILED, "%s", kc_err_msg());
		return;
	}
	if (o->tsa_ca != NULL)
		set_check(res, KC_CHECK_TIMESTAMP, KC_CHECK_OK, "RFC 3161 token over the signature, "
		    "time %s, TSA chain to --tsa-ca checked", res->tsa_time);
	else
		set_check(res, KC_CHECK_TIMESTAMP, KC_CHECK_SKIPPED, "token over the signature says %s, "
		    "but its TSA signature was not checked: give --tsa-ca", res->tsa_time);
}

static int
verify_impl(const char *path, const struct kc_verify_opts *o, struct kc_verify_result *res, struct vread *rd)
{
	struct pass p = { 0 };
	struct kc_digest_list sums = { 0 };
	int r;

	memset(res, 0, sizeof(*res));
	for (int i = 0; i < KC_CHECK_COUNT; i++) {
		res->checks[i].name = check_names[i];
		kc_fmt_trunc(res->checks[i].detail, sizeof(res->checks[i].detail), "not reached: structure check failed");
	}
	kc_buf_init(&p.manifest, KC_MANIFEST_MAX);
	kc_buf_init(&p.sums, KC_SUMS_MAX);
	kc_buf_init(&p.sig, KC_SIG_MAX);
	kc_buf_init(&p.tsr, KC_TSR_MAX);
	if ((p.chunk = malloc(CHUNK_SIZE)) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	r = read_pass(path, o, &p, res, rd);
	if (r == KC_ERR_IO || r == KC_ERR_NOMEM)
		goto out;
	if (r != 0) {
		set_check(res, KC_CHECK_STRUCTURE, KC_CHECK_FAILED, "%s", kc_err_msg());
		goto done;
	}
	if (!p.has_sums || !p.has_manifest) {
		set_check(res, KC_CHECK_STRUCTURE, KC_CHECK_FAILED, "no %s in the top folder",
		    p.has_sums ? "MANIFEST.json" : "SHA256SUMS");
		goto done;
	}
	kc_digest_sort(&p.members);
	if (kc_sums_parse(p.sums.data, p.sums.len, &sums) != 0) {
		set_check(res, KC_CHECK_STRUCTURE, KC_CHECK_FAILED, "%s", kc_err_msg());
		goto done;
	}
	check_listing(&p, &sums, res);
	if (res->checks[KC_CHECK_STRUCTURE].state != KC_CHECK_OK)
		goto done;
	check_hashes(&p, &sums, res);
	kc_bundle_check_manifest(p.manifest.data, p.manifest.len, &sums, &p.members, res);
	check_signature(&p, o, res);
	check_timestamp(&p, o, res);
done:
	res->valid = 1;
	for (int i = 0; i < KC_CHECK_COUNT; i++) {
		if (res->checks[i].state == KC_CHECK_FAILED)
			res->valid = 0;
	}
	if (res->checks[KC_CHECK_STRUCTURE].state != KC_CHECK_OK)
		res->valid = 0;
	r = res->valid ? 0 : kc_err_set(KC_ERR_VERIFY, "bundle is not valid");
out:
	kc_digest_list_free(&p.members);
	kc_digest_list_free(&sums);
	kc_buf_free(&p.manifest);
	kc_buf_free(&p.sums);
	kc_buf_free(&p.sig);
	kc_buf_free(&p.tsr);
	free(p.chunk);
	return r;
}

void
kc_verify_opts_init(struct kc_verify_opts *vo, const char *pubkey_path, const char *ca_path,
    const char *tsa_ca, int allow_unsigned)
{
	memset(vo, 0, sizeof(*vo));
	vo->pubkey_path = pubkey_path;
	vo->ca_path = ca_path;
	vo->tsa_ca = tsa_ca;
	vo->allow_unsigned = allow_unsigned;
}

int
kc_bundle_invalid_err(const char *path, const struct kc_verify_result *vr, const char *hint)
{
	for (int i = 0; i < KC_CHECK_COUNT; i++)
		if (vr->checks[i].state == KC_CHECK_FAILED)
			return kc_err_set(KC_ERR_VERIFY, "'%s' is not a valid bundle: %s check failed: %s%s%s", path,
			    vr->checks[i].name, vr->checks[i].detail, hint ? " " : "", hint ? hint : "");
	return kc_err_set(KC_ERR_VERIFY, "'%s' is not a valid bundle", path);
}

int
kc_bundle_verify(const char *path, const struct kc_verify_opts *o, struct kc_verify_result *res)
{
	return verify_impl(path, o, res, NULL);
}

int
kc_bundle_verify_read(const char *path, const struct kc_verify_opts *vo, struct kc_verify_result *res,
    const struct kc_bundle_read_opts *ro, kc_bundle_keep_fn keep, void *ctx, struct kc_bundle_members *out)
{
	struct vread rd = { .o = ro, .keep = keep, .ctx = ctx, .out = out };
	int r;

	memset(out, 0, sizeof(*out));
	r = verify_impl(path, vo, res, &rd);
	kc_digest_list_free(&rd.sums);
	if (r == 0 && rd.r == 0 && rd.gate != GATE_OPEN) {	/* the checks passed what the gate did not */
		rd.r = kc_err_set(KC_ERR_INVALID, "'%s': its members were not kept (the signed hash list was "
		    "not read before them)", path);
		kc_err_save(&rd.err);
	}
	if (r != 0 || rd.r != 0) {
		kc_bundle_members_free(out);
		if (r == 0)	/* valid, but not read: the reader's own error */
			r = kc_err_restore(&rd.err, rd.r);
		return r;
	}
	memcpy(out->sha256, res->sha256, sizeof(out->sha256));
	if (ro->sort)
		kc_bundle_members_sort(out);
	return 0;
}

/* A job on its thread.  Nothing on the verify path is shared mutable
 * state but libcjson's parse-error pointer, which a failed parse writes
 * and only collector/audit.c reads (never during a verify). */
static void *
verify_job_run(void *arg)
{
	struct kc_verify_job *j = arg;

	kc_err_clear();
	j->r = kc_bundle_verify(j->path, j->o, j->res);
	j->code = j->r != 0 ? kc_err_code() : 0;
	/* a failure that recorded no message (an allocation deep down)
	 * is named by its code, not by this thread's "success" */
	kc_fmt_trunc(j->msg, sizeof(j->msg), "%s", j->r == 0 ? "" : j->code != 0 ? kc_err_msg() : kc_strerror(j->r));
	return NULL;
}

void
kc_bundle_verify_jobs(struct kc_verify_job *jobs, size_t n)
{
	enum { MAXTH = 8 };
	pthread_t th[MAXTH];
	pthread_attr_t attr;
	int started[MAXTH] = { 0 }, have_attr;

	/* the main thread's stack size, whatever the libc's default for
	 * threads (musl's is 128 KiB; cJSON recurses up to its nesting limit) */
	have_attr = pthread_attr_init(&attr) == 0;
	if (have_attr)
		(void)pthread_attr_setstacksize(&attr, 8u << 20);
	/* jobs[0] runs here, jobs 1..MAXTH-1 on threads, the rest here after */
	for (size_t i = 1; i < n && i < MAXTH; i++)
		started[i] = pthread_create(&th[i], have_attr ? &attr : NULL, verify_job_run, &jobs[i]) == 0;
	if (have_attr)
		pthread_attr_destroy(&attr);
	if (n > 0)
		verify_job_run(&jobs[0]);
	for (size_t i = 1; i < n; i++) {
		if (i < MAXTH && started[i])
			pthread_join(th[i], NULL);
		else
			verify_job_run(&jobs[i]);
	}
	/* out of memory beside the others (two hostile bundles' 64 MiB
	 * manifests at once): verified again alone, as one at a time would */
	for (size_t i = 0; i < n && n > 1; i++)
		if (jobs[i].r == KC_ERR_NOMEM)
			verify_job_run(&jobs[i]);
#ifdef __GLIBC__
	/* a thread's verify freed its buffers into a malloc arena of its
	 * own, which glibc keeps mapped after the thread: given back here,
	 * before the caller's peak (18 MiB of diff's at 150k objects) */
	if (n > 1)
		malloc_trim(0);
#endif
}

int
kc_verify_job_err(const struct kc_verify_job *job)
{
	if (job->r == 0)
		return 0;
	kc_err_set(job->code != 0 ? job->code : job->r, "%s", job->msg);
	return job->r;
}
