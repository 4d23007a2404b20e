/*
 * Tests for lib/ktime: RFC 3339 forms, unix seconds/milliseconds/microseconds, malformed input,
 * calendar edges, and format/parse round trips.
 */
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "ktime.h"
#include "tests.h"

static void
test_parse_forms(void)
{
	static const struct {
		const char *in;
		int64_t us;
	} ok[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2026-11-24T14:03:07Z", INT64_C(1795528987000000) },
		{ "2026-11-24t14:03:07z", INT64_C(1795528987000000) },
		{ "2026-11-24T14:03:07.5Z", INT64_C(1795528987500000) },
		{ "2026-11-24T14:03:07.123456Z", INT64_C(1795528987123456) },
		{ "2026-11-24T15:03:07+01:00", INT64_C(1795528987000000) },
		{ "2026-11-24T09:33:07-04:30", INT64_C(1795528987000000) },
		{ "2024-02-29T00:00:00Z", INT64_C(1709164800000000) },
		{ "1795528987", INT64_C(1795528987000000) },
		{ "1795528987123", INT64_C(1795528987123000) },
		{ "1795528987123456", INT64_C(1795528987123456) },
		{ "0", 0 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t us = -1;

		CU_ASSERT_EQUAL(kt_parse(ok[i].in, &us), 0);
		CU_ASSERT_EQUAL(us, ok[i].us);
	}
}

static void
test_parse_malformed(void)
{
	static const char *const bad[] = {
		"", " ", "now", "2026-11-24", "2026-11-24T14:03Z", "2026-11-24T14:03:07",
		"2026-11-24 14:03:07Z", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T14:60:00Z",
		"2026-11-24T14:03:60Z", "2026-11-24T14:03:07.Z", "2026-11-24T14:03:07.1234567Z",
		"2026-11-24T14:03:07+1:00", "2026-11-24T14:03:07+24:00", "2026-11-24T14:03:07Zjunk",
		"1969-12-31T23:59:59Z", "-1", "+5", "1.5", "12345678901234567", "99999999999999999999",
		"1e9", "0x10", "2026-11-24T14:03:07.123456Z\n", "１２３",
		/* past year 9999 once the offset is applied (found by tests/fuzz/fuzz_ktime.c) */
		"9999-12-31T23:59:59.999999-14:00", "9999-12-31T23:30:00-00:31",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t us = 42;

		CU_ASSERT_EQUAL(kt_parse(bad[i], &us), -1);
		CU_ASSERT_EQUAL(us, 42);
	}
}

static void
test_format(void)
{
	char buf[KT_BUFSZ];

	kt_format(0, buf);
	CU_ASSERT_STRING_EQUAL(buf, "1970-01-01T00:00:00.000000Z");
	kt_format(INT64_C(1795528987123456), buf);
	CU_ASSERT_STRING_EQUAL(buf, "2026-11-24T14:03:07.123456Z");
	kt_format(INT64_C(1709164800000001), buf);
	CU_ASSERT_STRING_EQUAL(buf, "2024-02-29T00:00:00.000001Z");
}

static void
test_round_trip(void)
{
	uint64_t x = 88172645463325252u;

	for (int i = 0; i < 100000; i++) {
		char buf[KT_BUFSZ];
		int64_t us, back = -1;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		us = (int64_t)(x % UINT64_C(4102444800000000)); /* 1970 .. 2100 */
		kt_format(us, buf);
		CU_ASSERT_EQUAL(kt_parse(buf, &back), 0);
		if (back != us) {
			CU_FAIL("round trip");
			break;
		}
	}
	CU_ASSERT_TRUE(kt_now() > INT64_C(1700000000000000));
}

int
test_ktime_add(void)
{
	CU_pSuite s = CU_add_suite("ktime", NULL, NULL);

	if (s == NULL || CU_add_test(s, "parse forms", test_parse_forms) == NULL ||
	    CU_add_test(s, "parse malformed", test_parse_malformed) == NULL ||
	    CU_add_test(s, "format", test_format) == NULL ||
	    CU_add_test(s, "round trip", test_round_trip) == NULL)
		return -1;
	return 0;
}
