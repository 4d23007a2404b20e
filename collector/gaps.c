/*
 * gaps: the honest record of what the collector missed. A gap opens for one market when its book
 * can no longer be trusted (a seq gap on its sid, a terminal error, a level driven below zero, a
 * lost connection, a full queue) and closes at the instant of the fresh exchange snapshot that
 * replaced the book, with whether that snapshot differed from the book we held (diverged); or,
 * when the market settles before any snapshot came, at the instant we learn it settled, marked
 * closed_by 'market_closed' with the divergence unknown. The decisions are lib/collrule's; this
 * file applies them to the registry and queues the rows. The 'restart' (or 'takeover') gap of a
 * collector start is the writer's: it knows the recorded coverage.
 */
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "log.h"

bool
coll_gap_open(int idx, enum coll_gap_reason reason, int64_t start, const char *detail)
{
	struct coll_market *mk = coll_market(idx);
	struct coll_gap before = mk->gap;
	struct coll_ev ev = { .kind = COLL_EV_GAP_OPEN, .flag = (uint8_t)reason, .market = idx };

	if (!coll_rule_gap_open(&mk->gap, mk->book != NULL, mk->last_ts, start, reason))
		return false;
	ev.ts = mk->gap.start;
	if ((ev.data = strdup(detail)) == NULL || !coll_writer_push(&ev, true)) {
		free(ev.data);
		mk->gap = before;
		log_errorx("cannot queue a gap of %s", mk->ticker);
		return false;
	}
	__atomic_add_fetch(&coll_stats.gaps, 1, __ATOMIC_RELAXED);
	mk->snap_asked = 0; /* coll_subs_tick asks its snapshot again if none comes */
	mk->snap_tries = 0;
	log_info("gap opened: %s %s (%s)", mk->ticker, coll_gap_reason_name(reason), detail);
	return true;
}

/* Queues the end of idx's gap; restores the gap state (still open) when the queue refuses it. */
static bool
queue_close(int idx, const struct coll_gap *before, int64_t end, enum coll_gap_div div,
    enum coll_gap_end how)
{
	struct coll_market *mk = coll_market(idx);
	struct coll_ev ev = { .kind = COLL_EV_GAP_CLOSE, .flag = (uint8_t)div, .market = idx,
	    .ts = end, .c = how };

	if (!coll_writer_push(&ev, true)) {
		mk->gap = *before;
		log_errorx("cannot queue the end of a gap of %s", mk->ticker);
		return false;
	}
	return true;
}

void
coll_gap_close(int idx, int64_t ts, bool had_book, bool held_equal)
{
	struct coll_market *mk = coll_market(idx);
	struct coll_gap before = mk->gap;
	enum coll_gap_div div;
	int64_t end;

	if (!coll_rule_gap_close(&mk->gap, ts, had_book, held_equal, &end, &div) ||
	    !queue_close(idx, &before, end, div, COLL_GAP_END_SNAPSHOT))
		return;
	log_info("gap closed: %s%s", mk->ticker, div == COLL_DIV_YES ? " (book diverged)" : "");
}

void
coll_gap_finish(int idx, int64_t now)
{
	struct coll_market *mk = coll_market(idx);
	struct coll_gap before = mk->gap;
	enum coll_gap_div div;
	int64_t end;

	if (!coll_rule_gap_finish(&mk->gap, now, &end, &div) ||
	    !queue_close(idx, &before, end, div, COLL_GAP_END_MARKET_CLOSED))
		return;
	log_warnx("gap closed without a snapshot: %s settled first", mk->ticker);
}
