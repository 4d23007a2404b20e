/*
 * daypart: the deltas of one market between two instants of the same UTC day, read straight from
 * that day's partition of book_deltas (pg_partman names it book_deltas_pYYYY_MM_DD).
 *
 * Through the partitioned parent, every execution is planned anew (a generic plan would lock
 * every daily partition, and their number grows with the history), which costs more than the
 * read itself. A partition is a plain table, so its statement is prepared once and its plan
 * cached; a small per-connection cache keeps the statements of the most recently read days.
 */
#ifndef KBOOK_DAYPART_H
#define KBOOK_DAYPART_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "db.h"

/*
 * Rows (kb_us(ts), side, price, delta) of market_id with from < ts <= to, in ts order, when from
 * and to fall on the same UTC day and that day has a partition; params are the market id and
 * both instants as text, as for the parent's statement. Returns the result (caller PQclears),
 * or NULL with *use_parent true when the parent must be asked, or NULL with *use_parent false on
 * a database error.
 */
PGresult *daypart_deltas(struct db *db, int64_t from, int64_t to, const char *const params[3],
    bool *use_parent);

#endif
