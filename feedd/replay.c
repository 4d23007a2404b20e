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
 */
#include <stdlib.h>

#include "config.h"
#include "feed.h"
#include "log.h"

/* Rows read per query: ~120 KB of delta messages. */
#define FEED_REPLAY_CHUNK 500
/* A connection gets its next chunk once its queue is under this. */
#define FEED_REPLAY_LOW 65536
/* Chunks read per pass of the event loop, over every connection, before the loop writes and
 * serves the live rows (a chunk is one query of a few ms: a pass holds the loop ~10-20 ms). */
#define FEED_REPLAY_PASS 4

struct feed_replay {
	struct feed_replay *next;
	struct feed_sub *sub;        /* borrowed */
	struct feed_market *m;       /* borrowed: held by sub */
	int64_t from;                /* every row at or before it was sent */
};

size_t feed_replay_bytes;
static bool feed_replay_woken;
static uint64_t feed_replay_last; /* id of the connection served last (round robin) */

void
feed_replay_wake(void)
{
	if (feed_replay_woken)
		return;
	feed_replay_woken = true;
	lws_cancel_service(feed_ctx);
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
			free(r);
		} else {
			pp = &r->next;
		}
	}
}

/* Reads and queues the next chunk of c's first replay. */
static void
feed_replay_chunk(struct feed_conn *c)
{
	struct feed_replay *r = c->replays;
	struct feed_rows rows;

	if (feed_stream_read(r->m, r->from, r->m->pos, FEED_REPLAY_CHUNK, &rows) != 0)
		return; /* the database is away: the tick tries again */
	feed_stats.replay_chunks++;
	c->replaying = true;
	/* asked for: not judged against the client's bound (it is under FEED_REPLAY_LOW now) */
	feed_send_grant(c, true);
	for (size_t i = 0; i < rows.n && c->close_code == 0; i++) {
		feed_subs_emit(r->sub, r->m, &rows.rows[i], NULL, 0);
		r->from = rows.rows[i].pos;
	}
	feed_send_grant(c, false);
	c->replaying = false;
	if (rows.n < FEED_REPLAY_CHUNK) {
		/* caught up with the live position: live rows flow from the next one */
		c->replays = r->next;
		free(r);
	}
	feed_rows_free(&rows);
}

static bool
feed_replay_ready(const struct feed_conn *c)
{
	/* what lws holds of a write the kernel did not take counts too: the queue empties into it */
	return c->replays != NULL && c->close_code == 0 && c->queued < FEED_REPLAY_LOW &&
	    !lws_partial_buffered(c->wsi);
}

void
feed_replay_pump(void)
{
	struct feed_conn *c;
	uint64_t last = feed_replay_last;
	int served = 0;
	bool more = false;

	feed_replay_woken = false;
	for (c = feed_conns; c != NULL && !feed_replay_ready(c); c = c->next)
		;
	if (c == NULL || feed_db == NULL || db_ensure(feed_db) != 0)
		return; /* nothing to read, or the database is away (the tick tries again) */
	/* round robin: the connections after the one served last (the list is newest first, so
	 * smaller ids), then from the head */
	for (int round = 0; round < 2; round++) {
		for (c = feed_conns; c != NULL; c = c->next) {
			if ((round == 0) != (c->id < last) || !feed_replay_ready(c))
				continue;
			if (served == FEED_REPLAY_PASS || feed_replay_bytes >= (size_t)cfg.feedd_replay_mem) {
				/* the rest after the loop has written; under the ceiling, once replay
				 * bytes have gone out (send.c wakes the pump) */
				more = served == FEED_REPLAY_PASS;
				goto out;
			}
			feed_replay_chunk(c);
			feed_replay_last = c->id;
			served++;
		}
	}
out:
	if (more)
		feed_replay_wake();
}
