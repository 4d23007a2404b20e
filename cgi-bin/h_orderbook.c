/*
 * h_orderbook: books at an instant.
 *   GET /v1/markets/{ticker}/orderbook?at=&depth=       one market
 *   GET /v1/events/{event_ticker}/orderbook?at=&depth=  every market of an event
 *   GET /v1/orderbooks?tickers=A,B&at=&depth=           several markets
 * Each book says whether it is complete: false before the market's coverage starts, when the
 * instant falls inside a recorded gap (with the gap's bounds and reason), or when it is after the
 * instant the record is known to hold (not_yet_recorded: from just after it, open-ended).
 */
#include <stdlib.h>
#include <string.h>

#include "ktime.h"
#include "recon.h"
#include "route.h"

#define EVENT_MAX_MARKETS 100

static struct db_stmt q_event_markets = DB_STMT("ob_event_markets",
    "SELECT ticker FROM markets WHERE event_ticker = $1 ORDER BY ticker LIMIT 101", 1);

/*
 * A call without `at` asks for the book now. The collector's recorded-through mark trails now by
 * the writer's commit pace (10 ms under flow, at most a second when the exchange is quiet), so
 * "now" itself is nearly always just past what the record vouches for. When the mark is at most
 * this fresh, such a call answers the book at the market's recorded-through instant instead (the
 * answer's `at` says which): every committed row of the market is at or before that instant
 * (bookq_market.through takes the later of the mark and the market's last row), so it is the same
 * book as at now, and complete. An older mark means the collector is behind or down: the call is
 * answered at now, not_yet_recorded, as an explicit `at` would be.
 */
#define ORDERBOOK_FRESH_US INT64_C(2000000)

/*
 * The JSON of one market's book at at (at_given: the caller named the instant; otherwise see
 * ORDERBOOK_FRESH_US). Returns 1 with *out set, 0 when there is no such market, -1 on a
 * database error.
 */
static int
orderbook_json(struct db *db, const char *ticker, int64_t at, bool at_given, int depth,
    struct bookq_ahead *ahead, struct json_object **out)
{
	struct bookq_market mk, *m = &mk;
	struct bookq_state st;
	struct bookq_gap gap;
	struct json_object *o, *g = NULL, *cp = NULL;
	bool complete = true;
	int found = bookq_at(db, ticker, at, ahead, m, &st, &gap);

	if (found <= 0) {
		bookq_state_free(&st);
		return found;
	}
	if (!at_given && bookq_not_yet_recorded(m, at) && m->through != BOOKQ_NONE &&
	    at - m->through <= ORDERBOOK_FRESH_US)
		at = m->through;
	if (st.checkpoint_ts == BOOKQ_NONE) {
		complete = false;
		g = json_object_new_object();
		json_object_object_add(g, "start", NULL);
		json_object_object_add(g, "end", recon_time_json(m->first_ts));
		json_object_object_add(g, "reason", json_object_new_string("before_coverage"));
	} else if (gap.found) {
		complete = false;
		g = json_object_new_object();
		json_object_object_add(g, "start", recon_time_json(gap.start));
		json_object_object_add(g, "end", recon_time_json(gap.end));
		json_object_object_add(g, "reason", json_object_new_string(gap.reason));
	} else if (bookq_not_yet_recorded(m, at)) {
		/* the collector has not (yet) vouched for this instant: it may be behind, or down */
		complete = false;
		g = json_object_new_object();
		json_object_object_add(g, "start", recon_time_json(m->through == BOOKQ_NONE ? BOOKQ_NONE :
		    m->through + 1));
		json_object_object_add(g, "end", NULL);
		json_object_object_add(g, "reason", json_object_new_string("not_yet_recorded"));
	} else if (st.inconsistent) {
		complete = false;
		g = json_object_new_object();
		json_object_object_add(g, "start", recon_time_json(st.checkpoint_ts));
		json_object_object_add(g, "end", recon_time_json(at));
		json_object_object_add(g, "reason", json_object_new_string("inconsistent_record"));
	}
	if (st.checkpoint_ts != BOOKQ_NONE) {
		cp = json_object_new_object();
		json_object_object_add(cp, "ts", recon_time_json(st.checkpoint_ts));
		json_object_object_add(cp, "source", json_object_new_string(st.checkpoint_source));
	}
	o = json_object_new_object();
	json_object_object_add(o, "market_ticker", json_object_new_string(m->ticker));
	json_object_object_add(o, "at", recon_time_json(at));
	json_object_object_add(o, "complete", json_object_new_boolean(complete));
	json_object_object_add(o, "gap", g);
	json_object_object_add(o, "orderbook_fp", recon_levels_json(st.book, depth));
	json_object_object_add(o, "best", recon_best_json(st.book));
	json_object_object_add(o, "checkpoint", cp);
	json_object_object_add(o, "deltas_applied", json_object_new_int64(st.deltas_applied));
	json_object_object_add(o, "last_change", recon_time_json(st.last_change));
	bookq_state_free(&st);
	*out = o;
	return 1;
}

static int64_t
arg_at(const struct req *req)
{
	const struct req_arg *a = req_arg(req, "at");

	return a->set ? a->i : kt_now();
}

static int
arg_depth(const struct req *req)
{
	const struct req_arg *a = req_arg(req, "depth");

	return a->set ? (int)a->i : 0;
}

/*
 * The route's prefetch (routes.c): the book's first statement goes to Postgres with the charge,
 * in one round trip. Measured in A/B (docs/benchmarks.md, scripts/bench/20-api.sh BENCH_API_B):
 * at 1 connection it won 12 of 15 paired runs (914 against 805 req/s, p50 0.96 against 1.10 ms,
 * in the quietest of three runs of 5); at 16 connections, where the machine's CPU is the limit
 * and not the round trips, 9 of 15. The instant is read once, here, so that the book sent ahead and
 * the answer's `at` agree.
 */
int
h_orderbook_prefetch(struct req *req)
{
	return bookq_at_ahead(req->db, req->captures[0], arg_at(req), &req->prefetch);
}

void
h_orderbook(struct req *req)
{
	struct json_object *o = NULL;
	/* the instant the prefetch read at (without `at`, now: once) */
	int64_t at = req->prefetch.call.stmt != NULL ? req->prefetch.at : arg_at(req);
	int found = orderbook_json(req->db, req->captures[0], at, req_arg(req, "at")->set,
	    arg_depth(req), &req->prefetch, &o);

	if (found < 0)
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "database unavailable");
	else if (found == 0)
		req_send_error(req, ERR_MARKET_NOT_FOUND, "no market '%.200s'", req->captures[0]);
	else
		req_send_json(req, 200, o);
}

/* Answers {"at","orderbooks":[...]} for the tickers given (n of them). */
static void
send_many(struct req *req, const char *const *tickers, size_t n, int64_t at)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	int depth = arg_depth(req);

	json_object_object_add(root, "at", recon_time_json(at));
	json_object_object_add(root, "orderbooks", arr);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = NULL;
		int found = orderbook_json(req->db, tickers[i], at, req_arg(req, "at")->set, depth,
		    NULL, &o);

		if (found == 0) {
			json_object_put(root);
			req_send_error(req, ERR_MARKET_NOT_FOUND, "no market '%.200s'", tickers[i]);
			return;
		}
		if (found < 0) {
			json_object_put(root);
			req_send_error(req, ERR_SERVICE_UNAVAILABLE, "database unavailable");
			return;
		}
		json_object_array_add(arr, o);
	}
	req_send_json(req, 200, root);
}

void
h_orderbooks(struct req *req)
{
	char *list = strdup(req_arg(req, "tickers")->s), *save = NULL;
	const char *tickers[64];
	size_t n = 0;

	if (list == NULL) {
		req_send_error(req, ERR_INTERNAL, "out of memory");
		return;
	}
	for (char *t = strtok_r(list, ",", &save); t != NULL && n < 64; t = strtok_r(NULL, ",", &save)) {
		for (size_t j = 0; j < n; j++) {
			if (strcmp(tickers[j], t) == 0) {
				req_send_error(req, ERR_INVALID_PARAMETER, "ticker '%.200s' is listed twice", t);
				free(list);
				return;
			}
		}
		tickers[n++] = t;
	}
	send_many(req, tickers, n, arg_at(req));
	free(list);
}

void
h_event_orderbook(struct req *req)
{
	const char *params[] = { req->captures[0] };
	PGresult *res = db_exec(req->db, &q_event_markets, params);
	const char *tickers[EVENT_MAX_MARKETS];
	int n;

	if (res == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "database unavailable");
		return;
	}
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		req_send_error(req, ERR_EVENT_NOT_FOUND, "no event '%.200s'", req->captures[0]);
		return;
	}
	if (n > EVENT_MAX_MARKETS) {
		PQclear(res);
		req_send_error(req, ERR_INVALID_PARAMETER,
		    "event '%.200s' has more than %d markets; use /v1/orderbooks with tickers",
		    req->captures[0], EVENT_MAX_MARKETS);
		return;
	}
	for (int i = 0; i < n; i++)
		tickers[i] = PQgetvalue(res, i, 0);
	send_many(req, tickers, (size_t)n, arg_at(req));
	PQclear(res);
}
