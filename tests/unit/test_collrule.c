/*
 * Tests of lib/collrule.c, the collector's recording rules, with a fake clock: one open gap per
 * market, its start after the last row, its end at the fresh snapshot's checkpoint with the
 * divergence, a market that settles before its snapshot, reason and end names, strictly
 * increasing row ts, periodic checkpoints on the count and aligned rules; and a sid's seq stream
 * (lib/kmsg's per-sid rule) driving the gaps of the markets it carries, as collector/subs.c does.
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "collrule.h"
#include "kmsg.h"
#include "tests.h"

static void
test_names(void)
{
	static const char *const want[] = { "seq_gap", "disconnect", "restart", "terminal_error",
	    "overflow", "negative_level", "takeover" };

	/* the names are gaps.reason's CHECK list (sql/001_baseline.sql) */
	for (int r = COLL_GAP_SEQ; r <= COLL_GAP_TAKEOVER; r++)
		CU_ASSERT_STRING_EQUAL(coll_gap_reason_name((enum coll_gap_reason)r), want[r]);
	CU_ASSERT_STRING_EQUAL(coll_gap_reason_name((enum coll_gap_reason)99), "unknown");
	CU_ASSERT_STRING_EQUAL(coll_gap_end_name(COLL_GAP_END_SNAPSHOT), "snapshot");
	CU_ASSERT_STRING_EQUAL(coll_gap_end_name(COLL_GAP_END_MARKET_CLOSED), "market_closed");
}

static void
test_open(void)
{
	struct coll_gap g = { 0 };

	/* no book yet: nothing recorded that could be wrong, no gap */
	CU_ASSERT_FALSE(coll_rule_gap_open(&g, false, 0, 1000, COLL_GAP_SEQ));
	CU_ASSERT_FALSE(g.open);

	/* the gap starts at from when it is after the last row */
	CU_ASSERT_TRUE(coll_rule_gap_open(&g, true, 500, 1000, COLL_GAP_SEQ));
	CU_ASSERT_TRUE(g.open);
	CU_ASSERT_EQUAL(g.start, 1000);
	CU_ASSERT_EQUAL(g.reason, COLL_GAP_SEQ);

	/* one open gap per market: a second cause changes nothing */
	CU_ASSERT_FALSE(coll_rule_gap_open(&g, true, 2000, 3000, COLL_GAP_DISCONNECT));
	CU_ASSERT_EQUAL(g.start, 1000);
	CU_ASSERT_EQUAL(g.reason, COLL_GAP_SEQ);

	/* from not after the last row (rows were given ts past the receive time): one past it */
	memset(&g, 0, sizeof(g));
	CU_ASSERT_TRUE(coll_rule_gap_open(&g, true, 5000, 4000, COLL_GAP_TERMINAL));
	CU_ASSERT_EQUAL(g.start, 5001);
	memset(&g, 0, sizeof(g));
	CU_ASSERT_TRUE(coll_rule_gap_open(&g, true, 5000, 5000, COLL_GAP_OVERFLOW));
	CU_ASSERT_EQUAL(g.start, 5001);
	CU_ASSERT_EQUAL(g.reason, COLL_GAP_OVERFLOW);
}

static void
test_close(void)
{
	struct coll_gap g = { 0 };
	enum coll_gap_div div = COLL_DIV_UNKNOWN;
	int64_t end = -1;

	/* nothing open: a snapshot closes nothing */
	CU_ASSERT_FALSE(coll_rule_gap_close(&g, 100, true, true, &end, &div));
	CU_ASSERT_EQUAL(end, -1);

	/* closes at the snapshot checkpoint's ts; the held book equal: not diverged */
	CU_ASSERT_TRUE(coll_rule_gap_open(&g, true, 10, 20, COLL_GAP_SEQ));
	CU_ASSERT_TRUE(coll_rule_gap_close(&g, 90, true, true, &end, &div));
	CU_ASSERT_FALSE(g.open);
	CU_ASSERT_EQUAL(end, 90);
	CU_ASSERT_EQUAL(div, COLL_DIV_NO);
	/* closed once only */
	CU_ASSERT_FALSE(coll_rule_gap_close(&g, 95, true, false, &end, &div));
	CU_ASSERT_EQUAL(end, 90);

	/* different: diverged; a gap may open again after it closed */
	CU_ASSERT_TRUE(coll_rule_gap_open(&g, true, 90, 100, COLL_GAP_NEGATIVE));
	CU_ASSERT_TRUE(coll_rule_gap_close(&g, 150, true, false, &end, &div));
	CU_ASSERT_EQUAL(div, COLL_DIV_YES);
	CU_ASSERT_EQUAL(end, 150);

	/* no book held: unknown; and never an end before the start */
	CU_ASSERT_TRUE(coll_rule_gap_open(&g, true, 150, 400, COLL_GAP_DISCONNECT));
	CU_ASSERT_TRUE(coll_rule_gap_close(&g, 300, false, false, &end, &div));
	CU_ASSERT_EQUAL(div, COLL_DIV_UNKNOWN);
	CU_ASSERT_EQUAL(end, 400);
}

/* A market that settles before its fresh snapshot: the gap closes then, divergence unknown. */
static void
test_finish(void)
{
	struct coll_gap g = { 0 };
	enum coll_gap_div div = COLL_DIV_NO;
	int64_t end = -1;

	CU_ASSERT_FALSE(coll_rule_gap_finish(&g, 1000, &end, &div));
	CU_ASSERT_EQUAL(end, -1);
	CU_ASSERT_TRUE(coll_rule_gap_open(&g, true, 10, 200, COLL_GAP_SEQ));
	CU_ASSERT_TRUE(coll_rule_gap_finish(&g, 1000, &end, &div));
	CU_ASSERT_FALSE(g.open);
	CU_ASSERT_EQUAL(end, 1000);
	CU_ASSERT_EQUAL(div, COLL_DIV_UNKNOWN);
	/* a snapshot arriving afterwards closes nothing more */
	CU_ASSERT_FALSE(coll_rule_gap_close(&g, 1100, true, true, &end, &div));
	CU_ASSERT_EQUAL(end, 1000);
	/* the settlement learned "before" the start (clock skew): the end is the start */
	CU_ASSERT_TRUE(coll_rule_gap_open(&g, true, 1000, 5000, COLL_GAP_DISCONNECT));
	CU_ASSERT_TRUE(coll_rule_gap_finish(&g, 4000, &end, &div));
	CU_ASSERT_EQUAL(end, 5000);
}

static void
test_next_ts(void)
{
	int64_t last = 0;

	last = coll_rule_next_ts(last, 100);
	CU_ASSERT_EQUAL(last, 100);
	/* two rows in one microsecond, and a clock that steps back: still strictly increasing */
	last = coll_rule_next_ts(last, 100);
	CU_ASSERT_EQUAL(last, 101);
	last = coll_rule_next_ts(last, 50);
	CU_ASSERT_EQUAL(last, 102);
	last = coll_rule_next_ts(last, 200);
	CU_ASSERT_EQUAL(last, 200);
}

static void
test_checkpoint_on_delta(void)
{
	CU_ASSERT_FALSE(coll_rule_checkpoint_on_delta(999, 1000));
	CU_ASSERT_TRUE(coll_rule_checkpoint_on_delta(1000, 1000));
	CU_ASSERT_TRUE(coll_rule_checkpoint_on_delta(1, 1));
}

/* The aligned rule: at each multiple of the period, changed or not, never twice. */
static void
test_checkpoint_aligned(void)
{
	const int64_t day = 86400LL * 1000000, d0 = 20000 * day;

	/* the first delta after midnight: a checkpoint at midnight, before it */
	CU_ASSERT_EQUAL(coll_rule_checkpoint_aligned(d0 - 5, d0 + 7, day), d0);
	/* a delta exactly at midnight: the checkpoint takes midnight (the delta goes after it) */
	CU_ASSERT_EQUAL(coll_rule_checkpoint_aligned(d0 - 5, d0, day), d0);
	/* already written: the last row is at or after the boundary */
	CU_ASSERT_EQUAL(coll_rule_checkpoint_aligned(d0, d0 + 7, day), -1);
	CU_ASSERT_EQUAL(coll_rule_checkpoint_aligned(d0 + 3, d0 + 7, day), -1);
	/* before the boundary: not due */
	CU_ASSERT_EQUAL(coll_rule_checkpoint_aligned(d0 - 9, d0 - 1, day), -1);
	/* a book quiet for days: the latest boundary only */
	CU_ASSERT_EQUAL(coll_rule_checkpoint_aligned(d0 - 3 * day, d0 + 5, day), d0);
	/* no period: never */
	CU_ASSERT_EQUAL(coll_rule_checkpoint_aligned(0, d0, 0), -1);
	/* a period of 2 s (tests) */
	CU_ASSERT_EQUAL(coll_rule_checkpoint_aligned(d0 + 1, d0 + 2500000, 2000000), d0 + 2000000);
}

/*
 * A sid carrying three markets, as collector/subs.c drives it: every seq-bearing message is
 * checked (interleaved markets and acks are one stream), a duplicate is dropped, a jump opens a
 * gap on every market of the sid that has a book, starting after the sid's last good message or
 * the market's last row, whichever is later; the snapshots that follow close them one by one.
 */
static void
test_sid_stream(void)
{
	struct mk {
		bool has_book;
		int64_t last_ts;
		struct coll_gap g;
	} m[3] = { { true, 0, { 0 } }, { true, 0, { 0 } }, { false, 0, { 0 } } };
	static const struct {
		int64_t seq;
		int market;          /* -1: an ack of the sid */
		enum kmsg_seq want;
	} stream[] = {
		{ 1, 0, KMSG_SEQ_NEXT }, { 2, 1, KMSG_SEQ_NEXT }, { 3, -1, KMSG_SEQ_NEXT },
		{ 4, 0, KMSG_SEQ_NEXT }, { 4, 0, KMSG_SEQ_DUP }, { 3, 1, KMSG_SEQ_DUP },
		{ 5, 1, KMSG_SEQ_NEXT }, { 8, 0, KMSG_SEQ_GAP }, { 9, 1, KMSG_SEQ_NEXT },
	};
	int64_t last_seq = 0, last_rx = 0, now = 1000, end;
	enum coll_gap_div div;
	int opened = 0;

	for (size_t i = 0; i < sizeof(stream) / sizeof(stream[0]); i++) {
		enum kmsg_seq r = kmsg_seq_check(&last_seq, stream[i].seq);

		now += 10;
		CU_ASSERT_EQUAL(r, stream[i].want);
		if (r == KMSG_SEQ_DUP)
			continue;
		if (r == KMSG_SEQ_GAP)
			for (int k = 0; k < 3; k++)
				opened += coll_rule_gap_open(&m[k].g, m[k].has_book, m[k].last_ts, last_rx + 1,
				    COLL_GAP_SEQ);
		last_rx = now;
		if (stream[i].market >= 0)
			m[stream[i].market].last_ts = coll_rule_next_ts(m[stream[i].market].last_ts, now);
	}
	/* seq 8 after 5: markets 0 and 1 (with books) have a gap; market 2 has no history */
	CU_ASSERT_EQUAL(opened, 2);
	CU_ASSERT_TRUE(m[0].g.open);
	CU_ASSERT_TRUE(m[1].g.open);
	CU_ASSERT_FALSE(m[2].g.open);
	/* seq 5 was received at 1070: the gap starts just after it */
	CU_ASSERT_EQUAL(m[0].g.start, 1071);
	CU_ASSERT_EQUAL(m[1].g.start, 1071);
	/* the delta of market 0 that came with seq 8 is inside its gap (after the start) */
	CU_ASSERT_TRUE(m[0].last_ts >= m[0].g.start);
	/* fresh snapshots (get_snapshot) close each at its checkpoint */
	CU_ASSERT_TRUE(coll_rule_gap_close(&m[0].g, coll_rule_next_ts(m[0].last_ts, now + 10), true, false,
	    &end, &div));
	CU_ASSERT_EQUAL(end, now + 10);
	CU_ASSERT_EQUAL(div, COLL_DIV_YES);
	CU_ASSERT_TRUE(coll_rule_gap_close(&m[1].g, coll_rule_next_ts(m[1].last_ts, now + 20), true, true,
	    &end, &div));
	CU_ASSERT_EQUAL(div, COLL_DIV_NO);
	/* a new sid starts again at 0: its seq 1 is next, not a duplicate */
	last_seq = 0;
	CU_ASSERT_EQUAL(kmsg_seq_check(&last_seq, 1), KMSG_SEQ_NEXT);
}

int
test_collrule_add(void)
{
	CU_pSuite s = CU_add_suite("collrule", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "reason and end names", test_names) == NULL ||
	    CU_add_test(s, "gap open: one per market, start after the last row", test_open) == NULL ||
	    CU_add_test(s, "gap close at the snapshot, with divergence", test_close) == NULL ||
	    CU_add_test(s, "gap of a market settled before its snapshot", test_finish) == NULL ||
	    CU_add_test(s, "row ts strictly increasing", test_next_ts) == NULL ||
	    CU_add_test(s, "periodic checkpoint on a delta", test_checkpoint_on_delta) == NULL ||
	    CU_add_test(s, "aligned periodic checkpoints", test_checkpoint_aligned) == NULL ||
	    CU_add_test(s, "a sid's seq stream drives its markets' gaps", test_sid_stream) == NULL)
		return -1;
	return 0;
}
