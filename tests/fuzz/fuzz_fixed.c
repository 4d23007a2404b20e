/*
 * libFuzzer target for lib/fixed.c. The input is parsed as a price and as a size. Each result is
 * checked against a slow reference parser written differently (a state machine for the syntax,
 * then the digit string shifted by the exponent and read as text), and every accepted value must
 * print within FX_BUFSZ, reparse to itself and print the same again. Any disagreement aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs longer than this skip the reference (it keeps the digits in a fixed buffer). */
#define REF_MAX 8192

enum ref_state { R_START, R_SIGN, R_INT, R_DOT, R_FRAC, R_E, R_ESIGN, R_EXP };

/*
 * The reference: returns the expected error and, on success, the value in units of
 * 10^-unit_digits. Negative values are refused with FX_ERANGE unless allow_neg; any '-' counts.
 */
static enum fx_err
ref_parse(const char *s, size_t len, int unit_digits, bool allow_neg, int64_t max, int64_t *out)
{
	static char dig[REF_MAX];
	enum ref_state st = R_START;
	size_t ndig = 0, nint = 0, nexp = 0;
	bool neg = false, eneg = false;
	long exp = 0, point;
	unsigned __int128 v = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool d = c >= '0' && c <= '9';

		switch (st) {
		case R_START:
			if (c == '-') {
				neg = true;
				st = R_SIGN;
				continue;
			}
			/* FALLTHROUGH */
		case R_SIGN:
		case R_INT:
			if (d) {
				dig[ndig++] = c;
				nint++;
				st = R_INT;
			} else if (st == R_INT && c == '.') {
				st = R_DOT;
			} else if (st == R_INT && (c == 'e' || c == 'E')) {
				st = R_E;
			} else {
				return FX_ESYNTAX;
			}
			break;
		case R_DOT:
		case R_FRAC:
			if (d) {
				dig[ndig++] = c;
				st = R_FRAC;
			} else if (st == R_FRAC && (c == 'e' || c == 'E')) {
				st = R_E;
			} else {
				return FX_ESYNTAX;
			}
			break;
		case R_E:
			if (c == '+' || c == '-') {
				eneg = c == '-';
				st = R_ESIGN;
				break;
			}
			/* FALLTHROUGH */
		case R_ESIGN:
		case R_EXP:
			if (!d || ++nexp > 3)
				return FX_ESYNTAX;
			exp = exp * 10 + (c - '0');
			st = R_EXP;
			break;
		}
	}
	if (st != R_INT && st != R_FRAC && st != R_EXP)
		return FX_ESYNTAX;
	if (neg && !allow_neg)
		return FX_ERANGE;
	if (eneg)
		exp = -exp;
	/* The unit point falls before digit index `point`: digits from there on must be zeros. */
	point = (long)nint + exp + unit_digits;
	for (long k = point < 0 ? 0 : point; k < (long)ndig; k++) {
		if (dig[k] != '0')
			return FX_EPRECISION;
	}
	for (long k = 0; k < point; k++) {
		int dv = k < (long)ndig ? dig[k] - '0' : 0;

		v = v * 10 + (unsigned)dv;
		if (v > (unsigned __int128)INT64_MAX)
			return FX_ERANGE;
	}
	if (v > (unsigned __int128)max)
		return FX_ERANGE;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return FX_OK;
}

static void
check(const char *s, size_t len, bool price)
{
	const int64_t sentinel = INT64_C(0x5a5a5a5a5a5a5a5a);
	char buf[FX_BUFSZ + 8], again[FX_BUFSZ + 8];
	int64_t v = sentinel, w = sentinel, r = sentinel;
	enum fx_err err;
	size_t n, m;

	err = price ? fx_parse_price(s, len, &v) : fx_parse_size(s, len, &v);
	if (len <= REF_MAX) {
		enum fx_err rerr = price ? ref_parse(s, len, 6, false, FX_PRICE_MAX, &r) :
		    ref_parse(s, len, 2, true, FX_SIZE_MAX, &r);
		if (rerr != err || (err == FX_OK && r != v))
			abort();
	}
	if (err != FX_OK) {
		if (v != sentinel || fx_strerror(err)[0] == '\0')
			abort();
		return;
	}
	if (price ? (v < 0 || v > FX_PRICE_MAX) : (v < -FX_SIZE_MAX || v > FX_SIZE_MAX))
		abort();
	memset(buf, 'x', sizeof(buf));
	n = price ? fx_format_price(v, buf) : fx_format_size(v, buf);
	if (n == 0 || n >= FX_BUFSZ || strlen(buf) != n)
		abort();
	if ((price ? fx_parse_price(buf, n, &w) : fx_parse_size(buf, n, &w)) != FX_OK || w != v)
		abort();
	m = price ? fx_format_price(w, again) : fx_format_size(w, again);
	if (m != n || memcmp(buf, again, n + 1) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check((const char *)data, size, true);
	check((const char *)data, size, false);
	return 0;
}
