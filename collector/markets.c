/*
 * markets: the collector's registry of markets, by ticker, in one growing array and an
 * open-addressing hash of indices. Socket thread only. Indices are stable for the process's life:
 * they are how queued events name a market (the writer maps them to database ids).
 */
#include <stdlib.h>
#include <string.h>

#include "coll.h"

static struct coll_market *markets;
static int n_markets, cap_markets;
static int *hash;          /* index + 1, 0 = empty */
static size_t hash_cap;    /* a power of two, at least twice n_markets */

static size_t
hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int
hash_grow(void)
{
	size_t cap = hash_cap == 0 ? 1024 : hash_cap * 2;
	int *h = calloc(cap, sizeof(*h));

	if (h == NULL)
		return -1;
	for (int i = 0; i < n_markets; i++) {
		size_t j = hash_str(markets[i].ticker) & (cap - 1);

		while (h[j] != 0)
			j = (j + 1) & (cap - 1);
		h[j] = i + 1;
	}
	free(hash);
	hash = h;
	hash_cap = cap;
	return 0;
}

int
coll_market_find(const char *ticker)
{
	if (hash_cap == 0)
		return -1;
	for (size_t j = hash_str(ticker) & (hash_cap - 1); hash[j] != 0; j = (j + 1) & (hash_cap - 1))
		if (strcmp(markets[hash[j] - 1].ticker, ticker) == 0)
			return hash[j] - 1;
	return -1;
}

int
coll_market_add(const char *ticker, bool *added)
{
	int idx = coll_market_find(ticker);
	size_t j;

	*added = false;
	if (idx >= 0)
		return idx;
	if ((size_t)(n_markets + 1) * 2 > hash_cap && hash_grow() != 0)
		return -1;
	if (n_markets == cap_markets) {
		int cap = cap_markets == 0 ? 1024 : cap_markets * 2;
		struct coll_market *m = realloc(markets, (size_t)cap * sizeof(*m));

		if (m == NULL)
			return -1;
		markets = m;
		cap_markets = cap;
	}
	memset(&markets[n_markets], 0, sizeof(markets[n_markets]));
	if ((markets[n_markets].ticker = strdup(ticker)) == NULL)
		return -1;
	markets[n_markets].sub = -1;
	for (j = hash_str(ticker) & (hash_cap - 1); hash[j] != 0; j = (j + 1) & (hash_cap - 1))
		;
	hash[j] = n_markets + 1;
	*added = true;
	return n_markets++;
}

struct coll_market *
coll_market(int idx)
{
	return &markets[idx];
}

int
coll_market_count(void)
{
	return n_markets;
}

void
coll_markets_free(void)
{
	for (int i = 0; i < n_markets; i++) {
		free(markets[i].ticker);
		book_free(markets[i].book);
	}
	free(markets);
	free(hash);
	markets = NULL;
	hash = NULL;
	n_markets = cap_markets = 0;
	hash_cap = 0;
}
