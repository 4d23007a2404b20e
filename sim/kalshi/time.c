/*
 * time: the simulator's clock. Every timestamp the sim shows (send times, ts_ms, the ground truth
 * instants) comes from sim_now_us, the wall clock in microseconds.
 */
#include <time.h>

#include "sim.h"

int64_t
sim_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
sim_fmt_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
