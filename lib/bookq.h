/*
 * bookq: the book of a market at an instant, read from Postgres: the one query of it, for
 * kbook-api (one market by ticker) and kbook-feedd (many markets by id, each at its own instant).
 *
 * The book at T is the latest checkpoint at or before T plus the deltas after it up to and
 * including T; the collector writes a checkpoint at least every N deltas, so the cost is bounded
 * whatever the length of the history. The same statement also reads the market (its coverage and
 * how far its record is known to be complete, sql/001_baseline.sql) and the gap covering T. Its text is one
 * template, its result's columns one enum and one parser (bookq.c); which tables it reads (the
 * day's partitions or the parents, lib/daypart) is chosen inside bookq_at.
 */
#ifndef KBOOK_BOOKQ_H
#define KBOOK_BOOKQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book.h"
#include "db.h"
#include "ktime.h"

#define BOOKQ_NONE INT64_MIN /* an absent instant */

/*
 * kb_us(x) of sql/001_baseline.sql written out, for statements planned at every execution (custom plans of the
 * partitioned tables, the market list's optional filters): Postgres inlines a SQL function anew
 * at every planning, which costs about 15 us a call; the same expression of built-in functions
 * costs nothing to plan, and gives the same exact microseconds.
 */
#define SQL_US(x) "round(date_part('epoch', " x " AT TIME ZONE 'UTC') * 1000000)::bigint"

struct bookq_market {
	int64_t id;
	char ticker[201];
	int64_t notional;
	int64_t first_ts, last_ts; /* coverage, BOOKQ_NONE when nothing is recorded */
	/* how far the record is known to be complete: the later of the collector's recorded-through
	 * mark and the market's last recorded instant; for a market recorded to its settlement, the
	 * settlement (and final: complete after it too). BOOKQ_NONE: nothing */
	int64_t through;
	bool final;
	bool marked; /* a collector has committed a recorded-through mark */
};

/* Is instant at after what m's record is known to hold (not yet recorded)? */
bool bookq_not_yet_recorded(const struct bookq_market *m, int64_t at);

struct bookq_gap {
	bool found;
	int64_t start, end; /* end BOOKQ_NONE while the gap is open */
	char reason[32];
};

struct bookq_state {
	struct book *book;        /* owned; caller frees with bookq_state_free */
	int64_t checkpoint_ts;    /* BOOKQ_NONE when no checkpoint precedes T */
	char checkpoint_source[16];
	int64_t deltas_applied;
	int64_t last_change;      /* ts of the last change applied (checkpoint or delta) */
	bool inconsistent;        /* a recorded delta drove a level below zero */
};

/* Looks a market up by ticker. Returns 1 found, 0 not found, -1 database error. */
int bookq_market(struct db *db, const char *ticker, struct bookq_market *out);

/*
 * bookq_at's first statement, to be sent ahead in the round trip of another (the charge of the
 * call: cgi-bin/auth.c, route.h's prefetch): call's parameters point into the struct, which must
 * outlive the call; call.res is the result once run, which bookq_at takes over.
 */
struct bookq_ahead {
	int64_t at;
	char t[KT_BUFSZ], day[KT_BUFSZ];
	struct db_call call;
};

/* Fills a with bookq_at's first statement for (ticker, at) and returns 0, or returns -1 when there
 * is none to send ahead (at's day has no partition, or a database error). */
int bookq_at_ahead(struct db *db, const char *ticker, int64_t at, struct bookq_ahead *a);

/*
 * The market named ticker, its book at instant at and the gap covering at, in one statement (two
 * when the day's partitions do not hold the book: see bookq.c). ahead: NULL, or bookq_at_ahead's
 * for the same ticker and at, whose result (if it was run) stands for the first statement.
 * Returns 1 found, 0 no such market, -1 database error; st is always safe to free.
 */
int bookq_at(struct db *db, const char *ticker, int64_t at, struct bookq_ahead *ahead,
    struct bookq_market *m, struct bookq_state *st, struct bookq_gap *gap);

/*
 * The same for n markets in one statement: market ids[i] at instant ats[i] (us) into m[i], st[i]
 * and gap[i]. Returns 0, or -1 (database error, a market that does not exist, out of memory)
 * with every st[i] freed; on success the caller frees each st[i].
 */
int bookq_at_many(struct db *db, const int64_t *ids, const int64_t *ats, size_t n,
    struct bookq_market *m, struct bookq_state *st, struct bookq_gap *gap);

void bookq_state_free(struct bookq_state *st);

#endif
