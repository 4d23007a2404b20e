/*
 * daypart: reads of one market's deltas within one UTC day, straight from that day's partition
 * of book_deltas (pg_partman names it book_deltas_pYYYY_MM_DD).
 *
 * Through the partitioned parent, every execution is planned anew (a generic plan would lock
 * every daily partition, and their number grows with the history), which costs more than the
 * read itself. A partition is a plain table, so its statements are prepared once and their plans
 * cached; a small per-connection cache keeps the statements of the most recently read days.
 * The book at an instant reads its checkpoint from the month's partition of book_checkpoints
 * (book_checkpoints_pYYYY_MM) for the same reason: through the parent, the generic plan merges
 * every month's partition and the default one (3 index scans for one row, ~60 us a request).
 */
#ifndef KBOOK_DAYPART_H
#define KBOOK_DAYPART_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "db.h"

#define DAYPART_DAY_US (86400LL * 1000000)

/* The UTC day of an instant, as days since the epoch. */
int64_t daypart_day(int64_t us);

/*
 * In one statement, the market named params[0], its latest checkpoint at or before the instant
 * `at` (params[1], text) within at's month (columns 5-10 NULL when the month has none before at:
 * the caller must then look in the parent when the market's coverage began before at), the gap
 * that covers at, and the deltas after that checkpoint up to at as text "side,price,delta;..."
 * in ts order in column 14, with the last one's ts (us) in column 15: NULL when there is none or
 * when the checkpoint is before the day of at (params[2] is that day's start as text; the caller
 * must then read the deltas from the parent). Columns 0-13 are recon.c's q_at. Returns the result (caller
 * PQclears), or NULL with *fallback true when the day has no partition, or its month no
 * checkpoint partition (use the parent's statements), or NULL with *fallback false on a database
 * error.
 */
PGresult *daypart_book(struct db *db, int64_t at, const char *const params[3], bool *fallback);

/* The statement daypart_book would run for at (to send it in a pipeline), or NULL when the day is
 * known to have no partition or on a database error. */
struct db_stmt *daypart_book_stmt(struct db *db, int64_t at);

/*
 * Rows (kb_us(ts), side, price, delta) of the market params[0] with params[1] < ts <= params[2]
 * in ts order, when from and to fall on the same UTC day and that day has a partition. Returns
 * as daypart_book.
 */
PGresult *daypart_deltas(struct db *db, int64_t from, int64_t to, const char *const params[3],
    bool *fallback);

/*
 * A page of the deltas endpoint within one day: rows (kb_us(ts), kb_us(exchange_ts), side, price,
 * delta) of the market params[0] with params[1] <= ts <= params[2] and ts > params[3], in ts
 * order, at most params[4] + 1 of them, from the partition of day. Returns as daypart_book.
 */
PGresult *daypart_page(struct db *db, int64_t day, const char *const params[5], bool *fallback);

#endif
