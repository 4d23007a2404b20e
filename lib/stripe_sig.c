/*
 * stripe_sig: HMAC-SHA256 webhook signatures in Stripe's format (see stripe_sig.h). The parser
 * walks the header in place: no copies, no allocation, so a hostile header of any length costs
 * one pass plus one HMAC per secret (the HMACs are computed once, before the v1 elements are
 * compared, so the work does not depend on how many v1 elements an attacker sends beyond the
 * comparisons themselves).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "stripe_sig.h"

/* More secrets than this at once is a configuration error, not rotation. */
#define SIG_MAX_SECRETS 8
/* 19 digits hold every positive int64. */
#define SIG_MAX_TS_DIGITS 19

int
stripe_sig_v1(const char *secret, const char *ts, size_t ts_len, const void *body,
    size_t body_len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	static char sha256[] = "SHA256";
	unsigned char mac[EVP_MAX_MD_SIZE];
	EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = alg != NULL ? EVP_MAC_CTX_new(alg) : NULL;
	OSSL_PARAM params[2];
	size_t mac_len = 0;
	int ret = -1;

	/* EVP_MAC rather than one-shot HMAC(): the "t." prefix goes in without copying the body */
	params[0] = OSSL_PARAM_construct_utf8_string("digest", sha256, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx == NULL ||
	    EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)ts, ts_len) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)".", 1) != 1 ||
	    EVP_MAC_update(ctx, body, body_len) != 1 ||
	    EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) != 1 || mac_len != 32)
		goto out;
	for (size_t i = 0; i < mac_len; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 15];
	}
	hex[64] = '\0';
	ret = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(alg);
	return ret;
}

int
stripe_sig_header(const char *secret, int64_t t, const void *body, size_t body_len, char *out,
    size_t cap)
{
	char ts[24], hex[65];
	int n = snprintf(ts, sizeof(ts), "%lld", (long long)t);

	if (n < 0 || (size_t)n >= sizeof(ts) || stripe_sig_v1(secret, ts, (size_t)n, body, body_len,
	    hex) < 0)
		return -1;
	n = snprintf(out, cap, "t=%s,v1=%s", ts, hex);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

enum stripe_sig_result
stripe_sig_verify(const char *header, size_t header_len, const void *body, size_t body_len,
    const char *const *secrets, size_t n_secrets, int64_t now, int64_t tolerance)
{
	char expect[SIG_MAX_SECRETS][65];
	const char *p = header, *end = header + header_len, *ts = NULL;
	size_t ts_len = 0, n_v1 = 0;
	int64_t t = 0;
	bool two_ts = false;
	int matched = 0;

	if (n_secrets == 0 || secrets == NULL)
		return STRIPE_SIG_NO_SECRET;
	if (n_secrets > SIG_MAX_SECRETS)
		n_secrets = SIG_MAX_SECRETS;
	/* first pass: the timestamp and whether any v1 is present */
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p)), *eq;
		const char *e_end = comma != NULL ? comma : end;

		eq = memchr(p, '=', (size_t)(e_end - p));
		if (eq != NULL) {
			size_t klen = (size_t)(eq - p);

			if (klen == 1 && p[0] == 't') {
				if (ts != NULL)
					two_ts = true;
				ts = eq + 1;
				ts_len = (size_t)(e_end - ts);
			} else if (klen == 2 && p[0] == 'v' && p[1] == '1') {
				n_v1++;
			}
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (ts == NULL || two_ts || ts_len == 0 || ts_len > SIG_MAX_TS_DIGITS)
		return STRIPE_SIG_NO_TIMESTAMP;
	for (size_t i = 0; i < ts_len; i++) {
		if (ts[i] < '0' || ts[i] > '9')
			return STRIPE_SIG_NO_TIMESTAMP;
		t = t * 10 + (ts[i] - '0');
	}
	if (n_v1 == 0)
		return STRIPE_SIG_NO_SIGNATURE;
	for (size_t s = 0; s < n_secrets; s++)
		if (secrets[s] == NULL ||
		    stripe_sig_v1(secrets[s], ts, ts_len, body, body_len, expect[s]) < 0)
			expect[s][0] = '\0';
	/* second pass: every v1 against every secret, each comparison in constant time */
	for (p = header; p <= end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e_end = comma != NULL ? comma : end;

		if (e_end - p == 3 + 64 && p[0] == 'v' && p[1] == '1' && p[2] == '=')
			for (size_t s = 0; s < n_secrets; s++)
				if (expect[s][0] != '\0' && CRYPTO_memcmp(p + 3, expect[s], 64) == 0)
					matched = 1;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (!matched)
		return STRIPE_SIG_MISMATCH;
	/* the timestamp is checked after the signature, as the libraries do */
	if (tolerance > 0 && now - t > tolerance)
		return STRIPE_SIG_TOO_OLD;
	return STRIPE_SIG_OK;
}

const char *
stripe_sig_strerror(enum stripe_sig_result r)
{
	switch (r) {
	case STRIPE_SIG_OK:
		return "ok";
	case STRIPE_SIG_NO_TIMESTAMP:
		return "no valid timestamp in the signature header";
	case STRIPE_SIG_NO_SIGNATURE:
		return "no v1 signature in the signature header";
	case STRIPE_SIG_TOO_OLD:
		return "timestamp outside the tolerance";
	case STRIPE_SIG_MISMATCH:
		return "no signature matches the payload";
	case STRIPE_SIG_NO_SECRET:
		return "no webhook secret configured";
	}
	return "unknown";
}
