/*
 * Tests for lib/utf8: what the API lets through to Postgres. Valid text of every sequence length
 * passes; truncated sequences, stray continuation bytes, overlong forms, UTF-16 surrogates and
 * code points past U+10FFFF do not (each of them made Postgres refuse the query, answered 503).
 */
#include <CUnit/CUnit.h>

#include "tests.h"
#include "utf8.h"

static void
test_valid(void)
{
	CU_ASSERT_TRUE(utf8_valid(""));
	CU_ASSERT_TRUE(utf8_valid("KXT-A"));
	CU_ASSERT_TRUE(utf8_valid("caf\xc3\xa9"));               /* U+00E9 */
	CU_ASSERT_TRUE(utf8_valid("\xe2\x82\xac"));              /* U+20AC */
	CU_ASSERT_TRUE(utf8_valid("\xf0\x9f\x98\x80"));          /* U+1F600 */
	CU_ASSERT_TRUE(utf8_valid("\xf4\x8f\xbf\xbf"));          /* U+10FFFF, the last */
	CU_ASSERT_TRUE(utf8_valid("\xed\x9f\xbf"));              /* U+D7FF, before the surrogates */
	CU_ASSERT_EQUAL(utf8_len((const unsigned char *)"\xe2\x82\xac"), 3);
}

static void
test_invalid(void)
{
	CU_ASSERT_FALSE(utf8_valid("\xff"));
	CU_ASSERT_FALSE(utf8_valid("ab\xc3"));                   /* truncated at the end */
	CU_ASSERT_FALSE(utf8_valid("\xe2\x82"));
	CU_ASSERT_FALSE(utf8_valid("\xf0\x9f\x98"));
	CU_ASSERT_FALSE(utf8_valid("\x80"));                     /* a stray continuation */
	CU_ASSERT_FALSE(utf8_valid("\xc3\x28"));                 /* not followed by a continuation */
	CU_ASSERT_FALSE(utf8_valid("\xc0\xaf"));                 /* overlong '/' */
	CU_ASSERT_FALSE(utf8_valid("\xe0\x80\xaf"));
	CU_ASSERT_FALSE(utf8_valid("\xf0\x80\x80\xaf"));
	CU_ASSERT_FALSE(utf8_valid("\xed\xa0\x80"));             /* U+D800, a surrogate */
	CU_ASSERT_FALSE(utf8_valid("\xf4\x90\x80\x80"));         /* U+110000 */
	CU_ASSERT_FALSE(utf8_valid("\xf5\x80\x80\x80"));
	CU_ASSERT_FALSE(utf8_valid("KXT\xe9"));                  /* Latin-1 */
}

int
test_utf8_add(void)
{
	CU_pSuite s = CU_add_suite("utf8", NULL, NULL);

	if (s == NULL || CU_add_test(s, "valid", test_valid) == NULL ||
	    CU_add_test(s, "invalid", test_invalid) == NULL)
		return -1;
	return 0;
}
