/*
 * token: the random secrets of web accounts (session ids, CSRF tokens, the links of mails):
 * an optional tag then 32 bytes of libsodium's CSPRNG in unpadded base64url (43 characters).
 * Stored only as their SHA-256 (apikey_hash_hex, the same hashing as API keys), except the CSRF
 * token, which is no credential on its own and is handed back to the session's owner.
 */
#ifndef KBOOK_TOKEN_H
#define KBOOK_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_RANDOM_LEN 43
#define TOKEN_SESSION_TAG "kb_sess_"
#define TOKEN_MAX 64

/* Writes tag + 43 random base64url characters into out. Returns 0 or -1. */
int token_new(const char *tag, char out[TOKEN_MAX]);

/* True when s is tag followed by exactly 43 base64url characters. */
bool token_well_formed(const char *s, const char *tag);

/* Compares two strings in time independent of where they differ (for CSRF tokens). */
bool token_equal(const char *a, const char *b);

#endif
