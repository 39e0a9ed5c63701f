/* sign.c - raw Ed25519 and CMS signatures, key loading, keygen. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/opensslv.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "manifest/sign.h"
#include "util/err.h"
#include "util/fmt.h"
#include "util/fsutil.h"
#include "util/mem.h"
#include "util/sha256.h"

#define KEYFILE_MAX (1u << 20)
#define PASS_MAX 1024

struct kc_signer {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain;
	char fpr[KC_FPR_LEN];
};


static int
fingerprint(EVP_PKEY *pk, char fpr[KC_FPR_LEN])
{
	unsigned char *der = NULL;
	char hex[KC_SHA256_HEX];
	int n, r;

	if ((n = i2d_PUBKEY(pk, &der)) <= 0)
		return kc_err_ossl(KC_ERR_CRYPTO, "cannot encode public key");
	r = kc_sha256_hex(der, (size_t)n, hex);
	OPENSSL_free(der);
	if (r == 0)
		r = kc_fmt(fpr, KC_FPR_LEN, "SHA256:%s", hex);	/* a fingerprint: whole */
	return r;
}

struct pass_ctx {
	const char *file;
	const char *key_path;
	int failed;
};

static int
read_tty_pass(char *buf, int size, const char *key_path)
{
	struct termios old, quiet;
	char prompt[512];
	int fd, n = 0, r = -1;
	ssize_t got;
	char c;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return -1;
	if (tcgetattr(fd, &old) != 0)
		goto out;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	kc_fmt_trunc(prompt, sizeof(prompt), "Passphrase for '%s': ", key_path);	/* display */
	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
		goto out;
	while ((got = read(fd, &c, 1)) == 1 && c != '\n' && c != '\r')
		if (n < size - 1)
			buf[n++] = c;
	c = 0;
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		n = -1;
	r = got < 0 ? -1 : n;
out:
	close(fd);
	return r;
}

static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	struct kc_buf b = KC_BUF_INIT(PASS_MAX);
	size_t n;

	(void)rwflag;
	if (pc->file == NULL) {
		int got = read_tty_pass(buf, size, pc->key_path);

		if (got < 0)
			pc->failed = 1;
		return got;
	}
	if (kc_read_file(pc->file, PASS_MAX, &b) != 0) {
		pc->failed = 1;
		kc_buf_free_secret(&b);
		return -1;
	}
	n = strcspn(kc_buf_str(&b), "\r\n");
	if (n > (size_t)size - 1)
		n = (size_t)size - 1;
	memcpy(buf, kc_buf_str(&b), n);
	kc_buf_free_secret(&b);
	return (int)n;
}

static int
load_key(const char *key_path, const char *passphrase_file, EVP_PKEY **out)
{
	struct kc_buf kb = KC_BUF_INIT(KEYFILE_MAX);
	struct pass_ctx pc = { passphrase_file, key_path, 0 };
	BIO *bio = NULL;
	int r;

	if ((r = kc_read_file(key_path, KEYFILE_MAX, &kb)) != 0)
		goto out;
	if ((bio = BIO_new_mem_buf(kb.data, (int)kb.len)) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((*out = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &pc)) == NULL) {
		if (pc.failed && passphrase_file == NULL)
			r = kc_err_set(KC_ERR_CONFIG, "key '%s' is encrypted and no terminal to ask for "
			    "the passphrase: give --passphrase-file", key_path);
		else if (pc.failed)
			r = KC_ERR_IO;	/* kc_read_file said why */
		else
			r = kc_err_ossl(KC_ERR_CONFIG, "cannot load private key '%s' (wrong passphrase?)", key_path);
		goto out;
	}
out:
	BIO_free(bio);
	kc_buf_free_secret(&kb);
	ERR_clear_error();
	return r;
}

static int
load_certs(const char *path, X509 **cert, STACK_OF(X509) **chain)
{
	BIO *bio = NULL;
	X509 *x;
	int r = 0;

	if ((bio = BIO_new_file(path, "r")) == NULL)
		return kc_err_ossl(KC_ERR_IO, "cannot read '%s'", path);
	if ((*cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		r = kc_err_ossl(KC_ERR_CONFIG, "no certificate in '%s'", path);
		goto out;
	}
	if ((*chain = sk_X509_new_null()) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(*chain, x) <= 0) {
			X509_free(x);
			r = kc_err_set(KC_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	ERR_clear_error();	/* the end of the file */
out:
	BIO_free(bio);
	return r;
}

int
kc_signer_load_key(const char *key_path, const char *passphrase_file, struct kc_signer **out)
{
	struct kc_signer *s;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return kc_err_set(KC_ERR_NOMEM, "out of memory");
	if ((r = load_key(key_path, passphrase_file, &s->key)) != 0 ||
	    (r = fingerprint(s->key, s->fpr)) != 0) {
		kc_signer_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int
kc_signer_load(const char *key_path, const char *cert_path,
    const char *passphrase_file, struct kc_signer **out)
{
	struct kc_signer *s;
	int r;

	if ((r = kc_signer_load_key(key_path, passphrase_file, &s)) != 0)
		return r;
	if (cert_path != NULL) {
		if ((r = load_certs(cert_path, &s->cert, &s->chain)) != 0)
			goto out;
		if (X509_check_private_key(s->cert, s->key) != 1) {
			r = kc_err_ossl(KC_ERR_CONFIG, "certificate '%s' does not match key '%s'",
			    cert_path, key_path);
			goto out;
		}
	} else if (EVP_PKEY_get_id(s->key) != EVP_PKEY_ED25519) {
		r = kc_err_set(KC_ERR_CONFIG, "key '%s' is not Ed25519: a bare key must be Ed25519 "
		    "(give --cert for RSA or ECDSA keys)", key_path);
		goto out;
	}
out:
	if (r != 0) {
		kc_signer_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int
kc_signer_is_ed25519(const struct kc_signer *s)
{
	return EVP_PKEY_get_id(s->key) == EVP_PKEY_ED25519;
}

int
kc_signer_public_der(const struct kc_signer *s, unsigned char *out, size_t max, size_t *len)
{
	unsigned char *der = NULL;
	int n;

	if ((n = i2d_PUBKEY(s->key, &der)) <= 0)
		return kc_err_ossl(KC_ERR_CRYPTO, "cannot encode public key");
	if ((size_t)n > max) {
		OPENSSL_free(der);
		return kc_err_set(KC_ERR_LIMIT, "public key longer than %zu bytes", max);
	}
	memcpy(out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

enum kc_sig_kind
kc_signer_kind(const struct kc_signer *s)
{
	return s->cert != NULL ? KC_SIG_CMS : KC_SIG_ED25519;
}

const char *
kc_signer_fingerprint(const struct kc_signer *s)
{
	return s->fpr;
}

int
kc_sign(struct kc_signer *s, const void *data, size_t len, struct kc_buf *sig)
{
	EVP_MD_CTX *ctx = NULL;
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL, *mem = NULL;
	unsigned char raw[64];
	size_t rlen = sizeof(raw);
	const unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP;
	char *p;
	long n;
	int r = 0;

	if (s->cert == NULL) {
		if ((ctx = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->key) != 1 ||
		    EVP_DigestSign(ctx, raw, &rlen, data, len) != 1) {
			r = kc_err_ossl(KC_ERR_CRYPTO, "Ed25519 signing failed");
			goto out;
		}
		r = kc_buf_add(sig, raw, rlen);
		goto out;
	}
	if (len > INT32_MAX || (in = BIO_new_mem_buf(data, (int)len)) == NULL ||
	    (mem = BIO_new(BIO_s_mem())) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Ed25519 has no default digest; RFC 8419 pairs it with SHA-512. */
	if ((cms = CMS_sign(NULL, NULL, s->chain, NULL, flags | CMS_PARTIAL)) == NULL ||
	    CMS_add1_signer(cms, s->cert, s->key, EVP_PKEY_get_id(s->key) == EVP_PKEY_ED25519 ?
	    EVP_sha512() : NULL, flags) == NULL ||
	    CMS_final(cms, in, NULL, flags) != 1 || i2d_CMS_bio(mem, cms) != 1) {
		r = kc_err_ossl(KC_ERR_CRYPTO, "CMS signing failed%s", EVP_PKEY_get_id(s->key) == EVP_PKEY_ED25519 &&
		    OPENSSL_VERSION_NUMBER < 0x30200000L ? " (CMS with Ed25519 needs OpenSSL 3.2; use an RSA "
		    "or ECDSA certificate, or the bare Ed25519 key)" : "");
		goto out;
	}
	n = BIO_get_mem_data(mem, &p);
	r = kc_buf_add(sig, p, (size_t)n);
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	EVP_MD_CTX_free(ctx);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(mem);
	return r;
}

void
kc_signer_free(struct kc_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->key);	/* OpenSSL cleanses key material on free */
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	free(s);
}

/* A public key from a PEM file holding a public key or a certificate. */
static int
load_pub(const char *path, EVP_PKEY **out)
{
	BIO *bio;
	X509 *x;

	if ((bio = BIO_new_file(path, "r")) == NULL)
		return kc_err_ossl(KC_ERR_IO, "cannot read '%s'", path);
	*out = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (*out == NULL) {
		(void)BIO_reset(bio);
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			*out = X509_get_pubkey(x);
			X509_free(x);
		}
	}
	BIO_free(bio);
	if (*out == NULL)
		return kc_err_ossl(KC_ERR_CONFIG, "no public key in '%s'", path);
	ERR_clear_error();
	return 0;
}

int
kc_trust_file_check(const char *path, int want_cert)
{
	struct stat st;
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	char head[4096];
	int n, r = 0;
	FILE *f;

	if (stat(path, &st) != 0)
		return kc_err_set(KC_ERR_CONFIG, "cannot read '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return kc_err_set(KC_ERR_CONFIG, "'%s' is not a regular file", path);
	if ((f = fopen(path, "r")) == NULL)
		return kc_err_set(KC_ERR_CONFIG, "cannot read '%s': %s", path, strerror(errno));
	n = (int)fread(head, 1, sizeof(head) - 1, f);
	fclose(f);
	head[n < 0 ? 0 : n] = '\0';
	/* The private key where its public key belongs: say so, never judge
	 * the bundle with it (and never print any of it). */
	if (strstr(head, "PRIVATE KEY-----") != NULL)
		return kc_err_set(KC_ERR_CONFIG, "'%s' is a private key; give its public key "
		    "(openssl pkey -in KEY -pubout -out KEY.pub.pem)", path);
	if ((bio = BIO_new_file(path, "r")) == NULL)
		return kc_err_ossl(KC_ERR_CONFIG, "cannot read '%s'", path);
	if (want_cert) {
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
			r = kc_err_set(KC_ERR_CONFIG, "'%s' holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
			    path);
	} else if ((pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
		(void)BIO_reset(bio);
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
			r = kc_err_set(KC_ERR_CONFIG, "'%s' holds no PEM public key or certificate "
			    "(-----BEGIN PUBLIC KEY-----)", path);
	}
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	return r;
}

/* An Ed25519 signature over data by pk (taken), whose name in messages is
 * what (a quoted path, or "the public key"), and in a mismatch without
 * fpr, who. */
static int
verify_raw_key(EVP_PKEY *pk, const char *what, const char *who, const void *data, size_t len,
    const void *sig, size_t siglen, char *fpr)
{
	EVP_MD_CTX *ctx = NULL;
	int r = 0;

	if (fpr != NULL && (r = fingerprint(pk, fpr)) != 0)
		goto out;
	if (EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519) {
		r = kc_err_set(KC_ERR_VERIFY, "%s is not an Ed25519 key; a raw signature needs one", what);
		goto out;
	}
	if (siglen != 64) {
		r = kc_err_set(KC_ERR_VERIFY, "signature is %zu bytes, not a 64-byte Ed25519 signature", siglen);
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) != 1) {
		r = kc_err_ossl(KC_ERR_CRYPTO, "cannot start Ed25519 verification");
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, siglen, data, len) != 1)
		r = kc_err_set(KC_ERR_VERIFY, "Ed25519 signature does not match key %s", fpr ? fpr : who);
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return r;
}

int
kc_verify_raw(const char *pub_path, const void *data, size_t len,
    const void *sig, size_t siglen, char *fpr)
{
	EVP_PKEY *pk = NULL;
	char what[600];
	int r;

	if ((r = load_pub(pub_path, &pk)) != 0)
		return r;
	kc_fmt_trunc(what, sizeof(what), "'%s'", pub_path);
	return verify_raw_key(pk, what, pub_path, data, len, sig, siglen, fpr);
}

int
kc_verify_raw_pem(const void *pem, size_t pemlen, const void *data, size_t len,
    const void *sig, size_t siglen, char *fpr)
{
	EVP_PKEY *pk;
	BIO *bio;

	if (pemlen > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)pemlen)) == NULL)
		return kc_err_set(KC_ERR_CONFIG, "cannot read the public key");
	pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pk == NULL) {
		int r = kc_err_ossl(KC_ERR_CONFIG, "no PEM public key");

		ERR_clear_error();
		return r;
	}
	return verify_raw_key(pk, "the public key", "given", data, len, sig, siglen, fpr);
}

int
kc_verify_cms(const char *ca_path, const char *pub_path, const void *data, size_t len,
    const void *sig, size_t siglen, char *subject, size_t n, char *fpr)
{
	CMS_ContentInfo *cms = NULL;
	X509_STORE *store = NULL;
	STACK_OF(X509) *signers = NULL;
	EVP_PKEY *pk = NULL;
	BIO *sb = NULL, *content = NULL, *mem = NULL;
	int r = 0, flags = CMS_BINARY;

	if (siglen > INT32_MAX || len > INT32_MAX ||
	    (sb = BIO_new_mem_buf(sig, (int)siglen)) == NULL ||
	    (mem = BIO_new_mem_buf(data, (int)len)) == NULL ||
	    (content = BIO_new(BIO_f_null())) == NULL) {
		r = kc_err_set(KC_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The content behind a pass-through filter, not as a memory BIO:
	 * CMS_verify copies a memory BIO and OpenSSL 3.0 leaks that copy when
	 * it cannot set up a digest the signature names (found by
	 * tests/fuzz/fuzz_tar). */
	BIO_push(content, mem);
	mem = NULL;	/* freed with content */
	if ((cms = d2i_CMS_bio(sb, NULL)) == NULL) {
		r = kc_err_ossl(KC_ERR_VERIFY, "signature is neither a 64-byte Ed25519 signature nor DER CMS");
		goto out;
	}
	if (ca_path != NULL) {
		if ((store = X509_STORE_new()) == NULL || X509_STORE_load_file(store, ca_path) != 1) {
			r = kc_err_ossl(KC_ERR_CONFIG, "cannot load CA certificates from '%s'", ca_path);
			goto out;
		}
	} else {
		if ((r = load_pub(pub_path, &pk)) != 0)
			goto out;
		flags |= CMS_NO_SIGNER_CERT_VERIFY;
	}
	if (CMS_verify(cms, NULL, store, content, NULL, (unsigned int)flags) != 1) {
		r = kc_err_ossl(KC_ERR_VERIFY, "CMS signature verification failed");
		goto out;
	}
	if ((signers = CMS_get0_signers(cms)) == NULL || sk_X509_num(signers) != 1) {
		r = kc_err_set(KC_ERR_VERIFY, "CMS signature must have exactly one signer");
		goto out;
	}
	if (pk != NULL && EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(signers, 0)), pk) != 1) {
		r = kc_err_set(KC_ERR_VERIFY, "CMS signer's key is not the key in '%s'", pub_path);
		goto out;
	}
	if (subject != NULL && n > 0)
		X509_NAME_oneline(X509_get_subject_name(sk_X509_value(signers, 0)), subject, (int)n);
	if (fpr != NULL)
		r = fingerprint(X509_get0_pubkey(sk_X509_value(signers, 0)), fpr);
out:
	ERR_clear_error();
	sk_X509_free(signers);
	CMS_ContentInfo_free(cms);
	X509_STORE_free(store);
	EVP_PKEY_free(pk);
	BIO_free(sb);
	BIO_free_all(content);
	BIO_free(mem);
	return r;
}

static int
write_new(const char *path, mode_t mode, const char *data, size_t len)
{
	int fd, r = 0;
	ssize_t n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) < 0)
		return kc_err_set(KC_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
	while (len > 0) {
		if ((n = write(fd, data, len)) < 0) {
			if (errno == EINTR)
				continue;
			r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (r == 0 && (fsync(fd) != 0 || fchmod(fd, mode) != 0))
		r = kc_err_set(KC_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
	close(fd);
	if (r != 0)
		unlink(path);
	return r;
}

int
kc_keygen(const char *key_path, const char *pub_path, char fpr[KC_FPR_LEN])
{
	EVP_PKEY *pk = NULL;
	BIO *priv = NULL, *pub = NULL;
	char *p;
	long n;
	int r;

	if (access(key_path, F_OK) == 0)
		return kc_err_set(KC_ERR_INVALID, "'%s' already exists; refusing to overwrite a key", key_path);
	if (pub_path != NULL && access(pub_path, F_OK) == 0)
		return kc_err_set(KC_ERR_INVALID, "'%s' already exists", pub_path);
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		return kc_err_ossl(KC_ERR_CRYPTO, "Ed25519 key generation failed");
	if ((priv = BIO_new(BIO_s_secmem())) == NULL || (pub = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(priv, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_PUBKEY(pub, pk) != 1) {
		r = kc_err_ossl(KC_ERR_CRYPTO, "cannot encode the key");
		goto out;
	}
	if ((r = fingerprint(pk, fpr)) != 0)
		goto out;
	n = BIO_get_mem_data(priv, &p);
	if ((r = write_new(key_path, 0600, p, (size_t)n)) != 0)
		goto out;
	if (pub_path != NULL) {
		n = BIO_get_mem_data(pub, &p);
		if ((r = write_new(pub_path, 0644, p, (size_t)n)) != 0) {
			unlink(key_path);
			goto out;
		}
	}
out:
	BIO_free(priv);	/* secure heap BIO: cleansed on free */
	BIO_free(pub);
	EVP_PKEY_free(pk);
	return r;
}

int
kc_fingerprint_file(const char *path, char fpr[KC_FPR_LEN])
{
	EVP_PKEY *pk = NULL;
	int r;

	if (load_pub(path, &pk) != 0) {
		struct kc_buf kb = KC_BUF_INIT(KEYFILE_MAX);
		BIO *bio = NULL;

		/* A private key file: its public half (never asks a passphrase). */
		if ((r = kc_read_file(path, KEYFILE_MAX, &kb)) == 0 &&
		    (bio = BIO_new_mem_buf(kb.data, (int)kb.len)) != NULL)
			pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
		BIO_free(bio);
		kc_buf_free_secret(&kb);
		ERR_clear_error();
		if (pk == NULL)
			return kc_err_set(KC_ERR_CONFIG, "no key or certificate in '%s'", path);
	}
	r = fingerprint(pk, fpr);
	EVP_PKEY_free(pk);
	return r;
}
