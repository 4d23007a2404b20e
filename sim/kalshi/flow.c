/*
 * flow: the order flow that moves the true books. Each active market has a fair price (an index
 * into its tick grid) that drifts; YES bids rest strictly below it and NO bids strictly below its
 * complement, so a book never crosses. One step picks an active market and makes exactly one
 * change: an add (a level appears or grows), a cancel (a level shrinks or disappears) or a trade
 * at the best bid; when the fair price moved through resting bids, those are traded away first.
 * Sizes are fractional (hundredths of a contract). Every change goes to the book, the ground
 * truth and the subscribers, in that order.
 *
 * The choices come from their own seeded stream, so the sequence of changes depends only on the
 * seed and on the lifecycle (which changes the set of active markets). A 1 ms clock applies as
 * many steps as the configured rate owes.
 *
 * The clock is a timerfd adopted into the event loop, not an lws timer: libwebsockets 4.1 rounds
 * its poll timeout down to whole milliseconds, so with the next timer under 1 ms away it polls
 * with timeout 0 until then, and at a 1 ms period the loop never slept (40 000 polls a second,
 * most of a core, under the feed benchmark).
 */
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "log.h"
#include "sim.h"

#define FLOW_MAX_DEPTH 40   /* levels per side the flow aims to keep at most */
#define FLOW_SCAN 64        /* levels looked at when picking one to cancel */

static struct rng flow_rng;
static struct lws *flow_clock; /* the adopted timerfd */
static int flow_fd = -1;
static int64_t flow_rate;
static int64_t flow_t0;      /* start of the current rate period */
static uint64_t flow_done;   /* changes made in this period */

struct rng *
sim_flow_rng(void)
{
	return &flow_rng;
}

/* Index of price p in grid g (p must be on the grid), by binary search; -1 when absent. */
static int64_t
flow_price_index(const struct sim_grid *g, int64_t p)
{
	size_t lo = 0, hi = g->n_prices;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (g->prices[mid] < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->n_prices && g->prices[lo] == p ? (int64_t)lo : -1;
}

/* The highest grid index a bid of side may rest at, or -1 when none may. */
static int64_t
flow_top_index(const struct sim_market *m, enum book_side side)
{
	const struct sim_grid *g = &sim_w.grids[m->grid];

	if (side == BOOK_YES)
		return m->fair - 1;
	return (int64_t)g->n_prices - 2 - m->fair;
}

static int64_t
flow_size(void)
{
	/* a third whole contracts, the rest fractional, from 0.01 to 500.00 */
	int64_t s = sim_rng_range(&flow_rng, 1, 50000);

	if (sim_rng_below(&flow_rng, 3) == 0)
		s = (s / 100 + 1) * 100;
	return s;
}

/* Applies one change and publishes it. */
static void
flow_apply(struct sim_market *m, enum book_side side, int64_t price, int64_t delta, int64_t t)
{
	enum book_err err = book_apply_delta(m->book, side, price, delta);

	if (err != BOOK_OK) {
		log_warnx("flow: %s %s %lld %+lld refused: %s", m->ticker, side == BOOK_YES ? "yes" : "no",
		    (long long)price, (long long)delta, book_strerror(err));
		return;
	}
	sim_truth_record(t, m->idx, side, price, delta);
	sim_w.st.changes++;
	sim_subs_delta(m, side, price, delta, t);
}

static void
flow_add(struct sim_market *m, enum book_side side, int64_t t)
{
	const struct sim_grid *g = &sim_w.grids[m->grid];
	int64_t top = flow_top_index(m, side), span, idx;

	if (top < 0)
		return;
	span = top < 30 ? top : 30;
	/* nearer the top more often: the depth is the smaller of two draws */
	idx = sim_rng_range(&flow_rng, 0, span);
	{
		int64_t other = sim_rng_range(&flow_rng, 0, span);

		if (other < idx)
			idx = other;
	}
	flow_apply(m, side, g->prices[top - idx], flow_size(), t);
}

static void
flow_cancel(struct sim_market *m, enum book_side side, int64_t t)
{
	struct book_level lv[FLOW_SCAN];
	size_t n = book_copy_levels(m->book, side, lv, FLOW_SCAN);
	size_t k;
	int64_t d;

	if (n == 0) {
		flow_add(m, side, t);
		return;
	}
	k = (size_t)sim_rng_below(&flow_rng, n);
	d = sim_rng_below(&flow_rng, 2) ? lv[k].size : sim_rng_range(&flow_rng, 1, lv[k].size);
	flow_apply(m, side, lv[k].price, -d, t);
}

static void
flow_trade(struct sim_market *m, enum book_side side, int64_t t, bool whole)
{
	struct book_level best;
	int64_t d;

	if (!book_best_bid(m->book, side, &best)) {
		flow_add(m, side, t);
		return;
	}
	d = whole ? best.size : sim_rng_range(&flow_rng, 1, best.size);
	m->last_price = side == BOOK_YES ? best.price : m->notional - best.price;
	m->volume += d;
	m->open_interest += d / 2;
	flow_apply(m, side, best.price, -d, t);
}

/* One change on market m. */
static void
flow_one(struct sim_market *m, int64_t t)
{
	const struct sim_grid *g = &sim_w.grids[m->grid];
	struct book_level best;
	enum book_side side;
	uint64_t x;

	if (sim_rng_below(&flow_rng, 20) == 0) {
		int64_t f = m->fair + (sim_rng_below(&flow_rng, 2) ? 1 : -1);

		if (f >= 1 && f <= (int64_t)g->n_prices - 2)
			m->fair = f;
	}
	/* bids the fair price moved through trade first */
	for (int s = BOOK_YES; s <= BOOK_NO; s++) {
		if (book_best_bid(m->book, (enum book_side)s, &best) &&
		    flow_price_index(g, best.price) > flow_top_index(m, (enum book_side)s)) {
			flow_trade(m, (enum book_side)s, t, true);
			return;
		}
	}
	side = sim_rng_below(&flow_rng, 2) ? BOOK_YES : BOOK_NO;
	x = sim_rng_below(&flow_rng, 100);
	if (book_levels(m->book, side) >= FLOW_MAX_DEPTH)
		x = 60;
	if (x < 50)
		flow_add(m, side, t);
	else if (x < 82)
		flow_cancel(m, side, t);
	else
		flow_trade(m, side, t, false);
}

uint64_t
sim_flow_step(uint64_t n)
{
	int64_t t = sim_now_us();
	uint64_t i;

	for (i = 0; i < n && sim_w.n_active > 0; i++) {
		uint32_t k = sim_w.active[sim_rng_below(&flow_rng, sim_w.n_active)];

		flow_one(&sim_w.markets[k], t);
	}
	return i;
}

void
sim_flow_seed_books(void)
{
	rng_seed(&flow_rng, sim_w.opt.seed ^ UINT64_C(0x5eed0f10));
	for (uint32_t i = 0; i < sim_w.n_markets; i++) {
		struct sim_market *m = &sim_w.markets[i];
		int levels = (int)sim_rng_range(&flow_rng, 0, 12);

		for (int k = 0; k < levels; k++)
			flow_add(m, sim_rng_below(&flow_rng, 2) ? BOOK_YES : BOOK_NO, sim_w.start_us);
	}
}

/* Applies the steps the rate owes by now. */
static void
flow_tick(void)
{
	int64_t now = sim_now_us();
	uint64_t owed;

	if (flow_rate <= 0)
		return;
	owed = (uint64_t)((__int128)flow_rate * (now - flow_t0) / 1000000);
	if (owed > flow_done) {
		/* after a stall, catch up at most 20 ms worth at once */
		uint64_t cap = (uint64_t)flow_rate / 50 + 1;

		owed -= flow_done;
		if (owed > cap) {
			flow_done += owed - cap;
			owed = cap;
		}
		flow_done += owed;
		sim_flow_step(owed);
	}
}

/* Ticks every millisecond while a rate is set, every 100 ms otherwise. */
static void
flow_arm(void)
{
	long ns = flow_rate > 0 ? 1000000L : 100000000L;
	struct itimerspec it = { { 0, ns }, { 0, ns } };

	if (flow_fd >= 0 && timerfd_settime(flow_fd, 0, &it, NULL) != 0)
		log_error("timerfd_settime");
}

int
sim_flow_clock(const struct lws *wsi, enum lws_callback_reasons reason)
{
	uint64_t expirations;

	if (wsi != flow_clock)
		return 0;
	if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
		flow_clock = NULL;
		flow_fd = -1;
		return 0;
	}
	while (read(flow_fd, &expirations, sizeof(expirations)) == (ssize_t)sizeof(expirations))
		;
	flow_tick();
	return 0;
}

void
sim_flow_set_rate(int64_t rate)
{
	flow_rate = rate < 0 ? 0 : rate;
	flow_t0 = sim_now_us();
	flow_done = 0;
	flow_arm();
}

int64_t
sim_flow_rate(void)
{
	return flow_rate;
}

int
sim_flow_start(void)
{
	struct lws_vhost *vh = lws_get_vhost_by_name(sim_w.ctx, "kalshi-sim");
	lws_sock_file_fd_type u;

	if (vh == NULL || (flow_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0) {
		log_error("cannot create the flow's clock");
		return -1;
	}
	u.filefd = (lws_filefd_type)(long long)flow_fd;
	if ((flow_clock = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, u, "kalshi",
	    NULL)) == NULL) {
		log_errorx("cannot adopt the flow's clock into the event loop");
		close(flow_fd);
		flow_fd = -1;
		return -1;
	}
	sim_flow_set_rate(sim_w.opt.rate);
	return 0;
}
