/*
 * passwd: account passwords, hashed with argon2id (libsodium crypto_pwhash_str) at
 * PASSWD_OPSLIMIT passes over PASSWD_MEMLIMIT bytes: at least OWASP's m = 19 MiB, t = 2, p = 1.
 * A hash made with weaker parameters is replaced at the next successful login
 * (passwd_needs_rehash). Measured on the 2-core test machine: ~45 ms of CPU a hash.
 */
#ifndef KBOOK_PASSWD_H
#define KBOOK_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWD_OPSLIMIT 2
#define PASSWD_MEMLIMIT ((size_t)19 * 1024 * 1024)
#define PASSWD_HASH_MAX 128  /* crypto_pwhash_STRBYTES */
#define PASSWD_MIN_LEN 8
#define PASSWD_MAX_LEN 1024  /* bytes; longer is refused before hashing */

/* Why pw is not acceptable as a new password (a sentence for the client), or NULL when it is. */
const char *passwd_weak(const char *pw, const char *email);

/* Hashes pw into out (NUL-terminated). Returns 0, or -1 when out of memory. */
int passwd_hash(const char *pw, char out[PASSWD_HASH_MAX]);

/* True when pw matches hash. A NULL hash (no password) runs a verification against a fixed hash,
 * so that an unknown account costs the same time as a wrong password, and answers false. */
bool passwd_verify(const char *hash, const char *pw);

/* True when hash was made with other parameters than today's. */
bool passwd_needs_rehash(const char *hash);

#endif
