/*
 * replay: a subscribe's `since`, streamed. Every recorded change of a market after the cursor is
 * read from Postgres FEED_REPLAY_CHUNK rows at a time, and the next chunk only once the
 * connection's queue is back under FEED_REPLAY_LOW bytes (the client read what it was sent) and
 * the replay bytes queued over every connection are under KBOOK_FEEDD_REPLAY_MEM: what a replay
 * holds in feedd is one chunk and the bytes still queued, however long the history and however
 * slowly the client reads. Loading a whole replay at once (up to KBOOK_FEEDD_REPLAY_MAX rows a
 * market) and raising the client's send bound by it let one connection that did not read grow
 * feedd by 19 MB on a small history; t_feed_robust parks 50 such resuming clients and checks
 * feedd's RSS.
 *
 * Replay and live meet with no gap and no duplicate: while a replay of market m is pending on a
 * subscription, m's live rows are not sent to it (feed_subs_fanout asks feed_replay_holds), and
 * each chunk reads up to m's live position of that moment; the chunk that comes back short has
 * reached it, the replay ends, and the next live row is the next row. The other markets of the
 * connection stream live meanwhile.
 *
 * Chunks are asked for from a libev idle watcher, one at a time: only when the loop has nothing
 * else to do (no NOTIFY, no client frame, no write pending), and read on the query thread
 * (jobs.c), so the live rows of every other client go first and the loop never waits for one. Read from the loop's wake-ups
 * instead (4 chunks a pass), 50 resuming clients took the live p50 of another client from 19 to
 * 171 ms in t_feed_robust on the shared test machine.
 */
#include <stdlib.h>

#include <ev.h>

#include "config.h"
#include "feed.h"
#include "log.h"

/* Rows read per query: ~120 KB of delta messages. */
#define FEED_REPLAY_CHUNK 500
/* A connection gets its next chunk once its queue is under this. */
#define FEED_REPLAY_LOW 65536

struct feed_replay {
	struct feed_replay *next;
	struct feed_sub *sub;        /* borrowed */
	struct feed_market *m;       /* borrowed: held by sub */
	int64_t from;                /* every row at or before it was sent */
	bool reading;                /* its chunk is being read (feed_replay_job) */
	bool held;                   /* waits for a snapshot (feed_replay_hold): not read yet */
	bool cancelled;              /* dropped while read: the job frees it */
};

/* The chunk being read on the query thread (one at a time, as the idle watcher paced them). */
struct feed_replay_job {
	struct feed_job j;
	struct feed_conn *conn;      /* held (feed_conn_ref) */
	struct feed_replay *r;       /* r->reading */
	struct feed_market view;     /* r->m's id, notional, pos when submitted */
	int rc;
	struct feed_rows rows;
};
static bool feed_replay_busy;

size_t feed_replay_bytes;
static ev_idle feed_replay_idle;
static bool feed_replay_idle_ready;
static uint64_t feed_replay_last; /* id of the connection served last (round robin) */

static void feed_replay_on_idle(struct ev_loop *loop, ev_idle *w, int revents);

void
feed_replay_wake(void)
{
	if (!feed_replay_idle_ready) {
		ev_idle_init(&feed_replay_idle, feed_replay_on_idle);
		feed_replay_idle_ready = true;
	}
	if (!ev_is_active(&feed_replay_idle))
		ev_idle_start(feed_ev_loop(), &feed_replay_idle);
}

int
feed_replay_start(struct feed_sub *s, struct feed_market *m, int64_t from)
{
	struct feed_replay *r = calloc(1, sizeof(*r)), **pp;

	if (r == NULL)
		return -1;
	r->sub = s;
	r->m = m;
	r->from = from;
	for (pp = &s->conn->replays; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = r;
	feed_replay_wake();
	return 0;
}

struct feed_replay *
feed_replay_hold(struct feed_sub *s, struct feed_market *m, int64_t from)
{
	struct feed_replay *r = calloc(1, sizeof(*r)), **pp;

	if (r == NULL)
		return NULL;
	r->sub = s;
	r->m = m;
	r->from = from;
	r->held = true;
	for (pp = &s->conn->replays; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = r;
	return r;
}

void
feed_replay_release(struct feed_replay *r, bool snapshot_sent)
{
	struct feed_replay **pp = &r->sub->conn->replays, *o;
	bool older = false;

	/* the other replays of the market: superseded by the snapshot, or still to be read */
	while ((o = *pp) != NULL) {
		if (o != r && o->sub == r->sub && o->m == r->m) {
			if (snapshot_sent) {
				*pp = o->next;
				if (o->reading)
					o->cancelled = true;
				else
					free(o);
				continue;
			}
			older = true;
		}
		pp = &o->next;
	}
	if (older) {
		/* no snapshot, and an older replay reads these rows: this one would repeat them */
		for (pp = &r->sub->conn->replays; *pp != NULL && *pp != r; pp = &(*pp)->next)
			;
		if (*pp == r)
			*pp = r->next;
		free(r);
		return;
	}
	r->held = false;
	feed_replay_wake();
}

bool
feed_replay_holds(const struct feed_sub *s, const struct feed_market *m)
{
	for (const struct feed_replay *r = s->conn->replays; r != NULL; r = r->next)
		if (r->sub == s && r->m == m)
			return true;
	return false;
}

void
feed_replay_cancel(const struct feed_sub *s, const struct feed_market *m)
{
	struct feed_replay **pp = &s->conn->replays, *r;

	while ((r = *pp) != NULL) {
		if (r->sub == s && (m == NULL || r->m == m)) {
			*pp = r->next;
			if (r->reading)
				r->cancelled = true; /* its job frees it */
			else
				free(r);
		} else {
			pp = &r->next;
		}
	}
}

/* db is feed_job.run's (stream.c reads through feed_db, the same handle) */
static void
feed_replay_run(struct feed_job *j, struct db *db) // cppcheck-suppress constParameter
{
	struct feed_replay_job *rj = (struct feed_replay_job *)j;

	rj->rc = db != NULL ? feed_stream_read(&rj->view, rj->r->from, rj->view.pos, FEED_REPLAY_CHUNK,
	    &rj->rows) : -1;
}

/*
 * The chunk is back: its rows are queued. The replay has reached the live position when the
 * chunk came back short and the market's position has not moved since it was read (rows fanned
 * out meanwhile were held back from this subscription: the next chunk reads them). After a
 * failed read the one-second tick tries again.
 */
static void
feed_replay_done(struct feed_job *j)
{
	struct feed_replay_job *rj = (struct feed_replay_job *)j;
	struct feed_replay *r = rj->r;
	struct feed_conn *c = rj->conn;

	feed_replay_busy = false;
	r->reading = false;
	if (r->cancelled || c->closed || rj->rc != 0) {
		if (r->cancelled)
			free(r);
		goto out;
	}
	feed_stats.replay_chunks++;
	c->replaying = true;
	/* asked for: not judged against the client's bound (it is under FEED_REPLAY_LOW now) */
	feed_send_grant(c, true);
	for (size_t i = 0; i < rj->rows.n && c->close_code == 0; i++) {
		feed_subs_emit(r->sub, r->m, &rj->rows.rows[i], NULL, 0);
		r->from = rj->rows.rows[i].pos;
	}
	feed_send_grant(c, false);
	c->replaying = false;
	if (rj->rows.n < FEED_REPLAY_CHUNK) {
		r->from = rj->view.pos;
		if (r->m->pos == rj->view.pos) {
			/* caught up with the live position: live rows flow from the next one */
			struct feed_replay **pp;

			for (pp = &c->replays; *pp != NULL && *pp != r; pp = &(*pp)->next)
				;
			if (*pp == r)
				*pp = r->next;
			free(r);
		}
	}
out:
	if (rj->rc == 0)
		feed_replay_wake();
	feed_rows_free(&rj->rows);
	feed_conn_unref(c);
	free(rj);
}

/* Starts reading the next chunk of c's first replay on the query thread. Returns 0 or -1. */
static int
feed_replay_chunk(struct feed_conn *c)
{
	struct feed_replay_job *rj = calloc(1, sizeof(*rj));

	if (rj == NULL)
		return -1;
	rj->j.run = feed_replay_run;
	rj->j.done = feed_replay_done;
	rj->conn = c;
	rj->r = c->replays;
	rj->r->reading = true;
	feed_market_copy(&rj->view, rj->r->m);
	feed_conn_ref(c);
	feed_replay_busy = true;
	feed_jobs_submit(&rj->j);
	return 0;
}

static bool
feed_replay_ready(const struct feed_conn *c)
{
	/* what lws holds of a write the kernel did not take counts too: the queue empties into it */
	return c->replays != NULL && !c->replays->held && c->close_code == 0 &&
	    c->queued < FEED_REPLAY_LOW && !lws_partial_buffered(c->wsi);
}

/*
 * Reads one chunk for the next ready connection after the one served last (the list is newest
 * first, so smaller ids), wrapping to the head. Returns false when no connection is ready, or the
 * process's ceiling is reached (send.c wakes the watcher when replay bytes go out).
 */
static bool
feed_replay_step(void)
{
	struct feed_conn *pick = NULL, *first = NULL;

	if (feed_replay_busy || feed_replay_bytes >= (size_t)cfg.feedd_replay_mem)
		return false;
	for (struct feed_conn *c = feed_conns; c != NULL; c = c->next) {
		if (!feed_replay_ready(c))
			continue;
		if (first == NULL)
			first = c;
		if (c->id < feed_replay_last) {
			pick = c;
			break;
		}
	}
	if (pick == NULL)
		pick = first;
	if (pick == NULL)
		return false; /* nothing to read */
	feed_replay_last = pick->id;
	(void)feed_replay_chunk(pick);
	return false; /* its done() wakes the watcher again */
}

static void
feed_replay_on_idle(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)revents;
	if (!feed_replay_step())
		ev_idle_stop(loop, w);
}

void
feed_replay_pump(void)
{
	for (const struct feed_conn *c = feed_conns; c != NULL; c = c->next) {
		if (feed_replay_ready(c)) {
			feed_replay_wake();
			return;
		}
	}
}
