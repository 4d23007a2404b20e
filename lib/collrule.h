/*
 * collrule: the collector's recording rules as pure functions (no I/O, no globals), so that they
 * can be unit-tested apart from the sockets, the queue and Postgres: when a market's gap opens
 * and where it starts, when and how it closes (a fresh snapshot, or the market finished first),
 * the strictly increasing ts of a market's rows, and when a periodic checkpoint is due (on a
 * delta, or from the once-a-second timer for a quiet market). collector/gaps.c and books.c apply
 * them to the registry and queue what they decide.
 */
#ifndef KBOOK_COLLRULE_H
#define KBOOK_COLLRULE_H

#include <stdbool.h>
#include <stdint.h>

/* Why a gap opened (gaps.reason). */
enum coll_gap_reason {
	COLL_GAP_SEQ, COLL_GAP_DISCONNECT, COLL_GAP_RESTART, COLL_GAP_TERMINAL, COLL_GAP_OVERFLOW,
	COLL_GAP_NEGATIVE, COLL_GAP_TAKEOVER,
};

/* How a gap closed (gaps.closed_by). */
enum coll_gap_end {
	COLL_GAP_END_SNAPSHOT,       /* a fresh exchange snapshot replaced the book */
	COLL_GAP_END_MARKET_CLOSED,  /* the market finished (settled) before a snapshot came */
};

/* Whether the fresh book differed from the one held (gaps.diverged: false, true, NULL). */
enum coll_gap_div { COLL_DIV_NO, COLL_DIV_YES, COLL_DIV_UNKNOWN };

/* One market's gap state. */
struct coll_gap {
	bool open;
	uint8_t reason;   /* enum coll_gap_reason, while open */
	int64_t start;    /* first instant (us) of the open gap */
};

/* "seq_gap", "disconnect", ... as stored in gaps.reason. */
const char *coll_gap_reason_name(enum coll_gap_reason r);
/* "snapshot" or "market_closed", as stored in gaps.closed_by. */
const char *coll_gap_end_name(enum coll_gap_end e);

/*
 * A market's book stops being trustworthy from instant from on. A gap opens unless one is open
 * already (one open gap per market: the first cause is kept) or nothing was recorded yet
 * (has_book false: there is no history to be wrong). It starts at from, or one past last_ts (the
 * market's last row, which we are sure of) when from is not after it. Returns true and fills *g
 * when it opens; leaves *g alone otherwise.
 */
bool coll_rule_gap_open(struct coll_gap *g, bool has_book, int64_t last_ts, int64_t from,
    enum coll_gap_reason reason);
/*
 * A fresh snapshot was checkpointed at cp_ts. Returns true when it closes the open gap, with
 * *end = cp_ts (never before the start) and *div from held_equal (the book held equalled the
 * fresh one) or unknown when there was no book held. Returns false when no gap is open.
 */
bool coll_rule_gap_close(struct coll_gap *g, int64_t cp_ts, bool had_book, bool held_equal,
    int64_t *end, enum coll_gap_div *div);
/*
 * The market finished (settled: no snapshot will be asked any more) at instant at with a gap
 * open. Returns true when it closes it, at at (never before its start), divergence unknown.
 */
bool coll_rule_gap_finish(struct coll_gap *g, int64_t at, int64_t *end, enum coll_gap_div *div);

/* The ts of a market's next row received at now: now, or one past its last row's. */
int64_t coll_rule_next_ts(int64_t last_ts, int64_t now);

/*
 * On a delta of a healthy book: is the count rule's periodic checkpoint due? since_cp counts the
 * deltas since the last checkpoint (this one included); every is the rule's N.
 */
bool coll_rule_checkpoint_on_delta(int64_t since_cp, int64_t every);
/*
 * The aligned rule: every healthy book gets a periodic checkpoint at each multiple of period_us
 * since the epoch (UTC), changed or not (with a period dividing a day, one at every midnight, which
 * lets the API read a day's deltas from that day's partition alone). Returns the latest multiple
 * b with last_ts < b <= upto (the instant of such a checkpoint), or -1 when none is due or
 * period_us is 0. On a delta, upto is the ts the delta is about to get (the checkpoint holds the
 * book before it); from the timer, the instant the book's subscription is known complete up to.
 */
int64_t coll_rule_checkpoint_aligned(int64_t last_ts, int64_t upto, int64_t period_us);

#endif
