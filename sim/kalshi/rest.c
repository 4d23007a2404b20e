/*
 * rest: Kalshi's REST API as the sim serves it (KALSHI.md section 6): markets with cursor paging
 * and filters, one market, its orderbook, events, one event, one series, and the balance (the one
 * route that needs a signed request). Cursors are opaque to clients; here they are the index of
 * the next market (or event) to look at, so pages stay stable while new markets are created.
 * Every price and size goes through lib/fixed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fixed.h"
#include "sim.h"

/* Filter statuses of GET /markets and the market statuses each one selects. */
static const struct {
	const char *name;
	unsigned mask;
} rest_status_filters[] = {
	{ "unopened", 1u << SIM_M_INITIALIZED },
	{ "open", 1u << SIM_M_ACTIVE },
	{ "paused", 1u << SIM_M_INACTIVE },
	{ "closed", 1u << SIM_M_CLOSED | 1u << SIM_M_DETERMINED },
	{ "settled", 1u << SIM_M_FINALIZED },
};

static struct json_object *
rest_price(int64_t micros)
{
	char b[FX_BUFSZ];

	fx_format_price(micros, b);
	return json_object_new_string(b);
}

static struct json_object *
rest_size(int64_t hundredths)
{
	char b[FX_BUFSZ];

	fx_format_size(hundredths, b);
	return json_object_new_string(b);
}

static struct json_object *
rest_time(int64_t t)
{
	char b[32];

	sim_fmt_time(t, b);
	return json_object_new_string(b);
}

static void
rest_add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

struct json_object *
sim_rest_market_json(const struct sim_market *m)
{
	const struct sim_event *e = &sim_w.events[m->event];
	const struct sim_grid *g = &sim_w.grids[m->grid];
	const struct sim_series *s = &sim_w.series[e->series];
	struct json_object *o = json_object_new_object(), *ranges = json_object_new_array();
	struct book_level yb = { 0, 0 }, nb = { 0, 0 };
	bool has_y = book_best_bid(m->book, BOOK_YES, &yb);
	bool has_n = book_best_bid(m->book, BOOK_NO, &nb);
	bool between = m->kind == 'B';
	char title[160], sub[96];

	snprintf(title, sizeof(title), "%s: %s %lld", s->title, between ? "between" : "above",
	    (long long)m->floor_strike);
	snprintf(sub, sizeof(sub), "%s%lld", between ? "" : ">", (long long)m->floor_strike);
	rest_add(o, "ticker", json_object_new_string(m->ticker));
	rest_add(o, "event_ticker", json_object_new_string(e->ticker));
	rest_add(o, "market_type", json_object_new_string("binary"));
	rest_add(o, "title", json_object_new_string(title));
	rest_add(o, "subtitle", json_object_new_string(sub));
	rest_add(o, "yes_sub_title", json_object_new_string(sub));
	rest_add(o, "no_sub_title", json_object_new_string(sub));
	rest_add(o, "created_time", rest_time(m->created_ts));
	rest_add(o, "updated_time", rest_time(m->updated_us / 1000000));
	rest_add(o, "open_time", rest_time(m->open_ts));
	rest_add(o, "close_time", rest_time(m->close_ts));
	rest_add(o, "expected_expiration_time", rest_time(m->exp_ts));
	rest_add(o, "latest_expiration_time", rest_time(m->exp_ts + INT64_C(7) * 86400));
	rest_add(o, "settlement_timer_seconds", json_object_new_int(300));
	rest_add(o, "status", json_object_new_string(sim_mstatus_name(m->status)));
	rest_add(o, "yes_bid_dollars", rest_price(has_y ? yb.price : 0));
	rest_add(o, "yes_ask_dollars", rest_price(has_n ? m->notional - nb.price : m->notional));
	rest_add(o, "no_bid_dollars", rest_price(has_n ? nb.price : 0));
	rest_add(o, "no_ask_dollars", rest_price(has_y ? m->notional - yb.price : m->notional));
	rest_add(o, "yes_bid_size_fp", rest_size(has_y ? yb.size : 0));
	rest_add(o, "yes_ask_size_fp", rest_size(has_n ? nb.size : 0));
	rest_add(o, "last_price_dollars", rest_price(m->last_price));
	rest_add(o, "previous_yes_bid_dollars", rest_price(0));
	rest_add(o, "previous_yes_ask_dollars", rest_price(0));
	rest_add(o, "previous_price_dollars", rest_price(0));
	rest_add(o, "volume_fp", rest_size(m->volume));
	rest_add(o, "volume_24h_fp", rest_size(m->volume));
	rest_add(o, "open_interest_fp", rest_size(m->open_interest));
	rest_add(o, "notional_value_dollars", rest_price(m->notional));
	rest_add(o, "result", json_object_new_string(m->result));
	rest_add(o, "can_close_early", json_object_new_boolean(1));
	if (m->status == SIM_M_DETERMINED || m->status == SIM_M_FINALIZED)
		rest_add(o, "settlement_value_dollars",
		    rest_price(strcmp(m->result, "yes") == 0 ? m->notional : 0));
	if (m->status == SIM_M_FINALIZED)
		rest_add(o, "settlement_ts", rest_time(m->settled_ts));
	rest_add(o, "expiration_value", json_object_new_string(""));
	rest_add(o, "strike_type", json_object_new_string(between ? "between" : "greater"));
	rest_add(o, "floor_strike", json_object_new_int64(m->floor_strike));
	if (between)
		rest_add(o, "cap_strike", json_object_new_int64(m->cap_strike));
	rest_add(o, "rules_primary", json_object_new_string(
	    "If the outcome is within the strike range at expiration, the market resolves to Yes."));
	rest_add(o, "rules_secondary", json_object_new_string(""));
	rest_add(o, "price_level_structure", json_object_new_string(g->name));
	for (size_t i = 0; i < g->n_ranges; i++) {
		struct json_object *r = json_object_new_object();

		rest_add(r, "start", rest_price(g->ranges[i].start));
		rest_add(r, "end", rest_price(g->ranges[i].end));
		rest_add(r, "step", rest_price(g->ranges[i].step));
		json_object_array_add(ranges, r);
	}
	rest_add(o, "price_ranges", ranges);
	rest_add(o, "exchange_index", json_object_new_int(0));
	return o;
}

/* Parses a non-negative decimal integer argument; -1 when absent, -2 when malformed. */
static int64_t
rest_int_arg(struct hsrv_req *r, const char *name)
{
	const char *v = hsrv_arg(r, name);
	int64_t x = 0;

	if (v == NULL || *v == '\0')
		return -1;
	for (const char *p = v; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || x > INT64_MAX / 10 - 10)
			return -2;
		x = x * 10 + (*p - '0');
	}
	return x;
}

/* True when the comma-separated list contains item. */
static bool
rest_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; *p != '\0';) {
		size_t k = strcspn(p, ",");

		if (k == n && strncmp(p, item, n) == 0)
			return true;
		p += k;
		if (*p == ',')
			p++;
	}
	return false;
}

struct rest_filter {
	unsigned status_mask;      /* 0 = any */
	const char *event_ticker, *series_ticker, *tickers;
	int64_t min_close, max_close, min_created, max_created, min_settled, max_settled, min_updated;
	int mve;                   /* mve_filter: 0 any, 1 only combos (KXMVE), 2 exclude them */
};

/* Reads the filters of GET /markets. Replies 400 and returns -1 on a bad one. */
static int
rest_filter_parse(struct hsrv_req *r, struct rest_filter *f)
{
	static const struct {
		const char *name;
		size_t off;
	} times[] = {
		{ "min_close_ts", offsetof(struct rest_filter, min_close) },
		{ "max_close_ts", offsetof(struct rest_filter, max_close) },
		{ "min_created_ts", offsetof(struct rest_filter, min_created) },
		{ "max_created_ts", offsetof(struct rest_filter, max_created) },
		{ "min_settled_ts", offsetof(struct rest_filter, min_settled) },
		{ "max_settled_ts", offsetof(struct rest_filter, max_settled) },
		{ "min_updated_ts", offsetof(struct rest_filter, min_updated) },
	};
	const char *st = hsrv_arg(r, "status"), *mve = hsrv_arg(r, "mve_filter");

	memset(f, 0, sizeof(*f));
	if (st != NULL && *st != '\0') {
		for (size_t i = 0; i < sizeof(rest_status_filters) / sizeof(rest_status_filters[0]); i++)
			if (rest_list_has(st, rest_status_filters[i].name))
				f->status_mask |= rest_status_filters[i].mask;
		if (f->status_mask == 0) {
			sim_req_error(r, 400, "invalid_parameters", "invalid status filter");
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		int64_t v = rest_int_arg(r, times[i].name);

		if (v == -2) {
			sim_req_error(r, 400, "invalid_parameters", "invalid timestamp filter");
			return -1;
		}
		*(int64_t *)(void *)((char *)f + times[i].off) = v;
	}
	if (mve != NULL && strcmp(mve, "only") != 0 && strcmp(mve, "exclude") != 0) {
		sim_req_error(r, 400, "invalid_parameters", "invalid mve_filter");
		return -1;
	}
	f->mve = mve == NULL ? 0 : strcmp(mve, "only") == 0 ? 1 : 2;
	f->event_ticker = hsrv_arg(r, "event_ticker");
	f->series_ticker = hsrv_arg(r, "series_ticker");
	f->tickers = hsrv_arg(r, "tickers");
	return 0;
}

static bool
rest_filter_match(const struct rest_filter *f, const struct sim_market *m)
{
	const struct sim_event *e = &sim_w.events[m->event];

	if (f->mve != 0 && (strncmp(m->ticker, "KXMVE", 5) == 0) != (f->mve == 1))
		return false;
	if (f->status_mask != 0 && !(f->status_mask & (1u << m->status)))
		return false;
	if (f->event_ticker != NULL && *f->event_ticker != '\0' &&
	    !rest_list_has(f->event_ticker, e->ticker))
		return false;
	if (f->series_ticker != NULL && *f->series_ticker != '\0' &&
	    strcmp(f->series_ticker, sim_w.series[e->series].ticker) != 0)
		return false;
	if (f->tickers != NULL && *f->tickers != '\0' && !rest_list_has(f->tickers, m->ticker))
		return false;
	if ((f->min_close >= 0 && m->close_ts < f->min_close) ||
	    (f->max_close >= 0 && m->close_ts > f->max_close) ||
	    (f->min_created >= 0 && m->created_ts < f->min_created) ||
	    (f->max_created >= 0 && m->created_ts > f->max_created) ||
	    (f->min_updated >= 0 && m->updated_us / 1000000 < f->min_updated))
		return false;
	if ((f->min_settled >= 0 || f->max_settled >= 0) && m->status != SIM_M_FINALIZED)
		return false;
	if ((f->min_settled >= 0 && m->settled_ts < f->min_settled) ||
	    (f->max_settled >= 0 && m->settled_ts > f->max_settled))
		return false;
	return true;
}

/* Reads limit (default def, 1..max) and cursor (< n). Replies 400 and returns -1 when bad. */
static int
rest_page_args(struct hsrv_req *r, int64_t def, int64_t max, uint32_t n, int64_t *limit,
    uint32_t *start)
{
	int64_t l = rest_int_arg(r, "limit"), c;
	const char *cur = hsrv_arg(r, "cursor");

	if (l == -1)
		l = def;
	if (l <= 0 || l > max) {
		sim_req_error(r, 400, "invalid_parameters", "limit out of range");
		return -1;
	}
	*limit = l;
	*start = 0;
	if (cur == NULL || *cur == '\0')
		return 0;
	c = rest_int_arg(r, "cursor");
	if (c < 0 || c > (int64_t)n) {
		sim_req_error(r, 400, "invalid_parameters", "invalid cursor");
		return -1;
	}
	*start = (uint32_t)c;
	return 0;
}

void
sim_rest_markets(struct hsrv_req *r)
{
	struct rest_filter f;
	struct json_object *o, *arr;
	int64_t limit, got = 0;
	uint32_t i, start;
	char cursor[24] = "";

	if (rest_filter_parse(r, &f) < 0)
		return;
	if (rest_page_args(r, 100, 1000, sim_w.n_markets, &limit, &start) < 0)
		return;
	o = json_object_new_object();
	arr = json_object_new_array();
	for (i = start; i < sim_w.n_markets; i++) {
		if (!rest_filter_match(&f, &sim_w.markets[i]))
			continue;
		if (got == limit) {
			snprintf(cursor, sizeof(cursor), "%u", i);
			break;
		}
		json_object_array_add(arr, sim_rest_market_json(&sim_w.markets[i]));
		got++;
	}
	rest_add(o, "markets", arr);
	rest_add(o, "cursor", json_object_new_string(cursor));
	hsrv_reply_json(r, 200, o);
}

void
sim_rest_market(struct hsrv_req *r)
{
	const char *t = hsrv_seg(r, 0);
	struct sim_market *m = sim_market_find(t, strlen(t));
	struct json_object *o;

	if (sim_w.f_rest_fail > 0) {
		sim_w.f_rest_fail--; /* the rest_fail fault */
		sim_req_error(r, 503, "service_unavailable", "service unavailable");
		return;
	}
	if (m == NULL) {
		sim_req_error(r, 404, "market_not_found", "market not found");
		return;
	}
	o = json_object_new_object();
	rest_add(o, "market", sim_rest_market_json(m));
	hsrv_reply_json(r, 200, o);
	if (sim_w.f_rest_slow > 0) {
		/* the rest_slow fault: the answer as of now, sent late (the loop keeps serving) */
		sim_w.f_rest_slow--;
		sim_w.st.rest_held++;
		hsrv_delay(r, sim_w.f_rest_slow_ms);
	}
}

static struct json_object *
rest_levels(const struct sim_market *m, enum book_side side, size_t depth)
{
	struct json_object *arr = json_object_new_array();
	size_t n = book_levels(m->book, side);
	struct book_level *lv;

	if (depth > 0 && depth < n)
		n = depth;
	if (n == 0)
		return arr;
	lv = malloc(n * sizeof(*lv));
	if (lv == NULL)
		return arr;
	n = book_copy_levels(m->book, side, lv, n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *pair = json_object_new_array();

		json_object_array_add(pair, rest_price(lv[i].price));
		json_object_array_add(pair, rest_size(lv[i].size));
		json_object_array_add(arr, pair);
	}
	free(lv);
	return arr;
}

void
sim_rest_orderbook(struct hsrv_req *r)
{
	const char *t = hsrv_seg(r, 0);
	struct sim_market *m = sim_market_find(t, strlen(t));
	int64_t depth = rest_int_arg(r, "depth");
	struct json_object *o, *ob;

	if (m == NULL) {
		sim_req_error(r, 404, "market_not_found", "market not found");
		return;
	}
	if (depth == -2 || depth > 100000) {
		sim_req_error(r, 400, "invalid_parameters", "invalid depth");
		return;
	}
	o = json_object_new_object();
	ob = json_object_new_object();
	rest_add(ob, "yes_dollars", rest_levels(m, BOOK_YES, depth < 0 ? 0 : (size_t)depth));
	rest_add(ob, "no_dollars", rest_levels(m, BOOK_NO, depth < 0 ? 0 : (size_t)depth));
	rest_add(o, "orderbook_fp", ob);
	hsrv_reply_json(r, 200, o);
}

/* open while any market trades or may trade, settled once all are finalized, closed otherwise. */
static const char *
rest_event_status(const struct sim_event *e)
{
	bool all_final = true;

	for (uint32_t i = 0; i < e->n_markets; i++) {
		uint8_t st = sim_w.markets[e->first_market + i].status;

		if (st <= SIM_M_INACTIVE)
			return "open";
		if (st != SIM_M_FINALIZED)
			all_final = false;
	}
	return all_final ? "settled" : "closed";
}

static struct json_object *
rest_event_json(const struct sim_event *e, bool nested)
{
	struct json_object *o = json_object_new_object();
	const struct sim_series *s = &sim_w.series[e->series];

	rest_add(o, "event_ticker", json_object_new_string(e->ticker));
	rest_add(o, "series_ticker", json_object_new_string(s->ticker));
	rest_add(o, "title", json_object_new_string(e->title));
	rest_add(o, "sub_title", json_object_new_string(e->sub_title));
	rest_add(o, "category", json_object_new_string(s->category));
	rest_add(o, "mutually_exclusive", json_object_new_boolean(e->mutually_exclusive));
	rest_add(o, "collateral_return_type", json_object_new_string(""));
	rest_add(o, "status", json_object_new_string(rest_event_status(e)));
	if (nested) {
		struct json_object *arr = json_object_new_array();

		for (uint32_t i = 0; i < e->n_markets; i++)
			json_object_array_add(arr,
			    sim_rest_market_json(&sim_w.markets[e->first_market + i]));
		rest_add(o, "markets", arr);
	}
	return o;
}

static bool
rest_true_arg(struct hsrv_req *r, const char *name)
{
	const char *v = hsrv_arg(r, name);

	return v != NULL && strcmp(v, "true") == 0;
}

void
sim_rest_events(struct hsrv_req *r)
{
	const char *st = hsrv_arg(r, "status"), *series = hsrv_arg(r, "series_ticker");
	bool nested = rest_true_arg(r, "with_nested_markets");
	struct json_object *o, *arr;
	int64_t limit, got = 0;
	uint32_t start;
	char cursor[24] = "";

	if (st != NULL && *st != '\0' && strcmp(st, "open") != 0 && strcmp(st, "closed") != 0 &&
	    strcmp(st, "settled") != 0) {
		sim_req_error(r, 400, "invalid_parameters", "invalid status filter");
		return;
	}
	if (rest_page_args(r, 100, 200, sim_w.n_events, &limit, &start) < 0)
		return;
	o = json_object_new_object();
	arr = json_object_new_array();
	for (uint32_t i = start; i < sim_w.n_events; i++) {
		const struct sim_event *e = &sim_w.events[i];

		if (st != NULL && *st != '\0' && strcmp(st, rest_event_status(e)) != 0)
			continue;
		if (series != NULL && *series != '\0' &&
		    strcmp(series, sim_w.series[e->series].ticker) != 0)
			continue;
		if (got == limit) {
			snprintf(cursor, sizeof(cursor), "%u", i);
			break;
		}
		json_object_array_add(arr, rest_event_json(e, nested));
		got++;
	}
	rest_add(o, "events", arr);
	rest_add(o, "cursor", json_object_new_string(cursor));
	hsrv_reply_json(r, 200, o);
}

void
sim_rest_event(struct hsrv_req *r)
{
	const struct sim_event *e = sim_event_find(hsrv_seg(r, 0));
	bool nested = rest_true_arg(r, "with_nested_markets");
	struct json_object *o, *arr;

	if (e == NULL) {
		sim_req_error(r, 404, "event_not_found", "event not found");
		return;
	}
	o = json_object_new_object();
	rest_add(o, "event", rest_event_json(e, nested));
	arr = json_object_new_array();
	for (uint32_t i = 0; !nested && i < e->n_markets; i++)
		json_object_array_add(arr, sim_rest_market_json(&sim_w.markets[e->first_market + i]));
	rest_add(o, "markets", arr);
	hsrv_reply_json(r, 200, o);
}

void
sim_rest_series(struct hsrv_req *r)
{
	const struct sim_series *s = sim_series_find(hsrv_seg(r, 0));
	struct json_object *o, *so;

	if (s == NULL) {
		sim_req_error(r, 404, "series_not_found", "series not found");
		return;
	}
	o = json_object_new_object();
	so = json_object_new_object();
	rest_add(so, "ticker", json_object_new_string(s->ticker));
	rest_add(so, "title", json_object_new_string(s->title));
	rest_add(so, "category", json_object_new_string(s->category));
	rest_add(so, "frequency", json_object_new_string(s->frequency));
	rest_add(so, "tags", json_object_new_array());
	rest_add(so, "settlement_sources", json_object_new_array());
	rest_add(so, "contract_url", json_object_new_string(""));
	rest_add(so, "fee_type", json_object_new_string("quadratic"));
	rest_add(so, "fee_multiplier", json_object_new_int(1));
	rest_add(o, "series", so);
	hsrv_reply_json(r, 200, o);
}

void
sim_rest_balance(struct hsrv_req *r)
{
	struct json_object *o = json_object_new_object();

	rest_add(o, "balance", json_object_new_int64(1000000));
	rest_add(o, "portfolio_value", json_object_new_int64(0));
	rest_add(o, "updated_ts", json_object_new_int64(sim_now_us() / 1000000));
	hsrv_reply_json(r, 200, o);
}
