/*
 * rng: the deterministic random source of kbook-gen.
 *
 * lib/rng's xoshiro256**, seeded through splitmix64 from the run's seed and a stream number, so that each market draws from its own sequence: a market's history depends only on the
 * seed and the market's position, never on the order in which the run interleaves markets.
 */
#include "gen.h"

void
gen_rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	rng_seed(r, seed ^ rng_splitmix(&stream));
}

uint64_t
gen_rng_below(struct rng *r, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = rng_next(r);
	while (x >= limit);
	return x % n;
}

double
gen_rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

bool
gen_rng_chance(struct rng *r, uint64_t num, uint64_t den)
{
	return gen_rng_below(r, den) < num;
}

uint64_t
gen_rng_geom(struct rng *r, unsigned k, uint64_t max)
{
	uint64_t n = 0;

	while (n < max && gen_rng_below(r, UINT64_C(1) << k) != 0)
		n++;
	return n;
}
