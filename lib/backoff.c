/*
 * backoff: doubling retry waits (see backoff.h).
 */
#include "backoff.h"

int64_t
backoff_wait(int attempts, int64_t first, int64_t max)
{
	int64_t s = first;

	for (int i = 1; i < attempts && s < max; i++)
		s *= 2;
	return s < max ? s : max;
}
