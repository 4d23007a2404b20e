/*
 * clock: the sim's clock, the wall clock plus every advance (POST /_sim/clock), like a Stripe
 * test clock that only moves forward. Object timestamps, periods and event times come from it;
 * webhook signatures use the wall clock, as receivers check them against theirs.
 */
#include <time.h>

#include "ss.h"

static int64_t clock_offset;

int64_t
ss_now(void)
{
	return (int64_t)time(NULL) + clock_offset;
}

void
ss_clock_advance(int64_t seconds)
{
	if (seconds <= 0)
		return;
	clock_offset += seconds;
	ss_billing_run();
	ss_checkout_sweep();
}

int64_t
ss_add_months(int64_t t, int n)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	time_t tt = (time_t)t;
	struct tm tm;
	int y, m, last;

	gmtime_r(&tt, &tm);
	m = tm.tm_mon + n;
	y = tm.tm_year + 1900 + m / 12;
	m %= 12;
	last = mdays[m] + (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 1 : 0);
	tm.tm_year = y - 1900;
	tm.tm_mon = m;
	if (tm.tm_mday > last)
		tm.tm_mday = last;
	return (int64_t)timegm(&tm);
}
