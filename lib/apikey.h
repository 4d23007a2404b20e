/*
 * apikey: kbook API keys. A key is "kb_live_" followed by 32 base62 characters from the
 * system's CSPRNG (libsodium); it is shown once and stored only as its SHA-256 and its display
 * prefix (the first APIKEY_PREFIX_LEN characters).
 */
#ifndef KBOOK_APIKEY_H
#define KBOOK_APIKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APIKEY_TAG "kb_live_"
#define APIKEY_RANDOM_LEN 32
#define APIKEY_LEN (sizeof(APIKEY_TAG) - 1 + APIKEY_RANDOM_LEN)
#define APIKEY_PREFIX_LEN 16
#define APIKEY_HASH_LEN 32

/* Writes a new random key (NUL-terminated) into out. Returns 0, or -1 if libsodium fails to init. */
int apikey_generate(char out[APIKEY_LEN + 1]);

/* True when s has the shape of a key (tag and base62 tail of the right length). */
bool apikey_well_formed(const char *s);

/* SHA-256 of the key's bytes. */
void apikey_hash(const char *key, uint8_t out[APIKEY_HASH_LEN]);

/* The hash as 64 lowercase hex characters plus NUL, for bytea parameters ("\\x..." form added). */
void apikey_hash_hex(const char *key, char out[2 + 2 * APIKEY_HASH_LEN + 1]);

#endif
