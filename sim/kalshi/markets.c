/*
 * markets: the simulator's market universe, built deterministically from the seed. Series hold
 * events, events hold markets; every market has a tick grid (one of four, including a sub-penny
 * one), a notional of $1, a status, times, and a true book (lib/book) that the order flow moves.
 * Tickers, ids, grids, strikes and statuses depend only on the seed and the counts; times are
 * relative to the start, so they differ between runs.
 *
 * Lookup by ticker goes through an open-addressing hash table sized for max_markets, so markets
 * created later by the lifecycle never force a rehash and pointers to markets stay valid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "log.h"
#include "sim.h"

struct sim_world sim_w;

static struct rng sim_markets_rng;

static const struct {
	const char *ticker, *title, *category, *frequency;
	int64_t strike_base, strike_step;
	char kind; /* 'T' greater-than strikes, 'B' between brackets */
} sim_series_table[] = {
	{ "KXBTCD", "Bitcoin price today at 5pm EST", "Crypto", "daily", 90000, 250, 'T' },
	{ "KXETHD", "Ethereum price today at 5pm EST", "Crypto", "daily", 3000, 20, 'T' },
	{ "KXFED", "Fed funds rate", "Economics", "monthly", 300, 25, 'T' },
	{ "INXD", "S&P 500 daily range", "Financials", "daily", 6000, 25, 'B' },
	{ "KXHIGHNY", "Highest temperature in NYC today", "Climate and Weather", "daily", 40, 2, 'B' },
	{ "KXCPI", "CPI month over month", "Economics", "monthly", 0, 1, 'T' },
	{ "KXGOLDD", "Gold price today", "Financials", "daily", 2600, 10, 'B' },
	{ "KXNBAPTS", "NBA player points", "Sports", "custom", 10, 5, 'T' },
	{ "KXMVECROSSCATEGORY", "Combo: several outcomes together", "Combos", "custom", 1, 1, 'T' },
};
#define SIM_NSERIES (sizeof(sim_series_table) / sizeof(sim_series_table[0]))

static const char *const sim_months[] = {
	"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
};

static const char *const sim_status_names[SIM_M_NSTATUS] = {
	[SIM_M_INITIALIZED] = "initialized",
	[SIM_M_ACTIVE] = "active",
	[SIM_M_INACTIVE] = "inactive",
	[SIM_M_CLOSED] = "closed",
	[SIM_M_DETERMINED] = "determined",
	[SIM_M_FINALIZED] = "finalized",
};

const char *
sim_mstatus_name(enum sim_mstatus s)
{
	return s < SIM_M_NSTATUS ? sim_status_names[s] : "unknown";
}

/* Fills g->prices with every grid price strictly between 0 and the notional. */
static int
sim_grid_build(struct sim_grid *g, int64_t notional)
{
	size_t cap = 0, n = 0;

	for (size_t i = 0; i < g->n_ranges; i++)
		cap += (size_t)((g->ranges[i].end - g->ranges[i].start) / g->ranges[i].step) + 1;
	g->prices = calloc(cap, sizeof(int64_t));
	if (g->prices == NULL)
		return -1;
	for (size_t i = 0; i < g->n_ranges; i++) {
		for (int64_t p = g->ranges[i].start; p <= g->ranges[i].end; p += g->ranges[i].step) {
			if (p <= 0 || p >= notional)
				continue;
			if (n > 0 && g->prices[n - 1] >= p)
				continue;
			g->prices[n++] = p;
		}
	}
	g->n_prices = n;
	return 0;
}

static int
sim_grids_init(void)
{
	static const struct sim_grid defs[] = {
		{ "linear_cent", 1, { { 0, 1000000, 10000 } }, NULL, 0 },
		{ "deci_cent", 1, { { 0, 1000000, 1000 } }, NULL, 0 },
		{ "tapered_deci_cent", 3,
		    { { 0, 100000, 1000 }, { 100000, 900000, 10000 }, { 900000, 1000000, 1000 } },
		    NULL, 0 },
		{ "center_deci_edge_centi_cent", 3,
		    { { 0, 50000, 100 }, { 50000, 950000, 1000 }, { 950000, 1000000, 100 } },
		    NULL, 0 },
	};

	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		sim_w.grids[i] = defs[i];
		if (sim_grid_build(&sim_w.grids[i], 1000000) < 0)
			return -1;
	}
	sim_w.n_grids = sizeof(defs) / sizeof(defs[0]);
	return 0;
}

static uint32_t
sim_hash_str(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static void
sim_hash_insert(uint32_t idx)
{
	const char *t = sim_w.markets[idx].ticker;
	uint32_t mask = sim_w.hash_cap - 1;
	uint32_t h = sim_hash_str(t, strlen(t)) & mask;

	while (sim_w.hash[h] != 0)
		h = (h + 1) & mask;
	sim_w.hash[h] = idx + 1;
}

struct sim_market *
sim_market_find(const char *ticker, size_t len)
{
	uint32_t mask = sim_w.hash_cap - 1;
	uint32_t h;

	if (sim_w.hash == NULL || len >= sizeof(sim_w.markets[0].ticker))
		return NULL;
	h = sim_hash_str(ticker, len) & mask;
	while (sim_w.hash[h] != 0) {
		struct sim_market *m = &sim_w.markets[sim_w.hash[h] - 1];

		if (strncmp(m->ticker, ticker, len) == 0 && m->ticker[len] == '\0')
			return m;
		h = (h + 1) & mask;
	}
	return NULL;
}

struct sim_event *
sim_event_find(const char *ticker)
{
	/* Events are few (markets / markets_per_event): a scan is fast enough for REST. */
	for (uint32_t i = 0; i < sim_w.n_events; i++)
		if (strcmp(sim_w.events[i].ticker, ticker) == 0)
			return &sim_w.events[i];
	return NULL;
}

struct sim_series *
sim_series_find(const char *ticker)
{
	for (uint32_t i = 0; i < sim_w.n_series; i++)
		if (strcmp(sim_w.series[i].ticker, ticker) == 0)
			return &sim_w.series[i];
	return NULL;
}

static void
sim_active_add(struct sim_market *m)
{
	if (m->active_pos != UINT32_MAX)
		return;
	m->active_pos = sim_w.n_active;
	sim_w.active[sim_w.n_active++] = m->idx;
}

static void
sim_active_remove(struct sim_market *m)
{
	uint32_t pos = m->active_pos, last;

	if (pos == UINT32_MAX)
		return;
	last = sim_w.active[--sim_w.n_active];
	sim_w.active[pos] = last;
	sim_w.markets[last].active_pos = pos;
	m->active_pos = UINT32_MAX;
}

void
sim_market_set_status(struct sim_market *m, enum sim_mstatus s)
{
	m->status = (uint8_t)s;
	m->updated_us = sim_now_us();
	if (s == SIM_M_ACTIVE)
		sim_active_add(m);
	else
		sim_active_remove(m);
}

static void
sim_make_uuid(struct rng *r, char out[40])
{
	uint64_t a = rng_next(r), b = rng_next(r);

	snprintf(out, 40, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
	    (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
	    (unsigned)(0x8000 | ((b >> 48) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffULL));
}

/* Creates event number k (within the world) of series s. */
static struct sim_event *
sim_event_new(uint32_t s, uint32_t k)
{
	struct sim_event *e;
	uint32_t mon, day, round;

	if (sim_w.n_events >= sim_w.cap_events)
		return NULL;
	e = &sim_w.events[sim_w.n_events++];
	memset(e, 0, sizeof(*e));
	mon = (k / 28) % 12;
	day = k % 28 + 1;
	round = k / (28 * 12);
	if (round == 0)
		snprintf(e->ticker, sizeof(e->ticker), "%s-26%s%02u", sim_series_table[s].ticker,
		    sim_months[mon], day);
	else
		snprintf(e->ticker, sizeof(e->ticker), "%s-26%s%02uR%u", sim_series_table[s].ticker,
		    sim_months[mon], day, round);
	e->series = s;
	e->first_market = sim_w.n_markets;
	e->mutually_exclusive = sim_series_table[s].kind == 'B';
	snprintf(e->title, sizeof(e->title), "%s on %s %u", sim_series_table[s].title,
	    sim_months[mon], day);
	snprintf(e->sub_title, sizeof(e->sub_title), "On %s %u, 2026", sim_months[mon], day);
	return e;
}

/* Adds market number j of event e, in status st. */
static struct sim_market *
sim_market_new(struct rng *r, struct sim_event *e, uint32_t j, enum sim_mstatus st)
{
	struct sim_market *m;
	int64_t now = sim_now_us() / 1000000;

	if (sim_w.n_markets >= sim_w.opt.max_markets)
		return NULL;
	m = &sim_w.markets[sim_w.n_markets];
	memset(m, 0, sizeof(*m));
	m->idx = sim_w.n_markets;
	m->event = (uint32_t)(e - sim_w.events);
	m->active_pos = UINT32_MAX;
	m->floor_strike = sim_series_table[e->series].strike_base +
	    (int64_t)j * sim_series_table[e->series].strike_step;
	m->kind = sim_series_table[e->series].kind;
	m->cap_strike = m->floor_strike + sim_series_table[e->series].strike_step;
	snprintf(m->ticker, sizeof(m->ticker), "%s-%c%lld", e->ticker, m->kind,
	    (long long)m->floor_strike);
	sim_make_uuid(r, m->id);
	m->grid = (uint8_t)sim_rng_below(r, sim_w.n_grids);
	m->notional = 1000000;
	m->book = book_new(m->notional);
	if (m->book == NULL)
		return NULL;
	{
		size_t k = sim_w.grids[m->grid].n_prices;

		m->fair = sim_rng_range(r, (int64_t)k / 10 + 1, (int64_t)k - (int64_t)k / 10 - 2);
	}
	m->created_ts = now - sim_rng_range(r, 3600, INT64_C(30) * 86400);
	m->open_ts = st == SIM_M_INITIALIZED ? now + sim_rng_range(r, 60, 3600) :
	    m->created_ts + sim_rng_range(r, 0, 3600);
	m->close_ts = st >= SIM_M_CLOSED ? now - sim_rng_range(r, 60, 86400) :
	    now + sim_rng_range(r, 3600, INT64_C(30) * 86400);
	m->exp_ts = m->close_ts;
	if (st == SIM_M_DETERMINED || st == SIM_M_FINALIZED)
		snprintf(m->result, sizeof(m->result), "%s", sim_rng_below(r, 2) ? "yes" : "no");
	if (st == SIM_M_FINALIZED)
		m->settled_ts = m->close_ts + 300;
	m->updated_us = sim_now_us();
	sim_w.n_markets++;
	e->n_markets++;
	sim_hash_insert(m->idx);
	sim_market_set_status(m, st);
	return m;
}

/* The status of a market at start: mostly active, a few of every other kind. */
static enum sim_mstatus
sim_initial_status(struct rng *r)
{
	uint64_t x = sim_rng_below(r, 100);

	if (x < 85)
		return SIM_M_ACTIVE;
	if (x < 92)
		return SIM_M_INITIALIZED;
	if (x < 96)
		return SIM_M_INACTIVE;
	if (x < 98)
		return SIM_M_CLOSED;
	if (x < 99)
		return SIM_M_DETERMINED;
	return SIM_M_FINALIZED;
}

int
sim_markets_init(void)
{
	struct sim_opts *o = &sim_w.opt;
	uint32_t per_series[SIM_NSERIES] = { 0 };
	uint32_t n_events;

	rng_seed(&sim_markets_rng, o->seed);
	if (sim_grids_init() < 0)
		goto nomem;
	sim_w.n_series = SIM_NSERIES;
	sim_w.series = calloc(SIM_NSERIES, sizeof(*sim_w.series));
	if (sim_w.series == NULL)
		goto nomem;
	for (uint32_t i = 0; i < SIM_NSERIES; i++) {
		snprintf(sim_w.series[i].ticker, sizeof(sim_w.series[i].ticker), "%s",
		    sim_series_table[i].ticker);
		snprintf(sim_w.series[i].title, sizeof(sim_w.series[i].title), "%s",
		    sim_series_table[i].title);
		snprintf(sim_w.series[i].category, sizeof(sim_w.series[i].category), "%s",
		    sim_series_table[i].category);
		snprintf(sim_w.series[i].frequency, sizeof(sim_w.series[i].frequency), "%s",
		    sim_series_table[i].frequency);
	}
	n_events = (o->n_markets + o->markets_per_event - 1) / o->markets_per_event;
	sim_w.cap_events = n_events + (o->max_markets - o->n_markets) + 1;
	sim_w.events = calloc(sim_w.cap_events, sizeof(*sim_w.events));
	sim_w.markets = calloc(o->max_markets, sizeof(*sim_w.markets));
	sim_w.active = calloc(o->max_markets, sizeof(*sim_w.active));
	sim_w.hash_cap = 1024;
	while (sim_w.hash_cap < 2 * o->max_markets)
		sim_w.hash_cap *= 2;
	sim_w.hash = calloc(sim_w.hash_cap, sizeof(*sim_w.hash));
	if (sim_w.events == NULL || sim_w.markets == NULL || sim_w.active == NULL || sim_w.hash == NULL)
		goto nomem;
	while (sim_w.n_markets < o->n_markets) {
		uint32_t s = (uint32_t)sim_rng_below(&sim_markets_rng, SIM_NSERIES);
		struct sim_event *e = sim_event_new(s, per_series[s]++);

		if (e == NULL)
			goto nomem;
		for (uint32_t j = 0; j < o->markets_per_event && sim_w.n_markets < o->n_markets; j++) {
			enum sim_mstatus st = sim_initial_status(&sim_markets_rng);

			if (sim_market_new(&sim_markets_rng, e, j, st) == NULL)
				goto nomem;
		}
	}
	return 0;
nomem:
	log_warnx("cannot build the market universe: out of memory");
	return -1;
}

struct sim_market *
sim_market_create(struct rng *r)
{
	uint32_t s = (uint32_t)sim_rng_below(r, SIM_NSERIES);
	uint32_t k = 0;
	struct sim_event *e;

	if (sim_w.n_markets >= sim_w.opt.max_markets)
		return NULL;
	/* the next free event number of the series */
	for (uint32_t i = 0; i < sim_w.n_events; i++)
		if (sim_w.events[i].series == s)
			k++;
	e = sim_event_new(s, k);
	if (e == NULL)
		return NULL;
	return sim_market_new(r, e, 0, SIM_M_INITIALIZED);
}

void
sim_world_free(void)
{
	for (uint32_t i = 0; i < sim_w.n_markets; i++) {
		book_free(sim_w.markets[i].book);
		free(sim_w.markets[i].holders.subs);
	}
	for (size_t i = 0; i < sim_w.n_grids; i++)
		free(sim_w.grids[i].prices);
	free(sim_w.markets);
	free(sim_w.events);
	free(sim_w.series);
	free(sim_w.active);
	free(sim_w.hash);
	sim_w.markets = NULL;
	sim_w.events = NULL;
	sim_w.series = NULL;
	sim_w.active = NULL;
	sim_w.hash = NULL;
}
