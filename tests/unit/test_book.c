/*
 * Tests of lib/book.c: snapshots and their refusals, deltas (adding, removing at zero, refusing
 * to go below zero), best bid and ask on both sides, depth-limited copies, equality and clones,
 * and a long randomized run checked step by step against a plain array model of the book.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "book.h"
#include "tests.h"

#define DOLLAR 1000000

/* The snapshot of KALSHI.md section 4. */
static const struct book_level doc_yes[] = { { 80000, 30000 }, { 220000, 33300 } };
static const struct book_level doc_no[] = { { 540000, 2000 }, { 560000, 14600 } };

static struct book *
doc_book(void)
{
	struct book *b = book_new(DOLLAR);

	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_EQUAL_FATAL(book_apply_snapshot(b, doc_yes, 2, doc_no, 2), BOOK_OK);
	return b;
}

static void
test_book_empty(void)
{
	struct book *b = book_new(DOLLAR);
	struct book_level lv = { 7, 7 }, out[4];

	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_EQUAL(book_notional(b), DOLLAR);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 0);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_NO), 0);
	CU_ASSERT_FALSE(book_best_bid(b, BOOK_YES, &lv));
	CU_ASSERT_FALSE(book_best_bid(b, BOOK_NO, &lv));
	CU_ASSERT_FALSE(book_best_ask(b, BOOK_YES, &lv));
	CU_ASSERT_FALSE(book_best_ask(b, BOOK_NO, &lv));
	CU_ASSERT_EQUAL(lv.price, 7);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 500000), 0);
	CU_ASSERT_EQUAL(book_copy_levels(b, BOOK_YES, out, 4), 0);
	book_free(b);
	book_free(NULL);
}

static void
test_book_snapshot(void)
{
	static const struct book_level yes[] = { { 300000, 5 }, { 100000, 1 }, { 200000, 2 } };
	static const struct book_level no[] = { { 600000, 9 } };
	struct book *b = doc_book();
	struct book_level out[8];

	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 2);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_NO), 2);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 80000), 30000);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_NO, 560000), 14600);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_NO, 80000), 0);

	/* A new snapshot replaces everything; its levels may come in any order. */
	CU_ASSERT_EQUAL(book_apply_snapshot(b, yes, 3, no, 1), BOOK_OK);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 3);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_NO), 1);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 80000), 0);
	CU_ASSERT_EQUAL_FATAL(book_copy_levels(b, BOOK_YES, out, 8), 3);
	CU_ASSERT_EQUAL(out[0].price, 100000);
	CU_ASSERT_EQUAL(out[1].price, 200000);
	CU_ASSERT_EQUAL(out[2].price, 300000);
	CU_ASSERT_EQUAL(out[2].size, 5);

	/* An absent side is an empty side. */
	CU_ASSERT_EQUAL(book_apply_snapshot(b, NULL, 0, no, 1), BOOK_OK);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 0);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_NO), 1);
	CU_ASSERT_EQUAL(book_apply_snapshot(b, NULL, 0, NULL, 0), BOOK_OK);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_NO), 0);
	book_free(b);
}

static void
test_book_snapshot_refused(void)
{
	static const struct {
		struct book_level yes[2], no[2];
	} bad[] = {
		{ { { 100000, 1 }, { 100000, 2 } }, { { 1, 1 }, { 2, 1 } } },       /* duplicate */
		{ { { 100000, 1 }, { 200000, 2 } }, { { 5, 1 }, { 5, 1 } } },       /* duplicate */
		{ { { 100000, 0 }, { 200000, 2 } }, { { 1, 1 }, { 2, 1 } } },       /* size 0 */
		{ { { 100000, 1 }, { 200000, 2 } }, { { 1, 1 }, { 2, -1 } } },      /* size < 0 */
		{ { { -1, 1 }, { 200000, 2 } }, { { 1, 1 }, { 2, 1 } } },           /* price < 0 */
		{ { { 100000, 1 }, { DOLLAR + 1, 2 } }, { { 1, 1 }, { 2, 1 } } },   /* price > notional */
		{ { { 100000, 1 }, { 200000, 2 } }, { { 1, 1 }, { INT64_MIN, 1 } } },
	};
	struct book *b = doc_book();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(book_apply_snapshot(b, doc_yes, 2, doc_no, 2), BOOK_OK);
		CU_ASSERT_EQUAL(book_apply_snapshot(b, bad[i].yes, 2, bad[i].no, 2), BOOK_EINVAL);
		CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 0);
		CU_ASSERT_EQUAL(book_levels(b, BOOK_NO), 0);
	}
	/* Prices 0 and notional themselves are fine. */
	{
		const struct book_level edge[] = { { 0, 1 }, { DOLLAR, 1 } };

		CU_ASSERT_EQUAL(book_apply_snapshot(b, edge, 2, edge, 2), BOOK_OK);
		CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 2);
	}
	CU_ASSERT_EQUAL(book_apply_snapshot(b, NULL, 1, NULL, 0), BOOK_EINVAL);
	book_free(b);
}

static void
test_book_delta(void)
{
	struct book *b = doc_book();

	/* The delta of KALSHI.md: -54.00 at 0.9600 YES, where there is no level, is out of sync. */
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 960000, -5400), BOOK_ENEGATIVE);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 2);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 960000), 0);

	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 960000, 5400), BOOK_OK);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 3);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 960000), 5400);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 960000, 47), BOOK_OK);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 960000), 5447);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 960000, -5000), BOOK_OK);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 960000), 447);

	/* Below zero: refused, level unchanged. */
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 960000, -448), BOOK_ENEGATIVE);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 960000), 447);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 3);

	/* Exactly zero: removed. */
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 960000, -447), BOOK_OK);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 960000), 0);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 2);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 960000, -1), BOOK_ENEGATIVE);

	/* The other side is independent. */
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_NO, 540000, -2000), BOOK_OK);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_NO), 1);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 80000), 30000);
	book_free(b);
}

static void
test_book_delta_refused(void)
{
	struct book *b = doc_book();
	struct book *ref = book_clone(b);

	CU_ASSERT_FATAL(ref != NULL);
	/* A zero delta is a no-op, whether or not the level exists. */
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 80000, 0), BOOK_OK);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 90000, 0), BOOK_OK);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, -1, 5), BOOK_EINVAL);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_NO, DOLLAR + 1, 5), BOOK_EINVAL);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_NO, INT64_MIN, 5), BOOK_EINVAL);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_NO, INT64_MAX, 5), BOOK_EINVAL);
	CU_ASSERT_EQUAL(book_apply_delta(b, (enum book_side)2, 80000, 5), BOOK_EINVAL);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 80000, INT64_MIN), BOOK_ENEGATIVE);
	/* A size that would overflow int64 is refused rather than wrapped. */
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 80000, INT64_MAX), BOOK_EINVAL);
	CU_ASSERT_TRUE(book_equal(b, ref));
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 0, INT64_MAX), BOOK_OK);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 0), INT64_MAX);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 0, 1), BOOK_EINVAL);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 0, -INT64_MAX), BOOK_OK);
	CU_ASSERT_TRUE(book_equal(b, ref));
	/* Prices 0 and notional are valid levels. */
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_NO, DOLLAR, 1), BOOK_OK);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_NO, DOLLAR), 1);
	CU_ASSERT_EQUAL(book_size_at(b, (enum book_side)2, DOLLAR), 0);
	CU_ASSERT_EQUAL(book_levels(b, (enum book_side)2), 0);
	book_free(ref);
	book_free(b);
}

static void
test_book_best_bid_ask(void)
{
	struct book *b = doc_book();
	struct book_level lv;

	CU_ASSERT_TRUE(book_best_bid(b, BOOK_YES, &lv));
	CU_ASSERT_EQUAL(lv.price, 220000);
	CU_ASSERT_EQUAL(lv.size, 33300);
	CU_ASSERT_TRUE(book_best_bid(b, BOOK_NO, &lv));
	CU_ASSERT_EQUAL(lv.price, 560000);
	CU_ASSERT_EQUAL(lv.size, 14600);
	/* YES ask = 1 - best NO bid, with the NO level's size; and the other way round. */
	CU_ASSERT_TRUE(book_best_ask(b, BOOK_YES, &lv));
	CU_ASSERT_EQUAL(lv.price, 440000);
	CU_ASSERT_EQUAL(lv.size, 14600);
	CU_ASSERT_TRUE(book_best_ask(b, BOOK_NO, &lv));
	CU_ASSERT_EQUAL(lv.price, 780000);
	CU_ASSERT_EQUAL(lv.size, 33300);
	CU_ASSERT_FALSE(book_best_ask(b, (enum book_side)2, &lv));
	CU_ASSERT_FALSE(book_best_bid(b, (enum book_side)2, &lv));
	CU_ASSERT_TRUE(book_best_bid(b, BOOK_YES, NULL));

	/* Removing the best NO bid moves the YES ask. */
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_NO, 560000, -14600), BOOK_OK);
	CU_ASSERT_TRUE(book_best_ask(b, BOOK_YES, &lv));
	CU_ASSERT_EQUAL(lv.price, 460000);
	CU_ASSERT_EQUAL(lv.size, 2000);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_NO, 540000, -2000), BOOK_OK);
	CU_ASSERT_FALSE(book_best_ask(b, BOOK_YES, &lv));
	CU_ASSERT_FALSE(book_best_bid(b, BOOK_NO, &lv));
	CU_ASSERT_TRUE(book_best_ask(b, BOOK_NO, &lv));
	book_free(b);
}

/* A market whose notional is not $1: the asks are taken from it, not from 1. */
static void
test_book_best_ask_notional(void)
{
	static const struct book_level yes[] = { { 100000, 1 } };
	static const struct book_level no[] = { { 350000, 2 }, { 50000, 3 } };
	struct book *b = book_new(500000);
	struct book_level lv;

	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_EQUAL_FATAL(book_apply_snapshot(b, yes, 1, no, 2), BOOK_OK);
	CU_ASSERT_TRUE(book_best_ask(b, BOOK_YES, &lv));
	CU_ASSERT_EQUAL(lv.price, 150000);
	CU_ASSERT_EQUAL(lv.size, 2);
	CU_ASSERT_TRUE(book_best_ask(b, BOOK_NO, &lv));
	CU_ASSERT_EQUAL(lv.price, 400000);
	CU_ASSERT_EQUAL(lv.size, 1);
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 500001, 1), BOOK_EINVAL);
	book_free(b);
}

static void
test_book_depth(void)
{
	struct book *b = book_new(DOLLAR);
	struct book_level out[64];

	CU_ASSERT_FATAL(b != NULL);
	/* Levels 10000, 20000, ..., 500000 inserted out of order; size = price / 100. */
	for (int64_t k = 0; k < 50; k++) {
		int64_t p = ((k * 17) % 50 + 1) * 10000;

		CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_NO, p, p / 100), BOOK_OK);
	}
	CU_ASSERT_EQUAL(book_levels(b, BOOK_NO), 50);
	CU_ASSERT_EQUAL(book_copy_levels(b, BOOK_NO, out, 0), 0);
	CU_ASSERT_EQUAL(book_copy_levels(b, BOOK_NO, NULL, 0), 0);

	CU_ASSERT_EQUAL_FATAL(book_copy_levels(b, BOOK_NO, out, 1), 1);
	CU_ASSERT_EQUAL(out[0].price, 500000);
	CU_ASSERT_EQUAL(out[0].size, 5000);

	/* The three best, ascending. */
	CU_ASSERT_EQUAL_FATAL(book_copy_levels(b, BOOK_NO, out, 3), 3);
	CU_ASSERT_EQUAL(out[0].price, 480000);
	CU_ASSERT_EQUAL(out[1].price, 490000);
	CU_ASSERT_EQUAL(out[2].price, 500000);

	for (size_t max = 0; max <= 64; max++) {
		size_t n = book_copy_levels(b, BOOK_NO, out, max), bad = 0;

		CU_ASSERT_EQUAL(n, max < 50 ? max : 50);
		for (size_t i = 0; i < n; i++) {
			int64_t want = (int64_t)(50 - n + i + 1) * 10000;

			if (out[i].price != want || out[i].size != want / 100)
				bad++;
		}
		CU_ASSERT_EQUAL(bad, 0);
	}
	CU_ASSERT_EQUAL(book_copy_levels(b, BOOK_YES, out, 64), 0);
	book_free(b);
}

static void
test_book_equal(void)
{
	static const struct book_level up[] = { { 1, 1 }, { 2, 2 }, { 3, 3 }, { 4, 4 }, { 5, 5 } };
	static const struct book_level down[] = { { 5, 5 }, { 4, 4 }, { 3, 3 }, { 2, 2 }, { 1, 1 } };
	struct book *a = book_new(DOLLAR), *b = book_new(DOLLAR);

	CU_ASSERT_FATAL(a != NULL && b != NULL);
	CU_ASSERT_TRUE(book_equal(a, b));
	/* Same levels inserted in different orders give differently shaped trees. */
	CU_ASSERT_EQUAL(book_apply_snapshot(a, up, 5, down, 5), BOOK_OK);
	CU_ASSERT_EQUAL(book_apply_snapshot(b, down, 5, up, 5), BOOK_OK);
	CU_ASSERT_TRUE(book_equal(a, b));
	CU_ASSERT_TRUE(book_equal(b, a));

	CU_ASSERT_EQUAL(book_apply_delta(a, BOOK_YES, 3, 1), BOOK_OK);
	CU_ASSERT_FALSE(book_equal(a, b));
	CU_ASSERT_EQUAL(book_apply_delta(a, BOOK_YES, 3, -1), BOOK_OK);
	CU_ASSERT_TRUE(book_equal(a, b));

	/* Same count, different price. */
	CU_ASSERT_EQUAL(book_apply_delta(a, BOOK_NO, 1, -1), BOOK_OK);
	CU_ASSERT_EQUAL(book_apply_delta(a, BOOK_NO, 6, 1), BOOK_OK);
	CU_ASSERT_FALSE(book_equal(a, b));
	CU_ASSERT_EQUAL(book_apply_delta(a, BOOK_NO, 6, -1), BOOK_OK);
	CU_ASSERT_FALSE(book_equal(a, b));
	CU_ASSERT_EQUAL(book_apply_delta(a, BOOK_NO, 1, 1), BOOK_OK);
	CU_ASSERT_TRUE(book_equal(a, b));

	/* The same level on the other side is a different book. */
	CU_ASSERT_EQUAL(book_apply_snapshot(a, up, 1, NULL, 0), BOOK_OK);
	CU_ASSERT_EQUAL(book_apply_snapshot(b, NULL, 0, up, 1), BOOK_OK);
	CU_ASSERT_FALSE(book_equal(a, b));
	book_clear(a);
	book_clear(b);
	CU_ASSERT_TRUE(book_equal(a, b));
	book_free(a);
	book_free(b);
}

static void
test_book_clone(void)
{
	struct book *a = book_new(750000), *c;

	CU_ASSERT_FATAL(a != NULL);
	c = book_clone(a);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_TRUE(book_equal(a, c));
	CU_ASSERT_EQUAL(book_notional(c), 750000);
	book_free(c);

	/* Leave holes on the free list, then clone and keep changing both books. */
	for (int64_t p = 0; p < 1000; p++)
		CU_ASSERT_EQUAL(book_apply_delta(a, (enum book_side)(p & 1), p * 100, p + 1), BOOK_OK);
	for (int64_t p = 0; p < 1000; p += 3)
		CU_ASSERT_EQUAL(book_apply_delta(a, (enum book_side)(p & 1), p * 100, -(p + 1)), BOOK_OK);
	c = book_clone(a);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_TRUE(book_equal(a, c));
	CU_ASSERT_EQUAL(book_levels(c, BOOK_YES), book_levels(a, BOOK_YES));

	CU_ASSERT_EQUAL(book_apply_delta(c, BOOK_YES, 0, 5), BOOK_OK);
	CU_ASSERT_EQUAL(book_size_at(a, BOOK_YES, 0), 0);
	CU_ASSERT_FALSE(book_equal(a, c));
	CU_ASSERT_EQUAL(book_apply_delta(a, BOOK_YES, 0, 5), BOOK_OK);
	CU_ASSERT_TRUE(book_equal(a, c));
	for (int64_t p = 0; p < 1000; p++) {
		int64_t s = book_size_at(a, (enum book_side)(p & 1), p * 100);

		if (s > 0) {
			CU_ASSERT_EQUAL(book_apply_delta(a, (enum book_side)(p & 1), p * 100, -s), BOOK_OK);
		}
	}
	CU_ASSERT_EQUAL(book_levels(a, BOOK_YES) + book_levels(a, BOOK_NO), 0);
	CU_ASSERT_EQUAL(book_levels(c, BOOK_YES) + book_levels(c, BOOK_NO), 667);
	book_free(a);
	book_free(c);
}

static void
test_book_clear_and_reuse(void)
{
	struct book *b = doc_book();
	struct book_level lv;

	book_clear(b);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), 0);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_NO), 0);
	CU_ASSERT_FALSE(book_best_bid(b, BOOK_YES, &lv));
	CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 10000, 1), BOOK_OK);
	CU_ASSERT_TRUE(book_best_bid(b, BOOK_YES, &lv));
	CU_ASSERT_EQUAL(lv.price, 10000);
	CU_ASSERT_EQUAL(book_notional(b), DOLLAR);
	book_free(b);
}

/*
 * Regression: book_apply_snapshot on a reused book overflowed the heap when the tree had spare
 * slots at its tail (tree_reserve asked for too little room). Snapshots of growing size into
 * one book, each checked level by level.
 */
static void
test_book_snapshot_reuse_grows(void)
{
	struct book *b = book_new(DOLLAR);
	struct book_level lv[200], out[200];

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (size_t n = 1; n <= 200; n += 7) {
		for (size_t i = 0; i < n; i++) {
			lv[i].price = (int64_t)(i + 1) * 1000;
			lv[i].size = (int64_t)(n * 100 + i);
		}
		CU_ASSERT_EQUAL_FATAL(book_apply_snapshot(b, lv, n, lv, n / 2), BOOK_OK);
		CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), n);
		CU_ASSERT_EQUAL(book_levels(b, BOOK_NO), n / 2);
		CU_ASSERT_EQUAL(book_copy_levels(b, BOOK_YES, out, 200), n);
		CU_ASSERT_EQUAL(memcmp(out, lv, n * sizeof(lv[0])), 0);
		/* deltas in between leave freed slots behind */
		CU_ASSERT_EQUAL(book_apply_delta(b, BOOK_YES, 1000, -(int64_t)(n * 100)), BOOK_OK);
	}
	book_free(b);
}

/* Every price of a $1 market on one side: a million levels, then the best ten. */
static void
test_book_every_price(void)
{
	struct book *b = book_new(DOLLAR);
	struct book_level out[10], lv;
	unsigned bad = 0;

	CU_ASSERT_FATAL(b != NULL);
	for (int64_t p = DOLLAR; p >= 0; p--)
		bad += book_apply_delta(b, BOOK_YES, p, p + 1) != BOOK_OK;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), DOLLAR + 1);
	CU_ASSERT_EQUAL_FATAL(book_copy_levels(b, BOOK_YES, out, 10), 10);
	CU_ASSERT_EQUAL(out[0].price, DOLLAR - 9);
	CU_ASSERT_EQUAL(out[9].price, DOLLAR);
	CU_ASSERT_TRUE(book_best_ask(b, BOOK_NO, &lv));
	CU_ASSERT_EQUAL(lv.price, 0);
	CU_ASSERT_EQUAL(lv.size, DOLLAR + 1);
	for (int64_t p = 0; p <= DOLLAR; p += 2)
		bad += book_apply_delta(b, BOOK_YES, p, -(p + 1)) != BOOK_OK;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(book_levels(b, BOOK_YES), DOLLAR / 2);
	CU_ASSERT_TRUE(book_best_bid(b, BOOK_YES, &lv));
	CU_ASSERT_EQUAL(lv.price, DOLLAR - 1);
	book_free(b);
}

static void
test_book_strerror(void)
{
	CU_ASSERT_STRING_EQUAL(book_strerror(BOOK_OK), "ok");
	CU_ASSERT_STRING_EQUAL(book_strerror(BOOK_ENEGATIVE), "delta drives a level below zero");
	CU_ASSERT_STRING_EQUAL(book_strerror(BOOK_EINVAL), "invalid price or size");
	CU_ASSERT_STRING_EQUAL(book_strerror(BOOK_ENOMEM), "out of memory");
	CU_ASSERT_STRING_EQUAL(book_strerror((enum book_err)42), "unknown error");
}

/*
 * The model: one size per tick of a coarse price grid, per side. Negative prices and prices
 * beyond the notional are sent too and must be refused.
 */
#define MODEL_TICK  5000
#define MODEL_TICKS (DOLLAR / MODEL_TICK + 1)

struct model {
	int64_t size[2][MODEL_TICKS];
};

static uint64_t
book_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

static enum book_err
model_delta(struct model *m, int side, int64_t price, int64_t delta)
{
	int64_t *s, next;

	if (price < 0 || price > DOLLAR)
		return BOOK_EINVAL;
	s = &m->size[side][price / MODEL_TICK];
	if (__builtin_add_overflow(*s, delta, &next))
		return BOOK_EINVAL;
	if (next < 0)
		return BOOK_ENEGATIVE;
	*s = next;
	return BOOK_OK;
}

/* Compares every observable of one side with the model; returns the number of mismatches. */
static unsigned
model_compare_side(const struct model *m, const struct book *b, int side)
{
	static struct book_level out[MODEL_TICKS], want[MODEL_TICKS];
	struct book_level lv;
	size_t n = 0, depth;
	unsigned bad = 0;

	for (size_t t = 0; t < MODEL_TICKS; t++) {
		if (m->size[side][t] > 0) {
			want[n].price = (int64_t)t * MODEL_TICK;
			want[n].size = m->size[side][t];
			n++;
		}
	}
	bad += book_levels(b, (enum book_side)side) != n;
	bad += book_copy_levels(b, (enum book_side)side, out, MODEL_TICKS) != n;
	bad += memcmp(out, want, n * sizeof(out[0])) != 0;
	depth = n / 3 + 1;
	if (depth <= n) {
		bad += book_copy_levels(b, (enum book_side)side, out, depth) != depth;
		bad += memcmp(out, want + n - depth, depth * sizeof(out[0])) != 0;
	}
	if (n == 0) {
		bad += book_best_bid(b, (enum book_side)side, &lv);
		bad += book_best_ask(b, (enum book_side)!side, &lv);
	} else {
		bad += !book_best_bid(b, (enum book_side)side, &lv) ||
		    lv.price != want[n - 1].price || lv.size != want[n - 1].size;
		bad += !book_best_ask(b, (enum book_side)!side, &lv) ||
		    lv.price != DOLLAR - want[n - 1].price || lv.size != want[n - 1].size;
	}
	return bad;
}

/*
 * 100 000 random deltas on a 201-tick grid, biased so that levels are created, grown, emptied
 * and overdrawn all the time. After each delta the touched level, the result code and the level
 * count are compared with the model; every 500 deltas the whole book, and a clone of it.
 */
static void
test_book_random_vs_model(void)
{
	static struct model m;
	struct book *b = book_new(DOLLAR), *c;
	uint64_t state = 0x2545f4914f6cdd1du;
	unsigned bad = 0, removed = 0, negative = 0, invalid = 0;

	CU_ASSERT_FATAL(b != NULL);
	memset(&m, 0, sizeof(m));
	for (int step = 0; step < 100000; step++) {
		uint64_t r = book_rand(&state);
		int side = (int)(r & 1);
		int64_t price, delta, before;
		enum book_err want, got;

		price = (int64_t)((r >> 1) % (MODEL_TICKS + 4)) * MODEL_TICK;
		if ((r >> 16) % 64 == 0)
			price = -MODEL_TICK;
		delta = (int64_t)((r >> 24) % 41) - 20;
		if ((r >> 40) % 4 == 0 && price >= 0 && price <= DOLLAR)
			delta = -m.size[side][price / MODEL_TICK]; /* empty it exactly */
		before = book_size_at(b, (enum book_side)side, price);
		want = model_delta(&m, side, price, delta);
		got = book_apply_delta(b, (enum book_side)side, price, delta);
		bad += want != got;
		if (want == BOOK_OK && before > 0 && before + delta == 0)
			removed++;
		negative += want == BOOK_ENEGATIVE;
		invalid += want == BOOK_EINVAL;
		if (price >= 0 && price <= DOLLAR)
			bad += book_size_at(b, (enum book_side)side, price) !=
			    m.size[side][price / MODEL_TICK];
		if (step % 500 == 0) {
			bad += model_compare_side(&m, b, 0) + model_compare_side(&m, b, 1);
			if ((c = book_clone(b)) != NULL) {
				bad += !book_equal(b, c);
				book_free(c);
			}
		}
	}
	bad += model_compare_side(&m, b, 0) + model_compare_side(&m, b, 1);
	CU_ASSERT_EQUAL(bad, 0);
	/* The run exercised every path. */
	CU_ASSERT_TRUE(removed > 1000);
	CU_ASSERT_TRUE(negative > 1000);
	CU_ASSERT_TRUE(invalid > 1000);
	book_free(b);
}

/* Rows as a query aggregates them: applied in order, malformed text stops. */
static void
test_book_apply_text(void)
{
	struct book *b = book_new(DOLLAR);
	bool broken = false;

	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_EQUAL(book_apply_text(b, "", &broken), 0);
	CU_ASSERT_EQUAL(book_apply_text(b, "0,450000,1300;1,510000,47;0,450000,-300", &broken), 3);
	CU_ASSERT_FALSE(broken);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 450000), 1000);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_NO, 510000), 47);
	/* a trailing separator ends the text */
	CU_ASSERT_EQUAL(book_apply_text(b, "1,510000,3;", &broken), 1);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_NO, 510000), 50);
	/* a level driven below zero is refused and flagged; the rows after it still apply */
	CU_ASSERT_EQUAL(book_apply_text(b, "1,510000,-51;1,520000,5", &broken), 2);
	CU_ASSERT_TRUE(broken);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_NO, 510000), 50);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_NO, 520000), 5);
	/* malformed: reading stops before the bad row */
	broken = false;
	CU_ASSERT_EQUAL(book_apply_text(b, "0,1000,1;0,2000", &broken), 1);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 1000), 1);
	CU_ASSERT_EQUAL(book_apply_text(b, "x,1000,1", &broken), 0);
	CU_ASSERT_EQUAL(book_apply_text(b, "0,1000,1,5", &broken), 0);
	CU_ASSERT_EQUAL(book_apply_text(b, "0;1000,1", &broken), 0);
	CU_ASSERT_EQUAL(book_size_at(b, BOOK_YES, 1000), 1);
	CU_ASSERT_FALSE(broken);
	book_free(b);
}

static const struct {
	const char *name;
	void (*fn)(void);
} book_tests[] = {
	{ "empty book", test_book_empty },
	{ "snapshot", test_book_snapshot },
	{ "snapshot refused", test_book_snapshot_refused },
	{ "delta", test_book_delta },
	{ "delta refused", test_book_delta_refused },
	{ "best bid and ask", test_book_best_bid_ask },
	{ "best ask with notional", test_book_best_ask_notional },
	{ "depth-limited copy", test_book_depth },
	{ "equal", test_book_equal },
	{ "clone", test_book_clone },
	{ "clear and reuse", test_book_clear_and_reuse },
	{ "snapshot reuse grows (heap overflow regression)", test_book_snapshot_reuse_grows },
	{ "every price", test_book_every_price },
	{ "strerror", test_book_strerror },
	{ "random deltas vs model", test_book_random_vs_model },
	{ "rows as text", test_book_apply_text },
};

int
test_book_add(void)
{
	CU_pSuite suite = CU_add_suite("book", NULL, NULL);

	if (suite == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(book_tests) / sizeof(book_tests[0]); i++) {
		if (CU_add_test(suite, book_tests[i].name, book_tests[i].fn) == NULL)
			return -1;
	}
	return 0;
}
