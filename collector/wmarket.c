/*
 * wmarket: the writer's table of markets by registry index (the socket thread's numbering):
 * each one's markets.id, its rows' span in the batch being written (coverage), whether an earlier
 * run recorded it and whether it owes this run a restart gap's end, and its ticker for the spool.
 * Rows come from upserts: a REST object (discovery, a re-scan, or the fetch of a market first seen
 * on the socket), or a row with only the ticker, written as soon as the socket names a market so
 * that its deltas have an id at once; its REST object follows when the resolver thread has it
 * (resolve.c): no network call here, ever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "writer.h"

static struct coll_wmarket *wm;
static size_t n_wm;

/*
 * A market's REST object j: its columns into markets, and j itself into market_raw (kept
 * out of markets, whose rows the coverage updates copy). One statement, so both tables change
 * together; an unchanged j is not written again (the REST re-scan upserts every market).
 */
static struct db_stmt q_upsert = DB_STMT("coll_upsert",
    "WITH s AS (SELECT $1::jsonb AS j),"
    " mk AS (INSERT INTO markets AS m (ticker, event_ticker, series_ticker, market_type, title,"
    "  subtitle, yes_sub_title, no_sub_title, status, open_time, close_time,"
    "  expected_expiration_time, result, price_level_structure, price_ranges, notional,"
    "  use_yes_price)"
    " SELECT j->>'ticker', coalesce(j->>'event_ticker', ''),"
    "  coalesce(j->>'series_ticker', split_part(coalesce(j->>'event_ticker', ''), '-', 1)),"
    "  coalesce(j->>'market_type', 'binary'), coalesce(j->>'title', ''), coalesce(j->>'subtitle', ''),"
    "  coalesce(j->>'yes_sub_title', ''), coalesce(j->>'no_sub_title', ''),"
    "  coalesce(j->>'status', 'initialized'), nullif(j->>'open_time', '')::timestamptz,"
    "  nullif(j->>'close_time', '')::timestamptz,"
    "  nullif(j->>'expected_expiration_time', '')::timestamptz, coalesce(j->>'result', ''),"
    "  coalesce(j->>'price_level_structure', ''), coalesce(j->'price_ranges', '[]'),"
    "  coalesce(round(nullif(j->>'notional_value_dollars', '')::numeric * 1000000)::bigint, 1000000),"
    "  false"
    " FROM s"
    " ON CONFLICT (ticker) DO UPDATE SET event_ticker = EXCLUDED.event_ticker,"
    "  series_ticker = EXCLUDED.series_ticker, market_type = EXCLUDED.market_type,"
    "  title = EXCLUDED.title, subtitle = EXCLUDED.subtitle, yes_sub_title = EXCLUDED.yes_sub_title,"
    "  no_sub_title = EXCLUDED.no_sub_title, status = EXCLUDED.status,"
    "  open_time = EXCLUDED.open_time, close_time = EXCLUDED.close_time,"
    "  expected_expiration_time = EXCLUDED.expected_expiration_time, result = EXCLUDED.result,"
    "  price_level_structure = EXCLUDED.price_level_structure, price_ranges = EXCLUDED.price_ranges,"
    "  notional = EXCLUDED.notional, use_yes_price = false, updated_at = now()"
    " RETURNING id, last_ts, final_ts),"
    " mr AS (INSERT INTO market_raw AS r (market_id, raw) SELECT mk.id, s.j FROM mk, s"
    " ON CONFLICT (market_id) DO UPDATE SET raw = EXCLUDED.raw"
    "  WHERE r.raw IS DISTINCT FROM EXCLUDED.raw)"
    " SELECT id, kb_us(last_ts), final_ts IS NOT NULL FROM mk", 1);
/* A market REST could not describe: its row, without touching what an earlier run stored. */
static struct db_stmt q_insert_min = DB_STMT("coll_insert_min",
    "INSERT INTO markets AS m (ticker) VALUES ($1)"
    " ON CONFLICT (ticker) DO UPDATE SET updated_at = now()"
    " RETURNING id, kb_us(last_ts), final_ts IS NOT NULL", 1);
static struct db_stmt q_status = DB_STMT("coll_status",
    "UPDATE markets SET status = coalesce($2::jsonb->>'status', status),"
    " result = coalesce($2::jsonb->>'result', result), updated_at = now() WHERE id = $1", 2);

int
coll_wm_reserve(int32_t idx)
{
	if (idx < 0)
		return -1;
	if ((size_t)idx < n_wm)
		return 0;
	size_t n = n_wm == 0 ? 1024 : n_wm;
	struct coll_wmarket *w;

	while (n <= (size_t)idx)
		n *= 2;
	if ((w = realloc(wm, n * sizeof(*w))) == NULL)
		return -1;
	for (size_t i = n_wm; i < n; i++)
		w[i] = (struct coll_wmarket){ .id = 0, .restart_from = -1, .first = -1, .last = -1,
		    .ticker = NULL, .recorded = false, .final = false };
	wm = w;
	n_wm = n;
	return 0;
}

struct coll_wmarket *
coll_wm(int32_t idx)
{
	return idx >= 0 && (size_t)idx < n_wm ? &wm[idx] : NULL;
}

int
coll_wm_upsert(struct db *db, int32_t idx, const char *json, const char *ticker, bool owes_restart)
{
	const char *params[] = { json != NULL ? json : ticker };
	PGresult *res = db_exec(db, json != NULL ? &q_upsert : &q_insert_min, params);
	struct coll_wmarket *w = &wm[idx];

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		bool first = w->id == 0;

		w->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		if (!PQgetisnull(res, 0, 1))
			w->recorded = true;
		w->final = PQgetvalue(res, 0, 2)[0] == 't';
		if (first && owes_restart && !PQgetisnull(res, 0, 1))
			w->restart_from = strtoll(PQgetvalue(res, 0, 1), NULL, 10) + 1;
	}
	PQclear(res);
	return 0;
}

int
coll_wm_status(struct db *db, int32_t idx, const char *json)
{
	char a[24];
	const char *p[] = { a, json };

	snprintf(a, sizeof(a), "%lld", (long long)wm[idx].id);
	return db_exec_ok(db, &q_status, p);
}

void
coll_wm_cover(int32_t idx, int64_t ts)
{
	struct coll_wmarket *w = &wm[idx];

	w->recorded = true;
	if (w->first < 0 || ts < w->first)
		w->first = ts;
	if (ts > w->last)
		w->last = ts;
}

void
coll_wm_uncover(const struct coll_ev *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ev[i].market >= 0 && (size_t)ev[i].market < n_wm)
			wm[ev[i].market].first = wm[ev[i].market].last = -1;
}

void
coll_wm_learn(const struct coll_ev *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = NULL, *t;
		const char *tk = NULL;

		if ((ev[i].kind != COLL_EV_MARKET && ev[i].kind != COLL_EV_FETCH) ||
		    coll_wm_reserve(ev[i].market) != 0 || wm[ev[i].market].ticker != NULL)
			continue;
		if (ev[i].kind == COLL_EV_FETCH) {
			tk = ev[i].data;
		} else if ((o = json_tokener_parse(ev[i].data)) != NULL &&
		    json_object_object_get_ex(o, "ticker", &t)) {
			tk = json_object_get_string(t);
		}
		if (tk != NULL)
			wm[ev[i].market].ticker = strdup(tk);
		json_object_put(o);
	}
}

const char *
coll_wm_ticker(int32_t idx)
{
	return idx >= 0 && (size_t)idx < n_wm ? wm[idx].ticker : NULL;
}

void
coll_wm_swap(struct coll_wmtable *t)
{
	struct coll_wmtable cur = { wm, n_wm };

	wm = t->wm;
	n_wm = t->n;
	*t = cur;
}

void
coll_wm_free(void)
{
	for (size_t i = 0; i < n_wm; i++)
		free(wm[i].ticker);
	free(wm);
	wm = NULL;
	n_wm = 0;
}
