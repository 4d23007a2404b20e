/*
 * book: the in-memory orderbook of one Kalshi market.
 *
 * Kalshi publishes only bids: YES bids and NO bids, each a set of (price, size) levels with
 * price in micro-dollars and size in hundredths of a contract (see fixed.h). A NO bid at p is a
 * YES ask at notional - p. Levels are kept ordered by price in a balanced search tree whose nodes
 * live in one array per side, so applying a delta costs O(log levels) and a book is a handful of
 * allocations whatever its size.
 */
#ifndef KBOOK_BOOK_H
#define KBOOK_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum book_side { BOOK_YES = 0, BOOK_NO = 1 };

struct book_level {
	int64_t price; /* micro-dollars */
	int64_t size;  /* hundredths of a contract, > 0 in a book */
};

struct book; /* opaque */

enum book_err {
	BOOK_OK = 0,
	BOOK_ENEGATIVE, /* the delta would drive the level below zero: the book is out of sync */
	BOOK_EINVAL,    /* price outside 0..notional, size <= 0 in a snapshot, duplicate price */
	BOOK_ENOMEM,
};

/* notional is the market's notional value in micro-dollars (1 000 000 for $1). Caller frees. */
struct book *book_new(int64_t notional);
void book_free(struct book *b);
void book_clear(struct book *b);
int64_t book_notional(const struct book *b);

/*
 * Replaces the whole book with the given levels (any order; sizes > 0, prices unique per side).
 * On error the book is left empty.
 */
enum book_err book_apply_snapshot(struct book *b, const struct book_level *yes, size_t n_yes,
    const struct book_level *no, size_t n_no);

/*
 * Adds delta (signed hundredths) to the level at price on side. A level reaching zero is removed.
 * A level driven below zero is left unchanged and BOOK_ENEGATIVE returned: the caller resyncs.
 * A zero delta is a no-op.
 */
enum book_err book_apply_delta(struct book *b, enum book_side side, int64_t price, int64_t delta);

/*
 * Applies rows "side,price,delta;side,price,delta..." (book_deltas rows aggregated as text in ts
 * order by a query; side 0 YES, 1 NO) in order. Returns the number of rows read; *broken is set
 * when a delta was refused (a level would go below zero). Reading stops at the first malformed
 * row. (The rows carry no ts: turning each row's timestamp into text was a third of the query's
 * aggregation; the queries return the last one, max(ts), on its own.)
 */
long book_apply_text(struct book *b, const char *p, bool *broken);
/* The SQL text of one such row, for a book_deltas row aliased x (string_agg'd with ';'). */
#define BOOK_TEXT_ROW_SQL(x) x ".side || ',' || " x ".price || ',' || " x ".delta"

/* The resting size at price on side, 0 when there is no level. */
int64_t book_size_at(const struct book *b, enum book_side side, int64_t price);
size_t book_levels(const struct book *b, enum book_side side);

/*
 * The best bid of a side (highest priced level). Returns false when the side is empty.
 * The best YES ask is notional - (best NO bid) with the NO bid's size, and vice versa.
 */
bool book_best_bid(const struct book *b, enum book_side side, struct book_level *out);
bool book_best_ask(const struct book *b, enum book_side side, struct book_level *out);

/*
 * Copies up to max levels of side into out, ascending by price as Kalshi sends them; with a depth
 * limit the levels kept are the max BEST (highest) ones. Returns the number copied.
 */
size_t book_copy_levels(const struct book *b, enum book_side side, struct book_level *out, size_t max);

/* True when both sides hold exactly the same levels. */
bool book_equal(const struct book *a, const struct book *b);

/* A deep copy (caller frees), or NULL when out of memory. */
struct book *book_clone(const struct book *b);

const char *book_strerror(enum book_err err);

#endif
