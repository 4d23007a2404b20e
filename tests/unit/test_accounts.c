/*
 * Tests of the account modules of lib/: httpval (email addresses, Cookie headers), passwd
 * (argon2id hashing, verification, rehash of weaker hashes, the new-password rules) and token
 * (shape, randomness, constant-time comparison).
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "httpval.h"
#include "passwd.h"
#include "tests.h"
#include "token.h"

static void
test_email(void)
{
	static const char *const good[][2] = {
		{ "a@example.com", "a@example.com" },
		{ "  Alice.B+tag@Example.COM\t", "alice.b+tag@example.com" },
		{ "x_y-z@sub.domain-1.example.org", "x_y-z@sub.domain-1.example.org" },
		{ "o'neil@example.ie", "o'neil@example.ie" },
	};
	static const char *const bad[] = {
		"", " ", "plain", "@example.com", "x@", "x@localhost", "x@exa mple.com", "x y@example.com",
		"x@example..com", "x@.example.com", "x@example.com.", "x@-example.com", "x@example-.com",
		"x@@example.com", "a@b@example.com", "x@exam_ple.com", "\"x\"@example.com",
		"x(comment)@example.com", "x@example.com\r\nBcc: y@example.com", "\xc3\xa9@example.com",
		"x@\xc3\xa9xample.com", "x@[127.0.0.1]", "x;y@example.com",
	};
	char out[EMAIL_MAX + 1], buf[400], as[100], ds[100];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(email_normalize(good[i][0], out), 0);
		CU_ASSERT_STRING_EQUAL(out, good[i][1]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(email_normalize(bad[i], out), -1);
	/* 64 bytes of local part pass, 65 do not; labels of 63 pass, 64 do not; 254 bytes in all */
	memset(as, 'a', sizeof(as));
	memset(ds, 'd', sizeof(ds));
	snprintf(buf, sizeof(buf), "%.*s@example.com", 64, as);
	CU_ASSERT_EQUAL(email_normalize(buf, out), 0);
	snprintf(buf, sizeof(buf), "%.*s@example.com", 65, as);
	CU_ASSERT_EQUAL(email_normalize(buf, out), -1);
	snprintf(buf, sizeof(buf), "x@%.*s.com", 63, ds);
	CU_ASSERT_EQUAL(email_normalize(buf, out), 0);
	snprintf(buf, sizeof(buf), "x@%.*s.com", 64, ds);
	CU_ASSERT_EQUAL(email_normalize(buf, out), -1);
	/* 255 bytes: over the limit even when every label is fine; 254 pass */
	snprintf(buf, sizeof(buf), "x@%.*s.%.*s.%.*s.%.*s.com", 63, ds, 63, ds, 63, ds, 57, ds);
	CU_ASSERT_EQUAL(strlen(buf), 255);
	CU_ASSERT_EQUAL(email_normalize(buf, out), -1);
	snprintf(buf, sizeof(buf), "x@%.*s.%.*s.%.*s.%.*s.com", 63, ds, 63, ds, 63, ds, 56, ds);
	CU_ASSERT_EQUAL(strlen(buf), EMAIL_MAX);
	CU_ASSERT_EQUAL(email_normalize(buf, out), 0);
}

static void
test_cookie(void)
{
	char v[16];

	CU_ASSERT_EQUAL(cookie_get("a=1; sid=abc; b=2", "sid", v, sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "abc");
	CU_ASSERT_EQUAL(cookie_get("sid=first; sid=second", "sid", v, sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "first");
	CU_ASSERT_EQUAL(cookie_get("xsid=1; sidx=2", "sid", v, sizeof(v)), 0);
	CU_ASSERT_EQUAL(cookie_get("a=1;sid=tight", "sid", v, sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "tight");
	CU_ASSERT_EQUAL(cookie_get("sid=", "sid", v, sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "");
	CU_ASSERT_EQUAL(cookie_get("", "sid", v, sizeof(v)), 0);
	CU_ASSERT_EQUAL(cookie_get(";;; ;", "sid", v, sizeof(v)), 0);
	CU_ASSERT_EQUAL(cookie_get("sid", "sid", v, sizeof(v)), 0);
	CU_ASSERT_EQUAL(cookie_get("sid=0123456789abcdef", "sid", v, sizeof(v)), -1);
	CU_ASSERT_EQUAL(cookie_get("sid=0123456789abcde", "sid", v, sizeof(v)), 1);
}

static void
test_passwd(void)
{
	char h[PASSWD_HASH_MAX], weak[PASSWD_HASH_MAX], big[1100];

	CU_ASSERT_EQUAL_FATAL(passwd_hash("correct horse battery", h), 0);
	CU_ASSERT_TRUE(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	CU_ASSERT_TRUE(passwd_verify(h, "correct horse battery"));
	CU_ASSERT_FALSE(passwd_verify(h, "correct horse batterY"));
	CU_ASSERT_FALSE(passwd_verify(h, ""));
	CU_ASSERT_FALSE(passwd_verify(NULL, "correct horse battery"));
	CU_ASSERT_FALSE(passwd_needs_rehash(h));
	/* a hash of weaker parameters verifies and asks to be redone */
	CU_ASSERT_EQUAL_FATAL(crypto_pwhash_str_alg(weak, "old password 1", 14, 1, (size_t)8 * 1024 * 1024,
	    crypto_pwhash_ALG_ARGON2ID13), 0);
	CU_ASSERT_TRUE(passwd_verify(weak, "old password 1"));
	CU_ASSERT_TRUE(passwd_needs_rehash(weak));
	/* rules */
	CU_ASSERT_PTR_NULL(passwd_weak("correct horse battery", "a@example.com"));
	CU_ASSERT_PTR_NOT_NULL(passwd_weak("Ab1!xyz", NULL));
	CU_ASSERT_PTR_NULL(passwd_weak("Ab1!xyzw", NULL));
	CU_ASSERT_PTR_NOT_NULL(passwd_weak("PASSWORD123", NULL));
	CU_ASSERT_PTR_NOT_NULL(passwd_weak("abcabcabcabc", NULL));
	CU_ASSERT_PTR_NOT_NULL(passwd_weak("tab\there-is-bad", NULL));
	CU_ASSERT_PTR_NOT_NULL(passwd_weak("Me@Example.com", "me@example.com"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = 'b';
	big[1] = 'c';
	big[2] = 'd';
	CU_ASSERT_PTR_NOT_NULL(passwd_weak(big, NULL));
	big[PASSWD_MAX_LEN] = '\0';
	CU_ASSERT_PTR_NULL(passwd_weak(big, NULL));
}

static void
test_token(void)
{
	char a[TOKEN_MAX], b[TOKEN_MAX];

	CU_ASSERT_EQUAL_FATAL(token_new(TOKEN_SESSION_TAG, a), 0);
	CU_ASSERT_EQUAL_FATAL(token_new(TOKEN_SESSION_TAG, b), 0);
	CU_ASSERT_EQUAL(strlen(a), strlen(TOKEN_SESSION_TAG) + TOKEN_RANDOM_LEN);
	CU_ASSERT_TRUE(token_well_formed(a, TOKEN_SESSION_TAG));
	CU_ASSERT_FALSE(token_well_formed(a, ""));
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	CU_ASSERT_TRUE(token_equal(a, a));
	CU_ASSERT_FALSE(token_equal(a, b));
	CU_ASSERT_FALSE(token_equal("", ""));
	CU_ASSERT_FALSE(token_equal("abc", "abcd"));
	CU_ASSERT_TRUE(token_well_formed("kb_sess_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "kb_sess_"));
	CU_ASSERT_FALSE(token_well_formed("kb_sess_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "kb_sess_"));
	CU_ASSERT_FALSE(token_well_formed("kb_sess_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "kb_sess_"));
	CU_ASSERT_FALSE(token_well_formed("kb_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "kb_sess_"));
}

int
test_accounts_add(void)
{
	CU_pSuite s = CU_add_suite("accounts", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "email addresses: normalised, malformed refused", test_email) == NULL ||
	    CU_add_test(s, "one cookie of a Cookie header", test_cookie) == NULL ||
	    CU_add_test(s, "argon2id hash, verify, rehash, rules", test_passwd) == NULL ||
	    CU_add_test(s, "tokens: shape, distinct, compared", test_token) == NULL)
		return -1;
	return 0;
}
