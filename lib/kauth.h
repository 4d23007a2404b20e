/*
 * kauth: Kalshi request signing and verification (KALSHI.md section 2).
 *
 * A request is signed by RSA-PSS (SHA-256, MGF1 SHA-256, salt length 32) over the string
 * timestamp_ms + METHOD + path, and the signature travels as standard padded base64. The collector
 * signs with a private key; the simulator verifies with the public half. PSS is randomized, so a
 * verifier always verifies and never compares signature strings. Keys are read from PEM: private
 * keys as PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"), public keys as SubjectPublicKeyInfo
 * ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY"). Only RSA keys are accepted.
 */
#ifndef KBOOK_KAUTH_H
#define KBOOK_KAUTH_H

#include <stdbool.h>
#include <stddef.h>

struct kauth_key; /* opaque: an RSA key (private or public) */

/* Base64 of a 4096-bit signature is 684 characters; this holds any RSA key up to 8192 bits. */
#define KAUTH_SIG_B64_MAX 1400

/*
 * Loads a key from PEM text (len bytes, need not be NUL-terminated) or from a PEM file.
 * kauth_load_private accepts PKCS#1 and PKCS#8 private keys; kauth_load_public accepts public keys
 * in SPKI or PKCS#1 form and also a private key file, whose public half it keeps.
 * Returns NULL (and logs why) on any failure, including non-RSA keys. Caller frees with
 * kauth_key_free.
 */
struct kauth_key *kauth_private_from_pem(const char *pem, size_t len);
struct kauth_key *kauth_public_from_pem(const char *pem, size_t len);
struct kauth_key *kauth_load_private(const char *path);
struct kauth_key *kauth_load_public(const char *path);
void kauth_key_free(struct kauth_key *key);

/* Size of the key's modulus in bits, 0 when unknown. */
int kauth_key_bits(const struct kauth_key *key);

/*
 * Signs ts + method + path (each a NUL-terminated string, concatenated with no separator) and
 * writes the base64 signature, NUL-terminated, into out (cap bytes; KAUTH_SIG_B64_MAX is enough).
 * Returns the signature's length, or -1 on failure (no private key, out too small, OpenSSL error).
 */
int kauth_sign(const struct kauth_key *key, const char *ts, const char *method, const char *path,
    char *out, size_t cap);

/*
 * True when sig_b64 (sig_len bytes, strict padded base64) is a valid RSA-PSS signature of
 * ts + method + path under key. Any malformed input gives false; nothing is logged.
 */
bool kauth_verify(const struct kauth_key *key, const char *ts, const char *method, const char *path,
    const char *sig_b64, size_t sig_len);

/*
 * Standard base64 with padding. kauth_b64_encode writes 4 * ceil(len / 3) characters and a NUL
 * into out; returns that length, or 0 when cap is too small (out then holds "").
 * kauth_b64_decode accepts only canonical padded base64 (length a multiple of 4, no whitespace,
 * zero bits after the last symbol) and returns the decoded length, or -1 when the input is
 * malformed or the result does not fit cap.
 */
size_t kauth_b64_encode(const unsigned char *in, size_t len, char *out, size_t cap);
long kauth_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap);

#endif
