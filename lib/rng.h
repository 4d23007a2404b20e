/*
 * rng: a small deterministic random generator, xoshiro256** (Blackman and Vigna) seeded through
 * splitmix64, so one 64-bit seed gives the same sequence on every machine. For simulations and
 * generated test data, never for secrets (lib/apikey uses libsodium).
 */
#ifndef KBOOK_RNG_H
#define KBOOK_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* One splitmix64 step: advances *x and returns a well-mixed 64-bit value. */
uint64_t rng_splitmix(uint64_t *x);
/* Seeds r from seed (its four words are successive splitmix64 outputs). */
void rng_seed(struct rng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t rng_next(struct rng *r);

#endif
