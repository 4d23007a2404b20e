/*
 * Tests for lib/backoff: the first wait, the doubling, the cap, and no overflow however many
 * attempts a row has had.
 */
#include <stdint.h>

#include <CUnit/CUnit.h>

#include "backoff.h"
#include "tests.h"

static void
test_wait(void)
{
	/* kbook-mailer's: 5 s doubling to a 3600 s maximum */
	CU_ASSERT_EQUAL(backoff_wait(0, 5, 3600), 5);
	CU_ASSERT_EQUAL(backoff_wait(1, 5, 3600), 5);
	CU_ASSERT_EQUAL(backoff_wait(2, 5, 3600), 10);
	CU_ASSERT_EQUAL(backoff_wait(3, 5, 3600), 20);
	CU_ASSERT_EQUAL(backoff_wait(10, 5, 3600), 2560);
	CU_ASSERT_EQUAL(backoff_wait(11, 5, 3600), 3600);
	/* the cap holds at any count: the doubling stops there, so it cannot overflow */
	CU_ASSERT_EQUAL(backoff_wait(INT32_MAX, 1, 300), 300);
	/* a maximum below the first wait wins */
	CU_ASSERT_EQUAL(backoff_wait(1, 5, 2), 2);
}

int
test_backoff_add(void)
{
	CU_pSuite s = CU_add_suite("backoff", NULL, NULL);

	if (s == NULL || CU_add_test(s, "doubling to a cap", test_wait) == NULL)
		return -1;
	return 0;
}
