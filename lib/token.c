/*
 * token: random secrets for sessions, CSRF and mail links (see token.h).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "token.h"

int
token_new(const char *tag, char out[TOKEN_MAX])
{
	unsigned char r[32];
	size_t taglen = strlen(tag);

	if (sodium_init() < 0 || taglen + TOKEN_RANDOM_LEN + 1 > TOKEN_MAX)
		return -1;
	randombytes_buf(r, sizeof(r));
	/* the tag, then the base64 text with its NUL */
	snprintf(out, TOKEN_MAX, "%s", tag);
	sodium_bin2base64(out + taglen, TOKEN_MAX - taglen, r, sizeof(r),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(r, sizeof(r));
	return 0;
}

bool
token_well_formed(const char *s, const char *tag)
{
	static const char b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t taglen = strlen(tag);

	if (strlen(s) != taglen + TOKEN_RANDOM_LEN || strncmp(s, tag, taglen) != 0)
		return false;
	return strspn(s + taglen, b64url) == TOKEN_RANDOM_LEN;
}

bool
token_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (n != strlen(b) || n == 0)
		return false;
	return sodium_memcmp(a, b, n) == 0;
}
