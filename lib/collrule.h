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
 * On a delta at ts of a healthy book: is a periodic checkpoint due? since_cp counts the deltas
 * since the last checkpoint (this one included), every is the count rule, period_us the age rule
 * (0: none) measured from cp_ts, the last checkpoint's instant.
 */
bool coll_rule_checkpoint_on_delta(int64_t since_cp, int64_t every, int64_t cp_ts,
    int64_t period_us, int64_t ts);
/*
 * From the timer at now, for a healthy book whose last checkpoint is at cp_ts and last row at
 * last_ts: the instant of a periodic checkpoint that is due, or -1. The book is known up to
 * known_at (the receive time of the last message of its subscription: nothing of that sid was
 * missed before it), so that is the checkpoint's instant; none when it is not after last_ts (the
 * last row already says as much) or when period_us (0: none) has not passed since cp_ts.
 */
int64_t coll_rule_checkpoint_on_timer(int64_t cp_ts, int64_t last_ts, int64_t period_us,
    int64_t known_at, int64_t now);

#endif
