/*
 * Unit tests of lib/kauth: base64 against the RFC 4648 vectors and malformed input, key loading
 * from PKCS#1 and PKCS#8 private PEM and SPKI / PKCS#1 public PEM, and RSA-PSS sign/verify round
 * trips including tampering and the wrong key. Keys are generated at run time with OpenSSL.
 */
#include <string.h>

#include <CUnit/CUnit.h>
#include <openssl/bio.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "kauth.h"
#include "tests.h"

static EVP_PKEY *tk_pkey;
static EVP_PKEY *tk_other;

/* Encodes pkey with an OSSL_ENCODER into a malloc'd NUL-terminated PEM. Caller frees. */
static char *
tk_encode(EVP_PKEY *pkey, int selection, const char *structure)
{
	OSSL_ENCODER_CTX *ectx;
	unsigned char *data = NULL;
	size_t len = 0;
	char *pem = NULL;

	ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, selection, "PEM", structure, NULL);
	if (ectx == NULL)
		return NULL;
	if (OSSL_ENCODER_to_data(ectx, &data, &len) == 1) {
		pem = OPENSSL_malloc(len + 1);
		if (pem != NULL) {
			memcpy(pem, data, len);
			pem[len] = '\0';
		}
	}
	OPENSSL_free(data);
	OSSL_ENCODER_CTX_free(ectx);
	return pem;
}

static int
tk_init(void)
{
	tk_pkey = EVP_RSA_gen(2048);
	tk_other = EVP_RSA_gen(2048);
	return tk_pkey != NULL && tk_other != NULL ? 0 : -1;
}

static int
tk_clean(void)
{
	EVP_PKEY_free(tk_pkey);
	EVP_PKEY_free(tk_other);
	return 0;
}

static void
test_b64_vectors(void)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char enc[64];
	unsigned char dec[64];

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		size_t n = kauth_b64_encode((const unsigned char *)vec[i][0], strlen(vec[i][0]), enc,
		    sizeof(enc));

		CU_ASSERT_EQUAL(n, strlen(vec[i][1]));
		CU_ASSERT_STRING_EQUAL(enc, vec[i][1]);
		CU_ASSERT_EQUAL(kauth_b64_decode(vec[i][1], strlen(vec[i][1]), dec, sizeof(dec)),
		    (long)strlen(vec[i][0]));
		CU_ASSERT(memcmp(dec, vec[i][0], strlen(vec[i][0])) == 0);
	}
	/* binary bytes with the high bit and the last two alphabet symbols */
	{
		const unsigned char bin[] = { 0xfb, 0xff, 0xbf, 0x00 };

		CU_ASSERT_EQUAL(kauth_b64_encode(bin, sizeof(bin), enc, sizeof(enc)), 8);
		CU_ASSERT_STRING_EQUAL(enc, "+/+/AA==");
	}
	/* too small an output buffer */
	CU_ASSERT_EQUAL(kauth_b64_encode((const unsigned char *)"foo", 3, enc, 4), 0);
	CU_ASSERT_STRING_EQUAL(enc, "");
}

static void
test_b64_malformed(void)
{
	static const char *const bad[] = {
		"Zg=", "Zg", "Z===", "Zm9v\n", "Zm 9", "Zh==", "Zm9=", "Zg==Zg==", "=Zg=", "Zm-v",
		"Zm_v", "Zg=a",
	};
	unsigned char dec[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(kauth_b64_decode(bad[i], strlen(bad[i]), dec, sizeof(dec)), -1);
	/* output capacity is respected */
	CU_ASSERT_EQUAL(kauth_b64_decode("Zm9vYmFy", 8, dec, 5), -1);
	CU_ASSERT_EQUAL(kauth_b64_decode("Zm9vYmFy", 8, dec, 6), 6);
}

/* Signs with priv, verifies with pub, and checks tampering is detected. */
static void
tk_roundtrip(struct kauth_key *priv, struct kauth_key *pub)
{
	char sig[KAUTH_SIG_B64_MAX], sig2[KAUTH_SIG_B64_MAX];
	int n;

	n = kauth_sign(priv, "1706385600000", "GET", "/trade-api/ws/v2", sig, sizeof(sig));
	CU_ASSERT_EQUAL(n, 344);
	CU_ASSERT_EQUAL(strlen(sig), 344);
	CU_ASSERT(kauth_verify(pub, "1706385600000", "GET", "/trade-api/ws/v2", sig, (size_t)n));
	/* the private key verifies too */
	CU_ASSERT(kauth_verify(priv, "1706385600000", "GET", "/trade-api/ws/v2", sig, (size_t)n));
	/* PSS is randomized: two signatures differ and both verify */
	CU_ASSERT_EQUAL(kauth_sign(priv, "1706385600000", "GET", "/trade-api/ws/v2", sig2,
	    sizeof(sig2)), 344);
	CU_ASSERT(strcmp(sig, sig2) != 0);
	CU_ASSERT(kauth_verify(pub, "1706385600000", "GET", "/trade-api/ws/v2", sig2, 344));
	/* any change of the signed string fails */
	CU_ASSERT(!kauth_verify(pub, "1706385600001", "GET", "/trade-api/ws/v2", sig, (size_t)n));
	CU_ASSERT(!kauth_verify(pub, "1706385600000", "POST", "/trade-api/ws/v2", sig, (size_t)n));
	CU_ASSERT(!kauth_verify(pub, "1706385600000", "GET", "/trade-api/v2/markets", sig, (size_t)n));
	/* a flipped signature symbol, a truncated one, an empty one */
	sig2[0] = sig[0] == 'A' ? 'B' : 'A';
	memcpy(sig2 + 1, sig + 1, (size_t)n);
	CU_ASSERT(!kauth_verify(pub, "1706385600000", "GET", "/trade-api/ws/v2", sig2, (size_t)n));
	CU_ASSERT(!kauth_verify(pub, "1706385600000", "GET", "/trade-api/ws/v2", sig, (size_t)n - 4));
	CU_ASSERT(!kauth_verify(pub, "1706385600000", "GET", "/trade-api/ws/v2", "", 0));
}

static void
test_pkcs8_and_spki(void)
{
	char *priv_pem = tk_encode(tk_pkey, EVP_PKEY_KEYPAIR, "PrivateKeyInfo");
	char *pub_pem = tk_encode(tk_pkey, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
	struct kauth_key *priv = NULL, *pub = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(priv_pem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub_pem);
	CU_ASSERT(strstr(priv_pem, "BEGIN PRIVATE KEY") != NULL);
	CU_ASSERT(strstr(pub_pem, "BEGIN PUBLIC KEY") != NULL);
	priv = kauth_private_from_pem(priv_pem, strlen(priv_pem));
	pub = kauth_public_from_pem(pub_pem, strlen(pub_pem));
	CU_ASSERT_PTR_NOT_NULL(priv);
	CU_ASSERT_PTR_NOT_NULL(pub);
	CU_ASSERT_EQUAL(kauth_key_bits(priv), 2048);
	if (priv != NULL && pub != NULL)
		tk_roundtrip(priv, pub);
	/* a public key cannot sign; a public PEM is not a private key */
	{
		char sig[KAUTH_SIG_B64_MAX];

		CU_ASSERT_EQUAL(kauth_sign(pub, "1", "GET", "/", sig, sizeof(sig)), -1);
		CU_ASSERT_PTR_NULL(kauth_private_from_pem(pub_pem, strlen(pub_pem)));
	}
	kauth_key_free(priv);
	kauth_key_free(pub);
	OPENSSL_free(priv_pem);
	OPENSSL_free(pub_pem);
}

static void
test_pkcs1(void)
{
	char *priv_pem = tk_encode(tk_pkey, EVP_PKEY_KEYPAIR, "type-specific");
	char *pub_pem = tk_encode(tk_pkey, EVP_PKEY_PUBLIC_KEY, "type-specific");
	struct kauth_key *priv = NULL, *pub = NULL, *pub_from_priv = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(priv_pem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub_pem);
	CU_ASSERT(strstr(priv_pem, "BEGIN RSA PRIVATE KEY") != NULL);
	CU_ASSERT(strstr(pub_pem, "BEGIN RSA PUBLIC KEY") != NULL);
	priv = kauth_private_from_pem(priv_pem, strlen(priv_pem));
	pub = kauth_public_from_pem(pub_pem, strlen(pub_pem));
	pub_from_priv = kauth_public_from_pem(priv_pem, strlen(priv_pem));
	CU_ASSERT_PTR_NOT_NULL(priv);
	CU_ASSERT_PTR_NOT_NULL(pub);
	CU_ASSERT_PTR_NOT_NULL(pub_from_priv);
	if (priv != NULL && pub != NULL && pub_from_priv != NULL) {
		tk_roundtrip(priv, pub);
		tk_roundtrip(priv, pub_from_priv);
	}
	kauth_key_free(priv);
	kauth_key_free(pub);
	kauth_key_free(pub_from_priv);
	OPENSSL_free(priv_pem);
	OPENSSL_free(pub_pem);
}

static void
test_wrong_key_and_garbage(void)
{
	char *priv_pem = tk_encode(tk_pkey, EVP_PKEY_KEYPAIR, "PrivateKeyInfo");
	char *other_pem = tk_encode(tk_other, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
	struct kauth_key *priv = NULL, *other = NULL;
	EVP_PKEY *ec = NULL;
	char sig[KAUTH_SIG_B64_MAX];
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(priv_pem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other_pem);
	priv = kauth_private_from_pem(priv_pem, strlen(priv_pem));
	other = kauth_public_from_pem(other_pem, strlen(other_pem));
	CU_ASSERT_PTR_NOT_NULL_FATAL(priv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	n = kauth_sign(priv, "1", "GET", "/trade-api/ws/v2", sig, sizeof(sig));
	CU_ASSERT_EQUAL(n, 344);
	CU_ASSERT(!kauth_verify(other, "1", "GET", "/trade-api/ws/v2", sig, (size_t)n));
	/* a too small signature buffer */
	CU_ASSERT_EQUAL(kauth_sign(priv, "1", "GET", "/", sig, 100), -1);
	/* garbage and truncated PEM */
	CU_ASSERT_PTR_NULL(kauth_private_from_pem("hello", 5));
	CU_ASSERT_PTR_NULL(kauth_public_from_pem("", 0));
	CU_ASSERT_PTR_NULL(kauth_private_from_pem(priv_pem, strlen(priv_pem) / 2));
	CU_ASSERT_PTR_NULL(kauth_load_private("/nonexistent/kauth.pem"));
	/* an EC key is refused */
	ec = EVP_EC_gen("P-256");
	if (ec != NULL) {
		char *ec_pem = tk_encode(ec, EVP_PKEY_KEYPAIR, "PrivateKeyInfo");

		CU_ASSERT_PTR_NOT_NULL(ec_pem);
		if (ec_pem != NULL) {
			CU_ASSERT_PTR_NULL(kauth_private_from_pem(ec_pem, strlen(ec_pem)));
			CU_ASSERT_PTR_NULL(kauth_public_from_pem(ec_pem, strlen(ec_pem)));
		}
		OPENSSL_free(ec_pem);
		EVP_PKEY_free(ec);
	}
	kauth_key_free(priv);
	kauth_key_free(other);
	OPENSSL_free(priv_pem);
	OPENSSL_free(other_pem);
}

int
test_kauth_add(void)
{
	CU_pSuite s = CU_add_suite("kauth", tk_init, tk_clean);

	if (s == NULL)
		return -1;
	if (CU_add_test(s, "base64 vectors", test_b64_vectors) == NULL ||
	    CU_add_test(s, "base64 malformed", test_b64_malformed) == NULL ||
	    CU_add_test(s, "pkcs8 and spki", test_pkcs8_and_spki) == NULL ||
	    CU_add_test(s, "pkcs1", test_pkcs1) == NULL ||
	    CU_add_test(s, "wrong key and garbage", test_wrong_key_and_garbage) == NULL)
		return -1;
	return 0;
}
