/*
 * Tests of lib/kmsg.c: every message example of KALSHI.md, prices and sizes as strings and as
 * JSON numbers, absent and null snapshot sides, malformed frames with the error each gives, and
 * the per-sid sequence check.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "kmsg.h"
#include "tests.h"

static enum kmsg_err
parse(const char *s, struct kmsg *m)
{
	return kmsg_parse(s, strlen(s), m);
}

static void
test_snapshot(void)
{
	struct kmsg m;

	CU_ASSERT_EQUAL_FATAL(parse("{\"type\":\"orderbook_snapshot\",\"sid\":2,\"seq\":1,"
	    "\"msg\":{\"market_ticker\":\"FED-23DEC-T3.00\",\"market_id\":\"9b0f\","
	    "\"yes_dollars_fp\":[[\"0.0800\",\"300.00\"],[\"0.2200\",\"333.00\"]],"
	    "\"no_dollars_fp\":[[\"0.5400\",\"20.00\"],[0.56,146.5]]}}", &m), KMSG_OKAY);
	CU_ASSERT_EQUAL(m.type, KMSG_SNAPSHOT);
	CU_ASSERT_EQUAL(m.sid, 2);
	CU_ASSERT_EQUAL(m.seq, 1);
	CU_ASSERT_EQUAL(m.id, -1);
	CU_ASSERT_STRING_EQUAL(m.ticker, "FED-23DEC-T3.00");
	CU_ASSERT_EQUAL_FATAL(m.n_yes, 2);
	CU_ASSERT_EQUAL_FATAL(m.n_no, 2);
	CU_ASSERT_EQUAL(m.yes[0].price, 80000);
	CU_ASSERT_EQUAL(m.yes[0].size, 30000);
	CU_ASSERT_EQUAL(m.yes[1].price, 220000);
	CU_ASSERT_EQUAL(m.no[1].price, 560000);
	CU_ASSERT_EQUAL(m.no[1].size, 14650);
	kmsg_free(&m);

	/* absent and null sides are empty */
	CU_ASSERT_EQUAL_FATAL(parse("{\"type\":\"orderbook_snapshot\",\"sid\":3,\"seq\":9,"
	    "\"msg\":{\"market_ticker\":\"A\",\"no_dollars_fp\":null}}", &m), KMSG_OKAY);
	CU_ASSERT_EQUAL(m.n_yes, 0);
	CU_ASSERT_EQUAL(m.n_no, 0);
	CU_ASSERT_PTR_NULL(m.yes);
	kmsg_free(&m);
	kmsg_free(&m); /* harmless twice */
}

static void
test_delta(void)
{
	struct kmsg m;

	CU_ASSERT_EQUAL_FATAL(parse("{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":3,"
	    "\"msg\":{\"market_ticker\":\"FED-23DEC-T3.00\",\"market_id\":\"x\","
	    "\"price_dollars\":\"0.9600\",\"delta_fp\":\"-54.00\",\"side\":\"yes\","
	    "\"ts\":\"2022-11-22T20:44:01Z\",\"ts_ms\":1669149841000}}", &m), KMSG_OKAY);
	CU_ASSERT_EQUAL(m.type, KMSG_DELTA);
	CU_ASSERT_EQUAL(m.side, BOOK_YES);
	CU_ASSERT_EQUAL(m.price, 960000);
	CU_ASSERT_EQUAL(m.delta, -5400);
	CU_ASSERT_EQUAL(m.ts_ms, 1669149841000);
	kmsg_free(&m);

	/* numbers for strings, by their original text: 0.1 and 1e-2 exactly, 7 an integer */
	CU_ASSERT_EQUAL_FATAL(parse("{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,"
	    "\"msg\":{\"market_ticker\":\"T\",\"price_dollars\":0.1,\"delta_fp\":7,\"side\":\"no\"}}",
	    &m), KMSG_OKAY);
	CU_ASSERT_EQUAL(m.side, BOOK_NO);
	CU_ASSERT_EQUAL(m.price, 100000);
	CU_ASSERT_EQUAL(m.delta, 700);
	CU_ASSERT_EQUAL(m.ts_ms, -1);
	kmsg_free(&m);
	CU_ASSERT_EQUAL_FATAL(parse("{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,"
	    "\"msg\":{\"market_ticker\":\"T\",\"price_dollars\":1e-2,\"delta_fp\":-0.47,\"side\":\"no\"}}",
	    &m), KMSG_OKAY);
	CU_ASSERT_EQUAL(m.price, 10000);
	CU_ASSERT_EQUAL(m.delta, -47);
	kmsg_free(&m);
}

static void
test_replies(void)
{
	struct kmsg m;

	CU_ASSERT_EQUAL_FATAL(parse("{\"id\":1,\"type\":\"subscribed\",\"msg\":{\"channel\":"
	    "\"orderbook_delta\",\"sid\":1}}", &m), KMSG_OKAY);
	CU_ASSERT_EQUAL(m.type, KMSG_SUBSCRIBED);
	CU_ASSERT_EQUAL(m.id, 1);
	CU_ASSERT_EQUAL(m.sid, 1);
	CU_ASSERT_STRING_EQUAL(m.channel, "orderbook_delta");
	kmsg_free(&m);
	CU_ASSERT_EQUAL_FATAL(parse("{\"id\":3,\"sid\":456,\"seq\":222,\"type\":\"ok\",\"msg\":"
	    "{\"market_tickers\":[\"A\",\"B\",\"C\"]}}", &m), KMSG_OKAY);
	CU_ASSERT_EQUAL(m.type, KMSG_OK);
	CU_ASSERT_EQUAL(m.seq, 222);
	kmsg_free(&m);
	CU_ASSERT_EQUAL_FATAL(parse("{\"id\":7,\"type\":\"ok\",\"msg\":[{\"channel\":\"x\",\"sid\":1}]}",
	    &m), KMSG_OKAY);
	CU_ASSERT_EQUAL(m.seq, -1);
	kmsg_free(&m);
	CU_ASSERT_EQUAL_FATAL(parse("{\"id\":6,\"sid\":456,\"seq\":7,\"type\":\"unsubscribed\"}", &m),
	    KMSG_OKAY);
	CU_ASSERT_EQUAL(m.type, KMSG_UNSUBSCRIBED);
	kmsg_free(&m);
	CU_ASSERT_EQUAL_FATAL(parse("{\"id\":9,\"type\":\"error\",\"msg\":{\"code\":16,\"msg\":"
	    "\"Market not found\",\"market_ticker\":\"NOPE\"}}", &m), KMSG_OKAY);
	CU_ASSERT_EQUAL(m.type, KMSG_ERROR);
	CU_ASSERT_EQUAL(m.code, 16);
	CU_ASSERT_STRING_EQUAL(m.ticker, "NOPE");
	kmsg_free(&m);
	CU_ASSERT_EQUAL_FATAL(parse("{\"type\":\"error\",\"sid\":4,\"msg\":{\"code\":25,\"msg\":"
	    "\"Subscription buffer overflow\"}}", &m), KMSG_OKAY);
	CU_ASSERT_EQUAL(m.code, 25);
	CU_ASSERT_EQUAL(m.sid, 4);
	kmsg_free(&m);
	CU_ASSERT_EQUAL_FATAL(parse("{\"type\":\"market_lifecycle_v2\",\"sid\":13,\"msg\":"
	    "{\"market_ticker\":\"INXD-23SEP14-B4487\",\"event_type\":\"created\",\"open_ts\":1694635200,"
	    "\"additional_metadata\":{\"event_ticker\":\"INXD-23SEP14\"}}}", &m), KMSG_OKAY);
	CU_ASSERT_EQUAL(m.type, KMSG_LIFECYCLE);
	CU_ASSERT_STRING_EQUAL(m.event_type, "created");
	CU_ASSERT_PTR_NOT_NULL(m.payload);
	kmsg_free(&m);
	CU_ASSERT_EQUAL_FATAL(parse("{\"type\":\"event_lifecycle\",\"sid\":13,\"msg\":{}}", &m),
	    KMSG_OKAY);
	CU_ASSERT_EQUAL(m.type, KMSG_OTHER);
	kmsg_free(&m);
}

static void
test_malformed(void)
{
	static const struct {
		const char *text;
		enum kmsg_err err;
	} cases[] = {
		{ "", KMSG_EJSON },
		{ "[]", KMSG_EJSON },
		{ "{\"type\":\"ok\"", KMSG_EJSON },
		{ "{\"type\":\"ok\"} x", KMSG_EJSON },
		{ "{\"type\":\"ok\"}{}", KMSG_EJSON },
		{ "{}", KMSG_ETYPE },
		{ "{\"type\":3}", KMSG_ETYPE },
		{ "{\"type\":\"ok\",\"id\":\"1\"}", KMSG_EFIELD },
		{ "{\"type\":\"ok\",\"seq\":1.5}", KMSG_EFIELD },
		{ "{\"type\":\"orderbook_delta\",\"sid\":1,\"seq\":1}", KMSG_EFIELD },
		{ "{\"type\":\"orderbook_delta\",\"sid\":1,\"msg\":{\"market_ticker\":\"T\","
		  "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"yes\"}}", KMSG_EFIELD },
		{ "{\"type\":\"orderbook_delta\",\"sid\":1,\"seq\":1,\"msg\":{\"market_ticker\":\"T\","
		  "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"maybe\"}}", KMSG_EFIELD },
		{ "{\"type\":\"orderbook_delta\",\"sid\":1,\"seq\":1,\"msg\":{\"market_ticker\":\"T\","
		  "\"price_dollars\":\"1.5\",\"delta_fp\":\"1\",\"side\":\"yes\"}}", KMSG_EPRICE },
		{ "{\"type\":\"orderbook_delta\",\"sid\":1,\"seq\":1,\"msg\":{\"market_ticker\":\"T\","
		  "\"price_dollars\":\"0.5\",\"delta_fp\":\"1.001\",\"side\":\"yes\"}}", KMSG_ESIZE },
		{ "{\"type\":\"orderbook_delta\",\"sid\":1,\"seq\":1,\"msg\":{\"market_ticker\":\"T\","
		  "\"price_dollars\":true,\"delta_fp\":\"1\",\"side\":\"yes\"}}", KMSG_EFIELD },
		{ "{\"type\":\"orderbook_snapshot\",\"sid\":1,\"seq\":1,\"msg\":{\"market_ticker\":\"T\","
		  "\"yes_dollars_fp\":{}}}", KMSG_EFIELD },
		{ "{\"type\":\"orderbook_snapshot\",\"sid\":1,\"seq\":1,\"msg\":{\"market_ticker\":\"T\","
		  "\"yes_dollars_fp\":[[\"0.1\"]]}}", KMSG_EFIELD },
		{ "{\"type\":\"orderbook_snapshot\",\"sid\":1,\"seq\":1,\"msg\":{\"market_ticker\":\"T\","
		  "\"yes_dollars_fp\":[[\"0.1\",\"2\"],[\"0.2\",\"0\"]]}}", KMSG_ESIZE },
		{ "{\"type\":\"orderbook_snapshot\",\"sid\":1,\"seq\":1,\"msg\":{\"market_ticker\":\"T\","
		  "\"no_dollars_fp\":[[\"-0.1\",\"2\"]]}}", KMSG_EPRICE },
		{ "{\"type\":\"orderbook_snapshot\",\"sid\":1,\"seq\":1,\"msg\":{\"market_ticker\":\"\"}}",
		  KMSG_EFIELD },
		{ "{\"type\":\"subscribed\",\"msg\":{\"channel\":\"x\"}}", KMSG_EFIELD },
		{ "{\"type\":\"error\",\"msg\":{\"code\":\"25\"}}", KMSG_EFIELD },
		{ "{\"type\":\"market_lifecycle_v2\",\"msg\":{\"event_type\":\"created\"}}", KMSG_EFIELD },
	};
	struct kmsg m;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum kmsg_err err = parse(cases[i].text, &m);

		if (err != cases[i].err)
			fprintf(stderr, "\n  %s: got %s, want %s\n", cases[i].text, kmsg_strerror(err),
			    kmsg_strerror(cases[i].err));
		CU_ASSERT_EQUAL(err, cases[i].err);
		CU_ASSERT_PTR_NULL(m.yes);
		CU_ASSERT_PTR_NULL(m.root);
		kmsg_free(&m);
	}
	/* an embedded NUL and invalid UTF-8 */
	CU_ASSERT_EQUAL(kmsg_parse("{\"type\":\"ok\"}\0", 14, &m), KMSG_EJSON);
	CU_ASSERT_EQUAL(parse("{\"type\":\"ok\",\"x\":\"\xff\xfe\"}", &m), KMSG_OKAY);
	kmsg_free(&m);
}

/* KALSHI.md section 4: interleaved markets and acks are not gaps; jumps are; old seqs are dropped. */
static void
test_seq(void)
{
	static const struct {
		int64_t seq;
		enum kmsg_seq want;
		int64_t last_after;
	} steps[] = {
		{ 1, KMSG_SEQ_NEXT, 1 },  /* snapshot A */
		{ 2, KMSG_SEQ_NEXT, 2 },  /* snapshot B */
		{ 3, KMSG_SEQ_NEXT, 3 },  /* delta A */
		{ 4, KMSG_SEQ_NEXT, 4 },  /* ok ack of an add */
		{ 5, KMSG_SEQ_NEXT, 5 },  /* delta B */
		{ 5, KMSG_SEQ_DUP, 5 },   /* duplicate */
		{ 2, KMSG_SEQ_DUP, 5 },   /* straggler */
		{ 8, KMSG_SEQ_GAP, 8 },   /* 6 and 7 dropped */
		{ 10, KMSG_SEQ_GAP, 10 }, /* reordered: 10 before 9 */
		{ 9, KMSG_SEQ_DUP, 10 },  /* ... 9 comes late: dropped, the gap is already recorded */
		{ 11, KMSG_SEQ_NEXT, 11 },
	};
	int64_t last = 0, fresh = 0;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		CU_ASSERT_EQUAL(kmsg_seq_check(&last, steps[i].seq), steps[i].want);
		CU_ASSERT_EQUAL(last, steps[i].last_after);
	}
	/* a new sid (after a resubscribe or a reconnect) starts at 1 */
	CU_ASSERT_EQUAL(kmsg_seq_check(&fresh, 1), KMSG_SEQ_NEXT);
	fresh = 0;
	CU_ASSERT_EQUAL(kmsg_seq_check(&fresh, 3), KMSG_SEQ_GAP);
	CU_ASSERT_EQUAL(kmsg_seq_check(&fresh, 0), KMSG_SEQ_DUP);
	CU_ASSERT_EQUAL(kmsg_seq_check(&fresh, -5), KMSG_SEQ_DUP);
}

/*
 * The fast path for plain deltas against the json-c path: the same error and the same fields on
 * frames it takes (key orders, whitespace, numbers, extra members) and on frames it leaves to
 * json-c (escapes, duplicates, nulls, negative or huge integers, bad values, trailing bytes).
 */
static void
test_fast_path(void)
{
	static const char *const frames[] = {
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":3,\"msg\":{\"market_ticker\":\"FED-23DEC-T3.00\","
		    "\"market_id\":\"x\",\"price_dollars\":\"0.9600\",\"delta_fp\":\"-54.00\",\"side\":\"yes\","
		    "\"ts\":\"2022-11-22T20:44:01Z\",\"ts_ms\":1669149841000}}",
		" { \"msg\" : { \"side\" : \"no\" , \"delta_fp\" : 7 , \"price_dollars\" : 0.1 ,"
		    " \"market_ticker\" : \"T\" , \"x\": [1, {\"a\": null}] } , \"seq\" : 4 , \"sid\" : 2 ,"
		    " \"type\" : \"orderbook_delta\" } \n",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"id\":9,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":1e-2,\"delta_fp\":-0.47,\"side\":\"no\",\"n\":null,\"b\":true}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":-0,\"side\":\"no\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\\u0041\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"no\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"seq\":5,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"no\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"price_dollars\":\"0.6\",\"delta_fp\":\"1\",\"side\":\"no\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":null,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"no\",\"ts_ms\":null}}",
		"{\"type\":\"orderbook_delta\",\"id\":-4,\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"no\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":99999999999999999999,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"no\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"1.5\",\"delta_fp\":\"1\",\"side\":\"no\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"maybe\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"side\":\"no\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"no\"}} x",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"\xc3\xa9\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"no\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"no\",}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":[]}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":.5,\"delta_fp\":\"1\",\"side\":\"no\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":123456789012345678901,\"side\":\"no\"}}",
		"{\"type\":\"orderbook_delta\",\"sid\":2,\"seq\":4,\"msg\":{\"market_ticker\":\"T\","
		    "\"price_dollars\":\"0.5\",\"delta_fp\":\"1\",\"side\":\"no\"",
		"{\"type\":\"orderbook_snapshot\",\"sid\":2,\"seq\":1,\"msg\":{\"market_ticker\":\"T\"}}",
		"{}",
	};
	bool fast_taken = false;

	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		struct kmsg a, b;
		enum kmsg_err ea = kmsg_parse(frames[i], strlen(frames[i]), &a);
		enum kmsg_err eb = kmsg_parse_json(frames[i], strlen(frames[i]), &b);

		CU_ASSERT_EQUAL(ea, eb);
		if (ea == KMSG_OKAY && eb == KMSG_OKAY) {
			CU_ASSERT_EQUAL(a.type, b.type);
			CU_ASSERT_EQUAL(a.id, b.id);
			CU_ASSERT_EQUAL(a.sid, b.sid);
			CU_ASSERT_EQUAL(a.seq, b.seq);
			CU_ASSERT_STRING_EQUAL(a.ticker, b.ticker);
			CU_ASSERT_EQUAL(a.side, b.side);
			CU_ASSERT_EQUAL(a.price, b.price);
			CU_ASSERT_EQUAL(a.delta, b.delta);
			CU_ASSERT_EQUAL(a.ts_ms, b.ts_ms);
			/* the fast path builds no json-c tree */
			if (a.type == KMSG_DELTA && a.root == NULL)
				fast_taken = true;
		}
		kmsg_free(&a);
		kmsg_free(&b);
	}
	CU_ASSERT_TRUE(fast_taken);
}

int
test_kmsg_add(void)
{
	CU_pSuite s = CU_add_suite("kmsg", NULL, NULL);

	if (s == NULL || CU_add_test(s, "snapshot", test_snapshot) == NULL ||
	    CU_add_test(s, "delta", test_delta) == NULL ||
	    CU_add_test(s, "replies", test_replies) == NULL ||
	    CU_add_test(s, "malformed", test_malformed) == NULL ||
	    CU_add_test(s, "seq", test_seq) == NULL ||
	    CU_add_test(s, "fast delta path equals json-c", test_fast_path) == NULL)
		return -1;
	return 0;
}
