/*
 * Tests of lib/fixed.c: the spellings Kalshi uses, JSON number texts, a matrix of malformed
 * inputs with the error each must give, the int64 edges, the printed forms, and exact round
 * trips over every price and a deterministic pseudo-random sweep of sizes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "fixed.h"
#include "tests.h"

enum kind { PRICE, SIZE };

struct parse_case {
	enum kind kind;
	enum fx_err err;
	const char *text;
	int64_t value; /* when err is FX_OK */
};

/* A value no parse can produce, to check that failures leave *out alone. */
#define UNTOUCHED INT64_C(0x5a5a5a5a5a5a5a5a)

static enum fx_err
parse(enum kind kind, const char *s, size_t len, int64_t *out)
{
	return kind == PRICE ? fx_parse_price(s, len, out) : fx_parse_size(s, len, out);
}

/*
 * Parses each case from an exact-size heap copy (no NUL after it, so ASan sees any read past
 * len) and checks the error, the value, and that a failure left the output untouched.
 */
static void
check_cases(const struct parse_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct parse_case *c = &cases[i];
		size_t len = strlen(c->text);
		char *copy = malloc(len == 0 ? 1 : len);
		int64_t v = UNTOUCHED;
		enum fx_err err;

		if (copy == NULL) {
			CU_FAIL("out of memory");
			return;
		}
		memcpy(copy, c->text, len);
		err = parse(c->kind, copy, len, &v);
		free(copy);
		if (err != c->err || (err == FX_OK && v != c->value) ||
		    (err != FX_OK && v != UNTOUCHED)) {
			fprintf(stderr, "\n  %s \"%s\": got %s %" PRId64 ", want %s %" PRId64 "\n",
			    c->kind == PRICE ? "price" : "size", c->text, fx_strerror(err), v,
			    fx_strerror(c->err), c->value);
			CU_FAIL("parse case");
		}
	}
}

static void
test_fixed_kalshi_spellings(void)
{
	static const struct parse_case cases[] = {
		{ PRICE, FX_OK, "0.96", 960000 },
		{ PRICE, FX_OK, "0.960", 960000 },
		{ PRICE, FX_OK, "0.9600", 960000 },
		{ PRICE, FX_OK, "0.960000", 960000 },
		{ PRICE, FX_OK, "0.96000000000", 960000 },
		{ PRICE, FX_OK, "0.0800", 80000 },
		{ PRICE, FX_OK, "0.00125", 1250 },
		{ PRICE, FX_OK, "0.000001", 1 },
		{ PRICE, FX_OK, "0", 0 },
		{ PRICE, FX_OK, "0.0000", 0 },
		{ PRICE, FX_OK, "1", 1000000 },
		{ PRICE, FX_OK, "1.0000", 1000000 },
		{ PRICE, FX_OK, "00.5", 500000 },
		{ SIZE, FX_OK, "13815.66", 1381566 },
		{ SIZE, FX_OK, "-54.00", -5400 },
		{ SIZE, FX_OK, "0.47", 47 },
		{ SIZE, FX_OK, "300.00", 30000 },
		{ SIZE, FX_OK, "300", 30000 },
		{ SIZE, FX_OK, "300.0", 30000 },
		{ SIZE, FX_OK, "-0", 0 },
		{ SIZE, FX_OK, "-0.00", 0 },
		{ SIZE, FX_OK, "0", 0 },
		{ SIZE, FX_OK, "-0.01", -1 },
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_fixed_json_numbers(void)
{
	static const struct parse_case cases[] = {
		{ PRICE, FX_OK, "1e-2", 10000 },
		{ PRICE, FX_OK, "1E-2", 10000 },
		{ PRICE, FX_OK, "9.6e-1", 960000 },
		{ PRICE, FX_OK, "96e-2", 960000 },
		{ PRICE, FX_OK, "96E-02", 960000 },
		{ PRICE, FX_OK, "960000e-6", 960000 },
		{ PRICE, FX_OK, "0.0096e2", 960000 },
		{ PRICE, FX_OK, "0.0096e+2", 960000 },
		{ PRICE, FX_OK, "1e0", 1000000 },
		{ PRICE, FX_OK, "1e-0", 1000000 },
		{ PRICE, FX_OK, "1e-6", 1 },
		{ PRICE, FX_OK, "1000e-9", 1 },
		{ PRICE, FX_OK, "0e999", 0 },
		{ PRICE, FX_OK, "0e-999", 0 },
		{ PRICE, FX_OK, "0.1e1", 1000000 },
		{ PRICE, FX_EPRECISION, "1e-7", 0 },
		{ PRICE, FX_ERANGE, "1e1", 0 },
		{ PRICE, FX_ERANGE, "0.5e1", 0 },
		{ SIZE, FX_OK, "1e2", 10000 },
		{ SIZE, FX_OK, "1E+2", 10000 },
		{ SIZE, FX_OK, "-1.5e1", -1500 },
		{ SIZE, FX_EPRECISION, "1.5e-2", 0 },
		{ SIZE, FX_OK, "15e-2", 15 },
		{ SIZE, FX_OK, "-15e-2", -15 },
		{ SIZE, FX_OK, "100000e-5", 100 },
		{ SIZE, FX_OK, "1381566e-2", 1381566 },
		{ SIZE, FX_OK, "1.381566e4", 1381566 },
		{ SIZE, FX_OK, "1e15", FX_SIZE_MAX },
		{ SIZE, FX_OK, "-1e15", -FX_SIZE_MAX },
		{ SIZE, FX_ERANGE, "1e16", 0 },
		{ SIZE, FX_ERANGE, "1e999", 0 },
		{ SIZE, FX_EPRECISION, "1e-999", 0 },
		{ SIZE, FX_OK, "0.0000000000000000000000000000001e31", 100 },
		{ SIZE, FX_OK, "100000000000000000000000000000000e-32", 100 },
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_fixed_malformed(void)
{
	static const struct parse_case cases[] = {
		{ PRICE, FX_ESYNTAX, "", 0 },
		{ SIZE, FX_ESYNTAX, "", 0 },
		{ SIZE, FX_ESYNTAX, "-", 0 },
		{ SIZE, FX_ESYNTAX, "+1", 0 },
		{ PRICE, FX_ESYNTAX, "+0.5", 0 },
		{ SIZE, FX_ESYNTAX, " 1", 0 },
		{ SIZE, FX_ESYNTAX, "1 ", 0 },
		{ SIZE, FX_ESYNTAX, "\t1", 0 },
		{ SIZE, FX_ESYNTAX, "1\n", 0 },
		{ SIZE, FX_ESYNTAX, "- 1", 0 },
		{ SIZE, FX_ESYNTAX, "1.", 0 },
		{ PRICE, FX_ESYNTAX, "0.", 0 },
		{ SIZE, FX_ESYNTAX, ".5", 0 },
		{ SIZE, FX_ESYNTAX, "-.5", 0 },
		{ SIZE, FX_ESYNTAX, ".5e", 0 },
		{ SIZE, FX_ESYNTAX, "1.e5", 0 },
		{ SIZE, FX_ESYNTAX, "1..2", 0 },
		{ SIZE, FX_ESYNTAX, "1.2.3", 0 },
		{ SIZE, FX_ESYNTAX, "1,5", 0 },
		{ SIZE, FX_ESYNTAX, "--1", 0 },
		{ SIZE, FX_ESYNTAX, "1-", 0 },
		{ SIZE, FX_ESYNTAX, "NaN", 0 },
		{ PRICE, FX_ESYNTAX, "nan", 0 },
		{ SIZE, FX_ESYNTAX, "inf", 0 },
		{ SIZE, FX_ESYNTAX, "-inf", 0 },
		{ PRICE, FX_ESYNTAX, "Infinity", 0 },
		{ SIZE, FX_ESYNTAX, "e5", 0 },
		{ SIZE, FX_ESYNTAX, "1e", 0 },
		{ SIZE, FX_ESYNTAX, "1e+", 0 },
		{ SIZE, FX_ESYNTAX, "1e-", 0 },
		{ SIZE, FX_ESYNTAX, "1e1000", 0 },
		{ SIZE, FX_ESYNTAX, "1e0001", 0 },
		{ SIZE, FX_ESYNTAX, "1e5.0", 0 },
		{ SIZE, FX_ESYNTAX, "1e++5", 0 },
		{ SIZE, FX_ESYNTAX, "1ee5", 0 },
		{ SIZE, FX_ESYNTAX, "0x10", 0 },
		{ SIZE, FX_ESYNTAX, "1_000", 0 },
		{ PRICE, FX_ESYNTAX, "\"0.5\"", 0 },
		{ PRICE, FX_ESYNTAX, "$0.50", 0 },
		{ PRICE, FX_ESYNTAX, "0.5%", 0 },
		{ SIZE, FX_ESYNTAX, "\xd9\xa1", 0 },
		{ SIZE, FX_ESYNTAX, "１", 0 },
		{ PRICE, FX_ESYNTAX, "-abc", 0 },
		{ PRICE, FX_ESYNTAX, "-", 0 },
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* An embedded NUL is a byte like any other: it ends nothing and is not a digit. */
static void
test_fixed_length_is_honoured(void)
{
	int64_t v = UNTOUCHED;

	CU_ASSERT_EQUAL(fx_parse_size("1\0", 2, &v), FX_ESYNTAX);
	CU_ASSERT_EQUAL(v, UNTOUCHED);
	CU_ASSERT_EQUAL(fx_parse_price("0.96xyz", 4, &v), FX_OK);
	CU_ASSERT_EQUAL(v, 960000);
	CU_ASSERT_EQUAL(fx_parse_price("0.96xyz", 3, &v), FX_OK);
	CU_ASSERT_EQUAL(v, 900000);
	CU_ASSERT_EQUAL(fx_parse_price("0.96xyz", 2, &v), FX_ESYNTAX);
	CU_ASSERT_EQUAL(fx_parse_price("0.96", 0, &v), FX_ESYNTAX);
	CU_ASSERT_EQUAL(fx_parse_size("12e3", 3, &v), FX_ESYNTAX);
	CU_ASSERT_EQUAL(fx_parse_size("12e3", 2, &v), FX_OK);
	CU_ASSERT_EQUAL(v, 1200);
}

static void
test_fixed_precision(void)
{
	static const struct parse_case cases[] = {
		{ PRICE, FX_EPRECISION, "0.0000001", 0 },
		{ PRICE, FX_EPRECISION, "0.9600001", 0 },
		{ PRICE, FX_EPRECISION, "0.96000010", 0 },
		{ PRICE, FX_EPRECISION, "0.1234567", 0 },
		{ PRICE, FX_EPRECISION, "0.0000005e-1", 0 },
		{ PRICE, FX_OK, "0.1234560", 123456 },
		{ SIZE, FX_EPRECISION, "1.005", 0 },
		{ SIZE, FX_EPRECISION, "0.001", 0 },
		{ SIZE, FX_EPRECISION, "-0.001", 0 },
		{ SIZE, FX_EPRECISION, "13815.661", 0 },
		{ SIZE, FX_OK, "13815.660", 1381566 },
		{ SIZE, FX_EPRECISION, "1.0050", 0 },
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_fixed_range(void)
{
	static const struct parse_case cases[] = {
		{ PRICE, FX_ERANGE, "-0.01", 0 },
		{ PRICE, FX_ERANGE, "-1", 0 },
		{ PRICE, FX_ERANGE, "-0", 0 },
		{ PRICE, FX_ERANGE, "1.000001", 0 },
		{ PRICE, FX_ERANGE, "2", 0 },
		{ PRICE, FX_ERANGE, "1e3", 0 },
		{ PRICE, FX_ERANGE, "99999999999999999999999", 0 },
		{ PRICE, FX_ERANGE, "9223372036854.775807", 0 },
		{ PRICE, FX_ERANGE, "9223372036854.775808", 0 },
		/* Precision is judged before range. */
		{ PRICE, FX_EPRECISION, "5.0000001", 0 },
		{ SIZE, FX_OK, "1000000000000000", FX_SIZE_MAX },
		{ SIZE, FX_OK, "1000000000000000.00", FX_SIZE_MAX },
		{ SIZE, FX_OK, "-1000000000000000.00", -FX_SIZE_MAX },
		{ SIZE, FX_OK, "999999999999999.99", FX_SIZE_MAX - 1 },
		{ SIZE, FX_ERANGE, "1000000000000000.01", 0 },
		{ SIZE, FX_ERANGE, "-1000000000000000.01", 0 },
		/* The int64 edges in hundredths, and one past them. */
		{ SIZE, FX_ERANGE, "92233720368547758.07", 0 },
		{ SIZE, FX_ERANGE, "92233720368547758.08", 0 },
		{ SIZE, FX_ERANGE, "-92233720368547758.08", 0 },
		{ SIZE, FX_ERANGE, "-92233720368547758.09", 0 },
		{ SIZE, FX_ERANGE, "9223372036854775807", 0 },
		{ SIZE, FX_ERANGE, "9223372036854775808", 0 },
		{ SIZE, FX_ERANGE, "18446744073709551616", 0 },
		{ SIZE, FX_ERANGE, "922337203685477580.7e-1", 0 },
		{ SIZE, FX_ERANGE, "0.0922337203685477580e18", 0 },
		{ SIZE, FX_ERANGE, "99999999999999999999999999999999999999", 0 },
		{ SIZE, FX_ERANGE, "1e17", 0 },
		{ SIZE, FX_ESYNTAX, "1e-1e", 0 },
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/*
 * Builds head, n copies of fill, tail into an exact-size heap buffer (no NUL, so ASan sees any
 * read past the end). Caller frees; NULL when out of memory.
 */
static char *
spell_long(const char *head, char fill, size_t n, const char *tail, size_t *len)
{
	size_t hl = strlen(head), tl = strlen(tail), k = 0;
	char *s = malloc(hl + n + tl);

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < hl; i++)
		s[k++] = head[i];
	for (size_t i = 0; i < n; i++)
		s[k++] = fill;
	for (size_t i = 0; i < tl; i++)
		s[k++] = tail[i];
	*len = k;
	return s;
}

/* Many zeros on either side of the significant digits cost nothing and change nothing. */
static void
test_fixed_long_inputs(void)
{
	static const struct {
		enum kind kind;
		enum fx_err err;
		const char *head, *tail;
		int64_t value;
	} cases[] = {
		{ SIZE, FX_OK, "", "1.5", 150 },
		{ SIZE, FX_OK, "-", "1.5", -150 },
		{ PRICE, FX_OK, "0.5", "", 500000 },
		{ PRICE, FX_EPRECISION, "0.5", "1", 0 },
		{ SIZE, FX_EPRECISION, "0.", "1e999", 0 },
		{ SIZE, FX_ERANGE, "1", "e-999", 0 },
	};
	const size_t n = 100000;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 0;
		char *s = spell_long(cases[i].head, '0', n, cases[i].tail, &len);
		int64_t v = UNTOUCHED;
		enum fx_err err;

		if (s == NULL) {
			CU_FAIL("out of memory");
			return;
		}
		err = parse(cases[i].kind, s, len, &v);
		free(s);
		CU_ASSERT_EQUAL(err, cases[i].err);
		CU_ASSERT_EQUAL(v, cases[i].err == FX_OK ? cases[i].value : UNTOUCHED);
	}
}

struct format_case {
	int64_t value;
	const char *text;
};

static void
test_fixed_format_price(void)
{
	static const struct format_case cases[] = {
		{ 0, "0.0000" },
		{ 1, "0.000001" },
		{ 10, "0.00001" },
		{ 100, "0.0001" },
		{ 1250, "0.00125" },
		{ 80000, "0.0800" },
		{ 123456, "0.123456" },
		{ 450000, "0.4500" },
		{ 960000, "0.9600" },
		{ 999999, "0.999999" },
		{ 1000000, "1.0000" },
		/* Out of range values still print exactly. */
		{ -1250, "-0.00125" },
		{ INT64_MAX, "9223372036854.775807" },
		{ INT64_MIN, "-9223372036854.775808" },
	};
	char buf[FX_BUFSZ];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = fx_format_price(cases[i].value, buf);

		CU_ASSERT_STRING_EQUAL(buf, cases[i].text);
		CU_ASSERT_EQUAL(n, strlen(cases[i].text));
	}
}

static void
test_fixed_format_size(void)
{
	static const struct format_case cases[] = {
		{ 0, "0.00" },
		{ 1, "0.01" },
		{ -1, "-0.01" },
		{ 47, "0.47" },
		{ 100, "1.00" },
		{ -5400, "-54.00" },
		{ 1381566, "13815.66" },
		{ FX_SIZE_MAX, "1000000000000000.00" },
		{ -FX_SIZE_MAX, "-1000000000000000.00" },
		{ INT64_MAX, "92233720368547758.07" },
		{ INT64_MIN, "-92233720368547758.08" },
	};
	char buf[FX_BUFSZ];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = fx_format_size(cases[i].value, buf);

		CU_ASSERT_STRING_EQUAL(buf, cases[i].text);
		CU_ASSERT_EQUAL(n, strlen(cases[i].text));
	}
}

/* Every price there is: printed, parsed back, and also read from its JSON exponent form. */
static void
test_fixed_roundtrip_every_price(void)
{
	char buf[FX_BUFSZ], alt[64];
	unsigned bad = 0;

	for (int64_t m = 0; m <= FX_PRICE_MAX; m++) {
		int64_t v = -1, w = -1;
		size_t n = fx_format_price(m, buf);
		int k = snprintf(alt, sizeof(alt), "%" PRId64 "e-6", m);

		if (fx_parse_price(buf, n, &v) != FX_OK || v != m)
			bad++;
		if (k < 0 || fx_parse_price(alt, (size_t)k, &w) != FX_OK || w != m)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static uint64_t
xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/*
 * Checks one size: its printed form parses back to it, and so do spellings that mean the same
 * number (hundredths with an e-2 exponent, extra trailing zeros, contracts with an e0 exponent).
 */
static unsigned
check_size_roundtrip(int64_t h)
{
	char buf[FX_BUFSZ], alt[64];
	unsigned bad = 0;
	int64_t v;
	size_t n = fx_format_size(h, buf);
	int k;

	v = h + 1;
	if (fx_parse_size(buf, n, &v) != FX_OK || v != h)
		bad++;
	memcpy(alt, buf, n);
	memcpy(alt + n, "000e0", 6);
	v = h + 1;
	if (fx_parse_size(alt, n + 5, &v) != FX_OK || v != h)
		bad++;
	k = snprintf(alt, sizeof(alt), "%" PRId64 "e-2", h);
	v = h + 1;
	if (k < 0 || fx_parse_size(alt, (size_t)k, &v) != FX_OK || v != h)
		bad++;
	k = snprintf(alt, sizeof(alt), "%" PRId64 "000e-5", h);
	v = h + 1;
	if (k < 0 || fx_parse_size(alt, (size_t)k, &v) != FX_OK || v != h)
		bad++;
	return bad;
}

static void
test_fixed_roundtrip_sizes(void)
{
	static const int64_t edges[] = {
		0, 1, -1, 9, 10, 99, 100, 101, -100, 999, 1000, 1381566, -5400,
		FX_SIZE_MAX, -FX_SIZE_MAX, FX_SIZE_MAX - 1, -FX_SIZE_MAX + 1,
	};
	uint64_t state = 0x9e3779b97f4a7c15u;
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		bad += check_size_roundtrip(edges[i]);
	for (int i = 0; i < 300000; i++) {
		uint64_t r = xorshift64(&state);
		/* Spread over magnitudes: a random value cut to a random number of digits. */
		uint64_t mod = 1;
		int digits = (int)(r % 18) + 1;
		int64_t h;

		for (int d = 0; d < digits; d++)
			mod *= 10;
		h = (int64_t)(xorshift64(&state) % mod);
		if (h > FX_SIZE_MAX)
			h %= FX_SIZE_MAX + 1;
		if (r & (UINT64_C(1) << 63))
			h = -h;
		bad += check_size_roundtrip(h);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Every value a parse can produce must print in a way that reparses identically. */
static void
test_fixed_reparse_is_canonical(void)
{
	static const char *const prices[] = { "0.96", "0.9600", "96e-2", "0.00125", "1", "0" };
	static const char *const sizes[] = { "-54", "-54.00", "-5.4e1", "13815.66", "0.47", "-0" };
	char a[FX_BUFSZ], b[FX_BUFSZ];
	int64_t v, w;

	for (size_t i = 0; i < sizeof(prices) / sizeof(prices[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(fx_parse_price(prices[i], strlen(prices[i]), &v), FX_OK);
		fx_format_price(v, a);
		CU_ASSERT_EQUAL_FATAL(fx_parse_price(a, strlen(a), &w), FX_OK);
		CU_ASSERT_EQUAL(v, w);
		fx_format_price(w, b);
		CU_ASSERT_STRING_EQUAL(a, b);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(fx_parse_size(sizes[i], strlen(sizes[i]), &v), FX_OK);
		fx_format_size(v, a);
		CU_ASSERT_EQUAL_FATAL(fx_parse_size(a, strlen(a), &w), FX_OK);
		CU_ASSERT_EQUAL(v, w);
		fx_format_size(w, b);
		CU_ASSERT_STRING_EQUAL(a, b);
	}
}

static void
test_fixed_strerror(void)
{
	CU_ASSERT_STRING_EQUAL(fx_strerror(FX_OK), "ok");
	CU_ASSERT_STRING_EQUAL(fx_strerror(FX_ESYNTAX), "not a decimal number");
	CU_ASSERT_STRING_EQUAL(fx_strerror(FX_EPRECISION), "too many decimals");
	CU_ASSERT_STRING_EQUAL(fx_strerror(FX_ERANGE), "out of range");
	CU_ASSERT_STRING_EQUAL(fx_strerror((enum fx_err)99), "unknown error");
}

static const struct {
	const char *name;
	void (*fn)(void);
} fixed_tests[] = {
	{ "Kalshi spellings", test_fixed_kalshi_spellings },
	{ "JSON number texts", test_fixed_json_numbers },
	{ "malformed input matrix", test_fixed_malformed },
	{ "length is honoured", test_fixed_length_is_honoured },
	{ "too many decimals", test_fixed_precision },
	{ "range and int64 edges", test_fixed_range },
	{ "long inputs", test_fixed_long_inputs },
	{ "format price", test_fixed_format_price },
	{ "format size", test_fixed_format_size },
	{ "round trip every price", test_fixed_roundtrip_every_price },
	{ "round trip size sweep", test_fixed_roundtrip_sizes },
	{ "reparse is canonical", test_fixed_reparse_is_canonical },
	{ "strerror", test_fixed_strerror },
};

int
test_fixed_add(void)
{
	CU_pSuite suite = CU_add_suite("fixed", NULL, NULL);

	if (suite == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(fixed_tests) / sizeof(fixed_tests[0]); i++) {
		if (CU_add_test(suite, fixed_tests[i].name, fixed_tests[i].fn) == NULL)
			return -1;
	}
	return 0;
}
