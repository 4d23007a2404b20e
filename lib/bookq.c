/*
 * bookq: see bookq.h. All SQL is constant with $n parameters (a day's statement: with its
 * partitions' date, lib/daypart). Instants go to Postgres as RFC 3339 text with 6 fractional
 * digits (a timestamptz parameter: exact, and planned with its value, where kb_ts($n) of a
 * constant would run the SQL-function executor at every plan), or for many markets as integer
 * microseconds in an array; they come back as integer microseconds (SQL_US), so no precision is
 * lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bookq.h"
#include "checkpoint.h"
#include "daypart.h"
#include "ktime.h"
#include "log.h"
#include "sbuf.h"

/* The columns of every statement here, in this order (MARKET_COLS: the first BQ_MARKET_N). */
enum bq_col {
	BQ_ID, BQ_TICKER, BQ_NOTIONAL, BQ_FIRST, BQ_LAST, BQ_THROUGH, BQ_FINAL, BQ_MARKED,
	BQ_MARKET_N,
	BQ_CP_TS = BQ_MARKET_N, BQ_CP_SOURCE, BQ_CP_YP, BQ_CP_YS, BQ_CP_NP, BQ_CP_NS,
	BQ_GAP_START, BQ_GAP_END, BQ_GAP_REASON,
	BQ_ROWS, BQ_ROWS_LAST,
	BQ__COUNT
};

/*
 * The market m with its recorded-through mark r (one row, one more buffer hit in the
 * same statement): coverage, how far the record is known complete (bookq_market.through), and
 * whether it ends at the settlement.
 */
#define MARKET_COLS \
    "m.id, m.ticker, m.notional, " SQL_US("m.first_ts") ", " SQL_US("m.last_ts") "," \
    " " SQL_US("CASE WHEN m.final_ts IS NULL THEN greatest(r.through, m.last_ts)" \
    " ELSE greatest(m.final_ts, m.last_ts) END") ", m.final_ts IS NOT NULL, r.through IS NOT NULL"

/*
 * The book at the instant `at` (an SQL expression) of each market m of `from`: the latest
 * checkpoint at or before it in the table cp (c), the gap covering it, or one that began after
 * the checkpoint (g: the deltas since then do not rebuild the book; a gap is closed by the
 * snapshot checkpoint written at its end), and the deltas after the checkpoint up to it in the
 * table dt (d), only when `day` (a condition ending in AND, or "") holds, as text
 * "side,price,delta;..." in ts order (lib/book's book_apply_text) with the last one's ts.
 *
 * The deltas are aggregated as they come from an ordered subquery (the index's order), not with
 * string_agg(... ORDER BY ts): Postgres 15 sorts an ordered aggregate's input again, a tuplesort
 * per call (pgbench, one market's 33 deltas: 9 400 -> 10 600 calls/s; a day of 9 154: 243 ->
 * 345). A subquery with ORDER BY is never pulled up into the outer query, and a plain aggregate
 * consumes its input in the order it comes; tests/integration/t_api_replay checks the books
 * against a replay of every delta.
 */
#define BOOK_AT_SQL(from, at, cp, dt, day) \
    "SELECT " MARKET_COLS "," \
    " " SQL_US("c.ts") ", c.source, c.yes_prices, c.yes_sizes, c.no_prices, c.no_sizes," \
    " " SQL_US("g.start_ts") ", " SQL_US("g.end_ts") ", g.reason, d.rows, " SQL_US("d.last") \
    " FROM " from " LEFT JOIN recorded_through r ON true" \
    " LEFT JOIN LATERAL (SELECT * FROM " cp " cp WHERE cp.market_id = m.id" \
    "   AND cp.ts <= " at " ORDER BY cp.ts DESC LIMIT 1) c ON true" \
    " LEFT JOIN LATERAL (SELECT * FROM gaps gp WHERE gp.market_id = m.id" \
    "   AND gp.start_ts <= " at " AND (gp.end_ts IS NULL OR gp.end_ts > " at \
    "   OR gp.start_ts >= c.ts) ORDER BY gp.start_ts DESC LIMIT 1) g ON true" \
    " LEFT JOIN LATERAL (SELECT string_agg(y.r, ';') AS rows, max(y.ts) AS last" \
    "   FROM (SELECT " BOOK_TEXT_ROW_SQL("x") " AS r, x.ts FROM " dt " x" \
    "   WHERE " day "x.market_id = m.id AND x.ts > c.ts AND x.ts <= " at \
    "   ORDER BY x.ts) y) d ON true"

static struct db_stmt q_market = DB_STMT("bookq_market",
    "SELECT " MARKET_COLS " FROM markets m LEFT JOIN recorded_through r ON true"
    " WHERE m.ticker = $1", 1);
/*
 * The market $1 at $2 from the day's partitions ($3: the day's start): the checkpoint from the
 * month's partition, the deltas from the day's only when the checkpoint is on that day. The
 * common case, one statement with a cached plan.
 */
static struct daypart q_at_day = DAYPART(
    BOOK_AT_SQL("markets m", "$2::timestamptz", DAYPART_CHECKPOINTS, DAYPART_DELTAS,
    "c.ts >= $3::timestamptz AND ") " WHERE m.ticker = $1", 3);
/* The same through the parents, for what the day's partitions do not hold. */
static struct db_stmt q_at = DB_STMT("bookq_at",
    BOOK_AT_SQL("markets m", "$2::timestamptz", "book_checkpoints", "book_deltas", "")
    " WHERE m.ticker = $1", 2);
/*
 * Market i of $1 (ids) at instant i of $2 (us), in order, through the parents: one statement for
 * a whole subscribe of kbook-feedd (three per market held its event loop ~1 ms a market, so a
 * burst of subscribes kept handshakes waiting past clients' timeouts).
 */
static struct db_stmt q_at_many = DB_STMT("bookq_at_many",
    BOOK_AT_SQL("unnest($1::int[], $2::bigint[]) WITH ORDINALITY AS u(id, at, i)"
    " LEFT JOIN markets m ON m.id = u.id", "kb_ts(u.at)", "book_checkpoints", "book_deltas", "")
    " ORDER BY u.i", 2);

static bool
is_null(const PGresult *res, int r, enum bq_col c)
{
	return PQgetisnull(res, r, (int)c) != 0;
}

static const char *
text(const PGresult *res, int r, enum bq_col c)
{
	return PQgetvalue(res, r, (int)c);
}

static int64_t
val(const PGresult *res, int r, enum bq_col c)
{
	return is_null(res, r, c) ? BOOKQ_NONE : strtoll(text(res, r, c), NULL, 10);
}

static bool
flag(const PGresult *res, int r, enum bq_col c)
{
	return text(res, r, c)[0] == 't';
}

static void
parse_market(const PGresult *res, int r, struct bookq_market *m)
{
	m->id = val(res, r, BQ_ID);
	snprintf(m->ticker, sizeof(m->ticker), "%s", text(res, r, BQ_TICKER));
	m->notional = val(res, r, BQ_NOTIONAL);
	m->first_ts = val(res, r, BQ_FIRST);
	m->last_ts = val(res, r, BQ_LAST);
	m->through = val(res, r, BQ_THROUGH);
	m->final = flag(res, r, BQ_FINAL);
	m->marked = flag(res, r, BQ_MARKED);
}

/* Row r of a book statement into m, st (its book allocated here) and gap. Returns 0 or -1. */
static int
parse_book(const PGresult *res, int r, struct bookq_market *m, struct bookq_state *st,
    struct bookq_gap *gap)
{
	bool broken = false;
	long n;

	parse_market(res, r, m);
	memset(gap, 0, sizeof(*gap));
	if (!is_null(res, r, BQ_GAP_START)) {
		gap->found = true;
		gap->start = val(res, r, BQ_GAP_START);
		gap->end = val(res, r, BQ_GAP_END);
		snprintf(gap->reason, sizeof(gap->reason), "%s", text(res, r, BQ_GAP_REASON));
	}
	memset(st, 0, sizeof(*st));
	st->checkpoint_ts = BOOKQ_NONE;
	st->last_change = BOOKQ_NONE;
	if ((st->book = book_new(m->notional)) == NULL)
		return -1;
	if (is_null(res, r, BQ_CP_TS))
		return 0; /* before coverage: an empty book */
	st->checkpoint_ts = val(res, r, BQ_CP_TS);
	st->last_change = st->checkpoint_ts;
	snprintf(st->checkpoint_source, sizeof(st->checkpoint_source), "%s",
	    text(res, r, BQ_CP_SOURCE));
	if (checkpoint_load(st->book, text(res, r, BQ_CP_YP), text(res, r, BQ_CP_YS),
	    text(res, r, BQ_CP_NP), text(res, r, BQ_CP_NS)) != 0) {
		log_errorx("market %lld: malformed checkpoint at %lld", (long long)m->id,
		    (long long)st->checkpoint_ts);
		return -1;
	}
	n = book_apply_text(st->book, text(res, r, BQ_ROWS), &broken);
	st->deltas_applied = n;
	if (n > 0)
		st->last_change = val(res, r, BQ_ROWS_LAST);
	st->inconsistent = broken;
	return 0;
}

/*
 * Does the day statement's result hold the book at at? Not when the month's partition has no
 * checkpoint before at while the coverage began earlier (the checkpoint is in an earlier month),
 * nor when the checkpoint is on an earlier day (its deltas are not all in the day's partition).
 */
static bool
day_holds(const PGresult *res, int64_t at)
{
	if (PQntuples(res) == 0)
		return true; /* no such market */
	if (is_null(res, 0, BQ_CP_TS)) {
		int64_t first = val(res, 0, BQ_FIRST);

		return first == BOOKQ_NONE || first > at;
	}
	return daypart_day(val(res, 0, BQ_CP_TS)) == daypart_day(at);
}

bool
bookq_not_yet_recorded(const struct bookq_market *m, int64_t at)
{
	return !m->final && (m->through == BOOKQ_NONE || at > m->through);
}

int
bookq_market(struct db *db, const char *ticker, struct bookq_market *out)
{
	const char *params[] = { ticker };
	PGresult *res = db_exec(db, &q_market, params);
	int rc;

	if (res == NULL)
		return -1;
	rc = PQntuples(res) > 0 ? 1 : 0;
	if (PQnfields(res) != BQ_MARKET_N) {
		log_errorx("market %s: %d columns, expected %d", ticker, PQnfields(res), BQ_MARKET_N);
		rc = -1;
	} else if (rc == 1) {
		parse_market(res, 0, out);
	}
	PQclear(res);
	return rc;
}

int
bookq_at_ahead(struct db *db, const char *ticker, int64_t at, struct bookq_ahead *a)
{
	struct db_stmt *st = daypart_stmt(db, &q_at_day, daypart_day(at));

	memset(a, 0, sizeof(*a));
	if (st == NULL)
		return -1;
	a->at = at;
	kt_format(at, a->t);
	kt_format(daypart_day(at) * DAYPART_DAY_US, a->day);
	a->call.stmt = st;
	a->call.params[0] = ticker;
	a->call.params[1] = a->t;
	a->call.params[2] = a->day;
	return 0;
}

/*
 * The day's statement first (or its result sent ahead); the parents' when the day has no
 * partition (the first day with one is after at, or it is missing) or when the day's does not
 * hold the book (day_holds).
 */
int
bookq_at(struct db *db, const char *ticker, int64_t at, struct bookq_ahead *ahead,
    struct bookq_market *m, struct bookq_state *st, struct bookq_gap *gap)
{
	char t[KT_BUFSZ], day[KT_BUFSZ];
	const char *params[] = { ticker, t, day };
	PGresult *res = NULL;
	bool fallback = false;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	kt_format(at, t);
	kt_format(daypart_day(at) * DAYPART_DAY_US, day);
	if (ahead != NULL && ahead->call.res != NULL && ahead->at == at) {
		res = ahead->call.res;
		ahead->call.res = NULL;
	} else {
		res = daypart_exec(db, &q_at_day, daypart_day(at), params, &fallback);
		if (res == NULL && !fallback)
			return -1;
	}
	if (res != NULL && !day_holds(res, at)) {
		PQclear(res);
		res = NULL;
	}
	if (res == NULL && (res = db_exec(db, &q_at, params)) == NULL)
		return -1;
	if (PQnfields(res) != BQ__COUNT) {
		log_errorx("book of %s: %d columns, expected %d", ticker, PQnfields(res), BQ__COUNT);
		goto out;
	}
	if (PQntuples(res) == 0)
		rc = 0;
	else if (parse_book(res, 0, m, st, gap) == 0)
		rc = 1;
out:
	PQclear(res);
	return rc;
}

/* "{a,b,c}" of n values (a Postgres array) into b. */
static void
array_text(struct sbuf *b, const int64_t *v, size_t n)
{
	sbuf_str(b, "{");
	for (size_t i = 0; i < n; i++)
		sbuf_printf(b, "%s%lld", i == 0 ? "" : ",", (long long)v[i]);
	sbuf_str(b, "}");
}

int
bookq_at_many(struct db *db, const int64_t *ids, const int64_t *ats, size_t n,
    struct bookq_market *m, struct bookq_state *st, struct bookq_gap *gap)
{
	struct sbuf a = { 0 }, b = { 0 };
	const char *params[2];
	PGresult *res = NULL;
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		memset(&st[i], 0, sizeof(st[i]));
	array_text(&a, ids, n);
	array_text(&b, ats, n);
	if (a.failed || b.failed)
		goto out;
	params[0] = a.p;
	params[1] = b.p;
	if ((res = db_exec(db, &q_at_many, params)) == NULL)
		goto out;
	if (PQnfields(res) != BQ__COUNT || PQntuples(res) != (int)n)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (is_null(res, (int)i, BQ_ID)) {
			log_errorx("book of market %lld: no such market", (long long)ids[i]);
			goto out;
		}
		if (parse_book(res, (int)i, &m[i], &st[i], &gap[i]) != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		for (size_t i = 0; i < n; i++)
			bookq_state_free(&st[i]);
	PQclear(res);
	sbuf_free(&a);
	sbuf_free(&b);
	return rc;
}

void
bookq_state_free(struct bookq_state *st)
{
	book_free(st->book);
	st->book = NULL;
}
