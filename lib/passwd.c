/*
 * passwd: argon2id hashing and the new-password rules (see passwd.h).
 */
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "passwd.h"

/* The most common passwords of at least 8 characters (the NCSC and SecLists top lists). */
static const char *const common[] = {
	"password", "password1", "password123", "12345678", "123456789", "1234567890", "qwertyui",
	"qwerty123", "qwertyuiop", "11111111", "00000000", "iloveyou", "sunshine", "princess",
	"football", "baseball", "welcome1", "letmein1", "abc12345", "trustno1", "1q2w3e4r",
	"passw0rd", "superman", "starwars", "whatever", "asdfghjk", "zaq12wsx", "kalshi123",
};

const char *
passwd_weak(const char *pw, const char *email)
{
	size_t n = strlen(pw), distinct = 0;
	bool seen[256] = { false };

	if (n < PASSWD_MIN_LEN)
		return "the password must have at least 8 characters";
	if (n > PASSWD_MAX_LEN)
		return "the password must have at most 1024 bytes";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pw[i];

		if (c < 0x20 || c == 0x7f)
			return "the password must not contain control characters";
		if (!seen[c]) {
			seen[c] = true;
			distinct++;
		}
	}
	if (distinct < 4)
		return "the password must use at least 4 different characters";
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (strcasecmp(pw, common[i]) == 0)
			return "the password is one of the most common passwords";
	if (email != NULL && strcasecmp(pw, email) == 0)
		return "the password must not be the email address";
	return NULL;
}

int
passwd_hash(const char *pw, char out[PASSWD_HASH_MAX])
{
	if (sodium_init() < 0)
		return -1;
	return crypto_pwhash_str_alg(out, pw, strlen(pw), PASSWD_OPSLIMIT, PASSWD_MEMLIMIT,
	    crypto_pwhash_ALG_ARGON2ID13);
}

bool
passwd_verify(const char *hash, const char *pw)
{
	/* a hash made with today's parameters of a string no account uses */
	static const char dummy[PASSWD_HASH_MAX] = "$argon2id$v=19$m=19456,t=2,p=1$"
	    "oK2odNSxqFWfMAdOgK40rQ$uv7Gtn2HnoTb35wzrpSULcXSxLw8xiRKdiRYxvwa/tM";

	if (sodium_init() < 0)
		return false;
	if (hash == NULL) {
		int rc = crypto_pwhash_str_verify(dummy, pw, strlen(pw));

		(void)rc;
		return false;
	}
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

bool
passwd_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, PASSWD_OPSLIMIT, PASSWD_MEMLIMIT) != 0;
}
