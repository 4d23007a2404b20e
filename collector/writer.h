/*
 * writer.h: the modules of the collector's writer thread. coll.h has what the other threads see
 * of it (the queue, start and stop); this header is for the writer's own files, each calling
 * only the ones listed above it:
 *
 *   queue.c    the bounded queue the socket thread fills (its push side is in coll.h)
 *   copy.c     COPY text, built in lib/sbuf buffers, and the COPY itself
 *   wmarket.c  registry index -> markets row: the upserts, ids, coverage of the batch, and what
 *              each market owes (its restart gap)
 *   record.c   gaps, settlements, coverage, NOTIFY and the recorded-through mark
 *   batch.c    one batch of events -> one transaction
 *   writer.c   the thread: pacing, taking batches, writing or spooling them, replaying the spool
 *
 * Everything here runs on the writer thread only, but the queue's functions (locked).
 */
#ifndef KBOOK_COLL_WRITER_H
#define KBOOK_COLL_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coll.h"
#include "db.h"
#include "sbuf.h"

/* Events taken in one transaction at most. */
#define COLL_BATCH_MAX 200000

/* ---- queue.c ---- */

/* Allocates the ring: queue_max data events plus a reserve for control events. Returns 0 or -1. */
int coll_queue_init(size_t queue_max);
/*
 * Waits up to a second for events and copies up to COLL_BATCH_MAX of them (still queued) into
 * batch. Returns how many; *stop tells whether the writer is asked to stop. When that is
 * everything queued and the socket thread's mark moved, batch[n] (room for COLL_BATCH_MAX + 1)
 * is a COLL_EV_MARK event with it and *marked is set: every event of the frames it covers is in
 * this batch or an earlier one (the socket thread queues a frame's events before it moves the
 * mark). A quiet connection's mark (its pongs) so reaches the database within a second.
 */
size_t coll_queue_take(struct coll_ev *batch, bool *stop, bool *marked);
/* Frees the data of the first n events taken and drops them from the queue: they are written. */
void coll_queue_release(struct coll_ev *batch, size_t n);
/* Asks the writer to stop (wakes coll_queue_take); coll_queue_stopping says whether it was. */
void coll_queue_stop(void);
bool coll_queue_stopping(void);
/* Is the queue more than half full? (logged by the writer) */
bool coll_queue_behind(void);
/* Frees whatever is still queued, and the ring. */
void coll_queue_free(void);

/* ---- copy.c ---- */

/*
 * Append one COPY line to b: a delta (e: COLL_EV_DELTA) or a checkpoint (e: COLL_EV_CHECKPOINT)
 * of the market with database id. An allocation failure sticks in b, and coll_copy_in refuses
 * such a buffer: nothing half built is ever sent.
 */
void coll_copy_delta(struct sbuf *b, int64_t id, const struct coll_ev *e);
void coll_copy_checkpoint(struct sbuf *b, int64_t id, const struct coll_ev *e);
/* Runs the COPY sql with b's text. Returns 0, or -1 (logged) when b failed or Postgres refused. */
int coll_copy_in(struct db *db, const char *sql, const struct sbuf *b);
/* Gives back the memory of a buffer grown past what a usual batch needs (a spool replay's). */
void coll_copy_trim(struct sbuf *b);

/* ---- wmarket.c ---- */

struct coll_wmarket {
	int64_t id;           /* markets.id, 0 when not upserted yet */
	int64_t restart_from; /* earlier coverage: its first new snapshot closes what this run found
	                       * open (the restart gap); -1 none */
	int64_t first, last;  /* this batch's rows, -1 none */
	bool recorded;        /* has coverage (from an earlier run or this one) */
	bool final;           /* markets.final_ts is set: recorded to its settlement */
	char *ticker;         /* owned; learned from its market event, for the spool */
};

/* The table of markets by registry index, swapped out while a foreign spool is replayed. */
struct coll_wmtable {
	struct coll_wmarket *wm;
	size_t n;
};

/* Makes index idx exist (an empty entry). Returns 0 or -1 when out of memory. */
int coll_wm_reserve(int32_t idx);
/* Borrowed until the next coll_wm_reserve; NULL when idx was never reserved. */
struct coll_wmarket *coll_wm(int32_t idx);
/*
 * Upserts market idx (reserved): from a REST object (json) or, with json NULL, a row with only
 * its ticker that keeps whatever an earlier run stored. Records its id; owes_restart: a market
 * of this run, whose first snapshot closes what an earlier run left (not a foreign spool's).
 * Returns 0 or -1 (logged).
 */
int coll_wm_upsert(struct db *db, int32_t idx, const char *json, const char *ticker, bool owes_restart);
/* Updates market idx's status and result from a lifecycle event's JSON. Returns 0 or -1. */
int coll_wm_status(struct db *db, int32_t idx, const char *json);
/* Market idx has a row at ts in this batch. */
void coll_wm_cover(int32_t idx, int64_t ts);
/* Forgets the batch's coverage of every market (after it was written, or failed). */
void coll_wm_uncover(const struct coll_ev *ev, size_t n);
/* Remembers the tickers that market events name, so that spooled events carry them. */
void coll_wm_learn(const struct coll_ev *ev, size_t n);
/* A market's ticker for the spool, or NULL. */
const char *coll_wm_ticker(int32_t idx);
/* Exchanges the current table with *t (an empty one to start a foreign replay, then back). */
void coll_wm_swap(struct coll_wmtable *t);
/* Frees the current table. */
void coll_wm_free(void);

/* ---- record.c ---- */

void coll_rec_set_restart_reason(enum coll_gap_reason r);
/* The restart (or takeover) gaps of every market an earlier run recorded and did not finish. */
int coll_rec_restart_open(struct db *db);
/* Market idx's first snapshot of this run at ts closes the gap it was found in. */
int coll_rec_restart_close(struct db *db, int32_t idx, int64_t ts);
/* Market idx (with coverage) settled, learned at ts. */
int coll_rec_settled(struct db *db, int32_t idx, int64_t ts);
int coll_rec_gap_open(struct db *db, int32_t idx, int64_t ts, enum coll_gap_reason reason,
    const char *detail);
/* div: enum coll_gap_div, or -1 (unknown: NULL) */
int coll_rec_gap_close(struct db *db, int32_t idx, int64_t ts, int div, enum coll_gap_end end);
/*
 * The coverage (first_ts, last_ts) of every market of ev[0 .. n) with rows in this batch, in one
 * statement; then, when rows is set, NOTIFY kbook_deltas with their ids (or max_ts when the list
 * is too long). Returns 0 or -1.
 */
int coll_rec_coverage(struct db *db, const struct coll_ev *ev, size_t n, bool rows, int64_t max_ts);
/* The recorded-through mark at ts, never moving back. */
int coll_rec_mark(struct db *db, int64_t ts);
void coll_rec_free(void);

/* ---- batch.c ---- */

/*
 * Writes ev[0 .. n) in one transaction. retry: the same events failed before, maybe after
 * committing (the outcome of a COMMIT the connection died in is unknown): rows go through
 * temporary tables and ON CONFLICT DO NOTHING, so nothing is written twice. foreign: the events
 * are an earlier run's (its spool): they open no restart gaps. Returns 0 when committed, -1 when
 * anything failed (rolled back, or outcome unknown).
 */
int coll_batch_write(struct db *db, struct coll_ev *ev, size_t n, bool retry, bool foreign);
void coll_batch_free(void);

#endif
