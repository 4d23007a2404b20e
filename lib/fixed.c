/*
 * fixed: exact parsing and printing of Kalshi's fixed-point prices and sizes.
 *
 * A number is read in two steps. fx_scan checks the syntax and records where the integer digits,
 * the fraction digits and the exponent are, without computing anything. fx_parse then treats the
 * digits as one integer M with a decimal exponent (the value is M * 10^e), skips leading and
 * trailing zeros, and scales into the unit: the result is exact or refused, never rounded. Every
 * step uses integer arithmetic with overflow checks, so no input, however long, can overflow or
 * take more than one pass over its bytes.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fixed.h"

/* Decimal digits of each unit: 10^6 micro-dollars and 10^2 hundredths. */
#define FX_PRICE_DIGITS 6
#define FX_SIZE_DIGITS  2

/* Prices print at least this many decimals, as Kalshi does ("0.4500"). */
#define FX_PRICE_MIN_DECIMALS 4

/* The largest exponent of ten whose power fits in int64. */
#define FX_POW10_MAX 18

/*
 * Where the parts of a syntactically valid number are: the integer digits s[int_at..int_at +
 * int_len), the fraction digits s[frac_at..frac_at + frac_len) (frac_len is 0 when there is no
 * '.'), and the exponent's value (0 when there is none).
 */
struct fx_num {
	bool neg;
	size_t int_at, int_len;
	size_t frac_at, frac_len;
	int exp;
};

static const char *const fx_errors[] = {
	[FX_OK] = "ok",
	[FX_ESYNTAX] = "not a decimal number",
	[FX_EPRECISION] = "too many decimals",
	[FX_ERANGE] = "out of range",
};

static bool
fx_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* Returns the index just past the run of digits that starts at s[i]. */
static size_t
fx_skip_digits(const char *s, size_t len, size_t i)
{
	while (i < len && fx_isdigit(s[i]))
		i++;
	return i;
}

/*
 * Checks that s[0..len) is -?D+(.D+)?([eE][+-]?D{1,3})? and fills *num. Returns FX_ESYNTAX for
 * anything else, including empty text, spaces, a leading '+', "1.", ".5" and 4-digit exponents.
 */
static enum fx_err
fx_scan(const char *s, size_t len, struct fx_num *num)
{
	size_t i = 0, j;

	memset(num, 0, sizeof(*num));
	if (i < len && s[i] == '-') {
		num->neg = true;
		i++;
	}
	j = fx_skip_digits(s, len, i);
	if (j == i)
		return FX_ESYNTAX;
	num->int_at = i;
	num->int_len = j - i;
	i = j;
	if (i < len && s[i] == '.') {
		i++;
		j = fx_skip_digits(s, len, i);
		if (j == i)
			return FX_ESYNTAX;
		num->frac_at = i;
		num->frac_len = j - i;
		i = j;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		bool eneg = false;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-')) {
			eneg = s[i] == '-';
			i++;
		}
		j = fx_skip_digits(s, len, i);
		if (j == i || j - i > 3)
			return FX_ESYNTAX;
		for (; i < j; i++)
			num->exp = num->exp * 10 + (s[i] - '0');
		if (eneg)
			num->exp = -num->exp;
	}
	return i == len ? FX_OK : FX_ESYNTAX;
}

/* The k-th digit of the number's digit string (integer digits, then fraction digits). */
static int
fx_digit(const char *s, const struct fx_num *num, size_t k)
{
	if (k < num->int_len)
		return s[num->int_at + k] - '0';
	return s[num->frac_at + (k - num->int_len)] - '0';
}

/*
 * A digit count as int64, saturated: exponents are at most 999 in magnitude and units at most
 * 10^6, so any count beyond a million decides the same comparisons as its true value would.
 */
static int64_t
fx_count(size_t n)
{
	return n > 1000000 ? 1000000 : (int64_t)n;
}

/*
 * Parses into a unit of 10^-digits and checks the result against 0..max (or -max..max when
 * negatives are allowed). The digit string is M = d[first..last] with zeros trimmed on both
 * sides, and the value in units is M * 10^p where p is the power of the last significant digit.
 * p < 0 means a nonzero digit falls below the unit; a first digit at power 19 or more means the
 * value exceeds int64 whatever follows, which also bounds the loop below to 19 digits.
 */
static enum fx_err
fx_parse(const char *s, size_t len, int digits, bool allow_neg, int64_t max, int64_t *out)
{
	struct fx_num num;
	enum fx_err err;
	size_t ndig, first, last;
	int64_t p, pfirst, v = 0;

	if ((err = fx_scan(s, len, &num)) != FX_OK)
		return err;
	if (num.neg && !allow_neg)
		return FX_ERANGE;
	ndig = num.int_len + num.frac_len;
	for (first = 0; first < ndig && fx_digit(s, &num, first) == 0; first++)
		;
	if (first == ndig) {
		*out = 0;
		return FX_OK;
	}
	for (last = ndig - 1; fx_digit(s, &num, last) == 0; last--)
		;
	/* The power of ten of digit k, in units, is int_len - 1 - k + exp + digits. */
	if (last < num.int_len)
		p = fx_count(num.int_len - 1 - last);
	else
		p = -fx_count(last - num.int_len + 1);
	p += num.exp + digits;
	if (p < 0)
		return FX_EPRECISION;
	pfirst = p + fx_count(last - first);
	if (pfirst > FX_POW10_MAX)
		return FX_ERANGE;
	for (size_t k = first; k <= last; k++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, fx_digit(s, &num, k), &v))
			return FX_ERANGE;
	}
	for (; p > 0; p--) {
		if (__builtin_mul_overflow(v, 10, &v))
			return FX_ERANGE;
	}
	if (v > max)
		return FX_ERANGE;
	*out = num.neg ? -v : v;
	return FX_OK;
}

enum fx_err
fx_parse_price(const char *s, size_t len, int64_t *out)
{
	return fx_parse(s, len, FX_PRICE_DIGITS, false, FX_PRICE_MAX, out);
}

enum fx_err
fx_parse_size(const char *s, size_t len, int64_t *out)
{
	return fx_parse(s, len, FX_SIZE_DIGITS, true, FX_SIZE_MAX, out);
}

/*
 * Prints v / scale with all `digits` decimals, through the unsigned magnitude so that INT64_MIN
 * prints too. Returns the length written (at most 1 + 20 + 1 + digits). Digit by digit rather
 * than with snprintf, which was half the cost of writing an API answer's levels.
 */
static size_t
fx_format(int64_t v, uint64_t scale, int digits, char buf[FX_BUFSZ])
{
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v, ip = mag / scale, fp = mag % scale;
	char rev[20];
	size_t n = 0, k = 0;

	if (v < 0)
		buf[n++] = '-';
	do {
		rev[k++] = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip > 0);
	while (k > 0)
		buf[n++] = rev[--k];
	buf[n++] = '.';
	for (int i = digits - 1; i >= 0; i--, fp /= 10)
		buf[n + (size_t)i] = (char)('0' + fp % 10);
	n += (size_t)digits;
	buf[n] = '\0';
	return n;
}

size_t
fx_format_price(int64_t micros, char buf[FX_BUFSZ])
{
	size_t n = fx_format(micros, FX_PRICE_SCALE, FX_PRICE_DIGITS, buf);
	size_t keep = FX_PRICE_DIGITS - FX_PRICE_MIN_DECIMALS;

	/* Drop up to two trailing zeros: "0.450000" -> "0.4500", "0.001250" -> "0.00125". */
	while (keep > 0 && n > 0 && buf[n - 1] == '0') {
		buf[--n] = '\0';
		keep--;
	}
	return n;
}

size_t
fx_format_size(int64_t hundredths, char buf[FX_BUFSZ])
{
	return fx_format(hundredths, FX_SIZE_SCALE, FX_SIZE_DIGITS, buf);
}

const char *
fx_strerror(enum fx_err err)
{
	if ((size_t)err >= sizeof(fx_errors) / sizeof(fx_errors[0]))
		return "unknown error";
	return fx_errors[err];
}
