/*
 * gaps: the honest record of what the collector missed. A gap opens for one market when its book
 * can no longer be trusted (a seq gap on its sid, a terminal error, a level driven below zero, a
 * lost connection, a full queue) and closes at the instant of the fresh exchange snapshot that
 * replaced the book, with whether that snapshot differed from the book we held (diverged).
 * The 'restart' (or 'takeover') gap of a collector start is the writer's: it knows the recorded
 * coverage.
 */
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "log.h"

static const char *const reason_names[] = {
	[COLL_GAP_SEQ] = "seq_gap",
	[COLL_GAP_DISCONNECT] = "disconnect",
	[COLL_GAP_RESTART] = "restart",
	[COLL_GAP_TERMINAL] = "terminal_error",
	[COLL_GAP_OVERFLOW] = "overflow",
	[COLL_GAP_NEGATIVE] = "negative_level",
	[COLL_GAP_TAKEOVER] = "takeover",
};

const char *
coll_gap_reason_name(enum coll_gap_reason r)
{
	return reason_names[r];
}

bool
coll_gap_open(int idx, enum coll_gap_reason reason, int64_t start, const char *detail)
{
	struct coll_market *mk = coll_market(idx);
	struct coll_ev ev = { .kind = COLL_EV_GAP_OPEN, .flag = (uint8_t)reason, .market = idx };

	if (mk->gap_open || mk->book == NULL)
		return false;
	/* the gap begins after the last row we are sure of */
	ev.ts = start > mk->last_ts ? start : mk->last_ts + 1;
	if ((ev.data = strdup(detail)) == NULL || !coll_writer_push(&ev, true)) {
		free(ev.data);
		log_errorx("cannot queue a gap of %s", mk->ticker);
		return false;
	}
	mk->gap_open = true;
	__atomic_add_fetch(&coll_stats.gaps, 1, __ATOMIC_RELAXED);
	log_info("gap opened: %s %s (%s)", mk->ticker, reason_names[reason], detail);
	return true;
}

void
coll_gap_close(int idx, int64_t ts, bool diverged)
{
	struct coll_market *mk = coll_market(idx);
	struct coll_ev ev = { .kind = COLL_EV_GAP_CLOSE, .flag = diverged, .market = idx, .ts = ts };

	if (!mk->gap_open)
		return;
	if (!coll_writer_push(&ev, true)) {
		log_errorx("cannot queue the end of a gap of %s", mk->ticker);
		return;
	}
	mk->gap_open = false;
	log_info("gap closed: %s%s", mk->ticker, diverged ? " (book diverged)" : "");
}
