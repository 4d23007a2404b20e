/*
 * when: instants as int64 microseconds since the Unix epoch, parsed from RFC 3339 or unix
 * seconds/milliseconds/microseconds, printed for Postgres (COPY text and parameters) and for JSON.
 *
 * Parsing and the calendar arithmetic are lib/ktime's. Printing caches the date of the
 * last day printed, since a run prints tens of millions of instants in nearly sorted order.
 */
#include <string.h>

#include "gen.h"
#include "ktime.h"

#define WHEN_DAY (INT64_C(86400) * GEN_USEC)

static const char *const when_months[] = {
	"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
};

/* RFC 3339 or unix seconds/milliseconds/microseconds, exactly as the API takes them. */
int
gen_time_parse(const char *s, int64_t *us)
{
	return kt_parse(s, us);
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

		kt_civil_from_days(day, &y, &m, &d);
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

	kt_civil_from_days(us / WHEN_DAY, &y, &m, &d);
	when_put2(buf, y % 100);
	memcpy(buf + 2, when_months[m - 1], 3);
	when_put2(buf + 5, d);
	buf[7] = '\0';
}
