/*
 * when: instants as int64 microseconds since the Unix epoch, parsed from RFC 3339 or unix
 * seconds/milliseconds/microseconds, printed for Postgres (COPY text and parameters) and for JSON.
 *
 * The calendar arithmetic is Howard Hinnant's days-from-civil and its inverse: exact for the
 * proleptic Gregorian calendar, free of time zones and locale. Printing caches the date of the
 * last day printed, since a run prints tens of millions of instants in nearly sorted order.
 */
#include <string.h>

#include "gen.h"

#define WHEN_DAY (INT64_C(86400) * GEN_USEC)

static const char *const when_months[] = {
	"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
};

static int64_t
when_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
when_civil_from_days(int64_t z, int *y, int *m, int *d)
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

/* Reads exactly n digits at *p into *out and advances *p; -1 when they are not all digits. */
static int
when_digits(const char **p, int n, int64_t *out)
{
	int64_t v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int
when_parse_int(const char *s, int64_t *us)
{
	int64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 17)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < INT64_C(100000000000))
		*us = v * GEN_USEC;
	else if (v < INT64_C(100000000000000))
		*us = v * 1000;
	else
		*us = v;
	return 0;
}

int
gen_time_parse(const char *s, int64_t *us)
{
	const char *p = s;
	int64_t y, mo, d, h, mi, sec, frac = 0, off = 0, oh, om;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (strchr(s, '-') == NULL || s[0] == '-')
		return when_parse_int(s, us);
	if (when_digits(&p, 4, &y) || *p++ != '-' || when_digits(&p, 2, &mo) || *p++ != '-' ||
	    when_digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (when_digits(&p, 2, &h) || *p++ != ':' || when_digits(&p, 2, &mi) || *p++ != ':' ||
	    when_digits(&p, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	if (*p == '.') {
		int n = 0;

		p++;
		while (*p >= '0' && *p <= '9') {
			if (++n > 6)
				return -1;
			frac = frac * 10 + (*p++ - '0');
		}
		if (n == 0)
			return -1;
		while (n++ < 6)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (when_digits(&p, 2, &oh) || *p++ != ':' || when_digits(&p, 2, &om) || oh > 23 ||
		    om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*us = ((when_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - off) *
	    GEN_USEC + frac;
	return 0;
}

static void
when_put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/*
 * Writes "YYYY-MM-DD?HH:MM:SS.ffffff" with sep between date and time; returns 26. The date of
 * the last day seen is cached per separator (the process is single-threaded).
 */
static size_t
when_format(int64_t us, char sep, char *buf)
{
	static int64_t cached_day[2] = { INT64_MIN, INT64_MIN };
	static char cached_date[2][11];
	int k = sep == ' ' ? 0 : 1;
	int64_t day = us >= 0 ? us / WHEN_DAY : -((-us + WHEN_DAY - 1) / WHEN_DAY);
	int64_t rem = us - day * WHEN_DAY;
	int64_t secs = rem / GEN_USEC, frac = rem % GEN_USEC;

	if (day != cached_day[k]) {
		int y, m, d;

		when_civil_from_days(day, &y, &m, &d);
		cached_date[k][0] = (char)('0' + y / 1000 % 10);
		cached_date[k][1] = (char)('0' + y / 100 % 10);
		when_put2(&cached_date[k][2], y % 100);
		cached_date[k][4] = '-';
		when_put2(&cached_date[k][5], m);
		cached_date[k][7] = '-';
		when_put2(&cached_date[k][8], d);
		cached_date[k][10] = sep;
		cached_day[k] = day;
	}
	memcpy(buf, cached_date[k], 11);
	when_put2(buf + 11, (int)(secs / 3600));
	buf[13] = ':';
	when_put2(buf + 14, (int)(secs / 60 % 60));
	buf[16] = ':';
	when_put2(buf + 17, (int)(secs % 60));
	buf[19] = '.';
	for (int i = 25; i >= 20; i--) {
		buf[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	return 26;
}

size_t
gen_time_pg(int64_t us, char buf[GEN_TIME_BUFSZ])
{
	size_t n = when_format(us, ' ', buf);

	memcpy(buf + n, "+00", 4);
	return n + 3;
}

size_t
gen_time_rfc3339(int64_t us, char buf[GEN_TIME_BUFSZ])
{
	size_t n = when_format(us, 'T', buf);

	memcpy(buf + n, "Z", 2);
	return n + 1;
}

void
gen_time_kalshi_date(int64_t us, char buf[16])
{
	int y, m, d;

	when_civil_from_days(us / WHEN_DAY, &y, &m, &d);
	when_put2(buf, y % 100);
	memcpy(buf + 2, when_months[m - 1], 3);
	when_put2(buf + 5, d);
	buf[7] = '\0';
}
