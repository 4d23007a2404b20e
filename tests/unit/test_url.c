/*
 * Tests of lib/url.c: the pairs of a query string in order, escapes and '+', empty segments, and
 * the malformed inputs (a nameless pair, a cut or non-hex escape, an encoded NUL).
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests.h"
#include "url.h"

static void
test_pairs(void)
{
	const char *p = "&a=1&&q=hello+w%6Frld%21&flag&e=&t=A%2CB&";
	static const char *const want[][2] = {
		{ "a", "1" }, { "q", "hello world!" }, { "flag", "" }, { "e", "" }, { "t", "A,B" },
	};
	char *name, *value;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(url_form_next(&p, &name, &value), URL_PAIR);
		CU_ASSERT_STRING_EQUAL(name, want[i][0]);
		CU_ASSERT_STRING_EQUAL(value, want[i][1]);
		free(name);
		free(value);
	}
	CU_ASSERT_EQUAL(url_form_next(&p, &name, &value), URL_END);
	CU_ASSERT_EQUAL(url_form_next(&p, &name, &value), URL_END);
	p = NULL;
	CU_ASSERT_EQUAL(url_form_next(&p, &name, &value), URL_END);
	p = "";
	CU_ASSERT_EQUAL(url_form_next(&p, &name, &value), URL_END);
}

static void
test_malformed(void)
{
	static const struct {
		const char *in;
		enum url_next rc;
	} bad[] = {
		{ "=x", URL_ERR_NAME }, { "a=1&=2", URL_ERR_NAME }, { "a=%", URL_ERR_ESCAPE },
		{ "a=%4", URL_ERR_ESCAPE }, { "a=%4g", URL_ERR_ESCAPE }, { "a=%00", URL_ERR_ESCAPE },
		{ "%zz=1", URL_ERR_ESCAPE }, { "a%=1", URL_ERR_ESCAPE },
	};
	char *name, *value, *d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = bad[i].in;
		enum url_next rc;

		while ((rc = url_form_next(&p, &name, &value)) == URL_PAIR) {
			free(name);
			free(value);
		}
		CU_ASSERT_EQUAL(rc, bad[i].rc);
		CU_ASSERT_PTR_NULL(name);
		CU_ASSERT_PTR_NULL(value);
	}
	CU_ASSERT_PTR_NULL(url_decode("%4", 2));
	/* the length is honoured: an escape cut by it is malformed, bytes after it unread */
	CU_ASSERT_PTR_NULL(url_decode("a%41", 3));
	d = url_decode("a%41zz", 4);
	CU_ASSERT_STRING_EQUAL(d, "aA");
	free(d);
}

int
test_url_add(void)
{
	CU_pSuite s = CU_add_suite("url", NULL, NULL);

	if (s == NULL || CU_add_test(s, "pairs", test_pairs) == NULL ||
	    CU_add_test(s, "malformed", test_malformed) == NULL)
		return -1;
	return 0;
}
