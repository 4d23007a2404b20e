/*
 * markets: the registry of markets that at least one subscription holds, by market id, with each
 * market's stream position and its subscribers. A NOTIFY marks a market dirty; a flush reads the
 * rows after its position from Postgres (stream.c), hands each to the subscribers (subs.c) and
 * advances the position, so every row is read once however many clients want it, and a row is
 * never skipped: a failed read leaves the market dirty for the next try. Reads run on the query
 * thread (jobs.c), one at a time so that positions only advance; the markets of a read in flight
 * are pinned (not freed if their last subscriber leaves meanwhile).
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

	if (m->holders.n > 0 || m->pins > 0)
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
feed_market_unpin(struct feed_market *m)
{
	m->pins--;
	feed_market_release(m);
}

/* The query thread's view of a market: what stream.c reads (id, ticker, notional, pos). */
void
feed_market_copy(struct feed_market *dst, const struct feed_market *m)
{
	memset(dst, 0, sizeof(*dst));
	dst->id = m->id;
	memcpy(dst->ticker, m->ticker, sizeof(dst->ticker));
	dst->notional = m->notional;
	dst->pos = m->pos;
}

struct feed_changed_job {
	struct feed_job j;
	char since[24];
	PGresult *res;               /* NULL when the query failed */
};

static void
feed_changed_run(struct feed_job *j, struct db *db)
{
	struct feed_changed_job *cj = (struct feed_changed_job *)j;
	const char *params[] = { cj->since };

	cj->res = db != NULL ? db_exec(db, &q_changed, params) : NULL;
}

static void
feed_changed_done(struct feed_job *j)
{
	struct feed_changed_job *cj = (struct feed_changed_job *)j;
	PGresult *res = cj->res;

	if (res == NULL) {
		feed_market_mark_all();
	} else {
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
	free(cj);
	(void)feed_market_flush();
}

void
feed_market_mark_changed(void)
{
	struct feed_changed_job *cj = calloc(1, sizeof(*cj));

	if (cj == NULL) {
		feed_market_mark_all();
		return;
	}
	snprintf(cj->since, sizeof(cj->since), "%lld", (long long)feed_changed_seen);
	cj->j.run = feed_changed_run;
	cj->j.done = feed_changed_done;
	feed_jobs_submit(&cj->j);
}

/* Markets read in one query (one page each). */
#define FEED_READ_BATCH 512

/* One read in flight: the pages of up to FEED_READ_BATCH dirty markets. */
struct feed_read_job {
	struct feed_job j;
	size_t n;
	int rc;
	struct feed_market *ms[FEED_READ_BATCH];     /* pinned */
	struct feed_market *views[FEED_READ_BATCH];  /* into copies, for stream.c */
	struct feed_market copies[FEED_READ_BATCH];  /* id and pos as the read started */
	struct feed_rows rows[FEED_READ_BATCH];
};

/* The read in flight (one at a time, so positions only advance): ~170 KB, reused, since a
 * malloc that size is an mmap and munmap at every read. */
static struct feed_read_job feed_read_job;
static bool feed_reading;

/* db is feed_job.run's (stream.c reads through feed_db, the same handle) */
static void
feed_read_run(struct feed_job *j, struct db *db) // cppcheck-suppress constParameter
{
	struct feed_read_job *rj = (struct feed_read_job *)j;

	rj->rc = db != NULL ? feed_stream_read_many(rj->views, rj->n, FEED_READ_PAGE, rj->rows) : -1;
}

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
 * The read is back: its rows go out and each market's position advances; a market whose page was
 * full, or that a NOTIFY named while it was read, is dirty again. After a failure every market
 * of the batch is dirty again and the one-second tick retries (not at once: the database is away).
 */
static void
feed_read_done(struct feed_job *j)
{
	struct feed_read_job *rj = (struct feed_read_job *)j;

	bool failed = rj->rc != 0;

	feed_reading = false;
	for (size_t i = 0; i < rj->n; i++) {
		struct feed_market *m = rj->ms[i];

		m->reading = false;
		if (rj->rc != 0 || feed_market_fanout(m, &rj->rows[i]) == 1)
			feed_market_set_dirty(m);
		feed_market_unpin(m);
	}
	if (!failed)
		(void)feed_market_flush();
}

/*
 * One page per dirty market, FEED_READ_BATCH markets a query, one query in flight: the loop
 * serves its clients while it runs, a market with more rows stays dirty for the next, so clients
 * drain their queues between pages and a backlog never lands in one burst.
 */
int
feed_market_flush(void)
{
	struct feed_read_job *rj = &feed_read_job;
	struct feed_market *m, **pp;

	if (feed_dirty == NULL || feed_reading)
		return 0;
	rj->j.run = feed_read_run;
	rj->j.done = feed_read_done;
	rj->n = 0;
	rj->rc = -1;
	for (pp = &feed_dirty; (m = *pp) != NULL && rj->n < FEED_READ_BATCH;) {
		*pp = m->dnext;
		m->dnext = NULL;
		m->dirty = false;
		m->reading = true;
		m->pins++;
		rj->ms[rj->n] = m;
		feed_market_copy(&rj->copies[rj->n], m);
		rj->views[rj->n] = &rj->copies[rj->n];
		rj->n++;
	}
	feed_reading = true;
	feed_jobs_submit(&rj->j);
	return 0;
}

