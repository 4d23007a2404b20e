/*
 * Tests for lib/checkpoint: Postgres array text into a book, and the malformed forms refused.
 */
#include <CUnit/CUnit.h>

#include "checkpoint.h"
#include "tests.h"

static void
test_load(void)
{
	struct book *b = book_new(1000000);
	struct book_level lv;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(checkpoint_load(b, "{450000,460000}", "{1000,250}", "{500000}", "{3300}"), 0);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 2);
	CU_ASSERT_TRUE(book_best_bid(b, BOOK_YES, &lv));
	CU_ASSERT_EQUAL(lv.price, 460000);
	CU_ASSERT_EQUAL(lv.size, 250);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_NO, 500000), 3300);
	/* empty sides, and a reload replaces everything */
	CU_ASSERT_EQUAL(checkpoint_load(b, "{}", "{}", "{10000}", "{1}"), 0);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 0);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_NO), 1);
	book_free(b);
}

static void
test_malformed(void)
{
	static const char *const bad[][4] = {
		{ "", "{}", "{}", "{}" }, { "{", "{}", "{}", "{}" }, { "{1,2}", "{1}", "{}", "{}" },
		{ "{1}", "{1,2}", "{}", "{}" }, { "{1,,2}", "{1,1,1}", "{}", "{}" },
		{ "{a}", "{1}", "{}", "{}" }, { "{1}x", "{1}", "{}", "{}" }, { "1,2", "1,2", "{}", "{}" },
		{ "{1}", "{0}", "{}", "{}" },            /* a level with no size */
		{ "{2000000}", "{1}", "{}", "{}" },      /* a price above the notional */
		{ "{1,1}", "{1,1}", "{}", "{}" },        /* the same price twice */
		{ "{NULL}", "{1}", "{}", "{}" },
	};
	struct book *b = book_new(1000000);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(checkpoint_load(b, bad[i][0], bad[i][1], bad[i][2], bad[i][3]), -1);
		CU_ASSERT_EQUAL(book_levels(b, BOOK_YES) + book_levels(b, BOOK_NO), 0);
	}
	book_free(b);
}

int
test_checkpoint_add(void)
{
	CU_pSuite s = CU_add_suite("checkpoint", NULL, NULL);

	if (s == NULL || CU_add_test(s, "load", test_load) == NULL ||
	    CU_add_test(s, "malformed arrays refused", test_malformed) == NULL)
		return -1;
	return 0;
}
