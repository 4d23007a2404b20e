/*
 * ktime: exact conversion between RFC 3339 text, unix integers and microseconds. Calendar
 * arithmetic is done with integers (days from civil, Howard Hinnant's algorithm), never with the
 * C library's time zone machinery, so results do not depend on TZ.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ktime.h"

#define US_PER_S INT64_C(1000000)

int64_t
kt_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
kt_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Reads exactly n digits at *p into *out, advancing *p. */
static bool
digits(const char **p, int n, int64_t *out)
{
	int64_t v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static int
days_in_month(int64_t y, int64_t m)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

static int
parse_rfc3339(const char *p, int64_t *us)
{
	int64_t y, mo, d, h, mi, s, frac = 0, oh, om, off = 0, days, v;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't')
		return -1;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
	    !digits(&p, 2, &s))
		return -1;
	if (*p == '.') {
		int nfrac = 0;

		p++;
		while (*p >= '0' && *p <= '9') {
			if (++nfrac > 6)
				return -1;
			frac = frac * 10 + (*p++ - '0');
		}
		if (nfrac == 0)
			return -1;
		for (int i = nfrac; i < 6; i++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || s > 59)
		return -1;
	days = kt_days_from_civil(y, mo, d);
	v = ((days * 86400 + h * 3600 + mi * 60 + s - off) * US_PER_S) + frac;
	/* an offset can move 1970-01-01 before the epoch and 9999-12-31 into year 10000 */
	if (v < 0 || v > KT_MAX)
		return -1;
	*us = v;
	return 0;
}

int
kt_parse(const char *s, int64_t *us)
{
	size_t n = strlen(s);
	int64_t v = 0;

	if (n == 0)
		return -1;
	if (strspn(s, "0123456789") != n)
		return parse_rfc3339(s, us);
	if (n > 16)
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (n <= 11)
		v *= US_PER_S;
	else if (n <= 14)
		v *= 1000;
	if (v > kt_days_from_civil(9999, 12, 31) * 86400 * US_PER_S)
		return -1;
	*us = v;
	return 0;
}

size_t
kt_format(int64_t us, char buf[KT_BUFSZ])
{
	int64_t secs = us >= 0 ? us / US_PER_S : (us - US_PER_S + 1) / US_PER_S;
	int64_t frac = us - secs * US_PER_S;
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - days * 86400;
	int y, m, d;
	int n;

	kt_civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, KT_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", y, m, d, (int)(rem / 3600),
	    (int)(rem / 60 % 60), (int)(rem % 60), (int)frac);
	return n > 0 ? (size_t)n : 0;
}

int64_t
kt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}
