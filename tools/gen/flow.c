/*
 * flow: the recorded history of one market, produced one event at a time in ts order.
 *
 * A history is: a 'snapshot' checkpoint when the recording starts; deltas; a 'periodic'
 * checkpoint right after every N-th delta since the last checkpoint (same ts as that delta: a
 * checkpoint at ts holds the book after every change with ts <= its ts), and one at every multiple
 * of M minutes since the epoch (UTC) while the market is recorded, as the collector's timer writes
 * them (with the default, a day: every book has a checkpoint at each UTC midnight); and gaps, each followed
 * by a 'snapshot' checkpoint at the gap's end. While a gap lasts the book keeps changing unseen:
 * the snapshot that ends it may differ from the book before it (the gap is then `diverged`).
 *
 * The book evolves around a fair YES price that drifts on the market's tick grid. YES bids rest
 * below it and NO bids below its complement, so the book is never crossed; when the fair price
 * moves through resting bids they are filled (removed). Most activity is within a few ticks of the
 * touch: levels appear, grow, shrink, empty and disappear; deep levels are cancelled now and then.
 * Sizes are in hundredths, often fractional. Every change goes through lib/book, so no level is
 * ever driven below zero and a level reaching zero is removed, exactly as a reader replays it.
 *
 * Timestamps are strictly increasing within the market and stay inside its recording window:
 * each step spreads the remaining room over the remaining deltas (with bursts of a few
 * microseconds, as several changes arrive together). With --ties, changes come in clusters of
 * consecutive microseconds that start on a grid shared by every market, so many markets have
 * changes at exactly the same instant and pages of a market's deltas cut through clusters.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define FLOW_MAX_LEVELS 48  /* per side: above this, changes cancel rather than add */

const char *const gen_gap_reasons[GEN_GAP_REASONS] = {
	"seq_gap", "disconnect", "restart", "terminal_error", "overflow", "negative_level",
	"takeover",
};
const char *const gen_gap_details[GEN_GAP_REASONS] = {
	"sequence number jumped on the orderbook_delta subscription",
	"websocket closed (1006) and reconnected",
	"collector restarted",
	"exchange sent a terminal error for the subscription",
	"write queue overflowed; book dropped until a fresh snapshot",
	"a delta drove a level below zero",
	"a standby collector took over the advisory lock",
};

enum flow_next { FLOW_RUN, FLOW_PERIODIC, FLOW_SNAPSHOT };

struct gen_flow {
	const struct gen_market *m;
	const struct gen_grid *g;
	struct rng r;
	struct book *book;
	struct gen_event ev;
	enum flow_next next;
	int64_t every;     /* --checkpoint-every */
	int64_t period;    /* --checkpoint-minutes, in us (0: none) */
	int64_t cp_last;   /* ts of the last aligned checkpoint */
	int64_t pending;   /* ts of the next delta, drawn before an aligned checkpoint (0: none) */
	int64_t tie_grid;  /* 0 unless --ties */
	int fv;            /* grid index of the fair YES price */
	int fv_lo, fv_hi;  /* its bounds */
	unsigned reach;    /* geometric parameter of the distance from the touch, in ticks */
	int64_t done;      /* deltas so far */
	int64_t since_cp;  /* deltas since the last checkpoint */
	int64_t prev;      /* ts of the last event */
	int64_t reserve;   /* us that the remaining gaps need */
	size_t gap;        /* next gap */
	int cluster;       /* --ties: deltas left in the current cluster */
};

/* Grid index of price (which is on the grid). */
static int
flow_index(const struct gen_grid *g, int64_t price)
{
	int lo = 0, hi = g->n - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (g->price[mid] < price)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The highest grid index a bid of side may rest at without crossing the fair price. */
static int
flow_top(const struct gen_flow *f, enum book_side side)
{
	return side == BOOK_YES ? f->fv - 1 : f->g->n - 2 - f->fv;
}

/* A resting size in hundredths: 1 to 100 contracts times a power of two, often fractional. */
static int64_t
flow_size(struct gen_flow *f)
{
	int64_t contracts = (1 + (int64_t)gen_rng_below(&f->r, 100)) << gen_rng_geom(&f->r, 1, 6);
	int64_t size = contracts * 100;

	if (gen_rng_chance(&f->r, 3, 10))
		size += (int64_t)gen_rng_below(&f->r, 100) - 50;
	return size > 0 ? size : 1;
}

/*
 * Chooses the next change of the book, applies it and returns it in side/price/delta. Returns 0,
 * or -1 when lib/book refuses it (a bug: the choice always respects the book).
 */
static int
flow_change(struct gen_flow *f, enum book_side *side, int64_t *price, int64_t *delta)
{
	struct book_level lv[FLOW_MAX_LEVELS];
	size_t nlev;
	int64_t cur;
	int idx, top;

	if (gen_rng_chance(&f->r, 1, 64)) {
		f->fv += gen_rng_chance(&f->r, 1, 2) ? 1 : -1;
		f->fv = f->fv < f->fv_lo ? f->fv_lo : f->fv > f->fv_hi ? f->fv_hi : f->fv;
	}
	/* a bid the fair price moved through is filled first */
	for (int s = 0; s < 2; s++) {
		if (book_best_bid(f->book, (enum book_side)s, &lv[0]) &&
		    flow_index(f->g, lv[0].price) > flow_top(f, (enum book_side)s)) {
			*side = (enum book_side)s;
			*price = lv[0].price;
			*delta = -lv[0].size;
			goto apply;
		}
	}
	*side = gen_rng_chance(&f->r, 1, 2) ? BOOK_YES : BOOK_NO;
	nlev = book_levels(f->book, *side);
	if (nlev > 0 && (nlev >= FLOW_MAX_LEVELS || gen_rng_chance(&f->r, 1, 40))) {
		/* a cancel anywhere in the book, deep levels included */
		size_t n = book_copy_levels(f->book, *side, lv, FLOW_MAX_LEVELS);
		size_t k = (size_t)gen_rng_below(&f->r, n);

		*price = lv[k].price;
		*delta = -lv[k].size;
		goto apply;
	}
	top = flow_top(f, *side);
	idx = top - (int)gen_rng_geom(&f->r, f->reach, (uint64_t)top);
	*price = f->g->price[idx];
	cur = book_size_at(f->book, *side, *price);
	if (cur == 0) {
		*delta = flow_size(f);
	} else {
		uint64_t x = gen_rng_below(&f->r, 100);

		if (x < 45)
			*delta = flow_size(f);
		else if (x < 75 || cur == 1)
			*delta = -cur;
		else
			*delta = -(1 + (int64_t)gen_rng_below(&f->r, (uint64_t)(cur - 1)));
	}
apply:
	return book_apply_delta(f->book, *side, *price, *delta) == BOOK_OK ? 0 : -1;
}

/* The book when the recording starts: a few levels near the touch on each side, some deeper. */
static int
flow_initial_book(struct gen_flow *f)
{
	for (int s = 0; s < 2; s++) {
		int top = flow_top(f, (enum book_side)s);

		for (int d = 0; d <= top && d < 30; d++) {
			uint64_t pct = d < 4 ? 80 : d < 12 ? 40 : 10;

			if (gen_rng_chance(&f->r, pct, 100) &&
			    book_apply_delta(f->book, (enum book_side)s, f->g->price[top - d],
			    flow_size(f)) != BOOK_OK)
				return -1;
		}
	}
	return 0;
}

/* Exponentially distributed, mean `mean` us, at least 1. */
static int64_t
flow_exp(struct gen_flow *f, double mean)
{
	double x = -log(1.0 - gen_rng_unit(&f->r)) * mean;

	return x < 1.0 ? 1 : x > 9e15 ? INT64_C(9000000000000000) : (int64_t)x;
}

/*
 * The ts of the next delta: after prev, and early enough that every later delta and gap still
 * fits before the end of the recording window (hi below). The room is always at least 1 us per
 * remaining delta (universe.c sizes the windows), so prev + 1 <= hi holds throughout.
 */
static int64_t
flow_next_ts(struct gen_flow *f)
{
	int64_t left = f->m->count - f->done;
	int64_t hi = f->m->rec_end - f->reserve - (left - 1);
	int64_t room = hi - f->prev, t;

	if (f->tie_grid > 0) {
		int64_t g = f->tie_grid;

		if (f->cluster > 0) {
			f->cluster--;
			return f->prev + 1;
		}
		t = f->prev + flow_exp(f, (double)room / ((double)left / 5.0 + 1.0));
		t = t > hi ? hi : t;
		t = (t + g - 1) / g * g;
		if (t > hi)
			t = f->prev + 1;
		f->cluster = (int)gen_rng_below(&f->r, 9);
		return t;
	}
	if (gen_rng_chance(&f->r, 1, 4))
		t = f->prev + 1 + (int64_t)gen_rng_below(&f->r, 300);
	else
		t = f->prev + flow_exp(f, 1.3 * (double)room / (double)left);
	return t > hi ? hi : t;
}

/*
 * A gap before the next delta: its bounds, its reason, and what the book did meanwhile (half of
 * the gaps miss a few changes, or a move of the fair price; the snapshot then differs).
 */
static int
flow_gap(struct gen_flow *f)
{
	const struct gen_gap *gp = &f->m->gaps[f->gap++];
	struct book *before;
	enum book_side side;
	int64_t price, delta;

	f->reserve -= gp->dur + gp->lead + 2;
	f->ev.kind = GEN_EV_GAP;
	f->ev.ts = f->prev + gp->lead;
	f->ev.end = f->ev.ts + gp->dur;
	f->ev.reason = (int)gen_rng_below(&f->r, GEN_GAP_REASONS);
	if ((before = book_clone(f->book)) == NULL)
		return -1;
	if (gen_rng_chance(&f->r, 1, 2)) {
		int n = 1 + (int)gen_rng_below(&f->r, 8);

		for (int i = 0; i < n; i++) {
			if (flow_change(f, &side, &price, &delta) != 0) {
				book_free(before);
				return -1;
			}
		}
	}
	f->ev.diverged = !book_equal(before, f->book);
	book_free(before);
	f->prev = f->ev.end;
	f->next = FLOW_SNAPSHOT;
	return 0;
}

struct gen_flow *
gen_flow_new(const struct gen_market *m, const struct gen_opts *o, int64_t tie_grid)
{
	struct gen_flow *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->m = m;
	f->g = gen_grid_get(m->grid);
	f->every = o->checkpoint_every;
	f->period = o->checkpoint_minutes * 60 * 1000000;
	f->tie_grid = o->ties ? tie_grid : 0;
	gen_rng_seed(&f->r, (uint64_t)o->seed, (uint64_t)m->index);
	if ((f->book = book_new(1000000)) == NULL) {
		free(f);
		return NULL;
	}
	f->fv_lo = f->g->n / 50 > 2 ? f->g->n / 50 : 2;
	f->fv_hi = f->g->n - 1 - f->fv_lo;
	f->fv = f->g->n / 10 + (int)gen_rng_below(&f->r, (uint64_t)(f->g->n - f->g->n / 5));
	f->reach = f->g->n > 100 ? 3 : 2;
	for (size_t k = 0; k < m->ngaps; k++)
		f->reserve += m->gaps[k].dur + m->gaps[k].lead + 2;
	f->ev.kind = GEN_EV_END;
	f->ev.ts = INT64_MAX;
	if (!m->recorded)
		return f;
	if (flow_initial_book(f) != 0) {
		gen_flow_free(f);
		return NULL;
	}
	f->ev.kind = GEN_EV_SNAPSHOT;
	f->ev.ts = m->rec_start;
	f->prev = m->rec_start;
	return f;
}

void
gen_flow_free(struct gen_flow *f)
{
	if (f == NULL)
		return;
	book_free(f->book);
	free(f);
}

const struct gen_event *
gen_flow_event(const struct gen_flow *f)
{
	return &f->ev;
}

const struct book *
gen_flow_book(const struct gen_flow *f)
{
	return f->book;
}

int
gen_flow_advance(struct gen_flow *f)
{
	struct gen_event *ev = &f->ev;

	if (ev->kind == GEN_EV_END)
		return 0;
	switch (f->next) {
	case FLOW_PERIODIC:
		f->next = FLOW_RUN;
		f->since_cp = 0;
		ev->kind = GEN_EV_PERIODIC;
		ev->ts = f->prev;
		return 0;
	case FLOW_SNAPSHOT:
		f->next = FLOW_RUN;
		f->since_cp = 0;
		ev->kind = GEN_EV_SNAPSHOT;
		ev->ts = f->prev;
		return 0;
	case FLOW_RUN:
		break;
	}
	if (f->done == f->m->count) {
		ev->kind = GEN_EV_END;
		ev->ts = INT64_MAX;
		return 0;
	}
	if (f->gap < f->m->ngaps && f->m->gaps[f->gap].before == f->done)
		return flow_gap(f);
	ev->ts = f->pending != 0 ? f->pending : flow_next_ts(f);
	f->pending = 0;
	if (f->period > 0) {
		/* the collector's aligned checkpoint: every book at each multiple of the period */
		int64_t last = f->prev > f->cp_last ? f->prev : f->cp_last;
		int64_t b = (last >= 0 ? last / f->period : (last - f->period + 1) / f->period) * f->period + f->period;

		if (b < ev->ts) {
			f->pending = ev->ts;
			f->since_cp = 0;
			f->cp_last = b;
			ev->kind = GEN_EV_PERIODIC;
			ev->ts = b;
			return 0;
		}
	}
	ev->kind = GEN_EV_DELTA;
	ev->exchange_ts = (ev->ts - 2000 - (int64_t)gen_rng_below(&f->r, 60000)) / 1000 * 1000;
	if (flow_change(f, &ev->side, &ev->price, &ev->delta) != 0)
		return -1;
	f->prev = ev->ts;
	f->done++;
	if (++f->since_cp == f->every)
		f->next = FLOW_PERIODIC;
	return 0;
}
