/*
 * Tests of lib/feed_cmd.c: every command of KALSHI.md section 3 with kbook's `since`, and the
 * malformed-command matrix with the error code Kalshi gives for each (the first that applies).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "feed_cmd.h"
#include "tests.h"

static int
parse(const char *s, struct feed_cmd *c)
{
	return feed_cmd_parse(s, strlen(s), c);
}

static void
test_valid(void)
{
	struct feed_cmd c;

	CU_ASSERT_EQUAL(parse("{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":"
	    "[\"orderbook_delta\"],\"market_tickers\":[\"A\",\"B\"]}}", &c), 0);
	CU_ASSERT_EQUAL(c.type, FEED_CMD_SUBSCRIBE);
	CU_ASSERT(c.has_id && c.id == 1);
	CU_ASSERT_EQUAL_FATAL(c.n_tickers, 2);
	CU_ASSERT_STRING_EQUAL(c.tickers[1], "B");
	CU_ASSERT(!c.has_since);
	feed_cmd_free(&c);

	CU_ASSERT_EQUAL(parse("{\"id\":2,\"cmd\":\"subscribe\",\"params\":{\"channels\":"
	    "[\"orderbook_delta\"],\"market_ticker\":\"A\",\"since\":1700000000123456}}", &c), 0);
	CU_ASSERT_EQUAL(c.n_tickers, 1);
	CU_ASSERT(c.has_since && c.since == 1700000000123456LL);
	feed_cmd_free(&c);

	CU_ASSERT_EQUAL(parse("{\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	    "\"market_ticker\":\"A\",\"since\":\"2023-11-14T22:13:20.5Z\"}}", &c), 0);
	CU_ASSERT(!c.has_id);
	CU_ASSERT(c.has_since && c.since == 1700000000500000LL);
	feed_cmd_free(&c);

	CU_ASSERT_EQUAL(parse("{\"id\":3,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[456],"
	    "\"market_tickers\":[\"C\"],\"action\":\"add_markets\"}}", &c), 0);
	CU_ASSERT_EQUAL(c.type, FEED_CMD_UPDATE);
	CU_ASSERT_EQUAL(c.action, FEED_ACT_ADD);
	CU_ASSERT(c.n_sids == 1 && c.sids[0] == 456);
	feed_cmd_free(&c);

	CU_ASSERT_EQUAL(parse("{\"id\":5,\"cmd\":\"update_subscription\",\"params\":{\"sid\":4,"
	    "\"market_ticker\":\"A\",\"action\":\"get_snapshot\"}}", &c), 0);
	CU_ASSERT_EQUAL(c.action, FEED_ACT_SNAPSHOT);
	feed_cmd_free(&c);

	CU_ASSERT_EQUAL(parse("{\"id\":6,\"cmd\":\"unsubscribe\",\"params\":{\"sids\":[1,2]}}", &c), 0);
	CU_ASSERT_EQUAL(c.type, FEED_CMD_UNSUBSCRIBE);
	CU_ASSERT_EQUAL(c.n_sids, 2);
	feed_cmd_free(&c);

	CU_ASSERT_EQUAL(parse(" {\"id\":7,\"cmd\":\"list_subscriptions\"}\n", &c), 0);
	CU_ASSERT_EQUAL(c.type, FEED_CMD_LIST);
	feed_cmd_free(&c);
}

static const struct {
	const char *in;
	int code;
	bool has_id;
} bad[] = {
	{ "", FEED_E_PROCESS, false },
	{ "not json", FEED_E_PROCESS, false },
	{ "[1,2]", FEED_E_PROCESS, false },
	{ "{\"id\":1,\"cmd\":\"list_subscriptions\"} x", FEED_E_PROCESS, false },
	{ "{\"id\":\"1\",\"cmd\":\"list_subscriptions\"}", FEED_E_INVALID, false },
	{ "{\"id\":1}", FEED_E_UNKNOWN_CMD, true },
	{ "{\"id\":1,\"cmd\":\"dance\"}", FEED_E_UNKNOWN_CMD, true },
	{ "{\"id\":1,\"cmd\":7}", FEED_E_UNKNOWN_CMD, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\"}", FEED_E_PARAMS, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":[]}", FEED_E_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{}}", FEED_E_CHANNELS, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[]}}", FEED_E_CHANNELS, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":\"orderbook_delta\"}}", FEED_E_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"trade\"],\"market_ticker\":\"A\"}}",
	  FEED_E_UNKNOWN_CHANNEL, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"]}}", FEED_E_TICKER, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_tickers\":[]}}", FEED_E_TICKER, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_tickers\":[1]}}", FEED_E_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_ticker\":\"A\",\"market_tickers\":[\"B\"]}}", FEED_E_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_ticker\":\"A\",\"since\":\"yesterday\"}}", FEED_E_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_ticker\":\"A\",\"since\":-5}}", FEED_E_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"orderbook_delta\"],"
	  "\"market_ticker\":\"A\",\"since\":9223372036854775806}}", FEED_E_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"unsubscribe\",\"params\":{}}", FEED_E_SIDS, true },
	{ "{\"id\":1,\"cmd\":\"unsubscribe\",\"params\":{\"sids\":[]}}", FEED_E_SIDS, true },
	{ "{\"id\":1,\"cmd\":\"unsubscribe\",\"params\":{\"sids\":[\"1\"]}}", FEED_E_INVALID, true },
	{ "{\"id\":1,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1,2],\"market_ticker\":\"A\","
	  "\"action\":\"add_markets\"}}", FEED_E_ONE_SID, true },
	{ "{\"id\":1,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1],\"market_ticker\":\"A\"}}",
	  FEED_E_ACTION, true },
	{ "{\"id\":1,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1],\"market_ticker\":\"A\","
	  "\"action\":\"replace\"}}", FEED_E_ACTION_UNSUPPORTED, true },
	{ "{\"id\":1,\"cmd\":\"update_subscription\",\"params\":{\"sids\":[1],\"action\":\"add_markets\"}}",
	  FEED_E_TICKER, true },
};

static void
test_malformed(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct feed_cmd c;
		int rc = parse(bad[i].in, &c);

		if (rc != bad[i].code || c.has_id != bad[i].has_id)
			fprintf(stderr, "feed_cmd case %zu: %s -> %d\n", i, bad[i].in, rc);
		CU_ASSERT_EQUAL(rc, bad[i].code);
		CU_ASSERT_EQUAL(c.has_id, bad[i].has_id);
		CU_ASSERT_PTR_NOT_NULL(c.why);
		CU_ASSERT_STRING_NOT_EQUAL(feed_err_msg(rc), "Error");
		feed_cmd_free(&c);
	}
	CU_ASSERT_STRING_EQUAL(feed_err_msg(16), "Market not found");
	CU_ASSERT_STRING_EQUAL(feed_err_msg(25), "Subscription buffer overflow");
	CU_ASSERT_STRING_EQUAL(feed_err_msg(99), "Error");
}

int
test_feed_cmd_add(void)
{
	CU_pSuite s = CU_add_suite("feed_cmd", NULL, NULL);

	if (s == NULL || CU_add_test(s, "valid", test_valid) == NULL ||
	    CU_add_test(s, "malformed", test_malformed) == NULL)
		return -1;
	return 0;
}
