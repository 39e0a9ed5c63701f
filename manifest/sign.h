/* sign.h - signatures over SHA256SUMS (OpenSSL EVP and CMS).
 *
 * Two kinds (docs/FORMAT.md, "Signature"):
 *  - raw Ed25519: SHA256SUMS.sig is the 64-byte signature of the file's
 *    bytes (PureEdDSA), for a bare Ed25519 key;
 *  - CMS: a detached DER CMS SignedData over the bytes (binary, no
 *    canonicalisation), when an X.509 certificate is given; RSA, ECDSA or
 *    Ed25519 keys.
 * A key fingerprint is "SHA256:" and the lowercase hex SHA-256 of the DER
 * SubjectPublicKeyInfo (what `openssl pkey -pubin -outform DER | sha256sum`
 * prints).  Private keys and passphrases are wiped after use.
 */
#ifndef KC_SIGN_H
#define KC_SIGN_H

#include <stddef.h>

#include "util/buf.h"

#define KC_FPR_LEN 72	/* "SHA256:" + 64 hex + NUL */
#define KC_SIG_MAX (1u << 20)

enum kc_sig_kind { KC_SIG_NONE = 0, KC_SIG_ED25519, KC_SIG_CMS };

struct kc_signer;

/* Load a PEM private key (encrypted keys: passphrase from passphrase_file,
 * its first line, or else asked on the terminal without echo) and, when
 * cert_path is given, the certificate (and any chain after it) that must
 * match the key.  Without a certificate the key must be Ed25519. */
int kc_signer_load(const char *key_path, const char *cert_path,
    const char *passphrase_file, struct kc_signer **out);
/* The one private-key loader (bundle signatures and custody entries): the
 * PEM private key alone, of any type; an encrypted key's passphrase as
 * above.  With no passphrase file and no terminal, KC_ERR_CONFIG "key ...
 * is encrypted and no terminal to ask for the passphrase".  Signs raw. */
int kc_signer_load_key(const char *key_path, const char *passphrase_file,
    struct kc_signer **out);
/* Whether the signer's key is Ed25519. */
int kc_signer_is_ed25519(const struct kc_signer *s);
/* The signer's public key as DER SubjectPublicKeyInfo, copied to out (at
 * most max bytes, KC_ERR_LIMIT when longer); *len its length. */
int kc_signer_public_der(const struct kc_signer *s, unsigned char *out, size_t max,
    size_t *len);
enum kc_sig_kind kc_signer_kind(const struct kc_signer *s);
/* The signer's public key fingerprint (KC_FPR_LEN). */
const char *kc_signer_fingerprint(const struct kc_signer *s);
/* Sign data; the signature is appended to sig. */
int kc_sign(struct kc_signer *s, const void *data, size_t len, struct kc_buf *sig);
void kc_signer_free(struct kc_signer *s);

/* A trust file given by the user (--pubkey, --ca, --tsa-ca), checked
 * before any bundle is judged with it: it exists, is a regular file, is
 * not a private key, and holds a PEM public key or certificate (want_cert:
 * a certificate).  0 or KC_ERR_CONFIG naming the problem -- a usage error,
 * not an invalid bundle. */
int kc_trust_file_check(const char *path, int want_cert);
/* Check a raw Ed25519 signature against the PEM public key in pub_path.
 * 0, KC_ERR_VERIFY (bad signature), or KC_ERR_IO/KC_ERR_CONFIG for the key
 * file.  fpr (optional, KC_FPR_LEN) receives the key's fingerprint. */
int kc_verify_raw(const char *pub_path, const void *data, size_t len,
    const void *sig, size_t siglen, char *fpr);
/* The same with the PEM public key in memory (pem, pemlen bytes). */
int kc_verify_raw_pem(const void *pem, size_t pemlen, const void *data, size_t len,
    const void *sig, size_t siglen, char *fpr);
/* Check a detached DER CMS signature: against the trust anchors in ca_path
 * (chain checked as `openssl cms -verify` does), or, with pub_path instead,
 * only that the signer's key is that key.  subject (optional, n bytes)
 * receives the signer certificate's subject. */
int kc_verify_cms(const char *ca_path, const char *pub_path, const void *data, size_t len,
    const void *sig, size_t siglen, char *subject, size_t n, char *fpr);

/* Make an Ed25519 key: the private key PEM (PKCS#8, unencrypted) at
 * key_path created 0600 with O_EXCL|O_NOFOLLOW (never replaces a file),
 * the public key PEM at pub_path (0644, also O_EXCL). */
int kc_keygen(const char *key_path, const char *pub_path, char fpr[KC_FPR_LEN]);
/* Fingerprint of the public key in a PEM file (public key, private key
 * or certificate). */
int kc_fingerprint_file(const char *path, char fpr[KC_FPR_LEN]);

#endif
