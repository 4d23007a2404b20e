/*
 * h_markets: the market catalogue.
 *   GET /v1/markets?status=&event_ticker=&series_ticker=&q=&has_data=&cursor=&limit=
 *   GET /v1/markets/{ticker}
 * Every market carries its coverage (first and last recorded instant). The list pages by the
 * market's id: the cursor is the last id returned, so a page never skips or repeats a market.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "recon.h"
#include "route.h"

#define MARKET_COLS \
    "m.id, m.ticker, m.event_ticker, m.series_ticker, m.market_type, m.title, m.subtitle," \
    " m.yes_sub_title, m.no_sub_title, m.status, " SQL_US("m.open_time") "," \
    " " SQL_US("m.close_time") ", " SQL_US("m.expected_expiration_time") "," \
    " " SQL_US("m.settled_time") ", m.result, m.price_level_structure, m.price_ranges::text," \
    " m.notional, " SQL_US("m.first_ts") ", " SQL_US("m.last_ts") ", " SQL_US("m.updated_at")

static struct db_stmt q_list = DB_STMT("mk_list",
    "SELECT " MARKET_COLS " FROM markets m"
    " WHERE ($1::text IS NULL OR m.status = $1)"
    "   AND ($2::text IS NULL OR m.event_ticker = $2)"
    "   AND ($3::text IS NULL OR m.series_ticker = $3)"
    "   AND ($4::text IS NULL OR strpos(lower(m.ticker), lower($4)) > 0"
    "        OR strpos(lower(m.title), lower($4)) > 0)"
    "   AND ($5::boolean IS NULL OR (m.first_ts IS NOT NULL) = $5)"
    "   AND m.id > $6::bigint"
    " ORDER BY m.id LIMIT $7::int + 1", 7);
/* The detail adds the counts, the gaps' summary and Kalshi's object (market_raw; '{}' for
 * a market Kalshi never described). */
static struct db_stmt q_one = DB_STMT("mk_one",
    "SELECT " MARKET_COLS ","
    " (SELECT count(*) FROM book_checkpoints c WHERE c.market_id = m.id),"
    " (SELECT count(*) FROM book_deltas d WHERE d.market_id = m.id),"
    " (SELECT count(*) FROM gaps g WHERE g.market_id = m.id),"
    " (SELECT count(*) FROM gaps g WHERE g.market_id = m.id AND g.end_ts IS NULL),"
    " (SELECT coalesce(kb_us(sum(coalesce(g.end_ts, now()) - g.start_ts) + 'epoch'::timestamptz), 0)"
    "    FROM gaps g WHERE g.market_id = m.id),"
    " coalesce(r.raw, '{}')::text"
    " FROM markets m LEFT JOIN market_raw r ON r.market_id = m.id WHERE m.ticker = $1", 1);

static struct json_object *
str_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : json_object_new_string(PQgetvalue(res, row, col));
}

static struct json_object *
time_col(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL :
	    recon_time_json(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

/* One market object from a row of MARKET_COLS. */
static struct json_object *
market_json(const PGresult *res, int r)
{
	static const char *const strs[] = { NULL, "ticker", "event_ticker", "series_ticker",
		"market_type", "title", "subtitle", "yes_sub_title", "no_sub_title", "status" };
	struct json_object *o = json_object_new_object(), *cov = json_object_new_object();
	char notional[FX_BUFSZ];

	for (int c = 1; c < 10; c++)
		json_object_object_add(o, strs[c], str_or_null(res, r, c));
	json_object_object_add(o, "open_time", time_col(res, r, 10));
	json_object_object_add(o, "close_time", time_col(res, r, 11));
	json_object_object_add(o, "expected_expiration_time", time_col(res, r, 12));
	json_object_object_add(o, "settled_time", time_col(res, r, 13));
	json_object_object_add(o, "result", str_or_null(res, r, 14));
	json_object_object_add(o, "price_level_structure", str_or_null(res, r, 15));
	json_object_object_add(o, "price_ranges", json_tokener_parse(PQgetvalue(res, r, 16)));
	fx_format_price(strtoll(PQgetvalue(res, r, 17), NULL, 10), notional);
	json_object_object_add(o, "notional_value_dollars", json_object_new_string(notional));
	json_object_object_add(cov, "first", time_col(res, r, 18));
	json_object_object_add(cov, "last", time_col(res, r, 19));
	json_object_object_add(o, "coverage", cov);
	json_object_object_add(o, "updated_time", time_col(res, r, 20));
	return o;
}

void
h_markets_list(struct req *req)
{
	static const char *const statuses[] = { "initialized", "inactive", "active", "closed",
		"determined", "disputed", "amended", "finalized", NULL };
	const struct req_arg *status = req_arg(req, "status"), *has = req_arg(req, "has_data");
	const struct req_arg *cur = req_arg(req, "cursor"), *lim = req_arg(req, "limit");
	char after[24], limit[16];
	const char *params[7];
	struct json_object *root, *arr;
	PGresult *res;
	int n, max = lim->set ? (int)lim->i : 100;

	snprintf(after, sizeof(after), "%lld", cur->set ? (long long)cur->i : 0LL);
	snprintf(limit, sizeof(limit), "%d", max);
	params[0] = status->set ? statuses[status->i] : NULL;
	params[1] = req_arg(req, "event_ticker")->s;
	params[2] = req_arg(req, "series_ticker")->s;
	params[3] = req_arg(req, "q")->s;
	params[4] = has->set ? (has->i ? "true" : "false") : NULL;
	params[5] = after;
	params[6] = limit;
	if ((res = db_exec(req->db, &q_list, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "database unavailable");
		return;
	}
	n = PQntuples(res);
	root = json_object_new_object();
	arr = json_object_new_array_ext(n);
	for (int r = 0; r < n && r < max; r++)
		json_object_array_add(arr, market_json(res, r));
	json_object_object_add(root, "markets", arr);
	if (n > max) {
		char cursor[CURSOR_BUFSZ];

		cursor_encode(req, strtoll(PQgetvalue(res, max - 1, 0), NULL, 10), cursor);
		json_object_object_add(root, "next_cursor", json_object_new_string(cursor));
	} else {
		json_object_object_add(root, "next_cursor", NULL);
	}
	PQclear(res);
	req_send_json(req, 200, root);
}

void
h_market(struct req *req)
{
	const char *params[] = { req->captures[0] };
	PGresult *res = db_exec(req->db, &q_one, params);
	struct json_object *o, *counts, *gaps;

	if (res == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "database unavailable");
		return;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		req_send_error(req, ERR_MARKET_NOT_FOUND, "no market '%.200s'", req->captures[0]);
		return;
	}
	o = market_json(res, 0);
	counts = json_object_new_object();
	json_object_object_add(counts, "checkpoints", json_object_new_int64(strtoll(PQgetvalue(res, 0, 21), NULL, 10)));
	json_object_object_add(counts, "deltas", json_object_new_int64(strtoll(PQgetvalue(res, 0, 22), NULL, 10)));
	json_object_object_add(o, "counts", counts);
	gaps = json_object_new_object();
	json_object_object_add(gaps, "count", json_object_new_int64(strtoll(PQgetvalue(res, 0, 23), NULL, 10)));
	json_object_object_add(gaps, "open", json_object_new_int64(strtoll(PQgetvalue(res, 0, 24), NULL, 10)));
	json_object_object_add(gaps, "total_seconds",
	    json_object_new_double((double)strtoll(PQgetvalue(res, 0, 25), NULL, 10) / 1e6));
	json_object_object_add(o, "gaps", gaps);
	json_object_object_add(o, "kalshi", json_tokener_parse(PQgetvalue(res, 0, 26)));
	PQclear(res);
	req_send_json(req, 200, o);
}
