/*
 * Unit tests of lib/sbuf: growth across many appends, printf past the first allocation, JSON
 * and HTML escaping, and appending nothing from a NULL pointer (what libwebsockets hands over
 * as an empty body chunk; UBSan caught memcpy(dst, NULL, 0) there in stripe-sim).
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "sbuf.h"
#include "tests.h"

static void
test_grow(void)
{
	struct sbuf b = { 0 };

	for (int i = 0; i < 5000; i++)
		sbuf_add(&b, "ab", 2);
	CU_ASSERT_EQUAL(b.len, 10000);
	CU_ASSERT_FALSE(b.failed);
	CU_ASSERT_EQUAL(b.p[b.len], '\0');
	sbuf_reset(&b);
	CU_ASSERT_EQUAL(b.len, 0);
	sbuf_printf(&b, "%0*d", 3000, 7);
	CU_ASSERT_EQUAL(b.len, 3000);
	CU_ASSERT_EQUAL(b.p[2999], '7');
	sbuf_free(&b);
}

static void
test_nothing(void)
{
	struct sbuf b = { 0 };

	sbuf_add(&b, NULL, 0);
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_FALSE(b.failed);
	sbuf_add(&b, "x", 1);
	sbuf_add(&b, NULL, 0);
	CU_ASSERT_STRING_EQUAL(b.p, "x");
	sbuf_free(&b);
}

static void
test_escape(void)
{
	struct sbuf b = { 0 };

	sbuf_json_str(&b, "a\"b\\c\n");
	CU_ASSERT_STRING_EQUAL(b.p, "\"a\\\"b\\\\c\\n\"");
	sbuf_reset(&b);
	sbuf_html_str(&b, "<a href=\"x\">'&'</a>");
	CU_ASSERT_STRING_EQUAL(b.p, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
	sbuf_free(&b);
}

/* Room written by hand, and a failure that sticks: later appends do nothing, the text is NULL. */
static void
test_room_and_failure(void)
{
	struct sbuf b = { 0 };
	const char *t;

	t = sbuf_text(&b);
	CU_ASSERT_STRING_EQUAL(t, "");
	for (int i = 0; i < 1000; i++) {
		char *p = sbuf_room(&b, 160);

		CU_ASSERT_PTR_NOT_NULL(p);
		if (p == NULL)
			break;
		*p++ = 'x';
		*p++ = '\n';
		sbuf_used(&b, p);
	}
	CU_ASSERT_EQUAL(b.len, 2000);
	CU_ASSERT_EQUAL(b.p[b.len], '\0');
	t = sbuf_text(&b);
	CU_ASSERT_PTR_NOT_NULL(t);
	b.failed = true; /* as an allocation failure leaves it */
	sbuf_str(&b, "more");
	CU_ASSERT_PTR_NULL(sbuf_room(&b, 10));
	CU_ASSERT_EQUAL(b.len, 2000);
	t = sbuf_text(&b);
	CU_ASSERT_PTR_NULL(t);
	sbuf_reset(&b);
	t = sbuf_text(&b);
	CU_ASSERT_STRING_EQUAL(t, "");
	sbuf_free(&b);
}

int
test_sbuf_add(void)
{
	CU_pSuite s = CU_add_suite("sbuf", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "growth and printf", test_grow) == NULL ||
	    CU_add_test(s, "appending nothing from NULL", test_nothing) == NULL ||
	    CU_add_test(s, "JSON and HTML escaping", test_escape) == NULL ||
	    CU_add_test(s, "hand-written room; a failure sticks", test_room_and_failure) == NULL)
		return -1;
	return 0;
}
