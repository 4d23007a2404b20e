/*
 * markets: the registry of markets that at least one subscription holds, by market id, with each
 * market's stream position and its subscribers. A NOTIFY marks a market dirty; a flush reads the
 * rows after its position from Postgres (stream.c), hands each to the subscribers (subs.c) and
 * advances the position, so every row is read once however many clients want it, and a row is
 * never skipped: a failed read leaves the market dirty for the next try.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "log.h"

#define FEED_NBUCKETS 4096
#define FEED_READ_PAGE 1000
/* The end of time for reads: 9999-12-31, as a stream position. */
#define FEED_POS_END FEED_POS(INT64_C(253402300799999999), 3)

/*
 * Markets whose recorded coverage ended after $1 (us). markets.last_ts is maintained by the
 * collector in the transaction that writes the rows; 200 ms of overlap covers batches committed
 * slightly out of ts order (the collector's one writer commits them in order).
 */
static struct db_stmt q_changed = DB_STMT("feed_changed",
    "SELECT id, kb_us(last_ts) FROM markets WHERE last_ts > kb_ts($1::bigint - 200000)", 1);

static struct feed_market *feed_buckets[FEED_NBUCKETS];
static int64_t feed_changed_seen;   /* the largest last_ts feed_market_mark_changed saw */
static struct feed_market *feed_dirty;
static size_t feed_n_markets;

static size_t
feed_bucket(int64_t id)
{
	return (size_t)((uint64_t)id * 2654435761u) % FEED_NBUCKETS;
}

struct feed_market *
feed_market_find(int64_t id)
{
	for (struct feed_market *m = feed_buckets[feed_bucket(id)]; m != NULL; m = m->hnext)
		if (m->id == id)
			return m;
	return NULL;
}

size_t
feed_market_count(void)
{
	return feed_n_markets;
}

struct feed_market *
feed_market_get(int64_t id, const char *ticker, int64_t notional, int64_t end)
{
	struct feed_market *m = feed_market_find(id);

	if (m != NULL)
		return m;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->id = id;
	snprintf(m->ticker, sizeof(m->ticker), "%s", ticker);
	m->notional = notional;
	m->pos = end;
	m->hnext = feed_buckets[feed_bucket(id)];
	feed_buckets[feed_bucket(id)] = m;
	feed_n_markets++;
	return m;
}

void
feed_market_release(struct feed_market *m)
{
	struct feed_market **pp;

	if (m->holders.n > 0)
		return;
	for (pp = &feed_buckets[feed_bucket(m->id)]; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == m) {
			*pp = m->hnext;
			break;
		}
	}
	if (m->dirty) {
		for (pp = &feed_dirty; *pp != NULL; pp = &(*pp)->dnext) {
			if (*pp == m) {
				*pp = m->dnext;
				break;
			}
		}
	}
	feed_n_markets--;
	free(m->holders.subs);
	free(m);
}

static void
feed_market_set_dirty(struct feed_market *m)
{
	if (m->dirty)
		return;
	m->dirty = true;
	m->dnext = feed_dirty;
	feed_dirty = m;
}

void
feed_market_mark_dirty(int64_t id)
{
	struct feed_market *m = feed_market_find(id);

	if (m != NULL)
		feed_market_set_dirty(m);
}

void
feed_market_mark_all(void)
{
	for (size_t b = 0; b < FEED_NBUCKETS; b++)
		for (struct feed_market *m = feed_buckets[b]; m != NULL; m = m->hnext)
			feed_market_set_dirty(m);
}

void
feed_market_mark_changed(void)
{
	char since[24];
	const char *params[] = { since };
	PGresult *res;

	snprintf(since, sizeof(since), "%lld", (long long)feed_changed_seen);
	if ((res = db_exec(feed_db, &q_changed, params)) == NULL) {
		feed_market_mark_all();
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		struct feed_market *m = feed_market_find(strtoll(PQgetvalue(res, i, 0), NULL, 10));
		int64_t last = strtoll(PQgetvalue(res, i, 1), NULL, 10);

		if (last > feed_changed_seen)
			feed_changed_seen = last;
		if (m != NULL && last != m->last_ts_seen) {
			m->last_ts_seen = last;
			feed_market_set_dirty(m);
		}
	}
	PQclear(res);
}

/* Markets read in one query (one page each). */
#define FEED_READ_BATCH 512

/*
 * Fans out the rows read for m and advances its position. Returns 1 when the page was full (more
 * may follow), 0 when m is caught up.
 */
static int
feed_market_fanout(struct feed_market *m, struct feed_rows *rows)
{
	size_t n = rows->n;

	for (size_t i = 0; i < n; i++) {
		feed_subs_fanout(m, &rows->rows[i]);
		m->pos = rows->rows[i].pos;
	}
	feed_stats.rows_read += n;
	feed_rows_free(rows);
	return n == FEED_READ_PAGE ? 1 : 0;
}

/*
 * One page per dirty market, read FEED_READ_BATCH markets a query, then back to the event loop: a
 * market with more rows stays dirty and the loop is woken to continue, so clients drain their
 * queues between pages and a backlog never lands in one burst. A failed read leaves the markets
 * of its batch dirty.
 */
int
feed_market_flush(void)
{
	static struct feed_market *batch[FEED_READ_BATCH];
	static struct feed_rows rows[FEED_READ_BATCH];
	struct feed_market *m, *more = NULL;
	int rc = 0;

	if (feed_dirty == NULL)
		return 0;
	if (db_ensure(feed_db) != 0)
		return -1;
	while (feed_dirty != NULL) {
		size_t n = 0;

		for (m = feed_dirty; m != NULL && n < FEED_READ_BATCH; m = m->dnext)
			batch[n++] = m;
		if (feed_stream_read_many(batch, n, FEED_READ_PAGE, rows) != 0) {
			rc = -1;
			break;
		}
		feed_dirty = m;
		for (size_t i = 0; i < n; i++) {
			batch[i]->dnext = NULL;
			if (feed_market_fanout(batch[i], &rows[i]) == 1) {
				batch[i]->dnext = more;
				more = batch[i];
			} else {
				batch[i]->dirty = false;
			}
		}
	}
	while ((m = more) != NULL) {
		more = m->dnext;
		m->dnext = feed_dirty;
		feed_dirty = m;
	}
	if (feed_dirty != NULL && rc == 0)
		lws_cancel_service(feed_ctx);
	return rc;
}
