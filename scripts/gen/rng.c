/*
 * rng: the deterministic random source of kbook-gen.
 *
 * xoshiro256** (Blackman and Vigna), seeded through splitmix64 from the run's seed and a stream
 * number, so that each market draws from its own sequence: a market's history depends only on the
 * seed and the market's position, never on the order in which the run interleaves markets.
 */
#include "gen.h"

static uint64_t
rng_splitmix(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t
rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
gen_rng_seed(struct gen_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ rng_splitmix(&stream);

	for (int i = 0; i < 4; i++)
		r->s[i] = rng_splitmix(&x);
}

uint64_t
gen_rng_next(struct gen_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return out;
}

uint64_t
gen_rng_below(struct gen_rng *r, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = gen_rng_next(r);
	while (x >= limit);
	return x % n;
}

double
gen_rng_unit(struct gen_rng *r)
{
	return (double)(gen_rng_next(r) >> 11) * 0x1.0p-53;
}

bool
gen_rng_chance(struct gen_rng *r, uint64_t num, uint64_t den)
{
	return gen_rng_below(r, den) < num;
}

uint64_t
gen_rng_geom(struct gen_rng *r, unsigned k, uint64_t max)
{
	uint64_t n = 0;

	while (n < max && gen_rng_below(r, UINT64_C(1) << k) != 0)
		n++;
	return n;
}
