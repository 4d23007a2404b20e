/*
 * writer: the thread that drains the queue into Postgres. It takes everything queued since its
 * last commit (group commit), at most every commit interval, and writes it in one transaction
 * (batch.c); a failed transaction is retried with the same events once Postgres answers again,
 * so nothing is dropped. It talks to Postgres only: a market first seen on the socket gets a row
 * with its ticker at once, and its REST object reaches the writer later as an event of its own
 * (resolve.c), so a slow Kalshi never holds a transaction open (issue 17: the REST fetch, 30 s
 * timeout and 429 pauses, used to run inside it and stalled every commit).
 *
 * When Postgres has refused a batch for spool_after seconds (or at shutdown), the batch and every
 * later one go to the spool file (spool.c) instead, in order; the writer tries now and then to
 * replay the file (with the retry path's dedup) and, once it is all in, truncates it and writes
 * directly again. A spool left by an earlier run is replayed before anything else, its markets
 * found by ticker.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ktime.h"
#include "log.h"
#include "writer.h"

static pthread_t thread;
static bool started;
static struct db *db;
static int64_t spool_after_us = 5000000;
static int64_t commit_interval_us = 10000;
static bool spooling;

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

static void
sleep_1s(void)
{
	struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };

	nanosleep(&ts, NULL);
}

/* Writes ev[0 .. n) in transactions of at most COLL_BATCH_MAX events with the dedup path. */
static int
write_chunks(struct coll_ev *ev, size_t n, bool foreign)
{
	for (size_t off = 0; off < n; off += COLL_BATCH_MAX)
		if (coll_batch_write(db, ev + off, n - off < COLL_BATCH_MAX ? n - off : COLL_BATCH_MAX,
		    true, foreign) != 0)
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
	struct coll_wmtable saved = { 0 };
	size_t nt = 0;
	const char **tickers = malloc((n + 1) * sizeof(*tickers));
	int rc = -1;

	coll_wm_swap(&saved);
	if (tickers == NULL)
		goto out;
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
			if (coll_wm_reserve((int32_t)k) != 0 ||
			    coll_wm_upsert(db, (int32_t)k, NULL, sp[i].ticker, false) != 0)
				goto out;
		}
		ev[i] = sp[i].ev;
		ev[i].market = (int32_t)k;
	}
	/* its markets owe this run nothing; its first batch is not this run's */
	rc = write_chunks(ev, n, true);
out:
	free(tickers);
	coll_wm_free();
	coll_wm_swap(&saved);
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
		if (write_chunks(ev, n, false) != 0)
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
 * While spooling, the writer tries Postgres again (a replay of the spool) 1 s after it began to
 * spool, then after 2, 4, 8 and every 10 s: the batches keep coming every commit interval, and
 * trying at each of them made 389 connection attempts in 5.6 s of outage. At most 10 s pass
 * between Postgres coming back and the writer noticing.
 */
#define RETRY_FIRST_US 1000000
#define RETRY_MAX_US 10000000
static int64_t retry_at, retry_delay;

static void
set_spooling(bool on)
{
	spooling = on;
	__atomic_store_n(&coll_stats.spooling, on ? 1 : 0, __ATOMIC_RELAXED);
	if (on) {
		retry_delay = RETRY_FIRST_US;
		retry_at = kt_now() + retry_delay;
	}
}

/* Writes one batch directly; after spool_after_us of failures (at once when stopping) spools it. */
static void
write_or_spool(struct coll_ev *batch, size_t n, bool stop)
{
	int64_t t0 = kt_now();

	for (bool retry = false; coll_batch_write(db, batch, n, retry, false) != 0; retry = true) {
		if ((stop || kt_now() - t0 >= spool_after_us) &&
		    coll_spool_append(batch, n, coll_wm_ticker) == 0) {
			log_errorx("Postgres is unreachable: spooling to disk");
			set_spooling(true);
			return;
		}
		if (!retry)
			log_errorx("writing %zu events failed; retrying every second, spooling after %lld s",
			    n, (long long)(spool_after_us / 1000000));
		sleep_1s();
	}
}

/*
 * While spooling: appends the batch (its mark goes with it: it reaches Postgres when the spool
 * does) and, when due, tries to replay the spool. Returns false when the batch could not be
 * spooled (the disk is full or failing): it stays queued.
 */
static bool
spool_batch(struct coll_ev *batch, size_t all, bool stop)
{
	if (all > 0 && coll_spool_append(batch, all, coll_wm_ticker) != 0)
		return false;
	if (stop || kt_now() < retry_at)
		return true;
	if (drain(false) == 0) {
		set_spooling(false);
	} else {
		retry_delay = retry_delay * 2 < RETRY_MAX_US ? retry_delay * 2 : RETRY_MAX_US;
		retry_at = kt_now() + retry_delay;
	}
	return true;
}

static void *
writer_main(void *arg)
{
	struct coll_ev *batch = malloc((COLL_BATCH_MAX + 1) * sizeof(*batch));
	bool stop = false, marked;

	(void)arg;
	if (batch == NULL)
		log_fatal("out of memory starting the writer");
	/* an earlier run's spool first: nothing of this run is written before it */
	for (bool said = false; coll_spool_pending() && drain(true) != 0; said = true) {
		if (!said)
			log_errorx("cannot replay the spool of an earlier run yet; retrying every second");
		if (coll_queue_stopping())
			goto out;
		sleep_1s();
	}
	for (;;) {
		size_t n, all;

		pace();
		n = coll_queue_take(batch, &stop, &marked);
		all = n + marked;
		if (n == 0 && stop)
			break;
		coll_wm_learn(batch, n);
		if (spooling) {
			if (!spool_batch(batch, all, stop)) {
				sleep_1s(); /* keep them queued */
				continue;
			}
			coll_queue_release(batch, n);
			continue;
		}
		if (all == 0)
			continue;
		write_or_spool(batch, all, stop);
		coll_queue_release(batch, n);
		if (coll_queue_behind())
			log_warnx("the writer is behind: %zu events queued", coll_writer_depth());
	}
out:
	free(batch);
	return NULL;
}

void
coll_writer_set_restart_reason(enum coll_gap_reason r)
{
	coll_rec_set_restart_reason(r);
}

void
coll_writer_set_commit_interval(int64_t ms)
{
	commit_interval_us = ms * 1000;
}

int
coll_writer_start(const char *conninfo, size_t queue_max, const char *spool_path,
    int64_t spool_after_s)
{
	int err;

	if (coll_spool_open(spool_path) != 0)
		return -1;
	spool_after_us = spool_after_s * 1000000;
	if (coll_queue_init(queue_max) != 0)
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
		coll_queue_stop();
		pthread_join(thread, NULL);
		started = false;
	}
	coll_queue_free();
	coll_spool_close();
	coll_batch_free();
	coll_rec_free();
	coll_wm_free();
	db_close(db);
	db = NULL;
}
