/*
 * apikey: generation, shape check and hashing of API keys (see apikey.h).
 */
#include <string.h>

#include <sodium.h>

#include "apikey.h"

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int
apikey_generate(char out[APIKEY_LEN + 1])
{
	size_t taglen = sizeof(APIKEY_TAG) - 1;

	if (sodium_init() < 0)
		return -1;
	memcpy(out, APIKEY_TAG, taglen);
	for (size_t i = 0; i < APIKEY_RANDOM_LEN; i++)
		out[taglen + i] = base62[randombytes_uniform(62)];
	out[APIKEY_LEN] = '\0';
	return 0;
}

bool
apikey_well_formed(const char *s)
{
	size_t taglen = sizeof(APIKEY_TAG) - 1;

	if (strlen(s) != APIKEY_LEN || strncmp(s, APIKEY_TAG, taglen) != 0)
		return false;
	return strspn(s + taglen, base62) == APIKEY_RANDOM_LEN;
}

void
apikey_hash(const char *key, uint8_t out[APIKEY_HASH_LEN])
{
	/* SHA-256 needs no initialisation; sodium_init only picks faster code when it can */
	int rc = sodium_init();

	(void)rc;
	crypto_hash_sha256(out, (const unsigned char *)key, strlen(key));
}

void
apikey_hash_hex(const char *key, char out[2 + 2 * APIKEY_HASH_LEN + 1])
{
	uint8_t h[APIKEY_HASH_LEN];

	apikey_hash(key, h);
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, 2 * APIKEY_HASH_LEN + 1, h, sizeof(h));
}
