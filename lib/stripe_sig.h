/*
 * stripe_sig: Stripe's webhook signatures, signing (stripe-sim) and verifying (kbook's webhook
 * route), exactly as Stripe's official libraries do (shared/BILLING.md):
 *
 *   Stripe-Signature: t=<unix seconds>,v1=<64 lowercase hex>[,v1=<hex>...][,v0=<hex>]
 *   v1 = lowercase_hex(HMAC-SHA256(key = the whole secret "whsec_..." as bytes, t + "." + body))
 *
 * Verification splits the header on ',' and each element at its first '=', trims nothing,
 * ignores unknown keys and v0, accepts when any v1 equals the HMAC under any of the secrets
 * (rotation), compared in constant time, and refuses a timestamp more than the tolerance in the
 * past (future timestamps are accepted, as the libraries do). Nothing here allocates.
 */
#ifndef KBOOK_STRIPE_SIG_H
#define KBOOK_STRIPE_SIG_H

#include <stddef.h>
#include <stdint.h>

/* Stripe's default tolerance, seconds. */
#define STRIPE_SIG_TOLERANCE 300
/* Room for "t=<20 digits>,v1=<64 hex>" and its NUL. */
#define STRIPE_SIG_HEADER_MAX 96

enum stripe_sig_result {
	STRIPE_SIG_OK = 0,
	STRIPE_SIG_NO_TIMESTAMP,   /* no t=, two of them, or not decimal digits */
	STRIPE_SIG_NO_SIGNATURE,   /* no v1= element */
	STRIPE_SIG_TOO_OLD,        /* now - t > tolerance */
	STRIPE_SIG_MISMATCH,       /* no v1 matches any secret */
	STRIPE_SIG_NO_SECRET,      /* no secret configured */
};

/*
 * Writes the lowercase hex v1 of body under secret at timestamp ts (its decimal text, ts_len
 * bytes, used as received) into hex (65 bytes, NUL-terminated). Returns 0, or -1 when OpenSSL
 * fails.
 */
int stripe_sig_v1(const char *secret, const char *ts, size_t ts_len, const void *body,
    size_t body_len, char hex[65]);

/*
 * Writes the whole header value "t=<t>,v1=<hex>" for body signed at t into out (cap bytes, at
 * least STRIPE_SIG_HEADER_MAX). Returns its length, or -1.
 */
int stripe_sig_header(const char *secret, int64_t t, const void *body, size_t body_len,
    char *out, size_t cap);

/*
 * Verifies a Stripe-Signature header value (header_len bytes, not NUL-terminated necessarily)
 * for body against n_secrets secrets at instant now (unix seconds) with tolerance seconds.
 * Returns STRIPE_SIG_OK or the first reason it failed.
 */
enum stripe_sig_result stripe_sig_verify(const char *header, size_t header_len, const void *body,
    size_t body_len, const char *const *secrets, size_t n_secrets, int64_t now, int64_t tolerance);

/* A short stable reason for r, e.g. "timestamp outside the tolerance". */
const char *stripe_sig_strerror(enum stripe_sig_result r);

#endif
