/*
 * rng: the simulator's bounded random draws over lib/rng (xoshiro256** seeded through
 * splitmix64), so one 64-bit seed reproduces the same universe and order flow on every machine.
 */
#include "sim.h"

/* Lemire's multiply-shift reduction; the tiny bias does not matter for a simulation. */
uint64_t
sim_rng_below(struct rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

int64_t
sim_rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)sim_rng_below(r, (uint64_t)(hi - lo) + 1);
}
