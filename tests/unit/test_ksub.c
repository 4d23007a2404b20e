/*
 * Tests of lib/ksub.c: sids in order and looked up, markets kept in the order added on the
 * subscription's side and every holder on the market's, the connection's market count, removal
 * in the middle, the backwards walk that removes as it goes (kalshi-sim's fan-out), and closing
 * a subscription with the released callback (kbook-feedd frees a market nobody holds there).
 */
#include <stdlib.h>

#include <CUnit/CUnit.h>

#include "ksub.h"
#include "tests.h"

struct t_market {
	int id;
	struct ksub_holders holders;
};

static int released_ids[8];
static size_t n_released;

static void
t_released(struct ksub_holders *h)
{
	struct t_market *m = KSUB_OWNER(h, struct t_market, holders);

	if (n_released < 8)
		released_ids[n_released++] = m->id;
}

static void
test_table(void)
{
	struct ksub_table t = { 0 };
	struct ksub a = { 0 }, b = { 0 }, c = { 0 };
	struct t_market m[4] = { { .id = 0 }, { .id = 1 }, { .id = 2 }, { .id = 3 } };

	ksub_open(&t, &a);
	ksub_open(&t, &b);
	ksub_open(&t, &c);
	CU_ASSERT(a.sid == 1 && b.sid == 2 && c.sid == 3);
	CU_ASSERT(t.head == &a && a.next == &b && b.next == &c && c.next == NULL);
	CU_ASSERT_PTR_EQUAL(ksub_find(&t, 2), &b);
	CU_ASSERT_PTR_NULL(ksub_find(&t, 4));
	CU_ASSERT_PTR_NULL(ksub_find(&t, 0));

	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(ksub_add(&t, &a, &m[i].holders), 0);
	CU_ASSERT_EQUAL(ksub_add(&t, &b, &m[1].holders), 0);
	CU_ASSERT_EQUAL(ksub_add(&t, &c, &m[1].holders), 0);
	CU_ASSERT_EQUAL(t.n_markets, 6);
	CU_ASSERT_EQUAL(m[1].holders.n, 3);
	CU_ASSERT(ksub_holds(&a, &m[3].holders) && !ksub_holds(&b, &m[3].holders));
	CU_ASSERT_EQUAL(ksub_index(&a, &m[2].holders), 2);
	CU_ASSERT_EQUAL(ksub_index(&b, &m[2].holders), b.n_markets);

	/* the middle one: the later ones move up, in order */
	CU_ASSERT_PTR_EQUAL(ksub_remove(&t, &a, 1), &m[1].holders);
	CU_ASSERT_EQUAL(a.n_markets, 3);
	CU_ASSERT(a.markets[0] == &m[0].holders && a.markets[1] == &m[2].holders &&
	    a.markets[2] == &m[3].holders);
	CU_ASSERT(!ksub_holds(&a, &m[1].holders) && ksub_holds(&b, &m[1].holders) &&
	    ksub_holds(&c, &m[1].holders));
	CU_ASSERT_EQUAL(m[1].holders.n, 2);
	CU_ASSERT_EQUAL(t.n_markets, 5);

	/* closing b (in the middle of the table): its market released, the table relinked */
	n_released = 0;
	ksub_close(&t, &b, t_released);
	CU_ASSERT(n_released == 1 && released_ids[0] == 1);
	CU_ASSERT(t.head == &a && a.next == &c);
	CU_ASSERT_PTR_NULL(ksub_find(&t, 2));
	CU_ASSERT_EQUAL(m[1].holders.n, 1);
	CU_ASSERT_EQUAL(t.n_markets, 4);

	/* a new subscription takes the next sid, never a freed one */
	ksub_open(&t, &b);
	CU_ASSERT_EQUAL(b.sid, 4);
	CU_ASSERT_PTR_EQUAL(c.next, &b);

	n_released = 0;
	ksub_close(&t, &a, t_released);
	CU_ASSERT_EQUAL(n_released, 3);
	/* released from the last market back */
	CU_ASSERT(released_ids[0] == 3 && released_ids[1] == 2 && released_ids[2] == 0);
	ksub_close(&t, &c, NULL);
	ksub_close(&t, &b, NULL);
	CU_ASSERT_PTR_NULL(t.head);
	CU_ASSERT_EQUAL(t.n_markets, 0);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(m[i].holders.n, 0);
		free(m[i].holders.subs);
	}
}

/* 40 markets on one subscription, 40 subscriptions on one market: the arrays grow, in order. */
static void
test_growth(void)
{
	struct ksub_table t = { 0 };
	struct ksub s[40] = { { 0 } };
	struct t_market m[40];

	for (int i = 0; i < 40; i++) {
		m[i] = (struct t_market){ .id = i };
		ksub_open(&t, &s[i]);
		CU_ASSERT_EQUAL(ksub_add(&t, &s[0], &m[i].holders), 0);
		if (i > 0)
			CU_ASSERT_EQUAL(ksub_add(&t, &s[i], &m[0].holders), 0);
	}
	CU_ASSERT_EQUAL(s[0].n_markets, 40);
	CU_ASSERT_EQUAL(m[0].holders.n, 40);
	CU_ASSERT_EQUAL(t.n_markets, 79);
	for (int i = 0; i < 40; i++) {
		CU_ASSERT_PTR_EQUAL(s[0].markets[i], &m[i].holders);
		CU_ASSERT(ksub_holds(&s[i], &m[0].holders));
	}
	for (int i = 39; i >= 0; i--)
		ksub_close(&t, &s[i], NULL);
	CU_ASSERT_EQUAL(t.n_markets, 0);
	for (int i = 0; i < 40; i++) {
		CU_ASSERT_EQUAL(m[i].holders.n, 0);
		free(m[i].holders.subs);
	}
}

/* Walking a market's holders backwards and removing the one at hand serves each exactly once. */
static void
test_backwards_walk(void)
{
	struct ksub_table t = { 0 };
	struct ksub s[5] = { { 0 } };
	struct t_market m = { .id = 7 };
	int seen[5] = { 0 };

	for (int i = 0; i < 5; i++) {
		ksub_open(&t, &s[i]);
		CU_ASSERT_EQUAL(ksub_add(&t, &s[i], &m.holders), 0);
	}
	for (size_t i = m.holders.n; i > 0; i--) {
		struct ksub *h = m.holders.subs[i - 1];

		seen[h->sid - 1]++;
		if (h->sid % 2 == 1)
			ksub_close(&t, h, NULL);
	}
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(seen[i], 1);
	CU_ASSERT_EQUAL(m.holders.n, 2);
	CU_ASSERT_EQUAL(t.n_markets, 2);
	ksub_close(&t, &s[1], NULL);
	ksub_close(&t, &s[3], NULL);
	CU_ASSERT_EQUAL(m.holders.n, 0);
	free(m.holders.subs);
}

int
test_ksub_add(void)
{
	CU_pSuite s = CU_add_suite("ksub", NULL, NULL);

	if (s == NULL || CU_add_test(s, "table", test_table) == NULL ||
	    CU_add_test(s, "growth", test_growth) == NULL ||
	    CU_add_test(s, "backwards walk", test_backwards_walk) == NULL)
		return -1;
	return 0;
}
