/*
 * books: every market's book in memory (lib/book), and the rows it produces. A snapshot replaces
 * the book, is compared with the book held when a gap is open (divergence), and is written as a
 * 'snapshot' checkpoint; a delta is applied and written; every N deltas of a healthy book a
 * 'periodic' checkpoint is written at the instant of the last delta, and at each multiple of the
 * period (default a day: every midnight, UTC) one at that very instant, before the first delta
 * after it or from the once-a-second timer (coll_book_tick) for a quiet book. Each row of a
 * market gets a ts strictly above the previous one. The rules are lib/collrule's.
 */
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "log.h"

static int64_t cp_every = 1000, cp_us;

void
coll_books_init(int64_t checkpoint_every, int64_t checkpoint_us)
{
	cp_every = checkpoint_every;
	cp_us = checkpoint_us;
}

int64_t
coll_next_ts(struct coll_market *mk, int64_t now)
{
	mk->last_ts = coll_rule_next_ts(mk->last_ts, now);
	return mk->last_ts;
}

/* The levels of b as an owned struct coll_levels, or NULL when out of memory. */
static struct coll_levels *
levels_of(const struct book *b)
{
	size_t ny = book_levels(b, BOOK_YES), nn = book_levels(b, BOOK_NO);
	struct coll_levels *lv = malloc(sizeof(*lv) + (ny + nn) * sizeof(lv->lv[0]));

	if (lv == NULL)
		return NULL;
	lv->n_yes = book_copy_levels(b, BOOK_YES, lv->lv, ny);
	lv->n_no = book_copy_levels(b, BOOK_NO, lv->lv + lv->n_yes, nn);
	return lv;
}

/* Queues a checkpoint of market idx at ts. Snapshot checkpoints are control events. */
static bool
checkpoint(int idx, int64_t ts, bool snapshot)
{
	struct coll_market *mk = coll_market(idx);
	struct coll_ev ev = { .kind = COLL_EV_CHECKPOINT, .flag = snapshot, .market = idx, .ts = ts };

	if ((ev.data = levels_of(mk->book)) == NULL || !coll_writer_push(&ev, snapshot)) {
		free(ev.data);
		return false;
	}
	mk->cp_ts = ts;
	mk->since_cp = 0;
	return true;
}

void
coll_book_snapshot(int idx, const struct kmsg *m, int64_t now)
{
	struct coll_market *mk = coll_market(idx);
	struct book *fresh = book_new(1000000);
	int64_t ts;
	bool had_book, equal;

	__atomic_add_fetch(&coll_stats.snapshots, 1, __ATOMIC_RELAXED);
	if (fresh == NULL || book_apply_snapshot(fresh, m->yes, m->n_yes, m->no, m->n_no) != BOOK_OK) {
		log_warnx("%s: a snapshot with invalid levels; asking again", mk->ticker);
		book_free(fresh);
		coll_gap_open(idx, COLL_GAP_NEGATIVE, now, "invalid snapshot");
		return;
	}
	had_book = mk->book != NULL;
	equal = had_book && book_equal(mk->book, fresh);
	book_free(mk->book);
	mk->book = fresh;
	ts = coll_next_ts(mk, now);
	if (!checkpoint(idx, ts, true)) {
		log_errorx("%s: cannot queue a snapshot checkpoint", mk->ticker);
		return;
	}
	coll_gap_close(idx, ts, had_book, equal);
}

void
coll_book_delta(int idx, const struct kmsg *m, int64_t now)
{
	struct coll_market *mk = coll_market(idx);
	struct coll_ev ev = { .kind = COLL_EV_DELTA, .side = (uint8_t)m->side, .market = idx };
	enum book_err err;
	int64_t b;

	if (mk->book == NULL || m->delta == 0)
		return; /* before its first snapshot: nothing to apply it to */
	__atomic_add_fetch(&coll_stats.deltas, 1, __ATOMIC_RELAXED);
	if (!mk->gap.open &&
	    (b = coll_rule_checkpoint_aligned(mk->last_ts, coll_rule_next_ts(mk->last_ts, now), cp_us)) >= 0) {
		mk->last_ts = b; /* the book before this delta, at the period's boundary */
		checkpoint(idx, b, false);
	}
	ev.ts = coll_next_ts(mk, now);
	ev.a = m->ts_ms;
	ev.b = m->price;
	ev.c = m->delta;
	err = book_apply_delta(mk->book, m->side, m->price, m->delta);
	if (!coll_writer_push(&ev, false)) {
		__atomic_add_fetch(&coll_stats.overflows, 1, __ATOMIC_RELAXED);
		if (coll_gap_open(idx, COLL_GAP_OVERFLOW, ev.ts, "writer queue full"))
			coll_subs_resync(idx);
		return;
	}
	if (err == BOOK_ENEGATIVE) {
		if (coll_gap_open(idx, COLL_GAP_NEGATIVE, ev.ts, "a delta drove a level below zero"))
			coll_subs_resync(idx);
		return;
	}
	if (mk->gap.open)
		return;
	if (coll_rule_checkpoint_on_delta(++mk->since_cp, cp_every))
		checkpoint(idx, ev.ts, false);
}

bool
coll_book_tick(int idx, int64_t known_at)
{
	struct coll_market *mk = coll_market(idx);
	int64_t ts;

	if (mk->book == NULL || mk->gap.open ||
	    (ts = coll_rule_checkpoint_aligned(mk->last_ts, known_at, cp_us)) < 0)
		return false;
	mk->last_ts = ts;
	return checkpoint(idx, ts, false);
}
