/* bundle.h - the sealed evidence bundle (format v1, docs/FORMAT.md).
 *
 * CONTRACT (owned by the bundle module):
 * kc_bundle_seal() takes a staging folder holding the evidence members
 * (relative paths, no MANIFEST.json yet) and the manifest draft built by
 * collect (case, collector, cluster, times, requests, items, and "files":
 * [{"path","media_type","derived":bool,"sources":[...]}] for the members it
 * knows).  It fills size and sha256 of every file (adding entries for
 * members not listed), writes MANIFEST.json, SHA256SUMS, SHA256SUMS.sig,
 * SHA256SUMS.sig.tsr (with a TSA) and VERIFY.txt into the staging folder,
 * then writes the deterministic tar.gz to a temporary file beside out_path
 * and renames it into place.  The top folder is the bundle name (the base
 * name of out_path without .tar.gz).
 */
#ifndef KC_BUNDLE_H
#define KC_BUNDLE_H

#include <time.h>

#include <cjson/cJSON.h>

struct kc_seal_opts {
	const char *key_path;		/* PEM private key (may be encrypted) */
	const char *cert_path;		/* X.509 certificate: CMS detached signature */
	const char *passphrase_file;	/* or the terminal when the key is encrypted */
	int no_sign;			/* explicit --no-sign */
	const char *tsa_url;		/* RFC 3161 TSA, optional */
	const char *tsa_ca;		/* CA to check the TSA reply with */
	time_t mtime;			/* one mtime for every member */
};

int kc_bundle_seal(const char *staging_dir, cJSON *manifest,
    const struct kc_seal_opts *opts, const char *out_path);

#endif
