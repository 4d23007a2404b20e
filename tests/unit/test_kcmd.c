/*
 * Tests of lib/kcmd.c: every command of KALSHI.md section 3 in both dialects (the feed's, with
 * kbook's `since`; the exchange's, with three channels and use_yes_price), and the
 * malformed-command matrices with the error code Kalshi gives for each (the first that applies,
 * in the exchange's order). tests/sim/kalshi_ws_check.py checks the same order end to end.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "kcmd.h"
#include "kerr.h"
#include "tests.h"

static int
parse(const char *s, struct kcmd *c)
{
	return kcmd_parse(&kcmd_feed, s, strlen(s), c);
}

static void
test_valid(void)
{
	struct kcmd c;

	CU_ASSERT_EQUAL(parse("{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":"
	    "[\"orderbook_delta\"],\"market_tickers\":[\"A\",\"B\"]}}", &c), 0);
	CU_ASSERT_EQUAL(c.type, KCMD_SUBSCRIBE);
	CU_ASSERT(c.has_id && c.id == 1);
	CU_ASSERT_EQUAL_FATAL(c.n_tickers, 2);
	CU_ASSERT_STRING_EQUAL(c.tickers[1], "B");
	CU_ASSERT(!c.has_since);
	kcmd_free(&c);

	CU_ASSERT_EQUAL(parse("{\"id\":2,\"cmd\":\"subscribe\",\"params\":{\"channels\":"
	    "[\"orderbook_delta\"],\"market_ticker\":\"A\",\"since\":1700000000123456}}", &c), 0);
	CU_ASSERT_EQUAL(c.n_tickers, 1);
	CU_ASSERT(c.has_since && c.since == 1700000000123456LL);
	kcmd_free(&c);

	CU_ASSERT_EQUAL(parse("{\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	    "\"market_ticker\":\"A\",\"since\":\"2023-11-14T22:13:20.5Z\"}}", &c), 0);
	CU_ASSERT(!c.has_id);
	CU_ASSERT(c.has_since && c.since == 1700000000500000LL);
	kcmd_free(&c);

	CU_ASSERT_EQUAL(parse("{\"id\":3,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[456],"
	    "\"market_tickers\":[\"C\"],\"action\":\"add_markets\"}}", &c), 0);
	CU_ASSERT_EQUAL(c.type, KCMD_UPDATE);
	CU_ASSERT_EQUAL(c.action, KCMD_ACT_ADD);
	CU_ASSERT(c.n_sids == 1 && c.sids[0] == 456);
	kcmd_free(&c);

	CU_ASSERT_EQUAL(parse("{\"id\":5,\"cmd\":\"update_subscription\",\"params\":{\"sid\":4,"
	    "\"market_ticker\":\"A\",\"action\":\"get_snapshot\"}}", &c), 0);
	CU_ASSERT_EQUAL(c.action, KCMD_ACT_SNAPSHOT);
	kcmd_free(&c);

	CU_ASSERT_EQUAL(parse("{\"id\":6,\"cmd\":\"unsubscribe\",\"params\":{\"sids\":[1,2]}}", &c), 0);
	CU_ASSERT_EQUAL(c.type, KCMD_UNSUBSCRIBE);
	CU_ASSERT_EQUAL(c.n_sids, 2);
	kcmd_free(&c);

	CU_ASSERT_EQUAL(parse(" {\"id\":7,\"cmd\":\"list_subscriptions\"}\n", &c), 0);
	CU_ASSERT_EQUAL(c.type, KCMD_LIST);
	kcmd_free(&c);
}

static const struct {
	const char *in;
	int code;
	bool has_id;
} bad[] = {
	{ "", KERR_PROCESS, false },
	{ "not json", KERR_PROCESS, false },
	{ "[1,2]", KERR_PROCESS, false },
	{ "{\"id\":1,\"cmd\":\"list_subscriptions\"} x", KERR_PROCESS, false },
	{ "{\"id\":\"1\",\"cmd\":\"list_subscriptions\"}", KERR_INVALID, false },
	{ "{\"id\":1}", KERR_UNKNOWN_CMD, true },
	{ "{\"id\":1,\"cmd\":\"dance\"}", KERR_UNKNOWN_CMD, true },
	{ "{\"id\":1,\"cmd\":7}", KERR_UNKNOWN_CMD, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\"}", KERR_PARAMS, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":[]}", KERR_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{}}", KERR_CHANNELS, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[]}}", KERR_CHANNELS, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":\"orderbook_delta\"}}", KERR_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"trade\"],\"market_ticker\":\"A\"}}",
	  KERR_UNKNOWN_CHANNEL, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"]}}", KERR_TICKER, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_tickers\":[]}}", KERR_TICKER, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_tickers\":[1]}}", KERR_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_ticker\":\"A\",\"market_tickers\":[\"B\"]}}", KERR_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_ticker\":\"A\",\"since\":\"yesterday\"}}", KERR_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_ticker\":\"A\",\"since\":-5}}", KERR_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_ticker\":\"A\",\"since\":9223372036854775806}}", KERR_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"unsubscribe\",\"params\":{}}", KERR_SIDS, true },
	{ "{\"id\":1,\"cmd\":\"unsubscribe\",\"params\":{\"sids\":[]}}", KERR_SIDS, true },
	{ "{\"id\":1,\"cmd\":\"unsubscribe\",\"params\":{\"sids\":[\"1\"]}}", KERR_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1,2],\"market_ticker\":\"A\","
	  "\"action\":\"add_markets\"}}", KERR_ONE_SID, true },
	{ "{\"id\":1,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1],\"market_ticker\":\"A\"}}",
	  KERR_ACTION, true },
	{ "{\"id\":1,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1],\"market_ticker\":\"A\","
	  "\"action\":\"replace\"}}", KERR_ACTION_UNSUPPORTED, true },
	{ "{\"id\":1,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1],\"action\":\"add_markets\"}}",
	  KERR_TICKER, true },
};

static void
test_malformed(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kcmd c;
		int rc = parse(bad[i].in, &c);

		if (rc != bad[i].code || c.has_id != bad[i].has_id)
			fprintf(stderr, "kcmd feed case %zu: %s -> %d\n", i, bad[i].in, rc);
		CU_ASSERT_EQUAL(rc, bad[i].code);
		CU_ASSERT_EQUAL(c.has_id, bad[i].has_id);
		CU_ASSERT_PTR_NOT_NULL(c.why);
		CU_ASSERT_STRING_NOT_EQUAL(kerr_msg(rc), "Error");
		kcmd_free(&c);
	}
	CU_ASSERT_STRING_EQUAL(kerr_msg(16), "Market not found");
	CU_ASSERT_STRING_EQUAL(kerr_msg(25), "Subscription buffer overflow");
	CU_ASSERT_STRING_EQUAL(kerr_msg(99), "Error");
}

static int
parse_x(const char *s, struct kcmd *c)
{
	return kcmd_parse(&kcmd_exchange, s, strlen(s), c);
}

/* The exchange's dialect: three channels, lifecycle without tickers, use_yes_price, 32-bit sids. */
static void
test_exchange_valid(void)
{
	struct kcmd c;

	CU_ASSERT_EQUAL(parse_x("{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":"
	    "[\"orderbook_delta\",\"market_lifecycle_v2\"],\"market_tickers\":[\"A\"],"
	    "\"use_yes_price\":true}}", &c), 0);
	CU_ASSERT_EQUAL(c.channels, 1u << KCMD_CH_ORDERBOOK | 1u << KCMD_CH_LIFECYCLE);
	CU_ASSERT(c.use_yes_price);
	kcmd_free(&c);

	/* lifecycle channels need no tickers */
	CU_ASSERT_EQUAL(parse_x("{\"id\":2,\"cmd\":\"subscribe\",\"params\":{\"channels\":"
	    "[\"multivariate_market_lifecycle\"]}}", &c), 0);
	CU_ASSERT_EQUAL(c.channels, 1u << KCMD_CH_MVE_LIFECYCLE);
	CU_ASSERT_EQUAL(c.n_tickers, 0);
	kcmd_free(&c);

	/* since is not the exchange's: ignored like any unknown member, even when malformed */
	CU_ASSERT_EQUAL(parse_x("{\"id\":3,\"cmd\":\"subscribe\",\"params\":{\"channels\":"
	    "[\"orderbook_delta\"],\"market_ticker\":\"A\",\"since\":\"yesterday\"}}", &c), 0);
	CU_ASSERT(!c.has_since);
	kcmd_free(&c);

	/* sids up to 2^32-1 on the exchange; past the feed's bound they read as 0 there */
	CU_ASSERT_EQUAL(parse_x("{\"cmd\":\"unsubscribe\",\"params\":{\"sids\":[4294967295,4294967296]}}",
	    &c), 0);
	CU_ASSERT(c.n_sids == 2 && c.sids[0] == 4294967295LL && c.sids[1] == 0);
	kcmd_free(&c);
	CU_ASSERT_EQUAL(parse("{\"cmd\":\"unsubscribe\",\"params\":{\"sids\":[2147483646,2147483647]}}",
	    &c), 0);
	CU_ASSERT(c.n_sids == 2 && c.sids[0] == 2147483646LL && c.sids[1] == 0);
	kcmd_free(&c);

	/* the feed ignores use_yes_price and refuses the lifecycle channels */
	CU_ASSERT_EQUAL(parse("{\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	    "\"market_ticker\":\"A\",\"use_yes_price\":\"no\"}}", &c), 0);
	CU_ASSERT(!c.use_yes_price);
	kcmd_free(&c);
	CU_ASSERT_EQUAL(parse("{\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"market_lifecycle_v2\"]}}",
	    &c), KERR_UNKNOWN_CHANNEL);
	kcmd_free(&c);
	CU_ASSERT_STRING_EQUAL(kcmd_channel_name(KCMD_CH_LIFECYCLE), "market_lifecycle_v2");
	CU_ASSERT_STRING_EQUAL(kcmd_channel_name(KCMD_CH_COUNT), "unknown");
}

/* The exchange's order of checks (the sim's ERRORS matrix of tests/sim/kalshi_ws_check.py). */
static const struct {
	const char *in;
	int code;
} bad_x[] = {
	{ "hello", KERR_PROCESS },
	{ "{\"id\":2,\"cmd\":\"subscribe\"}", KERR_PARAMS },
	{ "{\"id\":3,\"cmd\":\"subscribe\",\"params\":{\"market_tickers\":[\"X\"]}}", KERR_CHANNELS },
	{ "{\"id\":3,\"cmd\":\"subscribe\",\"params\":{\"channels\":null}}", KERR_CHANNELS },
	{ "{\"id\":4,\"cmd\":\"unsubscribe\",\"params\":{}}", KERR_SIDS },
	{ "{\"id\":5,\"cmd\":\"subscribe_all\",\"params\":{}}", KERR_UNKNOWN_CMD },
	{ "{\"id\":8,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"nope\"]}}", KERR_UNKNOWN_CHANNEL },
	/* an unknown channel is reported before missing tickers */
	{ "{\"id\":8,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\",\"x\"]}}",
	  KERR_UNKNOWN_CHANNEL },
	{ "{\"id\":11,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_tickers\":[\"A\"],\"use_yes_price\":\"no\"}}", KERR_INVALID },
	/* a bad ticker list is reported before a bad use_yes_price */
	{ "{\"id\":11,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_tickers\":[5],\"use_yes_price\":\"no\"}}", KERR_INVALID },
	{ "{\"id\":11,\"cmd\":\"subscribe\",\"params\":[1]}", KERR_INVALID },
	/* the sid count is checked before the action, the action before the tickers */
	{ "{\"id\":12,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1,2]}}", KERR_ONE_SID },
	{ "{\"id\":15,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1]}}", KERR_ACTION },
	{ "{\"id\":13,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1],\"action\":\"replace\"}}",
	  KERR_ACTION_UNSUPPORTED },
	{ "{\"id\":14,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1],\"action\":\"add_markets\"}}",
	  KERR_TICKER },
	{ "{\"id\":14,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"market_lifecycle_v2\","
	  "\"orderbook_delta\"]}}", KERR_TICKER },
};

static void
test_exchange_malformed(void)
{
	char big[64 + 20001 * 4];
	size_t n;
	struct kcmd c;

	for (size_t i = 0; i < sizeof(bad_x) / sizeof(bad_x[0]); i++) {
		int rc = parse_x(bad_x[i].in, &c);

		if (rc != bad_x[i].code)
			fprintf(stderr, "kcmd exchange case %zu: %s -> %d\n", i, bad_x[i].in, rc);
		CU_ASSERT_EQUAL(rc, bad_x[i].code);
		CU_ASSERT_PTR_NOT_NULL(c.why);
		kcmd_free(&c);
	}
	/* 20 000 tickers is the exchange's bound and twice the feed's */
	n = (size_t)snprintf(big, sizeof(big), "{\"cmd\":\"unsubscribe\",\"params\":{\"sids\":[1");
	for (int i = 1; i < 20000; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, ",1");
	n += (size_t)snprintf(big + n, sizeof(big) - n, "]}}");
	CU_ASSERT_EQUAL(kcmd_parse(&kcmd_exchange, big, n, &c), 0);
	kcmd_free(&c);
	CU_ASSERT_EQUAL(kcmd_parse(&kcmd_feed, big, n, &c), KERR_INVALID);
	kcmd_free(&c);
	n += (size_t)snprintf(big + n - 3, sizeof(big) - n + 3, ",1]}}") - 3;
	CU_ASSERT_EQUAL(kcmd_parse(&kcmd_exchange, big, n, &c), KERR_INVALID);
	kcmd_free(&c);
}

int
test_kcmd_add(void)
{
	CU_pSuite s = CU_add_suite("kcmd", NULL, NULL);

	if (s == NULL || CU_add_test(s, "valid", test_valid) == NULL ||
	    CU_add_test(s, "malformed", test_malformed) == NULL ||
	    CU_add_test(s, "exchange valid", test_exchange_valid) == NULL ||
	    CU_add_test(s, "exchange malformed", test_exchange_malformed) == NULL)
		return -1;
	return 0;
}
