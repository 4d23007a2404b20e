/*
 * universe: the markets of a run, planned from the options alone, then inserted.
 *
 * Markets are spread over events and events over series, Kalshi-style: series "P-S3", event
 * "P-S3-25JAN02E7", market "P-S3-25JAN02E7-T25". Each market gets a status from Kalshi's set, a
 * price grid (price_level_structure and price_ranges), lifecycle times, a recording window inside
 * [start, start + span), a share of the run's deltas (lognormal activity: a few hot markets, a
 * long quiet tail; 'initialized' markets record nothing) and its share of the gaps. The plan draws
 * from its own random stream, so the same options give the same universe; each market's history
 * then draws from the market's own stream (flow.c).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "gen.h"
#include "log.h"

#define UNIV_STREAM   UINT64_C(0xffffffffffffffff) /* the plan's rng stream */
#define UNIV_HOUR     (INT64_C(3600) * GEN_USEC)
#define UNIV_DAY      (INT64_C(24) * UNIV_HOUR)
#define UNIV_JSON_ROW 2048

const char *const gen_statuses[] = { "initialized", "active", "closed", "determined", "finalized" };
#define UNIV_ST_INITIALIZED 0
#define UNIV_ST_ACTIVE      1
#define UNIV_ST_CLOSED      2
#define UNIV_ST_DETERMINED  3
#define UNIV_ST_FINALIZED   4

/* Status weights out of 100, in gen_statuses order. */
static const int univ_status_weight[] = { 5, 55, 10, 10, 20 };

struct univ_range {
	int64_t start, end, step;
};

struct univ_grid_def {
	const char *structure;
	const char *ranges_json;
	int weight; /* out of 100 */
	struct univ_range r[3];
	int nr;
};

static const struct univ_grid_def univ_grid_defs[GEN_GRID_KINDS] = {
	[GEN_GRID_CENT] = { "linear_cent",
	    "[{\"start\":\"0.0000\",\"end\":\"1.0000\",\"step\":\"0.0100\"}]", 70,
	    { { 0, 1000000, 10000 } }, 1 },
	[GEN_GRID_DECI] = { "deci_cent",
	    "[{\"start\":\"0.0000\",\"end\":\"1.0000\",\"step\":\"0.0010\"}]", 15,
	    { { 0, 1000000, 1000 } }, 1 },
	[GEN_GRID_TAPERED] = { "tapered_deci_cent",
	    "[{\"start\":\"0.0000\",\"end\":\"0.1000\",\"step\":\"0.0010\"},"
	    "{\"start\":\"0.1000\",\"end\":\"0.9000\",\"step\":\"0.0100\"},"
	    "{\"start\":\"0.9000\",\"end\":\"1.0000\",\"step\":\"0.0010\"}]", 15,
	    { { 0, 100000, 1000 }, { 100000, 900000, 10000 }, { 900000, 1000000, 1000 } }, 3 },
};

/* What a series is about: title pattern and the unit of its strikes. */
static const struct {
	const char *title; /* followed by the date */
	const char *unit;
} univ_topics[] = {
	{ "Highest temperature in NYC on ", "°F" },
	{ "Bitcoin price at 5pm EDT on ", "k USD" },
	{ "Nasdaq-100 close on ", "00 points" },
	{ "Fed funds upper bound after the meeting of ", "bp" },
	{ "Rain in Seattle by ", "hundredths of an inch" },
	{ "CPI year over year, release of ", "tenths of a percent" },
	{ "Opening weekend box office, week of ", "M USD" },
	{ "Gas price national average on ", "cents" },
};
#define UNIV_TOPICS (sizeof(univ_topics) / sizeof(univ_topics[0]))

const struct gen_grid *
gen_grid_get(enum gen_grid_kind kind)
{
	static struct gen_grid grids[GEN_GRID_KINDS];
	struct gen_grid *g = &grids[kind];
	const struct univ_grid_def *d = &univ_grid_defs[kind];
	int64_t *p;
	int n = 0, cap = 0;

	if (g->price != NULL)
		return g;
	for (int i = 0; i < d->nr; i++)
		cap += (int)((d->r[i].end - d->r[i].start) / d->r[i].step) + 1;
	if ((p = calloc((size_t)cap, sizeof(*p))) == NULL)
		log_fatal("out of memory");
	for (int i = 0; i < d->nr; i++) {
		for (int64_t x = d->r[i].start; x <= d->r[i].end; x += d->r[i].step) {
			if (x <= 0 || x >= FX_PRICE_MAX || (n > 0 && p[n - 1] >= x))
				continue;
			p[n++] = x;
		}
	}
	/* flow.c mirrors YES and NO bids through the grid: it must be symmetric about $0.50. */
	for (int i = 0; i < n; i++)
		if (p[i] + p[n - 1 - i] != FX_PRICE_MAX)
			log_fatal("price grid %s is not symmetric", d->structure);
	g->structure = d->structure;
	g->ranges_json = d->ranges_json;
	g->price = p;
	g->n = n;
	return g;
}

/* Draws an index from a table of integer weights summing to 100. */
static int
univ_pick(struct rng *r, const int *w, int n)
{
	int x = (int)gen_rng_below(r, 100);

	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

/* A standard normal variate (Box-Muller); activity only. */
static double
univ_normal(struct rng *r)
{
	double u = 1.0 - gen_rng_unit(r), v = gen_rng_unit(r);

	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static int64_t
univ_between(struct rng *r, int64_t lo, int64_t hi)
{
	return hi <= lo ? lo : lo + (int64_t)gen_rng_below(r, (uint64_t)(hi - lo));
}

struct univ_share {
	size_t i;
	double frac;
};

static int
univ_share_cmp(const void *a, const void *b)
{
	const struct univ_share *x = a, *y = b;

	if (x->frac != y->frac)
		return x->frac > y->frac ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * Splits o->deltas over the recorded markets in proportion to a lognormal activity, exactly
 * (largest remainders, ties by position). Returns 0 or -1 when out of memory.
 */
static int
univ_allocate(struct gen_universe *u, struct rng *r, int64_t total)
{
	double *w = NULL, sum = 0;
	struct univ_share *sh = NULL;
	int64_t given = 0;
	size_t nrec = 0;
	int rc = -1;

	if ((w = calloc(u->n, sizeof(*w))) == NULL || (sh = calloc(u->n, sizeof(*sh))) == NULL)
		goto out;
	for (size_t i = 0; i < u->n; i++) {
		double a = univ_normal(r);

		if (!u->m[i].recorded)
			continue;
		w[i] = exp(1.6 * a);
		sum += w[i];
	}
	for (size_t i = 0; i < u->n; i++) {
		double want;

		if (!u->m[i].recorded)
			continue;
		want = (double)total * (w[i] / sum);
		u->m[i].count = (int64_t)want;
		given += u->m[i].count;
		sh[nrec].i = i;
		sh[nrec].frac = want - (double)u->m[i].count;
		nrec++;
	}
	qsort(sh, nrec, sizeof(*sh), univ_share_cmp);
	for (size_t k = 0; given < total; k = (k + 1) % nrec, given++)
		u->m[sh[k].i].count++;
	while (given > total) { /* rounding of huge totals: take back from the busiest */
		for (size_t k = 0; k < nrec && given > total; k++) {
			if (u->m[sh[k].i].count > 0) {
				u->m[sh[k].i].count--;
				given--;
			}
		}
	}
	rc = 0;
out:
	free(w);
	free(sh);
	return rc;
}

static int
univ_gap_cmp(const void *a, const void *b)
{
	const struct gen_gap *x = a, *y = b;

	return x->before < y->before ? -1 : x->before > y->before;
}

/*
 * Puts o->gaps gaps on markets with at least two deltas (uniformly over those markets, at a
 * uniform position between two deltas), 1 s to 10 min long, then makes each market's window hold
 * its deltas (1 us each at least, four times over) and its gaps. Returns 0, -1 when out of memory,
 * -2 when no market can hold a gap.
 */
static int
univ_place_gaps(struct gen_universe *u, const struct gen_opts *o, struct rng *r)
{
	size_t *elig = NULL, nel = 0, *cnt = NULL;
	struct gen_gap *all = NULL, **next = NULL;
	size_t *pick = NULL;
	int rc = -1;

	if ((elig = calloc(u->n, sizeof(*elig))) == NULL || (cnt = calloc(u->n, sizeof(*cnt))) == NULL ||
	    (next = calloc(u->n, sizeof(struct gen_gap *))) == NULL)
		goto out;
	for (size_t i = 0; i < u->n; i++)
		if (u->m[i].count >= 2)
			elig[nel++] = i;
	if (o->gaps > 0 && nel == 0) {
		rc = -2;
		goto out;
	}
	if (o->gaps > 0) {
		if ((pick = calloc((size_t)o->gaps, sizeof(*pick))) == NULL ||
		    (all = calloc((size_t)o->gaps, sizeof(*all))) == NULL)
			goto out;
		for (int64_t g = 0; g < o->gaps; g++) {
			pick[g] = elig[gen_rng_below(r, nel)];
			cnt[pick[g]]++;
		}
		/* each market's gaps are contiguous in `all`, in market order */
		for (size_t i = 0, at = 0; i < u->n; i++) {
			u->m[i].gaps = all + at;
			u->m[i].ngaps = 0;
			next[i] = all + at;
			at += cnt[i];
		}
		for (int64_t g = 0; g < o->gaps; g++) {
			struct gen_market *m = &u->m[pick[g]];
			struct gen_gap *gp = next[pick[g]]++;

			gp->before = 1 + (int64_t)gen_rng_below(r, (uint64_t)(m->count - 1));
			gp->dur = GEN_USEC + (int64_t)gen_rng_below(r, (uint64_t)(599 * GEN_USEC));
			gp->lead = 1 + (int64_t)gen_rng_below(r, (uint64_t)(GEN_USEC / 2));
			m->ngaps++;
		}
	}
	for (size_t i = 0; i < u->n; i++) {
		struct gen_market *m = &u->m[i];
		int64_t need = 4 * m->count + 8 * (int64_t)m->ngaps + 2, len, budget = 0;

		if (!m->recorded)
			continue;
		if (m->rec_end - m->rec_start < need) {
			m->rec_start = o->start;
			m->rec_end = o->start + o->span - 1;
		}
		len = m->rec_end - m->rec_start;
		if (m->ngaps > 1)
			qsort(m->gaps, m->ngaps, sizeof(*m->gaps), univ_gap_cmp);
		for (size_t k = 0; k < m->ngaps; k++)
			budget += m->gaps[k].dur + m->gaps[k].lead + 2;
		if (budget > len / 2) { /* gaps may take half the window at most */
			double f = (double)len / 2.0 / (double)budget;

			for (size_t k = 0; k < m->ngaps; k++) {
				m->gaps[k].dur = (int64_t)((double)m->gaps[k].dur * f);
				m->gaps[k].lead = (int64_t)((double)m->gaps[k].lead * f);
				if (m->gaps[k].dur < 1)
					m->gaps[k].dur = 1;
				if (m->gaps[k].lead < 1)
					m->gaps[k].lead = 1;
			}
		}
	}
	u->total_gaps = o->gaps;
	all = NULL; /* owned by the universe now (m[0].gaps points at its start) */
	rc = 0;
out:
	free(all);
	free(elig);
	free(cnt);
	free(next);
	free(pick);
	return rc;
}

/* The largest power of ten (1 ms .. 1 s) that leaves the busiest market room for its clusters. */
static int64_t
univ_tie_grid(const struct gen_universe *u)
{
	int64_t g = GEN_USEC;

	for (size_t i = 0; i < u->n; i++) {
		const struct gen_market *m = &u->m[i];

		if (m->count == 0)
			continue;
		while (g > 1000 && (m->rec_end - m->rec_start) / g < m->count)
			g /= 10;
	}
	return g;
}

int
gen_universe_plan(const struct gen_opts *o, const struct gen_offsets *off,
    struct gen_universe *u, char *err, size_t errlen)
{
	struct rng r;
	int64_t nev = o->events > 0 ? o->events : (o->markets + 4) / 5;
	int64_t nser = (nev + 3) / 4, end = o->start + o->span;
	int64_t cur_event = -1, ev_first = 0;
	int ev_status = 0, rc;
	bool any = false;

	memset(u, 0, sizeof(*u));
	if (nev > o->markets)
		nev = o->markets;
	if (o->span < 4 * o->deltas + 8 * o->gaps + 2) {
		snprintf(err, errlen, "--span %" PRId64 " s is too short for %" PRId64 " deltas and %"
		    PRId64 " gaps (at least %" PRId64 " s)", o->span / GEN_USEC, o->deltas, o->gaps,
		    (4 * o->deltas + 8 * o->gaps + 2) / GEN_USEC + 1);
		return -1;
	}
	if ((u->m = calloc((size_t)o->markets, sizeof(*u->m))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	u->n = (size_t)o->markets;
	gen_rng_seed(&r, (uint64_t)o->seed, UNIV_STREAM);
	for (size_t i = 0; i < u->n; i++) {
		struct gen_market *m = &u->m[i];
		int64_t e = (int64_t)i * nev / o->markets, s = e * nser / nev;
		char date[16];

		if (e != cur_event) {
			cur_event = e;
			ev_first = (int64_t)i;
			ev_status = univ_pick(&r, univ_status_weight, 5);
		}
		m->index = off->markets + (int64_t)i;
		m->event_index = off->events + e;
		gen_time_kalshi_date(o->start + (e % 60) * UNIV_DAY, date);
		snprintf(m->series, sizeof(m->series), "%s-S%" PRId64, o->prefix, off->series + s);
		snprintf(m->event, sizeof(m->event), "%s-%sE%" PRId64, m->series, date,
		    m->event_index);
		snprintf(m->ticker, sizeof(m->ticker), "%s-T%" PRId64, m->event,
		    10 + 5 * ((int64_t)i - ev_first));
		/* most markets of an event share its status; a few were closed early */
		m->status = ev_status;
		if (ev_status == UNIV_ST_ACTIVE && gen_rng_chance(&r, 1, 20))
			m->status = UNIV_ST_CLOSED;
		{
			int gw[GEN_GRID_KINDS];

			for (int k = 0; k < GEN_GRID_KINDS; k++)
				gw[k] = univ_grid_defs[k].weight;
			m->grid = (enum gen_grid_kind)univ_pick(&r, gw, GEN_GRID_KINDS);
		}
		m->recorded = m->status != UNIV_ST_INITIALIZED;
		m->rec_start = o->start + (int64_t)(gen_rng_unit(&r) * 0.3 * (double)o->span);
		if (m->status == UNIV_ST_ACTIVE) {
			m->rec_end = end - 1;
			m->open_time = m->rec_start - univ_between(&r, 0, 2 * UNIV_DAY);
			m->close_time = end + univ_between(&r, UNIV_DAY, 30 * UNIV_DAY);
		} else if (m->status == UNIV_ST_INITIALIZED) {
			m->rec_end = m->rec_start;
			m->open_time = end + univ_between(&r, UNIV_HOUR, 2 * UNIV_DAY);
			m->close_time = m->open_time + univ_between(&r, UNIV_DAY, 30 * UNIV_DAY);
		} else {
			m->rec_end = m->rec_start + (int64_t)((0.5 + 0.5 * gen_rng_unit(&r)) *
			    (double)(end - 1 - m->rec_start));
			m->open_time = m->rec_start - univ_between(&r, 0, 2 * UNIV_DAY);
			m->close_time = m->rec_end;
		}
		any = any || m->recorded;
	}
	if (!any) { /* at least one market has a history */
		u->m[0].status = UNIV_ST_ACTIVE;
		u->m[0].recorded = true;
		u->m[0].rec_end = end - 1;
		u->m[0].open_time = u->m[0].rec_start;
		u->m[0].close_time = end + 30 * UNIV_DAY;
	}
	if (univ_allocate(u, &r, o->deltas) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((rc = univ_place_gaps(u, o, &r)) != 0) {
		snprintf(err, errlen, rc == -2 ? "--gaps needs a market with at least 2 deltas: "
		    "raise --deltas" : "out of memory");
		goto fail;
	}
	u->tie_grid = univ_tie_grid(u);
	return 0;
fail:
	gen_universe_free(u);
	return -1;
}

void
gen_universe_free(struct gen_universe *u)
{
	if (u->m != NULL && u->total_gaps > 0)
		free(u->m[0].gaps);
	free(u->m);
	memset(u, 0, sizeof(*u));
}

/* ---- insertion ------------------------------------------------------------------------------ */

struct univ_buf {
	char *p;
	size_t len, cap;
};

static int
univ_reserve(struct univ_buf *b, size_t more)
{
	char *p;
	size_t cap = b->cap ? b->cap : 65536;

	if (b->len + more + 1 <= b->cap)
		return 0;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Appends "name":"escaped value" (with a leading comma unless first). */
static void
univ_json_str(struct univ_buf *b, const char *name, const char *val, bool first)
{
	b->len += (size_t)snprintf(b->p + b->len, b->cap - b->len, "%s\"%s\":\"", first ? "" : ",",
	    name);
	b->len += log_json_escape(b->p + b->len, b->cap - b->len, val);
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

static void
univ_json_time(struct univ_buf *b, const char *name, int64_t us)
{
	char t[GEN_TIME_BUFSZ];

	gen_time_rfc3339(us, t);
	univ_json_str(b, name, t, false);
}

/* Appends one market's JSON object (the row jsonb_to_recordset turns into an INSERT). */
static void
univ_market_json(struct univ_buf *b, const struct gen_market *m)
{
	const struct gen_grid *g = gen_grid_get(m->grid);
	const char *topic = univ_topics[(size_t)(m->event_index % (int64_t)UNIV_TOPICS)].title;
	const char *unit = univ_topics[(size_t)(m->event_index % (int64_t)UNIV_TOPICS)].unit;
	const char *strike = strrchr(m->ticker, 'T') + 1;
	char date[16], title[256], sub[128];
	bool settled = m->status >= UNIV_ST_DETERMINED;
	char open = b->len > 0 ? ',' : '[';

	gen_time_kalshi_date(m->close_time, date);
	snprintf(title, sizeof(title), "%s%s", topic, date);
	b->p[b->len++] = open;
	b->p[b->len++] = '{';
	b->p[b->len] = '\0';
	univ_json_str(b, "ticker", m->ticker, true);
	univ_json_str(b, "event_ticker", m->event, false);
	univ_json_str(b, "series_ticker", m->series, false);
	univ_json_str(b, "title", title, false);
	snprintf(sub, sizeof(sub), "%s %s or above", strike, unit);
	univ_json_str(b, "subtitle", sub, false);
	univ_json_str(b, "yes_sub_title", sub, false);
	snprintf(sub, sizeof(sub), "below %s %s", strike, unit);
	univ_json_str(b, "no_sub_title", sub, false);
	univ_json_str(b, "status", gen_statuses[m->status], false);
	univ_json_time(b, "open_time", m->open_time);
	univ_json_time(b, "close_time", m->close_time);
	univ_json_time(b, "expected_expiration_time", m->close_time + UNIV_HOUR);
	if (m->status == UNIV_ST_FINALIZED)
		univ_json_time(b, "settled_time", m->close_time + 2 * UNIV_HOUR);
	univ_json_str(b, "result", settled ? (m->index % 3 == 0 ? "yes" : "no") : "", false);
	univ_json_str(b, "price_level_structure", g->structure, false);
	b->len += (size_t)snprintf(b->p + b->len, b->cap - b->len, ",\"price_ranges\":%s}",
	    g->ranges_json);
}

/* The markets into markets and their Kalshi-like object into market_raw, one statement. */
static const char univ_insert_sql[] =
    "WITH x AS (SELECT r.*, jsonb_strip_nulls(to_jsonb(r) || jsonb_build_object("
    "  'market_type', 'binary', 'notional_value_dollars', '1.0000')) AS raw"
    " FROM jsonb_to_recordset($1::jsonb) AS r(ticker text, event_ticker text, series_ticker text,"
    "  title text, subtitle text, yes_sub_title text, no_sub_title text, status text,"
    "  open_time timestamptz, close_time timestamptz, expected_expiration_time timestamptz,"
    "  settled_time timestamptz, result text, price_level_structure text, price_ranges jsonb)),"
    " mk AS (INSERT INTO markets (ticker, event_ticker, series_ticker, market_type, title, subtitle,"
    "  yes_sub_title, no_sub_title, status, open_time, close_time, expected_expiration_time,"
    "  settled_time, result, price_level_structure, price_ranges, notional)"
    " SELECT x.ticker, x.event_ticker, x.series_ticker, 'binary', x.title, x.subtitle,"
    "  x.yes_sub_title, x.no_sub_title, x.status, x.open_time, x.close_time,"
    "  x.expected_expiration_time, x.settled_time, x.result, x.price_level_structure,"
    "  x.price_ranges, 1000000"
    " FROM x RETURNING id, ticker),"
    " mr AS (INSERT INTO market_raw (market_id, raw) SELECT mk.id, x.raw FROM mk JOIN x USING (ticker))"
    " SELECT id, ticker FROM mk";

static const struct gen_universe *univ_sort_u; /* qsort has no context argument */

static int
univ_ticker_cmp(const void *a, const void *b)
{
	return strcmp(univ_sort_u->m[*(const size_t *)a].ticker,
	    univ_sort_u->m[*(const size_t *)b].ticker);
}

int
gen_universe_insert(struct db *db, struct gen_universe *u)
{
	struct univ_buf b = { 0 };
	size_t *order = NULL;
	PGresult *res = NULL;
	const char *params[1];
	int rc = -1;

	if ((order = calloc(u->n, sizeof(*order))) == NULL)
		goto out;
	for (size_t i = 0; i < u->n; i++) {
		if (univ_reserve(&b, UNIV_JSON_ROW) != 0)
			goto out;
		univ_market_json(&b, &u->m[i]);
		order[i] = i;
	}
	if (univ_reserve(&b, 2) != 0)
		goto out;
	b.p[b.len++] = ']';
	b.p[b.len] = '\0';
	params[0] = b.p;
	if ((res = db_exec_sql(db, univ_insert_sql, 1, params)) == NULL)
		goto out;
	if ((size_t)PQntuples(res) != u->n) {
		log_errorx("inserted %d markets, expected %zu", PQntuples(res), u->n);
		goto out;
	}
	univ_sort_u = u;
	qsort(order, u->n, sizeof(*order), univ_ticker_cmp);
	for (int row = 0; row < PQntuples(res); row++) {
		const char *t = PQgetvalue(res, row, 1);
		size_t lo = 0, hi = u->n;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = strcmp(u->m[order[mid]].ticker, t);

			if (c == 0) {
				lo = mid;
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo >= u->n || strcmp(u->m[order[lo]].ticker, t) != 0) {
			log_errorx("insert returned an unknown ticker %s", t);
			goto out;
		}
		u->m[order[lo]].id = (int32_t)strtol(PQgetvalue(res, row, 0), NULL, 10);
	}
	rc = 0;
out:
	PQclear(res);
	free(b.p);
	free(order);
	return rc;
}

/*
 * The markets' coverage, and the recorded-through mark at the end of the generated
 * recording ($2), as a collector that recorded it would have committed: without it the API
 * answers every instant after a market's last row "not yet recorded" (docs/api.md). The mark
 * never moves back.
 */
static const char univ_coverage_sql[] =
    "WITH mark AS (INSERT INTO recorded_through AS r (id, through) VALUES (1, $2::timestamptz)"
    "  ON CONFLICT (id) DO UPDATE SET through = greatest(r.through, EXCLUDED.through))"
    " UPDATE markets AS m SET first_ts = x.f, last_ts = x.l, updated_at = now()"
    " FROM jsonb_to_recordset($1::jsonb) AS x(id integer, f timestamptz, l timestamptz)"
    " WHERE m.id = x.id";

int
gen_universe_coverage(struct db *db, const struct gen_universe *u)
{
	struct univ_buf b = { 0 };
	PGresult *res = NULL;
	const char *params[2];
	char f[GEN_TIME_BUFSZ], l[GEN_TIME_BUFSZ], through[GEN_TIME_BUFSZ];
	int64_t end = INT64_MIN;
	int rc = -1;

	if (univ_reserve(&b, 2) != 0)
		goto out;
	b.p[b.len++] = '[';
	for (size_t i = 0; i < u->n; i++) {
		const struct gen_market *m = &u->m[i];

		if (!m->recorded)
			continue;
		if (m->rec_end > end)
			end = m->rec_end;
		if (univ_reserve(&b, 128) != 0)
			goto out;
		gen_time_rfc3339(m->first_ts, f);
		gen_time_rfc3339(m->last_ts, l);
		b.len += (size_t)snprintf(b.p + b.len, b.cap - b.len, "%s{\"id\":%d,\"f\":\"%s\",\"l\":\"%s\"}",
		    b.len > 1 ? "," : "", m->id, f, l);
	}
	b.p[b.len++] = ']';
	b.p[b.len] = '\0';
	if (end == INT64_MIN) {
		rc = 0; /* nothing recorded */
		goto out;
	}
	gen_time_rfc3339(end, through);
	params[0] = b.p;
	params[1] = through;
	if ((res = db_exec_sql(db, univ_coverage_sql, 2, params)) == NULL)
		goto out;
	rc = 0;
out:
	PQclear(res);
	free(b.p);
	return rc;
}
