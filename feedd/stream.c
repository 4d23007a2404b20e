/*
 * stream: a market's recorded stream read from Postgres, and its rendering as Kalshi messages.
 *
 * The stream of a market is its deltas, its gaps (at their start) and its snapshot checkpoints
 * (written by the collector when a recording starts and at the end of every gap), ordered by
 * position = ts * 4 + kind (delta 0, gap 1, snapshot 2): the same rows the REST API serves, so the
 * feed and the history agree. The book at a position is read by the REST API's query (lib/bookq):
 * the latest checkpoint at or before its ts plus the deltas after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bookq.h"
#include "checkpoint.h"
#include "feed.h"
#include "fixed.h"
#include "ktime.h"
#include "log.h"

/*
 * From $2 exclusive to $3 inclusive, in positions; $4 rows at most. Each part is read in ts order
 * with the limit of its own (positions sort like ts within a kind), so a chunk of a long replay
 * reads $4 rows from the (market, ts) indexes instead of every row up to $3 before sorting: a
 * 40 000-row replay read 500 at a time made each chunk a sort of the rest of the range.
 */
static struct db_stmt q_read = DB_STMT("feed_read",
    "SELECT pos, kind, side, price, delta, ex, reason, gend, yp, ys, np, ns FROM ("
    " (SELECT kb_us(ts) * 4 AS pos, 0 AS kind, side, price, delta, kb_us(exchange_ts) AS ex,"
    "  NULL::text AS reason, NULL::bigint AS gend, NULL::integer[] AS yp, NULL::bigint[] AS ys,"
    "  NULL::integer[] AS np, NULL::bigint[] AS ns"
    "  FROM book_deltas WHERE market_id = $1 AND ts >= kb_ts($2::bigint / 4)"
    "  AND ts <= kb_ts($3::bigint / 4) AND kb_us(ts) * 4 > $2::bigint ORDER BY ts LIMIT $4)"
    " UNION ALL"
    " (SELECT kb_us(start_ts) * 4 + 1, 1, NULL, NULL, NULL, NULL, reason, kb_us(end_ts),"
    "  NULL, NULL, NULL, NULL"
    "  FROM gaps WHERE market_id = $1 AND start_ts >= kb_ts($2::bigint / 4)"
    "  AND start_ts <= kb_ts($3::bigint / 4) AND kb_us(start_ts) * 4 + 1 > $2::bigint"
    "  ORDER BY start_ts LIMIT $4)"
    " UNION ALL"
    " (SELECT kb_us(ts) * 4 + 2, 2, NULL, NULL, NULL, NULL, NULL, NULL,"
    "  yes_prices, yes_sizes, no_prices, no_sizes"
    "  FROM book_checkpoints WHERE market_id = $1 AND source = 'snapshot'"
    "  AND ts >= kb_ts($2::bigint / 4) AND ts <= kb_ts($3::bigint / 4)"
    "  AND kb_us(ts) * 4 + 2 > $2::bigint ORDER BY ts LIMIT $4)"
    ") s WHERE pos > $2::bigint AND pos <= $3::bigint ORDER BY pos LIMIT $4", 4);
/*
 * About how many rows a replay from $2 to $3 has (at most $4 deltas, plus the gaps and snapshots):
 * a since is refused past KBOOK_FEEDD_REPLAY_MAX before any row is sent. Counted from the indexes
 * alone (an index-only scan of book_deltas' covering index), not by reading the rows; the bounds
 * are by instant, so a row at the instant of $3 may be counted that the replay will not send.
 */
static struct db_stmt q_count = DB_STMT("feed_count",
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM book_deltas WHERE market_id = $1"
    "  AND ts > kb_ts($2::bigint / 4) AND ts <= kb_ts($3::bigint / 4) LIMIT $4) d)"
    " + (SELECT count(*) FROM gaps WHERE market_id = $1 AND start_ts > kb_ts($2::bigint / 4)"
    "  AND start_ts <= kb_ts($3::bigint / 4))"
    " + (SELECT count(*) FROM book_checkpoints WHERE market_id = $1 AND source = 'snapshot'"
    "  AND ts > kb_ts($2::bigint / 4) AND ts <= kb_ts($3::bigint / 4))", 4);
/*
 * The same rows for many markets in one round trip: market i of $1 (ids) after position i of $2,
 * at most $3 rows each, up to the end of the stream. Rows come grouped by market, in order. The
 * upper bound (an hour past the database's clock: rows are stamped with the collector's receive
 * time) lets Postgres skip the partitions made ahead for the future, and the per-market lower
 * bound the past ones: 512 markets read in 38 ms instead of 79 ms on the bench's database.
 */
static struct db_stmt q_read_many = DB_STMT("feed_read_many",
    "SELECT m.i, r.* FROM unnest($1::int[], $2::bigint[]) WITH ORDINALITY AS m(id, f, i)"
    " CROSS JOIN LATERAL (SELECT pos, kind, side, price, delta, ex, reason, gend, yp, ys, np, ns FROM ("
    "  SELECT kb_us(ts) * 4 AS pos, 0 AS kind, side, price, delta, kb_us(exchange_ts) AS ex,"
    "   NULL::text AS reason, NULL::bigint AS gend, NULL::integer[] AS yp, NULL::bigint[] AS ys,"
    "   NULL::integer[] AS np, NULL::bigint[] AS ns"
    "   FROM book_deltas WHERE market_id = m.id AND ts >= kb_ts(m.f / 4) AND ts <= now() + interval '1 hour'"
    "  UNION ALL"
    "  SELECT kb_us(start_ts) * 4 + 1, 1, NULL, NULL, NULL, NULL, reason, kb_us(end_ts),"
    "   NULL, NULL, NULL, NULL"
    "   FROM gaps WHERE market_id = m.id AND start_ts >= kb_ts(m.f / 4)"
    "  UNION ALL"
    "  SELECT kb_us(ts) * 4 + 2, 2, NULL, NULL, NULL, NULL, NULL, NULL,"
    "   yes_prices, yes_sizes, no_prices, no_sizes"
    "   FROM book_checkpoints WHERE market_id = m.id AND source = 'snapshot'"
    "   AND ts >= kb_ts(m.f / 4) AND ts <= now() + interval '1 hour'"
    " ) s WHERE pos > m.f ORDER BY pos LIMIT $3) r ORDER BY m.i, r.pos", 3);
/*
 * The end of the stream of each market of $1 (row i for id i): past every row at or before its
 * coverage's end (markets.last_ts, which the collector updates in the same transaction as the
 * rows: a later row has a later ts), or its latest gap's start when that is later. A max(ts) over
 * book_deltas instead opened every daily partition: 2-7 ms a market, a second for a 250-market
 * subscribe on the event loop.
 */
static struct db_stmt q_ends = DB_STMT("feed_ends",
    "SELECT coalesce(greatest(kb_us(mk.last_ts) * 4 + 3,"
    " (SELECT kb_us(max(start_ts)) * 4 + 1 FROM gaps WHERE market_id = u.id)), 0)"
    " FROM unnest($1::int[]) WITH ORDINALITY AS u(id, i) LEFT JOIN markets mk ON mk.id = u.id"
    " ORDER BY u.i", 1);
static int64_t
feed_val(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? -1 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Loads checkpoint columns col..col+3 of row r into b. Returns 0 or -1. */
static int
feed_load_checkpoint(struct book *b, const PGresult *res, int r, int col)
{
	return checkpoint_load(b, PQgetvalue(res, r, col), PQgetvalue(res, r, col + 1),
	    PQgetvalue(res, r, col + 2), PQgetvalue(res, r, col + 3));
}

/* Row r of res, its columns from col on (pos, kind, ...), into row. Returns 0 or -1. */
static int
feed_row_parse(struct feed_row *row, const PGresult *res, int i, int col,
    const struct feed_market *m)
{
	row->pos = feed_val(res, i, col);
	row->kind = (enum feed_kind)feed_val(res, i, col + 1);
	switch (row->kind) {
	case FEED_K_DELTA:
		row->side = feed_val(res, i, col + 2) == 0 ? BOOK_YES : BOOK_NO;
		row->price = feed_val(res, i, col + 3);
		row->delta = feed_val(res, i, col + 4);
		row->exchange_ts = feed_val(res, i, col + 5);
		break;
	case FEED_K_GAP:
		snprintf(row->reason, sizeof(row->reason), "%s", PQgetvalue(res, i, col + 6));
		row->gap_end = feed_val(res, i, col + 7);
		break;
	case FEED_K_SNAPSHOT:
		if ((row->book = book_new(m->notional)) == NULL ||
		    feed_load_checkpoint(row->book, res, i, col + 8) != 0) {
			log_errorx("market %lld: malformed snapshot checkpoint at %lld",
			    (long long)m->id, (long long)FEED_POS_TS(row->pos));
			return -1;
		}
		break;
	}
	return 0;
}

void
feed_rows_free(struct feed_rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		book_free(r->rows[i].book);
	free(r->rows);
	r->rows = NULL;
	r->n = 0;
}

int
feed_stream_read(const struct feed_market *m, int64_t from, int64_t to, long limit,
    struct feed_rows *out)
{
	char id[24], f[24], t[24], l[24];
	const char *params[] = { id, f, t, l };
	PGresult *res;
	int rc = -1, n;

	out->rows = NULL;
	out->n = 0;
	snprintf(id, sizeof(id), "%lld", (long long)m->id);
	snprintf(f, sizeof(f), "%lld", (long long)from);
	snprintf(t, sizeof(t), "%lld", (long long)to);
	snprintf(l, sizeof(l), "%ld", limit);
	if ((res = db_exec(feed_db, &q_read, params)) == NULL)
		return -1;
	n = PQntuples(res);
	if (n > 0 && (out->rows = calloc((size_t)n, sizeof(*out->rows))) == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		out->n++;
		if (feed_row_parse(&out->rows[i], res, i, 0, m) != 0)
			goto out;
	}
	rc = 0;
out:
	PQclear(res);
	if (rc != 0)
		feed_rows_free(out);
	return rc;
}

int
feed_stream_count(const struct feed_market *m, int64_t from, int64_t to, long limit, long *count)
{
	char id[24], f[24], t[24], l[24];
	const char *params[] = { id, f, t, l };
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)m->id);
	snprintf(f, sizeof(f), "%lld", (long long)from);
	snprintf(t, sizeof(t), "%lld", (long long)to);
	snprintf(l, sizeof(l), "%ld", limit);
	if ((res = db_exec(feed_db, &q_count, params)) == NULL)
		return -1;
	*count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

/* "{a,b,c}" of n int64 values as a malloc'd string (a Postgres array), or NULL when out of memory. */
static char *
feed_array_str(const int64_t *v, size_t n)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	fputc('{', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%lld", i == 0 ? "" : ",", (long long)v[i]);
	fputc('}', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
feed_stream_read_many(struct feed_market *const *ms, size_t n, long limit, struct feed_rows *outs)
{
	char *ids = NULL, *from = NULL, l[24];
	const char *params[] = { NULL, NULL, l };
	int64_t *v = NULL;
	size_t *count = NULL;
	PGresult *res = NULL;
	int rc = -1, rows;

	for (size_t k = 0; k < n; k++) {
		outs[k].rows = NULL;
		outs[k].n = 0;
	}
	if ((v = calloc(n > 0 ? n : 1, sizeof(*v))) == NULL || (count = calloc(n, sizeof(*count))) == NULL)
		goto out;
	for (size_t k = 0; k < n; k++)
		v[k] = ms[k]->id;
	if ((ids = feed_array_str(v, n)) == NULL)
		goto out;
	for (size_t k = 0; k < n; k++)
		v[k] = ms[k]->pos;
	if ((from = feed_array_str(v, n)) == NULL)
		goto out;
	snprintf(l, sizeof(l), "%ld", limit);
	params[0] = ids;
	params[1] = from;
	if ((res = db_exec(feed_db, &q_read_many, params)) == NULL)
		goto out;
	rows = PQntuples(res);
	for (int i = 0; i < rows; i++) {
		long long k = strtoll(PQgetvalue(res, i, 0), NULL, 10) - 1;

		if (k < 0 || (size_t)k >= n)
			goto out;
		count[k]++;
	}
	for (size_t k = 0; k < n; k++)
		if (count[k] > 0 && (outs[k].rows = calloc(count[k], sizeof(*outs[k].rows))) == NULL)
			goto out;
	for (int i = 0; i < rows; i++) {
		size_t k = (size_t)strtoll(PQgetvalue(res, i, 0), NULL, 10) - 1;

		if (feed_row_parse(&outs[k].rows[outs[k].n++], res, i, 1, ms[k]) != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		for (size_t k = 0; k < n; k++)
			feed_rows_free(&outs[k]);
	PQclear(res);
	free(ids);
	free(from);
	free(v);
	free(count);
	return rc;
}

int
feed_stream_ends(const int64_t *ids, size_t n, int64_t *ends)
{
	char *arr = feed_array_str(ids, n);
	const char *params[] = { arr };
	PGresult *res = NULL;
	int rc = -1;

	if (arr == NULL || (res = db_exec(feed_db, &q_ends, params)) == NULL ||
	    PQntuples(res) != (int)n)
		goto out;
	for (size_t i = 0; i < n; i++)
		ends[i] = feed_val(res, (int)i, 0);
	rc = 0;
out:
	PQclear(res);
	free(arr);
	return rc;
}

/*
 * A subscribe snapshot is the market's book at its stream's end. When the collector's mark is
 * this far behind the clock it has stopped recording (it commits the mark at least once a
 * second while it runs, and a few ms behind under flow): the snapshot is followed by a gap
 * message, reason not_yet_recorded, from just after the mark, as the REST API answers
 * (docs/feed.md). When the collector comes back, the restart gap (same start) and the snapshot
 * that closes it follow in the stream.
 *
 * Only when the snapshot is at the market's recorded end, though: when feedd's position is
 * behind rows already committed (it had not read them yet: Postgres frozen, t_feed_pgstop),
 * those rows follow the snapshot, and a gap announced from after them would put the stream's
 * ts back (the message at the mark, then rows before it). They are recorded; the restart gap,
 * if the collector is down, comes after them.
 */
#define FEED_MARK_STALE_US 3000000

int
feed_stream_books(struct feed_market *const *ms, size_t n, struct feed_base *out)
{
	size_t k = n > 0 ? n : 1;
	int64_t *ids = calloc(k, sizeof(*ids)), *ats = calloc(k, sizeof(*ats));
	struct bookq_market *bm = calloc(k, sizeof(*bm));
	struct bookq_state *st = calloc(k, sizeof(*st));
	struct bookq_gap *gap = calloc(k, sizeof(*gap));
	int rc = -1;

	memset(out, 0, n * sizeof(*out));
	if (ids == NULL || ats == NULL || bm == NULL || st == NULL || gap == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		ids[i] = ms[i]->id;
		ats[i] = FEED_POS_TS(ms[i]->pos);
	}
	if (bookq_at_many(feed_db, ids, ats, n, bm, st, gap) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		out[i].gap_start = -1;
		if (gap[i].found) {
			out[i].gap_start = gap[i].start;
			out[i].gap_end = gap[i].end == BOOKQ_NONE ? -1 : gap[i].end;
			snprintf(out[i].reason, sizeof(out[i].reason), "%s", gap[i].reason);
		} else if (st[i].checkpoint_ts != BOOKQ_NONE && !bm[i].final && bm[i].marked &&
		    bm[i].last_ts <= ats[i] && kt_now() - bm[i].through > FEED_MARK_STALE_US) {
			/* no mark when recorded to its settlement (complete ever after), or when no
			 * collector ever committed one here: rows written by something else, such as
			 * tests/feed/feed_check.py, which has no mark to be behind */
			out[i].gap_start = bm[i].through + 1;
			out[i].gap_end = -1;
			snprintf(out[i].reason, sizeof(out[i].reason), "not_yet_recorded");
		}
		out[i].book = st[i].book; /* before coverage: an empty book */
		st[i].book = NULL;
	}
	rc = 0;
out:
	free(ids);
	free(ats);
	free(bm);
	free(st);
	free(gap);
	return rc;
}

/* The ticker as a JSON string body (tickers are short; escaping is for safety). */
static void
feed_json_str(FILE *f, const char *s)
{
	char esc[FEED_TICKER_MAX * 6 + 1];

	log_json_escape(esc, sizeof(esc), s);
	fprintf(f, "\"%s\"", esc);
}

static void
feed_render_side(FILE *f, const struct book *b, enum book_side side, const char *name)
{
	size_t n = book_levels(b, side);
	struct book_level *lv;
	char p[FX_BUFSZ], s[FX_BUFSZ];

	if (n == 0)
		return; /* Kalshi omits an empty side */
	if ((lv = malloc(n * sizeof(*lv))) == NULL)
		return;
	n = book_copy_levels(b, side, lv, n);
	fprintf(f, ",\"%s\":[", name);
	for (size_t i = 0; i < n; i++) {
		fx_format_price(lv[i].price, p);
		fx_format_size(lv[i].size, s);
		fprintf(f, "%s[\"%s\",\"%s\"]", i == 0 ? "" : ",", p, s);
	}
	fputc(']', f);
	free(lv);
}

int
feed_stream_body(const struct feed_market *m, const struct feed_row *row, const struct book *book,
    int64_t pos, struct feed_body *out)
{
	char p[FX_BUFSZ], d[FX_BUFSZ], t[KT_BUFSZ];
	FILE *f;

	out->text = NULL;
	if ((f = open_memstream(&out->text, &out->len)) == NULL)
		return -1;
	if (row != NULL && row->kind == FEED_K_SNAPSHOT)
		book = row->book;
	if (row != NULL)
		pos = row->pos;
	out->type = row == NULL || row->kind == FEED_K_SNAPSHOT ? "orderbook_snapshot" :
	    row->kind == FEED_K_DELTA ? "orderbook_delta" : "gap";
	fprintf(f, ",\"ts\":%lld,\"msg\":{\"market_ticker\":", (long long)FEED_POS_TS(pos));
	feed_json_str(f, m->ticker);
	if (row == NULL || row->kind == FEED_K_SNAPSHOT) {
		feed_render_side(f, book, BOOK_YES, "yes_dollars_fp");
		feed_render_side(f, book, BOOK_NO, "no_dollars_fp");
	} else if (row->kind == FEED_K_DELTA) {
		fx_format_price(row->price, p);
		fx_format_size(row->delta, d);
		fprintf(f, ",\"price_dollars\":\"%s\",\"delta_fp\":\"%s\",\"side\":\"%s\"", p, d,
		    row->side == BOOK_YES ? "yes" : "no");
		if (row->exchange_ts >= 0) {
			kt_format(row->exchange_ts, t);
			fprintf(f, ",\"ts\":\"%.19sZ\",\"ts_ms\":%lld", t,
			    (long long)(row->exchange_ts / 1000));
		}
	} else {
		kt_format(FEED_POS_TS(row->pos), t);
		fprintf(f, ",\"start_ts\":\"%s\",\"end_ts\":", t);
		if (row->gap_end >= 0) {
			kt_format(row->gap_end, t);
			fprintf(f, "\"%s\"", t);
		} else {
			fputs("null", f);
		}
		fprintf(f, ",\"reason\":\"%s\"", row->reason);
	}
	fputs("}}", f);
	if (fclose(f) != 0) {
		free(out->text);
		out->text = NULL;
		return -1;
	}
	return 0;
}

size_t
feed_stream_head(struct feed_sub *s, const struct feed_body *body, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "{\"type\":\"%s\",\"sid\":%lld,\"seq\":%lld", body->type,
	    (long long)s->k.sid, (long long)++s->k.seq);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
