/*
 * daypart: statements on one UTC day's partitions, prepared once per day and connection.
 *
 * Through the partitioned parent, every execution is planned anew (a generic plan would lock
 * every daily partition, and their number grows with the history), which costs more than the
 * read itself. A partition is a plain table, so a statement on it is prepared once and its plan
 * cached. A caller declares a template naming the partitions by DAYPART_DELTAS (book_deltas'
 * daily partition, pg_partman's book_deltas_pYYYY_MM_DD) and DAYPART_CHECKPOINTS (the month's
 * partition of book_checkpoints, book_checkpoints_pYYYY_MM: through the parent, its generic plan
 * merges every month's partition and the default one, 3 index scans for one row, ~60 us a
 * request); a small per-connection cache keeps the statements of the most recently read days.
 * Used by the book at an instant (lib/bookq) and the deltas page (cgi-bin/h_deltas.c).
 */
#ifndef KBOOK_DAYPART_H
#define KBOOK_DAYPART_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "db.h"

#define DAYPART_DAY_US (86400LL * 1000000)
#define DAYPART_SLOTS 64
#define DAYPART_TEMPLATES 4 /* templates per program (bookq's and h_deltas' in kbook-api) */
/* The partitions' names in a template; the date is written over the zeros */
#define DAYPART_DELTAS "book_deltas_p0000_00_00"
#define DAYPART_CHECKPOINTS "book_checkpoints_p0000_00"

struct daypart_slot; /* private */

/* One template, declared static by its user with DAYPART(); its cache is allocated at first use
 * and lives as long as the program. */
struct daypart {
	const char *sql;  /* the template, with $n parameters */
	int nparams;
	int index;        /* its number among the program's templates (names its statements) */
	struct daypart_slot *slots; /* DAYPART_SLOTS of them, NULL until first used */
	unsigned long clock;
};

#define DAYPART(s, np) { .sql = (s), .nparams = (np), .index = 0, .slots = NULL, .clock = 0 }

/* The UTC day of an instant, as days since the epoch. */
int64_t daypart_day(int64_t us);

/*
 * Runs dp's statement on the partitions of day with params. Returns the result (caller PQclears),
 * or NULL with *fallback true when the day has no partition (before the first one, or it is
 * missing: the 42P01 of the first try is remembered) and the caller must read through the
 * parent, or NULL with *fallback false on a database error.
 */
PGresult *daypart_exec(struct db *db, struct daypart *dp, int64_t day, const char *const *params,
    bool *fallback);

/*
 * The statement daypart_exec would run for day (to send it in a pipeline: db_exec_pipeline), or
 * NULL when the day is known to have no partition or on a database error. Borrowed: it lives as
 * long as the day keeps its slot, at least until the next daypart call on dp.
 */
struct db_stmt *daypart_stmt(struct db *db, struct daypart *dp, int64_t day);

#endif
