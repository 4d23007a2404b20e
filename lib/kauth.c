/*
 * kauth: RSA-PSS signing and verification of Kalshi requests with OpenSSL 3 (EVP and
 * OSSL_DECODER only, no deprecated RSA_* calls), plus a strict base64 codec of our own so that a
 * signature header with stray characters is refused rather than silently repaired.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "kauth.h"
#include "log.h"

struct kauth_key {
	EVP_PKEY *pkey;
	bool has_private;
};

/* The longest signed string we build: a timestamp, a method and an API path. */
#define KAUTH_MSG_MAX 4096
/* Largest PEM file we read: an 8192-bit private key is about 6.5 KiB. */
#define KAUTH_PEM_MAX 65536

static const char kauth_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
kauth_log_ssl(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0) {
		log_warnx("%s", what);
		return;
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	log_warnx("%s: %s", what, buf);
}

/*
 * Decodes PEM text into an RSA key. selection is EVP_PKEY_KEYPAIR for private keys and 0 (any
 * structure) for public ones, so that a public key may also be read from a private key file.
 */
static struct kauth_key *
kauth_from_pem(const char *pem, size_t len, int selection, bool want_private)
{
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY *pkey = NULL;
	struct kauth_key *key = NULL;
	const unsigned char *data = (const unsigned char *)pem;
	size_t left = len;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", selection, NULL, NULL);
	if (dctx == NULL) {
		kauth_log_ssl("cannot create a key decoder");
		goto out;
	}
	if (!OSSL_DECODER_from_data(dctx, &data, &left) || pkey == NULL) {
		kauth_log_ssl("not an RSA key in PEM form");
		goto out;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		log_warnx("the key is not an RSA key");
		goto out;
	}
	key = calloc(1, sizeof(*key));
	if (key == NULL) {
		log_warn("cannot allocate a key");
		goto out;
	}
	key->pkey = pkey;
	key->has_private = want_private;
	pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	return key;
}

struct kauth_key *
kauth_private_from_pem(const char *pem, size_t len)
{
	return kauth_from_pem(pem, len, EVP_PKEY_KEYPAIR, true);
}

struct kauth_key *
kauth_public_from_pem(const char *pem, size_t len)
{
	return kauth_from_pem(pem, len, 0, false);
}

/* Reads a whole (small) file into a NUL-terminated buffer. Caller frees. NULL on failure. */
static char *
kauth_read_file(const char *path, size_t *lenp)
{
	FILE *f = NULL;
	char *buf = NULL, *ret = NULL;
	size_t n;

	f = fopen(path, "rb");
	if (f == NULL) {
		log_warn("cannot open key file %s", path);
		goto out;
	}
	buf = malloc(KAUTH_PEM_MAX + 1);
	if (buf == NULL) {
		log_warn("cannot allocate a key buffer");
		goto out;
	}
	n = fread(buf, 1, KAUTH_PEM_MAX + 1, f);
	if (ferror(f) || n > KAUTH_PEM_MAX) {
		log_warnx("cannot read key file %s (unreadable or larger than %d bytes)", path,
		    KAUTH_PEM_MAX);
		goto out;
	}
	buf[n] = '\0';
	*lenp = n;
	ret = buf;
	buf = NULL;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return ret;
}

struct kauth_key *
kauth_load_private(const char *path)
{
	struct kauth_key *key = NULL;
	size_t len = 0;
	char *pem = kauth_read_file(path, &len);

	if (pem == NULL)
		return NULL;
	key = kauth_private_from_pem(pem, len);
	if (key == NULL)
		log_warnx("no usable RSA private key in %s", path);
	OPENSSL_cleanse(pem, len);
	free(pem);
	return key;
}

struct kauth_key *
kauth_load_public(const char *path)
{
	struct kauth_key *key = NULL;
	size_t len = 0;
	char *pem = kauth_read_file(path, &len);

	if (pem == NULL)
		return NULL;
	key = kauth_public_from_pem(pem, len);
	if (key == NULL)
		log_warnx("no usable RSA public key in %s", path);
	free(pem);
	return key;
}

void
kauth_key_free(struct kauth_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

int
kauth_key_bits(const struct kauth_key *key)
{
	return key == NULL ? 0 : EVP_PKEY_get_bits(key->pkey);
}

/* Concatenates ts, method and path into buf; returns the length or -1 when too long. */
static int
kauth_message(char *buf, size_t cap, const char *ts, const char *method, const char *path)
{
	int n = snprintf(buf, cap, "%s%s%s", ts, method, path);

	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}

/* Sets RSA-PSS with MGF1 over SHA-256 and a salt as long as the digest on a sign/verify ctx. */
static int
kauth_set_pss(EVP_PKEY_CTX *pctx)
{
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0)
		return -1;
	if (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0)
		return -1;
	if (EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0)
		return -1;
	return 0;
}

int
kauth_sign(const struct kauth_key *key, const char *ts, const char *method, const char *path,
    char *out, size_t cap)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char sig[1024];
	char msg[KAUTH_MSG_MAX];
	size_t siglen = sizeof(sig), enc;
	int mlen, ret = -1;

	if (cap > 0)
		out[0] = '\0';
	if (key == NULL || !key->has_private) {
		log_warnx("signing needs a private key");
		goto out;
	}
	mlen = kauth_message(msg, sizeof(msg), ts, method, path);
	if (mlen < 0) {
		log_warnx("the string to sign is too long");
		goto out;
	}
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL)
		goto ssl_fail;
	if (EVP_DigestSignInit(mctx, &pctx, EVP_sha256(), NULL, key->pkey) <= 0)
		goto ssl_fail;
	if (kauth_set_pss(pctx) < 0)
		goto ssl_fail;
	if (EVP_DigestSign(mctx, sig, &siglen, (const unsigned char *)msg, (size_t)mlen) <= 0)
		goto ssl_fail;
	enc = kauth_b64_encode(sig, siglen, out, cap);
	if (enc == 0) {
		log_warnx("signature buffer too small");
		goto out;
	}
	ret = (int)enc;
	goto out;
ssl_fail:
	kauth_log_ssl("cannot sign");
out:
	EVP_MD_CTX_free(mctx);
	return ret;
}

bool
kauth_verify(const struct kauth_key *key, const char *ts, const char *method, const char *path,
    const char *sig_b64, size_t sig_len)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char sig[1024];
	char msg[KAUTH_MSG_MAX];
	long siglen;
	int mlen;
	bool ok = false;

	if (key == NULL || sig_b64 == NULL)
		goto out;
	siglen = kauth_b64_decode(sig_b64, sig_len, sig, sizeof(sig));
	if (siglen <= 0)
		goto out;
	mlen = kauth_message(msg, sizeof(msg), ts, method, path);
	if (mlen < 0)
		goto out;
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL)
		goto out;
	if (EVP_DigestVerifyInit(mctx, &pctx, EVP_sha256(), NULL, key->pkey) <= 0)
		goto out;
	if (kauth_set_pss(pctx) < 0)
		goto out;
	ok = EVP_DigestVerify(mctx, sig, (size_t)siglen, (const unsigned char *)msg, (size_t)mlen) == 1;
out:
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return ok;
}

size_t
kauth_b64_encode(const unsigned char *in, size_t len, char *out, size_t cap)
{
	size_t need = (len + 2) / 3 * 4, o = 0, i;

	if (cap == 0)
		return 0;
	if (need + 1 > cap) {
		out[0] = '\0';
		return 0;
	}
	for (i = 0; i + 2 < len; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];

		out[o++] = kauth_b64_alphabet[(v >> 18) & 63];
		out[o++] = kauth_b64_alphabet[(v >> 12) & 63];
		out[o++] = kauth_b64_alphabet[(v >> 6) & 63];
		out[o++] = kauth_b64_alphabet[v & 63];
	}
	if (i < len) {
		unsigned long v = (unsigned long)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned long)in[i + 1] << 8;
		out[o++] = kauth_b64_alphabet[(v >> 18) & 63];
		out[o++] = kauth_b64_alphabet[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = kauth_b64_alphabet[(v >> 6) & 63];
		else
			out[o++] = '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* The 6-bit value of a base64 symbol, or -1. */
static int
kauth_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
kauth_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		unsigned long bits;
		bool last = i + 4 == len;

		for (int k = 0; k < 4; k++) {
			if (p[i + k] == '=' && last && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0)
				return -1; /* a symbol after padding */
			v[k] = kauth_b64_value(p[i + k]);
			if (v[k] < 0)
				return -1;
		}
		bits = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
		    (unsigned long)v[2] << 6 | (unsigned long)v[3];
		if ((pad == 1 && (bits & 0xFF) != 0) || (pad == 2 && (bits & 0xFFFF) != 0))
			return -1; /* non-canonical trailing bits */
		if (o + (size_t)(3 - pad) > cap)
			return -1;
		out[o++] = (unsigned char)(bits >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(bits >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)bits;
	}
	return (long)o;
}
