/*
 * fixed: Kalshi's fixed-point numbers, exactly, with no floating point anywhere.
 *
 * Prices are integer micro-dollars (0..FX_PRICE_MAX); sizes are integer hundredths of a
 * contract (int64, signed for deltas). Kalshi sends both as decimal strings ("0.96", "0.9600",
 * "13815.66", "-54.00") and sometimes as JSON numbers (0.96, 1e-2): the parsers take the raw text
 * of either. A value is accepted only when it is exactly representable in its unit: "0.9600001"
 * is refused as a price (7 decimals), "1.005" is refused as a size; trailing zeros are fine.
 */
#ifndef KBOOK_FIXED_H
#define KBOOK_FIXED_H

#include <stddef.h>
#include <stdint.h>

#define FX_PRICE_SCALE 1000000  /* micro-dollars per dollar */
#define FX_PRICE_MAX   1000000  /* $1.00: the largest price a binary market level can have */
#define FX_SIZE_SCALE  100      /* hundredths per contract */
#define FX_SIZE_MAX    INT64_C(100000000000000000) /* 1e15 contracts: far above any real size */

/* Longest printed value, with sign and NUL. */
#define FX_BUFSZ 32

enum fx_err {
	FX_OK = 0,
	FX_ESYNTAX,    /* not a decimal number (empty, letters, "1.", ".5e", "NaN", "inf", ...) */
	FX_EPRECISION, /* more significant decimals than the unit holds */
	FX_ERANGE,     /* overflow, or outside the allowed range (negative price, price > max) */
};

/*
 * Parses len bytes at s (not NUL-terminated; no surrounding spaces or quotes). Accepts an optional
 * leading '-' (sizes only; "-0" is 0), digits, an optional '.' with at least one digit on each
 * side, and an optional exponent (e/E, sign, up to 3 digits) as JSON numbers have.
 * On success stores the value and returns FX_OK; on failure leaves *out untouched.
 */
enum fx_err fx_parse_price(const char *s, size_t len, int64_t *out);
enum fx_err fx_parse_size(const char *s, size_t len, int64_t *out);

/*
 * Formats as Kalshi does: prices with 4 decimals, more (up to 6) only when needed to be exact
 * ("0.4500", "0.00125"); sizes with exactly 2 decimals and a '-' when negative ("-54.00").
 * buf must hold FX_BUFSZ bytes. Returns the length written.
 */
size_t fx_format_price(int64_t micros, char buf[FX_BUFSZ]);
size_t fx_format_size(int64_t hundredths, char buf[FX_BUFSZ]);

/* A short English description of an error code, for logs and API messages. */
const char *fx_strerror(enum fx_err err);

#endif
