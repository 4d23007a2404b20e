/*
 * ktime: instants as integer microseconds since the Unix epoch (UTC), as kbook stores `ts`.
 *
 * Parsing accepts RFC 3339 ("2026-11-24T14:03:07Z", "2026-11-24T14:03:07.123456+01:00", up to 6
 * fractional digits, 'T' or 't', 'Z' or 'z' or an offset) and integer unix time in seconds (up to
 * 11 digits), milliseconds (12 to 14 digits) or microseconds (15 or 16 digits), told apart by
 * their number of digits. Years 1970..9999. Printing gives RFC 3339 UTC with 6 fractional digits.
 */
#ifndef KBOOK_KTIME_H
#define KBOOK_KTIME_H

#include <stddef.h>
#include <stdint.h>

#define KT_BUFSZ 32
/* 9999-12-31T23:59:59.999999Z: the last instant kt_format prints and kt_parse accepts. */
#define KT_MAX INT64_C(253402300799999999)

/* Parses s (NUL-terminated); returns 0 and stores microseconds, or -1 when malformed. */
int kt_parse(const char *s, int64_t *us);

/* Formats us as "YYYY-MM-DDTHH:MM:SS.ffffffZ". Returns the length. */
size_t kt_format(int64_t us, char buf[KT_BUFSZ]);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12), and back. */
int64_t kt_days_from_civil(int64_t y, int64_t m, int64_t d);
void kt_civil_from_days(int64_t days, int *y, int *m, int *d);

/* The current time in microseconds (CLOCK_REALTIME). */
int64_t kt_now(void);

#endif
