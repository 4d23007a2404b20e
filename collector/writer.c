/*
 * writer: the bounded queue between the socket thread and the database, and the thread that
 * drains it. The socket thread never waits here: a push either fits or fails (the caller records
 * an overflow gap). The writer takes everything queued since its last commit (group commit) and
 * writes it in one transaction: market upserts first (they give the database ids the rows
 * need), deltas and checkpoints by COPY, gaps in their order, the markets' coverage
 * (first_ts, last_ts), the recorded-through mark and a NOTIFY kbook_deltas that feedd
 * receives at commit. A failed transaction is retried with the same events once Postgres answers
 * again; nothing is dropped. The first transaction of a run opens a 'restart' (or 'takeover') gap
 * for every market an earlier run recorded and did not finish, from just after the later of its
 * last recorded instant and the earlier run's mark; the market's first new snapshot closes it, or
 * its settlement does (closed_by 'market_closed'). A market first seen on the
 * socket that REST could not describe gets a row with its ticker only and is fetched again with
 * backoff until REST answers.
 *
 * When Postgres has refused a batch for spool_after seconds (or at shutdown), the batch and every
 * later one go to the spool file (spool.c) instead, in order; each second the writer tries to
 * replay the file (with the retry path's dedup) and, once it is all in, truncates it and writes
 * directly again. A spool left by an earlier run is replayed before anything else, its markets
 * found by ticker.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "coll.h"
#include "db.h"
#include "fixed.h"
#include "ktime.h"
#include "log.h"

struct coll_stats coll_stats;

/* Events taken in one transaction at most. */
#define BATCH_MAX 200000
/* Control events allowed past queue_max. */
#define RESERVE 65536

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct coll_ev *ring;
static size_t ring_cap, q_head, q_len, q_max;
static bool q_stop;
static pthread_t thread;
static bool started;

static struct db *db;
static const char *rest;
static int64_t spool_after_us = 5000000;
static int64_t commit_interval_us = 10000;
static bool spooling;
/* The socket thread's mark (coll_writer_mark), under q_lock, and the last one put in a batch
 * (writer thread). */
static int64_t q_mark, taken_mark;
/* The first transaction of this run opened the restart gaps; a foreign spool is being replayed. */
static bool restart_gaps_opened, in_foreign;

/* Per registry index, writer thread only. */
static struct wmarket {
	int64_t id;           /* markets.id, 0 when not upserted yet */
	int64_t restart_from; /* earlier coverage: its first new snapshot closes what this run found
	                       * open (the restart gap); -1 none */
	int64_t first, last;  /* this batch's rows, -1 none */
	bool recorded;        /* has coverage (from an earlier run or this one) */
	bool final;           /* markets.final_ts is set: recorded to its settlement */
	char *ticker;         /* owned; learned from its market event, for the spool */
} *wm;
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
/* Gap rows are idempotent so that a batch replayed after an unknown commit outcome adds nothing. */
static struct db_stmt q_gap_open = DB_STMT("coll_gap_open",
    "INSERT INTO gaps (market_id, start_ts, reason, detail) SELECT $1, kb_ts($2), $3, $4"
    " WHERE NOT EXISTS (SELECT 1 FROM gaps WHERE market_id = $1 AND start_ts = kb_ts($2))", 4);
static struct db_stmt q_gap_close = DB_STMT("coll_gap_close",
    "UPDATE gaps SET end_ts = greatest(kb_ts($2), start_ts), diverged = $3, closed_by = $4"
    " WHERE market_id = $1 AND end_ts IS NULL", 4);
/*
 * In the first transaction of a run, before its first mark: a gap ($1: restart or takeover) for
 * every market an earlier run recorded that is neither finished (settled: final, or its record
 * ended in a gap) nor inside a gap already, from just after the later of its last row and the
 * earlier run's mark, through which its book was exact and answered so. So no instant answered
 * complete before the restart is answered incomplete after it, and an instant answered "not yet
 * recorded" is then answered inside this gap. One statement: on 2 350 recorded markets it takes
 * a few ms, once a run.
 */
static struct db_stmt q_restart_open = DB_STMT("coll_restart_open",
    "INSERT INTO gaps (market_id, start_ts, reason, detail)"
    " SELECT m.id, greatest(m.last_ts, r.through) + interval '1 microsecond', $1,"
    "  'not recording between two runs'"
    " FROM markets m LEFT JOIN recorded_through r ON true"
    " WHERE m.last_ts IS NOT NULL AND m.final_ts IS NULL AND m.status NOT IN ('finalized', 'settled')"
    "  AND NOT EXISTS (SELECT 1 FROM gaps g WHERE g.market_id = m.id AND g.end_ts IS NULL)", 1);
/* A market's first snapshot of this run: the gap it was found in (restart, or an earlier run's
 * that no snapshot closed) ends here; nothing of this run opened one before it had a book. */
static struct db_stmt q_restart_close = DB_STMT("coll_restart_close",
    "UPDATE gaps SET end_ts = greatest(kb_ts($2), start_ts), closed_by = 'snapshot'"
    " WHERE market_id = $1 AND end_ts IS NULL", 2);
/*
 * A recorded market settled (learned at $2): a gap still open ends there with closed_by
 * 'market_closed' (no snapshot will come: e.g. a restart gap of a market that settled before its
 * first snapshot of this run); a market with no gap open whose record did not end in one was
 * recorded to its settlement: final_ts, complete ever after.
 */
static struct db_stmt q_settled = DB_STMT("coll_settled",
    "WITH c AS (UPDATE gaps SET end_ts = greatest(kb_ts($2), start_ts), closed_by = 'market_closed'"
    "  WHERE market_id = $1 AND end_ts IS NULL RETURNING 1)"
    " UPDATE markets m SET final_ts = kb_ts($2)"
    " WHERE m.id = $1 AND m.final_ts IS NULL AND m.last_ts IS NOT NULL"
    "  AND NOT EXISTS (SELECT 1 FROM c)"
    "  AND NOT EXISTS (SELECT 1 FROM gaps g WHERE g.market_id = $1 AND g.closed_by = 'market_closed')",
    2);
/* The mark, in the transaction of the rows it covers; it never moves back. */
static struct db_stmt q_set_mark = DB_STMT("coll_mark",
    "INSERT INTO recorded_through AS r (id, through) VALUES (1, kb_ts($1))"
    " ON CONFLICT (id) DO UPDATE SET through = greatest(r.through, EXCLUDED.through)", 1);
static enum coll_gap_reason restart_reason = COLL_GAP_RESTART;
static struct db_stmt q_coverage = DB_STMT("coll_coverage",
    "UPDATE markets m SET first_ts = coalesce(m.first_ts, kb_ts(v.f)),"
    " last_ts = greatest(m.last_ts, kb_ts(v.l))"
    " FROM unnest($1::int[], $2::bigint[], $3::bigint[]) AS v(id, f, l) WHERE m.id = v.id", 3);
static struct db_stmt q_notify = DB_STMT("coll_notify", "SELECT pg_notify('kbook_deltas', $1)", 1);
#define NOTIFY_IDS_MAX 7900 /* bytes of market ids in a NOTIFY payload (Postgres allows < 8000) */

static const char copy_deltas[] =
    "COPY book_deltas (market_id, ts, exchange_ts, side, price, delta) FROM STDIN";
static const char copy_checkpoints[] =
    "COPY book_checkpoints (market_id, ts, source, yes_prices, yes_sizes, no_prices, no_sizes)"
    " FROM STDIN";
/*
 * A batch written again after a failure whose commit outcome is unknown (the connection died
 * during COMMIT) goes through temporary tables and ON CONFLICT (market_id, ts) DO NOTHING, so
 * rows that did commit are not written twice.
 */
static const char copy_deltas_tmp[] =
    "COPY coll_deltas (market_id, ts, exchange_ts, side, price, delta) FROM STDIN";
static const char copy_checkpoints_tmp[] =
    "COPY coll_checkpoints (market_id, ts, source, yes_prices, yes_sizes, no_prices, no_sizes)"
    " FROM STDIN";
static struct db_stmt q_tmp_deltas = DB_STMT("coll_tmp_deltas",
    "CREATE TEMP TABLE IF NOT EXISTS coll_deltas (LIKE book_deltas) ON COMMIT DELETE ROWS", 0);
static struct db_stmt q_tmp_checkpoints = DB_STMT("coll_tmp_checkpoints",
    "CREATE TEMP TABLE IF NOT EXISTS coll_checkpoints (LIKE book_checkpoints) ON COMMIT DELETE ROWS",
    0);
static struct db_stmt q_merge_deltas = DB_STMT("coll_merge_deltas",
    "INSERT INTO book_deltas SELECT * FROM coll_deltas ON CONFLICT (market_id, ts) DO NOTHING", 0);
static struct db_stmt q_merge_checkpoints = DB_STMT("coll_merge_checkpoints",
    "INSERT INTO book_checkpoints SELECT * FROM coll_checkpoints"
    " ON CONFLICT (market_id, ts) DO NOTHING", 0);

void
coll_ev_free(struct coll_ev *ev)
{
	free(ev->data);
	ev->data = NULL;
}

bool
coll_writer_push(struct coll_ev *ev, bool control)
{
	bool ok;

	pthread_mutex_lock(&q_lock);
	ok = q_len < (control ? ring_cap : q_max);
	if (ok) {
		ring[(q_head + q_len) % ring_cap] = *ev;
		if (q_len++ == 0)
			pthread_cond_signal(&q_cond);
	}
	pthread_mutex_unlock(&q_lock);
	if (ok)
		ev->data = NULL;
	return ok;
}

void
coll_writer_mark(int64_t ts)
{
	pthread_mutex_lock(&q_lock);
	if (ts > q_mark)
		q_mark = ts;
	pthread_mutex_unlock(&q_lock);
}

size_t
coll_writer_depth(void)
{
	size_t n;

	pthread_mutex_lock(&q_lock);
	n = q_len;
	pthread_mutex_unlock(&q_lock);
	return n;
}

static int
wm_reserve(int32_t idx)
{
	if ((size_t)idx < n_wm)
		return 0;
	size_t n = n_wm == 0 ? 1024 : n_wm;
	struct wmarket *w;

	while (n <= (size_t)idx)
		n *= 2;
	if ((w = realloc(wm, n * sizeof(*w))) == NULL)
		return -1;
	for (size_t i = n_wm; i < n; i++)
		w[i] = (struct wmarket){ .id = 0, .restart_from = -1, .first = -1, .last = -1,
		    .ticker = NULL, .recorded = false, .final = false };
	wm = w;
	n_wm = n;
	return 0;
}

/* COPY text kept between batches up to this capacity. */
#define BUF_KEEP ((size_t)256 * 1024 * 1024)

/* A growing text buffer for COPY data. */
struct buf {
	char *p;
	size_t len, cap;
};

static int
buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	for (;;) {
		int n;

		va_start(ap, fmt);
		n = vsnprintf(b->p == NULL ? NULL : b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return 0;
		}
		size_t cap = b->cap == 0 ? 65536 : b->cap * 2;
		char *p;

		while (cap - b->len <= (size_t)n)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
}

/* Appends the decimal digits of v (may be negative) at p; returns the end. */
static char *
put_i64(char *p, int64_t v)
{
	char tmp[24];
	int n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	if (v < 0)
		*p++ = '-';
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/*
 * Appends us as RFC 3339 UTC with microseconds at p (27 bytes); returns the end. The text up to
 * the second is cached: consecutive rows mostly share it, and kt_format per row dominated the
 * writer's time.
 */
static char *
put_ts(char *p, int64_t us)
{
	static int64_t cached_sec = INT64_MIN;
	static char prefix[KT_BUFSZ];
	int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000), frac = us - sec * 1000000;

	if (sec != cached_sec) {
		kt_format(sec * 1000000, prefix); /* "YYYY-MM-DDTHH:MM:SS.000000Z" */
		cached_sec = sec;
	}
	memcpy(p, prefix, 20); /* through the '.' */
	p += 20;
	for (int i = 5; i >= 0; i--) {
		p[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	p += 6;
	*p++ = 'Z';
	return p;
}

/* Appends one book_deltas COPY line; returns 0 or -1 when out of memory. */
static int
put_delta(struct buf *b, int64_t id, const struct coll_ev *e)
{
	char *p;

	if (b->cap - b->len < 160) {
		size_t cap = b->cap == 0 ? 65536 : b->cap * 2;
		char *q = realloc(b->p, cap);

		if (q == NULL)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	p = b->p + b->len;
	p = put_i64(p, id);
	*p++ = '\t';
	p = put_ts(p, e->ts);
	*p++ = '\t';
	if (e->a >= 0) {
		p = put_ts(p, e->a * 1000);
	} else {
		*p++ = '\\';
		*p++ = 'N';
	}
	*p++ = '\t';
	*p++ = (char)('0' + e->side);
	*p++ = '\t';
	p = put_i64(p, e->b);
	*p++ = '\t';
	p = put_i64(p, e->c);
	*p++ = '\n';
	b->len = (size_t)(p - b->p);
	return 0;
}

/* Runs one COPY of data (len bytes). Returns 0 or -1 (logged). */
static int
copy_in(const char *sql, const struct buf *b)
{
	PGconn *conn = db_conn(db);
	PGresult *res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	int rc = -1;

	if (PQresultStatus(res) != PGRES_COPY_IN) {
		log_errorx("COPY did not start: %s", PQresultErrorField(res, PG_DIAG_SQLSTATE) != NULL ?
		    PQresultErrorField(res, PG_DIAG_SQLSTATE) : "no sqlstate");
		goto out;
	}
	PQclear(res);
	res = NULL;
	if (b->len > 0 && PQputCopyData(conn, b->p, (int)b->len) != 1) {
		PQputCopyEnd(conn, "client error");
	} else if (PQputCopyEnd(conn, NULL) == 1) {
		rc = 0;
	}
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			log_errorx("COPY failed: sqlstate %s: %s", st != NULL ? st : "none",
			    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) != NULL ?
			    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "");
			rc = -1;
		}
		PQclear(res);
	}
out:
	PQclear(res);
	return rc;
}

static int
exec_stmt(struct db_stmt *st, const char *const *params)
{
	PGresult *res = db_exec(db, st, params);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Upserts one market (st: q_upsert with a REST object, or q_insert_min with a ticker); records its
 * id and any restart gap owed. */
static int
upsert(int32_t idx, struct db_stmt *st, const char *arg)
{
	const char *params[] = { arg };
	PGresult *res = db_exec(db, st, params);

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		bool first = wm[idx].id == 0;

		wm[idx].id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		if (!PQgetisnull(res, 0, 1))
			wm[idx].recorded = true;
		wm[idx].final = PQgetvalue(res, 0, 2)[0] == 't';
		if (first && !in_foreign && !PQgetisnull(res, 0, 1))
			wm[idx].restart_from = strtoll(PQgetvalue(res, 0, 1), NULL, 10) + 1;
	}
	PQclear(res);
	return 0;
}

/*
 * GETs /markets/{ticker} and returns its "market" object as JSON text (caller frees), or NULL
 * when REST failed or answered something else.
 */
static char *
rest_market(const char *ticker)
{
	char path[300], *text = NULL;
	struct json_object *o, *mk = NULL;

	if (rest == NULL || rest[0] == '\0')
		return NULL;
	snprintf(path, sizeof(path), "/markets/%s", ticker);
	o = coll_rest_get(rest, path);
	if (o != NULL && json_object_object_get_ex(o, "market", &mk) &&
	    json_object_is_type(mk, json_type_object))
		text = strdup(json_object_to_json_string_ext(mk, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

/*
 * Markets first seen on the socket whose REST fetch failed: their row holds only the ticker
 * until a later fetch succeeds. Tried again after 1 s, doubling to 60 s, REFETCH_TRIES times
 * (about 8 minutes), after which the periodic re-scan is left to complete the row. Writer thread
 * only.
 */
#define REFETCH_FIRST_US 1000000
#define REFETCH_MAX_US 60000000
#define REFETCH_TRIES 12

static struct refetch {
	int32_t market;
	int tries;
	int64_t at, delay;
	char *ticker;         /* owned */
} *refetch;
static size_t n_refetch, cap_refetch;

/* Queues market idx (ticker copied) for a REST fetch again, unless it is queued already. */
static void
refetch_add(int32_t idx, const char *ticker)
{
	for (size_t i = 0; i < n_refetch; i++)
		if (refetch[i].market == idx)
			return;
	if (n_refetch == cap_refetch) {
		size_t cap = cap_refetch == 0 ? 16 : cap_refetch * 2;
		struct refetch *r = realloc(refetch, cap * sizeof(*r));

		if (r == NULL)
			return;
		refetch = r;
		cap_refetch = cap;
	}
	if ((refetch[n_refetch].ticker = strdup(ticker)) == NULL)
		return;
	refetch[n_refetch].market = idx;
	refetch[n_refetch].tries = 0;
	refetch[n_refetch].delay = REFETCH_FIRST_US;
	refetch[n_refetch].at = kt_now() + REFETCH_FIRST_US;
	log_warnx("no REST metadata for %s yet: fetching it again in %lld ms", ticker,
	    (long long)(REFETCH_FIRST_US / 1000));
	n_refetch++;
}

static void
refetch_drop(size_t i)
{
	free(refetch[i].ticker);
	n_refetch--;
	if (i != n_refetch)
		refetch[i] = refetch[n_refetch];
	refetch[n_refetch].ticker = NULL;
}

/* COLL_EV_FETCH: the REST object of a market first seen on the socket, or a minimal one. */
static int
fetch_upsert(int32_t idx, const char *ticker)
{
	char *text = rest_market(ticker);
	int rc;

	if (text != NULL) {
		rc = upsert(idx, &q_upsert, text);
	} else {
		rc = upsert(idx, &q_insert_min, ticker);
		if (rc == 0)
			refetch_add(idx, ticker);
	}
	free(text);
	return rc;
}

static void
fmt_array(struct buf *b, const struct book_level *lv, size_t n, bool sizes)
{
	buf_printf(b, "{");
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%s%lld", i == 0 ? "" : ",", (long long)(sizes ? lv[i].size : lv[i].price));
	buf_printf(b, "}");
}

static void
cover(int32_t idx, int64_t ts)
{
	wm[idx].recorded = true;
	if (wm[idx].first < 0 || ts < wm[idx].first)
		wm[idx].first = ts;
	if (ts > wm[idx].last)
		wm[idx].last = ts;
}

/*
 * The deltas of a batch, sorted by (market id, ts) before the COPY: rows that arrive in index
 * order make Postgres's unique-index inserts land leaf after leaf (a raw COPY of 300 000 rows
 * over 20 000 markets took 20-60 % less time sorted than interleaved, measured here). Kept
 * between batches; writer thread only.
 */
static struct row {
	int64_t id;
	const struct coll_ev *ev;
} *rows;
static size_t cap_rows;

static int
grow_rows(size_t n)
{
	size_t cap = n < 65536 ? 65536 : n * 2;
	struct row *r = realloc(rows, cap * sizeof(*r));

	if (r == NULL)
		return -1;
	rows = r;
	cap_rows = cap;
	return 0;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->ev->ts < y->ev->ts ? -1 : x->ev->ts > y->ev->ts;
}

/* Does a market event's or status event's JSON say the market settled? (json-c's plain text) */
static bool
says_settled(const char *json)
{
	return json != NULL && (strstr(json, "\"status\":\"finalized\"") != NULL ||
	    strstr(json, "\"status\":\"settled\"") != NULL);
}

/* Will the socket thread subscribe a market of this REST object (active or paused)? */
static bool
says_open(const char *json)
{
	return json != NULL && (strstr(json, "\"status\":\"active\"") != NULL ||
	    strstr(json, "\"status\":\"inactive\"") != NULL);
}

/* The settlement of market idx learned at ts (q_settled), for a market with coverage. */
static int
settle(int32_t idx, const char *id, int64_t ts)
{
	char t[24];
	const char *p[] = { id, t };

	if (!wm[idx].recorded || wm[idx].final)
		return 0;
	snprintf(t, sizeof(t), "%lld", (long long)ts);
	return exec_stmt(&q_settled, p);
}

/*
 * Writes ev[0 .. n) in one transaction. Returns 0 when committed, -1 when anything failed (the
 * transaction is rolled back, or its outcome is unknown, and the caller retries the same events
 * with retry set: then nothing already committed is written twice).
 */
static int
write_batch(struct coll_ev *ev, size_t n, bool retry)
{
	/* the COPY texts: kept between batches (writer thread only), so that a large batch does not
	 * fault in fresh pages each time */
	static struct buf deltas, cps, ids, fs, ls;
	struct db_tx tx = { 0 };
	char a[24], b[24], t[KT_BUFSZ];
	int64_t max_ts = 0, mark = 0, t0 = kt_now(), dt;
	size_t ndeltas = 0, nrows = 0;
	bool opening = !restart_gaps_opened && !in_foreign;
	int *restarted = NULL, nrestarted = 0;
	int rc = -1;

	deltas.len = cps.len = ids.len = fs.len = ls.len = 0;
	if (db_ensure(db) != 0 || db_begin(db, &tx) != 0)
		goto out;
	if ((restarted = malloc((n + 1) * sizeof(*restarted))) == NULL)
		goto out;
	if (opening) {
		const char *pr[] = { coll_gap_reason_name(restart_reason) };

		if (exec_stmt(&q_restart_open, pr) != 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (ev[i].kind == COLL_EV_MARK)
			continue;
		if (wm_reserve(ev[i].market) != 0)
			goto out;
		if (ev[i].kind == COLL_EV_MARKET && upsert(ev[i].market, &q_upsert, ev[i].data) != 0)
			goto out;
		if (ev[i].kind == COLL_EV_FETCH && fetch_upsert(ev[i].market, ev[i].data) != 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct coll_ev *e = &ev[i];
		int64_t id;
		const char *p3[4];

		if (e->kind == COLL_EV_MARK) {
			if (e->ts > mark)
				mark = e->ts;
			continue;
		}
		id = wm[e->market].id;
		if (e->kind == COLL_EV_FETCH)
			continue;
		if (e->kind == COLL_EV_MARKET) {
			/* a re-scan (or the start-up scan) finds it settled: at its place in the batch */
			snprintf(a, sizeof(a), "%lld", (long long)id);
			if (id != 0 && says_settled(e->data) && settle(e->market, a, e->ts) != 0)
				goto out;
			if (id != 0 && wm[e->market].restart_from >= 0 && !says_settled(e->data) &&
			    !says_open(e->data)) {
				/* recorded before, not subscribed in this run (closed, determined): no
				 * snapshot will close its restart gap, which ends here as a settlement's */
				snprintf(b, sizeof(b), "%lld", (long long)e->ts);
				p3[0] = a;
				p3[1] = b;
				p3[2] = NULL;
				p3[3] = coll_gap_end_name(COLL_GAP_END_MARKET_CLOSED);
				if (exec_stmt(&q_gap_close, p3) != 0)
					goto out;
			}
			continue;
		}
		if (id == 0) {
			log_errorx("an event for a market with no row (index %d)", (int)e->market);
			continue;
		}
		snprintf(a, sizeof(a), "%lld", (long long)id);
		snprintf(b, sizeof(b), "%lld", (long long)e->ts);
		switch (e->kind) {
		case COLL_EV_DELTA:
			if (ndeltas == cap_rows && grow_rows(ndeltas) != 0)
				goto out;
			rows[ndeltas].id = id;
			rows[ndeltas].ev = e;
			cover(e->market, e->ts);
			ndeltas++;
			break;
		case COLL_EV_CHECKPOINT: {
			const struct coll_levels *lv = e->data;

			kt_format(e->ts, t);
			buf_printf(&cps, "%s\t%s\t%s\t", a, t, e->flag ? "snapshot" : "periodic");
			fmt_array(&cps, lv->lv, lv->n_yes, false);
			buf_printf(&cps, "\t");
			fmt_array(&cps, lv->lv, lv->n_yes, true);
			buf_printf(&cps, "\t");
			fmt_array(&cps, lv->lv + lv->n_yes, lv->n_no, false);
			buf_printf(&cps, "\t");
			fmt_array(&cps, lv->lv + lv->n_yes, lv->n_no, true);
			buf_printf(&cps, "\n");
			cover(e->market, e->ts);
			if (e->flag && wm[e->market].restart_from >= 0) {
				p3[0] = a;
				p3[1] = b;
				if (exec_stmt(&q_restart_close, p3) != 0)
					goto out;
				restarted[nrestarted++] = e->market;
			}
			break;
		}
		case COLL_EV_GAP_OPEN:
			p3[0] = a;
			p3[1] = b;
			p3[2] = coll_gap_reason_name((enum coll_gap_reason)e->flag);
			p3[3] = e->data;
			if (exec_stmt(&q_gap_open, p3) != 0)
				goto out;
			break;
		case COLL_EV_GAP_CLOSE:
			p3[0] = a;
			p3[1] = b;
			p3[2] = e->flag == COLL_DIV_YES ? "true" : e->flag == COLL_DIV_NO ? "false" : NULL;
			p3[3] = coll_gap_end_name((enum coll_gap_end)e->c);
			if (exec_stmt(&q_gap_close, p3) != 0)
				goto out;
			break;
		case COLL_EV_STATUS:
			p3[0] = a;
			p3[1] = e->data;
			if (exec_stmt(&q_status, p3) != 0 ||
			    (says_settled(e->data) && settle(e->market, a, e->ts) != 0))
				goto out;
			break;
		default:
			break;
		}
		if (e->ts > max_ts)
			max_ts = e->ts;
	}
	/* in index order: Postgres inserts them into book_deltas_market_ts leaf by leaf */
	if (ndeltas > 1)
		qsort(rows, ndeltas, sizeof(*rows), row_cmp);
	for (size_t i = 0; i < ndeltas; i++)
		if (put_delta(&deltas, rows[i].id, rows[i].ev) != 0)
			goto out;
	if (!retry) {
		if ((deltas.len > 0 && copy_in(copy_deltas, &deltas) != 0) ||
		    (cps.len > 0 && copy_in(copy_checkpoints, &cps) != 0))
			goto out;
	} else {
		if (deltas.len > 0 && (exec_stmt(&q_tmp_deltas, NULL) != 0 ||
		    copy_in(copy_deltas_tmp, &deltas) != 0 || exec_stmt(&q_merge_deltas, NULL) != 0))
			goto out;
		if (cps.len > 0 && (exec_stmt(&q_tmp_checkpoints, NULL) != 0 ||
		    copy_in(copy_checkpoints_tmp, &cps) != 0 || exec_stmt(&q_merge_checkpoints, NULL) != 0))
			goto out;
	}
	/* coverage of every market touched, in one statement */
	buf_printf(&ids, "{");
	buf_printf(&fs, "{");
	buf_printf(&ls, "{");
	for (size_t i = 0; i < n; i++) {
		struct wmarket *w;

		if (ev[i].kind == COLL_EV_MARK)
			continue;
		w = &wm[ev[i].market];
		if (w->first < 0 || w->id == 0)
			continue;
		buf_printf(&ids, "%s%lld", nrows == 0 ? "" : ",", (long long)w->id);
		buf_printf(&fs, "%s%lld", nrows == 0 ? "" : ",", (long long)w->first);
		buf_printf(&ls, "%s%lld", nrows == 0 ? "" : ",", (long long)w->last);
		w->first = w->last = -1;
		nrows++;
	}
	buf_printf(&ids, "}");
	buf_printf(&fs, "}");
	buf_printf(&ls, "}");
	if (ids.p == NULL || fs.p == NULL || ls.p == NULL)
		goto out;
	if (nrows > 0) {
		const char *pc[] = { ids.p, fs.p, ls.p };

		if (exec_stmt(&q_coverage, pc) != 0)
			goto out;
	}
	if (ndeltas > 0 || cps.len > 0) {
		/* the ids of the markets with new rows ("12,13,14": the coverage list without its
		 * braces), as docs/feed.md's contract says; past NOTIFY's 8000-byte payload, the batch's
		 * largest ts, which names no market (feedd then looks at markets.last_ts) */
		const char *pn[] = { b };

		if (nrows > 0 && ids.len - 2 < NOTIFY_IDS_MAX) {
			ids.p[ids.len - 1] = '\0';
			pn[0] = ids.p + 1;
		} else {
			snprintf(b, sizeof(b), "%lld", (long long)max_ts);
		}
		if (exec_stmt(&q_notify, pn) != 0)
			goto out;
	}
	if (mark > 0) {
		const char *pm[] = { b };

		snprintf(b, sizeof(b), "%lld", (long long)mark);
		if (exec_stmt(&q_set_mark, pm) != 0)
			goto out;
	}
	if (db_commit(&tx) != 0)
		goto out;
	if (opening)
		restart_gaps_opened = true;
	for (int i = 0; i < nrestarted; i++)
		wm[restarted[i]].restart_from = -1;
	dt = kt_now() - t0;
	__atomic_add_fetch(&coll_stats.rows_written, ndeltas, __ATOMIC_RELAXED);
	__atomic_add_fetch(&coll_stats.commits, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&coll_stats.last_commit_us, (uint64_t)kt_now(), __ATOMIC_RELAXED);
	coll_stats_commit((uint64_t)dt);
	rc = 0;
out:
	if (rc != 0) {
		/* forget this batch's coverage: it is recomputed on the retry */
		for (size_t i = 0; i < n; i++)
			if ((size_t)ev[i].market < n_wm)
				wm[ev[i].market].first = wm[ev[i].market].last = -1;
	}
	db_end(&tx);
	free(restarted);
	if (deltas.cap > BUF_KEEP) {
		/* an exceptional batch (a spool replay): give its memory back */
		free(deltas.p);
		deltas = (struct buf){ 0 };
	}
	return rc;
}

/*
 * Waits until commit_interval_us after the previous take: every commit costs Postgres the same
 * fixed work whatever its size (the COPY's set-up, the coverage update, the NOTIFY and feedd's read
 * after it, the WAL flush), and committing as soon as the last commit ended made 949 small
 * commits a second under a light flow (Postgres at 72 % of a core for 10 000 changes a second;
 * 98 commits and 39 % with the default 10 ms).
 */
static void
pace(void)
{
	static int64_t last;
	int64_t now = kt_now(), wait = last + commit_interval_us - now;

	if (wait > 0 && wait <= commit_interval_us) {
		struct timespec ts = { .tv_sec = (time_t)(wait / 1000000),
		    .tv_nsec = (long)(wait % 1000000 * 1000) };

		nanosleep(&ts, NULL);
		now += wait;
	}
	last = now;
}

/*
 * Waits up to a second for events and copies up to BATCH_MAX of them (still queued) into batch.
 * Returns how many; *stop tells whether the writer is asked to stop. When that is everything
 * queued and the socket thread's mark moved, batch[n] (room for BATCH_MAX + 1) is a COLL_EV_MARK
 * event with it and *marked is set: every event of the frames it covers is in this batch or an
 * earlier one (the socket thread queues a frame's events before it moves the mark). A quiet
 * connection's mark (its pongs) so reaches the database within a second, alone in a transaction.
 */
static size_t
take(struct coll_ev *batch, bool *stop, bool *marked)
{
	struct timespec until;
	size_t n, first;

	pace();
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	pthread_mutex_lock(&q_lock);
	if (q_len == 0 && !q_stop)
		pthread_cond_timedwait(&q_cond, &q_lock, &until);
	*stop = q_stop;
	n = q_len < BATCH_MAX ? q_len : BATCH_MAX;
	/* the queued run may wrap around the end of the ring: copy it in two pieces (cppcheck
	 * cannot see the socket thread filling the queue while this one waits) */
	// cppcheck-suppress knownConditionTrueFalse
	first = ring_cap - q_head < n ? ring_cap - q_head : n;
	memcpy(batch, ring + q_head, first * sizeof(*batch));
	memcpy(batch + first, ring, (n - first) * sizeof(*batch));
	*marked = n == q_len && q_mark > taken_mark;
	/* (cppcheck cannot see the socket thread moving the mark while this one waits) */
	// cppcheck-suppress knownConditionTrueFalse
	if (*marked) {
		batch[n] = (struct coll_ev){ .kind = COLL_EV_MARK, .market = -1, .ts = q_mark };
		taken_mark = q_mark;
	}
	pthread_mutex_unlock(&q_lock);
	return n;
}

/* Drops the first n events, written. */
static void
release(struct coll_ev *batch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		coll_ev_free(&batch[i]);
	pthread_mutex_lock(&q_lock);
	q_head = (q_head + n) % ring_cap;
	q_len -= n;
	pthread_mutex_unlock(&q_lock);
}

static const char *
ticker_of(int32_t idx)
{
	return (size_t)idx < n_wm ? wm[idx].ticker : NULL;
}

/* Remembers the tickers that market events name, so that spooled events can carry them. */
static void
learn(const struct coll_ev *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = NULL, *t;
		const char *tk = NULL;

		if ((ev[i].kind != COLL_EV_MARKET && ev[i].kind != COLL_EV_FETCH) ||
		    wm_reserve(ev[i].market) != 0 || wm[ev[i].market].ticker != NULL)
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

/* Writes ev[0 .. n) in transactions of at most BATCH_MAX events with the dedup path. */
static int
write_chunks(struct coll_ev *ev, size_t n)
{
	for (size_t off = 0; off < n; off += BATCH_MAX)
		if (write_batch(ev + off, n - off < BATCH_MAX ? n - off : BATCH_MAX, true) != 0)
			return -1;
	return 0;
}

/*
 * Replays a spool written by an earlier run: its registry indices mean nothing now, so markets
 * are found (or created) by ticker under indices of a throwaway table, which is dropped
 * afterwards so that this run's markets are upserted afresh (and owe their restart gaps).
 */
static int
replay_foreign(struct coll_spooled *sp, size_t n, struct coll_ev *ev)
{
	struct wmarket *saved = wm;
	size_t saved_n = n_wm, nt = 0;
	const char **tickers = malloc((n + 1) * sizeof(*tickers));
	int rc = -1;

	wm = NULL;
	n_wm = 0;
	if (tickers == NULL)
		goto out;
	in_foreign = true; /* its markets owe this run nothing; its first batch is not this run's */
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (sp[i].ev.kind == COLL_EV_MARK) {
			ev[i] = sp[i].ev; /* the earlier run's mark: names no market */
			ev[i].market = -1;
			continue;
		}
		for (k = 0; k < nt && strcmp(tickers[k], sp[i].ticker) != 0; k++)
			;
		if (k == nt) {
			tickers[nt++] = sp[i].ticker;
			if (wm_reserve((int32_t)k) != 0 || upsert((int32_t)k, &q_insert_min, sp[i].ticker) != 0)
				goto out;
		}
		ev[i] = sp[i].ev;
		ev[i].market = (int32_t)k;
	}
	rc = write_chunks(ev, n);
out:
	in_foreign = false;
	free(tickers);
	for (size_t i = 0; i < n_wm; i++)
		free(wm[i].ticker);
	free(wm);
	wm = saved;
	n_wm = saved_n;
	return rc;
}

/*
 * Writes the spool into Postgres and truncates it. foreign: the spool is an earlier run's.
 * Returns 0 when the spool is empty afterwards.
 */
static int
drain(bool foreign)
{
	struct coll_spooled *sp = NULL;
	struct coll_ev *ev = NULL;
	size_t n = 0;
	int rc = -1;

	if (db_ensure(db) != 0 || coll_spool_read(&sp, &n) != 0)
		return -1;
	if (n > 0 && (ev = malloc(n * sizeof(*ev))) == NULL)
		goto out;
	if (foreign) {
		if (replay_foreign(sp, n, ev) != 0)
			goto out;
	} else {
		for (size_t i = 0; i < n; i++)
			ev[i] = sp[i].ev;
		if (write_chunks(ev, n) != 0)
			goto out;
	}
	if (coll_spool_truncate() != 0)
		goto out;
	log_info("replayed %zu spooled events into Postgres", n);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(sp[i].ev.data);
	free(sp);
	free(ev);
	return rc;
}

/*
 * Fetches again the markets whose REST metadata is owed and due, each upserted in a statement
 * of its own once REST answers; a failure doubles its delay.
 */
static void
refetch_due(void)
{
	for (size_t i = 0; i < n_refetch;) {
		struct refetch *r = &refetch[i];
		char *text;

		if (kt_now() < r->at) {
			i++;
			continue;
		}
		if ((text = rest_market(r->ticker)) != NULL) {
			int rc = db_ensure(db) == 0 ? upsert(r->market, &q_upsert, text) : -1;

			free(text);
			if (rc == 0) {
				log_info("REST metadata of %s fetched after %d retries", r->ticker, r->tries + 1);
				refetch_drop(i);
				continue;
			}
		}
		if (++r->tries >= REFETCH_TRIES) {
			log_errorx("no REST metadata for %s after %d retries: left to the re-scan",
			    r->ticker, r->tries);
			refetch_drop(i);
			continue;
		}
		r->delay = r->delay * 2 < REFETCH_MAX_US ? r->delay * 2 : REFETCH_MAX_US;
		r->at = kt_now() + r->delay;
		log_warnx("no REST metadata for %s yet: fetching it again in %lld ms", r->ticker,
		    (long long)(r->delay / 1000));
		i++;
	}
}

/*
 * While spooling, the writer tries Postgres again (a replay of the spool) 1 s after it began to
 * spool, then after 2, 4, 8 and every 10 s: the batches keep coming every commit interval, and
 * trying at each of them made 389 connection attempts in 5.6 s of outage. At most 10 s pass
 * between Postgres coming back and the writer noticing.
 */
#define RETRY_FIRST_US 1000000
#define RETRY_MAX_US 10000000
static int64_t retry_at, retry_delay;

/* Writes one batch directly; after spool_after_us of failures (at once when stopping) spools it. */
static void
write_or_spool(struct coll_ev *batch, size_t n, bool stop)
{
	int64_t t0 = kt_now();

	for (bool retry = false; write_batch(batch, n, retry) != 0; retry = true) {
		struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };

		if ((stop || kt_now() - t0 >= spool_after_us) && coll_spool_append(batch, n, ticker_of) == 0) {
			log_errorx("Postgres is unreachable: spooling to disk");
			spooling = true;
			__atomic_store_n(&coll_stats.spooling, 1, __ATOMIC_RELAXED);
			retry_delay = RETRY_FIRST_US;
			retry_at = kt_now() + retry_delay;
			return;
		}
		if (!retry)
			log_errorx("writing %zu events failed; retrying every second, spooling after %lld s",
			    n, (long long)(spool_after_us / 1000000));
		nanosleep(&ts, NULL);
	}
}

static void *
writer_main(void *arg)
{
	struct coll_ev *batch = malloc((BATCH_MAX + 1) * sizeof(*batch));
	bool stop = false, marked;

	(void)arg;
	if (batch == NULL)
		log_fatal("out of memory starting the writer");
	/* an earlier run's spool first: nothing of this run is written before it */
	for (bool said = false; coll_spool_pending() && drain(true) != 0; said = true) {
		struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };

		if (!said)
			log_errorx("cannot replay the spool of an earlier run yet; retrying every second");
		pthread_mutex_lock(&q_lock);
		stop = q_stop;
		pthread_mutex_unlock(&q_lock);
		if (stop)
			goto out;
		nanosleep(&ts, NULL);
	}
	for (;;) {
		size_t n = take(batch, &stop, &marked), all = n + marked;

		if (n == 0 && stop)
			break;
		learn(batch, n);
		if (spooling) {
			/* the mark goes with the batch: it reaches Postgres when the spool does */
			if (all > 0 && coll_spool_append(batch, all, ticker_of) != 0) {
				struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };

				nanosleep(&ts, NULL); /* keep them queued: the disk is full or failing */
				continue;
			}
			release(batch, n);
			if (stop || kt_now() < retry_at)
				continue;
			if (drain(false) == 0) {
				spooling = false;
				__atomic_store_n(&coll_stats.spooling, 0, __ATOMIC_RELAXED);
			} else {
				retry_delay = retry_delay * 2 < RETRY_MAX_US ? retry_delay * 2 : RETRY_MAX_US;
				retry_at = kt_now() + retry_delay;
			}
			continue;
		}
		if (n_refetch > 0 && !stop)
			refetch_due();
		if (all == 0)
			continue;
		write_or_spool(batch, all, stop);
		release(batch, n);
		if (coll_writer_depth() >= q_max / 2)
			log_warnx("the writer is behind: %zu events queued", coll_writer_depth());
	}
out:
	free(batch);
	return NULL;
}

void
coll_writer_set_restart_reason(enum coll_gap_reason r)
{
	restart_reason = r;
}

void
coll_writer_set_commit_interval(int64_t ms)
{
	commit_interval_us = ms * 1000;
}

int
coll_writer_start(const char *conninfo, size_t queue_max, const char *rest_base,
    const char *spool_path, int64_t spool_after_s)
{
	int err;

	if (coll_spool_open(spool_path) != 0)
		return -1;
	spool_after_us = spool_after_s * 1000000;
	q_max = queue_max;
	ring_cap = queue_max + RESERVE;
	rest = rest_base;
	if ((ring = calloc(ring_cap, sizeof(*ring))) == NULL)
		return -1;
	if ((db = db_new(conninfo, 5, 0)) == NULL)
		return -1;
	db_set_label(db, "writer's database");
	if ((err = pthread_create(&thread, NULL, writer_main, NULL)) != 0) {
		errno = err;
		log_error("cannot start the writer thread");
		return -1;
	}
	started = true;
	return 0;
}

void
coll_writer_stop(void)
{
	if (started) {
		pthread_mutex_lock(&q_lock);
		q_stop = true;
		pthread_cond_signal(&q_cond);
		pthread_mutex_unlock(&q_lock);
		pthread_join(thread, NULL);
		started = false;
	}
	for (size_t i = 0; i < q_len; i++)
		coll_ev_free(&ring[(q_head + i) % ring_cap]);
	free(ring);
	ring = NULL;
	for (size_t i = 0; i < n_wm; i++)
		free(wm[i].ticker);
	coll_spool_close();
	while (n_refetch > 0)
		refetch_drop(n_refetch - 1);
	free(rows);
	rows = NULL;
	cap_rows = 0;
	free(refetch);
	refetch = NULL;
	cap_refetch = 0;
	free(wm);
	wm = NULL;
	n_wm = 0;
	db_close(db);
	db = NULL;
}
